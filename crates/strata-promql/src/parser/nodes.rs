//! Parsing and type checking of selectors, aggregations, function calls and binary
//! operator modifiers.

use strata_model::{METRIC_NAME, MatchType, Matcher};

use super::ast::*;
use super::functions;
use super::lexer::TokenKind;
use super::parser::{PResult, Parser, Span};

/// Modifiers written after a binary operator.
pub(super) struct BinModifiers {
    return_bool: bool,
    matching: VectorMatching,
}

impl Parser<'_> {
    /// `name{…}`, `name` or `{…}`; the name (if any) was already consumed.
    pub(super) fn vector_selector(
        &mut self,
        name: Option<String>,
        start: usize,
    ) -> PResult<(Expr, Span)> {
        let mut matchers = Vec::new();
        let mut end = self
            .toks
            .get(self.pos.saturating_sub(1))
            .map_or(start, |t| t.end);
        if self.peek().kind == TokenKind::LBrace {
            self.next();
            end = self.label_matchers(&mut matchers)?;
        }
        if let Some(n) = &name {
            for m in &matchers {
                if m.name == METRIC_NAME {
                    self.semantic_err(
                        start,
                        format!("metric name must not be set twice: {n:?} or {:?}", m.value),
                    );
                }
            }
            matchers.push(Matcher::equal(METRIC_NAME, n.clone()));
        } else if matchers.iter().all(|m| m.matches_empty()) {
            let e = self.err_at(
                start,
                "vector selector must contain at least one non-empty matcher",
            );
            self.semantic.push((Some(start), e));
        }
        let vs = VectorSelector {
            name,
            matchers,
            offset: None,
            at: None,
            anchored: false,
            smoothed: false,
        };
        Ok((Expr::VectorSelector(vs), (start, end)))
    }

    /// The matchers after `{`, through `}`; returns the end of `}`.
    fn label_matchers(&mut self, out: &mut Vec<Matcher>) -> PResult<usize> {
        let ctx = "label matching";
        loop {
            if self.peek().kind == TokenKind::RBrace {
                return Ok(self.next().end);
            }
            let t = self.next();
            let name = match &t.kind {
                TokenKind::Ident => self.text(&t).to_string(),
                TokenKind::Str(s) => s.clone(),
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected(ctx, "identifier or \"}\""));
                }
            };
            let kind = match self.peek().kind {
                TokenKind::Eql => Some(MatchType::Equal),
                TokenKind::Neq => Some(MatchType::NotEqual),
                TokenKind::EqlRegex => Some(MatchType::Regex),
                TokenKind::NeqRegex => Some(MatchType::NotRegex),
                _ => None,
            };
            match kind {
                None if matches!(t.kind, TokenKind::Str(_)) => {
                    out.push(Matcher::equal(METRIC_NAME, name));
                }
                None => return Err(self.unexpected(ctx, "label matching operator")),
                Some(kind) => {
                    self.next();
                    let TokenKind::Str(value) = self.peek().kind.clone() else {
                        return Err(self.unexpected(ctx, "string"));
                    };
                    self.next();
                    let m = Matcher::new(kind, name, value)
                        .map_err(|e| self.err_at(t.start, e.to_string()))?;
                    out.push(m);
                }
            }
            match self.peek().kind {
                TokenKind::Comma => {
                    self.next();
                }
                TokenKind::RBrace => {}
                _ => return Err(self.unexpected(ctx, "\",\" or \"}\"")),
            }
        }
    }

    /// `(label, "label", …)`.
    fn grouping_labels(&mut self) -> PResult<Vec<String>> {
        let ctx = "grouping opts";
        if self.peek().kind != TokenKind::LParen {
            return Err(self.unexpected(ctx, "\"(\""));
        }
        self.next();
        let mut out = Vec::new();
        loop {
            if self.peek().kind == TokenKind::RParen {
                self.next();
                return Ok(out);
            }
            let t = self.next();
            match &t.kind {
                TokenKind::Ident | TokenKind::MetricIdent => out.push(self.text(&t).to_string()),
                TokenKind::Str(s) => {
                    if s.is_empty() {
                        return Err(
                            self.err_at(t.start, format!("invalid label name for grouping: {s:?}"))
                        );
                    }
                    out.push(s.clone());
                }
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected(ctx, "label"));
                }
            }
            match self.peek().kind {
                TokenKind::Comma => {
                    self.next();
                }
                TokenKind::RParen => {}
                _ => return Err(self.unexpected(ctx, "\",\" or \")\"")),
            }
        }
    }

    /// `(arg, …)` of a call or aggregation; returns the args with their spans and the
    /// end of `)`.
    fn call_args(&mut self) -> PResult<(Vec<(Expr, Span)>, usize)> {
        self.expect(TokenKind::LParen, "function call", "\"(\"")?;
        let mut args = Vec::new();
        if self.peek().kind == TokenKind::RParen {
            return Ok((args, self.next().end));
        }
        loop {
            args.push(self.expr(0)?);
            match self.peek().kind {
                TokenKind::Comma => {
                    let c = self.next();
                    if self.peek().kind == TokenKind::RParen {
                        return Err(self
                            .err_at(c.start, "trailing commas not allowed in function call args"));
                    }
                }
                TokenKind::RParen => return Ok((args, self.next().end)),
                _ => return Err(self.unexpected("function call args", "\",\" or \")\"")),
            }
        }
    }

    fn grouping_modifier(&mut self) -> PResult<Option<(bool, Vec<String>)>> {
        if self.at_kw("by") || self.at_kw("without") {
            let without = self.at_kw("without");
            self.next();
            return Ok(Some((without, self.grouping_labels()?)));
        }
        Ok(None)
    }

    /// An aggregation; the operator was consumed.
    pub(super) fn aggregate(&mut self, op: AggregateOp, start: usize) -> PResult<(Expr, Span)> {
        let before = self.grouping_modifier()?;
        if self.peek().kind != TokenKind::LParen {
            return Err(self.unexpected("aggregation", ""));
        }
        let (mut args, mut end) = self.call_args()?;
        let after = if before.is_none() {
            let m = self.grouping_modifier()?;
            if m.is_some() {
                end = self
                    .toks
                    .get(self.pos.saturating_sub(1))
                    .map_or(end, |t| t.end);
            }
            m
        } else {
            None
        };
        let (without, grouping) = before.or(after).unwrap_or_default();
        let span = (start, end);
        let placeholder = Expr::Number(NumberLiteral {
            value: 0.0,
            duration: false,
        });
        if args.is_empty() {
            self.semantic_err(start, "no arguments for aggregate expression provided");
            return Ok((placeholder, span));
        }
        let want = if op.has_param() { 2 } else { 1 };
        if args.len() != want {
            self.semantic_err(
                start,
                format!(
                    "wrong number of arguments for aggregate expression provided, expected {want}, got {}",
                    args.len()
                ),
            );
            return Ok((placeholder, span));
        }
        let (expr, espan) = args.pop().unwrap_or((placeholder, span));
        self.expect_type(&expr, espan, ValueType::Vector, "aggregation expression");
        let param = args.pop().map(|(p, pspan)| {
            let want = if op == AggregateOp::CountValues {
                ValueType::String
            } else {
                ValueType::Scalar
            };
            self.expect_type(&p, pspan, want, "aggregation parameter");
            Box::new(p)
        });
        Ok((
            Expr::Aggregate(AggregateExpr {
                op,
                expr: Box::new(expr),
                param,
                grouping,
                without,
            }),
            span,
        ))
    }

    fn expect_type(&mut self, e: &Expr, span: Span, want: ValueType, context: &str) {
        let got = e.value_type();
        if got != want {
            self.semantic_err(
                span.0,
                format!(
                    "expected type {} in {context}, got {}",
                    want.documented(),
                    got.documented()
                ),
            );
        }
    }

    /// A function call; the name was consumed, `(` is next.
    pub(super) fn call(&mut self, name: &str, start: usize) -> PResult<(Expr, Span)> {
        let func = functions::lookup(name)
            .ok_or_else(|| self.err_at(start, format!("unknown function with name {name:?}")))?;
        let (args, end) = self.call_args()?;
        let n = args.len();
        if n < func.min_args() || func.max_args().is_some_and(|m| n > m) {
            let msg = match func.max_args() {
                Some(m) if func.variadic == 0 => {
                    format!("expected {m} argument(s) in call to {name:?}, got {n}")
                }
                Some(m) if n > m => {
                    format!("expected at most {m} argument(s) in call to {name:?}, got {n}")
                }
                _ => format!(
                    "expected at least {} argument(s) in call to {name:?}, got {n}",
                    func.min_args()
                ),
            };
            self.semantic_err(start, msg);
        }
        if func.name == "info"
            && let Some((arg, aspan)) = args.get(1)
        {
            if arg.value_type() != ValueType::Vector {
                self.semantic_err(
                    start,
                    format!(
                        "expected type instant vector in call to function \"info\", got {}",
                        arg.value_type().documented()
                    ),
                );
            }
            match arg {
                Expr::VectorSelector(vs) if vs.name.is_some() => self.semantic_err(
                    aspan.0,
                    "expected label selectors only, got vector selector instead",
                ),
                Expr::VectorSelector(_) => {
                    let key = aspan.0;
                    self.semantic.retain(|(k, _)| *k != Some(key));
                }
                _ => self.semantic_err(aspan.0, "expected label selectors only"),
            }
        }
        for (i, (arg, aspan)) in args.iter().enumerate() {
            let Some(want) = func.arg_type(i) else { break };
            let got = arg.value_type();
            if got != want {
                self.semantic_err(
                    aspan.0,
                    format!(
                        "expected type {} in call to function {name:?}, got {}",
                        want.documented(),
                        got.documented()
                    ),
                );
            }
        }
        let args = args.into_iter().map(|(e, _)| e).collect();
        Ok((Expr::Call(Call { func, args }), (start, end)))
    }

    /// `bool`, `on(…)`/`ignoring(…)`, `group_left(…)`/`group_right(…)`, `fill…(v)`.
    pub(super) fn bin_modifiers(&mut self) -> PResult<BinModifiers> {
        let mut m = BinModifiers {
            return_bool: false,
            matching: VectorMatching {
                card: Cardinality::OneToOne,
                on: false,
                labels: Vec::new(),
                include: Vec::new(),
                fill: FillValues::default(),
            },
        };
        if self.at_kw("bool") {
            self.next();
            m.return_bool = true;
        }
        if self.at_kw("on") || self.at_kw("ignoring") {
            m.matching.on = self.at_kw("on");
            self.next();
            m.matching.labels = self.grouping_labels()?;
            if self.at_kw("group_left") || self.at_kw("group_right") {
                m.matching.card = if self.at_kw("group_left") {
                    Cardinality::ManyToOne
                } else {
                    Cardinality::OneToMany
                };
                self.next();
                if self.peek().kind == TokenKind::LParen {
                    m.matching.include = self.grouping_labels()?;
                }
            }
        }
        let fill_kw = |p: &Self| {
            ["fill", "fill_left", "fill_right"]
                .into_iter()
                .find(|k| p.at_kw(k) && p.peek_n(1).kind == TokenKind::LParen)
        };
        if let Some(first) = fill_kw(self) {
            self.next();
            let v = self.fill_value()?;
            match first {
                "fill" => {
                    m.matching.fill.lhs = Some(v);
                    m.matching.fill.rhs = Some(v);
                }
                "fill_left" => m.matching.fill.lhs = Some(v),
                _ => m.matching.fill.rhs = Some(v),
            }
            let second = fill_kw(self);
            match (first, second) {
                ("fill_left", Some("fill_right")) => {
                    self.next();
                    m.matching.fill.rhs = Some(self.fill_value()?);
                }
                ("fill_right", Some("fill_left")) => {
                    self.next();
                    m.matching.fill.lhs = Some(self.fill_value()?);
                }
                _ => {}
            }
        }
        Ok(m)
    }

    fn fill_value(&mut self) -> PResult<f64> {
        let ctx = ("fill modifier", "number or duration");
        self.expect(TokenKind::LParen, ctx.0, "\"(\"")?;
        let sign = match self.peek().kind {
            TokenKind::Sub => {
                self.next();
                -1.0
            }
            TokenKind::Add => {
                self.next();
                1.0
            }
            _ => 1.0,
        };
        let t = self.peek().clone();
        if !matches!(t.kind, TokenKind::Number | TokenKind::Duration) {
            return Err(self.unexpected(ctx.0, ctx.1));
        }
        self.next();
        let v = sign * self.number_literal(&t)?.value;
        self.expect(TokenKind::RParen, ctx.0, "\")\"")?;
        Ok(v)
    }

    /// Builds a binary expression and applies Prometheus' checks.
    pub(super) fn new_binary(
        &mut self,
        op: BinaryOp,
        lhs: Expr,
        rhs: Expr,
        m: BinModifiers,
        pos: usize,
    ) -> Expr {
        let BinModifiers {
            return_bool,
            mut matching,
        } = m;
        let (lt, rt) = (lhs.value_type(), rhs.value_type());
        if return_bool && !op.is_comparison() {
            self.semantic_err(
                pos,
                "bool modifier can only be used on comparison operators",
            );
        }
        if op.is_comparison() && !return_bool && lt == ValueType::Scalar && rt == ValueType::Scalar
        {
            self.semantic_err(pos, "comparisons between scalars must use BOOL modifier");
        }
        if op.is_set_operator() && matching.card == Cardinality::OneToOne {
            matching.card = Cardinality::ManyToMany;
        }
        if matching.on
            && let Some(l) = matching
                .labels
                .iter()
                .find(|l| matching.include.contains(l))
        {
            self.semantic_err(
                pos,
                format!("label {l:?} must not occur in ON and GROUP clause at once"),
            );
        }
        for t in [lt, rt] {
            if t != ValueType::Scalar && t != ValueType::Vector {
                self.semantic_err(
                    pos,
                    "binary expression must contain only scalar and instant vector types",
                );
            }
        }
        let has_fill = matching.fill.lhs.is_some() || matching.fill.rhs.is_some();
        let both_vectors = lt == ValueType::Vector && rt == ValueType::Vector;
        if !both_vectors {
            if !matching.labels.is_empty() {
                self.semantic_err(pos, "vector matching only allowed between instant vectors");
            }
            if has_fill {
                self.semantic_err(
                    pos,
                    "filling in missing series only allowed between instant vectors",
                );
            }
        } else if op.is_set_operator() {
            if matches!(
                matching.card,
                Cardinality::OneToMany | Cardinality::ManyToOne
            ) {
                self.semantic_err(
                    pos,
                    format!("no grouping allowed for {:?} operation", op.as_str()),
                );
            }
            if matching.card != Cardinality::ManyToMany {
                self.semantic_err(pos, "set operations must always be many-to-many");
            }
            if has_fill {
                self.semantic_err(
                    pos,
                    "filling in missing series not allowed for set operators",
                );
            }
        }
        if (lt == ValueType::Scalar || rt == ValueType::Scalar) && op.is_set_operator() {
            self.semantic_err(
                pos,
                format!(
                    "set operator {:?} not allowed in binary scalar expression",
                    op.as_str()
                ),
            );
        }
        Expr::Binary(BinaryExpr {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
            return_bool,
            matching: both_vectors.then_some(matching),
        })
    }
}
