// The middlewares of a `ChainLayer` must be `Clone`: tower makes a chain for each
// service the layer wraps.

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};

struct Audit;

impl Middleware<u32, u32> for Audit {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: u32, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, u32>, Error>
    where
        I: Invoke<u32, Response = u32>,
    {
        Ok(next.run(event).await?)
    }
}

fn main() {
    let _ = Handler::builder().middleware(Audit).into_layer::<u32, u32>();
}
