//! [`Tracer`]: X-Ray style annotations and metadata on the current span.
//!
//! `tracing` spans declare their fields up front, and annotation keys are chosen at
//! run time, so a `Tracer` cannot record them as span fields. It hands each one to
//! every backend in the form that backend reads:
//!
//! - with the `xray` feature, straight into the subsegment that
//!   `trace::xray::XrayLayer` keeps for the current span (found
//!   through the subscriber, so level filters cannot lose it);
//! - with the `opentelemetry` feature, as an attribute of the current
//!   `tracing-opentelemetry` span (annotations only: metadata is not indexed, and
//!   an attribute cannot hold a JSON document);
//! - always, as a `DEBUG` event with target [`ANNOTATION_TARGET`] or
//!   [`METADATA_TARGET`], so that a local `fmt` subscriber shows it.
//!
//! Nothing here can fail an invocation: a bad key, a refused namespace or a value
//! that does not serialise is dropped with a `tracing` warning.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use serde::Serialize;

/// The variable that names the service; it is the default metadata namespace.
pub const SERVICE_NAME_ENV: &str = "POWERTOOLS_SERVICE_NAME";

/// The metadata namespace when `POWERTOOLS_SERVICE_NAME` is unset or empty.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Target of the `DEBUG` event each accepted annotation emits.
pub const ANNOTATION_TARGET: &str = "lambda_middleware::annotation";

/// Target of the `DEBUG` event each accepted metadata entry emits.
pub const METADATA_TARGET: &str = "lambda_middleware::metadata";

/// Adds annotations and metadata to the span the code runs in: inside a traced
/// middleware, its `## name` span; inside the handler, the innermost traced
/// middleware's span (or any span of your own).
///
/// The equivalent of Powertools' `tracer.put_annotation` and `tracer.put_metadata`.
/// A `Tracer` holds only its metadata namespace, so it is cheap to make where it is
/// needed, or to keep in a `static`.
///
/// - **Annotations** are indexed by X-Ray (filter expressions such as
///   `annotation.TotalExecutionTime > 1`): the key must match `[A-Za-z0-9_]+`, and the
///   value is a string, an integer, a float or a bool — the types that implement
///   [`AnnotationValue`].
/// - **Metadata** is any `Serialize` value, not indexed, grouped under a namespace: the
///   service name from `POWERTOOLS_SERVICE_NAME` (`default` when unset), or the one
///   given to [`put_metadata_in`](Tracer::put_metadata_in). Namespaces beginning with
///   `AWS.` are reserved by X-Ray and refused.
///
/// Every mistake is dropped with a `tracing` warning: a `Tracer` never panics and
/// never fails an invocation. With `POWERTOOLS_TRACE_DISABLED` true (see
/// [`tracing_disabled`](lambda_middleware_core::trace::tracing_disabled)), it puts nothing anywhere.
///
/// # Example
///
/// ```
/// use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded, Tracer};
/// use serde_json::{json, Value};
///
/// static TRACER: Tracer = Tracer::new();
///
/// struct Timing;
///
/// impl Middleware<Value, Value> for Timing {
///     type Params = ();
///     const TRACE_EXECUTION: Option<bool> = Some(true);
///
///     async fn call<'n, I>(&self, _: &(), event: Value, _: &Context, next: Next<'n, I>)
///         -> Result<Proceeded<'n, Value>, Error>
///     where
///         I: Invoke<Value, Response = Value>,
///     {
///         let started = std::time::Instant::now();
///         TRACER.put_metadata("resource", &event["resource"]);
///         let response = next.run(event).await?;
///         TRACER.put_annotation("TotalExecutionTime", started.elapsed().as_secs_f64());
///         Ok(response)
///     }
/// }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Tracer {
    /// `None`: the service name from the environment.
    namespace: Option<Cow<'static, str>>,
}

impl Tracer {
    /// A tracer whose metadata namespace is the service name
    /// (`POWERTOOLS_SERVICE_NAME`, read once per process), or `default`.
    ///
    /// `const`, so it can live in a `static`.
    ///
    /// ```
    /// use lambda_middleware::Tracer;
    ///
    /// static TRACER: Tracer = Tracer::new();
    /// // Unset in doctests.
    /// assert_eq!(TRACER.namespace(), "default");
    /// ```
    pub const fn new() -> Self {
        Tracer { namespace: None }
    }

    /// A tracer whose metadata goes under `namespace` by default.
    ///
    /// A namespace beginning with `AWS.` is reserved by X-Ray: metadata put under it is
    /// dropped with a warning.
    ///
    /// ```
    /// use lambda_middleware::Tracer;
    ///
    /// let tracer = Tracer::with_namespace("payments");
    /// assert_eq!(tracer.namespace(), "payments");
    /// ```
    pub fn with_namespace(namespace: impl Into<Cow<'static, str>>) -> Self {
        Tracer {
            namespace: Some(namespace.into()),
        }
    }

    /// The namespace [`put_metadata`](Tracer::put_metadata) uses.
    ///
    /// ```
    /// use lambda_middleware::Tracer;
    /// assert_eq!(Tracer::with_namespace("orders").namespace(), "orders");
    /// ```
    pub fn namespace(&self) -> &str {
        match &self.namespace {
            Some(namespace) => namespace,
            None => service_name(),
        }
    }

    /// Adds an indexed annotation to the current span.
    ///
    /// `key` must match `[A-Za-z0-9_]+`; otherwise the annotation is dropped with a
    /// warning. The value's type is checked by the compiler: strings, integers, floats
    /// and bools implement [`AnnotationValue`], nothing else does. A float that is
    /// not finite (`NaN`, infinities) has no JSON form and is dropped with a warning.
    ///
    /// ```
    /// use lambda_middleware::Tracer;
    ///
    /// let tracer = Tracer::new();
    /// tracer.put_annotation("PaymentId", "p-123");
    /// tracer.put_annotation("Retries", 2_u32);
    /// tracer.put_annotation("Amount", 12.5);
    /// tracer.put_annotation("Express", true);
    /// tracer.put_annotation("not a key!", 1); // dropped with a warning, never a panic
    /// ```
    ///
    /// A value of another type does not compile:
    ///
    /// ```compile_fail
    /// lambda_middleware::Tracer::new().put_annotation("Tags", vec!["a", "b"]);
    /// ```
    pub fn put_annotation<V: AnnotationValue>(&self, key: &str, value: V) {
        if lambda_middleware_core::trace::tracing_disabled() {
            return;
        }
        let value = value.into_annotation();
        if !is_valid_annotation_key(key) {
            tracing::warn!(
                key,
                "annotation dropped: its key must match [A-Za-z0-9_]+ (letters, digits and underscores)"
            );
            return;
        }
        if let Annotation::Float(float) = value {
            if !float.is_finite() {
                tracing::warn!(
                    key,
                    value = float,
                    "annotation dropped: a float annotation must be finite"
                );
                return;
            }
        }
        tracing::debug!(target: ANNOTATION_TARGET, key, value = %value, "annotation");
        #[cfg(feature = "opentelemetry")]
        otel::set_attribute(key, &value);
        #[cfg(feature = "xray")]
        crate::xray::annotate_current(key, value.to_json());
    }

    /// Adds metadata under this tracer's [`namespace`](Tracer::namespace) to the
    /// current span.
    ///
    /// The value is serialised with `serde_json` when it is put; one that fails to
    /// serialise is dropped with a warning.
    ///
    /// ```
    /// use lambda_middleware::Tracer;
    /// use serde_json::json;
    ///
    /// let tracer = Tracer::new();
    /// tracer.put_metadata("resource", "/orders/{id}");
    /// tracer.put_metadata("order", &json!({ "id": 42, "lines": 3 }));
    /// ```
    pub fn put_metadata<V: Serialize + ?Sized>(&self, key: &str, value: &V) {
        self.put_metadata_in(self.namespace(), key, value);
    }

    /// Adds metadata under `namespace` to the current span.
    ///
    /// A namespace beginning with `AWS.` is reserved by X-Ray, and an empty one is
    /// not a namespace: both are refused with a warning, as is a value that fails to
    /// serialise.
    ///
    /// ```
    /// use lambda_middleware::Tracer;
    /// use std::collections::HashMap;
    ///
    /// let tracer = Tracer::new();
    /// tracer.put_metadata_in("billing", "plan", "pro");
    /// tracer.put_metadata_in("AWS.lambda", "plan", "pro"); // refused with a warning
    ///
    /// // Maps with non-string keys have no JSON form: dropped with a warning.
    /// let by_pair = HashMap::from([((1, 2), "x")]);
    /// tracer.put_metadata_in("billing", "pairs", &by_pair);
    /// ```
    pub fn put_metadata_in<V: Serialize + ?Sized>(&self, namespace: &str, key: &str, value: &V) {
        if lambda_middleware_core::trace::tracing_disabled() {
            return;
        }
        if namespace.is_empty() || namespace.starts_with("AWS.") {
            tracing::warn!(
                namespace,
                key,
                "metadata dropped: namespaces beginning with \"AWS.\" are reserved by X-Ray, and the namespace must not be empty"
            );
            return;
        }
        let value = match serde_json::to_value(value) {
            Ok(value) => value,
            Err(error) => {
                tracing::warn!(namespace, key, %error, "metadata dropped: the value does not serialise to JSON");
                return;
            }
        };
        tracing::debug!(target: METADATA_TARGET, namespace, key, value = %value, "metadata");
        #[cfg(feature = "xray")]
        crate::xray::add_metadata_to_current(namespace, key, value);
    }
}

impl Default for Tracer {
    /// Same as [`Tracer::new`].
    ///
    /// ```
    /// use lambda_middleware::Tracer;
    /// assert_eq!(Tracer::default(), Tracer::new());
    /// ```
    fn default() -> Self {
        Tracer::new()
    }
}

impl fmt::Debug for Tracer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracer").field("namespace", &self.namespace()).finish()
    }
}

/// `POWERTOOLS_SERVICE_NAME`, read once: the default metadata namespace.
fn service_name() -> &'static str {
    service_name_from_env().unwrap_or(DEFAULT_NAMESPACE)
}

/// `POWERTOOLS_SERVICE_NAME`, read once per process; `None` when unset or blank.
pub(crate) fn service_name_from_env() -> Option<&'static str> {
    static SERVICE: OnceLock<Option<String>> = OnceLock::new();
    SERVICE
        .get_or_init(|| match std::env::var(SERVICE_NAME_ENV) {
            Ok(name) if !name.trim().is_empty() => Some(name.trim().to_owned()),
            _ => None,
        })
        .as_deref()
}

/// X-Ray's rule for annotation keys: `[A-Za-z0-9_]+`.
///
/// ```
/// use lambda_middleware::trace::is_valid_annotation_key;
///
/// assert!(is_valid_annotation_key("TotalExecutionTime"));
/// assert!(is_valid_annotation_key("cold_start_2"));
/// assert!(!is_valid_annotation_key(""));
/// assert!(!is_valid_annotation_key("user.id"));
/// assert!(!is_valid_annotation_key("naïve"));
/// ```
pub fn is_valid_annotation_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// An annotation value as X-Ray stores it.
#[derive(Debug, Clone, PartialEq)]
#[doc(hidden)]
pub enum Annotation {
    String(String),
    Int(i64),
    UInt(u64),
    Float(f64),
    Bool(bool),
}

impl Annotation {
    #[cfg(feature = "xray")]
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Annotation::String(value) => Value::from(value.as_str()),
            Annotation::Int(value) => Value::from(*value),
            Annotation::UInt(value) => Value::from(*value),
            Annotation::Float(value) => Value::from(*value),
            Annotation::Bool(value) => Value::from(*value),
        }
    }
}

impl fmt::Display for Annotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Annotation::String(value) => fmt::Debug::fmt(value, f),
            Annotation::Int(value) => value.fmt(f),
            Annotation::UInt(value) => value.fmt(f),
            Annotation::Float(value) => value.fmt(f),
            Annotation::Bool(value) => value.fmt(f),
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A type X-Ray accepts as an annotation value: a string, an integer, a float or a
/// bool.
///
/// Sealed: the list is X-Ray's, so no other type can join it, and passing one to
/// [`Tracer::put_annotation`] is a compile error.
///
/// ```
/// use lambda_middleware::trace::AnnotationValue;
///
/// fn accepts<V: AnnotationValue>(_: V) {}
/// accepts("text");
/// accepts(String::from("text"));
/// accepts(-3_i64);
/// accepts(7_usize);
/// accepts(0.5_f32);
/// accepts(false);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an X-Ray annotation value",
    label = "not a string, integer, float or bool",
    note = "annotations are indexed for search, so X-Ray takes only strings, numbers and booleans; put other values in metadata with `Tracer::put_metadata`"
)]
pub trait AnnotationValue: sealed::Sealed {
    #[doc(hidden)]
    fn into_annotation(self) -> Annotation;
}

macro_rules! annotation_value {
    ($variant:ident: $($ty:ty => $convert:expr),* $(,)?) => {$(
        impl sealed::Sealed for $ty {}
        impl AnnotationValue for $ty {
            #[inline]
            fn into_annotation(self) -> Annotation {
                #[allow(clippy::redundant_closure_call)]
                Annotation::$variant(($convert)(self))
            }
        }
    )*};
}

annotation_value!(String:
    &str => |v: &str| v.to_owned(),
    String => |v: String| v,
    &String => |v: &String| v.clone(),
    Cow<'_, str> => |v: Cow<'_, str>| v.into_owned(),
);
annotation_value!(Int:
    i8 => i64::from, i16 => i64::from, i32 => i64::from, i64 => |v: i64| v,
    isize => |v: isize| v as i64,
);
annotation_value!(UInt:
    u8 => u64::from, u16 => u64::from, u32 => u64::from, u64 => |v: u64| v,
    usize => |v: usize| v as u64,
);
annotation_value!(Float: f32 => f64::from, f64 => |v: f64| v);
annotation_value!(Bool: bool => |v: bool| v);

#[cfg(feature = "opentelemetry")]
mod otel {
    use opentelemetry::Value;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    use super::Annotation;

    /// Sets the annotation as an attribute of the current `tracing-opentelemetry` span.
    pub(super) fn set_attribute(key: &str, value: &Annotation) {
        let value = match value {
            Annotation::String(value) => Value::from(value.clone()),
            Annotation::Int(value) => Value::I64(*value),
            // OpenTelemetry has no unsigned integers.
            Annotation::UInt(value) => match i64::try_from(*value) {
                Ok(value) => Value::I64(value),
                Err(_) => Value::from(value.to_string()),
            },
            Annotation::Float(value) => Value::F64(*value),
            Annotation::Bool(value) => Value::Bool(*value),
        };
        tracing::Span::current().set_attribute(key.to_owned(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_xray_rules() {
        for key in ["a", "A_1", "_", "TotalExecutionTime", "0"] {
            assert!(is_valid_annotation_key(key), "{key}");
        }
        for key in ["", " ", "a b", "a-b", "a.b", "é", "a\u{0}", "key!"] {
            assert!(!is_valid_annotation_key(key), "{key:?}");
        }
    }

    #[test]
    fn values_keep_their_json_type() {
        assert_eq!("a".into_annotation(), Annotation::String("a".into()));
        assert_eq!((-1_i8).into_annotation(), Annotation::Int(-1));
        assert_eq!(u64::MAX.into_annotation(), Annotation::UInt(u64::MAX));
        assert_eq!(0.5_f32.into_annotation(), Annotation::Float(0.5));
        assert_eq!(true.into_annotation(), Annotation::Bool(true));
        assert_eq!(Annotation::String("x\"y".into()).to_string(), "\"x\\\"y\"");
    }

    #[test]
    fn bad_inputs_never_panic() {
        let tracer = Tracer::new();
        tracer.put_annotation("bad key", 1);
        tracer.put_annotation("nan", f64::NAN);
        tracer.put_annotation(&"k".repeat(10_000), "v");
        tracer.put_metadata_in("AWS.x", "k", &1);
        tracer.put_metadata_in("", "k", &1);
        tracer.put_metadata("pairs", &std::collections::HashMap::from([((1, 2), 3)]));
    }
}
