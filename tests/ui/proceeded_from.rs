// `Proceeded` does not implement `From`: a response does not turn into one with
// `.into()` or `Proceeded::from`.

use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
use serde_json::{Value, json};

struct Forges;

impl Middleware<Value, Value> for Forges {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, _next: Next<'n, I>) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        if event.is_null() {
            return Ok(json!({ "statusCode": 204 }).into());
        }
        Ok(Proceeded::from(json!({ "statusCode": 200 })))
    }
}

fn main() {}
