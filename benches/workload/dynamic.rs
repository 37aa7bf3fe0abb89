//! A dynamic chain, the style of Lambda router crates: `Vec<Box<dyn Middleware>>`,
//! each middleware getting the rest of the chain as a boxed `Next` closure and
//! returning a boxed future.

use std::marker::PhantomData;

use lambda_middleware::{Context, Error};

use super::tower_boxed::BoxFuture;
use super::{Payload, Workload, echo, poll_once, step};

/// The rest of the chain.
pub type DynNext<'a, P> = Box<dyn FnOnce(P) -> BoxFuture<'a, Result<P, Error>> + Send + 'a>;

/// A middleware of the dynamic chain.
pub trait DynMiddleware<P>: Send + Sync {
    fn call<'a>(&'a self, event: P, ctx: &'a Context, next: DynNext<'a, P>) -> BoxFuture<'a, Result<P, Error>>;
}

/// The handler at the end of the dynamic chain.
pub type DynHandler<P> = Box<dyn for<'a> Fn(P, &'a Context) -> BoxFuture<'a, Result<P, Error>> + Send + Sync>;

/// The workload's middleware.
#[derive(Debug, Clone, Copy)]
pub struct DynStep;

impl<P: Payload> DynMiddleware<P> for DynStep {
    fn call<'a>(&'a self, event: P, _: &'a Context, next: DynNext<'a, P>) -> BoxFuture<'a, Result<P, Error>> {
        Box::pin(async move {
            step(&event);
            let response = next(event).await?;
            step(&response);
            Ok(response)
        })
    }
}

/// N `DynStep`s around `echo`, built at run time.
pub struct DynChain<P> {
    layers: Vec<Box<dyn DynMiddleware<P>>>,
    handler: DynHandler<P>,
    _payload: PhantomData<fn(P) -> P>,
}

impl<P: Payload> DynChain<P> {
    pub fn new(depth: usize) -> Self {
        DynChain {
            layers: (0..depth)
                .map(|_| Box::new(DynStep) as Box<dyn DynMiddleware<P>>)
                .collect(),
            handler: Box::new(|event, ctx| Box::pin(echo(event, ctx))),
            _payload: PhantomData,
        }
    }
}

fn run<'a, P: Send + 'a>(
    layers: &'a [Box<dyn DynMiddleware<P>>],
    handler: &'a DynHandler<P>,
    event: P,
    ctx: &'a Context,
) -> BoxFuture<'a, Result<P, Error>> {
    match layers.split_first() {
        Some((first, rest)) => first.call(event, ctx, Box::new(move |event| run(rest, handler, event, ctx))),
        None => handler(event, ctx),
    }
}

impl<P: Payload> Workload<P> for DynChain<P> {
    #[inline]
    fn invoke(&mut self, payload: P, ctx: &Context) -> P {
        poll_once(run(&self.layers, &self.handler, payload, ctx)).expect("the chain does not fail")
    }
}
