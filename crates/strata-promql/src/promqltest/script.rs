//! Parsing a promqltest file into commands (`clear`, `load`, `eval`) with line numbers.

use strata_model::Labels;
use strata_model::duration::parse_duration_ms;

use super::series::{
    SeqValue, parse_number, parse_st_offsets, parse_string, parse_values, split_series_line,
};

/// A parsed test file.
#[derive(Debug, Clone, Default)]
pub struct Script {
    pub commands: Vec<Command>,
}

#[derive(Debug, Clone)]
pub enum Command {
    /// Drop every loaded sample.
    Clear {
        line: usize,
    },
    Load(Load),
    Eval(Box<Eval>),
}

/// `load <interval>` / `load_with_nhcb <interval>`.
#[derive(Debug, Clone)]
pub struct Load {
    pub line: usize,
    pub interval_ms: i64,
    pub with_nhcb: bool,
    pub series: Vec<LoadSeries>,
}

/// One series line of a load block; value k is at `k * interval`.
#[derive(Debug, Clone)]
pub struct LoadSeries {
    pub line: usize,
    pub labels: Labels,
    pub values: Vec<SeqValue>,
    /// Start-timestamp offsets from a preceding `…@st` line, one per value.
    pub start_offsets: Option<Vec<Option<i64>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalKind {
    Instant { at: i64 },
    Range { start: i64, end: i64, step: i64 },
}

/// How an expected error or annotation text is matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextMatch {
    Any,
    /// Exact text (`msg:`).
    Exact(String),
    /// Unanchored regular expression (`regex:`).
    Regex(String),
}

/// `eval …` with all its expectation lines.
#[derive(Debug, Clone)]
pub struct Eval {
    pub line: usize,
    pub query: String,
    pub kind: EvalKind,
    pub fail: Option<TextMatch>,
    pub warn: Vec<TextMatch>,
    pub info: Vec<TextMatch>,
    pub no_warn: bool,
    pub no_info: bool,
    pub ordered: bool,
    /// `expect range vector from <start> to <end> step <step>` (instant evals only).
    pub range_vector: Option<(i64, i64, i64)>,
    pub expected: Expected,
}

/// The expected result of an eval.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// Series lines; empty means an empty vector/matrix.
    Series(Vec<ExpectedSeries>),
    Scalar(f64),
    String(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedSeries {
    pub line: usize,
    pub labels: Labels,
    pub values: Vec<SeqValue>,
}

impl Eval {
    /// True when the expected output contains a native histogram.
    pub fn expects_histograms(&self) -> bool {
        match &self.expected {
            Expected::Series(s) => s
                .iter()
                .any(|s| s.values.iter().any(|v| matches!(v, SeqValue::Histogram(_)))),
            _ => false,
        }
    }
}

/// A parse error with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ScriptError {}

/// Splits off the first whitespace-separated word.
fn word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let n = s.find(char::is_whitespace).unwrap_or(s.len());
    (&s[..n], s[n..].trim_start())
}

fn dur(s: &str) -> Result<i64, String> {
    parse_duration_ms(s).map_err(|e| e.to_string())
}

/// Parses a whole test file.
pub fn parse_script(text: &str) -> Result<Script, ScriptError> {
    // Trimmed lines; whole-line comments count as empty lines.
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| {
            let l = l.trim_matches([' ', '\t', '\r']);
            if l.starts_with('#') { "" } else { l }
        })
        .collect();
    let mut script = Script::default();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if l.is_empty() {
            i += 1;
            continue;
        }
        let mut end = i + 1;
        while end < lines.len() && !lines[end].is_empty() {
            end += 1;
        }
        let at = |k: usize, message: String| ScriptError {
            line: k + 1,
            message,
        };
        let (cmd, _) = word(l);
        let cmd = cmd.to_ascii_lowercase();
        if cmd == "clear" {
            // `clear` is a block of its own line only; a command may follow directly.
            script.commands.push(Command::Clear { line: i + 1 });
            end = i + 1;
        } else if cmd.starts_with("load") {
            let load = parse_load(&lines, i, end).map_err(|(k, m)| at(k, m))?;
            script.commands.push(Command::Load(load));
        } else if cmd.starts_with("eval") {
            let (eval, used_end) = parse_eval(&lines, i, end).map_err(|(k, m)| at(k, m))?;
            script.commands.push(Command::Eval(Box::new(eval)));
            end = used_end;
        } else {
            return Err(at(i, format!("unknown command {cmd:?}")));
        }
        i = end;
    }
    Ok(script)
}

type LineResult<T> = Result<T, (usize, String)>;

fn parse_load(lines: &[&str], start: usize, end: usize) -> LineResult<Load> {
    let (cmd, rest) = word(lines[start]);
    let with_nhcb = match cmd.to_ascii_lowercase().as_str() {
        "load" => false,
        "load_with_nhcb" => true,
        other => return Err((start, format!("unknown load command {other:?}"))),
    };
    let (iv, extra) = word(rest);
    if !extra.is_empty() {
        return Err((start, format!("unexpected text after interval: {extra:?}")));
    }
    let interval_ms = dur(iv).map_err(|e| (start, e))?;
    let mut series: Vec<LoadSeries> = Vec::new();
    let mut pending_st: Option<(usize, Labels, Vec<Option<i64>>)> = None;
    for (k, l) in lines.iter().enumerate().take(end).skip(start + 1) {
        let (desc, values) = split_desc(l).map_err(|e| (k, e))?;
        if let Some(desc) = desc.strip_suffix("@st") {
            let labels = super::series::parse_labels(desc).map_err(|e| (k, e))?;
            let offs = parse_st_offsets(values).map_err(|e| (k, e))?;
            if pending_st.is_some() {
                return Err((k, "two @st lines in a row".into()));
            }
            pending_st = Some((k, labels, offs));
            continue;
        }
        let (labels, values) = split_series_line(l).map_err(|e| (k, e))?;
        let values = parse_values(values).map_err(|e| (k, e))?;
        let start_offsets = match pending_st.take() {
            Some((_, st_labels, offs)) => {
                if st_labels != labels || offs.len() != values.len() {
                    return Err((k, "@st line does not match the following series".into()));
                }
                Some(offs)
            }
            None => None,
        };
        // A series given twice in one block is defined by its last line.
        series.retain(|s| s.labels != labels);
        series.push(LoadSeries {
            line: k + 1,
            labels,
            values,
            start_offsets,
        });
    }
    if let Some((k, _, _)) = pending_st {
        return Err((k, "@st line without a following series line".into()));
    }
    Ok(Load {
        line: start + 1,
        interval_ms,
        with_nhcb,
        series,
    })
}

/// The raw description (label set plus any `@st` suffix) and the values.
fn split_desc(l: &str) -> Result<(&str, &str), String> {
    let mut n = super::series::series_end(l)?;
    n += l[n..].find(char::is_whitespace).unwrap_or(l.len() - n);
    Ok((&l[..n], l[n..].trim_start()))
}

fn parse_eval(lines: &[&str], start: usize, end: usize) -> LineResult<(Eval, usize)> {
    let (cmd, rest) = word(lines[start]);
    let cmd = cmd.to_ascii_lowercase();
    let mut eval = Eval {
        line: start + 1,
        query: String::new(),
        kind: EvalKind::Instant { at: 0 },
        fail: None,
        warn: Vec::new(),
        info: Vec::new(),
        no_warn: false,
        no_info: false,
        ordered: false,
        range_vector: None,
        expected: Expected::Series(Vec::new()),
    };
    match cmd.as_str() {
        "eval" => {}
        "eval_fail" => eval.fail = Some(TextMatch::Any),
        "eval_warn" => eval.warn.push(TextMatch::Any),
        "eval_info" => eval.info.push(TextMatch::Any),
        "eval_ordered" => eval.ordered = true,
        other => return Err((start, format!("unknown eval command {other:?}"))),
    }
    let e = |m: String| (start, m);
    let (mode, rest) = word(rest);
    let query = match mode {
        "instant" => {
            let (kw, rest) = word(rest);
            if kw != "at" {
                return Err(e(format!("expected 'at', got {kw:?}")));
            }
            let (t, q) = word(rest);
            eval.kind = EvalKind::Instant {
                at: dur(t).map_err(e)?,
            };
            q
        }
        "range" => {
            let (f, rest) = word(rest);
            let (s, rest) = word(rest);
            let (t, rest) = word(rest);
            let (en, rest) = word(rest);
            let (st, rest) = word(rest);
            let (sp, q) = word(rest);
            if (f, t, st) != ("from", "to", "step") {
                return Err(e("expected 'range from <t> to <t> step <d>'".into()));
            }
            let (start_ms, end_ms, step) =
                (dur(s).map_err(e)?, dur(en).map_err(e)?, dur(sp).map_err(e)?);
            if end_ms < start_ms {
                return Err(e("range end is before its start".into()));
            }
            if step <= 0 {
                return Err(e("range step must be positive".into()));
            }
            eval.kind = EvalKind::Range {
                start: start_ms,
                end: end_ms,
                step,
            };
            if eval.ordered {
                return Err(e("eval_ordered is only allowed for instant queries".into()));
            }
            q
        }
        other => return Err(e(format!("expected 'instant' or 'range', got {other:?}"))),
    };
    if query.is_empty() {
        return Err(e("missing query".into()));
    }
    eval.query = query.to_owned();
    let mut series: Vec<ExpectedSeries> = Vec::new();
    let mut k = start + 1;
    while k < end {
        let l = lines[k];
        let le = |m: String| (k, m);
        let (w, rest) = word(l);
        if w == "expected_fail_message" || w == "expected_fail_regexp" {
            if eval.fail.is_none() {
                return Err(le(format!("{w} is only allowed after eval_fail")));
            }
            eval.fail = Some(if w == "expected_fail_message" {
                TextMatch::Exact(rest.to_owned())
            } else {
                compile_check(rest).map_err(le)?;
                TextMatch::Regex(rest.to_owned())
            });
        } else if w == "expect" {
            parse_expect(&mut eval, rest).map_err(le)?;
        } else if let Some(v) = parse_scalar_line(l) {
            eval.expected = Expected::Scalar(v);
            k += 1;
            break;
        } else {
            let (labels, values) = split_series_line(l).map_err(le)?;
            let values = parse_values(values).map_err(le)?;
            series.push(ExpectedSeries {
                line: k + 1,
                labels,
                values,
            });
        }
        k += 1;
    }
    if !series.is_empty() {
        if !matches!(eval.expected, Expected::Series(_)) {
            return Err(e("both series and a scalar/string expected".into()));
        }
        eval.expected = Expected::Series(series);
    }
    validate(&eval).map_err(e)?;
    Ok((eval, k))
}

fn parse_scalar_line(l: &str) -> Option<f64> {
    if let Some(h) = l.strip_prefix("0x").or_else(|| l.strip_prefix("0X")) {
        return u64::from_str_radix(h, 16).ok().map(|v| v as f64);
    }
    // Go's ParseFloat also accepts "Infinity"; the files use Inf/NaN only.
    parse_number(l).filter(|_| !l.contains(char::is_whitespace))
}

fn compile_check(re: &str) -> Result<(), String> {
    regex::Regex::new(re)
        .map(|_| ())
        .map_err(|e| format!("invalid regex: {e}"))
}

fn parse_expect(eval: &mut Eval, rest: &str) -> Result<(), String> {
    let (kind, tail) = word(rest);
    if kind == "range" {
        let ws: Vec<&str> = tail.split_whitespace().collect();
        let [v, f, s, t, en, st, sp] = ws.as_slice() else {
            return Err("expected 'expect range vector from <t> to <t> step <d>'".into());
        };
        if (*v, *f, *t, *st) != ("vector", "from", "to", "step") {
            return Err("expected 'expect range vector from <t> to <t> step <d>'".into());
        }
        let (s, en, sp) = (dur(s)?, dur(en)?, dur(sp)?);
        if !matches!(eval.kind, EvalKind::Instant { .. }) {
            return Err("expect range vector is only allowed for instant queries".into());
        }
        if en < s || sp <= 0 {
            return Err("invalid range vector grid".into());
        }
        eval.range_vector = Some((s, en, sp));
        eval.kind = EvalKind::Instant { at: en };
        return Ok(());
    }
    if kind == "string" {
        let (s, r) = parse_string(tail.trim())?;
        if !r.trim().is_empty() {
            return Err(format!("unexpected text after string: {r:?}"));
        }
        eval.expected = Expected::String(s);
        return Ok(());
    }
    let tail = tail.trim();
    let m = if let Some(m) = tail.strip_prefix("msg:") {
        TextMatch::Exact(m.trim().to_owned())
    } else if let Some(r) = tail.strip_prefix("regex:") {
        let r = r.trim();
        compile_check(r)?;
        TextMatch::Regex(r.to_owned())
    } else if tail.is_empty() {
        TextMatch::Any
    } else {
        return Err(format!("unexpected text after expect {kind}: {tail:?}"));
    };
    let no_text = |what: &str| -> Result<(), String> {
        if m == TextMatch::Any {
            Ok(())
        } else {
            Err(format!("expect {what} takes no msg/regex"))
        }
    };
    match kind {
        "fail" => {
            if eval.fail.is_some() {
                return Err("at most one expect fail per eval".into());
            }
            eval.fail = Some(m);
        }
        "warn" => eval.warn.push(m),
        "info" => eval.info.push(m),
        "no_warn" => {
            no_text(kind)?;
            eval.no_warn = true;
        }
        "no_info" => {
            no_text(kind)?;
            eval.no_info = true;
        }
        "ordered" => {
            no_text(kind)?;
            eval.ordered = true;
        }
        other => return Err(format!("unknown expectation {other:?}")),
    }
    Ok(())
}

fn validate(eval: &Eval) -> Result<(), String> {
    if eval.no_warn && !eval.warn.is_empty() {
        return Err("expect warn and expect no_warn together".into());
    }
    if eval.no_info && !eval.info.is_empty() {
        return Err("expect info and expect no_info together".into());
    }
    let (points, is_instant) = match (eval.kind, eval.range_vector) {
        (_, Some((s, e, st))) => ((e - s) / st + 1, false),
        (EvalKind::Instant { .. }, None) => (1, true),
        (EvalKind::Range { start, end, step }, None) => ((end - start) / step + 1, false),
    };
    if let Expected::Series(series) = &eval.expected {
        for s in series {
            let n = s.values.len() as i64;
            if is_instant && n != 1 {
                return Err(format!(
                    "line {}: instant evals expect exactly one value per series, got {n}",
                    s.line
                ));
            }
            if n > points {
                return Err(format!("line {}: {n} values for {points} steps", s.line));
            }
        }
    }
    if matches!(eval.expected, Expected::String(_))
        && !matches!(eval.kind, EvalKind::Instant { .. })
    {
        return Err("expect string is only allowed for instant queries".into());
    }
    Ok(())
}
