//! A job's settings: its policies, its jitter seed, and its tolerance for unknown statuses.

use std::time::Duration;

use crate::{PollPolicy, RetryPolicy, Throttle};

/// Settings for one [`Job`](crate::Job).
///
/// ```
/// use std::time::Duration;
/// use happyhorse_core::{JobConfig, PollPolicy, RetryPolicy};
///
/// let config = JobConfig::default()
///     .with_poll(PollPolicy::fixed(Duration::from_secs(2)))
///     .with_retry(RetryPolicy::default().with_max_attempts(3))
///     .with_seed(42);
/// assert_eq!(config.seed(), Some(42));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct JobConfig {
    poll: PollPolicy,
    retry: RetryPolicy,
    throttle: Option<Throttle>,
    seed: Option<u64>,
    include_cost: bool,
    unrecognised_max_count: u32,
    unrecognised_max_time: Duration,
}

impl Default for JobConfig {
    /// The default policies; a seed derived from the job (see [`with_seed`](Self::with_seed));
    /// no cost on the result; an unrecognised status tolerated for 20 answers or 10 minutes.
    fn default() -> Self {
        Self {
            poll: PollPolicy::default(),
            retry: RetryPolicy::default(),
            throttle: None,
            seed: None,
            include_cost: false,
            unrecognised_max_count: 20,
            unrecognised_max_time: Duration::from_secs(600),
        }
    }
}

impl JobConfig {
    /// With another polling policy.
    pub fn with_poll(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    /// With another retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Shares `throttle` with every other job given a clone of it: retries are paid from its
    /// quota as well as this job's budget, and a `Retry-After` one job receives holds them all.
    pub fn with_throttle(mut self, throttle: Throttle) -> Self {
        self.throttle = Some(throttle);
        self
    }

    /// With a seed for the jitter generator. Without one, the seed is derived from the job
    /// (its input, or its request id), which is reproducible yet differs between jobs; a driver
    /// running many identical jobs at once should pass a random seed so their polls spread out.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Whether to ask `/result` for the job's cost (`?include_cost=true`).
    pub fn with_include_cost(mut self, include: bool) -> Self {
        self.include_cost = include;
        self
    }

    /// How long an unrecognised status is treated as "not finished": at most `count` answers in
    /// a row and at most `time`; past either, the job is abandoned with a clear error.
    pub fn with_unrecognised_limit(mut self, count: u32, time: Duration) -> Self {
        self.unrecognised_max_count = count.max(1);
        self.unrecognised_max_time = time;
        self
    }

    /// The polling policy.
    pub fn poll(&self) -> &PollPolicy {
        &self.poll
    }

    /// The retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The shared throttle, if any.
    pub fn throttle(&self) -> Option<&Throttle> {
        self.throttle.as_ref()
    }

    /// The explicit seed, if any.
    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// Whether `/result` is asked for the cost.
    pub fn include_cost(&self) -> bool {
        self.include_cost
    }

    /// The unrecognised-status limit: (answers in a row, time).
    pub fn unrecognised_limit(&self) -> (u32, Duration) {
        (self.unrecognised_max_count, self.unrecognised_max_time)
    }
}
