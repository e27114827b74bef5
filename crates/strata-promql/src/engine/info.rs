//! `info()`: enriches series with the data labels of matching info series
//! (`target_info` by default), joined on the identifying labels `instance` and `job`.
//! The info series were preloaded under [`info_key`]; each step looks them up like an
//! instant selector with the `@`/offset of the first selector of the first argument.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use strata_model::labels::METRIC_NAME;
use strata_model::{Labels, Matcher};

use super::eval::{Evaluator, StepValue};
use super::selectors::{effective_info_name_matchers, first_selector, info_key, instant_sample};
use crate::error::{QueryError, Result};
use crate::parser::ast::{Call, Expr};
use crate::value::Sample;

const IDENTIFYING: &[&str] = &["instance", "job"];

fn sig(name: &str, l: &Labels) -> (String, Labels) {
    (name.to_owned(), l.only(IDENTIFYING))
}

/// Evaluates `info(v, selector?)` at `t`.
pub fn eval_info(ev: &mut Evaluator, c: &Call, t: i64) -> Result<StepValue> {
    let arg = c
        .args
        .first()
        .ok_or_else(|| QueryError::Execution("info() needs an argument".into()))?;
    let base = ev.eval_vector(arg, t)?;

    // Data-label matchers by label name, and the info-name matchers.
    let mut data: BTreeMap<String, Vec<Matcher>> = BTreeMap::new();
    let mut names: Vec<Matcher> = Vec::new();
    match c.args.get(1) {
        Some(Expr::VectorSelector(vs)) => {
            for m in &vs.matchers {
                data.entry(m.name.clone()).or_default().push(m.clone());
                if m.name == METRIC_NAME {
                    names.push(m.clone());
                }
            }
        }
        _ => names.push(Matcher::equal(METRIC_NAME, "target_info")),
    }
    let effective = effective_info_name_matchers(names);
    let ignored = |l: &Labels| {
        let n = l.metric_name().unwrap_or("");
        effective.iter().all(|m| m.matches(n))
    };
    data.remove(METRIC_NAME);

    // Identifying label values of the series to enrich.
    let mut id_values: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for s in base.iter().filter(|s| !ignored(&s.metric)) {
        for l in IDENTIFYING {
            if let Some(v) = s.metric.get(l) {
                id_values.entry(l).or_default().insert(v.to_owned());
            }
        }
    }

    // The info samples visible at this step, one per signature (the newest wins).
    let mut info: HashMap<(String, Labels), (Labels, i64)> = HashMap::new();
    let mut info_names: BTreeSet<String> = BTreeSet::new();
    if !id_values.is_empty() {
        let (at, offset) = match first_selector(arg) {
            Some(vs) => (ev.qt.at(&vs.at), ev.qt.offset(&vs.offset)?),
            None => (None, 0),
        };
        let ref_t = at.unwrap_or(t).saturating_sub(offset);
        let lookback = ev.qt.lookback;
        for s in ev.pre.series.get(&info_key(c)).into_iter().flatten() {
            let id_ok = id_values
                .iter()
                .all(|(l, vals)| s.labels.get(l).is_some_and(|v| vals.contains(v)));
            if !id_ok {
                continue;
            }
            let Some((orig_t, _)) = instant_sample(&s.floats, ref_t, lookback) else {
                continue;
            };
            let name = s.labels.metric_name().unwrap_or("").to_owned();
            info_names.insert(name.clone());
            let key = sig(&name, &s.labels);
            match info.get(&key) {
                Some((existing, et)) if *et == orig_t => {
                    return Err(QueryError::Execution(format!(
                        "found duplicate series for info metric: existing {existing} @ {et}, new {} @ {orig_t}",
                        s.labels
                    )));
                }
                Some((_, et)) if *et > orig_t => {}
                _ => {
                    info.insert(key, (s.labels.clone(), orig_t));
                }
            }
        }
    }

    let mut out = Vec::with_capacity(base.len());
    for bs in base {
        if ignored(&bs.metric) {
            out.push(bs);
            continue;
        }
        let mut added: BTreeMap<String, String> = BTreeMap::new();
        let mut seen = 0;
        for name in &info_names {
            let Some((il, _)) = info.get(&sig(name, &bs.metric)) else {
                continue;
            };
            for (n, v) in il.iter() {
                if n == METRIC_NAME || (!data.is_empty() && !data.contains_key(n)) {
                    continue;
                }
                if added.get(n).is_some_and(|x| x != v) {
                    return Err(QueryError::Execution(format!("conflicting label: {n}")));
                }
                if bs.metric.has(n) {
                    continue;
                }
                added.insert(n.to_owned(), v.to_owned());
            }
            seen += 1;
        }
        if seen == 0 && !data.values().flatten().all(|m| m.matches("")) {
            continue;
        }
        let mut b = bs.metric.to_builder();
        for (n, v) in &added {
            b.set(n, v);
        }
        let metric = b
            .build()
            .map_err(|e| QueryError::Execution(e.to_string()))?;
        out.push(Sample {
            metric,
            t,
            value: bs.value,
            drop_name: bs.drop_name,
        });
    }
    Ok(StepValue::Vector(out))
}
