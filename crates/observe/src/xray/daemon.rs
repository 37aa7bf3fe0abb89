//! Where the X-Ray daemon listens, and the socket that sends it documents.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};

/// The environment variable that says where the X-Ray daemon listens; Lambda sets it.
pub const DAEMON_ADDRESS_ENV: &str = "AWS_XRAY_DAEMON_ADDRESS";

/// Where the daemon listens when `AWS_XRAY_DAEMON_ADDRESS` is unset.
pub const DEFAULT_DAEMON_ADDRESS: &str = "127.0.0.1:2000";

/// The UDP part of a daemon address: `host:port`, or the two-address form
/// `tcp:host:port udp:host:port` (in either order) that X-Ray SDKs accept.
/// `None` when there is no UDP address in it.
///
/// ```
/// use lambda_middleware::trace::xray::udp_daemon_address;
///
/// assert_eq!(udp_daemon_address("169.254.79.129:2000"), Some("169.254.79.129:2000"));
/// assert_eq!(udp_daemon_address("tcp:127.0.0.1:2000 udp:127.0.0.2:2001"), Some("127.0.0.2:2001"));
/// assert_eq!(udp_daemon_address("udp:localhost:2000 tcp:localhost:2000"), Some("localhost:2000"));
/// assert_eq!(udp_daemon_address("tcp:127.0.0.1:2000"), None);
/// assert_eq!(udp_daemon_address(""), None);
/// ```
pub fn udp_daemon_address(address: &str) -> Option<&str> {
    let mut parts = address.split_whitespace();
    let first = parts.next()?;
    if let Some(second) = parts.next() {
        if parts.next().is_some() {
            return None;
        }
        return [first, second].into_iter().find_map(|part| part.strip_prefix("udp:"));
    }
    if first.starts_with("tcp:") {
        return None;
    }
    Some(first.strip_prefix("udp:").unwrap_or(first))
}

/// A non-blocking UDP socket aimed at the daemon, resolved once.
#[derive(Debug)]
pub(crate) struct Daemon {
    socket: UdpSocket,
    address: SocketAddr,
}

/// Why a daemon address cannot be used: the layer made from it sends nothing.
///
/// ```
/// use lambda_middleware::trace::xray::{DaemonAddressError, XrayLayer};
///
/// let error = XrayLayer::try_with_daemon_address("nonsense").unwrap_err();
/// assert!(matches!(error, DaemonAddressError::Unresolved { .. }));
/// assert!(error.to_string().starts_with("the X-Ray daemon address \"nonsense\" does not resolve"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DaemonAddressError {
    /// The address has no UDP part in any accepted form.
    #[error(
        "the X-Ray daemon address {address:?} is not `host:port`, `udp:host:port` or `tcp:host:port udp:host:port`"
    )]
    Malformed {
        /// The address as given.
        address: String,
    },
    /// The UDP part does not resolve to a socket address.
    #[error("the X-Ray daemon address {address:?} does not resolve to a socket address: {source}")]
    Unresolved {
        /// The UDP part of the address.
        address: String,
        /// What resolving it said.
        source: io::Error,
    },
    /// No local UDP socket could be bound to send from.
    #[error("no UDP socket to send to the X-Ray daemon at {address}: {source}")]
    Socket {
        /// The daemon's address.
        address: SocketAddr,
        /// What binding the socket said.
        source: io::Error,
    },
}

impl Daemon {
    /// Resolves `address` (see [`udp_daemon_address`]) and binds a non-blocking socket
    /// for it, once, so that a misconfigured address costs nothing afterwards.
    pub(crate) fn connect(address: &str) -> Result<Daemon, DaemonAddressError> {
        let udp = udp_daemon_address(address).ok_or_else(|| DaemonAddressError::Malformed {
            address: address.to_owned(),
        })?;
        let unresolved = |source| DaemonAddressError::Unresolved {
            address: udp.to_owned(),
            source,
        };
        let address = udp
            .to_socket_addrs()
            .map_err(unresolved)?
            .next()
            .ok_or_else(|| unresolved(io::Error::new(io::ErrorKind::NotFound, "no address")))?;
        let local: SocketAddr = if address.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let socket = |source| DaemonAddressError::Socket { address, source };
        let socket_for = UdpSocket::bind(local).map_err(socket)?;
        // A full socket buffer drops the document instead of waiting.
        socket_for.set_nonblocking(true).map_err(socket)?;
        Ok(Daemon {
            socket: socket_for,
            address,
        })
    }

    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }

    /// Sends one datagram. Errors (no daemon, full buffer, too large) are returned for
    /// tests to see; the layer ignores them.
    pub(crate) fn send(&self, datagram: &[u8]) -> io::Result<usize> {
        self.socket.send_to(datagram, self.address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_addresses_give_no_daemon() {
        for address in [
            "",
            "nonsense",
            "127.0.0.1",
            "127.0.0.1:99999",
            "tcp:127.0.0.1:2000",
            "a b c",
        ] {
            assert!(Daemon::connect(address).is_err(), "{address}");
        }
        assert_eq!(
            Daemon::connect("udp:127.0.0.1:2000 tcp:127.0.0.1:2000")
                .unwrap()
                .address(),
            "127.0.0.1:2000".parse().unwrap()
        );
    }
}
