//! Logs and metrics as Powertools writes them: JSON log lines with the invocation's
//! keys ([`JsonLogger`]), CloudWatch metrics in the Embedded Metric Format
//! ([`Metrics`]), and the subscriber Lambda's advanced logging controls expect, in one
//! line ([`init`]).
//!
//! | variable | read by | meaning | default |
//! |----------|---------|---------|---------|
//! | `AWS_LAMBDA_LOG_FORMAT` | [`init`] | `JSON`: [`JsonLogger`] lines; `Text`: text lines | `Text` |
//! | `POWERTOOLS_LOG_LEVEL` | [`LogLevel`] | the level: `TRACE`, `DEBUG`, `INFO`, `WARN`/`WARNING`, `ERROR`/`CRITICAL`/`FATAL` | `AWS_LAMBDA_LOG_LEVEL` |
//! | `AWS_LAMBDA_LOG_LEVEL` | [`LogLevel`] | the same, from Lambda's logging controls | `INFO` |
//! | `POWERTOOLS_LOGGER_SAMPLE_RATE` | [`LogLevel`], [`JsonLogger`] | the fraction of invocations (0 to 1) logged at `DEBUG` | none |
//! | `POWERTOOLS_LOGGER_LOG_EVENT` | [`LogEvent`](crate::middlewares::LogEvent) | `false` turns event logging off, `true` on | on |
//! | `POWERTOOLS_SERVICE_NAME` | [`JsonLogger`], [`Metrics`] | the `service` key of log lines and the `service` dimension | `service_undefined` in logs, no dimension |
//! | `POWERTOOLS_METRICS_NAMESPACE` | [`Metrics`] | the CloudWatch namespace | none: required, or the `namespace` param |
//! | `POWERTOOLS_METRICS_FUNCTION_NAME` | [`Metrics`] | the `function_name` dimension of `ColdStart` | the function's name |
//! | `POWERTOOLS_METRICS_DISABLED` | [`Metrics`] | a boolean: `true` writes no metrics | `false` |
//!
//! A variable set to a value that cannot be used is an error naming it
//! ([`InitError`] from `init`, `BuildError` from `.handler(..)`), never a panic or a
//! silent default.

mod env;
mod fields;
mod init;
mod json;
mod level;
mod metrics;
mod spans;
mod time;

pub use env::{
    InitError, LAMBDA_LOG_LEVEL_ENV, LOG_EVENT_ENV, LOG_FORMAT_ENV, LOG_LEVEL_ENV, METRICS_DISABLED_ENV,
    METRICS_FUNCTION_NAME_ENV, METRICS_NAMESPACE_ENV, SAMPLE_RATE_ENV,
};
pub use init::{LogFormat, Setup, init};
pub use json::{JsonLogger, UNDEFINED_SERVICE};
pub use level::LogLevel;
pub use metrics::{
    EmfOutput, InvocationMetrics, MetricResolution, MetricUnit, Metrics, MetricsError, MetricsParams, UnknownUnit,
};
