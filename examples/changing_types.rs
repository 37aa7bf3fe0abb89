//! Types that change on the way: the function takes API Gateway events as JSON, a
//! bearer-token check hands the handler the verified claims, `Parse` hands it the order
//! from the body, and `JsonResponse` turns the receipt it returns into the HTTP
//! response. A missing or unknown token is answered 401 before the body is read; a body
//! that is not an order is answered 400 by `HttpErrorHandler`.
//!
//! ```sh
//! cargo run --example changing_types
//! ```
//!
//! Under `cargo lambda watch` (`AWS_LAMBDA_RUNTIME_API` set) the same chain runs under
//! `lambda_runtime`; `examples/events/changing_types.*.json` are the other cases.

use std::collections::HashMap;

use lambda_middleware::middlewares::{
    ApiGatewayBody, BuildHttpResponse, Envelope, HttpErrorHandler, HttpErrorHandlerParams, HttpRequest, JsonResponse,
    JsonResponseParams,
};
use lambda_middleware::{Context, Error, Handler, Invoke, Next, Proceeded, Transform, With};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use typed_builder::TypedBuilder;

/// Who the caller is, as the token says.
#[derive(Debug, Clone)]
struct Claims {
    subject: String,
    scopes: Vec<String>,
}

/// Checks the `Authorization: Bearer <token>` header and hands the claims inwards.
struct BearerAuth;

#[derive(TypedBuilder)]
struct BearerAuthParams {
    /// The tokens this function accepts. A real one would verify a signed JWT here;
    /// what the handler receives would be the same.
    tokens: HashMap<String, Claims>,
}

impl<E, R> Transform<With<Claims, E>, R> for BearerAuth
where
    E: HttpRequest + Send,
    R: BuildHttpResponse + Send,
{
    type Event = E;
    type Response = R;
    type Params = BearerAuthParams;

    fn name(&self) -> &'static str {
        "bearer_auth"
    }

    async fn call<'n, I>(
        &self,
        params: &BearerAuthParams,
        event: E,
        _: &Context,
        next: Next<'n, I, R>,
    ) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<With<Claims, E>, Response = R>,
    {
        let token = event
            .header("authorization")
            .and_then(|value| value.strip_prefix("Bearer "));
        let Some(claims) = token.and_then(|token| params.tokens.get(token)) else {
            let mut unauthorized = R::with_status(401, Some(json!({ "message": "unauthorized" }).to_string()));
            unauthorized.set_header("WWW-Authenticate", "Bearer");
            return Ok(next.respond_early(unauthorized));
        };
        Ok(next.run(With::new(claims.clone(), event)).await?)
    }
}

#[derive(Deserialize)]
struct Order {
    sku: String,
    quantity: u32,
}

#[derive(Serialize)]
struct Receipt {
    customer: String,
    sku: String,
    total_cents: u64,
}

/// The handler's signature says what it gets: the claims, and the parsed order.
async fn place_order(order: With<Claims, Order>, _: &Context) -> Result<Receipt, Error> {
    let With {
        data: claims,
        event: order,
    } = order;
    if !claims.scopes.iter().any(|scope| scope == "orders:write") {
        return Err(lambda_middleware::middlewares::HttpError::new(403, "orders:write is needed").into());
    }
    Ok(Receipt {
        customer: claims.subject,
        sku: order.sku,
        total_cents: 1250 * u64::from(order.quantity),
    })
}

/// The body parsed as `Parse` does (the same envelope), keeping the claims beside it:
/// from `With<Claims, Value>` to `With<Claims, Order>`. (`Parse` itself is for an event
/// whose JSON is all the handler needs.)
struct ParseBody;

impl<R: Send> Transform<With<Claims, Order>, R> for ParseBody {
    type Event = With<Claims, Value>;
    type Response = R;
    type Params = ();

    fn name(&self) -> &'static str {
        "parse_body"
    }

    async fn call<'n, I>(
        &self,
        _: &(),
        event: With<Claims, Value>,
        _: &Context,
        next: Next<'n, I, R>,
    ) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<With<Claims, Order>, Response = R>,
    {
        let order = ApiGatewayBody.open::<Order>(event.event)?;
        Ok(next.run(With::new(event.data, order)).await?)
    }
}

fn tokens() -> HashMap<String, Claims> {
    let claims = |subject: &str, scopes: &[&str]| Claims {
        subject: subject.to_owned(),
        scopes: scopes.iter().map(|scope| scope.to_string()).collect(),
    };
    HashMap::from([
        ("t-ada".to_owned(), claims("ada", &["orders:read", "orders:write"])),
        ("t-bob".to_owned(), claims("bob", &["orders:read"])),
    ])
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Outside in: errors become HTTP answers; the token is checked; the body is parsed;
    // the receipt is serialised (inside the error handler, so its errors are answered too).
    let handler = Handler::builder()
        .middleware_with(HttpErrorHandler, HttpErrorHandlerParams::builder().build())
        .transform_with(BearerAuth, BearerAuthParams::builder().tokens(tokens()).build())
        .transform_with(
            JsonResponse::<Value>::new(),
            JsonResponseParams::builder().status(201).build(),
        )
        .transform(ParseBody)
        .handler(place_order)?;

    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        // Logs as Lambda\'s logging controls ask: text or JSON, and the level.
        lambda_middleware::observe::init()?;
        return lambda_runtime::run(handler).await;
    }
    let event: Value = serde_json::from_str(include_str!("events/changing_types.json"))?;
    let response = handler.invoke_with(event, &Context::default()).await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    Ok(())
}
