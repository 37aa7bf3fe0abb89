//! The `## <name>` span around a traced middleware.

use std::any::Any;
use std::fmt;

use lambda_runtime::Error;
use tracing::Span;
use tracing::field::Empty;

/// The span's name as `tracing` records it; the display name is in `otel.name`.
pub const MIDDLEWARE_SPAN: &str = "middleware";

/// Writes `## <name>` without allocating, asking for the name only when a subscriber
/// or logger formats the field.
struct DisplayName<N>(N);

impl<N: Fn() -> &'static str> fmt::Display for DisplayName<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "## {}", (self.0)())
    }
}

/// Writes the plain name, asked for only when the field is formatted.
struct PlainName<N>(N);

impl<N: Fn() -> &'static str> fmt::Display for PlainName<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str((self.0)())
    }
}

/// A new span for a traced middleware, or `None` when no subscriber wants it.
///
/// `name` is called only when the span is recorded somewhere: with no subscriber set
/// at all, a traced middleware costs one atomic load here.
pub(crate) fn middleware_span(name: &dyn Fn() -> &'static str) -> Option<Box<Span>> {
    if !tracing::dispatcher::has_been_set() {
        return None;
    }
    let span = tracing::info_span!(
        MIDDLEWARE_SPAN,
        otel.name = %DisplayName(name),
        otel.kind = "internal",
        middleware = %PlainName(name),
        otel.status_code = Empty,
        otel.status_description = Empty,
        error = Empty,
        error.type = Empty,
        early_response = Empty,
    );
    if span.is_disabled() { None } else { Some(Box::new(span)) }
}

/// Marks the span with how the middleware ended: `Ok(early)` or the error.
pub(crate) fn record_outcome(span: &Span, outcome: Result<bool, &Error>) {
    match outcome {
        Ok(early) => {
            if early {
                span.record("early_response", true);
            }
            span.record("otel.status_code", "OK");
        }
        Err(error) => {
            // Code first, then description: `tracing-opentelemetry` turns each into a
            // status, and the later one, `Error` with the message, must win.
            span.record("otel.status_code", "ERROR");
            span.record("otel.status_description", tracing::field::display(error));
            span.record("error", true);
            span.record("error.type", error_type(error.as_ref()));
        }
    }
}

/// The `error.type` of a span that a panic went through: X-Ray shows it as the
/// exception's type.
pub(crate) const PANIC_ERROR_TYPE: &str = "Panic";

/// Marks the span as failed by a panic, with the panic's message, as
/// [`record_outcome`] marks an error. The panic itself goes on unwinding: the caller
/// resumes it.
pub(crate) fn record_panic(span: &Span, panic: &(dyn Any + Send)) {
    span.record("otel.status_code", "ERROR");
    span.record("otel.status_description", panic_message(panic));
    span.record("error", true);
    span.record("error.type", PANIC_ERROR_TYPE);
}

/// What a panic said: the `&str` or `String` it was given, as `lambda_runtime` reports
/// it, or a placeholder for any other payload.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(message) = panic.downcast_ref::<&str>() {
        message
    } else if let Some(message) = panic.downcast_ref::<String>() {
        message
    } else {
        "panicked with a value that is not a string"
    }
}

/// The name of an error's type, as far as a `dyn Error` can tell: the same name Lambda
/// reports as `errorType` ([`InvocationError::error_type`](crate::InvocationError::error_type)).
pub(crate) fn error_type(error: &(dyn std::error::Error + Send + Sync + 'static)) -> String {
    crate::diagnostic::error_type(error).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("nope")]
    struct NotFound {
        #[allow(dead_code)]
        id: u32,
    }

    #[test]
    fn error_types_from_debug() {
        let typed: Error = NotFound { id: 1 }.into();
        assert_eq!(error_type(typed.as_ref()), "NotFound");
        let text: Error = "boom".into();
        assert_eq!(error_type(text.as_ref()), "Error");
    }

    #[test]
    fn panic_messages_from_str_string_and_anything_else() {
        assert_eq!(panic_message(&"boom"), "boom");
        assert_eq!(panic_message(&String::from("order 2")), "order 2");
        assert_eq!(panic_message(&42_u32), "panicked with a value that is not a string");
    }

    #[test]
    fn display_name_has_the_powertools_prefix() {
        assert_eq!(DisplayName(|| "obfuscate").to_string(), "## obfuscate");
        assert_eq!(PlainName(|| "obfuscate").to_string(), "obfuscate");
    }
}
