//! [`Store`]: where idempotency records live, and the errors a store reports.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use super::record::IdempotencyRecord;

/// Where [`Idempotent`](super::Idempotent) keeps its records: four async operations on
/// one key, which a store must make atomic per key.
///
/// The crate has [`MemoryStore`](super::MemoryStore) (tests, local runs) and, with the
/// `dynamodb` feature, [`DynamoDbStore`](super::DynamoDbStore). Implement it for
/// another database with `async fn`s; the futures must be `Send`. An `Arc` of a store
/// is a store too, so one store can serve several chains.
///
/// The middleware bounds every call with its `store_timeout`, so a store need not
/// time out by itself; it reports what went wrong as a [`StoreError`].
///
/// An invocation that takes a key writes an in-progress record whose
/// `in_progress_expiration` is the end of its hold; [`update`](Store::update) and
/// [`delete`](Store::delete) get that value back and must change the record only while
/// it is still that one. An invocation can outlive its hold (nothing stops a handler at
/// its deadline under `run_concurrent`), and by then another may have taken the key:
/// the late one must neither overwrite nor delete the record of the one running now.
///
/// # Example: a store that logs every call around another
///
/// ```
/// use std::time::SystemTime;
/// use lambda_middleware::middlewares::idempotency::{IdempotencyRecord, MemoryStore, PutOutcome, Store, StoreError};
///
/// #[derive(Clone, Default)]
/// struct Logged(MemoryStore);
///
/// impl Store for Logged {
///     async fn put_if_absent(&self, record: &IdempotencyRecord, now: SystemTime) -> Result<PutOutcome, StoreError> {
///         tracing::info!(key = %record.key, "put");
///         self.0.put_if_absent(record, now).await
///     }
///     async fn get(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
///         self.0.get(key).await
///     }
///     async fn update(&self, record: &IdempotencyRecord, in_progress_expiration: u64) -> Result<(), StoreError> {
///         self.0.update(record, in_progress_expiration).await
///     }
///     async fn delete(&self, key: &str, in_progress_expiration: u64) -> Result<(), StoreError> {
///         self.0.delete(key, in_progress_expiration).await
///     }
/// }
/// ```
pub trait Store: Send + Sync + 'static {
    /// Writes `record` (an in-progress one) unless a record that still counts exists
    /// under its key: only when there is none, or the existing one expired
    /// (`expiration < now` in seconds), or it is in progress and its
    /// `in_progress_expiration` is before `now` in milliseconds — Powertools'
    /// conditional write.
    ///
    /// When it does not write, it answers [`PutOutcome::Exists`] with the existing
    /// record if it has it at no extra cost (DynamoDB returns it with the failed
    /// condition), or `None`, and the middleware then reads it with [`get`](Store::get).
    fn put_if_absent(
        &self,
        record: &IdempotencyRecord,
        now: SystemTime,
    ) -> impl Future<Output = Result<PutOutcome, StoreError>> + Send;

    /// The record under `key`, expired or not, or `None`. Reads must see the latest
    /// write (DynamoDB: a consistent read).
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<IdempotencyRecord>, StoreError>> + Send;

    /// Marks the record completed: writes `record`'s `status`, `data`, `expiration`
    /// and (when set) `validation` under its key — only if the record stored there is
    /// still the in-progress one this invocation wrote, whose `in_progress_expiration`
    /// is `in_progress_expiration`
    /// ([`IdempotencyRecord::is_in_progress_until`]). Otherwise it writes nothing and
    /// fails with [`StoreError::NotHeld`].
    fn update(
        &self,
        record: &IdempotencyRecord,
        in_progress_expiration: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes the record under `key`, so that a retry runs the handler again (after
    /// the handler failed) — only if it is still the in-progress one this invocation
    /// wrote, as for [`update`](Store::update). Otherwise (that record is gone, or
    /// another invocation's took its place) it deletes nothing and fails with
    /// [`StoreError::NotHeld`].
    fn delete(&self, key: &str, in_progress_expiration: u64) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Refuses a configuration that cannot work, with the reason: called once, when
    /// the handler is built, whose [`BuildError`](lambda_middleware_core::BuildError) then names it. By
    /// default every configuration is accepted.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::idempotency::{MemoryStore, Store};
    /// assert_eq!(MemoryStore::new().check(), Ok(()));
    /// ```
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

/// A shared store: the same records, for every chain that has a clone of the `Arc`.
///
/// ```
/// use std::sync::Arc;
/// use lambda_middleware::middlewares::idempotency::{EventPart, IdempotencyParams, MemoryStore};
/// use serde_json::Value;
///
/// let store = Arc::new(MemoryStore::new());
/// let orders: IdempotencyParams<Value> =
///     IdempotencyParams::builder().store(Arc::clone(&store)).key(EventPart::pointer("/order_id")).build();
/// let refunds: IdempotencyParams<Value> =
///     IdempotencyParams::builder().store(store).key(EventPart::pointer("/refund_id")).scope("refunds").build();
/// ```
impl<S: Store> Store for Arc<S> {
    fn put_if_absent(
        &self,
        record: &IdempotencyRecord,
        now: SystemTime,
    ) -> impl Future<Output = Result<PutOutcome, StoreError>> + Send {
        S::put_if_absent(self, record, now)
    }

    fn get(&self, key: &str) -> impl Future<Output = Result<Option<IdempotencyRecord>, StoreError>> + Send {
        S::get(self, key)
    }

    fn update(
        &self,
        record: &IdempotencyRecord,
        in_progress_expiration: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        S::update(self, record, in_progress_expiration)
    }

    fn delete(&self, key: &str, in_progress_expiration: u64) -> impl Future<Output = Result<(), StoreError>> + Send {
        S::delete(self, key, in_progress_expiration)
    }

    fn check(&self) -> Result<(), String> {
        S::check(self)
    }
}

/// What [`Store::put_if_absent`] did.
///
/// ```
/// use lambda_middleware::middlewares::idempotency::PutOutcome;
///
/// let outcome = PutOutcome::Exists(None); // exists, and the store did not say what it holds
/// assert!(matches!(outcome, PutOutcome::Exists(None)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    /// The record was written: this invocation holds the key.
    Written,
    /// A record that still counts exists: the one found, when the store returned it
    /// with the refusal.
    Exists(Option<IdempotencyRecord>),
}

/// A store could not do what was asked.
///
/// ```
/// use lambda_middleware::middlewares::idempotency::StoreError;
///
/// let down = StoreError::unavailable("connection refused");
/// assert_eq!(down.to_string(), "connection refused");
/// let bad = StoreError::corrupted("orders.handler#5e3f", "attribute `data` is a number (N); expected a string (S)");
/// assert_eq!(
///     bad.to_string(),
///     "record orders.handler#5e3f is corrupted: attribute `data` is a number (N); expected a string (S)",
/// );
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store did not answer, or answered with an error: network, throttling,
    /// permissions, a missing table.
    #[error("{0}")]
    Unavailable(Box<dyn std::error::Error + Send + Sync>),
    /// A record was found but cannot be read: an attribute of the wrong type, an
    /// unknown status.
    #[error("record {key} is corrupted: {reason}")]
    Corrupted {
        /// The record's key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// [`Store::update`] or [`Store::delete`] found no in-progress record under the key
    /// with the `in_progress_expiration` it was given: the invocation outlived its
    /// hold and another took the key, or the record is gone. Nothing was changed.
    #[error(
        "record {key} is not the in-progress record held until {in_progress_expiration} ms since the Unix \
         epoch any more; nothing was changed"
    )]
    NotHeld {
        /// The record's key.
        key: String,
        /// The hold that was expected, in milliseconds since the Unix epoch.
        in_progress_expiration: u64,
    },
}

impl StoreError {
    /// The store failed with `error`.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::idempotency::StoreError;
    /// let error = StoreError::unavailable(std::io::Error::other("timed out"));
    /// assert!(matches!(error, StoreError::Unavailable(_)));
    /// ```
    pub fn unavailable(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError::Unavailable(error.into())
    }

    /// The record under `key` cannot be read, because of `reason`.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::idempotency::StoreError;
    /// let error = StoreError::corrupted("k", "no status");
    /// assert!(matches!(error, StoreError::Corrupted { .. }));
    /// ```
    pub fn corrupted(key: impl Into<String>, reason: impl Into<String>) -> Self {
        StoreError::Corrupted {
            key: key.into(),
            reason: reason.into(),
        }
    }

    /// The record under `key` is not the in-progress record held until
    /// `in_progress_expiration`: a refused [`Store::update`] or [`Store::delete`].
    ///
    /// ```
    /// # use lambda_middleware::middlewares::idempotency::StoreError;
    /// let error = StoreError::not_held("k", 1_700_000_003_000);
    /// assert_eq!(
    ///     error.to_string(),
    ///     "record k is not the in-progress record held until 1700000003000 ms since the Unix epoch any more; \
    ///      nothing was changed",
    /// );
    /// ```
    pub fn not_held(key: impl Into<String>, in_progress_expiration: u64) -> Self {
        StoreError::NotHeld {
            key: key.into(),
            in_progress_expiration,
        }
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`Store`] with its futures boxed, so that params can hold any store without naming
/// its type. The box is one allocation per store call, next to a network round trip.
trait DynStore: Send + Sync {
    fn put_if_absent<'a>(
        &'a self,
        record: &'a IdempotencyRecord,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<PutOutcome, StoreError>>;
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<IdempotencyRecord>, StoreError>>;
    fn update<'a>(&'a self, record: &'a IdempotencyRecord, held: u64) -> BoxFuture<'a, Result<(), StoreError>>;
    fn delete<'a>(&'a self, key: &'a str, held: u64) -> BoxFuture<'a, Result<(), StoreError>>;
    fn check(&self) -> Result<(), String>;
}

impl<S: Store> DynStore for S {
    fn put_if_absent<'a>(
        &'a self,
        record: &'a IdempotencyRecord,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<PutOutcome, StoreError>> {
        Box::pin(Store::put_if_absent(self, record, now))
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<IdempotencyRecord>, StoreError>> {
        Box::pin(Store::get(self, key))
    }

    fn update<'a>(&'a self, record: &'a IdempotencyRecord, held: u64) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(Store::update(self, record, held))
    }

    fn delete<'a>(&'a self, key: &'a str, held: u64) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(Store::delete(self, key, held))
    }

    fn check(&self) -> Result<(), String> {
        Store::check(self)
    }
}

/// Any [`Store`], shared: what [`IdempotencyParams`](super::IdempotencyParams) keeps of
/// the store it is given (its `store(..)` setter makes one). Cloning it is cheap, so an
/// invocation that must free its key after it is gone (a panic, a cancellation) can
/// take the store along.
///
/// `pub` only because the types of the params' builder mention it; no path outside
/// the crate names it, so users never see or use it.
#[derive(Clone)]
pub struct SharedStore {
    store: Arc<dyn DynStore>,
    type_name: &'static str,
}

impl SharedStore {
    pub(crate) fn new<S: Store>(store: S) -> Self {
        SharedStore {
            store: Arc::new(store),
            type_name: lambda_middleware_core::support::short_type_name(std::any::type_name::<S>()),
        }
    }

    pub(crate) fn put_if_absent<'a>(
        &'a self,
        record: &'a IdempotencyRecord,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<PutOutcome, StoreError>> {
        self.store.put_if_absent(record, now)
    }

    pub(crate) fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<IdempotencyRecord>, StoreError>> {
        self.store.get(key)
    }

    pub(crate) fn update<'a>(
        &'a self,
        record: &'a IdempotencyRecord,
        in_progress_expiration: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.store.update(record, in_progress_expiration)
    }

    pub(crate) fn delete<'a>(
        &'a self,
        key: &'a str,
        in_progress_expiration: u64,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.store.delete(key, in_progress_expiration)
    }

    pub(crate) fn check(&self) -> Result<(), String> {
        self.store.check()
    }
}

impl fmt::Debug for SharedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedStore")
            .field(&format_args!("{}", self.type_name))
            .finish()
    }
}
