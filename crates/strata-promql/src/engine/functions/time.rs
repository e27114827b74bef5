//! `timestamp` and the calendar functions (`year`, `month`, `day_of_month`,
//! `day_of_week`, `day_of_year`, `days_in_month`, `hour`, `minute`), all in UTC.

use strata_model::Labels;

use super::{Args, Ctx, Output, float_sample};
use crate::error::Result;
use crate::value::SampleValue;

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Civil {
    year: i128,
    month: u32,
    day: u32,
    yday: u32,
    wday: u32,
    hour: u32,
    minute: u32,
}

fn is_leap(y: i128) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i128, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Converts Unix seconds to a UTC calendar time (proleptic Gregorian).
fn civil(secs: i64) -> Civil {
    let secs = i128::from(secs);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Days since 0000-03-01, in 400-year eras.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i128::from(month <= 2);
    let mut yday = day;
    for m in 1..month {
        yday += days_in_month(year, m);
    }
    Civil {
        year,
        month,
        day,
        yday,
        wday: (days + 4).rem_euclid(7) as u32,
        hour: (rem / 3600) as u32,
        minute: ((rem % 3600) / 60) as u32,
    }
}

/// Go's `int64(f)` on amd64: truncation, with NaN and out-of-range values becoming
/// the minimum int64.
fn go_f64_to_i64(f: f64) -> i64 {
    // 2^63: i64::MAX rounds up to it.
    let lim = i64::MAX as f64;
    if f.is_nan() || !(-lim..lim).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

fn date_fn(name: &str) -> Option<fn(&Civil) -> f64> {
    Some(match name {
        "year" => |c| c.year as f64,
        "month" => |c| f64::from(c.month),
        "day_of_month" => |c| f64::from(c.day),
        "day_of_week" => |c| f64::from(c.wday),
        "day_of_year" => |c| f64::from(c.yday),
        "days_in_month" => |c| f64::from(days_in_month(c.year, c.month)),
        "hour" => |c| f64::from(c.hour),
        "minute" => |c| f64::from(c.minute),
        _ => return None,
    })
}

pub(super) fn call(name: &str, a: &mut Args<'_>, ctx: &mut Ctx<'_>) -> Result<Option<Output>> {
    if name == "timestamp" {
        // The sample's own timestamp; the evaluator passes the stored sample time for
        // plain vector selectors.
        let v = a.vector(0)?;
        let out = v
            .into_iter()
            .map(|s| float_sample(s.metric, s.t, s.t as f64 / 1000.0, true))
            .collect();
        return Ok(Some(Output::Vector(out)));
    }
    let Some(f) = date_fn(name) else {
        return Ok(None);
    };
    if a.len() == 0 {
        let c = civil(ctx.t / 1000);
        return Ok(Some(Output::Vector(vec![float_sample(
            Labels::empty(),
            ctx.t,
            f(&c),
            false,
        )])));
    }
    let v = a.vector(0)?;
    let out = v
        .into_iter()
        .filter_map(|s| match s.value {
            SampleValue::Float(x) => {
                let c = civil(go_f64_to_i64(x));
                Some(float_sample(s.metric, s.t, f(&c), true))
            }
            SampleValue::Histogram(_) => None,
        })
        .collect();
    Ok(Some(Output::Vector(out)))
}

#[cfg(test)]
mod tests {
    use super::super::Arg;
    use super::super::tests_util::*;
    use super::*;

    fn f(name: &str, secs: f64) -> f64 {
        run(
            name,
            vec![Arg::Vector(vec![fsample(
                lbl(&[("__name__", "x")]),
                0,
                secs,
            )])],
            0,
        )
        .one()
    }

    #[test]
    fn calendar_values_from_functions_test() {
        // 2006-01-02 22:04:05 UTC, a Monday.
        let t = 1_136_239_445.0;
        assert_eq!(f("year", t), 2006.0);
        assert_eq!(f("month", t), 1.0);
        assert_eq!(f("day_of_month", t), 2.0);
        assert_eq!(f("day_of_week", t), 1.0);
        assert_eq!(f("day_of_year", t), 2.0);
        assert_eq!(f("hour", t), 22.0);
        assert_eq!(f("minute", t), 4.0);
        assert_eq!(f("days_in_month", t), 31.0);
        assert_eq!(f("year", 1_230_767_999.0), 2008.0);
        assert_eq!(f("year", 1_230_768_000.0), 2009.0);
        // Leap years.
        assert_eq!(f("day_of_year", 1_483_191_420.0), 366.0); // 2016-12-31
        assert_eq!(f("day_of_year", 1_672_493_820.0), 365.0); // 2022-12-31
        assert_eq!(f("days_in_month", 1_454_284_800.0), 29.0); // 2016-02-01
        assert_eq!(f("days_in_month", 1_485_907_200.0), 28.0); // 2017-02-01
        // Before the epoch.
        assert_eq!(f("year", -1.0), 1969.0);
        assert_eq!(f("day_of_week", -86_400.0), 3.0);
    }

    #[test]
    fn no_argument_uses_eval_time() {
        let r = run("year", vec![], 0);
        assert_eq!(r.one(), 1970.0);
        assert!(r.vector()[0].metric.is_empty());
        assert!(!r.vector()[0].drop_name);
        let r = run("minute", vec![], 3_540_000);
        assert_eq!(r.one(), 59.0);
        assert_eq!(run("month", vec![], 0).one(), 1.0);
        assert_eq!(run("day_of_month", vec![], 0).one(), 1.0);
        assert_eq!(run("day_of_week", vec![], 0).one(), 4.0);
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300, -1e300] {
            for n in ["year", "month", "day_of_year", "days_in_month", "hour"] {
                let _ = f(n, v);
            }
        }
    }

    #[test]
    fn timestamp_uses_sample_time() {
        let r = run(
            "timestamp",
            vec![Arg::Vector(vec![fsample(
                lbl(&[("__name__", "x")]),
                5_500,
                1.0,
            )])],
            10_000,
        );
        assert_eq!(r.one(), 5.5);
        assert!(r.vector()[0].drop_name);
    }

    #[test]
    fn civil_matches_known_dates() {
        let c = civil(951_782_400); // 2000-02-29
        assert_eq!((c.year, c.month, c.day, c.yday), (2000, 2, 29, 60));
    }
}
