//! OpenTelemetry: the handler's `## get_product` span and the traced middleware's
//! `## validate_product` span, with their annotations as attributes, exported over OTLP
//! (HTTP, JSON bodies) to a collector you run — the AWS Distro for OpenTelemetry
//! (ADOT) Lambda layer in a function, any OpenTelemetry Collector (or Jaeger) on your
//! machine. The endpoint comes from the standard `OTEL_EXPORTER_OTLP_ENDPOINT`
//! (default `http://localhost:4318`, where ADOT's collector listens); the service name
//! from `OTEL_SERVICE_NAME`.
//!
//! ```sh
//! docker run -p 4318:4318 -p 16686:16686 jaegertracing/all-in-one   # a collector with a UI on :16686
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 cargo run --features opentelemetry --example trace_opentelemetry
//! ```
//!
//! Locally it runs once on its bundled event and flushes the spans before it exits.
//! Deployed (`AWS_LAMBDA_RUNTIME_API` set), it runs under `lambda_runtime` with its
//! `OpenTelemetryLayer`, which opens the invocation's span (`faas.*` attributes, the
//! parent of the spans here) and flushes the provider after every invocation, before
//! Lambda freezes the process: spans batched but not yet sent would otherwise wait
//! for the next invocation, or be lost.

use lambda_middleware::local::LocalFunction;
use lambda_middleware::middlewares::{CaptureLambdaHandler, CaptureLambdaHandlerParams};
use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded, Tracer};
use lambda_runtime::Runtime;
use lambda_runtime::layers::{OpenTelemetryFaasTrigger, OpenTelemetryLayer};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

static TRACER: Tracer = Tracer::new();

/// Refuses a request without a product id; traced, with the id as an annotation.
struct ValidateProduct;

impl Middleware<Value, Value> for ValidateProduct {
    type Params = ();
    const TRACE_EXECUTION: Option<bool> = Some(true);

    fn name(&self) -> &'static str {
        "validate_product"
    }

    async fn call<'n, I>(
        &self,
        _: &(),
        event: Value,
        _: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        let Some(id) = event["pathParameters"]["id"].as_str() else {
            return Ok(next.respond_early(json!({ "statusCode": 400, "body": "no product id" })));
        };
        TRACER.put_annotation("ProductId", id); // an attribute of `## validate_product`
        Ok(next.run(event).await?)
    }
}

async fn get_product(event: Value, _: &Context) -> Result<Value, Error> {
    let id = &event["pathParameters"]["id"];
    Ok(json!({ "statusCode": 200, "body": json!({ "id": id, "title": "Lash Princess" }).to_string() }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Tracing: spans to the OTLP endpoint, batched on the exporter's own thread.
    let exporter = opentelemetry_otlp::SpanExporter::builder().with_http().build()?;
    let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("trace_opentelemetry"));
    // Under the runtime, the logs too, as Lambda's logging controls ask (text or JSON,
    // and the level); the spans go through OpenTelemetry only.
    let on_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let logs = match on_lambda {
        true => {
            let setup = lambda_middleware::observe::Setup::from_env()?;
            #[cfg(feature = "xray")]
            let setup = setup.xray(false);
            Some(setup.layer())
        }
        false => None,
    };
    tracing_subscriber::registry().with(logs).with(otel).init();

    let handler = Handler::builder()
        .middleware_with(
            CaptureLambdaHandler,
            CaptureLambdaHandlerParams::builder().name("get_product").build(),
        )
        .middleware(ValidateProduct)
        .handler(get_product)?;

    if on_lambda {
        let flush = provider.clone();
        let after_each_invocation = move || {
            if let Err(error) = flush.force_flush() {
                eprintln!("spans not exported: {error}");
            }
        };
        let otel = OpenTelemetryLayer::new(after_each_invocation).with_trigger(OpenTelemetryFaasTrigger::Http);
        return Runtime::new(handler).layer(otel).run().await;
    }

    let event = include_str!("events/trace_opentelemetry.json");
    let response = LocalFunction::new("trace_opentelemetry")
        .invoke_json(&handler, event)
        .await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    // Exports what is still batched, and stops the exporter's thread.
    provider.shutdown()?;
    Ok(())
}
