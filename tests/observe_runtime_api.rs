//! Logs and metrics under the real run loop: `observe::init()` and `Metrics` in a
//! function process run by `lambda_runtime::run_concurrent` against a loopback Runtime
//! API, with eight invocations in flight at once. Every line the function writes to
//! standard output is parsed as JSON; no line carries another invocation's request id,
//! and no metrics document another invocation's metrics.

mod common;
mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::emf;
use common::lines::Ordered;
use serde_json::json;
use support::runtime_api::{Queued, RuntimeApi, TIMEOUT, serve_function, start_function};

const INVOCATIONS: usize = 8;

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// Eight events, each with its own request id, correlation id and X-Ray trace.
fn queue_events(api: &RuntimeApi) {
    for n in 0..INVOCATIONS {
        let mut event = Queued::json(
            format!("req-{n}"),
            &json!({ "n": n, "headers": { "x-correlation-id": format!("corr-{n}") } }),
        );
        event.trace_id = format!("Root=1-65f1a2b3-5759e988bd862e3fe1be46a{n};Parent=53995c3f42cd8ad8;Sampled=0");
        api.queue(event);
    }
}

/// The JSON lines of the process's output. The test harness prints around the
/// function (`running 1 test`, and `test lambda_function ... ` with no newline, in
/// front of the function's first line); every other line must be JSON.
fn json_lines(output: &str) -> Vec<Ordered> {
    output
        .lines()
        .map(|line| line.strip_prefix("test lambda_function ... ").unwrap_or(line))
        .filter(|line| !line.is_empty() && *line != "running 1 test")
        .map(Ordered::parse)
        .collect()
}

#[test]
fn eight_concurrent_invocations_log_and_measure_each_on_its_own() {
    let api = RuntimeApi::start();
    queue_events(&api);
    let start = now_ms();
    let mut function = start_function(
        "observed",
        &api,
        &[
            ("AWS_LAMBDA_MAX_CONCURRENCY", "8"),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            ("POWERTOOLS_SERVICE_NAME", "bookings"),
            ("POWERTOOLS_METRICS_NAMESPACE", "ServerlessAirline"),
        ],
    );
    api.wait_for_posts(INVOCATIONS, TIMEOUT, &mut function);
    let posts = api.posts_by_request_id();
    for n in 0..INVOCATIONS {
        assert_eq!(posts[&format!("req-{n}")].response(), json!(n));
    }
    let output = function.output();
    let lines = json_lines(&output);
    let (documents, logs): (Vec<_>, Vec<_>) = lines.into_iter().partition(|line| line.get("_aws").is_some());

    // Four log lines per invocation: LogEvent's event, and three from the handler.
    assert_eq!(logs.len(), 4 * INVOCATIONS, "{output}");
    let mut cold_starts = 0;
    for line in &logs {
        let n: usize = match line["message"].as_str() {
            Some("lambda event") => line["event"]["n"].as_u64().unwrap() as usize,
            _ => line["n"].as_u64().unwrap_or_else(|| panic!("{line:?}")) as usize,
        };
        assert_eq!(line["function_request_id"], json!(format!("req-{n}")), "{line:?}");
        assert_eq!(line["correlation_id"], json!(format!("corr-{n}")), "{line:?}");
        assert_eq!(
            line["xray_trace_id"],
            json!(format!("1-65f1a2b3-5759e988bd862e3fe1be46a{n}")),
            "{line:?}"
        );
        assert_eq!(line["service"], "bookings");
        assert_eq!(line["function_name"], "test-function");
        assert_eq!(line["function_memory_size"], 128);
        assert_eq!(
            line["function_arn"],
            "arn:aws:lambda:us-east-1:123456789012:function:test-function"
        );
        if line["cold_start"] == true && line["message"] == "lambda event" {
            cold_starts += 1;
        }
    }
    assert_eq!(cold_starts, 1, "one cold start in the process: {output}");
    // In flight at once: every invocation logged "before" ahead of the first "after".
    let order: Vec<&str> = logs
        .iter()
        .filter_map(|line| line["message"].as_str())
        .filter(|message| *message == "before" || *message == "after")
        .collect();
    assert_eq!(order[..INVOCATIONS], ["before"; INVOCATIONS], "{output}");

    // One metrics document per invocation, and the ColdStart one.
    let latest = now_ms();
    let documents: Vec<_> = documents
        .iter()
        .map(|line| emf::check(&serde_json::to_string(&line.value()).unwrap(), start, latest))
        .collect();
    assert_eq!(documents.len(), INVOCATIONS + 1, "{output}");
    let mut seen = BTreeMap::new();
    for document in &documents {
        assert_eq!(document.namespace, "ServerlessAirline");
        if document.values.contains_key("ColdStart") {
            assert_eq!(document.dimensions["function_name"], "test-function");
            continue;
        }
        let n = document.values["Nights"][0] as usize;
        assert_eq!(document.values["Nights"], [n as f64, (n + 10) as f64]);
        assert_eq!(document.other["request_id"], json!(format!("req-{n}")));
        assert_eq!(document.dimensions["service"], "bookings");
        seen.insert(n, ());
    }
    assert_eq!(seen.len(), INVOCATIONS);
}

#[test]
fn without_inject_lambda_context_the_runtime_s_span_gives_each_line_its_request_id() {
    let api = RuntimeApi::start();
    queue_events(&api);
    let mut function = start_function(
        "plain",
        &api,
        &[("AWS_LAMBDA_MAX_CONCURRENCY", "8"), ("AWS_LAMBDA_LOG_FORMAT", "json")],
    );
    api.wait_for_posts(INVOCATIONS, TIMEOUT, &mut function);
    let output = function.output();
    let logs = json_lines(&output);
    assert_eq!(logs.len(), 2 * INVOCATIONS, "{output}");
    for line in &logs {
        let n = line["n"].as_u64().unwrap();
        assert_eq!(
            line.keys(),
            [
                "level",
                "location",
                "message",
                "timestamp",
                "service",
                "function_request_id",
                "n",
                "xray_trace_id"
            ]
        );
        assert_eq!(line["service"], "service_undefined");
        assert_eq!(line["function_request_id"], json!(format!("req-{n}")), "{line:?}");
        assert_eq!(
            line["xray_trace_id"],
            json!(format!("1-65f1a2b3-5759e988bd862e3fe1be46a{n}"))
        );
    }
}

#[test]
fn text_lines_by_default() {
    let api = RuntimeApi::start();
    queue_events(&api);
    let mut function = start_function("plain", &api, &[("AWS_LAMBDA_MAX_CONCURRENCY", "8")]);
    api.wait_for_posts(INVOCATIONS, TIMEOUT, &mut function);
    let output = function.output();
    assert!(!output.contains("{\"level\""), "{output}");
    for n in 0..INVOCATIONS {
        let expected = format!(":Lambda runtime invoke{{requestId=\"req-{n}\"");
        assert_eq!(
            output.lines().filter(|line| line.contains(&expected)).count(),
            2,
            "{expected}\n{output}"
        );
    }
}

/// Starts `function` with `env` and waits for it to stop; its output.
fn stopped_at_start(function: &str, env: &[(&str, &str)]) -> String {
    let api = RuntimeApi::start();
    let mut function = start_function(function, &api, env);
    let started = Instant::now();
    while function.exited().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "still running: {}",
            function.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    function.output()
}

#[test]
fn a_bad_value_stops_the_function_at_start_with_a_message_that_names_it() {
    for (name, value, expected) in [
        (
            "POWERTOOLS_LOG_LEVEL",
            "LOUD",
            "environment variable POWERTOOLS_LOG_LEVEL is \"LOUD\"; expected one of TRACE, DEBUG, INFO, \
             WARN (or WARNING), ERROR, CRITICAL or FATAL (both as ERROR), in any case",
        ),
        (
            "AWS_LAMBDA_LOG_LEVEL",
            "verbose",
            "environment variable AWS_LAMBDA_LOG_LEVEL is \"verbose\"; expected one of TRACE,",
        ),
        (
            "POWERTOOLS_LOGGER_SAMPLE_RATE",
            "10%",
            "environment variable POWERTOOLS_LOGGER_SAMPLE_RATE is \"10%\"; expected a number from 0 to 1 \
             (0.1 logs one invocation in ten at DEBUG)",
        ),
        (
            "AWS_LAMBDA_LOG_FORMAT",
            "yaml",
            "environment variable AWS_LAMBDA_LOG_FORMAT is \"yaml\"; expected JSON or Text, in any case",
        ),
        (
            "POWERTOOLS_LOGGER_LOG_EVENT",
            "sometimes",
            "environment variable POWERTOOLS_LOGGER_LOG_EVENT is \"sometimes\"; expected one of \
             1, y, yes, t, true, on (true) or 0, n, no, f, false, off (false), in any case",
        ),
        (
            "POWERTOOLS_METRICS_DISABLED",
            "nope",
            "environment variable POWERTOOLS_METRICS_DISABLED is \"nope\"; expected one of 1, y, yes",
        ),
    ] {
        let output = stopped_at_start("log_event", &[(name, value), ("POWERTOOLS_METRICS_NAMESPACE", "Shop")]);
        assert!(output.contains(expected), "{name}={value}:\n{output}");
    }
}

#[test]
fn powertools_logger_log_event_turns_log_event_off_and_on() {
    for (value, forced, expected) in [("false", false, 0), ("true", false, 1), ("0", true, 1), ("", false, 1)] {
        let api = RuntimeApi::start();
        api.queue(Queued::json("req-1", &json!({ "n": 1 })));
        let function = if forced { "log_event_forced" } else { "log_event" };
        let env = [
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            ("POWERTOOLS_LOGGER_LOG_EVENT", value),
            ("POWERTOOLS_METRICS_NAMESPACE", "Shop"),
        ];
        let mut function = start_function(function, &api, &env);
        api.wait_for_posts(1, TIMEOUT, &mut function);
        let output = function.output();
        let events = json_lines(&output)
            .iter()
            .filter(|line| line.get("message") == Some(&json!("lambda event")))
            .count();
        assert_eq!(
            events, expected,
            "POWERTOOLS_LOGGER_LOG_EVENT={value:?}, forced: {forced}\n{output}"
        );
    }
}

/// `POWERTOOLS_DEV` turns metrics off unless `POWERTOOLS_METRICS_DISABLED` says
/// otherwise, as Powertools reads the two.
#[test]
fn powertools_dev_turns_metrics_off_unless_powertools_metrics_disabled_says_otherwise() {
    for (dev, disabled, written) in [
        ("true", "", false),
        ("true", "false", true),
        ("", "", true),
        ("false", "true", false),
    ] {
        let api = RuntimeApi::start();
        queue_events(&api);
        let env = [
            ("AWS_LAMBDA_MAX_CONCURRENCY", "8"),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            ("POWERTOOLS_METRICS_NAMESPACE", "ServerlessAirline"),
            ("POWERTOOLS_DEV", dev),
            ("POWERTOOLS_METRICS_DISABLED", disabled),
        ];
        let mut function = start_function("observed", &api, &env);
        api.wait_for_posts(INVOCATIONS, TIMEOUT, &mut function);
        let output = function.output();
        let documents = json_lines(&output)
            .iter()
            .filter(|line| line.get("_aws").is_some())
            .count();
        assert_eq!(
            documents > 0,
            written,
            "POWERTOOLS_DEV={dev:?} POWERTOOLS_METRICS_DISABLED={disabled:?}\n{output}"
        );
    }
}

/// Powertools' order: Lambda's advanced logging controls (`AWS_LAMBDA_LOG_LEVEL`) win
/// over `POWERTOOLS_LOG_LEVEL`, with Powertools' warning when the latter asks for more.
#[test]
fn aws_lambda_log_level_wins_over_powertools_log_level_with_a_warning() {
    for (powertools, lambda, logged, warned) in [
        ("DEBUG", "WARN", 0, true),  // WARN wins: the INFO event line is not written
        ("ERROR", "INFO", 1, false), // INFO wins, and asks for more than POWERTOOLS_LOG_LEVEL: no warning
        ("WARN", "", 0, false),      // no advanced logging controls: POWERTOOLS_LOG_LEVEL holds
    ] {
        let api = RuntimeApi::start();
        api.queue(Queued::json("req-1", &json!({ "n": 1 })));
        let env = [
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            ("POWERTOOLS_LOG_LEVEL", powertools),
            ("AWS_LAMBDA_LOG_LEVEL", lambda),
            ("POWERTOOLS_METRICS_NAMESPACE", "Shop"),
        ];
        let mut function = start_function("log_event", &api, &env);
        api.wait_for_posts(1, TIMEOUT, &mut function);
        let output = function.output();
        let warning = format!(
            "lambda-middleware: Current log level ({}) does not match AWS Lambda Advanced Logging Controls \
             minimum log level",
            powertools.replace("WARN", "WARNING")
        );
        // The warning is a plain line on standard error; every other line is JSON.
        let json: String = output
            .lines()
            .map(|line| line.strip_prefix("test lambda_function ... ").unwrap_or(line))
            .filter(|line| !line.starts_with("lambda-middleware: "))
            .map(|line| format!("{line}\n"))
            .collect();
        let events = json_lines(&json)
            .iter()
            .filter(|line| line.get("message") == Some(&json!("lambda event")))
            .count();
        let label = format!("POWERTOOLS_LOG_LEVEL={powertools} AWS_LAMBDA_LOG_LEVEL={lambda}");
        assert_eq!(events, logged, "{label}\n{output}");
        assert_eq!(output.contains(&warning), warned, "{label}\n{output}");
    }
}

/// The function process: started by the tests above, never by `cargo test` itself.
#[test]
#[ignore = "the Lambda function process the other tests start"]
fn lambda_function() {
    serve_function(4, |name| async move {
        match name.as_str() {
            "observed" => functions::observed().await,
            "plain" => functions::plain().await,
            "log_event" => functions::log_event(None).await,
            "log_event_forced" => functions::log_event(Some(true)).await,
            other => panic!("no function named {other:?}"),
        }
    });
}

mod functions {
    use std::sync::OnceLock;
    use std::time::Duration;

    use lambda_middleware::middlewares::{
        CorrelationId, CorrelationIdParams, InjectLambdaContext, LogEvent, LogEventParams,
    };
    use lambda_middleware::observe::{self, MetricUnit, Metrics, MetricsParams};
    use lambda_middleware::{Error, Handler};
    use lambda_runtime::LambdaEvent;
    use serde_json::Value;
    use tokio::sync::Barrier;

    /// Holds each invocation until all eight are in flight (or ten seconds passed).
    async fn all_in_flight() {
        static BARRIER: OnceLock<Barrier> = OnceLock::new();
        let barrier = BARRIER.get_or_init(|| Barrier::new(super::INVOCATIONS));
        let _ = tokio::time::timeout(Duration::from_secs(10), barrier.wait()).await;
    }

    pub async fn observed() -> Result<(), Error> {
        observe::init()?;
        let handler = Handler::builder()
            .middleware(InjectLambdaContext)
            .middleware_with(CorrelationId, CorrelationIdParams::default())
            .middleware_with(
                Metrics,
                MetricsParams::builder().capture_cold_start_metric(true).build(),
            )
            .middleware_with(LogEvent, LogEventParams::default())
            .handler(|event: LambdaEvent<Value>| async move {
                let n = event.payload["n"].as_u64().unwrap_or_default();
                let metrics = Metrics::current()?;
                tracing::info!(n, "before");
                metrics.add_metric("Nights", MetricUnit::Count, n as f64)?;
                all_in_flight().await;
                tracing::info!(n, "after");
                metrics.add_metric("Nights", MetricUnit::Count, (n + 10) as f64)?;
                tokio::task::yield_now().await;
                Metrics::current()?.add_metadata("request_id", &event.context.request_id)?;
                tracing::warn!(n, "last");
                Ok::<_, Error>(Value::from(n))
            })?;
        lambda_runtime::run_concurrent(handler).await
    }

    /// `LogEvent` left to `POWERTOOLS_LOGGER_LOG_EVENT`, or told by its params; and
    /// `Metrics`, for `POWERTOOLS_METRICS_DISABLED`.
    pub async fn log_event(enabled: Option<bool>) -> Result<(), Error> {
        observe::init()?;
        let params = match enabled {
            Some(enabled) => LogEventParams::builder().enabled(enabled).build(),
            None => LogEventParams::builder().build(),
        };
        let handler = Handler::builder()
            .middleware_with(Metrics, MetricsParams::builder().build())
            .middleware_with(LogEvent, params)
            .handler(|event: LambdaEvent<Value>| async move { Ok::<_, Error>(event.payload) })?;
        lambda_runtime::run(handler).await
    }

    pub async fn plain() -> Result<(), Error> {
        observe::init()?;
        let handler = Handler::builder().handler(|event: LambdaEvent<Value>| async move {
            let n = event.payload["n"].as_u64().unwrap_or_default();
            tracing::info!(n, "before");
            all_in_flight().await;
            tracing::info!(n, "after");
            Ok::<_, Error>(n)
        })?;
        lambda_runtime::run_concurrent(handler).await
    }
}
