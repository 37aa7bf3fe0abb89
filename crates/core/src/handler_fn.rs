//! The handler at the end of a chain, and the two forms it can take.
//!
//! | form | signature | per-invocation cost |
//! |------|-----------|---------------------|
//! | [`WithLambdaEvent`] | `async fn(LambdaEvent<E>) -> Result<R, Error>` (lambda_runtime's own) | one `Context` clone: a few small heap allocations for its strings |
//! | [`WithContextRef`] | `async fn(E, &Context) -> Result<R, Error>` | nothing: the context is borrowed |
//!
//! The middlewares around the handler borrow the [`Context`] and keep using it after
//! the handler returns (to add a request id to the response, say), so a handler that
//! wants to own a `LambdaEvent` gets a clone of the context; one that borrows it gets
//! the original.

use std::future::Future;
use std::marker::PhantomData;

use lambda_runtime::{Context, Error, LambdaEvent};

use crate::chain::{Accept, Chain, FnHandler, Respond, Token};
use crate::trace::choice::EnvTrace;

/// Marks a handler in lambda_runtime's convention, `async fn(LambdaEvent<E>) -> Result<R, Error>`
/// (also a closure `|event: LambdaEvent<E>| async move { .. }`).
///
/// The chain clones the invocation's [`Context`] to hand it over, once per invocation.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Error, Handler};
/// use lambda_runtime::LambdaEvent;
/// use serde_json::Value;
///
/// async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
///     Ok(event.payload)
/// }
///
/// let handler = Handler::builder().handler(handler)?;
/// # Ok::<(), lambda_middleware::BuildError>(())
/// ```
#[derive(Debug)]
pub struct WithLambdaEvent<E, R>(PhantomData<fn(E) -> R>);

/// Marks a handler that borrows the context, `async fn(E, &Context) -> Result<R, Error>`:
/// no copy at all, the cheapest form.
///
/// Write it as an `async fn` item: a closure cannot return a future that borrows its
/// argument on stable Rust.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Context, Error, Handler};
/// use serde_json::{json, Value};
///
/// async fn handler(event: Value, ctx: &Context) -> Result<Value, Error> {
///     Ok(json!({ "request_id": ctx.request_id, "event": event }))
/// }
///
/// let handler = Handler::builder().handler(handler)?;
/// # Ok::<(), lambda_middleware::BuildError>(())
/// ```
#[derive(Debug)]
pub struct WithContextRef<E, R>(PhantomData<fn(E) -> R>);

/// A function that can end a chain, in one of the forms above.
///
/// Implemented for every `async fn` item and closure of the right shape; `S` is the
/// form ([`WithLambdaEvent`] or [`WithContextRef`]) and is inferred.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Context, Error};
/// use lambda_middleware::chain::{HandlerFn, WithContextRef, WithLambdaEvent};
/// use lambda_runtime::LambdaEvent;
///
/// async fn owned(event: LambdaEvent<u32>) -> Result<u32, Error> { Ok(event.payload) }
/// async fn borrowed(event: u32, _: &Context) -> Result<u32, Error> { Ok(event) }
///
/// fn is_handler<S, F: HandlerFn<S>>(_: F) {}
/// is_handler::<WithLambdaEvent<u32, u32>, _>(owned);
/// is_handler::<WithContextRef<u32, u32>, _>(borrowed);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the handler at the end of a chain",
    label = "not a Lambda handler function",
    note = "a handler is an `async fn(LambdaEvent<E>) -> Result<R, lambda_runtime::Error>` or an `async fn(E, &Context) -> Result<R, lambda_runtime::Error>`, and must be `Send + Sync` with a `Send` future"
)]
pub trait HandlerFn<S>: Send + Sync {
    /// The event (payload) type.
    type Event;
    /// The response type.
    type Response;
}

impl<F, E, R, Fut> HandlerFn<WithLambdaEvent<E, R>> for F
where
    F: Fn(LambdaEvent<E>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<R, Error>> + Send,
{
    type Event = E;
    type Response = R;
}

impl<F, E, R> HandlerFn<WithContextRef<E, R>> for F
where
    F: for<'c> BorrowingFn<'c, E, Output = Result<R, Error>>,
{
    type Event = E;
    type Response = R;
}

/// `Fn(E, &'c Context) -> impl Future + 'c`, nameable so that a handler can be
/// required to work for every borrow of the context (`for<'c>`).
///
/// Implemented for every such function; there is no reason to implement it by hand.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Context, Error};
/// use lambda_middleware::chain::BorrowingFn;
///
/// async fn handler(event: u8, _: &Context) -> Result<u8, Error> { Ok(event) }
///
/// fn borrows<F: for<'c> BorrowingFn<'c, u8, Output = Result<u8, Error>>>(_: F) {}
/// borrows(handler);
/// ```
pub trait BorrowingFn<'c, E>: Send + Sync {
    /// What the future returns.
    type Output;
    /// The future, which may borrow the context for `'c`.
    type Future: Future<Output = Self::Output> + Send + 'c;
    /// Calls the function.
    fn call(&self, event: E, ctx: &'c Context) -> Self::Future;
}

impl<'c, E, F, Fut> BorrowingFn<'c, E> for F
where
    F: Fn(E, &'c Context) -> Fut + Send + Sync,
    Fut: Future + Send + 'c,
{
    type Output = Fut::Output;
    type Future = Fut;

    #[inline(always)]
    fn call(&self, event: E, ctx: &'c Context) -> Fut {
        self(event, ctx)
    }
}

impl<F, E, R> Respond for FnHandler<F, WithLambdaEvent<E, R>> {
    type Response = R;
}

impl<F, E, R> Respond for FnHandler<F, WithContextRef<E, R>> {
    type Response = R;
}

impl<F, E, R> Accept for FnHandler<F, WithLambdaEvent<E, R>> {
    type Event = E;
}

impl<F, E, R> Accept for FnHandler<F, WithContextRef<E, R>> {
    type Event = E;
}

// Not listed in errors: which handler forms exist depends on the crate's features,
// and `HandlerFn`'s own message already says what a handler is.
#[diagnostic::do_not_recommend]
impl<F, E, R, Fut> Chain<E> for FnHandler<F, WithLambdaEvent<E, R>>
where
    F: Fn(LambdaEvent<E>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<R, Error>> + Send,
{
    const UNDECIDED: bool = false;

    fn check_chain(&self) -> Result<(), crate::BuildError> {
        Ok(())
    }

    #[inline(always)]
    fn run_chain<G: EnvTrace>(
        &self,
        event: E,
        ctx: &Context,
        _: Token,
    ) -> impl Future<Output = Result<R, Error>> + Send {
        (self.function())(LambdaEvent::new(event, ctx.clone()))
    }
}

// Not listed in errors: which handler forms exist depends on the crate's features,
// and `HandlerFn`'s own message already says what a handler is.
#[diagnostic::do_not_recommend]
impl<F, E, R> Chain<E> for FnHandler<F, WithContextRef<E, R>>
where
    F: for<'c> BorrowingFn<'c, E, Output = Result<R, Error>>,
{
    const UNDECIDED: bool = false;

    fn check_chain(&self) -> Result<(), crate::BuildError> {
        Ok(())
    }

    #[inline(always)]
    fn run_chain<G: EnvTrace>(
        &self,
        event: E,
        ctx: &Context,
        _: Token,
    ) -> impl Future<Output = Result<R, Error>> + Send {
        self.function().call(event, ctx)
    }
}
