//! End to end: every example that has sample events runs three ways, and each answer
//! must match its expected output.
//!
//! | run | how | needs |
//! |-----|-----|-------|
//! | locally | the example binary on its own, printing its response to the bundled event | nothing |
//! | under the runtime | the binary with `AWS_LAMBDA_RUNTIME_API` pointing at a loopback Runtime API (`support::runtime_api`) | nothing |
//! | under `cargo lambda` | `cargo lambda watch --only-lambda-apis` as the emulator, the binary pointed at it, `cargo lambda invoke --data-file` | `cargo-lambda` from `tests/tools/requirements.txt`, installed on first use into the target directory (`support::tools`); skipped with a printed reason only without `python3` |
//!
//! # Events and expected outputs
//!
//! `examples/events/NAME.json` is the event the example `NAME` runs on by itself, and
//! `examples/expected/NAME.json` the response it must give. More cases for the same
//! example are `NAME.CASE.json` in both folders; only the runtime runs use those. In an
//! expected file the string `"<any>"` matches any value, for what differs on every run
//! (request ids, timings). An event without an expected file is not run.
//!
//! # Why `cargo lambda watch --only-lambda-apis`
//!
//! `cargo lambda watch` refuses a package without a `[[bin]]` target, even with
//! `--example`, and this crate is a library. With `--only-lambda-apis` it serves only
//! the Runtime API and starts nothing, so it is run from a throwaway package (a
//! `Cargo.toml` and an empty `main.rs` in a temporary directory), and the examples,
//! built by `cargo build --examples` into this build's target directory, are started
//! against it with `AWS_LAMBDA_RUNTIME_API=http://127.0.0.1:PORT/.rt` — which is what
//! `cargo lambda watch` itself does for a bin target.
//!
//! Every process is started in its own process group and killed when its guard drops,
//! on success and on failure; every wait is bounded.

mod support;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use support::examples::{MANIFEST_DIR, binary, note};
use support::process::{Running, run_bounded};
use support::runtime_api::{PAST_DEADLINE_MS, Queued, RuntimeApi};

/// One run, one invocation, one emulator start: seconds at most.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// The string that matches any value in an expected output.
const ANY: &str = "<any>";

/// One sample event of an example, and what the example must answer.
#[derive(Debug)]
struct Case {
    /// `None` for `NAME.json`, `Some("CASE")` for `NAME.CASE.json`.
    name: Option<String>,
    event: PathBuf,
    expected: Value,
}

impl Case {
    fn label(&self, example: &str) -> String {
        match &self.name {
            Some(case) => format!("{example}.{case}"),
            None => example.to_owned(),
        }
    }
}

/// The examples that have events, by name, with their cases (the bundled one first).
fn examples_with_events() -> &'static BTreeMap<String, Vec<Case>> {
    static EXAMPLES: OnceLock<BTreeMap<String, Vec<Case>>> = OnceLock::new();
    EXAMPLES.get_or_init(find_examples_with_events)
}

fn find_examples_with_events() -> BTreeMap<String, Vec<Case>> {
    let events = Path::new(MANIFEST_DIR).join("examples/events");
    let expected = Path::new(MANIFEST_DIR).join("examples/expected");
    let mut examples: BTreeMap<String, Vec<Case>> = BTreeMap::new();
    for entry in std::fs::read_dir(&events).expect("examples/events exists") {
        let path = entry.expect("a directory entry").path();
        let Some(stem) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        let expected_path = expected.join(format!("{stem}.json"));
        if !expected_path.exists() {
            note(&format!("examples/events/{stem}.json has no expected output; not run"));
            continue;
        }
        let expected_text = std::fs::read_to_string(&expected_path).expect("readable expected output");
        let expected = serde_json::from_str(&expected_text)
            .unwrap_or_else(|error| panic!("{} is not JSON: {error}", expected_path.display()));
        let (example, case) = match stem.split_once('.') {
            Some((example, case)) => (example, Some(case.to_owned())),
            None => (stem, None),
        };
        examples.entry(example.to_owned()).or_default().push(Case {
            name: case,
            event: path.clone(),
            expected,
        });
    }
    for cases in examples.values_mut() {
        cases.sort_by(|a, b| a.name.cmp(&b.name));
    }
    examples
}

/// Checks `actual` against `expected`, where `"<any>"` matches anything; on a
/// mismatch, the message shows where, and both documents.
fn assert_matches(label: &str, expected: &Value, actual: &Value) {
    if let Err(path) = matches(expected, actual, "$") {
        panic!(
            "{label}: the response differs from the expected output at {path}\n\
             expected:\n{}\nactual:\n{}",
            serde_json::to_string_pretty(expected).unwrap(),
            serde_json::to_string_pretty(actual).unwrap()
        );
    }
}

fn matches(expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::String(any), _) if any == ANY => Ok(()),
        (Value::Object(expected), Value::Object(actual)) => {
            for key in expected.keys().chain(actual.keys()) {
                let (Some(e), Some(a)) = (expected.get(key), actual.get(key)) else {
                    return Err(format!("{path}.{key} (present in only one of them)"));
                };
                matches(e, a, &format!("{path}.{key}"))?;
            }
            Ok(())
        }
        (Value::Array(expected), Value::Array(actual)) if expected.len() == actual.len() => expected
            .iter()
            .zip(actual)
            .enumerate()
            .try_for_each(|(i, (e, a))| matches(e, a, &format!("{path}[{i}]"))),
        _ if expected == actual => Ok(()),
        _ => Err(path.to_owned()),
    }
}

/// The environment of a function process, cleared of anything that would change
/// what the example does.
fn function_command(binary: &Path) -> Command {
    let mut command = Command::new(binary);
    for variable in [
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_LAMBDA_MAX_CONCURRENCY",
        "POWERTOOLS_TRACE_MIDDLEWARES",
        "_X_AMZN_TRACE_ID",
    ] {
        command.env_remove(variable);
    }
    command
}

#[test]
fn each_example_answers_its_bundled_event_when_run_locally() {
    for (example, cases) in examples_with_events() {
        let Some(bundled) = cases.iter().find(|case| case.name.is_none()) else {
            continue;
        };
        let Some(binary) = binary(example) else { continue };
        let (status, stdout, stderr) = run_bounded(example, function_command(binary), STEP_TIMEOUT);
        assert!(status.success(), "{example} failed ({status}):\n{stdout}\n{stderr}");
        // The response is the first JSON document printed; some examples print more
        // after it (the quickstart's waterfall).
        let response = serde_json::Deserializer::from_str(&stdout)
            .into_iter::<Value>()
            .next()
            .unwrap_or_else(|| panic!("{example} printed no JSON:\n{stdout}"))
            .unwrap_or_else(|error| panic!("{example} printed no JSON ({error}):\n{stdout}"));
        assert_matches(example, &bundled.expected, &response);
    }
}

#[test]
fn each_example_answers_every_event_under_the_lambda_runtime() {
    for (example, cases) in examples_with_events() {
        let Some(binary) = binary(example) else { continue };
        let api = RuntimeApi::start();
        for (n, case) in cases.iter().enumerate() {
            let event = std::fs::read_to_string(&case.event).expect("readable event");
            // `cargo lambda`'s deadline: far in the past, and never a reason to fail.
            api.queue(Queued::raw(format!("{}-{n}", case.label(example)), &event).deadline_ms(PAST_DEADLINE_MS));
        }
        let mut command = function_command(binary);
        api.lambda_env(&mut command);
        let mut function = Running::spawn(example, command);
        api.wait_for_posts(cases.len(), STEP_TIMEOUT, &mut function);
        let posts = api.posts_by_request_id();
        for (n, case) in cases.iter().enumerate() {
            let label = case.label(example);
            assert_matches(&label, &case.expected, &posts[&format!("{label}-{n}")].response());
        }
    }
}

#[test]
fn each_example_answers_every_event_under_cargo_lambda() {
    let cargo_lambda_path = match support::tools::python() {
        Ok(tools) => tools.cargo_lambda.clone(),
        Err(why) => return support::tools::skip("the cargo lambda end-to-end runs", &why),
    };
    let cargo_lambda = match Command::new(&cargo_lambda_path).args(["lambda", "--version"]).output() {
        Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        other => panic!("{} does not run: {other:?}", cargo_lambda_path.display()),
    };
    support::tools::ran("cargo lambda", "each_example_answers_every_event_under_cargo_lambda");
    note(&format!("running the examples under {cargo_lambda}"));
    let host = EmulatorHost::new();
    for (example, cases) in examples_with_events() {
        let Some(binary) = binary(example) else { continue };
        let port = free_port();
        let _emulator = host.start_emulator(port);

        let mut command = function_command(binary);
        command
            .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{port}/.rt"))
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "4096");
        let mut function = Running::spawn(example, command);

        for case in cases {
            let label = case.label(example);
            let mut invoke = Command::new(&cargo_lambda_path);
            invoke
                .args(["lambda", "invoke", "--invoke-address", "127.0.0.1", "--invoke-port"])
                .arg(port.to_string())
                .arg("--data-file")
                .arg(&case.event)
                .args(["--output-format", "json"]);
            let (status, stdout, stderr) = run_bounded(&format!("cargo lambda invoke ({label})"), invoke, STEP_TIMEOUT);
            function.assert_running();
            assert!(
                status.success(),
                "cargo lambda invoke ({label}) failed ({status}):\n{stdout}\n{stderr}\nthe function's output:\n{}",
                function.output()
            );
            let response: Value = serde_json::from_str(&stdout)
                .unwrap_or_else(|error| panic!("cargo lambda invoke ({label}) printed no JSON ({error}):\n{stdout}"));
            assert_matches(&label, &case.expected, &response);
        }
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// The throwaway package `cargo lambda watch` runs in; removed on drop.
struct EmulatorHost {
    dir: PathBuf,
}

impl EmulatorHost {
    fn new() -> EmulatorHost {
        let dir = std::env::temp_dir().join(format!("lambda-middleware-emulator-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).expect("create the emulator's package");
        std::fs::write(
            dir.join("Cargo.toml"),
            "[package]\nname = \"emulator-host\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n",
        )
        .expect("write Cargo.toml");
        std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").expect("write main.rs");
        EmulatorHost { dir }
    }

    /// `cargo lambda watch --only-lambda-apis` on 127.0.0.1:`port`, once it serves.
    fn start_emulator(&self, port: u16) -> Running {
        let cargo_lambda = &support::tools::python()
            .expect("installed before the emulator starts")
            .cargo_lambda;
        let mut command = Command::new(cargo_lambda);
        command
            .current_dir(&self.dir)
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
            ])
            .arg(port.to_string())
            .env_remove("CARGO_MANIFEST_DIR")
            .env_remove("CARGO_TARGET_DIR");
        let mut emulator = Running::spawn("cargo lambda watch", command);
        emulator.wait_for_output("starting Runtime server", STEP_TIMEOUT);
        emulator
    }
}

impl Drop for EmulatorHost {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The streaming example answers with a stream, not a JSON document, so it has a test of
/// its own: under the runtime, its head (with the middlewares' headers) comes first, then
/// its body, whole, in order, a chunk per line.
#[test]
fn the_streaming_example_streams_its_body_under_the_runtime() {
    let Some(binary) = binary("streaming_response") else {
        return;
    };
    let event = std::fs::read_to_string(Path::new(MANIFEST_DIR).join("examples/events/streaming_response.json"))
        .expect("readable event");
    let api = RuntimeApi::start();
    api.queue(Queued::raw("req-stream", &event));
    let mut command = function_command(binary);
    api.lambda_env(&mut command);
    let mut function = Running::spawn("streaming_response", command);
    api.wait_for_posts(1, STEP_TIMEOUT, &mut function);
    let post = &api.posts_by_request_id()["req-stream"];

    assert_eq!(post.header("Lambda-Runtime-Function-Response-Mode"), Some("streaming"));
    let delimiter = post
        .body
        .windows(8)
        .position(|window| window == [0u8; 8])
        .expect("a prelude");
    let prelude: Value = serde_json::from_slice(&post.body[..delimiter]).expect("a JSON prelude");
    assert_eq!(prelude["statusCode"], 200);
    assert_eq!(prelude["headers"]["content-type"], "text/plain");
    assert_eq!(prelude["headers"]["x-content-type-options"], "nosniff");
    assert_eq!(prelude["headers"]["x-request-id"], "req-stream");
    let body = String::from_utf8(post.body[delimiter + 8..].to_vec()).expect("UTF-8");
    assert_eq!(
        body,
        "line 1 of the report\nline 2 of the report\nline 3 of the report\n"
    );
    let lines: Vec<&Vec<u8>> = post.chunks.iter().filter(|chunk| chunk.starts_with(b"line ")).collect();
    assert_eq!(lines.len(), 3, "a chunk per line");
    // The body's end was seen by the middleware that wrapped it, after the last chunk.
    assert!(
        function.output().contains("body sent: 3 chunks"),
        "{}",
        function.output()
    );
}

#[test]
fn expected_outputs_match_with_wildcards() {
    let expected = serde_json::json!({ "id": ANY, "headers": { "a": ["<any>"], "b": "x" }, "n": [1, 2] });
    let good = serde_json::json!({ "id": 7, "headers": { "a": ["0.001"], "b": "x" }, "n": [1, 2] });
    assert_eq!(matches(&expected, &good, "$"), Ok(()));

    let extra_key = serde_json::json!({ "id": 7, "headers": { "a": ["0.001"], "b": "x", "c": 1 }, "n": [1, 2] });
    assert_eq!(
        matches(&expected, &extra_key, "$"),
        Err("$.headers.c (present in only one of them)".into())
    );
    let missing_key = serde_json::json!({ "headers": { "a": ["0.001"], "b": "x" }, "n": [1, 2] });
    assert!(matches(&expected, &missing_key, "$").is_err());
    let other_value = serde_json::json!({ "id": 7, "headers": { "a": ["0.001"], "b": "y" }, "n": [1, 2] });
    assert_eq!(matches(&expected, &other_value, "$"), Err("$.headers.b".into()));
    let shorter = serde_json::json!({ "id": 7, "headers": { "a": ["0.001"], "b": "x" }, "n": [1] });
    assert_eq!(matches(&expected, &shorter, "$"), Err("$.n".into()));
}
