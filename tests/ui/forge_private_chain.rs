// A proof made by another chain cannot be returned either: here a middleware builds a
// private chain inside `call`, whose inner middleware answers early and hands the proof
// out through a lock. The inner proof is branded with the inner call, which is not the
// outer one, so neither handing it out nor returning it compiles.

use std::sync::Mutex;

use lambda_middleware::{Context, Error, Handler, Invoke, Middleware, Next, Proceeded};
use serde_json::{Value, json};

struct Leak<'k> {
    out: &'k Mutex<Option<Proceeded<'k, Value>>>,
}

impl<'k> Middleware<Value, Value> for Leak<'k> {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), _: Value, _: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        *self.out.lock().unwrap() = Some(next.respond_early(json!("forged")));
        Err("handed out".into())
    }
}

async fn echo(event: Value, _: &Context) -> Result<Value, Error> {
    Ok(event)
}

struct Forger;

impl Middleware<Value, Value> for Forger {
    type Params = ();

    async fn call<'n, I>(&self, _: &(), event: Value, ctx: &Context, _next: Next<'n, I>) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        let out = Mutex::new(None);
        let private = Handler::builder().middleware(Leak { out: &out }).handler(echo)?;
        let _ = private.invoke_with(event, ctx).await;
        let forged = out.into_inner().unwrap().ok_or("nothing handed out")?;
        Ok(forged)
    }
}

fn main() {}
