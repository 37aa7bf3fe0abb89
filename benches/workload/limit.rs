//! The limit: the N before-steps, the handler's own future, the N after-steps, with
//! no future of the middlewares' own around it.
//!
//! Even one `async fn` wrapping the handler costs more than this (its state machine
//! holds the handler's future and polls it through one more layer), so the limit is a
//! hand-written future whose `poll` is the handler's `poll` followed by the
//! after-steps.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use lambda_middleware::{Context, Error};

use super::{Payload, Workload, echo, poll_once, step};

/// `N` middlewares' steps written inline; `Limit<0>` is the handler alone.
#[derive(Debug, Clone, Copy)]
pub struct Limit<const N: usize>;

impl<P: Payload, const N: usize> Workload<P> for Limit<N> {
    #[inline]
    fn invoke(&mut self, payload: P, ctx: &Context) -> P {
        for _ in 0..N {
            step(&payload);
        }
        poll_once(Inline::<_, N> {
            handler: echo(payload, ctx),
        })
        .expect("the handler does not fail")
    }
}

/// The handler's future, then the after-steps.
struct Inline<F, const N: usize> {
    handler: F,
}

impl<F, P: Payload, const N: usize> Future for Inline<F, N>
where
    F: Future<Output = Result<P, Error>>,
{
    type Output = Result<P, Error>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        // SAFETY: `handler` is structurally pinned: never moved out, no `Drop` impl.
        let handler = unsafe { self.map_unchecked_mut(|this| &mut this.handler) };
        match handler.poll(cx) {
            Poll::Ready(Ok(response)) => {
                for _ in 0..N {
                    step(&response);
                }
                Poll::Ready(Ok(response))
            }
            other => other,
        }
    }
}

/// The same steps written in one `async fn` around the handler: what a developer
/// writes by hand without middleware, and the limit a prototype of this crate was
/// measured against.
#[derive(Debug, Clone, Copy)]
pub struct AsyncFn<const N: usize>;

async fn hand_written<P: Payload, const N: usize>(event: P, ctx: &Context) -> Result<P, Error> {
    for _ in 0..N {
        step(&event);
    }
    let response = echo(event, ctx).await?;
    for _ in 0..N {
        step(&response);
    }
    Ok(response)
}

impl<P: Payload, const N: usize> Workload<P> for AsyncFn<N> {
    #[inline]
    fn invoke(&mut self, payload: P, ctx: &Context) -> P {
        poll_once(hand_written::<P, N>(payload, ctx)).expect("the handler does not fail")
    }
}
