//! File name patterns as Go's `filepath.Glob` expands them: `*`, `?` and `[...]` classes
//! within one path element, matches sorted by name per directory, joined paths cleaned.

/// A pattern Go's `path.Match` rejects (unterminated class, trailing backslash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadPattern;

/// The existing paths matching `pattern`. A pattern without meta characters names
/// itself when the file exists.
pub(crate) fn glob(pattern: &str) -> Result<Vec<String>, BadPattern> {
    if !has_meta(pattern) {
        return Ok(if std::fs::symlink_metadata(pattern).is_ok() {
            vec![pattern.to_owned()]
        } else {
            Vec::new()
        });
    }
    let (dir, file) = split(pattern);
    let dir = clean_dir(dir);
    if !has_meta(&dir) {
        return glob_dir(&dir, file);
    }
    if dir == pattern {
        return Err(BadPattern);
    }
    let mut out = Vec::new();
    for d in glob(&dir)? {
        out.extend(glob_dir(&d, file)?);
    }
    Ok(out)
}

fn has_meta(s: &str) -> bool {
    s.contains(['*', '?', '[', '\\'])
}

/// Go's `filepath.Split`: everything up to and including the last separator.
fn split(p: &str) -> (&str, &str) {
    match p.rfind('/') {
        Some(i) => (&p[..=i], &p[i + 1..]),
        None => ("", p),
    }
}

/// Go's `cleanGlobPath`.
fn clean_dir(dir: &str) -> String {
    match dir {
        "" => ".".to_owned(),
        "/" => "/".to_owned(),
        d => d[..d.len() - 1].to_owned(),
    }
}

fn glob_dir(dir: &str, pattern: &str) -> Result<Vec<String>, BadPattern> {
    // Check the pattern even when the directory does not exist, as Go does.
    matches(pattern, "")?;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        if matches(pattern, &name)? {
            out.push(clean(&format!("{dir}/{name}")));
        }
    }
    Ok(out)
}

/// Go's `path.Match` for one path element.
pub(crate) fn matches(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = name.chars().collect();
    // Validate the whole pattern first so errors do not depend on the name.
    validate(&p)?;
    Ok(match_from(&p, &s))
}

fn validate(p: &[char]) -> Result<(), BadPattern> {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' => {
                if i + 1 >= p.len() {
                    return Err(BadPattern);
                }
                i += 2;
            }
            '[' => {
                let (_, next) = parse_class(p, i, '\0')?;
                i = next;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

fn match_from(p: &[char], s: &[char]) -> bool {
    let Some(&c) = p.first() else {
        return s.is_empty();
    };
    match c {
        '*' => {
            for i in 0..=s.len() {
                if match_from(&p[1..], &s[i..]) {
                    return true;
                }
                if i < s.len() && s[i] == '/' {
                    break;
                }
            }
            false
        }
        '?' => !s.is_empty() && s[0] != '/' && match_from(&p[1..], &s[1..]),
        '[' => {
            let Some(&ch) = s.first() else {
                return false;
            };
            match parse_class(p, 0, ch) {
                Ok((true, next)) => ch != '/' && match_from(&p[next..], &s[1..]),
                _ => false,
            }
        }
        '\\' => p.len() > 1 && s.first() == Some(&p[1]) && match_from(&p[2..], &s[1..]),
        c => s.first() == Some(&c) && match_from(&p[1..], &s[1..]),
    }
}

/// Parses the class starting at `p[start] == '['`; returns whether `ch` is in it and
/// the index after the closing `]`.
fn parse_class(p: &[char], start: usize, ch: char) -> Result<(bool, usize), BadPattern> {
    let mut i = start + 1;
    let negated = p.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        match p.get(i) {
            None => return Err(BadPattern),
            Some(']') if !first => return Ok((matched != negated, i + 1)),
            _ => {}
        }
        first = false;
        let (lo, next) = class_char(p, i)?;
        i = next;
        let mut hi = lo;
        if p.get(i) == Some(&'-') {
            let (h, next) = class_char(p, i + 1)?;
            hi = h;
            i = next;
        }
        if lo <= ch && ch <= hi {
            matched = true;
        }
    }
}

fn class_char(p: &[char], i: usize) -> Result<(char, usize), BadPattern> {
    match p.get(i) {
        None | Some('-') | Some(']') => Err(BadPattern),
        Some('\\') => p.get(i + 1).map(|c| (*c, i + 2)).ok_or(BadPattern),
        Some(c) => Ok((*c, i + 1)),
    }
}

/// Go's `filepath.Clean` for slash-separated paths.
pub(crate) fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn match_like_go() {
        // Cases from Go's path.Match tests.
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
            ("[a-ζ]*", "α", Ok(true)),
            ("*[a-ζ]", "A", Ok(false)),
            ("a?b", "a/b", Ok(false)),
            ("a*b", "a/b", Ok(false)),
            ("[\\]a]", "]", Ok(true)),
            ("[\\-]", "-", Ok(true)),
            ("[x\\-]", "x", Ok(true)),
            ("[x\\-]", "-", Ok(true)),
            ("[x\\-]", "z", Ok(false)),
            ("[]a]", "]", Err(BadPattern)),
            ("[-]", "-", Err(BadPattern)),
            ("[x-]", "x", Err(BadPattern)),
            ("\\", "a", Err(BadPattern)),
            ("[a-b-c]", "a", Err(BadPattern)),
            ("[", "a", Err(BadPattern)),
            ("[^", "a", Err(BadPattern)),
            ("a[", "a", Err(BadPattern)),
            ("*x", "xxx", Ok(true)),
        ];
        for (p, s, want) in cases {
            assert_eq!(&matches(p, s), want, "match({p:?}, {s:?})");
        }
    }

    #[test]
    fn clean_like_go() {
        for (input, want) in [
            ("", "."),
            ("abc", "abc"),
            ("./sd/a.json", "sd/a.json"),
            ("/a/../b", "/b"),
            ("a/../..", ".."),
            ("/..", "/"),
            ("a//b/./c/", "a/b/c"),
        ] {
            assert_eq!(clean(input), want, "clean({input:?})");
        }
    }

    #[test]
    fn glob_dir_sorted_and_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        for name in ["b.json", "a.json", "c.yml"] {
            std::fs::write(dir.path().join(name), "[]").unwrap();
        }
        let got = glob(&format!("{d}/*.json")).unwrap();
        assert_eq!(got, vec![format!("{d}/a.json"), format!("{d}/b.json")]);
        let got = glob(&format!("{d}/./?.yml")).unwrap();
        assert_eq!(got, vec![format!("{d}/c.yml")]);
        assert_eq!(
            glob(&format!("{d}/missing/*.json")).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            glob(&format!("{d}/c.yml")).unwrap(),
            vec![format!("{d}/c.yml")]
        );
        assert_eq!(glob(&format!("{d}/[.json")), Err(BadPattern));
    }
}
