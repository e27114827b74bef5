//! Sample values and timestamps, with Go's `strconv` syntax as Prometheus applies it.

/// The NaN bit pattern Prometheus stores for every NaN read from an exposition
/// (`value.NormalNaN`), so that a scraped NaN can never look like a stale marker.
pub const NORMAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0001;

fn is_decimal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    let mut mantissa = digits(&mut i);
    if i < b.len() && b[i] == b'.' {
        i += 1;
        mantissa += digits(&mut i);
    }
    if mantissa == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Parses a sample value like Go's `strconv.ParseFloat(s, 64)` restricted as Prometheus does
/// (no `_`, no hex floats): an optional sign, decimal digits with optional fraction and
/// exponent, `Inf`/`Infinity` (any case, optional sign) or `NaN` (any case, no sign).
/// Values that overflow `f64` are an error, as in Go. NaN is normalised to
/// [`NORMAL_NAN_BITS`].
pub fn parse_float(s: &str) -> Result<f64, String> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        return Ok(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if body.len() == s.len() && body.eq_ignore_ascii_case("nan") {
        return Ok(f64::from_bits(NORMAL_NAN_BITS));
    }
    if !is_decimal(body) {
        return Err(format!("invalid float {s:?}"));
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_infinite() => Err(format!("float {s:?} out of range")),
        Ok(v) => Ok(v),
        Err(_) => Err(format!("invalid float {s:?}")),
    }
}

/// Parses a text-format timestamp: a base-10 `int64` of milliseconds (optional sign).
pub fn parse_int_timestamp(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid timestamp {s:?}"));
    }
    s.parse::<i64>()
        .map_err(|_| format!("timestamp {s:?} out of range"))
}

/// Parses an OpenMetrics timestamp (float seconds) into milliseconds the way Prometheus
/// does: `int64(ts * 1000)`, i.e. truncated toward zero (saturating at the `i64` range).
pub fn parse_float_timestamp(s: &str) -> Result<i64, String> {
    let ts = parse_float(s).map_err(|e| format!("{e} as timestamp"))?;
    if !ts.is_finite() {
        return Err(format!("invalid timestamp {s:?}"));
    }
    Ok((ts * 1000.0) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_floats() {
        for (s, v) in [
            ("1", 1.0),
            ("-1.5", -1.5),
            ("+2", 2.0),
            ("1e3", 1000.0),
            ("1E-3", 0.001),
            (".5", 0.5),
            ("5.", 5.0),
            ("1.726839813016397e+09", 1.726839813016397e9),
            ("1e-400", 0.0),
        ] {
            assert_eq!(parse_float(s), Ok(v), "{s}");
        }
        for s in ["+Inf", "Inf", "inf", "infinity", "+INFINITY"] {
            assert_eq!(parse_float(s), Ok(f64::INFINITY), "{s}");
        }
        assert_eq!(parse_float("-Inf"), Ok(f64::NEG_INFINITY));
        for s in ["NaN", "nan", "NAN"] {
            assert_eq!(parse_float(s).map(f64::to_bits), Ok(NORMAL_NAN_BITS));
        }
    }

    #[test]
    fn bad_floats() {
        for s in [
            "", "+", ".", "e3", "1e", "1e+", "1_000", "0x1p-2", "0x10", "+NaN", "-nan", "1.2.3",
            "abc", "1 ", " 1", "infx", "1e400", "-1e400",
        ] {
            assert!(parse_float(s).is_err(), "{s:?}");
        }
        assert_eq!(parse_float("1_0"), Err("invalid float \"1_0\"".to_owned()));
        assert_eq!(
            parse_float("1e999"),
            Err("float \"1e999\" out of range".to_owned())
        );
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_int_timestamp("1395066363000"), Ok(1_395_066_363_000));
        assert_eq!(parse_int_timestamp("-5"), Ok(-5));
        assert_eq!(parse_int_timestamp("+5"), Ok(5));
        assert!(parse_int_timestamp("1.5").is_err());
        assert!(parse_int_timestamp("").is_err());
        assert!(parse_int_timestamp("-").is_err());
        assert!(parse_int_timestamp("99999999999999999999").is_err());
        assert_eq!(parse_float_timestamp("1.5"), Ok(1500));
        assert_eq!(
            parse_float_timestamp("1520879607.789"),
            Ok(1_520_879_607_789)
        );
        assert_eq!(parse_float_timestamp("1.0009"), Ok(1000));
        assert_eq!(parse_float_timestamp("-1.0009"), Ok(-1000));
        assert_eq!(parse_float_timestamp("1e3"), Ok(1_000_000));
        assert!(parse_float_timestamp("NaN").is_err());
        assert!(parse_float_timestamp("+Inf").is_err());
    }
}
