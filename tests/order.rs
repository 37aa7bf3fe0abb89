//! Which middleware runs first: the first one added runs first on the way in and last on
//! the way out, and the handler runs exactly once per invocation — with 1, 2 and 10
//! middlewares, and with both handler forms.

use std::sync::{Arc, Mutex};

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use lambda_runtime::LambdaEvent;

/// Every step of an invocation, in the order it happened.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, entry: impl Into<String>) {
        self.0.lock().unwrap().push(entry.into());
    }

    fn entries(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// The event carries the log, so that plain `async fn` handlers (which capture nothing)
/// can write to it too.
struct Event {
    log: Log,
    id: u32,
}

/// Records `"<name> before"` and `"<name> after"` around the rest of the chain.
struct Step(&'static str);

impl<R: Send> Middleware<Event, R> for Step {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: Event, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<Event, Response = R>,
    {
        let log = event.log.clone();
        log.push(format!("{} before", self.0));
        let response = next.run(event).await?;
        log.push(format!("{} after", self.0));
        Ok(response)
    }
}

/// lambda_runtime's own handler form.
async fn owning_handler(event: LambdaEvent<Event>) -> Result<String, Error> {
    event.payload.log.push(format!("handler {}", event.payload.id));
    Ok(format!("handled {} for {}", event.payload.id, event.context.request_id))
}

/// The form that borrows the context.
async fn borrowing_handler(event: Event, ctx: &Context) -> Result<String, Error> {
    event.log.push(format!("handler {}", event.id));
    Ok(format!("handled {} for {}", event.id, ctx.request_id))
}

fn context(request_id: &str) -> Context {
    let mut context = Context::default();
    context.request_id = request_id.into();
    context
}

/// Before-steps in the order given, the handler, after-steps in reverse.
fn onion(names: &[&str], id: u32) -> Vec<String> {
    let before = names.iter().map(|name| format!("{name} before"));
    let after = names.iter().rev().map(|name| format!("{name} after"));
    before.chain([format!("handler {id}")]).chain(after).collect()
}

#[test]
fn the_expected_orders_are_what_the_docs_draw() {
    // The helper above must match the picture in the README, or the tests below prove
    // nothing.
    assert_eq!(
        onion(&["A", "B"], 1),
        ["A before", "B before", "handler 1", "B after", "A after"]
    );
}

#[tokio::test]
async fn one_middleware() {
    let handler = Handler::builder()
        .middleware(Step("A"))
        .handler(owning_handler)
        .unwrap();

    let log = Log::default();
    let event = Event {
        log: log.clone(),
        id: 1,
    };
    let response = handler.invoke(LambdaEvent::new(event, context("req-1"))).await.unwrap();

    assert_eq!(response, "handled 1 for req-1");
    assert_eq!(log.entries(), ["A before", "handler 1", "A after"]);
}

#[tokio::test]
async fn two_middlewares_the_first_added_is_the_outermost() {
    let handler = Handler::builder()
        .middleware(Step("A"))
        .middleware(Step("B"))
        .handler(borrowing_handler)
        .unwrap();

    let log = Log::default();
    let ctx = context("req-2");
    let response = handler
        .invoke_with(
            Event {
                log: log.clone(),
                id: 2,
            },
            &ctx,
        )
        .await
        .unwrap();

    assert_eq!(response, "handled 2 for req-2");
    assert_eq!(
        log.entries(),
        ["A before", "B before", "handler 2", "B after", "A after"]
    );
}

macro_rules! ten_steps {
    ($handler:expr) => {
        Handler::builder()
            .middleware(Step("m0"))
            .middleware(Step("m1"))
            .middleware(Step("m2"))
            .middleware(Step("m3"))
            .middleware(Step("m4"))
            .middleware(Step("m5"))
            .middleware(Step("m6"))
            .middleware(Step("m7"))
            .middleware(Step("m8"))
            .middleware(Step("m9"))
            .handler($handler)
            .unwrap()
    };
}

const TEN: [&str; 10] = ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"];

#[tokio::test]
async fn ten_middlewares_with_an_owning_handler() {
    let handler = ten_steps!(owning_handler);
    assert_eq!(
        format!("{handler:?}"),
        "Handler([Step, Step, Step, Step, Step, Step, Step, Step, Step, Step, handler])"
    );

    let log = Log::default();
    let event = Event {
        log: log.clone(),
        id: 10,
    };
    let response = handler
        .invoke(LambdaEvent::new(event, context("req-10")))
        .await
        .unwrap();

    assert_eq!(response, "handled 10 for req-10");
    let entries = log.entries();
    assert_eq!(entries.len(), 21);
    assert_eq!(entries[0], "m0 before");
    assert_eq!(entries[9], "m9 before");
    assert_eq!(entries[10], "handler 10");
    assert_eq!(entries[11], "m9 after");
    assert_eq!(entries[20], "m0 after");
    assert_eq!(entries, onion(&TEN, 10));
}

#[tokio::test]
async fn ten_middlewares_with_a_borrowing_handler() {
    let handler = ten_steps!(borrowing_handler);

    let log = Log::default();
    let ctx = context("req-11");
    let response = handler
        .invoke_with(
            Event {
                log: log.clone(),
                id: 11,
            },
            &ctx,
        )
        .await
        .unwrap();

    assert_eq!(response, "handled 11 for req-11");
    assert_eq!(log.entries(), onion(&TEN, 11));
}

#[tokio::test]
async fn the_handler_runs_exactly_once_per_invocation() {
    let handler = ten_steps!(borrowing_handler);
    let log = Log::default();
    let ctx = context("req");

    for id in [1, 2, 3] {
        handler.invoke_with(Event { log: log.clone(), id }, &ctx).await.unwrap();
    }

    let entries = log.entries();
    let handled: Vec<_> = entries.iter().filter(|entry| entry.starts_with("handler")).collect();
    assert_eq!(handled, ["handler 1", "handler 2", "handler 3"]);
    let expected: Vec<String> = [1, 2, 3].into_iter().flat_map(|id| onion(&TEN, id)).collect();
    assert_eq!(entries, expected);
}

#[tokio::test]
async fn a_clone_of_the_handler_runs_the_same_chain() {
    let handler = Handler::builder()
        .middleware(Step("A"))
        .middleware(Step("B"))
        .handler(owning_handler)
        .unwrap();
    let clone = handler.clone();
    drop(handler);

    let log = Log::default();
    let event = Event {
        log: log.clone(),
        id: 7,
    };
    clone.invoke(LambdaEvent::new(event, context("req-7"))).await.unwrap();

    assert_eq!(log.entries(), onion(&["A", "B"], 7));
}
