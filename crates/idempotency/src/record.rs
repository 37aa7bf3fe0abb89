//! [`IdempotencyRecord`]: what a store keeps for one idempotency key, in Powertools'
//! terms.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

/// The state of an idempotency key: its status, when it expires, and the stored
/// response — the fields of a Powertools record, with the same meaning and units, so
/// that a Rust and a Python function can share one table.
///
/// | field | DynamoDB attribute (Powertools' default) | meaning |
/// |-------|------------------------------------------|---------|
/// | `key` | `id` (S) | `<function name>.<scope>#<SHA-256 of the key's JSON>` |
/// | `status` | `status` (S) | `INPROGRESS` or `COMPLETED` |
/// | `expiration` | `expiration` (N, the table's TTL) | when the record expires, in seconds since the Unix epoch |
/// | `in_progress_expiration` | `in_progress_expiration` (N) | when an `INPROGRESS` record stops blocking, in **milliseconds** since the epoch: the invocation's deadline |
/// | `data` | `data` (S) | the response, as JSON text (`COMPLETED` only) |
/// | `validation` | `validation` (S) | the hash of the validated part of the event, when payload validation is on |
///
/// The fields are public, to read and to set; more may come, so a record is made with
/// [`new`](IdempotencyRecord::new) or [`in_progress`](IdempotencyRecord::in_progress)
/// (a [`Store`](super::Store) reading its database does the same).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use lambda_middleware::middlewares::idempotency::{IdempotencyRecord, RecordStatus};
///
/// let mut record = IdempotencyRecord::new("orders.handler#5e3f", RecordStatus::Completed, 1_700_003_600);
/// record.data = Some(r#"{"paid":true}"#.into());
/// assert!(!record.is_expired(UNIX_EPOCH + Duration::from_secs(1_700_003_600)));
/// assert!(record.is_expired(UNIX_EPOCH + Duration::from_secs(1_700_003_601)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdempotencyRecord {
    /// The idempotency key: `<function name>.<scope>#<hex SHA-256>`.
    pub key: String,
    /// In progress or completed.
    pub status: RecordStatus,
    /// When the record expires, in seconds since the Unix epoch.
    pub expiration: u64,
    /// When an in-progress record stops blocking other invocations, in milliseconds
    /// since the Unix epoch.
    pub in_progress_expiration: Option<u64>,
    /// The response as JSON text, once completed.
    pub data: Option<String>,
    /// The hash of the validated part of the event, when payload validation is on.
    pub validation: Option<String>,
}

impl IdempotencyRecord {
    /// A record with `status` that expires at `expiration` (seconds since the Unix
    /// epoch), and nothing else: no in-progress expiration, data or validation.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::idempotency::{IdempotencyRecord, RecordStatus};
    /// let record = IdempotencyRecord::new("k", RecordStatus::Completed, 1_700_003_600);
    /// assert_eq!((record.data, record.in_progress_expiration), (None, None));
    /// ```
    pub fn new(key: impl Into<String>, status: RecordStatus, expiration: u64) -> Self {
        IdempotencyRecord {
            key: key.into(),
            status,
            expiration,
            in_progress_expiration: None,
            data: None,
            validation: None,
        }
    }

    /// `true` once `now` is past the expiration (Powertools: `expiration < now`, in
    /// whole seconds).
    ///
    /// ```
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// # use lambda_middleware::middlewares::idempotency::{IdempotencyRecord, RecordStatus};
    /// let record = IdempotencyRecord::in_progress("k", 100, Some(100_500));
    /// assert!(!record.is_expired(UNIX_EPOCH + Duration::from_millis(100_999)));
    /// assert!(record.is_expired(UNIX_EPOCH + Duration::from_secs(101)));
    /// ```
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expiration < epoch_seconds(now)
    }

    /// `true` for an in-progress record whose in-progress expiration has passed: the
    /// invocation that wrote it is over (it crashed or timed out), so another may take
    /// the key.
    ///
    /// ```
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// # use lambda_middleware::middlewares::idempotency::IdempotencyRecord;
    /// let record = IdempotencyRecord::in_progress("k", 3_600, Some(1_500));
    /// assert!(!record.is_in_progress_expired(UNIX_EPOCH + Duration::from_millis(1_500)));
    /// assert!(record.is_in_progress_expired(UNIX_EPOCH + Duration::from_millis(1_501)));
    /// ```
    pub fn is_in_progress_expired(&self, now: SystemTime) -> bool {
        self.status == RecordStatus::InProgress
            && self
                .in_progress_expiration
                .is_some_and(|deadline| deadline < epoch_millis(now))
    }

    /// `true` when a new in-progress record may replace this one at `now`: the
    /// condition of Powertools' conditional write (`attribute_not_exists(id) OR
    /// expiration < :now OR (status = INPROGRESS AND in_progress_expiration <
    /// :now_in_millis)`), for a record that exists. A `Store` that
    /// checks the condition itself (the in-memory one) uses this.
    ///
    /// ```
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// # use lambda_middleware::middlewares::idempotency::IdempotencyRecord;
    /// let record = IdempotencyRecord::in_progress("k", 3_600, Some(1_500));
    /// assert!(!record.can_be_replaced(UNIX_EPOCH + Duration::from_secs(1)));
    /// assert!(record.can_be_replaced(UNIX_EPOCH + Duration::from_secs(2)));
    /// ```
    pub fn can_be_replaced(&self, now: SystemTime) -> bool {
        self.is_expired(now) || self.is_in_progress_expired(now)
    }

    /// `true` when this is the in-progress record of the invocation whose hold ends at
    /// `in_progress_expiration` (milliseconds since the Unix epoch): the condition of
    /// [`Store::update`](super::Store::update) and
    /// [`Store::delete`](super::Store::delete) (`#status = :inprogress AND
    /// #in_progress_expiry = :in_progress_expiry` in DynamoDB), for a record that
    /// exists.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::idempotency::{IdempotencyRecord, RecordStatus};
    /// let mut record = IdempotencyRecord::in_progress("k", 3_600, Some(1_500));
    /// assert!(record.is_in_progress_until(1_500));
    /// assert!(!record.is_in_progress_until(2_000)); // another invocation's
    /// record.status = RecordStatus::Completed;
    /// assert!(!record.is_in_progress_until(1_500));
    /// ```
    pub fn is_in_progress_until(&self, in_progress_expiration: u64) -> bool {
        self.status == RecordStatus::InProgress && self.in_progress_expiration == Some(in_progress_expiration)
    }

    /// An in-progress record, as the middleware writes it before the handler runs.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::idempotency::{IdempotencyRecord, RecordStatus};
    /// let record = IdempotencyRecord::in_progress("orders.handler#5e3f", 1_700_003_600, Some(1_700_000_003_000));
    /// assert_eq!(record.status, RecordStatus::InProgress);
    /// assert_eq!(record.data, None);
    /// ```
    pub fn in_progress(key: impl Into<String>, expiration: u64, in_progress_expiration: Option<u64>) -> Self {
        IdempotencyRecord {
            in_progress_expiration,
            ..IdempotencyRecord::new(key, RecordStatus::InProgress, expiration)
        }
    }
}

/// Where an idempotency key stands: Powertools' `INPROGRESS` and `COMPLETED`.
///
/// (Powertools also speaks of `EXPIRED`, which is never stored: it is a record whose
/// expiration has passed, [`IdempotencyRecord::is_expired`].)
///
/// ```
/// use lambda_middleware::middlewares::idempotency::RecordStatus;
///
/// assert_eq!(RecordStatus::InProgress.as_str(), "INPROGRESS");
/// assert_eq!("COMPLETED".parse::<RecordStatus>(), Ok(RecordStatus::Completed));
/// let error = "DONE".parse::<RecordStatus>().unwrap_err();
/// assert_eq!(error.to_string(), r#"status "DONE" is not INPROGRESS or COMPLETED"#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordStatus {
    /// An invocation is running the handler for this key.
    InProgress,
    /// The handler succeeded; the record holds its response.
    Completed,
}

impl RecordStatus {
    /// The stored spelling: `INPROGRESS` or `COMPLETED`.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::idempotency::RecordStatus;
    /// assert_eq!(RecordStatus::Completed.as_str(), "COMPLETED");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::InProgress => "INPROGRESS",
            RecordStatus::Completed => "COMPLETED",
        }
    }
}

impl fmt::Display for RecordStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored status that is neither `INPROGRESS` nor `COMPLETED`.
///
/// ```
/// use lambda_middleware::middlewares::idempotency::RecordStatus;
///
/// let error = "EXPIRED".parse::<RecordStatus>().unwrap_err();
/// assert_eq!(error.status(), "EXPIRED");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("status {status:?} is not INPROGRESS or COMPLETED")]
pub struct UnknownStatus {
    status: String,
}

impl UnknownStatus {
    /// The status found.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::idempotency::RecordStatus;
    /// assert_eq!("x".parse::<RecordStatus>().unwrap_err().status(), "x");
    /// ```
    pub fn status(&self) -> &str {
        &self.status
    }
}

impl FromStr for RecordStatus {
    type Err = UnknownStatus;

    fn from_str(status: &str) -> Result<Self, UnknownStatus> {
        match status {
            "INPROGRESS" => Ok(RecordStatus::InProgress),
            "COMPLETED" => Ok(RecordStatus::Completed),
            other => Err(UnknownStatus {
                status: other.to_owned(),
            }),
        }
    }
}

/// Whole seconds since the Unix epoch (0 before it).
pub(crate) fn epoch_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs())
}

/// Whole milliseconds since the Unix epoch (0 before it).
pub(crate) fn epoch_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at_ms(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    #[test]
    fn expiry_is_strictly_after_the_expiration_second() {
        let record = IdempotencyRecord::in_progress("k", 10, None);
        assert!(!record.is_expired(at_ms(10_999)));
        assert!(record.is_expired(at_ms(11_000)));
        // Without an in-progress expiration, only the expiration frees the key.
        assert!(!record.can_be_replaced(at_ms(10_999)));
    }

    #[test]
    fn a_completed_record_is_never_in_progress_expired() {
        let mut record = IdempotencyRecord::in_progress("k", 10, Some(1_000));
        record.status = RecordStatus::Completed;
        assert!(!record.is_in_progress_expired(at_ms(5_000)));
        assert!(!record.can_be_replaced(at_ms(5_000)));
        assert!(record.can_be_replaced(at_ms(11_000)));
    }

    #[test]
    fn times_before_the_epoch_are_zero() {
        let before = UNIX_EPOCH - Duration::from_secs(5);
        assert_eq!(epoch_seconds(before), 0);
        assert_eq!(epoch_millis(before), 0);
        assert_eq!(epoch_millis(at_ms(1_234)), 1_234);
    }
}
