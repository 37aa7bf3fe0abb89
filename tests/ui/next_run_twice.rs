// `Next` is consumed by `run`: the rest of the chain cannot run twice.

use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
use serde_json::Value;

struct Retry;

impl Middleware<Value, Value> for Retry {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        match next.run(event.clone()).await {
            Ok(response) => Ok(response),
            Err(_) => Ok(next.run(event).await?),
        }
    }
}

fn main() {}
