//! [`Cors`]: CORS response headers, and preflight requests answered without the handler.

use lambda_runtime::{Context, Error};
use typed_builder::TypedBuilder;

use crate::traits::{BuildHttpResponse, HttpRequest, HttpResponse};
use lambda_middleware_core::BuildError;
use lambda_middleware_core::Invoke;
use lambda_middleware_core::Middleware;
use lambda_middleware_core::{Next, Proceeded};

/// Cross-origin resource sharing for HTTP functions — Middy's `http-cors`, the
/// `CORSConfig` of Powertools' event handler.
///
/// - **Preflight** (`OPTIONS` with an `Access-Control-Request-Method` header): answered
///   at once with `204 No Content` and the `Access-Control-Allow-*` headers, through
///   `next.respond_early`: the inner middlewares and the handler do not run. A plain
///   `OPTIONS` without that header is an ordinary request and reaches the handler.
/// - **Every other successful response** gets `Access-Control-Allow-Origin` (and
///   `-Allow-Credentials`, `-Expose-Headers` when configured).
///
/// The allowed origin is `*` when `allow_origins`
/// contains `*` and credentials are off; otherwise the request's `Origin` when it is in
/// the list (compared without regard to case) or `mirror_request_origin` is set;
/// otherwise none, and the browser refuses the response. Every answer whose headers
/// depend on the `Origin` — all but those of a plain `*` — carries `Vary: Origin`,
/// refused and origin-less requests' included, so that a cache cannot hand one origin's
/// answer to another. `*` with
/// credentials is refused when the handler is built, as tower-http's `CorsLayer`
/// refuses it: it would let any site make credentialed requests. An `Origin` that is missing, not UTF-8 or not
/// allowed is not an error: the response simply does not allow it.
///
/// Errors pass through untouched: add it *before* [`HttpErrorHandler`](crate::HttpErrorHandler)
/// so that error responses get the headers too, and before `Validator`
/// so that preflights are not validated.
///
/// Works with any event that is [`HttpRequest`] and any response that is
/// [`BuildHttpResponse`] (it answers preflights itself). Its name for tracing is `cors`.
///
/// # Example
///
/// ```
/// use lambda_middleware::middlewares::{Cors, CorsParams};
/// use lambda_middleware::{Context, Error, Handler};
/// use serde_json::{json, Value};
///
/// async fn handler(_: Value, _: &Context) -> Result<Value, Error> {
///     Ok(json!({ "statusCode": 200, "body": "booked" }))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let params = CorsParams::builder()
///     .allow_origins(["https://app.example.com"])
///     .allow_methods(["GET", "POST"])
///     .max_age(600)
///     .build();
/// let handler = Handler::builder().middleware_with(Cors, params).handler(handler)?;
/// let context = Context::default();
///
/// let preflight = json!({
///     "httpMethod": "OPTIONS",
///     "headers": { "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST" },
/// });
/// let response = handler.invoke_with(preflight, &context).await?; // the handler did not run
/// assert_eq!(response["statusCode"], 204);
/// assert_eq!(response["headers"]["Access-Control-Allow-Origin"], "https://app.example.com");
/// assert_eq!(response["headers"]["Access-Control-Allow-Methods"], "GET, POST");
/// assert_eq!(response["headers"]["Access-Control-Max-Age"], "600");
///
/// let post = json!({ "httpMethod": "POST", "headers": { "origin": "https://app.example.com" } });
/// let response = handler.invoke_with(post, &context).await?;
/// assert_eq!(response["body"], "booked");
/// assert_eq!(response["headers"]["Access-Control-Allow-Origin"], "https://app.example.com");
/// assert_eq!(response["headers"]["Vary"], "Origin");
///
/// let other = json!({ "httpMethod": "GET", "headers": { "Origin": "https://evil.example" } });
/// let response = handler.invoke_with(other, &context).await?;
/// assert!(response["headers"].get("Access-Control-Allow-Origin").is_none());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Cors;

/// What [`Cors`] allows.
///
/// ```
/// use lambda_middleware::middlewares::CorsParams;
///
/// // Any origin, the usual methods and headers, no credentials.
/// let open = CorsParams::builder().build();
///
/// let strict = CorsParams::builder()
///     .allow_origins(["https://app.example.com", "https://admin.example.com"])
///     .allow_methods(["GET", "PUT"])
///     .allow_headers(["Content-Type", "Authorization"])
///     .expose_headers(["X-Correlation-Id"])
///     .allow_credentials(true)
///     .max_age(3600)
///     .build();
///
/// // Any origin with credentials, on purpose.
/// let mirror = CorsParams::builder().allow_credentials(true).mirror_request_origin(true).build();
/// ```
#[derive(Debug, Clone, TypedBuilder)]
pub struct CorsParams {
    /// Allowed origins (`https://app.example.com`), or `*` for any. Default: `*`.
    #[builder(default = vec!["*".into()], setter(transform = |origins: impl IntoIterator<Item = impl Into<String>>| strings(origins)))]
    allow_origins: Vec<String>,
    /// Methods allowed in preflight answers. Default: `GET, HEAD, PUT, PATCH, POST, DELETE`.
    #[builder(
        default = strings(["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"]),
        setter(transform = |methods: impl IntoIterator<Item = impl Into<String>>| strings(methods))
    )]
    allow_methods: Vec<String>,
    /// Request headers allowed in preflight answers. Default: `Authorization,
    /// Content-Type, X-Amz-Date, X-Api-Key, X-Amz-Security-Token` (Powertools' defaults).
    #[builder(
        default = strings(["Authorization", "Content-Type", "X-Amz-Date", "X-Api-Key", "X-Amz-Security-Token"]),
        setter(transform = |headers: impl IntoIterator<Item = impl Into<String>>| strings(headers))
    )]
    allow_headers: Vec<String>,
    /// Response headers the browser may read. Default: none.
    #[builder(default, setter(transform = |headers: impl IntoIterator<Item = impl Into<String>>| strings(headers)))]
    expose_headers: Vec<String>,
    /// Allow cookies and credentials (`Access-Control-Allow-Credentials: true`).
    /// Browsers refuse `*` with credentials, and echoing any origin instead would let
    /// every site make credentialed requests, so `*` in the origins with credentials is
    /// a [`BuildError`](lambda_middleware_core::BuildError) when the handler is built, unless
    /// `mirror_request_origin` says that any origin is meant. Default: `false`.
    #[builder(default = false)]
    allow_credentials: bool,
    /// Answer every request's `Origin` as allowed (echoed, with `Vary: Origin`), with
    /// credentials too when they are on: any site may call the function with the user's
    /// cookies. Only for functions that mean to be open to every origin. Default:
    /// `false`.
    #[builder(default = false)]
    mirror_request_origin: bool,
    /// How long, in seconds, a browser may cache a preflight answer. Default: not sent.
    #[builder(default, setter(strip_option))]
    max_age: Option<u32>,
}

fn strings(items: impl IntoIterator<Item = impl Into<String>>) -> Vec<String> {
    items.into_iter().map(Into::into).collect()
}

impl Default for CorsParams {
    fn default() -> Self {
        CorsParams::builder().build()
    }
}

/// The `Access-Control-Allow-Origin` value for a request from `origin`, and whether it
/// is the origin itself (rather than `*`).
fn allowed_origin<'a>(params: &'a CorsParams, origin: Option<&'a str>) -> Option<(&'a str, bool)> {
    let any = params.mirror_request_origin || params.allow_origins.iter().any(|allowed| allowed == "*");
    if any && !params.allow_credentials && !params.mirror_request_origin {
        return Some(("*", false));
    }
    // Echoed in a header: only a plausible origin, never control characters.
    let origin = origin.filter(|origin| !origin.is_empty() && origin.bytes().all(|b| (0x21..0x7f).contains(&b)))?;
    if any
        || params
            .allow_origins
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(origin))
    {
        return Some((origin, true));
    }
    None
}

/// Whether the CORS headers of an answer depend on the request's `Origin`: always but
/// for a plain `*` (no credentials, no mirroring). Such answers carry `Vary: Origin`
/// whether the origin was allowed, refused or absent, so that a cache never serves one
/// origin's answer to another.
fn varies_by_origin(params: &CorsParams) -> bool {
    let any = params.allow_origins.iter().any(|allowed| allowed == "*");
    params.mirror_request_origin || params.allow_credentials || !any
}

/// Adds the headers every CORS response carries.
fn add_common<R: HttpResponse>(response: &mut R, params: &CorsParams, origin: Option<&str>) {
    if varies_by_origin(params) {
        let vary = match response.header("Vary") {
            None => "Origin".to_owned(),
            Some(vary) if vary.split(',').any(|v| v.trim().eq_ignore_ascii_case("origin")) => vary.to_owned(),
            Some(vary) => format!("{vary}, Origin"),
        };
        if !response.set_header("Vary", &vary) {
            tracing::debug!("the response has no room for the Vary header");
        }
    }
    let Some((allowed, _)) = allowed_origin(params, origin) else {
        return;
    };
    let mut set = |name: &str, value: &str| {
        if !response.set_header(name, value) {
            tracing::debug!(header = name, "the response has no room for a CORS header");
        }
    };
    set("Access-Control-Allow-Origin", allowed);
    if params.allow_credentials {
        set("Access-Control-Allow-Credentials", "true");
    }
}

impl<E, R> Middleware<E, R> for Cors
where
    E: HttpRequest + Send,
    R: BuildHttpResponse + Send,
{
    type Params = CorsParams;

    fn name(&self) -> &'static str {
        "cors"
    }

    /// `*` in the origins with credentials is refused: see
    /// [`CorsParams`]' `allow_credentials`.
    fn check(&self, params: &CorsParams) -> Result<(), BuildError> {
        let any = params.allow_origins.iter().any(|allowed| allowed == "*");
        if any && params.allow_credentials && !params.mirror_request_origin {
            return Err(BuildError::invalid_params(
                "cors",
                "`*` in allow_origins with allow_credentials(true) would let any site make requests with the \
                 user's credentials; list the origins allowed, or set mirror_request_origin(true) if every \
                 origin is meant",
            ));
        }
        Ok(())
    }

    async fn call<'n, I>(
        &self,
        params: &CorsParams,
        event: E,
        _: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<E, Response = R>,
    {
        let origin = event.header("Origin").map(str::to_owned);
        let preflight = event
            .method()
            .is_some_and(|method| method.eq_ignore_ascii_case("OPTIONS"))
            && event.header("Access-Control-Request-Method").is_some();

        if preflight {
            let mut response = R::with_status(204, None);
            add_common(&mut response, params, origin.as_deref());
            if allowed_origin(params, origin.as_deref()).is_some() {
                response.set_header("Access-Control-Allow-Methods", &params.allow_methods.join(", "));
                if !params.allow_headers.is_empty() {
                    response.set_header("Access-Control-Allow-Headers", &params.allow_headers.join(", "));
                }
                if let Some(max_age) = params.max_age {
                    response.set_header("Access-Control-Max-Age", &max_age.to_string());
                }
            }
            return Ok(next.respond_early(response));
        }

        let mut response = next.run(event).await?;
        let response_mut = response.response_mut();
        add_common(response_mut, params, origin.as_deref());
        if !params.expose_headers.is_empty() && allowed_origin(params, origin.as_deref()).is_some() {
            response_mut.set_header("Access-Control-Expose-Headers", &params.expose_headers.join(", "));
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::{CorsParams, allowed_origin};

    #[test]
    fn mirroring_with_credentials_echoes_the_request_origin() {
        let params = CorsParams::builder()
            .allow_credentials(true)
            .mirror_request_origin(true)
            .build();
        assert_eq!(
            allowed_origin(&params, Some("https://a.example")),
            Some(("https://a.example", true))
        );
        assert_eq!(allowed_origin(&params, None), None);
        assert_eq!(
            allowed_origin(&params, Some("https://a.example\r\nSet-Cookie: x")),
            None
        );
    }

    #[test]
    fn listed_origins_match_without_regard_to_case_only() {
        let params = CorsParams::builder().allow_origins(["https://A.example"]).build();
        assert_eq!(
            allowed_origin(&params, Some("https://a.example")),
            Some(("https://a.example", true))
        );
        assert_eq!(allowed_origin(&params, Some("https://a.example.evil")), None);
        assert_eq!(allowed_origin(&params, Some("")), None);
        assert_eq!(allowed_origin(&params, None), None);
    }
}
