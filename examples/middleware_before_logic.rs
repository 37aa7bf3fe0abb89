//! Powertools' "middleware with before logic": a `PaymentCreated` EventBridge event
//! may arrive without a `status_id`; a middleware sets it to `pending` before the
//! handler turns the event into a payment.
//!
//! Run it locally on the bundled event:
//!
//! ```sh
//! cargo run --example middleware_before_logic
//! ```
//!
//! Deployed (or under `cargo lambda watch`), `AWS_LAMBDA_RUNTIME_API` is set and the
//! same handler runs under `lambda_runtime`.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_middleware::local::LocalFunction;
use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Before the handler: a payment without a status is `pending`.
///
/// It only looks at the event, so it works whatever the handler returns.
struct DefaultPaymentStatus;

impl<R: Send> Middleware<EventBridgeEvent<Value>, R> for DefaultPaymentStatus {
    type Params = ();

    async fn call<'n, I>(
        &self,
        _: &(),
        mut event: EventBridgeEvent<Value>,
        _: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<EventBridgeEvent<Value>, Response = R>,
    {
        if let Some(detail) = event.detail.as_object_mut() {
            detail.entry("status_id").or_insert_with(|| json!("pending"));
        }
        Ok(next.run(event).await?)
    }
}

#[derive(Debug, Deserialize, Serialize)]
struct Payment {
    user_id: String,
    order_id: String,
    amount: String,
    status_id: String,
    #[serde(default)]
    payment_id: String,
}

#[derive(Debug, Serialize)]
struct PaymentCreated {
    order: Payment,
    message: &'static str,
    success: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("unable to create payment: {0}")]
struct PaymentError(#[from] serde_json::Error);

async fn handler(event: LambdaEvent<EventBridgeEvent<Value>>) -> Result<PaymentCreated, Error> {
    let event = event.payload;
    let mut payment: Payment = serde_json::from_value(event.detail).map_err(PaymentError)?;
    // One payment per event: the EventBridge event id identifies it.
    payment.payment_id = event.id.unwrap_or_default();
    Ok(PaymentCreated {
        order: payment,
        message: "payment created",
        success: true,
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let handler = Handler::builder().middleware(DefaultPaymentStatus).handler(handler)?;

    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        // Logs as Lambda\'s logging controls ask: text or JSON, and the level.
        lambda_middleware::observe::init()?;
        return lambda_runtime::run(handler).await;
    }
    let event = include_str!("events/middleware_before_logic.json");
    let response = LocalFunction::default().invoke_json(&handler, event).await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    Ok(())
}
