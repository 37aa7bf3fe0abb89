//! Chains whose types change on the way: an event transform at layer 2 and a response
//! transform at layer 4, with plain middlewares (hooks and `async fn`) between them.
//! Order, errors, early responses and recovery travel through the changed types by the
//! same onion rules as through a plain chain.

use std::sync::{Arc, Mutex};

use lambda_middleware::hooks::Flow;
use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded, Transform, With};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

type Log = Arc<Mutex<Vec<String>>>;

fn push(log: &Log, entry: impl Into<String>) {
    log.lock().unwrap().push(entry.into());
}

fn entries(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Order {
    id: u64,
    quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct Receipt {
    id: u64,
    total_cents: u64,
}

/// Layer 1, outermost: `Value` in, `Value` out, logs and sees errors.
struct Outer(Log);

impl Middleware<Value, Value> for Outer {
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
        push(&self.0, "outer before");
        match next.run(event).await {
            Ok(response) => {
                push(&self.0, format!("outer after: {}", response.response()));
                Ok(response)
            }
            Err(failure) => {
                push(&self.0, format!("outer saw: {failure}"));
                Err(failure.into())
            }
        }
    }
}

/// Layer 2: parses the `Value` into an `Order` (and the `tenant` field into data the
/// handler gets); `Value` responses pass through.
struct ParseOrder(Log);

impl Transform<With<String, Order>, Value> for ParseOrder {
    type Event = Value;
    type Response = Value;
    type Params = ();

    async fn call<'n, I>(
        &self,
        _: &(),
        event: Value,
        _: &Context,
        next: Next<'n, I, Value>,
    ) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<With<String, Order>, Response = Value>,
    {
        push(&self.0, "parse before");
        let tenant = event["tenant"].as_str().unwrap_or("none").to_owned();
        let order: Order = serde_json::from_value(event)?;
        if order.quantity == 0 {
            // An early answer of this layer's own (outer) response type.
            return Ok(next.respond_early(json!({ "statusCode": 204 })));
        }
        let response = next.run(With::new(tenant, order)).await?;
        push(&self.0, "parse after");
        Ok(response)
    }
}

/// Layer 3: a hook middleware on the parsed event and the JSON response; recovers from
/// failures inside with a 500.
struct Guard(Log);

impl Middleware<With<String, Order>, Value> for Guard {
    type Params = ();

    fn before(&self, _: &(), event: &mut With<String, Order>, _: &Context) -> Result<Flow<Value>, Error> {
        push(&self.0, format!("guard before: order {}", event.event.id));
        Ok(Flow::Continue)
    }

    fn after(&self, _: &(), response: &mut Value, _: &Context) -> Result<(), Error> {
        push(&self.0, "guard after");
        response["guarded"] = json!(true);
        Ok(())
    }

    fn on_error(&self, _: &(), error: Error, _: &Context) -> Result<Value, Error> {
        push(&self.0, format!("guard recovered: {error}"));
        if error.to_string().contains("recoverable") {
            return Ok(json!({ "statusCode": 500 }));
        }
        Err(error)
    }
}

/// Layer 4: serialises the `Receipt` the inner layers give back into JSON.
struct ToJson(Log);

impl<E: Send> Transform<E, Receipt> for ToJson {
    type Event = E;
    type Response = Value;
    type Params = ();

    async fn call<'n, I>(
        &self,
        _: &(),
        event: E,
        _: &Context,
        next: Next<'n, I, Value>,
    ) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<E, Response = Receipt>,
    {
        push(&self.0, "to_json before");
        let receipt = next.run(event).await?;
        push(&self.0, format!("to_json after (early inside: {})", receipt.is_early()));
        let json = json!({ "statusCode": 200, "receipt": serde_json::to_value(receipt.response())? });
        Ok(receipt.map(|_| json))
    }
}

/// Layer 5: on the handler's own types; answers early with a `Receipt` for order 0.
struct Cache(Log);

impl Middleware<With<String, Order>, Receipt> for Cache {
    type Params = ();

    async fn call<'n, I>(
        &self,
        _: &(),
        event: With<String, Order>,
        _: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, Receipt>, Error>
    where
        I: Invoke<With<String, Order>, Response = Receipt>,
    {
        push(&self.0, "cache before");
        if event.event.id == 0 {
            return Ok(next.respond_early(Receipt { id: 0, total_cents: 0 }));
        }
        let response = next.run(event).await?;
        push(&self.0, "cache after");
        Ok(response)
    }
}

fn chain(log: &Log) -> Handler<impl lambda_middleware::chain::Chain<Value, Response = Value> + use<>> {
    let handler_log = log.clone();
    Handler::builder()
        .middleware(Outer(log.clone()))
        .transform(ParseOrder(log.clone()))
        .middleware(Guard(log.clone()))
        .transform(ToJson(log.clone()))
        .middleware(Cache(log.clone()))
        .handler(move |order: With<String, Order>, _: &Context| {
            push(&handler_log, format!("handler: {} for {}", order.event.id, order.data));
            let outcome = match order.event.id {
                13 => Err("recoverable failure".into()),
                66 => Err("fatal failure".into()),
                id => Ok(Receipt {
                    id,
                    total_cents: 250 * u64::from(order.event.quantity),
                }),
            };
            std::future::ready(outcome)
        })
        .unwrap()
}

#[tokio::test]
async fn each_layer_sees_its_own_types_in_onion_order() {
    let log = Log::default();
    let response = chain(&log)
        .invoke_with(json!({ "id": 7, "quantity": 2, "tenant": "acme" }), &Context::default())
        .await
        .unwrap();

    assert_eq!(
        response,
        json!({ "statusCode": 200, "receipt": { "id": 7, "total_cents": 500 }, "guarded": true })
    );
    assert_eq!(
        entries(&log),
        [
            "outer before",
            "parse before",
            "guard before: order 7",
            "to_json before",
            "cache before",
            "handler: 7 for acme",
            "cache after",
            "to_json after (early inside: false)",
            "guard after",
            "parse after",
            r#"outer after: {"guarded":true,"receipt":{"id":7,"total_cents":500},"statusCode":200}"#,
        ]
    );
}

#[tokio::test]
async fn an_early_answer_inside_the_transformed_part_is_transformed_on_the_way_out() {
    let log = Log::default();
    let response = chain(&log)
        .invoke_with(json!({ "id": 0, "quantity": 1 }), &Context::default())
        .await
        .unwrap();

    assert_eq!(
        response,
        json!({ "statusCode": 200, "receipt": { "id": 0, "total_cents": 0 }, "guarded": true })
    );
    let log = entries(&log);
    assert!(!log.iter().any(|entry| entry.starts_with("handler")), "{log:?}");
    assert!(log.contains(&"to_json after (early inside: false)".to_owned()));
    assert!(log.contains(&"guard after".to_owned()));
}

#[tokio::test]
async fn an_early_answer_of_the_transform_itself_has_its_outer_type() {
    let log = Log::default();
    let response = chain(&log)
        .invoke_with(json!({ "id": 5, "quantity": 0 }), &Context::default())
        .await
        .unwrap();

    assert_eq!(response, json!({ "statusCode": 204 }));
    assert_eq!(
        entries(&log),
        ["outer before", "parse before", r#"outer after: {"statusCode":204}"#]
    );
}

#[tokio::test]
async fn errors_travel_out_through_the_changed_types_and_can_be_recovered_inside() {
    let log = Log::default();
    let recovered = chain(&log)
        .invoke_with(json!({ "id": 13, "quantity": 1 }), &Context::default())
        .await
        .unwrap();
    assert_eq!(recovered, json!({ "statusCode": 500 }));
    assert_eq!(
        entries(&log)[5..],
        [
            "handler: 13 for none",
            "guard recovered: recoverable failure",
            "parse after",
            r#"outer after: {"statusCode":500}"#,
        ]
    );

    let log = Log::default();
    let error = chain(&log)
        .invoke_with(json!({ "id": 66, "quantity": 1 }), &Context::default())
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "fatal failure");
    assert_eq!(entries(&log).last().unwrap(), "outer saw: fatal failure");
}

#[tokio::test]
async fn an_event_that_does_not_parse_fails_before_the_inner_layers() {
    let log = Log::default();
    let error = chain(&log)
        .invoke_with(json!({ "id": "seven" }), &Context::default())
        .await
        .unwrap_err();
    assert!(error.is::<serde_json::Error>(), "{error}");
    assert_eq!(entries(&log).len(), 3, "{:?}", entries(&log));
    assert!(entries(&log)[2].starts_with("outer saw: invalid type"));
}

#[test]
fn a_chain_that_changes_types_prints_its_layers_in_order() {
    let log = Log::default();
    let handler = Handler::builder()
        .middleware(Outer(log.clone()))
        .transform(ParseOrder(log.clone()))
        .middleware(Guard(log.clone()))
        .transform(ToJson(log.clone()))
        .middleware(Cache(log.clone()))
        .handler(|order: With<String, Order>, _: &Context| {
            std::future::ready(Ok::<_, Error>(Receipt {
                id: order.event.id,
                total_cents: 0,
            }))
        })
        .unwrap();
    assert_eq!(
        format!("{handler:?}"),
        "Handler([Outer, ParseOrder, Guard, ToJson, Cache, handler])"
    );
}
