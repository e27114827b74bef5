//! The running state of one group of a float aggregation (`sum`, `avg`, `count`,
//! `min`, `max`, `group`, `stddev`, `stdvar`), fed one sample at a time in input
//! order with Prometheus' float semantics: Kahan–Neumaier summation, an incremental
//! mean once a sum overflows, Welford variance, and NaN handling for `min`/`max`.
//!
//! Partial states of consecutive runs of the input can also be merged (series-major
//! evaluation aggregates chunks of series separately): counts, `min`, `max` and
//! `group` merge exactly; sums merge with one more compensated step (so a merged sum
//! can differ from the sequential one in its last bits); means merge as sums unless
//! one overflowed, and then as count-weighted means.

use super::functions::kahan_inc;
use crate::parser::ast::AggregateOp;

/// The state of one group.
#[derive(Debug, Clone, Copy)]
pub struct FloatAcc {
    /// Sum (`sum`, `avg` before overflow), extreme (`min`, `max`), or the sum of
    /// squared deviations (`stddev`, `stdvar`).
    pub value: f64,
    pub kahan_c: f64,
    pub mean: f64,
    pub count: f64,
    /// `avg` switched to an incremental mean because the sum overflowed.
    pub incremental_mean: bool,
    /// Some input's metric name is marked for removal.
    pub drop_name: bool,
}

impl FloatAcc {
    /// The state after the group's first sample.
    pub fn first(op: AggregateOp, f: f64, drop_name: bool) -> Self {
        let value = match op {
            AggregateOp::Stddev | AggregateOp::Stdvar if f.is_nan() || f.is_infinite() => f64::NAN,
            AggregateOp::Stddev | AggregateOp::Stdvar => 0.0,
            AggregateOp::Group => 1.0,
            _ => f,
        };
        FloatAcc {
            value,
            kahan_c: 0.0,
            mean: f,
            count: 1.0,
            incremental_mean: false,
            drop_name,
        }
    }

    /// Adds the group's next sample.
    pub fn add(&mut self, op: AggregateOp, f: f64, drop_name: bool) {
        self.drop_name |= drop_name;
        match op {
            AggregateOp::Sum => (self.value, self.kahan_c) = kahan_inc(f, self.value, self.kahan_c),
            AggregateOp::Avg => {
                self.count += 1.0;
                if !self.incremental_mean {
                    let (nv, nc) = kahan_inc(f, self.value, self.kahan_c);
                    if !nv.is_infinite() {
                        (self.value, self.kahan_c) = (nv, nc);
                        return;
                    }
                    self.incremental_mean = true;
                    self.mean = self.value / (self.count - 1.0);
                    self.kahan_c /= self.count - 1.0;
                }
                let q = (self.count - 1.0) / self.count;
                (self.mean, self.kahan_c) =
                    kahan_inc(f / self.count, q * self.mean, q * self.kahan_c);
            }
            AggregateOp::Max if self.value < f || self.value.is_nan() => self.value = f,
            AggregateOp::Min if self.value > f || self.value.is_nan() => self.value = f,
            AggregateOp::Count => self.count += 1.0,
            AggregateOp::Stddev | AggregateOp::Stdvar => {
                self.count += 1.0;
                let delta = f - self.mean;
                self.mean += delta / self.count;
                self.value += delta * (f - self.mean);
            }
            _ => {}
        }
    }

    /// Merges the state of the run of input that follows this one.
    pub fn merge(&mut self, op: AggregateOp, o: &FloatAcc) {
        self.drop_name |= o.drop_name;
        match op {
            AggregateOp::Sum => {
                (self.value, self.kahan_c) = kahan_inc(o.value, self.value, self.kahan_c);
                (self.value, self.kahan_c) = kahan_inc(o.kahan_c, self.value, self.kahan_c);
            }
            AggregateOp::Avg => self.merge_mean(o),
            AggregateOp::Max | AggregateOp::Min => self.add(op, o.value, o.drop_name),
            AggregateOp::Count => self.count += o.count,
            AggregateOp::Stddev | AggregateOp::Stdvar => {
                let n = self.count + o.count;
                let delta = o.mean - self.mean;
                self.value += o.value + delta * delta * (self.count * o.count / n);
                self.mean += delta * (o.count / n);
                self.count = n;
            }
            _ => {}
        }
    }

    fn merge_mean(&mut self, o: &FloatAcc) {
        let n = self.count + o.count;
        if !self.incremental_mean && !o.incremental_mean {
            let (v, c) = kahan_inc(o.value, self.value, self.kahan_c);
            let (v, c) = kahan_inc(o.kahan_c, v, c);
            // A sum that overflows only now is averaged as means instead.
            if !v.is_infinite() || self.value.is_infinite() || o.value.is_infinite() {
                (self.value, self.kahan_c, self.count) = (v, c, n);
                return;
            }
        }
        let (a, b) = (self.finish(AggregateOp::Avg), o.finish(AggregateOp::Avg));
        self.mean = a * (self.count / n) + b * (o.count / n);
        self.kahan_c = 0.0;
        self.count = n;
        self.incremental_mean = true;
    }

    /// The group's output value.
    pub fn finish(&self, op: AggregateOp) -> f64 {
        match op {
            AggregateOp::Avg if self.incremental_mean => self.mean + self.kahan_c,
            AggregateOp::Avg => self.value / self.count + self.kahan_c / self.count,
            AggregateOp::Count => self.count,
            AggregateOp::Stdvar => self.value / self.count,
            AggregateOp::Stddev => (self.value / self.count).sqrt(),
            AggregateOp::Sum => self.value + self.kahan_c,
            _ => self.value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sequential(op: AggregateOp, xs: &[f64]) -> FloatAcc {
        let mut a = FloatAcc::first(op, xs[0], false);
        for &x in &xs[1..] {
            a.add(op, x, false);
        }
        a
    }

    fn merged(op: AggregateOp, xs: &[f64], cut: usize) -> FloatAcc {
        let mut a = sequential(op, &xs[..cut]);
        a.merge(op, &sequential(op, &xs[cut..]));
        a
    }

    fn close(a: f64, b: f64) -> bool {
        a == b || (a.is_nan() && b.is_nan()) || ((a - b) / b).abs() < 1e-12
    }

    #[test]
    fn merged_runs_agree_with_one_run() {
        use AggregateOp::*;
        let inputs: Vec<Vec<f64>> = vec![
            vec![1.0, 2.5, -3.0, 1e16, 1.0, -1e16, 7.0],
            vec![f64::NAN, 3.0, 2.0, 5.0],
            vec![3.0, f64::NAN, 2.0, 5.0, f64::NAN],
            vec![1.0, f64::INFINITY, 2.0, 3.0],
            vec![0.1; 9],
            vec![-0.0, 0.0, -0.0, 4.0],
        ];
        for xs in &inputs {
            for op in [Sum, Avg, Count, Min, Max, Group, Stddev, Stdvar] {
                let want = sequential(op, xs).finish(op);
                for cut in 1..xs.len() {
                    let got = merged(op, xs, cut).finish(op);
                    assert!(close(got, want), "{op:?} {xs:?} cut {cut}: {got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn an_overflowing_merge_averages_means() {
        let xs = [f64::MAX, f64::MAX, f64::MAX / 2.0, f64::MAX / 2.0];
        let want = sequential(AggregateOp::Avg, &xs).finish(AggregateOp::Avg);
        let got = merged(AggregateOp::Avg, &xs, 1).finish(AggregateOp::Avg);
        assert!(want.is_finite() && close(got, want), "{got} vs {want}");
        let inf = [1.0, f64::INFINITY, f64::NEG_INFINITY];
        assert!(
            merged(AggregateOp::Avg, &inf, 2)
                .finish(AggregateOp::Avg)
                .is_nan()
        );
    }
}
