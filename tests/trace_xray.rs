//! The X-Ray layer against a UDP socket standing in for the daemon: what a
//! three-middleware invocation sends, and what it must not.
#![cfg(feature = "xray")]

mod common;

use std::collections::HashMap;
use std::net::UdpSocket;
use std::time::Duration;

use common::Behaviour::{Annotate, Early, Fail, Pass};
use common::{echo, step};
use lambda_middleware::trace::xray::{DAEMON_HEADER, MAX_DATAGRAM_BYTES, XrayLayer};
use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded, Tracer};
use lambda_runtime::layers::trace::request_span;
use serde_json::{Value, json};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

const TRACE: &str = "1-5759e988-bd862e3fe1be46a994272793";
const LAMBDA_PARENT: &str = "53995c3f42cd8ad8";

fn header(trace: &str, sampled: bool) -> String {
    format!("Root={trace};Parent={LAMBDA_PARENT};Sampled={}", u8::from(sampled))
}

/// A socket standing in for the daemon, and a subscriber that sends to it.
struct Daemon {
    socket: UdpSocket,
    _subscriber: tracing::subscriber::DefaultGuard,
}

impl Daemon {
    fn start() -> Daemon {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let layer = XrayLayer::with_daemon_address(&socket.local_addr().unwrap().to_string());
        let subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
        Daemon {
            socket,
            _subscriber: subscriber,
        }
    }

    /// The next `count` documents, each checked for the header line and parsed.
    fn receive(&self, count: usize) -> Vec<Value> {
        let mut buffer = vec![0; 70_000];
        (0..count)
            .map(|_| {
                let length = self.socket.recv(&mut buffer).expect("a datagram within the timeout");
                assert!(length <= MAX_DATAGRAM_BYTES, "{length} bytes");
                let text = std::str::from_utf8(&buffer[..length]).unwrap();
                let document = text
                    .strip_prefix("{\"format\": \"json\", \"version\": 1}\n")
                    .unwrap_or_else(|| panic!("no header line: {text}"));
                assert_eq!(DAEMON_HEADER, "{\"format\": \"json\", \"version\": 1}\n");
                serde_json::from_str(document).unwrap_or_else(|error| panic!("{error}: {document}"))
            })
            .collect()
    }
}

fn context(trace_header: &str) -> Context {
    let mut context = Context::default();
    context.request_id = "req-1".into();
    context.xray_trace_id = Some(trace_header.to_owned());
    context
}

/// Runs an invocation the way `lambda_runtime::run` and `run_concurrent` do: inside
/// the runtime's own request span, which carries the context's trace header. The
/// chain's first span is made when `invoke_with` is called, so the request span is
/// entered for the call as well as for every poll.
async fn invoke<C>(handler: &Handler<C>, event: Value, context: &Context) -> Result<Value, Error>
where
    C: lambda_middleware::chain::Chain<Value, Response = Value>,
{
    let span = request_span(context);
    let invocation = span.in_scope(|| handler.invoke_with(event, context));
    invocation.instrument(span).await
}

fn is_hex(text: &str, digits: usize) -> bool {
    text.len() == digits && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The rules every document follows.
fn check_rules(document: &Value) {
    let name = document["name"].as_str().expect("a name");
    assert!(!name.is_empty() && name.chars().count() <= 200, "{name}");
    assert!(
        name.chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/%&#=+\\-@".contains(c)),
        "{name}"
    );
    assert!(is_hex(document["id"].as_str().unwrap(), 16), "{document}");
    assert!(is_hex(document["parent_id"].as_str().unwrap(), 16), "{document}");
    assert_eq!(document["type"], "subsegment");
    assert_eq!(document["trace_id"], TRACE);
    let start = document["start_time"].as_f64().unwrap();
    let end = document["end_time"].as_f64().unwrap();
    assert!(start > 1.5e9 && start <= end, "{document}");
}

#[tokio::test]
async fn a_three_middleware_invocation_sends_one_subsegment_per_span_chained_by_parent_ids() {
    let daemon = Daemon::start();
    let handler = Handler::builder()
        .middleware(step("outer", Pass))
        .traced()
        .middleware(step("annotate", Annotate))
        .traced()
        .middleware(step("inner", Pass))
        .traced()
        .handler(echo)
        .unwrap();

    let response = invoke(&handler, json!({ "id": 7 }), &context(&header(TRACE, true))).await;
    assert_eq!(response.unwrap(), json!({ "echo": { "id": 7 } }));

    // Spans close innermost first.
    let documents = daemon.receive(4);
    let names: Vec<_> = documents.iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["handler_work", "## inner", "## annotate", "## outer"]);
    documents.iter().for_each(check_rules);

    let by_name: HashMap<&str, &Value> = names.iter().copied().zip(&documents).collect();
    assert_eq!(by_name["## outer"]["parent_id"], LAMBDA_PARENT);
    assert_eq!(by_name["## annotate"]["parent_id"], by_name["## outer"]["id"]);
    assert_eq!(by_name["## inner"]["parent_id"], by_name["## annotate"]["id"]);
    assert_eq!(by_name["handler_work"]["parent_id"], by_name["## inner"]["id"]);
    let ids: std::collections::HashSet<_> = documents.iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 4);

    let annotated = by_name["## annotate"];
    assert_eq!(annotated["annotations"], json!({ "Step": "annotate", "Calls": 1 }));
    assert_eq!(
        annotated["metadata"][Tracer::new().namespace()]["event"],
        json!({ "id": 7 })
    );
    assert_eq!(annotated["metadata"]["tracing"]["middleware"], "annotate");
    assert!(by_name["## outer"].get("annotations").is_none());
    assert_eq!(by_name["handler_work"]["metadata"]["tracing"]["rows"], 3);
    for document in &documents {
        assert!(document.get("fault").is_none() && document.get("cause").is_none());
    }
}

#[tokio::test]
async fn a_failure_is_a_fault_with_its_cause_on_every_span_it_fails_through() {
    let daemon = Daemon::start();
    let handler = Handler::builder()
        .middleware(step("outer", Pass))
        .traced()
        .middleware(step("refuse", Fail))
        .traced()
        .handler(echo)
        .unwrap();

    let error = invoke(&handler, json!(1), &context(&header(TRACE, true)))
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "refuse refused the event");

    let documents = daemon.receive(2);
    for document in &documents {
        check_rules(document);
        assert_eq!(document["fault"], true, "{document}");
        let exception = &document["cause"]["exceptions"][0];
        assert!(is_hex(exception["id"].as_str().unwrap(), 16));
        assert_eq!(exception["message"], "refuse refused the event");
        assert_eq!(exception["type"], "StepFailed");
    }
}

#[tokio::test]
async fn an_early_response_is_annotated() {
    let daemon = Daemon::start();
    let handler = Handler::builder()
        .middleware(step("cache", Early))
        .traced()
        .handler(echo)
        .unwrap();

    invoke(&handler, json!(1), &context(&header(TRACE, true)))
        .await
        .unwrap();
    let documents = daemon.receive(1);
    assert_eq!(documents[0]["annotations"]["early_response"], true);
    assert!(documents[0].get("fault").is_none());
}

#[tokio::test]
async fn unsampled_and_missing_traces_send_nothing() {
    let daemon = Daemon::start();
    let handler = Handler::builder()
        .middleware(step("outer", Annotate))
        .traced()
        .handler(echo)
        .unwrap();

    // Nothing may arrive from these; a marker invocation afterwards proves it, since
    // datagrams from one socket arrive in order on the loopback.
    let unsampled = "1-5759e988-000000000000000000000000";
    invoke(&handler, json!(1), &context(&header(unsampled, false)))
        .await
        .unwrap();
    invoke(
        &handler,
        json!(1),
        &context(&format!("Root={unsampled};Parent={LAMBDA_PARENT}")),
    )
    .await
    .unwrap();
    invoke(&handler, json!(1), &context("garbage")).await.unwrap();
    handler.invoke_with(json!(1), &Context::default()).await.unwrap(); // no header at all
    invoke(&handler, json!(1), &Context::default()).await.unwrap(); // runtime span without a trace

    invoke(&handler, json!("marker"), &context(&header(TRACE, true)))
        .await
        .unwrap();
    let documents = daemon.receive(2);
    assert_eq!(documents[0]["name"], "handler_work");
    assert_eq!(documents[1]["name"], "## outer");
    for document in &documents {
        assert_eq!(document["trace_id"], TRACE);
    }
}

#[tokio::test]
async fn concurrent_invocations_land_in_their_own_traces() {
    let daemon = Daemon::start();
    let handler = Handler::builder()
        .middleware(step("outer", Pass))
        .traced()
        .handler(|event: Value, _: &Context| async move {
            tokio::task::yield_now().await;
            Ok::<_, Error>(event)
        })
        .unwrap();

    let other_trace = "1-5759e988-111111111111111111111111";
    let first = context(&header(TRACE, true));
    let second = context(&format!("Root={other_trace};Parent=0000000000000001;Sampled=1"));
    let (a, b) = tokio::join!(invoke(&handler, json!(1), &first), invoke(&handler, json!(2), &second));
    assert_eq!((a.unwrap(), b.unwrap()), (json!(1), json!(2)));

    let documents = daemon.receive(2);
    let parent_of = |trace: &str| {
        let in_trace: Vec<_> = documents.iter().filter(|d| d["trace_id"] == trace).collect();
        assert_eq!(in_trace.len(), 1, "{documents:?}");
        in_trace[0]["parent_id"].as_str().unwrap().to_owned()
    };
    assert_eq!(parent_of(TRACE), LAMBDA_PARENT);
    assert_eq!(parent_of(other_trace), "0000000000000001");
}

#[tokio::test]
async fn a_daemon_that_is_not_listening_changes_nothing() {
    let closed = UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap().to_string();
    drop(closed);
    let layer = XrayLayer::with_daemon_address(&address);
    assert!(layer.daemon_address().is_some());
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));

    let handler = Handler::builder()
        .middleware(step("outer", Annotate))
        .traced()
        .middleware(step("inner", Pass))
        .traced()
        .handler(echo)
        .unwrap();
    // Repeatedly: the port-unreachable errors the first sends provoke must not
    // surface in later ones.
    for i in 0..20 {
        let response = invoke(&handler, json!(i), &context(&header(TRACE, true)))
            .await
            .unwrap();
        assert_eq!(response, json!({ "echo": i }));
    }
}

#[tokio::test]
async fn an_unusable_daemon_address_changes_nothing() {
    for address in ["", "not-an-address", "tcp:127.0.0.1:2000", "127.0.0.1:99999"] {
        let layer = XrayLayer::with_daemon_address(address);
        assert_eq!(layer.daemon_address(), None, "{address}");
        let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
        let handler = Handler::builder()
            .middleware(step("outer", Annotate))
            .traced()
            .handler(echo)
            .unwrap();
        let response = invoke(&handler, json!(1), &context(&header(TRACE, true)))
            .await
            .unwrap();
        assert_eq!(response, json!({ "echo": 1 }));
    }
}

/// A middleware with a name X-Ray does not accept, and metadata too large to send.
struct Unruly(&'static str);

impl Middleware<Value, Value> for Unruly {
    type Params = ();

    fn name(&self) -> &'static str {
        self.0
    }

    async fn call<'n, I>(
        &self,
        _: &(),
        event: Value,
        _: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        let tracer = Tracer::with_namespace("big");
        tracer.put_metadata("blob", &"m".repeat(100_000));
        tracer.put_annotation("kept", true);
        tracer.put_annotation("bad key", true);
        tracer.put_metadata_in("AWS.reserved", "k", &1);
        Ok(next.run(event).await?)
    }
}

#[tokio::test]
async fn forbidden_characters_long_names_and_huge_metadata_still_make_valid_documents() {
    let daemon = Daemon::start();
    let long: &'static str = Box::leak("n<>{}\"\\".repeat(1_500).into_boxed_str());
    let handler = Handler::builder()
        .middleware(Unruly("bad\"name{with}<chars>*"))
        .traced()
        .middleware(Unruly(long))
        .traced()
        .handler(echo)
        .unwrap();

    invoke(&handler, json!(1), &context(&header(TRACE, true)))
        .await
        .unwrap();
    let documents = daemon.receive(3);
    documents.iter().for_each(check_rules);
    assert_eq!(documents[2]["name"], "## bad_name_with__chars__");
    assert_eq!(documents[1]["name"].as_str().unwrap().chars().count(), 200);
    for document in &documents[1..] {
        // The metadata made the document too large, so it went first.
        assert!(document.get("metadata").is_none(), "{document}");
        assert_eq!(document["annotations"], json!({ "kept": true }));
    }
}

/// Runs an invocation that must panic, polling it once by hand (nothing in these chains
/// waits), and returns the panic's message.
fn invoke_panicking<C>(handler: &Handler<C>, event: Value, context: &Context) -> String
where
    C: lambda_middleware::chain::Chain<Value, Response = Value>,
{
    use std::future::Future;
    use std::task::{Context as TaskContext, Waker};

    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut future = std::pin::pin!(invoke(handler, event, context));
        let _ = future.as_mut().poll(&mut TaskContext::from_waker(Waker::noop()));
    }))
    .expect_err("the invocation panics");
    match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(message), _) => (*message).to_owned(),
        (_, Some(message)) => message.clone(),
        _ => panic!("a panic without a message"),
    }
}

/// A daemon socket, and a subscriber that sends to it and also records every span.
fn daemon_and_capture() -> (Daemon, common::capture::Capture) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let layer = XrayLayer::with_daemon_address(&socket.local_addr().unwrap().to_string());
    let capture = common::capture::Capture::default();
    let subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer).with(capture.clone()));
    (
        Daemon {
            socket,
            _subscriber: subscriber,
        },
        capture,
    )
}

/// Checks a document is a fault whose cause is the panic `message`.
fn assert_panic_fault(document: &Value, message: &str) {
    check_rules(document);
    assert_eq!(document["fault"], true, "{document}");
    let exceptions = document["cause"]["exceptions"].as_array().expect("exceptions");
    assert_eq!(exceptions.len(), 1, "{document}");
    assert!(is_hex(exceptions[0]["id"].as_str().unwrap(), 16), "{document}");
    assert_eq!(exceptions[0]["message"], message, "{document}");
    assert_eq!(exceptions[0]["type"], "Panic", "{document}");
}

/// Every middleware span of the capture closed exactly once, none left open.
fn assert_every_span_closed(capture: &common::capture::Capture) {
    let spans = capture.spans();
    let mut closes: Vec<usize> = spans.iter().map(|span| span.closed.expect("closed")).collect();
    let count = closes.len();
    closes.sort_unstable();
    closes.dedup();
    assert_eq!(closes.len(), count, "two spans share a close: {spans:?}");
}

#[tokio::test]
async fn a_panicking_middleware_is_a_fault_with_the_panic_message_and_the_next_invocation_is_clean() {
    let (daemon, capture) = daemon_and_capture();
    let handler = Handler::builder()
        .middleware(step("outer", Pass))
        .traced()
        .middleware(step("explode", common::Behaviour::Panic))
        .traced()
        .handler(echo)
        .unwrap();

    let message = invoke_panicking(&handler, json!("panic"), &context(&header(TRACE, true)));
    assert_eq!(message, "explode panicked on \"panic\"");
    // The same handler serves the next invocation; its documents come after the
    // panic's on the loopback, so the panic sent exactly two.
    let response = invoke(&handler, json!("next"), &context(&header(TRACE, true))).await;
    assert_eq!(response.unwrap(), json!({ "echo": "next" }));

    let documents = daemon.receive(5);
    let names: Vec<_> = documents.iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["## explode", "## outer", "handler_work", "## explode", "## outer"]
    );
    assert_panic_fault(&documents[0], "explode panicked on \"panic\"");
    assert_panic_fault(&documents[1], "explode panicked on \"panic\"");
    assert_eq!(documents[0]["parent_id"], documents[1]["id"]);
    assert_eq!(documents[1]["parent_id"], LAMBDA_PARENT);
    for document in &documents[2..] {
        check_rules(document);
        assert!(
            document.get("fault").is_none() && document.get("cause").is_none(),
            "{document}"
        );
    }
    assert_every_span_closed(&capture);
    assert_eq!(capture.middleware_spans().len(), 4);
}

#[tokio::test]
async fn a_panicking_handler_is_a_fault_of_the_traced_middleware_around_it() {
    let (daemon, capture) = daemon_and_capture();
    let handler = Handler::builder()
        .middleware(step("guard", Pass))
        .traced()
        .middleware(step("untraced", Pass))
        .untraced()
        .handler(|event: Value, _: &Context| async move {
            if event["order"] == 2 {
                panic!("no stock for order {}", event["order"]);
            }
            Ok::<_, Error>(event)
        })
        .unwrap();

    let message = invoke_panicking(&handler, json!({ "order": 2 }), &context(&header(TRACE, true)));
    assert_eq!(message, "no stock for order 2");
    let response = invoke(&handler, json!({ "order": 3 }), &context(&header(TRACE, true))).await;
    assert_eq!(response.unwrap(), json!({ "order": 3 }));

    let documents = daemon.receive(2);
    assert_eq!(documents[0]["name"], "## guard");
    assert_panic_fault(&documents[0], "no stock for order 2");
    assert_eq!(documents[1]["name"], "## guard");
    assert!(documents[1].get("fault").is_none(), "{}", documents[1]);
    assert_every_span_closed(&capture);
}

/// A hook middleware whose `before` panics on the event `"panic"`: its `before` runs
/// when the layer's future is made, not when it is polled.
struct PanicBefore;

impl Middleware<Value, Value> for PanicBefore {
    type Params = ();
    const TRACE_EXECUTION: Option<bool> = Some(true);

    fn name(&self) -> &'static str {
        "panic_before"
    }

    fn before(&self, _: &(), event: &mut Value, _: &Context) -> Result<lambda_middleware::hooks::Flow<Value>, Error> {
        if *event == "panic" {
            panic!("before refused {event}");
        }
        Ok(lambda_middleware::hooks::Flow::Continue)
    }
}

#[tokio::test]
async fn a_hook_that_panics_as_the_chain_is_made_is_a_fault_too() {
    let (daemon, capture) = daemon_and_capture();
    // Outermost, so its future is made by `invoke_with` itself; and inside another
    // traced middleware, so it is made while the outer one is polled.
    let outermost = Handler::builder().middleware(PanicBefore).handler(echo).unwrap();
    let inner = Handler::builder()
        .middleware(step("outer", Pass))
        .traced()
        .middleware(PanicBefore)
        .handler(echo)
        .unwrap();

    let message = invoke_panicking(&outermost, json!("panic"), &context(&header(TRACE, true)));
    assert_eq!(message, "before refused \"panic\"");
    let message = invoke_panicking(&inner, json!("panic"), &context(&header(TRACE, true)));
    assert_eq!(message, "before refused \"panic\"");
    invoke(&outermost, json!("marker"), &context(&header(TRACE, true)))
        .await
        .unwrap();

    let documents = daemon.receive(5);
    let names: Vec<_> = documents.iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "## panic_before",
            "## panic_before",
            "## outer",
            "handler_work",
            "## panic_before"
        ]
    );
    for document in &documents[..3] {
        assert_panic_fault(document, "before refused \"panic\"");
    }
    assert_eq!(documents[1]["parent_id"], documents[2]["id"]);
    assert!(documents[4].get("fault").is_none());
    assert_every_span_closed(&capture);
}
