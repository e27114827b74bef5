//! A byte cursor over one line of input, with the small lexing helpers both formats share.
//!
//! Errors are plain `String` reasons here; the parser adds the line number.

use std::borrow::Cow;

/// Position within a single line (the line never contains `\n`).
pub(crate) struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

/// True for bytes that may continue a legacy metric name (`[a-zA-Z0-9_:]`).
pub(crate) fn is_metric_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

/// True for bytes that may continue a legacy label name (`[a-zA-Z0-9_]`).
pub(crate) fn is_label_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn set_pos(&mut self, pos: usize) {
        self.pos = pos.min(self.s.len());
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    /// The unread rest of the line.
    pub(crate) fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    /// Consumes `b` if it is next.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes `prefix` if the rest starts with it.
    pub(crate) fn eat_str(&mut self, prefix: &str) -> bool {
        if self.rest().starts_with(prefix) {
            self.pos += prefix.len();
            true
        } else {
            false
        }
    }

    /// Skips spaces and tabs; returns how many were skipped.
    pub(crate) fn skip_ws(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Consumes the longest run of ASCII bytes accepted by `f`.
    fn take_ascii(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii() && f(b)) {
            self.pos += 1;
        }
        // Only ASCII bytes were consumed and the stop byte starts a character.
        self.s.get(start..self.pos).unwrap_or("")
    }

    /// Consumes everything up to the next space/tab (or the end of the line).
    pub(crate) fn take_token(&mut self) -> &'a str {
        let rest = self.rest();
        let n = rest.find([' ', '\t']).unwrap_or(rest.len());
        self.pos += n;
        rest.get(..n).unwrap_or("")
    }

    /// Consumes everything up to the next space (tabs included in the token).
    pub(crate) fn take_until_space(&mut self) -> &'a str {
        let rest = self.rest();
        let n = rest.find(' ').unwrap_or(rest.len());
        self.pos += n;
        rest.get(..n).unwrap_or("")
    }

    /// Consumes a legacy metric name `[a-zA-Z_:][a-zA-Z0-9_:]*`, if one starts here.
    pub(crate) fn metric_name(&mut self) -> Option<&'a str> {
        match self.peek() {
            Some(b) if is_metric_char(b) && !b.is_ascii_digit() => {
                Some(self.take_ascii(is_metric_char))
            }
            _ => None,
        }
    }

    /// Consumes a legacy label name `[a-zA-Z_][a-zA-Z0-9_]*`, if one starts here.
    pub(crate) fn label_name(&mut self) -> Option<&'a str> {
        match self.peek() {
            Some(b) if is_label_char(b) && !b.is_ascii_digit() => {
                Some(self.take_ascii(is_label_char))
            }
            _ => None,
        }
    }

    /// Describes what comes next, for "expected X, got Y" messages.
    pub(crate) fn got(&self) -> String {
        let rest = self.rest();
        let Some(first) = rest.chars().next() else {
            return "end of line".to_owned();
        };
        let word: String = if first.is_ascii() && is_metric_char(first as u8) {
            rest.chars()
                .take_while(|c| c.is_ascii() && is_metric_char(*c as u8))
                .take(32)
                .collect()
        } else {
            first.to_string()
        };
        format!("{word:?}")
    }

    /// Consumes a double-quoted string starting here, resolving `\\`, `\"` and `\n`.
    /// Other backslash sequences are kept verbatim, as Prometheus does. Borrows unless an
    /// escape had to be resolved.
    pub(crate) fn quoted(&mut self) -> Result<Cow<'a, str>, String> {
        if !self.eat(b'"') {
            return Err(format!("expected '\"', got {}", self.got()));
        }
        let rest = self.rest();
        let bytes = rest.as_bytes();
        let mut i = 0;
        let mut escaped = false;
        while i < bytes.len() {
            match bytes[i] {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                _ => i += 1,
            }
        }
        if i >= bytes.len() {
            self.pos = self.s.len();
            return Err("unterminated quoted string".to_owned());
        }
        let raw = rest.get(..i).unwrap_or("");
        self.pos += i + 1;
        if !escaped {
            return Ok(Cow::Borrowed(raw));
        }
        Ok(Cow::Owned(unescape(raw, true)))
    }
}

/// Resolves `\\`, `\n` and (if `quote`) `\"`; keeps any other backslash sequence verbatim.
pub(crate) fn unescape(raw: &str, quote: bool) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if quote => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Unescapes only when the text contains a backslash.
pub(crate) fn unescape_cow(raw: &str, quote: bool) -> Cow<'_, str> {
    if raw.contains('\\') {
        Cow::Owned(unescape(raw, quote))
    } else {
        Cow::Borrowed(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_borrows_without_escapes() {
        let mut c = Cursor::new(r#""abc" x"#);
        assert!(matches!(c.quoted(), Ok(Cow::Borrowed("abc"))));
        assert_eq!(c.rest(), " x");
    }

    #[test]
    fn quoted_resolves_escapes() {
        let mut c = Cursor::new(r#""a\"b\\c\nd\te""#);
        assert_eq!(c.quoted().unwrap(), "a\"b\\c\nd\\te");
        assert!(c.at_end());
    }

    #[test]
    fn quoted_unterminated() {
        assert!(Cursor::new(r#""abc"#).quoted().is_err());
        assert!(Cursor::new(r#""abc\"#).quoted().is_err());
        assert!(Cursor::new(r#""abc\""#).quoted().is_err());
    }

    #[test]
    fn names() {
        let mut c = Cursor::new("a:b_1{");
        assert_eq!(c.metric_name(), Some("a:b_1"));
        assert_eq!(c.got(), "\"{\"");
        assert_eq!(Cursor::new("1a").metric_name(), None);
        assert_eq!(Cursor::new("a:b").label_name(), Some("a"));
        assert_eq!(Cursor::new("é").metric_name(), None);
    }
}
