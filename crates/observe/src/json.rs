//! [`JsonLogger`]: one JSON object per log line, with Powertools' keys.

use std::cell::RefCell;
use std::io::{self, Write as _};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::buffer::{FLUSH_TARGET, Held, LogBuffering};
use super::env::{self, InitError, RATE, SAMPLE_RATE_ENV};
use super::fields::{FieldValue, Fields, write_json, write_str};
use super::spans::{self, SpanKind};
use super::time::Rfc3339;
use crate::log_event;
use crate::tracer::SERVICE_NAME_ENV;

/// The service name when `POWERTOOLS_SERVICE_NAME` is unset, as Powertools writes it.
pub const UNDEFINED_SERVICE: &str = "service_undefined";

/// The X-Ray trace header Lambda sets for `lambda_runtime::run` (not under `run_concurrent`).
const TRACE_HEADER_ENV: &str = "_X_AMZN_TRACE_ID";

/// A `tracing-subscriber` layer that writes each event as one line of JSON with the
/// keys of Powertools' Logger — what CloudWatch Logs Insights queries and Lambda's
/// advanced logging controls read (`level`, `timestamp`). The equivalent of
/// Powertools' `Logger(utc=True, use_rfc3339=True)` with `@logger.inject_lambda_context`.
///
/// ```json
/// {"level":"INFO","location":"bookings::handler:42","message":"booking confirmed","timestamp":"2025-05-01T12:30:45.123+00:00",
///  "service":"bookings","cold_start":true,"function_name":"bookings","function_memory_size":256,
///  "function_arn":"arn:aws:lambda:eu-west-1:123456789012:function:bookings","function_request_id":"c6af9ac6-…",
///  "correlation_id":"order-7","booking_id":42,"xray_trace_id":"1-5759e988-bd862e3fe1be46a994272793"}
/// ```
///
/// | key | value |
/// |-----|-------|
/// | `level` | `TRACE`, `DEBUG`, `INFO`, `WARNING`, `ERROR`: Powertools' names (Python's `WARNING` for `WARN`) |
/// | `location` | `module::path:line` of the log call: Rust's closest to Powertools' `function:line` |
/// | `message` | the event's message (left out when it has none) |
/// | `timestamp` | RFC 3339 in UTC with milliseconds: `2025-05-01T12:30:45.123+00:00` |
/// | `service` | `POWERTOOLS_SERVICE_NAME`, or `service_undefined` |
/// | `sampling_rate` | `POWERTOOLS_LOGGER_SAMPLE_RATE` as written there, when it is set |
/// | `cold_start`, `function_name`, `function_memory_size`, `function_arn`, `function_request_id` | from the span of [`InjectLambdaContext`](crate::InjectLambdaContext) |
/// | `correlation_id` | from `CorrelationId`, once it found or made one |
/// | the fields of your spans, then the event's own fields | typed: numbers and booleans stay numbers and booleans; `%x` and `?x` are strings; an error (`error = &e as &dyn Error`) is its message and its sources' |
/// | `xray_trace_id` | the `Root` of the invocation's X-Ray trace header (`1-…-…`), last as in Powertools |
///
/// Without `InjectLambdaContext`, under `lambda_runtime`, `function_request_id` and
/// `xray_trace_id` still come from the runtime's own span around each invocation —
/// under `run_concurrent` too, where each line carries its own invocation's.
/// [`LogEvent`](crate::LogEvent)'s `event` and `response` are written
/// as JSON objects (as Powertools' `log_event=True` writes the event), unless they were
/// cut at its size cap. A span's or the event's field that has the name of one of
/// Powertools' keys replaces its value, except `level`, `location`, `message` and
/// `timestamp`, which are never replaced; the crate's `## name` middleware spans and
/// the runtime's `worker` spans add nothing.
///
/// Each line is written with one `write` call to the writer (standard output by
/// default), so lines from concurrent invocations never interleave. It filters
/// nothing itself: put a [`LogLevel`](super::LogLevel) on it (or let
/// [`init`](super::init) do it).
///
/// # Example
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use lambda_middleware::middlewares::InjectLambdaContext;
/// use lambda_middleware::observe::{JsonLogger, LogLevel};
/// use lambda_middleware::{Context, Error, Handler};
/// use tracing_subscriber::layer::{Layer, SubscriberExt};
///
/// async fn handler(event: u64, _: &Context) -> Result<u64, Error> {
///     tracing::info!(booking_id = event, "booking confirmed");
///     Ok(event)
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// // Under Lambda: `lambda_middleware::observe::init()?` sets this up on standard output.
/// let lines = Arc::new(Mutex::new(Vec::<u8>::new()));
/// let writer = { let lines = Arc::clone(&lines); move || Sink(Arc::clone(&lines)) };
/// let logger = JsonLogger::new("bookings").with_writer(writer).with_filter(LogLevel::from_env()?);
/// let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(logger));
///
/// let handler = Handler::builder().middleware(InjectLambdaContext).handler(handler)?;
/// let mut context = Context::default();
/// context.request_id = "c6af9ac6".into();
/// handler.invoke_with(42, &context).await?;
///
/// let lines = lines.lock().unwrap();
/// let line: serde_json::Value = serde_json::from_slice(&lines).unwrap();
/// assert_eq!(line["level"], "INFO");
/// assert_eq!(line["message"], "booking confirmed");
/// assert_eq!(line["service"], "bookings");
/// assert_eq!(line["function_request_id"], "c6af9ac6");
/// assert_eq!(line["booking_id"], 42);
/// # Ok(()) }
/// # struct Sink(Arc<Mutex<Vec<u8>>>);
/// # impl std::io::Write for Sink {
/// #     fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().extend_from_slice(buf); Ok(buf.len()) }
/// #     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// # }
/// ```
pub struct JsonLogger<W = fn() -> io::Stdout> {
    pub(super) service: String,
    pub(super) sampling_rate: Option<FieldValue>,
    pub(super) buffering: Option<LogBuffering>,
    writer: W,
}

impl JsonLogger {
    /// A logger for the service `POWERTOOLS_SERVICE_NAME` (`service_undefined` when
    /// unset), with the `sampling_rate` key when `POWERTOOLS_LOGGER_SAMPLE_RATE` is set,
    /// writing to standard output. A sample rate that is not a number from 0 to 1 is an
    /// [`InitError`].
    ///
    /// ```
    /// use lambda_middleware::observe::JsonLogger;
    ///
    /// let logger = JsonLogger::from_env()?;
    /// assert_eq!(logger.service(), "service_undefined"); // unset in doctests
    /// # Ok::<(), lambda_middleware::observe::InitError>(())
    /// ```
    pub fn from_env() -> Result<Self, InitError> {
        let service = env::var(SERVICE_NAME_ENV, "a service name")?;
        let sampling_rate = match env::var(SAMPLE_RATE_ENV, RATE)? {
            Some(text) if env::parse_rate(&text).is_some() => Some(FieldValue::Str(text)),
            Some(text) => {
                return Err(InitError::InvalidEnv {
                    name: SAMPLE_RATE_ENV,
                    value: text,
                    expected: RATE,
                });
            }
            None => None,
        };
        let mut logger = JsonLogger::new(service.unwrap_or_else(|| UNDEFINED_SERVICE.to_owned()));
        logger.sampling_rate = sampling_rate;
        Ok(logger)
    }

    /// A logger for `service`, writing to standard output.
    ///
    /// ```
    /// use lambda_middleware::observe::JsonLogger;
    ///
    /// assert_eq!(JsonLogger::new("payments").service(), "payments");
    /// ```
    pub fn new(service: impl Into<String>) -> Self {
        JsonLogger {
            service: service.into(),
            sampling_rate: None,
            buffering: None,
            writer: io::stdout,
        }
    }
}

impl<W> JsonLogger<W> {
    /// The same logger, writing each line to a writer `make_writer` makes (see
    /// `tracing_subscriber::fmt::MakeWriter`: `std::io::stderr`, a closure, a
    /// `Mutex<File>`, a non-blocking writer).
    ///
    /// ```
    /// use lambda_middleware::observe::JsonLogger;
    ///
    /// let logger = JsonLogger::new("payments").with_writer(std::io::stderr);
    /// ```
    pub fn with_writer<M>(self, make_writer: M) -> JsonLogger<M>
    where
        M: for<'w> MakeWriter<'w> + 'static,
    {
        JsonLogger {
            service: self.service,
            sampling_rate: self.sampling_rate,
            buffering: self.buffering,
            writer: make_writer,
        }
    }

    /// Holds the lines at or below a level per invocation and writes them only when it
    /// goes wrong ([`LogBuffering`]). The filter in front of the logger must let those
    /// lines through: give it the same buffering ([`LogLevel::with_buffering`](crate::LogLevel::with_buffering)),
    /// as [`Setup::log_buffering`](crate::Setup::log_buffering) does.
    ///
    /// ```
    /// use lambda_middleware::observe::{JsonLogger, LogBuffering, LogLevel};
    /// use tracing::level_filters::LevelFilter;
    /// use tracing_subscriber::layer::{Layer, SubscriberExt};
    ///
    /// let buffering = LogBuffering::default();
    /// let logger = JsonLogger::new("payments").with_buffering(buffering);
    /// let level = LogLevel::new(LevelFilter::INFO).with_buffering(buffering);
    /// let subscriber = tracing_subscriber::registry().with(logger.with_filter(level));
    /// ```
    pub fn with_buffering(mut self, buffering: LogBuffering) -> Self {
        self.buffering = Some(buffering);
        self
    }

    /// Writes the `sampling_rate` key with `rate` on every line: pair it with the
    /// same rate on the `LogLevel` that filters this layer
    /// ([`from_env`](JsonLogger::from_env) reads both from the same variable).
    ///
    /// ```
    /// use lambda_middleware::observe::JsonLogger;
    ///
    /// let logger = JsonLogger::new("payments").with_sampling_rate(0.1);
    /// ```
    pub fn with_sampling_rate(mut self, rate: f64) -> Self {
        self.sampling_rate = Some(FieldValue::F64(rate));
        self
    }

    /// The `service` key of every line.
    ///
    /// ```
    /// use lambda_middleware::observe::JsonLogger;
    ///
    /// assert_eq!(JsonLogger::new("payments").service(), "payments");
    /// ```
    pub fn service(&self) -> &str {
        &self.service
    }
}

impl<W> std::fmt::Debug for JsonLogger<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLogger")
            .field("service", &self.service)
            .field("sampling_rate", &self.sampling_rate)
            .finish_non_exhaustive()
    }
}

/// What the logger keeps of a span, in its extensions.
#[derive(Debug)]
struct SpanFields {
    kind: SpanKind,
    fields: Fields,
}

impl<S, W> Layer<S> for JsonLogger<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let kind = spans::classify(attrs.metadata());
        if kind == SpanKind::Silent {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        // One buffer per invocation, on its outermost span (InjectLambdaContext's span
        // inside the runtime's uses the runtime's).
        if self.buffering.is_some() && spans::is_invocation(attrs.metadata()) {
            let inherited = span.parent().is_some_and(|parent| {
                parent
                    .scope()
                    .any(|span| span.extensions().get::<Mutex<Held>>().is_some())
            });
            if !inherited {
                span.extensions_mut().replace(Mutex::new(Held::default()));
            }
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        span.extensions_mut().replace(SpanFields { kind, fields });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(span_fields) = extensions.get_mut::<SpanFields>() {
            values.record(&mut span_fields.fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        if metadata.target() == FLUSH_TARGET {
            self.flush(event, &ctx);
            return;
        }
        let mut own = Fields::default();
        event.record(&mut own);

        let spans: Vec<_> = ctx
            .event_scope(event)
            .map(|scope| scope.from_root().collect())
            .unwrap_or_default();
        let extensions: Vec<_> = spans.iter().map(|span| span.extensions()).collect();

        let mut line = Line(Vec::with_capacity(32));
        line.push("level", Val::Str(level_name(metadata.level())));
        line.push("location", Val::Location(metadata));
        if let Some(message) = own.get("message") {
            line.push("message", Val::Field(message));
        }
        line.push("timestamp", Val::Time(SystemTime::now()));
        line.push("service", Val::Str(&self.service));
        if let Some(rate) = &self.sampling_rate {
            line.push("sampling_rate", Val::Field(rate));
        }

        let mut invocation = Invocation::default();
        for span in extensions
            .iter()
            .filter_map(|extensions| extensions.get::<SpanFields>())
        {
            if span.kind != SpanKind::User {
                invocation.take(span.kind, &span.fields);
            }
        }
        for (key, value) in [
            ("cold_start", invocation.cold_start),
            ("function_name", invocation.function_name),
            ("function_memory_size", invocation.function_memory_size),
            ("function_arn", invocation.function_arn),
            ("function_request_id", invocation.function_request_id),
            ("correlation_id", invocation.correlation_id),
        ] {
            if let Some(value) = value {
                line.push(key, Val::Field(value));
            }
        }

        let user = extensions
            .iter()
            .filter_map(|extensions| extensions.get::<SpanFields>())
            .filter(|span| span.kind == SpanKind::User)
            .flat_map(|span| span.fields.0.iter());
        let embeds_json = metadata.target() == log_event::TARGET;
        for (key, value) in user.into_iter().chain(own.0.iter()) {
            if matches!(*key, "level" | "location" | "message" | "timestamp") {
                continue;
            }
            let value = match value {
                FieldValue::Str(text) if embeds_json && matches!(*key, "event" | "response") && is_json(text) => {
                    Val::Raw(text)
                }
                value => Val::Field(value),
            };
            line.set(key, value);
        }

        let env_trace;
        let trace_header = match invocation.xray_trace_id.and_then(FieldValue::as_str) {
            Some(header) => Some(header),
            None => {
                env_trace = std::env::var(TRACE_HEADER_ENV).ok();
                env_trace.as_deref()
            }
        };
        if let Some(root) = trace_header.and_then(trace_root) {
            line.set("xray_trace_id", Val::Str(root));
        }

        if let Some(buffering) = self.buffering {
            if buffering.holds(metadata.level()) {
                let mut bytes = Vec::new();
                line.write_to(&mut bytes);
                // Outside an invocation there is nothing to hold it for: written as usual.
                match self.hold(event, &ctx, bytes, buffering.max_bytes) {
                    Ok(()) => return,
                    Err(bytes) => {
                        let _ = self.writer.make_writer_for(metadata).write_all(&bytes);
                        return;
                    }
                }
            }
            if buffering.flush_on_error_log && *metadata.level() == Level::ERROR {
                self.flush(event, &ctx);
            }
        }

        BUFFER.with(|buffer| match buffer.try_borrow_mut() {
            Ok(mut buffer) => self.write(metadata, &line, &mut buffer),
            // A log call while a line is being written (from a writer that logs).
            Err(_) => self.write(metadata, &line, &mut Vec::new()),
        });
    }
}

impl<W> JsonLogger<W>
where
    W: for<'w> MakeWriter<'w> + 'static,
{
    /// Holds `line` in the buffer of `event`'s invocation, or gives it back when there is none.
    fn hold<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>, line: Vec<u8>, max_bytes: usize) -> Result<(), Vec<u8>>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(scope) = ctx.event_scope(event) else {
            return Err(line);
        };
        for span in scope {
            let extensions = span.extensions();
            if let Some(held) = extensions.get::<Mutex<Held>>() {
                held.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(line, max_bytes);
                return Ok(());
            }
        }
        Err(line)
    }

    /// Writes the lines held for `event`'s invocation, oldest first.
    fn flush<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(scope) = ctx.event_scope(event) else { return };
        for span in scope {
            let extensions = span.extensions();
            if let Some(held) = extensions.get::<Mutex<Held>>() {
                let (lines, evicted) = held.lock().unwrap_or_else(PoisonError::into_inner).take();
                for line in lines {
                    let _ = self.writer.make_writer_for(event.metadata()).write_all(&line);
                }
                if evicted {
                    // On standard error, as the crate's other warnings about its own output.
                    eprintln!(
                        "lambda-middleware: some buffered log lines are not shown because the buffer was full; \
                         raise LogBuffering's max_bytes to keep more"
                    );
                }
                return;
            }
        }
    }
}

thread_local! {
    /// The line being written, kept between lines so its capacity is reused.
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl<W> JsonLogger<W>
where
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn write(&self, metadata: &tracing::Metadata<'_>, line: &Line<'_>, buffer: &mut Vec<u8>) {
        buffer.clear();
        line.write_to(buffer);
        // Nothing to do about a log line that cannot be written: the invocation goes on.
        let _ = self.writer.make_writer_for(metadata).write_all(buffer);
        if buffer.capacity() > 64 * 1024 {
            // A huge line (a big event) once should not keep its memory for good.
            *buffer = Vec::new();
        }
    }
}

/// The invocation's keys, from the spans it runs in (the innermost wins).
#[derive(Default)]
struct Invocation<'a> {
    cold_start: Option<&'a FieldValue>,
    function_name: Option<&'a FieldValue>,
    function_memory_size: Option<&'a FieldValue>,
    function_arn: Option<&'a FieldValue>,
    function_request_id: Option<&'a FieldValue>,
    correlation_id: Option<&'a FieldValue>,
    xray_trace_id: Option<&'a FieldValue>,
}

impl<'a> Invocation<'a> {
    fn take(&mut self, kind: SpanKind, fields: &'a Fields) {
        for (name, value) in &fields.0 {
            let slot = match (kind, *name) {
                (SpanKind::LambdaContext, "cold_start") => &mut self.cold_start,
                (SpanKind::LambdaContext, "function_name") => &mut self.function_name,
                (SpanKind::LambdaContext, "function_memory_size") => &mut self.function_memory_size,
                (SpanKind::LambdaContext, "function_arn") => &mut self.function_arn,
                (SpanKind::LambdaContext, "request_id") | (SpanKind::RuntimeInvoke, "requestId") => {
                    &mut self.function_request_id
                }
                (SpanKind::LambdaContext | SpanKind::CorrelationId, "correlation_id") => &mut self.correlation_id,
                (SpanKind::LambdaContext, "xray_trace_id") | (SpanKind::RuntimeInvoke, "xrayTraceId") => {
                    &mut self.xray_trace_id
                }
                _ => continue,
            };
            *slot = Some(value);
        }
    }
}

/// A value on a line: a field, a string, text that is already JSON, or what is
/// written straight into the line (the location, the time).
#[derive(Clone, Copy)]
enum Val<'a> {
    Field(&'a FieldValue),
    Str(&'a str),
    Raw(&'a str),
    Location(&'a tracing::Metadata<'a>),
    Time(SystemTime),
}

/// The keys of one line, in order, each once.
#[derive(Default)]
struct Line<'a>(Vec<(&'a str, Val<'a>)>);

impl<'a> Line<'a> {
    fn push(&mut self, key: &'a str, value: Val<'a>) {
        self.0.push((key, value));
    }

    /// Replaces the value of `key` where it is, or adds it at the end.
    fn set(&mut self, key: &'a str, value: Val<'a>) {
        match self.0.iter_mut().find(|(existing, _)| *existing == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    fn write_to(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        for (index, (key, value)) in self.0.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            write_str(out, key);
            out.push(b':');
            match value {
                Val::Field(value) => write_json(out, value),
                Val::Str(text) => write_str(out, text),
                Val::Raw(json) => out.extend_from_slice(json.as_bytes()),
                Val::Location(metadata) => write_location(out, metadata),
                Val::Time(time) => {
                    out.push(b'"');
                    out.extend_from_slice(&Rfc3339(*time).bytes());
                    out.push(b'"');
                }
            }
        }
        out.extend_from_slice(b"}\n");
    }
}

/// `"module::path:line"`: the module path of the log call (its target when there is
/// none) and the line.
fn write_location(out: &mut Vec<u8>, metadata: &tracing::Metadata<'_>) {
    let name = metadata.module_path().unwrap_or(metadata.target());
    // A module path needs no escaping; a target chosen by hand might.
    if name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
    {
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        if let Some(number) = metadata.line() {
            out.push(b':');
            let _ = serde_json::to_writer(&mut *out, &number);
        }
        out.push(b'"');
    } else {
        match metadata.line() {
            Some(number) => write_str(out, &format!("{name}:{number}")),
            None => write_str(out, name),
        }
    }
}

/// Powertools' level names: Python's `WARNING` for `WARN`.
fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => "INFO",
        Level::WARN => "WARNING",
        Level::ERROR => "ERROR",
    }
}

/// The `Root` of an X-Ray trace header (`Root=1-…-…;Parent=…;Sampled=1`), as
/// Powertools writes `xray_trace_id`; a header without one is left out.
fn trace_root(header: &str) -> Option<&str> {
    header
        .split(';')
        .find_map(|part| part.trim().strip_prefix("Root="))
        .filter(|root| !root.is_empty())
}

/// Whether `text` is one whole JSON value (LogEvent's text is not when it was cut).
fn is_json(text: &str) -> bool {
    serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_of_a_trace_header() {
        assert_eq!(
            trace_root("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"),
            Some("1-5759e988-bd862e3fe1be46a994272793")
        );
        assert_eq!(
            trace_root("Self=1-67891234-12456789abcdef012345678;Root=1-67891233-abcdef012345678912345678"),
            Some("1-67891233-abcdef012345678912345678")
        );
        assert_eq!(trace_root("Parent=53995c3f42cd8ad8"), None);
        assert_eq!(trace_root("Root="), None);
    }

    #[test]
    fn a_key_set_again_keeps_its_place() {
        let mut line = Line::default();
        line.push("level", Val::Str("INFO"));
        line.push("service", Val::Str("a"));
        line.set("order", Val::Raw("7"));
        line.set("service", Val::Str("b"));
        let mut out = Vec::new();
        line.write_to(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"level\":\"INFO\",\"service\":\"b\",\"order\":7}\n"
        );
    }

    #[test]
    fn json_or_not() {
        assert!(is_json(r#"{"a":[1,2]}"#));
        assert!(!is_json(r#"{"a":[1,2"#));
        assert!(!is_json(r#"{"a":1} trailing"#));
    }
}
