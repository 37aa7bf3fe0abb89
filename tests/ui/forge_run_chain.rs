// Nothing outside the crate can run a chain but `Handler` (which hands out responses,
// not proofs) and a middleware's own `Next`: the tracing modes a chain runs in cannot
// be named, and running one takes a token only the crate can make.

use lambda_middleware::trace::EnvOff;
use lambda_middleware::{Context, Error, Handler};
use lambda_middleware::chain::Chain;

async fn echo(event: u8, _: &Context) -> Result<u8, Error> {
    Ok(event)
}

fn main() {
    let handler = Handler::builder().handler(echo).unwrap();
    let context = Context::default();
    let _ = handler.chain().run_chain::<EnvOff>(1, &context, lambda_middleware::chain::Token(()));
}
