//! Sixteen layers, four of them transforms changing the event or the response type,
//! build at rustc's default `recursion_limit` (this file sets none) and run in order.

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded, Transform};

/// A plain middleware on any types: appends its number to a trail in the event.
struct Plain<const N: u8>;

impl<E: Trail + Send, R: Send, const N: u8> Middleware<E, R> for Plain<N> {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), mut event: E, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<E, Response = R>,
    {
        event.trail().push(N);
        Ok(next.run(event).await?)
    }
}

trait Trail {
    fn trail(&mut self) -> &mut Vec<u8>;
}

/// The event at each stage: `A` outside, then `B`, then `C`.
struct A(Vec<u8>);
struct B(Vec<u8>);
struct C(Vec<u8>);

impl Trail for A {
    fn trail(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl Trail for B {
    fn trail(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl Trail for C {
    fn trail(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

/// `A` → `B`.
struct AToB;

impl<R: Send> Transform<B, R> for AToB {
    type Event = A;
    type Response = R;
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: A, _: &Context, next: Next<'n, I, R>) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<B, Response = R>,
    {
        Ok(next.run(B(event.0)).await?)
    }
}

/// `B` → `C`.
struct BToC;

impl<R: Send> Transform<C, R> for BToC {
    type Event = B;
    type Response = R;
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: B, _: &Context, next: Next<'n, I, R>) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<C, Response = R>,
    {
        Ok(next.run(C(event.0)).await?)
    }
}

/// A response of type `Vec<u8>` made into a `String`, and a `String` into its length.
struct Show;

impl<E: Send> Transform<E, Vec<u8>> for Show {
    type Event = E;
    type Response = String;
    type Params = ();

    async fn call<'n, I>(
        &self,
        _: &(),
        event: E,
        _: &Context,
        next: Next<'n, I, String>,
    ) -> Result<Proceeded<'n, String>, Error>
    where
        I: Invoke<E, Response = Vec<u8>>,
    {
        Ok(next.run(event).await?.map(|trail| format!("{trail:?}")))
    }
}

struct Length;

impl<E: Send> Transform<E, String> for Length {
    type Event = E;
    type Response = (usize, String);
    type Params = ();

    async fn call<'n, I>(
        &self,
        _: &(),
        event: E,
        _: &Context,
        next: Next<'n, I, (usize, String)>,
    ) -> Result<Proceeded<'n, (usize, String)>, Error>
    where
        I: Invoke<E, Response = String>,
    {
        Ok(next.run(event).await?.map(|text| (text.len(), text)))
    }
}

async fn handler(event: C, _: &Context) -> Result<Vec<u8>, Error> {
    Ok(event.0)
}

#[tokio::test]
async fn sixteen_layers_with_four_transforms() {
    let handler = Handler::builder()
        .middleware(Plain::<1>)
        .middleware(Plain::<2>)
        .transform(Length)
        .middleware(Plain::<3>)
        .middleware(Plain::<4>)
        .transform(AToB)
        .middleware(Plain::<5>)
        .middleware(Plain::<6>)
        .middleware(Plain::<7>)
        .transform(Show)
        .middleware(Plain::<8>)
        .middleware(Plain::<9>)
        .transform(BToC)
        .middleware(Plain::<10>)
        .middleware(Plain::<11>)
        .middleware(Plain::<12>)
        .handler(handler)
        .unwrap();

    let (length, trail) = handler.invoke_with(A(Vec::new()), &Context::default()).await.unwrap();
    assert_eq!(trail, "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]");
    assert_eq!(length, trail.len());
}
