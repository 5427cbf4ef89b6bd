//! The one clock of the async client, in the shape quinn gives its runtime (`now` and a timer):
//! the job driver, one-shot calls and the batch coordinator read time only through it.
//!
//! It reads tokio's clock, so a test on a paused runtime (`#[tokio::test(start_paused = true)]`)
//! controls every wait and every timestamp a job sees — no real sleeps, no timing assumptions.
//! Core never reads a clock; this is where its `now` comes from.

use std::time::Instant;

/// Time as the client sees it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Clock;

impl Clock {
    /// Now, on tokio's clock (paused and advanced by tests, real otherwise).
    pub(crate) fn now(self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    /// Sleeps until `deadline`; forever when there is none (only an event can wake the caller).
    pub(crate) async fn sleep_until(self, deadline: Option<Instant>) {
        match deadline {
            Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
            None => std::future::pending().await,
        }
    }
}
