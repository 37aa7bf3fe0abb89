//! [`JsonResponse`]: the handler's serialisable value made into an HTTP response — the
//! counterpart of Middy's `http-response-serializer`.

use std::marker::PhantomData;

use lambda_runtime::{Context, Error};
use serde::Serialize;
use serde_json::Value;
use typed_builder::TypedBuilder;

use crate::traits::BuildHttpResponse;
use lambda_middleware_core::Invoke;
use lambda_middleware_core::Transform;
use lambda_middleware_core::{Next, Proceeded};

/// Turns whatever `T: Serialize` the handler (and the layers inside) give back into an
/// HTTP response `R`: the status from the params (200 by default), `Content-Type:
/// application/json`, and the value serialised as the body. A [`Transform`]: add it
/// with [`transform_with`](lambda_middleware_core::HandlerBuilder::transform_with).
///
/// `R` is any [`BuildHttpResponse`]: `serde_json::Value` (an API Gateway proxy or function
/// URL response as JSON, the default), `http::Response<B>`, and with the `apigw` feature
/// `ApiGatewayProxyResponse` and `ApiGatewayV2httpResponse`. A value that does not
/// serialise fails the invocation with serde's error (a `500` with
/// [`HttpErrorHandler`](crate::HttpErrorHandler) outside it). Errors from inside pass
/// through: put `HttpErrorHandler` outside this, where the response is `R`.
///
/// Its name for tracing is `json_response`.
///
/// # Example
///
/// ```
/// use lambda_middleware::middlewares::{JsonResponse, JsonResponseParams};
/// use lambda_middleware::{Context, Error, Handler};
/// use serde::Serialize;
/// use serde_json::{json, Value};
///
/// #[derive(Serialize)]
/// struct Booking { id: u32, room: &'static str }
///
/// async fn create(_: Value, _: &Context) -> Result<Booking, Error> {
///     Ok(Booking { id: 7, room: "blue" })
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let handler = Handler::builder()
///     .transform_with(JsonResponse::<Value>::new(), JsonResponseParams::builder().status(201).build())
///     .handler(create)?;
///
/// let response = handler.invoke_with(json!({}), &Context::default()).await?;
/// assert_eq!(response, json!({
///     "statusCode": 201,
///     "headers": { "Content-Type": "application/json" },
///     "body": r#"{"id":7,"room":"blue"}"#,
/// }));
/// # Ok(()) }
/// ```
pub struct JsonResponse<R = Value>(PhantomData<fn() -> R>);

impl<R> JsonResponse<R> {
    /// Serialises into responses of type `R`.
    ///
    /// ```
    /// let to_json = lambda_middleware::middlewares::JsonResponse::<serde_json::Value>::new();
    /// ```
    pub const fn new() -> Self {
        JsonResponse(PhantomData)
    }
}

impl<R> Default for JsonResponse<R> {
    fn default() -> Self {
        JsonResponse::new()
    }
}

impl<R> Clone for JsonResponse<R> {
    fn clone(&self) -> Self {
        JsonResponse::new()
    }
}

impl<R> std::fmt::Debug for JsonResponse<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonResponse")
            .field("response", &std::any::type_name::<R>())
            .finish()
    }
}

/// How [`JsonResponse`] answers.
///
/// ```
/// use lambda_middleware::middlewares::JsonResponseParams;
///
/// let defaults = JsonResponseParams::builder().build(); // 200, application/json
/// let created = JsonResponseParams::builder().status(201).content_type("application/vnd.api+json").build();
/// ```
#[derive(Debug, Clone, TypedBuilder)]
pub struct JsonResponseParams {
    /// The status code. Default: 200.
    #[builder(default = 200)]
    status: u16,
    /// The `Content-Type` header. Default: `application/json`.
    #[builder(default = "application/json".into(), setter(into))]
    content_type: String,
}

impl Default for JsonResponseParams {
    fn default() -> Self {
        JsonResponseParams::builder().build()
    }
}

impl<E, T, R> Transform<E, T> for JsonResponse<R>
where
    E: Send,
    T: Serialize + Send,
    R: BuildHttpResponse + Send,
{
    type Event = E;
    type Response = R;
    type Params = JsonResponseParams;

    fn name(&self) -> &'static str {
        "json_response"
    }

    async fn call<'n, I>(
        &self,
        params: &JsonResponseParams,
        event: E,
        _: &Context,
        next: Next<'n, I, R>,
    ) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<E, Response = T>,
    {
        let value = next.run(event).await?;
        let body = serde_json::to_string(value.response())?;
        let mut response = R::with_status(params.status, Some(body));
        response.set_header("Content-Type", &params.content_type);
        Ok(value.map(|_| response))
    }
}
