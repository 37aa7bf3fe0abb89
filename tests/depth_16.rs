//! A chain of 16 middlewares compiles with the default `recursion_limit` — this file has
//! no `#![recursion_limit]` attribute — and runs, through every entry point the runtime
//! and the tests use. Deeper chains: `tests/deep_chain.rs`.

mod support;

use lambda_runtime::LambdaEvent;
use support::layers::{borrowing, context, layers, owning};

/// What the sixteen layers answer.
const fn expected(payload: u64, deadline: u64) -> u64 {
    support::layers::expected(16, payload, deadline)
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
