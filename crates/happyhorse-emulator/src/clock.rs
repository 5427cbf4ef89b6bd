//! The emulator's simulated clock.
//!
//! Every duration the emulator deals in (processing times, expiry, injected delays) is simulated time.
//! Simulated time runs `time_scale` times faster than real time, so a 100 s job finishes after 1 s of
//! real time at scale 100; a manual clock only moves when a test advances it.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Simulated time since the emulator started.
pub(crate) type SimTime = Duration;

#[derive(Debug)]
pub(crate) struct SimClock {
    start: Instant,
    wall_start: OffsetDateTime,
    scale: f64,
    /// `Some` for a manual clock: the simulated time, moved only by [`SimClock::advance`].
    manual: Option<Mutex<Duration>>,
}

impl SimClock {
    pub(crate) fn new(scale: f64, manual: bool) -> Self {
        Self {
            start: Instant::now(),
            wall_start: OffsetDateTime::now_utc(),
            scale,
            manual: manual.then(|| Mutex::new(Duration::ZERO)),
        }
    }

    /// Simulated time now.
    pub(crate) fn now(&self) -> SimTime {
        match &self.manual {
            Some(manual) => *manual.lock().unwrap(),
            None => self.start.elapsed().mul_f64(self.scale),
        }
    }

    /// How long a simulated duration lasts in real time (what a `sleep` must wait).
    pub(crate) fn to_real(&self, simulated: Duration) -> Duration {
        simulated.div_f64(self.scale)
    }

    /// Moves a manual clock forward; returns false on a real clock (which cannot be moved).
    pub(crate) fn advance(&self, by: Duration) -> bool {
        match &self.manual {
            Some(manual) => {
                *manual.lock().unwrap() += by;
                true
            }
            None => false,
        }
    }

    /// The wall-clock time at which the simulated instant `at` happened, as an ISO-8601 UTC
    /// timestamp with millisecond precision.
    ///
    /// A time-scaled run compresses real time, so at scale 60 a simulated 100 s job starts and
    /// ends 1.67 s apart by the wall clock — as the `Date` header says, and never in the future.
    /// A manual clock is not tied to real time: its instants are laid out from the start time
    /// one simulated second per second.
    pub(crate) fn timestamp(&self, at: SimTime) -> String {
        let real = match &self.manual {
            Some(_) => at,
            None => self.to_real(at),
        };
        let instant = self.wall_start + real;
        let millis = instant.millisecond();
        let instant = instant
            .replace_nanosecond(u32::from(millis) * 1_000_000)
            .unwrap_or(instant);
        instant
            .format(&Rfc3339)
            .unwrap_or_else(|_| instant.unix_timestamp().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let clock = SimClock::new(1.0, true);
        assert_eq!(clock.now(), Duration::ZERO);
        assert!(clock.advance(Duration::from_secs(5)));
        assert_eq!(clock.now(), Duration::from_secs(5));
        assert!(!SimClock::new(1.0, false).advance(Duration::from_secs(1)));
    }

    #[test]
    fn real_durations_are_divided_by_the_scale() {
        let clock = SimClock::new(100.0, false);
        assert_eq!(
            clock.to_real(Duration::from_secs(100)),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn a_scaled_clock_stamps_wall_clock_times() {
        let clock = SimClock::new(100.0, false);
        let start = OffsetDateTime::parse(&clock.timestamp(Duration::ZERO), &Rfc3339).unwrap();
        let later =
            OffsetDateTime::parse(&clock.timestamp(Duration::from_secs(100)), &Rfc3339).unwrap();
        // 100 simulated seconds at scale 100 are one real second.
        assert_eq!(later - start, time::Duration::seconds(1));
        // And no instant that has happened lies in the future.
        let now = OffsetDateTime::parse(&clock.timestamp(clock.now()), &Rfc3339).unwrap();
        assert!(now <= OffsetDateTime::now_utc() + time::Duration::milliseconds(1));
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_millis() {
        let clock = SimClock::new(1.0, true);
        let stamp = clock.timestamp(Duration::from_millis(1500));
        let parsed = OffsetDateTime::parse(&stamp, &Rfc3339).unwrap();
        assert!(stamp.ends_with('Z'), "{stamp}");
        assert_eq!(parsed.nanosecond() % 1_000_000, 0, "{stamp}");
        let later =
            OffsetDateTime::parse(&clock.timestamp(Duration::from_millis(2500)), &Rfc3339).unwrap();
        assert_eq!(later - parsed, time::Duration::seconds(1));
    }
}
