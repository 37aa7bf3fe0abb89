//! Powertools' "combining utilities": one traced middleware in front of a small API
//! validates each request (answering 400 without calling the handler when it is
//! invalid), annotates the trace with the customer id, and adds security headers to
//! every response.
//!
//! Run it locally on the bundled API Gateway event:
//!
//! ```sh
//! cargo run --example combining_utilities
//! ```
//!
//! Deployed (or under `cargo lambda watch`), `AWS_LAMBDA_RUNTIME_API` is set and the
//! same handler runs under `lambda_runtime`. With `--features xray`, the
//! `## middleware_custom` subsegment carries the `CustomerId` annotation (searchable in
//! X-Ray: `annotation.CustomerId = "1"`); locally too, with a sampled `_X_AMZN_TRACE_ID`
//! and something listening on UDP 127.0.0.1:2000 (see `middleware_trace_execution`).

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use lambda_middleware::local::LocalFunction;
use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded, Tracer};
use serde_json::{Value, json};

static TRACER: Tracer = Tracer::new();

/// The header every request must carry: the schema of this API's input.
const CUSTOMER_ID: &str = "X-Customer-Id";

/// Added to every response; see <https://securityheaders.com/>.
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

/// Validation, tracing and security headers around the API, traced as
/// `## middleware_custom`.
struct MiddlewareCustom;

impl Middleware<ApiGatewayProxyRequest, ApiGatewayProxyResponse> for MiddlewareCustom {
    type Params = ();
    const TRACE_EXECUTION: Option<bool> = Some(true);

    fn name(&self) -> &'static str {
        "middleware_custom"
    }

    async fn call<'n, I>(
        &self,
        _: &(),
        request: ApiGatewayProxyRequest,
        _: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, ApiGatewayProxyResponse>, Error>
    where
        I: Invoke<ApiGatewayProxyRequest, Response = ApiGatewayProxyResponse>,
    {
        // Before: the input must match the schema; if not, answer 400 on purpose,
        // without the handler.
        let customer_id = match validate(&request) {
            Ok(customer_id) => customer_id.to_owned(),
            Err(problem) => {
                let body = json!({ "message": problem }).to_string();
                return Ok(next.respond_early(json_response(400, body)));
            }
        };
        TRACER.put_annotation("CustomerId", customer_id.as_str());

        let mut response = next.run(request).await?;

        // After: security headers on every response the handler gives.
        let headers = &mut response.response_mut().headers;
        for (name, value) in SECURITY_HEADERS {
            headers.insert(name, value.parse()?);
        }
        Ok(response)
    }
}

/// The input schema: an `X-Customer-Id` header holding a non-empty string.
fn validate(request: &ApiGatewayProxyRequest) -> Result<&str, String> {
    match request.headers.get(CUSTOMER_ID).map(|value| value.to_str()) {
        Some(Ok(id)) if !id.is_empty() => Ok(id),
        Some(_) => Err(format!(
            "Failed schema validation: headers.{CUSTOMER_ID} must be a non-empty string"
        )),
        None => Err(format!("Failed schema validation: headers must contain {CUSTOMER_ID}")),
    }
}

fn json_response(status: i64, body: String) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = status;
    response.headers.insert(
        "content-type",
        "application/json".parse().expect("a valid header value"),
    );
    response.body = Some(Body::Text(body));
    response
}

/// A few comments, as a database would hold them.
fn comments() -> Vec<Value> {
    vec![
        json!({ "postId": 1, "id": 1, "name": "id labore ex et quam laborum", "email": "Eliseo@gardner.biz" }),
        json!({ "postId": 1, "id": 2, "name": "quo vero reiciendis velit similique earum", "email": "Jayne_Kuhic@sydney.com" }),
        json!({ "postId": 1, "id": 3, "name": "odio adipisci rerum aut animi", "email": "Nikita@garfield.biz" }),
    ]
}

/// `GET /comments` and `GET /comments/{comment_id}`.
async fn handler(request: ApiGatewayProxyRequest, _: &Context) -> Result<ApiGatewayProxyResponse, Error> {
    let path = request.path.as_deref().unwrap_or("/");
    let comments = comments();
    let found = match path.strip_prefix("/comments").map(|rest| rest.trim_start_matches('/')) {
        Some("") => Some(json!(comments)),
        Some(id) => {
            let id: Option<u64> = id.parse().ok();
            comments.into_iter().find(|comment| comment["id"].as_u64() == id)
        }
        None => None,
    };
    Ok(match found {
        Some(comments) => json_response(200, json!({ "comments": comments }).to_string()),
        None => json_response(404, json!({ "message": "not found" }).to_string()),
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let on_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    // Tracing. With the `xray` feature, the `## middleware_custom` span, with its
    // `CustomerId` annotation, goes to the X-Ray daemon whenever there is a trace header,
    // under the runtime and locally alike. Under the runtime, the logs are what Lambda's
    // logging controls ask for (text or JSON, and the level: INFO unless set).
    if on_lambda {
        lambda_middleware::observe::init()?;
    } else {
        #[cfg(feature = "xray")]
        {
            use tracing_subscriber::layer::SubscriberExt;
            use tracing_subscriber::util::SubscriberInitExt;
            let xray = lambda_middleware::trace::xray::XrayLayer::from_env();
            tracing_subscriber::registry().with(xray).init();
        }
    }

    let handler = Handler::builder().middleware(MiddlewareCustom).handler(handler)?;
    if on_lambda {
        return lambda_runtime::run(handler).await;
    }
    let event = include_str!("events/combining_utilities.json");
    let response = LocalFunction::default().invoke_json(&handler, event).await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    Ok(())
}
