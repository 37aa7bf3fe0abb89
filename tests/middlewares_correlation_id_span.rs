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

#[tokio::test]
async fn the_span_says_which_source_won() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));

    let handler = Handler::builder()
        .middleware(InjectLambdaContext)
        .middleware_with(CorrelationId, CorrelationIdParams::builder().build())
        .handler(handler)
        .unwrap();
    let events = [
        (
            json!({ "headers": { "x-correlation-id": "c-1" } }),
            "header x-correlation-id",
        ),
        (
            json!({ "headers": {}, "requestContext": { "requestId": "r-1" } }),
            "requestContext.requestId",
        ),
        (json!({ "headers": {} }), "generated"),
    ];
    for (event, _) in &events {
        handler.invoke_with(event.clone(), &Context::default()).await.unwrap();
    }
    let sources: Vec<_> = capture
        .spans()
        .iter()
        .filter(|span| span.name == "lambda_context")
        .map(|span| span.field("correlation_id_source").unwrap_or("none").to_owned())
        .collect();
    let expected: Vec<_> = events.iter().map(|(_, source)| source.to_string()).collect();
    assert_eq!(sources, expected);
}
