//! The token stays out of everything the CLI prints, even at `-vv` (HTTP-level tracing of every
//! crate): through a job with retried faults, and through a refusal of the token itself.

use std::time::Duration;

use happyhorse_emulator::{Emulator, Endpoint, FaultKind, ProcessingTime};

use crate::cases::common::horse_png;
use crate::cases::jobs::Emu;

const CANARY: &str = "canary-9c2b7e-do-not-log";

fn run_verbose(emu: &Emu, dir: &std::path::Path) -> (Option<i32>, String) {
    let output = emu
        .cli(dir)
        .env("RUNCOMFY_API_TOKEN", CANARY)
        .env_remove("RUST_LOG")
        .args(["-vv", "run", "--poll-interval", "50ms", "--image"])
        .arg(horse_png())
        .args(["--prompt", "A horse", "-o", "horse.mp4"])
        .output()
        .unwrap();
    let printed = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), printed)
}

#[test]
fn the_token_is_in_no_output_at_the_highest_verbosity() {
    let emu = Emu::start(
        Emulator::builder()
            .processing_time(ProcessingTime::Fixed(Duration::from_secs(60)))
            .time_scale(1000.0)
            .tokens([CANARY]),
    );
    emu.emulator()
        .inject_fault(Endpoint::Status, FaultKind::Http503);
    let dir = tempfile::tempdir().unwrap();
    let (code, printed) = run_verbose(&emu, dir.path());
    assert_eq!(code, Some(0), "{printed}");
    // The trace really was on: reqwest's and our own HTTP-level lines are there.
    assert!(printed.contains("TRACE"), "no trace output:\n{printed}");
    assert!(printed.contains("/v1/requests/"), "{printed}");
    assert!(
        printed.contains("retrying") && printed.contains("(HTTP 503"),
        "the retried fault is logged:\n{printed}"
    );
    assert!(!printed.contains(CANARY), "the token leaked:\n{printed}");
    assert!(
        std::fs::metadata(dir.path().join("horse.mp4"))
            .unwrap()
            .len()
            > 0,
        "the job ran to its video"
    );
}

#[test]
fn a_refused_token_is_not_echoed_at_the_highest_verbosity() {
    let emu = Emu::start(Emulator::builder().tokens(["the-only-good-token"]));
    let dir = tempfile::tempdir().unwrap();
    let (code, printed) = run_verbose(&emu, dir.path());
    assert_ne!(code, Some(0), "{printed}");
    assert!(
        printed.contains("the API token was refused"),
        "the refusal is explained:\n{printed}"
    );
    assert!(!printed.contains(CANARY), "the token leaked:\n{printed}");
    assert_eq!(
        emu.emulator().stats().submissions_total,
        0,
        "no job was created"
    );
}
