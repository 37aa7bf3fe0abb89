//! The [`Middleware`] trait: one `async fn call` holds the before-, after- and
//! on-error logic.

use std::future::Future;

use lambda_runtime::{Context, Error};

use crate::chain::Invoke;
use crate::next::{Next, Proceeded};

/// Logic that runs around a Lambda handler: before it, after it, and when it fails.
///
/// A middleware is one type with one `async fn call`. Code before
/// `next.run(event).await` is the before-logic, code after it the after-logic, and the
/// `Result` that `next.run` returns is where errors are seen, passed on (`?`),
/// replaced or recovered from. See [`Next`], [`Proceeded`] and
/// [`Failure`](crate::Failure).
///
/// The contract:
///
/// 1. Implement `Middleware<E, R>` for the event type `E` and response type `R` the
///    middleware works on: concrete types (`serde_json::Value`, an `aws_lambda_events`
///    struct, your own) or generic ones (`impl<E: Send, R: Send> Middleware<E, R>`).
/// 2. Say what it takes: `type Params = ()` for nothing, or a struct deriving
///    [`TypedBuilder`](typed_builder::TypedBuilder) (see [`middleware_with`]).
/// 3. Write `async fn call`, generic over the rest of the chain `I`; it must return
///    `Ok` only with the [`Proceeded`] that `next` gives back, and the compiler holds
///    it to that.
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
///     async fn call<I>(&self, _: &(), event: Value, ctx: &Context, next: Next<'_, I>)
///         -> Result<Proceeded<Value>, Error>
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
/// # Example: params and a generic middleware
///
/// ```
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
///     async fn call<I>(&self, params: &MaxSizeParams, event: E, _: &Context, next: Next<'_, I>)
///         -> Result<Proceeded<R>, Error>
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
    note = "every middleware in a chain must implement `Middleware<E, R>` for the event `E` and response `R` of the handler at its end"
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
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::Value;
    /// struct Audit;
    ///
    /// impl Middleware<Value, Value> for Audit {
    ///     type Params = ();
    ///     const TRACE_EXECUTION: Option<bool> = Some(true);
    /// #   async fn call<I>(&self, _: &(), event: Value, _: &Context, next: Next<'_, I>)
    /// #       -> Result<Proceeded<Value>, Error> where I: Invoke<Value, Response = Value>
    /// #   { Ok(next.run(event).await?) }
    /// }
    /// ```
    const TRACE_EXECUTION: Option<bool> = None;

    /// The middleware's name, shown as `## <name>` when it is traced.
    ///
    /// Defaults to the type's own name without its module path or generic
    /// arguments (`ObfuscateFields` for `my_crate::ObfuscateFields<T>`).
    ///
    /// ```
    /// # use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
    /// # use serde_json::Value;
    /// struct Obfuscate;
    ///
    /// impl Middleware<Value, Value> for Obfuscate {
    ///     type Params = ();
    ///
    ///     fn name(&self) -> &'static str {
    ///         "obfuscate_sensitive_data"
    ///     }
    /// #   async fn call<I>(&self, _: &(), event: Value, _: &Context, next: Next<'_, I>)
    /// #       -> Result<Proceeded<Value>, Error> where I: Invoke<Value, Response = Value>
    /// #   { Ok(next.run(event).await?) }
    /// }
    /// assert_eq!(Middleware::<Value, Value>::name(&Obfuscate), "obfuscate_sensitive_data");
    /// ```
    fn name(&self) -> &'static str {
        short_type_name(std::any::type_name::<Self>())
    }

    /// Runs the middleware: before-logic, `next.run(event).await`, after-logic.
    ///
    /// Implement it as an `async fn`; the future it returns must be `Send`, which it is
    /// when everything it holds across an `.await` is.
    fn call<I>(
        &self,
        params: &Self::Params,
        event: E,
        ctx: &Context,
        next: Next<'_, I>,
    ) -> impl Future<Output = Result<Proceeded<R>, Error>> + Send
    where
        I: Invoke<E, Response = R>;
}

/// `a::b::Name<c::D>` → `Name`.
pub(crate) fn short_type_name(full: &'static str) -> &'static str {
    let without_generics = full.split('<').next().unwrap_or(full);
    without_generics.rsplit("::").next().unwrap_or(without_generics)
}

#[cfg(test)]
mod tests {
    use super::short_type_name;

    #[test]
    fn short_names_drop_paths_and_generics() {
        assert_eq!(short_type_name("a::b::Name<c::D<e::F>>"), "Name");
        assert_eq!(short_type_name("Name"), "Name");
        assert_eq!(short_type_name("crate::Plain"), "Plain");
    }
}
