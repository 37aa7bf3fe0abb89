//! [`Parse`]: a JSON event, or the JSON inside it, parsed into the type the handler
//! takes — Powertools' `event_parser(model=..., envelope=...)`, typed.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;

use base64::Engine as _;
use lambda_runtime::{Context, Error};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use lambda_middleware_core::Invoke;
use lambda_middleware_core::JsonPointer;
use lambda_middleware_core::Transform;
use lambda_middleware_core::{Next, Proceeded};

/// Parses the event — a `serde_json::Value` — into a `T`, or the JSON inside an
/// envelope of it into a `T` (or a `Vec<T>` for batches), and hands that to the rest of
/// the chain. A [`Transform`]: add it with
/// [`transform`](lambda_middleware_core::HandlerBuilder::transform).
///
/// | envelope | where the JSON is | hands inwards |
/// |----------|-------------------|---------------|
/// | [`WholeEvent`] (the default) | the event itself | `T` |
/// | [`ApiGatewayBody`] | `body` of an API Gateway REST (v1) or HTTP (v2) proxy event, base64 if `isBase64Encoded` | `T` |
/// | [`FunctionUrlBody`] | `body` of a Lambda function URL event, base64 if `isBase64Encoded` | `T` |
/// | [`EventBridgeDetail`] | `detail` | `T` |
/// | [`SqsBodies`] | `body` of each of `Records` | `Vec<T>` |
/// | [`SnsMessage`] | `Message` of the one record of `Records` | `T` |
/// | [`SnsInSqs`] | `Message` of the SNS notification in the `body` of each SQS record | `Vec<T>` |
/// | [`KinesisData`] | `kinesis.data` (base64) of each of `Records` | `Vec<T>` |
/// | [`DynamoDbNewImages`] | `dynamodb.NewImage` (DynamoDB JSON) of each of `Records` | `Vec<T>` |
/// | [`SqsBody`] | `body` of one SQS record | `T` |
/// | [`KinesisRecordData`] | `kinesis.data` (base64) of one Kinesis record | `T` |
/// | [`DynamoDbNewImage`], [`DynamoDbOldImage`] | `dynamodb.NewImage` / `OldImage` (DynamoDB JSON) of one DynamoDB Streams record | `T` |
/// | [`KafkaValue`] | `value` (base64) of one Kafka record | `T` |
/// | [`At`] | at a [`JsonPointer`], parsed if it is a string | `T` |
///
/// The batch envelopes (`Vec<T>`) are all or nothing: one record that does not parse
/// fails the whole invocation, and Lambda retries the whole batch. To fail only that
/// record, process the batch with a [`Batch`](crate::Batch) and parse each record in its
/// record chain with a one-record envelope ([`SqsBody`], [`KinesisRecordData`],
/// [`DynamoDbNewImage`], [`KafkaValue`]).
///
/// The events are `serde_json::Value` by default; [`over`](Parse::over) makes the same
/// parser read any `Serialize` event (an `SqsMessage`, say) through its JSON.
///
/// An event that does not fit fails the invocation with a [`ParseError`] naming where
/// (`/Records/2/body`) and what serde said; the handler does not run. With
/// `HttpErrorHandler` outside it, an HTTP event is answered
/// `400` with that message. Because the chain takes `serde_json::Value`, an event that
/// would not even deserialise into `aws_lambda_events`' types reaches the middlewares,
/// which log and answer it, instead of failing in the runtime before any of them runs.
///
/// Its name for tracing is `parse`.
///
/// # Example
///
/// ```
/// use lambda_middleware::middlewares::{ApiGatewayBody, HttpErrorHandler, HttpErrorHandlerParams, Parse};
/// use lambda_middleware::{Context, Error, Handler};
/// use serde::Deserialize;
/// use serde_json::{json, Value};
///
/// #[derive(Deserialize)]
/// struct Order { id: u64, quantity: u32 }
///
/// async fn handler(order: Order, _: &Context) -> Result<Value, Error> {
///     Ok(json!({ "statusCode": 200, "body": format!("{} x {}", order.quantity, order.id) }))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let handler = Handler::builder()
///     .middleware_with(HttpErrorHandler, HttpErrorHandlerParams::builder().build())
///     .transform(Parse::<Order>::in_envelope(ApiGatewayBody))
///     .handler(handler)?;
/// let context = Context::default();
///
/// let ok = json!({ "httpMethod": "POST", "body": r#"{"id":7,"quantity":2}"# });
/// assert_eq!(handler.invoke_with(ok, &context).await?["body"], "2 x 7");
///
/// let bad = json!({ "httpMethod": "POST", "body": r#"{"id":"seven"}"# });
/// let response = handler.invoke_with(bad, &context).await?;
/// assert_eq!(response["statusCode"], 400);
/// assert!(response["body"].as_str().unwrap().contains("/body"));
/// # Ok(()) }
/// ```
pub struct Parse<T, Env = WholeEvent, Src = Value> {
    envelope: Env,
    _target: PhantomData<fn(Src) -> T>,
}

impl<T> Parse<T> {
    /// Parses the whole event into a `T`.
    ///
    /// ```
    /// use lambda_middleware::middlewares::Parse;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Order { id: u64 }
    ///
    /// let parse = Parse::<Order>::new();
    /// ```
    pub const fn new() -> Self {
        Parse {
            envelope: WholeEvent,
            _target: PhantomData,
        }
    }

    /// Parses the JSON inside `envelope` (see the table of [`Parse`]).
    ///
    /// ```
    /// use lambda_middleware::middlewares::{At, Parse, SqsBodies};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Order { id: u64 }
    ///
    /// let each_record = Parse::<Order>::in_envelope(SqsBodies); // hands a `Vec<Order>` inwards
    /// let nested = Parse::<Order>::in_envelope(At::new("/detail/order"));
    /// ```
    pub fn in_envelope<Env: Envelope>(envelope: Env) -> Parse<T, Env> {
        Parse {
            envelope,
            _target: PhantomData,
        }
    }
}

impl<T, Env> Parse<T, Env> {
    /// The same parser for a chain whose events are of type `E` — an `SqsMessage`, a
    /// `KinesisEventRecord`, any `Serialize` type — rather than `serde_json::Value`: the
    /// envelope opens the event's JSON (its serde serialisation), so the pointers are
    /// the JSON field names (`/body`, `/kinesis/data`).
    ///
    /// A batch's record chain needs no `over`: the batch hands a chain of
    /// `serde_json::Value` each record's JSON (see `FromRecord`). With `over` on the
    /// source's typed record, the one-record envelopes ([`SqsBody`],
    /// [`KinesisRecordData`], [`KafkaValue`]) read the payload straight from it, without
    /// making the record's JSON: the cheaper form (see `benches/batch.rs`).
    ///
    /// ```
    /// use lambda_middleware::middlewares::{At, Parse};
    /// use lambda_middleware::{Context, Error, Handler};
    ///
    /// #[derive(serde::Serialize)]
    /// struct Envelope { id: String, payload: String }
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Order { quantity: u32 }
    ///
    /// async fn handler(order: Order, _: &Context) -> Result<u32, Error> { Ok(order.quantity) }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let handler = Handler::builder()
    ///     .transform(Parse::<Order>::in_envelope(At::new("/payload")).over::<Envelope>())
    ///     .handler(handler)?;
    /// let event = Envelope { id: "e-1".into(), payload: r#"{"quantity":3}"#.into() };
    /// assert_eq!(handler.invoke_with(event, &Context::default()).await?, 3);
    /// # Ok(()) }
    /// ```
    pub fn over<E>(self) -> Parse<T, Env, E> {
        Parse {
            envelope: self.envelope,
            _target: PhantomData,
        }
    }
}

impl<T> Default for Parse<T> {
    fn default() -> Self {
        Parse::new()
    }
}

impl<T, Env: fmt::Debug, Src> fmt::Debug for Parse<T, Env, Src> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parse")
            .field("target", &std::any::type_name::<T>())
            .field("envelope", &self.envelope)
            .field("event", &std::any::type_name::<Src>())
            .finish()
    }
}

impl<T: Send, Env: Clone, Src> Clone for Parse<T, Env, Src> {
    fn clone(&self) -> Self {
        Parse {
            envelope: self.envelope.clone(),
            _target: PhantomData,
        }
    }
}

impl<T, Env, R, Src> Transform<Env::Output<T>, R> for Parse<T, Env, Src>
where
    T: DeserializeOwned + Send,
    Env: Envelope,
    Env::Output<T>: Send,
    R: Send,
    Src: Serialize + Send + 'static,
{
    type Event = Src;
    type Response = R;
    type Params = ();

    fn name(&self) -> &'static str {
        "parse"
    }

    async fn call<'n, I>(
        &self,
        _: &(),
        event: Src,
        _: &Context,
        next: Next<'n, I, R>,
    ) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<Env::Output<T>, Response = R>,
    {
        let parsed = match self.envelope.open_event::<T, Src>(event) {
            Ok(parsed) => parsed,
            Err(error) => {
                tracing::warn!(error = %error, "the event does not parse; the handler does not run");
                return Err(error.into());
            }
        };
        Ok(next.run(parsed).await?)
    }
}

/// The event, or part of it, did not parse into the type the handler takes.
///
/// ```
/// use lambda_middleware::middlewares::{Envelope, SqsBodies};
/// use serde_json::json;
///
/// #[derive(Debug, serde::Deserialize)]
/// struct Order { id: u64 }
///
/// let event = json!({ "Records": [{ "body": "{\"id\":1}" }, { "body": "{\"id\":\"two\"}" }] });
/// let error = SqsBodies.open::<Order>(event).unwrap_err();
/// assert_eq!(error.path(), "/Records/1/body");
/// assert_eq!(
///     error.to_string(),
///     "the event does not parse at /Records/1/body: invalid type: string \"two\", expected u64 at line 1 column 11",
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the event does not parse at {}: {message}", if path.is_empty() { "its root" } else { path })]
pub struct ParseError {
    path: String,
    message: String,
}

impl ParseError {
    fn new(path: impl Into<String>, message: impl fmt::Display) -> Self {
        ParseError {
            path: path.into(),
            message: message.to_string(),
        }
    }

    /// Where in the event: a JSON pointer, empty for the event itself (or the JMESPath
    /// expression of a [`JmesPath`](lambda_middleware_jmespath::JmesPath) envelope).
    ///
    /// ```
    /// use lambda_middleware::middlewares::{Envelope, EventBridgeDetail};
    /// use serde_json::json;
    ///
    /// let error = EventBridgeDetail.open::<u8>(json!({})).unwrap_err();
    /// assert_eq!(error.path(), "/detail");
    /// ```
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What went wrong there: serde's message, or what was missing.
    ///
    /// ```
    /// use lambda_middleware::middlewares::{Envelope, EventBridgeDetail};
    /// use serde_json::json;
    ///
    /// let error = EventBridgeDetail.open::<u8>(json!({})).unwrap_err();
    /// assert_eq!(error.message(), "missing");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Where in the event the JSON to parse is, and what parsing it hands inwards.
///
/// Implemented by the envelopes of [`Parse`]'s table; implement it for an event shape
/// of your own.
///
/// ```
/// use lambda_middleware::middlewares::{Envelope, ParseError, WholeEvent};
/// use serde::de::DeserializeOwned;
/// use serde_json::{json, Value};
///
/// /// The `payload` of a custom event, or the event itself when it has none.
/// #[derive(Debug, Clone)]
/// struct Payload;
///
/// impl Envelope for Payload {
///     type Output<T> = T;
///
///     fn open<T: DeserializeOwned>(&self, mut event: Value) -> Result<T, ParseError> {
///         match event.get_mut("payload").map(Value::take) {
///             Some(payload) => WholeEvent.open(payload),
///             None => WholeEvent.open(event),
///         }
///     }
/// }
///
/// assert_eq!(Payload.open::<u8>(json!({ "payload": 3 })).unwrap(), 3);
/// ```
pub trait Envelope: Send + Sync {
    /// What parsing hands inwards: `T`, or `Vec<T>` for the batch envelopes.
    type Output<T>;

    /// Takes the JSON out of `event` and parses it.
    ///
    /// # Errors
    ///
    /// [`ParseError`] naming the path that is missing, not of the expected shape, or
    /// does not deserialise into `T`.
    fn open<T: DeserializeOwned>(&self, event: Value) -> Result<Self::Output<T>, ParseError>;

    /// Takes the JSON out of an event of any `Serialize` type and parses it: by default
    /// the event's JSON through [`open`](Envelope::open). [`Parse::over`] calls it; the
    /// one-record envelopes read their own source's typed record directly
    /// ([`SqsBody`] the `body` of an `SqsMessage`, …), without making its JSON first.
    ///
    /// # Errors
    ///
    /// As [`open`](Envelope::open); also when the event does not serialise to JSON.
    ///
    /// ```
    /// use lambda_middleware::middlewares::{Envelope, WholeEvent};
    ///
    /// #[derive(serde::Serialize)]
    /// struct Reading { sensor: &'static str, value: f64 }
    ///
    /// let value: serde_json::Value = WholeEvent.open_event(Reading { sensor: "s-1", value: 2.5 }).unwrap();
    /// assert_eq!(value["sensor"], "s-1");
    /// ```
    fn open_event<T: DeserializeOwned, E: Serialize + 'static>(&self, event: E) -> Result<Self::Output<T>, ParseError> {
        self.open(json_of(event)?)
    }
}

/// The event itself when it is an `R`, taken out of `slot`; `None`, leaving it there,
/// when it is another type.
#[cfg_attr(not(any(feature = "sqs", feature = "kinesis", feature = "kafka")), allow(dead_code))]
fn typed<R: 'static, E: 'static>(slot: &mut Option<E>) -> Option<R> {
    (slot as &mut dyn Any)
        .downcast_mut::<Option<R>>()
        .and_then(Option::take)
}

/// The event's JSON, for the default path of `open_event` after a typed look failed.
#[cfg_attr(not(any(feature = "sqs", feature = "kinesis", feature = "kafka")), allow(dead_code))]
fn json_of_slot<E: Serialize + 'static>(slot: Option<E>) -> Result<Value, ParseError> {
    match slot {
        Some(event) => json_of(event),
        None => Err(ParseError::new("", "the event was already read")),
    }
}

/// The whole event.
///
/// ```
/// use lambda_middleware::middlewares::{Envelope, WholeEvent};
/// assert_eq!(WholeEvent.open::<Vec<u8>>(serde_json::json!([1, 2])).unwrap(), [1, 2]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct WholeEvent;

impl Envelope for WholeEvent {
    type Output<T> = T;

    fn open<T: DeserializeOwned>(&self, event: Value) -> Result<T, ParseError> {
        deserialize(event, "")
    }
}

/// The `body` of an API Gateway proxy event, REST (v1) or HTTP API (v2) payload: JSON
/// text, decoded from base64 first when `isBase64Encoded` is true.
///
/// ```
/// use lambda_middleware::middlewares::{ApiGatewayBody, Envelope};
/// use serde_json::json;
///
/// let plain = json!({ "body": "[1,2]", "isBase64Encoded": false });
/// assert_eq!(ApiGatewayBody.open::<Vec<u8>>(plain).unwrap(), [1, 2]);
/// let encoded = json!({ "body": "WzEsMl0=", "isBase64Encoded": true });
/// assert_eq!(ApiGatewayBody.open::<Vec<u8>>(encoded).unwrap(), [1, 2]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiGatewayBody;

impl Envelope for ApiGatewayBody {
    type Output<T> = T;

    fn open<T: DeserializeOwned>(&self, event: Value) -> Result<T, ParseError> {
        http_body(&event)
    }
}

/// The `body` of a Lambda function URL event (the HTTP API v2 payload format), decoded
/// from base64 first when `isBase64Encoded` is true.
///
/// ```
/// use lambda_middleware::middlewares::{Envelope, FunctionUrlBody};
/// use serde_json::json;
///
/// let event = json!({ "rawPath": "/", "body": "{\"id\":1}", "isBase64Encoded": false });
/// assert_eq!(FunctionUrlBody.open::<serde_json::Value>(event).unwrap()["id"], 1);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct FunctionUrlBody;

impl Envelope for FunctionUrlBody {
    type Output<T> = T;

    fn open<T: DeserializeOwned>(&self, event: Value) -> Result<T, ParseError> {
        http_body(&event)
    }
}

/// The `detail` of an EventBridge event.
///
/// ```
/// use lambda_middleware::middlewares::{Envelope, EventBridgeDetail};
/// use serde_json::json;
///
/// let event = json!({ "detail-type": "OrderPlaced", "source": "shop", "detail": { "id": 7 } });
/// assert_eq!(EventBridgeDetail.open::<serde_json::Value>(event).unwrap()["id"], 7);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct EventBridgeDetail;

impl Envelope for EventBridgeDetail {
    type Output<T> = T;

    fn open<T: DeserializeOwned>(&self, mut event: Value) -> Result<T, ParseError> {
        let detail = take(&mut event, "detail").ok_or_else(|| ParseError::new("/detail", "missing"))?;
        deserialize(detail, "/detail")
    }
}

/// The `body` of each record of an SQS event, in order.
///
/// ```
/// use lambda_middleware::middlewares::{Envelope, SqsBodies};
/// use serde_json::json;
///
/// let event = json!({ "Records": [{ "messageId": "a", "body": "1" }, { "messageId": "b", "body": "2" }] });
/// assert_eq!(SqsBodies.open::<u8>(event).unwrap(), [1, 2]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SqsBodies;

impl Envelope for SqsBodies {
    type Output<T> = Vec<T>;

    fn open<T: DeserializeOwned>(&self, event: Value) -> Result<Vec<T>, ParseError> {
        records(event)?
            .iter()
            .enumerate()
            .map(|(index, record)| {
                let path = format!("/Records/{index}/body");
                parse_text(text_at(record, "body", &path)?, &path)
            })
            .collect()
    }
}

/// The `Message` of the one record of an SNS event.
///
/// ```
/// use lambda_middleware::middlewares::{Envelope, SnsMessage};
/// use serde_json::json;
///
/// let event = json!({ "Records": [{ "EventSource": "aws:sns", "Sns": { "Message": "{\"id\":7}" } }] });
/// assert_eq!(SnsMessage.open::<serde_json::Value>(event).unwrap()["id"], 7);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SnsMessage;

impl Envelope for SnsMessage {
    type Output<T> = T;

    fn open<T: DeserializeOwned>(&self, event: Value) -> Result<T, ParseError> {
        let records = records(event)?;
        let [record] = records.as_slice() else {
            return Err(ParseError::new(
                "/Records",
                format!("holds {} records; an SNS event has one", records.len()),
            ));
        };
        let sns = record
            .get("Sns")
            .ok_or_else(|| ParseError::new("/Records/0/Sns", "missing"))?;
        parse_text(
            text_at(sns, "Message", "/Records/0/Sns/Message")?,
            "/Records/0/Sns/Message",
        )
    }
}

/// The `Message` of the SNS notification in the `body` of each record of an SQS event
/// (an SNS topic delivering to an SQS queue without raw message delivery).
///
/// ```
/// use lambda_middleware::middlewares::{Envelope, SnsInSqs};
/// use serde_json::json;
///
/// let notification = json!({ "Type": "Notification", "Message": "{\"id\":7}" }).to_string();
/// let event = json!({ "Records": [{ "body": notification }] });
/// assert_eq!(SnsInSqs.open::<serde_json::Value>(event).unwrap()[0]["id"], 7);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SnsInSqs;

impl Envelope for SnsInSqs {
    type Output<T> = Vec<T>;

    fn open<T: DeserializeOwned>(&self, event: Value) -> Result<Vec<T>, ParseError> {
        records(event)?
            .iter()
            .enumerate()
            .map(|(index, record)| {
                let body_path = format!("/Records/{index}/body");
                let notification: Value = parse_text(text_at(record, "body", &body_path)?, &body_path)?;
                let path = format!("{body_path}/Message");
                parse_text(text_at(&notification, "Message", &path)?, &path)
            })
            .collect()
    }
}

/// The `kinesis.data` of each record of a Kinesis stream event, decoded from base64, in
/// order.
///
/// ```
/// use lambda_middleware::middlewares::{Envelope, KinesisData};
/// use serde_json::json;
///
/// // "{\"id\":7}" in base64
/// let event = json!({ "Records": [{ "kinesis": { "data": "eyJpZCI6N30=", "partitionKey": "p" } }] });
/// assert_eq!(KinesisData.open::<serde_json::Value>(event).unwrap()[0]["id"], 7);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct KinesisData;

impl Envelope for KinesisData {
    type Output<T> = Vec<T>;

    fn open<T: DeserializeOwned>(&self, event: Value) -> Result<Vec<T>, ParseError> {
        records(event)?
            .iter()
            .enumerate()
            .map(|(index, record)| kinesis_data(record, &format!("/Records/{index}")))
            .collect()
    }
}

/// The `body` of one SQS record: for the record chain of a batch
/// ([`SqsBatch`](crate::SqsBatch)), where a body that does not parse fails its record
/// only. [`SqsBodies`] is the whole batch's, all or nothing.
///
/// ```
/// use lambda_middleware::middlewares::{Envelope, SqsBody};
/// use serde_json::json;
///
/// let record = json!({ "messageId": "m-1", "body": "{\"id\":7}" });
/// assert_eq!(SqsBody.open::<serde_json::Value>(record).unwrap()["id"], 7);
/// let bad = json!({ "messageId": "m-2", "body": "{\"id\":" });
/// assert_eq!(SqsBody.open::<serde_json::Value>(bad).unwrap_err().path(), "/body");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SqsBody;

impl Envelope for SqsBody {
    type Output<T> = T;

    fn open<T: DeserializeOwned>(&self, record: Value) -> Result<T, ParseError> {
        parse_text(text_at(&record, "body", "/body")?, "/body")
    }

    #[cfg(feature = "sqs")]
    fn open_event<T: DeserializeOwned, E: Serialize + 'static>(&self, record: E) -> Result<T, ParseError> {
        let mut slot = Some(record);
        if let Some(message) = typed::<aws_lambda_events::sqs::SqsMessage, E>(&mut slot) {
            let body = message
                .body
                .as_deref()
                .ok_or_else(|| ParseError::new("/body", "missing"))?;
            return parse_text(body, "/body");
        }
        self.open(json_of_slot(slot)?)
    }
}

/// The `kinesis.data` of one Kinesis record, decoded from base64: for the record chain
/// of a [`KinesisBatch`](crate::KinesisBatch). [`KinesisData`] is the whole batch's,
/// all or nothing.
///
/// ```
/// use lambda_middleware::middlewares::{Envelope, KinesisRecordData};
/// use serde_json::json;
///
/// // "{\"id\":7}" in base64
/// let record = json!({ "kinesis": { "data": "eyJpZCI6N30=", "sequenceNumber": "1" } });
/// assert_eq!(KinesisRecordData.open::<serde_json::Value>(record).unwrap()["id"], 7);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct KinesisRecordData;

impl Envelope for KinesisRecordData {
    type Output<T> = T;

    fn open<T: DeserializeOwned>(&self, record: Value) -> Result<T, ParseError> {
        kinesis_data(&record, "")
    }

    #[cfg(feature = "kinesis")]
    fn open_event<T: DeserializeOwned, E: Serialize + 'static>(&self, record: E) -> Result<T, ParseError> {
        let mut slot = Some(record);
        if let Some(record) = typed::<aws_lambda_events::kinesis::KinesisEventRecord, E>(&mut slot) {
            // aws_lambda_events decoded the base64 already.
            return parse_bytes(&record.kinesis.data.0, "/kinesis/data");
        }
        self.open(json_of_slot(slot)?)
    }
}

/// The `dynamodb.NewImage` of one DynamoDB Streams record, unmarshalled from DynamoDB
/// JSON (`{"id": {"N": "7"}}`) into plain JSON (`{"id": 7}`) and parsed: for the record
/// chain of a [`DynamoDbStreamBatch`](crate::DynamoDbStreamBatch). A `REMOVE` record
/// has no new image: [`DynamoDbOldImage`] reads what was deleted.
///
/// | DynamoDB type | JSON |
/// |---------------|------|
/// | `S`, `B` (base64) | a string |
/// | `N` | a number (an integer when it is one) |
/// | `BOOL`, `NULL` | a boolean, `null` |
/// | `M`, `L` | an object, an array |
/// | `SS`, `NS`, `BS` | an array |
///
/// ```
/// use lambda_middleware::middlewares::{DynamoDbNewImage, Envelope};
/// use serde_json::json;
///
/// #[derive(Debug, serde::Deserialize)]
/// struct Order { id: u64, items: Vec<String>, paid: bool }
///
/// let record = json!({ "dynamodb": { "SequenceNumber": "1", "NewImage": {
///     "id": { "N": "7" }, "items": { "L": [{ "S": "book" }] }, "paid": { "BOOL": true },
/// }}});
/// let order: Order = DynamoDbNewImage.open(record).unwrap();
/// assert_eq!((order.id, order.items[0].as_str(), order.paid), (7, "book", true));
///
/// let removed = json!({ "eventName": "REMOVE", "dynamodb": { "OldImage": { "id": { "N": "7" } } } });
/// assert_eq!(DynamoDbNewImage.open::<Order>(removed).unwrap_err().path(), "/dynamodb/NewImage");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct DynamoDbNewImage;

impl Envelope for DynamoDbNewImage {
    type Output<T> = T;

    fn open<T: DeserializeOwned>(&self, record: Value) -> Result<T, ParseError> {
        dynamodb_image(&record, "NewImage", "")
    }
}

/// The `dynamodb.OldImage` of one DynamoDB Streams record (what a `MODIFY` replaced or
/// a `REMOVE` deleted), unmarshalled as [`DynamoDbNewImage`] does.
///
/// ```
/// use lambda_middleware::middlewares::{DynamoDbOldImage, Envelope};
/// use serde_json::json;
///
/// let removed = json!({ "eventName": "REMOVE", "dynamodb": { "OldImage": { "id": { "N": "7" } } } });
/// assert_eq!(DynamoDbOldImage.open::<serde_json::Value>(removed).unwrap(), json!({ "id": 7 }));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct DynamoDbOldImage;

impl Envelope for DynamoDbOldImage {
    type Output<T> = T;

    fn open<T: DeserializeOwned>(&self, record: Value) -> Result<T, ParseError> {
        dynamodb_image(&record, "OldImage", "")
    }
}

/// The `dynamodb.NewImage` of each record of a DynamoDB Streams event, in order, all or
/// nothing: one record that does not parse fails the invocation. In a batch, use
/// [`DynamoDbNewImage`] in the record chain instead.
///
/// ```
/// use lambda_middleware::middlewares::{DynamoDbNewImages, Envelope};
/// use serde_json::json;
///
/// let event = json!({ "Records": [{ "dynamodb": { "NewImage": { "id": { "N": "7" } } } }] });
/// assert_eq!(DynamoDbNewImages.open::<serde_json::Value>(event).unwrap(), [json!({ "id": 7 })]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct DynamoDbNewImages;

impl Envelope for DynamoDbNewImages {
    type Output<T> = Vec<T>;

    fn open<T: DeserializeOwned>(&self, event: Value) -> Result<Vec<T>, ParseError> {
        records(event)?
            .iter()
            .enumerate()
            .map(|(index, record)| dynamodb_image(record, "NewImage", &format!("/Records/{index}")))
            .collect()
    }
}

/// The `value` of one Kafka record (MSK or self-managed), decoded from base64: for the
/// record chain of a [`KafkaBatch`](crate::KafkaBatch).
///
/// ```
/// use lambda_middleware::middlewares::{Envelope, KafkaValue};
/// use serde_json::json;
///
/// // "{\"id\":7}" in base64
/// let record = json!({ "topic": "orders", "partition": 0, "offset": 3, "value": "eyJpZCI6N30=" });
/// assert_eq!(KafkaValue.open::<serde_json::Value>(record).unwrap()["id"], 7);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct KafkaValue;

impl Envelope for KafkaValue {
    type Output<T> = T;

    fn open<T: DeserializeOwned>(&self, record: Value) -> Result<T, ParseError> {
        let bytes = decode_base64(text_at(&record, "value", "/value")?, "/value")?;
        parse_bytes(&bytes, "/value")
    }

    #[cfg(feature = "kafka")]
    fn open_event<T: DeserializeOwned, E: Serialize + 'static>(&self, record: E) -> Result<T, ParseError> {
        let mut slot = Some(record);
        if let Some(record) = typed::<aws_lambda_events::kafka::KafkaRecord, E>(&mut slot) {
            let value = record
                .value
                .as_deref()
                .ok_or_else(|| ParseError::new("/value", "missing"))?;
            let bytes = decode_base64(value, "/value")?;
            return parse_bytes(&bytes, "/value");
        }
        self.open(json_of_slot(slot)?)
    }
}

/// What a JMESPath expression finds, Powertools' functions and named envelopes
/// included (`JmesPath::new(envelopes::SQS)`), parsed into `T` as it is (Powertools'
/// `event_parser(envelope=...)`): for the batch envelopes, `T` is a `Vec`, all or
/// nothing. Feature `jmespath`.
///
/// ```
/// use lambda_middleware::jmespath::{JmesPath, envelopes};
/// use lambda_middleware::middlewares::Envelope;
/// use serde_json::json;
///
/// let event = json!({ "detail-type": "OrderPlaced", "detail": { "id": 7 } });
/// let id: u64 = JmesPath::new("detail.id").unwrap().open(event.clone()).unwrap();
/// assert_eq!(id, 7);
/// let error = JmesPath::new(envelopes::API_GATEWAY_REST).unwrap().open::<u64>(json!({ "body": "{" })).unwrap_err();
/// assert_eq!(error.path(), "powertools_json(body)");
/// ```
#[cfg(feature = "jmespath")]
#[cfg_attr(docsrs, doc(cfg(feature = "jmespath")))]
impl Envelope for lambda_middleware_jmespath::JmesPath {
    type Output<T> = T;

    fn open<T: DeserializeOwned>(&self, event: Value) -> Result<T, ParseError> {
        let found = self
            .search(&event)
            .map_err(|error| ParseError::new(self.as_str(), error))?;
        deserialize(found, self.as_str())
    }
}

/// The value at a [`JsonPointer`], for any other event shape: parsed as JSON text when
/// it is a string, as it is otherwise.
///
/// ```
/// use lambda_middleware::middlewares::{At, Envelope};
/// use serde_json::json;
///
/// let event = json!({ "payload": { "order": { "id": 7 } }, "wrapped": "{\"id\":8}" });
/// assert_eq!(At::new("/payload/order/id").open::<u8>(event.clone()).unwrap(), 7);
/// assert_eq!(At::new("/wrapped/id").open::<u8>(event.clone()).unwrap(), 8);
/// assert_eq!(At::new("/missing").open::<u8>(event).unwrap_err().message(), "missing");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At(JsonPointer);

impl At {
    /// At `pointer` (see [`JsonPointer`] for the syntax; `*` takes the first match).
    ///
    /// ```
    /// let at = lambda_middleware::middlewares::At::new("/detail/items/0");
    /// ```
    pub fn new(pointer: impl Into<JsonPointer>) -> Self {
        At(pointer.into())
    }
}

impl Envelope for At {
    type Output<T> = T;

    fn open<T: DeserializeOwned>(&self, event: Value) -> Result<T, ParseError> {
        let path = self.0.to_string();
        let found = self.0.find(&event).ok_or_else(|| ParseError::new(&*path, "missing"))?;
        match found.into_owned() {
            Value::String(text) => parse_text(&text, &path),
            other => deserialize(other, &path),
        }
    }
}

/// The event's JSON: a `Value` as it is, any other event serialised.
fn json_of<E: Serialize + 'static>(event: E) -> Result<Value, ParseError> {
    let mut slot = Some(event);
    if let Some(value) = (&mut slot as &mut dyn Any).downcast_mut::<Option<Value>>() {
        return Ok(value.take().unwrap_or_default());
    }
    serde_json::to_value(slot).map_err(|error| ParseError::new("", format!("does not serialise to JSON ({error})")))
}

fn deserialize<T: DeserializeOwned>(value: Value, path: &str) -> Result<T, ParseError> {
    guarded(path, || serde_json::from_value(value))
}

/// Runs a deserialisation, with a panic in it (some `Deserialize` impls panic on bad
/// input: aws_lambda_events' API Gateway requests on a `body` that is not base64 with
/// `isBase64Encoded`) turned into the parse error it stands for, so that the chain
/// answers it (`HttpErrorHandler`: a 400) instead of failing the invocation.
fn guarded<T>(path: &str, parse: impl FnOnce() -> Result<T, serde_json::Error>) -> Result<T, ParseError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)) {
        Ok(parsed) => parsed.map_err(|error| ParseError::new(path, error)),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|message| (*message).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "the event's type panicked while reading it".to_owned());
            Err(ParseError::new(path, message))
        }
    }
}

fn parse_text<T: DeserializeOwned>(text: &str, path: &str) -> Result<T, ParseError> {
    guarded(path, || serde_json::from_str(text))
}

fn parse_bytes<T: DeserializeOwned>(bytes: &[u8], path: &str) -> Result<T, ParseError> {
    guarded(path, || serde_json::from_slice(bytes))
}

fn decode_base64(text: &str, path: &str) -> Result<Vec<u8>, ParseError> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|error| ParseError::new(path, format!("is not base64 ({error})")))
}

fn kinesis_data<T: DeserializeOwned>(record: &Value, prefix: &str) -> Result<T, ParseError> {
    let path = format!("{prefix}/kinesis/data");
    let kinesis = record
        .get("kinesis")
        .ok_or_else(|| ParseError::new(format!("{prefix}/kinesis"), "missing"))?;
    let bytes = decode_base64(text_at(kinesis, "data", &path)?, &path)?;
    parse_bytes(&bytes, &path)
}

fn dynamodb_image<T: DeserializeOwned>(record: &Value, image: &str, prefix: &str) -> Result<T, ParseError> {
    let change = record
        .get("dynamodb")
        .ok_or_else(|| ParseError::new(format!("{prefix}/dynamodb"), "missing"))?;
    let path = format!("{prefix}/dynamodb/{image}");
    let item = match change.get(image) {
        Some(Value::Object(item)) if !item.is_empty() => item,
        Some(Value::Object(_) | Value::Null) | None => return Err(ParseError::new(path, "missing")),
        Some(other) => return Err(ParseError::new(path, format!("is {}, expected an object", kind(other)))),
    };
    let mut plain = serde_json::Map::with_capacity(item.len());
    for (name, attribute) in item {
        plain.insert(name.clone(), unmarshal(attribute, &format!("{path}/{name}"))?);
    }
    deserialize(Value::Object(plain), &path)
}

/// A DynamoDB attribute value (`{"N": "7"}`) as plain JSON (`7`).
fn unmarshal(attribute: &Value, path: &str) -> Result<Value, ParseError> {
    let invalid = || {
        ParseError::new(
            path,
            "is not a DynamoDB attribute value (an object of one type key: S, N, B, BOOL, NULL, M, L, SS, NS, BS)",
        )
    };
    let Some((tag, value)) = attribute
        .as_object()
        .filter(|object| object.len() == 1)
        .and_then(|object| object.iter().next())
    else {
        return Err(invalid());
    };
    let path_of = |key: &str| format!("{path}/{tag}/{key}");
    Ok(match (tag.as_str(), value) {
        ("S" | "B", Value::String(_)) => value.clone(),
        ("N", Value::String(number)) => number_of(number, path)?,
        ("BOOL", Value::Bool(_)) => value.clone(),
        ("NULL", _) => Value::Null,
        ("M", Value::Object(map)) => Value::Object(
            map.iter()
                .map(|(key, value)| Ok((key.clone(), unmarshal(value, &path_of(key))?)))
                .collect::<Result<_, ParseError>>()?,
        ),
        ("L", Value::Array(items)) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| unmarshal(item, &path_of(&index.to_string())))
                .collect::<Result<_, _>>()?,
        ),
        ("SS" | "BS", Value::Array(items)) if items.iter().all(Value::is_string) => value.clone(),
        ("NS", Value::Array(items)) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| match item {
                    Value::String(number) => number_of(number, &path_of(&index.to_string())),
                    _ => Err(ParseError::new(
                        path_of(&index.to_string()),
                        "is not a number as a string",
                    )),
                })
                .collect::<Result<_, _>>()?,
        ),
        _ => return Err(invalid()),
    })
}

fn number_of(text: &str, path: &str) -> Result<Value, ParseError> {
    let number = if let Ok(integer) = text.parse::<i64>() {
        serde_json::Number::from(integer)
    } else if let Ok(integer) = text.parse::<u64>() {
        serde_json::Number::from(integer)
    } else {
        text.parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .ok_or_else(|| ParseError::new(path, format!("is {text:?}, expected a number")))?
    };
    Ok(Value::Number(number))
}

fn take(event: &mut Value, key: &str) -> Option<Value> {
    event.as_object_mut()?.remove(key)
}

fn text_at<'a>(value: &'a Value, key: &str, path: &str) -> Result<&'a str, ParseError> {
    match value.get(key) {
        Some(Value::String(text)) => Ok(text),
        Some(Value::Null) | None => Err(ParseError::new(path, "missing")),
        Some(other) => Err(ParseError::new(path, format!("is {}, expected a string", kind(other)))),
    }
}

fn records(mut event: Value) -> Result<Vec<Value>, ParseError> {
    match take(&mut event, "Records") {
        Some(Value::Array(records)) => Ok(records),
        None | Some(Value::Null) => Err(ParseError::new("/Records", "missing")),
        Some(other) => Err(ParseError::new(
            "/Records",
            format!("is {}, expected an array", kind(&other)),
        )),
    }
}

fn http_body<T: DeserializeOwned>(event: &Value) -> Result<T, ParseError> {
    let body = text_at(event, "body", "/body")?;
    if event.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        let bytes = decode_base64(body, "/body")?;
        parse_bytes(&bytes, "/body")
    } else {
        parse_text(body, "/body")
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
