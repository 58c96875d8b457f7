//! How times travel in JSON: RFC 3339 in UTC with exactly three fractional digits
//! (`2026-11-20T15:04:00.000Z`), as docs/api.md promises, so that clients can compare
//! them as strings and every time has the precision Vow stores (milliseconds).

use jiff::Timestamp;

/// A time as it goes on the wire.
pub fn time(t: Timestamp) -> String {
    format!("{t:.3}")
}

/// `#[serde(with = "vow_core::wire::serde_time")]` for a `Timestamp` field: written
/// in the wire form, read from any RFC 3339 time with an offset.
pub mod serde_time {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::time(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        Timestamp::deserialize(d)
    }
}

/// As [`serde_time`], for an `Option<Timestamp>` (`null` when absent).
pub mod serde_time_opt {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::time(*t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        Option::<Timestamp>::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn always_three_digits_in_utc() {
        for (given, wire) in [
            ("2026-11-20T15:04:00Z", "2026-11-20T15:04:00.000Z"),
            ("2026-11-20T15:04:00.5Z", "2026-11-20T15:04:00.500Z"),
            ("2026-11-20T15:04:00.123456789Z", "2026-11-20T15:04:00.123Z"),
            ("2026-11-20T10:04:00-05:00", "2026-11-20T15:04:00.000Z"),
        ] {
            assert_eq!(time(given.parse().unwrap()), wire, "{given}");
        }
    }

    #[test]
    fn fields_round_trip() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct T {
            #[serde(with = "serde_time")]
            at: Timestamp,
            #[serde(with = "serde_time_opt")]
            until: Option<Timestamp>,
        }
        let t = T {
            at: "2026-01-02T03:04:05.6Z".parse().unwrap(),
            until: None,
        };
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"at":"2026-01-02T03:04:05.600Z","until":null}"#);
        assert_eq!(serde_json::from_str::<T>(&json).unwrap(), t);
    }
}
