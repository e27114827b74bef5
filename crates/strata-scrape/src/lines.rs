//! The scrape hot path's view of a sample line: where its series text (name and label
//! set, the scrape cache's key) ends, and the value and timestamp after it.
//!
//! Both functions follow the lexical rules of `strata_textparse` (names of
//! `[a-zA-Z0-9_:]`, label sets whose quoted strings may hold any byte after a
//! backslash, blanks as each format allows), so for every line the full parser accepts
//! they find the same boundary and the same numbers. They accept a subset: anything
//! unusual (exemplars, bad numbers, trailing garbage) returns `None`, and the caller
//! runs the full parser on the line, which gives the real answer or the error.

use strata_textparse::Format;
use strata_textparse::value::{parse_float, parse_float_timestamp, parse_int_timestamp};

fn is_metric_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// The length of the series text at the start of `line` (a text-format line must have
/// its leading blanks removed first), or `None` if it does not start with one.
pub fn series_end(line: &str, format: Format) -> Option<usize> {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() && is_metric_char(b[i]) {
        i += 1;
    }
    let name_end = i;
    if format == Format::PrometheusText {
        while i < b.len() && is_blank(b[i]) {
            i += 1;
        }
    }
    if b.get(i) != Some(&b'{') {
        return (name_end > 0).then_some(name_end);
    }
    i += 1;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                loop {
                    match b.get(i) {
                        None => return None,
                        Some(b'\\') => i += 2,
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
            }
            b'}' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Value and timestamp (milliseconds) of the rest of a sample line after its series
/// text, for lines in the common shape; `None` sends the line to the full parser.
pub fn parse_tail(tail: &str, format: Format) -> Option<(f64, Option<i64>)> {
    match format {
        Format::PrometheusText => text_tail(tail),
        Format::OpenMetrics => om_tail(tail),
    }
}

fn text_tail(tail: &str) -> Option<(f64, Option<i64>)> {
    let rest = tail.trim_start_matches([' ', '\t']);
    if rest.len() == tail.len() || rest.is_empty() {
        return None;
    }
    let n = rest.find([' ', '\t']).unwrap_or(rest.len());
    let value = parse_float(&rest[..n]).ok()?;
    let rest = rest[n..].trim_start_matches([' ', '\t']);
    if rest.is_empty() {
        return Some((value, None));
    }
    let n = rest.find([' ', '\t']).unwrap_or(rest.len());
    let ts = parse_int_timestamp(&rest[..n]).ok()?;
    rest[n..]
        .trim_start_matches([' ', '\t'])
        .is_empty()
        .then_some((value, Some(ts)))
}

fn om_tail(tail: &str) -> Option<(f64, Option<i64>)> {
    let rest = tail.strip_prefix(' ')?;
    let n = rest.find(' ').unwrap_or(rest.len());
    let value = parse_float(&rest[..n]).ok()?;
    let rest = &rest[n..];
    if rest.is_empty() {
        return Some((value, None));
    }
    let rest = rest.strip_prefix(' ')?;
    if rest.starts_with('#') || rest.contains(' ') {
        return None;
    }
    let ts = parse_float_timestamp(rest).ok()?;
    Some((value, Some(ts)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use strata_textparse::{Entry, Parser};

    const T: Format = Format::PrometheusText;
    const OM: Format = Format::OpenMetrics;

    #[test]
    fn series_boundaries() {
        assert_eq!(series_end("up 1", T), Some(2));
        assert_eq!(series_end("up{a=\"x}\\\"y\"} 1", T), Some(13));
        assert_eq!(series_end("up {a=\"1\"} 1", T), Some(10));
        assert_eq!(series_end("up {a=\"1\"} 1", OM), Some(2));
        assert_eq!(series_end("{\"my.metric\"} 1", T), Some(13));
        assert_eq!(series_end("{a=\"unterminated} 1", T), None);
        assert_eq!(series_end(" 1", T), None);
    }

    #[test]
    fn tails() {
        assert_eq!(parse_tail(" 1", T), Some((1.0, None)));
        assert_eq!(parse_tail("\t1.5  123 ", T), Some((1.5, Some(123))));
        assert_eq!(parse_tail("1", T), None);
        assert_eq!(parse_tail(" 1 2 3", T), None);
        assert_eq!(parse_tail(" 1 1.5", OM), Some((1.0, Some(1500))));
        assert_eq!(parse_tail(" 1 # {a=\"b\"} 1", OM), None);
        assert_eq!(parse_tail("  1", OM), None);
        assert_eq!(parse_tail(" 1 ", OM), None);
    }

    /// Wherever the fast path answers, it agrees with the full parser; where the parser
    /// rejects a line the fast path accepts, it rejects the series text itself (so the
    /// cache never holds it and the fast path is never consulted for it).
    fn agrees(line: &str, format: Format) {
        let trimmed = if format == T {
            line.trim_start_matches([' ', '\t'])
        } else {
            line
        };
        let Some(end) = series_end(trimmed, format) else {
            return;
        };
        let Some((v, ts)) = parse_tail(&trimmed[end..], format) else {
            return;
        };
        match Parser::new(line, format).next_entry() {
            Ok(Some(Entry::Sample {
                value,
                timestamp_ms,
                ..
            })) => {
                assert_eq!(value.to_bits(), v.to_bits(), "{line:?}");
                assert_eq!(timestamp_ms, ts, "{line:?}");
            }
            other => {
                let canonical = format!("{} 1", &trimmed[..end]);
                assert!(
                    Parser::new(&canonical, format).next_entry().is_err(),
                    "fast path accepted {line:?}, parser gave {other:?}, but accepts {canonical:?}"
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_path_never_disagrees(
            name in "[a-z_:]{1,4}",
            lbl in proptest::option::of("\\{[a-z]{1,2}=\"[a-z\\\\\"} ]{0,4}\"\\}"),
            sep in "[ \t]{0,2}",
            value in "(1|-2\\.5|NaN|\\+Inf|1e3|x)",
            ts in proptest::option::of("[ \t]{1,2}(12|1\\.5|-3|#)"),
            trail in "[ \t]{0,1}",
        ) {
            let line = format!("{name}{}{sep}{value}{}{trail}", lbl.unwrap_or_default(), ts.unwrap_or_default());
            agrees(&line, T);
            agrees(&line, OM);
        }
    }
}
