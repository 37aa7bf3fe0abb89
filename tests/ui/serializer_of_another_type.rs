// `JsonResponse` serialises what the layers inside it give back: a handler whose
// response does not implement `Serialize` cannot be behind it.

use lambda_middleware::middlewares::{JsonResponse, JsonResponseParams};
use lambda_middleware::{Context, Error, Handler};
use serde_json::Value;

struct Opaque;

async fn handler(_: Value, _: &Context) -> Result<Opaque, Error> {
    Ok(Opaque)
}

fn main() {
    let _ = Handler::builder()
        .transform_with(JsonResponse::<Value>::new(), JsonResponseParams::builder().build())
        .handler(handler);
}
