//! [`DynamoDbStreams`]: DynamoDB Streams.

use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

use super::{Batch, BatchSource};

/// DynamoDB Streams: failures are reported by `dynamodb.SequenceNumber`
/// ([`DynamoDbEventResponse`]). Lambda checkpoints at the lowest reported sequence
/// number and sends every record after it again (see [`Batch`], "Streams"). The group
/// of a record is the source ARN (one stream; Lambda reads one shard per batch).
///
/// ```
/// use aws_lambda_events::dynamodb::EventRecord;
/// use lambda_middleware::middlewares::{BatchSource, DynamoDbStreams};
///
/// let mut record = EventRecord::default();
/// record.change.sequence_number = Some("111".into());
/// assert_eq!(DynamoDbStreams::id(&record).as_deref(), Some("111"));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct DynamoDbStreams;

/// A batch of DynamoDB Streams records: [`Batch`] with the [`DynamoDbStreams`] source.
///
/// ```
/// use aws_lambda_events::dynamodb::EventRecord;
/// use lambda_middleware::middlewares::DynamoDbStreamBatch;
/// use lambda_middleware::{Context, Error, Handler};
///
/// async fn process(_: EventRecord, _: &Context) -> Result<(), Error> { Ok(()) }
///
/// let batch = DynamoDbStreamBatch::new(Handler::builder().handler(process)?);
/// # Ok::<(), lambda_middleware::BuildError>(())
/// ```
pub type DynamoDbStreamBatch<C> = Batch<DynamoDbStreams, C>;

impl BatchSource for DynamoDbStreams {
    type Event = Event;
    type Record = EventRecord;
    type Id = String;
    type Response = DynamoDbEventResponse;
    const NAME: &'static str = "DynamoDB Streams";
    const ID_FIELD: &'static str = "dynamodb.SequenceNumber";

    fn records(event: Event) -> Vec<EventRecord> {
        event.records
    }

    fn id(record: &EventRecord) -> Option<String> {
        record.change.sequence_number.clone().filter(|id| !id.is_empty())
    }

    fn group(record: &EventRecord) -> Option<String> {
        record.event_source_arn.clone()
    }

    fn respond(failed: Vec<String>) -> DynamoDbEventResponse {
        let mut response = DynamoDbEventResponse::default();
        response.batch_item_failures = failed
            .into_iter()
            .map(|id| {
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = Some(id);
                failure
            })
            .collect();
        response
    }
}

super::record_forms!(EventRecord);
