//! Property tests: parsers never panic on arbitrary input; envelopes round-trip.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use proptest::prelude::*;
use vow_crypto::{IdentifierKind, Key32, aad, normalize, open, parse_api_key, seal};

proptest! {
    #[test]
    fn normalize_never_panics(raw in any::<String>()) {
        for kind in IdentifierKind::ALL {
            if let Ok(n) = normalize(kind, &raw) {
                // Normalisation is idempotent: the canonical spelling maps to itself.
                let again = normalize(kind, &n);
                prop_assert_eq!(again.as_deref(), Ok(n.as_str()));
            }
        }
    }

    #[test]
    fn normalize_phone_like_never_panics(raw in "[+0-9 ().\\-]{0,40}") {
        if let Ok(n) = normalize(IdentifierKind::Phone, &raw) {
            prop_assert!(n.starts_with('+'));
            prop_assert!((9..=16).contains(&n.len()));
            prop_assert!(n[1..].bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn parse_api_key_never_panics(raw in any::<String>()) {
        let _ = parse_api_key(&raw);
    }

    #[test]
    fn parse_api_key_shaped_never_panics(raw in "vow_[a-z2-7A-Z_]{10,14}_[A-Za-z0-9_\\-=]{40,46}") {
        let _ = parse_api_key(&raw);
    }

    #[test]
    fn seal_open_round_trip(
        key in any::<[u8; 32]>(),
        plaintext in proptest::collection::vec(any::<u8>(), 0..2048),
        ad in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let key = Key32::from_bytes(key);
        let sealed = seal(&key, &plaintext, &ad).unwrap();
        let opened = open(&key, &sealed, &ad).unwrap();
        prop_assert_eq!(opened.as_slice(), plaintext.as_slice());
        let mut other = ad.clone();
        other.push(0);
        prop_assert!(open(&key, &sealed, &other).is_err());
    }

    #[test]
    fn open_never_panics(key in any::<[u8; 32]>(), sealed in proptest::collection::vec(any::<u8>(), 0..128)) {
        let _ = open(&Key32::from_bytes(key), &sealed, b"");
    }

    #[test]
    fn aad_parts_are_injective(
        a in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..8), 0..4),
        b in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..8), 0..4),
    ) {
        let pa: Vec<&[u8]> = a.iter().map(Vec::as_slice).collect();
        let pb: Vec<&[u8]> = b.iter().map(Vec::as_slice).collect();
        prop_assert_eq!(a == b, aad("l", &pa) == aad("l", &pb));
    }
}
