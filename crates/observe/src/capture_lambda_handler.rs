//! [`CaptureLambdaHandler`]: the handler's own segment in the trace.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use lambda_runtime::{Context, Error};
use serde::Serialize;
use tracing::Instrument;
use typed_builder::TypedBuilder;

use crate::tracer::Tracer;
use crate::tracer::service_name_from_env;
use lambda_middleware_core::BuildError;
use lambda_middleware_core::Invoke;
use lambda_middleware_core::Middleware;
use lambda_middleware_core::support::{RecordPanic, handler_span, record_error, record_outcome};
use lambda_middleware_core::trace::bool_from_env;
use lambda_middleware_core::{Next, Proceeded};

/// The variable that turns off (`false`) the handler's response as metadata of its
/// segment ([`CaptureLambdaHandler`]); on when unset.
pub const CAPTURE_RESPONSE_ENV: &str = "POWERTOOLS_TRACER_CAPTURE_RESPONSE";

/// The variable that turns off (`false`) the handler's error as metadata of its
/// segment ([`CaptureLambdaHandler`]); on when unset.
pub const CAPTURE_ERROR_ENV: &str = "POWERTOOLS_TRACER_CAPTURE_ERROR";

/// Wraps everything inside it — the middlewares added after it and the handler — in the
/// handler's own `## <name>` span, which X-Ray shows as a subsegment and OpenTelemetry
/// as a span: Powertools' `@tracer.capture_lambda_handler`.
///
/// | on the segment | what | switched by |
/// |----------------|------|-------------|
/// | annotation `ColdStart` | `true` on the first invocation of the process, `false` after | — |
/// | annotation `Service` | `POWERTOOLS_SERVICE_NAME`, when set | — |
/// | metadata `<name> response` | the response, serialised to JSON (not when it is `null`) | `capture_response`, else `POWERTOOLS_TRACER_CAPTURE_RESPONSE` (default on) |
/// | metadata `<name> error` | the error's message | `capture_error`, else `POWERTOOLS_TRACER_CAPTURE_ERROR` (default on) |
/// | `fault` and `cause` | the error, or a panic's message, as for a traced middleware | — |
///
/// The metadata goes under the service's namespace, as
/// [`Tracer::put_metadata`](crate::Tracer::put_metadata) puts it. The annotations
/// are searchable in X-Ray (`annotation.ColdStart = true`) and, with the
/// `opentelemetry` feature, attributes of the OpenTelemetry span.
///
/// `ColdStart` is the crate's one claim on the process's first invocation, by request
/// id: under `lambda_runtime::run_concurrent` exactly one of the first concurrent
/// invocations sees `true`, the same one whose log lines carry `cold_start: true`
/// ([`InjectLambdaContext`](crate::InjectLambdaContext)) and which writes the
/// `ColdStart` metric ([`Metrics`](crate::Metrics)).
///
/// Add it first, so that its segment covers the whole invocation: the middlewares
/// inside it nest under it. With no `tracing` subscriber, or with
/// `POWERTOOLS_TRACE_DISABLED` true, it makes no span and captures nothing. The
/// response must be `Serialize`, even with `capture_response(false)`. It is a span
/// of its own, so it is not traced as a middleware (`TRACE_EXECUTION` is
/// `Some(false)`): `POWERTOOLS_TRACE_MIDDLEWARES` does not add a second span around
/// it. Its name as a middleware is `capture_lambda_handler`.
///
/// # Example
///
/// ```
/// use lambda_middleware::middlewares::{CaptureLambdaHandler, CaptureLambdaHandlerParams};
/// use lambda_middleware::{Context, Error, Handler};
/// use serde_json::{json, Value};
///
/// async fn get_booking(event: Value, _: &Context) -> Result<Value, Error> {
///     Ok(json!({ "booking": event["id"] }))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let handler = Handler::builder()
///     // `## get_booking`, without the response in its metadata.
///     .middleware_with(
///         CaptureLambdaHandler,
///         CaptureLambdaHandlerParams::builder().name("get_booking").capture_response(false).build(),
///     )
///     .handler(get_booking)?;
///
/// let response = handler.invoke_with(json!({ "id": 42 }), &Context::default()).await?;
/// assert_eq!(response, json!({ "booking": 42 }));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CaptureLambdaHandler;

/// The params of [`CaptureLambdaHandler`]: the handler's name, and whether its response
/// and its error are captured as metadata. A choice made here beats the environment.
///
/// ```
/// use lambda_middleware::middlewares::CaptureLambdaHandlerParams;
///
/// let params = CaptureLambdaHandlerParams::builder().name("place_order").capture_error(false).build();
/// assert_eq!(params.name(), Some("place_order"));
/// ```
#[derive(Clone, TypedBuilder)]
pub struct CaptureLambdaHandlerParams {
    /// The handler's name: the segment is `## <name>`, the metadata keys
    /// `<name> response` and `<name> error`; not empty. Default: the function's name
    /// (`AWS_LAMBDA_FUNCTION_NAME`, which Lambda sets), else `POWERTOOLS_SERVICE_NAME`,
    /// else `lambda_handler`, read when the handler is built.
    #[builder(default, setter(strip_option, into))]
    name: Option<Cow<'static, str>>,
    /// Capture the response as metadata; `None` leaves it to
    /// `POWERTOOLS_TRACER_CAPTURE_RESPONSE` (default on).
    #[builder(default, setter(strip_option))]
    capture_response: Option<bool>,
    /// Capture the error as metadata; `None` leaves it to
    /// `POWERTOOLS_TRACER_CAPTURE_ERROR` (default on).
    #[builder(default, setter(strip_option))]
    capture_error: Option<bool>,
    /// The two switches, decided when the handler is built (`Middleware::check`).
    #[builder(default, setter(skip))]
    decided: OnceLock<Capture>,
}

/// What is captured as metadata, and under which name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Capture {
    response: bool,
    error: bool,
    name: Cow<'static, str>,
}

/// The function's name, which Lambda sets.
const FUNCTION_NAME_ENV: &str = "AWS_LAMBDA_FUNCTION_NAME";

/// The name when neither the params nor the environment give one: Powertools' usual handler's.
const DEFAULT_NAME: &str = "lambda_handler";

impl CaptureLambdaHandlerParams {
    /// The handler's name given in the params, as the segment shows it after `## `;
    /// `None` when it is left to the environment.
    ///
    /// ```
    /// use lambda_middleware::middlewares::CaptureLambdaHandlerParams;
    /// assert_eq!(CaptureLambdaHandlerParams::builder().name("h").build().name(), Some("h"));
    /// assert_eq!(CaptureLambdaHandlerParams::builder().build().name(), None);
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Params first, then the environment, strictly: a value that is not a boolean is
    /// an error naming it.
    fn decide(&self) -> Result<Capture, BuildError> {
        let from_env = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
        let name = match &self.name {
            Some(name) => name.clone(),
            None => match from_env(FUNCTION_NAME_ENV) {
                Some(function) => Cow::Owned(function),
                None => Cow::Borrowed(service_name_from_env().unwrap_or(DEFAULT_NAME)),
            },
        };
        Ok(Capture {
            name,
            response: match self.capture_response {
                Some(choice) => choice,
                None => bool_from_env(CAPTURE_RESPONSE_ENV, true)?,
            },
            error: match self.capture_error {
                Some(choice) => choice,
                None => bool_from_env(CAPTURE_ERROR_ENV, true)?,
            },
        })
    }

    /// The switches decided when the handler was built.
    fn capture(&self) -> &Capture {
        self.decided.get_or_init(|| {
            // `check` decides them when the handler (or the layer, and each chain it
            // makes) is built; this is only reached by params that never went through a
            // build, and falls back on the defaults.
            self.decide().unwrap_or_else(|_| Capture {
                response: true,
                error: true,
                name: self.name.clone().unwrap_or(Cow::Borrowed(DEFAULT_NAME)),
            })
        })
    }
}

impl fmt::Debug for CaptureLambdaHandlerParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureLambdaHandlerParams")
            .field("name", &self.name)
            .field("capture_response", &self.capture_response)
            .field("capture_error", &self.capture_error)
            .finish()
    }
}

impl<E: Send, R: Serialize + Send> Middleware<E, R> for CaptureLambdaHandler {
    type Params = CaptureLambdaHandlerParams;
    // The segment is this middleware's own span; a `## capture_lambda_handler` span
    // around it would say nothing more.
    const TRACE_EXECUTION: Option<bool> = Some(false);

    fn name(&self) -> &'static str {
        "capture_lambda_handler"
    }

    fn check(&self, params: &CaptureLambdaHandlerParams) -> Result<(), BuildError> {
        check(params)
    }

    async fn call<'n, I>(
        &self,
        params: &CaptureLambdaHandlerParams,
        event: E,
        ctx: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<E, Response = R>,
    {
        capture(params, event, ctx, next, |response: &R| {
            serde_json::to_value(response).map_err(|error| error.to_string())
        })
        .await
    }
}

/// [`CaptureLambdaHandler`] for HTTP handlers — `lambda_http`'s, or any whose response is
/// an `http::Response` with a body of bytes: the segment and its annotations are the
/// same, and the response is captured as `{"statusCode", "headers", "body"}`, the body
/// only when it is JSON (a body that is not stays out of the trace). The params are
/// [`CaptureLambdaHandlerParams`]; its name as a middleware is `capture_lambda_handler`.
///
/// ```
/// use lambda_middleware::middlewares::{CaptureHttpHandler, CaptureLambdaHandlerParams};
/// use lambda_middleware::{Context, Error, Handler};
///
/// async fn get_booking(_: http::Request<String>, _: &Context) -> Result<http::Response<Vec<u8>>, Error> {
///     Ok(http::Response::builder().status(200).body(br#"{"booking":42}"#.to_vec())?)
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// // `## <the function's name>`, from AWS_LAMBDA_FUNCTION_NAME.
/// let handler = Handler::builder()
///     .middleware_with(CaptureHttpHandler, CaptureLambdaHandlerParams::builder().build())
///     .handler(get_booking)?;
/// let response = handler.invoke_with(http::Request::new(String::new()), &Context::default()).await?;
/// assert_eq!(response.status(), 200);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CaptureHttpHandler;

impl<E: Send, B: AsRef<[u8]> + Send> Middleware<E, http::Response<B>> for CaptureHttpHandler {
    type Params = CaptureLambdaHandlerParams;
    const TRACE_EXECUTION: Option<bool> = Some(false);

    fn name(&self) -> &'static str {
        "capture_lambda_handler"
    }

    fn check(&self, params: &CaptureLambdaHandlerParams) -> Result<(), BuildError> {
        check(params)
    }

    async fn call<'n, I>(
        &self,
        params: &CaptureLambdaHandlerParams,
        event: E,
        ctx: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, http::Response<B>>, Error>
    where
        I: Invoke<E, Response = http::Response<B>>,
    {
        capture(params, event, ctx, next, |response: &http::Response<B>| {
            Ok(http_response(response))
        })
        .await
    }
}

/// The status, the headers, and the body when it is JSON: what an HTTP response is in the trace.
fn http_response<B: AsRef<[u8]>>(response: &http::Response<B>) -> serde_json::Value {
    let mut headers = serde_json::Map::new();
    for (name, value) in response.headers() {
        if let Ok(value) = value.to_str() {
            headers.insert(name.as_str().to_owned(), serde_json::Value::from(value));
        }
    }
    let mut captured = serde_json::json!({ "statusCode": response.status().as_u16(), "headers": headers });
    if let Ok(body) = serde_json::from_slice::<serde_json::Value>(response.body().as_ref()) {
        captured["body"] = body;
    }
    captured
}

fn check(params: &CaptureLambdaHandlerParams) -> Result<(), BuildError> {
    if params.name.as_deref().is_some_and(|name| name.trim().is_empty()) {
        return Err(BuildError::invalid_params(
            "capture_lambda_handler",
            "name is empty; expected the handler's name, which the segment shows as `## <name>`",
        ));
    }
    let decided = params.decide()?;
    // Params are checked once per handler built; a second build with the same
    // params keeps the first decision.
    let _ = params.decided.set(decided);
    Ok(())
}

/// The segment around the rest of the chain, with `to_json` for the response's metadata.
async fn capture<'n, E, R, I>(
    params: &CaptureLambdaHandlerParams,
    event: E,
    ctx: &Context,
    next: Next<'n, I>,
    to_json: impl FnOnce(&R) -> Result<serde_json::Value, String>,
) -> Result<Proceeded<'n, R>, Error>
where
    I: Invoke<E, Response = R>,
{
    // Asked whether or not there is a span, so that the first invocation is the
    // cold one even when tracing starts later.
    let cold_start = crate::cold_start::is_cold_start(ctx);
    let capture = params.capture();
    let Some(span) = handler_span(&capture.name) else {
        return Ok(next.run(event).await?);
    };
    let tracer = Tracer::new();
    let rest = span.in_scope(|| {
        tracer.put_annotation("ColdStart", cold_start);
        if let Some(service) = service_name_from_env() {
            tracer.put_annotation("Service", service);
        }
        // Made inside the span, so that the `before` hooks inside it run in it.
        next.run(event)
    });
    let outcome = RecordPanic::new(rest, &span).instrument(span.clone()).await;
    span.in_scope(|| match &outcome {
        Ok(response) => {
            record_outcome(&span, Ok(response.is_early()));
            if capture.response {
                put_response(&tracer, &capture.name, to_json(response.response()));
            }
        }
        Err(failure) => {
            let error = failure.error();
            if capture.error {
                tracer.put_metadata(&format!("{} error", capture.name), &error.to_string());
            }
            record_error(&span, error);
        }
    });
    Ok(outcome?)
}

/// The response as metadata, unless it serialises to `null` (Powertools skips `None`).
fn put_response(tracer: &Tracer, name: &str, response: Result<serde_json::Value, String>) {
    match response {
        Ok(serde_json::Value::Null) => {}
        Ok(value) => tracer.put_metadata(&format!("{name} response"), &value),
        Err(error) => {
            tracing::warn!(%error, handler = name, "response not captured: it does not serialise to JSON");
        }
    }
}
