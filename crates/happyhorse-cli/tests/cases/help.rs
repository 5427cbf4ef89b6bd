//! `--help` of every command: a snapshot each, so a changed flag or text is a reviewed diff.

use crate::cases::common::happyhorse;

const COMMANDS: &[&[&str]] = &[
    &[],
    &["run"],
    &["submit"],
    &["status"],
    &["result"],
    &["cancel"],
    &["wait"],
    &["jobs"],
    &["batch"],
    &["validate"],
    &["schema"],
    &["models"],
    &["models", "list"],
    &["models", "get"],
    &["emulator"],
    &["completions"],
    &["man"],
];

#[test]
fn help_of_every_command() {
    let dir = tempfile::tempdir().unwrap();
    for command in COMMANDS {
        let output = happyhorse(dir.path())
            .args(*command)
            .arg("--help")
            .output()
            .unwrap();
        assert!(output.status.success(), "{command:?} --help failed");
        let name = if command.is_empty() {
            "help".to_owned()
        } else {
            format!("help_{}", command.join("_"))
        };
        insta::assert_snapshot!(name, String::from_utf8(output.stdout).unwrap());
    }
}

#[test]
fn short_help_shows_examples_and_long_help_the_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let short = happyhorse(dir.path()).arg("-h").output().unwrap();
    let short = String::from_utf8(short.stdout).unwrap();
    assert!(short.contains("Examples:") && !short.contains("Exit codes:"));
    let long = happyhorse(dir.path()).arg("--help").output().unwrap();
    let long = String::from_utf8(long.stdout).unwrap();
    assert!(long.contains("Examples:") && long.contains("Exit codes:") && long.contains("130"));
}

#[test]
fn usage_errors_exit_64() {
    let dir = tempfile::tempdir().unwrap();
    happyhorse(dir.path()).arg("frobnicate").assert().code(64);
    happyhorse(dir.path())
        .args(["run", "--timeout", "soon"])
        .assert()
        .code(64);
    happyhorse(dir.path())
        .args(["run", "--no-wait", "-o", "x.mp4"])
        .assert()
        .code(64);
}
