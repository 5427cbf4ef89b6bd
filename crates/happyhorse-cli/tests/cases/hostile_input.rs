//! Issue 14's inputs, each of which was once submitted (paid), read without bound, or crashed:
//! now every one is refused with the rule named, its own exit code and no panic, and the emulator
//! the command points at sees no request and no connection (`bad_input::refuse_all`).

use std::path::Path;

use crate::cases::bad_input::{Case, case, refuse_all};
use crate::cases::common::{horse_png, png};

/// A well-formed PNG (valid CRCs) whose header declares `width` × `height` pixels over one
/// pixel's worth of data: a header that lies about its image.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(1, 1);
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32fast::hash(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

fn files(dir: &Path) {
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).unwrap();
    write("huge-claim.png", &png_claiming(100_000, 100_000));
    let whole = png(1000, 1000);
    let mut no_data = whole[..33].to_vec();
    no_data.extend_from_slice(&whole[whole.len() - 12..]);
    write("no-data.png", &no_data);
    write("first-40.png", &std::fs::read(horse_png()).unwrap()[..40]);
    write(
        "sof-only.jpg",
        &[
            0xFF, 0xD8, 0xFF, 0xC0, 0, 0x0B, 8, 0x03, 0x20, 0x04, 0xB0, 1, 1, 0x11, 0,
        ],
    );
    write("anim.gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00");
    write("nul-prompt.txt", b"A horse\0trots\n");
    write("latin1-prompt.txt", b"A horse in a caf\xE9\n");
    write(
        "latin1.json",
        b"{\"prompt\": \"A horse\",\n \"image_url\": \"caf\xE9.png\"}",
    );
    let good = r#"{"image_url":"https://example.com/a.png","prompt":"a horse"}"#;
    let mut jobs = format!("{good}\n").into_bytes();
    jobs.extend_from_slice(
        b"{\"image_url\":\"https://example.com/a.png\",\"prompt\":\"caf\xE9\"}\n",
    );
    write("latin1.jsonl", &jobs);
    write(
        "misspelt.jsonl",
        br#"{"image_url":"https://example.com/a.png","prompt":"a horse","durration":12}"#,
    );
    write("spaced-token.txt", b"tok en-canary-3c1\n");
    let fifo = dir.join("token.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(
        made.is_ok_and(|s| s.success()),
        "mkfifo is needed for this test"
    );
}

fn table() -> Vec<Case> {
    let horse = horse_png().display().to_string();
    let horse = horse.as_str();
    let image = |name: &'static str, file: &str| {
        case(
            name,
            65,
            &["run", "--image", file, "--prompt", "The horse trots"],
        )
    };
    let with_horse = |extra: &[&str]| {
        let mut args = vec!["run", "--image", horse, "--prompt", "The horse trots"];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let too_large_input = {
        let mut bytes = b"{\"prompt\": \"".to_vec();
        bytes.resize(64 * 1024 * 1024 + 1, b'a');
        bytes
    };
    vec![
        // Images whose header is fine but whose data is not.
        image("png_declaring_100000_squared_in_70_bytes", "huge-claim.png"),
        image("png_without_image_data", "no-data.png"),
        image("png_first_40_bytes", "first-40.png"),
        image("jpeg_only_its_size_marker", "sof-only.jpg"),
        image("gif_is_named", "anim.gif"),
        // Text is text.
        case(
            "prompt_file_with_nul",
            65,
            &["run", "--image", horse, "--prompt-file", "nul-prompt.txt"],
        ),
        // `--prompt` would win over `--set`: the prompt comes from `--set` alone here.
        case(
            "prompt_with_nul_in_json",
            65,
            &[
                "run",
                "--image",
                horse,
                "--set",
                r#"prompt="A horse\u0000trots""#,
            ],
        ),
        case(
            "prompt_file_not_utf8",
            65,
            &[
                "run",
                "--image",
                horse,
                "--prompt-file",
                "latin1-prompt.txt",
            ],
        ),
        Case {
            args: with_horse(&["--input", "latin1.json"]),
            ..case("input_file_not_utf8", 65, &[])
        },
        case(
            "jobs_line_not_utf8",
            65,
            &["batch", "latin1.jsonl", "--out-dir", "out"],
        ),
        // Unknown fields, in every command that takes an input.
        Case {
            args: with_horse(&["--set", "durration=12"]),
            ..case("unknown_field_run", 65, &[])
        },
        case(
            "unknown_field_submit",
            65,
            &[
                "submit",
                "--image",
                horse,
                "--prompt",
                "x",
                "--set",
                "durration=12",
            ],
        ),
        case(
            "unknown_field_validate",
            65,
            &[
                "validate",
                "--image",
                horse,
                "--prompt",
                "x",
                "--set",
                "durration=12",
            ],
        ),
        case(
            "unknown_field_batch",
            65,
            &["batch", "misspelt.jsonl", "--out-dir", "out"],
        ),
        // Local arguments never crash.
        Case {
            args: with_horse(&["--timeout", "18446744073709551615s"]),
            ..case("timeout_huge", 64, &[])
        },
        Case {
            with_base_url: false,
            ..case(
                "emulator_time_scale_huge",
                64,
                &[
                    "run",
                    "--emulator",
                    "--emulator-time-scale",
                    "1e308",
                    "--image",
                    horse,
                    "--prompt",
                    "x",
                ],
            )
        },
        // Every read is bounded.
        Case {
            stdin: Some(vec![0u8; 10_000_001]),
            ..case(
                "image_stdin_over_the_limit",
                65,
                &["run", "--image", "-", "--prompt", "x"],
            )
        },
        Case {
            stdin: Some(vec![b'a'; 20_003]),
            ..case(
                "prompt_stdin_over_the_limit",
                65,
                &["run", "--image", horse, "--prompt-file", "-"],
            )
        },
        Case {
            stdin: Some(too_large_input),
            ..case("input_stdin_over_the_limit", 65, &["run", "--input", "-"])
        },
        Case {
            with_token: false,
            ..case(
                "token_file_is_dev_zero",
                78,
                &[
                    "run",
                    "--token-file",
                    "/dev/zero",
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
                "token_file_is_a_fifo",
                78,
                &[
                    "run",
                    "--token-file",
                    "token.fifo",
                    "--image",
                    horse,
                    "--prompt",
                    "x",
                ],
            )
        },
        // Secrets never echoed.
        Case {
            with_token: false,
            env: vec![("RUNCOMFY_API_TOKEN", "tökén-canary-8d2".to_owned())],
            secrets: vec!["canary-8d2", "tökén"],
            ..case(
                "token_not_ascii",
                78,
                &["run", "--image", horse, "--prompt", "x"],
            )
        },
        Case {
            with_token: false,
            secrets: vec!["canary-3c1"],
            ..case(
                "token_file_with_a_space",
                78,
                &[
                    "run",
                    "--token-file",
                    "spaced-token.txt",
                    "--image",
                    horse,
                    "--prompt",
                    "x",
                ],
            )
        },
        Case {
            with_base_url: false,
            secrets: vec!["pw-canary-51"],
            ..case(
                "base_url_with_a_password",
                78,
                &[
                    "run",
                    "--base-url",
                    "http://user:pw-canary-51@example.com/",
                    "--image",
                    horse,
                    "--prompt",
                    "x",
                ],
            )
        },
        Case {
            with_base_url: false,
            secrets: vec!["q-canary-52"],
            ..case(
                "base_url_with_a_token_query",
                78,
                &[
                    "run",
                    "--base-url",
                    "https://example.com/?token=q-canary-52",
                    "--image",
                    horse,
                    "--prompt",
                    "x",
                ],
            )
        },
    ]
}

#[test]
fn the_issues_inputs_are_refused_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    files(dir.path());
    refuse_all(dir.path(), "hostile", table());
    assert!(
        !dir.path().join("out").exists(),
        "a refused batch writes nothing"
    );
}

#[test]
fn allow_unknown_lets_an_unknown_field_through() {
    let dir = tempfile::tempdir().unwrap();
    let horse = horse_png().display().to_string();
    let output = crate::cases::common::happyhorse(dir.path())
        .args(["--json", "validate", "--image", &horse, "--prompt", "x"])
        .args(["--set", "added_later=1", "--allow-unknown"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let verdict: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(verdict["valid"], true);
    assert_eq!(verdict["input"]["added_later"], 1);
}
