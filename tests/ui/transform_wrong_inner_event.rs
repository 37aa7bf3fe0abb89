// A transform hands the layers inside it its own inner event type: here `Parse<Order>`
// hands an `Order` to a handler that takes an `Invoice`.

use lambda_middleware::middlewares::Parse;
use lambda_middleware::{Context, Error, Handler};

#[derive(serde::Deserialize)]
struct Order {
    id: u64,
}

struct Invoice {
    number: u64,
}

async fn bill(invoice: Invoice, _: &Context) -> Result<u64, Error> {
    Ok(invoice.number)
}

fn main() {
    let _ = Handler::builder().transform(Parse::<Order>::new()).handler(bill);
}
