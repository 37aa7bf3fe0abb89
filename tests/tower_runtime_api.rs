//! tower interop and streaming under the real run loop, against a loopback Runtime API:
//! a chain ending in an axum `Router` and a chain as a layer of a `ServiceBuilder` under
//! `lambda_http::run`, tower layers inside a chain under `lambda_runtime::run`, the
//! runtime's own `TracingLayer` and `OpenTelemetryLayer` around a chain, and streamed
//! responses under `lambda_runtime::run` and `lambda_http::run_with_streaming_response`.
//!
//! As in `runtime_api.rs`, each test starts this test binary again as the function
//! process, which runs one function (named by `TEST_LAMBDA_FUNCTION`) under the runtime.
#![cfg(feature = "http")]

mod common;
mod support;

use base64::Engine;
use serde_json::{Value, json};
use support::runtime_api::{Post, Queued, RuntimeApi, TIMEOUT, serve_function, start_function};

/// An API Gateway REST event for `method path`, with these headers.
fn api_event(method: &str, path: &str, headers: Value) -> Value {
    json!({
        "httpMethod": method,
        "path": path,
        "headers": headers,
        "requestContext": { "httpMethod": method, "requestId": "gw-1", "identity": {} },
    })
}

fn run(function: &str, events: Vec<Queued>) -> std::collections::HashMap<String, Post> {
    let api = RuntimeApi::start();
    let count = events.len();
    for event in events {
        api.queue(event);
    }
    let mut process = start_function(function, &api, &[]);
    api.wait_for_posts(count, TIMEOUT, &mut process);
    api.posts_by_request_id()
}

#[test]
fn an_axum_router_at_the_end_of_a_chain_under_lambda_http_run() {
    let posts = run(
        "axum_router",
        vec![
            Queued::json("req-hello", &api_event("GET", "/hello", json!({}))),
            Queued::json("req-missing", &api_event("GET", "/nowhere", json!({}))),
        ],
    );
    let hello = posts["req-hello"].response();
    assert_eq!(hello["statusCode"], 200);
    assert_eq!(hello["body"], "hello from req-hello");
    assert_eq!(hello["multiValueHeaders"]["x-content-type-options"][0], "nosniff");
    assert_eq!(hello["multiValueHeaders"]["x-chain"][0], "ran");
    // The router's own 404 goes through the middlewares like any response.
    let missing = posts["req-missing"].response();
    assert_eq!(missing["statusCode"], 404);
    assert_eq!(missing["multiValueHeaders"]["x-content-type-options"][0], "nosniff");
}

#[test]
fn a_chain_layer_between_tower_http_layers_under_lambda_http_run() {
    let posts = run(
        "chain_layer",
        vec![Queued::json(
            "req-1",
            &api_event("GET", "/hello", json!({ "Origin": "https://app.example.com" })),
        )],
    );
    let response = posts["req-1"].response();
    assert_eq!(response["statusCode"], 200);
    assert_eq!(response["body"], "hello from req-1");
    let header = |name: &str| response["multiValueHeaders"][name][0].clone();
    // tower-http's layer outside the chain, the chain's middlewares, the router.
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("access-control-allow-origin"), "https://app.example.com");
    assert_eq!(header("x-content-type-options"), "nosniff");
}

#[test]
fn tower_layers_inside_a_chain_under_lambda_runtime_run() {
    let posts = run(
        "hosted_layers",
        vec![
            Queued::json("req-quick", &json!({ "sleep_ms": 0, "trail": [] })),
            Queued::json("req-slow", &json!({ "sleep_ms": 10_000, "trail": [] })),
            Queued::json("req-after", &json!({ "sleep_ms": 0, "trail": [] })),
        ],
    );
    assert_eq!(
        posts["req-quick"].response()["trail"],
        json!(["outer before", "tower before", "handler", "tower after", "outer after"])
    );
    // tower's own timeout layer fails the invocation under its own error's name.
    let (error_type, message) = posts["req-slow"].error();
    assert_eq!(
        (error_type.as_str(), message.as_str()),
        ("Elapsed", "request timed out")
    );
    assert_eq!(posts["req-after"].response()["trail"][2], "handler");
}

#[test]
fn the_runtimes_own_layers_wrap_the_chain_and_flush_its_spans_after_each_invocation() {
    let posts = run(
        "runtime_layers",
        vec![Queued::json("req-1", &json!({})), Queued::json("req-2", &json!({}))],
    );
    // Inside the chain, the middleware's `## name` span sits inside the runtime's spans:
    // `OpenTelemetryLayer`'s invocation span (named after the function for OpenTelemetry),
    // inside `TracingLayer`'s, the layer added last being the outermost.
    let first = posts["req-1"].response();
    assert_eq!(
        first["ancestry"],
        json!(["## Traced", "test-function", "Lambda runtime invoke"])
    );
    // `OpenTelemetryLayer` flushed after the first invocation: the second sees its spans,
    // the middleware's span a child of the function's invocation span.
    let second = posts["req-2"].response();
    let exported = second["exported"].as_array().expect("exported spans");
    let span = |name: &str| {
        exported
            .iter()
            .find(|span| span["name"] == name)
            .unwrap_or_else(|| panic!("no span {name} in {exported:?}"))
    };
    let middleware = span("## Traced");
    let invocation = span("test-function");
    assert_eq!(middleware["parent"], invocation["id"]);
    assert_eq!(invocation["faas.invocation_id"], "req-1");
    assert_eq!(invocation["faas.coldstart"], true);
}

/// The body after the metadata prelude and its eight NUL bytes, and the prelude.
fn split_prelude(post: &Post) -> (Value, Vec<u8>) {
    let body = &post.body;
    let end = body
        .windows(8)
        .position(|window| window == [0u8; 8])
        .unwrap_or_else(|| panic!("no prelude delimiter in {:?}", post.text()));
    let prelude = serde_json::from_slice(&body[..end]).expect("a JSON prelude");
    (prelude, body[end + 8..].to_vec())
}

#[test]
fn a_streamed_response_under_lambda_runtime_run_arrives_whole_in_order_with_the_middlewares_headers() {
    let posts = run(
        "stream_runtime",
        vec![
            Queued::json("req-stream", &json!({ "fail_after": null })),
            Queued::json("req-broken", &json!({ "fail_after": 2 })),
            Queued::json("req-after", &json!({ "fail_after": null })),
        ],
    );
    let stream = &posts["req-stream"];
    assert_eq!(
        stream.header("Lambda-Runtime-Function-Response-Mode"),
        Some("streaming")
    );
    assert_eq!(stream.header("Transfer-Encoding"), Some("chunked"));
    let (prelude, body) = split_prelude(stream);
    // Set by the chain's middlewares before the handler's first byte.
    assert_eq!(prelude["headers"]["x-content-type-options"], "nosniff");
    assert_eq!(prelude["headers"]["x-request-id"], "req-stream");
    assert_eq!(prelude["statusCode"], 200);
    // The after-logic ran when the handler returned the head, before the first chunk.
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "chunk 1 (after-logic had run: true)\nchunk 2\nchunk 3\nchunk 4\n"
    );
    // The body chunks arrived as chunks of their own, in order.
    let chunks: Vec<String> = stream
        .chunks
        .iter()
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect();
    let body_chunks: Vec<&String> = chunks.iter().filter(|chunk| chunk.starts_with("chunk")).collect();
    assert_eq!(body_chunks.len(), 4, "{chunks:?}");

    // A mid-stream error: what came before it arrives, then lambda_runtime's report of it.
    let broken = &posts["req-broken"];
    let (_, body) = split_prelude(broken);
    let body = String::from_utf8(body).unwrap();
    let message = base64::engine::general_purpose::STANDARD.encode("the database went away after 2 chunks");
    assert_eq!(
        body,
        format!(
            "chunk 1 (after-logic had run: true)\nchunk 2\n\
             Lambda-Runtime-Function-Error-Type: Runtime.StreamError\r\n\
             Lambda-Runtime-Function-Error-Body: {message}\r\n"
        )
    );
    // The function serves the next invocation.
    let (_, after) = split_prelude(&posts["req-after"]);
    assert!(String::from_utf8(after).unwrap().ends_with("chunk 4\n"));
}

#[test]
fn a_streamed_http_response_under_run_with_streaming_response() {
    let posts = run(
        "stream_http",
        vec![
            Queued::json("req-stream", &api_event("GET", "/stream", json!({}))),
            Queued::json("req-broken", &api_event("GET", "/broken", json!({}))),
        ],
    );
    let stream = &posts["req-stream"];
    assert_eq!(
        stream.header("Lambda-Runtime-Function-Response-Mode"),
        Some("streaming")
    );
    let (prelude, body) = split_prelude(stream);
    assert_eq!(prelude["statusCode"], 200);
    assert_eq!(prelude["headers"]["x-content-type-options"], "nosniff");
    assert_eq!(prelude["headers"]["content-type"], "text/plain");
    assert_eq!(String::from_utf8(body).unwrap(), "line 1\nline 2\nline 3\n");

    let (_, body) = split_prelude(&posts["req-broken"]);
    let body = String::from_utf8(body).unwrap();
    assert!(body.starts_with("line 1\n"), "{body}");
    assert!(
        body.contains("Lambda-Runtime-Function-Error-Type: Runtime.StreamError"),
        "{body}"
    );
}

/// Picks the function from `TEST_LAMBDA_FUNCTION` and runs it under the runtime: the body of
/// the function processes the tests above start.
#[test]
#[ignore = "run as the function process by the tests of this file"]
fn lambda_function() {
    serve_function(2, |name| async move {
        match name.as_str() {
            "axum_router" => functions::axum_router().await,
            "chain_layer" => functions::chain_layer().await,
            "hosted_layers" => functions::hosted_layers().await,
            "runtime_layers" => functions::runtime_layers().await,
            "stream_runtime" => functions::stream_runtime().await,
            "stream_http" => functions::stream_http().await,
            other => panic!("no function named {other:?}"),
        }
    });
}

/// The functions the child process runs, each under the real runtime.
mod functions {
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use axum::routing::get;
    use bytes::Bytes;
    use futures_util::Stream;
    use lambda_http::RequestExt;
    use lambda_middleware::middlewares::{Cors, CorsParams, HttpResponse, SecurityHeaders, SecurityHeadersParams};
    use lambda_middleware::{Context, Error, Handler, Middleware};
    use lambda_runtime::{LambdaEvent, StreamResponse};
    use serde_json::{Value, json};
    use tower::ServiceBuilder;

    use crate::common::capture::Capture;

    fn router() -> axum::Router {
        axum::Router::new().route(
            "/hello",
            get(|request: axum::extract::Request| async move {
                let id = request
                    .lambda_context_ref()
                    .map(|ctx| ctx.request_id.clone())
                    .unwrap_or_default();
                format!("hello from {id}")
            }),
        )
    }

    /// Marks every HTTP response it sees: `x-chain: ran`.
    struct Mark;

    impl<E: Send, R: HttpResponse + Send> Middleware<E, R> for Mark {
        type Params = ();

        fn after(&self, _: &(), response: &mut R, _: &Context) -> Result<(), Error> {
            response.set_header("x-chain", "ran");
            Ok(())
        }
    }

    pub async fn axum_router() -> Result<(), Error> {
        let handler = Handler::builder()
            .middleware_with(SecurityHeaders, SecurityHeadersParams::builder().build())
            .middleware(Mark)
            .service(router())?;
        lambda_http::run(handler).await
    }

    pub async fn chain_layer() -> Result<(), Error> {
        let chain = Handler::builder()
            .middleware_with(SecurityHeaders, SecurityHeadersParams::builder().build())
            .middleware_with(
                Cors,
                CorsParams::builder().allow_origins(["https://app.example.com"]).build(),
            )
            .into_layer()?;
        let service = ServiceBuilder::new()
            .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("no-store"),
            ))
            .layer(chain)
            .service(router());
        lambda_http::run(service).await
    }

    /// Writes `<name> before` / `<name> after` into the trail.
    struct Step(&'static str);

    impl Middleware<Value, Value> for Step {
        type Params = ();

        fn before(
            &self,
            _: &(),
            event: &mut Value,
            _: &Context,
        ) -> Result<lambda_middleware::hooks::Flow<Value>, Error> {
            push(event, format!("{} before", self.0));
            Ok(lambda_middleware::hooks::Flow::Continue)
        }

        fn after(&self, _: &(), response: &mut Value, _: &Context) -> Result<(), Error> {
            push(response, format!("{} after", self.0));
            Ok(())
        }
    }

    fn push(value: &mut Value, step: String) {
        if let Some(trail) = value["trail"].as_array_mut() {
            trail.push(json!(step));
        }
    }

    /// A tower layer that writes to the trail, as `Step` does.
    #[derive(Clone)]
    struct TrailLayer;

    impl<S> tower::Layer<S> for TrailLayer {
        type Service = tower::util::MapResponse<tower::util::MapRequest<S, fn(Value) -> Value>, fn(Value) -> Value>;

        fn layer(&self, inner: S) -> Self::Service {
            fn before(mut event: Value) -> Value {
                push(&mut event, "tower before".into());
                event
            }
            fn after(mut response: Value) -> Value {
                push(&mut response, "tower after".into());
                response
            }
            tower::util::MapResponse::new(
                tower::util::MapRequest::new(inner, before as fn(Value) -> Value),
                after as fn(Value) -> Value,
            )
        }
    }

    async fn sleepy(event: Value, _: &Context) -> Result<Value, Error> {
        let mut event = event;
        tokio::time::sleep(Duration::from_millis(event["sleep_ms"].as_u64().unwrap_or(0))).await;
        push(&mut event, "handler".into());
        Ok(event)
    }

    pub async fn hosted_layers() -> Result<(), Error> {
        let handler = Handler::builder()
            .middleware(Step("outer"))
            .layer(tower::timeout::TimeoutLayer::new(Duration::from_secs(2)))
            .layer(TrailLayer)
            .handler(sleepy)?;
        lambda_runtime::run(handler).await
    }

    /// Traced, so that it has a `## Traced` span; answers with the names of the spans it
    /// runs in, and the spans exported so far.
    struct Traced(Capture, opentelemetry_sdk::trace::InMemorySpanExporter);

    impl Middleware<Value, Value> for Traced {
        type Params = ();
        const TRACE_EXECUTION: Option<bool> = Some(true);

        fn after(&self, _: &(), response: &mut Value, _: &Context) -> Result<(), Error> {
            let spans = self.0.spans();
            // The innermost open `## Traced` span, then its ancestors.
            let mut ancestry = Vec::new();
            let mut current = spans
                .iter()
                .rposition(|span| span.display_name() == "## Traced" && span.closed.is_none());
            while let Some(index) = current {
                ancestry.push(spans[index].display_name().to_owned());
                current = spans[index].parent;
            }
            let exported: Vec<Value> = self
                .1
                .get_finished_spans()
                .unwrap_or_default()
                .iter()
                .map(|span| {
                    let mut json = json!({
                        "name": span.name,
                        "id": span.span_context.span_id().to_string(),
                        "parent": span.parent_span_id.to_string(),
                    });
                    for attribute in &span.attributes {
                        json[attribute.key.as_str()] = match &attribute.value {
                            opentelemetry::Value::Bool(value) => json!(value),
                            value => json!(value.to_string()),
                        };
                    }
                    json
                })
                .collect();
            *response = json!({ "ancestry": ancestry, "exported": exported });
            Ok(())
        }
    }

    pub async fn runtime_layers() -> Result<(), Error> {
        use opentelemetry::trace::TracerProvider as _;
        use tracing_subscriber::layer::SubscriberExt;

        let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let capture = Capture::default();
        let subscriber = tracing_subscriber::registry()
            .with(capture.clone())
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::set_global_default(subscriber)?;

        let handler = Handler::builder()
            .middleware(Traced(capture, exporter))
            .handler(|event: LambdaEvent<Value>| async move { Ok::<Value, Error>(event.payload) })?;
        let flush = {
            let provider = provider.clone();
            move || {
                let _ = provider.force_flush();
            }
        };
        lambda_runtime::Runtime::new(handler)
            .layer(lambda_runtime::layers::OpenTelemetryLayer::new(flush))
            .layer(lambda_runtime::layers::TracingLayer::new())
            .run()
            .await
    }

    type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>;

    /// Sets `x-request-id` on the response head, and notes when its after-logic ran.
    struct AfterHead(Arc<AtomicBool>);

    impl<E: Send> Middleware<E, StreamResponse<ByteStream>> for AfterHead {
        type Params = ();

        fn after(&self, _: &(), response: &mut StreamResponse<ByteStream>, ctx: &Context) -> Result<(), Error> {
            response.set_header("x-request-id", &ctx.request_id);
            self.0.store(true, Ordering::SeqCst);
            Ok(())
        }
    }

    pub async fn stream_runtime() -> Result<(), Error> {
        let after_ran = Arc::new(AtomicBool::new(false));
        let handler = Handler::builder()
            .middleware_with(SecurityHeaders, SecurityHeadersParams::builder().build())
            .middleware(AfterHead(after_ran.clone()))
            .handler(move |event: LambdaEvent<Value>| {
                let after_ran = after_ran.clone();
                after_ran.store(false, Ordering::SeqCst);
                async move {
                    let fail_after = event.payload["fail_after"].as_u64();
                    let stream = futures_util::stream::unfold(1u64, move |n| {
                        let after_ran = after_ran.clone();
                        async move {
                            if n > 4 {
                                return None;
                            }
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            if fail_after.is_some_and(|after| n > after) {
                                let error: Error = format!("the database went away after {} chunks", n - 1).into();
                                // One error, then the end.
                                return Some((Err(error), 5));
                            }
                            let chunk = if n == 1 {
                                format!("chunk 1 (after-logic had run: {})\n", after_ran.load(Ordering::SeqCst))
                            } else {
                                format!("chunk {n}\n")
                            };
                            Some((Ok(Bytes::from(chunk)), n + 1))
                        }
                    });
                    let stream: ByteStream = Box::pin(stream);
                    Ok::<_, Error>(StreamResponse::from(stream))
                }
            })?;
        lambda_runtime::run(handler).await
    }

    pub async fn stream_http() -> Result<(), Error> {
        fn lines(fail: bool) -> axum::body::Body {
            let stream = futures_util::stream::unfold(1u32, move |n| async move {
                if n > 3 {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                if fail && n == 2 {
                    return Some((Err(std::io::Error::other("the upstream closed")), 4));
                }
                Some((Ok(Bytes::from(format!("line {n}\n"))), n + 1))
            });
            axum::body::Body::from_stream(stream)
        }
        let router = axum::Router::new()
            .route(
                "/stream",
                get(|| async { ([(http::header::CONTENT_TYPE, "text/plain")], lines(false)) }),
            )
            .route(
                "/broken",
                get(|| async { ([(http::header::CONTENT_TYPE, "text/plain")], lines(true)) }),
            );
        let handler = Handler::builder()
            .middleware_with(SecurityHeaders, SecurityHeadersParams::builder().build())
            .service(router)?;
        lambda_http::run_with_streaming_response(handler).await
    }
}
