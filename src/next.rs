//! [`Next`], [`Proceeded`] and [`Failure`]: the type-state proof that a middleware
//! called the rest of its chain.
//!
//! A middleware returns `Result<Proceeded<R>, Error>`. `Proceeded` has no public
//! constructor, so the only ways to return `Ok` are the ones on this page:
//!
//! | how                              | what happened                                       |
//! |----------------------------------|-----------------------------------------------------|
//! | [`Next::run`] returned `Ok`      | the inner layers and the handler ran and succeeded  |
//! | [`Failure::recover`]             | they ran, failed, and the middleware chose a response |
//! | [`Next::respond_early`]          | the middleware answered on purpose without them     |
//!
//! `Next` is consumed by all three, so it cannot run twice, and forgetting it leaves
//! the middleware with nothing to return but an error.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use lambda_runtime::{Context, Error};

use crate::chain::Invoke;

/// The rest of the chain, handed to a middleware to run once.
///
/// `Next` is consumed by [`run`](Next::run) and by [`respond_early`](Next::respond_early),
/// so a middleware can use it at most once, and it is the only source of a
/// [`Proceeded`], so a middleware that never uses it cannot succeed.
///
/// `I` is the rest of the chain; middlewares stay generic over it
/// (`I: Invoke<E, Response = R>`), which is what lets every call be dispatched
/// statically.
///
/// # Example
///
/// ```
/// use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
/// use serde_json::Value;
///
/// struct Timing;
///
/// impl Middleware<Value, Value> for Timing {
///     type Params = ();
///
///     async fn call<I>(&self, _: &(), event: Value, _: &Context, next: Next<'_, I>)
///         -> Result<Proceeded<Value>, Error>
///     where
///         I: Invoke<Value, Response = Value>,
///     {
///         let started = std::time::Instant::now();          // before the handler
///         let response = next.run(event).await?;            // the inner layers and the handler
///         println!("took {:?}", started.elapsed());          // after the handler
///         Ok(response)
///     }
/// }
/// ```
#[must_use = "a middleware that drops `Next` can only fail: call `next.run(event)` or `next.respond_early(response)`"]
pub struct Next<'a, I> {
    inner: I,
    ctx: &'a Context,
}

impl<'a, I> Next<'a, I> {
    pub(crate) fn new(inner: I, ctx: &'a Context) -> Self {
        Next { inner, ctx }
    }

    /// Runs the inner middlewares and the handler on `event`.
    ///
    /// `Ok` carries the response as a [`Proceeded`], ready to be returned (or changed
    /// with [`Proceeded::map`] / [`Proceeded::response_mut`] first). `Err` carries a
    /// [`Failure`]: pass it on with `?`, look at it with [`Failure::error`], replace it,
    /// or turn it into a response with [`Failure::recover`].
    ///
    /// # Example
    ///
    /// ```
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::{json, Value};
    /// struct Fallback;
    ///
    /// impl Middleware<Value, Value> for Fallback {
    ///     type Params = ();
    ///
    ///     async fn call<I>(&self, _: &(), event: Value, _: &Context, next: Next<'_, I>)
    ///         -> Result<Proceeded<Value>, Error>
    ///     where
    ///         I: Invoke<Value, Response = Value>,
    ///     {
    ///         match next.run(event).await {
    ///             Ok(response) => Ok(response),
    ///             Err(failure) => Ok(failure.recover(json!({ "ok": false }))),
    ///         }
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let handler = lambda_middleware::Handler::builder()
    ///     .middleware(Fallback)
    ///     .handler(|_: lambda_runtime::LambdaEvent<Value>| async { Err::<Value, Error>("boom".into()) })?;
    /// let response = handler.invoke(lambda_runtime::LambdaEvent::new(json!(1), Context::default())).await?;
    /// assert_eq!(response, json!({ "ok": false }));
    /// # Ok(()) }
    /// ```
    #[inline]
    pub fn run<E>(self, event: E) -> NextRun<impl Future<Output = Result<Proceeded<I::Response>, Error>>>
    where
        I: Invoke<E>,
    {
        NextRun {
            inner: self.inner.invoke(event, self.ctx),
        }
    }

    /// Answers with `response` without running the inner middlewares or the handler.
    ///
    /// This is the one, named, way to succeed without the handler (a cache hit, a
    /// warm-up ping, a CORS preflight). Outer middlewares still get the response back
    /// and run their after-logic; [`Proceeded::is_early`] tells them it was early.
    ///
    /// # Example
    ///
    /// ```
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::{json, Value};
    /// struct Warmup;
    ///
    /// impl Middleware<Value, Value> for Warmup {
    ///     type Params = ();
    ///
    ///     async fn call<I>(&self, _: &(), event: Value, _: &Context, next: Next<'_, I>)
    ///         -> Result<Proceeded<Value>, Error>
    ///     where
    ///         I: Invoke<Value, Response = Value>,
    ///     {
    ///         if event["source"] == "serverless-plugin-warmup" {
    ///             return Ok(next.respond_early(json!("warm")));
    ///         }
    ///         Ok(next.run(event).await?)
    ///     }
    /// }
    /// ```
    #[inline]
    pub fn respond_early<R>(self, response: R) -> Proceeded<R> {
        Proceeded { response, early: true }
    }

    /// The invocation's Lambda context (the same one the middleware was given).
    ///
    /// ```
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::Value;
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<I>(&self, _: &(), event: Value, _: &Context, next: Next<'_, I>)
    ///     -> Result<Proceeded<Value>, Error>
    /// where
    ///     I: Invoke<Value, Response = Value>,
    /// {
    ///     let request_id = next.context().request_id.clone();
    ///     let response = next.run(event).await?;
    ///     Ok(response.map(|mut body| { body["request_id"] = request_id.into(); body }))
    /// }
    /// # }
    /// ```
    pub fn context(&self) -> &'a Context {
        self.ctx
    }
}

impl<I> fmt::Debug for Next<'_, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next")
            .field("request_id", &self.ctx.request_id)
            .finish_non_exhaustive()
    }
}

/// The future returned by [`Next::run`].
///
/// A named future rather than an `async` block: it keeps each layer of the chain a
/// few bytes long and lets the compiler inline straight through it (see the crate
/// docs, "Zero cost").
#[must_use = "futures do nothing unless awaited"]
pub struct NextRun<F> {
    inner: F,
}

impl<F> fmt::Debug for NextRun<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NextRun").finish_non_exhaustive()
    }
}

impl<F, R> Future for NextRun<F>
where
    F: Future<Output = Result<Proceeded<R>, Error>>,
{
    type Output = Result<Proceeded<R>, Failure>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        // SAFETY: `inner` is structurally pinned: it is never moved out of `self`,
        // and `NextRun` has no `Drop` impl and is not `Unpin` unless `F` is.
        let inner = unsafe { self.map_unchecked_mut(|this| &mut this.inner) };
        match inner.poll(cx) {
            Poll::Ready(Ok(proceeded)) => Poll::Ready(Ok(Proceeded {
                response: proceeded.response,
                early: false,
            })),
            Poll::Ready(Err(error)) => Poll::Ready(Err(Failure { error })),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Proof that a middleware ran the rest of its chain (or answered early on purpose),
/// carrying the response.
///
/// Only [`Next::run`], [`Failure::recover`] and [`Next::respond_early`] make one: it
/// has no public constructor and implements none of `Default`, `Clone`, `From` or
/// `Deserialize`. That is what turns "this middleware forgot to call the handler"
/// into a compile error.
///
/// # Example
///
/// ```
/// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
/// # use serde_json::{json, Value};
/// struct Stamp;
///
/// impl Middleware<Value, Value> for Stamp {
///     type Params = ();
///
///     async fn call<I>(&self, _: &(), event: Value, _: &Context, next: Next<'_, I>)
///         -> Result<Proceeded<Value>, Error>
///     where
///         I: Invoke<Value, Response = Value>,
///     {
///         let mut response = next.run(event).await?;
///         response.response_mut()["stamped"] = json!(true);
///         Ok(response)
///     }
/// }
/// ```
#[must_use = "a `Proceeded` is the response: return it with `Ok(..)`"]
pub struct Proceeded<R> {
    response: R,
    early: bool,
}

impl<R> Proceeded<R> {
    /// Made only by the chain itself, when the handler returns.
    #[inline]
    pub(crate) fn handled(response: R) -> Self {
        Proceeded { response, early: false }
    }

    /// The response.
    ///
    /// ```
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::Value;
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<I>(&self, _: &(), event: Value, _: &Context, next: Next<'_, I>)
    ///     -> Result<Proceeded<Value>, Error>
    /// where
    ///     I: Invoke<Value, Response = Value>,
    /// {
    ///     let response = next.run(event).await?;
    ///     tracing::info!(status = %response.response()["statusCode"], "answered");
    ///     Ok(response)
    /// }
    /// # }
    /// ```
    pub fn response(&self) -> &R {
        &self.response
    }

    /// The response, to change in place.
    ///
    /// ```
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::{json, Value};
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<I>(&self, _: &(), event: Value, _: &Context, next: Next<'_, I>)
    ///     -> Result<Proceeded<Value>, Error>
    /// where
    ///     I: Invoke<Value, Response = Value>,
    /// {
    ///     let mut response = next.run(event).await?;
    ///     response.response_mut()["headers"]["x-powered-by"] = json!("lambda-middleware");
    ///     Ok(response)
    /// }
    /// # }
    /// ```
    pub fn response_mut(&mut self) -> &mut R {
        &mut self.response
    }

    /// Changes the response, keeping the proof.
    ///
    /// The middleware trait fixes one response type per chain, so `map` keeps it.
    ///
    /// ```
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::{json, Value};
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<I>(&self, _: &(), event: Value, _: &Context, next: Next<'_, I>)
    ///     -> Result<Proceeded<Value>, Error>
    /// where
    ///     I: Invoke<Value, Response = Value>,
    /// {
    ///     Ok(next.run(event).await?.map(|body| json!({ "data": body })))
    /// }
    /// # }
    /// ```
    #[inline]
    pub fn map(self, f: impl FnOnce(R) -> R) -> Self {
        Proceeded {
            response: f(self.response),
            early: self.early,
        }
    }

    /// `true` when this response came from [`Next::respond_early`] in the middleware
    /// that returned it, so the handler did not run for it.
    ///
    /// Outer middlewares see `false`: for them, their own `next` did run.
    ///
    /// ```
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::Value;
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<I>(&self, _: &(), event: Value, _: &Context, next: Next<'_, I>)
    ///     -> Result<Proceeded<Value>, Error>
    /// where
    ///     I: Invoke<Value, Response = Value>,
    /// {
    ///     let answer = next.respond_early(Value::Null);
    ///     assert!(answer.is_early());
    ///     Ok(answer)
    /// }
    /// # }
    /// ```
    pub fn is_early(&self) -> bool {
        self.early
    }

    /// Takes the response out. The proof is gone: use this at the edge of the chain,
    /// not to build a response for a middleware to return.
    #[inline]
    pub(crate) fn into_response(self) -> R {
        self.response
    }
}

impl<R: fmt::Debug> fmt::Debug for Proceeded<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proceeded")
            .field("response", &self.response)
            .field("early", &self.early)
            .finish()
    }
}

/// The inner layers or the handler failed: what [`Next::run`] returns instead of a
/// [`Proceeded`].
///
/// - pass it on: `next.run(event).await?` (the original error reaches the caller
///   unchanged: `Failure` converts back into the boxed error it carries);
/// - look at it: [`error`](Failure::error), [`is`](Failure::is), [`downcast_ref`](Failure::downcast_ref);
/// - replace it: return any other `Err`;
/// - recover: [`recover`](Failure::recover) turns it into a response.
///
/// Like [`Proceeded`], it cannot be made outside the crate, so recovering is
/// possible only after the chain really ran.
///
/// # Example
///
/// ```
/// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
/// # use serde_json::{json, Value};
/// struct LogErrors;
///
/// impl Middleware<Value, Value> for LogErrors {
///     type Params = ();
///
///     async fn call<I>(&self, _: &(), event: Value, _: &Context, next: Next<'_, I>)
///         -> Result<Proceeded<Value>, Error>
///     where
///         I: Invoke<Value, Response = Value>,
///     {
///         match next.run(event).await {
///             Ok(response) => Ok(response),
///             Err(failure) => {
///                 tracing::error!(error = %failure, "the handler failed");
///                 Err(failure.into())
///             }
///         }
///     }
/// }
/// ```
pub struct Failure {
    error: Error,
}

impl Failure {
    /// The error, to look at.
    ///
    /// ```
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::Value;
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<I>(&self, _: &(), event: Value, _: &Context, next: Next<'_, I>)
    ///     -> Result<Proceeded<Value>, Error>
    /// where
    ///     I: Invoke<Value, Response = Value>,
    /// {
    ///     next.run(event).await.map_err(|failure| {
    ///         eprintln!("failed: {}", failure.error());
    ///         failure.into()
    ///     })
    /// }
    /// # }
    /// ```
    pub fn error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.error
    }

    /// `true` when the error is a `T`.
    ///
    /// ```
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::{json, Value};
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<I>(&self, _: &(), event: Value, _: &Context, next: Next<'_, I>)
    ///     -> Result<Proceeded<Value>, Error>
    /// where
    ///     I: Invoke<Value, Response = Value>,
    /// {
    ///     match next.run(event).await {
    ///         Err(failure) if failure.is::<serde_json::Error>() => Ok(failure.recover(json!({ "status": 400 }))),
    ///         other => Ok(other?),
    ///     }
    /// }
    /// # }
    /// ```
    pub fn is<T: std::error::Error + 'static>(&self) -> bool {
        self.error.is::<T>()
    }

    /// The error as a `T`, when it is one.
    ///
    /// ```
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::{json, Value};
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<I>(&self, _: &(), event: Value, _: &Context, next: Next<'_, I>)
    ///     -> Result<Proceeded<Value>, Error>
    /// where
    ///     I: Invoke<Value, Response = Value>,
    /// {
    ///     match next.run(event).await {
    ///         Err(failure) => match failure.downcast_ref::<std::io::Error>() {
    ///             Some(io) => Err(format!("storage unavailable: {io}").into()),
    ///             None => Err(failure.into()),
    ///         },
    ///         ok => Ok(ok?),
    ///     }
    /// }
    /// # }
    /// ```
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.error.downcast_ref::<T>()
    }

    /// Recovers from the failure with `response`: the chain ran, failed, and this
    /// middleware decided what to answer instead.
    ///
    /// ```
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::{json, Value};
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<I>(&self, _: &(), event: Value, _: &Context, next: Next<'_, I>)
    ///     -> Result<Proceeded<Value>, Error>
    /// where
    ///     I: Invoke<Value, Response = Value>,
    /// {
    ///     Ok(next.run(event).await.unwrap_or_else(|failure| {
    ///         let message = failure.to_string();
    ///         failure.recover(json!({ "statusCode": 500, "body": message }))
    ///     }))
    /// }
    /// # }
    /// ```
    #[inline]
    pub fn recover<R>(self, response: R) -> Proceeded<R> {
        Proceeded { response, early: false }
    }

    /// The error itself, boxed as `lambda_runtime` carries it. Same as `Error::from(failure)`.
    ///
    /// ```
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::Value;
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<I>(&self, _: &(), event: Value, _: &Context, next: Next<'_, I>)
    ///     -> Result<Proceeded<Value>, Error>
    /// where
    ///     I: Invoke<Value, Response = Value>,
    /// {
    ///     next.run(event).await.map_err(|failure| failure.into_error())
    /// }
    /// # }
    /// ```
    pub fn into_error(self) -> Error {
        self.error
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Failure").field("error", &self.error).finish()
    }
}

/// `?` on a [`Failure`] passes the original error on, unwrapped.
impl From<Failure> for Error {
    #[inline]
    fn from(failure: Failure) -> Self {
        failure.error
    }
}
