// A middleware's future must be `Send` (`lambda_runtime` may run it on any thread):
// holding an `Rc` across `next.run(..).await` does not compile.

use std::rc::Rc;

use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
use serde_json::Value;

struct CountCalls;

impl Middleware<Value, Value> for CountCalls {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        let calls = Rc::new(1);
        let response = next.run(event).await?;
        drop(calls);
        Ok(response)
    }
}

fn main() {}
