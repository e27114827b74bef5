//! Replacement templates with Go's `regexp.Expand` semantics.
//!
//! `$name` takes the longest run of letters, digits and `_` after the `$` (so `$1x` is the
//! group named `1x`, which usually does not exist and expands to nothing); `${name}`
//! delimits it; `$$` is a literal `$`. A name made only of digits (without a leading
//! zero) is a group number. Unknown, unmatched or out-of-range groups expand to the empty
//! string, and a `$` not followed by a valid reference is copied as is.

use regex::{CaptureLocations, Regex};

/// A group reference parsed from a template.
enum Ref<'a> {
    Index(usize),
    Name(&'a str),
}

/// Parses the reference after a `$`: the reference and the rest of the template.
fn extract(s: &str) -> Option<(Ref<'_>, &str)> {
    let (braced, body) = match s.strip_prefix('{') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let end = body
        .char_indices()
        .find(|&(_, c)| !(c.is_alphabetic() || c.is_numeric() || c == '_'))
        .map_or(body.len(), |(i, _)| i);
    if end == 0 {
        return None;
    }
    let name = &body[..end];
    let rest = if braced {
        body[end..].strip_prefix('}')?
    } else {
        &body[end..]
    };
    let numeric = name.bytes().all(|b| b.is_ascii_digit())
        && !(name.len() > 1 && name.starts_with('0'))
        && name.len() <= 9;
    let r = match name.parse::<usize>() {
        Ok(n) if numeric => Ref::Index(n),
        _ => Ref::Name(name),
    };
    Some((r, rest))
}

/// Appends `template` expanded against the match of `re` in `hay` (whose groups are in
/// `locs`) to `dst`.
pub(crate) fn expand(
    dst: &mut String,
    template: &str,
    hay: &str,
    re: &Regex,
    locs: &CaptureLocations,
) {
    let mut rest = template;
    while let Some(pos) = rest.find('$') {
        dst.push_str(&rest[..pos]);
        rest = &rest[pos + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            dst.push('$');
            rest = after;
            continue;
        }
        let Some((r, after)) = extract(rest) else {
            dst.push('$');
            continue;
        };
        rest = after;
        let group = match r {
            Ref::Index(i) => Some(i),
            Ref::Name(n) => re.capture_names().position(|g| g == Some(n)),
        };
        if let Some((s, e)) = group.and_then(|g| locs.get(g)) {
            dst.push_str(&hay[s..e]);
        }
    }
    dst.push_str(rest);
}

/// True when `template` refers to a group at all (Prometheus checks for any `$`).
pub(crate) fn has_variable(template: &str) -> bool {
    template.contains('$')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn run(pattern: &str, hay: &str, template: &str) -> String {
        let re = Regex::new(&format!("^(?s:{pattern})$")).unwrap();
        let mut locs = re.capture_locations();
        assert!(re.captures_read(&mut locs, hay).is_some());
        let mut out = String::new();
        expand(&mut out, template, hay, &re, &locs);
        out
    }

    #[test]
    fn go_expand_semantics() {
        assert_eq!(run("f(.*)", "foo", "ch${1}-ch${1}"), "choo-choo");
        assert_eq!(run("f(.*)", "foo", "ch$1-ch$1"), "choo-choo");
        // `$1x` names the group `1x`, which does not exist.
        assert_eq!(run("f(.*)", "foo", "$1x"), "");
        assert_eq!(run("f(.*)", "foo", "${1}x"), "oox");
        assert_eq!(run("f(.*)", "foo", "$$1"), "$1");
        assert_eq!(run("f(.*)", "foo", "$0"), "foo");
        assert_eq!(run("f(.*)", "foo", "$9"), "");
        assert_eq!(run("f(.*)", "foo", "$01"), "");
        assert_eq!(run("(?<n>f)(.*)", "foo", "$n-${2}"), "f-oo");
        // Malformed references are copied literally.
        assert_eq!(run("f(.*)", "foo", "a$-b${1"), "a$-b${1");
        assert_eq!(run("f(.*)", "foo", "end$"), "end$");
        // An unmatched optional group expands to nothing.
        assert_eq!(run("f(x)?(.*)", "foo", "[$1][$2]"), "[][oo]");
    }
}
