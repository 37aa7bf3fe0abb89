//! The chains of `tests/depth_16.rs` and `tests/deep_chain.rs`: `Layer<0>` … `Layer<N-1>`,
//! distinct types as a real chain has, around a handler in either form.

use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded};
use lambda_runtime::LambdaEvent;

/// Adds 1 to the event on the way in and `N` to the response on the way out.
pub struct Layer<const N: u64>;

impl<const N: u64> Middleware<u64, u64> for Layer<N> {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: u64, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, u64>, Error>
    where
        I: Invoke<u64, Response = u64>,
    {
        let response = next.run(event + 1).await?;
        Ok(response.map(|response| response + N))
    }
}

/// `layers!(0 1 2)` is `Handler::builder().middleware(Layer::<0>).middleware(Layer::<1>)
/// .middleware(Layer::<2>)`: one `.middleware(..)` call per number, written out without
/// recursion, so the macro adds nothing to the depth the compiler sees.
#[allow(unused_macros)] // Used by some of the test binaries that include `support`.
macro_rules! layers {
    ($($n:literal)*) => {
        ::lambda_middleware::Handler::builder() $(.middleware($crate::support::layers::Layer::<$n>))*
    };
}

#[allow(unused_imports)]
pub(crate) use layers;

/// The handler that borrows the context.
pub async fn borrowing(event: u64, ctx: &Context) -> Result<u64, Error> {
    Ok(event * 1000 + ctx.deadline)
}

/// The handler in `lambda_runtime`'s own form.
pub async fn owning(event: LambdaEvent<u64>) -> Result<u64, Error> {
    Ok(event.payload * 1000 + event.context.deadline)
}

/// What `layers` layers answer: each added 1 on the way in, and 0 + 1 + … + (layers - 1)
/// on the way out.
pub const fn expected(layers: u64, payload: u64, deadline: u64) -> u64 {
    (payload + layers) * 1000 + deadline + layers * (layers - 1) / 2
}

/// A context whose deadline the handlers fold into their answer.
pub fn context() -> Context {
    let mut context = Context::default();
    context.deadline = 9;
    context
}
