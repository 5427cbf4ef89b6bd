//! What a job reports as it goes, for progress displays and logs: drained with
//! [`Job::poll_event`](crate::Job::poll_event).

use std::time::Duration;

use crate::{Error, Outcome, RequestId, RequestKind};

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
    /// The cancel call itself failed (after retries); the job is still followed.
    Failed(Error),
}

impl CancelStatus {
    /// Whether a verdict has been reached.
    pub fn is_settled(&self) -> bool {
        !matches!(self, Self::Requested)
    }
}
