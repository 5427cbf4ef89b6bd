//! Why the ledger could not do something. Every error names the ledger's file and says what the
//! user can do; none of them is a reason to stop a paid job (callers warn and go on).

use std::path::{Path, PathBuf};

/// What kind of trouble the ledger is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No place for the ledger: no state directory and no home directory.
    NoLocation,
    /// The file or its directory cannot be created or written (a read-only home, permissions).
    ReadOnly,
    /// The file is not a SQLite database, or it is damaged.
    Corrupt,
    /// The file is a SQLite database, but not a happyhorse ledger.
    Foreign,
    /// The ledger was written by a newer happyhorse (its schema version is unknown here).
    TooNew,
    /// Another process held the database locked longer than the busy timeout.
    Locked,
    /// The background writer has stopped (the ledger was closed).
    Closed,
    /// Any other I/O or SQLite failure (a full disk, …).
    Io,
}

/// A ledger error: its kind, the file, and what happened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job ledger {}: {message}", path.display())]
pub struct Error {
    kind: ErrorKind,
    path: PathBuf,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, path: &Path, message: impl Into<String>) -> Self {
        Self {
            kind,
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    /// A SQLite failure, classified.
    pub(crate) fn sqlite(path: &Path, error: &rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode;
        let kind = match error.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => ErrorKind::Corrupt,
            Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => {
                ErrorKind::ReadOnly
            }
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => ErrorKind::Locked,
            _ => ErrorKind::Io,
        };
        let hint = match kind {
            ErrorKind::Corrupt => {
                " (the file is damaged or not a database; move it aside and a new ledger starts)"
            }
            ErrorKind::ReadOnly => " (the file or its directory cannot be written)",
            ErrorKind::Locked => " (another process holds it locked)",
            _ => "",
        };
        Self::new(kind, path, format!("{error}{hint}"))
    }

    /// What kind of trouble this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The ledger's file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
