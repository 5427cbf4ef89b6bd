//! End to end against a stranger (`stranger.rs`): every odd but plausible answer of the service
//! ends well — a paid success always yields its files, an accepted cancel exits 0, no message
//! after an ambiguous submit invites paying twice, and nothing from outside reaches the terminal
//! raw.

use std::path::Path;

use serde_json::Value;

use super::common::{exit, happyhorse, horse_png, text};
use super::stranger::{Stranger, file_body};

const RESULT: &str = "GET /v1/requests/req-1/result";
const STATUS: &str = "GET /v1/requests/req-1/status";
const CANCEL: &str = "POST /v1/requests/req-1/cancel";
const SUBMIT: &str = "POST /v1/models/happyhorse/happyhorse-1.0/image-to-video";

fn succeeded(output: &str) -> String {
    format!(r#"{{"status":"succeeded","output":{output}}}"#)
}

#[test]
fn every_output_shape_saves_every_file_and_exits_0() {
    let v = r#""{base}/files/v.mp4""#;
    let i = r#""{base}/files/i.png""#;
    let cases: Vec<(String, Vec<&str>)> = vec![
        (format!(r#"{{"video":{v}}}"#), vec!["req-1.mp4"]),
        (format!(r#"{{"videos":[{v}]}}"#), vec!["req-1.mp4"]),
        (v.to_owned(), vec!["req-1.mp4"]),
        (format!("[{v},{i}]"), vec!["req-1.mp4", "req-1-2.png"]),
        (format!(r#"[{{"url":{v}}}]"#), vec!["req-1.mp4"]),
        (
            format!(r#"{{"data":{{"result":[{{"file":{{"url":{v}}}}}]}}}}"#),
            vec!["req-1.mp4"],
        ),
        (
            format!(r#"{{"image":{i},"video":{v}}}"#),
            vec!["req-1.mp4", "req-1-2.png"],
        ),
        (
            format!(r#"{{"images":[{i}],"videos":[{v},{v}]}}"#),
            vec!["req-1.mp4", "req-1-2.png"],
        ),
    ];
    for (output, expected) in cases {
        let stranger = Stranger::start();
        stranger.on(RESULT, &[(200, &succeeded(&output))]);
        let dir = tempfile::tempdir().unwrap();
        let run = stranger.cli(dir.path(), &["wait", "req-1"]);
        exit(&run, 0);
        let stdout = text(&run.stdout);
        for name in &expected {
            let served = file_body(if name.ends_with(".png") {
                "i.png"
            } else {
                "v.mp4"
            });
            assert_eq!(
                std::fs::read(dir.path().join(name)).unwrap(),
                served,
                "{output}"
            );
            assert!(stdout.contains(name), "{output}: {stdout}");
        }
        assert_eq!(stdout.lines().count(), expected.len(), "{output}: {stdout}");
    }
}

#[test]
fn output_names_a_file_or_a_directory() {
    let stranger = Stranger::start();
    let output = r#"{"video":"{base}/files/v.mp4","image":"{base}/files/i.png"}"#;
    stranger.on(RESULT, &[(200, &succeeded(output))]);
    let dir = tempfile::tempdir().unwrap();
    exit(
        &stranger.cli(dir.path(), &["wait", "req-1", "-o", "horse.mp4"]),
        0,
    );
    assert!(dir.path().join("horse.mp4").is_file());
    assert!(dir.path().join("horse-2.png").is_file());
    std::fs::create_dir(dir.path().join("out")).unwrap();
    exit(
        &stranger.cli(dir.path(), &["wait", "req-1", "-o", "out"]),
        0,
    );
    assert!(dir.path().join("out/req-1.mp4").is_file());
    assert!(dir.path().join("out/req-1-2.png").is_file());
}

#[test]
fn a_success_without_any_url_says_so_shows_the_output_and_exits_13() {
    let stranger = Stranger::start();
    stranger.on(
        RESULT,
        &[(
            200,
            r#"{"status":"succeeded","output":{"note":"all done"}}"#,
        )],
    );
    let dir = tempfile::tempdir().unwrap();
    let run = stranger.cli(dir.path(), &["wait", "req-1"]);
    exit(&run, 13);
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains("succeeded, but its output holds no file URL"),
        "{stderr}"
    );
    assert!(stderr.contains("all done"), "the output is shown: {stderr}");
    assert!(
        !stderr.contains("wait req-1") && !stderr.contains("again"),
        "{stderr}"
    );
    let json = stranger.cli(dir.path(), &["--json", "wait", "req-1"]);
    exit(&json, 13);
    assert!(text(&json.stdout).contains(r#""event":"succeeded_without_files""#));
}

#[test]
fn a_success_without_any_url_is_not_picked_up_again_by_wait_last() {
    let stranger = Stranger::start();
    stranger.on(
        RESULT,
        &[(
            200,
            r#"{"status":"succeeded","output":{"note":"all done"}}"#,
        )],
    );
    let dir = tempfile::tempdir().unwrap();
    exit(
        &stranger.cli(dir.path(), &["wait", "req-1", "-o", "v.mp4"]),
        13,
    );
    let asked = stranger.hits(RESULT);
    // Nothing is left to save: `wait --last` has no unfinished job, and asks nothing.
    let last = stranger.cli(dir.path(), &["wait", "--last"]);
    exit(&last, 14);
    assert!(
        text(&last.stderr).contains("has no unfinished job"),
        "{}",
        text(&last.stderr)
    );
    assert_eq!(stranger.hits(RESULT), asked);
}

#[test]
fn an_id_the_service_does_not_know_is_not_picked_up_again_by_wait_last() {
    // No route answers: every request is `404001` (a mistyped id, or one long expired).
    let stranger = Stranger::start();
    let dir = tempfile::tempdir().unwrap();
    exit(
        &stranger.cli(dir.path(), &["wait", "req-1", "-o", "v.mp4"]),
        14,
    );
    let asked = stranger.hits(RESULT) + stranger.hits(STATUS);
    let last = stranger.cli(dir.path(), &["wait", "--last"]);
    exit(&last, 14);
    assert!(
        text(&last.stderr).contains("has no unfinished job"),
        "{}",
        text(&last.stderr)
    );
    assert_eq!(stranger.hits(RESULT) + stranger.hits(STATUS), asked);
    let listed = stranger.cli(dir.path(), &["--json", "jobs"]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed["jobs"][0]["state"], "gone", "{listed}");
    assert!(listed["jobs"][0]["next"].is_null(), "{listed}");
}

#[test]
fn run_once_of_an_input_whose_job_is_gone_refuses_without_asking_or_paying() {
    // The submit is accepted; every later request is `404001` (the id expired, or a service
    // that briefly forgets a new id). The job may have been billed: `--once` pays no more.
    let stranger = Stranger::start();
    stranger.on(SUBMIT, &[(200, r#"{"request_id":"req-1"}"#)]);
    let dir = tempfile::tempdir().unwrap();
    let image = horse_png().display().to_string();
    let args = [
        "run",
        "--once",
        "--image",
        &image,
        "--prompt",
        "The horse trots",
    ];
    exit(&stranger.cli(dir.path(), &args), 14);
    assert_eq!(stranger.hits(SUBMIT), 1);
    let asked = stranger.hits(RESULT) + stranger.hits(STATUS);
    let again = stranger.cli(dir.path(), &args);
    exit(&again, 14);
    let stderr = text(&again.stderr);
    assert!(
        stderr.contains("req-1")
            && stderr.contains("no longer knows")
            && stderr.contains("without --once"),
        "{stderr}"
    );
    assert_eq!(stranger.hits(SUBMIT), 1, "--once paid again");
    assert_eq!(stranger.hits(RESULT) + stranger.hits(STATUS), asked);
    // Without --once the user chooses to pay again, and may.
    let args = ["run", "--image", &image, "--prompt", "The horse trots"];
    exit(&stranger.cli(dir.path(), &args), 14);
    assert_eq!(stranger.hits(SUBMIT), 2);
}

#[test]
fn the_documented_cancel_answer_without_its_comma_exits_0_with_the_verdict() {
    let stranger = Stranger::start();
    stranger.on(
        CANCEL,
        &[(
            202,
            "{\"request_id\": \"req-1\", \"status\": \"in_queue\"\n \"outcome\": \"cancelled\"}",
        )],
    );
    let dir = tempfile::tempdir().unwrap();
    let run = stranger.cli(dir.path(), &["cancel", "req-1"]);
    exit(&run, 0);
    assert_eq!(
        text(&run.stdout),
        "req-1: cancelled; nothing will be billed\n"
    );
    let json = stranger.cli(dir.path(), &["--json", "cancel", "req-1"]);
    exit(&json, 0);
    let answer: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(answer["outcome"], "cancelled");

    // Accepted, but nothing readable in the answer: said honestly, still exit 0.
    stranger.on(CANCEL, &[(202, "")]);
    let run = stranger.cli(dir.path(), &["cancel", "req-1"]);
    exit(&run, 0);
    assert!(
        text(&run.stdout).contains("without saying whether"),
        "{}",
        text(&run.stdout)
    );
}

#[test]
fn one_shot_calls_are_retried_and_read_numbers_sent_as_strings() {
    let stranger = Stranger::start();
    stranger.on(
        STATUS,
        &[
            (503, "busy"),
            (200, r#"{"status":"in_queue","queue_position":"3"}"#),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let run = stranger.cli(dir.path(), &["status", "req-1"]);
    exit(&run, 0);
    assert_eq!(text(&run.stdout), "req-1: queued (position 3)\n");
    assert_eq!(stranger.hits(STATUS), 2);

    stranger.on(
        RESULT,
        &[(
            200,
            r#"{"status":"succeeded","output":"{base}/files/v.mp4","cost":"0.35"}"#,
        )],
    );
    let run = stranger.cli(dir.path(), &["result", "req-1"]);
    exit(&run, 0);
    let stdout = text(&run.stdout);
    assert!(stdout.contains("video: http://127.0.0.1:"), "{stdout}");
    assert!(stdout.contains("cost: $0.35"), "{stdout}");
}

#[test]
fn errors_sent_with_http_200_are_errors_and_an_expired_id_is_not_resumed() {
    let stranger = Stranger::start();
    let expired = r#"{"error_code":404001,"error_message":"request expired"}"#;
    stranger
        .on(STATUS, &[(200, expired)])
        .on(RESULT, &[(200, expired)]);
    let dir = tempfile::tempdir().unwrap();
    let run = stranger.cli(dir.path(), &["status", "req-1"]);
    exit(&run, 14);
    assert!(
        text(&run.stderr).contains("request expired"),
        "{}",
        text(&run.stderr)
    );
    let run = stranger.cli(dir.path(), &["wait", "req-1"]);
    exit(&run, 14);
    let stderr = text(&run.stderr);
    assert!(
        !stderr.contains("resume") && !stderr.contains("wait req-1"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_status_is_reported_in_json_and_followed() {
    let stranger = Stranger::start();
    stranger.on(
        RESULT,
        &[
            (200, r#"{"status":"warming_up"}"#),
            (200, &succeeded(r#"{"video":"{base}/files/v.mp4"}"#)),
        ],
    );
    stranger.on(STATUS, &[(200, r#"{"status":"completed"}"#)]);
    let dir = tempfile::tempdir().unwrap();
    let run = stranger.cli(
        dir.path(),
        &["--json", "wait", "req-1", "--poll-interval", "20ms"],
    );
    exit(&run, 0);
    let stdout = text(&run.stdout);
    assert!(
        stdout.contains(r#""event":"unrecognised_status""#) && stdout.contains("warming_up"),
        "{stdout}"
    );
}

#[test]
fn a_submit_whose_answer_is_lost_never_invites_paying_twice() {
    let stranger = Stranger::start();
    stranger.on(SUBMIT, &[(502, "<html>bad gateway</html>")]);
    let dir = tempfile::tempdir().unwrap();
    let image = horse_png().display().to_string();
    let run = stranger.cli(
        dir.path(),
        &["run", "--image", &image, "--prompt", "The horse trots"],
    );
    exit(&run, 12);
    let stderr = text(&run.stderr).to_lowercase();
    assert!(stderr.contains("may bill twice"), "{stderr}");
    assert!(stderr.contains("request list"), "{stderr}");
    for advice in ["try again", "retry", "resume", "happyhorse wait"] {
        assert!(!stderr.contains(advice), "{advice:?} in: {stderr}");
    }
    assert_eq!(
        stranger.hits(SUBMIT),
        1,
        "a submit that may have arrived is never resent"
    );
}

#[test]
fn the_services_detail_is_shown_one_item_per_line_and_in_json() {
    let stranger = Stranger::start();
    let refused = r#"{"error_message":"invalid input","detail":[
        {"loc":["body","prompt"],"msg":"too long"},{"loc":["body","seed"],"msg":"too large"}]}"#;
    stranger.on(SUBMIT, &[(422, refused)]);
    let dir = tempfile::tempdir().unwrap();
    let image = horse_png().display().to_string();
    let args = ["run", "--image", &image, "--prompt", "The horse trots"];
    let run = stranger.cli(dir.path(), &args);
    exit(&run, 65);
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains("\n    body.prompt: too long\n    body.seed: too large"),
        "{stderr}"
    );
    let mut json_args = vec!["--json"];
    json_args.extend(args);
    let json = stranger.cli(dir.path(), &json_args);
    exit(&json, 65);
    let error: Value = serde_json::from_str(text(&json.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(error["detail"][1]["msg"], "too large", "{error}");
}

#[test]
fn text_from_outside_cannot_drive_the_terminal() {
    let stranger = Stranger::start();
    let hostile = r#"{"status":"failed","error":{"message":"boom\u001b]0;pwned\u0007\u001b[2J\u202egpj.exe"}}"#;
    stranger.on(RESULT, &[(200, hostile)]);
    stranger.on(STATUS, &[(200, r#"{"status":"in_\u001b[31mqueue"}"#)]);
    let dir = tempfile::tempdir().unwrap();
    let run = stranger.cli(dir.path(), &["wait", "req-1"]);
    exit(&run, 10);
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains(r"boom\x1b]0;pwned\x07\x1b[2J\u{202e}gpj.exe"),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{202e}'),
        "{stderr:?}"
    );
    let run = stranger.cli(dir.path(), &["status", "req-1"]);
    exit(&run, 0);
    assert!(
        !text(&run.stdout).contains('\u{1b}'),
        "{:?}",
        text(&run.stdout)
    );
    // JSON stays exact: serde escapes the control characters itself.
    let json = stranger.cli(dir.path(), &["--json", "result", "req-1"]);
    assert!(
        text(&json.stdout).contains(r"boom\u001b]0;pwned\u0007"),
        "{}",
        text(&json.stdout)
    );
}

/// The emulator's answer-shape switches rehearse the same quirks offline, end to end.
#[test]
fn the_emulator_rehearses_every_quirk_and_the_client_reads_them_all() {
    use happyhorse_emulator::{AnswerShapes, Emulator, OutputShape, ProcessingTime};

    let mut shapes = AnswerShapes::default();
    shapes.output = OutputShape::WithImages;
    shapes.malformed_cancel = true;
    shapes.errors_with_200 = true;
    shapes.string_numbers = true;
    let emu = super::jobs::Emu::start(
        Emulator::builder()
            .processing_time(ProcessingTime::Fixed(std::time::Duration::from_secs(60)))
            .time_scale(1000.0)
            .answer_shapes(shapes),
    );
    let dir = tempfile::tempdir().unwrap();
    let image = horse_png().display().to_string();
    let run = emu
        .cli(dir.path())
        .args([
            "run",
            "--poll-interval",
            "20ms",
            "--image",
            &image,
            "--prompt",
            "The horse trots",
        ])
        .args(["-o", "horse.mp4"])
        .output()
        .unwrap();
    exit(&run, 0);
    assert_eq!(
        std::fs::read(dir.path().join("horse.mp4")).unwrap(),
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../happyhorse-emulator/fixtures/horse.mp4")
        )
        .unwrap(),
        "the video comes first, whatever the output's order"
    );
    assert_eq!(
        std::fs::metadata(dir.path().join("horse-2.bin"))
            .unwrap()
            .len(),
        4096
    );

    let id = text(&run.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("submitted: request id ").map(str::to_owned))
        .unwrap();
    let cancel = emu.cli(dir.path()).args(["cancel", &id]).output().unwrap();
    exit(&cancel, 0);
    assert!(
        text(&cancel.stdout).contains("already finished"),
        "{}",
        text(&cancel.stdout)
    );
    let result = emu.cli(dir.path()).args(["result", &id]).output().unwrap();
    exit(&result, 0);
    assert!(
        text(&result.stdout).contains("cost: $"),
        "{}",
        text(&result.stdout)
    );
    let missing = emu
        .cli(dir.path())
        .args(["status", "no-such-id"])
        .output()
        .unwrap();
    exit(&missing, 14);
}

/// The user's own text echoed back (a file name, a jobs-file line) is made safe the same way.
#[test]
fn the_users_own_text_echoed_back_cannot_drive_the_terminal_either() {
    let dir = tempfile::tempdir().unwrap();
    let name = "a\u{1b}]0;pwned\u{7}\u{202e}gnp.png";
    let run = happyhorse(dir.path())
        .args(["validate", "--image", name, "--prompt", "x\u{1b}[2J"])
        .output()
        .unwrap();
    exit(&run, 66);
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains(r"a\x1b]0;pwned\x07\u{202e}gnp.png"),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{202e}'),
        "{stderr:?}"
    );

    let jobs = dir.path().join("jobs.jsonl");
    std::fs::write(&jobs, "{\"id\": \"bad\\u001b[2J\", \"prompt\": \"p\"}\n").unwrap();
    let batch = happyhorse(dir.path())
        .env("RUNCOMFY_API_TOKEN", "t")
        .args([
            "--base-url",
            "http://127.0.0.1:9",
            "batch",
            "jobs.jsonl",
            "--out-dir",
            "out",
        ])
        .output()
        .unwrap();
    exit(&batch, 65);
    let stderr = text(&batch.stderr);
    assert!(
        stderr.contains("line 1 (line-1): id:") && stderr.contains("bad"),
        "{stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}
