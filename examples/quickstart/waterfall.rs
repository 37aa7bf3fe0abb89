//! A terminal waterfall of spans: the picture X-Ray draws for a trace, as text.
//!
//! [`Waterfall`] is a `tracing_subscriber` layer. Each span records when it opened and
//! closed; when a root span (one without a parent: an invocation) closes, its whole
//! tree becomes one [`Trace`], which is kept for [`Waterfall::take`]. A span is shown
//! under its `otel.name` field when it has one — `## <middleware>` for traced
//! middlewares — and under its own name otherwise.

use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// How wide the bars are, in characters, for the whole trace.
const BAR_WIDTH: usize = 40;

/// The layer, and the traces it finished.
#[derive(Clone, Default)]
pub struct Waterfall {
    traces: Arc<Mutex<Vec<Trace>>>,
}

impl Waterfall {
    /// A layer that keeps finished traces for [`take`](Self::take).
    pub fn new() -> Self {
        Waterfall::default()
    }

    /// The traces finished since the last call.
    pub fn take(&self) -> Vec<Trace> {
        std::mem::take(&mut *self.traces.lock().unwrap())
    }
}

/// One span of a trace.
#[derive(Clone, Debug)]
pub struct Row {
    pub name: String,
    /// 0 for the root, 1 for its children, …
    pub depth: usize,
    pub start: Instant,
    pub end: Instant,
    pub error: bool,
}

/// A root span and everything that ran inside it, in the order the spans opened.
#[derive(Clone, Debug)]
pub struct Trace {
    pub rows: Vec<Row>,
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(root) = self.rows.first() else {
            return Ok(());
        };
        let total = root.end.duration_since(root.start).max(Duration::from_nanos(1));
        let name_width = self
            .rows
            .iter()
            .map(|row| 2 * row.depth + row.name.chars().count())
            .max()
            .unwrap_or(0)
            .max(4);
        writeln!(
            f,
            "{:<name_width$}  {:>10}  {:>10}  timeline ({:.2} ms)",
            "span",
            "start",
            "duration",
            millis(total)
        )?;
        for row in &self.rows {
            let offset = row.start.saturating_duration_since(root.start);
            let duration = row.end.saturating_duration_since(row.start);
            let mut label = "  ".repeat(row.depth);
            label.push_str(&row.name);
            let mut bar = String::new();
            let from = scale(offset, total);
            let to = scale(offset + duration, total)
                .max(from + 1)
                .min(BAR_WIDTH.max(from + 1));
            bar.push_str(&" ".repeat(from));
            bar.push_str(&"█".repeat(to - from));
            if row.error {
                bar.push_str(" ✗ error");
            }
            writeln!(
                f,
                "{label:<name_width$}  {:>7.2} ms  {:>7.2} ms  {bar}",
                millis(offset),
                millis(duration)
            )?;
        }
        Ok(())
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn scale(part: Duration, total: Duration) -> usize {
    ((part.as_secs_f64() / total.as_secs_f64()) * BAR_WIDTH as f64).round() as usize
}

/// What a span carries while it is open.
struct Open {
    name: String,
    start: Instant,
    error: bool,
    /// On a root span: the rows of its descendants that have closed.
    rows: Vec<Row>,
}

/// Reads the display name (`otel.name`) and the error status from span fields.
struct Fields<'a> {
    name: Option<&'a mut String>,
    error: &'a mut bool,
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "otel.name" => {
                if let Some(name) = self.name.as_deref_mut() {
                    *name = value.to_owned();
                }
            }
            "otel.status_code" => *self.error = value == "ERROR",
            _ => {}
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if field.name() == "error" {
            *self.error |= value;
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "otel.name" {
            if let Some(name) = self.name.as_deref_mut() {
                name.clear();
                let _ = write!(name, "{value:?}");
            }
        }
    }
}

impl<S> Layer<S> for Waterfall
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut open = Open {
            name: attrs.metadata().name().to_owned(),
            start: Instant::now(),
            error: false,
            rows: Vec::new(),
        };
        attrs.record(&mut Fields {
            name: Some(&mut open.name),
            error: &mut open.error,
        });
        span.extensions_mut().insert(open);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        if let Some(open) = span.extensions_mut().get_mut::<Open>() {
            values.record(&mut Fields {
                name: Some(&mut open.name),
                error: &mut open.error,
            });
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(mut open) = span.extensions_mut().remove::<Open>() else {
            return;
        };
        let depth = span.scope().count() - 1;
        let row = Row {
            name: open.name,
            depth,
            start: open.start,
            end: Instant::now(),
            error: open.error,
        };
        match span.scope().from_root().next() {
            // A descendant: its row waits in the root's list.
            Some(root) if root.id() != span.id() => {
                if let Some(root) = root.extensions_mut().get_mut::<Open>() {
                    root.rows.push(row);
                }
            }
            // The root: the trace is complete.
            _ => {
                let mut rows = std::mem::take(&mut open.rows);
                rows.push(row);
                rows.sort_by_key(|row| (row.start, row.depth));
                self.traces.lock().unwrap().push(Trace { rows });
            }
        }
    }
}
