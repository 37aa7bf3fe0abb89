//! A DynamoDB Streams consumer: each change to a customers table read into a typed
//! `Customer` — the new image for an `INSERT` or `MODIFY`, the old one for a `REMOVE`,
//! unmarshalled from DynamoDB JSON — and the sequence numbers of the records that failed
//! sent back (`batchItemFailures`) — Powertools'
//! `BatchProcessor(event_type=EventType.DynamoDBStreams)`.
//!
//! As on Kinesis, Lambda checkpoints at the lowest reported sequence number and sends
//! every record from there again: the record logic must be idempotent, as a mirror of
//! the table is.
//!
//! The bundled batch (`examples/events/dynamodb_streams_consumer.json`) has ten
//! changes: one email is a number, one customer has no tier, one address has no `@`
//! (refused). The answer lists those three.
//!
//! ```sh
//! cargo run --example dynamodb_streams_consumer --features dynamodb_streams
//! ```

use std::collections::BTreeMap;
use std::sync::Mutex;

use lambda_middleware::local::LocalFunction;
use lambda_middleware::middlewares::{DynamoDbNewImage, DynamoDbOldImage, DynamoDbStreamBatch, Envelope};
use lambda_middleware::{Context, Error, Handler};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
struct Customer {
    customer_id: String,
    email: String,
    tier: String,
}

/// The mirror of the table: customer id → tier.
static MIRROR: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());

/// One change, as JSON: its image is read into a `Customer` (a failure fails the record).
async fn mirror(record: Value, _: &Context) -> Result<(), Error> {
    if record["eventName"] == "REMOVE" {
        let customer: Customer = DynamoDbOldImage.open(record)?;
        MIRROR.lock().unwrap().remove(&customer.customer_id);
        return Ok(());
    }
    let customer: Customer = DynamoDbNewImage.open(record)?;
    if !customer.email.contains('@') {
        return Err(format!("customer {} has no valid email", customer.customer_id).into());
    }
    tracing::info!(customer = %customer.customer_id, tier = %customer.tier, "mirrored");
    MIRROR.lock().unwrap().insert(customer.customer_id, customer.tier);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let batch = DynamoDbStreamBatch::new(Handler::builder().handler(mirror)?);

    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        lambda_middleware::observe::init()?;
        return lambda_runtime::run(batch).await;
    }
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let event = include_str!("events/dynamodb_streams_consumer.json");
    let response = LocalFunction::new("customers-mirror")
        .invoke_json(&batch, event)
        .await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    eprintln!("the mirror holds {} customer(s)", MIRROR.lock().unwrap().len());
    Ok(())
}
