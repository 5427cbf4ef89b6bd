//! Local arguments that are not part of a model's input, parsed so that no value can crash the
//! program: durations (with `humantime`, shared by the CLI and the emulator) and byte sizes, each
//! with an upper bound the caller names and a clear error above it.

use std::time::Duration;

/// Parses a duration such as `90s`, `1.5s`, `500ms`, `10m`, `1h 30m` or `7d` (humantime's
/// units); a bare number is seconds. Refuses anything above `max`, naming the bound (zero is
/// accepted: a caller that needs a positive duration checks it).
///
/// ```
/// use std::time::Duration;
/// use happyhorse_core::validate::parse_duration;
///
/// let week = Duration::from_secs(7 * 86_400);
/// assert_eq!(parse_duration("90", week), Ok(Duration::from_secs(90)));
/// assert_eq!(parse_duration("1h 30m", week), Ok(Duration::from_secs(5400)));
/// assert_eq!(parse_duration("1.5s", week), Ok(Duration::from_millis(1500)));
/// assert_eq!(
///     parse_duration("18446744073709551615s", week).unwrap_err(),
///     "\"18446744073709551615s\" is too long: at most 7days"
/// );
/// assert!(parse_duration("soon", week).unwrap_err().contains("expected a duration such as 90s"));
/// ```
pub fn parse_duration(text: &str, max: Duration) -> Result<Duration, String> {
    let trimmed = text.trim();
    let shown = shorten_flag(trimmed);
    let bare_number = !trimmed.is_empty()
        && trimmed.chars().all(|c| c.is_ascii_digit() || c == '.')
        && trimmed.chars().filter(|&c| c == '.').count() <= 1;
    let with_unit;
    let spec = if bare_number {
        with_unit = format!("{trimmed}s");
        with_unit.as_str()
    } else {
        trimmed
    };
    let too_long = || {
        format!(
            "{shown:?} is too long: at most {}",
            humantime::format_duration(max)
        )
    };
    let duration = match humantime::parse_duration(spec) {
        Ok(duration) => duration,
        Err(humantime::DurationError::NumberOverflow) => return Err(too_long()),
        Err(error) => {
            return Err(format!(
                "expected a duration such as 90s, 500ms, 10m or 1h, got {shown:?} ({error})"
            ));
        }
    };
    if duration > max {
        return Err(too_long());
    }
    Ok(duration)
}

/// Parses a byte size: a whole number with an optional unit, `B`, SI `kB`/`MB`/`GB`/`TB`
/// (powers of 1000) or binary `KiB`/`MiB`/`GiB`/`TiB` (powers of 1024); units are
/// case-insensitive and may follow a space. Refuses anything above `max`, naming the bound.
///
/// ```
/// use happyhorse_core::validate::parse_size;
///
/// assert_eq!(parse_size("64MiB", u64::MAX), Ok(64 * 1024 * 1024));
/// assert_eq!(parse_size("10 MB", u64::MAX), Ok(10_000_000));
/// assert_eq!(parse_size("1000", u64::MAX), Ok(1000));
/// assert_eq!(parse_size("2GB", 1_000_000_000).unwrap_err(), "\"2GB\" is too large: at most 1000000000 bytes");
/// assert!(parse_size("ten", u64::MAX).is_err());
/// ```
pub fn parse_size(text: &str, max: u64) -> Result<u64, String> {
    let trimmed = text.trim();
    let shown = shorten_flag(trimmed);
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let bad = || format!("expected a size such as 1000, 64KiB, 10MB or 2GiB, got {shown:?}");
    if number.is_empty() {
        return Err(bad());
    }
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "t" | "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return Err(bad()),
    };
    let too_large = || format!("{shown:?} is too large: at most {max} bytes");
    let value: u64 = number.parse().map_err(|_| too_large())?;
    let bytes = value.checked_mul(multiplier).ok_or_else(too_large)?;
    if bytes > max {
        return Err(too_large());
    }
    Ok(bytes)
}

/// A flag's value for an error message, cut so a pasted file is never echoed whole.
fn shorten_flag(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const WEEK: Duration = Duration::from_secs(7 * 86_400);

    #[test]
    fn the_issues_values_are_refused_without_panicking() {
        for text in [
            "18446744073709551615s",
            "18446744073709551615",
            "99999999999999999999999999h",
            "1e308s",
            "1e308",
            "NaN",
            "inf",
            "-1s",
            "",
            "  ",
            "8d",
            "1.7976931348623157e308",
        ] {
            let result = parse_duration(text, WEEK);
            assert!(result.is_err(), "{text:?} gave {result:?}");
        }
        assert_eq!(parse_duration("7d", WEEK), Ok(WEEK));
        assert_eq!(
            parse_duration(" 250ms ", WEEK),
            Ok(Duration::from_millis(250))
        );
        assert_eq!(parse_duration("2m", WEEK), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("0", WEEK), Ok(Duration::ZERO));
        assert_eq!(
            parse_duration("5 days", WEEK),
            Ok(Duration::from_secs(5 * 86_400))
        );
    }

    #[test]
    fn sizes_parse_and_are_bounded() {
        assert_eq!(parse_size("1kib", u64::MAX), Ok(1024));
        assert_eq!(parse_size("3 GiB", u64::MAX), Ok(3 << 30));
        assert_eq!(parse_size("0", u64::MAX), Ok(0));
        for bad in [
            "",
            "MB",
            "1.5MB",
            "-1",
            "1 XB",
            "99999999999999999999999",
            "20000000TiB",
        ] {
            assert!(parse_size(bad, u64::MAX).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn no_string_makes_the_duration_parser_panic_or_exceed_its_bound(text in "\\PC{0,40}") {
            if let Ok(duration) = parse_duration(&text, WEEK) {
                prop_assert!(duration <= WEEK);
            }
        }

        #[test]
        fn duration_like_strings_stay_within_the_bound(
            number in "[0-9]{1,30}(\\.[0-9]{0,12})?",
            unit in "(|ns|us|ms|s|sec|m|min|h|hours|d|days|w|M|y)",
        ) {
            let text = format!("{number}{unit}");
            if let Ok(duration) = parse_duration(&text, WEEK) {
                prop_assert!(duration <= WEEK, "{text}");
            }
        }

        #[test]
        fn no_string_makes_the_size_parser_panic_or_exceed_its_bound(
            text in "\\PC{0,40}|[0-9]{1,25} ?(b|kb|mb|gb|tb|kib|mib|gib|tib|KB|MiB)?",
            max in any::<u64>(),
        ) {
            if let Ok(size) = parse_size(&text, max) {
                prop_assert!(size <= max);
            }
        }
    }
}
