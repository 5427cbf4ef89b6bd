//! The command line's definitions: consistent, and each flag parsed (or refused) as documented.

use super::*;

#[test]
fn definitions_are_consistent() {
    Cli::command_full().debug_assert();
}

#[test]
fn timeouts_parse() {
    use std::time::Duration;
    assert_eq!(parse_timeout("90"), Ok(Duration::from_secs(90)));
    assert_eq!(parse_timeout("10m"), Ok(Duration::from_secs(600)));
    assert_eq!(parse_timeout("1h"), Ok(Duration::from_secs(3600)));
    assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
    assert_eq!(parse_timeout("5 days"), Ok(Duration::from_secs(5 * 86_400)));
    assert!(parse_timeout("0").is_err());
    assert!(parse_timeout("soon").is_err());
    assert!(parse_poll_interval("2h").is_err());
}

/// The values, and their like, through the real parser: usage errors, never a panic.
#[test]
fn huge_and_odd_values_are_usage_errors() {
    for args in [
        &["happyhorse", "run", "--timeout", "18446744073709551615s"][..],
        &["happyhorse", "run", "--timeout", "18446744073709551615"],
        &["happyhorse", "run", "--timeout", "1e308"],
        &["happyhorse", "run", "--timeout", "8d"],
        &["happyhorse", "run", "--timeout", "-1s"],
        &[
            "happyhorse",
            "wait",
            "r1",
            "--timeout",
            "99999999999999999999h",
        ],
        &[
            "happyhorse",
            "batch",
            "j.jsonl",
            "--out-dir",
            "o",
            "--timeout",
            "1e19s",
        ],
        &[
            "happyhorse",
            "run",
            "--poll-interval",
            "18446744073709551615s",
        ],
        &[
            "happyhorse",
            "run",
            "--emulator",
            "--emulator-time-scale",
            "1e308",
        ],
        &[
            "happyhorse",
            "run",
            "--emulator",
            "--emulator-time-scale",
            "NaN",
        ],
        &[
            "happyhorse",
            "run",
            "--emulator",
            "--emulator-time-scale",
            "0",
        ],
        &["happyhorse", "emulator", "--time-scale", "1e308"],
        &[
            "happyhorse",
            "emulator",
            "--expire-after",
            "18446744073709551615s",
        ],
        &[
            "happyhorse",
            "emulator",
            "--max-body-bytes",
            "99999999999999999999",
        ],
    ] {
        use clap::FromArgMatches as _;
        let parsed = Cli::command_full()
            .try_get_matches_from(args)
            .and_then(|m| Cli::from_arg_matches(&m));
        let error = parsed
            .err()
            .unwrap_or_else(|| panic!("{args:?} was accepted"));
        assert!(error.use_stderr(), "{args:?}");
    }
}

fn spelled(args: &[&str]) -> Vec<String> {
    runcomfy_spellings(args.iter().map(OsString::from).collect())
        .into_iter()
        .map(|a| a.into_string().unwrap())
        .collect()
}

#[test]
fn runcomfy_output_formats_are_read_as_ours_and_nothing_else_is() {
    assert_eq!(
        spelled(&["hh", "status", "--output", "json", "r1"]),
        ["hh", "status", "--json", "r1"]
    );
    assert_eq!(
        spelled(&["hh", "--output=json", "status", "r1"]),
        ["hh", "--json", "status", "r1"]
    );
    assert_eq!(
        spelled(&["hh", "status", "--output", "pretty", "r1"]),
        ["hh", "status", "r1"]
    );
    assert_eq!(
        spelled(&["hh", "--output=pretty", "models"]),
        ["hh", "models"]
    );
    // A video path stays a path, and so does anything after `--`.
    assert_eq!(
        spelled(&["hh", "run", "--output", "horse.mp4"]),
        ["hh", "run", "--output", "horse.mp4"]
    );
    assert_eq!(
        spelled(&["hh", "run", "-o", "json"]),
        ["hh", "run", "-o", "json"]
    );
    assert_eq!(
        spelled(&["hh", "wait", "--", "--output", "json"]),
        ["hh", "wait", "--", "--output", "json"]
    );
    assert_eq!(spelled(&["hh", "--output"]), ["hh", "--output"]);

    let args = |list: &[&str]| list.iter().map(OsString::from).collect::<Vec<_>>();
    assert!(wants_json(&args(&["hh", "status", "--json"])));
    assert!(wants_json(&args(&["hh", "status", "--output=json"])));
    assert!(!wants_json(&args(&["hh", "status", "--", "--json"])));
    assert!(!wants_json(&args(&["hh", "run", "-o", "json"])));
}

#[test]
fn input_and_input_file_are_both_accepted_but_not_together() {
    use clap::FromArgMatches as _;
    let parse = |list: &[&str]| {
        Cli::command_full()
            .try_get_matches_from(list)
            .and_then(|m| Cli::from_arg_matches(&m))
    };
    let Command::Validate(args) = parse(&["hh", "validate", "--input-file", "r.json"])
        .unwrap()
        .command
    else {
        panic!("not validate");
    };
    assert_eq!(args.input.input_file.as_deref(), Some("r.json"));
    assert!(parse(&["hh", "run", "--input", "{}", "--input-file", "r.json"]).is_err());
    assert!(parse(&["hh", "validate", "{}", "--input-file", "r.json"]).is_err());
}
