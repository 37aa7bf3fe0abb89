//! The workloads one at a time, for `instructions.sh` to count instructions under
//! callgrind, and allocations per invocation for all of them.
//!
//! ```text
//! instructions list                              every payload, variant and depth
//! instructions run <payload> <variant> <n> <k>   k invocations of one workload
//! instructions allocs                            allocations per invocation, all workloads
//! ```
//!
//! `cargo bench` runs it without a command: it prints the allocations.

// Chains of 20 `async fn` middlewares (and of 64 closure middlewares) go past the default
// depth of rustc's queries.
#![recursion_limit = "1024"]

mod workload;

use std::process::ExitCode;
use std::sync::atomic::Ordering;

use lambda_middleware::Context;
use serde_json::Value;
use workload::{Order, Payload, STEPS, Variant, Visitor, Workload, alloc, run_loop, visit_all};

fn main() -> ExitCode {
    workload::subscriber::set_trace_header();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["list"] => {
            for_each_payload(&mut List);
            for variant in BUILTINS {
                println!("http\t{variant}\t{}", workload::builtins::DEPTH);
            }
            for variant in PARSING {
                println!("http\t{variant}\t1");
            }
            ExitCode::SUCCESS
        }
        ["run", "http", variant, _, iterations] => {
            let Ok(iterations) = iterations.parse() else {
                return usage();
            };
            match *variant {
                "builtins-hooks" => run_fixed_event(workload::builtins::hooks(), iterations),
                "builtins-async" => run_fixed_event(workload::builtins::async_fn(), iterations),
                "parse-inline" => run_fixed_event(workload::parse::parse_inline(), iterations),
                "parse-layer" => run_fixed_event(workload::parse::parse_layer(), iterations),
                _ => return usage(),
            }
            ExitCode::SUCCESS
        }
        ["run", payload, variant, depth, iterations] => {
            let (Some(variant), Ok(depth), Ok(iterations)) =
                (Variant::from_slug(variant), depth.parse(), iterations.parse())
            else {
                return usage();
            };
            let mut run = Run {
                variant,
                depth,
                iterations,
                done: false,
            };
            match *payload {
                "json" => visit_all::<Value, _>(&mut run),
                "struct" => visit_all::<Order, _>(&mut run),
                "u64" => visit_all::<u64, _>(&mut run),
                _ => return usage(),
            }
            if run.done { ExitCode::SUCCESS } else { usage() }
        }
        // `cargo bench` passes `--bench`, and maybe a filter.
        ["allocs"] | [] | ["--bench", ..] => {
            println!("payload\tvariant\tn\tallocations");
            for_each_payload(&mut Allocations);
            ExitCode::SUCCESS
        }
        _ => usage(),
    }
}

/// The two forms of the README's chain of six built-ins (`workload::builtins`).
const BUILTINS: [&str; 2] = ["builtins-async", "builtins-hooks"];

/// An order parsed inline in the handler, and by a `Parse` layer (`workload::parse`).
const PARSING: [&str; 2] = ["parse-inline", "parse-layer"];

fn run_fixed_event<W: Workload<Value>>(mut workload: W, iterations: u64) {
    let ctx = Context::default();
    let before = alloc::allocations();
    std::hint::black_box(run_loop(&mut workload, Value::Null, &ctx, iterations));
    println!("allocations\t{}", alloc::allocations() - before);
}

fn usage() -> ExitCode {
    eprintln!("usage: instructions list | run <json|struct|u64> <variant> <n> <iterations> | allocs");
    eprintln!("variants: {}", Variant::ALL.map(Variant::slug).join(" "));
    ExitCode::FAILURE
}

/// Visits the workloads for every payload type.
trait AllPayloads: Visitor<Value> + Visitor<Order> + Visitor<u64> {}
impl<V: Visitor<Value> + Visitor<Order> + Visitor<u64>> AllPayloads for V {}

fn for_each_payload(visitor: &mut impl AllPayloads) {
    visit_all::<Value, _>(visitor);
    visit_all::<Order, _>(visitor);
    visit_all::<u64, _>(visitor);
}

/// Prints `payload variant n`, without building anything.
struct List;

impl<P: Payload> Visitor<P> for List {
    fn wants(&self, variant: Variant, depth: usize) -> bool {
        println!("{}\t{}\t{depth}", P::NAME, variant.slug());
        false
    }

    fn visit<W: Workload<P>>(&mut self, _: Variant, _: usize, _: W) {}
}

/// Runs one workload `iterations` times, under its subscriber set as the global
/// default (as a function sets it).
struct Run {
    variant: Variant,
    depth: usize,
    iterations: u64,
    done: bool,
}

impl<P: Payload> Visitor<P> for Run {
    fn wants(&self, variant: Variant, depth: usize) -> bool {
        variant == self.variant && depth == self.depth
    }

    fn visit<W: Workload<P>>(&mut self, variant: Variant, _: usize, mut workload: W) {
        let keep = variant.subscriber().dispatch().map(|(dispatch, keep)| {
            tracing::dispatcher::set_global_default(dispatch).expect("the first subscriber");
            keep
        });
        let ctx = Context::default();
        let before = alloc::allocations();
        std::hint::black_box(run_loop(&mut workload, P::sample(), &ctx, self.iterations));
        let allocations = alloc::allocations() - before;
        drop(keep);
        println!("allocations\t{allocations}");
        self.done = true;
    }
}

/// Prints the allocations per invocation of every workload, and checks that each ran
/// every step and returned its event.
struct Allocations;

impl<P: Payload> Visitor<P> for Allocations {
    fn wants(&self, _: Variant, _: usize) -> bool {
        true
    }

    fn visit<W: Workload<P>>(&mut self, variant: Variant, depth: usize, mut workload: W) {
        let ctx = Context::default();
        let mut measure = || {
            let steps = STEPS.load(Ordering::Relaxed);
            let (allocations, payload) = alloc::per_invocation(&mut workload, P::sample(), &ctx);
            let invocations = alloc::WARM_UP + alloc::INVOCATIONS;
            assert_eq!(
                STEPS.load(Ordering::Relaxed) - steps,
                2 * depth as u64 * invocations,
                "{variant:?} {depth}"
            );
            assert_eq!(payload, P::sample(), "{variant:?} {depth}");
            allocations
        };
        let allocations = match variant.subscriber().dispatch() {
            Some((dispatch, _keep)) => tracing::dispatcher::with_default(&dispatch, measure),
            None => measure(),
        };
        println!("{}\t{}\t{depth}\t{allocations}", P::NAME, variant.slug());
    }
}
