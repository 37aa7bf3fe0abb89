//! HTTP middlewares for [lambda-middleware](https://docs.rs/lambda-middleware) chains, on
//! any API Gateway (REST or HTTP API) or function URL event.
//!
//! | middleware | what it does | Powertools (Python) | Middy |
//! |------------|--------------|---------------------|-------|
//! | [`CorrelationId`] | finds or generates a correlation id, records it on the span, echoes it in a header | `inject_lambda_context(correlation_id_path=...)` | — |
//! | [`HttpErrorHandler`] | turns errors into HTTP responses: 400, 404, 500 with the cause hidden and logged | event handler's `exception_handler` | `@middy/http-error-handler` |
//! | [`SecurityHeaders`] | the six security headers of the "combining utilities" example | middleware factory example | `@middy/http-security-headers` |
//! | [`Cors`] | CORS headers, and preflight `OPTIONS` answered without the handler | event handler's `CORSConfig` | `@middy/http-cors` |
//! | [`JsonResponse`] | serialises the handler's value into an HTTP response | — | `http-response-serializer` |
//!
//! They work on any event and response that implement [`HttpRequest`] and
//! [`HttpResponse`]: `serde_json::Value` (API Gateway's proxy payloads as JSON) always,
//! `lambda_http`'s request and response with the `http` feature, and aws_lambda_events'
//! `ApiGatewayProxyRequest`/`Response` (REST APIs) and
//! `ApiGatewayV2httpRequest`/`Response` (HTTP APIs) with the `apigw` feature.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations)]

mod correlation_id;
mod cors;
mod http_error_handler;
mod json_response;
mod security_headers;
mod traits;

pub use correlation_id::{CorrelationId, CorrelationIdFallback, CorrelationIdParams, CorrelationIdSource};
pub use cors::{Cors, CorsParams};
pub use http_error_handler::{HttpError, HttpErrorHandler, HttpErrorHandlerParams, NotFound};
pub use json_response::{JsonResponse, JsonResponseParams};
pub use security_headers::{SecurityHeaders, SecurityHeadersParams};
pub use traits::{BuildHttpResponse, HttpRequest, HttpResponse};
