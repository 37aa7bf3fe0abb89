//! A Kinesis Data Streams consumer: each record's `data` (base64 JSON) read into a
//! `Click`, and the sequence numbers of the records that failed sent back
//! (`batchItemFailures`) — Powertools' `BatchProcessor(event_type=EventType.KinesisDataStreams)`.
//!
//! Lambda checkpoints at the lowest reported sequence number and sends every record
//! from there again, the processed ones included: keep the record logic idempotent
//! (here it only counts), or stop at the first failure with
//! `.on_failure(OnRecordFailure::SkipRest)`.
//!
//! The bundled batch (`examples/events/kinesis_consumer.json`) has ten records: one
//! `data` is cut short, one click has an empty page (refused), one a user that is not a
//! string. The answer lists those three.
//!
//! ```sh
//! cargo run --example kinesis_consumer --features kinesis
//! ```

use std::sync::atomic::{AtomicU32, Ordering};

use lambda_middleware::local::LocalFunction;
use lambda_middleware::middlewares::{KinesisBatch, KinesisRecordData, Parse};
use lambda_middleware::{Context, Error, Handler};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Click {
    user: String,
    page: String,
}

static COUNTED: AtomicU32 = AtomicU32::new(0);

async fn count(click: Click, _: &Context) -> Result<(), Error> {
    if click.page.is_empty() {
        return Err(format!("a click of {} on no page", click.user).into());
    }
    COUNTED.fetch_add(1, Ordering::SeqCst);
    tracing::info!(user = %click.user, page = %click.page, "counted");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let records = Handler::builder()
        .transform(Parse::<Click>::in_envelope(KinesisRecordData))
        .handler(count)?;
    let batch = KinesisBatch::new(records);

    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        lambda_middleware::observe::init()?;
        return lambda_runtime::run(batch).await;
    }
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let event = include_str!("events/kinesis_consumer.json");
    let response = LocalFunction::new("clicks").invoke_json(&batch, event).await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    eprintln!("{} click(s) counted", COUNTED.load(Ordering::SeqCst));
    Ok(())
}
