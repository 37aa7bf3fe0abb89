//! `Idempotent` under the real run loop: 50 concurrent invocations with one key under
//! `lambda_runtime::run_concurrent`, against a loopback Runtime API, on the in-memory
//! store and on DynamoDB (dynalite). The handler runs exactly once; every other
//! invocation gets the stored response or an `AlreadyInProgress` error (Lambda's
//! `errorType`: `IdempotencyAlreadyInProgressError`, as in Powertools) — and nothing is
//! lost or hangs.
//!
//! As in `tests/runtime_api.rs`, the function is this test binary started again as a
//! process of its own (the ignored test `lambda_function`).
#![cfg(feature = "idempotency")]

mod support;

use serde_json::json;
use support::runtime_api::{FUNCTION_ENV, Queued, RuntimeApi, TIMEOUT, start_function};

/// Where the function keeps its records: `memory`, or a dynalite endpoint.
const STORE_ENV: &str = "TEST_IDEMPOTENCY_STORE";
#[cfg(feature = "dynamodb")]
const TABLE: &str = "idempotency";
const CONCURRENCY: usize = 50;

/// Runs the scenario on the function process started with `store`.
fn fifty_at_once(store: &str) {
    let api = RuntimeApi::start();
    let payment = json!({ "order_id": "o-1", "amount_cents": 1500 });
    for n in 0..CONCURRENCY {
        api.queue(Queued::json(format!("wave-1-{n}"), &payment));
    }
    let concurrency = CONCURRENCY.to_string();
    let mut function = start_function(
        "idempotent",
        &api,
        &[("AWS_LAMBDA_MAX_CONCURRENCY", concurrency.as_str()), (STORE_ENV, store)],
    );

    // Wave 1: fifty invocations at once.
    api.wait_for_posts(CONCURRENCY, TIMEOUT, &mut function);
    let posts = api.posts_by_request_id();
    let stored = json!({ "order": "o-1", "charge": 1, "amount_cents": 1500 });
    let (mut answered, mut in_progress) = (0, 0);
    for n in 0..CONCURRENCY {
        let post = &posts[&format!("wave-1-{n}")];
        match post.outcome {
            support::runtime_api::Outcome::Response => {
                assert_eq!(post.response(), stored);
                answered += 1;
            }
            support::runtime_api::Outcome::Error => {
                let (error_type, message) = post.error();
                assert_eq!(error_type, "IdempotencyAlreadyInProgressError", "{message}");
                assert!(
                    message.starts_with("an invocation with idempotency key test-function.handler#"),
                    "{message}"
                );
                in_progress += 1;
            }
        }
    }
    // The handler takes half a second: the other workers took their events meanwhile.
    assert!(answered >= 1, "no invocation answered");
    assert!(in_progress >= 1, "no invocation met the first one in progress");
    assert_eq!(answered + in_progress, CONCURRENCY);

    // Wave 2, once the first has finished: every repeat gets the stored response.
    for n in 0..CONCURRENCY {
        api.queue(Queued::json(format!("wave-2-{n}"), &payment));
    }
    api.wait_for_posts(2 * CONCURRENCY, TIMEOUT, &mut function);
    let posts = api.posts_by_request_id();
    for n in 0..CONCURRENCY {
        assert_eq!(posts[&format!("wave-2-{n}")].response(), stored);
    }

    // The same key with another amount: refused, under its own errorType.
    api.queue(Queued::json(
        "other-amount",
        &json!({ "order_id": "o-1", "amount_cents": 9 }),
    ));
    // An event without a key runs without idempotency and reports the charges.
    api.queue(Queued::json("report", &json!({ "report": true })));
    api.wait_for_posts(2 * CONCURRENCY + 2, TIMEOUT, &mut function);
    let posts = api.posts_by_request_id();
    let (error_type, message) = posts["other-amount"].error();
    assert_eq!(error_type, "IdempotencyValidationError", "{message}");
    assert_eq!(posts["report"].response(), json!({ "charges": 1 }));
}

#[test]
fn fifty_concurrent_invocations_with_one_key_run_the_handler_once_in_memory() {
    fifty_at_once("memory");
}

/// With `AWS_LAMBDA_FUNCTION_NAME` set but empty, the key starts with `.` as in
/// Powertools (`os.getenv(.., "test-func")` falls back only when it is unset), so that
/// both find the same records; the second of two concurrent invocations shows it.
#[test]
fn an_empty_function_name_is_left_out_of_the_key_as_powertools_does() {
    let api = RuntimeApi::start();
    let payment = json!({ "order_id": "o-2", "amount_cents": 700 });
    api.queue(Queued::json("first", &payment));
    api.queue(Queued::json("second", &payment));
    let mut function = start_function(
        "idempotent",
        &api,
        &[
            ("AWS_LAMBDA_MAX_CONCURRENCY", "2"),
            (STORE_ENV, "memory"),
            ("AWS_LAMBDA_FUNCTION_NAME", ""),
        ],
    );
    api.wait_for_posts(2, TIMEOUT, &mut function);
    let posts = api.posts_by_request_id();
    let errors: Vec<_> = ["first", "second"]
        .iter()
        .filter(|id| matches!(posts[**id].outcome, support::runtime_api::Outcome::Error))
        .map(|id| posts[*id].error())
        .collect();
    assert_eq!(errors.len(), 1, "one of the two met the other in progress: {errors:?}");
    let (error_type, message) = &errors[0];
    assert_eq!(error_type, "IdempotencyAlreadyInProgressError");
    assert!(
        message.starts_with("an invocation with idempotency key .handler#"),
        "{message}"
    );
}

#[cfg(feature = "dynamodb")]
#[test]
fn fifty_concurrent_invocations_with_one_key_run_the_handler_once_on_dynamodb() {
    use support::dynalite::{Dynalite, RequestLog, client, create_table};

    let Some(dynalite) = Dynalite::start_for_this_test() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = lambda_middleware::middlewares::idempotency::DynamoDbStore::new(
            client(&dynalite.endpoint(), &RequestLog::default()),
            TABLE,
        );
        create_table(store.client(), TABLE).await;
    });
    fifty_at_once(&dynalite.endpoint());
}

/// The function process: started by the tests above, never by `cargo test` itself.
#[test]
#[ignore = "the Lambda function process the other tests start"]
fn lambda_function() {
    let Ok(name) = std::env::var(FUNCTION_ENV) else {
        return;
    };
    assert_eq!(name, "idempotent");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let store = std::env::var(STORE_ENV).expect("the store to use");
    let result = runtime.block_on(async move {
        match store.as_str() {
            "memory" => function::serve(lambda_middleware::middlewares::idempotency::MemoryStore::new()).await,
            #[cfg(feature = "dynamodb")]
            endpoint => {
                use support::dynalite::{RequestLog, client};
                let client = client(endpoint, &RequestLog::default());
                function::serve(lambda_middleware::middlewares::idempotency::DynamoDbStore::new(
                    client, TABLE,
                ))
                .await
            }
            #[cfg(not(feature = "dynamodb"))]
            other => panic!("no store {other:?} without the dynamodb feature"),
        }
    });
    panic!("the runtime stopped: {result:?}");
}

mod function {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    use lambda_middleware::middlewares::idempotency::{EventPart, IdempotencyParams, Idempotent, Store};
    use lambda_middleware::{Error, Handler};
    use lambda_runtime::LambdaEvent;
    use serde_json::{Value, json};

    /// A payment handler that takes a while, behind `Idempotent` on `store`.
    pub async fn serve(store: impl Store) -> Result<(), Error> {
        let charges = Arc::new(AtomicU64::new(0));
        let params = IdempotencyParams::builder()
            .store(store)
            .key(EventPart::pointer("/order_id"))
            .payload_validation(EventPart::pointer("/amount_cents"))
            .store_timeout(Duration::from_secs(10))
            .build();
        let handler =
            Handler::builder()
                .middleware_with(Idempotent, params)
                .handler(move |event: LambdaEvent<Value>| {
                    let charges = Arc::clone(&charges);
                    async move {
                        if event.payload["report"] == true {
                            return Ok::<_, Error>(json!({ "charges": charges.load(Ordering::SeqCst) }));
                        }
                        // Long enough for every other worker to take its event meanwhile.
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        let charge = charges.fetch_add(1, Ordering::SeqCst) + 1;
                        Ok(json!({
                            "order": event.payload["order_id"],
                            "amount_cents": event.payload["amount_cents"],
                            "charge": charge,
                        }))
                    }
                })?;
        lambda_runtime::run_concurrent(handler).await
    }
}
