//! `Metrics`' `ColdStart` metric: written by exactly one invocation of the process,
//! however many start at once, in a document of its own.
//!
//! One test in this binary: the cold-start flag is process-wide, so nothing else may
//! invoke the middleware first.

mod common;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use common::emf;
use common::lines::Lines;
use lambda_middleware::observe::{MetricUnit, Metrics, MetricsParams};
use lambda_middleware::{Context, Error, Handler};
use lambda_runtime::{Config, LambdaEvent};

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

#[test]
fn exactly_one_cold_start_document_however_many_invocations_start_together() {
    let lines = Lines::default();
    let start = now_ms();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let params = MetricsParams::builder()
            .namespace("ServerlessAirline")
            .service("bookings")
            .default_dimensions([("environment", "prod")])
            .capture_cold_start_metric(true)
            .output(lines.sink())
            .build();
        let handler = Handler::builder()
            .middleware_with(Metrics, params)
            .handler(|event: LambdaEvent<u32>| async move {
                tokio::task::yield_now().await;
                // The first invocation fails: its cold start is written all the same.
                if event.payload == 0 {
                    return Err::<u32, Error>("the first one fails".into());
                }
                Metrics::current()?.add_metric("Handled", MetricUnit::Count, 1)?;
                Ok(event.payload)
            })
            .unwrap();
        let context = || {
            let mut context = Context::default();
            context.env_config = Arc::new(Config {
                function_name: "bookings-fn".into(),
                ..Config::default()
            });
            context
        };
        let _ = handler.invoke(LambdaEvent::new(0, context())).await;
        let tasks: Vec<_> = (1..=16)
            .map(|n| {
                let (handler, context) = (handler.clone(), context());
                tokio::spawn(async move { handler.invoke(LambdaEvent::new(n, context)).await.unwrap() })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });

    let latest = now_ms();
    let documents: Vec<_> = lines
        .lines()
        .iter()
        .map(|line| emf::check(line, start, latest))
        .collect();
    let cold: Vec<_> = documents
        .iter()
        .filter(|d| d.values.contains_key("ColdStart"))
        .collect();
    assert_eq!(cold.len(), 1, "{documents:?}");
    let cold = cold[0];
    // Powertools' shape: its own document, function_name and service only.
    assert_eq!(cold.dimension_sets, [["function_name", "service"]]);
    assert_eq!(cold.dimensions["function_name"], "bookings-fn");
    assert_eq!(cold.dimensions["service"], "bookings");
    assert_eq!(cold.definitions, [("ColdStart".to_owned(), "Count".to_owned(), 60)]);
    assert_eq!(cold.values["ColdStart"], [1.0]);
    assert!(cold.other.is_empty());
    // The first invocation wrote it, before anything else.
    assert!(documents[0].values.contains_key("ColdStart"));
    let handled = documents.iter().filter(|d| d.values.contains_key("Handled")).count();
    assert_eq!(handled, 16);
    assert_eq!(documents.len(), 17);
}
