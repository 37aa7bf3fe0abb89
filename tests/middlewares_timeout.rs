//! `Timeout`: fails a margin before the deadline; absent or past deadlines mean none.
//! No assertion measures wall-clock time: the handlers that must be stopped never
//! finish, and the others finish at once.
#![cfg(feature = "timeout")]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_middleware::middlewares::{Timeout, TimeoutError, TimeoutParams};
use lambda_middleware::{Context, Error, Handler};
use serde_json::{Value, json};

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

fn context(deadline: u64) -> Context {
    let mut context = Context::default();
    context.deadline = deadline;
    context
}

async fn never(_: Value, _: &Context) -> Result<Value, Error> {
    std::future::pending().await
}

async fn at_once(event: Value, _: &Context) -> Result<Value, Error> {
    if event["fail"] == true {
        return Err("card declined".into());
    }
    Ok(json!({ "ok": event }))
}

fn margin(margin: Duration) -> TimeoutParams {
    TimeoutParams::builder().margin(margin).build()
}

#[tokio::test]
async fn a_handler_that_never_answers_fails_with_a_timeout_error_before_the_deadline() {
    let handler = Handler::builder()
        .middleware_with(Timeout, margin(Duration::from_millis(59_980)))
        .handler(never)
        .unwrap();
    let deadline = now_ms() + 60_000;
    let error = handler.invoke_with(json!({}), &context(deadline)).await.unwrap_err();
    let timeout = error.downcast_ref::<TimeoutError>().expect("a TimeoutError");
    assert_eq!(timeout.deadline_ms(), deadline);
    assert_eq!(timeout.margin(), Duration::from_millis(59_980));
    assert!(timeout.budget() <= Duration::from_millis(20));
    let message = error.to_string();
    assert!(
        message.starts_with("the invocation did not finish in time: stopped 59.98s before its deadline"),
        "{message}"
    );
    assert!(message.contains(&deadline.to_string()), "{message}");
}

#[tokio::test]
async fn a_deadline_closer_than_the_margin_leaves_no_time() {
    let handler = Handler::builder()
        .middleware_with(Timeout, margin(Duration::from_secs(5)))
        .handler(never)
        .unwrap();
    let error = handler
        .invoke_with(json!({}), &context(now_ms() + 1_000))
        .await
        .unwrap_err();
    assert_eq!(error.downcast_ref::<TimeoutError>().unwrap().budget(), Duration::ZERO);
}

#[tokio::test]
async fn absent_and_past_deadlines_mean_no_deadline() {
    let handler = Handler::builder()
        .middleware_with(Timeout, TimeoutParams::builder().build())
        .handler(at_once)
        .unwrap();
    // 0: no deadline given; 600 000: the constant `cargo lambda`'s emulator sends;
    // one second ago: already past when the middleware starts.
    for deadline in [0, 600_000, now_ms() - 1_000] {
        let response = handler.invoke_with(json!(1), &context(deadline)).await.unwrap();
        assert_eq!(response, json!({ "ok": 1 }), "{deadline}");
    }
}

#[tokio::test]
async fn answers_and_errors_inside_the_budget_pass_through_unchanged() {
    let handler = Handler::builder()
        .middleware_with(Timeout, TimeoutParams::builder().build())
        .handler(at_once)
        .unwrap();
    let deadline = now_ms() + 60_000;
    assert_eq!(
        handler.invoke_with(json!(2), &context(deadline)).await.unwrap(),
        json!({ "ok": 2 })
    );
    let error = handler
        .invoke_with(json!({ "fail": true }), &context(deadline))
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "card declined");
    assert!(error.downcast_ref::<TimeoutError>().is_none());

    // A deadline absurdly far away is a deadline all the same, and no overflow.
    assert_eq!(
        handler.invoke_with(json!(3), &context(u64::MAX)).await.unwrap(),
        json!({ "ok": 3 })
    );
}
