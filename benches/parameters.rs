//! What a cache hit of `lambda_middleware::parameters` costs: instructions (under
//! callgrind, `benches/parameters.sh`) and heap allocations (counted here), for
//!
//! - `get_with`: `Cache::get_with` of one parameter (a `Decoded`, an `Arc` clone);
//! - `get`: `Cache::get`, the text copied into a `String`;
//! - `load`: `ConfigLoader::load` of a configuration of three fields (two strings and a
//!   number), from cached values, cloned.
//!
//! ```text
//! parameters                  allocations per hit, every case (what `cargo bench` runs)
//! parameters run <case> <k>   k hits of one case, for callgrind
//! ```
//!
//! A hit never waits, so each future is polled once with a no-op waker: no runtime is
//! in the measurement.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use lambda_middleware::parameters::{Cache, ConfigLoader, GetOptions, MemoryProvider, Secret};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Clone, serde::Deserialize)]
#[allow(dead_code)]
struct Config {
    table: String,
    api_key: Secret<String>,
    retries: u32,
}

/// Polls a future that must be ready at once (a cache hit).
fn now<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a cache hit waited"),
    }
}

struct Setup {
    cache: Cache,
    provider: MemoryProvider,
    loader: ConfigLoader<Config>,
    options: GetOptions,
}

fn setup() -> Setup {
    let provider = MemoryProvider::new()
        .with("/orders/table", "orders-prod")
        .with("orders/api-key", "sk-live-1234")
        .with("/orders/retries", "3");
    let cache = Cache::builder().max_age(std::time::Duration::from_secs(3600)).build();
    let loader = ConfigLoader::<Config>::new()
        .field("table", &provider, "/orders/table")
        .field("api_key", &provider, "orders/api-key")
        .field_json("retries", &provider, "/orders/retries")
        .cache(cache.clone());
    // Fill the cache (the fetches yield once: a runtime for them).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        loader.load().await.unwrap();
        cache.get(&provider, "/orders/table").await.unwrap();
    });
    Setup {
        cache,
        provider,
        loader,
        options: GetOptions::default(),
    }
}

/// `k` hits of `case`: what callgrind counts (`--toggle-collect=*hits*`).
#[inline(never)]
fn hits(setup: &Setup, case: &str, k: u64) {
    match case {
        "get_with" => {
            for _ in 0..k {
                black_box(now(setup.cache.get_with(&setup.provider, "/orders/table", &setup.options)).unwrap());
            }
        }
        "get" => {
            for _ in 0..k {
                black_box(now(setup.cache.get(&setup.provider, "/orders/table")).unwrap());
            }
        }
        "load" => {
            for _ in 0..k {
                black_box(now(setup.loader.load()).unwrap());
            }
        }
        other => panic!("no case {other:?}: get_with, get, load"),
    }
}

const CASES: [&str; 3] = ["get_with", "get", "load"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let setup = setup();
    let before = setup.provider.fetches();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["run", case, k] => hits(&setup, case, k.parse().expect("a number of hits")),
        _ => {
            const K: u64 = 10_000;
            for case in CASES {
                let start = ALLOCATIONS.load(Ordering::Relaxed);
                hits(&setup, case, K);
                let allocations = (ALLOCATIONS.load(Ordering::Relaxed) - start) as f64 / K as f64;
                println!("{case}\t{allocations:.1} allocations per cache hit");
            }
        }
    }
    assert_eq!(setup.provider.fetches(), before, "every call was a cache hit");
    ExitCode::SUCCESS
}
