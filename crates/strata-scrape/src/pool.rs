//! A scrape pool: the targets and loops of one scrape config (Prometheus' `scrapePool`).

use std::collections::HashMap;
use std::sync::Arc;

use strata_config::ScrapeConfig;
use strata_discovery::TargetGroup;
use strata_model::Labels;
use strata_relabel::RelabelBuilder;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

use crate::appender::Appendable;
use crate::cache::ScrapeCache;
use crate::client::ScrapeClient;
use crate::populate::{static_groups, targets_from_group};
use crate::scrape_loop::{Control, ScrapeLoop, StopMode};
use crate::target::Target;

/// What loops need from the manager.
pub(crate) struct LoopEnv<'a> {
    pub storage: &'a Arc<dyn Appendable>,
    pub clock: &'a strata_model::clock::SharedClock,
    pub user_agent: &'a str,
    pub offset_seed: u64,
    pub skip_jitter: bool,
    pub shutdown: &'a watch::Receiver<bool>,
    pub tasks: &'a mut JoinSet<()>,
}

struct LoopHandle {
    target: Arc<Target>,
    ctl: watch::Sender<Control>,
    stopped: oneshot::Receiver<Option<ScrapeCache>>,
}

impl LoopHandle {
    /// Tells the loop to stop and waits until it scrapes no more; returns its cache on
    /// a handover.
    async fn stop(self, mode: StopMode) -> Option<ScrapeCache> {
        self.ctl.send_modify(|c| c.stop = Some(mode));
        self.stopped.await.ok().flatten()
    }
}

/// The config of a pool without what only decides which targets exist: two configs
/// equal under this run their loops the same way.
fn loop_config(c: &ScrapeConfig) -> ScrapeConfig {
    let mut z = c.clone();
    z.service_discovery = Default::default();
    z.relabel_configs.clear();
    z.target_limit = 0;
    z.keep_dropped_targets = 0;
    z
}

/// Prometheus' `reusableCache`: the configs map series text to the same series.
fn cache_reusable(a: &ScrapeConfig, b: &ScrapeConfig) -> bool {
    let zero = |c: &ScrapeConfig| {
        let mut z = loop_config(c);
        z.scrape_interval = strata_config::Duration::ZERO;
        z.scrape_timeout = strata_config::Duration::ZERO;
        z.sample_limit = 0;
        z.http_client = Default::default();
        z
    };
    zero(a) == zero(b)
}

pub(crate) struct ScrapePool {
    pub cfg: Arc<ScrapeConfig>,
    client: ScrapeClient,
    loops: HashMap<u64, LoopHandle>,
    /// Groups from discovery (static ones come from the config).
    discovered: Vec<TargetGroup>,
    pub dropped: Vec<Labels>,
    pub dropped_count: usize,
}

impl ScrapePool {
    pub fn new(cfg: Arc<ScrapeConfig>) -> Result<Self, String> {
        let client = ScrapeClient::new(&cfg.http_client)?;
        Ok(ScrapePool {
            cfg,
            client,
            loops: HashMap::new(),
            discovered: Vec::new(),
            dropped: Vec::new(),
            dropped_count: 0,
        })
    }

    /// The running targets.
    pub fn active(&self) -> Vec<Arc<Target>> {
        let mut v: Vec<Arc<Target>> = self.loops.values().map(|l| l.target.clone()).collect();
        v.sort_by(|a, b| a.url().cmp(b.url()));
        v
    }

    pub fn set_discovered(&mut self, groups: Vec<TargetGroup>) {
        self.discovered = groups;
    }

    /// Switches to a new config. Loops restart only if the new config scrapes or appends
    /// differently (they keep their caches if series still map the same way); then the
    /// targets are synced.
    pub async fn reload(&mut self, cfg: Arc<ScrapeConfig>, env: LoopEnv<'_>) -> Result<(), String> {
        if *cfg == *self.cfg {
            return Ok(());
        }
        let restart = loop_config(&cfg) != loop_config(&self.cfg);
        let reuse = cache_reusable(&cfg, &self.cfg);
        if cfg.http_client != self.cfg.http_client {
            self.client = ScrapeClient::new(&cfg.http_client)?;
        }
        self.cfg = cfg;
        let restart = restart.then_some(if reuse {
            StopMode::Handover
        } else {
            StopMode::Stale
        });
        self.sync(env, restart).await;
        Ok(())
    }

    /// Stops every loop without stale markers (the job is gone or the process stops).
    pub async fn stop_all(&mut self) {
        let handles: Vec<LoopHandle> = self.loops.drain().map(|(_, h)| h).collect();
        for h in handles {
            // Shutdown of the pool: Prometheus writes no end-of-run markers here.
            h.stop(StopMode::Handover).await;
        }
    }

    fn start_loop(
        &self,
        target: Arc<Target>,
        cache: ScrapeCache,
        forced: Option<String>,
        env: &mut LoopEnv<'_>,
    ) -> LoopHandle {
        let (ctl_tx, ctl_rx) = watch::channel(Control {
            stop: None,
            forced_error: forced,
        });
        let (stop_tx, stop_rx) = oneshot::channel();
        let lp = ScrapeLoop::new(
            target.clone(),
            &self.cfg,
            self.client.clone(),
            env.storage.clone(),
            env.clock.clone(),
            cache,
            env.user_agent,
        );
        let offset = if env.skip_jitter {
            std::time::Duration::ZERO
        } else {
            target.offset(env.offset_seed, i128::from(env.clock.now_ms()) * 1_000_000)
        };
        env.tasks
            .spawn(lp.run(ctl_rx, env.shutdown.clone(), stop_tx, offset));
        LoopHandle {
            target,
            ctl: ctl_tx,
            stopped: stop_rx,
        }
    }

    /// Recomputes the targets from the static and discovered groups: new targets get a
    /// loop, vanished ones stop (with stale markers), kept ones keep their loop unless
    /// `restart` says how to replace it.
    pub async fn sync(&mut self, mut env: LoopEnv<'_>, restart: Option<StopMode>) {
        let mut b = RelabelBuilder::new();
        let mut targets: Vec<Target> = Vec::new();
        self.dropped.clear();
        self.dropped_count = 0;
        let keep = self.cfg.keep_dropped_targets;
        for g in static_groups(&self.cfg)
            .iter()
            .chain(self.discovered.iter())
        {
            let r = targets_from_group(&mut b, g, &self.cfg);
            for f in r.failures {
                tracing::error!(job = %self.cfg.job_name, err = %f, "creating target failed");
            }
            for d in r.dropped {
                if keep == 0 || (self.dropped.len() as u64) < keep {
                    self.dropped.push(d);
                }
                self.dropped_count += 1;
            }
            targets.extend(r.targets);
        }
        let mut wanted: HashMap<u64, Target> = HashMap::with_capacity(targets.len());
        for t in targets {
            wanted.entry(t.hash()).or_insert(t);
        }
        let gone: Vec<u64> = self
            .loops
            .keys()
            .filter(|h| !wanted.contains_key(h))
            .copied()
            .collect();
        for h in gone {
            if let Some(l) = self.loops.remove(&h) {
                l.stop(StopMode::Stale).await;
            }
        }
        let forced = match self.cfg.target_limit {
            0 => None,
            limit if wanted.len() as u64 > limit => Some(format!(
                "target_limit exceeded (number of targets: {}, limit: {limit})",
                wanted.len()
            )),
            _ => None,
        };
        for (h, t) in wanted {
            match self.loops.remove(&h) {
                Some(existing) => {
                    existing.target.set_discovered_labels(t.discovered_labels());
                    let handle = match restart {
                        Some(mode) => {
                            let target = existing.target.clone();
                            let cache = existing.stop(mode).await.unwrap_or_default();
                            self.start_loop(target, cache, forced.clone(), &mut env)
                        }
                        None => {
                            existing
                                .ctl
                                .send_modify(|c| c.forced_error = forced.clone());
                            existing
                        }
                    };
                    self.loops.insert(h, handle);
                }
                None => {
                    let handle =
                        self.start_loop(Arc::new(t), ScrapeCache::new(), forced.clone(), &mut env);
                    self.loops.insert(h, handle);
                }
            }
        }
    }
}
