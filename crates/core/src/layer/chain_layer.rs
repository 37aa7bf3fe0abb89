//! [`ChainLayer`]: the middlewares of a chain, without its handler, as a `tower::Layer`.

use std::fmt;
use std::marker::PhantomData;

use tower::{Layer, Service};

use crate::builder::{Assemble, CloneStack, DescribeStack};
use crate::chain::{ServiceEnd, TakesEvent, TakesLambdaEvent};
use crate::handler::Handler;
use lambda_runtime::LambdaEvent;

/// The middlewares of a chain as a `tower::Layer`: around any service, they make the
/// same [`Handler`] that [`HandlerBuilder::service`](crate::HandlerBuilder::service)
/// would, so a chain drops into an existing `tower::ServiceBuilder` next to tower-http's
/// layers, outside or inside them.
///
/// Made by [`HandlerBuilder::into_layer`](crate::HandlerBuilder::into_layer) (for a
/// service that takes the chain's event: an axum `Router`, a `lambda_http` service) or
/// [`HandlerBuilder::into_lambda_layer`](crate::HandlerBuilder::into_lambda_layer) (for
/// one that takes a `LambdaEvent<E>`: a `lambda_runtime::service_fn`). `F` is that form
/// and `R` the service's response type; both were checked against every middleware,
/// and every middleware's params, when the layer was made.
///
/// **Which runs first?** As everywhere in tower, the layer added first to a
/// `ServiceBuilder` is the outermost. Inside the chain, the first middleware added is
/// the outermost, as in any chain. So
/// `ServiceBuilder::new().layer(trace).layer(chain).layer(compression).service(router)`
/// runs `trace`, then the chain's middlewares in the order they were added, then
/// `compression`, then the router — and back out in reverse.
///
/// **What it costs.** The chain itself costs what it costs in a [`Handler`]; the
/// `Handler` it makes is a `tower::Service`, whose `call` keeps the invocation's
/// future in a slot it reuses (see [`Handler`]). Making the layer clones the middlewares and their params
/// once per `layer(..)` call, which tower makes once when the stack is built.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Context, Error, Handler, Middleware};
/// use lambda_runtime::LambdaEvent;
/// use tower::{Service, ServiceBuilder, ServiceExt};
/// use serde_json::{json, Value};
///
/// /// Adds `X-Content-Type-Options: nosniff` to every response.
/// #[derive(Clone)]
/// struct NoSniff;
///
/// impl Middleware<Value, Value> for NoSniff {
///     type Params = ();
///
///     fn after(&self, _: &(), response: &mut Value, _: &Context) -> Result<(), Error> {
///         response["headers"]["X-Content-Type-Options"] = json!("nosniff");
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// // The chain's middlewares, checked against a service on `Value`s answering `Value`s.
/// let chain = Handler::builder().middleware(NoSniff).into_layer::<Value, Value>()?;
///
/// // A tower stack as it already is, with the chain as one more layer.
/// let mut service = ServiceBuilder::new()
///     .layer(chain)
///     .service_fn(|_: Value| async { Ok::<Value, Error>(json!({ "statusCode": 200 })) });
///
/// // The handler it makes takes what lambda_runtime hands over: a `LambdaEvent`.
/// let response = service.ready().await?.call(LambdaEvent::new(json!({}), Context::default())).await?;
/// assert_eq!(response["headers"]["X-Content-Type-Options"], "nosniff");
/// # Ok(()) }
/// ```
#[must_use = "a layer does nothing until it wraps a service"]
pub struct ChainLayer<S, F, R> {
    stack: S,
    trace_env: bool,
    _types: PhantomData<fn() -> (F, R)>,
}

impl<S, F, R> ChainLayer<S, F, R> {
    pub(crate) fn new(stack: S, trace_env: bool) -> Self {
        ChainLayer {
            stack,
            trace_env,
            _types: PhantomData,
        }
    }
}

impl<S: Clone, F, R> Clone for ChainLayer<S, F, R> {
    fn clone(&self) -> Self {
        ChainLayer::new(self.stack.clone(), self.trace_env)
    }
}

/// The middlewares' checks, run again on the chain a layer makes: they were passed when
/// the layer was made (on a copy of the same params), and what they decide then — the
/// switches a middleware reads from the environment once — is kept by the params of
/// this chain too.
fn checked<C: CheckChain>(chain: C) -> C {
    if let Err(error) = chain.check() {
        // Not reached: the same params passed the same checks in `into_layer`, unless
        // the environment changed in between. The error is not lost.
        tracing::error!(%error, "a middleware of a ChainLayer refused its params");
    }
    chain
}

/// `Chain::check_chain`, without naming the chain's event type.
trait CheckChain {
    fn check(&self) -> Result<(), crate::BuildError>;
}

impl<C: crate::chain::Accept + crate::chain::Chain<<C as crate::chain::Accept>::Event>> CheckChain for C {
    fn check(&self) -> Result<(), crate::BuildError> {
        self.check_chain()
    }
}

impl<S, Svc, E, R> Layer<Svc> for ChainLayer<S, TakesEvent<E>, R>
where
    S: Assemble<ServiceEnd<Svc, TakesEvent<E>>> + CloneStack,
    S::Chain: CheckChain,
    Svc: Service<E, Response = R>,
{
    type Service = Handler<S::Chain>;

    fn layer(&self, service: Svc) -> Self::Service {
        Handler::new(
            checked(self.stack.clone().assemble(ServiceEnd::new(service))),
            self.trace_env,
        )
    }
}

impl<S, Svc, E, R> Layer<Svc> for ChainLayer<S, TakesLambdaEvent<E>, R>
where
    S: Assemble<ServiceEnd<Svc, TakesLambdaEvent<E>>> + CloneStack,
    S::Chain: CheckChain,
    Svc: Service<LambdaEvent<E>, Response = R>,
{
    type Service = Handler<S::Chain>;

    fn layer(&self, service: Svc) -> Self::Service {
        Handler::new(
            checked(self.stack.clone().assemble(ServiceEnd::new(service))),
            self.trace_env,
        )
    }
}

/// Prints the middlewares in the order they run, as a chain does, with `service` where
/// the wrapped service will be.
impl<S: DescribeStack, F, R> fmt::Debug for ChainLayer<S, F, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChainLayer(")?;
        let mut list = f.debug_list();
        self.stack.describe_stack(&mut list);
        list.entry(&format_args!("service"));
        list.finish()?;
        f.write_str(")")
    }
}
