//! [`ServiceEnd`]: a `tower::Service` at the end of a chain, where a handler function
//! would be — an axum `Router` under `lambda_http`, a `lambda_runtime::service_fn`, a
//! stack of tower layers around either.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use lambda_runtime::{Context, Error, LambdaEvent};
use pin_project_lite::pin_project;
use tower::Service;
use tower::util::Oneshot;

use super::{Accept, Chain, DescribeChain, Respond, Token, sealed};
use crate::trace::choice::EnvTrace;

/// A `tower::Service` at the end of a chain, in one of two forms:
///
/// | form | the service takes | made by |
/// |------|-------------------|---------|
/// | [`TakesEvent<E>`] | the chain's event `E` itself: a `lambda_http::Request` (which carries its Lambda context), or any request type | [`HandlerBuilder::service`](crate::HandlerBuilder::service) |
/// | [`TakesLambdaEvent<E>`] | `LambdaEvent<E>`, lambda_runtime's own convention: the chain's event and a clone of the context | [`HandlerBuilder::lambda_service`](crate::HandlerBuilder::lambda_service) |
///
/// The service must be `Clone`: the chain is shared by every invocation (and, under
/// `run_concurrent`, by several at once), and `Service::call` takes `&mut self`, so each
/// invocation clones the service, waits for it to be ready (`poll_ready`) and calls it
/// once — what `tower::ServiceExt::oneshot` does, and what `lambda_http::run` does with
/// an axum `Router` (whose clone is one reference count). Its error becomes the chain's
/// error (`Into<lambda_runtime::Error>`, which every `std::error::Error` and axum's
/// `Infallible` are).
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Context, Error, Handler};
/// use lambda_middleware::chain::{TakesEvent, ServiceEnd};
/// use tower::service_fn;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// // Any `tower::Service` that takes the chain's event: here a plain one on `u32`s.
/// let double = service_fn(|n: u32| async move { Ok::<u32, Error>(2 * n) });
/// let handler = Handler::builder().service(double)?;
/// let _: &ServiceEnd<_, TakesEvent<u32>> = handler.chain();
/// assert_eq!(handler.invoke_with(21, &Context::default()).await?, 42);
/// # Ok(()) }
/// ```
pub struct ServiceEnd<S, F> {
    service: S,
    _form: PhantomData<fn() -> F>,
}

/// The form of a [`ServiceEnd`] whose service takes the chain's event `E` as it is.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Error, Handler};
///
/// let echo = tower::service_fn(|text: String| async move { Ok::<String, Error>(text) });
/// let handler = Handler::builder().service(echo)?; // a `ServiceEnd<_, TakesEvent<String>>`
/// # Ok::<(), lambda_middleware::BuildError>(())
/// ```
#[derive(Debug)]
pub struct TakesEvent<E>(PhantomData<fn(E)>);

/// The form of a [`ServiceEnd`] whose service takes `LambdaEvent<E>`, lambda_runtime's
/// convention: the chain hands it its event and a clone of the invocation's context
/// (a few small allocations, as for a handler function that takes a `LambdaEvent`).
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Error, Handler};
/// use lambda_runtime::{service_fn, LambdaEvent};
///
/// let echo = service_fn(|event: LambdaEvent<String>| async move { Ok::<String, Error>(event.payload) });
/// let handler = Handler::builder().lambda_service(echo)?; // a `ServiceEnd<_, TakesLambdaEvent<String>>`
/// # Ok::<(), lambda_middleware::BuildError>(())
/// ```
#[derive(Debug)]
pub struct TakesLambdaEvent<E>(PhantomData<fn(E)>);

impl<S, F> ServiceEnd<S, F> {
    pub(crate) fn new(service: S) -> Self {
        ServiceEnd {
            service,
            _form: PhantomData,
        }
    }

    /// The service.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Error, Handler};
    ///
    /// let len = tower::service_fn(|text: String| async move { Ok::<usize, Error>(text.len()) });
    /// let handler = Handler::builder().service(len)?;
    /// let _service = handler.chain().service();
    /// # Ok::<(), lambda_middleware::BuildError>(())
    /// ```
    pub fn service(&self) -> &S {
        &self.service
    }
}

impl<S: Clone, F> Clone for ServiceEnd<S, F> {
    fn clone(&self) -> Self {
        ServiceEnd::new(self.service.clone())
    }
}

impl<S, F> sealed::Sealed for ServiceEnd<S, F> {}

impl<S, E> Respond for ServiceEnd<S, TakesEvent<E>>
where
    S: Service<E>,
{
    type Response = S::Response;
}

impl<S, E> Accept for ServiceEnd<S, TakesEvent<E>> {
    type Event = E;
}

impl<S, E> Respond for ServiceEnd<S, TakesLambdaEvent<E>>
where
    S: Service<LambdaEvent<E>>,
{
    type Response = S::Response;
}

impl<S, E> Accept for ServiceEnd<S, TakesLambdaEvent<E>> {
    type Event = E;
}

// Not listed in errors: the handler forms' own messages say what can end a chain.
#[diagnostic::do_not_recommend]
impl<S, E> Chain<E> for ServiceEnd<S, TakesEvent<E>>
where
    S: Service<E> + Clone + Send + Sync,
    S::Future: Send,
    S::Error: Into<Error>,
    E: Send,
{
    const UNDECIDED: bool = false;

    fn check_chain(&self) -> Result<(), crate::BuildError> {
        Ok(())
    }

    #[inline(always)]
    fn run_chain<G: EnvTrace>(
        &self,
        event: E,
        _: &Context,
        _: Token,
    ) -> impl Future<Output = Result<S::Response, Error>> + Send {
        ServiceCall {
            call: Oneshot::new(self.service.clone(), event),
        }
    }
}

// Not listed in errors: the handler forms' own messages say what can end a chain.
#[diagnostic::do_not_recommend]
impl<S, E> Chain<E> for ServiceEnd<S, TakesLambdaEvent<E>>
where
    S: Service<LambdaEvent<E>> + Clone + Send + Sync,
    S::Future: Send,
    S::Error: Into<Error>,
    E: Send,
{
    const UNDECIDED: bool = false;

    fn check_chain(&self) -> Result<(), crate::BuildError> {
        Ok(())
    }

    #[inline(always)]
    fn run_chain<G: EnvTrace>(
        &self,
        event: E,
        ctx: &Context,
        _: Token,
    ) -> impl Future<Output = Result<S::Response, Error>> + Send {
        ServiceCall {
            call: Oneshot::new(self.service.clone(), LambdaEvent::new(event, ctx.clone())),
        }
    }
}

pin_project! {
    /// One call of the service: ready, then called, with its error made the chain's.
    struct ServiceCall<S: Service<Req>, Req> {
        #[pin]
        call: Oneshot<S, Req>,
    }
}

impl<S, Req> Future for ServiceCall<S, Req>
where
    S: Service<Req>,
    S::Error: Into<Error>,
{
    type Output = Result<S::Response, Error>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        self.project().call.poll(cx).map_err(Into::into)
    }
}

/// The service's short type name (`Router`, `ServiceFn`), as the handler's place in the
/// flat list a chain prints as.
impl<S, F> fmt::Debug for ServiceEnd<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::middleware::short_type_name(std::any::type_name::<S>()))
    }
}

impl<S, F> DescribeChain for ServiceEnd<S, F> {
    fn describe_chain(&self, list: &mut fmt::DebugList<'_, '_>) {
        list.entry(&format_args!(
            "{}",
            crate::middleware::short_type_name(std::any::type_name::<S>())
        ));
    }
}
