//! The `## <name>` span around a traced middleware.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use lambda_runtime::Error;
use pin_project_lite::pin_project;
use tracing::Span;
use tracing::field::Empty;

/// The span's name as `tracing` records it; the display name is in `otel.name`.
pub const MIDDLEWARE_SPAN: &str = "middleware";

/// The target of the middleware and handler spans, the same whichever crate opens them,
/// so that filters (`RUST_LOG=lambda_middleware=info`) and layers can find them.
pub(crate) const SPAN_TARGET: &str = "lambda_middleware::trace::span";

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
/// at all, a traced middleware costs one atomic load here. `POWERTOOLS_TRACE_DISABLED`
/// ([`tracing_disabled`](super::tracing_disabled)) makes it `None` as well.
pub(crate) fn middleware_span(name: &dyn Fn() -> &'static str) -> Option<Box<Span>> {
    // No subscriber at all, the usual case without tracing: one load, and nothing else.
    if !tracing::dispatcher::has_been_set() || super::tracing_disabled() {
        return None;
    }
    let span = tracing::info_span!(
        target: SPAN_TARGET,
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

/// The span name of the handler's own segment
/// (`CaptureLambdaHandler`); its display
/// name, `## <handler>`, is in `otel.name`.
pub const HANDLER_SPAN: &str = "lambda_handler";

/// A new span for the handler's own segment, named `## <name>`, or `None` when no
/// subscriber wants it or `POWERTOOLS_TRACE_DISABLED` turned tracing off.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::support::handler_span;
///
/// // No subscriber is set here: nothing would record the span.
/// assert!(handler_span("checkout").is_none());
/// ```
pub fn handler_span(name: &str) -> Option<Span> {
    if !tracing::dispatcher::has_been_set() || super::tracing_disabled() {
        return None;
    }
    let span = tracing::info_span!(
        target: SPAN_TARGET,
        HANDLER_SPAN,
        otel.name = %format_args!("## {name}"),
        otel.kind = "internal",
        handler = name,
        otel.status_code = Empty,
        otel.status_description = Empty,
        error = Empty,
        error.type = Empty,
        early_response = Empty,
    );
    if span.is_disabled() { None } else { Some(span) }
}

pin_project! {
    /// A future whose panics mark `span` as failed (`error.type` `Panic`, the panic's
    /// message) before they go on unwinding. The caller polls it inside the span
    /// (`.instrument(span)`).
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::support::RecordPanic;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let span = tracing::Span::none();
    /// assert_eq!(RecordPanic::new(async { 7 }, &span).await, 7);
    /// # }
    /// ```
    pub struct RecordPanic<'s, F> {
        #[pin]
        future: F,
        span: &'s Span,
    }
}

impl<'s, F> RecordPanic<'s, F> {
    /// Wraps `future`; a panic in it marks `span`.
    pub fn new(future: F, span: &'s Span) -> Self {
        RecordPanic { future, span }
    }
}

impl<F: Future> Future for RecordPanic<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let future = this.future;
        match panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(poll) => poll,
            Err(payload) => {
                record_panic(this.span, &*payload);
                panic::resume_unwind(payload)
            }
        }
    }
}

/// Marks the span with how the middleware ended: `Ok(early)` (an early response when
/// `early` is true) or the error, as the `## name` spans are marked.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::support::record_outcome;
///
/// let span = tracing::Span::none();
/// record_outcome(&span, Ok(false));
/// record_outcome(&span, Err(&"declined".into()));
/// ```
pub fn record_outcome(span: &Span, outcome: Result<bool, &Error>) {
    match outcome {
        Ok(early) => {
            if early {
                span.record("early_response", true);
            }
            span.record("otel.status_code", "OK");
        }
        Err(error) => record_error(span, error.as_ref()),
    }
}

/// Marks the span as failed with `error`: its message and its type's name
/// ([`error_type`](crate::support::error_type)).
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::support::record_error;
///
/// let span = tracing::Span::none();
/// let error = std::io::Error::other("disk full");
/// record_error(&span, &error);
/// ```
pub fn record_error(span: &Span, error: &(dyn std::error::Error + Send + Sync + 'static)) {
    // Code first, then description: `tracing-opentelemetry` turns each into a status,
    // and the later one, `Error` with the message, must win.
    span.record("otel.status_code", "ERROR");
    span.record("otel.status_description", tracing::field::display(error));
    span.record("error", true);
    span.record("error.type", error_type(error));
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
