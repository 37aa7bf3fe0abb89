//! [`ResponseFuture`]: the future of one invocation through `tower::Service::call`,
//! which owns the invocation's context and a handle on the chain, beside the chain's
//! future that borrows them — with no allocation per invocation.
//!
//! `tower` needs a nameable future type, and the chain's future has no name on stable
//! Rust (every layer's future is an `impl Future`, and an `async fn` middleware's
//! always is), so it cannot be a field of a named type. It lives in a slot on the heap
//! instead, next to the context and the handle it borrows, and [`ResponseFuture`] is
//! the pointer to that slot: the chain's type is named only inside the generic
//! functions that make, poll and drop it, where the compiler infers it, so every call
//! is direct and the whole chain is inlined into one `poll`.
//!
//! The slot is not allocated per invocation: a finished invocation gives its slot back
//! to the handler, and the next one takes it (`Spare`). Under `lambda_runtime::run`
//! (one invocation at a time) the first invocation allocates and no other does; under
//! `run_concurrent`, each invocation beyond those already in flight once.
//!
//! A panic in the chain, when its future is made (a hook's `before`) or polled, is
//! caught here and answered as an error named `Panic` with the panic's message, so
//! that Lambda and Step Functions see a name they can match rather than the panic
//! payload's type, and the process goes on serving the next invocation.

use std::alloc::{self, Layout};
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::{self, NonNull, addr_of, addr_of_mut};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::task::{Context as TaskContext, Poll};

use lambda_runtime::{Context, Error};

use crate::chain::{Chain, Token};
use crate::diagnostic::{InvocationError, NamedError};
use crate::handler::Handler;
use crate::trace::choice::{EnvOff, EnvOn, EnvTrace};

/// The future of one invocation through a handler's `tower::Service` impl: what
/// `lambda_runtime::run(handler)` awaits.
///
/// It owns everything the invocation needs (the context, a handle on the chain, the
/// chain's own future) in one slot that the handler reuses from one invocation to the
/// next, so that an invocation through `tower::Service` allocates nothing once the
/// first one has run, whatever its middlewares (hooks, closures, `#[middleware]`
/// functions and `async fn`s alike). `POWERTOOLS_TRACE_MIDDLEWARES` was read when the
/// handler was built: the slot holds the chain compiled for that mode only.
///
/// `C` is the chain, `E` the event type; it is `Send`, and `Unpin` (the slot does not
/// move).
///
/// # Example
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::chain::ResponseFuture;
/// use lambda_middleware::{Context, Error, Handler, LambdaEvent};
/// use tower::Service;
///
/// async fn double(event: u64, _: &Context) -> Result<u64, Error> { Ok(event * 2) }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let mut handler = Handler::builder().after(|response: &mut u64, _: &Context| *response += 1).handler(double)?;
/// let future = handler.call(LambdaEvent::new(20, Context::default()));
/// fn named<C, E>(future: ResponseFuture<C, E>) -> ResponseFuture<C, E> { future }
/// assert_eq!(named(future).await?, 41);
/// # Ok(()) }
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct ResponseFuture<C, E> {
    state: State,
    /// Which chain the slot holds: the one with every undecided middleware traced.
    traced: bool,
    /// Drops a running slot: what `Drop` calls, where `C: Chain<E>` cannot be stated.
    cancel: unsafe fn(NonNull<u8>),
    _types: PhantomData<fn(E) -> C>,
}

enum State {
    /// The slot, with the chain's future in it.
    Running(NonNull<u8>),
    /// Settled without a slot (a panic while making the chain's future, an event the
    /// entry could not read), until polled.
    Settled(Option<InvocationError>),
    /// Polled to completion, or never to be polled again.
    Done,
}

// SAFETY: the slot holds a `Context` and a `Handler<C>` (both `Send` when `C: Send +
// Sync`, which `Chain` requires) and the chain's future, which `Chain::run_chain`
// declares `Send`; nothing else points into it, so sending the pointer sends them.
unsafe impl<C: Send + Sync, E: Send> Send for ResponseFuture<C, E> {}

impl<C, E> Unpin for ResponseFuture<C, E> {}

impl<C, E> fmt::Debug for ResponseFuture<C, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Running(_) => "running",
            State::Settled(_) => "settled",
            State::Done => "done",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .field("traced", &self.traced)
            .finish()
    }
}

/// What a slot holds: the chain's future `F`, which borrows `context` and `handler`.
///
/// Only ever reached through a raw pointer to the slot: `future` is borrowed mutably
/// on its own, `context` and `handler` are only read, so no `&mut` to the whole slot
/// ever claims the bytes the future borrows.
struct Owned<C, F> {
    future: ManuallyDrop<F>,
    context: Context,
    handler: Handler<C>,
}

/// The error a caught panic becomes: `Panic`, with the panic's message.
pub(crate) fn panic_error(payload: &(dyn Any + Send)) -> InvocationError {
    let message = crate::trace::span::panic_message(payload);
    InvocationError::from(Error::from(NamedError::new("Panic", message.to_owned())))
}

/// The chain's future in mode `G`, from the slot's handle and context: the function
/// whose return type is the type of the slot's future. Its item is passed (never
/// called twice) to [`start`], [`poll_slot`] and [`drop_slot`] so that they can name
/// that type as their own parameter `F`.
#[inline(always)]
fn run_in<C, E, G>(
    handler: &'static Handler<C>,
    payload: E,
    context: &'static Context,
) -> impl Future<Output = Result<C::Response, Error>> + Send + 'static
where
    C: Chain<E> + 'static,
    E: 'static,
    G: EnvTrace,
{
    handler.chain().run_chain::<G>(payload, context, Token(()))
}

impl<C, E> ResponseFuture<C, E>
where
    C: Chain<E> + 'static,
    C::Response: Send + 'static,
    E: Send + 'static,
{
    /// Starts one invocation of `handler` on `payload` and `context`, in the tracing
    /// mode the handler was built in (chosen here, once, not inside the chain).
    #[inline]
    pub(crate) fn new(handler: &Handler<C>, payload: E, context: Context) -> Self {
        let traced = C::UNDECIDED && handler.traces_from_env();
        let (state, cancel): (_, unsafe fn(NonNull<u8>)) = if traced {
            (start_traced(handler, payload, context), cancel::<C, E, EnvOn>)
        } else {
            (
                start(run_in::<C, E, EnvOff>, handler, payload, context),
                cancel::<C, E, EnvOff>,
            )
        };
        ResponseFuture {
            state,
            traced,
            cancel,
            _types: PhantomData,
        }
    }

    /// An invocation that failed before the chain: its outcome is `error`.
    pub(crate) fn failed(error: InvocationError) -> Self {
        ResponseFuture {
            state: State::Settled(Some(error)),
            traced: false,
            cancel: cancel::<C, E, EnvOff>,
            _types: PhantomData,
        }
    }
}

/// Writes the context, a handle on the chain and the chain's future (made by `make`)
/// into a slot: a spare one of the handler's when there is one, else a new one.
#[inline(always)]
fn start<C, E, F, M>(make: M, handler: &Handler<C>, payload: E, context: Context) -> State
where
    C: 'static,
    F: Future + Send + 'static,
    M: FnOnce(&'static Handler<C>, E, &'static Context) -> F,
{
    let layout = Layout::new::<Owned<C, F>>();
    let slot = handler
        .spare()
        .take(layout)
        .unwrap_or_else(|| allocate(layout))
        .cast::<Owned<C, F>>();
    let slot = slot.as_ptr();
    // SAFETY: `slot` is valid for writes of `Owned<C, F>` (its layout); each field is
    // written once below before anything reads the slot as a whole.
    unsafe {
        addr_of_mut!((*slot).context).write(context);
        addr_of_mut!((*slot).handler).write(handler.clone());
        // SAFETY: the context and the handle live in the slot, which does not move and
        // is given back only after `future` is dropped (`drop_slot`): they outlive every
        // use the future makes of these references, which are `'static` only in name,
        // and nothing but the future gets them. The code that runs with them (`make`,
        // the chain) is generic over their lifetime, so it cannot keep them beyond the
        // future either.
        let context: &'static Context = &*addr_of!((*slot).context);
        let owner: &'static Handler<C> = &*addr_of!((*slot).handler);
        // Making the future runs the outer hooks' `before`, which may panic.
        match panic::catch_unwind(AssertUnwindSafe(|| make(owner, payload, context))) {
            Ok(future) => {
                addr_of_mut!((*slot).future).write(ManuallyDrop::new(future));
                State::Running(NonNull::new_unchecked(slot.cast()))
            }
            Err(panic) => {
                // SAFETY: `future` was never written; the context and the handle were,
                // and nothing borrows them any more.
                release::<C, F>(slot);
                State::Settled(Some(panic_error(&*panic)))
            }
        }
    }
}

/// A new slot of `layout` (never zero-sized: it holds a `Context`).
#[cold]
#[inline(never)]
fn allocate(layout: Layout) -> NonNull<u8> {
    // SAFETY: `layout` has a non-zero size.
    let slot = unsafe { alloc::alloc(layout) };
    NonNull::new(slot).unwrap_or_else(|| alloc::handle_alloc_error(layout))
}

/// Drops the context and the handle of a slot whose future is gone (or was never
/// made), and gives the slot back to the handler.
///
/// # Safety
///
/// `slot` came from [`start`] with this `F`; its `context` and `handler` are
/// initialised and nothing borrows them; its `future` is not (or no longer) alive.
/// The slot is not used again.
#[inline]
unsafe fn release<C, F>(slot: *mut Owned<C, F>) {
    // SAFETY: as the caller promises. The handle is read out first so that the slot
    // can be given back through it before the last reference to the handler (which
    // may be this one) goes.
    unsafe {
        ptr::drop_in_place(addr_of_mut!((*slot).context));
        let handler = ptr::read(addr_of!((*slot).handler));
        handler
            .spare()
            .give(NonNull::new_unchecked(slot.cast()), Layout::new::<Owned<C, F>>());
        drop(handler);
    }
}

/// Polls the future in `slot`; `_make` only names its type.
///
/// # Safety
///
/// `slot` came from [`start`] with the same `make` and its future is alive.
#[inline(always)]
unsafe fn poll_slot<C, E, F, M, R>(
    _make: M,
    slot: NonNull<u8>,
    cx: &mut TaskContext<'_>,
) -> Poll<Result<R, InvocationError>>
where
    C: 'static,
    F: Future<Output = Result<R, Error>>,
    M: FnOnce(&'static Handler<C>, E, &'static Context) -> F,
{
    let slot = slot.cast::<Owned<C, F>>().as_ptr();
    // SAFETY: the slot's fields are initialised (the caller); `future` is borrowed on
    // its own, never with the whole slot; it is pinned in the slot, which does not move
    // until the future is dropped in place by `drop_slot`. Once this returns `Ready`
    // (a panic included), the future is dropped and not polled again.
    unsafe {
        let future = Pin::new_unchecked(&mut **addr_of_mut!((*slot).future));
        match panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(poll) => poll.map(|outcome| outcome.map_err(InvocationError::from)),
            Err(panic) => Poll::Ready(Err(panic_error(&*panic))),
        }
    }
}

/// Drops the future in `slot`, then what it borrowed, and gives the slot back; a panic
/// in the future's drop does not keep the rest from being released.
///
/// # Safety
///
/// `slot` came from [`start`] with the same `make` and its future is alive; the slot is
/// not used again.
#[inline(always)]
unsafe fn drop_slot<C, E, F, M>(_make: M, slot: NonNull<u8>)
where
    C: 'static,
    M: FnOnce(&'static Handler<C>, E, &'static Context) -> F,
{
    /// Releases the slot when dropped, also while a panic unwinds.
    struct Release<C, F>(*mut Owned<C, F>);
    impl<C, F> Drop for Release<C, F> {
        fn drop(&mut self) {
            // SAFETY: made below once the future is being dropped, the last use of it.
            unsafe { release(self.0) }
        }
    }
    let slot = slot.cast::<Owned<C, F>>().as_ptr();
    let release = Release(slot);
    // SAFETY: alive (the caller), dropped here only, in place, before what it borrows.
    unsafe { ManuallyDrop::drop(&mut *addr_of_mut!((*slot).future)) };
    drop(release);
}

impl<C, E> Future for ResponseFuture<C, E>
where
    C: Chain<E> + 'static,
    C::Response: Send + 'static,
    E: Send + 'static,
{
    type Output = Result<C::Response, InvocationError>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        match &mut this.state {
            &mut State::Running(slot) => {
                // The chain compiled with every undecided middleware traced is polled
                // out of line: its code stays out of the one users run by default.
                //
                // SAFETY: the slot came from `start` in this mode (`traced`), and its
                // future is alive: a `Ready` poll releases the slot, and the state is
                // `Done` right after, so it is never polled or dropped again.
                let poll = if this.traced {
                    unsafe { poll_traced::<C, E>(slot, cx) }
                } else {
                    unsafe { poll_and_finish(run_in::<C, E, EnvOff>, slot, cx) }
                };
                if poll.is_ready() {
                    this.state = State::Done;
                }
                poll
            }
            State::Settled(error) => {
                let error = error.take();
                this.state = State::Done;
                Poll::Ready(Err(error.unwrap_or_else(polled_after_done)))
            }
            State::Done => Poll::Ready(Err(polled_after_done())),
        }
    }
}

/// [`start`] for the chain with every undecided middleware traced, out of line.
#[inline(never)]
fn start_traced<C, E>(handler: &Handler<C>, payload: E, context: Context) -> State
where
    C: Chain<E> + 'static,
    C::Response: Send + 'static,
    E: Send + 'static,
{
    start(run_in::<C, E, EnvOn>, handler, payload, context)
}

/// [`poll_and_finish`] for the chain with every undecided middleware traced, out of line.
///
/// # Safety
///
/// As [`poll_and_finish`]'s, for a slot made by [`start_traced`].
#[inline(never)]
unsafe fn poll_traced<C, E>(slot: NonNull<u8>, cx: &mut TaskContext<'_>) -> Poll<Result<C::Response, InvocationError>>
where
    C: Chain<E> + 'static,
    C::Response: Send + 'static,
    E: Send + 'static,
{
    // SAFETY: as the caller promises.
    unsafe { poll_and_finish(run_in::<C, E, EnvOn>, slot, cx) }
}

/// Polls the future in `slot` and, once it is ready, drops it and gives the slot back
/// (now, not when the [`ResponseFuture`] is dropped: the next invocation can take it
/// even if this one's future is kept around).
///
/// # Safety
///
/// As [`poll_slot`]'s; once this returns `Ready`, the slot is not used again.
#[inline(always)]
unsafe fn poll_and_finish<C, E, F, M, R>(
    make: M,
    slot: NonNull<u8>,
    cx: &mut TaskContext<'_>,
) -> Poll<Result<R, InvocationError>>
where
    C: 'static,
    F: Future<Output = Result<R, Error>>,
    M: FnOnce(&'static Handler<C>, E, &'static Context) -> F + Copy,
{
    // SAFETY: as the caller promises.
    let poll = unsafe { poll_slot(make, slot, cx) };
    if poll.is_pending() {
        return Poll::Pending;
    }
    // SAFETY: as the caller promises; the caller does not use the slot again.
    match panic::catch_unwind(AssertUnwindSafe(|| unsafe { drop_slot(make, slot) })) {
        Ok(()) => poll,
        // A middleware's or the handler's `Drop` panicked; the slot was released all
        // the same.
        Err(panic) => Poll::Ready(Err(panic_error(&*panic))),
    }
}

#[cold]
fn polled_after_done() -> InvocationError {
    panic_error(&"the invocation's future was polled after it completed")
}

/// [`drop_slot`] for a slot made in mode `G`, as a plain function for `Drop`.
///
/// # Safety
///
/// As [`drop_slot`]'s, for a slot made by `start(run_in::<C, E, G>, ..)`.
unsafe fn cancel<C, E, G>(slot: NonNull<u8>)
where
    C: Chain<E> + 'static,
    E: 'static,
    G: EnvTrace,
{
    // SAFETY: as the caller promises.
    unsafe { drop_slot(run_in::<C, E, G>, slot) }
}

impl<C, E> Drop for ResponseFuture<C, E> {
    #[inline]
    fn drop(&mut self) {
        if let State::Running(slot) = self.state {
            // SAFETY: `cancel` is the one for the mode the slot was made in, and the
            // future is dropped only once (here, or in `poll` which leaves `Done`).
            unsafe { (self.cancel)(slot) };
        }
    }
}

/// The slots of finished invocations, kept by a handler for the next ones.
///
/// All of one layout (a handler runs one chain, in one mode, on one event type; a
/// slot of another layout is freed as usual). Taking and giving back are an atomic
/// swap and a compare-and-swap on the first entry when invocations run one at a time.
pub(crate) struct Spare {
    layout: OnceLock<Layout>,
    slots: [AtomicPtr<u8>; SPARE_SLOTS],
}

/// Slots a handler keeps: as many invocations as it serves at once, up to this.
const SPARE_SLOTS: usize = 8;

impl Spare {
    pub(crate) const fn new() -> Self {
        Spare {
            layout: OnceLock::new(),
            slots: [const { AtomicPtr::new(ptr::null_mut()) }; SPARE_SLOTS],
        }
    }

    /// A spare slot of `layout`, if there is one.
    #[inline(always)]
    fn take(&self, layout: Layout) -> Option<NonNull<u8>> {
        if self.layout.get() != Some(&layout) {
            return None;
        }
        for slot in &self.slots {
            if !slot.load(Ordering::Relaxed).is_null() {
                if let Some(taken) = NonNull::new(slot.swap(ptr::null_mut(), Ordering::Acquire)) {
                    return Some(taken);
                }
            }
        }
        None
    }

    /// Keeps `slot` (of `layout`, its contents dropped) for a next invocation, or frees it.
    #[inline(always)]
    fn give(&self, slot: NonNull<u8>, layout: Layout) {
        if *self.layout.get_or_init(|| layout) == layout {
            for spare in &self.slots {
                let kept = spare.compare_exchange(ptr::null_mut(), slot.as_ptr(), Ordering::Release, Ordering::Relaxed);
                if kept.is_ok() {
                    return;
                }
            }
        }
        // SAFETY: `slot` was allocated with `layout` (by `allocate`) and nothing uses it.
        unsafe { alloc::dealloc(slot.as_ptr(), layout) }
    }
}

impl Drop for Spare {
    fn drop(&mut self) {
        let Some(&layout) = self.layout.get() else {
            return;
        };
        for slot in &mut self.slots {
            let slot = *slot.get_mut();
            if !slot.is_null() {
                // SAFETY: every kept slot has the recorded layout, and nothing uses it.
                unsafe { alloc::dealloc(slot, layout) }
            }
        }
    }
}
