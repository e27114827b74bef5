//! The series part of a sample line: metric name and `{label="value",...}` set, shared by
//! both formats. The text format allows spaces and tabs around the tokens inside braces;
//! OpenMetrics allows none.

use std::borrow::Cow;

use crate::cursor::Cursor;
use crate::entry::LabelPairs;

/// How a brace set is read.
#[derive(Clone, Copy)]
pub(crate) struct LabelMode {
    /// Spaces and tabs are allowed between tokens (text format).
    pub(crate) lenient_ws: bool,
    /// A lone quoted string may name the metric (`{"my.metric", a="b"}`); not in exemplars.
    pub(crate) allow_name: bool,
}

fn skip(c: &mut Cursor<'_>, mode: LabelMode) {
    if mode.lenient_ws {
        c.skip_ws();
    }
}

/// Reads a label name (legacy or quoted); `Err` if neither starts here.
enum NameTok<'a> {
    Plain(&'a str),
    Quoted(Cow<'a, str>),
}

/// Label sets up to this size are checked for duplicates pair by pair while parsing.
const LINEAR_DUP_CHECK: usize = 16;

/// Sort-based duplicate check for long label sets (keeps hostile input from going quadratic).
fn check_duplicates(labels: &LabelPairs<'_>) -> Result<(), String> {
    if labels.len() <= LINEAR_DUP_CHECK {
        return Ok(());
    }
    let mut names: Vec<&str> = labels.iter().map(|(n, _)| n.as_ref()).collect();
    names.sort_unstable();
    match names.windows(2).find(|w| w[0] == w[1]) {
        Some(w) => Err(format!("duplicate label name {:?}", w[0])),
        None => Ok(()),
    }
}

/// Parses from just after `{` through the closing `}`. A quoted metric name found inside
/// is stored in `name` (an error if `name` is already set).
pub(crate) fn parse_label_set<'a>(
    c: &mut Cursor<'a>,
    mode: LabelMode,
    name: &mut Option<Cow<'a, str>>,
) -> Result<LabelPairs<'a>, String> {
    let mut labels: LabelPairs<'a> = Vec::new();
    loop {
        skip(c, mode);
        if c.eat(b'}') {
            check_duplicates(&labels)?;
            return Ok(labels);
        }
        let tok = if c.peek() == Some(b'"') {
            NameTok::Quoted(c.quoted()?)
        } else if let Some(n) = c.label_name() {
            NameTok::Plain(n)
        } else {
            return Err(format!("expected label name or '}}', got {}", c.got()));
        };
        skip(c, mode);
        let ln = match tok {
            NameTok::Quoted(q) if matches!(c.peek(), Some(b',' | b'}')) => {
                if !mode.allow_name {
                    return Err(format!("expected '=' after label name, got {}", c.got()));
                }
                if name.is_some() {
                    return Err(format!("metric name already set, got second name {q:?}"));
                }
                if q.is_empty() {
                    return Err("empty quoted metric name".to_owned());
                }
                *name = Some(q);
                // A ',' is consumed here; a '}' at the top of the loop.
                c.eat(b',');
                continue;
            }
            NameTok::Quoted(q) => q,
            NameTok::Plain(p) => Cow::Borrowed(p),
        };
        if ln.is_empty() {
            return Err("empty label name".to_owned());
        }
        if !c.eat(b'=') {
            return Err(format!(
                "expected '=' after label name {ln:?}, got {}",
                c.got()
            ));
        }
        skip(c, mode);
        if c.peek() != Some(b'"') {
            return Err(format!("expected label value, got {}", c.got()));
        }
        let value = c.quoted()?;
        if ln == "__name__" {
            return Err(
                "label name \"__name__\" is not allowed; give the metric name instead".to_owned(),
            );
        }
        // Linear scan while small; long sets are checked once at the end (see below).
        if labels.len() < LINEAR_DUP_CHECK && labels.iter().any(|(n, _)| *n == ln) {
            return Err(format!("duplicate label name {ln:?}"));
        }
        labels.push((ln, value));
        skip(c, mode);
        if c.eat(b',') {
            continue;
        }
        if c.peek() != Some(b'}') {
            return Err(format!(
                "expected ',' or '}}' after label value, got {}",
                c.got()
            ));
        }
    }
}

/// Parses `name`, `name{...}` or `{"name", ...}` at the cursor. With `lenient_ws`, blanks
/// between the name and `{` are allowed; otherwise the cursor stops right after the series.
pub(crate) fn parse_series<'a>(
    c: &mut Cursor<'a>,
    lenient_ws: bool,
) -> Result<(Cow<'a, str>, LabelPairs<'a>), String> {
    let mut name: Option<Cow<'a, str>> = None;
    if let Some(n) = c.metric_name() {
        name = Some(Cow::Borrowed(n));
        if lenient_ws {
            let save = c.pos();
            c.skip_ws();
            if c.peek() != Some(b'{') {
                c.set_pos(save);
            }
        }
    } else if c.peek() != Some(b'{') {
        return Err(format!("expected metric name or '{{', got {}", c.got()));
    }
    let labels = if c.eat(b'{') {
        let mode = LabelMode {
            lenient_ws,
            allow_name: true,
        };
        parse_label_set(c, mode, &mut name)?
    } else {
        Vec::new()
    };
    match name {
        Some(n) => Ok((n, labels)),
        None => Err("metric name not set".to_owned()),
    }
}
