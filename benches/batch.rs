//! The batch processor's cost per record against a hand-written loop over the same
//! records: allocations per record (counted by a global allocator) and, under
//! callgrind (`benches/batch.sh`), instructions per record.
//!
//! ```text
//! batch                      allocations per record of every variant (`cargo bench --bench batch`)
//! batch run <variant> <k>    k batches of one variant, for callgrind
//! ```
//!
//! Every batch is 100 SQS records whose bodies are JSON orders, one in ten failing. The
//! events are built before the measured loop; each variant consumes them one by one.
//! Futures are polled with a no-op waker: nothing here waits, so one poll finishes a
//! batch, and what is measured is the processing, not a runtime.
//!
//! | variant | what runs each record |
//! |---------|-----------------------|
//! | `loop-fn` | a `for` loop calling the record function directly, building the response by hand |
//! | `loop-handler` | the same loop, through the record `Handler` |
//! | `batch` | `SqsBatch::process`, the same `Handler` |
//! | `batch-concurrent` | `SqsBatch::process` with `concurrency(4)` |
//! | `loop-parse` / `batch-parse` | the loop parsing each body by hand / a batch whose record chain is `Parse` with `SqsBody` on JSON records |
//! | `batch-parse-typed` | the same `Parse`, `.over::<SqsMessage>()`: the body read from the typed record |
//! | `events` | nothing: the events are built and dropped (subtracted from the others) |

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::pin;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context as TaskContext, Poll, Waker};

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_middleware::middlewares::{Parse, SqsBatch, SqsBody};
use lambda_middleware::{Context, Error, Handler};

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

struct Counting;

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc_zeroed(layout) }
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

const RECORDS: usize = 100;
const VARIANTS: [&str; 7] = [
    "loop-fn",
    "loop-handler",
    "batch",
    "batch-concurrent",
    "loop-parse",
    "batch-parse",
    "batch-parse-typed",
];

#[derive(serde::Deserialize)]
struct Order {
    id: u64,
}

/// Polls `future` to completion with a no-op waker.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = TaskContext::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

fn batch_event() -> SqsEvent {
    let mut event = SqsEvent::default();
    for index in 0..RECORDS {
        let mut message = SqsMessage::default();
        message.message_id = Some(format!("059f36b4-87a3-44ab-83d2-{index:012}"));
        message.body = Some(format!("{{\"id\": {index}}}"));
        event.records.push(message);
    }
    event
}

/// The record logic: fails one order in ten.
#[inline(never)]
fn check(id: u64) -> Result<(), Error> {
    if id % 10 == 7 { Err("refused".into()) } else { Ok(()) }
}

/// The record function of the typed variants: the order's number from the message id,
/// without parsing the body.
async fn record(message: SqsMessage, _: &Context) -> Result<(), Error> {
    let number = message
        .message_id
        .as_deref()
        .and_then(|id| id.rsplit('-').next()?.parse().ok())
        .unwrap_or(0);
    check(number)
}

async fn order(order: Order, _: &Context) -> Result<(), Error> {
    check(order.id)
}

fn failure(id: String) -> BatchItemFailure {
    let mut failure = BatchItemFailure::default();
    failure.item_identifier = id;
    failure
}

/// Runs `k` batches of `variant`; the events are built first.
fn run(variant: &str, k: usize) -> Option<usize> {
    let ctx = Context::default();
    let events: Vec<SqsEvent> = (0..k).map(|_| batch_event()).collect();
    let records = Handler::builder().handler(record).ok()?;
    let batch = SqsBatch::new(records.clone());
    let concurrent = SqsBatch::new(records.clone()).concurrency(NonZeroUsize::new(4)?);
    let parsed = SqsBatch::new(
        Handler::builder()
            .transform(Parse::<Order>::in_envelope(SqsBody))
            .handler(order)
            .ok()?,
    );
    let parsed_typed = SqsBatch::new(
        Handler::builder()
            .transform(Parse::<Order>::in_envelope(SqsBody).over::<SqsMessage>())
            .handler(order)
            .ok()?,
    );
    let mut failed = 0;
    for event in events {
        let response: SqsBatchResponse = match variant {
            "loop-fn" => block_on(async {
                let mut response = SqsBatchResponse::default();
                for message in event.records {
                    let id = message.message_id.clone().unwrap_or_default();
                    if record(message, &ctx).await.is_err() {
                        response.batch_item_failures.push(failure(id));
                    }
                }
                response
            }),
            "loop-handler" => block_on(async {
                let mut response = SqsBatchResponse::default();
                for message in event.records {
                    let id = message.message_id.clone().unwrap_or_default();
                    if records.invoke_with(message, &ctx).await.is_err() {
                        response.batch_item_failures.push(failure(id));
                    }
                }
                response
            }),
            "loop-parse" => block_on(async {
                let mut response = SqsBatchResponse::default();
                for message in event.records {
                    let id = message.message_id.clone().unwrap_or_default();
                    let parsed = serde_json::from_str::<Order>(message.body.as_deref().unwrap_or_default());
                    let outcome = match parsed {
                        Ok(parsed) => order(parsed, &ctx).await,
                        Err(error) => Err(error.into()),
                    };
                    if outcome.is_err() {
                        response.batch_item_failures.push(failure(id));
                    }
                }
                response
            }),
            "batch" => block_on(batch.process(event, &ctx)).ok()?,
            "batch-concurrent" => block_on(concurrent.process(event, &ctx)).ok()?,
            "batch-parse" => block_on(parsed.process(event, &ctx)).ok()?,
            "batch-parse-typed" => block_on(parsed_typed.process(event, &ctx)).ok()?,
            // Only the events, built and dropped: what the others' counts leave out.
            "events" => {
                drop(std::hint::black_box(event));
                SqsBatchResponse::default()
            }
            _ => return None,
        };
        failed += std::hint::black_box(response).batch_item_failures.len();
    }
    Some(failed)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["run", variant, k] => {
            let Ok(k) = k.parse() else { return ExitCode::FAILURE };
            match run(variant, k) {
                Some(failed) => {
                    println!("failed\t{failed}");
                    ExitCode::SUCCESS
                }
                None => ExitCode::FAILURE,
            }
        }
        [] | ["--bench", ..] => {
            println!("variant\tallocations per record");
            for variant in VARIANTS {
                // Once to warm up; then the difference between 20 and 10 batches, so
                // that what happens once (building the events and the chains) cancels.
                let count = |k| {
                    let before = ALLOCATIONS.load(Ordering::Relaxed);
                    let failed = run(variant, k).expect("a variant");
                    assert_eq!(failed, k * RECORDS / 10, "{variant}");
                    ALLOCATIONS.load(Ordering::Relaxed) - before
                };
                count(1);
                let (ten, twenty) = (count(10), count(20));
                let events = count_events(10);
                let per_record = (twenty - ten - events) as f64 / (10 * RECORDS) as f64;
                println!("{variant}\t{per_record:.2}");
            }
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: batch | batch run <{}> <k>", VARIANTS.join("|"));
            ExitCode::FAILURE
        }
    }
}

/// The allocations of building `k` events, left out of the count.
fn count_events(k: usize) -> u64 {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let events: Vec<SqsEvent> = (0..k).map(|_| batch_event()).collect();
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    drop(events);
    after - before
}
