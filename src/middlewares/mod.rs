//! Built-in middlewares: the ones Lambda developers reach for first.
//!
//! | middleware | what it does | feature | Powertools (Python) | Middy |
//! |------------|--------------|---------|---------------------|-------|
//! | [`CaptureLambdaHandler`] | the handler's own `## <name>` segment: `ColdStart` and `Service` annotations, the response or the error as metadata | — | `@tracer.capture_lambda_handler` | Powertools for TypeScript's `captureLambdaHandler` |
//! | [`InjectLambdaContext`] | a span carrying the request id, function name and version, X-Ray trace id and cold start | — | `@logger.inject_lambda_context` | Powertools for TypeScript's `injectLambdaContext` |
//! | [`LogEvent`] | logs the event (and the response), redacting JSON pointers, capped in size | — | `inject_lambda_context(log_event=True)` with data masking | `@middy/input-output-logger` |
//! | [`Metrics`] | CloudWatch metrics from anywhere in the invocation ([`Metrics::current`]), written once at its end in the Embedded Metric Format, also on error; `ColdStart` | — | `Metrics` with `@metrics.log_metrics` | `@middy/cloudwatch-metrics` |
//! | [`observe::JsonLogger`](crate::observe::JsonLogger) (a `tracing` layer, not a middleware: [`observe::init`](crate::observe::init) sets it up) | JSON log lines with Powertools' keys, the context of `InjectLambdaContext` and `CorrelationId` on each | — | `Logger` | — |
//! | [`CorrelationId`] | finds or generates a correlation id, records it on the span, echoes it in a header | — | `inject_lambda_context(correlation_id_path=...)` | — |
//! | [`Validator`] | JSON Schema validation of the event and the response, schemas compiled once | `validation` | `@validator(inbound_schema=..., outbound_schema=...)` | `@middy/validator` |
//! | [`HttpErrorHandler`] | turns errors into HTTP responses: 400, 404, 500 with the cause hidden and logged | — | event handler's `exception_handler` | `@middy/http-error-handler` |
//! | [`SecurityHeaders`] | the six security headers of the "combining utilities" example | — | middleware factory example | `@middy/http-security-headers` |
//! | [`Cors`] | CORS headers, and preflight `OPTIONS` answered without the handler | — | event handler's `CORSConfig` | `@middy/http-cors` |
//! | [`Warmup`] | answers a warmer's event without the handler | — | — | `@middy/warmup` |
//! | [`Timeout`] | fails the invocation a margin before the Lambda deadline | `timeout` | — | `timeoutEarlyInMillis` |
//! | [`Parse`] | parses the event (or the JSON in an envelope of it: API Gateway and function URL bodies, EventBridge, SQS, SNS, Kinesis, a pointer) into the handler's type | — | `event_parser(model=..., envelope=...)` | `http-json-body-parser` |
//! | [`JsonResponse`] | serialises the handler's value into an HTTP response | — | — | `http-response-serializer` |
//! | [`SqsBatch`] | processes an SQS batch record by record, reports only the failed ones | `sqs` | `process_partial_response` | `@middy/sqs-partial-batch-failure` |
//! | [`Idempotent`] | runs the handler once per idempotency key and replays its stored response to repeats; in memory or on DynamoDB | `idempotency` (`dynamodb`) | `@idempotent` | — |
//!
//! The HTTP middlewares work on any event and response that implement [`HttpRequest`]
//! and [`HttpResponse`]: `serde_json::Value` (API Gateway's proxy payloads as JSON)
//! always, and aws_lambda_events' `ApiGatewayProxyRequest`/`Response` (REST APIs) and
//! `ApiGatewayV2httpRequest`/`Response` (HTTP APIs) with the `apigw` feature.
//!
//! # In which order?
//!
//! The first middleware added runs first on the way in and last on the way out. For an
//! HTTP function:
//!
//! ```text
//! Handler::builder()
//!     .middleware(InjectLambdaContext)   // outermost: every log line below carries the context
//!     .middleware_with(CorrelationId, ..) // the id is on the span before anything logs
//!     .middleware_with(Metrics, ..)       // metrics from everything inside, written once at the end
//!     .middleware_with(LogEvent, ..)
//!     .middleware_with(SecurityHeaders, ..) // outside the error handler: error responses get them too
//!     .middleware_with(Cors, ..)          // preflights answered here, before validation
//!     .middleware_with(HttpErrorHandler, ..) // sees the errors of everything inside it
//!     .middleware_with(Validator, ..)     // its violations become 400s
//!     .middleware_with(Timeout, ..)       // innermost: the handler's own time budget
//!     .handler(handler)
//! ```
//!
//! # Example
//!
//! ```
//! use lambda_middleware::middlewares::{
//!     Cors, CorsParams, HttpErrorHandler, HttpErrorHandlerParams, InjectLambdaContext, NotFound, SecurityHeaders,
//!     SecurityHeadersParams,
//! };
//! use lambda_middleware::{Context, Error, Handler};
//! use serde_json::{json, Value};
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
//!     .middleware(InjectLambdaContext)
//!     .middleware_with(SecurityHeaders, SecurityHeadersParams::builder().build())
//!     .middleware_with(Cors, CorsParams::builder().allow_origins(["https://example.com"]).build())
//!     .middleware_with(HttpErrorHandler, HttpErrorHandlerParams::builder().build())
//!     .handler(handler)?;
//!
//! let context = Context::default();
//! let event = json!({ "httpMethod": "GET", "pathParameters": { "id": "7" } });
//! let response = handler.invoke_with(event, &context).await?;
//! assert_eq!(response["statusCode"], 404);
//! assert_eq!(response["body"], r#"{"message":"no such booking"}"#);
//! assert_eq!(response["headers"]["X-Content-Type-Options"], "nosniff");
//! # Ok(()) }
//! ```

// The docs link to the middlewares behind features; those links resolve when the
// features are on (`cargo doc --all-features`, as docs.rs builds).
#![cfg_attr(
    not(all(
        feature = "validation",
        feature = "timeout",
        feature = "sqs",
        feature = "idempotency"
    )),
    allow(rustdoc::broken_intra_doc_links)
)]

mod capture_lambda_handler;
pub(crate) mod correlation_id;
mod cors;
mod http;
mod http_error_handler;
#[cfg(feature = "idempotency")]
#[cfg_attr(docsrs, doc(cfg(feature = "idempotency")))]
pub mod idempotency;
mod json_response;
pub(crate) mod lambda_context;
pub(crate) mod log_event;
mod parse;
mod pointer;
mod security_headers;
#[cfg(feature = "sqs")]
mod sqs_batch;
#[cfg(feature = "timeout")]
mod timeout;
#[cfg(feature = "validation")]
mod validator;
mod warmup;

/// The metrics middleware lives with the logger in [`observe`](crate::observe).
pub use crate::observe::{Metrics, MetricsParams};
pub use capture_lambda_handler::{CaptureLambdaHandler, CaptureLambdaHandlerParams};
pub use correlation_id::{CorrelationId, CorrelationIdFallback, CorrelationIdParams, CorrelationIdSource};
pub use cors::{Cors, CorsParams};
pub use http::{BuildHttpResponse, HttpRequest, HttpResponse};
pub use http_error_handler::{HttpError, HttpErrorHandler, HttpErrorHandlerParams, NotFound};
#[cfg(feature = "idempotency")]
#[cfg_attr(docsrs, doc(cfg(feature = "idempotency")))]
pub use idempotency::{IdempotencyParams, Idempotent};
pub use json_response::{JsonResponse, JsonResponseParams};
pub use lambda_context::InjectLambdaContext;
pub use log_event::{DEFAULT_REDACTED_HEADERS, LogEvent, LogEventParams};
pub use parse::{
    ApiGatewayBody, At, Envelope, EventBridgeDetail, FunctionUrlBody, KinesisData, Parse, ParseError, SnsInSqs,
    SnsMessage, SqsBodies, WholeEvent,
};
pub use pointer::JsonPointer;
pub use security_headers::{SecurityHeaders, SecurityHeadersParams};
#[cfg(feature = "sqs")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqs")))]
pub use sqs_batch::{SqsBatch, SqsBatchError};
#[cfg(feature = "timeout")]
#[cfg_attr(docsrs, doc(cfg(feature = "timeout")))]
pub use timeout::{Timeout, TimeoutError, TimeoutParams};
#[cfg(feature = "validation")]
#[cfg_attr(docsrs, doc(cfg(feature = "validation")))]
pub use validator::{
    Direction, ValidationError, ValidationSetupError, Validator, ValidatorParams, ValidatorSchemas, Violation,
};
pub use warmup::{Warmup, WarmupParams, is_serverless_plugin_warmup};
