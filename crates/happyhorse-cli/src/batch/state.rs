//! The batch's vocabulary as types: where a job ended, what the next run does about it (the
//! journal's `next`), and what the user does about it (the report's `next`). On disk and in the
//! report they are the same snake_case words as ever; a word outside them makes a journal
//! malformed instead of being carried along as free text.

use serde::{Deserialize, Serialize};

/// Where a job stands at the end of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BatchState {
    /// Its video is saved.
    Succeeded,
    /// The service says it succeeded, but its output holds no file to download.
    SucceededWithoutFiles,
    /// The job ran and failed.
    Failed,
    /// The job was cancelled.
    Cancelled,
    /// The service refused the submit; nothing was created.
    Rejected,
    /// The submit was never sent (or provably created nothing).
    NotSent,
    /// The submit may have created a job whose id was never received.
    Unknown,
    /// The job exists at the service and is not finished for us: a rerun follows it.
    Pending,
    /// The job succeeded but its video could not be saved: a rerun downloads it.
    DownloadFailed,
    /// The line is invalid; nothing was sent.
    Invalid,
}

impl BatchState {
    /// The word used in the journal, the report and the progress line.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            BatchState::Succeeded => "succeeded",
            BatchState::SucceededWithoutFiles => "succeeded_without_files",
            BatchState::Failed => "failed",
            BatchState::Cancelled => "cancelled",
            BatchState::Rejected => "rejected",
            BatchState::NotSent => "not_sent",
            BatchState::Unknown => "unknown",
            BatchState::Pending => "pending",
            BatchState::DownloadFailed => "download_failed",
            BatchState::Invalid => "invalid",
        }
    }
}

/// What the next run does with a job that ended (the journal's `next`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Next {
    /// Nothing: it ended for good.
    Nothing,
    /// Follow it again by its id.
    Resume,
    /// Submit it again: nothing was created.
    Resubmit,
    /// Leave it: a job may exist without its id; the user checks the account first.
    CheckAccount,
}

/// What the user does about a job (the report's `next`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum UserNext {
    /// Nothing.
    Nothing,
    /// Run the same command again.
    Rerun,
    /// Look for the job among the account's requests before `--resubmit-unknown`.
    CheckAccount,
    /// Fix the line of the jobs file.
    FixInput,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_on_disk_are_the_ones_always_written() {
        for (state, word) in [
            (BatchState::Succeeded, "succeeded"),
            (BatchState::NotSent, "not_sent"),
            (BatchState::DownloadFailed, "download_failed"),
        ] {
            assert_eq!(serde_json::to_value(state).unwrap(), word);
            assert_eq!(state.as_str(), word);
        }
        assert_eq!(
            serde_json::to_value(Next::CheckAccount).unwrap(),
            "check_account"
        );
        assert_eq!(
            serde_json::to_value(UserNext::FixInput).unwrap(),
            "fix_input"
        );
        assert!(serde_json::from_value::<BatchState>("succeeded\n".into()).is_err());
        assert!(serde_json::from_value::<Next>("resubmit_all".into()).is_err());
    }
}
