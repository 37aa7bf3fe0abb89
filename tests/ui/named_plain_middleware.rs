//! `.named(..)` names a closure middleware; a middleware type names itself.

use lambda_middleware::middlewares::InjectLambdaContext;
use lambda_middleware::{Context, Error, Handler};

async fn echo(event: u64, _: &Context) -> Result<u64, Error> {
    Ok(event)
}

fn main() {
    let _ = Handler::builder().middleware(InjectLambdaContext).named("context").handler(echo);
}
