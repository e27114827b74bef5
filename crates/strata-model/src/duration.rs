//! Durations as Prometheus spells them (`15s`, `1h30m`, `2d`, `1y`, `100ms`), and Go's
//! `time.Duration` rendering (`1h59m59.999s`) for tool output.

use crate::error::{Error, Result};

const UNITS: &[(&str, i64)] = &[
    ("ms", 1),
    ("s", 1000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
    ("w", 604_800_000),
    ("y", 31_536_000_000),
];

/// Parses a Prometheus duration into milliseconds. Units must appear from largest to
/// smallest, each at most once (`1h30m`, not `30m1h`); `0` alone is allowed.
pub fn parse_duration_ms(s: &str) -> Result<i64> {
    let err = |reason: &str| Error::InvalidDuration {
        input: s.to_owned(),
        reason: reason.to_owned(),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(err("empty string"));
    }
    let mut total: i64 = 0;
    let mut rest = s;
    let mut last_rank = usize::MAX;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(err("expected a number"));
        }
        let n: i64 = rest[..digits]
            .parse()
            .map_err(|_| err("number out of range"))?;
        rest = &rest[digits..];
        // "ms" must be tried before "m".
        let (rank, unit, mult) = UNITS
            .iter()
            .enumerate()
            .filter(|(_, (u, _))| rest.starts_with(u))
            .max_by_key(|(_, (u, _))| u.len())
            .map(|(i, (u, m))| (i, *u, *m))
            .ok_or_else(|| err("unknown unit"))?;
        if rank >= last_rank {
            return Err(err(
                "units must be ordered from largest to smallest, each once",
            ));
        }
        last_rank = rank;
        rest = &rest[unit.len()..];
        total = n
            .checked_mul(mult)
            .and_then(|x| total.checked_add(x))
            .ok_or_else(|| err("overflow"))?;
    }
    Ok(total)
}

/// Formats milliseconds as Go's `time.Duration.String()` does.
pub fn go_duration_string(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let neg = ms < 0;
    let mut u = ms.unsigned_abs();
    let mut out = String::new();
    if u < 1000 {
        out = format!("{u}ms");
    } else {
        let h = u / 3_600_000;
        u %= 3_600_000;
        let m = u / 60_000;
        u %= 60_000;
        let s = u / 1000;
        let frac = u % 1000;
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        if frac == 0 {
            out.push_str(&format!("{s}s"));
        } else {
            let f = format!("{frac:03}");
            out.push_str(&format!("{s}.{}s", f.trim_end_matches('0')));
        }
    }
    if neg { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prometheus_durations() {
        assert_eq!(parse_duration_ms("15s").unwrap(), 15_000);
        assert_eq!(parse_duration_ms("1h30m").unwrap(), 5_400_000);
        assert_eq!(parse_duration_ms("100ms").unwrap(), 100);
        assert_eq!(parse_duration_ms("2d").unwrap(), 172_800_000);
        assert_eq!(parse_duration_ms("1y").unwrap(), 31_536_000_000);
        assert!(parse_duration_ms("30m1h").is_err());
        assert!(parse_duration_ms("1.5h").is_err());
        assert!(parse_duration_ms("h").is_err());
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(go_duration_string(7_200_000), "2h0m0s");
        assert_eq!(go_duration_string(7_199_999), "1h59m59.999s");
        assert_eq!(go_duration_string(1500), "1.5s");
        assert_eq!(go_duration_string(61_000), "1m1s");
        assert_eq!(go_duration_string(5), "5ms");
    }
}

/// A duration as Prometheus' `model.Duration` prints it: each non-zero unit of
/// y (365d), w, d, h, m, s, ms in turn (`1m`, `1h30m`, `1500ms` → `1s500ms`), `0s` for zero.
pub fn prom_duration_string(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_owned();
    }
    let (neg, mut rest) = if ms < 0 {
        (true, ms.unsigned_abs())
    } else {
        (false, ms as u64)
    };
    const UNITS: [(&str, u64); 7] = [
        ("y", 365 * 24 * 3_600_000),
        ("w", 7 * 24 * 3_600_000),
        ("d", 24 * 3_600_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    for (name, size) in UNITS {
        let n = rest / size;
        if n > 0 {
            out.push_str(&n.to_string());
            out.push_str(name);
            rest -= n * size;
        }
    }
    out
}

#[cfg(test)]
mod prom_duration_tests {
    use super::prom_duration_string;

    #[test]
    fn prints_like_model_duration() {
        assert_eq!(prom_duration_string(60_000), "1m");
        assert_eq!(prom_duration_string(10_000), "10s");
        assert_eq!(prom_duration_string(5_400_000), "1h30m");
        assert_eq!(prom_duration_string(1_500), "1s500ms");
        assert_eq!(prom_duration_string(0), "0s");
        assert_eq!(prom_duration_string(14 * 24 * 3_600_000), "2w");
    }
}
