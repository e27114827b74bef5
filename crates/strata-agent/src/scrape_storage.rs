//! The agent storage as the scrape engine's storage: scrape loops append through
//! [`strata_scrape::Appendable`] into the WAL.

use strata_model::Labels;
use strata_scrape::{AppendError, Appendable, ScrapeAppender};

use crate::error::Error;
use crate::storage::{AgentAppender, AgentStorage};

impl Appendable for AgentStorage {
    fn appender(&self) -> Box<dyn ScrapeAppender + '_> {
        Box::new(ScrapeAgentAppender(AgentStorage::appender(self)))
    }
}

/// One scrape's [`AgentAppender`].
struct ScrapeAgentAppender(AgentAppender);

/// Out of order (which in the agent includes a repeated timestamp) is a per-sample
/// condition the scrape counts; anything else fails the scrape.
fn append_error(e: Error) -> AppendError {
    match e {
        Error::UnknownRef(_) => AppendError::UnknownRef,
        e if e.is_out_of_order() => AppendError::OutOfOrder,
        e => AppendError::Storage(e.to_string()),
    }
}

impl ScrapeAppender for ScrapeAgentAppender {
    fn append(
        &mut self,
        series_ref: Option<u64>,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> Result<u64, AppendError> {
        self.0
            .append(series_ref, labels, t, v)
            .map_err(append_error)
    }

    fn commit(mut self: Box<Self>) -> Result<(), AppendError> {
        self.0
            .commit()
            .map_err(|e| AppendError::Storage(e.to_string()))
    }

    fn rollback(mut self: Box<Self>) {
        if let Err(e) = self.0.rollback() {
            tracing::warn!(error = %e, "rolling back a scrape's samples failed");
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::storage::AgentOptions;

    #[test]
    fn scrape_appends_reach_the_storage_and_out_of_order_is_per_sample() {
        let tmp = tempfile::tempdir().unwrap();
        let db = AgentStorage::open(tmp.path(), AgentOptions::default()).unwrap();
        let l = Labels::new(&[("__name__", "m"), ("job", "j")]).unwrap();
        let mut app = Appendable::appender(&db);
        let r = app.append(None, &l, 1000, 1.0).unwrap();
        assert_eq!(
            app.append(Some(r), &l, 1000, 2.0),
            Err(AppendError::OutOfOrder)
        );
        app.commit().unwrap();
        assert_eq!(db.samples_appended(), 1);
        let mut app = Appendable::appender(&db);
        assert_eq!(app.append(Some(r), &l, 2000, 2.0).unwrap(), r);
        app.rollback();
        assert_eq!(db.samples_appended(), 1);
        let mut app = Appendable::appender(&db);
        assert!(matches!(
            app.append(None, &Labels::empty(), 3000, 1.0),
            Err(AppendError::Storage(_))
        ));
        // A cached ref without labels: fine while the series lives, UnknownRef after.
        assert_eq!(app.append(Some(r), &Labels::empty(), 3000, 3.0), Ok(r));
        assert_eq!(
            app.append(Some(r + 100), &Labels::empty(), 3000, 3.0),
            Err(AppendError::UnknownRef)
        );
    }
}
