//! What logs and metrics cost: one JSON log line (against `tracing-subscriber`'s JSON
//! and text lines, which `lambda_runtime::tracing::init_default_subscriber` writes),
//! and one invocation with `Metrics` writing its EMF document (against the same
//! handler without it). Lines and documents go to a sink, so the figures are the
//! formatting's, not a pipe's.
//!
//! ```text
//! cargo bench --bench observe                 criterion's times, then allocations per line / invocation
//! observe count <case> <iterations>           run one case, for benches/observe.sh (instructions)
//! observe list                                the cases
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Duration;

use criterion::Criterion;
use lambda_middleware::middlewares::InjectLambdaContext;
use lambda_middleware::observe::{JsonLogger, LogLevel, MetricUnit, Metrics, MetricsParams};
use lambda_middleware::{Context, Error, Handler};
use tracing::Dispatch;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::layer::{Layer, SubscriberExt};

/// The system allocator, counting every allocation.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The cases, each one log line or one invocation.
const CASES: [(&str, &str); 6] = [
    (
        "log-json",
        "JsonLogger: one INFO line with two fields, in an invocation's span",
    ),
    ("log-fmt-json", "tracing-subscriber's JSON layer: the same line"),
    (
        "log-fmt-text",
        "tracing-subscriber's text layer without time or target: the same line",
    ),
    ("log-filtered", "JsonLogger at INFO: one DEBUG line, not written"),
    (
        "metrics",
        "an invocation with Metrics: 3 metrics, 1 dimension, 1 metadata, one EMF document",
    ),
    (
        "no-metrics",
        "the same invocation without Metrics and without the metrics calls",
    ),
];

fn sink() -> std::io::Sink {
    std::io::sink()
}

fn dispatch(case: &str) -> Option<Dispatch> {
    let level = LogLevel::new(LevelFilter::INFO);
    Some(match case {
        "log-json" | "log-filtered" => Dispatch::new(
            tracing_subscriber::registry().with(
                JsonLogger::new("bookings")
                    .with_writer(sink as fn() -> _)
                    .with_filter(level),
            ),
        ),
        "log-fmt-json" => Dispatch::new(
            tracing_subscriber::registry().with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(sink as fn() -> _)
                    .with_filter(LevelFilter::INFO),
            ),
        ),
        "log-fmt-text" => Dispatch::new(
            tracing_subscriber::registry().with(
                tracing_subscriber::fmt::layer()
                    .with_writer(sink as fn() -> _)
                    .with_ansi(false)
                    .with_target(false)
                    .without_time()
                    .with_filter(LevelFilter::INFO),
            ),
        ),
        _ => return None,
    })
}

fn poll_once<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut TaskContext::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the benchmarked future is expected to finish at once"),
    }
}

async fn measured(nights: u32, _: &Context) -> Result<u32, Error> {
    let metrics = Metrics::current()?;
    metrics.add_metric("BookingsConfirmed", MetricUnit::Count, 1)?;
    metrics.add_metric("Nights", MetricUnit::Count, nights)?;
    metrics.add_metric("Latency", MetricUnit::Milliseconds, 12.5)?;
    metrics.add_dimension("channel", "web")?;
    metrics.add_metadata("booking_id", "b-42")?;
    Ok(nights)
}

async fn unmeasured(nights: u32, _: &Context) -> Result<u32, Error> {
    Ok(nights)
}

/// Runs `iterations` of `case` in the current dispatcher.
fn run(case: &str, iterations: u64) {
    let mut context = Context::default();
    context.request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef".into();
    context.xray_trace_id = Some("Root=1-65f1a2b3-5759e988bd862e3fe1be46a9;Parent=53995c3f42cd8ad8;Sampled=1".into());
    match case {
        "log-json" | "log-fmt-json" | "log-fmt-text" => lines(iterations, &context, || {
            tracing::info!(order_id = 7, amount = 1.5, "booking confirmed");
        }),
        "log-filtered" => lines(iterations, &context, || {
            tracing::debug!(order_id = 7, amount = 1.5, "booking confirmed");
        }),
        "metrics" => {
            let params = MetricsParams::builder()
                .namespace("ServerlessAirline")
                .service("bookings")
                .default_dimensions([("environment", "prod")])
                .output(|line: &str| {
                    black_box(line);
                })
                .build();
            let handler = Handler::builder()
                .middleware_with(Metrics, params)
                .handler(measured)
                .unwrap();
            for _ in 0..iterations {
                poll_once(handler.invoke_with(black_box(3), &context)).unwrap();
            }
        }
        "no-metrics" => {
            let handler = Handler::builder().handler(unmeasured).unwrap();
            for _ in 0..iterations {
                poll_once(handler.invoke_with(black_box(3), &context)).unwrap();
            }
        }
        other => panic!("no case {other:?}"),
    }
}

/// `iterations` log lines from a handler inside InjectLambdaContext, as under Lambda.
fn lines(iterations: u64, context: &Context, line: fn()) {
    let handler = Handler::builder()
        .middleware(InjectLambdaContext)
        .handler(move |iterations: u64, _: &Context| async move {
            for _ in 0..iterations {
                line();
            }
            Ok::<_, Error>(iterations)
        })
        .unwrap();
    poll_once(handler.invoke_with(iterations, context)).unwrap();
}

fn with_case<T>(case: &str, f: impl FnOnce() -> T) -> T {
    match dispatch(case) {
        Some(dispatch) => tracing::dispatcher::with_default(&dispatch, f),
        None => f(),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["list"] => {
            for (case, what) in CASES {
                println!("{case}\t{what}");
            }
            ExitCode::SUCCESS
        }
        // Counted by callgrind around `run_counted` only (benches/observe.sh).
        ["count", case, iterations] => {
            let Ok(iterations) = iterations.parse() else {
                eprintln!("usage: observe count <case> <iterations>");
                return ExitCode::FAILURE;
            };
            with_case(case, || run_counted(case, iterations));
            ExitCode::SUCCESS
        }
        _ => {
            bench();
            ExitCode::SUCCESS
        }
    }
}

#[inline(never)]
fn run_counted(case: &str, iterations: u64) {
    run(case, iterations);
}

fn bench() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .configure_from_args();
    let mut group = criterion.benchmark_group("observe");
    for (case, _) in CASES {
        with_case(case, || {
            group.bench_function(case, |bencher| {
                bencher.iter_custom(|iterations| {
                    let started = std::time::Instant::now();
                    run(case, iterations);
                    started.elapsed()
                })
            });
        });
    }
    group.finish();
    criterion.final_summary();

    println!("\nallocations (per line for log-*, per invocation otherwise), after a warm-up:");
    for (case, what) in CASES {
        let per = with_case(case, || {
            run(case, 100);
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            run(case, 1000);
            let after = ALLOCATIONS.load(Ordering::Relaxed);
            // A log case makes one invocation around its 1000 lines: its few
            // allocations are spread over them.
            (after - before) as f64 / 1000.0
        });
        println!("  {case:<14} {per:>7.2}   {what}");
    }
}
