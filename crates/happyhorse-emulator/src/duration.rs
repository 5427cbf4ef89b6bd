//! The emulator's bounded flag values: durations (core's `humantime`-based parser, the same the
//! CLI uses), the time scale, and byte sizes. No value can make the emulator panic later.

use std::time::Duration;

/// The longest simulated duration a flag may name (processing time, expiry, injected delay).
pub const SIMULATED_DURATION_MAX: Duration = Duration::from_secs(365 * 86_400);
/// The slowest time scale: simulated time 1000 times slower than real time.
pub const TIME_SCALE_MIN: f64 = 0.001;
/// The fastest time scale: a simulated day passes in under 0.1 s of real time.
pub const TIME_SCALE_MAX: f64 = 1_000_000.0;

/// `250ms`, `1.5s`, `100` (seconds), `2m`, `1h`, `7d`, `1h 30m`: at most a year.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    happyhorse_core::validate::parse_duration(text, SIMULATED_DURATION_MAX)
}

/// A time scale between [`TIME_SCALE_MIN`] and [`TIME_SCALE_MAX`].
///
/// ```
/// use happyhorse_emulator::parse_time_scale;
///
/// assert_eq!(parse_time_scale("60"), Ok(60.0));
/// assert_eq!(
///     parse_time_scale("1e308").unwrap_err(),
///     "the time scale must be from 0.001 to 1000000, got 1e308"
/// );
/// assert!(parse_time_scale("NaN").is_err());
/// ```
pub fn parse_time_scale(text: &str) -> Result<f64, String> {
    let scale: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("expected a number such as 60 or 0.5, got {text:?}"))?;
    check_time_scale(scale)
}

/// Whether `scale` is a usable time scale (finite, within the bounds), with the reason if not.
pub(crate) fn check_time_scale(scale: f64) -> Result<f64, String> {
    if (TIME_SCALE_MIN..=TIME_SCALE_MAX).contains(&scale) {
        Ok(scale)
    } else {
        Err(format!(
            "the time scale must be from {TIME_SCALE_MIN} to {TIME_SCALE_MAX}, got {scale:?}"
        ))
    }
}

/// A byte size for a flag (`1000`, `64MiB`, `10MB`), at most 1 TiB.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    happyhorse_core::validate::parse_size(text, 1 << 40)
}

/// A byte size that must fit in memory (`usize`).
pub(crate) fn parse_memory_size(text: &str) -> Result<usize, String> {
    parse_size(text).and_then(|n| usize::try_from(n).map_err(|e| e.to_string()))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("100"), Ok(Duration::from_secs(100)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
    }

    #[test]
    fn rejects_garbage_and_huge_values() {
        for bad in [
            "",
            "fast",
            "3 fortnights",
            "-1s",
            "18446744073709551615s",
            "366d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        for bad in ["1e308", "inf", "-1", "0", "0.0001", "NaN", "1000001", "x"] {
            assert!(parse_time_scale(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_time_scale("1000000"), Ok(TIME_SCALE_MAX));
        assert_eq!(parse_memory_size("64MiB"), Ok(64 << 20));
    }

    proptest! {
        #[test]
        fn no_string_makes_a_flag_parser_panic(text in "\\PC{0,30}") {
            let _ = parse_duration(&text);
            let _ = parse_size(&text);
            if let Ok(scale) = parse_time_scale(&text) {
                prop_assert!((TIME_SCALE_MIN..=TIME_SCALE_MAX).contains(&scale));
            }
        }
    }
}
