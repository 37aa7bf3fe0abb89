//! Panics in a traced chain under the real run loop: `lambda_runtime::run` against a
//! loopback Runtime API, with `XrayLayer` sending to a UDP socket the test listens on.
//! The invocation that panicked is posted as an error and sent as a fault with the
//! panic's message; the next invocation is served and sent clean.
#![cfg(feature = "xray")]

mod support;

use std::collections::HashMap;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::runtime_api::{Queued, RuntimeApi, TIMEOUT, serve_function, start_function};

const PARENT: &str = "53995c3f42cd8ad8";

/// A sampled header of its own for invocation `n`.
fn trace(n: u32) -> (String, String) {
    let trace_id = format!("1-5759e988-{n:024x}");
    let header = format!("Root={trace_id};Parent={PARENT};Sampled=1");
    (trace_id, header)
}

/// Every document that arrives on `socket` until `count` have, or the timeout.
fn receive(socket: &UdpSocket, count: usize) -> Vec<Value> {
    let started = Instant::now();
    let mut buffer = vec![0; 70_000];
    let mut documents = Vec::new();
    while documents.len() < count {
        assert!(
            started.elapsed() < TIMEOUT,
            "{} of {count} documents: {documents:?}",
            documents.len()
        );
        let Ok(length) = socket.recv(&mut buffer) else { continue };
        let text = std::str::from_utf8(&buffer[..length]).unwrap();
        let document = text
            .strip_prefix("{\"format\": \"json\", \"version\": 1}\n")
            .unwrap_or_else(|| panic!("no header line: {text}"));
        documents.push(serde_json::from_str(document).unwrap());
    }
    // Nothing more may come: a second for stragglers.
    socket.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    if let Ok(length) = socket.recv(&mut buffer) {
        panic!("an extra document: {}", String::from_utf8_lossy(&buffer[..length]));
    }
    documents
}

#[test]
fn a_panic_in_a_traced_chain_is_a_fault_and_the_next_invocation_is_served() {
    let daemon = UdpSocket::bind("127.0.0.1:0").unwrap();
    daemon.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let address = daemon.local_addr().unwrap().to_string();

    let api = RuntimeApi::start();
    let cases = [
        ("req-ok", json!({ "order": 1 })),
        ("req-middleware", json!({ "order": 2, "panic": "middleware" })),
        ("req-handler", json!({ "order": 3, "panic": "handler" })),
        ("req-next", json!({ "order": 4 })),
    ];
    let mut traces = HashMap::new();
    for (n, (id, event)) in (1..).zip(&cases) {
        let (trace_id, header) = trace(n);
        api.queue(Queued::json(*id, event).trace_id(header));
        traces.insert(*id, trace_id);
    }
    let mut function = start_function("panics", &api, &[("AWS_XRAY_DAEMON_ADDRESS", &address)]);
    api.wait_for_posts(cases.len(), TIMEOUT, &mut function);

    let posts = api.posts_by_request_id();
    assert_eq!(posts["req-ok"].response(), json!({ "order": 1 }));
    assert_eq!(
        posts["req-middleware"].error(),
        ("Panic".to_owned(), "explode panicked on order 2".to_owned())
    );
    assert_eq!(
        posts["req-handler"].error(),
        ("Panic".to_owned(), "no stock for order 3".to_owned())
    );
    assert_eq!(posts["req-next"].response(), json!({ "order": 4 }));

    // Two subsegments per invocation, `## explode` inside `## guard`.
    let documents = receive(&daemon, 2 * cases.len());
    for (id, _) in &cases {
        let of_invocation: Vec<&Value> = documents.iter().filter(|d| d["trace_id"] == traces[id]).collect();
        let names: Vec<&str> = of_invocation.iter().map(|d| d["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["## explode", "## guard"], "{id}: {documents:?}");
        let (explode, guard) = (of_invocation[0], of_invocation[1]);
        assert_eq!(explode["parent_id"], guard["id"], "{id}");
        assert_eq!(guard["parent_id"], PARENT, "{id}");
        let message = match *id {
            "req-middleware" => Some("explode panicked on order 2"),
            "req-handler" => Some("no stock for order 3"),
            _ => None,
        };
        for document in [explode, guard] {
            assert_eq!(document["type"], "subsegment");
            match message {
                Some(message) => {
                    assert_eq!(document["fault"], true, "{id}: {document}");
                    let exceptions = document["cause"]["exceptions"].as_array().unwrap();
                    assert_eq!(exceptions.len(), 1);
                    assert_eq!(exceptions[0]["message"], message, "{id}");
                    assert_eq!(exceptions[0]["type"], "Panic", "{id}");
                }
                None => assert!(document.get("fault").is_none(), "{id}: {document}"),
            }
        }
    }
}

/// The function process: started by the test above, never by `cargo test` itself.
#[test]
#[ignore = "the Lambda function process the other tests start"]
fn lambda_function() {
    serve_function(2, |name| {
        assert_eq!(name, "panics");
        async move { function::panics().await }
    });
}

mod function {
    use lambda_middleware::trace::xray::XrayLayer;
    use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
    use serde_json::Value;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    /// Runs the rest of the chain, traced.
    struct Guard;

    impl Middleware<Value, Value> for Guard {
        type Params = ();
        const TRACE_EXECUTION: Option<bool> = Some(true);

        fn name(&self) -> &'static str {
            "guard"
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
            Ok(next.run(event).await?)
        }
    }

    /// Panics on `"panic": "middleware"`, traced.
    struct Explode;

    impl Middleware<Value, Value> for Explode {
        type Params = ();
        const TRACE_EXECUTION: Option<bool> = Some(true);

        fn name(&self) -> &'static str {
            "explode"
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
            if event["panic"] == "middleware" {
                panic!("explode panicked on order {}", event["order"]);
            }
            Ok(next.run(event).await?)
        }
    }

    async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
        if event["panic"] == "handler" {
            panic!("no stock for order {}", event["order"]);
        }
        Ok(event)
    }

    pub async fn panics() -> Result<(), Error> {
        tracing_subscriber::registry().with(XrayLayer::try_from_env()?).init();
        let handler = Handler::builder()
            .middleware(Guard)
            .middleware(Explode)
            .handler(handler)?;
        lambda_runtime::run(handler).await
    }
}
