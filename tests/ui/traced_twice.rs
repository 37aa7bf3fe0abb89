// A middleware's trace choice is made once: `.traced().untraced()` does not compile.

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

fn main() {
    let _ = Handler::builder().middleware(Audit).traced().untraced();
}
