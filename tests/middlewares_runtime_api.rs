//! The HTTP built-ins under the real run loop: `lambda_runtime::run_concurrent` against a
//! loopback Runtime API, in a separate process (see `tests/runtime_api.rs` for how).
//!
//! The function logs with `tracing_subscriber::fmt` to its output, which the test reads
//! to check that every log line carries the Lambda context and that `cold_start` is
//! true on exactly one invocation of the process, although several run at once.

mod support;

use serde_json::{Value, json};
use support::runtime_api::{PAST_DEADLINE_MS, Queued, RuntimeApi, TIMEOUT, serve_function, start_function};

fn api_gateway(method: &str, path: &str, headers: Value) -> Value {
    json!({
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "requestContext": { "requestId": format!("apigw-{path}"), "httpMethod": method },
        "body": null,
    })
}

#[test]
fn the_http_built_ins_answer_through_the_runtime_api() {
    const PINGS: usize = 12;

    let api = RuntimeApi::start();
    let origin = json!("https://app.example.com");
    api.queue(Queued::json(
        "req-preflight",
        &api_gateway(
            "OPTIONS",
            "/bookings",
            json!({ "Origin": origin, "Access-Control-Request-Method": "POST" }),
        ),
    ));
    api.queue(Queued::json(
        "req-ok",
        &api_gateway(
            "GET",
            "/bookings",
            json!({ "Origin": origin, "X-Correlation-Id": "order-7" }),
        ),
    ));
    api.queue(Queued::json(
        "req-missing",
        &api_gateway("GET", "/bookings/42", json!({})),
    ));
    api.queue(Queued::json("req-crash", &api_gateway("GET", "/crash", json!({}))));
    // `cargo lambda`'s deadline, long past: no timeout.
    api.queue(Queued::json("req-past", &api_gateway("GET", "/bookings", json!({}))).deadline_ms(PAST_DEADLINE_MS));
    api.queue(Queued::json(
        "req-warm",
        &json!({ "source": "serverless-plugin-warmup" }),
    ));
    for n in 0..PINGS {
        api.queue(Queued::json(
            format!("req-ping-{n}"),
            &api_gateway("GET", "/bookings", json!({})),
        ));
    }
    let mut function = start_function("http_built_ins", &api, &[("AWS_LAMBDA_MAX_CONCURRENCY", "4")]);

    api.wait_for_posts(6 + PINGS, TIMEOUT, &mut function);
    let posts = api.posts_by_request_id();

    let preflight = posts["req-preflight"].response();
    assert_eq!(preflight["statusCode"], 204);
    assert_eq!(preflight["headers"]["Access-Control-Allow-Origin"], origin);
    assert_eq!(preflight["headers"]["X-Content-Type-Options"], "nosniff");

    let ok = posts["req-ok"].response();
    assert_eq!(ok["statusCode"], 200);
    assert_eq!(ok["headers"]["x-correlation-id"], "order-7");
    assert_eq!(ok["headers"]["Access-Control-Allow-Origin"], origin);
    assert_eq!(
        ok["headers"]["Strict-Transport-Security"],
        "max-age=15552000; includeSubDomains; preload"
    );

    let missing = posts["req-missing"].response();
    assert_eq!(missing["statusCode"], 404);
    assert_eq!(missing["body"], r#"{"message":"no booking 42"}"#);
    assert_eq!(missing["headers"]["x-correlation-id"], "apigw-/bookings/42");

    let crash = posts["req-crash"].response();
    assert_eq!(crash["statusCode"], 500);
    assert_eq!(crash["body"], r#"{"message":"Internal Server Error"}"#);
    assert_eq!(crash["headers"]["Referrer-Policy"], "no-referrer");

    assert_eq!(posts["req-past"].response()["statusCode"], 200);
    assert_eq!(posts["req-warm"].response(), Value::Null);

    let output = function.output();
    // One line per invocation, logged inside the context span.
    let started: Vec<&str> = output
        .lines()
        .filter(|line| line.contains("invocation started"))
        .collect();
    assert_eq!(started.len(), 6 + PINGS, "{output}");
    for line in &started {
        assert!(line.contains("function_name=test-function"), "{line}");
        assert!(line.contains("function_version=$LATEST"), "{line}");
        assert!(line.contains("request_id=req-"), "{line}");
    }
    let cold: Vec<&&str> = started.iter().filter(|line| line.contains("cold_start=true")).collect();
    assert_eq!(cold.len(), 1, "one invocation is the cold start: {output}");
    // The handler's own lines carry the context and the correlation id.
    let handled: Vec<&str> = output.lines().filter(|line| line.contains("handled")).collect();
    assert_eq!(handled.len(), 2 + PINGS, "{output}");
    assert!(
        handled.iter().any(|line| line.contains("correlation_id=order-7")),
        "{output}"
    );
    assert!(handled.iter().all(|line| line.contains("correlation_id=")), "{output}");
    assert!(
        output.contains("the invocation failed; answering with a server error"),
        "{output}"
    );
    assert!(output.contains("database unreachable"), "the cause is logged: {output}");
}

/// Not a test: the function process the test above starts.
#[test]
#[ignore = "started by the test above as the function process"]
fn lambda_function() {
    serve_function(2, |name| {
        tracing_subscriber::fmt().with_max_level(tracing::Level::INFO).init();
        async move {
            match name.as_str() {
                "http_built_ins" => functions::http_built_ins().await,
                other => panic!("no function named {other:?}"),
            }
        }
    });
}

mod functions {
    use lambda_middleware::middlewares::{
        CorrelationId, CorrelationIdParams, CorrelationIdSource, Cors, CorsParams, HttpErrorHandler,
        HttpErrorHandlerParams, InjectLambdaContext, NotFound, SecurityHeaders, SecurityHeadersParams, Warmup,
        WarmupParams,
    };
    use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
    use serde_json::{Value, json};

    /// Logs one line per invocation, inside the context span.
    struct Announce;

    impl Middleware<Value, Value> for Announce {
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
            tracing::info!("invocation started");
            Ok(next.run(event).await?)
        }
    }

    async fn bookings(event: Value, _: &Context) -> Result<Value, Error> {
        match event["path"].as_str() {
            Some("/bookings") => {
                tokio::task::yield_now().await;
                tracing::info!("handled");
                Ok(json!({ "statusCode": 200, "headers": {}, "body": "[]" }))
            }
            Some("/crash") => Err("database unreachable".into()),
            _ => Err(NotFound::new("no booking 42").into()),
        }
    }

    pub async fn http_built_ins() -> Result<(), Error> {
        let correlation = CorrelationIdParams::builder()
            .sources([
                CorrelationIdSource::header("x-correlation-id"),
                CorrelationIdSource::request_context_request_id(),
            ])
            .response_header("x-correlation-id")
            .build();
        let cors = CorsParams::builder().allow_origins(["https://app.example.com"]).build();
        let handler = Handler::builder()
            .middleware(InjectLambdaContext)
            .middleware(Announce)
            .middleware_with(Warmup, WarmupParams::builder().build())
            .middleware_with(CorrelationId, correlation)
            .middleware_with(SecurityHeaders, SecurityHeadersParams::builder().build())
            .middleware_with(Cors, cors)
            .middleware_with(HttpErrorHandler, HttpErrorHandlerParams::builder().build());
        #[cfg(feature = "timeout")]
        let handler = handler.middleware_with(
            lambda_middleware::middlewares::Timeout,
            lambda_middleware::middlewares::TimeoutParams::builder().build(),
        );
        lambda_runtime::run_concurrent(handler.handler(bookings)?).await
    }
}
