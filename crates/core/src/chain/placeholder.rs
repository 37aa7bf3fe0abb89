//! [`Placeholder`]: the types of a chain's end without the end itself, so that the
//! middlewares of a [`ChainLayer`](crate::layer::ChainLayer) can be checked before the
//! service they will wrap exists.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use lambda_runtime::{Context, Error};

use super::service_end::{TakesEvent, TakesLambdaEvent};
use super::{Accept, Chain, DescribeChain, Respond, Token, sealed};
use crate::trace::choice::EnvTrace;

/// Stands for the service a [`ChainLayer`](crate::layer::ChainLayer) will wrap: a
/// service of form `F` ([`TakesEvent`](crate::chain::TakesEvent) or
/// [`TakesLambdaEvent`](crate::chain::TakesLambdaEvent)) answering `R`.
///
/// [`HandlerBuilder::into_layer`](crate::HandlerBuilder::into_layer) closes the chain
/// around one to check that the middlewares fit the service's types and accept their
/// params before any service exists. It is never run, and never part of a `Handler`.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Error, Handler};
///
/// // The middlewares (none here) checked against a service on `String`s answering `usize`s.
/// let layer = Handler::builder().into_layer::<String, usize>()?;
/// # Ok::<(), lambda_middleware::BuildError>(())
/// ```
pub struct Placeholder<F, R>(PhantomData<fn() -> (F, R)>);

impl<F, R> Placeholder<F, R> {
    pub(crate) fn new() -> Self {
        Placeholder(PhantomData)
    }
}

impl<F, R> sealed::Sealed for Placeholder<F, R> {}

impl<F, R> Respond for Placeholder<F, R> {
    type Response = R;
}

impl<E, R> Accept for Placeholder<TakesEvent<E>, R> {
    type Event = E;
}

impl<E, R> Accept for Placeholder<TakesLambdaEvent<E>, R> {
    type Event = E;
}

// Not listed in errors: a placeholder is never what a user's chain ends in.
#[diagnostic::do_not_recommend]
impl<F, R, E> Chain<E> for Placeholder<F, R>
where
    R: Send,
{
    const UNDECIDED: bool = false;

    fn check_chain(&self) -> Result<(), crate::BuildError> {
        Ok(())
    }

    fn run_chain<G: EnvTrace>(&self, _: E, _: &Context, _: Token) -> impl Future<Output = Result<R, Error>> + Send {
        // Never reached: a placeholder is checked and dropped, never put in a `Handler`.
        std::future::ready(Err(Error::from("a placeholder chain end cannot run")))
    }
}

impl<F, R> fmt::Debug for Placeholder<F, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("service")
    }
}

impl<F, R> DescribeChain for Placeholder<F, R> {
    fn describe_chain(&self, list: &mut fmt::DebugList<'_, '_>) {
        list.entry(&format_args!("service"));
    }
}
