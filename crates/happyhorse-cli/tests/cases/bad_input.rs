//! Bad input never costs money: each case below is refused with an error naming the field, the
//! rule and the value (snapshotted) and the right exit code, and the emulator the command points
//! at counts zero requests afterwards.

use std::path::Path;

use happyhorse_emulator::Emulator;

use crate::cases::common::{happyhorse, horse_png, png, redact};

/// One refusal: the command, what it is fed, and the exit code it must end with.
pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) args: Vec<String>,
    pub(crate) stdin: Option<Vec<u8>>,
    pub(crate) with_token: bool,
    pub(crate) with_base_url: bool,
    /// More environment (e.g. a token of its own).
    pub(crate) env: Vec<(&'static str, String)>,
    /// Text that must appear in neither stdout nor stderr (besides `test-token`).
    pub(crate) secrets: Vec<&'static str>,
    pub(crate) code: i32,
}

pub(crate) fn case(name: &'static str, code: i32, args: &[&str]) -> Case {
    Case {
        name,
        args: args.iter().map(|a| a.to_string()).collect(),
        stdin: None,
        with_token: true,
        with_base_url: true,
        env: Vec::new(),
        secrets: Vec::new(),
        code,
    }
}

fn files(dir: &Path) {
    std::fs::write(dir.join("tiny.png"), png(200, 200)).unwrap();
    std::fs::write(dir.join("wide.png"), png(2000, 300)).unwrap();
    std::fs::write(dir.join("notes.txt"), "not an image").unwrap();
    std::fs::write(dir.join("broken.json"), "{\"prompt\": ").unwrap();
    std::fs::write(dir.join("array.json"), "[1, 2]").unwrap();
    std::fs::write(dir.join("empty-token.txt"), "\n").unwrap();
    std::fs::create_dir(dir.join("folder.png")).unwrap();
    std::fs::write(
        dir.join("request.json"),
        r#"{"prompt": "A horse", "duration": 99}"#,
    )
    .unwrap();
}

fn table() -> Vec<Case> {
    let horse = horse_png().display().to_string();
    let horse = horse.as_str();
    let long = "a".repeat(5001);
    let chinese = "马".repeat(2501);
    let with = |extra: &[&str]| {
        let mut args = vec!["run", "--image", horse, "--prompt", "The horse trots"];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let mut cases = vec![
        Case {
            args: with(&["--duration", "16"]),
            ..case("duration_too_long", 65, &[])
        },
        Case {
            args: with(&["--duration", "2"]),
            ..case("duration_too_short", 65, &[])
        },
        Case {
            args: with(&["--duration", "five"]),
            ..case("duration_not_a_number", 65, &[])
        },
        Case {
            args: with(&["--duration", "5.5"]),
            ..case("duration_fractional", 65, &[])
        },
        Case {
            args: with(&["--resolution", "4K"]),
            ..case("resolution_4k", 65, &[])
        },
        Case {
            args: with(&["--seed", "-1"]),
            ..case("seed_negative", 65, &[])
        },
        Case {
            args: with(&["--seed", "2147483648"]),
            ..case("seed_too_large", 65, &[])
        },
        Case {
            args: with(&["--set", "watermark=\"yes\""]),
            ..case("watermark_not_boolean", 65, &[])
        },
        Case {
            args: with(&["--set", "duration"]),
            ..case("set_without_equals", 65, &[])
        },
        Case {
            args: with(&["--input", "broken.json"]),
            ..case("input_file_broken_json", 65, &[])
        },
        Case {
            args: with(&["--input", "array.json"]),
            ..case("input_file_not_an_object", 65, &[])
        },
        Case {
            args: with(&["--input", "missing.json"]),
            ..case("input_file_missing", 66, &[])
        },
        case(
            "prompt_too_long",
            65,
            &["run", "--image", horse, "--prompt", &long],
        ),
        case(
            "chinese_prompt_too_long",
            65,
            &["run", "--image", horse, "--prompt", &chinese],
        ),
        case("prompt_missing", 65, &["run", "--image", horse]),
        case("image_missing", 65, &["run", "--prompt", "The horse trots"]),
        case(
            "image_tiny",
            65,
            &["run", "--image", "tiny.png", "--prompt", "x"],
        ),
        case(
            "image_too_wide",
            65,
            &["run", "--image", "wide.png", "--prompt", "x"],
        ),
        case(
            "image_not_an_image",
            65,
            &["run", "--image", "notes.txt", "--prompt", "x"],
        ),
        case(
            "image_unreadable_path",
            66,
            &["run", "--image", "no/such/horse.png", "--prompt", "x"],
        ),
        case(
            "image_is_a_directory",
            66,
            &["run", "--image", "folder.png", "--prompt", "x"],
        ),
        case(
            "image_plain_http",
            65,
            &[
                "run",
                "--image",
                "http://example.com/horse.png",
                "--prompt",
                "x",
            ],
        ),
        case(
            "image_not_a_string",
            65,
            &["run", "--set", "image_url=42", "--prompt", "x"],
        ),
        case(
            "image_path_in_input_file",
            65,
            &[
                "run",
                "--input",
                "request.json",
                "--set",
                "image_url=tiny.png",
            ],
        ),
        Case {
            stdin: Some(b"plain text".to_vec()),
            ..case(
                "image_stdin_not_an_image",
                65,
                &["run", "--image", "-", "--prompt", "x"],
            )
        },
        case(
            "stdin_twice",
            65,
            &["run", "--image", "-", "--input", "-", "--prompt", "x"],
        ),
        case(
            "many_errors_at_once",
            65,
            &[
                "run",
                "--image",
                "tiny.png",
                "--duration",
                "20",
                "--resolution",
                "480P",
                "--seed",
                "-5",
            ],
        ),
        case(
            "submit_checks_too",
            65,
            &[
                "submit",
                "--image",
                horse,
                "--prompt",
                "x",
                "--duration",
                "0",
            ],
        ),
        Case {
            with_token: false,
            ..case(
                "token_missing",
                77,
                &["run", "--image", horse, "--prompt", "x"],
            )
        },
        Case {
            with_token: false,
            ..case(
                "token_file_empty",
                77,
                &[
                    "run",
                    "--token-file",
                    "empty-token.txt",
                    "--image",
                    horse,
                    "--prompt",
                    "x",
                ],
            )
        },
        Case {
            with_token: false,
            ..case(
                "token_file_missing",
                78,
                &[
                    "run",
                    "--token-file",
                    "nope.txt",
                    "--image",
                    horse,
                    "--prompt",
                    "x",
                ],
            )
        },
        Case {
            with_base_url: false,
            ..case(
                "base_url_plain_http",
                78,
                &[
                    "run",
                    "--base-url",
                    "http://example.com",
                    "--image",
                    horse,
                    "--prompt",
                    "x",
                ],
            )
        },
        Case {
            with_base_url: false,
            ..case(
                "base_url_not_a_url",
                78,
                &[
                    "run",
                    "--base-url",
                    "model api",
                    "--image",
                    horse,
                    "--prompt",
                    "x",
                ],
            )
        },
    ];
    // The JSON form of one case: the same refusal as an `error` object on stdout.
    cases.push(case(
        "json_error_object",
        65,
        &[
            "--json",
            "run",
            "--image",
            "tiny.png",
            "--prompt",
            "x",
            "--duration",
            "16",
        ],
    ));
    // A request id is checked before it goes into a URL path.
    cases.push(case(
        "status_request_id_with_a_path",
        65,
        &["status", "../etc"],
    ));
    cases.push(case(
        "cancel_request_id_with_a_space",
        65,
        &["cancel", "r1 r2"],
    ));
    cases
}

#[test]
fn bad_input_is_refused_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    files(dir.path());
    let cases = table();
    assert!(cases.len() >= 20);
    refuse_all(dir.path(), "bad_input", cases);
}

/// Runs every case against one emulator: each must exit with its code, match its snapshot
/// (`<prefix>_<name>`), show no secret, and leave the emulator without a single request.
pub(crate) fn refuse_all(dir: &Path, prefix: &str, cases: Vec<Case>) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime.block_on(Emulator::builder().start()).unwrap();
    for case in cases {
        let mut command = happyhorse(dir);
        if case.with_base_url {
            command.args(["--base-url", emulator.base_url()]);
        }
        if case.with_token {
            command.env("RUNCOMFY_API_TOKEN", "test-token");
        }
        for (name, value) in &case.env {
            command.env(name, value);
        }
        command.args(&case.args);
        command.write_stdin(case.stdin.clone().unwrap_or_default());
        let output = command.output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(case.code),
            "{}: stderr {}",
            case.name,
            String::from_utf8_lossy(&output.stderr)
        );
        let shown = format!(
            "stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        insta::assert_snapshot!(format!("{prefix}_{}", case.name), redact(&shown, dir));
        for secret in case.secrets.iter().chain(&["test-token"]) {
            assert!(
                !shown.contains(secret),
                "{}: {secret} leaked into the output",
                case.name
            );
        }
        let stats = emulator.stats();
        assert_eq!(
            (stats.requests_total, stats.submissions_total),
            (0, 0),
            "{}: something reached the service",
            case.name
        );
        assert_eq!(
            stats.connections.accepted_total, 0,
            "{}: something connected to the service",
            case.name
        );
    }
    runtime.block_on(emulator.shutdown());
}
