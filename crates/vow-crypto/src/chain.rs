//! The audit hash chain, `h_n = SHA-256(h_{n-1} ‖ entry_n)` from `h_0 = 0^32`,
//! and the canonical entry encoding it hashes. Any change, removal, insertion
//! or reordering of entries changes every later hash, so a stored head proves
//! the log behind it is intact.

use hmac::{KeyInit as _, Mac as _};
use sha2::{Digest as _, Sha256};

use crate::aead::put_prefixed;
use crate::keys::Key32;

/// The hash before the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// The next chain hash: SHA-256 of the previous hash followed by the entry bytes.
pub fn chain_next(prev: &[u8; 32], entry: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(entry);
    h.finalize().into()
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &Key32, data: &[u8]) -> [u8; 32] {
    // HMAC zero-pads keys shorter than the 64-byte block (RFC 2104), so the
    // fixed-size constructor is exactly HMAC with the 32-byte key, and cannot fail.
    let mut block = zeroize::Zeroizing::new([0u8; 64]);
    block[..32].copy_from_slice(key.expose());
    let mut mac = hmac::Hmac::<Sha256>::new((&*block).into());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

const TAG_LABEL: u8 = 0x00;
const TAG_STR: u8 = 0x01;
const TAG_NONE: u8 = 0x02;
const TAG_SOME_STR: u8 = 0x03;
const TAG_I64: u8 = 0x04;
const TAG_BYTES: u8 = 0x05;

/// Canonical encoder for hashed entries: the caller writes fields in a fixed
/// order; each is tagged with its type and length-prefixed (u32 BE), so two
/// different entries never encode to the same bytes. Start with a label naming
/// the entry type and version (e.g. `"vow:audit:v1"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canonical(Vec<u8>);

impl Canonical {
    /// Starts an encoding with the entry label.
    pub fn new(label: &str) -> Self {
        let mut out = vec![TAG_LABEL];
        put_prefixed(&mut out, label.as_bytes());
        Canonical(out)
    }

    /// A string field.
    pub fn str(mut self, v: &str) -> Self {
        self.0.push(TAG_STR);
        put_prefixed(&mut self.0, v.as_bytes());
        self
    }

    /// An optional string; `None` and `Some("")` encode differently.
    pub fn opt_str(mut self, v: Option<&str>) -> Self {
        match v {
            None => self.0.push(TAG_NONE),
            Some(s) => {
                self.0.push(TAG_SOME_STR);
                put_prefixed(&mut self.0, s.as_bytes());
            }
        }
        self
    }

    /// An integer field (8 bytes, big-endian).
    pub fn i64(mut self, v: i64) -> Self {
        self.0.push(TAG_I64);
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// A byte-string field.
    pub fn bytes(mut self, v: &[u8]) -> Self {
        self.0.push(TAG_BYTES);
        put_prefixed(&mut self.0, v);
        self
    }

    /// The encoded bytes.
    pub fn finish(self) -> Vec<u8> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(entries: &[Vec<u8>]) -> [u8; 32] {
        entries.iter().fold(GENESIS, |h, e| chain_next(&h, e))
    }

    fn entry(n: i64, action: &str) -> Vec<u8> {
        Canonical::new("vow:audit:v1")
            .i64(n)
            .str(action)
            .opt_str(Some("tenant"))
            .finish()
    }

    #[test]
    fn known_vectors() {
        // FIPS 180-2 "abc".
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // RFC 4231 test case 2 uses a 4-byte key; check HMAC against the generic
        // slice constructor for a 32-byte key instead.
        let key = Key32::from_bytes(std::array::from_fn(|i| i as u8));
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key.expose()).unwrap();
        mac.update(b"what do ya want for nothing?");
        let want: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(hmac_sha256(&key, b"what do ya want for nothing?"), want);
        assert_eq!(
            chain_next(&GENESIS, b"abc"),
            sha256(&[&[0u8; 32][..], b"abc"].concat())
        );
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn chain_detects_change_removal_swap_and_insertion() {
        let log: Vec<_> = (0..5).map(|i| entry(i, "read")).collect();
        let h = head(&log);
        assert_eq!(h, head(&log));

        let mut changed = log.clone();
        changed[2] = entry(2, "erase");
        assert_ne!(h, head(&changed));

        let mut removed = log.clone();
        removed.remove(3);
        assert_ne!(h, head(&removed));

        let mut swapped = log.clone();
        swapped.swap(1, 2);
        assert_ne!(h, head(&swapped));

        let mut inserted = log.clone();
        inserted.insert(4, entry(9, "read"));
        assert_ne!(h, head(&inserted));

        assert_ne!(head(&log[..4]), h, "truncation changes the head");
    }

    #[test]
    fn canonical_is_unambiguous() {
        let enc = |a: &str, b: &str| Canonical::new("t").str(a).str(b).finish();
        assert_ne!(enc("ab", "c"), enc("a", "bc"));
        assert_ne!(enc("", "a"), enc("a", ""));
        assert_ne!(
            Canonical::new("t").opt_str(None).finish(),
            Canonical::new("t").opt_str(Some("")).finish()
        );
        assert_ne!(
            Canonical::new("t").str("x").finish(),
            Canonical::new("t").opt_str(Some("x")).finish()
        );
        assert_ne!(
            Canonical::new("t").str("x").finish(),
            Canonical::new("t").bytes(b"x").finish()
        );
        assert_ne!(
            Canonical::new("ta").str("b").finish(),
            Canonical::new("t").str("ab").finish()
        );
        assert_ne!(
            Canonical::new("t").i64(1).finish(),
            Canonical::new("t").i64(-1).finish()
        );
        assert_eq!(
            Canonical::new("t").i64(1).opt_str(None).finish(),
            vec![0, 0, 0, 0, 1, b't', 4, 0, 0, 0, 0, 0, 0, 0, 1, 2]
        );
    }
}
