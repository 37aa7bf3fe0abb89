//! [`Batch`]: a batch from any stream or queue Lambda reads, processed record by record,
//! with only the failed records reported back (`batchItemFailures`).

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use futures_util::StreamExt as _;
use lambda_runtime::{Context, Error, LambdaEvent};
use tracing::Instrument;

use lambda_middleware_core::Handler;
use lambda_middleware_core::InvocationError;
use lambda_middleware_core::chain::{Accept, Chain};

#[cfg(feature = "dynamodb_streams")]
mod dynamodb;
#[cfg(feature = "kafka")]
mod kafka;
#[cfg(feature = "kinesis")]
mod kinesis;
#[cfg(feature = "sqs")]
mod sqs;

#[cfg(feature = "dynamodb_streams")]
#[cfg_attr(docsrs, doc(cfg(feature = "dynamodb_streams")))]
pub use dynamodb::{DynamoDbStreamBatch, DynamoDbStreams};
#[cfg(feature = "kafka")]
#[cfg_attr(docsrs, doc(cfg(feature = "kafka")))]
pub use kafka::{Kafka, KafkaBatch, KafkaBatchItemFailure, KafkaBatchResponse, KafkaItemIdentifier};
#[cfg(feature = "kinesis")]
#[cfg_attr(docsrs, doc(cfg(feature = "kinesis")))]
pub use kinesis::{Kinesis, KinesisBatch};
#[cfg(feature = "sqs")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqs")))]
pub use sqs::{Sqs, SqsBatch};

/// Where a batch comes from: how its records are listed, what each failed record is
/// reported by, which records must keep their order, and the response Lambda reads.
///
/// Implemented by [`Sqs`], [`Kinesis`], [`DynamoDbStreams`] and [`Kafka`] (each behind
/// its feature); implement it for another source that answers with `batchItemFailures`.
///
/// ```
/// use lambda_middleware::middlewares::{Batch, BatchSource, OnRecordFailure};
/// use lambda_middleware::{Context, Error, Handler};
///
/// /// A queue of my own: `{"jobs": [{"id": "j-1", "tenant": "a"}, ..]}`.
/// struct Jobs;
///
/// impl BatchSource for Jobs {
///     type Event = serde_json::Value;
///     type Record = serde_json::Value;
///     type Id = String;
///     type Response = Vec<String>;
///     const NAME: &'static str = "jobs";
///     const ID_FIELD: &'static str = "id";
///
///     fn records(mut event: serde_json::Value) -> Vec<serde_json::Value> {
///         match event["jobs"].take() {
///             serde_json::Value::Array(jobs) => jobs,
///             _ => Vec::new(),
///         }
///     }
///     fn id(record: &serde_json::Value) -> Option<String> {
///         record["id"].as_str().map(str::to_owned)
///     }
///     fn group(record: &serde_json::Value) -> Option<String> {
///         record["tenant"].as_str().map(str::to_owned)
///     }
///     fn respond(failed: Vec<String>) -> Vec<String> {
///         failed
///     }
/// }
///
/// async fn run(job: serde_json::Value, _: &Context) -> Result<(), Error> {
///     if job["fail"] == true { Err("job failed".into()) } else { Ok(()) }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let batch = Batch::<Jobs, _>::new(Handler::builder().handler(run)?).on_failure(OnRecordFailure::SkipGroup);
/// let event = serde_json::json!({ "jobs": [
///     { "id": "j-1", "tenant": "a", "fail": true },
///     { "id": "j-2", "tenant": "b" },
///     { "id": "j-3", "tenant": "a" },
/// ]});
/// assert_eq!(batch.process(event, &Context::default()).await?, ["j-1", "j-3"]);
/// # Ok(()) }
/// ```
pub trait BatchSource: Send + Sync + 'static {
    /// The event Lambda sends: `SqsEvent`, `KinesisEvent`, ….
    type Event: Send + 'static;
    /// One record of it.
    type Record: Send + 'static;
    /// What a failed record is reported by (`itemIdentifier`).
    type Id: fmt::Display + Send + Sync + 'static;
    /// The answer Lambda reads: `{"batchItemFailures": [{"itemIdentifier": ..}, ..]}`.
    type Response: Send + 'static;
    /// The source's name in logs and errors: `SQS`, `Kinesis`, ….
    const NAME: &'static str;
    /// Where the identifier is in a record, for errors: `messageId`, ….
    const ID_FIELD: &'static str;

    /// The records of `event`, in the order they must be processed.
    fn records(event: Self::Event) -> Vec<Self::Record>;

    /// The identifier a failure of `record` is reported by; `None` when it has none.
    fn id(record: &Self::Record) -> Option<Self::Id>;

    /// The ordered group `record` belongs to (an SQS FIFO `MessageGroupId`, a Kinesis
    /// shard, a Kafka topic-partition), for [`OnRecordFailure::SkipGroup`]. `None`: its own.
    fn group(record: &Self::Record) -> Option<String> {
        let _ = record;
        None
    }

    /// What the batch does after a failure when [`Batch::on_failure`] did not say.
    /// [`OnRecordFailure::ProcessRest`] unless the source says otherwise (SQS FIFO queues).
    fn default_on_failure(records: &[Self::Record]) -> OnRecordFailure {
        let _ = records;
        OnRecordFailure::ProcessRest
    }

    /// The response listing `failed`, in record order.
    fn respond(failed: Vec<Self::Id>) -> Self::Response;
}

/// Sources whose records may be processed concurrently: order does not matter between
/// them (SQS standard queues). A FIFO batch is processed in order all the same.
///
/// ```
/// use lambda_middleware::middlewares::{Sqs, UnorderedSource};
///
/// fn concurrent<S: UnorderedSource>() {}
/// concurrent::<Sqs>();
/// ```
pub trait UnorderedSource: BatchSource {}

/// What a batch does with the records after one fails.
///
/// ```
/// use lambda_middleware::middlewares::{OnRecordFailure, SqsBatch};
/// use lambda_middleware::{Context, Error, Handler};
/// # async fn process(_: aws_lambda_events::sqs::SqsMessage, _: &Context) -> Result<(), Error> { Ok(()) }
///
/// // Powertools' `SqsFifoPartialProcessor(skip_group_on_error=True)`.
/// let batch = SqsBatch::new(Handler::builder().handler(process)?).on_failure(OnRecordFailure::SkipGroup);
/// # Ok::<(), lambda_middleware::BuildError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OnRecordFailure {
    /// Process every other record; report each one that failed (standard SQS, streams,
    /// Kafka). On a stream, Lambda checkpoints at the lowest reported sequence number
    /// and sends every record after it again, the processed ones included.
    ProcessRest,
    /// Stop at the first failure: report it and every record after it, unprocessed
    /// (SQS FIFO queues, Powertools' `SqsFifoPartialProcessor`).
    SkipRest,
    /// Report the later records of the failed record's group (`MessageGroupId`, shard,
    /// topic-partition) unprocessed and go on with the other groups (Powertools'
    /// `skip_group_on_error=True`). A record with no group is a group of its own.
    SkipGroup,
}

/// The batch could not be answered record by record.
///
/// ```
/// use lambda_middleware::middlewares::BatchError;
///
/// let error = BatchError::MissingIdentifier { kind: "SQS", field: "messageId", index: 3 };
/// assert_eq!(
///     error.to_string(),
///     "record 3 of the SQS batch failed and has no messageId to report it by; failing the whole batch",
/// );
/// let error: lambda_middleware::Error = error.into();
/// assert_eq!(lambda_middleware::support::error_type(error.as_ref()), "BatchError");
/// ```
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// A record failed and has no identifier, so it cannot be reported alone.
    #[error("record {index} of the {kind} batch failed and has no {field} to report it by; failing the whole batch")]
    MissingIdentifier {
        /// The source: `SQS`, `Kinesis`, ….
        kind: &'static str,
        /// The identifier it lacks: `messageId`, ….
        field: &'static str,
        /// Its position in the batch, from 0.
        index: usize,
    },
    /// Every record failed, and [`Batch::raise_on_entire_batch_failure`] asked for the
    /// invocation to fail then.
    #[error("all {records} records of the {kind} batch failed; failing the whole batch")]
    EntireBatchFailed {
        /// The source: `SQS`, `Kinesis`, ….
        kind: &'static str,
        /// How many records the batch had.
        records: usize,
    },
}

/// `BatchError(MissingIdentifier { .. })`: the enum's name first, so that Lambda's
/// `errorType` ([`error_type`](lambda_middleware_core::support::error_type)) is
/// `BatchError` whatever the variant.
impl fmt::Debug for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchError::MissingIdentifier { kind, field, index } => write!(
                f,
                "BatchError(MissingIdentifier {{ kind: {kind:?}, field: {field:?}, index: {index} }})"
            ),
            BatchError::EntireBatchFailed { kind, records } => {
                write!(
                    f,
                    "BatchError(EntireBatchFailed {{ kind: {kind:?}, records: {records} }})"
                )
            }
        }
    }
}

/// A record as the record chain takes it: the source's typed record itself, or its
/// JSON (`serde_json::Value`), for chains of JSON middlewares such as
/// [`Parse`](crate::Parse) with [`At`](crate::At), `Validator` or `LogEvent`.
///
/// Implemented for each source's record both ways; a [`BatchSource`] of your own with
/// records of your own type implements `FromRecord<Record> for Record`.
///
/// ```
/// use aws_lambda_events::sqs::SqsMessage;
/// use lambda_middleware::middlewares::FromRecord;
///
/// let mut message = SqsMessage::default();
/// message.message_id = Some("m-1".into());
/// let json = serde_json::Value::from_record(message).unwrap();
/// assert_eq!(json["messageId"], "m-1");
/// ```
#[diagnostic::on_unimplemented(
    message = "a batch of `{R}` records cannot hand its records to a chain that takes `{Self}`",
    label = "this record chain takes `{Self}`",
    note = "a batch's record chain takes the source's record (`{R}`) or its JSON (`serde_json::Value`)"
)]
pub trait FromRecord<R>: Sized {
    /// The record in this form.
    ///
    /// # Errors
    ///
    /// When the record does not serialise to JSON (never for aws_lambda_events' records).
    fn from_record(record: R) -> Result<Self, Error>;
}

/// A source of JSON records hands them on as they are.
impl FromRecord<serde_json::Value> for serde_json::Value {
    #[inline]
    fn from_record(record: serde_json::Value) -> Result<Self, Error> {
        Ok(record)
    }
}

#[cfg_attr(
    not(any(
        feature = "sqs",
        feature = "kinesis",
        feature = "dynamodb_streams",
        feature = "kafka"
    )),
    allow(unused_macros)
)]
macro_rules! record_forms {
    ($record:ty) => {
        impl $crate::batch::FromRecord<$record> for $record {
            #[inline]
            fn from_record(record: $record) -> Result<Self, lambda_runtime::Error> {
                Ok(record)
            }
        }

        impl $crate::batch::FromRecord<$record> for serde_json::Value {
            fn from_record(record: $record) -> Result<Self, lambda_runtime::Error> {
                Ok(serde_json::to_value(record)?)
            }
        }
    };
}
#[cfg_attr(
    not(any(
        feature = "sqs",
        feature = "kinesis",
        feature = "dynamodb_streams",
        feature = "kafka"
    )),
    allow(unused_imports)
)]
pub(crate) use record_forms;

/// Processes a batch of any source one record at a time and answers with the
/// identifiers of the records that failed (`batchItemFailures`), so that only those are
/// retried — Powertools' `BatchProcessor` with `process_partial_response`, Middy's
/// `sqs-partial-batch-failure`.
///
/// | source | alias | feature | reported by | after a failure, by default |
/// |--------|-------|---------|-------------|-----------------------------|
/// | [`Sqs`] | [`SqsBatch`] | `sqs` | `messageId` | the rest are processed; on a FIFO queue (ARN ending in `.fifo`) they are reported unprocessed |
/// | [`Kinesis`] | [`KinesisBatch`] | `kinesis` | `kinesis.sequenceNumber` | the rest are processed |
/// | [`DynamoDbStreams`] | [`DynamoDbStreamBatch`] | `dynamodb_streams` | `dynamodb.SequenceNumber` | the rest are processed |
/// | [`Kafka`] | [`KafkaBatch`] | `kafka` | `{"partition": "<topic>-<partition>", "offset": <offset>}` | the rest are processed |
///
/// # The record chain
///
/// A middleware runs the rest of its chain at most once per invocation; a batch needs
/// its record logic run once per record. So the record logic is a [`Handler`] of its
/// own, with any middlewares around it — they run per record: `Idempotent` makes each
/// record idempotent, `Timeout` fails the records that would cross the deadline, and
/// [`Parse`](crate::Parse) reads each record's payload into your type, a record that
/// does not parse failing alone (the path and serde's message are logged). The chain
/// takes the source's typed record (`SqsMessage`, …) or its JSON (`serde_json::Value`,
/// see [`FromRecord`]).
///
/// # What is reported
///
/// - A record whose chain returns `Err` is reported by its identifier, and the error is
///   logged with `tracing::warn!`. Each record runs in a `batch_record` span carrying
///   `source` and `item_identifier`.
/// - What happens to the records after a failure: [`on_failure`](Batch::on_failure).
/// - An empty batch succeeds with no failures. When every record failed, the response
///   lists them all, unless [`raise_on_entire_batch_failure`](Batch::raise_on_entire_batch_failure)
///   asks for the invocation to fail ([`BatchError::EntireBatchFailed`]).
/// - A failed record without an identifier cannot be reported: the whole invocation
///   fails with [`BatchError::MissingIdentifier`] and Lambda retries the whole batch.
///
/// The event source mapping needs `FunctionResponseTypes: ["ReportBatchItemFailures"]`;
/// without it Lambda ignores the response and retries the whole batch on any error.
///
/// # Streams: what processing the later records means
///
/// On Kinesis and DynamoDB Streams Lambda checkpoints at the *lowest* reported sequence
/// number and sends every record from there again, the ones processed after it
/// included. Powertools processes them all the same, and so does the batch by default:
/// make the record chain idempotent (`Idempotent` per record) so that a record sent again
/// is not applied twice, or choose [`OnRecordFailure::SkipRest`] to stop at the first
/// failure of the shard, so that each record is applied once, at the cost of retrying the
/// batch's tail.
///
/// # Example
///
/// ```
/// use aws_lambda_events::sqs::SqsEvent;
/// use lambda_middleware::middlewares::{Parse, SqsBatch, SqsBody};
/// use lambda_middleware::{Context, Error, Handler};
/// use lambda_runtime::LambdaEvent;
///
/// #[derive(serde::Deserialize)]
/// struct Order { id: u64 }
///
/// async fn process(order: Order, _: &Context) -> Result<(), Error> {
///     if order.id == 13 { return Err("unlucky".into()) }
///     Ok(())
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let records = Handler::builder().transform(Parse::<Order>::in_envelope(SqsBody)).handler(process)?;
/// let batch = SqsBatch::new(records);
/// // In a Lambda function: `lambda_runtime::run(batch).await`. Here: once, locally.
///
/// let event: SqsEvent = serde_json::from_value(serde_json::json!({ "Records": [
///     { "messageId": "m-1", "body": "{\"id\": 1}" },
///     { "messageId": "m-2", "body": "not json" },
///     { "messageId": "m-3", "body": "{\"id\": 13}" },
/// ]}))?;
/// let response = batch.invoke(LambdaEvent::new(event, Context::default())).await?;
/// let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
/// assert_eq!(failed, ["m-2", "m-3"]);
/// # Ok(()) }
/// ```
///
/// With middlewares around the whole batch, [`process`](Batch::process) runs it inside a
/// handler of your own:
///
/// ```
/// use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
/// use lambda_middleware::middlewares::{InjectLambdaContext, SqsBatch};
/// use lambda_middleware::{Context, Error, Handler};
/// use lambda_runtime::LambdaEvent;
///
/// async fn process(message: SqsMessage, _: &Context) -> Result<(), Error> {
///     Ok(())
/// }
///
/// # fn main() -> Result<(), Error> {
/// let batch = SqsBatch::new(Handler::builder().handler(process)?);
/// let handler = Handler::builder().middleware(InjectLambdaContext).handler(move |event: LambdaEvent<SqsEvent>| {
///     let batch = batch.clone();
///     async move { Ok::<SqsBatchResponse, Error>(batch.process(event.payload, &event.context).await?) }
/// })?;
/// // lambda_runtime::run(handler).await
/// # Ok(()) }
/// ```
pub struct Batch<S, C> {
    records: Handler<C>,
    on_failure: Option<OnRecordFailure>,
    concurrency: usize,
    raise_on_entire_batch_failure: bool,
    _source: PhantomData<fn() -> S>,
}

impl<S: BatchSource, C> Batch<S, C> {
    /// A batch processor that runs `records` on each record.
    ///
    /// ```
    /// use aws_lambda_events::kinesis::KinesisEventRecord;
    /// use lambda_middleware::middlewares::KinesisBatch;
    /// use lambda_middleware::{Context, Error, Handler};
    ///
    /// async fn process(_: KinesisEventRecord, _: &Context) -> Result<(), Error> { Ok(()) }
    ///
    /// let batch = KinesisBatch::new(Handler::builder().handler(process)?);
    /// # Ok::<(), lambda_middleware::BuildError>(())
    /// ```
    pub fn new(records: Handler<C>) -> Self
    where
        // Here rather than only where the batch runs, so that a chain of another event
        // type is refused where the batch is made, not at `lambda_runtime::run(batch)`.
        C: Accept + Chain<<C as Accept>::Event>,
        <C as Accept>::Event: FromRecord<S::Record>,
    {
        Batch {
            records,
            on_failure: None,
            concurrency: 1,
            raise_on_entire_batch_failure: false,
            _source: PhantomData,
        }
    }

    /// What happens to the records after a failure (see [`OnRecordFailure`]); by
    /// default the source decides: the rest are processed, except on an SQS FIFO queue.
    ///
    /// ```
    /// # use aws_lambda_events::kinesis::KinesisEventRecord;
    /// use lambda_middleware::middlewares::{KinesisBatch, OnRecordFailure};
    /// # use lambda_middleware::{Context, Error, Handler};
    /// # async fn process(_: KinesisEventRecord, _: &Context) -> Result<(), Error> { Ok(()) }
    /// // Each record applied once: stop at the shard's first failure.
    /// let batch = KinesisBatch::new(Handler::builder().handler(process)?).on_failure(OnRecordFailure::SkipRest);
    /// # Ok::<(), lambda_middleware::BuildError>(())
    /// ```
    #[must_use]
    pub fn on_failure(mut self, on_failure: OnRecordFailure) -> Self {
        self.on_failure = Some(on_failure);
        self
    }

    /// `true`: when every record of a non-empty batch failed, fail the invocation with
    /// [`BatchError::EntireBatchFailed`] instead of listing them all (Powertools'
    /// `raise_on_entire_batch_failure`, on by default there; off by default here, so the
    /// response is the same whatever failed). Lambda then retries the whole batch and
    /// counts it against the function's errors.
    ///
    /// ```
    /// # use aws_lambda_events::sqs::SqsMessage;
    /// use lambda_middleware::middlewares::SqsBatch;
    /// # use lambda_middleware::{Context, Error, Handler};
    /// # async fn process(_: SqsMessage, _: &Context) -> Result<(), Error> { Ok(()) }
    /// let batch = SqsBatch::new(Handler::builder().handler(process)?).raise_on_entire_batch_failure(true);
    /// # Ok::<(), lambda_middleware::BuildError>(())
    /// ```
    #[must_use]
    pub fn raise_on_entire_batch_failure(mut self, raise: bool) -> Self {
        self.raise_on_entire_batch_failure = raise;
        self
    }

    /// Processes `event` record by record and lists the failed ones.
    ///
    /// # Errors
    ///
    /// [`BatchError::MissingIdentifier`] when a failed record has no identifier;
    /// [`BatchError::EntireBatchFailed`] when every record failed and
    /// [`raise_on_entire_batch_failure`](Batch::raise_on_entire_batch_failure) is on.
    ///
    /// ```
    /// use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
    /// use lambda_middleware::middlewares::SqsBatch;
    /// use lambda_middleware::{Context, Error, Handler};
    ///
    /// async fn process(_: SqsMessage, _: &Context) -> Result<(), Error> { Ok(()) }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let batch = SqsBatch::new(Handler::builder().handler(process)?);
    /// let response = batch.process(SqsEvent::default(), &Context::default()).await?;
    /// assert!(response.batch_item_failures.is_empty()); // an empty batch
    /// # Ok(()) }
    /// ```
    pub async fn process(&self, event: S::Event, ctx: &Context) -> Result<S::Response, BatchError>
    where
        C: Accept + Chain<<C as Accept>::Event>,
        <C as Accept>::Event: FromRecord<S::Record>,
    {
        let records = S::records(event);
        let total = records.len();
        let on_failure = self.on_failure.unwrap_or_else(|| S::default_on_failure(&records));
        let failed = if self.concurrency > 1 && on_failure == OnRecordFailure::ProcessRest {
            self.concurrently(records, ctx).await?
        } else {
            self.in_order(records, on_failure, ctx).await?
        };
        if self.raise_on_entire_batch_failure && total > 0 && failed.len() == total {
            tracing::warn!(source = S::NAME, records = total, "every record of the batch failed");
            return Err(BatchError::EntireBatchFailed {
                kind: S::NAME,
                records: total,
            });
        }
        Ok(S::respond(failed))
    }

    async fn in_order(
        &self,
        records: Vec<S::Record>,
        on_failure: OnRecordFailure,
        ctx: &Context,
    ) -> Result<Vec<S::Id>, BatchError>
    where
        C: Accept + Chain<<C as Accept>::Event>,
        <C as Accept>::Event: FromRecord<S::Record>,
    {
        let mut failed = Vec::new();
        let mut stopped = false;
        let mut skipped_groups: HashSet<String> = HashSet::new();
        for (index, record) in records.into_iter().enumerate() {
            let id = S::id(&record);
            let group = match on_failure {
                OnRecordFailure::SkipGroup => S::group(&record),
                _ => None,
            };
            let skip = stopped || group.as_ref().is_some_and(|group| skipped_groups.contains(group));
            if skip {
                tracing::debug!(
                    source = S::NAME,
                    item_identifier = id.as_ref().map(tracing::field::display),
                    "skipped after an earlier failure; reported for retry"
                );
                failed.push(identified::<S>(id, index)?);
                continue;
            }
            if self.run_record(record, id.as_ref(), ctx).await.is_ok() {
                continue;
            }
            failed.push(identified::<S>(id, index)?);
            match on_failure {
                OnRecordFailure::ProcessRest => {}
                OnRecordFailure::SkipRest => stopped = true,
                OnRecordFailure::SkipGroup => {
                    if let Some(group) = group {
                        skipped_groups.insert(group);
                    }
                }
            }
        }
        Ok(failed)
    }

    async fn concurrently(&self, records: Vec<S::Record>, ctx: &Context) -> Result<Vec<S::Id>, BatchError>
    where
        C: Accept + Chain<<C as Accept>::Event>,
        <C as Accept>::Event: FromRecord<S::Record>,
    {
        let mut outcomes: Vec<(usize, Option<S::Id>, bool)> =
            futures_util::stream::iter(records.into_iter().enumerate())
                .map(|(index, record)| async move {
                    let id = S::id(&record);
                    let ok = self.run_record(record, id.as_ref(), ctx).await.is_ok();
                    (index, id, ok)
                })
                .buffer_unordered(self.concurrency)
                .collect()
                .await;
        outcomes.sort_unstable_by_key(|(index, _, _)| *index);
        outcomes
            .into_iter()
            .filter(|(_, _, ok)| !ok)
            .map(|(index, id, _)| identified::<S>(id, index))
            .collect()
    }

    async fn run_record(&self, record: S::Record, id: Option<&S::Id>, ctx: &Context) -> Result<(), Error>
    where
        C: Accept + Chain<<C as Accept>::Event>,
        <C as Accept>::Event: FromRecord<S::Record>,
    {
        let span = tracing::info_span!(
            "batch_record",
            source = S::NAME,
            item_identifier = id.map(tracing::field::display)
        );
        let invocation = async {
            let record = <C as Accept>::Event::from_record(record)?;
            self.records.invoke_with(record, ctx).await.map(drop)
        };
        // A span no subscriber wants is not entered and left at every poll.
        let outcome = if span.is_disabled() {
            invocation.await
        } else {
            invocation.instrument(span).await
        };
        if let Err(error) = &outcome {
            tracing::warn!(
                source = S::NAME,
                item_identifier = id.map(tracing::field::display),
                %error,
                "a record of the batch failed; reporting it for retry"
            );
        }
        outcome
    }

    /// Runs the batch on one event, for tests and local runs; `lambda_runtime::run`
    /// takes the batch itself.
    ///
    /// ```
    /// use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
    /// use lambda_middleware::middlewares::SqsBatch;
    /// use lambda_middleware::{Context, Error, Handler};
    /// use lambda_runtime::LambdaEvent;
    ///
    /// async fn process(_: SqsMessage, _: &Context) -> Result<(), Error> { Err("always".into()) }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let batch = SqsBatch::new(Handler::builder().handler(process)?);
    /// let mut message = SqsMessage::default();
    /// message.message_id = Some("m-1".into());
    /// let mut event = SqsEvent::default();
    /// event.records.push(message);
    /// let response = batch.invoke(LambdaEvent::new(event, Context::default())).await?;
    /// assert_eq!(response.batch_item_failures[0].item_identifier, "m-1");
    /// # Ok(()) }
    /// ```
    pub async fn invoke(&self, event: LambdaEvent<S::Event>) -> Result<S::Response, Error>
    where
        C: Accept + Chain<<C as Accept>::Event>,
        <C as Accept>::Event: FromRecord<S::Record>,
    {
        let LambdaEvent { payload, context } = event;
        Ok(self.process(payload, &context).await?)
    }
}

impl<S: UnorderedSource, C> Batch<S, C> {
    /// Processes up to `limit` records at once (by default one): for records whose
    /// order does not matter. The failures are still listed in record order. A batch
    /// whose records must keep their order — an SQS FIFO queue, or any batch told
    /// [`OnRecordFailure::SkipRest`] or [`SkipGroup`](OnRecordFailure::SkipGroup) — is
    /// processed one record at a time all the same; streams and Kafka, whose records
    /// keep their order within a shard or partition, have no such option.
    ///
    /// ```
    /// # use aws_lambda_events::sqs::SqsMessage;
    /// use std::num::NonZeroUsize;
    /// use lambda_middleware::middlewares::SqsBatch;
    /// # use lambda_middleware::{Context, Error, Handler};
    /// # async fn process(_: SqsMessage, _: &Context) -> Result<(), Error> { Ok(()) }
    /// let batch = SqsBatch::new(Handler::builder().handler(process)?).concurrency(NonZeroUsize::new(4).unwrap());
    /// # Ok::<(), lambda_middleware::BuildError>(())
    /// ```
    #[must_use]
    pub fn concurrency(mut self, limit: NonZeroUsize) -> Self {
        self.concurrency = limit.get();
        self
    }
}

fn identified<S: BatchSource>(id: Option<S::Id>, index: usize) -> Result<S::Id, BatchError> {
    id.ok_or(BatchError::MissingIdentifier {
        kind: S::NAME,
        field: S::ID_FIELD,
        index,
    })
}

impl<S, C> Clone for Batch<S, C> {
    fn clone(&self) -> Self {
        Batch {
            records: self.records.clone(),
            on_failure: self.on_failure,
            concurrency: self.concurrency,
            raise_on_entire_batch_failure: self.raise_on_entire_batch_failure,
            _source: PhantomData,
        }
    }
}

impl<S: BatchSource, C> fmt::Debug for Batch<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("source", &S::NAME)
            .field("on_failure", &self.on_failure)
            .field("concurrency", &self.concurrency)
            .field("raise_on_entire_batch_failure", &self.raise_on_entire_batch_failure)
            .finish_non_exhaustive()
    }
}

/// The runtime's entry point: `lambda_runtime::run(batch)`. Like [`Handler`]'s, it
/// boxes each invocation's future once.
///
/// ```
/// use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
/// use lambda_middleware::middlewares::SqsBatch;
/// use lambda_middleware::{Context, Error, Handler};
/// use lambda_runtime::LambdaEvent;
/// use tower::Service;
///
/// async fn process(_: SqsMessage, _: &Context) -> Result<(), Error> { Ok(()) }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let mut batch = SqsBatch::new(Handler::builder().handler(process)?);
/// let response = batch.call(LambdaEvent::new(SqsEvent::default(), Context::default())).await?;
/// assert!(response.batch_item_failures.is_empty());
/// # Ok(()) }
/// ```
impl<S, C> tower::Service<LambdaEvent<S::Event>> for Batch<S, C>
where
    S: BatchSource,
    C: Accept + Chain<<C as Accept>::Event> + 'static,
    <C as Accept>::Event: FromRecord<S::Record> + Send,
{
    type Response = S::Response;
    type Error = InvocationError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, InvocationError>> + Send>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), InvocationError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, event: LambdaEvent<S::Event>) -> Self::Future {
        let batch = self.clone();
        Box::pin(async move { batch.invoke(event).await.map_err(InvocationError::from) })
    }
}
