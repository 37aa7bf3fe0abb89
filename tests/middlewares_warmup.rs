//! `Warmup`: a warmer's event never reaches the handler or the inner middlewares; other
//! events, however odd, do.

use std::sync::atomic::{AtomicUsize, Ordering};

use lambda_middleware::middlewares::{
    HttpErrorHandler, HttpErrorHandlerParams, SecurityHeaders, SecurityHeadersParams, Warmup, WarmupParams,
};
use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use serde_json::{Value, json};

static INNER: AtomicUsize = AtomicUsize::new(0);
static HANDLED: AtomicUsize = AtomicUsize::new(0);

/// Counts the invocations that get past the warm-up check.
struct Inner;

impl Middleware<Value, Value> for Inner {
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
        INNER.fetch_add(1, Ordering::SeqCst);
        Ok(next.run(event).await?)
    }
}

async fn handler(_: Value, _: &Context) -> Result<Value, Error> {
    HANDLED.fetch_add(1, Ordering::SeqCst);
    Ok(json!({ "statusCode": 200, "headers": {} }))
}

#[tokio::test]
async fn warmer_events_stop_at_the_warmup_middleware() {
    let handler = Handler::builder()
        .middleware_with(SecurityHeaders, SecurityHeadersParams::builder().build())
        .middleware_with(Warmup, WarmupParams::builder().build())
        .middleware(Inner)
        .handler(handler)
        .unwrap();
    let context = Context::default();

    let warm = json!({ "source": "serverless-plugin-warmup", "concurrency": 3 });
    let response = handler.invoke_with(warm, &context).await.unwrap();
    // `null` for a JSON response: the outer middleware found no room for headers.
    assert_eq!(response, Value::Null);
    assert_eq!(INNER.load(Ordering::SeqCst), 0);
    assert_eq!(HANDLED.load(Ordering::SeqCst), 0);

    // Events that are not the warmer's, whatever their shape, reach the handler.
    let others = [
        json!({ "source": "aws.events" }),
        json!({ "source": 1 }),
        json!({ "source": null }),
        json!({ "Source": "serverless-plugin-warmup" }),
        json!("serverless-plugin-warmup"),
        json!(["serverless-plugin-warmup"]),
        json!(null),
        json!({}),
    ];
    for event in &others {
        handler.invoke_with(event.clone(), &context).await.unwrap();
    }
    assert_eq!(INNER.load(Ordering::SeqCst), others.len());
    assert_eq!(HANDLED.load(Ordering::SeqCst), others.len());
}

#[tokio::test]
async fn a_custom_test_and_a_typed_response() {
    async fn typed(_: Value, _: &Context) -> Result<Option<String>, Error> {
        Err("the handler must not run".into())
    }
    let params = WarmupParams::builder()
        .is_warmer(|event| event["warmer"] == true)
        .build();
    let handler = Handler::builder()
        .middleware_with(Warmup, params)
        .handler(typed)
        .unwrap();
    let response = handler
        .invoke_with(json!({ "warmer": true, "concurrency": 1 }), &Context::default())
        .await
        .unwrap();
    assert_eq!(response, None);
}

#[tokio::test]
async fn the_error_handler_inside_the_warmup_is_skipped_too() {
    let handler = Handler::builder()
        .middleware_with(Warmup, WarmupParams::builder().build())
        .middleware_with(HttpErrorHandler, HttpErrorHandlerParams::builder().build())
        .handler(|_: Value, _: &Context| async { Err::<Value, Error>("boom".into()) })
        .unwrap();
    let warm = json!({ "source": "serverless-plugin-warmup" });
    assert_eq!(
        handler.invoke_with(warm, &Context::default()).await.unwrap(),
        Value::Null
    );
    let response = handler.invoke_with(json!({}), &Context::default()).await.unwrap();
    assert_eq!(response["statusCode"], 500);
}
