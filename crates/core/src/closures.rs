//! Middlewares made of one closure: what [`HandlerBuilder::before`],
//! [`HandlerBuilder::after`] and [`HandlerBuilder::on_error`] add. Each is a hook
//! middleware ([`hooks`](crate::hooks)): its future is the same named future, with no
//! box, no `dyn` and no allocation.
//!
//! [`HandlerBuilder::before`]: crate::HandlerBuilder::before
//! [`HandlerBuilder::after`]: crate::HandlerBuilder::after
//! [`HandlerBuilder::on_error`]: crate::HandlerBuilder::on_error

use std::fmt;
use std::marker::PhantomData;

use lambda_runtime::{Context, Error};

use crate::hooks::Flow;
use crate::middleware::Middleware;

/// What a `before` closure may return: `()` to go on, or a [`Flow`] to answer early.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::chain::IntoFlow;
/// use lambda_middleware::Flow;
///
/// assert_eq!(IntoFlow::<u8>::into_flow(()), Flow::Continue);
/// assert_eq!(Flow::RespondEarly(7_u8).into_flow(), Flow::RespondEarly(7));
/// ```
pub trait IntoFlow<R> {
    /// The flow this value stands for.
    fn into_flow(self) -> Flow<R>;
}

impl<R> IntoFlow<R> for () {
    fn into_flow(self) -> Flow<R> {
        Flow::Continue
    }
}

impl<R> IntoFlow<R> for Flow<R> {
    fn into_flow(self) -> Flow<R> {
        self
    }
}

/// What a `before` closure may return: `()` or `Ok(())` to go on, a [`Flow`] (bare or
/// in `Ok`) to go on or answer early, an `Err` to fail.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::chain::BeforeOutcome;
/// use lambda_middleware::{Error, Flow};
///
/// assert_eq!(BeforeOutcome::<u8>::into_outcome(()).unwrap(), Flow::Continue);
/// assert_eq!(Flow::RespondEarly(7_u8).into_outcome().unwrap(), Flow::RespondEarly(7));
/// assert_eq!(BeforeOutcome::<u8>::into_outcome(Ok::<(), Error>(())).unwrap(), Flow::Continue);
/// ```
#[diagnostic::on_unimplemented(
    message = "a `before` closure returns `()`, `Ok(())`, a `Flow` or `Err(error)`, not `{Self}`",
    label = "the closure's value",
    note = "`Err` carries a `lambda_runtime::Error` (anything `.into()` it, or `?`); `Flow::RespondEarly(response)` answers with the chain's response type"
)]
pub trait BeforeOutcome<R> {
    /// The flow this value stands for, or the error it carries.
    fn into_outcome(self) -> Result<Flow<R>, Error>;
}

impl<R> BeforeOutcome<R> for () {
    #[inline(always)]
    fn into_outcome(self) -> Result<Flow<R>, Error> {
        Ok(Flow::Continue)
    }
}

impl<R> BeforeOutcome<R> for Flow<R> {
    #[inline(always)]
    fn into_outcome(self) -> Result<Flow<R>, Error> {
        Ok(self)
    }
}

impl<R, T: IntoFlow<R>> BeforeOutcome<R> for Result<T, Error> {
    #[inline(always)]
    fn into_outcome(self) -> Result<Flow<R>, Error> {
        self.map(IntoFlow::into_flow)
    }
}

/// What an `after` closure may return: `()` or `Ok(())`, or an `Err` to fail.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::chain::AfterOutcome;
/// use lambda_middleware::Error;
///
/// assert!(().into_outcome().is_ok());
/// assert!(Err::<(), Error>("refused".into()).into_outcome().is_err());
/// ```
#[diagnostic::on_unimplemented(
    message = "an `after` closure returns `()`, `Ok(())` or `Err(error)`, not `{Self}`",
    label = "the closure's value",
    note = "it changes the response in place (`&mut R`); `Err` carries a `lambda_runtime::Error` (anything `.into()` it, or `?`)"
)]
pub trait AfterOutcome {
    /// `Ok(())`, or the error it carries.
    fn into_outcome(self) -> Result<(), Error>;
}

impl AfterOutcome for () {
    #[inline(always)]
    fn into_outcome(self) -> Result<(), Error> {
        Ok(())
    }
}

impl AfterOutcome for Result<(), Error> {
    #[inline(always)]
    fn into_outcome(self) -> Result<(), Error> {
        self
    }
}

/// A middleware that runs a closure before the rest of the chain
/// ([`HandlerBuilder::before`](crate::HandlerBuilder::before)).
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::chain::Before;
/// use lambda_middleware::{Context, Error};
///
/// let tag = Before::new("tag", |event: &mut u64, _: &Context| {
///     *event += 1;
///     Ok::<(), Error>(())
/// });
/// assert_eq!(format!("{tag:?}"), "Before(\"tag\")");
/// ```
pub struct Before<F, E, T> {
    name: &'static str,
    hook: F,
    _types: PhantomData<fn(E) -> T>,
}

/// A middleware that runs a closure on the response of the rest of the chain
/// ([`HandlerBuilder::after`](crate::HandlerBuilder::after)).
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::chain::After;
/// use lambda_middleware::{Context, Error};
///
/// let double = After::new("double", |response: &mut u64, _: &Context| {
///     *response *= 2;
///     Ok::<(), Error>(())
/// });
/// assert_eq!(format!("{double:?}"), "After(\"double\")");
/// ```
pub struct After<F, R> {
    name: &'static str,
    hook: F,
    _types: PhantomData<fn(R)>,
}

/// A middleware that runs a closure on the error of the rest of the chain
/// ([`HandlerBuilder::on_error`](crate::HandlerBuilder::on_error)).
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::chain::OnError;
/// use lambda_middleware::{Context, Error};
///
/// let fallback = OnError::new("fallback", |_: Error, _: &Context| Ok::<u64, Error>(0));
/// assert_eq!(format!("{fallback:?}"), "OnError(\"fallback\")");
/// ```
pub struct OnError<F, R> {
    name: &'static str,
    hook: F,
    _types: PhantomData<fn(R)>,
}

impl<F, E, T> Before<F, E, T> {
    pub(crate) fn with_name(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    /// The middleware named `name` (its `## name` span when traced) running `hook`.
    pub fn new(name: &'static str, hook: F) -> Self
    where
        F: Fn(&mut E, &Context) -> T,
    {
        Before {
            name,
            hook,
            _types: PhantomData,
        }
    }
}

impl<F, R> After<F, R> {
    pub(crate) fn with_name(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    /// The middleware named `name` (its `## name` span when traced) running `hook`.
    pub fn new<T>(name: &'static str, hook: F) -> Self
    where
        F: Fn(&mut R, &Context) -> T,
        T: AfterOutcome,
    {
        After {
            name,
            hook,
            _types: PhantomData,
        }
    }
}

impl<F, R> OnError<F, R> {
    pub(crate) fn with_name(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    /// The middleware named `name` (its `## name` span when traced) running `hook`.
    pub fn new(name: &'static str, hook: F) -> Self
    where
        F: Fn(Error, &Context) -> Result<R, Error>,
    {
        OnError {
            name,
            hook,
            _types: PhantomData,
        }
    }
}

impl<F, E, R, T> Middleware<E, R> for Before<F, E, T>
where
    F: Fn(&mut E, &Context) -> T + Send + Sync,
    T: BeforeOutcome<R>,
    E: Send,
    R: Send,
{
    type Params = ();

    fn name(&self) -> &'static str {
        self.name
    }

    #[inline(always)]
    fn before(&self, _: &(), event: &mut E, ctx: &Context) -> Result<Flow<R>, Error> {
        (self.hook)(event, ctx).into_outcome()
    }
}

impl<F, E, R, T> Middleware<E, R> for After<F, R>
where
    F: Fn(&mut R, &Context) -> T + Send + Sync,
    T: AfterOutcome,
    E: Send,
    R: Send,
{
    type Params = ();

    fn name(&self) -> &'static str {
        self.name
    }

    #[inline(always)]
    fn after(&self, _: &(), response: &mut R, ctx: &Context) -> Result<(), Error> {
        (self.hook)(response, ctx).into_outcome()
    }
}

impl<F, E, R> Middleware<E, R> for OnError<F, R>
where
    F: Fn(Error, &Context) -> Result<R, Error> + Send + Sync,
    E: Send,
    R: Send,
{
    type Params = ();

    fn name(&self) -> &'static str {
        self.name
    }

    #[inline(always)]
    fn on_error(&self, _: &(), error: Error, ctx: &Context) -> Result<R, Error> {
        (self.hook)(error, ctx)
    }
}

macro_rules! clone_and_debug {
    ($($name:ident<$($p:ident),*>),*) => {$(
        impl<$($p),*> Clone for $name<$($p),*>
        where
            F: Clone,
        {
            fn clone(&self) -> Self {
                $name {
                    name: self.name,
                    hook: self.hook.clone(),
                    _types: PhantomData,
                }
            }
        }

        /// The name only: a closure has nothing to show.
        impl<$($p),*> fmt::Debug for $name<$($p),*> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.name).finish()
            }
        }
    )*};
}

clone_and_debug!(
    Before<F, E, T>,
    After<F, R>,
    OnError<F, R>,
    MapEvent<F, E, I, R>,
    MapResponse<F, E, R, O>
);

/// What a [`map_event`](crate::HandlerBuilder::map_event) closure returns: the event to
/// hand inwards, or a response to answer with at once.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::chain::Inward;
///
/// let inward: Inward<u64, &str> = Inward::Continue(7);
/// assert_eq!(inward, Inward::Continue(7));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a `map_event` closure returns an `Inward`: `Continue(event)` or `RespondEarly(response)`"]
pub enum Inward<E, R> {
    /// The rest of the chain runs on this event.
    Continue(E),
    /// Answer with this response; the rest of the chain and the handler do not run.
    RespondEarly(R),
}

/// A transform made of one closure that maps the event on the way in
/// ([`HandlerBuilder::map_event`](crate::HandlerBuilder::map_event)).
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::chain::{Inward, MapEvent};
/// use lambda_middleware::{Context, Error};
///
/// let parse = MapEvent::new("parse", |text: String, _: &Context| {
///     Ok::<_, Error>(Inward::<u64, u64>::Continue(text.parse()?))
/// });
/// assert_eq!(format!("{parse:?}"), "MapEvent(\"parse\")");
/// ```
pub struct MapEvent<F, E, I, R> {
    name: &'static str,
    hook: F,
    _types: PhantomData<fn(E) -> (I, R)>,
}

impl<F, E, I, R> MapEvent<F, E, I, R> {
    pub(crate) fn with_name(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    /// The transform named `name` (its `## name` span when traced) running `hook`.
    pub fn new(name: &'static str, hook: F) -> Self
    where
        F: Fn(E, &Context) -> Result<Inward<I, R>, Error>,
    {
        MapEvent {
            name,
            hook,
            _types: PhantomData,
        }
    }
}

impl<F, E, I, R> crate::transform::Transform<I, R> for MapEvent<F, E, I, R>
where
    F: Fn(E, &Context) -> Result<Inward<I, R>, Error> + Send + Sync,
    E: Send,
    I: Send,
    R: Send,
{
    type Event = E;
    type Response = R;
    type Params = ();

    fn name(&self) -> &'static str {
        self.name
    }

    async fn call<'n, N>(
        &self,
        _: &(),
        event: E,
        ctx: &Context,
        next: crate::next::Next<'n, N, R>,
    ) -> Result<crate::next::Proceeded<'n, R>, Error>
    where
        N: crate::chain::Invoke<I, Response = R>,
    {
        match (self.hook)(event, ctx)? {
            Inward::Continue(inner) => Ok(next.run(inner).await?),
            Inward::RespondEarly(response) => Ok(next.respond_early(response)),
        }
    }
}

/// A transform made of one closure that maps the response on the way out
/// ([`HandlerBuilder::map_response`](crate::HandlerBuilder::map_response)): the layers
/// inside answer `R`, the layers outside see `O`.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::chain::MapResponse;
/// use lambda_middleware::{Context, Error};
///
/// // For events of any type `E` (here `()`): the chain it is added to decides.
/// let text: MapResponse<_, (), u64, String> =
///     MapResponse::new("text", |count: u64, _: &Context| Ok::<_, Error>(count.to_string()));
/// assert_eq!(format!("{text:?}"), "MapResponse(\"text\")");
/// ```
pub struct MapResponse<F, E, R, O> {
    name: &'static str,
    hook: F,
    _types: PhantomData<fn(E, R) -> O>,
}

impl<F, E, R, O> MapResponse<F, E, R, O> {
    pub(crate) fn with_name(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }

    /// The transform named `name` (its `## name` span when traced) running `hook`.
    pub fn new(name: &'static str, hook: F) -> Self
    where
        F: Fn(R, &Context) -> Result<O, Error>,
    {
        MapResponse {
            name,
            hook,
            _types: PhantomData,
        }
    }
}

impl<F, E, R, O> crate::transform::Transform<E, R> for MapResponse<F, E, R, O>
where
    F: Fn(R, &Context) -> Result<O, Error> + Send + Sync,
    E: Send,
    R: Send,
    O: Send,
{
    type Event = E;
    type Response = O;
    type Params = ();

    fn name(&self) -> &'static str {
        self.name
    }

    async fn call<'n, N>(
        &self,
        _: &(),
        event: E,
        ctx: &Context,
        next: crate::next::Next<'n, N, O>,
    ) -> Result<crate::next::Proceeded<'n, O>, Error>
    where
        N: crate::chain::Invoke<E, Response = R>,
    {
        next.run(event).await?.try_map(|response| (self.hook)(response, ctx))
    }
}
