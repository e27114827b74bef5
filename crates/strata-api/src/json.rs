//! JSON output byte-for-byte as Prometheus writes it: Go's string escaping, sample
//! values as strings (`strconv.FormatFloat` with `'f'`, or `'e'` below 1e-6 and from
//! 1e21 on), timestamps as seconds with exactly three decimals when not whole, and the
//! success envelope `{"status":"success","data":…,"warnings":[…],"infos":[…]}`.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use strata_model::Labels;
use strata_model::gofmt::go_format_g;

/// The two string escapers Prometheus' output passes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonStyle {
    /// Go's `encoding/json` (label sets): `\b` and `\f` short forms.
    Std,
    /// json-iterator (everything else): `\u0008` and `\u000c`.
    Iter,
}

/// Appends `s` as a JSON string, escaping as Go does (HTML characters, U+2028/9 too).
pub fn write_str(out: &mut String, s: &str, style: JsonStyle) {
    out.push('"');
    // 0xE2 starts U+2028 and U+2029.
    if !s
        .bytes()
        .any(|b| b < 0x20 || matches!(b, b'"' | b'\\' | b'<' | b'>' | b'&' | 0xE2))
    {
        out.push_str(s);
        out.push('"');
        return;
    }
    // Runs of characters that need no escape are copied whole.
    let mut run = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '\u{8}' if style == JsonStyle::Std => Some("\\b"),
            '\u{c}' if style == JsonStyle::Std => Some("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => Some(""),
            c if (c as u32) < 0x20 => Some(""),
            _ => None,
        };
        let Some(esc) = esc else { continue };
        out.push_str(s.get(run..i).unwrap_or_default());
        run = i + c.len_utf8();
        if esc.is_empty() {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push_str(esc);
        }
    }
    out.push_str(s.get(run..).unwrap_or_default());
    out.push('"');
}

/// A JSON array of strings.
pub fn write_str_array(out: &mut String, items: &[String]) {
    out.push('[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, s, JsonStyle::Iter);
    }
    out.push(']');
}

/// A label set as a JSON object, in label order.
pub fn write_labels(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, (name, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, name, JsonStyle::Std);
        out.push(':');
        write_str(out, value, JsonStyle::Std);
    }
    out.push('}');
}

/// A millisecond timestamp as Prometheus writes it: `1435781451.781`, `1.500`, `-1.5`
/// is `-1.500`, whole seconds without a fraction.
pub fn format_timestamp(t: i64) -> String {
    let neg = t < 0;
    let u = t.unsigned_abs();
    let (secs, frac) = (u / 1000, u % 1000);
    let sign = if neg { "-" } else { "" };
    if frac == 0 {
        format!("{sign}{secs}")
    } else {
        format!("{sign}{secs}.{frac:03}")
    }
}

/// A sample value as Prometheus formats it (without the surrounding quotes): Go's
/// `strconv.FormatFloat(v, 'f', -1, 64)`, switching to `'e'` when `|v| < 1e-6` or
/// `|v| >= 1e21`; `NaN`, `+Inf`, `-Inf`.
pub fn format_float(v: f64) -> String {
    let g = go_format_g(v);
    if !v.is_finite() {
        return g;
    }
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // %g switches to exponent form from exponent 6 up and below -4, so in these
        // ranges it already is Go's 'e' with shortest precision.
        return g;
    }
    expand_exponent(&g)
}

/// Rewrites `-1.2345e+07` as `-12345000` and `1.5e-05` as `0.000015`; plain input is
/// returned unchanged.
fn expand_exponent(g: &str) -> String {
    let Some((mant, exp)) = g.split_once('e') else {
        return g.to_owned();
    };
    let exp: i64 = exp.parse().unwrap_or(0);
    let (sign, mant) = match mant.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mant),
    };
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    // The decimal point sits after `point` digits.
    let point = exp + 1;
    let mut out = String::from(sign);
    if point <= 0 {
        out.push_str("0.");
        for _ in 0..-point {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let p = point as usize;
        if digits.len() <= p {
            out.push_str(&digits);
            for _ in digits.len()..p {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..p]);
            out.push('.');
            out.push_str(&digits[p..]);
        }
    }
    out
}

/// Appends a value as a quoted JSON string.
pub fn write_float(out: &mut String, v: f64) {
    use std::fmt::Write as _;
    out.push('"');
    // Whole numbers below 1e15 (exact in an f64, shortest digits are the integer's
    // own): Go's 'f' form is the integer. Zero is left to the general path (`-0`).
    if v != 0.0 && v.fract() == 0.0 && v.abs() < 1e15 {
        let _ = write!(out, "{}", v as i64);
    } else {
        crate::float_text::write_value(out, v);
    }
    out.push('"');
}

/// [`format_timestamp`] appended to `out`.
pub fn write_timestamp(out: &mut String, t: i64) {
    use std::fmt::Write as _;
    let u = t.unsigned_abs();
    let (secs, frac) = (u / 1000, u % 1000);
    let sign = if t < 0 { "-" } else { "" };
    let _ = if frac == 0 {
        write!(out, "{sign}{secs}")
    } else {
        write!(out, "{sign}{secs}.{frac:03}")
    };
}

/// A number as Go's `encoding/json` writes a float64 (used for timings).
pub fn format_json_number(v: f64) -> String {
    if !v.is_finite() {
        return "0".into();
    }
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Go trims the exponent's leading zero: 1e-07, not 1e-07 → 1e-7.
        let g = go_format_g(v);
        return match g.split_once("e-0") {
            Some((m, e)) => format!("{m}e-{e}"),
            None => g,
        };
    }
    expand_exponent(&go_format_g(v))
}

/// A response with `Content-Type: application/json`.
pub fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A successful API result: `data` already rendered as JSON, plus annotations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApiResponse {
    pub data: String,
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

impl ApiResponse {
    pub fn new(data: String) -> Self {
        ApiResponse {
            data,
            ..Default::default()
        }
    }

    /// The full envelope; `warnings` and `infos` only when not empty.
    pub fn body(&self) -> String {
        let mut out = String::with_capacity(self.data.len() + 40);
        out.push_str(r#"{"status":"success","data":"#);
        out.push_str(&self.data);
        if !self.warnings.is_empty() {
            out.push_str(r#","warnings":"#);
            write_str_array(&mut out, &self.warnings);
        }
        if !self.infos.is_empty() {
            out.push_str(r#","infos":"#);
            write_str_array(&mut out, &self.infos);
        }
        out.push('}');
        out
    }
}

impl IntoResponse for ApiResponse {
    fn into_response(self) -> Response {
        json_response(StatusCode::OK, self.body())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_float_and_timestamp_match_the_formatters() {
        let mut vals = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            1e15,
            -1e15,
            999_999_999_999_999.0,
            1e21,
        ];
        vals.extend([1_719_459_840.0, 0.5, 12.25, -3.0, 1e14 + 1.0, 2f64.powi(52)]);
        for v in vals {
            let mut out = String::new();
            write_float(&mut out, v);
            assert_eq!(out, format!("\"{}\"", format_float(v)), "{v}");
        }
        for t in [
            0,
            1,
            -1,
            999,
            -1000,
            1_795_327_440_000,
            1_795_327_440_123,
            i64::MIN,
        ] {
            let mut out = String::new();
            write_timestamp(&mut out, t);
            assert_eq!(out, format_timestamp(t), "{t}");
        }
    }

    #[test]
    fn floats_as_prometheus() {
        let cases = [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-2.5, "-2.5"),
            (1234567.0, "1234567"),
            (123456789012.5, "123456789012.5"),
            (0.1, "0.1"),
            (1e-6, "0.000001"),
            (1.5e-5, "0.000015"),
            (9.99e-7, "9.99e-07"),
            (1e-300, "1e-300"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (-1.5e22, "-1.5e+22"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (0.30000000000000004, "0.30000000000000004"),
        ];
        for (v, want) in cases {
            assert_eq!(format_float(v), want, "{v:e}");
        }
    }

    #[test]
    fn timestamps_as_prometheus() {
        assert_eq!(format_timestamp(1_435_781_451_781), "1435781451.781");
        assert_eq!(format_timestamp(1500), "1.500");
        assert_eq!(format_timestamp(1005), "1.005");
        assert_eq!(format_timestamp(2000), "2");
        assert_eq!(format_timestamp(0), "0");
        assert_eq!(format_timestamp(-1500), "-1.500");
        assert_eq!(format_timestamp(-5), "-0.005");
    }

    #[test]
    fn strings_escaped_as_go() {
        let mut s = String::new();
        write_str(&mut s, "a\"<b>&\u{8}\u{1}é\u{2028}", JsonStyle::Iter);
        assert_eq!(s, r#""a\"\u003cb\u003e\u0026\u0008\u0001é\u2028""#);
        let mut s = String::new();
        write_str(&mut s, "\u{8}\u{c}", JsonStyle::Std);
        assert_eq!(s, r#""\b\f""#);
    }

    #[test]
    fn json_numbers_as_go() {
        assert_eq!(format_json_number(0.5), "0.5");
        assert_eq!(format_json_number(1e-7), "1e-7");
        assert_eq!(format_json_number(0.0), "0");
    }

    #[test]
    fn envelope_omits_empty_annotations() {
        let mut r = ApiResponse::new("[]".into());
        assert_eq!(r.body(), r#"{"status":"success","data":[]}"#);
        r.warnings.push("w".into());
        r.infos.push("i".into());
        assert_eq!(
            r.body(),
            r#"{"status":"success","data":[],"warnings":["w"],"infos":["i"]}"#
        );
    }
}
