//! A ledger that cannot be used says why, classified, naming its file — and changes nothing:
//! garbage in the file, damaged pages, a place that cannot be written, a lock held too long.

use std::time::Duration;

use happyhorse_ledger::{ErrorKind, Filter, Intent, JobState, Ledger};
use rusqlite::Connection;

const SHORT: Duration = Duration::from_millis(200);

fn intent() -> Intent {
    Intent::new("run", "m", "http://127.0.0.1:1")
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let garbage = b"this is a video, not a database\n".repeat(200);
    std::fs::write(&path, &garbage).unwrap();
    let error = Ledger::open(&path).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Corrupt, "{error}");
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "{error}"
    );
    assert!(error.to_string().contains("move it aside"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), garbage);
}

#[test]
fn damaged_pages_give_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    {
        let ledger = Ledger::open(&path).unwrap();
        for i in 0..300 {
            let (key, _) = ledger.intent(intent().input_digest(format!("sha256:{i:060}")));
            drop(ledger.submitted(&key, &format!("r{i}")));
        }
        ledger.flush().wait().unwrap();
    }
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 8192, "the ledger spans several pages");
    // Page 1 (the header and schema) survives; the pages after it do not.
    for byte in &mut bytes[4096..] {
        *byte = 0x5a;
    }
    std::fs::write(&path, &bytes).unwrap();
    match Ledger::open(&path) {
        Err(error) => assert_eq!(error.kind(), ErrorKind::Corrupt, "{error}"),
        Ok(ledger) => {
            let error = ledger.jobs(&Filter::default()).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Corrupt, "{error}");
            let (key, receipt) = ledger.intent(intent());
            let error = receipt.wait().unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Corrupt, "{error}");
            // The ledger keeps answering (with errors), it does not stop.
            assert!(ledger.state(&key, JobState::Running, None).wait().is_err());
        }
    }
}

#[test]
fn a_place_that_cannot_be_written_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // The state "directory" is a file: nothing can be created under it.
    let file = dir.path().join("state");
    std::fs::write(&file, b"").unwrap();
    let error = Ledger::open(file.join("happyhorse/ledger.sqlite3")).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ReadOnly, "{error}");
    assert!(
        error.to_string().contains("cannot create its directory"),
        "{error}"
    );

    // The ledger's name is taken by a directory.
    let taken = dir.path().join("taken.sqlite3");
    std::fs::create_dir(&taken).unwrap();
    let error = Ledger::open(&taken).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ReadOnly, "{error}");
}

#[cfg(unix)]
#[test]
fn a_read_only_directory_is_refused_unless_privileged() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let locked_dir = dir.path().join("ro");
    std::fs::create_dir(&locked_dir).unwrap();
    std::fs::set_permissions(&locked_dir, std::fs::Permissions::from_mode(0o500)).unwrap();
    let privileged = std::fs::write(locked_dir.join("probe"), b"").is_ok();
    let result = Ledger::open(locked_dir.join("ledger.sqlite3"));
    std::fs::set_permissions(&locked_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    if privileged {
        // Root writes anywhere: the case cannot arise (the test above covers unwritable places).
        assert!(result.is_ok());
        return;
    }
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ReadOnly, "{error}");
}

#[test]
fn a_lock_held_too_long_fails_the_open_of_a_new_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let holder = Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let error = Ledger::open_with(&path, SHORT).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Locked, "{error}");
    assert!(
        error
            .to_string()
            .contains("another process holds it locked"),
        "{error}"
    );
    holder.execute_batch("ROLLBACK").unwrap();
    Ledger::open_with(&path, SHORT).unwrap();
}

#[test]
fn writes_fail_while_another_process_holds_the_lock_and_recover_after() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let ledger = Ledger::open_with(&path, SHORT).unwrap();
    let holder = Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();

    let (key, receipt) = ledger.intent(intent());
    let error = receipt.wait().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Locked, "{error}");
    // Reading still works under a writer's lock (WAL).
    assert!(ledger.jobs(&Filter::default()).unwrap().is_empty());

    holder.execute_batch("ROLLBACK").unwrap();
    let (_, receipt) = ledger.intent(intent());
    receipt.wait().unwrap();
    assert_eq!(ledger.jobs(&Filter::default()).unwrap().len(), 1);
    // The job whose intent was lost is simply unknown to the ledger; updating it does nothing.
    ledger.state(&key, JobState::Running, None).wait().unwrap();
    assert_eq!(ledger.jobs(&Filter::default()).unwrap().len(), 1);
}
