//! "Chains cost nothing", measured: a chain of ten middlewares that hold no data is
//! zero-sized, invoking it allocates nothing (through `tower::Service`, nothing once the
//! first invocation has run), and its future grows by at most 64 bytes per layer.
//!
//! A counting global allocator replaces the system one in this test binary. It counts
//! per thread, and only while that thread measures, so the test harness' other threads
//! (and the other tests, which run in parallel) cannot disturb a measurement. Futures are polled by hand with a
//! no-op waker: no runtime runs (or allocates) inside the measured region.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::hint::black_box;
use std::mem::size_of_val;
use std::pin::pin;
use std::task::{Context as TaskContext, Poll, Waker};

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use lambda_runtime::LambdaEvent;

struct CountingAllocator;

thread_local! {
    /// `Some(count)` while this thread measures, `None` otherwise.
    static ALLOCATIONS: Cell<Option<usize>> = const { Cell::new(None) };
}

fn count_if_measuring() {
    // `try_with`: the allocator also runs while thread-locals are being torn down.
    let _ = ALLOCATIONS.try_with(|count| {
        if let Some(n) = count.get() {
            count.set(Some(n + 1));
        }
    });
}

// SAFETY: every call is forwarded to `System` unchanged; the count is a side effect.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_if_measuring();
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_if_measuring();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_if_measuring();
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// How many heap allocations `f` makes on this thread.
fn allocations_in<T>(f: impl FnOnce() -> T) -> (usize, T) {
    ALLOCATIONS.with(|count| count.set(Some(0)));
    let output = f();
    let count = ALLOCATIONS.with(|count| count.take()).unwrap();
    (count, output)
}

/// Polls a future that must finish without waiting, with a no-op waker.
fn poll_once<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut TaskContext::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("nothing in these chains waits"),
    }
}

/// A middleware with no data: adds `N` to the event before the handler and `N` to the
/// response after it. Ten distinct types, as a real chain has.
struct AddBoth<const N: u64>;

impl<const N: u64> Middleware<u64, u64> for AddBoth<N> {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: u64, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, u64>, Error>
    where
        I: Invoke<u64, Response = u64>,
    {
        let response = next.run(event + N).await?;
        Ok(response.map(|response| response + N))
    }
}

/// Borrows the context: the handler form that costs nothing.
async fn borrowing(event: u64, ctx: &Context) -> Result<u64, Error> {
    Ok(event * 1000 + ctx.deadline)
}

/// lambda_runtime's own form: the chain clones the context to hand it over.
async fn owning(event: LambdaEvent<u64>) -> Result<u64, Error> {
    Ok(event.payload * 1000 + event.context.deadline)
}

macro_rules! ten_layers {
    ($handler:expr) => {
        Handler::builder()
            .middleware(AddBoth::<1>)
            .middleware(AddBoth::<2>)
            .middleware(AddBoth::<3>)
            .middleware(AddBoth::<4>)
            .middleware(AddBoth::<5>)
            .middleware(AddBoth::<6>)
            .middleware(AddBoth::<7>)
            .middleware(AddBoth::<8>)
            .middleware(AddBoth::<9>)
            .middleware(AddBoth::<10>)
            .handler($handler)
            .unwrap()
    };
}

/// The event grows by 1 + 2 + … + 10 = 55 on the way in, the response by 55 on the way out.
const fn expected(payload: u64, deadline: u64) -> u64 {
    (payload + 55) * 1000 + deadline + 55
}

fn context() -> Context {
    let mut context = Context::default();
    // Non-empty strings, so that cloning the context would allocate.
    context.request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef".into();
    context.invoked_function_arn = "arn:aws:lambda:eu-west-1:111122223333:function:bookings".into();
    context.deadline = 7;
    context
}

#[test]
fn a_chain_of_ten_data_free_middlewares_is_zero_sized() {
    let handler = ten_layers!(borrowing);
    assert_eq!(size_of_val(handler.chain()), 0);

    let handler = ten_layers!(owning);
    assert_eq!(size_of_val(handler.chain()), 0);
}

#[test]
fn the_counting_allocator_counts() {
    // Without this, a broken allocator would make the zero below meaningless.
    let (allocations, boxed) = allocations_in(|| black_box(Box::new(black_box(1u64))));
    assert_eq!(allocations, 1);
    drop(boxed);
}

#[test]
fn invoking_ten_layers_with_a_borrowing_handler_allocates_nothing() {
    let handler = ten_layers!(borrowing);
    let ctx = context();

    let (allocations, outputs) =
        allocations_in(|| [1, 2, 3].map(|payload| poll_once(handler.invoke_with(black_box(payload), &ctx)).unwrap()));

    assert_eq!(outputs, [expected(1, 7), expected(2, 7), expected(3, 7)]);
    assert_eq!(allocations, 0, "allocations in three invocations of a ten-layer chain");
}

#[test]
fn early_responses_allocate_nothing_either() {
    /// Answers every event itself.
    struct Cached;

    impl Middleware<u64, u64> for Cached {
        type Params = ();

        async fn call<'n, I>(&self, _: &(), _: u64, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, u64>, Error>
        where
            I: Invoke<u64, Response = u64>,
        {
            Ok(next.respond_early(42))
        }
    }

    let handler = Handler::builder()
        .middleware(AddBoth::<1>)
        .middleware(Cached)
        .middleware(AddBoth::<2>)
        .handler(borrowing)
        .unwrap();
    let ctx = context();

    let (allocations, output) = allocations_in(|| poll_once(handler.invoke_with(black_box(5), &ctx)));

    // The early 42, plus the 1 that the outer layer adds on the way out.
    assert_eq!(output.unwrap(), 43);
    assert_eq!(allocations, 0);
}

#[test]
fn an_owning_handler_costs_the_context_clone_and_the_counter_sees_it() {
    // The control case: same chain, the handler form that takes a `LambdaEvent` and so
    // gets a clone of the context. Its allocations show the counter sees inside the chain.
    let handler = ten_layers!(owning);
    let ctx = context();

    let (allocations, output) = allocations_in(|| poll_once(handler.invoke_with(black_box(1), &ctx)));

    assert_eq!(output.unwrap(), expected(1, 7));
    assert!(allocations > 0, "cloning a context with non-empty strings allocates");
    println!("an owning handler: {allocations} allocations per invocation (the context clone)");
}

#[test]
fn the_invocation_future_grows_by_at_most_64_bytes_per_layer() {
    let ctx = context();

    let bare = Handler::builder().handler(borrowing).unwrap();
    let bare_future = bare.invoke_with(1, &ctx);
    let bare_size = size_of_val(&bare_future);
    // Run it, so the size measured is that of a future that works.
    assert_eq!(poll_once(bare_future).unwrap(), 1007);

    let ten = ten_layers!(borrowing);
    let ten_future = ten.invoke_with(1, &ctx);
    let ten_size = size_of_val(&ten_future);
    assert_eq!(poll_once(ten_future).unwrap(), expected(1, 7));

    let handler_alone = size_of_val(&borrowing(1, &ctx));
    let per_layer = (ten_size - bare_size) as f64 / 10.0;
    println!(
        "invocation future: handler's own future {handler_alone} B, chain of 0 {bare_size} B, \
         chain of 10 {ten_size} B, {per_layer} B per layer"
    );
    assert!(
        per_layer <= 64.0,
        "the future grows by {per_layer} bytes per layer ({bare_size} B with no middleware, {ten_size} B with ten)"
    );
}

#[test]
fn through_tower_only_the_first_invocation_allocates() {
    // What `lambda_runtime::run` calls: `tower::Service::call`, whose future keeps the
    // context and the chain's future in a slot the handler reuses: the first invocation
    // allocates it, no later one allocates anything.
    use tower::Service;

    let mut service = ten_layers!(borrowing);
    let events: Vec<_> = (1..=4).map(|payload| LambdaEvent::new(payload, context())).collect();
    let mut counts = Vec::new();
    for (payload, event) in (1..).zip(events) {
        let (allocations, output) = allocations_in(|| poll_once(service.call(event)));
        assert_eq!(output.unwrap(), expected(payload, 7));
        counts.push(allocations);
    }
    assert_eq!(counts, [1, 0, 0, 0]);
}

#[test]
fn through_tower_invocations_in_flight_at_once_take_a_slot_each_then_reuse_them() {
    use tower::Service;

    let mut service = ten_layers!(borrowing);
    let [first, second] =
        [[1, 2, 3], [4, 5, 6]].map(|payloads| payloads.map(|payload| LambdaEvent::new(payload, context())));
    // Three at once: three slots.
    let (allocations, futures) = allocations_in(|| first.map(|event| service.call(event)));
    assert_eq!(allocations, 3);
    let outputs = futures.map(|future| poll_once(future).unwrap());
    assert_eq!(outputs, [1, 2, 3].map(|payload| expected(payload, 7)));
    // Three at once again: the three kept slots.
    let (allocations, futures) = allocations_in(|| second.map(|event| service.call(event)));
    assert_eq!(allocations, 0);
    let outputs = futures.map(|future| poll_once(future).unwrap());
    assert_eq!(outputs, [4, 5, 6].map(|payload| expected(payload, 7)));
}

#[test]
fn through_tower_hook_and_closure_chains_allocate_nothing_after_the_first() {
    use tower::Service;

    let mut service = Handler::builder()
        .middleware(HookAdd::<1>)
        .before(|event: &mut u64, _: &Context| *event += 10)
        .after(|response: &mut u64, _: &Context| *response += 10)
        .middleware(HookAdd::<100>)
        .handler(borrowing)
        .unwrap();
    let events: Vec<_> = (1..=3).map(|payload| LambdaEvent::new(payload, context())).collect();
    let mut counts = Vec::new();
    for (payload, event) in (1..).zip(events) {
        let (allocations, output) = allocations_in(|| poll_once(service.call(event)));
        assert_eq!(output.unwrap(), (payload + 111) * 1000 + 7 + 111);
        counts.push(allocations);
    }
    assert_eq!(counts, [1, 0, 0]);
}

#[test]
fn traced_middlewares_cost_no_name_and_no_allocation_when_no_subscriber_is_set() {
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// How often a middleware was asked for its name.
    static NAMES: AtomicUsize = AtomicUsize::new(0);

    /// `AddBoth<N>`, traced by its definition, counting calls to `name`.
    struct Traced<const N: u64>;

    impl<const N: u64> Middleware<u64, u64> for Traced<N> {
        type Params = ();
        const TRACE_EXECUTION: Option<bool> = Some(true);

        fn name(&self) -> &'static str {
            NAMES.fetch_add(1, Ordering::Relaxed);
            "traced"
        }

        async fn call<'n, I>(
            &self,
            _: &(),
            event: u64,
            _: &Context,
            next: Next<'n, I>,
        ) -> Result<Proceeded<'n, u64>, Error>
        where
            I: Invoke<u64, Response = u64>,
        {
            let response = next.run(event + N).await?;
            Ok(response.map(|response| response + N))
        }
    }

    // This test binary installs no `tracing` subscriber, global or scoped.
    assert!(!tracing::dispatcher::has_been_set());
    let handler = Handler::builder()
        .middleware(Traced::<1>)
        .middleware(AddBoth::<2>)
        .middleware(Traced::<3>)
        .handler(borrowing)
        .unwrap();
    let ctx = context();

    let (allocations, output) = allocations_in(|| poll_once(handler.invoke_with(black_box(5), &ctx)));

    assert_eq!(output.unwrap(), (5 + 6) * 1000 + 7 + 6);
    assert_eq!(allocations, 0);
    assert_eq!(
        NAMES.load(Ordering::Relaxed),
        0,
        "names asked for with nobody to record them"
    );
}

/// `AddBoth` written with hooks.
struct HookAdd<const N: u64>;

impl<const N: u64> Middleware<u64, u64> for HookAdd<N> {
    type Params = ();

    fn before(&self, _: &(), event: &mut u64, _: &Context) -> Result<lambda_middleware::hooks::Flow<u64>, Error> {
        *event += N;
        Ok(lambda_middleware::hooks::Flow::Continue)
    }

    fn after(&self, _: &(), response: &mut u64, _: &Context) -> Result<(), Error> {
        *response += N;
        Ok(())
    }
}

#[test]
fn hook_middlewares_mixed_with_async_ones_allocate_nothing_and_stay_small() {
    let handler = Handler::builder()
        .middleware(HookAdd::<1>)
        .middleware(AddBoth::<2>)
        .middleware(HookAdd::<3>)
        .middleware(HookAdd::<4>)
        .middleware(AddBoth::<5>)
        .middleware(HookAdd::<6>)
        .middleware(HookAdd::<7>)
        .middleware(HookAdd::<8>)
        .middleware(AddBoth::<9>)
        .middleware(HookAdd::<10>)
        .handler(borrowing)
        .unwrap();
    assert_eq!(size_of_val(handler.chain()), 0);
    let ctx = context();

    let (allocations, outputs) =
        allocations_in(|| [1, 2].map(|payload| poll_once(handler.invoke_with(black_box(payload), &ctx)).unwrap()));

    assert_eq!(outputs, [expected(1, 7), expected(2, 7)]);
    assert_eq!(allocations, 0);

    // A hook layer keeps its middleware, params and context for `after`/`on_error`:
    // three pointers and the inner future.
    let bare = Handler::builder().handler(borrowing).unwrap();
    let one = Handler::builder().middleware(HookAdd::<1>).handler(borrowing).unwrap();
    let growth = size_of_val(&one.invoke_with(1, &ctx)) - size_of_val(&bare.invoke_with(1, &ctx));
    println!("one hook layer adds {growth} bytes to the invocation future");
    assert!(growth <= 40, "a hook layer adds {growth} bytes");
}

/// A tower layer with a named future that adds `N` to what the service inside answers,
/// as tower-http's layers are written.
#[derive(Clone, Copy)]
struct AddLayer<const N: u64>;

#[derive(Clone, Copy)]
struct AddService<S, const N: u64>(S);

impl<S, const N: u64> tower::Layer<S> for AddLayer<N> {
    type Service = AddService<S, N>;

    fn layer(&self, inner: S) -> AddService<S, N> {
        AddService(inner)
    }
}

impl<S: tower::Service<u64, Response = u64>, const N: u64> tower::Service<u64> for AddService<S, N> {
    type Response = u64;
    type Error = S::Error;
    type Future = AddFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, event: u64) -> Self::Future {
        AddFuture {
            inner: self.0.call(event),
            add: N,
        }
    }
}

pin_project_lite::pin_project! {
    struct AddFuture<F> {
        #[pin]
        inner: F,
        add: u64,
    }
}

impl<F: Future<Output = Result<u64, E>>, E> Future for AddFuture<F> {
    type Output = Result<u64, E>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let add = *this.add;
        this.inner.poll(cx).map(|outcome| outcome.map(|n| n + add))
    }
}

#[test]
fn tower_layers_hosted_in_a_chain_allocate_nothing() {
    let handler = Handler::builder()
        .middleware(AddBoth::<1>)
        .layer(AddLayer::<10>)
        .layer(tower::layer::util::Identity::new())
        .middleware(HookAdd::<2>)
        .layer(AddLayer::<100>)
        .handler(borrowing)
        .unwrap();
    let ctx = context();

    let (allocations, outputs) =
        allocations_in(|| [1, 2].map(|payload| poll_once(handler.invoke_with(black_box(payload), &ctx)).unwrap()));

    // The same chain without the hosted layers, plus what they add on the way out.
    let plain = Handler::builder()
        .middleware(AddBoth::<1>)
        .middleware(HookAdd::<2>)
        .handler(borrowing)
        .unwrap();
    let plain_outputs = [1, 2].map(|payload| poll_once(plain.invoke_with(payload, &ctx)).unwrap());
    assert_eq!(outputs, plain_outputs.map(|n| n + 110));
    assert_eq!(
        allocations, 0,
        "allocations in two invocations through three hosted layers"
    );
}

#[test]
fn the_handler_segment_costs_no_allocation_when_no_subscriber_is_set() {
    use lambda_middleware::middlewares::{CaptureLambdaHandler, CaptureLambdaHandlerParams};

    // This test binary installs no `tracing` subscriber, global or scoped.
    assert!(!tracing::dispatcher::has_been_set());
    let handler = Handler::builder()
        .middleware_with(
            CaptureLambdaHandler,
            CaptureLambdaHandlerParams::builder().name("handler").build(),
        )
        .middleware(AddBoth::<1>)
        .handler(borrowing)
        .unwrap();
    let ctx = context();

    let (allocations, outputs) =
        allocations_in(|| [1, 2].map(|payload| poll_once(handler.invoke_with(black_box(payload), &ctx)).unwrap()));

    assert_eq!(outputs, [(1 + 1) * 1000 + 7 + 1, (2 + 1) * 1000 + 7 + 1]);
    assert_eq!(allocations, 0);
}

/// The closure middlewares (`.before`, `.after`, `.on_error`) are hook middlewares: no
/// box, no allocation per invocation.
#[test]
fn closure_middlewares_allocate_nothing() {
    let handler = Handler::builder()
        .before(|event: &mut u64, _: &Context| {
            *event += 1;
            Ok(())
        })
        .after(|response: &mut u64, _: &Context| {
            *response *= 2;
            Ok(())
        })
        .on_error(|_: Error, _: &Context| Ok(0_u64))
        .named("fallback")
        .before(|event: &mut u64, _: &Context| {
            *event += 1;
            Ok(())
        })
        .handler(borrowing)
        .unwrap();
    let ctx = context();
    let (allocations, outputs) =
        allocations_in(|| [1, 2, 3].map(|payload| poll_once(handler.invoke_with(black_box(payload), &ctx)).unwrap()));
    assert_eq!(outputs, [1, 2, 3].map(|payload| ((payload + 2) * 1000 + 7) * 2));
    assert_eq!(
        allocations, 0,
        "allocations in three invocations of four closure middlewares"
    );
    assert_eq!(
        format!("{handler:?}"),
        "Handler([Before, After, OnError, Before, handler])"
    );
}

/// `#[middleware]` hook functions are hook middlewares: no box, no allocation per
/// invocation, and a middleware without data is zero-sized, params lent included.
#[test]
fn attribute_middlewares_allocate_nothing() {
    use lambda_middleware::middleware;

    #[middleware(before)]
    fn add(event: &mut u64, _: &Context, by: u64) -> Result<(), Error> {
        *event += by;
        Ok(())
    }

    #[middleware(after)]
    fn scale(response: &mut u64, _: &Context, factor: &u64) -> Result<(), Error> {
        *response *= *factor;
        Ok(())
    }

    #[middleware(on_error)]
    fn fallback(_: Error, _: &Context) -> Result<u64, Error> {
        Ok(0)
    }

    let handler = Handler::builder()
        .middleware_with(Add, AddParams::builder().by(1).build())
        .middleware_with(Scale, ScaleParams::builder().factor(2).build())
        .middleware(Fallback)
        .middleware_with(Add, AddParams::builder().by(1).build())
        .handler(borrowing)
        .unwrap();
    let ctx = context();
    let (allocations, outputs) =
        allocations_in(|| [1, 2, 3].map(|payload| poll_once(handler.invoke_with(black_box(payload), &ctx)).unwrap()));
    assert_eq!(outputs, [1, 2, 3].map(|payload| ((payload + 2) * 1000 + 7) * 2));
    assert_eq!(
        allocations, 0,
        "allocations in three invocations of four attribute middlewares"
    );
    assert_eq!(format!("{handler:?}"), "Handler([Add, Scale, Fallback, Add, handler])");
    assert_eq!(std::mem::size_of::<Fallback>(), 0);
}

/// `.map_event(..)` and `.map_response(..)` closures change the chain's types and
/// allocate nothing per invocation.
#[test]
fn mapping_closures_allocate_nothing() {
    use lambda_middleware::With;
    use lambda_middleware::chain::Inward;

    async fn doubled(event: With<u64, u64>, _: &Context) -> Result<u64, Error> {
        Ok(event.data + event.event)
    }
    let handler = Handler::builder()
        .map_response(|sum: u64, _: &Context| Ok::<_, Error>(-i64::try_from(sum)?))
        .map_event(|event: u64, _: &Context| {
            Ok::<_, Error>(match event {
                0 => Inward::RespondEarly(7),
                n => Inward::Continue(With::new(n, n)),
            })
        })
        .handler(doubled)
        .unwrap();
    let ctx = context();
    let (allocations, outputs) =
        allocations_in(|| [0, 1, 2].map(|payload| poll_once(handler.invoke_with(black_box(payload), &ctx)).unwrap()));
    assert_eq!(outputs, [-7, -2, -4]);
    assert_eq!(
        allocations, 0,
        "allocations in three invocations of two mapping closures"
    );
}
