//! The process's cold start, one for the whole crate: the invocation that claims it is
//! the cold one for [`InjectLambdaContext`](crate::InjectLambdaContext)'s
//! `cold_start` field, [`CaptureLambdaHandler`](crate::CaptureLambdaHandler)'s
//! `ColdStart` annotation and [`Metrics`](crate::Metrics)' `ColdStart`
//! metric alike.
//!
//! The claim is kept by request id, not by a flag each middleware takes: under
//! `lambda_runtime::run_concurrent` several first invocations run at once, and with a
//! flag per middleware the log line, the annotation and the metric could each go to
//! another of them.

use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use lambda_runtime::Context;

/// The invocation that claimed the cold start, as a hash of its request id: kept without
/// allocating, so that the first invocation costs what the others do.
static COLD: OnceLock<u64> = OnceLock::new();

/// Whether `ctx`'s invocation is the process's cold start: the first invocation to ask,
/// and every later question about that same invocation.
///
/// An invocation without a request id (a `Context::default()` in a test) cannot be told
/// from another: the first question is answered `true`, every other one `false`.
pub(crate) fn is_cold_start(ctx: &Context) -> bool {
    claims(&COLD, &ctx.request_id)
}

/// Whether the invocation `request_id` holds the claim kept in `cold`, claiming it when
/// nobody has yet.
///
/// Request ids are compared by a 64-bit hash: two distinct ids (UUIDs, on Lambda) share
/// one with a chance of one in 2^64.
fn claims(cold: &OnceLock<u64>, request_id: &str) -> bool {
    let id = fingerprint(request_id);
    let mut claimed_now = false;
    let holder = cold.get_or_init(|| {
        claimed_now = true;
        id
    });
    if request_id.is_empty() {
        claimed_now
    } else {
        *holder == id
    }
}

/// A request id's hash, the same in every run (std's `DefaultHasher::new` has fixed keys).
fn fingerprint(request_id: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    request_id.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::claims;

    #[test]
    fn the_first_invocation_to_ask_is_cold_however_often_it_asks() {
        let cold = OnceLock::new();
        // Invocation a asks first (its log line), b asks (its annotation) while a still
        // runs, then a asks again (its metric): a is cold every time, b never.
        assert!(claims(&cold, "a"));
        assert!(!claims(&cold, "b"));
        assert!(claims(&cold, "a"));
        assert!(!claims(&cold, "b"));
    }

    #[test]
    fn without_request_ids_only_the_first_question_is_cold() {
        let cold = OnceLock::new();
        assert!(claims(&cold, ""));
        assert!(!claims(&cold, ""));
        assert!(!claims(&cold, "a"));
    }
}
