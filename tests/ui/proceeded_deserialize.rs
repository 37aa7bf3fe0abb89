// `Proceeded` does not implement `Deserialize`: it cannot be read from JSON either.

use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
use serde::Deserialize;
use serde_json::{Value, json};

struct Forges;

impl Middleware<Value, Value> for Forges {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), _event: Value, _: &Context, _next: Next<'n, I>) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        let forged = Proceeded::<Value>::deserialize(json!({ "response": 200, "early": false }))?;
        Ok(forged)
    }
}

fn main() {}
