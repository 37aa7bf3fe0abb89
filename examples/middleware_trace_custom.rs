//! Custom tracing inside a middleware, as in Powertools' "advanced tracing" example:
//! the metadata `resource` before the handler, the annotation `TotalExecutionTime`
//! after it, both on the middleware's `## middleware_with_advanced_tracing` span.
//!
//! Run it locally on the bundled event; the response goes to stdout, and the spans,
//! annotations and metadata as `tracing` logs to stderr:
//!
//! ```sh
//! cargo run --example middleware_trace_custom
//! ```
//!
//! Deployed with `--features xray` and Active Tracing on, the `## name` subsegment in
//! X-Ray carries the annotation (searchable: `annotation.TotalExecutionTime > 0.5`)
//! and the metadata under the service's namespace (`POWERTOOLS_SERVICE_NAME`).
//! Locally, with a sampled `_X_AMZN_TRACE_ID` and something listening on UDP
//! 127.0.0.1:2000 (see `middleware_trace_execution`), the same subsegments are sent.

use std::time::{Duration, Instant};

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded, Tracer};
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use tracing::Instrument;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::{self, format::FmtSpan};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

static TRACER: Tracer = Tracer::new();

struct MiddlewareWithAdvancedTracing;

impl Middleware<Value, Value> for MiddlewareWithAdvancedTracing {
    type Params = ();
    const TRACE_EXECUTION: Option<bool> = Some(true);

    fn name(&self) -> &'static str {
        "middleware_with_advanced_tracing"
    }

    async fn call<'n, I>(
        &self,
        _: &(),
        event: Value,
        ctx: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        TRACER.put_metadata("resource", &event["resource"]);

        let started = Instant::now();
        let mut response = next.run(event).await?;
        TRACER.put_annotation("TotalExecutionTime", started.elapsed().as_secs_f64());

        response.response_mut()["headers"]["aws_request_id"] = json!(ctx.request_id);
        Ok(response)
    }
}

async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
    let id = event["pathParameters"]["id"].as_str().unwrap_or("1").to_owned();
    let product = async {
        tokio::time::sleep(Duration::from_millis(5)).await; // the product service
        // Annotations and metadata go to the current span: here, `fetch_product`.
        TRACER.put_annotation("ProductId", id.as_str());
        json!({ "id": id, "title": "Essence Mascara Lash Princess", "price": 9.99 })
    }
    .instrument(tracing::info_span!("fetch_product"))
    .await;
    Ok(json!({
        "statusCode": 200,
        "headers": { "content-type": "application/json" },
        "body": json!({ "product": product }).to_string(),
    }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let on_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    // Tracing. With the `xray` feature, every span goes to the X-Ray daemon as a
    // subsegment whenever there is a trace header, under the runtime and locally alike.
    // Under the runtime, the logs are what Lambda's logging controls ask for (text or
    // JSON, and the level: INFO unless set); locally, to stderr, every span as it closes
    // with its time and, at DEBUG, each annotation and metadata entry.
    if on_lambda {
        lambda_middleware::observe::init()?;
    } else {
        let local = fmt::layer()
            .with_span_events(FmtSpan::CLOSE)
            .with_writer(std::io::stderr)
            .with_filter(LevelFilter::DEBUG);
        let subscriber = tracing_subscriber::registry().with(local);
        #[cfg(feature = "xray")]
        let subscriber = subscriber.with(lambda_middleware::trace::xray::XrayLayer::from_env());
        subscriber.init();
    }

    let handler = Handler::builder()
        .middleware(MiddlewareWithAdvancedTracing)
        .handler(handler)?;
    if on_lambda {
        return lambda_runtime::run(handler).await;
    }

    let event = serde_json::from_str(include_str!("events/middleware_trace_custom.json"))?;
    let mut context = Context::default();
    context.request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef".into();
    let response = handler.invoke(LambdaEvent::new(event, context)).await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    Ok(())
}
