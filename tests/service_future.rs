//! The future `tower::Service::call` returns owns the invocation's context and a handle
//! on the chain, which the chain's future borrows: every way it can end (finished,
//! cancelled mid-flight, never polled, a panic inside) drops each of them once and
//! leaves the handler serving the next invocation.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context as TaskContext, Poll, Waker};

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use lambda_runtime::LambdaEvent;
use tower::Service;

/// Counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Reads the context after the handler, so that the future really borrows it across
/// the await.
struct ReadsContextAfter;

impl Middleware<u32, String> for ReadsContextAfter {
    type Params = ();

    async fn call<'n, I>(
        &self,
        _: &(),
        event: u32,
        ctx: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, String>, Error>
    where
        I: Invoke<u32, Response = String>,
    {
        let response = next.run(event).await?;
        Ok(response.map(|response| format!("{response} for {}", ctx.request_id)))
    }
}

/// 0: pending, 1: ready, 2: panics.
fn handler(gate: &Arc<AtomicUsize>, drops: &Arc<AtomicUsize>) -> impl Fn(u32, &Context) -> Gate + Send + Sync + use<> {
    let (gate, drops) = (gate.clone(), drops.clone());
    move |event, ctx: &Context| Gate {
        gate: gate.clone(),
        held: Counted(drops.clone()),
        answer: format!("{event} from {}", ctx.request_id),
    }
}

struct Gate {
    gate: Arc<AtomicUsize>,
    held: Counted,
    answer: String,
}

impl Future for Gate {
    type Output = Result<String, Error>;

    fn poll(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let _ = &self.held;
        match self.gate.load(Ordering::SeqCst) {
            0 => Poll::Pending,
            1 => Poll::Ready(Ok(self.answer.clone())),
            _ => panic!("the handler panicked"),
        }
    }
}

fn event(payload: u32, request_id: &str) -> LambdaEvent<u32> {
    let mut context = Context::default();
    context.request_id = request_id.to_owned();
    LambdaEvent::new(payload, context)
}

fn poll<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut TaskContext::from_waker(Waker::noop()))
}

#[test]
fn every_ending_drops_what_the_invocation_owns_once() {
    let (gate, drops) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut service = Handler::builder()
        .middleware(ReadsContextAfter)
        .handler(handler(&gate, &drops))
        .unwrap();
    // Cancelled mid-flight.
    let mut pending = service.call(event(1, "r-1"));
    assert!(poll(Pin::new(&mut pending)).is_pending());
    assert!(poll(Pin::new(&mut pending)).is_pending());
    drop(pending);
    assert_eq!(drops.load(Ordering::SeqCst), 1);

    // Never polled: the handler never ran, so nothing of it to drop.
    drop(service.call(event(2, "r-2")));
    assert_eq!(drops.load(Ordering::SeqCst), 1);

    // Finished, the context read after the handler, then dropped.
    gate.store(1, Ordering::SeqCst);
    let mut finished = service.call(event(3, "r-3"));
    let Poll::Ready(Ok(answer)) = poll(Pin::new(&mut finished)) else {
        panic!("ready once the gate is open");
    };
    assert_eq!(answer, "3 from r-3 for r-3");
    drop(finished);
    assert_eq!(drops.load(Ordering::SeqCst), 2);

    // A panic inside is caught in `poll` and answered as an error named `Panic`, with
    // its message; polled again, the future answers the same without touching the
    // chain's future. What the chain held was dropped as the panic unwound through it,
    // and is not dropped again with the future.
    gate.store(2, Ordering::SeqCst);
    let mut panicking = service.call(event(4, "r-4"));
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| poll(Pin::new(&mut panicking))));
    let Ok(Poll::Ready(Err(error))) = outcome else {
        panic!("the panic is the invocation's error");
    };
    assert_eq!(
        (error.error_type().as_ref(), error.to_string().as_str()),
        ("Panic", "the handler panicked")
    );
    assert!(matches!(poll(Pin::new(&mut panicking)), Poll::Ready(Err(again)) if again.error_type() == "Panic"));
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    drop(panicking);
    assert_eq!(drops.load(Ordering::SeqCst), 3);

    // And the next invocation is served.
    gate.store(1, Ordering::SeqCst);
    let mut next = service.call(event(5, "r-5"));
    assert!(matches!(poll(Pin::new(&mut next)), Poll::Ready(Ok(answer)) if answer == "5 from r-5 for r-5"));
}

#[test]
fn the_future_keeps_the_chain_alive_after_the_handler_is_dropped() {
    let (gate, drops) = (Arc::new(AtomicUsize::new(1)), Arc::new(AtomicUsize::new(0)));
    let mut service = Handler::builder()
        .middleware(ReadsContextAfter)
        .handler(handler(&gate, &drops))
        .unwrap();
    let mut future = service.call(event(6, "r-6"));
    drop(service); // the only other handle on the chain
    let Poll::Ready(Ok(answer)) = poll(Pin::new(&mut future)) else {
        panic!("ready at once");
    };
    assert_eq!(answer, "6 from r-6 for r-6");
    drop(future);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

/// A panic while the invocation's future is made (a hook's `before` runs then) is
/// answered as `Panic` too: the context and the handle written into the box are dropped
/// once, and the handler serves the next invocation.
#[test]
fn a_panic_in_before_is_an_error_named_panic() {
    struct Owned(Arc<AtomicUsize>);
    impl Drop for Owned {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let held = Owned(drops.clone());
    let mut service = Handler::builder()
        .before(move |event: &mut u32, _: &Context| {
            let _ = &held;
            assert!(*event != 0, "zero is refused loudly");
        })
        .handler(|event: u32, _: &Context| std::future::ready(Ok::<u32, Error>(event + 1)))
        .unwrap();
    let clones = Arc::strong_count(&drops);
    let mut failed = service.call(event(0, "r-0"));
    let Poll::Ready(Err(error)) = poll(Pin::new(&mut failed)) else {
        panic!("ready with the panic");
    };
    assert_eq!(error.error_type(), "Panic");
    assert_eq!(error.to_string(), "zero is refused loudly");
    drop(failed);
    // The box's handle on the chain was dropped: only the service's own remains.
    assert_eq!(Arc::strong_count(&drops), clones);
    let mut next = service.call(event(1, "r-1"));
    assert!(matches!(poll(Pin::new(&mut next)), Poll::Ready(Ok(2))));
    drop(service);
    drop(next);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the chain dropped once, with its last handle"
    );
}

/// The slot a finished invocation gave back is the next invocation's: a finished future
/// kept around holds nothing, and dropping it later touches nothing the next one uses.
#[test]
fn a_finished_future_kept_around_does_not_hold_the_next_invocations_slot() {
    let (gate, drops) = (Arc::new(AtomicUsize::new(1)), Arc::new(AtomicUsize::new(0)));
    let mut service = Handler::builder()
        .middleware(ReadsContextAfter)
        .handler(handler(&gate, &drops))
        .unwrap();
    let mut first = service.call(event(1, "r-1"));
    assert!(matches!(poll(Pin::new(&mut first)), Poll::Ready(Ok(answer)) if answer == "1 from r-1 for r-1"));
    // Done: what the invocation owned is gone already, before `first` is dropped.
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let mut second = service.call(event(2, "r-2"));
    drop(first);
    assert!(matches!(poll(Pin::new(&mut second)), Poll::Ready(Ok(answer)) if answer == "2 from r-2 for r-2"));
    // Polled past its end, a future answers an error rather than touching its slot.
    let again = poll(Pin::new(&mut second));
    assert!(matches!(again, Poll::Ready(Err(error)) if error.to_string().contains("polled after it completed")));
    drop(second);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

/// Cancelled mid-flight after the handler was dropped: the future's handle is the last
/// one, so the chain (and the slots it kept) go with the future.
#[test]
fn a_future_cancelled_after_the_handler_was_dropped_drops_the_chain_with_it() {
    let (gate, drops) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let held = Arc::new(());
    let keep = held.clone();
    let mut service = Handler::builder()
        .before(move |_: &mut u32, _: &Context| {
            let _ = &keep;
        })
        .middleware(ReadsContextAfter)
        .handler(handler(&gate, &drops))
        .unwrap();
    // A slot kept from a finished invocation, and one in flight.
    gate.store(1, Ordering::SeqCst);
    assert!(poll(Pin::new(&mut service.call(event(1, "r-1")))).is_ready());
    gate.store(0, Ordering::SeqCst);
    let mut pending = service.call(event(2, "r-2"));
    assert!(poll(Pin::new(&mut pending)).is_pending());
    drop(service);
    assert_eq!(Arc::strong_count(&held), 2, "the future keeps the chain");
    drop(pending);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    assert_eq!(Arc::strong_count(&held), 1, "the chain went with the last handle");
}

/// A `Drop` that panics when the finished chain's future is dropped (inside `poll`)
/// turns the outcome into a `Panic` error; the slot is released all the same, and the
/// handler serves the next invocation.
#[test]
fn a_panic_while_the_finished_future_is_dropped_is_an_error_named_panic() {
    struct PanicsOnDrop(bool);
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            if self.0 {
                panic!("dropping the handler's future panicked");
            }
        }
    }
    let clones = Arc::new(());
    let keep = clones.clone();
    let mut service = Handler::builder()
        .before(move |_: &mut u32, _: &Context| {
            let _ = &keep;
        })
        .handler(|event: u32, _: &Context| {
            let guard = PanicsOnDrop(event == 0);
            async move {
                let _ = &guard;
                Ok::<u32, Error>(event + 1)
            }
        })
        .unwrap();
    let mut failing = service.call(event(0, "r-0"));
    let Poll::Ready(Err(error)) = poll(Pin::new(&mut failing)) else {
        panic!("ready with the panic");
    };
    assert_eq!(
        (error.error_type().as_ref(), error.to_string().as_str()),
        ("Panic", "dropping the handler's future panicked")
    );
    drop(failing);
    assert_eq!(Arc::strong_count(&clones), 2, "the slot's handle was dropped");
    let mut next = service.call(event(1, "r-1"));
    assert!(matches!(poll(Pin::new(&mut next)), Poll::Ready(Ok(2))));
}

/// An event the JSON entry cannot read never takes a slot: its future is settled with
/// the error, answered once.
#[test]
fn an_unreadable_event_is_settled_without_a_slot() {
    let mut entry = Handler::builder()
        .handler(|event: u32, _: &Context| std::future::ready(Ok::<u32, Error>(event + 1)))
        .unwrap()
        .json_entry();
    let mut context = Context::default();
    context.request_id = "r-9".into();
    let mut failed = entry.call(LambdaEvent::new(serde_json::json!("nine"), context.clone()));
    let Poll::Ready(Err(error)) = poll(Pin::new(&mut failed)) else {
        panic!("settled at once");
    };
    assert_eq!(error.error_type(), "InvalidEvent");
    assert!(matches!(poll(Pin::new(&mut failed)), Poll::Ready(Err(again)) if again.error_type() == "Panic"));
    let mut ok = entry.call(LambdaEvent::new(serde_json::json!(9), context));
    assert!(matches!(poll(Pin::new(&mut ok)), Poll::Ready(Ok(10))));
}

/// Handler clones on several threads take and give back the shared slots at once:
/// every invocation answers its own event, with some kept in flight across others.
#[test]
fn invocations_on_several_threads_share_the_slots() {
    let service = Handler::builder()
        .before(|event: &mut u32, _: &Context| *event += 1)
        .middleware(ReadsContextAfter)
        .handler(|event: u32, ctx: &Context| {
            std::future::ready(Ok::<String, Error>(format!("{event} from {}", ctx.request_id)))
        })
        .unwrap();
    let threads: Vec<_> = (0..4u32)
        .map(|thread| {
            let mut service = service.clone();
            std::thread::spawn(move || {
                let mut held = Vec::new();
                for i in 0..200u32 {
                    let id = format!("t{thread}-{i}");
                    let mut future = service.call(event(i, &id));
                    if i % 7 == 0 {
                        // Made but not polled yet: its slot stays taken meanwhile.
                        held.push((i, id, future));
                        continue;
                    }
                    let Poll::Ready(Ok(answer)) = poll(Pin::new(&mut future)) else {
                        panic!("ready at once");
                    };
                    assert_eq!(answer, format!("{} from {id} for {id}", i + 1));
                }
                for (i, id, mut future) in held {
                    let Poll::Ready(Ok(answer)) = poll(Pin::new(&mut future)) else {
                        panic!("ready at once");
                    };
                    assert_eq!(answer, format!("{} from {id} for {id}", i + 1));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}
