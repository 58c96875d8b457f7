//! The one error type of the crate. No variant ever carries key bytes,
//! plaintext or the input that was rejected, so errors are safe to log.

use thiserror::Error;

/// Why a cryptographic operation failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CryptoError {
    /// Authentication failed: wrong key, tampered ciphertext or wrong associated
    /// data. Deliberately one variant, so callers cannot learn which.
    #[error("decryption failed: wrong key, tampered ciphertext or wrong associated data")]
    Decrypt,
    /// Input has the wrong shape; the text says why, never what the input was.
    #[error("malformed input: {0}")]
    Malformed(&'static str),
    /// A key file could not be read, created or trusted (path and reason).
    #[error("key file: {0}")]
    KeyFile(String),
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Random,
    /// A passphrase was unusable or key derivation from it failed.
    #[error("passphrase: {0}")]
    Passphrase(&'static str),
}

impl CryptoError {
    /// Stable machine code, used in problem documents and CLI messages.
    pub fn code(&self) -> &'static str {
        match self {
            CryptoError::Decrypt => "decrypt_failed",
            CryptoError::Malformed(_) => "malformed",
            CryptoError::KeyFile(_) => "key_file",
            CryptoError::Random => "random_unavailable",
            CryptoError::Passphrase(_) => "passphrase",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_distinct() {
        let all = [
            CryptoError::Decrypt,
            CryptoError::Malformed("x"),
            CryptoError::KeyFile("p".into()),
            CryptoError::Random,
            CryptoError::Passphrase("x"),
        ];
        let codes: Vec<_> = all.iter().map(CryptoError::code).collect();
        assert_eq!(
            codes,
            [
                "decrypt_failed",
                "malformed",
                "key_file",
                "random_unavailable",
                "passphrase"
            ]
        );
    }
}
