//! Applying relabel rules to a label set (Prometheus' `relabel.ProcessBuilder`).

use md5::{Digest, Md5};
use strata_model::Labels;
use strata_model::labels::validate_label_name;

use crate::action::Action;
use crate::builder::RelabelBuilder;
use crate::config::RelabelConfig;
use crate::template::{expand, has_variable};

/// Applies `cfgs` in order to `labels`. `None` means a rule dropped the label set.
pub fn process(labels: &Labels, cfgs: &[RelabelConfig]) -> Option<Labels> {
    if cfgs.is_empty() {
        return Some(labels.clone());
    }
    let mut b = RelabelBuilder::from_labels(labels);
    process_builder(&mut b, cfgs).then(|| b.labels())
}

/// Applies `cfgs` in order to the labels in `b`; false when a rule dropped them (the
/// builder is then left as it was when the dropping rule ran). Allocation-free once the
/// builder's buffers have grown to fit.
pub fn process_builder(b: &mut RelabelBuilder, cfgs: &[RelabelConfig]) -> bool {
    cfgs.iter().all(|cfg| apply(b, cfg))
}

/// Joins the source values into `b.value`.
fn join_sources(b: &mut RelabelBuilder, cfg: &RelabelConfig) {
    let mut value = std::mem::take(&mut b.value);
    value.clear();
    for (i, name) in cfg.source_labels.iter().enumerate() {
        if i > 0 {
            value.push_str(&cfg.separator);
        }
        value.push_str(b.get(name).unwrap_or(""));
    }
    b.value = value;
}

/// Applies one rule; false when it drops the label set.
pub fn apply(b: &mut RelabelBuilder, cfg: &RelabelConfig) -> bool {
    join_sources(b, cfg);
    match cfg.action {
        Action::Drop => return !cfg.regex.is_match(&b.value),
        Action::Keep => return cfg.regex.is_match(&b.value),
        Action::DropEqual => return b.get(&cfg.target_label).unwrap_or("") != b.value,
        Action::KeepEqual => return b.get(&cfg.target_label).unwrap_or("") == b.value,
        Action::Replace => replace(b, cfg),
        Action::Lowercase | Action::Uppercase => {
            let mut result = std::mem::take(&mut b.result);
            change_case(&b.value, &mut result, cfg.action == Action::Lowercase);
            b.set(&cfg.target_label, &result);
            b.result = result;
        }
        Action::HashMod => {
            let digest = Md5::digest(b.value.as_bytes());
            let mut tail = [0u8; 8];
            tail.copy_from_slice(&digest[8..]);
            let m = u64::from_be_bytes(tail) % cfg.modulus.max(1);
            let buf = itoa_buf(m);
            b.set(&cfg.target_label, buf.as_str());
        }
        Action::LabelMap => label_map(b, cfg),
        Action::LabelDrop | Action::LabelKeep => {
            let drop_matching = cfg.action == Action::LabelDrop;
            let n = b.take_snapshot(false);
            for i in 0..n {
                let (name, value) = b.snapshot_entry(i);
                if cfg.regex.is_match(&name) == drop_matching {
                    b.del(&name);
                }
                b.restore_snapshot_entry(i, name, value);
            }
        }
    }
    true
}

fn replace(b: &mut RelabelBuilder, cfg: &RelabelConfig) {
    let value = std::mem::take(&mut b.value);
    // Fast path: set or delete a constant label.
    if value.is_empty()
        && !cfg.regex_set
        && !has_variable(&cfg.target_label)
        && !has_variable(&cfg.replacement)
    {
        b.set(&cfg.target_label, &cfg.replacement);
        b.value = value;
        return;
    }
    let mut locs = b.locations_for(&cfg.regex);
    if cfg.regex.captures_into(&mut locs, &value) {
        let re = cfg.regex.compiled();
        let mut target = std::mem::take(&mut b.target);
        let mut result = std::mem::take(&mut b.result);
        target.clear();
        result.clear();
        expand(&mut target, &cfg.target_label, &value, re, &locs);
        if validate_label_name(&target, cfg.name_validation).is_ok() {
            expand(&mut result, &cfg.replacement, &value, re, &locs);
            // `set` deletes on an empty value, as Prometheus does.
            b.set(&target, &result);
        }
        b.target = target;
        b.result = result;
    }
    b.return_locations(&cfg.regex, locs);
    b.value = value;
}

fn label_map(b: &mut RelabelBuilder, cfg: &RelabelConfig) {
    let n = b.take_snapshot(true);
    let mut locs = b.locations_for(&cfg.regex);
    let mut target = std::mem::take(&mut b.target);
    for i in 0..n {
        let (name, value) = b.snapshot_entry(i);
        if cfg.regex.captures_into(&mut locs, &name) {
            target.clear();
            expand(
                &mut target,
                &cfg.replacement,
                &name,
                cfg.regex.compiled(),
                &locs,
            );
            // Prometheus would set an empty name; a label set cannot hold one.
            if !target.is_empty() {
                b.set(&target, &value);
            }
        }
        b.restore_snapshot_entry(i, name, value);
    }
    b.target = target;
    b.return_locations(&cfg.regex, locs);
}

/// Go's `strings.ToLower`/`ToUpper`: each character is mapped on its own (no
/// context-dependent rules such as the final sigma); a character whose mapping is not a
/// single character is kept as is, as Go's `unicode.ToLower` does.
fn change_case(src: &str, dst: &mut String, lower: bool) {
    dst.clear();
    if src.is_ascii() {
        dst.push_str(src);
        if lower {
            dst.make_ascii_lowercase();
        } else {
            dst.make_ascii_uppercase();
        }
        return;
    }
    for c in src.chars() {
        let mapped = if lower {
            single(c.to_lowercase())
        } else {
            single(c.to_uppercase())
        };
        dst.push(mapped.unwrap_or(c));
    }
}

fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
    let first = it.next()?;
    it.next().is_none().then_some(first)
}

/// Small stack buffer for formatting a u64 in decimal.
struct DecimalBuf {
    bytes: [u8; 20],
    start: usize,
}

impl DecimalBuf {
    fn as_str(&self) -> &str {
        // Only ASCII digits are written.
        std::str::from_utf8(&self.bytes[self.start..]).unwrap_or("0")
    }
}

fn itoa_buf(mut n: u64) -> DecimalBuf {
    let mut buf = DecimalBuf {
        bytes: [0; 20],
        start: 20,
    };
    loop {
        buf.start -= 1;
        buf.bytes[buf.start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return buf;
        }
    }
}
