//! The series every scrape writes about itself (Prometheus' report samples): `up`,
//! `scrape_duration_seconds`, `scrape_samples_scraped`,
//! `scrape_samples_post_metric_relabeling`, `scrape_series_added`, and with
//! `extra_scrape_metrics` also `scrape_timeout_seconds`, `scrape_sample_limit` and
//! `scrape_body_size_bytes`. They carry the target's labels and skip metric relabeling.

use strata_model::{Labels, LabelsBuilder, METRIC_NAME, stale_nan};

use crate::appender::{AppendError, ScrapeAppender};

/// Names of the report series, in the order they are written.
pub const REPORT_SERIES: [&str; 8] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
    "scrape_timeout_seconds",
    "scrape_sample_limit",
    "scrape_body_size_bytes",
];

/// Values of one report, in [`REPORT_SERIES`] order.
pub type ReportValues = [f64; 8];

/// The label sets and storage references of a target's report series.
#[derive(Debug)]
pub struct ReportSeries {
    series: Vec<(Labels, Option<u64>)>,
}

impl ReportSeries {
    /// Report series for a target with these public labels; `extra` adds the three
    /// `extra_scrape_metrics` series.
    pub fn new(target: &Labels, extra: bool) -> Self {
        let n = if extra { 8 } else { 5 };
        let series = REPORT_SERIES[..n]
            .iter()
            .map(|name| {
                let mut b = LabelsBuilder::new();
                b.push(METRIC_NAME, name);
                for (k, v) in target.iter() {
                    b.set(k, v);
                }
                (b.build().unwrap_or_default(), None)
            })
            .collect();
        ReportSeries { series }
    }

    /// The label sets, in order.
    pub fn labels(&self) -> impl Iterator<Item = &Labels> {
        self.series.iter().map(|(l, _)| l)
    }

    /// Appends one value per series. Out-of-order and duplicate samples are ignored (a
    /// target that went away and came back); other errors are returned.
    pub fn append(
        &mut self,
        app: &mut dyn ScrapeAppender,
        ts: i64,
        values: &ReportValues,
    ) -> Result<(), AppendError> {
        for ((labels, r), v) in self.series.iter_mut().zip(values) {
            match app.append(*r, labels, ts, *v) {
                Ok(new_ref) => *r = Some(new_ref),
                Err(AppendError::OutOfOrder | AppendError::DuplicateTimestamp) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Stale markers for every report series.
    pub fn append_stale(
        &mut self,
        app: &mut dyn ScrapeAppender,
        ts: i64,
    ) -> Result<(), AppendError> {
        self.append(app, ts, &[stale_nan(); 8])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn report_labels_carry_target_labels() {
        let t = Labels::new(&[("instance", "a:1"), ("job", "j")]).unwrap();
        let r = ReportSeries::new(&t, false);
        let names: Vec<String> = r.labels().map(|l| l.to_string()).collect();
        assert_eq!(names.len(), 5);
        assert_eq!(names[0], r#"{__name__="up", instance="a:1", job="j"}"#);
        assert_eq!(ReportSeries::new(&t, true).labels().count(), 8);
    }
}
