//! The WAL records of a commit: Series records for series never logged, then the
//! samples. Without histograms that is one Samples record. With histograms the samples
//! go in batches as Prometheus cuts them, so that replay sees every series' samples in
//! order: within a batch floats are logged before histograms, so a batch ends when a
//! float follows a histogram of the same series or a series switches histogram kind.

use std::collections::HashMap;
use std::ops::Range;

use strata_model::histogram::{FloatHistogram, Histogram};

use super::append::{HistValue, StagedHist};
use super::append_check::Checked;
use crate::chunkenc::histogram::CUSTOM_BUCKETS_SCHEMA;
use crate::wal::histogram_record::{encode_float_histogram_samples, encode_histogram_samples};
use crate::wal::record::{RefSample, encode_samples, encode_series};

/// The kind of a histogram sample, as far as WAL records go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    IntCustom,
    Float,
    FloatCustom,
}

#[derive(Default)]
struct Batch<'a> {
    floats: Vec<RefSample>,
    ints: [Vec<(u64, i64, &'a Histogram)>; 2],
    float_hists: [Vec<(u64, i64, &'a FloatHistogram)>; 2],
    kinds: HashMap<u64, Kind>,
}

impl<'a> Batch<'a> {
    fn is_empty(&self) -> bool {
        self.floats.is_empty()
            && self.ints.iter().all(Vec::is_empty)
            && self.float_hists.iter().all(Vec::is_empty)
    }

    fn encode(&mut self, buf: &mut Vec<u8>, records: &mut Vec<Range<usize>>) {
        let mut push = |buf: &mut Vec<u8>, f: &mut dyn FnMut(&mut Vec<u8>)| {
            let start = buf.len();
            f(buf);
            records.push(start..buf.len());
        };
        if !self.floats.is_empty() {
            push(buf, &mut |b| encode_samples(&self.floats, b));
        }
        for (custom, v) in [false, true].into_iter().zip(&self.ints) {
            if !v.is_empty() {
                push(buf, &mut |b| encode_histogram_samples(v, custom, b));
            }
        }
        for (custom, v) in [false, true].into_iter().zip(&self.float_hists) {
            if !v.is_empty() {
                push(buf, &mut |b| encode_float_histogram_samples(v, custom, b));
            }
        }
        *self = Batch::default();
    }
}

/// Appends the commit's records to `buf`, each record's range to `records`.
pub(crate) fn encode_records(
    buf: &mut Vec<u8>,
    records: &mut Vec<Range<usize>>,
    checked: &Checked,
    hists: &[StagedHist],
) {
    if !checked.new_series.is_empty() {
        let start = buf.len();
        encode_series(&checked.new_series, buf);
        records.push(start..buf.len());
    }
    if checked.hists.is_empty() {
        if !checked.floats.is_empty() {
            let start = buf.len();
            encode_samples(&checked.floats, buf);
            records.push(start..buf.len());
        }
        return;
    }
    let mut batch = Batch::default();
    let mut next = checked.hists.iter().peekable();
    for (i, s) in checked.floats.iter().enumerate() {
        while let Some(&&(k, _)) = next.peek().filter(|h| h.1 == i) {
            if let Some(sh) = hists.get(k) {
                add_hist(&mut batch, buf, records, sh);
            }
            next.next();
        }
        // A float after a histogram of the same series must be replayed after it.
        if batch.kinds.contains_key(&s.series_ref) {
            batch.encode(buf, records);
        }
        batch.floats.push(*s);
    }
    for &(k, _) in next {
        if let Some(sh) = hists.get(k) {
            add_hist(&mut batch, buf, records, sh);
        }
    }
    if !batch.is_empty() {
        batch.encode(buf, records);
    }
}

/// Adds a histogram to the batch, first logging the batch when the series switches
/// histogram kind.
fn add_hist<'a>(
    batch: &mut Batch<'a>,
    buf: &mut Vec<u8>,
    records: &mut Vec<Range<usize>>,
    sh: &'a StagedHist,
) {
    let kind = match &sh.h {
        HistValue::Int(h) if h.schema == CUSTOM_BUCKETS_SCHEMA => Kind::IntCustom,
        HistValue::Int(_) => Kind::Int,
        HistValue::Float(h) if h.schema == CUSTOM_BUCKETS_SCHEMA => Kind::FloatCustom,
        HistValue::Float(_) => Kind::Float,
    };
    if batch.kinds.get(&sh.r).is_some_and(|k| *k != kind) {
        batch.encode(buf, records);
    }
    batch.kinds.insert(sh.r, kind);
    match &sh.h {
        HistValue::Int(h) => {
            batch.ints[usize::from(kind == Kind::IntCustom)].push((sh.r, sh.t, h));
        }
        HistValue::Float(h) => {
            batch.float_hists[usize::from(kind == Kind::FloatCustom)].push((sh.r, sh.t, h));
        }
    }
}
