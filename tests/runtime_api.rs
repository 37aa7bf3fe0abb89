//! Chains under the real run loop: `lambda_runtime::run`, `run_concurrent` and
//! `lambda_http::run` against a loopback Runtime API, over HTTP, in a separate process.
//!
//! Each test starts a [`RuntimeApi`] server, queues events, and starts this same test
//! binary again as the function process (running only the ignored test
//! [`lambda_function`], which picks the function from `TEST_LAMBDA_FUNCTION`). The
//! runtime reads its configuration from process-wide environment variables and never
//! returns, so a process per function is what keeps the tests independent — and it is
//! how Lambda runs a function. The test stops the process once the expected posts
//! arrived, or fails after a timeout with what the process printed.

mod support;

use serde_json::{Value, json};
use support::runtime_api::{PAST_DEADLINE_MS, Queued, RuntimeApi, TIMEOUT, serve_function, start_function};

fn trail(event: &Value) -> Vec<&str> {
    event["trail"]
        .as_array()
        .unwrap_or_else(|| panic!("no trail in {event}"))
        .iter()
        .map(|step| step.as_str().expect("a string"))
        .collect()
}

#[test]
fn two_invocations_through_three_middlewares_post_their_responses() {
    let api = RuntimeApi::start();
    api.queue(Queued::json("req-1", &json!({ "n": 1, "trail": [] })));
    // The deadline `cargo lambda` sends: long past. It must not count as timed out.
    api.queue(Queued::json("req-2", &json!({ "n": 2, "trail": [] })).deadline_ms(PAST_DEADLINE_MS));
    let mut function = start_function("three_middlewares", &api, &[]);

    api.wait_for_posts(2, TIMEOUT, &mut function);
    let posts = api.posts_by_request_id();
    assert_eq!(posts.len(), 2);
    for (id, n) in [("req-1", 1), ("req-2", 2)] {
        let response = posts[id].response();
        assert_eq!(response["n"], n);
        assert_eq!(response["request_id"], id);
        assert_eq!(
            trail(&response),
            [
                "a before", "b before", "c before", "handler", "c after", "b after", "a after"
            ]
        );
    }
    assert_eq!(posts["req-2"].response()["deadline"], PAST_DEADLINE_MS);
}

#[test]
fn a_handler_error_is_posted_under_its_own_name() {
    let event = json!({ "n": 3, "trail": [], "fail": "card declined" });

    let api = RuntimeApi::start();
    api.queue(Queued::json("req-fail", &event));
    api.queue(Queued::json("req-after", &json!({ "n": 4, "trail": [] })));
    let mut function = start_function("three_middlewares", &api, &[]);
    api.wait_for_posts(2, TIMEOUT, &mut function);
    let posts = api.posts_by_request_id();

    // The same handler without middlewares, under the runtime alone.
    let bare_api = RuntimeApi::start();
    bare_api.queue(Queued::json("req-fail", &event));
    let mut bare = start_function("bare_runtime", &bare_api, &[]);
    bare_api.wait_for_posts(1, TIMEOUT, &mut bare);
    let bare_posts = bare_api.posts_by_request_id();

    let (error_type, error_message) = posts["req-fail"].error();
    assert_eq!(error_message, "payment declined: card declined");
    // The error's own name, where the runtime alone reports the box it travels in.
    assert_eq!(error_type, "PaymentDeclined");
    let (bare_type, bare_message) = bare_posts["req-fail"].error();
    assert_eq!(bare_type, std::any::type_name::<&lambda_runtime::Error>());
    assert_eq!(bare_message, error_message);
    // The header is the runtime's own either way.
    assert_eq!(posts["req-fail"].error_type_header.as_deref(), Some("unhandled"));
    assert_eq!(
        posts["req-fail"].error_type_header,
        bare_posts["req-fail"].error_type_header
    );
    // The function carries on.
    assert_eq!(posts["req-after"].response()["n"], 4);
}

#[test]
fn a_panic_in_a_middleware_fails_that_invocation_only() {
    let api = RuntimeApi::start();
    api.queue(Queued::json("req-ok", &json!({ "order_id": 1, "quantity": 2 })));
    api.queue(Queued::json("req-panic", &json!({ "order_id": 2, "quantity": 0 })));
    api.queue(Queued::json("req-next", &json!({ "order_id": 3, "quantity": 1 })));
    let mut function = start_function("faults", &api, &[]);

    api.wait_for_posts(3, TIMEOUT, &mut function);
    let posts = api.posts_by_request_id();
    assert_eq!(posts["req-ok"].response(), json!({ "order_id": 1, "handler_calls": 1 }));
    let (error_type, error_message) = posts["req-panic"].error();
    // Caught in `Handler`'s service future: named `Panic`, with the panic's own message
    // (the bare runtime reports `&alloc::boxed::Box<dyn core::any::Any + ..>` and
    // "Lambda panicked: ..."), so that a Step Functions `Catch` can match it.
    assert_eq!(error_message, "quantity must not be zero (order 2)");
    assert_eq!(error_type, "Panic");
    // The same process, the same handler: the next invocation succeeds.
    assert_eq!(
        posts["req-next"].response(),
        json!({ "order_id": 3, "handler_calls": 2 })
    );
}

#[test]
fn a_malformed_event_is_reported_and_the_handler_not_called() {
    let api = RuntimeApi::start();
    api.queue(Queued::raw("req-not-json", r#"{"order_id": 1, "quantity":"#));
    api.queue(Queued::json(
        "req-wrong-shape",
        &json!({ "order_id": "one", "quantity": 1 }),
    ));
    api.queue(Queued::json("req-missing", &json!({ "order_id": 2 })));
    api.queue(Queued::json("req-good", &json!({ "order_id": 3, "quantity": 1 })));
    let mut function = start_function("faults", &api, &[]);

    api.wait_for_posts(4, TIMEOUT, &mut function);
    let posts = api.posts_by_request_id();
    let prefix = "failed to deserialize the incoming data into the function's payload type: ";
    for (id, detail) in [
        ("req-not-json", "EOF while parsing a value"),
        (
            "req-wrong-shape",
            "[order_id] order_id: invalid type: string \"one\", expected u64",
        ),
        ("req-missing", "missing field `quantity`"),
    ] {
        let (error_type, error_message) = posts[id].error();
        assert!(error_type.ends_with("DeserializeError"), "{id}: {error_type}");
        assert!(error_message.starts_with(prefix), "{id}: {error_message}");
        assert!(error_message.contains(detail), "{id}: {error_message}");
    }
    // Three malformed events later, this is the handler's first call.
    assert_eq!(
        posts["req-good"].response(),
        json!({ "order_id": 3, "handler_calls": 1 })
    );
}

#[test]
fn run_concurrent_answers_each_invocation_under_its_own_request_id() {
    const INVOCATIONS: usize = 1_000;

    let api = RuntimeApi::start();
    for n in 0..INVOCATIONS {
        api.queue(Queued::json(
            format!("req-{n}"),
            &json!({ "n": n, "payload": format!("payload-{n}") }),
        ));
    }
    let mut function = start_function("concurrent", &api, &[("AWS_LAMBDA_MAX_CONCURRENCY", "4")]);

    api.wait_for_posts(INVOCATIONS, TIMEOUT, &mut function);
    let posts = api.posts_by_request_id();
    assert_eq!(posts.len(), INVOCATIONS);
    for n in 0..INVOCATIONS {
        let id = format!("req-{n}");
        let response = posts[&id].response();
        assert_eq!(
            response,
            json!({ "n": n, "payload": format!("payload-{n}"), "request_id": id }),
            "{id}"
        );
    }

    // Every invocation is answered, so every middleware has finished: the counters are
    // final. One more invocation reads them (it has passed the before-steps itself).
    api.queue(Queued::json("req-report", &json!({ "report": true })));
    api.wait_for_posts(INVOCATIONS + 1, TIMEOUT, &mut function);
    let report = api.posts_by_request_id()["req-report"].response();
    assert_eq!(report["before"], INVOCATIONS + 1);
    assert_eq!(report["after"], INVOCATIONS);
    assert_eq!(report["handled"], INVOCATIONS);
    let max_in_flight = report["max_in_flight"].as_u64().unwrap();
    assert!(
        (1..=4).contains(&max_in_flight),
        "{max_in_flight} invocations at once with a limit of 4"
    );
}

#[cfg(feature = "http")]
#[test]
fn an_http_chain_runs_under_lambda_http() {
    let rest = json!({
        "resource": "/todos",
        "path": "/todos",
        "httpMethod": "POST",
        "headers": { "Content-Type": "application/json", "Host": "api.example.com" },
        "multiValueHeaders": { "Content-Type": ["application/json"], "Host": ["api.example.com"] },
        "requestContext": { "accountId": "123456789012", "stage": "prod", "httpMethod": "POST",
                            "resourcePath": "/todos", "path": "/prod/todos", "requestId": "abc" },
        "body": "{\"title\":\"write docs\"}",
        "isBase64Encoded": false
    });
    let http_api = json!({
        "version": "2.0",
        "routeKey": "POST /todos",
        "rawPath": "/todos",
        "rawQueryString": "",
        "headers": { "content-type": "application/json", "host": "api.example.com" },
        "requestContext": { "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com",
                            "http": { "method": "POST", "path": "/todos", "protocol": "HTTP/1.1",
                                      "sourceIp": "203.0.113.7", "userAgent": "curl" },
                            "requestId": "def", "routeKey": "POST /todos", "stage": "$default",
                            "time": "05/Aug/2025:08:00:00 +0000", "timeEpoch": 1754380800000_u64 },
        "body": "{\"title\":\"ship it\"}",
        "isBase64Encoded": false
    });

    let api = RuntimeApi::start();
    api.queue(Queued::json("req-rest", &rest).deadline_ms(PAST_DEADLINE_MS));
    api.queue(Queued::json("req-http", &http_api));
    let mut function = start_function("http", &api, &[]);

    api.wait_for_posts(2, TIMEOUT, &mut function);
    let posts = api.posts_by_request_id();

    // API Gateway REST: headers in `multiValueHeaders`.
    let response = posts["req-rest"].response();
    assert_eq!(response["statusCode"], 201);
    // The path as API Gateway REST gives it, with the stage.
    assert_eq!(
        response["body"],
        r#"{"created":"write docs","path":"/prod/todos","request_id":"req-rest"}"#
    );
    let headers = &response["multiValueHeaders"];
    assert_eq!(headers["aws_request_id"], json!(["req-rest"]));
    let execution_time = headers["execution_time"][0].as_str().expect("an execution_time header");
    assert!(
        execution_time.parse::<f64>().is_ok_and(|seconds| seconds >= 0.0),
        "{execution_time}"
    );

    // HTTP API (payload 2.0): headers in `headers`.
    let response = posts["req-http"].response();
    assert_eq!(response["statusCode"], 201);
    assert_eq!(
        response["body"],
        r#"{"created":"ship it","path":"/todos","request_id":"req-http"}"#
    );
    assert_eq!(response["headers"]["aws_request_id"], "req-http");
    assert!(response["headers"]["execution_time"].is_string(), "{response}");
}

/// The function process: started by the tests above, never by `cargo test` itself.
#[test]
#[ignore = "the Lambda function process the other tests start"]
fn lambda_function() {
    serve_function(2, |name| async move {
        match name.as_str() {
            "three_middlewares" => functions::three_middlewares().await,
            "bare_runtime" => functions::bare_runtime().await,
            "faults" => functions::faults().await,
            "concurrent" => functions::concurrent().await,
            #[cfg(feature = "http")]
            "http" => functions::http().await,
            other => panic!("no function named {other:?}"),
        }
    });
}

/// The functions the child process runs, each under the real runtime.
mod functions {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
    use lambda_runtime::{LambdaEvent, service_fn};
    use serde::Deserialize;
    use serde_json::{Value, json};

    /// Writes `<name> before` into the event's trail and `<name> after` into the
    /// response's.
    struct Step(&'static str);

    impl Middleware<Value, Value> for Step {
        type Params = ();

        async fn call<'n, I>(
            &self,
            _: &(),
            mut event: Value,
            _: &Context,
            next: Next<'n, I>,
        ) -> Result<Proceeded<'n, Value>, Error>
        where
            I: Invoke<Value, Response = Value>,
        {
            push(&mut event, format!("{} before", self.0));
            let mut response = next.run(event).await?;
            push(response.response_mut(), format!("{} after", self.0));
            Ok(response)
        }
    }

    fn push(value: &mut Value, step: String) {
        if let Some(trail) = value["trail"].as_array_mut() {
            trail.push(json!(step));
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("payment declined: {0}")]
    struct PaymentDeclined(String);

    async fn trail_handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
        let LambdaEvent { mut payload, context } = event;
        if let Some(reason) = payload["fail"].as_str() {
            return Err(PaymentDeclined(reason.to_owned()).into());
        }
        push(&mut payload, "handler".to_owned());
        Ok(json!({
            "n": payload["n"],
            "trail": payload["trail"],
            "request_id": context.request_id,
            "deadline": context.deadline,
        }))
    }

    pub async fn three_middlewares() -> Result<(), Error> {
        let handler = Handler::builder()
            .middleware(Step("a"))
            .middleware(Step("b"))
            .traced()
            .middleware(Step("c"))
            .handler(trail_handler)?;
        lambda_runtime::run(handler).await
    }

    pub async fn bare_runtime() -> Result<(), Error> {
        lambda_runtime::run(service_fn(trail_handler)).await
    }

    #[derive(Deserialize)]
    struct Order {
        order_id: u64,
        quantity: u32,
    }

    /// Panics on an order of nothing: a bug in a middleware.
    struct PanicOnZero;

    impl Middleware<Order, Value> for PanicOnZero {
        type Params = ();

        async fn call<'n, I>(
            &self,
            _: &(),
            order: Order,
            _: &Context,
            next: Next<'n, I>,
        ) -> Result<Proceeded<'n, Value>, Error>
        where
            I: Invoke<Order, Response = Value>,
        {
            if order.quantity == 0 {
                panic!("quantity must not be zero (order {})", order.order_id);
            }
            Ok(next.run(order).await?)
        }
    }

    pub async fn faults() -> Result<(), Error> {
        // A subscriber, so that the traced middleware's span is live when it panics.
        tracing::subscriber::set_global_default(
            tracing_subscriber::fmt()
                .with_writer(std::io::stderr)
                .with_max_level(tracing::Level::INFO)
                .finish(),
        )?;
        let calls = Arc::new(AtomicU64::new(0));
        let handler =
            Handler::builder()
                .middleware(PanicOnZero)
                .traced()
                .handler(move |event: LambdaEvent<Order>| {
                    let calls = Arc::clone(&calls);
                    async move {
                        let handler_calls = calls.fetch_add(1, Ordering::SeqCst) + 1;
                        Ok::<_, Error>(json!({ "order_id": event.payload.order_id, "handler_calls": handler_calls }))
                    }
                })?;
        lambda_runtime::run(handler).await
    }

    /// State shared by all invocations, in the middleware itself.
    #[derive(Default)]
    struct Counters {
        before: AtomicU64,
        after: AtomicU64,
        in_flight: AtomicU64,
        max_in_flight: AtomicU64,
    }

    struct Count(Arc<Counters>);

    impl Middleware<Value, Value> for Count {
        type Params = ();

        async fn call<'n, I>(
            &self,
            _: &(),
            event: Value,
            _: &Context,
            next: Next<'n, I>,
        ) -> Result<Proceeded<'n, Value>, Error>
        where
            I: Invoke<Value, Response = Value>,
        {
            let counters = &self.0;
            counters.before.fetch_add(1, Ordering::SeqCst);
            let now = counters.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            counters.max_in_flight.fetch_max(now, Ordering::SeqCst);
            let response = next.run(event).await;
            counters.in_flight.fetch_sub(1, Ordering::SeqCst);
            counters.after.fetch_add(1, Ordering::SeqCst);
            Ok(response?)
        }
    }

    /// Adds the request id the middleware sees to the response.
    struct StampRequestId;

    impl Middleware<Value, Value> for StampRequestId {
        type Params = ();

        async fn call<'n, I>(
            &self,
            _: &(),
            event: Value,
            ctx: &Context,
            next: Next<'n, I>,
        ) -> Result<Proceeded<'n, Value>, Error>
        where
            I: Invoke<Value, Response = Value>,
        {
            let mut response = next.run(event).await?;
            response.response_mut()["request_id"] = json!(ctx.request_id);
            Ok(response)
        }
    }

    pub async fn concurrent() -> Result<(), Error> {
        let counters = Arc::new(Counters::default());
        let handled = Arc::new(AtomicU64::new(0));
        let report = Arc::clone(&counters);
        let handler = Handler::builder()
            .middleware(Count(counters))
            .middleware(StampRequestId)
            .handler(move |event: LambdaEvent<Value>| {
                let (report, handled) = (Arc::clone(&report), Arc::clone(&handled));
                async move {
                    let payload = event.payload;
                    if payload["report"] == true {
                        return Ok::<_, Error>(json!({
                            "before": report.before.load(Ordering::SeqCst),
                            "after": report.after.load(Ordering::SeqCst),
                            "max_in_flight": report.max_in_flight.load(Ordering::SeqCst),
                            "handled": handled.load(Ordering::SeqCst),
                        }));
                    }
                    // Give the other workers a chance to interleave.
                    tokio::task::yield_now().await;
                    handled.fetch_add(1, Ordering::SeqCst);
                    Ok(json!({ "n": payload["n"], "payload": payload["payload"] }))
                }
            })?;
        lambda_runtime::run_concurrent(handler).await
    }

    #[cfg(feature = "http")]
    pub async fn http() -> Result<(), Error> {
        use lambda_http::{Body, Request, RequestExt, RequestPayloadExt, Response};

        /// Powertools' "after logic": execution time and request id as headers.
        struct ResponseHeaders;

        impl Middleware<Request, Response<Body>> for ResponseHeaders {
            type Params = ();

            async fn call<'n, I>(
                &self,
                _: &(),
                request: Request,
                ctx: &Context,
                next: Next<'n, I>,
            ) -> Result<Proceeded<'n, Response<Body>>, Error>
            where
                I: Invoke<Request, Response = Response<Body>>,
            {
                // The request carries the same context the middleware is given.
                assert_eq!(
                    request.lambda_context_ref().map(|c| &c.request_id),
                    Some(&ctx.request_id)
                );
                let started = std::time::Instant::now();
                let mut response = next.run(request).await?;
                let headers = response.response_mut().headers_mut();
                headers.insert("execution_time", started.elapsed().as_secs_f64().to_string().parse()?);
                headers.insert("aws_request_id", ctx.request_id.parse()?);
                Ok(response)
            }
        }

        async fn create(request: Request) -> Result<Response<Body>, Error> {
            let todo: Value = request.json().ok().flatten().unwrap_or_default();
            let request_id = &request.lambda_context_ref().expect("lambda_http sets it").request_id;
            let body = json!({ "created": todo["title"], "path": request.uri().path(), "request_id": request_id });
            Ok(Response::builder().status(201).body(body.to_string().into())?)
        }

        let handler = Handler::builder().middleware(ResponseHeaders).handler(create)?;
        lambda_http::run(handler).await
    }
}
