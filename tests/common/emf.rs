//! The CloudWatch Embedded Metric Format specification, member by member, as checks.

use std::collections::BTreeMap;

use serde_json::Value;

/// CloudWatch's units, as EMF spells them.
pub const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// One EMF document, read after [`check`] found it valid.
#[derive(Debug, Clone, PartialEq)]
pub struct Emf {
    pub timestamp: u64,
    pub namespace: String,
    pub dimension_sets: Vec<Vec<String>>,
    /// Name, unit and storage resolution (60 when left out), in order.
    pub definitions: Vec<(String, String, u64)>,
    /// Each dimension's value.
    pub dimensions: BTreeMap<String, String>,
    /// Each metric's values.
    pub values: BTreeMap<String, Vec<f64>>,
    /// The root members that are neither `_aws`, a dimension nor a metric.
    pub other: BTreeMap<String, Value>,
}

fn object<'a>(value: &'a Value, what: &str, text: &str) -> &'a serde_json::Map<String, Value> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("{what} is not an object in {text}"))
}

fn only_members(object: &serde_json::Map<String, Value>, allowed: &[&str], required: &[&str], what: &str, text: &str) {
    for key in object.keys() {
        assert!(
            allowed.contains(&key.as_str()),
            "{what} has the member {key:?}, which the specification does not define: {text}"
        );
    }
    for key in required {
        assert!(object.contains_key(*key), "{what} has no {key:?}: {text}");
    }
}

/// Checks the document `text` against the EMF specification, with its `Timestamp`
/// within `[earliest, latest]` (milliseconds since the epoch); panics, naming the rule,
/// at the first it breaks.
pub fn check(text: &str, earliest: u64, latest: u64) -> Emf {
    let root: Value = serde_json::from_str(text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}"));
    let root = object(&root, "the root", text);
    let aws = object(
        root.get("_aws").unwrap_or_else(|| panic!("no _aws: {text}")),
        "_aws",
        text,
    );
    only_members(
        aws,
        &["Timestamp", "CloudWatchMetrics"],
        &["Timestamp", "CloudWatchMetrics"],
        "_aws",
        text,
    );
    let timestamp = aws["Timestamp"]
        .as_u64()
        .unwrap_or_else(|| panic!("Timestamp is not a whole number of milliseconds: {text}"));
    assert!(
        (earliest..=latest).contains(&timestamp),
        "Timestamp {timestamp} not in [{earliest}, {latest}]: {text}"
    );

    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .unwrap_or_else(|| panic!("CloudWatchMetrics is not an array: {text}"));
    assert_eq!(directives.len(), 1, "one MetricDirective per document: {text}");
    let directive = object(&directives[0], "the MetricDirective", text);
    only_members(
        directive,
        &["Namespace", "Dimensions", "Metrics"],
        &["Namespace", "Dimensions", "Metrics"],
        "the MetricDirective",
        text,
    );

    let namespace = directive["Namespace"]
        .as_str()
        .unwrap_or_else(|| panic!("Namespace is not a string: {text}"));
    assert!((1..=255).contains(&namespace.len()), "Namespace length: {text}");

    let mut dimension_sets = Vec::new();
    let mut dimensions = BTreeMap::new();
    for set in directive["Dimensions"]
        .as_array()
        .unwrap_or_else(|| panic!("Dimensions is not an array: {text}"))
    {
        let set = set
            .as_array()
            .unwrap_or_else(|| panic!("a DimensionSet is not an array: {text}"));
        assert!(
            set.len() <= 30,
            "a DimensionSet has {} dimensions, more than 30: {text}",
            set.len()
        );
        let mut names = Vec::new();
        for name in set {
            let name = name
                .as_str()
                .unwrap_or_else(|| panic!("a dimension key is not a string: {text}"));
            let value = root
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("dimension {name:?} is not a string member of the root: {text}"));
            assert!(
                (1..=1024).contains(&value.len()) && !value.trim().is_empty(),
                "dimension {name:?} value: {text}"
            );
            dimensions.insert(name.to_owned(), value.to_owned());
            names.push(name.to_owned());
        }
        dimension_sets.push(names);
    }

    let metrics = directive["Metrics"]
        .as_array()
        .unwrap_or_else(|| panic!("Metrics is not an array: {text}"));
    assert!(
        !metrics.is_empty() && metrics.len() <= 100,
        "{} MetricDefinitions; 1 to 100 expected: {text}",
        metrics.len()
    );
    let mut definitions = Vec::new();
    let mut values = BTreeMap::new();
    for definition in metrics {
        let definition = object(definition, "a MetricDefinition", text);
        only_members(
            definition,
            &["Name", "Unit", "StorageResolution"],
            &["Name"],
            "a MetricDefinition",
            text,
        );
        let name = definition["Name"]
            .as_str()
            .unwrap_or_else(|| panic!("Name is not a string: {text}"));
        let unit = definition
            .get("Unit")
            .map_or("None", |unit| unit.as_str().unwrap_or_else(|| panic!("Unit: {text}")));
        assert!(UNITS.contains(&unit), "unit {unit:?} is not CloudWatch's: {text}");
        let resolution = definition
            .get("StorageResolution")
            .map_or(60, |r| r.as_u64().unwrap_or(0));
        assert!(
            resolution == 1 || resolution == 60,
            "StorageResolution {resolution}: {text}"
        );
        let member = root
            .get(name)
            .unwrap_or_else(|| panic!("metric {name:?} has no member at the root: {text}"));
        let numbers: Vec<f64> = match member {
            Value::Number(number) => vec![number.as_f64().unwrap()],
            Value::Array(items) => items
                .iter()
                .map(|item| {
                    item.as_f64()
                        .unwrap_or_else(|| panic!("metric {name:?} has a value that is not a number: {text}"))
                })
                .collect(),
            _ => panic!("metric {name:?} is neither a number nor an array of numbers: {text}"),
        };
        assert!(
            !numbers.is_empty() && numbers.len() <= 100,
            "metric {name:?} has {} values; 1 to 100 expected: {text}",
            numbers.len()
        );
        assert!(!values.contains_key(name), "metric {name:?} is defined twice: {text}");
        values.insert(name.to_owned(), numbers);
        definitions.push((name.to_owned(), unit.to_owned(), resolution));
    }

    let other = root
        .iter()
        .filter(|(key, _)| key.as_str() != "_aws" && !dimensions.contains_key(*key) && !values.contains_key(*key))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    Emf {
        timestamp,
        namespace: namespace.to_owned(),
        dimension_sets,
        definitions,
        dimensions,
        values,
        other,
    }
}
