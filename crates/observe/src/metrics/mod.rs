//! [`Metrics`]: CloudWatch metrics from anywhere in an invocation, written once at its
//! end in the Embedded Metric Format.

mod emf;
mod error;
mod handle;
mod unit;

use std::fmt;
use std::io::Write as _;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use lambda_runtime::{Context, Error};
use typed_builder::TypedBuilder;

pub use error::MetricsError;
pub use handle::InvocationMetrics;
pub use unit::{MetricResolution, MetricUnit, UnknownUnit};

use self::emf::MetricSet;
use self::handle::{CURRENT, Sink};
use super::env::{self, METRICS_DISABLED_ENV, METRICS_FUNCTION_NAME_ENV, METRICS_NAMESPACE_ENV};
use super::time::epoch_millis;
use crate::tracer::SERVICE_NAME_ENV;
use lambda_middleware_core::BuildError;
use lambda_middleware_core::Invoke;
use lambda_middleware_core::Middleware;
use lambda_middleware_core::trace::parse_bool_env;
use lambda_middleware_core::{Next, Proceeded};

/// Collects the invocation's CloudWatch metrics and writes them when it ends, as one
/// line of [Embedded Metric Format] JSON on standard output, which CloudWatch Logs
/// turns into metrics — Powertools' `Metrics` with `@metrics.log_metrics`, Middy's
/// `cloudwatch-metrics`.
///
/// Inside the invocation — in the handler, in the middlewares inside this one, in
/// anything they call — [`Metrics::current`] gives the invocation's
/// [`InvocationMetrics`], to add metrics (`add_metric(name, unit, value)`, high
/// resolution too), dimensions and metadata. Each invocation has its own: under
/// `lambda_runtime::run_concurrent`, invocations running at once never share metrics.
///
/// When the rest of the chain ends, successfully or not (and when its future is
/// dropped: a panic, a `Timeout` outside this one),
/// the metrics are written once:
///
/// ```json
/// {"_aws":{"Timestamp":1714566645123,"CloudWatchMetrics":[{"Namespace":"ServerlessAirline",
///   "Dimensions":[["environment","service"]],"Metrics":[{"Name":"BookingsConfirmed","Unit":"Count"}]}]},
///  "environment":"prod","service":"bookings","booking_id":"b-42","BookingsConfirmed":[1.0]}
/// ```
///
/// - **Namespace**: `namespace`, else `POWERTOOLS_METRICS_NAMESPACE`; without one,
///   `.handler(..)` fails with a [`BuildError`].
/// - **Dimensions**: the default ones (params), then the invocation's, then
///   `service` (`POWERTOOLS_SERVICE_NAME`, or the `service` param) unless one of that
///   name was added; at most 30.
/// - **Values** are lists, as Powertools writes them: a metric added three times has
///   three values. `StorageResolution` is written for high-resolution metrics only.
/// - **More than 100 metrics, or 100 values of a metric**, are split into several
///   lines, each with the dimensions and the metadata: CloudWatch takes 100 of each
///   per document.
/// - **No metrics**: a `tracing` warning and nothing written, as Powertools does; with
///   `raise_on_empty_metrics`, a successful invocation fails with
///   [`MetricsError::NoMetrics`] instead (a failed one keeps its own error).
/// - **Cold start**: with `capture_cold_start_metric`, the first invocation of the
///   process (one of the first concurrent ones under `run_concurrent`, the same one
///   whose log lines say `cold_start`) also writes a
///   `ColdStart` metric of 1 in a line of its own, with the `function_name` (the
///   `function_name` param, else `POWERTOOLS_METRICS_FUNCTION_NAME`, else the
///   function's name) and `service` dimensions only, as Powertools writes it — on
///   success and on failure alike, where Powertools skips it when the first invocation
///   fails.
/// - **Off**: `POWERTOOLS_METRICS_DISABLED=true` writes nothing (the handle still
///   accepts metrics, so the code is the same).
///
/// Every rule of CloudWatch is checked where it can be: units are a type
/// ([`MetricUnit`]), names, values and dimensions are checked when they are added (a
/// [`MetricsError`], nothing recorded, the invocation goes on), and the namespace,
/// service and default dimensions when the handler is built.
///
/// Works with any event and response type. Its name for tracing is `log_metrics`.
///
/// [Embedded Metric Format]: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
///
/// # Example
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use lambda_middleware::observe::{Metrics, MetricsParams, MetricUnit};
/// use lambda_middleware::{Context, Error, Handler};
///
/// async fn book(nights: u32, _: &Context) -> Result<u32, Error> {
///     let metrics = Metrics::current()?;
///     metrics.add_metric("BookingsConfirmed", MetricUnit::Count, 1)?;
///     metrics.add_metric("Nights", MetricUnit::Count, nights)?;
///     metrics.add_dimension("channel", "web")?;
///     Ok(nights)
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let lines = Arc::new(Mutex::new(Vec::new()));
/// let sink = Arc::clone(&lines);
/// let params = MetricsParams::builder()
///     .namespace("ServerlessAirline")
///     .service("bookings")
///     .default_dimensions([("environment", "prod")])
///     .output(move |line: &str| sink.lock().unwrap().push(line.to_owned())) // standard output by default
///     .build();
/// let handler = Handler::builder().middleware_with(Metrics, params).handler(book)?;
///
/// handler.invoke_with(3, &Context::default()).await?;
/// let lines = lines.lock().unwrap();
/// let emf: serde_json::Value = serde_json::from_str(&lines[0])?;
/// assert_eq!(emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0], serde_json::json!(["environment", "channel", "service"]));
/// assert_eq!(emf["Nights"], serde_json::json!([3.0]));
/// assert_eq!(emf["service"], "bookings");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Metrics;

impl Metrics {
    /// The metrics of the invocation running here: inside the chain of a handler built
    /// with the `Metrics` middleware, in the same task. Elsewhere (before the
    /// middleware, in a task spawned without the handle) it is
    /// [`MetricsError::NoInvocation`].
    ///
    /// ```
    /// use lambda_middleware::observe::{Metrics, MetricUnit};
    /// use lambda_middleware::{Context, Error};
    ///
    /// async fn handler(event: String, _: &Context) -> Result<String, Error> {
    ///     Metrics::current()?.add_metric("Characters", MetricUnit::Count, event.len() as u32)?;
    ///     Ok(event)
    /// }
    /// ```
    pub fn current() -> Result<InvocationMetrics, MetricsError> {
        InvocationMetrics::current()
    }
}

/// Where EMF lines go: a function given each line (without its newline). Standard
/// output by default, where Lambda's CloudWatch Logs stream picks them up.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use lambda_middleware::observe::EmfOutput;
///
/// let lines = Arc::new(Mutex::new(Vec::<String>::new()));
/// let sink = Arc::clone(&lines);
/// let output = EmfOutput::new(move |line| sink.lock().unwrap().push(line.to_owned()));
/// ```
#[derive(Clone)]
pub struct EmfOutput(Arc<dyn Fn(&str) + Send + Sync>);

impl EmfOutput {
    /// Each line to `write`.
    ///
    /// ```
    /// # use lambda_middleware::observe::EmfOutput;
    /// let output = EmfOutput::new(|line| eprintln!("{line}"));
    /// ```
    pub fn new(write: impl Fn(&str) + Send + Sync + 'static) -> Self {
        EmfOutput(Arc::new(write))
    }

    /// Each line to standard output, with its newline, in one write under the lock.
    ///
    /// ```
    /// # use lambda_middleware::observe::EmfOutput;
    /// let output = EmfOutput::stdout();
    /// ```
    pub fn stdout() -> Self {
        EmfOutput::new(|line| {
            let mut stdout = std::io::stdout().lock();
            // A line that cannot be written is lost; the invocation goes on.
            let _ = stdout.write_all(line.as_bytes()).and_then(|()| stdout.write_all(b"\n"));
            let _ = stdout.flush();
        })
    }

    fn write(&self, line: &str) {
        (self.0)(line);
    }
}

impl Default for EmfOutput {
    fn default() -> Self {
        EmfOutput::stdout()
    }
}

impl fmt::Debug for EmfOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmfOutput")
    }
}

/// How [`Metrics`] writes: namespace, service, default dimensions, cold start metric,
/// what to do without metrics, and where the lines go.
///
/// ```
/// use lambda_middleware::observe::MetricsParams;
///
/// // Namespace and service from POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME:
/// let params = MetricsParams::builder().build();
///
/// let params = MetricsParams::builder()
///     .namespace("ServerlessAirline")
///     .service("bookings")
///     .default_dimensions([("environment", "prod"), ("region", "eu-west-1")])
///     .capture_cold_start_metric(true)
///     .raise_on_empty_metrics(true)
///     .build();
/// ```
#[derive(Debug, Clone, TypedBuilder)]
pub struct MetricsParams {
    /// The CloudWatch namespace. Default: `POWERTOOLS_METRICS_NAMESPACE`. One of the
    /// two is required.
    #[builder(default = env_value(METRICS_NAMESPACE_ENV), setter(strip_option, into))]
    namespace: Option<String>,
    /// The `service` dimension. Default: `POWERTOOLS_SERVICE_NAME`; none when unset.
    #[builder(default = env_value(SERVICE_NAME_ENV), setter(strip_option, into))]
    service: Option<String>,
    /// Dimensions of every metric of every invocation, in this order. Default: none.
    #[builder(
        default,
        setter(transform = |dimensions: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>| {
            dimensions.into_iter().map(|(name, value)| (name.into(), value.into())).collect()
        })
    )]
    default_dimensions: Vec<(String, String)>,
    /// Write a `ColdStart` metric on the first invocation of the process. Default: `false`.
    #[builder(default = false)]
    capture_cold_start_metric: bool,
    /// The `function_name` dimension of `ColdStart`. Default:
    /// `POWERTOOLS_METRICS_FUNCTION_NAME`, else the function's name from the context.
    #[builder(default = env_value(METRICS_FUNCTION_NAME_ENV), setter(strip_option, into))]
    function_name: Option<String>,
    /// Fail an otherwise successful invocation that recorded no metric
    /// ([`MetricsError::NoMetrics`]), instead of warning. Default: `false`.
    #[builder(default = false)]
    raise_on_empty_metrics: bool,
    /// Warn (a `WARN` line) when an invocation recorded no metric, as Powertools does.
    /// `false` silences it, as Powertools users filter its warning out. Default: `true`.
    #[builder(default = true)]
    warn_on_empty_metrics: bool,
    /// A metric of every invocation, this name with the value 1 (`Count`): every request
    /// counted, early answers (a CORS preflight, a warmer) and failures included, with no
    /// middleware of your own. Its invocations are never empty. Default: none.
    #[builder(default, setter(strip_option, into))]
    count_invocations: Option<String>,
    /// Where the lines go. Default: standard output.
    #[builder(default, setter(transform = |write: impl Fn(&str) + Send + Sync + 'static| EmfOutput::new(write)))]
    output: EmfOutput,
    /// Write nothing. Default: `POWERTOOLS_METRICS_DISABLED` (a boolean), else `false`.
    #[builder(default = disabled_from_env(), setter(transform = |disabled: bool| Ok(disabled)))]
    disabled: Result<bool, BuildError>,
    /// Where single metrics go, made at the first invocation and shared by the others.
    #[builder(default, setter(skip))]
    sink: OnceLock<Arc<Sink>>,
}

impl Default for MetricsParams {
    fn default() -> Self {
        MetricsParams::builder().build()
    }
}

fn env_value(name: &'static str) -> Option<String> {
    env::var(name, "text").ok().flatten()
}

/// `POWERTOOLS_METRICS_DISABLED`, else `POWERTOOLS_DEV` (development mode writes no
/// metrics unless `POWERTOOLS_METRICS_DISABLED` says otherwise), as Powertools reads them.
fn disabled_from_env() -> Result<bool, BuildError> {
    match std::env::var(METRICS_DISABLED_ENV) {
        Ok(value) if !value.trim().is_empty() => parse_bool_env(METRICS_DISABLED_ENV, &value),
        _ => match std::env::var(DEV_ENV) {
            Ok(value) if !value.trim().is_empty() => parse_bool_env(DEV_ENV, &value),
            _ => Ok(false),
        },
    }
}

/// Powertools' development mode.
const DEV_ENV: &str = "POWERTOOLS_DEV";

impl MetricsParams {
    /// The namespace and output single metrics use, shared by every invocation.
    fn sink(&self) -> Arc<Sink> {
        Arc::clone(self.sink.get_or_init(|| {
            Arc::new(Sink {
                namespace: self.namespace.clone(),
                output: self.output.clone(),
                disabled: matches!(self.disabled, Ok(true)),
            })
        }))
    }

    /// Everything CloudWatch would refuse in every invocation, refused once.
    fn validate(&self) -> Result<(), String> {
        let namespace = self
            .namespace
            .as_deref()
            .ok_or_else(|| format!("no namespace: set {METRICS_NAMESPACE_ENV}, or the namespace param"))?;
        if !emf::namespace_ok(namespace) {
            return Err(format!(
                "the namespace {namespace:?} is not valid; expected {}",
                emf::NAMESPACE
            ));
        }
        let mut set = MetricSet::new(&[], self.service.as_deref());
        if let Some(service) = &self.service {
            emf::check_dimension_value("service", service).map_err(|error| error.to_string())?;
        }
        for (name, value) in &self.default_dimensions {
            set.add_dimension(name, value)
                .map_err(|error| format!("default dimension: {error}"))?;
        }
        if let Some(function_name) = &self.function_name {
            emf::check_dimension_value("function_name", function_name).map_err(|error| error.to_string())?;
        }
        if let Some(name) = &self.count_invocations {
            set.add_metric(name, MetricUnit::Count, MetricResolution::Standard, 1.0)
                .map_err(|error| format!("count_invocations: {error}"))?;
        }
        Ok(())
    }
}

impl<E: Send, R: Send> Middleware<E, R> for Metrics {
    type Params = MetricsParams;

    fn name(&self) -> &'static str {
        "log_metrics"
    }

    fn check(&self, params: &MetricsParams) -> Result<(), BuildError> {
        if let Err(error) = &params.disabled {
            return Err(error.clone());
        }
        params
            .validate()
            .map_err(|reason| BuildError::invalid_params("log_metrics", reason))
    }

    async fn call<'n, I>(
        &self,
        params: &MetricsParams,
        event: E,
        ctx: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<E, Response = R>,
    {
        let cold_start = params.capture_cold_start_metric && crate::cold_start::is_cold_start(ctx);
        let metrics = InvocationMetrics::new(MetricSet::new(&params.default_dimensions, params.service.as_deref()))
            .with_sink(params.sink());
        let mut flush = Flush {
            metrics: metrics.clone(),
            params,
            ctx,
            cold_start,
            done: false,
        };
        if let Some(name) = &params.count_invocations {
            // The name was checked when the handler was built: this cannot fail.
            let _ = metrics.add_metric(name, MetricUnit::Count, 1.0);
        }
        // Made inside the scope too, for the `before` hooks of the middlewares inside.
        let rest = CURRENT.sync_scope(metrics.clone(), || next.run(event));
        let outcome = CURRENT.scope(metrics, rest).await;
        let written = flush.write(outcome.is_ok());
        match outcome {
            Ok(response) => {
                written?;
                Ok(response)
            }
            Err(failure) => Err(failure.into()),
        }
    }
}

/// Writes the invocation's metrics once: when the chain ends, or when its future is
/// dropped before (a panic, a cancellation).
struct Flush<'a> {
    metrics: InvocationMetrics,
    params: &'a MetricsParams,
    ctx: &'a Context,
    cold_start: bool,
    done: bool,
}

impl Flush<'_> {
    /// `Err(NoMetrics)` when there were none, it is asked to fail, and the chain succeeded.
    fn write(&mut self, succeeded: bool) -> Result<(), MetricsError> {
        self.done = true;
        let Some(set) = self.metrics.take() else {
            return Ok(());
        };
        let params = self.params;
        if matches!(params.disabled, Ok(true)) {
            return Ok(());
        }
        let Some(namespace) = params.namespace.as_deref() else {
            return Ok(()); // refused by `check` when the handler was built
        };
        let timestamp = epoch_millis(SystemTime::now());
        if self.cold_start {
            let function_name = params
                .function_name
                .as_deref()
                .or_else(|| Some(self.ctx.env_config.function_name.as_str()).filter(|name| !name.is_empty()));
            params.output.write(&emf::cold_start_document(
                namespace,
                timestamp,
                function_name,
                params.service.as_deref(),
            ));
        }
        if set.is_empty() {
            if params.raise_on_empty_metrics && succeeded {
                return Err(MetricsError::NoMetrics);
            }
            if !params.warn_on_empty_metrics {
                return Ok(());
            }
            tracing::warn!(
                "no application metrics to write (a ColdStart metric may have been written, when asked for); \
                 set raise_on_empty_metrics to make this an error"
            );
            return Ok(());
        }
        for document in set.documents(namespace, timestamp) {
            params.output.write(&document);
        }
        Ok(())
    }
}

impl Drop for Flush<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if std::thread::panicking() {
            // The invocation is unwinding from a panic: a second panic here (in the
            // output, or in a subscriber's warning) would abort the process and lose the
            // report `lambda_runtime` makes of the first one.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.write(false)));
        } else {
            let _ = self.write(false);
        }
    }
}
