//! A payment taken once, however often its event arrives: `Idempotent` keys the
//! invocation on the order id, runs the handler the first time, and answers every
//! repeat with the stored receipt — Powertools' `@idempotent`. The amount is checked
//! too: the same order with another amount is refused (`PayloadMismatch`).
//!
//! Run it locally on the bundled event (it sends it twice, then once more with another
//! amount, which is refused; logs go to stderr, the receipt to stdout):
//!
//! ```sh
//! cargo run --example idempotent_payment --features idempotency
//! ```
//!
//! Deployed (or under `cargo lambda watch`), `AWS_LAMBDA_RUNTIME_API` is set and the
//! same handler runs under `lambda_runtime`: send `examples/events/idempotent_payment*.json`
//! and the repeat gets `pay-1` again. The records live in memory here, so they last as
//! long as the process; a deployed function keeps them in DynamoDB (`DynamoDbStore`,
//! feature `dynamodb`), where every instance sees them.

use std::sync::atomic::{AtomicU32, Ordering};

use lambda_middleware::local::LocalFunction;
use lambda_middleware::middlewares::InjectLambdaContext;
use lambda_middleware::middlewares::idempotency::{
    EventPart, IdempotencyError, IdempotencyParams, Idempotent, MemoryStore,
};
use lambda_middleware::{Context, Error, Handler};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, Serialize)]
struct Payment {
    order_id: String,
    amount_cents: u64,
    currency: String,
}

#[derive(Debug, Deserialize, Serialize)]
struct Receipt {
    order_id: String,
    payment_id: String,
    charged_cents: u64,
    currency: String,
}

/// The charges this process made: the payment provider's side of the story.
static CHARGES: AtomicU32 = AtomicU32::new(0);

async fn pay(payment: Payment, _: &Context) -> Result<Receipt, Error> {
    let charge = CHARGES.fetch_add(1, Ordering::SeqCst) + 1;
    tracing::info!(order = %payment.order_id, amount_cents = payment.amount_cents, "charging the card");
    Ok(Receipt {
        order_id: payment.order_id,
        payment_id: format!("pay-{charge}"),
        charged_cents: payment.amount_cents,
        currency: payment.currency,
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let params = IdempotencyParams::builder()
        .store(MemoryStore::new())
        .key(EventPart::pointer("/order_id"))
        .payload_validation(EventPart::pointers(["/amount_cents", "/currency"]))
        .build();
    // Outside `Idempotent`, the context is on every log line, replays included.
    let handler = Handler::builder()
        .middleware(InjectLambdaContext)
        .middleware_with(Idempotent, params)
        .handler(pay)?;

    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        // Logs as Lambda's logging controls ask: text or JSON, and the level.
        lambda_middleware::observe::init()?;
        return lambda_runtime::run(handler).await;
    }
    // Locally: log lines on standard error, the response on standard output.
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let event = include_str!("events/idempotent_payment.json");
    let function = LocalFunction::new("payments");
    let receipt = function.invoke_json(&handler, event).await?;
    println!("{}", serde_json::to_string_pretty(&receipt)?);
    let retry = function.invoke_json(&handler, event).await?;
    assert_eq!(retry, receipt, "a retry gets the stored receipt");

    // The same order with another amount: not the same payment, and not its receipt.
    let mut tampered: serde_json::Value = serde_json::from_str(event)?;
    tampered["amount_cents"] = 1.into();
    match function.invoke_json(&handler, &tampered.to_string()).await {
        Err(refused) if matches!(refused.downcast_ref(), Some(IdempotencyError::PayloadMismatch { .. })) => {
            eprintln!("another amount under the same order was refused: {refused}");
        }
        other => panic!("another amount under the same order must be refused: {other:?}"),
    }
    eprintln!(
        "the retry got the same receipt; the card was charged {} time(s)",
        CHARGES.load(Ordering::SeqCst)
    );
    Ok(())
}
