//! [`IdempotencyError`]: why an idempotent invocation did not run or did not answer.

use std::fmt;
use std::time::Duration;

use super::store::StoreError;

/// Why [`Idempotent`](super::Idempotent) failed an invocation.
///
/// Lambda reports each variant under its own name as `errorType`
/// (`AlreadyInProgress`, `PayloadMismatch`, …), which Step Functions' `Retry` and
/// `Catch` can match: retry `AlreadyInProgress` after a delay, never retry
/// `PayloadMismatch`.
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
/// assert_eq!(lambda_sees.error_type(), "AlreadyInProgress");
/// ```
#[derive(Debug, thiserror::Error)]
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
    #[error("the event has no idempotency key: {part} found nothing (or null, \"\", [] or {{}})")]
    MissingIdempotencyKey {
        /// The key's part, as [`EventPart`](super::EventPart) displays it.
        part: String,
    },
    /// A store call failed.
    #[error("the idempotency store failed to {operation} {key}: {source}")]
    StoreFailed {
        /// The idempotency key.
        key: String,
        /// What the middleware was doing.
        operation: StoreOperation,
        /// The store's error.
        source: StoreError,
    },
    /// A store call did not answer within `store_timeout`.
    #[error("the idempotency store did not {operation} {key} within {timeout:?}")]
    StoreTimeout {
        /// The idempotency key.
        key: String,
        /// What the middleware was doing.
        operation: StoreOperation,
        /// The `store_timeout` it waited.
        timeout: Duration,
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
    #[error("{what} cannot be written as JSON for idempotency: {source}")]
    NotSerializable {
        /// `the event`, `the response` or `the key function's value`.
        what: &'static str,
        /// serde's error.
        source: serde_json::Error,
    },
}

fn until(until_ms: Option<u64>) -> String {
    until_ms.map_or_else(String::new, |ms| {
        format!(" (until {ms} ms since the Unix epoch at the latest)")
    })
}

/// What the middleware asked the store when it failed, for messages.
///
/// ```
/// use lambda_middleware::middlewares::idempotency::StoreOperation;
///
/// assert_eq!(StoreOperation::PutInProgress.to_string(), "write the in-progress record");
/// let delete = StoreOperation::DeleteAfterFailure { handler_error: "card declined".into() };
/// assert_eq!(
///     delete.to_string(),
///     "delete the in-progress record after the handler failed (card declined), for",
/// );
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
    /// Deleting the in-progress record after the handler failed, so that a retry could
    /// run it again: the key stays in progress until the invocation's deadline.
    DeleteAfterFailure {
        /// The handler's error.
        handler_error: String,
    },
}

impl fmt::Display for StoreOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreOperation::PutInProgress => f.write_str("write the in-progress record"),
            StoreOperation::Get => f.write_str("read the record"),
            StoreOperation::Complete => f.write_str("store the response (the handler ran and succeeded) in"),
            StoreOperation::DeleteAfterFailure { handler_error } => write!(
                f,
                "delete the in-progress record after the handler failed ({handler_error}), for"
            ),
        }
    }
}
