//! [`InjectLambdaContext`]: the Lambda context on every log line.

use lambda_runtime::{Context, Error};
use tracing::Instrument;
use tracing::field::Empty;

use lambda_middleware_core::Invoke;
use lambda_middleware_core::Middleware;
use lambda_middleware_core::{Next, Proceeded};

/// The span's name and target, by which `observe::JsonLogger` finds it.
pub(crate) const SPAN_NAME: &str = "lambda_context";
/// Kept from the single-crate days, so that log filters written for it still match.
pub(crate) const SPAN_TARGET: &str = "lambda_middleware::middlewares::lambda_context";

/// Runs everything inside it in a `lambda_context` span that carries the invocation's
/// Lambda context, so every log line and every span below has it — Powertools'
/// `@logger.inject_lambda_context`.
///
/// | span field | from |
/// |------------|------|
/// | `request_id` | `Context::request_id` |
/// | `function_name` | `AWS_LAMBDA_FUNCTION_NAME` (`Context::env_config`) |
/// | `function_version` | `AWS_LAMBDA_FUNCTION_VERSION` |
/// | `function_arn` | `Context::invoked_function_arn` |
/// | `function_memory_size` | `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, in MB |
/// | `xray_trace_id` | `Context::xray_trace_id`, when there is one |
/// | `cold_start` | `true` for the first invocation of the process only |
/// | `correlation_id` | empty, for `CorrelationId` to fill |
/// | `correlation_id_source` | where `CorrelationId` found the id (not a log key) |
///
/// `cold_start` is the crate's one claim on the process's first invocation, by request
/// id: under `lambda_runtime::run_concurrent` exactly one of the first concurrent
/// invocations sees `true`, and it is the same one for which
/// [`CaptureLambdaHandler`](crate::CaptureLambdaHandler) annotates `ColdStart` and
/// [`Metrics`](crate::Metrics) writes its `ColdStart` metric.
///
/// The span has the level `ERROR`: a subscriber that logs anything at all keeps it, so
/// a function logging at `WARN` still gets the context on its warnings.
///
/// Works with any event and response type. Add it first, so that the other
/// middlewares' logs carry the context too. Its name for tracing is
/// `inject_lambda_context`.
///
/// # Example
///
/// ```
/// use lambda_middleware::middlewares::InjectLambdaContext;
/// use lambda_middleware::{Context, Error, Handler};
/// use lambda_runtime::LambdaEvent;
///
/// async fn handler(event: LambdaEvent<String>) -> Result<usize, Error> {
///     tracing::info!("measuring"); // logged with request_id, function_name, cold_start, ...
///     Ok(event.payload.len())
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let handler = Handler::builder().middleware(InjectLambdaContext).handler(handler)?;
///
/// let mut context = Context::default();
/// context.request_id = "4f1b5d0e".into();
/// assert_eq!(handler.invoke(LambdaEvent::new("hello".into(), context)).await?, 5);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct InjectLambdaContext;

impl<E: Send, R: Send> Middleware<E, R> for InjectLambdaContext {
    type Params = ();

    fn name(&self) -> &'static str {
        "inject_lambda_context"
    }

    async fn call<'n, I>(&self, _: &(), event: E, ctx: &Context, next: Next<'n, I>) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<E, Response = R>,
    {
        let cold_start = crate::cold_start::is_cold_start(ctx);
        let config = &ctx.env_config;
        let span = tracing::error_span!(
            target: SPAN_TARGET,
            SPAN_NAME,
            request_id = %ctx.request_id,
            function_name = %config.function_name,
            function_version = %config.version,
            function_arn = %ctx.invoked_function_arn,
            function_memory_size = config.memory,
            xray_trace_id = ctx.xray_trace_id.as_deref(),
            cold_start,
            correlation_id = Empty,
            correlation_id_source = Empty,
        );
        // Made inside the span, so that the `before` hooks of the middlewares inside,
        // which run as the rest of the chain is made, are in it too.
        let rest = span.in_scope(|| next.run(event));
        let outcome = rest.instrument(span.clone()).await;
        if outcome.is_err() {
            // The invocation failed: the lines a log buffer held for it are wanted now.
            span.in_scope(crate::flush_log_buffer);
        }
        Ok(outcome?)
    }
}
