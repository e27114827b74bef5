//! All service discovery of one scrape job behind one channel.
//!
//! Providers are named as in Prometheus' discovery manager (`static/0`, `file/0`,
//! `file/1`, `kubernetes/0`, ...; the index counts configs of that mechanism within the
//! job). Two providers can report the same source (two file configs naming the same
//! file, two Kubernetes configs with the same role), so the job-level sources are
//! `<provider>:<provider source>`, e.g. `kubernetes/0:pod/default/web-0`,
//! `file/1:/etc/sd/a.json:0`, `static/0:0`.

use strata_config::discovery::{ServiceDiscovery, StaticConfig};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::error::Result;
use crate::file::FileDiscovery;
use crate::kubernetes::KubernetesDiscovery;
use crate::{ADDRESS_LABEL, LabelSet, TargetGroup, Updates};

/// Messages buffered per provider before it waits for the job's channel.
const PROVIDER_BUFFER: usize = 16;

/// The groups of `static_configs` as Prometheus' static provider reports them: one per
/// entry, source = its index.
pub fn static_groups(configs: &[StaticConfig]) -> Vec<TargetGroup> {
    configs
        .iter()
        .enumerate()
        .map(|(i, c)| TargetGroup {
            source: i.to_string(),
            targets: c
                .targets
                .iter()
                .map(|t| LabelSet::from([(ADDRESS_LABEL.to_owned(), t.clone())]))
                .collect(),
            labels: c.labels.clone().into_iter().collect(),
        })
        .collect()
}

#[derive(Debug)]
enum Provider {
    File(FileDiscovery),
    Kubernetes(Box<KubernetesDiscovery>),
}

/// The prepared providers of one scrape job.
#[derive(Debug)]
pub struct JobDiscovery {
    static_groups: Vec<TargetGroup>,
    providers: Vec<(String, Provider)>,
}

impl JobDiscovery {
    /// Prepares every provider of `sd`; the first Kubernetes configuration that cannot
    /// be used is an error. Mechanisms other than static, file and Kubernetes are
    /// logged and skipped.
    pub fn new(sd: &ServiceDiscovery) -> Result<Self> {
        Self::build(sd, true)
    }

    /// Like [`JobDiscovery::new`], but a provider that cannot be created is logged and
    /// left out, as Prometheus does ("Cannot create service discovery").
    pub fn new_lenient(sd: &ServiceDiscovery) -> Self {
        match Self::build(sd, false) {
            Ok(j) => j,
            // Lenient building never fails.
            Err(_) => JobDiscovery {
                static_groups: static_groups(&sd.static_configs),
                providers: Vec::new(),
            },
        }
    }

    fn build(sd: &ServiceDiscovery, strict: bool) -> Result<Self> {
        for name in &sd.unsupported {
            tracing::warn!(
                mechanism = name,
                "service discovery mechanism not supported, ignored"
            );
        }
        let mut providers = Vec::new();
        for (i, f) in sd.file_sd_configs.iter().enumerate() {
            providers.push((format!("file/{i}"), Provider::File(FileDiscovery::new(f))));
        }
        for (i, k) in sd.kubernetes_sd_configs.iter().enumerate() {
            let name = format!("kubernetes/{i}");
            match KubernetesDiscovery::new(k) {
                Ok(d) => providers.push((name, Provider::Kubernetes(Box::new(d)))),
                Err(e) if strict => return Err(e),
                Err(e) => {
                    tracing::error!(provider = %name, error = %e, "cannot create service discovery");
                }
            }
        }
        Ok(JobDiscovery {
            static_groups: static_groups(&sd.static_configs),
            providers,
        })
    }

    /// Makes file providers poll every `interval`.
    pub fn with_file_poll_interval(mut self, interval: std::time::Duration) -> Self {
        for (_, p) in &mut self.providers {
            if let Provider::File(f) = p {
                *f = f.clone().with_poll_interval(interval);
            }
        }
        self
    }

    /// Sends the static groups, then runs every provider, forwarding their updates with
    /// job-level sources, until the receiver of `tx` is gone. Dropping the future stops
    /// every provider.
    pub async fn run(self, tx: Updates) {
        if !self.static_groups.is_empty() {
            let groups = prefixed("static/0", self.static_groups);
            if tx.send(groups).await.is_err() {
                return;
            }
        }
        let mut tasks = JoinSet::new();
        for (name, provider) in self.providers {
            let (ptx, mut prx) = mpsc::channel(PROVIDER_BUFFER);
            match provider {
                Provider::File(f) => tasks.spawn(f.run(ptx)),
                Provider::Kubernetes(k) => tasks.spawn(k.run(ptx)),
            };
            let tx = tx.clone();
            tasks.spawn(async move {
                while let Some(groups) = prx.recv().await {
                    if tx.send(prefixed(&name, groups)).await.is_err() {
                        return;
                    }
                }
            });
        }
        tx.closed().await;
    }
}

fn prefixed(provider: &str, groups: Vec<TargetGroup>) -> Vec<TargetGroup> {
    groups
        .into_iter()
        .map(|mut g| {
            g.source = format!("{provider}:{}", g.source);
            g
        })
        .collect()
}

/// Runs the discovery of one scrape job (`static_configs`, `file_sd_configs`,
/// `kubernetes_sd_configs`) into `tx` until its receiver is gone or the future is
/// dropped. Providers that cannot be created are logged and skipped, as in Prometheus;
/// use [`JobDiscovery::new`] to fail instead. The future does not borrow `sd`, so it
/// can be spawned.
pub fn run_providers(
    sd: &ServiceDiscovery,
    tx: Updates,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    JobDiscovery::new_lenient(sd).run(tx)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn static_groups_are_indexed() {
        let sd = ServiceDiscovery {
            static_configs: vec![
                StaticConfig {
                    targets: vec!["a:1".into(), "b:2".into()],
                    labels: [("env".to_owned(), "prod".to_owned())].into(),
                },
                StaticConfig {
                    targets: vec!["c:3".into()],
                    labels: Default::default(),
                },
            ],
            ..ServiceDiscovery::default()
        };
        let g = static_groups(&sd.static_configs);
        assert_eq!(g[0].source, "0");
        assert_eq!(g[1].source, "1");
        assert_eq!(g[0].targets[1][ADDRESS_LABEL], "b:2");
        assert_eq!(g[0].labels["env"], "prod");
    }
}
