//! End to end: every example that traces, run as a process with a trace header and
//! `AWS_XRAY_DAEMON_ADDRESS` pointing at a UDP socket this test listens on, sends the
//! subsegments its docs promise — on its bundled event, and under a loopback Runtime
//! API — and every document follows the daemon protocol: the header line, 16-hex ids,
//! the trace id, each `parent_id` the id of the enclosing span (or the header's
//! `Parent`), `type: "subsegment"`, start before end, the example's annotations. An
//! unsampled header sends nothing. Every wait is bounded.
#![cfg(feature = "xray")]

mod support;

use std::collections::HashMap;
use std::net::UdpSocket;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::examples::binary;
use support::process::{Running, run_bounded};
use support::runtime_api::{Queued, RuntimeApi};

const STEP_TIMEOUT: Duration = Duration::from_secs(60);
const PARENT: &str = "53995c3f42cd8ad8";
const HEADER_LINE: &str = "{\"format\": \"json\", \"version\": 1}\n";

/// One document an invocation sends: its name, the name of the span it nests in
/// (`None`: the function's segment, the header's `Parent`), and the annotations it
/// must carry, with `"<number>"` for any number.
type Document = (
    &'static str,
    Option<&'static str>,
    &'static [(&'static str, &'static str)],
);

/// What one traced invocation of an example sends.
struct Expected {
    example: &'static str,
    /// In the order the spans close.
    documents: &'static [Document],
}

const EXAMPLES: [Expected; 4] = [
    Expected {
        example: "middleware_trace_execution",
        documents: &[
            ("fetch_product", Some("## middleware_with_tracing"), &[]),
            ("## middleware_with_tracing", None, &[]),
        ],
    },
    Expected {
        example: "middleware_trace_custom",
        documents: &[
            (
                "fetch_product",
                Some("## middleware_with_advanced_tracing"),
                &[("ProductId", "1")],
            ),
            (
                "## middleware_with_advanced_tracing",
                None,
                &[("TotalExecutionTime", "<number>")],
            ),
        ],
    },
    Expected {
        example: "quickstart",
        documents: &[
            ("## handler", Some("## ValidateOrder"), &[]),
            ("## ValidateOrder", None, &[]),
        ],
    },
    Expected {
        example: "combining_utilities",
        documents: &[("## middleware_custom", None, &[("CustomerId", "1")])],
    },
];

fn is_hex(text: &str, digits: usize) -> bool {
    text.len() == digits && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn trace_id(n: u32) -> String {
    format!("1-{:08x}-{n:024x}", 0x6a00_0000_u32)
}

fn header(trace_id: &str, sampled: bool) -> String {
    format!("Root={trace_id};Parent={PARENT};Sampled={}", u8::from(sampled))
}

/// A UDP socket on 127.0.0.1 standing in for the daemon.
struct Daemon(UdpSocket);

impl Daemon {
    fn start() -> Daemon {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("a loopback UDP port");
        socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        Daemon(socket)
    }

    fn address(&self) -> String {
        self.0.local_addr().unwrap().to_string()
    }

    /// Every document that arrives until `quiet` passes without one (the sender has
    /// finished: a process that exited, or posted its last response), each checked
    /// for the header line and parsed.
    fn drain(&self, quiet: Duration) -> Vec<Value> {
        let mut buffer = vec![0; 70_000];
        let mut documents = Vec::new();
        let mut last = Instant::now();
        while last.elapsed() < quiet {
            let Ok(length) = self.0.recv(&mut buffer) else { continue };
            last = Instant::now();
            let text = std::str::from_utf8(&buffer[..length]).expect("UTF-8");
            let document = text
                .strip_prefix(HEADER_LINE)
                .unwrap_or_else(|| panic!("a datagram without the header line: {text}"));
            documents.push(serde_json::from_str(document).unwrap_or_else(|e| panic!("{e}: {document}")));
        }
        documents
    }
}

/// Checks the documents of one invocation against what the example promises.
fn check(expected: &Expected, trace_id: &str, documents: &[&Value]) {
    let example = expected.example;
    let names: Vec<&str> = documents.iter().map(|d| d["name"].as_str().unwrap_or("?")).collect();
    let expected_names: Vec<&str> = expected.documents.iter().map(|(name, _, _)| *name).collect();
    assert_eq!(names, expected_names, "{example}: {documents:?}");
    let ids: HashMap<&str, &str> = documents
        .iter()
        .map(|d| (d["name"].as_str().unwrap(), d["id"].as_str().unwrap()))
        .collect();
    assert_eq!(ids.len(), documents.len(), "{example}: one document per span");
    for (document, (name, parent, annotations)) in documents.iter().zip(expected.documents) {
        let context = format!("{example}, {name}: {document}");
        assert!(is_hex(document["id"].as_str().unwrap(), 16), "{context}");
        assert!(is_hex(document["parent_id"].as_str().unwrap(), 16), "{context}");
        assert_eq!(document["trace_id"], trace_id, "{context}");
        assert_eq!(document["type"], "subsegment", "{context}");
        let (start, end) = (
            document["start_time"].as_f64().unwrap(),
            document["end_time"].as_f64().unwrap(),
        );
        assert!(start > 1.5e9 && start <= end, "{context}");
        let expected_parent = parent.map_or(PARENT, |parent| ids[parent]);
        assert_eq!(document["parent_id"], expected_parent, "{context}");
        assert!(document.get("fault").is_none(), "{context}");
        let got = document["annotations"].as_object().cloned().unwrap_or_default();
        assert_eq!(got.len(), annotations.len(), "{context}");
        for (key, value) in *annotations {
            match *value {
                "<number>" => assert!(got[*key].as_f64().is_some_and(|n| n >= 0.0), "{context}"),
                value => assert_eq!(got[*key], value, "{context}"),
            }
        }
    }
}

/// The example's process, with the trace environment set and anything else that
/// would change what it does removed.
fn command(binary: &std::path::Path, daemon: &Daemon) -> Command {
    let mut command = Command::new(binary);
    for variable in [
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_LAMBDA_MAX_CONCURRENCY",
        "POWERTOOLS_TRACE_MIDDLEWARES",
        "POWERTOOLS_TRACE_DISABLED",
        "POWERTOOLS_SERVICE_NAME",
        "_X_AMZN_TRACE_ID",
    ] {
        command.env_remove(variable);
    }
    command.env("AWS_XRAY_DAEMON_ADDRESS", daemon.address());
    command
}

#[test]
fn each_tracing_example_sends_its_subsegments_when_run_locally() {
    for (n, expected) in (1..).zip(&EXAMPLES) {
        let Some(binary) = binary(expected.example) else {
            continue;
        };
        let daemon = Daemon::start();
        let trace_id = trace_id(n);
        let mut command = command(binary, &daemon);
        command.env("_X_AMZN_TRACE_ID", header(&trace_id, true));
        let (status, stdout, stderr) = run_bounded(expected.example, command, STEP_TIMEOUT);
        assert!(status.success(), "{} failed:\n{stdout}\n{stderr}", expected.example);
        let documents = daemon.drain(Duration::from_millis(500));
        check(expected, &trace_id, &documents.iter().collect::<Vec<_>>());
    }
}

#[test]
fn an_unsampled_or_missing_trace_header_sends_nothing() {
    for expected in &EXAMPLES {
        let Some(binary) = binary(expected.example) else {
            continue;
        };
        for header in [Some(header(&trace_id(99), false)), None] {
            let daemon = Daemon::start();
            let mut command = command(binary, &daemon);
            if let Some(header) = &header {
                command.env("_X_AMZN_TRACE_ID", header);
            }
            let (status, stdout, stderr) = run_bounded(expected.example, command, STEP_TIMEOUT);
            assert!(status.success(), "{} failed:\n{stdout}\n{stderr}", expected.example);
            let documents = daemon.drain(Duration::from_millis(500));
            assert_eq!(documents, Vec::<Value>::new(), "{} with {header:?}", expected.example);
        }
    }
}

#[test]
fn each_tracing_example_sends_its_subsegments_under_the_lambda_runtime() {
    for (n, expected) in (100..).zip(&EXAMPLES) {
        let Some(binary) = binary(expected.example) else {
            continue;
        };
        let daemon = Daemon::start();
        let api = RuntimeApi::start();
        let event_path = format!(
            "{}/examples/events/{}.json",
            env!("CARGO_MANIFEST_DIR"),
            expected.example
        );
        let event = std::fs::read_to_string(&event_path).expect("the example's bundled event");
        // Two invocations, each in a trace of its own, and an unsampled one between them.
        let traces = [trace_id(n), trace_id(n + 1000)];
        api.queue(Queued::raw("traced-1", &event).trace_id(header(&traces[0], true)));
        api.queue(Queued::raw("unsampled", &event).trace_id(header(&trace_id(n + 2000), false)));
        api.queue(Queued::raw("traced-2", &event).trace_id(header(&traces[1], true)));
        let mut command = command(binary, &daemon);
        api.lambda_env(&mut command);
        command.env("AWS_XRAY_DAEMON_ADDRESS", daemon.address());
        let mut function = Running::spawn(expected.example, command);
        api.wait_for_posts(3, STEP_TIMEOUT, &mut function);
        for id in ["traced-1", "unsampled", "traced-2"] {
            assert!(
                api.posts_by_request_id()[id].response().is_object(),
                "{}: {id}",
                expected.example
            );
        }
        let documents = daemon.drain(Duration::from_millis(500));
        for trace_id in &traces {
            let of_trace: Vec<&Value> = documents.iter().filter(|d| d["trace_id"] == **trace_id).collect();
            check(expected, trace_id, &of_trace);
        }
        assert_eq!(
            documents.len(),
            2 * expected.documents.len(),
            "{}: the unsampled invocation sent something: {documents:?}",
            expected.example
        );
    }
}

#[test]
fn an_invalid_customer_id_is_an_early_answer_without_the_annotation() {
    let expected = &EXAMPLES[3];
    let Some(binary) = binary(expected.example) else { return };
    let daemon = Daemon::start();
    let api = RuntimeApi::start();
    let event_path = format!(
        "{}/examples/events/combining_utilities.missing_customer_id.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let event = std::fs::read_to_string(event_path).expect("the example's event");
    let trace_id = trace_id(3000);
    api.queue(Queued::raw("missing", &event).trace_id(header(&trace_id, true)));
    let mut command = command(binary, &daemon);
    api.lambda_env(&mut command);
    command.env("AWS_XRAY_DAEMON_ADDRESS", daemon.address());
    let mut function = Running::spawn(expected.example, command);
    api.wait_for_posts(1, STEP_TIMEOUT, &mut function);
    assert_eq!(api.posts_by_request_id()["missing"].response()["statusCode"], 400);
    let documents = daemon.drain(Duration::from_millis(500));
    assert_eq!(documents.len(), 1, "{documents:?}");
    assert_eq!(documents[0]["name"], "## middleware_custom");
    assert_eq!(documents[0]["trace_id"], trace_id);
    assert_eq!(documents[0]["annotations"], json!({ "early_response": true }));
}
