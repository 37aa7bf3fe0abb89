//! The in-process cache in front of the store: completed records, least recently used
//! first out.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use super::record::{IdempotencyRecord, RecordStatus};

/// Completed records of this execution environment, at most `capacity` of them: a
/// repeat within one warm container is answered without a store round trip.
///
/// Only completed records are kept — an in-progress one can change in the store at
/// any moment, where the cache would not see it (Powertools does the same). An expired
/// record is dropped when it is looked up.
pub(crate) struct LocalCache {
    capacity: usize,
    inner: Mutex<Lru>,
}

#[derive(Default)]
struct Lru {
    /// Each record with the tick of its last use.
    entries: HashMap<String, (IdempotencyRecord, u64)>,
    /// Ticks of last use, oldest first, to the key.
    order: BTreeMap<u64, String>,
    tick: u64,
}

impl LocalCache {
    pub(crate) fn new(capacity: usize) -> Self {
        LocalCache {
            capacity,
            inner: Mutex::new(Lru::default()),
        }
    }

    /// The record under `key` if it is cached and not expired at `now`.
    pub(crate) fn get(&self, key: &str, now: SystemTime) -> Option<IdempotencyRecord> {
        let mut lru = self.lock();
        let lru = &mut *lru;
        let (record, last_used) = lru.entries.get_mut(key)?;
        if record.is_expired(now) {
            let last_used = *last_used;
            lru.order.remove(&last_used);
            lru.entries.remove(key);
            return None;
        }
        lru.order.remove(last_used);
        lru.tick += 1;
        *last_used = lru.tick;
        lru.order.insert(lru.tick, key.to_owned());
        Some(record.clone())
    }

    /// Keeps `record` if it is completed, dropping the least recently used one when full.
    pub(crate) fn put(&self, record: &IdempotencyRecord) {
        if record.status != RecordStatus::Completed || self.capacity == 0 {
            return;
        }
        let mut lru = self.lock();
        let lru = &mut *lru;
        lru.tick += 1;
        let tick = lru.tick;
        if let Some((_, previous)) = lru.entries.insert(record.key.clone(), (record.clone(), tick)) {
            lru.order.remove(&previous);
        }
        lru.order.insert(tick, record.key.clone());
        while lru.entries.len() > self.capacity {
            let Some((_, oldest)) = lru.order.pop_first() else {
                break;
            };
            lru.entries.remove(&oldest);
        }
    }

    /// Forgets `key` (its record was deleted from the store).
    pub(crate) fn remove(&self, key: &str) {
        let mut lru = self.lock();
        if let Some((_, last_used)) = lru.entries.remove(key) {
            lru.order.remove(&last_used);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lru> {
        // Every change leaves both maps consistent before anything can panic.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn keys(&self) -> Vec<String> {
        self.lock().order.values().cloned().collect()
    }
}

impl fmt::Debug for LocalCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.lock().entries.len();
        f.debug_struct("LocalCache")
            .field("capacity", &self.capacity)
            .field("len", &len)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn completed(key: &str, expiration: u64) -> IdempotencyRecord {
        let mut record = IdempotencyRecord::in_progress(key, expiration, None);
        record.status = RecordStatus::Completed;
        record.data = Some(format!("{key:?}"));
        record
    }

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn the_least_recently_used_record_goes_first() {
        let cache = LocalCache::new(2);
        cache.put(&completed("a", 100));
        cache.put(&completed("b", 100));
        assert!(cache.get("a", at(1)).is_some()); // `a` is now the most recent
        cache.put(&completed("c", 100));
        assert_eq!(cache.keys(), ["a", "c"]);
        assert!(cache.get("b", at(1)).is_none());
        // Putting a key again refreshes it without growing.
        cache.put(&completed("a", 100));
        cache.put(&completed("d", 100));
        assert_eq!(cache.keys(), ["a", "d"]);
    }

    #[test]
    fn in_progress_records_are_not_cached_and_expired_ones_are_dropped() {
        let cache = LocalCache::new(4);
        cache.put(&IdempotencyRecord::in_progress("p", 100, Some(1)));
        assert!(cache.get("p", at(1)).is_none());
        cache.put(&completed("e", 10));
        assert_eq!(cache.get("e", at(10)).unwrap().data.as_deref(), Some("\"e\""));
        assert!(cache.get("e", at(11)).is_none());
        assert!(cache.keys().is_empty());
        cache.put(&completed("r", 10));
        cache.remove("r");
        assert!(cache.get("r", at(1)).is_none());
        assert!(cache.keys().is_empty());
    }
}
