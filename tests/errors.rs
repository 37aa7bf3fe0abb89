//! Error paths: a failure travels outwards through every middleware; a middleware may
//! pass it on, recover from it, or replace it; a before-step may fail without running
//! the handler, and the outer middlewares still get control back.

use std::fmt;
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

/// What the handler fails with.
#[derive(Debug)]
struct PaymentDeclined {
    order: u32,
}

impl fmt::Display for PaymentDeclined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "payment declined for order {}", self.order)
    }
}

impl std::error::Error for PaymentDeclined {}

/// What a middleware replaces the handler's error with.
#[derive(Debug)]
struct Upstream {
    status: u16,
    cause: String,
}

impl fmt::Display for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "upstream failed with {}: {}", self.status, self.cause)
    }
}

impl std::error::Error for Upstream {}

/// Passes everything on, recording what it saw on the way back: `"<name> ok"` (and
/// whether the response was early) or `"<name> saw <error>"`.
struct Observe(&'static str, Log);

impl Middleware<Value, Value> for Observe {
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
        match next.run(event).await {
            Ok(response) => {
                self.1.push(format!("{} ok, early: {}", self.0, response.is_early()));
                Ok(response)
            }
            Err(failure) => {
                self.1.push(format!("{} saw {failure}", self.0));
                Err(failure.into())
            }
        }
    }
}

/// Turns a `PaymentDeclined` into a 402 response; passes any other error on.
struct RecoverDeclined(Log);

impl Middleware<Value, Value> for RecoverDeclined {
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
        self.0.push("recover before");
        match next.run(event).await {
            Err(failure) if failure.is::<PaymentDeclined>() => {
                let order = failure.downcast_ref::<PaymentDeclined>().unwrap().order;
                self.0.push(format!("recover recovered from {failure}"));
                let response = failure.recover(json!({ "statusCode": 402, "order": order }));
                assert!(!response.is_early(), "a recovered response is not an early one");
                Ok(response)
            }
            other => Ok(other?),
        }
    }
}

/// Replaces any inner error with an `Upstream` error that keeps the original message.
struct Replace(Log);

impl Middleware<Value, Value> for Replace {
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
        self.0.push("replace before");
        match next.run(event).await {
            Ok(response) => Ok(response),
            Err(failure) => {
                self.0.push(format!("replace replaced {failure}"));
                Err(Upstream {
                    status: 502,
                    cause: failure.to_string(),
                }
                .into())
            }
        }
    }
}

/// Fails its before-step with `?` when the event has no numeric `order`.
struct RequireOrder(Log);

impl Middleware<Value, Value> for RequireOrder {
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
        self.0.push("require before");
        let order: u32 = serde_json::from_value(event["order"].clone())?;
        self.0.push(format!("require found order {order}"));
        let response = next.run(event).await?;
        self.0.push("require after");
        Ok(response)
    }
}

/// A handler that declines even orders and accepts odd ones, recording each call.
fn payments(log: Log) -> impl Fn(LambdaEvent<Value>) -> std::future::Ready<Result<Value, Error>> + Send + Sync {
    move |event: LambdaEvent<Value>| {
        let order = event.payload["order"].as_u64().unwrap_or_default() as u32;
        log.push(format!("handler {order}"));
        std::future::ready(if order % 2 == 0 {
            Err(PaymentDeclined { order }.into())
        } else {
            Ok(json!({ "statusCode": 200, "order": order }))
        })
    }
}

fn event(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, Context::default())
}

#[tokio::test]
async fn a_handler_error_is_seen_by_every_middleware_in_reverse_order() {
    let log = Log::default();
    let handler = Handler::builder()
        .middleware(Observe("A", log.clone()))
        .middleware(Observe("B", log.clone()))
        .middleware(Observe("C", log.clone()))
        .handler(payments(log.clone()))
        .unwrap();

    let error = handler.invoke(event(json!({ "order": 4 }))).await.unwrap_err();

    assert_eq!(
        log.entries(),
        [
            "A before",
            "B before",
            "C before",
            "handler 4",
            "C saw payment declined for order 4",
            "B saw payment declined for order 4",
            "A saw payment declined for order 4",
        ]
    );
    // Passed on with `?` through three layers, the caller gets the handler's own error,
    // not a wrapper around it.
    assert_eq!(error.to_string(), "payment declined for order 4");
    assert_eq!(error.downcast_ref::<PaymentDeclined>().map(|e| e.order), Some(4));
}

#[tokio::test]
async fn the_same_chain_succeeds_when_the_handler_does() {
    // The control case for the test above: same chain, an order the handler accepts.
    let log = Log::default();
    let handler = Handler::builder()
        .middleware(Observe("A", log.clone()))
        .middleware(Observe("B", log.clone()))
        .handler(payments(log.clone()))
        .unwrap();

    let response = handler.invoke(event(json!({ "order": 3 }))).await.unwrap();

    assert_eq!(response, json!({ "statusCode": 200, "order": 3 }));
    assert_eq!(
        log.entries(),
        [
            "A before",
            "B before",
            "handler 3",
            "B ok, early: false",
            "A ok, early: false"
        ]
    );
}

#[tokio::test]
async fn recovery_turns_the_error_into_a_response() {
    let log = Log::default();
    let handler = Handler::builder()
        .middleware(Observe("outer", log.clone()))
        .middleware(RecoverDeclined(log.clone()))
        .middleware(Observe("inner", log.clone()))
        .handler(payments(log.clone()))
        .unwrap();

    let response = handler.invoke(event(json!({ "order": 8 }))).await.unwrap();

    assert_eq!(response, json!({ "statusCode": 402, "order": 8 }));
    assert_eq!(
        log.entries(),
        [
            "outer before",
            "recover before",
            "inner before",
            "handler 8",
            "inner saw payment declined for order 8",
            "recover recovered from payment declined for order 8",
            // Outside the recovering layer, the invocation succeeded, and not early.
            "outer ok, early: false",
        ]
    );
}

#[tokio::test]
async fn a_replacement_error_reaches_the_caller() {
    let log = Log::default();
    let handler = Handler::builder()
        .middleware(Observe("outer", log.clone()))
        .middleware(Replace(log.clone()))
        .handler(payments(log.clone()))
        .unwrap();

    let error = handler.invoke(event(json!({ "order": 6 }))).await.unwrap_err();

    assert_eq!(
        error.to_string(),
        "upstream failed with 502: payment declined for order 6"
    );
    let upstream = error
        .downcast_ref::<Upstream>()
        .expect("the replacement, not the handler's error");
    assert_eq!(upstream.status, 502);
    assert!(!error.is::<PaymentDeclined>());
    assert_eq!(
        log.entries(),
        [
            "outer before",
            "replace before",
            "handler 6",
            "replace replaced payment declined for order 6",
            "outer saw upstream failed with 502: payment declined for order 6",
        ]
    );
}

#[tokio::test]
async fn a_failing_before_step_skips_the_inner_layers_and_the_handler() {
    let log = Log::default();
    let handler = Handler::builder()
        .middleware(Observe("outer", log.clone()))
        .middleware(RequireOrder(log.clone()))
        .middleware(Observe("inner", log.clone()))
        .handler(payments(log.clone()))
        .unwrap();

    let error = handler
        .invoke(event(json!({ "order": "not a number" })))
        .await
        .unwrap_err();

    let serde_error = error
        .downcast_ref::<serde_json::Error>()
        .expect("the `?` error, unchanged");
    assert!(serde_error.is_data());
    assert_eq!(
        log.entries(),
        [
            "outer before",
            "require before",
            // No "inner before", no "handler", no "require after"; the outer after-step
            // still runs and sees the error.
            format!("outer saw {error}").as_str(),
        ]
    );
    assert!(
        error.to_string().contains("invalid type: string \"not a number\""),
        "{error}"
    );

    // The same handler keeps working for the next invocation.
    let response = handler.invoke(event(json!({ "order": 5 }))).await.unwrap();
    assert_eq!(response, json!({ "statusCode": 200, "order": 5 }));
    assert_eq!(
        log.entries()[3..],
        [
            "outer before",
            "require before",
            "require found order 5",
            "inner before",
            "handler 5",
            "inner ok, early: false",
            "require after",
            "outer ok, early: false",
        ]
    );
}

#[tokio::test]
async fn an_error_from_a_middleware_travels_out_like_a_handler_error() {
    // Both observers outside a failing before-step see its error, the inner one first.
    let log = Log::default();
    let handler = Handler::builder()
        .middleware(Observe("A", log.clone()))
        .middleware(Observe("B", log.clone()))
        .middleware(RequireOrder(log.clone()))
        .handler(payments(log.clone()))
        .unwrap();

    let error = handler.invoke(event(json!({}))).await.unwrap_err();

    assert!(error.is::<serde_json::Error>());
    assert_eq!(
        log.entries(),
        [
            "A before".to_string(),
            "B before".to_string(),
            "require before".to_string(),
            format!("B saw {error}"),
            format!("A saw {error}"),
        ]
    );
}
