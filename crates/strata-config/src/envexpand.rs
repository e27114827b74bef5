//! `$VAR`/`${VAR}` expansion with Go's `os.Expand` rules, which Prometheus applies to
//! the values of `global.external_labels` only.

/// Characters Go treats as one-character "special" variable names.
fn is_special(c: u8) -> bool {
    matches!(
        c,
        b'*' | b'#' | b'$' | b'@' | b'!' | b'?' | b'-' | b'0'..=b'9'
    )
}

/// The variable name after a `$` and the bytes it takes (Go's `getShellName`).
fn shell_name(s: &str) -> (&str, usize) {
    let b = s.as_bytes();
    if b[0] == b'{' {
        if b.len() > 2 && is_special(b[1]) && b[2] == b'}' {
            return (&s[1..2], 3);
        }
        return match s[1..].find('}') {
            Some(0) => ("", 2),
            Some(i) => (&s[1..=i], i + 2),
            None => ("", 1),
        };
    }
    if is_special(b[0]) {
        return (&s[..1], 1);
    }
    let n = b
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count();
    (&s[..n], n)
}

/// Expands `$NAME` and `${NAME}` in `s` with `lookup`; `$$` is a literal `$` (Prometheus'
/// mapping returns `$` for the name `$`). Invalid references such as `${}` are removed, a
/// `$` not followed by a name is kept.
pub fn expand(s: &str, mut lookup: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        if pos + 1 >= rest.len() {
            break;
        }
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let (name, width) = shell_name(after);
        // No name (a lone `$`) stays; `$$` is the name `$`, which maps to `$`.
        if (name.is_empty() && width == 0) || name == "$" {
            out.push('$');
        } else if !name.is_empty() {
            out.push_str(&lookup(name));
        }
        rest = &after[width..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> String {
        if name == "TEST" {
            "TestValue".into()
        } else {
            String::new()
        }
    }

    #[test]
    fn prometheus_external_label_cases() {
        assert_eq!(expand("foo", env), "foo");
        assert_eq!(expand("${TEST}", env), "TestValue");
        assert_eq!(expand("foo${TEST}bar", env), "fooTestValuebar");
        assert_eq!(expand("foo$${TEST}", env), "foo${TEST}");
        assert_eq!(expand("foo$$bar", env), "foo$bar");
        assert_eq!(expand("$TEST-x", env), "TestValue-x");
        assert_eq!(expand("${UNSET}", env), "");
        assert_eq!(expand("a${}b", env), "ab");
        assert_eq!(expand("a${b", env), "ab");
        assert_eq!(expand("cost: 5$", env), "cost: 5$");
        assert_eq!(expand("a$ b", env), "a$ b");
    }
}
