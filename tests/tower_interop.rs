//! tower interop, both ways, in process: a chain that ends in a `tower::Service` (an
//! axum `Router`, a `lambda_runtime::service_fn`, a service that is not ready at once or
//! fails), a chain as a `tower::Layer` in a `ServiceBuilder` (outside and inside
//! tower-http's layers), and tower layers inside a chain (tower-http's, tower's own, and
//! hand-written ones that misbehave: never call the rest, call it twice, cancel it, keep
//! its future, panic).
//!
//! The same shapes under the real run loop are in `tower_runtime_api.rs`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use lambda_middleware::layer::{LayerError, NextService};
use lambda_middleware::middlewares::{HttpErrorHandler, HttpErrorHandlerParams};
use lambda_middleware::{Context, Error, Handler, InvocationError, Invoke, Middleware, Next, Proceeded};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};
use tower::{Layer, Service, ServiceBuilder, ServiceExt};

mod common;

type Log = Arc<Mutex<Vec<String>>>;

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

/// A middleware on any event and response that writes `<name> before` / `<name> after`,
/// and whether the rest of the chain answered early.
#[derive(Clone)]
struct Step(&'static str, Log);

impl<E: Send, R: Send> Middleware<E, R> for Step {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: E, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<E, Response = R>,
    {
        self.1.lock().unwrap().push(format!("{} before", self.0));
        let outcome = next.run(event).await;
        let after = match &outcome {
            Ok(_) => format!("{} after", self.0),
            Err(failure) => format!("{} failed: {}", self.0, failure.error()),
        };
        self.1.lock().unwrap().push(after);
        Ok(outcome?)
    }
}

/// A hand-written tower layer that writes to the log around its inner service.
#[derive(Clone)]
struct LogLayer(&'static str, Log);

impl<S> Layer<S> for LogLayer {
    type Service = LogService<S>;

    fn layer(&self, inner: S) -> LogService<S> {
        LogService(self.0, self.1.clone(), inner)
    }
}

#[derive(Clone)]
struct LogService<S>(&'static str, Log, S);

impl<S: Service<Req>, Req> Service<Req> for LogService<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = Logged<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), S::Error>> {
        self.2.poll_ready(cx)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        self.1.lock().unwrap().push(format!("{} before", self.0));
        Logged {
            inner: self.2.call(request),
            name: self.0,
            log: self.1.clone(),
        }
    }
}

pin_project_lite::pin_project! {
    /// A named future, as tower-http's layers have: it borrows nothing beyond its inner
    /// future, so it works around the rest of a chain.
    struct Logged<F> {
        #[pin]
        inner: F,
        name: &'static str,
        log: Log,
    }
}

impl<F: Future> Future for Logged<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let output = std::task::ready!(this.inner.poll(cx));
        this.log.lock().unwrap().push(format!("{} after", this.name));
        Poll::Ready(output)
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

fn context(request_id: &str) -> Context {
    let mut context = Context::default();
    request_id.clone_into(&mut context.request_id);
    context
}

// ---- a chain that ends in a service ----

#[tokio::test]
async fn a_lambda_runtime_service_fn_ends_a_chain_with_a_clone_of_the_context() {
    let log = Log::default();
    let service = service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(json!({ "got": event.payload, "request_id": event.context.request_id }))
    });
    let mut handler = Handler::builder()
        .middleware(Step("step", log.clone()))
        .lambda_service(service)
        .unwrap();

    let direct = handler.invoke_with(json!(1), &context("r-1")).await.unwrap();
    assert_eq!(direct, json!({ "got": 1, "request_id": "r-1" }));
    let through_tower = handler.call(LambdaEvent::new(json!(2), context("r-2"))).await.unwrap();
    assert_eq!(through_tower, json!({ "got": 2, "request_id": "r-2" }));
    assert_eq!(
        entries(&log),
        ["step before", "step after", "step before", "step after"]
    );
}

/// A service that is not ready on the first poll, then is; counts its `poll_ready`s.
#[derive(Clone)]
struct Reluctant {
    polls: Arc<AtomicUsize>,
    fail_ready: bool,
}

impl Service<u64> for Reluctant {
    type Response = u64;
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<u64, std::io::Error>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), std::io::Error>> {
        if self.polls.fetch_add(1, Ordering::SeqCst) == 0 {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if self.fail_ready {
            return Poll::Ready(Err(std::io::Error::other("backend unavailable")));
        }
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, n: u64) -> Self::Future {
        std::future::ready(Ok(n * 10))
    }
}

#[tokio::test]
async fn a_service_is_made_ready_before_it_is_called() {
    let polls = Arc::new(AtomicUsize::new(0));
    let handler = Handler::builder()
        .service(Reluctant {
            polls: polls.clone(),
            fail_ready: false,
        })
        .unwrap();
    assert_eq!(handler.invoke_with(4, &Context::default()).await.unwrap(), 40);
    assert_eq!(polls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_service_error_reaches_the_middlewares_outside_and_lambda_under_its_name() {
    let log = Log::default();
    let mut handler = Handler::builder()
        .middleware(Step("step", log.clone()))
        .service(Reluctant {
            polls: Arc::new(AtomicUsize::new(0)),
            fail_ready: true,
        })
        .unwrap();
    let error: InvocationError = handler.call(LambdaEvent::new(4, Context::default())).await.unwrap_err();
    assert_eq!(error.to_string(), "backend unavailable");
    assert_eq!(error.error_type(), "IoError");
    assert_eq!(entries(&log), ["step before", "step failed: backend unavailable"]);
}

// ---- a chain as a layer ----

#[tokio::test]
async fn a_chain_layer_around_a_lambda_runtime_service() {
    let log = Log::default();
    let chain = Handler::builder()
        .middleware(Step("chain", log.clone()))
        .into_lambda_layer()
        .unwrap();
    let mut service = ServiceBuilder::new()
        .layer(chain)
        .service(service_fn(|event: LambdaEvent<u64>| async move {
            Ok::<u64, Error>(event.payload + 1)
        }));
    let response = service
        .ready()
        .await
        .unwrap()
        .call(LambdaEvent::new(41, Context::default()))
        .await
        .unwrap();
    assert_eq!(response, 42);
    assert_eq!(entries(&log), ["chain before", "chain after"]);
}

// ---- tower layers inside a chain ----

#[tokio::test]
async fn tower_layers_inside_a_chain_run_where_they_were_added() {
    let log = Log::default();
    let handler = Handler::builder()
        .middleware(Step("outer", log.clone()))
        .layer(LogLayer("tower", log.clone()))
        .middleware(Step("inner", log.clone()))
        .handler({
            let log = log.clone();
            move |event: LambdaEvent<u64>| {
                let log = log.clone();
                async move {
                    log.lock().unwrap().push("handler".into());
                    Ok::<u64, Error>(event.payload + 1)
                }
            }
        })
        .unwrap();
    assert_eq!(format!("{handler:?}"), "Handler([Step, LogLayer, Step, handler])");
    assert_eq!(handler.invoke_with(1, &Context::default()).await.unwrap(), 2);
    assert_eq!(
        entries(&log),
        [
            "outer before",
            "tower before",
            "inner before",
            "handler",
            "inner after",
            "tower after",
            "outer after"
        ]
    );
}

/// Counts the handler's futures made and dropped, and whether each finished.
#[derive(Clone, Default)]
struct Lifecycle {
    started: Arc<AtomicUsize>,
    finished: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

struct DropGuard(Lifecycle);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// A handler that sleeps `event` milliseconds, recording its lifecycle.
fn sleeper(
    lifecycle: Lifecycle,
) -> impl Fn(LambdaEvent<u64>) -> BoxFuture<'static, Result<u64, Error>> + Clone + Send + Sync {
    move |event: LambdaEvent<u64>| {
        let lifecycle = lifecycle.clone();
        Box::pin(async move {
            lifecycle.started.fetch_add(1, Ordering::SeqCst);
            let _guard = DropGuard(lifecycle.clone());
            tokio::time::sleep(Duration::from_millis(event.payload)).await;
            lifecycle.finished.fetch_add(1, Ordering::SeqCst);
            Ok(event.payload)
        })
    }
}

#[tokio::test(start_paused = true)]
async fn towers_own_timeout_fails_the_invocation_with_its_error() {
    let lifecycle = Lifecycle::default();
    let mut handler = Handler::builder()
        .layer(tower::timeout::TimeoutLayer::new(Duration::from_millis(50)))
        .handler(sleeper(lifecycle.clone()))
        .unwrap();
    let error = handler
        .call(LambdaEvent::new(5_000, Context::default()))
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "request timed out");
    assert_eq!(error.error_type(), "Elapsed");
    assert_eq!(lifecycle.dropped.load(Ordering::SeqCst), 1);
    assert_eq!(lifecycle.finished.load(Ordering::SeqCst), 0);
}

/// Hand-written layers that do what a layer may but should not, or must not.
#[derive(Clone, Copy)]
enum Misbehave {
    /// Answers without calling the rest of the chain.
    AnswerItself,
    /// Calls the rest of the chain twice (a retry).
    CallTwice,
    /// Calls the rest, drops its future after one poll, answers itself.
    Abandon,
    /// Calls the rest, keeps its future unpolled in the service, answers itself.
    KeepUnpolled,
    /// Panics before calling the rest.
    PanicBefore,
    /// Panics after the rest answered.
    PanicAfter,
}

#[derive(Clone, Copy)]
struct MisbehavingLayer(Misbehave);

/// A layer written for the rest of a chain, with boxed futures: it implements `Layer` for
/// `NextService<'s, ..>` and boxes with that `'s`, since the rest of the chain borrows
/// the invocation (a `BoxFuture<'static, _>` cannot hold it).
impl<'s> Layer<NextService<'s, u64, u64>> for MisbehavingLayer {
    type Service = Misbehaving<'s>;

    fn layer(&self, inner: NextService<'s, u64, u64>) -> Misbehaving<'s> {
        Misbehaving(self.0, inner, Arc::new(Mutex::new(None)))
    }
}

struct Misbehaving<'s>(
    Misbehave,
    NextService<'s, u64, u64>,
    Arc<Mutex<Option<BoxFuture<'s, ()>>>>,
);

impl<'s> Service<u64> for Misbehaving<'s> {
    type Response = u64;
    type Error = Error;
    type Future = BoxFuture<'s, Result<u64, Error>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Error>> {
        self.1.poll_ready(cx)
    }

    fn call(&mut self, n: u64) -> Self::Future {
        let mut inner = self.1;
        match self.0 {
            Misbehave::AnswerItself => Box::pin(async move { Ok(7) }),
            Misbehave::CallTwice => Box::pin(async move {
                let first = inner.call(n).await?;
                let second = inner.call(n).await?;
                Ok(first + second)
            }),
            Misbehave::Abandon => Box::pin(async move {
                let mut rest = Box::pin(inner.call(n));
                let poll = rest
                    .as_mut()
                    .poll(&mut TaskContext::from_waker(std::task::Waker::noop()));
                assert!(poll.is_pending(), "the handler sleeps");
                drop(rest);
                Ok(99)
            }),
            Misbehave::KeepUnpolled => {
                let rest = inner.call(n);
                *self.2.lock().unwrap() = Some(Box::pin(async move {
                    let _ = rest.await;
                }));
                Box::pin(async move { Ok(98) })
            }
            Misbehave::PanicBefore => Box::pin(async move { panic!("the layer panicked before the rest") }),
            Misbehave::PanicAfter => Box::pin(async move {
                let response = inner.call(n).await?;
                panic!("the layer panicked after the rest answered {response}")
            }),
        }
    }
}

/// The handler of the misbehaving-layer tests: answers its event, after `event`
/// milliseconds when it is over 1000.
fn misbehaving_chain(
    how: Misbehave,
    log: Log,
    lifecycle: Lifecycle,
) -> Handler<impl lambda_middleware::chain::Chain<u64, Response = u64> + Clone + 'static> {
    Handler::builder()
        .middleware(Step("outer", log))
        .layer(MisbehavingLayer(how))
        .handler(sleeper(lifecycle))
        .unwrap()
}

#[tokio::test]
async fn a_layer_that_answers_itself_gives_an_early_answer_and_the_handler_never_starts() {
    let (log, lifecycle) = (Log::default(), Lifecycle::default());
    let handler = misbehaving_chain(Misbehave::AnswerItself, log.clone(), lifecycle.clone());
    assert_eq!(handler.invoke_with(3, &Context::default()).await.unwrap(), 7);
    assert_eq!(lifecycle.started.load(Ordering::SeqCst), 0);
    assert_eq!(entries(&log), ["outer before", "outer after"]);
}

#[tokio::test]
async fn a_layer_that_calls_the_rest_twice_fails_and_the_handler_runs_once() {
    let (log, lifecycle) = (Log::default(), Lifecycle::default());
    let mut handler = misbehaving_chain(Misbehave::CallTwice, log.clone(), lifecycle.clone());
    let error = handler.call(LambdaEvent::new(3, Context::default())).await.unwrap_err();
    assert_eq!(
        error.downcast_ref::<LayerError>(),
        Some(&LayerError::RestCalledTwice {
            layer: "MisbehavingLayer"
        })
    );
    assert_eq!(error.error_type(), "RestCalledTwice");
    assert_eq!(lifecycle.started.load(Ordering::SeqCst), 1);
    assert_eq!(lifecycle.finished.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_layer_that_abandons_the_rest_cancels_it_once_and_answers_early() {
    let (log, lifecycle) = (Log::default(), Lifecycle::default());
    let handler = misbehaving_chain(Misbehave::Abandon, log.clone(), lifecycle.clone());
    assert_eq!(handler.invoke_with(60_000, &Context::default()).await.unwrap(), 99);
    assert_eq!(lifecycle.started.load(Ordering::SeqCst), 1);
    assert_eq!(lifecycle.dropped.load(Ordering::SeqCst), 1);
    assert_eq!(lifecycle.finished.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_layer_that_keeps_the_rest_unpolled_cannot_keep_it_beyond_the_invocation() {
    let (log, lifecycle) = (Log::default(), Lifecycle::default());
    let handler = misbehaving_chain(Misbehave::KeepUnpolled, log.clone(), lifecycle.clone());
    assert_eq!(handler.invoke_with(5, &Context::default()).await.unwrap(), 98);
    // The handler's future was made, never polled, and dropped with the invocation.
    assert_eq!(lifecycle.started.load(Ordering::SeqCst), 0);
    assert_eq!(lifecycle.finished.load(Ordering::SeqCst), 0);
    // The next invocation runs as usual.
    assert_eq!(handler.invoke_with(5, &Context::default()).await.unwrap(), 98);
}

#[tokio::test(start_paused = true)]
async fn cancelling_an_invocation_mid_flight_drops_the_rest_of_the_chain_in_its_slot_once() {
    let (log, lifecycle) = (Log::default(), Lifecycle::default());
    let handler = Handler::builder()
        .layer(LogLayer("tower", log.clone()))
        .handler(sleeper(lifecycle.clone()))
        .unwrap();
    let context = Context::default();
    let cancelled = tokio::time::timeout(Duration::from_millis(50), handler.invoke_with(60_000, &context)).await;
    assert!(cancelled.is_err(), "the invocation was cancelled");
    assert_eq!(lifecycle.started.load(Ordering::SeqCst), 1);
    assert_eq!(lifecycle.dropped.load(Ordering::SeqCst), 1);
    assert_eq!(lifecycle.finished.load(Ordering::SeqCst), 0);
    // And a finished invocation drops it once too.
    assert_eq!(handler.invoke_with(1, &context).await.unwrap(), 1);
    assert_eq!(lifecycle.dropped.load(Ordering::SeqCst), 2);
    assert_eq!(lifecycle.finished.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_panic_in_a_layer_unwinds_through_the_chain_and_the_next_invocation_works() {
    for how in [Misbehave::PanicBefore, Misbehave::PanicAfter] {
        let (log, lifecycle) = (Log::default(), Lifecycle::default());
        let handler = misbehaving_chain(how, log.clone(), lifecycle.clone());
        let panicked = tokio::spawn({
            let handler = handler.clone();
            async move { handler.invoke_with(2, &Context::default()).await }
        })
        .await;
        assert!(panicked.unwrap_err().is_panic());
        let started = lifecycle.started.load(Ordering::SeqCst);
        assert_eq!(lifecycle.dropped.load(Ordering::SeqCst), started);
        // The same handler serves the next invocation (it panics again, the same way).
        let again = tokio::spawn(async move { handler.invoke_with(2, &Context::default()).await }).await;
        assert!(again.unwrap_err().is_panic());
        assert_eq!(
            lifecycle.dropped.load(Ordering::SeqCst),
            lifecycle.started.load(Ordering::SeqCst)
        );
    }
    // A panic in the handler under a layer: the same.
    let handler = Handler::builder()
        .layer(tower::layer::util::Identity::new())
        .handler(|event: LambdaEvent<u64>| async move {
            assert!(event.payload != 0, "the handler panicked");
            Ok::<u64, Error>(event.payload)
        })
        .unwrap();
    let panicked = tokio::spawn({
        let handler = handler.clone();
        async move { handler.invoke_with(0, &Context::default()).await }
    })
    .await;
    assert!(panicked.unwrap_err().is_panic());
    assert_eq!(handler.invoke_with(3, &Context::default()).await.unwrap(), 3);
}

#[tokio::test]
async fn a_hosted_layer_can_be_traced_like_any_middleware() {
    let log = Log::default();
    let handler = Handler::builder()
        .layer(LogLayer("tower", log.clone()))
        .traced()
        .handler(|event: LambdaEvent<u64>| async move { Ok::<u64, Error>(event.payload) })
        .unwrap();
    assert_eq!(handler.invoke_with(5, &Context::default()).await.unwrap(), 5);
    assert_eq!(entries(&log), ["tower before", "tower after"]);
}

#[tokio::test]
async fn http_errors_from_a_service_end_are_turned_into_responses_by_the_error_handler() {
    let failing = tower::service_fn(|_: Value| async {
        Err::<Value, Error>(lambda_middleware::middlewares::NotFound::new("no such order").into())
    });
    let handler = Handler::builder()
        .middleware_with(HttpErrorHandler, HttpErrorHandlerParams::builder().build())
        .service(failing)
        .unwrap();
    let response = handler
        .invoke_with(json!({ "httpMethod": "GET" }), &Context::default())
        .await
        .unwrap();
    assert_eq!(response["statusCode"], 404);
    assert_eq!(response["body"], r#"{"message":"no such order"}"#);
}

/// An event whose first drop panics (a guard that panics on drop, which safe Rust
/// allows), counting its drops.
struct PanickyDrop(Arc<AtomicUsize>);

impl Drop for PanickyDrop {
    fn drop(&mut self) {
        if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("the first drop of the event panics");
        }
    }
}

/// A layer whose service starts the rest of the chain and drops its future at once,
/// answering itself: a timeout, in one step.
#[derive(Clone, Copy)]
struct DropAtOnceLayer;

struct DropAtOnce<'s>(NextService<'s, PanickyDrop, u64>);

impl<'s> Layer<NextService<'s, PanickyDrop, u64>> for DropAtOnceLayer {
    type Service = DropAtOnce<'s>;

    fn layer(&self, rest: NextService<'s, PanickyDrop, u64>) -> DropAtOnce<'s> {
        DropAtOnce(rest)
    }
}

impl Service<PanickyDrop> for DropAtOnce<'_> {
    type Response = u64;
    type Error = Error;
    type Future = std::future::Ready<Result<u64, Error>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, event: PanickyDrop) -> Self::Future {
        drop(self.0.call(event));
        std::future::ready(Ok(0))
    }
}

#[tokio::test]
async fn a_destructor_that_panics_inside_the_rest_of_the_chain_runs_once() {
    async fn takes(_: PanickyDrop, _: &Context) -> Result<u64, Error> {
        Ok(1)
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let handler = Handler::builder().layer(DropAtOnceLayer).handler(takes).unwrap();
    let event = PanickyDrop(drops.clone());
    let joined = tokio::spawn(async move { handler.invoke_with(event, &Context::default()).await }).await;
    assert!(joined.unwrap_err().is_panic());
    // One event, dropped once: the panic in its destructor did not make the slot drop the
    // rest of the chain's future a second time.
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

/// A hook middleware whose `before` panics on the event 0, as an `expect` on bad input
/// would.
struct PanicsOnZero;

impl Middleware<u64, u64> for PanicsOnZero {
    type Params = ();

    fn before(&self, _: &(), event: &mut u64, _: &Context) -> Result<lambda_middleware::hooks::Flow<u64>, Error> {
        assert!(*event != 0, "bad input: 0");
        Ok(lambda_middleware::hooks::Flow::Continue)
    }
}

#[tokio::test]
async fn a_panic_while_the_rest_of_the_chain_is_made_leaves_nothing_to_drop() {
    // The inner hook's `before` runs while the hosted layer starts the rest of the chain,
    // before the rest's future exists: the slot must not drop a future it never got.
    let lifecycle = Lifecycle::default();
    let handler = Handler::builder()
        .layer(tower::layer::util::Identity::new())
        .middleware(PanicsOnZero)
        .handler(sleeper(lifecycle.clone()))
        .unwrap();
    assert_eq!(handler.invoke_with(1, &Context::default()).await.unwrap(), 1);
    let panicked = tokio::spawn({
        let handler = handler.clone();
        async move { handler.invoke_with(0, &Context::default()).await }
    })
    .await;
    assert!(panicked.unwrap_err().is_panic());
    assert_eq!(lifecycle.started.load(Ordering::SeqCst), 1);
    assert_eq!(lifecycle.dropped.load(Ordering::SeqCst), 1);
    assert_eq!(handler.invoke_with(2, &Context::default()).await.unwrap(), 2);
}

/// Whether two invocations of `handler` can be inside its handler at once.
async fn both_inside_at_once<C>(handler: Handler<C>, barrier: Arc<tokio::sync::Barrier>) -> bool
where
    C: lambda_middleware::chain::Chain<u64, Response = u64> + 'static,
{
    let first = tokio::spawn({
        let handler = handler.clone();
        async move { handler.invoke_with(1, &Context::default()).await }
    });
    let second = tokio::spawn(async move { handler.invoke_with(2, &Context::default()).await });
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    drop(barrier);
    first.is_ok() && second.is_ok()
}

/// A handler that waits (at most 2 s) for a second invocation to be inside it too.
fn meets(
    barrier: Arc<tokio::sync::Barrier>,
) -> impl Fn(LambdaEvent<u64>) -> BoxFuture<'static, Result<u64, Error>> + Clone + Send + Sync {
    move |event: LambdaEvent<u64>| {
        let barrier = barrier.clone();
        Box::pin(async move {
            tokio::time::timeout(Duration::from_secs(2), barrier.wait())
                .await
                .map_err(|_| Error::from("alone inside the handler"))?;
            Ok(event.payload)
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hosted_layer_is_made_per_invocation_so_only_state_kept_in_the_layer_is_shared() {
    // `ConcurrencyLimitLayer` keeps its semaphore in the service it makes, and a hosted
    // layer makes its service for each invocation: the limit is not shared.
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let per_service = Handler::builder()
        .layer(tower::limit::ConcurrencyLimitLayer::new(1))
        .handler(meets(barrier.clone()))
        .unwrap();
    assert!(both_inside_at_once(per_service, barrier).await);

    // `GlobalConcurrencyLimitLayer` keeps it in the layer: shared, and enforced.
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let shared = Handler::builder()
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(1))
        .handler(meets(barrier.clone()))
        .unwrap();
    assert!(!both_inside_at_once(shared, barrier).await);
}

/// The shapes with HTTP types: an axum `Router`, tower-http's layers, `lambda_http`.
#[cfg(feature = "http")]
mod http_types {
    use super::*;

    use axum::routing::get;
    use http_body_util::BodyExt;
    use lambda_http::{Body, Request, RequestExt};
    use lambda_middleware::BuildError;
    use lambda_middleware::middlewares::{Cors, CorsParams, SecurityHeaders, SecurityHeadersParams};
    use tracing_subscriber::layer::SubscriberExt;

    use crate::common::capture::Capture;

    fn api_request(method: &str, path: &str, request_id: &str) -> Request {
        let mut request = Request::new(Body::Empty).with_lambda_context(context(request_id));
        *request.method_mut() = method.parse().unwrap();
        *request.uri_mut() = format!("https://api.example.com{path}").parse().unwrap();
        request
    }

    async fn body_text<B>(response: http::Response<B>) -> String
    where
        B: http_body::Body,
        B::Error: std::fmt::Debug,
    {
        let bytes = response.into_body().collect().await.expect("a body").to_bytes();
        String::from_utf8(bytes.to_vec()).expect("UTF-8")
    }

    fn router() -> axum::Router {
        axum::Router::new()
            .route(
                "/hello",
                get(|request: axum::extract::Request| async move {
                    // The Lambda context travels in the request, as `lambda_http::run` puts it.
                    let id = request
                        .lambda_context_ref()
                        .map_or("none", |ctx| ctx.request_id.as_str())
                        .to_owned();
                    format!("hello from {id}")
                }),
            )
            // Long enough for tower-http's compression, which leaves bodies under 32 bytes alone.
            .route("/long", get(|| async { "a long answer; ".repeat(8) }))
    }

    #[tokio::test]
    async fn an_axum_router_ends_a_chain_and_the_http_built_ins_work_on_its_responses() {
        let log = Log::default();
        let mut handler = Handler::builder()
            .middleware(Step("outer", log.clone()))
            .middleware_with(SecurityHeaders, SecurityHeadersParams::builder().build())
            .middleware_with(
                Cors,
                CorsParams::builder().allow_origins(["https://app.example.com"]).build(),
            )
            .service(router())
            .unwrap();
        assert_eq!(format!("{handler:?}"), "Handler([Step, SecurityHeaders, Cors, Router])");

        let mut request = api_request("GET", "/hello", "r-1");
        request
            .headers_mut()
            .insert("Origin", "https://app.example.com".parse().unwrap());
        let response = handler.call(request).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert_eq!(
            response.headers()["access-control-allow-origin"],
            "https://app.example.com"
        );
        assert_eq!(body_text(response).await, "hello from r-1");

        // A preflight is answered by `Cors`: the router does not see it.
        let mut preflight = api_request("OPTIONS", "/hello", "r-2");
        preflight
            .headers_mut()
            .insert("Origin", "https://app.example.com".parse().unwrap());
        preflight
            .headers_mut()
            .insert("Access-Control-Request-Method", "GET".parse().unwrap());
        let response = handler.call(preflight).await.unwrap();
        assert_eq!(response.status(), 204);
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert_eq!(
            entries(&log),
            ["outer before", "outer after", "outer before", "outer after"]
        );
    }

    /// axum's rejections and its 404s are responses, not errors: with
    /// `json_error_responses`, `HttpErrorHandler` answers them in its JSON shape too.
    #[tokio::test]
    async fn http_error_handler_answers_axums_error_responses_in_its_json_shape_when_asked() {
        use lambda_middleware::middlewares::{HttpErrorHandler, HttpErrorHandlerParams};

        #[derive(serde::Deserialize, serde::Serialize)]
        struct Order {
            id: u64,
        }
        fn orders() -> axum::Router {
            axum::Router::new().route(
                "/orders",
                axum::routing::post(|axum::Json(order): axum::Json<Order>| async move { axum::Json(order) }),
            )
        }
        fn post(path: &str, body: &str) -> Request {
            let mut request = api_request("POST", path, "r-1");
            *request.body_mut() = Body::Text(body.to_owned());
            request
                .headers_mut()
                .insert("Content-Type", "application/json".parse().unwrap());
            request
        }
        let params = HttpErrorHandlerParams::builder().json_error_responses(true).build();
        let mut json_errors = Handler::builder()
            .middleware_with(HttpErrorHandler, params)
            .service(orders())
            .unwrap();

        let response = json_errors.call(post("/orders", "{ not json")).await.unwrap();
        assert_eq!(response.status(), 400);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(body_text(response).await, r#"{"message":"Bad Request"}"#);

        let response = json_errors.call(post("/orders", r#"{"id":"seven"}"#)).await.unwrap();
        assert_eq!(response.status(), 422);
        assert_eq!(body_text(response).await, r#"{"message":"Unprocessable Entity"}"#);

        let response = json_errors.call(post("/nowhere", "{}")).await.unwrap();
        assert_eq!(response.status(), 404);
        assert_eq!(body_text(response).await, r#"{"message":"Not Found"}"#);

        // A JSON answer of the service, error or not, is left as it is.
        let response = json_errors.call(post("/orders", r#"{"id":1}"#)).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(body_text(response).await, r#"{"id":1}"#);

        // Without the param, axum's text passes through untouched.
        let mut plain = Handler::builder()
            .middleware_with(HttpErrorHandler, HttpErrorHandlerParams::builder().build())
            .service(orders())
            .unwrap();
        let response = plain.call(post("/orders", r#"{"id":"seven"}"#)).await.unwrap();
        assert_eq!(response.status(), 422);
        assert!(
            body_text(response)
                .await
                .starts_with("Failed to deserialize the JSON body")
        );
    }

    #[tokio::test]
    async fn an_axum_router_ends_a_chain_run_the_way_lambda_http_runs_it() {
        let handler = Handler::builder()
            .middleware_with(SecurityHeaders, SecurityHeadersParams::builder().build())
            .service(router())
            .unwrap();
        let event = r#"{ "httpMethod": "GET", "path": "/hello", "headers": {},
                         "requestContext": { "httpMethod": "GET", "identity": {} } }"#;
        let response = lambda_middleware::local::LocalFunction::default()
            .request_id("r-9")
            .invoke_http(&handler, event)
            .await
            .unwrap();
        assert_eq!(response["statusCode"], 200);
        assert_eq!(response["body"], "hello from r-9");
        assert_eq!(response["multiValueHeaders"]["x-content-type-options"][0], "nosniff");
    }

    #[tokio::test]
    async fn a_chain_layer_runs_between_tower_layers_in_the_order_they_are_stacked() {
        let log = Log::default();
        let chain = Handler::builder()
            .middleware(Step("chain a", log.clone()))
            .middleware(Step("chain b", log.clone()))
            .into_layer()
            .unwrap();
        assert_eq!(format!("{chain:?}"), "ChainLayer([Step, Step, service])");
        let service = ServiceBuilder::new()
            .layer(LogLayer("tower outside", log.clone()))
            .layer(chain)
            .layer(LogLayer("tower inside", log.clone()))
            .service(router());

        let response = service.oneshot(api_request("GET", "/hello", "r-3")).await.unwrap();
        assert_eq!(body_text(response).await, "hello from r-3");
        assert_eq!(
            entries(&log),
            [
                "tower outside before",
                "chain a before",
                "chain b before",
                "tower inside before",
                "tower inside after",
                "chain b after",
                "chain a after",
                "tower outside after",
            ]
        );
    }

    #[tokio::test]
    async fn a_chain_layer_sits_inside_tower_http_layers_that_change_the_request_and_response_bodies() {
        let chain = Handler::builder()
            .middleware_with(SecurityHeaders, SecurityHeadersParams::builder().build())
            .into_layer()
            .unwrap();
        let service = ServiceBuilder::new()
            .layer(tower_http::compression::CompressionLayer::new())
            .layer(tower_http::limit::RequestBodyLimitLayer::new(1024))
            .layer(chain)
            .service(router());

        let mut request = api_request("GET", "/long", "r-4");
        request.headers_mut().insert("Accept-Encoding", "gzip".parse().unwrap());
        let response = service.oneshot(request).await.unwrap();
        assert_eq!(response.headers()["content-encoding"], "gzip");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        let compressed = response.into_body().collect().await.unwrap().to_bytes();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&compressed[..]), &mut text).unwrap();
        assert_eq!(text, "a long answer; ".repeat(8));
    }

    #[test]
    fn a_chain_layer_refuses_bad_params_before_any_service_exists() {
        let error = Handler::builder()
            .middleware_with(
                Cors,
                CorsParams::builder()
                    .allow_origins(["*"])
                    .allow_credentials(true)
                    .build(),
            )
            .into_layer::<Request, http::Response<axum::body::Body>>()
            .unwrap_err();
        assert!(
            matches!(error, BuildError::InvalidParams { middleware: "cors", .. }),
            "{error}"
        );
    }

    /// Long enough for tower-http's compression, which leaves bodies under 32 bytes alone.
    async fn hello(request: Request) -> Result<http::Response<Body>, Error> {
        Ok(http::Response::new(
            format!("hello {}; ", request.uri().path()).repeat(4).into(),
        ))
    }

    #[tokio::test]
    async fn tower_http_layers_inside_a_chain_change_the_response_the_middlewares_outside_see() {
        let handler = Handler::builder()
            .middleware_with(SecurityHeaders, SecurityHeadersParams::builder().build())
            .layer(tower_http::compression::CompressionLayer::new())
            .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("no-store"),
            ))
            .layer(tower_http::trace::TraceLayer::new_for_http())
            .handler(hello)
            .unwrap();

        let mut request = api_request("GET", "/orders", "r-5");
        request.headers_mut().insert("Accept-Encoding", "gzip".parse().unwrap());
        let response = handler.invoke_with(request, &context("r-5")).await.unwrap();
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["content-encoding"], "gzip");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        let compressed = response.into_body().collect().await.unwrap().to_bytes();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&compressed[..]), &mut text).unwrap();
        assert_eq!(text, "hello /orders; ".repeat(4));
    }

    // Tokio's clock is paused: it moves only when every task waits, straight to the next
    // timer, so which of the handler's sleep and the timeout comes first does not depend
    // on how busy the machine is.
    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_tower_http_timeout_cancels_the_rest_of_the_chain_and_its_408_is_an_early_answer() {
        let lifecycle = Lifecycle::default();
        let sleeping = {
            let lifecycle = lifecycle.clone();
            move |request: Request| {
                let lifecycle = lifecycle.clone();
                async move {
                    let millis: u64 = request.uri().path().trim_start_matches('/').parse().unwrap();
                    lifecycle.started.fetch_add(1, Ordering::SeqCst);
                    let _guard = DropGuard(lifecycle.clone());
                    tokio::time::sleep(Duration::from_millis(millis)).await;
                    lifecycle.finished.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, Error>(http::Response::new(Body::from("done")))
                }
            }
        };
        let handler = Handler::builder()
            .middleware_with(SecurityHeaders, SecurityHeadersParams::builder().build())
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                http::StatusCode::REQUEST_TIMEOUT,
                Duration::from_millis(100),
            ))
            .traced()
            .handler(sleeping)
            .unwrap();
        let capture = Capture::default();
        let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));

        let quick = handler
            .invoke_with(api_request("GET", "/1", "r-6"), &context("r-6"))
            .await
            .unwrap();
        assert_eq!(quick.status(), 200);
        let slow = handler
            .invoke_with(api_request("GET", "/5000", "r-7"), &context("r-7"))
            .await
            .unwrap();
        assert_eq!(slow.status(), 408);
        assert_eq!(slow.headers()["x-content-type-options"], "nosniff");
        // The slow handler was cancelled: started, dropped, never finished.
        assert_eq!(lifecycle.started.load(Ordering::SeqCst), 2);
        assert_eq!(lifecycle.finished.load(Ordering::SeqCst), 1);
        assert_eq!(lifecycle.dropped.load(Ordering::SeqCst), 2);
        // The layer's `## TimeoutLayer` span says which answer was the layer's own.
        let spans = capture.middleware_spans();
        let early: Vec<Option<&str>> = spans.iter().map(|span| span.field("early_response")).collect();
        assert_eq!(spans[0].display_name(), "## TimeoutLayer");
        assert_eq!(early, [None, Some("true")]);
    }

    #[tokio::test]
    async fn a_layer_that_takes_another_request_type_is_added_with_layer_taking() {
        async fn limited(
            request: http::Request<tower_http::body::Limited<Body>>,
        ) -> Result<http::Response<Body>, Error> {
            let body = request.into_body().collect().await?.to_bytes();
            Ok(http::Response::new(Body::from(format!("{} bytes", body.len()))))
        }

        let handler = Handler::builder()
            .layer_taking::<Request, _, _>(tower_http::limit::RequestBodyLimitLayer::new(8))
            .service(tower::service_fn(limited))
            .unwrap();
        let mut small = api_request("POST", "/upload", "r-8");
        *small.body_mut() = Body::from("1234");
        let response = handler.invoke_with(small, &context("r-8")).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(body_text(response).await, "4 bytes");

        let mut large = api_request("POST", "/upload", "r-9");
        *large.body_mut() = Body::from("123456789012");
        large.headers_mut().insert("Content-Length", "12".parse().unwrap());
        let response = handler.invoke_with(large, &context("r-9")).await.unwrap();
        assert_eq!(response.status(), 413);
    }
}
