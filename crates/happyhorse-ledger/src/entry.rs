//! What the ledger holds about a job: its key, its state, the intent written before the submit,
//! and the entry a query returns.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The ledger's own name for a job, given before the submit is sent (so a job whose submit
/// outcome is unknown still has a name): 32 random hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobKey(String);

impl JobKey {
    /// A new random key.
    pub fn new() -> Self {
        Self(format!("{:032x}", fastrand::u128(..)))
    }

    /// A key read back from the ledger.
    pub(crate) fn from_db(text: String) -> Self {
        Self(text)
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 8 digits, enough to tell jobs apart in a listing.
    pub fn short(&self) -> &str {
        &self.0[..self.0.len().min(8)]
    }
}

impl Default for JobKey {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for JobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a job stands, as far as this machine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JobState {
    /// The intent is recorded and the submit is (or was) on its way; no answer yet. A job left
    /// here by a process that died may exist at the service without its id being known.
    Submitting,
    /// The submit may have reached the service but its answer was lost: a job may exist.
    OutcomeUnknown,
    /// The submit provably created nothing (refused, or never sent).
    NotCreated,
    /// The service gave the job its id.
    Submitted,
    /// Waiting at the service.
    Queued,
    /// Running at the service.
    Running,
    /// Finished with an output.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Cancelled.
    Cancelled,
    /// The service does not know the id (any more): expired, deleted, or never one of its
    /// jobs (a mistyped id followed by `wait`). Nothing more can come of it.
    Gone,
}

impl JobState {
    /// Every state, in the order of a job's life.
    pub const ALL: [JobState; 10] = [
        JobState::Submitting,
        JobState::OutcomeUnknown,
        JobState::NotCreated,
        JobState::Submitted,
        JobState::Queued,
        JobState::Running,
        JobState::Succeeded,
        JobState::Failed,
        JobState::Cancelled,
        JobState::Gone,
    ];

    /// The state's name in the ledger, in `happyhorse jobs` and its `--state` filter.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Submitting => "submitting",
            JobState::OutcomeUnknown => "unknown",
            JobState::NotCreated => "not_created",
            JobState::Submitted => "submitted",
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
            JobState::Gone => "gone",
        }
    }

    /// The state named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the service is done with the job (or never had it): nothing can change it any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::NotCreated
                | JobState::Succeeded
                | JobState::Failed
                | JobState::Cancelled
                | JobState::Gone
        )
    }

    /// Whether a job may exist at the service without its id being known here.
    pub fn may_exist_without_id(self) -> bool {
        matches!(self, JobState::Submitting | JobState::OutcomeUnknown)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which batch (and which of its jobs) a job belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRef {
    /// The batch's journal, as an absolute path: it names the batch.
    pub journal: String,
    /// The job's id in the jobs file.
    pub job: String,
}

/// What is recorded before a submit is sent.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Intent {
    /// Who submits: `run`, `submit`, `batch`, `library`, …
    pub origin: String,
    /// The model id.
    pub model: String,
    /// The service's base URL: a job id means something only at its service.
    pub base_url: String,
    /// [`crate::input_digest`] of the input.
    pub input_digest: Option<String>,
    /// Where the video is to be saved, if it is to be.
    pub output: Option<PathBuf>,
    /// The batch the job belongs to.
    pub batch: Option<BatchRef>,
}

impl Intent {
    /// An intent to submit to `model` at `base_url`, on behalf of `origin`.
    pub fn new(
        origin: impl Into<String>,
        model: impl Into<String>,
        base_url: impl Into<String>,
    ) -> Self {
        Self {
            origin: origin.into(),
            model: model.into(),
            base_url: base_url.into(),
            input_digest: None,
            output: None,
            batch: None,
        }
    }

    /// With the input's digest.
    pub fn input_digest(mut self, digest: impl Into<String>) -> Self {
        self.input_digest = Some(digest.into());
        self
    }

    /// With the path the video is to be saved to.
    pub fn output(mut self, path: impl Into<PathBuf>) -> Self {
        self.output = Some(path.into());
        self
    }

    /// As job `job` of the batch whose journal is `journal`.
    pub fn batch(mut self, journal: impl Into<String>, job: impl Into<String>) -> Self {
        self.batch = Some(BatchRef {
            journal: journal.into(),
            job: job.into(),
        });
        self
    }
}

/// One job, as the ledger knows it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct JobEntry {
    /// The ledger's key.
    pub key: JobKey,
    /// Who submitted (or adopted) it.
    pub origin: String,
    /// The model id.
    pub model: String,
    /// The service's base URL.
    pub base_url: String,
    /// The input's digest, when the job was submitted from here.
    pub input_digest: Option<String>,
    /// When the intent was recorded.
    pub created_at: SystemTime,
    /// The service's id, once known.
    pub request_id: Option<String>,
    /// The latest state.
    pub state: JobState,
    /// When the state last changed.
    pub updated_at: SystemTime,
    /// Where the video was to be saved.
    pub output: Option<PathBuf>,
    /// Where it was saved, and its size.
    pub saved: Option<(PathBuf, u64)>,
    /// The cost the service reported, in USD.
    pub cost_usd: Option<f64>,
    /// The last error, for people.
    pub error: Option<String>,
    /// The batch the job belongs to.
    pub batch: Option<BatchRef>,
}

impl JobEntry {
    /// Whether following the job can still give something: it has an id, and it is not
    /// finished, or it succeeded but its video was to be saved and is not.
    pub fn is_unfinished(&self) -> bool {
        self.request_id.is_some()
            && match self.state {
                JobState::Submitted | JobState::Queued | JobState::Running => true,
                JobState::Succeeded => self.output.is_some() && self.saved.is_none(),
                _ => false,
            }
    }
}

/// What [`crate::Ledger::claim`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// No identical input was recorded: the intent now is, under this key.
    Claimed(JobKey),
    /// An identical input was recorded before (the most recent such job): nothing was written.
    Taken(Box<JobEntry>),
}

/// Which jobs [`crate::Ledger::jobs`] lists.
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct Filter {
    /// Only these states (all when empty).
    pub states: Vec<JobState>,
    /// Only jobs whose intent was recorded at or after this time.
    pub since: Option<SystemTime>,
    /// Only jobs at this service.
    pub base_url: Option<String>,
    /// At most this many, the most recent first (all when `None`).
    pub limit: Option<usize>,
}

/// Milliseconds since the Unix epoch, as stored.
pub(crate) fn to_millis(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// The time stored as `millis`.
pub(crate) fn from_millis(millis: i64) -> SystemTime {
    if millis >= 0 {
        UNIX_EPOCH + Duration::from_millis(millis.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_millis(millis.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_by_name() {
        for state in JobState::ALL {
            assert_eq!(JobState::parse(state.as_str()), Some(state));
        }
        assert_eq!(JobState::parse("in_queue"), None);
    }

    #[test]
    fn keys_are_random_and_times_round_trip() {
        assert_ne!(JobKey::new(), JobKey::new());
        assert_eq!(JobKey::new().as_str().len(), 32);
        let now = from_millis(to_millis(SystemTime::now()));
        assert_eq!(from_millis(to_millis(now)), now);
    }
}
