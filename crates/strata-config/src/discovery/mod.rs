//! Service discovery configurations inside a scrape config (or an Alertmanager config):
//! `static_configs`, `file_sd_configs`, `kubernetes_sd_configs`. Every other mechanism
//! Prometheus knows is accepted and named in [`ServiceDiscovery::unsupported`], so a
//! caller can refuse or warn about it instead of failing to read the file.

pub mod kubernetes;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

pub use kubernetes::{KubernetesRole, KubernetesSdConfig};

use crate::values::Duration;
use crate::yaml::null_default;

/// A group of static targets (`static_configs` entry).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StaticConfig {
    /// `host:port` addresses (become `__address__`).
    #[serde(deserialize_with = "null_default")]
    pub targets: Vec<String>,
    /// Labels added to every target of the group.
    #[serde(deserialize_with = "null_default")]
    pub labels: BTreeMap<String, String>,
}

/// `file_sd_configs` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawFileSdConfig")]
pub struct FileSdConfig {
    /// File name patterns (a `*` is allowed in the last path component).
    pub files: Vec<String>,
    /// Re-read interval (default 5m).
    pub refresh_interval: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFileSdConfig {
    #[serde(default, deserialize_with = "null_default")]
    files: Vec<String>,
    #[serde(default)]
    refresh_interval: Option<Duration>,
}

static FILE_SD_NAME: LazyLock<Regex> = LazyLock::new(|| {
    // Constant pattern.
    #[allow(clippy::expect_used)]
    Regex::new(r"^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$").expect("constant regex")
});

impl TryFrom<RawFileSdConfig> for FileSdConfig {
    type Error = String;

    fn try_from(raw: RawFileSdConfig) -> Result<Self, String> {
        if raw.files.is_empty() {
            return Err("file service discovery config must contain at least one path name".into());
        }
        if let Some(bad) = raw.files.iter().find(|f| !FILE_SD_NAME.is_match(f)) {
            return Err(format!("path name {bad:?} is not valid for file discovery"));
        }
        Ok(FileSdConfig {
            files: raw.files,
            refresh_interval: raw
                .refresh_interval
                .filter(|d| !d.is_zero())
                .unwrap_or(Duration::from_secs(300)),
        })
    }
}

/// The `*_sd_configs` keys Prometheus 3 knows besides the supported three.
pub const OTHER_SD_KEYS: &[&str] = &[
    "azure_sd_configs",
    "consul_sd_configs",
    "digitalocean_sd_configs",
    "docker_sd_configs",
    "dockerswarm_sd_configs",
    "dns_sd_configs",
    "ec2_sd_configs",
    "eureka_sd_configs",
    "gce_sd_configs",
    "hetzner_sd_configs",
    "http_sd_configs",
    "ionos_sd_configs",
    "kuma_sd_configs",
    "lightsail_sd_configs",
    "linode_sd_configs",
    "marathon_sd_configs",
    "nerve_sd_configs",
    "nomad_sd_configs",
    "oci_sd_configs",
    "openstack_sd_configs",
    "outscale_sd_configs",
    "ovhcloud_sd_configs",
    "puppetdb_sd_configs",
    "scaleway_sd_configs",
    "serverset_sd_configs",
    "stackit_sd_configs",
    "triton_sd_configs",
    "uyuni_sd_configs",
    "vultr_sd_configs",
];

/// All service discovery of one scrape (or Alertmanager) config.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceDiscovery {
    pub static_configs: Vec<StaticConfig>,
    pub file_sd_configs: Vec<FileSdConfig>,
    pub kubernetes_sd_configs: Vec<KubernetesSdConfig>,
    /// Keys of other mechanisms present in the file (their content is not checked).
    pub unsupported: Vec<&'static str>,
}

impl ServiceDiscovery {
    /// Checks static targets for URLs (Prometheus does this only when there are no
    /// relabel rules that could rewrite `__address__`).
    pub(crate) fn check_static_targets(&self) -> Result<(), String> {
        for t in self.static_configs.iter().flat_map(|s| &s.targets) {
            if t.contains('/') {
                return Err(format!("{t:?} is not a valid hostname"));
            }
        }
        Ok(())
    }
}

/// Declares the service discovery fields on a raw struct (`static_configs`,
/// `file_sd_configs`, `kubernetes_sd_configs` and every other `*_sd_configs` key of
/// [`OTHER_SD_KEYS`]) and a `take_service_discovery` method.
macro_rules! with_sd_fields {
    (
        $(#[$meta:meta])*
        struct $name:ident {
            $($(#[$fmeta:meta])* $field:ident : $ty:ty,)*
        }
    ) => {
        $crate::discovery::with_sd_fields!(@build
            [$(#[$meta])*] $name [$($(#[$fmeta])* $field : $ty,)*]
            [azure_sd_configs consul_sd_configs digitalocean_sd_configs docker_sd_configs
             dockerswarm_sd_configs dns_sd_configs ec2_sd_configs eureka_sd_configs
             gce_sd_configs hetzner_sd_configs http_sd_configs ionos_sd_configs
             kuma_sd_configs lightsail_sd_configs linode_sd_configs marathon_sd_configs
             nerve_sd_configs nomad_sd_configs oci_sd_configs openstack_sd_configs
             outscale_sd_configs ovhcloud_sd_configs puppetdb_sd_configs
             scaleway_sd_configs serverset_sd_configs stackit_sd_configs
             triton_sd_configs uyuni_sd_configs vultr_sd_configs]
        );
    };
    (@build [$($meta:tt)*] $name:ident [$($body:tt)*] [$($other:ident)*]) => {
        $crate::http::with_http_client_fields! {
            $($meta)*
            struct $name {
                $($body)*
                #[serde(default, deserialize_with = "crate::yaml::null_default")]
                static_configs: Vec<$crate::discovery::StaticConfig>,
                #[serde(default, deserialize_with = "crate::yaml::null_default")]
                file_sd_configs: Vec<$crate::discovery::FileSdConfig>,
                #[serde(default, deserialize_with = "crate::yaml::null_default")]
                kubernetes_sd_configs: Vec<$crate::discovery::KubernetesSdConfig>,
                $(
                    #[serde(default)]
                    $other: Option<serde::de::IgnoredAny>,
                )*
            }
        }

        impl $name {
            fn take_service_discovery(&mut self) -> $crate::discovery::ServiceDiscovery {
                let mut unsupported = Vec::new();
                $(
                    if self.$other.is_some() {
                        unsupported.push(stringify!($other));
                    }
                )*
                $crate::discovery::ServiceDiscovery {
                    static_configs: std::mem::take(&mut self.static_configs),
                    file_sd_configs: std::mem::take(&mut self.file_sd_configs),
                    kubernetes_sd_configs: std::mem::take(&mut self.kubernetes_sd_configs),
                    unsupported,
                }
            }
        }
    };
}
pub(crate) use with_sd_fields;
