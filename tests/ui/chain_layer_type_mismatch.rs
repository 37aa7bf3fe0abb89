// The middlewares of a `ChainLayer` are checked against the service the layer is for:
// a middleware of `u32` events does not fit a layer for a service of `String`s.

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};

#[derive(Clone)]
struct Double;

impl Middleware<u32, u32> for Double {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: u32, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, u32>, Error>
    where
        I: Invoke<u32, Response = u32>,
    {
        Ok(next.run(event * 2).await?)
    }
}

fn main() {
    let _ = Handler::builder().middleware(Double).into_layer::<String, String>();
}
