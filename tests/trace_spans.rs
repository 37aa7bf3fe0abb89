//! With a capturing subscriber: traced middlewares make `## name` spans nested in
//! chain order, untraced ones make none, failures and early responses are marked, and
//! a `Tracer` reports what it adds (or drops).

mod common;

use common::Behaviour::{Annotate, Early, Fail, Pass};
use common::capture::Capture;
use common::{AlwaysTraced, NeverTraced, TRACER, echo, step};
use lambda_middleware::trace::{ANNOTATION_TARGET, METADATA_TARGET};
use lambda_middleware::{Context, Handler};
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt;

fn capture() -> (Capture, tracing::subscriber::DefaultGuard) {
    let capture = Capture::default();
    let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    (capture, guard)
}

fn named(name: &str, parent: Option<&str>) -> (String, Option<String>) {
    (name.to_owned(), parent.map(str::to_owned))
}

#[tokio::test]
async fn traced_middlewares_nest_in_chain_order() {
    let (capture, _guard) = capture();
    let handler = Handler::builder()
        .middleware(step("outer", Pass))
        .traced()
        .middleware(step("middle", Pass))
        .traced()
        .middleware(step("inner", Pass))
        .traced()
        .handler(echo)
        .unwrap();

    let response = handler.invoke_with(json!(1), &Context::default()).await.unwrap();
    assert_eq!(response, json!({ "echo": 1 }));

    assert_eq!(
        capture.middleware_tree(),
        [
            named("## outer", None),
            named("## middle", Some("## outer")),
            named("## inner", Some("## middle")),
        ]
    );
    let spans = capture.spans();
    let outer = &spans[0];
    assert_eq!(outer.field("middleware"), Some("outer"));
    assert_eq!(outer.field("otel.status_code"), Some("OK"));
    assert_eq!(outer.field("error"), None);
    // The handler's own span nests under the innermost middleware.
    let work = spans.iter().find(|span| span.name == "handler_work").unwrap();
    assert_eq!(spans[work.parent.unwrap()].display_name(), "## inner");
    // Inner spans close first: each covers the layers inside it.
    let closed: Vec<_> = capture
        .middleware_spans()
        .iter()
        .map(|span| span.closed.unwrap())
        .collect();
    assert!(closed[2] < closed[1] && closed[1] < closed[0], "{closed:?}");
}

#[tokio::test]
async fn untraced_middlewares_make_no_span() {
    let (capture, _guard) = capture();
    let handler = Handler::builder()
        .middleware(step("outer", Pass))
        .traced()
        .middleware(step("skipped", Pass))
        .untraced()
        .middleware(step("auto", Pass)) // no choice, POWERTOOLS_TRACE_MIDDLEWARES unset
        .middleware(NeverTraced)
        .middleware(AlwaysTraced)
        .handler(echo)
        .unwrap();

    handler.invoke_with(json!(1), &Context::default()).await.unwrap();

    // Untraced layers are transparent: the next traced one nests right under `outer`.
    assert_eq!(
        capture.middleware_tree(),
        [named("## outer", None), named("## AlwaysTraced", Some("## outer"))]
    );
}

#[tokio::test]
async fn failures_mark_the_span_and_every_span_it_fails_through() {
    let (capture, _guard) = capture();
    let handler = Handler::builder()
        .middleware(step("outer", Pass))
        .traced()
        .middleware(step("refuse", Fail))
        .traced()
        .handler(echo)
        .unwrap();

    let error = handler.invoke_with(json!(1), &Context::default()).await.unwrap_err();
    assert_eq!(error.to_string(), "refuse refused the event");

    for span in capture.middleware_spans() {
        assert_eq!(span.field("otel.status_code"), Some("ERROR"), "{span:?}");
        assert_eq!(span.field("error"), Some("true"), "{span:?}");
        assert_eq!(
            span.field("otel.status_description"),
            Some("refuse refused the event"),
            "{span:?}"
        );
        assert_eq!(span.field("error.type"), Some("StepFailed"), "{span:?}");
    }
    assert!(capture.spans().iter().all(|span| span.name != "handler_work"));
}

#[tokio::test]
async fn early_responses_are_marked_on_the_span_that_answered() {
    let (capture, _guard) = capture();
    let handler = Handler::builder()
        .middleware(step("outer", Pass))
        .traced()
        .middleware(step("cache", Early))
        .traced()
        .middleware(step("never", Pass))
        .traced()
        .handler(echo)
        .unwrap();

    let response = handler.invoke_with(json!(1), &Context::default()).await.unwrap();
    assert_eq!(response, json!({ "early": "cache" }));

    let spans = capture.middleware_spans();
    assert_eq!(
        spans.len(),
        2,
        "the layers after an early response do not run: {spans:?}"
    );
    assert_eq!(spans[0].field("early_response"), None);
    assert_eq!(spans[0].field("otel.status_code"), Some("OK"));
    assert_eq!(spans[1].display_name(), "## cache");
    assert_eq!(spans[1].field("early_response"), Some("true"));
    assert_eq!(spans[1].field("otel.status_code"), Some("OK"));
}

#[tokio::test]
async fn tracer_reports_annotations_and_metadata_in_the_middleware_span() {
    let (capture, _guard) = capture();
    let handler = Handler::builder()
        .middleware(step("annotate", Annotate))
        .traced()
        .handler(echo)
        .unwrap();

    handler
        .invoke_with(json!({ "id": 7 }), &Context::default())
        .await
        .unwrap();

    let events = capture.events();
    let annotations: Vec<_> = events.iter().filter(|e| e.target == ANNOTATION_TARGET).collect();
    assert_eq!(annotations.len(), 2);
    assert_eq!(annotations[0].fields["key"], "Step");
    assert_eq!(annotations[0].fields["value"], "\"annotate\"");
    assert_eq!(annotations[1].fields["value"], "1");
    let metadata: Vec<_> = events.iter().filter(|e| e.target == METADATA_TARGET).collect();
    assert_eq!(metadata.len(), 1);
    assert_eq!(metadata[0].fields["namespace"], TRACER.namespace()); // the service name, or `default`
    assert_eq!(metadata[0].fields["value"], r#"{"id":7}"#);
    let span = &capture.spans()[annotations[0].span.unwrap()];
    assert_eq!(span.display_name(), "## annotate");
}

#[tokio::test]
async fn tracer_drops_bad_input_with_a_warning() {
    let (capture, _guard) = capture();
    let unserialisable = std::collections::HashMap::from([(vec![1], 2)]);
    TRACER.put_annotation("user.id", 1);
    TRACER.put_annotation("", "empty");
    TRACER.put_annotation("ratio", f64::INFINITY);
    TRACER.put_metadata_in("AWS.xray", "k", "v");
    TRACER.put_metadata("pairs", &unserialisable);
    TRACER.put_metadata("ok", &Value::Null);

    let events = capture.events();
    let warnings: Vec<_> = events.iter().filter(|e| e.level == tracing::Level::WARN).collect();
    assert_eq!(warnings.len(), 5, "{warnings:#?}");
    assert_eq!(warnings[0].fields["key"], "user.id");
    assert!(warnings[0].fields["message"].contains("[A-Za-z0-9_]+"));
    assert!(warnings[3].fields["message"].contains("AWS."));
    assert!(warnings[4].fields["message"].contains("serialise"));
    assert!(events.iter().all(|e| e.target != ANNOTATION_TARGET));
    assert_eq!(events.iter().filter(|e| e.target == METADATA_TARGET).count(), 1);
}
