//! Several processes write one ledger at once — opening a new file together, so they also race
//! to create and migrate it — while this process reads it; nothing is lost or mixed up.
//!
//! The writers are this test binary run again with [`CHILD`] set (only `child_writer` then does
//! anything). They start together when the parent creates a `go` file.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use happyhorse_ledger::{Filter, Intent, JobState, Ledger};

const CHILD: &str = "HAPPYHORSE_LEDGER_TEST_CHILD";
const WRITERS: usize = 6;
const JOBS_EACH: usize = 40;
const BASE: &str = "http://127.0.0.1:1";

/// A writer process: `CHILD` is `<ledger>;<writer number>;<go file>`.
#[test]
fn child_writer() {
    let Ok(spec) = std::env::var(CHILD) else {
        return;
    };
    let parts: Vec<&str> = spec.split(';').collect();
    let (path, writer, go) = (Path::new(parts[0]), parts[1], Path::new(parts[2]));
    while !go.exists() {
        std::thread::sleep(Duration::from_millis(1));
    }
    let ledger = Ledger::open(path).unwrap();
    for job in 0..JOBS_EACH {
        let intent = Intent::new(format!("writer-{writer}"), "m", BASE)
            .input_digest(format!("sha256:{writer}-{job}"));
        let (key, receipt) = ledger.intent(intent);
        // Half the jobs wait for each write, half let the group commit take them.
        let durable = job % 2 == 0;
        let settle = |receipt: happyhorse_ledger::Receipt| {
            if durable {
                receipt.wait().unwrap();
            } else {
                drop(receipt);
            }
        };
        settle(receipt);
        settle(ledger.submitted(&key, &format!("w{writer}-j{job}")));
        settle(ledger.state(&key, JobState::Running, None));
        settle(ledger.state(&key, JobState::Succeeded, None));
    }
    ledger.flush().wait().unwrap();
}

fn spawn_writer(path: &Path, writer: usize, go: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["child_writer", "--exact", "--test-threads=1", "--nocapture"])
        .env(
            CHILD,
            format!("{};{writer};{}", path.display(), go.display()),
        )
        .spawn()
        .unwrap()
}

#[test]
fn several_processes_write_a_new_ledger_at_once_and_every_record_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("state/happyhorse/ledger.sqlite3");
    let go = dir.path().join("go");
    let mut children: Vec<_> = (0..WRITERS)
        .map(|writer| spawn_writer(&path, writer, &go))
        .collect();
    std::fs::write(&go, b"").unwrap();
    for child in &mut children {
        assert!(child.wait().unwrap().success(), "a writer failed");
    }

    let ledger = Ledger::open(&path).unwrap();
    let jobs = ledger.jobs(&Filter::default()).unwrap();
    assert_eq!(jobs.len(), WRITERS * JOBS_EACH);
    for writer in 0..WRITERS {
        for job in 0..JOBS_EACH {
            let id = format!("w{writer}-j{job}");
            let entry = ledger
                .job(Some(BASE), &id)
                .unwrap()
                .unwrap_or_else(|| panic!("{id} is missing"));
            assert_eq!(entry.state, JobState::Succeeded, "{id}");
            assert_eq!(entry.origin, format!("writer-{writer}"));
            assert_eq!(
                entry.input_digest.as_deref(),
                Some(format!("sha256:{writer}-{job}").as_str()),
                "{id} carries its own digest"
            );
        }
    }
}

#[test]
fn a_reader_is_never_blocked_by_writers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite3");
    let reader = Ledger::open(&path).unwrap();
    let go = dir.path().join("go");
    let mut children: Vec<_> = (0..3)
        .map(|writer| spawn_writer(&path, writer, &go))
        .collect();
    std::fs::write(&go, b"").unwrap();
    // Read while they write: no read fails with "busy", and every answer is a consistent
    // snapshot (never more jobs than exist).
    loop {
        let running: Vec<_> = children
            .iter_mut()
            .filter_map(|c| c.try_wait().unwrap().is_none().then_some(()))
            .collect();
        let jobs = reader.jobs(&Filter::default()).unwrap();
        assert!(jobs.len() <= 3 * JOBS_EACH);
        assert!(jobs.iter().all(|job| job.origin.starts_with("writer-")));
        if running.is_empty() {
            break;
        }
    }
    for child in &mut children {
        assert!(child.wait().unwrap().success());
    }
    assert_eq!(
        reader.jobs(&Filter::default()).unwrap().len(),
        3 * JOBS_EACH
    );
}
