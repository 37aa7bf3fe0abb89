//! [`ParameterError`]: why a parameter could not be had; [`FetchError`]: what a
//! provider reports.

use std::fmt;
use std::time::Duration;

/// What a [`Provider`](crate::Provider) reports when a fetch fails. The cache turns it
/// into a [`ParameterError`] that names the provider and the parameter.
///
/// ```
/// use lambda_middleware::parameters::FetchError;
///
/// let error = FetchError::AccessDenied("no ssm:GetParameter on /prod/db".into());
/// assert_eq!(error.to_string(), "access denied: no ssm:GetParameter on /prod/db");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The store has no such parameter (or no such version).
    #[error("not found")]
    NotFound,
    /// The store refused: the function's role may not read it, or may not decrypt it.
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// The store answered with another error: its code and message.
    #[error("the store answered {code}: {message}")]
    Rejected {
        /// The service's error code (`ThrottlingException`, …).
        code: String,
        /// Its message.
        message: String,
    },
    /// The request did not reach the store, or no answer came back (connection refused,
    /// reset, a response that does not read).
    #[error("the store could not be reached: {0}")]
    Unavailable(String),
    /// The value is there but not of a kind the provider can hand back.
    #[error("{0}")]
    Unreadable(String),
    /// The provider cannot do this (`get_multiple` on a provider without a hierarchy).
    #[error("{0} is not supported by this provider")]
    Unsupported(&'static str),
}

/// Why a parameter could not be had, naming the provider, the parameter and the cause.
/// It never holds the parameter's value.
///
/// Lambda reports it under the names Powertools for AWS Lambda (Python) gives the same
/// failures (`errorType`), so that one Step Functions `Catch` covers both:
///
/// | variant | `errorType` (Powertools' exception) |
/// |---|---|
/// | `NotFound`, `AccessDenied`, `Failed`, `TimedOut` | `GetParameterError` |
/// | `Invalid`, `Config` | `TransformParameterError` |
///
/// The names are the ones this type's `Debug` output starts with, which is where
/// [`InvocationError`](lambda_middleware_core::InvocationError) reads them.
///
/// ```
/// use lambda_middleware::parameters::ParameterError;
/// use lambda_middleware::InvocationError;
///
/// let error = ParameterError::NotFound { provider: "ssm", name: "/prod/db-url".into() };
/// assert_eq!(error.to_string(), "parameter /prod/db-url was not found in ssm");
/// let lambda_sees = InvocationError::from(lambda_middleware::Error::from(error));
/// assert_eq!(lambda_sees.error_type(), "GetParameterError");
/// ```
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParameterError {
    /// The store has no such parameter.
    #[error("parameter {name} was not found in {provider}")]
    NotFound {
        /// The provider's kind (`ssm`, `secretsmanager`, `appconfig`, `dynamodb`, `memory`).
        provider: &'static str,
        /// The parameter's name (or path, or ARN).
        name: String,
    },
    /// The store refused to hand it over.
    #[error("{provider} denied access to parameter {name}: {message}")]
    AccessDenied {
        /// The provider's kind.
        provider: &'static str,
        /// The parameter's name.
        name: String,
        /// The store's message.
        message: String,
    },
    /// Any other failure of the fetch: an error answer, a store that is down.
    #[error("fetching parameter {name} from {provider} failed: {cause}")]
    Failed {
        /// The provider's kind.
        provider: &'static str,
        /// The parameter's name.
        name: String,
        /// What went wrong.
        cause: FetchError,
    },
    /// The store did not answer within the fetch timeout.
    #[error("{provider} did not answer within {timeout:?} for parameter {name}")]
    TimedOut {
        /// The provider's kind.
        provider: &'static str,
        /// The parameter's name.
        name: String,
        /// The timeout it waited.
        timeout: Duration,
    },
    /// The value did not go through its transform (`json`, `binary`). The cause never
    /// quotes the value.
    #[error("parameter {name} from {provider} is not valid {transform}: {cause}")]
    Invalid {
        /// The provider's kind.
        provider: &'static str,
        /// The parameter's name.
        name: String,
        /// The transform (`json`, `binary`, `text`).
        transform: &'static str,
        /// Why, without the value.
        cause: String,
    },
    /// The parameters did not deserialise into the configuration type. The cause names
    /// the field and never quotes a value.
    #[error("the parameters do not make a {config}: {cause}")]
    Config {
        /// The configuration type's name.
        config: &'static str,
        /// Why, without the values.
        cause: String,
    },
}

impl ParameterError {
    /// The name Lambda reports for this error (`errorType`): Powertools' (see above).
    ///
    /// ```
    /// use lambda_middleware::parameters::ParameterError;
    ///
    /// let error = ParameterError::Config { config: "Settings", cause: "missing field `url`".into() };
    /// assert_eq!(error.error_type(), "TransformParameterError");
    /// ```
    pub fn error_type(&self) -> &'static str {
        match self {
            ParameterError::NotFound { .. }
            | ParameterError::AccessDenied { .. }
            | ParameterError::Failed { .. }
            | ParameterError::TimedOut { .. } => "GetParameterError",
            ParameterError::Invalid { .. } | ParameterError::Config { .. } => "TransformParameterError",
        }
    }

    /// The parameter this error is about (the configuration type's name for `Config`).
    ///
    /// ```
    /// use lambda_middleware::parameters::ParameterError;
    ///
    /// let error = ParameterError::NotFound { provider: "ssm", name: "/prod/db-url".into() };
    /// assert_eq!(error.name(), "/prod/db-url");
    /// ```
    pub fn name(&self) -> &str {
        match self {
            ParameterError::NotFound { name, .. }
            | ParameterError::AccessDenied { name, .. }
            | ParameterError::Failed { name, .. }
            | ParameterError::TimedOut { name, .. }
            | ParameterError::Invalid { name, .. } => name,
            ParameterError::Config { config, .. } => config,
        }
    }

    pub(crate) fn from_fetch(provider: &'static str, name: &str, error: FetchError) -> ParameterError {
        let name = name.to_owned();
        match error {
            FetchError::NotFound => ParameterError::NotFound { provider, name },
            FetchError::AccessDenied(message) => ParameterError::AccessDenied {
                provider,
                name,
                message,
            },
            cause => ParameterError::Failed { provider, name, cause },
        }
    }
}

/// `Name { fields }`, `Name` being [`ParameterError::error_type`].
impl fmt::Debug for ParameterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct(self.error_type());
        match self {
            ParameterError::NotFound { provider, name } => out
                .field("kind", &"NotFound")
                .field("provider", provider)
                .field("name", name),
            ParameterError::AccessDenied {
                provider,
                name,
                message,
            } => out
                .field("kind", &"AccessDenied")
                .field("provider", provider)
                .field("name", name)
                .field("message", message),
            ParameterError::Failed { provider, name, cause } => out
                .field("kind", &"Failed")
                .field("provider", provider)
                .field("name", name)
                .field("cause", cause),
            ParameterError::TimedOut {
                provider,
                name,
                timeout,
            } => out
                .field("kind", &"TimedOut")
                .field("provider", provider)
                .field("name", name)
                .field("timeout", timeout),
            ParameterError::Invalid {
                provider,
                name,
                transform,
                cause,
            } => out
                .field("kind", &"Invalid")
                .field("provider", provider)
                .field("name", name)
                .field("transform", transform)
                .field("cause", cause),
            ParameterError::Config { config, cause } => out
                .field("kind", &"Config")
                .field("config", config)
                .field("cause", cause),
        };
        out.finish()
    }
}

/// serde's message without the value it quotes: `invalid type: string "hunter2",
/// expected u32` becomes `invalid type: a value that is not shown, expected u32`. A
/// secret that does not fit its field must not reach the logs through its error.
pub(crate) fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = ["invalid type: ", "invalid value: ", "invalid length "]
        .iter()
        .filter_map(|marker| rest.find(marker).map(|at| (at, marker.len())))
        .min()
    {
        let (at, len) = at;
        out.push_str(&rest[..at + len]);
        rest = &rest[at + len..];
        match rest.find(", expected") {
            Some(end) => {
                out.push_str("a value that is not shown");
                rest = &rest[end..];
            }
            None => {
                out.push_str("a value that is not shown");
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_lose_the_values_they_quote() {
        assert_eq!(
            without_values("invalid type: string \"hunter2\", expected u32 at line 1"),
            "invalid type: a value that is not shown, expected u32 at line 1"
        );
        assert_eq!(
            without_values("invalid value: integer `1234`, expected a port; invalid type: string \"x\""),
            "invalid value: a value that is not shown, expected a port; invalid type: a value that is not shown"
        );
        assert_eq!(without_values("missing field `url`"), "missing field `url`");
    }

    #[test]
    fn every_fetch_failure_is_a_get_parameter_error() {
        for cause in [
            FetchError::NotFound,
            FetchError::AccessDenied("no".into()),
            FetchError::Unavailable("refused".into()),
        ] {
            let error = ParameterError::from_fetch("ssm", "/a", cause);
            assert_eq!(error.error_type(), "GetParameterError");
            assert!(format!("{error:?}").starts_with("GetParameterError {"), "{error:?}");
            assert!(error.to_string().contains("/a"), "{error}");
        }
    }
}
