//! [`Wrap`]: one middleware around the rest of the chain, and the future of that layer.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use lambda_runtime::{Context, Error};
use pin_project_lite::pin_project;
use tracing::Span;

use super::{Accept, Chain, DescribeChain, Respond, Rest, Token, sealed};
use crate::middleware::Middleware;
use crate::next::{Next, Proceeded};
use crate::trace::choice::{Auto, EnvTrace, TraceChoice, resolve};
use crate::trace::span as trace_span;

/// One middleware `M` (with its params `P` and tracing choice `T`) around the rest of
/// the chain `I`.
///
/// Built by [`HandlerBuilder::handler`](crate::HandlerBuilder::handler); the first
/// middleware added is the outermost `Wrap`.
///
/// # Example
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// # use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
/// # use lambda_runtime::LambdaEvent;
/// # use serde_json::Value;
/// # struct A; struct B;
/// # impl Middleware<Value, Value> for A { type Params = (); }
/// # impl Middleware<Value, Value> for B { type Params = (); }
/// async fn echo(event: LambdaEvent<Value>) -> Result<Value, Error> { Ok(event.payload) }
///
/// let handler = Handler::builder().middleware(A).middleware(B).handler(echo)?;
/// // `Handler<Wrap<A, Wrap<B, FnHandler<..>>>>`, printed in the order the layers run:
/// assert_eq!(format!("{handler:?}"), "Handler([A, B, handler])");
/// // Middlewares without data make a zero-sized chain.
/// assert_eq!(std::mem::size_of_val(handler.chain()), 0);
/// # Ok::<(), lambda_middleware::BuildError>(())
/// ```
pub struct Wrap<M, I, P = (), T = Auto> {
    middleware: M,
    params: P,
    inner: I,
    _trace: PhantomData<fn() -> T>,
}

impl<M, I, P, T> Wrap<M, I, P, T> {
    pub(crate) fn new(middleware: M, params: P, inner: I) -> Self {
        Wrap {
            middleware,
            params,
            inner,
            _trace: PhantomData,
        }
    }
}

impl<M: Clone, I: Clone, P: Clone, T> Clone for Wrap<M, I, P, T> {
    fn clone(&self) -> Self {
        Wrap::new(self.middleware.clone(), self.params.clone(), self.inner.clone())
    }
}

impl<M, I, P, T> sealed::Sealed for Wrap<M, I, P, T> {}

impl<M, I: Respond, P, T> Respond for Wrap<M, I, P, T> {
    type Response = I::Response;
}

impl<M, I: Accept, P, T> Accept for Wrap<M, I, P, T> {
    type Event = I::Event;
}

impl<E, M, I, P, T> Chain<E> for Wrap<M, I, P, T>
where
    P: ParamsOf<<M as Middleware<E, <I as Respond>::Response>>::Params> + Send + Sync,
    M: Middleware<E, <I as Respond>::Response>,
    // Params hold no borrows (they live as long as the handler); said here because `P`
    // is only known to be them through `ParamsOf`, whose error is the clear one.
    <M as Middleware<E, <I as Respond>::Response>>::Params: 'static,
    I: Chain<E>,
    <I as Respond>::Response: Send,
    T: TraceChoice,
{
    const UNDECIDED: bool = resolve(T::CHOICE, M::TRACE_EXECUTION, None).is_none() || I::UNDECIDED;

    fn check_chain(&self) -> Result<(), crate::BuildError> {
        self.middleware.check(self.params.as_params())?;
        self.inner.check_chain()
    }

    #[inline(always)]
    fn run_chain<G: EnvTrace>(
        &self,
        event: E,
        ctx: &Context,
        _: Token,
    ) -> impl Future<Output = Result<Self::Response, Error>> + Send {
        let next = Next::new(Rest::<I, G>::new(&self.inner), ctx);
        layer::<Decision<M, T, G, E, I::Response>, _>(
            || self.middleware.name(),
            || self.middleware.call(self.params.as_params(), event, ctx, next),
        )
    }
}

/// The future of one layer: `call` made inside the layer's span when it is traced.
///
/// The span is made before `call`, and entered while it runs, so that it also covers
/// what a middleware does when its future is made (its hooks' `before`). One call site
/// for `call` whatever the decision: the inner chain is inlined into it, and two sites
/// would double the code at every layer. (The two below are one per layer: which one a
/// layer has is decided by the constant `D::TRACED`.)
///
/// A panic in a traced layer marks its span as a fault with the panic's message and
/// closes it, then goes on unwinding (see [`WrapFuture`]).
#[inline(always)]
pub(super) fn layer<D: Decide, F>(name: impl Fn() -> &'static str, call: impl FnOnce() -> F) -> WrapFuture<F, D> {
    let mut span = WrapFuture::<(), D>::span(name);
    let future = {
        let entered = WrapFuture::<(), D>::enter(&span);
        if D::TRACED {
            match panic::catch_unwind(AssertUnwindSafe(call)) {
                Ok(future) => future,
                Err(payload) => {
                    drop(entered);
                    // SAFETY: `WrapFuture::span` wrote the slot because `D::TRACED`.
                    close_panicked(unsafe { span.assume_init_mut() }, payload)
                }
            }
        } else {
            call()
        }
    };
    WrapFuture::new(future, span)
}

/// Marks the span of a layer a panic went through, closes it, and resumes the panic.
///
/// Out of line and cold: it runs only when a traced middleware (or something inside
/// it) panicked. The span is taken out of its slot, so it is closed here, once, and
/// the slot's own drop finds nothing to close.
#[cold]
#[inline(never)]
fn close_panicked(slot: &mut Option<Box<Span>>, payload: Box<dyn Any + Send>) -> ! {
    if let Some(span) = slot.take() {
        trace_span::record_panic(&span, &*payload);
    }
    panic::resume_unwind(payload)
}

/// The params a middleware was given are the params it takes (`T`): only `T: ParamsOf<T>`
/// exists.
///
/// The bound says no more than `Middleware::Params = P` next to it, but it exists for its
/// error message: when a middleware that takes params is added with `.middleware` (so
/// gets `()`), or gets another middleware's params, rustc's own message for the `Params =
/// P` mismatch does not say how to fix it, and this one does.
#[diagnostic::on_unimplemented(
    message = "this middleware takes params of type `{T}`, but it was given `{Self}`",
    label = "a middleware in this chain was added with the wrong params",
    note = "add a middleware that takes params with `.middleware_with(middleware, params)`, where `params` is its `Middleware::Params`; `.middleware(middleware)` is for middlewares with `type Params = ()`"
)]
pub trait ParamsOf<T>: sealed::SameParams<T> {}

impl<T> sealed::SameParams<T> for T {
    #[inline(always)]
    fn as_params(&self) -> &T {
        self
    }
}

impl<T> ParamsOf<T> for T {}

/// Chains of ten middlewares are unreadable as nested generics, so a `Wrap` prints as
/// the flat list of its middlewares' names in the order they run, ending with the
/// handler — the same picture as the builder call that made it.
impl<M, I, P, T> fmt::Debug for Wrap<M, I, P, T>
where
    Self: DescribeChain,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        self.describe_chain(&mut list);
        list.finish()
    }
}

impl<M, I: DescribeChain, P, T> DescribeChain for Wrap<M, I, P, T> {
    fn describe_chain(&self, list: &mut fmt::DebugList<'_, '_>) {
        describe_layer::<M>(list, &self.inner);
    }
}

/// One layer's entry, `M`'s short name, then the layers inside it.
pub(super) fn describe_layer<M>(list: &mut fmt::DebugList<'_, '_>, inner: &impl DescribeChain) {
    list.entry(&format_args!("{}", crate::middleware::layer_display_name::<M>()));
    inner.describe_chain(list);
}

/// Whether one layer is traced in one mode, as a constant the compiler folds away.
pub(super) struct Decision<M, T, G, E, R>(PhantomData<Types<M, T, G, E, R>>);

/// The types a [`Decision`] is made from, held without owning any of them.
type Types<M, T, G, E, R> = fn() -> (M, T, G, E, R);

pub(super) trait Decide {
    const TRACED: bool;
}

impl<M, T, G, E, R> Decide for Decision<M, T, G, E, R>
where
    M: Middleware<E, R>,
    T: TraceChoice,
    G: EnvTrace,
{
    const TRACED: bool = matches!(resolve(T::CHOICE, M::TRACE_EXECUTION, Some(G::ON)), Some(true));
}

pin_project! {
    /// The future of one layer: the middleware's own future, inside its `## name` span
    /// when the layer is traced, with the middleware's branded outcome turned back into
    /// the plain `Result` the layers pass each other.
    ///
    /// Whether it is traced is the constant `D::TRACED`, so an untraced layer is exactly
    /// the middleware's future: the span slot is never written, read or dropped, and the
    /// branches on it fold away.
    pub(super) struct WrapFuture<F, D: Decide> {
        #[pin]
        future: F,
        // Initialised if and only if `D::TRACED`. `None` when tracing is on for the
        // layer but no subscriber wants the span, and once the middleware finished.
        span: MaybeUninit<Option<Box<Span>>>,
        _decision: PhantomData<D>,
    }

    impl<F, D: Decide> PinnedDrop for WrapFuture<F, D> {
        fn drop(this: Pin<&mut Self>) {
            if D::TRACED {
                // SAFETY: `WrapFuture::span` wrote the slot because `D::TRACED`; it is
                // dropped only here, once.
                unsafe { this.project().span.assume_init_drop() };
            }
        }
    }
}

impl<F, D: Decide> WrapFuture<F, D> {
    /// The layer's span slot: written (with the span, or `None` when no subscriber
    /// wants it) if and only if `D::TRACED`.
    #[inline(always)]
    pub(super) fn span(name: impl Fn() -> &'static str) -> MaybeUninit<Option<Box<Span>>> {
        if D::TRACED {
            MaybeUninit::new(trace_span::middleware_span(&name))
        } else {
            MaybeUninit::uninit()
        }
    }

    /// Enters the span of the slot, if there is one.
    #[inline(always)]
    pub(super) fn enter(slot: &MaybeUninit<Option<Box<Span>>>) -> Option<tracing::span::Entered<'_>> {
        if !D::TRACED {
            return None;
        }
        // SAFETY: `span` wrote the slot because `D::TRACED`.
        let span = unsafe { slot.assume_init_ref() };
        span.as_deref().map(Span::enter)
    }

    /// `span` must come from [`WrapFuture::span`] with the same `D`.
    #[inline(always)]
    pub(super) fn new(future: F, span: MaybeUninit<Option<Box<Span>>>) -> Self {
        WrapFuture {
            future,
            span,
            _decision: PhantomData,
        }
    }
}

impl<'n, F, D, R> Future for WrapFuture<F, D>
where
    F: Future<Output = Result<Proceeded<'n, R>, Error>>,
    D: Decide,
{
    type Output = Result<R, Error>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        // One call site for the inner `poll` on every path: the inner layers are
        // inlined into it, and a call site per path would multiply the code by the
        // number of paths at every layer. (The two below are one per layer: which one
        // a layer has is decided by a constant.)
        //
        // A traced layer catches a panic of the inner poll to mark its span as a fault
        // with the message, then resumes it: the chain never swallows a panic
        // (`lambda_runtime` reports it). `D::TRACED` is a constant, so an untraced
        // layer has the plain poll only, and no unwinding code of its own.
        let poll = if D::TRACED {
            // SAFETY: `WrapFuture::span` wrote the slot because `D::TRACED`.
            let entered = unsafe { this.span.assume_init_ref() }.as_deref().map(Span::enter);
            let future = this.future;
            match panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
                Ok(poll) => poll,
                Err(payload) => {
                    drop(entered);
                    // SAFETY: as above.
                    close_panicked(unsafe { this.span.assume_init_mut() }, payload)
                }
            }
        } else {
            this.future.poll(cx)
        };
        if D::TRACED {
            if let Poll::Ready(outcome) = &poll {
                // SAFETY: as above.
                let slot = unsafe { this.span.assume_init_mut() };
                if let Some(span) = slot.take() {
                    trace_span::record_outcome(&span, outcome.as_ref().map(Proceeded::is_early));
                    // The span closes here, when the middleware finished, not when its
                    // future is dropped.
                }
            }
        }
        poll.map(|outcome| outcome.map(Proceeded::into_response))
    }
}
