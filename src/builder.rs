//! [`HandlerBuilder`]: middlewares accumulate as nested types, then a handler closes
//! the chain.

use std::fmt;
use std::marker::PhantomData;

use crate::chain::{Accept, Chain, FnHandler, Reshape, Wrap};
use crate::error::BuildError;
use crate::handler::Handler;
use crate::handler_fn::HandlerFn;
use crate::trace::choice::{Auto, TraceChoice, Traced, Untraced};
use crate::trace::env::set_tracing_disabled;
use crate::trace::{trace_disabled_from_env, trace_middlewares_from_env};

/// Collects middlewares, then takes the handler that ends the chain.
///
/// Made by [`Handler::builder`]. Each call returns a builder of a new type that
/// records the middleware in it, so the finished chain is one static type.
///
/// # Which middleware runs first?
///
/// The first one added. It runs first on the way in and last on the way out — the
/// order of Python decorators stacked top-down, of Middy's `.use()` calls, of tower's
/// `ServiceBuilder::layer`:
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
/// use lambda_runtime::LambdaEvent;
///
/// type Log = Arc<Mutex<Vec<String>>>;
///
/// struct Step(&'static str, Log);
///
/// impl Middleware<(), ()> for Step {
///     type Params = ();
///
///     async fn call<'n, I>(&self, _: &(), event: (), _: &Context, next: Next<'n, I>)
///         -> Result<Proceeded<'n, ()>, Error>
///     where
///         I: Invoke<(), Response = ()>,
///     {
///         self.1.lock().unwrap().push(format!("{} before", self.0));
///         let response = next.run(event).await?;
///         self.1.lock().unwrap().push(format!("{} after", self.0));
///         Ok(response)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let log = Log::default();
/// let handler_log = log.clone();
/// let handler = Handler::builder()
///     .middleware(Step("first", log.clone()))
///     .middleware(Step("second", log.clone()))
///     .handler(move |_: LambdaEvent<()>| {
///         let log = handler_log.clone();
///         async move { log.lock().unwrap().push("handler".into()); Ok::<(), Error>(()) }
///     })?;
///
/// handler.invoke(LambdaEvent::new((), Context::default())).await?;
/// assert_eq!(
///     *log.lock().unwrap(),
///     ["first before", "second before", "handler", "second after", "first after"],
/// );
/// # Ok(()) }
/// ```
///
/// Without a handler there is nothing to run: a `HandlerBuilder` has no `invoke` and
/// is not a `tower::Service`, so forgetting `.handler(..)` does not compile.
#[must_use = "a builder does nothing until `.handler(..)` ends the chain"]
pub struct HandlerBuilder<S> {
    stack: S,
}

/// The empty stack: a builder with no middlewares yet.
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity;

/// One middleware (with params `P` and tracing choice `T`) added on top of the
/// middlewares `Older` added before it.
///
/// The builder keeps the newest middleware at the top so that [`HandlerBuilder::traced`]
/// can reach it; [`HandlerBuilder::handler`] turns the stack inside out, so the oldest
/// middleware becomes the outermost [`Wrap`].
///
/// `K` is the kind of middleware: [`Same`] for a [`Middleware`](crate::Middleware)
/// (it becomes a [`Wrap`]), [`Changes`] for a [`Transform`](crate::Transform) (a
/// [`Reshape`]).
pub struct Stack<M, Older, P = (), T = Auto, K = Same> {
    middleware: M,
    params: P,
    older: Older,
    _trace: PhantomData<fn() -> (T, K)>,
}

/// A [`Stack`] entry added with [`middleware`](HandlerBuilder::middleware): the same
/// event and response types inside as outside.
#[derive(Debug, Clone, Copy, Default)]
pub struct Same;

/// A [`Stack`] entry added with [`transform`](HandlerBuilder::transform): other types
/// inside than outside.
#[derive(Debug, Clone, Copy, Default)]
pub struct Changes;

impl<M, Older, P, T, K> Stack<M, Older, P, T, K> {
    fn new(middleware: M, params: P, older: Older) -> Self {
        Stack {
            middleware,
            params,
            older,
            _trace: PhantomData,
        }
    }

    fn retrace<U>(self) -> Stack<M, Older, P, U, K> {
        Stack::new(self.middleware, self.params, self.older)
    }
}

/// Builds the chain around an inner part: `Stack<B, Stack<A, Identity>>` around `H`
/// is `Wrap<A, Wrap<B, H>>`.
pub trait Assemble<Inner> {
    /// The chain this stack makes around `Inner`.
    type Chain;

    #[doc(hidden)]
    fn assemble(self, inner: Inner) -> Self::Chain;
}

impl<Inner> Assemble<Inner> for Identity {
    type Chain = Inner;

    fn assemble(self, inner: Inner) -> Inner {
        inner
    }
}

impl<Inner, M, Older, P, T> Assemble<Inner> for Stack<M, Older, P, T, Same>
where
    Older: Assemble<Wrap<M, Inner, P, T>>,
{
    type Chain = Older::Chain;

    fn assemble(self, inner: Inner) -> Self::Chain {
        self.older.assemble(Wrap::new(self.middleware, self.params, inner))
    }
}

impl<Inner, M, Older, P, T> Assemble<Inner> for Stack<M, Older, P, T, Changes>
where
    Older: Assemble<Reshape<M, Inner, P, T>>,
{
    type Chain = Older::Chain;

    fn assemble(self, inner: Inner) -> Self::Chain {
        self.older.assemble(Reshape::new(self.middleware, self.params, inner))
    }
}

impl<S> HandlerBuilder<S> {
    pub(crate) fn new(stack: S) -> Self {
        HandlerBuilder { stack }
    }

    /// Adds a middleware that takes no params (`type Params = ()`).
    ///
    /// It runs inside the middlewares added before it and outside those added after.
    ///
    /// ```
    /// # use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
    /// # use lambda_runtime::LambdaEvent;
    /// # use serde_json::Value;
    /// struct CorrelationId;
    /// # impl Middleware<Value, Value> for CorrelationId { type Params = ();
    /// #   async fn call<'n, I: Invoke<Value, Response = Value>>(&self, _: &(), e: Value, _: &Context, n: Next<'n, I>)
    /// #   -> Result<Proceeded<'n, Value>, Error> { Ok(n.run(e).await?) } }
    /// async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> { Ok(event.payload) }
    ///
    /// let handler = Handler::builder().middleware(CorrelationId).handler(handler)?;
    /// # Ok::<(), lambda_middleware::BuildError>(())
    /// ```
    pub fn middleware<M>(self, middleware: M) -> HandlerBuilder<Stack<M, S>> {
        HandlerBuilder::new(Stack::new(middleware, (), self.stack))
    }

    /// Adds a middleware with its params (its [`Middleware::Params`](crate::Middleware::Params)).
    ///
    /// ```
    /// # use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
    /// # use lambda_runtime::LambdaEvent;
    /// # use serde_json::Value;
    /// use typed_builder::TypedBuilder;
    ///
    /// struct Obfuscate;
    ///
    /// #[derive(TypedBuilder)]
    /// struct ObfuscateParams {
    ///     fields: Vec<String>,
    ///     #[builder(default = "*****".into())]
    ///     mask: String,
    /// }
    /// # impl Middleware<Value, Value> for Obfuscate { type Params = ObfuscateParams;
    /// #   async fn call<'n, I: Invoke<Value, Response = Value>>(&self, _: &ObfuscateParams, e: Value, _: &Context, n: Next<'n, I>)
    /// #   -> Result<Proceeded<'n, Value>, Error> { Ok(n.run(e).await?) } }
    /// # async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> { Ok(event.payload) }
    ///
    /// let handler = Handler::builder()
    ///     .middleware_with(Obfuscate, ObfuscateParams::builder().fields(vec!["email".into()]).build())
    ///     .handler(handler)?;
    /// # Ok::<(), lambda_middleware::BuildError>(())
    /// ```
    pub fn middleware_with<M, P>(self, middleware: M, params: P) -> HandlerBuilder<Stack<M, S, P>> {
        HandlerBuilder::new(Stack::new(middleware, params, self.stack))
    }

    /// Adds a [`Transform`](crate::Transform) that takes no params: a middleware whose
    /// inner event or response type differs from its own.
    ///
    /// It runs where a middleware added here would; the layers added after it (and the
    /// handler) take the event it hands inwards and give back the response it takes
    /// back, and the layers added before it see its own types.
    ///
    /// ```
    /// # use lambda_middleware::{Context, Error, Handler, Invoke, Next, Proceeded, Transform};
    /// /// Hands the handler the length of the text it got.
    /// struct Length;
    ///
    /// impl<R: Send> Transform<usize, R> for Length {
    ///     type Event = String;
    ///     type Response = R;
    ///     type Params = ();
    ///
    ///     async fn call<'n, I>(&self, _: &(), event: String, _: &Context, next: Next<'n, I, R>)
    ///         -> Result<Proceeded<'n, R>, Error>
    ///     where
    ///         I: Invoke<usize, Response = R>,
    ///     {
    ///         Ok(next.run(event.len()).await?)
    ///     }
    /// }
    ///
    /// async fn double(n: usize, _: &Context) -> Result<usize, Error> { Ok(2 * n) }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let handler = Handler::builder().transform(Length).handler(double)?;
    /// assert_eq!(handler.invoke_with("four".to_string(), &Context::default()).await?, 8);
    /// # Ok(()) }
    /// ```
    pub fn transform<M>(self, transform: M) -> HandlerBuilder<Stack<M, S, (), Auto, Changes>> {
        HandlerBuilder::new(Stack::new(transform, (), self.stack))
    }

    /// Adds a [`Transform`](crate::Transform) with its params.
    ///
    /// ```
    /// # use lambda_middleware::{Context, Error, Handler, Invoke, Next, Proceeded, Transform};
    /// /// Hands the handler the text it got, cut to a number of characters.
    /// struct Cut;
    ///
    /// impl<R: Send> Transform<String, R> for Cut {
    ///     type Event = String;
    ///     type Response = R;
    ///     type Params = usize;
    ///
    ///     async fn call<'n, I>(&self, max: &usize, event: String, _: &Context, next: Next<'n, I, R>)
    ///         -> Result<Proceeded<'n, R>, Error>
    ///     where
    ///         I: Invoke<String, Response = R>,
    ///     {
    ///         Ok(next.run(event.chars().take(*max).collect()).await?)
    ///     }
    /// }
    ///
    /// async fn echo(text: String, _: &Context) -> Result<String, Error> { Ok(text) }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let handler = Handler::builder().transform_with(Cut, 3).handler(echo)?;
    /// assert_eq!(handler.invoke_with("abcdef".to_string(), &Context::default()).await?, "abc");
    /// # Ok(()) }
    /// ```
    pub fn transform_with<M, P>(self, transform: M, params: P) -> HandlerBuilder<Stack<M, S, P, Auto, Changes>> {
        HandlerBuilder::new(Stack::new(transform, params, self.stack))
    }

    /// Ends the chain with the handler function and builds the [`Handler`].
    ///
    /// The handler is an `async fn(LambdaEvent<E>) -> Result<R, Error>` (or such a
    /// closure), or an `async fn(E, &Context) -> Result<R, Error>`; see
    /// [`HandlerFn`]. Every middleware must implement `Middleware<E, R>` for its `E`
    /// and `R`, or this does not compile.
    ///
    /// `POWERTOOLS_TRACE_MIDDLEWARES` and `POWERTOOLS_TRACE_DISABLED` are read here,
    /// once; the second sets the process's [`tracing_disabled`](crate::trace::tracing_disabled)
    /// switch.
    ///
    /// # Errors
    ///
    /// [`BuildError::InvalidEnv`] when `POWERTOOLS_TRACE_MIDDLEWARES` or
    /// `POWERTOOLS_TRACE_DISABLED` is set to a value that is not a boolean; [`BuildError::InvalidParams`] when a middleware refuses its
    /// params ([`Middleware::check`](crate::Middleware::check)).
    ///
    /// ```
    /// use lambda_middleware::{Context, Error, Handler};
    /// use lambda_runtime::LambdaEvent;
    /// use serde_json::{json, Value};
    ///
    /// async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
    ///     Ok(json!({ "got": event }))
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let handler = Handler::builder().handler(handler)?;
    /// let response = handler.invoke(LambdaEvent::new(json!(1), Context::default())).await?;
    /// assert_eq!(response, json!({ "got": 1 }));
    /// # Ok(()) }
    /// ```
    pub fn handler<F, Sig>(self, handler: F) -> Result<Handler<S::Chain>, BuildError>
    where
        F: HandlerFn<Sig>,
        S: Assemble<FnHandler<F, Sig>>,
        S::Chain: Accept + Chain<<S::Chain as Accept>::Event>,
    {
        let disabled = trace_disabled_from_env()?;
        // Disabled, every middleware is untraced: no point running the chain compiled
        // with all of them traced.
        let trace_env = trace_middlewares_from_env()? && !disabled;
        let chain = self.stack.assemble(FnHandler::new(handler));
        chain.check_chain()?;
        set_tracing_disabled(disabled);
        Ok(Handler::new(chain, trace_env))
    }
}

impl<M, Older, P, K> HandlerBuilder<Stack<M, Older, P, Auto, K>> {
    /// Traces the middleware added last, whatever its definition and
    /// `POWERTOOLS_TRACE_MIDDLEWARES` say.
    ///
    /// ```
    /// # use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
    /// # use lambda_runtime::LambdaEvent;
    /// # use serde_json::Value;
    /// # struct Audit; struct Cache;
    /// # impl Middleware<Value, Value> for Audit { type Params = ();
    /// #   async fn call<'n, I: Invoke<Value, Response = Value>>(&self, _: &(), e: Value, _: &Context, n: Next<'n, I>)
    /// #   -> Result<Proceeded<'n, Value>, Error> { Ok(n.run(e).await?) } }
    /// # impl Middleware<Value, Value> for Cache { type Params = ();
    /// #   async fn call<'n, I: Invoke<Value, Response = Value>>(&self, _: &(), e: Value, _: &Context, n: Next<'n, I>)
    /// #   -> Result<Proceeded<'n, Value>, Error> { Ok(n.run(e).await?) } }
    /// # async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> { Ok(event.payload) }
    /// let handler = Handler::builder()
    ///     .middleware(Audit).traced()    // always a `## Audit` span
    ///     .middleware(Cache).untraced()  // never a span
    ///     .handler(handler)?;
    /// # Ok::<(), lambda_middleware::BuildError>(())
    /// ```
    pub fn traced(self) -> HandlerBuilder<Stack<M, Older, P, Traced, K>> {
        HandlerBuilder::new(self.stack.retrace())
    }

    /// Never traces the middleware added last, whatever its definition and
    /// `POWERTOOLS_TRACE_MIDDLEWARES` say. See [`traced`](Self::traced).
    ///
    /// ```
    /// # use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
    /// # use lambda_runtime::LambdaEvent;
    /// # use serde_json::Value;
    /// # struct Cache;
    /// # impl Middleware<Value, Value> for Cache { type Params = ();
    /// #   async fn call<'n, I: Invoke<Value, Response = Value>>(&self, _: &(), e: Value, _: &Context, n: Next<'n, I>)
    /// #   -> Result<Proceeded<'n, Value>, Error> { Ok(n.run(e).await?) } }
    /// # async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> { Ok(event.payload) }
    /// let handler = Handler::builder().middleware(Cache).untraced().handler(handler)?;
    /// # Ok::<(), lambda_middleware::BuildError>(())
    /// ```
    pub fn untraced(self) -> HandlerBuilder<Stack<M, Older, P, Untraced, K>> {
        HandlerBuilder::new(self.stack.retrace())
    }
}

impl<S> fmt::Debug for HandlerBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerBuilder").finish_non_exhaustive()
    }
}

impl<M, Older, P, T: TraceChoice, K> fmt::Debug for Stack<M, Older, P, T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stack")
            .field(
                "middleware",
                &crate::middleware::short_type_name(std::any::type_name::<M>()),
            )
            .finish_non_exhaustive()
    }
}
