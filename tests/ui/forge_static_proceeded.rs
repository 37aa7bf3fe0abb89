// A proof kept in a `static` cannot answer a later invocation: a `static` can only
// hold a `Proceeded<'static, R>`, and `call` returns `Proceeded<'n, R>` of its own `'n`.

use std::sync::Mutex;

use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
use serde_json::Value;

struct Replay;

static KEPT: Mutex<Option<Proceeded<'static, Value>>> = Mutex::new(None);

impl Middleware<Value, Value> for Replay {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        if let Some(earlier) = KEPT.lock().unwrap().take() {
            return Ok(earlier);
        }
        let response = next.run(event).await?;
        *KEPT.lock().unwrap() = Some(response);
        Err("kept for later".into())
    }
}

fn main() {}
