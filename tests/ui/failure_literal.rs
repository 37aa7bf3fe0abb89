// `Failure::recover` makes a `Proceeded`, so a `Failure` cannot be made outside the
// crate either: recovering is possible only after the chain really ran and failed.

use lambda_middleware::{Context, Error, Failure, Invoke, Middleware, Next, Proceeded};
use serde_json::{Value, json};

struct Forges;

impl Middleware<Value, Value> for Forges {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), _event: Value, _: &Context, _next: Next<'n, I>) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        let failure = Failure { error: "never ran".into() };
        Ok(failure.recover(json!({ "statusCode": 200 })))
    }
}

fn main() {}
