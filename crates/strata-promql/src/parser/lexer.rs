//! The PromQL lexer: turns a query into tokens with byte positions.
//!
//! Like Prometheus' lexer it is mode-dependent: inside `{…}` only label names, strings,
//! matcher operators and commas exist; inside `[…]` only duration-expression tokens
//! (`5m`, `+`, `step`, `:` …). A lexical error becomes an [`TokenKind::Error`] token so
//! that syntax errors earlier in the input are still reported first.

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
                c if c.is_ascii_digit() || (c == b'.' && next.is_some_and(|n| n.is_ascii_digit())) => {
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
                    } else if word.eq_ignore_ascii_case("inf") || word.eq_ignore_ascii_case("nan")
                    {
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

/// Go strings may hold bytes that are not UTF-8 (`"a\xc5z"`). Such a byte `b` is kept
/// as the private-use character `U+10FF00 + b`, so that label-name validation in the
/// evaluator rejects it ([`has_raw_bytes`]) and printing restores `\xNN`.
pub const RAW_BYTE_BASE: u32 = 0x10FF00;

fn raw_byte_char(b: u8) -> char {
    char::from_u32(RAW_BYTE_BASE + u32::from(b)).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// The byte a [`RAW_BYTE_BASE`] character stands for.
pub fn raw_byte(c: char) -> Option<u8> {
    let v = u32::from(c);
    (RAW_BYTE_BASE..=RAW_BYTE_BASE + 0xFF)
        .contains(&v)
        .then(|| (v - RAW_BYTE_BASE) as u8)
}

/// True when a string literal contained bytes that are not valid UTF-8.
pub fn has_raw_bytes(s: &str) -> bool {
    s.chars().any(|c| raw_byte(c).is_some())
}

/// `strconv.Quote` of a string literal, rendering raw bytes as `\xNN`.
pub fn quote(s: &str) -> String {
    let mut q = strata_model::gofmt::go_quote(s);
    let mut bytes: Vec<u8> = s.chars().filter_map(raw_byte).collect();
    bytes.sort_unstable();
    bytes.dedup();
    for b in bytes {
        let c = raw_byte_char(b);
        q = q
            .replace(&format!("\\U{:08x}", u32::from(c)), &format!("\\x{b:02x}"))
            .replace(c, &format!("\\x{b:02x}"));
    }
    q
}

/// Unquotes a Go string literal (`"…"`, `'…'` with escapes, `` `…` `` raw).
pub fn unquote(s: &str) -> Result<String, String> {
    let bad = || "invalid syntax".to_string();
    let quote = s.chars().next().ok_or_else(bad)?;
    if s.len() < 2 || !s.ends_with(quote) {
        return Err(bad());
    }
    let inner = &s[1..s.len() - 1];
    if quote == '`' {
        return Ok(inner.replace('\r', ""));
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    let hex = |chars: &mut std::str::Chars<'_>, n: usize| -> Result<u32, String> {
        let mut v = 0u32;
        for _ in 0..n {
            let d = chars
                .next()
                .and_then(|c| c.to_digit(16))
                .ok_or_else(|| "escape sequence not terminated or invalid".to_string())?;
            v = v * 16 + d;
        }
        Ok(v)
    };
    let mut bytes: Vec<u8> = Vec::new();
    let flush = |bytes: &mut Vec<u8>, out: &mut String| -> Result<(), String> {
        let taken = std::mem::take(bytes);
        let mut rest: &[u8] = &taken;
        while !rest.is_empty() {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    out.push_str(s);
                    break;
                }
                Err(e) => {
                    let (valid, bad) = rest.split_at(e.valid_up_to());
                    out.push_str(std::str::from_utf8(valid).unwrap_or(""));
                    let n = e.error_len().unwrap_or(bad.len()).max(1);
                    for &b in &bad[..n.min(bad.len())] {
                        out.push(raw_byte_char(b));
                    }
                    rest = &bad[n.min(bad.len())..];
                }
            }
        }
        Ok::<(), String>(())
    };
    while let Some(c) = chars.next() {
        if c == quote {
            return Err(bad());
        }
        if c != '\\' {
            flush(&mut bytes, &mut out)?;
            out.push(c);
            continue;
        }
        let e = chars.next().ok_or_else(|| "escape sequence not terminated".to_string())?;
        let simple = match e {
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            '\\' => Some('\\'),
            '"' | '\'' if e == quote => Some(e),
            _ => None,
        };
        if let Some(ch) = simple {
            flush(&mut bytes, &mut out)?;
            out.push(ch);
            continue;
        }
        match e {
            'x' => bytes.push(hex(&mut chars, 2)? as u8),
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    let d = chars
                        .next()
                        .and_then(|c| c.to_digit(8))
                        .ok_or_else(|| "escape sequence not terminated".to_string())?;
                    v = v * 8 + d;
                }
                if v > 255 {
                    return Err("octal escape value > 255".into());
                }
                bytes.push(v as u8);
            }
            'u' | 'U' => {
                flush(&mut bytes, &mut out)?;
                let v = hex(&mut chars, if e == 'u' { 4 } else { 8 })?;
                let ch = char::from_u32(v)
                    .ok_or_else(|| "escape sequence is an invalid Unicode code point".to_string())?;
                out.push(ch);
            }
            other => return Err(format!("unknown escape sequence U+{:04X} '{other}'", other as u32)),
        }
    }
    flush(&mut bytes, &mut out)?;
    Ok(out)
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
        assert_eq!(kinds("1 0x1F 1.5e3 .5 Inf nan"), vec![Number; 6].into_iter().chain([Eof]).collect::<Vec<_>>());
        assert_eq!(kinds("x[1h30m]"), vec![Ident, LBracket, Duration, RBracket, Eof]);
        assert_eq!(kinds("5ms"), vec![Duration, Eof]);
        assert!(matches!(kinds("1.5.3")[0], Error(_)));
    }

    #[test]
    fn lexes_operators_and_identifiers() {
        use TokenKind::*;
        assert_eq!(
            kinds("a:b >= c </ d >/ e != f == g # comment"),
            vec![MetricIdent, Gte, Ident, TrimUpper, Ident, TrimLower, Ident, Neq, Ident, EqlC, Ident, Eof]
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

    #[test]
    fn unquotes_go_strings() {
        assert_eq!(unquote(r#""a\n\"b\x41\u00e9\101""#).unwrap(), "a\n\"bAéA");
        assert_eq!(unquote(r"'it\'s'").unwrap(), "it's");
        assert_eq!(unquote(r"`a\n`").unwrap(), "a\\n");
        assert!(unquote(r#""\q""#).is_err());
        let raw = unquote(r#""a\xc5z""#).unwrap();
        assert!(has_raw_bytes(&raw));
        assert_eq!(quote(&raw), r#""a\xc5z""#);
        assert!(matches!(kinds("\"abc")[0], TokenKind::Error(_)));
    }
}
