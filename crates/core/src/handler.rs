//! [`Handler`]: a built chain, ready for `lambda_runtime::run`.

use std::fmt;
use std::future::Future;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use lambda_runtime::{Context, Error, LambdaEvent};

use crate::builder::{HandlerBuilder, Identity};
use crate::chain::{Chain, DescribeChain, Token};
use crate::diagnostic::InvocationError;
use crate::service::{ResponseFuture, Spare};
use crate::trace::choice::{EnvOff, EnvOn};

/// A Lambda handler with its middlewares: the value `lambda_runtime` runs.
///
/// `C` is the whole chain as one type, `Wrap<A, Wrap<B, FnHandler<..>>>`; it is
/// cheap to clone (one reference count), and `Send + Sync + 'static` when the
/// middlewares, their params and the handler function are.
///
/// - [`invoke`](Handler::invoke) runs it on a `LambdaEvent`, for tests and local runs;
///   [`invoke_with`](Handler::invoke_with) on a payload and a borrowed `Context`.
/// - It is a [`tower::Service<LambdaEvent<E>>`](tower::Service), so
///   `lambda_runtime::run(handler)` and `lambda_runtime::run_concurrent(handler)` take it
///   as it is.
///
/// # Example
///
/// ```no_run
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Error, Handler};
/// use lambda_runtime::LambdaEvent;
/// use serde_json::Value;
///
/// async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
///     Ok(event.payload)
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), Error> {
///     let handler = Handler::builder().handler(handler)?;
///     lambda_runtime::run(handler).await
/// }
/// ```
pub struct Handler<C> {
    shared: Arc<Shared<C>>,
}

struct Shared<C> {
    chain: C,
    /// `POWERTOOLS_TRACE_MIDDLEWARES` as read when the handler was built.
    trace_env: bool,
    /// The slots of finished `tower::Service` invocations, for the next ones.
    spare: Spare,
}

impl Handler<Identity> {
    /// Starts a chain: add middlewares, then end it with
    /// [`handler`](HandlerBuilder::handler).
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Error, Handler};
    /// use lambda_runtime::LambdaEvent;
    ///
    /// async fn handler(event: LambdaEvent<String>) -> Result<usize, Error> {
    ///     Ok(event.payload.len())
    /// }
    ///
    /// let handler = Handler::builder().handler(handler)?;
    /// # Ok::<(), lambda_middleware::BuildError>(())
    /// ```
    pub fn builder() -> HandlerBuilder<Identity> {
        HandlerBuilder::new(Identity)
    }
}

impl<C> Handler<C> {
    pub(crate) fn new(chain: C, trace_env: bool) -> Self {
        Handler {
            shared: Arc::new(Shared {
                chain,
                trace_env,
                spare: Spare::new(),
            }),
        }
    }

    /// The chain: `Wrap<A, Wrap<B, FnHandler<..>>>`.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Error, Handler};
    /// use lambda_runtime::LambdaEvent;
    ///
    /// async fn handler(event: LambdaEvent<u8>) -> Result<u8, Error> { Ok(event.payload) }
    ///
    /// let handler = Handler::builder().handler(handler)?;
    /// assert_eq!(std::mem::size_of_val(handler.chain()), 0);
    /// # Ok::<(), lambda_middleware::BuildError>(())
    /// ```
    pub fn chain(&self) -> &C {
        &self.shared.chain
    }

    /// Where `tower::Service` invocations keep their slots between invocations.
    #[inline(always)]
    pub(crate) fn spare(&self) -> &Spare {
        &self.shared.spare
    }

    /// Whether `POWERTOOLS_TRACE_MIDDLEWARES` was on when this handler was built (and
    /// `POWERTOOLS_TRACE_DISABLED` was not: disabled, nothing is traced).
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Error, Handler};
    /// use lambda_runtime::LambdaEvent;
    ///
    /// async fn handler(event: LambdaEvent<u8>) -> Result<u8, Error> { Ok(event.payload) }
    ///
    /// // Unset in doctests.
    /// assert!(!Handler::builder().handler(handler)?.traces_from_env());
    /// # Ok::<(), lambda_middleware::BuildError>(())
    /// ```
    pub fn traces_from_env(&self) -> bool {
        self.shared.trace_env
    }

    /// Runs the chain on one event.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Context, Error, Handler};
    /// use lambda_runtime::LambdaEvent;
    ///
    /// async fn double(event: LambdaEvent<u64>) -> Result<u64, Error> { Ok(event.payload * 2) }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let handler = Handler::builder().handler(double)?;
    /// assert_eq!(handler.invoke(LambdaEvent::new(21, Context::default())).await?, 42);
    /// # Ok(()) }
    /// ```
    pub async fn invoke<E>(&self, event: LambdaEvent<E>) -> Result<C::Response, Error>
    where
        C: Chain<E>,
    {
        let LambdaEvent { payload, context } = event;
        self.invoke_with(payload, &context).await
    }

    /// Runs the chain on a payload with a borrowed context: nothing is moved or
    /// copied but the payload.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Context, Error, Handler};
    ///
    /// async fn double(event: u64, _: &Context) -> Result<u64, Error> { Ok(event * 2) }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let handler = Handler::builder().handler(double)?;
    /// let context = Context::default();
    /// assert_eq!(handler.invoke_with(21, &context).await?, 42);
    /// # Ok(()) }
    /// ```
    #[inline]
    pub fn invoke_with<'a, E>(
        &'a self,
        payload: E,
        context: &'a Context,
    ) -> impl Future<Output = Result<C::Response, Error>> + Send + 'a
    where
        C: Chain<E>,
        E: 'a,
    {
        let chain = &self.shared.chain;
        // The one branch per invocation that `POWERTOOLS_TRACE_MIDDLEWARES` costs, when
        // some middleware left its tracing to it: the chain inline, or the chain
        // compiled with every undecided middleware traced, boxed and out of line (see
        // `Invocation`). When every middleware decided, the branch is compiled out.
        if C::UNDECIDED && self.shared.trace_env {
            Invocation::traced(trace_all_chain(chain, payload, context))
        } else {
            Invocation::plain(chain.run_chain::<EnvOff>(payload, context, Token(())))
        }
    }
}

/// The future of the chain in `POWERTOOLS_TRACE_MIDDLEWARES` mode.
type TracedFuture<'a, R> = Pin<Box<dyn Future<Output = Result<R, Error>> + Send + 'a>>;

/// The chain in `POWERTOOLS_TRACE_MIDDLEWARES` mode, boxed and out of line, so that
/// its code stays out of the caller's, which inlines the untraced chain. Every
/// middleware is traced in this mode anyway, so this one allocation comes next to a
/// span per layer.
#[inline(never)]
fn trace_all_chain<'a, C, E>(chain: &'a C, payload: E, context: &'a Context) -> TracedFuture<'a, C::Response>
where
    C: Chain<E>,
    E: 'a,
{
    Box::pin(chain.run_chain::<EnvOn>(payload, context, Token(())))
}

/// One invocation: the untraced chain's future `F` in place, or the traced one boxed.
///
/// Not an enum of the two: an enum lays both over the same bytes, and then the
/// compiler keeps every layer's state in memory to look at again when the future is
/// dropped, rather than in registers (`benches/instructions.sh`: 117 against 27
/// instructions for ten hook middlewares on a `u64`). Here the untraced future has
/// bytes of its own, left uninitialised in the traced mode.
struct Invocation<'a, F, R> {
    /// Initialised if and only if `traced` is `None`.
    plain: MaybeUninit<F>,
    /// Dropped by `Drop`, out of line, so that dropping an untraced invocation is
    /// small enough to be inlined.
    traced: ManuallyDrop<Option<TracedFuture<'a, R>>>,
}

impl<'a, F, R> Invocation<'a, F, R> {
    #[inline(always)]
    fn plain(future: F) -> Self {
        Invocation {
            plain: MaybeUninit::new(future),
            traced: ManuallyDrop::new(None),
        }
    }

    #[inline(always)]
    fn traced(future: TracedFuture<'a, R>) -> Self {
        Invocation {
            plain: MaybeUninit::uninit(),
            traced: ManuallyDrop::new(Some(future)),
        }
    }
}

impl<F, R> Future for Invocation<'_, F, R>
where
    F: Future<Output = Result<R, Error>>,
{
    type Output = Result<R, Error>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        // SAFETY: nothing is moved out of `self`: `traced` is only polled through its
        // own `Pin<Box<..>>`, and `plain` is only used pinned in place, below.
        let this = unsafe { self.get_unchecked_mut() };
        match &mut *this.traced {
            Some(traced) => traced.as_mut().poll(cx),
            // SAFETY: `plain` is initialised because `traced` is `None` (both are set
            // once, by the constructors); it is pinned because `self` is, and it is
            // dropped in place by `Drop`, never moved.
            None => unsafe { Pin::new_unchecked(this.plain.assume_init_mut()) }.poll(cx),
        }
    }
}

impl<F, R> Drop for Invocation<'_, F, R> {
    #[inline(always)]
    fn drop(&mut self) {
        if self.traced.is_none() {
            // SAFETY: initialised because `traced` is `None`; dropped here only, once,
            // in place (which `Pin` allows).
            unsafe { self.plain.assume_init_drop() };
        } else {
            // SAFETY: dropped here only, once; nothing reads it after.
            drop_traced(unsafe { ManuallyDrop::take(&mut self.traced) });
        }
    }
}

#[cold]
#[inline(never)]
fn drop_traced<T>(traced: T) {
    drop(traced);
}

impl<C> Clone for Handler<C> {
    fn clone(&self) -> Self {
        Handler {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C: DescribeChain> fmt::Debug for Handler<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Handler(")?;
        let mut list = f.debug_list();
        self.shared.chain.describe_chain(&mut list);
        list.finish()?;
        f.write_str(")")
    }
}

/// The runtime's entry point.
///
/// `tower` needs a nameable future type, and the invocation's future borrows the
/// context it owns: the future is a [`ResponseFuture`],
/// which keeps the context, a handle on the chain and the chain's future in a slot the
/// handler reuses, so that no invocation but the first allocates (under
/// `run_concurrent`, none but the first of each invocation served at once).
/// [`Handler::invoke`] and [`Handler::invoke_with`] allocate nothing.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Context, Error, Handler};
/// use lambda_runtime::LambdaEvent;
/// use tower::Service;
///
/// async fn echo(event: LambdaEvent<String>) -> Result<String, Error> { Ok(event.payload) }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let mut service = Handler::builder().handler(echo)?;
/// let response = service.call(LambdaEvent::new("hi".to_string(), Context::default())).await?;
/// assert_eq!(response, "hi");
/// # Ok(()) }
/// ```
impl<C, E> tower::Service<LambdaEvent<E>> for Handler<C>
where
    C: Chain<E> + 'static,
    C::Response: Send + 'static,
    E: Send + 'static,
{
    type Response = C::Response;
    type Error = InvocationError;
    type Future = ResponseFuture<C, E>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), InvocationError>> {
        Poll::Ready(Ok(()))
    }

    #[inline]
    fn call(&mut self, event: LambdaEvent<E>) -> Self::Future {
        let LambdaEvent { payload, context } = event;
        ResponseFuture::new(self, payload, context)
    }
}
