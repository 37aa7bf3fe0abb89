//! Bad inputs never panic: malformed trace headers, invalid annotation keys, metadata
//! that does not serialise, names with forbidden characters or 10,000 characters.

use lambda_middleware::Tracer;
use lambda_middleware::trace::is_valid_annotation_key;
use proptest::prelude::*;
use serde::ser::{Error as _, Serialize, Serializer};

/// Refuses to be serialised.
struct Unserialisable;

impl Serialize for Unserialisable {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(S::Error::custom("refused"))
    }
}

fn key_matches_xray_rule(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

proptest! {
    #[test]
    fn annotation_keys_are_accepted_exactly_when_they_match_the_rule(key in ".{0,40}|[A-Za-z0-9_]{1,40}") {
        prop_assert_eq!(is_valid_annotation_key(&key), key_matches_xray_rule(&key));
        Tracer::new().put_annotation(&key, 1);
        Tracer::new().put_metadata_in(&key, &key, &Unserialisable);
    }
}

#[test]
fn metadata_that_does_not_serialise_is_dropped() {
    let tracer = Tracer::new();
    tracer.put_metadata("refused", &Unserialisable);
    tracer.put_metadata("pairs", &std::collections::BTreeMap::from([((1, 2), 3)]));
    tracer.put_metadata("nan", &f64::NAN); // serde_json makes it `null`
}

#[cfg(feature = "xray")]
mod xray {
    use std::net::UdpSocket;
    use std::time::Duration;

    use lambda_middleware::Tracer;
    use lambda_middleware::trace::xray::{
        DAEMON_HEADER, MAX_HEADER_LEN, MAX_NAME_CHARS, TraceHeader, XrayLayer, sanitise_name,
    };
    use proptest::prelude::*;
    use serde_json::Value;
    use tracing_subscriber::layer::SubscriberExt;

    use super::{Unserialisable, key_matches_xray_rule};

    const ROOT: &str = "1-5759e988-bd862e3fe1be46a994272793";
    const HEADER: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

    fn is_allowed(c: char) -> bool {
        c.is_alphanumeric() || c.is_whitespace() || "_.:/%&#=+\\-@".contains(c)
    }

    /// A daemon socket and a subscriber sending to it, for the current thread.
    fn daemon() -> (UdpSocket, tracing::subscriber::DefaultGuard) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let layer = XrayLayer::with_daemon_address(&socket.local_addr().unwrap().to_string());
        let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
        (socket, guard)
    }

    fn receive(socket: &UdpSocket) -> Value {
        let mut buffer = vec![0; 70_000];
        let length = socket.recv(&mut buffer).unwrap();
        let text = std::str::from_utf8(&buffer[..length]).unwrap();
        serde_json::from_str(text.strip_prefix(DAEMON_HEADER).unwrap()).unwrap()
    }

    /// Runs `f` inside a span of a sampled invocation, and returns the document that
    /// span became.
    fn subsegment(socket: &UdpSocket, name: &str, f: impl FnOnce()) -> Value {
        let invocation = tracing::info_span!("invocation", xrayTraceId = HEADER);
        let _invocation = invocation.enter();
        tracing::info_span!("inner", otel.name = name).in_scope(f);
        receive(socket)
    }

    fn hex(digits: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!("[0-9a-f]{{{digits}}}")).unwrap()
    }

    proptest! {
        #[test]
        fn any_header_parses_or_is_refused_without_panicking(header in any::<String>()) {
            let _ = TraceHeader::parse(&header);
        }

        #[test]
        fn headers_with_parts_missing_or_of_the_wrong_shape_are_refused(
            time in "[0-9a-fA-Fg-z]{0,10}",
            random in "[0-9a-fx]{20,28}",
            parent in "[0-9a-fA-F+-]{0,20}",
            sampled in "[01?]?",
            drop_root in any::<bool>(),
            drop_parent in any::<bool>(),
        ) {
            let mut parts = Vec::new();
            if !drop_root {
                parts.push(format!("Root=1-{time}-{random}"));
            }
            if !drop_parent {
                parts.push(format!("Parent={parent}"));
            }
            parts.push(format!("Sampled={sampled}"));
            let header = parts.join(";");
            let well_formed = !drop_root
                && !drop_parent
                && time.len() == 8
                && time.bytes().all(|b| b.is_ascii_hexdigit())
                && random.len() == 24
                && random.bytes().all(|b| b.is_ascii_hexdigit())
                && parent.len() == 16
                && parent.bytes().all(|b| b.is_ascii_hexdigit());
            let parsed = TraceHeader::parse(&header);
            prop_assert_eq!(parsed.is_some(), well_formed, "{}", header);
            if let Some(parsed) = parsed {
                prop_assert_eq!(parsed.trace_id(), format!("1-{time}-{random}"));
                prop_assert_eq!(parsed.parent_id(), u64::from_str_radix(&parent, 16).unwrap());
                prop_assert_eq!(parsed.sampled(), sampled == "1");
            }
        }

        #[test]
        fn well_formed_headers_round_trip(time in hex(8), random in hex(24), parent in hex(16), sampled in any::<bool>()) {
            let header = format!("Root=1-{time}-{random};Parent={parent};Sampled={}", u8::from(sampled));
            let parsed = TraceHeader::parse(&header).unwrap();
            prop_assert_eq!(parsed.trace_id(), format!("1-{time}-{random}"));
            prop_assert_eq!(parsed.sampled(), sampled);
        }

        #[test]
        fn sanitised_names_are_short_non_empty_and_allowed(name in any::<String>()) {
            let sanitised = sanitise_name(&name);
            prop_assert!(!sanitised.is_empty());
            prop_assert!(sanitised.chars().count() <= MAX_NAME_CHARS);
            prop_assert!(sanitised.chars().all(is_allowed));
        }
    }

    #[test]
    fn headers_longer_than_the_limit_are_refused_even_when_well_formed() {
        let valid = format!("Root={ROOT};Parent=53995c3f42cd8ad8;Sampled=1;");
        let at_limit = format!("{valid}{}", " ".repeat(MAX_HEADER_LEN - valid.len()));
        assert_eq!(at_limit.len(), MAX_HEADER_LEN);
        assert!(TraceHeader::parse(&at_limit).is_some());
        // Whitespace is trimmed from values, so this one would parse but for its length.
        let over = format!(
            "Root={ROOT}{};Parent=53995c3f42cd8ad8;Sampled=1",
            "\t;".repeat(MAX_HEADER_LEN / 2)
        );
        assert!(TraceHeader::parse(&over).is_none());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        #[test]
        fn huge_headers_are_refused(unit in "[^;]{1,16}", times in MAX_HEADER_LEN / 2..20_000_usize) {
            let filler = format!("{unit};").repeat(times);
            prop_assert!(TraceHeader::parse(&filler).is_none());
            let header = format!("Root={ROOT}{filler};Parent=53995c3f42cd8ad8;Sampled=1");
            prop_assert!(TraceHeader::parse(&header).is_none());
        }
    }

    #[test]
    fn documents_keep_only_valid_annotation_keys_and_sanitised_names() {
        let (socket, _guard) = daemon();
        proptest!(ProptestConfig::with_cases(64), |(key in ".{0,20}|[A-Za-z0-9_]{1,20}", name in ".{0,300}")| {
            let document = subsegment(&socket, &name, || {
                Tracer::new().put_annotation(&key, "v");
                Tracer::new().put_metadata("refused", &Unserialisable);
            });
            let sent = document["name"].as_str().unwrap();
            prop_assert!(!sent.is_empty() && sent.chars().count() <= MAX_NAME_CHARS);
            prop_assert!(sent.chars().all(is_allowed), "{}", sent);
            let annotated = document.get("annotations").is_some_and(|a| a.get(&key).is_some());
            prop_assert_eq!(annotated, key_matches_xray_rule(&key), "{}", document);
            prop_assert!(document.get("metadata").is_none_or(|m| m.get(Tracer::new().namespace()).is_none()));
        });
    }

    #[test]
    fn a_ten_thousand_character_name_is_cut_to_two_hundred() {
        let (socket, _guard) = daemon();
        let name = "ä<".repeat(5_000);
        let document = subsegment(&socket, &name, || {});
        let sent = document["name"].as_str().unwrap();
        assert_eq!(sent.chars().count(), 200);
        assert_eq!(sent, "ä_".repeat(100));
    }
}
