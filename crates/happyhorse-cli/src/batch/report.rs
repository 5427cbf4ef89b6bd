//! The end of a batch: one row per job, a summary table for people, a JSON report for
//! machines (written atomically into the output directory), and the exit code.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::state::{BatchState, UserNext};
use crate::exit;

/// Where one job stands at the end of a run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) line: usize,
    pub(crate) request_id: Option<String>,
    pub(crate) state: BatchState,
    pub(crate) output: Option<String>,
    pub(crate) error: Option<String>,
    /// What the user does about it.
    pub(crate) next: UserNext,
}

/// Counts of rows per state, in a stable order.
pub(crate) fn counts(rows: &[Row]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for row in rows {
        *counts.entry(row.state.as_str()).or_insert(0) += 1;
    }
    counts
}

/// The report as JSON.
pub(crate) fn report_json(rows: &[Row], jobs_file: &Path, journal: &Path) -> Value {
    serde_json::json!({
        "event": "report",
        "jobs_file": jobs_file.display().to_string(),
        "journal": journal.display().to_string(),
        "counts": counts(rows),
        "jobs": rows,
    })
}

/// Writes `report` to `path` atomically (a temporary file beside it, then a rename).
pub(crate) fn write_report(path: &Path, report: &Value) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer_pretty(&mut file, report)?;
    file.write_all(b"\n")?;
    #[cfg(unix)]
    {
        // A report is for reading by anyone who can read the videos (temporary files are 0600).
        use std::os::unix::fs::PermissionsExt as _;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The summary for people: counts, then every job that needs attention (at most `limit`).
pub(crate) fn summary(rows: &[Row], limit: usize) -> String {
    let mut text = String::new();
    let counts = counts(rows);
    let line = counts
        .iter()
        .map(|(state, n)| format!("{n} {state}"))
        .collect::<Vec<_>>()
        .join(", ");
    text.push_str(&format!("{} jobs: {line}\n", rows.len()));
    let attention: Vec<&Row> = rows
        .iter()
        .filter(|r| r.state != BatchState::Succeeded)
        .collect();
    if attention.is_empty() {
        return text;
    }
    let width = attention
        .iter()
        .map(|r| r.id.len())
        .max()
        .unwrap_or(2)
        .max(2);
    text.push_str(&format!(
        "\n{:<width$}  {:<15}  {:<36}  what next\n",
        "id", "state", "request id"
    ));
    for row in attention.iter().take(limit) {
        let next = match row.next {
            UserNext::Rerun => "rerun the same command",
            UserNext::CheckAccount => "check the account's requests, then --resubmit-unknown",
            UserNext::FixInput => "fix the line",
            UserNext::Nothing => "-",
        };
        let error = row
            .error
            .as_deref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        text.push_str(&format!(
            "{:<width$}  {:<15}  {:<36}  {next}{error}\n",
            row.id,
            row.state.as_str(),
            row.request_id.as_deref().unwrap_or("-"),
        ));
    }
    if attention.len() > limit {
        text.push_str(&format!(
            "… and {} more in the report\n",
            attention.len() - limit
        ));
    }
    text
}

/// The exit code: 0 when every video is saved; otherwise the most pressing reason, a signal
/// (`interrupted`: its exit code) first.
pub(crate) fn exit_code(rows: &[Row], interrupted: Option<u8>) -> u8 {
    let any = |state: BatchState| rows.iter().any(|r| r.state == state);
    if let Some(code) = interrupted {
        code
    } else if any(BatchState::Unknown) {
        exit::SUBMIT_OUTCOME_UNKNOWN
    } else if any(BatchState::Failed) || any(BatchState::Rejected) || any(BatchState::Invalid) {
        exit::JOB_FAILED
    } else if any(BatchState::Cancelled) {
        exit::JOB_CANCELLED
    } else if any(BatchState::SucceededWithoutFiles) {
        exit::SUCCEEDED_WITHOUT_FILES
    } else if any(BatchState::DownloadFailed) {
        exit::DOWNLOAD
    } else if rows.iter().any(|r| r.state != BatchState::Succeeded) {
        exit::TEMPORARY
    } else {
        exit::OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, state: BatchState) -> Row {
        Row {
            id: id.into(),
            line: 1,
            request_id: None,
            state,
            output: None,
            error: None,
            next: if state == BatchState::Unknown {
                UserNext::CheckAccount
            } else {
                UserNext::Nothing
            },
        }
    }

    #[test]
    fn the_exit_code_names_the_most_pressing_problem() {
        assert_eq!(
            exit_code(&[row("a", BatchState::Succeeded)], None),
            exit::OK
        );
        assert_eq!(
            exit_code(
                &[
                    row("a", BatchState::Succeeded),
                    row("b", BatchState::Pending)
                ],
                None
            ),
            exit::TEMPORARY
        );
        assert_eq!(
            exit_code(
                &[row("a", BatchState::Failed), row("b", BatchState::Unknown)],
                None
            ),
            exit::SUBMIT_OUTCOME_UNKNOWN
        );
        assert_eq!(
            exit_code(
                &[row("a", BatchState::Failed), row("b", BatchState::Pending)],
                None
            ),
            exit::JOB_FAILED
        );
        assert_eq!(
            exit_code(&[row("a", BatchState::Succeeded)], Some(exit::TERMINATED)),
            exit::TERMINATED
        );
    }

    #[test]
    fn the_summary_lists_only_jobs_needing_attention() {
        let text = summary(
            &[
                row("a", BatchState::Succeeded),
                row("bb", BatchState::Unknown),
                row("c", BatchState::Failed),
            ],
            1,
        );
        assert!(
            text.starts_with("3 jobs: 1 failed, 1 succeeded, 1 unknown\n"),
            "{text}"
        );
        assert!(text.contains("bb  unknown"), "{text}");
        assert!(text.contains("--resubmit-unknown"), "{text}");
        assert!(text.contains("… and 1 more"), "{text}");
        assert!(!text.contains("\na "), "{text}");
    }
}
