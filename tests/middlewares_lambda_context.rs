//! `InjectLambdaContext`: the context fields on the span, and `cold_start` true for
//! exactly one invocation of the process, however many run at once.
//!
//! One test in this binary: the cold-start flag is process-wide, so nothing else may
//! invoke the middleware first.

mod common;

use std::sync::Arc;

use common::capture::Capture;
use lambda_middleware::middlewares::InjectLambdaContext;
use lambda_middleware::{Context, Error, Handler};
use lambda_runtime::{Config, LambdaEvent};
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt;

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    // Let the other invocations interleave with this one.
    tokio::task::yield_now().await;
    tracing::info!(n = %event.payload["n"], "handled");
    Ok(event.payload)
}

fn context(request_id: &str, trace: Option<&str>) -> Context {
    let mut context = Context::default();
    context.request_id = request_id.into();
    context.invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bookings".into();
    context.xray_trace_id = trace.map(Into::into);
    context.env_config = Arc::new(Config {
        function_name: "bookings".into(),
        version: "$LATEST".into(),
        memory: 256,
        ..Config::default()
    });
    context
}

#[test]
fn the_context_is_on_every_log_line_and_cold_start_is_true_once() {
    let capture = Capture::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(capture.clone()))
        .expect("the only subscriber of this test binary");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .expect("a runtime");

    runtime.block_on(async {
        let handler = Handler::builder()
            .middleware(InjectLambdaContext)
            .handler(handler)
            .unwrap();

        // The process's first invocations arrive together, as under `run_concurrent`.
        let tasks: Vec<_> = (0..16)
            .map(|n| {
                let handler = handler.clone();
                tokio::spawn(async move {
                    let event = LambdaEvent::new(json!({ "n": n }), context(&format!("req-{n}"), None));
                    handler.invoke(event).await.unwrap()
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let traced = context("req-traced", Some("Root=1-65f1a2b3-5759e988bd862e3fe1be46a9"));
        handler
            .invoke(LambdaEvent::new(json!({ "n": 99 }), traced))
            .await
            .unwrap();
    });

    let spans: Vec<_> = capture
        .spans()
        .into_iter()
        .filter(|span| span.name == "lambda_context")
        .collect();
    assert_eq!(spans.len(), 17);
    let cold: Vec<_> = spans
        .iter()
        .filter(|span| span.field("cold_start") == Some("true"))
        .collect();
    assert_eq!(cold.len(), 1, "exactly one cold start: {spans:#?}");
    assert_ne!(spans[16].field("cold_start"), Some("true"));

    let last = &spans[16];
    assert_eq!(last.field("request_id"), Some("req-traced"));
    assert_eq!(last.field("function_name"), Some("bookings"));
    assert_eq!(last.field("function_version"), Some("$LATEST"));
    assert_eq!(last.field("function_memory_size"), Some("256"));
    assert_eq!(
        last.field("function_arn"),
        Some("arn:aws:lambda:eu-west-1:123456789012:function:bookings")
    );
    assert_eq!(
        last.field("xray_trace_id"),
        Some("Root=1-65f1a2b3-5759e988bd862e3fe1be46a9")
    );
    // No trace id: the field is left out, not an empty string.
    assert_eq!(spans[0].field("xray_trace_id"), None);

    // Every line the handler logged is inside its own invocation's span.
    let all_spans = capture.spans();
    let handled: Vec<_> = capture
        .events()
        .into_iter()
        .filter(|event| event.fields.get("message").map(String::as_str) == Some("handled"))
        .collect();
    assert_eq!(handled.len(), 17);
    for event in handled {
        let span = &all_spans[event.span.expect("logged inside a span")];
        assert_eq!(span.name, "lambda_context");
        let n = &event.fields["n"];
        let expected = if n == "99" {
            "req-traced".to_owned()
        } else {
            format!("req-{n}")
        };
        assert_eq!(span.field("request_id"), Some(expected.as_str()));
    }
}
