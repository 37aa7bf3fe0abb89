//! [`Next`], [`Proceeded`] and [`Failure`]: the branded proof that a middleware
//! called the rest of its chain.
//!
//! A middleware returns `Result<Proceeded<'n, R>, Error>`. `Proceeded` has no public
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
//!
//! # The brand `'n`
//!
//! `Next<'n, I>`, `Proceeded<'n, R>` and `Failure<'n, R>` carry one lifetime, `'n`,
//! that names one call of one middleware. It is *invariant* (the compiler may neither
//! shorten nor lengthen it), and `call` is generic over it, so inside `call` the only
//! values of type `Proceeded<'n, R>` are the ones this call's `Next` made: a proof kept
//! from an earlier invocation (in a field, a `static`, a channel), a `Failure` kept and
//! recovered later, or a proof made by another chain has another `'n`, and returning
//! it does not compile. This is the "generativity" technique of GhostCell: a brand
//! that only one scope can name.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use lambda_runtime::{Context, Error};
use pin_project_lite::pin_project;

use crate::chain::{Invoke, Respond, Token};

/// The invariant lifetime that ties a proof to one call: `fn(&'n ()) -> &'n ()` is
/// contravariant in `'n` through its argument and covariant through its result, so
/// invariant; it is `Send + Sync + Copy` and holds nothing.
type Brand<'n> = PhantomData<fn(&'n ()) -> &'n ()>;

/// The rest of the chain, handed to a middleware to run once.
///
/// `Next` is consumed by [`run`](Next::run) and by [`respond_early`](Next::respond_early),
/// so a middleware can use it at most once, and it is the only source of a
/// [`Proceeded`], so a middleware that never uses it cannot succeed.
///
/// `'n` brands this one call: the [`Proceeded`] that `Next` gives back carries it, and
/// `call` must return a `Proceeded<'n, R>` with the same `'n`, so a proof from another
/// call, another invocation or another chain is refused by the compiler. `I` is the
/// rest of the chain; middlewares stay generic over it (`I: Invoke<E, Response = R>`),
/// which is what lets every call be dispatched statically. `O` is the response type of
/// the middleware itself, the one [`respond_early`](Next::respond_early) and
/// [`Failure::recover`] answer with: the rest of the chain's own, unless the middleware
/// changes it (a [`Transform`](crate::Transform)).
///
/// # Example
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
/// use serde_json::Value;
///
/// struct Timing;
///
/// impl Middleware<Value, Value> for Timing {
///     type Params = ();
///
///     async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>)
///         -> Result<Proceeded<'n, Value>, Error>
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
pub struct Next<'n, I: Respond, O = <I as Respond>::Response> {
    rest: I,
    ctx: &'n Context,
    _brand: Brand<'n>,
    _response: PhantomData<fn() -> O>,
}

impl<'n, I: Respond, O> Next<'n, I, O> {
    #[inline(always)]
    pub(crate) fn new(rest: I, ctx: &'n Context) -> Self {
        Next {
            rest,
            ctx,
            _brand: PhantomData,
            _response: PhantomData,
        }
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
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::{json, Value};
    /// struct Fallback;
    ///
    /// impl Middleware<Value, Value> for Fallback {
    ///     type Params = ();
    ///
    ///     async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>)
    ///         -> Result<Proceeded<'n, Value>, Error>
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
    #[inline(always)]
    pub fn run<E>(self, event: E) -> NextRun<'n, impl Future<Output = Result<I::Response, Error>> + Send, O>
    where
        I: Invoke<E>,
    {
        NextRun {
            inner: self.rest.invoke(event, self.ctx, Token(())),
            _brand: PhantomData,
            _response: PhantomData,
        }
    }

    /// Answers with `response` without running the inner middlewares or the handler.
    ///
    /// This is the one, named, way to succeed without the handler (a cache hit, a
    /// warm-up ping, a CORS preflight). The response is of the chain's own response
    /// type. Outer middlewares still get the response back and run their after-logic;
    /// [`Proceeded::is_early`] tells this middleware's own code that it was early.
    ///
    /// # Example
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::{json, Value};
    /// struct Warmup;
    ///
    /// impl Middleware<Value, Value> for Warmup {
    ///     type Params = ();
    ///
    ///     async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>)
    ///         -> Result<Proceeded<'n, Value>, Error>
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
    #[inline(always)]
    pub fn respond_early(self, response: O) -> Proceeded<'n, O> {
        proof(response, true)
    }

    /// The invocation's Lambda context (the same one the middleware was given).
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::Value;
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>)
    ///     -> Result<Proceeded<'n, Value>, Error>
    /// where
    ///     I: Invoke<Value, Response = Value>,
    /// {
    ///     let request_id = next.context().request_id.clone();
    ///     let response = next.run(event).await?;
    ///     Ok(response.map(|mut body| { body["request_id"] = request_id.into(); body }))
    /// }
    /// # }
    /// ```
    pub fn context(&self) -> &'n Context {
        self.ctx
    }
}

impl<I: Respond, O> fmt::Debug for Next<'_, I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next")
            .field("request_id", &self.ctx.request_id)
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// The future returned by [`Next::run`]: the rest of the chain, whose outcome it
    /// hands back branded with this call's `'n` (a failure to recover from with a
    /// response of type `O`, the middleware's own).
    ///
    /// A named future rather than an `async` block, so that it adds nothing to the
    /// layer's state but the inner future itself.
    #[must_use = "futures do nothing unless awaited"]
    pub struct NextRun<'n, F, O> {
        #[pin]
        inner: F,
        _brand: Brand<'n>,
        _response: PhantomData<fn() -> O>,
    }
}

impl<F, O> fmt::Debug for NextRun<'_, F, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NextRun").finish_non_exhaustive()
    }
}

impl<'n, F, R, O> Future for NextRun<'n, F, O>
where
    F: Future<Output = Result<R, Error>>,
{
    type Output = Result<Proceeded<'n, R>, Failure<'n, O>>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        match self.project().inner.poll(cx) {
            Poll::Ready(Ok(response)) => Poll::Ready(Ok(proof(response, false))),
            Poll::Ready(Err(error)) => Poll::Ready(Err(failure(error))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Proof that a middleware ran the rest of its chain (or answered early on purpose),
/// carrying the response.
///
/// Only [`Next::run`], [`Failure::recover`] (and [`Failure::recover_with`]) and
/// [`Next::respond_early`] make one: it
/// has no public constructor and implements none of `Default`, `Clone`, `From` or
/// `Deserialize`. That is what turns "this middleware forgot to call the handler"
/// into a compile error.
///
/// `'n` is the brand of the one call that made it (see [`Next`]): a middleware's `call`
/// returns `Proceeded<'n, R>` with its own `'n`, which is why a proof cannot be kept
/// for a later invocation or borrowed from another chain.
///
/// # Example
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
/// # use serde_json::{json, Value};
/// struct Stamp;
///
/// impl Middleware<Value, Value> for Stamp {
///     type Params = ();
///
///     async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>)
///         -> Result<Proceeded<'n, Value>, Error>
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
pub struct Proceeded<'n, R> {
    response: R,
    early: bool,
    _brand: Brand<'n>,
}

/// Makes a proof: for the chain's own glue only (a free function, so that the
/// compiler never suggests it to a user who tries to build a `Proceeded`).
#[inline(always)]
pub(crate) fn proof<'n, R>(response: R, early: bool) -> Proceeded<'n, R> {
    Proceeded {
        response,
        early,
        _brand: PhantomData,
    }
}

/// Makes a failure, for [`NextRun`] only.
#[inline(always)]
fn failure<'n, R>(error: Error) -> Failure<'n, R> {
    Failure {
        error,
        _brand: PhantomData,
        _response: PhantomData,
    }
}

impl<'n, R> Proceeded<'n, R> {
    /// The response.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::Value;
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>)
    ///     -> Result<Proceeded<'n, Value>, Error>
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
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::{json, Value};
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>)
    ///     -> Result<Proceeded<'n, Value>, Error>
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

    /// Changes the response, keeping the proof (and its brand).
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::{json, Value};
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>)
    ///     -> Result<Proceeded<'n, Value>, Error>
    /// where
    ///     I: Invoke<Value, Response = Value>,
    /// {
    ///     Ok(next.run(event).await?.map(|body| json!({ "data": body })))
    /// }
    /// # }
    /// ```
    #[inline(always)]
    pub fn map<S>(self, f: impl FnOnce(R) -> S) -> Proceeded<'n, S> {
        proof(f(self.response), self.early)
    }

    /// Changes the response with a step that may fail, keeping the proof on success.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::{json, Value};
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>)
    ///     -> Result<Proceeded<'n, Value>, Error>
    /// where
    ///     I: Invoke<Value, Response = Value>,
    /// {
    ///     next.run(event).await?.try_map(|body| Ok(json!({ "text": serde_json::to_string(&body)? })))
    /// }
    /// # }
    /// ```
    #[inline(always)]
    pub fn try_map<S>(self, f: impl FnOnce(R) -> Result<S, Error>) -> Result<Proceeded<'n, S>, Error> {
        let early = self.early;
        f(self.response).map(|response| proof(response, early))
    }

    /// `true` when this response came from [`Next::respond_early`] in the middleware
    /// that returned it, so the handler did not run for it.
    ///
    /// Outer middlewares see `false`: for them, their own `next` did run.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::Value;
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>)
    ///     -> Result<Proceeded<'n, Value>, Error>
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

    /// The response apart from the proof, which keeps its brand: for a hosted tower
    /// layer, which gets the response while the proof waits for the layer's answer.
    #[inline(always)]
    pub(crate) fn split(self) -> (R, Proceeded<'n, ()>) {
        (self.response, proof((), self.early))
    }

    /// Takes the response out. The proof is gone: used by the chain at the edge of a
    /// layer, never handed to a middleware.
    #[inline(always)]
    pub(crate) fn into_response(self) -> R {
        self.response
    }
}

impl<R: fmt::Debug> fmt::Debug for Proceeded<'_, R> {
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
/// - recover: [`recover`](Failure::recover) turns it into a response of the chain's
///   response type `R`.
///
/// Like [`Proceeded`], it cannot be made outside the crate and carries the brand `'n`
/// of the call whose `next` failed, so recovering is possible only in that call,
/// after the chain really ran.
///
/// # Example
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
/// # use serde_json::{json, Value};
/// struct LogErrors;
///
/// impl Middleware<Value, Value> for LogErrors {
///     type Params = ();
///
///     async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>)
///         -> Result<Proceeded<'n, Value>, Error>
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
pub struct Failure<'n, R> {
    error: Error,
    _brand: Brand<'n>,
    _response: PhantomData<fn() -> R>,
}

impl<'n, R> Failure<'n, R> {
    /// The error, to look at.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::Value;
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>)
    ///     -> Result<Proceeded<'n, Value>, Error>
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
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::{json, Value};
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>)
    ///     -> Result<Proceeded<'n, Value>, Error>
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
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::{json, Value};
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>)
    ///     -> Result<Proceeded<'n, Value>, Error>
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
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::{json, Value};
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>)
    ///     -> Result<Proceeded<'n, Value>, Error>
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
    #[inline(always)]
    pub fn recover(self, response: R) -> Proceeded<'n, R> {
        proof(response, false)
    }

    /// Hands the error to `decide`, by value: `Ok(response)` recovers with that response
    /// (as [`recover`](Failure::recover) does), `Err(error)` fails with that error (the
    /// same one, passed on, or another). For when deciding needs to own the error.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::{json, Value};
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>)
    ///     -> Result<Proceeded<'n, Value>, Error>
    /// where
    ///     I: Invoke<Value, Response = Value>,
    /// {
    ///     match next.run(event).await {
    ///         Ok(response) => Ok(response),
    ///         Err(failure) => failure.recover_with(|error| match error.downcast::<std::io::Error>() {
    ///             Ok(io) => Ok(json!({ "statusCode": 503, "body": io.to_string() })),
    ///             Err(other) => Err(other),
    ///         }),
    ///     }
    /// }
    /// # }
    /// ```
    #[inline(always)]
    pub fn recover_with(self, decide: impl FnOnce(Error) -> Result<R, Error>) -> Result<Proceeded<'n, R>, Error> {
        decide(self.error).map(|response| proof(response, false))
    }

    /// The error itself, boxed as `lambda_runtime` carries it. Same as `Error::from(failure)`.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::Value;
    /// # struct M;
    /// # impl Middleware<Value, Value> for M {
    /// #     type Params = ();
    /// async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>)
    ///     -> Result<Proceeded<'n, Value>, Error>
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

impl<R> fmt::Display for Failure<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl<R> fmt::Debug for Failure<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Failure").field("error", &self.error).finish()
    }
}

/// `?` on a [`Failure`] passes the original error on, unwrapped.
impl<R> From<Failure<'_, R>> for Error {
    #[inline(always)]
    fn from(failure: Failure<'_, R>) -> Self {
        failure.error
    }
}
