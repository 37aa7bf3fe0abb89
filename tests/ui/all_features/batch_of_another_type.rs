// An `SqsBatch` whose chain takes another event than `SqsMessage`: refused where the
// batch is made, not at `lambda_runtime::run(batch)`.
use lambda_middleware::middlewares::SqsBatch;
use lambda_middleware::{Context, Error, Handler};
use serde_json::Value;

async fn process(_: Value, _: &Context) -> Result<(), Error> {
    Ok(())
}

fn main() -> Result<(), Error> {
    let _batch = SqsBatch::new(Handler::builder().handler(process)?);
    Ok(())
}
