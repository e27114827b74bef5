//! Content negotiation of the remote write 2.0 spec: the `Content-Type` says which
//! message the body holds, `Content-Encoding` must be snappy, and 2.0 receivers answer
//! with `X-Prometheus-Remote-Write-*-Written` headers. A receiver answers 415 for any
//! [`NegotiationError`].
//!
//! Parsing follows RFC 9110 (`media-type = type "/" subtype parameters`, parameters
//! separated by `;` with optional whitespace, values optionally quoted): the media type
//! and parameter names are case-insensitive, and so (leniently) is the `proto` value.
//! An absent or empty header means 1.0, as in Prometheus.

/// The only media type remote write uses.
pub const MEDIA_TYPE: &str = "application/x-protobuf";
/// `proto=` value of 1.0's message.
pub const PROTO_V1: &str = "prometheus.WriteRequest";
/// `proto=` value of 2.0's message.
pub const PROTO_V2: &str = "io.prometheus.write.v2.Request";
/// What a sender puts in `Content-Type` for 1.0 (the spec's backward-compatible form).
pub const CONTENT_TYPE_V1: &str = "application/x-protobuf";
/// What a sender puts in `Content-Type` for 2.0.
pub const CONTENT_TYPE_V2: &str = "application/x-protobuf;proto=io.prometheus.write.v2.Request";
/// The only content encoding.
pub const CONTENT_ENCODING_SNAPPY: &str = "snappy";

/// Request header naming the spec version the sender speaks.
pub const HEADER_VERSION: &str = "X-Prometheus-Remote-Write-Version";
/// `X-Prometheus-Remote-Write-Version` for 1.0 receivers.
pub const VERSION_V1: &str = "0.1.0";
/// `X-Prometheus-Remote-Write-Version` for 2.0.
pub const VERSION_V2: &str = "2.0.0";

/// Response headers with the number of written elements (required for 2.0).
pub const HEADER_SAMPLES_WRITTEN: &str = "X-Prometheus-Remote-Write-Samples-Written";
pub const HEADER_HISTOGRAMS_WRITTEN: &str = "X-Prometheus-Remote-Write-Histograms-Written";
pub const HEADER_EXEMPLARS_WRITTEN: &str = "X-Prometheus-Remote-Write-Exemplars-Written";

/// Which protobuf message a request body holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// `prometheus.WriteRequest`
    V1,
    /// `io.prometheus.write.v2.Request`
    V2,
}

impl Protocol {
    /// The message's fully qualified name (`proto=` value).
    pub fn proto_name(self) -> &'static str {
        match self {
            Protocol::V1 => PROTO_V1,
            Protocol::V2 => PROTO_V2,
        }
    }

    /// The `Content-Type` a sender uses.
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::V1 => CONTENT_TYPE_V1,
            Protocol::V2 => CONTENT_TYPE_V2,
        }
    }

    /// The `X-Prometheus-Remote-Write-Version` a sender uses.
    pub fn version(self) -> &'static str {
        match self {
            Protocol::V1 => VERSION_V1,
            Protocol::V2 => VERSION_V2,
        }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.proto_name())
    }
}

/// Why a request's headers are not acceptable (HTTP 415).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NegotiationError {
    #[error("unsupported content type {content_type:?}: the media type must be {MEDIA_TYPE}")]
    MediaType { content_type: String },
    #[error(
        "malformed content type {content_type:?}: parameter {parameter:?} is not of the form name=value"
    )]
    MalformedParameter {
        content_type: String,
        parameter: String,
    },
    #[error(
        "unsupported content type {content_type:?}: unknown proto message {proto:?}; supported are {PROTO_V1} and {PROTO_V2}"
    )]
    UnknownProto { content_type: String, proto: String },
    #[error("unsupported content encoding {encoding:?}: remote write uses snappy")]
    Encoding { encoding: String },
}

/// Picks the protocol from a `Content-Type` header: absent, empty or plain
/// `application/x-protobuf` → V1; `proto=prometheus.WriteRequest` → V1;
/// `proto=io.prometheus.write.v2.Request` → V2; anything else is an error. Other
/// parameters are ignored; the first `proto` parameter counts.
pub fn negotiate_content_type(ct: Option<&str>) -> Result<Protocol, NegotiationError> {
    let Some(ct) = ct else {
        return Ok(Protocol::V1);
    };
    let trimmed = ct.trim_matches(is_ows);
    if trimmed.is_empty() {
        return Ok(Protocol::V1);
    }
    let mut parts = split_unquoted(trimmed, ';');
    let media = parts.next().unwrap_or("").trim_matches(is_ows);
    if !media.eq_ignore_ascii_case(MEDIA_TYPE) {
        return Err(NegotiationError::MediaType {
            content_type: ct.to_owned(),
        });
    }
    for param in parts {
        let param = param.trim_matches(is_ows);
        if param.is_empty() {
            continue; // RFC 9110 allows empty parameters ("a;;b").
        }
        let Some((name, value)) = param.split_once('=') else {
            return Err(NegotiationError::MalformedParameter {
                content_type: ct.to_owned(),
                parameter: param.to_owned(),
            });
        };
        if !name.trim_matches(is_ows).eq_ignore_ascii_case("proto") {
            continue;
        }
        let value = unquote(value.trim_matches(is_ows));
        return if value.eq_ignore_ascii_case(PROTO_V1) {
            Ok(Protocol::V1)
        } else if value.eq_ignore_ascii_case(PROTO_V2) {
            Ok(Protocol::V2)
        } else {
            Err(NegotiationError::UnknownProto {
                content_type: ct.to_owned(),
                proto: value.into_owned(),
            })
        };
    }
    Ok(Protocol::V1)
}

/// Checks a `Content-Encoding` header: absent, empty or `snappy` (any case) is fine.
pub fn check_content_encoding(ce: Option<&str>) -> Result<(), NegotiationError> {
    match ce.map(|s| s.trim_matches(is_ows)) {
        None | Some("") => Ok(()),
        Some(s) if s.eq_ignore_ascii_case(CONTENT_ENCODING_SNAPPY) => Ok(()),
        Some(_) => Err(NegotiationError::Encoding {
            encoding: ce.unwrap_or_default().to_owned(),
        }),
    }
}

/// RFC 9110 optional whitespace.
fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Splits at `sep` outside double-quoted strings (which may contain `\"`).
fn split_unquoted(s: &str, sep: char) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let s = rest?;
        let (mut quoted, mut escaped) = (false, false);
        for (i, c) in s.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                c if c == sep && !quoted => {
                    rest = Some(&s[i + c.len_utf8()..]);
                    return Some(&s[..i]);
                }
                _ => {}
            }
        }
        rest = None;
        Some(s)
    })
}

/// The value of a token or quoted-string (with `\x` escapes resolved).
fn unquote(v: &str) -> std::borrow::Cow<'_, str> {
    let Some(inner) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return v.into();
    };
    if !inner.contains('\\') {
        return inner.into();
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let ok = [
            (None, Protocol::V1),
            (Some(""), Protocol::V1),
            (Some("application/x-protobuf"), Protocol::V1),
            (Some("Application/X-Protobuf"), Protocol::V1),
            (
                Some("application/x-protobuf;proto=prometheus.WriteRequest"),
                Protocol::V1,
            ),
            (
                Some("application/x-protobuf;proto=io.prometheus.write.v2.Request"),
                Protocol::V2,
            ),
            (
                Some(" application/x-protobuf ; Proto = io.prometheus.write.v2.Request "),
                Protocol::V2,
            ),
            (
                Some("application/x-protobuf;proto=\"io.prometheus.write.v2.Request\""),
                Protocol::V2,
            ),
            (
                Some("application/x-protobuf; charset=utf-8; proto=io.prometheus.write.v2.request"),
                Protocol::V2,
            ),
            (
                Some("application/x-protobuf;;proto=prometheus.WriteRequest;"),
                Protocol::V1,
            ),
            (
                Some("application/x-protobuf; x=\"a;proto=io.prometheus.write.v2.Request\""),
                Protocol::V1,
            ),
        ];
        for (ct, want) in ok {
            assert_eq!(negotiate_content_type(ct), Ok(want), "{ct:?}");
        }
    }

    #[test]
    fn rejected_content_types() {
        let cases = [
            (
                "application/json",
                "the media type must be application/x-protobuf",
            ),
            ("application/x-protobufx", "the media type"),
            (
                "application/x-protobuf;proto=io.prometheus.write.v3.Request",
                "unknown proto message \"io.prometheus.write.v3.Request\"",
            ),
            (
                "application/x-protobuf;proto",
                "parameter \"proto\" is not of the form name=value",
            ),
        ];
        for (ct, msg) in cases {
            let e = negotiate_content_type(Some(ct))
                .err()
                .map(|e| e.to_string());
            assert!(
                e.as_deref().is_some_and(|e| e.contains(msg)),
                "{ct:?}: {e:?}"
            );
        }
    }

    #[test]
    fn content_encodings() {
        for ok in [None, Some(""), Some("snappy"), Some(" Snappy ")] {
            assert_eq!(check_content_encoding(ok), Ok(()), "{ok:?}");
        }
        assert_eq!(
            check_content_encoding(Some("gzip")),
            Err(NegotiationError::Encoding {
                encoding: "gzip".into()
            })
        );
    }

    #[test]
    fn protocol_headers() {
        assert_eq!(Protocol::V2.content_type(), CONTENT_TYPE_V2);
        assert_eq!(
            negotiate_content_type(Some(Protocol::V2.content_type())),
            Ok(Protocol::V2)
        );
        assert_eq!(
            negotiate_content_type(Some(Protocol::V1.content_type())),
            Ok(Protocol::V1)
        );
        assert_eq!(Protocol::V1.version(), "0.1.0");
    }
}
