//! The example binaries, built once per test binary with the features of the build
//! that runs the tests, so that every test file that runs examples builds the same
//! ones (and none rebuilds them under another's feet).

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use super::process::run_bounded;

pub const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// Building every example from a cold cache on a 2-core machine takes minutes.
const BUILD_TIMEOUT: Duration = Duration::from_secs(25 * 60);

/// Prints past the test harness's output capture: a skipped step must be visible in
/// `cargo test`'s output, not only when a test fails.
pub fn note(message: &str) {
    let _ = writeln!(std::io::stderr(), "note: {message}");
}

/// The example binaries, built once per test binary, by name.
pub fn example_binaries() -> &'static HashMap<String, PathBuf> {
    static BUILT: OnceLock<HashMap<String, PathBuf>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut command = Command::new(cargo);
        command
            .args([
                "build",
                "--examples",
                "--message-format=json-render-diagnostics",
                "--manifest-path",
            ])
            .arg(Path::new(MANIFEST_DIR).join("Cargo.toml"));
        // With the features this test was built with: the examples that need one build
        // when it is on, the tracing examples send what the feature adds, and
        // `cargo test --all-features` (CI) finds them already built.
        let features: Vec<&str> = [
            ("apigw", cfg!(feature = "apigw")),
            ("dynamodb", cfg!(feature = "dynamodb")),
            ("dynamodb_streams", cfg!(feature = "dynamodb_streams")),
            ("http", cfg!(feature = "http")),
            ("idempotency", cfg!(feature = "idempotency")),
            ("jmespath", cfg!(feature = "jmespath")),
            ("kafka", cfg!(feature = "kafka")),
            ("kinesis", cfg!(feature = "kinesis")),
            ("opentelemetry", cfg!(feature = "opentelemetry")),
            ("sqs", cfg!(feature = "sqs")),
            ("timeout", cfg!(feature = "timeout")),
            ("validation", cfg!(feature = "validation")),
            ("xray", cfg!(feature = "xray")),
        ]
        .into_iter()
        .filter_map(|(feature, on)| on.then_some(feature))
        .collect();
        if !features.is_empty() {
            command.arg("--features").arg(features.join(","));
        }
        let (status, stdout, stderr) = run_bounded("cargo build --examples", command, BUILD_TIMEOUT);
        assert!(status.success(), "cargo build --examples failed:\n{stderr}");
        let mut binaries = HashMap::new();
        for line in stdout.lines() {
            let Ok(message) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let is_example = message["target"]["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|kind| kind == "example"));
            if message["reason"] != "compiler-artifact" || !is_example {
                continue;
            }
            if let (Some(name), Some(path)) = (message["target"]["name"].as_str(), message["executable"].as_str()) {
                binaries.insert(name.to_owned(), PathBuf::from(path));
            }
        }
        binaries
    })
}

/// The binary of an example, or `None` (with a note) when it was not built — an
/// example whose `required-features` this build does not have.
pub fn binary(example: &str) -> Option<&'static Path> {
    let binary = example_binaries().get(example).map(PathBuf::as_path);
    if binary.is_none() {
        note(&format!(
            "example {example} was not built (it needs a feature this test build lacks; `cargo test --all-features` runs it)"
        ));
    }
    binary
}
