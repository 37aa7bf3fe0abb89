//! Logs, metrics and traces as Powertools writes them: JSON log lines with the
//! invocation's keys ([`JsonLogger`]), CloudWatch metrics in the Embedded Metric Format
//! ([`Metrics`]), the subscriber Lambda's advanced logging controls expect, in one line
//! ([`init`]), X-Ray subsegments for the `## name` spans (`xray`, feature `xray`),
//! annotations and metadata ([`Tracer`]), and the middlewares that feed them:
//! [`InjectLambdaContext`], [`LogEvent`], [`CaptureLambdaHandler`] and [`Metrics`].
//!
//! | variable | read by | meaning | default |
//! |----------|---------|---------|---------|
//! | `AWS_LAMBDA_LOG_FORMAT` | [`init`] | `JSON`: [`JsonLogger`] lines; `Text`: text lines | `Text` |
//! | `POWERTOOLS_LOG_LEVEL` | [`LogLevel`] | the level: `TRACE`, `DEBUG`, `INFO`, `WARN`/`WARNING`, `ERROR`/`CRITICAL`/`FATAL` | `AWS_LAMBDA_LOG_LEVEL` |
//! | `AWS_LAMBDA_LOG_LEVEL` | [`LogLevel`] | the same, from Lambda's logging controls | `INFO` |
//! | `POWERTOOLS_LOGGER_SAMPLE_RATE` | [`LogLevel`], [`JsonLogger`] | the fraction of invocations (0 to 1) logged at `DEBUG` | none |
//! | `POWERTOOLS_LOGGER_LOG_EVENT` | [`LogEvent`] | `false` turns event logging off, `true` on | on |
//! | `POWERTOOLS_SERVICE_NAME` | [`JsonLogger`], [`Metrics`] | the `service` key of log lines and the `service` dimension | `service_undefined` in logs, no dimension |
//! | `POWERTOOLS_METRICS_NAMESPACE` | [`Metrics`] | the CloudWatch namespace | none: required, or the `namespace` param |
//! | `POWERTOOLS_METRICS_FUNCTION_NAME` | [`Metrics`] | the `function_name` dimension of `ColdStart` | the function's name |
//! | `POWERTOOLS_METRICS_DISABLED` | [`Metrics`] | a boolean: `true` writes no metrics | `false` |
//!
//! A variable set to a value that cannot be used is an error naming it
//! ([`InitError`] from `init`, `BuildError` from `.handler(..)`), never a panic or a
//! silent default.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations)]

mod capped;
mod capture_lambda_handler;
mod cold_start;
mod env;
mod fields;
mod init;
mod json;
mod lambda_context;
mod level;
mod log_event;
mod metrics;
mod spans;
mod time;
mod tracer;
#[cfg(feature = "xray")]
#[cfg_attr(docsrs, doc(cfg(feature = "xray")))]
pub mod xray;

pub use capture_lambda_handler::{
    CAPTURE_ERROR_ENV, CAPTURE_RESPONSE_ENV, CaptureLambdaHandler, CaptureLambdaHandlerParams,
};
pub use env::{
    InitError, LAMBDA_LOG_LEVEL_ENV, LOG_EVENT_ENV, LOG_FORMAT_ENV, LOG_LEVEL_ENV, METRICS_DISABLED_ENV,
    METRICS_FUNCTION_NAME_ENV, METRICS_NAMESPACE_ENV, SAMPLE_RATE_ENV,
};
pub use init::{LogFormat, Setup, init};
pub use json::{JsonLogger, UNDEFINED_SERVICE};
pub use lambda_context::InjectLambdaContext;
pub use level::LogLevel;
pub use log_event::{DEFAULT_REDACTED_HEADERS, LogEvent, LogEventParams};
pub use metrics::{
    EmfOutput, InvocationMetrics, MetricResolution, MetricUnit, Metrics, MetricsError, MetricsParams, UnknownUnit,
};
#[doc(hidden)]
pub use tracer::Annotation;
pub use tracer::{
    ANNOTATION_TARGET, AnnotationValue, DEFAULT_NAMESPACE, METADATA_TARGET, SERVICE_NAME_ENV, Tracer,
    is_valid_annotation_key,
};
