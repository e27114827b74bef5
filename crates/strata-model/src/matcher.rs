//! Label matchers (`=`, `!=`, `=~`, `!~`) and a parser for series selectors such as
//! `up{job=~"api|web", instance!=""}`.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::gofmt::go_quote;
use crate::labels::{Labels, METRIC_NAME};
use crate::regex::PromRegex;

/// The four matcher operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchType {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl MatchType {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Equal => "=",
            MatchType::NotEqual => "!=",
            MatchType::Regex => "=~",
            MatchType::NotRegex => "!~",
        }
    }
}

/// One label matcher. A missing label matches as the empty string, as in Prometheus.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: String,
    pub kind: MatchType,
    pub value: String,
    re: Option<Arc<PromRegex>>,
}

impl Matcher {
    /// Builds a matcher; regex matchers are compiled here with Prometheus semantics.
    pub fn new(kind: MatchType, name: impl Into<String>, value: impl Into<String>) -> Result<Self> {
        let name = name.into();
        let value = value.into();
        let re = match kind {
            MatchType::Regex | MatchType::NotRegex => {
                Some(Arc::new(PromRegex::new(&name, &value)?))
            }
            _ => None,
        };
        Ok(Matcher {
            name,
            kind,
            value,
            re,
        })
    }

    /// `name="value"`.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Matcher {
            name: name.into(),
            kind: MatchType::Equal,
            value: value.into(),
            re: None,
        }
    }

    /// True when `v` (the label's value, or "" when absent) satisfies the matcher.
    pub fn matches(&self, v: &str) -> bool {
        match self.kind {
            MatchType::Equal => self.value == v,
            MatchType::NotEqual => self.value != v,
            MatchType::Regex => self.re.as_ref().is_some_and(|r| r.is_match(v)),
            MatchType::NotRegex => !self.re.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }

    /// True when the matcher accepts series that lack the label.
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    /// The compiled regex of a `=~`/`!~` matcher.
    pub fn regex(&self) -> Option<&PromRegex> {
        self.re.as_deref()
    }

    /// True when every matcher accepts `labels`.
    pub fn all_match(matchers: &[Matcher], labels: &Labels) -> bool {
        matchers
            .iter()
            .all(|m| m.matches(labels.get(&m.name).unwrap_or("")))
    }
}

impl PartialEq for Matcher {
    fn eq(&self, o: &Self) -> bool {
        self.name == o.name && self.kind == o.kind && self.value == o.value
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{}",
            self.name,
            self.kind.as_str(),
            go_quote(&self.value)
        )
    }
}

/// Parses a series selector: `metric`, `{matchers}` or `metric{matchers}`. Like
/// Prometheus' `ParseMetricSelector`, it accepts selectors whose matchers all match the
/// empty string (`{__name__=~".*"}`); query languages add that check themselves.
pub fn parse_selector(input: &str) -> Result<Vec<Matcher>> {
    let err = |reason: &str| Error::InvalidSelector {
        selector: input.to_owned(),
        reason: reason.to_owned(),
    };
    let s = input.trim();
    let mut p = Cursor { s, i: 0 };
    let mut out = Vec::new();
    let name = p.ident();
    if !name.is_empty() {
        out.push(Matcher::equal(METRIC_NAME, name));
    }
    p.ws();
    if p.eat('{') {
        loop {
            p.ws();
            if p.eat('}') {
                break;
            }
            let lname = if p.peek() == Some('"') {
                p.quoted().map_err(|e| err(&e))?
            } else {
                p.ident().to_owned()
            };
            if lname.is_empty() {
                return Err(err("expected a label name"));
            }
            p.ws();
            let op = if p.eat_str("=~") {
                MatchType::Regex
            } else if p.eat_str("!~") {
                MatchType::NotRegex
            } else if p.eat_str("!=") {
                MatchType::NotEqual
            } else if p.eat('=') {
                MatchType::Equal
            } else {
                return Err(err(&format!("expected a matcher operator after {lname:?}")));
            };
            p.ws();
            let value = p.quoted().map_err(|e| err(&e))?;
            out.push(Matcher::new(op, lname, value)?);
            p.ws();
            if p.eat(',') {
                continue;
            }
            if p.eat('}') {
                break;
            }
            return Err(err("expected ',' or '}'"));
        }
    }
    p.ws();
    if p.i != p.s.len() {
        return Err(err("unexpected trailing characters"));
    }
    if out.is_empty() {
        return Err(err(
            "a selector needs a metric name or at least one matcher",
        ));
    }
    Ok(out)
}

struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<char> {
        self.s[self.i..].chars().next()
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.i += c.len_utf8();
            true
        } else {
            false
        }
    }
    fn eat_str(&mut self, t: &str) -> bool {
        if self.s[self.i..].starts_with(t) {
            self.i += t.len();
            true
        } else {
            false
        }
    }
    fn ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.i += 1;
        }
    }
    fn ident(&mut self) -> &'a str {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                self.i += 1;
            } else {
                break;
            }
        }
        &self.s[start..self.i]
    }
    /// A Go string literal in double quotes, single quotes or backticks.
    fn quoted(&mut self) -> std::result::Result<String, String> {
        let q = self.peek().ok_or("expected a quoted string")?;
        if !matches!(q, '"' | '\'' | '`') {
            return Err("expected a quoted string".into());
        }
        self.i += 1;
        let mut out = String::new();
        while let Some(c) = self.peek() {
            self.i += c.len_utf8();
            if c == q {
                return Ok(out);
            }
            if c == '\\' && q != '`' {
                let e = self.peek().ok_or("unterminated escape")?;
                self.i += e.len_utf8();
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'v' => out.push('\u{b}'),
                    '\\' | '"' | '\'' => out.push(e),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex = self.s.get(self.i..self.i + n).ok_or("short escape")?;
                        let cp = u32::from_str_radix(hex, 16).map_err(|_| "bad hex escape")?;
                        out.push(char::from_u32(cp).ok_or("invalid code point")?);
                        self.i += n;
                    }
                    _ => return Err(format!("unknown escape sequence \\{e}")),
                }
            } else {
                out.push(c);
            }
        }
        Err("unterminated string".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_selectors() {
        let m = parse_selector(r#"up{job=~"a|b", instance!="x", "service.name"='y'}"#).unwrap();
        assert_eq!(m.len(), 4);
        assert_eq!(m[0].to_string(), r#"__name__="up""#);
        assert_eq!(m[1].kind, MatchType::Regex);
        assert_eq!(m[3].name, "service.name");
        assert!(parse_selector(r#"{__name__=~'(?s:.*)'}"#).is_ok());
        assert!(parse_selector(r#"{__name__=~".+"}"#).is_ok());
        assert!(parse_selector("up{").is_err());
    }

    #[test]
    fn missing_label_matches_empty() {
        let l = Labels::new(&[("a", "1")]).unwrap();
        assert!(Matcher::all_match(
            &[Matcher::new(MatchType::Equal, "b", "").unwrap()],
            &l
        ));
        assert!(!Matcher::all_match(
            &[Matcher::new(MatchType::Regex, "b", ".+").unwrap()],
            &l
        ));
    }
}
