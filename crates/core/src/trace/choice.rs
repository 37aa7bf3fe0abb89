//! Whether a middleware is traced, decided at compile time where possible.
//!
//! Three inputs, in order of precedence: the builder's choice for one middleware
//! ([`Traced`] / [`Untraced`], or [`Auto`] when it made none), the middleware's own
//! [`TRACE_EXECUTION`](crate::Middleware::TRACE_EXECUTION), and
//! `POWERTOOLS_TRACE_MIDDLEWARES`. The first two are types and constants; the third
//! is read once when the handler is built, and each invocation of a chain where some
//! middleware left its tracing to it picks one of two monomorphised chains
//! ([`EnvOn`] / [`EnvOff`]) with a single branch. So whether a
//! layer is traced is a constant in every layer's code, and an untraced layer carries
//! no tracing code at all.

/// The builder's choice for one middleware.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::trace::{Auto, TraceChoice, Traced, Untraced};
///
/// assert_eq!(Auto::CHOICE, None);
/// assert_eq!(Traced::CHOICE, Some(true));
/// assert_eq!(Untraced::CHOICE, Some(false));
/// ```
pub trait TraceChoice: Sealed + Send + Sync + 'static {
    /// `Some` when the builder decided, `None` to leave it to the middleware and the
    /// environment.
    const CHOICE: Option<bool>;
}

/// No choice made in the builder: the middleware's definition, then
/// `POWERTOOLS_TRACE_MIDDLEWARES`, decide.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::trace::{Auto, TraceChoice};
/// assert_eq!(Auto::CHOICE, None);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Auto;

/// Traced, whatever the definition and the environment say
/// ([`HandlerBuilder::traced`](crate::HandlerBuilder::traced)).
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::trace::{TraceChoice, Traced};
/// assert_eq!(Traced::CHOICE, Some(true));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Traced;

/// Not traced, whatever the definition and the environment say
/// ([`HandlerBuilder::untraced`](crate::HandlerBuilder::untraced)).
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::trace::{TraceChoice, Untraced};
/// assert_eq!(Untraced::CHOICE, Some(false));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Untraced;

impl Sealed for Auto {}
impl Sealed for Traced {}
impl Sealed for Untraced {}

impl TraceChoice for Auto {
    const CHOICE: Option<bool> = None;
}

impl TraceChoice for Traced {
    const CHOICE: Option<bool> = Some(true);
}

impl TraceChoice for Untraced {
    const CHOICE: Option<bool> = Some(false);
}

/// What `POWERTOOLS_TRACE_MIDDLEWARES` said when the handler was built, as a type.
///
/// Crate-private in all but name: it appears in the hidden signature of
/// [`Chain`](crate::chain::Chain), but it is sealed and neither it nor its two types can be
/// named outside the crate, so nothing outside can pick a mode and run a chain.
pub trait EnvTrace: Sealed + Send + Sync + 'static {
    /// `true` when the environment asks to trace every middleware without a choice of its own.
    const ON: bool;
}

/// Keeps [`EnvTrace`] to the two types below.
pub trait Sealed {}

/// `POWERTOOLS_TRACE_MIDDLEWARES` is true.
#[derive(Debug, Clone, Copy)]
pub struct EnvOn;

/// `POWERTOOLS_TRACE_MIDDLEWARES` is false or unset.
#[derive(Debug, Clone, Copy)]
pub struct EnvOff;

impl Sealed for EnvOn {}
impl Sealed for EnvOff {}

impl EnvTrace for EnvOn {
    const ON: bool = true;
}

impl EnvTrace for EnvOff {
    const ON: bool = false;
}

/// Builder choice, then the middleware's definition, then the environment (`None`:
/// not known here).
pub(crate) const fn resolve(builder: Option<bool>, definition: Option<bool>, env: Option<bool>) -> Option<bool> {
    match (builder, definition) {
        (Some(choice), _) => Some(choice),
        (None, Some(choice)) => Some(choice),
        (None, None) => env,
    }
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn explicit_choices_beat_the_environment() {
        assert_eq!(resolve(Some(true), Some(false), Some(false)), Some(true));
        assert_eq!(resolve(Some(false), Some(true), Some(true)), Some(false));
        assert_eq!(resolve(None, Some(true), Some(false)), Some(true));
        assert_eq!(resolve(None, Some(false), Some(true)), Some(false));
        assert_eq!(resolve(None, None, Some(true)), Some(true));
        assert_eq!(resolve(None, None, Some(false)), Some(false));
        assert_eq!(resolve(None, None, None), None);
    }
}
