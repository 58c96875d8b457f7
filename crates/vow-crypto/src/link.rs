//! Opaque link tokens: a small payload sealed (XChaCha20-Poly1305) under a key the
//! server derives from the root key, written base64url without padding so it fits a
//! URL path segment. Nobody without the key can read what a token says or make one
//! that opens; a changed character fails authentication. Used for one-click
//! unsubscribe links (`/u/{token}`), and for the pages' anti-forgery tokens (an HMAC,
//! [`form_token`]).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroizing;

use crate::aead::{open, seal};
use crate::chain::hmac_sha256;
use crate::error::CryptoError;
use crate::keys::Key32;
use crate::token::ct_eq;

/// The longest token [`open_link`] looks at: longer text is refused before decoding.
pub const MAX_LINK_LEN: usize = 512;

/// Seal `payload` under `key`, bound to `aad`, as a URL-safe token.
pub fn seal_link(key: &Key32, payload: &[u8], aad: &[u8]) -> Result<String, CryptoError> {
    Ok(URL_SAFE_NO_PAD.encode(seal(key, payload, aad)?))
}

/// The payload of a token made by [`seal_link`] with the same key and `aad`; None for
/// anything else (malformed, too long, forged, altered, another key).
pub fn open_link(key: &Key32, token: &str, aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if token.len() > MAX_LINK_LEN {
        return None;
    }
    let sealed = URL_SAFE_NO_PAD.decode(token.as_bytes()).ok()?;
    open(key, &sealed, aad).ok()
}

/// A page form's anti-forgery token for a browser's random cookie value: HMAC-SHA256
/// under `key`, base64url. The cookie cannot be read by script, and another site
/// can neither read it nor compute the token, so a form that carries the matching
/// token came from a page this server rendered for this browser.
pub fn form_token(key: &Key32, cookie: &str) -> String {
    URL_SAFE_NO_PAD.encode(hmac_sha256(key, cookie.as_bytes()))
}

/// Whether `token` is [`form_token`] of `cookie`, compared in constant time.
pub fn form_token_ok(key: &Key32, cookie: &str, token: &str) -> bool {
    !cookie.is_empty() && ct_eq(form_token(key, cookie).as_bytes(), token.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_opens_only_with_its_key_and_place() {
        let k = Key32::generate().unwrap();
        let t = seal_link(&k, b"payload", b"here").unwrap();
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(open_link(&k, &t, b"here").unwrap().as_slice(), b"payload");
        assert!(open_link(&k, &t, b"there").is_none());
        assert!(open_link(&Key32::generate().unwrap(), &t, b"here").is_none());
        let mut bytes = t.clone().into_bytes();
        bytes[10] = if bytes[10] == b'A' { b'B' } else { b'A' };
        assert!(open_link(&k, &String::from_utf8(bytes).unwrap(), b"here").is_none());
        assert!(open_link(&k, "not a token!", b"here").is_none());
        assert!(open_link(&k, &"A".repeat(MAX_LINK_LEN + 1), b"here").is_none());
    }

    #[test]
    fn form_tokens_match_their_cookie_only() {
        let k = Key32::generate().unwrap();
        let t = form_token(&k, "cookie-a");
        assert!(form_token_ok(&k, "cookie-a", &t));
        assert!(!form_token_ok(&k, "cookie-b", &t));
        assert!(!form_token_ok(&k, "", &form_token(&k, "")));
        assert!(!form_token_ok(&Key32::generate().unwrap(), "cookie-a", &t));
    }
}
