//! [`InvocationMetrics`]: the handle to one invocation's metrics, found from anywhere
//! in it.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::EmfOutput;
use super::emf::{self, MetricSet};
use super::error::MetricsError;
use super::unit::{MetricResolution, MetricUnit};

tokio::task_local! {
    /// The metrics of the invocation the current task is running, set by the
    /// `Metrics` middleware around the rest of the chain.
    pub(crate) static CURRENT: InvocationMetrics;
}

/// The metrics of one invocation: what [`Metrics::current`](crate::Metrics::current)
/// gives inside it, to add metrics, dimensions and metadata — Powertools' `metrics`
/// object, one per invocation.
///
/// A cheap clone (a reference count) that is `Send + Sync + 'static`: move it into a
/// task the handler spawns, where `Metrics::current()` cannot see the invocation.
/// Everything added is written when the invocation ends; a handle kept past that gets
/// [`MetricsError::Flushed`].
///
/// Each call checks what it is given against CloudWatch's rules and records nothing
/// when they are broken: the [`MetricsError`] says what and why, and the invocation
/// goes on unless the code decides otherwise (`?`).
///
/// ```
/// use lambda_middleware::observe::{Metrics, MetricUnit};
/// use lambda_middleware::{Context, Error};
///
/// async fn handler(event: u64, _: &Context) -> Result<u64, Error> {
///     let metrics = Metrics::current()?;
///     metrics.add_metric("BookingsConfirmed", MetricUnit::Count, 1)?;
///     metrics.add_dimension("route", "/bookings")?;
///     metrics.add_metadata("booking_id", event)?;
///     let spawned = metrics.clone(); // for a task: the handle goes with it
///     tokio::spawn(async move { spawned.add_metric("Notified", MetricUnit::Count, 1) }).await??;
///     Ok(event)
/// }
/// ```
#[derive(Clone)]
pub struct InvocationMetrics {
    set: Arc<Mutex<Option<MetricSet>>>,
    sink: Option<Arc<Sink>>,
}

/// Where [`InvocationMetrics::single_metric`] writes: the middleware's namespace and
/// output. Made once per params and shared by their invocations.
pub(crate) struct Sink {
    pub(crate) namespace: Option<String>,
    pub(crate) output: EmfOutput,
    pub(crate) disabled: bool,
}

/// The output is a closure: the namespace and the switch are what there is to show.
impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sink")
            .field("namespace", &self.namespace)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// How far from now CloudWatch takes a metric's timestamp: 14 days back, 2 hours ahead.
const PAST: Duration = Duration::from_secs(14 * 24 * 3600);
const FUTURE: Duration = Duration::from_secs(2 * 3600);

impl InvocationMetrics {
    pub(crate) fn new(set: MetricSet) -> Self {
        InvocationMetrics {
            set: Arc::new(Mutex::new(Some(set))),
            sink: None,
        }
    }

    /// The same, writing single metrics to `output` under `namespace` (nothing when
    /// `disabled`).
    pub(crate) fn with_sink(mut self, sink: Arc<Sink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// The handle of the invocation the current task runs.
    pub(crate) fn current() -> Result<Self, MetricsError> {
        CURRENT.try_with(Clone::clone).map_err(|_| MetricsError::NoInvocation)
    }

    fn lock(&self) -> MutexGuard<'_, Option<MetricSet>> {
        // The lock is only held inside this module, by code that does not panic; a
        // poisoned one still holds a consistent set.
        self.set.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn with(
        &self,
        what: &'static str,
        name: &str,
        f: impl FnOnce(&mut MetricSet) -> Result<(), MetricsError>,
    ) -> Result<(), MetricsError> {
        match self.lock().as_mut() {
            Some(set) => f(set),
            None => Err(MetricsError::Flushed {
                what,
                name: name.to_owned(),
            }),
        }
    }

    /// The set, taken out for writing: later calls get [`MetricsError::Flushed`].
    pub(crate) fn take(&self) -> Option<MetricSet> {
        self.lock().take()
    }

    /// Adds a value of the metric `name` (standard resolution: one minute). A metric
    /// added again in the invocation gets one more value (written as a list, as
    /// Powertools writes them); it must keep its unit.
    ///
    /// ```
    /// # use lambda_middleware::observe::{Metrics, MetricUnit};
    /// # fn f() -> Result<(), lambda_middleware::observe::MetricsError> {
    /// let metrics = Metrics::current()?;
    /// metrics.add_metric("Latency", MetricUnit::Milliseconds, 12.5)?;
    /// metrics.add_metric("Retries", MetricUnit::Count, 2)?;
    /// # Ok(()) }
    /// ```
    pub fn add_metric(&self, name: &str, unit: MetricUnit, value: impl Into<f64>) -> Result<(), MetricsError> {
        self.add_metric_with_resolution(name, unit, value, MetricResolution::Standard)
    }

    /// Adds a value of the metric `name` with a storage resolution: `High` for
    /// per-second metrics (`"StorageResolution": 1`).
    ///
    /// ```
    /// # use lambda_middleware::observe::{Metrics, MetricResolution, MetricUnit};
    /// # fn f() -> Result<(), lambda_middleware::observe::MetricsError> {
    /// Metrics::current()?.add_metric_with_resolution("QueueDepth", MetricUnit::Count, 42, MetricResolution::High)?;
    /// # Ok(()) }
    /// ```
    pub fn add_metric_with_resolution(
        &self,
        name: &str,
        unit: MetricUnit,
        value: impl Into<f64>,
        resolution: MetricResolution,
    ) -> Result<(), MetricsError> {
        let value = value.into();
        self.with("metric", name, |set| set.add_metric(name, unit, resolution, value))
    }

    /// Adds a dimension to every metric of the invocation (a default dimension or one
    /// added before gets the new value, with a warning). At most 30, `service`
    /// included.
    ///
    /// ```
    /// # use lambda_middleware::observe::Metrics;
    /// # fn f() -> Result<(), lambda_middleware::observe::MetricsError> {
    /// Metrics::current()?.add_dimension("payment_method", "card")?;
    /// # Ok(()) }
    /// ```
    pub fn add_dimension(&self, name: &str, value: &str) -> Result<(), MetricsError> {
        self.with("dimension", name, |set| set.add_dimension(name, value))
    }

    /// Adds a dimension set of its own to the invocation's documents — the default
    /// dimensions and these — beside the first one (Powertools' `add_dimensions`): each
    /// metric is then published under every set. An empty set, or an entry with an empty
    /// name or value, is skipped with a warning, as Powertools skips it.
    ///
    /// ```
    /// use lambda_middleware::observe::{MetricUnit, Metrics};
    /// use lambda_middleware::{Context, Error};
    ///
    /// async fn handler(_: u64, _: &Context) -> Result<(), Error> {
    ///     let metrics = Metrics::current()?;
    ///     metrics.add_metric("Orders", MetricUnit::Count, 1)?;
    ///     // "Dimensions": [["service"], ["environment", "region"]]
    ///     metrics.add_dimensions([("environment", "prod"), ("region", "eu-west-1")])?;
    ///     Ok(())
    /// }
    /// ```
    pub fn add_dimensions<K: AsRef<str>, V: AsRef<str>>(
        &self,
        dimensions: impl IntoIterator<Item = (K, V)>,
    ) -> Result<(), MetricsError> {
        let dimensions: Vec<(String, String)> = dimensions
            .into_iter()
            .map(|(name, value)| (name.as_ref().to_owned(), value.as_ref().to_owned()))
            .collect();
        let first = dimensions.first().map(|(name, _)| name.clone()).unwrap_or_default();
        self.with("dimension", &first, |set| set.add_dimension_set(&dimensions))
    }

    /// The `Timestamp` of the invocation's documents, instead of the time they are
    /// written (Powertools' `set_timestamp`). CloudWatch skips metrics more than 14
    /// days in the past or 2 hours in the future: such a time is kept, with a warning,
    /// as Powertools keeps it.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use lambda_middleware::observe::Metrics;
    /// use lambda_middleware::{Context, Error};
    ///
    /// async fn handler(_: u64, _: &Context) -> Result<(), Error> {
    ///     // The order was placed a minute ago; its metric belongs there.
    ///     Metrics::current()?.set_timestamp(SystemTime::now() - Duration::from_secs(60))?;
    ///     Ok(())
    /// }
    /// ```
    pub fn set_timestamp(&self, at: SystemTime) -> Result<(), MetricsError> {
        let now = SystemTime::now();
        let too_old = now.duration_since(at).is_ok_and(|ago| ago > PAST);
        let too_new = at.duration_since(now).is_ok_and(|ahead| ahead > FUTURE);
        if too_old || too_new {
            tracing::warn!(
                "this metric's timestamp is more than 14 days in the past or 2 hours in the future: \
                 CloudWatch will skip it"
            );
        }
        let ms = crate::time::epoch_millis(at);
        self.with("timestamp", "Timestamp", |set| {
            set.set_timestamp(ms);
            Ok(())
        })
    }

    /// Writes one metric at once, in a document of its own with only `dimensions` (none
    /// of the invocation's), under the middleware's namespace — Powertools'
    /// `single_metric`, for a metric whose dimensions should not apply to the others.
    ///
    /// ```
    /// use lambda_middleware::observe::{MetricUnit, Metrics};
    /// use lambda_middleware::{Context, Error};
    ///
    /// async fn handler(_: u64, ctx: &Context) -> Result<(), Error> {
    ///     let version = ctx.env_config.version.as_str();
    ///     Metrics::current()?.single_metric("Deployed", MetricUnit::Count, 1, [("function_version", version)])?;
    ///     Ok(())
    /// }
    /// ```
    pub fn single_metric<K: AsRef<str>, V: AsRef<str>>(
        &self,
        name: &str,
        unit: MetricUnit,
        value: impl Into<f64>,
        dimensions: impl IntoIterator<Item = (K, V)>,
    ) -> Result<(), MetricsError> {
        let dimensions: Vec<(String, String)> = dimensions
            .into_iter()
            .map(|(name, value)| (name.as_ref().to_owned(), value.as_ref().to_owned()))
            .collect();
        if self.lock().is_none() {
            return Err(MetricsError::Flushed {
                what: "metric",
                name: name.to_owned(),
            });
        }
        let Some(sink) = &self.sink else { return Ok(()) };
        let metric = (name, unit, MetricResolution::Standard, value.into());
        let Some(namespace) = sink.namespace.as_deref() else {
            return Ok(());
        };
        let document = emf::single_metric_document(
            namespace,
            crate::time::epoch_millis(SystemTime::now()),
            metric,
            &dimensions,
        )?;
        if !sink.disabled {
            sink.output.write(&document);
        }
        Ok(())
    }

    /// Adds a metadata entry: any `Serialize` value, written beside the metrics (found
    /// in the logs with CloudWatch Logs Insights, not a dimension). The same key again
    /// replaces the value.
    ///
    /// ```
    /// # use lambda_middleware::observe::Metrics;
    /// # fn f() -> Result<(), lambda_middleware::observe::MetricsError> {
    /// Metrics::current()?.add_metadata("booking", serde_json::json!({ "id": 42, "nights": 3 }))?;
    /// # Ok(()) }
    /// ```
    pub fn add_metadata(&self, key: &str, value: impl Serialize) -> Result<(), MetricsError> {
        let value = serde_json::to_value(value).map_err(|error| MetricsError::InvalidMetadata {
            key: key.to_owned(),
            reason: error.to_string(),
        })?;
        self.with("metadata", key, |set| set.add_metadata(key, value))
    }
}

impl fmt::Debug for InvocationMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("InvocationMetrics").field(&*self.lock()).finish()
    }
}
