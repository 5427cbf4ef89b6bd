//! RunComfy's CLI conventions, through the binary: inline `--input '{…}'`, `--input-file`, exit 66
//! for a missing input file (and 14, not 66, for an unknown request id), `--output json|pretty`,
//! usage errors as one JSON object with `--json`, and a man page for every command with its
//! examples kept as written.

use std::time::Duration;

use happyhorse_emulator::{Emulator, ProcessingTime};
use serde_json::Value;

use crate::cases::common::{happyhorse, text};
use crate::cases::jobs::Emu;

fn fast() -> Emu {
    Emu::start(
        Emulator::builder()
            .processing_time(ProcessingTime::Fixed(Duration::from_secs(60)))
            .time_scale(1000.0),
    )
}

/// Every stdout line as JSON.
fn json_lines(bytes: &[u8]) -> Vec<Value> {
    text(bytes)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

const REQUEST: &str = r#"{"image_url": "https://example.com/horse.webp", "prompt": "The horse trots", "duration": 4}"#;

#[test]
fn inline_input_and_input_file_run_a_job_as_runcomfy_users_write_them() {
    let emu = fast();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("request.json"), REQUEST).unwrap();
    for input in [
        ["--input", REQUEST],
        ["--input", "request.json"],
        ["--input-file", "request.json"],
    ] {
        let output = emu
            .cli(dir.path())
            .args([
                "--output",
                "json",
                "run",
                "--no-download",
                "--poll-interval",
                "20ms",
            ])
            .args(input)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{input:?}: {}",
            text(&output.stderr)
        );
        let events = json_lines(&output.stdout);
        assert!(
            events.iter().any(|e| e["event"] == "succeeded"),
            "{input:?}: {events:?}"
        );
    }
    let stats = emu.emulator().stats();
    assert_eq!(stats.submissions_total, 3);
    let sent: Value = serde_json::from_str(REQUEST).unwrap();
    assert_eq!(stats.submissions_of(&sent), 3, "the same body each time");
}

#[test]
fn a_missing_input_file_exits_66_and_sends_nothing() {
    let emu = fast();
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["run", "--input", "missing.json"][..],
        &["run", "--input-file", "missing.json"],
        &["submit", "--input-file", "missing.json"],
        &["validate", "missing.json"],
        &["run", "--input", REQUEST, "--prompt-file", "missing.txt"],
        &["run", "--input", REQUEST, "--image", "missing.png"],
        &["batch", "missing.jsonl", "--out-dir", "out"],
    ] {
        let output = emu
            .cli(dir.path())
            .arg("--json")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(66),
            "{args:?}: {}",
            text(&output.stderr)
        );
        assert!(
            text(&output.stderr).contains("no such file"),
            "{args:?}: {}",
            text(&output.stderr)
        );
        let last = json_lines(&output.stdout).pop().unwrap();
        let kind = if args[0] == "validate" {
            "valid"
        } else {
            "kind"
        };
        if kind == "kind" {
            assert_eq!(last["kind"], "no_input", "{args:?}: {last}");
            assert_eq!(last["exit_code"], 66);
        } else {
            assert_eq!(last["valid"], false, "{last}");
        }
    }
    // A data error is still 65: the file exists but is not JSON.
    std::fs::write(dir.path().join("broken.json"), "{not json").unwrap();
    let output = emu
        .cli(dir.path())
        .args(["run", "--input-file", "broken.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(65), "{}", text(&output.stderr));
    assert_eq!(
        emu.emulator().stats().requests_total,
        0,
        "nothing reached the service"
    );
}

#[test]
fn usage_errors_with_json_are_one_json_error_object() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--json", "run", "--no-such-flag"][..],
        &["status", "--json"],
        &["--output", "json", "run", "--duration"],
        &["--json", "frobnicate"],
    ] {
        let output = happyhorse(dir.path()).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(64), "{args:?}");
        let lines = json_lines(&output.stdout);
        assert_eq!(lines.len(), 1, "{args:?}: {lines:?}");
        let error = &lines[0];
        assert_eq!(error["event"], "error", "{error}");
        assert_eq!(error["kind"], "usage");
        assert_eq!(error["exit_code"], 64);
        assert!(!error["message"].as_str().unwrap().is_empty(), "{error}");
        assert!(
            text(&output.stderr).contains("error:"),
            "people still get clap's message"
        );
    }
    // Without --json, stdout stays empty.
    let output = happyhorse(dir.path())
        .args(["run", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(64));
    assert!(output.stdout.is_empty());
}

#[test]
fn output_json_and_output_pretty_are_runcomfys_spelling() {
    let emu = fast();
    let dir = tempfile::tempdir().unwrap();
    let pretty = emu
        .cli(dir.path())
        .args(["models", "--output", "pretty"])
        .output()
        .unwrap();
    assert_eq!(pretty.status.code(), Some(0), "{}", text(&pretty.stderr));
    assert!(
        serde_json::from_slice::<Value>(&pretty.stdout).is_err(),
        "pretty is for people"
    );
    let json = emu
        .cli(dir.path())
        .args(["models", "--output=json"])
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(0), "{}", text(&json.stderr));
    let same = emu
        .cli(dir.path())
        .args(["--json", "models"])
        .output()
        .unwrap();
    assert_eq!(json.stdout, same.stdout);
    assert!(!json_lines(&json.stdout).is_empty());
}

#[test]
fn every_command_has_a_man_page_and_examples_are_kept_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("man1");
    let output = happyhorse(dir.path())
        .args(["man", "--dir"])
        .arg(&pages)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let root = std::fs::read_to_string(pages.join("happyhorse.1")).unwrap();

    // Every page the root page names exists.
    let named: Vec<String> = root
        .split("happyhorse\\-")
        .skip(1)
        .filter_map(|rest| rest.split_once("(1)").map(|(name, _)| name.to_owned()))
        .filter(|name| name.chars().all(|c| c.is_ascii_lowercase()))
        .collect();
    assert!(named.len() >= 12, "{named:?}");
    for name in &named {
        assert!(
            pages.join(format!("happyhorse-{name}.1")).exists(),
            "happyhorse-{name}(1) is named but missing"
        );
    }

    // The examples keep their lines, in a no-fill block, on the root page and a command's.
    let run = std::fs::read_to_string(pages.join("happyhorse-run.1")).unwrap();
    let example =
        "  happyhorse run \\-\\-input request.json \\-\\-set seed=42 \\-\\-json | jq \\-c .";
    let examples = run
        .split(".SH \"EXAMPLES\"\n.nf\n")
        .nth(1)
        .expect("an EXAMPLES section");
    let block = examples.split("\n.fi\n").next().unwrap();
    assert!(block.lines().any(|line| line == example), "{block}");
    assert!(root.contains(".SH \"EXIT CODES\"\n.nf\n"), "{root}");
    assert!(
        root.lines().any(|line| line
            == "  66   an input file does not exist or cannot be read (nothing was sent)")
    );

    // `man COMMAND` prints the same page; an unknown command is a usage error.
    let printed = happyhorse(dir.path())
        .args(["man", "run"])
        .output()
        .unwrap();
    assert_eq!(text(&printed.stdout), run);
    let unknown = happyhorse(dir.path())
        .args(["man", "frobnicate"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(64));
    assert!(
        text(&unknown.stderr).contains("the commands are: run,"),
        "{}",
        text(&unknown.stderr)
    );
}

#[cfg(unix)]
#[test]
fn man_dir_replaces_a_link_instead_of_writing_through_it_and_refuses_a_file_as_dir() {
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("man1");
    std::fs::create_dir(&pages).unwrap();
    let elsewhere = dir.path().join("precious.txt");
    std::fs::write(&elsewhere, "not a man page").unwrap();
    std::os::unix::fs::symlink(&elsewhere, pages.join("happyhorse-run.1")).unwrap();
    let output = happyhorse(dir.path())
        .args(["man", "--dir"])
        .arg(&pages)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        std::fs::read_to_string(&elsewhere).unwrap(),
        "not a man page"
    );
    let run = pages.join("happyhorse-run.1");
    assert!(std::fs::symlink_metadata(&run).unwrap().is_file());
    assert!(std::fs::read_to_string(&run).unwrap().starts_with(".ie"));
    let leftovers: Vec<_> = std::fs::read_dir(&pages)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let not_a_dir = happyhorse(dir.path())
        .args(["man", "--dir"])
        .arg(&elsewhere)
        .output()
        .unwrap();
    assert_eq!(
        not_a_dir.status.code(),
        Some(73),
        "{}",
        text(&not_a_dir.stderr)
    );
}
