//! The environment variables of logs and metrics, read strictly: a value that is set
//! but cannot be used is an [`InitError`] naming it, never a silent default.

use std::fmt;

use tracing::level_filters::LevelFilter;

/// Powertools' log level: `DEBUG`, `INFO`, `WARNING`, … (wins over [`LAMBDA_LOG_LEVEL_ENV`]).
pub const LOG_LEVEL_ENV: &str = "POWERTOOLS_LOG_LEVEL";

/// The log level of Lambda's advanced logging controls: `TRACE`, `DEBUG`, `INFO`,
/// `WARN`, `ERROR`, `FATAL` (set by Lambda when the function configures one).
pub const LAMBDA_LOG_LEVEL_ENV: &str = "AWS_LAMBDA_LOG_LEVEL";

/// The log format of Lambda's advanced logging controls: `JSON` or `Text`.
pub const LOG_FORMAT_ENV: &str = "AWS_LAMBDA_LOG_FORMAT";

/// The fraction of invocations, from 0 to 1, that log at `DEBUG` whatever the level.
pub const SAMPLE_RATE_ENV: &str = "POWERTOOLS_LOGGER_SAMPLE_RATE";

/// Whether [`LogEvent`](crate::LogEvent) logs the events: a boolean.
pub const LOG_EVENT_ENV: &str = "POWERTOOLS_LOGGER_LOG_EVENT";

/// The CloudWatch namespace of [`Metrics`](crate::Metrics).
pub const METRICS_NAMESPACE_ENV: &str = "POWERTOOLS_METRICS_NAMESPACE";

/// The `function_name` dimension of the `ColdStart` metric, instead of the function's own name.
pub const METRICS_FUNCTION_NAME_ENV: &str = "POWERTOOLS_METRICS_FUNCTION_NAME";

/// Turns [`Metrics`](crate::Metrics) output off when true: a boolean.
pub const METRICS_DISABLED_ENV: &str = "POWERTOOLS_METRICS_DISABLED";

pub(crate) const LEVELS: &str =
    "one of TRACE, DEBUG, INFO, WARN (or WARNING), ERROR, CRITICAL or FATAL (both as ERROR), in any case";
pub(crate) const RATE: &str = "a number from 0 to 1 (0.1 logs one invocation in ten at DEBUG)";
pub(crate) const FORMATS: &str = "JSON or Text, in any case";

/// Why logs or metrics could not be set up.
///
/// ```
/// use lambda_middleware::observe::{InitError, LogLevel};
///
/// let error = LogLevel::parse("POWERTOOLS_LOG_LEVEL", "LOUD").unwrap_err();
/// assert!(matches!(error, InitError::InvalidEnv { .. }));
/// assert_eq!(
///     error.to_string(),
///     "environment variable POWERTOOLS_LOG_LEVEL is \"LOUD\"; expected one of TRACE, DEBUG, INFO, \
///      WARN (or WARNING), ERROR, CRITICAL or FATAL (both as ERROR), in any case",
/// );
/// ```
#[derive(Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// An environment variable has a value that cannot be used.
    #[error("environment variable {name} is {value:?}; expected {expected}")]
    InvalidEnv {
        /// The variable.
        name: &'static str,
        /// The value it has.
        value: String,
        /// What it accepts.
        expected: &'static str,
    },
    /// A sample rate given in code is not a number from 0 to 1.
    #[error("the log sample rate is {0}; expected a number from 0 to 1")]
    InvalidSampleRate(f64),
    /// A global `tracing` subscriber was set before: only one can be, per process.
    #[error(
        "a global tracing subscriber is already set (by another init, or by the runtime's \
         init_default_subscriber): set up logging once, at the start of main"
    )]
    AlreadyInitialized,
}

/// The message itself, so that `fn main() -> Result<(), Error>` prints what to fix.
impl fmt::Debug for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The variable's value, or `None` when it is unset or blank; a value that is not
/// Unicode is an error.
pub(crate) fn var(name: &'static str, expected: &'static str) -> Result<Option<String>, InitError> {
    match std::env::var(name) {
        Ok(value) if value.trim().is_empty() => Ok(None),
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(value)) => Err(InitError::InvalidEnv {
            name,
            value: value.to_string_lossy().into_owned(),
            expected,
        }),
    }
}

/// A level name as Powertools (`WARNING`, `CRITICAL`) or Lambda (`WARN`, `FATAL`)
/// spells it, in any case.
pub(crate) fn parse_level(value: &str) -> Option<LevelFilter> {
    Some(match value.trim().to_ascii_uppercase().as_str() {
        "TRACE" => LevelFilter::TRACE,
        "DEBUG" => LevelFilter::DEBUG,
        "INFO" => LevelFilter::INFO,
        "WARN" | "WARNING" => LevelFilter::WARN,
        "ERROR" | "CRITICAL" | "FATAL" => LevelFilter::ERROR,
        _ => return None,
    })
}

/// A sample rate: a finite number from 0 to 1.
pub(crate) fn parse_rate(value: &str) -> Option<f64> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|rate| (0.0..=1.0).contains(rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_as_powertools_and_lambda_spell_them() {
        for (text, level) in [
            ("trace", LevelFilter::TRACE),
            ("Debug", LevelFilter::DEBUG),
            (" INFO ", LevelFilter::INFO),
            ("WARN", LevelFilter::WARN),
            ("warning", LevelFilter::WARN),
            ("ERROR", LevelFilter::ERROR),
            ("CRITICAL", LevelFilter::ERROR),
            ("FATAL", LevelFilter::ERROR),
        ] {
            assert_eq!(parse_level(text), Some(level), "{text}");
        }
        for text in ["", "LOUD", "5", "WARNINGS", "OFF"] {
            assert_eq!(parse_level(text), None, "{text}");
        }
    }

    #[test]
    fn rates_are_numbers_from_zero_to_one() {
        assert_eq!(parse_rate("0"), Some(0.0));
        assert_eq!(parse_rate("0.25"), Some(0.25));
        assert_eq!(parse_rate(" 1 "), Some(1.0));
        for text in ["", "1.5", "-0.1", "NaN", "inf", "ten percent", "10%"] {
            assert_eq!(parse_rate(text), None, "{text}");
        }
    }
}
