//! [`SecretsProvider`]: Secrets Manager.

use std::fmt;

use aws_sdk_secretsmanager::Client;
use lambda_runtime::BoxFuture;

use crate::error::FetchError;
use crate::provider::{Provider, ProviderId};
use crate::sdk::{fetch_error, https_client};
use crate::value::Fetched;

/// Secrets from Secrets Manager (feature `secrets`), as Powertools' `SecretsProvider`:
/// `GetSecretValue` by name or ARN, at the version stage [`version_stage`](Self::version_stage)
/// names (default: Secrets Manager's, `AWSCURRENT`). A string secret is text; a binary
/// secret is bytes (read it with [`get_binary`](crate::Cache::get_binary), or as text
/// when it is UTF-8).
///
/// Read secrets into a [`Secret`](crate::Secret) ([`get_secret`](crate::Cache::get_secret),
/// or a `Secret<String>` field of a [`ConfigLoader`](crate::ConfigLoader)'s type) so that
/// no `Debug` or log line shows them. The function needs `secretsmanager:GetSecretValue`
/// (and `kms:Decrypt` for a customer key).
///
/// ```no_run
/// use lambda_middleware::parameters::{self, SecretsProvider};
///
/// # async fn example(client: aws_sdk_secretsmanager::Client) -> Result<(), parameters::ParameterError> {
/// let secrets = SecretsProvider::new(client);
/// let api_key = parameters::get_secret(&secrets, "prod/payments/api-key").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SecretsProvider {
    client: Client,
    id: ProviderId,
    version_stage: Option<String>,
}

impl fmt::Debug for SecretsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretsProvider")
            .field("id", &self.id)
            .field("version_stage", &self.version_stage)
            .finish_non_exhaustive()
    }
}

impl SecretsProvider {
    /// A provider on `client` (given an HTTPS client if it has none).
    ///
    /// ```no_run
    /// # fn example(client: aws_sdk_secretsmanager::Client) {
    /// let secrets = lambda_middleware::parameters::SecretsProvider::new(client);
    /// # }
    /// ```
    pub fn new(client: Client) -> Self {
        let client = if client.config().http_client().is_none() {
            Client::from_conf(client.config().to_builder().http_client(https_client()).build())
        } else {
            client
        };
        SecretsProvider {
            client,
            id: ProviderId::new(),
            version_stage: None,
        }
    }

    /// Reads the secrets at `stage` (`AWSPREVIOUS`, `AWSPENDING`, a label of yours). A
    /// provider of its own, cached apart from the current stage's.
    ///
    /// ```no_run
    /// # fn example(secrets: lambda_middleware::parameters::SecretsProvider) {
    /// let previous = secrets.version_stage("AWSPREVIOUS");
    /// # }
    /// ```
    #[must_use]
    pub fn version_stage(mut self, stage: &str) -> Self {
        self.version_stage = Some(stage.to_owned());
        self.id = ProviderId::new();
        self
    }

    /// The SDK client.
    ///
    /// ```no_run
    /// # fn example(secrets: lambda_middleware::parameters::SecretsProvider) {
    /// let client: &aws_sdk_secretsmanager::Client = secrets.client();
    /// # }
    /// ```
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl Provider for SecretsProvider {
    fn id(&self) -> ProviderId {
        self.id
    }

    fn kind(&self) -> &'static str {
        "secretsmanager"
    }

    fn fetch<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Fetched, FetchError>> {
        Box::pin(async move {
            let output = self
                .client
                .get_secret_value()
                .secret_id(name)
                .set_version_stage(self.version_stage.clone())
                .send()
                .await
                .map_err(|error| fetch_error(error, &["ResourceNotFoundException"]))?;
            if let Some(text) = output.secret_string() {
                return Ok(Fetched::Text(text.to_owned()));
            }
            match output.secret_binary() {
                Some(bytes) => Ok(Fetched::Binary(bytes.as_ref().to_vec())),
                None => Err(FetchError::Unreadable(
                    "the secret has neither a string nor a binary value".to_owned(),
                )),
            }
        })
    }
}
