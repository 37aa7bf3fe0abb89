//! `CaptureLambdaHandler`, the handler's own segment, through `XrayLayer` to a UDP
//! socket standing in for the daemon: in this process on a chain invoked by hand, and
//! in function processes under `lambda_runtime::run` and `run_concurrent` against a
//! loopback Runtime API, where `ColdStart` is true for exactly one invocation.
#![cfg(feature = "xray")]

mod common;
mod support;

use std::collections::HashMap;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

use common::Behaviour::{Early, Pass};
use common::{echo, step};
use lambda_middleware::middlewares::{CaptureLambdaHandler, CaptureLambdaHandlerParams};
use lambda_middleware::trace::xray::XrayLayer;
use lambda_middleware::{Context, Error, Handler, Tracer};
use lambda_runtime::layers::trace::request_span;
use serde_json::{Value, json};
use support::runtime_api::{Queued, RuntimeApi, TIMEOUT, serve_function, start_function};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

const TRACE: &str = "1-5759e988-bd862e3fe1be46a994272793";
const PARENT: &str = "53995c3f42cd8ad8";

fn header(trace: &str) -> String {
    format!("Root={trace};Parent={PARENT};Sampled=1")
}

fn daemon_socket() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    socket
}

/// `count` documents from `socket`, then a second of silence: nothing more was sent.
fn receive(socket: &UdpSocket, count: usize) -> Vec<Value> {
    let started = Instant::now();
    let mut buffer = vec![0; 70_000];
    let mut documents: Vec<Value> = Vec::new();
    while documents.len() < count {
        assert!(
            started.elapsed() < TIMEOUT,
            "{} of {count}: {documents:?}",
            documents.len()
        );
        let Ok(length) = socket.recv(&mut buffer) else { continue };
        let text = std::str::from_utf8(&buffer[..length]).unwrap();
        let document = text
            .strip_prefix("{\"format\": \"json\", \"version\": 1}\n")
            .unwrap_or_else(|| panic!("no header line: {text}"));
        documents.push(serde_json::from_str(document).unwrap());
    }
    socket.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    if let Ok(length) = socket.recv(&mut buffer) {
        panic!("an extra document: {}", String::from_utf8_lossy(&buffer[..length]));
    }
    socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    documents
}

fn context() -> Context {
    let mut context = Context::default();
    context.xray_trace_id = Some(header(TRACE));
    context
}

/// As `lambda_runtime::run` does: inside the runtime's request span.
async fn invoke<C>(handler: &Handler<C>, event: Value) -> Result<Value, Error>
where
    C: lambda_middleware::chain::Chain<Value, Response = Value>,
{
    let context = context();
    let span = request_span(&context);
    let invocation = span.in_scope(|| handler.invoke_with(event, &context));
    invocation.instrument(span).await
}

fn params() -> CaptureLambdaHandlerParams {
    CaptureLambdaHandlerParams::builder().name("get_booking").build()
}

/// The namespace metadata goes under in this process: `POWERTOOLS_SERVICE_NAME` is
/// not set for the tests.
fn namespace() -> String {
    Tracer::new().namespace().to_owned()
}

#[tokio::test]
async fn the_segment_wraps_the_chain_with_its_annotations_and_the_response_or_the_error() {
    let socket = daemon_socket();
    let layer = XrayLayer::with_daemon_address(&socket.local_addr().unwrap().to_string());
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    let handler = Handler::builder()
        .middleware_with(CaptureLambdaHandler, params())
        .middleware(step("inner", Pass))
        .traced()
        .handler(|event: Value, _: &Context| async move {
            match event["case"].as_str() {
                Some("fail") => Err(common::StepFailed("handler").into()),
                Some("panic") => panic!("no booking {}", event["id"]),
                Some("null") => Ok(Value::Null),
                _ => {
                    let _span = tracing::info_span!("handler_work").entered();
                    Ok::<_, Error>(json!({ "echo": event }))
                }
            }
        })
        .unwrap();

    assert_eq!(
        invoke(&handler, json!({ "id": 1 })).await.unwrap(),
        json!({ "echo": { "id": 1 } })
    );
    let documents = receive(&socket, 3);
    let names: Vec<_> = documents.iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["handler_work", "## inner", "## get_booking"]);
    let segment = &documents[2];
    assert_eq!(segment["parent_id"], PARENT);
    assert_eq!(segment["trace_id"], TRACE);
    assert_eq!(documents[1]["parent_id"], segment["id"]);
    assert_eq!(documents[0]["parent_id"], documents[1]["id"]);
    // Whether this is the process's first invocation depends on the other tests here;
    // the function processes below check which one sees `true`.
    assert!(segment["annotations"]["ColdStart"].is_boolean(), "{segment}");
    assert_eq!(
        segment["annotations"].as_object().unwrap().len(),
        1,
        "no Service without POWERTOOLS_SERVICE_NAME"
    );
    assert_eq!(
        segment["metadata"][namespace()],
        json!({ "get_booking response": { "echo": { "id": 1 } } })
    );
    assert!(segment.get("fault").is_none());

    let error = invoke(&handler, json!({ "id": 2, "case": "fail" })).await.unwrap_err();
    assert_eq!(error.to_string(), "handler refused the event");
    let documents = receive(&socket, 2);
    let segment = &documents[1];
    assert_eq!(segment["name"], "## get_booking");
    assert_eq!(segment["annotations"]["ColdStart"], false);
    assert_eq!(segment["fault"], true);
    assert_eq!(
        segment["cause"]["exceptions"][0]["message"],
        "handler refused the event"
    );
    assert_eq!(segment["cause"]["exceptions"][0]["type"], "StepFailed");
    assert_eq!(
        segment["metadata"][namespace()],
        json!({ "get_booking error": "handler refused the event" })
    );

    // A response that serialises to `null` is not captured, as Powertools skips `None`.
    assert_eq!(invoke(&handler, json!({ "case": "null" })).await.unwrap(), Value::Null);
    let documents = receive(&socket, 2);
    assert_eq!(
        documents[1]["metadata"],
        json!({ "tracing": { "handler": "get_booking" } })
    );
    assert!(documents[1].get("fault").is_none());

    // A panic: a fault with its message, the span closed once, and the next invocation
    // is clean (`receive` fails on any extra document).
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // Polled once by hand: nothing in this invocation waits.
        let mut invocation = std::pin::pin!(invoke(&handler, json!({ "id": 3, "case": "panic" })));
        let _ = std::future::Future::poll(
            invocation.as_mut(),
            &mut std::task::Context::from_waker(std::task::Waker::noop()),
        );
    }))
    .expect_err("the handler panics");
    assert_eq!(payload.downcast_ref::<String>().unwrap(), "no booking 3");
    let documents = receive(&socket, 2);
    for document in &documents {
        assert_eq!(document["fault"], true, "{document}");
        assert_eq!(document["cause"]["exceptions"][0]["message"], "no booking 3");
        assert_eq!(document["cause"]["exceptions"][0]["type"], "Panic");
    }
    assert_eq!(documents[1]["name"], "## get_booking");
    // A panic is not an error to capture.
    assert_eq!(
        documents[1]["metadata"],
        json!({ "tracing": { "handler": "get_booking" } })
    );
}

#[tokio::test]
async fn an_early_answer_inside_is_captured_as_the_response() {
    let socket = daemon_socket();
    let layer = XrayLayer::with_daemon_address(&socket.local_addr().unwrap().to_string());
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    let handler = Handler::builder()
        .middleware_with(CaptureLambdaHandler, params())
        .middleware(step("cache", Early))
        .handler(echo)
        .unwrap();

    assert_eq!(invoke(&handler, json!(1)).await.unwrap(), json!({ "early": "cache" }));
    let documents = receive(&socket, 1);
    assert_eq!(documents[0]["name"], "## get_booking");
    // The early answer is the inner middleware's (its own span says so), not the handler's.
    assert!(documents[0]["annotations"].get("early_response").is_none());
    assert_eq!(
        documents[0]["metadata"][namespace()],
        json!({ "get_booking response": { "early": "cache" } })
    );
}

#[tokio::test]
async fn without_a_trace_header_nothing_is_sent() {
    let socket = daemon_socket();
    let layer = XrayLayer::with_daemon_address(&socket.local_addr().unwrap().to_string());
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    let handler = Handler::builder()
        .middleware_with(CaptureLambdaHandler, params())
        .handler(echo)
        .unwrap();
    let mut context = Context::default();
    context.xray_trace_id = Some(format!("Root={TRACE};Parent={PARENT};Sampled=0"));
    let span = request_span(&context);
    handler.invoke_with(json!(1), &context).instrument(span).await.unwrap();
    handler.invoke_with(json!(1), &Context::default()).await.unwrap();
    let mut buffer = [0; 1024];
    socket.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    assert!(socket.recv(&mut buffer).is_err(), "nothing may be sent");
}

/// Runs `function` under the runtime on `events` (each with a sampled trace of its
/// own), and returns the `## get_booking` document of each, by request id.
fn segments_under_the_runtime(function: &str, events: usize, env: &[(&str, &str)]) -> HashMap<String, Value> {
    let socket = daemon_socket();
    let address = socket.local_addr().unwrap().to_string();
    let api = RuntimeApi::start();
    let mut traces = HashMap::new();
    for n in 0..events {
        let trace_id = format!("1-5759e988-{n:024x}");
        let id = format!("req-{n}");
        api.queue(Queued::json(&id, &json!({ "n": n })).trace_id(header(&trace_id)));
        traces.insert(trace_id, id);
    }
    let mut env = env.to_vec();
    env.push(("AWS_XRAY_DAEMON_ADDRESS", &address));
    env.push(("POWERTOOLS_SERVICE_NAME", "bookings"));
    let mut process = start_function(function, &api, &env);
    api.wait_for_posts(events, TIMEOUT, &mut process);
    let posts = api.posts_by_request_id();
    for n in 0..events {
        assert_eq!(posts[&format!("req-{n}")].response(), json!({ "n": n }));
    }
    receive(&socket, events)
        .into_iter()
        .map(|document| {
            assert_eq!(document["name"], "## get_booking");
            assert_eq!(document["parent_id"], PARENT);
            let id = traces[document["trace_id"].as_str().unwrap()].clone();
            (id, document)
        })
        .collect()
}

#[test]
fn under_run_the_first_invocation_is_the_cold_start_and_the_service_is_annotated() {
    let segments = segments_under_the_runtime("sequential", 3, &[]);
    for (n, cold) in [(0, true), (1, false), (2, false)] {
        let segment = &segments[&format!("req-{n}")];
        assert_eq!(
            segment["annotations"],
            json!({ "ColdStart": cold, "Service": "bookings" }),
            "req-{n}"
        );
        assert_eq!(
            segment["metadata"],
            json!({
                "bookings": { "get_booking response": { "n": n } },
                "tracing": { "handler": "get_booking" },
            })
        );
    }
}

#[test]
fn under_run_concurrent_exactly_one_invocation_is_the_cold_start() {
    let segments = segments_under_the_runtime("concurrent", 8, &[("AWS_LAMBDA_MAX_CONCURRENCY", "4")]);
    assert_eq!(segments.len(), 8);
    let cold = segments
        .values()
        .filter(|segment| segment["annotations"]["ColdStart"] == true)
        .count();
    assert_eq!(cold, 1, "{segments:?}");
    for segment in segments.values() {
        assert_eq!(segment["annotations"]["Service"], "bookings");
    }
}

/// The function processes: started by the tests above, never by `cargo test` itself.
#[test]
#[ignore = "the Lambda function process the other tests start"]
fn lambda_function() {
    serve_function(2, |name| {
        async move {
            tracing::subscriber::set_global_default(tracing_subscriber::registry().with(XrayLayer::try_from_env()?))?;
            let handler = Handler::builder()
                .middleware_with(CaptureLambdaHandler, params())
                .handler(|event: Value, _: &Context| async move {
                    // Long enough for the concurrent invocations to overlap.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Ok::<_, Error>(event)
                })?;
            match name.as_str() {
                "sequential" => lambda_runtime::run(handler).await,
                "concurrent" => lambda_runtime::run_concurrent(handler).await,
                other => panic!("no function named {other:?}"),
            }
        }
    });
}
