//! tower the way most articles and `axum::middleware::from_fn` write it: each layer's
//! `call` clones the inner service into an `async move` block and boxes it.
//!
//! The clone is free here (the services hold no data), so this counts only the
//! boxed future per layer — and not the boxed inner service `from_fn` also keeps.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use lambda_middleware::{Context, Error};
use tower::{Layer, Service};

use super::step;

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

/// The middleware's `Service`, one `async move` block per call.
#[derive(Debug, Clone, Copy)]
pub struct BoxedStep<S> {
    inner: S,
}

impl<'a, P, S> Service<(P, &'a Context)> for BoxedStep<S>
where
    P: Send + 'a,
    S: Service<(P, &'a Context), Response = P, Error = Error> + Clone + Send + 'a,
    S::Future: Send + 'a,
{
    type Response = P;
    type Error = Error;
    type Future = BoxFuture<'a, Result<P, Error>>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, (mut event, ctx): (P, &'a Context)) -> Self::Future {
        // The ready service goes into the future, its clone stays (axum's idiom).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            step(&mut event);
            let mut response = inner.call((event, ctx)).await?;
            step(&mut response);
            Ok(response)
        })
    }
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
