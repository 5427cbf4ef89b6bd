//! Every exit code `happyhorse` can return, in one place, and the error that carries one.
//!
//! The numbers follow BSD `sysexits(3)` where RunComfy's own CLI (`runcomfy`) already does
//! (64, 65, 69, 75, 77), so scripts written for it keep working; the job outcomes that `runcomfy`
//! cannot tell apart get small codes of their own (10–12). `docs/cli.md` and `--help` show
//! [`EXIT_CODES_HELP`], which a unit test keeps in step with the constants.

use std::fmt;

/// Success: the command did what it was asked (for `run`/`wait`: the video is saved).
pub(crate) const OK: u8 = 0;
/// Any error not classified below (a bug, a local I/O error outside downloads, …).
pub(crate) const GENERIC: u8 = 1;
/// The job ran on the service and failed; its error is reported.
pub(crate) const JOB_FAILED: u8 = 10;
/// The job was cancelled (by this command, by `happyhorse cancel`, or elsewhere).
pub(crate) const JOB_CANCELLED: u8 = 11;
/// A submit may have reached the service but its answer was lost: a job may exist (and be billed)
/// without its request id being known. Look for it before submitting again (which may bill twice).
pub(crate) const SUBMIT_OUTCOME_UNKNOWN: u8 = 12;
/// The job succeeded, but its output holds no file URL: the output is shown. The job is over:
/// waiting or retrying cannot change it.
pub(crate) const SUCCEEDED_WITHOUT_FILES: u8 = 13;
/// Bad command-line arguments (`EX_USAGE`, as `runcomfy`).
pub(crate) const USAGE: u8 = 64;
/// Invalid input (`EX_DATAERR`, as `runcomfy`): a rule is broken. Nothing was sent when the CLI
/// found it; the service may also refuse an input (HTTP 400/422), which is never billed.
pub(crate) const INVALID_INPUT: u8 = 65;
/// Unknown, deleted or expired request id (`EX_NOINPUT`; RunComfy `404001`).
pub(crate) const NOT_FOUND: u8 = 66;
/// The service failed (5xx) or could not be reached, even after retries (`EX_UNAVAILABLE`, as `runcomfy`).
pub(crate) const UNAVAILABLE: u8 = 69;
/// An output file cannot be created where it was asked for (`EX_CANTCREAT`): a directory, a
/// symlink, a special file, an unwritable place, an existing file without `--force`, or two
/// outputs of a batch that are the same file. Found before anything is sent.
pub(crate) const CANT_CREATE: u8 = 73;
/// Downloading or saving the output failed (`EX_IOERR`); the job itself succeeded.
pub(crate) const DOWNLOAD: u8 = 74;
/// Temporary: a timeout, HTTP 429 after retries, or `--timeout` reached while the job still runs
/// (`EX_TEMPFAIL`, as `runcomfy`). Trying again later may work; `happyhorse wait ID` resumes.
pub(crate) const TEMPORARY: u8 = 75;
/// The service answered something this client cannot read (`EX_PROTOCOL`).
pub(crate) const PROTOCOL: u8 = 76;
/// Authentication or account: token missing, expired or revoked (RunComfy `400004`, HTTP 401),
/// a request of another account (`403001`), or insufficient balance (`400002`) (`EX_NOPERM`, as `runcomfy`).
pub(crate) const AUTH: u8 = 77;
/// Configuration: a bad base URL, an unreadable `--token-file` (`EX_CONFIG`).
pub(crate) const CONFIG: u8 = 78;
/// Stopped by SIGHUP: the terminal went away (128 + SIGHUP, as shells report it).
pub(crate) const HANGUP: u8 = 129;
/// Interrupted by Ctrl-C (128 + SIGINT).
pub(crate) const INTERRUPTED: u8 = 130;
/// Stopped by SIGTERM: `kill`, `timeout`, `docker stop`, systemd, CI cancellation (128 + SIGTERM).
pub(crate) const TERMINATED: u8 = 143;

/// The exit-code table shown by `happyhorse --help`.
pub(crate) const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success
  1    other error
  10   the job failed on the service
  11   the job was cancelled
  12   submit outcome unknown: a job may exist (and be billed) without its id being known
  13   the job succeeded but its output holds no file URL (the output is shown)
  64   bad command-line arguments
  65   invalid input (nothing was sent)
  66   unknown or expired request id
  69   service unavailable (5xx, unreachable) after retries
  73   an output file cannot be created there (nothing was sent)
  74   the download or saving the video failed
  75   temporary: timeout, rate limited, or --timeout reached (resume with `happyhorse wait ID`)
  76   the service's answer could not be read
  77   authentication or account (token, permission, balance)
  78   configuration (base URL, token file)
  129  stopped by SIGHUP (the terminal went away)
  130  interrupted (Ctrl-C)
  143  stopped by SIGTERM";

/// An error that ends the command with a chosen exit code.
///
/// `message` is shown to people; [`kind_name`] names the code in `--json` output.
#[derive(Debug)]
pub(crate) struct Failure {
    /// The process exit code.
    pub(crate) code: u8,
    /// What happened, for people.
    pub(crate) message: String,
    /// Set when the failure was already reported (e.g. as an NDJSON event), so `main` stays quiet.
    pub(crate) reported: bool,
    /// For invalid input: every broken rule.
    pub(crate) input_errors: Vec<happyhorse_core::validate::InputError>,
    /// The job concerned, when there is one (set by the job commands).
    pub(crate) request_id: Option<String>,
    /// The service's `detail` and how to resume, when there are (boxed: rarely there).
    pub(crate) extra: Option<Box<Extra>>,
}

/// What a [`Failure`] may add for `--json`.
#[derive(Debug, Default)]
pub(crate) struct Extra {
    /// The service's `detail`, as sent (people get it in `message`, one item per line).
    pub(crate) detail: Option<serde_json::Value>,
    /// The command that picks the job up again, when waiting can still succeed.
    pub(crate) resume: Option<String>,
}

impl Failure {
    /// A failure with `code` (its `--json` name is [`kind_name`]).
    pub(crate) fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            reported: false,
            input_errors: Vec::new(),
            request_id: None,
            extra: None,
        }
    }

    /// The `--json` extras, created when first needed.
    pub(crate) fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// The same failure, about `request_id`.
    pub(crate) fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// Invalid input: every broken rule, nothing sent.
    pub(crate) fn invalid_input(errors: happyhorse_core::validate::InputErrors) -> Self {
        let mut failure = Self::new(
            INVALID_INPUT,
            format!(
                "invalid input (nothing was sent):\n{}",
                indent(&errors.to_string())
            ),
        );
        failure.input_errors = errors.into_vec();
        failure
    }

    /// The same failure, marked as already shown to the user.
    pub(crate) fn reported(mut self) -> Self {
        self.reported = true;
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

fn indent(lines: &str) -> String {
    lines
        .lines()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `--json` name of an exit code.
pub(crate) fn kind_name(code: u8) -> &'static str {
    match code {
        OK => "ok",
        JOB_FAILED => "job_failed",
        JOB_CANCELLED => "job_cancelled",
        SUBMIT_OUTCOME_UNKNOWN => "submit_outcome_unknown",
        SUCCEEDED_WITHOUT_FILES => "succeeded_without_files",
        USAGE => "usage",
        INVALID_INPUT => "invalid_input",
        NOT_FOUND => "not_found",
        UNAVAILABLE => "unavailable",
        CANT_CREATE => "cant_create",
        DOWNLOAD => "download",
        TEMPORARY => "temporary",
        PROTOCOL => "protocol",
        AUTH => "auth",
        CONFIG => "config",
        HANGUP => "hangup",
        INTERRUPTED => "interrupted",
        TERMINATED => "terminated",
        _ => "error",
    }
}

/// The exit code of an error: the first [`Failure`] in its chain, else what
/// [`crate::exit_http::code_of`] finds, else [`GENERIC`].
pub(crate) fn code_of(error: &anyhow::Error) -> u8 {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<Failure>().map(|f| f.code))
        .or_else(|| crate::exit_http::code_in_chain(error))
        .unwrap_or(GENERIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [u8; 20] = [
        OK,
        GENERIC,
        JOB_FAILED,
        JOB_CANCELLED,
        SUBMIT_OUTCOME_UNKNOWN,
        SUCCEEDED_WITHOUT_FILES,
        USAGE,
        INVALID_INPUT,
        NOT_FOUND,
        UNAVAILABLE,
        CANT_CREATE,
        DOWNLOAD,
        TEMPORARY,
        PROTOCOL,
        AUTH,
        CONFIG,
        HANGUP,
        INTERRUPTED,
        TERMINATED,
        GENERIC,
    ];

    #[test]
    fn help_lists_every_code_once() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ALL {
            seen.insert(code);
        }
        for code in &seen {
            let prefix = format!("\n  {code} ");
            assert_eq!(
                EXIT_CODES_HELP.matches(&prefix).count(),
                1,
                "exit code {code} must appear exactly once in EXIT_CODES_HELP"
            );
        }
        let listed = EXIT_CODES_HELP.lines().skip(1).count();
        assert_eq!(
            listed,
            seen.len(),
            "EXIT_CODES_HELP lists a code that has no constant"
        );
    }

    #[test]
    fn codes_are_distinct_and_named() {
        let named: Vec<u8> = ALL.iter().copied().filter(|&c| c != GENERIC).collect();
        let unique: std::collections::BTreeSet<u8> = named.iter().copied().collect();
        assert_eq!(unique.len(), named.len(), "two meanings share an exit code");
        for code in named {
            assert_ne!(
                kind_name(code),
                "error",
                "exit code {code} has no --json name"
            );
        }
    }

    #[test]
    fn the_first_failure_in_the_chain_decides() {
        let error = anyhow::Error::new(Failure::new(AUTH, "no token")).context("while submitting");
        assert_eq!(code_of(&error), AUTH);
        assert_eq!(code_of(&anyhow::anyhow!("plain")), GENERIC);
    }
}
