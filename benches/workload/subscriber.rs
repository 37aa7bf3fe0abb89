//! The `tracing` subscribers the traced variants run under.

use tracing::Dispatch;

/// Which subscriber a variant runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscriber {
    /// None at all: spans are disabled.
    None,
    /// `tracing_subscriber::fmt` writing to `io::sink`: every span is created, its
    /// fields formatted and stored, entered and closed; nothing is written.
    FmtSink,
    /// A registry with `XrayLayer`, sending one datagram per closed span to a UDP
    /// socket on loopback that nobody reads (the kernel drops what does not fit).
    Xray,
}

/// A trace header, as Lambda sets it for a sampled invocation.
pub const TRACE_HEADER: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

impl Subscriber {
    /// The dispatcher to install, with whatever it needs to keep alive.
    pub fn dispatch(self) -> Option<(Dispatch, Keep)> {
        match self {
            Subscriber::None => None,
            Subscriber::FmtSink => {
                let subscriber = tracing_subscriber::fmt().with_writer(std::io::sink).finish();
                Some((Dispatch::new(subscriber), Keep(None)))
            }
            Subscriber::Xray => xray(),
        }
    }
}

/// What a subscriber needs alive while it runs (the loopback socket the X-Ray layer
/// sends to).
pub struct Keep(#[allow(dead_code)] Option<std::net::UdpSocket>);

#[cfg(feature = "xray")]
fn xray() -> Option<(Dispatch, Keep)> {
    use lambda_middleware::trace::xray::XrayLayer;
    use tracing_subscriber::layer::SubscriberExt;

    let daemon = std::net::UdpSocket::bind("127.0.0.1:0").expect("a UDP socket on loopback");
    let address = daemon.local_addr().expect("its address").to_string();
    let subscriber = tracing_subscriber::registry().with(XrayLayer::with_daemon_address(&address));
    Some((Dispatch::new(subscriber), Keep(Some(daemon))))
}

#[cfg(not(feature = "xray"))]
fn xray() -> Option<(Dispatch, Keep)> {
    panic!("the X-Ray variant needs `--features xray`")
}

/// Sets the trace header the X-Ray layer reads, as the one-at-a-time runtime does
/// before each invocation. Call it first thing in `main`, before any thread starts.
pub fn set_trace_header() {
    // SAFETY: called at the start of `main`, while the process has one thread.
    unsafe { std::env::set_var("_X_AMZN_TRACE_ID", TRACE_HEADER) };
}
