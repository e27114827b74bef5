//! The relabel regular expression: Prometheus compiles it as `^(?s:pattern)$` with Go's
//! RE2, so it is fully anchored, `.` matches a newline and `\d`, `\w`, `\s`, `\b` are
//! ASCII-only.
//!
//! Matching goes through [`strata_model::regex::PromRegex`] (literal, set, prefix and
//! suffix fast paths); capture groups, which `replace` and `labelmap` need, come from a
//! second, compiled copy. Both apply the same ASCII rewriting of Perl classes as
//! strata-model (whose rewriter is private, hence the mirror below).

use std::sync::atomic::{AtomicU64, Ordering};

use regex::{CaptureLocations, Regex};
use strata_model::regex::PromRegex;

use crate::error::{Error, Result};

/// Prometheus' default relabel regex.
pub const DEFAULT_REGEX: &str = "(.*)";

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A compiled, anchored relabel regex.
#[derive(Debug, Clone)]
pub struct RelabelRegex {
    pattern: String,
    matcher: PromRegex,
    captures: Regex,
    /// Identifies this compiled regex for per-builder capture scratch space.
    id: u64,
}

impl RelabelRegex {
    /// Compiles `pattern` with Prometheus' anchoring and Go RE2 class semantics.
    pub fn new(pattern: &str) -> Result<Self> {
        let err = |reason: String| Error::InvalidRegex {
            pattern: pattern.to_owned(),
            reason,
        };
        let rewritten = rewrite_ascii_classes(pattern);
        let captures =
            Regex::new(&format!("^(?s:{rewritten})$")).map_err(|e| err(e.to_string()))?;
        let matcher = PromRegex::new("relabel", pattern).map_err(|e| err(e.to_string()))?;
        Ok(RelabelRegex {
            pattern: pattern.to_owned(),
            matcher,
            captures,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// The pattern as written (without the anchors).
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// True when the whole of `s` matches.
    pub fn is_match(&self, s: &str) -> bool {
        self.matcher.is_match(s)
    }

    /// The regex with capture groups (anchored).
    pub(crate) fn compiled(&self) -> &Regex {
        &self.captures
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Fills `locs` with the groups of a match of `s`; false when it does not match.
    pub(crate) fn captures_into(&self, locs: &mut CaptureLocations, s: &str) -> bool {
        self.captures.captures_read(locs, s).is_some()
    }
}

impl PartialEq for RelabelRegex {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern
    }
}
impl Eq for RelabelRegex {}

impl Default for RelabelRegex {
    fn default() -> Self {
        // The default pattern is a constant that compiles.
        #[allow(clippy::expect_used)]
        RelabelRegex::new(DEFAULT_REGEX).expect("the default relabel regex compiles")
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
            let replacement = match (n, in_class) {
                ('d', true) => "0-9",
                ('d', false) => "[0-9]",
                ('D', _) => "[^0-9]",
                ('w', true) => "0-9A-Za-z_",
                ('w', false) => "[0-9A-Za-z_]",
                ('W', _) => "[^0-9A-Za-z_]",
                ('s', true) => "\\t\\n\\f\\r ",
                ('s', false) => "[\\t\\n\\f\\r ]",
                ('S', _) => "[^\\t\\n\\f\\r ]",
                ('b', false) => "(?-u:\\b)",
                ('B', false) => "(?-u:\\B)",
                _ => {
                    out.push('\\');
                    out.push(n);
                    class_start = false;
                    continue;
                }
            };
            out.push_str(replacement);
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
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn anchored_dotall_ascii() {
        let re = RelabelRegex::new("a.c").unwrap();
        assert!(re.is_match("a\nc"));
        assert!(!re.is_match("xa\nc"));
        let d = RelabelRegex::new("\\d+").unwrap();
        assert!(d.is_match("123"));
        assert!(!d.is_match("\u{663}"));
        assert!(!RelabelRegex::new("[\\w]+").unwrap().is_match("é"));
    }

    #[test]
    fn bad_pattern_is_an_error() {
        let e = RelabelRegex::new("a(").unwrap_err().to_string();
        assert!(e.contains("\"a(\""), "{e}");
    }

    #[test]
    fn captures_keep_group_numbers() {
        let re = RelabelRegex::new("(a)(?:x)(?<n>b)").unwrap();
        let mut locs = re.compiled().capture_locations();
        assert!(re.captures_into(&mut locs, "axb"));
        assert_eq!(locs.get(1), Some((0, 1)));
        assert_eq!(locs.get(2), Some((2, 3)));
    }
}
