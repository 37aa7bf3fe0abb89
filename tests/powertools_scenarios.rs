//! The two scenarios of the Powertools for AWS Lambda (Python) middleware factory docs,
//! in this crate:
//!
//! - before the handler: `@obfuscate_sensitive_data(fields=["email", "passport", "vat"])`
//!   masks those fields of a `BookingCreated` EventBridge event's `detail.guest`;
//! - after the handler: `@middleware_after` adds the `execution_time` and
//!   `aws_request_id` headers to the handler's response.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use typed_builder::TypedBuilder;

const BOOKING_CREATED: &str = include_str!("fixtures/booking_created.json");

fn booking_created() -> Value {
    serde_json::from_str(BOOKING_CREATED).unwrap()
}

// ---------------------------------------------------------------------------------------
// Before the handler: obfuscate fields given as params.
// ---------------------------------------------------------------------------------------

/// Masks the `fields` of `detail.guest` before the handler sees the event.
struct ObfuscateSensitiveData;

#[derive(TypedBuilder)]
struct ObfuscateParams {
    /// Required: the guest fields to mask.
    #[builder(setter(
        fn transform(fields: impl IntoIterator<Item = impl Into<String>>) -> Vec<String> {
            fields.into_iter().map(Into::into).collect()
        }
    ))]
    fields: Vec<String>,
    /// Optional: what a masked field becomes.
    #[builder(default = "*****".into(), setter(into))]
    mask: String,
}

impl Middleware<Value, Value> for ObfuscateSensitiveData {
    type Params = ObfuscateParams;

    async fn call<'n, I>(
        &self,
        params: &ObfuscateParams,
        mut event: Value,
        _: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        if let Some(guest) = event.pointer_mut("/detail/guest").and_then(Value::as_object_mut) {
            for field in &params.fields {
                // Like Powertools: only fields that are there are masked; none are added.
                if let Some(value) = guest.get_mut(field) {
                    *value = Value::String(params.mask.clone());
                }
            }
        }
        Ok(next.run(event).await?)
    }
}

/// The `detail` of a `BookingCreated` event, as the handler reads it.
#[derive(Debug, Deserialize, Serialize, PartialEq)]
struct Booking {
    days: u32,
    date_from: String,
    date_to: String,
    hotel_id: u32,
    country: String,
    city: String,
    guest: Guest,
}

#[derive(Debug, Deserialize, Serialize, PartialEq)]
struct Guest {
    name: String,
    email: String,
    passport: String,
    vat: String,
}

/// The handler keeps a copy of the event it was given, so the tests can check that it
/// saw the masked values (and not just that the response has them).
type Seen = Arc<Mutex<Vec<Value>>>;

fn create_booking(seen: Seen) -> impl Fn(LambdaEvent<Value>) -> std::future::Ready<Result<Value, Error>> + Send + Sync {
    move |event: LambdaEvent<Value>| {
        seen.lock().unwrap().push(event.payload.clone());
        let booking = serde_json::from_value::<Booking>(event.payload["detail"].clone());
        std::future::ready(match booking {
            Ok(book) => Ok(json!({ "book": book, "message": "booking created", "success": true })),
            Err(error) => Err(format!("unable to create booking: {error}").into()),
        })
    }
}

#[tokio::test]
async fn obfuscate_masks_the_given_fields_before_the_handler() {
    let seen = Seen::default();
    let handler = Handler::builder()
        .middleware_with(
            ObfuscateSensitiveData,
            ObfuscateParams::builder().fields(["email", "passport", "vat"]).build(),
        )
        .handler(create_booking(seen.clone()))
        .unwrap();

    let response = handler
        .invoke(LambdaEvent::new(booking_created(), Context::default()))
        .await
        .unwrap();

    // What the handler was given: the same event, with the three fields masked.
    let mut expected = booking_created();
    expected["detail"]["guest"] = json!({
        "name": "Ada Lovelace",
        "email": "*****",
        "passport": "*****",
        "vat": "*****",
    });
    assert_eq!(*seen.lock().unwrap(), [expected]);

    // What it answered, from its typed view of the event.
    let book: Booking = serde_json::from_value(response["book"].clone()).unwrap();
    assert_eq!(
        book.guest,
        Guest {
            name: "Ada Lovelace".into(),
            email: "*****".into(),
            passport: "*****".into(),
            vat: "*****".into(),
        }
    );
    assert_eq!((book.city.as_str(), book.days), ("Porto", 3));
    assert_eq!(response["message"], "booking created");
}

#[tokio::test]
async fn obfuscate_takes_an_optional_mask_and_leaves_other_fields_alone() {
    let seen = Seen::default();
    let params = ObfuscateParams::builder()
        .fields(["email", "phone"])
        .mask("[redacted]")
        .build();
    let handler = Handler::builder()
        .middleware_with(ObfuscateSensitiveData, params)
        .handler(create_booking(seen.clone()))
        .unwrap();

    handler
        .invoke(LambdaEvent::new(booking_created(), Context::default()))
        .await
        .unwrap();

    let seen = seen.lock().unwrap();
    assert_eq!(
        seen[0]["detail"]["guest"],
        json!({
            "name": "Ada Lovelace",
            "email": "[redacted]",
            // Not asked for: untouched.
            "passport": "P1234567",
            "vat": "PT123456789",
            // Asked for but absent: not added.
        })
    );
}

#[tokio::test]
async fn obfuscate_passes_events_without_a_guest_through_unchanged() {
    let seen = Seen::default();
    let handler = Handler::builder()
        .middleware_with(
            ObfuscateSensitiveData,
            ObfuscateParams::builder().fields(["email"]).build(),
        )
        .handler(create_booking(seen.clone()))
        .unwrap();
    let event = json!({ "detail-type": "Heartbeat", "detail": {} });

    let error = handler
        .invoke(LambdaEvent::new(event.clone(), Context::default()))
        .await
        .unwrap_err();

    assert_eq!(*seen.lock().unwrap(), [event]);
    assert!(error.to_string().starts_with("unable to create booking"), "{error}");
}

// ---------------------------------------------------------------------------------------
// After the handler: add headers to its response.
// ---------------------------------------------------------------------------------------

/// Adds `execution_time` (seconds) and `aws_request_id` headers to the handler's response.
struct MiddlewareAfter;

impl Middleware<Value, Value> for MiddlewareAfter {
    type Params = ();

    async fn call<'n, I>(
        &self,
        _: &(),
        event: Value,
        ctx: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        let start_time = Instant::now();
        let mut response = next.run(event).await?;
        let execution_time = start_time.elapsed().as_secs_f64();

        let headers = &mut response.response_mut()["headers"];
        headers["execution_time"] = json!(execution_time);
        headers["aws_request_id"] = json!(ctx.request_id);
        Ok(response)
    }
}

/// `POST /todos` behind API Gateway; borrows the context.
async fn create_todo(event: Value, _: &Context) -> Result<Value, Error> {
    let todo: Value = serde_json::from_str(event["body"].as_str().unwrap_or("{}"))?;
    Ok(json!({
        "statusCode": 201,
        "headers": { "Content-Type": "application/json" },
        "body": json!({ "todo": todo }).to_string(),
    }))
}

fn post_todos() -> Value {
    json!({
        "resource": "/todos",
        "path": "/todos",
        "httpMethod": "POST",
        "headers": { "Content-Type": "application/json" },
        "body": "{\"title\":\"write the tests\",\"completed\":false}",
        "isBase64Encoded": false,
    })
}

fn context(request_id: &str) -> Context {
    let mut context = Context::default();
    context.request_id = request_id.into();
    context
}

#[tokio::test]
async fn middleware_after_adds_headers_to_the_response() {
    let handler = Handler::builder()
        .middleware(MiddlewareAfter)
        .handler(create_todo)
        .unwrap();
    let ctx = context("c6af9ac6-7b61-11e6-9a41-93e8deadbeef");

    let response = handler.invoke_with(post_todos(), &ctx).await.unwrap();

    let headers = response["headers"].as_object().unwrap();
    assert_eq!(headers["aws_request_id"], "c6af9ac6-7b61-11e6-9a41-93e8deadbeef");
    let execution_time = headers["execution_time"].as_f64().expect("a number of seconds");
    assert!(execution_time >= 0.0);
    // The handler's own header and the rest of the response are kept.
    assert_eq!(headers["Content-Type"], "application/json");
    assert_eq!(headers.len(), 3);
    assert_eq!(response["statusCode"], 201);
    assert_eq!(
        response["body"],
        r#"{"todo":{"completed":false,"title":"write the tests"}}"#
    );
}

#[tokio::test]
async fn middleware_after_uses_each_invocations_own_request_id() {
    let handler = Handler::builder()
        .middleware(MiddlewareAfter)
        .handler(create_todo)
        .unwrap();

    for request_id in ["first-request", "second-request"] {
        let response = handler
            .invoke(LambdaEvent::new(post_todos(), context(request_id)))
            .await
            .unwrap();
        assert_eq!(response["headers"]["aws_request_id"], request_id);
    }
}

#[tokio::test]
async fn middleware_after_adds_no_headers_when_the_handler_fails() {
    let handler = Handler::builder()
        .middleware(MiddlewareAfter)
        .handler(create_todo)
        .unwrap();
    let mut event = post_todos();
    event["body"] = json!("not json");

    let error = handler.invoke_with(event, &context("r")).await.unwrap_err();

    assert!(error.is::<serde_json::Error>(), "{error}");
}

#[tokio::test]
async fn both_scenarios_in_one_chain() {
    let seen = Seen::default();
    let handler = Handler::builder()
        .middleware(MiddlewareAfter)
        .middleware_with(
            ObfuscateSensitiveData,
            ObfuscateParams::builder().fields(["email", "passport", "vat"]).build(),
        )
        .handler(create_booking(seen.clone()))
        .unwrap();

    let response = handler
        .invoke(LambdaEvent::new(booking_created(), context("booking-1")))
        .await
        .unwrap();

    assert_eq!(seen.lock().unwrap()[0]["detail"]["guest"]["vat"], "*****");
    assert_eq!(response["book"]["guest"]["email"], "*****");
    assert_eq!(response["headers"]["aws_request_id"], "booking-1");
    assert!(response["headers"]["execution_time"].is_f64());
}
