//! Policies are values: how often to poll ([`PollPolicy`]) and how to retry ([`RetryPolicy`]);
//! what the jobs of a batch share is a [`Throttle`].
//! A new rule is a new value, never an edit to the state machine.

mod poll;
mod retry;
mod throttle;

pub use poll::{PollContext, PollPhase, PollPolicy};
pub use retry::RetryPolicy;
pub use throttle::{Throttle, ThrottleStats};

/// `base` scaled by a uniform factor in `[1 - spread, 1 + spread]`, from the job's seeded generator.
pub(crate) fn jitter(
    base: std::time::Duration,
    spread: f64,
    rng: &mut fastrand::Rng,
) -> std::time::Duration {
    if spread <= 0.0 {
        return base;
    }
    base.mul_f64(1.0 - spread + 2.0 * spread * rng.f64())
}
