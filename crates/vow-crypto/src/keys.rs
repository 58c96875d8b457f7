//! The root of the key hierarchy: 32-byte keys, the root key file, passphrase
//! derivation and OS randomness.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::CryptoError;
use crate::files::{create_private_dir_all, create_private_file};

/// 32 secret bytes. Wiped on drop; `Debug` is redacted and there is no
/// `Display`, so a key cannot end up in a log line by accident.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Key32([u8; 32]);

impl Key32 {
    /// A fresh random key from the operating system.
    pub fn generate() -> Result<Key32, CryptoError> {
        let mut key = Key32([0; 32]);
        getrandom::fill(&mut key.0).map_err(|_| CryptoError::Random)?;
        Ok(key)
    }

    /// Wraps existing key bytes (the caller should wipe its own copy).
    pub fn from_bytes(b: [u8; 32]) -> Key32 {
        Key32(b)
    }

    /// Copies a 32-byte slice without leaving an unwiped intermediate array.
    pub(crate) fn from_slice(b: &[u8]) -> Option<Key32> {
        let src: &[u8; 32] = b.try_into().ok()?;
        let mut key = Key32([0; 32]);
        key.0.copy_from_slice(src);
        Some(key)
    }

    /// The raw bytes, for handing to a primitive. Keep the borrow short.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// HKDF-SHA256 (no salt) with `info`, for deriving purpose-specific subkeys
    /// (e.g. `b"vow:v1:bidx:email"`), so one stored key never serves two purposes.
    pub fn derive(&self, info: &[u8]) -> Key32 {
        let mut out = Key32([0; 32]);
        #[allow(
            clippy::expect_used,
            reason = "HKDF-Expand only fails for outputs longer than 255 * 32 bytes; 32 is fixed"
        )]
        Hkdf::<Sha256>::new(None, &self.0)
            .expand(info, &mut out.0)
            .expect("32 bytes is within the HKDF-SHA256 output limit");
        out
    }
}

impl fmt::Debug for Key32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key32([redacted])")
    }
}

/// `N` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|_| CryptoError::Random)?;
    Ok(b)
}

/// Argon2id memory cost in KiB: 64 MiB (RFC 9106, second recommended option).
const ARGON2_M_KIB: u32 = 64 * 1024;
/// Argon2id passes.
const ARGON2_T: u32 = 3;
/// Argon2id lanes.
const ARGON2_P: u32 = 1;

/// Derives a key from a passphrase with Argon2id (m = 64 MiB, t = 3, p = 1,
/// RFC 9106's second recommended setting), so guessing costs memory, not
/// just time. The 16-byte salt must be random and stored next to what it protects.
pub fn key_from_passphrase(passphrase: &[u8], salt: &[u8; 16]) -> Result<Key32, CryptoError> {
    if passphrase.is_empty() {
        return Err(CryptoError::Passphrase("passphrase must not be empty"));
    }
    let params = argon2::Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, Some(32))
        .map_err(|_| CryptoError::Passphrase("invalid Argon2id parameters"))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = Key32([0; 32]);
    argon
        .hash_password_into(passphrase, salt, &mut key.0)
        .map_err(|_| CryptoError::Passphrase("Argon2id derivation failed (out of memory?)"))?;
    Ok(key)
}

/// Largest key file we read: a key is 45 bytes; anything much bigger is not a key file.
const MAX_KEY_FILE: usize = 256;

/// Loads the root key from a key file, or creates it: 32 random bytes, base64
/// (standard) plus a newline, mode 0600, missing parent directories created
/// (mode 0700). The file is written under a temporary name and then hard-linked
/// into place, which fails if the name exists, so a concurrent start never
/// overwrites a key and never sees a half-written one. Returns `(key, created)`.
pub fn load_or_create_key_file(path: &Path) -> Result<(Key32, bool), CryptoError> {
    if let Some(key) = read_key_file(path)? {
        return Ok((key, false));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir_all(parent).map_err(|e| {
            CryptoError::KeyFile(format!("cannot create directory {}: {e}", parent.display()))
        })?;
    }
    let key = Key32::generate()?;
    let mut text = Zeroizing::new(STANDARD.encode(key.expose()));
    text.push('\n');
    let suffix = random_bytes::<8>()?;
    match write_new_file(path, text.as_bytes(), &suffix) {
        Ok(()) => Ok((key, true)),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            // Lost a race with another process: use the key it wrote.
            let key = read_key_file(path)?.ok_or_else(|| {
                CryptoError::KeyFile(format!("{} vanished while being created", path.display()))
            })?;
            Ok((key, false))
        }
        Err(e) => Err(CryptoError::KeyFile(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}

/// Loads the root key from an existing key file. Refuses a file that group or
/// others can access (mode & 0o077 != 0): a readable root key exposes every tenant.
pub fn load_key_file(path: &Path) -> Result<Key32, CryptoError> {
    read_key_file(path)?
        .ok_or_else(|| CryptoError::KeyFile(format!("{} does not exist", path.display())))
}

/// The largest private-key file read (a PEM key is a few KiB at most).
const MAX_PRIVATE_FILE: u64 = 1024 * 1024;

/// Reads a private key that is not Vow's own (the TLS key, in PEM). Like the root
/// key file, it is refused when group or others can access it, checked on the open
/// handle. The bytes are wiped when dropped.
pub fn read_private_key_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let file = File::open(path)
        .map_err(|e| CryptoError::KeyFile(format!("cannot open {}: {e}", path.display())))?;
    let meta = file
        .metadata()
        .map_err(|e| CryptoError::KeyFile(format!("cannot stat {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(CryptoError::KeyFile(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    check_private(path, &meta)?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_PRIVATE_FILE)
        .read_to_end(&mut bytes)
        .map_err(|e| CryptoError::KeyFile(format!("cannot read {}: {e}", path.display())))?;
    Ok(bytes)
}

/// `Ok(None)` when the file does not exist; every other problem is an error.
fn read_key_file(path: &Path) -> Result<Option<Key32>, CryptoError> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(CryptoError::KeyFile(format!(
                "cannot open {}: {e}",
                path.display()
            )));
        }
    };
    // Checked on the open handle, so the file cannot be swapped in between.
    let meta = file
        .metadata()
        .map_err(|e| CryptoError::KeyFile(format!("cannot stat {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(CryptoError::KeyFile(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    check_private(path, &meta)?;

    let mut buf = Zeroizing::new([0u8; MAX_KEY_FILE]);
    let mut len = 0;
    loop {
        let Some(rest) = buf.get_mut(len..).filter(|r| !r.is_empty()) else {
            return Err(malformed_key_file(path));
        };
        match file.read(rest) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(CryptoError::KeyFile(format!(
                    "cannot read {}: {e}",
                    path.display()
                )));
            }
        }
    }
    let text = buf.get(..len).ok_or_else(|| malformed_key_file(path))?;
    let text = text.trim_ascii();
    let mut decoded = Zeroizing::new([0u8; 48]);
    let n = STANDARD
        .decode_slice(text, &mut *decoded)
        .map_err(|_| malformed_key_file(path))?;
    let key = decoded
        .get(..n)
        .and_then(Key32::from_slice)
        .ok_or_else(|| malformed_key_file(path))?;
    Ok(Some(key))
}

fn malformed_key_file(path: &Path) -> CryptoError {
    CryptoError::KeyFile(format!(
        "{} is not a valid key file (expected 32 bytes, base64-encoded, on one line)",
        path.display()
    ))
}

#[cfg(unix)]
fn check_private(path: &Path, meta: &fs::Metadata) -> Result<(), CryptoError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(CryptoError::KeyFile(format!(
            "{p} is accessible by group or others (mode {mode:04o}); refusing to use it. \
             Restrict it with `chmod 600 {p}`",
            p = path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _meta: &fs::Metadata) -> Result<(), CryptoError> {
    Ok(())
}

/// Writes `contents` to a new file at `path`; `AlreadyExists` if it is taken.
fn write_new_file(path: &Path, contents: &[u8], suffix: &[u8; 8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", hex(suffix)));
    let tmp = path.with_file_name(tmp_name);

    let written = create_private_file(&tmp).and_then(|mut f| {
        f.write_all(contents)?;
        f.sync_all()
    });
    let linked = written.and_then(|()| fs::hard_link(&tmp, path));
    // Best effort: the temporary name holds the same bytes, never the only copy.
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_parent(path);
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        // Some filesystems have no hard links: fall back to create_new in place,
        // which still never overwrites (a racing reader may see a short file).
        Err(_) => {
            let mut f = create_private_file(path)?;
            let res = f.write_all(contents).and_then(|()| f.sync_all());
            if res.is_err() {
                let _ = fs::remove_file(path);
            }
            res?;
            sync_parent(path);
            Ok(())
        }
    }
}

/// Makes the new directory entry durable; failure only weakens crash safety.
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(parent) = path.parent() {
        let dir = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_upper(b: &[u8]) -> String {
        hex(b).to_uppercase()
    }

    #[test]
    fn debug_is_redacted() {
        let key = Key32::from_bytes(std::array::from_fn(|i| i as u8 + 0xa0));
        let dbg = format!("{key:?}");
        assert_eq!(dbg, "Key32([redacted])");
        let bytes = key.expose();
        for needle in [
            hex(bytes),
            hex_upper(bytes),
            STANDARD.encode(bytes),
            format!("{bytes:?}"),
        ] {
            assert!(!dbg.contains(&needle));
        }
        let random = Key32::generate().unwrap();
        let dbg = format!("{random:?} {:#?}", random.clone());
        assert!(!dbg.contains(&hex(random.expose())));
        assert!(!dbg.contains(&STANDARD.encode(random.expose())));
    }

    #[test]
    fn generate_is_random() {
        assert_ne!(
            Key32::generate().unwrap().expose(),
            Key32::generate().unwrap().expose()
        );
        assert_ne!(random_bytes::<16>().unwrap(), random_bytes::<16>().unwrap());
    }

    #[test]
    fn derive_is_deterministic_and_separated() {
        let root = Key32::from_bytes([7; 32]);
        let a = root.derive(b"vow:v1:bidx:email");
        assert_eq!(a.expose(), root.derive(b"vow:v1:bidx:email").expose());
        assert_ne!(a.expose(), root.derive(b"vow:v1:bidx:phone").expose());
        assert_ne!(
            a.expose(),
            Key32::from_bytes([8; 32])
                .derive(b"vow:v1:bidx:email")
                .expose()
        );
        assert_ne!(a.expose(), root.expose());
    }

    #[test]
    fn derive_matches_rfc5869_shape() {
        // HKDF-SHA256 without salt: PRK = HMAC(0^32, ikm); T(1) = HMAC(PRK, info || 0x01).
        let root = Key32::from_bytes([0x0b; 32]);
        let prk = crate::chain::hmac_sha256(&Key32::from_bytes([0; 32]), root.expose());
        let mut msg = b"info".to_vec();
        msg.push(1);
        let t1 = crate::chain::hmac_sha256(&Key32::from_bytes(prk), &msg);
        assert_eq!(root.derive(b"info").expose(), &t1);
    }

    #[test]
    fn passphrase_derivation() {
        assert_eq!(
            key_from_passphrase(b"", &[0; 16]).unwrap_err(),
            CryptoError::Passphrase("passphrase must not be empty")
        );
        let salt1 = [1u8; 16];
        let a = key_from_passphrase(b"correct horse battery staple", &salt1).unwrap();
        // Pinned so a silent parameter change (which would orphan stored data) fails here.
        // Argon2id(m=65536, t=3, p=1, v=0x13), as computed by the argon2 crate directly.
        assert_eq!(
            hex(a.expose()),
            "2059d35e11f775944efac46541cfcd82013946a4ce55030871f5891aacf73b07"
        );
        let b = key_from_passphrase(b"correct horse battery staple", &[2u8; 16]).unwrap();
        assert_ne!(a.expose(), b.expose());
    }

    #[cfg(unix)]
    fn mode_of(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn key_file_created_then_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/deeper/root.key");
        assert!(matches!(load_key_file(&path), Err(CryptoError::KeyFile(_))));
        let (k1, created) = load_or_create_key_file(&path).unwrap();
        assert!(created);
        #[cfg(unix)]
        assert_eq!(mode_of(&path), 0o600);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.ends_with('\n'));
        assert_eq!(STANDARD.decode(text.trim()).unwrap(), k1.expose());
        let (k2, created) = load_or_create_key_file(&path).unwrap();
        assert!(!created);
        assert_eq!(k1.expose(), k2.expose());
        assert_eq!(load_key_file(&path).unwrap().expose(), k1.expose());
        // No temporary files left behind.
        let names: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn concurrent_creation_agrees_on_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        let keys: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| load_or_create_key_file(&path).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(keys.iter().filter(|(_, created)| *created).count(), 1);
        assert!(keys.iter().all(|(k, _)| k.expose() == keys[0].0.expose()));
    }

    #[cfg(unix)]
    #[test]
    fn key_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key");
        load_or_create_key_file(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_key_file(&path).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("group or others") && msg.contains("0644"),
            "{msg}"
        );
        assert!(msg.contains("chmod 600"));
        assert!(load_or_create_key_file(&path).is_err());
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        assert!(load_key_file(&path).is_err());
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        assert!(load_key_file(&path).is_ok());
    }

    #[test]
    fn malformed_key_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [&[u8]; 7] = [
            b"",
            b"not base64 at all!\n",
            b"AAAA\n",                                                 // 3 bytes
            b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", // 39 bytes
            b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",          // unpadded
            &[0xff; 44],
            &[b'A'; 4096],
        ];
        for (i, contents) in cases.iter().enumerate() {
            let path = dir.path().join(format!("bad{i}.key"));
            let mut f = create_private_file(&path).unwrap();
            f.write_all(contents).unwrap();
            drop(f);
            let err = load_key_file(&path).unwrap_err();
            assert_eq!(err.code(), "key_file", "case {i}");
            assert!(err.to_string().contains(&path.display().to_string()));
            assert!(
                load_or_create_key_file(&path).is_err(),
                "must not replace a bad key file"
            );
        }
        // Exactly 32 bytes with surrounding whitespace is fine.
        let path = dir.path().join("ok.key");
        let mut f = create_private_file(&path).unwrap();
        f.write_all(format!("  {}\r\n", STANDARD.encode([9u8; 32])).as_bytes())
            .unwrap();
        drop(f);
        assert_eq!(load_key_file(&path).unwrap().expose(), &[9u8; 32]);
    }

    #[test]
    fn directory_is_not_a_key_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_key_file(dir.path()).is_err());
    }
}
