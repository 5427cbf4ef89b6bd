//! When to ask again: the polling policy.
//!
//! The default is tuned for HappyHorse-class video models (1–5 minutes of running, rarely under
//! one): it asks soon after submitting, slowly while queued (slower the further back in the
//! queue), sparsely during the first minute of running (finishing that early is rare; a quick
//! failure is still seen within ~20 s), then closely — every 1.8 s — while the job may finish
//! any moment, and backs off again to a cap for runs far longer than expected.
//! `docs/lifecycle.md` and `docs/benchmarks.md` give the measurements behind the numbers.

use std::time::Duration;

use super::jitter;

/// Where the job is, as the policy needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PollPhase {
    /// Submitted; nothing heard since.
    Submitted,
    /// Queued.
    Queued {
        /// Jobs ahead, when the service said.
        position: Option<u64>,
    },
    /// Running.
    Running {
        /// An estimate of how long it has been running: the middle of the interval in which it
        /// started. `None` when unknown (a resumed job found running).
        running_for: Option<Duration>,
    },
    /// The service reported a state this client does not recognise.
    Unknown,
}

/// What the policy is told when it picks the next delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PollContext {
    /// The job's phase, from the last answer.
    pub phase: PollPhase,
    /// How many answers in a row reported this phase (1 for the answer that revealed it).
    pub polls_in_phase: u32,
    /// For how long this phase has been observed.
    pub in_phase: Duration,
    /// Time since the job was submitted or resumed.
    pub elapsed: Duration,
}

impl PollContext {
    /// A context (mostly for testing policies).
    pub fn new(
        phase: PollPhase,
        polls_in_phase: u32,
        in_phase: Duration,
        elapsed: Duration,
    ) -> Self {
        Self {
            phase,
            polls_in_phase,
            in_phase,
            elapsed,
        }
    }
}

/// How often to poll, and for how long at most.
///
/// ```
/// use std::time::Duration;
/// use happyhorse_core::PollPolicy;
///
/// let default = PollPolicy::default();
/// assert_eq!(default.deadline(), Some(Duration::from_secs(30 * 60)));
///
/// // RunComfy's own CLI polls every 2 s; no deadline:
/// let fixed = PollPolicy::fixed(Duration::from_secs(2)).with_deadline(None);
/// assert_eq!(fixed.deadline(), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PollPolicy {
    schedule: Schedule,
    deadline: Option<Duration>,
    retry_after_max: Duration,
}

#[derive(Debug, Clone, PartialEq)]
enum Schedule {
    Fixed(Duration),
    Adaptive(Adaptive),
}

#[derive(Debug, Clone, PartialEq)]
struct Adaptive {
    /// First poll after the submit answered: soon, so a display shows the queue position.
    first: Duration,
    /// Queued at position ≤ 1 (or unknown): the delay.
    queue_base: Duration,
    /// Added per further position ahead.
    queue_per_position: Duration,
    queue_max: Duration,
    queue_jitter: f64,
    /// Running time during which finishing is unlikely: polled sparsely.
    quiet_period: Duration,
    /// First delay in the quiet period; doubles, and the last one lands on its end.
    quiet_first: Duration,
    /// The close interval once the job may finish any moment.
    watch: Duration,
    watch_jitter: f64,
    /// Running longer than this is unusual: the interval grows again…
    long_run_after: Duration,
    /// …by this many seconds per second of extra running…
    long_run_growth: f64,
    /// …up to this cap.
    cap: Duration,
}

impl Default for Adaptive {
    fn default() -> Self {
        Self {
            first: Duration::from_secs(1),
            queue_base: Duration::from_secs(6),
            queue_per_position: Duration::from_secs(6),
            queue_max: Duration::from_secs(30),
            queue_jitter: 0.1,
            quiet_period: Duration::from_secs(60),
            quiet_first: Duration::from_secs(20),
            watch: Duration::from_millis(1800),
            // Jobs start at random moments, so close polls need no jitter to spread out; jitter
            // here would only lengthen some intervals and with them the detection lag.
            watch_jitter: 0.0,
            long_run_after: Duration::from_secs(300),
            long_run_growth: 0.05,
            cap: Duration::from_secs(15),
        }
    }
}

/// The default whole-job deadline: RunComfy's own nodes give up after 30 minutes too.
const DEFAULT_DEADLINE: Duration = Duration::from_secs(30 * 60);
/// The longest `Retry-After` honoured on a poll: a longer one is read as this.
const DEFAULT_RETRY_AFTER_MAX: Duration = Duration::from_secs(60);

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            schedule: Schedule::Adaptive(Adaptive::default()),
            deadline: Some(DEFAULT_DEADLINE),
            retry_after_max: DEFAULT_RETRY_AFTER_MAX,
        }
    }
}

impl PollPolicy {
    /// Polls every `interval`, in every phase, without jitter (the 30-minute deadline stays;
    /// see [`with_deadline`](Self::with_deadline)).
    pub fn fixed(interval: Duration) -> Self {
        Self {
            schedule: Schedule::Fixed(interval),
            ..Self::default()
        }
    }

    /// The same policy with another whole-job deadline, measured from submit (or resume);
    /// `None` follows a job for as long as it takes.
    pub fn with_deadline(mut self, deadline: Option<Duration>) -> Self {
        self.deadline = deadline;
        self
    }

    /// The same policy with another cap on the `Retry-After` it honours on a successful poll.
    pub fn with_retry_after_max(mut self, max: Duration) -> Self {
        self.retry_after_max = max;
        self
    }

    /// The same policy with another quiet period: the running time during which finishing is
    /// unlikely and polls are sparse. `Duration::ZERO` watches closely from the start — right
    /// for models that take seconds. No effect on a fixed policy.
    pub fn with_quiet_period(mut self, quiet: Duration) -> Self {
        if let Schedule::Adaptive(adaptive) = &mut self.schedule {
            adaptive.quiet_period = quiet;
        }
        self
    }

    /// The same policy with another close-watch interval (default 1.8 s). No effect on a
    /// fixed policy.
    pub fn with_watch_interval(mut self, watch: Duration) -> Self {
        if let Schedule::Adaptive(adaptive) = &mut self.schedule {
            adaptive.watch = watch;
        }
        self
    }

    /// The whole-job deadline, if any.
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// The cap on an honoured `Retry-After`.
    pub fn retry_after_max(&self) -> Duration {
        self.retry_after_max
    }

    /// The delay before the next poll. Jitter comes from `rng` (seed it for reproducibility).
    ///
    /// ```
    /// use std::time::Duration;
    /// use happyhorse_core::{PollContext, PollPhase, PollPolicy};
    ///
    /// let policy = PollPolicy::default();
    /// let mut rng = fastrand::Rng::with_seed(7);
    /// let secs = |d: Duration| d.as_secs_f64();
    /// let queued = |position| PollContext::new(PollPhase::Queued { position: Some(position) }, 1, Duration::ZERO, Duration::ZERO);
    /// // Further back in the queue, slower:
    /// assert!(secs(policy.next_delay(&queued(8), &mut rng)) > 3.0 * secs(policy.next_delay(&queued(1), &mut rng)));
    /// // Running for two minutes: close watch.
    /// let running = PollContext::new(
    ///     PollPhase::Running { running_for: Some(Duration::from_secs(120)) }, 9, Duration::from_secs(120), Duration::from_secs(150));
    /// assert!(policy.next_delay(&running, &mut rng) < Duration::from_secs(2));
    /// ```
    pub fn next_delay(&self, context: &PollContext, rng: &mut fastrand::Rng) -> Duration {
        match &self.schedule {
            Schedule::Fixed(interval) => *interval,
            Schedule::Adaptive(adaptive) => adaptive.next_delay(context, rng),
        }
    }
}

impl Adaptive {
    fn next_delay(&self, context: &PollContext, rng: &mut fastrand::Rng) -> Duration {
        match context.phase {
            PollPhase::Submitted => self.first,
            PollPhase::Queued { position } => {
                let ahead = position.unwrap_or(1).saturating_sub(1);
                let ahead = u32::try_from(ahead).unwrap_or(u32::MAX);
                let base = self
                    .queue_base
                    .saturating_add(self.queue_per_position.saturating_mul(ahead));
                jitter(base.min(self.queue_max), self.queue_jitter, rng)
            }
            PollPhase::Running {
                running_for: Some(running),
            } if running < self.quiet_period => {
                let doublings = context.polls_in_phase.saturating_sub(1).min(16);
                let step = self.quiet_first.saturating_mul(1 << doublings);
                let left = self.quiet_period - running;
                // Land exactly on the quiet period's end rather than overshoot it, and never
                // leave a sliver shorter than half a step before it.
                if step >= left || left - step < self.quiet_first / 2 {
                    left
                } else {
                    jitter(step, 0.1, rng)
                }
            }
            PollPhase::Running {
                running_for: Some(running),
            } => self.watching(running, rng),
            PollPhase::Running { running_for: None } | PollPhase::Unknown => {
                self.watching(context.in_phase, rng)
            }
        }
    }

    fn watching(&self, running: Duration, rng: &mut fastrand::Rng) -> Duration {
        let overtime = running.saturating_sub(self.long_run_after).as_secs_f64();
        let interval = self.watch + Duration::from_secs_f64(overtime * self.long_run_growth);
        jitter(interval.min(self.cap), self.watch_jitter, rng)
    }
}
