//! [`JsonEntry`]: a handler that takes the event as JSON and reads it into its own
//! type, so that an event of the wrong shape is a failure named `InvalidEvent`.

use std::fmt;
use std::task::{Context as TaskContext, Poll};

use lambda_runtime::{Error, LambdaEvent};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::chain::{Accept, Chain};
use crate::diagnostic::InvocationError;
use crate::handler::Handler;
use crate::service::ResponseFuture;

/// An event that did not deserialise into the chain's event type: where, and why.
///
/// Lambda reports it as `InvalidEvent`, a name a Step Functions `Catch` can match (run
/// without [`Handler::json_entry`], `lambda_runtime` reports the same failure as
/// `&lambda_runtime::deserializer::DeserializeError`).
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::InvalidEvent;
///
/// #[derive(Debug, serde::Deserialize)]
/// struct Order {
///     quantity: u32,
/// }
///
/// let error = InvalidEvent::read::<Order>(serde_json::json!({ "quantity": "two" })).unwrap_err();
/// assert_eq!(error.path(), "/quantity");
/// assert!(error.to_string().starts_with("the event is not a `Order` at /quantity: invalid type"));
/// ```
#[derive(Debug, thiserror::Error)]
#[error("the event is not a `{type_name}` at {path}: {message}")]
pub struct InvalidEvent {
    type_name: &'static str,
    path: String,
    message: String,
}

impl InvalidEvent {
    /// `event` read into `E`, or where and why it is not one.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// let ok: u32 = lambda_middleware::InvalidEvent::read(serde_json::json!(7)).unwrap();
    /// assert_eq!(ok, 7);
    /// ```
    pub fn read<E: DeserializeOwned>(event: Value) -> Result<E, InvalidEvent> {
        let type_name = crate::support::short_type_name(std::any::type_name::<E>());
        // Some `Deserialize` impls panic on bad input (aws_lambda_events' base64 bodies):
        // that is an invalid event too, not a failed process.
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            serde_path_to_error::deserialize::<_, E>(event)
        }));
        match read {
            Ok(Ok(event)) => Ok(event),
            Ok(Err(error)) => Err(InvalidEvent {
                type_name,
                path: pointer(error.path()),
                message: error.into_inner().to_string(),
            }),
            Err(panic) => Err(InvalidEvent {
                type_name,
                path: "/".to_owned(),
                message: crate::trace::span::panic_message(&*panic).to_owned(),
            }),
        }
    }

    /// Where in the event it went wrong, as a JSON pointer (`/order/quantity`; `/` for
    /// the whole event).
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// let error = lambda_middleware::InvalidEvent::read::<u32>(serde_json::json!("x")).unwrap_err();
    /// assert_eq!(error.path(), "/");
    /// ```
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// `serde_path_to_error`'s path as a JSON pointer: `/a/b/0`, or `/` for the whole event.
fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        out.push('/');
        match segment {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => out.push_str(variant),
            Segment::Unknown => out.push('?'),
        }
    }
    if out.is_empty() { "/".to_owned() } else { out }
}

/// A [`Handler`] that takes its event as JSON (`LambdaEvent<Value>`) and reads it into
/// the chain's event type before the chain runs: what [`Handler::json_entry`] returns.
///
/// `lambda_runtime` deserialises the event before the handler sees it, and reports an
/// event of the wrong shape under the name of its own error type. Through this entry
/// the failure is an [`InvalidEvent`], with the path and serde's message; the process
/// goes on serving. An event that is not JSON at all is still refused by
/// `lambda_runtime` before any handler runs. A chain that should *answer* a malformed
/// event (an HTTP 400) instead takes `serde_json::Value` and parses it itself (`Parse`
/// behind `HttpErrorHandler`; see the HTTP guide).
///
/// The reading is a second pass: `lambda_runtime` reads the bytes into a `Value`, and
/// this entry the `Value` into the chain's type (with the path kept, as
/// `lambda_runtime`'s own reading keeps it).
pub struct JsonEntry<C> {
    handler: Handler<C>,
}

impl<C> Clone for JsonEntry<C> {
    fn clone(&self) -> Self {
        JsonEntry {
            handler: self.handler.clone(),
        }
    }
}

impl<C: crate::chain::DescribeChain> fmt::Debug for JsonEntry<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("JsonEntry").field(&self.handler).finish()
    }
}

impl<C> Handler<C> {
    /// This handler behind a JSON entry: `lambda_runtime::run(handler.json_entry())`
    /// reports an event that does not deserialise into the chain's event type as
    /// `InvalidEvent` (see [`JsonEntry`]).
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Context, Error, Handler, LambdaEvent};
    /// use serde_json::json;
    /// use tower::Service;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Order {
    ///     quantity: u32,
    /// }
    ///
    /// async fn handler(order: Order, _: &Context) -> Result<u32, Error> {
    ///     Ok(order.quantity * 2)
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let mut entry = Handler::builder().handler(handler)?.json_entry();
    /// let ok = entry.call(LambdaEvent::new(json!({ "quantity": 2 }), Context::default())).await?;
    /// assert_eq!(ok, 4);
    /// let error = entry.call(LambdaEvent::new(json!({ "quantity": "two" }), Context::default())).await.unwrap_err();
    /// assert_eq!(error.error_type(), "InvalidEvent");
    /// # Ok(()) }
    /// ```
    pub fn json_entry(self) -> JsonEntry<C> {
        JsonEntry { handler: self }
    }
}

impl<C> tower::Service<LambdaEvent<Value>> for JsonEntry<C>
where
    C: Accept + Chain<<C as Accept>::Event> + 'static,
    C::Event: DeserializeOwned + Send + 'static,
    C::Response: Send + 'static,
{
    type Response = C::Response;
    type Error = InvocationError;
    type Future = ResponseFuture<C, C::Event>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), InvocationError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, event: LambdaEvent<Value>) -> Self::Future {
        let LambdaEvent { payload, context } = event;
        match InvalidEvent::read::<C::Event>(payload) {
            Ok(payload) => ResponseFuture::new(&self.handler, payload, context),
            Err(invalid) => ResponseFuture::failed(InvocationError::from(Error::from(invalid))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::InvalidEvent;
    use serde_json::json;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Order {
        items: Vec<u32>,
    }

    #[test]
    fn paths_are_json_pointers_keys_included() {
        let error = InvalidEvent::read::<Order>(json!({ "items": [1, "two"] })).unwrap_err();
        assert_eq!(error.path(), "/items/1");
        let error = InvalidEvent::read::<std::collections::HashMap<String, Order>>(json!({ "a.b/c": { "items": 1 } }))
            .unwrap_err();
        assert_eq!(error.path(), "/a.b~1c/items");
        assert_eq!(InvalidEvent::read::<u8>(json!("x")).unwrap_err().path(), "/");
    }

    #[test]
    fn a_panicking_deserializer_is_an_invalid_event() {
        #[derive(Debug)]
        struct Fragile;
        impl<'de> serde::Deserialize<'de> for Fragile {
            fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
                panic!("cannot read this")
            }
        }
        let error = InvalidEvent::read::<Fragile>(json!(1)).unwrap_err();
        assert!(error.to_string().ends_with("cannot read this"), "{error}");
    }
}
