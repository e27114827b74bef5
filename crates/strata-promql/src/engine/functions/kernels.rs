//! Range functions as per-series kernels: for a function whose value for a series
//! depends only on that series' float samples in the window, the kernel computes it
//! without building a range vector or output samples, for series-major evaluation of
//! plain (not `anchored`/`smoothed`) range selectors over float samples. Each kernel
//! is the function's own per-series code, so both paths agree. Kernels are handed to
//! a [`KernelVisitor`] as closures, so the caller's loop over series is compiled for
//! each kernel (inlined, no call through a pointer per series).

use super::RangeSeries;
use super::over_time::{avg, compare, sum, variance};
use super::rate::{extrapolated_rate, non_counter_info};
use strata_model::Labels;

/// What a kernel's output looks like.
#[derive(Clone, Copy, Debug)]
pub struct FloatKernel {
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

/// Receives a kernel: `value` gives the output for a series with at least one sample
/// in the window, if any.
pub trait KernelVisitor {
    type Out;
    fn visit<F: Fn(&RangeSeries<'_>) -> Option<f64>>(self, k: FloatKernel, value: F) -> Self::Out;
}

const PLAIN: FloatKernel = FloatKernel {
    drop_name: true,
    counter: false,
};

const COUNTER: FloatKernel = FloatKernel {
    drop_name: true,
    counter: true,
};

/// The kernel of the one-argument range function `name`, if it has one.
pub fn float_kernel(name: &str) -> Option<FloatKernel> {
    struct Flags;
    impl KernelVisitor for Flags {
        type Out = FloatKernel;
        fn visit<F: Fn(&RangeSeries<'_>) -> Option<f64>>(
            self,
            k: FloatKernel,
            _: F,
        ) -> FloatKernel {
            k
        }
    }
    with_kernel(name, Flags)
}

/// Hands the kernel of `name` to `v`; `None` when `name` has none.
pub fn with_kernel<V: KernelVisitor>(name: &str, v: V) -> Option<V::Out> {
    Some(match name {
        "rate" => v.visit(COUNTER, |s| extrapolated_rate(s, true, true)),
        "increase" => v.visit(COUNTER, |s| extrapolated_rate(s, true, false)),
        "delta" => v.visit(PLAIN, |s| extrapolated_rate(s, false, false)),
        "sum_over_time" => v.visit(PLAIN, |s| Some(sum(s.floats))),
        "avg_over_time" => v.visit(PLAIN, |s| Some(avg(s.floats))),
        "count_over_time" => v.visit(PLAIN, |s| Some(s.floats.len() as f64)),
        "min_over_time" => v.visit(PLAIN, |s| {
            Some(compare(s.floats, |cur, best| cur < best, false))
        }),
        "max_over_time" => v.visit(PLAIN, |s| {
            Some(compare(s.floats, |cur, best| cur > best, false))
        }),
        "stdvar_over_time" => v.visit(PLAIN, |s| Some(variance(s.floats))),
        "stddev_over_time" => v.visit(PLAIN, |s| Some(variance(s.floats).sqrt())),
        "present_over_time" => v.visit(PLAIN, |_| Some(1.0)),
        "last_over_time" => v.visit(
            FloatKernel {
                drop_name: false,
                counter: false,
            },
            |s| s.floats.last().map(|p| p.1),
        ),
        _ => return None,
    })
}
