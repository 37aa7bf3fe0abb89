//! `POWERTOOLS_TRACE_MIDDLEWARES` (and, with `xray`, `_X_AMZN_TRACE_ID`): every
//! accepted spelling, invalid values, and explicit choices beating the variable.
//!
//! These tests change the process environment, so they live in their own test
//! binary and each holds `ENV` while it reads or writes it.

mod common;

use std::sync::{Mutex, MutexGuard, PoisonError};

use common::Behaviour::Pass;
use common::capture::Capture;
use common::{AlwaysTraced, NeverTraced, echo, step};
use lambda_middleware::trace::TRACE_MIDDLEWARES_ENV;
use lambda_middleware::{BuildError, Context, Handler};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;

static ENV: Mutex<()> = Mutex::new(());

/// Holds the environment for one test, with `name` set to `value` (or removed).
fn env(name: &str, value: Option<&str>) -> MutexGuard<'static, ()> {
    let guard = ENV.lock().unwrap_or_else(PoisonError::into_inner);
    // SAFETY: every test in this binary that touches the environment holds `ENV`, and
    // nothing else in the process reads it concurrently.
    unsafe {
        match value {
            Some(value) => std::env::set_var(name, value),
            None => std::env::remove_var(name),
        }
    }
    guard
}

fn set(name: &str, value: Option<&str>) {
    // SAFETY: as in `env`; the caller holds `ENV`.
    unsafe {
        match value {
            Some(value) => std::env::set_var(name, value),
            None => std::env::remove_var(name),
        }
    }
}

/// Runs a future to completion. The tests are synchronous so that the `ENV` guard is
/// never held across an `.await`.
fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// The `## name` spans one invocation makes.
fn traced_names<C>(handler: &Handler<C>) -> Vec<String>
where
    C: lambda_middleware::chain::Chain<serde_json::Value>,
{
    let capture = Capture::default();
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    block_on(handler.invoke_with(json!(1), &Context::default())).unwrap();
    capture
        .middleware_spans()
        .iter()
        .map(|span| span.display_name().to_owned())
        .collect()
}

#[test]
fn every_true_spelling_traces_middlewares_without_a_choice() {
    for value in [
        "1", "y", "yes", "t", "true", "on", "Y", "YES", "Yes", "T", "TRUE", "True", "ON", "On", " true ",
    ] {
        let _env = env(TRACE_MIDDLEWARES_ENV, Some(value));
        let handler = Handler::builder().middleware(step("auto", Pass)).handler(echo).unwrap();
        assert!(handler.traces_from_env(), "{value:?}");
        assert_eq!(traced_names(&handler), ["## auto"], "{value:?}");
    }
}

#[test]
fn every_false_spelling_unset_and_empty_trace_nothing() {
    for value in [
        Some("0"),
        Some("n"),
        Some("no"),
        Some("f"),
        Some("false"),
        Some("off"),
        Some("N"),
        Some("NO"),
        Some("F"),
        Some("False"),
        Some("OFF"),
        Some("Off"),
        Some(""),
        None,
    ] {
        let _env = env(TRACE_MIDDLEWARES_ENV, value);
        let handler = Handler::builder().middleware(step("auto", Pass)).handler(echo).unwrap();
        assert!(!handler.traces_from_env(), "{value:?}");
        assert!(traced_names(&handler).is_empty(), "{value:?}");
    }
}

#[test]
fn an_invalid_value_is_a_build_error_naming_variable_value_and_accepted_values() {
    for value in ["2", "yess", "enabled", "tru", "-1", "nope", "✓"] {
        let _env = env(TRACE_MIDDLEWARES_ENV, Some(value));
        let error = Handler::builder()
            .middleware(step("auto", Pass))
            .handler(echo)
            .unwrap_err();
        match &error {
            BuildError::InvalidEnv { name, value: found, .. } => {
                assert_eq!(*name, TRACE_MIDDLEWARES_ENV);
                assert_eq!(found, value);
            }
            other => panic!("unexpected error {other:?}"),
        }
        let message = error.to_string();
        assert!(message.contains(TRACE_MIDDLEWARES_ENV), "{message}");
        assert!(message.contains(&format!("{value:?}")), "{message}");
        assert!(message.contains("yes") && message.contains("off"), "{message}");
    }
}

#[test]
fn explicit_choices_beat_the_variable_when_it_is_on() {
    let _env = env(TRACE_MIDDLEWARES_ENV, Some("true"));
    let handler = Handler::builder()
        .middleware(step("auto", Pass))
        .middleware(step("builder_off", Pass))
        .untraced()
        .middleware(NeverTraced)
        .middleware(AlwaysTraced)
        .untraced()
        .handler(echo)
        .unwrap();
    assert_eq!(traced_names(&handler), ["## auto"]);
}

#[test]
fn explicit_choices_beat_the_variable_when_it_is_off() {
    let _env = env(TRACE_MIDDLEWARES_ENV, Some("off"));
    let handler = Handler::builder()
        .middleware(step("auto", Pass))
        .middleware(step("builder_on", Pass))
        .traced()
        .middleware(AlwaysTraced)
        .middleware(NeverTraced)
        .traced()
        .handler(echo)
        .unwrap();
    assert_eq!(
        traced_names(&handler),
        ["## builder_on", "## AlwaysTraced", "## NeverTraced"]
    );
}

#[test]
fn the_variable_is_read_once_when_the_handler_is_built() {
    let _env = env(TRACE_MIDDLEWARES_ENV, Some("on"));
    let handler = Handler::builder().middleware(step("auto", Pass)).handler(echo).unwrap();
    set(TRACE_MIDDLEWARES_ENV, Some("off"));
    assert_eq!(traced_names(&handler), ["## auto"]);
    set(TRACE_MIDDLEWARES_ENV, Some("not a boolean"));
    assert_eq!(traced_names(&handler), ["## auto"]);
    set(TRACE_MIDDLEWARES_ENV, None);
}

/// Without the runtime's invocation span, a middleware span finds the trace in
/// `_X_AMZN_TRACE_ID`, as under the one-at-a-time `lambda_runtime::run`.
#[cfg(feature = "xray")]
#[test]
fn xray_reads_the_trace_header_from_the_environment() {
    use std::net::UdpSocket;
    use std::time::Duration;

    use lambda_middleware::trace::xray::{DAEMON_HEADER, TRACE_HEADER_ENV, XrayLayer};

    const SAMPLED: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    const UNSAMPLED: &str = "Root=1-5759e988-00000000000000000000dead;Parent=53995c3f42cd8ad8;Sampled=0";

    let daemon = UdpSocket::bind("127.0.0.1:0").unwrap();
    daemon.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let layer = XrayLayer::with_daemon_address(&daemon.local_addr().unwrap().to_string());
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    let _env = env(TRACE_MIDDLEWARES_ENV, None);
    let handler = Handler::builder()
        .middleware(step("env_traced", Pass))
        .traced()
        .handler(echo)
        .unwrap();

    // Not sampled first: if it sent anything, it would arrive before the sampled ones.
    set(TRACE_HEADER_ENV, Some(UNSAMPLED));
    block_on(handler.invoke_with(json!(1), &Context::default())).unwrap();
    set(TRACE_HEADER_ENV, Some(SAMPLED));
    block_on(handler.invoke_with(json!(1), &Context::default())).unwrap();
    set(TRACE_HEADER_ENV, None);

    let mut buffer = vec![0; 70_000];
    let mut documents = Vec::new();
    for _ in 0..2 {
        let length = daemon.recv(&mut buffer).unwrap();
        let text = std::str::from_utf8(&buffer[..length]).unwrap();
        let document: serde_json::Value = serde_json::from_str(text.strip_prefix(DAEMON_HEADER).unwrap()).unwrap();
        documents.push(document);
    }
    // The handler's own span closes first, then the middleware's.
    assert_eq!(documents[0]["name"], "handler_work");
    assert_eq!(documents[1]["name"], "## env_traced");
    for document in &documents {
        assert_eq!(document["trace_id"], "1-5759e988-bd862e3fe1be46a994272793");
    }
    assert_eq!(documents[1]["parent_id"], "53995c3f42cd8ad8");
    assert_eq!(documents[0]["parent_id"], documents[1]["id"]);
}

/// Counts how often it is dropped.
struct Counted(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn with_the_variable_on_an_invocation_cancelled_finished_or_panicking_drops_everything_once() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context as TaskContext, Poll, Waker};

    // Every middleware here leaves its tracing to the variable, so the invocations run
    // the chain compiled for it (boxed), and `invoke_with`'s future takes that path.
    let _env = env(TRACE_MIDDLEWARES_ENV, Some("true"));
    let drops = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(AtomicUsize::new(0));
    let (held, open) = (drops.clone(), gate.clone());
    let handler = Handler::builder()
        .middleware(step("outer", Pass))
        .middleware(step("inner", Pass))
        .handler(move |event: serde_json::Value, _: &Context| {
            let (held, open) = (Counted(held.clone()), open.clone());
            std::future::poll_fn(move |_| match open.load(Ordering::SeqCst) {
                0 => Poll::Pending,
                1 => Poll::Ready(Ok::<_, lambda_middleware::Error>(
                    json!({ "echo": event, "held": held.0.load(Ordering::SeqCst) }),
                )),
                _ => panic!("the handler panicked"),
            })
        })
        .unwrap();
    assert!(handler.traces_from_env());
    let ctx = Context::default();
    let poll = |future: std::pin::Pin<
        &mut dyn Future<Output = Result<serde_json::Value, lambda_middleware::Error>>,
    >| { future.poll(&mut TaskContext::from_waker(Waker::noop())) };

    // Cancelled while the handler is pending: its future (and what it holds) is dropped once.
    let mut pending = Box::pin(handler.invoke_with(json!(1), &ctx));
    assert!(poll(pending.as_mut()).is_pending());
    drop(pending);
    assert_eq!(drops.load(Ordering::SeqCst), 1);

    // Finished, then dropped.
    gate.store(1, Ordering::SeqCst);
    let mut finished = Box::pin(handler.invoke_with(json!(2), &ctx));
    let Poll::Ready(Ok(response)) = poll(finished.as_mut()) else {
        panic!("ready once the gate is open");
    };
    assert_eq!(response["echo"], 2);
    drop(finished);
    assert_eq!(drops.load(Ordering::SeqCst), 2);

    // A panic unwinds through the chain and drops it on the way.
    gate.store(2, Ordering::SeqCst);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut panicking = Box::pin(handler.invoke_with(json!(3), &ctx));
        let _ = poll(panicking.as_mut());
    }));
    assert!(outcome.is_err());
    assert_eq!(drops.load(Ordering::SeqCst), 3);

    // Never polled at all.
    drop(handler.invoke_with(json!(4), &ctx));
    assert_eq!(
        drops.load(Ordering::SeqCst),
        3,
        "the handler never ran, so held nothing"
    );
}

/// Through `tower::Service` (what `lambda_runtime::run` calls), the box holds the chain
/// of the mode the handler was built in: traced with the variable on, untraced off.
#[test]
fn the_service_runs_the_chain_of_the_mode_read_when_the_handler_was_built() {
    use tower::Service;

    for (value, expected) in [(Some("true"), vec!["## auto".to_owned()]), (None, vec![])] {
        let mut handler = {
            let _env = env(TRACE_MIDDLEWARES_ENV, value);
            Handler::builder().middleware(step("auto", Pass)).handler(echo).unwrap()
        };
        // The variable changed after the build: it is not read again.
        let _env = env(
            TRACE_MIDDLEWARES_ENV,
            Some(if value.is_some() { "false" } else { "true" }),
        );
        let capture = Capture::default();
        let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
        let event = lambda_runtime::LambdaEvent::new(json!(1), Context::default());
        assert_eq!(block_on(handler.call(event)).unwrap(), json!({ "echo": 1 }));
        let names: Vec<String> = capture
            .middleware_spans()
            .iter()
            .map(|span| span.display_name().to_owned())
            .collect();
        assert_eq!(names, expected, "{value:?}");
    }
}
