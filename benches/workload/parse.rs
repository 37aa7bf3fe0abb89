//! What a `Parse` layer costs: the same order parsed from a JSON event into a struct,
//! once by `serde_json::from_value` written inline in the handler and once by a
//! `Parse` transform in front of a handler that takes the struct.

use lambda_middleware::chain::Chain;
use lambda_middleware::middlewares::Parse;
use lambda_middleware::{Context, Error, Handler};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Workload, poll_once};

#[derive(Deserialize)]
pub struct Order {
    pub id: u64,
    pub customer: String,
    pub quantity: u32,
}

/// The event both parse.
pub fn event() -> Value {
    json!({ "id": 42, "customer": "c-1234", "quantity": 2 })
}

fn answer(order: &Order) -> Value {
    Value::from(order.id + u64::from(order.quantity) + order.customer.len() as u64)
}

async fn inline(event: Value, _: &Context) -> Result<Value, Error> {
    let order: Order = serde_json::from_value(event)?;
    Ok(answer(&order))
}

async fn typed(order: Order, _: &Context) -> Result<Value, Error> {
    Ok(answer(&order))
}

pub fn parse_inline() -> Parsing<impl Chain<Value, Response = Value>> {
    Parsing(Handler::builder().handler(inline).expect("valid environment"))
}

pub fn parse_layer() -> Parsing<impl Chain<Value, Response = Value>> {
    Parsing(
        Handler::builder()
            .transform(Parse::<Order>::new())
            .handler(typed)
            .expect("valid environment"),
    )
}

/// A chain run on a fresh copy of [`event`] each time.
pub struct Parsing<C>(pub Handler<C>);

impl<C: Chain<Value, Response = Value>> Workload<Value> for Parsing<C> {
    #[inline]
    fn invoke(&mut self, _: Value, ctx: &Context) -> Value {
        poll_once(self.0.invoke_with(event(), ctx)).expect("the order parses")
    }
}
