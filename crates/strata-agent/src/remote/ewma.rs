//! Exponentially weighted moving rates (Prometheus' `storage/remote/ewma.go`).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

pub(crate) struct EwmaRate {
    new_events: AtomicI64,
    alpha: f64,
    interval: Duration,
    /// Last rate and whether it has been initialised.
    state: Mutex<(f64, bool)>,
}

impl EwmaRate {
    pub fn new(alpha: f64, interval: Duration) -> Self {
        EwmaRate {
            new_events: AtomicI64::new(0),
            alpha,
            interval,
            state: Mutex::new((0.0, false)),
        }
    }

    pub fn incr(&self, n: i64) {
        self.new_events.fetch_add(n, Ordering::Relaxed);
    }

    pub fn rate(&self) -> f64 {
        self.state.lock().0
    }

    /// Folds the events since the last tick into the rate.
    pub fn tick(&self) {
        let events = self.new_events.swap(0, Ordering::Relaxed);
        let instant = events as f64 / self.interval.as_secs_f64();
        let mut s = self.state.lock();
        if s.1 {
            s.0 += self.alpha * (instant - s.0);
        } else if events > 0 {
            *s = (instant, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_tick_sets_then_smooths() {
        let r = EwmaRate::new(0.2, Duration::from_secs(10));
        r.tick();
        assert_eq!(r.rate(), 0.0);
        r.incr(100);
        r.tick();
        assert_eq!(r.rate(), 10.0);
        r.incr(200);
        r.tick();
        assert!((r.rate() - 12.0).abs() < 1e-9);
    }
}
