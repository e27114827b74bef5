//! Label names in URL paths: Prometheus 3 lets clients send UTF-8 names in the
//! "value encoding" escaping, `U__` followed by the name with `_` doubled and every
//! other character outside `[a-zA-Z0-9_:]` written as `_<hex code point>_`
//! (`U__http_2e_status` is `http.status`). A name that does not decode stays as sent.

/// Decodes a `U__`-escaped name; anything else (or an invalid escape) is returned as is.
pub fn unescape_name(name: &str) -> String {
    let Some(rest) = name.strip_prefix("U__") else {
        return name.to_owned();
    };
    decode(rest).unwrap_or_else(|| name.to_owned())
}

fn decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'_' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        i += 1;
        match b.get(i)? {
            b'_' => {
                out.push(b'_');
                i += 1;
            }
            _ => {
                // Hex digits, then the closing underscore. Like Prometheus, give up
                // at the sixth position, so at most five digits decode.
                let mut cp: u32 = 0;
                let mut n = 0;
                loop {
                    let c = *b.get(i)?;
                    if n >= 6 {
                        return None;
                    }
                    if c == b'_' {
                        break;
                    }
                    cp = cp * 16 + char::from(c).to_digit(16)?;
                    n += 1;
                    i += 1;
                }
                i += 1;
                let ch = char::from_u32(cp)?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_value_encoding() {
        assert_eq!(unescape_name("job"), "job");
        assert_eq!(unescape_name("U__http_2e_status"), "http.status");
        assert_eq!(unescape_name("U__a__b"), "a_b");
        assert_eq!(unescape_name("U___1f525_"), "\u{1f525}");
        assert_eq!(unescape_name("U__a_zz_"), "U__a_zz_");
        assert_eq!(unescape_name("U__a_"), "U__a_");
        assert_eq!(unescape_name("U__a_1234567_"), "U__a_1234567_");
        assert_eq!(unescape_name("U__a_01f525_"), "U__a_01f525_");
        assert_eq!(unescape_name("U__a_d800_"), "U__a_d800_");
    }
}
