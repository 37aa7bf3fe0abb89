//! `#[middleware]`: each kind of function, its params, its name, and the same onion
//! rules as a hand-written middleware.

use lambda_middleware::{Context, Error, Flow, Handler, Next, Proceeded, middleware};
use serde_json::{Value, json};

/// Tags the event, or answers early when it has no tenant.
#[middleware(before)]
fn tenant(event: &mut Value, _: &Context, #[builder(default = 400)] status: u16) -> Result<Flow<Value>, Error> {
    if event["tenant"].is_null() {
        return Ok(Flow::RespondEarly(json!({ "statusCode": status })));
    }
    event["seen"] = json!(true);
    Ok(Flow::Continue)
}

/// A `before` that only goes on or fails, for any response type.
#[middleware(before)]
fn refuse_big(event: &mut Value, _: &Context, limit: usize) -> Result<(), Error> {
    if event.to_string().len() > limit {
        return Err(format!("the event is over {limit} bytes").into());
    }
    Ok(())
}

#[middleware(after, name = "tag_response", derive(Clone, Debug))]
fn tag<R: AsMut<Value>>(response: &mut R, _: &Context, key: &str, values: &[u8]) -> Result<(), Error> {
    response.as_mut()[key] = json!(values);
    Ok(())
}

#[middleware(on_error)]
fn into_500(error: Error, _: &Context) -> Result<Value, Error> {
    if error.to_string().contains("fatal") {
        return Err(error);
    }
    Ok(json!({ "statusCode": 500, "body": error.to_string() }))
}

/// Counts the invocations it sees and writes the count on the response.
#[middleware]
async fn count<E: Send>(
    event: E,
    _: &Context,
    next: Next,
    counter: &std::sync::atomic::AtomicU64,
) -> Result<Proceeded<Value>, Error> {
    let seen = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    let mut response = next.run(event).await?;
    response.response_mut()["count"] = json!(seen);
    Ok(response)
}

/// A response that is a JSON object, for the generic `after` hook.
#[derive(Debug, PartialEq)]
struct Body(Value);

impl AsMut<Value> for Body {
    fn as_mut(&mut self) -> &mut Value {
        &mut self.0
    }
}

async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
    match event["fail"].as_str() {
        Some(message) => Err(message.to_owned().into()),
        None => Ok(json!({ "statusCode": 200, "seen": event["seen"] })),
    }
}

#[tokio::test]
async fn hooks_run_as_the_onion_says() -> Result<(), Error> {
    let handler = Handler::builder()
        .middleware(Into500)
        .middleware_with(Count, CountParams::builder().counter(0.into()).build())
        .middleware_with(Tenant, TenantParams::builder().build())
        .middleware_with(RefuseBig, RefuseBigParams::builder().limit(64).build())
        .handler(handler)?;
    let ctx = Context::default();

    let ok = handler.invoke_with(json!({ "tenant": "acme" }), &ctx).await?;
    assert_eq!(ok, json!({ "statusCode": 200, "seen": true, "count": 1 }));
    // The early answer skips the inner layers, and `count`'s `after` step still runs.
    let early = handler.invoke_with(json!({}), &ctx).await?;
    assert_eq!(early, json!({ "statusCode": 400, "count": 2 }));
    // An error from the handler is recovered by the outermost `on_error` hook.
    let failed = handler
        .invoke_with(json!({ "tenant": "acme", "fail": "no stock" }), &ctx)
        .await?;
    assert_eq!(failed, json!({ "statusCode": 500, "body": "no stock" }));
    // The `before` hook's own error, from its param.
    let big = handler
        .invoke_with(json!({ "tenant": "acme", "pad": "x".repeat(64) }), &ctx)
        .await?;
    assert_eq!(big, json!({ "statusCode": 500, "body": "the event is over 64 bytes" }));
    // An error `on_error` passes on reaches the caller.
    let fatal = handler
        .invoke_with(json!({ "tenant": "acme", "fail": "fatal" }), &ctx)
        .await;
    assert_eq!(fatal.unwrap_err().to_string(), "fatal");
    Ok(())
}

#[tokio::test]
async fn a_generic_hook_serves_every_type_it_fits() -> Result<(), Error> {
    async fn body(event: u8, _: &Context) -> Result<Body, Error> {
        Ok(Body(json!({ "event": event })))
    }
    let params = TagParams::builder().key("tags".to_owned()).values(vec![1, 2]).build();
    // The `derive(Clone, Debug)` option reaches the params.
    assert_eq!(
        format!("{:?}", params.clone()),
        r#"TagParams { key: "tags", values: [1, 2] }"#
    );
    let handler = Handler::builder().middleware_with(Tag, params).handler(body)?;
    let response = handler.invoke_with(7, &Context::default()).await?;
    assert_eq!(response, Body(json!({ "event": 7, "tags": [1, 2] })));
    Ok(())
}

#[test]
fn names_are_the_functions_unless_given() {
    use lambda_middleware::Middleware;
    assert_eq!(Middleware::<Value, Value>::name(&Tenant), "tenant");
    assert_eq!(Middleware::<u8, Body>::name(&Tag), "tag_response");
    assert_eq!(Middleware::<Value, Value>::name(&Count), "count");
    // The hook function stays callable as written.
    let mut event = json!({ "tenant": "acme" });
    assert_eq!(tenant(&mut event, &Context::default(), 400).unwrap(), Flow::Continue);
    assert_eq!(event["seen"], true);
}

#[tokio::test]
async fn traced_attribute_middlewares_open_spans_under_their_names() -> Result<(), Error> {
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt;

    /// The `middleware` field of every span opened: the traced layer's name.
    #[derive(Clone, Default)]
    struct Names(Arc<Mutex<Vec<String>>>);
    struct Field<'a>(&'a mut Vec<String>);
    impl tracing::field::Visit for Field<'_> {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            if field.name() == "middleware" {
                self.0.push(format!("{value:?}"));
            }
        }
    }
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Names {
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            _: &tracing::span::Id,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            attrs.record(&mut Field(&mut self.0.lock().unwrap()));
        }
    }
    let names = Names::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(names.clone()));
    let handler = Handler::builder()
        .middleware_with(Tenant, TenantParams::builder().build())
        .traced()
        .middleware(Into500)
        .traced()
        .handler(handler)?;
    handler
        .invoke_with(json!({ "tenant": "acme" }), &Context::default())
        .await?;
    assert_eq!(*names.0.lock().unwrap(), ["tenant", "into_500"]);
    Ok(())
}

/// A hook named like the parameters the generated impl takes still calls itself.
#[middleware(before)]
fn event(event: &mut Value, _: &Context) {
    event["named_event"] = json!(true);
}

/// A generic early answer: `Flow<R>` makes it a middleware for every `R` it builds.
#[middleware(before)]
#[allow(clippy::unnecessary_wraps)]
fn refuse_empty<R: Default + Send>(event: &mut Value, _: &Context) -> Result<Flow<R>, Error> {
    Ok(if event.is_null() {
        Flow::RespondEarly(R::default())
    } else {
        Flow::Continue
    })
}

/// A `mut` param stays `mut` in the body.
#[middleware]
async fn countdown(event: Value, _: &Context, next: Next, mut left: u32) -> Result<Proceeded<Value>, Error> {
    left -= 1;
    let mut response = next.run(event).await?;
    response.response_mut()["left"] = json!(left);
    Ok(response)
}

#[tokio::test]
async fn generated_names_generics_and_mut_params_work() -> Result<(), Error> {
    async fn pass(event: Value, _: &Context) -> Result<Value, Error> {
        Ok(event)
    }
    let handler = Handler::builder()
        .middleware_with(Countdown, CountdownParams::builder().left(3).build())
        .middleware(RefuseEmpty)
        .middleware(Event)
        .handler(pass)?;
    let ctx = Context::default();
    assert_eq!(
        handler.invoke_with(json!({}), &ctx).await?,
        json!({ "named_event": true, "left": 2 })
    );
    assert_eq!(handler.invoke_with(Value::Null, &ctx).await?, json!({ "left": 2 }));
    Ok(())
}
