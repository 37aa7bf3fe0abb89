//! [`IdempotencyError`]: why an idempotent invocation did not run or did not answer.

use std::fmt;
use std::time::Duration;

use super::store::StoreError;

/// Why [`Idempotent`](super::Idempotent) failed an invocation.
///
/// Lambda reports each variant under the name Powertools for AWS Lambda (Python) gives
/// the same failure as `errorType`, so that one Step Functions `Retry` or `Catch`
/// covers Rust and Python functions alike: retry `IdempotencyAlreadyInProgressError`
/// after a delay, never retry `IdempotencyValidationError`.
///
/// | variant | `errorType` (Powertools' exception) |
/// |---|---|
/// | `AlreadyInProgress` | `IdempotencyAlreadyInProgressError` |
/// | `PayloadMismatch` | `IdempotencyValidationError` |
/// | `MissingIdempotencyKey` | `IdempotencyKeyError` |
/// | `StoreFailed`, `StoreTimeout` | `IdempotencyPersistenceLayerError` |
/// | `InconsistentRecord` | `IdempotencyInconsistentStateError` |
/// | `CorruptedRecord` | `IdempotencyInvalidStatusError` |
/// | `KeyLost` | `IdempotencyKeyLostError` (no Powertools counterpart) |
/// | `NotSerializable` | `IdempotencyNotSerializableError` (Powertools raises `TypeError`) |
///
/// The names are the ones this type's `Debug` output starts with, which is where
/// `InvocationError` reads them.
///
/// ```
/// use lambda_middleware::middlewares::idempotency::IdempotencyError;
/// use lambda_middleware::InvocationError;
///
/// let error = IdempotencyError::AlreadyInProgress { key: "pay.handler#5e3f".into(), until_ms: Some(1_700_000_003_000) };
/// assert_eq!(
///     error.to_string(),
///     "an invocation with idempotency key pay.handler#5e3f is already in progress \
///      (until 1700000003000 ms since the Unix epoch at the latest); retry once it has finished",
/// );
/// let lambda_sees = InvocationError::from(lambda_middleware::Error::from(error));
/// assert_eq!(lambda_sees.error_type(), "IdempotencyAlreadyInProgressError");
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum IdempotencyError {
    /// Another invocation with the same key is running the handler now (or was, and
    /// has not reached its deadline). Retrying later gets its response.
    #[error(
        "an invocation with idempotency key {key} is already in progress{}; retry once it has finished",
        until(*until_ms)
    )]
    AlreadyInProgress {
        /// The idempotency key.
        key: String,
        /// When the running invocation's hold ends at the latest (its deadline), in
        /// milliseconds since the Unix epoch, when the record says.
        until_ms: Option<u64>,
    },
    /// The key was seen before with another payload: the part of the event that
    /// `payload_validation` names differs from the first invocation's. The stored
    /// response is not returned.
    #[error(
        "the event has idempotency key {key} but not the payload first seen with it: \
         {part} differs (a new operation needs a new key)"
    )]
    PayloadMismatch {
        /// The idempotency key.
        key: String,
        /// The validated part, as [`EventPart`](super::EventPart) displays it.
        part: String,
    },
    /// The event has no idempotency key and `raise_on_no_key` is set.
    #[error(
        "the event has no idempotency key: {part} found nothing (or null, \"\", or an array or object \
         holding only nulls)"
    )]
    MissingIdempotencyKey {
        /// The key's part, as `EventPart` displays it.
        part: String,
    },
    /// A store call failed.
    #[error("the idempotency store failed while {operation} of key {key}: {source}")]
    StoreFailed {
        /// The idempotency key.
        key: String,
        /// What the middleware was doing.
        operation: StoreOperation,
        /// The store's error.
        source: StoreError,
    },
    /// A store call did not answer within `store_timeout`.
    #[error("the idempotency store did not answer within {timeout:?} while {operation} of key {key}")]
    StoreTimeout {
        /// The idempotency key.
        key: String,
        /// What the middleware was doing.
        operation: StoreOperation,
        /// The `store_timeout` it waited.
        timeout: Duration,
    },
    /// The handler succeeded, but the record under its key is no longer the in-progress
    /// record this invocation wrote: the invocation outlived its hold (its deadline)
    /// and another invocation took the key, or the record was removed. The response
    /// was not stored, and the other invocation's record was left as it is.
    ///
    /// Returned only with `fail_when_not_stored`; otherwise the response is returned
    /// and this error logged.
    #[error(
        "the idempotency record {key} is no longer the in-progress record this invocation wrote (held until \
         {held_until_ms} ms since the Unix epoch): another invocation took the key once that hold ended, or \
         the record was removed; the response was not stored"
    )]
    KeyLost {
        /// The idempotency key.
        key: String,
        /// The end of this invocation's hold (the `in_progress_expiration` it wrote),
        /// in milliseconds since the Unix epoch.
        held_until_ms: u64,
    },
    /// The stored record cannot be used: an attribute of the wrong type, an unknown
    /// status, or a response that does not read back as the handler's response type.
    #[error("the idempotency record {key} is corrupted: {reason}")]
    CorruptedRecord {
        /// The idempotency key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The record kept changing between the conditional write and the read that
    /// followed it (deleted or expired in between), three times in a row.
    #[error(
        "the idempotency record {key} changed between writing and reading it three times in a row; \
         retry the invocation"
    )]
    InconsistentRecord {
        /// The idempotency key.
        key: String,
    },
    /// The event (for its key) or the response (to store it) does not serialize to
    /// JSON, or the key function's value does not.
    #[error("{what} cannot be written as JSON for idempotency{}: {source}", for_key(key.as_deref()))]
    NotSerializable {
        /// `the event`, `the response` or `the key function's value`.
        what: &'static str,
        /// The idempotency key, once it is known: for the response.
        key: Option<String>,
        /// serde's error.
        source: serde_json::Error,
    },
}

impl IdempotencyError {
    /// The name Lambda reports for this error (`errorType`): Powertools' (see above).
    ///
    /// ```
    /// use lambda_middleware::middlewares::idempotency::IdempotencyError;
    ///
    /// let error = IdempotencyError::PayloadMismatch { key: "k".into(), part: "/amount".into() };
    /// assert_eq!(error.error_type(), "IdempotencyValidationError");
    /// ```
    pub fn error_type(&self) -> &'static str {
        match self {
            IdempotencyError::AlreadyInProgress { .. } => "IdempotencyAlreadyInProgressError",
            IdempotencyError::PayloadMismatch { .. } => "IdempotencyValidationError",
            IdempotencyError::MissingIdempotencyKey { .. } => "IdempotencyKeyError",
            IdempotencyError::StoreFailed { .. } | IdempotencyError::StoreTimeout { .. } => {
                "IdempotencyPersistenceLayerError"
            }
            IdempotencyError::InconsistentRecord { .. } => "IdempotencyInconsistentStateError",
            IdempotencyError::CorruptedRecord { .. } => "IdempotencyInvalidStatusError",
            IdempotencyError::KeyLost { .. } => "IdempotencyKeyLostError",
            IdempotencyError::NotSerializable { .. } => "IdempotencyNotSerializableError",
        }
    }
}

/// `Name { fields }`, `Name` being [`IdempotencyError::error_type`] and the fields the
/// variant's.
impl fmt::Debug for IdempotencyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct(self.error_type());
        match self {
            IdempotencyError::AlreadyInProgress { key, until_ms } => out.field("key", key).field("until_ms", until_ms),
            IdempotencyError::PayloadMismatch { key, part } => out.field("key", key).field("part", part),
            IdempotencyError::MissingIdempotencyKey { part } => out.field("part", part),
            IdempotencyError::StoreFailed { key, operation, source } => out
                .field("key", key)
                .field("operation", operation)
                .field("source", source),
            IdempotencyError::StoreTimeout {
                key,
                operation,
                timeout,
            } => out
                .field("key", key)
                .field("operation", operation)
                .field("timeout", timeout),
            IdempotencyError::KeyLost { key, held_until_ms } => {
                out.field("key", key).field("held_until_ms", held_until_ms)
            }
            IdempotencyError::CorruptedRecord { key, reason } => out.field("key", key).field("reason", reason),
            IdempotencyError::InconsistentRecord { key } => out.field("key", key),
            IdempotencyError::NotSerializable { what, key, source } => {
                out.field("what", what).field("key", key).field("source", source)
            }
        };
        out.finish()
    }
}

fn for_key(key: Option<&str>) -> String {
    key.map_or_else(String::new, |key| format!(" (key {key})"))
}

fn until(until_ms: Option<u64>) -> String {
    until_ms.map_or_else(String::new, |ms| {
        format!(" (until {ms} ms since the Unix epoch at the latest)")
    })
}

/// What the middleware was doing with the store when a call failed: a phrase that
/// reads alone, and after "while" in the messages of [`IdempotencyError`].
///
/// ```
/// use lambda_middleware::middlewares::idempotency::StoreOperation;
///
/// assert_eq!(StoreOperation::PutInProgress.to_string(), "writing the in-progress record");
/// assert_eq!(StoreOperation::Complete.to_string(), "storing the response");
/// assert_eq!(StoreOperation::Release.to_string(), "deleting the in-progress record");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreOperation {
    /// The conditional write before the handler: the handler did not run.
    PutInProgress,
    /// The read after a refused write: the handler did not run.
    Get,
    /// Storing the response: the handler ran and succeeded, but its response was not
    /// stored, and the key stays in progress until the invocation's deadline.
    Complete,
    /// Deleting the in-progress record after the handler failed (or panicked, or the
    /// invocation was cancelled), so that a retry runs it again: when this fails, the
    /// key stays in progress until the invocation's deadline.
    Release,
}

impl fmt::Display for StoreOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreOperation::PutInProgress => "writing the in-progress record",
            StoreOperation::Get => "reading the record",
            StoreOperation::Complete => "storing the response",
            StoreOperation::Release => "deleting the in-progress record",
        })
    }
}
