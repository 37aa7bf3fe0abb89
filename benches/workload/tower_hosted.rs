//! lambda-middleware hosting tower layers: the step as a hand-written tower `Layer`
//! with a named future (as tower-http's layers are written), added to a chain with
//! `HandlerBuilder::layer`.

use std::task::{Context as TaskContext, Poll};

use lambda_middleware::Error;
use tower::{Layer, Service};

use super::tower_named::StepFuture;
use super::{Payload, step};

/// The step's `Layer`, for a service that takes the payload itself.
#[derive(Debug, Clone, Copy)]
pub struct HostedStepLayer;

impl<S> Layer<S> for HostedStepLayer {
    type Service = HostedStep<S>;

    fn layer(&self, inner: S) -> HostedStep<S> {
        HostedStep { inner }
    }
}

/// The before-step in `call`, the after-step in the named future.
#[derive(Debug, Clone, Copy)]
pub struct HostedStep<S> {
    inner: S,
}

impl<P: Payload, S> Service<P> for HostedStep<S>
where
    S: Service<P, Response = P, Error = Error>,
{
    type Response = P;
    type Error = Error;
    type Future = StepFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, event: P) -> StepFuture<S::Future> {
        step(&event);
        StepFuture::new(self.inner.call(event))
    }
}

/// `lambda_tower_layers_chain!(P; x x x)`: three hosted `HostedStepLayer`s around
/// `echo`, each `.untraced()` as the hooks-decided variant's middlewares are.
macro_rules! lambda_tower_layers_chain {
    ($p:ty; $($x:ident)*) => {
        $crate::workload::lambda::Lambda(
            lambda_middleware::Handler::builder()
                $(.layer($crate::workload::tower_hosted::one!($x)).untraced())*
                .handler($crate::workload::echo::<$p>)
                .expect("POWERTOOLS_TRACE_MIDDLEWARES is unset or valid"),
        )
    };
}

/// One `HostedStepLayer` per token.
macro_rules! one {
    ($x:ident) => {
        $crate::workload::tower_hosted::HostedStepLayer
    };
}

pub(crate) use {lambda_tower_layers_chain, one};
