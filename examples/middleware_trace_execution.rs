//! Tracing middleware execution: a middleware that asks to be traced runs inside a
//! `## middleware_with_tracing` span, and the handler's own span nests under it.
//!
//! Run it locally on the bundled event; the response goes to stdout, the span tree
//! with durations to stderr:
//!
//! ```sh
//! cargo run --example middleware_trace_execution
//! ```
//!
//! ```text
//! ## middleware_with_tracing  5.4ms
//! └─ fetch_product  5.2ms
//! ```
//!
//! `ValidateRequest` has no span: it did not ask for one. Set
//! `POWERTOOLS_TRACE_MIDDLEWARES=true` to trace every middleware that made no choice,
//! and it appears as `## ValidateRequest`.
//!
//! Deployed, `AWS_LAMBDA_RUNTIME_API` is set and the same handler runs under
//! `lambda_runtime`, logging to CloudWatch; built with `--features xray` and with
//! Active Tracing on, the spans reach X-Ray as subsegments.
//!
//! To see the subsegments locally, start a stand-in for the X-Ray daemon that prints
//! what it receives, and run the example with a sampled trace header:
//!
//! ```sh
//! python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 2000)); [print(s.recv(65535).decode(), flush=True) for _ in iter(int, 1)]' &
//! _X_AMZN_TRACE_ID='Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' \
//!   cargo run --features xray --example middleware_trace_execution
//! ```

use std::fmt::{self, Write as _};
use std::time::{Duration, Instant};

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Instrument, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// Powertools' `@lambda_handler_decorator(trace_execution=True)`: traced unless the
/// builder says otherwise.
struct MiddlewareWithTracing;

impl Middleware<Value, Value> for MiddlewareWithTracing {
    type Params = ();
    const TRACE_EXECUTION: Option<bool> = Some(true);

    fn name(&self) -> &'static str {
        "middleware_with_tracing"
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
        let mut response = next.run(event).await?;
        response.response_mut()["headers"]["aws_request_id"] = json!(ctx.request_id);
        Ok(response)
    }
}

/// No tracing choice of its own: `POWERTOOLS_TRACE_MIDDLEWARES` decides.
struct ValidateRequest;

impl Middleware<Value, Value> for ValidateRequest {
    type Params = ();

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
        if event["httpMethod"] != "GET" {
            return Ok(next.respond_early(json!({ "statusCode": 405, "headers": {}, "body": "" })));
        }
        Ok(next.run(event).await?)
    }
}

async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
    let id = event["pathParameters"]["id"].as_str().unwrap_or("1").to_owned();
    let product = async {
        tokio::time::sleep(Duration::from_millis(5)).await; // the product service
        json!({ "id": id, "title": "Essence Mascara Lash Princess", "price": 9.99 })
    }
    .instrument(tracing::info_span!("fetch_product", product.id = %id))
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
    // JSON, and the level: INFO unless set); locally, the span tree.
    if on_lambda {
        lambda_middleware::observe::init()?;
    } else {
        let subscriber = tracing_subscriber::registry().with(SpanTree);
        #[cfg(feature = "xray")]
        let subscriber = subscriber.with(lambda_middleware::trace::xray::XrayLayer::from_env());
        subscriber.init();
    }

    let handler = Handler::builder()
        .middleware(MiddlewareWithTracing)
        .middleware(ValidateRequest)
        .handler(handler)?;
    if on_lambda {
        return lambda_runtime::run(handler).await;
    }

    let event = serde_json::from_str(include_str!("events/middleware_trace_execution.json"))?;
    let mut context = Context::default();
    context.request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef".into();
    let response = handler.invoke(LambdaEvent::new(event, context)).await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    Ok(())
}

/// Prints each finished span tree to stderr, with durations: a local stand-in for
/// the X-Ray console's timeline.
struct SpanTree;

/// A span being timed, and the spans that finished inside it.
struct Timing {
    name: String,
    started: Instant,
    children: Vec<Finished>,
}

struct Finished {
    name: String,
    took: Duration,
    children: Vec<Finished>,
}

/// A traced middleware's span is named `middleware`; its `otel.name` field holds the
/// `## name` to show.
struct OtelName(Option<String>);

impl Visit for OtelName {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "otel.name" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

impl<S> Layer<S> for SpanTree
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let mut name = OtelName(None);
        attrs.record(&mut name);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Timing {
                name: name.0.unwrap_or_else(|| attrs.metadata().name().to_owned()),
                started: Instant::now(),
                children: Vec::new(),
            });
        }
    }

    fn on_close(&self, id: Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(timing) = span.extensions_mut().remove::<Timing>() else {
            return;
        };
        let mut finished = Some(Finished {
            took: timing.started.elapsed(),
            name: timing.name,
            children: timing.children,
        });
        if let Some(parent) = span.parent() {
            if let Some(timing) = parent.extensions_mut().get_mut::<Timing>() {
                timing.children.extend(finished.take());
            }
        }
        if let Some(root) = finished {
            let mut tree = String::new();
            render(&root, "", None, &mut tree);
            eprint!("{tree}");
        }
    }
}

/// `## name  1.2ms`, its children below it with `├─` / `└─`. `last` is `None` for the root.
fn render(node: &Finished, prefix: &str, last: Option<bool>, out: &mut String) {
    let branch = match last {
        None => "",
        Some(true) => "└─ ",
        Some(false) => "├─ ",
    };
    let _ = writeln!(out, "{prefix}{branch}{}  {:.1?}", node.name, node.took);
    let prefix = match last {
        None => String::new(),
        Some(true) => format!("{prefix}   "),
        Some(false) => format!("{prefix}│  "),
    };
    for (i, child) in node.children.iter().enumerate() {
        render(child, &prefix, Some(i + 1 == node.children.len()), out);
    }
}
