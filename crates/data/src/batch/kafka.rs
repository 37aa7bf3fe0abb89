//! [`Kafka`]: Amazon MSK and self-managed Apache Kafka.

use std::fmt;

use aws_lambda_events::kafka::{KafkaEvent, KafkaRecord};
use serde::{Deserialize, Serialize};

use super::{Batch, BatchSource};

/// Amazon MSK and self-managed Apache Kafka: failures are reported by topic-partition
/// and offset, `{"itemIdentifier": {"partition": "orders-0", "offset": 15}}`
/// ([`KafkaBatchResponse`]), the shape AWS documents for Kafka event source mappings
/// with `ReportBatchItemFailures` and Powertools' `EventType.Kafka` answers. Lambda
/// resumes each reported partition at its lowest reported offset, so, as on streams
/// (see [`Batch`]), the records after a failure in that partition are sent again.
///
/// The records are taken partition by partition (the event's `records` map, in the
/// order of its keys), each partition in offset order. The group of a record is its
/// topic-partition.
///
/// ```
/// use lambda_middleware::middlewares::{BatchSource, Kafka};
///
/// let event = serde_json::from_value(serde_json::json!({
///     "eventSource": "aws:kafka",
///     "records": { "orders-0": [
///         { "topic": "orders", "partition": 0, "offset": 15, "timestamp": 1545084650987_i64,
///           "timestampType": "CREATE_TIME", "value": "eyJpZCI6MX0=", "headers": [] }
///     ]}
/// })).unwrap();
/// let records = Kafka::records(event);
/// let id = Kafka::id(&records[0]).unwrap();
/// assert_eq!((id.partition.as_str(), id.offset), ("orders-0", 15));
/// assert_eq!(id.to_string(), "orders-0@15");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Kafka;

/// A batch of Kafka records: [`Batch`] with the [`Kafka`] source.
///
/// ```
/// use aws_lambda_events::kafka::KafkaRecord;
/// use lambda_middleware::middlewares::KafkaBatch;
/// use lambda_middleware::{Context, Error, Handler};
///
/// async fn process(_: KafkaRecord, _: &Context) -> Result<(), Error> { Ok(()) }
///
/// let batch = KafkaBatch::new(Handler::builder().handler(process)?);
/// # Ok::<(), lambda_middleware::BuildError>(())
/// ```
pub type KafkaBatch<C> = Batch<Kafka, C>;

/// What a failed Kafka record is reported by: its topic-partition (the key of the
/// event's `records` map, `<topic>-<partition>`) and its offset.
///
/// ```
/// use lambda_middleware::middlewares::KafkaItemIdentifier;
///
/// let id = KafkaItemIdentifier { partition: "orders-3".into(), offset: 42 };
/// assert_eq!(serde_json::to_value(&id).unwrap(), serde_json::json!({ "partition": "orders-3", "offset": 42 }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KafkaItemIdentifier {
    /// `<topic>-<partition>`, e.g. `orders-3`.
    pub partition: String,
    /// The record's offset in it.
    pub offset: i64,
}

/// `orders-3@42`, for logs.
impl fmt::Display for KafkaItemIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.partition, self.offset)
    }
}

/// One failed Kafka record of a [`KafkaBatchResponse`].
///
/// ```
/// use lambda_middleware::middlewares::{KafkaBatchItemFailure, KafkaItemIdentifier};
///
/// let failure = KafkaBatchItemFailure { item_identifier: KafkaItemIdentifier { partition: "t-0".into(), offset: 1 } };
/// assert_eq!(serde_json::to_value(&failure).unwrap()["itemIdentifier"]["offset"], 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KafkaBatchItemFailure {
    /// The record.
    pub item_identifier: KafkaItemIdentifier,
}

/// The partial batch response of a Kafka event source mapping:
/// `{"batchItemFailures": [{"itemIdentifier": {"partition": "t-0", "offset": 1}}]}`.
///
/// ```
/// use lambda_middleware::middlewares::KafkaBatchResponse;
///
/// let empty = KafkaBatchResponse::default();
/// assert_eq!(serde_json::to_value(&empty).unwrap(), serde_json::json!({ "batchItemFailures": [] }));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KafkaBatchResponse {
    /// The failed records, in record order.
    pub batch_item_failures: Vec<KafkaBatchItemFailure>,
}

impl BatchSource for Kafka {
    type Event = KafkaEvent;
    type Record = KafkaRecord;
    type Id = KafkaItemIdentifier;
    type Response = KafkaBatchResponse;
    const NAME: &'static str = "Kafka";
    const ID_FIELD: &'static str = "topic-partition";

    fn records(event: KafkaEvent) -> Vec<KafkaRecord> {
        let mut partitions: Vec<(String, Vec<KafkaRecord>)> = event.records.into_iter().collect();
        partitions.sort_by(|(a, _), (b, _)| a.cmp(b));
        partitions
            .into_iter()
            .flat_map(|(key, mut records)| {
                records.sort_by_key(|record| record.offset);
                // A record without its topic takes it from the map's key.
                let topic = key.rsplit_once('-').map(|(topic, _)| topic.to_owned());
                records.into_iter().map(move |mut record| {
                    if record.topic.is_none() {
                        record.topic.clone_from(&topic);
                    }
                    record
                })
            })
            .collect()
    }

    fn id(record: &KafkaRecord) -> Option<KafkaItemIdentifier> {
        let topic = record.topic.as_deref().filter(|topic| !topic.is_empty())?;
        Some(KafkaItemIdentifier {
            partition: format!("{topic}-{}", record.partition),
            offset: record.offset,
        })
    }

    fn group(record: &KafkaRecord) -> Option<String> {
        Self::id(record).map(|id| id.partition)
    }

    fn respond(failed: Vec<KafkaItemIdentifier>) -> KafkaBatchResponse {
        KafkaBatchResponse {
            batch_item_failures: failed
                .into_iter()
                .map(|item_identifier| KafkaBatchItemFailure { item_identifier })
                .collect(),
        }
    }
}

super::record_forms!(KafkaRecord);
