//! The same logs and metrics from lambda-middleware and from Powertools for AWS Lambda
//! (Python), compared: `tests/powertools/observe.py` runs the same calls with the
//! `aws-lambda-powertools` package (pinned in `tests/powertools/requirements.txt`).
//!
//! Log lines must have the same keys in the same order, and the same values but for
//! `timestamp` (both RFC 3339 in UTC with milliseconds) and `location` (both
//! `name:line`). Metrics documents must be the same JSON but for `Timestamp`, with the
//! root members in the same order.
//!
//! The package is installed on first use into the target directory (`support::tools`);
//! without `python3` the test prints a note and passes, except under `CI=true`.

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::lines::{Lines, Ordered, parse_rfc3339_utc_millis};
use lambda_middleware::middlewares::{CorrelationId, CorrelationIdParams, InjectLambdaContext};
use lambda_middleware::observe::{JsonLogger, LogLevel, MetricResolution, MetricUnit, Metrics, MetricsParams};
use lambda_middleware::{Context, Error, Handler};
use lambda_runtime::Config;
use serde_json::{Value, json};
use tracing::level_filters::LevelFilter;
use tracing_subscriber::layer::{Layer, SubscriberExt};

mod support;

const PINNED: &str = include_str!("powertools/requirements.txt");

/// What Powertools wrote, or `None` (with a printed note) when it cannot run here.
fn powertools_output() -> Option<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/powertools/observe.py");
    let python = match support::tools::python() {
        Ok(tools) => &tools.python,
        Err(why) => {
            support::tools::skip(&format!("the Powertools comparison ({})", PINNED.trim()), &why);
            return None;
        }
    };
    support::tools::ran("Powertools (Python)", "the Powertools comparison");
    let mut command = Command::new(python);
    command
        .arg(&script)
        .env_remove("POWERTOOLS_SERVICE_NAME")
        .env_remove("POWERTOOLS_METRICS_NAMESPACE")
        .env_remove("POWERTOOLS_LOG_LEVEL")
        .env_remove("AWS_LAMBDA_LOG_LEVEL")
        .env_remove("POWERTOOLS_METRICS_DISABLED")
        .env_remove("POWERTOOLS_DEV");
    let (status, stdout, stderr) = support::process::run_bounded("powertools", command, Duration::from_secs(120));
    assert!(
        status.success(),
        "tests/powertools/observe.py failed ({status}): {stderr}"
    );
    let output: Value = serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"));
    let pinned = PINNED.trim().trim_start_matches("aws-lambda-powertools==");
    if output["version"] != pinned {
        let _ = writeln!(
            std::io::stderr(),
            "note: comparing with aws-lambda-powertools {} (pinned: {pinned})",
            output["version"]
        );
    }
    Some(output)
}

fn context(request_id: &str) -> Context {
    let mut context = Context::default();
    context.request_id = request_id.into();
    context.invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bookings-fn".into();
    context.xray_trace_id = Some("Root=1-65f1a2b3-5759e988bd862e3fe1be46a9;Parent=53995c3f42cd8ad8;Sampled=1".into());
    context.env_config = Arc::new(Config {
        function_name: "bookings-fn".into(),
        memory: 256,
        ..Config::default()
    });
    context
}

/// The scenario of `observe.py`, call for call: (log lines, EMF lines).
fn ours() -> (Vec<String>, Vec<String>) {
    let logs = Lines::default();
    let emf = Lines::default();
    let logger = JsonLogger::new("booking")
        .with_sampling_rate(0.5)
        .with_writer(logs.clone())
        .with_filter(LogLevel::new(LevelFilter::INFO));
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(logger));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let log_lines = runtime.block_on(async {
        let logged = Handler::builder()
            .middleware(InjectLambdaContext)
            .middleware_with(CorrelationId, CorrelationIdParams::default())
            .handler(|event: Value, _: &Context| async move {
                tracing::info!(
                    order_id = 7,
                    amount = 1.5,
                    ok = true,
                    guest = "Ada",
                    "Collecting payment"
                );
                tracing::warn!(left = 2, "low stock");
                tracing::error!("payment failed");
                Ok::<_, Error>(event)
            })
            .unwrap();
        for (request_id, correlation_id) in [("c6af9ac6", "order-7"), ("d7b0a1f2", "order-8")] {
            let event = json!({ "headers": { "x-correlation-id": correlation_id } });
            logged.invoke_with(event, &context(request_id)).await.unwrap();
        }
        // Powertools warns of the "none" case below with Python's `warnings`, not its logger.
        let log_lines = logs.lines();

        let params = MetricsParams::builder()
            .namespace("ServerlessAirline")
            .service("booking")
            .default_dimensions([("environment", "prod")])
            .capture_cold_start_metric(true)
            .output(emf.sink())
            .build();
        let measured = Handler::builder()
            .middleware_with(Metrics, params)
            .handler(|case: &'static str, _: &Context| async move {
                let metrics = Metrics::current()?;
                match case {
                    "booking" => {
                        metrics.add_metric("SuccessfulBooking", MetricUnit::Count, 1)?;
                        metrics.add_metric("SuccessfulBooking", MetricUnit::Count, 2)?;
                        metrics.add_metric_with_resolution(
                            "Latency",
                            MetricUnit::Milliseconds,
                            1.5,
                            MetricResolution::High,
                        )?;
                        metrics.add_metric("Throughput", MetricUnit::BytesPerSecond, 1024)?;
                        metrics.add_metric("Ratio", MetricUnit::Percent, 12.25)?;
                        metrics.add_metric("Plain", MetricUnit::NoUnit, -3)?;
                        metrics.add_dimension("route", "/bookings")?;
                        metrics.add_metadata("booking_id", "b-1")?;
                        metrics.add_metadata("stay", json!({ "nights": 3, "rooms": ["12B"] }))?;
                    }
                    "many" => {
                        metrics.add_metadata("request", "r-2")?;
                        for n in 0..150 {
                            metrics.add_metric(&format!("M{n:03}"), MetricUnit::Count, n)?;
                        }
                    }
                    _ => {}
                }
                Ok::<_, Error>(case)
            })
            .unwrap();
        // The process's first invocation is the cold one for every utility of the crate
        // (one claim, by request id); Powertools keeps a flag per utility. The first
        // metrics case stands for that same first invocation, so that each side writes
        // its `ColdStart` metric there.
        for (case, request_id) in [("booking", "c6af9ac6"), ("many", "m-many"), ("none", "m-none")] {
            measured.invoke_with(case, &context(request_id)).await.unwrap();
        }
        log_lines
    });
    (log_lines, emf.lines())
}

fn is_location(value: &Value) -> bool {
    value
        .as_str()
        .and_then(|location| location.rsplit_once(':'))
        .is_some_and(|(name, line)| !name.is_empty() && line.parse::<u32>().is_ok())
}

#[test]
fn logs_and_metrics_match_powertools_for_the_same_calls() {
    let Some(powertools) = powertools_output() else { return };
    let (logs, emf) = ours();

    let theirs: Vec<Ordered> = powertools["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| Ordered::parse(l.as_str().unwrap()))
        .collect();
    let ours: Vec<Ordered> = logs.iter().map(|line| Ordered::parse(line)).collect();
    assert_eq!(ours.len(), theirs.len(), "ours: {logs:#?}\nPowertools: {theirs:#?}");
    for (ours, theirs) in ours.iter().zip(&theirs) {
        assert_eq!(
            ours.keys(),
            theirs.keys(),
            "\nours:       {ours:?}\nPowertools: {theirs:?}"
        );
        for ((key, our_value), (_, their_value)) in ours.0.iter().zip(&theirs.0) {
            match key.as_str() {
                "timestamp" => {
                    parse_rfc3339_utc_millis(our_value.as_str().unwrap());
                    parse_rfc3339_utc_millis(their_value.as_str().unwrap());
                }
                "location" => assert!(
                    is_location(our_value) && is_location(their_value),
                    "{our_value} {their_value}"
                ),
                _ => assert_eq!(
                    our_value, their_value,
                    "{key}\nours:       {ours:?}\nPowertools: {theirs:?}"
                ),
            }
        }
    }

    let without_timestamp = |line: &str| {
        let mut document = Ordered::parse(line);
        for (key, value) in &mut document.0 {
            if key == "_aws" {
                value.as_object_mut().unwrap().remove("Timestamp");
            }
        }
        document
    };
    let theirs: Vec<Ordered> = powertools["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| without_timestamp(l.as_str().unwrap()))
        .collect();
    let ours: Vec<Ordered> = emf.iter().map(|line| without_timestamp(line)).collect();
    assert_eq!(
        ours.len(),
        theirs.len(),
        "ours: {emf:#?}\nPowertools: {:#?}",
        powertools["metrics"]
    );
    assert_eq!(ours.len(), 4); // ColdStart, the booking, and the 150 metrics in two
    for (ours, theirs) in ours.iter().zip(&theirs) {
        assert_eq!(ours.keys(), theirs.keys());
        assert_eq!(ours.value(), theirs.value());
    }
}
