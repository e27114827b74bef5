//! The series hash that places a series on a ring: Thanos' `labelpb.HashWithPrefix`.
//!
//! XXH64 with seed 0 over `tenant ‖ 0xff ‖ (name ‖ 0xff ‖ value ‖ 0xff)*`, labels in the
//! order given. Thanos hashes the labels as they arrived in the remote-write request;
//! Prometheus sends them sorted, which is the order [`Labels`] iterates in.

use strata_model::Labels;
use xxhash_rust::xxh64::Xxh64;

/// The separator byte between the tenant, names and values.
const SEP: u8 = 0xff;

/// Bytes hashed in one shot before switching to the streaming hasher. Both give the same
/// digest; this only saves the streaming state for the usual small series.
const INLINE: usize = 1024;

/// The hash that places `labels` of `tenant` on a ring.
pub fn hash_series(tenant: &str, labels: &Labels) -> u64 {
    hash_series_pairs(tenant, labels.iter())
}

/// [`hash_series`] over `(name, value)` pairs in the order given, including pairs with an
/// empty value (which [`Labels`] drops). Use it on labels decoded from a request to hash
/// exactly the bytes Thanos hashes, even when a sender does not sort them.
pub fn hash_series_pairs<'a>(
    tenant: &str,
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> u64 {
    let mut h = SeriesHasher::new();
    h.write(tenant.as_bytes());
    h.write(&[SEP]);
    for (name, value) in pairs {
        h.write(name.as_bytes());
        h.write(&[SEP]);
        h.write(value.as_bytes());
        h.write(&[SEP]);
    }
    h.finish()
}

/// Collects input in a stack buffer and moves to a streaming XXH64 when it overflows.
struct SeriesHasher {
    buf: [u8; INLINE],
    len: usize,
    stream: Option<Xxh64>,
}

impl SeriesHasher {
    fn new() -> Self {
        SeriesHasher {
            buf: [0; INLINE],
            len: 0,
            stream: None,
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        if let Some(stream) = &mut self.stream {
            stream.update(bytes);
            return;
        }
        match self.buf.get_mut(self.len..self.len + bytes.len()) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.len += bytes.len();
            }
            None => {
                let mut stream = Xxh64::new(0);
                stream.update(&self.buf[..self.len]);
                stream.update(bytes);
                self.stream = Some(stream);
            }
        }
    }

    fn finish(&self) -> u64 {
        match &self.stream {
            Some(stream) => stream.digest(),
            None => xxhash_rust::xxh64::xxh64(&self.buf[..self.len], 0),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use xxhash_rust::xxh64::xxh64;

    #[test]
    fn xxh64_reference_vectors() {
        // The XXH64 reference values (seed 0), as Go's cespare/xxhash computes them.
        assert_eq!(xxh64(b"", 0), 0xef46db3751d8e999);
        assert_eq!(xxh64(b"a", 0), 0xd24ec4f1a98c6e5b);
        assert_eq!(xxh64(b"abc", 0), 0x44bc2cf5ad770999);
    }

    #[test]
    fn byte_layout_is_tenant_sep_then_pairs() {
        let labels = Labels::new(&[("foo", "bar"), ("a", "b")]).unwrap();
        let expected = xxh64(b"t\xffa\xffb\xfffoo\xffbar\xff", 0);
        assert_eq!(hash_series("t", &labels), expected);
        assert_eq!(hash_series("", &Labels::empty()), xxh64(b"\xff", 0));
    }

    #[test]
    fn pairs_keep_their_order_and_empty_values() {
        let h = hash_series_pairs("t", [("b", "1"), ("a", "")]);
        assert_eq!(h, xxh64(b"t\xffb\xff1\xffa\xff\xff", 0));
    }

    #[test]
    fn long_series_stream_gives_the_one_shot_digest() {
        for len in [1000, 1017, 1018, 1019, 1020, 1021, 3000] {
            let value = "v".repeat(len);
            let mut bytes = b"tenant\xffname\xff".to_vec();
            bytes.extend_from_slice(value.as_bytes());
            bytes.push(SEP);
            bytes.extend_from_slice(b"z\xffy\xff");
            let got = hash_series_pairs("tenant", [("name", value.as_str()), ("z", "y")]);
            assert_eq!(got, xxh64(&bytes, 0), "value length {len}");
        }
    }
}
