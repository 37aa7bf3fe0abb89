//! Reading the tracing switches from the environment, strictly.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::BuildError;

/// The variable that turns tracing on for every middleware that has no choice of its own.
pub const TRACE_MIDDLEWARES_ENV: &str = "POWERTOOLS_TRACE_MIDDLEWARES";

const ACCEPTED: &str = "1, y, yes, t, true, on (true) or 0, n, no, f, false, off (false), in any case";

/// Parses a boolean switch the way Powertools does: `1 y yes t true on` are true,
/// `0 n no f false off` are false, in any case; anything else is an error naming the
/// variable, the value and what was expected — never a silent default.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::trace::parse_bool_env;
///
/// assert_eq!(parse_bool_env("POWERTOOLS_TRACE_MIDDLEWARES", "Yes").unwrap(), true);
/// assert_eq!(parse_bool_env("POWERTOOLS_TRACE_MIDDLEWARES", "off").unwrap(), false);
/// let error = parse_bool_env("POWERTOOLS_TRACE_MIDDLEWARES", "maybe").unwrap_err();
/// assert!(error.to_string().contains("\"maybe\""));
/// ```
pub fn parse_bool_env(name: &'static str, value: &str) -> Result<bool, BuildError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "y" | "yes" | "t" | "true" | "on" => Ok(true),
        "0" | "n" | "no" | "f" | "false" | "off" => Ok(false),
        _ => Err(BuildError::InvalidEnv {
            name,
            value: value.to_owned(),
            expected: ACCEPTED,
        }),
    }
}

/// Reads `POWERTOOLS_TRACE_MIDDLEWARES`: unset or empty is `false`.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::trace::trace_middlewares_from_env;
///
/// // Unset in doctests.
/// assert_eq!(trace_middlewares_from_env().unwrap(), false);
/// ```
pub fn trace_middlewares_from_env() -> Result<bool, BuildError> {
    bool_from_env(TRACE_MIDDLEWARES_ENV, false)
}

/// The variable that turns off all of the crate's tracing: middleware spans, the
/// handler's segment (`CaptureLambdaHandler`)
/// and `Tracer` annotations and metadata.
pub const TRACE_DISABLED_ENV: &str = "POWERTOOLS_TRACE_DISABLED";

/// Reads `POWERTOOLS_TRACE_DISABLED`: unset or empty is `false`.
///
/// [`HandlerBuilder::handler`](crate::HandlerBuilder::handler) reads it, and sets
/// [`tracing_disabled`] from it.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::trace::trace_disabled_from_env;
///
/// // Unset in doctests.
/// assert_eq!(trace_disabled_from_env().unwrap(), false);
/// ```
pub fn trace_disabled_from_env() -> Result<bool, BuildError> {
    bool_from_env(TRACE_DISABLED_ENV, false)
}

/// The crate's tracing switch: `true` after a handler was built with
/// `POWERTOOLS_TRACE_DISABLED` true.
static DISABLED: AtomicBool = AtomicBool::new(false);

/// Whether all of the crate's tracing is off: `POWERTOOLS_TRACE_DISABLED` as the last
/// handler built in this process read it (`false` before any was).
///
/// Like the variable, the switch is the process's, not one handler's: it is what
/// `Tracer` calls read, and they belong to no handler. Traced
/// middlewares look at it when they would open a span, and only when a `tracing`
/// subscriber is set; untraced ones never do.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::trace::tracing_disabled;
///
/// // No handler built here with the variable set.
/// assert!(!tracing_disabled());
/// ```
pub fn tracing_disabled() -> bool {
    DISABLED.load(Ordering::Relaxed)
}

pub(crate) fn set_tracing_disabled(disabled: bool) {
    DISABLED.store(disabled, Ordering::Relaxed);
}

/// A boolean variable, strictly: unset or empty is `default`, anything that is not
/// one of Powertools' spellings ([`parse_bool_env`]) is an error naming the variable and
/// the value.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::trace::bool_from_env;
///
/// // Unset here: the default.
/// assert_eq!(bool_from_env("MY_MIDDLEWARE_ENABLED", true).unwrap(), true);
/// ```
pub fn bool_from_env(name: &'static str, default: bool) -> Result<bool, BuildError> {
    match std::env::var(name) {
        Ok(value) if value.trim().is_empty() => Ok(default),
        Ok(value) => parse_bool_env(name, &value),
        Err(std::env::VarError::NotPresent) => Ok(default),
        Err(std::env::VarError::NotUnicode(value)) => Err(BuildError::InvalidEnv {
            name,
            value: value.to_string_lossy().into_owned(),
            expected: ACCEPTED,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_accepted_spelling_in_any_case() {
        for value in ["1", "y", "yes", "t", "true", "on", "YES", "True", "On", " true "] {
            assert!(parse_bool_env("X", value).unwrap(), "{value}");
        }
        for value in ["0", "n", "no", "f", "false", "off", "NO", "False", "OFF"] {
            assert!(!parse_bool_env("X", value).unwrap(), "{value}");
        }
    }

    #[test]
    fn anything_else_is_an_error_naming_variable_value_and_expectation() {
        for value in ["", "2", "yess", "enabled", "truee", "-1"] {
            let message = parse_bool_env("POWERTOOLS_TRACE_MIDDLEWARES", value)
                .unwrap_err()
                .to_string();
            assert!(message.contains("POWERTOOLS_TRACE_MIDDLEWARES"), "{message}");
            assert!(message.contains(&format!("{value:?}")), "{message}");
            assert!(message.contains("yes") && message.contains("off"), "{message}");
        }
    }
}
