//! Duration parsing for ranges, subquery steps and offsets, including Prometheus 3
//! duration expressions (`[5m+1m]`, `[step()]`, `offset min_of(step(), 1s)`).

use super::ast::{Duration, DurationExpr, DurationOp, MAX_DURATION_SECONDS, NumberLiteral};
use super::lexer::TokenKind;
use super::parser::{PResult, Parser};

impl Parser<'_> {
    fn at_duration_fn(&self) -> Option<&'static str> {
        ["step", "range", "min_of", "max_of"]
            .into_iter()
            .find(|k| self.at_kw(k) && self.peek_n(1).kind == TokenKind::LParen)
    }

    /// True when the next token can start a duration expression.
    pub(super) fn starts_duration(&self) -> bool {
        matches!(
            self.peek().kind,
            TokenKind::Number
                | TokenKind::Duration
                | TokenKind::LParen
                | TokenKind::Add
                | TokenKind::Sub
        ) || self.at_duration_fn().is_some()
    }

    /// A range or subquery step: must be > 0 when it is a literal.
    pub(super) fn positive_duration(&mut self) -> PResult<Duration> {
        let start = self.peek().start;
        let e = self.dur_expr(0)?;
        match e {
            DurationExpr::Number(n) => {
                if n.value <= 0.0 {
                    return Err(self.err_at(start, "duration must be greater than 0"));
                }
                Ok(Duration::Ms(seconds_to_ms(n.value)))
            }
            e => Ok(Duration::Expr(e)),
        }
    }

    /// The duration after `offset`. A literal, a signed literal, `step()`, `range()`,
    /// `min_of()`/`max_of()` (optionally signed) end the offset, so `x offset 1m + 2`
    /// is `(x offset 1m) + 2`; a parenthesised expression may continue with operators.
    pub(super) fn offset_duration(&mut self) -> PResult<Duration> {
        let t = self.peek().clone();
        let neg = match t.kind {
            TokenKind::Add | TokenKind::Sub => {
                self.next();
                t.kind == TokenKind::Sub
            }
            _ => false,
        };
        let e = match self.peek().kind {
            TokenKind::Number | TokenKind::Duration => self.dur_literal()?,
            TokenKind::LParen if neg => self.dur_primary()?,
            TokenKind::LParen => {
                let p = self.dur_primary()?;
                self.dur_binary(p, 0)?
            }
            _ if self.at_duration_fn().is_some() => self.dur_primary()?,
            _ => return Err(self.unexpected("offset", "number, duration, step(), or range()")),
        };
        let e = if neg { negate(e) } else { e };
        Ok(match e {
            DurationExpr::Number(n) => Duration::Ms(seconds_to_ms(n.value)),
            e => Duration::Expr(e),
        })
    }

    fn dur_expr(&mut self, min_prec: u8) -> PResult<DurationExpr> {
        let lhs = self.dur_unary()?;
        self.dur_binary(lhs, min_prec)
    }

    fn dur_binary(&mut self, mut lhs: DurationExpr, min_prec: u8) -> PResult<DurationExpr> {
        loop {
            let (op, prec) = match self.peek().kind {
                TokenKind::Add => (DurationOp::Add, 1),
                TokenKind::Sub => (DurationOp::Sub, 1),
                TokenKind::Mul => (DurationOp::Mul, 2),
                TokenKind::Div => (DurationOp::Div, 2),
                TokenKind::Mod => (DurationOp::Mod, 2),
                TokenKind::Pow => (DurationOp::Pow, 3),
                _ => return Ok(lhs),
            };
            if prec < min_prec {
                return Ok(lhs);
            }
            let op_tok = self.next();
            let rhs = self.dur_expr(if op == DurationOp::Pow {
                prec
            } else {
                prec + 1
            })?;
            if let DurationExpr::Number(n) = &rhs {
                if n.value == 0.0 && op == DurationOp::Div {
                    return Err(self.err_at(op_tok.start, "division by zero"));
                }
                if n.value == 0.0 && op == DurationOp::Mod {
                    return Err(self.err_at(op_tok.start, "modulo by zero"));
                }
            }
            lhs = DurationExpr::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            };
        }
    }

    fn dur_unary(&mut self) -> PResult<DurationExpr> {
        match self.peek().kind {
            TokenKind::Add | TokenKind::Sub => {
                let t = self.next();
                // Unary operators bind like `*`: only `^` binds tighter.
                let e = self.dur_expr(3)?;
                if t.kind == TokenKind::Sub {
                    let e = negate(e);
                    if let DurationExpr::Number(n) = &e
                        && out_of_range(n.value)
                    {
                        return Err(self.err_at(t.start, "duration out of range"));
                    }
                    Ok(e)
                } else {
                    Ok(e)
                }
            }
            _ => self.dur_primary(),
        }
    }

    fn dur_literal(&mut self) -> PResult<DurationExpr> {
        let t = self.next();
        let n = self.number_literal(&t)?;
        if out_of_range(n.value) || n.value.is_nan() {
            return Err(self.err_at(t.start, "duration out of range"));
        }
        Ok(DurationExpr::Number(n))
    }

    fn dur_primary(&mut self) -> PResult<DurationExpr> {
        let ctx = (
            "duration expression",
            "number, duration, step(), or range()",
        );
        match self.peek().kind {
            TokenKind::Number | TokenKind::Duration => self.dur_literal(),
            TokenKind::LParen => {
                self.next();
                let e = self.dur_expr(0)?;
                self.expect(TokenKind::RParen, "duration expression", "\")\"")?;
                Ok(match e {
                    DurationExpr::Paren(_) => e,
                    e => DurationExpr::Paren(Box::new(e)),
                })
            }
            _ => match self.at_duration_fn() {
                Some(name @ ("step" | "range")) => {
                    self.next();
                    self.next();
                    self.expect(TokenKind::RParen, "duration expression", "\")\"")?;
                    Ok(if name == "step" {
                        DurationExpr::Step
                    } else {
                        DurationExpr::Range
                    })
                }
                Some(name) => {
                    self.next();
                    self.next();
                    let a = self.dur_expr(0)?;
                    self.expect(TokenKind::Comma, "duration expression", "\",\"")?;
                    let b = self.dur_expr(0)?;
                    self.expect(TokenKind::RParen, "duration expression", "\")\"")?;
                    let (a, b) = (Box::new(a), Box::new(b));
                    Ok(if name == "min_of" {
                        DurationExpr::MinOf(a, b)
                    } else {
                        DurationExpr::MaxOf(a, b)
                    })
                }
                None => Err(self.unexpected(ctx.0, ctx.1)),
            },
        }
    }
}

fn negate(e: DurationExpr) -> DurationExpr {
    match e {
        DurationExpr::Number(n) => DurationExpr::Number(NumberLiteral {
            value: -n.value,
            duration: n.duration,
        }),
        e => DurationExpr::Neg(Box::new(e)),
    }
}

fn out_of_range(secs: f64) -> bool {
    !(-MAX_DURATION_SECONDS..=MAX_DURATION_SECONDS).contains(&secs)
}

fn seconds_to_ms(secs: f64) -> i64 {
    (secs * 1000.0).round() as i64
}
