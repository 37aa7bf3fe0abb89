// `Proceeded` does not implement `Clone`: one run of the chain is one proof, which
// cannot be kept to answer later invocations without running the handler.

use std::sync::Mutex;

use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
use serde_json::Value;

struct Cache {
    last: Mutex<Option<Proceeded<'static, Value>>>,
}

impl Middleware<Value, Value> for Cache {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        let response = next.run(event).await?;
        *self.last.lock().unwrap() = Some(response.clone());
        Ok(response)
    }
}

fn main() {}
