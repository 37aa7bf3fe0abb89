//! `SqsBatch`: partial batch responses, FIFO ordering, and the batches production sends
//! that are not tidy.
#![cfg(feature = "sqs")]

use std::sync::Mutex;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_middleware::middlewares::{BatchError, LogEvent, LogEventParams, SqsBatch};
use lambda_middleware::{Context, Error, Handler};
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};

fn event(records: Value) -> SqsEvent {
    serde_json::from_value(json!({ "Records": records })).expect("an SQS event")
}

/// Fails records whose body is not a JSON object with a numeric `amount`.
async fn charge(message: SqsMessage, _: &Context) -> Result<(), Error> {
    let body: Value = serde_json::from_str(message.body.as_deref().ok_or("no body")?)?;
    body["amount"].as_u64().ok_or("no amount")?;
    Ok(())
}

fn failed(response: &SqsBatchResponse) -> Vec<&str> {
    response
        .batch_item_failures
        .iter()
        .map(|failure| failure.item_identifier.as_str())
        .collect()
}

#[tokio::test]
async fn only_the_failed_records_are_reported() {
    let batch = SqsBatch::new(Handler::builder().handler(charge).unwrap());
    let records = json!([
        { "messageId": "m-1", "body": "{\"amount\": 10}" },
        { "messageId": "m-2", "body": "{\"amount\": \"ten\"}" },
        { "messageId": "m-3", "body": "not json at all" },
        { "messageId": "m-4" },
        { "messageId": "m-5", "body": "{\"amount\": 5}" },
    ]);
    let response = batch.process(event(records), &Context::default()).await.unwrap();
    assert_eq!(failed(&response), ["m-2", "m-3", "m-4"]);
    assert_eq!(
        serde_json::to_value(&response).unwrap(),
        json!({ "batchItemFailures": [
            { "itemIdentifier": "m-2" }, { "itemIdentifier": "m-3" }, { "itemIdentifier": "m-4" },
        ]})
    );
}

#[tokio::test]
async fn an_empty_batch_succeeds() {
    let batch = SqsBatch::new(Handler::builder().handler(charge).unwrap());
    for empty in [json!({ "Records": [] }), json!({ "Records": null }), json!({})] {
        let Ok(event) = serde_json::from_value::<SqsEvent>(empty.clone()) else {
            continue; // the runtime reports an event it cannot deserialize
        };
        let response = batch.invoke(LambdaEvent::new(event, Context::default())).await.unwrap();
        assert!(response.batch_item_failures.is_empty(), "{empty}");
    }
}

#[tokio::test]
async fn a_fifo_queue_stops_at_the_first_failure_and_reports_the_rest() {
    let processed = Mutex::new(Vec::new());
    let seen = &processed;
    let records = Handler::builder()
        .handler(move |message: LambdaEvent<SqsMessage>| async move {
            seen.lock().unwrap().push(message.payload.message_id.clone().unwrap());
            charge(message.payload, &message.context).await
        })
        .unwrap();
    let batch = SqsBatch::new(records);
    let arn = "arn:aws:sqs:eu-west-1:123456789012:payments.fifo";
    let records = json!([
        { "messageId": "m-1", "body": "{\"amount\": 1}", "eventSourceARN": arn },
        { "messageId": "m-2", "body": "{}", "eventSourceARN": arn },
        { "messageId": "m-3", "body": "{\"amount\": 3}", "eventSourceARN": arn },
        { "messageId": "m-4", "body": "{\"amount\": 4}", "eventSourceARN": arn },
    ]);
    let response = batch
        .process(event(records.clone()), &Context::default())
        .await
        .unwrap();
    assert_eq!(failed(&response), ["m-2", "m-3", "m-4"]);
    assert_eq!(*processed.lock().unwrap(), ["m-1", "m-2"]);

    // Told it is a standard queue, it processes every record.
    processed.lock().unwrap().clear();
    let response = batch
        .clone()
        .fifo(false)
        .process(event(records), &Context::default())
        .await
        .unwrap();
    assert_eq!(failed(&response), ["m-2"]);
    assert_eq!(processed.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn a_failed_record_without_a_message_id_fails_the_whole_batch() {
    let batch = SqsBatch::new(Handler::builder().handler(charge).unwrap());
    let records = json!([
        { "messageId": "m-1", "body": "{\"amount\": 1}" },
        { "body": "{\"amount\": 2}" },      // no id, but it succeeds: fine
        { "messageId": "", "body": "{}" },  // an empty id is no id
    ]);
    let error = batch.process(event(records), &Context::default()).await.unwrap_err();
    assert_eq!(
        error,
        BatchError::MissingIdentifier {
            kind: "SQS",
            field: "messageId",
            index: 2
        }
    );

    let records = json!([{ "body": "oops" }]);
    let error = batch
        .invoke(LambdaEvent::new(event(records), Context::default()))
        .await
        .unwrap_err();
    assert!(
        error.to_string().starts_with("record 0 of the SQS batch failed"),
        "{error}"
    );
}

#[tokio::test]
async fn per_record_middlewares_run_once_per_record_even_on_a_large_message() {
    let records = Handler::builder()
        .middleware_with(LogEvent, LogEventParams::builder().redact(["/body"]).build())
        .handler(charge)
        .unwrap();
    let batch = SqsBatch::new(records);
    let large = format!("{{\"amount\": 1, \"pad\": \"{}\"}}", "x".repeat(6 * 1024 * 1024));
    let records = json!([
        { "messageId": "big", "body": large },
        { "messageId": "small", "body": "{\"amount\": 2}" },
    ]);
    let response = batch.process(event(records), &Context::default()).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
}

#[tokio::test]
async fn the_batch_runs_as_a_tower_service() {
    use tower::Service;

    let mut batch = SqsBatch::new(Handler::builder().handler(charge).unwrap());
    let records = json!([{ "messageId": "m-1", "body": "[]" }]);
    let response = batch
        .call(LambdaEvent::new(event(records), Context::default()))
        .await
        .unwrap();
    assert_eq!(failed(&response), ["m-1"]);
}
