//! What a client needs to talk to this emulator well: a token it accepts and a poll schedule
//! fit for its time scale (the emulator knows how fast its jobs run; the client cannot).
//!
//! `happyhorse-http`'s opt-in `emulator` feature reads these in `Client::for_emulator`; any other
//! client (core's `Job` over another transport, the CLI) can read them too.

use std::time::Duration;

use happyhorse_core::PollPolicy;

use crate::builder::ProcessingTime;
use crate::server::RunningEmulator;

/// The token [`RunningEmulator::accepted_token`] gives when the emulator accepts any token.
const ANY_TOKEN: &str = "emulator-token";

/// The closest and widest poll intervals [`RunningEmulator::poll_interval`] suggests.
const POLL_FLOOR: Duration = Duration::from_millis(5);
const POLL_CEILING: Duration = Duration::from_secs(1);

/// How many polls fit into the shortest job: detection lag is at most 1/20 of a job.
const POLLS_PER_SHORTEST_JOB: u32 = 20;

/// A manual clock moves only when a test advances it: a client should notice promptly.
const MANUAL_CLOCK_POLL: Duration = Duration::from_millis(10);

impl RunningEmulator {
    /// A token this emulator accepts: the first of [`tokens`](crate::EmulatorBuilder::tokens)
    /// when the builder set some, otherwise a fixed placeholder (any non-empty token is accepted).
    pub fn accepted_token(&self) -> &str {
        self.config()
            .tokens
            .first()
            .map_or(ANY_TOKEN, |token| token.expose())
    }

    /// How often a client should poll this emulator: a twentieth of its shortest job in real
    /// time (its processing time divided by its time scale), between 5 ms and 1 s; 10 ms on a
    /// manual clock. With it a job is seen to end within a twentieth of its own duration —
    /// instead of the seconds the default schedule, tuned for minutes-long real jobs, would add.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> anyhow::Result<()> {
    /// use std::time::Duration;
    /// use happyhorse_emulator::{Emulator, ProcessingTime};
    ///
    /// let emulator = Emulator::builder()
    ///     .processing_time(ProcessingTime::Fixed(Duration::from_secs(100)))
    ///     .time_scale(100.0) // each job takes 1 s of real time
    ///     .start()
    ///     .await?;
    /// assert_eq!(emulator.poll_interval(), Duration::from_millis(50));
    /// emulator.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn poll_interval(&self) -> Duration {
        let config = self.config();
        if config.manual_clock {
            return MANUAL_CLOCK_POLL;
        }
        let shortest = match config.processing {
            ProcessingTime::Fixed(duration) => duration,
            ProcessingTime::Uniform { min, .. } => min,
        };
        // A time scale far below 1 can make the real duration too long for a `Duration`.
        let real = Duration::try_from_secs_f64(shortest.as_secs_f64() / config.time_scale)
            .unwrap_or(Duration::MAX);
        (real / POLLS_PER_SHORTEST_JOB).clamp(POLL_FLOOR, POLL_CEILING)
    }

    /// [`poll_interval`](Self::poll_interval) as core's [`PollPolicy`] (a fixed schedule; the
    /// default whole-job deadline stays).
    pub fn poll_policy(&self) -> PollPolicy {
        PollPolicy::fixed(self.poll_interval())
    }
}
