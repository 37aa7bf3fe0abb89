//! One subsegment: what is collected while its span is open, and the document sent
//! when it closes.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// The line every datagram to the daemon starts with.
pub const DAEMON_HEADER: &str = "{\"format\": \"json\", \"version\": 1}\n";

/// The largest datagram sent: under X-Ray's 64 KB document limit and under the
/// largest UDP payload IPv4 carries (65,507 bytes).
pub const MAX_DATAGRAM_BYTES: usize = 64_000;

/// The longest subsegment name X-Ray accepts, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// A cause message longer than this is cut when the document is too large.
const MAX_MESSAGE_CHARS: usize = 4_096;

/// An annotation string longer than this is cut when the document is too large.
const MAX_ANNOTATION_CHARS: usize = 1_000;

/// The metadata namespace that holds the span's own `tracing` fields.
pub(crate) const FIELDS_NAMESPACE: &str = "tracing";

/// A subsegment name X-Ray accepts: letters, digits, whitespace and `_ . : / % & # = + \ - @`
/// are kept, any other character becomes `_`, and the result is cut to 200 characters.
/// An empty name becomes `anonymous`.
///
/// ```
/// use lambda_middleware::trace::xray::sanitise_name;
///
/// assert_eq!(sanitise_name("## obfuscate"), "## obfuscate");
/// assert_eq!(sanitise_name("## a<b>(c)*"), "## a_b__c__");
/// assert_eq!(sanitise_name(&"x".repeat(10_000)).chars().count(), 200);
/// assert_eq!(sanitise_name(""), "anonymous");
/// ```
pub fn sanitise_name(name: &str) -> String {
    let sanitised: String = name
        .chars()
        .take(MAX_NAME_CHARS)
        .map(|c| if is_allowed_in_name(c) { c } else { '_' })
        .collect();
    if sanitised.is_empty() {
        "anonymous".to_owned()
    } else {
        sanitised
    }
}

fn is_allowed_in_name(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/%&#=+\\-@".contains(c)
}

/// A new 64-bit id for a subsegment or an exception: never zero, unpredictable
/// across processes (SipHash of a counter and the clock under a per-process random
/// key), unique within one.
pub(crate) fn new_id() -> u64 {
    static KEYS: OnceLock<RandomState> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let keys = KEYS.get_or_init(RandomState::new);
    loop {
        let mut hasher = keys.build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        let id = hasher.finish();
        if id != 0 {
            return id;
        }
    }
}

/// Seconds since the epoch, with microseconds, as X-Ray wants them.
pub(crate) fn epoch_seconds(time: SystemTime) -> f64 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    since.as_secs() as f64 + f64::from(since.subsec_micros()) / 1e6
}

/// How a span failed, from its `error`, `otel.status_code`, `otel.status_description`
/// and `error.type` fields.
#[derive(Debug, Default)]
pub(crate) struct Failure {
    pub(crate) failed: bool,
    pub(crate) message: Option<String>,
    pub(crate) kind: Option<String>,
}

/// What is known of one open subsegment.
#[derive(Debug)]
pub(crate) struct Subsegment {
    pub(crate) trace_id: String,
    pub(crate) id: u64,
    pub(crate) parent_id: u64,
    pub(crate) name: String,
    pub(crate) start_time: f64,
    pub(crate) annotations: Map<String, Value>,
    /// Namespace → key → value.
    pub(crate) metadata: Map<String, Value>,
    pub(crate) failure: Failure,
}

impl Subsegment {
    pub(crate) fn new(trace_id: String, parent_id: u64, name: String) -> Self {
        Subsegment {
            trace_id,
            id: new_id(),
            parent_id,
            name,
            start_time: epoch_seconds(SystemTime::now()),
            annotations: Map::new(),
            metadata: Map::new(),
            failure: Failure::default(),
        }
    }

    pub(crate) fn put_metadata(&mut self, namespace: &str, key: &str, value: Value) {
        let entry = self
            .metadata
            .entry(namespace)
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        if let Value::Object(map) = entry {
            map.insert(key.to_owned(), value);
        }
    }

    /// The datagram for the daemon: the header line and the document, at most
    /// [`MAX_DATAGRAM_BYTES`]. A document too large loses its metadata first, then has
    /// its long strings cut, then loses its annotations; it stays valid JSON
    /// throughout because it is re-serialised, never cut as bytes.
    pub(crate) fn datagram(&self, end_time: f64) -> Option<Vec<u8>> {
        let mut document = self.document(end_time);
        let mut datagram = encode(&document)?;
        if datagram.len() > MAX_DATAGRAM_BYTES {
            document.remove("metadata");
            datagram = encode(&document)?;
        }
        if datagram.len() > MAX_DATAGRAM_BYTES {
            shorten_strings(&mut document);
            datagram = encode(&document)?;
        }
        if datagram.len() > MAX_DATAGRAM_BYTES {
            document.remove("annotations");
            datagram = encode(&document)?;
        }
        (datagram.len() <= MAX_DATAGRAM_BYTES).then_some(datagram)
    }

    fn document(&self, end_time: f64) -> Map<String, Value> {
        let mut document = Map::new();
        document.insert("name".into(), sanitise_name(&self.name).into());
        document.insert("id".into(), format!("{:016x}", self.id).into());
        document.insert("trace_id".into(), self.trace_id.clone().into());
        document.insert("parent_id".into(), format!("{:016x}", self.parent_id).into());
        document.insert("type".into(), "subsegment".into());
        document.insert("start_time".into(), self.start_time.into());
        // A clock that stepped back must not make an end before the start.
        document.insert("end_time".into(), end_time.max(self.start_time).into());
        if !self.annotations.is_empty() {
            document.insert("annotations".into(), Value::Object(self.annotations.clone()));
        }
        if !self.metadata.is_empty() {
            document.insert("metadata".into(), Value::Object(self.metadata.clone()));
        }
        if self.failure.failed {
            document.insert("fault".into(), true.into());
            document.insert(
                "cause".into(),
                json!({ "exceptions": [{
                    "id": format!("{:016x}", new_id()),
                    "message": self.failure.message.as_deref().unwrap_or("error"),
                    "type": self.failure.kind.as_deref().unwrap_or("Error"),
                }]}),
            );
        }
        document
    }
}

fn encode(document: &Map<String, Value>) -> Option<Vec<u8>> {
    let mut datagram = DAEMON_HEADER.as_bytes().to_vec();
    serde_json::to_writer(&mut datagram, document).ok()?;
    Some(datagram)
}

/// Cuts the cause's message and type and every annotation string to bounded lengths,
/// on character boundaries.
fn shorten_strings(document: &mut Map<String, Value>) {
    if let Some(Value::Object(annotations)) = document.get_mut("annotations") {
        for value in annotations.values_mut() {
            cut(value, MAX_ANNOTATION_CHARS);
        }
    }
    if let Some(Value::Array(exceptions)) = document.get_mut("cause").and_then(|cause| cause.get_mut("exceptions")) {
        for exception in exceptions {
            if let Some(message) = exception.get_mut("message") {
                cut(message, MAX_MESSAGE_CHARS);
            }
            if let Some(kind) = exception.get_mut("type") {
                cut(kind, MAX_NAME_CHARS);
            }
        }
    }
}

fn cut(value: &mut Value, max_chars: usize) {
    if let Value::String(text) = value {
        if let Some((index, _)) = text.char_indices().nth(max_chars) {
            text.truncate(index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(datagram: &[u8]) -> Value {
        let text = std::str::from_utf8(datagram).unwrap();
        let document = text.strip_prefix(DAEMON_HEADER).unwrap();
        serde_json::from_str(document).unwrap()
    }

    fn subsegment() -> Subsegment {
        Subsegment::new("1-5759e988-bd862e3fe1be46a994272793".into(), 0xab, "## m".into())
    }

    #[test]
    fn ids_are_sixteen_hex_digits_and_distinct() {
        let ids: std::collections::HashSet<u64> = (0..1000).map(|_| new_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(!ids.contains(&0));
    }

    #[test]
    fn a_failed_subsegment_has_a_fault_and_a_cause() {
        let mut segment = subsegment();
        segment.failure = Failure {
            failed: true,
            message: Some("boom".into()),
            kind: Some("MyError".into()),
        };
        let document = parse(&segment.datagram(segment.start_time + 1.0).unwrap());
        assert_eq!(document["fault"], true);
        assert_eq!(document["cause"]["exceptions"][0]["message"], "boom");
        assert_eq!(document["cause"]["exceptions"][0]["type"], "MyError");
        assert_eq!(document["parent_id"], "00000000000000ab");
        assert_eq!(document["type"], "subsegment");
    }

    #[test]
    fn large_documents_drop_metadata_then_cut_strings_then_drop_annotations() {
        let mut segment = subsegment();
        segment.put_metadata("default", "big", Value::String("m".repeat(70_000)));
        segment.annotations.insert("small".into(), 1.into());
        let document = parse(&segment.datagram(segment.start_time).unwrap());
        assert!(document.get("metadata").is_none());
        assert_eq!(document["annotations"]["small"], 1);

        let mut segment = subsegment();
        for i in 0..100 {
            segment
                .annotations
                .insert(format!("a{i}"), Value::String("é".repeat(5_000)));
        }
        segment.failure = Failure {
            failed: true,
            message: Some("x".repeat(1_000_000)),
            kind: None,
        };
        let datagram = segment.datagram(segment.start_time).unwrap();
        assert!(datagram.len() <= MAX_DATAGRAM_BYTES);
        let document = parse(&datagram);
        assert!(document.get("annotations").is_none());
        assert_eq!(
            document["cause"]["exceptions"][0]["message"].as_str().unwrap().len(),
            MAX_MESSAGE_CHARS
        );
    }

    #[test]
    fn names_are_sanitised_and_bounded() {
        assert_eq!(sanitise_name("## ok:/%&#=+\\-@._ ü 9"), "## ok:/%&#=+\\-@._ ü 9");
        assert_eq!(sanitise_name("a\"b{c}\n"), "a_b_c_\n");
        assert_eq!(sanitise_name(&"é".repeat(10_000)), "é".repeat(200));
    }
}
