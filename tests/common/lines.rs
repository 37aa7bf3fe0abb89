//! A writer that keeps what a logger or the metrics write, and JSON parsed with its
//! keys in order.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// Clone it, give one clone to the logger (it is a `MakeWriter`), read the other.
#[derive(Clone, Default)]
pub struct Lines(Arc<Mutex<Vec<u8>>>);

impl Lines {
    /// Every line written so far; panics on a write that did not end with a newline.
    pub fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap().clone();
        let text = String::from_utf8(bytes).expect("UTF-8 output");
        if !text.is_empty() {
            assert!(text.ends_with('\n'), "the last line has no newline: {text:?}");
        }
        text.lines().map(str::to_owned).collect()
    }

    /// Every line parsed as a JSON object; panics, showing the line, on one that is not.
    pub fn objects(&self) -> Vec<Ordered> {
        self.lines().iter().map(|line| Ordered::parse(line)).collect()
    }

    /// A function for `MetricsParams::output`: each line as given, with a newline.
    pub fn sink(&self) -> impl Fn(&str) + Send + Sync + 'static {
        let lines = self.clone();
        move |line: &str| {
            let mut bytes = lines.0.lock().unwrap();
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
        }
    }
}

pub struct LineWriter(Arc<Mutex<Vec<u8>>>);

impl io::Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Lines {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter(Arc::clone(&self.0))
    }
}

/// A JSON object with its keys in the order they were written.
#[derive(Debug, Clone, PartialEq)]
pub struct Ordered(pub Vec<(String, Value)>);

impl Ordered {
    pub fn parse(line: &str) -> Ordered {
        serde_json::from_str(line).unwrap_or_else(|error| panic!("not a JSON object ({error}): {line}"))
    }

    pub fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(key, _)| key.as_str()).collect()
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        let mut found = self.0.iter().filter(|(k, _)| k == key);
        let first = found.next().map(|(_, value)| value);
        assert!(found.next().is_none(), "the key {key:?} is there twice: {self:?}");
        first
    }

    /// The value of `key`; panics, showing the object, when it is missing.
    pub fn at(&self, key: &str) -> &Value {
        self.get(key).unwrap_or_else(|| panic!("no {key:?} in {self:?}"))
    }

    pub fn value(&self) -> Value {
        Value::Object(self.0.iter().cloned().collect())
    }
}

impl std::ops::Index<&str> for Ordered {
    type Output = Value;

    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&Value::Null)
    }
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Keys;

        impl<'de> Visitor<'de> for Keys {
            type Value = Ordered;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }
        }

        deserializer.deserialize_map(Keys)
    }
}

/// `2025-05-01T12:30:45.123+00:00` as a time; panics on anything else.
pub fn parse_rfc3339_utc_millis(text: &str) -> SystemTime {
    let bytes = text.as_bytes();
    assert_eq!(bytes.len(), 29, "not YYYY-MM-DDTHH:MM:SS.mmm+00:00: {text}");
    assert!(text.ends_with("+00:00"), "not UTC: {text}");
    for (at, sep) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'.')] {
        assert_eq!(bytes[at], sep, "{text}");
    }
    let number = |from: usize, to: usize| -> i64 { text[from..to].parse().unwrap_or_else(|_| panic!("{text}")) };
    let (year, month, day) = (number(0, 4), number(5, 7), number(8, 10));
    let (hour, minute, second, millis) = (number(11, 13), number(14, 16), number(17, 19), number(20, 23));
    // Days from the civil date (Howard Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let millis = ((days * 86_400 + hour * 3600 + minute * 60 + second) * 1000 + millis) as u64;
    UNIX_EPOCH + Duration::from_millis(millis)
}
