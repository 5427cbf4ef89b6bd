//! The ledger at work for one job: `run --once` follows an identical earlier job instead of
//! paying again (and without `--once` a note names it), `wait` with no id resumes the last
//! unfinished job into the file it was started with, and `submit` never loses an id to a stdout
//! that cannot be written.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use happyhorse_emulator::{Emulator, Endpoint, FaultConfig, FaultKind, ProcessingTime};
use happyhorse_ledger::{Filter, JobState, Ledger};

use crate::cases::common::ledger_path;
use crate::cases::jobs::{Emu, horse, read_until, send_signal};

fn run(emu: &Emu, dir: &Path, extra: &[&str]) -> std::process::Output {
    emu.cli(dir)
        .args([
            "run",
            "--poll-interval",
            "20ms",
            "--image",
            &horse(),
            "--prompt",
            "the same horse",
        ])
        .args(extra)
        .output()
        .unwrap()
}

fn ledger(dir: &Path) -> Ledger {
    Ledger::open(ledger_path(dir)).unwrap()
}

#[test]
fn run_once_follows_an_identical_earlier_job_and_without_it_a_note_names_it() {
    let emu = Emu::start(Emulator::builder().time_scale(1000.0));
    let dir = tempfile::tempdir().unwrap();
    let first = run(&emu, dir.path(), &["-o", "a.mp4"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );

    let once = run(&emu, dir.path(), &["--once", "-o", "b.mp4"]);
    let stderr = String::from_utf8_lossy(&once.stderr);
    assert!(once.status.success(), "{stderr}");
    assert!(
        stderr.contains("--once: an identical input was submitted"),
        "{stderr}"
    );
    assert_eq!(
        emu.emulator().stats().submissions_total,
        1,
        "nothing paid twice"
    );
    assert_eq!(
        std::fs::read(dir.path().join("b.mp4")).unwrap(),
        std::fs::read(dir.path().join("a.mp4")).unwrap()
    );

    // Without --once the same input is submitted again (a seed of 0 means "random"), with a note.
    let again = run(&emu, dir.path(), &["-o", "c.mp4"]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    let id = ledger(dir.path()).jobs(&Filter::default()).unwrap()[1]
        .request_id
        .clone()
        .unwrap();
    assert!(
        stderr.contains("note: an identical input was submitted") && stderr.contains(&id),
        "{stderr}"
    );
    assert_eq!(emu.emulator().stats().submissions_total, 2);
}

#[test]
fn run_once_does_not_pay_again_for_an_input_whose_submit_outcome_is_unknown() {
    let emu = Emu::start(Emulator::builder().time_scale(1000.0));
    emu.emulator()
        .inject_fault(Endpoint::Submit, FaultKind::LostSubmit);
    let dir = tempfile::tempdir().unwrap();
    let lost = run(&emu, dir.path(), &[]);
    assert_eq!(lost.status.code(), Some(12));
    let entries = ledger(dir.path()).jobs(&Filter::default()).unwrap();
    assert_eq!(
        (entries[0].state, entries[0].request_id.as_deref()),
        (JobState::OutcomeUnknown, None)
    );

    let once = run(&emu, dir.path(), &["--once"]);
    let stderr = String::from_utf8_lossy(&once.stderr);
    assert_eq!(once.status.code(), Some(12), "{stderr}");
    assert!(
        stderr.contains("its id never reached the job ledger")
            && stderr.contains("Nothing was sent")
            && stderr.contains("only if it is not"),
        "{stderr}"
    );
    assert_eq!(emu.emulator().stats().submissions_total, 1);
    // Without --once it is the user's call: submitted, with a note.
    let again = run(&emu, dir.path(), &[]);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("its outcome is unknown"));
    assert_eq!(emu.emulator().stats().submissions_total, 2);
}

#[test]
fn a_second_run_once_while_the_first_submits_waits_for_its_id_and_pays_nothing() {
    // The first submit's answer is held for 4 s after the job is created.
    let emu = Emu::start(
        Emulator::builder()
            .time_scale(1.0)
            .processing_time(ProcessingTime::Fixed(Duration::from_millis(100)))
            .faults(FaultConfig {
                delay: Duration::from_secs(4),
                ..FaultConfig::default()
            }),
    );
    emu.emulator()
        .inject_fault(Endpoint::Submit, FaultKind::Delay);
    let dir = tempfile::tempdir().unwrap();
    let horse = horse();
    let args = |output: &'static str| {
        [
            "run",
            "--once",
            "--poll-interval",
            "20ms",
            "--image",
            &horse,
            "--prompt",
            "twins",
            "-o",
            output,
        ]
        .map(str::to_owned)
    };
    let first_args = args("first.mp4");
    let first_args: Vec<&str> = first_args.iter().map(String::as_str).collect();
    let first = emu.spawn(dir.path(), &first_args);
    crate::cases::forced_exit::wait_for("the first submit reached the service", || {
        emu.emulator().stats().submissions_total == 1
    });
    // Its intent is in the ledger (written before the submit), its id not yet.
    let second = emu
        .cli(dir.path())
        .args(args("second.mp4"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    assert!(
        stderr.contains("another happyhorse is submitting an identical input right now"),
        "{stderr}"
    );
    let first = first.wait_with_output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(emu.emulator().stats().submissions_total, 1, "paid once");
    assert_eq!(
        std::fs::read(dir.path().join("second.mp4")).unwrap(),
        std::fs::read(dir.path().join("first.mp4")).unwrap()
    );
    let entries = ledger(dir.path()).jobs(&Filter::default()).unwrap();
    assert_eq!(entries.len(), 1, "one job, followed twice: {entries:?}");
}

#[test]
fn wait_without_an_id_resumes_the_last_unfinished_job_into_its_own_file() {
    // Jobs of 2 real seconds: the run is killed while its job runs.
    let emu = Emu::start(
        Emulator::builder()
            .processing_time(ProcessingTime::Fixed(Duration::from_secs(60)))
            .time_scale(30.0),
    );
    let dir = tempfile::tempdir().unwrap();
    let horse = horse();
    let mut child = emu.spawn(
        dir.path(),
        &[
            "--json",
            "run",
            "--poll-interval",
            "20ms",
            "--image",
            &horse,
            "--prompt",
            "killed",
            "-o",
            "videos/killed.mp4",
        ],
    );
    let (_reader, seen) = read_until(&mut child, "running");
    send_signal(&child, "KILL");
    child.wait().unwrap();
    let id = seen[0]["request_id"].as_str().unwrap().to_owned();
    assert!(!dir.path().join("videos/killed.mp4").exists());

    // From another directory, with no id: the ledger knows the job and its file.
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let resumed = emu
        .cli(dir.path())
        .current_dir(&elsewhere)
        .args(["wait", "--poll-interval", "20ms"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "{stderr}");
    assert!(dir.path().join("videos/killed.mp4").is_file(), "{stderr}");
    let entry = ledger(dir.path()).job(None, &id).unwrap().unwrap();
    assert_eq!(entry.state, JobState::Succeeded);
    assert!(entry.saved.is_some());

    // Nothing left to resume; `wait ID` again may re-download into the job's own file.
    let none = emu
        .cli(dir.path())
        .args(["wait", "--last"])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(14));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no unfinished job"));
    let again = emu
        .cli(&elsewhere)
        .env("HAPPYHORSE_LEDGER", ledger_path(dir.path()))
        .args(["wait", &id, "--poll-interval", "20ms"])
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

#[test]
fn submit_and_run_no_wait_never_lose_the_id_to_a_stdout_that_cannot_be_written() {
    let emu = Emu::start(Emulator::builder().time_scale(1000.0));
    let dir = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("happyhorse");
    let horse = horse();
    let submit = |command: &[&str], stdout: Stdio, via_shell_closing_stdout: bool| {
        let mut process = if via_shell_closing_stdout {
            let mut shell = std::process::Command::new("sh");
            shell.args(["-c", "exec \"$0\" \"$@\" >&-"]).arg(&bin);
            shell
        } else {
            std::process::Command::new(&bin)
        };
        crate::cases::common::isolate_state(&mut process, dir.path());
        process
            .env("RUNCOMFY_API_TOKEN", "test-token")
            .args(["--base-url", emu.emulator().base_url()])
            .args(command)
            .args(["--image", &horse, "--prompt", "stdout"])
            .current_dir(dir.path())
            .stdout(stdout)
            .stderr(Stdio::piped());
        process
    };
    // `run --no-wait` is `submit` by another name; quiet or with --json, stdout is the only place
    // its id is shown.
    let commands: [&[&str]; 3] = [
        &["submit"],
        &["-q", "run", "--no-wait"],
        &["--json", "run", "--no-wait"],
    ];
    let mut cases = Vec::new();
    for command in commands {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        cases.push((
            format!("{command:?}, a full disk"),
            submit(command, Stdio::from(full), false).output().unwrap(),
        ));
        cases.push((
            format!("{command:?}, a closed stdout"),
            submit(command, Stdio::inherit(), true).output().unwrap(),
        ));
        // A broken pipe: the reader is gone before the id is written.
        let mut child = submit(command, Stdio::piped(), false).spawn().unwrap();
        drop(child.stdout.take());
        cases.push((
            format!("{command:?}, a broken pipe"),
            child.wait_with_output().unwrap(),
        ));
    }

    let ledger = ledger(dir.path());
    for (what, output) in cases {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{what}: {stderr}");
        let id = stderr
            .split("job ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("{what}: no id in {stderr}"));
        assert!(
            stderr.contains("could not be written to stdout"),
            "{what}: {stderr}"
        );
        assert!(
            stderr.contains(&format!(
                "happyhorse --base-url {} cancel {id}",
                emu.emulator().base_url()
            )),
            "{what}: {stderr}"
        );
        let entry = ledger.job(None, id).unwrap();
        assert!(entry.is_some(), "{what}: {id} is not in the ledger");
    }
    assert_eq!(emu.emulator().stats().submissions_total, 9);
}
