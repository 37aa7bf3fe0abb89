//! A chain in front of an axum `Router`: the crate's built-ins and a tower-http layer
//! around an existing axum app, under `lambda_http`.
//!
//! Run it locally on the bundled API Gateway event (feature `http`):
//!
//! ```sh
//! cargo run --features http --example axum_router
//! ```
//!
//! Deployed behind API Gateway (or under `cargo lambda watch`), `AWS_LAMBDA_RUNTIME_API`
//! is set and the same handler runs under `lambda_http::run`.
//!
//! Which runs first: tower-http's `CompressionLayer`, then `CorrelationId`,
//! `SecurityHeaders`, `Cors` (which answers preflights itself), then the router — and
//! back out in reverse, so the security headers land on every answer (the router's 404s
//! included) and compression sees the final body. Compression goes outside the
//! middlewares that make responses (`Cors`'s preflight answers): they need a body they
//! can build, and tower-http's compressed body is not one.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use lambda_http::{Error, RequestExt};
use lambda_middleware::Handler;
use lambda_middleware::local::LocalFunction;
use lambda_middleware::middlewares::{
    CorrelationId, CorrelationIdParams, Cors, CorsParams, SecurityHeaders, SecurityHeadersParams,
};
use serde_json::{Value, json};
use tower_http::compression::CompressionLayer;

/// `GET /orders/{id}`: the order, or the router's 404.
async fn get_order(Path(id): Path<u32>, request: axum::extract::Request) -> Result<Json<Value>, StatusCode> {
    // The Lambda context is in the request, where `lambda_http::run` put it.
    let has_context = request.lambda_context_ref().is_some();
    match id {
        42 => Ok(Json(
            json!({ "id": id, "item": "mug", "quantity": 2, "has_context": has_context }),
        )),
        _ => Err(StatusCode::NOT_FOUND),
    }
}

/// The app as it would be without Lambda: a plain axum router.
fn app() -> Router {
    Router::new().route("/orders/{id}", get(get_order))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let handler = Handler::builder()
        .layer(CompressionLayer::new())
        .middleware_with(
            CorrelationId,
            CorrelationIdParams::builder()
                .response_header("x-correlation-id")
                .build(),
        )
        .middleware_with(SecurityHeaders, SecurityHeadersParams::builder().build())
        .middleware_with(
            Cors,
            CorsParams::builder()
                .allow_origins(["https://shop.example.com"])
                .build(),
        )
        .service(app())?;

    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        // Logs as Lambda\'s logging controls ask: text or JSON, and the level.
        lambda_middleware::observe::init()?;
        return lambda_http::run(handler).await;
    }
    let event = include_str!("events/axum_router.json");
    let response = LocalFunction::default().invoke_http(&handler, event).await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    Ok(())
}
