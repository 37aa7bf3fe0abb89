//! [`Warmup`]: a warmer's event is answered at once, without the handler.

use std::fmt;

use lambda_runtime::{Context, Error};
use serde_json::Value;
use typed_builder::TypedBuilder;

use lambda_middleware_core::Flow;
use lambda_middleware_core::Middleware;

/// Answers a warmer's event at once, through `next.respond_early`: the inner middlewares
/// and the handler never see it — Middy's `warmup`.
///
/// A warmer (`serverless-plugin-warmup`, a scheduled rule) invokes the function only to
/// keep instances warm. By default an event whose `source` is
/// `"serverless-plugin-warmup"` is one; `is_warmer`
/// takes any other test. The answer is `R::default()` (`null` for a JSON response).
///
/// It works on JSON events (`serde_json::Value`), because a warmer's event is not the
/// function's usual event: a function with typed events fails to deserialize it
/// before any middleware runs — which still warms the instance, at the cost of an
/// error in the log. Its name for tracing is `warmup`.
///
/// # Example
///
/// ```
/// use lambda_middleware::middlewares::{Warmup, WarmupParams};
/// use lambda_middleware::{Context, Error, Handler};
/// use serde_json::{json, Value};
///
/// async fn process(event: Value, _: &Context) -> Result<Value, Error> {
///     Ok(json!({ "handled": event["id"] }))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let handler = Handler::builder()
///     .middleware_with(Warmup, WarmupParams::builder().build())
///     .handler(process)?;
/// let context = Context::default();
///
/// let warm = handler.invoke_with(json!({ "source": "serverless-plugin-warmup" }), &context).await?;
/// assert_eq!(warm, Value::Null); // the handler did not run
/// let real = handler.invoke_with(json!({ "id": 1 }), &context).await?;
/// assert_eq!(real, json!({ "handled": 1 }));
///
/// // Another warmer, another test.
/// let params = WarmupParams::builder().is_warmer(|event| event["warmer"] == true).build();
/// let handler = Handler::builder().middleware_with(Warmup, params).handler(process)?;
/// assert_eq!(handler.invoke_with(json!({ "warmer": true }), &context).await?, Value::Null);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Warmup;

/// How [`Warmup`] tells a warmer's event.
///
/// ```
/// use lambda_middleware::middlewares::WarmupParams;
///
/// let default = WarmupParams::builder().build(); // `"source": "serverless-plugin-warmup"`
/// let scheduled = WarmupParams::builder()
///     .is_warmer(|event| event["detail-type"] == "Scheduled Event" && event["resources"][0] == "arn:aws:events:eu-west-1:123:rule/warm")
///     .build();
/// ```
#[derive(Clone, Copy, TypedBuilder)]
pub struct WarmupParams {
    /// The test. Default: [`is_serverless_plugin_warmup`].
    #[builder(default = is_serverless_plugin_warmup)]
    is_warmer: fn(&Value) -> bool,
}

impl fmt::Debug for WarmupParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WarmupParams").finish_non_exhaustive()
    }
}

impl Default for WarmupParams {
    fn default() -> Self {
        WarmupParams::builder().build()
    }
}

/// `true` for the events of `serverless-plugin-warmup`: an object whose `source` is
/// `"serverless-plugin-warmup"`.
///
/// ```
/// use lambda_middleware::middlewares::is_serverless_plugin_warmup;
/// use serde_json::json;
///
/// assert!(is_serverless_plugin_warmup(&json!({ "source": "serverless-plugin-warmup" })));
/// assert!(!is_serverless_plugin_warmup(&json!({ "source": "aws.events" })));
/// assert!(!is_serverless_plugin_warmup(&json!({ "source": 7 })));
/// assert!(!is_serverless_plugin_warmup(&json!("serverless-plugin-warmup")));
/// ```
pub fn is_serverless_plugin_warmup(event: &Value) -> bool {
    event.get("source").and_then(Value::as_str) == Some("serverless-plugin-warmup")
}

impl<R: Default + Send> Middleware<Value, R> for Warmup {
    type Params = WarmupParams;

    fn name(&self) -> &'static str {
        "warmup"
    }

    fn before(&self, params: &WarmupParams, event: &mut Value, _: &Context) -> Result<Flow<R>, Error> {
        if (params.is_warmer)(event) {
            tracing::debug!("warm-up event: answered without running the handler");
            return Ok(Flow::RespondEarly(R::default()));
        }
        Ok(Flow::Continue)
    }
}
