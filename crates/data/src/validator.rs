//! [`Validator`]: JSON Schema validation of the event and the response, with the
//! schemas compiled once.

use std::any::Any;
use std::borrow::Cow;
use std::fmt;

use lambda_runtime::{Context, Error};
use serde::Serialize;
use serde_json::Value;
use typed_builder::TypedBuilder;

use lambda_middleware_core::Flow;
use lambda_middleware_core::JsonPointer;
use lambda_middleware_core::Middleware;

/// Validates the event against a JSON Schema before the handler, and optionally the
/// response after it — Powertools' `@validator`, Middy's `validator`. Feature
/// `validation`.
///
/// The schemas are compiled once, when the [`ValidatorParams`] are made: an invalid
/// schema is an error there ([`ValidationSetupError`]), at start-up, never on an
/// invocation. Schemas must be self-contained: a `$ref` to a remote document is a setup
/// error (nothing is fetched over the network).
///
/// An event that does not match fails the invocation with a [`ValidationError`]
/// (the handler does not run) listing every failing instance path with its message
/// (up to `max_violations`). Messages never
/// quote the event's values, so they are safe to log and to return to the caller;
/// `HttpErrorHandler` turns an inbound violation into a
/// 400 and an outbound one into a 500.
///
/// With an `envelope`, only the part of the event
/// at that JSON pointer is validated; a string there holding JSON — API Gateway's
/// `body` — is parsed first. A missing envelope, or a body that is not JSON, is a
/// violation at the envelope's path.
///
/// Works for any event `E: Serialize` and response `R: Serialize`. A
/// `serde_json::Value` is validated where it is; another type is serialized to JSON
/// first (one copy). Its name for tracing is `validator`.
///
/// # Example
///
/// ```
/// use lambda_middleware::middlewares::{Direction, ValidationError, Validator, ValidatorParams};
/// use lambda_middleware::{Context, Error, Handler};
/// use serde_json::{json, Value};
///
/// async fn handler(event: Value, _: &Context) -> Result<Value, Error> {
///     Ok(json!({ "nights": event["nights"] }))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let params = ValidatorParams::new(json!({
///     "type": "object",
///     "required": ["email", "nights"],
///     "properties": { "email": { "type": "string" }, "nights": { "type": "integer", "minimum": 1 } },
/// }))?;
/// let handler = Handler::builder().middleware_with(Validator, params).handler(handler)?;
///
/// let ok = handler.invoke_with(json!({ "email": "a@example.com", "nights": 2 }), &Context::default()).await;
/// assert_eq!(ok?, json!({ "nights": 2 }));
///
/// let error = handler.invoke_with(json!({ "nights": 0 }), &Context::default()).await.unwrap_err();
/// let violation = error.downcast_ref::<ValidationError>().unwrap();
/// assert_eq!(violation.direction(), Direction::Inbound);
/// assert_eq!(violation.violations().len(), 2);
/// assert_eq!(
///     error.to_string(),
///     "the event does not match its schema: 2 violations: \
///      (root): \"email\" is a required property; /nights: value is less than the minimum of 1",
/// );
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Validator;

/// The compiled schemas of a [`Validator`].
///
/// Made by [`ValidatorParams::new`] (an inbound schema only) or
/// [`ValidatorParams::builder`] (everything), both fallible: an invalid schema is an
/// error here, once.
///
/// ```
/// use lambda_middleware::middlewares::{ValidationSetupError, ValidatorParams};
/// use serde_json::json;
///
/// let params = ValidatorParams::new(json!({ "type": "object" }))?;
///
/// let error = ValidatorParams::new(json!({ "type": "banana" })).unwrap_err();
/// assert!(matches!(error, ValidationSetupError::InvalidSchema { direction: _, .. }));
/// assert!(error.to_string().starts_with("the inbound schema is not a valid JSON Schema: "));
/// # Ok::<(), ValidationSetupError>(())
/// ```
pub struct ValidatorParams {
    inbound: jsonschema::Validator,
    outbound: Option<jsonschema::Validator>,
    envelope: Option<ValidatorEnvelope>,
    max_violations: usize,
}

/// Where the validated part of the event is.
enum ValidatorEnvelope {
    Pointer(JsonPointer),
    #[cfg(feature = "jmespath")]
    JmesPath(lambda_middleware_jmespath::JmesPath),
}

impl fmt::Display for ValidatorEnvelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidatorEnvelope::Pointer(pointer) => write!(f, "{pointer}"),
            #[cfg(feature = "jmespath")]
            ValidatorEnvelope::JmesPath(expression) => write!(f, "{expression}"),
        }
    }
}

impl ValidatorEnvelope {
    fn new(text: &str) -> Result<Self, ValidationSetupError> {
        if text.is_empty() || text.starts_with('/') {
            return Ok(ValidatorEnvelope::Pointer(JsonPointer::new(text)));
        }
        #[cfg(feature = "jmespath")]
        {
            lambda_middleware_jmespath::JmesPath::new(text)
                .map(ValidatorEnvelope::JmesPath)
                .map_err(|error| ValidationSetupError::InvalidEnvelope {
                    envelope: text.to_owned(),
                    reason: error.to_string(),
                })
        }
        #[cfg(not(feature = "jmespath"))]
        Err(ValidationSetupError::InvalidEnvelope {
            envelope: text.to_owned(),
            reason: "expected a JSON pointer (`/body`); JMESPath expressions need the `jmespath` feature".to_owned(),
        })
    }
}

impl fmt::Debug for ValidatorParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidatorParams")
            .field("outbound", &self.outbound.is_some())
            .field("envelope", &self.envelope.as_ref().map(ToString::to_string))
            .field("max_violations", &self.max_violations)
            .finish_non_exhaustive()
    }
}

/// The schemas and settings of a [`Validator`], before compilation: what
/// [`ValidatorParams::builder`] builds; its `build()` compiles them and returns
/// `Result<ValidatorParams, ValidationSetupError>`.
///
/// ```
/// use lambda_middleware::middlewares::{ValidationSetupError, ValidatorParams};
/// use serde_json::json;
///
/// let params: ValidatorParams = ValidatorParams::builder()
///     .inbound(json!({ "type": "object", "required": ["id"] }))
///     .outbound(json!({ "type": "object", "required": ["statusCode"] }))
///     .envelope("/body")
///     .max_violations(20)
///     .build()?;
/// # Ok::<(), ValidationSetupError>(())
/// ```
#[derive(Debug, Clone, TypedBuilder)]
#[builder(build_method(into = Result<ValidatorParams, ValidationSetupError>))]
pub struct ValidatorSchemas {
    /// The schema of the event (or of its envelope). Required.
    pub inbound: Value,
    /// The schema of the response. Default: none, the response is not validated.
    #[builder(default, setter(strip_option))]
    pub outbound: Option<Value>,
    /// The part of the event to validate: a JSON pointer (`/body`, `/detail`), or, with
    /// the `jmespath` feature, Powertools' JMESPath envelope as it is
    /// (`powertools_json(body)`, `detail`, `lambda_middleware::jmespath::envelopes::SQS`).
    /// A text starting with `/` is a pointer. Default: none, the whole event.
    #[builder(default, setter(strip_option, into))]
    pub envelope: Option<String>,
    /// The most violations one error lists; the rest are counted. Default: 50.
    #[builder(default = 50)]
    pub max_violations: usize,
}

impl From<ValidatorSchemas> for Result<ValidatorParams, ValidationSetupError> {
    fn from(schemas: ValidatorSchemas) -> Self {
        let compile = |schema: &Value, direction| {
            jsonschema::validator_for(schema).map_err(|error| ValidationSetupError::InvalidSchema {
                direction,
                reason: error.to_string(),
            })
        };
        Ok(ValidatorParams {
            inbound: compile(&schemas.inbound, Direction::Inbound)?,
            outbound: schemas
                .outbound
                .as_ref()
                .map(|schema| compile(schema, Direction::Outbound))
                .transpose()?,
            envelope: schemas.envelope.as_deref().map(ValidatorEnvelope::new).transpose()?,
            max_violations: schemas.max_violations,
        })
    }
}

impl ValidatorParams {
    /// Compiles `inbound`, the schema of the event.
    ///
    /// # Errors
    ///
    /// [`ValidationSetupError::InvalidSchema`] when it is not a valid JSON Schema.
    ///
    /// ```
    /// use lambda_middleware::middlewares::ValidatorParams;
    /// use serde_json::json;
    ///
    /// let params = ValidatorParams::new(json!({ "type": "object", "required": ["orderId"] }))?;
    /// # Ok::<(), lambda_middleware::middlewares::ValidationSetupError>(())
    /// ```
    pub fn new(inbound: Value) -> Result<Self, ValidationSetupError> {
        ValidatorSchemas::builder().inbound(inbound).build()
    }

    /// The builder of every setting: inbound and outbound schemas, envelope, how many
    /// violations to list. See [`ValidatorSchemas`].
    ///
    /// ```
    /// use lambda_middleware::middlewares::ValidatorParams;
    /// use serde_json::json;
    ///
    /// let params = ValidatorParams::builder()
    ///     .inbound(json!({ "type": "object" }))
    ///     .outbound(json!({ "type": "object", "required": ["statusCode"] }))
    ///     .build()?;
    /// # Ok::<(), lambda_middleware::middlewares::ValidationSetupError>(())
    /// ```
    pub fn builder() -> ValidatorSchemasBuilder {
        ValidatorSchemas::builder()
    }
}

/// Which way a value was going when it was validated.
///
/// ```
/// use lambda_middleware::middlewares::Direction;
///
/// assert_eq!(Direction::Inbound.to_string(), "inbound");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The event, before the handler.
    Inbound,
    /// The response, after the handler.
    Outbound,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        })
    }
}

/// A schema given to [`ValidatorParams`] could not be compiled.
///
/// ```
/// use lambda_middleware::middlewares::{Direction, ValidationSetupError, ValidatorParams};
/// use serde_json::json;
///
/// let error = ValidatorParams::builder()
///     .inbound(json!({ "type": "object" }))
///     .outbound(json!({ "minimum": "three" }))
///     .build()
///     .unwrap_err();
/// let ValidationSetupError::InvalidSchema { direction, reason } = &error else { unreachable!() };
/// assert_eq!(*direction, Direction::Outbound);
/// assert!(reason.contains("three"), "{reason}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationSetupError {
    /// The schema is not a valid JSON Schema, or refers to a document that is not in it.
    #[error("the {direction} schema is not a valid JSON Schema: {reason}")]
    InvalidSchema {
        /// Which schema.
        direction: Direction,
        /// What is wrong with it, as the JSON Schema compiler says.
        reason: String,
    },
    /// The envelope is neither a JSON pointer nor (with the `jmespath` feature) a
    /// JMESPath expression.
    #[error("the envelope {envelope:?} is not valid: {reason}")]
    InvalidEnvelope {
        /// The envelope as given.
        envelope: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// One place where a value does not match its schema.
///
/// ```
/// use lambda_middleware::middlewares::Violation;
///
/// let violation = Violation { instance_path: "/nights".into(), message: "value is less than the minimum of 1".into() };
/// assert_eq!(violation.to_string(), "/nights: value is less than the minimum of 1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// A JSON pointer to the failing value in the validated document (`""` for the
    /// document itself).
    pub instance_path: String,
    /// What is wrong there. It names the constraint, never the value.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.instance_path.is_empty() {
            "(root)"
        } else {
            &self.instance_path
        };
        write!(f, "{path}: {}", self.message)
    }
}

/// The event (inbound) or the response (outbound) does not match its schema.
///
/// ```
/// use lambda_middleware::middlewares::{Direction, ValidationError, Violation};
///
/// fn explain(error: &ValidationError) -> Vec<String> {
///     error.violations().iter().map(|v| format!("{} {}", v.instance_path, v.message)).collect()
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    direction: Direction,
    violations: Vec<Violation>,
    omitted: usize,
}

impl ValidationError {
    /// Whether the event or the response failed.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::{Direction, ValidationError};
    /// fn status(error: &ValidationError) -> u16 {
    ///     match error.direction() {
    ///         Direction::Inbound => 400,  // the caller sent something wrong
    ///         Direction::Outbound => 500, // the function answered something wrong
    ///     }
    /// }
    /// ```
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// Every failing path with its message (at most `max_violations`).
    ///
    /// ```
    /// # use lambda_middleware::middlewares::ValidationError;
    /// fn paths(error: &ValidationError) -> Vec<&str> {
    ///     error.violations().iter().map(|v| v.instance_path.as_str()).collect()
    /// }
    /// ```
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// How many violations were found beyond those listed.
    ///
    /// ```
    /// # use lambda_middleware::middlewares::ValidationError;
    /// fn total(error: &ValidationError) -> usize {
    ///     error.violations().len() + error.omitted()
    /// }
    /// ```
    pub fn omitted(&self) -> usize {
        self.omitted
    }

    fn single(direction: Direction, instance_path: &str, message: String) -> Self {
        ValidationError {
            direction,
            violations: vec![Violation {
                instance_path: instance_path.to_owned(),
                message,
            }],
            omitted: 0,
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.direction {
            Direction::Inbound => "the event",
            Direction::Outbound => "the response",
        };
        let count = self.violations.len() + self.omitted;
        let plural = if count == 1 { "" } else { "s" };
        write!(f, "{what} does not match its schema: {count} violation{plural}: ")?;
        for (index, violation) in self.violations.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{violation}")?;
        }
        if self.omitted > 0 {
            write!(f, "; and {} more", self.omitted)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationError {}

impl<E, R> Middleware<E, R> for Validator
where
    E: Serialize + Send + 'static,
    R: Serialize + Send + 'static,
{
    type Params = ValidatorParams;

    fn name(&self) -> &'static str {
        "validator"
    }

    fn before(&self, params: &ValidatorParams, event: &mut E, _: &Context) -> Result<Flow<R>, Error> {
        validate_inbound(params, event)?;
        Ok(Flow::Continue)
    }

    fn after(&self, params: &ValidatorParams, response: &mut R, _: &Context) -> Result<(), Error> {
        if let Some(outbound) = &params.outbound {
            validate(outbound, Direction::Outbound, response, params.max_violations)?;
        }
        Ok(())
    }
}

fn validate_inbound<E: Serialize + 'static>(params: &ValidatorParams, event: &E) -> Result<(), ValidationError> {
    let pointer = match &params.envelope {
        None => return validate(&params.inbound, Direction::Inbound, event, params.max_violations),
        Some(ValidatorEnvelope::Pointer(pointer)) => pointer,
        #[cfg(feature = "jmespath")]
        Some(ValidatorEnvelope::JmesPath(expression)) => {
            let json = as_json(event, Direction::Inbound)?;
            let found = expression
                .search(&json)
                .map_err(|error| ValidationError::single(Direction::Inbound, expression.as_str(), error.to_string()))?;
            return check(&params.inbound, Direction::Inbound, &found, params.max_violations);
        }
    };
    let text = &pointer.to_string();
    let json = as_json(event, Direction::Inbound)?;
    let Some(inner) = pointer.find(&json) else {
        return Err(ValidationError::single(Direction::Inbound, text, "is missing".into()));
    };
    let inner = match inner.as_ref() {
        // A string envelope that did not parse as a JSON object or array (`find` parses
        // those on the way) is a body that is not JSON, or a JSON scalar.
        Value::String(body) => match serde_json::from_str::<Value>(body) {
            Ok(parsed) => Cow::Owned(parsed),
            Err(error) => {
                return Err(ValidationError::single(
                    Direction::Inbound,
                    text,
                    format!("is not valid JSON ({error})"),
                ));
            }
        },
        _ => inner,
    };
    check(&params.inbound, Direction::Inbound, &inner, params.max_violations)
}

fn validate<T: Serialize + 'static>(
    schema: &jsonschema::Validator,
    direction: Direction,
    value: &T,
    max_violations: usize,
) -> Result<(), ValidationError> {
    let json = as_json(value, direction)?;
    check(schema, direction, &json, max_violations)
}

/// `value` as JSON: borrowed when it is a `serde_json::Value`, serialized otherwise.
fn as_json<T: Serialize + 'static>(value: &T, direction: Direction) -> Result<Cow<'_, Value>, ValidationError> {
    match (value as &dyn Any).downcast_ref::<Value>() {
        Some(json) => Ok(Cow::Borrowed(json)),
        None => serde_json::to_value(value)
            .map(Cow::Owned)
            .map_err(|error| ValidationError::single(direction, "", format!("cannot be serialized as JSON ({error})"))),
    }
}

fn check(
    schema: &jsonschema::Validator,
    direction: Direction,
    json: &Value,
    max_violations: usize,
) -> Result<(), ValidationError> {
    if schema.is_valid(json) {
        return Ok(());
    }
    let mut violations = Vec::new();
    let mut omitted = 0;
    for error in schema.iter_errors(json) {
        if violations.len() < max_violations {
            violations.push(Violation {
                instance_path: error.instance_path().as_str().to_owned(),
                // Masked: the message names the constraint, not the value (which may be
                // personal data, or megabytes long).
                message: error.masked().to_string(),
            });
        } else {
            omitted += 1;
        }
    }
    Err(ValidationError {
        direction,
        violations,
        omitted,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Direction, ValidatorParams, validate_inbound};

    fn params(envelope: Option<&str>) -> ValidatorParams {
        let schemas = ValidatorParams::builder()
            .inbound(json!({ "type": "object", "required": ["id"], "properties": { "id": { "type": "integer" } } }))
            .max_violations(2);
        match envelope {
            Some(envelope) => schemas.envelope(envelope).build().unwrap(),
            None => schemas.build().unwrap(),
        }
    }

    #[test]
    fn an_envelope_that_is_missing_or_not_json_is_a_violation() {
        let params = params(Some("/body"));
        let missing = validate_inbound(&params, &json!({ "headers": {} })).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "the event does not match its schema: 1 violation: /body: is missing"
        );
        let not_json = validate_inbound(&params, &json!({ "body": "id=1" })).unwrap_err();
        assert!(
            not_json.violations()[0].message.starts_with("is not valid JSON"),
            "{not_json}"
        );
        let scalar = validate_inbound(&params, &json!({ "body": "42" })).unwrap_err();
        assert_eq!(scalar.violations()[0].message, "value is not of type \"object\"");
        validate_inbound(&params, &json!({ "body": "{\"id\": 7}" })).unwrap();
        validate_inbound(&params, &json!({ "body": { "id": 7 } })).unwrap();
    }

    #[cfg(feature = "jmespath")]
    #[test]
    fn a_powertools_envelope_is_a_jmespath_expression() {
        let params = params(Some("powertools_json(body)"));
        validate_inbound(&params, &json!({ "body": "{\"id\": 7}" })).unwrap();
        let scalar = validate_inbound(&params, &json!({ "body": "42" })).unwrap_err();
        assert_eq!(scalar.violations()[0].message, "value is not of type \"object\"");
        let not_json = validate_inbound(&params, &json!({ "body": "id=1" })).unwrap_err();
        assert_eq!(not_json.violations()[0].instance_path, "powertools_json(body)");
        // Powertools' SQS envelope validates the list of bodies.
        let sqs = ValidatorParams::builder()
            .inbound(json!({ "type": "array", "items": { "type": "object", "required": ["id"] } }))
            .envelope(lambda_middleware_jmespath::envelopes::SQS)
            .build()
            .unwrap();
        validate_inbound(&sqs, &json!({ "Records": [{ "body": "{\"id\": 1}" }] })).unwrap();
        assert!(validate_inbound(&sqs, &json!({ "Records": [{ "body": "{}" }] })).is_err());
        let invalid = ValidatorParams::builder()
            .inbound(json!({}))
            .envelope("Records[")
            .build()
            .unwrap_err();
        assert!(
            matches!(invalid, super::ValidationSetupError::InvalidEnvelope { .. }),
            "{invalid}"
        );
    }

    #[cfg(not(feature = "jmespath"))]
    #[test]
    fn without_the_jmespath_feature_an_envelope_is_a_pointer() {
        let error = ValidatorParams::builder()
            .inbound(json!({}))
            .envelope("powertools_json(body)")
            .build()
            .unwrap_err();
        assert!(error.to_string().contains("the `jmespath` feature"), "{error}");
    }

    #[test]
    fn messages_do_not_quote_the_values_and_are_capped() {
        let params = ValidatorParams::builder()
            .inbound(json!({ "type": "array", "items": { "type": "integer" } }))
            .max_violations(2)
            .build()
            .unwrap();
        let secret = "4111-1111-1111-1111";
        let error = validate_inbound(&params, &json!([secret, secret, secret, 4])).unwrap_err();
        assert_eq!(error.direction(), Direction::Inbound);
        assert_eq!(error.violations().len(), 2);
        assert_eq!(error.omitted(), 1);
        assert!(!error.to_string().contains(secret), "{error}");
        assert!(error.to_string().ends_with("; and 1 more"), "{error}");
    }

    #[test]
    fn a_large_event_is_checked_without_quoting_it() {
        let params = params(None);
        let event = json!({ "id": "x".repeat(6 * 1024 * 1024) });
        let error = validate_inbound(&params, &event).unwrap_err();
        assert!(error.to_string().len() < 200, "{error}");
    }

    #[test]
    fn remote_references_are_a_setup_error() {
        let error = ValidatorParams::new(json!({ "$ref": "https://example.com/schema.json" })).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("the inbound schema is not a valid JSON Schema"),
            "{error}"
        );
    }
}
