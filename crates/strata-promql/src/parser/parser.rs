//! A hand-written precedence-climbing parser for PromQL (Prometheus 3.14 grammar),
//! with Prometheus' type checks applied as nodes are built.

use super::ParseError;
use super::ast::*;
use super::lexer::{Token, TokenKind, lex};

pub(super) type Span = (usize, usize);
pub(super) type PResult<T> = Result<T, ParseError>;

/// Postfix-modifier binding (`offset`, `@`, `[…]`) is tighter than every operator.
const UNARY_OPERAND_PREC: u8 = 6;

pub(super) struct Parser<'a> {
    pub(super) input: &'a str,
    pub(super) toks: Vec<Token>,
    pub(super) pos: usize,
    /// Semantic (type) errors in discovery order, reported only when the query is
    /// syntactically valid. Errors keyed by a selector's start position are
    /// "vector selector must contain at least one non-empty matcher" errors, which
    /// `info()` lifts for its second argument.
    pub(super) semantic: Vec<(Option<usize>, ParseError)>,
}

pub(super) fn parse(input: &str) -> PResult<Expr> {
    let mut p = Parser {
        input,
        toks: lex(input),
        pos: 0,
        semantic: Vec::new(),
    };
    if p.peek().kind == TokenKind::Eof {
        return Err(p.err_at(0, "no expression found in input"));
    }
    let (e, _) = p.expr(0)?;
    if p.peek().kind != TokenKind::Eof {
        return Err(p.unexpected("", ""));
    }
    match p.semantic.into_iter().next() {
        Some((_, err)) => Err(err),
        None => Ok(e),
    }
}

fn binary_op(kind: &TokenKind, text: &str) -> Option<BinaryOp> {
    Some(match kind {
        TokenKind::Add => BinaryOp::Add,
        TokenKind::Sub => BinaryOp::Sub,
        TokenKind::Mul => BinaryOp::Mul,
        TokenKind::Div => BinaryOp::Div,
        TokenKind::Mod => BinaryOp::Mod,
        TokenKind::Pow => BinaryOp::Pow,
        TokenKind::EqlC => BinaryOp::Eql,
        TokenKind::Neq => BinaryOp::Neq,
        TokenKind::Lss => BinaryOp::Lss,
        TokenKind::Lte => BinaryOp::Lte,
        TokenKind::Gtr => BinaryOp::Gtr,
        TokenKind::Gte => BinaryOp::Gte,
        TokenKind::TrimUpper => BinaryOp::TrimUpper,
        TokenKind::TrimLower => BinaryOp::TrimLower,
        TokenKind::Ident => match text.to_ascii_lowercase().as_str() {
            "and" => BinaryOp::And,
            "or" => BinaryOp::Or,
            "unless" => BinaryOp::Unless,
            "atan2" => BinaryOp::Atan2,
            _ => return None,
        },
        _ => return None,
    })
}

/// Keywords that may still be used as a metric name in expression position.
const NAME_KEYWORDS: &[&str] = &[
    "avg",
    "bottomk",
    "by",
    "count",
    "count_values",
    "fill",
    "fill_left",
    "fill_right",
    "group",
    "and",
    "or",
    "unless",
    "max",
    "min",
    "offset",
    "quantile",
    "stddev",
    "stdvar",
    "sum",
    "topk",
    "without",
    "start",
    "end",
    "limitk",
    "limit_ratio",
    "step",
    "range",
    "anchored",
    "smoothed",
    "max_of",
    "min_of",
];

impl<'a> Parser<'a> {
    pub(super) fn peek(&self) -> &Token {
        self.peek_n(0)
    }

    pub(super) fn peek_n(&self, n: usize) -> &Token {
        static EOF: Token = Token {
            kind: TokenKind::Eof,
            start: 0,
            end: 0,
        };
        self.toks
            .get(self.pos + n)
            .or_else(|| self.toks.last())
            .unwrap_or(&EOF)
    }

    pub(super) fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    pub(super) fn text(&self, t: &Token) -> &'a str {
        self.input.get(t.start..t.end).unwrap_or("")
    }

    /// True when the next token is the (case-insensitive) keyword `kw`.
    pub(super) fn at_kw(&self, kw: &str) -> bool {
        let t = self.peek();
        t.kind == TokenKind::Ident && self.text(t).eq_ignore_ascii_case(kw)
    }

    pub(super) fn err_at(&self, pos: usize, msg: impl Into<String>) -> ParseError {
        ParseError::new(self.input, pos, msg.into())
    }

    pub(super) fn semantic_err(&mut self, pos: usize, msg: impl Into<String>) {
        let e = self.err_at(pos, msg);
        self.semantic.push((None, e));
    }

    /// "unexpected <token> in <context>, expected <expected>", at the next token; a
    /// lexical error token reports its own message.
    pub(super) fn unexpected(&self, context: &str, expected: &str) -> ParseError {
        let t = self.peek();
        if let TokenKind::Error(m) = &t.kind {
            return self.err_at(t.start, m.clone());
        }
        let mut msg = format!("unexpected {}", t.desc(self.input));
        if !context.is_empty() {
            msg.push_str(" in ");
            msg.push_str(context);
        }
        if !expected.is_empty() {
            msg.push_str(", expected ");
            msg.push_str(expected);
        }
        self.err_at(t.start, msg)
    }

    pub(super) fn expect(
        &mut self,
        kind: TokenKind,
        context: &str,
        expected: &str,
    ) -> PResult<Token> {
        if self.peek().kind == kind {
            Ok(self.next())
        } else {
            Err(self.unexpected(context, expected))
        }
    }

    // ---- expressions -------------------------------------------------------------

    pub(super) fn expr(&mut self, min_prec: u8) -> PResult<(Expr, Span)> {
        let (mut lhs, mut span) = self.unary()?;
        loop {
            let t = self.peek().clone();
            let Some(op) = binary_op(&t.kind, self.text(&t)) else {
                break;
            };
            let prec = op.precedence();
            if prec < min_prec {
                break;
            }
            self.next();
            let modifiers = self.bin_modifiers()?;
            let next_min = if op.is_right_assoc() { prec } else { prec + 1 };
            let (rhs, rspan) = self.expr(next_min)?;
            lhs = self.new_binary(op, lhs, rhs, modifiers, t.start);
            span = (span.0, rspan.1);
        }
        Ok((lhs, span))
    }

    fn unary(&mut self) -> PResult<(Expr, Span)> {
        let t = self.peek().clone();
        let op = match t.kind {
            TokenKind::Add => UnaryOp::Pos,
            TokenKind::Sub => UnaryOp::Neg,
            _ => {
                let (e, span) = self.primary()?;
                return self.postfix(e, span);
            }
        };
        self.next();
        let (e, span) = self.expr(UNARY_OPERAND_PREC)?;
        let span = (t.start, span.1);
        if let Expr::Number(mut n) = e {
            if op == UnaryOp::Neg {
                n.value = -n.value;
            }
            return Ok((Expr::Number(n), span));
        }
        let ty = e.value_type();
        if ty != ValueType::Scalar && ty != ValueType::Vector {
            self.semantic_err(
                t.start,
                format!(
                    "unary expression only allowed on expressions of type scalar or instant vector, got {:?}",
                    ty.documented()
                ),
            );
        }
        Ok((
            Expr::Unary(UnaryExpr {
                op,
                expr: Box::new(e),
            }),
            span,
        ))
    }

    fn primary(&mut self) -> PResult<(Expr, Span)> {
        let t = self.peek().clone();
        let text = self.text(&t);
        match &t.kind {
            TokenKind::Number | TokenKind::Duration => {
                self.next();
                let n = self.number_literal(&t)?;
                Ok((Expr::Number(n), (t.start, t.end)))
            }
            TokenKind::Str(s) => {
                self.next();
                Ok((Expr::String(s.clone()), (t.start, t.end)))
            }
            TokenKind::LParen => {
                self.next();
                let (e, _) = self.expr(0)?;
                let close = self.expect(TokenKind::RParen, "paren expression", "\")\"")?;
                Ok((Expr::Paren(Box::new(e)), (t.start, close.end)))
            }
            TokenKind::LBrace => self.vector_selector(None, t.start),
            TokenKind::MetricIdent => {
                self.next();
                self.vector_selector(Some(text.to_string()), t.start)
            }
            TokenKind::Ident => {
                let lower = text.to_ascii_lowercase();
                let next = self.peek_n(1).kind.clone();
                let next_is_grouping = self.peek_n(1).kind == TokenKind::Ident && {
                    let nt = self.text(self.peek_n(1));
                    nt.eq_ignore_ascii_case("by") || nt.eq_ignore_ascii_case("without")
                };
                if let Some(op) = AggregateOp::from_name(&lower)
                    && (next == TokenKind::LParen || next_is_grouping)
                {
                    self.next();
                    return self.aggregate(op, t.start);
                }
                if next == TokenKind::LParen {
                    self.next();
                    return self.call(text, t.start);
                }
                if super::lexer::is_keyword(text) && !NAME_KEYWORDS.contains(&lower.as_str()) {
                    return Err(self.unexpected("", ""));
                }
                self.next();
                self.vector_selector(Some(text.to_string()), t.start)
            }
            _ => Err(self.unexpected("", "")),
        }
    }

    pub(super) fn number_literal(&self, t: &Token) -> PResult<NumberLiteral> {
        let text = self.text(t);
        if t.kind == TokenKind::Duration {
            let ms = strata_model::duration::parse_duration_ms(text).map_err(|_| {
                self.err_at(t.start, format!("not a valid duration string: {text:?}"))
            })?;
            return Ok(NumberLiteral {
                value: ms as f64 / 1000.0,
                duration: true,
            });
        }
        parse_number(text)
            .map(|value| NumberLiteral {
                value,
                duration: false,
            })
            .ok_or_else(|| {
                self.err_at(
                    t.start,
                    format!(
                        "error parsing number: strconv.ParseFloat: parsing {text:?}: invalid syntax"
                    ),
                )
            })
    }

    // ---- postfix modifiers -------------------------------------------------------

    fn postfix(&mut self, mut e: Expr, mut span: Span) -> PResult<(Expr, Span)> {
        loop {
            let t = self.peek().clone();
            match t.kind {
                TokenKind::LBracket => {
                    self.next();
                    e = self.range_or_subquery(e, span)?;
                }
                TokenKind::At => {
                    self.next();
                    let at = self.at_modifier()?;
                    self.set_at(&mut e, at, span.0);
                }
                TokenKind::Ident if self.at_kw("offset") => {
                    self.next();
                    let d = self.offset_duration()?;
                    self.set_offset(&mut e, d, span.0);
                }
                TokenKind::Ident if self.at_kw("anchored") || self.at_kw("smoothed") => {
                    self.next();
                    let anchored = self.text(&t).eq_ignore_ascii_case("anchored");
                    self.set_extended(&mut e, anchored, span.0);
                }
                _ => return Ok((e, span)),
            }
            span.1 = self
                .toks
                .get(self.pos.saturating_sub(1))
                .map_or(span.1, |t| t.end);
        }
    }

    fn range_or_subquery(&mut self, e: Expr, span: Span) -> PResult<Expr> {
        let ctx_start = (
            "subquery or range selector",
            "number, duration, step(), or range()",
        );
        if !self.starts_duration() {
            return Err(self.unexpected(ctx_start.0, ctx_start.1));
        }
        let range = self.positive_duration()?;
        if self.peek().kind == TokenKind::RBracket {
            self.next();
            let msg = match &e {
                Expr::VectorSelector(vs) if vs.offset.is_some() => {
                    Some("no offset modifiers allowed before range")
                }
                Expr::VectorSelector(vs) if vs.at.is_some() => {
                    Some("no @ modifiers allowed before range")
                }
                Expr::VectorSelector(_) => None,
                _ => Some("ranges only allowed for vector selectors"),
            };
            if let Some(m) = msg {
                return Err(self.err_at(span.1, m));
            }
            let Expr::VectorSelector(selector) = e else {
                return Err(self.err_at(span.1, "ranges only allowed for vector selectors"));
            };
            return Ok(Expr::MatrixSelector(MatrixSelector { selector, range }));
        }
        if self.peek().kind != TokenKind::Colon {
            return Err(self.unexpected("subquery or range", "\":\" or \"]\""));
        }
        self.next();
        let step = if self.peek().kind == TokenKind::RBracket {
            None
        } else if self.starts_duration() {
            Some(self.positive_duration()?)
        } else {
            return Err(self.unexpected(
                "subquery selector",
                "number, duration, step(), range(), or \"]\"",
            ));
        };
        self.expect(TokenKind::RBracket, "subquery selector", "\"]\"")?;
        let ty = e.value_type();
        if ty != ValueType::Vector {
            self.semantic_err(
                span.0,
                format!(
                    "subquery is only allowed on instant vector, got {} instead",
                    ty.as_str()
                ),
            );
        }
        Ok(Expr::Subquery(SubqueryExpr {
            expr: Box::new(e),
            range,
            step,
            offset: None,
            at: None,
        }))
    }

    fn at_modifier(&mut self) -> PResult<AtModifier> {
        let t = self.peek().clone();
        if (self.at_kw("start") || self.at_kw("end"))
            && self.peek_n(1).kind == TokenKind::LParen
            && self.peek_n(2).kind == TokenKind::RParen
        {
            self.pos += 3;
            return Ok(if self.text(&t).eq_ignore_ascii_case("start") {
                AtModifier::Start
            } else {
                AtModifier::End
            });
        }
        let mut sign = 1.0;
        if matches!(t.kind, TokenKind::Add | TokenKind::Sub) {
            if t.kind == TokenKind::Sub {
                sign = -1.0;
            }
            self.next();
        }
        let n = self.peek().clone();
        if !matches!(n.kind, TokenKind::Number | TokenKind::Duration) {
            return Err(self.unexpected("@", "timestamp"));
        }
        self.next();
        let ts = sign * self.number_literal(&n)?.value;
        if !ts.is_finite() || ts >= i64::MAX as f64 || ts <= i64::MIN as f64 {
            return Err(self.err_at(
                t.start,
                format!("timestamp out of bounds for @ modifier: {ts:.6}"),
            ));
        }
        Ok(AtModifier::Timestamp((ts * 1000.0).round() as i64))
    }

    fn set_at(&mut self, e: &mut Expr, at: AtModifier, pos: usize) {
        let slot = match e {
            Expr::VectorSelector(vs) => &mut vs.at,
            Expr::MatrixSelector(ms) => &mut ms.selector.at,
            Expr::Subquery(sq) => &mut sq.at,
            _ => {
                return self.semantic_err(
                    pos,
                    "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                );
            }
        };
        if slot.is_some() {
            return self.semantic_err(pos, "@ <timestamp> may not be set multiple times");
        }
        *slot = Some(at);
    }

    fn set_offset(&mut self, e: &mut Expr, d: Duration, pos: usize) {
        let slot = match e {
            Expr::VectorSelector(vs) => &mut vs.offset,
            Expr::MatrixSelector(ms) => &mut ms.selector.offset,
            Expr::Subquery(sq) => &mut sq.offset,
            _ => {
                return self.semantic_err(
                    pos,
                    "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                );
            }
        };
        if slot.is_some() {
            return self.semantic_err(pos, "offset may not be set multiple times");
        }
        if d != Duration::Ms(0) {
            *slot = Some(d);
        }
    }

    fn set_extended(&mut self, e: &mut Expr, anchored: bool, pos: usize) {
        let name = if anchored { "anchored" } else { "smoothed" };
        let vs = match e {
            Expr::VectorSelector(vs) => vs,
            Expr::MatrixSelector(ms) => &mut ms.selector,
            Expr::Subquery(_) => {
                return self.semantic_err(
                    pos,
                    format!("{name} modifier is not supported for subqueries"),
                );
            }
            _ => return self.semantic_err(pos, format!("{name} modifier not implemented")),
        };
        if anchored {
            vs.anchored = true;
        } else {
            vs.smoothed = true;
        }
        if vs.anchored && vs.smoothed {
            self.semantic_err(
                pos,
                "anchored and smoothed modifiers cannot be used together",
            );
        }
    }
}

/// Parses a number as Prometheus does: Go integer syntax (`0x1f`, `0o17`, `017`,
/// `1_000`), else a float (incl. `Inf`, `NaN`).
pub fn parse_number(text: &str) -> Option<f64> {
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "inf" | "+inf" => return Some(f64::INFINITY),
        "-inf" => return Some(f64::NEG_INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    let int = |s: &str, radix: u32| -> Option<f64> {
        let s = s.strip_prefix('_').unwrap_or(s);
        if s.is_empty() || s.starts_with('_') || s.ends_with('_') || s.contains("__") {
            return None;
        }
        i64::from_str_radix(&s.replace('_', ""), radix)
            .ok()
            .map(|v| v as f64)
    };
    let as_int = if let Some(h) = lower.strip_prefix("0x") {
        int(h, 16)
    } else if let Some(o) = lower.strip_prefix("0o") {
        int(o, 8)
    } else if let Some(b) = lower.strip_prefix("0b") {
        int(b, 2)
    } else if lower.len() > 1
        && lower.starts_with('0')
        && lower.bytes().all(|c| c.is_ascii_digit() || c == b'_')
    {
        int(&lower[1..], 8)
    } else if lower.bytes().all(|c| c.is_ascii_digit() || c == b'_') {
        int(&lower, 10)
    } else {
        None
    };
    if as_int.is_some() {
        return as_int;
    }
    if lower.starts_with("0x") {
        return None; // hexadecimal floats are not produced by the lexer
    }
    if lower.contains('_') {
        return None;
    }
    lower.parse::<f64>().ok()
}
