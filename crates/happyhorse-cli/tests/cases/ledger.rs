//! The job ledger from the outside: `happyhorse jobs` lists what the commands recorded (a lost
//! submit as `unknown`, with what to do), and a ledger that cannot be opened never stops a job.

use std::path::Path;
use std::time::Duration;

use happyhorse_emulator::{Emulator, Endpoint, FaultKind, ProcessingTime};
use serde_json::Value;

use crate::cases::batch::{batch, jobs_file, report};
use crate::cases::jobs::Emu;

fn jobs_json(emu: &Emu, dir: &Path, extra: &[&str]) -> Vec<Value> {
    let output = emu
        .cli(dir)
        .args(["--json", "jobs"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let listing: Value = serde_json::from_slice(&output.stdout).unwrap();
    listing["jobs"].as_array().unwrap().clone()
}

#[test]
fn jobs_lists_a_lost_submit_as_unknown_with_what_to_do_and_the_rest_with_ids() {
    let emu = Emu::start(
        Emulator::builder()
            .workers(4)
            .processing_time(ProcessingTime::Fixed(Duration::from_secs(60)))
            .time_scale(1000.0),
    );
    // The first submit creates its job but its answer is lost.
    emu.emulator()
        .inject_fault(Endpoint::Submit, FaultKind::LostSubmit);
    let dir = tempfile::tempdir().unwrap();
    jobs_file(dir.path(), "listed", 3);
    let run = batch(&emu, dir.path(), &["--concurrency", "1"]);
    assert_eq!(
        run.status.code(),
        Some(12),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        report(&run)["counts"],
        serde_json::json!({"succeeded": 2, "unknown": 1})
    );

    let all = jobs_json(&emu, dir.path(), &[]);
    assert_eq!(all.len(), 3);
    let unknown: Vec<&Value> = all.iter().filter(|j| j["state"] == "unknown").collect();
    assert_eq!(unknown.len(), 1);
    assert!(unknown[0]["request_id"].is_null());
    assert!(
        unknown[0]["next"]
            .as_str()
            .unwrap()
            .contains("check the account's requests"),
        "{}",
        unknown[0]
    );
    for job in all.iter().filter(|j| j["state"] == "succeeded") {
        assert!(
            job["request_id"].is_string() && job["saved"].is_string(),
            "{job}"
        );
        // Absolute, as `run` records it: meaningful from any directory.
        assert!(
            Path::new(job["saved"].as_str().unwrap()).is_absolute(),
            "{job}"
        );
        assert_eq!(job["origin"], "batch");
        assert!(job["next"].is_null());
    }
    assert_eq!(
        jobs_json(&emu, dir.path(), &["--state", "unknown"]).len(),
        1
    );
    assert_eq!(
        jobs_json(
            &emu,
            dir.path(),
            &["--state", "succeeded,failed", "--since", "1h"]
        )
        .len(),
        2
    );
    assert_eq!(jobs_json(&emu, dir.path(), &["--limit", "1"]).len(), 1);

    // For people: a table, and the advice under the unknown job.
    let human = emu.cli(dir.path()).arg("jobs").output().unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.starts_with("state"), "{text}");
    assert!(
        text.contains("unknown") && text.contains("(no id; ledger key "),
        "{text}"
    );
    assert!(
        text.contains("↳ its submit may have created a job"),
        "{text}"
    );
}

#[test]
fn a_ledger_that_cannot_be_opened_is_warned_about_once_and_the_batch_goes_on() {
    let emu = Emu::start(Emulator::builder().time_scale(1000.0));
    let dir = tempfile::tempdir().unwrap();
    jobs_file(dir.path(), "no ledger", 3);
    let corrupt = dir.path().join("corrupt.sqlite3");
    std::fs::write(&corrupt, b"not a database at all\n".repeat(100)).unwrap();
    let blocked = dir.path().join("a-file/ledger.sqlite3");
    std::fs::write(dir.path().join("a-file"), b"").unwrap();
    for (ledger, why) in [
        (&corrupt, "not a database"),
        (&blocked, "cannot create its directory"),
    ] {
        let out = format!("out-{}", ledger.file_name().unwrap().to_string_lossy());
        let run = emu
            .cli(dir.path())
            .env("HAPPYHORSE_LEDGER", ledger)
            .args([
                "batch",
                "jobs.jsonl",
                "--out-dir",
                &out,
                "--poll-interval",
                "20ms",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(0), "{stderr}");
        assert_eq!(stderr.matches("warning: job ledger").count(), 1, "{stderr}");
        assert!(
            stderr.contains(why) && stderr.contains("the job goes on"),
            "{stderr}"
        );
    }
    assert_eq!(
        std::fs::read(&corrupt).unwrap(),
        b"not a database at all\n".repeat(100),
        "a damaged ledger is left as it was"
    );
    assert_eq!(emu.emulator().stats().submissions_total, 6);
}
