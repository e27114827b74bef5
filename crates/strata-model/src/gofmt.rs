//! Go-compatible formatting, so our tools print byte-for-byte what Prometheus' Go tools
//! print: `strconv.Quote` for label values and `%g` for sample values.

/// Formats a float as Go's `fmt.Sprintf("%g", v)` does: the shortest round-trip digits,
/// in exponent form when the decimal exponent is below -4 or at least 6 (`1e+06`,
/// `123456`, `1e-05`), with at least two exponent digits.
pub fn go_format_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let sci = shortest_sci(v);
    let (mant, exp) = match sci.split_once('e') {
        Some(p) => p,
        None => return sci,
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::with_capacity(24);
    if neg {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(&a.to_string());
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// The shortest round-trip digits of a finite, non-zero `v` in Rust's `{:e}` form
/// ("-1.2345e-7"), choosing as Go does when two digit strings of that length both read
/// back as `v`: the one nearest `v`, ties to even. Rust's shortest mode may pick the other
/// one (-1324328099170727.25 gives "…7273e15" where Go prints "…7272e+15"); the
/// correctly rounded form of the same length is Go's choice whenever it reads back.
fn shortest_sci(v: f64) -> String {
    let sci = format!("{v:e}");
    let digits = sci
        .split_once('e')
        .map_or(0, |(m, _)| m.chars().filter(char::is_ascii_digit).count());
    // Two candidates of equal length lie within one ULP of `v` only at 15+ digits.
    if digits >= 15 {
        let rounded = format!("{v:.*e}", digits - 1);
        if rounded != sci
            && rounded
                .parse::<f64>()
                .is_ok_and(|r| r.to_bits() == v.to_bits())
        {
            return rounded;
        }
    }
    sci
}

/// Quotes a string as Go's `strconv.Quote` does.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if go_is_print(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `strconv.IsPrint`: letters, marks, numbers, punctuation,
/// symbols and the ASCII space.
fn go_is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    // Format characters (Cf), private use and unassigned surrogates are not printable.
    !matches!(u, 0xad | 0x600..=0x605 | 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x206f
        | 0xfeff | 0xfff9..=0xfffb | 0xe000..=0xf8ff | 0xf0000..=0x10ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go_percent_g() {
        let cases = [
            // A tie between two 17-digit candidates: Go takes the even one.
            (
                f64::from_bits(0xc312_d1e0_a7ab_269d),
                "-1.3243280991707272e+15",
            ), // -1324328099170727.25
            (0.0, "0"),
            (1.0, "1"),
            (-2.5, "-2.5"),
            (100000.0, "100000"),
            (123456.0, "123456"),
            (1000000.0, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.1, "0.1"),
            (1.5e-7, "1.5e-07"),
            (1e21, "1e+21"),
            (1e100, "1e+100"),
            (123.456, "123.456"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
        ];
        for (v, want) in cases {
            assert_eq!(go_format_g(v), want, "{v}");
        }
    }

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("a"), "\"a\"");
        assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(go_quote("\u{1}"), r#""\x01""#);
        assert_eq!(go_quote("é"), "\"é\"");
        assert_eq!(go_quote("\u{200b}"), r#""\u200b""#);
    }
}
