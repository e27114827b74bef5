//! `sort`, `sort_desc` (by value, NaN last, histograms dropped) and `sort_by_label`,
//! `sort_by_label_desc` (natural order of the given labels' values, then the full
//! label set). Names are kept. The "sort is ineffective for range queries" warning is
//! the evaluator's (it knows the query's range).

use std::cmp::Ordering;

use super::{Args, Ctx, Output, as_float, cmp_f64, merge_sort_by};
use crate::error::Result;
use crate::value::Sample;

pub(super) fn call(name: &str, a: &mut Args<'_>, _ctx: &mut Ctx<'_>) -> Result<Option<Output>> {
    let out = match name {
        "sort" | "sort_desc" => {
            let desc = name == "sort_desc";
            let v: Vec<(f64, Sample)> = a
                .vector(0)?
                .into_iter()
                .filter_map(|s| as_float(&s).map(|f| (f, s)))
                .collect();
            merge_sort_by(v, &mut |x: &(f64, Sample), y: &(f64, Sample)| {
                by_value(x.0, y.0, desc)
            })
            .into_iter()
            .map(|(_, s)| s)
            .collect()
        }
        "sort_by_label" | "sort_by_label_desc" => {
            let desc = name == "sort_by_label_desc";
            let v = a.vector(0)?;
            let mut names = Vec::new();
            for i in 1..a.len() {
                names.push(a.string(i)?);
            }
            merge_sort_by(v, &mut |x: &Sample, y: &Sample| {
                let o = by_labels(x, y, &names);
                if desc { o.reverse() } else { o }
            })
        }
        _ => return Ok(None),
    };
    Ok(Some(Output::Vector(out)))
}

/// Ascending or descending by value, NaN always last.
fn by_value(a: f64, b: f64, desc: bool) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ if desc => cmp_f64(b, a),
        _ => cmp_f64(a, b),
    }
}

fn by_labels(a: &Sample, b: &Sample, names: &[String]) -> Ordering {
    for n in names {
        let (va, vb) = (a.metric.get(n).unwrap_or(""), b.metric.get(n).unwrap_or(""));
        if va == vb {
            continue;
        }
        return if natural_less(va, vb) {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    a.metric.cmp(&b.metric)
}

/// Natural ("human") string order: runs of digits compare as numbers (leading zeros
/// skipped, longer runs are bigger), everything else byte by byte.
pub(crate) fn natural_less(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0usize, 0usize);
    loop {
        let (Some(&ca), Some(&cb)) = (a.get(i), b.get(j)) else {
            // Whichever ran out first is smaller; both at once: equal, not less.
            return i >= a.len() && j < b.len();
        };
        if ca.is_ascii_digit() && cb.is_ascii_digit() {
            let (sa, la) = digit_run(a, i);
            let (sb, lb) = digit_run(b, j);
            if la != lb {
                return la < lb;
            }
            let (ra, rb) = (a.get(sa..sa + la), b.get(sb..sb + lb));
            match ra.cmp(&rb) {
                Ordering::Less => return true,
                Ordering::Greater => return false,
                Ordering::Equal => {
                    i = sa + la;
                    j = sb + lb;
                    continue;
                }
            }
        }
        if ca != cb {
            return ca < cb;
        }
        i += 1;
        j += 1;
    }
}

/// The numeric run at `i` as the natural-sort algorithm Prometheus uses reads it:
/// leading zeros are skipped while any character follows them, then digits are
/// counted. Returns (start, length).
fn digit_run(s: &[u8], mut i: usize) -> (usize, usize) {
    let mut n = 1;
    while let Some(&x) = s.get(i + n) {
        if s.get(i) == Some(&b'0') {
            i += 1;
            continue;
        }
        if x.is_ascii_digit() {
            n += 1;
        } else {
            break;
        }
    }
    (i, n)
}

#[cfg(test)]
mod tests {
    use super::super::Arg;
    use super::super::tests_util::*;
    use super::*;
    use crate::value::SampleValue;

    fn http() -> Vec<Sample> {
        let mut v = Vec::new();
        let rows = [
            ("api-server", "0", "production", 100.0),
            ("api-server", "1", "production", 200.0),
            ("api-server", "0", "canary", 300.0),
            ("api-server", "1", "canary", 400.0),
            ("api-server", "2", "canary", f64::NAN),
            ("app-server", "0", "production", 500.0),
            ("app-server", "1", "production", 600.0),
            ("app-server", "0", "canary", 700.0),
            ("app-server", "1", "canary", 800.0),
        ];
        for (job, inst, group, val) in rows.iter().rev() {
            v.push(fsample(
                lbl(&[
                    ("__name__", "http_requests"),
                    ("job", job),
                    ("instance", inst),
                    ("group", group),
                ]),
                0,
                *val,
            ));
        }
        v
    }

    #[test]
    fn sort_and_sort_desc() {
        let mut input = http();
        input.push(Sample {
            metric: lbl(&[
                ("__name__", "http_requests"),
                ("instance", "2"),
                ("job", "app-server"),
            ]),
            t: 0,
            value: SampleValue::Histogram(Box::default()),
            drop_name: false,
        });
        let r = run("sort", vec![Arg::Vector(input.clone())], 0);
        let f = r.floats();
        assert_eq!(&f[..8], &[100., 200., 300., 400., 500., 600., 700., 800.]);
        assert!(f[8].is_nan());
        assert!(r.vector().iter().all(|s| !s.drop_name));
        let f = run("sort_desc", vec![Arg::Vector(input)], 0).floats();
        assert_eq!(&f[..8], &[800., 700., 600., 500., 400., 300., 200., 100.]);
        assert!(f[8].is_nan());
    }

    fn by_label(desc: bool, v: Vec<Sample>, names: &[&str]) -> Vec<String> {
        let mut args = vec![Arg::Vector(v)];
        args.extend(names.iter().map(|n| Arg::String((*n).into())));
        let f = if desc {
            "sort_by_label_desc"
        } else {
            "sort_by_label"
        };
        run(f, args, 0)
            .vector()
            .iter()
            .map(|s| {
                names
                    .iter()
                    .map(|n| s.metric.get(n).unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .collect()
    }

    #[test]
    fn sort_by_label_cases() {
        let mut v = http();
        v.push(fsample(
            lbl(&[
                ("__name__", "http_requests"),
                ("job", "api-server"),
                ("instance", "2"),
                ("group", "production"),
            ]),
            0,
            100.0,
        ));
        let got = by_label(false, v.clone(), &["job", "instance", "group"]);
        assert_eq!(
            got,
            vec![
                "api-server/0/canary",
                "api-server/0/production",
                "api-server/1/canary",
                "api-server/1/production",
                "api-server/2/canary",
                "api-server/2/production",
                "app-server/0/canary",
                "app-server/0/production",
                "app-server/1/canary",
                "app-server/1/production",
            ]
        );
        // Ties on the label fall back to the full label set.
        let got = run(
            "sort_by_label",
            vec![Arg::Vector(v.clone()), Arg::String("instance".into())],
            0,
        );
        let first: Vec<String> = got
            .vector()
            .iter()
            .take(2)
            .map(|s| {
                s.metric.get("job").unwrap_or("").to_string() + s.metric.get("group").unwrap_or("")
            })
            .collect();
        assert_eq!(first, vec!["api-servercanary", "app-servercanary"]);
        let got = by_label(true, v, &["instance", "group", "job"]);
        assert_eq!(got[0], "2/production/api-server");
        assert_eq!(got[9], "0/canary/api-server");
    }

    #[test]
    fn natural_order() {
        let cpus = ["100", "0", "21", "1", "2", "3", "10", "11", "12", "20"];
        let v: Vec<Sample> = cpus
            .iter()
            .map(|c| fsample(lbl(&[("cpu", c)]), 0, 1.0))
            .collect();
        assert_eq!(
            by_label(false, v, &["cpu"]),
            vec!["0", "1", "2", "3", "10", "11", "12", "20", "21", "100"]
        );
        let rel = ["1.111.3", "1.2.3", "1.11.3"];
        let v: Vec<Sample> = rel
            .iter()
            .map(|c| fsample(lbl(&[("release", c)]), 0, 1.0))
            .collect();
        assert_eq!(
            by_label(false, v, &["release"]),
            vec!["1.2.3", "1.11.3", "1.111.3"]
        );
        let inst = ["4m1000", "4m600", "4m5"];
        let v: Vec<Sample> = inst
            .iter()
            .map(|c| fsample(lbl(&[("instance", c)]), 0, 1.0))
            .collect();
        assert_eq!(
            by_label(false, v, &["instance"]),
            vec!["4m5", "4m600", "4m1000"]
        );
        assert!(natural_less("a", "ab"));
        assert!(!natural_less("ab", "ab"));
        assert!(natural_less("a01", "a2"));
        assert!(!natural_less("", ""));
        // Quirk kept from the reference algorithm: a zero followed by a letter is
        // skipped, so "0a" reads as "a".
        assert!(!natural_less("0a", "1a"));
    }

    proptest::proptest! {
        #[test]
        fn natural_sort_never_panics(v in proptest::collection::vec("[0-9a]{0,4}", 0..20)) {
            let samples: Vec<Sample> = v.iter().enumerate()
                .map(|(i, s)| fsample(lbl(&[("l", s), ("i", &i.to_string())]), 0, 1.0)).collect();
            let _ = by_label(false, samples.clone(), &["l"]);
            let _ = by_label(true, samples, &["l"]);
        }
    }
}
