// An `SqsBatch` whose record chain takes another record type than `SqsMessage` (or its
// JSON): refused where the batch is made, not at `lambda_runtime::run(batch)`.
use aws_lambda_events::kinesis::KinesisEventRecord;
use lambda_middleware::middlewares::SqsBatch;
use lambda_middleware::{Context, Error, Handler};

async fn process(_: KinesisEventRecord, _: &Context) -> Result<(), Error> {
    Ok(())
}

fn main() -> Result<(), Error> {
    let _batch = SqsBatch::new(Handler::builder().handler(process)?);
    Ok(())
}
