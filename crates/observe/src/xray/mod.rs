//! Traced middlewares as AWS X-Ray subsegments, sent straight to the X-Ray daemon
//! (feature `xray`).
//!
//! Add an [`XrayLayer`] to the `tracing` subscriber and turn on Active Tracing for the
//! function: every traced middleware shows in the trace as a `## name` subsegment
//! under the function's segment, nested like the chain, with the annotations and
//! metadata a [`Tracer`](crate::Tracer) put on it.
//!
//! ```no_run
//! use lambda_middleware::trace::xray::XrayLayer;
//! use tracing_subscriber::layer::SubscriberExt;
//! use tracing_subscriber::util::SubscriberInitExt;
//!
//! tracing_subscriber::registry().with(XrayLayer::from_env()).init();
//! ```
//!
//! | variable | meaning | default |
//! |----------|---------|---------|
//! | `AWS_XRAY_DAEMON_ADDRESS` | where the daemon listens: `host:port`, or `tcp:host:port udp:host:port` (Lambda sets it) | `127.0.0.1:2000` |
//! | `_X_AMZN_TRACE_ID` | the invocation's trace header, `Root=…;Parent=…;Sampled=…` (Lambda sets it per invocation, except under `run_concurrent`) | none: nothing is sent |
//!
//! # Where the trace comes from
//!
//! The layer needs the invocation's trace header, and learns it without any work in
//! the middleware chain:
//!
//! 1. `lambda_runtime::run` and `lambda_runtime::run_concurrent` run each invocation
//!    inside their `Lambda runtime invoke` span, whose `xrayTraceId` field is
//!    `Context::xray_trace_id`: every span opened inside it belongs to that trace.
//!    This is what makes concurrent invocations (where `_X_AMZN_TRACE_ID` is not set
//!    per invocation) land in their own traces. Any span with an `xrayTraceId` or
//!    `xray_trace_id` field works the same way, so a local run can use
//!    `lambda_runtime::layers::trace::request_span(&context)`.
//! 2. A middleware span opened outside of any such span reads `_X_AMZN_TRACE_ID`,
//!    which the one-at-a-time runtime sets before each invocation.
//!
//! A trace that is not sampled (`Sampled=0`, or no `Sampled=1`), a missing header or a
//! malformed one: nothing is sent for that invocation.
//!
//! # The documents
//!
//! One UDP datagram per closed span: the line `{"format": "json", "version": 1}`, a
//! newline, and a JSON subsegment with
//!
//! - `name`: the span's `otel.name` (`## <middleware>`) or its name, [sanitised](sanitise_name)
//!   to X-Ray's characters and cut to 200 characters;
//! - `id`: 16 random hex digits; `trace_id` from the header; `parent_id`: the id of
//!   the enclosing subsegment, or the header's `Parent` (the function's segment);
//! - `type: "subsegment"`, `start_time` and `end_time` in seconds since the epoch,
//!   with microseconds;
//! - `annotations`: those a [`Tracer`](crate::Tracer) put, and `early_response: true`
//!   for a middleware that answered early;
//! - `metadata`: by namespace, those a [`Tracer`](crate::Tracer) put, and the span's own
//!   `tracing` fields under `tracing`;
//! - on failure (`error = true`, or `otel.status_code = "ERROR"`): `fault: true` and
//!   `cause: {"exceptions": [{"id", "message", "type"}]}` from the span's
//!   `otel.status_description` and `error.type`.
//!
//! A datagram is at most [`MAX_DATAGRAM_BYTES`]: a larger document first loses its
//! metadata, then has its long strings cut, then loses its annotations — it is
//! re-serialised each time, so it is always valid JSON.

mod daemon;
mod document;
mod header;
mod layer;

pub use daemon::{DAEMON_ADDRESS_ENV, DEFAULT_DAEMON_ADDRESS, DaemonAddressError, udp_daemon_address};
pub use document::{DAEMON_HEADER, MAX_DATAGRAM_BYTES, MAX_NAME_CHARS, sanitise_name};
pub use header::{MAX_HEADER_LEN, TRACE_HEADER_ENV, TraceHeader};
pub use layer::XrayLayer;

use serde_json::Value;

/// A [`Tracer`](crate::Tracer) annotation, onto the current subsegment.
pub(crate) fn annotate_current(key: &str, value: Value) {
    layer::with_current_subsegment(|subsegment| {
        subsegment.annotations.insert(key.to_owned(), value);
    });
}

/// A [`Tracer`](crate::Tracer) metadata entry, onto the current subsegment.
pub(crate) fn add_metadata_to_current(namespace: &str, key: &str, value: Value) {
    layer::with_current_subsegment(|subsegment| subsegment.put_metadata(namespace, key, value));
}
