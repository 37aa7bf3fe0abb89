//! Errors as Lambda reads them: through the loopback Runtime API, each failure is
//! posted to `/error` with its own `errorType` and its message, and the
//! `Lambda-Runtime-Function-Error-Type` header the bare runtime sends. After every
//! failure the next invocation is served.

mod support;

use serde_json::json;
use support::runtime_api::{Queued, RuntimeApi, TIMEOUT, serve_function, start_function};

#[test]
fn every_error_is_posted_under_its_own_name() {
    let mut cases = vec![
        ("string", "Error", "out of stock".to_owned()),
        ("user", "CardDeclined", "card 4111 was declined".to_owned()),
        ("user-enum", "Declined", "declined by the bank".to_owned()),
        ("named", "LimitExceeded", "200000 cents is over the limit".to_owned()),
        ("not-found", "NotFound", "no order 7".to_owned()),
        ("http", "HttpError", "too many orders (HTTP 429)".to_owned()),
        (
            "parse",
            "ParseError",
            "the event does not parse at /order: missing".to_owned(),
        ),
        // The ecosystem's common errors, propagated with `?`, under their own names.
        ("json", "JsonError", "expected ident at line 1 column 2".to_owned()),
        ("io", "IoError", "the disk is full".to_owned()),
        // A panic in the handler, or in a hook's `before`, is `Panic` with its message.
        ("panic", "Panic", "the handler panicked on purpose".to_owned()),
        ("panic-before", "Panic", "a before hook panicked on purpose".to_owned()),
    ];
    if cfg!(feature = "validation") {
        cases.push((
            "validation",
            "ValidationError",
            "the event does not match its schema: 1 violation".to_owned(),
        ));
    }
    let api = RuntimeApi::start();
    for (kind, _, _) in &cases {
        let quantity = if *kind == "validation" { json!("two") } else { json!(1) };
        api.queue(Queued::json(
            format!("req-{kind}"),
            &json!({ "kind": kind, "order": { "quantity": quantity } }),
        ));
    }
    api.queue(Queued::json(
        "req-ok",
        &json!({ "kind": "ok", "order": { "quantity": 1 } }),
    ));
    let mut function = start_function("errors", &api, &[]);
    api.wait_for_posts(cases.len() + 1, TIMEOUT, &mut function);
    let posts = api.posts_by_request_id();

    for (kind, error_type, message) in &cases {
        let post = &posts[&format!("req-{kind}")];
        let (posted_type, posted_message) = post.error();
        assert_eq!(&posted_type, error_type, "{kind}");
        assert!(posted_message.starts_with(message.as_str()), "{kind}: {posted_message}");
        assert_eq!(post.error_type_header.as_deref(), Some("unhandled"), "{kind}");
    }
    assert_eq!(posts["req-ok"].response(), json!({ "ok": true }));
}

/// Through `Handler::json_entry`, an event that does not deserialise into the chain's
/// event type is `InvalidEvent`, with the path and serde's message; the next one is
/// served. (An event that is not JSON at all is refused by `lambda_runtime` itself.)
#[test]
fn an_event_of_the_wrong_shape_is_an_invalid_event() {
    let api = RuntimeApi::start();
    api.queue(Queued::json("req-bad", &json!({ "kind": 7 })));
    api.queue(Queued::json("req-ok", &json!({ "kind": "ok" })));
    let mut function = start_function("json-entry", &api, &[]);
    api.wait_for_posts(2, TIMEOUT, &mut function);
    let posts = api.posts_by_request_id();
    let (error_type, message) = posts["req-bad"].error();
    assert_eq!(error_type, "InvalidEvent");
    assert!(
        message.starts_with("the event is not a `Order` at /kind: invalid type: integer `7`"),
        "{message}"
    );
    assert_eq!(posts["req-ok"].response(), json!({ "ok": true }));
}

#[cfg(feature = "timeout")]
#[test]
fn a_timeout_is_posted_as_a_timeout_error() {
    let api = RuntimeApi::start();
    let soon = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        + 700;
    api.queue(Queued::json("req-slow", &json!({ "kind": "slow", "order": { "quantity": 1 } })).deadline_ms(soon));
    api.queue(Queued::json(
        "req-ok",
        &json!({ "kind": "ok", "order": { "quantity": 1 } }),
    ));
    let mut function = start_function("errors", &api, &[]);
    api.wait_for_posts(2, TIMEOUT, &mut function);
    let posts = api.posts_by_request_id();

    let (error_type, message) = posts["req-slow"].error();
    assert_eq!(error_type, "TimeoutError");
    assert!(
        message.starts_with("the invocation did not finish in time"),
        "{message}"
    );
    assert_eq!(posts["req-ok"].response(), json!({ "ok": true }));
}

/// Not a test: the function process the tests above start.
#[test]
#[ignore = "started by the tests above as the function process"]
fn lambda_function() {
    serve_function(1, |name| async move {
        match name.as_str() {
            "errors" => functions::errors().await,
            "json-entry" => functions::json_entry().await,
            other => panic!("no function named {other:?}"),
        }
    });
}

mod functions {
    use std::time::Duration;

    use lambda_middleware::middlewares::{At, HttpError, NotFound, Parse};
    use lambda_middleware::{Context, Error, Handler, NamedError};
    use serde::Deserialize;
    use serde_json::{Value, json};

    #[derive(Debug, thiserror::Error)]
    #[error("card {0} was declined")]
    struct CardDeclined(&'static str);

    #[derive(Debug, thiserror::Error)]
    enum PaymentError {
        #[error("declined by the bank")]
        Declined,
    }

    #[derive(Deserialize)]
    struct Order {
        kind: String,
    }

    async fn fail(order: Order, _: &Context) -> Result<Value, Error> {
        match order.kind.as_str() {
            "ok" => Ok(json!({ "ok": true })),
            "string" => Err("out of stock".into()),
            "user" => Err(CardDeclined("4111").into()),
            "user-enum" => Err(PaymentError::Declined.into()),
            "named" => Err(NamedError::new("LimitExceeded", "200000 cents is over the limit").into()),
            "not-found" => Err(NotFound::new("no order 7").into()),
            "http" => Err(HttpError::new(429, "too many orders").into()),
            "json" => Ok(serde_json::from_str::<Value>("not json")?),
            "io" => Err(std::io::Error::other("the disk is full").into()),
            "panic" => panic!("the handler panicked on purpose"),
            "slow" => {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(json!({ "ok": "late" }))
            }
            other => Err(format!("unknown kind {other}").into()),
        }
    }

    /// The typed handler behind a JSON entry.
    pub async fn json_entry() -> Result<(), Error> {
        async fn typed(order: Order, _: &Context) -> Result<Value, Error> {
            Ok(json!({ "ok": order.kind == "ok" }))
        }
        lambda_runtime::run(Handler::builder().handler(typed)?.json_entry()).await
    }

    /// Validates and times the invocation (with those features), then parses the
    /// event's `order` into the handler's type.
    pub async fn errors() -> Result<(), Error> {
        let builder = Handler::builder();
        #[cfg(feature = "validation")]
        let builder = builder.middleware_with(
            lambda_middleware::middlewares::Validator,
            lambda_middleware::middlewares::ValidatorParams::new(json!({
                "properties": { "order": { "properties": { "quantity": { "type": "integer" } } } },
            }))?,
        );
        #[cfg(feature = "timeout")]
        let builder = builder.middleware_with(
            lambda_middleware::middlewares::Timeout,
            lambda_middleware::middlewares::TimeoutParams::builder()
                .margin(Duration::from_millis(200))
                .build(),
        );
        let handler = builder
            .middleware(Rename)
            .transform(Parse::<Order>::in_envelope(At::new("/order")))
            .handler(fail)?;
        lambda_runtime::run(handler).await
    }

    /// Moves `kind` into `order`, except for the `parse` case, which loses its order,
    /// and the `validation` case, whose quantity becomes a string.
    struct Rename;

    impl lambda_middleware::Middleware<Value, Value> for Rename {
        type Params = ();

        fn before(
            &self,
            _: &(),
            event: &mut Value,
            _: &Context,
        ) -> Result<lambda_middleware::hooks::Flow<Value>, Error> {
            let kind = event["kind"].clone();
            match kind.as_str() {
                Some("panic-before") => panic!("a before hook panicked on purpose"),
                Some("parse") => {
                    event.as_object_mut().map(|event| event.remove("order"));
                }
                _ => event["order"]["kind"] = kind,
            }
            Ok(lambda_middleware::hooks::Flow::Continue)
        }
    }
}
