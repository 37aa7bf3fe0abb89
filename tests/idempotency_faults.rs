//! `Idempotent` on DynamoDB when the store fails: dynalite killed before an invocation,
//! frozen (`SIGSTOP`) during one, killed while the handler runs. Each test has a
//! dynalite of its own. Before the handler, the invocation fails with a typed error
//! naming the key and what the middleware was doing; after it, the handler's response
//! or error goes on (the store's failure is logged). The handler runs only when the
//! key is held, nothing panics, and every wait is bounded (`store_timeout`, and a
//! minute for a whole test).
#![cfg(feature = "dynamodb")]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_middleware::chain::Chain;
use lambda_middleware::local::LocalFunction;
use lambda_middleware::middlewares::idempotency::{
    DynamoDbStore, EventPart, IdempotencyError, IdempotencyParams, Idempotent, RecordStatus, Store, StoreOperation,
};
use lambda_middleware::{Context, Error, Handler};
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use support::dynalite::{Dynalite, RequestLog, client_without_retries, create_table};
use tokio::sync::{Notify, Semaphore};

const TABLE: &str = "idempotency";

/// A charge that counts its runs, can be held mid-flight, and fails when asked.
#[derive(Clone, Default)]
struct Card {
    runs: Arc<AtomicUsize>,
    gate: Option<Arc<Semaphore>>,
    started: Arc<Notify>,
}

impl Card {
    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }

    async fn charge(&self, order: Value) -> Result<Value, Error> {
        let run = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        self.started.notify_one();
        if let Some(gate) = &self.gate {
            gate.acquire().await.expect("the gate stays open").forget();
        }
        if order["decline"] == true {
            return Err("card declined".into());
        }
        Ok(json!({ "order": order["order_id"], "charge": run }))
    }

    async fn wait_started(&self) {
        tokio::time::timeout(Duration::from_secs(10), self.started.notified())
            .await
            .expect("the handler did not start within 10 s");
    }
}

/// `Idempotent` with `params` around `card`.
fn pay(params: IdempotencyParams<Value>, card: &Card) -> Handler<impl Chain<Value, Response = Value> + use<>> {
    let card = card.clone();
    Handler::builder()
        .middleware_with(Idempotent, params)
        .handler(move |event: LambdaEvent<Value>| {
            let card = card.clone();
            async move { card.charge(event.payload).await }
        })
        .unwrap()
}

fn context() -> Context {
    LocalFunction::new("payments")
        .timeout(Duration::from_secs(60))
        .context()
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

fn order(id: &str) -> Value {
    json!({ "order_id": id, "amount_cents": 100 })
}

/// dynalite with the table, and a store on it whose client makes one attempt per
/// request; `None` (with a note) without dynalite.
async fn start() -> Option<(Dynalite, DynamoDbStore)> {
    let dynalite = Dynalite::start_for_this_test()?;
    let store = DynamoDbStore::new(
        client_without_retries(&dynalite.endpoint(), &RequestLog::default()),
        TABLE,
    );
    create_table(store.client(), TABLE).await;
    Some((dynalite, store))
}

fn key_of(params: &IdempotencyParams<Value>, order_id: &str) -> String {
    params.key_for(&order(order_id), &context()).unwrap().unwrap()
}

fn params(store: &DynamoDbStore) -> IdempotencyParams<Value> {
    IdempotencyParams::builder()
        .store(store.clone())
        .key(EventPart::pointer("/order_id"))
        .local_cache(8)
        .store_timeout(Duration::from_millis(1500))
        .build()
}

fn idempotency_error(error: &Error) -> &IdempotencyError {
    error
        .downcast_ref::<IdempotencyError>()
        .unwrap_or_else(|| panic!("not an IdempotencyError: {error:?}"))
}

async fn bounded(test: impl Future<Output = ()>) {
    tokio::time::timeout(Duration::from_secs(60), test)
        .await
        .expect("the test did not finish within 60 s");
}

#[tokio::test]
async fn a_store_that_is_down_fails_new_keys_before_the_handler_and_the_cache_still_answers() {
    let Some((mut dynalite, store)) = start().await else {
        return;
    };
    bounded(async {
        let card = Card::default();
        let handler = pay(params(&store), &card);
        let key_b = key_of(&params(&store), "b");
        let paid = handler.invoke_with(order("a"), &context()).await.unwrap();

        dynalite.stop();
        // The first request may go on the pooled connection the store just closed; the
        // next one finds nothing listening.
        for attempt in 0..2 {
            let error = handler.invoke_with(order("b"), &context()).await.unwrap_err();
            match idempotency_error(&error) {
                IdempotencyError::StoreFailed { key, operation, .. } => {
                    assert_eq!(key, &key_b);
                    assert_eq!(operation, &StoreOperation::PutInProgress);
                }
                other => panic!("{other:?}"),
            }
            let message = error.to_string();
            let expected = format!(
                "the idempotency store failed while writing the in-progress record of key {key_b}: DynamoDB \
                 PutItem on table {TABLE}: dispatch failure"
            );
            assert!(message.starts_with(&expected), "{message}");
            if attempt == 1 {
                assert!(message.to_lowercase().contains("connection refused"), "{message}");
            }
        }
        // A repeat of a completed key is answered from the cache, without the store.
        assert_eq!(handler.invoke_with(order("a"), &context()).await.unwrap(), paid);
        assert_eq!(card.runs(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_frozen_store_is_a_store_timeout_and_the_key_is_usable_after_its_deadline() {
    let Some((dynalite, store)) = start().await else { return };
    bounded(async {
        let card = Card::default();
        let params = IdempotencyParams::builder()
            .store(store.clone())
            .key(EventPart::pointer("/order_id"))
            .store_timeout(Duration::from_millis(300))
            .build();
        let key = key_of(&params, "c");
        let handler = pay(params, &card);
        let mut context = context();
        context.deadline = now_ms() + 1_000;

        dynalite.signal("STOP");
        let error = handler.invoke_with(order("c"), &context).await.unwrap_err();
        dynalite.signal("CONT");
        match idempotency_error(&error) {
            IdempotencyError::StoreTimeout {
                key: named,
                operation,
                timeout,
            } => {
                assert_eq!(named, &key);
                assert_eq!(operation, &StoreOperation::PutInProgress);
                assert_eq!(*timeout, Duration::from_millis(300));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            error.to_string(),
            format!(
                "the idempotency store did not answer within 300ms while writing the in-progress record of key {key}"
            )
        );
        assert_eq!(card.runs(), 0);

        // The write may still have landed once the store woke up; it holds the key
        // until the invocation's deadline at most.
        tokio::time::sleep(Duration::from_millis(context.deadline.saturating_sub(now_ms()) + 50)).await;
        let paid = handler.invoke_with(order("c"), &self::context()).await.unwrap();
        assert_eq!(paid, json!({ "order": "c", "charge": 1 }));
        assert_eq!(card.runs(), 1);
    })
    .await;
}

/// The store dies while two handlers run: the one with the defaults still answers with
/// its response (the failure is logged); the one with `fail_when_not_stored` fails, as
/// Powertools does, saying the response was not stored.
#[tokio::test]
async fn a_store_killed_while_the_handler_runs_loses_no_response_unless_asked_to_fail() {
    let Some((mut dynalite, store)) = start().await else {
        return;
    };
    bounded(async {
        let held = || Card {
            gate: Some(Arc::new(Semaphore::new(0))),
            ..Card::default()
        };
        let (card, strict_card) = (held(), held());
        let key = key_of(&params(&store), "d");
        let handler = Arc::new(pay(params(&store), &card));
        let strict = Arc::new(pay(
            IdempotencyParams::builder()
                .store(store.clone())
                .key(EventPart::pointer("/order_id"))
                .store_timeout(Duration::from_millis(1500))
                .fail_when_not_stored(true)
                .build(),
            &strict_card,
        ));
        let running = tokio::spawn({
            let handler = Arc::clone(&handler);
            async move { handler.invoke_with(order("d"), &context()).await }
        });
        let strict_running = tokio::spawn({
            let strict = Arc::clone(&strict);
            async move { strict.invoke_with(order("d2"), &context()).await }
        });
        card.wait_started().await;
        strict_card.wait_started().await;
        assert_eq!(store.get(&key).await.unwrap().unwrap().status, RecordStatus::InProgress);

        dynalite.stop();
        card.gate.as_ref().unwrap().add_permits(1);
        strict_card.gate.as_ref().unwrap().add_permits(1);
        let response = running.await.unwrap().unwrap();
        assert_eq!(response, json!({ "order": "d", "charge": 1 }));
        assert_eq!(card.runs(), 1);

        let error = strict_running.await.unwrap().unwrap_err();
        let strict_key = key_of(&params(&store), "d2");
        match idempotency_error(&error) {
            IdempotencyError::StoreFailed {
                key: named, operation, ..
            } => {
                assert_eq!(named, &strict_key);
                assert_eq!(operation, &StoreOperation::Complete);
            }
            other => panic!("{other:?}"),
        }
        let message = error.to_string();
        let expected = format!(
            "the idempotency store failed while storing the response of key {strict_key}: DynamoDB UpdateItem on \
             table {TABLE}: dispatch failure"
        );
        assert!(message.starts_with(&expected), "{message}");
        assert_eq!(strict_card.runs(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_store_killed_while_a_failing_handler_runs_passes_the_handlers_error_on() {
    let Some((mut dynalite, store)) = start().await else {
        return;
    };
    bounded(async {
        let card = Card {
            gate: Some(Arc::new(Semaphore::new(0))),
            ..Card::default()
        };
        let handler = Arc::new(pay(params(&store), &card));
        let running = tokio::spawn({
            let handler = Arc::clone(&handler);
            async move {
                let declined = json!({ "order_id": "e", "amount_cents": 100, "decline": true });
                handler.invoke_with(declined, &context()).await
            }
        });
        card.wait_started().await;
        dynalite.stop();
        card.gate.as_ref().unwrap().add_permits(1);

        // The handler's own error: the failed delete is logged, and the key stays held
        // until the invocation's deadline.
        let error = running.await.unwrap().unwrap_err();
        assert!(error.downcast_ref::<IdempotencyError>().is_none(), "{error:?}");
        assert_eq!(error.to_string(), "card declined");
    })
    .await;
}

/// The HTTP client a store gets when its SDK client has none speaks HTTPS (rustls with
/// ring) and checks the server's certificate: dynalite's own, self-signed and long
/// expired, is refused.
#[tokio::test]
async fn https_to_a_store_whose_certificate_is_not_trusted_is_refused() {
    let Some(dynalite) = Dynalite::start_https() else {
        return;
    };
    bounded(async {
        let store = DynamoDbStore::new(
            client_without_retries(&dynalite.endpoint(), &RequestLog::default()),
            TABLE,
        );
        let card = Card::default();
        let handler = pay(params(&store), &card);
        let error = handler.invoke_with(order("f"), &context()).await.unwrap_err();
        assert!(matches!(
            idempotency_error(&error),
            IdempotencyError::StoreFailed {
                operation: StoreOperation::PutInProgress,
                ..
            }
        ));
        let message = error.to_string();
        assert!(message.contains("invalid peer certificate"), "{message}");
        assert_eq!(card.runs(), 0);
    })
    .await;
}
