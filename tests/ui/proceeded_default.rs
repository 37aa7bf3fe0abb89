// `Proceeded` does not implement `Default`.

use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
use serde_json::Value;

struct Forges;

impl Middleware<Value, Value> for Forges {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), _event: Value, _: &Context, _next: Next<'n, I>) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        Ok(Proceeded::default())
    }
}

fn main() {}
