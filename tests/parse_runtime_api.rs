//! Raw entry under the real run loop: a chain that takes `serde_json::Value`, with
//! `Parse` inside `HttpErrorHandler`, answers a malformed API Gateway event with a 400
//! (a response post, not an `/error` post), and serves the next invocation. The same
//! event sent to a chain that takes `aws_lambda_events`' typed request fails in the
//! runtime, before any middleware runs: the arrangement the README tells users to
//! avoid when bad input must get an answer.

mod support;

use serde_json::json;
use support::runtime_api::{Outcome, Queued, RuntimeApi, TIMEOUT, serve_function, start_function};

fn good() -> serde_json::Value {
    json!({
        "resource": "/orders",
        "path": "/orders",
        "httpMethod": "POST",
        "headers": { "content-type": "application/json" },
        "requestContext": { "requestId": "apigw-1", "httpMethod": "POST" },
        "body": r#"{"id":7,"quantity":2}"#,
        "isBase64Encoded": false,
    })
}

#[test]
fn a_malformed_event_is_answered_400_and_the_next_one_is_served() {
    let api = RuntimeApi::start();
    // No `requestContext` and a header value with a line break: not an
    // `ApiGatewayProxyRequest` for `aws_lambda_events`, still JSON.
    let mut malformed = good();
    malformed.as_object_mut().unwrap().remove("requestContext");
    malformed["headers"] = json!({ "x-bad": "line\r\nbreak" });
    malformed["body"] = json!(r#"{"id":"seven"}"#);
    api.queue(Queued::json("req-malformed", &malformed));
    api.queue(Queued::raw("req-not-json", "{ this is not json"));
    api.queue(Queued::json("req-good", &good()));
    let mut function = start_function("raw_entry", &api, &[]);

    api.wait_for_posts(3, TIMEOUT, &mut function);
    let posts = api.posts_by_request_id();

    let answered = posts["req-malformed"].response();
    assert_eq!(answered["statusCode"], 400, "{answered}");
    let body: serde_json::Value = serde_json::from_str(answered["body"].as_str().unwrap()).unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("the event does not parse at /body"),
        "{body}"
    );
    // Text that is not JSON at all is not an event of any chain: the runtime reports it.
    assert_eq!(posts["req-not-json"].outcome, Outcome::Error);
    assert_eq!(posts["req-good"].response()["body"], "7 x 2");
    let output = function.output();
    assert!(output.contains("the event does not parse"), "logged: {output}");
}

#[cfg(feature = "apigw")]
#[test]
fn the_same_event_fails_in_the_runtime_for_a_typed_chain() {
    let api = RuntimeApi::start();
    let mut malformed = good();
    malformed["headers"] = json!({ "x-bad": "line\r\nbreak" });
    api.queue(Queued::json("req-malformed", &malformed));
    api.queue(Queued::json("req-good", &good()));
    let mut function = start_function("typed_entry", &api, &[]);

    api.wait_for_posts(2, TIMEOUT, &mut function);
    let posts = api.posts_by_request_id();
    assert_eq!(posts["req-malformed"].outcome, Outcome::Error, "no middleware saw it");
    assert_eq!(posts["req-good"].response()["statusCode"], 200);
}

/// Not a test: the function process the tests above start.
#[test]
#[ignore = "started by the tests above as the function process"]
fn lambda_function() {
    serve_function(1, |name| {
        tracing_subscriber::fmt().with_max_level(tracing::Level::INFO).init();
        async move {
            match name.as_str() {
                "raw_entry" => functions::raw_entry().await,
                #[cfg(feature = "apigw")]
                "typed_entry" => functions::typed_entry().await,
                other => panic!("no function named {other:?}"),
            }
        }
    });
}

mod functions {
    #[cfg(feature = "apigw")]
    use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
    use lambda_middleware::middlewares::{ApiGatewayBody, HttpErrorHandler, HttpErrorHandlerParams, Parse};
    use lambda_middleware::{Context, Error, Handler};
    use serde::Deserialize;
    use serde_json::{Value, json};

    #[derive(Deserialize)]
    struct Order {
        id: u64,
        quantity: u32,
    }

    async fn take_order(order: Order, _: &Context) -> Result<Value, Error> {
        Ok(json!({ "statusCode": 200, "body": format!("{} x {}", order.id, order.quantity) }))
    }

    pub async fn raw_entry() -> Result<(), Error> {
        let handler = Handler::builder()
            .middleware_with(HttpErrorHandler, HttpErrorHandlerParams::builder().build())
            .transform(Parse::<Order>::in_envelope(ApiGatewayBody))
            .handler(take_order)?;
        lambda_runtime::run(handler).await
    }

    #[cfg(feature = "apigw")]
    async fn typed(_: ApiGatewayProxyRequest, _: &Context) -> Result<ApiGatewayProxyResponse, Error> {
        let mut response = ApiGatewayProxyResponse::default();
        response.status_code = 200;
        Ok(response)
    }

    #[cfg(feature = "apigw")]
    pub async fn typed_entry() -> Result<(), Error> {
        let handler = Handler::builder()
            .middleware_with(HttpErrorHandler, HttpErrorHandlerParams::builder().build())
            .handler(typed)?;
        lambda_runtime::run(handler).await
    }
}
