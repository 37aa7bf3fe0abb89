//! [`init`]: the subscriber a Lambda function wants, in one line.

// The X-Ray layer is linked from these docs; without the `xray` feature it is not built.
#![cfg_attr(not(feature = "xray"), allow(rustdoc::broken_intra_doc_links))]

use std::io;

use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::Registry;

use super::buffer::LogBuffering;
use super::env::{self, FORMATS, InitError, LOG_FORMAT_ENV};
use super::fields::FieldValue;
use super::json::JsonLogger;
use super::level::LogLevel;

/// Installs the global `tracing` subscriber the way Lambda's advanced logging controls
/// expect, from the environment: the same as `Setup::from_env()?.init()`.
///
/// | variable | what it sets | default |
/// |----------|--------------|---------|
/// | `AWS_LAMBDA_LOG_FORMAT` | `JSON`: one [`JsonLogger`] object per line (Powertools' keys); `Text`: `tracing-subscriber`'s text lines, as `lambda_runtime` writes them | `Text` |
/// | `AWS_LAMBDA_LOG_LEVEL`, then a level set in code, then `POWERTOOLS_LOG_LEVEL` | the level ([`LogLevel`]), in Powertools' order | `INFO` |
/// | `POWERTOOLS_LOGGER_SAMPLE_RATE` | the fraction of invocations logged at `DEBUG` | none |
/// | `POWERTOOLS_SERVICE_NAME` | the `service` key of JSON lines | `service_undefined` |
///
/// Lines go to standard output, which Lambda sends to CloudWatch Logs. With the `xray`
/// feature, [`XrayLayer::from_env`](crate::xray::XrayLayer::from_env) is added
/// too, so the `## name` spans reach X-Ray as subsegments (nothing is sent when an
/// invocation is not sampled or no trace header is set).
///
/// A variable that is set to a value it cannot use is an [`InitError`] naming it, and
/// so is a second global subscriber. When the level asked for (`POWERTOOLS_LOG_LEVEL` or
/// in code) is more verbose than `AWS_LAMBDA_LOG_LEVEL`, which wins, `init` warns of it
/// with Powertools' words, on standard error (a `WARN` log line could be dropped itself).
///
/// **Compared with `lambda_runtime::tracing::init_default_subscriber()`**, which
/// `AWS_LAMBDA_LOG_FORMAT` and `AWS_LAMBDA_LOG_LEVEL` also drive:
///
/// | | `init_default_subscriber()` | `observe::init()` |
/// |---|---|---|
/// | JSON lines | `tracing-subscriber`'s: the event's fields nested under `fields`, the spans under `span` and `spans`, level `WARN` | Powertools': flat keys, the invocation's `function_request_id`, `cold_start`, `correlation_id`, `xray_trace_id` and `service` on every line, level `WARNING` |
/// | level | `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG` (per-target directives), else `INFO` | `AWS_LAMBDA_LOG_LEVEL`, else a level set in code, else `POWERTOOLS_LOG_LEVEL`, else `INFO`; `RUST_LOG` is not read |
/// | a value it cannot read | `INFO`, silently | an [`InitError`] naming the variable and the value |
/// | `DEBUG` for a fraction of invocations | no | `POWERTOOLS_LOGGER_SAMPLE_RATE` |
/// | X-Ray subsegments | no | with the `xray` feature |
/// | text lines | without time (CloudWatch adds it) and target | the same |
///
/// # Example
///
/// ```no_run
/// use lambda_middleware::middlewares::InjectLambdaContext;
/// use lambda_middleware::{Context, Error, Handler};
///
/// async fn handler(event: serde_json::Value, _: &Context) -> Result<serde_json::Value, Error> {
///     tracing::info!("handling"); // JSON with the request id under AWS_LAMBDA_LOG_FORMAT=JSON
///     Ok(event)
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), Error> {
///     lambda_middleware::observe::init()?;
///     let handler = Handler::builder().middleware(InjectLambdaContext).handler(handler)?;
///     lambda_runtime::run(handler).await
/// }
/// ```
pub fn init() -> Result<(), InitError> {
    Setup::from_env()?.init()
}

/// How log lines are written: Lambda's `AWS_LAMBDA_LOG_FORMAT`.
///
/// ```
/// use lambda_middleware::observe::LogFormat;
///
/// assert_eq!(LogFormat::parse("json")?, LogFormat::Json);
/// assert_eq!(LogFormat::from_env()?, LogFormat::Text); // unset in doctests
/// # Ok::<(), lambda_middleware::observe::InitError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LogFormat {
    /// `tracing-subscriber`'s text lines, without time (CloudWatch adds it) or target.
    #[default]
    Text,
    /// One [`JsonLogger`] object per line.
    Json,
}

impl LogFormat {
    /// `AWS_LAMBDA_LOG_FORMAT`: `JSON` or `Text` in any case; unset or empty is `Text`.
    ///
    /// ```
    /// use lambda_middleware::observe::LogFormat;
    ///
    /// assert_eq!(LogFormat::from_env()?, LogFormat::Text); // unset in doctests
    /// # Ok::<(), lambda_middleware::observe::InitError>(())
    /// ```
    pub fn from_env() -> Result<Self, InitError> {
        match env::var(LOG_FORMAT_ENV, FORMATS)? {
            Some(value) => LogFormat::parse(&value),
            None => Ok(LogFormat::Text),
        }
    }

    /// `JSON` or `Text`, in any case.
    ///
    /// ```
    /// use lambda_middleware::observe::LogFormat;
    ///
    /// assert_eq!(LogFormat::parse("Text")?, LogFormat::Text);
    /// assert!(LogFormat::parse("yaml").is_err());
    /// # Ok::<(), lambda_middleware::observe::InitError>(())
    /// ```
    pub fn parse(value: &str) -> Result<Self, InitError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(LogFormat::Json),
            "text" => Ok(LogFormat::Text),
            _ => Err(InitError::InvalidEnv {
                name: LOG_FORMAT_ENV,
                value: value.to_owned(),
                expected: FORMATS,
            }),
        }
    }
}

/// [`init`], with each part chosen in code: the format, the level, the service, the
/// writer and, with the `xray` feature, whether X-Ray subsegments are sent.
///
/// ```
/// use lambda_middleware::observe::{LogFormat, LogLevel, Setup};
/// use tracing::level_filters::LevelFilter;
///
/// let subscriber = Setup::from_env()?
///     .format(LogFormat::Json)
///     .level(LogLevel::new(LevelFilter::DEBUG))
///     .service("payments")
///     .with_writer(std::io::stderr)
///     .subscriber();
/// tracing::subscriber::with_default(subscriber, || tracing::debug!("to standard error, as JSON"));
/// # Ok::<(), lambda_middleware::observe::InitError>(())
/// ```
pub struct Setup<W = fn() -> io::Stdout> {
    format: LogFormat,
    level: LogLevel,
    logger: JsonLogger,
    writer: W,
    #[cfg(feature = "xray")]
    xray: bool,
}

impl Setup {
    /// Everything from the environment, as [`init`] reads it, writing to standard output.
    ///
    /// ```
    /// use lambda_middleware::observe::Setup;
    ///
    /// let setup = Setup::from_env()?;
    /// # Ok::<(), lambda_middleware::observe::InitError>(())
    /// ```
    pub fn from_env() -> Result<Self, InitError> {
        Ok(Setup {
            format: LogFormat::from_env()?,
            level: LogLevel::from_env()?,
            logger: JsonLogger::from_env()?,
            writer: io::stdout,
            #[cfg(feature = "xray")]
            xray: true,
        })
    }
}

impl<W> Setup<W>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    /// Text or JSON lines.
    ///
    /// ```
    /// # use lambda_middleware::observe::{LogFormat, Setup};
    /// let setup = Setup::from_env()?.format(LogFormat::Json);
    /// # Ok::<(), lambda_middleware::observe::InitError>(())
    /// ```
    pub fn format(mut self, format: LogFormat) -> Self {
        self.format = format;
        self
    }

    /// The level, and the sampling (the `sampling_rate` key of JSON lines follows it).
    /// Set in code, it beats `POWERTOOLS_LOG_LEVEL`, and `AWS_LAMBDA_LOG_LEVEL` beats it,
    /// as in Powertools (see [`LogLevel`]).
    ///
    /// ```
    /// # use lambda_middleware::observe::{LogLevel, Setup};
    /// # use tracing::level_filters::LevelFilter;
    /// let setup = Setup::from_env()?.level(LogLevel::new(LevelFilter::WARN).with_sample_rate(0.01)?);
    /// # Ok::<(), lambda_middleware::observe::InitError>(())
    /// ```
    pub fn level(mut self, level: LogLevel) -> Self {
        let mut level = level.under_lambda_level_of(&self.level);
        if let Some(buffering) = self.level.buffering() {
            level = level.with_buffering(buffering);
        }
        self.level = level;
        self.logger.sampling_rate = level.sample_rate().map(FieldValue::F64);
        self
    }

    /// Buffers the lines at or below a level per invocation and writes them only when
    /// it fails, on an `ERROR` line or on demand ([`LogBuffering`]) — JSON lines only.
    ///
    /// ```
    /// # use lambda_middleware::observe::{LogBuffering, Setup};
    /// let setup = Setup::from_env()?.log_buffering(LogBuffering::default());
    /// # Ok::<(), lambda_middleware::observe::InitError>(())
    /// ```
    pub fn log_buffering(mut self, buffering: LogBuffering) -> Self {
        self.logger.buffering = Some(buffering);
        self.level = self.level.with_buffering(buffering);
        self
    }

    /// The `service` key of JSON lines.
    ///
    /// ```
    /// # use lambda_middleware::observe::Setup;
    /// let setup = Setup::from_env()?.service("payments");
    /// # Ok::<(), lambda_middleware::observe::InitError>(())
    /// ```
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.logger.service = service.into();
        self
    }

    /// Where the lines go: a `tracing_subscriber::fmt::MakeWriter` (standard output by
    /// default).
    ///
    /// ```
    /// # use lambda_middleware::observe::Setup;
    /// let setup = Setup::from_env()?.with_writer(std::io::stderr);
    /// # Ok::<(), lambda_middleware::observe::InitError>(())
    /// ```
    pub fn with_writer<M>(self, make_writer: M) -> Setup<M>
    where
        M: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        Setup {
            format: self.format,
            level: self.level,
            logger: self.logger,
            writer: make_writer,
            #[cfg(feature = "xray")]
            xray: self.xray,
        }
    }

    /// Whether to add [`XrayLayer::from_env`](crate::xray::XrayLayer::from_env)
    /// (default: yes).
    ///
    /// ```
    /// # use lambda_middleware::observe::Setup;
    /// let setup = Setup::from_env()?.xray(false); // logs only
    /// # Ok::<(), lambda_middleware::observe::InitError>(())
    /// ```
    #[cfg(feature = "xray")]
    #[cfg_attr(docsrs, doc(cfg(feature = "xray")))]
    pub fn xray(mut self, send: bool) -> Self {
        self.xray = send;
        self
    }

    /// The subscriber, to install yourself (`tracing::subscriber::set_default` in a
    /// test, `with_default` around a block).
    ///
    /// ```
    /// use lambda_middleware::observe::Setup;
    ///
    /// let subscriber = Setup::from_env()?.subscriber();
    /// tracing::subscriber::with_default(subscriber, || tracing::info!("written as init would write it"));
    /// # Ok::<(), lambda_middleware::observe::InitError>(())
    /// ```
    pub fn subscriber(self) -> impl Subscriber + Send + Sync + 'static {
        tracing_subscriber::registry().with(self.layer())
    }

    /// The lines layer (and the X-Ray layer), for a subscriber that has more layers:
    /// put it first on the registry, then add yours (an OpenTelemetry layer, say).
    ///
    /// ```
    /// use lambda_middleware::observe::Setup;
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// let subscriber = tracing_subscriber::registry()
    ///     .with(Setup::from_env()?.layer())
    ///     .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink)); // yours
    /// # Ok::<(), lambda_middleware::observe::InitError>(())
    /// ```
    pub fn layer(self) -> Box<dyn Layer<Registry> + Send + Sync> {
        let lines: Box<dyn Layer<Registry> + Send + Sync> = match self.format {
            LogFormat::Json => self.logger.with_writer(self.writer).with_filter(self.level).boxed(),
            LogFormat::Text => tracing_subscriber::fmt::layer()
                .with_writer(self.writer)
                .with_ansi(false)
                .with_target(false)
                .without_time()
                .with_filter(self.level)
                .boxed(),
        };
        // Not `and_then(Option<XrayLayer>)`: a `None` layer tells `tracing` that it wants
        // no level at all, and beside the per-layer filter of the lines that made the
        // subscriber's maximum level `OFF`, so every line was lost.
        #[cfg(feature = "xray")]
        if self.xray {
            return lines.and_then(crate::xray::XrayLayer::from_env()).boxed();
        }
        lines
    }

    /// Installs the subscriber as the global default; a second global subscriber is
    /// [`InitError::AlreadyInitialized`].
    ///
    /// ```no_run
    /// # use lambda_middleware::observe::Setup;
    /// Setup::from_env()?.service("payments").init()?;
    /// # Ok::<(), lambda_middleware::observe::InitError>(())
    /// ```
    pub fn init(self) -> Result<(), InitError> {
        let warning = self.level.lambda_drops_lines();
        tracing::subscriber::set_global_default(self.subscriber()).map_err(|_| InitError::AlreadyInitialized)?;
        if let Some(warning) = warning {
            // On standard error, not as a log line: a WARN line is what Lambda drops at
            // the level this warns about. A plain line is not filtered by level.
            eprintln!("lambda-middleware: {warning}");
        }
        Ok(())
    }
}

impl<W> std::fmt::Debug for Setup<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("Setup");
        debug
            .field("format", &self.format)
            .field("level", &self.level)
            .field("service", &self.logger.service());
        #[cfg(feature = "xray")]
        debug.field("xray", &self.xray);
        debug.finish_non_exhaustive()
    }
}
