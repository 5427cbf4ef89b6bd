//! Signals at the two edges of a submit, made wide by a job ledger that another process holds
//! locked (so each ledger write there waits its bounded 3 s): just before the submit is sent
//! (the intent recorded, nothing sent), and just after its answer (the id known, not yet in the
//! ledger). Whatever moment the signal hits, the ledger and the messages must tell the truth:
//! a job that was never sent is `not_created`, never "may exist"; a job whose id arrived is
//! named by a second signal's last words.

use std::io::BufReader;
use std::path::Path;

use happyhorse_emulator::Emulator;
use happyhorse_ledger::{Filter, JobState, Ledger};

use crate::cases::common::ledger_path;
use crate::cases::forced_exit::{SUBMIT, spawn_at, stderr_until, wait_for};
use crate::cases::jobs::{Emu, horse, send_signal};
use crate::cases::stranger::Stranger;

/// Another process's write lock on the ledger in `dir` (created first), held until dropped.
struct LedgerLock(rusqlite::Connection);

impl LedgerLock {
    fn take(dir: &Path) -> Self {
        drop(Ledger::open(ledger_path(dir)).unwrap());
        let holder = rusqlite::Connection::open(ledger_path(dir)).unwrap();
        holder.execute_batch("BEGIN IMMEDIATE").unwrap();
        Self(holder)
    }
}

impl Drop for LedgerLock {
    fn drop(&mut self) {
        let _ = self.0.execute_batch("ROLLBACK");
    }
}

/// Whether process `pid` handles SIGTERM (the `SigCgt` mask of `/proc/PID/status`): the command
/// has installed its signal handlers, which it does just before it may submit.
#[cfg(target_os = "linux")]
fn handles_sigterm(pid: u32) -> bool {
    const SIGTERM: u32 = 15;
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                let mask = line.strip_prefix("SigCgt:")?;
                u64::from_str_radix(mask.trim(), 16).ok()
            })
        })
        .is_some_and(|mask| mask & (1 << (SIGTERM - 1)) != 0)
}

#[cfg(target_os = "linux")]
#[test]
fn a_signal_before_the_submit_is_sent_leaves_no_job_that_may_exist() {
    let emu = Emu::start(Emulator::builder().time_scale(1000.0));
    let dir = tempfile::tempdir().unwrap();
    let lock = LedgerLock::take(dir.path());
    let horse = horse();
    let child = emu.spawn(
        dir.path(),
        &["run", "--image", &horse, "--prompt", "early", "-o", "v.mp4"],
    );
    // From here the command records its intent (held up by the lock) and then submits.
    wait_for("the command handles signals", || {
        handles_sigterm(child.id())
    });
    send_signal(&child, "TERM");
    drop(lock);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stderr}");

    let entries = Ledger::open(ledger_path(dir.path()))
        .unwrap()
        .jobs(&Filter::default())
        .unwrap();
    if emu.emulator().stats().submissions_total == 0 {
        assert!(stderr.contains("nothing was sent"), "{stderr}");
        for entry in &entries {
            assert_eq!(
                entry.state,
                JobState::NotCreated,
                "never sent, so never `may exist`: {entry:?}"
            );
        }
    } else {
        // The signal came after the submit: SIGTERM waited for the id, which is recorded.
        assert!(entries[0].request_id.is_some(), "{entries:?}");
    }
}

#[test]
fn a_second_signal_while_the_ledger_takes_the_id_still_names_the_job() {
    // The submit's answer is held until the ledger is locked; the job then stays queued.
    let stranger = Stranger::start();
    stranger
        .on(SUBMIT, &[(200, r#"{"request_id":"req-1"}"#)])
        .on(
            "GET /v1/requests/req-1/status",
            &[(200, r#"{"status":"in_queue","queue_position":1}"#)],
        )
        .hold(SUBMIT);
    let dir = tempfile::tempdir().unwrap();
    let horse = horse();
    let mut child = spawn_at(
        &stranger,
        dir.path(),
        &[
            "-v", "run", "--image", &horse, "--prompt", "late", "-o", "v.mp4",
        ],
    );
    wait_for("the submit arrives", || stranger.hits(SUBMIT) == 1);
    // The intent is in (it precedes the submit); the id's write will wait for this lock.
    let lock = LedgerLock::take(dir.path());
    stranger.release(SUBMIT);
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = stderr_until(&mut stderr, "recording the request id in the job ledger");
    let id = seen
        .lines()
        .last()
        .and_then(|line| line.split("request_id=").nth(1))
        .map(|id| id.trim().trim_matches('"').to_owned())
        .unwrap_or_else(|| panic!("no id in {seen}"));
    // Two different signals, so that neither can swallow the other.
    send_signal(&child, "TERM");
    send_signal(&child, "HUP");
    std::io::Read::read_to_string(&mut stderr, &mut seen).unwrap();
    let code = child.wait().unwrap().code();
    drop(lock);
    assert!(matches!(code, Some(143 | 129)), "{code:?}: {seen}");
    assert!(seen.contains("interrupted again: exiting now"), "{seen}");
    assert!(
        seen.contains(&format!("job {id} goes on at the service"))
            && seen.contains(&format!(
                "happyhorse --base-url {} cancel {id}",
                stranger.base
            )),
        "the last words name the job: {seen}"
    );
}
