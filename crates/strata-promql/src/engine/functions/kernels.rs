//! Range functions as per-series kernels: for a function whose value for a series
//! depends only on that series' float samples in the window, the kernel computes it
//! without building a range vector or output samples, for series-major evaluation of
//! plain (not `anchored`/`smoothed`) range selectors over float samples. Each kernel
//! is the function's own per-series code, so both paths agree.

use super::RangeSeries;
use super::over_time::{avg, compare, sum, variance};
use super::rate::{extrapolated_rate, non_counter_info};
use strata_model::Labels;

/// A per-series range function.
#[derive(Clone, Copy)]
pub struct FloatKernel {
    /// The value for a series with at least one sample in the window, if any.
    pub value: fn(&RangeSeries<'_>) -> Option<f64>,
    /// The output's metric name is marked for removal.
    pub drop_name: bool,
    /// The function reads a counter: it is given the window's reset count and adds
    /// Prometheus' "might not be a counter" info.
    pub counter: bool,
}

impl FloatKernel {
    /// The info the function attaches to each output of a series named like `metric`.
    pub fn info(&self, metric: &Labels) -> Option<String> {
        if self.counter {
            non_counter_info(metric)
        } else {
            None
        }
    }
}

const fn k(value: fn(&RangeSeries<'_>) -> Option<f64>) -> FloatKernel {
    FloatKernel {
        value,
        drop_name: true,
        counter: false,
    }
}

/// The kernel of the one-argument range function `name`, if it has one.
pub fn float_kernel(name: &str) -> Option<FloatKernel> {
    Some(match name {
        "rate" => FloatKernel {
            counter: true,
            ..k(|s| extrapolated_rate(s, true, true))
        },
        "increase" => FloatKernel {
            counter: true,
            ..k(|s| extrapolated_rate(s, true, false))
        },
        "delta" => k(|s| extrapolated_rate(s, false, false)),
        "sum_over_time" => k(|s| Some(sum(s.floats))),
        "avg_over_time" => k(|s| Some(avg(s.floats))),
        "count_over_time" => k(|s| Some(s.floats.len() as f64)),
        "min_over_time" => k(|s| Some(compare(s.floats, |cur, best| cur < best, false))),
        "max_over_time" => k(|s| Some(compare(s.floats, |cur, best| cur > best, false))),
        "stdvar_over_time" => k(|s| Some(variance(s.floats))),
        "stddev_over_time" => k(|s| Some(variance(s.floats).sqrt())),
        "present_over_time" => k(|_| Some(1.0)),
        "last_over_time" => FloatKernel {
            drop_name: false,
            ..k(|s| s.floats.last().map(|p| p.1))
        },
        _ => return None,
    })
}
