//! Chains around `lambda_http` handlers (feature `http`): API Gateway REST and HTTP
//! APIs and function URLs, run by `lambda_http::run`.
//!
//! Middlewares of an HTTP chain implement `Middleware<Request, Response<Body>>`: they
//! see the [`lambda_http::Request`], with the invocation's [`Context`] in it as
//! `lambda_http::run` puts it there (read it with
//! [`lambda_http::RequestExt::lambda_context_ref`], or use the `&Context` every
//! middleware gets), and the [`lambda_http::Response`] the handler returns. The handler is written in `lambda_http`'s own convention,
//! `async fn(Request) -> Result<Response<Body>, Error>` ([`WithRequest`]), or borrows
//! the context, `async fn(Request, &Context)`.
//!
//! A [`crate::Handler`] whose chain takes a `Request` is a
//! `tower::Service<lambda_http::Request>`, so `lambda_http::run(handler)` takes it as it
//! is. Per invocation that service clones the context out of the request (a few small
//! allocations) and keeps the chain's future in a slot it reuses
//! ([`ResponseFuture`]), next to the conversions
//! `lambda_http` itself makes.
//!
//! # Example: Powertools' "after logic" on an HTTP API
//!
//! ```
//! # extern crate lambda_middleware_core as lambda_middleware;
//! use std::time::Instant;
//! use lambda_http::{Body, Error, Request, RequestExt, Response};
//! use lambda_middleware::{Context, Handler, Invoke, Middleware, Next, Proceeded, local::LocalFunction};
//!
//! /// Adds the execution time and the request id to every response.
//! struct ResponseHeaders;
//!
//! impl Middleware<Request, Response<Body>> for ResponseHeaders {
//!     type Params = ();
//!
//!     async fn call<'n, I>(&self, _: &(), request: Request, ctx: &Context, next: Next<'n, I>)
//!         -> Result<Proceeded<'n, Response<Body>>, Error>
//!     where
//!         I: Invoke<Request, Response = Response<Body>>,
//!     {
//!         let started = Instant::now();
//!         let mut response = next.run(request).await?;
//!         let headers = response.response_mut().headers_mut();
//!         headers.insert("execution_time", started.elapsed().as_secs_f64().to_string().parse()?);
//!         headers.insert("aws_request_id", ctx.request_id.parse()?);
//!         Ok(response)
//!     }
//! }
//!
//! async fn hello(request: Request) -> Result<Response<Body>, Error> {
//!     let who = request.query_string_parameters_ref().and_then(|q| q.first("name")).unwrap_or("world");
//!     Ok(Response::builder().status(200).body(format!("hello, {who}").into())?)
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
//! let handler = Handler::builder().middleware(ResponseHeaders).handler(hello)?;
//!
//! // Deployed: `lambda_http::run(handler).await`. Here: once, on an API Gateway event.
//! let event = r#"{ "httpMethod": "GET", "path": "/hello", "headers": {},
//!                  "queryStringParameters": { "name": "Ada" },
//!                  "requestContext": { "httpMethod": "GET", "identity": {} } }"#;
//! let response = LocalFunction::default().request_id("r-42").invoke_http(&handler, event).await?;
//! assert_eq!(response["body"], "hello, Ada");
//! assert_eq!(response["multiValueHeaders"]["aws_request_id"][0], "r-42");
//! # Ok(()) }
//! ```

use std::future::Future;
use std::marker::PhantomData;
use std::task::{Context as TaskContext, Poll};

use lambda_http::{Request, RequestExt};
use lambda_runtime::{Context, Error};

use crate::chain::{Accept, Chain, FnHandler, Respond, Token};
use crate::diagnostic::InvocationError;
use crate::handler::Handler;
use crate::handler_fn::HandlerFn;
use crate::service::ResponseFuture;
use crate::trace::choice::EnvTrace;

/// Marks a handler in `lambda_http`'s convention, `async fn(Request) -> Result<R, Error>`
/// (also such a closure): the request is moved in, nothing is copied.
///
/// `R` is usually `lambda_http::Response<Body>`; anything that implements
/// `lambda_http::IntoResponse` works with `lambda_http::run`.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_http::{Body, Error, Request, Response};
/// use lambda_middleware::Handler;
///
/// async fn handler(request: Request) -> Result<Response<Body>, Error> {
///     Ok(Response::new(format!("{} {}", request.method(), request.uri().path()).into()))
/// }
///
/// let handler = Handler::builder().handler(handler)?;
/// # Ok::<(), lambda_middleware::BuildError>(())
/// ```
#[derive(Debug)]
pub struct WithRequest<R>(PhantomData<fn() -> R>);

impl<F, R, Fut> HandlerFn<WithRequest<R>> for F
where
    F: Fn(Request) -> Fut + Send + Sync,
    Fut: Future<Output = Result<R, Error>> + Send,
{
    type Event = Request;
    type Response = R;
}

impl<F, R> Respond for FnHandler<F, WithRequest<R>> {
    type Response = R;
}

impl<F, R> Accept for FnHandler<F, WithRequest<R>> {
    type Event = Request;
}

// Not listed in errors: which handler forms exist depends on the crate's features,
// and `HandlerFn`'s own message already says what a handler is.
#[diagnostic::do_not_recommend]
impl<F, R, Fut> Chain<Request> for FnHandler<F, WithRequest<R>>
where
    F: Fn(Request) -> Fut + Send + Sync,
    Fut: Future<Output = Result<R, Error>> + Send,
{
    const UNDECIDED: bool = false;

    fn check_chain(&self) -> Result<(), crate::BuildError> {
        Ok(())
    }

    #[inline(always)]
    fn run_chain<G: EnvTrace>(
        &self,
        request: Request,
        _: &Context,
        _: Token,
    ) -> impl Future<Output = Result<R, Error>> + Send {
        (self.function())(request)
    }
}

/// `lambda_http::run`'s entry point, and that of tower layers around a chain.
///
/// The context comes from the request, where `lambda_http::run` put it; a request
/// without one (built by hand in a test) runs with `Context::default()`. Any body type
/// is taken, so that a chain also works inside tower-http layers that change the
/// request's body (`RequestBodyLimitLayer`, `RequestDecompressionLayer`) when it is a
/// [`ChainLayer`](crate::layer::ChainLayer) or ends in a service.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_http::{Body, Error, Request, RequestExt, Response};
/// use lambda_middleware::{Context, Handler};
/// use tower::Service;
///
/// async fn who(request: Request) -> Result<Response<Body>, Error> {
///     let id = request.lambda_context_ref().map_or("none", |ctx| ctx.request_id.as_str());
///     Ok(Response::new(id.to_owned().into()))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let mut service = Handler::builder().handler(who)?;
/// let mut context = Context::default();
/// context.request_id = "r-7".into();
/// let request = Request::new(Body::Empty).with_lambda_context(context);
/// let response = service.call(request).await?;
/// assert_eq!(response.body(), &Body::from("r-7"));
/// # Ok(()) }
/// ```
impl<C, B> tower::Service<lambda_http::http::Request<B>> for Handler<C>
where
    C: Chain<lambda_http::http::Request<B>> + 'static,
    C::Response: Send + 'static,
    B: Send + 'static,
{
    type Response = C::Response;
    type Error = InvocationError;
    type Future = ResponseFuture<C, lambda_http::http::Request<B>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), InvocationError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: lambda_http::http::Request<B>) -> Self::Future {
        // The request keeps its context so that middlewares and the handler can read it
        // through `RequestExt`; the chain borrows this copy.
        let context = request.lambda_context_ref().cloned().unwrap_or_default();
        ResponseFuture::new(self, request, context)
    }
}
