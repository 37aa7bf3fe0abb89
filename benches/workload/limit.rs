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

use super::{Workload, echo, poll_once, step};

/// `N` middlewares' steps written inline; `Limit<0>` is the handler alone.
#[derive(Debug, Clone, Copy)]
pub struct Limit<const N: usize>;

impl<P, const N: usize> Workload<P> for Limit<N> {
    #[inline]
    fn invoke(&mut self, mut payload: P, ctx: &Context) -> P {
        for _ in 0..N {
            step(&mut payload);
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

impl<F, P, const N: usize> Future for Inline<F, N>
where
    F: Future<Output = Result<P, Error>>,
{
    type Output = Result<P, Error>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        // SAFETY: `handler` is structurally pinned: never moved out, no `Drop` impl.
        let handler = unsafe { self.map_unchecked_mut(|this| &mut this.handler) };
        match handler.poll(cx) {
            Poll::Ready(Ok(mut response)) => {
                for _ in 0..N {
                    step(&mut response);
                }
                Poll::Ready(Ok(response))
            }
            other => other,
        }
    }
}
