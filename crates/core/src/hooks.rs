//! The hooks form of a middleware: [`before`](crate::Middleware::before),
//! [`after`](crate::Middleware::after) and [`on_error`](crate::Middleware::on_error),
//! synchronous, compiled to a named future.
//!
//! Most middlewares do synchronous work: add headers, check a field, answer a
//! preflight, map an error to a response. For them, a middleware implements the hooks
//! it needs instead of `call` — Middy's `before` / `after` / `onError`, typed:
//!
//! | hook | gets | may |
//! |------|------|-----|
//! | `before` | `&mut E`, the context | change the event; fail (`Err`); answer early ([`Flow::RespondEarly`]) |
//! | `after` | `&mut R`, the context | change the response; fail (`Err`) |
//! | `on_error` | the inner layers' `Error`, the context | pass it on (`Err(error)`), replace it (another `Err`), recover (`Ok(response)`) |
//!
//! The rules are the onion's, the same as for an `async fn call` that does the same
//! steps around `next.run(event).await`:
//!
//! - `before` runs on the way in, outer middlewares' first. An error or an early
//!   response from it skips the inner layers, the handler and this middleware's own
//!   `after`/`on_error`; the outer middlewares get it as usual (their `on_error`, or
//!   their `after`, runs).
//! - `after` runs on the way out on the inner layers' success, inner middlewares' first.
//! - `on_error` runs on the way out on the inner layers' failure; a recovered response
//!   goes on outwards as a success (outer `after`s run on it).
//! - The chain runs the handler between them, exactly once; there is no way for a
//!   hook middleware to skip it other than the explicit early response.
//!
//! A hook middleware has params and tracing like any middleware: a traced one's
//! `## name` span covers its `before`, the inner layers and its `after`/`on_error`.
//!
//! **When `before` runs.** A layer written with hooks works as a tower `Service`
//! does: its `before` runs when the chain reaches the layer — when the middleware
//! outside it calls `next.run(event)`, or when [`Handler::invoke_with`] is called if
//! it is the outermost — and `after`/`on_error` when the inner layers' future
//! completes. An `async fn` middleware's code runs when its future is first polled.
//! The order of the steps is the same either way.
//!
//! **What it costs.** No `async` block: the layer's future is [`Hooked`], an enum of
//! the inner layers' future and a ready outcome, with the middleware, its params and
//! the context for `after`/`on_error`. With every middleware's tracing decided
//! (`.untraced()`, `.traced()`, `TRACE_EXECUTION`), a chain of them on a `u64` costs
//! what hand-written tower layers with named futures cost, and up to 2.8 times
//! their instructions on a struct or a `serde_json::Value`; with tracing left to
//! `POWERTOOLS_TRACE_MIDDLEWARES`, 1.6 to 3.7 times. `benches/compare.sh` measures it
//! (the performance guide of `lambda-middleware`).
//!
//! [`Handler::invoke_with`]: crate::Handler::invoke_with
//!
//! # Example
//!
//! ```
//! # extern crate lambda_middleware_core as lambda_middleware;
//! use lambda_middleware::hooks::Flow;
//! use lambda_middleware::{Context, Error, Handler, Middleware};
//! use serde_json::{json, Value};
//!
//! /// Refuses events without a tenant, tags responses, turns errors into a 500 body.
//! struct Tenant;
//!
//! impl Middleware<Value, Value> for Tenant {
//!     type Params = ();
//!
//!     fn before(&self, _: &(), event: &mut Value, _: &Context) -> Result<Flow<Value>, Error> {
//!         if event["tenant"].is_null() {
//!             return Ok(Flow::RespondEarly(json!({ "statusCode": 400 })));
//!         }
//!         Ok(Flow::Continue)
//!     }
//!
//!     fn after(&self, _: &(), response: &mut Value, _: &Context) -> Result<(), Error> {
//!         response["tagged"] = json!(true);
//!         Ok(())
//!     }
//!
//!     fn on_error(&self, _: &(), error: Error, _: &Context) -> Result<Value, Error> {
//!         Ok(json!({ "statusCode": 500, "body": error.to_string() }))
//!     }
//! }
//!
//! async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
//!     match event["tenant"].as_str() {
//!         Some("acme") => Ok(json!({ "statusCode": 200 })),
//!         _ => Err("unknown tenant".into()),
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
//! let handler = Handler::builder().middleware(Tenant).handler(handler)?;
//! let context = Context::default();
//!
//! let ok = handler.invoke_with(json!({ "tenant": "acme" }), &context).await?;
//! assert_eq!(ok, json!({ "statusCode": 200, "tagged": true }));
//! let early = handler.invoke_with(json!({}), &context).await?;
//! assert_eq!(early, json!({ "statusCode": 400 })); // its own `after` did not run
//! let failed = handler.invoke_with(json!({ "tenant": "other" }), &context).await?;
//! assert_eq!(failed, json!({ "statusCode": 500, "body": "unknown tenant" }));
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::{ManuallyDrop, MaybeUninit, size_of};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context as TaskContext, Poll};

use lambda_runtime::{Context, Error};
use pin_project_lite::pin_project;

use crate::middleware::Middleware;
use crate::next::{NextRun, Proceeded};

/// What [`before`](crate::Middleware::before) decides: go on, or answer early.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::hooks::Flow;
/// use lambda_middleware::{Context, Error, Middleware};
/// use serde_json::{json, Value};
///
/// struct Preflight;
///
/// impl Middleware<Value, Value> for Preflight {
///     type Params = ();
///
///     fn before(&self, _: &(), event: &mut Value, _: &Context) -> Result<Flow<Value>, Error> {
///         Ok(match event["httpMethod"].as_str() {
///             Some("OPTIONS") => Flow::RespondEarly(json!({ "statusCode": 204 })),
///             _ => Flow::Continue,
///         })
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "`before` returns a `Flow`: `Ok(Flow::Continue)` or `Ok(Flow::RespondEarly(response))`"]
pub enum Flow<R> {
    /// Go on: the inner layers and the handler run on the (possibly changed) event.
    Continue,
    /// Answer with this response without the inner layers and the handler: the hook
    /// form of [`Next::respond_early`](crate::Next::respond_early).
    RespondEarly(R),
}

pin_project! {
    /// The future of a layer written with hooks: the inner layers' future with the
    /// middleware's `after` and `on_error` to apply to its outcome, or the outcome
    /// `before` settled.
    ///
    /// What the default [`Middleware::call`] returns; not named by users.
    #[must_use = "futures do nothing unless awaited"]
    pub struct Hooked<'m, 'p, 'n, M, P, E, F, R> {
        #[pin]
        state: State<'m, 'p, 'n, M, P, F, R>,
        _event: PhantomData<fn(E)>,
    }
}

pin_project! {
    #[project = StateProj]
    pub(crate) enum State<'m, 'p, 'n, M, P, F, R> {
        Running {
            #[pin]
            inner: NextRun<'n, F, R>,
            middleware: Lent<'m, M>,
            params: Lent<'p, P>,
            ctx: &'n Context,
        },
        Settled {
            outcome: Settled<'n, R>,
        },
    }
}

/// Runs `before` and, unless it settled the outcome, starts the rest of the chain:
/// the default [`Middleware::call`].
///
/// A macro rather than a function so that the layer's future is `Hooked` of the inner
/// future itself: a generic function would have to return it as an `impl Future`,
/// one more opaque type per layer for the compiler to see through (and one more step
/// towards `recursion_limit` in deep chains).
macro_rules! hooked {
    ($middleware:expr, $params:expr, $event:expr, $next:expr) => {{
        let (middleware, params, mut event, next) = ($middleware, $params, $event, $next);
        // The context `next` carries is the one `call` was given; taking it from
        // `next` makes the future borrow it for `'n`, a lifetime `call` names.
        let ctx = next.context();
        let state = match middleware.before(params, &mut event, ctx) {
            Ok($crate::hooks::Flow::Continue) => $crate::hooks::State::Running {
                inner: next.run(event),
                middleware: $crate::hooks::Lent::new(middleware),
                params: $crate::hooks::Lent::new(params),
                ctx,
            },
            Ok($crate::hooks::Flow::RespondEarly(response)) => $crate::hooks::State::Settled {
                outcome: $crate::hooks::Settled::new(Ok(next.respond_early(response))),
            },
            Err(error) => $crate::hooks::State::Settled {
                outcome: $crate::hooks::Settled::new(Err(error)),
            },
        };
        $crate::hooks::Hooked::new(state)
    }};
}

pub(crate) use hooked;

impl<'m, 'p, 'n, M, P, E, F, R> Hooked<'m, 'p, 'n, M, P, E, F, R> {
    #[inline(always)]
    pub(crate) fn new(state: State<'m, 'p, 'n, M, P, F, R>) -> Self {
        Hooked {
            state,
            _event: PhantomData,
        }
    }
}

impl<M, P, E, F, R> fmt::Debug for Hooked<'_, '_, '_, M, P, E, F, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooked").finish_non_exhaustive()
    }
}

impl<'n, M, P, E, F, R> Future for Hooked<'_, '_, 'n, M, P, E, F, R>
where
    F: Future<Output = Result<R, Error>>,
    M: Middleware<E, R, Params = P>,
{
    type Output = Result<Proceeded<'n, R>, Error>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Running {
                inner,
                middleware,
                params,
                ctx,
            } => match inner.poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Ok(mut proceeded)) => Poll::Ready(
                    middleware
                        .get()
                        .after(params.get(), proceeded.response_mut(), ctx)
                        .map(|()| proceeded),
                ),
                Poll::Ready(Err(failure)) => {
                    let (middleware, params) = (middleware.get(), params.get());
                    Poll::Ready(failure.recover_with(|error| middleware.on_error(params, error, ctx)))
                }
            },
            StateProj::Settled { outcome } => Poll::Ready(outcome.take()),
        }
    }
}

/// A borrow a layer's future keeps for its `after`/`on_error`, stored only when it
/// points at data: a borrow of a zero-sized value (a middleware without fields, `()`
/// params) is made again from nothing when it is used, so that a chain's future held
/// in memory (a `tower::Service` invocation's slot) does not store and load it in
/// every layer. A middleware cannot be told apart by its address when it has no
/// bytes to be at.
pub(crate) struct Lent<'a, T>(MaybeUninit<&'a T>);

impl<'a, T> Lent<'a, T> {
    #[inline(always)]
    pub(crate) fn new(borrow: &'a T) -> Self {
        if size_of::<T>() == 0 {
            Lent(MaybeUninit::uninit())
        } else {
            Lent(MaybeUninit::new(borrow))
        }
    }

    #[inline(always)]
    fn get(&self) -> &'a T {
        if size_of::<T>() == 0 {
            // SAFETY: `T` is zero-sized, so a dangling, aligned, non-null pointer is a
            // valid reference to it, for any lifetime; a value of `T` exists for `'a`
            // (the one `new` was given).
            unsafe { NonNull::<T>::dangling().as_ref() }
        } else {
            // SAFETY: written by `new` when `T` is not zero-sized.
            unsafe { self.0.assume_init() }
        }
    }
}

/// The outcome `before` settled, until the layer's future is polled.
///
/// Its drop is one test and a call to an outlined function: dropping a chain's future
/// goes through every layer, and a layer that carried the drop code of an error and a
/// response inline would make that code too large to inline into the caller, which
/// then has to keep every layer's state in memory (`benches/`: about 5 instructions a
/// layer).
pub(crate) struct Settled<'n, R>(ManuallyDrop<Option<Result<Proceeded<'n, R>, Error>>>);

impl<'n, R> Settled<'n, R> {
    #[inline(always)]
    pub(crate) fn new(outcome: Result<Proceeded<'n, R>, Error>) -> Self {
        Settled(ManuallyDrop::new(Some(outcome)))
    }

    #[inline(always)]
    fn take(&mut self) -> Result<Proceeded<'n, R>, Error> {
        self.0
            .take()
            .expect("a middleware's future was polled after it completed")
    }
}

impl<R> Drop for Settled<'_, R> {
    #[inline(always)]
    fn drop(&mut self) {
        if self.0.is_some() {
            // SAFETY: the field is dropped here only, once; nothing reads it after.
            drop_outcome(unsafe { ManuallyDrop::take(&mut self.0) });
        }
    }
}

#[cold]
#[inline(never)]
fn drop_outcome<T>(outcome: T) {
    drop(outcome);
}
