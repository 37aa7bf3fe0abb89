// A handler is an `async fn` returning `Result<R, lambda_runtime::Error>`; a plain
// function returning the response is not one.

use lambda_middleware::Handler;
use lambda_runtime::LambdaEvent;
use serde_json::Value;

fn handler(event: LambdaEvent<Value>) -> Value {
    event.payload
}

fn main() {
    let _ = Handler::builder().handler(handler);
}
