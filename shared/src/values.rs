//! Value types shared by many record kinds: money, locations, and the macro that declares
//! every enum code list.
//!
//! Dates are `chrono::NaiveDate` ("2016-03-01") and timestamps `chrono::DateTime<FixedOffset>`
//! (RFC 3339 with the zone), straight from chrono's serde support. Money is exact: a whole
//! number of fen, written as a decimal string of yuan ("1234.50"), never a float.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A timestamp with its zone, as the device recorded it.
pub type Timestamp = chrono::DateTime<chrono::FixedOffset>;
/// A calendar date.
pub type Date = chrono::NaiveDate;

/// An amount of money in yuan, held exactly as fen (分).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Money(
    /// Written as yuan text ("500.00") in JSON, hence a string in TypeScript.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    i64,
);

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_fen(fen: i64) -> Self {
        Money(fen)
    }

    pub fn from_yuan(yuan: i64) -> Self {
        Money(yuan * 100)
    }

    pub fn fen(self) -> i64 {
        self.0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).sum())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// Why a string is not an amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an amount in yuan with at most two decimals")]
pub struct BadMoney(String);

impl FromStr for Money {
    type Err = BadMoney;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadMoney(s.to_string());
        let t = s.trim();
        let (neg, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || (!frac.is_empty() && !digits(frac)) || frac.len() > 2 {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
        let fen = whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(frac))
            .ok_or_else(bad)?;
        Ok(Money(if neg { -fen } else { fen }))
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Accept a JSON number too, as spreadsheets and hand-written fixtures produce them.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Int(i64),
            Float(f64),
        }
        match Raw::deserialize(d)? {
            Raw::Text(s) => s.parse().map_err(serde::de::Error::custom),
            Raw::Int(i) => Ok(Money::from_yuan(i)),
            Raw::Float(f) => format!("{f:.2}").parse().map_err(serde::de::Error::custom),
        }
    }
}

/// A location fix, as captured at a check-in or a visit (never as a track).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Geo {
    pub lat: f64,
    pub lon: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy_m: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_ts: Option<Timestamp>,
    /// The OS reported a mock-location provider.
    #[serde(default)]
    pub mock_flag: bool,
}

impl Geo {
    pub fn at(lat: f64, lon: f64) -> Self {
        Geo {
            lat,
            lon,
            accuracy_m: None,
            fix_ts: None,
            mock_flag: false,
        }
    }

    /// Great-circle distance in metres (haversine; ample for village distances).
    pub fn distance_m(&self, other: &Geo) -> f64 {
        const EARTH_RADIUS_M: f64 = 6_371_008.8;
        let (la1, la2) = (self.lat.to_radians(), other.lat.to_radians());
        let dlat = la2 - la1;
        let dlon = (other.lon - self.lon).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().asin()
    }

    pub fn is_valid(&self) -> bool {
        (-90.0..=90.0).contains(&self.lat) && (-180.0..=180.0).contains(&self.lon)
    }
}

/// Declares an enum whose values are stored as short ASCII codes and shown to people with a
/// Chinese label (and an English one). Serde reads and writes the code; an unknown code is an
/// `unknown variant` error that validation reports as [`crate::Problem::UnknownCode`].
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, $zh:literal, $en:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        $vis enum $name {
            $( $(#[$vmeta])* #[cfg_attr(feature = "ts", ts(rename = $code))] $variant, )+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every stored code, in display order.
            pub const CODES: &'static [&'static str] = &[$($code),+];

            /// The stored code.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// The label people read (Chinese).
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh,)+ }
            }

            /// The English label.
            pub fn label_en(self) -> &'static str {
                match self { $($name::$variant => $en,)+ }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let code = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::from_code(&code)
                    .ok_or_else(|| serde::de::Error::unknown_variant(&code, $name::CODES))
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(rusqlite::types::ToSqlOutput::from(self.code()))
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                let code = value.as_str()?;
                $name::from_code(code).ok_or_else(|| {
                    rusqlite::types::FromSqlError::Other(
                        format!("unknown {} code `{code}`", stringify!($name)).into(),
                    )
                })
            }
        }
    };
}
pub(crate) use code_enum;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn money_parses_and_prints_exactly() {
        assert_eq!("1234.5".parse::<Money>().unwrap().fen(), 123_450);
        assert_eq!("0.07".parse::<Money>().unwrap().to_string(), "0.07");
        assert_eq!("-3".parse::<Money>().unwrap().to_string(), "-3.00");
        assert!("1.234".parse::<Money>().is_err());
        assert!("abc".parse::<Money>().is_err());
        assert!("".parse::<Money>().is_err());
        assert!(".5".parse::<Money>().is_err());
    }

    #[test]
    fn money_reads_json_numbers_and_strings() {
        let m: Money = serde_json::from_str("\"2855.00\"").unwrap();
        assert_eq!(m, Money::from_yuan(2855));
        let m: Money = serde_json::from_str("300").unwrap();
        assert_eq!(m, Money::from_yuan(300));
        let m: Money = serde_json::from_str("12.5").unwrap();
        assert_eq!(m.fen(), 1250);
        assert_eq!(
            serde_json::to_string(&Money::from_fen(5)).unwrap(),
            "\"0.05\""
        );
    }

    #[test]
    fn distance_of_one_degree_latitude_is_about_111_km() {
        let d = Geo::at(25.0, 103.0).distance_m(&Geo::at(26.0, 103.0));
        assert!((d - 111_195.0).abs() < 100.0, "{d}");
    }
}
