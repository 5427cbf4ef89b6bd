//! The database: opening a connection (WAL, a busy timeout, full sync) and bringing the schema
//! up to date. The schema's version is SQLite's `user_version`; each entry of [`MIGRATIONS`]
//! takes it one step further, inside one immediate transaction, so two processes opening a new
//! ledger at once cannot both migrate it.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::{Error, ErrorKind};

/// Marks the file as a happyhorse ledger (`PRAGMA application_id`): "hhlg".
const APPLICATION_ID: i32 = 0x6868_6c67;

/// The schema, one step per entry; `user_version` counts the steps applied. Never edit a step
/// that has shipped: add one.
const MIGRATIONS: &[&str] = &[
    // 1: jobs and their state history.
    "CREATE TABLE jobs (
        key TEXT PRIMARY KEY NOT NULL,
        origin TEXT NOT NULL,
        model TEXT NOT NULL,
        base_url TEXT NOT NULL,
        input_digest TEXT,
        created_at INTEGER NOT NULL,
        request_id TEXT,
        state TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        output_path TEXT,
        saved_path TEXT,
        saved_bytes INTEGER,
        cost_usd REAL,
        error TEXT,
        batch_journal TEXT,
        batch_job TEXT
    );
    CREATE INDEX jobs_by_time ON jobs (created_at);
    CREATE INDEX jobs_by_request_id ON jobs (request_id);
    CREATE INDEX jobs_by_digest ON jobs (input_digest, created_at);
    CREATE INDEX jobs_by_batch ON jobs (batch_journal, batch_job);
    CREATE TABLE job_events (
        key TEXT NOT NULL,
        at INTEGER NOT NULL,
        state TEXT NOT NULL,
        detail TEXT
    );
    CREATE INDEX job_events_by_key ON job_events (key, at);",
];

/// The schema version this code writes.
pub(crate) const VERSION: i64 = MIGRATIONS.len() as i64;

/// Opens `path` (creating it and its directory), and migrates it.
pub(crate) fn open(path: &Path, busy_timeout: Duration) -> Result<Connection, Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir).map_err(|e| {
            Error::new(
                ErrorKind::ReadOnly,
                path,
                format!("cannot create its directory {}: {e}", dir.display()),
            )
        })?;
    }
    let sqlite = |e: rusqlite::Error| Error::sqlite(path, &e);
    let mut connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite)?;
    connection.busy_timeout(busy_timeout).map_err(sqlite)?;
    // The journal mode is stored in the file: only the first opener really changes it.
    let mode: String = connection
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(sqlite)?;
    if !mode.eq_ignore_ascii_case("wal") {
        // A file system without shared memory (some network mounts) keeps the rollback journal:
        // slower, still safe for several processes.
        connection
            .pragma_update(None, "journal_mode", "DELETE")
            .map_err(sqlite)?;
    }
    connection
        .pragma_update(None, "synchronous", "FULL")
        .map_err(sqlite)?;
    migrate(&mut connection, path)?;
    Ok(connection)
}

/// Applies the missing migrations; refuses a file that is not ours or is newer than this code.
fn migrate(connection: &mut Connection, path: &Path) -> Result<(), Error> {
    let sqlite = |e: rusqlite::Error| Error::sqlite(path, &e);
    let read = |connection: &Connection| -> rusqlite::Result<(i32, i64, i64)> {
        let id = connection.query_row("PRAGMA application_id", [], |r| r.get(0))?;
        let version = connection.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let tables = connection.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )?;
        Ok((id, version, tables))
    };
    // Most opens find the ledger up to date: check without taking the write lock.
    let (id, version, _) = read(connection).map_err(sqlite)?;
    if id == APPLICATION_ID && version == VERSION {
        return Ok(());
    }
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sqlite)?;
    let (id, version, tables) = read(&transaction).map_err(sqlite)?;
    if id != APPLICATION_ID && !(id == 0 && version == 0 && tables == 0) {
        return Err(Error::new(
            ErrorKind::Foreign,
            path,
            "a SQLite database that is not a happyhorse ledger; nothing was changed \
             (point HAPPYHORSE_LEDGER or --ledger elsewhere)",
        ));
    }
    if version > VERSION {
        return Err(Error::new(
            ErrorKind::TooNew,
            path,
            format!(
                "written by a newer happyhorse (schema version {version}, this one knows {VERSION}); \
                 nothing was changed"
            ),
        ));
    }
    for (step, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        transaction.execute_batch(sql).map_err(sqlite)?;
        transaction
            .pragma_update(None, "user_version", step as i64 + 1)
            .map_err(sqlite)?;
    }
    transaction
        .pragma_update(None, "application_id", APPLICATION_ID)
        .map_err(sqlite)?;
    transaction.commit().map_err(sqlite)
}

/// Creates `dir` and its parents; on Unix the new directories are the user's alone (0700), as
/// the ledger says what the user has been making.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_is_migrated_once_and_marked_as_ours() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deep/er/ledger.sqlite3");
        let connection = open(&path, Duration::from_secs(1)).unwrap();
        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, VERSION);
        let mode: String = connection
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        drop(connection);
        // Opening again changes nothing.
        open(&path, Duration::from_secs(1)).unwrap();
    }

    #[test]
    fn a_partly_migrated_ledger_is_brought_up_to_date() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite3");
        {
            // Version 0 with our mark: as if a crash came between creating and migrating.
            let connection = Connection::open(&path).unwrap();
            connection
                .pragma_update(None, "application_id", APPLICATION_ID)
                .unwrap();
        }
        let connection = open(&path, Duration::from_secs(1)).unwrap();
        let tables: i64 = connection
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name IN ('jobs', 'job_events')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 2);
    }

    #[test]
    fn foreign_and_newer_databases_are_refused_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let foreign = dir.path().join("foreign.db");
        Connection::open(&foreign)
            .unwrap()
            .execute_batch("CREATE TABLE notes (text TEXT)")
            .unwrap();
        let error = open(&foreign, Duration::from_secs(1)).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Foreign, "{error}");

        let newer = dir.path().join("newer.db");
        {
            let connection = open(&newer, Duration::from_secs(1)).unwrap();
            connection
                .pragma_update(None, "user_version", VERSION + 1)
                .unwrap();
        }
        let error = open(&newer, Duration::from_secs(1)).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::TooNew, "{error}");
        assert!(error.to_string().contains("newer happyhorse"), "{error}");
        let version: i64 = Connection::open(&newer)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, VERSION + 1, "left as it was");
    }
}
