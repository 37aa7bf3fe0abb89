//! A `Transform` added with `.middleware(..)`: the message says to use `.transform(..)`.

use lambda_middleware::middlewares::Parse;
use lambda_middleware::{Context, Error, Handler};

#[derive(serde::Deserialize)]
struct Order {
    id: u64,
}

async fn bill(order: Order, _: &Context) -> Result<u64, Error> {
    Ok(order.id)
}

fn main() {
    let _ = Handler::builder().middleware(Parse::<Order>::new()).handler(bill);
}
