//! Tidy: `happyhorse-core` is the one reader of the service's answers. Outside it (and the
//! emulator, which speaks the API, and tests), no source names the service's own words or its raw
//! answer types, so nothing can interpret an answer a second, different way.
//!
//! Words that are both the service's and the CLI's own documented output vocabulary (`output`,
//! `outcome`, `detail`, `succeeded`, `failed`, `cancelled` as NDJSON keys, events and batch states)
//! are not listed: the CLI writes them, it never matches an answer against them. Reading one of
//! them out of raw JSON (`.get("status")`, `json["output"]`) is what interpreting looks like, and
//! is caught. Words are matched in any case (`"IN_QUEUE"`), and only a trailing `mod tests` is
//! skipped.

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
    // The raw vocabulary types (and a mirror of them), and reading a status word.
    "JobStatus",
    "InQueue",
    "InProgress",
    "NotCancellable",
    "CancelOutcome",
    "CancelResponse",
    "ErrorCode",
    "ErrorBody",
    "ServiceError",
    "status.as_str()",
];

/// Fields of the service's answers: reading one out of raw JSON is interpreting the answer.
const FIELDS: &[&str] = &[
    "status",
    "output",
    "outcome",
    "error",
    "detail",
    "request_id",
    "video",
    "videos",
    "url",
    "cost",
    "image",
    "images",
    "message",
];

/// The crates that must leave reading to core.
const CLIENTS: &[&str] = &["happyhorse-http/src", "happyhorse-cli/src"];

/// Where `source` names the service's words or reads its fields: (line number, what).
fn violations(source: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = source.lines().collect();
    // Unit tests sit at the end of a file (clippy's `items_after_test_module`); any other
    // `#[cfg(test)]` item is code like the rest.
    let end = (0..lines.len())
        .find(|&i| {
            lines[i].trim() == "#[cfg(test)]"
                && lines[i + 1..]
                    .iter()
                    .find(|l| !l.trim().is_empty())
                    .is_some_and(|l| l.trim_start().starts_with("mod "))
        })
        .unwrap_or(lines.len());
    let mut found = Vec::new();
    for (number, line) in lines[..end].iter().enumerate() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        let lower = line.to_lowercase();
        for word in WORDS.iter().filter(|w| lower.contains(&w.to_lowercase())) {
            found.push((number + 1, (*word).to_owned()));
        }
        for field in FIELDS {
            for read in [format!("get(\"{field}\")"), format!("pointer(\"/{field}")] {
                if lower.contains(&read) {
                    found.push((number + 1, read));
                }
            }
            // `json["status"]`, unless it is being written (`object["detail"] = …`).
            let index = format!("[\"{field}\"]");
            for (at, _) in lower.match_indices(&index) {
                let rest = lower[at + index.len()..].trim_start();
                let written = rest.starts_with('=') && !rest.starts_with("==");
                if !written {
                    found.push((number + 1, index.clone()));
                }
            }
        }
    }
    found
}

#[test]
fn the_check_sees_every_way_of_reading_an_answer() {
    let reads = [
        r#"if word.eq_ignore_ascii_case("IN_QUEUE") {"#,
        r#"match body.get("status").and_then(|s| s.as_str()) {"#,
        r#"let video = json["output"]["video"].as_str();"#,
        r#"let url = value.pointer("/output/video");"#,
        "#[serde(rename_all = \"snake_case\")] enum Mine { InQueue, InProgress }",
    ];
    for read in reads {
        assert!(!violations(read).is_empty(), "missed: {read}");
    }
    // A `#[cfg(test)]` item in the middle hides nothing after it; the trailing tests module does.
    let source = "#[cfg(test)]\nfn helper() {}\nfn f(v: &Value) { v.get(\"status\"); }\n#[cfg(test)]\n\nmod tests { \"in_queue\" }\n";
    assert_eq!(violations(source), [(3, "get(\"status\")".to_owned())]);
    // Writing the CLI's own JSON is not reading the service's.
    assert!(
        violations(r#"object["detail"] = detail.clone(); let ok = a["status"] == b;"#)
            .iter()
            .all(|(_, what)| what == "[\"status\"]")
    );
}

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
        for (number, what) in violations(&text) {
            found.push(format!("{}:{number}: {what}", file.display()));
        }
    }
    assert!(
        found.is_empty(),
        "service vocabulary outside happyhorse-core (read it through core instead):\n{}",
        found.join("\n")
    );
}
