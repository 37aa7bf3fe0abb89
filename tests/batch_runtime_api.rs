//! Every batch processor under the real run loop: `lambda_runtime::run(batch)` against a
//! loopback Runtime API, a 10-record batch per source with 2 malformed records and 1
//! failing record. Exactly those 3 identifiers come back in `batchItemFailures`; the
//! other 7 are processed once (the function logs each order it processes). The SQS
//! function is idempotent per record: the same batch again processes nothing twice.
//! FIFO batches (stop at the first failure; skip only the failed group), the
//! entire-batch-failure option and bounded concurrency run here as well.
//!
//! As in `tests/runtime_api.rs`, the function is this test binary started again as a
//! process of its own (the ignored test `lambda_function`).
#![cfg(all(
    feature = "sqs",
    feature = "kinesis",
    feature = "dynamodb_streams",
    feature = "kafka",
    feature = "idempotency"
))]

mod support;

use serde_json::{Value, json};
use support::batches::{
    FIFO_ARN, Kind, QUEUE_ARN, bad, dynamodb_event, kafka_event, kafka_position, kinesis_event, message_id, reported,
    sequence_number, sqs_event, stream_sequence_number, ten,
};
use support::runtime_api::{Outcome, Queued, RuntimeApi, TIMEOUT, serve_function, start_function};

/// The orders the function logged as processed, by id, in the order it did.
fn processed(output: &str) -> Vec<u64> {
    output
        .lines()
        .filter_map(|line| {
            line.split_once("processed order ")?
                .1
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

/// Runs `function` on `events` (request id, event) and returns the posts in order, and
/// the orders it processed.
fn run(function: &str, events: &[(&str, Value)], env: &[(&str, &str)]) -> (Vec<support::runtime_api::Post>, Vec<u64>) {
    let (posts, output) = run_with_output(function, events, env);
    (posts, processed(&output))
}

/// [`run`], with the function's whole output.
fn run_with_output(
    function: &str,
    events: &[(&str, Value)],
    env: &[(&str, &str)],
) -> (Vec<support::runtime_api::Post>, String) {
    let api = RuntimeApi::start();
    for (request_id, event) in events {
        api.queue(Queued::json(*request_id, event));
    }
    let mut running = start_function(function, &api, env);
    api.wait_for_posts(events.len(), TIMEOUT, &mut running);
    let posts = api.posts_by_request_id();
    let posts = events
        .iter()
        .map(|(request_id, _)| posts[*request_id].clone())
        .collect();
    (posts, running.output())
}

fn seven_good() -> Vec<u64> {
    vec![0, 1, 3, 5, 7, 8, 9]
}

#[test]
fn sqs_reports_the_three_bad_records_and_processes_each_good_one_once() {
    let event = sqs_event(&ten(), QUEUE_ARN, None);
    // The same batch twice: the second time, the idempotent record chain replays the
    // good records without processing them again; the bad ones fail again.
    let (posts, output) = run_with_output("sqs", &[("first", event.clone()), ("again", event)], &[]);
    let processed = processed(&output);
    // A malformed record is logged with its path and serde's message, and its id.
    assert!(
        output.contains("the event does not parse at /body: invalid type: string"),
        "{output}"
    );
    assert!(output.contains("item_identifier=m-2"), "{output}");
    let expected: Vec<Value> = bad(&ten()).into_iter().map(|index| json!(message_id(index))).collect();
    for post in &posts {
        assert_eq!(post.outcome, Outcome::Response, "{}", post.text());
        assert_eq!(reported(&post.response()), expected);
    }
    assert_eq!(processed, seven_good());
}

#[test]
fn kinesis_reports_the_sequence_numbers_of_the_three_bad_records() {
    let (posts, processed) = run("kinesis", &[("kinesis", kinesis_event(&ten()))], &[]);
    let expected: Vec<Value> = bad(&ten())
        .into_iter()
        .map(|index| json!(sequence_number(index)))
        .collect();
    assert_eq!(reported(&posts[0].response()), expected);
    assert_eq!(processed, seven_good());
}

#[test]
fn dynamodb_streams_report_the_sequence_numbers_of_the_three_bad_records() {
    let (posts, processed) = run("dynamodb", &[("dynamodb", dynamodb_event(&ten()))], &[]);
    let expected: Vec<Value> = bad(&ten())
        .into_iter()
        .map(|index| json!(stream_sequence_number(index)))
        .collect();
    assert_eq!(reported(&posts[0].response()), expected);
    assert_eq!(processed, seven_good());
}

#[test]
fn kafka_reports_the_partitions_and_offsets_of_the_three_bad_records() {
    let (posts, processed) = run("kafka", &[("kafka", kafka_event(&ten()))], &[]);
    let expected: Vec<Value> = bad(&ten())
        .into_iter()
        .map(|index| {
            let (partition, offset) = kafka_position(index, 5);
            json!({ "partition": format!("orders-{partition}"), "offset": offset })
        })
        .collect();
    assert_eq!(reported(&posts[0].response()), expected);
    assert_eq!(processed, seven_good());
}

#[test]
fn fifo_batches_stop_at_the_first_failure_or_skip_only_its_group() {
    let groups: Vec<&str> = (0..10).map(|index| ["g0", "g1", "g2"][index % 3]).collect();
    let (posts, processed) = run(
        "sqs_fifo",
        &[
            ("stop", sqs_event(&ten(), FIFO_ARN, Some(&groups))),
            (
                "skip-group",
                sqs_event(&ten(), &format!("{FIFO_ARN}#skip-group"), Some(&groups)),
            ),
        ],
        &[],
    );
    let ids = |indexes: &[usize]| -> Vec<Value> { indexes.iter().map(|index| json!(message_id(*index))).collect() };
    assert_eq!(reported(&posts[0].response()), ids(&[2, 3, 4, 5, 6, 7, 8, 9]));
    assert_eq!(reported(&posts[1].response()), ids(&[2, 4, 5, 6, 7, 8, 9]));
    assert_eq!(processed, [0, 1, 0, 1, 3]);
}

#[test]
fn a_batch_where_every_record_failed_fails_the_invocation_when_asked() {
    let all_bad = vec![Kind::Malformed, Kind::Failing, Kind::Malformed];
    let (posts, processed) = run(
        "kinesis_raising",
        &[
            ("all-bad", kinesis_event(&all_bad)),
            ("one-good", kinesis_event(&[Kind::Failing, Kind::Good])),
        ],
        &[],
    );
    let (error_type, message) = posts[0].error();
    assert_eq!(error_type, "BatchError");
    assert_eq!(
        message,
        "all 3 records of the Kinesis batch failed; failing the whole batch"
    );
    assert_eq!(reported(&posts[1].response()), [json!(sequence_number(0))]);
    assert_eq!(processed, [1]);
}

#[test]
fn a_concurrent_standard_queue_batch_overlaps_and_loses_nothing() {
    let kinds: Vec<Kind> = (0..10)
        .map(|index| if index == 4 { Kind::Failing } else { Kind::Good })
        .collect();
    let started = std::time::Instant::now();
    let (posts, processed) = run(
        "sqs_concurrent",
        &[("concurrent", sqs_event(&kinds, QUEUE_ARN, None))],
        &[],
    );
    assert_eq!(reported(&posts[0].response()), [json!(message_id(4))]);
    let mut sorted = processed.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [0, 1, 2, 3, 5, 6, 7, 8, 9], "each good record once");
    // Each record takes 200 ms: ten in order would take 2 s; five at once, about 400 ms.
    assert!(
        started.elapsed() < std::time::Duration::from_millis(1900),
        "{:?}",
        started.elapsed()
    );
    assert_ne!(processed, sorted, "records finished out of order: they overlapped");
}

#[test]
#[ignore = "the function process the tests above start"]
fn lambda_function() {
    serve_function(1, function::serve);
}

mod function {
    use std::num::NonZeroUsize;
    use std::time::Duration;

    use lambda_middleware::middlewares::idempotency::{EventPart, IdempotencyParams, Idempotent, MemoryStore};
    use lambda_middleware::middlewares::{
        DynamoDbNewImage, DynamoDbStreamBatch, KafkaBatch, KafkaValue, KinesisBatch, KinesisRecordData,
        OnRecordFailure, Parse, SqsBatch, SqsBody,
    };
    use lambda_middleware::{Context, Error, Handler};

    use super::support::batches::Order;

    async fn process(order: Order, _: &Context) -> Result<(), Error> {
        if order.fail {
            return Err(format!("order {} refused", order.id).into());
        }
        println!("processed order {}", order.id);
        Ok(())
    }

    async fn slowly(order: Order, context: &Context) -> Result<(), Error> {
        // Later records take less: when they overlap, they finish out of order.
        tokio::time::sleep(Duration::from_millis(250 - 10 * order.id)).await;
        process(order, context).await
    }

    pub async fn serve(name: String) -> Result<(), Error> {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .init();
        match name.as_str() {
            "sqs" => {
                let once = IdempotencyParams::builder()
                    .store(MemoryStore::new())
                    .key(EventPart::pointer("/body/id"))
                    .build();
                let records = Handler::builder()
                    .middleware_with(Idempotent, once)
                    .transform(Parse::<Order>::in_envelope(SqsBody))
                    .handler(process)?;
                lambda_runtime::run(SqsBatch::new(records)).await
            }
            "sqs_fifo" => {
                let records = Handler::builder()
                    .transform(Parse::<Order>::in_envelope(SqsBody))
                    .handler(process)?;
                let stop = SqsBatch::new(records.clone());
                let skip_group = SqsBatch::new(records).on_failure(OnRecordFailure::SkipGroup);
                // The second event's ARN asks for the other behaviour.
                lambda_runtime::run(lambda_runtime::service_fn(
                    move |event: lambda_runtime::LambdaEvent<aws_lambda_events::sqs::SqsEvent>| {
                        let skip = event.payload.records.iter().any(|record| {
                            record
                                .event_source_arn
                                .as_deref()
                                .is_some_and(|arn| arn.ends_with("#skip-group"))
                        });
                        let (stop, skip_group) = (stop.clone(), skip_group.clone());
                        async move {
                            if skip {
                                skip_group.invoke(event).await
                            } else {
                                stop.invoke(event).await
                            }
                        }
                    },
                ))
                .await
            }
            "sqs_concurrent" => {
                let records = Handler::builder()
                    .transform(Parse::<Order>::in_envelope(SqsBody))
                    .handler(slowly)?;
                lambda_runtime::run(SqsBatch::new(records).concurrency(NonZeroUsize::new(5).unwrap())).await
            }
            "kinesis" | "kinesis_raising" => {
                let records = Handler::builder()
                    .transform(Parse::<Order>::in_envelope(KinesisRecordData))
                    .handler(process)?;
                let batch = KinesisBatch::new(records).raise_on_entire_batch_failure(name == "kinesis_raising");
                lambda_runtime::run(batch).await
            }
            "dynamodb" => {
                let records = Handler::builder()
                    .transform(Parse::<Order>::in_envelope(DynamoDbNewImage))
                    .handler(process)?;
                lambda_runtime::run(DynamoDbStreamBatch::new(records)).await
            }
            "kafka" => {
                let records = Handler::builder()
                    .transform(Parse::<Order>::in_envelope(KafkaValue))
                    .handler(process)?;
                lambda_runtime::run(KafkaBatch::new(records)).await
            }
            other => panic!("no function {other:?}"),
        }
    }
}
