//! How a job ended: [`Outcome`], available from [`Job::outcome`](crate::Job::outcome) once terminal.

use std::fmt;
use std::time::{Duration, Instant};

use happyhorse_types::ResultResponse;
use serde_json::Value;

use crate::error::{ApiError, Error, JobFailure};
use crate::{PollPhase, RequestId};

/// The end of a job.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// The job succeeded.
    Succeeded {
        /// The job's id.
        request_id: RequestId,
        /// The `output`, as sent: any JSON. Its files are
        /// [`output_files`](crate::vocabulary::output_files); the model's typed output is a view
        /// of it that may not fit.
        output: Value,
        /// The whole `/result` answer (timestamps, cost).
        result: Box<ResultResponse>,
    },
    /// The job ran and failed; the service says why.
    Failed {
        /// The job's id.
        request_id: RequestId,
        /// The service's reason.
        failure: JobFailure,
    },
    /// The job was cancelled; `request_id` is `None` when the submit was never sent.
    Cancelled {
        /// The job's id, when it existed.
        request_id: Option<RequestId>,
    },
    /// The policy's whole-job deadline passed first. The job is not cancelled: it may still
    /// finish (and be billed); resume it with its id, or cancel it.
    DeadlineExceeded {
        /// The job's id; `None` when the submit never reached the service.
        request_id: Option<RequestId>,
        /// The deadline that passed.
        deadline: Duration,
        /// The phase last reported.
        last_phase: Option<PollPhase>,
    },
    /// The submit may or may not have created a job, and no id came back. The API has no
    /// idempotency key, so it was not repeated: a job may exist and be billed; look for it in the
    /// account's request list on RunComfy before submitting again, or a second job may be billed.
    SubmitOutcomeUnknown(Box<SubmitUnknown>),
    /// The service refused the submit (bad input, token, balance, rate limit): no job was created.
    Rejected {
        /// The service's answer.
        error: ApiError,
    },
    /// The client stopped following the job: a call failed for good (retries exhausted, the
    /// job is unknown to the service, the token was refused, an unrecognised status persisted).
    /// With an id, the job may still be running: resume it later. Without one, no job was created.
    Abandoned {
        /// The job's id, if it was created.
        request_id: Option<RequestId>,
        /// Why.
        error: Error,
    },
}

/// Everything known about a submit whose fate is unknown.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SubmitUnknown {
    /// The model the input was sent to.
    pub model_id: String,
    /// When the last attempt was sent.
    pub sent_at: Instant,
    /// The same, measured from the job's start.
    pub sent_after: Duration,
    /// How many times the submit was sent (only `NotSent` failures are repeated).
    pub attempts: u32,
    /// The size of the input that was sent.
    pub body_bytes: usize,
    /// Why the outcome is unknown: a transport failure after sending, a 5xx, a garbled answer.
    pub reason: Error,
    /// Whether the user had asked to cancel.
    pub cancel_requested: bool,
}

impl Outcome {
    /// The job's id, when a job was created and its id is known.
    pub fn request_id(&self) -> Option<&RequestId> {
        match self {
            Self::Succeeded { request_id, .. } | Self::Failed { request_id, .. } => {
                Some(request_id)
            }
            Self::Cancelled { request_id }
            | Self::DeadlineExceeded { request_id, .. }
            | Self::Abandoned { request_id, .. } => request_id.as_ref(),
            Self::SubmitOutcomeUnknown(_) | Self::Rejected { .. } => None,
        }
    }

    /// Whether the job succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Succeeded { .. })
    }
}

impl Outcome {
    /// What happened, without its cause (see [`cause`](Self::cause)): the first layer of an
    /// error chain. [`Display`](fmt::Display) is the headline followed by the cause.
    pub fn headline(&self) -> String {
        let id = |id: &Option<RequestId>| {
            id.as_ref()
                .map_or_else(|| "(none)".to_owned(), ToString::to_string)
        };
        match self {
            Self::Succeeded { request_id, .. } => format!("job {request_id} succeeded"),
            Self::Failed {
                request_id,
                failure,
            } => format!("job {request_id} failed: {failure}"),
            Self::Cancelled { request_id: None } => {
                "cancelled before the submit was sent; nothing was created".to_owned()
            }
            Self::Cancelled { request_id } => format!("job {} cancelled", id(request_id)),
            Self::DeadlineExceeded {
                request_id: None,
                deadline,
                ..
            } => format!(
                "the {deadline:.0?} deadline passed before the submit could be sent; nothing was created"
            ),
            Self::DeadlineExceeded {
                request_id,
                deadline,
                ..
            } => format!(
                "stopped waiting for job {} after the {deadline:.0?} deadline; it was not cancelled",
                id(request_id),
            ),
            Self::SubmitOutcomeUnknown(unknown) => format!(
                "the submit to {} may have created a job, but no request id came back: a job may \
                 exist and be billed. Look for it in the account's request list on RunComfy \
                 (happyhorse has no list command yet); submitting again may bill twice",
                unknown.model_id
            ),
            Self::Rejected { .. } => "the submit was refused; no job was created".to_owned(),
            Self::Abandoned {
                request_id: None, ..
            } => "no job was created".to_owned(),
            Self::Abandoned { request_id, .. } => {
                format!("stopped following job {}", id(request_id))
            }
        }
    }

    /// Why it happened, when an error says it: the service's refusal, the failure that stopped
    /// the client following, the failure that left a submit's fate unknown.
    pub fn cause(&self) -> Option<&Error> {
        match self {
            Self::SubmitOutcomeUnknown(unknown) => Some(&unknown.reason),
            Self::Abandoned { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Whether following the job again (by its id) may still get its result: the job exists, has
    /// not ended, and what stopped the client is not final (an unknown or expired id is).
    pub fn can_resume(&self) -> bool {
        match self {
            Self::DeadlineExceeded {
                request_id: Some(_),
                ..
            } => true,
            Self::Abandoned {
                request_id: Some(_),
                error,
            } => error.is_resumable(),
            _ => false,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline())?;
        if let Self::Rejected { error } = self {
            write!(f, ": {error}")?;
        }
        if let Some(cause) = self.cause() {
            write!(f, ": {}", crate::error::chain(cause))?;
        }
        Ok(())
    }
}
