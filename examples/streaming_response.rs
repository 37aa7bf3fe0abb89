//! A streamed HTTP response through a chain: the middlewares set headers on the
//! response's head, which Lambda sends before the first byte of the body; the body
//! streams after it, chunk by chunk.
//!
//! Run it locally on the bundled function URL event (feature `http`): it prints the head,
//! then each chunk as it arrives.
//!
//! ```sh
//! cargo run --features http --example streaming_response
//! ```
//!
//! Deployed as a function URL with `InvokeMode: RESPONSE_STREAM` (or under
//! `cargo lambda watch`), `AWS_LAMBDA_RUNTIME_API` is set and the same handler runs
//! under `lambda_http::run_with_streaming_response`.
//!
//! When does the after-logic run? When the handler returns the response's head: after
//! the status and headers are known, before the first chunk is sent. A middleware that
//! must act after the last chunk wraps the body (here `Timing` counts the chunks as they
//! go out and logs when the body ends).

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Response, header};
use bytes::Bytes;
use http_body::{Body as _, Frame};
use lambda_http::{Error, Request, RequestExt};
use lambda_middleware::local::LocalFunction;
use lambda_middleware::middlewares::{SecurityHeaders, SecurityHeadersParams};
use lambda_middleware::{Context, Handler, Middleware};

/// Three lines of a report, one every 100 ms, as a slow query would produce them.
async fn report(_: Request) -> Result<Response<Body>, Error> {
    let lines = futures_util::stream::unfold(1, |n| async move {
        if n > 3 {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        Some((Ok::<_, Error>(Bytes::from(format!("line {n} of the report\n"))), n + 1))
    });
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from_stream(lines))?)
}

/// Marks the head with the time the handler took to produce it, and logs when the body
/// has gone out (after the last chunk) by wrapping it.
struct Timing;

impl Middleware<Request, Response<Body>> for Timing {
    type Params = ();

    fn after(&self, _: &(), response: &mut Response<Body>, ctx: &Context) -> Result<(), Error> {
        // Before the first chunk: the head is still being written.
        response.headers_mut().insert("x-request-id", ctx.request_id.parse()?);
        let body = std::mem::take(response.body_mut());
        *response.body_mut() = Body::new(Logged {
            body,
            chunks: 0,
            started: Instant::now(),
        });
        Ok(())
    }
}

/// A body that counts its chunks and logs when it ends.
struct Logged {
    body: Body,
    chunks: usize,
    started: Instant,
}

impl http_body::Body for Logged {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let frame = Pin::new(&mut self.body).poll_frame(cx);
        match &frame {
            Poll::Ready(Some(Ok(_))) => self.chunks += 1,
            Poll::Ready(None) => eprintln!("body sent: {} chunks in {:?}", self.chunks, self.started.elapsed()),
            _ => {}
        }
        frame
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let handler = Handler::builder()
        .middleware_with(SecurityHeaders, SecurityHeadersParams::builder().build())
        .middleware(Timing)
        .handler(report)?;

    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        // Logs as Lambda\'s logging controls ask: text or JSON, and the level.
        lambda_middleware::observe::init()?;
        return lambda_http::run_with_streaming_response(handler).await;
    }

    // Locally: the bundled function URL event, through the chain, and the body read as
    // it streams.
    let event: lambda_http::request::LambdaRequest =
        serde_json::from_str(include_str!("events/streaming_response.json"))?;
    let context = LocalFunction::default().context();
    let request = Request::from(event).with_lambda_context(context.clone());
    let response = handler.invoke_with(request, &context).await?;
    println!("{:?} {}", response.version(), response.status());
    for (name, value) in response.headers() {
        println!("{name}: {}", value.to_str()?);
    }
    println!();
    let mut body = response.into_body();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        if let Ok(chunk) = frame?.into_data() {
            print!("{}", String::from_utf8_lossy(&chunk));
        }
    }
    Ok(())
}
