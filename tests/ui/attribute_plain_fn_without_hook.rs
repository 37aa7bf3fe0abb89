// A plain `fn` under `#[middleware]` without saying which hook it is.
use lambda_middleware::{middleware, Context, Error};
use serde_json::Value;

#[middleware]
fn served_by(response: &mut Value, _: &Context) -> Result<(), Error> {
    response["served_by"] = "rust".into();
    Ok(())
}

fn main() {}
