//! Early responses: `next.respond_early(..)` skips the inner layers and the handler,
//! the outer middlewares still run their after-logic, and the response reaches the
//! caller.

use std::sync::{Arc, Mutex};

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};

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

/// Records its before- and after-steps, and whether the response it got back was early
/// as far as it can tell.
struct Step(&'static str, Log);

impl Middleware<Value, Value> for Step {
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
        self.1.push(format!("{} before", self.0));
        let mut response = next.run(event).await?;
        self.1.push(format!("{} after, early: {}", self.0, response.is_early()));
        response.response_mut()["seen_by"]
            .as_array_mut()
            .expect("every response here has a `seen_by` list")
            .push(json!(self.0));
        Ok(response)
    }
}

/// Answers warm-up pings itself, as the `serverless-plugin-warmup` convention asks.
struct Warmup(Log);

impl Middleware<Value, Value> for Warmup {
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
        self.0.push("warmup before");
        if event["source"] == "serverless-plugin-warmup" {
            let response = next.respond_early(json!({ "warm": true, "seen_by": [] }));
            self.0.push(format!("warmup answered, early: {}", response.is_early()));
            return Ok(response);
        }
        let response = next.run(event).await?;
        self.0.push(format!("warmup after, early: {}", response.is_early()));
        Ok(response)
    }
}

fn handler(log: Log) -> impl Fn(LambdaEvent<Value>) -> std::future::Ready<Result<Value, Error>> + Send + Sync {
    move |event: LambdaEvent<Value>| {
        log.push("handler");
        std::future::ready(Ok(json!({ "echo": event.payload, "seen_by": [] })))
    }
}

fn event(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, Context::default())
}

const PING: &str = "serverless-plugin-warmup";

#[tokio::test]
async fn the_handler_and_the_inner_layers_are_skipped_and_the_outer_ones_run() {
    let log = Log::default();
    let handler = Handler::builder()
        .middleware(Step("outer", log.clone()))
        .middleware(Step("middle", log.clone()))
        .middleware(Warmup(log.clone()))
        .middleware(Step("inner", log.clone()))
        .handler(handler(log.clone()))
        .unwrap();

    let response = handler.invoke(event(json!({ "source": PING }))).await.unwrap();

    // The early response, with the outer after-steps' changes, in their order.
    assert_eq!(response, json!({ "warm": true, "seen_by": ["middle", "outer"] }));
    assert_eq!(
        log.entries(),
        [
            "outer before",
            "middle before",
            "warmup before",
            "warmup answered, early: true",
            // No "inner before", no "handler", no "inner after". For the outer
            // middlewares, their own `next` ran: not early.
            "middle after, early: false",
            "outer after, early: false",
        ]
    );
}

#[tokio::test]
async fn without_the_early_condition_the_whole_chain_runs() {
    // The control case: the same chain, an ordinary event.
    let log = Log::default();
    let handler = Handler::builder()
        .middleware(Step("outer", log.clone()))
        .middleware(Warmup(log.clone()))
        .middleware(Step("inner", log.clone()))
        .handler(handler(log.clone()))
        .unwrap();

    let response = handler.invoke(event(json!({ "source": "aws.events" }))).await.unwrap();

    assert_eq!(
        response,
        json!({ "echo": { "source": "aws.events" }, "seen_by": ["inner", "outer"] })
    );
    assert_eq!(
        log.entries(),
        [
            "outer before",
            "warmup before",
            "inner before",
            "handler",
            "inner after, early: false",
            "warmup after, early: false",
            "outer after, early: false",
        ]
    );
}

#[tokio::test]
async fn the_outermost_middleware_can_answer_early() {
    let log = Log::default();
    let handler = Handler::builder()
        .middleware(Warmup(log.clone()))
        .middleware(Step("inner", log.clone()))
        .handler(handler(log.clone()))
        .unwrap();

    let response = handler.invoke(event(json!({ "source": PING }))).await.unwrap();

    assert_eq!(response, json!({ "warm": true, "seen_by": [] }));
    assert_eq!(log.entries(), ["warmup before", "warmup answered, early: true"]);
}

#[tokio::test]
async fn the_innermost_middleware_skips_only_the_handler() {
    let log = Log::default();
    let handler = Handler::builder()
        .middleware(Step("outer", log.clone()))
        .middleware(Step("inner", log.clone()))
        .middleware(Warmup(log.clone()))
        .handler(handler(log.clone()))
        .unwrap();

    let ctx = Context::default();
    let response = handler.invoke_with(json!({ "source": PING }), &ctx).await.unwrap();

    assert_eq!(response, json!({ "warm": true, "seen_by": ["inner", "outer"] }));
    assert_eq!(
        log.entries(),
        [
            "outer before",
            "inner before",
            "warmup before",
            "warmup answered, early: true",
            "inner after, early: false",
            "outer after, early: false",
        ]
    );
}

#[tokio::test]
async fn early_and_ordinary_invocations_alternate_on_one_handler() {
    let log = Log::default();
    let handler = Handler::builder()
        .middleware(Warmup(log.clone()))
        .handler(handler(log.clone()))
        .unwrap();

    let warm = handler.invoke(event(json!({ "source": PING }))).await.unwrap();
    let real = handler.invoke(event(json!({ "id": 1 }))).await.unwrap();
    let warm_again = handler.invoke(event(json!({ "source": PING }))).await.unwrap();

    assert_eq!(warm, json!({ "warm": true, "seen_by": [] }));
    assert_eq!(real, json!({ "echo": { "id": 1 }, "seen_by": [] }));
    assert_eq!(warm_again, warm);
    let handled = log.entries().iter().filter(|entry| *entry == "handler").count();
    assert_eq!(handled, 1);
}
