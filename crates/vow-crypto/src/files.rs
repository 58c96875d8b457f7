//! Files that can hold personal data or secrets (the key file, the database, sent
//! mail, exports, reports): owner-only from the moment they exist — files 0600,
//! directories 0700 — rather than created with the process umask and narrowed
//! afterwards, which leaves a window and misses files made by others (SQLite's
//! `-wal` and `-shm` take the database file's mode). Every crate that writes such a
//! file uses these.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Owner read and write.
pub const FILE_MODE: u32 = 0o600;
/// Owner read, write and search.
pub const DIR_MODE: u32 = 0o700;

/// Create a new file at `path` for writing, owner-only. Fails with `AlreadyExists`
/// if something is there: nothing is overwritten.
pub fn create_private_file(path: impl AsRef<Path>) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(FILE_MODE);
    }
    opts.open(path.as_ref())
}

/// Write `contents` to `path`, replacing what a file there held. The file is
/// owner-only whether it is new or not: an existing one is narrowed before the new
/// contents go in. A drop-in for [`std::fs::write`].
pub fn write_private_file(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(FILE_MODE);
    }
    let mut file = opts.open(path.as_ref())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if file.metadata()?.permissions().mode() & 0o077 != 0 {
            file.set_permissions(fs::Permissions::from_mode(FILE_MODE))?;
        }
    }
    file.write_all(contents.as_ref())?;
    file.sync_all()
}

/// Create `dir` and any missing parents; the directories created are owner-only. A
/// directory that already exists keeps its mode (the operator may share it on
/// purpose). A drop-in for [`std::fs::create_dir_all`].
pub fn create_private_dir_all(dir: impl AsRef<Path>) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(DIR_MODE);
    }
    builder.create(dir.as_ref())
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn files_and_directories_are_owner_only() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        create_private_dir_all(&dir).unwrap();
        assert_eq!(mode(&tmp.path().join("a")), DIR_MODE);
        assert_eq!(mode(&dir), DIR_MODE);

        let f = dir.join("new");
        create_private_file(&f).unwrap().write_all(b"x").unwrap();
        assert_eq!(mode(&f), FILE_MODE);
        let again = create_private_file(&f).unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);

        let shared = dir.join("shared");
        fs::write(&shared, b"old contents").unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o644)).unwrap();
        write_private_file(&shared, b"new").unwrap();
        assert_eq!(mode(&shared), FILE_MODE);
        assert_eq!(fs::read(&shared).unwrap(), b"new");
    }
}
