//! Batches of every source for the batch processor's tests: ten records by default,
//! some malformed (their payload does not parse into an [`Order`]), some failing (the
//! handler refuses them), each record's payload an order whose id is its position.

use base64::Engine as _;
use serde_json::{Value, json};

/// What each record carries.
#[derive(Debug, serde::Deserialize)]
pub struct Order {
    pub id: u64,
    #[serde(default)]
    pub fail: bool,
}

/// What a record of the batch is: a good order, a payload that does not parse, or an
/// order the handler refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Good,
    Malformed,
    Failing,
}

/// Ten records: 2 and 6 malformed, 4 failing.
pub fn ten() -> Vec<Kind> {
    (0..10)
        .map(|index| match index {
            2 | 6 => Kind::Malformed,
            4 => Kind::Failing,
            _ => Kind::Good,
        })
        .collect()
}

fn order_json(index: usize, kind: Kind) -> String {
    match kind {
        Kind::Good => json!({ "id": index }).to_string(),
        Kind::Failing => json!({ "id": index, "fail": true }).to_string(),
        Kind::Malformed => format!("{{\"id\": \"number {index}\""),
    }
}

fn base64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

pub const QUEUE_ARN: &str = "arn:aws:sqs:eu-west-1:123456789012:orders";
pub const FIFO_ARN: &str = "arn:aws:sqs:eu-west-1:123456789012:orders.fifo";

/// The SQS identifier of record `index`.
pub fn message_id(index: usize) -> String {
    format!("m-{index}")
}

/// An SQS event; `groups[i]`, when given, is record i's `MessageGroupId`.
pub fn sqs_event(kinds: &[Kind], arn: &str, groups: Option<&[&str]>) -> Value {
    let records: Vec<Value> = kinds
        .iter()
        .enumerate()
        .map(|(index, kind)| {
            let mut attributes = json!({ "ApproximateReceiveCount": "1" });
            if let Some(groups) = groups {
                attributes["MessageGroupId"] = json!(groups[index]);
            }
            json!({
                "messageId": message_id(index),
                "receiptHandle": "AQEB",
                "body": order_json(index, *kind),
                "attributes": attributes,
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": "eu-west-1",
            })
        })
        .collect();
    json!({ "Records": records })
}

/// The Kinesis sequence number of record `index`.
pub fn sequence_number(index: usize) -> String {
    format!("4954511524144582180062593244200961767{index:02}")
}

pub fn kinesis_event(kinds: &[Kind]) -> Value {
    let records: Vec<Value> = kinds
        .iter()
        .enumerate()
        .map(|(index, kind)| {
            json!({
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("shardId-000000000006:{}", sequence_number(index)),
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-role",
                "awsRegion": "eu-west-1",
                "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/orders",
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "orders",
                    "sequenceNumber": sequence_number(index),
                    "data": base64(&order_json(index, *kind)),
                    "approximateArrivalTimestamp": 1545084650.987,
                },
            })
        })
        .collect();
    json!({ "Records": records })
}

/// The DynamoDB Streams sequence number of record `index`.
pub fn stream_sequence_number(index: usize) -> String {
    format!("{}", 111_000 + index)
}

pub fn dynamodb_event(kinds: &[Kind]) -> Value {
    let records: Vec<Value> = kinds
        .iter()
        .enumerate()
        .map(|(index, kind)| {
            let id = match kind {
                Kind::Malformed => json!({ "S": format!("number {index}") }),
                _ => json!({ "N": index.to_string() }),
            };
            let mut image = json!({ "id": id, "customer": { "S": "c-1" } });
            if *kind == Kind::Failing {
                image["fail"] = json!({ "BOOL": true });
            }
            json!({
                "eventID": format!("e-{index}"),
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "eu-west-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1479499740,
                    "Keys": { "id": id },
                    "NewImage": image,
                    "SequenceNumber": stream_sequence_number(index),
                    "SizeBytes": 26,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
                "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000",
            })
        })
        .collect();
    json!({ "Records": records })
}

/// Kafka records of `kinds`, the first half in partition 0, the rest in partition 1,
/// offsets from 100.
pub fn kafka_event(kinds: &[Kind]) -> Value {
    let half = kinds.len().div_ceil(2);
    let mut partitions = serde_json::Map::new();
    for (index, kind) in kinds.iter().enumerate() {
        let (partition, offset) = kafka_position(index, half);
        let record = json!({
            "topic": "orders",
            "partition": partition,
            "offset": offset,
            "timestamp": 1545084650987_i64,
            "timestampType": "CREATE_TIME",
            "key": base64("order"),
            "value": base64(&order_json(index, *kind)),
            "headers": [],
        });
        partitions
            .entry(format!("orders-{partition}"))
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .unwrap()
            .push(record);
    }
    json!({
        "eventSource": "aws:kafka",
        "eventSourceArn": "arn:aws:kafka:eu-west-1:123456789012:cluster/orders/abc",
        "bootstrapServers": "b-1.orders.kafka.eu-west-1.amazonaws.com:9092",
        "records": partitions,
    })
}

/// Record `index`'s partition and offset in [`kafka_event`], `half` records in partition 0.
pub fn kafka_position(index: usize, half: usize) -> (usize, i64) {
    if index < half {
        (0, 100 + index as i64)
    } else {
        (1, 100 + (index - half) as i64)
    }
}

/// The `itemIdentifier`s of a partial batch response, as JSON values.
pub fn reported(response: &Value) -> Vec<Value> {
    response["batchItemFailures"]
        .as_array()
        .expect("a partial batch response")
        .iter()
        .map(|failure| failure["itemIdentifier"].clone())
        .collect()
}

/// The indexes of `kinds` that are not good.
pub fn bad(kinds: &[Kind]) -> Vec<usize> {
    kinds
        .iter()
        .enumerate()
        .filter(|(_, kind)| **kind != Kind::Good)
        .map(|(index, _)| index)
        .collect()
}
