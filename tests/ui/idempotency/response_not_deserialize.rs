// A response is stored as JSON and read back on a repeat: a response type that cannot
// be read back from JSON does not fit `Idempotent`.

use lambda_middleware::middlewares::idempotency::{EventPart, IdempotencyParams, Idempotent, MemoryStore};
use lambda_middleware::{Context, Error, Handler};
use serde::Serialize;
use serde_json::Value;

#[derive(Serialize)]
struct Receipt {
    payment_id: String,
}

async fn handler(_: Value, _: &Context) -> Result<Receipt, Error> {
    Ok(Receipt { payment_id: "pay-1".into() })
}

fn main() {
    let params = IdempotencyParams::builder()
        .store(MemoryStore::new())
        .key(EventPart::pointer("/order_id"))
        .build();
    let _ = Handler::builder().middleware_with(Idempotent, params).handler(handler);
}
