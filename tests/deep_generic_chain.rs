//! A chain of 32 middlewares that are generic over the event and the response, with
//! the handler's form left for `.handler(..)` to infer.
//!
//! This file is a guard on type-checking time: when the chain's response type was an
//! associated type of `Chain` itself, proving such a chain proved the inner layers
//! again for each mention of the inner chain's response type, so the work doubled
//! with each layer and this file did not finish compiling. With the response type on
//! `Respond`, it compiles in seconds (`DEPTHS="16 32" benches/scale.sh` times generic
//! chains in release).
#![recursion_limit = "512"]

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use lambda_runtime::LambdaEvent;
use tower::{Service, ServiceExt};

/// What the generic middleware needs of the event and the response.
trait Bump: Send + Sync + 'static {
    fn bump(self, by: u64) -> Self;
}

impl Bump for u64 {
    fn bump(self, by: u64) -> Self {
        self + by
    }
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Order {
    items: u64,
}

impl Bump for Order {
    fn bump(self, by: u64) -> Self {
        Order { items: self.items + by }
    }
}

/// Adds 1 to the event on the way in and `N` to the response on the way out, for any
/// event and response type that can be bumped.
struct Pass<const N: u64>;

impl<E: Bump, R: Bump, const N: u64> Middleware<E, R> for Pass<N> {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: E, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<E, Response = R>,
    {
        let response = next.run(event.bump(1)).await?;
        Ok(response.map(|response| response.bump(N)))
    }
}

/// `Handler::builder().middleware(Pass::<0>)….middleware(Pass::<31>)`.
macro_rules! layers {
    ($($n:literal)*) => {
        Handler::builder() $(.middleware(Pass::<$n>))*
    };
}

macro_rules! thirty_two_layers {
    () => {
        layers!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31)
    };
}

/// Every layer added 1 on the way in, and 0 + 1 + … + 31 = 496 on the way out.
const fn expected(items: u64) -> u64 {
    (items + 32) * 10 + 496
}

async fn borrowing(event: u64, _: &Context) -> Result<u64, Error> {
    Ok(event * 10)
}

async fn owning(event: LambdaEvent<Order>) -> Result<u64, Error> {
    Ok(event.payload.items * 10)
}

#[tokio::test]
async fn thirty_two_generic_layers_with_a_borrowing_handler() {
    let handler = thirty_two_layers!().handler(borrowing).unwrap();
    let response = handler.invoke_with(1, &Context::default()).await.unwrap();
    assert_eq!(response, expected(1));
}

#[tokio::test]
async fn thirty_two_generic_layers_with_an_owning_handler_through_tower() {
    let mut handler = thirty_two_layers!().handler(owning).unwrap();
    let event = LambdaEvent::new(Order { items: 2 }, Context::default());
    let response = handler.ready().await.unwrap().call(event).await.unwrap();
    assert_eq!(response, expected(2));
}

#[tokio::test]
async fn thirty_two_generic_layers_around_a_closure() {
    let handler = thirty_two_layers!()
        .handler(|event: LambdaEvent<u64>| async move { Ok::<_, Error>(event.payload * 10) })
        .unwrap();
    let response = handler.invoke(LambdaEvent::new(3, Context::default())).await.unwrap();
    assert_eq!(response, expected(3));
}
