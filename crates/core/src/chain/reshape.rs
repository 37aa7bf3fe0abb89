//! [`Reshape`]: a [`Transform`] around the rest of the chain, which takes and gives
//! back other types than the rest of the chain does.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use lambda_runtime::{Context, Error};

use super::wrap::{Decide, describe_layer, layer};
use super::{Accept, Chain, DescribeChain, ParamsOf, Respond, Rest, Token, sealed};
use crate::next::Next;
use crate::trace::choice::{Auto, EnvTrace, TraceChoice, resolve};
use crate::transform::Transform;

/// One [`Transform`] `M` (with its params `P` and tracing choice `T`) around the rest
/// of the chain `I`: the chain's types outside it are the transform's
/// [`Event`](Transform::Event) and [`Response`](Transform::Response).
///
/// Built by [`HandlerBuilder::handler`](crate::HandlerBuilder::handler) for each
/// middleware added with [`transform`](crate::HandlerBuilder::transform).
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// # use lambda_middleware::{Context, Error, Handler, Invoke, Next, Proceeded, Transform};
/// # struct Len;
/// # impl Transform<usize, usize> for Len {
/// #     type Event = String; type Response = usize; type Params = ();
/// #     async fn call<'n, I: Invoke<usize, Response = usize>>(&self, _: &(), e: String, _: &Context, n: Next<'n, I, usize>)
/// #     -> Result<Proceeded<'n, usize>, Error> { Ok(n.run(e.len()).await?) } }
/// async fn double(n: usize, _: &Context) -> Result<usize, Error> { Ok(2 * n) }
///
/// let handler = Handler::builder().transform(Len).handler(double)?;
/// assert_eq!(format!("{handler:?}"), "Handler([Len, handler])");
/// # Ok::<(), lambda_middleware::BuildError>(())
/// ```
pub struct Reshape<M, I, P = (), T = Auto> {
    transform: M,
    params: P,
    inner: I,
    _trace: PhantomData<fn() -> T>,
}

impl<M, I, P, T> Reshape<M, I, P, T> {
    pub(crate) fn new(transform: M, params: P, inner: I) -> Self {
        Reshape {
            transform,
            params,
            inner,
            _trace: PhantomData,
        }
    }
}

impl<M: Clone, I: Clone, P: Clone, T> Clone for Reshape<M, I, P, T> {
    fn clone(&self) -> Self {
        Reshape::new(self.transform.clone(), self.params.clone(), self.inner.clone())
    }
}

impl<M, I, P, T> sealed::Sealed for Reshape<M, I, P, T> {}

impl<M, I, P, T> Respond for Reshape<M, I, P, T>
where
    I: Accept + Respond,
    M: Transform<<I as Accept>::Event, <I as Respond>::Response>,
{
    type Response = <M as Transform<<I as Accept>::Event, <I as Respond>::Response>>::Response;
}

impl<M, I, P, T> Accept for Reshape<M, I, P, T>
where
    I: Accept + Respond,
    M: Transform<<I as Accept>::Event, <I as Respond>::Response>,
{
    type Event = <M as Transform<<I as Accept>::Event, <I as Respond>::Response>>::Event;
}

// Recommended (no `do_not_recommend`): when the layers inside a transform do not fit
// it, rustc then reports the bound that failed inside — "`Warmup` is not a middleware
// for events of type `Order`", "`Opaque: Serialize` is not satisfied" — instead of
// "`Reshape<..>: Chain<..>` is not satisfied", which names neither the layer nor the types.
impl<E, M, I, P, T> Chain<E> for Reshape<M, I, P, T>
where
    I: Accept + Chain<<I as Accept>::Event>,
    M: Transform<<I as Accept>::Event, <I as Respond>::Response, Event = E>,
    <M as Transform<<I as Accept>::Event, <I as Respond>::Response>>::Params: 'static,
    P: ParamsOf<<M as Transform<<I as Accept>::Event, <I as Respond>::Response>>::Params> + Send + Sync,
    <M as Transform<<I as Accept>::Event, <I as Respond>::Response>>::Response: Send,
    T: TraceChoice,
{
    const UNDECIDED: bool = resolve(T::CHOICE, M::TRACE_EXECUTION, None).is_none() || I::UNDECIDED;

    fn check_chain(&self) -> Result<(), crate::BuildError> {
        self.transform.check(self.params.as_params())?;
        self.inner.check_chain()
    }

    #[inline(always)]
    fn run_chain<G: EnvTrace>(
        &self,
        event: E,
        ctx: &Context,
        _: Token,
    ) -> impl Future<Output = Result<Self::Response, Error>> + Send {
        let next = Next::new(Rest::<I, G>::new(&self.inner), ctx);
        layer::<Decision<M, T, G, I>, _>(
            || self.transform.name(),
            || self.transform.call(self.params.as_params(), event, ctx, next),
        )
    }
}

/// Whether one transforming layer is traced in one mode.
struct Decision<M, T, G, I>(PhantomData<DecisionTypes<M, T, G, I>>);

/// The types a [`Decision`] is made from, held without owning any of them.
type DecisionTypes<M, T, G, I> = fn() -> (M, T, G, I);

impl<M, T, G, I> Decide for Decision<M, T, G, I>
where
    I: Accept + Respond,
    M: Transform<<I as Accept>::Event, <I as Respond>::Response>,
    T: TraceChoice,
    G: EnvTrace,
{
    const TRACED: bool = matches!(resolve(T::CHOICE, M::TRACE_EXECUTION, Some(G::ON)), Some(true));
}

/// A transforming layer prints as its middleware's name, like a [`Wrap`](super::Wrap).
impl<M, I, P, T> fmt::Debug for Reshape<M, I, P, T>
where
    Self: DescribeChain,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        self.describe_chain(&mut list);
        list.finish()
    }
}

impl<M, I: DescribeChain, P, T> DescribeChain for Reshape<M, I, P, T> {
    fn describe_chain(&self, list: &mut fmt::DebugList<'_, '_>) {
        describe_layer::<M>(list, &self.inner);
    }
}
