//! [`AppConfigProvider`]: AppConfig, through the AppConfigData API.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use aws_sdk_appconfigdata::Client;
use lambda_runtime::BoxFuture;

use crate::error::FetchError;
use crate::provider::{Provider, ProviderId};
use crate::sdk::{fetch_error, https_client};
use crate::value::Fetched;

/// Configuration profiles from AppConfig (feature `appconfig`), through the
/// AppConfigData API as Powertools' `AppConfigProvider` reads it: the name a `get`
/// takes is the configuration profile; the application and environment are the
/// provider's.
///
/// - The first fetch of a profile starts a configuration session
///   (`StartConfigurationSession`) and reads it (`GetLatestConfiguration`).
/// - Each later fetch sends the poll token the last answer gave
///   (`Next-Poll-Configuration-Token`). An empty configuration means "unchanged": the
///   last one is handed back.
/// - A fetch sooner than the poll interval the last answer gave
///   (`Next-Poll-Interval-In-Seconds`) sends nothing and hands back the last
///   configuration, since AppConfig refuses polls that come too early.
/// - A refused token (expired after 24 hours: `BadRequestException`) starts a new
///   session once.
///
/// The configuration comes back as bytes (read it with the `json` transform, or as
/// text). The function needs `appconfig:StartConfigurationSession` and
/// `appconfig:GetLatestConfiguration`.
///
/// Its tests run against a stand-in for AppConfigData on loopback that follows the API
/// reference (sessions, tokens, poll intervals, empty answers), not against the
/// service itself.
///
/// ```no_run
/// use lambda_middleware::parameters::{self, AppConfigProvider};
///
/// #[derive(serde::Deserialize)]
/// struct Flags { beta: bool }
///
/// # async fn example(client: aws_sdk_appconfigdata::Client) -> Result<(), parameters::ParameterError> {
/// let appconfig = AppConfigProvider::new(client, "orders", "prod");
/// let flags: Flags = parameters::get_json(&appconfig, "feature-flags").await?;
/// # Ok(()) }
/// ```
pub struct AppConfigProvider {
    client: Client,
    id: ProviderId,
    application: String,
    environment: String,
    minimum_poll_interval: Option<Duration>,
    sessions: std::sync::Arc<tokio::sync::Mutex<HashMap<String, Session>>>,
}

impl Clone for AppConfigProvider {
    fn clone(&self) -> Self {
        AppConfigProvider {
            client: self.client.clone(),
            id: self.id,
            application: self.application.clone(),
            environment: self.environment.clone(),
            minimum_poll_interval: self.minimum_poll_interval,
            sessions: std::sync::Arc::clone(&self.sessions),
        }
    }
}

#[derive(Default)]
struct Session {
    token: Option<String>,
    last: Option<Vec<u8>>,
    next_poll: Option<Instant>,
}

impl fmt::Debug for AppConfigProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppConfigProvider")
            .field("id", &self.id)
            .field("application", &self.application)
            .field("environment", &self.environment)
            .field("minimum_poll_interval", &self.minimum_poll_interval)
            .finish_non_exhaustive()
    }
}

impl AppConfigProvider {
    /// A provider of `application`'s profiles in `environment` (names or ids), on
    /// `client` (given an HTTPS client if it has none).
    ///
    /// ```no_run
    /// # fn example(client: aws_sdk_appconfigdata::Client) {
    /// let appconfig = lambda_middleware::parameters::AppConfigProvider::new(client, "orders", "prod");
    /// # }
    /// ```
    pub fn new(client: Client, application: impl Into<String>, environment: impl Into<String>) -> Self {
        let client = if client.config().http_client().is_none() {
            Client::from_conf(client.config().to_builder().http_client(https_client()).build())
        } else {
            client
        };
        AppConfigProvider {
            client,
            id: ProviderId::new(),
            application: application.into(),
            environment: environment.into(),
            minimum_poll_interval: None,
            sessions: std::sync::Arc::default(),
        }
    }

    /// The `RequiredMinimumPollIntervalInSeconds` of the sessions it starts (AppConfig's
    /// default is 60 s; at least 15 s).
    ///
    /// ```no_run
    /// # fn example(appconfig: lambda_middleware::parameters::AppConfigProvider) {
    /// let appconfig = appconfig.minimum_poll_interval(std::time::Duration::from_secs(15));
    /// # }
    /// ```
    #[must_use]
    pub fn minimum_poll_interval(mut self, interval: Duration) -> Self {
        self.minimum_poll_interval = Some(interval);
        self
    }

    /// The SDK client.
    ///
    /// ```no_run
    /// # fn example(appconfig: lambda_middleware::parameters::AppConfigProvider) {
    /// let client: &aws_sdk_appconfigdata::Client = appconfig.client();
    /// # }
    /// ```
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn start_session(&self, profile: &str) -> Result<String, FetchError> {
        let output = self
            .client
            .start_configuration_session()
            .application_identifier(&self.application)
            .environment_identifier(&self.environment)
            .configuration_profile_identifier(profile)
            .set_required_minimum_poll_interval_in_seconds(
                self.minimum_poll_interval
                    .map(|interval| i32::try_from(interval.as_secs()).unwrap_or(i32::MAX)),
            )
            .send()
            .await
            .map_err(|error| fetch_error(error, &["ResourceNotFoundException"]))?;
        output
            .initial_configuration_token()
            .map(str::to_owned)
            .ok_or(FetchError::Unreadable(
                "the session has no initial configuration token".to_owned(),
            ))
    }
}

impl Provider for AppConfigProvider {
    fn id(&self) -> ProviderId {
        self.id
    }

    fn kind(&self) -> &'static str {
        "appconfig"
    }

    fn fetch<'a>(&'a self, profile: &'a str) -> BoxFuture<'a, Result<Fetched, FetchError>> {
        Box::pin(async move {
            let mut sessions = self.sessions.lock().await;
            let session = sessions.entry(profile.to_owned()).or_default();
            if let (Some(last), Some(next_poll)) = (&session.last, session.next_poll) {
                if Instant::now() < next_poll {
                    return Ok(Fetched::Binary(last.clone()));
                }
            }
            let mut restarted = false;
            let output = loop {
                let token = match session.token.take() {
                    Some(token) => token,
                    None => self.start_session(profile).await?,
                };
                match self
                    .client
                    .get_latest_configuration()
                    .configuration_token(token)
                    .send()
                    .await
                {
                    Ok(output) => break output,
                    Err(error) => {
                        let error = fetch_error(error, &["ResourceNotFoundException"]);
                        // An expired or used token: one new session, then give up.
                        if matches!(&error, FetchError::Rejected { code, .. } if code == "BadRequestException")
                            && !restarted
                        {
                            restarted = true;
                            continue;
                        }
                        return Err(error);
                    }
                }
            };
            session.token = output.next_poll_configuration_token().map(str::to_owned);
            session.next_poll = u64::try_from(output.next_poll_interval_in_seconds())
                .ok()
                .map(|seconds| Instant::now() + Duration::from_secs(seconds));
            match output.configuration() {
                Some(bytes) if !bytes.as_ref().is_empty() => session.last = Some(bytes.as_ref().to_vec()),
                // Empty: unchanged since the last answer.
                _ => {}
            }
            Ok(Fetched::Binary(session.last.clone().unwrap_or_default()))
        })
    }
}
