//! The spans the logger reads the invocation from, told apart by name and target.

use tracing::Metadata;

use crate::lambda_context;
use lambda_middleware_core::trace::MIDDLEWARE_SPAN;

/// What a span is to the logger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpanKind {
    /// `InjectLambdaContext`'s: the context's fields, under Powertools' names.
    LambdaContext,
    /// `CorrelationId`'s own span, when there is no `lambda_context` span to record on.
    CorrelationId,
    /// `lambda_runtime`'s `Lambda runtime invoke`: `requestId` and `xrayTraceId`.
    RuntimeInvoke,
    /// Spans whose fields are not for log lines: the crate's `## name` middleware spans
    /// (their fields describe the span for OpenTelemetry and X-Ray) and
    /// `lambda_runtime`'s `worker` spans.
    Silent,
    /// Any other span: its fields go on the lines logged inside it.
    User,
}

/// The span `CorrelationId` (in `lambda-middleware-http`) opens when no
/// `InjectLambdaContext` span is there to record the id on: the name and target are the
/// contract between the two crates (the facade's logger tests hold them to it).
pub(crate) const CORRELATION_ID_SPAN: (&str, &str) =
    ("lambda_middleware::middlewares::correlation_id", "correlation_id");

/// The name of `lambda_runtime`'s span around each invocation.
const RUNTIME_INVOKE_SPAN: &str = "Lambda runtime invoke";

pub(crate) fn classify(metadata: &Metadata<'_>) -> SpanKind {
    let (name, target) = (metadata.name(), metadata.target());
    if target == lambda_context::SPAN_TARGET && name == lambda_context::SPAN_NAME {
        SpanKind::LambdaContext
    } else if (target, name) == CORRELATION_ID_SPAN {
        SpanKind::CorrelationId
    } else if target.starts_with("lambda_runtime") {
        if name == RUNTIME_INVOKE_SPAN {
            SpanKind::RuntimeInvoke
        } else {
            SpanKind::Silent
        }
    } else if name == MIDDLEWARE_SPAN && target.starts_with("lambda_middleware") {
        SpanKind::Silent
    } else {
        SpanKind::User
    }
}

/// A span that stands for one invocation: the sampling decision is made there.
pub(crate) fn is_invocation(metadata: &Metadata<'_>) -> bool {
    matches!(classify(metadata), SpanKind::LambdaContext | SpanKind::RuntimeInvoke)
}
