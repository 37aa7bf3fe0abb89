// Params are shared by every invocation: a `&mut` param is refused.
use lambda_middleware::{middleware, Context, Error};
use serde_json::Value;

#[middleware(after)]
fn count(response: &mut Value, _: &Context, seen: &mut u64) -> Result<(), Error> {
    *seen += 1;
    response["seen"] = (*seen).into();
    Ok(())
}

fn main() {}
