//! Vow's cryptography: the key hierarchy, envelope encryption, blind indexes,
//! the audit hash chain and the Ed25519 key that signs its head, and bearer tokens.
//!
//! Everything personal is stored sealed under a per-subject key, so destroying
//! that key (crypto-shredding) erases the subject everywhere at once, backups
//! included. This crate is the only place that touches key bytes; it is pure
//! RustCrypto (no C, no OpenSSL) and never prints a secret in `Debug` or errors.

pub mod aead;
pub mod blind;
pub mod chain;
pub mod error;
pub mod files;
pub mod keys;
pub mod link;
pub mod sign;
pub mod token;
pub mod webhook;

pub use aead::{aad, open, seal, unwrap_key, wrap_key};
pub use blind::{BlindIndexer, IdentifierKind, normalize};
pub use chain::{Canonical, GENESIS, chain_next, hmac_sha256, sha256};
pub use error::CryptoError;
pub use keys::{
    Key32, key_from_passphrase, load_key_file, load_or_create_key_file, random_bytes,
    read_private_key_file,
};
pub use link::{form_token, form_token_ok, open_link, seal_link};
pub use sign::{AuditKey, public_key_pem, verify_signature};
pub use token::{ct_eq, new_api_key, parse_api_key, random_token};
pub use webhook::WebhookSecret;
