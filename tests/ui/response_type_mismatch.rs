// A middleware for `String` responses does not fit a chain whose handler answers
// with a `Value`, even when the event types agree.

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use serde_json::Value;

struct Trim;

impl Middleware<Value, String> for Trim {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, String>, Error>
    where
        I: Invoke<Value, Response = String>,
    {
        Ok(next.run(event).await?.map(|body| body.trim().to_owned()))
    }
}

async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
    Ok(event)
}

fn main() {
    let _ = Handler::builder().middleware(Trim).handler(handler);
}
