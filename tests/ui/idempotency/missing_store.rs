// `Idempotent`'s params need a store and a key: leaving one out is a compile error that
// names it.

use lambda_middleware::middlewares::idempotency::{EventPart, IdempotencyParams, Idempotent};
use lambda_middleware::{Context, Error, Handler};
use serde_json::Value;

async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
    Ok(event)
}

fn main() {
    let params = IdempotencyParams::builder().key(EventPart::pointer("/order_id")).build();
    let _ = Handler::builder().middleware_with(Idempotent, params).handler(handler);
}
