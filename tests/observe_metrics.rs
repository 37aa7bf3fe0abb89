//! `observe::Metrics`: every document written is checked against the EMF
//! specification, member by member, and its values exactly.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::capture::Capture;
use common::emf::{self, Emf};
use common::lines::Lines;
use lambda_middleware::observe::{
    InvocationMetrics, MetricResolution, MetricUnit, Metrics, MetricsError, MetricsParams,
};
use lambda_middleware::{BuildError, Context, Error, Handler};
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt;

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn params(lines: &Lines) -> MetricsParams {
    MetricsParams::builder()
        .namespace("ServerlessAirline")
        .service("bookings")
        .default_dimensions([("environment", "prod")])
        .output(lines.sink())
        .build()
}

/// Every line checked against the specification, with timestamps in `[earliest, now]`.
fn documents(lines: &Lines, earliest: u64) -> Vec<Emf> {
    let latest = now_ms();
    lines
        .lines()
        .iter()
        .map(|line| emf::check(line, earliest, latest))
        .collect()
}

fn strings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

async fn book(nights: u32, _: &Context) -> Result<u32, Error> {
    let metrics = Metrics::current()?;
    metrics.add_metric("BookingsConfirmed", MetricUnit::Count, 1)?;
    metrics.add_metric("Nights", MetricUnit::Count, nights)?;
    metrics.add_metric("Nights", MetricUnit::Count, nights + 1)?;
    metrics.add_metric_with_resolution("Latency", MetricUnit::Milliseconds, 12.5, MetricResolution::High)?;
    metrics.add_metric("Throughput", MetricUnit::BytesPerSecond, 1024)?;
    metrics.add_dimension("channel", "web")?;
    metrics.add_metadata("booking", json!({ "id": "b-42", "nights": nights }))?;
    Ok(nights)
}

#[test]
fn one_document_per_invocation_as_the_specification_defines_it() {
    let lines = Lines::default();
    let start = now_ms();
    runtime().block_on(async {
        let handler = Handler::builder()
            .middleware_with(Metrics, params(&lines))
            .handler(book)
            .unwrap();
        assert_eq!(handler.invoke_with(3, &Context::default()).await.unwrap(), 3);
    });
    let documents = documents(&lines, start);
    assert_eq!(documents.len(), 1);
    let document = &documents[0];
    assert_eq!(document.namespace, "ServerlessAirline");
    assert_eq!(document.dimension_sets, [["environment", "channel", "service"]]);
    assert_eq!(
        document.dimensions,
        strings(&[("environment", "prod"), ("channel", "web"), ("service", "bookings")])
    );
    assert_eq!(
        document.definitions,
        [
            ("BookingsConfirmed".to_owned(), "Count".to_owned(), 60),
            ("Nights".to_owned(), "Count".to_owned(), 60),
            ("Latency".to_owned(), "Milliseconds".to_owned(), 1),
            ("Throughput".to_owned(), "Bytes/Second".to_owned(), 60),
        ]
    );
    let values: BTreeMap<String, Vec<f64>> = [
        ("BookingsConfirmed", vec![1.0]),
        ("Nights", vec![3.0, 4.0]),
        ("Latency", vec![12.5]),
        ("Throughput", vec![1024.0]),
    ]
    .into_iter()
    .map(|(name, values)| (name.to_owned(), values))
    .collect();
    assert_eq!(document.values, values);
    assert_eq!(
        document.other,
        [("booking".to_owned(), json!({ "id": "b-42", "nights": 3 }))].into()
    );

    // The text itself: `_aws` first, then dimensions, metadata and values, in order;
    // StorageResolution only on the high-resolution metric.
    let line = &lines.lines()[0];
    let timestamp = document.timestamp;
    assert_eq!(
        line,
        &format!(
            concat!(
                r#"{{"_aws":{{"Timestamp":{},"CloudWatchMetrics":[{{"Namespace":"ServerlessAirline","#,
                r#""Dimensions":[["environment","channel","service"]],"Metrics":[{{"Name":"BookingsConfirmed","Unit":"Count"}},"#,
                r#"{{"Name":"Nights","Unit":"Count"}},{{"Name":"Latency","Unit":"Milliseconds","StorageResolution":1}},"#,
                r#"{{"Name":"Throughput","Unit":"Bytes/Second"}}]}}]}},"environment":"prod","channel":"web","service":"bookings","#,
                r#""booking":{{"id":"b-42","nights":3}},"BookingsConfirmed":[1.0],"Nights":[3.0,4.0],"Latency":[12.5],"Throughput":[1024.0]}}"#
            ),
            timestamp
        )
    );
}

#[derive(Debug, thiserror::Error)]
#[error("card declined")]
struct Declined;

#[test]
fn written_when_the_handler_fails_too() {
    let lines = Lines::default();
    let start = now_ms();
    let error = runtime().block_on(async {
        let handler = Handler::builder()
            .middleware_with(Metrics, params(&lines))
            .handler(|_: u32, _: &Context| async {
                Metrics::current()?.add_metric("PaymentsDeclined", MetricUnit::Count, 1)?;
                Err::<u32, Error>(Declined.into())
            })
            .unwrap();
        handler.invoke_with(1, &Context::default()).await.unwrap_err()
    });
    assert!(error.downcast_ref::<Declined>().is_some(), "{error}");
    let documents = documents(&lines, start);
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0].values["PaymentsDeclined"], [1.0]);
}

#[test]
fn written_once_when_the_invocation_panics_or_is_dropped() {
    let lines = Lines::default();
    let start = now_ms();
    runtime().block_on(async {
        let handler = Handler::builder()
            .middleware_with(Metrics, params(&lines))
            .handler(|n: u32, _: &Context| async move {
                Metrics::current()?.add_metric("Started", MetricUnit::Count, n)?;
                match n {
                    1 => panic!("a bug in the handler"),
                    _ => std::future::pending::<Result<u32, Error>>().await, // never answers
                }
            })
            .unwrap();
        let panicking = handler.clone();
        let joined = tokio::spawn(async move { panicking.invoke_with(1, &Context::default()).await }).await;
        assert!(joined.unwrap_err().is_panic());
        // Dropped while pending, as an outer timeout drops it.
        let stopped =
            tokio::time::timeout(Duration::from_millis(20), handler.invoke_with(2, &Context::default())).await;
        assert!(stopped.is_err());
    });
    let documents = documents(&lines, start);
    assert_eq!(documents.len(), 2, "{:?}", lines.lines());
    assert_eq!(documents[0].values["Started"], [1.0]);
    assert_eq!(documents[1].values["Started"], [2.0]);
}

#[test]
fn no_metrics_warns_or_fails_when_asked() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let lines = Lines::default();
    let quiet = |_: u32, _: &Context| async { Ok::<u32, Error>(7) };
    runtime().block_on(async {
        let warn = Handler::builder()
            .middleware_with(Metrics, params(&lines))
            .handler(quiet)
            .unwrap();
        assert_eq!(warn.invoke_with(1, &Context::default()).await.unwrap(), 7);

        let strict = MetricsParams::builder()
            .namespace("ServerlessAirline")
            .raise_on_empty_metrics(true)
            .output(lines.sink())
            .build();
        let raise = Handler::builder()
            .middleware_with(Metrics, strict.clone())
            .handler(quiet)
            .unwrap();
        let error = raise.invoke_with(1, &Context::default()).await.unwrap_err();
        assert_eq!(error.downcast_ref::<MetricsError>(), Some(&MetricsError::NoMetrics));
        assert_eq!(
            error.to_string(),
            "the invocation recorded no metrics, and raise_on_empty_metrics is set"
        );

        // A failed invocation keeps its own error.
        let failing = Handler::builder()
            .middleware_with(Metrics, strict)
            .handler(|_: u32, _: &Context| async { Err::<u32, Error>(Declined.into()) })
            .unwrap();
        let error = failing.invoke_with(1, &Context::default()).await.unwrap_err();
        assert!(error.downcast_ref::<Declined>().is_some(), "{error}");
    });
    assert!(lines.lines().is_empty(), "{:?}", lines.lines());
    let warnings: Vec<_> = capture
        .events()
        .into_iter()
        .filter(|event| event.level == tracing::Level::WARN)
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}"); // the warning one and the failed one
    assert!(
        warnings[0].fields["message"].starts_with("no application metrics to write"),
        "{warnings:?}"
    );
}

#[test]
fn what_cloudwatch_refuses_is_a_typed_error_and_the_invocation_goes_on() {
    let lines = Lines::default();
    let start = now_ms();
    let refused = runtime().block_on(async {
        let handler = Handler::builder()
            .middleware_with(Metrics, params(&lines))
            .handler(|_: u32, _: &Context| async {
                let metrics = Metrics::current()?;
                metrics.add_metric("Orders", MetricUnit::Count, 1)?;
                let mut not_a_json_map = BTreeMap::new();
                not_a_json_map.insert(vec![1_u8], 1);
                let errors = [
                    metrics.add_metric("Orders", MetricUnit::Seconds, 1),
                    metrics.add_metric_with_resolution("Orders", MetricUnit::Count, 1, MetricResolution::High),
                    metrics.add_metric("Ratio", MetricUnit::Percent, f64::NAN),
                    metrics.add_metric("Huge", MetricUnit::Count, 1e200),
                    metrics.add_metric("", MetricUnit::Count, 1),
                    metrics.add_metric("environment", MetricUnit::Count, 1),
                    metrics.add_dimension("route", ""),
                    metrics.add_dimension(":route", "/orders"),
                    metrics.add_dimension("Orders", "x"),
                    metrics.add_metadata("_aws", 1),
                    metrics.add_metadata("map", not_a_json_map),
                ];
                Ok::<_, Error>(errors.map(|result| result.unwrap_err().to_string()))
            })
            .unwrap();
        handler.invoke_with(1, &Context::default()).await.unwrap()
    });
    assert_eq!(
        refused,
        [
            "metric \"Orders\" was added as Count, now as Seconds; one metric has one unit",
            "metric \"Orders\" was added with Standard resolution, now with High; one metric has one resolution",
            "metric \"Ratio\" has the value NaN; expected a finite number between -2^360 and 2^360 (0, or at least 2^-360 away from it)",
            "metric \"Huge\" has the value 1e200; expected a finite number between -2^360 and 2^360 (0, or at least 2^-360 away from it)",
            "metric name \"\" is not valid: 1 to 255 characters, not all spaces, no control characters",
            "metric \"environment\" has the name of a dimension of this invocation; EMF keeps them in one object",
            "dimension \"route\" has the value \"\"; expected 1 to 1024 ASCII characters, not all spaces",
            "dimension name \":route\" is not valid: 1 to 250 ASCII characters, not all spaces, not starting with ':'",
            "dimension \"Orders\" has the name of a metric of this invocation; EMF keeps them in one object",
            "metadata name \"_aws\" is not valid: 1 or more characters, not `_aws`",
            "metadata \"map\" does not serialize to JSON: key must be a string",
        ]
    );
    let documents = documents(&lines, start);
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0].values, [("Orders".to_owned(), vec![1.0])].into());
    assert_eq!(
        documents[0].dimensions,
        strings(&[("environment", "prod"), ("service", "bookings")])
    );
}

#[test]
fn thirty_one_dimensions_are_refused() {
    let lines = Lines::default();
    let start = now_ms();
    let refused = runtime().block_on(async {
        let handler = Handler::builder()
            .middleware_with(Metrics, params(&lines))
            .handler(|_: u32, _: &Context| async {
                let metrics = Metrics::current()?;
                metrics.add_metric("Orders", MetricUnit::Count, 1)?;
                // environment and service are two; 28 more make 30.
                for n in 0..28 {
                    metrics.add_dimension(&format!("d{n}"), "v")?;
                }
                Ok::<_, Error>(metrics.add_dimension("d28", "v").unwrap_err())
            })
            .unwrap();
        handler.invoke_with(1, &Context::default()).await.unwrap()
    });
    assert_eq!(refused, MetricsError::TooManyDimensions { name: "d28".into() });
    let documents = documents(&lines, start);
    assert_eq!(documents[0].dimension_sets[0].len(), 30);
}

#[test]
fn more_than_a_hundred_metrics_are_split_into_documents() {
    let lines = Lines::default();
    let start = now_ms();
    runtime().block_on(async {
        let handler = Handler::builder()
            .middleware_with(Metrics, params(&lines))
            .handler(|_: u32, _: &Context| async {
                let metrics = Metrics::current()?;
                for n in 0..150 {
                    metrics.add_metric(&format!("M{n:03}"), MetricUnit::Count, n)?;
                }
                metrics.add_metadata("request", "r-1")?;
                Ok::<_, Error>(0_u32)
            })
            .unwrap();
        handler.invoke_with(1, &Context::default()).await.unwrap();
    });
    let documents = documents(&lines, start);
    assert_eq!(
        documents.iter().map(|d| d.definitions.len()).collect::<Vec<_>>(),
        [100, 50]
    );
    for document in &documents {
        assert_eq!(
            document.dimensions,
            strings(&[("environment", "prod"), ("service", "bookings")])
        );
        assert_eq!(document.other["request"], "r-1");
    }
    assert_eq!(documents[0].values["M000"], [0.0]);
    assert_eq!(documents[1].values["M149"], [149.0]);
}

#[test]
fn a_handle_works_in_a_spawned_task_and_not_after_the_invocation() {
    let lines = Lines::default();
    let start = now_ms();
    let kept: Arc<Mutex<Option<InvocationMetrics>>> = Arc::default();
    assert_eq!(Metrics::current().unwrap_err(), MetricsError::NoInvocation);
    let keep = Arc::clone(&kept);
    let outcome = runtime().block_on(async {
        let handler = Handler::builder()
            .middleware_with(Metrics, params(&lines))
            .handler(move |_: u32, _: &Context| {
                let keep = Arc::clone(&keep);
                async move {
                    let metrics = Metrics::current()?;
                    *keep.lock().unwrap() = Some(metrics.clone());
                    // A spawned task has no invocation of its own...
                    let without = tokio::spawn(async { Metrics::current().map(drop) }).await?;
                    // ...but the handle can go with it.
                    tokio::spawn(async move { metrics.add_metric("FromTask", MetricUnit::Count, 1) }).await??;
                    Ok::<_, Error>(without)
                }
            })
            .unwrap();
        handler.invoke_with(1, &Context::default()).await.unwrap()
    });
    assert_eq!(outcome, Err(MetricsError::NoInvocation));
    let late = kept.lock().unwrap().take().unwrap();
    assert_eq!(
        late.add_metric("Late", MetricUnit::Count, 1).unwrap_err().to_string(),
        "the invocation's metrics were already written; metric \"Late\" came too late"
    );
    let documents = documents(&lines, start);
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0].values, [("FromTask".to_owned(), vec![1.0])].into());
}

#[test]
fn what_would_fail_every_invocation_fails_the_build() {
    async fn handler(n: u32, _: &Context) -> Result<u32, Error> {
        Ok(n)
    }
    let build = |params: MetricsParams| {
        Handler::builder()
            .middleware_with(Metrics, params)
            .handler(handler)
            .map(drop)
    };
    let cases = [
        (
            // POWERTOOLS_METRICS_NAMESPACE is not set for tests.
            MetricsParams::builder().build(),
            "log_metrics: no namespace: set POWERTOOLS_METRICS_NAMESPACE, or the namespace param",
        ),
        (
            MetricsParams::builder().namespace("AWS/Lambda").build(),
            "log_metrics: the namespace \"AWS/Lambda\" is not valid; expected 1 to 255 characters of A-Z a-z 0-9 . - _ / # : and space, not all spaces, not starting with `AWS/`",
        ),
        (
            MetricsParams::builder().namespace("Shop").service("bücher").build(),
            "log_metrics: dimension \"service\" has the value \"bücher\"; expected 1 to 1024 ASCII characters, not all spaces",
        ),
        (
            MetricsParams::builder()
                .namespace("Shop")
                .default_dimensions([("", "x")])
                .build(),
            "log_metrics: default dimension: dimension name \"\" is not valid: 1 to 250 ASCII characters, not all spaces, not starting with ':'",
        ),
        (
            MetricsParams::builder()
                .namespace("Shop")
                .service("shop")
                .default_dimensions((0..30).map(|n| (format!("d{n}"), "v")))
                .build(),
            "log_metrics: default dimension: dimension \"d29\" would be the 31st; CloudWatch takes at most 30 per metric (the service dimension included)",
        ),
    ];
    for (params, message) in cases {
        let error = build(params).unwrap_err();
        assert!(matches!(
            error,
            BuildError::InvalidParams {
                middleware: "log_metrics",
                ..
            }
        ));
        assert_eq!(error.to_string(), message);
    }
}

#[test]
fn disabled_writes_nothing_and_the_code_stays_the_same() {
    let lines = Lines::default();
    runtime().block_on(async {
        let params = MetricsParams::builder()
            .namespace("ServerlessAirline")
            .disabled(true)
            .raise_on_empty_metrics(true)
            .output(lines.sink())
            .build();
        let handler = Handler::builder()
            .middleware_with(Metrics, params)
            .handler(book)
            .unwrap();
        assert_eq!(handler.invoke_with(3, &Context::default()).await.unwrap(), 3);
    });
    assert!(lines.lines().is_empty());
}

#[test]
fn eight_interleaved_invocations_never_mix_their_metrics() {
    const INVOCATIONS: usize = 8;
    let lines = Lines::default();
    let start = now_ms();
    let barrier = Arc::new(tokio::sync::Barrier::new(INVOCATIONS));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let handler = Handler::builder()
            .middleware_with(Metrics, params(&lines))
            .handler(move |event: lambda_runtime::LambdaEvent<u32>| {
                let barrier = Arc::clone(&barrier);
                async move {
                    let n = event.payload;
                    let metrics = Metrics::current()?;
                    metrics.add_metric("N", MetricUnit::Count, n)?;
                    // All eight hold their metrics at once before any goes on.
                    tokio::time::timeout(Duration::from_secs(10), barrier.wait()).await?;
                    metrics.add_metric("N", MetricUnit::Count, n + 100)?;
                    metrics.add_dimension("slot", &format!("s{n}"))?;
                    tokio::task::yield_now().await;
                    Metrics::current()?.add_metadata("request_id", &event.context.request_id)?;
                    Ok::<_, Error>(n)
                }
            })
            .unwrap();
        let tasks: Vec<_> = (0..INVOCATIONS as u32)
            .map(|n| {
                let handler = handler.clone();
                tokio::spawn(async move {
                    let mut context = Context::default();
                    context.request_id = format!("req-{n}");
                    handler
                        .invoke(lambda_runtime::LambdaEvent::new(n, context))
                        .await
                        .unwrap()
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    let documents = documents(&lines, start);
    assert_eq!(documents.len(), INVOCATIONS);
    let mut seen: Vec<u32> = Vec::new();
    for document in &documents {
        let n = document.values["N"][0] as u32;
        assert_eq!(document.values["N"], [f64::from(n), f64::from(n + 100)], "{document:?}");
        assert_eq!(document.dimensions["slot"], format!("s{n}"));
        assert_eq!(document.other["request_id"], json!(format!("req-{n}")));
        seen.push(n);
    }
    seen.sort();
    assert_eq!(seen, (0..INVOCATIONS as u32).collect::<Vec<_>>());
}

#[test]
fn units_are_cloudwatch_s_own() {
    let ours: Vec<&str> = MetricUnit::ALL.iter().map(|unit| unit.as_str()).collect();
    assert_eq!(ours, emf::UNITS);
    let _: Value = json!(null);
}

/// `count_invocations` counts every invocation, early answers included, so a chain whose
/// preflights never reach a metric of the handler writes a document for each of them
/// and never warns; `warn_on_empty_metrics(false)` silences the warning of the others.
#[test]
fn every_invocation_counted_with_no_middleware_of_ones_own_and_the_warning_silenced() {
    use lambda_middleware::middlewares::{Cors, CorsParams};

    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let lines = Lines::default();
    let earliest = now_ms();
    runtime().block_on(async {
        let counted = MetricsParams::builder()
            .namespace("ServerlessAirline")
            .count_invocations("Requests")
            .output(lines.sink())
            .build();
        let handler = Handler::builder()
            .middleware_with(Metrics, counted)
            .middleware_with(
                Cors,
                CorsParams::builder().allow_origins(["https://app.example.com"]).build(),
            )
            .handler(|_: Value, _: &Context| async { Ok::<Value, Error>(json!({ "statusCode": 200 })) })
            .unwrap();
        let preflight = json!({ "httpMethod": "OPTIONS", "headers": {
            "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST" } });
        let response = handler.invoke_with(preflight, &Context::default()).await.unwrap();
        assert_eq!(response["statusCode"], 204); // answered early by Cors
        let get = json!({ "httpMethod": "GET", "headers": {} });
        handler.invoke_with(get, &Context::default()).await.unwrap();

        let quiet = MetricsParams::builder()
            .namespace("ServerlessAirline")
            .warn_on_empty_metrics(false)
            .output(lines.sink())
            .build();
        let silent = Handler::builder()
            .middleware_with(Metrics, quiet)
            .handler(|_: u32, _: &Context| async { Ok::<u32, Error>(7) })
            .unwrap();
        silent.invoke_with(1, &Context::default()).await.unwrap();
    });
    let documents = documents(&lines, earliest);
    assert_eq!(documents.len(), 2, "{:?}", lines.lines());
    for document in &documents {
        assert_eq!(document.values["Requests"], [1.0], "{:?}", lines.lines());
    }
    let warnings = capture
        .events()
        .into_iter()
        .filter(|event| event.level == tracing::Level::WARN)
        .count();
    assert_eq!(warnings, 0);
}

/// A metric name CloudWatch refuses in `count_invocations` fails the build, not each
/// invocation.
#[test]
fn a_bad_count_invocations_name_fails_the_build() {
    let params = MetricsParams::builder()
        .namespace("ServerlessAirline")
        .count_invocations("")
        .build();
    let error = Handler::builder()
        .middleware_with(Metrics, params)
        .handler(|_: u32, _: &Context| async { Ok::<u32, Error>(7) })
        .unwrap_err();
    assert!(
        error.to_string().starts_with("log_metrics: count_invocations:"),
        "{error}"
    );
}

/// Powertools' `add_dimensions`, `set_timestamp` and `single_metric`.
#[test]
fn dimension_sets_a_timestamp_and_single_metrics_as_powertools_writes_them() {
    let lines = Lines::default();
    let placed = SystemTime::now() - Duration::from_secs(3600);
    let placed_ms = placed.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    runtime().block_on(async {
        let handler = Handler::builder()
            .middleware_with(Metrics, params(&lines))
            .handler(move |_: u32, _: &Context| {
                let version = String::from("42");
                async move {
                    let metrics = Metrics::current()?;
                    metrics.add_metric("Orders", MetricUnit::Count, 1)?;
                    metrics.add_dimensions([("region", "eu-west-1"), ("tier", "gold")])?;
                    metrics.add_dimensions([("tier", "silver")])?;
                    metrics.set_timestamp(placed)?;
                    metrics.single_metric(
                        "Deployed",
                        MetricUnit::Count,
                        1,
                        [("function_version", version.as_str())],
                    )?;
                    let error = metrics.add_dimensions([("Orders", "x")]).unwrap_err();
                    assert!(matches!(error, MetricsError::NameTaken { .. }), "{error}");
                    Ok::<u32, Error>(7)
                }
            })
            .unwrap();
        handler.invoke_with(1, &Context::default()).await.unwrap();
    });
    let raw: Vec<Value> = lines
        .lines()
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(raw.len(), 2, "{raw:?}");
    // The single metric first (written at once), with its own dimension only.
    let single = &raw[0];
    assert_eq!(
        single["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        json!([["function_version"]])
    );
    assert_eq!(single["Deployed"], json!([1.0]));
    assert!(single.get("environment").is_none());
    // The invocation's document: three dimension sets, the timestamp set.
    let document = &raw[1];
    assert_eq!(
        document["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        json!([
            ["environment", "service"],
            ["environment", "region", "tier"],
            ["environment", "tier"]
        ])
    );
    assert_eq!(document["_aws"]["Timestamp"], json!(placed_ms));
    assert_eq!(document["region"], "eu-west-1");
    assert_eq!(document["tier"], "silver"); // the later set's value, as in Powertools
    assert_eq!(document["service"], "bookings");
}
