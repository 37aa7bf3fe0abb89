//! Run a handler without Lambda: in your tests, in examples, in a local `main`.
//!
//! [`LocalFunction`] plays the part of the Lambda service for one function: it makes
//! the [`Context`] each invocation gets — a fresh request id, a deadline `timeout`
//! from now, the function's name, memory, version and ARN, an X-Ray trace id — and
//! runs a function — a [`Handler`], or anything else `lambda_runtime::run` takes — on a
//! payload. No server, no environment variables, no network.
//!
//! | you have | call |
//! |----------|------|
//! | a typed payload | [`LocalFunction::invoke`] (or the shortcut [`invoke`]): any `tower::Service<LambdaEvent<E>>` — a `Handler`, a batch processor, a `ServiceBuilder` stack |
//! | a handler whose chain borrows from the caller (not `'static`) | [`LocalFunction::invoke_handler`] |
//! | an event as JSON text, e.g. a file of sample events | [`LocalFunction::invoke_json`]: deserialised as the runtime would, the response serialised back |
//! | an API Gateway or function URL event for a `lambda_http` chain (feature `http`) | `LocalFunction::invoke_http` |
//! | just a context, to call something else | [`LocalFunction::context`] (or [`context`]) |
//!
//! ```
//! # extern crate lambda_middleware_core as lambda_middleware;
//! use std::time::Duration;
//! use lambda_middleware::{Context, Error, Handler, local::LocalFunction};
//! use serde_json::{json, Value};
//!
//! async fn handler(event: Value, ctx: &Context) -> Result<Value, Error> {
//!     Ok(json!({ "function": ctx.env_config.function_name, "echo": event }))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
//! let handler = Handler::builder().handler(handler)?;
//! let orders = LocalFunction::new("orders").timeout(Duration::from_secs(10));
//!
//! let response = orders.invoke(&handler, json!({ "id": 7 })).await?;
//! assert_eq!(response, json!({ "function": "orders", "echo": { "id": 7 } }));
//! # Ok(()) }
//! ```

use std::fmt;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::{Config, Context, Error, LambdaEvent};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::chain::Chain;
use crate::handler::Handler;

/// The function name used when none is given and `AWS_LAMBDA_FUNCTION_NAME` is unset.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::local::{DEFAULT_FUNCTION_NAME, LocalFunction};
///
/// // Unset in doctests.
/// assert_eq!(LocalFunction::default().context().env_config.function_name, DEFAULT_FUNCTION_NAME);
/// ```
pub const DEFAULT_FUNCTION_NAME: &str = "local";

/// Lambda's own default timeout for a new function: 3 seconds.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use std::time::SystemTime;
/// use lambda_middleware::local::{DEFAULT_TIMEOUT, LocalFunction};
///
/// let deadline = LocalFunction::new("orders").context().deadline();
/// assert!(deadline <= SystemTime::now() + DEFAULT_TIMEOUT);
/// ```
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// Lambda's default memory size for a new function, in MB.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::local::{DEFAULT_MEMORY_MB, LocalFunction};
///
/// assert_eq!(LocalFunction::new("orders").context().env_config.memory, DEFAULT_MEMORY_MB);
/// ```
pub const DEFAULT_MEMORY_MB: i32 = 128;

/// A Lambda function as the handler would see it, without Lambda: the configuration
/// every invocation shares, and a fresh [`Context`] for each one.
///
/// | setting | default |
/// |---------|---------|
/// | function name | `AWS_LAMBDA_FUNCTION_NAME` if set, else [`DEFAULT_FUNCTION_NAME`] |
/// | timeout (the deadline is now + timeout) | [`DEFAULT_TIMEOUT`], 3 s |
/// | memory | [`DEFAULT_MEMORY_MB`], 128 MB |
/// | version | `$LATEST` |
/// | region, account (in the ARN) | `AWS_REGION` if set, else `us-east-1`; `123456789012` |
/// | request id | a fresh UUID per invocation |
/// | X-Ray trace id | a fresh `Root=1-…;Parent=…;Sampled=1` per invocation |
///
/// # Example
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use std::time::{Duration, SystemTime};
/// use lambda_middleware::local::LocalFunction;
///
/// let function = LocalFunction::new("checkout").memory_mb(512).timeout(Duration::from_secs(30));
///
/// let before = SystemTime::now();
/// let first = function.context();
/// let second = function.context();
/// assert_ne!(first.request_id, second.request_id);
/// assert_eq!(first.env_config.function_name, "checkout");
/// assert_eq!(first.env_config.memory, 512);
/// assert!(first.invoked_function_arn.ends_with(":function:checkout"));
/// assert!(first.xray_trace_id.as_deref().unwrap().starts_with("Root=1-"));
/// assert!(first.deadline() + Duration::from_millis(1) > before + Duration::from_secs(30));
/// ```
#[derive(Clone)]
pub struct LocalFunction {
    config: Arc<Config>,
    timeout: Duration,
    arn: String,
    request_id: Option<String>,
    trace_id: Option<String>,
}

impl LocalFunction {
    /// A function with this name and the defaults above.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::local::LocalFunction;
    ///
    /// assert_eq!(LocalFunction::new("orders").context().env_config.function_name, "orders");
    /// ```
    pub fn new(function_name: impl Into<String>) -> Self {
        let function_name = function_name.into();
        let config = Config {
            log_group: format!("/aws/lambda/{function_name}"),
            log_stream: log_stream_name(SystemTime::now()),
            function_name,
            memory: DEFAULT_MEMORY_MB,
            version: "$LATEST".to_owned(),
        };
        let mut function = LocalFunction {
            config: Arc::new(config),
            timeout: DEFAULT_TIMEOUT,
            arn: String::new(),
            request_id: None,
            trace_id: None,
        };
        function.arn = function.function_arn();
        function
    }

    /// How long an invocation may run: each context's deadline is now plus this.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use std::time::{Duration, SystemTime};
    /// use lambda_middleware::local::LocalFunction;
    ///
    /// let minute = Duration::from_secs(60);
    /// let before = SystemTime::now();
    /// let context = LocalFunction::default().timeout(minute).context();
    /// let after = SystemTime::now();
    /// // Lambda's deadline is in whole milliseconds.
    /// assert!(context.deadline() + Duration::from_millis(1) > before + minute);
    /// assert!(context.deadline() <= after + minute);
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The memory size, in MB (`Context::env_config.memory`).
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::local::LocalFunction;
    ///
    /// assert_eq!(LocalFunction::default().memory_mb(1024).context().env_config.memory, 1024);
    /// ```
    pub fn memory_mb(mut self, memory_mb: i32) -> Self {
        Arc::make_mut(&mut self.config).memory = memory_mb;
        self
    }

    /// The function version (`Context::env_config.version`), `$LATEST` by default.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::local::LocalFunction;
    ///
    /// assert_eq!(LocalFunction::default().version("42").context().env_config.version, "42");
    /// ```
    pub fn version(mut self, version: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.config).version = version.into();
        self
    }

    /// Uses this request id for every invocation instead of a fresh one: handy when a
    /// test asserts on it.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::local::LocalFunction;
    ///
    /// let function = LocalFunction::default().request_id("8f5c7c3e");
    /// assert_eq!(function.context().request_id, "8f5c7c3e");
    /// ```
    pub fn request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// Uses this X-Ray trace header for every invocation instead of a fresh one.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::local::LocalFunction;
    ///
    /// let header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0";
    /// let function = LocalFunction::default().trace_id(header);
    /// assert_eq!(function.context().xray_trace_id.as_deref(), Some(header));
    /// ```
    pub fn trace_id(mut self, trace_id: impl Into<String>) -> Self {
        self.trace_id = Some(trace_id.into());
        self
    }

    /// The context of a new invocation: a fresh request id and trace id (unless fixed
    /// above) and a deadline `timeout` from now.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::local::LocalFunction;
    ///
    /// let context = LocalFunction::new("orders").context();
    /// assert_eq!(context.request_id.len(), 36); // a UUID
    /// assert!(context.invoked_function_arn.starts_with("arn:aws:lambda:"));
    /// ```
    pub fn context(&self) -> Context {
        let now = SystemTime::now();
        let deadline = now + self.timeout;
        let mut context = Context::default();
        context.request_id = self.request_id.clone().unwrap_or_else(request_id);
        context.deadline = millis_since_epoch(deadline);
        context.invoked_function_arn = self.arn.clone();
        context.xray_trace_id = Some(self.trace_id.clone().unwrap_or_else(|| trace_header(now)));
        context.env_config = Arc::clone(&self.config);
        context
    }

    /// Runs the function once on a payload, with a fresh [`context`](Self::context).
    ///
    /// The function is anything `lambda_runtime::run` takes: a [`Handler`], a batch
    /// processor, a `tower::ServiceBuilder` stack — any `tower::Service<LambdaEvent<E>>`
    /// that can be cloned (it is called once, on a clone, after `poll_ready`). An error
    /// comes back as the function returned it: the [`InvocationError`](crate::InvocationError)
    /// of a `Handler` is unwrapped, so `downcast_ref` finds the error itself.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Error, Handler, local::LocalFunction};
    /// use lambda_runtime::LambdaEvent;
    ///
    /// async fn shout(event: LambdaEvent<String>) -> Result<String, Error> {
    ///     Ok(event.payload.to_uppercase())
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let handler = Handler::builder().handler(shout)?;
    /// assert_eq!(LocalFunction::default().invoke(&handler, "hi".to_string()).await?, "HI");
    ///
    /// // Any tower service of `LambdaEvent`s: here, a closure.
    /// let len = tower::service_fn(|event: LambdaEvent<String>| async move { Ok::<_, Error>(event.payload.len()) });
    /// assert_eq!(LocalFunction::default().invoke(&len, "four".to_string()).await?, 4);
    /// # Ok(()) }
    /// ```
    pub async fn invoke<S, E>(&self, function: &S, payload: E) -> Result<S::Response, Error>
    where
        S: tower::Service<LambdaEvent<E>> + Clone,
        S::Error: Into<Error>,
    {
        use tower::ServiceExt as _;

        let event = LambdaEvent::new(payload, self.context());
        function.clone().oneshot(event).await.map_err(unwrap_invocation_error)
    }

    /// Runs a handler once on a payload with a fresh [`context`](Self::context), its
    /// chain inline, without the boxed future of the `tower::Service` path: for a
    /// handler whose chain borrows from the test (not `'static`), which
    /// [`invoke`](Self::invoke) does not take.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Error, Handler, local::LocalFunction};
    /// use lambda_runtime::LambdaEvent;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let greeting = String::from("hello");
    /// let greeting = &greeting; // borrowed: the chain is not 'static
    /// let handler = Handler::builder().handler(move |event: LambdaEvent<String>| async move {
    ///     Ok::<_, Error>(format!("{greeting} {}", event.payload))
    /// })?;
    /// assert_eq!(LocalFunction::default().invoke_handler(&handler, "Ada".to_string()).await?, "hello Ada");
    /// # Ok(()) }
    /// ```
    pub async fn invoke_handler<C, E>(&self, handler: &Handler<C>, payload: E) -> Result<C::Response, Error>
    where
        C: Chain<E>,
    {
        let context = self.context();
        handler.invoke_with(payload, &context).await
    }

    /// Runs the function (any `tower::Service`, as [`invoke`](Self::invoke)) once on an
    /// event given as JSON text — a sample event file, say —
    /// the way the Lambda runtime does: the text is deserialised into the function's
    /// event type (a mismatch is an [`InvalidEvent`](LocalError::InvalidEvent) error and
    /// the handler does not run), and the response is serialised back to JSON.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::{Context, Error, Handler, local::{LocalError, LocalFunction}};
    /// use serde::{Deserialize, Serialize};
    /// use serde_json::json;
    ///
    /// #[derive(Deserialize)]
    /// struct Order { id: u64, quantity: u32 }
    ///
    /// #[derive(Serialize)]
    /// struct Receipt { id: u64, total_cents: u64 }
    ///
    /// async fn handler(order: Order, _: &Context) -> Result<Receipt, Error> {
    ///     Ok(Receipt { id: order.id, total_cents: 250 * u64::from(order.quantity) })
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let handler = Handler::builder().handler(handler)?;
    /// let function = LocalFunction::default();
    ///
    /// let receipt = function.invoke_json(&handler, r#"{ "id": 7, "quantity": 2 }"#).await?;
    /// assert_eq!(receipt, json!({ "id": 7, "total_cents": 500 }));
    ///
    /// let error = function.invoke_json(&handler, r#"{ "id": "seven" }"#).await.unwrap_err();
    /// assert!(matches!(error.downcast_ref::<LocalError>(), Some(LocalError::InvalidEvent { .. })));
    /// # Ok(()) }
    /// ```
    pub async fn invoke_json<S, E>(&self, function: &S, event: &str) -> Result<serde_json::Value, Error>
    where
        S: tower::Service<LambdaEvent<E>> + Clone,
        S::Error: Into<Error>,
        E: DeserializeOwned,
        S::Response: Serialize,
    {
        let payload: E = serde_json::from_str(event).map_err(|source| LocalError::InvalidEvent {
            expected: std::any::type_name::<E>(),
            source,
        })?;
        let response = self.invoke(function, payload).await?;
        Ok(
            serde_json::to_value(response).map_err(|source| LocalError::InvalidResponse {
                response: std::any::type_name::<S::Response>(),
                source,
            })?,
        )
    }

    fn function_arn(&self) -> String {
        let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".to_owned());
        format!(
            "arn:aws:lambda:{region}:123456789012:function:{}",
            self.config.function_name
        )
    }
}

impl Default for LocalFunction {
    /// Named after `AWS_LAMBDA_FUNCTION_NAME` when it is set, else [`DEFAULT_FUNCTION_NAME`].
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_middleware::local::LocalFunction;
    ///
    /// let context = LocalFunction::default().context();
    /// assert_eq!(context.env_config.version, "$LATEST");
    /// ```
    fn default() -> Self {
        let name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| DEFAULT_FUNCTION_NAME.to_owned());
        LocalFunction::new(name)
    }
}

impl fmt::Debug for LocalFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalFunction")
            .field("function_name", &self.config.function_name)
            .field("timeout", &self.timeout)
            .field("memory_mb", &self.config.memory)
            .field("version", &self.config.version)
            .finish_non_exhaustive()
    }
}

/// Why a local invocation could not hand the event to the handler, or its response back.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::local::LocalError;
///
/// let source = serde_json::from_str::<u64>("\"seven\"").unwrap_err();
/// let error = LocalError::InvalidEvent { expected: "u64", source };
/// assert_eq!(
///     error.to_string(),
///     "the event is not a valid `u64`: invalid type: string \"seven\", expected u64 at line 1 column 7",
/// );
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum LocalError {
    /// The event text does not deserialise into the handler's event type.
    #[error("the event is not a valid `{expected}`: {source}")]
    InvalidEvent {
        /// The handler's event type.
        expected: &'static str,
        /// What serde found wrong.
        source: serde_json::Error,
    },
    /// The handler's response does not serialise to JSON.
    #[error("the response `{response}` does not serialise to JSON: {source}")]
    InvalidResponse {
        /// The handler's response type.
        response: &'static str,
        /// What serde found wrong.
        source: serde_json::Error,
    },
}

/// The message itself, so that `fn main() -> Result<(), Error>` prints what is wrong
/// with the event rather than the enum's fields.
impl std::fmt::Debug for LocalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// A fresh context for one local invocation, from [`LocalFunction::default`].
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// let context = lambda_middleware::local::context();
/// assert!(!context.request_id.is_empty());
/// ```
pub fn context() -> Context {
    LocalFunction::default().context()
}

/// Runs the function (a [`Handler`], a batch processor, any `tower::Service` of
/// `LambdaEvent`s) once on a payload with a fresh context, from
/// [`LocalFunction::default`].
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Context, Error, Handler, local};
///
/// async fn double(event: u32, _: &Context) -> Result<u32, Error> { Ok(event * 2) }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let handler = Handler::builder().handler(double)?;
/// assert_eq!(local::invoke(&handler, 21).await?, 42);
/// # Ok(()) }
/// ```
pub async fn invoke<S, E>(function: &S, payload: E) -> Result<S::Response, Error>
where
    S: tower::Service<LambdaEvent<E>> + Clone,
    S::Error: Into<Error>,
{
    LocalFunction::default().invoke(function, payload).await
}

/// The error a function returned: a [`Handler`]'s `tower::Service` wraps it in an
/// [`InvocationError`](crate::InvocationError), which a local caller does not want.
fn unwrap_invocation_error<E: Into<Error>>(error: E) -> Error {
    let error: Error = error.into();
    match error.downcast::<crate::InvocationError>() {
        Ok(invocation) => invocation.into_error(),
        Err(error) => error,
    }
}

/// Runs the handler the way `lambda_runtime::run` would on one event: the same
/// [`LambdaEvent`] the runtime builds, with a local context.
///
/// This is [`LocalFunction::invoke`] for code that already holds a `LambdaEvent`.
///
/// ```
/// # extern crate lambda_middleware_core as lambda_middleware;
/// use lambda_middleware::{Error, Handler, local};
/// use lambda_runtime::LambdaEvent;
///
/// async fn len(event: LambdaEvent<String>) -> Result<usize, Error> { Ok(event.payload.len()) }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let handler = Handler::builder().handler(len)?;
/// let event = local::event("four".to_string());
/// assert_eq!(handler.invoke(event).await?, 4);
/// # Ok(()) }
/// ```
pub fn event<E>(payload: E) -> LambdaEvent<E> {
    LambdaEvent::new(payload, context())
}

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
impl LocalFunction {
    /// Runs an HTTP chain once on an API Gateway (REST or HTTP API) or function URL event
    /// given as JSON text, exactly as `lambda_http::run` would, and returns the JSON
    /// response the runtime would post back (`statusCode`, `headers`, `body`, …).
    ///
    /// The request carries the invocation's context, as under `lambda_http::run`:
    /// middlewares and the handler find it with `lambda_http::RequestExt::lambda_context_ref`.
    ///
    /// ```
    /// # extern crate lambda_middleware_core as lambda_middleware;
    /// use lambda_http::{Body, Error, Request, RequestExt, Response};
    /// use lambda_middleware::{Handler, local::LocalFunction};
    ///
    /// async fn hello(request: Request) -> Result<Response<Body>, Error> {
    ///     let request_id = &request.lambda_context_ref().unwrap().request_id;
    ///     Ok(Response::new(format!("hello from {request_id}").into()))
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let handler = Handler::builder().handler(hello)?;
    /// let event = r#"{ "httpMethod": "GET", "path": "/hello", "headers": {},
    ///                  "requestContext": { "httpMethod": "GET", "identity": {} } }"#;
    /// let response = LocalFunction::default().request_id("r-1").invoke_http(&handler, event).await?;
    /// assert_eq!(response["statusCode"], 200);
    /// assert_eq!(response["body"], "hello from r-1");
    /// # Ok(()) }
    /// ```
    ///
    /// Any `tower::Service<lambda_http::Request>` that `lambda_http::run` takes works the
    /// same way: a `Handler`, or a `tower::ServiceBuilder` stack with a
    /// [`ChainLayer`](crate::layer::ChainLayer) in it.
    pub async fn invoke_http<S>(&self, service: &S, event: &str) -> Result<serde_json::Value, Error>
    where
        S: tower::Service<lambda_http::Request> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Response: lambda_http::IntoResponse + Send,
        S::Error: Into<Error>,
    {
        use tower::Service;

        let request: lambda_http::request::LambdaRequest =
            serde_json::from_str(event).map_err(|source| LocalError::InvalidEvent {
                expected: "lambda_http::request::LambdaRequest",
                source,
            })?;
        // The adapter `lambda_http::run` itself puts around the service: the same
        // request conversion and the same response shape for each event source.
        let mut adapter = lambda_http::Adapter::from(service.clone());
        let response = adapter
            .call(LambdaEvent::new(request, self.context()))
            .await
            .map_err(Into::into)?;
        Ok(
            serde_json::to_value(response).map_err(|source| LocalError::InvalidResponse {
                response: "lambda_http::LambdaResponse",
                source,
            })?,
        )
    }
}

/// A process-wide counter, so that two ids made in the same nanosecond still differ.
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// 64 unpredictable bits: std's randomly keyed SipHash over a counter and the clock.
/// Unique ids for local runs, not cryptography.
fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(SEQUENCE.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    hasher.finish()
}

/// A version 4 UUID, as Lambda's request ids are.
fn request_id() -> String {
    let high = (random_u64() & 0xffff_ffff_ffff_0fff) | 0x4000; // version 4
    let low = (random_u64() & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000; // RFC 4122 variant
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0xffff,
        low >> 48,
        low & 0xffff_ffff_ffff
    )
}

/// An X-Ray trace header: `Root=1-<epoch seconds, 8 hex>-<24 hex>;Parent=<16 hex>;Sampled=1`.
fn trace_header(now: SystemTime) -> String {
    let seconds = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    format!(
        "Root=1-{:08x}-{:08x}{:016x};Parent={:016x};Sampled=1",
        seconds & 0xffff_ffff,
        random_u64() & 0xffff_ffff,
        random_u64(),
        random_u64()
    )
}

fn millis_since_epoch(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        .try_into()
        .unwrap_or(u64::MAX)
}

/// A log stream name in Lambda's format, `YYYY/MM/DD/[$LATEST]<32 hex>`.
fn log_stream_name(now: SystemTime) -> String {
    let days = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() / 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}/{month:02}/{day:02}/[$LATEST]{:016x}{:016x}",
        random_u64(),
        random_u64()
    )
}

/// The calendar date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuid_v4_and_fresh() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| request_id()).collect();
        assert_eq!(ids.len(), 1000);
        for id in ids.iter().take(20) {
            let groups: Vec<&str> = id.split('-').collect();
            assert_eq!(
                groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
                [8, 4, 4, 4, 12],
                "{id}"
            );
            assert!(groups[2].starts_with('4'), "{id}");
            assert!(matches!(&groups[3][..1], "8" | "9" | "a" | "b"), "{id}");
        }
    }

    #[test]
    fn trace_headers_have_the_xray_shape() {
        let header = trace_header(UNIX_EPOCH + Duration::from_secs(0x5759_e988));
        let (root, rest) = header.split_once(";Parent=").unwrap();
        let (parent, sampled) = rest.split_once(';').unwrap();
        assert!(root.starts_with("Root=1-5759e988-"), "{header}");
        assert_eq!(root.len(), "Root=1-".len() + 8 + 1 + 24);
        assert_eq!(parent.len(), 16);
        assert_eq!(sampled, "Sampled=1");
    }

    #[test]
    fn calendar_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_513), (2026, 3, 1));
    }

    #[test]
    fn log_stream_names_look_like_lambdas() {
        let name = log_stream_name(UNIX_EPOCH + Duration::from_secs(19_723 * 86_400 + 5));
        assert!(name.starts_with("2024/01/01/[$LATEST]"), "{name}");
        assert_eq!(name.len(), "2024/01/01/[$LATEST]".len() + 32);
    }
}
