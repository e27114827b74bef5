//! Sample values as Prometheus writes them in JSON, fast: Go's
//! `strconv.FormatFloat(v, 'f', -1, 64)`, or `'e'` when `|v| < 1e-6` or `|v| >= 1e21`.
//!
//! Go picks the shortest digits that read back as `v` with the Ryū algorithm, so the
//! digits come from the `ryu` crate (the same algorithm and tie rules); only the
//! layout is Go's. [`super::json::format_float`] is the slow reference it is tested
//! against.

/// At most 17 significant digits and the decimal exponent of the first one.
struct Decimal {
    neg: bool,
    digits: [u8; 17],
    len: usize,
    /// `v = 0.d1d2… × 10^point`.
    point: i32,
}

/// Reads ryu's text (`-1.5e-7`, `123.45`, `1e21`, `0.001`, `1.0`) as digits and point.
fn decimal(text: &str) -> Option<Decimal> {
    let (neg, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (mant, exp) = match rest.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (rest, 0),
    };
    let mut d = Decimal {
        neg,
        digits: [0; 17],
        len: 0,
        point: 0,
    };
    let mut int_digits = 0i32;
    let mut seen_dot = false;
    let mut leading = true;
    for b in mant.bytes() {
        match b {
            b'.' => seen_dot = true,
            b'0'..=b'9' => {
                if leading && b == b'0' {
                    // Leading zeros only move the point.
                    if seen_dot {
                        int_digits -= 1;
                    }
                    continue;
                }
                leading = false;
                if !seen_dot {
                    int_digits += 1;
                }
                *d.digits.get_mut(d.len)? = b;
                d.len += 1;
            }
            _ => return None,
        }
    }
    while d.len > 0 && d.digits[d.len - 1] == b'0' {
        d.len -= 1;
    }
    if d.len == 0 {
        return None;
    }
    d.point = int_digits + exp;
    Some(d)
}

/// Appends `v` (finite, not zero) as Go formats it; false if it could not.
fn write_nonzero(out: &mut String, v: f64) -> bool {
    let mut buf = ryu::Buffer::new();
    let Some(d) = decimal(buf.format_finite(v)) else {
        return false;
    };
    let digits = &d.digits[..d.len];
    let Ok(text) = std::str::from_utf8(digits) else {
        return false;
    };
    if d.neg {
        out.push('-');
    }
    let abs = v.abs();
    if (1e-6..1e21).contains(&abs) {
        if d.point <= 0 {
            out.push_str("0.");
            for _ in 0..-d.point {
                out.push('0');
            }
            out.push_str(text);
        } else {
            let p = d.point as usize;
            if d.len <= p {
                out.push_str(text);
                for _ in d.len..p {
                    out.push('0');
                }
            } else {
                out.push_str(&text[..p]);
                out.push('.');
                out.push_str(&text[p..]);
            }
        }
    } else {
        out.push_str(&text[..1]);
        if d.len > 1 {
            out.push('.');
            out.push_str(&text[1..]);
        }
        let e = d.point - 1;
        out.push('e');
        out.push(if e < 0 { '-' } else { '+' });
        let a = e.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(itoa(a, &mut [0u8; 10]));
    }
    true
}

fn itoa(mut n: u32, buf: &mut [u8; 10]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

/// Appends `v` as Prometheus formats a sample value (without quotes).
pub fn write_value(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else if v == 0.0 {
        out.push_str(if v.is_sign_negative() { "-0" } else { "0" });
    } else if !write_nonzero(out, v) {
        out.push_str(&super::json::format_float(v));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::json::format_float;
    use proptest::prelude::*;

    fn fast(v: f64) -> String {
        let mut s = String::new();
        write_value(&mut s, v);
        s
    }

    #[test]
    fn edges_match_the_reference() {
        let mut vals = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            1e-6,
            9.99e-7,
            1e-7,
            1.5e-5,
            1e20,
            1e21,
            1e22,
            -1.5e22,
            1e-300,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            0.30000000000000004,
            123456789012.5,
            1e15,
            1e16,
            1e17,
            2f64.powi(53),
            2f64.powi(63),
            1e100,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            43.585964912280694,
            1e-5,
            1e-4,
        ];
        for e in -30..30 {
            vals.push(10f64.powi(e));
            vals.push(1.25 * 10f64.powi(e));
            vals.push(-9.875 * 10f64.powi(e));
        }
        for v in vals {
            assert_eq!(fast(v), format_float(v), "{v:e}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn any_bits_match_the_reference(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            prop_assert_eq!(fast(v), format_float(v));
        }

        #[test]
        fn ordinary_values_match_the_reference(x in -1e12f64..1e12, scale in -12i32..12) {
            let v = x * 10f64.powi(scale);
            prop_assert_eq!(fast(v), format_float(v));
        }
    }
}
