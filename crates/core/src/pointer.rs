//! JSON pointers (RFC 6901) as the built-in middlewares use them: parsed once, with a
//! `*` segment for "every element", descending into strings that hold JSON (API
//! Gateway's `body`), and a redacting JSON writer.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};

use serde_json::Value;

/// A JSON pointer (RFC 6901), parsed once: `/detail/guest/email` →
/// `["detail", "guest", "email"]`.
///
/// The built-in middlewares take pointers as strings and parse them into this when
/// their params are built. The syntax:
///
/// - `~1` is a `/` and `~0` a `~` inside a segment; `""` is the whole document;
/// - the leading `/` may be left out: `detail/guest/email` is `/detail/guest/email`;
/// - a number is an array index (`/Records/0/body`), written without leading zeros;
/// - `*` stands for every key of an object and every element of an array
///   (`/Records/*/body`); where one value is looked up, the first match wins;
/// - a string on the way that holds a JSON object or array — API Gateway's `body` — is
///   looked into: `/body/customer/email`.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::JsonPointer;
///
/// let pointer = JsonPointer::new("/detail/a~1b/0");
/// assert_eq!(pointer.segments(), ["detail", "a/b", "0"]);
/// assert_eq!(JsonPointer::new("detail/guest"), JsonPointer::new("/detail/guest"));
/// assert_eq!(pointer.to_string(), "/detail/a~1b/0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JsonPointer {
    segments: Vec<String>,
}

impl JsonPointer {
    /// Parses `text`. Every string is a pointer (see above), so this cannot fail.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::JsonPointer;
    ///
    /// let whole_document = JsonPointer::new("");
    /// assert!(whole_document.segments().is_empty());
    /// ```
    pub fn new(text: &str) -> Self {
        if text.is_empty() {
            return JsonPointer { segments: Vec::new() };
        }
        let text = text.strip_prefix('/').unwrap_or(text);
        let segments = text
            .split('/')
            .map(|segment| segment.replace("~1", "/").replace("~0", "~"))
            .collect();
        JsonPointer { segments }
    }

    /// The segments, unescaped.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::JsonPointer;
    ///
    /// assert_eq!(JsonPointer::new("/guests/*/email").segments(), ["guests", "*", "email"]);
    /// ```
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The value at this pointer, if there is one. A string met before the end that holds a JSON object
    /// or array is parsed and the rest of the pointer looked up inside it (so `/body/id`
    /// finds `id` in API Gateway's JSON `body` string). `*` takes the first element that
    /// has a match.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::JsonPointer;
    /// use serde_json::json;
    ///
    /// let event = json!({ "body": "{\"order\":{\"id\":7}}", "items": [{ "sku": "a" }] });
    /// assert_eq!(JsonPointer::new("/body/order/id").find(&event).unwrap().as_ref(), &json!(7));
    /// assert_eq!(JsonPointer::new("/items/0/sku").find(&event).unwrap().as_ref(), &json!("a"));
    /// assert!(JsonPointer::new("/items/1").find(&event).is_none());
    /// ```
    pub fn find<'a>(&self, value: &'a Value) -> Option<Cow<'a, Value>> {
        find_in(value, &self.segments)
    }
}

impl fmt::Display for JsonPointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for segment in &self.segments {
            write!(f, "/{}", segment.replace('~', "~0").replace('/', "~1"))?;
        }
        Ok(())
    }
}

impl From<&str> for JsonPointer {
    fn from(text: &str) -> Self {
        JsonPointer::new(text)
    }
}

impl From<String> for JsonPointer {
    fn from(text: String) -> Self {
        JsonPointer::new(&text)
    }
}

fn find_in<'a>(value: &'a Value, segments: &[String]) -> Option<Cow<'a, Value>> {
    let Some((first, rest)) = segments.split_first() else {
        return Some(Cow::Borrowed(value));
    };
    match value {
        Value::Object(map) if first == "*" => map.values().find_map(|child| find_in(child, rest)),
        Value::Object(map) => find_in(map.get(first.as_str())?, rest),
        Value::Array(items) if first == "*" => items.iter().find_map(|child| find_in(child, rest)),
        Value::Array(items) => find_in(items.get(array_index(first)?)?, rest),
        Value::String(text) => {
            let inner = parse_structured(text)?;
            find_in(&inner, segments).map(|found| Cow::Owned(found.into_owned()))
        }
        _ => None,
    }
}

/// An array index as RFC 6901 spells it: digits, no leading zero.
fn array_index(segment: &str) -> Option<usize> {
    if segment.is_empty()
        || !segment.bytes().all(|b| b.is_ascii_digit())
        || (segment.len() > 1 && segment.starts_with('0'))
    {
        return None;
    }
    segment.parse().ok()
}

/// A string's content as JSON, when it is an object or an array.
fn parse_structured(text: &str) -> Option<Value> {
    let trimmed = text.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return None;
    }
    serde_json::from_str(text)
        .ok()
        .filter(|v: &Value| v.is_object() || v.is_array())
}

/// Writes `value` as compact JSON to `out`, with the value at every pointer in `redact`
/// replaced by the string `mask`: what `LogEvent` logs.
///
/// Nothing is copied: the walk follows the pointers down the tree and writes everything
/// else with `serde_json` directly. A string that holds JSON and lies on a pointer's way
/// is parsed, redacted, and written back as a string. Header names (under `headers` and
/// `multiValueHeaders`) match without regard to case.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::JsonPointer;
/// use lambda_middleware::support::write_redacted;
/// use serde_json::json;
///
/// let event = json!({ "card": { "number": "4111", "exp": "12/29" }, "body": "{\"pin\":1234}" });
/// let mut out = Vec::new();
/// let redact = [JsonPointer::new("/card/number"), JsonPointer::new("/body/pin")];
/// write_redacted(&mut out, &event, &redact, "***").unwrap();
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     r#"{"body":"{\"pin\":\"***\"}","card":{"exp":"12/29","number":"***"}}"#
/// );
/// ```
pub fn write_redacted<'p, W: Write>(
    out: &mut W,
    value: &Value,
    redact: impl IntoIterator<Item = &'p JsonPointer>,
    mask: &str,
) -> io::Result<()> {
    let active: Vec<&[String]> = redact.into_iter().map(|pointer| pointer.segments.as_slice()).collect();
    write_node(out, value, &active, mask, false)
}

/// The keys under which HTTP events keep their headers, whose names are matched without
/// regard to case: HTTP APIs and function URLs send them in lower case, REST APIs as
/// the client spelled them.
const HEADER_KEYS: [&str; 2] = ["headers", "multiValueHeaders"];

fn write_node<W: Write>(out: &mut W, value: &Value, active: &[&[String]], mask: &str, headers: bool) -> io::Result<()> {
    if active.is_empty() {
        return serde_json::to_writer(out, value).map_err(io::Error::from);
    }
    if active.iter().any(|rest| rest.is_empty()) {
        return serde_json::to_writer(out, mask).map_err(io::Error::from);
    }
    match value {
        Value::Object(map) => {
            let base64_body = map.get("isBase64Encoded").and_then(Value::as_bool) == Some(true);
            out.write_all(b"{")?;
            for (index, (key, child)) in map.iter().enumerate() {
                if index > 0 {
                    out.write_all(b",")?;
                }
                serde_json::to_writer(&mut *out, key)?;
                out.write_all(b":")?;
                let below = descend(active, |segment| {
                    segment == "*" || segment == key || (headers && segment.eq_ignore_ascii_case(key))
                });
                match child {
                    Value::String(body) if base64_body && key == "body" && !below.is_empty() => {
                        write_base64_body(out, body, &below, mask)?;
                    }
                    _ => write_node(out, child, &below, mask, HEADER_KEYS.contains(&key.as_str()))?,
                }
            }
            out.write_all(b"}")
        }
        Value::Array(items) => {
            out.write_all(b"[")?;
            for (index, child) in items.iter().enumerate() {
                if index > 0 {
                    out.write_all(b",")?;
                }
                let below = descend(active, |segment| segment == "*" || array_index(segment) == Some(index));
                // A multi-value header's values: the name was matched one level up.
                write_node(out, child, &below, mask, false)?;
            }
            out.write_all(b"]")
        }
        Value::String(text) => match parse_structured(text) {
            Some(inner) => {
                let mut redacted = Vec::with_capacity(text.len());
                write_node(&mut redacted, &inner, active, mask, false)?;
                // Only valid UTF-8 was written: JSON from `serde_json` and whole strings.
                let redacted = String::from_utf8(redacted).map_err(io::Error::other)?;
                serde_json::to_writer(out, &redacted).map_err(io::Error::from)
            }
            None => serde_json::to_writer(out, text).map_err(io::Error::from),
        },
        scalar => serde_json::to_writer(out, scalar).map_err(io::Error::from),
    }
}

/// A base64 `body` (`isBase64Encoded: true`) that a pointer looks into: decoded,
/// redacted, and written back encoded when it is JSON; otherwise not written at all,
/// only its size, since nothing in it can be told apart from a secret.
fn write_base64_body<W: Write>(out: &mut W, body: &str, active: &[&[String]], mask: &str) -> io::Result<()> {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let decoded = engine.decode(body.trim()).ok();
    let inner = decoded
        .as_deref()
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
        .and_then(parse_structured);
    match inner {
        Some(inner) => {
            let mut redacted = Vec::with_capacity(body.len());
            write_node(&mut redacted, &inner, active, mask, false)?;
            serde_json::to_writer(out, &engine.encode(redacted)).map_err(io::Error::from)
        }
        None => {
            let size = decoded.map_or(body.len(), |bytes| bytes.len());
            serde_json::to_writer(out, &format!("<base64, {size} bytes>")).map_err(io::Error::from)
        }
    }
}

/// The pointers that go on below a child whose key or index `matches` their next segment.
fn descend<'p>(active: &[&'p [String]], matches: impl Fn(&str) -> bool) -> Vec<&'p [String]> {
    active
        .iter()
        .filter_map(|rest| {
            let (first, tail) = rest.split_first()?;
            matches(first).then_some(tail)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::{JsonPointer, write_redacted};

    fn redacted(value: &Value, pointers: &[&str]) -> String {
        let pointers: Vec<JsonPointer> = pointers.iter().map(|p| JsonPointer::new(p)).collect();
        let mut out = Vec::new();
        write_redacted(&mut out, value, &pointers, "***").unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn parses_escapes_and_a_missing_leading_slash() {
        assert_eq!(JsonPointer::new("/a~1b/c~0d").segments, ["a/b", "c~d"]);
        assert_eq!(JsonPointer::new("a/b"), JsonPointer::new("/a/b"));
        assert!(JsonPointer::new("").segments.is_empty());
        assert_eq!(JsonPointer::new("/").segments, [""]);
    }

    #[test]
    fn finds_values_in_arrays_and_in_json_strings() {
        let event = json!({ "items": [{ "id": 1 }, { "id": 2 }], "body": "{\"user\":{\"id\":\"u1\"}}" });
        assert_eq!(
            JsonPointer::new("/items/1/id").find(&event).unwrap().as_ref(),
            &json!(2)
        );
        assert_eq!(
            JsonPointer::new("/items/*/id").find(&event).unwrap().as_ref(),
            &json!(1)
        );
        assert_eq!(
            JsonPointer::new("/body/user/id").find(&event).unwrap().as_ref(),
            &json!("u1")
        );
        assert_eq!(JsonPointer::new("/items/01/id").find(&event), None);
        assert_eq!(JsonPointer::new("/items/9/id").find(&event), None);
        assert_eq!(JsonPointer::new("/items/x").find(&event), None);
        assert_eq!(JsonPointer::new("/body/nope").find(&event), None);
    }

    #[test]
    fn redacts_at_any_depth_and_through_arrays() {
        let event = json!({
            "detail": { "guest": { "email": "ada@example.com", "name": "Ada" } },
            "guests": [{ "email": "a@x" }, { "email": "b@x" }],
            "matrix": [[{ "secret": 1 }], [{ "secret": 2 }]],
        });
        let out = redacted(
            &event,
            &["/detail/guest/email", "/guests/*/email", "/matrix/*/*/secret"],
        );
        assert!(
            !out.contains("example.com") && !out.contains("a@x") && !out.contains("b@x"),
            "{out}"
        );
        let back: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["detail"]["guest"], json!({ "email": "***", "name": "Ada" }));
        assert_eq!(back["guests"], json!([{ "email": "***" }, { "email": "***" }]));
        assert_eq!(back["matrix"], json!([[{ "secret": "***" }], [{ "secret": "***" }]]));
    }

    #[test]
    fn redacts_inside_a_json_body_string() {
        let event = json!({ "body": "{\"card\":\"4111 1111\",\"ok\":true}" });
        let out = redacted(&event, &["/body/card"]);
        assert!(!out.contains("4111"), "{out}");
        let back: Value = serde_json::from_str(&out).unwrap();
        let body: Value = serde_json::from_str(back["body"].as_str().unwrap()).unwrap();
        assert_eq!(body, json!({ "card": "***", "ok": true }));
    }

    #[test]
    fn redacts_a_whole_subtree_and_the_whole_document() {
        assert_eq!(redacted(&json!({ "a": { "b": [1, 2] } }), &["/a"]), r#"{"a":"***"}"#);
        assert_eq!(redacted(&json!({ "a": 1 }), &[""]), r#""***""#);
        assert_eq!(redacted(&json!({ "a": 1 }), &["/missing/path"]), r#"{"a":1}"#);
        assert_eq!(redacted(&json!([1, 2, 3]), &["/1"]), r#"[1,"***",3]"#);
    }
}
