// A middleware for `u32` events does not fit a chain that ends in a service of
// `serde_json::Value`s.

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
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

fn main() {
    let echo = tower::service_fn(|event: Value| async move { Ok::<Value, Error>(event) });
    let _ = Handler::builder().middleware(Double).service(echo);
}
