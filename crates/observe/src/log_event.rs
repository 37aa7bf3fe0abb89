//! [`LogEvent`]: the event (and the response) as structured log lines, redacted and
//! capped in size.

use std::any::Any;
use std::fmt;

use lambda_runtime::{Context, Error};
use serde::Serialize;
use serde_json::Value;
use tracing::Level;
use typed_builder::TypedBuilder;

use crate::LOG_EVENT_ENV;
use crate::capped::{Capped, CappedWriter};
use lambda_middleware_core::BuildError;
use lambda_middleware_core::Flow;
use lambda_middleware_core::JsonPointer;
use lambda_middleware_core::Middleware;
use lambda_middleware_core::support::write_redacted;
use lambda_middleware_core::trace::parse_bool_env;

/// The target of the log lines, by which `observe::JsonLogger` writes the event and the
/// response as JSON objects.
/// Kept from the single-crate days, so that log filters written for it still match.
pub(crate) const TARGET: &str = "lambda_middleware::middlewares::log_event";

/// Logs the event before the handler and, when asked, the response after it, as
/// `tracing` events — Powertools' `log_event=True`, Middy's `input-output-logger`.
///
/// Each log line is one `tracing` event with the message `lambda event` (or
/// `lambda response`) and the fields:
///
/// | field | what |
/// |-------|------|
/// | `event` / `response` | the value as compact JSON, redacted, at most `max_bytes` long |
/// | `bytes` | the length of the whole redacted JSON, before the cut |
/// | `truncated_bytes` | how many bytes were cut off the end (0 when none) |
///
/// With [`observe::JsonLogger`](crate::JsonLogger), `event` and `response`
/// are written as JSON objects in the line (when they were not cut), as Powertools
/// logs the event. `POWERTOOLS_LOGGER_LOG_EVENT=false` turns the middleware off
/// without a rebuild (see `enabled` in [`LogEventParams`]).
///
/// **Redaction.** The value at every JSON pointer (`JsonPointer`)
/// in `redact` is replaced by the
/// `mask` before anything is written, so a redacted
/// value never reaches the log, whole or cut:
///
/// - `/detail/guest/email` is RFC 6901 (`~1` for `/`, `~0` for `~` in a key; the leading
///   `/` may be left out); a number is an array index: `/Records/0/body`;
/// - a `*` segment stands for every key of an object and every element of an array:
///   `/guests/*/email`, `/Records/*/messageAttributes`;
/// - a string on a pointer's way that holds a JSON object or array — API Gateway's
///   `body` — is parsed, redacted, and logged back as a string: `/body/card/number`;
/// - a `body` that is base64 (`isBase64Encoded: true`, as API Gateway sends binary media
///   types and function URLs send bodies) and lies on a pointer's way is decoded,
///   redacted and logged encoded again, or logged as `<base64, N bytes>` when it is not
///   JSON;
/// - under `headers` and `multiValueHeaders`, header names match in any case:
///   `/headers/Authorization` also redacts the `authorization` of an HTTP API event;
/// - the headers in `redact_headers` (by default [`DEFAULT_REDACTED_HEADERS`]:
///   `Authorization`, `Cookie`, `Set-Cookie`, `X-Api-Key`, `X-Amz-Security-Token`) are
///   redacted without being listed;
/// - a pointer that matches nothing changes nothing. A key literally named `*` is
///   matched by `*` like any other.
///
/// **Size.** A 6 MB event is not logged whole: the JSON is cut at `max_bytes` (on a
/// character boundary, so the line is valid UTF-8 but not valid JSON) and
/// `truncated_bytes` says how much was dropped. Memory stays at `max_bytes`.
///
/// **Cost.** Nothing is done when the level is disabled. Otherwise a `serde_json::Value`
/// event is written straight from the tree, and another `Serialize` event is first
/// turned into a `Value` when there is something to redact (written straight
/// otherwise). An event that fails to serialize is logged as a warning; the
/// invocation goes on.
///
/// Works for any event `E: Serialize` and response `R: Serialize` (the response is
/// only serialized when `log_response` is set). Its name for tracing is `log_event`.
///
/// # Example
///
/// ```
/// use lambda_middleware::middlewares::{LogEvent, LogEventParams};
/// use lambda_middleware::{Context, Error, Handler};
/// use serde_json::{json, Value};
///
/// async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
///     Ok(json!({ "booked": event["detail"]["room"] }))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let params = LogEventParams::builder()
///     .redact(["/detail/guest/email", "/detail/guest/cards/*/number"])
///     .max_bytes(64 * 1024)
///     .log_response(true)
///     .build();
/// let handler = Handler::builder().middleware_with(LogEvent, params).handler(handler)?;
///
/// let event = json!({ "detail": { "room": 12, "guest": { "email": "ada@example.com" } } });
/// // Logs: lambda event event={"detail":{"guest":{"email":"*****"},"room":12}} bytes=48 truncated_bytes=0
/// let response = handler.invoke_with(event, &Context::default()).await?;
/// assert_eq!(response, json!({ "booked": 12 }));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct LogEvent;

/// What [`LogEvent`] logs, and how.
///
/// ```
/// use lambda_middleware::middlewares::LogEventParams;
///
/// // Everything has a default: the event at INFO, nothing redacted, 16 KiB at most.
/// let params = LogEventParams::builder().build();
///
/// let params = LogEventParams::builder()
///     .redact(["/headers/Authorization", "/body/password"])
///     .mask("[redacted]")
///     .max_bytes(4096)
///     .log_response(true)
///     .level(tracing::Level::DEBUG)
///     .build();
/// ```
#[derive(Clone, TypedBuilder)]
pub struct LogEventParams {
    /// JSON pointers to the values to replace by the mask (see [`LogEvent`]), in the
    /// event and in the response. Default: none.
    #[builder(
        default,
        setter(transform = |pointers: impl IntoIterator<Item = impl AsRef<str>>| {
            pointers.into_iter().map(|pointer| JsonPointer::new(pointer.as_ref())).collect()
        })
    )]
    redact: Vec<JsonPointer>,
    /// Header names whose values are redacted wherever HTTP events and responses keep
    /// headers (`headers`, `multiValueHeaders`, and the `cookies` of HTTP API events and
    /// responses for `Cookie` and `Set-Cookie`), in any case. Default:
    /// [`DEFAULT_REDACTED_HEADERS`]; `.redact_headers([] as [&str; 0])` logs them all.
    #[builder(
        default = header_pointers(DEFAULT_REDACTED_HEADERS),
        setter(transform = |names: impl IntoIterator<Item = impl AsRef<str>>| header_pointers(names))
    )]
    redact_headers: Vec<JsonPointer>,
    /// What a redacted value is replaced by (as a JSON string). Default: `*****`.
    #[builder(default = "*****".into(), setter(into))]
    mask: String,
    /// The most bytes of JSON one log line carries. Default: 16 KiB.
    #[builder(default = 16 * 1024)]
    max_bytes: usize,
    /// Also log the response (with the same redaction and cap). Default: `false`.
    #[builder(default = false)]
    log_response: bool,
    /// The level of the log lines. Default: `INFO`.
    #[builder(default = Level::INFO)]
    level: Level,
    /// Whether to log at all. Default: `POWERTOOLS_LOGGER_LOG_EVENT` when it is set,
    /// else `true` — so `POWERTOOLS_LOGGER_LOG_EVENT=false` turns event logging off
    /// without a rebuild, and `true` logs every event, as the variable does for
    /// Powertools' `log_event`. The variable takes `1 y yes t true on` / `0 n no f false
    /// off` in any case; another value makes `.handler(..)` fail with a
    /// [`BuildError`](lambda_middleware_core::BuildError) naming it. Setting this param wins over the
    /// variable.
    #[builder(default = enabled_from_env(), setter(transform = |enabled: bool| Ok(enabled)))]
    enabled: Result<bool, BuildError>,
}

fn enabled_from_env() -> Result<bool, BuildError> {
    match std::env::var(LOG_EVENT_ENV) {
        Ok(value) if !value.trim().is_empty() => parse_bool_env(LOG_EVENT_ENV, &value),
        _ => Ok(true),
    }
}

impl fmt::Debug for LogEventParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogEventParams")
            .field("redact", &self.redact.len())
            .field("redact_headers", &self.redact_headers.len())
            .field("mask", &self.mask)
            .field("max_bytes", &self.max_bytes)
            .field("log_response", &self.log_response)
            .field("level", &self.level)
            .field("enabled", &self.enabled)
            .finish()
    }
}

impl Default for LogEventParams {
    fn default() -> Self {
        LogEventParams::builder().build()
    }
}

impl<E, R> Middleware<E, R> for LogEvent
where
    E: Serialize + Send + 'static,
    R: Serialize + Send + 'static,
{
    type Params = LogEventParams;

    fn name(&self) -> &'static str {
        "log_event"
    }

    fn check(&self, params: &LogEventParams) -> Result<(), BuildError> {
        params.enabled.clone().map(drop)
    }

    fn before(&self, params: &LogEventParams, event: &mut E, _: &Context) -> Result<Flow<R>, Error> {
        if params.enabled == Ok(true) && level_enabled(params.level) {
            log(params, Logged::Event, event);
        }
        Ok(Flow::Continue)
    }

    fn after(&self, params: &LogEventParams, response: &mut R, _: &Context) -> Result<(), Error> {
        if params.log_response && params.enabled == Ok(true) && level_enabled(params.level) {
            log(params, Logged::Response, response);
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Logged {
    Event,
    Response,
}

fn log<T: Serialize + 'static>(params: &LogEventParams, what: Logged, value: &T) {
    match render(value, params) {
        Ok(capped) => emit(params.level, what, &capped),
        Err(error) => match what {
            Logged::Event => tracing::warn!(target: TARGET, %error, "the event could not be serialized for logging"),
            Logged::Response => {
                tracing::warn!(target: TARGET, %error, "the response could not be serialized for logging")
            }
        },
    }
}

/// The headers [`LogEvent`] redacts unless told otherwise: credentials and sessions.
///
/// ```
/// assert!(lambda_middleware::middlewares::DEFAULT_REDACTED_HEADERS.contains(&"Authorization"));
/// ```
pub const DEFAULT_REDACTED_HEADERS: [&str; 5] = [
    "Authorization",
    "Cookie",
    "Set-Cookie",
    "X-Api-Key",
    "X-Amz-Security-Token",
];

/// The pointers that reach a header's values: under `headers` and `multiValueHeaders`
/// (matched in any case there), and the `cookies` list of HTTP APIs for the cookies.
fn header_pointers(names: impl IntoIterator<Item = impl AsRef<str>>) -> Vec<JsonPointer> {
    let mut pointers = Vec::new();
    for name in names {
        let name = name.as_ref().replace('~', "~0").replace('/', "~1");
        pointers.push(JsonPointer::new(&format!("/headers/{name}")));
        pointers.push(JsonPointer::new(&format!("/multiValueHeaders/{name}")));
        if name.eq_ignore_ascii_case("cookie") || name.eq_ignore_ascii_case("set-cookie") {
            pointers.push(JsonPointer::new("/cookies"));
        }
    }
    pointers
}

/// `value` as redacted JSON, cut at `max_bytes`.
fn render<T: Serialize + 'static>(value: &T, params: &LogEventParams) -> Result<Capped, serde_json::Error> {
    let mut out = CappedWriter::new(params.max_bytes);
    let pointers = params.redact.iter().chain(&params.redact_headers);
    if let Some(json) = (value as &dyn Any).downcast_ref::<Value>() {
        write_redacted(&mut out, json, pointers, &params.mask).map_err(serde_json::Error::io)?;
    } else if params.redact.is_empty() && params.redact_headers.is_empty() {
        serde_json::to_writer(&mut out, value)?;
    } else {
        let json = serde_json::to_value(value)?;
        write_redacted(&mut out, &json, pointers, &params.mask).map_err(serde_json::Error::io)?;
    }
    Ok(out.finish())
}

/// `tracing` levels are part of each call site's static metadata, hence one call site
/// per level.
macro_rules! at_level {
    ($level:expr, $($args:tt)*) => {
        match $level {
            Level::ERROR => tracing::event!(target: TARGET, Level::ERROR, $($args)*),
            Level::WARN => tracing::event!(target: TARGET, Level::WARN, $($args)*),
            Level::INFO => tracing::event!(target: TARGET, Level::INFO, $($args)*),
            Level::DEBUG => tracing::event!(target: TARGET, Level::DEBUG, $($args)*),
            _ => tracing::event!(target: TARGET, Level::TRACE, $($args)*),
        }
    };
}

fn level_enabled(level: Level) -> bool {
    match level {
        Level::ERROR => tracing::enabled!(Level::ERROR),
        Level::WARN => tracing::enabled!(Level::WARN),
        Level::INFO => tracing::enabled!(Level::INFO),
        Level::DEBUG => tracing::enabled!(Level::DEBUG),
        _ => tracing::enabled!(Level::TRACE),
    }
}

fn emit(level: Level, what: Logged, capped: &Capped) {
    let Capped { text, total, dropped } = capped;
    match what {
        Logged::Event => at_level!(level, event = %text, bytes = total, truncated_bytes = dropped, "lambda event"),
        Logged::Response => {
            at_level!(level, response = %text, bytes = total, truncated_bytes = dropped, "lambda response")
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use serde_json::json;

    use super::{LogEventParams, render};

    #[test]
    fn typed_events_are_redacted_through_json() {
        #[derive(Serialize)]
        struct Booking {
            email: String,
            nights: u8,
        }
        let params = LogEventParams::builder().redact(["email"]).build();
        let booking = Booking {
            email: "ada@example.com".into(),
            nights: 2,
        };
        assert_eq!(
            render(&booking, &params).unwrap().text,
            r#"{"email":"*****","nights":2}"#
        );
        let plain = LogEventParams::builder().build();
        assert!(render(&booking, &plain).unwrap().text.contains("ada@example.com"));
    }

    #[test]
    fn a_value_that_cannot_be_serialized_is_an_error_not_a_panic() {
        let mut map = std::collections::HashMap::new();
        map.insert(vec![1u8], 1); // a map with non-string keys is not JSON
        let params = LogEventParams::builder().build();
        assert!(render(&map, &params).is_err());
    }

    #[test]
    fn six_megabytes_are_cut_to_the_cap() {
        let event = json!({ "blob": "é".repeat(3 * 1024 * 1024) });
        let params = LogEventParams::builder().max_bytes(1001).build();
        let capped = render(&event, &params).unwrap();
        assert!(capped.text.len() <= 1001);
        assert_eq!(capped.total, 6 * 1024 * 1024 + r#"{"blob":""}"#.len());
        assert_eq!(capped.text.len() + capped.dropped, capped.total);
        assert!(capped.text.starts_with(r#"{"blob":"éé"#));
    }
}
