//! Powertools' "middleware with after logic" on an HTTP API: the handler is a
//! `lambda_http` handler, and a middleware adds `execution_time` and `aws_request_id`
//! headers to every response it returns.
//!
//! Run it locally on the bundled API Gateway event (feature `http`):
//!
//! ```sh
//! cargo run --features http --example http_after_logic
//! ```
//!
//! Deployed behind API Gateway (or under `cargo lambda watch`), `AWS_LAMBDA_RUNTIME_API`
//! is set and the same handler runs under `lambda_http::run`.

use std::time::Instant;

use lambda_http::{Body, Error, Request, RequestPayloadExt, Response};
use lambda_middleware::local::LocalFunction;
use lambda_middleware::{Context, Handler, Invoke, Middleware, Next, Proceeded};
use serde::Deserialize;
use serde_json::json;

/// After the handler: how long it took, and which invocation answered.
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
        let started = Instant::now();
        let mut response = next.run(request).await?;
        let execution_time = started.elapsed().as_secs_f64();

        let headers = response.response_mut().headers_mut();
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
async fn create_todo(request: Request) -> Result<Response<Body>, Error> {
    let Ok(Some(todo)) = request.json::<NewTodo>() else {
        return Ok(Response::builder()
            .status(400)
            .body("expected a todo: userId, title, completed".into())?);
    };
    let body = json!({ "todo": { "id": 1, "userId": todo.user_id, "title": todo.title, "completed": todo.completed } });
    Ok(Response::builder()
        .status(201)
        .header("content-type", "application/json")
        .body(body.to_string().into())?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let handler = Handler::builder().middleware(ResponseHeaders).handler(create_todo)?;

    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        // Logs as Lambda\'s logging controls ask: text or JSON, and the level.
        lambda_middleware::observe::init()?;
        return lambda_http::run(handler).await;
    }
    let event = include_str!("events/http_after_logic.json");
    let response = LocalFunction::default().invoke_http(&handler, event).await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    Ok(())
}
