//! Go string literals: unquoting with Go escapes, and quoting back as `strconv.Quote`.

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
        let e = chars
            .next()
            .ok_or_else(|| "escape sequence not terminated".to_string())?;
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
                let ch = char::from_u32(v).ok_or_else(|| {
                    "escape sequence is an invalid Unicode code point".to_string()
                })?;
                out.push(ch);
            }
            other => {
                return Err(format!(
                    "unknown escape sequence U+{:04X} '{other}'",
                    other as u32
                ));
            }
        }
    }
    flush(&mut bytes, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquotes_go_strings() {
        assert_eq!(unquote(r#""a\n\"b\x41\u00e9\101""#).unwrap(), "a\n\"bAéA");
        assert_eq!(unquote(r"'it\'s'").unwrap(), "it's");
        assert_eq!(unquote(r"`a\n`").unwrap(), "a\\n");
        assert!(unquote(r#""\q""#).is_err());
        let raw = unquote(r#""a\xc5z""#).unwrap();
        assert!(has_raw_bytes(&raw));
        assert_eq!(quote(&raw), r#""a\xc5z""#);
    }
}
