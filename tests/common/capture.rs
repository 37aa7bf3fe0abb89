//! A `tracing` layer that records every span and event, for assertions.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// One span as it was opened, recorded and closed.
#[derive(Debug, Clone)]
pub struct SpanRecord {
    pub name: &'static str,
    pub fields: BTreeMap<String, String>,
    /// Index of the parent in [`Captured::spans`].
    pub parent: Option<usize>,
    /// Position in the order spans closed.
    pub closed: Option<usize>,
}

impl SpanRecord {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// `otel.name`, or the span name.
    pub fn display_name(&self) -> &str {
        self.field("otel.name").unwrap_or(self.name)
    }
}

/// One event.
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub target: String,
    pub level: tracing::Level,
    pub fields: BTreeMap<String, String>,
    /// Index of the span it happened in.
    pub span: Option<usize>,
}

#[derive(Debug, Default)]
pub struct Captured {
    pub spans: Vec<SpanRecord>,
    pub events: Vec<EventRecord>,
    closes: usize,
}

/// Clone it, give one clone to the subscriber, read the other.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Captured>>);

struct Index(usize);

impl Capture {
    pub fn spans(&self) -> Vec<SpanRecord> {
        self.0.lock().unwrap().spans.clone()
    }

    pub fn events(&self) -> Vec<EventRecord> {
        self.0.lock().unwrap().events.clone()
    }

    /// The `## name` middleware spans, in the order they were opened.
    pub fn middleware_spans(&self) -> Vec<SpanRecord> {
        self.spans()
            .into_iter()
            .filter(|span| span.name == "middleware")
            .collect()
    }

    /// `## name` of each middleware span, with the `## name` of its parent middleware span.
    pub fn middleware_tree(&self) -> Vec<(String, Option<String>)> {
        let spans = self.spans();
        spans
            .iter()
            .filter(|span| span.name == "middleware")
            .map(|span| {
                let parent = span.parent.map(|parent| spans[parent].display_name().to_owned());
                (span.display_name().to_owned(), parent)
            })
            .collect()
    }
}

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S> Layer<S> for Capture
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let span = ctx.span(id).expect("span exists");
        let parent = span
            .parent()
            .and_then(|parent| parent.extensions().get::<Index>().map(|index| index.0));
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let mut captured = self.0.lock().unwrap();
        captured.spans.push(SpanRecord {
            name: attrs.metadata().name(),
            fields: fields.0,
            parent,
            closed: None,
        });
        span.extensions_mut().insert(Index(captured.spans.len() - 1));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let span = ctx.span(id).expect("span exists");
        let Some(index) = span.extensions().get::<Index>().map(|index| index.0) else {
            return;
        };
        let mut fields = Fields::default();
        values.record(&mut fields);
        self.0.lock().unwrap().spans[index].fields.extend(fields.0);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let span = ctx
            .event_span(event)
            .and_then(|span| span.extensions().get::<Index>().map(|index| index.0));
        let mut fields = Fields::default();
        event.record(&mut fields);
        self.0.lock().unwrap().events.push(EventRecord {
            target: event.metadata().target().to_owned(),
            level: *event.metadata().level(),
            fields: fields.0,
            span,
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let span = ctx.span(&id).expect("span exists");
        let Some(index) = span.extensions().get::<Index>().map(|index| index.0) else {
            return;
        };
        let mut captured = self.0.lock().unwrap();
        let order = captured.closes;
        captured.closes += 1;
        captured.spans[index].closed = Some(order);
    }
}
