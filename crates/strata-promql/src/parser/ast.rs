//! The PromQL abstract syntax tree: the contract between the parser and the evaluator.
//!
//! Every node is fully resolved by the parser:
//! - selectors carry their matchers as [`Matcher`]s (regexes compiled), including the
//!   `__name__="…"` matcher for a metric name written outside the braces;
//! - durations are milliseconds ([`Duration::Ms`]) or, for Prometheus 3 duration
//!   expressions (`[5m+1m]`, `offset step()`), a [`DurationExpr`] the evaluator resolves
//!   with the query's step and range ([`Duration::resolve`]);
//! - `@` is an [`AtModifier`]; function calls point at their static [`Function`].
//!
//! The tree also keeps what Prometheus' printer needs to reproduce the query
//! (parentheses, whether a number was written as a duration), so `Display` renders
//! Prometheus' canonical `format_query` output.

use strata_model::Matcher;

use super::functions::Function;

/// The type of value an expression produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    Scalar,
    String,
    /// An instant vector.
    Vector,
    /// A range vector.
    Matrix,
}

impl ValueType {
    /// The name used in type-check error messages ("instant vector", "range vector", …).
    pub fn documented(self) -> &'static str {
        match self {
            ValueType::Scalar => "scalar",
            ValueType::String => "string",
            ValueType::Vector => "instant vector",
            ValueType::Matrix => "range vector",
        }
    }

    /// Prometheus' internal name ("scalar", "string", "vector", "matrix").
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Scalar => "scalar",
            ValueType::String => "string",
            ValueType::Vector => "vector",
            ValueType::Matrix => "matrix",
        }
    }
}

/// A PromQL expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `1`, `0x1f`, `Inf`, `5m` (a duration literal at expression level is its value in
    /// seconds; `duration` remembers the spelling for printing). `-1` is folded into
    /// a negative literal, as Prometheus does.
    Number(NumberLiteral),
    /// `"text"`, `'text'`, `` `text` ``, unescaped.
    String(String),
    /// `metric{label="value"}` with optional `offset`, `@`, `anchored`/`smoothed`.
    VectorSelector(VectorSelector),
    /// `metric{…}[5m]`; modifiers live on the inner [`VectorSelector`].
    MatrixSelector(MatrixSelector),
    /// `expr[1h:5m]`, `expr[1h:]`.
    Subquery(SubqueryExpr),
    /// `(expr)`.
    Paren(Box<Expr>),
    /// `-expr`, `+expr` (on a non-literal).
    Unary(UnaryExpr),
    Binary(BinaryExpr),
    Aggregate(AggregateExpr),
    Call(Call),
}

/// A number literal; the value is in seconds when it was written as a duration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumberLiteral {
    pub value: f64,
    /// Written as a duration (`5m`); printed back as one.
    pub duration: bool,
}

/// An instant vector selector.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSelector {
    /// The metric name when written outside the braces (`foo{…}`); `None` for `{…}`.
    pub name: Option<String>,
    /// All matchers in source order; when `name` is set the last one is `__name__="name"`.
    pub matchers: Vec<Matcher>,
    /// `offset` (positive looks back); `None` when absent or zero.
    pub offset: Option<Duration>,
    /// `@ <timestamp>` / `@ start()` / `@ end()`.
    pub at: Option<AtModifier>,
    /// `anchored` modifier (extended range selectors).
    pub anchored: bool,
    /// `smoothed` modifier (extended range selectors).
    pub smoothed: bool,
}

/// A range vector selector `selector[range]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixSelector {
    /// The selector; its `offset`, `at`, `anchored` and `smoothed` apply to the range.
    pub selector: VectorSelector,
    /// The range; a literal range is always > 0.
    pub range: Duration,
}

/// A subquery `expr[range:step]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SubqueryExpr {
    /// An instant-vector expression.
    pub expr: Box<Expr>,
    pub range: Duration,
    /// `None` for `[range:]`: use the engine's default evaluation interval.
    pub step: Option<Duration>,
    pub offset: Option<Duration>,
    pub at: Option<AtModifier>,
}

/// The `@` modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtModifier {
    /// `@ <unix seconds>`, stored in milliseconds (rounded).
    Timestamp(i64),
    /// `@ start()`: the query's start time.
    Start,
    /// `@ end()`: the query's end time.
    End,
}

/// A duration: a literal, or an expression resolved at evaluation time.
#[derive(Debug, Clone, PartialEq)]
pub enum Duration {
    /// Milliseconds (negative only for offsets).
    Ms(i64),
    /// A Prometheus 3 duration expression (`5m+1m`, `step()`, `min_of(…)`).
    Expr(DurationExpr),
}

/// A duration expression; numbers are seconds.
#[derive(Debug, Clone, PartialEq)]
pub enum DurationExpr {
    /// A literal (`5m` = 300 with `duration: true`, `2` = 2 s).
    Number(NumberLiteral),
    /// `step()`: the query's step (0 for instant queries).
    Step,
    /// `range()`: the query's range, end − start (0 for instant queries).
    Range,
    MinOf(Box<DurationExpr>, Box<DurationExpr>),
    MaxOf(Box<DurationExpr>, Box<DurationExpr>),
    /// Unary minus.
    Neg(Box<DurationExpr>),
    Binary {
        op: DurationOp,
        lhs: Box<DurationExpr>,
        rhs: Box<DurationExpr>,
    },
    /// Parentheses, kept for printing.
    Paren(Box<DurationExpr>),
}

/// Arithmetic in duration expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

/// A unary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Pos,
}

/// `-expr` / `+expr`; `expr` is a scalar or an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct UnaryExpr {
    pub op: UnaryOp,
    pub expr: Box<Expr>,
}

/// Binary operators, from lowest to highest precedence group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Unless,
    Eql,
    Neq,
    Lss,
    Lte,
    Gtr,
    Gte,
    /// `</`: trim the upper part of native histograms.
    TrimUpper,
    /// `>/`: trim the lower part of native histograms.
    TrimLower,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Atan2,
    Pow,
}

/// How the two sides of a vector/vector operation are matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    OneToOne,
    /// `group_left`.
    ManyToOne,
    /// `group_right`.
    OneToMany,
    /// Set operators (`and`, `or`, `unless`).
    ManyToMany,
}

/// Values substituted for missing series (`fill`, `fill_left`, `fill_right`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FillValues {
    /// Used when the left-hand side has no match (`fill_left(v)` or `fill(v)`).
    pub lhs: Option<f64>,
    /// Used when the right-hand side has no match (`fill_right(v)` or `fill(v)`).
    pub rhs: Option<f64>,
}

/// Vector matching of a binary operation between two instant vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorMatching {
    pub card: Cardinality,
    /// `on(…)` when true, `ignoring(…)` (or no clause) when false.
    pub on: bool,
    /// The `on`/`ignoring` labels.
    pub labels: Vec<String>,
    /// The `group_left(…)`/`group_right(…)` labels copied from the "one" side.
    pub include: Vec<String>,
    pub fill: FillValues,
}

/// A binary operation.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryExpr {
    pub op: BinaryOp,
    pub lhs: Box<Expr>,
    pub rhs: Box<Expr>,
    /// `bool` modifier on a comparison.
    pub return_bool: bool,
    /// Present exactly when both sides are instant vectors (set operators have
    /// [`Cardinality::ManyToMany`]).
    pub matching: Option<VectorMatching>,
}

/// Aggregation operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateOp {
    Sum,
    Avg,
    Count,
    Min,
    Max,
    Group,
    Stddev,
    Stdvar,
    Topk,
    Bottomk,
    CountValues,
    Quantile,
    Limitk,
    LimitRatio,
}

/// An aggregation such as `sum by (job) (x)` or `topk(3, x)`.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateExpr {
    pub op: AggregateOp,
    /// The aggregated instant vector.
    pub expr: Box<Expr>,
    /// The parameter of `topk`, `bottomk`, `quantile`, `limitk`, `limit_ratio` (scalar)
    /// and `count_values` (string).
    pub param: Option<Box<Expr>>,
    /// `by`/`without` labels.
    pub grouping: Vec<String>,
    /// `without` rather than `by`.
    pub without: bool,
}

/// A function call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub func: &'static Function,
    pub args: Vec<Expr>,
}

impl Expr {
    /// The expression inside any number of parentheses.
    pub fn unwrap_parens(&self) -> &Expr {
        let mut e = self;
        while let Expr::Paren(inner) = e {
            e = inner;
        }
        e
    }

    /// The type of value the expression evaluates to.
    pub fn value_type(&self) -> ValueType {
        match self {
            Expr::Number(_) => ValueType::Scalar,
            Expr::String(_) => ValueType::String,
            Expr::VectorSelector(_) | Expr::Aggregate(_) => ValueType::Vector,
            Expr::MatrixSelector(_) | Expr::Subquery(_) => ValueType::Matrix,
            Expr::Paren(e) => e.value_type(),
            Expr::Unary(u) => u.expr.value_type(),
            Expr::Binary(b) => {
                if b.lhs.value_type() == ValueType::Scalar
                    && b.rhs.value_type() == ValueType::Scalar
                {
                    ValueType::Scalar
                } else {
                    ValueType::Vector
                }
            }
            Expr::Call(c) => c.func.return_type,
        }
    }
}

impl AggregateOp {
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "sum" => AggregateOp::Sum,
            "avg" => AggregateOp::Avg,
            "count" => AggregateOp::Count,
            "min" => AggregateOp::Min,
            "max" => AggregateOp::Max,
            "group" => AggregateOp::Group,
            "stddev" => AggregateOp::Stddev,
            "stdvar" => AggregateOp::Stdvar,
            "topk" => AggregateOp::Topk,
            "bottomk" => AggregateOp::Bottomk,
            "count_values" => AggregateOp::CountValues,
            "quantile" => AggregateOp::Quantile,
            "limitk" => AggregateOp::Limitk,
            "limit_ratio" => AggregateOp::LimitRatio,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AggregateOp::Sum => "sum",
            AggregateOp::Avg => "avg",
            AggregateOp::Count => "count",
            AggregateOp::Min => "min",
            AggregateOp::Max => "max",
            AggregateOp::Group => "group",
            AggregateOp::Stddev => "stddev",
            AggregateOp::Stdvar => "stdvar",
            AggregateOp::Topk => "topk",
            AggregateOp::Bottomk => "bottomk",
            AggregateOp::CountValues => "count_values",
            AggregateOp::Quantile => "quantile",
            AggregateOp::Limitk => "limitk",
            AggregateOp::LimitRatio => "limit_ratio",
        }
    }

    /// True for the aggregations that take a parameter before the vector.
    pub fn has_param(self) -> bool {
        matches!(
            self,
            AggregateOp::Topk
                | AggregateOp::Bottomk
                | AggregateOp::CountValues
                | AggregateOp::Quantile
                | AggregateOp::Limitk
                | AggregateOp::LimitRatio
        )
    }
}

impl BinaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Unless => "unless",
            BinaryOp::Eql => "==",
            BinaryOp::Neq => "!=",
            BinaryOp::Lss => "<",
            BinaryOp::Lte => "<=",
            BinaryOp::Gtr => ">",
            BinaryOp::Gte => ">=",
            BinaryOp::TrimUpper => "</",
            BinaryOp::TrimLower => ">/",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Atan2 => "atan2",
            BinaryOp::Pow => "^",
        }
    }

    /// Binding strength: 1 (`or`) to 6 (`^`).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And | BinaryOp::Unless => 2,
            BinaryOp::Eql
            | BinaryOp::Neq
            | BinaryOp::Lss
            | BinaryOp::Lte
            | BinaryOp::Gtr
            | BinaryOp::Gte
            | BinaryOp::TrimUpper
            | BinaryOp::TrimLower => 3,
            BinaryOp::Add | BinaryOp::Sub => 4,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod | BinaryOp::Atan2 => 5,
            BinaryOp::Pow => 6,
        }
    }

    pub fn is_right_assoc(self) -> bool {
        self == BinaryOp::Pow
    }

    /// `==`, `!=`, `<`, `<=`, `>`, `>=` (the trim operators are not comparisons).
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eql
                | BinaryOp::Neq
                | BinaryOp::Lss
                | BinaryOp::Lte
                | BinaryOp::Gtr
                | BinaryOp::Gte
        )
    }

    /// `and`, `or`, `unless`.
    pub fn is_set_operator(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or | BinaryOp::Unless)
    }
}

impl DurationOp {
    pub fn as_str(self) -> &'static str {
        match self {
            DurationOp::Add => "+",
            DurationOp::Sub => "-",
            DurationOp::Mul => "*",
            DurationOp::Div => "/",
            DurationOp::Mod => "%",
            DurationOp::Pow => "^",
        }
    }
}

impl DurationExpr {
    /// Evaluates to seconds given the query's step and range (both in ms).
    pub fn eval_seconds(&self, step_ms: i64, range_ms: i64) -> Result<f64, String> {
        Ok(match self {
            DurationExpr::Number(n) => n.value,
            DurationExpr::Step => step_ms as f64 / 1000.0,
            DurationExpr::Range => range_ms as f64 / 1000.0,
            DurationExpr::MinOf(a, b) => a
                .eval_seconds(step_ms, range_ms)?
                .min(b.eval_seconds(step_ms, range_ms)?),
            DurationExpr::MaxOf(a, b) => a
                .eval_seconds(step_ms, range_ms)?
                .max(b.eval_seconds(step_ms, range_ms)?),
            DurationExpr::Neg(e) => -e.eval_seconds(step_ms, range_ms)?,
            DurationExpr::Paren(e) => e.eval_seconds(step_ms, range_ms)?,
            DurationExpr::Binary { op, lhs, rhs } => {
                let l = lhs.eval_seconds(step_ms, range_ms)?;
                let r = rhs.eval_seconds(step_ms, range_ms)?;
                match op {
                    DurationOp::Add => l + r,
                    DurationOp::Sub => l - r,
                    DurationOp::Mul => l * r,
                    DurationOp::Div if r == 0.0 => return Err("division by zero".into()),
                    DurationOp::Div => l / r,
                    DurationOp::Mod if r == 0.0 => return Err("modulo by zero".into()),
                    DurationOp::Mod => l % r,
                    DurationOp::Pow => l.powf(r),
                }
            }
        })
    }
}

impl Duration {
    /// Resolves to milliseconds. `allow_negative` is true for offsets; ranges and steps
    /// must be > 0. Errors carry Prometheus' messages.
    pub fn resolve(
        &self,
        step_ms: i64,
        range_ms: i64,
        allow_negative: bool,
    ) -> Result<i64, String> {
        match self {
            Duration::Ms(ms) => Ok(*ms),
            Duration::Expr(e) => {
                let secs = e.eval_seconds(step_ms, range_ms)?;
                if !secs.is_finite() {
                    return Err("duration is NaN or infinite".into());
                }
                if secs <= 0.0 && !allow_negative {
                    return Err("duration must be greater than 0".into());
                }
                if !(-MAX_DURATION_SECONDS..=MAX_DURATION_SECONDS).contains(&secs) {
                    return Err("duration is out of range".into());
                }
                Ok((secs * 1000.0) as i64)
            }
        }
    }
}

/// The largest duration (in seconds) Go's `time.Duration` can hold.
pub const MAX_DURATION_SECONDS: f64 = 9_223_372_036.854_775;
