//! Time per invocation of every variant of the workload (see `workload/mod.rs`), and
//! each one's ratio to the limit, measured in the same run.
//!
//! ```sh
//! cargo bench --bench chain                      # everything
//! cargo bench --bench chain --features xray      # with the X-Ray variant
//! cargo bench --bench chain -- 'json/.*/10'      # one depth of one payload
//! ```
//!
//! After criterion's own report, a summary per payload: the median time per
//! invocation, its ratio to the limit at the same depth, the time per middleware
//! over the bare handler, and the allocations per invocation. It is also written as
//! `summary.tsv` next to criterion's files.

// Chains of 20 `async fn` middlewares (and of 40 closure middlewares) go past the default
// depth of rustc's queries.
#![recursion_limit = "1024"]

mod workload;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion};
use lambda_middleware::Context;
use serde_json::Value;
use workload::{Order, Payload, Subscriber, Variant, Visitor, Workload, alloc, run_loop, visit_all};

fn main() {
    workload::subscriber::set_trace_header();
    let started = SystemTime::now();
    let output = criterion_home();
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .output_directory(&output)
        .configure_from_args();

    // Every variant without a subscriber first: once a subscriber has been set, even
    // scoped and gone, `tracing` keeps the call sites' interest and later spans are
    // built (and boxed) for no one.
    let mut rows = Vec::new();
    for phase in [Subscriber::None, Subscriber::FmtSink, Subscriber::Xray] {
        bench_payload::<Value>(&mut criterion, &mut rows, phase);
        bench_payload::<Order>(&mut criterion, &mut rows, phase);
    }
    rows.sort_by_key(|row| {
        (
            row.payload != Value::NAME,
            Variant::ALL.iter().position(|v| *v == row.variant),
            row.depth,
        )
    });
    criterion.final_summary();

    let summary = summarise(&output, started, &rows);
    if !summary.is_empty() {
        print!("{summary}");
        let path = output.join("summary.tsv");
        std::fs::write(&path, tsv(&output, started, &rows)).expect("summary.tsv is writable");
        println!("written to {}", path.display());
    }
}

/// One measured workload: what criterion does not know.
struct Row {
    payload: &'static str,
    variant: Variant,
    depth: usize,
    allocations: f64,
}

fn bench_payload<P: Payload>(criterion: &mut Criterion, rows: &mut Vec<Row>, phase: Subscriber) {
    let mut group = criterion.benchmark_group(P::NAME);
    let mut bench = Bench::<P> {
        group: &mut group,
        rows,
        phase,
        ctx: Context::default(),
        payload: Some(P::sample()),
    };
    visit_all::<P, _>(&mut bench);
    group.finish();
}

struct Bench<'g, 'c, P> {
    group: &'g mut BenchmarkGroup<'c, WallTime>,
    rows: &'g mut Vec<Row>,
    /// Only the variants that run under this subscriber.
    phase: Subscriber,
    ctx: Context,
    payload: Option<P>,
}

impl<P: Payload> Visitor<P> for Bench<'_, '_, P> {
    fn wants(&self, variant: Variant, _: usize) -> bool {
        variant.subscriber() == self.phase
    }

    fn visit<W: Workload<P>>(&mut self, variant: Variant, depth: usize, mut workload: W) {
        let Bench {
            group, ctx, payload, ..
        } = self;
        let mut measure = || {
            let (allocations, rest) = alloc::per_invocation(&mut workload, payload.take().expect("the payload"), ctx);
            *payload = Some(rest);
            group.bench_function(BenchmarkId::new(variant.slug(), depth), |bencher| {
                bencher.iter_custom(|iterations| {
                    let event = payload.take().expect("the payload");
                    let start = Instant::now();
                    let event = run_loop(&mut workload, event, ctx, iterations);
                    let elapsed = start.elapsed();
                    *payload = Some(event);
                    elapsed
                })
            });
            allocations
        };
        // A scoped subscriber: the next variant must run without it.
        let allocations = match variant.subscriber().dispatch() {
            Some((dispatch, _keep)) => tracing::dispatcher::with_default(&dispatch, measure),
            None => measure(),
        };
        self.rows.push(Row {
            payload: P::NAME,
            variant,
            depth,
            allocations,
        });
    }
}

/// Where criterion writes, as criterion decides it: `$CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else the target directory `cargo metadata` names.
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Path::new(&target).join("criterion");
    }
    let metadata = std::env::var_os("CARGO").and_then(|cargo| {
        std::process::Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .output()
            .ok()
    });
    let target = metadata
        .and_then(|output| serde_json::from_slice::<Value>(&output.stdout).ok())
        .and_then(|metadata| metadata["target_directory"].as_str().map(PathBuf::from));
    target.unwrap_or_else(|| "target".into()).join("criterion")
}

/// The median time per invocation criterion measured in this run, in ns.
fn median_ns(output: &Path, started: SystemTime, payload: &str, variant: Variant, depth: usize) -> Option<f64> {
    let path = output
        .join(payload)
        .join(variant.slug())
        .join(depth.to_string())
        .join("new/estimates.json");
    let fresh = std::fs::metadata(&path).ok()?.modified().ok()? >= started;
    let estimates: Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    fresh.then(|| estimates["median"]["point_estimate"].as_f64())?
}

/// `(ns, ratio to the limit, ns per middleware)` of each row that ran.
fn figures(output: &Path, started: SystemTime, rows: &[Row]) -> BTreeMap<usize, (f64, Option<f64>, Option<f64>)> {
    let mut figures = BTreeMap::new();
    for (index, row) in rows.iter().enumerate() {
        let Some(ns) = median_ns(output, started, row.payload, row.variant, row.depth) else {
            continue;
        };
        let limit = median_ns(output, started, row.payload, Variant::Limit, row.depth);
        let handler = median_ns(output, started, row.payload, Variant::Handler, 0);
        let per_middleware = handler.filter(|_| row.depth > 0).map(|h| (ns - h) / row.depth as f64);
        figures.insert(index, (ns, limit.map(|limit| ns / limit), per_middleware));
    }
    figures
}

fn summarise(output: &Path, started: SystemTime, rows: &[Row]) -> String {
    let figures = figures(output, started, rows);
    let mut out = String::new();
    let mut payload = "";
    for (index, row) in rows.iter().enumerate() {
        let Some(&(ns, ratio, per_middleware)) = figures.get(&index) else {
            continue;
        };
        if row.payload != payload {
            payload = row.payload;
            let _ = writeln!(
                out,
                "\nevent: {payload} (median time per invocation; ratio to the limit at the same N)"
            );
            let _ = writeln!(
                out,
                "{:<40} {:>3} {:>10} {:>8} {:>10} {:>7}",
                "variant", "N", "ns/inv", "ratio", "ns/mw", "allocs"
            );
        }
        let _ = writeln!(
            out,
            "{:<40} {:>3} {:>10.1} {:>8} {:>10} {:>7}",
            row.variant.description(),
            row.depth,
            ns,
            ratio.map_or("-".into(), |ratio| format!("{ratio:.2}x")),
            per_middleware.map_or("-".into(), |ns| format!("{ns:.1}")),
            row.allocations,
        );
    }
    out
}

fn tsv(output: &Path, started: SystemTime, rows: &[Row]) -> String {
    let figures = figures(output, started, rows);
    let mut out = String::from("payload\tvariant\tn\tns\tallocations\n");
    for (index, row) in rows.iter().enumerate() {
        if let Some(&(ns, _, _)) = figures.get(&index) {
            let _ = writeln!(
                out,
                "{}\t{}\t{}\t{ns:.2}\t{}",
                row.payload,
                row.variant.slug(),
                row.depth,
                row.allocations
            );
        }
    }
    out
}
