//! Shared helpers: the binary with a clean environment, test images, redaction.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The shipped example image.
pub(crate) fn horse_png() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/horse.png")
}

/// The MP4 the emulator serves as every job's output.
pub(crate) fn served_video() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../happyhorse-emulator/fixtures/horse.mp4"),
    )
    .unwrap()
}

/// A process's output as text (lossy: the tests compare what a person would read).
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts the exit code, showing both streams when it differs.
pub(crate) fn exit(output: &std::process::Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// `happyhorse` with no RunComfy variables, no colour, a fixed width, run in `dir`.
pub(crate) fn happyhorse(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("happyhorse").unwrap();
    for name in [
        "RUNCOMFY_API_TOKEN",
        "RUNCOMFY_TOKEN",
        "RUNCOMFY_BASE_URL",
        "RUNCOMFY_MODEL_API_BASE",
    ] {
        command.env_remove(name);
    }
    command
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .current_dir(dir);
    command
        .env("HAPPYHORSE_LEDGER", ledger_path(dir))
        .env("XDG_STATE_HOME", dir.join(".state"))
        .env("HOME", dir);
    command
}

/// The job ledger each test's commands keep, in the test's own directory.
pub(crate) fn ledger_path(dir: &Path) -> PathBuf {
    dir.join(".test-ledger.sqlite3")
}

/// Keeps a command away from the user's real state directory: the ledger in `dir`, and the
/// state and home directories too, should anything look there.
pub(crate) fn isolate_state(command: &mut std::process::Command, dir: &Path) {
    command
        .env("HAPPYHORSE_LEDGER", ledger_path(dir))
        .env("XDG_STATE_HOME", dir.join(".state"))
        .env("HOME", dir);
}

/// A real (blank) PNG of `width` x `height` pixels: images are checked whole, so a header alone
/// would be refused for being truncated.
pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    happyhorse_core::validate::blank_png(width, height)
}

/// Output text with ports, the temporary directory and ids replaced by placeholders.
pub(crate) fn redact(text: &str, tmp: &Path) -> String {
    let mut text = text.replace(&tmp.display().to_string(), "[TMP]");
    let port = regex_lite_port(&text);
    for p in port {
        text = text.replace(&format!("127.0.0.1:{p}"), "127.0.0.1:[PORT]");
    }
    text
}

/// Every port number written after `127.0.0.1:`.
fn regex_lite_port(text: &str) -> Vec<String> {
    let mut ports = Vec::new();
    for (i, _) in text.match_indices("127.0.0.1:") {
        let rest = &text[i + "127.0.0.1:".len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() {
            ports.push(digits);
        }
    }
    ports
}

/// `text` with request ids (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`) replaced by `[ID]` and
/// durations such as `2.3s` by `[T]s`.
pub(crate) fn redact_ids_and_times(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if is_uuid_at(&chars, i) {
            out.push_str("[ID]");
            i += 36;
            continue;
        }
        // A decimal number directly followed by `s`: a duration.
        let start_ok = i == 0 || !(chars[i - 1].is_ascii_alphanumeric());
        if start_ok && chars[i].is_ascii_digit() {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                j += 1;
            }
            if j < chars.len() && chars[j] == 's' && chars[i..j].contains(&'.') {
                out.push_str("[T]");
                i = j;
                continue;
            }
            out.extend(&chars[i..j]);
            i = j;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

fn is_uuid_at(chars: &[char], i: usize) -> bool {
    const DASHES: [usize; 4] = [8, 13, 18, 23];
    if i + 36 > chars.len() {
        return false;
    }
    (0..36).all(|k| {
        let c = chars[i + k];
        if DASHES.contains(&k) {
            c == '-'
        } else {
            c.is_ascii_hexdigit()
        }
    })
}

/// `happyhorse --base-url BASE ARGS…` with a test token as a child process in `dir` (its state
/// isolated there), stdout and stderr piped: for tests that signal it or read it as it runs.
pub(crate) fn spawn_against(base: &str, dir: &Path, args: &[&str]) -> std::process::Child {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("happyhorse"));
    isolate_state(&mut command, dir);
    command
        .env_remove("RUNCOMFY_BASE_URL")
        .env("RUNCOMFY_API_TOKEN", "test-token")
        .env("NO_COLOR", "1")
        .args(["--base-url", base])
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}
