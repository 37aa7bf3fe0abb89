//! [`Sqs`]: standard and FIFO queues.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};

use super::{Batch, BatchSource, OnRecordFailure, UnorderedSource};

/// Amazon SQS, standard and FIFO queues: failures are reported by `messageId`
/// ([`SqsBatchResponse`]). A batch whose `eventSourceARN` ends in `.fifo` stops at its
/// first failure ([`OnRecordFailure::SkipRest`]) unless told otherwise, and its groups
/// are the records' `MessageGroupId` attribute ([`OnRecordFailure::SkipGroup`]).
///
/// ```
/// use aws_lambda_events::sqs::SqsMessage;
/// use lambda_middleware::middlewares::{BatchSource, Sqs};
///
/// let mut message = SqsMessage::default();
/// message.message_id = Some("m-1".into());
/// message.attributes.insert("MessageGroupId".into(), "customer-7".into());
/// assert_eq!(Sqs::id(&message).as_deref(), Some("m-1"));
/// assert_eq!(Sqs::group(&message).as_deref(), Some("customer-7"));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Sqs;

/// A batch of SQS records: [`Batch`] with the [`Sqs`] source (it was a type of its own;
/// the calls are the same).
///
/// ```
/// use aws_lambda_events::sqs::SqsMessage;
/// use lambda_middleware::middlewares::SqsBatch;
/// use lambda_middleware::{Context, Error, Handler};
///
/// async fn process(_: SqsMessage, _: &Context) -> Result<(), Error> { Ok(()) }
///
/// let batch = SqsBatch::new(Handler::builder().handler(process)?);
/// # Ok::<(), lambda_middleware::BuildError>(())
/// ```
pub type SqsBatch<C> = Batch<Sqs, C>;

impl BatchSource for Sqs {
    type Event = SqsEvent;
    type Record = SqsMessage;
    type Id = String;
    type Response = SqsBatchResponse;
    const NAME: &'static str = "SQS";
    const ID_FIELD: &'static str = "messageId";

    fn records(event: SqsEvent) -> Vec<SqsMessage> {
        event.records
    }

    fn id(record: &SqsMessage) -> Option<String> {
        record.message_id.clone().filter(|id| !id.is_empty())
    }

    fn group(record: &SqsMessage) -> Option<String> {
        record.attributes.get("MessageGroupId").cloned()
    }

    fn default_on_failure(records: &[SqsMessage]) -> OnRecordFailure {
        let fifo = records.iter().any(|record| {
            record
                .event_source_arn
                .as_deref()
                .is_some_and(|arn| arn.ends_with(".fifo"))
        });
        if fifo {
            OnRecordFailure::SkipRest
        } else {
            OnRecordFailure::ProcessRest
        }
    }

    fn respond(failed: Vec<String>) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = failed
            .into_iter()
            .map(|id| {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                failure
            })
            .collect();
        response
    }
}

impl UnorderedSource for Sqs {}

super::record_forms!(SqsMessage);

impl<C> Batch<Sqs, C> {
    /// Treats the queue as FIFO (`true`: stop at the first failure,
    /// [`OnRecordFailure::SkipRest`]) or standard (`false`:
    /// [`OnRecordFailure::ProcessRest`]), whatever the `eventSourceARN` says. By default,
    /// a queue whose ARN ends in `.fifo` is FIFO. To skip only the failed message group,
    /// [`on_failure(OnRecordFailure::SkipGroup)`](Batch::on_failure).
    ///
    /// ```
    /// # use aws_lambda_events::sqs::SqsMessage;
    /// # use lambda_middleware::middlewares::SqsBatch;
    /// # use lambda_middleware::{Context, Error, Handler};
    /// # async fn process(_: SqsMessage, _: &Context) -> Result<(), Error> { Ok(()) }
    /// let batch = SqsBatch::new(Handler::builder().handler(process)?).fifo(true);
    /// # Ok::<(), lambda_middleware::BuildError>(())
    /// ```
    #[must_use]
    pub fn fifo(self, fifo: bool) -> Self {
        self.on_failure(if fifo {
            OnRecordFailure::SkipRest
        } else {
            OnRecordFailure::ProcessRest
        })
    }
}
