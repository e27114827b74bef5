//! Regular expressions with Prometheus semantics.
//!
//! Prometheus compiles a matcher's pattern as `^(?s:pattern)$` with Go's RE2: fully
//! anchored, `.` matches a newline, and `\d`, `\w`, `\s`, `\b` are ASCII-only. Rust's
//! `regex` makes those classes Unicode-aware, so the pattern is rewritten first. Common
//! shapes (a literal, a set of literal alternatives, `prefix.*`, `.*suffix`, `.*x.*`, `.*`,
//! `.+`) skip the regex engine entirely; the postings layer uses the same analysis to
//! look up exact label values instead of scanning.

use regex::Regex;

use crate::error::{Error, Result};

/// A compiled, fully anchored Prometheus regular expression.
#[derive(Debug, Clone)]
pub struct PromRegex {
    pattern: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// Matches exactly one of these strings (sorted, deduplicated).
    Set(Vec<String>),
    Prefix(String),
    Suffix(String),
    Contains(String),
    /// `.*`
    Any,
    /// `.+`
    NonEmpty,
    /// Anything else, compiled.
    Compiled(Regex),
}

const META: &[char] = &[
    '\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$',
];

fn is_literal(s: &str) -> bool {
    !s.contains(META)
}

impl PromRegex {
    /// Compiles `pattern` with Prometheus semantics. `label` names the matcher in errors.
    pub fn new(label: &str, pattern: &str) -> Result<Self> {
        let kind = Self::analyse(pattern).map_or_else(
            || {
                let rewritten = rewrite_ascii_classes(pattern);
                Regex::new(&format!("^(?s:{rewritten})$"))
                    .map(Kind::Compiled)
                    .map_err(|e| Error::InvalidRegex {
                        name: label.to_owned(),
                        pattern: pattern.to_owned(),
                        reason: e.to_string(),
                    })
            },
            Ok,
        )?;
        Ok(PromRegex {
            pattern: pattern.to_owned(),
            kind,
        })
    }

    fn analyse(p: &str) -> Option<Kind> {
        if p == ".*" {
            return Some(Kind::Any);
        }
        if p == ".+" {
            return Some(Kind::NonEmpty);
        }
        let inner = p
            .strip_prefix('(')
            .and_then(|s| s.strip_suffix(')'))
            .unwrap_or(p);
        let inner = inner.strip_prefix("?:").unwrap_or(inner);
        if inner.split('|').all(is_literal) {
            let mut v: Vec<String> = inner.split('|').map(str::to_owned).collect();
            v.sort();
            v.dedup();
            return Some(Kind::Set(v));
        }
        if let Some(mid) = p.strip_prefix(".*").and_then(|s| s.strip_suffix(".*"))
            && is_literal(mid)
        {
            return Some(Kind::Contains(mid.to_owned()));
        }
        if let Some(pre) = p.strip_suffix(".*")
            && is_literal(pre)
        {
            return Some(Kind::Prefix(pre.to_owned()));
        }
        if let Some(suf) = p.strip_prefix(".*")
            && is_literal(suf)
        {
            return Some(Kind::Suffix(suf.to_owned()));
        }
        None
    }

    /// The source pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// True when the whole of `s` matches.
    pub fn is_match(&self, s: &str) -> bool {
        match &self.kind {
            Kind::Set(v) => v.binary_search_by(|x| x.as_str().cmp(s)).is_ok(),
            Kind::Prefix(p) => s.starts_with(p.as_str()),
            Kind::Suffix(p) => s.ends_with(p.as_str()),
            Kind::Contains(p) => s.contains(p.as_str()),
            Kind::Any => true,
            Kind::NonEmpty => !s.is_empty(),
            Kind::Compiled(r) => r.is_match(s),
        }
    }

    /// When the regex matches only a finite set of literal strings, that set (sorted).
    pub fn set_matches(&self) -> Option<&[String]> {
        match &self.kind {
            Kind::Set(v) => Some(v),
            _ => None,
        }
    }

    /// A literal prefix every match starts with, when one is known.
    pub fn prefix(&self) -> Option<&str> {
        match &self.kind {
            Kind::Prefix(p) => Some(p),
            _ => None,
        }
    }

    /// True when the regex matches the empty string.
    pub fn matches_empty(&self) -> bool {
        self.is_match("")
    }
}

/// Rewrites Perl classes to their ASCII (RE2) meaning, inside and outside brackets.
fn rewrite_ascii_classes(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 16);
    let mut chars = p.chars().peekable();
    let mut in_class = false;
    let mut class_start = false;
    while let Some(c) = chars.next() {
        if c == '\\' {
            let Some(&n) = chars.peek() else {
                out.push(c);
                break;
            };
            chars.next();
            let (inside, outside) = match n {
                'd' => ("0-9", "[0-9]"),
                'D' => ("[^0-9]", "[^0-9]"),
                'w' => ("0-9A-Za-z_", "[0-9A-Za-z_]"),
                'W' => ("[^0-9A-Za-z_]", "[^0-9A-Za-z_]"),
                's' => ("\\t\\n\\f\\r ", "[\\t\\n\\f\\r ]"),
                'S' => ("[^\\t\\n\\f\\r ]", "[^\\t\\n\\f\\r ]"),
                'b' if !in_class => ("", "(?-u:\\b)"),
                'B' if !in_class => ("", "(?-u:\\B)"),
                _ => {
                    out.push('\\');
                    out.push(n);
                    class_start = false;
                    continue;
                }
            };
            out.push_str(if in_class { inside } else { outside });
            class_start = false;
            continue;
        }
        if in_class {
            if c == ']' && !class_start {
                in_class = false;
            }
            class_start = class_start && c == '^';
        } else if c == '[' {
            in_class = true;
            class_start = true;
            out.push(c);
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &str) -> PromRegex {
        PromRegex::new("l", p).unwrap()
    }

    #[test]
    fn anchored_and_dot_matches_newline() {
        assert!(re("a.c").is_match("a\nc"));
        assert!(!re("b").is_match("abc"));
        assert!(re("a|b").is_match("b"));
        assert!(!re("a|b").is_match("ab"));
    }

    #[test]
    fn perl_classes_are_ascii_only() {
        assert!(re("\\d").is_match("3"));
        assert!(!re("\\d").is_match("\u{663}"));
        assert!(!re("[\\d]").is_match("\u{663}"));
        assert!(re("[^\\d]x").is_match("ax"));
        assert!(!re("\\w+").is_match("é"));
        assert!(re("\\s").is_match("\t"));
        assert!(re("[\\]\\d]").is_match("]"));
    }

    #[test]
    fn fast_paths_agree_with_regex() {
        for (p, s, want) in [
            ("foo.*", "foobar", true),
            ("foo.*", "xfoo", false),
            (".*bar", "foobar", true),
            (".*ob.*", "foobar", true),
            (".*", "", true),
            (".+", "", false),
            ("(a|b|c)", "b", true),
            ("a|b|c", "d", false),
        ] {
            assert_eq!(re(p).is_match(s), want, "{p} {s}");
            let slow = Regex::new(&format!("^(?s:{p})$")).unwrap();
            assert_eq!(slow.is_match(s), want);
        }
        assert_eq!(re("b|a|a").set_matches().unwrap(), ["a", "b"]);
        assert_eq!(re("foo.*").prefix(), Some("foo"));
    }

    #[test]
    fn bad_regex_is_a_precise_error() {
        let e = PromRegex::new("job", "a(").unwrap_err().to_string();
        assert!(e.contains("\"job\"") && e.contains("\"a(\""), "{e}");
    }
}
