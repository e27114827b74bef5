//! The series notation of promqltest files: label sets (`name{a="b"}`) and expanding
//! value sequences (`0+10x10 _ stale {{schema:0 count:4 buckets:[1 2 1]}}x2`).

use std::collections::BTreeMap;

use strata_model::{Labels, METRIC_NAME, stale_nan};

use crate::value::{CounterResetHint, FloatHistogram, Span};

/// One position of an expanded value sequence.
#[derive(Debug, Clone, PartialEq)]
pub enum SeqValue {
    /// `_`: no sample at this position.
    Missing,
    /// A float, including the staleness marker written `stale`.
    Float(f64),
    /// A native histogram literal.
    Histogram(ParsedHistogram),
}

/// A histogram literal and whether it spelled out `counter_reset_hint` (expected
/// histograms only check the hint when it was written).
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedHistogram {
    pub h: FloatHistogram,
    pub hint_given: bool,
}

/// Splits a `<series> <values>` line into the label set and the rest of the line.
pub fn split_series_line(line: &str) -> Result<(Labels, &str), String> {
    let line = line.trim();
    let end = series_end(line)?;
    let labels = parse_labels(&line[..end])?;
    Ok((labels, &line[end..]))
}

/// Byte offset where the series description of `line` ends.
pub(crate) fn series_end(line: &str) -> Result<usize, String> {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'{' {
        i += 1;
    }
    if i < b.len() && b[i] == b'{' {
        let mut quote: Option<u8> = None;
        while i < b.len() {
            let c = b[i];
            match quote {
                Some(q) if c == b'\\' && q != b'`' => i += 1,
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == b'"' || c == b'\'' || c == b'`' => quote = Some(c),
                None if c == b'}' => return Ok(i + 1),
                None => {}
            }
            i += 1;
        }
        return Err(format!("unterminated label set in {line:?}"));
    }
    Ok(i)
}

/// Parses `name`, `name{a="b", ...}`, `{a="b"}`, `{"utf8.name", x="y"}` or `{}` into a
/// label set (only `=` is allowed; this is a description, not a matcher).
pub fn parse_labels(s: &str) -> Result<Labels, String> {
    let s = s.trim();
    let mut pairs: Vec<(String, String)> = Vec::new();
    let brace = s.find('{').unwrap_or(s.len());
    let name = s[..brace].trim();
    if !name.is_empty() {
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        {
            return Err(format!("invalid metric name {name:?}"));
        }
        pairs.push((METRIC_NAME.to_owned(), name.to_owned()));
    }
    if brace < s.len() {
        let inner = s[brace + 1..]
            .strip_suffix('}')
            .ok_or_else(|| format!("label set {s:?} does not end with '}}'"))?;
        let mut rest = inner.trim_start();
        while !rest.is_empty() {
            let (lname, quoted, r) = if rest.starts_with(['"', '\'', '`']) {
                let (v, r) = parse_string(rest)?;
                (v, true, r)
            } else {
                let n = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                (rest[..n].to_owned(), false, &rest[n..])
            };
            if lname.is_empty() {
                return Err(format!("expected a label name in {s:?}"));
            }
            rest = r.trim_start();
            if let Some(r) = rest.strip_prefix('=') {
                let (v, r) = parse_string(r.trim_start())?;
                pairs.push((lname, v));
                rest = r.trim_start();
            } else if quoted {
                // `{"metric.name"}`: a quoted name alone is the metric name.
                pairs.push((METRIC_NAME.to_owned(), lname));
            } else {
                return Err(format!("expected '=' after label {lname:?} in {s:?}"));
            }
            match rest.strip_prefix(',') {
                Some(r) => rest = r.trim_start(),
                None if rest.is_empty() => {}
                None => return Err(format!("expected ',' in label set {s:?}")),
            }
        }
    }
    Labels::new(&pairs).map_err(|e| e.to_string())
}

/// Parses a PromQL string literal (double, single or back quotes) at the start of `s`;
/// returns the unescaped value and the rest.
pub fn parse_string(s: &str) -> Result<(String, &str), String> {
    let mut chars = s.char_indices();
    let q = match chars.next() {
        Some((_, c @ ('"' | '\'' | '`'))) => c,
        _ => return Err(format!("expected a string literal at {s:?}")),
    };
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        if c == q {
            return Ok((out, &s[i + 1..]));
        }
        if c != '\\' || q == '`' {
            out.push(c);
            continue;
        }
        let (_, e) = chars
            .next()
            .ok_or_else(|| format!("unterminated escape in {s:?}"))?;
        let mut hex = |n: usize| -> Result<char, String> {
            let digits: String = (0..n).filter_map(|_| chars.next().map(|x| x.1)).collect();
            u32::from_str_radix(&digits, 16)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| format!("invalid escape in {s:?}"))
        };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            'x' => out.push(hex(2)?),
            'u' => out.push(hex(4)?),
            'U' => out.push(hex(8)?),
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    let d = chars.next().and_then(|x| x.1.to_digit(8));
                    v = v * 8 + d.ok_or_else(|| format!("invalid octal escape in {s:?}"))?;
                }
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            other => out.push(other),
        }
    }
    Err(format!("unterminated string literal {s:?}"))
}

/// Parses a float as the test format writes it: decimal, exponent, `0x` hex, `Inf`/`NaN`
/// in any case with an optional sign.
pub fn parse_number(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()? as f64
    } else if body.eq_ignore_ascii_case("inf") {
        f64::INFINITY
    } else if body.eq_ignore_ascii_case("nan") {
        f64::NAN
    } else if body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        body.parse::<f64>().ok()?
    } else {
        return None;
    };
    Some(if neg { -v } else { v })
}

struct Cur<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cur<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.i..]
    }
    fn skip_ws(&mut self) {
        let r = self.rest();
        self.i += r.len() - r.trim_start().len();
    }
    fn eat(&mut self, t: &str) -> bool {
        let ok = self.rest().starts_with(t);
        if ok {
            self.i += t.len();
        }
        ok
    }
    fn err(&self, what: &str) -> String {
        format!("{what} at {:?} in {:?}", self.rest(), self.s)
    }
    /// A number token (sign, digits/Inf/NaN, fraction, exponent).
    fn number(&mut self) -> Result<f64, String> {
        let r = self.rest();
        let b = r.as_bytes();
        let mut j = usize::from(matches!(b.first(), Some(b'+' | b'-')));
        let word = &r[j..];
        let len = if word.len() >= 3
            && (word[..3].eq_ignore_ascii_case("inf") || word[..3].eq_ignore_ascii_case("nan"))
        {
            3
        } else {
            // No hex here: `0+0x10` is `0`, `+0`, `x10`.
            let wb = word.as_bytes();
            let mut k = 0;
            while k < wb.len() && (wb[k].is_ascii_digit() || wb[k] == b'.') {
                k += 1;
            }
            if k > 0 && k < wb.len() && (wb[k] == b'e' || wb[k] == b'E') {
                let mut m = k + 1;
                if m < wb.len() && (wb[m] == b'+' || wb[m] == b'-') {
                    m += 1;
                }
                let digits = wb[m..].iter().take_while(|c| c.is_ascii_digit()).count();
                if digits > 0 {
                    k = m + digits;
                }
            }
            k
        };
        j += len;
        let v = parse_number(&r[..j]).ok_or_else(|| self.err("expected a number"))?;
        self.i += j;
        Ok(v)
    }
    /// `x<N>` repetition count.
    fn times(&mut self) -> Result<Option<usize>, String> {
        if !self.eat("x") {
            return Ok(None);
        }
        let r = self.rest();
        let n = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
        let v = r[..n]
            .parse::<usize>()
            .map_err(|_| self.err("expected a repetition count"))?;
        self.i += n;
        Ok(Some(v))
    }
    fn end_item(&self) -> Result<(), String> {
        match self.rest().chars().next() {
            None => Ok(()),
            Some(c) if c.is_whitespace() => Ok(()),
            Some(_) => Err(self.err("unexpected characters")),
        }
    }
}

/// Expands a value sequence into one entry per position.
pub fn parse_values(s: &str) -> Result<Vec<SeqValue>, String> {
    let mut c = Cur { s, i: 0 };
    let mut out = Vec::new();
    loop {
        c.skip_ws();
        if c.rest().is_empty() {
            return Ok(out);
        }
        if c.eat("{{") {
            let a = parse_histogram_body(&mut c)?;
            let op = if c.rest().starts_with("+{{") {
                Some(1.0)
            } else if c.rest().starts_with("-{{") {
                Some(-1.0)
            } else {
                None
            };
            if let Some(sign) = op {
                c.i += 3;
                let b = parse_histogram_body(&mut c)?;
                let n = c.times()?.ok_or_else(|| c.err("expected xN"))?;
                for k in 0..=n {
                    let h = add_scaled(&a.h, &b.h, sign * k as f64)?;
                    out.push(SeqValue::Histogram(ParsedHistogram {
                        h,
                        hint_given: a.hint_given,
                    }));
                }
            } else {
                let n = c.times()?.unwrap_or(0);
                out.extend((0..=n).map(|_| SeqValue::Histogram(a.clone())));
            }
        } else if c.eat("_") {
            let n = c.times()?.unwrap_or(1);
            out.extend((0..n).map(|_| SeqValue::Missing));
        } else if c.eat("stale") {
            out.push(SeqValue::Float(stale_nan()));
        } else {
            let a = c.number()?;
            if c.rest().starts_with(['+', '-']) {
                let b = c.number()?;
                let n = c.times()?.ok_or_else(|| c.err("expected xN"))?;
                out.extend((0..=n).map(|k| SeqValue::Float(a + b * k as f64)));
            } else {
                let n = c.times()?.unwrap_or(0);
                out.extend((0..=n).map(|_| SeqValue::Float(a)));
            }
        }
        c.end_item()?;
    }
}

fn parse_histogram_body(c: &mut Cur<'_>) -> Result<ParsedHistogram, String> {
    let mut h = FloatHistogram::default();
    let mut hint_given = false;
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    let (mut off, mut noff) = (0i32, 0i32);
    loop {
        c.skip_ws();
        if c.eat("}}") {
            break;
        }
        let r = c.rest();
        let colon = r.find(':').ok_or_else(|| c.err("expected key:value"))?;
        let key = r[..colon].trim().to_owned();
        c.i += colon + 1;
        c.skip_ws();
        if c.eat("[") {
            let r = c.rest();
            let close = r.find(']').ok_or_else(|| c.err("unterminated list"))?;
            let list = r[..close]
                .split_whitespace()
                .map(|x| parse_number(x).ok_or_else(|| format!("bad number {x:?}")))
                .collect::<Result<Vec<f64>, String>>()?;
            c.i += close + 1;
            match key.as_str() {
                "buckets" => pos = list,
                "n_buckets" => neg = list,
                "custom_values" => h.custom_values = list,
                _ => return Err(c.err(&format!("unknown histogram list {key:?}"))),
            }
            continue;
        }
        let r = c.rest();
        let n = r
            .find(|ch: char| ch.is_whitespace() || ch == '}')
            .unwrap_or(r.len());
        let val = &r[..n];
        c.i += n;
        let num = || parse_number(val).ok_or_else(|| format!("bad histogram value {val:?}"));
        let int = || {
            val.parse::<i32>()
                .map_err(|_| format!("bad integer {val:?}"))
        };
        match key.as_str() {
            "schema" => h.schema = int()?,
            "sum" => h.sum = num()?,
            "count" => h.count = num()?,
            "z_bucket" => h.zero_count = num()?,
            "z_bucket_w" => h.zero_threshold = num()?,
            "offset" => off = int()?,
            "n_offset" => noff = int()?,
            "counter_reset_hint" => {
                hint_given = true;
                h.counter_reset_hint = match val {
                    "unknown" => CounterResetHint::Unknown,
                    "reset" => CounterResetHint::CounterReset,
                    "not_reset" => CounterResetHint::NotCounterReset,
                    "gauge" => CounterResetHint::Gauge,
                    _ => return Err(format!("unknown counter_reset_hint {val:?}")),
                }
            }
            _ => return Err(c.err(&format!("unknown histogram key {key:?}"))),
        }
    }
    let span = |o: i32, b: &[f64]| {
        if b.is_empty() {
            Vec::new()
        } else {
            vec![Span {
                offset: o,
                length: b.len() as u32,
            }]
        }
    };
    h.positive_spans = span(off, &pos);
    h.negative_spans = span(noff, &neg);
    h.positive_buckets = pos;
    h.negative_buckets = neg;
    Ok(ParsedHistogram { h, hint_given })
}

/// Bucket index → count for one side of a histogram.
pub fn bucket_map(spans: &[Span], buckets: &[f64]) -> BTreeMap<i32, f64> {
    let mut m = BTreeMap::new();
    let mut idx = 0i32;
    let mut it = buckets.iter();
    // The first offset is an index; later ones are gaps after the previous span.
    for s in spans {
        idx += s.offset;
        for _ in 0..s.length {
            if let Some(v) = it.next() {
                *m.entry(idx).or_insert(0.0) += *v;
            }
            idx += 1;
        }
    }
    m
}

/// Spans and buckets from an index → count map; zero counts are dropped when `compact`.
pub fn spans_from_map(m: &BTreeMap<i32, f64>, compact: bool) -> (Vec<Span>, Vec<f64>) {
    let (mut spans, mut buckets): (Vec<Span>, Vec<f64>) = (Vec::new(), Vec::new());
    let mut next: Option<i32> = None;
    for (&i, &v) in m {
        if compact && v == 0.0 {
            continue;
        }
        match (next, spans.last_mut()) {
            (Some(n), Some(last)) if n == i => last.length += 1,
            _ => spans.push(Span {
                offset: i - next.unwrap_or(0),
                length: 1,
            }),
        }
        buckets.push(v);
        next = Some(i + 1);
    }
    (spans, buckets)
}

/// `a + f·b`; `b` is reduced to `a`'s schema when it is finer (as the test format allows).
fn add_scaled(a: &FloatHistogram, b: &FloatHistogram, f: f64) -> Result<FloatHistogram, String> {
    let custom = a.schema == -53 || b.schema == -53;
    if custom && (a.schema != b.schema || a.custom_values != b.custom_values) {
        return Err("cannot add histograms with different custom buckets".into());
    }
    if a.schema > b.schema {
        return Err(format!(
            "cannot add a histogram of schema {} to one of finer schema {}",
            b.schema, a.schema
        ));
    }
    let shift = (b.schema - a.schema) as u32;
    let reduce = |m: BTreeMap<i32, f64>| {
        let mut out = BTreeMap::new();
        for (i, v) in m {
            let j = if custom { i } else { ((i - 1) >> shift) + 1 };
            *out.entry(j).or_insert(0.0) += v;
        }
        out
    };
    let merge = |x: BTreeMap<i32, f64>, y: BTreeMap<i32, f64>| {
        let mut out = x;
        for (i, v) in y {
            *out.entry(i).or_insert(0.0) += f * v;
        }
        out
    };
    let pos = merge(
        bucket_map(&a.positive_spans, &a.positive_buckets),
        reduce(bucket_map(&b.positive_spans, &b.positive_buckets)),
    );
    let neg = merge(
        bucket_map(&a.negative_spans, &a.negative_buckets),
        reduce(bucket_map(&b.negative_spans, &b.negative_buckets)),
    );
    let (positive_spans, positive_buckets) = spans_from_map(&pos, false);
    let (negative_spans, negative_buckets) = spans_from_map(&neg, false);
    Ok(FloatHistogram {
        counter_reset_hint: a.counter_reset_hint,
        schema: a.schema,
        zero_threshold: a.zero_threshold.max(b.zero_threshold),
        zero_count: a.zero_count + f * b.zero_count,
        count: a.count + f * b.count,
        sum: a.sum + f * b.sum,
        positive_spans,
        negative_spans,
        positive_buckets,
        negative_buckets,
        custom_values: a.custom_values.clone(),
    })
}

/// Parses a start-timestamp sequence of an `…@st` line: `_`, `_xN`, `<dur>`, `<dur>xN`,
/// `<dur>±<dur>xN` with signed durations; `None` = no start timestamp.
pub fn parse_st_offsets(s: &str) -> Result<Vec<Option<i64>>, String> {
    let mut c = Cur { s, i: 0 };
    let mut out = Vec::new();
    let dur = |c: &mut Cur<'_>| -> Result<i64, String> {
        let r = c.rest();
        let (sign, body_start) = match r.as_bytes().first() {
            Some(b'-') => (-1, 1),
            Some(b'+') => (1, 1),
            _ => (1, 0),
        };
        let body = &r[body_start..];
        let n = body
            .find(|ch: char| !(ch.is_ascii_digit() || "mshdwy".contains(ch)))
            .unwrap_or(body.len());
        let ms = strata_model::duration::parse_duration_ms(&body[..n])
            .map_err(|e| c.err(&e.to_string()))?;
        c.i += body_start + n;
        Ok(sign * ms)
    };
    loop {
        c.skip_ws();
        if c.rest().is_empty() {
            return Ok(out);
        }
        if c.eat("_") {
            let n = c.times()?.unwrap_or(1);
            out.extend((0..n).map(|_| None));
        } else {
            let a = dur(&mut c)?;
            if c.rest().starts_with(['+', '-']) {
                let b = dur(&mut c)?;
                let n = c.times()?.ok_or_else(|| c.err("expected xN"))?;
                out.extend((0..=n as i64).map(|k| Some(a + b * k)));
            } else {
                let n = c.times()?.unwrap_or(0);
                out.extend((0..=n).map(|_| Some(a)));
            }
        }
        c.end_item()?;
    }
}
