//! Standard Webhooks signing secrets and signatures
//! (<https://www.standardwebhooks.com/>): a secret is `whsec_` + base64 of 24 to 64
//! random bytes, and a signature is `v1,` + base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}")).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit as _, Mac as _};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::CryptoError;

const PREFIX: &str = "whsec_";
/// Bytes of a generated secret (the specification asks for 24 to 64).
const GENERATED_LEN: usize = 32;
const MIN_LEN: usize = 24;
const MAX_LEN: usize = 64;

/// A recipient's signing secret. Wiped on drop; `Debug` is redacted.
#[derive(Clone)]
pub struct WebhookSecret(Zeroizing<Vec<u8>>);

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

impl WebhookSecret {
    /// A fresh random secret.
    pub fn generate() -> Result<WebhookSecret, CryptoError> {
        let bytes = crate::keys::random_bytes::<GENERATED_LEN>()?;
        Ok(WebhookSecret(Zeroizing::new(bytes.to_vec())))
    }

    /// Parses `whsec_<base64>` (24 to 64 bytes once decoded).
    pub fn parse(text: &str) -> Result<WebhookSecret, CryptoError> {
        let b64 = text.strip_prefix(PREFIX).ok_or(CryptoError::Malformed(
            "a webhook secret starts with whsec_",
        ))?;
        let bytes = Zeroizing::new(
            STANDARD
                .decode(b64)
                .map_err(|_| CryptoError::Malformed("a webhook secret is whsec_ + base64"))?,
        );
        if !(MIN_LEN..=MAX_LEN).contains(&bytes.len()) {
            return Err(CryptoError::Malformed(
                "a webhook secret holds 24 to 64 bytes",
            ));
        }
        Ok(WebhookSecret(bytes))
    }

    /// The raw bytes (to seal them at rest).
    pub fn from_bytes(bytes: &[u8]) -> WebhookSecret {
        WebhookSecret(Zeroizing::new(bytes.to_vec()))
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// `whsec_<base64>`: shown to the operator once, when generated.
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("{PREFIX}{}", STANDARD.encode(&*self.0)))
    }

    /// The `webhook-signature` header value for one delivery attempt.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        // HMAC accepts keys of any length; new_from_slice cannot fail for it.
        let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(&self.0) else {
            return String::new();
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    /// Whether a `webhook-signature` header (one or more space-separated `v1,<base64>`)
    /// holds this secret's signature of `{id}.{timestamp}.{body}`. Compared in
    /// constant time; the timestamp's freshness is the caller's to check.
    pub fn verify(&self, id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
        let expected = self.sign(id, timestamp, body);
        let mut ok = false;
        for given in header.split(' ').filter(|s| !s.is_empty()) {
            // Every candidate is compared: no early exit on a match.
            ok |= crate::token::ct_eq(given.as_bytes(), expected.as_bytes());
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_standard_webhooks_test_vector() {
        // Published with the specification's reference libraries: reproducing it is what
        // says a receiver's own library accepts our signatures.
        let s = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            s.sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn verify_accepts_the_signature_among_others_and_nothing_else() {
        let s = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let good = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert!(s.verify("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body, good));
        let two = format!("v1,AAAA {good}");
        assert!(s.verify("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body, &two));
        assert!(!s.verify("msg_other", 1_614_265_330, body, good));
        assert!(!s.verify("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_331, body, good));
        assert!(!s.verify("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, b"{}", good));
        assert!(!s.verify("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body, ""));
    }

    #[test]
    fn generated_secrets_round_trip_and_are_random() {
        let a = WebhookSecret::generate().unwrap();
        let b = WebhookSecret::generate().unwrap();
        assert_ne!(a.expose(), b.expose());
        let text = a.to_text();
        assert!(text.starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(&text).unwrap().expose(), a.expose());
        assert_eq!(format!("{a:?}"), "WebhookSecret([redacted])");
    }

    #[test]
    fn malformed_secrets_are_refused_without_echoing_them() {
        for bad in [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_!!!",
            "whsec_c2hvcnQ=",
        ] {
            let e = WebhookSecret::parse(bad).unwrap_err();
            assert!(!e.to_string().contains(bad));
        }
    }
}
