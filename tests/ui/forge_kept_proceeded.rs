// A proof kept from one invocation cannot answer a later one: `Proceeded<'n, R>` is
// branded with the call that made it, and a field can only hold one of another brand
// (`'static` here, or a lifetime of the middleware's type), which `call` can neither
// store nor return as its own.

use std::sync::Mutex;

use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
use serde_json::Value;

struct Replay {
    kept: Mutex<Option<Proceeded<'static, Value>>>,
}

impl Middleware<Value, Value> for Replay {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        if let Some(earlier) = self.kept.lock().unwrap().take() {
            return Ok(earlier);
        }
        let response = next.run(event).await?;
        *self.kept.lock().unwrap() = Some(response);
        Err("kept for later".into())
    }
}

fn main() {}
