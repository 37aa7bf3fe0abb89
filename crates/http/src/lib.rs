#![doc = include_str!("../README.md")]
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
