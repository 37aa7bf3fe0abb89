// `next` moved into `tokio::spawn`: the rest of the chain borrows this invocation, so it
// cannot run on a task that may outlive it.
use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
use serde_json::Value;

struct Background;

impl Middleware<Value, Value> for Background {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        let task = tokio::spawn(async move { next.run(event).await });
        Ok(task.await??)
    }
}

fn main() {}
