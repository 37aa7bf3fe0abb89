//! `LogEvent` does nothing at all, not even serialize, when its level is off.
//!
//! A binary of its own with one global subscriber: `tracing` caches whether a call site
//! is enabled across threads, so tests with different per-thread filters in one
//! process could see each other's answer.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::capture::Capture;
use lambda_middleware::middlewares::{LogEvent, LogEventParams};
use lambda_middleware::{Context, Error, Handler};
use lambda_runtime::LambdaEvent;
use serde::{Serialize, Serializer};
use tracing::Level;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;

/// Counts how often it is serialized.
struct Counted(&'static AtomicUsize);

impl Serialize for Counted {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.fetch_add(1, Ordering::SeqCst);
        serializer.serialize_str("counted")
    }
}

async fn echo(event: LambdaEvent<Counted>) -> Result<Counted, Error> {
    Ok(event.payload)
}

#[tokio::test]
async fn nothing_is_serialized_when_the_level_is_off() {
    static SERIALIZED: AtomicUsize = AtomicUsize::new(0);
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone().with_filter(LevelFilter::WARN));
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this test binary");

    let params = LogEventParams::builder().log_response(true).build(); // at INFO
    let handler = Handler::builder()
        .middleware_with(LogEvent, params)
        .handler(echo)
        .unwrap();
    handler
        .invoke(LambdaEvent::new(Counted(&SERIALIZED), Context::default()))
        .await
        .unwrap();
    assert_eq!(SERIALIZED.load(Ordering::SeqCst), 0);
    assert!(capture.events().is_empty());

    // At a level that is on, the event and the response are serialized once each.
    let params = LogEventParams::builder().log_response(true).level(Level::WARN).build();
    let handler = Handler::builder()
        .middleware_with(LogEvent, params)
        .handler(echo)
        .unwrap();
    handler
        .invoke(LambdaEvent::new(Counted(&SERIALIZED), Context::default()))
        .await
        .unwrap();
    assert_eq!(SERIALIZED.load(Ordering::SeqCst), 2);
    let events = capture.events();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].fields["event"], r#""counted""#);
    assert_eq!(events[1].fields["response"], r#""counted""#);
    assert!(events.iter().all(|event| event.level == Level::WARN));
}
