//! What a sealed link says, written compactly: a format byte, the day it was made
//! (days since 1970-01-01, UTC, 4 bytes), then its parts, each but the last
//! preceded by its length in one byte. Each kind of link seals this payload under
//! its own key derived from the root key and its own associated data
//! (`vow_crypto::seal_link`), so one kind's token never opens as another's.

use crate::error::{EngineError, Result};
use jiff::Timestamp;

/// The payload's format byte: a later format can be told apart.
const FORMAT: u8 = 1;
const DAY_SECONDS: i64 = 86_400;

/// The day `t` falls on (UTC), in days since 1970-01-01.
pub(crate) fn day_of(t: Timestamp) -> i64 {
    t.as_second().div_euclid(DAY_SECONDS)
}

/// Midnight UTC at the start of `day`.
pub(crate) fn start_of_day(day: i64) -> Result<Timestamp> {
    Timestamp::from_second(day * DAY_SECONDS)
        .map_err(|_| EngineError::Internal("link day out of range".into()))
}

/// The payload for a link made on `day` naming `parts` (at least one; each but the
/// last at most 255 bytes).
pub(crate) fn encode(day: i64, parts: &[&str]) -> Result<Vec<u8>> {
    let mut out = vec![FORMAT];
    let day =
        u32::try_from(day).map_err(|_| EngineError::Internal("link day out of range".into()))?;
    out.extend_from_slice(&day.to_be_bytes());
    let Some((last, init)) = parts.split_last() else {
        return Err(EngineError::Internal("a link names something".into()));
    };
    for part in init {
        let n = u8::try_from(part.len())
            .map_err(|_| EngineError::Internal("link part too long".into()))?;
        out.push(n);
        out.extend_from_slice(part.as_bytes());
    }
    out.extend_from_slice(last.as_bytes());
    Ok(out)
}

/// The day and the `n` parts of a payload made by [`encode`]; None for anything else.
pub(crate) fn decode(b: &[u8], n: usize) -> Option<(i64, Vec<String>)> {
    let (&format, rest) = b.split_first()?;
    if format != FORMAT || n == 0 {
        return None;
    }
    let (day, mut rest) = rest.split_first_chunk::<4>()?;
    let mut parts = Vec::with_capacity(n);
    for _ in 1..n {
        let (&len, r) = rest.split_first()?;
        let (part, r) = r.split_at_checked(usize::from(len))?;
        parts.push(String::from_utf8(part.to_vec()).ok()?);
        rest = r;
    }
    parts.push(String::from_utf8(rest.to_vec()).ok()?);
    Some((i64::from(u32::from_be_bytes(*day)), parts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip_and_nothing_else_decodes() {
        let b = encode(20_000, &["acme", "s-1", "marketing.email"]).unwrap();
        let (day, parts) = decode(&b, 3).unwrap();
        assert_eq!(day, 20_000);
        assert_eq!(parts, ["acme", "s-1", "marketing.email"]);
        assert!(decode(&b[..3], 3).is_none());
        assert!(decode(&[2, 0, 0, 0, 0], 1).is_none());
        assert!(encode(1, &[&"x".repeat(256), "y"]).is_err());
    }
}
