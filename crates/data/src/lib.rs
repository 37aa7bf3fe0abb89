#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations)]

mod batch;
mod parse;
#[cfg(feature = "validation")]
mod validator;
mod warmup;

pub use batch::{Batch, BatchError, BatchSource, FromRecord, OnRecordFailure, UnorderedSource};
#[cfg(feature = "dynamodb_streams")]
#[cfg_attr(docsrs, doc(cfg(feature = "dynamodb_streams")))]
pub use batch::{DynamoDbStreamBatch, DynamoDbStreams};
#[cfg(feature = "kafka")]
#[cfg_attr(docsrs, doc(cfg(feature = "kafka")))]
pub use batch::{Kafka, KafkaBatch, KafkaBatchItemFailure, KafkaBatchResponse, KafkaItemIdentifier};
#[cfg(feature = "kinesis")]
#[cfg_attr(docsrs, doc(cfg(feature = "kinesis")))]
pub use batch::{Kinesis, KinesisBatch};
#[cfg(feature = "sqs")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqs")))]
pub use batch::{Sqs, SqsBatch};
pub use parse::{
    ApiGatewayBody, At, DynamoDbNewImage, DynamoDbNewImages, DynamoDbOldImage, Envelope, EventBridgeDetail,
    FunctionUrlBody, KafkaValue, KinesisData, KinesisRecordData, Parse, ParseError, SnsInSqs, SnsMessage, SqsBodies,
    SqsBody, WholeEvent,
};
#[cfg(feature = "validation")]
#[cfg_attr(docsrs, doc(cfg(feature = "validation")))]
pub use validator::{
    Direction, ValidationError, ValidationSetupError, Validator, ValidatorParams, ValidatorSchemas, Violation,
};
pub use warmup::{Warmup, WarmupParams, is_serverless_plugin_warmup};
