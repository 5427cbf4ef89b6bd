//! Commands that need no service: `validate`, `schema`, `completions`, `man`, `emulator`.

use std::io::{BufRead, BufReader, Read, Write};

use crate::cases::common::{happyhorse, horse_png, redact};

#[test]
fn validate_accepts_the_example_and_says_nothing_was_sent() {
    let dir = tempfile::tempdir().unwrap();
    let output = happyhorse(dir.path())
        .args(["validate", "--image"])
        .arg(horse_png())
        .args(["--prompt", "The horse trots", "--duration", "8"])
        .output()
        .unwrap();
    assert!(output.status.success());
    insta::assert_snapshot!(String::from_utf8(output.stdout).unwrap());
}

#[test]
fn validate_json_shows_the_merged_input_without_a_whole_data_uri() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("request.json"),
        r#"{"prompt": "from file", "seed": 3}"#,
    )
    .unwrap();
    let output = happyhorse(dir.path())
        .args([
            "--json",
            "validate",
            "request.json",
            "--set",
            "seed=4",
            "--resolution",
            "720P",
            "--image",
        ])
        .arg(horse_png())
        .output()
        .unwrap();
    assert!(output.status.success());
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["valid"], true);
    assert_eq!(value["input"]["prompt"], "from file");
    assert_eq!(value["input"]["seed"], 4);
    assert_eq!(value["input"]["resolution"], "720P");
    let image = value["input"]["image_url"].as_str().unwrap();
    assert!(
        image.starts_with("data:image/png;base64,") && image.ends_with("characters)"),
        "{image}"
    );
}

#[test]
fn validate_reads_stdin_and_reports_every_error_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let output = happyhorse(dir.path())
        .args(["--json", "validate", "-"])
        .write_stdin(r#"{"image_url": "horse.png", "duration": 16, "resolution": "4K"}"#)
        .output()
        .unwrap();
    // horse.png is a local path that does not exist: 66 (EX_NOINPUT) wins over the data errors.
    assert_eq!(output.status.code(), Some(66));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    insta::assert_json_snapshot!(value);
}

#[test]
fn schema_prints_the_checked_in_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let spec = &happyhorse_types::image_to_video::SPEC;
    for (which, text) in [("input", spec.input_schema), ("output", spec.output_schema)] {
        let output = happyhorse(dir.path())
            .args(["schema", which])
            .output()
            .unwrap();
        assert!(output.status.success());
        assert_eq!(
            String::from_utf8(output.stdout).unwrap().trim_end(),
            text.trim_end()
        );
        let json = happyhorse(dir.path())
            .args(["--json", "schema", which])
            .output()
            .unwrap();
        let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(
            parsed,
            serde_json::from_str::<serde_json::Value>(text).unwrap()
        );
    }
}

#[test]
fn completions_and_man_page_are_generated() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = happyhorse(dir.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(output.status.success(), "{shell}");
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(
            text.contains("happyhorse") && text.contains("validate"),
            "{shell}"
        );
    }
    let man = happyhorse(dir.path()).arg("man").output().unwrap();
    let man = String::from_utf8(man.stdout).unwrap();
    assert!(
        man.starts_with(".ie") || man.contains(".TH happyhorse"),
        "{man}"
    );
    assert!(man.contains("130"), "the man page lists the exit codes");
}

#[test]
fn emulator_serves_until_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let binary = assert_cmd::cargo::cargo_bin("happyhorse");
    let mut child = std::process::Command::new(binary)
        .args([
            "--json",
            "emulator",
            "--addr",
            "127.0.0.1:0",
            "--time-scale",
            "100",
        ])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let listening: serde_json::Value = serde_json::from_str(&line).unwrap();
    insta::assert_snapshot!(redact(&line, dir.path()));

    // The advertised stats endpoint answers (a raw HTTP/1.1 GET: no client needed).
    let base = listening["base_url"].as_str().unwrap();
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /__emulator/stats HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"submissions_total\":0"), "{response}");

    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        child.wait().unwrap().code(),
        Some(0),
        "Ctrl-C stops the emulator cleanly"
    );
}
