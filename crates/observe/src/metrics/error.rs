//! [`MetricsError`]: every way a metric can break CloudWatch's rules.

use super::unit::{MetricResolution, MetricUnit};

/// Why a metric, a dimension or a metadata entry was not recorded, or why an
/// invocation failed for want of metrics.
///
/// The metrics calls return it and record nothing: the invocation goes on unless the
/// code says otherwise (`?` fails it, `.ok()` ignores it). The only error [`Metrics`]
/// returns itself is [`NoMetrics`](MetricsError::NoMetrics), and only when asked to
/// (`raise_on_empty_metrics`).
///
/// [`Metrics`]: super::Metrics
///
/// ```
/// use lambda_middleware::observe::{Metrics, MetricsError};
///
/// // Outside an invocation that runs inside the `Metrics` middleware:
/// let error = Metrics::current().unwrap_err();
/// assert_eq!(error, MetricsError::NoInvocation);
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// Called outside an invocation running inside the [`Metrics`](crate::Metrics)
    /// middleware (or in a task spawned from one: take a handle with
    /// `Metrics::current()` first and move it into the task).
    #[error(
        "no invocation with metrics here: add the Metrics middleware to the chain \
         (`.middleware_with(Metrics, params)`), and take `Metrics::current()` before spawning a task"
    )]
    NoInvocation,
    /// The invocation the handle belongs to has ended and its metrics were written.
    #[error("the invocation's metrics were already written; {what} {name:?} came too late")]
    Flushed {
        /// `metric`, `dimension` or `metadata`.
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// A metric, dimension or metadata name CloudWatch refuses.
    #[error("{what} name {name:?} is not valid: {expected}")]
    InvalidName {
        /// `metric`, `dimension` or `metadata`.
        what: &'static str,
        /// The name.
        name: String,
        /// What CloudWatch accepts.
        expected: &'static str,
    },
    /// A metric value CloudWatch refuses.
    #[error(
        "metric {name:?} has the value {value:?}; expected a finite number between -2^360 and 2^360 (0, or at least 2^-360 away from it)"
    )]
    InvalidValue {
        /// The metric.
        name: String,
        /// The value.
        value: f64,
    },
    /// A dimension value CloudWatch refuses.
    #[error("dimension {name:?} has the value {value:?}; expected 1 to 1024 ASCII characters, not all spaces")]
    InvalidDimensionValue {
        /// The dimension.
        name: String,
        /// The value.
        value: String,
    },
    /// A metric added again with another unit: one invocation's values of a metric
    /// share one unit.
    #[error("metric {name:?} was added as {first}, now as {now}; one metric has one unit")]
    UnitConflict {
        /// The metric.
        name: String,
        /// The unit it was first added with.
        first: MetricUnit,
        /// The unit it was added with now.
        now: MetricUnit,
    },
    /// A metric added again with another resolution.
    #[error("metric {name:?} was added with {first:?} resolution, now with {now:?}; one metric has one resolution")]
    ResolutionConflict {
        /// The metric.
        name: String,
        /// The resolution it was first added with.
        first: MetricResolution,
        /// The resolution it was added with now.
        now: MetricResolution,
    },
    /// A name already taken by another kind of member: EMF puts metrics, dimensions and
    /// metadata side by side at the root of one JSON object.
    #[error("{what} {name:?} has the name of a {taken_by} of this invocation; EMF keeps them in one object")]
    NameTaken {
        /// `metric`, `dimension` or `metadata`.
        what: &'static str,
        /// The name.
        name: String,
        /// What already has it.
        taken_by: &'static str,
    },
    /// A 31st dimension: CloudWatch takes at most 30 per metric, `service` included.
    #[error(
        "dimension {name:?} would be the 31st; CloudWatch takes at most 30 per metric (the service dimension included)"
    )]
    TooManyDimensions {
        /// The dimension refused.
        name: String,
    },
    /// A metadata value that does not serialize to JSON.
    #[error("metadata {key:?} does not serialize to JSON: {reason}")]
    InvalidMetadata {
        /// The key.
        key: String,
        /// serde's message.
        reason: String,
    },
    /// The invocation recorded no metric, and `raise_on_empty_metrics` is set.
    #[error("the invocation recorded no metrics, and raise_on_empty_metrics is set")]
    NoMetrics,
}
