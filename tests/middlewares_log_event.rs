//! `LogEvent`: what reaches the log, what never does, and what happens with events
//! that are too large or cannot be serialized.

mod common;

use std::collections::HashMap;

use common::capture::{Capture, EventRecord};
use lambda_middleware::middlewares::{LogEvent, LogEventParams};
use lambda_middleware::{Context, Error, Handler};
use serde_json::{Value, json};
use tracing::Level;
use tracing::subscriber::DefaultGuard;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;

fn capture(level: LevelFilter) -> (Capture, DefaultGuard) {
    let capture = Capture::default();
    let guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone().with_filter(level)));
    (capture, guard)
}

fn logged(capture: &Capture, message: &str) -> Vec<EventRecord> {
    capture
        .events()
        .into_iter()
        .filter(|event| event.fields.get("message").map(String::as_str) == Some(message))
        .collect()
}

async fn echo(event: Value, _: &Context) -> Result<Value, Error> {
    Ok(json!({ "statusCode": 200, "body": event.to_string() }))
}

const SECRETS: [&str; 5] = [
    "ada@example.com",
    "4111111111111111",
    "grace@example.com",
    "hunter2",
    "X1234567",
];

fn booking() -> Value {
    json!({
        "detail-type": "BookingCreated",
        "detail": {
            "guest": { "name": "Ada", "email": "ada@example.com", "passport": "X1234567" },
            "cards": [{ "number": "4111111111111111", "cvc": 123 }],
            "companions": [{ "name": "Grace", "email": "grace@example.com" }],
        },
        "body": "{\"login\":{\"user\":\"ada\",\"password\":\"hunter2\"}}",
    })
}

#[tokio::test]
async fn redacted_values_never_reach_the_log_in_the_event_or_the_response() {
    let (capture, _guard) = capture(LevelFilter::TRACE);
    let params = LogEventParams::builder()
        .redact([
            "/detail/guest/email",
            "/detail/guest/passport",
            "/detail/cards/*/number",
            "/detail/companions/*/email",
            "/body/login/password",
            // The response carries the event again, as a JSON string in `body`.
            "/body/detail/guest",
            "/body/detail/cards",
            "/body/detail/companions/*/email",
            "/body/body",
        ])
        .log_response(true)
        .build();
    let handler = Handler::builder()
        .middleware_with(LogEvent, params)
        .handler(echo)
        .unwrap();

    let response = handler.invoke_with(booking(), &Context::default()).await.unwrap();
    // The handler got the real values: only the log is redacted.
    assert!(response["body"].as_str().unwrap().contains("ada@example.com"));

    let events = capture.events();
    assert!(!events.is_empty());
    for event in &events {
        for (name, value) in &event.fields {
            for secret in SECRETS {
                assert!(!value.contains(secret), "{secret} leaked in {name}: {value}");
            }
        }
    }

    let event = &logged(&capture, "lambda event")[0];
    let logged_event: Value = serde_json::from_str(&event.fields["event"]).unwrap();
    assert_eq!(
        logged_event["detail"]["guest"],
        json!({ "name": "Ada", "email": "*****", "passport": "*****" })
    );
    assert_eq!(
        logged_event["detail"]["cards"],
        json!([{ "number": "*****", "cvc": 123 }])
    );
    let body: Value = serde_json::from_str(logged_event["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({ "login": { "user": "ada", "password": "*****" } }));
    assert_eq!(event.fields["truncated_bytes"], "0");
    assert_eq!(event.level, Level::INFO);

    let response = &logged(&capture, "lambda response")[0];
    assert!(
        response.fields["response"].contains("\\\"guest\\\":\\\"*****\\\""),
        "{response:?}"
    );
}

#[tokio::test]
async fn a_six_megabyte_event_is_logged_truncated_with_the_count_of_dropped_bytes() {
    let (capture, _guard) = capture(LevelFilter::TRACE);
    let params = LogEventParams::builder().max_bytes(1000).build();
    let handler = Handler::builder()
        .middleware_with(LogEvent, params)
        .handler(echo)
        .unwrap();

    // Multi-byte characters, so that the cap falls inside one.
    let event = json!({ "body": "日本".repeat(1024 * 1024) });
    let total = event.to_string().len();
    assert!(total > 6_000_000);
    handler.invoke_with(event, &Context::default()).await.unwrap();

    let line = &logged(&capture, "lambda event")[0];
    let text = &line.fields["event"];
    assert!(text.len() <= 1000 && text.len() > 990, "{}", text.len());
    assert!(text.starts_with(r#"{"body":"日本"#));
    assert_eq!(line.fields["bytes"], total.to_string());
    assert_eq!(line.fields["truncated_bytes"], (total - text.len()).to_string());
}

#[tokio::test]
async fn an_event_that_cannot_be_serialized_is_a_warning_and_the_handler_still_runs() {
    let (capture, _guard) = capture(LevelFilter::TRACE);
    let handler = Handler::builder()
        .middleware_with(LogEvent, LogEventParams::builder().build())
        .handler(|event: lambda_runtime::LambdaEvent<HashMap<Vec<u8>, u8>>| async move {
            Ok::<_, Error>(event.payload.len())
        })
        .unwrap();

    let mut map = HashMap::new();
    map.insert(vec![1, 2], 3); // JSON object keys must be strings
    let event = lambda_runtime::LambdaEvent::new(map, Context::default());
    assert_eq!(handler.invoke(event).await.unwrap(), 1);

    let warning = &logged(&capture, "the event could not be serialized for logging")[0];
    assert_eq!(warning.level, Level::WARN);
    assert!(warning.fields["error"].contains("key must be a string"), "{warning:?}");
}

#[tokio::test]
async fn pointers_through_the_wrong_types_change_nothing() {
    let (capture, _guard) = capture(LevelFilter::TRACE);
    let params = LogEventParams::builder()
        .redact(["/a/b/c", "/n/0", "/s/x", "/list/x", "/list/7", "/missing"])
        .build();
    let handler = Handler::builder()
        .middleware_with(LogEvent, params)
        .handler(echo)
        .unwrap();
    let event = json!({ "a": { "b": null }, "n": 5, "s": "text", "list": [1, 2] });
    handler.invoke_with(event.clone(), &Context::default()).await.unwrap();

    let line = &logged(&capture, "lambda event")[0];
    let logged_event: Value = serde_json::from_str(&line.fields["event"]).unwrap();
    assert_eq!(logged_event, event);
}

#[cfg(feature = "apigw")]
#[tokio::test]
async fn typed_api_gateway_events_are_redacted_by_their_json_names() {
    use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};

    let (capture, _guard) = capture(LevelFilter::TRACE);
    let params = LogEventParams::builder()
        .redact(["/headers/authorization", "/body/card"])
        .build();
    let handler = Handler::builder()
        .middleware_with(LogEvent, params)
        .handler(|_: lambda_runtime::LambdaEvent<ApiGatewayProxyRequest>| async {
            Ok::<_, Error>(ApiGatewayProxyResponse::default())
        })
        .unwrap();

    let request: ApiGatewayProxyRequest = serde_json::from_value(json!({
        "httpMethod": "POST",
        "headers": { "Authorization": "Bearer secret-token" },
        "body": "{\"card\":\"4111111111111111\"}",
        "requestContext": { "httpMethod": "POST" },
    }))
    .unwrap();
    handler
        .invoke(lambda_runtime::LambdaEvent::new(request, Context::default()))
        .await
        .unwrap();

    let text = &logged(&capture, "lambda event")[0].fields["event"];
    assert!(!text.contains("secret-token") && !text.contains("4111"), "{text}");
    assert!(text.contains(r#""authorization":"*****""#), "{text}");
}

/// Everything one invocation logged, as text.
fn everything(capture: &Capture) -> String {
    capture
        .events()
        .iter()
        .map(|event| format!("{:?}", event.fields))
        .collect::<Vec<_>>()
        .join("\n")
}

fn base64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

const LOGIN: &str = r#"{"user":"ada","password":"hunter2"}"#;

/// Answers with a session cookie, in a REST API's `headers` and an HTTP API's `cookies`.
async fn log_in(_: Value, _: &Context) -> Result<Value, Error> {
    Ok(json!({
        "statusCode": 200,
        "headers": { "set-cookie": "session=sess-response-secret" },
        "cookies": ["session=sess-response-secret"],
        "body": "welcome",
    }))
}

/// A REST (v1) event, an HTTP API (v2) event and a function URL event, each with the
/// secrets in a base64 body, a bearer token, a cookie and an API key, with header names
/// as each one sends them.
fn http_events() -> [(&'static str, Value); 3] {
    [
        (
            "REST API",
            json!({
                "resource": "/login", "path": "/login", "httpMethod": "POST",
                "headers": { "Authorization": "Bearer tok-rest-secret", "Cookie": "session=sess-rest-secret", "X-Api-Key": "key-rest-secret" },
                "multiValueHeaders": { "Authorization": ["Bearer tok-rest-secret"] },
                "requestContext": { "requestId": "r" },
                "body": base64(LOGIN), "isBase64Encoded": true,
            }),
        ),
        (
            "HTTP API",
            json!({
                "version": "2.0", "routeKey": "POST /login", "rawPath": "/login",
                "headers": { "authorization": "Bearer tok-http-secret", "x-api-key": "key-http-secret" },
                "cookies": ["session=sess-http-secret"],
                "requestContext": { "http": { "method": "POST" } },
                "body": base64(LOGIN), "isBase64Encoded": true,
            }),
        ),
        (
            "function URL",
            json!({
                "version": "2.0", "rawPath": "/login",
                "headers": { "authorization": "Bearer tok-url-secret", "x-amz-security-token": "amz-url-secret" },
                "cookies": ["session=sess-url-secret"],
                "requestContext": { "http": { "method": "POST" } },
                "body": base64(LOGIN), "isBase64Encoded": true,
            }),
        ),
    ]
}

#[tokio::test]
async fn secrets_in_base64_bodies_and_headers_of_any_case_never_reach_the_log() {
    for (kind, event) in http_events() {
        let (capture, _guard) = capture(LevelFilter::TRACE);
        // As the docs and REST APIs spell it: the capitalised header name.
        let params = LogEventParams::builder()
            .redact(["/body/password", "/headers/Authorization"])
            .log_response(true)
            .build();
        let handler = Handler::builder()
            .middleware_with(LogEvent, params)
            .handler(log_in)
            .unwrap();
        handler.invoke_with(event, &Context::default()).await.unwrap();

        let text = everything(&capture);
        for secret in ["hunter2", "-secret"] {
            assert!(!text.contains(secret), "{kind}: {secret} reached the log: {text}");
        }
        // The body is still logged, redacted and encoded again; the user is visible.
        let line = &logged(&capture, "lambda event")[0].fields["event"];
        let event: Value = serde_json::from_str(line).unwrap();
        use base64::Engine as _;
        let body = base64::engine::general_purpose::STANDARD
            .decode(event["body"].as_str().unwrap())
            .unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body, json!({ "user": "ada", "password": "*****" }), "{kind}");
    }
}

#[tokio::test]
async fn a_base64_body_that_is_not_json_is_logged_as_its_size_only() {
    let (capture, _guard) = capture(LevelFilter::TRACE);
    let params = LogEventParams::builder().redact(["/body/password"]).build();
    let handler = Handler::builder()
        .middleware_with(LogEvent, params)
        .handler(echo)
        .unwrap();
    let event = json!({ "body": base64("password=hunter2&user=ada"), "isBase64Encoded": true });
    handler.invoke_with(event, &Context::default()).await.unwrap();

    let line = &logged(&capture, "lambda event")[0].fields["event"];
    assert_eq!(line, r#"{"body":"<base64, 25 bytes>","isBase64Encoded":true}"#);
}

#[tokio::test]
async fn the_default_header_redaction_can_be_turned_off() {
    {
        let (off, _guard) = capture(LevelFilter::TRACE);
        let params = LogEventParams::builder().redact_headers([] as [&str; 0]).build();
        let handler = Handler::builder()
            .middleware_with(LogEvent, params)
            .handler(echo)
            .unwrap();
        let event = json!({ "headers": { "authorization": "Bearer visible" } });
        handler.invoke_with(event, &Context::default()).await.unwrap();
        assert!(everything(&off).contains("Bearer visible"));
    }

    let (on, _guard) = capture(LevelFilter::TRACE);
    let handler = Handler::builder()
        .middleware_with(LogEvent, LogEventParams::builder().build())
        .handler(echo)
        .unwrap();
    let event = json!({ "headers": { "authorization": "Bearer hidden" }, "cookies": ["a=hidden"] });
    handler.invoke_with(event, &Context::default()).await.unwrap();
    assert!(!everything(&on).contains("hidden"), "{}", everything(&on));
}
