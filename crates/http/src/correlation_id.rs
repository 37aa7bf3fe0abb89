//! [`CorrelationId`]: one id that follows a request through every log line and back to
//! the caller.

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use lambda_runtime::{Context, Error};
use serde_json::Value;
use tracing::{Instrument, Span};
use typed_builder::TypedBuilder;

use crate::traits::{HttpRequest, HttpResponse};
use lambda_middleware_core::Invoke;
use lambda_middleware_core::JsonPointer;
use lambda_middleware_core::Middleware;
use lambda_middleware_core::{Next, Proceeded};

/// The span field that carries the correlation id.
const FIELD: &str = "correlation_id";

/// The span field that says where the id came from (see [`CorrelationIdSource::describe`]).
const SOURCE_FIELD: &str = "correlation_id_source";

/// The name and target of the span made when no span has the field, by which
/// `observe::JsonLogger` finds it.
/// The span this middleware opens when no `InjectLambdaContext` span is there to record
/// the id on; `JsonLogger` (in `lambda-middleware-observe`) reads the id from it by this
/// name and target.
pub(crate) const SPAN_NAME: &str = "correlation_id";
pub(crate) const SPAN_TARGET: &str = "lambda_middleware::middlewares::correlation_id";

/// Finds the request's correlation id, or makes one, records it on the span, and
/// optionally echoes it in a response header — Powertools' `correlation_id_path`.
///
/// 1. **Found** in the first of the `sources`
///    that has a usable value: a header (any case), API Gateway's
///    `requestContext.requestId`, or any JSON pointer. Default: the `x-correlation-id`
///    header, then API Gateway's (and function URLs') `requestContext.requestId`, which
///    is Powertools' correlation path for API Gateway. A value is usable when it is 1 to
///    `max_len` bytes of printable ASCII
///    (spaces allowed inside); anything else — too long, control characters, not a
///    string, not UTF-8 — is skipped with a warning, so a caller cannot inject log lines
///    or response headers through it.
/// 2. **Made** when no source has one: a random 128-bit id in UUID form (not for
///    security: it comes from the standard library's randomly keyed hasher), or the
///    Lambda request id (see [`CorrelationIdFallback`]).
/// 3. **Given to the handler**: when the first source is a header and the id came from
///    elsewhere, the middleware sets that header on the event, so the handler always
///    finds the id in the same place.
/// 4. **Recorded** in the `correlation_id` field of the current span when it has one
///    (the span of `InjectLambdaContext` does, so add
///    that first and the id is on every log line), otherwise on a new
///    `correlation_id` span around the rest of the chain. The span's
///    `correlation_id_source` field says where the id came from: `header x-correlation-id`,
///    `requestContext.requestId`, `pointer /detail/id`, `generated` or
///    `Lambda request id`.
/// 5. **Echoed** in the response header `response_header`,
///    when set, on successful responses (put it outside
///    [`HttpErrorHandler`](crate::HttpErrorHandler) so error responses have it too).
///
/// Works for any event that is [`HttpRequest`] with a response that is
/// [`HttpResponse`]: JSON events (`serde_json::Value`), API Gateway's typed events with
/// the `apigw` feature, `lambda_http`'s with the `http` feature. A JSON pointer source
/// on a typed API Gateway event serializes the event to JSON for the lookup. Its name
/// for tracing is `correlation_id`.
///
/// # Example
///
/// ```
/// use lambda_middleware::middlewares::{CorrelationId, CorrelationIdParams, CorrelationIdSource};
/// use lambda_middleware::{Context, Error, Handler};
/// use serde_json::{json, Value};
///
/// async fn echo_id(event: Value, _: &Context) -> Result<Value, Error> {
///     // The id is on every log line inside, and in the header for the handler to pass on.
///     let id = event["headers"]["x-correlation-id"].clone();
///     Ok(json!({ "statusCode": 200, "body": id.to_string() }))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let params = CorrelationIdParams::builder()
///     .sources([CorrelationIdSource::header("x-correlation-id"), CorrelationIdSource::request_context_request_id()])
///     .response_header("x-correlation-id")
///     .build();
/// let handler = Handler::builder().middleware_with(CorrelationId, params).handler(echo_id)?;
///
/// let event = json!({ "headers": { "X-Correlation-Id": "order-7" } });
/// let response = handler.invoke_with(event, &Context::default()).await?;
/// assert_eq!(response["headers"]["x-correlation-id"], "order-7");
///
/// let event = json!({ "headers": {}, "requestContext": { "requestId": "c6af9ac6" } });
/// let response = handler.invoke_with(event, &Context::default()).await?;
/// assert_eq!(response["body"], r#""c6af9ac6""#);
///
/// let response = handler.invoke_with(json!({}), &Context::default()).await?;
/// assert_eq!(response["headers"]["x-correlation-id"].as_str().unwrap().len(), 36); // generated
///
/// // The default sources: the header, then API Gateway's request id.
/// let defaults = Handler::builder()
///     .middleware_with(CorrelationId, CorrelationIdParams::builder().build())
///     .handler(echo_id)?;
/// let event = json!({ "headers": {}, "requestContext": { "requestId": "c6af9ac6" } });
/// let response = defaults.invoke_with(event, &Context::default()).await?;
/// assert_eq!(response["body"], r#""c6af9ac6""#);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CorrelationId;

/// Where [`CorrelationId`] looks for the id.
///
/// ```
/// use lambda_middleware::middlewares::CorrelationIdSource;
///
/// let sources = [
///     CorrelationIdSource::header("x-correlation-id"),
///     CorrelationIdSource::request_context_request_id(),
///     CorrelationIdSource::pointer("/detail/correlationId"),
/// ];
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorrelationIdSource {
    /// A request header, compared without regard to case.
    Header(String),
    /// API Gateway's `requestContext.requestId`.
    RequestContextRequestId,
    /// A JSON pointer into the event (`/detail/correlationId`); a string on the way that
    /// holds JSON, like API Gateway's `body`, is looked into (`/body/correlationId`).
    /// A number found there is used as its decimal text. See [`JsonPointer`] and
    /// [`HttpRequest::json_pointer`]: a `lambda_http::Request` has no JSON form, so
    /// this finds nothing there.
    Pointer(JsonPointer),
}

impl CorrelationIdSource {
    /// The request header `name`.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::CorrelationIdSource;
    /// let source = CorrelationIdSource::header("x-request-id");
    /// ```
    pub fn header(name: impl Into<String>) -> Self {
        CorrelationIdSource::Header(name.into())
    }

    /// API Gateway's `requestContext.requestId`.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::CorrelationIdSource;
    /// let source = CorrelationIdSource::request_context_request_id();
    /// ```
    pub fn request_context_request_id() -> Self {
        CorrelationIdSource::RequestContextRequestId
    }

    /// The JSON pointer `pointer` into the event.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::CorrelationIdSource;
    /// let source = CorrelationIdSource::pointer("/detail/metadata/correlationId");
    /// ```
    pub fn pointer(pointer: impl Into<JsonPointer>) -> Self {
        CorrelationIdSource::Pointer(pointer.into())
    }

    /// How the span's `correlation_id_source` field names this source.
    ///
    /// ```
    /// use lambda_middleware::middlewares::CorrelationIdSource;
    ///
    /// assert_eq!(CorrelationIdSource::header("x-correlation-id").describe(), "header x-correlation-id");
    /// assert_eq!(CorrelationIdSource::request_context_request_id().describe(), "requestContext.requestId");
    /// assert_eq!(CorrelationIdSource::pointer("/detail/id").describe(), "pointer /detail/id");
    /// ```
    pub fn describe(&self) -> Cow<'static, str> {
        match self {
            CorrelationIdSource::RequestContextRequestId => Cow::Borrowed("requestContext.requestId"),
            source => Cow::Owned(SourceName::Found(source).to_string()),
        }
    }
}

/// How [`CorrelationId`] makes an id when no source has one.
///
/// ```
/// use lambda_middleware::middlewares::{CorrelationIdFallback, CorrelationIdParams};
///
/// let params = CorrelationIdParams::builder().fallback(CorrelationIdFallback::LambdaRequestId).build();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CorrelationIdFallback {
    /// A random 128-bit id in UUID version 4 form (`1b4e28ba-2fa1-41d2-883f-0016d3cca427`).
    #[default]
    Random,
    /// The Lambda request id (`Context::request_id`); a random id when it is empty.
    LambdaRequestId,
}

/// Where [`CorrelationId`] finds the id, how it makes one, and whether it echoes it.
///
/// ```
/// use lambda_middleware::middlewares::{CorrelationIdParams, CorrelationIdSource};
///
/// // The defaults: the `x-correlation-id` header, else a random id; no echo.
/// let params = CorrelationIdParams::builder().build();
///
/// let params = CorrelationIdParams::builder()
///     .sources([CorrelationIdSource::pointer("/detail/correlationId")])
///     .response_header("x-correlation-id")
///     .max_len(64)
///     .build();
/// ```
#[derive(Debug, Clone, TypedBuilder)]
pub struct CorrelationIdParams {
    /// Where to look, in order. Default: the `x-correlation-id` header, then
    /// `requestContext.requestId` (API Gateway and function URL events).
    #[builder(
        default = vec![CorrelationIdSource::header("x-correlation-id"), CorrelationIdSource::request_context_request_id()],
        setter(transform = |sources: impl IntoIterator<Item = CorrelationIdSource>| sources.into_iter().collect())
    )]
    sources: Vec<CorrelationIdSource>,
    /// How to make an id when no source has one. Default: [`CorrelationIdFallback::Random`].
    #[builder(default)]
    fallback: CorrelationIdFallback,
    /// The response header to echo the id in. Default: none.
    #[builder(default, setter(strip_option, into))]
    response_header: Option<String>,
    /// The longest id taken from the event, in bytes. Default: 256.
    #[builder(default = 256)]
    max_len: usize,
}

impl Default for CorrelationIdParams {
    fn default() -> Self {
        CorrelationIdParams::builder().build()
    }
}

impl<E, R> Middleware<E, R> for CorrelationId
where
    E: HttpRequest + Send,
    R: HttpResponse + Send,
{
    type Params = CorrelationIdParams;

    fn name(&self) -> &'static str {
        "correlation_id"
    }

    async fn call<'n, I>(
        &self,
        params: &CorrelationIdParams,
        mut event: E,
        ctx: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<E, Response = R>,
    {
        let (id, found_in) = match find(params, &event) {
            Some((id, index)) => (id, Some(index)),
            None => (generate(params.fallback, ctx), None),
        };
        let source = match found_in {
            Some(index) => SourceName::Found(&params.sources[index]),
            None if params.fallback == CorrelationIdFallback::LambdaRequestId && id == ctx.request_id => {
                SourceName::Made("Lambda request id")
            }
            None => SourceName::Made("generated"),
        };
        if let Some(CorrelationIdSource::Header(name)) = params.sources.first() {
            if found_in != Some(0) && !event.set_header(name, &id) {
                tracing::debug!(header = %name, "the event has no room for the correlation id header");
            }
        }

        let current = Span::current();
        let outcome = if current.has_field(FIELD) {
            current.record(FIELD, tracing::field::display(&id));
            current.record(SOURCE_FIELD, tracing::field::display(&source));
            next.run(event).await
        } else {
            let span = tracing::error_span!(
                target: SPAN_TARGET,
                SPAN_NAME,
                correlation_id = %id,
                correlation_id_source = %source
            );
            // Made inside the span, for the `before` hooks of the middlewares inside.
            let rest = span.in_scope(|| next.run(event));
            rest.instrument(span).await
        };
        let mut response = outcome?;

        if let Some(header) = &params.response_header {
            if !response.response_mut().set_header(header, &id) {
                tracing::debug!(%header, "the response has no room for the correlation id header");
            }
        }
        Ok(response)
    }
}

/// Where the id came from, as the span's `correlation_id_source` field shows it: written
/// when a subscriber formats the field, so an invocation allocates nothing for it.
enum SourceName<'a> {
    Found(&'a CorrelationIdSource),
    Made(&'static str),
}

impl fmt::Display for SourceName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceName::Found(CorrelationIdSource::Header(name)) => write!(f, "header {name}"),
            SourceName::Found(CorrelationIdSource::RequestContextRequestId) => f.write_str("requestContext.requestId"),
            SourceName::Found(CorrelationIdSource::Pointer(pointer)) => write!(f, "pointer {pointer}"),
            SourceName::Made(how) => f.write_str(how),
        }
    }
}

/// The first usable id in the sources, with the index of its source.
fn find<E: HttpRequest>(params: &CorrelationIdParams, event: &E) -> Option<(String, usize)> {
    params.sources.iter().enumerate().find_map(|(index, source)| {
        let found: Option<Cow<'_, str>> = match source {
            CorrelationIdSource::Header(name) => event.header(name).map(Cow::Borrowed),
            CorrelationIdSource::RequestContextRequestId => event.request_id().map(Cow::Borrowed),
            CorrelationIdSource::Pointer(pointer) => match event.json_pointer(pointer).as_deref() {
                Some(Value::String(text)) => Some(Cow::Owned(text.clone())),
                Some(Value::Number(number)) => Some(Cow::Owned(number.to_string())),
                _ => None,
            },
        };
        let found = found?;
        let trimmed = found.trim();
        if usable(trimmed, params.max_len) {
            Some((trimmed.to_owned(), index))
        } else {
            tracing::warn!(
                source = index,
                bytes = found.len(),
                "ignoring a correlation id that is empty, too long, or not printable ASCII"
            );
            None
        }
    })
}

fn usable(id: &str, max_len: usize) -> bool {
    !id.is_empty() && id.len() <= max_len && id.bytes().all(|b| (0x20..0x7f).contains(&b))
}

fn generate(fallback: CorrelationIdFallback, ctx: &Context) -> String {
    match fallback {
        CorrelationIdFallback::LambdaRequestId if usable(&ctx.request_id, usize::MAX) => ctx.request_id.clone(),
        _ => random_id(),
    }
}

/// A random id in UUID version 4 form, from the standard library's randomly keyed
/// SipHash: unique enough to correlate logs, not a secret.
fn random_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    // Each `RandomState` has fresh keys (random per thread, then incremented).
    let high = RandomState::new().hash_one((count, nanos));
    let low = RandomState::new().hash_one((nanos, count, high));
    let bits = (u128::from(high) << 64 | u128::from(low)) & !(0xf << 76) & !(0x3 << 62) | (0x4 << 76) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::{random_id, usable};

    #[test]
    fn random_ids_look_like_uuid_v4_and_differ() {
        let a = random_id();
        let b = random_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
        assert!(a.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()));
    }

    #[test]
    fn ids_must_be_short_printable_ascii() {
        assert!(usable("order-7 retry", 256));
        assert!(!usable("", 256));
        assert!(!usable("a\nb", 256));
        assert!(!usable("café", 256));
        assert!(!usable(&"x".repeat(257), 256));
    }
}
