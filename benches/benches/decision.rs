//! Micro-benchmarks of the hot pure functions: the decision function and the
//! per-value cryptography. Run with
//! `CARGO_TARGET_DIR=/tmp/target-bench cargo bench -p vow-bench --bench decision`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmarks are measurement tools run by hand; a failed setup should stop them loudly"
)]

use divan::black_box;
use std::sync::LazyLock;
use vow_bench::fixtures;
use vow_core::{Action, Ask, Caller, Category, ConsentEvent, Decision, Policy, PurposeId};
use vow_core::{SubjectFacts, decide};
use vow_crypto::{BlindIndexer, IdentifierKind, Key32};

fn main() {
    divan::main();
}

struct Fixture {
    policy: Policy,
    events: Vec<ConsentEvent>,
    caller: Caller,
    allowed: (PurposeId, Vec<Category>),
    refused: (PurposeId, Vec<Category>),
}

impl Fixture {
    fn new(source: &str) -> Fixture {
        Fixture {
            policy: fixtures::policy(source),
            events: fixtures::consent_events(),
            caller: fixtures::app_caller(),
            allowed: fixtures::allowed_ask(),
            refused: fixtures::refused_ask(),
        }
    }

    fn decide(&self, ask: &(PurposeId, Vec<Category>)) -> Decision {
        let facts = SubjectFacts {
            birth_date: Some(jiff::civil::date(1990, 1, 31)),
            consents: black_box(&self.events),
        };
        decide(
            black_box(&self.policy),
            &facts,
            &self.caller,
            black_box(&Ask {
                action: Action::Read,
                purpose: &ask.0,
                categories: &ask.1,
            }),
            fixtures::decision_now(),
        )
    }
}

static TEST: LazyLock<Fixture> = LazyLock::new(|| Fixture::new(fixtures::TEST_POLICY));
static RESEARCH: LazyLock<Fixture> = LazyLock::new(|| Fixture::new(fixtures::RESEARCH_POLICY));

/// `vow_core::decide` for a subject with 5 consent events, read by an app key.
mod decision {
    use super::*;

    #[divan::bench]
    fn allowed_test_policy(b: divan::Bencher<'_, '_>) {
        let f = &*TEST;
        assert!(f.decide(&f.allowed).allowed);
        b.bench(|| f.decide(&f.allowed));
    }

    /// Withdrawn consent and a category the purpose may not use: two reasons, formatted.
    #[divan::bench]
    fn refused_test_policy(b: divan::Bencher<'_, '_>) {
        let f = &*TEST;
        assert!(!f.decide(&f.refused).allowed);
        b.bench(|| f.decide(&f.refused));
    }

    #[divan::bench]
    fn allowed_research_policy(b: divan::Bencher<'_, '_>) {
        let f = &*RESEARCH;
        assert!(f.decide(&f.allowed).allowed);
        b.bench(|| f.decide(&f.allowed));
    }

    #[divan::bench]
    fn refused_research_policy(b: divan::Bencher<'_, '_>) {
        let f = &*RESEARCH;
        assert!(!f.decide(&f.refused).allowed);
        b.bench(|| f.decide(&f.refused));
    }
}

const VALUE: &[u8] = b"\"Migraine, several times a month\"";
const TENANT: &str = "bench-research";
const SUBJECT: &str = "0196b1e2-7a3c-7d4e-9f10-1a2b3c4d5e6f";
const FIELD: &str = "0196b1e2-7a3c-7d4e-9f10-aabbccddeeff";

fn data_key() -> Key32 {
    Key32::from_bytes([7; 32])
}

fn value_aad() -> Vec<u8> {
    vow_crypto::aad(
        "vow:v1:value",
        &[
            TENANT.as_bytes(),
            SUBJECT.as_bytes(),
            b"user.health_and_medical",
            FIELD.as_bytes(),
        ],
    )
}

/// The per-value cryptography of collection, reads and lookups.
mod crypto {
    use super::*;

    /// XChaCha20-Poly1305 seal of a 33-byte field value (fresh nonce from the OS RNG).
    #[divan::bench]
    fn seal_field_value(b: divan::Bencher<'_, '_>) {
        let key = data_key();
        let aad = value_aad();
        b.bench(|| vow_crypto::seal(&key, black_box(VALUE), &aad));
    }

    #[divan::bench]
    fn open_field_value(b: divan::Bencher<'_, '_>) {
        let key = data_key();
        let aad = value_aad();
        let sealed = vow_crypto::seal(&key, VALUE, &aad).unwrap_or_default();
        b.bench(|| vow_crypto::open(&key, black_box(&sealed), &aad).is_ok());
    }

    /// Associated data for one value (built for every seal and open).
    #[divan::bench]
    fn value_aad_build() -> Vec<u8> {
        value_aad()
    }

    /// Unwrap a subject's data key under the tenant KEK (once per read).
    #[divan::bench]
    fn unwrap_subject_key(b: divan::Bencher<'_, '_>) {
        let kek = Key32::from_bytes([9; 32]);
        let aad = vow_crypto::aad("vow:v1:dek", &[TENANT.as_bytes(), SUBJECT.as_bytes()]);
        let wrapped = vow_crypto::wrap_key(&kek, &data_key(), &aad).unwrap_or_default();
        b.bench(|| vow_crypto::unwrap_key(&kek, black_box(&wrapped), &aad).is_ok());
    }

    /// Normalise an e-mail address and compute its blind index (HMAC-SHA256, 16 bytes).
    #[divan::bench]
    fn blind_index_email(b: divan::Bencher<'_, '_>) {
        let indexer = BlindIndexer::new(&Key32::from_bytes([3; 32]));
        b.bench(|| {
            indexer.index(
                IdentifierKind::Email,
                black_box("Ada.Oakhaven.123456@Example.org"),
            )
        });
    }

    /// The blind index of an already normalised value (HMAC only).
    #[divan::bench]
    fn blind_index_normalized(b: divan::Bencher<'_, '_>) {
        let indexer = BlindIndexer::new(&Key32::from_bytes([3; 32]));
        b.bench(|| {
            indexer.index_normalized(
                IdentifierKind::Email,
                black_box("ada.oakhaven.123456@example.org"),
            )
        });
    }

    /// The hash chaining one audit entry (every read and change appends one).
    #[divan::bench]
    fn audit_entry_hash(b: divan::Bencher<'_, '_>) {
        let entry = vow_store::NewAudit {
            at: 1_795_000_000_000,
            tenant_id: Some(TENANT.to_string()),
            actor: "key_0bench".to_string(),
            action: "read".to_string(),
            subject_id: Some(SUBJECT.to_string()),
            purpose: Some("research".to_string()),
            detail: r#"{"asked":["user.name","user.contact"],"returned":["user.contact.email","user.name"]}"#.to_string(),
        };
        b.bench(|| {
            vow_engine::vault::audit::entry_hash(black_box(&[0; 32]), 42, black_box(&entry))
        });
    }

    /// Signing the chain's head (once per transaction, so once per group commit of reads).
    #[divan::bench]
    fn audit_head_sign(b: divan::Bencher<'_, '_>) {
        let key = vow_crypto::AuditKey::derive(&vow_crypto::Key32::from_bytes([7; 32]));
        let head = format!("vow:audit:head:v1 123456 {} 1795000000000", "ab".repeat(32));
        b.bench(|| key.sign(black_box(head.as_bytes())));
    }

    /// Checking a head's signature (when a head was written by another server).
    #[divan::bench]
    fn audit_head_verify(b: divan::Bencher<'_, '_>) {
        let key = vow_crypto::AuditKey::derive(&vow_crypto::Key32::from_bytes([7; 32]));
        let head = format!("vow:audit:head:v1 123456 {} 1795000000000", "ab".repeat(32));
        let sig = key.sign(head.as_bytes());
        let public = key.public_key();
        b.bench(|| vow_crypto::verify_signature(&public, black_box(head.as_bytes()), &sig));
    }
}
