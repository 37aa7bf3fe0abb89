//! Through `tracing-opentelemetry` into an in-memory exporter: spans are exported as
//! `## name`, nested like the chain, failures set the status, and `Tracer`
//! annotations are span attributes (feature `opentelemetry`).
#![cfg(feature = "opentelemetry")]

mod common;

use common::Behaviour::{Annotate, Fail, Pass};
use common::{echo, step};
use lambda_middleware::{Context, Handler};
use opentelemetry::trace::{Status, TracerProvider as _};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;

/// Runs `invocation` under a subscriber that exports to memory, and returns the spans.
async fn export<F: Future>(invocation: impl FnOnce() -> F) -> Vec<SpanData> {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("lambda-middleware-tests"));
    {
        let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
        invocation().await;
    }
    provider.force_flush().unwrap();
    exporter.get_finished_spans().unwrap()
}

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|KeyValue { key: k, .. }| k.as_str() == key)
        .map(|kv| &kv.value)
}

fn by_name<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans.iter().find(|span| span.name == name).unwrap_or_else(|| {
        panic!(
            "no span {name} in {:?}",
            spans.iter().map(|s| &s.name).collect::<Vec<_>>()
        )
    })
}

#[tokio::test]
async fn spans_are_exported_as_hash_hash_name_nested_like_the_chain() {
    let handler = Handler::builder()
        .middleware(step("outer", Pass))
        .traced()
        .middleware(step("annotate", Annotate))
        .traced()
        .middleware(step("untraced", Pass))
        .untraced()
        .handler(echo)
        .unwrap();

    let spans = export(|| async {
        let response = handler.invoke_with(json!({ "id": 7 }), &Context::default()).await;
        assert_eq!(response.unwrap(), json!({ "echo": { "id": 7 } }));
    })
    .await;

    let mut names: Vec<_> = spans.iter().map(|span| span.name.to_string()).collect();
    names.sort();
    assert_eq!(names, ["## annotate", "## outer", "handler_work"]);

    let outer = by_name(&spans, "## outer");
    let annotate = by_name(&spans, "## annotate");
    let work = by_name(&spans, "handler_work");
    assert_eq!(annotate.parent_span_id, outer.span_context.span_id());
    assert_eq!(work.parent_span_id, annotate.span_context.span_id());
    assert_eq!(annotate.span_context.trace_id(), outer.span_context.trace_id());
    assert_eq!(attribute(outer, "middleware"), Some(&Value::from("outer")));
    assert_eq!(outer.status, Status::Ok);

    // Annotations are attributes, with their types.
    assert_eq!(attribute(annotate, "Step"), Some(&Value::from("annotate")));
    assert_eq!(attribute(annotate, "Calls"), Some(&Value::I64(1)));
    assert_eq!(attribute(outer, "Step"), None);
}

#[tokio::test]
async fn a_failure_sets_the_error_status_with_the_message() {
    let handler = Handler::builder()
        .middleware(step("refuse", Fail))
        .traced()
        .handler(echo)
        .unwrap();

    let spans = export(|| async {
        assert!(handler.invoke_with(json!(1), &Context::default()).await.is_err());
    })
    .await;

    let refuse = by_name(&spans, "## refuse");
    assert_eq!(refuse.status, Status::error("refuse refused the event"));
    assert_eq!(attribute(refuse, "error.type"), Some(&Value::from("StepFailed")));
}

#[tokio::test]
async fn the_handler_segment_is_a_span_with_its_annotations_as_attributes() {
    use lambda_middleware::middlewares::{CaptureLambdaHandler, CaptureLambdaHandlerParams};

    let handler = Handler::builder()
        .middleware_with(
            CaptureLambdaHandler,
            CaptureLambdaHandlerParams::builder().name("get_booking").build(),
        )
        .middleware(step("inner", Pass))
        .traced()
        .middleware(step("refuse", Fail))
        .handler(echo)
        .unwrap();

    let spans = export(|| async {
        let error = handler.invoke_with(json!(1), &Context::default()).await.unwrap_err();
        assert_eq!(error.to_string(), "refuse refused the event");
    })
    .await;

    let mut names: Vec<_> = spans.iter().map(|span| span.name.to_string()).collect();
    names.sort();
    assert_eq!(names, ["## get_booking", "## inner"]);
    let segment = by_name(&spans, "## get_booking");
    let inner = by_name(&spans, "## inner");
    assert_eq!(inner.parent_span_id, segment.span_context.span_id());
    // Which invocation of this test process is the first depends on the order the
    // tests run in; the X-Ray tests check the value in processes of their own.
    assert!(matches!(attribute(segment, "ColdStart"), Some(Value::Bool(_))));
    assert_eq!(
        attribute(segment, "Service"),
        None,
        "POWERTOOLS_SERVICE_NAME is not set"
    );
    assert_eq!(attribute(segment, "handler"), Some(&Value::from("get_booking")));
    assert_eq!(segment.status, Status::error("refuse refused the event"));
    assert_eq!(attribute(segment, "error.type"), Some(&Value::from("StepFailed")));
}
