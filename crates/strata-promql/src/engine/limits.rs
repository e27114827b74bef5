//! Query limits: the timeout deadline, the sample budget and the concurrency gate.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::error::{QueryError, Result};

/// Where errors raised during evaluation say they happened.
pub const ENV_EVAL: &str = "expression evaluation";
pub const ENV_EXEC: &str = "query execution";

/// A point in time after which the query fails with a timeout, and the caller's
/// cancellation flag.
#[derive(Debug, Clone)]
pub struct Deadline {
    at: Option<Instant>,
    cancel: Option<Arc<AtomicBool>>,
}

impl Deadline {
    pub fn after(timeout: Duration) -> Self {
        Deadline {
            at: Instant::now().checked_add(timeout),
            cancel: None,
        }
    }

    /// Also fails once `cancel` is set (the caller went away).
    pub fn with_cancel(mut self, cancel: Option<Arc<AtomicBool>>) -> Self {
        self.cancel = cancel;
        self
    }

    /// Fails once the deadline has passed or the query was cancelled.
    pub fn check(&self) -> Result<()> {
        if self
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(QueryError::Canceled(ENV_EVAL));
        }
        match self.at {
            Some(at) if Instant::now() >= at => Err(QueryError::Timeout(ENV_EVAL)),
            _ => Ok(()),
        }
    }
}

/// Counts samples held at once against the engine's `max_samples`.
#[derive(Debug, Clone, Copy)]
pub struct SampleBudget {
    pub max: u64,
    pub current: u64,
    pub peak: u64,
    pub total: u64,
}

impl SampleBudget {
    pub fn new(max: u64) -> Self {
        SampleBudget {
            max,
            current: 0,
            peak: 0,
            total: 0,
        }
    }

    /// Adds `n` samples now in memory; fails when over the limit.
    pub fn add(&mut self, n: usize) -> Result<()> {
        let n = n as u64;
        self.current = self.current.saturating_add(n);
        self.total = self.total.saturating_add(n);
        self.peak = self.peak.max(self.current);
        if self.current > self.max {
            return Err(QueryError::TooManySamples(ENV_EXEC));
        }
        Ok(())
    }

    /// Releases `n` samples.
    pub fn release(&mut self, n: usize) {
        self.current = self.current.saturating_sub(n as u64);
    }
}

/// Lets at most `max` queries evaluate at once; later ones wait for a slot.
#[derive(Debug)]
pub struct Gate {
    max: usize,
    active: Mutex<usize>,
    freed: Condvar,
}

/// A held slot of a [`Gate`], released on drop.
#[derive(Debug)]
pub struct Slot {
    gate: Arc<Gate>,
}

impl Gate {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Gate {
            max: max.max(1),
            active: Mutex::new(0),
            freed: Condvar::new(),
        })
    }

    /// Waits up to `timeout` for a slot.
    pub fn acquire(self: &Arc<Self>, timeout: Duration) -> Result<Slot> {
        let deadline = Instant::now().checked_add(timeout);
        let mut active = self
            .active
            .lock()
            .map_err(|_| QueryError::Execution("query gate poisoned".into()))?;
        while *active >= self.max {
            let wait = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(3600),
            };
            if wait.is_zero() {
                return Err(QueryError::Timeout("query queue"));
            }
            let (guard, _) = self
                .freed
                .wait_timeout(active, wait)
                .map_err(|_| QueryError::Execution("query gate poisoned".into()))?;
            active = guard;
        }
        *active += 1;
        Ok(Slot {
            gate: Arc::clone(self),
        })
    }

    pub fn active(&self) -> usize {
        self.active.lock().map(|a| *a).unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut a) = self.gate.active.lock() {
            *a = a.saturating_sub(1);
        }
        self.gate.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_fails_over_the_limit() {
        let mut b = SampleBudget::new(3);
        assert!(b.add(3).is_ok());
        assert!(matches!(b.add(1), Err(QueryError::TooManySamples(_))));
        b.release(2);
        assert_eq!(b.current, 2);
        assert_eq!(b.peak, 4);
    }

    #[test]
    fn gate_limits_concurrency() {
        let g = Gate::new(1);
        let s = g.acquire(Duration::from_millis(10));
        assert!(s.is_ok());
        assert!(matches!(
            g.acquire(Duration::from_millis(10)),
            Err(QueryError::Timeout(_))
        ));
        drop(s);
        assert!(g.acquire(Duration::from_millis(10)).is_ok());
        assert_eq!(g.active(), 0);
    }

    #[test]
    fn deadline_expires() {
        assert!(Deadline::after(Duration::from_secs(60)).check().is_ok());
        assert!(Deadline::after(Duration::ZERO).check().is_err());
    }

    #[test]
    fn cancellation_fails_the_next_check() {
        let flag = Arc::new(AtomicBool::new(false));
        let d = Deadline::after(Duration::from_secs(60)).with_cancel(Some(flag.clone()));
        assert!(d.check().is_ok());
        flag.store(true, Ordering::Relaxed);
        assert!(matches!(d.check(), Err(QueryError::Canceled(_))));
    }

    #[test]
    fn a_cancelled_query_fails_with_canceled() {
        let storage = crate::promqltest::TestStorage::new();
        let engine = crate::Engine::default();
        let opts = crate::QueryOptions {
            cancel: Some(Arc::new(AtomicBool::new(true))),
            ..Default::default()
        };
        let r = engine.range_query(&storage, "vector(1)", 0, 3_600_000, 1000, &opts);
        assert!(matches!(r, Err(QueryError::Canceled(_))), "{r:?}");
    }
}
