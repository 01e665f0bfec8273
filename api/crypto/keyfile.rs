//! Key files in the data directory: read the file if it exists, else create
//! it holding the caller's new key. Creation uses `create_new` and mode 0600,
//! so the key is never readable by other local users, and two instances
//! starting at once cannot overwrite each other's key: the loser reads the
//! winner's. Pure file I/O: what a key is and how it is encoded belong to
//! the caller, which also parses what it reads.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

/// A key file that could not be read, written or understood.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct FileError {
    pub path: String,
    pub message: String,
}

impl FileError {
    pub fn new(path: &Path, message: impl Into<String>) -> Self {
        Self {
            path: path.display().to_string(),
            message: message.into(),
        }
    }
}

/// What [`read_or_create`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyFile {
    /// There was no file; it now holds the new key's text.
    Created,
    /// The file existed (or another instance just wrote it): its text.
    Existing(String),
}

/// `dir/name`'s text, or the file newly created with `new_text`.
pub fn read_or_create(dir: &Path, name: &str, new_text: &str) -> Result<KeyFile, FileError> {
    let path = dir.join(name);
    let file_error = |e: std::io::Error| FileError::new(&path, e.to_string());
    fs::create_dir_all(dir).map_err(file_error)?;
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(mut file) => {
            file.write_all(new_text.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(file_error)?;
            Ok(KeyFile::Created)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => fs::read_to_string(&path)
            .map(KeyFile::Existing)
            .map_err(file_error),
        Err(e) => Err(file_error(e)),
    }
}

/// Renames `dir/from` over `dir/to` atomically, then syncs the directory
/// so the new name survives a crash.
pub fn replace(dir: &Path, from: &str, to: &str) -> Result<(), FileError> {
    let target = dir.join(to);
    let file_error = |e: std::io::Error| FileError::new(&target, e.to_string());
    fs::rename(dir.join(from), &target).map_err(file_error)?;
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(file_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn created_once_private_then_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("data");
        assert_eq!(
            read_or_create(&sub, "k", "first\n").unwrap(),
            KeyFile::Created
        );
        assert_eq!(
            read_or_create(&sub, "k", "second\n").unwrap(),
            KeyFile::Existing("first\n".into()),
            "an existing key is never replaced"
        );
        let mode = fs::metadata(sub.join("k")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        fs::write(&blocker, "").unwrap();
        let err = read_or_create(&blocker, "k", "x").unwrap_err();
        assert_eq!(err.path, blocker.join("k").display().to_string());
        assert!(err.to_string().starts_with(&err.path));
    }
}
