//! [`SecurityHeaders`]: the security headers of Powertools' "combining utilities"
//! example on every HTTP response.

use lambda_runtime::{Context, Error};
use typed_builder::TypedBuilder;

use crate::traits::HttpResponse;
use lambda_middleware_core::Middleware;

/// Adds security headers to every successful HTTP response — the six headers of the
/// Powertools middleware factory's "combining utilities" example, Middy's
/// `http-security-headers`.
///
/// | header | default |
/// |--------|---------|
/// | `Referrer-Policy` | `no-referrer` |
/// | `Strict-Transport-Security` | `max-age=15552000; includeSubDomains; preload` |
/// | `X-DNS-Prefetch-Control` | `off` |
/// | `X-Content-Type-Options` | `nosniff` |
/// | `X-Permitted-Cross-Domain-Policies` | `none` |
/// | `X-Download-Options` | `noopen` |
///
/// Each can be given another value, or left out with its `*_opt(None)` setter; more
/// headers go in `extra`. A header the handler
/// set already is kept as it is, unless `overwrite`
/// is on.
///
/// Errors pass through untouched: add it *before* [`HttpErrorHandler`](crate::HttpErrorHandler)
/// so that error responses get the headers too. A JSON response that is not an object
/// (a bare string, which HTTP APIs accept) has no room for headers and is left as it is.
///
/// Works with any event and any response that is [`HttpResponse`]. Its name for
/// tracing is `security_headers`.
///
/// # Example
///
/// ```
/// use lambda_middleware::middlewares::{SecurityHeaders, SecurityHeadersParams};
/// use lambda_middleware::{Context, Error, Handler};
/// use serde_json::{json, Value};
///
/// async fn handler(_: Value, _: &Context) -> Result<Value, Error> {
///     Ok(json!({ "statusCode": 200, "headers": { "X-Download-Options": "custom" }, "body": "hi" }))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let params = SecurityHeadersParams::builder()
///     .strict_transport_security("max-age=63072000")
///     .x_dns_prefetch_control_opt(None) // leave it out
///     .extra([("Content-Security-Policy", "default-src 'none'")])
///     .build();
/// let handler = Handler::builder().middleware_with(SecurityHeaders, params).handler(handler)?;
///
/// let response = handler.invoke_with(json!({}), &Context::default()).await?;
/// assert_eq!(response["headers"], json!({
///     "X-Download-Options": "custom", // the handler's own value wins
///     "Referrer-Policy": "no-referrer",
///     "Strict-Transport-Security": "max-age=63072000",
///     "X-Content-Type-Options": "nosniff",
///     "X-Permitted-Cross-Domain-Policies": "none",
///     "Content-Security-Policy": "default-src 'none'",
/// }));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SecurityHeaders;

/// Which headers [`SecurityHeaders`] adds, with which values.
///
/// Every field has the default in the table of [`SecurityHeaders`]; each header's
/// setter takes a value, and its `*_opt` setter takes `None` to leave it out.
///
/// ```
/// use lambda_middleware::middlewares::SecurityHeadersParams;
///
/// let defaults = SecurityHeadersParams::builder().build();
/// let params = SecurityHeadersParams::builder()
///     .referrer_policy("strict-origin-when-cross-origin")
///     .x_download_options_opt(None)
///     .extra([("X-Frame-Options", "DENY")])
///     .overwrite(true)
///     .build();
/// ```
#[derive(Debug, Clone, TypedBuilder)]
pub struct SecurityHeadersParams {
    /// `Referrer-Policy`. Default: `no-referrer`.
    #[builder(default = Some("no-referrer".into()), setter(into, strip_option(fallback = referrer_policy_opt)))]
    referrer_policy: Option<String>,
    /// `Strict-Transport-Security`. Default: `max-age=15552000; includeSubDomains; preload`.
    #[builder(
        default = Some("max-age=15552000; includeSubDomains; preload".into()),
        setter(into, strip_option(fallback = strict_transport_security_opt))
    )]
    strict_transport_security: Option<String>,
    /// `X-DNS-Prefetch-Control`. Default: `off`.
    #[builder(default = Some("off".into()), setter(into, strip_option(fallback = x_dns_prefetch_control_opt)))]
    x_dns_prefetch_control: Option<String>,
    /// `X-Content-Type-Options`. Default: `nosniff`.
    #[builder(default = Some("nosniff".into()), setter(into, strip_option(fallback = x_content_type_options_opt)))]
    x_content_type_options: Option<String>,
    /// `X-Permitted-Cross-Domain-Policies`. Default: `none`.
    #[builder(
        default = Some("none".into()),
        setter(into, strip_option(fallback = x_permitted_cross_domain_policies_opt))
    )]
    x_permitted_cross_domain_policies: Option<String>,
    /// `X-Download-Options`. Default: `noopen`.
    #[builder(default = Some("noopen".into()), setter(into, strip_option(fallback = x_download_options_opt)))]
    x_download_options: Option<String>,
    /// More headers, as `(name, value)` pairs. Default: none.
    #[builder(
        default,
        setter(transform = |headers: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>| {
            headers.into_iter().map(|(name, value)| (name.into(), value.into())).collect()
        })
    )]
    extra: Vec<(String, String)>,
    /// Replace headers the handler set already. Default: `false`, the handler's win.
    #[builder(default = false)]
    overwrite: bool,
}

impl Default for SecurityHeadersParams {
    fn default() -> Self {
        SecurityHeadersParams::builder().build()
    }
}

impl SecurityHeadersParams {
    fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        [
            ("Referrer-Policy", &self.referrer_policy),
            ("Strict-Transport-Security", &self.strict_transport_security),
            ("X-DNS-Prefetch-Control", &self.x_dns_prefetch_control),
            ("X-Content-Type-Options", &self.x_content_type_options),
            (
                "X-Permitted-Cross-Domain-Policies",
                &self.x_permitted_cross_domain_policies,
            ),
            ("X-Download-Options", &self.x_download_options),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value.as_deref()?)))
        .chain(self.extra.iter().map(|(name, value)| (name.as_str(), value.as_str())))
    }

    /// Adds the headers to `response`.
    pub(crate) fn apply<R: HttpResponse>(&self, response: &mut R) {
        for (name, value) in self.headers() {
            if (self.overwrite || response.header(name).is_none()) && !response.set_header(name, value) {
                tracing::debug!(
                    header = name,
                    "the response has no room for this security header, or it is invalid"
                );
            }
        }
    }
}

impl<E, R> Middleware<E, R> for SecurityHeaders
where
    E: Send,
    R: HttpResponse + Send,
{
    type Params = SecurityHeadersParams;

    fn name(&self) -> &'static str {
        "security_headers"
    }

    fn after(&self, params: &SecurityHeadersParams, response: &mut R, _: &Context) -> Result<(), Error> {
        params.apply(response);
        Ok(())
    }
}
