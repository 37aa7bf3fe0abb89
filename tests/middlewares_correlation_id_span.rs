//! `CorrelationId`: which span the id is recorded on.
//!
//! A test binary of its own: `tracing` caches, per call site and for the whole process,
//! whether any subscriber is interested, so spans created while tests with other
//! subscribers (or none) run in parallel threads can be disabled here.

mod common;

use common::capture::Capture;
use lambda_middleware::middlewares::{CorrelationId, CorrelationIdParams, InjectLambdaContext};
use lambda_middleware::{Context, Error, Handler};
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt;

/// Logs inside whatever span the middlewares opened.
async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
    tracing::info!("handling");
    Ok(json!({ "statusCode": 200, "headers": {}, "body": event["headers"]["x-correlation-id"] }))
}

#[tokio::test]
async fn the_id_is_recorded_on_the_lambda_context_span_or_on_a_span_of_its_own() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));

    let with_context = Handler::builder()
        .middleware(InjectLambdaContext)
        .middleware_with(CorrelationId, CorrelationIdParams::builder().build())
        .handler(handler)
        .unwrap();
    let event = json!({ "headers": { "x-correlation-id": "on-the-context" } });
    with_context.invoke_with(event, &Context::default()).await.unwrap();

    let alone = Handler::builder()
        .middleware_with(CorrelationId, CorrelationIdParams::builder().build())
        .handler(handler)
        .unwrap();
    let event = json!({ "headers": { "x-correlation-id": "on-its-own" } });
    alone.invoke_with(event, &Context::default()).await.unwrap();

    let spans = capture.spans();
    let events: Vec<_> = capture
        .events()
        .into_iter()
        .filter(|event| event.fields.get("message").map(String::as_str) == Some("handling"))
        .collect();
    assert_eq!(events.len(), 2);

    let first = &spans[events[0].span.unwrap()];
    assert_eq!(first.name, "lambda_context");
    assert_eq!(first.field("correlation_id"), Some("on-the-context"));

    let second = &spans[events[1].span.unwrap()];
    assert_eq!(second.name, "correlation_id");
    assert_eq!(second.field("correlation_id"), Some("on-its-own"));
}
