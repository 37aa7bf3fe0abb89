// `Proceeded` has no public constructor: a struct literal does not compile.

use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
use serde_json::{Value, json};

struct Forges;

impl Middleware<Value, Value> for Forges {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), _event: Value, _: &Context, _next: Next<'n, I>) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        Ok(Proceeded { response: json!({ "statusCode": 200 }), early: false })
    }
}

fn main() {}
