//! [`Secret`]: a value whose `Debug`, `Display` and `Serialize` never show it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What [`Secret`] prints and serialises instead of its value.
pub const REDACTED: &str = "*****";

/// A value that must not reach a log line, a span, a trace or a response: its `Debug`
/// and `Display` show [`REDACTED`], and it serialises as that string. It deserialises
/// as the value itself, so a configuration field holding a secret is a `Secret<String>`.
/// Read it with [`expose`](Secret::expose).
///
/// ```
/// use lambda_middleware::parameters::Secret;
///
/// #[derive(Debug, serde::Deserialize, serde::Serialize)]
/// struct Config {
///     api_key: Secret<String>,
///     region: String,
/// }
///
/// let config: Config = serde_json::from_str(r#"{"api_key":"sk-live-1234","region":"eu-west-1"}"#).unwrap();
/// assert_eq!(config.api_key.expose(), "sk-live-1234");
/// assert_eq!(format!("{config:?}"), r#"Config { api_key: Secret(*****), region: "eu-west-1" }"#);
/// assert_eq!(serde_json::to_string(&config).unwrap(), r#"{"api_key":"*****","region":"eu-west-1"}"#);
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps `value`.
    ///
    /// ```
    /// let key = lambda_middleware::parameters::Secret::new("sk-live-1234".to_owned());
    /// assert_eq!(key.to_string(), "*****");
    /// ```
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The value itself: the one place it is read.
    ///
    /// ```
    /// let key = lambda_middleware::parameters::Secret::new(1234);
    /// assert_eq!(*key.expose(), 1234);
    /// ```
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// The value, unwrapped.
    ///
    /// ```
    /// let key = lambda_middleware::parameters::Secret::new(vec![1u8, 2]);
    /// assert_eq!(key.into_inner(), vec![1, 2]);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Secret(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Secret)
    }
}
