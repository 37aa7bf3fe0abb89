//! The HTTP middlewares together: `HttpErrorHandler`, `SecurityHeaders`, `Cors`, on
//! JSON events, aws_lambda_events' API Gateway types and `lambda_http`'s.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::capture::Capture;
use lambda_middleware::middlewares::{
    Cors, CorsParams, HttpError, HttpErrorHandler, HttpErrorHandlerParams, NotFound, SecurityHeaders,
    SecurityHeadersParams,
};
use lambda_middleware::{Context, Error, Handler};
use serde_json::{Value, json};
use tracing::Level;
use tracing_subscriber::layer::SubscriberExt;

/// Routes on `path`, failing in the ways handlers fail.
async fn routes(event: Value, _: &Context) -> Result<Value, Error> {
    match event["path"].as_str().unwrap_or("/") {
        "/ok" => Ok(json!({ "statusCode": 200, "headers": { "Content-Type": "text/plain" }, "body": "ok" })),
        "/missing" => Err(NotFound::new("no booking 42").into()),
        "/conflict" => Err(HttpError::new(409, "booking already confirmed").into()),
        "/bare" => Ok(json!("a bare string")),
        _ => Err(std::io::Error::other("connection to db-7.internal:5432 refused").into()),
    }
}

fn defaults() -> (SecurityHeadersParams, CorsParams, HttpErrorHandlerParams) {
    (
        SecurityHeadersParams::builder().build(),
        CorsParams::builder().allow_origins(["https://app.example.com"]).build(),
        HttpErrorHandlerParams::builder().build(),
    )
}

const SECURITY_HEADERS: [(&str, &str); 6] = [
    ("Referrer-Policy", "no-referrer"),
    (
        "Strict-Transport-Security",
        "max-age=15552000; includeSubDomains; preload",
    ),
    ("X-DNS-Prefetch-Control", "off"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Permitted-Cross-Domain-Policies", "none"),
    ("X-Download-Options", "noopen"),
];

#[tokio::test]
async fn error_responses_get_a_status_a_json_body_and_the_headers_of_outer_middlewares() {
    let (security, cors, errors) = defaults();
    let handler = Handler::builder()
        .middleware_with(SecurityHeaders, security)
        .middleware_with(Cors, cors)
        .middleware_with(HttpErrorHandler, errors)
        .handler(routes)
        .unwrap();
    let context = Context::default();
    let request =
        |path: &str| json!({ "httpMethod": "GET", "path": path, "headers": { "Origin": "https://app.example.com" } });

    for (path, status, body) in [
        ("/ok", 200, "ok"),
        ("/missing", 404, r#"{"message":"no booking 42"}"#),
        ("/conflict", 409, r#"{"message":"booking already confirmed"}"#),
        ("/crash", 500, r#"{"message":"Internal Server Error"}"#),
    ] {
        let response = handler.invoke_with(request(path), &context).await.unwrap();
        assert_eq!(response["statusCode"], status, "{path}");
        assert_eq!(response["body"], body, "{path}");
        for (name, value) in SECURITY_HEADERS {
            assert_eq!(response["headers"][name], value, "{path}: {name}");
        }
        assert_eq!(
            response["headers"]["Access-Control-Allow-Origin"],
            "https://app.example.com"
        );
    }
}

#[tokio::test]
async fn a_server_error_logs_its_details_and_hides_them_from_the_body() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let handler = Handler::builder()
        .middleware_with(HttpErrorHandler, HttpErrorHandlerParams::builder().build())
        .handler(routes)
        .unwrap();

    let response = handler
        .invoke_with(json!({ "path": "/crash" }), &Context::default())
        .await
        .unwrap();
    assert!(!response.to_string().contains("db-7"), "{response}");

    let logged = capture.events();
    let error = logged
        .iter()
        .find(|event| event.level == Level::ERROR)
        .expect("an error log line");
    assert!(
        error.fields["error"].contains("connection to db-7.internal:5432 refused"),
        "{error:?}"
    );
    assert_eq!(error.fields["status"], "500");

    let response = handler
        .invoke_with(json!({ "path": "/missing" }), &Context::default())
        .await
        .unwrap();
    assert_eq!(response["statusCode"], 404);
    let warning = capture
        .events()
        .into_iter()
        .find(|event| event.level == Level::WARN)
        .unwrap();
    assert_eq!(warning.fields["status"], "404");
}

#[tokio::test]
async fn a_preflight_is_answered_without_the_handler_or_the_inner_middlewares() {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    async fn counted(event: Value, context: &Context) -> Result<Value, Error> {
        CALLS.fetch_add(1, Ordering::SeqCst);
        routes(event, context).await
    }
    let (security, cors, errors) = defaults();
    let handler = Handler::builder()
        .middleware_with(SecurityHeaders, security)
        .middleware_with(Cors, cors)
        .middleware_with(HttpErrorHandler, errors)
        .handler(counted)
        .unwrap();
    let preflight = json!({
        "httpMethod": "OPTIONS",
        "path": "/crash",
        "headers": {
            "origin": "https://app.example.com",
            "access-control-request-method": "PUT",
            "access-control-request-headers": "content-type",
        },
    });
    let response = handler.invoke_with(preflight, &Context::default()).await.unwrap();
    assert_eq!(CALLS.load(Ordering::SeqCst), 0);
    assert_eq!(response["statusCode"], 204);
    assert!(response.get("body").is_none());
    let headers = &response["headers"];
    assert_eq!(headers["Access-Control-Allow-Origin"], "https://app.example.com");
    assert_eq!(
        headers["Access-Control-Allow-Methods"],
        "GET, HEAD, PUT, PATCH, POST, DELETE"
    );
    assert_eq!(
        headers["Access-Control-Allow-Headers"],
        "Authorization, Content-Type, X-Amz-Date, X-Api-Key, X-Amz-Security-Token"
    );
    assert_eq!(headers["Vary"], "Origin");
    // The outer middleware's after-logic still ran on the early response.
    assert_eq!(headers["X-Content-Type-Options"], "nosniff");

    // From an origin that is not allowed: still answered early, but allowing nothing.
    let foreign = json!({
        "httpMethod": "OPTIONS",
        "headers": { "Origin": "https://evil.example", "Access-Control-Request-Method": "PUT" },
    });
    let response = handler.invoke_with(foreign, &Context::default()).await.unwrap();
    assert_eq!(CALLS.load(Ordering::SeqCst), 0);
    assert_eq!(response["statusCode"], 204);
    assert!(response["headers"].get("Access-Control-Allow-Origin").is_none());
    assert!(response["headers"].get("Access-Control-Allow-Methods").is_none());
    // The answer depends on the origin: a cache must not give it to another one.
    assert_eq!(response["headers"]["Vary"], "Origin");

    // A plain OPTIONS (no Access-Control-Request-Method) is a request like any other.
    let plain = json!({ "httpMethod": "OPTIONS", "path": "/ok" });
    handler.invoke_with(plain, &Context::default()).await.unwrap();
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn bad_origins_and_bad_responses_are_not_errors() {
    let handler = Handler::builder()
        .middleware_with(SecurityHeaders, SecurityHeadersParams::builder().build())
        .middleware_with(
            Cors,
            CorsParams::builder()
                .allow_credentials(true)
                .mirror_request_origin(true)
                .expose_headers(["X-Id"])
                .build(),
        )
        .handler(routes)
        .unwrap();
    let context = Context::default();
    let huge = "https://".to_owned() + &"a".repeat(64 * 1024);
    for origin in [
        json!(huge),
        json!(7),
        json!(null),
        json!("https://a.example\nX: y"),
        json!(""),
    ] {
        let event = json!({ "path": "/ok", "headers": { "Origin": origin } });
        let response = handler.invoke_with(event, &context).await.unwrap();
        if origin == json!(huge) {
            // Any origin is allowed with credentials: echoed, whatever its length.
            assert_eq!(response["headers"]["Access-Control-Allow-Origin"], origin);
        } else {
            assert!(
                response["headers"].get("Access-Control-Allow-Origin").is_none(),
                "{origin}"
            );
        }
    }
    // A JSON response that is not an object: left as it is, no panic.
    let response = handler.invoke_with(json!({ "path": "/bare" }), &context).await.unwrap();
    assert_eq!(response, json!("a bare string"));
}

#[tokio::test]
async fn security_headers_keep_the_handlers_own_values_unless_told_to_overwrite() {
    async fn with_policy(_: Value, _: &Context) -> Result<Value, Error> {
        Ok(json!({ "statusCode": 200, "headers": { "referrer-policy": "same-origin" } }))
    }
    let keep = Handler::builder()
        .middleware_with(SecurityHeaders, SecurityHeadersParams::builder().build())
        .handler(with_policy)
        .unwrap();
    let response = keep.invoke_with(json!({}), &Context::default()).await.unwrap();
    assert_eq!(response["headers"]["referrer-policy"], "same-origin");
    assert!(response["headers"].get("Referrer-Policy").is_none());

    let overwrite = Handler::builder()
        .middleware_with(
            SecurityHeaders,
            SecurityHeadersParams::builder().overwrite(true).build(),
        )
        .handler(with_policy)
        .unwrap();
    let response = overwrite.invoke_with(json!({}), &Context::default()).await.unwrap();
    assert_eq!(response["headers"]["Referrer-Policy"], "no-referrer");
    assert!(response["headers"].get("referrer-policy").is_none());
}

#[cfg(feature = "validation")]
#[tokio::test]
async fn an_inbound_violation_is_a_400_listing_the_paths_and_an_outbound_one_a_500() {
    use lambda_middleware::middlewares::{Validator, ValidatorParams};

    let schemas = ValidatorParams::builder()
        .inbound(json!({
            "type": "object",
            "required": ["guest", "nights"],
            "properties": { "guest": { "type": "string" }, "nights": { "type": "integer", "minimum": 1 } },
        }))
        .outbound(json!({ "type": "object", "required": ["statusCode"] }))
        .envelope("/body")
        .build()
        .unwrap();
    let handler = Handler::builder()
        .middleware_with(HttpErrorHandler, HttpErrorHandlerParams::builder().build())
        .middleware_with(Validator, schemas)
        .handler(|event: Value, _: &Context| async move {
            Ok::<_, Error>(if event["path"] == "/broken" {
                json!({ "oops": true })
            } else {
                json!({ "statusCode": 201 })
            })
        })
        .unwrap();
    let context = Context::default();

    let response = handler
        .invoke_with(json!({ "body": "{\"nights\": 0, \"guest\": 7}" }), &context)
        .await
        .unwrap();
    assert_eq!(response["statusCode"], 400);
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body["message"],
        "the event does not match its schema: 2 violations: \
         /guest: value is not of type \"string\"; /nights: value is less than the minimum of 1"
    );

    for bad in [
        json!({}),
        json!({ "body": "not json" }),
        json!({ "body": null }),
        json!("x"),
    ] {
        let response = handler.invoke_with(bad.clone(), &context).await.unwrap();
        assert_eq!(response["statusCode"], 400, "{bad}");
    }

    let ok = json!({ "body": "{\"nights\": 2, \"guest\": \"Ada\"}" });
    assert_eq!(handler.invoke_with(ok, &context).await.unwrap()["statusCode"], 201);

    let broken = json!({ "path": "/broken", "body": "{\"nights\": 2, \"guest\": \"Ada\"}" });
    let response = handler.invoke_with(broken, &context).await.unwrap();
    assert_eq!(response["statusCode"], 500);
    assert_eq!(response["body"], r#"{"message":"Internal Server Error"}"#);
}

#[cfg(feature = "timeout")]
#[tokio::test]
async fn a_timeout_is_a_504_with_the_details_hidden() {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use lambda_middleware::middlewares::{Timeout, TimeoutParams};

    let handler = Handler::builder()
        .middleware_with(HttpErrorHandler, HttpErrorHandlerParams::builder().build())
        .middleware_with(
            Timeout,
            TimeoutParams::builder().margin(Duration::from_secs(30)).build(),
        )
        .handler(|_: Value, _: &Context| std::future::pending::<Result<Value, Error>>())
        .unwrap();
    let mut context = Context::default();
    // Closer than the margin: no time at all for the handler.
    context.deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64 + 10_000;
    let response = handler.invoke_with(json!({}), &context).await.unwrap();
    assert_eq!(response["statusCode"], 504);
    assert_eq!(response["body"], r#"{"message":"Internal Server Error"}"#);
}

#[cfg(feature = "apigw")]
#[tokio::test]
async fn typed_api_gateway_requests_and_responses() {
    use aws_lambda_events::apigw::{
        ApiGatewayProxyRequest, ApiGatewayProxyResponse, ApiGatewayV2httpRequest, ApiGatewayV2httpResponse,
    };
    use aws_lambda_events::encodings::Body;

    async fn v1(request: ApiGatewayProxyRequest, _: &Context) -> Result<ApiGatewayProxyResponse, Error> {
        match request.path.as_deref() {
            Some("/missing") => Err(NotFound::new("no such room").into()),
            _ => Ok(ApiGatewayProxyResponse::default()),
        }
    }
    let (security, cors, errors) = defaults();
    let handler = Handler::builder()
        .middleware_with(SecurityHeaders, security)
        .middleware_with(Cors, cors)
        .middleware_with(HttpErrorHandler, errors)
        .handler(v1)
        .unwrap();
    let request: ApiGatewayProxyRequest = serde_json::from_value(json!({
        "httpMethod": "OPTIONS",
        "path": "/missing",
        "headers": { "Origin": "https://app.example.com", "Access-Control-Request-Method": "GET" },
        "requestContext": { "httpMethod": "POST" },
    }))
    .unwrap();
    let response = handler.invoke_with(request.clone(), &Context::default()).await.unwrap();
    assert_eq!(response.status_code, 204);
    assert_eq!(
        response.headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(response.headers["x-download-options"], "noopen");

    let mut get = request;
    get.http_method = aws_lambda_events::http::Method::GET;
    let response = handler.invoke_with(get, &Context::default()).await.unwrap();
    assert_eq!(response.status_code, 404);
    assert_eq!(response.body, Some(Body::Text(r#"{"message":"no such room"}"#.into())));
    assert_eq!(response.headers["content-type"], "application/json");
    assert_eq!(response.headers["referrer-policy"], "no-referrer");

    // HTTP APIs (payload v2): the method is in `requestContext.http`.
    async fn v2(_: ApiGatewayV2httpRequest, _: &Context) -> Result<ApiGatewayV2httpResponse, Error> {
        Err("boom".into())
    }
    let (security, cors, errors) = defaults();
    let handler = Handler::builder()
        .middleware_with(SecurityHeaders, security)
        .middleware_with(Cors, cors)
        .middleware_with(HttpErrorHandler, errors)
        .handler(v2)
        .unwrap();
    let request: ApiGatewayV2httpRequest = serde_json::from_value(json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "headers": { "origin": "https://app.example.com", "access-control-request-method": "POST" },
        "requestContext": { "http": { "method": "OPTIONS" } },
    }))
    .unwrap();
    let response = handler.invoke_with(request.clone(), &Context::default()).await.unwrap();
    assert_eq!(response.status_code, 204);
    let mut post = request;
    post.request_context.http.method = aws_lambda_events::http::Method::POST;
    let response = handler.invoke_with(post, &Context::default()).await.unwrap();
    assert_eq!(response.status_code, 500);
    assert_eq!(
        response.headers["strict-transport-security"],
        "max-age=15552000; includeSubDomains; preload"
    );
}

#[cfg(feature = "http")]
#[tokio::test]
async fn lambda_http_requests_and_responses() {
    use lambda_http::{Body, Request, Response};

    async fn hello(request: Request) -> Result<Response<Body>, Error> {
        if request.uri().path() == "/missing" {
            return Err(NotFound::new("nothing here").into());
        }
        Ok(Response::new(Body::Text("hello".into())))
    }
    let (security, cors, errors) = defaults();
    let handler = Handler::builder()
        .middleware_with(SecurityHeaders, security)
        .middleware_with(Cors, cors)
        .middleware_with(HttpErrorHandler, errors)
        .handler(hello)
        .unwrap();
    let context = Context::default();

    let request = |method: &str, path: &str| {
        lambda_http::http::Request::builder()
            .method(method)
            .uri(path)
            .header("Origin", "https://app.example.com")
            .header("Access-Control-Request-Method", "GET")
            .body(Body::Empty)
            .unwrap()
    };
    let response = handler.invoke_with(request("OPTIONS", "/"), &context).await.unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );

    let response = handler.invoke_with(request("GET", "/missing"), &context).await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.body(), &Body::Text(r#"{"message":"nothing here"}"#.into()));
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");

    let response = handler.invoke_with(request("GET", "/"), &context).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["vary"], "Origin");
}

#[test]
fn any_origin_with_credentials_is_refused_when_the_handler_is_built() {
    let params = CorsParams::builder().allow_credentials(true).build();
    let error = Handler::builder()
        .middleware_with(Cors, params)
        .handler(routes)
        .unwrap_err();
    assert!(matches!(
        error,
        lambda_middleware::BuildError::InvalidParams { middleware: "cors", .. }
    ));
    assert_eq!(
        error.to_string(),
        "cors: `*` in allow_origins with allow_credentials(true) would let any site make requests with the \
         user's credentials; list the origins allowed, or set mirror_request_origin(true) if every origin is meant"
    );

    // Listed origins with credentials, and `*` without them, are fine.
    let listed = CorsParams::builder()
        .allow_origins(["https://app.example.com"])
        .allow_credentials(true)
        .build();
    assert!(Handler::builder().middleware_with(Cors, listed).handler(routes).is_ok());
    let open = CorsParams::builder().build();
    assert!(Handler::builder().middleware_with(Cors, open).handler(routes).is_ok());
}

/// Every answer whose headers depend on `Origin` says so, refused and origin-less
/// requests' too; a plain `*` does not depend on it.
#[tokio::test]
async fn cors_answers_that_depend_on_the_origin_vary_by_it() {
    async fn ok(_: Value, _: &Context) -> Result<Value, Error> {
        Ok(json!({ "statusCode": 200, "headers": {} }))
    }
    let listed = Handler::builder()
        .middleware_with(
            Cors,
            CorsParams::builder().allow_origins(["https://app.example.com"]).build(),
        )
        .handler(ok)
        .unwrap();
    for headers in [
        json!({ "Origin": "https://app.example.com" }),
        json!({ "Origin": "https://evil.example" }),
        json!({}),
    ] {
        let event = json!({ "httpMethod": "GET", "headers": headers });
        let response = listed.invoke_with(event, &Context::default()).await.unwrap();
        assert_eq!(response["headers"]["Vary"], "Origin", "{headers}");
    }
    let any = Handler::builder()
        .middleware_with(Cors, CorsParams::builder().allow_origins(["*"]).build())
        .handler(ok)
        .unwrap();
    let event = json!({ "httpMethod": "GET", "headers": { "Origin": "https://evil.example" } });
    let response = any.invoke_with(event, &Context::default()).await.unwrap();
    assert_eq!(response["headers"]["Access-Control-Allow-Origin"], "*");
    assert!(response["headers"].get("Vary").is_none());
}

/// Which entry answers a malformed API Gateway event: a chain typed on
/// `ApiGatewayProxyRequest` cannot (the runtime fails to deserialise it before any
/// middleware runs); a chain that takes `Value` and parses it with `Parse` behind
/// `HttpErrorHandler` answers each with a 400 — a missing `requestContext`, a header
/// value with a line break. (`Parse` also turns a panic inside a `Deserialize` impl into
/// its parse error, so such an event is answered the same way.)
#[cfg(feature = "apigw")]
#[tokio::test]
async fn a_value_entry_answers_malformed_api_gateway_events_with_a_400() -> Result<(), Error> {
    use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
    use lambda_middleware::middlewares::Parse;

    async fn ok(_: ApiGatewayProxyRequest, _: &Context) -> Result<ApiGatewayProxyResponse, Error> {
        let mut response = ApiGatewayProxyResponse::default();
        response.status_code = 200;
        Ok(response)
    }
    let handler = Handler::builder()
        .middleware_with(HttpErrorHandler, HttpErrorHandlerParams::builder().build())
        .transform(Parse::<ApiGatewayProxyRequest>::new())
        .handler(ok)?;
    let good: Value = serde_json::from_str(include_str!("fixtures/events/apigw-request.json"))?;
    let response = handler.invoke_with(good.clone(), &Context::default()).await?;
    assert_eq!(response.status_code, 200, "{:?}", response.body);

    let mut no_context = good.clone();
    no_context.as_object_mut().unwrap().remove("requestContext");
    let mut bad_base64 = good.clone();
    bad_base64["isBase64Encoded"] = json!(true);
    bad_base64["body"] = json!("not base64 !!");
    let mut line_break = good.clone();
    line_break["headers"]["x-note"] = json!("one\r\ntwo");
    for (case, event) in [("no requestContext", no_context), ("CR/LF in a header", line_break)] {
        let response = handler.invoke_with(event, &Context::default()).await?;
        assert_eq!(response.status_code, 400, "{case}: {:?}", response.body);
        let body = format!("{:?}", response.body);
        assert!(body.contains("the event does not parse at its root"), "{case}: {body}");
    }
    // The REST (v1) request keeps a base64 body as text: nothing to refuse here (the
    // handler decodes it; `lambda_http`'s request is where bad base64 fails).
    let response = handler.invoke_with(bad_base64, &Context::default()).await?;
    assert_eq!(response.status_code, 200);
    Ok(())
}
