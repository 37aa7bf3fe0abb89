//! [`SsmProvider`]: SSM Parameter Store.

use std::fmt;

use aws_sdk_ssm::Client;
use lambda_runtime::BoxFuture;

use crate::error::FetchError;
use crate::provider::{Provider, ProviderId};
use crate::sdk::{fetch_error, https_client};
use crate::value::Fetched;

/// Parameters from SSM Parameter Store (feature `ssm`), as Powertools' `SSMProvider`:
///
/// - one parameter ([`Cache::get`](crate::Cache::get)): `GetParameter`;
/// - several by name ([`Cache::get_each`](crate::Cache::get_each)): `GetParameters`,
///   ten names a request, the misses only;
/// - every parameter under a path, recursively
///   ([`Cache::get_multiple`](crate::Cache::get_multiple)): `GetParametersByPath`, every
///   page, named relative to the path (`/app/db/url` under `/app` is `db/url`);
/// - `SecureString`s decrypted (`WithDecryption`), unless [`decrypt(false)`](Self::decrypt);
///   one level of a path only with [`recursive(false)`](Self::recursive).
///
/// A missing parameter is [`FetchError::NotFound`]. The function needs
/// `ssm:GetParameter`, `ssm:GetParameters`, `ssm:GetParametersByPath` (as it uses them)
/// and `kms:Decrypt` on the key of its `SecureString`s.
///
/// A client configured without an HTTP client (this crate turns off the SDK's default
/// features, whose TLS is aws-lc, a C library) gets one speaking HTTPS through rustls
/// with ring.
///
/// ```no_run
/// use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
/// use lambda_middleware::parameters::{self, SsmProvider};
///
/// # async fn example() -> Result<(), parameters::ParameterError> {
/// let var = |name: &str| std::env::var(name).unwrap_or_default();
/// let credentials = Credentials::new(var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"),
///     std::env::var("AWS_SESSION_TOKEN").ok(), None, "lambda-environment");
/// let config = aws_sdk_ssm::Config::builder()
///     .behavior_version(BehaviorVersion::latest())
///     .region(Region::new(var("AWS_REGION")))
///     .credentials_provider(credentials)
///     .build();
/// let ssm = SsmProvider::new(aws_sdk_ssm::Client::from_conf(config));
/// let url = parameters::get(&ssm, "/orders/db-url").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SsmProvider {
    client: Client,
    id: ProviderId,
    decrypt: bool,
    recursive: bool,
}

impl fmt::Debug for SsmProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsmProvider")
            .field("id", &self.id)
            .field("decrypt", &self.decrypt)
            .field("recursive", &self.recursive)
            .finish_non_exhaustive()
    }
}

impl SsmProvider {
    /// A provider on `client` (given an HTTPS client if it has none), decrypting.
    ///
    /// ```no_run
    /// # fn example(client: aws_sdk_ssm::Client) {
    /// let ssm = lambda_middleware::parameters::SsmProvider::new(client);
    /// # }
    /// ```
    pub fn new(client: Client) -> Self {
        let client = if client.config().http_client().is_none() {
            Client::from_conf(client.config().to_builder().http_client(https_client()).build())
        } else {
            client
        };
        SsmProvider {
            client,
            id: ProviderId::new(),
            decrypt: true,
            recursive: true,
        }
    }

    /// Whether `SecureString`s are decrypted (`WithDecryption`). Default: yes (Powertools'
    /// `decrypt=False` is `decrypt(false)`). A provider of its own, cached apart.
    ///
    /// ```no_run
    /// # fn example(ssm: lambda_middleware::parameters::SsmProvider) {
    /// let ssm = ssm.decrypt(false);
    /// # }
    /// ```
    #[must_use]
    pub fn decrypt(mut self, decrypt: bool) -> Self {
        self.decrypt = decrypt;
        self.id = ProviderId::new();
        self
    }

    /// Whether a path's parameters include those under its sub-paths (`Recursive`).
    /// Default: yes (Powertools' `get_multiple` defaults to `recursive=False`; this is
    /// `recursive(false)`). A provider of its own, cached apart.
    ///
    /// ```no_run
    /// # fn example(ssm: lambda_middleware::parameters::SsmProvider) {
    /// let one_level = ssm.recursive(false);
    /// # }
    /// ```
    #[must_use]
    pub fn recursive(mut self, recursive: bool) -> Self {
        self.recursive = recursive;
        self.id = ProviderId::new();
        self
    }

    /// The SDK client.
    ///
    /// ```no_run
    /// # fn example(ssm: lambda_middleware::parameters::SsmProvider) {
    /// let client: &aws_sdk_ssm::Client = ssm.client();
    /// # }
    /// ```
    pub fn client(&self) -> &Client {
        &self.client
    }
}

const NOT_FOUND: &[&str] = &["ParameterNotFound", "ParameterVersionNotFound"];

impl Provider for SsmProvider {
    fn id(&self) -> ProviderId {
        self.id
    }

    fn kind(&self) -> &'static str {
        "ssm"
    }

    fn fetch<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Fetched, FetchError>> {
        Box::pin(async move {
            let output = self
                .client
                .get_parameter()
                .name(name)
                .with_decryption(self.decrypt)
                .send()
                .await
                .map_err(|error| fetch_error(error, NOT_FOUND))?;
            let value = output.parameter().and_then(|parameter| parameter.value());
            value
                .map(|value| Fetched::Text(value.to_owned()))
                .ok_or(FetchError::Unreadable("the parameter has no value".to_owned()))
        })
    }

    fn fetch_each<'a>(
        &'a self,
        names: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<(String, Result<Fetched, FetchError>)>, FetchError>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(names.len());
            for batch in names.chunks(10) {
                let output = self
                    .client
                    .get_parameters()
                    .set_names(Some(batch.to_vec()))
                    .with_decryption(self.decrypt)
                    .send()
                    .await
                    .map_err(|error| fetch_error(error, NOT_FOUND))?;
                for parameter in output.parameters() {
                    if let (Some(name), Some(value)) = (parameter.name(), parameter.value()) {
                        out.push((name.to_owned(), Ok(Fetched::Text(value.to_owned()))));
                    }
                }
                for name in output.invalid_parameters() {
                    out.push((name.clone(), Err(FetchError::NotFound)));
                }
            }
            Ok(out)
        })
    }

    fn fetch_multiple<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Vec<(String, Fetched)>, FetchError>> {
        Box::pin(async move {
            let prefix = format!("{}/", path.trim_end_matches('/'));
            let mut out = Vec::new();
            let mut token = None;
            loop {
                let output = self
                    .client
                    .get_parameters_by_path()
                    .path(path)
                    .recursive(self.recursive)
                    .with_decryption(self.decrypt)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|error| fetch_error(error, NOT_FOUND))?;
                for parameter in output.parameters() {
                    if let (Some(name), Some(value)) = (parameter.name(), parameter.value()) {
                        let relative = name.strip_prefix(&prefix).unwrap_or(name);
                        out.push((relative.to_owned(), Fetched::Text(value.to_owned())));
                    }
                }
                token = output.next_token().map(str::to_owned);
                if token.is_none() {
                    return Ok(out);
                }
            }
        })
    }
}
