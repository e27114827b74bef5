//! One line of the Prometheus text exposition format 0.0.4.
//!
//! Grammar as Prometheus' lexer accepts it: blank lines are skipped; spaces and tabs may
//! surround tokens; `# HELP name text` and `# TYPE name type` are metadata, any other `#`
//! line is a comment; samples are `name{labels} value [timestamp_ms]`, where the name may
//! instead be a quoted string inside the braces.

use std::borrow::Cow;

use crate::cursor::{Cursor, unescape_cow};
use crate::entry::{Entry, MetricType};
use crate::series::parse_series;
use crate::value::{parse_float, parse_int_timestamp};

/// Reads the family name of a HELP/TYPE/UNIT line: a legacy metric name or a quoted string
/// without escape sequences (the entry borrows the name).
pub(crate) fn family_name<'a>(c: &mut Cursor<'a>, kw: &str) -> Result<&'a str, String> {
    if let Some(n) = c.metric_name() {
        return Ok(n);
    }
    if c.peek() == Some(b'"') {
        return match c.quoted()? {
            Cow::Borrowed("") => Err(format!("empty metric name after {kw}")),
            Cow::Borrowed(n) => Ok(n),
            Cow::Owned(n) => Err(format!(
                "escape sequences in quoted metric name {n:?} after {kw} are not supported"
            )),
        };
    }
    Err(format!("expected metric name after {kw}, got {}", c.got()))
}

fn text_type(s: &str) -> Result<MetricType, String> {
    Ok(match s {
        "counter" => MetricType::Counter,
        "gauge" => MetricType::Gauge,
        "histogram" => MetricType::Histogram,
        "summary" => MetricType::Summary,
        "untyped" => MetricType::Unknown,
        _ => return Err(format!("invalid metric type {s:?}")),
    })
}

/// Parses one line (without its `\n`); `Ok(None)` for a blank line.
pub(crate) fn parse_line(line: &str) -> Result<Option<Entry<'_>>, String> {
    let mut c = Cursor::new(line);
    c.skip_ws();
    if c.at_end() {
        return Ok(None);
    }
    if c.eat(b'#') {
        return parse_comment(&mut c).map(Some);
    }
    let (name, labels) = parse_series(&mut c, true)?;
    if c.skip_ws() == 0 {
        return Err(format!("expected whitespace before value, got {}", c.got()));
    }
    if c.at_end() {
        return Err("expected value, got end of line".to_owned());
    }
    let value = parse_float(c.take_token())?;
    c.skip_ws();
    let timestamp_ms = if c.at_end() {
        None
    } else {
        let ts = parse_int_timestamp(c.take_token())?;
        c.skip_ws();
        if !c.at_end() {
            return Err(format!(
                "expected end of line after timestamp, got {}",
                c.got()
            ));
        }
        Some(ts)
    };
    Ok(Some(Entry::Sample {
        name,
        labels,
        value,
        timestamp_ms,
        exemplar: None,
    }))
}

fn parse_comment<'a>(c: &mut Cursor<'a>) -> Result<Entry<'a>, String> {
    if c.skip_ws() == 0 {
        return Ok(Entry::Comment);
    }
    let is_help = if c.eat_str("HELP") {
        true
    } else if c.eat_str("TYPE") {
        false
    } else {
        return Ok(Entry::Comment);
    };
    if c.skip_ws() == 0 {
        // `# HELPFUL`, `# TYPE` alone: an ordinary comment.
        return Ok(Entry::Comment);
    }
    let kw = if is_help { "HELP" } else { "TYPE" };
    let family = family_name(c, kw)?;
    if is_help {
        if c.at_end() {
            return Ok(Entry::Help {
                family,
                text: Cow::Borrowed(""),
            });
        }
        // Exactly one blank separates name and text; further blanks belong to the text.
        if !(c.eat(b' ') || c.eat(b'\t')) {
            return Err(format!(
                "expected whitespace after metric name, got {}",
                c.got()
            ));
        }
        return Ok(Entry::Help {
            family,
            text: unescape_cow(c.rest(), false),
        });
    }
    if c.skip_ws() == 0 {
        return Err(format!(
            "expected metric type after metric name, got {}",
            c.got()
        ));
    }
    let kind = text_type(c.rest().trim_end_matches([' ', '\t']))?;
    Ok(Entry::Type { family, kind })
}
