//! The X-Ray trace header: `Root=1-xxxxxxxx-<24 hex>;Parent=<16 hex>;Sampled=1`.

use std::fmt;

/// The environment variable Lambda sets to the invocation's trace header (in the
/// one-invocation-at-a-time mode; under `run_concurrent` it is
/// `Context::xray_trace_id` instead).
pub const TRACE_HEADER_ENV: &str = "_X_AMZN_TRACE_ID";

/// A parsed X-Ray trace header, as Lambda passes it to a function.
///
/// Parsing is strict about the parts subsegments need — a `Root` of the form
/// `1-<8 hex>-<24 hex>` and a `Parent` of 16 hex digits — and lenient about the
/// rest: parts may come in any order, unknown parts (`Lineage=…`) are ignored, and
/// `Sampled` other than `1` (`0`, `?`, missing) means "not sampled". A malformed
/// header, or one longer than [`MAX_HEADER_LEN`] bytes, is `None`, never a panic.
///
/// ```
/// use lambda_middleware::trace::xray::TraceHeader;
///
/// let header = TraceHeader::parse(
///     "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
/// ).unwrap();
/// assert_eq!(header.trace_id(), "1-5759e988-bd862e3fe1be46a994272793");
/// assert_eq!(header.parent_id(), 0x53995c3f42cd8ad8);
/// assert!(header.sampled());
///
/// assert!(TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793").is_none()); // no parent
/// assert!(TraceHeader::parse("Root=2-zz;Parent=1;Sampled=1").is_none());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TraceHeader {
    /// `1-xxxxxxxx-<24 hex>`: 35 ASCII bytes.
    root: [u8; ROOT_LEN],
    parent: u64,
    sampled: bool,
}

const ROOT_LEN: usize = 35;

/// The longest trace header [`TraceHeader::parse`] reads, in bytes.
///
/// Lambda's API allows trace headers of up to 8,192 characters; a longer one is
/// refused without being scanned.
///
/// ```
/// use lambda_middleware::trace::xray::{MAX_HEADER_LEN, TraceHeader};
///
/// let padded = format!(
///     "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;{}",
///     " ".repeat(MAX_HEADER_LEN),
/// );
/// assert!(TraceHeader::parse(&padded).is_none());
/// ```
pub const MAX_HEADER_LEN: usize = 8192;

impl TraceHeader {
    /// Parses a trace header; `None` when `Root` or `Parent` is missing or malformed.
    ///
    /// ```
    /// use lambda_middleware::trace::xray::TraceHeader;
    ///
    /// let unsampled = TraceHeader::parse(
    ///     "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
    /// ).unwrap();
    /// assert!(!unsampled.sampled());
    /// assert!(TraceHeader::parse("").is_none());
    /// ```
    pub fn parse(header: &str) -> Option<TraceHeader> {
        if header.len() > MAX_HEADER_LEN {
            return None;
        }
        let mut root = None;
        let mut parent = None;
        let mut sampled = false;
        for part in header.split(';') {
            let Some((key, value)) = part.split_once('=') else {
                continue;
            };
            match key.trim() {
                "Root" => root = Some(parse_root(value.trim())?),
                "Parent" => parent = Some(parse_id(value.trim())?),
                "Sampled" => sampled = value.trim() == "1",
                _ => {}
            }
        }
        Some(TraceHeader {
            root: root?,
            parent: parent?,
            sampled,
        })
    }

    /// The trace id, `1-xxxxxxxx-<24 hex>`.
    ///
    /// ```
    /// # use lambda_middleware::trace::xray::TraceHeader;
    /// let header = TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8").unwrap();
    /// assert_eq!(header.trace_id(), "1-5759e988-bd862e3fe1be46a994272793");
    /// ```
    pub fn trace_id(&self) -> &str {
        // Only ASCII hex digits and dashes were accepted into `root`.
        std::str::from_utf8(&self.root).unwrap_or_default()
    }

    /// The id of the segment the function's subsegments hang from: Lambda's
    /// function segment.
    ///
    /// ```
    /// # use lambda_middleware::trace::xray::TraceHeader;
    /// let header = TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=00000000000000ff").unwrap();
    /// assert_eq!(header.parent_id(), 255);
    /// ```
    pub fn parent_id(&self) -> u64 {
        self.parent
    }

    /// Whether the trace is sampled (`Sampled=1`); nothing is sent for one that is not.
    ///
    /// ```
    /// # use lambda_middleware::trace::xray::TraceHeader;
    /// let header = TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8").unwrap();
    /// assert!(!header.sampled()); // no `Sampled` part
    /// ```
    pub fn sampled(&self) -> bool {
        self.sampled
    }
}

impl fmt::Debug for TraceHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceHeader")
            .field("root", &self.trace_id())
            .field("parent", &format_args!("{:016x}", self.parent))
            .field("sampled", &self.sampled)
            .finish()
    }
}

/// `1-<8 hex>-<24 hex>`.
fn parse_root(value: &str) -> Option<[u8; ROOT_LEN]> {
    let bytes: [u8; ROOT_LEN] = value.as_bytes().try_into().ok()?;
    let well_formed = bytes.iter().enumerate().all(|(i, b)| match i {
        0 => *b == b'1',
        1 | 10 => *b == b'-',
        _ => b.is_ascii_hexdigit(),
    });
    well_formed.then_some(bytes)
}

/// 16 hex digits.
pub(crate) fn parse_id(value: &str) -> Option<u64> {
    if value.len() != 16 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(value, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "1-5759e988-bd862e3fe1be46a994272793";

    #[test]
    fn parts_in_any_order_and_unknown_parts_ignored() {
        let header =
            TraceHeader::parse(&format!("Sampled=1;Lineage=a:1;Parent=53995c3f42cd8ad8; Root={ROOT}")).unwrap();
        assert_eq!(header.trace_id(), ROOT);
        assert!(header.sampled());
    }

    #[test]
    fn malformed_parts_are_rejected() {
        for header in [
            "",
            ";;;",
            "Root=",
            &format!("Root={ROOT}"),
            "Parent=53995c3f42cd8ad8;Sampled=1",
            &format!("Root={ROOT};Parent=53995c3f42cd8ad"),
            &format!("Root={ROOT};Parent=53995c3f42cd8ad8a"),
            &format!("Root={ROOT};Parent=53995c3f42cd8adg"),
            &format!("Root={ROOT};Parent=+3995c3f42cd8ad8"),
            "Root=1-5759e988-bd862e3fe1be46a99427279;Parent=53995c3f42cd8ad8",
            "Root=2-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8",
            "Root=1_5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8",
            "Root=1-5759e988-bd862e3fe1be46a99427279é;Parent=53995c3f42cd8ad8",
        ] {
            assert!(TraceHeader::parse(header).is_none(), "{header:?}");
        }
    }

    #[test]
    fn sampled_only_when_one() {
        for (flag, sampled) in [("1", true), ("0", false), ("?", false), ("", false), ("11", false)] {
            let header = TraceHeader::parse(&format!("Root={ROOT};Parent=53995c3f42cd8ad8;Sampled={flag}")).unwrap();
            assert_eq!(header.sampled(), sampled, "{flag}");
        }
    }
}
