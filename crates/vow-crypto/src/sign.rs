//! Ed25519 signatures over the audit chain's head and checkpoints.
//!
//! The signing key is derived from the root key (HKDF-SHA256, label
//! `vow:v1:audit-signing`), so it needs no storage of its own and changes only
//! with the root key. Anyone holding the public key can check a signature; only
//! the holder of the root key can make one, so a head or a checkpoint rewritten
//! by someone who can write the database but has no root key does not verify.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use std::fmt;

use crate::keys::Key32;

/// The HKDF label the audit signing key is derived under.
const LABEL: &[u8] = b"vow:v1:audit-signing";

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32 key bytes follow.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// The audit chain's signing key. `Debug` shows only the public key id.
pub struct AuditKey {
    key: SigningKey,
    public: [u8; 32],
}

impl AuditKey {
    /// The signing key under `root` (deterministic: the same root gives the same key).
    pub fn derive(root: &Key32) -> AuditKey {
        let seed = root.derive(LABEL);
        let key = SigningKey::from_bytes(seed.expose());
        let public = key.verifying_key().to_bytes();
        AuditKey { key, public }
    }

    /// Ed25519 signature (64 bytes) over `message`. Signing with an Ed25519 key
    /// held in memory cannot fail.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// The raw public key (32 bytes).
    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }

    /// A short name for the public key: the first 8 bytes of its SHA-256, in hex.
    pub fn key_id(&self) -> String {
        key_id(&self.public)
    }
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditKey({})", self.key_id())
    }
}

/// A public key's id: the first 8 bytes of its SHA-256, in hex.
pub fn key_id(public: &[u8; 32]) -> String {
    crate::chain::sha256(public)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `signature` is a valid Ed25519 signature of `message` by `public`
/// (strict verification: no malleable or small-order forms).
pub fn verify_signature(public: &[u8; 32], message: &[u8], signature: &[u8]) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(public) else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(signature) else {
        return false;
    };
    key.verify_strict(message, &sig).is_ok()
}

/// The public key as PEM (SubjectPublicKeyInfo), as `openssl pkey -pubin` reads it.
pub fn public_key_pem(public: &[u8; 32]) -> String {
    use base64::Engine as _;
    let mut der = SPKI_PREFIX.to_vec();
    der.extend_from_slice(public);
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(der)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_signatures_verify_and_nothing_else_does() {
        let root = Key32::from_bytes([7; 32]);
        let key = AuditKey::derive(&root);
        assert_eq!(
            key.public_key(),
            AuditKey::derive(&root).public_key(),
            "deterministic"
        );
        assert_ne!(
            key.public_key(),
            AuditKey::derive(&Key32::from_bytes([8; 32])).public_key(),
            "another root, another key"
        );
        let sig = key.sign(b"vow:audit:checkpoint:v1 3 ab");
        assert!(verify_signature(
            &key.public_key(),
            b"vow:audit:checkpoint:v1 3 ab",
            &sig
        ));
        assert!(!verify_signature(
            &key.public_key(),
            b"vow:audit:checkpoint:v1 4 ab",
            &sig
        ));
        let mut bad = sig;
        bad[0] ^= 1;
        assert!(!verify_signature(
            &key.public_key(),
            b"vow:audit:checkpoint:v1 3 ab",
            &bad
        ));
        assert!(!verify_signature(&key.public_key(), b"x", &sig[..63]));
        assert_eq!(key.key_id().len(), 16);
        assert!(!format!("{key:?}").contains(&format!("{:?}", root.expose())));
    }

    #[test]
    fn rfc8032_test_vector_1() {
        // RFC 8032, 7.1, TEST 1: the empty message.
        let secret: [u8; 32] =
            hex32("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        let key = SigningKey::from_bytes(&secret);
        assert_eq!(
            key.verifying_key().to_bytes(),
            hex32("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        );
        let sig = key.try_sign(b"").unwrap().to_bytes();
        assert!(verify_signature(&key.verifying_key().to_bytes(), b"", &sig));
        assert_eq!(
            public_key_pem(&key.verifying_key().to_bytes()),
            "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n"
        );
    }

    fn hex32(s: &str) -> [u8; 32] {
        std::array::from_fn(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
    }
}
