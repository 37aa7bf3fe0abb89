//! Idempotency keys from Powertools' JMESPath expressions: the string a Python
//! function gives `event_key_jmespath` keys the same record in Rust. The expected keys
//! below were computed by aws-lambda-powertools 3.37.0; with the Python tools at hand
//! (`support::tools`), `tests/powertools/idempotency_key.py` recomputes them, and more,
//! with the pinned package.
#![cfg(all(feature = "idempotency", feature = "jmespath", feature = "sqs"))]

mod support;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use aws_lambda_events::sqs::SqsEvent;
use lambda_middleware::local::LocalFunction;
use lambda_middleware::middlewares::SqsBatch;
use lambda_middleware::middlewares::idempotency::{EventPart, IdempotencyParams, Idempotent, MemoryStore};
use lambda_middleware::{Context, Error, Handler};
use serde_json::{Value, json};

const FUNCTION: &str = "payments";

fn key(expression: &str, event: &Value) -> Option<String> {
    let params: IdempotencyParams<Value> = IdempotencyParams::builder()
        .store(MemoryStore::new())
        .key(EventPart::jmespath(expression).unwrap())
        .scope("app.handler")
        .build();
    params.key_for(event, &LocalFunction::new(FUNCTION).context()).unwrap()
}

fn sqs_record() -> Value {
    json!({ "messageId": "m-1", "body": "{\"order_id\": \"o-1\", \"amount\": 15}" })
}

/// The cases both languages key, with what Powertools 3.37.0 answered.
fn cases() -> Vec<(&'static str, Value, Option<&'static str>)> {
    vec![
        (
            "powertools_json(body).order_id",
            sqs_record(),
            Some("payments.app.handler#00d5c8b71f851bbe47626a189b20fb19c11753e244bb658095c370ba3798f85c"),
        ),
        (
            "[powertools_json(body).order_id, powertools_json(body).amount]",
            sqs_record(),
            Some("payments.app.handler#075951d35fabe7692d0ee34ee4b34cf071e28fb00946031063179f6b95599290"),
        ),
        (
            "powertools_json(powertools_base64(data)).id",
            json!({ "data": "eyJpZCI6N30=" }),
            Some("payments.app.handler#7902699be42c8a8e46fbbb4501726517e86b22c56a189f7625a6da49081b2451"),
        ),
        ("powertools_json(body).missing", sqs_record(), None),
    ]
}

#[test]
fn a_jmespath_key_is_the_key_powertools_computes() {
    for (expression, event, expected) in cases() {
        assert_eq!(key(expression, &event).as_deref(), expected, "{expression}");
    }
}

#[test]
fn the_same_expression_through_pointers_and_jmespath_keys_the_same_record() {
    let by_pointer: IdempotencyParams<Value> = IdempotencyParams::builder()
        .store(MemoryStore::new())
        .key(EventPart::pointer("/body/order_id"))
        .scope("app.handler")
        .build();
    let context = LocalFunction::new(FUNCTION).context();
    assert_eq!(
        by_pointer.key_for(&sqs_record(), &context).unwrap(),
        key("powertools_json(body).order_id", &sqs_record())
    );
}

/// Powertools itself, on the cases above and on others generated here.
#[test]
fn powertools_computes_the_same_keys() {
    let python = match support::tools::python() {
        Ok(tools) => &tools.python,
        Err(why) => {
            support::tools::skip("the Powertools idempotency key comparison", &why);
            return;
        }
    };
    support::tools::ran("Powertools (Python)", "the JMESPath idempotency key comparison");
    let mut cases: Vec<(String, Value)> = cases()
        .into_iter()
        .map(|(expression, event, _)| (expression.to_owned(), event))
        .collect();
    for n in 0..20_u32 {
        let body = json!({ "order_id": format!("o-{n}"), "amount": n * 7 + 1, "items": [n, "x", n % 2 == 0], "nested": { "b": 1.5, "a": null } });
        let event = json!({ "messageId": format!("m-{n}"), "body": body.to_string() });
        cases.push(("powertools_json(body)".to_owned(), event.clone()));
        cases.push(("powertools_json(body).[order_id, items]".to_owned(), event.clone()));
        cases.push(("powertools_json(body).nested".to_owned(), event));
    }
    let input: Vec<Value> = cases
        .iter()
        .map(|(expression, event)| json!({ "expression": expression, "event": event }))
        .collect();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/powertools/idempotency_key.py");
    let mut child = Command::new(python)
        .arg(&script)
        .env("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Value::Array(input).to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let keys: Vec<Option<String>> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(keys.len(), cases.len());
    for ((expression, event), python_key) in cases.iter().zip(keys) {
        assert_eq!(key(expression, event), python_key, "{expression} on {event}");
    }
}

/// Per record: an SQS batch whose record chain is keyed by Powertools' expression runs
/// each order once, whatever the message id of its repeat.
#[tokio::test]
async fn records_keyed_by_jmespath_run_once_per_order() {
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = runs.clone();
    let params = IdempotencyParams::builder()
        .store(MemoryStore::new())
        .key(EventPart::jmespath("powertools_json(body).order_id").unwrap())
        .build();
    let records = Handler::builder()
        .middleware_with(Idempotent, params)
        .handler(move |_: Value, _: &Context| {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok::<_, Error>(())
            }
        })
        .unwrap();
    let batch = SqsBatch::new(records);
    let event: SqsEvent = serde_json::from_value(json!({ "Records": [
        { "messageId": "m-1", "body": "{\"order_id\": \"o-1\"}" },
        { "messageId": "m-2", "body": "{\"order_id\": \"o-2\"}" },
        { "messageId": "m-3", "body": "{\"order_id\": \"o-1\"}" },
    ]}))
    .unwrap();
    let response = LocalFunction::default().invoke(&batch, event).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 2);
}
