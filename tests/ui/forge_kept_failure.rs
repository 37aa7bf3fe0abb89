// A `Failure` kept from one invocation cannot be recovered in a later one: it carries
// the brand of the call whose `next` failed, and `recover` makes a proof of that brand.

use std::sync::Mutex;

use lambda_middleware::{Context, Error, Failure, Invoke, Middleware, Next, Proceeded};
use serde_json::{Value, json};

struct RecoverLater {
    kept: Mutex<Option<Failure<'static, Value>>>,
}

impl Middleware<Value, Value> for RecoverLater {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        if let Some(earlier) = self.kept.lock().unwrap().take() {
            return Ok(earlier.recover(json!({ "statusCode": 200 })));
        }
        match next.run(event).await {
            Ok(response) => Ok(response),
            Err(failure) => {
                *self.kept.lock().unwrap() = Some(failure);
                Err("failed once".into())
            }
        }
    }
}

fn main() {}
