//! End to end against a stranger (`stranger.rs`) answering the way a careless or hostile server
//! might — found by review after the one reader landed. Each case used to lose a paid job,
//! invite paying twice, overwrite a file, mislead, or let the server drive the terminal.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::common::{exit, happyhorse, horse_png, text};
use super::jobs::interrupt;
use super::stranger::{Stranger, file_body};

const RESULT: &str = "GET /v1/requests/req-1/result";
const STATUS: &str = "GET /v1/requests/req-1/status";
const CANCEL: &str = "POST /v1/requests/req-1/cancel";
const SUBMIT: &str = "POST /v1/models/happyhorse/happyhorse-1.0/image-to-video";

#[test]
fn a_job_reported_in_other_words_or_case_ends_with_its_video() {
    let stranger = Stranger::start();
    // More answers than the unrecognised-status limit (20): the job used to be abandoned.
    let mut answers = vec![(200, r#"{"status":"Pending"}"#)];
    answers.extend([(200, r#"{"status":"processing"}"#); 25]);
    answers.push((
        200,
        r#"{"status":"SUCCEEDED","output":{"video":"{base}/files/v.mp4"}}"#,
    ));
    stranger
        .on(RESULT, &answers)
        .on(STATUS, &[(200, r#"{"status":" IN-PROGRESS "}"#)]);
    let dir = tempfile::tempdir().unwrap();
    let run = stranger.cli(dir.path(), &["wait", "req-1", "--poll-interval", "10ms"]);
    exit(&run, 0);
    assert_eq!(
        std::fs::read(dir.path().join("req-1.mp4")).unwrap(),
        file_body("v.mp4")
    );
    assert!(
        !text(&run.stderr).contains("does not know"),
        "{}",
        text(&run.stderr)
    );
}

#[test]
fn a_submit_answer_with_error_code_0_is_the_job_not_a_refusal() {
    let stranger = Stranger::start();
    stranger
        .on(
            SUBMIT,
            &[(
                200,
                r#"{"error_code":0,"error_message":"success","request_id":"req-1"}"#,
            )],
        )
        .on(STATUS, &[(200, r#"{"status":"Completed"}"#)])
        .on(
            RESULT,
            &[(
                200,
                r#"{"status":"succeeded","output":"{base}/files/v.mp4"}"#,
            )],
        );
    let dir = tempfile::tempdir().unwrap();
    let image = horse_png().display().to_string();
    let run = stranger.cli(
        dir.path(),
        &[
            "run",
            "--image",
            &image,
            "--prompt",
            "The horse trots",
            "--poll-interval",
            "10ms",
        ],
    );
    exit(&run, 0);
    assert!(dir.path().join("req-1.mp4").is_file());
    assert_eq!(stranger.hits(SUBMIT), 1);
}

#[test]
fn a_cancel_refused_with_its_verdict_exits_0_with_that_verdict() {
    let stranger = Stranger::start();
    stranger.on(
        CANCEL,
        &[(
            409,
            r#"{"request_id":"req-1","status":"in_progress","outcome":"not_cancellable"}"#,
        )],
    );
    let dir = tempfile::tempdir().unwrap();
    let run = stranger.cli(dir.path(), &["cancel", "req-1"]);
    exit(&run, 0);
    assert!(
        text(&run.stdout).contains("already running and will be billed"),
        "{}",
        text(&run.stdout)
    );
    // A refusal without a verdict is an error, and says nothing about an input.
    stranger.on(CANCEL, &[(400, r#"{"error_message":"bad request"}"#)]);
    let run = stranger.cli(dir.path(), &["cancel", "req-1"]);
    assert_ne!(run.status.code(), Some(0));
    assert!(
        !text(&run.stderr).contains("check the input"),
        "{}",
        text(&run.stderr)
    );
}

#[test]
fn a_success_without_output_exits_13_and_never_says_wait_or_resume() {
    let stranger = Stranger::start();
    stranger.on(RESULT, &[(200, r#"{"status":"succeeded","output":null}"#)]);
    let dir = tempfile::tempdir().unwrap();
    let run = stranger.cli(dir.path(), &["wait", "req-1", "--poll-interval", "10ms"]);
    exit(&run, 13);
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains("succeeded, but its output holds no file URL"),
        "{stderr}"
    );
    for misleading in ["resume", "wait req-1", "too old", "may still be running"] {
        assert!(!stderr.contains(misleading), "{misleading:?} in: {stderr}");
    }
    let result = stranger.cli(dir.path(), &["result", "req-1"]);
    exit(&result, 13);
    assert!(
        text(&result.stdout).contains("succeeded, but its output holds no file URL"),
        "{}",
        text(&result.stdout)
    );
}

#[test]
fn an_output_url_with_an_unencoded_space_is_downloaded() {
    let stranger = Stranger::start();
    stranger.on(
        RESULT,
        &[(
            200,
            r#"{"status":"succeeded","output":{"video":"{base}/files/my clip.mp4"}}"#,
        )],
    );
    let dir = tempfile::tempdir().unwrap();
    let run = stranger.cli(dir.path(), &["wait", "req-1"]);
    exit(&run, 0);
    assert_eq!(
        std::fs::read(dir.path().join("req-1.mp4")).unwrap(),
        file_body("my%20clip.mp4")
    );
}

#[test]
fn the_resume_command_runs_as_printed_against_the_same_service() {
    let stranger = Stranger::start();
    stranger.on(RESULT, &[(200, r#"{"status":"in_progress"}"#)]);
    let dir = tempfile::tempdir().unwrap();
    let output = "my videos/it's \"here\".mp4";
    let args = [
        "wait",
        "req-1",
        "--poll-interval",
        "10ms",
        "--timeout",
        "200ms",
        "-o",
        output,
    ];
    let run = stranger.cli(dir.path(), &args);
    exit(&run, 75);
    let stderr = text(&run.stderr);
    let resume = stderr
        .lines()
        .find_map(|line| line.strip_prefix("resume with: "))
        .unwrap_or_else(|| panic!("no resume line: {stderr}"));
    let words = shlex::split(resume).unwrap_or_else(|| panic!("not a shell command: {resume}"));
    assert_eq!(
        words,
        [
            "happyhorse",
            "--base-url",
            &stranger.base,
            "wait",
            "req-1",
            "-o",
            output
        ],
        "{resume}"
    );
    let mut json_args = vec!["--json"];
    json_args.extend(args);
    let json = stranger.cli(dir.path(), &json_args);
    let last: Value = serde_json::from_str(text(&json.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(last["resume"], resume, "{last}");
}

#[test]
fn logs_at_vv_cannot_drive_the_terminal() {
    let stranger = Stranger::start();
    stranger.on(
        RESULT,
        &[
            (200, r#"{"status":"x\u001b]0;pwned\u0007"}"#),
            (
                200,
                r#"{"status":"failed","error":"boom\u001b[2J\u009b1m"}"#,
            ),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let run = stranger.cli(
        dir.path(),
        &["-vv", "wait", "req-1", "--poll-interval", "10ms"],
    );
    exit(&run, 10);
    let stderr = text(&run.stderr);
    assert!(stderr.contains("DEBUG"), "logs were written: {stderr}");
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{9b}') && !stderr.contains('\u{7}'),
        "{stderr:?}"
    );
}

#[test]
fn a_ctrl_c_during_the_download_says_the_job_is_done_and_how_to_fetch_its_files() {
    let stranger = Stranger::start();
    stranger
        .on(
            RESULT,
            &[(
                200,
                r#"{"status":"succeeded","output":{"video":"{base}/files/v.mp4"}}"#,
            )],
        )
        .hold("GET /files/v.mp4");
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("happyhorse"))
        .env("RUNCOMFY_API_TOKEN", "test-token")
        .env("NO_COLOR", "1")
        .args(["--base-url", &stranger.base, "wait", "req-1"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while stranger.hits("GET /files/v.mp4") == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "never downloaded"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    interrupt(&child);
    let mut stderr = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        stderr.push_str(&line.unwrap());
        stderr.push('\n');
    }
    assert_eq!(child.wait().unwrap().code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("which succeeded")
            && stderr.contains(&format!(
                "download them with: happyhorse --base-url {} wait req-1",
                stranger.base
            )),
        "{stderr}"
    );
    assert!(!stderr.contains("may finish and be billed"), "{stderr}");
}

#[test]
fn in_a_batch_one_jobs_extra_files_never_overwrite_another_jobs_video() {
    let stranger = Stranger::start();
    stranger
        .on(
            SUBMIT,
            &[
                (200, r#"{"request_id":"req-a"}"#),
                (200, r#"{"request_id":"req-b"}"#),
            ],
        )
        .on(
            "GET /v1/requests/req-a/status",
            &[(200, r#"{"status":"completed"}"#)],
        )
        .on(
            "GET /v1/requests/req-b/status",
            &[(200, r#"{"status":"completed"}"#)],
        )
        .on(
            "GET /v1/requests/req-a/result",
            &[(
                200,
                r#"{"status":"succeeded","output":{"videos":["{base}/files/a1.mp4","{base}/files/a2.mp4"]}}"#,
            )],
        )
        .on(
            "GET /v1/requests/req-b/result",
            &[(200, r#"{"status":"succeeded","output":{"video":"{base}/files/b.mp4"}}"#)],
        );
    let dir = tempfile::tempdir().unwrap();
    let line = |id: &str| json!({"id": id, "output": format!("{id}.mp4"), "image_url": "https://example.com/horse.webp", "prompt": "The horse trots"});
    std::fs::write(
        dir.path().join("jobs.jsonl"),
        format!("{}\n{}\n", line("shot"), line("shot-2")),
    )
    .unwrap();
    let run = stranger.cli(
        dir.path(),
        &[
            "batch",
            "jobs.jsonl",
            "--out-dir",
            "out",
            "--concurrency",
            "1",
            "--poll-interval",
            "10ms",
        ],
    );
    exit(&run, 0);
    let read = |name: &str| std::fs::read(dir.path().join("out").join(name)).unwrap();
    assert_eq!(read("shot.mp4"), file_body("a1.mp4"));
    assert_eq!(
        read("shot-2.mp4"),
        file_body("b.mp4"),
        "job shot-2's own video"
    );
    assert_eq!(
        read("shot-3.mp4"),
        file_body("a2.mp4"),
        "job shot's second video"
    );
}

#[test]
fn a_usage_error_echoing_the_users_arguments_cannot_drive_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    // As on a terminal: clap writes its colours (and, before, the argument raw).
    let run = happyhorse(dir.path())
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .args(["run", "--durashun", "x\u{1b}]0;pwned\u{7}\u{1b}[2J"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(64));
    let stderr = text(&run.stderr);
    assert!(stderr.contains("--durashun"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
        "{stderr:?}"
    );
    let run = happyhorse(dir.path())
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .arg("\u{1b}[2Jwat")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(64));
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains("wat") && !stderr.contains('\u{1b}'),
        "{stderr:?}"
    );
}

/// A job that succeeded but whose download failed, so the ledger holds `out.mp4` as its
/// destination, unsaved; then `prepare` puts something at `out.mp4` and `wait --last` resumes.
fn resume_over(prepare: impl Fn(&Path)) -> (tempfile::TempDir, std::process::Output) {
    let stranger = Stranger::start();
    stranger
        .on(STATUS, &[(200, r#"{"status":"completed"}"#)])
        .on(RESULT, &[(200, &succeeded_at("{base}/gone/v.mp4"))]);
    let dir = tempfile::tempdir().unwrap();
    let first = stranger.cli(dir.path(), &["wait", "req-1", "-o", "out.mp4"]);
    assert_ne!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(!dir.path().join("out.mp4").exists());
    stranger.on(RESULT, &[(200, &succeeded_at("{base}/files/v.mp4"))]);
    prepare(dir.path());
    let resumed = stranger.cli(dir.path(), &["wait", "--last"]);
    (dir, resumed)
}

fn succeeded_at(url: &str) -> String {
    format!(r#"{{"status":"succeeded","output":{{"video":"{url}"}}}}"#)
}

#[test]
fn a_video_renamed_into_place_just_before_a_kill_is_the_jobs_own_on_resume() {
    let earlier = file_body("earlier.mp4");
    let leftovers = |dir: &Path, part: bool| {
        std::fs::write(dir.join("out.mp4"), &earlier).unwrap();
        std::fs::write(
            dir.join(".out.mp4.part.json"),
            r#"{"url":"http://127.0.0.1:9/files/v.mp4","etag":null,"total":null}"#,
        )
        .unwrap();
        if part {
            std::fs::write(dir.join(".out.mp4.part"), b"half").unwrap();
        }
    };

    // Killed between the rename and the ledger's record: the description of the partial file
    // remains, the partial file became out.mp4. Resuming downloads again over it.
    let (dir, resumed) = resume_over(|dir| leftovers(dir, false));
    exit(&resumed, 0);
    assert_eq!(
        std::fs::read(dir.path().join("out.mp4")).unwrap(),
        file_body("v.mp4")
    );

    // A partial file still there: out.mp4 is not what the download renamed, so it is refused.
    let (dir, resumed) = resume_over(|dir| leftovers(dir, true));
    exit(&resumed, 73);
    assert_eq!(std::fs::read(dir.path().join("out.mp4")).unwrap(), earlier);

    // The user's own file, with no leftovers of a download: refused, untouched.
    let (dir, resumed) = resume_over(|dir| std::fs::write(dir.join("out.mp4"), &earlier).unwrap());
    exit(&resumed, 73);
    assert!(
        text(&resumed.stderr).contains("already there"),
        "{}",
        text(&resumed.stderr)
    );
    assert_eq!(std::fs::read(dir.path().join("out.mp4")).unwrap(), earlier);

    // Leftovers beside a file that is not whole (cut short): refused, untouched.
    let cut = &earlier[..earlier.len() - 3];
    let (dir, resumed) = resume_over(|dir| {
        leftovers(dir, false);
        std::fs::write(dir.join("out.mp4"), cut).unwrap();
    });
    exit(&resumed, 73);
    assert_eq!(std::fs::read(dir.path().join("out.mp4")).unwrap(), cut);
}
