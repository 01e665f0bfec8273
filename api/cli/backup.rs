//! `twofold backup --output FILE`: a consistent copy of the SQLite database
//! while the service runs and writes. PostgreSQL is refused before any
//! connection, naming `pg_dump`, its own tool for the same job.
//!
//! The copy is written under a hidden temporary name in FILE's directory,
//! flushed to disk, then linked to FILE: a crash or a failed copy never
//! leaves a half file under the final name, and an existing FILE is never
//! replaced. The copy holds password hashes and sealed secrets, so it is
//! readable by its owner only. The SQL is [`crate::db::backup`]'s.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use super::dispatch::{open_db, print};
use crate::config::Config;
use crate::db::backup::{vacuum_into, BackupError};
use crate::db::Backend;

pub fn run(json: bool, config: &Config, output: &Path) -> Result<(), String> {
    // The URL is only read, never printed: a PostgreSQL one holds a password.
    let source = match Backend::from_url(&config.database_url).map_err(|e| e.to_string())? {
        Backend::Sqlite(path) => path,
        Backend::Postgres(_) => {
            return Err(format!(
                "{}, e.g. pg_dump --format=custom --file=twofold.dump \"$TWOFOLD_DATABASE_URL\"",
                BackupError::NotSqlite
            ))
        }
    };
    // Opening a missing file would create an empty database and back that up.
    if !Path::new(&source).is_file() {
        return Err(format!(
            "no SQLite database at {source} (TWOFOLD_DATABASE_URL)"
        ));
    }
    let target = Target::new(output)?;
    let db = open_db(config)?;
    let mut conn = db.conn().map_err(|e| e.to_string())?;
    let partial = target.create_partial()?;
    let written = vacuum_into(&mut conn, &partial)
        .map_err(|e| e.to_string())
        .and_then(|()| target.publish(&partial));
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    let bytes = written?;
    let shown = target.path.display().to_string();
    let value = serde_json::json!({ "output": shown, "bytes": bytes });
    print(json, &value, || {
        format!("backup of {source} written to {shown} ({bytes} bytes)")
    })
}

/// Where the copy goes: an absolute path in a directory that exists, with
/// no file under that name yet.
struct Target {
    dir: PathBuf,
    name: String,
    path: PathBuf,
}

impl Target {
    fn new(output: &Path) -> Result<Self, String> {
        let name = output
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("--output: {} does not name a file", output.display()))?
            .to_owned();
        let parent = match output.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let dir = parent
            .canonicalize()
            .ok()
            .filter(|d| d.is_dir())
            .ok_or_else(|| format!("--output: directory {} does not exist", parent.display()))?;
        let path = dir.join(&name);
        // A dangling symbolic link counts too: writing through it would
        // create a file somewhere else.
        if path.symlink_metadata().is_ok() {
            return Err(already_exists(&path));
        }
        Ok(Self { dir, name, path })
    }

    /// An empty, owner-only file with a unique hidden name next to the
    /// target; `VACUUM INTO` accepts an empty file and keeps its mode.
    fn create_partial(&self) -> Result<PathBuf, String> {
        let partial = self.dir.join(format!(
            ".{}.{}.partial",
            self.name,
            uuid::Uuid::new_v4().simple()
        ));
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&partial)
            .map_err(|e| format!("{}: {e}", partial.display()))?;
        Ok(partial)
    }

    /// Flushes the finished copy and gives it the final name without ever
    /// replacing a file; answers its size. `partial` is gone on success.
    fn publish(&self, partial: &Path) -> Result<u64, String> {
        let io = |e: std::io::Error| format!("{}: {e}", self.path.display());
        File::open(partial)
            .and_then(|f| f.sync_all())
            .map_err(|e| format!("{}: {e}", partial.display()))?;
        // A hard link fails if the name was taken meanwhile, where a rename
        // would silently replace it.
        match std::fs::hard_link(partial, &self.path) {
            Ok(()) => std::fs::remove_file(partial).map_err(io)?,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                return Err(already_exists(&self.path))
            }
            // A file system without hard links: the name was free a moment ago.
            Err(_) if self.path.symlink_metadata().is_err() => {
                std::fs::rename(partial, &self.path).map_err(io)?;
            }
            Err(_) => return Err(already_exists(&self.path)),
        }
        // Best effort: the copy is complete either way; this makes its name
        // survive a power loss too.
        let _ = File::open(&self.dir).and_then(|d| d.sync_all());
        std::fs::metadata(&self.path).map(|m| m.len()).map_err(io)
    }
}

fn already_exists(path: &Path) -> String {
    format!(
        "--output: {} already exists; twofold backup never replaces a file",
        path.display()
    )
}
