//! Tracing each middleware: `## <name>` spans, and what decides which middlewares get one.
//!
//! | variable | meaning | default |
//! |----------|---------|---------|
//! | `POWERTOOLS_TRACE_MIDDLEWARES` | trace every middleware that has no choice of its own (`1 y yes t true on` / `0 n no f false off`, any case; anything else is a [`BuildError`](crate::BuildError)) | off |
//! | `POWERTOOLS_TRACE_DISABLED` | turn off all of the crate's tracing: middleware spans, the handler's segment, `Tracer` annotations and metadata (same spellings; see [`tracing_disabled`]) | off |
//!
//! A traced middleware runs inside a `tracing` span named `middleware` whose
//! `otel.name` field is `## <name>` (so `tracing-opentelemetry` exports it under that
//! name) and whose `middleware` field is the plain name. The span covers the whole
//! middleware, inner layers and handler included, so traced middlewares nest like
//! the chain. A failure sets `otel.status_code = "ERROR"`, `error = true`, the message
//! and the error's type; an early response sets `early_response = true`.
//!
//! With `tracing-opentelemetry` the spans reach any OpenTelemetry backend under their
//! `## name`; the `lambda-middleware-observe` crate sends them to X-Ray as subsegments
//! and adds X-Ray style annotations and metadata (`Tracer`).

pub(crate) mod choice;
pub(crate) mod env;
pub(crate) mod span;

pub use choice::{Auto, TraceChoice, Traced, Untraced};
pub use env::{
    TRACE_DISABLED_ENV, TRACE_MIDDLEWARES_ENV, bool_from_env, parse_bool_env, trace_disabled_from_env,
    trace_middlewares_from_env, tracing_disabled,
};
pub use span::{HANDLER_SPAN, MIDDLEWARE_SPAN};
