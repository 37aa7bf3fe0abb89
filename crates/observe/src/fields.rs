//! `tracing` field values as the JSON logger keeps and writes them.

use std::error::Error as StdError;
use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};

/// One recorded field value, typed as JSON will show it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FieldValue {
    Str(String),
    Bool(bool),
    I64(i64),
    U64(u64),
    I128(i128),
    U128(u128),
    F64(f64),
}

impl FieldValue {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            FieldValue::Str(text) => Some(text),
            _ => None,
        }
    }
}

/// The fields a visit records, in the order they come, by name.
#[derive(Debug, Default)]
pub(crate) struct Fields(pub(crate) Vec<(&'static str, FieldValue)>);

impl Fields {
    /// Sets `name`, replacing an earlier value of the same name in place.
    pub(crate) fn set(&mut self, name: &'static str, value: FieldValue) {
        match self.0.iter_mut().find(|(key, _)| *key == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&FieldValue> {
        self.0.iter().find(|(key, _)| *key == name).map(|(_, value)| value)
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field.name(), FieldValue::Str(value.to_owned()));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.set(field.name(), FieldValue::Bool(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.set(field.name(), FieldValue::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.set(field.name(), FieldValue::U64(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.set(field.name(), FieldValue::I128(value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.set(field.name(), FieldValue::U128(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.set(field.name(), FieldValue::F64(value));
    }

    /// The error's message and its sources', `top: cause: root cause`.
    fn record_error(&mut self, field: &Field, value: &(dyn StdError + 'static)) {
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(cause) = source {
            let _ = write!(text, ": {cause}");
            source = cause.source();
        }
        self.set(field.name(), FieldValue::Str(text));
    }

    /// `%value` (`Display`) and `?value` (`Debug`) alike, and the message.
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.set(field.name(), FieldValue::Str(format!("{value:?}")));
    }
}

/// Writes `value` as JSON into `out`. A float that JSON cannot hold (NaN, infinite)
/// is written as a string, so the line stays valid JSON and says what it was.
pub(crate) fn write_json(out: &mut Vec<u8>, value: &FieldValue) {
    match value {
        FieldValue::Str(text) => write_str(out, text),
        FieldValue::Bool(value) => out.extend_from_slice(if *value { b"true" } else { b"false" }),
        // serde_json writes integers without `core::fmt`.
        FieldValue::I64(value) => {
            let _ = serde_json::to_writer(&mut *out, value);
        }
        FieldValue::U64(value) => {
            let _ = serde_json::to_writer(&mut *out, value);
        }
        FieldValue::I128(value) => write_display(out, value),
        FieldValue::U128(value) => write_display(out, value),
        FieldValue::F64(value) if value.is_finite() => {
            // serde_json writes the shortest text that reads back as the same number.
            let _ = serde_json::to_writer(&mut *out, value);
        }
        FieldValue::F64(value) => write_str(out, &value.to_string()),
    }
}

/// `text` as a JSON string, escaped.
pub(crate) fn write_str(out: &mut Vec<u8>, text: &str) {
    // Most text needs no escaping: copied as it is, it costs a fraction of escaping
    // byte by byte. The check runs over blocks without stopping early, which the
    // compiler turns into vector instructions.
    let needs_escaping = text.as_bytes().chunks(32).any(|block| {
        block
            .iter()
            .fold(false, |found, &b| found | (b < 0x20) | (b == b'"') | (b == b'\\'))
    });
    if !needs_escaping {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
        return;
    }
    // Writing into a Vec cannot fail, and a &str always serializes.
    let _ = serde_json::to_writer(&mut *out, text);
}

fn write_display(out: &mut Vec<u8>, value: &dyn fmt::Display) {
    use std::io::Write as _;
    let _ = write!(out, "{value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(value: FieldValue) -> String {
        let mut out = Vec::new();
        write_json(&mut out, &value);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_as_json() {
        assert_eq!(json(FieldValue::Str("a \"b\"\n".into())), r#""a \"b\"\n""#);
        assert_eq!(
            json(FieldValue::Str("back\\slash\ttab é".into())),
            r#""back\\slash\ttab é""#
        );
        assert_eq!(
            json(FieldValue::Str("plain: text, é ✓".into())),
            r#""plain: text, é ✓""#
        );
        assert_eq!(json(FieldValue::Bool(true)), "true");
        assert_eq!(json(FieldValue::I64(-3)), "-3");
        assert_eq!(json(FieldValue::U64(u64::MAX)), "18446744073709551615");
        assert_eq!(json(FieldValue::U128(u128::MAX)), u128::MAX.to_string());
        assert_eq!(json(FieldValue::I128(i128::MIN)), i128::MIN.to_string());
        assert_eq!(json(FieldValue::F64(1.5)), "1.5");
        assert_eq!(json(FieldValue::F64(1.0)), "1.0");
        assert_eq!(json(FieldValue::F64(f64::NAN)), r#""NaN""#);
        assert_eq!(json(FieldValue::F64(f64::NEG_INFINITY)), r#""-inf""#);
    }

    #[test]
    fn a_later_value_replaces_an_earlier_one_in_place() {
        let mut fields = Fields::default();
        fields.set("a", FieldValue::I64(1));
        fields.set("b", FieldValue::I64(2));
        fields.set("a", FieldValue::I64(3));
        assert_eq!(fields.0, vec![("a", FieldValue::I64(3)), ("b", FieldValue::I64(2))]);
        assert_eq!(fields.get("b"), Some(&FieldValue::I64(2)));
        assert_eq!(fields.get("c"), None);
    }
}
