//! Scalar value types of the configuration file: durations, byte sizes, secrets, URLs.

use std::fmt;

use serde::{Deserialize, Deserializer};
use strata_model::duration::{go_duration_string, parse_duration_ms};

/// A Prometheus duration (`30s`, `1m`, `1h30m`, `1d`, `0`), in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub i64);

impl Duration {
    pub const ZERO: Duration = Duration(0);

    pub const fn from_secs(s: i64) -> Self {
        Duration(s * 1000)
    }

    pub const fn from_millis(ms: i64) -> Self {
        Duration(ms)
    }

    pub fn as_millis(self) -> i64 {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// As a `std::time::Duration` (negative values, which never parse, clamp to zero).
    pub fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_millis(u64::try_from(self.0).unwrap_or(0))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&go_duration_string(self.0))
    }
}

impl std::str::FromStr for Duration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_duration_ms(s)
            .map(Duration)
            .map_err(|e| e.to_string())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A size in bytes written as Prometheus' `units.Base2Bytes`: a sequence of numbers with
/// units (`512MB`, `1GiB`, `1.5KB`, `1GB512MB`, `10B`), or `0`. `KB` and `KiB` both mean
/// 1024; a number without a unit is rejected, as in Prometheus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

impl std::str::FromStr for ByteSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let err = |why: &str| format!("invalid byte size {s:?}: {why}");
        let rest = s.strip_prefix('+').unwrap_or(s);
        if rest.starts_with('-') {
            return Err(err("must not be negative"));
        }
        if rest == "0" {
            return Ok(ByteSize(0));
        }
        if rest.is_empty() {
            return Err(err("empty"));
        }
        let mut total = 0f64;
        let mut rest = rest;
        while !rest.is_empty() {
            let num_len = rest
                .bytes()
                .take_while(|b| b.is_ascii_digit() || *b == b'.')
                .count();
            let num = &rest[..num_len];
            if num.is_empty() || num == "." || num.matches('.').count() > 1 {
                return Err(err("expected a number"));
            }
            let value: f64 = num.parse().map_err(|_| err("expected a number"))?;
            rest = &rest[num_len..];
            let unit_len = rest
                .bytes()
                .take_while(|b| !(b.is_ascii_digit() || *b == b'.'))
                .count();
            let shift = match &rest[..unit_len] {
                "B" => 0,
                "KB" | "KiB" => 10,
                "MB" | "MiB" => 20,
                "GB" | "GiB" => 30,
                "TB" | "TiB" => 40,
                "PB" | "PiB" => 50,
                "EB" | "EiB" => 60,
                "" => return Err(err("missing unit (B, KB, MB, GB, ...)")),
                u => return Err(err(&format!("unknown unit {u:?}"))),
            };
            rest = &rest[unit_len..];
            total += value * (1u64 << shift) as f64;
        }
        if total >= u64::MAX as f64 {
            return Err(err("overflow"));
        }
        Ok(ByteSize(total as u64))
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A secret string: printed as `<secret>` by `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "\"\""
        } else {
            "<secret>"
        })
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

/// An absolute `http`/`https` URL (remote write/read endpoints, API servers, proxies).
///
/// Prometheus accepts anything Go's `url.Parse` accepts and fails later when it sends
/// the first request; we reject relative URLs and other schemes when loading.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpUrl(pub url::Url);

impl fmt::Debug for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HttpUrl({:?})", self.redacted())
    }
}

impl HttpUrl {
    pub fn parse(s: &str) -> Result<Self, String> {
        let u = url::Url::parse(s).map_err(|e| format!("invalid URL {s:?}: {e}"))?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(format!(
                "invalid URL {s:?}: scheme must be http or https, got {:?}",
                u.scheme()
            ));
        }
        if u.host_str().is_none_or(str::is_empty) {
            return Err(format!("invalid URL {s:?}: no host"));
        }
        Ok(HttpUrl(u))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The URL with any password replaced by `xxxxx`, as Prometheus prints it.
    pub fn redacted(&self) -> String {
        let mut u = self.0.clone();
        if u.password().is_some() {
            // Setting a password only fails for URLs without a host, excluded above.
            let _ = u.set_password(Some("xxxxx"));
        }
        u.to_string()
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl<'de> Deserialize<'de> for HttpUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        HttpUrl::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A proxy URL: `http`, `https` or `socks5`, as Go's HTTP transport supports.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl(pub url::Url);

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut u = self.0.clone();
        if u.password().is_some() {
            let _ = u.set_password(Some("xxxxx"));
        }
        write!(f, "ProxyUrl({:?})", u.as_str())
    }
}

impl<'de> Deserialize<'de> for ProxyUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let u = url::Url::parse(&s)
            .map_err(|e| serde::de::Error::custom(format!("invalid proxy URL {s:?}: {e}")))?;
        if !matches!(u.scheme(), "http" | "https" | "socks5") {
            return Err(serde::de::Error::custom(format!(
                "invalid proxy URL {s:?}: scheme must be http, https or socks5"
            )));
        }
        Ok(ProxyUrl(u))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn byte_sizes_are_base2() {
        assert!("100".parse::<ByteSize>().is_err());
        assert_eq!("0".parse::<ByteSize>().unwrap().0, 0);
        assert_eq!("100B".parse::<ByteSize>().unwrap().0, 100);
        assert_eq!("10KB".parse::<ByteSize>().unwrap().0, 10 * 1024);
        assert_eq!("1.5KiB".parse::<ByteSize>().unwrap().0, 1536);
        assert_eq!(
            "1GB512MB".parse::<ByteSize>().unwrap().0,
            (1 << 30) + (512 << 20)
        );
        assert!("-1MB".parse::<ByteSize>().is_err());
        assert_eq!("512MB".parse::<ByteSize>().unwrap().0, 512 << 20);
        assert_eq!("1GiB".parse::<ByteSize>().unwrap().0, 1 << 30);
        assert!("MB".parse::<ByteSize>().is_err());
        assert!("10XB".parse::<ByteSize>().is_err());
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(HttpUrl::parse("https://x:9090/api/v1/write").is_ok());
        assert!(HttpUrl::parse("/api/v1/write").is_err());
        assert!(HttpUrl::parse("ftp://x/").is_err());
        let u = HttpUrl::parse("https://u:p@x/").unwrap();
        assert_eq!(u.redacted(), "https://u:xxxxx@x/");
        assert!(!format!("{u:?}").contains(":p@"));
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "<secret> <secret>");
        assert_eq!(s.expose(), "hunter2");
    }
}
