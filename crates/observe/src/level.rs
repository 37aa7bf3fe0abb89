//! [`LogLevel`]: which lines are logged, with Powertools' per-invocation DEBUG sampling.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;

use super::buffer::{FLUSH_TARGET, LogBuffering};
use super::env::{self, InitError, LAMBDA_LOG_LEVEL_ENV, LEVELS, LOG_LEVEL_ENV, RATE, SAMPLE_RATE_ENV};
use super::spans;

/// Which log lines a layer writes: a level, and optionally Powertools' sampling, which
/// logs a fraction of invocations at `DEBUG` whatever the level. A per-layer
/// [`Filter`] for `tracing-subscriber`: put it on the layer that writes logs, as
/// [`init`](super::init) does.
///
/// | variable | meaning | default |
/// |----------|---------|---------|
/// | `AWS_LAMBDA_LOG_LEVEL` | `TRACE`, `DEBUG`, `INFO`, `WARN`/`WARNING`, `ERROR`/`CRITICAL`/`FATAL`, in any case; Lambda sets it from the function's advanced logging controls | none |
/// | `POWERTOOLS_LOG_LEVEL` | the same | `INFO` |
/// | `POWERTOOLS_LOGGER_SAMPLE_RATE` | a number from 0 to 1: that fraction of invocations logs at `DEBUG` | none |
///
/// A value that is set but not one of these is an [`InitError`] naming the variable.
///
/// **Which level wins**, in Powertools' order: `AWS_LAMBDA_LOG_LEVEL` (Lambda's
/// advanced logging controls, which drop the lines below it anyway), then a level set in
/// code ([`LogLevel::in_code`], [`Setup::level`](crate::Setup::level)), then
/// `POWERTOOLS_LOG_LEVEL`, then `INFO`. When the level asked for (in code or by
/// `POWERTOOLS_LOG_LEVEL`) is more verbose than `AWS_LAMBDA_LOG_LEVEL`, [`init`](super::init)
/// warns on standard error, with Powertools' words.
///
/// **Sampling** is decided once per invocation, when its span opens: the span of
/// [`InjectLambdaContext`](crate::InjectLambdaContext), or the one
/// `lambda_runtime` opens around each invocation (`Lambda runtime invoke`). The lines of
/// a sampled invocation are written down to `DEBUG`; the other invocations keep the
/// level; under `lambda_runtime::run_concurrent` each invocation has its own decision.
/// Lines logged outside any invocation keep the level.
///
/// **Spans** are let through up to `INFO` whatever the level (the invocation's spans
/// are `INFO` and `ERROR`), so the lines of a function logging at `WARN` still carry
/// the request id; more verbose spans only down to the level.
///
/// # Example
///
/// ```
/// use lambda_middleware::observe::{JsonLogger, LogLevel};
/// use tracing::level_filters::LevelFilter;
/// use tracing_subscriber::layer::{Layer, SubscriberExt};
///
/// // What `init` reads: AWS_LAMBDA_LOG_LEVEL, then POWERTOOLS_LOG_LEVEL, and the sample rate.
/// let level = LogLevel::from_env()?;
/// assert_eq!(level.level(), LevelFilter::INFO); // neither is set in doctests
///
/// let level = LogLevel::new(LevelFilter::WARN).with_sample_rate(0.1)?; // 1 in 10 at DEBUG
/// let subscriber = tracing_subscriber::registry().with(JsonLogger::from_env()?.with_filter(level));
/// # Ok::<(), lambda_middleware::observe::InitError>(())
/// ```
#[derive(Clone, Copy, PartialEq)]
pub struct LogLevel {
    level: LevelFilter,
    sample_rate: Option<f64>,
    lambda_level: Option<LevelFilter>,
    /// The level asked for in code or by `POWERTOOLS_LOG_LEVEL`, when
    /// `AWS_LAMBDA_LOG_LEVEL` overrides it: for the warning.
    asked: Option<LevelFilter>,
    /// The lines held for the logger's buffer, let through inside invocations.
    buffering: Option<LogBuffering>,
}

impl LogLevel {
    /// Lines at `level` and above, no sampling.
    ///
    /// ```
    /// use lambda_middleware::observe::LogLevel;
    /// use tracing::level_filters::LevelFilter;
    ///
    /// assert_eq!(LogLevel::new(LevelFilter::DEBUG).level(), LevelFilter::DEBUG);
    /// ```
    pub const fn new(level: LevelFilter) -> Self {
        LogLevel {
            level,
            sample_rate: None,
            lambda_level: None,
            asked: None,
            buffering: None,
        }
    }

    /// The same level, letting through, inside invocations, the lines `buffering` holds
    /// whatever the level: pair it with the same buffering on the logger
    /// ([`JsonLogger::with_buffering`](crate::JsonLogger::with_buffering)).
    ///
    /// ```
    /// use lambda_middleware::observe::{LogBuffering, LogLevel};
    /// use tracing::level_filters::LevelFilter;
    ///
    /// let level = LogLevel::new(LevelFilter::INFO).with_buffering(LogBuffering::default());
    /// assert_eq!(level.level(), LevelFilter::INFO); // what is written at once
    /// ```
    pub fn with_buffering(mut self, buffering: LogBuffering) -> Self {
        self.buffering = Some(buffering);
        self
    }

    /// A level set in code, as Powertools' `Logger(level=...)`: it beats
    /// `POWERTOOLS_LOG_LEVEL`, and `AWS_LAMBDA_LOG_LEVEL` beats it (Lambda drops the
    /// lines below that level whatever the function asks). The sample rate is read from
    /// `POWERTOOLS_LOGGER_SAMPLE_RATE`.
    ///
    /// ```
    /// use lambda_middleware::observe::LogLevel;
    /// use tracing::level_filters::LevelFilter;
    ///
    /// // AWS_LAMBDA_LOG_LEVEL is unset in doctests: the level in code holds.
    /// assert_eq!(LogLevel::in_code(LevelFilter::DEBUG)?.level(), LevelFilter::DEBUG);
    /// # Ok::<(), lambda_middleware::observe::InitError>(())
    /// ```
    pub fn in_code(level: LevelFilter) -> Result<Self, InitError> {
        Ok(LogLevel::from_env()?.asking(level))
    }

    /// `self` as set in code, under the lambda level `env` read (when `self` did not read
    /// one itself): the lambda level wins.
    pub(crate) fn under_lambda_level_of(self, env: &LogLevel) -> Self {
        if self.lambda_level.is_some() || env.lambda_level.is_none() {
            return self;
        }
        LogLevel {
            lambda_level: env.lambda_level,
            ..self
        }
        .asking(self.level)
    }

    /// This level's lambda level and sample rate, asking for `level`: the lambda level wins.
    pub(crate) fn asking(self, level: LevelFilter) -> Self {
        LogLevel {
            level: resolve(self.lambda_level, Some(level)),
            asked: Some(level),
            ..self
        }
    }

    /// The level from `AWS_LAMBDA_LOG_LEVEL`, else `POWERTOOLS_LOG_LEVEL`, else `INFO`
    /// (Powertools' order); the sample rate from `POWERTOOLS_LOGGER_SAMPLE_RATE`.
    ///
    /// ```
    /// use lambda_middleware::observe::LogLevel;
    /// use tracing::level_filters::LevelFilter;
    ///
    /// let level = LogLevel::from_env()?;
    /// assert_eq!((level.level(), level.sample_rate()), (LevelFilter::INFO, None)); // unset in doctests
    /// # Ok::<(), lambda_middleware::observe::InitError>(())
    /// ```
    pub fn from_env() -> Result<Self, InitError> {
        let powertools = match env::var(LOG_LEVEL_ENV, LEVELS)? {
            Some(value) => Some(LogLevel::parse(LOG_LEVEL_ENV, &value)?),
            None => None,
        };
        let lambda = match env::var(LAMBDA_LOG_LEVEL_ENV, LEVELS)? {
            Some(value) => Some(LogLevel::parse(LAMBDA_LOG_LEVEL_ENV, &value)?),
            None => None,
        };
        let sample_rate = match env::var(SAMPLE_RATE_ENV, RATE)? {
            Some(value) => Some(env::parse_rate(&value).ok_or(InitError::InvalidEnv {
                name: SAMPLE_RATE_ENV,
                value,
                expected: RATE,
            })?),
            None => None,
        };
        Ok(LogLevel {
            level: resolve(lambda, powertools),
            sample_rate: sample_rate.filter(|rate| *rate > 0.0),
            lambda_level: lambda,
            asked: powertools,
            buffering: None,
        })
    }

    /// Parses a level as the variable `name` holds it: Powertools' names (`WARNING`,
    /// `CRITICAL`) and Lambda's (`WARN`, `FATAL`), in any case.
    ///
    /// ```
    /// use lambda_middleware::observe::LogLevel;
    /// use tracing::level_filters::LevelFilter;
    ///
    /// assert_eq!(LogLevel::parse("POWERTOOLS_LOG_LEVEL", "warning")?, LevelFilter::WARN);
    /// assert_eq!(LogLevel::parse("AWS_LAMBDA_LOG_LEVEL", "FATAL")?, LevelFilter::ERROR);
    /// assert!(LogLevel::parse("POWERTOOLS_LOG_LEVEL", "verbose").is_err());
    /// # Ok::<(), lambda_middleware::observe::InitError>(())
    /// ```
    pub fn parse(name: &'static str, value: &str) -> Result<LevelFilter, InitError> {
        env::parse_level(value).ok_or_else(|| InitError::InvalidEnv {
            name,
            value: value.to_owned(),
            expected: LEVELS,
        })
    }

    /// The same level, with `rate` of the invocations (0 to 1) logging at `DEBUG`; 0
    /// turns sampling off. Anything else is [`InitError::InvalidSampleRate`].
    ///
    /// ```
    /// use lambda_middleware::observe::LogLevel;
    /// use tracing::level_filters::LevelFilter;
    ///
    /// let level = LogLevel::new(LevelFilter::INFO).with_sample_rate(0.25)?;
    /// assert_eq!(level.sample_rate(), Some(0.25));
    /// assert!(LogLevel::new(LevelFilter::INFO).with_sample_rate(1.5).is_err());
    /// # Ok::<(), lambda_middleware::observe::InitError>(())
    /// ```
    pub fn with_sample_rate(mut self, rate: f64) -> Result<Self, InitError> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(InitError::InvalidSampleRate(rate));
        }
        self.sample_rate = (rate > 0.0).then_some(rate);
        Ok(self)
    }

    /// The buffering the filter lets through, if any.
    pub(crate) fn buffering(&self) -> Option<LogBuffering> {
        self.buffering
    }

    /// The level lines are written at, outside sampled invocations.
    ///
    /// ```
    /// # use lambda_middleware::observe::LogLevel;
    /// # use tracing::level_filters::LevelFilter;
    /// assert_eq!(LogLevel::new(LevelFilter::ERROR).level(), LevelFilter::ERROR);
    /// ```
    pub fn level(&self) -> LevelFilter {
        self.level
    }

    /// The fraction of invocations logged at `DEBUG`, when sampling is on.
    ///
    /// ```
    /// # use lambda_middleware::observe::LogLevel;
    /// # use tracing::level_filters::LevelFilter;
    /// assert_eq!(LogLevel::new(LevelFilter::INFO).sample_rate(), None);
    /// ```
    pub fn sample_rate(&self) -> Option<f64> {
        self.sample_rate
    }

    /// When the level asked for (in code or by `POWERTOOLS_LOG_LEVEL`) is more verbose
    /// than `AWS_LAMBDA_LOG_LEVEL`, which wins: Powertools' warning for that, in its words.
    pub(crate) fn lambda_drops_lines(&self) -> Option<String> {
        let (lambda, asked) = (self.lambda_level?, self.asked?);
        (asked > lambda).then(|| {
            let (asked, lambda) = (level_name(asked), level_name(lambda));
            format!(
                "Current log level ({asked}) does not match AWS Lambda Advanced Logging Controls minimum log level \
                 ({lambda}). This can lead to data loss, consider adjusting them."
            )
        })
    }

    /// The most verbose event level written in some invocation.
    fn event_max(&self) -> LevelFilter {
        if self.buffering.is_some() {
            LevelFilter::TRACE
        } else if self.sample_rate.is_some() {
            self.level.max(LevelFilter::DEBUG)
        } else {
            self.level
        }
    }

    /// The most verbose span level let through.
    fn span_max(&self) -> LevelFilter {
        self.event_max().max(LevelFilter::INFO)
    }

    fn statically_enabled(&self, metadata: &Metadata<'_>) -> bool {
        if metadata.target() == FLUSH_TARGET {
            return true;
        }
        let max = if metadata.is_span() {
            self.span_max()
        } else {
            self.event_max()
        };
        *metadata.level() <= max
    }
}

/// Powertools' order: the lambda level (advanced logging controls), else the one asked
/// for (in code, else `POWERTOOLS_LOG_LEVEL`), else `INFO`.
fn resolve(lambda: Option<LevelFilter>, asked: Option<LevelFilter>) -> LevelFilter {
    lambda.or(asked).unwrap_or(LevelFilter::INFO)
}

/// A level as Python's `logging` names it.
fn level_name(level: LevelFilter) -> &'static str {
    match level {
        LevelFilter::TRACE | LevelFilter::DEBUG => "DEBUG",
        LevelFilter::INFO => "INFO",
        LevelFilter::WARN => "WARNING",
        LevelFilter::ERROR => "ERROR",
        _ => "OFF",
    }
}

impl fmt::Debug for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogLevel")
            .field("level", &self.level)
            .field("sample_rate", &self.sample_rate)
            .finish()
    }
}

/// An invocation span's sampling decision, in its extensions.
#[derive(Debug, Clone, Copy)]
struct Sampled(bool);

impl<S> Filter<S> for LogLevel
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, metadata: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        self.statically_enabled(metadata)
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        if !self.statically_enabled(metadata) {
            Interest::never()
        } else if metadata.is_event() && *metadata.level() > self.level {
            // Written in sampled invocations only: asked event by event.
            Interest::sometimes()
        } else {
            Interest::always()
        }
    }

    fn event_enabled(&self, event: &Event<'_>, cx: &Context<'_, S>) -> bool {
        let level = *event.metadata().level();
        if level <= self.level || event.metadata().target() == FLUSH_TARGET {
            return true;
        }
        if self.buffering.is_some_and(|buffering| buffering.holds(&level)) && in_invocation(event, cx) {
            return true;
        }
        level <= Level::DEBUG && self.sample_rate.is_some() && sampled(event, cx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.span_max())
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, cx: Context<'_, S>) {
        let Some(rate) = self.sample_rate else { return };
        if !spans::is_invocation(attrs.metadata()) {
            return;
        }
        let Some(span) = cx.span(id) else { return };
        // An invocation span inside another (InjectLambdaContext's inside the
        // runtime's) keeps the decision made for the invocation.
        let inherited = span.parent().and_then(|parent| {
            parent
                .scope()
                .find_map(|span| span.extensions().get::<Sampled>().copied())
        });
        let decision = inherited.unwrap_or_else(|| Sampled(roll(rate)));
        span.extensions_mut().replace(decision);
    }
}

/// Whether `event` happens inside an invocation's span.
fn in_invocation<S>(event: &Event<'_>, cx: &Context<'_, S>) -> bool
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    cx.event_scope(event)
        .is_some_and(|mut scope| scope.any(|span| spans::is_invocation(span.metadata())))
}

/// Whether the invocation `event` happens in was sampled.
fn sampled<S>(event: &Event<'_>, cx: &Context<'_, S>) -> bool
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    cx.event_scope(event)
        .and_then(|mut scope| scope.find_map(|span| span.extensions().get::<Sampled>().copied()))
        .is_some_and(|Sampled(sampled)| sampled)
}

/// `true` with probability `rate`, from the standard library's randomly keyed hasher.
fn roll(rate: f64) -> bool {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    if rate >= 1.0 {
        return true;
    }
    let bits = RandomState::new().hash_one(COUNTER.fetch_add(1, Ordering::Relaxed));
    // The top 53 bits as a fraction in [0, 1).
    let unit = (bits >> 11) as f64 / (1_u64 << 53) as f64;
    unit < rate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolls_come_out_true_at_about_the_rate() {
        assert!((0..100).all(|_| roll(1.0)));
        let hits = (0..20_000).filter(|_| roll(0.25)).count();
        // 0.25 * 20000 = 5000, standard deviation ~61: six of them either way.
        assert!((4_630..=5_370).contains(&hits), "{hits}");
    }

    #[test]
    fn spans_pass_to_info_events_to_the_level() {
        let warn = LogLevel::new(LevelFilter::WARN);
        assert_eq!(warn.span_max(), LevelFilter::INFO);
        assert_eq!(warn.event_max(), LevelFilter::WARN);
        let sampled = warn.with_sample_rate(0.5).unwrap();
        assert_eq!(sampled.event_max(), LevelFilter::DEBUG);
        assert_eq!(sampled.span_max(), LevelFilter::DEBUG);
        let trace = LogLevel::new(LevelFilter::TRACE).with_sample_rate(0.5).unwrap();
        assert_eq!(trace.event_max(), LevelFilter::TRACE);
    }

    #[test]
    fn lambdas_level_wins_then_the_one_in_code_then_powertools() {
        // AWS_LAMBDA_LOG_LEVEL=WARN, POWERTOOLS_LOG_LEVEL=DEBUG: WARN, as Powertools has it.
        assert_eq!(
            resolve(Some(LevelFilter::WARN), Some(LevelFilter::DEBUG)),
            LevelFilter::WARN
        );
        assert_eq!(
            resolve(Some(LevelFilter::DEBUG), Some(LevelFilter::ERROR)),
            LevelFilter::DEBUG
        );
        assert_eq!(resolve(None, Some(LevelFilter::DEBUG)), LevelFilter::DEBUG);
        assert_eq!(resolve(None, None), LevelFilter::INFO);
        // A level in code beats POWERTOOLS_LOG_LEVEL, and Lambda's beats it.
        let from_env = LogLevel {
            level: LevelFilter::ERROR,
            sample_rate: None,
            lambda_level: None,
            asked: Some(LevelFilter::ERROR),
            buffering: None,
        };
        assert_eq!(from_env.asking(LevelFilter::DEBUG).level(), LevelFilter::DEBUG);
        let lambda = LogLevel {
            lambda_level: Some(LevelFilter::INFO),
            ..from_env
        };
        assert_eq!(lambda.asking(LevelFilter::DEBUG).level(), LevelFilter::INFO);
    }

    #[test]
    fn the_warning_when_lambda_drops_lines() {
        let level = LogLevel {
            level: LevelFilter::WARN,
            sample_rate: None,
            lambda_level: Some(LevelFilter::WARN),
            asked: Some(LevelFilter::DEBUG),
            buffering: None,
        };
        assert_eq!(
            level.lambda_drops_lines().unwrap(),
            "Current log level (DEBUG) does not match AWS Lambda Advanced Logging Controls minimum log level \
             (WARNING). This can lead to data loss, consider adjusting them."
        );
        let same = LogLevel {
            asked: Some(LevelFilter::WARN),
            ..level
        };
        assert_eq!(same.lambda_drops_lines(), None);
        let quieter = LogLevel {
            asked: Some(LevelFilter::ERROR),
            ..level
        };
        assert_eq!(quieter.lambda_drops_lines(), None);
    }
}
