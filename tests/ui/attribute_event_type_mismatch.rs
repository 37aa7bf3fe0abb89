// A `#[middleware]` hook for one event type before a handler of another.
use lambda_middleware::{middleware, Context, Error, Handler};
use serde_json::Value;

#[middleware(before)]
fn trim(event: &mut String, _: &Context) -> Result<(), Error> {
    *event = event.trim().to_owned();
    Ok(())
}

async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
    Ok(event)
}

fn main() {
    let _ = Handler::builder().middleware(Trim).handler(handler);
}
