//! What a job reports as it goes, for progress displays and logs: drained with
//! [`Job::poll_event`](crate::Job::poll_event).

use std::fmt;
use std::time::Duration;

use crate::{CancelVerdict, Error, Outcome, RequestId, RequestKind};

/// Something that happened to a job.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The service accepted the submit: the job exists (and will be billed if it runs).
    Submitted {
        /// The new job's id: keep it to resume or cancel later.
        request_id: RequestId,
    },
    /// The job is queued (reported on entering the queue and whenever the position changes,
    /// including a job that went back from running to the queue).
    Queued {
        /// Jobs ahead of this one, when known.
        position: Option<u64>,
    },
    /// The job is running.
    Running,
    /// A call failed with a retryable error and will be tried again after `delay`.
    Retrying {
        /// The call.
        request: RequestKind,
        /// Which retry this is (1 for the first).
        retry: u32,
        /// When it will be tried again.
        delay: Duration,
        /// Why.
        reason: Error,
    },
    /// The service reported a status this client does not recognise; it is treated as not
    /// finished, for a bounded time.
    Unrecognised {
        /// The status, as sent.
        status: String,
    },
    /// What became of a cancel request (also available from
    /// [`Job::cancel_status`](crate::Job::cancel_status)).
    Cancel(CancelStatus),
    /// The job reached its outcome (also available from [`Job::outcome`](crate::Job::outcome)).
    Finished(Outcome),
}

/// Where a cancel request stands.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CancelStatus {
    /// Asked for; no verdict yet (the submit or the cancel call is in flight, or the verdict
    /// waits for the next status).
    Requested,
    /// No job exists, so there is nothing to cancel: the submit was never sent, or the
    /// service refused it. Nothing is billed.
    NothingToCancel,
    /// The service cancelled the job.
    Cancelled,
    /// Too late: the job is running; it will finish and be billed. The job is still followed,
    /// so its output is not lost.
    TooLate,
    /// The job had already finished.
    AlreadyFinished,
    /// The service refused to cancel a job it reports as still queued.
    Refused,
    /// The service accepted the cancel without a readable verdict, and the job still reads as
    /// queued: it may yet be cancelled, or run. Its status tells.
    Unconfirmed,
    /// The cancel call itself failed (after retries); the job is still followed.
    Failed(Error),
}

impl CancelStatus {
    /// Whether a verdict has been reached.
    pub fn is_settled(&self) -> bool {
        !matches!(self, Self::Requested)
    }

    /// The verdict, once settled: the same [`CancelVerdict`] a one-shot cancel gives, or the
    /// error that kept the cancel from being answered. `None` while [`Requested`](Self::Requested).
    pub fn verdict(&self) -> Option<Result<CancelVerdict, &Error>> {
        Some(Ok(match self {
            Self::Requested => return None,
            Self::Failed(error) => return Some(Err(error)),
            Self::NothingToCancel => CancelVerdict::NothingToCancel,
            Self::Cancelled => CancelVerdict::Cancelled,
            Self::TooLate => CancelVerdict::TooLate,
            Self::AlreadyFinished => CancelVerdict::AlreadyFinished,
            Self::Refused => CancelVerdict::Refused,
            Self::Unconfirmed => CancelVerdict::Unconfirmed,
        }))
    }
}

impl fmt::Display for CancelStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.verdict() {
            None => f.write_str("cancel requested; no verdict yet"),
            Some(Ok(verdict)) => f.write_str(verdict.describe()),
            Some(Err(error)) => write!(f, "the cancel failed: {error}"),
        }
    }
}

impl fmt::Display for Event {
    /// One line for people (logs, progress). Service text in it is not made terminal-safe here.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Submitted { request_id } => write!(f, "submitted: request id {request_id}"),
            Self::Queued {
                position: Some(position),
            } => write!(f, "queued (position {position})"),
            Self::Queued { position: None } => f.write_str("queued"),
            Self::Running => f.write_str("running"),
            Self::Retrying {
                request,
                retry,
                delay,
                reason,
            } => write!(
                f,
                "retrying {request} (retry {retry}) in {:.1}s: {reason}",
                delay.as_secs_f64()
            ),
            Self::Unrecognised { status } => {
                write!(f, "the service reports an unrecognised status {status:?}")
            }
            Self::Cancel(status) => write!(f, "cancel: {status}"),
            Self::Finished(outcome) => write!(f, "{outcome}"),
        }
    }
}
