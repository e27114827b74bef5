//! The endpoint handlers, one file per group.

pub mod metadata;
pub mod parse;
pub mod query;
pub mod status;

use crate::errors::ApiError;

/// Runs storage or engine work that blocks. On a multi-threaded runtime it runs on
/// this thread, whose other tasks move to another worker (`block_in_place`): no
/// hand-over to a blocking-pool thread and back, which dominates short requests.
/// Otherwise it runs on the blocking pool.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
{
    if tokio::runtime::Handle::current().runtime_flavor()
        == tokio::runtime::RuntimeFlavor::MultiThread
    {
        return tokio::task::block_in_place(f);
    }
    tokio::task::spawn_blocking(f).await?
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Prometheus' warning when a `limit` cut the result.
pub(crate) const TRUNCATED_WARNING: &str = "results truncated due to limit";
