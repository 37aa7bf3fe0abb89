// A middleware for `u32` events does not fit a chain whose handler takes `Value`.

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use lambda_runtime::LambdaEvent;
use serde_json::Value;

struct Double;

impl Middleware<u32, u32> for Double {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: u32, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, u32>, Error>
    where
        I: Invoke<u32, Response = u32>,
    {
        Ok(next.run(event * 2).await?)
    }
}

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(event.payload)
}

fn main() {
    let _ = Handler::builder().middleware(Double).handler(handler);
}
