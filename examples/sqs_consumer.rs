//! An SQS consumer: each message's body read into an `Order`, each order shipped once
//! however often SQS delivers it, and only the messages that failed sent back for retry
//! (`batchItemFailures`) — Powertools' `BatchProcessor` with `event_parser` and
//! `@idempotent_function` per record, in one typed chain per record.
//!
//! The bundled batch (`examples/events/sqs_consumer.json`) has ten messages: one body is
//! not JSON, one has a quantity that is not a number, one order has no items (refused),
//! and one is a redelivery of the first order. The answer lists the three that failed;
//! the redelivery replays the first one's result instead of shipping twice.
//!
//! ```sh
//! cargo run --example sqs_consumer --features sqs,idempotency,jmespath
//! ```
//!
//! Deployed (or under `cargo lambda watch`), `AWS_LAMBDA_RUNTIME_API` is set and the same
//! batch processor runs under `lambda_runtime`. The event source mapping needs
//! `FunctionResponseTypes: ["ReportBatchItemFailures"]`.

use std::sync::atomic::{AtomicU32, Ordering};

use lambda_middleware::local::LocalFunction;
use lambda_middleware::middlewares::idempotency::{EventPart, IdempotencyParams, Idempotent, MemoryStore};
use lambda_middleware::middlewares::{Parse, SqsBatch, SqsBody};
use lambda_middleware::{Context, Error, Handler};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Order {
    order_id: String,
    quantity: u32,
}

/// The parcels this process sent.
static SHIPPED: AtomicU32 = AtomicU32::new(0);

async fn ship(order: Order, _: &Context) -> Result<String, Error> {
    if order.quantity == 0 {
        return Err(format!("order {} has no items", order.order_id).into());
    }
    SHIPPED.fetch_add(1, Ordering::SeqCst);
    tracing::info!(order = %order.order_id, quantity = order.quantity, "shipped");
    Ok(order.order_id)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // The key a Python function would give `event_key_jmespath`, verbatim.
    let once = IdempotencyParams::builder()
        .store(MemoryStore::new())
        .key(EventPart::jmespath("powertools_json(body).order_id")?)
        .build();
    // Per record: idempotent, then the body parsed into an `Order` (a body that does not
    // parse fails its record only, with the path and serde's message in the log).
    let records = Handler::builder()
        .middleware_with(Idempotent, once)
        .transform(Parse::<Order>::in_envelope(SqsBody))
        .handler(ship)?;
    let batch = SqsBatch::new(records);

    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        lambda_middleware::observe::init()?;
        return lambda_runtime::run(batch).await;
    }
    // Locally: log lines on standard error, the response on standard output.
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let event = include_str!("events/sqs_consumer.json");
    let response = LocalFunction::new("orders").invoke_json(&batch, event).await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    eprintln!("{} parcel(s) shipped", SHIPPED.load(Ordering::SeqCst));
    Ok(())
}
