//! What the jobs of one batch share: a retry quota, so a struggling service is not hammered by
//! every job retrying on its own budget, and a pause, so one `Retry-After` slows them all.
//!
//! The quota follows the AWS SDKs' "standard" retry mode: a bucket of tokens; each retry costs
//! some; a call that succeeds at once refunds one, and a call that succeeds after a retry gets
//! that retry's price back. While the service is healthy the bucket stays full; when calls keep
//! failing even after retries, retries stop for every job until answers succeed again.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// A retry quota and a pause, shared by every [`Job`](crate::Job) configured with a clone of it
/// (see [`JobConfig::with_throttle`](crate::JobConfig::with_throttle)). Cheap to clone; clones
/// share one state.
///
/// ```
/// use std::time::{Duration, Instant};
/// use happyhorse_core::Throttle;
///
/// let throttle = Throttle::new(10).with_costs(5, 1);
/// assert!(throttle.try_spend_retry());
/// assert!(throttle.try_spend_retry());
/// assert!(!throttle.try_spend_retry(), "10 tokens pay for two retries");
/// throttle.record_success(false);
/// assert_eq!(throttle.stats().tokens, 1);
/// throttle.record_success(true); // a retried call succeeded: its retry is paid back
/// assert_eq!(throttle.stats().tokens, 6);
///
/// let now = Instant::now();
/// throttle.pause_until(now + Duration::from_secs(7));
/// assert_eq!(throttle.paused_until(now), Some(now + Duration::from_secs(7)));
/// assert_eq!(throttle.paused_until(now + Duration::from_secs(8)), None);
/// ```
#[derive(Clone)]
pub struct Throttle {
    shared: Arc<Mutex<Shared>>,
}

#[derive(Debug, Clone)]
struct Shared {
    tokens: u32,
    capacity: u32,
    retry_cost: u32,
    success_refund: u32,
    paused_until: Option<Instant>,
    retries_allowed: u64,
    retries_denied: u64,
    pauses: u64,
}

/// A snapshot of a [`Throttle`]: its tokens and what it decided so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThrottleStats {
    /// Tokens left in the bucket.
    pub tokens: u32,
    /// The bucket's size.
    pub capacity: u32,
    /// Retries the quota paid for.
    pub retries_allowed: u64,
    /// Retries refused because the bucket was empty.
    pub retries_denied: u64,
    /// How many times a `Retry-After` paused (or lengthened the pause of) every job.
    pub pauses: u64,
}

impl Default for Throttle {
    /// 500 tokens, 5 per retry, 1 back per call that succeeds at once: about 100 failed retries
    /// in a row before retries stop, the AWS SDKs' defaults.
    fn default() -> Self {
        Self::new(500)
    }
}

impl Throttle {
    /// A full bucket of `capacity` tokens; a retry costs 5 and a success refunds 1.
    pub fn new(capacity: u32) -> Self {
        Self {
            shared: Arc::new(Mutex::new(Shared {
                tokens: capacity,
                capacity,
                retry_cost: 5,
                success_refund: 1,
                paused_until: None,
                retries_allowed: 0,
                retries_denied: 0,
                pauses: 0,
            })),
        }
    }

    /// The same bucket with another price per retry and refund per successful answer.
    pub fn with_costs(self, retry_cost: u32, success_refund: u32) -> Self {
        {
            let mut shared = self.lock();
            shared.retry_cost = retry_cost;
            shared.success_refund = success_refund;
        }
        self
    }

    /// Takes the price of one retry from the bucket; `false` (and nothing taken) when it cannot pay.
    pub fn try_spend_retry(&self) -> bool {
        let mut shared = self.lock();
        if shared.tokens >= shared.retry_cost {
            shared.tokens -= shared.retry_cost;
            shared.retries_allowed += 1;
            true
        } else {
            shared.retries_denied += 1;
            false
        }
    }

    /// A call succeeded: refunds one token, or a retry's price when the call succeeded after a
    /// retry this throttle paid for.
    pub fn record_success(&self, after_paid_retry: bool) {
        let mut shared = self.lock();
        let refund = if after_paid_retry {
            shared.retry_cost
        } else {
            shared.success_refund
        };
        shared.tokens = shared.tokens.saturating_add(refund).min(shared.capacity);
    }

    /// Holds every job's next request until `until` (a later pause already set is kept).
    pub fn pause_until(&self, until: Instant) {
        let mut shared = self.lock();
        if shared.paused_until.is_none_or(|current| current < until) {
            shared.paused_until = Some(until);
            shared.pauses += 1;
        }
    }

    /// When requests may go again, if that is after `now`.
    pub fn paused_until(&self, now: Instant) -> Option<Instant> {
        self.lock().paused_until.filter(|until| *until > now)
    }

    /// The bucket and the decisions so far.
    pub fn stats(&self) -> ThrottleStats {
        let shared = self.lock();
        ThrottleStats {
            tokens: shared.tokens,
            capacity: shared.capacity,
            retries_allowed: shared.retries_allowed,
            retries_denied: shared.retries_denied,
            pauses: shared.pauses,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        // The state is a few counters, valid after any panic: a poisoned lock is still usable.
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Throttle").field(&self.stats()).finish()
    }
}

impl PartialEq for Throttle {
    /// Two throttles are equal when they are the same shared state.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}
