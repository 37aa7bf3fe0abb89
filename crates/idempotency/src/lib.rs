//! [`Idempotent`]: a retried, redelivered or resent event gets the first invocation's
//! response, and the handler runs once — Powertools' `@idempotent`. Feature
//! `idempotency`; the DynamoDB store needs `dynamodb`.
//!
//! Lambda retries failed asynchronous invocations, SQS and Kinesis redeliver, clients
//! resend: a payment must still be taken once. The middleware takes a key from the
//! event, and:
//!
//! 1. **first sight of the key**: writes an `INPROGRESS` record with a conditional
//!    write (only if there is none, or it expired, or it is in progress past its
//!    invocation's deadline), runs the rest of the chain, and stores the response as
//!    `COMPLETED` for `expires_after` (1 hour by default);
//! 2. **a repeat of a completed key**: answers with the stored response through
//!    [`Next::respond_early`](lambda_middleware_core::Next::respond_early) — the handler and the
//!    middlewares inside this one do not run, the ones outside do;
//! 3. **a repeat while the first is running**: fails with
//!    [`IdempotencyError::AlreadyInProgress`] (Lambda's `errorType`, as in Powertools:
//!    `IdempotencyAlreadyInProgressError`); the hold ends when the first invocation finishes or at its
//!    deadline, so a function killed mid-flight does not lock the key for good;
//! 4. **the handler fails**: the record is deleted, so a retry runs the handler again,
//!    and the error goes on unchanged; so it is when the handler **panics** or the
//!    invocation is **cancelled** (its future dropped, as a `Timeout` outside this
//!    middleware does), where the record is deleted in the background;
//! 5. **payload validation** (optional): a repeat whose validated part differs from
//!    the first invocation's fails with [`IdempotencyError::PayloadMismatch`] instead
//!    of getting a response meant for another request;
//! 6. **no key in the event**: a warning and an invocation without idempotency, or
//!    with `raise_on_no_key`, [`IdempotencyError::MissingIdempotencyKey`];
//! 7. **a local cache** (optional, bounded, least recently used out): repeats within
//!    one warm execution environment are answered without a store round trip.
//!
//! Any response that is `Serialize + DeserializeOwned` is stored as JSON. Every store
//! call is bounded by `store_timeout`: a store that is down or slow fails the
//! invocation with [`IdempotencyError::StoreFailed`] or
//! [`IdempotencyError::StoreTimeout`] before the handler runs, never a hang or a
//! panic; a record that cannot be read is [`IdempotencyError::CorruptedRecord`],
//! naming its key.
//!
//! # When the store fails after the handler
//!
//! Once the handler has run, its outcome is what the caller gets. A response that
//! cannot be stored is returned all the same, and the failure logged at `ERROR` with
//! the key (Powertools fails the invocation instead, which `fail_when_not_stored`
//! asks for): the caller of a failed invocation retries, and by then the handler may
//! run again. A record that cannot be deleted after a handler error is logged the same
//! way, and the handler's own error goes on, so that Step Functions' `Catch` on its
//! `errorType` still matches. Either way the key stays held until the invocation's
//! deadline.
//!
//! An invocation can outlive its hold (nothing stops a handler at its deadline under
//! `run_concurrent`; without a usable deadline the hold is [`NO_DEADLINE_HOLD`]), and
//! by then another invocation may have taken the key. The late one then neither
//! deletes nor overwrites the other's record: the store's update and delete are
//! conditional on the record still being the one this invocation wrote. Its response
//! is returned unstored ([`IdempotencyError::KeyLost`] with `fail_when_not_stored`).
//!
//! # Keys
//!
//! The key is `<function name>.<scope>#<SHA-256>`: the function's name
//! (`AWS_LAMBDA_FUNCTION_NAME`, from the [`Context`]; as in Powertools, `test-func` when
//! the variable is unset and nothing when it is set but empty), the `scope` of these params (default `handler`), and the hash of the
//! [`EventPart`] the key is taken from. Several functions, and several idempotent
//! chains in one function, can share one table. The hash is Powertools' with
//! `hash_function="sha256"` (its default is MD5), and Powertools' scope is the
//! decorated function's `module.qualname` (`app.lambda_handler` for `lambda_handler`
//! in `app.py`): with that `scope`, a Python function of the same name finds the same
//! records. Powertools' `key_prefix`, which replaces the function name and scope, has
//! no equivalent here. [`EventPart`] says which events hash alike in both languages
//! and which do not (typed events, integers beyond 64 bits).
//!
//! # Runtime
//!
//! The middleware needs a Tokio runtime with the time driver, which bounds every store
//! call: `#[tokio::main]`, where `lambda_runtime::run` is usually awaited, has it, and
//! the feature turns on Tokio's `time`. On a runtime built without `enable_time`, the
//! first store call panics. Freeing the key of a panicked or cancelled invocation is
//! spawned on the runtime current when its future is dropped; without one (a future
//! dropped outside any runtime), the key is held until the deadline, as it is when the
//! process itself dies.
//!
//! # Stores
//!
//! [`Store`] is four async operations; [`MemoryStore`] keeps records in the process
//! (tests, local runs), [`DynamoDbStore`] in a DynamoDB table with Powertools' layout.
//!
//! # Example: a payment taken once
//!
//! ```
//! use lambda_middleware::middlewares::idempotency::{EventPart, IdempotencyParams, Idempotent, MemoryStore};
//! use lambda_middleware::{Context, Error, Handler};
//! use serde::{Deserialize, Serialize};
//! use std::sync::atomic::{AtomicU32, Ordering};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Payment { order_id: String, amount_cents: u64 }
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct Receipt { payment_id: String, charged_cents: u64 }
//!
//! static CHARGES: AtomicU32 = AtomicU32::new(0);
//!
//! async fn pay(payment: Payment, _: &Context) -> Result<Receipt, Error> {
//!     let n = CHARGES.fetch_add(1, Ordering::SeqCst) + 1; // the card is charged here
//!     Ok(Receipt { payment_id: format!("pay-{n}"), charged_cents: payment.amount_cents })
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
//! let params = IdempotencyParams::builder()
//!     .store(MemoryStore::new())
//!     .key(EventPart::pointer("/order_id"))
//!     .payload_validation(EventPart::pointer("/amount_cents"))
//!     .build();
//! let handler = Handler::builder().middleware_with(Idempotent, params).handler(pay)?;
//!
//! let payment = || Payment { order_id: "8f1f1710".into(), amount_cents: 15_000 };
//! let first = handler.invoke_with(payment(), &Context::default()).await?;
//! let retry = handler.invoke_with(payment(), &Context::default()).await?;
//! assert_eq!(first, Receipt { payment_id: "pay-1".into(), charged_cents: 15_000 });
//! assert_eq!(retry, first); // the stored receipt
//! assert_eq!(CHARGES.load(Ordering::SeqCst), 1); // charged once
//! # Ok(()) }
//! ```
//!
//! # SQS batches
//!
//! `SqsBatch` (feature `sqs`) runs each record through
//! a chain of its own: put `Idempotent` there, and each record is an invocation with
//! its own key. A redelivered record gets its stored result; one that fails (an
//! [`IdempotencyError::AlreadyInProgress`] included) is reported in
//! `batchItemFailures` and comes back later.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), lambda_middleware::Error> {
//! use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
//! use lambda_middleware::middlewares::SqsBatch;
//! use lambda_middleware::middlewares::idempotency::{EventPart, IdempotencyParams, Idempotent, MemoryStore};
//! use lambda_middleware::{Context, Error, Handler};
//! use std::sync::atomic::{AtomicU32, Ordering};
//!
//! static SHIPPED: AtomicU32 = AtomicU32::new(0);
//!
//! async fn ship(message: SqsMessage, _: &Context) -> Result<u32, Error> {
//!     Ok(SHIPPED.fetch_add(1, Ordering::SeqCst) + 1) // the parcel leaves here
//! }
//!
//! let params = IdempotencyParams::builder()
//!     .store(MemoryStore::new())
//!     .key(EventPart::pointer("/body/order_id")) // into the JSON of each body
//!     .build();
//! let batch = SqsBatch::new(Handler::builder().middleware_with(Idempotent, params).handler(ship)?);
//!
//! let event: SqsEvent = serde_json::from_value(serde_json::json!({ "Records": [
//!     { "messageId": "m-1", "body": "{\"order_id\": 7}" },
//!     { "messageId": "m-2", "body": "{\"order_id\": 7}" }, // the same order again: not shipped twice
//! ]}))?;
//! let response = batch.process(event, &Context::default()).await?;
//! assert!(response.batch_item_failures.is_empty());
//! assert_eq!(SHIPPED.load(Ordering::SeqCst), 1);
//! # Ok(()) }
//! ```
//!
//! # Where in the chain
//!
//! The response that is stored and replayed is the one the layers inside `Idempotent`
//! return; the layers outside it run on every invocation, replays included. Put
//! outside it what must see every event or decorate every response (the Lambda
//! context, correlation ids, logging, security and CORS headers, an HTTP error
//! handler — whose error responses are then never stored, since they are successes
//! only outside it), and inside it what should run once per operation.
//!
//! # Environment
//!
//! | variable | meaning |
//! |----------|---------|
//! | `POWERTOOLS_IDEMPOTENCY_DISABLED` | `1 y yes t true on` turns the middleware off (the chain runs as if it were not there), `0 n no f false off` or unset leaves it on; read once when the handler is built, and anything else fails the build with a [`BuildError`]. For local development only, as in Powertools. |
//! | `AWS_LAMBDA_FUNCTION_NAME` | the first part of the key, through the [`Context`] |

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations)]

mod cache;
#[cfg(feature = "dynamodb")]
mod dynamodb;
mod error;
mod key;
mod memory;
mod record;
mod store;

use std::fmt;
use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use lambda_runtime::{Context, Error};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::Instrument;
use tracing::field::Empty;
use typed_builder::TypedBuilder;

use self::cache::LocalCache;
use self::record::{epoch_millis, epoch_seconds};
use self::store::SharedStore;
use lambda_middleware_core::{BuildError, Invoke, Middleware, Next, Proceeded};

/// The AWS SDK's DynamoDB client crate this store is built on, for the
/// [`DynamoDbStore`]'s client and its `types::AttributeValue`s.
///
/// ```
/// use lambda_middleware::middlewares::idempotency::aws_sdk_dynamodb;
///
/// let config = aws_sdk_dynamodb::Config::builder()
///     .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
///     .region(aws_sdk_dynamodb::config::Region::new("eu-west-1"))
///     .build();
/// let _client = aws_sdk_dynamodb::Client::from_conf(config);
/// ```
#[cfg(feature = "dynamodb")]
#[cfg_attr(docsrs, doc(cfg(feature = "dynamodb")))]
pub use aws_sdk_dynamodb;
#[cfg(feature = "dynamodb")]
#[cfg_attr(docsrs, doc(cfg(feature = "dynamodb")))]
pub use dynamodb::DynamoDbStore;
pub use error::{IdempotencyError, StoreOperation};
pub use key::EventPart;
pub use memory::MemoryStore;
pub use record::{IdempotencyRecord, RecordStatus, UnknownStatus};
pub use store::{PutOutcome, Store, StoreError};

/// The variable that turns idempotency off, for local development.
pub const IDEMPOTENCY_DISABLED_ENV: &str = "POWERTOOLS_IDEMPOTENCY_DISABLED";

/// How long an in-progress record holds its key when the invocation has no usable
/// deadline (none, or one in the past, as `cargo lambda` sends): Lambda's longest
/// timeout, so no invocation can still be running when it ends.
pub const NO_DEADLINE_HOLD: Duration = Duration::from_secs(15 * 60);

/// The longest `expires_after`: ten years, far beyond any retry or redelivery, and far
/// from overflowing the clock's seconds. A longer one fails the build of the handler
/// with a [`BuildError`].
///
/// ```
/// use std::time::Duration;
/// use lambda_middleware::middlewares::idempotency::{EventPart, IdempotencyParams, Idempotent, MemoryStore, MAX_EXPIRES_AFTER};
/// use lambda_middleware::{Context, Error, Handler};
/// use serde_json::Value;
///
/// async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
///     Ok(event)
/// }
///
/// let params = |expires_after| {
///     IdempotencyParams::builder()
///         .store(MemoryStore::new())
///         .key(EventPart::pointer("/id"))
///         .expires_after(expires_after)
///         .build()
/// };
/// assert!(Handler::builder().middleware_with(Idempotent, params(MAX_EXPIRES_AFTER)).handler(handler).is_ok());
/// let too_long = params(MAX_EXPIRES_AFTER + Duration::from_secs(1));
/// assert!(Handler::builder().middleware_with(Idempotent, too_long).handler(handler).is_err());
/// ```
pub const MAX_EXPIRES_AFTER: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// The function name in keys when the context has none (Powertools' default).
const DEFAULT_FUNCTION_NAME: &str = "test-func";

/// The function name in keys when the context has none: as Powertools reads it,
/// `os.getenv("AWS_LAMBDA_FUNCTION_NAME", "test-func")` — the variable's value when it
/// is set (empty included), Powertools' default when it is unset. Read once per process.
fn unnamed_function() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| DEFAULT_FUNCTION_NAME.to_owned()))
}

/// Conditional writes that met a record changing under them, before giving up
/// (Powertools' `MAX_RETRIES` + 1).
const ATTEMPTS: usize = 3;

/// Makes a handler idempotent: the first invocation with a key runs the handler, the
/// repeats get its stored response — Powertools' `@idempotent`. Feature `idempotency`.
///
/// Works with any event (one that is `Serialize` for [`EventPart`]'s pointers, which
/// look into its JSON) and any response that is `Serialize + DeserializeOwned` (stored
/// as JSON).
/// The params are [`IdempotencyParams`]; the [module docs](self) say what happens
/// when. Its name for tracing is `idempotency`; each invocation also runs in an
/// `idempotency` span whose `idempotency_key` field is the key and whose
/// `idempotency_outcome` is `executed`, `replayed`, `handler_failed` or `not_stored`
/// (the handler succeeded, its response could not be stored).
///
/// # Example
///
/// ```
/// use lambda_middleware::middlewares::idempotency::{EventPart, IdempotencyError, IdempotencyParams, Idempotent, MemoryStore};
/// use lambda_middleware::{Context, Error, Handler};
/// use serde_json::{json, Value};
///
/// async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
///     Ok(json!({ "order": event["order_id"], "status": "paid" }))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let params = IdempotencyParams::builder()
///     .store(MemoryStore::new())
///     .key(EventPart::pointer("/order_id"))
///     .raise_on_no_key(true)
///     .build();
/// let handler = Handler::builder().middleware_with(Idempotent, params).handler(handler)?;
///
/// let context = Context::default();
/// assert_eq!(handler.invoke_with(json!({ "order_id": 7 }), &context).await?["status"], "paid");
/// let error = handler.invoke_with(json!({ "order": 7 }), &context).await.unwrap_err();
/// assert!(matches!(error.downcast_ref(), Some(IdempotencyError::MissingIdempotencyKey { .. })));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Idempotent;

/// What [`Idempotent`] needs: the store and the key (required: leaving one out does
/// not compile), and Powertools' `IdempotencyConfig` options.
///
/// | param | default | Powertools |
/// |-------|---------|------------|
/// | `store` | required | `persistence_store` |
/// | `key` | required | `event_key_jmespath` |
/// | `scope` | `"handler"` | the decorated function's `module.qualname`; `key_prefix` (no equivalent) replaces it and the function name |
/// | `payload_validation` | none | `payload_validation_jmespath` |
/// | `expires_after` | 1 hour | `expires_after_seconds` |
/// | `raise_on_no_key` | `false` | `raise_on_no_idempotency_key` |
/// | `local_cache` | none | `use_local_cache` + `local_cache_max_items` (256 there) |
/// | `store_timeout` | 2 s | the SDK's own timeouts |
/// | `fail_when_not_stored` | `false`: the response is returned | fails (`IdempotencyPersistenceLayerError`) |
///
/// ```
/// use std::time::Duration;
/// use lambda_middleware::middlewares::idempotency::{EventPart, IdempotencyParams, MemoryStore};
/// use serde_json::Value;
///
/// let params: IdempotencyParams<Value> = IdempotencyParams::builder()
///     .store(MemoryStore::new())
///     .key(EventPart::pointers(["/body/user_id", "/body/product_id"]))
///     .scope("checkout")
///     .payload_validation(EventPart::pointer("/body/amount"))
///     .expires_after(Duration::from_secs(24 * 3600))
///     .local_cache(256)
///     .store_timeout(Duration::from_millis(800))
///     .build();
/// ```
#[derive(TypedBuilder)]
pub struct IdempotencyParams<E> {
    /// Where records are kept: a [`MemoryStore`], a [`DynamoDbStore`], or any [`Store`].
    #[builder(setter(transform = |store: impl Store| SharedStore::new(store)))]
    store: SharedStore,
    /// The part of the event the key is taken from.
    key: EventPart<E>,
    /// The key's middle part, between the function name and the hash: tells apart
    /// idempotent chains of one function that share a table. Default: `handler`.
    /// Powertools' is the decorated function's `module.qualname`
    /// (`app.lambda_handler`): use that to share records with a Python function.
    #[builder(default = String::from("handler"), setter(into))]
    scope: String,
    /// A part of the event that a repeat must have in common with the first
    /// invocation, or fail with [`IdempotencyError::PayloadMismatch`]. Default: none.
    #[builder(default, setter(strip_option))]
    payload_validation: Option<EventPart<E>>,
    /// How long a completed record answers repeats. At least a second (records
    /// expire in whole seconds), at most [`MAX_EXPIRES_AFTER`] (ten years). Default:
    /// 1 hour.
    #[builder(default = Duration::from_secs(3600))]
    expires_after: Duration,
    /// Fail with [`IdempotencyError::MissingIdempotencyKey`] when the event has no
    /// key, instead of running the handler without idempotency. Default: `false`.
    #[builder(default = false)]
    raise_on_no_key: bool,
    /// Keep up to this many completed records in memory, so repeats within one
    /// execution environment need no store call. At least 1. Default: no cache.
    #[builder(default, setter(strip_option))]
    local_cache: Option<usize>,
    /// The longest any one store call may take before the invocation fails with
    /// [`IdempotencyError::StoreTimeout`]. Default: 2 s.
    #[builder(default = Duration::from_secs(2))]
    store_timeout: Duration,
    /// Fail the invocation when the handler succeeded but its response could not be
    /// stored ([`IdempotencyError::StoreFailed`], [`StoreTimeout`](IdempotencyError::StoreTimeout)
    /// or [`KeyLost`](IdempotencyError::KeyLost)), as Powertools does. Default: `false`,
    /// the response is returned and the failure logged at `ERROR` — a caller that gets
    /// an error retries, and by then the handler may run again.
    #[builder(default = false)]
    fail_when_not_stored: bool,
    /// The cache itself.
    #[builder(setter(skip), default = local_cache.map(LocalCache::new))]
    cache: Option<LocalCache>,
    /// `POWERTOOLS_IDEMPOTENCY_DISABLED`, read when the handler is built.
    #[builder(default, setter(skip))]
    disabled: OnceLock<bool>,
}

impl<E> IdempotencyParams<E> {
    /// The idempotency key `Idempotent` would use for `event` in `ctx`, or `None` when
    /// the event has none: to look a record up in the store, or delete it by hand.
    ///
    /// # Errors
    ///
    /// [`IdempotencyError::NotSerializable`] when the event (or the key function's
    /// value) does not serialize to JSON.
    ///
    /// ```
    /// use lambda_middleware::local::LocalFunction;
    /// use lambda_middleware::middlewares::idempotency::{EventPart, IdempotencyParams, MemoryStore};
    /// use serde_json::{json, Value};
    ///
    /// let params: IdempotencyParams<Value> =
    ///     IdempotencyParams::builder().store(MemoryStore::new()).key(EventPart::pointer("/order_id")).build();
    /// let context = LocalFunction::new("payments").context();
    /// let key = params.key_for(&json!({ "order_id": "8f1f1710" }), &context)?.unwrap();
    /// assert_eq!(key, "payments.handler#6a6d1361d3d6dbc49c747ba968629ab9dbf31be72aeee2e06d06fa5d3b48efb4");
    /// assert_eq!(params.key_for(&json!({}), &context)?, None);
    ///
    /// // Powertools' key (hash_function="sha256") for `lambda_handler` in `app.py` of the
    /// // function `payments`: it scopes keys by `module.qualname`.
    /// let python: IdempotencyParams<Value> = IdempotencyParams::builder()
    ///     .store(MemoryStore::new())
    ///     .key(EventPart::pointer("/order_id"))
    ///     .scope("app.lambda_handler")
    ///     .build();
    /// assert_eq!(
    ///     python.key_for(&json!({ "order_id": "8f1f1710" }), &context)?.unwrap(),
    ///     "payments.app.lambda_handler#6a6d1361d3d6dbc49c747ba968629ab9dbf31be72aeee2e06d06fa5d3b48efb4",
    /// );
    /// # Ok::<(), lambda_middleware::middlewares::idempotency::IdempotencyError>(())
    /// ```
    pub fn key_for(&self, event: &E, ctx: &Context) -> Result<Option<String>, IdempotencyError> {
        let json = self.json_of(event)?;
        self.key_from(event, json.as_ref(), ctx)
    }

    /// The event as JSON, when a part looks into it.
    fn json_of(&self, event: &E) -> Result<Option<Value>, IdempotencyError> {
        let to_json = self
            .key
            .to_json()
            .or_else(|| self.payload_validation.as_ref().and_then(EventPart::to_json));
        let Some(to_json) = to_json else {
            return Ok(None);
        };
        to_json(event)
            .map(Some)
            .map_err(|source| IdempotencyError::NotSerializable {
                what: "the event",
                key: None,
                source,
            })
    }

    fn key_from(&self, event: &E, json: Option<&Value>, ctx: &Context) -> Result<Option<String>, IdempotencyError> {
        let Some(part) = self.key.extract(event, json).map_err(key_value_error)? else {
            return Ok(None);
        };
        let function = match ctx.env_config.function_name.as_str() {
            "" => unnamed_function(),
            name => name,
        };
        Ok(Some(format!("{function}.{}#{}", self.scope, key::hash(&part))))
    }

    fn validation_hash(&self, event: &E, json: Option<&Value>) -> Result<Option<String>, IdempotencyError> {
        let Some(part) = &self.payload_validation else {
            return Ok(None);
        };
        let value = part.extract_for_validation(event, json).map_err(key_value_error)?;
        Ok(Some(key::hash(&value)))
    }

    fn is_disabled(&self) -> bool {
        // Set by `check` when the handler is built; an unreadable value failed the
        // build there, so here it can only be the lenient default.
        *self.disabled.get_or_init(|| disabled_from_env().unwrap_or(false))
    }

    fn check(&self) -> Result<(), BuildError> {
        let refuse = |reason: String| Err(BuildError::invalid_params(NAME, reason));
        if self.key.is_empty_list() {
            return refuse("the key is an empty list of pointers; expected at least one".into());
        }
        if self.payload_validation.as_ref().is_some_and(EventPart::is_empty_list) {
            return refuse("payload_validation is an empty list of pointers; expected at least one".into());
        }
        if self.expires_after < Duration::from_secs(1) {
            return refuse(format!(
                "expires_after is {:?}; expected at least 1 second (records expire in whole seconds)",
                self.expires_after
            ));
        }
        if self.expires_after > MAX_EXPIRES_AFTER {
            return refuse(format!(
                "expires_after is {:?}; expected at most {:?} (10 years)",
                self.expires_after, MAX_EXPIRES_AFTER
            ));
        }
        if self.store_timeout.is_zero() {
            return refuse("store_timeout is 0s; expected a time for the store to answer".into());
        }
        if self.local_cache == Some(0) {
            return refuse("local_cache(0) holds nothing; expected at least 1 item (leave it out for no cache)".into());
        }
        self.store.check().or_else(refuse)?;
        let disabled = disabled_from_env()?;
        if disabled {
            tracing::warn!(
                "{IDEMPOTENCY_DISABLED_ENV} is set: idempotency is off, every invocation runs the handler; \
                 this is meant for development environments only"
            );
        }
        let _ = self.disabled.set(disabled);
        Ok(())
    }
}

fn key_value_error(source: serde_json::Error) -> IdempotencyError {
    IdempotencyError::NotSerializable {
        what: "the key function's value",
        key: None,
        source,
    }
}

/// Reads `POWERTOOLS_IDEMPOTENCY_DISABLED`: unset or empty is `false`.
fn disabled_from_env() -> Result<bool, BuildError> {
    match std::env::var(IDEMPOTENCY_DISABLED_ENV) {
        Ok(value) if value.trim().is_empty() => Ok(false),
        Ok(value) => lambda_middleware_core::trace::parse_bool_env(IDEMPOTENCY_DISABLED_ENV, &value),
        Err(std::env::VarError::NotPresent) => Ok(false),
        Err(std::env::VarError::NotUnicode(value)) => {
            lambda_middleware_core::trace::parse_bool_env(IDEMPOTENCY_DISABLED_ENV, &value.to_string_lossy())
        }
    }
}

impl<E> fmt::Debug for IdempotencyParams<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdempotencyParams")
            .field("store", &self.store)
            .field("key", &self.key)
            .field("scope", &self.scope)
            .field("payload_validation", &self.payload_validation)
            .field("expires_after", &self.expires_after)
            .field("raise_on_no_key", &self.raise_on_no_key)
            .field("local_cache", &self.cache)
            .field("store_timeout", &self.store_timeout)
            .field("fail_when_not_stored", &self.fail_when_not_stored)
            .finish_non_exhaustive()
    }
}

/// The middleware's name, for tracing and build errors.
const NAME: &str = "idempotency";

impl<E, R> Middleware<E, R> for Idempotent
where
    E: Send,
    R: Serialize + DeserializeOwned + Send,
{
    type Params = IdempotencyParams<E>;

    fn name(&self) -> &'static str {
        NAME
    }

    fn check(&self, params: &IdempotencyParams<E>) -> Result<(), BuildError> {
        params.check()
    }

    async fn call<'n, I>(
        &self,
        params: &IdempotencyParams<E>,
        event: E,
        ctx: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<E, Response = R>,
    {
        if params.is_disabled() {
            return Ok(next.run(event).await?);
        }
        let json = params.json_of(&event)?;
        let Some(key) = params.key_from(&event, json.as_ref(), ctx)? else {
            if params.raise_on_no_key {
                return Err(IdempotencyError::MissingIdempotencyKey {
                    part: params.key.to_string(),
                }
                .into());
            }
            tracing::warn!(
                key = %params.key,
                "the event has no idempotency key; running the handler without idempotency"
            );
            return Ok(next.run(event).await?);
        };
        let validation = params.validation_hash(&event, json.as_ref())?;
        drop(json);

        let span = tracing::info_span!("idempotency", idempotency_key = %key, idempotency_outcome = Empty);
        let invocation = Invocation {
            params,
            key: &key,
            validation,
            held_until_ms: in_progress_until(ctx.deadline, epoch_millis(SystemTime::now())),
        };
        run(invocation, event, next).instrument(span).await
    }
}

/// The middleware once the key is known: replay, or run and record.
async fn run<'n, E, R, I>(invocation: Invocation<'_, E>, event: E, next: Next<'n, I>) -> Result<Proceeded<'n, R>, Error>
where
    I: Invoke<E, Response = R>,
    R: Serialize + DeserializeOwned,
{
    if let Some(record) = invocation.begin().await? {
        let response = invocation.decode::<R>(&record)?;
        tracing::Span::current().record("idempotency_outcome", "replayed");
        tracing::info!("a repeat of a completed invocation: answering with its stored response");
        return Ok(next.respond_early(response));
    }
    // The key is this invocation's now. Should the chain panic, or the invocation be
    // cancelled (its future dropped), the hold frees it as a handler error would.
    let mut hold = invocation.hold();
    match next.run(event).await {
        Ok(response) => {
            // The handler ran: from here on the key is never freed, or a retry would
            // run it again.
            hold.disarm();
            // Written before the store call, so that no borrow of the response is
            // held across it (a response need not be `Sync`).
            let data =
                serde_json::to_string(response.response()).map_err(|source| IdempotencyError::NotSerializable {
                    what: "the response",
                    key: Some(invocation.key.to_owned()),
                    source,
                })?;
            let span = tracing::Span::current();
            match invocation.complete(data).await {
                Ok(()) => {
                    span.record("idempotency_outcome", "executed");
                }
                Err(error) => {
                    span.record("idempotency_outcome", "not_stored");
                    if invocation.params.fail_when_not_stored {
                        return Err(error.into());
                    }
                    not_stored(invocation.key, &error);
                }
            }
            Ok(response)
        }
        Err(failure) => {
            tracing::Span::current().record("idempotency_outcome", "handler_failed");
            invocation.release(failure.error()).await;
            hold.disarm();
            Err(failure.into())
        }
    }
}

/// Says that a response was returned without being stored, and why.
fn not_stored(key: &str, error: &IdempotencyError) {
    if matches!(error, IdempotencyError::KeyLost { .. }) {
        tracing::error!(
            idempotency_key = %key,
            error = %error,
            "the handler succeeded after its hold on the key ended, and another invocation took the key; \
             returning the response without storing it"
        );
    } else {
        tracing::error!(
            idempotency_key = %key,
            error = %error,
            "the handler succeeded but its response could not be stored; returning it anyway, \
             and the key stays held until the invocation's deadline"
        );
    }
}

/// One invocation's dealings with the store.
struct Invocation<'a, E> {
    params: &'a IdempotencyParams<E>,
    key: &'a str,
    validation: Option<String>,
    /// The end of this invocation's hold on the key: the `in_progress_expiration` of
    /// the record it writes, and what identifies that record as its own afterwards.
    held_until_ms: u64,
}

impl<E> Invocation<'_, E> {
    /// Takes the key (`None`: run the handler) or finds the completed record to
    /// replay (`Some`).
    async fn begin(&self) -> Result<Option<IdempotencyRecord>, IdempotencyError> {
        let params = self.params;
        for _ in 0..ATTEMPTS {
            let now = SystemTime::now();
            if let Some(record) = params.cache.as_ref().and_then(|cache| cache.get(self.key, now)) {
                self.check_payload(&record)?;
                return Ok(Some(record));
            }
            let mut record =
                IdempotencyRecord::in_progress(self.key, params.expiration_from(now), Some(self.held_until_ms));
            record.validation.clone_from(&self.validation);
            let existing = match self
                .timed(StoreOperation::PutInProgress, params.store.put_if_absent(&record, now))
                .await?
            {
                PutOutcome::Written => return Ok(None),
                PutOutcome::Exists(Some(existing)) => existing,
                PutOutcome::Exists(None) => match self.timed(StoreOperation::Get, params.store.get(self.key)).await? {
                    Some(existing) => existing,
                    // Deleted since the write was refused: try again.
                    None => continue,
                },
            };
            self.check_payload(&existing)?;
            if existing.is_expired(now) || existing.is_in_progress_expired(now) {
                // Expired since the write was refused: try again.
                continue;
            }
            match existing.status {
                RecordStatus::InProgress => {
                    return Err(IdempotencyError::AlreadyInProgress {
                        key: self.key.to_owned(),
                        until_ms: existing.in_progress_expiration,
                    });
                }
                RecordStatus::Completed => {
                    if let Some(cache) = &params.cache {
                        cache.put(&existing);
                    }
                    return Ok(Some(existing));
                }
            }
        }
        Err(IdempotencyError::InconsistentRecord {
            key: self.key.to_owned(),
        })
    }

    /// The guard of the key this invocation just took, armed.
    fn hold(&self) -> Hold<'_> {
        Hold {
            store: &self.params.store,
            key: self.key,
            held_until_ms: self.held_until_ms,
            store_timeout: self.params.store_timeout,
            armed: true,
        }
    }

    /// Stores the handler's response, as JSON `data`, as the completed record — if the
    /// record is still this invocation's.
    async fn complete(&self, data: String) -> Result<(), IdempotencyError> {
        let mut record = IdempotencyRecord::new(
            self.key,
            RecordStatus::Completed,
            self.params.expiration_from(SystemTime::now()),
        );
        record.data = Some(data);
        record.validation.clone_from(&self.validation);
        self.timed(
            StoreOperation::Complete,
            self.params.store.update(&record, self.held_until_ms),
        )
        .await?;
        if let Some(cache) = &self.params.cache {
            cache.put(&record);
        }
        Ok(())
    }

    /// Deletes the in-progress record after the handler failed with `handler_error`, if
    /// it is still this invocation's. A failure is logged, never returned: the
    /// handler's error is what the caller must see.
    async fn release(&self, handler_error: &(dyn std::error::Error + Send + Sync)) {
        if let Some(cache) = &self.params.cache {
            cache.remove(self.key);
        }
        let deleted = self
            .timed(
                StoreOperation::Release,
                self.params.store.delete(self.key, self.held_until_ms),
            )
            .await;
        match deleted {
            Ok(()) => {}
            Err(IdempotencyError::KeyLost { .. }) => tracing::debug!(
                idempotency_key = %self.key,
                "the handler failed after its hold on the key ended, and the record is no longer this \
                 invocation's: nothing to delete"
            ),
            Err(error) => tracing::error!(
                idempotency_key = %self.key,
                error = %error,
                handler_error = %handler_error,
                "the handler failed and its in-progress record could not be deleted; passing the handler's \
                 error on, and the key stays held until the invocation's deadline"
            ),
        }
    }

    /// The stored response, as the handler's response type.
    fn decode<R: DeserializeOwned>(&self, record: &IdempotencyRecord) -> Result<R, IdempotencyError> {
        // Powertools stores `null` for a response that is `None`; a record without
        // data reads the same way.
        let data = record.data.as_deref().unwrap_or("null");
        serde_json::from_str(data).map_err(|error| IdempotencyError::CorruptedRecord {
            key: self.key.to_owned(),
            reason: format!(
                "its data does not read as a {}: {error}",
                lambda_middleware_core::support::short_type_name(std::any::type_name::<R>())
            ),
        })
    }

    fn check_payload(&self, stored: &IdempotencyRecord) -> Result<(), IdempotencyError> {
        let Some(part) = &self.params.payload_validation else {
            return Ok(());
        };
        if stored.validation == self.validation {
            return Ok(());
        }
        Err(IdempotencyError::PayloadMismatch {
            key: self.key.to_owned(),
            part: part.to_string(),
        })
    }

    /// Runs a store call within `store_timeout`.
    async fn timed<T>(
        &self,
        operation: StoreOperation,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, IdempotencyError> {
        timed(self.key, self.params.store_timeout, operation, call).await
    }
}

/// Runs a store call for `key` within `timeout`, its failure as an [`IdempotencyError`].
async fn timed<T>(
    key: &str,
    timeout: Duration,
    operation: StoreOperation,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, IdempotencyError> {
    match tokio::time::timeout(timeout, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(StoreError::Corrupted { key, reason })) => Err(IdempotencyError::CorruptedRecord { key, reason }),
        Ok(Err(StoreError::NotHeld {
            in_progress_expiration, ..
        })) => Err(IdempotencyError::KeyLost {
            key: key.to_owned(),
            held_until_ms: in_progress_expiration,
        }),
        Ok(Err(source)) => Err(IdempotencyError::StoreFailed {
            key: key.to_owned(),
            operation,
            source,
        }),
        Err(_elapsed) => Err(IdempotencyError::StoreTimeout {
            key: key.to_owned(),
            operation,
            timeout,
        }),
    }
}

/// The key an invocation holds from the moment it took it until its handler has
/// answered. Dropped while still armed — the chain panicked, or the invocation was
/// cancelled and its future dropped — it frees the key in the background, as a
/// handler error does (Powertools deletes on any exception), so that a retry need
/// not wait for the invocation's deadline.
///
/// That takes a Tokio runtime to spawn the delete on: without one (a future dropped
/// outside any runtime), nothing is done and the key is held until the deadline. A
/// process that dies runs no destructor at all; its deadline is what frees the key.
struct Hold<'a> {
    store: &'a SharedStore,
    key: &'a str,
    held_until_ms: u64,
    store_timeout: Duration,
    armed: bool,
}

impl Hold<'_> {
    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(
                idempotency_key = %self.key,
                "the invocation ended without an answer outside a Tokio runtime: its key stays held until its deadline"
            );
            return;
        };
        // Owned copies: the task outlives the invocation. Nothing of this runs on the
        // happy path.
        let (store, key) = (self.store.clone(), self.key.to_owned());
        let (held_until_ms, timeout) = (self.held_until_ms, self.store_timeout);
        runtime.spawn(async move {
            let delete = store.delete(&key, held_until_ms);
            match timed(&key, timeout, StoreOperation::Release, delete).await {
                Ok(()) => tracing::info!(
                    idempotency_key = %key,
                    "the invocation ended without an answer (a panic or a cancellation): its key is free again"
                ),
                Err(IdempotencyError::KeyLost { .. }) => tracing::debug!(
                    idempotency_key = %key,
                    "the invocation ended without an answer, and its record was no longer its own: nothing to delete"
                ),
                Err(error) => tracing::error!(
                    idempotency_key = %key,
                    error = %error,
                    "the invocation ended without an answer and its key could not be freed: it stays held until \
                     the invocation's deadline"
                ),
            }
        });
    }
}

impl<E> IdempotencyParams<E> {
    /// When a record written at `now` expires, in seconds since the Unix epoch.
    fn expiration_from(&self, now: SystemTime) -> u64 {
        epoch_seconds(now).saturating_add(self.expires_after.as_secs())
    }
}

/// When an in-progress record stops holding its key: the invocation's deadline, or
/// [`NO_DEADLINE_HOLD`] from now when there is no usable one.
fn in_progress_until(deadline_ms: u64, now_ms: u64) -> u64 {
    if deadline_ms > now_ms {
        deadline_ms
    } else {
        now_ms.saturating_add(NO_DEADLINE_HOLD.as_millis() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invocation_holds_its_key_until_its_deadline_or_lambdas_longest_timeout() {
        assert_eq!(in_progress_until(5_000, 1_000), 5_000);
        assert_eq!(in_progress_until(0, 1_000), 1_000 + 900_000);
        // `cargo lambda`'s deadline, far in the past.
        assert_eq!(in_progress_until(600_000, 1_700_000_000_000), 1_700_000_900_000);
        // A clock at its end does not overflow.
        assert_eq!(in_progress_until(0, u64::MAX - 1), u64::MAX);
    }
}
