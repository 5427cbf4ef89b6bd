//! The private payloads of a job's states. Only `job` and its submodules touch them.

use std::time::{Duration, Instant};

use crate::{Outcome, PollPhase, RequestId, RequestKind, TransmitId};

pub(crate) enum State {
    /// The submit is not answered yet.
    Submit(Submit),
    /// The job exists: following it.
    Follow(Follow),
    /// Terminal: absorbs every later input.
    Done(Outcome),
}

/// The one request in flight, if any: a job sends one request at a time.
#[derive(Clone, Copy)]
pub(crate) struct InFlight {
    pub(crate) id: TransmitId,
    pub(crate) kind: RequestKind,
}

pub(crate) struct Submit {
    pub(crate) body: Vec<u8>,
    /// How many times the submit was handed out.
    pub(crate) attempts: u32,
    /// `NotSent` failures in a row.
    pub(crate) failures: u32,
    /// Not before this instant (backoff after a `NotSent`).
    pub(crate) not_before: Instant,
    pub(crate) in_flight: Option<InFlight>,
    pub(crate) last_sent_at: Option<Instant>,
    /// Cancel was asked for while the submit was in flight: cancel as soon as an id arrives.
    pub(crate) cancel_requested: bool,
    /// The deadline passed while the submit was in flight: end once it is answered.
    pub(crate) deadline_passed: bool,
}

/// The job's phase as last reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Just submitted; nothing reported yet.
    Submitted,
    Queued {
        position: Option<u64>,
    },
    Running,
    /// `/status` said it finished: read `/result` now.
    Finishing,
    /// An unrecognised status, or a resumed job not yet polled.
    Unknown,
}

pub(crate) struct Follow {
    pub(crate) request_id: RequestId,
    pub(crate) phase: Phase,
    /// When `phase` was first reported.
    pub(crate) phase_since: Instant,
    pub(crate) polls_in_phase: u32,
    /// The last moment the job was known not to be running yet (queued, or being submitted).
    pub(crate) last_not_running: Option<Instant>,
    /// The estimated start of the current run.
    pub(crate) running_since: Option<Instant>,
    pub(crate) next_poll: Instant,
    pub(crate) in_flight: Option<InFlight>,
    pub(crate) poll_failures: u32,
    pub(crate) unrecognised: Option<Unrecognised>,
    pub(crate) cancel: CancelStep,
    pub(crate) cancel_failures: u32,
    /// The deadline passed while a cancel was under way: only the cancel may still be sent.
    pub(crate) polls_stopped: bool,
}

impl Follow {
    pub(crate) fn new(
        request_id: RequestId,
        phase: Phase,
        last_not_running: Option<Instant>,
        now: Instant,
    ) -> Self {
        Self {
            request_id,
            phase,
            phase_since: now,
            polls_in_phase: 0,
            last_not_running,
            running_since: None,
            next_poll: now,
            in_flight: None,
            poll_failures: 0,
            unrecognised: None,
            cancel: CancelStep::Idle,
            cancel_failures: 0,
            polls_stopped: false,
        }
    }

    /// Which endpoint to poll: `/status` while queued (it alone gives the position), `/result`
    /// otherwise (it answers with the current state, and with the output once done — saving the
    /// extra request a `/status`-only loop needs at the end).
    pub(crate) fn poll_kind(&self) -> RequestKind {
        match self.phase {
            Phase::Submitted | Phase::Queued { .. } => RequestKind::Status,
            Phase::Running | Phase::Finishing | Phase::Unknown => RequestKind::Result,
        }
    }

    /// The phase as the polling policy sees it.
    pub(crate) fn poll_phase(&self, now: Instant) -> PollPhase {
        match self.phase {
            Phase::Submitted => PollPhase::Submitted,
            Phase::Queued { position } => PollPhase::Queued { position },
            Phase::Running | Phase::Finishing => PollPhase::Running {
                running_for: self
                    .running_since
                    .map(|since| now.saturating_duration_since(since)),
            },
            Phase::Unknown => PollPhase::Unknown,
        }
    }
}

pub(crate) struct Unrecognised {
    pub(crate) status: String,
    pub(crate) first_at: Instant,
    pub(crate) count: u32,
}

impl Unrecognised {
    pub(crate) fn elapsed(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.first_at)
    }
}

/// The cancel call's own little lifecycle inside a followed job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CancelStep {
    /// Not asked for, or settled.
    Idle,
    /// To be sent, not before this instant.
    Wanted {
        not_before: Instant,
    },
    InFlight,
    /// The service did not say (enough) what the cancel did: the next poll decides the verdict.
    /// `refused`: it said `not_cancellable` (else it accepted without a readable verdict).
    Verify {
        refused: bool,
    },
}
