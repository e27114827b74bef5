//! Tenant glob patterns with the semantics of Go's `path.Match` (Thanos calls
//! `filepath.Match`, the same thing on Unix).
//!
//! Syntax: `*` matches any run of bytes without `/`, `?` one character other than `/`,
//! `[…]` / `[^…]` a character class of single characters and `lo-hi` ranges, `\c` the
//! character `c`. A pattern is split into chunks (an optional leading run of stars and the
//! single-character terms up to the next star); each chunk is matched at the earliest
//! position the star before it allows, and the last one must end the name.
//!
//! Go reports a malformed pattern only while matching; as the error depends on the pattern
//! alone, [`GoGlob::new`] checks it once up front. Like Go, a star skips names byte by
//! byte, so `?` and classes may see a lone UTF-8 continuation byte, which decodes to U+FFFD.

use std::fmt;

/// A malformed glob pattern (Go's `path.ErrBadPattern`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPattern;

impl fmt::Display for BadPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("syntax error in pattern")
    }
}

/// One single-character term.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    /// A literal byte (literals compare byte by byte, as in Go).
    Byte(u8),
    /// `?`: one character other than `/`.
    AnyButSlash,
    /// `[…]`: one character inside (or, negated, outside) the ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// Terms preceded by an optional star.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Chunk {
    star: bool,
    terms: Vec<Term>,
}

/// A compiled, well-formed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoGlob {
    pattern: String,
    chunks: Vec<Chunk>,
}

impl GoGlob {
    /// Compiles `pattern`, failing exactly when Go's `path.Match` would report
    /// `ErrBadPattern` for it.
    pub fn new(pattern: &str) -> Result<Self, BadPattern> {
        let mut chunks = Vec::new();
        let mut rest = pattern.as_bytes();
        while !rest.is_empty() {
            let (star, chunk, after) = split_chunk(rest);
            chunks.push(Chunk {
                star,
                terms: parse_terms(chunk)?,
            });
            rest = after;
        }
        Ok(GoGlob {
            pattern: pattern.to_owned(),
            chunks,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether the whole of `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        let mut name = name.as_bytes();
        for (i, chunk) in self.chunks.iter().enumerate() {
            let last = i + 1 == self.chunks.len();
            if chunk.star && chunk.terms.is_empty() {
                // Only a final chunk can be a bare star: it takes the rest unless it has a '/'.
                return !name.contains(&b'/');
            }
            // Earliest position first; the last chunk must also end the name.
            let accept = |rest: &[u8]| !last || rest.is_empty();
            match match_terms(&chunk.terms, name) {
                Some(rest) if accept(rest) => {
                    name = rest;
                    continue;
                }
                _ => {}
            }
            if !chunk.star {
                return false;
            }
            let mut next = None;
            for skip in 1..=name.len() {
                if name[skip - 1] == b'/' {
                    break;
                }
                if let Some(rest) = match_terms(&chunk.terms, &name[skip..])
                    && accept(rest)
                {
                    next = Some(rest);
                    break;
                }
            }
            match next {
                Some(rest) => name = rest,
                None => return false,
            }
        }
        name.is_empty()
    }
}

impl fmt::Display for GoGlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pattern)
    }
}

/// Splits off the leading stars and the chunk up to the next star outside a class
/// (Go's `scanChunk`): `(star, chunk, rest)`.
fn split_chunk(pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let stars = pattern.iter().take_while(|&&b| b == b'*').count();
    let pattern = &pattern[stars..];
    let mut in_class = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'\\' if i + 1 < pattern.len() => i += 1,
            b'[' => in_class = true,
            b']' => in_class = false,
            b'*' if !in_class => break,
            _ => {}
        }
        i += 1;
    }
    (stars > 0, &pattern[..i], &pattern[i..])
}

/// Parses a chunk's terms with Go's `matchChunk` rules for malformed input.
fn parse_terms(mut chunk: &[u8]) -> Result<Vec<Term>, BadPattern> {
    let mut terms = Vec::new();
    while let Some((&first, after)) = chunk.split_first() {
        chunk = after;
        match first {
            b'[' => {
                let negated = chunk.first() == Some(&b'^');
                if negated {
                    chunk = &chunk[1..];
                }
                let mut ranges = Vec::new();
                loop {
                    if chunk.first() == Some(&b']') && !ranges.is_empty() {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, after) = class_char(chunk)?;
                    chunk = after;
                    let mut hi = lo;
                    if chunk.first() == Some(&b'-') {
                        let (h, after) = class_char(&chunk[1..])?;
                        hi = h;
                        chunk = after;
                    }
                    ranges.push((lo, hi));
                }
                terms.push(Term::Class { negated, ranges });
            }
            b'?' => terms.push(Term::AnyButSlash),
            b'\\' => {
                let (&escaped, after) = chunk.split_first().ok_or(BadPattern)?;
                chunk = after;
                terms.push(Term::Byte(escaped));
            }
            other => terms.push(Term::Byte(other)),
        }
    }
    Ok(terms)
}

/// One possibly escaped class character (Go's `getEsc`); something must follow it.
fn class_char(chunk: &[u8]) -> Result<(char, &[u8]), BadPattern> {
    let mut chunk = match chunk.first() {
        None | Some(b'-') | Some(b']') => return Err(BadPattern),
        Some(_) => chunk,
    };
    if chunk[0] == b'\\' {
        chunk = &chunk[1..];
        if chunk.is_empty() {
            return Err(BadPattern);
        }
    }
    // The pattern is a `str`, so this is always a whole character.
    let (c, width) = decode_char(chunk);
    let rest = &chunk[width..];
    if rest.is_empty() {
        return Err(BadPattern);
    }
    Ok((c, rest))
}

/// Matches `terms` at the start of `name`: what remains of `name`, or `None`.
fn match_terms<'n>(terms: &[Term], mut name: &'n [u8]) -> Option<&'n [u8]> {
    for term in terms {
        let first = *name.first()?;
        match term {
            Term::Byte(b) => {
                if first != *b {
                    return None;
                }
                name = &name[1..];
            }
            Term::AnyButSlash => {
                if first == b'/' {
                    return None;
                }
                name = &name[decode_char(name).1..];
            }
            Term::Class { negated, ranges } => {
                let (c, width) = decode_char(name);
                let inside = ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
                if inside == *negated {
                    return None;
                }
                name = &name[width..];
            }
        }
    }
    Some(name)
}

/// Decodes the first character of a non-empty byte string like Go's
/// `utf8.DecodeRuneInString`: an invalid sequence is U+FFFD of width 1.
fn decode_char(bytes: &[u8]) -> (char, usize) {
    let width = match bytes.first() {
        Some(b) if *b < 0x80 => 1,
        Some(b) if *b >= 0xf0 => 4,
        Some(b) if *b >= 0xe0 => 3,
        Some(b) if *b >= 0xc0 => 2,
        _ => return (char::REPLACEMENT_CHARACTER, 1),
    };
    match bytes.get(..width).map(std::str::from_utf8) {
        Some(Ok(s)) => s
            .chars()
            .next()
            .map_or((char::REPLACEMENT_CHARACTER, 1), |c| (c, width)),
        _ => (char::REPLACEMENT_CHARACTER, 1),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn go_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
        GoGlob::new(pattern).map(|g| g.matches(name))
    }

    /// Cases from the table of Go's `path.Match` tests, plus quirks checked against Go 1.19.
    #[test]
    fn go_path_match_table() {
        let bad = Err(BadPattern);
        let cases: &[(&str, &str, Result<bool, BadPattern>)] = &[
            ("abc", "abc", Ok(true)),
            ("*", "abc", Ok(true)),
            ("*c", "abc", Ok(true)),
            ("a*", "a", Ok(true)),
            ("a*", "abc", Ok(true)),
            ("a*", "ab/c", Ok(false)),
            ("a*/b", "abc/b", Ok(true)),
            ("a*/b", "a/c/b", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", Ok(false)),
            ("a*b?c*x", "abxbbxdbxebxczzx", Ok(true)),
            ("a*b?c*x", "abxbbxdbxebxczzy", Ok(false)),
            ("ab[c]", "abc", Ok(true)),
            ("ab[b-d]", "abc", Ok(true)),
            ("ab[e-g]", "abc", Ok(false)),
            ("ab[^c]", "abc", Ok(false)),
            ("ab[^b-d]", "abc", Ok(false)),
            ("ab[^e-g]", "abc", Ok(true)),
            ("a\\*b", "a*b", Ok(true)),
            ("a\\*b", "ab", Ok(false)),
            ("a?b", "a☺b", Ok(true)),
            ("a[^a]b", "a☺b", Ok(true)),
            ("a???b", "a☺b", Ok(false)),
            ("a[^a][^a][^a]b", "a☺b", Ok(false)),
            ("[a-ζ]*", "α", Ok(true)),
            ("*[a-ζ]", "A", Ok(false)),
            ("a?b", "a/b", Ok(false)),
            ("a*b", "a/b", Ok(false)),
            ("[\\]a]", "]", Ok(true)),
            ("[\\-]", "-", Ok(true)),
            ("[x\\-]", "x", Ok(true)),
            ("[x\\-]", "-", Ok(true)),
            ("[x\\-]", "z", Ok(false)),
            ("[\\-x]", "x", Ok(true)),
            ("[\\-x]", "-", Ok(true)),
            ("[\\-x]", "a", Ok(false)),
            ("[]a]", "]", bad.clone()),
            ("[-]", "-", bad.clone()),
            ("[x-]", "x", bad.clone()),
            ("[x-]", "-", bad.clone()),
            ("[x-]", "z", bad.clone()),
            ("[-x]", "x", bad.clone()),
            ("[-x]", "-", bad.clone()),
            ("[-x]", "a", bad.clone()),
            ("\\", "a", bad.clone()),
            ("[a-b-c]", "a", bad.clone()),
            ("[", "a", bad.clone()),
            ("[^", "a", bad.clone()),
            ("[^bc", "a", bad.clone()),
            ("a[", "a", bad.clone()),
            ("a[", "ab", bad.clone()),
            ("a[", "x", bad.clone()),
            ("a/b[", "x", bad.clone()),
            ("*x", "xxx", Ok(true)),
            // Quirks: a star steps over names byte by byte.
            ("*[^é]", "é", Ok(true)),
            ("*?", "é", Ok(true)),
            ("t1-*", "t1-", Ok(true)),
            ("prefix*", "prefix-1", Ok(true)),
            ("prefix*", "suffix-1", Ok(false)),
            ("", "", Ok(true)),
            ("", "a", Ok(false)),
            ("**", "a/b", Ok(false)),
            ("*[]", "a", bad.clone()),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(
                &go_match(pattern, name),
                want,
                "pattern {pattern:?} name {name:?}"
            );
        }
    }
}
