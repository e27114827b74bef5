//! Where scraped samples go: the storage implements [`Appendable`].
//!
//! One appender is taken per scrape; every sample of the scrape (and the report series
//! `up`, `scrape_duration_seconds`, ...) goes through it and is committed at once, or
//! rolled back when the scrape fails (the loop then takes a new appender for the stale
//! markers and the report).
//!
//! Series references: [`ScrapeAppender::append`] returns a reference chosen by the
//! storage; the scrape loop caches it by series text and passes it back as `Some(ref)`
//! on later scrapes of the same series, so the storage can find the series without
//! hashing labels. The loop does not keep the labels of cached series: with a ref it may
//! pass empty labels, and a storage that no longer knows the ref (e.g. after garbage
//! collection) answers [`AppendError::UnknownRef`]; the loop then derives the labels
//! again and appends with them and no ref.

use strata_model::Labels;

/// Why a sample was not appended. The first three are per-sample conditions: the scrape
/// counts them and goes on (as Prometheus does); [`AppendError::Storage`] fails the
/// whole scrape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    /// Older than the newest sample of the series.
    #[error("out of order sample")]
    OutOfOrder,
    /// Same timestamp as the newest sample of the series, another value.
    #[error("duplicate sample for timestamp")]
    DuplicateTimestamp,
    /// Outside the time range the storage accepts (too old or too far in the future).
    #[error("out of bounds")]
    OutOfBounds,
    /// Anything else; the scrape's appender is rolled back.
    #[error("{0}")]
    Storage(String),
    /// `series_ref` came without labels and the storage does not know it (any more):
    /// the caller appends again with the labels.
    #[error("unknown series reference")]
    UnknownRef,
}

impl AppendError {
    /// True for the per-sample conditions a scrape counts and skips.
    pub fn is_sample_error(&self) -> bool {
        !matches!(self, AppendError::Storage(_) | AppendError::UnknownRef)
    }
}

/// A storage that scrape loops append to. Shared by every loop.
pub trait Appendable: Send + Sync + 'static {
    /// A new appender for one scrape.
    fn appender(&self) -> Box<dyn ScrapeAppender + '_>;
}

/// Appends the samples of one scrape; nothing is visible before [`ScrapeAppender::commit`].
pub trait ScrapeAppender {
    /// Stages one float sample (`v` may be the stale marker,
    /// [`strata_model::stale_nan`]). `series_ref` is a reference this storage returned
    /// earlier for the same labels, or `None`; with a ref, `labels` may be empty (then
    /// an unknown ref is [`AppendError::UnknownRef`]). Returns the series' reference.
    fn append(
        &mut self,
        series_ref: Option<u64>,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> Result<u64, AppendError>;

    /// Makes the staged samples durable and visible.
    fn commit(self: Box<Self>) -> Result<(), AppendError>;

    /// Discards the staged samples.
    fn rollback(self: Box<Self>);
}
