//! `docs/library.md`'s way in, taken as a new user takes it: a crate outside the workspace, made
//! only of the blocks the document marks `<!-- downstream: PATH -->` — its `[dependencies]` lines,
//! the quick start (`src/main.rs`), the quick start against the emulator and the exhaustive match
//! of events (`tests/*.rs`) — is built and its tests run, offline.
//!
//! **Slow the first time:** the crate compiles its dependencies (reqwest, rustls, hyper, tokio,
//! jsonschema …) into its own target directory, `target/downstream`, which takes minutes on a
//! fresh machine; later runs reuse them and take seconds. It cannot share the workspace's
//! artifacts: a crate outside the workspace unifies features differently, so most of its
//! dependencies hash differently anyway.
//!
//! Never online: the workspace's `Cargo.lock` is copied in and cargo runs `--offline`, using
//! the packages `cargo test --workspace` has already fetched.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The path form of the dependency lines, as the document gives it: a checkout beside the crate.
const CHECKOUT: &str = "../happyhorse/";

/// Each marked block of `markdown`: the path it names and the code of the fenced block after it.
fn marked_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        let Some(rest) = line.trim().strip_prefix("<!-- downstream: ") else {
            continue;
        };
        let path = rest
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        let fence = lines.by_ref().find(|l| l.trim_start().starts_with("```"));
        assert!(fence.is_some(), "no code block after the marker for {path}");
        let code: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        blocks.push((path, code.join("\n") + "\n"));
    }
    blocks
}

/// The target directory of this test run (`…/target`), from the test executable's own path
/// (`…/target/debug/deps/downstream-…`), so a custom `CARGO_TARGET_DIR` is honoured.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

#[test]
fn a_crate_outside_the_workspace_builds_and_runs_the_library_quick_start() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let doc = std::fs::read_to_string(root.join("docs/library.md")).unwrap();
    let blocks = marked_blocks(&doc);
    let paths: Vec<&str> = blocks.iter().map(|(path, _)| path.as_str()).collect();
    for wanted in [
        "Cargo.toml",
        "src/main.rs",
        "tests/quick_start.rs",
        "tests/events.rs",
    ] {
        assert!(
            paths.contains(&wanted),
            "docs/library.md lost its `<!-- downstream: {wanted} -->` block (found {paths:?})"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let checkout = format!("{}/", root.display());
    for (path, code) in &blocks {
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        let text = if path == "Cargo.toml" {
            assert!(
                code.contains(&format!("{CHECKOUT}crates/happyhorse-http")),
                "the dependency lines no longer use the path form `{CHECKOUT}crates/…`:\n{code}"
            );
            format!(
                "[package]\nname = \"downstream-check\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
                 publish = false\n\n{}\n[workspace]\n\n\
                 # Only to build faster, as the workspace does.\n\
                 [profile.dev.package.\"*\"]\ndebug = false\n",
                code.replace(CHECKOUT, &checkout)
            )
        } else {
            code.clone()
        };
        std::fs::write(&file, text).unwrap();
    }
    std::fs::copy(root.join("Cargo.lock"), dir.path().join("Cargo.lock")).unwrap();

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["test", "--offline", "--manifest-path"])
        .arg(dir.path().join("Cargo.toml"))
        .args(["--", "--nocapture"])
        .env("CARGO_TARGET_DIR", target_dir().join("downstream"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the crate made from docs/library.md failed:\n{stdout}\n{stderr}"
    );
    for test in ["a_horse_video_from_the_emulator", "every_event_has_a_line"] {
        assert!(
            stdout.contains(&format!("test {test} ... ok")),
            "{test} did not run:\n{stdout}"
        );
    }
    // The quick start prints how long its job took against the emulator (not asserted: a
    // loaded machine is slower; docs/benchmarks.md measures it).
    if let Some(line) = stderr.lines().find(|l| l.starts_with("job time:")) {
        eprintln!("quick start against the emulator: {line}");
    }
}
