//! Quickstart: a handler with three middlewares, run once on a bundled event.
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! It prints the response, then a waterfall of the spans the invocation made — the
//! picture X-Ray shows for a trace, in the terminal. `ValidateOrder` is traced (with
//! `.traced()`), so it appears as `## ValidateOrder`, with the handler's own span
//! nested inside it; the other two middlewares are not traced and do not appear.
//!
//! Deployed (or under `cargo lambda watch`), `AWS_LAMBDA_RUNTIME_API` is set: the same
//! handler runs under `lambda_runtime`, logging as Lambda's logging controls ask
//! (`lambda_middleware::observe::init`).
//! With `--features xray` the spans also reach X-Ray as subsegments (`## ValidateOrder`
//! and `## handler`), under the runtime and locally: with a sampled `_X_AMZN_TRACE_ID`
//! and something listening on UDP 127.0.0.1:2000 (see `middleware_trace_execution`).

mod waterfall;

use std::time::Duration;

use lambda_middleware::local::LocalFunction;
use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use serde::{Deserialize, Serialize};
use tracing::{Instrument, info_span};
use tracing_subscriber::layer::SubscriberExt;
use typed_builder::TypedBuilder;
use waterfall::Waterfall;

#[derive(Debug, Deserialize, Serialize)]
struct Order {
    order_id: String,
    #[serde(default)]
    correlation_id: Option<String>,
    items: Vec<Item>,
}

#[derive(Debug, Deserialize, Serialize)]
struct Item {
    sku: String,
    quantity: u32,
    unit_price_cents: u64,
}

#[derive(Debug, Default, Serialize)]
struct Receipt {
    order_id: String,
    status: &'static str,
    subtotal_cents: u64,
    discount_cents: u64,
    total_cents: u64,
    correlation_id: String,
}

/// Outermost: every receipt carries the correlation id of the order (or, without
/// one, the request id), so logs of one request can be found together.
struct CorrelationId;

impl Middleware<Order, Receipt> for CorrelationId {
    type Params = ();

    async fn call<'n, I>(
        &self,
        _: &(),
        order: Order,
        ctx: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, Receipt>, Error>
    where
        I: Invoke<Order, Response = Receipt>,
    {
        let correlation_id = order.correlation_id.clone().unwrap_or_else(|| ctx.request_id.clone());
        let mut receipt = next.run(order).await?;
        receipt.response_mut().correlation_id = correlation_id;
        Ok(receipt)
    }
}

/// Before the handler: an order with no items, or an item of quantity zero, is refused.
struct ValidateOrder;

impl Middleware<Order, Receipt> for ValidateOrder {
    type Params = ();

    async fn call<'n, I>(
        &self,
        _: &(),
        order: Order,
        _: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, Receipt>, Error>
    where
        I: Invoke<Order, Response = Receipt>,
    {
        if order.items.is_empty() {
            return Err(format!("order {} has no items", order.order_id).into());
        }
        if let Some(item) = order.items.iter().find(|item| item.quantity == 0) {
            return Err(format!("order {}: item {} has quantity 0", order.order_id, item.sku).into());
        }
        // Say, a look-up of the customer's account.
        tokio::time::sleep(Duration::from_millis(3)).await;
        Ok(next.run(order).await?)
    }
}

/// After the handler: takes a percentage off the total.
struct Discount;

#[derive(TypedBuilder)]
struct DiscountParams {
    /// Required: `DiscountParams::builder().build()` does not compile without it.
    percent: u64,
    /// Orders below this subtotal get no discount.
    #[builder(default = 0)]
    minimum_cents: u64,
}

impl Middleware<Order, Receipt> for Discount {
    type Params = DiscountParams;

    async fn call<'n, I>(
        &self,
        params: &DiscountParams,
        order: Order,
        _: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, Receipt>, Error>
    where
        I: Invoke<Order, Response = Receipt>,
    {
        let mut receipt = next.run(order).await?;
        let receipt_mut = receipt.response_mut();
        if receipt_mut.subtotal_cents >= params.minimum_cents {
            receipt_mut.discount_cents = receipt_mut.subtotal_cents * params.percent / 100;
            receipt_mut.total_cents = receipt_mut.subtotal_cents - receipt_mut.discount_cents;
        }
        Ok(receipt)
    }
}

async fn handler(order: Order, _: &Context) -> Result<Receipt, Error> {
    async {
        // Say, storing the order.
        tokio::time::sleep(Duration::from_millis(8)).await;
        let subtotal_cents = order
            .items
            .iter()
            .map(|item| u64::from(item.quantity) * item.unit_price_cents)
            .sum();
        Ok(Receipt {
            order_id: order.order_id,
            status: "accepted",
            subtotal_cents,
            total_cents: subtotal_cents,
            ..Receipt::default()
        })
    }
    .instrument(info_span!("handler", otel.name = "## handler"))
    .await
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let on_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    // Tracing. With the `xray` feature, every span goes to the X-Ray daemon as a
    // subsegment whenever there is a trace header, under the runtime and locally alike.
    // Under the runtime, the logs are what Lambda's logging controls ask for (text or
    // JSON, and the level: INFO unless set); locally, the waterfall printed below.
    let waterfall = Waterfall::new();
    if on_lambda {
        lambda_middleware::observe::init()?;
    } else {
        let subscriber = tracing_subscriber::registry().with(waterfall.clone());
        #[cfg(feature = "xray")]
        let subscriber = subscriber.with(lambda_middleware::trace::xray::XrayLayer::from_env());
        tracing::subscriber::set_global_default(subscriber)?;
    }

    let handler = Handler::builder()
        .middleware(CorrelationId)
        .middleware(ValidateOrder)
        .traced()
        .middleware_with(
            Discount,
            DiscountParams::builder().percent(10).minimum_cents(2_000).build(),
        )
        .handler(handler)?;

    if on_lambda {
        return lambda_runtime::run(handler).await;
    }

    let event = include_str!("../events/quickstart.json");
    let invocation = info_span!("invocation", otel.name = "quickstart invocation");
    let response = LocalFunction::new("quickstart")
        .invoke_json(&handler, event)
        .instrument(invocation)
        .await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    for trace in waterfall.take() {
        println!("\n{trace}");
    }
    Ok(())
}
