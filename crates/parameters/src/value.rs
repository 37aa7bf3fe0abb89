//! What a provider fetches ([`Fetched`]), how it is read ([`ValueTransform`]), and what
//! the cache keeps ([`Decoded`]).

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use serde::de::DeserializeOwned;

use crate::error::{ParameterError, without_values};

/// A value as a provider fetched it: text (an SSM parameter, a secret string, a
/// DynamoDB `value`) or bytes (a binary secret, an AppConfig configuration).
///
/// Its `Debug` output never shows the value.
///
/// ```
/// use lambda_middleware::parameters::Fetched;
///
/// let value = Fetched::Text("hunter2".into());
/// assert_eq!(format!("{value:?}"), "Text(7 bytes)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum Fetched {
    /// Text.
    Text(String),
    /// Bytes.
    Binary(Vec<u8>),
}

impl fmt::Debug for Fetched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fetched::Text(text) => write!(f, "Text({} bytes)", text.len()),
            Fetched::Binary(bytes) => write!(f, "Binary({} bytes)", bytes.len()),
        }
    }
}

impl From<&str> for Fetched {
    fn from(text: &str) -> Self {
        Fetched::Text(text.to_owned())
    }
}

impl From<String> for Fetched {
    fn from(text: String) -> Self {
        Fetched::Text(text)
    }
}

impl From<Vec<u8>> for Fetched {
    fn from(bytes: Vec<u8>) -> Self {
        Fetched::Binary(bytes)
    }
}

/// How a fetched value is read, as Powertools' `transform`: as it is, as JSON, as
/// base64, or by the name's suffix (`auto`). The cache keeps each transform's result apart.
///
/// ```
/// use lambda_middleware::parameters::ValueTransform;
///
/// assert_eq!(ValueTransform::BySuffix.resolve("/app/settings.json"), ValueTransform::Json);
/// assert_eq!(ValueTransform::BySuffix.resolve("/app/key.binary"), ValueTransform::Binary);
/// assert_eq!(ValueTransform::BySuffix.resolve("/app/url"), ValueTransform::Text);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ValueTransform {
    /// The value as it is, as text (a binary value must be UTF-8): no transform.
    #[default]
    Text,
    /// JSON (`transform="json"`).
    Json,
    /// Base64 text decoded to bytes (`transform="binary"`); a binary value as it is.
    Binary,
    /// `Json` for a name ending in `.json`, `Binary` for `.binary` (any case), `Text`
    /// otherwise (Powertools' `transform="auto"`).
    BySuffix,
}

impl ValueTransform {
    /// The transform used for `name`: `BySuffix` by its suffix, any other as it is.
    ///
    /// ```
    /// use lambda_middleware::parameters::ValueTransform;
    ///
    /// assert_eq!(ValueTransform::Json.resolve("/app/url"), ValueTransform::Json);
    /// ```
    pub fn resolve(self, name: &str) -> ValueTransform {
        match self {
            ValueTransform::BySuffix => {
                let lower = name.to_ascii_lowercase();
                if lower.ends_with(".json") {
                    ValueTransform::Json
                } else if lower.ends_with(".binary") {
                    ValueTransform::Binary
                } else {
                    ValueTransform::Text
                }
            }
            other => other,
        }
    }

    /// Its name in errors: `text`, `json`, `binary`, `auto`.
    ///
    /// ```
    /// assert_eq!(lambda_middleware::parameters::ValueTransform::Binary.as_str(), "binary");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ValueTransform::Text => "text",
            ValueTransform::Json => "json",
            ValueTransform::Binary => "binary",
            ValueTransform::BySuffix => "auto",
        }
    }

    /// Applies the (resolved) transform to `value` fetched by `provider` under `name`.
    pub(crate) fn apply(self, provider: &'static str, name: &str, value: Fetched) -> Result<Decoded, ParameterError> {
        let transform = self.resolve(name);
        let fail = |cause: String| ParameterError::Invalid {
            provider,
            name: name.to_owned(),
            transform: transform.as_str(),
            cause,
        };
        match (transform, value) {
            (ValueTransform::Json, Fetched::Text(text)) => serde_json::from_str(&text)
                .map(|json| Decoded::Json(Arc::new(json)))
                .map_err(|error| fail(without_values(&error.to_string()))),
            (ValueTransform::Json, Fetched::Binary(bytes)) => serde_json::from_slice(&bytes)
                .map(|json| Decoded::Json(Arc::new(json)))
                .map_err(|error| fail(without_values(&error.to_string()))),
            (ValueTransform::Binary, Fetched::Text(text)) => base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map(|bytes| Decoded::Binary(bytes.into()))
                .map_err(|error| fail(format!("not base64 ({error})"))),
            (ValueTransform::Binary, Fetched::Binary(bytes)) => Ok(Decoded::Binary(bytes.into())),
            (_, Fetched::Text(text)) => Ok(Decoded::Text(text.into())),
            (_, Fetched::Binary(bytes)) => String::from_utf8(bytes)
                .map(|text| Decoded::Text(text.into()))
                .map_err(|_| fail("a binary value that is not UTF-8 text (use the binary transform)".to_owned())),
        }
    }
}

/// A value after its transform, as the cache keeps it: shared, so that a cache hit
/// copies a pointer, not the value. Its `Debug` output never shows the value.
///
/// ```
/// use lambda_middleware::parameters::Decoded;
///
/// let value = Decoded::Text("https://db.internal".into());
/// assert_eq!(value.as_text(), Some("https://db.internal"));
/// assert_eq!(format!("{value:?}"), "Text(19 bytes)");
/// ```
#[derive(Clone)]
pub enum Decoded {
    /// Text (no transform).
    Text(Arc<str>),
    /// JSON (the `json` transform).
    Json(Arc<serde_json::Value>),
    /// Bytes (the `binary` transform, or a binary value).
    Binary(Arc<[u8]>),
}

impl fmt::Debug for Decoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decoded::Text(text) => write!(f, "Text({} bytes)", text.len()),
            Decoded::Json(_) => f.write_str("Json(..)"),
            Decoded::Binary(bytes) => write!(f, "Binary({} bytes)", bytes.len()),
        }
    }
}

impl Decoded {
    /// The text, for a value read without a transform.
    ///
    /// ```
    /// # use lambda_middleware::parameters::Decoded;
    /// assert_eq!(Decoded::Binary(vec![1u8].into()).as_text(), None);
    /// ```
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Decoded::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The bytes, for a value read with the `binary` transform.
    ///
    /// ```
    /// # use lambda_middleware::parameters::Decoded;
    /// assert_eq!(Decoded::Binary(vec![1u8, 2].into()).as_bytes(), Some(&[1u8, 2][..]));
    /// ```
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Decoded::Binary(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// The JSON, for a value read with the `json` transform.
    ///
    /// ```
    /// # use lambda_middleware::parameters::Decoded;
    /// let value = Decoded::Json(serde_json::json!({ "on": true }).into());
    /// assert_eq!(value.as_json().unwrap()["on"], true);
    /// ```
    pub fn as_json(&self) -> Option<&serde_json::Value> {
        match self {
            Decoded::Json(json) => Some(json),
            _ => None,
        }
    }

    /// The value as JSON: text as a string, bytes as an array of numbers (what serde
    /// reads into a `Vec<u8>`), JSON as it is. What [`ConfigLoader`](crate::ConfigLoader)
    /// deserialises the configuration from.
    ///
    /// ```
    /// # use lambda_middleware::parameters::Decoded;
    /// assert_eq!(Decoded::Text("a".into()).to_json(), serde_json::json!("a"));
    /// assert_eq!(Decoded::Binary(vec![7u8].into()).to_json(), serde_json::json!([7]));
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Decoded::Text(text) => serde_json::Value::String(text.to_string()),
            Decoded::Json(json) => (**json).clone(),
            Decoded::Binary(bytes) => serde_json::Value::Array(bytes.iter().map(|b| (*b).into()).collect()),
        }
    }

    /// Deserialises the value into `T` (from [`to_json`](Self::to_json)'s form; a JSON
    /// value without a copy). `name` and `provider` go into the error, which never
    /// quotes the value.
    ///
    /// ```
    /// # use lambda_middleware::parameters::Decoded;
    /// let value = Decoded::Json(serde_json::json!({ "retries": 3 }).into());
    /// #[derive(serde::Deserialize)]
    /// struct Settings { retries: u32 }
    /// let settings: Settings = value.deserialize("memory", "/app/settings").unwrap();
    /// assert_eq!(settings.retries, 3);
    /// ```
    pub fn deserialize<T: DeserializeOwned>(&self, provider: &'static str, name: &str) -> Result<T, ParameterError> {
        let result = match self {
            Decoded::Json(json) => T::deserialize(&**json),
            other => T::deserialize(other.to_json()),
        };
        result.map_err(|error| ParameterError::Invalid {
            provider,
            name: name.to_owned(),
            transform: "json",
            cause: without_values(&error.to_string()),
        })
    }

    /// Whether both are the same cached value (the same allocation): how the config
    /// middleware tells that nothing changed since it last deserialised.
    pub(crate) fn same(&self, other: &Decoded) -> bool {
        match (self, other) {
            (Decoded::Text(a), Decoded::Text(b)) => Arc::ptr_eq(a, b),
            (Decoded::Json(a), Decoded::Json(b)) => Arc::ptr_eq(a, b),
            (Decoded::Binary(a), Decoded::Binary(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transforms_read_text_json_and_base64() {
        let json = ValueTransform::Json
            .apply("memory", "a", Fetched::from(r#"{"a":1}"#))
            .unwrap();
        assert_eq!(json.as_json().unwrap()["a"], 1);
        let bytes = ValueTransform::Binary
            .apply("memory", "a", Fetched::from("aGk="))
            .unwrap();
        assert_eq!(bytes.as_bytes(), Some(&b"hi"[..]));
        let auto = ValueTransform::BySuffix
            .apply("memory", "x.JSON", Fetched::from("[1]"))
            .unwrap();
        assert_eq!(auto.as_json().unwrap()[0], 1);
        let text = ValueTransform::BySuffix
            .apply("memory", "x", Fetched::from("[1]"))
            .unwrap();
        assert_eq!(text.as_text(), Some("[1]"));
    }

    #[test]
    fn a_bad_value_is_a_transform_error_that_does_not_quote_it() {
        let error = ValueTransform::Json
            .apply("memory", "k", Fetched::from("hunter2"))
            .unwrap_err();
        assert_eq!(error.error_type(), "TransformParameterError");
        assert!(!error.to_string().contains("hunter2"), "{error}");
        let error = ValueTransform::Binary
            .apply("memory", "k", Fetched::from("hunter2!"))
            .unwrap_err();
        assert!(!format!("{error} {error:?}").contains("hunter2"), "{error}");
        let error = ValueTransform::Text
            .apply("memory", "k", Fetched::Binary(vec![0xff]))
            .unwrap_err();
        assert!(error.to_string().contains("not UTF-8"), "{error}");
        let value = Decoded::Text("hunter2".into());
        let error = value.deserialize::<u32>("memory", "k").unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }
}
