//! [`HttpErrorHandler`]: errors become HTTP responses with a status and a JSON body.

use std::error::Error as StdError;
use std::fmt;

use lambda_runtime::{Context, Error};
use typed_builder::TypedBuilder;

use crate::traits::BuildHttpResponse;
use lambda_middleware_core::Middleware;

/// Turns the errors of everything inside it into HTTP responses — Middy's
/// `http-error-handler`, Powertools' event handler exceptions.
///
/// | error (itself, or anywhere in its `source()` chain) | status | body `message` |
/// |-----------------------------------------------------|--------|----------------|
/// | [`HttpError`] | its status | its message (4xx) |
/// | [`NotFound`] | 404 | its message |
/// | [`ValidationError`](lambda_middleware_data::ValidationError), inbound (feature `validation`) | 400 | the violations |
/// | [`ValidationError`](lambda_middleware_data::ValidationError), outbound | 500 | hidden |
/// | [`TimeoutError`](lambda_middleware_core::timeout::TimeoutError) (feature `timeout`) | 504 | hidden |
/// | what `classify` says, for your own types | its answer | its `Display` (4xx) |
/// | anything else | 500 | hidden |
///
/// The response has a `Content-Type: application/json` header and the body
/// `{"message": "..."}`. For a 5xx status the body says only
/// `server_error_message`
/// (`Internal Server Error` by default), never the error: the details go to the log
/// instead, with `tracing::error!` (the error, its chain of sources, the status). A 4xx
/// is logged with `tracing::warn!`.
///
/// # Order
///
/// It handles the errors of the middlewares added *after* it and of the handler, so add
/// it after those whose errors are fine to return as they are (none, usually) and
/// before those whose errors it should turn into responses (`Validator`,
/// `Timeout`). Middlewares added before it see a successful
/// response: put [`SecurityHeaders`](crate::SecurityHeaders), [`Cors`](crate::Cors) and
/// the echo of [`CorrelationId`](crate::CorrelationId) there, and error responses get
/// their headers too.
///
/// Works with any event and any response that is [`BuildHttpResponse`]: a JSON
/// `serde_json::Value`, `http::Response<B>` (`lambda_http`'s, axum's) and with the `apigw`
/// feature aws_lambda_events' API Gateway responses. Its name for tracing is `http_error_handler`.
///
/// # Example
///
/// ```
/// use lambda_middleware::middlewares::{HttpError, HttpErrorHandler, HttpErrorHandlerParams, NotFound};
/// use lambda_middleware::{Context, Error, Handler};
/// use serde_json::{json, Value};
///
/// async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
///     match event["path"].as_str() {
///         Some("/teapot") => Err(HttpError::new(418, "I'm a teapot").into()),
///         Some("/missing") => Err(NotFound::new("no booking 42").into()),
///         _ => Err("connection to db-7.internal:5432 refused".into()),
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let handler = Handler::builder()
///     .middleware_with(HttpErrorHandler, HttpErrorHandlerParams::builder().build())
///     .handler(handler)?;
/// let context = Context::default();
///
/// let response = handler.invoke_with(json!({ "path": "/teapot" }), &context).await?;
/// assert_eq!(response["statusCode"], 418);
/// assert_eq!(response["body"], r#"{"message":"I'm a teapot"}"#);
///
/// let response = handler.invoke_with(json!({ "path": "/missing" }), &context).await?;
/// assert_eq!(response["statusCode"], 404);
///
/// let response = handler.invoke_with(json!({ "path": "/" }), &context).await?;
/// assert_eq!(response["statusCode"], 500);
/// assert_eq!(response["body"], r#"{"message":"Internal Server Error"}"#); // the cause is only logged
/// assert_eq!(response["headers"]["Content-Type"], "application/json");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpErrorHandler;

/// How [`HttpErrorHandler`] answers.
///
/// ```
/// use lambda_middleware::middlewares::HttpErrorHandlerParams;
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("quota exceeded")]
/// struct QuotaExceeded;
///
/// let params = HttpErrorHandlerParams::builder()
///     .server_error_message("Something went wrong")
///     .classify(|error| error.is::<QuotaExceeded>().then_some(429))
///     .build();
/// ```
#[derive(Clone, TypedBuilder)]
pub struct HttpErrorHandlerParams {
    /// The body message of every 5xx response. Default: `Internal Server Error`.
    #[builder(default = "Internal Server Error".into(), setter(into))]
    server_error_message: String,
    /// A status for errors of your own types, asked for each error in the chain that is
    /// not one of the crate's; `None` passes. Default: none.
    #[builder(default, setter(strip_option))]
    classify: Option<fn(&(dyn StdError + 'static)) -> Option<u16>>,
    /// Also answer in the same JSON shape the error *responses* of what is inside — a
    /// response with a 4xx or 5xx status whose `Content-Type` is not JSON, as an axum
    /// `Router` answers a rejected body (`422 text/plain`) or an unknown route (`404`,
    /// no body). The status is kept; the message is the status's reason (`Unprocessable
    /// Entity`), or `server_error_message` for a 5xx; the original body and headers are
    /// dropped (the middlewares outside add theirs). Default: `false` (they pass as they are).
    #[builder(default = false)]
    json_error_responses: bool,
}

impl fmt::Debug for HttpErrorHandlerParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpErrorHandlerParams")
            .field("server_error_message", &self.server_error_message)
            .field("classify", &self.classify.is_some())
            .field("json_error_responses", &self.json_error_responses)
            .finish()
    }
}

impl Default for HttpErrorHandlerParams {
    fn default() -> Self {
        HttpErrorHandlerParams::builder().build()
    }
}

/// An error with an HTTP status, for handlers to return: [`HttpErrorHandler`] answers
/// with its status and, for a 4xx, its message.
///
/// A status outside 400–599 is answered as 500.
///
/// ```
/// use lambda_middleware::middlewares::HttpError;
/// use lambda_middleware::Error;
///
/// fn check_quota(used: u32) -> Result<(), Error> {
///     if used > 100 {
///         return Err(HttpError::new(429, "quota exceeded, retry tomorrow").into());
///     }
///     Ok(())
/// }
///
/// let error = HttpError::bad_request("nights must be at least 1");
/// assert_eq!(error.status(), 400);
/// assert_eq!(error.to_string(), "nights must be at least 1 (HTTP 400)");
/// ```
#[derive(Debug)]
pub struct HttpError {
    status: u16,
    message: String,
    source: Option<Error>,
}

impl HttpError {
    /// An error answered with `status` and `message`.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::HttpError;
    /// let error = HttpError::new(409, "booking already confirmed");
    /// ```
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        HttpError {
            status,
            message: message.into(),
            source: None,
        }
    }

    /// A 400 Bad Request.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::HttpError;
    /// let error = HttpError::bad_request("missing field `email`");
    /// ```
    pub fn bad_request(message: impl Into<String>) -> Self {
        HttpError::new(400, message)
    }

    /// A 404 Not Found.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::HttpError;
    /// let error = HttpError::not_found("no booking 42");
    /// ```
    pub fn not_found(message: impl Into<String>) -> Self {
        HttpError::new(404, message)
    }

    /// The cause, kept for the log (it never reaches the response body).
    ///
    /// ```
    /// # use lambda_middleware::middlewares::HttpError;
    /// let cause = std::io::Error::other("disk full");
    /// let error = HttpError::new(503, "try again later").with_source(cause);
    /// assert!(std::error::Error::source(&error).is_some());
    /// ```
    pub fn with_source(mut self, source: impl Into<Error>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The status.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::HttpError;
    /// assert_eq!(HttpError::not_found("x").status(), 404);
    /// ```
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The message (the body of a 4xx response).
    ///
    /// ```
    /// # use lambda_middleware::middlewares::HttpError;
    /// assert_eq!(HttpError::not_found("no booking 42").message(), "no booking 42");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (HTTP {})", self.message, self.status)
    }
}

impl StdError for HttpError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|source| source as &(dyn StdError + 'static))
    }
}

/// The thing asked for does not exist: [`HttpErrorHandler`] answers 404 with the
/// message.
///
/// ```
/// use lambda_middleware::middlewares::NotFound;
/// use lambda_middleware::Error;
///
/// fn booking(id: u32) -> Result<String, Error> {
///     Err(NotFound::new(format!("no booking {id}")).into())
/// }
///
/// assert_eq!(booking(42).unwrap_err().to_string(), "no booking 42");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct NotFound {
    message: String,
}

impl NotFound {
    /// A 404 with `message`.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::NotFound;
    /// let error = NotFound::new("no such room");
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        NotFound {
            message: message.into(),
        }
    }
}

impl<E, R> Middleware<E, R> for HttpErrorHandler
where
    E: Send,
    R: BuildHttpResponse + Send,
{
    type Params = HttpErrorHandlerParams;

    fn name(&self) -> &'static str {
        "http_error_handler"
    }

    fn after(&self, params: &HttpErrorHandlerParams, response: &mut R, _: &Context) -> Result<(), Error> {
        if !params.json_error_responses {
            return Ok(());
        }
        let Some(status) = response.status().filter(|status| (400..=599).contains(status)) else {
            return Ok(());
        };
        let is_json = response.header("Content-Type").is_some_and(|content_type| {
            let media = content_type
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            media == "application/json" || media.ends_with("+json")
        });
        if is_json {
            return Ok(());
        }
        let message = if status >= 500 {
            params.server_error_message.clone()
        } else {
            http::StatusCode::from_u16(status)
                .ok()
                .and_then(|code| code.canonical_reason())
                .unwrap_or("Client Error")
                .to_owned()
        };
        tracing::warn!(
            status,
            "answering an error response of the service in the JSON error shape"
        );
        let body = serde_json::json!({ "message": message }).to_string();
        *response = R::with_status(status, Some(body));
        response.set_header("Content-Type", "application/json");
        Ok(())
    }

    fn on_error(&self, params: &HttpErrorHandlerParams, error: Error, _: &Context) -> Result<R, Error> {
        let (status, message) = classify(&*error, params);
        let sources = error.source().map(|_| tracing::field::display(Sources(&*error)));
        let message = if status >= 500 {
            tracing::error!(status, error = %error, sources, "the invocation failed; answering with a server error");
            params.server_error_message.clone()
        } else {
            tracing::warn!(status, error = %error, sources, "answering with a client error");
            message
        };
        let body = serde_json::json!({ "message": message }).to_string();
        let mut response = R::with_status(status, Some(body));
        response.set_header("Content-Type", "application/json");
        Ok(response)
    }
}

/// The status and 4xx message for `error`: the first error in its chain that says.
fn classify(error: &(dyn StdError + Send + Sync + 'static), params: &HttpErrorHandlerParams) -> (u16, String) {
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(error) = current {
        if let Some(found) = known(error, params) {
            return found;
        }
        current = error.source();
    }
    (500, String::new())
}

fn known(error: &(dyn StdError + 'static), params: &HttpErrorHandlerParams) -> Option<(u16, String)> {
    if let Some(http) = error.downcast_ref::<HttpError>() {
        let status = if (400..=599).contains(&http.status) {
            http.status
        } else {
            500
        };
        return Some((status, http.message.clone()));
    }
    if let Some(not_found) = error.downcast_ref::<NotFound>() {
        return Some((404, not_found.message.clone()));
    }
    if let Some(unparsed) = error.downcast_ref::<lambda_middleware_data::ParseError>() {
        return Some((400, unparsed.to_string()));
    }
    #[cfg(feature = "validation")]
    if let Some(invalid) = error.downcast_ref::<lambda_middleware_data::ValidationError>() {
        let status = match invalid.direction() {
            lambda_middleware_data::Direction::Inbound => 400,
            lambda_middleware_data::Direction::Outbound => 500,
        };
        return Some((status, invalid.to_string()));
    }
    #[cfg(feature = "timeout")]
    if error.is::<lambda_middleware_core::timeout::TimeoutError>() {
        return Some((504, String::new()));
    }
    let status = (params.classify?)(error)?;
    let status = if (400..=599).contains(&status) { status } else { 500 };
    Some((status, error.to_string()))
}

/// An error's chain of sources, for the log: `: cause: its cause`.
struct Sources<'a>(&'a (dyn StdError + Send + Sync + 'static));

impl fmt::Display for Sources<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut current = self.0.source();
        let mut first = true;
        while let Some(error) = current {
            if !first {
                f.write_str(": ")?;
            }
            write!(f, "{error}")?;
            first = false;
            current = error.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{HttpError, HttpErrorHandlerParams, NotFound, classify};
    use lambda_runtime::Error;

    #[derive(Debug, thiserror::Error)]
    #[error("saving the booking failed")]
    struct Wrapped(#[source] NotFound);

    #[test]
    fn the_chain_of_sources_is_searched() {
        let params = HttpErrorHandlerParams::builder().build();
        let error: Error = Wrapped(NotFound::new("no room 9")).into();
        assert_eq!(classify(&*error, &params), (404, "no room 9".into()));
    }

    #[test]
    fn statuses_outside_the_error_range_are_500() {
        let params = HttpErrorHandlerParams::builder().build();
        for status in [0, 200, 302, 600, u16::MAX] {
            let error: Error = HttpError::new(status, "odd").into();
            assert_eq!(classify(&*error, &params).0, 500, "{status}");
        }
        let params = HttpErrorHandlerParams::builder().classify(|_| Some(700)).build();
        let error: Error = "plain".into();
        assert_eq!(classify(&*error, &params).0, 500);
    }

    #[test]
    fn classify_sees_errors_of_other_types() {
        let params = HttpErrorHandlerParams::builder()
            .classify(|error| error.is::<std::num::ParseIntError>().then_some(422))
            .build();
        let error: Error = "x".parse::<u8>().unwrap_err().into();
        assert_eq!(
            classify(&*error, &params),
            (422, "invalid digit found in string".into())
        );
        let other: Error = "plain".into();
        assert_eq!(classify(&*other, &params), (500, String::new()));
    }
}
