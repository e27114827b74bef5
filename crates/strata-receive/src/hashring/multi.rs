//! Several rings, one per group of tenants (Thanos' `multiHashring`).
//!
//! A tenant goes to the first ring, in file order, that accepts it: a ring without tenants
//! accepts everyone; otherwise its `tenants` are compared exactly or as Go `path.Match`
//! globs. No ring accepting the tenant is an error for that tenant's writes.
//!
//! Checks beyond Thanos (which accepts these and fails or misbehaves later): a replication
//! factor of 0, a ring without endpoints, the same address twice in a ring, and a
//! malformed glob (Thanos fails each write of a tenant that reaches it). As in Thanos, a
//! ketama ring needs at least `replication_factor` endpoints, while a hashmod ring with
//! fewer is accepted and answers `InsufficientNodes` for the missing replicas.

use std::collections::HashSet;

use strata_model::Labels;

use super::config::ring_label;
use super::{
    Algorithm, Endpoint, GoGlob, HashmodRing, Hashring, HashringConfig, KetamaRing,
    TenantMatcherType,
};
use crate::error::{Error, Result};

/// A ring of one of the two algorithms.
#[derive(Debug, Clone)]
pub enum Ring {
    Hashmod(HashmodRing),
    Ketama(KetamaRing),
}

impl Ring {
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Ring::Hashmod(_) => Algorithm::Hashmod,
            Ring::Ketama(_) => Algorithm::Ketama,
        }
    }
}

impl Hashring for Ring {
    fn get_n_hashed(&self, tenant: &str, hash: u64, n: u64) -> Result<&Endpoint> {
        match self {
            Ring::Hashmod(r) => r.get_n_hashed(tenant, hash, n),
            Ring::Ketama(r) => r.get_n_hashed(tenant, hash, n),
        }
    }

    fn endpoints(&self) -> &[Endpoint] {
        match self {
            Ring::Hashmod(r) => r.endpoints(),
            Ring::Ketama(r) => r.endpoints(),
        }
    }
}

/// Which tenants a ring accepts.
#[derive(Debug, Clone)]
enum TenantMatcher {
    All,
    Exact(HashSet<String>),
    Glob(Vec<GoGlob>),
}

/// One configured ring with its tenants and external labels.
#[derive(Debug, Clone)]
pub struct TenantHashring {
    name: String,
    tenants: Vec<String>,
    matcher_type: TenantMatcherType,
    matcher: TenantMatcher,
    ring: Ring,
    external_labels: Labels,
}

impl TenantHashring {
    /// The `hashring` name from the file (may be empty).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `tenants` as written; empty for the catch-all ring.
    pub fn tenants(&self) -> &[String] {
        &self.tenants
    }

    pub fn tenant_matcher_type(&self) -> TenantMatcherType {
        self.matcher_type
    }

    pub fn ring(&self) -> &Ring {
        &self.ring
    }

    /// The ring's `external_labels`. Note that Thanos applies them only to tenants the
    /// ring lists by name: see [`MultiHashring::external_labels_for_tenant`].
    pub fn external_labels(&self) -> &Labels {
        &self.external_labels
    }

    /// Whether this ring accepts `tenant`.
    pub fn accepts(&self, tenant: &str) -> bool {
        match &self.matcher {
            TenantMatcher::All => true,
            TenantMatcher::Exact(set) => set.contains(tenant),
            TenantMatcher::Glob(globs) => globs.iter().any(|g| g.matches(tenant)),
        }
    }
}

impl Hashring for TenantHashring {
    fn get_n_hashed(&self, tenant: &str, hash: u64, n: u64) -> Result<&Endpoint> {
        self.ring.get_n_hashed(tenant, hash, n)
    }

    fn endpoints(&self) -> &[Endpoint] {
        self.ring.endpoints()
    }
}

/// All rings of a hashrings file.
#[derive(Debug, Clone)]
pub struct MultiHashring {
    rings: Vec<TenantHashring>,
    /// Every ring's endpoints, sorted by address (an address in two rings is listed twice).
    endpoints: Vec<Endpoint>,
    replication_factor: u64,
}

/// Builds the rings of `configs` (Thanos' `NewMultiHashring`). A ring without an
/// `algorithm` uses `default_algorithm`; ketama rings precompute `replication_factor`
/// replicas. The first invalid ring is reported, named by position and name.
pub fn build(
    configs: &[HashringConfig],
    default_algorithm: Algorithm,
    replication_factor: u64,
) -> Result<MultiHashring> {
    if replication_factor == 0 {
        return Err(Error::HashringConfig(
            "replication factor must be at least 1".into(),
        ));
    }
    let mut rings = Vec::with_capacity(configs.len());
    for (index, config) in configs.iter().enumerate() {
        let ring = build_ring(config, default_algorithm, replication_factor).map_err(|e| {
            let what = ring_label(index, &config.hashring);
            match e {
                Error::HashringConfig(msg) => Error::HashringConfig(format!("{what}: {msg}")),
                other => other,
            }
        })?;
        rings.push(ring);
    }
    let mut endpoints: Vec<Endpoint> = rings
        .iter()
        .flat_map(|r| r.endpoints().iter().cloned())
        .collect();
    endpoints.sort();
    Ok(MultiHashring {
        rings,
        endpoints,
        replication_factor,
    })
}

fn build_ring(
    config: &HashringConfig,
    default_algorithm: Algorithm,
    replication_factor: u64,
) -> Result<TenantHashring> {
    let invalid = |msg: String| Error::HashringConfig(msg);
    if config.endpoints.is_empty() {
        return Err(invalid("no endpoints".into()));
    }
    let mut seen = HashSet::with_capacity(config.endpoints.len());
    for e in &config.endpoints {
        if !seen.insert(e.address.as_str()) {
            return Err(invalid(format!(
                "duplicate endpoint address {:?}",
                e.address
            )));
        }
    }
    let algorithm = config.algorithm.unwrap_or(default_algorithm);
    let ring = match algorithm {
        Algorithm::Hashmod => Ring::Hashmod(HashmodRing::new(config.endpoints.clone())?),
        Algorithm::Ketama => Ring::Ketama(KetamaRing::new(
            config.endpoints.clone(),
            replication_factor,
        )?),
    };
    let matcher = match (config.tenants.is_empty(), config.tenant_matcher_type) {
        (true, _) => TenantMatcher::All,
        (false, TenantMatcherType::Exact) => {
            TenantMatcher::Exact(config.tenants.iter().cloned().collect())
        }
        (false, TenantMatcherType::Glob) => TenantMatcher::Glob(
            config
                .tenants
                .iter()
                .map(|p| GoGlob::new(p).map_err(|e| invalid(format!("tenant pattern {p:?}: {e}"))))
                .collect::<Result<_>>()?,
        ),
    };
    Ok(TenantHashring {
        name: config.hashring.clone(),
        tenants: config.tenants.clone(),
        matcher_type: config.tenant_matcher_type,
        matcher,
        ring,
        external_labels: config.external_labels.clone(),
    })
}

impl MultiHashring {
    /// The rings in file order.
    pub fn rings(&self) -> &[TenantHashring] {
        &self.rings
    }

    pub fn replication_factor(&self) -> u64 {
        self.replication_factor
    }

    /// The ring that serves `tenant`: the first, in file order, that accepts it.
    pub fn hashring_for_tenant(&self, tenant: &str) -> Result<&TenantHashring> {
        self.rings
            .iter()
            .find(|r| r.accepts(tenant))
            .ok_or_else(|| Error::NoMatchingHashring {
                tenant: tenant.to_owned(),
            })
    }

    /// The external labels Thanos gives a tenant's blocks from the hashrings file: those of
    /// the first ring whose `tenants` list the tenant literally (even a glob ring's list
    /// is compared as plain strings). Catch-all and pattern-matched tenants get none,
    /// whatever ring serves them. Thanos adds them under its own labels (the tenant label
    /// and `--label`), which win on a name clash.
    pub fn external_labels_for_tenant(&self, tenant: &str) -> Option<&Labels> {
        self.rings
            .iter()
            .find(|r| r.tenants.iter().any(|t| t == tenant))
            .map(|r| &r.external_labels)
    }
}

impl Hashring for MultiHashring {
    fn get_n_hashed(&self, tenant: &str, hash: u64, n: u64) -> Result<&Endpoint> {
        self.hashring_for_tenant(tenant)?
            .get_n_hashed(tenant, hash, n)
    }

    /// Every ring's endpoints sorted by address; an address in several rings repeats.
    fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::hashring::parse_config;

    fn multi(json: &str, rf: u64) -> Result<MultiHashring> {
        build(&parse_config(json.as_bytes())?, Algorithm::Hashmod, rf)
    }

    fn ring_name<'a>(m: &'a MultiHashring, tenant: &str) -> &'a str {
        m.hashring_for_tenant(tenant).unwrap().name()
    }

    #[test]
    fn first_accepting_ring_wins() {
        let m = multi(
            r#"[{"hashring": "a", "tenants": ["t1", "t2"], "endpoints": ["n1"]},
                {"hashring": "g", "tenants": ["t*"], "tenant_matcher_type": "glob", "endpoints": ["n2"]},
                {"hashring": "default", "endpoints": ["n3"]},
                {"hashring": "never", "endpoints": ["n4"]}]"#,
            1,
        )
        .unwrap();
        assert_eq!(ring_name(&m, "t1"), "a");
        assert_eq!(ring_name(&m, "t3"), "g");
        assert_eq!(ring_name(&m, "x"), "default");
        assert_eq!(ring_name(&m, ""), "default");
        let addrs: Vec<&str> = m.endpoints().iter().map(|e| e.address.as_str()).collect();
        assert_eq!(addrs, ["n1", "n2", "n3", "n4"]);
    }

    #[test]
    fn no_matching_ring() {
        let m = multi(r#"[{"tenants": ["a"], "endpoints": ["n1"]}]"#, 1).unwrap();
        assert_eq!(
            m.get_n_hashed("b", 0, 0).unwrap_err().to_string(),
            "no matching hashring to handle tenant \"b\""
        );
        let empty = build(&[], Algorithm::Ketama, 1).unwrap();
        assert!(empty.hashring_for_tenant("a").is_err());
    }

    #[test]
    fn external_labels_only_for_listed_tenants() {
        let m = multi(
            r#"[{"tenants": ["p*"], "tenant_matcher_type": "glob", "endpoints": ["n1"],
                 "external_labels": {"ring": "glob"}},
                {"tenants": ["a"], "endpoints": ["n2"], "external_labels": {"ring": "a1"}},
                {"tenants": ["a", "p*"], "endpoints": ["n3"], "external_labels": {"ring": "a2"}},
                {"endpoints": ["n4"], "external_labels": {"ring": "default"}}]"#,
            1,
        )
        .unwrap();
        let ext = |t: &str| m.external_labels_for_tenant(t).map(|l| l.to_string());
        assert_eq!(ext("a").as_deref(), Some(r#"{ring="a1"}"#));
        assert_eq!(ext("p*").as_deref(), Some(r#"{ring="glob"}"#));
        assert_eq!(ext("px"), None);
        assert_eq!(ext("other"), None);
    }

    #[test]
    fn validation_errors_name_the_ring() {
        let e = |json: &str, rf: u64| multi(json, rf).unwrap_err().to_string();
        assert_eq!(
            e(r#"[{"hashring": "x", "endpoints": ["a", "b", "a"]}]"#, 1),
            "hashring configuration: hashring #0 (\"x\"): duplicate endpoint address \"a\""
        );
        assert_eq!(
            e(r#"[{"endpoints": ["a"]}, {"endpoints": []}]"#, 1),
            "hashring configuration: hashring #1: no endpoints"
        );
        // Thanos accepts a hashmod ring smaller than the replication factor.
        assert!(multi(r#"[{"endpoints": ["a", "b"]}]"#, 3).is_ok());
        assert!(
            e(r#"[{"algorithm": "ketama", "endpoints": ["a", "b"]}]"#, 3)
                .contains("needs to be larger than replication factor")
        );
        assert_eq!(
            e(
                r#"[{"tenants": ["a["], "tenant_matcher_type": "glob", "endpoints": ["a"]}]"#,
                1
            ),
            "hashring configuration: hashring #0: tenant pattern \"a[\": syntax error in pattern"
        );
        assert_eq!(
            e(r#"[{"endpoints": [{"address": "a", "az": "1"}]}]"#, 1),
            "hashring configuration: hashring #0: Hashmod algorithm does not support AZ aware \
             hashring configuration. Either use Ketama or remove AZ configuration."
        );
        assert!(
            e(r#"[{"endpoints": ["a"]}]"#, 0).contains("replication factor must be at least 1")
        );
    }

    #[test]
    fn per_ring_algorithm_overrides_default() {
        let m = multi(
            r#"[{"tenants": ["k"], "algorithm": "ketama", "endpoints": ["a", "b"]},
                {"endpoints": ["c", "d"]}]"#,
            2,
        )
        .unwrap();
        assert_eq!(
            m.hashring_for_tenant("k").unwrap().ring().algorithm(),
            Algorithm::Ketama
        );
        assert_eq!(
            m.hashring_for_tenant("x").unwrap().ring().algorithm(),
            Algorithm::Hashmod
        );
    }
}
