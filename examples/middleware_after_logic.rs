//! Powertools' "middleware with after logic": after the handler, a middleware adds the
//! execution time and the request id to the API Gateway response's headers.
//!
//! Run it locally on the bundled API Gateway event:
//!
//! ```sh
//! cargo run --example middleware_after_logic
//! ```
//!
//! Deployed (or under `cargo lambda watch`), `AWS_LAMBDA_RUNTIME_API` is set and the
//! same handler runs under `lambda_runtime`. For the same middleware around a
//! `lambda_http` handler, see `http_after_logic.rs`.

use std::time::Instant;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use lambda_middleware::local::LocalFunction;
use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use serde::Deserialize;
use serde_json::json;

/// After the handler: how long it took, and which invocation answered.
struct ResponseHeaders;

impl Middleware<ApiGatewayProxyRequest, ApiGatewayProxyResponse> for ResponseHeaders {
    type Params = ();

    async fn call<'n, I>(
        &self,
        _: &(),
        request: ApiGatewayProxyRequest,
        ctx: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, ApiGatewayProxyResponse>, Error>
    where
        I: Invoke<ApiGatewayProxyRequest, Response = ApiGatewayProxyResponse>,
    {
        let started = Instant::now();
        let mut response = next.run(request).await?;
        let execution_time = started.elapsed().as_secs_f64();

        let headers = &mut response.response_mut().headers;
        headers.insert("execution_time", execution_time.to_string().parse()?);
        headers.insert("aws_request_id", ctx.request_id.parse()?);
        Ok(response)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewTodo {
    user_id: u64,
    title: String,
    completed: bool,
}

/// `POST /todos`: stores the todo and answers with it.
async fn create_todo(request: ApiGatewayProxyRequest, _: &Context) -> Result<ApiGatewayProxyResponse, Error> {
    let todo: NewTodo = serde_json::from_str(request.body.as_deref().unwrap_or("null"))?;
    let body = json!({ "todo": { "id": 1, "userId": todo.user_id, "title": todo.title, "completed": todo.completed } });

    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = 201;
    response.headers.insert("content-type", "application/json".parse()?);
    response.body = Some(Body::Text(body.to_string()));
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let handler = Handler::builder().middleware(ResponseHeaders).handler(create_todo)?;

    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        // Logs as Lambda\'s logging controls ask: text or JSON, and the level.
        lambda_middleware::observe::init()?;
        return lambda_runtime::run(handler).await;
    }
    let event = include_str!("events/middleware_after_logic.json");
    let response = LocalFunction::default().invoke_json(&handler, event).await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    Ok(())
}
