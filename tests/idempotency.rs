//! `Idempotent`: every behaviour, against the in-memory store and against a DynamoDB
//! table in dynalite (`tests/support/dynalite.rs`; skipped with a note without node,
//! a failure under `CI=true`).
//!
//! Each behaviour is one `async fn` taking a [`Backend`], run twice by the macro at the
//! end: `memory::<name>` and `dynalite::<name>`, each on a store of its own (a table
//! per test in one dynalite process). The store counts the calls the middleware makes;
//! with dynalite, the SDK's requests are logged too.
#![cfg(feature = "idempotency")]

mod common;
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_middleware::chain::Chain;
use lambda_middleware::local::LocalFunction;
use lambda_middleware::middlewares::idempotency::{
    EventPart, IdempotencyError, IdempotencyParams, IdempotencyRecord, Idempotent, MAX_EXPIRES_AFTER, MemoryStore,
    PutOutcome, RecordStatus, Store, StoreError, StoreOperation,
};
use lambda_middleware::{BuildError, Context, Error, Handler, InvocationError, Invoke, Middleware, Next, Proceeded};
use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{Notify, Semaphore};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Payment {
    order_id: String,
    amount_cents: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Receipt {
    payment_id: String,
    charged_cents: u64,
}

fn payment(order_id: &str, amount_cents: u64) -> Payment {
    Payment {
        order_id: order_id.into(),
        amount_cents,
    }
}

/// The handler's error when a card is declined.
#[derive(Debug, thiserror::Error)]
#[error("card declined for order {0}")]
struct CardDeclined(String);

/// The payment provider: counts charges, and can decline or hold them.
#[derive(Clone, Default)]
struct Card {
    runs: Arc<AtomicUsize>,
    /// Charges to decline before accepting again.
    declines: Arc<AtomicUsize>,
    /// Charges that panic before the others go through.
    panics: Arc<AtomicUsize>,
    /// When set, a charge waits for a permit: the test holds the handler mid-flight.
    gate: Option<Arc<Semaphore>>,
    started: Arc<Notify>,
}

impl Card {
    fn held() -> Card {
        Card {
            gate: Some(Arc::new(Semaphore::new(0))),
            ..Card::default()
        }
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }

    /// Waits (at most 10 s) until a charge has started.
    async fn wait_started(&self) {
        tokio::time::timeout(Duration::from_secs(10), self.started.notified())
            .await
            .expect("the handler did not start within 10 s");
    }

    fn release(&self) {
        self.gate.as_ref().expect("a held card").add_permits(1);
    }

    async fn charge(&self, payment: Payment) -> Result<Receipt, Error> {
        let run = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        self.started.notify_one();
        if let Some(gate) = &self.gate {
            gate.acquire().await.expect("the gate stays open").forget();
        }
        let take = |left: &AtomicUsize| {
            left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1))
                .is_ok()
        };
        if take(&self.panics) {
            panic!("the card terminal crashed charging order {}", payment.order_id);
        }
        if take(&self.declines) {
            return Err(CardDeclined(payment.order_id).into());
        }
        Ok(Receipt {
            payment_id: format!("pay-{run}"),
            charged_cents: payment.amount_cents,
        })
    }
}

/// `Idempotent` with `params` around `card`.
fn pay(params: IdempotencyParams<Payment>, card: &Card) -> Handler<impl Chain<Payment, Response = Receipt> + use<>> {
    let card = card.clone();
    Handler::builder()
        .middleware_with(Idempotent, params)
        .handler(move |event: LambdaEvent<Payment>| {
            let card = card.clone();
            async move { card.charge(event.payload).await }
        })
        .unwrap()
}

/// A context of the function `payments` with a deadline a minute away.
fn context() -> Context {
    LocalFunction::new("payments")
        .timeout(Duration::from_secs(60))
        .context()
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

fn now_s() -> u64 {
    now_ms() / 1000
}

/// The key `Idempotent` uses for an order of the function `payments`, scope `handler`.
fn key_of(order_id: &str) -> String {
    let params: IdempotencyParams<Payment> = IdempotencyParams::builder()
        .store(MemoryStore::new())
        .key(EventPart::pointer("/order_id"))
        .build();
    params.key_for(&payment(order_id, 0), &context()).unwrap().unwrap()
}

fn idempotency_error(error: &Error) -> &IdempotencyError {
    error
        .downcast_ref::<IdempotencyError>()
        .unwrap_or_else(|| panic!("not an IdempotencyError: {error:?}"))
}

/// Sleeps until `record` has expired (its expiration second has passed).
async fn until_expired(record: &IdempotencyRecord) {
    let expired_at = (record.expiration + 1) * 1000;
    let wait = expired_at.saturating_sub(now_ms()) + 20;
    tokio::time::sleep(Duration::from_millis(wait)).await;
}

/// Sleeps until `deadline_ms` (milliseconds since the epoch) has passed.
async fn until_past(deadline_ms: u64) {
    tokio::time::sleep(Duration::from_millis(deadline_ms.saturating_sub(now_ms()) + 20)).await;
}

/// Waits (at most 10 s) until the store holds no record under `key`: a key freed in
/// the background.
async fn until_freed(backend: &Backend, key: &str) {
    let freed = tokio::time::timeout(Duration::from_secs(10), async {
        while backend.record(key).await.is_some() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(
        freed.is_ok(),
        "the key is still held after 10 s: {:?}",
        backend.record(key).await
    );
}

// ---------------------------------------------------------------------------------
// The stores

/// The store of one test, counting the calls the middleware makes.
#[derive(Clone)]
struct TestStore {
    inner: Inner,
    calls: Arc<Mutex<Vec<&'static str>>>,
}

#[derive(Clone)]
enum Inner {
    Memory(MemoryStore),
    #[cfg(feature = "dynamodb")]
    Dynamo(Box<lambda_middleware::middlewares::idempotency::DynamoDbStore>),
}

impl TestStore {
    fn count(&self, call: &'static str) {
        self.calls.lock().unwrap().push(call);
    }
}

impl Store for TestStore {
    async fn put_if_absent(&self, record: &IdempotencyRecord, now: SystemTime) -> Result<PutOutcome, StoreError> {
        self.count("put_if_absent");
        match &self.inner {
            Inner::Memory(store) => store.put_if_absent(record, now).await,
            #[cfg(feature = "dynamodb")]
            Inner::Dynamo(store) => store.put_if_absent(record, now).await,
        }
    }

    async fn get(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.count("get");
        match &self.inner {
            Inner::Memory(store) => store.get(key).await,
            #[cfg(feature = "dynamodb")]
            Inner::Dynamo(store) => store.get(key).await,
        }
    }

    async fn update(&self, record: &IdempotencyRecord, in_progress_expiration: u64) -> Result<(), StoreError> {
        self.count("update");
        match &self.inner {
            Inner::Memory(store) => store.update(record, in_progress_expiration).await,
            #[cfg(feature = "dynamodb")]
            Inner::Dynamo(store) => store.update(record, in_progress_expiration).await,
        }
    }

    async fn delete(&self, key: &str, in_progress_expiration: u64) -> Result<(), StoreError> {
        self.count("delete");
        match &self.inner {
            Inner::Memory(store) => store.delete(key, in_progress_expiration).await,
            #[cfg(feature = "dynamodb")]
            Inner::Dynamo(store) => store.delete(key, in_progress_expiration).await,
        }
    }
}

/// A store for one test, and ways to look behind the middleware's back.
struct Backend {
    store: TestStore,
    #[cfg(feature = "dynamodb")]
    dynamo: Option<dynamo::Table>,
}

impl Backend {
    fn memory() -> Backend {
        Backend {
            store: TestStore {
                inner: Inner::Memory(MemoryStore::new()),
                calls: Arc::default(),
            },
            #[cfg(feature = "dynamodb")]
            dynamo: None,
        }
    }

    fn is_dynamo(&self) -> bool {
        #[cfg(feature = "dynamodb")]
        return self.dynamo.is_some();
        #[cfg(not(feature = "dynamodb"))]
        false
    }

    /// The store, to give to the params.
    fn store(&self) -> TestStore {
        self.store.clone()
    }

    /// Params on this store, keyed by `/order_id`, with the defaults.
    fn by_order(&self) -> IdempotencyParams<Payment> {
        IdempotencyParams::builder()
            .store(self.store())
            .key(EventPart::pointer("/order_id"))
            .build()
    }

    /// The store calls since the last look.
    fn calls(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.store.calls.lock().unwrap())
    }

    /// The record under `key`, read without counting.
    async fn record(&self, key: &str) -> Option<IdempotencyRecord> {
        match &self.store.inner {
            Inner::Memory(store) => store.record(key),
            #[cfg(feature = "dynamodb")]
            Inner::Dynamo(store) => store.get(key).await.unwrap(),
        }
    }

    /// Replaces the data of the completed record under `key` with something of the
    /// wrong type: a JSON string in memory, a number attribute in DynamoDB.
    async fn corrupt(&self, key: &str) {
        match &self.store.inner {
            Inner::Memory(store) => {
                let mut record = store.record(key).expect("a record to corrupt");
                record.data = Some("\"not a receipt\"".into());
                store.insert(record);
            }
            #[cfg(feature = "dynamodb")]
            Inner::Dynamo(_) => self.dynamo.as_ref().unwrap().set_data_to_a_number(key).await,
        }
    }
}

#[cfg(feature = "dynamodb")]
mod dynamo {
    use std::sync::OnceLock;

    use lambda_middleware::middlewares::idempotency::DynamoDbStore;
    use lambda_middleware::middlewares::idempotency::aws_sdk_dynamodb::types::AttributeValue;

    use super::support::dynalite::{Dynalite, RequestLog, client, create_table};
    use super::{Backend, Inner, TestStore};

    /// One dynalite for the whole test binary; it exits with the process.
    fn shared() -> Option<&'static Dynalite> {
        static SHARED: OnceLock<Option<Dynalite>> = OnceLock::new();
        SHARED.get_or_init(Dynalite::start).as_ref()
    }

    /// A table of a test, and the client's request log.
    pub struct Table {
        pub client: lambda_middleware::middlewares::idempotency::aws_sdk_dynamodb::Client,
        pub name: String,
        pub log: RequestLog,
    }

    impl Table {
        pub async fn set_data_to_a_number(&self, key: &str) {
            self.client
                .update_item()
                .table_name(&self.name)
                .key("id", AttributeValue::S(key.into()))
                .update_expression("SET #data = :number")
                .expression_attribute_names("#data", "data")
                .expression_attribute_values(":number", AttributeValue::N("42".into()))
                .send()
                .await
                .unwrap();
        }
    }

    impl Backend {
        /// A new table `test` in the shared dynalite, or `None` (with a note) without it.
        pub async fn dynalite(test: &str) -> Option<Backend> {
            let dynalite = shared()?;
            super::support::tools::ran("dynalite", test);
            let log = RequestLog::default();
            let store = DynamoDbStore::new(client(&dynalite.endpoint(), &log), test);
            let client = store.client().clone();
            create_table(&client, test).await;
            log.take();
            Some(Backend {
                store: TestStore {
                    inner: Inner::Dynamo(Box::new(store)),
                    calls: Default::default(),
                },
                dynamo: Some(Table {
                    client,
                    name: test.to_owned(),
                    log,
                }),
            })
        }
    }
}

// ---------------------------------------------------------------------------------
// The behaviours

async fn first_sight_runs_the_handler_and_stores_a_completed_record(backend: Backend) {
    let card = Card::default();
    let handler = pay(backend.by_order(), &card);
    let context = context();
    let before = now_s();
    let receipt = handler.invoke_with(payment("o-1", 1500), &context).await.unwrap();
    let after = now_s();

    assert_eq!(
        receipt,
        Receipt {
            payment_id: "pay-1".into(),
            charged_cents: 1500
        }
    );
    assert_eq!(card.runs(), 1);
    let key = key_of("o-1");
    assert!(key.starts_with("payments.handler#"), "{key}");
    let record = backend.record(&key).await.expect("a record");
    assert_eq!(record.key, key);
    assert_eq!(record.status, RecordStatus::Completed);
    assert_eq!(
        record.data.as_deref(),
        Some(r#"{"payment_id":"pay-1","charged_cents":1500}"#)
    );
    assert!(
        (before + 3600..=after + 3600).contains(&record.expiration),
        "{record:?}"
    );
    // The in-progress hold was the invocation's deadline; completing does not touch it.
    assert_eq!(record.in_progress_expiration, Some(context.deadline));
    assert_eq!(record.validation, None);
}

async fn a_repeat_answers_with_the_stored_response_and_outer_middlewares_still_run(backend: Backend) {
    /// Counts the invocations that reach it, and stamps the response.
    #[derive(Clone, Default)]
    struct Seen(Arc<AtomicUsize>);

    impl Middleware<Payment, Receipt> for Seen {
        type Params = ();

        async fn call<'n, I>(
            &self,
            _: &(),
            event: Payment,
            _: &Context,
            next: Next<'n, I>,
        ) -> Result<Proceeded<'n, Receipt>, Error>
        where
            I: Invoke<Payment, Response = Receipt>,
        {
            self.0.fetch_add(1, Ordering::SeqCst);
            let mut response = next.run(event).await?;
            response.response_mut().payment_id.push_str("+seen");
            Ok(response)
        }
    }

    let (outer, inner, card) = (Seen::default(), Seen::default(), Card::default());
    let charge = card.clone();
    let handler = Handler::builder()
        .middleware(outer.clone())
        .middleware_with(Idempotent, backend.by_order())
        .middleware(inner.clone())
        .handler(move |event: LambdaEvent<Payment>| {
            let card = charge.clone();
            async move { card.charge(event.payload).await }
        })
        .unwrap();

    let first = handler.invoke_with(payment("o-2", 700), &context()).await.unwrap();
    let repeat = handler.invoke_with(payment("o-2", 700), &context()).await.unwrap();

    // The inner middleware's stamp is stored; the outer one stamps every answer.
    assert_eq!(first.payment_id, "pay-1+seen+seen");
    assert_eq!(repeat, first);
    assert_eq!(card.runs(), 1);
    assert_eq!(inner.0.load(Ordering::SeqCst), 1);
    assert_eq!(outer.0.load(Ordering::SeqCst), 2);
}

async fn a_completed_record_past_its_expiry_runs_the_handler_again(backend: Backend) {
    let card = Card::default();
    let params = IdempotencyParams::builder()
        .store(backend.store())
        .key(EventPart::pointer("/order_id"))
        .expires_after(Duration::from_secs(1))
        .build();
    let handler = pay(params, &card);

    let first = handler.invoke_with(payment("o-3", 100), &context()).await.unwrap();
    let record = backend.record(&key_of("o-3")).await.unwrap();
    assert!(record.expiration <= now_s() + 1, "{record:?}");
    let still_valid = handler.invoke_with(payment("o-3", 100), &context()).await.unwrap();
    assert_eq!((still_valid, card.runs()), (first, 1));

    until_expired(&record).await;
    let again = handler.invoke_with(payment("o-3", 100), &context()).await.unwrap();
    assert_eq!(again.payment_id, "pay-2");
    assert_eq!(card.runs(), 2);
    let record = backend.record(&key_of("o-3")).await.unwrap();
    assert_eq!(
        record.data.as_deref(),
        Some(r#"{"payment_id":"pay-2","charged_cents":100}"#)
    );
}

async fn a_repeat_while_the_first_runs_fails_with_already_in_progress(backend: Backend) {
    let card = Card::held();
    let handler = Arc::new(pay(backend.by_order(), &card));
    let context = context();

    let first = tokio::spawn({
        let (handler, context) = (Arc::clone(&handler), context.clone());
        async move { handler.invoke_with(payment("o-4", 900), &context).await }
    });
    card.wait_started().await;
    let record = backend.record(&key_of("o-4")).await.expect("the in-progress record");
    assert_eq!(record.status, RecordStatus::InProgress);
    assert_eq!(record.in_progress_expiration, Some(context.deadline));
    assert_eq!(record.data, None);

    let error = handler.invoke_with(payment("o-4", 900), &context).await.unwrap_err();
    match idempotency_error(&error) {
        IdempotencyError::AlreadyInProgress { key, until_ms } => {
            assert_eq!(key, &key_of("o-4"));
            assert_eq!(*until_ms, Some(context.deadline));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        error.to_string(),
        format!(
            "an invocation with idempotency key {} is already in progress (until {} ms since the Unix epoch \
             at the latest); retry once it has finished",
            key_of("o-4"),
            context.deadline
        )
    );

    card.release();
    let receipt = first.await.unwrap().unwrap();
    let repeat = handler.invoke_with(payment("o-4", 900), &context).await.unwrap();
    assert_eq!(repeat, receipt);
    assert_eq!(card.runs(), 1);
}

async fn an_invocation_that_never_finished_frees_its_key_at_its_deadline(backend: Backend) {
    // Two execution environments of the function on one store: the first dies.
    let (dying_card, card) = (Card::held(), Card::default());
    let dying_handler = pay(backend.by_order(), &dying_card);
    let handler = pay(backend.by_order(), &card);
    let mut dying = context();
    dying.deadline = now_ms() + 400;

    // The function is killed mid-flight: its invocation never finishes, and nothing
    // of it runs again, not even its destructors (which would free the key at once).
    let mut first = Box::pin(dying_handler.invoke_with(payment("o-5", 300), &dying));
    tokio::select! {
        outcome = &mut first => panic!("the held handler finished: {outcome:?}"),
        () = dying_card.wait_started() => {}
    }
    std::mem::forget(first);

    let before_deadline = handler.invoke_with(payment("o-5", 300), &context()).await.unwrap_err();
    assert!(matches!(
        idempotency_error(&before_deadline),
        IdempotencyError::AlreadyInProgress { .. }
    ));
    until_past(dying.deadline).await;

    let receipt = handler.invoke_with(payment("o-5", 300), &context()).await.unwrap();
    assert_eq!(receipt.payment_id, "pay-1");
    assert_eq!((dying_card.runs(), card.runs()), (1, 1));
    assert_eq!(
        backend.record(&key_of("o-5")).await.unwrap().status,
        RecordStatus::Completed
    );
}

async fn a_handler_error_deletes_the_record_and_a_retry_runs_the_handler(backend: Backend) {
    let card = Card::default();
    card.declines.store(1, Ordering::SeqCst);
    let handler = pay(backend.by_order(), &card);

    let error = handler.invoke_with(payment("o-6", 250), &context()).await.unwrap_err();
    // The handler's own error, unchanged.
    assert_eq!(error.to_string(), "card declined for order o-6");
    assert!(error.downcast_ref::<CardDeclined>().is_some());
    assert_eq!(backend.record(&key_of("o-6")).await, None);
    assert_eq!(backend.calls(), ["put_if_absent", "delete"]);

    let receipt = handler.invoke_with(payment("o-6", 250), &context()).await.unwrap();
    assert_eq!(receipt.payment_id, "pay-2");
    assert_eq!(card.runs(), 2);
}

async fn a_repeat_with_another_payload_fails_with_payload_mismatch(backend: Backend) {
    let card = Card::default();
    let params = IdempotencyParams::builder()
        .store(backend.store())
        .key(EventPart::pointer("/order_id"))
        .payload_validation(EventPart::pointer("/amount_cents"))
        .build();
    let handler = pay(params, &card);

    let first = handler.invoke_with(payment("o-7", 1000), &context()).await.unwrap();
    let stored = backend.record(&key_of("o-7")).await.unwrap();
    // SHA-256 of `1000` written as Python writes it.
    assert_eq!(
        stored.validation.as_deref(),
        Some("40510175845988f13f6162ed8526f0b09f73384467fa855e1e79b44a56562a58")
    );

    let error = handler.invoke_with(payment("o-7", 9999), &context()).await.unwrap_err();
    assert!(
        matches!(idempotency_error(&error), IdempotencyError::PayloadMismatch { key, .. } if *key == key_of("o-7"))
    );
    assert_eq!(
        error.to_string(),
        format!(
            "the event has idempotency key {} but not the payload first seen with it: the pointer /amount_cents \
             differs (a new operation needs a new key)",
            key_of("o-7")
        )
    );
    assert_eq!(backend.record(&key_of("o-7")).await.unwrap(), stored);
    let same = handler.invoke_with(payment("o-7", 1000), &context()).await.unwrap();
    assert_eq!(same, first);
    assert_eq!(card.runs(), 1);
}

async fn an_event_without_a_key_runs_without_idempotency(backend: Backend) {
    let card = Card::default();
    let params = IdempotencyParams::builder()
        .store(backend.store())
        .key(EventPart::pointer("/customer_id"))
        .build();
    let handler = pay(params, &card);

    handler.invoke_with(payment("o-8", 1), &context()).await.unwrap();
    handler.invoke_with(payment("o-8", 1), &context()).await.unwrap();
    assert_eq!(card.runs(), 2);
    assert_eq!(backend.calls(), Vec::<&str>::new());
}

async fn an_event_without_a_key_fails_with_raise_on_no_key(backend: Backend) {
    let card = Card::default();
    let params = IdempotencyParams::builder()
        .store(backend.store())
        .key(EventPart::pointer("/customer_id"))
        .raise_on_no_key(true)
        .build();
    let handler = pay(params, &card);

    let error = handler.invoke_with(payment("o-9", 1), &context()).await.unwrap_err();
    assert!(matches!(
        idempotency_error(&error),
        IdempotencyError::MissingIdempotencyKey { .. }
    ));
    assert_eq!(
        error.to_string(),
        "the event has no idempotency key: the pointer /customer_id found nothing (or null, \"\", or an array or \
         object holding only nulls)"
    );
    assert_eq!(card.runs(), 0);
    assert_eq!(backend.calls(), Vec::<&str>::new());
}

async fn a_cache_hit_needs_no_store_call(backend: Backend) {
    let card = Card::default();
    let params = IdempotencyParams::builder()
        .store(backend.store())
        .key(EventPart::pointer("/order_id"))
        .local_cache(2)
        .build();
    let handler = pay(params, &card);

    let first = handler.invoke_with(payment("o-10", 5), &context()).await.unwrap();
    assert_eq!(backend.calls(), ["put_if_absent", "update"]);
    for _ in 0..3 {
        assert_eq!(
            handler.invoke_with(payment("o-10", 5), &context()).await.unwrap(),
            first
        );
    }
    assert_eq!(backend.calls(), Vec::<&str>::new());
    assert_eq!(card.runs(), 1);

    // Two other orders push `o-10` out of the two-item cache: the store answers again.
    handler.invoke_with(payment("o-11", 5), &context()).await.unwrap();
    handler.invoke_with(payment("o-12", 5), &context()).await.unwrap();
    backend.calls();
    assert_eq!(
        handler.invoke_with(payment("o-10", 5), &context()).await.unwrap(),
        first
    );
    assert_eq!(backend.calls()[0], "put_if_absent");
    assert_eq!(card.runs(), 3);
}

async fn a_corrupted_record_is_an_error_naming_its_key(backend: Backend) {
    let card = Card::default();
    let handler = pay(backend.by_order(), &card);
    handler.invoke_with(payment("o-13", 5), &context()).await.unwrap();
    backend.corrupt(&key_of("o-13")).await;

    let error = handler.invoke_with(payment("o-13", 5), &context()).await.unwrap_err();
    let key = key_of("o-13");
    match idempotency_error(&error) {
        IdempotencyError::CorruptedRecord { key: named, .. } => assert_eq!(named, &key),
        other => panic!("{other:?}"),
    }
    let expected = if backend.is_dynamo() {
        format!("the idempotency record {key} is corrupted: attribute `data` is a number (N); expected a string (S)")
    } else {
        format!(
            "the idempotency record {key} is corrupted: its data does not read as a Receipt: \
             invalid type: string \"not a receipt\", expected struct Receipt at line 1 column 15"
        )
    };
    assert_eq!(error.to_string(), expected);
    assert_eq!(card.runs(), 1);
}

async fn scopes_and_function_names_keep_keys_apart(backend: Backend) {
    let card = Card::default();
    let checkout = pay(
        IdempotencyParams::builder()
            .store(backend.store())
            .key(EventPart::pointer("/order_id"))
            .scope("checkout")
            .build(),
        &card,
    );
    let refunds = pay(
        IdempotencyParams::builder()
            .store(backend.store())
            .key(EventPart::pointer("/order_id"))
            .scope("refunds")
            .build(),
        &card,
    );
    let other_function = LocalFunction::new("invoices").context();

    checkout.invoke_with(payment("o-14", 1), &context()).await.unwrap();
    refunds.invoke_with(payment("o-14", 1), &context()).await.unwrap();
    checkout.invoke_with(payment("o-14", 1), &other_function).await.unwrap();
    checkout.invoke_with(payment("o-14", 1), &context()).await.unwrap(); // a replay
    assert_eq!(card.runs(), 3);
    let hash = key_of("o-14").split_once('#').unwrap().1.to_owned();
    for key in [
        format!("payments.checkout#{hash}"),
        format!("payments.refunds#{hash}"),
        format!("invoices.checkout#{hash}"),
    ] {
        assert_eq!(
            backend.record(&key).await.unwrap().status,
            RecordStatus::Completed,
            "{key}"
        );
    }
}

/// Store calls per invocation: one per phase on the happy path, none from the cache.
/// With dynalite, each store call is exactly one request.
async fn store_calls_per_invocation(backend: Backend) {
    let card = Card::default();
    card.declines.store(1, Ordering::SeqCst);
    let handler = pay(backend.by_order(), &card);
    let cached = pay(
        IdempotencyParams::builder()
            .store(backend.store())
            .key(EventPart::pointer("/order_id"))
            .local_cache(16)
            .build(),
        &card,
    );

    // One context for all: the hold of every invocation is its deadline.
    let context = context();
    let mut phases = Vec::new();
    let _ = handler.invoke_with(payment("o-15", 1), &context).await.unwrap_err();
    phases.push(("handler failed", backend.calls()));
    handler.invoke_with(payment("o-15", 1), &context).await.unwrap();
    phases.push(("first sight", backend.calls()));
    handler.invoke_with(payment("o-15", 1), &context).await.unwrap();
    phases.push(("repeat", backend.calls()));
    cached.invoke_with(payment("o-15", 1), &context).await.unwrap();
    phases.push(("repeat, cache empty", backend.calls()));
    cached.invoke_with(payment("o-15", 1), &context).await.unwrap();
    phases.push(("repeat, cache hit", backend.calls()));

    // A store that returns the existing record with a refused write (the in-memory
    // one, DynamoDB) answers a repeat in one call; dynalite does not implement
    // `ReturnValuesOnConditionCheckFailure`, so a read follows.
    let repeat: &[&str] = if backend.is_dynamo() {
        &["put_if_absent", "get"]
    } else {
        &["put_if_absent"]
    };
    assert_eq!(
        phases,
        [
            ("handler failed", vec!["put_if_absent", "delete"]),
            ("first sight", vec!["put_if_absent", "update"]),
            ("repeat", repeat.to_vec()),
            ("repeat, cache empty", repeat.to_vec()),
            ("repeat, cache hit", vec![]),
        ]
    );

    #[cfg(feature = "dynamodb")]
    if let Some(table) = &backend.dynamo {
        let sent = table.log.take();
        let operations: Vec<_> = sent.iter().map(|sent| sent.operation.as_str()).collect();
        assert_eq!(
            operations,
            [
                "PutItem",
                "DeleteItem",
                "PutItem",
                "UpdateItem",
                "PutItem",
                "GetItem",
                "PutItem",
                "GetItem"
            ]
        );
        let put: Value = serde_json::from_str(&sent[0].body).unwrap();
        assert_eq!(put["ReturnValuesOnConditionCheckFailure"], "ALL_OLD");
        assert_eq!(
            put["ConditionExpression"],
            "attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND \
             attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)"
        );
        let get: Value = serde_json::from_str(&sent[5].body).unwrap();
        assert_eq!(get["ConsistentRead"], true);
        // The delete and the update change the record only while it is the one this
        // invocation wrote: in progress, with its own hold (no new attribute).
        for (n, operation) in [(1, "DeleteItem"), (3, "UpdateItem")] {
            let body: Value = serde_json::from_str(&sent[n].body).unwrap();
            assert_eq!(
                body["ConditionExpression"], "#status = :inprogress AND #in_progress_expiry = :in_progress_expiry",
                "{operation}"
            );
            assert_eq!(body["ExpressionAttributeNames"]["#status"], "status", "{operation}");
            assert_eq!(
                body["ExpressionAttributeNames"]["#in_progress_expiry"], "in_progress_expiration",
                "{operation}"
            );
            assert_eq!(
                body["ExpressionAttributeValues"][":inprogress"],
                json!({ "S": "INPROGRESS" })
            );
            assert_eq!(
                body["ExpressionAttributeValues"][":in_progress_expiry"],
                json!({ "N": context.deadline.to_string() }),
                "{operation}"
            );
        }
    }
}

async fn a_cached_repeat_with_another_payload_fails_with_payload_mismatch(backend: Backend) {
    let card = Card::default();
    let params = IdempotencyParams::builder()
        .store(backend.store())
        .key(EventPart::pointer("/order_id"))
        .payload_validation(EventPart::pointer("/amount_cents"))
        .local_cache(8)
        .build();
    let handler = pay(params, &card);

    let first = handler.invoke_with(payment("o-19", 1000), &context()).await.unwrap();
    backend.calls();
    // Answered from the cache: no store call, and the payload is still checked.
    let error = handler.invoke_with(payment("o-19", 1), &context()).await.unwrap_err();
    assert!(
        matches!(idempotency_error(&error), IdempotencyError::PayloadMismatch { key, part }
            if *key == key_of("o-19") && part == "the pointer /amount_cents"),
        "{error:?}"
    );
    assert_eq!(
        handler.invoke_with(payment("o-19", 1000), &context()).await.unwrap(),
        first
    );
    assert_eq!(backend.calls(), Vec::<&str>::new());
    assert_eq!(card.runs(), 1);
}

/// Two invocations of one payment: A, whose hold runs out while its handler (held by
/// `card`) still runs, and B, which takes the key after that and is held too.
struct PastItsHold<C> {
    handler: Arc<Handler<C>>,
    key: String,
    a: tokio::task::JoinHandle<Result<Receipt, Error>>,
    b: tokio::task::JoinHandle<Result<Receipt, Error>>,
    b_context: Context,
    b_record: IdempotencyRecord,
}

async fn past_its_hold(
    backend: &Backend,
    card: &Card,
    order_id: &'static str,
    amount_cents: u64,
) -> PastItsHold<impl Chain<Payment, Response = Receipt> + use<>> {
    let handler = Arc::new(pay(backend.by_order(), card));
    let key = key_of(order_id);
    let mut short = context();
    short.deadline = now_ms() + 300;

    let a = tokio::spawn({
        let (handler, short) = (Arc::clone(&handler), short.clone());
        async move { handler.invoke_with(payment(order_id, amount_cents), &short).await }
    });
    card.wait_started().await;
    until_past(short.deadline).await;
    let b_context = context();
    let b = tokio::spawn({
        let (handler, b_context) = (Arc::clone(&handler), b_context.clone());
        async move { handler.invoke_with(payment(order_id, amount_cents), &b_context).await }
    });
    card.wait_started().await;
    let b_record = backend.record(&key).await.expect("B's record");
    PastItsHold {
        handler,
        key,
        a,
        b,
        b_context,
        b_record,
    }
}

/// A's hold ran out while its handler still ran, and B took the key: A's failure must
/// not delete B's record, or a third invocation runs the handler while B still does.
async fn a_failure_past_its_hold_leaves_the_record_of_the_invocation_that_took_the_key(backend: Backend) {
    let card = Card::held();
    card.declines.store(1, Ordering::SeqCst);
    let PastItsHold {
        handler,
        key,
        a,
        b,
        b_context,
        b_record,
    } = past_its_hold(&backend, &card, "o-20", 40).await;
    assert_eq!(b_record.in_progress_expiration, Some(b_context.deadline));

    // The first permit goes to the first waiter: A goes on, and is declined.
    card.release();
    let error = a.await.unwrap().unwrap_err();
    assert_eq!(error.to_string(), "card declined for order o-20");
    assert_eq!(backend.record(&key).await, Some(b_record));
    let error = handler.invoke_with(payment("o-20", 40), &context()).await.unwrap_err();
    assert!(
        matches!(idempotency_error(&error), IdempotencyError::AlreadyInProgress { until_ms, .. }
            if *until_ms == Some(b_context.deadline)),
        "{error:?}"
    );

    card.release();
    assert_eq!(b.await.unwrap().unwrap().payment_id, "pay-2");
    assert_eq!(card.runs(), 2);
    let record = backend.record(&key).await.unwrap();
    assert_eq!(record.status, RecordStatus::Completed);
    assert_eq!(
        record.data.as_deref(),
        Some(r#"{"payment_id":"pay-2","charged_cents":40}"#)
    );
}

/// A's hold ran out while its handler still ran, and B took the key: A's success must
/// not overwrite B's in-progress record; A still answers with its own response.
async fn a_success_past_its_hold_leaves_the_record_of_the_invocation_that_took_the_key(backend: Backend) {
    let card = Card::held();
    let PastItsHold {
        handler,
        key,
        a,
        b,
        b_record,
        ..
    } = past_its_hold(&backend, &card, "o-21", 50).await;

    card.release();
    assert_eq!(a.await.unwrap().unwrap().payment_id, "pay-1");
    assert_eq!(backend.record(&key).await, Some(b_record));

    card.release();
    assert_eq!(b.await.unwrap().unwrap().payment_id, "pay-2");
    let record = backend.record(&key).await.unwrap();
    assert_eq!(record.status, RecordStatus::Completed);
    assert_eq!(
        record.data.as_deref(),
        Some(r#"{"payment_id":"pay-2","charged_cents":50}"#)
    );
    assert_eq!(
        handler
            .invoke_with(payment("o-21", 50), &context())
            .await
            .unwrap()
            .payment_id,
        "pay-2"
    );
}

/// A handler that panics frees its key, as one that fails does: the retry runs it.
async fn a_panicking_handler_frees_its_key(backend: Backend) {
    let card = Card::default();
    card.panics.store(1, Ordering::SeqCst);
    let handler = Arc::new(pay(backend.by_order(), &card));
    let key = key_of("o-22");

    let crashed = tokio::spawn({
        let handler = Arc::clone(&handler);
        async move { handler.invoke_with(payment("o-22", 60), &context()).await }
    })
    .await
    .unwrap_err();
    assert!(crashed.is_panic());
    until_freed(&backend, &key).await;

    let receipt = handler.invoke_with(payment("o-22", 60), &context()).await.unwrap();
    assert_eq!(receipt.payment_id, "pay-2");
    assert_eq!(card.runs(), 2);
}

/// An invocation whose future is dropped mid-flight (a timeout around it) frees its key.
async fn a_cancelled_invocation_frees_its_key(backend: Backend) {
    let card = Card::held();
    let handler = Arc::new(pay(backend.by_order(), &card));
    let key = key_of("o-23");

    let first = tokio::spawn({
        let handler = Arc::clone(&handler);
        async move { handler.invoke_with(payment("o-23", 70), &context()).await }
    });
    card.wait_started().await;
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    until_freed(&backend, &key).await;

    card.release();
    let receipt = handler.invoke_with(payment("o-23", 70), &context()).await.unwrap();
    assert_eq!(receipt.payment_id, "pay-2");
    assert_eq!(card.runs(), 2);
}

/// Each SQS record is its own idempotent invocation, keyed by the order in its body.
#[cfg(feature = "sqs")]
async fn sqs_records_are_idempotent_one_by_one(backend: Backend) {
    use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
    use lambda_middleware::middlewares::SqsBatch;

    let runs = Arc::new(Mutex::new(Vec::<String>::new()));
    let handled = Arc::clone(&runs);
    let params = IdempotencyParams::builder()
        .store(backend.store())
        .key(EventPart::pointer("/body/order_id"))
        .build();
    let records = Handler::builder()
        .middleware_with(Idempotent, params)
        .handler(move |event: LambdaEvent<SqsMessage>| {
            let handled = Arc::clone(&handled);
            async move {
                let body: Value = serde_json::from_str(event.payload.body.as_deref().unwrap_or("{}"))?;
                if body["amount"] == "bad" {
                    return Err::<Value, Error>("bad amount".into());
                }
                handled
                    .lock()
                    .unwrap()
                    .push(body["order_id"].as_str().unwrap_or("").to_owned());
                Ok(json!({ "charged": body["amount"] }))
            }
        })
        .unwrap();
    let batch = SqsBatch::new(records);
    let event: SqsEvent = serde_json::from_value(json!({ "Records": [
        { "messageId": "m-1", "body": "{\"order_id\":\"a\",\"amount\":1}" },
        { "messageId": "m-2", "body": "{\"order_id\":\"b\",\"amount\":2}" },
        { "messageId": "m-3", "body": "{\"order_id\":\"a\",\"amount\":1}" },
        { "messageId": "m-4", "body": "{\"order_id\":\"c\",\"amount\":\"bad\"}" },
    ]}))
    .unwrap();

    let failed = |response: aws_lambda_events::sqs::SqsBatchResponse| -> Vec<String> {
        response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect()
    };
    let response = batch.process(event.clone(), &context()).await.unwrap();
    assert_eq!(failed(response), ["m-4"]);
    assert_eq!(*runs.lock().unwrap(), ["a", "b"]);

    // The whole batch again (a redelivery): only the failed record runs, and fails again.
    let response = batch.process(event, &context()).await.unwrap();
    assert_eq!(failed(response), ["m-4"]);
    assert_eq!(*runs.lock().unwrap(), ["a", "b"]);
    let params: IdempotencyParams<SqsMessage> = IdempotencyParams::builder()
        .store(MemoryStore::new())
        .key(EventPart::pointer("/body/order_id"))
        .build();
    let mut message = SqsMessage::default();
    message.body = Some("{\"order_id\":\"c\"}".into());
    let failed_key = params.key_for(&message, &context()).unwrap().unwrap();
    assert_eq!(backend.record(&failed_key).await, None);
}

/// Runs a test's body, failing it after a minute instead of hanging.
async fn bounded(test: impl Future<Output = ()>) {
    tokio::time::timeout(Duration::from_secs(60), test)
        .await
        .expect("the test did not finish within 60 s");
}

/// Writes each behaviour as a test on the in-memory store and one on dynalite.
macro_rules! on_both_stores {
    ($($(#[$attr:meta])* $name:ident),* $(,)?) => {
        mod memory {
            $(
                $(#[$attr])*
                #[tokio::test]
                async fn $name() {
                    super::bounded(super::$name(super::Backend::memory())).await
                }
            )*
        }

        #[cfg(feature = "dynamodb")]
        mod dynalite {
            $(
                $(#[$attr])*
                #[tokio::test]
                async fn $name() {
                    let Some(backend) = super::Backend::dynalite(stringify!($name)).await else { return };
                    super::bounded(super::$name(backend)).await
                }
            )*
        }
    };
}

on_both_stores!(
    first_sight_runs_the_handler_and_stores_a_completed_record,
    a_repeat_answers_with_the_stored_response_and_outer_middlewares_still_run,
    a_completed_record_past_its_expiry_runs_the_handler_again,
    a_repeat_while_the_first_runs_fails_with_already_in_progress,
    an_invocation_that_never_finished_frees_its_key_at_its_deadline,
    a_handler_error_deletes_the_record_and_a_retry_runs_the_handler,
    a_repeat_with_another_payload_fails_with_payload_mismatch,
    an_event_without_a_key_runs_without_idempotency,
    an_event_without_a_key_fails_with_raise_on_no_key,
    a_cache_hit_needs_no_store_call,
    a_corrupted_record_is_an_error_naming_its_key,
    scopes_and_function_names_keep_keys_apart,
    store_calls_per_invocation,
    a_cached_repeat_with_another_payload_fails_with_payload_mismatch,
    a_failure_past_its_hold_leaves_the_record_of_the_invocation_that_took_the_key,
    a_success_past_its_hold_leaves_the_record_of_the_invocation_that_took_the_key,
    a_panicking_handler_frees_its_key,
    a_cancelled_invocation_frees_its_key,
    #[cfg(feature = "sqs")]
    sqs_records_are_idempotent_one_by_one,
);

// ---------------------------------------------------------------------------------
// The params, and stores that misbehave

#[test]
fn params_that_cannot_work_are_refused_when_the_handler_is_built() {
    let card = Card::default();
    let build = |params: IdempotencyParams<Payment>| {
        let card = card.clone();
        Handler::builder()
            .middleware_with(Idempotent, params)
            .handler(move |event: LambdaEvent<Payment>| {
                let card = card.clone();
                async move { card.charge(event.payload).await }
            })
            .map(|_| ())
            .unwrap_err()
    };
    let base = || IdempotencyParams::builder().store(MemoryStore::new());
    let cases = [
        (
            build(base().key(EventPart::pointers(Vec::<String>::new())).build()),
            "idempotency: the key is an empty list of pointers; expected at least one",
        ),
        (
            build(
                base()
                    .key(EventPart::pointer("/order_id"))
                    .expires_after(Duration::from_millis(500))
                    .build(),
            ),
            "idempotency: expires_after is 500ms; expected at least 1 second (records expire in whole seconds)",
        ),
        (
            build(
                base()
                    .key(EventPart::pointer("/order_id"))
                    .store_timeout(Duration::ZERO)
                    .build(),
            ),
            "idempotency: store_timeout is 0s; expected a time for the store to answer",
        ),
        (
            build(base().key(EventPart::pointer("/order_id")).local_cache(0).build()),
            "idempotency: local_cache(0) holds nothing; expected at least 1 item (leave it out for no cache)",
        ),
        (
            build(
                base()
                    .key(EventPart::pointer("/order_id"))
                    .payload_validation(EventPart::pointers(Vec::<String>::new()))
                    .build(),
            ),
            "idempotency: payload_validation is an empty list of pointers; expected at least one",
        ),
    ];
    for (error, expected) in cases {
        assert!(matches!(
            error,
            BuildError::InvalidParams {
                middleware: "idempotency",
                ..
            }
        ));
        assert_eq!(error.to_string(), expected);
    }
}

/// A store that takes `delay` to answer anything.
#[derive(Clone)]
struct Slow {
    inner: MemoryStore,
    delay: Duration,
}

impl Store for Slow {
    async fn put_if_absent(&self, record: &IdempotencyRecord, now: SystemTime) -> Result<PutOutcome, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.put_if_absent(record, now).await
    }
    async fn get(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.get(key).await
    }
    async fn update(&self, record: &IdempotencyRecord, in_progress_expiration: u64) -> Result<(), StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.update(record, in_progress_expiration).await
    }
    async fn delete(&self, key: &str, in_progress_expiration: u64) -> Result<(), StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.delete(key, in_progress_expiration).await
    }
}

#[tokio::test]
async fn a_store_slower_than_store_timeout_fails_the_invocation_before_the_handler() {
    let card = Card::default();
    let params = IdempotencyParams::builder()
        .store(Slow {
            inner: MemoryStore::new(),
            delay: Duration::from_secs(3600),
        })
        .key(EventPart::pointer("/order_id"))
        .store_timeout(Duration::from_millis(100))
        .build();
    let handler = pay(params, &card);

    let outcome = tokio::time::timeout(
        Duration::from_secs(30),
        handler.invoke_with(payment("o-16", 1), &context()),
    )
    .await
    .expect("the store timeout bounds the invocation");
    let error = outcome.unwrap_err();
    match idempotency_error(&error) {
        IdempotencyError::StoreTimeout {
            key,
            operation,
            timeout,
        } => {
            assert_eq!(key, &key_of("o-16"));
            assert_eq!(operation, &StoreOperation::PutInProgress);
            assert_eq!(*timeout, Duration::from_millis(100));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        error.to_string(),
        format!(
            "the idempotency store did not answer within 100ms while writing the in-progress record of key {}",
            key_of("o-16")
        )
    );
    assert_eq!(card.runs(), 0);
}

/// A store that fails every call.
#[derive(Clone)]
struct Down;

impl Store for Down {
    async fn put_if_absent(&self, _: &IdempotencyRecord, _: SystemTime) -> Result<PutOutcome, StoreError> {
        Err(StoreError::unavailable("connection refused"))
    }
    async fn get(&self, _: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        Err(StoreError::unavailable("connection refused"))
    }
    async fn update(&self, _: &IdempotencyRecord, _: u64) -> Result<(), StoreError> {
        Err(StoreError::unavailable("connection refused"))
    }
    async fn delete(&self, _: &str, _: u64) -> Result<(), StoreError> {
        Err(StoreError::unavailable("connection refused"))
    }
}

#[tokio::test]
async fn a_store_that_is_down_fails_the_invocation_before_the_handler() {
    let card = Card::default();
    let params = IdempotencyParams::builder()
        .store(Down)
        .key(EventPart::pointer("/order_id"))
        .build();
    let handler = pay(params, &card);
    let error = handler.invoke_with(payment("o-17", 1), &context()).await.unwrap_err();
    assert!(matches!(
        idempotency_error(&error),
        IdempotencyError::StoreFailed {
            operation: StoreOperation::PutInProgress,
            ..
        }
    ));
    assert_eq!(
        error.to_string(),
        format!(
            "the idempotency store failed while writing the in-progress record of key {}: connection refused",
            key_of("o-17")
        )
    );
    assert_eq!(card.runs(), 0);
    // The next invocation is served the same way: nothing is left broken.
    assert!(handler.invoke_with(payment("o-17", 1), &context()).await.is_err());
    assert_eq!(card.runs(), 0);
}

#[tokio::test]
async fn the_key_is_powertools_sha256_key_for_the_same_data() {
    let params: IdempotencyParams<Value> = IdempotencyParams::builder()
        .store(MemoryStore::new())
        .key(EventPart::pointers(["/user", "/amount"]))
        .scope("app.lambda_handler")
        .build();
    let context = LocalFunction::new("payments").context();
    let event = json!({ "user": "ada", "amount": 150.25, "ignored": true });
    // Python 3.11: "payments.app.lambda_handler#" +
    // hashlib.sha256(json.dumps(["ada", 150.25], sort_keys=True).encode()).hexdigest()
    assert_eq!(
        params.key_for(&event, &context).unwrap().unwrap(),
        "payments.app.lambda_handler#4341c0c4548954ca28fda3bbd8353f676dfa52fd761ade0380a20c06fddce40d"
    );
    // Without a function name, Powertools' `test-func`.
    let key = params.key_for(&event, &Context::default()).unwrap().unwrap();
    assert!(key.starts_with("test-func.app.lambda_handler#"), "{key}");
}

#[tokio::test]
async fn a_response_that_is_not_json_is_an_error_and_the_key_stays_held() {
    use std::collections::HashMap;

    let store = MemoryStore::new();
    let params = IdempotencyParams::builder()
        .store(store.clone())
        .key(EventPart::whole_event())
        .build();
    // A map with non-string keys has no JSON form.
    let handler = Handler::builder()
        .middleware_with(Idempotent, params)
        .handler(|_: LambdaEvent<u32>| async { Ok::<_, Error>(HashMap::from([((1, 2), 3)])) })
        .unwrap();
    let error = handler.invoke_with(7, &context()).await.unwrap_err();
    let key = match idempotency_error(&error) {
        IdempotencyError::NotSerializable {
            what: "the response",
            key: Some(key),
            ..
        } => key.clone(),
        other => panic!("{other:?}"),
    };
    assert!(key.starts_with("payments.handler#"), "{key}");
    assert_eq!(
        error.to_string(),
        format!("the response cannot be written as JSON for idempotency (key {key}): key must be a string")
    );
    assert_eq!(store.records()[0].status, RecordStatus::InProgress);
}

#[tokio::test]
async fn the_spans_say_whether_the_handler_ran_or_the_response_was_replayed() {
    use tracing_subscriber::layer::SubscriberExt;

    let capture = common::capture::Capture::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let card = Card::default();
    let charge = card.clone();
    let handler = Handler::builder()
        .middleware_with(Idempotent, Backend::memory().by_order())
        .traced()
        .handler(move |event: LambdaEvent<Payment>| {
            let card = charge.clone();
            async move { card.charge(event.payload).await }
        })
        .unwrap();
    handler.invoke_with(payment("o-18", 1), &context()).await.unwrap();
    handler.invoke_with(payment("o-18", 1), &context()).await.unwrap();
    let mut missing = context();
    missing.request_id = "no-key".into();
    let no_key = IdempotencyParams::builder()
        .store(MemoryStore::new())
        .key(EventPart::pointer("/customer_id"))
        .build();
    pay(no_key, &card)
        .invoke_with(payment("o-18", 1), &missing)
        .await
        .unwrap();

    let spans = capture.spans();
    let middleware: Vec<_> = spans.iter().filter(|span| span.name == "middleware").collect();
    assert_eq!(middleware.len(), 2);
    assert!(middleware.iter().all(|span| span.display_name() == "## idempotency"));
    assert_eq!(middleware[0].field("early_response"), None);
    assert_eq!(middleware[1].field("early_response"), Some("true"));
    let outcomes: Vec<_> = spans
        .iter()
        .filter(|span| span.name == "idempotency")
        .map(|span| {
            (
                span.field("idempotency_key").unwrap(),
                span.field("idempotency_outcome").unwrap(),
            )
        })
        .collect();
    let key = key_of("o-18");
    assert_eq!(outcomes, [(key.as_str(), "executed"), (key.as_str(), "replayed")]);
    let warnings: Vec<_> = capture
        .events()
        .into_iter()
        .filter(|event| event.level == tracing::Level::WARN)
        .map(|event| event.fields)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["key"], "the pointer /customer_id");
    assert_eq!(
        warnings[0]["message"],
        "the event has no idempotency key; running the handler without idempotency"
    );
}

#[tokio::test]
async fn an_event_that_is_only_deserialize_is_keyed_by_a_function() {
    /// An event the function only reads: no `Serialize`.
    #[derive(Deserialize)]
    struct Refund {
        refund_id: Option<String>,
    }

    let store = MemoryStore::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    let params = IdempotencyParams::builder()
        .store(store.clone())
        .key(EventPart::from_fn(|refund: &Refund| refund.refund_id.clone()))
        .raise_on_no_key(true)
        .build();
    let handler = Handler::builder()
        .middleware_with(Idempotent, params)
        .handler(move |_: LambdaEvent<Refund>| {
            let runs = Arc::clone(&counted);
            async move { Ok::<_, Error>(runs.fetch_add(1, Ordering::SeqCst) + 1) }
        })
        .unwrap();
    let refund = |id: Option<&str>| Refund {
        refund_id: id.map(str::to_owned),
    };

    assert_eq!(handler.invoke_with(refund(Some("r-1")), &context()).await.unwrap(), 1);
    assert_eq!(handler.invoke_with(refund(Some("r-1")), &context()).await.unwrap(), 1);
    assert_eq!(handler.invoke_with(refund(Some("r-2")), &context()).await.unwrap(), 2);
    let error = handler.invoke_with(refund(None), &context()).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "the event has no idempotency key: the key function found nothing (or null, \"\", or an array or \
         object holding only nulls)"
    );
    // Keys hash what the function returned, as a pointer finding the same string would.
    assert_eq!(store.len(), 2);
    let by_pointer: IdempotencyParams<Value> = IdempotencyParams::builder()
        .store(MemoryStore::new())
        .key(EventPart::pointer("/refund_id"))
        .build();
    let expected = by_pointer
        .key_for(&json!({ "refund_id": "r-1" }), &context())
        .unwrap()
        .unwrap();
    assert!(store.record(&expected).is_some(), "{expected} in {:?}", store.records());
}

/// A store that answers the conditional write and reads, and fails the calls after the
/// handler: `update`, or `delete`, or both.
#[derive(Clone, Default)]
struct FailsAfterTheHandler {
    inner: MemoryStore,
    update: bool,
    delete: bool,
}

impl Store for FailsAfterTheHandler {
    async fn put_if_absent(&self, record: &IdempotencyRecord, now: SystemTime) -> Result<PutOutcome, StoreError> {
        self.inner.put_if_absent(record, now).await
    }
    async fn get(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.inner.get(key).await
    }
    async fn update(&self, record: &IdempotencyRecord, in_progress_expiration: u64) -> Result<(), StoreError> {
        if self.update {
            return Err(StoreError::unavailable("throttled"));
        }
        self.inner.update(record, in_progress_expiration).await
    }
    async fn delete(&self, key: &str, in_progress_expiration: u64) -> Result<(), StoreError> {
        if self.delete {
            return Err(StoreError::unavailable("throttled"));
        }
        self.inner.delete(key, in_progress_expiration).await
    }
}

/// The `ERROR` events captured, as their fields.
fn errors_logged(capture: &common::capture::Capture) -> Vec<std::collections::BTreeMap<String, String>> {
    capture
        .events()
        .into_iter()
        .filter(|event| event.level == tracing::Level::ERROR)
        .map(|event| event.fields)
        .collect()
}

#[tokio::test]
async fn a_response_the_store_failed_to_keep_is_still_returned_and_the_failure_logged() {
    use tracing_subscriber::layer::SubscriberExt;

    let capture = common::capture::Capture::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let store = FailsAfterTheHandler {
        update: true,
        ..FailsAfterTheHandler::default()
    };
    let card = Card::default();
    let handler = pay(
        IdempotencyParams::builder()
            .store(store.clone())
            .key(EventPart::pointer("/order_id"))
            .build(),
        &card,
    );
    let context = context();
    let key = key_of("o-24");

    let receipt = handler.invoke_with(payment("o-24", 80), &context).await.unwrap();
    assert_eq!(receipt.payment_id, "pay-1");
    // Not stored: the key stays held until the invocation's deadline.
    let record = store.inner.record(&key).unwrap();
    assert_eq!(record.status, RecordStatus::InProgress);
    assert_eq!(record.in_progress_expiration, Some(context.deadline));
    let logged = errors_logged(&capture);
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0]["idempotency_key"], key);
    assert_eq!(
        logged[0]["error"],
        format!("the idempotency store failed while storing the response of key {key}: throttled")
    );
    assert_eq!(
        logged[0]["message"],
        "the handler succeeded but its response could not be stored; returning it anyway, \
         and the key stays held until the invocation's deadline"
    );
    assert_eq!(card.runs(), 1);

    // `fail_when_not_stored`: Powertools' way, the invocation fails.
    let strict = pay(
        IdempotencyParams::builder()
            .store(store.clone())
            .key(EventPart::pointer("/order_id"))
            .fail_when_not_stored(true)
            .build(),
        &card,
    );
    let error = strict.invoke_with(payment("o-28", 80), &context).await.unwrap_err();
    match idempotency_error(&error) {
        IdempotencyError::StoreFailed { key, operation, .. } => {
            assert_eq!(key, &key_of("o-28"));
            assert_eq!(operation, &StoreOperation::Complete);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(card.runs(), 2);
    assert_eq!(errors_logged(&capture).len(), 1);
}

/// The record was taken from under a running handler (its hold ended and another
/// invocation took the key): the late response is not stored over the other's record.
#[tokio::test]
async fn a_response_whose_key_was_taken_meanwhile_is_returned_and_not_stored() {
    use tracing_subscriber::layer::SubscriberExt;

    let capture = common::capture::Capture::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let store = MemoryStore::new();
    // Held until later than this invocation's deadline (a minute away): another hold.
    let other = IdempotencyRecord::in_progress(key_of("o-29"), now_s() + 3600, Some(now_ms() + 120_000));
    let handler = |strict: bool| {
        let (store, other) = (store.clone(), other.clone());
        let params = IdempotencyParams::builder()
            .store(store.clone())
            .key(EventPart::pointer("/order_id"))
            .fail_when_not_stored(strict)
            .build();
        Handler::builder()
            .middleware_with(Idempotent, params)
            .handler(move |event: LambdaEvent<Payment>| {
                // Meanwhile, another invocation's record takes this one's place.
                store.insert(other.clone());
                async move { Card::default().charge(event.payload).await }
            })
            .unwrap()
    };
    let mut context = context();

    let receipt = handler(false).invoke_with(payment("o-29", 5), &context).await.unwrap();
    assert_eq!(receipt.payment_id, "pay-1");
    assert_eq!(store.record(&other.key), Some(other.clone()));
    let logged = errors_logged(&capture);
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(
        logged[0]["message"],
        "the handler succeeded after its hold on the key ended, and another invocation took the key; \
         returning the response without storing it"
    );

    store
        .delete(&other.key, other.in_progress_expiration.unwrap())
        .await
        .unwrap();
    context.deadline = now_ms() + 30_000;
    let error = handler(true)
        .invoke_with(payment("o-29", 5), &context)
        .await
        .unwrap_err();
    match idempotency_error(&error) {
        IdempotencyError::KeyLost { key, held_until_ms } => {
            assert_eq!(key, &other.key);
            assert_eq!(*held_until_ms, context.deadline);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        error.to_string(),
        format!(
            "the idempotency record {} is no longer the in-progress record this invocation wrote (held until {} ms \
             since the Unix epoch): another invocation took the key once that hold ended, or the record was \
             removed; the response was not stored",
            other.key, context.deadline
        )
    );
    assert_eq!(InvocationError::from(error).error_type(), "IdempotencyKeyLostError");
    assert_eq!(store.record(&other.key), Some(other));
}

#[tokio::test]
async fn a_failed_delete_after_a_handler_error_passes_the_handlers_error_on() {
    use tracing_subscriber::layer::SubscriberExt;

    let capture = common::capture::Capture::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let store = FailsAfterTheHandler {
        delete: true,
        ..FailsAfterTheHandler::default()
    };
    let card = Card::default();
    card.declines.store(1, Ordering::SeqCst);
    let handler = pay(
        IdempotencyParams::builder()
            .store(store.clone())
            .key(EventPart::pointer("/order_id"))
            .build(),
        &card,
    );

    let error = handler.invoke_with(payment("o-25", 90), &context()).await.unwrap_err();
    // The handler's own error, so that Step Functions' `Catch` on it still matches.
    assert!(error.downcast_ref::<CardDeclined>().is_some(), "{error:?}");
    assert_eq!(error.to_string(), "card declined for order o-25");
    let key = key_of("o-25");
    assert_eq!(store.inner.record(&key).unwrap().status, RecordStatus::InProgress);
    let logged = errors_logged(&capture);
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0]["idempotency_key"], key);
    assert_eq!(
        logged[0]["error"],
        format!("the idempotency store failed while deleting the in-progress record of key {key}: throttled")
    );
    assert_eq!(logged[0]["handler_error"], "card declined for order o-25");
}

#[test]
fn an_expiry_too_long_to_add_to_the_clock_is_refused_when_the_handler_is_built() {
    let params = IdempotencyParams::builder()
        .store(MemoryStore::new())
        .key(EventPart::pointer("/order_id"))
        .expires_after(Duration::from_secs(u64::MAX))
        .build();
    let error = Handler::builder()
        .middleware_with(Idempotent, params)
        .handler(|event: LambdaEvent<Payment>| async move { Card::default().charge(event.payload).await })
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(
        error,
        BuildError::InvalidParams {
            middleware: "idempotency",
            ..
        }
    ));
    assert_eq!(
        error.to_string(),
        "idempotency: expires_after is 18446744073709551615s; expected at most 315360000s (10 years)"
    );
}

#[tokio::test]
async fn the_longest_expiry_is_written_as_it_is() {
    let store = MemoryStore::new();
    let handler = pay(
        IdempotencyParams::builder()
            .store(store.clone())
            .key(EventPart::pointer("/order_id"))
            .expires_after(MAX_EXPIRES_AFTER)
            .build(),
        &Card::default(),
    );
    let before = now_s();
    handler.invoke_with(payment("o-30", 1), &context()).await.unwrap();
    let after = now_s();
    let expiration = store.record(&key_of("o-30")).unwrap().expiration;
    assert!(
        (before + 315_360_000..=after + 315_360_000).contains(&expiration),
        "{expiration}"
    );
}

/// JSON text with a float of 17 significant digits: read exactly, it hashes as Python
/// hashes it, whatever other features of the crate are on.
#[test]
fn a_float_in_the_key_hashes_as_python_reads_it() {
    let params: IdempotencyParams<Value> = IdempotencyParams::builder()
        .store(MemoryStore::new())
        .key(EventPart::pointers(["/order_id", "/amount"]))
        .scope("app.handler")
        .build();
    let event: Value = serde_json::from_str(r#"{"order_id": "o-1", "amount": 1234.5678901234567}"#).unwrap();
    // Python 3.11, aws-lambda-powertools 3.37.0, AWS_LAMBDA_FUNCTION_NAME=payments:
    // IdempotencyConfig(event_key_jmespath="[order_id, amount]", hash_function="sha256"),
    // function `handler` in module `app`.
    assert_eq!(
        params
            .key_for(&event, &LocalFunction::new("payments").context())
            .unwrap()
            .unwrap(),
        "payments.app.handler#6a6347e9218fcc335ac27a18a71e12e2296fdc5687a29d5e7df1b4c46c41c176"
    );
}

/// A store whose conditional write is refused without the record, and whose read then
/// finds nothing, `vanishing` times: the record changed between the two.
#[derive(Clone, Default)]
struct Vanishing {
    inner: MemoryStore,
    vanishing: Arc<AtomicUsize>,
    calls: Arc<Mutex<Vec<&'static str>>>,
}

impl Store for Vanishing {
    async fn put_if_absent(&self, record: &IdempotencyRecord, now: SystemTime) -> Result<PutOutcome, StoreError> {
        self.calls.lock().unwrap().push("put_if_absent");
        if self.vanishing.load(Ordering::SeqCst) > 0 {
            return Ok(PutOutcome::Exists(None));
        }
        self.inner.put_if_absent(record, now).await
    }
    async fn get(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.calls.lock().unwrap().push("get");
        if self
            .vanishing
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1))
            .is_ok()
        {
            return Ok(None);
        }
        self.inner.get(key).await
    }
    async fn update(&self, record: &IdempotencyRecord, in_progress_expiration: u64) -> Result<(), StoreError> {
        self.calls.lock().unwrap().push("update");
        self.inner.update(record, in_progress_expiration).await
    }
    async fn delete(&self, key: &str, in_progress_expiration: u64) -> Result<(), StoreError> {
        self.calls.lock().unwrap().push("delete");
        self.inner.delete(key, in_progress_expiration).await
    }
}

#[tokio::test]
async fn a_record_that_vanishes_between_the_write_and_the_read_is_tried_again_three_times() {
    let card = Card::default();
    let store = Vanishing::default();
    let handler = pay(
        IdempotencyParams::builder()
            .store(store.clone())
            .key(EventPart::pointer("/order_id"))
            .build(),
        &card,
    );
    let calls = || std::mem::take(&mut *store.calls.lock().unwrap());

    // Once: the second attempt takes the key.
    store.vanishing.store(1, Ordering::SeqCst);
    let receipt = handler.invoke_with(payment("o-26", 1), &context()).await.unwrap();
    assert_eq!(receipt.payment_id, "pay-1");
    assert_eq!(calls(), ["put_if_absent", "get", "put_if_absent", "update"]);

    // Three times: the invocation gives up, without running the handler.
    store.vanishing.store(3, Ordering::SeqCst);
    let error = handler.invoke_with(payment("o-27", 1), &context()).await.unwrap_err();
    match idempotency_error(&error) {
        IdempotencyError::InconsistentRecord { key } => assert_eq!(key, &key_of("o-27")),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        error.to_string(),
        format!(
            "the idempotency record {} changed between writing and reading it three times in a row; \
             retry the invocation",
            key_of("o-27")
        )
    );
    assert_eq!(
        calls(),
        ["put_if_absent", "get", "put_if_absent", "get", "put_if_absent", "get"]
    );
    assert_eq!(card.runs(), 1);
}

/// As Powertools' `DynamoDBPersistenceLayer` refuses it: the partition key and the sort
/// key cannot be one attribute.
#[cfg(feature = "dynamodb")]
#[test]
fn a_dynamodb_store_whose_sort_key_is_its_partition_key_is_refused_when_the_handler_is_built() {
    use lambda_middleware::middlewares::idempotency::DynamoDbStore;

    let config = lambda_middleware::middlewares::idempotency::aws_sdk_dynamodb::Config::builder()
        .behavior_version(
            lambda_middleware::middlewares::idempotency::aws_sdk_dynamodb::config::BehaviorVersion::latest(),
        )
        .build();
    let client = lambda_middleware::middlewares::idempotency::aws_sdk_dynamodb::Client::from_conf(config);
    let build = |store: DynamoDbStore| {
        Handler::builder()
            .middleware_with(
                Idempotent,
                IdempotencyParams::builder()
                    .store(store)
                    .key(EventPart::pointer("/order_id"))
                    .build(),
            )
            .handler(|event: LambdaEvent<Payment>| async move { Card::default().charge(event.payload).await })
            .map(|_| ())
    };
    let error = build(
        DynamoDbStore::new(client.clone(), "t")
            .key_attr("pk")
            .sort_key_attr("pk"),
    )
    .unwrap_err();
    assert!(matches!(
        error,
        BuildError::InvalidParams {
            middleware: "idempotency",
            ..
        }
    ));
    assert_eq!(
        error.to_string(),
        "idempotency: DynamoDbStore: key_attr and sort_key_attr are both \"pk\"; expected two attributes (the \
         partition key holds static_pk_value, the sort key the idempotency key)"
    );
    assert!(
        build(
            DynamoDbStore::new(client.clone(), "t")
                .key_attr("pk")
                .sort_key_attr("sk")
        )
        .is_ok()
    );
    // The default partition key is `id`: a sort key named so is the same mistake.
    assert!(build(DynamoDbStore::new(client, "t").sort_key_attr("id")).is_err());
}
