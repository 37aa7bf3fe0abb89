//! [`TowerLayer`]: any tower `Layer` as one layer of a chain, around the rest of it.
//!
//! A tower layer wraps a *service*; inside a chain, the rest of the chain is a [`Next`]
//! that runs once and borrows the invocation. So for each invocation the adapter puts
//! the `Next` in a slot of its own future, hands the layer a [`NextService`] that points
//! at the slot, lets the layer make its service around it (`Layer::layer`) and calls
//! that service once with the event. Nothing is boxed: the rest of the chain's future
//! lives in the slot, in place, and the layer's service and future live in the
//! adapter's future.

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::marker::{PhantomData, PhantomPinned};
use std::mem::MaybeUninit;
use std::pin::{Pin, pin};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context as TaskContext, Poll};

use lambda_runtime::{Context, Error};
use tower::{Layer, Service};

use crate::chain::{Invoke, Respond};
use crate::middleware::short_type_name;
use crate::next::{Next, Proceeded, proof};
use crate::transform::Transform;

/// A tower `Layer` — tower-http's `TraceLayer`, `CompressionLayer`, `TimeoutLayer`,
/// `SetResponseHeaderLayer`, `CorsLayer`, one of your own — as one layer of a chain,
/// added with [`HandlerBuilder::layer`](crate::HandlerBuilder::layer) (or
/// [`layer_taking`](crate::HandlerBuilder::layer_taking) when the layer hands inwards
/// another request type than it takes).
///
/// It is a [`Transform`]: the layers inside it take the event it hands inwards, and the
/// layers outside it see the response its service gives back — tower-http's layers wrap
/// the response body (`CompressionBody<B>`, `ResponseBody<B, ..>`), and the chain's
/// types follow. `Resp` is that response type, found by the compiler from the layer and
/// the rest of the chain. `Ev` says which event the layer takes: [`SameEvent`] (the one it hands
/// inwards, the usual case) or [`Taking<E>`].
///
/// **Order.** Like any layer of a chain: it runs where it was added, inside the
/// middlewares added before it and outside those added after it.
///
/// **State.** The layer's service wraps the rest of *this* invocation, so it is made —
/// `Layer::layer` is called — once per invocation. What a layer keeps in itself is
/// shared by every invocation; what it keeps in the service it makes starts afresh each
/// time. tower's `GlobalConcurrencyLimitLayer` (a semaphore in the layer) limits
/// invocations as expected; `ConcurrencyLimitLayer` and `RateLimitLayer` (their state
/// in the service) limit nothing here — put them around the chain, with the chain as a
/// [`ChainLayer`](crate::layer::ChainLayer) in a `ServiceBuilder`, where tower makes
/// the service once (`tests/tower_interop.rs` shows both).
///
/// **What it keeps of the chain's guarantees.** The layer gets the rest of the chain as
/// a [`NextService`], a `tower::Service` that runs it at most once and only during this
/// invocation, and the adapter holds the chain's [`Next`] for it. So:
///
/// - the layer cannot run the handler twice: a second `call` (a retrying or hedging
///   layer) fails with [`LayerError::RestCalledTwice`];
/// - the layer cannot keep the rest of the chain beyond the invocation: `NextService`
///   borrows it, so a layer that spawns its inner service onto a task of its own
///   (tower's `Buffer`) does not compile;
/// - the response outer layers get is the rest of the chain's, changed by the layer,
///   when the rest ran and succeeded; when the layer answered without it (a CORS
///   preflight, a body too large) or after cancelling it (a timeout's `408`), the answer
///   goes outwards as an early response (`Proceeded::is_early`, `early_response` on the
///   span), as if the layer had called `next.respond_early`.
///
/// **What it cannot host.** The rest of the chain borrows the invocation, so the layer's
/// service must not require its inner service's future to be `'static`: a layer that
/// boxes that future as `BoxFuture<'static, _>`, or spawns its inner service onto a task
/// of its own (tower's `Buffer`), does not compile here — rustc says "implementation of
/// `Service` is not general enough … `NextService<'s, ..>`". tower-http's and tower's own
/// layers name their futures and fit. Put such a layer *around* the chain instead
/// ([`ChainLayer`](crate::layer::ChainLayer) in a `ServiceBuilder`, where the inner
/// futures are `'static`), or write it for the chain: implement
/// `Layer<NextService<'s, E, R>>` and box with `'s`, as below.
///
/// **What it costs.** Per invocation: the layer's `layer(..)` (most tower-http layers
/// clone a few words of configuration), `poll_ready` and `call` on its service, an
/// uncontended lock and a dynamic call per poll of the rest of the chain, and the layer's
/// own work: about 220 instructions a layer on a `u64` event, 270 on a
/// `serde_json::Value`, where the same step written as a hook middleware costs 2 and 8,
/// and a tower layer that boxes its future about 250 and an allocation
/// (`benches/instructions.sh`, variant `lambda-middleware-tower-layers`). The adapter
/// allocates nothing (`tests/zero_cost.rs`).
///
/// # Example
///
/// A hand-written tower layer with a boxed future, written for a chain:
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use std::future::Future;
/// use std::pin::Pin;
/// use std::task::{Context as TaskContext, Poll};
/// use lambda_middleware::layer::NextService;
/// use lambda_middleware::{Context, Error, Handler};
/// use tower::{Layer, Service};
///
/// type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
///
/// /// Doubles what the rest of the chain answers.
/// #[derive(Clone)]
/// struct DoublerLayer;
///
/// struct Doubler<'s>(NextService<'s, u64, u64>);
///
/// impl<'s> Layer<NextService<'s, u64, u64>> for DoublerLayer {
///     type Service = Doubler<'s>;
///
///     fn layer(&self, rest: NextService<'s, u64, u64>) -> Doubler<'s> {
///         Doubler(rest)
///     }
/// }
///
/// impl<'s> Service<u64> for Doubler<'s> {
///     type Response = u64;
///     type Error = Error;
///     type Future = BoxFuture<'s, Result<u64, Error>>; // `'s`, not `'static`
///
///     fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Error>> {
///         self.0.poll_ready(cx)
///     }
///
///     fn call(&mut self, n: u64) -> Self::Future {
///         let rest = self.0.call(n);
///         Box::pin(async move { Ok(rest.await? * 2) })
///     }
/// }
///
/// async fn add_one(n: u64, _: &Context) -> Result<u64, Error> { Ok(n + 1) }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let handler = Handler::builder().layer(DoublerLayer).handler(add_one)?;
/// assert_eq!(handler.invoke_with(20, &Context::default()).await?, 42);
/// assert_eq!(format!("{handler:?}"), "Handler([DoublerLayer, handler])");
/// # Ok(()) }
/// ```
pub struct TowerLayer<L, Ev, Resp> {
    layer: L,
    _types: PhantomData<fn() -> (Ev, Resp)>,
}

impl<L, Ev, Resp> TowerLayer<L, Ev, Resp> {
    pub(crate) fn new(layer: L) -> Self {
        TowerLayer {
            layer,
            _types: PhantomData,
        }
    }

    /// The tower layer.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// # use lambda_middleware::layer::{SameEvent, TowerLayer};
    /// # fn show<L: std::fmt::Debug, R>(layer: &TowerLayer<L, SameEvent, R>) {
    /// println!("{:?}", layer.get_ref());
    /// # }
    /// ```
    pub fn get_ref(&self) -> &L {
        &self.layer
    }
}

impl<L: Clone, Ev, Resp> Clone for TowerLayer<L, Ev, Resp> {
    fn clone(&self) -> Self {
        TowerLayer::new(self.layer.clone())
    }
}

impl<L, Ev, Resp> fmt::Debug for TowerLayer<L, Ev, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TowerLayer")
            .field(&format_args!("{}", short_type_name(std::any::type_name::<L>())))
            .finish()
    }
}

/// The event a [`TowerLayer`] takes is the one it hands inwards: what almost every
/// layer does (tracing, compression, timeouts, headers, CORS).
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::layer::{SameEvent, TowerLayer};
/// let _: Option<TowerLayer<tower::layer::util::Identity, SameEvent, u64>> = None;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SameEvent;

/// The event a [`TowerLayer`] takes is `E`, another type than the one it hands inwards:
/// for layers that change the request, such as tower-http's `RequestBodyLimitLayer`
/// (which takes `Request<B>` and hands inwards `Request<Limited<B>>`).
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::layer::{Taking, TowerLayer};
/// let _: Option<TowerLayer<tower::layer::util::Identity, Taking<String>, u64>> = None;
/// ```
#[derive(Debug)]
pub struct Taking<E>(PhantomData<fn(E)>);

/// Which event a [`TowerLayer`] takes, given the one it hands inwards (`Inner`): see
/// [`SameEvent`] and [`Taking`].
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::layer::{LayerEvent, SameEvent, Taking};
/// fn takes<Ev: LayerEvent<u8>>() -> &'static str { std::any::type_name::<Ev::Event>() }
/// assert_eq!(takes::<SameEvent>(), "u8");
/// assert_eq!(takes::<Taking<String>>(), "alloc::string::String");
/// ```
pub trait LayerEvent<Inner>: sealed::Sealed {
    /// The event the layer takes.
    type Event;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::SameEvent {}
    impl<E> Sealed for super::Taking<E> {}
}

impl<Inner> LayerEvent<Inner> for SameEvent {
    type Event = Inner;
}

impl<Inner, E> LayerEvent<Inner> for Taking<E> {
    type Event = E;
}

/// The service a layer makes around the rest of the chain, for one invocation.
type Layered<'s, L, E, R> = <L as Layer<NextService<'s, E, R>>>::Service;

impl<L, Ev, Resp, E, R> Transform<E, R> for TowerLayer<L, Ev, Resp>
where
    L: for<'s> Layer<NextService<'s, E, R>> + Send + Sync,
    Ev: LayerEvent<E>,
    for<'s> Layered<'s, L, E, R>: Service<Ev::Event, Response = Resp> + Send,
    for<'s> <Layered<'s, L, E, R> as Service<Ev::Event>>::Future: Send,
    for<'s> <Layered<'s, L, E, R> as Service<Ev::Event>>::Error: Into<Error>,
    Ev::Event: Send,
    Resp: Send,
    E: Send,
    R: Send,
{
    type Event = Ev::Event;
    type Response = Resp;
    type Params = ();

    fn name(&self) -> &'static str {
        layer_name::<L>()
    }

    async fn call<'n, I>(
        &self,
        _: &(),
        event: Ev::Event,
        _: &Context,
        next: Next<'n, I, Self::Response>,
    ) -> Result<Proceeded<'n, Self::Response>, Error>
    where
        I: Invoke<E, Response = R>,
    {
        // The layer's name only matters for an error: a function, called then.
        let slot = pin!(Slot::new(next, Next::run, layer_name::<L>));
        let slot = slot.into_ref();
        let outcome = {
            let rest = NextService {
                slot: slot as Pin<&(dyn RunRest<E, R> + Sync)>,
            };
            // `poll_ready`, then `call`, as tower's contract asks.
            let mut service = self.layer.layer(rest);
            let ready: Result<(), Error> = std::future::poll_fn(|cx| service.poll_ready(cx).map_err(Into::into)).await;
            match ready {
                Ok(()) => service.call(event).await.map_err(Into::into),
                Err(error) => Err(error),
            }
            // The layer's service and future are dropped here, and with them every
            // `NextService` the layer kept: the slot below is the adapter's alone.
        };
        let response = outcome?;
        Ok(slot.conclude(response))
    }
}

/// A tower layer's name: its type's, without path or generic arguments.
fn layer_name<L>() -> &'static str {
    short_type_name(std::any::type_name::<L>())
}

/// Why a [`TowerLayer`] failed an invocation on its own account.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::layer::LayerError;
///
/// let error = LayerError::RestCalledTwice { layer: "RetryLayer" };
/// assert_eq!(
///     error.to_string(),
///     "the tower layer RetryLayer called the rest of the chain a second time in one invocation; \
///      the handler runs at most once per invocation, so a layer that retries or hedges requests \
///      cannot wrap it",
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LayerError {
    /// The layer's service called the service inside it (the rest of the chain) a second
    /// time in one invocation.
    #[error(
        "the tower layer {layer} called the rest of the chain a second time in one invocation; \
         the handler runs at most once per invocation, so a layer that retries or hedges \
         requests cannot wrap it"
    )]
    RestCalledTwice {
        /// The layer's name.
        layer: &'static str,
    },
}

/// The rest of a chain as a `tower::Service`, as a [`TowerLayer`] hands it to its tower
/// layer for one invocation.
///
/// It borrows the invocation (`'s`), so the layer's service cannot outlive it, and it
/// runs the rest of the chain once: a second `call` fails with
/// [`LayerError::RestCalledTwice`]. It is always ready, and `Copy`.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::layer::NextService;
/// use tower::Service;
///
/// fn is_a_service<S: Service<u8, Response = u16> + Clone + Send>(_: &S) {}
/// fn check(rest: NextService<'_, u8, u16>) { is_a_service(&rest) }
/// ```
pub struct NextService<'s, E, R> {
    slot: Pin<&'s (dyn RunRest<E, R> + Sync + 's)>,
}

impl<E, R> Clone for NextService<'_, E, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E, R> Copy for NextService<'_, E, R> {}

impl<E, R> fmt::Debug for NextService<'_, E, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NextService")
    }
}

impl<'s, E, R> Service<E> for NextService<'s, E, R> {
    type Response = R;
    type Error = Error;
    type Future = NextServiceFuture<'s, E, R>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, event: E) -> Self::Future {
        let first = self.slot.start(event);
        NextServiceFuture {
            slot: self.slot,
            first,
            finished: false,
        }
    }
}

/// The future of [`NextService::call`]: the rest of the chain, run in its slot.
///
/// Dropping it before it finished cancels the rest of the chain, as dropping any future
/// does; the layer may then answer itself (its answer goes outwards as an early one).
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::layer::{NextService, NextServiceFuture};
/// use tower::Service;
///
/// // What a layer's service holds while the rest of the chain runs.
/// fn start<'s>(mut rest: NextService<'s, u8, u16>, event: u8) -> NextServiceFuture<'s, u8, u16> {
///     rest.call(event)
/// }
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct NextServiceFuture<'s, E, R> {
    slot: Pin<&'s (dyn RunRest<E, R> + Sync + 's)>,
    /// Whether this call started the rest of the chain (only the first call does).
    first: bool,
    finished: bool,
}

impl<E, R> fmt::Debug for NextServiceFuture<'_, E, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NextServiceFuture")
            .field("first", &self.first)
            .field("finished", &self.finished)
            .finish()
    }
}

impl<E, R> Future for NextServiceFuture<'_, E, R> {
    type Output = Result<R, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        if !self.first {
            self.finished = true;
            return Poll::Ready(Err(LayerError::RestCalledTwice {
                layer: self.slot.layer_name(),
            }
            .into()));
        }
        let poll = self.slot.poll_rest(cx);
        if poll.is_ready() {
            self.finished = true;
        }
        poll
    }
}

impl<E, R> Drop for NextServiceFuture<'_, E, R> {
    fn drop(&mut self) {
        if self.first && !self.finished {
            self.slot.abandon();
        }
    }
}

/// What a [`NextService`] sees of the slot: the rest of the chain with its `Next`, its
/// brand and its future's type erased, so that the layer's types do not depend on them.
trait RunRest<E, R> {
    /// Starts the rest of the chain on `event`; `false` when it was started before.
    fn start(self: Pin<&Self>, event: E) -> bool;
    /// Polls the rest of the chain started by `start`.
    fn poll_rest(self: Pin<&Self>, cx: &mut TaskContext<'_>) -> Poll<Result<R, Error>>;
    /// The future of the rest of the chain was dropped before it finished.
    fn abandon(self: Pin<&Self>);
    fn layer_name(&self) -> &'static str;
}

/// Where the rest of the chain is, in one invocation of a [`TowerLayer`]: its `Next`
/// until the layer's service calls it, then its future (in place: the slot is pinned in
/// the adapter's future), then what became of it.
///
/// The phase is behind a lock; the future has a place of its own beside it, written
/// once in place (so that starting the rest of the chain does not copy its future, which
/// holds every layer inside it) and read or dropped only under the lock.
struct Slot<'n, I: Respond, O, E, Run, F> {
    phase: Mutex<Phase<'n, I, O>>,
    /// Initialised if and only if the phase is `Running`.
    future: UnsafeCell<MaybeUninit<F>>,
    run: Run,
    layer: fn() -> &'static str,
    _event: PhantomData<fn(E)>,
    // The future is polled in place.
    _pinned: PhantomPinned,
}

// SAFETY: the only `&`-access to `future` is under the lock of `phase` (in `start`,
// `poll_rest`, `abandon`, `conclude` and `drop`), so sharing the slot between threads
// shares `F` only as a `Mutex` shares its contents: `F: Send` is what that needs.
unsafe impl<'n, I: Respond, O, E, Run: Sync, F: Send> Sync for Slot<'n, I, O, E, Run, F> where
    Mutex<Phase<'n, I, O>>: Sync
{
}

enum Phase<'n, I: Respond, O> {
    /// Not called yet.
    Waiting(Next<'n, I, O>),
    /// Called: the rest of the chain's future is in `future`.
    Running,
    /// The rest of the chain succeeded and its response went to the layer: the proof,
    /// without the response.
    Ran(Proceeded<'n, ()>),
    /// The rest of the chain failed and its error went to the layer.
    Failed,
    /// The layer dropped the rest of the chain's future before it finished.
    Abandoned,
    /// Between two of the above, and after a panic while the future was being made or
    /// dropped: the place holds nothing to drop.
    Moving,
}

impl<'n, I, O, E, Run, F> Slot<'n, I, O, E, Run, F>
where
    I: Respond,
{
    fn new(next: Next<'n, I, O>, run: Run, layer: fn() -> &'static str) -> Self {
        Slot {
            phase: Mutex::new(Phase::Waiting(next)),
            future: UnsafeCell::new(MaybeUninit::uninit()),
            run,
            layer,
            _event: PhantomData,
            _pinned: PhantomPinned,
        }
    }

    fn phase(&self) -> MutexGuard<'_, Phase<'n, I, O>> {
        // A panic while the lock was held unwinds the whole invocation, slot included.
        // The phase stays true through one: it says `Running` only while the future is
        // in its place (it leaves `Running` before the future is dropped, and enters it
        // after the future is written), so poisoning tells nothing.
        self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Drops the rest of the chain's future in place, if it is there, and sets the phase
    /// to `then`. `phase` is the locked phase of this slot.
    fn drop_future(&self, phase: &mut Phase<'n, I, O>, then: Phase<'n, I, O>) {
        if matches!(phase, Phase::Running) {
            // First the phase, then the drop: a destructor inside the rest of the chain
            // may panic, and the slot's own `drop` must not see `Running` then.
            *phase = then;
            // SAFETY: the phase was `Running`, so the future is initialised; it is
            // dropped once, here, in place, under the lock, and the phase no longer
            // says it is there.
            unsafe { (*self.future.get()).assume_init_drop() };
        }
    }

    /// The answer of the layer, `response`, with the proof that fits what became of the
    /// rest of the chain.
    fn conclude(self: Pin<&Self>, response: O) -> Proceeded<'n, O> {
        let mut phase = self.phase();
        // A future the layer kept beyond its own: cancelled now.
        self.drop_future(&mut phase, Phase::Abandoned);
        match std::mem::replace(&mut *phase, Phase::Moving) {
            // The rest of the chain ran and succeeded: the layer's answer is its response,
            // changed by the layer, as a middleware changes one with `Proceeded::map`.
            Phase::Ran(proceeded) => proceeded.map(|()| response),
            // The layer answered without calling the rest of the chain.
            Phase::Waiting(next) => next.respond_early(response),
            // The rest of the chain failed and the layer answered anyway: a recovery, as
            // `Failure::recover`.
            Phase::Failed => proof(response, false),
            // The layer dropped the rest of the chain before it finished (a timeout) and
            // answered itself: the handler did not finish, so it is an early answer.
            Phase::Abandoned | Phase::Running | Phase::Moving => proof(response, true),
        }
    }
}

impl<I: Respond, O, E, Run, F> Drop for Slot<'_, I, O, E, Run, F> {
    fn drop(&mut self) {
        let phase = self.phase.get_mut().unwrap_or_else(PoisonError::into_inner);
        if matches!(phase, Phase::Running) {
            *phase = Phase::Moving;
            // SAFETY: `Running` said the future is initialised; nothing else can reach
            // it now (`&mut self`), and it is dropped in place, once (the phase no longer
            // says it is there, should its destructor panic).
            unsafe { self.future.get_mut().assume_init_drop() };
        }
    }
}

impl<'n, I, O, E, Run, F, R> RunRest<E, R> for Slot<'n, I, O, E, Run, F>
where
    I: Respond,
    Run: Fn(Next<'n, I, O>, E) -> F,
    F: Future<Output = Result<Proceeded<'n, R>, crate::Failure<'n, O>>>,
{
    fn start(self: Pin<&Self>, event: E) -> bool {
        let mut phase = self.phase();
        if !matches!(*phase, Phase::Waiting(_)) {
            return false;
        }
        let Phase::Waiting(next) = std::mem::replace(&mut *phase, Phase::Moving) else {
            return false;
        };
        // Making the future runs code of the layers inside (hooks' `before`, a service's
        // `clone`, the handler function), which may panic: the phase says `Running` only
        // once the future is in its place.
        // The future is made straight into its place (no copy of the layers it holds).
        // SAFETY: the phase was `Waiting`, so the place is empty; it is written once, in
        // place (the slot is pinned), under the lock, and the phase says `Running` from
        // here on, so that exactly one drop follows.
        unsafe { (*self.future.get()).as_mut_ptr().write((self.run)(next, event)) };
        *phase = Phase::Running;
        true
    }

    fn poll_rest(self: Pin<&Self>, cx: &mut TaskContext<'_>) -> Poll<Result<R, Error>> {
        let mut phase = self.phase();
        if !matches!(*phase, Phase::Running) {
            // Polled again after it finished: tower's contract says not to; answer as
            // an abandoned rest would rather than panic.
            return Poll::Ready(Err(Error::from("the rest of the chain was polled after it finished")));
        }
        // SAFETY: `Running` says the future is initialised; the slot is pinned
        // (`self: Pin<&Self>`, and `Slot` is `!Unpin`), so the future never moves; it is
        // only reached under the lock, which this call holds.
        let future = unsafe { Pin::new_unchecked((*self.future.get()).assume_init_mut()) };
        let outcome = match future.poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(outcome) => outcome,
        };
        match outcome {
            Ok(proceeded) => {
                // The response goes to the layer; the proof stays here, for `conclude`.
                let (response, ticket) = proceeded.split();
                self.drop_future(&mut phase, Phase::Ran(ticket));
                Poll::Ready(Ok(response))
            }
            Err(failure) => {
                self.drop_future(&mut phase, Phase::Failed);
                Poll::Ready(Err(failure.into_error()))
            }
        }
    }

    fn abandon(self: Pin<&Self>) {
        let mut phase = self.phase();
        // Cancels the rest of the chain, as a dropped future is.
        self.drop_future(&mut phase, Phase::Abandoned);
    }

    fn layer_name(&self) -> &'static str {
        (self.layer)()
    }
}
