//! A chain of 64 middlewares, which needs a raised `recursion_limit`.
//!
//! Without the attribute below, rustc stops with `error: queries overflow the depth
//! limit!` and the advice "consider increasing the recursion limit by adding a
//! `#![recursion_limit = "256"]` attribute to your crate"; with 256 it asks for 512. The
//! attribute goes at the top of the crate that builds and awaits the chain (a binary's
//! `main.rs`; here, this test file).
//!
//! How far the limits go is measured by `benches/depth.sh`, which builds a chain of N
//! layers in a crate of its own and awaits it through every entry point. With rustc
//! 1.95 it printed: 17 layers are the deepest that compile with the default limit
//! (128), and 64 layers need a limit of at least 453, so 256 is not enough: use 512.
//! The exact numbers move by a few with the code around the chain.
#![recursion_limit = "512"]

mod support;

use lambda_runtime::LambdaEvent;
use support::layers::{borrowing, context, layers, owning};

macro_rules! sixty_four_layers {
    () => {
        layers!(
            0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
            32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63
        )
    };
}

/// What the sixty-four layers answer.
const fn expected(payload: u64, deadline: u64) -> u64 {
    support::layers::expected(64, payload, deadline)
}

#[tokio::test]
async fn sixty_four_layers_with_a_borrowing_handler() {
    let handler = sixty_four_layers!().handler(borrowing).unwrap();
    assert_eq!(format!("{handler:?}").matches("Layer").count(), 64);

    assert_eq!(handler.invoke_with(5, &context()).await.unwrap(), expected(5, 9));
}

#[tokio::test]
async fn sixty_four_layers_with_an_owning_handler() {
    let handler = sixty_four_layers!().handler(owning).unwrap();

    let response = handler.invoke(LambdaEvent::new(5, context())).await.unwrap();
    assert_eq!(response, expected(5, 9));
}

#[tokio::test]
async fn sixty_four_layers_as_the_runtime_runs_them() {
    use tower::Service;

    // `lambda_runtime::run` needs a `Service` with a `Send` future; spawning the call on
    // the runtime checks that too.
    let mut handler = sixty_four_layers!().handler(borrowing).unwrap();
    let future = handler.call(LambdaEvent::new(5, context()));
    let response = tokio::spawn(future).await.unwrap().unwrap();
    assert_eq!(response, expected(5, 9));

    if false {
        // Type-checks the chain against the runtime's own bounds; never runs here.
        let _ = lambda_runtime::run(handler).await;
    }
}
