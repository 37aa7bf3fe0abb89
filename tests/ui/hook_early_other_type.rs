// A hook answers early with the chain's own response type only.

use lambda_middleware::hooks::Flow;
use lambda_middleware::{Context, Error, Middleware};
use serde_json::Value;

struct Preflight;

impl Middleware<Value, Value> for Preflight {
    type Params = ();

    fn before(&self, _: &(), _: &mut Value, _: &Context) -> Result<Flow<Value>, Error> {
        Ok(Flow::RespondEarly(204_u16))
    }
}

fn main() {}
