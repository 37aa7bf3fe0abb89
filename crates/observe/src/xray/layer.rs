//! [`XrayLayer`]: spans in, subsegments out.

use std::any::TypeId;
use std::fmt;
use std::net::SocketAddr;
use std::time::SystemTime;

use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Dispatch, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::daemon::{DAEMON_ADDRESS_ENV, DEFAULT_DAEMON_ADDRESS, Daemon, DaemonAddressError};
use super::document::{FIELDS_NAMESPACE, Failure, Subsegment, epoch_seconds};
use super::header::{TRACE_HEADER_ENV, TraceHeader};
use lambda_middleware_core::trace::{HANDLER_SPAN, MIDDLEWARE_SPAN};

/// A [`tracing_subscriber::Layer`] that sends spans to the AWS X-Ray daemon as
/// subsegments: every traced middleware's `## name` span, and every span opened
/// inside an invocation (your own `info_span!`s in a handler included).
///
/// Each span, when it closes, becomes one UDP datagram
/// `{"format": "json", "version": 1}\n<subsegment>` to the daemon. The socket is
/// non-blocking and errors are ignored: a daemon that is down, an address that does
/// not resolve or a full socket buffer never slows, fails or panics an invocation.
/// See the [module docs](crate::xray) for where the trace comes from and what
/// a document holds.
///
/// # Example
///
/// ```no_run
/// use lambda_middleware::trace::xray::XrayLayer;
/// use tracing_subscriber::layer::SubscriberExt;
/// use tracing_subscriber::util::SubscriberInitExt;
///
/// tracing_subscriber::registry()
///     .with(XrayLayer::from_env())
///     .init();
/// ```
pub struct XrayLayer {
    daemon: Option<Daemon>,
    /// Set in `on_layer`, when the subscriber type is known; see `downcast_raw`.
    with_subsegment: WithSubsegment,
}

impl XrayLayer {
    /// A layer that sends to `AWS_XRAY_DAEMON_ADDRESS` (`127.0.0.1:2000` when unset),
    /// resolved once, now.
    ///
    /// It never fails: with an address that cannot be used, it writes why to standard
    /// error (so to CloudWatch, under Lambda) and the layer sends nothing
    /// ([`daemon_address`](XrayLayer::daemon_address) is `None`). To fail at start-up
    /// instead, use [`try_from_env`](XrayLayer::try_from_env).
    ///
    /// ```
    /// use lambda_middleware::trace::xray::XrayLayer;
    ///
    /// // Unset in doctests: the default address.
    /// let layer = XrayLayer::from_env();
    /// assert_eq!(layer.daemon_address(), Some("127.0.0.1:2000".parse().unwrap()));
    /// ```
    pub fn from_env() -> Self {
        XrayLayer::try_from_env().unwrap_or_else(|error| {
            eprintln!("{DAEMON_ADDRESS_ENV}: {error}; nothing will be sent to X-Ray");
            XrayLayer::sending_nothing()
        })
    }

    /// Like [`from_env`](XrayLayer::from_env), but an address that cannot be used is an
    /// error.
    ///
    /// ```
    /// use lambda_middleware::trace::xray::XrayLayer;
    ///
    /// // Unset in doctests: the default address.
    /// let layer = XrayLayer::try_from_env()?;
    /// assert_eq!(layer.daemon_address(), Some("127.0.0.1:2000".parse().unwrap()));
    /// # Ok::<(), lambda_middleware::trace::xray::DaemonAddressError>(())
    /// ```
    pub fn try_from_env() -> Result<Self, DaemonAddressError> {
        match std::env::var(DAEMON_ADDRESS_ENV) {
            Ok(address) if !address.trim().is_empty() => XrayLayer::try_with_daemon_address(&address),
            _ => XrayLayer::try_with_daemon_address(DEFAULT_DAEMON_ADDRESS),
        }
    }

    /// A layer that sends to `address`: `host:port` or `tcp:host:port udp:host:port`
    /// (see [`udp_daemon_address`](super::udp_daemon_address)), resolved once, now; with
    /// an address that cannot be used, a layer that sends nothing.
    ///
    /// ```
    /// use lambda_middleware::trace::xray::XrayLayer;
    ///
    /// let layer = XrayLayer::with_daemon_address("tcp:127.0.0.1:3000 udp:127.0.0.1:3001");
    /// assert_eq!(layer.daemon_address(), Some("127.0.0.1:3001".parse().unwrap()));
    /// assert_eq!(XrayLayer::with_daemon_address("not an address").daemon_address(), None);
    /// ```
    pub fn with_daemon_address(address: &str) -> Self {
        XrayLayer::try_with_daemon_address(address).unwrap_or_else(|_| XrayLayer::sending_nothing())
    }

    /// A layer that sends to `address`, or why it cannot.
    ///
    /// ```
    /// use lambda_middleware::trace::xray::XrayLayer;
    ///
    /// assert!(XrayLayer::try_with_daemon_address("127.0.0.1:2000").is_ok());
    /// let error = XrayLayer::try_with_daemon_address("tcp:127.0.0.1:2000").unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "the X-Ray daemon address \"tcp:127.0.0.1:2000\" is not `host:port`, `udp:host:port` or `tcp:host:port udp:host:port`",
    /// );
    /// ```
    pub fn try_with_daemon_address(address: &str) -> Result<Self, DaemonAddressError> {
        Ok(XrayLayer {
            daemon: Some(Daemon::connect(address)?),
            with_subsegment: WithSubsegment(|_, _, _| {}),
        })
    }

    fn sending_nothing() -> Self {
        XrayLayer {
            daemon: None,
            with_subsegment: WithSubsegment(|_, _, _| {}),
        }
    }

    /// Where documents go; `None` when the address could not be used, and nothing is sent.
    ///
    /// ```
    /// use lambda_middleware::trace::xray::XrayLayer;
    /// assert!(XrayLayer::with_daemon_address("127.0.0.1:2000").daemon_address().is_some());
    /// ```
    pub fn daemon_address(&self) -> Option<SocketAddr> {
        self.daemon.as_ref().map(Daemon::address)
    }
}

impl fmt::Debug for XrayLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XrayLayer")
            .field("daemon", &self.daemon_address())
            .finish()
    }
}

/// What the layer keeps in a span's extensions.
enum Node {
    /// A span that carries the invocation's trace header (`lambda_runtime`'s
    /// `Lambda runtime invoke`): Lambda's own function segment, not sent.
    Invocation { trace_id: String, parent_id: u64 },
    /// A span sent as a subsegment when it closes.
    Subsegment(Box<Subsegment>),
    /// Inside an invocation that is not sampled: nothing below it is sent.
    Unsampled,
}

impl Node {
    fn from_header(header: &str) -> Node {
        match TraceHeader::parse(header) {
            Some(header) if header.sampled() => Node::Invocation {
                trace_id: header.trace_id().to_owned(),
                parent_id: header.parent_id(),
            },
            _ => Node::Unsampled,
        }
    }
}

/// Finds the subsegment of a span (or of its nearest ancestor that has one) through
/// the subscriber: how a [`Tracer`](crate::Tracer) reaches the layer.
#[derive(Clone, Copy)]
struct WithSubsegment(fn(&Dispatch, &Id, &mut Visitor<'_>));

/// What [`with_current_subsegment`] does to the subsegment it finds.
type Visitor<'a> = dyn FnMut(&mut Subsegment) + 'a;

fn with_subsegment<S>(dispatch: &Dispatch, id: &Id, f: &mut Visitor<'_>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(span) = dispatch.downcast_ref::<S>().and_then(|subscriber| subscriber.span(id)) else {
        return;
    };
    for span in span.scope() {
        let mut extensions = span.extensions_mut();
        match extensions.get_mut::<Node>() {
            Some(Node::Subsegment(subsegment)) => return f(subsegment),
            // Lambda's segment cannot be changed from here, and unsampled traces are not sent.
            Some(Node::Invocation { .. } | Node::Unsampled) => return,
            None => {}
        }
    }
}

/// Runs `f` on the subsegment of the current span, when the current subscriber has
/// an [`XrayLayer`] and the span (or an ancestor) is a subsegment.
pub(crate) fn with_current_subsegment(f: impl FnOnce(&mut Subsegment)) {
    let mut f = Some(f);
    tracing::Span::current().with_subscriber(|(id, dispatch)| {
        if let Some(with) = dispatch.downcast_ref::<WithSubsegment>() {
            (with.0)(dispatch, id, &mut |subsegment| {
                if let Some(f) = f.take() {
                    f(subsegment);
                }
            });
        }
    });
}

/// A traced middleware's span, or the handler's segment: the spans of this crate that
/// may find the trace in `_X_AMZN_TRACE_ID` when no span around them carries it.
fn is_middleware_span(metadata: &Metadata<'_>) -> bool {
    (metadata.name() == MIDDLEWARE_SPAN || metadata.name() == HANDLER_SPAN)
        && metadata.target().starts_with("lambda_middleware")
}

impl<S> Layer<S> for XrayLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_layer(&mut self, _: &mut S) {
        self.with_subsegment = WithSubsegment(with_subsegment::<S>);
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if self.daemon.is_none() {
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut fields = Fields::default();
        attrs.record(&mut fields);

        let node = if let Some(header) = &fields.trace_header {
            Some(Node::from_header(header))
        } else {
            let inherited = span
                .parent()
                .and_then(|parent| match parent.extensions().get::<Node>()? {
                    Node::Invocation { trace_id, parent_id } => Some(Some((trace_id.clone(), *parent_id))),
                    Node::Subsegment(parent) => Some(Some((parent.trace_id.clone(), parent.id))),
                    Node::Unsampled => Some(None),
                });
            let inherited = match inherited {
                Some(inherited) => Some(inherited),
                // A middleware outside any trace: the one-at-a-time runtime (and a
                // local run) put the invocation's header in the environment.
                None if is_middleware_span(attrs.metadata()) => Some(
                    std::env::var(TRACE_HEADER_ENV)
                        .ok()
                        .and_then(|header| TraceHeader::parse(&header))
                        .filter(TraceHeader::sampled)
                        .map(|header| (header.trace_id().to_owned(), header.parent_id())),
                ),
                None => None,
            };
            inherited.map(|trace| match trace {
                Some((trace_id, parent_id)) => {
                    let mut subsegment = Subsegment::new(trace_id, parent_id, attrs.metadata().name().to_owned());
                    fields.apply(&mut subsegment);
                    Node::Subsegment(Box::new(subsegment))
                }
                None => Node::Unsampled,
            })
        };
        if let Some(node) = node {
            span.extensions_mut().insert(node);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(Node::Subsegment(subsegment)) = extensions.get_mut::<Node>() {
            let mut fields = Fields::default();
            values.record(&mut fields);
            fields.apply(subsegment);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let (Some(daemon), Some(span)) = (&self.daemon, ctx.span(&id)) else {
            return;
        };
        let Some(Node::Subsegment(subsegment)) = span.extensions_mut().remove::<Node>() else {
            return;
        };
        if let Some(datagram) = subsegment.datagram(epoch_seconds(SystemTime::now())) {
            // Fire and forget: a lost document must never cost the invocation anything.
            let _ = daemon.send(&datagram);
        }
    }

    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            Some(self as *const Self as *const ())
        } else if id == TypeId::of::<WithSubsegment>() {
            Some(&self.with_subsegment as *const WithSubsegment as *const ())
        } else {
            None
        }
    }
}

/// A span's fields, sorted into what X-Ray has a place for and the rest.
#[derive(Default)]
struct Fields {
    trace_header: Option<String>,
    name: Option<String>,
    failure: Failure,
    early_response: bool,
    other: Vec<(&'static str, Value)>,
}

impl Fields {
    fn apply(self, subsegment: &mut Subsegment) {
        if let Some(name) = self.name {
            subsegment.name = name;
        }
        subsegment.failure.failed |= self.failure.failed;
        if self.failure.message.is_some() {
            subsegment.failure.message = self.failure.message;
        }
        if self.failure.kind.is_some() {
            subsegment.failure.kind = self.failure.kind;
        }
        if self.early_response {
            subsegment.annotations.insert("early_response".into(), true.into());
        }
        for (key, value) in self.other {
            subsegment.put_metadata(FIELDS_NAMESPACE, key, value);
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "xrayTraceId" | "xray_trace_id" => self.trace_header = Some(value.to_owned()),
            "otel.name" => self.name = Some(value.to_owned()),
            "otel.status_code" => self.failure.failed |= value.eq_ignore_ascii_case("error"),
            "otel.status_description" | "otel.status_message" => self.failure.message = Some(value.to_owned()),
            "error.type" => self.failure.kind = Some(value.to_owned()),
            "otel.kind" => {}
            "error" => {
                self.failure.failed = true;
                self.failure.message.get_or_insert_with(|| value.to_owned());
            }
            name => self.other.push((name, value.into())),
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        match field.name() {
            "error" => self.failure.failed |= value,
            "early_response" => self.early_response |= value,
            name => self.other.push((name, value.into())),
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.other.push((field.name(), value.into()));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.other.push((field.name(), value.into()));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.other.push((field.name(), value.into()));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        match field.name() {
            "error" => {
                self.failure.failed = true;
                self.failure.message.get_or_insert_with(|| value.to_string());
            }
            name => self.other.push((name, value.to_string().into())),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}
