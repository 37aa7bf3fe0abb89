#![doc = include_str!("../README.md")]
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
