//! `observe::JsonLogger` and `observe::LogLevel`: every line written is parsed as JSON
//! and its keys checked, in order, against Powertools' Logger.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::lines::{Lines, Ordered, parse_rfc3339_utc_millis};
use lambda_middleware::middlewares::{
    CorrelationId, CorrelationIdParams, InjectLambdaContext, LogEvent, LogEventParams,
};
use lambda_middleware::observe::{JsonLogger, LogFormat, LogLevel, Setup};
use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use lambda_runtime::Config;
use serde_json::{Value, json};
use tracing::Instrument;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::layer::{Layer, SubscriberExt};

const TRACE_HEADER: &str = "Root=1-65f1a2b3-5759e988bd862e3fe1be46a9;Parent=53995c3f42cd8ad8;Sampled=1";
const ARN: &str = "arn:aws:lambda:eu-west-1:123456789012:function:bookings";

fn context(request_id: &str) -> Context {
    let mut context = Context::default();
    context.request_id = request_id.into();
    context.invoked_function_arn = ARN.into();
    context.xray_trace_id = Some(TRACE_HEADER.into());
    context.env_config = Arc::new(Config {
        function_name: "bookings".into(),
        version: "$LATEST".into(),
        memory: 256,
        ..Config::default()
    });
    context
}

/// A subscriber with a JSON logger for `bookings` at `level`, writing into `lines`.
fn subscriber(lines: &Lines, level: LogLevel) -> impl tracing::Subscriber + Send + Sync + 'static {
    let logger = JsonLogger::new("bookings").with_writer(lines.clone());
    let logger = match level.sample_rate() {
        Some(rate) => logger.with_sampling_rate(rate),
        None => logger,
    };
    tracing_subscriber::registry().with(logger.with_filter(level))
}

/// One test of this file at a time, so that each sees its own subscribers only.
/// `tracing` decides per callsite, and for its global maximum level, from every live
/// subscriber: with the tests of this file on several threads, one test's subscriber can
/// hide another's mistake (a `Setup` whose maximum level was `OFF` lost every line when
/// it was alone, as in a function, and passed thirty-nine runs in forty beside the
/// others).
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[derive(Debug, thiserror::Error)]
#[error("card declined")]
struct Declined(#[source] std::io::Error);

static LOG_LINE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

async fn book(event: Value, _: &Context) -> Result<Value, Error> {
    let span = tracing::info_span!("booking", booking_id = 42_u64, room = %"12B");
    async {
        LOG_LINE.store(line!() + 1, std::sync::atomic::Ordering::Relaxed);
        tracing::info!(nights = 3_u64, paid = true, amount = 12.5, delta = -2_i64, guest = %"Ada", "booking confirmed");
        tracing::debug!("not at INFO");
    }
    .instrument(span)
    .await;
    Ok(json!({ "statusCode": 200, "body": event["body"] }))
}

#[test]
fn a_line_has_powertools_keys_in_powertools_order() {
    let _serial = serial();
    let lines = Lines::default();
    let _guard = tracing::subscriber::set_default(subscriber(&lines, LogLevel::new(LevelFilter::INFO)));
    let before = SystemTime::now() - Duration::from_millis(1);
    runtime().block_on(async {
        let handler = Handler::builder()
            .middleware(InjectLambdaContext)
            .middleware_with(CorrelationId, CorrelationIdParams::default())
            .handler(book)
            .unwrap();
        let event = json!({ "headers": { "x-correlation-id": "order-7" }, "body": "{}" });
        handler.invoke_with(event, &context("c6af9ac6")).await.unwrap();
    });
    let after = SystemTime::now();

    let lines = lines.objects();
    assert_eq!(lines.len(), 1, "{lines:?}"); // the DEBUG line is not written at INFO
    let line = &lines[0];
    assert_eq!(
        line.keys(),
        [
            "level",
            "location",
            "message",
            "timestamp",
            "service",
            "cold_start",
            "function_name",
            "function_memory_size",
            "function_arn",
            "function_request_id",
            "correlation_id",
            "booking_id",
            "room",
            "nights",
            "paid",
            "amount",
            "delta",
            "guest",
            "xray_trace_id",
        ]
    );
    assert_eq!(line["level"], "INFO");
    let expected_location = format!("observe_logger:{}", LOG_LINE.load(std::sync::atomic::Ordering::Relaxed));
    assert_eq!(line["location"], json!(expected_location));
    assert_eq!(line["message"], "booking confirmed");
    let timestamp = parse_rfc3339_utc_millis(line["timestamp"].as_str().unwrap());
    assert!(before <= timestamp && timestamp <= after, "{line:?}");
    assert_eq!(line["service"], "bookings");
    assert!(line["cold_start"].is_boolean(), "{line:?}"); // process-wide: see the runtime tests
    assert_eq!(line["function_name"], "bookings");
    assert_eq!(line["function_memory_size"], 256);
    assert_eq!(line["function_arn"], ARN);
    assert_eq!(line["function_request_id"], "c6af9ac6");
    assert_eq!(line["correlation_id"], "order-7");
    assert_eq!(line["booking_id"], 42);
    assert_eq!(line["room"], "12B");
    assert_eq!(line["nights"], 3);
    assert_eq!(line["paid"], true);
    assert_eq!(line["amount"], 12.5);
    assert_eq!(line["delta"], -2);
    assert_eq!(line["guest"], "Ada");
    // Powertools writes the Root of the trace header only.
    assert_eq!(line["xray_trace_id"], "1-65f1a2b3-5759e988bd862e3fe1be46a9");
}

#[test]
fn levels_have_powertools_names_and_the_level_filters() {
    let _serial = serial();
    for (level, expected) in [
        (LevelFilter::TRACE, vec!["TRACE", "DEBUG", "INFO", "WARNING", "ERROR"]),
        (LevelFilter::INFO, vec!["INFO", "WARNING", "ERROR"]),
        (LevelFilter::WARN, vec!["WARNING", "ERROR"]),
        (LevelFilter::ERROR, vec!["ERROR"]),
    ] {
        let lines = Lines::default();
        tracing::subscriber::with_default(subscriber(&lines, LogLevel::new(level)), || {
            tracing::trace!("t");
            tracing::debug!("d");
            tracing::info!("i");
            tracing::warn!("w");
            tracing::error!("e");
        });
        let levels: Vec<String> = lines
            .objects()
            .iter()
            .map(|line| line["level"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(levels, expected, "at {level}");
    }
}

#[test]
fn a_line_outside_an_invocation_has_the_base_keys_only() {
    let _serial = serial();
    let lines = Lines::default();
    tracing::subscriber::with_default(subscriber(&lines, LogLevel::new(LevelFilter::INFO)), || {
        tracing::info!(port = 9000_u16, "starting");
        tracing::info!(no_message = true);
    });
    let lines = lines.objects();
    // `_X_AMZN_TRACE_ID` is not set for tests, so there is no xray_trace_id either.
    assert_eq!(
        lines[0].keys(),
        ["level", "location", "message", "timestamp", "service", "port"]
    );
    assert_eq!(lines[0]["port"], 9000);
    assert_eq!(
        lines[1].keys(),
        ["level", "location", "timestamp", "service", "no_message"]
    );
}

#[test]
fn field_values_keep_their_json_types() {
    let _serial = serial();
    let lines = Lines::default();
    tracing::subscriber::with_default(subscriber(&lines, LogLevel::new(LevelFilter::INFO)), || {
        let error = Declined(std::io::Error::other("issuer unreachable"));
        tracing::error!(
            error = &error as &dyn std::error::Error,
            big = u128::MAX,
            small = i128::MIN,
            ratio = f64::NAN,
            quoted = "a \"b\"\nc",
            debug = ?vec![1, 2],
            "payment failed"
        );
    });
    let line = &lines.objects()[0];
    assert_eq!(line["error"], "card declined: issuer unreachable");
    // Beyond 64 bits, still JSON numbers (serde_json reads them back as floats).
    let text = &lines.lines()[0];
    assert!(
        text.contains(&format!(r#""big":{},"small":{},"#, u128::MAX, i128::MIN)),
        "{text}"
    );
    assert_eq!(line["ratio"], "NaN");
    assert_eq!(line["quoted"], "a \"b\"\nc");
    assert_eq!(line["debug"], "[1, 2]");
}

#[test]
fn reserved_keys_are_not_replaced_and_others_are_in_place() {
    let _serial = serial();
    let lines = Lines::default();
    tracing::subscriber::with_default(subscriber(&lines, LogLevel::new(LevelFilter::INFO)), || {
        tracing::info!(
            level = "mine",
            timestamp = 1,
            location = "here",
            service = "override",
            "hello"
        );
    });
    let line = &lines.objects()[0];
    assert_eq!(line.keys(), ["level", "location", "message", "timestamp", "service"]);
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["service"], "override");
    assert!(line["timestamp"].is_string());
}

struct Traced;

impl Middleware<Value, Value> for Traced {
    type Params = ();
    const TRACE_EXECUTION: Option<bool> = Some(true);

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
        tracing::info!("inside a traced middleware");
        Ok(next.run(event).await?)
    }
}

#[test]
fn middleware_spans_add_no_keys() {
    let _serial = serial();
    let lines = Lines::default();
    let _guard = tracing::subscriber::set_default(subscriber(&lines, LogLevel::new(LevelFilter::INFO)));
    runtime().block_on(async {
        let handler = Handler::builder()
            .middleware(InjectLambdaContext)
            .middleware(Traced)
            .handler(|event: Value, _: &Context| async move { Ok::<_, Error>(event) })
            .unwrap();
        handler.invoke_with(json!({}), &context("r-1")).await.unwrap();
    });
    let line = &lines.objects()[0];
    for key in line.keys() {
        assert!(!key.starts_with("otel") && key != "middleware", "{line:?}");
    }
    assert_eq!(line["function_request_id"], "r-1");
}

#[test]
fn the_runtime_span_gives_the_request_id_without_inject_lambda_context() {
    let _serial = serial();
    let lines = Lines::default();
    tracing::subscriber::with_default(subscriber(&lines, LogLevel::new(LevelFilter::INFO)), || {
        // What lambda_runtime opens around each invocation (layers/trace.rs).
        let runtime_span = tracing::info_span!(
            target: "lambda_runtime::layers::trace",
            "Lambda runtime invoke",
            requestId = "r-9",
            xrayTraceId = TRACE_HEADER
        );
        let worker = tracing::info_span!(target: "lambda_runtime::runtime", "worker", task_id = 3);
        let _worker = worker.enter();
        let _invoke = runtime_span.enter();
        tracing::info!("handled");
    });
    let line = &lines.objects()[0];
    assert_eq!(
        line.keys(),
        [
            "level",
            "location",
            "message",
            "timestamp",
            "service",
            "function_request_id",
            "xray_trace_id"
        ]
    );
    assert_eq!(line["function_request_id"], "r-9");
    assert_eq!(line["xray_trace_id"], "1-65f1a2b3-5759e988bd862e3fe1be46a9");
}

fn count_by_request(lines: &[Ordered], level: &str) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for line in lines.iter().filter(|line| line["level"] == level) {
        *counts
            .entry(line["function_request_id"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    counts
}

#[test]
fn sampled_invocations_log_at_debug_all_or_nothing() {
    let _serial = serial();
    async fn two_debug_lines(event: u64, _: &Context) -> Result<u64, Error> {
        tracing::debug!(n = event, "first");
        tokio::task::yield_now().await;
        tracing::debug!(n = event, "second");
        tracing::info!(n = event, "always");
        Ok(event)
    }

    // Every invocation sampled: DEBUG inside invocations, not outside.
    let lines = Lines::default();
    let level = LogLevel::new(LevelFilter::INFO).with_sample_rate(1.0).unwrap();
    let _guard = tracing::subscriber::set_default(subscriber(&lines, level));
    tracing::debug!("outside any invocation");
    runtime().block_on(async {
        let handler = Handler::builder()
            .middleware(InjectLambdaContext)
            .handler(two_debug_lines)
            .unwrap();
        handler.invoke_with(1, &context("r-1")).await.unwrap();
    });
    let written = lines.objects();
    let messages: Vec<&Value> = written.iter().map(|line| &line["message"]).collect();
    assert_eq!(messages, [&json!("first"), &json!("second"), &json!("always")]);
    for line in &written {
        assert_eq!(line.keys()[5], "sampling_rate", "{line:?}");
        assert_eq!(line["sampling_rate"], 1.0);
    }
    drop(_guard);

    // Half of them: each invocation logs both DEBUG lines or neither.
    let lines = Lines::default();
    let level = LogLevel::new(LevelFilter::INFO).with_sample_rate(0.5).unwrap();
    let _guard = tracing::subscriber::set_default(subscriber(&lines, level));
    runtime().block_on(async {
        let handler = Handler::builder()
            .middleware(InjectLambdaContext)
            .handler(two_debug_lines)
            .unwrap();
        let invocations = (0..400).map(|n| {
            let handler = handler.clone();
            async move { handler.invoke_with(n, &context(&format!("r-{n}"))).await.unwrap() }
        });
        futures_join_all(invocations).await;
    });
    let written = lines.objects();
    let debug = count_by_request(&written, "DEBUG");
    assert_eq!(count_by_request(&written, "INFO").len(), 400);
    assert!(debug.values().all(|count| *count == 2), "{debug:?}");
    // 400 invocations at 0.5: 200 expected, standard deviation 10.
    assert!((140..=260).contains(&debug.len()), "{} sampled", debug.len());

    // No sampling: no DEBUG at all, no sampling_rate key.
    let lines = Lines::default();
    tracing::subscriber::with_default(subscriber(&lines, LogLevel::new(LevelFilter::INFO)), || {
        runtime().block_on(async {
            let handler = Handler::builder()
                .middleware(InjectLambdaContext)
                .handler(two_debug_lines)
                .unwrap();
            handler.invoke_with(1, &context("r-1")).await.unwrap();
        });
    });
    let written = lines.objects();
    assert_eq!(written.len(), 1);
    assert_eq!(written[0].get("sampling_rate"), None);
}

/// Runs the futures together on the current task, interleaved at their awaits.
async fn futures_join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut done: Vec<bool> = pinned.iter().map(|_| false).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, done) in pinned.iter_mut().zip(done.iter_mut()) {
            if !*done {
                *done = future.as_mut().poll(cx).is_ready();
                pending |= !*done;
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
}

#[test]
fn log_event_lines_carry_the_event_and_the_response_as_json() {
    let _serial = serial();
    let lines = Lines::default();
    let _guard = tracing::subscriber::set_default(subscriber(&lines, LogLevel::new(LevelFilter::INFO)));
    runtime().block_on(async {
        let params = LogEventParams::builder()
            .redact(["/detail/guest/email"])
            .log_response(true)
            .build();
        let handler = Handler::builder()
            .middleware(InjectLambdaContext)
            .middleware_with(LogEvent, params)
            .handler(
                |event: Value, _: &Context| async move { Ok::<_, Error>(json!({ "booked": event["detail"]["room"] })) },
            )
            .unwrap();
        let event = json!({ "detail": { "room": 12, "guest": { "email": "ada@example.com" } } });
        handler.invoke_with(event, &context("r-1")).await.unwrap();

        let small = LogEventParams::builder().max_bytes(10).build();
        let handler = Handler::builder()
            .middleware_with(LogEvent, small)
            .handler(|event: Value, _: &Context| async move { Ok::<_, Error>(event) })
            .unwrap();
        handler
            .invoke_with(json!({ "long": "x".repeat(50) }), &context("r-2"))
            .await
            .unwrap();
    });
    let written = lines.objects();
    assert_eq!(written.len(), 3);
    assert_eq!(written[0]["message"], "lambda event");
    assert_eq!(
        written[0]["event"],
        json!({ "detail": { "guest": { "email": "*****" }, "room": 12 } })
    );
    assert_eq!(written[0]["truncated_bytes"], 0);
    assert_eq!(written[0]["function_request_id"], "r-1");
    assert_eq!(written[1]["message"], "lambda response");
    assert_eq!(written[1]["response"], json!({ "booked": 12 }));
    // Cut at 10 bytes: not JSON any more, so written as the string it is.
    assert_eq!(written[2]["event"], json!("{\"long\":\"x"));
    assert_eq!(written[2]["truncated_bytes"], 51);
    assert!(!lines.lines().iter().any(|line| line.contains("ada@example.com")));
}

#[test]
fn eight_interleaved_invocations_never_share_a_request_id() {
    let _serial = serial();
    const INVOCATIONS: u64 = 8;
    let lines = Lines::default();
    let dispatch = tracing::Dispatch::new(subscriber(&lines, LogLevel::new(LevelFilter::INFO)));
    let barrier = Arc::new(tokio::sync::Barrier::new(INVOCATIONS as usize));
    let worker_dispatch = dispatch.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .on_thread_start(move || std::mem::forget(tracing::dispatcher::set_default(&worker_dispatch)))
        .build()
        .unwrap();
    let _guard = tracing::dispatcher::set_default(&dispatch);
    runtime.block_on(async {
        let handler = Handler::builder()
            .middleware(InjectLambdaContext)
            .middleware_with(CorrelationId, CorrelationIdParams::default())
            .handler(move |event: lambda_runtime::LambdaEvent<Value>| {
                let barrier = Arc::clone(&barrier);
                async move {
                    let n = event.payload["n"].as_u64().unwrap();
                    tracing::info!(n, "before");
                    // All eight are inside their handlers at once before any goes on.
                    tokio::time::timeout(Duration::from_secs(10), barrier.wait())
                        .await
                        .expect("all 8 at once");
                    tracing::info!(n, "after");
                    tokio::task::yield_now().await;
                    tracing::warn!(n, "last");
                    Ok::<_, Error>(event.payload)
                }
            })
            .unwrap();
        let tasks: Vec<_> = (0..INVOCATIONS)
            .map(|n| {
                let handler = handler.clone();
                tokio::spawn(async move {
                    let event = json!({ "n": n, "headers": { "x-correlation-id": format!("corr-{n}") } });
                    handler
                        .invoke(lambda_runtime::LambdaEvent::new(event, context(&format!("req-{n}"))))
                        .await
                        .unwrap()
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    let written = lines.objects();
    assert_eq!(written.len(), 3 * INVOCATIONS as usize);
    // Interleaved: every "before" comes before the first "after".
    let first_after = written.iter().position(|line| line["message"] == "after").unwrap();
    assert_eq!(first_after, INVOCATIONS as usize, "{written:?}");
    for line in &written {
        let n = line["n"].as_u64().unwrap();
        assert_eq!(line["function_request_id"], json!(format!("req-{n}")), "{line:?}");
        assert_eq!(line["correlation_id"], json!(format!("corr-{n}")), "{line:?}");
    }
}

#[test]
fn setup_writes_json_or_text_lines() {
    let _serial = serial();
    // Without X-Ray: the context below is sampled, and this test is about the lines.
    #[cfg(feature = "xray")]
    let setup = || Setup::from_env().unwrap().xray(false);
    #[cfg(not(feature = "xray"))]
    let setup = || Setup::from_env().unwrap();
    let json_lines = Lines::default();
    let json_subscriber = setup()
        .format(LogFormat::Json)
        .level(LogLevel::new(LevelFilter::INFO))
        .service("payments")
        .with_writer(json_lines.clone())
        .subscriber();
    let text_lines = Lines::default();
    let text_subscriber = setup()
        .format(LogFormat::Text)
        .level(LogLevel::new(LevelFilter::WARN))
        .with_writer(text_lines.clone())
        .subscriber();
    for subscriber in [
        tracing::Dispatch::new(json_subscriber),
        tracing::Dispatch::new(text_subscriber),
    ] {
        let _guard = tracing::dispatcher::set_default(&subscriber);
        runtime().block_on(async {
            let handler = Handler::builder()
                .middleware(InjectLambdaContext)
                .handler(|event: Value, _: &Context| async move {
                    tracing::info!("charging");
                    tracing::warn!(attempt = 2_u64, "retrying");
                    Ok::<_, Error>(event)
                })
                .unwrap();
            handler.invoke_with(json!({}), &context("r-5")).await.unwrap();
        });
    }
    let json = json_lines.objects();
    assert_eq!(json.len(), 2);
    assert_eq!(json[0]["service"], "payments");
    assert_eq!(json[1]["level"], "WARNING");
    assert_eq!(json[1]["function_request_id"], "r-5");

    // Text as lambda_runtime writes it: no time, no target; the span's fields in front.
    let text = text_lines.lines();
    assert_eq!(text.len(), 1, "{text:?}"); // WARN and above
    let line = &text[0];
    assert!(
        line.starts_with(" WARN lambda_context{request_id=r-5 function_name=bookings "),
        "{line}"
    );
    assert!(line.ends_with(": retrying attempt=2"), "{line}");
}

/// Log buffering, Powertools Logger's newest feature: the DEBUG lines of an invocation
/// are held, written before its ERROR line or when it fails, and dropped when it
/// succeeds; nothing is kept across invocations; the buffer is bounded.
#[test]
fn buffered_lines_are_written_only_for_the_invocations_that_go_wrong() {
    use lambda_middleware::observe::{LogBuffering, flush_log_buffer};

    let _serial = serial();
    let lines = Lines::default();
    let buffering = LogBuffering::builder().max_bytes(4096).build();
    let logger = JsonLogger::new("bookings")
        .with_writer(lines.clone())
        .with_buffering(buffering);
    let level = LogLevel::new(LevelFilter::INFO).with_buffering(buffering);
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(logger.with_filter(level)));

    async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
        let n = event["n"].as_u64().unwrap_or_default();
        tracing::debug!(n, "held");
        tracing::info!(n, "written");
        match event["outcome"].as_str() {
            Some("error_line") => tracing::error!(n, "something broke"),
            Some("flush") => flush_log_buffer(),
            Some("fail") => return Err("declined".into()),
            _ => {}
        }
        Ok(event)
    }
    let handler = Handler::builder()
        .middleware(InjectLambdaContext)
        .handler(handler)
        .unwrap();
    runtime().block_on(async {
        for (n, outcome) in [(1, "ok"), (2, "error_line"), (3, "ok"), (4, "flush"), (5, "fail")] {
            let event = json!({ "n": n, "outcome": outcome });
            let _ = handler.invoke_with(event, &context(&format!("req-{n}"))).await;
        }
    });
    // Outside an invocation: a DEBUG line is not buffered, and INFO filters it.
    tracing::debug!("outside");

    let written: Vec<(String, u64)> = lines
        .objects()
        .iter()
        .map(|line| {
            let message = line.at("message").as_str().unwrap().to_owned();
            (message, line.at("n").as_u64().unwrap())
        })
        .collect();
    let expected: Vec<(String, u64)> = [
        ("written", 1),
        ("written", 2),
        ("held", 2), // before the ERROR line that flushed it
        ("something broke", 2),
        ("written", 3),
        ("written", 4),
        ("held", 4), // on demand
        ("written", 5),
        ("held", 5), // the invocation failed
    ]
    .iter()
    .map(|(message, n)| ((*message).to_owned(), *n))
    .collect();
    assert_eq!(written, expected, "{:?}", lines.lines());
}

/// A full buffer drops its oldest lines: the flush writes the newest ones.
#[test]
fn a_full_buffer_keeps_the_newest_lines() {
    use lambda_middleware::observe::LogBuffering;

    let _serial = serial();
    let lines = Lines::default();
    let buffering = LogBuffering::builder().max_bytes(600).build();
    let logger = JsonLogger::new("bookings")
        .with_writer(lines.clone())
        .with_buffering(buffering);
    let level = LogLevel::new(LevelFilter::INFO).with_buffering(buffering);
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(logger.with_filter(level)));
    let handler = Handler::builder()
        .middleware(InjectLambdaContext)
        .handler(|_: Value, _: &Context| async {
            for n in 0..20_u64 {
                tracing::debug!(n, "held");
            }
            Err::<Value, Error>("declined".into())
        })
        .unwrap();
    runtime().block_on(async {
        let _ = handler.invoke_with(json!({}), &context("req-1")).await;
    });
    let held: Vec<u64> = lines
        .objects()
        .iter()
        .map(|line| line.at("n").as_u64().unwrap())
        .collect();
    assert!(!held.is_empty() && held.len() < 20, "{held:?}");
    assert_eq!(*held.last().unwrap(), 19);
    assert!(held.windows(2).all(|pair| pair[1] == pair[0] + 1), "{held:?}");
}
