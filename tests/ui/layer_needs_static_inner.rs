// A tower layer that spawns its inner service onto a task of its own (tower's `Buffer`)
// needs that service to be `'static`; the rest of a chain borrows the invocation, so
// such a layer cannot sit inside a chain (it can go around it, as a `ChainLayer`).
use lambda_middleware::{Context, Error, Handler};

async fn echo(event: u64, _: &Context) -> Result<u64, Error> {
    Ok(event)
}

fn main() {
    let _ = Handler::builder()
        .layer(tower::buffer::BufferLayer::<u64>::new(8))
        .handler(echo);
}
