//! End to end: the `trace_opentelemetry` example exports its `## name` spans, nested
//! and with their annotations as attributes, over OTLP/HTTP to a receiver this test
//! runs on 127.0.0.1 — on its bundled event, and under a loopback Runtime API with
//! `lambda_runtime`'s `OpenTelemetryLayer`, which flushes after every invocation.
//! Every wait is bounded.
#![cfg(feature = "opentelemetry")]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::examples::binary;
use support::process::{Running, run_bounded};
use support::runtime_api::{Queued, RuntimeApi};

const EXAMPLE: &str = "trace_opentelemetry";
const TIMEOUT: Duration = Duration::from_secs(60);

/// A minimal OTLP/HTTP receiver: answers every `POST /v1/traces` with `200 {}` and
/// keeps the JSON bodies. HTTP/1.1 with keep-alive and `Content-Length` bodies, which
/// is what the exporter's client sends.
struct Receiver {
    address: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let address = format!("http://{}", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&bodies);
        // Detached: it serves until the test process ends, and never blocks it.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let kept = Arc::clone(&kept);
                std::thread::spawn(move || serve(stream, &kept));
            }
        });
        Receiver { address, bodies }
    }

    /// Every span received so far.
    fn spans(&self) -> Vec<Value> {
        let bodies = self.bodies.lock().unwrap();
        let mut spans = Vec::new();
        for body in bodies.iter() {
            for resource in body["resourceSpans"].as_array().into_iter().flatten() {
                for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                    spans.extend(scope["spans"].as_array().into_iter().flatten().cloned());
                }
            }
        }
        spans
    }

    /// Waits until `count` spans have arrived, or panics after the timeout.
    fn wait_for_spans(&self, count: usize, function: Option<&mut Running>) -> Vec<Value> {
        let started = Instant::now();
        let mut function = function;
        loop {
            let spans = self.spans();
            if spans.len() >= count {
                return spans;
            }
            let output = function.as_mut().map(|f| f.output()).unwrap_or_default();
            assert!(
                started.elapsed() < TIMEOUT,
                "{} of {count} spans within {TIMEOUT:?}: {spans:#?}\n{output}",
                spans.len()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn serve(stream: TcpStream, kept: &Mutex<Vec<Value>>) {
    stream.set_read_timeout(Some(TIMEOUT)).ok();
    let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let request_line = line.trim().to_owned();
        let mut length = 0;
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let status = if request_line.starts_with("POST /v1/traces ") {
            match serde_json::from_slice(&body) {
                Ok(json) => {
                    kept.lock().unwrap().push(json);
                    "200 OK"
                }
                Err(_) => "400 Bad Request",
            }
        } else {
            "404 Not Found"
        };
        let response = format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}");
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn by_name<'a>(spans: &'a [Value], name: &str) -> Vec<&'a Value> {
    spans.iter().filter(|span| span["name"] == name).collect()
}

/// The value of an attribute, whatever its OTLP type (`stringValue`, `boolValue`, ...).
fn attribute<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|attribute| attribute["key"] == key)
        .and_then(|attribute| attribute["value"].as_object())
        .and_then(|value| value.values().next())
}

fn command(binary: &std::path::Path, receiver: &Receiver) -> Command {
    let mut command = Command::new(binary);
    for variable in [
        "AWS_LAMBDA_RUNTIME_API",
        "POWERTOOLS_TRACE_DISABLED",
        "POWERTOOLS_SERVICE_NAME",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ] {
        command.env_remove(variable);
    }
    command
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.address)
        .env("OTEL_SERVICE_NAME", "products");
    command
}

/// The two spans of one invocation: the handler's segment, and the middleware's span
/// inside it, in one trace, with their annotations as attributes.
fn check_invocation<'a>(segment: &'a Value, middleware: &Value, cold_start: bool) -> &'a Value {
    assert_eq!(middleware["traceId"], segment["traceId"]);
    assert_eq!(middleware["parentSpanId"], segment["spanId"], "{middleware}");
    assert_eq!(
        attribute(segment, "ColdStart"),
        Some(&Value::Bool(cold_start)),
        "{segment}"
    );
    assert_eq!(
        attribute(segment, "handler").and_then(Value::as_str),
        Some("get_product")
    );
    assert_eq!(
        attribute(middleware, "ProductId").and_then(Value::as_str),
        Some("1"),
        "{middleware}"
    );
    assert_eq!(
        attribute(middleware, "middleware").and_then(Value::as_str),
        Some("validate_product")
    );
    for span in [segment, middleware] {
        assert_eq!(span["traceId"].as_str().unwrap().len(), 32, "{span}");
        assert_eq!(span["spanId"].as_str().unwrap().len(), 16, "{span}");
        let start: u64 = span["startTimeUnixNano"].to_string().trim_matches('"').parse().unwrap();
        let end: u64 = span["endTimeUnixNano"].to_string().trim_matches('"').parse().unwrap();
        assert!(start > 0 && start <= end, "{span}");
    }
    segment
}

#[test]
fn the_example_exports_its_spans_over_otlp_when_run_locally() {
    let Some(binary) = binary(EXAMPLE) else { return };
    let receiver = Receiver::start();
    let (status, stdout, stderr) = run_bounded(EXAMPLE, command(binary, &receiver), TIMEOUT);
    assert!(status.success(), "{EXAMPLE} failed:\n{stdout}\n{stderr}");
    // The example shuts the provider down before it exits: everything has arrived.
    let spans = receiver.wait_for_spans(2, None);
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let segment = by_name(&spans, "## get_product");
    let middleware = by_name(&spans, "## validate_product");
    assert_eq!((segment.len(), middleware.len()), (1, 1), "{spans:#?}");
    let segment = check_invocation(segment[0], middleware[0], true);
    assert!(
        segment.get("parentSpanId").is_none_or(|parent| parent == ""),
        "the root locally: {segment}"
    );
    // The resource names the service.
    let bodies = receiver.bodies.lock().unwrap();
    let resource = &bodies[0]["resourceSpans"][0]["resource"];
    assert_eq!(
        attribute(resource, "service.name").and_then(Value::as_str),
        Some("products")
    );
}

#[test]
fn under_the_runtime_each_invocation_is_flushed_under_its_invocation_span() {
    let Some(binary) = binary(EXAMPLE) else { return };
    let receiver = Receiver::start();
    let api = RuntimeApi::start();
    let event = std::fs::read_to_string(format!("{}/examples/events/{EXAMPLE}.json", env!("CARGO_MANIFEST_DIR")))
        .expect("the bundled event");
    api.queue(Queued::raw("first", &event));
    api.queue(Queued::raw("second", &event));
    let mut command = command(binary, &receiver);
    api.lambda_env(&mut command);
    let mut function = Running::spawn(EXAMPLE, command);
    api.wait_for_posts(2, TIMEOUT, &mut function);

    // Three spans per invocation: the runtime's invocation span, the segment, the
    // middleware's. Flushed after each invocation, so all six arrive while the
    // function still runs.
    let spans = receiver.wait_for_spans(6, Some(&mut function));
    assert_eq!(spans.len(), 6, "{spans:#?}");
    let invocations = by_name(&spans, "test-function");
    let segments = by_name(&spans, "## get_product");
    let middlewares = by_name(&spans, "## validate_product");
    assert_eq!((invocations.len(), segments.len(), middlewares.len()), (2, 2, 2));
    let mut cold = Vec::new();
    for invocation in invocations {
        let request_id = attribute(invocation, "faas.invocation_id")
            .and_then(Value::as_str)
            .unwrap();
        let segment = segments
            .iter()
            .find(|s| s["parentSpanId"] == invocation["spanId"])
            .unwrap();
        let middleware = middlewares
            .iter()
            .find(|m| m["parentSpanId"] == segment["spanId"])
            .unwrap();
        let cold_start = request_id == "first";
        check_invocation(segment, middleware, cold_start);
        assert_eq!(segment["traceId"], invocation["traceId"]);
        assert_eq!(
            attribute(invocation, "faas.trigger").and_then(Value::as_str),
            Some("http")
        );
        cold.push((request_id.to_owned(), attribute(invocation, "faas.coldstart").cloned()));
    }
    cold.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        cold,
        [
            ("first".to_owned(), Some(Value::Bool(true))),
            ("second".to_owned(), Some(Value::Bool(false)))
        ]
    );
}
