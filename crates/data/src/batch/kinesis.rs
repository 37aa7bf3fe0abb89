//! [`Kinesis`]: Kinesis Data Streams.

use aws_lambda_events::kinesis::{KinesisEvent, KinesisEventRecord};
use aws_lambda_events::streams::KinesisEventResponse;

use super::{Batch, BatchSource};

/// Kinesis Data Streams: failures are reported by `kinesis.sequenceNumber`
/// ([`KinesisEventResponse`]). Lambda checkpoints at the lowest reported sequence
/// number and sends every record after it again (see [`Batch`], "Streams"). The group
/// of a record is its shard (the `eventID` before `:`).
///
/// ```
/// use aws_lambda_events::kinesis::KinesisEventRecord;
/// use lambda_middleware::middlewares::{BatchSource, Kinesis};
///
/// let mut record = KinesisEventRecord::default();
/// record.kinesis.sequence_number = "4954".into();
/// record.event_id = Some("shardId-000000000006:4954".into());
/// assert_eq!(Kinesis::id(&record).as_deref(), Some("4954"));
/// assert_eq!(Kinesis::group(&record).as_deref(), Some("shardId-000000000006"));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Kinesis;

/// A batch of Kinesis records: [`Batch`] with the [`Kinesis`] source.
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
pub type KinesisBatch<C> = Batch<Kinesis, C>;

impl BatchSource for Kinesis {
    type Event = KinesisEvent;
    type Record = KinesisEventRecord;
    type Id = String;
    type Response = KinesisEventResponse;
    const NAME: &'static str = "Kinesis";
    const ID_FIELD: &'static str = "kinesis.sequenceNumber";

    fn records(event: KinesisEvent) -> Vec<KinesisEventRecord> {
        event.records
    }

    fn id(record: &KinesisEventRecord) -> Option<String> {
        Some(record.kinesis.sequence_number.clone()).filter(|id| !id.is_empty())
    }

    fn group(record: &KinesisEventRecord) -> Option<String> {
        let event_id = record.event_id.as_deref()?;
        Some(event_id.split_once(':').map_or(event_id, |(shard, _)| shard).to_owned())
    }

    fn respond(failed: Vec<String>) -> KinesisEventResponse {
        let mut response = KinesisEventResponse::default();
        response.set_failures(failed);
        response
    }
}

super::record_forms!(KinesisEventRecord);
