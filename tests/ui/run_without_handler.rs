// A builder without a handler function is not a `tower::Service`, so
// `lambda_runtime::run` does not take it.

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use serde_json::Value;

struct Audit;

impl Middleware<Value, Value> for Audit {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        Ok(next.run(event).await?)
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(Handler::builder().middleware(Audit)).await
}
