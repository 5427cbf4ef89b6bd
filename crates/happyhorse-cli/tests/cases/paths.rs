//! Output paths are checked before anything is paid for: `run -o`, `wait -o` and a batch's
//! files are refused with exit 73, naming the path and why, while the emulator proves that
//! nothing was sent and the test proves that nothing was changed.

use std::path::Path;
use std::time::Duration;

use happyhorse_emulator::{Emulator, ProcessingTime};

use crate::cases::batch::{batch, jobs_file};
use crate::cases::jobs::{Emu, horse, read_until, rest};

fn refused(output: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(73), "{stderr}");
    assert!(stderr.contains("nothing was sent"), "{stderr}");
    stderr
}

fn run_to(emu: &Emu, dir: &Path, output: &str, extra: &[&str]) -> std::process::Output {
    emu.cli(dir)
        .args(["run", "--image", &horse(), "--prompt", "x", "-o", output])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn run_refuses_an_output_that_cannot_hold_a_video_before_sending_anything() {
    let emu = Emu::start(Emulator::builder().time_scale(1000.0));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("videos")).unwrap();
    std::fs::write(d.join("old.mp4"), b"an earlier video").unwrap();
    std::fs::write(d.join("file"), b"").unwrap();

    let cases: Vec<(&str, &str)> = vec![
        ("/", "is the root directory"),
        (
            "old.mp4",
            "a file is already there; pass --force to replace it",
        ),
        ("file/video.mp4", "is not a directory"),
        ("/dev/null", "special file"),
    ];
    for (path, why) in &cases {
        let stderr = refused(&run_to(&emu, d, path, &[]));
        assert!(
            stderr.contains(path) && stderr.contains(why),
            "{path}: {stderr}"
        );
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(d.join("old.mp4"), d.join("link.mp4")).unwrap();
        let stderr = refused(&run_to(&emu, d, "link.mp4", &["--force"]));
        assert!(stderr.contains("symbolic link"), "{stderr}");
    }
    assert_eq!(emu.emulator().stats().requests_total, 0, "nothing was sent");
    assert_eq!(
        std::fs::read(d.join("old.mp4")).unwrap(),
        b"an earlier video"
    );

    // With --force an existing video is replaced; a missing directory is created.
    let replaced = run_to(&emu, d, "old.mp4", &["--force", "--poll-interval", "20ms"]);
    assert!(
        replaced.status.success(),
        "{}",
        String::from_utf8_lossy(&replaced.stderr)
    );
    assert_ne!(
        std::fs::read(d.join("old.mp4")).unwrap(),
        b"an earlier video"
    );
    let nested = run_to(&emu, d, "new/dir/v.mp4", &["--poll-interval", "20ms"]);
    assert!(
        nested.status.success(),
        "{}",
        String::from_utf8_lossy(&nested.stderr)
    );
    assert!(d.join("new/dir/v.mp4").is_file());
    // A directory (existing, or written with a trailing slash) receives the video inside it.
    for dir in ["videos", "fresh/"] {
        let into = run_to(&emu, d, dir, &["--poll-interval", "20ms"]);
        assert!(
            into.status.success(),
            "{dir}: {}",
            String::from_utf8_lossy(&into.stderr)
        );
        assert_eq!(std::fs::read_dir(d.join(dir)).unwrap().count(), 1, "{dir}");
    }
}

#[test]
fn wait_refuses_an_existing_output_before_asking_anything() {
    let emu = Emu::start(Emulator::builder().time_scale(1000.0));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("taken.mp4"), b"keep").unwrap();
    let output = emu
        .cli(dir.path())
        .args([
            "wait",
            "9a082d01-7be7-a6d9-8177-bd6acc68bbbb",
            "-o",
            "taken.mp4",
        ])
        .output()
        .unwrap();
    let stderr = refused(&output);
    assert!(stderr.contains("taken.mp4"), "{stderr}");
    assert_eq!(emu.emulator().stats().requests_total, 0);
}

/// A jobs file whose line 2 names its output `output`.
fn jobs_with_output(dir: &Path, output: &str) {
    let text = format!(
        "{{\"id\":\"a\",\"image_url\":\"https://example.com/h.webp\",\"prompt\":\"a\"}}\n\
         {{\"id\":\"b\",\"output\":\"{output}\",\"image_url\":\"https://example.com/h.webp\",\"prompt\":\"b\"}}\n"
    );
    std::fs::write(dir.join("jobs.jsonl"), text).unwrap();
}

#[test]
fn a_batch_whose_files_are_one_file_is_refused_naming_both() {
    let emu = Emu::start(Emulator::builder().time_scale(1000.0));
    for (output, other) in [
        ("happyhorse-batch.journal", "the journal"),
        ("happyhorse-batch-report.json", "the report"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        jobs_with_output(dir.path(), output);
        let stderr = refused(&batch(&emu, dir.path(), &[]));
        assert!(
            stderr.contains(other)
                && stderr.contains(&format!("line 2 (b) output {output}"))
                && stderr.contains("are the same file"),
            "{stderr}"
        );
        assert!(
            !dir.path().join("out").join(output).exists(),
            "nothing was written"
        );
    }

    // The jobs file itself, inside --out-dir, named as an output or as the journal.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    jobs_with_output(&dir.path().join("out"), "jobs.jsonl");
    let jobs_before = std::fs::read(dir.path().join("out/jobs.jsonl")).unwrap();
    let output = emu
        .cli(dir.path())
        .args(["batch", "out/jobs.jsonl", "--out-dir", "out"])
        .output()
        .unwrap();
    let stderr = refused(&output);
    assert!(
        stderr.contains("the jobs file out/jobs.jsonl and line 2 (b) output jobs.jsonl"),
        "{stderr}"
    );
    let output = emu
        .cli(dir.path())
        .args([
            "batch",
            "out/jobs.jsonl",
            "--out-dir",
            "out",
            "--journal",
            "out/../out/jobs.jsonl",
        ])
        .output()
        .unwrap();
    let stderr = refused(&output);
    assert!(
        stderr.contains("the jobs file out/jobs.jsonl and the journal"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("out/jobs.jsonl")).unwrap(),
        jobs_before
    );
    assert_eq!(emu.emulator().stats().requests_total, 0, "nothing was sent");
}

#[test]
fn a_batch_does_not_replace_files_it_did_not_write_unless_forced() {
    let emu = Emu::start(Emulator::builder().time_scale(1000.0));
    let dir = tempfile::tempdir().unwrap();
    jobs_file(dir.path(), "foreign", 2);
    std::fs::create_dir(dir.path().join("out")).unwrap();
    std::fs::write(dir.path().join("out/job-001.mp4"), b"someone else's").unwrap();
    let stderr = refused(&batch(&emu, dir.path(), &[]));
    assert!(
        stderr.contains("did not write") && stderr.contains("line 2 (job-001) output job-001.mp4"),
        "{stderr}"
    );
    assert_eq!(emu.emulator().stats().requests_total, 0);

    let forced = batch(&emu, dir.path(), &["--force"]);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert_ne!(
        std::fs::read(dir.path().join("out/job-001.mp4")).unwrap(),
        b"someone else's"
    );
    // A rerun finds its own videos there: no --force needed.
    let rerun = batch(&emu, dir.path(), &[]);
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
}

#[test]
fn a_batch_refuses_an_out_dir_that_is_a_file_and_a_directory_where_a_video_goes() {
    let emu = Emu::start(Emulator::builder().time_scale(1000.0));
    let dir = tempfile::tempdir().unwrap();
    jobs_file(dir.path(), "dirs", 2);
    std::fs::write(dir.path().join("out"), b"").unwrap();
    let stderr = refused(&batch(&emu, dir.path(), &[]));
    assert!(
        stderr.contains("--out-dir out: is not a directory"),
        "{stderr}"
    );
    std::fs::remove_file(dir.path().join("out")).unwrap();
    std::fs::create_dir_all(dir.path().join("out/job-000.mp4")).unwrap();
    let stderr = refused(&batch(&emu, dir.path(), &["--force"]));
    assert!(
        stderr.contains("line 1 (job-000) output job-000.mp4") && stderr.contains("is a directory"),
        "{stderr}"
    );
    assert_eq!(emu.emulator().stats().requests_total, 0);
}

#[test]
fn a_file_that_appears_at_the_output_while_the_job_runs_is_not_replaced() {
    // The emulator's clock moves only when the test says: the job runs until then.
    let emu = Emu::start(
        Emulator::builder()
            .manual_clock(true)
            .processing_time(ProcessingTime::Fixed(Duration::from_secs(60))),
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
            "race",
            "-o",
            "v.mp4",
        ],
    );
    let (reader, seen) = read_until(&mut child, "running");
    let id = seen[0]["request_id"].as_str().unwrap().to_owned();
    // Another command (or the user) writes the same name while the job runs.
    std::fs::write(dir.path().join("v.mp4"), b"someone else's video").unwrap();
    emu.emulator().advance(Duration::from_secs(61));
    let events = rest(reader);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(74), "{stderr}");
    assert_eq!(
        std::fs::read(dir.path().join("v.mp4")).unwrap(),
        b"someone else's video"
    );
    assert!(
        stderr.contains("a file is there that this command did not write")
            && stderr.contains("it was not replaced")
            && stderr.contains(&format!(
                "happyhorse --base-url {} wait {id} -o v.mp4",
                emu.emulator().base_url()
            )),
        "{stderr}"
    );
    let last = events.last().unwrap();
    assert_eq!(last["request_id"], id.as_str(), "{events:?}");
    assert_eq!(emu.emulator().stats().submissions_total, 1);
}
