use lambda_middleware::*;
use serde_json::{Value, json};

struct A;
impl Middleware<Value, Value> for A {
    type Params = ();
    async fn call<I>(&self, _: &(), event: Value, ctx: &Context, next: Next<'_, I>) -> Result<Proceeded<Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        let mut r = next.run(event).await?;
        r.response_mut()["rid"] = json!(ctx.request_id);
        Ok(r)
    }
}
struct G;
impl<E: Send, R: Send> Middleware<E, R> for G {
    type Params = ();
    async fn call<I>(&self, _: &(), event: E, _ctx: &Context, next: Next<'_, I>) -> Result<Proceeded<R>, Error>
    where
        I: Invoke<E, Response = R>,
    {
        Ok(next.run(event).await?)
    }
}

async fn owned(e: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(e.payload)
}
async fn borrowed(e: Value, _c: &Context) -> Result<Value, Error> {
    Ok(e)
}

fn assert_service<S: tower::Service<LambdaEvent<Value>> + Clone + Send + Sync + 'static>(_: &S)
where
    S::Future: Send + 'static,
{
}

#[tokio::test]
async fn smoke() {
    let h = Handler::builder().middleware(A).middleware(G).handler(owned).unwrap();
    println!("{h:?}");
    assert_eq!(
        h.invoke(LambdaEvent::new(json!({"a":1}), Context::default()))
            .await
            .unwrap(),
        json!({"a":1, "rid": ""})
    );
    let h2 = Handler::builder()
        .middleware(G)
        .traced()
        .middleware(A)
        .handler(borrowed)
        .unwrap();
    assert_service(&h2);
    let ctx = Context::default();
    assert_eq!(h2.invoke_with(json!({}), &ctx).await.unwrap(), json!({"rid": ""}));
    let h3 = Handler::builder()
        .middleware(G)
        .handler(|e: LambdaEvent<u64>| async move { Ok::<_, Error>(e.payload + 1) })
        .unwrap();
    assert_eq!(h3.invoke(LambdaEvent::new(1, Context::default())).await.unwrap(), 2);
    println!("size {}", std::mem::size_of_val(h.chain()));
    let fut = h2.invoke_with(json!({}), &ctx);
    println!("fut size {}", std::mem::size_of_val(&fut));
    drop(fut);
    if false {
        let _ = lambda_runtime::run(h2.clone()).await;
        let _ = lambda_runtime::run_concurrent(h2).await;
    }
}
