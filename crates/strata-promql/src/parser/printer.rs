//! `Display` for the AST, producing Prometheus' canonical query formatting
//! (`Expr.String()` / `format_query`): `sum by (job) (rate(x[5m] offset 1m))`.

use std::fmt::{self, Display, Formatter, Write};

use strata_model::gofmt::go_quote;
use strata_model::{METRIC_NAME, MatchType, Matcher};

use super::ast::*;

/// Prometheus' `model.Duration` rendering of milliseconds (`1h30m`, `90d`, `0s`).
pub fn format_duration_ms(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut ms = ms;
    let mut out = String::new();
    let units: [(&str, i64, bool); 7] = [
        ("y", 31_536_000_000, true),
        ("w", 604_800_000, true),
        ("d", 86_400_000, false),
        ("h", 3_600_000, false),
        ("m", 60_000, false),
        ("s", 1000, false),
        ("ms", 1, false),
    ];
    for (unit, mult, exact) in units {
        if exact && ms % mult != 0 {
            continue;
        }
        let v = ms / mult;
        if v > 0 {
            let _ = write!(out, "{v}{unit}");
            ms -= v * mult;
        }
    }
    out
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`.
pub fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

fn is_legacy_label_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(c) if c == b'_' || c.is_ascii_alphabetic())
        && bytes.all(|c| c == b'_' || c.is_ascii_alphanumeric())
}

fn write_label(out: &mut String, l: &str) {
    if is_legacy_label_name(l) {
        out.push_str(l);
    } else {
        out.push_str(&go_quote(l));
    }
}

fn labels_list(labels: &[String]) -> String {
    let mut out = String::new();
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_label(&mut out, l);
    }
    out
}

fn matcher_string(m: &Matcher) -> String {
    let mut out = String::new();
    write_label(&mut out, &m.name);
    out.push_str(match m.kind {
        MatchType::Equal => "=",
        MatchType::NotEqual => "!=",
        MatchType::Regex => "=~",
        MatchType::NotRegex => "!~",
    });
    out.push_str(&go_quote(&m.value));
    out
}

impl Display for NumberLiteral {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.duration {
            let ms = (self.value * 1000.0) as i64;
            if self.value < 0.0 {
                write!(f, "-{}", format_duration_ms(-ms))
            } else {
                f.write_str(&format_duration_ms(ms))
            }
        } else {
            f.write_str(&format_float(self.value))
        }
    }
}

impl Display for DurationExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            DurationExpr::Number(n) => n.fmt(f),
            DurationExpr::Step => f.write_str("step()"),
            DurationExpr::Range => f.write_str("range()"),
            DurationExpr::MinOf(a, b) => write!(f, "min_of({a}, {b})"),
            DurationExpr::MaxOf(a, b) => write!(f, "max_of({a}, {b})"),
            DurationExpr::Neg(e) => write!(f, "-{e}"),
            DurationExpr::Binary { op, lhs, rhs } => write!(f, "{lhs} {} {rhs}", op.as_str()),
            DurationExpr::Paren(e) => write!(f, "({e})"),
        }
    }
}

impl Display for Duration {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Duration::Ms(ms) if *ms < 0 => write!(f, "-{}", format_duration_ms(-ms)),
            Duration::Ms(ms) => f.write_str(&format_duration_ms(*ms)),
            Duration::Expr(e) => e.fmt(f),
        }
    }
}

impl Display for AtModifier {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            AtModifier::Timestamp(ms) => write!(f, " @ {:.3}", *ms as f64 / 1000.0),
            AtModifier::Start => f.write_str(" @ start()"),
            AtModifier::End => f.write_str(" @ end()"),
        }
    }
}

fn offset_suffix(o: &Option<Duration>) -> String {
    match o {
        None | Some(Duration::Ms(0)) => String::new(),
        Some(d) => format!(" offset {d}"),
    }
}

fn at_suffix(a: &Option<AtModifier>) -> String {
    a.map(|a| a.to_string()).unwrap_or_default()
}

impl VectorSelector {
    /// The selector without its modifiers: `name{sorted matchers}`.
    fn selector_string(&self) -> String {
        let mut parts: Vec<String> = self
            .matchers
            .iter()
            .filter(|m| {
                !(m.name == METRIC_NAME
                    && m.kind == MatchType::Equal
                    && !m.value.is_empty()
                    && self.name.as_deref() == Some(m.value.as_str()))
            })
            .map(matcher_string)
            .collect();
        let mut out = self.name.clone().unwrap_or_default();
        if !parts.is_empty() {
            parts.sort();
            out.push('{');
            out.push_str(&parts.join(","));
            out.push('}');
        }
        out
    }

    fn extended_suffix(&self) -> &'static str {
        if self.anchored {
            " anchored"
        } else if self.smoothed {
            " smoothed"
        } else {
            ""
        }
    }
}

impl Display for VectorSelector {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{}{}",
            self.selector_string(),
            at_suffix(&self.at),
            self.extended_suffix(),
            offset_suffix(&self.offset)
        )
    }
}

impl Display for MatrixSelector {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let vs = &self.selector;
        write!(
            f,
            "{}[{}]{}{}{}",
            vs.selector_string(),
            self.range,
            vs.extended_suffix(),
            at_suffix(&vs.at),
            offset_suffix(&vs.offset)
        )
    }
}

impl Display for SubqueryExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let step = match &self.step {
            None | Some(Duration::Ms(0)) => String::new(),
            Some(d) => d.to_string(),
        };
        write!(
            f,
            "{}[{}:{}]{}{}",
            self.expr,
            self.range,
            step,
            at_suffix(&self.at),
            offset_suffix(&self.offset)
        )
    }
}

impl Display for BinaryExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.lhs, self.op.as_str())?;
        if self.return_bool {
            f.write_str(" bool")?;
        }
        if let Some(vm) = &self.matching {
            let grouped = matches!(vm.card, Cardinality::ManyToOne | Cardinality::OneToMany);
            if !vm.labels.is_empty() || vm.on || grouped {
                let tag = if vm.on { "on" } else { "ignoring" };
                write!(f, " {tag} ({})", labels_list(&vm.labels))?;
            }
            if grouped {
                let side = if vm.card == Cardinality::ManyToOne {
                    "left"
                } else {
                    "right"
                };
                write!(f, " group_{side} ({})", labels_list(&vm.include))?;
            }
            match (vm.fill.lhs, vm.fill.rhs) {
                (Some(l), Some(r)) if l == r || (l.is_nan() && r.is_nan()) => {
                    write!(f, " fill ({})", format_fill(l))?
                }
                (l, r) => {
                    if let Some(l) = l {
                        write!(f, " fill_left ({})", format_fill(l))?;
                    }
                    if let Some(r) = r {
                        write!(f, " fill_right ({})", format_fill(r))?;
                    }
                }
            }
        }
        write!(f, " {}", self.rhs)
    }
}

/// Go's `%v` of a float64 (used for fill values).
fn format_fill(v: f64) -> String {
    if v.is_finite() && v != 0.0 && (v.abs() >= 1e21 || v.abs() < 1e-4) {
        strata_model::gofmt::go_format_g(v)
    } else {
        format_float(v)
    }
}

impl Display for AggregateExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.op.as_str())?;
        if self.without {
            write!(f, " without ({}) ", labels_list(&self.grouping))?;
        } else if !self.grouping.is_empty() {
            write!(f, " by ({}) ", labels_list(&self.grouping))?;
        }
        f.write_char('(')?;
        if let Some(p) = &self.param {
            write!(f, "{p}, ")?;
        }
        write!(f, "{})", self.expr)
    }
}

impl Display for Call {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.func.name)?;
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            a.fmt(f)?;
        }
        f.write_char(')')
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Number(n) => n.fmt(f),
            Expr::String(s) => f.write_str(&super::strings::quote(s)),
            Expr::VectorSelector(v) => v.fmt(f),
            Expr::MatrixSelector(m) => m.fmt(f),
            Expr::Subquery(s) => s.fmt(f),
            Expr::Paren(e) => write!(f, "({e})"),
            Expr::Unary(u) => {
                let op = if u.op == UnaryOp::Neg { "-" } else { "+" };
                write!(f, "{op}{}", u.expr)
            }
            Expr::Binary(b) => b.fmt(f),
            Expr::Aggregate(a) => a.fmt(f),
            Expr::Call(c) => c.fmt(f),
        }
    }
}
