//! Placements computed by Thanos' own code: `hashring.go` (`newKetamaHashring`,
//! `calculateSectionReplicas`, `simpleHashring.GetN`) and `labelpb.HashWithPrefix` from
//! thanos-io/thanos e103a81, built with Go 1.19 and cespare/xxhash v2.1.1, for the rings
//! and series below. Each line is one series' replicas 0, 1, … in order.

use strata_model::Labels;
use strata_receive::hashring::{Endpoint, HashmodRing, Hashring, hash_series};

use super::{endpoints, ketama, labels, zoned};

/// The series of the tables, by index.
fn series(index: usize) -> Labels {
    match index {
        0 => labels(&[("__name__", "up"), ("job", "node")]),
        1 => labels(&[("foo", "bar")]),
        2 => labels(&[("pod", "nginx-1")]),
        _ => labels(&[("a", "1"), ("b", "2"), ("c", "3")]),
    }
}

/// The rings of the ketama table and their replication factors.
fn ketama_ring(name: &str) -> (Vec<Endpoint>, u64) {
    match name {
        "plain3" => (
            endpoints(&["r1:10901", "r2:10901", "r3:10901", "r4:10901", "r5:10901"]),
            3,
        ),
        "az6" => (
            zoned(&[
                ("a", "1"),
                ("b", "2"),
                ("c", "3"),
                ("d", "1"),
                ("e", "2"),
                ("f", "3"),
            ]),
            3,
        ),
        "az12" => (
            zoned(&[
                ("a", "1"),
                ("b", "2"),
                ("c", "3"),
                ("d", "1"),
                ("e", "2"),
                ("f", "3"),
                ("g", "4"),
                ("h", "4"),
                ("i", "4"),
                ("j", "5"),
                ("k", "5"),
                ("l", "5"),
            ]),
            10,
        ),
        _ => (
            zoned(&[
                ("a1", "A"),
                ("a2", "A"),
                ("a3", "A"),
                ("b1", "B"),
                ("c1", ""),
            ]),
            4,
        ),
    }
}

const KETAMA: &str = r#"
plain3 tenant="default-tenant" series=0 -> r5:10901 r3:10901 r4:10901
plain3 tenant="default-tenant" series=1 -> r4:10901 r3:10901 r5:10901
plain3 tenant="default-tenant" series=2 -> r4:10901 r1:10901 r2:10901
plain3 tenant="default-tenant" series=3 -> r2:10901 r5:10901 r1:10901
plain3 tenant="tenant" series=0 -> r4:10901 r1:10901 r2:10901
plain3 tenant="tenant" series=1 -> r5:10901 r3:10901 r1:10901
plain3 tenant="tenant" series=2 -> r5:10901 r4:10901 r2:10901
plain3 tenant="tenant" series=3 -> r1:10901 r5:10901 r2:10901
plain3 tenant="" series=0 -> r2:10901 r4:10901 r3:10901
plain3 tenant="" series=1 -> r5:10901 r4:10901 r2:10901
plain3 tenant="" series=2 -> r3:10901 r2:10901 r5:10901
plain3 tenant="" series=3 -> r1:10901 r3:10901 r5:10901
az6 tenant="default-tenant" series=0 -> a f b
az6 tenant="default-tenant" series=1 -> d f b
az6 tenant="default-tenant" series=2 -> a c b
az6 tenant="default-tenant" series=3 -> b f a
az6 tenant="tenant" series=0 -> b a c
az6 tenant="tenant" series=1 -> e c d
az6 tenant="tenant" series=2 -> c a e
az6 tenant="tenant" series=3 -> b c a
az6 tenant="" series=0 -> e c d
az6 tenant="" series=1 -> c a b
az6 tenant="" series=2 -> e f d
az6 tenant="" series=3 -> b f a
az12 tenant="default-tenant" series=0 -> l a h f b g k d e c
az12 tenant="default-tenant" series=1 -> d f i j b h e k a c
az12 tenant="default-tenant" series=2 -> h a l c b i e d f j
az12 tenant="default-tenant" series=3 -> b f g j a k i d c e
az12 tenant="tenant" series=0 -> b h k a c j e d f g
az12 tenant="tenant" series=1 -> e g j c d a f i l b
az12 tenant="tenant" series=2 -> c i l a e h f d j b
az12 tenant="tenant" series=3 -> b c g k a l e i f d
az12 tenant="" series=0 -> e c d l h b i f j a
az12 tenant="" series=1 -> c a b l i k d f h e
az12 tenant="" series=2 -> i e f d l g j c a b
az12 tenant="" series=3 -> b g f j a l e d h c
az-uneven tenant="default-tenant" series=0 -> b1 a3 c1 a1
az-uneven tenant="default-tenant" series=1 -> b1 a1 c1 a2
az-uneven tenant="default-tenant" series=2 -> b1 a1 c1 a3
az-uneven tenant="default-tenant" series=3 -> a2 c1 b1 a3
az-uneven tenant="tenant" series=0 -> a1 b1 c1 a3
az-uneven tenant="tenant" series=1 -> a3 b1 c1 a1
az-uneven tenant="tenant" series=2 -> a3 c1 b1 a2
az-uneven tenant="tenant" series=3 -> b1 c1 a3 a2
az-uneven tenant="" series=0 -> a2 b1 c1 a1
az-uneven tenant="" series=1 -> a1 c1 b1 a3
az-uneven tenant="" series=2 -> c1 a1 b1 a2
az-uneven tenant="" series=3 -> a2 c1 b1 a1
"#;

/// Hashmod over `r3, r1, r2, r5, r4` (sorted to r1…r5), replicas 0..3, with the series hash.
const HASHMOD: &str = r#"
tenant="default-tenant" series=0 hash=0x60103fd36f09adeb -> r5 r1 r2
tenant="default-tenant" series=1 hash=0xab6c7109be91f579 -> r3 r4 r5
tenant="default-tenant" series=2 hash=0x14c40ea32a47737c -> r1 r2 r3
tenant="default-tenant" series=3 hash=0x2d84c1f46198298e -> r2 r3 r4
tenant="tenant" series=0 hash=0x1757cefaadd19d55 -> r1 r2 r3
tenant="tenant" series=1 hash=0x44561aed7b707810 -> r4 r5 r1
tenant="tenant" series=2 hash=0xb69278be38acc7cf -> r3 r4 r5
tenant="tenant" series=3 hash=0xe269493b6be49064 -> r3 r4 r5
tenant="" series=0 hash=0x1aeaef2f39895e2c -> r4 r5 r1
tenant="" series=1 hash=0xe4e62b4a9051c6df -> r2 r3 r4
tenant="" series=2 hash=0x807d4ee66aa09652 -> r5 r1 r2
tenant="" series=3 hash=0x77fc6f0f942e288b -> r1 r2 r3
"#;

/// One table line: (ring or "", tenant, series index, hash if given, replicas).
struct Line<'a> {
    ring: &'a str,
    tenant: &'a str,
    series: usize,
    hash: Option<u64>,
    replicas: Vec<&'a str>,
}

fn parse(table: &str, with_ring: bool) -> Vec<Line<'_>> {
    table
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (head, replicas) = l.split_once(" -> ").unwrap();
            let mut fields = head.split(' ');
            let ring = if with_ring {
                fields.next().unwrap()
            } else {
                ""
            };
            let mut line = Line {
                ring,
                tenant: "",
                series: 0,
                hash: None,
                replicas: replicas.split(' ').collect(),
            };
            for f in fields {
                let (k, v) = f.split_once('=').unwrap();
                match k {
                    "tenant" => line.tenant = v.trim_matches('"'),
                    "series" => line.series = v.parse().unwrap(),
                    "hash" => {
                        line.hash =
                            Some(u64::from_str_radix(v.trim_start_matches("0x"), 16).unwrap())
                    }
                    other => panic!("unknown field {other}"),
                }
            }
            line
        })
        .collect()
}

#[test]
fn series_hash_matches_hash_with_prefix() {
    assert_eq!(
        hash_series("tenant", &labels(&[("pod", "nginx")])),
        0x25c44c0780c34a23
    );
    assert_eq!(hash_series("", &Labels::empty()), 0x95634172a60b7544);
    for line in parse(HASHMOD, false) {
        assert_eq!(
            Some(hash_series(line.tenant, &series(line.series))),
            line.hash,
            "tenant {:?} series {}",
            line.tenant,
            line.series
        );
    }
}

#[test]
fn hashmod_placement() {
    let ring = HashmodRing::new(endpoints(&["r3", "r1", "r2", "r5", "r4"])).unwrap();
    let lines = parse(HASHMOD, false);
    assert_eq!(lines.len(), 12);
    for line in lines {
        let got: Vec<&str> = (0..3)
            .map(|n| {
                ring.get_n(line.tenant, &series(line.series), n)
                    .unwrap()
                    .address
                    .as_str()
            })
            .collect();
        assert_eq!(
            got, line.replicas,
            "tenant {:?} series {}",
            line.tenant, line.series
        );
    }
}

#[test]
fn ketama_placement() {
    let lines = parse(KETAMA, true);
    assert_eq!(lines.len(), 48);
    let mut rings = std::collections::HashMap::new();
    for line in lines {
        let (ring, rf) = rings.entry(line.ring).or_insert_with(|| {
            let (nodes, rf) = ketama_ring(line.ring);
            (ketama(nodes, rf), rf)
        });
        let rf = *rf;
        let s = series(line.series);
        let got: Vec<&str> = (0..rf)
            .map(|n| ring.get_n(line.tenant, &s, n).unwrap().address.as_str())
            .collect();
        let what = format!(
            "ring {} tenant {:?} series {}",
            line.ring, line.tenant, line.series
        );
        assert_eq!(got, line.replicas, "{what}");
        let all: Vec<&str> = ring
            .replicas_hashed(hash_series(line.tenant, &s))
            .map(|e| e.address.as_str())
            .collect();
        assert_eq!(all, line.replicas, "{what} (replicas_hashed)");
    }
}
