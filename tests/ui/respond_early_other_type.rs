// `respond_early` answers with the chain's own response type only.

use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
use serde_json::Value;

struct Early;

impl Middleware<Value, Value> for Early {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), _: Value, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        let _other = next.respond_early(204_u16);
        Err("unreachable".into())
    }
}

fn main() {}
