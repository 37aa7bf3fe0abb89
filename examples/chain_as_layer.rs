//! A chain as one layer of an existing tower stack: an axum app with tower-http layers,
//! and the crate's middlewares dropped in between them with `into_layer`.
//!
//! Run it locally on the bundled API Gateway event (feature `http`):
//!
//! ```sh
//! cargo run --features http --example chain_as_layer
//! ```
//!
//! Deployed behind API Gateway (or under `cargo lambda watch`), `AWS_LAMBDA_RUNTIME_API`
//! is set and the same stack runs under `lambda_http::run`.
//!
//! Which runs first: as everywhere in tower, the layer added first to the
//! `ServiceBuilder` is the outermost. So `SetResponseHeaderLayer`, then the chain's
//! middlewares in the order they were added (`InjectLambdaContext`, `SecurityHeaders`),
//! then `TimeoutLayer`, then the router — and back out in reverse.

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::routing::get;
use lambda_http::Error;
use lambda_middleware::Handler;
use lambda_middleware::local::LocalFunction;
use lambda_middleware::middlewares::{InjectLambdaContext, SecurityHeaders, SecurityHeadersParams};
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

/// `GET /health`: the app's own route.
fn app() -> Router {
    Router::new().route("/health", get(|| async { "ok" }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // The crate's middlewares, checked against the router's request and response types.
    let chain = Handler::builder()
        .middleware(InjectLambdaContext)
        .middleware_with(SecurityHeaders, SecurityHeadersParams::builder().build())
        .into_layer()?;

    // The stack as it was, with the chain as one more layer.
    let service = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::if_not_present(
            header::SERVER,
            HeaderValue::from_static("orders-api"),
        ))
        .layer(chain)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(5),
        ))
        .service(app());

    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        // Logs as Lambda\'s logging controls ask: text or JSON, and the level.
        lambda_middleware::observe::init()?;
        return lambda_http::run(service).await;
    }
    let event = include_str!("events/chain_as_layer.json");
    let response = LocalFunction::default().invoke_http(&service, event).await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    Ok(())
}
