//! [`MemoryStore`]: idempotency records in the process's memory.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use super::record::IdempotencyRecord;
use super::store::{PutOutcome, Store, StoreError};

/// Records below this many are never swept for expired ones.
const SWEEP_FLOOR: usize = 1024;

/// A [`Store`] in memory: for tests, local runs, and functions that only need
/// protection within one execution environment.
///
/// It is not shared between Lambda execution environments (each has its own memory),
/// so a retry that lands on another instance runs the handler again: in a deployed
/// function, use a store every instance sees — [`DynamoDbStore`](super::DynamoDbStore).
///
/// Clones share the records, so a test can keep one clone to look at what the
/// middleware wrote. Every operation takes one lock for the whole of its check and
/// write, so concurrent invocations (`lambda_runtime::run_concurrent`) see it as
/// atomic, as a conditional write in DynamoDB is. Expired records are dropped when
/// the store has doubled in size since the last sweep, so it does not grow without
/// bound.
///
/// ```
/// use lambda_middleware::middlewares::idempotency::{EventPart, IdempotencyParams, Idempotent, MemoryStore, RecordStatus};
/// use lambda_middleware::{Context, Error, Handler};
/// use serde_json::{json, Value};
///
/// async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
///     Ok(json!({ "paid": event["order"] }))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let store = MemoryStore::new();
/// let params = IdempotencyParams::builder().store(store.clone()).key(EventPart::pointer("/order")).build();
/// let handler = Handler::builder().middleware_with(Idempotent, params).handler(handler)?;
///
/// handler.invoke_with(json!({ "order": 7 }), &Context::default()).await?;
/// let records = store.records();
/// assert_eq!(records.len(), 1);
/// assert_eq!(records[0].status, RecordStatus::Completed);
/// assert_eq!(records[0].data.as_deref(), Some(r#"{"paid":7}"#));
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Records>>,
}

#[derive(Default)]
struct Records {
    by_key: HashMap<String, IdempotencyRecord>,
    /// The size at which the next sweep of expired records happens.
    sweep_at: usize,
}

impl MemoryStore {
    /// An empty store.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::idempotency::MemoryStore;
    /// assert!(MemoryStore::new().is_empty());
    /// ```
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// The record under `key`, if any.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::idempotency::{IdempotencyRecord, MemoryStore};
    /// let store = MemoryStore::new();
    /// store.insert(IdempotencyRecord::in_progress("k", 10, None));
    /// assert_eq!(store.record("k").unwrap().expiration, 10);
    /// assert_eq!(store.record("other"), None);
    /// ```
    pub fn record(&self, key: &str) -> Option<IdempotencyRecord> {
        self.lock().by_key.get(key).cloned()
    }

    /// Every record, ordered by key.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::idempotency::{IdempotencyRecord, MemoryStore};
    /// let store = MemoryStore::new();
    /// store.insert(IdempotencyRecord::in_progress("b", 10, None));
    /// store.insert(IdempotencyRecord::in_progress("a", 10, None));
    /// let keys: Vec<_> = store.records().into_iter().map(|r| r.key).collect();
    /// assert_eq!(keys, ["a", "b"]);
    /// ```
    pub fn records(&self) -> Vec<IdempotencyRecord> {
        let mut records: Vec<_> = self.lock().by_key.values().cloned().collect();
        records.sort_by(|a, b| a.key.cmp(&b.key));
        records
    }

    /// Writes `record` under its key, replacing whatever is there: to seed a store in
    /// a test.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::idempotency::{IdempotencyRecord, MemoryStore};
    /// let store = MemoryStore::new();
    /// store.insert(IdempotencyRecord::in_progress("k", 10, None));
    /// assert_eq!(store.len(), 1);
    /// ```
    pub fn insert(&self, record: IdempotencyRecord) {
        self.lock().by_key.insert(record.key.clone(), record);
    }

    /// How many records it holds, expired ones included.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::idempotency::MemoryStore;
    /// assert_eq!(MemoryStore::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.lock().by_key.len()
    }

    /// `true` when it holds no record.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::idempotency::MemoryStore;
    /// assert!(MemoryStore::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.lock().by_key.is_empty()
    }

    fn lock(&self) -> MutexGuard<'_, Records> {
        // A panic elsewhere while holding the lock cannot leave a record half written
        // (every write is one `insert` or `remove`), so the data stays usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Store for MemoryStore {
    async fn put_if_absent(&self, record: &IdempotencyRecord, now: SystemTime) -> Result<PutOutcome, StoreError> {
        let mut records = self.lock();
        if let Some(existing) = records.by_key.get(&record.key) {
            if !existing.can_be_replaced(now) {
                return Ok(PutOutcome::Exists(Some(existing.clone())));
            }
        }
        records.by_key.insert(record.key.clone(), record.clone());
        if records.by_key.len() >= records.sweep_at.max(SWEEP_FLOOR) {
            records.by_key.retain(|_, kept| !kept.is_expired(now));
            records.sweep_at = records.by_key.len() * 2;
        }
        Ok(PutOutcome::Written)
    }

    async fn get(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        Ok(self.record(key))
    }

    async fn update(&self, record: &IdempotencyRecord, in_progress_expiration: u64) -> Result<(), StoreError> {
        let mut records = self.lock();
        let Some(stored) = records
            .by_key
            .get_mut(&record.key)
            .filter(|stored| stored.is_in_progress_until(in_progress_expiration))
        else {
            return Err(StoreError::not_held(&record.key, in_progress_expiration));
        };
        // The fields Powertools' update sets; the in-progress expiration stays.
        stored.status = record.status;
        stored.data.clone_from(&record.data);
        stored.expiration = record.expiration;
        if record.validation.is_some() {
            stored.validation.clone_from(&record.validation);
        }
        Ok(())
    }

    async fn delete(&self, key: &str, in_progress_expiration: u64) -> Result<(), StoreError> {
        let mut records = self.lock();
        if !records
            .by_key
            .get(key)
            .is_some_and(|stored| stored.is_in_progress_until(in_progress_expiration))
        {
            return Err(StoreError::not_held(key, in_progress_expiration));
        }
        records.by_key.remove(key);
        Ok(())
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore").field("records", &self.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::RecordStatus;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn the_conditional_write_follows_powertools() {
        block_on(async {
            let store = MemoryStore::new();
            let first = IdempotencyRecord::in_progress("k", 100, Some(50_000));
            assert_eq!(store.put_if_absent(&first, at(10)).await.unwrap(), PutOutcome::Written);

            // In progress, before its in-progress expiration: refused, with the record.
            let second = IdempotencyRecord::in_progress("k", 200, Some(90_000));
            assert_eq!(
                store.put_if_absent(&second, at(20)).await.unwrap(),
                PutOutcome::Exists(Some(first.clone()))
            );
            // After it: the invocation is over, the key is free.
            assert_eq!(store.put_if_absent(&second, at(51)).await.unwrap(), PutOutcome::Written);

            // Completed, before its expiration: refused; after it: free.
            let mut done = second.clone();
            done.status = RecordStatus::Completed;
            done.data = Some("1".into());
            store.update(&done, 90_000).await.unwrap();
            assert!(matches!(
                store.put_if_absent(&first, at(200)).await.unwrap(),
                PutOutcome::Exists(Some(_))
            ));
            assert_eq!(store.put_if_absent(&first, at(201)).await.unwrap(), PutOutcome::Written);
        });
    }

    #[test]
    fn update_keeps_the_in_progress_expiration_and_a_missing_validation() {
        block_on(async {
            let store = MemoryStore::new();
            let mut record = IdempotencyRecord::in_progress("k", 100, Some(5_000));
            record.validation = Some("v".into());
            store.put_if_absent(&record, at(1)).await.unwrap();
            let mut done = IdempotencyRecord::new("k", RecordStatus::Completed, 300);
            done.data = Some("{}".into());
            store.update(&done, 5_000).await.unwrap();
            let stored = store.record("k").unwrap();
            assert_eq!(stored.in_progress_expiration, Some(5_000));
            assert_eq!(stored.validation.as_deref(), Some("v"));
            assert_eq!((stored.status, stored.expiration), (RecordStatus::Completed, 300));
        });
    }

    #[test]
    fn update_and_delete_change_only_the_record_of_the_invocation_that_wrote_it() {
        block_on(async {
            let store = MemoryStore::new();
            let mine = IdempotencyRecord::in_progress("k", 100, Some(5_000));
            store.put_if_absent(&mine, at(1)).await.unwrap();
            let mut done = IdempotencyRecord::new("k", RecordStatus::Completed, 300);
            done.data = Some("{}".into());

            // Another hold's value: nothing changes.
            let refused = store.update(&done, 4_000).await.unwrap_err();
            assert!(matches!(
                refused,
                StoreError::NotHeld {
                    in_progress_expiration: 4_000,
                    ..
                }
            ));
            assert!(matches!(
                store.delete("k", 4_000).await,
                Err(StoreError::NotHeld { .. })
            ));
            assert_eq!(store.record("k"), Some(mine.clone()));

            // Once completed, it is no longer in progress: neither updated again nor
            // deleted.
            store.update(&done, 5_000).await.unwrap();
            assert!(matches!(
                store.update(&done, 5_000).await,
                Err(StoreError::NotHeld { .. })
            ));
            assert!(matches!(
                store.delete("k", 5_000).await,
                Err(StoreError::NotHeld { .. })
            ));
            assert_eq!(store.record("k").unwrap().status, RecordStatus::Completed);

            // Nothing under the key: neither.
            store.insert(mine.clone());
            store.delete("k", 5_000).await.unwrap();
            assert!(store.is_empty());
            assert!(matches!(
                store.update(&done, 5_000).await,
                Err(StoreError::NotHeld { .. })
            ));
            assert!(matches!(
                store.delete("k", 5_000).await,
                Err(StoreError::NotHeld { .. })
            ));
            assert!(store.is_empty());
        });
    }

    #[test]
    fn expired_records_are_swept_once_the_store_has_grown() {
        block_on(async {
            let store = MemoryStore::new();
            for n in 0..SWEEP_FLOOR - 1 {
                store.insert(IdempotencyRecord::in_progress(format!("old-{n}"), 10, None));
            }
            let live = IdempotencyRecord::in_progress("live", 1_000, None);
            store.put_if_absent(&live, at(100)).await.unwrap();
            assert_eq!(store.len(), 1);
            assert_eq!(store.records()[0].key, "live");
        });
    }
}
