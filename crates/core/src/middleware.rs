//! The [`Middleware`] trait: one `async fn call` holding the before-, after- and
//! on-error logic, or the three synchronous hooks `before`, `after` and `on_error`.

use std::future::Future;

use lambda_runtime::{Context, Error};

use crate::chain::Invoke;
use crate::hooks::{Flow, hooked};
use crate::next::{Next, Proceeded};

/// Logic that runs around a Lambda handler: before it, after it, and when it fails.
///
/// A middleware is one type implementing this trait, written in one of two ways:
///
/// - **`async fn call`**, for any logic, async or not. Code before
///   `next.run(event).await` is the before-logic, code after it the after-logic, and
///   the `Result` that `next.run` returns is where errors are seen, passed on (`?`),
///   replaced or recovered from. See [`Next`], [`Proceeded`] and
///   [`Failure`](crate::Failure).
/// - **hooks**, for synchronous logic (add headers, check a field, answer a preflight,
///   map an error to a response): [`before`](Middleware::before),
///   [`after`](Middleware::after) and [`on_error`](Middleware::on_error), Middy's
///   `before` / `after` / `onError`, typed. The chain calls the handler between them,
///   so a hook middleware cannot forget it or run it twice, and the layer compiles to a
///   named future with no `async` state of its own, as a hand-written tower layer
///   does. See [the `hooks` module](crate::hooks) for the exact rules and the cost.
///
/// Writing `call` replaces the hooks (the default `call` is what runs them), so a
/// middleware uses one way or the other; both kinds mix freely in one chain, in any
/// order, with the same onion rules.
///
/// The contract:
///
/// 1. Implement `Middleware<E, R>` for the event type `E` and response type `R` the
///    middleware works on: concrete types (`serde_json::Value`, an `aws_lambda_events`
///    struct, your own) or generic ones (`impl<E: Send, R: Send> Middleware<E, R>`).
/// 2. Say what it takes: `type Params = ()` for nothing, or a struct deriving
///    [`TypedBuilder`](typed_builder::TypedBuilder) (see [`middleware_with`]).
/// 3. Write `async fn call<'n, I>`, generic over the rest of the chain `I` and the
///    brand `'n` of this call; it must return `Ok` only with the [`Proceeded<'n, R>`]
///    that this call's `next` gives back, and the compiler holds it to that. Or write
///    the hooks you need instead.
///
/// The event travels by value and the [`Context`] by reference, as in Powertools'
/// `(handler, event, context)`; a middleware that wants to change the event before
/// the handler changes its own copy and passes that to `next.run`.
///
/// [`middleware_with`]: crate::HandlerBuilder::middleware_with
///
/// # Example: no params
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
/// use lambda_runtime::LambdaEvent;
/// use serde_json::{json, Value};
///
/// /// Adds the request id to every response.
/// struct RequestId;
///
/// impl Middleware<Value, Value> for RequestId {
///     type Params = ();
///
///     async fn call<'n, I>(&self, _: &(), event: Value, ctx: &Context, next: Next<'n, I>)
///         -> Result<Proceeded<'n, Value>, Error>
///     where
///         I: Invoke<Value, Response = Value>,
///     {
///         let mut response = next.run(event).await?;
///         response.response_mut()["request_id"] = json!(ctx.request_id);
///         Ok(response)
///     }
/// }
///
/// async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
///     Ok(json!({ "echo": event.payload }))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let handler = Handler::builder().middleware(RequestId).handler(handler)?;
///
/// let mut context = Context::default();
/// context.request_id = "abc-123".into();
/// let response = handler.invoke(LambdaEvent::new(json!(42), context)).await?;
/// assert_eq!(response, json!({ "echo": 42, "request_id": "abc-123" }));
/// # Ok(()) }
/// ```
///
/// # Example: the same with a hook
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Context, Error, Handler, Middleware};
/// use serde_json::{json, Value};
///
/// /// Adds the request id to every response.
/// struct RequestId;
///
/// impl Middleware<Value, Value> for RequestId {
///     type Params = ();
///
///     fn after(&self, _: &(), response: &mut Value, ctx: &Context) -> Result<(), Error> {
///         response["request_id"] = json!(ctx.request_id);
///         Ok(())
///     }
/// }
///
/// async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
///     Ok(json!({ "echo": event }))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let handler = Handler::builder().middleware(RequestId).handler(handler)?;
///
/// let mut context = Context::default();
/// context.request_id = "abc-123".into();
/// let response = handler.invoke_with(json!(42), &context).await?;
/// assert_eq!(response, json!({ "echo": 42, "request_id": "abc-123" }));
/// # Ok(()) }
/// ```
///
/// # Example: params and a generic middleware
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
/// use lambda_runtime::LambdaEvent;
/// use serde_json::{json, Value};
/// use typed_builder::TypedBuilder;
///
/// /// Fails invocations whose event is larger than a limit, for any event type.
/// struct MaxSize;
///
/// #[derive(TypedBuilder)]
/// struct MaxSizeParams {
///     /// Required: leaving it out of `MaxSizeParams::builder()` does not compile.
///     bytes: usize,
///     /// Optional, with a default.
///     #[builder(default = "payload too large")]
///     message: &'static str,
/// }
///
/// impl<E: serde::Serialize + Send + Sync, R: Send> Middleware<E, R> for MaxSize {
///     type Params = MaxSizeParams;
///
///     async fn call<'n, I>(&self, params: &MaxSizeParams, event: E, _: &Context, next: Next<'n, I>)
///         -> Result<Proceeded<'n, R>, Error>
///     where
///         I: Invoke<E, Response = R>,
///     {
///         if serde_json::to_vec(&event)?.len() > params.bytes {
///             return Err(params.message.into()); // the handler does not run
///         }
///         Ok(next.run(event).await?)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let handler = Handler::builder()
///     .middleware_with(MaxSize, MaxSizeParams::builder().bytes(8).build())
///     .handler(|event: LambdaEvent<Value>| async move { Ok::<_, Error>(event.payload) })?;
///
/// let small = handler.invoke(LambdaEvent::new(json!([1]), Context::default())).await;
/// assert_eq!(small?, json!([1]));
/// let large = handler.invoke(LambdaEvent::new(json!("a long string"), Context::default())).await;
/// assert_eq!(large.unwrap_err().to_string(), "payload too large");
/// # Ok(()) }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a middleware for events of type `{E}` with responses of type `{R}`",
    label = "this middleware does not fit the chain",
    note = "every middleware in a chain must implement `Middleware<E, R>` for the event `E` and response `R` of the handler at its end",
    note = "a `Transform` (one that hands the layers inside it another event or response type) is added with `.transform(..)`, not `.middleware(..)`"
)]
pub trait Middleware<E, R>: Send + Sync {
    /// What the middleware takes when it is added: `()` for nothing, otherwise a
    /// struct (built with `typed-builder`, so a missing required field is a compile
    /// error). Passed to every [`call`](Middleware::call) by reference.
    type Params: Send + Sync;

    /// Whether the definition asks to be traced: `Some(true)` or `Some(false)` decide
    /// unless the builder says otherwise ([`traced`](crate::HandlerBuilder::traced),
    /// [`untraced`](crate::HandlerBuilder::untraced)); `None` (the default) leaves it to
    /// `POWERTOOLS_TRACE_MIDDLEWARES`.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// # use lambda_middleware::Middleware;
    /// # use serde_json::Value;
    /// struct Audit;
    ///
    /// impl Middleware<Value, Value> for Audit {
    ///     type Params = ();
    ///     const TRACE_EXECUTION: Option<bool> = Some(true);
    /// }
    /// ```
    const TRACE_EXECUTION: Option<bool> = None;

    /// The middleware's name, shown as `## <name>` when it is traced.
    ///
    /// Defaults to the type's own name without its module path or generic
    /// arguments (`ObfuscateFields` for `my_crate::ObfuscateFields<T>`).
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// # use lambda_middleware::Middleware;
    /// # use serde_json::Value;
    /// struct Obfuscate;
    ///
    /// impl Middleware<Value, Value> for Obfuscate {
    ///     type Params = ();
    ///
    ///     fn name(&self) -> &'static str {
    ///         "obfuscate_sensitive_data"
    ///     }
    /// }
    /// assert_eq!(Middleware::<Value, Value>::name(&Obfuscate), "obfuscate_sensitive_data");
    /// ```
    fn name(&self) -> &'static str {
        short_type_name(std::any::type_name::<Self>())
    }

    /// Refuses params that would make the middleware misbehave, when the handler is
    /// built: [`HandlerBuilder::handler`](crate::HandlerBuilder::handler) returns the
    /// error, so a misconfigured function fails once at start-up with a message that
    /// says what to fix, not on every invocation. The default accepts anything.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{BuildError, Context, Error, Handler, Middleware};
    /// use serde_json::Value;
    ///
    /// struct Sample;
    ///
    /// impl Middleware<Value, Value> for Sample {
    ///     type Params = f64; // the fraction of invocations to sample
    ///
    ///     fn check(&self, rate: &f64) -> Result<(), BuildError> {
    ///         if !(0.0..=1.0).contains(rate) {
    ///             return Err(BuildError::invalid_params("sample", format!("the rate is {rate}; expected 0 to 1")));
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// async fn handler(event: Value, _: &Context) -> Result<Value, Error> { Ok(event) }
    ///
    /// let error = Handler::builder().middleware_with(Sample, 1.5).handler(handler).unwrap_err();
    /// assert_eq!(error.to_string(), "sample: the rate is 1.5; expected 0 to 1");
    /// ```
    fn check(&self, params: &Self::Params) -> Result<(), crate::BuildError> {
        let _ = params;
        Ok(())
    }

    /// Runs before the rest of the chain, with the event to look at or change.
    ///
    /// Return `Ok(Flow::Continue)` to go on to the inner layers and the handler,
    /// `Ok(Flow::RespondEarly(response))` to answer without them (their `before`, the
    /// handler, and this middleware's own `after` do not run; outer middlewares still
    /// get the response), or `Err` to fail without them (this middleware's own
    /// `on_error` does not see it; outer middlewares do).
    ///
    /// Used by the default [`call`](Middleware::call) only: a middleware that writes
    /// `call` does not get its hooks called. The default does nothing.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::hooks::Flow;
    /// use lambda_middleware::{Context, Error, Handler, Middleware};
    /// use serde_json::{json, Value};
    ///
    /// /// Answers warm-up pings without the handler, and defaults a field.
    /// struct Prepare;
    ///
    /// impl Middleware<Value, Value> for Prepare {
    ///     type Params = ();
    ///
    ///     fn before(&self, _: &(), event: &mut Value, _: &Context) -> Result<Flow<Value>, Error> {
    ///         if event["source"] == "warmer" {
    ///             return Ok(Flow::RespondEarly(json!("warm")));
    ///         }
    ///         if !event["amount"].is_number() {
    ///             return Err("amount must be a number".into());
    ///         }
    ///         event["currency"] = json!(event["currency"].as_str().unwrap_or("EUR"));
    ///         Ok(Flow::Continue)
    ///     }
    /// }
    ///
    /// async fn handler(event: Value, _: &Context) -> Result<Value, Error> { Ok(event) }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let handler = Handler::builder().middleware(Prepare).handler(handler)?;
    /// let context = Context::default();
    /// assert_eq!(handler.invoke_with(json!({ "source": "warmer" }), &context).await?, "warm");
    /// assert_eq!(handler.invoke_with(json!({ "amount": 5 }), &context).await?["currency"], "EUR");
    /// assert!(handler.invoke_with(json!({}), &context).await.is_err());
    /// # Ok(()) }
    /// ```
    #[inline(always)]
    fn before(&self, params: &Self::Params, event: &mut E, ctx: &Context) -> Result<Flow<R>, Error> {
        let _ = (params, event, ctx);
        Ok(Flow::Continue)
    }

    /// Runs after the inner layers and the handler succeeded, with their response to
    /// look at or change.
    ///
    /// It does not run after this middleware's own early response or after a
    /// recovery by its own [`on_error`](Middleware::on_error). An `Err` fails the
    /// invocation from here: outer middlewares see it, this middleware's own
    /// `on_error` does not.
    ///
    /// Used by the default [`call`](Middleware::call) only. The default does nothing.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Context, Error, Handler, Middleware};
    /// use serde_json::{json, Value};
    ///
    /// struct PoweredBy;
    ///
    /// impl Middleware<Value, Value> for PoweredBy {
    ///     type Params = ();
    ///
    ///     fn after(&self, _: &(), response: &mut Value, _: &Context) -> Result<(), Error> {
    ///         response["headers"]["x-powered-by"] = json!("lambda-middleware");
    ///         Ok(())
    ///     }
    /// }
    ///
    /// async fn handler(_: Value, _: &Context) -> Result<Value, Error> { Ok(json!({ "statusCode": 200 })) }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let handler = Handler::builder().middleware(PoweredBy).handler(handler)?;
    /// let response = handler.invoke_with(json!({}), &Context::default()).await?;
    /// assert_eq!(response["headers"]["x-powered-by"], "lambda-middleware");
    /// # Ok(()) }
    /// ```
    #[inline(always)]
    fn after(&self, params: &Self::Params, response: &mut R, ctx: &Context) -> Result<(), Error> {
        let _ = (params, response, ctx);
        Ok(())
    }

    /// Runs when the inner layers or the handler failed, with their error.
    ///
    /// Return `Err(error)` to pass it on, another `Err` to replace it, or `Ok(response)`
    /// to recover: the outer middlewares then get `response` as if the chain had
    /// succeeded (this middleware's own `after` does not run on it).
    ///
    /// Used by the default [`call`](Middleware::call) only. The default passes the
    /// error on.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Context, Error, Handler, Middleware};
    /// use serde_json::{json, Value};
    ///
    /// struct NotFoundIs404;
    ///
    /// #[derive(Debug, thiserror::Error)]
    /// #[error("no such booking")]
    /// struct NotFound;
    ///
    /// impl Middleware<Value, Value> for NotFoundIs404 {
    ///     type Params = ();
    ///
    ///     fn on_error(&self, _: &(), error: Error, _: &Context) -> Result<Value, Error> {
    ///         if error.is::<NotFound>() {
    ///             return Ok(json!({ "statusCode": 404, "body": error.to_string() }));
    ///         }
    ///         Err(error)
    ///     }
    /// }
    ///
    /// async fn handler(_: Value, _: &Context) -> Result<Value, Error> { Err(NotFound.into()) }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let handler = Handler::builder().middleware(NotFoundIs404).handler(handler)?;
    /// let response = handler.invoke_with(json!({}), &Context::default()).await?;
    /// assert_eq!(response["statusCode"], 404);
    /// # Ok(()) }
    /// ```
    #[inline(always)]
    fn on_error(&self, params: &Self::Params, error: Error, ctx: &Context) -> Result<R, Error> {
        let _ = (params, ctx);
        Err(error)
    }

    /// Runs the middleware: before-logic, `next.run(event).await`, after-logic.
    ///
    /// Implement it as an `async fn call<'n, I>`; the future it returns must be
    /// `Send`, which it is when everything it holds across an `.await` is. `'n` is
    /// the brand of this call (see [`Next`]): the [`Proceeded<'n, R>`] returned must
    /// be the one this call's `next` made.
    ///
    /// The default runs the hooks ([`before`](Middleware::before),
    /// [`after`](Middleware::after), [`on_error`](Middleware::on_error)) around the
    /// rest of the chain, as a named future.
    #[inline(always)]
    fn call<'n, I>(
        &self,
        params: &Self::Params,
        event: E,
        ctx: &Context,
        next: Next<'n, I>,
    ) -> impl Future<Output = Result<Proceeded<'n, R>, Error>> + Send
    where
        I: Invoke<E, Response = R>,
        R: Send,
        Self: Sized,
    {
        let _ = ctx; // the same context as `next.context()`, which the hooks get
        hooked!(self, params, event, next)
    }
}

/// The name a layer of type `M` has in a chain's `Debug` list: its short type name, or
/// for a hosted tower layer (`TowerLayer<CompressionLayer, ..>`) the tower layer's.
pub(crate) fn layer_display_name<M>() -> &'static str {
    let full = std::any::type_name::<M>();
    // `TowerLayer`'s own path as the compiler spells it, read off the type itself so
    // that moving the type cannot silently break the match (the unit test below pins
    // the result).
    let hosted = std::any::type_name::<crate::layer::TowerLayer<(), crate::layer::SameEvent, ()>>();
    let prefix = hosted.split('<').next().unwrap_or(hosted);
    match full.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('<')) {
        Some(arguments) => {
            // The first generic argument: the tower layer's own type.
            let layer = arguments.split([',', '>']).next().unwrap_or(arguments);
            short_type_name(layer)
        }
        None => short_type_name(full),
    }
}

/// A type's name without its path and generics: `a::b::Name<c::D>` → `Name`; what the
/// built-in middlewares call themselves by default.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::support::short_type_name;
///
/// assert_eq!(short_type_name(std::any::type_name::<Vec<String>>()), "Vec");
/// assert_eq!(short_type_name("my_crate::auth::Bearer<my_crate::Claims>"), "Bearer");
/// ```
pub fn short_type_name(full: &'static str) -> &'static str {
    let without_generics = full.split('<').next().unwrap_or(full);
    without_generics.rsplit("::").next().unwrap_or(without_generics)
}

#[cfg(test)]
mod tests {
    use super::short_type_name;

    #[test]
    fn a_hosted_tower_layer_is_shown_by_its_own_name() {
        use super::layer_display_name;
        type Hosted = crate::layer::TowerLayer<tower::layer::util::Identity, crate::layer::SameEvent, u8>;
        assert_eq!(layer_display_name::<Hosted>(), "Identity");
        type Generic = crate::layer::TowerLayer<tower::layer::util::Stack<u8, u16>, crate::layer::Taking<u32>, u8>;
        assert_eq!(layer_display_name::<Generic>(), "Stack");
        assert_eq!(layer_display_name::<crate::Handler<u8>>(), "Handler");
    }

    #[test]
    fn short_names_drop_paths_and_generics() {
        assert_eq!(short_type_name("a::b::Name<c::D<e::F>>"), "Name");
        assert_eq!(short_type_name("Name"), "Name");
        assert_eq!(short_type_name("crate::Plain"), "Plain");
    }
}
