//! The set of Store API endpoints the querier fans out to (Thanos' `EndpointSet`).
//!
//! Endpoints come from static specs (`--endpoint`) and file SD files
//! (`--endpoint.sd-files`, re-read on every refresh so edits are picked up); `dns+`
//! specs are resolved on every refresh. Each refresh calls every endpoint's Info API
//! (concurrently, with a timeout) and records its component type, external label sets,
//! time range and health. As in Thanos, an endpoint is queried only while its last Info
//! call succeeded and it offers the Store API; one that fails keeps its last metadata,
//! which the stores page shows with the error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use parking_lot::{Mutex, RwLock};
use strata_model::Labels;
use strata_proto::infopb::InfoRequest;
use strata_proto::infopb::info_client::InfoClient;
use tonic::transport::Channel;
use tracing::{debug, info, warn};

use crate::error::Result;
use crate::spec::{EndpointSpec, read_sd_file};

/// Thanos' default `--endpoint.info-timeout`.
pub const DEFAULT_INFO_TIMEOUT: Duration = Duration::from_secs(5);

/// How to build an [`EndpointSet`].
#[derive(Debug, Clone)]
pub struct EndpointSetConfig {
    /// `--endpoint` values: `host:port` or `dns+host:port`.
    pub endpoints: Vec<String>,
    /// `--endpoint.sd-files`: Prometheus file SD files (`[{targets: [...]}]`).
    pub sd_files: Vec<PathBuf>,
    /// Time between refreshes (Info calls, DNS and file re-reads).
    pub refresh_interval: Duration,
    /// Longest wait for one Info call.
    pub info_timeout: Duration,
}

impl Default for EndpointSetConfig {
    fn default() -> Self {
        EndpointSetConfig {
            endpoints: Vec::new(),
            sd_files: Vec::new(),
            refresh_interval: Duration::from_secs(5),
            info_timeout: DEFAULT_INFO_TIMEOUT,
        }
    }
}

/// What the last successful Info call said.
#[derive(Debug, Clone)]
struct Metadata {
    component_type: String,
    label_sets: Vec<Labels>,
    store: Option<StoreRange>,
}

#[derive(Debug, Clone, Copy)]
struct StoreRange {
    min_time: i64,
    max_time: i64,
    supports_without_replica_labels: bool,
}

#[derive(Debug, Default)]
struct State {
    last_check: Option<SystemTime>,
    last_error: Option<String>,
    metadata: Option<Metadata>,
}

/// One endpoint: its address, a lazily connected channel and its last Info result.
struct Endpoint {
    addr: String,
    channel: Channel,
    state: RwLock<State>,
}

/// A snapshot of one endpoint, for the stores page and for callers.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointStatus {
    /// The address dialled.
    pub name: String,
    /// Thanos' component type (`store`, `sidecar`, `receive`, `rule`, `query`, `debug`,
    /// `unknown-store-api`); `None` until an Info call succeeded.
    pub component_type: Option<String>,
    /// Time of the last successful Info call.
    pub last_check: Option<SystemTime>,
    /// Error of the last Info call, `None` when it succeeded.
    pub last_error: Option<String>,
    /// External label sets (empty sets dropped, as Thanos does).
    pub label_sets: Vec<Labels>,
    pub min_time: i64,
    pub max_time: i64,
    /// The endpoint offers the Store API.
    pub has_store_api: bool,
    /// The store removes `without_replica_labels` itself.
    pub supports_without_replica_labels: bool,
}

impl EndpointStatus {
    /// Queried: the last Info call succeeded and the endpoint offers the Store API.
    pub fn is_queryable(&self) -> bool {
        self.last_error.is_none() && self.last_check.is_some() && self.has_store_api
    }
}

/// A store chosen for a request: what the fan-out needs.
#[derive(Clone)]
pub(crate) struct StoreTarget {
    pub addr: String,
    pub channel: Channel,
    pub label_sets: Vec<Labels>,
    pub min_time: i64,
    pub max_time: i64,
}

impl StoreTarget {
    /// `addr` and external labels, the way warnings and errors name a store.
    pub fn describe(&self) -> String {
        let sets: Vec<String> = self.label_sets.iter().map(|l| l.to_string()).collect();
        format!("{} [{}]", self.addr, sets.join(","))
    }
}

struct Inner {
    specs: Vec<EndpointSpec>,
    sd_files: Vec<PathBuf>,
    interval: Duration,
    info_timeout: Duration,
    /// Last good parse of each SD file and resolution of each spec, kept when a later
    /// read or lookup fails.
    sd_last_good: Mutex<BTreeMap<PathBuf, Vec<EndpointSpec>>>,
    dns_last_good: Mutex<BTreeMap<EndpointSpec, Vec<String>>>,
    endpoints: RwLock<BTreeMap<String, Arc<Endpoint>>>,
    refreshing: tokio::sync::Mutex<()>,
}

/// The endpoints the querier knows, refreshed periodically. Cheap to clone.
#[derive(Clone)]
pub struct EndpointSet {
    inner: Arc<Inner>,
}

impl EndpointSet {
    /// A set over `endpoints` and `sd_files`, refreshed every `interval` once
    /// [`spawn_refresh`](Self::spawn_refresh) runs. Fails on an invalid spec (including
    /// the unsupported `dnssrv+`).
    pub fn new(endpoints: &[String], sd_files: &[PathBuf], interval: Duration) -> Result<Self> {
        Self::from_config(EndpointSetConfig {
            endpoints: endpoints.to_vec(),
            sd_files: sd_files.to_vec(),
            refresh_interval: interval,
            ..EndpointSetConfig::default()
        })
    }

    /// A set from a full configuration.
    pub fn from_config(cfg: EndpointSetConfig) -> Result<Self> {
        let specs = cfg
            .endpoints
            .iter()
            .map(|s| EndpointSpec::parse(s))
            .collect::<Result<Vec<_>>>()?;
        Ok(EndpointSet {
            inner: Arc::new(Inner {
                specs,
                sd_files: cfg.sd_files,
                interval: cfg.refresh_interval,
                info_timeout: cfg.info_timeout,
                sd_last_good: Mutex::new(BTreeMap::new()),
                dns_last_good: Mutex::new(BTreeMap::new()),
                endpoints: RwLock::new(BTreeMap::new()),
                refreshing: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// Refreshes now and then every interval, until the returned task is aborted. Must
    /// be called inside a tokio runtime.
    pub fn spawn_refresh(&self) -> tokio::task::JoinHandle<()> {
        let set = self.clone();
        tokio::spawn(async move {
            loop {
                set.refresh().await;
                tokio::time::sleep(set.inner.interval).await;
            }
        })
    }

    /// Static specs plus the current contents of every SD file.
    fn current_specs(&self) -> Vec<EndpointSpec> {
        let mut specs: BTreeSet<EndpointSpec> = self.inner.specs.iter().cloned().collect();
        let mut last_good = self.inner.sd_last_good.lock();
        for path in &self.inner.sd_files {
            match read_sd_file(path) {
                Ok(s) => {
                    last_good.insert(path.clone(), s);
                }
                Err(e) => warn!(error = %e, "keeping the last good endpoints of the SD file"),
            }
            if let Some(s) = last_good.get(path) {
                specs.extend(s.iter().cloned());
            }
        }
        specs.into_iter().collect()
    }

    async fn resolve(&self, specs: &[EndpointSpec]) -> BTreeSet<String> {
        let mut addrs = BTreeSet::new();
        for spec in specs {
            match spec.resolve().await {
                Ok(a) => {
                    if matches!(spec, EndpointSpec::Dns { .. }) {
                        self.inner
                            .dns_last_good
                            .lock()
                            .insert(spec.clone(), a.clone());
                    }
                    addrs.extend(a);
                }
                Err(e) => {
                    warn!(error = %e, "endpoint lookup failed; keeping its last addresses");
                    if let Some(a) = self.inner.dns_last_good.lock().get(spec) {
                        addrs.extend(a.iter().cloned());
                    }
                }
            }
        }
        addrs
    }

    /// One refresh: re-reads SD files, resolves specs, adds and drops endpoints and
    /// calls every endpoint's Info API.
    pub async fn refresh(&self) {
        let _one_at_a_time = self.inner.refreshing.lock().await;
        let specs = self.current_specs();
        let addrs = self.resolve(&specs).await;
        let current = self.inner.endpoints.read().clone();
        let mut next = BTreeMap::new();
        for addr in addrs {
            if let Some(ep) = current.get(&addr) {
                next.insert(addr, ep.clone());
                continue;
            }
            match connect(&addr, self.inner.info_timeout) {
                Ok(channel) => {
                    info!(address = %addr, "adding endpoint");
                    next.insert(
                        addr.clone(),
                        Arc::new(Endpoint {
                            addr,
                            channel,
                            state: RwLock::new(State::default()),
                        }),
                    );
                }
                Err(e) => warn!(address = %addr, error = %e, "cannot dial endpoint"),
            }
        }
        for addr in current.keys().filter(|a| !next.contains_key(*a)) {
            info!(address = %addr, "removing endpoint that is no longer configured");
        }
        let timeout = self.inner.info_timeout;
        futures::future::join_all(next.values().map(|ep| ep.check(timeout))).await;
        *self.inner.endpoints.write() = next;
    }

    /// Every endpoint's status, sorted by address.
    pub fn stores(&self) -> Vec<EndpointStatus> {
        self.inner
            .endpoints
            .read()
            .values()
            .map(|ep| ep.status())
            .collect()
    }

    /// The endpoints queries go to now.
    pub(crate) fn queryable(&self) -> Vec<StoreTarget> {
        let eps = self.inner.endpoints.read();
        eps.values()
            .filter_map(|ep| {
                let st = ep.status();
                st.is_queryable().then(|| StoreTarget {
                    addr: st.name,
                    channel: ep.channel.clone(),
                    label_sets: st.label_sets,
                    min_time: st.min_time,
                    max_time: st.max_time,
                })
            })
            .collect()
    }
}

fn connect(addr: &str, timeout: Duration) -> Result<Channel> {
    let ep = tonic::transport::Endpoint::from_shared(format!("http://{addr}")).map_err(|e| {
        crate::Error::InvalidEndpoint {
            spec: addr.to_owned(),
            reason: e.to_string(),
        }
    })?;
    Ok(ep.connect_timeout(timeout).tcp_nodelay(true).connect_lazy())
}

impl Endpoint {
    /// Calls Info and records the outcome.
    async fn check(&self, timeout: Duration) {
        let mut client = InfoClient::new(self.channel.clone());
        let outcome = match tokio::time::timeout(timeout, client.info(InfoRequest {})).await {
            Ok(Ok(resp)) => metadata(resp.into_inner()),
            Ok(Err(status)) => Err(format!(
                "getting metadata: rpc error: code = {:?} desc = {}",
                status.code(),
                status.message()
            )),
            Err(_) => Err(format!(
                "getting metadata: no answer within {}ms",
                timeout.as_millis()
            )),
        };
        let mut st = self.state.write();
        match outcome {
            Ok(md) => {
                debug!(address = %self.addr, component = %md.component_type, "endpoint healthy");
                st.last_check = Some(SystemTime::now());
                st.last_error = None;
                st.metadata = Some(md);
            }
            Err(e) => {
                if st.last_error.is_none() {
                    warn!(address = %self.addr, error = %e, "endpoint unhealthy");
                }
                st.last_error = Some(e);
            }
        }
    }

    fn status(&self) -> EndpointStatus {
        let st = self.state.read();
        let md = st.metadata.as_ref();
        let store = md.and_then(|m| m.store);
        EndpointStatus {
            name: self.addr.clone(),
            component_type: md.map(|m| m.component_type.clone()),
            last_check: st.last_check,
            last_error: st.last_error.clone(),
            label_sets: md.map(|m| m.label_sets.clone()).unwrap_or_default(),
            min_time: store.map_or(i64::MIN, |s| s.min_time),
            max_time: store.map_or(i64::MAX, |s| s.max_time),
            has_store_api: store.is_some(),
            supports_without_replica_labels: store
                .is_some_and(|s| s.supports_without_replica_labels),
        }
    }
}

/// Thanos' `component.FromString`: known names, everything else
/// `unknown-store-api`.
fn component_type(s: &str) -> &'static str {
    match s {
        "query" => "query",
        "rule" => "rule",
        "sidecar" => "sidecar",
        "store" => "store",
        "receive" => "receive",
        "debug" => "debug",
        _ => "unknown-store-api",
    }
}

fn metadata(resp: strata_proto::infopb::InfoResponse) -> std::result::Result<Metadata, String> {
    let mut label_sets = Vec::new();
    for z in &resp.label_sets {
        let l = z
            .to_labels()
            .map_err(|e| format!("getting metadata: external labels: {e}"))?;
        if !l.is_empty() {
            label_sets.push(l);
        }
    }
    Ok(Metadata {
        component_type: component_type(&resp.component_type).to_owned(),
        label_sets,
        store: resp.store.map(|s| StoreRange {
            min_time: s.min_time,
            max_time: s.max_time,
            supports_without_replica_labels: s.supports_without_replica_labels,
        }),
    })
}
