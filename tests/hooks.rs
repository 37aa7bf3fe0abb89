//! Middlewares written with hooks (`before`, `after`, `on_error`): the onion rules,
//! mixed with `async fn` middlewares, with params and tracing, and what happens to
//! their futures when an invocation is cancelled, panics or is dropped after it ended.

mod common;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};

use common::capture::Capture;
use lambda_middleware::hooks::Flow;
use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt;
use typed_builder::TypedBuilder;

type Log = Arc<Mutex<Vec<String>>>;

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

/// What a [`Hooks`] middleware's `before` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Before {
    Continue,
    Fail,
    Early,
}

/// What its `on_error` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnError {
    PassOn,
    Replace,
    Recover,
}

/// A hook middleware that logs every hook and does what it is told.
struct Hooks {
    name: &'static str,
    log: Log,
    before: Before,
    after_fails: bool,
    on_error: OnError,
}

fn hooks(name: &'static str, log: &Log) -> Hooks {
    Hooks {
        name,
        log: log.clone(),
        before: Before::Continue,
        after_fails: false,
        on_error: OnError::PassOn,
    }
}

impl Middleware<Value, Value> for Hooks {
    type Params = ();

    fn name(&self) -> &'static str {
        self.name
    }

    fn before(&self, _: &(), event: &mut Value, _: &Context) -> Result<Flow<Value>, Error> {
        self.log.lock().unwrap().push(format!("{} before", self.name));
        event["seen"]
            .as_array_mut()
            .map(|seen| seen.push(json!(self.name)))
            .unwrap_or_else(|| event["seen"] = json!([self.name]));
        match self.before {
            Before::Continue => Ok(Flow::Continue),
            Before::Fail => Err(format!("{} refused", self.name).into()),
            Before::Early => Ok(Flow::RespondEarly(json!({ "early": self.name }))),
        }
    }

    fn after(&self, _: &(), response: &mut Value, _: &Context) -> Result<(), Error> {
        self.log.lock().unwrap().push(format!("{} after", self.name));
        if self.after_fails {
            return Err(format!("{} after failed", self.name).into());
        }
        response["after"]
            .as_array_mut()
            .map(|after| after.push(json!(self.name)))
            .unwrap_or_else(|| response["after"] = json!([self.name]));
        Ok(())
    }

    fn on_error(&self, _: &(), error: Error, _: &Context) -> Result<Value, Error> {
        self.log
            .lock()
            .unwrap()
            .push(format!("{} on_error: {error}", self.name));
        match self.on_error {
            OnError::PassOn => Err(error),
            OnError::Replace => Err(format!("{} replaced it", self.name).into()),
            OnError::Recover => Ok(json!({ "recovered_by": self.name })),
        }
    }
}

/// An `async fn` middleware that logs around `next.run`, and what it saw.
struct Around {
    name: &'static str,
    log: Log,
}

impl Middleware<Value, Value> for Around {
    type Params = ();

    async fn call<'n, I>(
        &self,
        _: &(),
        event: Value,
        _: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        self.log.lock().unwrap().push(format!("{} before", self.name));
        match next.run(event).await {
            Ok(response) => {
                self.log
                    .lock()
                    .unwrap()
                    .push(format!("{} after (early: {})", self.name, response.is_early()));
                Ok(response)
            }
            Err(failure) => {
                self.log
                    .lock()
                    .unwrap()
                    .push(format!("{} failed: {failure}", self.name));
                Err(failure.into())
            }
        }
    }
}

fn handler_logging(
    log: &Log,
    fails: bool,
) -> impl Fn(Value, &Context) -> std::future::Ready<Result<Value, Error>> + Send + Sync {
    let log = log.clone();
    move |event: Value, _: &Context| {
        log.lock().unwrap().push("handler".to_owned());
        std::future::ready(if fails {
            Err("the handler failed".into())
        } else {
            Ok(json!({ "handled": event }))
        })
    }
}

#[tokio::test]
async fn hooks_and_async_middlewares_run_in_onion_order() {
    let log = Log::default();
    let handler = Handler::builder()
        .middleware(hooks("a", &log))
        .middleware(Around {
            name: "b",
            log: log.clone(),
        })
        .middleware(hooks("c", &log))
        .handler(handler_logging(&log, false))
        .unwrap();

    let response = handler.invoke_with(json!({}), &Context::default()).await.unwrap();

    assert_eq!(
        entries(&log),
        [
            "a before",
            "b before",
            "c before",
            "handler",
            "c after",
            "b after (early: false)",
            "a after"
        ]
    );
    // `before` changed the event the handler got; `after`s changed the response inner first.
    assert_eq!(
        response,
        json!({ "handled": { "seen": ["a", "c"] }, "after": ["c", "a"] })
    );
}

#[tokio::test]
async fn a_failing_before_skips_the_inner_layers_and_its_own_on_error() {
    let log = Log::default();
    let handler = Handler::builder()
        .middleware(hooks("outer", &log))
        .middleware(Hooks {
            before: Before::Fail,
            ..hooks("refuses", &log)
        })
        .middleware(hooks("inner", &log))
        .handler(handler_logging(&log, false))
        .unwrap();

    let error = handler.invoke_with(json!({}), &Context::default()).await.unwrap_err();

    assert_eq!(error.to_string(), "refuses refused");
    assert_eq!(
        entries(&log),
        ["outer before", "refuses before", "outer on_error: refuses refused"]
    );
}

#[tokio::test]
async fn an_early_response_skips_the_inner_layers_and_its_own_after_but_not_the_outer_ones() {
    let log = Log::default();
    let handler = Handler::builder()
        .middleware(Around {
            name: "outer",
            log: log.clone(),
        })
        .middleware(hooks("tags", &log))
        .middleware(Hooks {
            before: Before::Early,
            ..hooks("answers", &log)
        })
        .middleware(hooks("inner", &log))
        .handler(handler_logging(&log, false))
        .unwrap();

    let response = handler.invoke_with(json!({}), &Context::default()).await.unwrap();

    assert_eq!(response, json!({ "early": "answers", "after": ["tags"] }));
    assert_eq!(
        entries(&log),
        [
            "outer before",
            "tags before",
            "answers before",
            "tags after",
            "outer after (early: false)"
        ]
    );
}

#[tokio::test]
async fn errors_travel_outwards_through_on_error_in_reverse_order() {
    let log = Log::default();
    let handler = Handler::builder()
        .middleware(Around {
            name: "outer",
            log: log.clone(),
        })
        .middleware(hooks("first", &log))
        .middleware(hooks("second", &log))
        .handler(handler_logging(&log, true))
        .unwrap();

    let error = handler.invoke_with(json!({}), &Context::default()).await.unwrap_err();

    assert_eq!(error.to_string(), "the handler failed");
    assert_eq!(
        entries(&log),
        [
            "outer before",
            "first before",
            "second before",
            "handler",
            "second on_error: the handler failed",
            "first on_error: the handler failed",
            "outer failed: the handler failed"
        ]
    );
}

#[tokio::test]
async fn on_error_may_replace_the_error_or_recover_and_a_recovery_goes_on_as_a_success() {
    let log = Log::default();
    let handler = Handler::builder()
        .middleware(hooks("outer", &log))
        .middleware(Hooks {
            on_error: OnError::Recover,
            ..hooks("recovers", &log)
        })
        .middleware(Hooks {
            on_error: OnError::Replace,
            ..hooks("replaces", &log)
        })
        .handler(handler_logging(&log, true))
        .unwrap();

    let response = handler.invoke_with(json!({}), &Context::default()).await.unwrap();

    assert_eq!(response, json!({ "recovered_by": "recovers", "after": ["outer"] }));
    assert_eq!(
        entries(&log),
        [
            "outer before",
            "recovers before",
            "replaces before",
            "handler",
            "replaces on_error: the handler failed",
            "recovers on_error: replaces replaced it",
            "outer after"
        ]
    );
}

#[tokio::test]
async fn a_failing_after_fails_outwards_without_its_own_on_error() {
    let log = Log::default();
    let handler = Handler::builder()
        .middleware(hooks("outer", &log))
        .middleware(Hooks {
            after_fails: true,
            ..hooks("breaks", &log)
        })
        .handler(handler_logging(&log, false))
        .unwrap();

    let error = handler.invoke_with(json!({}), &Context::default()).await.unwrap_err();

    assert_eq!(error.to_string(), "breaks after failed");
    assert_eq!(
        entries(&log),
        [
            "outer before",
            "breaks before",
            "handler",
            "breaks after",
            "outer on_error: breaks after failed"
        ]
    );
}

#[tokio::test]
async fn an_async_middleware_inside_sees_an_early_answer_from_a_hook_as_its_own_next_result() {
    // The early answer comes from inside the async middleware: for it, its `next` ran.
    let log = Log::default();
    let handler = Handler::builder()
        .middleware(Around {
            name: "outer",
            log: log.clone(),
        })
        .middleware(Hooks {
            before: Before::Early,
            ..hooks("answers", &log)
        })
        .handler(handler_logging(&log, false))
        .unwrap();

    handler.invoke_with(json!({}), &Context::default()).await.unwrap();
    assert_eq!(
        entries(&log),
        ["outer before", "answers before", "outer after (early: false)"]
    );
}

/// A hook middleware with typed params.
struct Stamp;

#[derive(TypedBuilder)]
struct StampParams {
    #[builder(setter(into))]
    field: String,
    #[builder(default = json!(true))]
    value: Value,
}

impl Middleware<Value, Value> for Stamp {
    type Params = StampParams;

    fn after(&self, params: &StampParams, response: &mut Value, _: &Context) -> Result<(), Error> {
        response[&params.field] = params.value.clone();
        Ok(())
    }
}

#[tokio::test]
async fn hooks_take_typed_params() {
    let handler = Handler::builder()
        .middleware_with(Stamp, StampParams::builder().field("stamped").build())
        .middleware_with(Stamp, StampParams::builder().field("by").value(json!("inner")).build())
        .handler(|event: Value, _: &Context| std::future::ready(Ok::<_, Error>(event)))
        .unwrap();

    let response = handler.invoke_with(json!({}), &Context::default()).await.unwrap();
    assert_eq!(response, json!({ "by": "inner", "stamped": true }));
}

#[tokio::test]
async fn a_traced_hook_middleware_is_a_span_around_its_before_and_after() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));

    /// Logs an event in each hook, to see which span it lands in.
    struct Logs;

    impl Middleware<Value, Value> for Logs {
        type Params = ();
        const TRACE_EXECUTION: Option<bool> = Some(true);

        fn name(&self) -> &'static str {
            "logs"
        }

        fn before(&self, _: &(), _: &mut Value, _: &Context) -> Result<Flow<Value>, Error> {
            tracing::info!(hook = "before");
            Ok(Flow::Continue)
        }

        fn after(&self, _: &(), _: &mut Value, _: &Context) -> Result<(), Error> {
            tracing::info!(hook = "after");
            Ok(())
        }
    }

    let log = Log::default();
    let handler = Handler::builder()
        .middleware(Logs)
        .middleware(Hooks {
            before: Before::Early,
            ..hooks("answers", &log)
        })
        .traced()
        .handler(handler_logging(&log, false))
        .unwrap();
    handler.invoke_with(json!({}), &Context::default()).await.unwrap();

    assert_eq!(
        capture.middleware_tree(),
        [
            ("## logs".to_owned(), None),
            ("## answers".to_owned(), Some("## logs".to_owned()))
        ]
    );
    let spans = capture.spans();
    let events = capture.events();
    for hook in ["before", "after"] {
        let event = events
            .iter()
            .find(|event| event.fields.get("hook").map(String::as_str) == Some(hook));
        let span = event
            .and_then(|event| event.span)
            .map(|index| spans[index].display_name());
        assert_eq!(span, Some("## logs"), "the {hook} hook's event");
    }
    let answers = capture
        .middleware_spans()
        .into_iter()
        .find(|span| span.display_name() == "## answers");
    assert_eq!(answers.unwrap().field("early_response"), Some("true"));
}

/// Counts the drops of its values, to see that nothing is dropped twice or leaked.
#[derive(Debug)]
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A hook middleware over `Counted` responses that answers early when told to.
struct CountedHooks {
    early: Option<Arc<AtomicUsize>>,
    afters: Arc<AtomicUsize>,
    errors: Arc<AtomicUsize>,
}

impl Middleware<(), Counted> for CountedHooks {
    type Params = ();

    fn before(&self, _: &(), _: &mut (), _: &Context) -> Result<Flow<Counted>, Error> {
        Ok(match &self.early {
            Some(drops) => Flow::RespondEarly(Counted(drops.clone())),
            None => Flow::Continue,
        })
    }

    fn after(&self, _: &(), _: &mut Counted, _: &Context) -> Result<(), Error> {
        self.afters.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn on_error(&self, _: &(), error: Error, _: &Context) -> Result<Counted, Error> {
        self.errors.fetch_add(1, Ordering::SeqCst);
        Err(error)
    }
}

/// A handler future that is pending until `release` is set, holding a `Counted`.
struct Gate {
    held: Option<Counted>,
    release: Arc<AtomicUsize>,
    panics: bool,
}

impl Future for Gate {
    type Output = Result<Counted, Error>;

    fn poll(mut self: std::pin::Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<Self::Output> {
        if self.panics {
            panic!("the handler panicked");
        }
        if self.release.load(Ordering::SeqCst) == 0 {
            return Poll::Pending;
        }
        Poll::Ready(Ok(self.held.take().expect("polled once after release")))
    }
}

fn poll<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut TaskContext::from_waker(Waker::noop()))
}

fn counted_handler(
    held: &Arc<AtomicUsize>,
    release: &Arc<AtomicUsize>,
    panics: bool,
) -> impl Fn((), &Context) -> Gate + Send + Sync + use<> {
    let (held, release) = (held.clone(), release.clone());
    move |(), _: &Context| Gate {
        held: Some(Counted(held.clone())),
        release: release.clone(),
        panics,
    }
}

fn counters() -> [Arc<AtomicUsize>; 4] {
    std::array::from_fn(|_| Arc::default())
}

#[test]
fn cancelling_mid_flight_drops_the_pending_handler_once_and_runs_no_hook() {
    let [held, release, afters, errors] = counters();
    let handler = Handler::builder()
        .middleware(CountedHooks {
            early: None,
            afters: afters.clone(),
            errors: errors.clone(),
        })
        .middleware(CountedHooks {
            early: None,
            afters: afters.clone(),
            errors: errors.clone(),
        })
        .handler(counted_handler(&held, &release, false))
        .unwrap();
    let ctx = Context::default();

    {
        let mut future = pin!(handler.invoke_with((), &ctx));
        assert!(poll(future.as_mut()).is_pending());
        assert!(poll(future.as_mut()).is_pending());
        assert_eq!(held.load(Ordering::SeqCst), 0);
    } // cancelled: dropped while the handler is pending

    assert_eq!(
        held.load(Ordering::SeqCst),
        1,
        "the handler's value is dropped exactly once"
    );
    assert_eq!(afters.load(Ordering::SeqCst), 0);
    assert_eq!(errors.load(Ordering::SeqCst), 0);

    // The next invocation runs normally.
    release.store(1, Ordering::SeqCst);
    let mut future = pin!(handler.invoke_with((), &ctx));
    let Poll::Ready(Ok(response)) = poll(future.as_mut()) else {
        panic!("ready once released");
    };
    assert_eq!(afters.load(Ordering::SeqCst), 2);
    drop(response);
    assert_eq!(held.load(Ordering::SeqCst), 2);
}

#[test]
fn an_early_answer_dropped_before_it_is_polled_is_dropped_once() {
    let [early, held, release, afters] = counters();
    let handler = Handler::builder()
        .middleware(CountedHooks {
            early: Some(early.clone()),
            afters: afters.clone(),
            errors: Arc::default(),
        })
        .handler(counted_handler(&held, &release, false))
        .unwrap();
    let ctx = Context::default();

    // `before` runs when the chain is reached; its answer waits in the layer's future.
    let future = handler.invoke_with((), &ctx);
    assert_eq!(early.load(Ordering::SeqCst), 0);
    drop(future);
    assert_eq!(early.load(Ordering::SeqCst), 1);
    assert_eq!(held.load(Ordering::SeqCst), 0, "the handler never ran");
}

#[test]
fn dropping_a_finished_invocation_drops_nothing_twice() {
    let [early, held, release, afters] = counters();
    release.store(1, Ordering::SeqCst);
    let handler = Handler::builder()
        .middleware(CountedHooks {
            early: None,
            afters: afters.clone(),
            errors: Arc::default(),
        })
        .middleware(CountedHooks {
            early: Some(early.clone()),
            afters: afters.clone(),
            errors: Arc::default(),
        })
        .handler(counted_handler(&held, &release, false))
        .unwrap();
    let ctx = Context::default();

    let mut future = Box::pin(handler.invoke_with((), &ctx));
    let Poll::Ready(Ok(response)) = poll(future.as_mut()) else {
        panic!("ready at once");
    };
    assert_eq!(
        afters.load(Ordering::SeqCst),
        1,
        "the outer after ran on the early answer"
    );
    drop(future); // after it finished
    assert_eq!(
        early.load(Ordering::SeqCst),
        0,
        "the answer is the response, not dropped"
    );
    drop(response);
    assert_eq!(early.load(Ordering::SeqCst), 1);
    assert_eq!(held.load(Ordering::SeqCst), 0);
}

#[test]
fn a_panic_inside_a_hook_chain_unwinds_through_it_and_the_next_invocation_works() {
    let [held, release, afters, errors] = counters();
    let panicking = Handler::builder()
        .middleware(CountedHooks {
            early: None,
            afters: afters.clone(),
            errors: errors.clone(),
        })
        .handler(counted_handler(&held, &release, true))
        .unwrap();
    let ctx = Context::default();

    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let mut future = pin!(panicking.invoke_with((), &ctx));
        let _ = poll(future.as_mut());
    }));
    assert!(outcome.is_err(), "the panic is not caught by the chain");
    assert_eq!(
        held.load(Ordering::SeqCst),
        1,
        "the panicking handler's value was dropped while unwinding"
    );
    assert_eq!(afters.load(Ordering::SeqCst) + errors.load(Ordering::SeqCst), 0);

    /// Panics in `before`.
    struct PanicsBefore;

    impl Middleware<(), Counted> for PanicsBefore {
        type Params = ();

        fn before(&self, _: &(), _: &mut (), _: &Context) -> Result<Flow<Counted>, Error> {
            panic!("before panicked");
        }
    }

    let before = Handler::builder()
        .middleware(CountedHooks {
            early: None,
            afters: afters.clone(),
            errors: errors.clone(),
        })
        .middleware(PanicsBefore)
        .handler(counted_handler(&held, &release, false))
        .unwrap();
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| before.invoke_with((), &ctx)));
    assert!(outcome.is_err());

    // The same handlers serve the next invocations.
    release.store(1, Ordering::SeqCst);
    let fine = Handler::builder()
        .middleware(CountedHooks {
            early: None,
            afters: afters.clone(),
            errors: errors.clone(),
        })
        .handler(counted_handler(&held, &release, false))
        .unwrap();
    let mut future = pin!(fine.invoke_with((), &ctx));
    assert!(matches!(poll(future.as_mut()), Poll::Ready(Ok(_))));
    assert_eq!(afters.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn hooks_inside_an_async_middleware_that_opens_a_span_run_in_that_span() {
    use lambda_middleware::middlewares::InjectLambdaContext;

    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));

    /// Logs from each hook.
    struct Logs;

    impl Middleware<Value, Value> for Logs {
        type Params = ();

        fn before(&self, _: &(), _: &mut Value, _: &Context) -> Result<Flow<Value>, Error> {
            tracing::info!(hook = "before");
            Ok(Flow::Continue)
        }

        fn after(&self, _: &(), _: &mut Value, _: &Context) -> Result<(), Error> {
            tracing::info!(hook = "after");
            Ok(())
        }
    }

    let handler = Handler::builder()
        .middleware(InjectLambdaContext)
        .middleware(Logs)
        .handler(|event: Value, _: &Context| std::future::ready(Ok::<_, Error>(event)))
        .unwrap();
    let mut ctx = Context::default();
    ctx.request_id = "r-9".into();
    handler.invoke_with(json!({}), &ctx).await.unwrap();

    let spans = capture.spans();
    for hook in ["before", "after"] {
        let event = capture
            .events()
            .into_iter()
            .find(|event| event.fields.get("hook").map(String::as_str) == Some(hook))
            .unwrap();
        let span = &spans[event.span.expect("in a span")];
        assert_eq!(span.name, "lambda_context", "the {hook} hook's span");
        assert_eq!(span.field("request_id"), Some("r-9"));
    }
}
