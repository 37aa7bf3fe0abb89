#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations)]

pub mod guide;

pub use lambda_middleware_core::*;
pub use lambda_middleware_observe::Tracer;

pub mod middlewares {
    //! The built-in middlewares, in one place: the ones Lambda developers reach for first.
    //!
    //! | middleware | what it does | feature | Powertools (Python) | Middy |
    //! |------------|--------------|---------|---------------------|-------|
    //! | [`CaptureLambdaHandler`], [`CaptureHttpHandler`] | the handler's own `## <name>` segment in the trace (named after the function unless told): `ColdStart` and `Service` annotations, the response — an HTTP one as status and headers, its body when JSON — or the error as metadata (see [Observability](crate::guide::observability)) | — | `@tracer.capture_lambda_handler` | Powertools for TypeScript's `captureLambdaHandler` |
    //! | [`InjectLambdaContext`] | a span with the request id, function name and version, X-Ray trace id and `cold_start` around everything inside it | — | `@logger.inject_lambda_context` | Powertools for TypeScript's `injectLambdaContext` |
    //! | [`LogEvent`] | logs the event (and the response), redacting JSON pointers (into base64 bodies too, header names in any case) and credential headers by default, capped in size | — | `log_event=True` with data masking | `input-output-logger` |
    //! | [`Metrics`] | CloudWatch metrics from anywhere in the invocation (`Metrics::current()`), written once at its end as EMF, also on error; several dimension sets, a timestamp, single metrics; `ColdStart`; a count of every invocation (`count_invocations`), early answers included | — | `Metrics` with `@metrics.log_metrics` | `cloudwatch-metrics` |
    //! | [`JsonLogger`](crate::observe::JsonLogger) (a `tracing` layer; [`observe::init`](crate::observe::init) sets it up) | JSON log lines with Powertools' keys and the invocation's context; the level in Powertools' order; log buffering (`LogBuffering`) | — | `Logger` | — |
    //! | [`CorrelationId`] | finds (by default the header, then `requestContext.requestId`, as Powertools' API Gateway path; or a JSON pointer) or makes a correlation id, records it and its source on the span, echoes it | — | `correlation_id_path` | — |
    //! | `Validator` | JSON Schema validation of the event and the response, compiled once | `validation` | `@validator` | `validator` |
    //! | [`HttpErrorHandler`] | errors become HTTP responses: 400, 404, 500 with the cause logged, not returned; with `json_error_responses`, the service's own error responses (axum's rejections and 404s) too | — | event handler exceptions | `http-error-handler` |
    //! | [`SecurityHeaders`] | the six headers of Powertools' "combining utilities" example, each overridable | — | middleware factory example | `http-security-headers` |
    //! | [`Cors`] | CORS headers, `Vary: Origin` on every answer that depends on it; preflight `OPTIONS` answered without the handler | — | `CORSConfig` | `http-cors` |
    //! | [`Warmup`] | a warmer's event answered without the handler | — | — | `warmup` |
    //! | `Timeout` | fails with a `TimeoutError` a margin before the Lambda deadline | `timeout` | — | `timeoutEarlyInMillis` |
    //! | `SqsBatch`, `KinesisBatch`, `DynamoDbStreamBatch`, `KafkaBatch` ([`Batch`]) | a batch processed record by record, each record through a chain of its own; only the failed records go back (`batchItemFailures`, with the identifier each source needs); FIFO: stop, or skip only the failed group | `sqs`, `kinesis`, `dynamodb_streams`, `kafka` | `BatchProcessor` with `process_partial_response`, `SqsFifoPartialProcessor` | `sqs-partial-batch-failure` |
    //! | `Idempotent` | the handler runs once per idempotency key; repeats get its stored response, repeats in flight an `AlreadyInProgress` error (see [Idempotency](crate::guide::idempotent_payments)) | `idempotency`, `dynamodb` | `@idempotent` | — |
    //! | `LoadConfig` (a transform, in `parameters`) | configuration and secrets from SSM, Secrets Manager, AppConfig or DynamoDB, through one cache for every invocation, handed to the handler as a typed struct (see [Parameters](crate::guide::parameters)) | `parameters`, `ssm`, `secrets`, `appconfig`, `parameters-dynamodb` | Parameters (`get_parameter`, `get_secret`, …) | `ssm`, `secrets-manager`, `appconfig`, `dynamodb` |
    //! | [`Parse`] (a transform) | the event, or the JSON in an envelope of it, parsed into the handler's type; a `ParseError` naming the path otherwise (a 400 behind `HttpErrorHandler`). The batch envelopes (`SqsBodies`, `KinesisData`, …) are all or nothing — one malformed record fails the invocation; in a batch's record chain, the one-record envelopes (`SqsBody`, `KinesisRecordData`, `DynamoDbNewImage`, `KafkaValue`) fail that record only | — | `event_parser(model=..., envelope=...)`; Powertools' JMESPath envelopes as they are with `jmespath` | `http-json-body-parser` |
    //! | [`JsonResponse`] (a transform) | the handler's `Serialize` value as an HTTP response: status, JSON content type, body | — | — | `http-response-serializer` |
    //!
    //! Each lives in a crate of its own (see the crate's front page, "The crates"); this
    //! module gathers them so that one `use` finds any of them.
    //!
    //! ```
    //! use lambda_middleware::middlewares::{Cors, CorsParams, HttpErrorHandler, HttpErrorHandlerParams, NotFound};
    //! use lambda_middleware::{Context, Error, Handler};
    //! use serde_json::{Value, json};
    //!
    //! async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
    //!     match event["pathParameters"]["id"].as_str() {
    //!         Some("42") => Ok(json!({ "statusCode": 200, "body": "{\"id\":42}" })),
    //!         _ => Err(NotFound::new("no such booking").into()),
    //!     }
    //! }
    //!
    //! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    //! let handler = Handler::builder()
    //!     .middleware_with(Cors, CorsParams::builder().allow_origins(["https://example.com"]).build())
    //!     .middleware_with(HttpErrorHandler, HttpErrorHandlerParams::builder().build())
    //!     .handler(handler)?;
    //!
    //! let event = json!({ "httpMethod": "GET", "pathParameters": { "id": "7" } });
    //! let response = handler.invoke_with(event, &Context::default()).await?;
    //! assert_eq!(response["statusCode"], 404);
    //! assert_eq!(response["body"], r#"{"message":"no such booking"}"#);
    //! # Ok(()) }
    //! ```

    pub use lambda_middleware_core::JsonPointer;
    #[cfg(feature = "timeout")]
    #[cfg_attr(docsrs, doc(cfg(feature = "timeout")))]
    pub use lambda_middleware_core::timeout::{Timeout, TimeoutError, TimeoutParams};
    pub use lambda_middleware_data::*;
    pub use lambda_middleware_http::*;
    pub use lambda_middleware_observe::{
        CaptureHttpHandler, CaptureLambdaHandler, CaptureLambdaHandlerParams, DEFAULT_REDACTED_HEADERS,
        InjectLambdaContext, LogEvent, LogEventParams, Metrics, MetricsParams,
    };

    /// Powertools' idempotency (feature `idempotency`): the handler runs once per
    /// idempotency key; repeats get the stored response. The `lambda-middleware-idempotency`
    /// crate, re-exported.
    #[cfg(feature = "idempotency")]
    #[cfg_attr(docsrs, doc(cfg(feature = "idempotency")))]
    pub mod idempotency {
        #[doc(inline)]
        pub use lambda_middleware_idempotency::*;
    }
    #[cfg(feature = "idempotency")]
    #[cfg_attr(docsrs, doc(cfg(feature = "idempotency")))]
    pub use idempotency::{IdempotencyParams, Idempotent};
}

/// Powertools' JMESPath (feature `jmespath`): expressions with `powertools_json`,
/// `powertools_base64` and `powertools_base64_gzip`, and Powertools' named envelopes —
/// the `lambda-middleware-jmespath` crate, re-exported. They key idempotency records
/// (`EventPart::jmespath`) and open events for `Parse` (`JmesPath` is an `Envelope`).
///
/// ```
/// use lambda_middleware::jmespath::{JmesPath, envelopes};
/// use lambda_middleware::middlewares::{Envelope, Parse};
///
/// #[derive(serde::Deserialize)]
/// struct Order { id: u64 }
///
/// // Powertools: `@event_parser(model=Order, envelope=envelopes.SQS)` — all or nothing.
/// let parse = Parse::<Vec<Order>>::in_envelope(JmesPath::new(envelopes::SQS)?);
/// let event = serde_json::json!({ "Records": [{ "body": "{\"id\": 7}" }] });
/// let orders: Vec<Order> = JmesPath::new(envelopes::SQS)?.open(event)?;
/// assert_eq!(orders[0].id, 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "jmespath")]
#[cfg_attr(docsrs, doc(cfg(feature = "jmespath")))]
pub mod jmespath {
    #[doc(inline)]
    pub use lambda_middleware_jmespath::*;
}

/// Powertools' Parameters (feature `parameters`; each AWS provider has its own:
/// `ssm`, `secrets`, `appconfig`, `parameters-dynamodb`): providers, one cache for every
/// invocation, the plain API and [`LoadConfig`](crate::parameters::LoadConfig). The
/// `lambda-middleware-parameters` crate, re-exported; see the
/// [Parameters guide](crate::guide::parameters).
#[cfg(feature = "parameters")]
#[cfg_attr(docsrs, doc(cfg(feature = "parameters")))]
pub mod parameters {
    #[doc(inline)]
    pub use lambda_middleware_parameters::*;
}

pub mod observe {
    //! Logs, metrics and traces as Powertools writes them: the `lambda-middleware-observe`
    //! crate, re-exported.
    //!
    //! | variable | read by | meaning | default |
    //! |----------|---------|---------|---------|
    //! | `AWS_LAMBDA_LOG_FORMAT` | [`init`] | `JSON`: [`JsonLogger`] lines; `Text`: text lines | `Text` |
    //! | `POWERTOOLS_LOG_LEVEL` | [`LogLevel`] | the level: `TRACE`, `DEBUG`, `INFO`, `WARN`/`WARNING`, `ERROR`/`CRITICAL`/`FATAL`; a level in code beats it | `INFO` |
    //! | `AWS_LAMBDA_LOG_LEVEL` | [`LogLevel`] | the same, from Lambda's logging controls; it wins over both | none |
    //! | `POWERTOOLS_LOGGER_SAMPLE_RATE` | [`LogLevel`], [`JsonLogger`] | the fraction of invocations (0 to 1) logged at `DEBUG` | none |
    //! | `POWERTOOLS_LOGGER_LOG_EVENT` | [`LogEvent`] | `false` turns event logging off, `true` on | on |
    //! | `POWERTOOLS_SERVICE_NAME` | [`JsonLogger`], [`Metrics`] | the `service` key of log lines and the `service` dimension | `service_undefined` in logs, no dimension |
    //! | `POWERTOOLS_METRICS_NAMESPACE` | [`Metrics`] | the CloudWatch namespace | none: required, or the `namespace` param |
    //! | `POWERTOOLS_METRICS_FUNCTION_NAME` | [`Metrics`] | the `function_name` dimension of `ColdStart` | the function's name |
    //! | `POWERTOOLS_METRICS_DISABLED` | [`Metrics`] | a boolean: `true` writes no metrics | `false` |
    //! | `POWERTOOLS_DEV` | [`Metrics`] | a boolean: `true` writes no metrics either, unless `POWERTOOLS_METRICS_DISABLED` is `false` | `false` |
    //!
    //! ```
    //! // In `main`, before the runtime starts: JSON or text lines as Lambda's logging
    //! // controls ask (`AWS_LAMBDA_LOG_FORMAT`), at the level they set.
    //! lambda_middleware::observe::init().expect("the logging variables are valid");
    //! tracing::info!("ready");
    //! ```

    #[doc(inline)]
    pub use lambda_middleware_observe::*;
}

pub mod trace {
    //! Tracing each middleware: `## <name>` spans, what decides which middlewares get one,
    //! and X-Ray style annotations and metadata ([`Tracer`]).
    //!
    //! | variable | meaning | default |
    //! |----------|---------|---------|
    //! | `POWERTOOLS_TRACE_MIDDLEWARES` | trace every middleware that has no choice of its own (`1 y yes t true on` / `0 n no f false off`, any case; anything else is a [`BuildError`](crate::BuildError)) | off |
    //! | `POWERTOOLS_TRACE_DISABLED` | turn off all tracing: middleware spans, the handler's segment, `Tracer` annotations and metadata | off |
    //!
    //! The spans are the core's ([`lambda_middleware_core::trace`]); the `Tracer`, the
    //! handler's segment and the X-Ray exporter (`xray`, feature `xray`) are
    //! `lambda-middleware-observe`'s.
    //!
    //! ```
    //! use lambda_middleware::trace::{TRACE_MIDDLEWARES_ENV, Tracer};
    //!
    //! assert_eq!(TRACE_MIDDLEWARES_ENV, "POWERTOOLS_TRACE_MIDDLEWARES");
    //! // Inside an invocation: an indexed annotation on the current segment.
    //! Tracer::new().put_annotation("order_id", "o-17");
    //! ```

    pub use lambda_middleware_core::trace::*;
    #[doc(hidden)]
    pub use lambda_middleware_observe::Annotation;
    #[cfg(feature = "xray")]
    #[cfg_attr(docsrs, doc(cfg(feature = "xray")))]
    #[doc(inline)]
    pub use lambda_middleware_observe::xray;
    pub use lambda_middleware_observe::{
        ANNOTATION_TARGET, AnnotationValue, CAPTURE_ERROR_ENV, CAPTURE_RESPONSE_ENV, DEFAULT_NAMESPACE,
        METADATA_TARGET, SERVICE_NAME_ENV, Tracer, is_valid_annotation_key,
    };
}
