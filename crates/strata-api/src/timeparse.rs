//! Timestamps and durations in request parameters, parsed as Prometheus parses them:
//! Unix seconds with up to millisecond precision or RFC 3339 (with fractional seconds),
//! and durations as float seconds or Prometheus duration strings.

use strata_model::duration::parse_duration_ms;
use strata_model::gofmt::go_quote;

/// Seconds of Prometheus' `MinTime`, the default start of series and label lookups.
const MIN_TIME_SECS: i64 = i64::MIN / 1000 + 62_135_596_801;
/// Seconds of Prometheus' `MaxTime` (whose nanoseconds are 999,999,999).
const MAX_TIME_SECS: i64 = i64::MAX / 1000 - 62_135_596_801;

/// `MinTime` in milliseconds.
pub const MIN_TIME_MS: i64 = MIN_TIME_SECS * 1000;
/// `MaxTime` in milliseconds.
pub const MAX_TIME_MS: i64 = MAX_TIME_SECS * 1000 + 999;

/// Parses a timestamp parameter into milliseconds; the error is Prometheus' text.
pub fn parse_time(s: &str) -> Result<i64, String> {
    let err = || format!("cannot parse {} to a valid timestamp", go_quote(s));
    if let Ok(f) = s.parse::<f64>() {
        if !f.is_finite() {
            return Err(err());
        }
        // As Go: whole seconds, then the fraction rounded to milliseconds, converted
        // to nanoseconds with truncation, normalised, and read back in milliseconds.
        let secs = f.trunc();
        let frac = ((f - secs) * 1000.0).round() / 1000.0;
        let mut s = secs as i64;
        let mut ns = (frac * 1e9) as i64;
        s = s.saturating_add(ns.div_euclid(1_000_000_000));
        ns = ns.rem_euclid(1_000_000_000);
        return Ok(s.saturating_mul(1000).saturating_add(ns / 1_000_000));
    }
    if let Some(ms) = parse_rfc3339(s) {
        return Ok(ms);
    }
    if s == format_rfc3339(MIN_TIME_SECS, 0) {
        return Ok(MIN_TIME_MS);
    }
    if s == format_rfc3339(MAX_TIME_SECS, 999_999_999) {
        return Ok(MAX_TIME_MS);
    }
    Err(err())
}

/// Parses a duration parameter (`step`, `timeout`, `lookback_delta`) into nanoseconds.
pub fn parse_duration_ns(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>() {
        let ns = f * 1e9;
        if ns.is_nan() || ns > i64::MAX as f64 || ns < i64::MIN as f64 {
            return Err(format!(
                "cannot parse {} to a valid duration. It overflows int64",
                go_quote(s)
            ));
        }
        return Ok(ns as i64);
    }
    parse_duration_ms(s)
        .ok()
        .and_then(|ms| ms.checked_mul(1_000_000))
        .ok_or_else(|| format!("cannot parse {} to a valid duration", go_quote(s)))
}

fn digits(s: &str, n: usize) -> Option<i64> {
    if s.len() == n && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` into milliseconds (fraction truncated).
fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(s.get(0..4)?, 4)?;
    let month = digits(s.get(5..7)?, 2)?;
    let day = digits(s.get(8..10)?, 2)?;
    let hour = digits(s.get(11..13)?, 2)?;
    let min = digits(s.get(14..16)?, 2)?;
    let sec = digits(s.get(17..19)?, 2)?;
    let mut rest = s.get(19..)?;
    let mut nanos = 0i64;
    if let Some(r) = rest.strip_prefix('.') {
        let n = r.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || n > 9 {
            return None;
        }
        nanos = r[..n].parse::<i64>().ok()? * 10i64.pow(9 - n as u32);
        rest = &r[n..];
    }
    let offset_secs = match rest {
        "Z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let oh = digits(&rest[1..3], 2)?;
            let om = digits(&rest[4..6], 2)?;
            if oh >= 24 || om >= 60 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour >= 24 || min >= 60 || sec >= 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset_secs;
    Some(secs * 1000 + nanos / 1_000_000)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Formats a UTC instant as Go's `time.RFC3339Nano` does (trailing zeros of the
/// fraction trimmed, years with at least four digits).
pub fn format_rfc3339(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let year = if y < 0 {
        format!("-{:04}", -y)
    } else {
        format!("{y:04}")
    };
    let mut out = format!(
        "{year}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if nanos > 0 {
        let f = format!("{nanos:09}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Formats milliseconds since the epoch as RFC 3339 in UTC.
pub fn format_rfc3339_ms(ms: i64) -> String {
    format_rfc3339(
        ms.div_euclid(1000),
        (ms.rem_euclid(1000) * 1_000_000) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_times() {
        assert_eq!(parse_time("1435781451.781"), Ok(1_435_781_451_781));
        assert_eq!(parse_time("1435781451"), Ok(1_435_781_451_000));
        assert_eq!(parse_time("-1.5"), Ok(-1500));
        assert_eq!(parse_time("1.0006"), Ok(1001));
        assert_eq!(
            parse_time("2015-07-01T20:10:51.781Z"),
            Ok(1_435_781_451_781)
        );
        assert_eq!(
            parse_time("2015-07-01T22:10:51.7819+02:00"),
            Ok(1_435_781_451_781)
        );
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_time("2024-02-29T00:00:00Z"), Ok(1_709_164_800_000));
        assert_eq!(
            parse_time("x").unwrap_err(),
            r#"cannot parse "x" to a valid timestamp"#
        );
        assert!(parse_time("2023-02-29T00:00:00Z").is_err());
        assert!(parse_time("2015-07-01 20:10:51Z").is_err());
        assert!(parse_time("NaN").is_err());
    }

    #[test]
    fn min_and_max_time_round_trip() {
        assert_eq!(
            format_rfc3339(MIN_TIME_SECS, 0),
            "-292273086-05-16T16:47:06Z"
        );
        assert_eq!(
            format_rfc3339(MAX_TIME_SECS, 999_999_999),
            "292277025-08-18T07:12:54.999999999Z"
        );
        assert_eq!(parse_time("-292273086-05-16T16:47:06Z"), Ok(MIN_TIME_MS));
        assert_eq!(
            parse_time("292277025-08-18T07:12:54.999999999Z"),
            Ok(MAX_TIME_MS)
        );
        assert_eq!(
            format_rfc3339_ms(1_435_781_451_781),
            "2015-07-01T20:10:51.781Z"
        );
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration_ns("15s"), Ok(15_000_000_000));
        assert_eq!(parse_duration_ns("1.5"), Ok(1_500_000_000));
        assert_eq!(parse_duration_ns("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(
            parse_duration_ns("x").unwrap_err(),
            r#"cannot parse "x" to a valid duration"#
        );
        assert_eq!(
            parse_duration_ns("1e300").unwrap_err(),
            r#"cannot parse "1e300" to a valid duration. It overflows int64"#
        );
    }
}
