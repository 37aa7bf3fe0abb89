//! The [`Transform`] trait: a middleware that changes the event or the response type
//! on the way.

use std::future::Future;

use lambda_runtime::{Context, Error};

use crate::chain::Invoke;
use crate::middleware::short_type_name;
use crate::next::{Next, Proceeded};

/// A middleware whose inner event or response type differs from its own: it parses
/// the event, hands typed data to the handler, or shapes the response.
///
/// `Transform<E, R>` is implemented for the types the *rest of the chain* takes (`E`)
/// and gives back (`R`); [`Event`](Transform::Event) and
/// [`Response`](Transform::Response) are what the middleware itself takes from the
/// layer outside it and gives back to it. So the types of a chain are found from the
/// handler outwards: the handler takes `E` and gives back `R`, the transform just
/// outside it takes `Event` and gives back `Response`, and so on to the outermost
/// layer, whose types are the function's. Middlewares that change nothing implement
/// [`Middleware`](crate::Middleware) as before; both kinds mix freely in one chain.
///
/// Add one with [`HandlerBuilder::transform`](crate::HandlerBuilder::transform) (or
/// [`transform_with`](crate::HandlerBuilder::transform_with) when it takes params).
///
/// `call` is an `async fn` like [`Middleware::call`](crate::Middleware::call), with one
/// difference: its `Next<'n, I, Self::Response>` names the middleware's own response
/// type, because that is what an early answer ([`Next::respond_early`]) and a
/// recovery ([`Failure::recover`](crate::Failure::recover)) must be, while
/// `next.run(inner_event)` gives back the rest of the chain's `R`, which
/// [`Proceeded::map`] turns into `Self::Response`.
///
/// # Example: an event parser and a response serialiser
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Context, Error, Handler, Invoke, Next, Proceeded, Transform};
/// use serde::{Deserialize, Serialize};
/// use serde_json::{json, Value};
///
/// #[derive(Deserialize)]
/// struct Order { id: u64, quantity: u32 }
///
/// #[derive(Serialize)]
/// struct Receipt { id: u64, total_cents: u64 }
///
/// /// Takes any JSON event, hands an `Order` inwards.
/// struct ParseOrder;
///
/// impl<R: Send> Transform<Order, R> for ParseOrder {
///     type Event = Value;
///     type Response = R;
///     type Params = ();
///
///     async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I, R>)
///         -> Result<Proceeded<'n, R>, Error>
///     where
///         I: Invoke<Order, Response = R>,
///     {
///         let order: Order = serde_json::from_value(event)?;
///         Ok(next.run(order).await?)
///     }
/// }
///
/// /// Gives back JSON, whatever serialisable value the inner layers return.
/// struct ToJson;
///
/// impl<E: Send, T: Serialize + Send> Transform<E, T> for ToJson {
///     type Event = E;
///     type Response = Value;
///     type Params = ();
///
///     async fn call<'n, I>(&self, _: &(), event: E, _: &Context, next: Next<'n, I, Value>)
///         -> Result<Proceeded<'n, Value>, Error>
///     where
///         I: Invoke<E, Response = T>,
///     {
///         let response = next.run(event).await?;
///         let json = serde_json::to_value(response.response())?;
///         Ok(response.map(|_| json))
///     }
/// }
///
/// async fn price(order: Order, _: &Context) -> Result<Receipt, Error> {
///     Ok(Receipt { id: order.id, total_cents: 250 * u64::from(order.quantity) })
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// // Value in, Value out; the handler sees an `Order` and returns a `Receipt`.
/// let handler = Handler::builder().transform(ToJson).transform(ParseOrder).handler(price)?;
/// let response = handler.invoke_with(json!({ "id": 7, "quantity": 2 }), &Context::default()).await?;
/// assert_eq!(response, json!({ "id": 7, "total_cents": 500 }));
/// # Ok(()) }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not hand the rest of the chain events of type `{E}` and take back responses of type `{R}`",
    label = "this transform does not fit the layers inside it",
    note = "a transform implements `Transform<E, R>` for the event `E` the layers inside it (and the handler) take and the response `R` they give back"
)]
pub trait Transform<E, R>: Send + Sync {
    /// The event this middleware takes from the layer outside it.
    type Event;
    /// The response this middleware gives back to the layer outside it.
    type Response;
    /// What the middleware takes when it is added: `()` for nothing, otherwise a struct
    /// (built with `typed-builder`), as for [`Middleware::Params`](crate::Middleware::Params).
    type Params: Send + Sync;

    /// Whether the definition asks to be traced, as
    /// [`Middleware::TRACE_EXECUTION`](crate::Middleware::TRACE_EXECUTION).
    const TRACE_EXECUTION: Option<bool> = None;

    /// The middleware's name, shown as `## <name>` when it is traced. Defaults to the
    /// type's own name without its module path or generic arguments.
    fn name(&self) -> &'static str {
        short_type_name(std::any::type_name::<Self>())
    }

    /// Refuses params at build time, as [`Middleware::check`](crate::Middleware::check).
    fn check(&self, params: &Self::Params) -> Result<(), crate::BuildError> {
        let _ = params;
        Ok(())
    }

    /// Runs the middleware: turn `event` into what the rest of the chain takes, run it
    /// with `next.run(..)`, turn its response into `Self::Response`.
    fn call<'n, I>(
        &self,
        params: &Self::Params,
        event: Self::Event,
        ctx: &Context,
        next: Next<'n, I, Self::Response>,
    ) -> impl Future<Output = Result<Proceeded<'n, Self::Response>, Error>> + Send
    where
        I: Invoke<E, Response = R>;
}

/// An event with data that a middleware computed for the layers inside it: a verified
/// user, a tenant, a set of feature flags.
///
/// The typed form of Middy's `request.internal` and axum's extensions: a
/// [`Transform`] whose [`Event`](Transform::Event) is `E` hands `With<D, E>` inwards, and
/// the handler's signature says it receives `D`. A middleware inside that only needs
/// the event reads `.event`; the HTTP built-ins read the headers of a `With<D, E>` as
/// those of its `E`.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Context, Error, Handler, Invoke, Next, Proceeded, Transform, With};
/// use serde_json::{json, Value};
///
/// /// The tenant, from the event's `tenant` field.
/// struct Tenant(String);
///
/// struct FindTenant;
///
/// impl<R: Send> Transform<With<Tenant, Value>, R> for FindTenant {
///     type Event = Value;
///     type Response = R;
///     type Params = ();
///
///     async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I, R>)
///         -> Result<Proceeded<'n, R>, Error>
///     where
///         I: Invoke<With<Tenant, Value>, Response = R>,
///     {
///         let tenant = Tenant(event["tenant"].as_str().ok_or("no tenant")?.to_owned());
///         Ok(next.run(With::new(tenant, event)).await?)
///     }
/// }
///
/// async fn handler(request: With<Tenant, Value>, _: &Context) -> Result<Value, Error> {
///     Ok(json!({ "tenant": request.data.0, "order": request.event["order"] }))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let handler = Handler::builder().transform(FindTenant).handler(handler)?;
/// let response = handler.invoke_with(json!({ "tenant": "acme", "order": 7 }), &Context::default()).await?;
/// assert_eq!(response, json!({ "tenant": "acme", "order": 7 }));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct With<D, E> {
    /// What the middleware computed.
    pub data: D,
    /// The event, as the middleware passed it on.
    pub event: E,
}

impl<D, E> With<D, E> {
    /// `event` with `data`.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// let with = lambda_middleware::With::new("admin", 42);
    /// assert_eq!((with.data, with.event), ("admin", 42));
    /// ```
    pub fn new(data: D, event: E) -> Self {
        With { data, event }
    }
}
