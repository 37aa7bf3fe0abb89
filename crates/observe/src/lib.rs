#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations)]

mod buffer;
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

pub use buffer::{LogBuffering, flush_log_buffer};
pub use capture_lambda_handler::{
    CAPTURE_ERROR_ENV, CAPTURE_RESPONSE_ENV, CaptureHttpHandler, CaptureLambdaHandler, CaptureLambdaHandlerParams,
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
