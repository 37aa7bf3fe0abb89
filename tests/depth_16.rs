//! A chain of 16 middlewares compiles with the default `recursion_limit` — this file has
//! no `#![recursion_limit]` attribute — and runs, through every entry point the runtime
//! and the tests use. Deeper chains: `tests/deep_chain.rs`.

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use lambda_runtime::LambdaEvent;

/// Adds 1 to the event on the way in and `N` to the response on the way out; sixteen
/// distinct types, as a real chain has.
struct Layer<const N: u64>;

impl<const N: u64> Middleware<u64, u64> for Layer<N> {
    type Params = ();

    async fn call<I>(&self, _: &(), event: u64, _: &Context, next: Next<'_, I>) -> Result<Proceeded<u64>, Error>
    where
        I: Invoke<u64, Response = u64>,
    {
        let response = next.run(event + 1).await?;
        Ok(response.map(|response| response + N))
    }
}

/// `Handler::builder().middleware(Layer::<0>)….middleware(Layer::<15>)`: one
/// `.middleware(..)` call per number, written out by the macro without recursion.
macro_rules! layers {
    ($($n:literal)*) => {
        Handler::builder() $(.middleware(Layer::<$n>))*
    };
}

async fn borrowing(event: u64, ctx: &Context) -> Result<u64, Error> {
    Ok(event * 1000 + ctx.deadline)
}

async fn owning(event: LambdaEvent<u64>) -> Result<u64, Error> {
    Ok(event.payload * 1000 + event.context.deadline)
}

/// Every layer added 1 on the way in, and 0 + 1 + … + 15 = 120 on the way out.
const fn expected(payload: u64, deadline: u64) -> u64 {
    (payload + 16) * 1000 + deadline + 120
}

fn context() -> Context {
    let mut context = Context::default();
    context.deadline = 9;
    context
}

#[tokio::test]
async fn sixteen_layers_with_a_borrowing_handler() {
    let handler = layers!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
        .handler(borrowing)
        .unwrap();
    assert_eq!(format!("{handler:?}").matches("Layer").count(), 16);

    assert_eq!(handler.invoke_with(5, &context()).await.unwrap(), expected(5, 9));
}

#[tokio::test]
async fn sixteen_layers_with_an_owning_handler() {
    let handler = layers!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15).handler(owning).unwrap();

    let response = handler.invoke(LambdaEvent::new(5, context())).await.unwrap();
    assert_eq!(response, expected(5, 9));
}

#[tokio::test]
async fn sixteen_layers_as_the_runtime_runs_them() {
    use tower::Service;

    // `lambda_runtime::run` needs a `Service` with a `Send` future; spawning the call on
    // the runtime checks that too.
    let mut handler = layers!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
        .handler(borrowing)
        .unwrap();
    let future = handler.call(LambdaEvent::new(5, context()));
    let response = tokio::spawn(future).await.unwrap().unwrap();
    assert_eq!(response, expected(5, 9));

    if false {
        // Type-checks the chain against the runtime's own bounds; never runs here.
        let _ = lambda_runtime::run(handler).await;
    }
}
