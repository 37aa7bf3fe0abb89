// `Failure::recover` makes a `Proceeded`, so a `Failure` cannot be made outside the
// crate either: recovering is possible only after the chain really ran and failed.

use lambda_middleware::{Context, Error, Failure, Invoke, Middleware, Next, Proceeded};
use serde_json::{Value, json};

struct Forges;

impl Middleware<Value, Value> for Forges {
    type Params = ();

    async fn call<I>(&self, _: &(), _event: Value, _: &Context, _next: Next<'_, I>) -> Result<Proceeded<Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        let failure = Failure { error: "never ran".into() };
        Ok(failure.recover(json!({ "statusCode": 200 })))
    }
}

fn main() {}
