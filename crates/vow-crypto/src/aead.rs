//! Envelope encryption with XChaCha20-Poly1305 and random 24-byte nonces.
//!
//! Envelope: `[0x01] ‖ nonce(24) ‖ ciphertext ‖ tag(16)`. The version byte lets
//! the format change later without guessing; the 192-bit nonce is large enough
//! to pick at random for every write without a counter or a collision worry.

use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305};
use zeroize::Zeroizing;

use crate::error::CryptoError;
use crate::keys::{Key32, random_bytes};

/// Version byte of the current envelope format.
pub const ENVELOPE_VERSION: u8 = 0x01;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Bytes an envelope adds to the plaintext (version + nonce + tag).
pub const OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

/// Encrypts `plaintext` under `key`. `aad` binds the ciphertext to its place
/// (tenant/subject/field identity, see [`aad()`]) so it cannot be moved to another.
pub fn seal(key: &Key32, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let nonce = random_bytes::<NONCE_LEN>()?;
    let mut out = Vec::with_capacity(OVERHEAD + plaintext.len());
    out.push(ENVELOPE_VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let cipher = XChaCha20Poly1305::new(key.expose().into());
    let body = &mut out[1 + NONCE_LEN..];
    let tag = cipher
        .encrypt_inout_detached((&nonce).into(), aad, body.into())
        .map_err(|_| CryptoError::Malformed("plaintext or associated data too long"))?;
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Decrypts an envelope made by [`seal`]. Any authentication failure is
/// [`CryptoError::Decrypt`]; the plaintext is wiped when dropped.
pub fn open(key: &Key32, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let (&version, rest) = sealed
        .split_first()
        .ok_or(CryptoError::Malformed("empty envelope"))?;
    if version != ENVELOPE_VERSION {
        return Err(CryptoError::Malformed("unknown envelope version"));
    }
    let (nonce, rest) = rest
        .split_first_chunk::<NONCE_LEN>()
        .ok_or(CryptoError::Malformed("envelope too short"))?;
    let (ciphertext, tag) = rest
        .split_last_chunk::<TAG_LEN>()
        .ok_or(CryptoError::Malformed("envelope too short"))?;
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    let cipher = XChaCha20Poly1305::new(key.expose().into());
    cipher
        .decrypt_inout_detached(
            nonce.into(),
            aad,
            buf.as_mut_slice().into(),
            &Tag::from(*tag),
        )
        .map_err(|_| CryptoError::Decrypt)?;
    Ok(buf)
}

/// Wraps (encrypts) a key under a key-encryption key, in the same envelope as [`seal`].
pub fn wrap_key(kek: &Key32, key: &Key32, aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
    seal(kek, key.expose(), aad)
}

/// Unwraps a key made by [`wrap_key`]; fails unless it decrypts to exactly 32 bytes.
pub fn unwrap_key(kek: &Key32, wrapped: &[u8], aad: &[u8]) -> Result<Key32, CryptoError> {
    let plain = open(kek, wrapped, aad)?;
    Key32::from_slice(&plain).ok_or(CryptoError::Malformed("wrapped key is not 32 bytes"))
}

/// Builds unambiguous associated data: the label, then each part, every one
/// prefixed by its length as a u32 big-endian, so no two different
/// `(label, parts)` produce the same bytes (e.g. `["ab","c"]` vs `["a","bc"]`).
pub fn aad(label: &str, parts: &[&[u8]]) -> Vec<u8> {
    let len = 4 + label.len() + parts.iter().map(|p| 4 + p.len()).sum::<usize>();
    let mut out = Vec::with_capacity(len);
    put_prefixed(&mut out, label.as_bytes());
    for part in parts {
        put_prefixed(&mut out, part);
    }
    out
}

/// Appends `u32 BE length ‖ bytes`. Parts over 4 GiB are not a real use; their
/// length saturates rather than panicking.
pub(crate) fn put_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> Key32 {
        Key32::from_bytes([b; 32])
    }

    #[test]
    fn round_trip() {
        let k = key(1);
        let a = aad("vow:v1:field", &[b"tenant", b"subject", b"email"]);
        for pt in [&b""[..], b"x", b"ada@example.org", &[0u8; 1000]] {
            let sealed = seal(&k, pt, &a).unwrap();
            assert_eq!(sealed.len(), pt.len() + OVERHEAD);
            assert_eq!(sealed[0], ENVELOPE_VERSION);
            assert_eq!(open(&k, &sealed, &a).unwrap().as_slice(), pt);
        }
    }

    #[test]
    fn nonces_differ() {
        let k = key(1);
        assert_ne!(
            seal(&k, b"same", b"").unwrap(),
            seal(&k, b"same", b"").unwrap()
        );
    }

    #[test]
    fn open_rejects_wrong_aad_key_and_tampering() {
        let k = key(1);
        let a = aad("vow:v1:field", &[b"t1", b"s1", b"email"]);
        let sealed = seal(&k, b"secret", &a).unwrap();

        let moved = aad("vow:v1:field", &[b"t1", b"s2", b"email"]);
        assert_eq!(open(&k, &sealed, &moved).unwrap_err(), CryptoError::Decrypt);
        assert_eq!(open(&k, &sealed, b"").unwrap_err(), CryptoError::Decrypt);
        assert_eq!(
            open(&key(2), &sealed, &a).unwrap_err(),
            CryptoError::Decrypt
        );

        for i in 1..sealed.len() {
            for bit in [0x01, 0x80] {
                let mut t = sealed.clone();
                t[i] ^= bit;
                assert_eq!(
                    open(&k, &t, &a).unwrap_err(),
                    CryptoError::Decrypt,
                    "byte {i}"
                );
            }
        }
        for len in 0..sealed.len() {
            assert!(open(&k, &sealed[..len], &a).is_err(), "truncated to {len}");
        }
        let mut extended = sealed.clone();
        extended.push(0);
        assert!(open(&k, &extended, &a).is_err());

        let mut v = sealed.clone();
        v[0] = 0x02;
        assert_eq!(
            open(&k, &v, &a).unwrap_err(),
            CryptoError::Malformed("unknown envelope version")
        );
        v[0] = 0x00;
        assert!(open(&k, &v, &a).is_err());
    }

    #[test]
    fn wrap_unwrap() {
        let kek = key(3);
        let dek = Key32::generate().unwrap();
        let a = aad("vow:v1:subject-key", &[b"tenant", b"subject"]);
        let wrapped = wrap_key(&kek, &dek, &a).unwrap();
        assert_eq!(wrapped.len(), 32 + OVERHEAD);
        assert_eq!(
            unwrap_key(&kek, &wrapped, &a).unwrap().expose(),
            dek.expose()
        );
        assert_eq!(
            unwrap_key(&key(4), &wrapped, &a).unwrap_err(),
            CryptoError::Decrypt
        );
        assert_eq!(
            unwrap_key(&kek, &wrapped, b"other").unwrap_err(),
            CryptoError::Decrypt
        );
        // A sealed value of the wrong length is not a key.
        let not_key = seal(&kek, b"short", &a).unwrap();
        assert!(matches!(
            unwrap_key(&kek, &not_key, &a),
            Err(CryptoError::Malformed(_))
        ));
    }

    #[test]
    fn aad_is_unambiguous() {
        assert_ne!(aad("l", &[b"ab", b"c"]), aad("l", &[b"a", b"bc"]));
        assert_ne!(aad("l", &[b"a"]), aad("l", &[b"a", b""]));
        assert_ne!(aad("la", &[b"b"]), aad("l", &[b"ab"]));
        assert_ne!(aad("l", &[]), aad("l", &[b""]));
        assert_eq!(aad("x", &[b"yz"]), b"\0\0\0\x01x\0\0\0\x02yz".to_vec());
    }
}
