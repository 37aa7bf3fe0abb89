//! Five built-in middlewares around an API Gateway (REST API) handler: the Lambda
//! context on every log line, a correlation id echoed to the caller, security headers,
//! CORS with preflights answered early, and errors turned into JSON responses.
//!
//! Run it locally on the bundled event (logs go to stderr, the response to stdout):
//!
//! ```sh
//! cargo run --example builtin_api_gateway --features apigw
//! ```
//!
//! Deployed (or under `cargo lambda watch`), `AWS_LAMBDA_RUNTIME_API` is set and the
//! same handler runs under `lambda_runtime`. `examples/events/builtin_api_gateway.*.json`
//! are more requests to try: a booking that does not exist, and a CORS preflight.

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use lambda_middleware::local::LocalFunction;
use lambda_middleware::middlewares::{
    CorrelationId, CorrelationIdParams, CorrelationIdSource, Cors, CorsParams, HttpErrorHandler,
    HttpErrorHandlerParams, InjectLambdaContext, NotFound, SecurityHeaders, SecurityHeadersParams,
};
use lambda_middleware::{Context, Error, Handler};

/// `GET /bookings/{id}`: only booking 42 exists.
async fn get_booking(request: ApiGatewayProxyRequest, _: &Context) -> Result<ApiGatewayProxyResponse, Error> {
    let id = request
        .path_parameters
        .get("id")
        .map(String::as_str)
        .unwrap_or_default();
    tracing::info!(booking = id, "looking up the booking"); // with request_id, correlation_id, cold_start...
    if id != "42" {
        return Err(NotFound::new(format!("no booking {id}")).into()); // a 404, by HttpErrorHandler
    }
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = 200;
    response.headers.insert("content-type", "application/json".parse()?);
    response.body = Some(Body::Text(r#"{"id":42,"guest":"Ada","nights":3}"#.into()));
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        // Text or JSON lines, and the level, as Lambda's logging controls ask.
        lambda_middleware::observe::init()?;
    } else {
        tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    }

    let correlation = CorrelationIdParams::builder()
        .sources([
            CorrelationIdSource::header("x-correlation-id"),
            CorrelationIdSource::request_context_request_id(),
        ])
        .response_header("x-correlation-id")
        .build();
    let cors = CorsParams::builder()
        .allow_origins(["https://app.example.com"])
        .allow_methods(["GET", "DELETE"])
        .max_age(600)
        .build();

    // The first added runs first on the way in and last on the way out.
    let handler = Handler::builder()
        .middleware(InjectLambdaContext) // every log line below carries the context
        .middleware_with(CorrelationId, correlation) // on the span, and echoed on every response
        .middleware_with(SecurityHeaders, SecurityHeadersParams::builder().build())
        .middleware_with(Cors, cors) // preflights are answered here, without the handler
        .middleware_with(HttpErrorHandler, HttpErrorHandlerParams::builder().build()) // errors become responses
        .handler(get_booking)?;

    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return lambda_runtime::run(handler).await;
    }
    let event = include_str!("events/builtin_api_gateway.json");
    let response = LocalFunction::default().invoke_json(&handler, event).await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    Ok(())
}
