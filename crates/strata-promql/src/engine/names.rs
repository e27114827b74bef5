//! Prometheus 3's delayed `__name__` removal: samples carry `drop_name`, and the name is
//! removed when the whole expression has been evaluated. Removing names can make two
//! series equal: instant vectors then fail, range results merge series whose points do
//! not overlap (and fail when they do).

use std::collections::HashMap;

use strata_model::Labels;
use strata_model::labels::METRIC_NAME;

use crate::error::{QueryError, Result};
use crate::value::{Sample, Series};

pub const DUPLICATE_LABELSET: &str = "vector cannot contain metrics with the same labelset";

/// Labels removed together with the name (Prometheus' metadata labels).
const DROPPED: &[&str] = &[METRIC_NAME, "__type__", "__unit__"];

/// `metric` without its name and type/unit metadata.
pub fn drop_name(metric: &Labels) -> Labels {
    if DROPPED.iter().any(|n| metric.has(n)) {
        metric.without(DROPPED)
    } else {
        metric.clone()
    }
}

/// Finishes an instant vector result: drops flagged names, then rejects duplicates.
pub fn finish_vector(mut v: Vec<Sample>) -> Result<Vec<Sample>> {
    for s in &mut v {
        if s.drop_name {
            s.metric = drop_name(&s.metric);
            s.drop_name = false;
        }
    }
    check_unique(v.iter().map(|s| &s.metric))?;
    Ok(v)
}

/// Fails when two label sets are equal.
pub fn check_unique<'a>(it: impl Iterator<Item = &'a Labels>) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for l in it {
        if !seen.insert(l) {
            return Err(QueryError::Execution(DUPLICATE_LABELSET.into()));
        }
    }
    Ok(())
}

/// Finishes a matrix result: drops flagged names, merges series that became equal
/// (failing on overlapping timestamps) and sorts by labels.
pub fn finish_matrix(m: Vec<Series>) -> Result<Vec<Series>> {
    let mut out: Vec<Series> = Vec::with_capacity(m.len());
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut merged = false;
    for mut s in m {
        if s.drop_name {
            s.metric = drop_name(&s.metric);
            s.drop_name = false;
        }
        match index.get(&s.metric) {
            Some(&i) => {
                merged = true;
                let base = &mut out[i];
                base.floats.extend(s.floats);
                base.histograms.extend(s.histograms);
            }
            None => {
                index.insert(s.metric.clone(), out.len());
                out.push(s);
            }
        }
    }
    if merged {
        for s in &mut out {
            s.floats.sort_by_key(|p| p.0);
            s.histograms.sort_by_key(|p| p.0);
            if s.floats.windows(2).any(|w| w[0].0 == w[1].0)
                || s.histograms.windows(2).any(|w| w[0].0 == w[1].0)
            {
                return Err(QueryError::Execution(DUPLICATE_LABELSET.into()));
            }
        }
    }
    out.sort_by(|a, b| a.metric.cmp(&b.metric));
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::value::SampleValue;

    fn series(name: &str, pts: &[i64]) -> Series {
        Series {
            metric: Labels::new(&[("__name__", name), ("a", "1")]).unwrap(),
            floats: pts.iter().map(|&t| (t, 1.0)).collect(),
            histograms: vec![],
            drop_name: true,
        }
    }

    #[test]
    fn merges_disjoint_series() {
        let m = finish_matrix(vec![series("x", &[0, 10]), series("y", &[20])]).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].floats.len(), 3);
        assert!(finish_matrix(vec![series("x", &[0]), series("y", &[0])]).is_err());
    }

    #[test]
    fn vector_duplicates_fail() {
        let s = |n: &str| Sample {
            metric: Labels::new(&[("__name__", n)]).unwrap(),
            t: 0,
            value: SampleValue::Float(1.0),
            drop_name: true,
        };
        assert!(finish_vector(vec![s("a"), s("b")]).is_err());
        assert_eq!(
            finish_vector(vec![s("a")]).unwrap()[0].metric,
            Labels::empty()
        );
    }
}
