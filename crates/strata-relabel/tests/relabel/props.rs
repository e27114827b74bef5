//! Property tests.

use proptest::prelude::*;
use strata_model::Labels;
use strata_relabel::{Action, RelabelBuilder, RelabelConfig, process, process_builder};

fn label_sets() -> impl Strategy<Value = Labels> {
    proptest::collection::btree_map("[a-d_]{1,4}", "[a-c0-9]{0,4}", 0..6).prop_map(|m| {
        let v: Vec<(&str, &str)> = m.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Labels::new(&v).unwrap()
    })
}

fn patterns() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("a.*"),
        Just(".*1"),
        Just("(a|b)c?"),
        Just(""),
        Just(".+"),
        Just("[ab]+;.*"),
        Just("\\d*"),
    ]
}

fn rule(action: Action, pattern: &str, sources: Vec<String>) -> RelabelConfig {
    let mut c = RelabelConfig::new(action).with_regex(pattern).unwrap();
    c.source_labels = sources;
    c
}

proptest! {
    /// keep and drop with the same regex partition the inputs.
    #[test]
    fn keep_and_drop_partition(l in label_sets(), p in patterns(), src in proptest::collection::vec("[a-d_]{1,4}", 1..3)) {
        let keep = process(&l, &[rule(Action::Keep, p, src.clone())]);
        let drop = process(&l, &[rule(Action::Drop, p, src)]);
        prop_assert!(keep.is_some() != drop.is_some());
        if let Some(k) = keep { prop_assert_eq!(k, l.clone()); }
        if let Some(d) = drop { prop_assert_eq!(d, l); }
    }

    /// labelkeep and labeldrop with the same regex split the labels into two disjoint
    /// sets whose union is the input.
    #[test]
    fn labelkeep_and_labeldrop_split(l in label_sets(), p in patterns()) {
        let kept = process(&l, &[RelabelConfig::new(Action::LabelKeep).with_regex(p).unwrap()]).unwrap();
        let dropped = process(&l, &[RelabelConfig::new(Action::LabelDrop).with_regex(p).unwrap()]).unwrap();
        prop_assert_eq!(kept.len() + dropped.len(), l.len());
        for (n, v) in l.iter() {
            prop_assert_eq!(kept.get(n).or(dropped.get(n)), Some(v));
        }
    }

    /// hashmod always yields a value below the modulus, and is deterministic.
    #[test]
    fn hashmod_in_range(l in label_sets(), m in 1u64..1000) {
        let mut c = RelabelConfig::new(Action::HashMod);
        c.source_labels = vec!["a".into(), "b".into()];
        c.target_label = "h".into();
        c.modulus = m;
        let out = process(&l, std::slice::from_ref(&c)).unwrap();
        let h: u64 = out.get("h").unwrap().parse().unwrap();
        prop_assert!(h < m);
        prop_assert_eq!(process(&l, &[c]).unwrap(), out);
    }

    /// A reused builder gives the same results as fresh processing.
    #[test]
    fn reused_builder_matches_fresh(sets in proptest::collection::vec(label_sets(), 1..5), p in patterns()) {
        let cfgs = vec![
            rule(Action::Replace, p, vec!["a".into()]).tap_target("t_$1"),
            RelabelConfig::new(Action::LabelMap).with_regex("(a|b)").unwrap().tap_replacement("m_$1"),
            RelabelConfig::new(Action::LabelDrop).with_regex("c.*").unwrap(),
        ];
        let mut b = RelabelBuilder::new();
        for l in sets {
            b.reset(&l);
            let keep = process_builder(&mut b, &cfgs);
            let fresh = process(&l, &cfgs);
            prop_assert_eq!(keep, fresh.is_some());
            if let Some(f) = fresh { prop_assert_eq!(b.labels(), f); }
        }
    }
}

trait Tap {
    fn tap_target(self, t: &str) -> Self;
    fn tap_replacement(self, r: &str) -> Self;
}

impl Tap for RelabelConfig {
    fn tap_target(mut self, t: &str) -> Self {
        self.target_label = t.into();
        self
    }
    fn tap_replacement(mut self, r: &str) -> Self {
        self.replacement = r.into();
        self
    }
}
