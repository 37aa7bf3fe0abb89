// A builder without a handler function has nothing to run: it has no `invoke`.

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};

struct Audit;

impl Middleware<Value, Value> for Audit {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        Ok(next.run(event).await?)
    }
}

#[tokio::main]
async fn main() {
    let handler = Handler::builder().middleware(Audit);
    let _ = handler.invoke(LambdaEvent::new(json!({}), Context::default())).await;
}
