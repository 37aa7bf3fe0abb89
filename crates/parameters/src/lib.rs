//! Powertools' Parameters for lambda-middleware: configuration and secrets from SSM
//! Parameter Store, Secrets Manager, AppConfig and DynamoDB, through one cache shared by
//! every invocation of the process, and [`LoadConfig`], a middleware that hands the
//! handler its configuration as a typed struct.
//!
//! | provider | feature | store |
//! |---|---|---|
//! | `SsmProvider` | `ssm` | SSM Parameter Store: one parameter, several by name, a path (recursive), `SecureString` decrypted |
//! | `SecretsProvider` | `secrets` | Secrets Manager: string and binary secrets, by name or ARN, a version stage |
//! | `AppConfigProvider` | `appconfig` | AppConfig, through the AppConfigData API (a session, its poll token and interval) |
//! | `DynamoDbProvider` | `dynamodb` | a DynamoDB table in Powertools' parameters layout (`id`, `value`, `sk`) |
//! | [`MemoryProvider`] | — | in memory, counting its fetches: tests and local runs |
//!
//! The plain API ([`get`], [`get_json`], [`get_binary`], [`get_secret`],
//! [`get_multiple`], [`get_with`], [`get_multiple_with`]) reads through
//! [`Cache::global`], the cache [`LoadConfig`] uses by default.
//!
//! ```
//! use lambda_middleware::parameters::{self, MemoryProvider};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), parameters::ParameterError> {
//! let ssm = MemoryProvider::new().with("/app/url", "https://api.internal").with("/app/settings.json", r#"{"retries":3}"#);
//! let url = parameters::get(&ssm, "/app/url").await?;
//! let settings: serde_json::Value = parameters::get_json(&ssm, "/app/settings.json").await?;
//! assert_eq!((url.as_str(), settings["retries"].as_u64()), ("https://api.internal", Some(3)));
//! # Ok(()) }
//! ```
//!
//! The guide: <https://docs.rs/lambda-middleware/latest/lambda_middleware/guide/parameters/>.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations)]

mod cache;
mod config;
mod error;
mod provider;
mod secret;
mod value;

#[cfg(feature = "sdk")]
mod sdk;

#[cfg(feature = "appconfig")]
#[cfg_attr(docsrs, doc(cfg(feature = "appconfig")))]
pub mod appconfig;
#[cfg(feature = "dynamodb")]
#[cfg_attr(docsrs, doc(cfg(feature = "dynamodb")))]
pub mod dynamodb;
#[cfg(feature = "secrets")]
#[cfg_attr(docsrs, doc(cfg(feature = "secrets")))]
pub mod secrets;
#[cfg(feature = "ssm")]
#[cfg_attr(docsrs, doc(cfg(feature = "ssm")))]
pub mod ssm;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use cache::{
    Cache, CacheBuilder, Clock, DEFAULT_FETCH_TIMEOUT, DEFAULT_MAX_AGE, GetOptions, InvalidMaxAge, MAX_AGE_ENV,
    ManualClock, RefreshFailure, SystemClock, default_max_age, max_age_from_env,
};
pub use config::{ConfigLoader, LoadConfig};
pub use error::{FetchError, ParameterError};
pub use provider::{MemoryProvider, Provider, ProviderId};
pub use secret::{REDACTED, Secret};
pub use value::{Decoded, Fetched, ValueTransform};

/// The AWS SDK crates the providers take clients of, at the versions they were built
/// with.
#[cfg(feature = "appconfig")]
#[cfg_attr(docsrs, doc(cfg(feature = "appconfig")))]
pub use aws_sdk_appconfigdata;
#[cfg(feature = "dynamodb")]
#[cfg_attr(docsrs, doc(cfg(feature = "dynamodb")))]
pub use aws_sdk_dynamodb;
#[cfg(feature = "secrets")]
#[cfg_attr(docsrs, doc(cfg(feature = "secrets")))]
pub use aws_sdk_secretsmanager;
#[cfg(feature = "ssm")]
#[cfg_attr(docsrs, doc(cfg(feature = "ssm")))]
pub use aws_sdk_ssm;

#[cfg(feature = "appconfig")]
pub use appconfig::AppConfigProvider;
#[cfg(feature = "dynamodb")]
pub use dynamodb::DynamoDbProvider;
#[cfg(feature = "secrets")]
pub use secrets::SecretsProvider;
#[cfg(feature = "ssm")]
pub use ssm::SsmProvider;

/// One parameter as text, through [`Cache::global`] (Powertools' `get_parameter`).
///
/// ```
/// # use lambda_middleware::parameters::{self, MemoryProvider};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let ssm = MemoryProvider::new().with("/app/url", "https://api.internal");
/// assert_eq!(parameters::get(&ssm, "/app/url").await.unwrap(), "https://api.internal");
/// # }
/// ```
pub async fn get<P: Provider + ?Sized>(provider: &P, name: &str) -> Result<String, ParameterError> {
    Cache::global().get(provider, name).await
}

/// One parameter read as JSON into `T`, through [`Cache::global`].
///
/// ```
/// # use lambda_middleware::parameters::{self, MemoryProvider};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let ssm = MemoryProvider::new().with("/app/ports", "[80, 443]");
/// let ports: Vec<u16> = parameters::get_json(&ssm, "/app/ports").await.unwrap();
/// assert_eq!(ports, [80, 443]);
/// # }
/// ```
pub async fn get_json<T: serde::de::DeserializeOwned, P: Provider + ?Sized>(
    provider: &P,
    name: &str,
) -> Result<T, ParameterError> {
    Cache::global().get_json(provider, name).await
}

/// One parameter, base64 decoded (a binary value as it is), through [`Cache::global`].
///
/// ```
/// # use lambda_middleware::parameters::{self, MemoryProvider};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let secrets = MemoryProvider::new().with("signing-key", "AAEC");
/// assert_eq!(parameters::get_binary(&secrets, "signing-key").await.unwrap(), [0, 1, 2]);
/// # }
/// ```
pub async fn get_binary<P: Provider + ?Sized>(provider: &P, name: &str) -> Result<Vec<u8>, ParameterError> {
    Cache::global().get_binary(provider, name).await
}

/// One secret as a [`Secret<String>`], through [`Cache::global`] (Powertools'
/// `get_secret`).
///
/// ```
/// # use lambda_middleware::parameters::{self, MemoryProvider};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let secrets = MemoryProvider::new().with("prod/api-key", "sk-live-1234");
/// let key = parameters::get_secret(&secrets, "prod/api-key").await.unwrap();
/// assert_eq!(key.expose(), "sk-live-1234");
/// # }
/// ```
pub async fn get_secret<P: Provider + ?Sized>(provider: &P, name: &str) -> Result<Secret<String>, ParameterError> {
    Cache::global().get_secret(provider, name).await
}

/// Every parameter under `path`, as text, through [`Cache::global`] (Powertools'
/// `get_parameters`).
///
/// ```
/// # use lambda_middleware::parameters::{self, MemoryProvider};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let ssm = MemoryProvider::new().with("/app/a", "1").with("/app/b", "2");
/// assert_eq!(parameters::get_multiple(&ssm, "/app").await.unwrap().len(), 2);
/// # }
/// ```
pub async fn get_multiple<P: Provider + ?Sized>(
    provider: &P,
    path: &str,
) -> Result<BTreeMap<String, String>, ParameterError> {
    Cache::global().get_multiple(provider, path).await
}

/// One parameter with [`GetOptions`] (`max_age`, `force_fetch`, `transform`, …),
/// through [`Cache::global`].
///
/// ```
/// use lambda_middleware::parameters::{self, GetOptions, MemoryProvider};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let ssm = MemoryProvider::new().with("/app/url", "u");
/// let forced = GetOptions::builder().force_fetch(true).build();
/// let value = parameters::get_with(&ssm, "/app/url", &forced).await.unwrap();
/// assert_eq!(value.as_text(), Some("u"));
/// # }
/// ```
pub async fn get_with<P: Provider + ?Sized>(
    provider: &P,
    name: &str,
    options: &GetOptions,
) -> Result<Decoded, ParameterError> {
    Cache::global().get_with(provider, name, options).await
}

/// Every parameter under `path` with [`GetOptions`], through [`Cache::global`].
///
/// ```
/// use lambda_middleware::parameters::{self, GetOptions, MemoryProvider, ValueTransform};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let ssm = MemoryProvider::new().with("/app/limits.json", r#"{"rps":5}"#);
/// let auto = GetOptions::builder().transform(ValueTransform::BySuffix).build();
/// let all = parameters::get_multiple_with(&ssm, "/app", &auto).await.unwrap();
/// assert_eq!(all["limits.json"].as_json().unwrap()["rps"], 5);
/// # }
/// ```
pub async fn get_multiple_with<P: Provider + ?Sized>(
    provider: &P,
    path: &str,
    options: &GetOptions,
) -> Result<Arc<BTreeMap<String, Decoded>>, ParameterError> {
    Cache::global().get_multiple_with(provider, path, options).await
}
