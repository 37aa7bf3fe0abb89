//! tower the way its guide and most articles write a middleware: `call` calls the
//! inner service and returns a boxed `async move` block that awaits its future and
//! runs the after-logic (`axum::middleware::from_fn` boxes the same way, and also
//! boxes the inner service).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use lambda_middleware::{Context, Error};
use tower::{Layer, Service};

use super::{Payload, step};

/// A boxed, `Send` future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The middleware's `Layer`.
#[derive(Debug, Clone, Copy)]
pub struct BoxedStepLayer;

impl<S> Layer<S> for BoxedStepLayer {
    type Service = BoxedStep<S>;

    fn layer(&self, inner: S) -> BoxedStep<S> {
        BoxedStep { inner }
    }
}

/// The middleware's `Service`: the before-step in `call`, the after-step in a boxed
/// `async move` block.
#[derive(Debug, Clone, Copy)]
pub struct BoxedStep<S> {
    inner: S,
}

impl<P, S> Service<(P, &'static Context)> for BoxedStep<S>
where
    P: Payload,
    S: Service<(P, &'static Context), Response = P, Error = Error>,
    S::Future: Send + 'static,
{
    type Response = P;
    type Error = Error;
    type Future = BoxFuture<'static, Result<P, Error>>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, (event, ctx): (P, &'static Context)) -> Self::Future {
        step(&event);
        let future = sendable(self.inner.call((event, ctx)));
        Box::pin(async move {
            let response = future.await?;
            step(&response);
            Ok(response)
        })
    }
}

/// The inner future, as an opaque `Send` future. An `async` block holding a
/// `<S as Service<(P, &'static Context)>>::Future` fails rustc's `Send` check, which
/// forgets the lifetime inside the block and then asks for every lifetime
/// (rust-lang/rust#110338); hiding the projection behind `impl Future + Send` is the
/// usual workaround, and costs nothing.
#[inline(always)]
fn sendable<F: Future + Send + 'static>(future: F) -> impl Future<Output = F::Output> + Send + 'static {
    future
}

/// `tower_boxed_chain!(P; x x x)`: three `BoxedStepLayer`s around `echo`.
macro_rules! tower_boxed_chain {
    ($p:ty; $($x:ident)*) => {
        $crate::workload::tower_named::Tower(
            tower::ServiceBuilder::new()
                $(.layer($crate::workload::tower_boxed::one!($x)))*
                .service($crate::workload::tower_named::HandlerService($crate::workload::echo::<$p>)),
        )
    };
}

/// One `BoxedStepLayer` per token.
macro_rules! one {
    ($x:ident) => {
        $crate::workload::tower_boxed::BoxedStepLayer
    };
}

pub(crate) use {one, tower_boxed_chain};
