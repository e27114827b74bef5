//! [`SeriesSource`]: what the Store API server needs from the data behind it. Two
//! implementations live in this crate: [`crate::QueryableSource`] (any `Queryable`, e.g.
//! a receiver's tenants or `strata up`'s TSDB) and [`crate::StoreGateway`] (blocks in a
//! bucket).
//!
//! The server asks the source for the selected series (final labels and an opaque handle
//! each), sorts and merges them by labels, applies the limits, and then asks for the
//! chunks of a batch of series at a time, so chunk data is never held for the whole
//! response.

use std::sync::Arc;

use bytes::Bytes;
use strata_model::{Labels, Matcher};

use crate::error::Result;

/// A parsed `Series` request.
#[derive(Debug, Clone, Default)]
pub struct SeriesQuery {
    /// Inclusive time range in milliseconds.
    pub min_time: i64,
    pub max_time: i64,
    /// Series matchers; may name external labels.
    pub matchers: Vec<Matcher>,
    /// Labels only, no chunks.
    pub skip_chunks: bool,
    /// Labels to remove from every returned series (Thanos' `without_replica_labels`).
    pub without_replica_labels: Vec<String>,
    /// Only blocks whose external labels (plus `__block_id`) match these are read
    /// (Thanos' `SeriesRequestHints.block_matchers`; ignored by non-block sources).
    pub block_matchers: Vec<Matcher>,
}

/// A parsed `LabelNames` or `LabelValues` request.
#[derive(Debug, Clone, Default)]
pub struct LabelQuery {
    /// Inclusive time range in milliseconds.
    pub start: i64,
    pub end: i64,
    pub matchers: Vec<Matcher>,
    pub without_replica_labels: Vec<String>,
    pub block_matchers: Vec<Matcher>,
}

/// One selected series: its labels as they will be sent (external labels attached,
/// replica labels removed) and the source's handle to load its chunks.
#[derive(Debug)]
pub struct Candidate<H> {
    pub labels: Labels,
    pub handle: H,
}

/// What [`SeriesSource::select`] found.
#[derive(Debug)]
pub struct Selection<H> {
    /// In any order; several candidates may share labels (they are merged).
    pub series: Vec<Candidate<H>>,
    /// Blocks read, for `SeriesResponseHints`; `None` sends no hints.
    pub queried_blocks: Option<Vec<String>>,
}

impl<H> Selection<H> {
    /// Nothing selected, no hints.
    pub fn empty() -> Self {
        Selection {
            series: Vec::new(),
            queried_blocks: None,
        }
    }
}

/// One chunk in Prometheus' on-disk encoding numbering (1 XOR, 2 histogram, 3 float
/// histogram).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawChunk {
    /// Inclusive time range of the chunk's samples.
    pub min_time: i64,
    pub max_time: i64,
    pub encoding: u8,
    /// The chunk bytes (sample count header included), without the CRC.
    pub data: Bytes,
}

/// Answer of a label request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelAnswer {
    /// Sorted, unique.
    pub values: Vec<String>,
    /// Blocks read, for response hints; `None` sends no hints.
    pub queried_blocks: Option<Vec<String>>,
}

/// Time range of one label set's data, for `StoreInfo.tsdb_infos`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsdbInfo {
    pub labels: Labels,
    pub min_time: i64,
    pub max_time: i64,
}

/// What the Info API announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    /// External label sets of the data served.
    pub label_sets: Vec<Labels>,
    /// Time range of the data, in milliseconds.
    pub min_time: i64,
    pub max_time: i64,
    pub tsdb_infos: Vec<TsdbInfo>,
}

/// Data behind a Store API server.
#[async_trait::async_trait]
pub trait SeriesSource: Send + Sync + 'static {
    /// Identifies one stored series; loaded later by [`SeriesSource::load`].
    type Handle: Send + 'static;

    /// What the Info API announces now.
    fn info(&self) -> SourceInfo;

    /// The series matching `q` that have data in its time range.
    async fn select(&self, q: Arc<SeriesQuery>) -> Result<Selection<Self::Handle>>;

    /// The chunks of each group of handles (one group per merged series), in any order;
    /// the server sorts and de-duplicates them.
    async fn load(
        &self,
        q: Arc<SeriesQuery>,
        groups: Vec<Vec<Self::Handle>>,
    ) -> Result<Vec<Vec<RawChunk>>>;

    /// Label names of the series matching `q` (all when it has no matchers).
    async fn label_names(&self, q: Arc<LabelQuery>) -> Result<LabelAnswer>;

    /// Values of label `name` among the series matching `q`.
    async fn label_values(&self, name: String, q: Arc<LabelQuery>) -> Result<LabelAnswer>;
}
