//! `Parse` on every envelope, on AWS's own sample events (each checked against
//! `aws_lambda_events`' type for it), with a payload put in; and a malformed variant of
//! each, whose error names where it failed. Nothing here panics on bad input.

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayV2httpRequest};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::kinesis::KinesisEvent;
use aws_lambda_events::lambda_function_urls::LambdaFunctionUrlRequest;
use aws_lambda_events::sns::SnsEvent;
use aws_lambda_events::sqs::SqsEvent;
use base64::Engine as _;
use lambda_middleware::middlewares::{
    ApiGatewayBody, At, Envelope, EventBridgeDetail, FunctionUrlBody, HttpErrorHandler, HttpErrorHandlerParams,
    KinesisData, Parse, ParseError, SnsInSqs, SnsMessage, SqsBodies, WholeEvent,
};
use lambda_middleware::{Context, Error, Handler};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Order {
    id: u64,
    quantity: u32,
}

const ORDER: &str = r#"{"id":7,"quantity":2}"#;
const NOT_AN_ORDER: &str = r#"{"id":"seven","quantity":2}"#;

fn order() -> Order {
    Order { id: 7, quantity: 2 }
}

fn base64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A sample event, after checking that it is the shape of `T`.
fn sample<T: DeserializeOwned>(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    let event: Value = serde_json::from_str(&text).unwrap();
    serde_json::from_value::<T>(event.clone())
        .unwrap_or_else(|error| panic!("{name} is not a {}: {error}", std::any::type_name::<T>()));
    event
}

/// The sample, its payload fields set by `fill`, still of the shape of `T`.
fn event_with<T: DeserializeOwned>(name: &str, fill: impl FnOnce(&mut Value)) -> Value {
    let mut event = sample::<T>(name);
    fill(&mut event);
    serde_json::from_value::<T>(event.clone()).expect("still the event's shape");
    event
}

fn fails<Env: Envelope>(envelope: &Env, event: Value) -> ParseError {
    match envelope.open::<Order>(event) {
        Ok(_) => panic!("parsed a malformed event"),
        Err(error) => error,
    }
}

#[test]
fn the_whole_event() {
    assert_eq!(
        WholeEvent.open::<Order>(serde_json::from_str(ORDER).unwrap()).unwrap(),
        order()
    );
    let error = fails(&WholeEvent, json!({ "id": 7 }));
    assert_eq!(error.path(), "");
    assert_eq!(
        error.to_string(),
        "the event does not parse at its root: missing field `quantity`"
    );
}

#[test]
fn api_gateway_rest_and_http_bodies_plain_and_base64() {
    let rest = event_with::<ApiGatewayProxyRequest>("apigw-request", |event| event["body"] = json!(ORDER));
    assert_eq!(ApiGatewayBody.open::<Order>(rest).unwrap(), order());

    let http = event_with::<ApiGatewayV2httpRequest>("apigw-v2-request-no-authorizer", |event| {
        event["body"] = json!(base64(ORDER));
        event["isBase64Encoded"] = json!(true);
    });
    assert_eq!(ApiGatewayBody.open::<Order>(http).unwrap(), order());

    let wrong = event_with::<ApiGatewayProxyRequest>("apigw-request", |event| event["body"] = json!(NOT_AN_ORDER));
    let error = fails(&ApiGatewayBody, wrong);
    assert_eq!(error.path(), "/body");
    assert!(
        error
            .message()
            .starts_with("invalid type: string \"seven\", expected u64"),
        "{error}"
    );

    let missing = event_with::<ApiGatewayProxyRequest>("apigw-request", |event| event["body"] = Value::Null);
    assert_eq!(
        fails(&ApiGatewayBody, missing).to_string(),
        "the event does not parse at /body: missing"
    );

    let not_base64 = event_with::<ApiGatewayV2httpRequest>("apigw-v2-request-no-authorizer", |event| {
        event["body"] = json!("%%%");
        event["isBase64Encoded"] = json!(true);
    });
    assert!(
        fails(&ApiGatewayBody, not_base64)
            .message()
            .starts_with("is not base64")
    );

    let not_json =
        event_with::<ApiGatewayProxyRequest>("apigw-request", |event| event["body"] = json!("id=7&quantity=2"));
    assert!(fails(&ApiGatewayBody, not_json).message().starts_with("expected value"));
}

#[test]
fn function_url_bodies() {
    let event = event_with::<LambdaFunctionUrlRequest>("apigw-v2-request-no-authorizer", |event| {
        event["body"] = json!(ORDER);
        event["isBase64Encoded"] = json!(false);
    });
    assert_eq!(FunctionUrlBody.open::<Order>(event).unwrap(), order());

    let wrong = event_with::<LambdaFunctionUrlRequest>("apigw-v2-request-no-authorizer", |event| {
        event["body"] = json!(base64(NOT_AN_ORDER));
        event["isBase64Encoded"] = json!(true);
    });
    assert_eq!(fails(&FunctionUrlBody, wrong).path(), "/body");
}

#[test]
fn eventbridge_detail() {
    let event = event_with::<EventBridgeEvent<Value>>("eventbridge-event-obj", |event| {
        event["detail"] = serde_json::from_str(ORDER).unwrap();
    });
    assert_eq!(EventBridgeDetail.open::<Order>(event).unwrap(), order());

    let wrong = event_with::<EventBridgeEvent<Value>>("eventbridge-event-obj", |event| {
        event["detail"] = json!({ "id": 7, "quantity": -1 });
    });
    let error = fails(&EventBridgeDetail, wrong);
    assert_eq!(error.path(), "/detail");
    assert!(error.message().starts_with("invalid value: integer `-1`"), "{error}");
}

#[test]
fn sqs_bodies_each_record_in_order() {
    let event = event_with::<SqsEvent>("sqs-event", |event| {
        let record = event["Records"][0].clone();
        let mut second = record.clone();
        event["Records"][0]["body"] = json!(ORDER);
        second["body"] = json!(r#"{"id":8,"quantity":1}"#);
        event["Records"].as_array_mut().unwrap().push(second);
    });
    assert_eq!(
        SqsBodies.open::<Order>(event).unwrap(),
        [order(), Order { id: 8, quantity: 1 }]
    );

    let wrong = event_with::<SqsEvent>("sqs-event", |event| {
        let mut second = event["Records"][0].clone();
        event["Records"][0]["body"] = json!(ORDER);
        second["body"] = json!(NOT_AN_ORDER);
        event["Records"].as_array_mut().unwrap().push(second);
    });
    assert_eq!(fails(&SqsBodies, wrong).path(), "/Records/1/body");

    let not_sqs = json!({ "detail": {} });
    assert_eq!(
        fails(&SqsBodies, not_sqs).to_string(),
        "the event does not parse at /Records: missing"
    );
}

#[test]
fn the_sns_message() {
    let event = event_with::<SnsEvent>("sns-event", |event| {
        event["Records"][0]["Sns"]["Message"] = json!(ORDER)
    });
    assert_eq!(SnsMessage.open::<Order>(event).unwrap(), order());

    let sample_message = sample::<SnsEvent>("sns-event"); // "Hello\r\nworld!": not JSON
    assert_eq!(fails(&SnsMessage, sample_message).path(), "/Records/0/Sns/Message");

    let two = event_with::<SnsEvent>("sns-event", |event| {
        let record = event["Records"][0].clone();
        event["Records"].as_array_mut().unwrap().push(record);
    });
    assert_eq!(
        fails(&SnsMessage, two).to_string(),
        "the event does not parse at /Records: holds 2 records; an SNS event has one"
    );
}

#[test]
fn sns_notifications_in_sqs_bodies() {
    let sns = sample::<SnsEvent>("sns-event");
    let notification = |message: &str| {
        let mut notification = sns["Records"][0]["Sns"].clone();
        notification["Message"] = json!(message);
        notification.to_string()
    };
    let event = event_with::<SqsEvent>("sqs-event", |event| {
        event["Records"][0]["body"] = json!(notification(ORDER))
    });
    assert_eq!(SnsInSqs.open::<Order>(event).unwrap(), [order()]);

    let wrong = event_with::<SqsEvent>("sqs-event", |event| {
        event["Records"][0]["body"] = json!(notification(NOT_AN_ORDER))
    });
    assert_eq!(fails(&SnsInSqs, wrong).path(), "/Records/0/body/Message");

    let raw = event_with::<SqsEvent>("sqs-event", |event| event["Records"][0]["body"] = json!(ORDER));
    assert_eq!(
        fails(&SnsInSqs, raw).to_string(),
        "the event does not parse at /Records/0/body/Message: missing",
        "a raw message, not an SNS notification"
    );
}

#[test]
fn kinesis_data_base64_each_record() {
    let event = event_with::<KinesisEvent>("kinesis-event", |event| {
        for record in event["Records"].as_array_mut().unwrap() {
            record["kinesis"]["data"] = json!(base64(ORDER));
        }
    });
    assert_eq!(KinesisData.open::<Order>(event).unwrap(), [order(), order()]);

    let sample_data = sample::<KinesisEvent>("kinesis-event"); // "Hello World": not JSON
    assert_eq!(fails(&KinesisData, sample_data).path(), "/Records/0/kinesis/data");

    let not_base64 = json!({ "Records": [{ "kinesis": { "data": "not base64!" } }] });
    assert!(fails(&KinesisData, not_base64).message().starts_with("is not base64"));
}

#[test]
fn a_json_pointer_for_anything_else() {
    let event = json!({ "payload": { "orders": [serde_json::from_str::<Value>(ORDER).unwrap()] } });
    assert_eq!(
        At::new("/payload/orders/0").open::<Order>(event.clone()).unwrap(),
        order()
    );
    assert_eq!(fails(&At::new("/payload/orders/1"), event).path(), "/payload/orders/1");
    let text = json!({ "wrapped": ORDER });
    assert_eq!(At::new("/wrapped").open::<Order>(text).unwrap(), order());
}

#[test]
fn shapes_that_are_not_objects_or_strings_fail_without_panicking() {
    for event in [
        json!(null),
        json!(7),
        json!("text"),
        json!(["not", "an", "order"]),
        json!({ "Records": 3 }),
        json!({ "body": 5 }),
    ] {
        for error in [
            fails(&ApiGatewayBody, event.clone()),
            fails(&EventBridgeDetail, event.clone()),
            fails(&SnsMessage, event.clone()),
        ] {
            assert!(!error.to_string().is_empty());
        }
        assert!(SqsBodies.open::<Order>(event.clone()).is_err());
        assert!(SnsInSqs.open::<Order>(event.clone()).is_err());
        assert!(KinesisData.open::<Order>(event.clone()).is_err());
        assert!(WholeEvent.open::<Order>(event).is_err());
    }
    assert_eq!(
        fails(&ApiGatewayBody, json!({ "body": 5 })).to_string(),
        "the event does not parse at /body: is a number, expected a string"
    );
}

async fn take_order(order: Order, _: &Context) -> Result<Value, Error> {
    Ok(json!({ "statusCode": 200, "body": order.id.to_string() }))
}

#[tokio::test]
async fn behind_http_error_handler_a_malformed_body_is_a_400_naming_the_path() {
    let handler = Handler::builder()
        .middleware_with(HttpErrorHandler, HttpErrorHandlerParams::builder().build())
        .transform(Parse::<Order>::in_envelope(ApiGatewayBody))
        .handler(take_order)
        .unwrap();
    let context = Context::default();

    let good = event_with::<ApiGatewayProxyRequest>("apigw-request", |event| event["body"] = json!(ORDER));
    assert_eq!(handler.invoke_with(good, &context).await.unwrap()["body"], "7");

    let bad = event_with::<ApiGatewayProxyRequest>("apigw-request", |event| event["body"] = json!(NOT_AN_ORDER));
    let response = handler.invoke_with(bad, &context).await.unwrap();
    assert_eq!(response["statusCode"], 400);
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("the event does not parse at /body: invalid type"),
        "{message}"
    );

    // Not even an API Gateway event: still an answer, not a Lambda-level error.
    let response = handler.invoke_with(json!("garbage"), &context).await.unwrap();
    assert_eq!(response["statusCode"], 400);
}

/// A `Deserialize` impl that panics on bad input is a parse error of the event, not a
/// failed invocation: the chain can answer it (`HttpErrorHandler`: a 400).
#[tokio::test]
async fn a_panicking_deserializer_is_a_parse_error() {
    use lambda_middleware::middlewares::{Parse, ParseError};

    struct Fragile;
    impl<'de> serde::Deserialize<'de> for Fragile {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let text = <String as serde::Deserialize>::deserialize(deserializer)?;
            assert!(text != "boom", "cannot read boom");
            Ok(Fragile)
        }
    }
    async fn take(_: Fragile, _: &lambda_middleware::Context) -> Result<u8, lambda_middleware::Error> {
        Ok(1)
    }
    let handler = lambda_middleware::Handler::builder()
        .transform(Parse::<Fragile>::new())
        .handler(take)
        .unwrap();
    let ctx = lambda_middleware::Context::default();
    assert_eq!(handler.invoke_with(serde_json::json!("fine"), &ctx).await.unwrap(), 1);
    let error = handler.invoke_with(serde_json::json!("boom"), &ctx).await.unwrap_err();
    let parse = error.downcast_ref::<ParseError>().expect("a ParseError");
    assert!(parse.to_string().contains("cannot read boom"), "{parse}");
}
