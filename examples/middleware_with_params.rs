//! A middleware with params: mask sensitive fields of a `BookingCreated` EventBridge
//! event before the handler sees it. The fields to mask are a required param; the
//! mask is optional with a default.
//!
//! ```sh
//! cargo run --example middleware_with_params
//! ```

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use typed_builder::TypedBuilder;

struct ObfuscateSensitiveData;

#[derive(Debug, TypedBuilder)]
struct ObfuscateParams {
    /// Fields of `detail.guest` to mask. Required: leaving it out does not compile.
    #[builder(setter(into))]
    fields: Vec<String>,
    /// What to replace them with.
    #[builder(default = "*****".into(), setter(into))]
    mask: String,
}

impl Middleware<Value, Value> for ObfuscateSensitiveData {
    type Params = ObfuscateParams;

    fn name(&self) -> &'static str {
        "obfuscate_sensitive_data"
    }

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
                if let Some(value) = guest.get_mut(field) {
                    *value = json!(params.mask);
                }
            }
        }
        Ok(next.run(event).await?)
    }
}

/// Stores the booking; here it answers with what it would store.
async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let detail = &event.payload["detail"];
    Ok(json!({ "booking_id": detail["booking_id"], "stored_guest": detail["guest"] }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let params = ObfuscateParams::builder()
        .fields(["email", "passport", "vat"].map(String::from))
        .build();
    let handler = Handler::builder()
        .middleware_with(ObfuscateSensitiveData, params)
        .handler(handler)?;

    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        // Logs as Lambda\'s logging controls ask: text or JSON, and the level.
        lambda_middleware::observe::init()?;
        return lambda_runtime::run(handler).await;
    }
    let event = serde_json::from_str(include_str!("events/middleware_with_params.json"))?;
    let response = handler.invoke(LambdaEvent::new(event, Context::default())).await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    Ok(())
}
