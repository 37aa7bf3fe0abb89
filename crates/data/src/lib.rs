//! Data in for [lambda-middleware](https://docs.rs/lambda-middleware) chains: what
//! arrives in an event, read into the handler's types and checked before the handler
//! sees it.
//!
//! | middleware | what it does | feature | Powertools (Python) | Middy |
//! |------------|--------------|---------|---------------------|-------|
//! | [`Parse`] | parses the event (or the JSON in an envelope of it: API Gateway and function URL bodies, EventBridge, SQS, SNS, Kinesis, a pointer) into the handler's type | — | `event_parser(model=..., envelope=...)` | `http-json-body-parser` |
//! | `Validator` | JSON Schema validation of the event and the response, schemas compiled once | `validation` | `@validator(inbound_schema=..., outbound_schema=...)` | `@middy/validator` |
//! | `SqsBatch` | processes an SQS batch record by record, reports only the failed ones | `sqs` | `process_partial_response` | `@middy/sqs-partial-batch-failure` |
//! | [`Warmup`] | answers a warmer's event without the handler | — | — | `@middy/warmup` |
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations)]

mod parse;
#[cfg(feature = "sqs")]
mod sqs_batch;
#[cfg(feature = "validation")]
mod validator;
mod warmup;

pub use parse::{
    ApiGatewayBody, At, Envelope, EventBridgeDetail, FunctionUrlBody, KinesisData, Parse, ParseError, SnsInSqs,
    SnsMessage, SqsBodies, WholeEvent,
};
#[cfg(feature = "sqs")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqs")))]
pub use sqs_batch::{SqsBatch, SqsBatchError};
#[cfg(feature = "validation")]
#[cfg_attr(docsrs, doc(cfg(feature = "validation")))]
pub use validator::{
    Direction, ValidationError, ValidationSetupError, Validator, ValidatorParams, ValidatorSchemas, Violation,
};
pub use warmup::{Warmup, WarmupParams, is_serverless_plugin_warmup};
