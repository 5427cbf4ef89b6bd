//! How to retry a failed call: exponential backoff with jitter, `Retry-After` honoured but
//! clamped, a limit per call and a budget per job.
//!
//! Status, result and cancel calls are retried on 429, 408, 5xx, garbled answers and transport
//! failures. A submit is retried only after [`TransportError::NotSent`](crate::TransportError):
//! the API has no idempotency key, so repeating a submit that may have arrived can bill twice.

use std::time::Duration;

/// Backoff, limits and budget for retries.
///
/// ```
/// use std::time::Duration;
/// use happyhorse_core::RetryPolicy;
///
/// let policy = RetryPolicy::default();
/// let mut rng = fastrand::Rng::with_seed(1);
/// // The service asked for 10 s: honoured.
/// assert!(policy.delay(1, Some(Duration::from_secs(10)), &mut rng) >= Duration::from_secs(10));
/// // It asked for an hour: clamped to a minute.
/// assert_eq!(policy.delay(1, Some(Duration::from_secs(3600)), &mut rng), Duration::from_secs(60));
/// assert_eq!(RetryPolicy::none().max_attempts(), 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    initial: Duration,
    multiplier: f64,
    max_delay: Duration,
    /// Delays are drawn from `[base × (1 − jitter), base]`: spreads clients that failed together.
    jitter: f64,
    max_attempts: u32,
    budget: u32,
    retry_after_max: Duration,
}

impl Default for RetryPolicy {
    /// 1 s, doubling, at most 30 s apart; 6 attempts per call (about a minute of failures);
    /// 30 retries per job; `Retry-After` honoured up to 60 s.
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            multiplier: 2.0,
            max_delay: Duration::from_secs(30),
            jitter: 0.5,
            max_attempts: 6,
            budget: 30,
            retry_after_max: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Never retry: every failure is final.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            budget: 0,
            ..Self::default()
        }
    }

    /// The same policy with another first delay and maximum delay.
    pub fn with_backoff(mut self, initial: Duration, max_delay: Duration) -> Self {
        self.initial = initial;
        self.max_delay = max_delay.max(initial);
        self
    }

    /// The same policy with another number of attempts per call (the first try included;
    /// at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The same policy with another budget: the number of retries one job may spend in total.
    pub fn with_budget(mut self, retries: u32) -> Self {
        self.budget = retries;
        self
    }

    /// The same policy with another cap on an honoured `Retry-After`.
    pub fn with_retry_after_max(mut self, max: Duration) -> Self {
        self.retry_after_max = max;
        self
    }

    /// Attempts per call, the first try included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Retries one job may spend in total.
    pub fn budget(&self) -> u32 {
        self.budget
    }

    /// The longest backoff between two attempts (a `Retry-After` may ask for more, up to
    /// [`retry_after_max`](Self::retry_after_max)).
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// The cap on an honoured `Retry-After`.
    pub fn retry_after_max(&self) -> Duration {
        self.retry_after_max
    }

    /// The delay before retry number `retry` (1 for the first retry): the backoff, jittered,
    /// but never less than the service's `Retry-After` (itself clamped to the cap).
    pub fn delay(
        &self,
        retry: u32,
        retry_after: Option<Duration>,
        rng: &mut fastrand::Rng,
    ) -> Duration {
        let exponent = i32::try_from(retry.saturating_sub(1).min(30)).unwrap_or(30);
        let base = self
            .initial
            .mul_f64(self.multiplier.powi(exponent))
            .min(self.max_delay);
        let jittered = base.mul_f64(1.0 - self.jitter * rng.f64());
        match retry_after {
            Some(asked) => jittered.max(asked.min(self.retry_after_max)),
            None => jittered,
        }
    }
}
