//! One line of OpenMetrics 1.0 text.
//!
//! Stricter than the text format: no blank lines, exactly one space between tokens, no
//! blanks inside braces, only `# HELP`, `# TYPE`, `# UNIT` and `# EOF` comment lines,
//! timestamps in float seconds and optional exemplars (` # {labels} value [timestamp]`).

use crate::cursor::{Cursor, unescape_cow};
use crate::entry::{Entry, Exemplar, MetricType};
use crate::promtext::family_name;
use crate::series::{LabelMode, parse_label_set, parse_series};
use crate::value::{parse_float, parse_float_timestamp};

fn om_type(s: &str) -> Result<MetricType, String> {
    Ok(match s {
        "counter" => MetricType::Counter,
        "gauge" => MetricType::Gauge,
        "histogram" => MetricType::Histogram,
        "gaugehistogram" => MetricType::GaugeHistogram,
        "summary" => MetricType::Summary,
        "info" => MetricType::Info,
        "stateset" => MetricType::StateSet,
        "unknown" => MetricType::Unknown,
        _ => return Err(format!("invalid metric type {s:?}")),
    })
}

/// Parses one line (without its `\n`).
pub(crate) fn parse_line(line: &str) -> Result<Entry<'_>, String> {
    if line.is_empty() {
        return Err("unexpected empty line".to_owned());
    }
    let mut c = Cursor::new(line);
    if c.peek() == Some(b'#') {
        return parse_meta(&mut c);
    }
    let (name, labels) = parse_series(&mut c, false)?;
    if !c.eat(b' ') {
        return Err(format!("expected ' ' before value, got {}", c.got()));
    }
    let value = parse_float(c.take_until_space())?;
    let mut timestamp_ms = None;
    let mut exemplar = None;
    if c.eat(b' ') {
        if c.peek() != Some(b'#') {
            timestamp_ms = Some(parse_float_timestamp(c.take_until_space())?);
        }
        if c.peek() == Some(b'#') || c.eat(b' ') {
            exemplar = Some(parse_exemplar(&mut c)?);
        }
    }
    if !c.at_end() {
        return Err(format!("expected end of line, got {}", c.got()));
    }
    Ok(Entry::Sample {
        name,
        labels,
        value,
        timestamp_ms,
        exemplar,
    })
}

fn parse_exemplar(c: &mut Cursor<'_>) -> Result<Exemplar, String> {
    if !c.eat_str("# {") {
        return Err(format!("expected exemplar \"# {{\", got {}", c.got()));
    }
    let mode = LabelMode {
        lenient_ws: false,
        allow_name: false,
    };
    let mut no_name = None;
    let labels = parse_label_set(c, mode, &mut no_name)?
        .into_iter()
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    if !c.eat(b' ') {
        return Err(format!(
            "expected ' ' before exemplar value, got {}",
            c.got()
        ));
    }
    let value = parse_float(c.take_until_space()).map_err(|e| format!("exemplar: {e}"))?;
    let timestamp_ms = if c.eat(b' ') {
        Some(parse_float_timestamp(c.take_until_space()).map_err(|e| format!("exemplar: {e}"))?)
    } else {
        None
    };
    Ok(Exemplar {
        labels,
        value,
        timestamp_ms,
    })
}

fn parse_meta<'a>(c: &mut Cursor<'a>) -> Result<Entry<'a>, String> {
    if c.rest() == "# EOF" {
        return Ok(Entry::Eof);
    }
    let kw = if c.eat_str("# HELP ") {
        "HELP"
    } else if c.eat_str("# TYPE ") {
        "TYPE"
    } else if c.eat_str("# UNIT ") {
        "UNIT"
    } else {
        return Err(format!(
            "expected \"# HELP\", \"# TYPE\", \"# UNIT\" or \"# EOF\", got {:?}",
            truncate(c.rest())
        ));
    };
    let family = family_name(c, kw)?;
    if !c.eat(b' ') {
        return Err(format!(
            "expected ' ' and text after {kw} {family}, got {}",
            c.got()
        ));
    }
    let text = c.rest();
    match kw {
        "HELP" => Ok(Entry::Help {
            family,
            text: unescape_cow(text, true),
        }),
        "TYPE" => Ok(Entry::Type {
            family,
            kind: om_type(text)?,
        }),
        _ => {
            let ok = text.is_empty()
                || family
                    .strip_suffix(text)
                    .is_some_and(|head| head.ends_with('_'));
            if !ok {
                return Err(format!("unit {text:?} not a suffix of metric {family:?}"));
            }
            Ok(Entry::Unit { family, unit: text })
        }
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
