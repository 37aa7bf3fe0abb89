//! [`Timeout`]: fail with a useful error a margin before Lambda's deadline, instead of
//! being killed at it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::{Context, Error};
use typed_builder::TypedBuilder;

use crate::chain::Invoke;
use crate::middleware::Middleware;
use crate::next::{Next, Proceeded};

/// Fails the invocation with a [`TimeoutError`] a `margin`
/// before the Lambda deadline, so the function reports what happened instead of being
/// killed with `Task timed out` and no word from the code — Middy's
/// `timeoutEarlyInMillis`. Feature `timeout`.
///
/// The deadline is `Context::deadline` (milliseconds since the Unix epoch). When it is
/// absent (`0`) or already past when the middleware starts — `cargo lambda`'s emulator
/// sends one far in the past — there is no deadline and the chain runs unbounded. When
/// it is closer than the margin, the chain gets no time: it fails at once unless it
/// answers without waiting.
///
/// When the time is up, the inner middlewares' and the handler's future is dropped: the
/// work stops at its next `.await` (blocking code is not interrupted), their after-logic
/// does not run, and the outer middlewares see the `TimeoutError` — which
/// `HttpErrorHandler` answers with 504.
///
/// It needs a Tokio runtime with the time driver, which `#[tokio::main]` (where
/// `lambda_runtime::run` is usually awaited) has: the feature turns on Tokio's `time`.
/// Works with any event and response type. Add it last, closest to the handler. Its
/// name for tracing is `timeout`.
///
/// # Example
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use lambda_middleware::timeout::{Timeout, TimeoutError, TimeoutParams};
/// use lambda_middleware::{Context, Error, Handler};
///
/// async fn slow(_: String, _: &Context) -> Result<String, Error> {
///     std::future::pending().await // never answers
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let params = TimeoutParams::builder().margin(Duration::from_millis(990)).build();
/// let handler = Handler::builder().middleware_with(Timeout, params).handler(slow)?;
///
/// let mut context = Context::default();
/// let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64;
/// context.deadline = now + 1000; // one second left: the middleware gives up after ~10 ms
///
/// let error = handler.invoke_with("hello".into(), &context).await.unwrap_err();
/// let timeout = error.downcast_ref::<TimeoutError>().unwrap();
/// assert_eq!(timeout.deadline_ms(), now + 1000);
/// assert_eq!(timeout.margin(), Duration::from_millis(990));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Timeout;

/// How early [`Timeout`] gives up.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use std::time::Duration;
/// use lambda_middleware::timeout::TimeoutParams;
///
/// let default = TimeoutParams::builder().build(); // 500 ms before the deadline
/// let params = TimeoutParams::builder().margin(Duration::from_secs(2)).build();
/// ```
#[derive(Debug, Clone, Copy, TypedBuilder)]
pub struct TimeoutParams {
    /// How long before the deadline to fail: time for the error to be logged and
    /// reported. Default: 500 ms.
    #[builder(default = Duration::from_millis(500))]
    margin: Duration,
}

impl Default for TimeoutParams {
    fn default() -> Self {
        TimeoutParams::builder().build()
    }
}

/// The invocation was stopped a margin before its deadline.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use std::time::Duration;
/// use lambda_middleware::timeout::TimeoutError;
///
/// fn report(error: &TimeoutError) -> String {
///     format!("gave up {:?} early, after {:?}", error.margin(), error.budget())
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the invocation did not finish in time: stopped {margin:?} before its deadline \
     ({deadline_ms} ms since the Unix epoch), after the {budget:?} it had"
)]
pub struct TimeoutError {
    deadline_ms: u64,
    margin: Duration,
    budget: Duration,
}

impl TimeoutError {
    /// The Lambda deadline, in milliseconds since the Unix epoch.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// # use lambda_middleware::timeout::TimeoutError;
    /// fn deadline(error: &TimeoutError) -> u64 { error.deadline_ms() }
    /// ```
    pub fn deadline_ms(&self) -> u64 {
        self.deadline_ms
    }

    /// The margin it was stopped with.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// # use lambda_middleware::timeout::TimeoutError;
    /// fn margin(error: &TimeoutError) -> std::time::Duration { error.margin() }
    /// ```
    pub fn margin(&self) -> Duration {
        self.margin
    }

    /// How long the inner chain was given: the time left at the start, less the margin.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// # use lambda_middleware::timeout::TimeoutError;
    /// fn budget(error: &TimeoutError) -> std::time::Duration { error.budget() }
    /// ```
    pub fn budget(&self) -> Duration {
        self.budget
    }
}

/// The time left until `deadline_ms`, or `None` when there is no usable deadline.
fn remaining(deadline_ms: u64, now: SystemTime) -> Option<Duration> {
    if deadline_ms == 0 {
        return None;
    }
    let now = now.duration_since(UNIX_EPOCH).ok()?;
    let deadline = Duration::from_millis(deadline_ms);
    deadline.checked_sub(now).filter(|left| !left.is_zero())
}

impl<E: Send, R: Send> Middleware<E, R> for Timeout {
    type Params = TimeoutParams;

    fn name(&self) -> &'static str {
        "timeout"
    }

    async fn call<'n, I>(
        &self,
        params: &TimeoutParams,
        event: E,
        ctx: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<E, Response = R>,
    {
        let Some(left) = remaining(ctx.deadline, SystemTime::now()) else {
            return Ok(next.run(event).await?);
        };
        let budget = left.saturating_sub(params.margin);
        match tokio::time::timeout(budget, next.run(event)).await {
            Ok(outcome) => Ok(outcome?),
            Err(_elapsed) => {
                let error = TimeoutError {
                    deadline_ms: ctx.deadline,
                    margin: params.margin,
                    budget,
                };
                tracing::error!(%error, "stopping the invocation before Lambda's deadline");
                Err(error.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::remaining;

    #[test]
    fn absent_and_past_deadlines_are_no_deadline() {
        let now = UNIX_EPOCH + Duration::from_millis(1_700_000_000_000);
        assert_eq!(remaining(0, now), None);
        assert_eq!(remaining(1_000, now), None); // far in the past, like cargo lambda's emulator
        assert_eq!(remaining(1_700_000_000_000, now), None);
        assert_eq!(remaining(1_700_000_003_000, now), Some(Duration::from_secs(3)));
        assert_eq!(remaining(u64::MAX, now).map(|d| d > Duration::from_secs(1)), Some(true));
    }
}
