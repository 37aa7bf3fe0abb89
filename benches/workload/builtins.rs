//! The HTTP chain of the README's built-ins example, six built-in middlewares around a
//! handler, on an API Gateway (REST) event as JSON: once as the crate ships them (the
//! synchronous ones written with hooks) and once with every hook middleware run through
//! [`AsAsync`], the `async fn call` the same logic needs when written the other way (as
//! those built-ins were before they were ported to hooks).
//!
//! Both chains get a clone of the same event and build the same response, so what
//! differs between the two rows is the form of the middlewares only.

use lambda_middleware::chain::Chain;
use lambda_middleware::hooks::Flow;
use lambda_middleware::middlewares::{
    CorrelationId, CorrelationIdParams, Cors, CorsParams, HttpErrorHandler, HttpErrorHandlerParams,
    InjectLambdaContext, LogEvent, LogEventParams, SecurityHeaders, SecurityHeadersParams,
};
use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use serde_json::{Value, json};

use super::{Workload, poll_once};

/// The middlewares in the chain.
pub const DEPTH: usize = 6;

/// A hook middleware `M` run by an `async fn call` that does what the default `call`
/// does: `before`, the rest of the chain, then `after` or `on_error`.
pub struct AsAsync<M>(pub M);

impl<E: Send, R: Send, M: Middleware<E, R>> Middleware<E, R> for AsAsync<M> {
    type Params = M::Params;

    async fn call<'n, I>(
        &self,
        params: &M::Params,
        mut event: E,
        ctx: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<E, Response = R>,
    {
        if let Flow::RespondEarly(response) = self.0.before(params, &mut event, ctx)? {
            return Ok(next.respond_early(response));
        }
        match next.run(event).await {
            Ok(mut response) => {
                self.0.after(params, response.response_mut(), ctx)?;
                Ok(response)
            }
            Err(failure) => failure.recover_with(|error| self.0.on_error(params, error, ctx)),
        }
    }
}

async fn get_booking(event: Value, _: &Context) -> Result<Value, Error> {
    let id = event["pathParameters"]["id"].as_str().unwrap_or("0").len();
    Ok(json!({ "statusCode": 200, "headers": {}, "body": id.to_string() }))
}

/// An API Gateway REST event as the runtime hands it over, with the headers the
/// middlewares look at.
pub fn event() -> Value {
    json!({
        "resource": "/bookings/{id}",
        "path": "/bookings/42",
        "httpMethod": "GET",
        "headers": { "Origin": "https://app.example.com", "x-correlation-id": "c-1" },
        "pathParameters": { "id": "42" },
        "requestContext": { "requestId": "r-1", "stage": "prod" },
        "body": null,
        "isBase64Encoded": false,
    })
}

/// The README's chain, the synchronous built-ins as shipped (hooks).
macro_rules! builtins {
    ($wrap:path) => {
        Handler::builder()
            .middleware(InjectLambdaContext)
            .middleware_with(
                CorrelationId,
                CorrelationIdParams::builder()
                    .response_header("x-correlation-id")
                    .build(),
            )
            .middleware_with($wrap(LogEvent), LogEventParams::builder().build())
            .middleware_with($wrap(SecurityHeaders), SecurityHeadersParams::builder().build())
            .middleware_with(
                Cors,
                CorsParams::builder().allow_origins(["https://app.example.com"]).build(),
            )
            .middleware_with($wrap(HttpErrorHandler), HttpErrorHandlerParams::builder().build())
            .handler(get_booking)
            .expect("POWERTOOLS_TRACE_MIDDLEWARES is unset or valid")
    };
}

/// As shipped.
fn shipped<M>(middleware: M) -> M {
    middleware
}

pub fn hooks() -> Builtins<impl Chain<Value, Response = Value>> {
    Builtins(builtins!(shipped))
}

pub fn async_fn() -> Builtins<impl Chain<Value, Response = Value>> {
    Builtins(builtins!(AsAsync))
}

/// A built chain, run on a clone of [`event`] each time (the payload it is given is
/// the previous response, and is dropped).
pub struct Builtins<C>(pub Handler<C>);

impl<C: Chain<Value, Response = Value>> Workload<Value> for Builtins<C> {
    #[inline]
    fn invoke(&mut self, _: Value, ctx: &Context) -> Value {
        let response = poll_once(self.0.invoke_with(event(), ctx)).expect("the chain does not fail");
        debug_assert_eq!(response["headers"]["X-Content-Type-Options"], "nosniff");
        response
    }
}
