//! Powertools' JMESPath where Powertools takes it: `Parse` with Powertools' named
//! envelopes (CloudWatch Logs: base64, then gzip, then JSON), and the `Validator`'s
//! envelope as Powertools writes it.
#![cfg(all(feature = "jmespath", feature = "validation"))]

use std::io::Write as _;

use base64::Engine as _;
use lambda_middleware::jmespath::{JmesPath, envelopes};
use lambda_middleware::middlewares::{Parse, Validator, ValidatorParams};
use lambda_middleware::{Context, Error, Handler};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
struct LogEvent {
    id: String,
    message: String,
}

fn cloudwatch_logs_event(log_events: &Value) -> Value {
    let document = json!({ "messageType": "DATA_MESSAGE", "logGroup": "/aws/lambda/orders", "logEvents": log_events });
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(document.to_string().as_bytes()).unwrap();
    let data = base64::engine::general_purpose::STANDARD.encode(gzip.finish().unwrap());
    json!({ "awslogs": { "data": data } })
}

#[tokio::test]
async fn parse_opens_a_cloudwatch_logs_subscription_with_powertools_envelope() {
    let handler = Handler::builder()
        .transform(Parse::<Vec<LogEvent>>::in_envelope(
            JmesPath::new(envelopes::CLOUDWATCH_LOGS).unwrap(),
        ))
        .handler(|events: Vec<LogEvent>, _: &Context| async move {
            Ok::<_, Error>(
                events
                    .into_iter()
                    .map(|event| format!("{}: {}", event.id, event.message))
                    .collect::<Vec<_>>(),
            )
        })
        .unwrap();
    let event = cloudwatch_logs_event(
        &json!([{ "id": "1", "timestamp": 1, "message": "started" }, { "id": "2", "timestamp": 2, "message": "done" }]),
    );
    let lines = handler.invoke_with(event, &Context::default()).await.unwrap();
    assert_eq!(lines, ["1: started", "2: done"]);

    let error = handler
        .invoke_with(json!({ "awslogs": { "data": "bm90IGd6aXA=" } }), &Context::default())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("powertools_base64_gzip"), "{error}");
}

#[tokio::test]
async fn the_validator_takes_powertools_envelope() {
    let params = ValidatorParams::builder()
        .inbound(json!({ "type": "object", "required": ["order_id"] }))
        .envelope("powertools_json(body)")
        .build()
        .unwrap();
    let handler = Handler::builder()
        .middleware_with(Validator, params)
        .handler(|_: Value, _: &Context| async move { Ok::<_, Error>("ok") })
        .unwrap();
    let context = Context::default();
    assert_eq!(
        handler
            .invoke_with(json!({ "body": "{\"order_id\": \"o-1\"}" }), &context)
            .await
            .unwrap(),
        "ok"
    );
    let error = handler
        .invoke_with(json!({ "body": "{\"amount\": 1}" }), &context)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("order_id"), "{error}");
}
