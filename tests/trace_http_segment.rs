//! `CaptureHttpHandler`: the handler's segment of an HTTP chain, named after the
//! function, with the HTTP response captured as status and headers (and its body only
//! when it is JSON).
//!
//! A test binary of its own: it sets `AWS_LAMBDA_FUNCTION_NAME` for the process.

mod common;

use common::capture::Capture;
use lambda_middleware::middlewares::{CaptureHttpHandler, CaptureLambdaHandlerParams};
use lambda_middleware::trace::METADATA_TARGET;
use lambda_middleware::{Context, Error, Handler};
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt;

async fn page(request: http::Request<String>, _: &Context) -> Result<http::Response<Vec<u8>>, Error> {
    let response = http::Response::builder()
        .status(200)
        .header("Content-Type", "text/html");
    Ok(match request.uri().path() {
        "/order" => http::Response::builder()
            .status(201)
            .header("Content-Type", "application/json")
            .body(br#"{"order":7}"#.to_vec())?,
        _ => response.body(b"<p>secret page</p>".to_vec())?,
    })
}

fn request(path: &str) -> http::Request<String> {
    http::Request::builder().uri(path).body(String::new()).unwrap()
}

#[tokio::test]
async fn the_segment_is_named_after_the_function_and_captures_status_and_headers() {
    // Set once, before any handler of this binary is built; the only test here.
    unsafe { std::env::set_var("AWS_LAMBDA_FUNCTION_NAME", "orders-api") };
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));

    let handler = Handler::builder()
        .middleware_with(CaptureHttpHandler, CaptureLambdaHandlerParams::builder().build())
        .handler(page)
        .unwrap();
    handler
        .invoke_with(request("/order"), &Context::default())
        .await
        .unwrap();
    handler
        .invoke_with(request("/page"), &Context::default())
        .await
        .unwrap();

    let segments: Vec<_> = capture
        .spans()
        .into_iter()
        .filter(|span| span.name == "lambda_handler")
        .map(|span| span.display_name().to_owned())
        .collect();
    assert_eq!(segments, ["## orders-api", "## orders-api"]);

    let responses: Vec<Value> = capture
        .events()
        .into_iter()
        .filter(|event| event.target == METADATA_TARGET && event.fields["key"] == "orders-api response")
        .map(|event| serde_json::from_str(&event.fields["value"]).unwrap())
        .collect();
    assert_eq!(
        responses,
        [
            json!({ "statusCode": 201, "headers": { "content-type": "application/json" }, "body": { "order": 7 } }),
            json!({ "statusCode": 200, "headers": { "content-type": "text/html" } }), // no HTML in the trace
        ]
    );
}
