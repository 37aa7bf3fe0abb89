//! Secrets stay secret: with every span and event of a chain captured (each field's
//! `Debug` and `Display`, the `## LoadConfig` span included), the `tracing` JSON lines,
//! `LogEvent`'s lines for the event and the response, the configuration's `Debug`, and
//! the errors of failing and stale fetches, the secret's value appears nowhere.
//!
//! `tests/parameters_runtime_api.rs` does the same for the JSON logger of a function
//! process under the real run loop.
#![cfg(feature = "parameters")]

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lambda_middleware::middlewares::{InjectLambdaContext, LogEvent, LogEventParams};
use lambda_middleware::parameters::{
    Cache, ConfigLoader, FetchError, LoadConfig, ManualClock, MemoryProvider, RefreshFailure, Secret,
};
use lambda_middleware::{Context, Error, Handler, InvocationError, With};
use serde_json::{Value, json};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Record};
use tracing::{Event, Id, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, Layer, SubscriberExt};

const SECRET: &str = "sk-live-2b9d4e6f81";

/// Every span (name and fields) and event (target and fields) as text.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<String>>);

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={value}", field.name());
    }
}

impl<S: Subscriber> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: LayerContext<'_, S>) {
        let mut text = self.0.lock().unwrap();
        let _ = write!(text, "\nspan {}", attrs.metadata().name());
        attrs.record(&mut Fields(&mut text));
    }
    fn on_record(&self, _: &Id, values: &Record<'_>, _: LayerContext<'_, S>) {
        values.record(&mut Fields(&mut self.0.lock().unwrap()));
    }
    fn on_event(&self, event: &Event<'_>, _: LayerContext<'_, S>) {
        let mut text = self.0.lock().unwrap();
        let _ = write!(text, "\nevent {}", event.metadata().target());
        event.record(&mut Fields(&mut text));
    }
}

/// The JSON lines of `tracing-subscriber`'s formatter, into memory.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
struct Config {
    table: String,
    api_key: Secret<String>,
}

async fn handler(event: With<Config, Value>, _: &Context) -> Result<Value, Error> {
    let config = event.data;
    tracing::info!(?config, %config.api_key, "configuration");
    // A response carrying the configuration: serialised, the secret is masked.
    Ok(json!({ "config": config, "length": config.api_key.expose().len() }))
}

#[tokio::test]
async fn no_span_event_log_line_response_or_error_shows_a_secret() {
    let capture = Capture::default();
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::registry()
        .with(capture.clone())
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_span_list(true)
                .with_current_span(true)
                .with_writer(move || writer.clone()),
        )
        .with(tracing_subscriber::filter::LevelFilter::TRACE);
    let _guard = tracing::subscriber::set_default(subscriber);

    let clock = ManualClock::new();
    let cache = Cache::builder().clock(clock.clone()).build();
    let ssm = MemoryProvider::new().with("/orders/table", "orders-prod");
    let secrets = MemoryProvider::new().with("orders/api-key", SECRET);
    let loader = ConfigLoader::<Config>::new()
        .field("table", &ssm, "/orders/table")
        .field("api_key", &secrets, "orders/api-key")
        .on_error(RefreshFailure::ServeStale)
        .cache(cache.clone());
    let handler = Handler::builder()
        .middleware(InjectLambdaContext)
        .middleware_with(LogEvent, LogEventParams::builder().log_response(true).build())
        .transform_with(LoadConfig, loader.clone())
        .traced()
        .handler(handler)
        .unwrap();

    let response = handler
        .invoke_with(json!({ "order": 1 }), &Context::default())
        .await
        .unwrap();
    assert_eq!(response["length"], SECRET.len());
    assert_eq!(response["config"]["api_key"], "*****");
    // Stale, and the refresh fails: served stale, with a warning.
    clock.advance(Duration::from_secs(10));
    secrets.fail("orders/api-key", FetchError::Unavailable("connection refused".into()));
    let stale = handler
        .invoke_with(json!({ "order": 2 }), &Context::default())
        .await
        .unwrap();
    assert_eq!(stale["length"], SECRET.len());
    // A value that does not fit its field: the error does not quote it.
    let broken = MemoryProvider::new().with("n", SECRET);
    let error = ConfigLoader::<u32>::json(&broken, "n")
        .cache(Cache::new())
        .load()
        .await
        .unwrap_err();
    let error_text = format!(
        "{error} {error:?} {}",
        InvocationError::from(Error::from(error.clone())).error_type()
    );

    let spans_and_events = capture.0.lock().unwrap().clone();
    let json_lines = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let config_debug = format!("{:?}", loader.load().await.unwrap());
    let everything = [
        spans_and_events.as_str(),
        json_lines.as_str(),
        &response.to_string(),
        &stale.to_string(),
        &error_text,
        &config_debug,
        &format!("{loader:?} {cache:?} {secrets:?}"),
    ];
    // What was captured is what was meant to be: the traced span, LogEvent's lines,
    // the handler's line, the stale warning.
    assert!(spans_and_events.contains("## LoadConfig"), "{spans_and_events}");
    assert!(spans_and_events.contains("configuration"), "{spans_and_events}");
    assert!(
        spans_and_events.contains("serving the expired value"),
        "{spans_and_events}"
    );
    assert!(
        json_lines.contains("orders-prod"),
        "the JSON lines hold the configuration's other fields: {json_lines}"
    );
    assert!(
        json_lines.contains(r#"\"order\":2"#),
        "LogEvent logged the events: {json_lines}"
    );
    for (n, text) in everything.iter().enumerate() {
        assert!(!text.contains(SECRET), "output {n} shows the secret: {text}");
    }
}
