//! The static chain: [`Wrap`] puts one middleware around the rest, and [`Invoke`] is
//! what a middleware sees of that rest through its [`Next`].
//!
//! `Handler::builder().middleware(A).middleware(B).handler(f)` builds
//! `Wrap<A, Wrap<B, FnHandler<f, _>>>`: one value whose type spells the whole chain,
//! so every call from one layer to the next is a direct, inlinable call. Nothing is
//! boxed, nothing is allocated per invocation, and a chain of middlewares that hold
//! no data is itself zero-sized.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use lambda_runtime::{Context, Error};
use tracing::Span;

use crate::middleware::Middleware;
use crate::next::{Next, Proceeded};
use crate::trace::choice::{Auto, EnvTrace, TraceChoice, resolve};
use crate::trace::span as trace_span;

mod sealed {
    pub trait Sealed {}
    pub trait SameParams<T> {}
}

/// The response type of a chain, read off its type alone.
///
/// A supertrait of [`Chain`]: in a bound, `C::Response` and `Chain<E, Response = R>`
/// name it, and a fully qualified path is `<C as Respond>::Response`. Like `Chain`, it
/// is implemented by the crate only.
///
/// It is kept apart from `Chain` so that the response type of the chain inside a
/// `Wrap` is found from the types alone, without proving that the inner chain is a
/// `Chain`. With the response type on `Chain` itself, proving a chain of N generic
/// middlewares proved the inner layers again for each mention of the inner response
/// type, and type checking grew exponentially with N.
///
/// # Example
///
/// ```
/// use lambda_middleware::{Context, Error, Handler, Respond};
///
/// /// The response type of any handler's chain, named without knowing its event type.
/// fn first_response<C: Respond>(_: &Handler<C>) -> Option<<C as Respond>::Response> {
///     None
/// }
///
/// async fn double(event: u64, _: &Context) -> Result<u64, Error> { Ok(event * 2) }
///
/// # fn main() -> Result<(), Error> {
/// let handler = Handler::builder().handler(double)?;
/// let none: Option<u64> = first_response(&handler);
/// assert!(none.is_none());
/// # Ok(()) }
/// ```
pub trait Respond: sealed::Sealed {
    /// The response type of the chain.
    type Response;
}

/// The rest of a chain, as a middleware sees it through [`Next`].
///
/// Middlewares name it only in their bounds, `I: Invoke<E, Response = R>`, and never
/// implement it: it is sealed, so the only chains are the ones the builder makes.
///
/// # Example
///
/// ```
/// use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
///
/// /// Works in any chain, whatever its event and response types.
/// struct Noop;
///
/// impl<E: Send, R: Send> Middleware<E, R> for Noop {
///     type Params = ();
///
///     async fn call<I>(&self, _: &(), event: E, _: &Context, next: Next<'_, I>)
///         -> Result<Proceeded<R>, Error>
///     where
///         I: Invoke<E, Response = R>,
///     {
///         Ok(next.run(event).await?)
///     }
/// }
/// ```
pub trait Invoke<E>: sealed::Sealed + Send + Sync {
    /// The response type of the chain.
    type Response;

    #[doc(hidden)]
    fn invoke(self, event: E, ctx: &Context) -> impl Future<Output = Result<Proceeded<Self::Response>, Error>> + Send;
}

/// A link of a built chain: a [`Wrap`] or the handler function at the end.
///
/// Implemented by the crate only; it appears in the bounds of
/// [`Handler`](crate::Handler)'s methods so that a chain whose middlewares do not fit
/// its handler is a compile error there.
///
/// Its response type comes from the supertrait [`Respond`]: write `C::Response` or
/// `C: Chain<E, Response = R>` in a bound, and `<C as Respond>::Response` for the fully
/// qualified path (`<C as Chain<E>>::Response` does not name it).
pub trait Chain<E>: sealed::Sealed + Respond + Send + Sync {
    #[doc(hidden)]
    fn run_chain<G: EnvTrace>(
        &self,
        event: E,
        ctx: &Context,
    ) -> impl Future<Output = Result<Proceeded<Self::Response>, Error>> + Send;
}

/// The rest of the chain below one middleware: a borrow of it, plus the tracing mode
/// the invocation runs in (a type, so that the decision costs nothing per layer).
pub struct Rest<'a, C, G> {
    chain: &'a C,
    _mode: PhantomData<fn() -> G>,
}

impl<C, G> Clone for Rest<'_, C, G> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C, G> Copy for Rest<'_, C, G> {}

impl<C, G> fmt::Debug for Rest<'_, C, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Rest")
    }
}

impl<C, G> sealed::Sealed for Rest<'_, C, G> {}

impl<E, C, G> Invoke<E> for Rest<'_, C, G>
where
    C: Chain<E>,
    G: EnvTrace,
{
    type Response = C::Response;

    #[inline]
    fn invoke(self, event: E, ctx: &Context) -> impl Future<Output = Result<Proceeded<Self::Response>, Error>> + Send {
        self.chain.run_chain::<G>(event, ctx)
    }
}

/// One middleware `M` (with its params `P` and tracing choice `T`) around the rest of
/// the chain `I`.
///
/// Built by [`HandlerBuilder::handler`](crate::HandlerBuilder::handler); the first
/// middleware added is the outermost `Wrap`.
///
/// # Example
///
/// ```
/// # use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
/// # use lambda_runtime::LambdaEvent;
/// # use serde_json::Value;
/// # struct A; struct B;
/// # impl Middleware<Value, Value> for A { type Params = ();
/// #   async fn call<I: Invoke<Value, Response = Value>>(&self, _: &(), e: Value, _: &Context, n: Next<'_, I>)
/// #   -> Result<Proceeded<Value>, Error> { Ok(n.run(e).await?) } }
/// # impl Middleware<Value, Value> for B { type Params = ();
/// #   async fn call<I: Invoke<Value, Response = Value>>(&self, _: &(), e: Value, _: &Context, n: Next<'_, I>)
/// #   -> Result<Proceeded<Value>, Error> { Ok(n.run(e).await?) } }
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

impl<E, M, I, P, T> Chain<E> for Wrap<M, I, P, T>
where
    P: ParamsOf<<M as Middleware<E, <I as Respond>::Response>>::Params> + Send + Sync,
    M: Middleware<E, <I as Respond>::Response, Params = P>,
    I: Chain<E>,
    T: TraceChoice,
{
    #[inline]
    fn run_chain<G: EnvTrace>(
        &self,
        event: E,
        ctx: &Context,
    ) -> impl Future<Output = Result<Proceeded<Self::Response>, Error>> + Send {
        let next = Next::new(
            Rest::<I, G> {
                chain: &self.inner,
                _mode: PhantomData,
            },
            ctx,
        );
        let future = self.middleware.call(&self.params, event, ctx, next);
        WrapFuture::<_, Decision<M, T, G, E, <I as Respond>::Response>>::new(future, || self.middleware.name())
    }
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

impl<T> sealed::SameParams<T> for T {}

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

/// Lets `Debug` walk a chain without knowing its event type.
#[doc(hidden)]
pub trait DescribeChain {
    fn describe_chain(&self, list: &mut fmt::DebugList<'_, '_>);
}

impl<M, I: DescribeChain, P, T> DescribeChain for Wrap<M, I, P, T> {
    fn describe_chain(&self, list: &mut fmt::DebugList<'_, '_>) {
        list.entry(&format_args!(
            "{}",
            crate::middleware::short_type_name(std::any::type_name::<M>())
        ));
        self.inner.describe_chain(list);
    }
}

/// Whether one layer is traced in one mode, as a constant the compiler folds away.
struct Decision<M, T, G, E, R>(PhantomData<Types<M, T, G, E, R>>);

/// The types a [`Decision`] is made from, held without owning any of them.
type Types<M, T, G, E, R> = fn() -> (M, T, G, E, R);

trait Decide {
    const TRACED: bool;
}

impl<M, T, G, E, R> Decide for Decision<M, T, G, E, R>
where
    M: Middleware<E, R>,
    T: TraceChoice,
    G: EnvTrace,
{
    const TRACED: bool = resolve(T::CHOICE, M::TRACE_EXECUTION, G::ON);
}

/// The future of one layer: the middleware's own future, inside its `## name` span
/// when the layer is traced.
///
/// Whether it is traced is the constant `D::TRACED`, so an untraced layer is exactly
/// the middleware's future: the span slot is never written, read or dropped, and the
/// branches on it fold away.
struct WrapFuture<F, D: Decide> {
    future: F,
    /// Initialised if and only if `D::TRACED`. `None` when tracing is on for the layer
    /// but no subscriber wants the span.
    span: MaybeUninit<Option<Box<Span>>>,
    _decision: PhantomData<D>,
}

impl<F, D: Decide> WrapFuture<F, D> {
    #[inline(always)]
    fn new(future: F, name: impl Fn() -> &'static str) -> Self {
        let mut span = MaybeUninit::uninit();
        if D::TRACED {
            span.write(trace_span::middleware_span(&name));
        }
        WrapFuture {
            future,
            span,
            _decision: PhantomData,
        }
    }
}

impl<F, D, R> Future for WrapFuture<F, D>
where
    F: Future<Output = Result<Proceeded<R>, Error>>,
    D: Decide,
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned (never moved out, and `Drop` below
        // does not move it); `span` is not pinned and only touched through `&mut`.
        let this = unsafe { self.get_unchecked_mut() };
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        if !D::TRACED {
            return future.poll(cx);
        }
        // SAFETY: initialised in `new` because `D::TRACED`.
        let slot = unsafe { this.span.assume_init_mut() };
        let Some(span) = slot else {
            return future.poll(cx);
        };
        let poll = {
            let _entered = span.enter();
            future.poll(cx)
        };
        if let Poll::Ready(outcome) = &poll {
            trace_span::record_outcome(span, outcome.as_ref().map(Proceeded::is_early));
            // Close the span now, when the middleware finished, not when its
            // future is dropped.
            *slot = None;
        }
        poll
    }
}

impl<F, D: Decide> Drop for WrapFuture<F, D> {
    fn drop(&mut self) {
        if D::TRACED {
            // SAFETY: initialised in `new` because `D::TRACED`.
            unsafe { self.span.assume_init_drop() };
        }
    }
}

/// The handler at the end of a chain, in one of the forms of [`HandlerFn`](crate::HandlerFn).
pub struct FnHandler<F, S> {
    f: F,
    _signature: PhantomData<fn() -> S>,
}

impl<F, S> FnHandler<F, S> {
    pub(crate) fn new(f: F) -> Self {
        FnHandler {
            f,
            _signature: PhantomData,
        }
    }

    pub(crate) fn function(&self) -> &F {
        &self.f
    }
}

impl<F: Clone, S> Clone for FnHandler<F, S> {
    fn clone(&self) -> Self {
        FnHandler::new(self.f.clone())
    }
}

impl<F, S> fmt::Debug for FnHandler<F, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("handler")
    }
}

impl<F, S> sealed::Sealed for FnHandler<F, S> {}

impl<F, S> DescribeChain for FnHandler<F, S> {
    fn describe_chain(&self, list: &mut fmt::DebugList<'_, '_>) {
        list.entry(&format_args!("handler"));
    }
}

/// Maps the handler's `Result<R, Error>` into the chain's `Result<Proceeded<R>, Error>`.
pub(crate) struct Handled<F> {
    future: F,
}

impl<F> Handled<F> {
    #[inline(always)]
    pub(crate) fn new(future: F) -> Self {
        Handled { future }
    }
}

impl<F, R> Future for Handled<F>
where
    F: Future<Output = Result<R, Error>>,
{
    type Output = Result<Proceeded<R>, Error>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned; `Handled` has no `Drop` impl.
        let future = unsafe { self.map_unchecked_mut(|this| &mut this.future) };
        match future.poll(cx) {
            Poll::Ready(Ok(response)) => Poll::Ready(Ok(Proceeded::handled(response))),
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }
}
