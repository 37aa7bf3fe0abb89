//! lambda-middleware: the step as a `Middleware`, chained with the builder.

use lambda_middleware::chain::Chain;
use lambda_middleware::hooks::Flow;
use lambda_middleware::{Context, Error, Handler, Invoke, LambdaEvent, Middleware, Next, Proceeded};
use tower::Service;

use super::{Payload, Workload, poll_once, step};

/// The middleware of the workload, written as a user would write it.
///
/// `TAG` tells apart chains that are otherwise the same type, so that each variant
/// compiles its own copy of the chain, called from one place, as in a function's
/// binary (LLVM inlines a function called from one place more readily).
#[derive(Debug, Clone, Copy)]
pub struct Step<const TAG: u8 = 0>;

impl<P: Payload, const TAG: u8> Middleware<P, P> for Step<TAG> {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: P, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, P>, Error>
    where
        I: Invoke<P, Response = P>,
    {
        step(&event);
        let response = next.run(event).await?;
        step(response.response());
        Ok(response)
    }
}

/// The same middleware written with hooks: the before-step in `before`, the
/// after-step in `after`.
#[derive(Debug, Clone, Copy)]
pub struct HookStep<const TAG: u8 = 0>;

impl<P: Payload, const TAG: u8> Middleware<P, P> for HookStep<TAG> {
    type Params = ();

    #[inline]
    fn before(&self, _: &(), event: &mut P, _: &Context) -> Result<Flow<P>, Error> {
        step(event);
        Ok(Flow::Continue)
    }

    #[inline]
    fn after(&self, _: &(), response: &mut P, _: &Context) -> Result<(), Error> {
        step(response);
        Ok(())
    }
}

/// A built chain, run through `Handler::invoke_with`.
pub struct Lambda<C>(pub Handler<C>);

impl<P, C: Chain<P, Response = P>> Workload<P> for Lambda<C> {
    #[inline]
    fn invoke(&mut self, payload: P, ctx: &Context) -> P {
        poll_once(self.0.invoke_with(payload, ctx)).expect("the chain does not fail")
    }
}

/// A built chain, run through its `tower::Service<LambdaEvent<P>>` impl as
/// `lambda_runtime` runs it: the event arrives as a `LambdaEvent` that owns its
/// context (here a clone of the bench's context, whose strings are empty, so the
/// clone allocates nothing), and the future is held as the run loop holds it
/// (`tower_named::poll_held`).
pub struct LambdaService<C>(pub Handler<C>);

impl<P, C> Workload<P> for LambdaService<C>
where
    P: Send + 'static,
    C: Chain<P, Response = P> + 'static,
{
    #[inline]
    fn invoke(&mut self, payload: P, ctx: &Context) -> P {
        let event = LambdaEvent::new(payload, ctx.clone());
        poll_once(std::future::poll_fn(|cx| self.0.poll_ready(cx))).expect("always ready");
        super::tower_named::poll_held(self.0.call(event)).expect("the chain does not fail")
    }
}

/// `lambda_chain!(P; x x x)`: three `Step`s around `echo` (`lambda_chain!(P, 1; ..)`:
/// `Step<1>`s).
macro_rules! lambda_chain {
    ($p:ty; $($x:ident)*) => {
        $crate::workload::lambda::lambda_chain!($p, 0; $($x)*)
    };
    ($p:ty, $tag:literal; $($x:ident)*) => {
        $crate::workload::lambda::Lambda(
            lambda_middleware::Handler::builder()
                $(.middleware($crate::workload::lambda::one!($x, $tag)))*
                .handler($crate::workload::echo::<$p>)
                .expect("POWERTOOLS_TRACE_MIDDLEWARES is unset or valid"),
        )
    };
}

/// `lambda_hooks_chain!(P; x x x)`: three `HookStep`s around `echo`.
macro_rules! lambda_hooks_chain {
    ($p:ty; $($x:ident)*) => {
        $crate::workload::lambda::Lambda(
            lambda_middleware::Handler::builder()
                $(.middleware($crate::workload::lambda::hook!($x, 2)))*
                .handler($crate::workload::echo::<$p>)
                .expect("POWERTOOLS_TRACE_MIDDLEWARES is unset or valid"),
        )
    };
}

/// `lambda_hooks_decided_chain!(P; x x x)`: the same, each middleware `.untraced()`, so
/// that `POWERTOOLS_TRACE_MIDDLEWARES` has nothing left to decide.
macro_rules! lambda_hooks_decided_chain {
    ($p:ty; $($x:ident)*) => {
        $crate::workload::lambda::Lambda(
            lambda_middleware::Handler::builder()
                $(.middleware($crate::workload::lambda::hook!($x, 3)).untraced())*
                .handler($crate::workload::echo::<$p>)
                .expect("POWERTOOLS_TRACE_MIDDLEWARES is unset or valid"),
        )
    };
}

/// `lambda_closures_chain!(P; x x x)`: the same steps as closure middlewares, a
/// `.before` and an `.after` per token, tracing decided.
macro_rules! lambda_closures_chain {
    ($p:ty; $($x:ident)*) => {
        $crate::workload::lambda::Lambda(
            lambda_middleware::Handler::builder()
                $(
                    .before(|event: &mut $p, _: &lambda_middleware::Context| {
                        $crate::workload::step(event);
                        Ok(())
                    })
                    .untraced()
                    .after(|response: &mut $p, _: &lambda_middleware::Context| {
                        let _ = stringify!($x);
                        $crate::workload::step(response);
                        Ok(())
                    })
                    .untraced()
                )*
                .handler($crate::workload::echo::<$p>)
                .expect("POWERTOOLS_TRACE_MIDDLEWARES is unset or valid"),
        )
    };
}

/// The before-step as a `#[middleware(before)]` function.
#[lambda_middleware::middleware(before)]
pub fn step_in<P: Payload>(event: &mut P, _: &Context) {
    step(event);
}

/// The after-step as a `#[middleware(after)]` function.
#[lambda_middleware::middleware(after)]
pub fn step_out<P: Payload>(response: &mut P, _: &Context) {
    step(response);
}

/// `lambda_attribute_chain!(P; x x x)`: the same steps as `#[middleware]` hook
/// functions, a `StepIn` and a `StepOut` per token, tracing decided.
macro_rules! lambda_attribute_chain {
    ($p:ty; $($x:ident)*) => {
        $crate::workload::lambda::Lambda(
            lambda_middleware::Handler::builder()
                $(
                    .middleware({
                        let _ = stringify!($x);
                        $crate::workload::lambda::StepIn
                    })
                    .untraced()
                    .middleware($crate::workload::lambda::StepOut)
                    .untraced()
                )*
                .handler($crate::workload::echo::<$p>)
                .expect("POWERTOOLS_TRACE_MIDDLEWARES is unset or valid"),
        )
    };
}

/// `lambda_traced_chain!(P; x x x)`: the same, every middleware `.traced()`.
macro_rules! lambda_traced_chain {
    ($p:ty; $($x:ident)*) => {
        $crate::workload::lambda::Lambda(
            lambda_middleware::Handler::builder()
                $(.middleware($crate::workload::lambda::one!($x, 0)).traced())*
                .handler($crate::workload::echo::<$p>)
                .expect("POWERTOOLS_TRACE_MIDDLEWARES is unset or valid"),
        )
    };
}

/// `lambda_service!(P; x x x)`: `lambda_chain!` run through `tower::Service`.
macro_rules! lambda_service {
    ($p:ty; $($x:ident)*) => {
        $crate::workload::lambda::LambdaService($crate::workload::lambda::lambda_chain!($p, 1; $($x)*).0)
    };
}

/// `lambda_hooks_service!(P; x x x)`: three `HookStep`s around `echo`, added with
/// `.middleware(..)` (tracing left to `POWERTOOLS_TRACE_MIDDLEWARES`), run through
/// `tower::Service`: what a user who follows the README runs under `lambda_runtime::run`.
macro_rules! lambda_hooks_service {
    ($p:ty; $($x:ident)*) => {
        $crate::workload::lambda::LambdaService(
            lambda_middleware::Handler::builder()
                $(.middleware($crate::workload::lambda::hook!($x, 4)))*
                .handler($crate::workload::echo::<$p>)
                .expect("POWERTOOLS_TRACE_MIDDLEWARES is unset or valid"),
        )
    };
}

/// One `Step` per token.
macro_rules! one {
    ($x:ident, $tag:literal) => {
        $crate::workload::lambda::Step::<$tag>
    };
}

/// One `HookStep` per token.
macro_rules! hook {
    ($x:ident, $tag:literal) => {
        $crate::workload::lambda::HookStep::<$tag>
    };
}

pub(crate) use {
    hook, lambda_attribute_chain, lambda_chain, lambda_closures_chain, lambda_hooks_chain, lambda_hooks_decided_chain,
    lambda_hooks_service, lambda_service, lambda_traced_chain, one,
};
