//! A middleware without params: normalise the event before the handler, tag the
//! response after it.
//!
//! Run it locally on the bundled event:
//!
//! ```sh
//! cargo run --example middleware_no_params
//! ```
//!
//! Deployed (or under `cargo lambda watch`), `AWS_LAMBDA_RUNTIME_API` is set and the
//! same handler runs under `lambda_runtime`.

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};

/// Before the handler: header names in lower case, as HTTP/2 and API Gateway's
/// HTTP APIs send them. After it: a header saying who answered.
struct NormaliseHeaders;

impl Middleware<Value, Value> for NormaliseHeaders {
    type Params = ();

    async fn call<'n, I>(
        &self,
        _: &(),
        mut event: Value,
        _: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        if let Some(headers) = event.get_mut("headers").and_then(Value::as_object_mut) {
            *headers = std::mem::take(headers)
                .into_iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), value))
                .collect();
        }

        let mut response = next.run(event).await?;

        response.response_mut()["headers"]["x-handled-by"] = json!("lambda-middleware");
        Ok(response)
    }
}

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let customer = event.payload["headers"]["x-customer-id"]
        .as_str()
        .unwrap_or("anonymous");
    Ok(json!({
        "statusCode": 200,
        "headers": { "content-type": "application/json" },
        "body": json!({ "customer": customer }).to_string(),
    }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let handler = Handler::builder().middleware(NormaliseHeaders).handler(handler)?;

    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        // Logs as Lambda\'s logging controls ask: text or JSON, and the level.
        lambda_middleware::observe::init()?;
        return lambda_runtime::run(handler).await;
    }
    let event = serde_json::from_str(include_str!("events/middleware_no_params.json"))?;
    let response = handler.invoke(LambdaEvent::new(event, Context::default())).await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    Ok(())
}
