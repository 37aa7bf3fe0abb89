//! tower, written by hand the zero-cost way: a `Layer`, a `Service` and a named
//! future per middleware, nothing boxed.
//!
//! The request is `(event, &'static Context)`: the context borrowed, as the other
//! variants get it.

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context as TaskContext, Poll};

use lambda_middleware::{Context, Error, LambdaEvent};
use tower::{Layer, Service};

use super::{Payload, Workload, poll_once, step};

/// The handler as a service: calls an `async fn(P, &Context)`.
#[derive(Debug, Clone, Copy)]
pub struct HandlerService<F>(pub F);

impl<P, F, Fut> Service<(P, &'static Context)> for HandlerService<F>
where
    F: FnMut(P, &'static Context) -> Fut,
    Fut: Future<Output = Result<P, Error>>,
{
    type Response = P;
    type Error = Error;
    type Future = Fut;

    #[inline]
    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    #[inline]
    fn call(&mut self, (event, ctx): (P, &'static Context)) -> Fut {
        (self.0)(event, ctx)
    }
}

/// The middleware's `Layer`.
#[derive(Debug, Clone, Copy)]
pub struct StepLayer;

impl<S> Layer<S> for StepLayer {
    type Service = StepService<S>;

    fn layer(&self, inner: S) -> StepService<S> {
        StepService { inner }
    }
}

/// The middleware's `Service`: the before-step in `call`, the after-step in its future.
#[derive(Debug, Clone, Copy)]
pub struct StepService<S> {
    inner: S,
}

impl<P: Payload, S> Service<(P, &'static Context)> for StepService<S>
where
    S: Service<(P, &'static Context), Response = P, Error = Error>,
{
    type Response = P;
    type Error = Error;
    type Future = StepFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, (event, ctx): (P, &'static Context)) -> StepFuture<S::Future> {
        step(&event);
        StepFuture {
            inner: self.inner.call((event, ctx)),
        }
    }
}

/// The inner service's future, then the after-step.
pub struct StepFuture<F> {
    inner: F,
}

impl<F> StepFuture<F> {
    #[inline]
    pub fn new(inner: F) -> Self {
        StepFuture { inner }
    }
}

impl<F, P: Payload> Future for StepFuture<F>
where
    F: Future<Output = Result<P, Error>>,
{
    type Output = Result<P, Error>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        // SAFETY: `inner` is structurally pinned: never moved out, no `Drop` impl.
        let inner = unsafe { self.map_unchecked_mut(|this| &mut this.inner) };
        match inner.poll(cx) {
            Poll::Ready(Ok(response)) => {
                step(&response);
                Poll::Ready(Ok(response))
            }
            other => other,
        }
    }
}

/// A tower service stack as a workload: `poll_ready`, then `call`, as tower's
/// contract asks.
///
/// A `Service` has one request type, so the borrowed context is `&'static`: with
/// `for<'a> Service<(P, &'a Context)>` bounds, rustc's proofs for nested services
/// grow exponentially with the depth (20 layers ran out of memory). The context
/// passed to `invoke` is the same `Context::default()`.
pub struct Tower<S>(pub S);

/// The context tower's services borrow.
pub static CONTEXT: LazyLock<Context> = LazyLock::new(Context::default);

impl<P, S> Workload<P> for Tower<S>
where
    S: Service<(P, &'static Context), Response = P, Error = Error>,
{
    #[inline]
    fn invoke(&mut self, payload: P, _: &Context) -> P {
        poll_once(std::future::poll_fn(|cx| self.0.poll_ready(cx))).expect("always ready");
        poll_once(self.0.call((payload, &*CONTEXT))).expect("the chain does not fail")
    }
}

/// `tower_named_chain!(P; x x x)`: three `StepLayer`s around `echo`, with `ServiceBuilder`.
macro_rules! tower_named_chain {
    ($p:ty; $($x:ident)*) => {
        $crate::workload::tower_named::Tower(
            tower::ServiceBuilder::new()
                $(.layer($crate::workload::tower_named::one!($x)))*
                .service($crate::workload::tower_named::HandlerService($crate::workload::echo::<$p>)),
        )
    };
}

/// One `StepLayer` per token.
macro_rules! one {
    ($x:ident) => {
        $crate::workload::tower_named::StepLayer
    };
}

/// The handler as a service on `LambdaEvent`s: calls an `async fn(LambdaEvent<P>)`,
/// whose future owns the event and its context, as `lambda_runtime`'s own
/// `service_fn` handlers do.
#[derive(Debug, Clone, Copy)]
pub struct EventHandlerService<F>(pub F);

impl<P, F, Fut> Service<LambdaEvent<P>> for EventHandlerService<F>
where
    F: FnMut(LambdaEvent<P>) -> Fut,
    Fut: Future<Output = Result<P, Error>>,
{
    type Response = P;
    type Error = Error;
    type Future = Fut;

    #[inline]
    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    #[inline]
    fn call(&mut self, event: LambdaEvent<P>) -> Fut {
        (self.0)(event)
    }
}

/// The handler at the end of the `LambdaEvent` chains: returns its event's payload.
pub async fn echo_event<P>(event: LambdaEvent<P>) -> Result<P, Error> {
    Ok(event.payload)
}

/// The middleware's `Service` on `LambdaEvent`s: the before-step in `call`, the
/// after-step in its future.
#[derive(Debug, Clone, Copy)]
pub struct EventStepService<S> {
    inner: S,
}

/// The `Layer` of [`EventStepService`].
#[derive(Debug, Clone, Copy)]
pub struct EventStepLayer;

impl<S> Layer<S> for EventStepLayer {
    type Service = EventStepService<S>;

    fn layer(&self, inner: S) -> EventStepService<S> {
        EventStepService { inner }
    }
}

impl<P: Payload, S> Service<LambdaEvent<P>> for EventStepService<S>
where
    S: Service<LambdaEvent<P>, Response = P, Error = Error>,
{
    type Response = P;
    type Error = Error;
    type Future = StepFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, event: LambdaEvent<P>) -> StepFuture<S::Future> {
        step(&event.payload);
        StepFuture::new(self.inner.call(event))
    }
}

/// A tower service stack on `LambdaEvent`s as a workload: each invocation's event owns
/// a clone of the context, as `lambda_runtime` makes one (the bench's context has empty
/// strings, so the clone allocates nothing), then `poll_ready` and `call`.
pub struct TowerEvent<S>(pub S);

impl<P, S> Workload<P> for TowerEvent<S>
where
    S: Service<LambdaEvent<P>, Response = P, Error = Error>,
{
    #[inline]
    fn invoke(&mut self, payload: P, ctx: &Context) -> P {
        let event = LambdaEvent::new(payload, ctx.clone());
        poll_once(std::future::poll_fn(|cx| self.0.poll_ready(cx))).expect("always ready");
        poll_once(self.0.call(event)).expect("the chain does not fail")
    }
}

/// The same, with the future held as `lambda_runtime`'s run loop holds it: in the
/// state of the loop's own future, in memory, not in the caller's registers. The
/// pinned future's address is passed through `black_box`, so that the compiler cannot
/// keep the future's fields in registers across the poll (which it can when the whole
/// invocation is inlined into the bench's loop, as in [`TowerEvent`]).
pub struct TowerEventHeld<S>(pub S);

impl<P, S> Workload<P> for TowerEventHeld<S>
where
    S: Service<LambdaEvent<P>, Response = P, Error = Error>,
{
    #[inline]
    fn invoke(&mut self, payload: P, ctx: &Context) -> P {
        let event = LambdaEvent::new(payload, ctx.clone());
        poll_once(std::future::poll_fn(|cx| self.0.poll_ready(cx))).expect("always ready");
        poll_held(self.0.call(event)).expect("the chain does not fail")
    }
}

/// Polls a future once, held in memory as a runtime holds it (see [`TowerEventHeld`]).
#[inline(always)]
pub fn poll_held<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let future = std::hint::black_box(future.as_mut());
    poll_once(future)
}

/// `tower_named_event_chain!(P; x x x)`: three `EventStepLayer`s around `echo_event`.
macro_rules! tower_named_event_chain {
    ($p:ty; $($x:ident)*) => {
        $crate::workload::tower_named::TowerEvent(
            tower::ServiceBuilder::new()
                $(.layer({
                    let _ = stringify!($x);
                    $crate::workload::tower_named::EventStepLayer
                }))*
                .service($crate::workload::tower_named::EventHandlerService(
                    $crate::workload::tower_named::echo_event::<$p>,
                )),
        )
    };
}

/// `tower_named_held_chain!(P; x x x)`: the same, held as the runtime holds it.
macro_rules! tower_named_held_chain {
    ($p:ty; $($x:ident)*) => {
        $crate::workload::tower_named::TowerEventHeld(
            $crate::workload::tower_named::tower_named_event_chain!($p; $($x)*).0,
        )
    };
}

pub(crate) use {one, tower_named_chain, tower_named_event_chain, tower_named_held_chain};
