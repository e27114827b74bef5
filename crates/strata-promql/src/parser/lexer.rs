//! The PromQL lexer: turns a query into tokens with byte positions.
//!
//! Like Prometheus' lexer it is mode-dependent: inside `{…}` only label names, strings,
//! matcher operators and commas exist; inside `[…]` only duration-expression tokens
//! (`5m`, `+`, `step`, `:` …). A lexical error becomes an [`TokenKind::Error`] token so
//! that syntax errors earlier in the input are still reported first.

use super::strings::unquote;

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// A number as written (`1`, `0x1F`, `1e3`, `Inf`, `NaN`).
    Number,
    /// A duration as written (`5m`, `1h30m`).
    Duration,
    /// A string literal, already unquoted.
    Str(String),
    /// An identifier or keyword (`rate`, `by`, `offset`); keywords are recognised by
    /// the parser (case-insensitively).
    Ident,
    /// An identifier containing `:` (`job:rate5m`); never a keyword.
    MetricIdent,
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
    At,
    /// `=` (label matching).
    Eql,
    /// `=~`.
    EqlRegex,
    /// `!~`.
    NeqRegex,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    EqlC,
    Neq,
    Lss,
    Lte,
    Gtr,
    Gte,
    TrimUpper,
    TrimLower,
    /// A lexical error; the message follows Prometheus' wording.
    Error(String),
    Eof,
}

/// A token and its byte range `[start, end)` in the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// Prometheus' description of a token in "unexpected …" messages.
    pub fn desc(&self, input: &str) -> String {
        let text = input.get(self.start..self.end).unwrap_or("");
        match &self.kind {
            TokenKind::Eof => "end of input".into(),
            TokenKind::Number => format!("number {text:?}"),
            TokenKind::Duration => format!("duration {text:?}"),
            TokenKind::Str(_) => format!("string {text:?}"),
            TokenKind::Ident if is_keyword(text) => format!("{:?}", text.to_ascii_lowercase()),
            TokenKind::Ident => format!("identifier {text:?}"),
            TokenKind::MetricIdent => format!("metric identifier {text:?}"),
            TokenKind::Error(m) => m.clone(),
            _ => text.to_string(),
        }
    }
}

const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "atan2",
    "sum",
    "avg",
    "count",
    "min",
    "max",
    "group",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "count_values",
    "quantile",
    "limitk",
    "limit_ratio",
    "offset",
    "smoothed",
    "anchored",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "fill",
    "fill_left",
    "fill_right",
    "bool",
    "start",
    "end",
    "step",
    "range",
    "max_of",
    "min_of",
];

/// True when `word` is a PromQL keyword (case-insensitive).
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

fn is_alpha(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic()
}

fn is_alnum(c: u8) -> bool {
    is_alpha(c) || c.is_ascii_digit()
}

/// Splits `input` into tokens; the last token is `Eof` or `Error`.
pub fn lex(input: &str) -> Vec<Token> {
    let mut l = Lexer {
        input,
        b: input.as_bytes(),
        pos: 0,
        tokens: Vec::new(),
        paren_depth: 0,
        brace_open: false,
        bracket_open: false,
    };
    l.run();
    l.tokens
}

struct Lexer<'a> {
    input: &'a str,
    b: &'a [u8],
    pos: usize,
    tokens: Vec<Token>,
    paren_depth: i64,
    brace_open: bool,
    bracket_open: bool,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn peek_at(&self, off: usize) -> Option<u8> {
        self.b.get(self.pos + off).copied()
    }

    fn emit(&mut self, kind: TokenKind, start: usize) {
        self.tokens.push(Token {
            kind,
            start,
            end: self.pos,
        });
    }

    fn error(&mut self, msg: String, start: usize) {
        self.tokens.push(Token {
            kind: TokenKind::Error(msg),
            start,
            end: self.pos.max(start),
        });
    }

    /// The character at the current position (for error messages).
    fn cur_char(&self) -> char {
        self.input
            .get(self.pos..)
            .and_then(|s| s.chars().next())
            .unwrap_or('\0')
    }

    fn run(&mut self) {
        loop {
            if self.brace_open {
                if !self.lex_inside_braces() {
                    return;
                }
                continue;
            }
            let start = self.pos;
            let Some(c) = self.peek() else {
                if self.paren_depth > 0 {
                    self.error("unclosed left parenthesis".into(), start);
                } else if self.bracket_open {
                    self.error("unclosed left bracket".into(), start);
                } else {
                    self.emit(TokenKind::Eof, start);
                }
                return;
            };
            if c == b'#' {
                while let Some(c) = self.peek() {
                    if c == b'\n' {
                        break;
                    }
                    self.pos += 1;
                }
                continue;
            }
            if c.is_ascii_whitespace() {
                self.pos += 1;
                continue;
            }
            let single = |k: TokenKind| Some((k, 1usize));
            let two = |k: TokenKind| Some((k, 2usize));
            let next = self.peek_at(1);
            let op = match c {
                b',' => single(TokenKind::Comma),
                b'*' => single(TokenKind::Mul),
                b'/' => single(TokenKind::Div),
                b'%' => single(TokenKind::Mod),
                b'+' => single(TokenKind::Add),
                b'-' => single(TokenKind::Sub),
                b'^' => single(TokenKind::Pow),
                b'@' if !self.bracket_open => single(TokenKind::At),
                b'=' => match next {
                    Some(b'=') => two(TokenKind::EqlC),
                    Some(b'~') => {
                        self.pos += 1;
                        self.error("unexpected character after '=': '~'".into(), start);
                        return;
                    }
                    _ => single(TokenKind::Eql),
                },
                b'!' => match next {
                    Some(b'=') => two(TokenKind::Neq),
                    _ => {
                        self.pos += 1;
                        let ch = self.cur_char();
                        self.error(format!("unexpected character after '!': {ch:?}"), start);
                        return;
                    }
                },
                b'<' => match next {
                    Some(b'=') => two(TokenKind::Lte),
                    Some(b'/') => two(TokenKind::TrimUpper),
                    _ => single(TokenKind::Lss),
                },
                b'>' => match next {
                    Some(b'=') => two(TokenKind::Gte),
                    Some(b'/') => two(TokenKind::TrimLower),
                    _ => single(TokenKind::Gtr),
                },
                _ => None,
            };
            if let Some((kind, n)) = op {
                self.pos += n;
                self.emit(kind, start);
                continue;
            }
            match c {
                b'(' => {
                    self.pos += 1;
                    self.paren_depth += 1;
                    self.emit(TokenKind::LParen, start);
                }
                b')' => {
                    self.pos += 1;
                    self.paren_depth -= 1;
                    if self.paren_depth < 0 {
                        self.error("unexpected right parenthesis ')'".into(), start);
                        return;
                    }
                    self.emit(TokenKind::RParen, start);
                }
                b'{' if !self.bracket_open => {
                    self.pos += 1;
                    self.brace_open = true;
                    self.emit(TokenKind::LBrace, start);
                }
                b'[' => {
                    self.pos += 1;
                    if self.bracket_open {
                        self.error("unexpected left bracket '['".into(), start);
                        return;
                    }
                    self.bracket_open = true;
                    self.emit(TokenKind::LBracket, start);
                }
                b']' => {
                    self.pos += 1;
                    if !self.bracket_open {
                        self.error("unexpected right bracket ']'".into(), start);
                        return;
                    }
                    self.bracket_open = false;
                    self.emit(TokenKind::RBracket, start);
                }
                b':' if self.bracket_open => {
                    self.pos += 1;
                    self.emit(TokenKind::Colon, start);
                }
                b'"' | b'\'' | b'`' if !self.bracket_open => {
                    if !self.lex_string(c) {
                        return;
                    }
                }
                c if c.is_ascii_digit()
                    || (c == b'.' && next.is_some_and(|n| n.is_ascii_digit())) =>
                {
                    if !self.lex_number_or_duration() {
                        return;
                    }
                }
                c if self.bracket_open && is_alpha(c) => {
                    while self.peek().is_some_and(is_alpha) {
                        self.pos += 1;
                    }
                    let word = &self.input[start..self.pos];
                    if ["step", "range", "min_of", "max_of"]
                        .iter()
                        .any(|k| k.eq_ignore_ascii_case(word))
                    {
                        self.emit(TokenKind::Ident, start);
                    } else {
                        self.pos = start;
                        let ch = self.cur_char();
                        self.pos += 1;
                        self.error(
                            format!("unexpected character in duration expression: {ch:?}"),
                            start,
                        );
                        return;
                    }
                }
                c if is_alpha(c) || c == b':' => {
                    let mut has_colon = false;
                    while let Some(c) = self.peek() {
                        if is_alnum(c) {
                        } else if c == b':' {
                            has_colon = true;
                        } else {
                            break;
                        }
                        self.pos += 1;
                    }
                    let word = &self.input[start..self.pos];
                    if has_colon {
                        self.emit(TokenKind::MetricIdent, start);
                    } else if word.eq_ignore_ascii_case("inf") || word.eq_ignore_ascii_case("nan") {
                        self.emit(TokenKind::Number, start);
                    } else {
                        self.emit(TokenKind::Ident, start);
                    }
                }
                _ => {
                    let ch = self.cur_char();
                    self.pos += ch.len_utf8().max(1);
                    let msg = if self.bracket_open {
                        format!("unexpected character in duration expression: {ch:?}")
                    } else {
                        format!("unexpected character: {ch:?}")
                    };
                    self.error(msg, start);
                    return;
                }
            }
        }
    }

    /// Lexes one token inside `{…}`; false after an error.
    fn lex_inside_braces(&mut self) -> bool {
        let start = self.pos;
        let Some(c) = self.peek() else {
            self.error("unexpected end of input inside braces".into(), start);
            return false;
        };
        let next = self.peek_at(1);
        match c {
            c if c.is_ascii_whitespace() => self.pos += 1,
            b'#' => {
                while self.peek().is_some_and(|c| c != b'\n') {
                    self.pos += 1;
                }
            }
            c if is_alpha(c) => {
                while self.peek().is_some_and(is_alnum) {
                    self.pos += 1;
                }
                self.emit(TokenKind::Ident, start);
            }
            b',' => {
                self.pos += 1;
                self.emit(TokenKind::Comma, start);
            }
            b'"' | b'\'' | b'`' => return self.lex_string(c),
            b'=' => {
                let (k, n) = if next == Some(b'~') {
                    (TokenKind::EqlRegex, 2)
                } else {
                    (TokenKind::Eql, 1)
                };
                self.pos += n;
                self.emit(k, start);
            }
            b'!' => {
                let k = match next {
                    Some(b'~') => TokenKind::NeqRegex,
                    Some(b'=') => TokenKind::Neq,
                    _ => {
                        self.pos += 1;
                        let ch = self.cur_char();
                        self.error(
                            format!("unexpected character after '!' inside braces: {ch:?}"),
                            start,
                        );
                        return false;
                    }
                };
                self.pos += 2;
                self.emit(k, start);
            }
            b'{' => {
                self.pos += 1;
                self.error("unexpected left brace '{'".into(), start);
                return false;
            }
            b'}' => {
                self.pos += 1;
                self.brace_open = false;
                self.emit(TokenKind::RBrace, start);
            }
            _ => {
                let ch = self.cur_char();
                self.pos += ch.len_utf8().max(1);
                self.error(format!("unexpected character inside braces: {ch:?}"), start);
                return false;
            }
        }
        true
    }

    /// Lexes a quoted string starting at the quote; false after an error.
    fn lex_string(&mut self, quote: u8) -> bool {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.peek() {
                None => {
                    let msg = if quote == b'`' {
                        "unterminated raw string"
                    } else {
                        "unterminated quoted string"
                    };
                    self.error(msg.into(), start);
                    return false;
                }
                Some(b'\n') if quote != b'`' => {
                    self.error("unterminated quoted string".into(), start);
                    return false;
                }
                Some(b'\\') if quote != b'`' => self.pos += 2,
                Some(c) if c == quote => {
                    self.pos += 1;
                    break;
                }
                Some(_) => self.pos += 1,
            }
        }
        let raw = &self.input[start..self.pos];
        match unquote(raw) {
            Ok(s) => {
                self.emit(TokenKind::Str(s), start);
                true
            }
            Err(e) => {
                self.error(e, start);
                false
            }
        }
    }

    /// Scans a number (Prometheus' `scanNumber`); true when it is a valid number token.
    fn scan_number(&mut self) -> bool {
        let initial = self.pos;
        let mut digits: fn(u8) -> bool = |c| c.is_ascii_digit();
        let mut hex = false;
        if self.peek() == Some(b'0') && matches!(self.peek_at(1), Some(b'x' | b'X')) {
            self.pos += 2;
            if self.peek() == Some(b'_') {
                self.pos += 1;
            }
            digits = |c| c.is_ascii_hexdigit();
            hex = true;
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
        }
        if self.peek().is_some_and(digits) {
            self.pos += 1;
        }
        let (mut dot, mut exp) = (false, false);
        while let Some(c) = self.peek() {
            if c == b'.' {
                self.pos += 1;
                if dot || hex || matches!(self.peek(), Some(b'_' | b'.')) {
                    return false;
                }
                dot = true;
            } else if !hex && (c == b'e' || c == b'E') {
                self.pos += 1;
                if exp {
                    return false;
                }
                exp = true;
                if matches!(self.peek(), Some(b'+' | b'-')) {
                    self.pos += 1;
                }
                if matches!(self.peek(), None | Some(b'.' | b'_' | b'e' | b'E')) {
                    return false;
                }
            } else if c == b'_' {
                self.pos += 1;
                if matches!(self.peek(), None | Some(b'.' | b'_' | b'e' | b'E')) {
                    return false;
                }
            } else if digits(c) {
                self.pos += 1;
            } else {
                break;
            }
        }
        self.pos != initial && !self.peek().is_some_and(is_alnum)
    }

    fn lex_number_or_duration(&mut self) -> bool {
        let start = self.pos;
        if self.scan_number() {
            self.emit(TokenKind::Number, start);
            return true;
        }
        // A duration: the number part is followed by unit groups.
        let mut ok = false;
        if self.peek().is_some_and(|c| b"smhdwy".contains(&c)) {
            self.pos += 1;
            if self.peek() == Some(b's') {
                self.pos += 1;
            }
            ok = true;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                if self.peek().is_some_and(|c| b"smhdw".contains(&c)) {
                    self.pos += 1;
                    if self.peek() == Some(b's') {
                        self.pos += 1;
                    }
                } else {
                    ok = false;
                    break;
                }
            }
            if ok && self.peek().is_some_and(is_alnum) {
                ok = false;
            }
        }
        if ok {
            self.emit(TokenKind::Duration, start);
            return true;
        }
        if self.pos < self.b.len() {
            self.pos += 1;
        }
        while !self.input.is_char_boundary(self.pos) {
            self.pos += 1;
        }
        let text = self.input.get(start..self.pos).unwrap_or("");
        self.error(format!("bad number or duration syntax: {text:?}"), start);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<TokenKind> {
        lex(s).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn lexes_numbers_and_durations() {
        use TokenKind::*;
        assert_eq!(
            kinds("1 0x1F 1.5e3 .5 Inf nan"),
            vec![Number; 6].into_iter().chain([Eof]).collect::<Vec<_>>()
        );
        assert_eq!(
            kinds("x[1h30m]"),
            vec![Ident, LBracket, Duration, RBracket, Eof]
        );
        assert_eq!(kinds("5ms"), vec![Duration, Eof]);
        assert!(matches!(kinds("1.5.3")[0], Error(_)));
    }

    #[test]
    fn unterminated_string_is_an_error() {
        assert!(matches!(kinds("\"abc")[0], TokenKind::Error(_)));
    }

    #[test]
    fn lexes_operators_and_identifiers() {
        use TokenKind::*;
        assert_eq!(
            kinds("a:b >= c </ d >/ e != f == g # comment"),
            vec![
                MetricIdent,
                Gte,
                Ident,
                TrimUpper,
                Ident,
                TrimLower,
                Ident,
                Neq,
                Ident,
                EqlC,
                Ident,
                Eof
            ]
        );
        assert_eq!(
            kinds(r#"{a=~"x", "b.c"!~'y', d!=`z`}"#),
            vec![
                LBrace,
                Ident,
                EqlRegex,
                Str("x".into()),
                Comma,
                Str("b.c".into()),
                NeqRegex,
                Str("y".into()),
                Comma,
                Ident,
                Neq,
                Str("z".into()),
                RBrace,
                Eof
            ]
        );
        assert_eq!(kinds("x[5m:1m]")[3], Colon);
    }
}
