#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations)]

use std::fmt;
use std::io::Read as _;
use std::sync::{Arc, LazyLock};

use base64::Engine as _;
use jmespath::functions::{ArgumentType, CustomFunction, Signature};
use jmespath::{Context, ErrorReason, JmespathError, Rcvar, Runtime, Variable};
use serde_json::Value;

/// Powertools' named envelopes: the JMESPath expressions of
/// `aws_lambda_powertools.utilities.jmespath_utils.envelopes`, under the same names, for
/// [`JmesPath::new`] (`JmesPath::new(envelopes::SQS)`).
///
/// ```
/// use lambda_middleware_jmespath::{JmesPath, envelopes};
/// use serde_json::json;
///
/// let sqs = JmesPath::new(envelopes::SQS).unwrap();
/// let event = json!({ "Records": [{ "body": "{\"id\":1}" }, { "body": "{\"id\":2}" }] });
/// assert_eq!(sqs.search(&event).unwrap(), json!([{ "id": 1 }, { "id": 2 }]));
/// ```
pub mod envelopes {
    /// The JSON `body` of an API Gateway REST (v1) proxy event.
    pub const API_GATEWAY_REST: &str = "powertools_json(body)";
    /// The JSON `body` of an API Gateway HTTP (v2) proxy event.
    pub const API_GATEWAY_HTTP: &str = API_GATEWAY_REST;
    /// The JSON `body` of each SQS record.
    pub const SQS: &str = "Records[*].powertools_json(body)";
    /// The JSON `Message` of the SNS record.
    pub const SNS: &str = "Records[0].Sns.Message | powertools_json(@)";
    /// The `detail` of an EventBridge event.
    pub const EVENTBRIDGE: &str = "detail";
    /// The `detail` of a scheduled CloudWatch event.
    pub const CLOUDWATCH_EVENTS_SCHEDULED: &str = EVENTBRIDGE;
    /// The JSON in the base64 `data` of each Kinesis record.
    pub const KINESIS_DATA_STREAM: &str = "Records[*].kinesis.powertools_json(powertools_base64(data))";
    /// The log events of a CloudWatch Logs subscription (base64, gzipped JSON).
    pub const CLOUDWATCH_LOGS: &str = "awslogs.powertools_base64_gzip(data) | powertools_json(@).logEvents[*]";
    /// The S3 event in the SNS notification in each SQS record.
    pub const S3_SNS_SQS: &str = "Records[*].powertools_json(body).powertools_json(Message).Records[0]";
    /// The S3 event in each SQS record.
    pub const S3_SQS: &str = "Records[*].powertools_json(body).Records[0]";
    /// The S3 event in the SNS notification in each Kinesis Data Firehose record.
    pub const S3_SNS_KINESIS_FIREHOSE: &str =
        "records[*].powertools_json(powertools_base64(data)).powertools_json(Message).Records[0]";
    /// The S3 event in each Kinesis Data Firehose record.
    pub const S3_KINESIS_FIREHOSE: &str = "records[*].powertools_json(powertools_base64(data)).Records[0]";
    /// The EventBridge `detail` of an S3 event in each SQS record.
    pub const S3_EVENTBRIDGE_SQS: &str = "Records[*].powertools_json(body).detail";
}

/// JMESPath's built-in functions and Powertools' three, shared by every expression.
static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    let mut runtime = Runtime::new();
    runtime.register_builtin_functions();
    for (name, function) in [
        ("powertools_json", powertools_json as fn(&str) -> Result<Value, String>),
        ("powertools_base64", powertools_base64),
        ("powertools_base64_gzip", powertools_base64_gzip),
    ] {
        runtime.register_function(
            name,
            Box::new(CustomFunction::new(
                Signature::new(vec![ArgumentType::String], None),
                Box::new(move |args: &[Rcvar], ctx: &mut Context<'_>| {
                    let text = args[0].as_string().map(String::as_str).unwrap_or_default();
                    let value = function(text).map_err(|message| {
                        JmespathError::from_ctx(ctx, ErrorReason::Parse(format!("{name}: {message}")))
                    })?;
                    Variable::try_from(value).map(Rcvar::new)
                }),
            )),
        );
    }
    runtime
});

/// `powertools_json(s)`: the JSON value the string holds.
fn powertools_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|error| format!("the string is not JSON ({error})"))
}

fn decode(text: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|error| format!("the string is not base64 ({error})"))
}

fn utf8(bytes: Vec<u8>) -> Result<Value, String> {
    String::from_utf8(bytes)
        .map(Value::String)
        .map_err(|error| format!("the decoded bytes are not UTF-8 ({error})"))
}

/// `powertools_base64(s)`: the text the base64 string encodes.
fn powertools_base64(text: &str) -> Result<Value, String> {
    utf8(decode(text)?)
}

/// `powertools_base64_gzip(s)`: the text the gzipped bytes the base64 string encodes hold.
fn powertools_base64_gzip(text: &str) -> Result<Value, String> {
    let compressed = decode(text)?;
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .read_to_end(&mut bytes)
        .map_err(|error| format!("the decoded bytes are not gzip ({error})"))?;
    utf8(bytes)
}

/// A compiled JMESPath expression, with Powertools' functions: `powertools_json`
/// (parse a JSON string), `powertools_base64` (decode a base64 string to text) and
/// `powertools_base64_gzip` (decode, then gunzip, to text). Cheap to clone.
///
/// ```
/// use lambda_middleware_jmespath::JmesPath;
/// use serde_json::json;
///
/// let order_id = JmesPath::new("powertools_json(body).order_id").unwrap();
/// let event = json!({ "body": "{\"order_id\": \"o-1\", \"amount\": 15}" });
/// assert_eq!(order_id.search(&event).unwrap(), json!("o-1"));
/// assert_eq!(order_id.to_string(), "powertools_json(body).order_id");
/// ```
#[derive(Clone)]
pub struct JmesPath {
    expression: Arc<jmespath::Expression<'static>>,
}

impl JmesPath {
    /// Compiles `expression`.
    ///
    /// # Errors
    ///
    /// [`JmesPathError::Invalid`] when it is not a JMESPath expression.
    ///
    /// ```
    /// use lambda_middleware_jmespath::{JmesPath, JmesPathError};
    ///
    /// let error = JmesPath::new("Records[*").unwrap_err();
    /// assert!(matches!(error, JmesPathError::Invalid { .. }));
    /// assert!(error.to_string().starts_with("`Records[*` is not a JMESPath expression: "), "{error}");
    /// ```
    pub fn new(expression: &str) -> Result<Self, JmesPathError> {
        let compiled = RUNTIME.compile(expression).map_err(|error| JmesPathError::Invalid {
            expression: expression.to_owned(),
            message: reason(&error),
        })?;
        Ok(JmesPath {
            expression: Arc::new(compiled),
        })
    }

    /// The expression as it was written.
    ///
    /// ```
    /// use lambda_middleware_jmespath::JmesPath;
    /// assert_eq!(JmesPath::new("detail").unwrap().as_str(), "detail");
    /// ```
    pub fn as_str(&self) -> &str {
        self.expression.as_str()
    }

    /// What the expression finds in `data` (`null` when nothing).
    ///
    /// # Errors
    ///
    /// [`JmesPathError::Search`] when a function fails on the data (`powertools_json` of
    /// a string that is not JSON, say) or is given the wrong type.
    ///
    /// ```
    /// use lambda_middleware_jmespath::{JmesPath, JmesPathError};
    /// use serde_json::json;
    ///
    /// let body = JmesPath::new("powertools_json(body)").unwrap();
    /// assert_eq!(body.search(&json!({})).unwrap_err().to_string().contains("powertools_json"), true);
    /// let error = body.search(&json!({ "body": "{oops" })).unwrap_err();
    /// assert!(matches!(error, JmesPathError::Search { .. }));
    /// assert_eq!(JmesPath::new("missing").unwrap().search(&json!({})).unwrap(), json!(null));
    /// ```
    pub fn search(&self, data: &Value) -> Result<Value, JmesPathError> {
        let failed = |error: JmespathError| JmesPathError::Search {
            expression: self.as_str().to_owned(),
            message: reason(&error),
        };
        let data = Variable::try_from(data).map_err(failed)?;
        let found = self.expression.search(data).map_err(failed)?;
        serde_json::to_value(&*found).map_err(|error| JmesPathError::Search {
            expression: self.as_str().to_owned(),
            message: error.to_string(),
        })
    }
}

fn reason(error: &JmespathError) -> String {
    match &error.reason {
        ErrorReason::Parse(message) => format!("{message} (at column {})", error.column),
        ErrorReason::Runtime(runtime) => runtime.to_string(),
    }
}

impl fmt::Display for JmesPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for JmesPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("JmesPath").field(&self.as_str()).finish()
    }
}

impl PartialEq for JmesPath {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for JmesPath {}

/// A JMESPath expression did not compile, or failed on the data.
///
/// ```
/// use lambda_middleware_jmespath::JmesPathError;
///
/// let error = JmesPathError::Search { expression: "powertools_json(body)".into(), message: "the string is not JSON".into() };
/// assert_eq!(error.to_string(), "JMESPath `powertools_json(body)` failed on the event: the string is not JSON");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JmesPathError {
    /// The text is not a JMESPath expression.
    #[error("`{expression}` is not a JMESPath expression: {message}")]
    Invalid {
        /// The text.
        expression: String,
        /// What the parser said.
        message: String,
    },
    /// The expression failed on the data.
    #[error("JMESPath `{expression}` failed on the event: {message}")]
    Search {
        /// The expression.
        expression: String,
        /// What failed.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Write as _;

    fn gzip_base64(text: &str) -> String {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(text.as_bytes()).unwrap();
        base64::engine::general_purpose::STANDARD.encode(encoder.finish().unwrap())
    }

    #[test]
    fn the_powertools_functions() {
        let event = json!({
            "body": "{\"order_id\": \"o-1\"}",
            "data": base64::engine::general_purpose::STANDARD.encode("{\"n\": 2}"),
            "logs": gzip_base64("{\"logEvents\": [{\"message\": \"hi\"}]}"),
        });
        let search = |expression: &str| JmesPath::new(expression).unwrap().search(&event).unwrap();
        assert_eq!(search("powertools_json(body).order_id"), json!("o-1"));
        assert_eq!(search("powertools_base64(data)"), json!("{\"n\": 2}"));
        assert_eq!(search("powertools_json(powertools_base64(data)).n"), json!(2));
        assert_eq!(
            search("powertools_json(powertools_base64_gzip(logs)).logEvents[0].message"),
            json!("hi")
        );
    }

    #[test]
    fn the_named_envelopes() {
        let cloudwatch = json!({ "awslogs": { "data": gzip_base64(r#"{"logGroup": "g", "logEvents": [{"id": "1", "message": "m"}]}"#) } });
        assert_eq!(
            JmesPath::new(envelopes::CLOUDWATCH_LOGS)
                .unwrap()
                .search(&cloudwatch)
                .unwrap(),
            json!([{ "id": "1", "message": "m" }])
        );
        let kinesis = json!({ "Records": [{ "kinesis": { "data": "eyJpZCI6N30=" } }] });
        assert_eq!(
            JmesPath::new(envelopes::KINESIS_DATA_STREAM)
                .unwrap()
                .search(&kinesis)
                .unwrap(),
            json!([{ "id": 7 }])
        );
        let sns = json!({ "Records": [{ "Sns": { "Message": "{\"id\":8}" } }] });
        assert_eq!(
            JmesPath::new(envelopes::SNS).unwrap().search(&sns).unwrap(),
            json!({ "id": 8 })
        );
        let s3_sqs = json!({ "Records": [{ "body": "{\"Records\": [{\"s3\": {\"bucket\": {\"name\": \"b\"}}}]}" }] });
        assert_eq!(
            JmesPath::new(envelopes::S3_SQS).unwrap().search(&s3_sqs).unwrap(),
            json!([{ "s3": { "bucket": { "name": "b" } } }])
        );
        for expression in [
            envelopes::API_GATEWAY_REST,
            envelopes::EVENTBRIDGE,
            envelopes::S3_SNS_SQS,
            envelopes::S3_SNS_KINESIS_FIREHOSE,
            envelopes::S3_KINESIS_FIREHOSE,
            envelopes::S3_EVENTBRIDGE_SQS,
        ] {
            JmesPath::new(expression).unwrap();
        }
    }

    #[test]
    fn bad_data_is_an_error_not_a_panic() {
        for (expression, event) in [
            ("powertools_json(body)", json!({ "body": "{" })),
            ("powertools_base64(data)", json!({ "data": "%%%" })),
            ("powertools_base64(data)", json!({ "data": "/w==" })), // 0xff: not UTF-8
            ("powertools_base64_gzip(data)", json!({ "data": "aGVsbG8=" })),
            ("powertools_json(body)", json!({ "body": 7 })),
        ] {
            let error = JmesPath::new(expression).unwrap().search(&event).unwrap_err();
            assert!(matches!(error, JmesPathError::Search { .. }), "{expression}: {error}");
        }
    }

    #[test]
    fn expressions_are_send_and_sync() {
        fn shared<T: Send + Sync + 'static>() {}
        shared::<JmesPath>();
    }
}
