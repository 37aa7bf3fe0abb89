//! `CorrelationId`: where the id comes from, what is refused, where it is recorded and
//! echoed.

mod common;

use lambda_middleware::middlewares::{CorrelationId, CorrelationIdFallback, CorrelationIdParams, CorrelationIdSource};
use lambda_middleware::{Context, Error, Handler};
use serde_json::{Value, json};

/// Answers with the `x-correlation-id` header the handler sees.
async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
    tracing::info!("handling");
    Ok(json!({
        "statusCode": 200,
        "headers": {},
        "body": event["headers"]["x-correlation-id"].as_str().unwrap_or("none"),
    }))
}

fn echoing(sources: Vec<CorrelationIdSource>) -> CorrelationIdParams {
    CorrelationIdParams::builder()
        .sources(sources)
        .response_header("X-Correlation-Id")
        .build()
}

async fn run(params: CorrelationIdParams, event: Value) -> Value {
    let handler = Handler::builder()
        .middleware_with(CorrelationId, params)
        .handler(handler)
        .unwrap();
    handler.invoke_with(event, &Context::default()).await.unwrap()
}

fn is_uuid_v4(id: &str) -> bool {
    id.len() == 36 && id.as_bytes()[14] == b'4' && id.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
}

#[tokio::test]
async fn the_header_is_found_in_any_case_and_echoed() {
    let event = json!({ "headers": { "X-CORRELATION-ID": "abc-123" } });
    let response = run(
        CorrelationIdParams::builder()
            .response_header("x-correlation-id")
            .build(),
        event,
    )
    .await;
    assert_eq!(response["headers"]["x-correlation-id"], "abc-123");
    // Found where the handler looks: the header is left as the caller sent it.
    assert_eq!(response["body"], "none");
}

#[tokio::test]
async fn sources_are_tried_in_order_and_the_handler_finds_the_id_in_the_first_header() {
    let sources = vec![
        CorrelationIdSource::header("x-correlation-id"),
        CorrelationIdSource::pointer("/body/meta/correlationId"),
        CorrelationIdSource::request_context_request_id(),
    ];
    let event = json!({
        "headers": {},
        "body": "{\"meta\":{\"correlationId\":\"from-body\"}}",
        "requestContext": { "requestId": "from-context" },
    });
    let response = run(echoing(sources.clone()), event).await;
    assert_eq!(response["headers"]["X-Correlation-Id"], "from-body");
    assert_eq!(response["body"], "from-body");

    let event = json!({ "headers": null, "body": null, "requestContext": { "requestId": "from-context" } });
    let response = run(echoing(sources), event).await;
    assert_eq!(response["body"], "from-context");
}

#[tokio::test]
async fn a_pointer_to_a_number_uses_its_digits() {
    let sources = vec![CorrelationIdSource::pointer("/detail/orderId")];
    let response = run(echoing(sources), json!({ "detail": { "orderId": 4711 } })).await;
    assert_eq!(response["headers"]["X-Correlation-Id"], "4711");
}

#[tokio::test]
async fn an_id_is_generated_when_no_source_has_one() {
    let response = run(
        echoing(vec![CorrelationIdSource::header("x-correlation-id")]),
        json!({}),
    )
    .await;
    let id = response["headers"]["X-Correlation-Id"].as_str().unwrap();
    assert!(is_uuid_v4(id), "{id}");
    assert_eq!(response["body"], id);

    let params = CorrelationIdParams::builder()
        .fallback(CorrelationIdFallback::LambdaRequestId)
        .response_header("x-correlation-id")
        .build();
    let handler = Handler::builder()
        .middleware_with(CorrelationId, params)
        .handler(handler)
        .unwrap();
    let mut context = Context::default();
    context.request_id = "8f5c7c3e-lambda".into();
    let response = handler.invoke_with(json!({}), &context).await.unwrap();
    assert_eq!(response["headers"]["x-correlation-id"], "8f5c7c3e-lambda");
}

#[tokio::test]
async fn bad_ids_are_refused_and_replaced() {
    let bad_events = [
        json!({ "headers": { "x-correlation-id": "x".repeat(16 * 1024) } }), // oversized
        json!({ "headers": { "x-correlation-id": "a\r\nSet-Cookie: stolen" } }), // header injection
        json!({ "headers": { "x-correlation-id": "" } }),
        json!({ "headers": { "x-correlation-id": "   " } }),
        json!({ "headers": { "x-correlation-id": "ünïcödé" } }),
        json!({ "headers": { "x-correlation-id": 42 } }), // wrong type
        json!({ "headers": "x-correlation-id: abc" }),
        json!({ "multiValueHeaders": { "x-correlation-id": [] } }),
        json!(null),
        json!([1, 2, 3]),
    ];
    for event in bad_events {
        let response = run(
            echoing(vec![CorrelationIdSource::header("x-correlation-id")]),
            event.clone(),
        )
        .await;
        let id = response["headers"]["X-Correlation-Id"].as_str().unwrap();
        assert!(is_uuid_v4(id), "{event}: {id}");
    }
}

#[tokio::test]
async fn a_response_with_no_room_for_headers_is_left_as_it_is() {
    let handler = Handler::builder()
        .middleware_with(CorrelationId, echoing(vec![]))
        .handler(|_: Value, _: &Context| async { Ok::<_, Error>(json!("plain text")) })
        .unwrap();
    let response = handler.invoke_with(json!({}), &Context::default()).await.unwrap();
    assert_eq!(response, json!("plain text"));
}

#[cfg(feature = "apigw")]
#[tokio::test]
async fn typed_api_gateway_events_skip_non_utf8_headers() {
    use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
    use aws_lambda_events::http::HeaderValue;
    use lambda_middleware::middlewares::HttpRequest;

    async fn typed(event: ApiGatewayProxyRequest, _: &Context) -> Result<ApiGatewayProxyResponse, Error> {
        let mut response = ApiGatewayProxyResponse::default();
        response.status_code = 200;
        response.body = event.header("x-correlation-id").map(|id| id.to_owned().into());
        Ok(response)
    }

    let params = CorrelationIdParams::builder()
        .sources([
            CorrelationIdSource::header("x-correlation-id"),
            CorrelationIdSource::pointer("/requestContext/requestId"),
        ])
        .response_header("x-correlation-id")
        .build();
    let handler = Handler::builder()
        .middleware_with(CorrelationId, params)
        .handler(typed)
        .unwrap();

    let mut request: ApiGatewayProxyRequest = serde_json::from_value(json!({
        "httpMethod": "GET",
        "requestContext": { "requestId": "c6af9ac6-7b61", "httpMethod": "GET" },
    }))
    .unwrap();
    request
        .headers
        .insert("x-correlation-id", HeaderValue::from_bytes(b"caf\xe9").unwrap());

    let response = handler.invoke_with(request, &Context::default()).await.unwrap();
    assert_eq!(response.headers["x-correlation-id"], "c6af9ac6-7b61");
    assert_eq!(response.body, Some("c6af9ac6-7b61".to_owned().into()));
}
