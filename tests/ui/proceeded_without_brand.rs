// `call` returns `Proceeded<'n, R>` with the `'n` of its `Next<'n, I>`. Leaving the
// lifetime out gives the proof the lifetime of `&self` instead, which is not the
// brand of this call.

use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
use serde_json::Value;

struct Plain;

impl Middleware<Value, Value> for Plain {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>) -> Result<Proceeded<Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        Ok(next.run(event).await?)
    }
}

fn main() {}
