//! API keys and other bearer secrets.
//!
//! An API key is `vow_<id>_<secret>`: the id (12 lowercase base32 chars) finds
//! the key record without a secret-dependent lookup; only SHA-256 of the
//! 32-byte secret is stored. The secret is high-entropy, so a fast hash is
//! enough (no password hashing needed) and verification stays cheap.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use crate::chain::sha256;
use crate::error::CryptoError;
use crate::keys::random_bytes;

const PREFIX: &str = "vow_";
const ID_LEN: usize = 12;
const SECRET_BYTES: usize = 32;
/// base64url without padding of 32 bytes.
const SECRET_LEN: usize = 43;
const TOKEN_LEN: usize = PREFIX.len() + ID_LEN + 1 + SECRET_LEN;
/// RFC 4648 base32 alphabet, lowercased: no '_' so the id ends unambiguously.
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A new API key. Returns `(id, full_token, secret_hash)`; show the token once
/// and store only the id and `secret_hash = SHA-256(secret bytes)`.
pub fn new_api_key() -> Result<(String, String, [u8; 32]), CryptoError> {
    // 12 base32 chars carry 60 bits; take them from 8 random bytes.
    let id_bits = u64::from_be_bytes(random_bytes::<8>()?);
    let id: String = (0..ID_LEN)
        .map(|i| char::from(BASE32[((id_bits >> (i * 5)) & 0x1f) as usize]))
        .collect();
    let secret = Zeroizing::new(random_bytes::<SECRET_BYTES>()?);
    let encoded = Zeroizing::new(URL_SAFE_NO_PAD.encode(*secret));
    let token = format!("{PREFIX}{id}_{}", encoded.as_str());
    Ok((id, token, sha256(&*secret)))
}

/// Parses `vow_<id>_<secret>` into `(id, SHA-256(secret bytes))` for lookup and
/// comparison with [`ct_eq`]. Surrounding whitespace is ignored; errors never
/// contain the token.
pub fn parse_api_key(token: &str) -> Result<(String, [u8; 32]), CryptoError> {
    const MALFORMED: CryptoError =
        CryptoError::Malformed("API key is not of the form vow_<id>_<secret>");
    let token = token.trim().as_bytes();
    if token.len() != TOKEN_LEN {
        return Err(MALFORMED);
    }
    let rest = token.strip_prefix(PREFIX.as_bytes()).ok_or(MALFORMED)?;
    let (id, rest) = rest.split_first_chunk::<ID_LEN>().ok_or(MALFORMED)?;
    let secret = rest.strip_prefix(b"_").ok_or(MALFORMED)?;
    if !id.iter().all(|b| BASE32.contains(b)) {
        return Err(MALFORMED);
    }
    let mut decoded = Zeroizing::new([0u8; SECRET_BYTES + 3]);
    // The decoder rejects non-canonical trailing bits, so each key has one spelling.
    let n = URL_SAFE_NO_PAD
        .decode_slice(secret, &mut *decoded)
        .map_err(|_| MALFORMED)?;
    if n != SECRET_BYTES {
        return Err(MALFORMED);
    }
    let id = String::from_utf8(id.to_vec()).map_err(|_| MALFORMED)?;
    Ok((id, sha256(&decoded[..SECRET_BYTES])))
}

/// Compares secrets (or their hashes) in time independent of where they differ.
/// Lengths are not secret: different lengths return `false` at once.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// A random URL-safe token (e.g. for one-time links): 32 bytes, base64url, no padding.
pub fn random_token() -> Result<String, CryptoError> {
    let bytes = Zeroizing::new(random_bytes::<32>()?);
    Ok(URL_SAFE_NO_PAD.encode(*bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_key_round_trip() {
        let (id, token, hash) = new_api_key().unwrap();
        assert_eq!(id.len(), ID_LEN);
        assert!(id.bytes().all(|b| BASE32.contains(&b)));
        assert_eq!(token.len(), TOKEN_LEN);
        assert!(token.starts_with(&format!("vow_{id}_")));
        let (pid, phash) = parse_api_key(&token).unwrap();
        assert_eq!(pid, id);
        assert!(ct_eq(&phash, &hash));
        assert_eq!(parse_api_key(&format!(" {token}\n")).unwrap().0, id);

        let (id2, token2, hash2) = new_api_key().unwrap();
        assert_ne!(id, id2);
        assert_ne!(token, token2);
        assert_ne!(hash, hash2);
    }

    #[test]
    fn secret_with_underscores_parses() {
        // The secret alphabet includes '_' and '-': parsing is positional, not split-based.
        let token = format!("vow_abcdefgh2345_{}", "_-".repeat(21) + "A");
        let (id, hash) = parse_api_key(&token).unwrap();
        assert_eq!(id, "abcdefgh2345");
        let secret = URL_SAFE_NO_PAD.decode("_-".repeat(21) + "A").unwrap();
        assert_eq!(hash, sha256(&secret));
    }

    #[test]
    fn malformed_api_keys_are_rejected() {
        let (_, token, _) = new_api_key().unwrap();
        let secret = &token[17..];
        let bad = [
            String::new(),
            "vow_".into(),
            token[..token.len() - 1].to_string(),
            format!("{token}A"),
            token.replacen("vow_", "vox_", 1),
            token.replacen("vow_", "VOW_", 1),
            format!("vow_ABCDEFGHIJKL_{secret}"),
            format!("vow_abcdefgh1890_{secret}"),
            format!("vow_abcdefghijkl-{secret}"),
            format!("vow_abcdefghijk_{secret}A"),
            format!("vow_abcdefghijkl_{}", "!".repeat(43)),
            format!("vow_abcdefghijkl_{}", "A".repeat(42) + "B"), // non-canonical trailing bits
            format!("vow_abcdefghijkl_{}=", &secret[..42]),
            format!("vow_abcdéfghijk_{}", &secret[1..]),
        ];
        for t in &bad {
            let err = parse_api_key(t).unwrap_err();
            assert!(matches!(err, CryptoError::Malformed(_)), "{t:?}");
            assert!(!err.to_string().contains(secret));
        }
    }

    #[test]
    fn constant_time_eq() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
        assert!(ct_eq(b"", b""));
    }

    #[test]
    fn random_tokens() {
        let a = random_token().unwrap();
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(a, random_token().unwrap());
    }
}
