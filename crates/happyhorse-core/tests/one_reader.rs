//! Tidy: `happyhorse-core` is the one reader of the service's answers. Outside it (and the
//! emulator, which speaks the API, and tests), no source names the service's own words or its raw
//! answer types, so nothing can interpret an answer a second, different way.
//!
//! Words that are both the service's and the CLI's own documented output vocabulary (`output`,
//! `outcome`, `detail`, `succeeded`, `failed`, `cancelled` as NDJSON keys, events and batch states)
//! are not listed: the CLI writes them, it never matches an answer against them.

use std::path::{Path, PathBuf};

/// Service words no client code outside core needs.
const WORDS: &[&str] = &[
    "\"in_queue\"",
    "\"in_progress\"",
    "\"completed\"",
    "\"canceled\"",
    "\"not_cancellable\"",
    "\"error_code\"",
    "\"error_message\"",
    "\"queue_position\"",
    "\"videos\"",
    "\"status_url\"",
    "\"result_url\"",
    "\"cancel_url\"",
    "\"display_name\"",
    "\"base_price_usd\"",
    "\"price_unit\"",
    "\"pricing_note\"",
    "include_cost=",
    // The raw vocabulary types, and reading a status word.
    "JobStatus",
    "CancelOutcome",
    "CancelResponse",
    "ErrorCode",
    "ErrorBody",
    "ServiceError",
    "status.as_str()",
];

/// The crates that must leave reading to core.
const CLIENTS: &[&str] = &["happyhorse-http/src", "happyhorse-cli/src"];

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn only_core_knows_how_the_service_words_things() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for client in CLIENTS {
        rust_files(&crates.join(client), &mut files);
    }
    assert!(files.len() > 20, "the sources were not found: {files:?}");
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        // Unit tests sit at the end of a file (clippy's `items_after_test_module`).
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (number, line) in code.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for word in WORDS.iter().filter(|w| line.contains(**w)) {
                found.push(format!("{}:{}: {word}", file.display(), number + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "service vocabulary outside happyhorse-core (read it through core instead):\n{}",
        found.join("\n")
    );
}
