//! One invocation's metrics, CloudWatch's rules for them, and their EMF documents.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use super::error::MetricsError;
use super::unit::{MetricResolution, MetricUnit};

/// Metric definitions in one EMF document (a `MetricDirective`), and values of one
/// metric in one document: CloudWatch's limits.
pub(crate) const MAX_METRICS: usize = 100;
pub(crate) const MAX_VALUES: usize = 100;
/// Dimensions of one metric.
pub(crate) const MAX_DIMENSIONS: usize = 30;

const METRIC_NAME: &str = "1 to 255 characters, not all spaces, no control characters";
const DIMENSION_NAME: &str = "1 to 250 ASCII characters, not all spaces, not starting with ':'";
const METADATA_KEY: &str = "1 or more characters, not `_aws`";
pub(crate) const NAMESPACE: &str =
    "1 to 255 characters of A-Z a-z 0-9 . - _ / # : and space, not all spaces, not starting with `AWS/`";

/// The root member EMF reserves for its metadata.
const AWS: &str = "_aws";

/// A metric name CloudWatch accepts.
pub(crate) fn check_metric_name(name: &str) -> Result<(), MetricsError> {
    let count = name.chars().count();
    if (1..=255).contains(&count) && !name.trim().is_empty() && !name.chars().any(char::is_control) && name != AWS {
        Ok(())
    } else {
        Err(MetricsError::InvalidName {
            what: "metric",
            name: name.to_owned(),
            expected: METRIC_NAME,
        })
    }
}

/// A dimension name CloudWatch accepts.
pub(crate) fn check_dimension_name(name: &str) -> Result<(), MetricsError> {
    if (1..=250).contains(&name.len())
        && name.is_ascii()
        && !name.trim().is_empty()
        && !name.starts_with(':')
        && name != AWS
    {
        Ok(())
    } else {
        Err(MetricsError::InvalidName {
            what: "dimension",
            name: name.to_owned(),
            expected: DIMENSION_NAME,
        })
    }
}

/// A dimension value CloudWatch accepts.
pub(crate) fn check_dimension_value(name: &str, value: &str) -> Result<(), MetricsError> {
    if (1..=1024).contains(&value.len()) && value.is_ascii() && !value.trim().is_empty() {
        Ok(())
    } else {
        Err(MetricsError::InvalidDimensionValue {
            name: name.to_owned(),
            value: value.to_owned(),
        })
    }
}

/// A metric value CloudWatch accepts: finite, and 0 or between 2^-360 and 2^360 in size.
pub(crate) fn check_value(name: &str, value: f64) -> Result<(), MetricsError> {
    let size = value.abs();
    if value.is_finite() && (size == 0.0 || (2f64.powi(-360)..=2f64.powi(360)).contains(&size)) {
        Ok(())
    } else {
        Err(MetricsError::InvalidValue {
            name: name.to_owned(),
            value,
        })
    }
}

/// A CloudWatch namespace.
pub(crate) fn namespace_ok(namespace: &str) -> bool {
    (1..=255).contains(&namespace.len())
        && namespace
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_/#: ".contains(&b))
        && !namespace.trim().is_empty()
        && !namespace.starts_with("AWS/")
}

#[derive(Debug, Clone)]
struct Metric {
    name: String,
    unit: MetricUnit,
    resolution: MetricResolution,
    values: Vec<f64>,
}

/// The metrics, dimensions and metadata of one invocation, in the order they came,
/// each checked against CloudWatch's rules as it comes.
#[derive(Debug, Clone, Default)]
pub(crate) struct MetricSet {
    metrics: Vec<Metric>,
    dimensions: Vec<(String, String)>,
    metadata: Vec<(String, Value)>,
    /// The service dimension to add when the invocation sets none of that name.
    service: Option<String>,
    /// The default dimensions, which each added dimension set starts from.
    defaults: Vec<(String, String)>,
    /// Dimension sets beyond the first (`add_dimensions`), Powertools' `dimension_sets`.
    extra_sets: Vec<Vec<(String, String)>>,
    /// The documents' `Timestamp` when set (`set_timestamp`); else the time of the flush.
    timestamp_ms: Option<u64>,
}

impl MetricSet {
    /// A set that starts with the default dimensions (already checked) and adds
    /// `service` unless a dimension of that name comes.
    pub(crate) fn new(default_dimensions: &[(String, String)], service: Option<&str>) -> Self {
        MetricSet {
            metrics: Vec::new(),
            dimensions: default_dimensions.to_vec(),
            metadata: Vec::new(),
            service: service.map(str::to_owned),
            defaults: default_dimensions.to_vec(),
            extra_sets: Vec::new(),
            timestamp_ms: None,
        }
    }

    /// Adds a dimension set of its own — the default dimensions and `dimensions` — to the
    /// documents' `Dimensions`, as Powertools' `add_dimensions` does. An empty set, or
    /// an entry with an empty name or value, is skipped with a warning, as Powertools does.
    pub(crate) fn add_dimension_set(&mut self, dimensions: &[(String, String)]) -> Result<(), MetricsError> {
        let mut set = self.defaults.clone();
        for (name, value) in dimensions {
            if name.trim().is_empty() || value.trim().is_empty() {
                tracing::warn!(dimension = %name, "a dimension with an empty name or value is skipped");
                continue;
            }
            check_dimension_name(name)?;
            check_dimension_value(name, value)?;
            if let Some(taken_by) = self.taken_by(name).filter(|taken_by| *taken_by != "dimension") {
                return Err(MetricsError::NameTaken {
                    what: "dimension",
                    name: name.to_owned(),
                    taken_by,
                });
            }
            match set.iter_mut().find(|(key, _)| key == name) {
                Some(slot) => slot.1 = value.to_owned(),
                None => set.push((name.to_owned(), value.to_owned())),
            }
        }
        if set.len() == self.defaults.len() {
            tracing::warn!("an empty dimension set is skipped");
            return Ok(());
        }
        let mut names: Vec<String> = self
            .all_dimensions()
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .collect();
        for (name, _) in self.extra_sets.iter().flatten().chain(&set) {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        if names.len() > MAX_DIMENSIONS {
            return Err(MetricsError::TooManyDimensions {
                name: set.last().map(|(name, _)| name.clone()).unwrap_or_default(),
            });
        }
        self.extra_sets.push(set);
        Ok(())
    }

    /// The documents' `Timestamp`, in milliseconds since the epoch.
    pub(crate) fn set_timestamp(&mut self, timestamp_ms: u64) {
        self.timestamp_ms = Some(timestamp_ms);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.metrics.is_empty()
    }

    /// What else has `name` at the root of the document.
    fn taken_by(&self, name: &str) -> Option<&'static str> {
        if self.metrics.iter().any(|metric| metric.name == name) {
            Some("metric")
        } else if self.dimensions.iter().any(|(key, _)| key == name) || (self.service.is_some() && name == "service") {
            Some("dimension")
        } else if self.metadata.iter().any(|(key, _)| key == name) {
            Some("metadata entry")
        } else {
            None
        }
    }

    pub(crate) fn add_metric(
        &mut self,
        name: &str,
        unit: MetricUnit,
        resolution: MetricResolution,
        value: f64,
    ) -> Result<(), MetricsError> {
        check_metric_name(name)?;
        check_value(name, value)?;
        if let Some(metric) = self.metrics.iter_mut().find(|metric| metric.name == name) {
            if metric.unit != unit {
                return Err(MetricsError::UnitConflict {
                    name: name.to_owned(),
                    first: metric.unit,
                    now: unit,
                });
            }
            if metric.resolution != resolution {
                return Err(MetricsError::ResolutionConflict {
                    name: name.to_owned(),
                    first: metric.resolution,
                    now: resolution,
                });
            }
            metric.values.push(value);
            return Ok(());
        }
        if let Some(taken_by) = self.taken_by(name) {
            return Err(MetricsError::NameTaken {
                what: "metric",
                name: name.to_owned(),
                taken_by,
            });
        }
        self.metrics.push(Metric {
            name: name.to_owned(),
            unit,
            resolution,
            values: vec![value],
        });
        Ok(())
    }

    /// Adds the dimension, or gives an existing one (a default one too) a new value.
    pub(crate) fn add_dimension(&mut self, name: &str, value: &str) -> Result<(), MetricsError> {
        check_dimension_name(name)?;
        check_dimension_value(name, value)?;
        if let Some(slot) = self.dimensions.iter_mut().find(|(key, _)| key == name) {
            if slot.1 != value {
                tracing::warn!(dimension = name, from = %slot.1, to = value, "a dimension was set again: the new value replaces the old");
            }
            slot.1 = value.to_owned();
            return Ok(());
        }
        let service_pending = self.service.is_some() && name != "service";
        if self.dimensions.len() + usize::from(service_pending) >= MAX_DIMENSIONS {
            return Err(MetricsError::TooManyDimensions { name: name.to_owned() });
        }
        if name != "service" {
            if let Some(taken_by) = self.taken_by(name) {
                return Err(MetricsError::NameTaken {
                    what: "dimension",
                    name: name.to_owned(),
                    taken_by,
                });
            }
        } else if self.metrics.iter().any(|metric| metric.name == name)
            || self.metadata.iter().any(|(key, _)| key == name)
        {
            return Err(MetricsError::NameTaken {
                what: "dimension",
                name: name.to_owned(),
                taken_by: "metric or metadata entry",
            });
        }
        self.dimensions.push((name.to_owned(), value.to_owned()));
        Ok(())
    }

    pub(crate) fn add_metadata(&mut self, key: &str, value: Value) -> Result<(), MetricsError> {
        if key.is_empty() || key == AWS {
            return Err(MetricsError::InvalidName {
                what: "metadata",
                name: key.to_owned(),
                expected: METADATA_KEY,
            });
        }
        if let Some(slot) = self.metadata.iter_mut().find(|(existing, _)| existing == key) {
            slot.1 = value;
            return Ok(());
        }
        if let Some(taken_by) = self.taken_by(key) {
            return Err(MetricsError::NameTaken {
                what: "metadata",
                name: key.to_owned(),
                taken_by,
            });
        }
        self.metadata.push((key.to_owned(), value));
        Ok(())
    }

    /// The dimensions the documents carry: the set's, then `service` unless one was set.
    fn all_dimensions(&self) -> Vec<(&str, &str)> {
        let mut dimensions: Vec<(&str, &str)> = self.dimensions.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        if let Some(service) = &self.service {
            if !dimensions.iter().any(|(key, _)| *key == "service") {
                dimensions.push(("service", service));
            }
        }
        dimensions
    }

    /// The EMF documents, one JSON text each: at most 100 metrics per document and 100
    /// values per metric, so a set that holds more is split, every document carrying
    /// the dimensions and the metadata. Empty when there are no metrics.
    pub(crate) fn documents(&self, namespace: &str, timestamp_ms: u64) -> Vec<String> {
        let timestamp_ms = self.timestamp_ms.unwrap_or(timestamp_ms);
        let first = self.all_dimensions();
        // Every dimension's value once (a later set's value wins, as in Powertools), and
        // the names of each set.
        let mut dimensions = first.clone();
        for (name, value) in self.extra_sets.iter().flatten() {
            match dimensions.iter_mut().find(|(key, _)| *key == name.as_str()) {
                Some(slot) => slot.1 = value,
                None => dimensions.push((name, value)),
            }
        }
        let mut sets: Vec<Vec<&str>> = vec![first.iter().map(|(name, _)| *name).collect()];
        sets.extend(
            self.extra_sets
                .iter()
                .map(|set| set.iter().map(|(name, _)| name.as_str()).collect()),
        );
        let mut documents = Vec::new();
        let rounds = self
            .metrics
            .iter()
            .map(|metric| metric.values.len().div_ceil(MAX_VALUES))
            .max()
            .unwrap_or(0);
        for round in 0..rounds {
            let start = round * MAX_VALUES;
            let slices: Vec<(&Metric, &[f64])> = self
                .metrics
                .iter()
                .filter(|metric| metric.values.len() > start)
                .map(|metric| {
                    (
                        metric,
                        &metric.values[start..metric.values.len().min(start + MAX_VALUES)],
                    )
                })
                .collect();
            for metrics in slices.chunks(MAX_METRICS) {
                let document = Document {
                    namespace,
                    timestamp_ms,
                    dimensions: &dimensions,
                    sets: &sets,
                    metadata: &self.metadata,
                    metrics,
                };
                // Strings, numbers and JSON values always serialize.
                documents.push(serde_json::to_string(&document).unwrap_or_default());
            }
        }
        documents
    }
}

/// The `ColdStart` document, Powertools' shape: its own, with the `function_name` and
/// `service` dimensions only.
pub(crate) fn cold_start_document(
    namespace: &str,
    timestamp_ms: u64,
    function_name: Option<&str>,
    service: Option<&str>,
) -> String {
    let mut dimensions = Vec::new();
    if let Some(function_name) = function_name {
        dimensions.push(("function_name", function_name));
    }
    if let Some(service) = service {
        dimensions.push(("service", service));
    }
    let metric = Metric {
        name: "ColdStart".to_owned(),
        unit: MetricUnit::Count,
        resolution: MetricResolution::Standard,
        values: vec![1.0],
    };
    let names: Vec<&str> = dimensions.iter().map(|(name, _)| *name).collect();
    let document = Document {
        namespace,
        timestamp_ms,
        dimensions: &dimensions,
        sets: &[names],
        metadata: &[],
        metrics: &[(&metric, &metric.values)],
    };
    serde_json::to_string(&document).unwrap_or_default()
}

/// A document of one metric with its own dimensions, Powertools' `single_metric`.
pub(crate) fn single_metric_document(
    namespace: &str,
    timestamp_ms: u64,
    metric: (&str, MetricUnit, MetricResolution, f64),
    dimensions: &[(String, String)],
) -> Result<String, MetricsError> {
    let (name, unit, resolution, value) = metric;
    check_metric_name(name)?;
    check_value(name, value)?;
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for (key, dimension) in dimensions {
        check_dimension_name(key)?;
        check_dimension_value(key, dimension)?;
        if key == name {
            return Err(MetricsError::NameTaken {
                what: "dimension",
                name: key.clone(),
                taken_by: "metric",
            });
        }
        if let Some(slot) = pairs.iter_mut().find(|(existing, _)| *existing == key.as_str()) {
            slot.1 = dimension;
        } else if pairs.len() == MAX_DIMENSIONS {
            return Err(MetricsError::TooManyDimensions { name: key.clone() });
        } else {
            pairs.push((key, dimension));
        }
    }
    let metric = Metric {
        name: name.to_owned(),
        unit,
        resolution,
        values: vec![value],
    };
    let names: Vec<&str> = pairs.iter().map(|(name, _)| *name).collect();
    let document = Document {
        namespace,
        timestamp_ms,
        dimensions: &pairs,
        sets: &[names],
        metadata: &[],
        metrics: &[(&metric, &metric.values)],
    };
    Ok(serde_json::to_string(&document).unwrap_or_default())
}

/// One EMF document: `_aws` first, then the dimensions' values, the metadata and the
/// metrics' values, as Powertools orders them.
struct Document<'a> {
    namespace: &'a str,
    timestamp_ms: u64,
    dimensions: &'a [(&'a str, &'a str)],
    /// The names of each dimension set (`Dimensions`).
    sets: &'a [Vec<&'a str>],
    metadata: &'a [(String, Value)],
    metrics: &'a [(&'a Metric, &'a [f64])],
}

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut root = serializer.serialize_map(None)?;
        root.serialize_entry(AWS, &Aws(self))?;
        for (name, value) in self.dimensions {
            root.serialize_entry(name, value)?;
        }
        for (key, value) in self.metadata {
            root.serialize_entry(key, value)?;
        }
        for (metric, values) in self.metrics {
            root.serialize_entry(&metric.name, values)?;
        }
        root.end()
    }
}

/// `{"Timestamp", "CloudWatchMetrics": [{"Namespace", "Dimensions", "Metrics"}]}`
struct Aws<'a>(&'a Document<'a>);

impl Serialize for Aws<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut aws = serializer.serialize_map(Some(2))?;
        aws.serialize_entry("Timestamp", &self.0.timestamp_ms)?;
        aws.serialize_entry("CloudWatchMetrics", &[Directive(self.0)])?;
        aws.end()
    }
}

struct Directive<'a>(&'a Document<'a>);

impl Serialize for Directive<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut directive = serializer.serialize_map(Some(3))?;
        directive.serialize_entry("Namespace", self.0.namespace)?;
        directive.serialize_entry("Dimensions", self.0.sets)?;
        directive.serialize_entry("Metrics", &Definitions(self.0.metrics))?;
        directive.end()
    }
}

struct Definitions<'a>(&'a [(&'a Metric, &'a [f64])]);

impl Serialize for Definitions<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut definitions = serializer.serialize_seq(Some(self.0.len()))?;
        for (metric, _) in self.0 {
            definitions.serialize_element(&Definition(metric))?;
        }
        definitions.end()
    }
}

struct Definition<'a>(&'a Metric);

impl Serialize for Definition<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let high = self.0.resolution == MetricResolution::High;
        let mut definition = serializer.serialize_map(Some(2 + usize::from(high)))?;
        definition.serialize_entry("Name", &self.0.name)?;
        definition.serialize_entry("Unit", self.0.unit.as_str())?;
        if high {
            definition.serialize_entry("StorageResolution", &self.0.resolution.seconds())?;
        }
        definition.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn set() -> MetricSet {
        MetricSet::new(&[("environment".into(), "prod".into())], Some("booking"))
    }

    #[test]
    fn a_document_in_powertools_order() {
        let mut set = set();
        set.add_metric("SuccessfulBooking", MetricUnit::Count, MetricResolution::Standard, 1.0)
            .unwrap();
        set.add_metric("SuccessfulBooking", MetricUnit::Count, MetricResolution::Standard, 2.0)
            .unwrap();
        set.add_metric("Latency", MetricUnit::Milliseconds, MetricResolution::High, 1.5)
            .unwrap();
        set.add_dimension("route", "/b").unwrap();
        set.add_metadata("booking_id", json!("b-1")).unwrap();
        let documents = set.documents("ServerlessAirline", 1_700_000_000_000);
        assert_eq!(
            documents,
            [concat!(
                r#"{"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"ServerlessAirline","#,
                r#""Dimensions":[["environment","route","service"]],"Metrics":[{"Name":"SuccessfulBooking","Unit":"Count"},"#,
                r#"{"Name":"Latency","Unit":"Milliseconds","StorageResolution":1}]}]},"environment":"prod","route":"/b","#,
                r#""service":"booking","booking_id":"b-1","SuccessfulBooking":[1.0,2.0],"Latency":[1.5]}"#
            )]
        );
    }

    #[test]
    fn the_cold_start_document() {
        assert_eq!(
            cold_start_document("ns", 5, Some("fn"), Some("svc")),
            concat!(
                r#"{"_aws":{"Timestamp":5,"CloudWatchMetrics":[{"Namespace":"ns","Dimensions":[["function_name","service"]],"#,
                r#""Metrics":[{"Name":"ColdStart","Unit":"Count"}]}]},"function_name":"fn","service":"svc","ColdStart":[1.0]}"#
            )
        );
        assert_eq!(
            cold_start_document("ns", 5, None, None),
            r#"{"_aws":{"Timestamp":5,"CloudWatchMetrics":[{"Namespace":"ns","Dimensions":[[]],"Metrics":[{"Name":"ColdStart","Unit":"Count"}]}]},"ColdStart":[1.0]}"#
        );
    }

    #[test]
    fn names_values_and_namespaces() {
        assert!(check_metric_name("Latency p99").is_ok());
        assert!(check_metric_name(&"é".repeat(255)).is_ok());
        for bad in ["", "   ", "a\nb", "_aws"] {
            assert!(check_metric_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_metric_name(&"x".repeat(256)).is_err());
        assert!(check_dimension_name("route").is_ok());
        for bad in ["", " ", ":route", "rоute" /* Cyrillic o */, "_aws"] {
            assert!(check_dimension_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_dimension_name(&"d".repeat(251)).is_err());
        assert!(check_dimension_value("d", &"v".repeat(1024)).is_ok());
        assert!(check_dimension_value("d", &"v".repeat(1025)).is_err());
        assert!(check_dimension_value("d", " ").is_err());
        for good in [0.0, -0.0, 1.0, -1e100, 2f64.powi(360), 2f64.powi(-360)] {
            assert!(check_value("m", good).is_ok(), "{good}");
        }
        for bad in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            2f64.powi(361),
            2f64.powi(-361),
            -f64::MAX,
        ] {
            assert!(check_value("m", bad).is_err(), "{bad}");
        }
        assert!(namespace_ok("ServerlessAirline/Bookings #1: prod-eu_west.1"));
        for bad in ["", "  ", "AWS/Lambda", "Bookings!", "Buchungen-Ü"] {
            assert!(!namespace_ok(bad), "{bad:?}");
        }
        assert!(!namespace_ok(&"n".repeat(256)));
    }

    #[test]
    fn conflicts_are_refused_and_nothing_is_recorded() {
        let mut set = set();
        set.add_metric("Orders", MetricUnit::Count, MetricResolution::Standard, 1.0)
            .unwrap();
        assert!(matches!(
            set.add_metric("Orders", MetricUnit::Seconds, MetricResolution::Standard, 1.0),
            Err(MetricsError::UnitConflict { .. })
        ));
        assert!(matches!(
            set.add_metric("Orders", MetricUnit::Count, MetricResolution::High, 1.0),
            Err(MetricsError::ResolutionConflict { .. })
        ));
        for taken in ["environment", "service"] {
            assert!(matches!(
                set.add_metric(taken, MetricUnit::Count, MetricResolution::Standard, 1.0),
                Err(MetricsError::NameTaken {
                    taken_by: "dimension",
                    ..
                })
            ));
        }
        assert!(matches!(
            set.add_dimension("Orders", "x"),
            Err(MetricsError::NameTaken { .. })
        ));
        assert!(matches!(
            set.add_metadata("Orders", json!(1)),
            Err(MetricsError::NameTaken { .. })
        ));
        assert!(matches!(
            set.add_metadata("_aws", json!(1)),
            Err(MetricsError::InvalidName { .. })
        ));
        set.add_metadata("trace", json!(1)).unwrap();
        assert!(matches!(
            set.add_metric("trace", MetricUnit::Count, MetricResolution::Standard, 1.0),
            Err(MetricsError::NameTaken {
                taken_by: "metadata entry",
                ..
            })
        ));
        let documents = set.documents("ns", 0);
        let document: Value = serde_json::from_str(&documents[0]).unwrap();
        assert_eq!(document["Orders"], json!([1.0]));
        assert_eq!(document["trace"], json!(1));
    }

    #[test]
    fn thirty_dimensions_with_the_service_one() {
        let mut set = set(); // environment, and service to come: 2
        for n in 0..28 {
            set.add_dimension(&format!("d{n}"), "v").unwrap();
        }
        assert_eq!(
            set.add_dimension("one_more", "v"),
            Err(MetricsError::TooManyDimensions {
                name: "one_more".into()
            })
        );
        // Setting the service dimension itself takes the place kept for it.
        set.add_dimension("service", "other").unwrap();
        set.add_dimension("d0", "again").unwrap(); // a new value, not a new dimension
        set.add_metric("M", MetricUnit::Count, MetricResolution::Standard, 1.0)
            .unwrap();
        let document: Value = serde_json::from_str(&set.documents("ns", 0)[0]).unwrap();
        let keys = document["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(keys.len(), 30);
        assert_eq!(document["service"], "other");
        assert_eq!(document["d0"], "again");
    }

    #[test]
    fn more_than_a_hundred_metrics_or_values_are_split() {
        let mut set = MetricSet::new(&[], None);
        for n in 0..250 {
            set.add_metric(
                &format!("m{n}"),
                MetricUnit::Count,
                MetricResolution::Standard,
                n as f64,
            )
            .unwrap();
        }
        for n in 0..150 {
            set.add_metric("m0", MetricUnit::Count, MetricResolution::Standard, n as f64)
                .unwrap();
        }
        let documents: Vec<Value> = set
            .documents("ns", 0)
            .iter()
            .map(|text| serde_json::from_str(text).unwrap())
            .collect();
        let sizes: Vec<usize> = documents
            .iter()
            .map(|document| {
                document["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                    .as_array()
                    .unwrap()
                    .len()
            })
            .collect();
        // m0 has 151 values: 100 in the first round, 51 in a second of its own.
        assert_eq!(sizes, [100, 100, 50, 1]);
        assert_eq!(documents[0]["m0"].as_array().unwrap().len(), 100);
        assert_eq!(documents[3]["m0"].as_array().unwrap().len(), 51);
        assert_eq!(documents[2]["m249"], json!([249.0]));
        let mut all: Vec<String> = documents
            .iter()
            .flat_map(|document| {
                document["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                    .as_array()
                    .unwrap()
                    .clone()
            })
            .map(|definition| definition["Name"].as_str().unwrap().to_owned())
            .collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 250);
    }
}
