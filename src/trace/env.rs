//! Reading the tracing switches from the environment, strictly.

use crate::error::BuildError;

/// The variable that turns tracing on for every middleware that has no choice of its own.
pub const TRACE_MIDDLEWARES_ENV: &str = "POWERTOOLS_TRACE_MIDDLEWARES";

const ACCEPTED: &str = "1, y, yes, t, true, on (true) or 0, n, no, f, false, off (false), in any case";

/// Parses a boolean switch the way Powertools does: `1 y yes t true on` are true,
/// `0 n no f false off` are false, in any case; anything else is an error naming the
/// variable, the value and what was expected — never a silent default.
///
/// ```
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
/// use lambda_middleware::trace::trace_middlewares_from_env;
///
/// // Unset in doctests.
/// assert_eq!(trace_middlewares_from_env().unwrap(), false);
/// ```
pub fn trace_middlewares_from_env() -> Result<bool, BuildError> {
    match std::env::var(TRACE_MIDDLEWARES_ENV) {
        Ok(value) if value.trim().is_empty() => Ok(false),
        Ok(value) => parse_bool_env(TRACE_MIDDLEWARES_ENV, &value),
        Err(std::env::VarError::NotPresent) => Ok(false),
        Err(std::env::VarError::NotUnicode(value)) => Err(BuildError::InvalidEnv {
            name: TRACE_MIDDLEWARES_ENV,
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
