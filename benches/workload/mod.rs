//! The workload every benchmark runs, written once for the timing bench (`chain.rs`)
//! and the instruction and allocation counts (`instructions.rs`).
//!
//! N middlewares, each doing one cheap step before the rest of the chain and one
//! after it ([`step`]: read the payload, increment a shared atomic counter), around a
//! handler that returns its event. The same logic is written in each of the
//! [`Variant`]s; every variant is polled once per invocation with a no-op waker, so
//! what is measured is the chain, not a runtime.
//!
//! Each invocation's response is the next invocation's event (the handler returns
//! its input), so the loop allocates nothing of its own and every allocation counted
//! belongs to the chain.

#![allow(dead_code)] // each bench binary uses its own part of the module

pub mod alloc;
pub mod builtins;
pub mod dynamic;
pub mod lambda;
pub mod limit;
pub mod parse;
pub mod payload;
pub mod subscriber;
pub mod tower_boxed;
pub mod tower_hosted;
pub mod tower_named;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context as TaskContext, Poll, Waker};

use lambda_middleware::{Context, Error};

pub use payload::{Order, Payload};

use lambda::{
    lambda_attribute_chain, lambda_chain, lambda_closures_chain, lambda_hooks_chain, lambda_hooks_decided_chain,
    lambda_hooks_service, lambda_service, lambda_traced_chain,
};
pub use subscriber::Subscriber;
use tower_boxed::tower_boxed_chain;
use tower_hosted::lambda_tower_layers_chain;
use tower_named::{tower_named_chain, tower_named_event_chain, tower_named_held_chain};

/// The chain lengths measured.
pub const DEPTHS: [usize; 5] = [1, 5, 10, 20, 32];

/// What every step increments.
pub static STEPS: AtomicU64 = AtomicU64::new(0);

/// One middleware's before- or after-step: adds the payload's [`weight`](Payload::weight)
/// (1 for every event here, read from the event itself) to a shared counter. It reads
/// the payload without handing its address to anything opaque, as a middleware that
/// looks at a field does; the atomic increments cannot be merged or dropped.
#[inline(always)]
pub fn step<P: Payload>(payload: &P) {
    STEPS.fetch_add(payload.weight(), Ordering::Relaxed);
}
/// The handler at the end of every chain: returns its event.
pub async fn echo<P>(event: P, _: &Context) -> Result<P, Error> {
    Ok(event)
}

/// Polls a future once with a no-op waker; every future here is ready at once.
#[inline(always)]
pub fn poll_once<F: Future>(future: F) -> F::Output {
    let future = pin!(future);
    match future.poll(&mut TaskContext::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("the workload never waits"),
    }
}

/// One way of running the chain: an invocation in, the response out.
pub trait Workload<P> {
    fn invoke(&mut self, payload: P, ctx: &Context) -> P;
}

/// The measured loop, the same for every variant and every bench binary. Not inlined,
/// so that it is one function to find in a profile.
#[inline(never)]
pub fn run_loop<P, W: Workload<P>>(workload: &mut W, mut payload: P, ctx: &Context, iterations: u64) -> P {
    for _ in 0..iterations {
        payload = workload.invoke(std::hint::black_box(payload), ctx);
    }
    payload
}

/// The six ways of writing the workload (the last one under three subscribers), and
/// two checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The handler alone, no middleware (reported at N = 0).
    Handler,
    /// The limit: the steps written inline around the handler's own future.
    Limit,
    /// The same steps hand-written in one `async fn` around `echo(..).await`.
    AsyncFn,
    /// lambda-middleware, through `Handler::invoke_with` (handler borrowing the context).
    Lambda,
    /// lambda-middleware, the middleware written with hooks, through `Handler::invoke_with`.
    Hooks,
    /// The same, every middleware `.untraced()`: nothing left to `POWERTOOLS_TRACE_MIDDLEWARES`.
    HooksDecided,
    /// The same steps as closure middlewares (`.before`, `.after`), tracing decided.
    ClosuresDecided,
    /// The same steps as `#[middleware(before)]` and `#[middleware(after)]` functions,
    /// tracing decided.
    AttributeDecided,
    /// lambda-middleware, untraced, with an `fmt` subscriber installed.
    LambdaSubscriber,
    /// lambda-middleware through its `tower::Service` impl, as `lambda_runtime` runs it.
    LambdaService,
    /// The hooks chain as a user writes it (`.middleware(M)`, tracing left to
    /// `POWERTOOLS_TRACE_MIDDLEWARES`) through `tower::Service`: the default path.
    HooksService,
    /// lambda-middleware hosting the step as tower layers with named futures
    /// (`HandlerBuilder::layer`), tracing decided.
    LambdaTowerLayers,
    /// tower, hand-written `Service`/`Layer` pairs with named futures.
    TowerNamed,
    /// The same on `LambdaEvent`s, as `lambda_runtime` hands them over: each event owns
    /// a clone of the context, which the handler's future owns.
    TowerNamedEvent,
    /// The same, the future held in memory as `lambda_runtime`'s run loop holds it
    /// (the way `LambdaService` and `HooksService` hold theirs).
    TowerNamedHeld,
    /// tower, a boxed `async` future per layer (`axum::middleware::from_fn` style).
    TowerBoxed,
    /// `Vec<Box<dyn Middleware>>` with a boxed `Next` and boxed futures.
    Dynamic,
    /// lambda-middleware, every middleware `.traced()`, no subscriber.
    TracedNone,
    /// lambda-middleware, every middleware `.traced()`, `fmt` subscriber writing to `io::sink`.
    TracedFmt,
    /// lambda-middleware, every middleware `.traced()`, the X-Ray layer sending to a
    /// UDP socket on loopback (feature `xray`).
    TracedXray,
}

impl Variant {
    pub const ALL: [Variant; 20] = [
        Variant::Handler,
        Variant::Limit,
        Variant::AsyncFn,
        Variant::Lambda,
        Variant::Hooks,
        Variant::HooksDecided,
        Variant::ClosuresDecided,
        Variant::AttributeDecided,
        Variant::LambdaSubscriber,
        Variant::LambdaService,
        Variant::HooksService,
        Variant::LambdaTowerLayers,
        Variant::TowerNamed,
        Variant::TowerNamedEvent,
        Variant::TowerNamedHeld,
        Variant::TowerBoxed,
        Variant::Dynamic,
        Variant::TracedNone,
        Variant::TracedFmt,
        Variant::TracedXray,
    ];

    /// Short name, used in bench ids and on the command line.
    pub fn slug(self) -> &'static str {
        match self {
            Variant::Handler => "handler",
            Variant::Limit => "limit",
            Variant::AsyncFn => "one-async-fn",
            Variant::Lambda => "lambda-middleware",
            Variant::Hooks => "lambda-middleware-hooks",
            Variant::HooksDecided => "lambda-middleware-hooks-decided",
            Variant::ClosuresDecided => "lambda-middleware-closures-decided",
            Variant::AttributeDecided => "lambda-middleware-attribute-decided",
            Variant::LambdaSubscriber => "lambda-middleware-subscriber",
            Variant::LambdaService => "lambda-middleware-service",
            Variant::HooksService => "lambda-middleware-hooks-service",
            Variant::LambdaTowerLayers => "lambda-middleware-tower-layers",
            Variant::TowerNamed => "tower-named",
            Variant::TowerNamedEvent => "tower-named-lambda-event",
            Variant::TowerNamedHeld => "tower-named-held",
            Variant::TowerBoxed => "tower-boxed",
            Variant::Dynamic => "dyn-chain",
            Variant::TracedNone => "traced-no-subscriber",
            Variant::TracedFmt => "traced-fmt",
            Variant::TracedXray => "traced-xray",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|variant| variant.slug() == slug)
    }

    /// What the variant is, for the tables.
    pub fn description(self) -> &'static str {
        match self {
            Variant::Handler => "handler alone",
            Variant::Limit => "limit: steps inline around the handler",
            Variant::AsyncFn => "steps hand-written in one async fn",
            Variant::Lambda => "lambda-middleware (invoke_with)",
            Variant::Hooks => "lambda-middleware, hooks (invoke_with)",
            Variant::HooksDecided => "lambda-middleware, hooks, tracing decided",
            Variant::ClosuresDecided => "lambda-middleware, closures (.before/.after), tracing decided",
            Variant::AttributeDecided => "lambda-middleware, #[middleware] hook functions, tracing decided",
            Variant::LambdaSubscriber => "lambda-middleware, fmt subscriber set",
            Variant::LambdaService => "lambda-middleware as tower::Service",
            Variant::HooksService => "lambda-middleware, hooks, default tracing, as tower::Service",
            Variant::LambdaTowerLayers => "lambda-middleware hosting tower layers",
            Variant::TowerNamed => "tower, named futures",
            Variant::TowerNamedEvent => "tower, named futures, on LambdaEvent",
            Variant::TowerNamedHeld => "tower, named futures, on LambdaEvent, held as the runtime holds it",
            Variant::TowerBoxed => "tower, boxed future per layer",
            Variant::Dynamic => "Vec<Box<dyn>> chain, boxed Next",
            Variant::TracedNone => "traced, no subscriber",
            Variant::TracedFmt => "traced, fmt to io::sink",
            Variant::TracedXray => "traced, X-Ray to UDP loopback",
        }
    }

    /// The `tracing` subscriber the variant runs under.
    pub fn subscriber(self) -> Subscriber {
        match self {
            Variant::LambdaSubscriber | Variant::TracedFmt => Subscriber::FmtSink,
            Variant::TracedXray => Subscriber::Xray,
            _ => Subscriber::None,
        }
    }

    /// The chain lengths the variant runs at.
    pub fn depths(self) -> &'static [usize] {
        match self {
            Variant::Handler => &[0],
            _ => &DEPTHS,
        }
    }

    /// Whether this build can run it.
    pub fn available(self) -> bool {
        self != Variant::TracedXray || cfg!(feature = "xray")
    }
}

/// Receives each workload, built lazily, with its variant and depth.
pub trait Visitor<P> {
    /// Whether to build and receive this one.
    fn wants(&self, variant: Variant, depth: usize) -> bool;
    fn visit<W: Workload<P>>(&mut self, variant: Variant, depth: usize, workload: W);
}

/// Calls `visitor` with every available variant at every depth, for payload `P`.
pub fn visit_all<P: Payload, V: Visitor<P>>(visitor: &mut V) {
    for variant in Variant::ALL {
        if !variant.available() {
            continue;
        }
        for &depth in variant.depths() {
            if visitor.wants(variant, depth) {
                visit_one::<P, V>(visitor, variant, depth);
            }
        }
    }
}

macro_rules! dispatch_depth {
    ($visitor:ident, $variant:expr, $depth:expr, $p:ty, $build:ident) => {
        match $depth {
            1 => $visitor.visit($variant, 1, $build!($p; x)),
            5 => $visitor.visit($variant, 5, $build!($p; x x x x x)),
            10 => $visitor.visit($variant, 10, $build!($p; x x x x x x x x x x)),
            20 => $visitor.visit($variant, 20, $build!($p; x x x x x x x x x x x x x x x x x x x x)),
            32 => $visitor.visit(
                $variant,
                32,
                $build!($p; x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x),
            ),
            other => panic!("no chain of {other} middlewares is built; the depths are {DEPTHS:?}"),
        }
    };
}

fn visit_one<P: Payload, V: Visitor<P>>(visitor: &mut V, variant: Variant, depth: usize) {
    match variant {
        Variant::Handler => visitor.visit(variant, 0, limit::Limit::<0>),
        Variant::Limit => match depth {
            1 => visitor.visit(variant, 1, limit::Limit::<1>),
            5 => visitor.visit(variant, 5, limit::Limit::<5>),
            10 => visitor.visit(variant, 10, limit::Limit::<10>),
            20 => visitor.visit(variant, 20, limit::Limit::<20>),
            32 => visitor.visit(variant, 32, limit::Limit::<32>),
            other => panic!("no limit for {other} middlewares is built; the depths are {DEPTHS:?}"),
        },
        Variant::AsyncFn => match depth {
            1 => visitor.visit(variant, 1, limit::AsyncFn::<1>),
            5 => visitor.visit(variant, 5, limit::AsyncFn::<5>),
            10 => visitor.visit(variant, 10, limit::AsyncFn::<10>),
            20 => visitor.visit(variant, 20, limit::AsyncFn::<20>),
            32 => visitor.visit(variant, 32, limit::AsyncFn::<32>),
            other => panic!("no async fn for {other} middlewares is built; the depths are {DEPTHS:?}"),
        },
        Variant::Lambda | Variant::LambdaSubscriber => dispatch_depth!(visitor, variant, depth, P, lambda_chain),
        Variant::Hooks => dispatch_depth!(visitor, variant, depth, P, lambda_hooks_chain),
        Variant::HooksDecided => dispatch_depth!(visitor, variant, depth, P, lambda_hooks_decided_chain),
        Variant::ClosuresDecided => dispatch_depth!(visitor, variant, depth, P, lambda_closures_chain),
        Variant::AttributeDecided => dispatch_depth!(visitor, variant, depth, P, lambda_attribute_chain),
        Variant::LambdaService => dispatch_depth!(visitor, variant, depth, P, lambda_service),
        Variant::HooksService => dispatch_depth!(visitor, variant, depth, P, lambda_hooks_service),
        Variant::LambdaTowerLayers => dispatch_depth!(visitor, variant, depth, P, lambda_tower_layers_chain),
        Variant::TowerNamed => dispatch_depth!(visitor, variant, depth, P, tower_named_chain),
        Variant::TowerNamedEvent => dispatch_depth!(visitor, variant, depth, P, tower_named_event_chain),
        Variant::TowerNamedHeld => dispatch_depth!(visitor, variant, depth, P, tower_named_held_chain),
        Variant::TowerBoxed => dispatch_depth!(visitor, variant, depth, P, tower_boxed_chain),
        Variant::Dynamic => visitor.visit(variant, depth, dynamic::DynChain::<P>::new(depth)),
        Variant::TracedNone | Variant::TracedFmt | Variant::TracedXray => {
            dispatch_depth!(visitor, variant, depth, P, lambda_traced_chain)
        }
    }
}
