// A hook is synchronous: `async` with `(after)` is refused, with the way out.
use lambda_middleware::{middleware, Context, Error};
use serde_json::Value;

#[middleware(after)]
async fn served_by(response: &mut Value, _: &Context) -> Result<(), Error> {
    response["served_by"] = "rust".into();
    Ok(())
}

fn main() {}
