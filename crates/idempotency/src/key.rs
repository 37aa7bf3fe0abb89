//! [`EventPart`]: the part of an event that makes the idempotency key (or that payload
//! validation compares), and how it is hashed — as Powertools hashes it.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use lambda_middleware_core::JsonPointer;

type KeyFn<E> = dyn Fn(&E) -> Result<Option<Value>, serde_json::Error> + Send + Sync;

/// The event as JSON: `serde_json::to_value` for the event type, kept by the parts
/// that look into the JSON, so that only they need the event to be `Serialize`.
pub(crate) type ToJson<E> = fn(&E) -> Result<Value, serde_json::Error>;

/// A part of the event: what [`Idempotent`](super::Idempotent) takes the idempotency
/// key from (`key`), or compares between repeats (`payload_validation`).
///
/// | constructor | takes | Powertools |
/// |-------------|-------|------------|
/// | [`pointer("/body/order_id")`](EventPart::pointer) | the value at a JSON pointer | `event_key_jmespath="powertools_json(body).order_id"` |
/// | [`pointers(["/a", "/b"])`](EventPart::pointers) | the values at several, as a JSON array | `event_key_jmespath="[a, b]"` |
/// | `jmespath("powertools_json(body).order_id")` (feature `jmespath`) | what the JMESPath expression finds, Powertools' functions included | the same string |
/// | [`whole_event()`](EventPart::whole_event) | the whole event | no `event_key_jmespath` |
/// | [`from_fn(\|e\| ..)`](EventPart::from_fn) | what a function of the typed event returns | — |
///
/// Pointers look into the event as JSON — a typed event is serialized for them, so it
/// must be `Serialize` — and into strings that hold JSON on the way (API Gateway's and
/// SQS's `body`), as [`JsonPointer`] does everywhere in the crate. A function takes the
/// event as it is, whatever its type.
///
/// The value found is hashed as Powertools hashes it: SHA-256 of its JSON written as
/// Python's `json.dumps(value, sort_keys=True)` writes it, so with
/// `IdempotencyConfig(hash_function="sha256")` a Python function computes the same
/// hash for the same data. Floats are read exactly, as Python reads them (the feature
/// turns on serde_json's `float_roundtrip`). The same data, but not always the same
/// payload:
///
/// - A typed event is hashed as it serializes, not as the payload arrived: given
///   `{"amount": 15}`, a field `amount: f64` hashes as `15.0`, and a renamed, skipped
///   or defaulted field as the type writes it, while Python hashes the payload as it
///   came. To share keys with a Python function, take the event as
///   `serde_json::Value` (or key it by fields whose JSON does not change on the way
///   through the type, such as strings).
/// - An integer beyond 64 bits (below `i64::MIN` or above `u64::MAX`) is read as a
///   float, and hashes as one (`18446744073709551616` as `1.8446744073709552e+19`),
///   where Python keeps the integer: another key.
///
/// A part is *missing* — no idempotency key — when the pointer finds nothing, `null`,
/// `""`, or an array or object holding only `null`s (`[]` and `{}` included), when
/// every pointer of a list finds nothing or `null`, or when the function returns
/// `None` (Powertools' rule; `0` and `false` are keys).
///
/// ```
/// use lambda_middleware::middlewares::idempotency::EventPart;
/// use serde::Serialize;
///
/// #[derive(Serialize)]
/// struct Payment { order_id: String, amount_cents: u64 }
///
/// let by_pointer: EventPart<Payment> = EventPart::pointer("/order_id");
/// let by_fields: EventPart<Payment> = EventPart::pointers(["/order_id", "/amount_cents"]);
/// let by_function = EventPart::from_fn(|payment: &Payment| Some(payment.order_id.clone()));
/// assert_eq!(by_pointer.to_string(), "the pointer /order_id");
/// assert_eq!(by_fields.to_string(), "the pointers /order_id, /amount_cents");
/// ```
pub struct EventPart<E> {
    kind: Kind<E>,
}

enum Kind<E> {
    WholeEvent(ToJson<E>),
    Pointer(JsonPointer, ToJson<E>),
    Pointers(Vec<JsonPointer>, ToJson<E>),
    #[cfg(feature = "jmespath")]
    JmesPath(lambda_middleware_jmespath::JmesPath, ToJson<E>),
    Function(Arc<KeyFn<E>>),
}

fn to_json<E: Serialize>(event: &E) -> Result<Value, serde_json::Error> {
    serde_json::to_value(event)
}

impl<E> EventPart<E> {
    /// The value at `pointer` (see [`JsonPointer`] for the syntax).
    ///
    /// ```
    /// # use lambda_middleware::middlewares::idempotency::EventPart;
    /// let key: EventPart<serde_json::Value> = EventPart::pointer("/body/order_id");
    /// ```
    pub fn pointer(pointer: impl Into<JsonPointer>) -> Self
    where
        E: Serialize,
    {
        EventPart {
            kind: Kind::Pointer(pointer.into(), to_json::<E>),
        }
    }

    /// The values at `pointers`, as one JSON array (`null` where a pointer finds
    /// nothing). An empty list is refused when the handler is built.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::idempotency::EventPart;
    /// let key: EventPart<serde_json::Value> = EventPart::pointers(["/user", "/product_id"]);
    /// ```
    pub fn pointers<P: Into<JsonPointer>>(pointers: impl IntoIterator<Item = P>) -> Self
    where
        E: Serialize,
    {
        EventPart {
            kind: Kind::Pointers(pointers.into_iter().map(Into::into).collect(), to_json::<E>),
        }
    }

    /// What a JMESPath expression finds — the very string of Powertools'
    /// `event_key_jmespath` (or `payload_validation_jmespath`), with its functions
    /// `powertools_json`, `powertools_base64` and `powertools_base64_gzip` — so that a
    /// Python function's configuration ports verbatim and keys the same records.
    /// Feature `jmespath`.
    ///
    /// # Errors
    ///
    /// [`JmesPathError`](lambda_middleware_jmespath::JmesPathError) when `expression` is
    /// not a JMESPath expression. A search that fails on an event (`powertools_json` of
    /// a body that is not JSON) fails that invocation.
    ///
    /// ```
    /// use lambda_middleware::middlewares::idempotency::EventPart;
    ///
    /// let key: EventPart<serde_json::Value> = EventPart::jmespath("powertools_json(body).order_id")?;
    /// assert_eq!(key.to_string(), "the JMESPath expression powertools_json(body).order_id");
    /// assert!(EventPart::<serde_json::Value>::jmespath("body.[").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "jmespath")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jmespath")))]
    pub fn jmespath(expression: &str) -> Result<Self, lambda_middleware_jmespath::JmesPathError>
    where
        E: Serialize,
    {
        Ok(EventPart {
            kind: Kind::JmesPath(lambda_middleware_jmespath::JmesPath::new(expression)?, to_json::<E>),
        })
    }

    /// The whole event. Events that carry a request id or a timestamp of their own
    /// (API Gateway's `requestContext`) are never repeated whole: take the fields that
    /// identify the operation instead.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::idempotency::EventPart;
    /// let key: EventPart<serde_json::Value> = EventPart::whole_event();
    /// ```
    pub fn whole_event() -> Self
    where
        E: Serialize,
    {
        EventPart {
            kind: Kind::WholeEvent(to_json::<E>),
        }
    }

    /// What `f` returns for the typed event, serialized to JSON; `None` is a missing
    /// key. The event need not be `Serialize`.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::idempotency::EventPart;
    /// # use aws_lambda_events::apigw::ApiGatewayProxyRequest;
    /// // The client's own idempotency key, from a header in any case.
    /// let key = EventPart::from_fn(|request: &ApiGatewayProxyRequest| {
    ///     request.headers.get("idempotency-key").and_then(|value| value.to_str().ok()).map(str::to_owned)
    /// });
    /// ```
    pub fn from_fn<F, K>(f: F) -> Self
    where
        F: Fn(&E) -> Option<K> + Send + Sync + 'static,
        K: Serialize,
    {
        EventPart {
            kind: Kind::Function(Arc::new(move |event: &E| {
                f(event).map(serde_json::to_value).transpose()
            })),
        }
    }

    /// How to see the event as JSON, when this part looks into it.
    pub(crate) fn to_json(&self) -> Option<ToJson<E>> {
        match &self.kind {
            Kind::WholeEvent(to_json) | Kind::Pointer(_, to_json) | Kind::Pointers(_, to_json) => Some(*to_json),
            #[cfg(feature = "jmespath")]
            Kind::JmesPath(_, to_json) => Some(*to_json),
            Kind::Function(_) => None,
        }
    }

    /// An empty list of pointers: nothing can ever be found.
    pub(crate) fn is_empty_list(&self) -> bool {
        matches!(&self.kind, Kind::Pointers(pointers, _) if pointers.is_empty())
    }

    /// The part of `event` (given as JSON in `json` when [`to_json`](Self::to_json) is
    /// some), or `None` when it is missing (see the type's docs).
    pub(crate) fn extract(&self, event: &E, json: Option<&Value>) -> Result<Option<Value>, serde_json::Error> {
        Ok(self.find(event, json)?.filter(|value| !is_missing(value)))
    }

    /// The part of `event` as it is hashed for payload validation: a missing part is
    /// `null` (Powertools hashes whatever its expression finds, `None` included).
    pub(crate) fn extract_for_validation(&self, event: &E, json: Option<&Value>) -> Result<Value, serde_json::Error> {
        Ok(self.find(event, json)?.unwrap_or(Value::Null))
    }

    fn find(&self, event: &E, json: Option<&Value>) -> Result<Option<Value>, serde_json::Error> {
        let found = |pointer: &JsonPointer, json: &Value| pointer.find(json).map(|found| found.into_owned());
        Ok(match (&self.kind, json) {
            (Kind::Function(f), _) => f(event)?,
            (Kind::WholeEvent(_), Some(json)) => Some(json.clone()),
            (Kind::Pointer(pointer, _), Some(json)) => found(pointer, json),
            (Kind::Pointers(pointers, _), Some(json)) => Some(Value::Array(
                pointers
                    .iter()
                    .map(|pointer| found(pointer, json).unwrap_or(Value::Null))
                    .collect(),
            )),
            #[cfg(feature = "jmespath")]
            (Kind::JmesPath(expression, _), Some(json)) => Some(
                expression
                    .search(json)
                    .map_err(<serde_json::Error as serde::de::Error>::custom)?,
            ),
            (_, None) => None,
        })
    }
}

/// Powertools' `is_missing_idempotency_key`: a list is missing when all its items are
/// `null`, an object when all its values are (so when either is empty too), a number
/// or a bool never is, and anything else when it is falsy (`null`, `""`).
fn is_missing(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.iter().all(Value::is_null),
        Value::Object(map) => map.values().all(Value::is_null),
        Value::Number(_) | Value::Bool(_) => false,
        Value::String(text) => text.is_empty(),
        Value::Null => true,
    }
}

impl<E> Clone for EventPart<E> {
    fn clone(&self) -> Self {
        let kind = match &self.kind {
            Kind::WholeEvent(to_json) => Kind::WholeEvent(*to_json),
            Kind::Pointer(pointer, to_json) => Kind::Pointer(pointer.clone(), *to_json),
            Kind::Pointers(pointers, to_json) => Kind::Pointers(pointers.clone(), *to_json),
            #[cfg(feature = "jmespath")]
            Kind::JmesPath(expression, to_json) => Kind::JmesPath(expression.clone(), *to_json),
            Kind::Function(f) => Kind::Function(Arc::clone(f)),
        };
        EventPart { kind }
    }
}

/// Says which part, for messages: `the pointer /body/order_id`.
impl<E> fmt::Display for EventPart<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::WholeEvent(_) => f.write_str("the whole event"),
            Kind::Pointer(pointer, _) => write!(f, "the pointer {pointer}"),
            Kind::Pointers(pointers, _) => {
                f.write_str("the pointers ")?;
                for (index, pointer) in pointers.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{pointer}")?;
                }
                Ok(())
            }
            #[cfg(feature = "jmespath")]
            Kind::JmesPath(expression, _) => write!(f, "the JMESPath expression {expression}"),
            Kind::Function(_) => f.write_str("the key function"),
        }
    }
}

impl<E> fmt::Debug for EventPart<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EventPart").field(&format_args!("{self}")).finish()
    }
}

/// The hex SHA-256 of `value` written as Python's `json.dumps(value, sort_keys=True)`
/// writes it.
pub(crate) fn hash(value: &Value) -> String {
    let mut text = String::new();
    write_python_json(value, &mut text);
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// Python's `json.dumps(value, sort_keys=True)`: `", "` and `": "` as separators, keys
/// sorted by code point, every character outside printable ASCII escaped
/// (`ensure_ascii`), floats as `repr` writes them.
pub(crate) fn write_python_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => {
            if let Some(unsigned) = number.as_u64() {
                let _ = write!(out, "{unsigned}");
            } else if let Some(signed) = number.as_i64() {
                let _ = write!(out, "{signed}");
            } else if let Some(float) = number.as_f64() {
                write_python_float(float, out);
            }
        }
        Value::String(text) => write_python_string(text, out),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_python_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Sorted here, whatever order the map keeps (`preserve_order` may be on).
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_python_string(key, out);
                out.push_str(": ");
                write_python_json(item, out);
            }
            out.push('}');
        }
    }
}

fn write_python_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// `repr(float)`: the shortest digits that read back as the same float (Rust's `{:e}`
/// finds the same ones), in fixed notation when the decimal point falls between 4
/// places before the first digit and 16 after it, otherwise as `d.ddde±XX`.
fn write_python_float(value: f64, out: &mut String) {
    if value.is_nan() {
        out.push_str("NaN");
        return;
    }
    if value.is_infinite() {
        out.push_str(if value > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    if value == 0.0 {
        out.push_str(if value.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if mantissa.starts_with('-') {
        out.push('-');
    }
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    // The value is 0.DIGITS × 10^point.
    let point = exponent + 1;
    if !(-4 < point && point <= 16) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exponent.unsigned_abs());
    } else if point <= 0 {
        out.push_str("0.");
        for _ in 0..-point {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let point = point as usize;
        if point >= digits.len() {
            out.push_str(&digits);
            for _ in digits.len()..point {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn python(value: &Value) -> String {
        let mut out = String::new();
        write_python_json(value, &mut out);
        out
    }

    fn float(value: f64) -> String {
        let mut out = String::new();
        write_python_float(value, &mut out);
        out
    }

    #[test]
    fn json_as_python_writes_it() {
        let value = json!({ "b": [1, -2, true, null], "a": { "z": "é\"\\\n\u{1}\u{7f}😀", "y": 1.5 }, "": {} });
        assert_eq!(
            python(&value),
            r#"{"": {}, "a": {"y": 1.5, "z": "\u00e9\"\\\n\u0001\u007f\ud83d\ude00"}, "b": [1, -2, true, null]}"#
        );
        assert_eq!(python(&json!([])), "[]");
        assert_eq!(python(&json!("")), "\"\"");
    }

    #[test]
    fn floats_as_python_repr_writes_them() {
        let cases = [
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (150.25, "150.25"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.000123, "0.000123"),
            (1.5e-7, "1.5e-07"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.2345e16, "1.2345e+16"),
            (123456789012345.6, "123456789012345.6"),
            (1e300, "1e+300"),
            (-2.5e-300, "-2.5e-300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
        ];
        for (value, expected) in cases {
            assert_eq!(float(value), expected, "{value:e}");
        }
    }

    /// Computed with Python 3.11:
    /// `hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()`.
    #[test]
    fn hashes_match_powertools_with_sha256() {
        assert_eq!(
            hash(&json!("8f1f1710")),
            "6a6d1361d3d6dbc49c747ba968629ab9dbf31be72aeee2e06d06fa5d3b48efb4"
        );
        assert_eq!(
            hash(&json!({ "user": "ada", "amount": 150.25, "items": [1, 2], "note": "café" })),
            "7846ae903356eb7141d6826e39c650eed6e92819105606fefdbad093b498ebdc"
        );
    }

    /// The differences from Python the type's docs name, as they are.
    #[test]
    fn typed_events_and_integers_beyond_64_bits_hash_as_documented() {
        // Python: sha256(json.dumps(15)) and sha256(json.dumps(15.0)).
        let python_15 = "e629fa6598d732768f7c726b4b621285f9c3b85303900aa912017db7617d8bdb";
        let python_15_0 = "c72ae9676454d7cc0014583a9d0a2e28553d5c62f087c7562b5307ebd1cc84c8";
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Payment {
            amount: f64,
        }
        let typed: Payment = serde_json::from_str(r#"{"amount": 15}"#).unwrap();
        let raw: Value = serde_json::from_str(r#"{"amount": 15}"#).unwrap();
        // The payload as it came hashes as Python's; the typed event as its `f64` writes.
        assert_eq!(hash(&raw["amount"]), python_15);
        assert_eq!(hash(&serde_json::to_value(&typed).unwrap()["amount"]), python_15_0);

        // Python: json.dumps(2**64) is "18446744073709551616"; here it reads as a float,
        // written as Python writes `float(2**64)`.
        let big: Value = serde_json::from_str("18446744073709551616").unwrap();
        assert_eq!(python(&big), "1.8446744073709552e+19");
        assert_eq!(
            hash(&big),
            "7e7e9a94b89d2f5e1a317a4896bacf04ce3e6fb1cf2417fcacbd840113196b2f"
        );
    }

    #[test]
    fn a_part_is_send_and_sync_whatever_the_event() {
        // `E` is only an argument of the key function.
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<EventPart<std::rc::Rc<()>>>();
    }

    #[test]
    fn missing_parts_follow_powertools() {
        // Each as aws-lambda-powertools 3.37.0's `is_missing_idempotency_key` says: an
        // object is missing when all its values are `null`, as a JMESPath multi-select
        // hash of fields the event does not have is.
        for missing in [
            json!(null),
            json!(""),
            json!([]),
            json!({}),
            json!([null, null]),
            json!({ "a": null }),
            json!({ "a": null, "b": null }),
        ] {
            assert!(is_missing(&missing), "{missing}");
        }
        for present in [
            json!(0),
            json!(false),
            json!("x"),
            json!([null, 1]),
            json!({ "a": null, "b": 1 }),
        ] {
            assert!(!is_missing(&present), "{present}");
        }
    }

    #[test]
    fn parts_are_found_in_json_and_in_json_strings() {
        let event = json!({ "body": "{\"order\":{\"id\":7}}", "user": "ada" });
        let part = |part: EventPart<Value>| part.extract(&event, Some(&event)).unwrap();
        assert_eq!(part(EventPart::pointer("/body/order/id")), Some(json!(7)));
        assert_eq!(part(EventPart::pointer("/nothing")), None);
        assert_eq!(
            part(EventPart::pointers(["/user", "/nothing"])),
            Some(json!(["ada", null]))
        );
        assert_eq!(part(EventPart::pointers(["/a", "/b"])), None);
        assert_eq!(part(EventPart::whole_event()), Some(event.clone()));
        assert_eq!(
            part(EventPart::from_fn(|e: &Value| e["user"].as_str().map(str::to_owned))),
            Some(json!("ada"))
        );
        assert_eq!(part(EventPart::from_fn(|_: &Value| Some(""))), None);
        let validation = EventPart::<Value>::pointer("/nothing").extract_for_validation(&event, Some(&event));
        assert_eq!(validation.unwrap(), Value::Null);
    }
}
