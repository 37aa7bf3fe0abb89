//! [`SqsBatch`]: an SQS batch processed record by record, with only the failed records
//! reported back for retry.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::{Context, Error, LambdaEvent};
use tracing::Instrument;

use lambda_middleware_core::Handler;
use lambda_middleware_core::InvocationError;
use lambda_middleware_core::chain::Chain;

/// Processes an SQS batch one record at a time and answers with the ids of the records
/// that failed (`batchItemFailures`), so that only those go back to the queue —
/// Powertools' `process_partial_response`, Middy's `sqs-partial-batch-failure`.
/// Feature `sqs`.
///
/// # Why a handler adaptor, not a middleware
///
/// A middleware runs the rest of its chain at most once per invocation; a batch needs
/// its record logic run once per record. So the record logic is a [`Handler`] of its own,
/// from one `SqsMessage` to any response, with any middlewares around it — they run
/// per record: `LogEvent` logs each message,
/// [`Validator`](crate::Validator) with the `/body` envelope validates each, and
/// `Timeout` fails the records that would cross the deadline, which are
/// then retried instead of the whole batch. `SqsBatch` wraps that handler into the
/// batch function:
///
/// - it is a `tower::Service<LambdaEvent<SqsEvent>>`, for `lambda_runtime::run`;
/// - [`process`](SqsBatch::process) runs it inside a handler of your own, when the batch
///   itself needs middlewares (see the second example).
///
/// # What is reported
///
/// - A record whose handler returns `Err` is reported by its `messageId`, and the error is
///   logged with `tracing::warn!`. Each record runs in an `sqs_record` span carrying its
///   `message_id`.
/// - An empty batch succeeds with no failures.
/// - On a FIFO queue (an `eventSourceARN` ending in `.fifo`, or
///   [`fifo(true)`](SqsBatch::fifo)) the first failure stops the batch: that record and
///   every record after it are reported, unprocessed, so the group's order holds.
/// - A failed record without a `messageId` cannot be reported: the whole invocation
///   fails with [`SqsBatchError::MissingMessageId`] and Lambda retries the whole batch.
///
/// The event source mapping needs `FunctionResponseTypes: ["ReportBatchItemFailures"]`;
/// without it Lambda ignores the response and retries the whole batch on any error.
///
/// # Example
///
/// ```
/// use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
/// use lambda_middleware::middlewares::{InjectLambdaContext, SqsBatch};
/// use lambda_middleware::{Context, Error, Handler};
/// use lambda_runtime::LambdaEvent;
///
/// async fn process(message: SqsMessage, _: &Context) -> Result<(), Error> {
///     let body = message.body.unwrap_or_default();
///     let order: serde_json::Value = serde_json::from_str(&body)?; // a bad body fails this record only
///     tracing::info!(order = %order["id"], "processed");
///     Ok(())
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let records = Handler::builder().middleware(InjectLambdaContext).handler(process)?;
/// let batch = SqsBatch::new(records);
/// // In a Lambda function: `lambda_runtime::run(batch).await`. Here: once, locally.
///
/// let event: SqsEvent = serde_json::from_value(serde_json::json!({ "Records": [
///     { "messageId": "m-1", "body": "{\"id\": 1}" },
///     { "messageId": "m-2", "body": "not json" },
///     { "messageId": "m-3", "body": "{\"id\": 3}" },
/// ]}))?;
/// let response = batch.invoke(LambdaEvent::new(event, Context::default())).await?;
/// let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
/// assert_eq!(failed, ["m-2"]);
/// # Ok(()) }
/// ```
///
/// With middlewares around the whole batch:
///
/// ```
/// use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
/// use lambda_middleware::middlewares::{InjectLambdaContext, SqsBatch};
/// use lambda_middleware::{Context, Error, Handler};
/// use lambda_runtime::LambdaEvent;
///
/// async fn process(message: SqsMessage, _: &Context) -> Result<(), Error> {
///     Ok(())
/// }
///
/// # fn main() -> Result<(), Error> {
/// let batch = SqsBatch::new(Handler::builder().handler(process)?);
/// let handler = Handler::builder().middleware(InjectLambdaContext).handler(move |event: LambdaEvent<SqsEvent>| {
///     let batch = batch.clone();
///     async move { Ok::<SqsBatchResponse, Error>(batch.process(event.payload, &event.context).await?) }
/// })?;
/// // lambda_runtime::run(handler).await
/// # Ok(()) }
/// ```
pub struct SqsBatch<C> {
    records: Handler<C>,
    fifo: Option<bool>,
}

/// The batch could not be answered record by record.
///
/// ```
/// use lambda_middleware::middlewares::SqsBatchError;
///
/// let error = SqsBatchError::MissingMessageId { index: 3 };
/// assert_eq!(
///     error.to_string(),
///     "record 3 of the SQS batch failed and has no messageId to report it by; failing the whole batch",
/// );
/// let error: lambda_middleware::Error = error.into();
/// assert_eq!(lambda_middleware::support::error_type(error.as_ref()), "SqsBatchError");
/// ```
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SqsBatchError {
    /// A record failed and has no `messageId`, so it cannot be reported alone.
    #[error("record {index} of the SQS batch failed and has no messageId to report it by; failing the whole batch")]
    MissingMessageId {
        /// Its position in the batch, from 0.
        index: usize,
    },
}

/// `SqsBatchError(MissingMessageId { index: 3 })`: the enum's name first, so that
/// Lambda's `errorType` ([`error_type`](lambda_middleware_core::support::error_type)) is
/// `SqsBatchError` whatever the variant.
impl std::fmt::Debug for SqsBatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SqsBatchError::MissingMessageId { index } => {
                write!(f, "SqsBatchError(MissingMessageId {{ index: {index} }})")
            }
        }
    }
}

impl<C> SqsBatch<C> {
    /// A batch processor that runs `records` on each record.
    ///
    /// ```
    /// use aws_lambda_events::sqs::SqsMessage;
    /// use lambda_middleware::middlewares::SqsBatch;
    /// use lambda_middleware::{Context, Error, Handler};
    ///
    /// async fn process(_: SqsMessage, _: &Context) -> Result<(), Error> { Ok(()) }
    ///
    /// let batch = SqsBatch::new(Handler::builder().handler(process)?);
    /// # Ok::<(), lambda_middleware::BuildError>(())
    /// ```
    pub fn new(records: Handler<C>) -> Self
    where
        // Here rather than only where the batch runs, so that a chain of another event
        // type is refused where the batch is made, not at `lambda_runtime::run(batch)`.
        C: Chain<SqsMessage>,
    {
        SqsBatch { records, fifo: None }
    }

    /// Treats the queue as FIFO (`true`: stop at the first failure) or standard
    /// (`false`), whatever the `eventSourceARN` says. By default, a queue whose ARN
    /// ends in `.fifo` is FIFO.
    ///
    /// ```
    /// # use aws_lambda_events::sqs::SqsMessage;
    /// # use lambda_middleware::middlewares::SqsBatch;
    /// # use lambda_middleware::{Context, Error, Handler};
    /// # async fn process(_: SqsMessage, _: &Context) -> Result<(), Error> { Ok(()) }
    /// let batch = SqsBatch::new(Handler::builder().handler(process)?).fifo(true);
    /// # Ok::<(), lambda_middleware::BuildError>(())
    /// ```
    #[must_use]
    pub fn fifo(mut self, fifo: bool) -> Self {
        self.fifo = Some(fifo);
        self
    }

    /// Processes `event` record by record, in order, and lists the failed ones.
    ///
    /// # Errors
    ///
    /// [`SqsBatchError::MissingMessageId`] when a failed record has no `messageId`.
    ///
    /// ```
    /// use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
    /// use lambda_middleware::middlewares::SqsBatch;
    /// use lambda_middleware::{Context, Error, Handler};
    ///
    /// async fn process(_: SqsMessage, _: &Context) -> Result<(), Error> { Ok(()) }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let batch = SqsBatch::new(Handler::builder().handler(process)?);
    /// let response = batch.process(SqsEvent::default(), &Context::default()).await?;
    /// assert!(response.batch_item_failures.is_empty()); // an empty batch
    /// # Ok(()) }
    /// ```
    pub async fn process(&self, event: SqsEvent, ctx: &Context) -> Result<SqsBatchResponse, SqsBatchError>
    where
        C: Chain<SqsMessage>,
    {
        let mut response = SqsBatchResponse::default();
        let fifo = self.fifo.unwrap_or_else(|| {
            event.records.iter().any(|record| {
                record
                    .event_source_arn
                    .as_deref()
                    .is_some_and(|arn| arn.ends_with(".fifo"))
            })
        });
        let mut records = event.records.into_iter().enumerate();
        for (index, record) in records.by_ref() {
            let message_id = record.message_id.clone().filter(|id| !id.is_empty());
            let span = tracing::info_span!("sqs_record", message_id = message_id.as_deref());
            // Made inside the span, for the `before` hooks of the record's chain.
            let invocation = span.in_scope(|| self.records.invoke_with(record, ctx));
            let outcome = invocation.instrument(span).await;
            let Err(error) = outcome else { continue };
            tracing::warn!(message_id = message_id.as_deref(), %error, "an SQS record failed; reporting it for retry");
            report(&mut response, message_id, index)?;
            if fifo {
                break;
            }
        }
        // FIFO: after a failure, the rest of the batch is reported without being processed.
        for (index, record) in records {
            report(&mut response, record.message_id.filter(|id| !id.is_empty()), index)?;
        }
        Ok(response)
    }

    /// Runs the batch on one event, for tests and local runs; `lambda_runtime::run`
    /// takes the `SqsBatch` itself.
    ///
    /// ```
    /// use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
    /// use lambda_middleware::middlewares::SqsBatch;
    /// use lambda_middleware::{Context, Error, Handler};
    /// use lambda_runtime::LambdaEvent;
    ///
    /// async fn process(_: SqsMessage, _: &Context) -> Result<(), Error> { Err("always".into()) }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let batch = SqsBatch::new(Handler::builder().handler(process)?);
    /// let mut message = SqsMessage::default();
    /// message.message_id = Some("m-1".into());
    /// let mut event = SqsEvent::default();
    /// event.records.push(message);
    /// let response = batch.invoke(LambdaEvent::new(event, Context::default())).await?;
    /// assert_eq!(response.batch_item_failures[0].item_identifier, "m-1");
    /// # Ok(()) }
    /// ```
    pub async fn invoke(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error>
    where
        C: Chain<SqsMessage>,
    {
        let LambdaEvent { payload, context } = event;
        Ok(self.process(payload, &context).await?)
    }
}

fn report(response: &mut SqsBatchResponse, message_id: Option<String>, index: usize) -> Result<(), SqsBatchError> {
    let id = message_id.ok_or(SqsBatchError::MissingMessageId { index })?;
    let mut failure = BatchItemFailure::default();
    failure.item_identifier = id;
    response.batch_item_failures.push(failure);
    Ok(())
}

impl<C> Clone for SqsBatch<C> {
    fn clone(&self) -> Self {
        SqsBatch {
            records: self.records.clone(),
            fifo: self.fifo,
        }
    }
}

impl<C> fmt::Debug for SqsBatch<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqsBatch")
            .field("fifo", &self.fifo)
            .finish_non_exhaustive()
    }
}

/// The runtime's entry point: `lambda_runtime::run(batch)`. Like
/// [`Handler`]'s, it boxes each invocation's future once.
///
/// ```
/// use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
/// use lambda_middleware::middlewares::SqsBatch;
/// use lambda_middleware::{Context, Error, Handler};
/// use lambda_runtime::LambdaEvent;
/// use tower::Service;
///
/// async fn process(_: SqsMessage, _: &Context) -> Result<(), Error> { Ok(()) }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let mut batch = SqsBatch::new(Handler::builder().handler(process)?);
/// let response = batch.call(LambdaEvent::new(SqsEvent::default(), Context::default())).await?;
/// assert!(response.batch_item_failures.is_empty());
/// # Ok(()) }
/// ```
impl<C> tower::Service<LambdaEvent<SqsEvent>> for SqsBatch<C>
where
    C: Chain<SqsMessage> + 'static,
{
    type Response = SqsBatchResponse;
    type Error = InvocationError;
    type Future = Pin<Box<dyn Future<Output = Result<SqsBatchResponse, InvocationError>> + Send>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), InvocationError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, event: LambdaEvent<SqsEvent>) -> Self::Future {
        let batch = self.clone();
        Box::pin(async move { batch.invoke(event).await.map_err(InvocationError::from) })
    }
}
