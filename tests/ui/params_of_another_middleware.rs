// `.middleware_with(m, params)` takes `m`'s own params type: another middleware's params
// do not compile.

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use lambda_runtime::LambdaEvent;
use serde_json::Value;
use typed_builder::TypedBuilder;

struct ObfuscateSensitiveData;

#[derive(TypedBuilder)]
struct ObfuscateParams {
    fields: Vec<&'static str>,
}

#[derive(TypedBuilder)]
struct HeaderParams {
    name: &'static str,
}

impl Middleware<Value, Value> for ObfuscateSensitiveData {
    type Params = ObfuscateParams;

    async fn call<'n, I>(&self, _: &ObfuscateParams, event: Value, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        Ok(next.run(event).await?)
    }
}

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(event.payload)
}

fn main() {
    let params = HeaderParams::builder().name("x-request-id").build();
    let _ = Handler::builder()
        .middleware_with(ObfuscateSensitiveData, params)
        .handler(handler);
}
