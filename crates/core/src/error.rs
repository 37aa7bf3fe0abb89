//! The crate's own errors.

/// Why a handler could not be built.
///
/// Returned by [`HandlerBuilder::handler`](crate::HandlerBuilder::handler), so that a
/// misconfigured function fails once at start-up with a message that says what to fix,
/// instead of failing (or silently misbehaving) on every invocation.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::BuildError;
///
/// let error = lambda_middleware::trace::parse_bool_env("POWERTOOLS_TRACE_MIDDLEWARES", "sometimes").unwrap_err();
/// assert!(matches!(error, BuildError::InvalidEnv { .. }));
/// assert_eq!(
///     error.to_string(),
///     "environment variable POWERTOOLS_TRACE_MIDDLEWARES is \"sometimes\"; expected one of \
///      1, y, yes, t, true, on (true) or 0, n, no, f, false, off (false), in any case",
/// );
/// ```
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// An environment variable the crate reads has a value it does not accept.
    #[error("environment variable {name} is {value:?}; expected one of {expected}")]
    InvalidEnv {
        /// The variable.
        name: &'static str,
        /// The value it has.
        value: String,
        /// What it accepts.
        expected: &'static str,
    },
    /// A middleware was given params it refuses (see
    /// [`Middleware::check`](crate::Middleware::check)).
    #[error("{middleware}: {reason}")]
    InvalidParams {
        /// The middleware's name.
        middleware: &'static str,
        /// What is wrong, and how to fix it.
        reason: String,
    },
}

impl BuildError {
    /// The error a middleware's [`check`](crate::Middleware::check) returns for params
    /// it refuses: its name, and a reason that says what to fix.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::BuildError;
    ///
    /// let error = BuildError::invalid_params("rate_limit", "per_second is 0; expected at least 1");
    /// assert_eq!(error.to_string(), "rate_limit: per_second is 0; expected at least 1");
    /// ```
    pub fn invalid_params(middleware: &'static str, reason: impl Into<String>) -> Self {
        BuildError::InvalidParams {
            middleware,
            reason: reason.into(),
        }
    }
}

/// The message itself, so that `fn main() -> Result<(), Error>` prints what to fix
/// rather than the enum's fields.
impl std::fmt::Debug for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
