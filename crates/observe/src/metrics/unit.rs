//! [`MetricUnit`] and [`MetricResolution`]: what CloudWatch accepts, as types.

use std::fmt;
use std::str::FromStr;

/// A CloudWatch metric unit: the 27 units CloudWatch accepts and no others, so a unit
/// it would refuse does not compile. Written in EMF as CloudWatch spells it
/// (`Bytes/Second`, `None`).
///
/// ```
/// use lambda_middleware::observe::MetricUnit;
///
/// assert_eq!(MetricUnit::BytesPerSecond.as_str(), "Bytes/Second");
/// assert_eq!(MetricUnit::NoUnit.as_str(), "None");
/// // From text, as CloudWatch or Powertools' `MetricUnit` names it:
/// assert_eq!("Count/Second".parse::<MetricUnit>()?, MetricUnit::CountPerSecond);
/// assert_eq!("CountPerSecond".parse::<MetricUnit>()?, MetricUnit::CountPerSecond);
/// assert!("Requests".parse::<MetricUnit>().is_err());
/// # Ok::<(), lambda_middleware::observe::UnknownUnit>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // each is the CloudWatch unit of the same name
pub enum MetricUnit {
    Seconds,
    Microseconds,
    Milliseconds,
    Bytes,
    Kilobytes,
    Megabytes,
    Gigabytes,
    Terabytes,
    Bits,
    Kilobits,
    Megabits,
    Gigabits,
    Terabits,
    Percent,
    Count,
    BytesPerSecond,
    KilobytesPerSecond,
    MegabytesPerSecond,
    GigabytesPerSecond,
    TerabytesPerSecond,
    BitsPerSecond,
    KilobitsPerSecond,
    MegabitsPerSecond,
    GigabitsPerSecond,
    TerabitsPerSecond,
    CountPerSecond,
    /// CloudWatch's `None`: a value without a unit.
    NoUnit,
}

impl MetricUnit {
    /// Every unit, in CloudWatch's order.
    ///
    /// ```
    /// assert_eq!(lambda_middleware::observe::MetricUnit::ALL.len(), 27);
    /// ```
    pub const ALL: [MetricUnit; 27] = [
        MetricUnit::Seconds,
        MetricUnit::Microseconds,
        MetricUnit::Milliseconds,
        MetricUnit::Bytes,
        MetricUnit::Kilobytes,
        MetricUnit::Megabytes,
        MetricUnit::Gigabytes,
        MetricUnit::Terabytes,
        MetricUnit::Bits,
        MetricUnit::Kilobits,
        MetricUnit::Megabits,
        MetricUnit::Gigabits,
        MetricUnit::Terabits,
        MetricUnit::Percent,
        MetricUnit::Count,
        MetricUnit::BytesPerSecond,
        MetricUnit::KilobytesPerSecond,
        MetricUnit::MegabytesPerSecond,
        MetricUnit::GigabytesPerSecond,
        MetricUnit::TerabytesPerSecond,
        MetricUnit::BitsPerSecond,
        MetricUnit::KilobitsPerSecond,
        MetricUnit::MegabitsPerSecond,
        MetricUnit::GigabitsPerSecond,
        MetricUnit::TerabitsPerSecond,
        MetricUnit::CountPerSecond,
        MetricUnit::NoUnit,
    ];

    /// The unit as CloudWatch spells it.
    ///
    /// ```
    /// use lambda_middleware::observe::MetricUnit;
    ///
    /// assert_eq!(MetricUnit::Milliseconds.as_str(), "Milliseconds");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            MetricUnit::Seconds => "Seconds",
            MetricUnit::Microseconds => "Microseconds",
            MetricUnit::Milliseconds => "Milliseconds",
            MetricUnit::Bytes => "Bytes",
            MetricUnit::Kilobytes => "Kilobytes",
            MetricUnit::Megabytes => "Megabytes",
            MetricUnit::Gigabytes => "Gigabytes",
            MetricUnit::Terabytes => "Terabytes",
            MetricUnit::Bits => "Bits",
            MetricUnit::Kilobits => "Kilobits",
            MetricUnit::Megabits => "Megabits",
            MetricUnit::Gigabits => "Gigabits",
            MetricUnit::Terabits => "Terabits",
            MetricUnit::Percent => "Percent",
            MetricUnit::Count => "Count",
            MetricUnit::BytesPerSecond => "Bytes/Second",
            MetricUnit::KilobytesPerSecond => "Kilobytes/Second",
            MetricUnit::MegabytesPerSecond => "Megabytes/Second",
            MetricUnit::GigabytesPerSecond => "Gigabytes/Second",
            MetricUnit::TerabytesPerSecond => "Terabytes/Second",
            MetricUnit::BitsPerSecond => "Bits/Second",
            MetricUnit::KilobitsPerSecond => "Kilobits/Second",
            MetricUnit::MegabitsPerSecond => "Megabits/Second",
            MetricUnit::GigabitsPerSecond => "Gigabits/Second",
            MetricUnit::TerabitsPerSecond => "Terabits/Second",
            MetricUnit::CountPerSecond => "Count/Second",
            MetricUnit::NoUnit => "None",
        }
    }

    /// The name of the variant, as Powertools' `MetricUnit` member names it.
    fn member_name(self) -> &'static str {
        match self {
            MetricUnit::BytesPerSecond => "BytesPerSecond",
            MetricUnit::KilobytesPerSecond => "KilobytesPerSecond",
            MetricUnit::MegabytesPerSecond => "MegabytesPerSecond",
            MetricUnit::GigabytesPerSecond => "GigabytesPerSecond",
            MetricUnit::TerabytesPerSecond => "TerabytesPerSecond",
            MetricUnit::BitsPerSecond => "BitsPerSecond",
            MetricUnit::KilobitsPerSecond => "KilobitsPerSecond",
            MetricUnit::MegabitsPerSecond => "MegabitsPerSecond",
            MetricUnit::GigabitsPerSecond => "GigabitsPerSecond",
            MetricUnit::TerabitsPerSecond => "TerabitsPerSecond",
            MetricUnit::CountPerSecond => "CountPerSecond",
            MetricUnit::NoUnit => "NoUnit",
            unit => unit.as_str(),
        }
    }
}

impl fmt::Display for MetricUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A unit name CloudWatch does not have.
///
/// ```
/// use lambda_middleware::observe::MetricUnit;
///
/// let error = "Requests".parse::<MetricUnit>().unwrap_err();
/// assert!(error.to_string().starts_with("\"Requests\" is not a CloudWatch unit; expected one of Seconds,"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a CloudWatch unit; expected one of {units}", units = unit_list())]
pub struct UnknownUnit(pub String);

fn unit_list() -> String {
    MetricUnit::ALL.map(MetricUnit::as_str).join(", ")
}

/// CloudWatch's spelling (`Bytes/Second`, `None`) or Powertools' member name
/// (`BytesPerSecond`, `NoUnit`), exactly.
impl FromStr for MetricUnit {
    type Err = UnknownUnit;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        MetricUnit::ALL
            .into_iter()
            .find(|unit| unit.as_str() == text || unit.member_name() == text)
            .ok_or_else(|| UnknownUnit(text.to_owned()))
    }
}

/// How finely CloudWatch stores a metric: every minute (standard) or every second
/// (high resolution, which costs more and is kept at that resolution for 3 hours).
///
/// ```
/// use lambda_middleware::observe::MetricResolution;
///
/// assert_eq!(MetricResolution::High.seconds(), 1);
/// assert_eq!(MetricResolution::default(), MetricResolution::Standard);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MetricResolution {
    /// 60 seconds: EMF's default, so `StorageResolution` is left out, as Powertools does.
    #[default]
    Standard,
    /// 1 second: `"StorageResolution": 1`.
    High,
}

impl MetricResolution {
    /// The resolution in seconds: 60 or 1.
    ///
    /// ```
    /// # use lambda_middleware::observe::MetricResolution;
    /// assert_eq!(MetricResolution::Standard.seconds(), 60);
    /// ```
    pub const fn seconds(self) -> u8 {
        match self {
            MetricResolution::Standard => 60,
            MetricResolution::High => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_reads_back_from_both_spellings() {
        for unit in MetricUnit::ALL {
            assert_eq!(unit.as_str().parse::<MetricUnit>(), Ok(unit));
            assert_eq!(unit.member_name().parse::<MetricUnit>(), Ok(unit));
            assert_eq!(format!("{unit:?}"), unit.member_name());
        }
        assert!("count".parse::<MetricUnit>().is_err());
        assert!("".parse::<MetricUnit>().is_err());
    }
}
