//! [`HandlerBuilder`]: middlewares accumulate as nested types, then a handler closes
//! the chain.

use std::fmt;
use std::marker::PhantomData;

use lambda_runtime::{Context, Error, LambdaEvent};

use crate::chain::{
    Accept, Chain, FnHandler, Placeholder, Reshape, RunsOn, ServiceEnd, TakesEvent, TakesLambdaEvent, Wrap,
};
use crate::closures::{After, AfterOutcome, Before, Inward, MapEvent, MapResponse, OnError};
use crate::error::BuildError;
use crate::handler::Handler;
use crate::handler_fn::HandlerFn;
use crate::layer::{ChainLayer, SameEvent, Taking, TowerLayer};
use crate::trace::choice::{Auto, TraceChoice, Traced, Untraced};
use crate::trace::env::set_tracing_disabled;
use crate::trace::{trace_disabled_from_env, trace_middlewares_from_env};

/// `POWERTOOLS_TRACE_MIDDLEWARES` as the chain will use it, and
/// `POWERTOOLS_TRACE_DISABLED`: read when a chain is built, both strictly.
fn tracing_from_env() -> Result<(bool, bool), BuildError> {
    let disabled = trace_disabled_from_env()?;
    // Disabled, every middleware is untraced: no point running the chain compiled with
    // all of them traced.
    let trace_env = trace_middlewares_from_env()? && !disabled;
    Ok((trace_env, disabled))
}

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
/// # extern crate lambda_middleware_core as lambda_middleware;
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

impl<M: Clone, Older: Clone, P: Clone, T, K> Clone for Stack<M, Older, P, T, K> {
    fn clone(&self) -> Self {
        Stack::new(self.middleware.clone(), self.params.clone(), self.older.clone())
    }
}

/// Lists a stack's middlewares in the order they will run, oldest (outermost) first.
pub(crate) trait DescribeStack {
    fn describe_stack(&self, list: &mut fmt::DebugList<'_, '_>);
}

impl DescribeStack for Identity {
    fn describe_stack(&self, _: &mut fmt::DebugList<'_, '_>) {}
}

impl<M, Older: DescribeStack, P, T, K> DescribeStack for Stack<M, Older, P, T, K> {
    fn describe_stack(&self, list: &mut fmt::DebugList<'_, '_>) {
        self.older.describe_stack(list);
        list.entry(&format_args!("{}", crate::middleware::layer_display_name::<M>()));
    }
}

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

/// A [`Stack`] with the tower layer `L` hosted on top of `Older`, as
/// [`HandlerBuilder::layer`] makes it (see [`TowerLayer`]).
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{HandlerBuilder, Handler};
/// use lambda_middleware::chain::{Hosting, Identity};
/// use lambda_middleware::layer::SameEvent;
/// use tower::layer::util::Identity as NoLayer;
///
/// let builder: HandlerBuilder<Hosting<NoLayer, SameEvent, u8, Identity>> = Handler::builder().layer(NoLayer::new());
/// ```
pub type Hosting<L, Ev, Resp, Older> = Stack<TowerLayer<L, Ev, Resp>, Older, (), Auto, Changes>;

/// The stack entry [`HandlerBuilder::map_event`] adds: a
/// [`MapEvent`](crate::chain::MapEvent) transform, as [`Hosting`] is a hosted layer's.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::chain::{Identity, Inward, Mapping};
/// use lambda_middleware::{Context, Error, Handler, HandlerBuilder};
///
/// fn parse(text: String, _: &Context) -> Result<Inward<u64, u64>, Error> {
///     Ok(Inward::Continue(text.parse()?))
/// }
/// type Parsing = fn(String, &Context) -> Result<Inward<u64, u64>, Error>;
/// let builder: HandlerBuilder<Mapping<Parsing, String, u64, u64, Identity>> =
///     Handler::builder().map_event(parse as Parsing);
/// ```
pub type Mapping<F, E, I, R, Older> = Stack<MapEvent<F, E, I, R>, Older, (), Auto, Changes>;

/// What [`HandlerBuilder::map_response`] adds: a [`MapResponse`] transform.
pub type ResponseMapping<F, E, R, O, Older> = Stack<MapResponse<F, E, R, O>, Older, (), Auto, Changes>;

/// The middlewares of a stack, and their params, can be cloned: what a
/// [`ChainLayer`](crate::layer::ChainLayer) needs, since tower calls `Layer::layer` for
/// each service it wraps and each call makes a chain of its own.
///
/// Every `Clone` stack is one; the trait is there for the message a stack that is not
/// gets, which says what to derive.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Handler, HandlerBuilder};
/// use lambda_middleware::chain::CloneStack;
/// use lambda_middleware::Middleware;
///
/// /// A middleware in the hooks form with every hook left as it is.
/// #[derive(Clone)]
/// struct Audit;
///
/// impl<E: Send, R: Send> Middleware<E, R> for Audit {
///     type Params = ();
/// }
///
/// fn layerable<S: CloneStack>(_: &HandlerBuilder<S>) {}
/// layerable(&Handler::builder().middleware(Audit));
/// ```
#[diagnostic::on_unimplemented(
    message = "a middleware of this chain, or its params, is not `Clone`, so the chain cannot be a `ChainLayer`",
    label = "`into_layer` needs every middleware and its params to be `Clone`",
    note = "tower calls `Layer::layer` for each service it wraps, and each call makes a chain of its own: derive `Clone` for the middleware and its params"
)]
pub trait CloneStack: Clone {}

// Not listed in errors: the trait's own message says what to derive.
#[diagnostic::do_not_recommend]
impl<S: Clone> CloneStack for S {}

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
    /// # extern crate lambda_middleware_core as lambda_middleware;
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

    /// Adds a middleware made of one closure run before the rest of the chain — Middy's
    /// `before`, Powertools' code before `handler(event, context)`. It gets the event
    /// (`&mut`, to change it) and the context, and returns `Ok(())` to go on, an `Err`
    /// to fail, or `Ok(Flow::RespondEarly(response))` to answer without the rest.
    ///
    /// The same named future as a [hooks](crate::hooks) middleware: no box, no
    /// allocation. Its name (for `## name` tracing) is `before`;
    /// [`named`](HandlerBuilder::named) gives it another.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Context, Error, Handler};
    /// use serde_json::{Value, json};
    ///
    /// async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
    ///     Ok(json!({ "status": event["status_id"] }))
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let handler = Handler::builder()
    ///     .before(|event: &mut Value, _: &Context| {
    ///         event["status_id"] = json!("pending");
    ///         Ok(())
    ///     })
    ///     .handler(handler)?;
    /// assert_eq!(handler.invoke_with(json!({}), &Context::default()).await?, json!({ "status": "pending" }));
    /// # Ok(()) }
    /// ```
    pub fn before<E, T, F>(self, hook: F) -> HandlerBuilder<Stack<Before<F, E, T>, S>>
    where
        F: Fn(&mut E, &Context) -> T + Send + Sync,
    {
        self.middleware(Before::new("before", hook))
    }

    /// Adds a middleware made of one closure run on the response of the rest of the
    /// chain — Middy's `after`. It gets the response (`&mut`, to change it) and the
    /// context; an `Err` fails the invocation. Errors from inside pass it by (see
    /// [`on_error`](HandlerBuilder::on_error)).
    ///
    /// The same named future as a [hooks](crate::hooks) middleware. Its name is `after`;
    /// [`named`](HandlerBuilder::named) gives it another.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Context, Error, Handler};
    /// use serde_json::{Value, json};
    ///
    /// async fn handler(_: Value, _: &Context) -> Result<Value, Error> {
    ///     Ok(json!({ "statusCode": 200, "headers": {} }))
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let handler = Handler::builder()
    ///     .after(|response: &mut Value, ctx: &Context| {
    ///         response["headers"]["X-Request-Id"] = json!(ctx.request_id);
    ///         Ok(())
    ///     })
    ///     .handler(handler)?;
    /// let mut context = Context::default();
    /// context.request_id = "8f5c7c3e".into();
    /// let response = handler.invoke_with(json!({}), &context).await?;
    /// assert_eq!(response["headers"]["X-Request-Id"], "8f5c7c3e");
    /// # Ok(()) }
    /// ```
    pub fn after<R, T, F>(self, hook: F) -> HandlerBuilder<Stack<After<F, R>, S>>
    where
        F: Fn(&mut R, &Context) -> T + Send + Sync,
        T: AfterOutcome,
    {
        self.middleware(After::new("after", hook))
    }

    /// Adds a middleware made of one closure run on the error of the rest of the chain
    /// — Middy's `onError`. It gets the error and the context, and passes it on
    /// (`Err(error)`), replaces it (another `Err`) or recovers with a response (`Ok`),
    /// which the middlewares outside then see as a success.
    ///
    /// The same named future as a [hooks](crate::hooks) middleware. Its name is
    /// `on_error`; [`named`](HandlerBuilder::named) gives it another.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Context, Error, Handler};
    /// use serde_json::{Value, json};
    ///
    /// async fn handler(_: Value, _: &Context) -> Result<Value, Error> {
    ///     Err("db-7.internal refused the connection".into())
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let handler = Handler::builder()
    ///     .on_error(|_: Error, _: &Context| Ok(json!({ "statusCode": 503 })))
    ///     .handler(handler)?;
    /// assert_eq!(handler.invoke_with(json!({}), &Context::default()).await?, json!({ "statusCode": 503 }));
    /// # Ok(()) }
    /// ```
    pub fn on_error<R, F>(self, hook: F) -> HandlerBuilder<Stack<OnError<F, R>, S>>
    where
        F: Fn(Error, &Context) -> Result<R, Error> + Send + Sync,
    {
        self.middleware(OnError::new("on_error", hook))
    }

    /// Adds a transform made of one closure that maps the event on the way in: it gets
    /// the event and the context, and hands the rest of the chain another event
    /// (`Ok(Inward::Continue(..))`, often a [`With`](crate::With) carrying what it
    /// found), answers at once (`Ok(Inward::RespondEarly(response))`), or fails (`Err`).
    /// The response passes back unchanged. Its name is `map_event`;
    /// [`named`](HandlerBuilder::named) gives it another.
    ///
    /// An `async` transform underneath: its future is the closure's outcome and the rest
    /// of the chain's, with no box and no allocation.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::chain::Inward;
    /// use lambda_middleware::{Context, Error, Handler, With};
    /// use serde_json::{Value, json};
    ///
    /// struct Claims {
    ///     sub: String,
    /// }
    ///
    /// async fn handler(event: With<Claims, Value>, _: &Context) -> Result<Value, Error> {
    ///     Ok(json!({ "statusCode": 200, "body": event.data.sub }))
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let handler = Handler::builder()
    ///     .map_event(|event: Value, _: &Context| {
    ///         let bearer = event["headers"]["authorization"].as_str().and_then(|h| h.strip_prefix("Bearer "));
    ///         Ok(match bearer {
    ///             Some(token) => Inward::Continue(With::new(Claims { sub: token.to_owned() }, event)),
    ///             None => Inward::RespondEarly(json!({ "statusCode": 401 })),
    ///         })
    ///     })
    ///     .handler(handler)?;
    ///
    /// let event = json!({ "headers": { "authorization": "Bearer ada" } });
    /// assert_eq!(handler.invoke_with(event, &Context::default()).await?["body"], "ada");
    /// assert_eq!(handler.invoke_with(json!({ "headers": {} }), &Context::default()).await?["statusCode"], 401);
    /// # Ok(()) }
    /// ```
    pub fn map_event<E, I, R, F>(self, hook: F) -> HandlerBuilder<Mapping<F, E, I, R, S>>
    where
        F: Fn(E, &Context) -> Result<Inward<I, R>, Error> + Send + Sync,
    {
        self.transform(MapEvent::new("map_event", hook))
    }

    /// Adds a transform made of one closure that maps the response on the way out: it
    /// gets the response of the layers inside (`R`) and the context, and gives the
    /// layers outside another one (`O`), or fails (`Err`). The event passes in
    /// unchanged. Its name is `map_response`; [`named`](HandlerBuilder::named) gives it
    /// another.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Context, Error, Handler};
    /// use serde_json::{Value, json};
    ///
    /// async fn count(event: Value, _: &Context) -> Result<usize, Error> {
    ///     Ok(event.as_array().map_or(0, Vec::len))
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let handler = Handler::builder()
    ///     .map_response(|count: usize, _: &Context| Ok(json!({ "statusCode": 200, "body": count.to_string() })))
    ///     .handler(count)?;
    /// assert_eq!(handler.invoke_with(json!([1, 2]), &Context::default()).await?["body"], "2");
    /// # Ok(()) }
    /// ```
    pub fn map_response<E, R, O, F>(self, hook: F) -> HandlerBuilder<ResponseMapping<F, E, R, O, S>>
    where
        F: Fn(R, &Context) -> Result<O, Error> + Send + Sync,
    {
        self.transform(MapResponse::new("map_response", hook))
    }

    /// Adds a middleware with its params (its [`Middleware::Params`](crate::Middleware::Params)).
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
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
    /// # extern crate lambda_middleware_core as lambda_middleware;
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
    /// # extern crate lambda_middleware_core as lambda_middleware;
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

    /// Adds a tower `Layer` as one layer of the chain ([`TowerLayer`]): tower-http's
    /// `TraceLayer`, `CompressionLayer`, `TimeoutLayer`, `SetResponseHeaderLayer`,
    /// `CorsLayer`, or one of your own, taking the same event type as it hands inwards.
    ///
    /// It runs where a middleware added here would. The layers added after it take its
    /// service's request type, and the ones added before it see its service's response
    /// type (tower-http's layers wrap the response body); see [`TowerLayer`] for what it
    /// keeps of the chain's guarantees, what it costs, and why a layer whose service
    /// keeps state (a per-service concurrency limit) is made anew for each invocation.
    ///
    /// A layer that needs its inner service to be `'static` (tower's `Buffer`, a layer
    /// that boxes its inner future as `BoxFuture<'static, _>`) cannot wrap the rest of a
    /// chain, which borrows the invocation: rustc then says "implementation of `Service`
    /// is not general enough … `NextService<'s, ..>`". [`TowerLayer`] says what to do
    /// instead.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use std::time::Duration;
    /// use lambda_middleware::{Context, Error, Handler};
    ///
    /// async fn slow(event: u64, _: &Context) -> Result<u64, Error> {
    ///     tokio::time::sleep(Duration::from_millis(if event == 0 { 500 } else { 0 })).await;
    ///     Ok(event)
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> Result<(), Error> {
    /// let handler = Handler::builder()
    ///     .layer(tower::timeout::TimeoutLayer::new(Duration::from_millis(50)))
    ///     .handler(slow)?;
    /// assert_eq!(handler.invoke_with(7, &Context::default()).await?, 7);
    /// let timed_out = handler.invoke_with(0, &Context::default()).await.unwrap_err();
    /// assert_eq!(timed_out.to_string(), "request timed out");
    /// # Ok(()) }
    /// ```
    pub fn layer<L, Resp>(self, layer: L) -> HandlerBuilder<Hosting<L, SameEvent, Resp, S>> {
        HandlerBuilder::new(Stack::new(TowerLayer::new(layer), (), self.stack))
    }

    /// Adds a tower `Layer` that takes another event type (`E`) than the one it hands
    /// inwards, such as tower-http's `RequestBodyLimitLayer` (`Request<B>` outside,
    /// `Request<Limited<B>>` inside). Otherwise as [`layer`](Self::layer).
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Context, Error, Handler};
    /// use tower::layer::util::Identity;
    ///
    /// async fn echo(event: String, _: &Context) -> Result<String, Error> { Ok(event) }
    ///
    /// # fn main() -> Result<(), lambda_middleware::BuildError> {
    /// let handler = Handler::builder().layer_taking::<String, _, _>(Identity::new()).handler(echo)?;
    /// # Ok(()) }
    /// ```
    pub fn layer_taking<E, L, Resp>(self, layer: L) -> HandlerBuilder<Hosting<L, Taking<E>, Resp, S>> {
        HandlerBuilder::new(Stack::new(TowerLayer::new(layer), (), self.stack))
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
    /// # extern crate lambda_middleware_core as lambda_middleware;
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
        S::Chain: Accept,
        <S::Chain as Accept>::Event: RunsOn<S::Chain>,
    {
        self.end(FnHandler::new(handler))
    }

    /// Ends the chain with a `tower::Service` that takes the chain's event as it is,
    /// and builds the [`Handler`]: an axum `Router` (or any `tower::Service<Request>`)
    /// under `lambda_http`, a `tower::service_fn`, a service with tower layers of its
    /// own around it.
    ///
    /// The service is cloned for each invocation, made ready (`poll_ready`) and called
    /// once; see [`ServiceEnd`] for what that costs and requires. Its error becomes the
    /// chain's error. For a service in lambda_runtime's convention, which takes a
    /// `LambdaEvent<E>`, use [`lambda_service`](Self::lambda_service).
    ///
    /// The event type is the service's request type. A service that takes several
    /// (an axum `Router` takes `http::Request<B>` for any body `B`) gets it from where
    /// the handler is used — `lambda_http::run(handler)` makes it `lambda_http::Request`
    /// — or from a middleware that takes one type only; where nothing says, name it:
    /// `.service::<_, lambda_http::Request>(router)`.
    ///
    /// # Errors
    ///
    /// As [`handler`](Self::handler).
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
    ///
    /// struct Twice;
    ///
    /// impl Middleware<u64, u64> for Twice {
    ///     type Params = ();
    ///
    ///     async fn call<'n, I>(&self, _: &(), event: u64, _: &Context, next: Next<'n, I>)
    ///         -> Result<Proceeded<'n, u64>, Error>
    ///     where
    ///         I: Invoke<u64, Response = u64>,
    ///     {
    ///         Ok(next.run(event).await?.map(|response| response * 2))
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let add_one = tower::service_fn(|n: u64| async move { Ok::<u64, Error>(n + 1) });
    /// let handler = Handler::builder().middleware(Twice).service(add_one)?;
    /// assert_eq!(handler.invoke_with(20, &Context::default()).await?, 42);
    /// assert_eq!(format!("{handler:?}"), "Handler([Twice, ServiceFn])");
    /// # Ok(()) }
    /// ```
    pub fn service<Svc, E>(self, service: Svc) -> Result<Handler<S::Chain>, BuildError>
    where
        Svc: tower::Service<E>,
        S: Assemble<ServiceEnd<Svc, TakesEvent<E>>>,
        S::Chain: Accept,
        <S::Chain as Accept>::Event: RunsOn<S::Chain>,
    {
        self.end(ServiceEnd::new(service))
    }

    /// Ends the chain with a `tower::Service` in lambda_runtime's convention — one that
    /// takes a `LambdaEvent<E>`, as `lambda_runtime::service_fn` makes — and builds the
    /// [`Handler`].
    ///
    /// The chain's event type is `E`; each invocation hands the service its event and a
    /// clone of the context (a few small allocations), clones the service, waits for it
    /// to be ready and calls it once (see [`ServiceEnd`]).
    ///
    /// # Errors
    ///
    /// As [`handler`](Self::handler).
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Context, Error, Handler};
    /// use lambda_runtime::{service_fn, LambdaEvent};
    /// use serde_json::{json, Value};
    /// use lambda_middleware::Middleware;
    ///
    /// /// A middleware in the hooks form with every hook left as it is.
    /// #[derive(Clone)]
    /// struct Audit;
    ///
    /// impl<E: Send, R: Send> Middleware<E, R> for Audit {
    ///     type Params = ();
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// // An existing lambda_runtime service, kept as it is.
    /// let service = service_fn(|event: LambdaEvent<Value>| async move {
    ///     Ok::<Value, Error>(json!({ "request_id": event.context.request_id, "got": event.payload }))
    /// });
    /// let handler = Handler::builder().middleware(Audit).lambda_service(service)?;
    /// let mut context = Context::default();
    /// context.request_id = "r-1".into();
    /// let response = handler.invoke_with(json!(7), &context).await?;
    /// assert_eq!(response, json!({ "request_id": "r-1", "got": 7 }));
    /// # Ok(()) }
    /// ```
    pub fn lambda_service<Svc, E>(self, service: Svc) -> Result<Handler<S::Chain>, BuildError>
    where
        Svc: tower::Service<LambdaEvent<E>>,
        S: Assemble<ServiceEnd<Svc, TakesLambdaEvent<E>>>,
        S::Chain: Accept,
        <S::Chain as Accept>::Event: RunsOn<S::Chain>,
    {
        self.end(ServiceEnd::new(service))
    }

    /// Turns the middlewares added so far into a `tower::Layer` ([`ChainLayer`]) for a
    /// service that takes the chain's event `E` and answers `R` — an axum `Router`, a
    /// `lambda_http` service, tower-http layers around either — so that the chain drops
    /// into an existing `tower::ServiceBuilder`.
    ///
    /// The service it makes around the inner one is a [`Handler`]: it takes what a
    /// `Handler` takes, an `http::Request<B>` (from `lambda_http::run`, or from tower
    /// layers outside it) when `E` is one, and a `LambdaEvent<E>` otherwise.
    ///
    /// Everything [`handler`](Self::handler) checks is checked here, before any service
    /// exists: that every middleware fits `E` and `R` (a compile error otherwise), that
    /// each accepts its params, and `POWERTOOLS_TRACE_MIDDLEWARES`. Where the layer is
    /// used usually says what `E` and `R` are; where it does not, name them:
    /// `.into_layer::<lambda_http::Request, lambda_http::Response<lambda_http::Body>>()`.
    ///
    /// # Errors
    ///
    /// As [`handler`](Self::handler).
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::hooks::Flow;
    /// use lambda_middleware::{Context, Error, Handler, Middleware};
    /// use lambda_runtime::LambdaEvent;
    /// use serde_json::{json, Value};
    /// use tower::{Service, ServiceBuilder, ServiceExt};
    ///
    /// /// Answers a preflight without the service.
    /// #[derive(Clone)]
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
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let preflight = Handler::builder().middleware(Preflight).into_layer()?;
    /// let mut service = ServiceBuilder::new()
    ///     .layer(preflight)
    ///     .service_fn(|_: Value| async { Ok::<Value, Error>(json!({ "statusCode": 200 })) });
    ///
    /// // The handler it makes takes what lambda_runtime hands over: a `LambdaEvent`.
    /// let event = json!({ "httpMethod": "OPTIONS" });
    /// let response = service.ready().await?.call(LambdaEvent::new(event, Context::default())).await?;
    /// assert_eq!(response["statusCode"], 204); // answered by the chain, the service did not run
    /// # Ok(()) }
    /// ```
    pub fn into_layer<E, R>(self) -> Result<ChainLayer<S, TakesEvent<E>, R>, BuildError>
    where
        S: Assemble<Placeholder<TakesEvent<E>, R>> + CloneStack,
        <S as Assemble<Placeholder<TakesEvent<E>, R>>>::Chain: Accept + Chain<E>,
    {
        let trace_env = self.check_against::<TakesEvent<E>, R, E>()?;
        Ok(ChainLayer::new(self.stack, trace_env))
    }

    /// Turns the middlewares added so far into a `tower::Layer` ([`ChainLayer`]) for a
    /// service in lambda_runtime's convention, which takes a `LambdaEvent<E>` and
    /// answers `R`: the chain takes `LambdaEvent<E>` from outside, runs its middlewares
    /// on `E`, and hands the service `E` with a clone of the context — as
    /// [`lambda_service`](Self::lambda_service) does.
    ///
    /// # Errors
    ///
    /// As [`handler`](Self::handler).
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Context, Error, Handler};
    /// use lambda_runtime::{service_fn, LambdaEvent};
    /// use tower::{Service, ServiceBuilder, ServiceExt};
    /// use lambda_middleware::Middleware;
    ///
    /// /// A middleware in the hooks form with every hook left as it is.
    /// #[derive(Clone)]
    /// struct Audit;
    ///
    /// impl<E: Send, R: Send> Middleware<E, R> for Audit {
    ///     type Params = ();
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let chain = Handler::builder().middleware(Audit).into_lambda_layer::<u32, u32>()?;
    /// let mut service = ServiceBuilder::new()
    ///     .layer(chain)
    ///     .service(service_fn(|event: LambdaEvent<u32>| async move { Ok::<u32, Error>(event.payload + 1) }));
    ///
    /// let response = service.ready().await?.call(LambdaEvent::new(41, Context::default())).await?;
    /// assert_eq!(response, 42);
    /// # Ok(()) }
    /// ```
    pub fn into_lambda_layer<E, R>(self) -> Result<ChainLayer<S, TakesLambdaEvent<E>, R>, BuildError>
    where
        S: Assemble<Placeholder<TakesLambdaEvent<E>, R>> + CloneStack,
        <S as Assemble<Placeholder<TakesLambdaEvent<E>, R>>>::Chain: Accept + Chain<E>,
    {
        let trace_env = self.check_against::<TakesLambdaEvent<E>, R, E>()?;
        Ok(ChainLayer::new(self.stack, trace_env))
    }

    /// Reads the tracing variables and runs every layer's check on a copy of the stack
    /// closed around a [`Placeholder`] for the service to come.
    fn check_against<F, R, E>(&self) -> Result<bool, BuildError>
    where
        S: Assemble<Placeholder<F, R>> + CloneStack,
        <S as Assemble<Placeholder<F, R>>>::Chain: Chain<E>,
    {
        let (trace_env, disabled) = tracing_from_env()?;
        self.stack.clone().assemble(Placeholder::new()).check_chain()?;
        set_tracing_disabled(disabled);
        Ok(trace_env)
    }

    /// Closes the chain around its innermost part, reads the tracing variables and runs
    /// every layer's check.
    fn end<End>(self, end: End) -> Result<Handler<S::Chain>, BuildError>
    where
        S: Assemble<End>,
        S::Chain: Accept,
        <S::Chain as Accept>::Event: RunsOn<S::Chain>,
    {
        let (trace_env, disabled) = tracing_from_env()?;
        let chain = self.stack.assemble(end);
        <<S::Chain as Accept>::Event as RunsOn<S::Chain>>::check(&chain)?;
        set_tracing_disabled(disabled);
        Ok(Handler::new(chain, trace_env))
    }
}

impl<S> HandlerBuilder<S> {
    /// Traces the middleware added last, whatever its definition and
    /// `POWERTOOLS_TRACE_MIDDLEWARES` say.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
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
    pub fn traced<D>(self) -> HandlerBuilder<D>
    where
        S: Retrace<Traced = D>,
    {
        HandlerBuilder::new(self.stack.traced())
    }

    /// Never traces the middleware added last, whatever its definition and
    /// `POWERTOOLS_TRACE_MIDDLEWARES` say. See [`traced`](Self::traced).
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
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
    pub fn untraced<D>(self) -> HandlerBuilder<D>
    where
        S: Retrace<Untraced = D>,
    {
        HandlerBuilder::new(self.stack.untraced())
    }
}

/// A builder whose last middleware's tracing is not decided yet: what
/// [`HandlerBuilder::traced`] and [`HandlerBuilder::untraced`] decide, once.
///
/// A bound rather than methods on that one builder type, for its message: `.traced()`
/// with no middleware before it, or a second time, says what is wrong instead of
/// "no method named `traced` found". (The methods name the new builder type `D` rather
/// than `S::Traced` for the same reason: rustc then checks the bound where the method is
/// called, and prints the message below.)
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::chain::{Identity, Retrace, Stack};
///
/// fn decidable<S: Retrace>() {}
/// decidable::<Stack<(), Identity>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`.traced()` and `.untraced()` decide the tracing of the middleware added just before them, and here there is none to decide",
    label = "no middleware was added before this call, or its tracing was decided already",
    note = "call `.traced()` or `.untraced()` once, right after the `.middleware(..)`, `.transform(..)`, `.before(..)`, ... it is for"
)]
pub trait Retrace {
    /// The builder's stack with the last middleware traced.
    type Traced;
    /// The builder's stack with the last middleware never traced.
    type Untraced;
    #[doc(hidden)]
    fn traced(self) -> Self::Traced;
    #[doc(hidden)]
    fn untraced(self) -> Self::Untraced;
}

impl<M, Older, P, K> Retrace for Stack<M, Older, P, Auto, K> {
    type Traced = Stack<M, Older, P, Traced, K>;
    type Untraced = Stack<M, Older, P, Untraced, K>;

    fn traced(self) -> Self::Traced {
        self.retrace()
    }

    fn untraced(self) -> Self::Untraced {
        self.retrace()
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

/// The name of a closure middleware ([`before`](HandlerBuilder::before),
/// [`after`](HandlerBuilder::after), [`on_error`](HandlerBuilder::on_error)), for its
/// `## name` span when traced: what [`HandlerBuilder::named`] sets.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a closure middleware, so `.named(..)` cannot name it",
    label = "`.named(..)` follows `.before(..)`, `.after(..)`, `.on_error(..)`, `.map_event(..)` or `.map_response(..)`",
    note = "a middleware type names itself: implement `Middleware::name` (or `Transform::name`)"
)]
pub trait Rename {
    /// The same middleware, called `name`.
    fn rename(self, name: &'static str) -> Self;
}

impl<F, E, T> Rename for Before<F, E, T> {
    fn rename(self, name: &'static str) -> Self {
        self.with_name(name)
    }
}

impl<F, R> Rename for After<F, R> {
    fn rename(self, name: &'static str) -> Self {
        self.with_name(name)
    }
}

impl<F, R> Rename for OnError<F, R> {
    fn rename(self, name: &'static str) -> Self {
        self.with_name(name)
    }
}

impl<F, E, R, O> Rename for MapResponse<F, E, R, O> {
    fn rename(self, name: &'static str) -> Self {
        self.with_name(name)
    }
}

impl<F, E, I, R> Rename for MapEvent<F, E, I, R> {
    fn rename(self, name: &'static str) -> Self {
        self.with_name(name)
    }
}

impl<M, Older, P, T, K> HandlerBuilder<Stack<M, Older, P, T, K>> {
    /// Names the closure middleware just added, for its `## name` span.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Context, Error, Handler};
    ///
    /// async fn handler(event: u64, _: &Context) -> Result<u64, Error> { Ok(event) }
    ///
    /// let handler = Handler::builder()
    ///     .before(|event: &mut u64, _: &Context| {
    ///         *event += 1;
    ///         Ok(())
    ///     })
    ///     .named("increment")
    ///     .traced()
    ///     .handler(handler)?;
    /// # Ok::<(), lambda_middleware::BuildError>(())
    /// ```
    // The bound is on the method, not the `impl`, so that naming a middleware type gets
    // `Rename`'s message rather than "the method exists but its bounds are not satisfied".
    pub fn named(self, name: &'static str) -> Self
    where
        M: Rename,
    {
        let Stack {
            middleware,
            params,
            older,
            _trace,
        } = self.stack;
        HandlerBuilder::new(Stack {
            middleware: middleware.rename(name),
            params,
            older,
            _trace,
        })
    }
}

/// What a builder lacks to be invoked or run: the handler function at the end of its
/// chain. Implemented by nothing; it is the bound of the builder's `invoke`,
/// `invoke_with` and `tower::Service` stand-ins, which exist for this message only —
/// without them, `builder.invoke(..)` is "no method named `invoke` found" and
/// `lambda_runtime::run(builder)` a list of tower's services.
///
/// ```compile_fail
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Context, Handler};
///
/// let builder = Handler::builder().before(|_: &mut u64, _: &Context| Ok(()));
/// let _ = builder.invoke_with(1_u64, &Context::default()); // no `.handler(f)?` yet
/// ```
#[diagnostic::on_unimplemented(
    message = "a `HandlerBuilder` cannot be invoked or run: its chain has no handler function yet",
    label = "this is a builder, not a `Handler`",
    note = "end the chain with `.handler(f)?` (or `.service(s)?`): the `Handler` it returns is what `invoke`, `invoke_with` and `lambda_runtime::run` take"
)]
pub trait Finished {
    #[doc(hidden)]
    fn never(&self) -> std::convert::Infallible;
}

impl<S> HandlerBuilder<S> {
    #[doc(hidden)]
    #[allow(unreachable_code)] // `never` returns no value: it cannot be called
    pub fn invoke<E>(&self, event: LambdaEvent<E>) -> std::future::Ready<Result<(), Error>>
    where
        S: Finished,
    {
        let _ = event;
        match self.stack.never() {}
    }

    #[doc(hidden)]
    #[allow(unreachable_code)]
    pub fn invoke_with<E>(&self, event: E, ctx: &Context) -> std::future::Ready<Result<(), Error>>
    where
        S: Finished,
    {
        let _ = (event, ctx);
        match self.stack.never() {}
    }
}

#[doc(hidden)]
#[allow(unreachable_code)]
impl<S, E> tower::Service<LambdaEvent<E>> for HandlerBuilder<S>
where
    S: Finished,
{
    type Response = ();
    type Error = Error;
    type Future = std::future::Ready<Result<(), Error>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Error>> {
        match self.stack.never() {}
    }

    fn call(&mut self, _: LambdaEvent<E>) -> Self::Future {
        match self.stack.never() {}
    }
}
