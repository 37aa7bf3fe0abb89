// The middleware inside a transform sees the transform's inner types: a middleware for
// `serde_json::Value` events does not fit inside `Parse<Order>`, which hands `Order`s in.

use lambda_middleware::middlewares::{Parse, SecurityHeaders, SecurityHeadersParams, Warmup, WarmupParams};
use lambda_middleware::{Context, Error, Handler};
use serde_json::Value;

#[derive(serde::Deserialize)]
struct Order {
    id: u64,
}

async fn take(order: Order, _: &Context) -> Result<Value, Error> {
    Ok(Value::from(order.id))
}

fn main() {
    let _ = Handler::builder()
        .transform(Parse::<Order>::new())
        .middleware_with(Warmup, WarmupParams::builder().build())
        .middleware_with(SecurityHeaders, SecurityHeadersParams::builder().build())
        .handler(take);
}
