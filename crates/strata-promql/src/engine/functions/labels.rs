//! `label_replace` and `label_join`: rewrite one label of every sample.
//!
//! Setting `__name__` this way un-marks the name for removal; otherwise the input's
//! `drop_name` flag is kept. Two outputs with the same label set at one step are an
//! error, as in Prometheus.

use std::collections::HashSet;

use regex::Regex;
use strata_model::{Labels, METRIC_NAME};

use super::{Args, Ctx, Output};
use crate::error::{QueryError, Result};
use crate::value::Sample;

pub(super) fn call(name: &str, a: &mut Args<'_>, _ctx: &mut Ctx<'_>) -> Result<Option<Output>> {
    let out = match name {
        "label_replace" => label_replace(a)?,
        "label_join" => label_join(a)?,
        _ => return Ok(None),
    };
    check_unique(&out)?;
    Ok(Some(Output::Vector(out)))
}

/// Prometheus 3 accepts any non-empty UTF-8 label name.
fn valid_label_name(n: &str) -> bool {
    !n.is_empty()
}

fn label_replace(a: &mut Args<'_>) -> Result<Vec<Sample>> {
    let v = a.vector(0)?;
    let dst = a.string(1)?;
    let repl = a.string(2)?;
    let src = a.string(3)?;
    let re_str = a.string(4)?;
    let re = Regex::new(&format!("^(?s:{re_str})$")).map_err(|_| {
        QueryError::Execution(format!(
            "invalid regular expression in label_replace(): {re_str}"
        ))
    })?;
    if !valid_label_name(&dst) {
        return Err(QueryError::Execution(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    v.into_iter()
        .map(|mut s| {
            let src_val = s.metric.get(&src).unwrap_or("");
            if let Some(caps) = re.captures(src_val) {
                let res = expand(&re, &repl, &caps);
                s.metric = set_label(&s.metric, &dst, &res)?;
                s.drop_name = dst != METRIC_NAME && s.drop_name;
            }
            Ok(s)
        })
        .collect()
}

fn label_join(a: &mut Args<'_>) -> Result<Vec<Sample>> {
    let v = a.vector(0)?;
    let dst = a.string(1)?;
    let sep = a.string(2)?;
    let mut srcs = Vec::new();
    for i in 3..a.len() {
        let src = a.string(i)?;
        if !valid_label_name(&src) {
            return Err(QueryError::Execution(format!(
                "invalid source label name in label_join(): {src}"
            )));
        }
        srcs.push(src);
    }
    if !valid_label_name(&dst) {
        return Err(QueryError::Execution(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    v.into_iter()
        .map(|mut s| {
            let joined = srcs
                .iter()
                .map(|n| s.metric.get(n).unwrap_or(""))
                .collect::<Vec<_>>()
                .join(&sep);
            s.metric = set_label(&s.metric, &dst, &joined)?;
            s.drop_name = dst != METRIC_NAME && s.drop_name;
            Ok(s)
        })
        .collect()
}

/// `metric` with `name` set to `value` (removed when `value` is empty).
fn set_label(metric: &Labels, name: &str, value: &str) -> Result<Labels> {
    let mut b = metric.to_builder();
    b.set(name, value);
    b.build().map_err(|e| QueryError::Execution(e.to_string()))
}

fn check_unique(v: &[Sample]) -> Result<()> {
    let mut seen = HashSet::with_capacity(v.len());
    for s in v {
        if !seen.insert(&s.metric) {
            return Err(QueryError::Execution(
                "vector cannot contain metrics with the same labelset".into(),
            ));
        }
    }
    Ok(())
}

/// Expands `$1`, `${1}`, `$name`, `${name}` and `$$` in `template` the way Go's
/// `regexp.Expand` does: a name is the longest run of letters, digits and `_`; a
/// reference to a missing group expands to nothing; a malformed `$` is kept.
pub(crate) fn expand(re: &Regex, template: &str, caps: &regex::Captures<'_>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos + 1..];
        if let Some(r) = rest.strip_prefix('$') {
            out.push('$');
            rest = r;
            continue;
        }
        let Some((name, after)) = extract_name(rest) else {
            out.push('$');
            continue;
        };
        rest = after;
        match group_number(name) {
            Some(n) => {
                if let Some(m) = caps.get(n) {
                    out.push_str(m.as_str());
                }
            }
            None => {
                let idx = re.capture_names().position(|n| n == Some(name));
                if let Some(m) = idx.and_then(|i| caps.get(i)) {
                    out.push_str(m.as_str());
                }
            }
        }
    }
    out.push_str(rest);
    out
}

/// Splits a reference name (`name` or `{name}`) off the front of `s`.
fn extract_name(s: &str) -> Option<(&str, &str)> {
    let (braced, body) = match s.strip_prefix('{') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let end = body
        .char_indices()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '_'))
        .map_or(body.len(), |(i, _)| i);
    if end == 0 {
        return None;
    }
    let name = &body[..end];
    let after = &body[end..];
    if braced {
        let after = after.strip_prefix('}')?;
        return Some((name, after));
    }
    Some((name, after))
}

/// A group number as Go reads one: ASCII digits, no leading zero, below 1e8.
fn group_number(name: &str) -> Option<usize> {
    if !name.bytes().all(|b| b.is_ascii_digit()) || (name.len() > 1 && name.starts_with('0')) {
        return None;
    }
    let mut n: usize = 0;
    for b in name.bytes() {
        if n >= 100_000_000 {
            return None;
        }
        n = n * 10 + usize::from(b - b'0');
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::super::Arg;
    use super::super::tests_util::*;
    use super::*;

    fn lr(v: Vec<Sample>, dst: &str, repl: &str, src: &str, re: &str) -> Res {
        run(
            "label_replace",
            vec![
                Arg::Vector(v),
                Arg::String(dst.into()),
                Arg::String(repl.into()),
                Arg::String(src.into()),
                Arg::String(re.into()),
            ],
            0,
        )
    }

    fn testmetric() -> Vec<Sample> {
        vec![
            fsample(
                lbl(&[
                    ("__name__", "testmetric"),
                    ("src", "source-value-10"),
                    ("dst", "original-destination-value"),
                ]),
                0,
                0.0,
            ),
            fsample(
                lbl(&[
                    ("__name__", "testmetric"),
                    ("src", "source-value-20"),
                    ("dst", "original-destination-value"),
                ]),
                0,
                1.0,
            ),
        ]
    }

    fn metrics(r: &Res) -> Vec<String> {
        let mut v: Vec<String> = r.vector().iter().map(|s| s.metric.to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn label_replace_cases_from_functions_test() {
        // Regex matches: value replaced.
        let r = lr(
            testmetric(),
            "dst",
            "destination-value-$1",
            "src",
            "source-value-(.*)",
        );
        assert_eq!(
            metrics(&r),
            vec![
                "{__name__=\"testmetric\", dst=\"destination-value-10\", src=\"source-value-10\"}",
                "{__name__=\"testmetric\", dst=\"destination-value-20\", src=\"source-value-20\"}",
            ]
        );
        // Partial match: the regex is anchored, nothing changes.
        let r = lr(
            testmetric(),
            "dst",
            "destination-value-$1",
            "src",
            "value-(.*)",
        );
        assert!(
            metrics(&r)
                .iter()
                .all(|m| m.contains("original-destination-value"))
        );
        // Multi-line values with (?s).
        let r = lr(testmetric(), "dst", "$1", "src", "source(.*)");
        assert!(metrics(&r)[0].contains("dst=\"-value-10\""));
        // Empty replacement deletes the label.
        let r = lr(testmetric(), "dst", "", "dst", ".*");
        assert!(metrics(&r).iter().all(|m| !m.contains("dst")));
        // Named groups and ${1}.
        let r = lr(
            testmetric(),
            "dst",
            "${1}x$name",
            "src",
            "source-value-(?P<name>.*)",
        );
        assert!(
            metrics(&r)[0].contains("dst=\"10x10\""),
            "{:?}",
            metrics(&r)
        );
        // Missing source label matches the empty string.
        let r = lr(testmetric(), "dst", "value-$1", "nonexistent-src", "(.*)");
        assert!(metrics(&r).iter().all(|m| m.contains("dst=\"value-\"")));
        // Setting __name__ un-drops the name.
        let mut v = testmetric();
        v[0].drop_name = true;
        v[1].drop_name = true;
        let r = lr(v, "__name__", "renamed$1", "src", "source-value-(.*)");
        assert!(r.vector().iter().all(|s| !s.drop_name));
        assert!(metrics(&r)[0].starts_with("{__name__=\"renamed10\""));
    }

    #[test]
    fn label_replace_errors() {
        let r = lr(testmetric(), "dst", "x", "src", "(.*");
        assert_eq!(
            r.err(),
            "invalid regular expression in label_replace(): (.*"
        );
        let r = lr(testmetric(), "", "x", "src", "(.*)");
        assert_eq!(
            r.err(),
            "invalid destination label name in label_replace(): "
        );
        let r = lr(testmetric(), "src", "", "", "(.*)");
        assert_eq!(
            r.err(),
            "vector cannot contain metrics with the same labelset"
        );
    }

    #[test]
    fn go_expand_rules() {
        let re = Regex::new("^(?s:(a)(?P<x>b))$").unwrap();
        let caps = re.captures("ab").unwrap();
        assert_eq!(expand(&re, "$1-$2-$x-$$-$", &caps), "a-b-b-$-$");
        assert_eq!(expand(&re, "$1x", &caps), "");
        assert_eq!(expand(&re, "${1}x", &caps), "ax");
        assert_eq!(expand(&re, "${1", &caps), "${1");
        assert_eq!(expand(&re, "$9 $01 ${x}", &caps), "  b");
        assert_eq!(expand(&re, "$-", &caps), "$-");
    }

    #[test]
    fn label_join_cases() {
        let v = vec![fsample(
            lbl(&[
                ("__name__", "testmetric"),
                ("src", "a"),
                ("src1", "b"),
                ("src2", "c"),
                ("dst", "original"),
            ]),
            0,
            0.0,
        )];
        let args = |v, dst: &str, srcs: &[&str]| {
            let mut a = vec![
                Arg::Vector(v),
                Arg::String(dst.into()),
                Arg::String("-".into()),
            ];
            a.extend(srcs.iter().map(|s| Arg::String((*s).into())));
            a
        };
        let r = run(
            "label_join",
            args(v.clone(), "dst", &["src", "src1", "src2"]),
            0,
        );
        assert_eq!(r.vector()[0].metric.get("dst"), Some("a-b-c"));
        let r = run(
            "label_join",
            args(v.clone(), "dst", &["src", "missing", "src2"]),
            0,
        );
        assert_eq!(r.vector()[0].metric.get("dst"), Some("a--c"));
        // No sources: the label is removed.
        let r = run("label_join", args(v.clone(), "dst", &[]), 0);
        assert_eq!(r.vector()[0].metric.get("dst"), None);
        let r = run("label_join", args(v.clone(), "", &["src"]), 0);
        assert_eq!(r.err(), "invalid destination label name in label_join(): ");
        let r = run("label_join", args(v, "dst", &[""]), 0);
        assert_eq!(r.err(), "invalid source label name in label_join(): ");
        // Duplicates after joining.
        let two = vec![
            fsample(lbl(&[("idx", "0"), ("label", "a")]), 0, 1.0),
            fsample(lbl(&[("idx", "1"), ("label", "a")]), 0, 2.0),
        ];
        let r = run("label_join", args(two, "idx", &["label", "label"]), 0);
        assert_eq!(
            r.err(),
            "vector cannot contain metrics with the same labelset"
        );
    }
}
