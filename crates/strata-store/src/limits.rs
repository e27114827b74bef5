//! Per-request limits of a `Series` call (Thanos' `--store.limits.request-series`,
//! `--store.limits.request-samples` / `--store.grpc.series-sample-limit` and
//! `--store.grpc.downloaded-bytes-limit`).
//!
//! Thanos approximates the sample limit as `limit / 120` chunks; we count the samples
//! each chunk's header announces, so the limit is exact.

use crate::error::{Error, Result};

/// Limits of one `Series` call; 0 disables a limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeriesLimits {
    /// Series returned (after merging identical label sets).
    pub max_series: u64,
    /// Samples in the returned chunks, as the chunk headers count them.
    pub max_samples: u64,
    /// Bytes of chunk data returned.
    pub max_chunk_bytes: u64,
}

/// Counts what one request returned and fails once a limit is passed.
#[derive(Debug)]
pub(crate) struct LimitTracker {
    limits: SeriesLimits,
    series: u64,
    samples: u64,
    bytes: u64,
}

fn check(what: &'static str, limit: u64, got: u64) -> Result<()> {
    if limit > 0 && got > limit {
        return Err(Error::LimitExceeded { what, limit, got });
    }
    Ok(())
}

impl LimitTracker {
    pub(crate) fn new(limits: SeriesLimits) -> Self {
        LimitTracker {
            limits,
            series: 0,
            samples: 0,
            bytes: 0,
        }
    }

    /// Reserves `n` series.
    pub(crate) fn add_series(&mut self, n: u64) -> Result<()> {
        self.series = self.series.saturating_add(n);
        check("series", self.limits.max_series, self.series)
    }

    /// Reserves one chunk of `samples` samples and `bytes` bytes.
    pub(crate) fn add_chunk(&mut self, samples: u64, bytes: u64) -> Result<()> {
        self.samples = self.samples.saturating_add(samples);
        self.bytes = self.bytes.saturating_add(bytes);
        check("samples", self.limits.max_samples, self.samples)?;
        check("chunk bytes", self.limits.max_chunk_bytes, self.bytes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn zero_disables_and_limits_fail_past_the_limit() {
        let mut t = LimitTracker::new(SeriesLimits::default());
        t.add_series(1 << 40).unwrap();
        t.add_chunk(1 << 40, 1 << 40).unwrap();

        let mut t = LimitTracker::new(SeriesLimits {
            max_series: 2,
            max_samples: 240,
            max_chunk_bytes: 0,
        });
        t.add_series(2).unwrap();
        let e = t.add_series(1).unwrap_err().to_string();
        assert_eq!(e, "exceeded series limit: limit 2 violated (got 3)");
        t.add_chunk(120, 10).unwrap();
        t.add_chunk(120, 10).unwrap();
        let e = t.add_chunk(1, 1).unwrap_err().to_string();
        assert_eq!(e, "exceeded samples limit: limit 240 violated (got 241)");
    }
}
