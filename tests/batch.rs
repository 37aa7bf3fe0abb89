//! The batch processor on every source: partial batch responses with the identifier
//! each source needs, records whose payload does not parse failing alone, FIFO
//! ordering, the entire-batch-failure option, bounded concurrency — and a property
//! test: whatever fails, exactly the failed (and, after a failure, the skipped) records
//! are reported, and only the others are processed.
#![cfg(all(
    feature = "sqs",
    feature = "kinesis",
    feature = "dynamodb_streams",
    feature = "kafka"
))]

mod support;

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::dynamodb::EventRecord;
use aws_lambda_events::kafka::KafkaRecord;
use aws_lambda_events::kinesis::KinesisEventRecord;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use lambda_middleware::chain::{Accept, Chain};
use lambda_middleware::local::LocalFunction;
use lambda_middleware::middlewares::{
    At, BatchError, DynamoDbNewImage, DynamoDbStreamBatch, KafkaBatch, KafkaValue, KinesisBatch, KinesisRecordData,
    OnRecordFailure, Parse, SqsBatch, SqsBody,
};
use lambda_middleware::{Context, Error, Handler, LambdaEvent};
use proptest::prelude::*;
use serde_json::{Value, json};
use support::batches::{
    FIFO_ARN, Kind, Order, QUEUE_ARN, bad, dynamodb_event, kafka_event, kafka_position, kinesis_event, message_id,
    reported, sequence_number, sqs_event, stream_sequence_number, ten,
};

/// The ids of the orders processed, in the order they were.
#[derive(Clone, Default)]
struct Processed(Arc<Mutex<Vec<u64>>>);

impl Processed {
    fn take(&self) -> Vec<u64> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    /// The record logic: refuses the orders marked `fail`, records the others.
    fn handler(
        &self,
    ) -> impl Fn(LambdaEvent<Order>) -> std::future::Ready<Result<(), Error>> + Clone + Send + Sync + 'static {
        let processed = self.clone();
        move |event: LambdaEvent<Order>| {
            let order = event.payload;
            std::future::ready(if order.fail {
                Err(format!("order {} refused", order.id).into())
            } else {
                processed.0.lock().unwrap().push(order.id);
                Ok(())
            })
        }
    }
}

fn good_ids(kinds: &[Kind]) -> Vec<u64> {
    (0..kinds.len() as u64)
        .filter(|index| kinds[*index as usize] == Kind::Good)
        .collect()
}

#[tokio::test]
async fn sqs_with_a_typed_body_reports_the_malformed_and_the_failing_records_only() {
    let processed = Processed::default();
    // The expression a new user writes: `Parse` in the record chain, the body at a pointer.
    let records = Handler::builder()
        .transform(Parse::<Order>::in_envelope(At::new("/body")))
        .handler(processed.handler())
        .unwrap();
    let batch = SqsBatch::new(records);
    let kinds = ten();
    let event = sqs_event(&kinds, QUEUE_ARN, None).to_string();
    let response = LocalFunction::default().invoke_json(&batch, &event).await.unwrap();
    let expected: Vec<Value> = bad(&kinds).into_iter().map(|index| json!(message_id(index))).collect();
    assert_eq!(reported(&response), expected);
    assert_eq!(expected.len(), 3);
    assert_eq!(processed.take(), good_ids(&kinds));
}

#[tokio::test]
async fn parse_reads_the_typed_record_as_well() {
    let processed = Processed::default();
    let records = Handler::builder()
        .transform(Parse::<Order>::in_envelope(SqsBody).over::<SqsMessage>())
        .handler(processed.handler())
        .unwrap();
    let batch = SqsBatch::new(records);
    let kinds = ten();
    let event: SqsEvent = serde_json::from_value(sqs_event(&kinds, QUEUE_ARN, None)).unwrap();
    let response = LocalFunction::default().invoke(&batch, event).await.unwrap();
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|failure| failure.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["m-2", "m-4", "m-6"]);
    assert_eq!(processed.take(), good_ids(&kinds));
}

#[tokio::test]
async fn kinesis_reports_sequence_numbers() {
    let processed = Processed::default();
    let records = Handler::builder()
        .transform(Parse::<Order>::in_envelope(KinesisRecordData))
        .handler(processed.handler())
        .unwrap();
    let batch = KinesisBatch::new(records);
    let kinds = ten();
    let response = LocalFunction::default()
        .invoke_json(&batch, &kinesis_event(&kinds).to_string())
        .await
        .unwrap();
    let expected: Vec<Value> = bad(&kinds)
        .into_iter()
        .map(|index| json!(sequence_number(index)))
        .collect();
    assert_eq!(reported(&response), expected);
    assert_eq!(processed.take(), good_ids(&kinds));

    // On the typed record, the data is read from it without its JSON: the same answer.
    let typed = KinesisBatch::new(
        Handler::builder()
            .transform(Parse::<Order>::in_envelope(KinesisRecordData).over::<KinesisEventRecord>())
            .handler(processed.handler())
            .unwrap(),
    );
    let response = LocalFunction::default()
        .invoke_json(&typed, &kinesis_event(&kinds).to_string())
        .await
        .unwrap();
    assert_eq!(reported(&response), expected);
    assert_eq!(processed.take(), good_ids(&kinds));
}

#[tokio::test]
async fn dynamodb_streams_report_sequence_numbers_and_unmarshal_the_new_image() {
    let kinds = ten();
    let expected: Vec<Value> = bad(&kinds)
        .into_iter()
        .map(|index| json!(stream_sequence_number(index)))
        .collect();

    // The record chain on JSON records, and on aws_lambda_events' typed records.
    let processed = Processed::default();
    let on_json = DynamoDbStreamBatch::new(
        Handler::builder()
            .transform(Parse::<Order>::in_envelope(DynamoDbNewImage))
            .handler(processed.handler())
            .unwrap(),
    );
    let event = dynamodb_event(&kinds).to_string();
    let response = LocalFunction::default().invoke_json(&on_json, &event).await.unwrap();
    assert_eq!(reported(&response), expected);
    assert_eq!(processed.take(), good_ids(&kinds));

    let typed = DynamoDbStreamBatch::new(
        Handler::builder()
            .transform(Parse::<Order>::in_envelope(DynamoDbNewImage).over::<EventRecord>())
            .handler(processed.handler())
            .unwrap(),
    );
    let response = LocalFunction::default().invoke_json(&typed, &event).await.unwrap();
    assert_eq!(reported(&response), expected);
    assert_eq!(processed.take(), good_ids(&kinds));
}

#[tokio::test]
async fn kafka_reports_topic_partitions_and_offsets() {
    let processed = Processed::default();
    let records = Handler::builder()
        .transform(Parse::<Order>::in_envelope(KafkaValue))
        .handler(processed.handler())
        .unwrap();
    let batch = KafkaBatch::new(records);
    let kinds = ten();
    let response = LocalFunction::default()
        .invoke_json(&batch, &kafka_event(&kinds).to_string())
        .await
        .unwrap();
    let expected: Vec<Value> = bad(&kinds)
        .into_iter()
        .map(|index| {
            let (partition, offset) = kafka_position(index, 5);
            json!({ "partition": format!("orders-{partition}"), "offset": offset })
        })
        .collect();
    assert_eq!(reported(&response), expected);
    assert_eq!(processed.take(), good_ids(&kinds));

    let typed = KafkaBatch::new(
        Handler::builder()
            .transform(Parse::<Order>::in_envelope(KafkaValue).over::<KafkaRecord>())
            .handler(processed.handler())
            .unwrap(),
    );
    let response = LocalFunction::default()
        .invoke_json(&typed, &kafka_event(&kinds).to_string())
        .await
        .unwrap();
    assert_eq!(reported(&response), expected);
    assert_eq!(processed.take(), good_ids(&kinds));
}

#[tokio::test]
async fn a_fifo_queue_stops_at_the_first_failure() {
    let processed = Processed::default();
    let batch = SqsBatch::new(
        Handler::builder()
            .transform(Parse::<Order>::in_envelope(SqsBody))
            .handler(processed.handler())
            .unwrap(),
    );
    let kinds = ten();
    let response = LocalFunction::default()
        .invoke_json(&batch, &sqs_event(&kinds, FIFO_ARN, None).to_string())
        .await
        .unwrap();
    let expected: Vec<Value> = (2..10).map(|index| json!(message_id(index))).collect();
    assert_eq!(reported(&response), expected);
    assert_eq!(processed.take(), [0, 1]);
}

#[tokio::test]
async fn a_fifo_queue_can_skip_only_the_failed_group() {
    let processed = Processed::default();
    let batch = SqsBatch::new(
        Handler::builder()
            .transform(Parse::<Order>::in_envelope(SqsBody))
            .handler(processed.handler())
            .unwrap(),
    )
    .on_failure(OnRecordFailure::SkipGroup);
    let kinds = ten();
    let groups: Vec<&str> = (0..10).map(|index| ["g0", "g1", "g2"][index % 3]).collect();
    let response = LocalFunction::default()
        .invoke_json(&batch, &sqs_event(&kinds, FIFO_ARN, Some(&groups)).to_string())
        .await
        .unwrap();
    // 2 (g2) fails: 5 and 8 skipped; 4 (g1) fails: 7 skipped; 6 (g0) fails: 9 skipped.
    let expected: Vec<Value> = [2, 4, 5, 6, 7, 8, 9]
        .iter()
        .map(|index| json!(message_id(*index)))
        .collect();
    assert_eq!(reported(&response), expected);
    assert_eq!(processed.take(), [0, 1, 3]);
}

#[tokio::test]
async fn a_batch_where_every_record_failed_can_fail_the_invocation() {
    let processed = Processed::default();
    let records = Handler::builder()
        .transform(Parse::<Order>::in_envelope(KinesisRecordData))
        .handler(processed.handler())
        .unwrap();
    let kinds = vec![Kind::Malformed, Kind::Failing, Kind::Malformed];
    let event = kinesis_event(&kinds).to_string();

    // By default, every record is listed.
    let listing = KinesisBatch::new(records.clone());
    let response = LocalFunction::default().invoke_json(&listing, &event).await.unwrap();
    assert_eq!(reported(&response).len(), 3);

    let raising = KinesisBatch::new(records).raise_on_entire_batch_failure(true);
    let error = LocalFunction::default()
        .invoke_json(&raising, &event)
        .await
        .unwrap_err();
    assert_eq!(
        error.downcast_ref::<BatchError>(),
        Some(&BatchError::EntireBatchFailed {
            kind: "Kinesis",
            records: 3
        })
    );
    assert_eq!(
        error.to_string(),
        "all 3 records of the Kinesis batch failed; failing the whole batch"
    );
    assert_eq!(lambda_middleware::support::error_type(error.as_ref()), "BatchError");

    // One success is enough not to raise; an empty batch is no failure.
    let mut kinds = kinds;
    kinds.push(Kind::Good);
    let response = LocalFunction::default()
        .invoke_json(&raising, &kinesis_event(&kinds).to_string())
        .await
        .unwrap();
    assert_eq!(reported(&response).len(), 3);
    let response = LocalFunction::default()
        .invoke_json(&raising, r#"{"Records": []}"#)
        .await
        .unwrap();
    assert_eq!(reported(&response), Vec::<Value>::new());
}

#[tokio::test]
async fn a_failed_record_without_its_identifier_fails_the_batch() {
    let processed = Processed::default();
    let batch = KinesisBatch::new(
        Handler::builder()
            .transform(Parse::<Order>::in_envelope(KinesisRecordData))
            .handler(processed.handler())
            .unwrap(),
    );
    let mut event = kinesis_event(&[Kind::Good, Kind::Failing]);
    event["Records"][1]["kinesis"]["sequenceNumber"] = json!("");
    let error = LocalFunction::default()
        .invoke_json(&batch, &event.to_string())
        .await
        .unwrap_err();
    assert_eq!(
        error.downcast_ref::<BatchError>(),
        Some(&BatchError::MissingIdentifier {
            kind: "Kinesis",
            field: "kinesis.sequenceNumber",
            index: 1
        })
    );
}

/// Records that take 50 ms each, counting how many run at once.
#[derive(Clone, Default)]
struct Overlap {
    running: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
    done: Arc<Mutex<Vec<String>>>,
}

impl Overlap {
    fn handler(&self) -> Handler<impl Chain<SqsMessage, Response = ()> + Accept<Event = SqsMessage> + 'static> {
        let overlap = self.clone();
        Handler::builder()
            .handler(move |event: LambdaEvent<SqsMessage>| {
                let overlap = overlap.clone();
                async move {
                    let now = overlap.running.fetch_add(1, Ordering::SeqCst) + 1;
                    overlap.most.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    overlap.running.fetch_sub(1, Ordering::SeqCst);
                    let id = event.payload.message_id.unwrap_or_default();
                    let body = event.payload.body.unwrap_or_default();
                    overlap.done.lock().unwrap().push(id);
                    if body.contains("fail") {
                        return Err::<(), Error>("refused".into());
                    }
                    Ok(())
                }
            })
            .unwrap()
    }
}

#[tokio::test]
async fn records_of_a_standard_queue_overlap_with_concurrency_and_nothing_is_lost() {
    let overlap = Overlap::default();
    let batch = SqsBatch::new(overlap.handler()).concurrency(NonZeroUsize::new(4).unwrap());
    let kinds: Vec<Kind> = (0..12)
        .map(|index| if index % 5 == 3 { Kind::Failing } else { Kind::Good })
        .collect();
    let event: SqsEvent = serde_json::from_value(sqs_event(&kinds, QUEUE_ARN, None)).unwrap();
    let started = std::time::Instant::now();
    let response = LocalFunction::default().invoke(&batch, event).await.unwrap();
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|failure| failure.item_identifier.as_str())
        .collect();
    // Reported in record order, whatever order they finished in.
    assert_eq!(failed, ["m-3", "m-8"]);
    assert_eq!(
        overlap.most.load(Ordering::SeqCst),
        4,
        "at most 4 at once, and 4 did overlap"
    );
    let mut done = overlap.done.lock().unwrap().clone();
    done.sort_by_key(|id| id[2..].parse::<usize>().unwrap());
    assert_eq!(done, (0..12).map(message_id).collect::<Vec<_>>(), "each record once");
    assert!(
        started.elapsed() < Duration::from_millis(12 * 50),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_fifo_batch_stays_in_order_whatever_the_concurrency() {
    let overlap = Overlap::default();
    let batch = SqsBatch::new(overlap.handler()).concurrency(NonZeroUsize::new(4).unwrap());
    let kinds = vec![Kind::Good, Kind::Good, Kind::Failing, Kind::Good];
    let event: SqsEvent = serde_json::from_value(sqs_event(&kinds, FIFO_ARN, None)).unwrap();
    let response = LocalFunction::default().invoke(&batch, event).await.unwrap();
    assert_eq!(response.batch_item_failures.len(), 2);
    assert_eq!(overlap.most.load(Ordering::SeqCst), 1);
    assert_eq!(*overlap.done.lock().unwrap(), ["m-0", "m-1", "m-2"]);
}

/// What the batch must report and process, computed the plain way.
fn model(failing: &[bool], groups: &[usize], on_failure: OnRecordFailure) -> (Vec<usize>, Vec<usize>) {
    let (mut reported, mut processed) = (Vec::new(), Vec::new());
    let mut stopped = false;
    let mut skipped_groups = std::collections::HashSet::new();
    for (index, fails) in failing.iter().enumerate() {
        if stopped || skipped_groups.contains(&groups[index]) {
            reported.push(index);
            continue;
        }
        processed.push(index);
        if *fails {
            reported.push(index);
            match on_failure {
                OnRecordFailure::SkipRest => stopped = true,
                OnRecordFailure::SkipGroup => {
                    skipped_groups.insert(groups[index]);
                }
                _ => {}
            }
        }
    }
    (reported, processed)
}

fn on_failure_strategy() -> impl Strategy<Value = OnRecordFailure> {
    prop_oneof![
        Just(OnRecordFailure::ProcessRest),
        Just(OnRecordFailure::SkipRest),
        Just(OnRecordFailure::SkipGroup),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn exactly_the_failed_and_skipped_records_are_reported(
        records in prop::collection::vec((any::<bool>(), 0..4_usize, 0..3_u8), 0..25),
        on_failure in on_failure_strategy(),
        concurrency in 1..5_usize,
    ) {
        // (fails, group, how: 0 the handler refuses it, 1 its body does not parse, 2 both)
        let failing: Vec<bool> = records.iter().map(|(fails, _, _)| *fails).collect();
        let groups: Vec<usize> = records.iter().map(|(_, group, _)| *group).collect();
        let kinds: Vec<Kind> = records
            .iter()
            .map(|(fails, _, how)| match (fails, how) {
                (false, _) => Kind::Good,
                (true, 1) => Kind::Malformed,
                (true, _) => Kind::Failing,
            })
            .collect();
        let group_names: Vec<String> = groups.iter().map(|group| format!("g{group}")).collect();
        let group_refs: Vec<&str> = group_names.iter().map(String::as_str).collect();
        let event: SqsEvent = serde_json::from_value(sqs_event(&kinds, FIFO_ARN, Some(&group_refs))).unwrap();

        let processed = Processed::default();
        let batch = SqsBatch::new(
            Handler::builder()
                .transform(Parse::<Order>::in_envelope(SqsBody))
                .handler(processed.handler())
                .unwrap(),
        )
        .on_failure(on_failure)
        .concurrency(NonZeroUsize::new(concurrency).unwrap());
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let response = runtime.block_on(batch.process(event, &Context::default())).unwrap();

        let (expected_reported, expected_processed) = model(&failing, &groups, on_failure);
        let reported: Vec<String> = response.batch_item_failures.iter().map(|failure| failure.item_identifier.clone()).collect();
        prop_assert_eq!(reported, expected_reported.iter().map(|index| message_id(*index)).collect::<Vec<_>>());
        let mut got = processed.take();
        got.sort_unstable();
        let good: Vec<u64> = expected_processed.into_iter().filter(|index| !failing[*index]).map(|index| index as u64).collect();
        prop_assert_eq!(got, good);
    }
}

/// `Timeout` per record: the record that would cross the deadline fails alone, and the
/// batch goes on with the next record.
#[cfg(feature = "timeout")]
#[tokio::test]
async fn a_record_that_would_cross_the_deadline_fails_alone() {
    use lambda_middleware::middlewares::{Timeout, TimeoutParams};

    let records = Handler::builder()
        .middleware_with(
            Timeout,
            TimeoutParams::builder().margin(Duration::from_millis(100)).build(),
        )
        .handler(|message: SqsMessage, _: &Context| async move {
            if message.body.as_deref() == Some("slow") {
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            Ok::<_, Error>(())
        })
        .unwrap();
    let batch = SqsBatch::new(records);
    let event: SqsEvent = serde_json::from_value(json!({ "Records": [
        { "messageId": "m-0", "body": "fast" },
        { "messageId": "m-1", "body": "slow" },
        { "messageId": "m-2", "body": "fast" },
    ]}))
    .unwrap();
    let started = std::time::Instant::now();
    let response = LocalFunction::default()
        .timeout(Duration::from_millis(400))
        .invoke(&batch, event)
        .await
        .unwrap();
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|failure| failure.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["m-1"]);
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

/// A span per record, named `batch_record`, with its source and identifier: what the
/// record chain logs carries them.
#[test]
fn each_record_runs_in_a_span_with_its_identifier() {
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let records = Handler::builder()
        .transform(Parse::<Order>::in_envelope(KinesisRecordData))
        .handler(|order: Order, _: &Context| async move {
            tracing::info!(order = order.id, "processing");
            if order.fail {
                Err::<(), Error>("refused".into())
            } else {
                Ok(())
            }
        })
        .unwrap();
    let batch = KinesisBatch::new(records);
    let event = serde_json::from_value(kinesis_event(&[Kind::Good, Kind::Failing, Kind::Malformed])).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(batch.process(event, &Context::default())).unwrap();
    });
    let output = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    for index in 0..2 {
        let span = format!(
            "batch_record{{source=\"Kinesis\" item_identifier={}}}",
            sequence_number(index)
        );
        assert!(
            output.contains(&format!("{span}: batch: processing order={index}")),
            "{output}"
        );
    }
    // The malformed record: the path and serde's message, in its span.
    let span = format!(
        "batch_record{{source=\"Kinesis\" item_identifier={}}}",
        sequence_number(2)
    );
    assert!(
        output.lines().any(|line| line.contains(&span)
            && line.contains("the event does not parse at /kinesis/data: invalid type: string")),
        "{output}"
    );
}
