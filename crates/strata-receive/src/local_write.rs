//! Writing one tenant's series into its TSDB: label validation, per-request limits, one
//! atomic commit. An invalid request writes nothing (so the sender can fix and resend
//! it); samples rejected by the TSDB as out of order, duplicate or too old are reported
//! while the valid rest of the request is written (Thanos' 409 semantics).

use std::sync::atomic::Ordering;

use strata_model::Labels;
use strata_model::labels::NameValidation;
use strata_remote::{HistogramValue, TimeSeriesRef};

use crate::forward_series::HistogramSample;
use strata_tsdb::head::Appender;

use crate::error::{Error, Result};
use crate::limits::EffectiveLimits;
use crate::multitsdb::TenantDb;

/// What a local write did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct WriteOutcome {
    pub series: usize,
    /// Float samples written or identical to stored ones.
    pub samples: usize,
    pub histograms: usize,
    pub exemplars: usize,
    /// Samples rejected as out of order, duplicate or too old.
    pub conflicts: usize,
    /// The first conflict, naming the series and timestamps.
    pub first_conflict: Option<String>,
}

/// Validates a series' labels as Prometheus' receiver does: at least one label, a
/// metric name, no empty or duplicate names, names as UTF-8 (Prometheus 3). Unsorted
/// labels are sorted.
pub fn series_labels(pairs: &mut [(&str, &str)]) -> Result<Labels> {
    Labels::sort_pairs(pairs);
    check_series_pairs(pairs)?;
    Ok(Labels::from_sorted(pairs.iter().copied()))
}

/// The checks of [`series_labels`] on pairs already sorted by name.
fn check_series_pairs(pairs: &[(&str, &str)]) -> Result<()> {
    Labels::check_sorted_pairs(pairs, NameValidation::Utf8)
        .map_err(|e| Error::InvalidRequest(e.to_string()))?;
    if pairs.iter().all(|(_, v)| v.is_empty()) {
        return Err(Error::InvalidRequest("series with no labels".into()));
    }
    if !pairs
        .iter()
        .any(|&(n, v)| n == strata_model::METRIC_NAME && !v.is_empty())
    {
        return Err(Error::InvalidRequest(format!(
            "series {} has no metric name (label __name__)",
            Labels::from_sorted(pairs.iter().copied())
        )));
    }
    Ok(())
}

/// Stages one request's series for a tenant, then commits them at once.
pub struct LocalWrite<'a> {
    tenant: &'a TenantDb,
    app: Appender<'a>,
    limits: EffectiveLimits,
    out: WriteOutcome,
    staged_samples: u64,
}

impl<'a> LocalWrite<'a> {
    pub fn new(tenant: &'a TenantDb, limits: EffectiveLimits) -> Self {
        LocalWrite {
            tenant,
            app: tenant.db.appender(),
            limits,
            out: WriteOutcome::default(),
            staged_samples: 0,
        }
    }

    /// Validates and stages one decoded series.
    pub fn add(&mut self, ts: &TimeSeriesRef<'_>) -> Result<()> {
        self.out.series += 1;
        if let Some(max) = self.limits.series
            && self.out.series as u64 > max
        {
            return Err(Error::RequestTooLarge(format!(
                "request has more than {max} series, the tenant's series limit per request"
            )));
        }
        self.staged_samples += (ts.samples.len() + ts.histograms.len()) as u64;
        if let Some(max) = self.limits.samples
            && self.staged_samples > max
        {
            return Err(Error::RequestTooLarge(format!(
                "request has more than {max} samples, the tenant's sample limit per request"
            )));
        }
        // Senders sort labels; only unsorted ones are copied. Existing series are found
        // from the pairs: the labels are built only for new series and messages.
        let mut sorted_copy = Vec::new();
        let pairs: &[(&str, &str)] = if ts.labels.is_sorted_by(|a, b| a.0 <= b.0) {
            &ts.labels
        } else {
            sorted_copy.extend_from_slice(&ts.labels);
            Labels::sort_pairs(&mut sorted_copy);
            &sorted_copy
        };
        check_series_pairs(pairs)?;
        let built = std::cell::OnceCell::new();
        let labels = || built.get_or_init(|| Labels::from_sorted(pairs.iter().copied()));
        for h in &ts.histograms {
            h.value.validate().map_err(|e| {
                Error::InvalidRequest(format!(
                    "series {}: invalid histogram at {}: {e}",
                    labels(),
                    h.timestamp
                ))
            })?;
        }
        let mut r = None;
        for &(t, v) in &ts.samples {
            let res = match r {
                Some(r) => self.app.append_ref(r, t, v),
                None => self.app.append_sorted(pairs, t, v).map(|x| r = Some(x)),
            };
            res.map_err(|e| Error::InvalidRequest(format!("series {}: {e}", labels())))?;
        }
        for h in &ts.histograms {
            let res = match (&h.value, r) {
                (HistogramValue::Int(x), Some(r)) => {
                    self.app.append_histogram_ref(r, h.timestamp, x)
                }
                (HistogramValue::Float(x), Some(r)) => {
                    self.app.append_float_histogram_ref(r, h.timestamp, x)
                }
                (HistogramValue::Int(x), None) => self
                    .app
                    .append_histogram(labels(), h.timestamp, x)
                    .map(|x| r = Some(x)),
                (HistogramValue::Float(x), None) => self
                    .app
                    .append_float_histogram(labels(), h.timestamp, x)
                    .map(|x| r = Some(x)),
            };
            res.map_err(|e| Error::InvalidRequest(format!("series {}: {e}", labels())))?;
        }
        Ok(())
    }

    /// Stages one owned, already validated series (limits are the caller's business).
    pub fn add_owned(&mut self, s: &crate::forward_series::ForwardSeries) -> Result<()> {
        self.out.series += 1;
        let mut r = None;
        for &(t, v) in &s.samples {
            let res = match r {
                Some(r) => self.app.append_ref(r, t, v),
                None => self.app.append(&s.labels, t, v).map(|x| r = Some(x)),
            };
            res.map_err(|e| Error::InvalidRequest(format!("series {}: {e}", s.labels)))?;
        }
        for h in &s.histograms {
            let res = match (h, r) {
                (HistogramSample::Int(t, x), Some(r)) => self.app.append_histogram_ref(r, *t, x),
                (HistogramSample::Float(t, x), Some(r)) => {
                    self.app.append_float_histogram_ref(r, *t, x)
                }
                (HistogramSample::Int(t, x), None) => self
                    .app
                    .append_histogram(&s.labels, *t, x)
                    .map(|x| r = Some(x)),
                (HistogramSample::Float(t, x), None) => self
                    .app
                    .append_float_histogram(&s.labels, *t, x)
                    .map(|x| r = Some(x)),
            };
            res.map_err(|e| Error::InvalidRequest(format!("series {}: {e}", s.labels)))?;
        }
        Ok(())
    }

    /// Commits the staged samples. Rejected samples are counted in the outcome.
    pub fn commit(self) -> Result<WriteOutcome> {
        let mut out = self.out;
        let c = self.app.commit().map_err(|e| Error::Tsdb {
            tenant: self.tenant.tenant.clone(),
            source: e,
        })?;
        self.tenant.samples_appended.fetch_add(
            (c.appended + c.histograms_appended) as u64,
            Ordering::Relaxed,
        );
        out.samples = c.appended + c.duplicates_ignored;
        out.histograms = c.histograms_appended + c.histogram_duplicates_ignored;
        out.conflicts = c.rejected.len();
        out.first_conflict = c.rejected.first().map(|e| e.to_string());
        Ok(out)
    }
}
