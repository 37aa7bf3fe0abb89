// A middleware cannot succeed without running the rest of the chain: its `Ok` must
// carry a `Proceeded`, and returning the response itself does not compile.

use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
use serde_json::{Value, json};

struct ForgetsTheHandler;

impl Middleware<Value, Value> for ForgetsTheHandler {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), _event: Value, _: &Context, _next: Next<'n, I>) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        Ok(json!({ "statusCode": 200 }))
    }
}

fn main() {}
