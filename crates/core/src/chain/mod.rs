//! The static chain: [`Wrap`] puts one middleware around the rest, [`FnHandler`] ends
//! it, and [`Invoke`] is what a middleware sees of the rest through its [`Next`].
//!
//! `Handler::builder().middleware(A).middleware(B).handler(f)` builds
//! `Wrap<A, Wrap<B, FnHandler<f, _>>>`: one value whose type spells the whole chain,
//! so every call from one layer to the next is a direct, inlinable call. Nothing is
//! boxed, nothing is allocated per invocation, and a chain of middlewares that hold
//! no data is itself zero-sized.
//!
//! Between layers the chain passes plain `Result<R, Error>`s; a middleware sees them
//! only as the branded [`Proceeded`](crate::Proceeded) and [`Failure`](crate::Failure)
//! its own `Next` makes. The methods that run a chain take a `Token` that only this
//! crate can make, so code outside it can run a chain only through
//! [`Handler`](crate::Handler) (which hands out responses, never proofs) or through the
//! `Next` it was given.
//!
//! [`Next`]: crate::Next

mod end;
mod placeholder;
mod reshape;
mod service_end;
mod wrap;

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use lambda_runtime::{Context, Error};

pub use end::FnHandler;
pub use placeholder::Placeholder;
pub use reshape::Reshape;
pub use service_end::{ServiceEnd, TakesEvent, TakesLambdaEvent};
pub use wrap::{ParamsOf, Wrap};

// The builder's and the handler's type-level parts: named in a chain's type, rarely
// written by hand.
pub use crate::builder::{Assemble, Changes, CloneStack, Hosting, Identity, Mapping, ResponseMapping, Same, Stack};
pub use crate::builder::{Finished, Rename, Retrace};
pub use crate::closures::{
    After, AfterOutcome, Before, BeforeOutcome, IntoFlow, Inward, MapEvent, MapResponse, OnError,
};
pub use crate::handler_fn::{BorrowingFn, HandlerFn, WithContextRef, WithLambdaEvent};
pub use crate::next::NextRun;
pub use crate::service::ResponseFuture;

use crate::trace::choice::EnvTrace;

pub(crate) mod sealed {
    /// Implemented by the chain's own types only.
    pub trait Sealed {}
    pub trait SameParams<T> {
        /// The params, as the type the middleware takes (they are that type).
        fn as_params(&self) -> &T;
    }

    /// The permission to run a chain: its field is private to the crate, so only the
    /// crate can make one, and every method that runs a chain asks for one.
    #[derive(Debug, Clone, Copy)]
    pub struct Token(pub(crate) ());
}

pub(crate) use sealed::Token;

/// The response type of a chain, read off its type alone.
///
/// A supertrait of [`Chain`] and [`Invoke`]: in a bound, `C::Response`,
/// `Chain<E, Response = R>` and `Invoke<E, Response = R>` name it, and a fully
/// qualified path is `<C as Respond>::Response`. Like `Chain`, it is implemented by the
/// crate only.
///
/// It is kept apart from `Chain` so that the response type of the chain inside a
/// `Wrap` is found from the types alone, without proving that the inner chain is a
/// `Chain`. With the response type on `Chain` itself, proving a chain of N generic
/// middlewares proved the inner layers again for each mention of the inner response
/// type, and type checking grew exponentially with N.
///
/// # Example
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Context, Error, Handler};
/// use lambda_middleware::chain::Respond;
///
/// /// The response type of any handler's chain, named without knowing its event type.
/// fn first_response<C: Respond>(_: &Handler<C>) -> Option<<C as Respond>::Response> {
///     None
/// }
///
/// async fn double(event: u64, _: &Context) -> Result<u64, Error> { Ok(event * 2) }
///
/// # fn main() -> Result<(), Error> {
/// let handler = Handler::builder().handler(double)?;
/// let none: Option<u64> = first_response(&handler);
/// assert!(none.is_none());
/// # Ok(()) }
/// ```
pub trait Respond: sealed::Sealed {
    /// The response type of the chain.
    type Response;
}

/// The event type a chain takes, read off its type alone: the handler's event, as each
/// layer outwards passes it on or changes it ([`Transform`](crate::Transform)).
///
/// Like [`Respond`], it is implemented by the crate only, and kept apart from
/// [`Chain`] so that a layer finds the event type of the layers inside it without
/// proving anything about them: the types of a chain are checked from the handler
/// outwards, each layer once.
///
/// # Example
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Context, Error, Handler};
/// use lambda_middleware::chain::Accept;
///
/// /// The event type of any handler's chain.
/// fn takes<C: Accept>(_: &Handler<C>) -> &'static str {
///     std::any::type_name::<C::Event>()
/// }
///
/// async fn double(event: u64, _: &Context) -> Result<u64, Error> { Ok(event * 2) }
///
/// # fn main() -> Result<(), Error> {
/// assert_eq!(takes(&Handler::builder().handler(double)?), "u64");
/// # Ok(()) }
/// ```
pub trait Accept: sealed::Sealed {
    /// The event type of the chain.
    type Event;
}

/// The rest of a chain, as a middleware sees it through [`Next`](crate::Next).
///
/// Middlewares name it only in their bounds, `I: Invoke<E, Response = R>`, and never
/// implement or call it: it is sealed, so the only chains are the ones the builder
/// makes, and running one takes a token only the crate has.
///
/// # Example
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
///
/// /// Works in any chain, whatever its event and response types.
/// struct Noop;
///
/// impl<E: Send, R: Send> Middleware<E, R> for Noop {
///     type Params = ();
///
///     async fn call<'n, I>(&self, _: &(), event: E, _: &Context, next: Next<'n, I>)
///         -> Result<Proceeded<'n, R>, Error>
///     where
///         I: Invoke<E, Response = R>,
///     {
///         Ok(next.run(event).await?)
///     }
/// }
/// ```
pub trait Invoke<E>: Respond + Send + Sync {
    #[doc(hidden)]
    fn invoke(
        self,
        event: E,
        ctx: &Context,
        token: Token,
    ) -> impl Future<Output = Result<Self::Response, Error>> + Send;
}

/// A link of a built chain: a [`Wrap`] or the handler function at the end.
///
/// Implemented by the crate only; it appears in the bounds of
/// [`Handler`](crate::Handler)'s methods so that a chain whose middlewares do not fit
/// its handler is a compile error there.
///
/// Its response type comes from the supertrait [`Respond`]: write `C::Response` or
/// `C: Chain<E, Response = R>` in a bound, and `<C as Respond>::Response` for the fully
/// qualified path (`<C as Chain<E>>::Response` does not name it).
#[diagnostic::on_unimplemented(
    message = "this chain cannot run events of type `{E}`: a layer in it, or its handler, takes another type",
    label = "the chain is built here",
    note = "every middleware of a chain implements `Middleware<E, R>` for the event `E` and response `R` of the layers inside it, and the handler takes the event the innermost layer hands it"
)]
pub trait Chain<E>: Respond + Send + Sync {
    /// Whether some middleware of the chain left its tracing to
    /// `POWERTOOLS_TRACE_MIDDLEWARES` (neither the builder nor its definition decided).
    /// When none did, the variable cannot change anything, and the invocation does not
    /// look at it.
    #[doc(hidden)]
    const UNDECIDED: bool;

    /// Runs every middleware's [`check`](crate::Middleware::check) on its params,
    /// outermost first.
    #[doc(hidden)]
    fn check_chain(&self) -> Result<(), crate::BuildError>;

    #[doc(hidden)]
    fn run_chain<G: EnvTrace>(
        &self,
        event: E,
        ctx: &Context,
        token: Token,
    ) -> impl Future<Output = Result<Self::Response, Error>> + Send;
}

/// `E` is an event the chain `C` runs on: `C: Chain<E>`, written with the event first.
///
/// The builder's `.handler(f)` asks for this instead of `C: Chain<E>` for its message.
/// rustc leaves a bound whose subject is not inferred yet (the handler's event type `E`)
/// until it is, so the handler's signature decides `E` first, and a middleware of
/// another event type is then reported as "`Trim` is not a middleware for events of
/// type `Value`". Asked as `C: Chain<E>`, rustc infers `E` from the middleware first
/// and reports the handler as "type mismatch in function arguments".
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::chain::{Chain, RunsOn};
///
/// fn runs<E: RunsOn<C>, C>() {}
/// fn same<E, C: Chain<E>>() { runs::<E, C>() }
/// ```
#[diagnostic::on_unimplemented(
    message = "this chain cannot run events of type `{Self}`: a layer in it takes another type",
    label = "the chain is built here",
    note = "every middleware of a chain implements `Middleware<E, R>` for the event `E` and response `R` of the layers inside it, and the handler takes the event the innermost layer hands it"
)]
pub trait RunsOn<C>: Sized {
    #[doc(hidden)]
    fn check(chain: &C) -> Result<(), crate::BuildError>;
}

impl<E, C: Chain<E>> RunsOn<C> for E {
    #[inline]
    fn check(chain: &C) -> Result<(), crate::BuildError> {
        chain.check_chain()
    }
}

/// The rest of the chain below one middleware: a borrow of it, plus the tracing mode
/// the invocation runs in (a type, so that the decision costs nothing per layer).
pub struct Rest<'a, C, G> {
    chain: &'a C,
    _mode: PhantomData<fn() -> G>,
}

impl<'a, C, G> Rest<'a, C, G> {
    #[inline(always)]
    pub(crate) fn new(chain: &'a C) -> Self {
        Rest {
            chain,
            _mode: PhantomData,
        }
    }
}

impl<C, G> Clone for Rest<'_, C, G> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C, G> Copy for Rest<'_, C, G> {}

impl<C, G> fmt::Debug for Rest<'_, C, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Rest")
    }
}

impl<C, G> sealed::Sealed for Rest<'_, C, G> {}

impl<C: Respond, G> Respond for Rest<'_, C, G> {
    type Response = C::Response;
}

impl<E, C, G> Invoke<E> for Rest<'_, C, G>
where
    C: Chain<E>,
    G: EnvTrace,
{
    #[inline(always)]
    fn invoke(
        self,
        event: E,
        ctx: &Context,
        token: Token,
    ) -> impl Future<Output = Result<Self::Response, Error>> + Send {
        self.chain.run_chain::<G>(event, ctx, token)
    }
}

/// Lets `Debug` walk a chain without knowing its event type.
#[doc(hidden)]
pub trait DescribeChain {
    fn describe_chain(&self, list: &mut fmt::DebugList<'_, '_>);
}
