// An `async fn` middleware must return the proof `next` gives back.
use lambda_middleware::{middleware, Context, Error, Next};
use serde_json::Value;

#[middleware]
async fn timing(event: Value, _: &Context, next: Next) -> Result<Value, Error> {
    Ok(next.run(event).await?.into_response())
}

fn main() {}
