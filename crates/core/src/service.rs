//! The boxed future of one invocation through `tower::Service::call`: the context and
//! a handle on the chain, owned, beside the chain's future that borrows them.
//!
//! `tower` needs a nameable future type, and the invocation's future borrows the
//! context the runtime hands over by value, so the future is boxed with what it
//! borrows. An `async move` block does that too, but it is built on the stack and then
//! moved into the box, and the 376-byte context with it (twice, as the block keeps its
//! captures): here the box is allocated first and each part written into it once.
//!
//! A panic in the chain, when its future is made (a hook's `before`) or polled, is
//! caught here and answered as an error named `Panic` with the panic's message, so
//! that Lambda and Step Functions see a name they can match rather than the panic
//! payload's type, and the process goes on serving the next invocation.

use std::any::Any;
use std::future::Future;
use std::marker::PhantomPinned;
use std::mem::ManuallyDrop;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::{addr_of, addr_of_mut};
use std::task::{Context as TaskContext, Poll};

use lambda_runtime::{Context, Error};

use crate::chain::{Chain, Token};
use crate::diagnostic::{InvocationError, NamedError};
use crate::handler::Handler;
use crate::trace::choice::{EnvOff, EnvOn};

/// What `Service::call` returns.
pub(crate) type BoxedInvocation<R> = Pin<Box<dyn Future<Output = Result<R, InvocationError>> + Send>>;

/// One invocation that owns its context: `future` borrows `context` and `handler`.
///
/// `future` is dropped first (by `Drop`), so it never outlives what it borrows; the
/// value is only ever used pinned in its box, so what it borrows never moves; and it is
/// `!Unpin`, so a `&mut` to it does not claim that nothing else points into it.
struct Owned<C, F> {
    /// Written once, in [`boxed`], after `context` and `handler`.
    future: ManuallyDrop<F>,
    /// Set when polling `future` panicked: it is not polled again.
    panicked: bool,
    context: Context,
    handler: Handler<C>,
    _pinned: PhantomPinned,
}

/// The error a caught panic becomes: `Panic`, with the panic's message.
pub(crate) fn panic_error(payload: &(dyn Any + Send)) -> InvocationError {
    let message = crate::trace::span::panic_message(payload);
    InvocationError::from(Error::from(NamedError::new("Panic", message.to_owned())))
}

/// Boxes one invocation of `handler` on `payload` and `context`.
///
/// `POWERTOOLS_TRACE_MIDDLEWARES` was read when the handler was built; the box holds the
/// chain compiled for that mode, and nothing else: the mode is chosen here, once, not
/// inside the invocation's future (which `Handler::invoke_with` must do, having no box
/// to choose with). When every middleware decided its tracing, there is one mode.
#[inline]
pub(crate) fn boxed<C, E>(handler: &Handler<C>, payload: E, context: Context) -> BoxedInvocation<C::Response>
where
    C: Chain<E> + 'static,
    C::Response: Send + 'static,
    E: Send + 'static,
{
    if C::UNDECIDED && handler.traces_from_env() {
        boxed_with(handler, payload, context, |handler, payload, context| {
            handler.chain().run_chain::<EnvOn>(payload, context, Token(()))
        })
    } else {
        boxed_with(handler, payload, context, |handler, payload, context| {
            handler.chain().run_chain::<EnvOff>(payload, context, Token(()))
        })
    }
}

/// [`boxed`], with the chain's future made by `make` from the boxed handle and context.
#[inline(always)]
fn boxed_with<C, E, F, M>(handler: &Handler<C>, payload: E, context: Context, make: M) -> BoxedInvocation<C::Response>
where
    C: Chain<E> + 'static,
    C::Response: Send + 'static,
    E: Send + 'static,
    F: Future<Output = Result<C::Response, Error>> + Send + 'static,
    M: FnOnce(&'static Handler<C>, E, &'static Context) -> F,
{
    let mut boxed = Box::<Owned<C, F>>::new_uninit();
    let slot = boxed.as_mut_ptr();
    // SAFETY: `slot` points to the box's memory, valid for writes of `Owned`; each field
    // is written exactly once below, and the box is only read as `Owned` after all of
    // them are.
    unsafe {
        addr_of_mut!((*slot).context).write(context);
        addr_of_mut!((*slot).handler).write(handler.clone());
        addr_of_mut!((*slot)._pinned).write(PhantomPinned);
        addr_of_mut!((*slot).panicked).write(false);
        // SAFETY: the context and the handler live in the box, which is pinned below and
        // freed only after `future` is dropped (see `Drop`): they outlive every use the
        // future makes of these references, which are `'static` only in name, and
        // nothing but the future gets them. The code that runs with them (`make`, the
        // chain) is generic over their lifetime, so it cannot keep them beyond the
        // future either.
        let context: &'static Context = &*addr_of!((*slot).context);
        let handler: &'static Handler<C> = &*addr_of!((*slot).handler);
        // Making the future runs the outer hooks' `before`, which may panic.
        match panic::catch_unwind(AssertUnwindSafe(|| make(handler, payload, context))) {
            Ok(future) => std::ptr::write(addr_of_mut!((*slot).future), ManuallyDrop::new(future)),
            Err(panic) => {
                // SAFETY: `context` and `handler` were written above and nothing borrows
                // them any more (the future was not made); `future` was never written,
                // so it is not dropped, and the box is freed as uninitialised memory.
                std::ptr::drop_in_place(addr_of_mut!((*slot).context));
                std::ptr::drop_in_place(addr_of_mut!((*slot).handler));
                drop(boxed);
                return Box::pin(std::future::ready(Err(panic_error(&*panic))));
            }
        }
    }
    // SAFETY: every field was written above.
    let owned: Box<Owned<C, F>> = unsafe { boxed.assume_init() };
    Box::into_pin(owned)
}

impl<C, F, R> Future for Owned<C, F>
where
    F: Future<Output = Result<R, Error>>,
{
    type Output = Result<R, InvocationError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        // SAFETY: `panicked` is not structurally pinned (a plain `bool`), `future` is: it
        // is never moved out of the pinned `Owned`, and dropped in place in `Drop`.
        let owned = unsafe { self.get_unchecked_mut() };
        if owned.panicked {
            return Poll::Ready(Err(panic_error(
                &"the invocation's future was polled after it panicked",
            )));
        }
        let future = unsafe { Pin::new_unchecked(&mut *owned.future) };
        match panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(poll) => poll.map(|outcome| outcome.map_err(InvocationError::from)),
            Err(panic) => {
                owned.panicked = true;
                Poll::Ready(Err(panic_error(&*panic)))
            }
        }
    }
}

impl<C, F> Drop for Owned<C, F> {
    fn drop(&mut self) {
        // SAFETY: dropped here only, once, in place, before the fields it borrows.
        unsafe { ManuallyDrop::drop(&mut self.future) };
    }
}
