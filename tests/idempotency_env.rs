//! `POWERTOOLS_IDEMPOTENCY_DISABLED`: read once when the handler is built, strictly.
//!
//! These tests change the process environment, so they live in their own test binary
//! and each holds `ENV` while it reads or writes it; their bodies are synchronous so
//! that the guard is never held across an `.await`.
#![cfg(feature = "idempotency")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use lambda_middleware::chain::Chain;
use lambda_middleware::middlewares::idempotency::{
    EventPart, IDEMPOTENCY_DISABLED_ENV, IdempotencyParams, Idempotent, MemoryStore,
};
use lambda_middleware::{BuildError, Context, Error, Handler};
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};

static ENV: Mutex<()> = Mutex::new(());

/// Holds the environment, with the variable set to `value` (or removed).
fn env(value: Option<&str>) -> MutexGuard<'static, ()> {
    let guard = ENV.lock().unwrap_or_else(PoisonError::into_inner);
    // SAFETY: every test in this binary that touches the environment holds `ENV`, and
    // nothing else in the process reads it concurrently.
    unsafe {
        match value {
            Some(value) => std::env::set_var(IDEMPOTENCY_DISABLED_ENV, value),
            None => std::env::remove_var(IDEMPOTENCY_DISABLED_ENV),
        }
    }
    guard
}

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

fn build(
    store: &MemoryStore,
    runs: &Arc<AtomicUsize>,
) -> Result<Handler<impl Chain<Value, Response = Value> + use<>>, BuildError> {
    let params = IdempotencyParams::builder()
        .store(store.clone())
        .key(EventPart::pointer("/order_id"))
        .build();
    let runs = Arc::clone(runs);
    Handler::builder()
        .middleware_with(Idempotent, params)
        .handler(move |event: LambdaEvent<Value>| {
            let runs = Arc::clone(&runs);
            async move {
                Ok::<_, Error>(
                    json!({ "run": runs.fetch_add(1, Ordering::SeqCst) + 1, "order": event.payload["order_id"] }),
                )
            }
        })
}

/// How many times the handler runs for three identical invocations.
fn runs_for_three_repeats(value: Option<&str>) -> (usize, usize) {
    let store = MemoryStore::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let handler = {
        let _env = env(value);
        build(&store, &runs).unwrap()
    };
    // Built: the variable no longer matters.
    let _env = env(Some("not read any more"));
    block_on(async {
        for _ in 0..3 {
            handler
                .invoke_with(json!({ "order_id": "o-1" }), &Context::default())
                .await
                .unwrap();
        }
    });
    (runs.load(Ordering::SeqCst), store.len())
}

#[test]
fn a_true_value_turns_idempotency_off() {
    for value in ["1", "true", "Yes", "on"] {
        assert_eq!(runs_for_three_repeats(Some(value)), (3, 0), "{value}");
    }
}

#[test]
fn false_unset_or_empty_leaves_it_on() {
    for value in [None, Some(""), Some("0"), Some("false"), Some("OFF")] {
        assert_eq!(runs_for_three_repeats(value), (1, 1), "{value:?}");
    }
}

#[test]
fn anything_else_fails_the_build_naming_the_variable_and_the_value() {
    let _env = env(Some("sometimes"));
    let error = build(&MemoryStore::new(), &Arc::default()).map(|_| ()).unwrap_err();
    assert!(matches!(
        error,
        BuildError::InvalidEnv {
            name: IDEMPOTENCY_DISABLED_ENV,
            ..
        }
    ));
    assert_eq!(
        error.to_string(),
        "environment variable POWERTOOLS_IDEMPOTENCY_DISABLED is \"sometimes\"; expected one of \
         1, y, yes, t, true, on (true) or 0, n, no, f, false, off (false), in any case"
    );
}
