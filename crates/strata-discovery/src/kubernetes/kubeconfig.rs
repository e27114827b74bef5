//! A kubeconfig file, basic support: the current context's cluster (server, CA, TLS
//! server name, insecure-skip-tls-verify, proxy) and user (token, token file, client
//! certificate, username/password). Exec plugins and auth providers are refused.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;
use strata_config::yaml::null_default;
use url::Url;

use super::client::{Auth, ClientSettings, Credential};
use crate::error::{Error, Result};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
struct Kubeconfig {
    #[serde(deserialize_with = "null_default")]
    clusters: Vec<Named<Cluster>>,
    #[serde(deserialize_with = "null_default")]
    users: Vec<Named<User>>,
    #[serde(deserialize_with = "null_default")]
    contexts: Vec<Named<Context>>,
    #[serde(deserialize_with = "null_default")]
    current_context: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Named<T: Default> {
    #[serde(deserialize_with = "null_default")]
    name: String,
    #[serde(alias = "cluster", alias = "user", alias = "context")]
    value: T,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
struct Cluster {
    server: String,
    certificate_authority: Option<String>,
    certificate_authority_data: Option<String>,
    insecure_skip_tls_verify: bool,
    tls_server_name: Option<String>,
    proxy_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
struct User {
    token: Option<String>,
    #[serde(rename = "tokenFile")]
    token_file: Option<String>,
    client_certificate: Option<String>,
    client_certificate_data: Option<String>,
    client_key: Option<String>,
    client_key_data: Option<String>,
    username: Option<String>,
    password: Option<String>,
    exec: Option<serde::de::IgnoredAny>,
    auth_provider: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Context {
    cluster: String,
    user: String,
}

/// Reads `path` into client settings for its current context.
pub(crate) fn load(path: &Path) -> Result<ClientSettings> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse(&text, path.parent().unwrap_or(Path::new("."))).map_err(|message| Error::Kubeconfig {
        path: path.to_owned(),
        message,
    })
}

/// Parses kubeconfig text; relative file names are relative to `dir`.
pub(crate) fn parse(text: &str, dir: &Path) -> std::result::Result<ClientSettings, String> {
    let kc: Kubeconfig = strata_config::yaml::from_str(text).map_err(|e| e.to_string())?;
    if kc.current_context.is_empty() {
        return Err("no current-context".into());
    }
    let ctx = find(&kc.contexts, &kc.current_context, "context")?;
    let cluster = find(&kc.clusters, &ctx.cluster, "cluster")?;
    let user = if ctx.user.is_empty() {
        None
    } else {
        Some(find(&kc.users, &ctx.user, "user")?)
    };
    let base = Url::parse(&cluster.server).map_err(|e| {
        format!(
            "cluster {:?}: bad server {:?}: {e}",
            ctx.cluster, cluster.server
        )
    })?;
    let mut s = ClientSettings {
        base: Some(base),
        insecure_skip_verify: cluster.insecure_skip_tls_verify,
        // client-go's default transport honours HTTP(S)_PROXY/NO_PROXY.
        proxy_from_environment: true,
        follow_redirects: true,
        http2: true,
        ..ClientSettings::default()
    };
    s.ca_pem = data_or_file(
        &cluster.certificate_authority_data,
        &cluster.certificate_authority,
        dir,
    )?;
    if cluster
        .tls_server_name
        .as_deref()
        .is_some_and(|n| !n.is_empty())
    {
        tracing::warn!(
            "kubeconfig tls-server-name is not supported; the server URL's host is verified"
        );
    }
    if let Some(p) = cluster.proxy_url.as_deref().filter(|p| !p.is_empty()) {
        s.proxy_url = Some(Url::parse(p).map_err(|e| format!("bad proxy-url {p:?}: {e}"))?);
    }
    let Some(user) = user else {
        return Ok(s);
    };
    if user.exec.is_some() || user.auth_provider.is_some() {
        return Err(format!(
            "user {:?}: exec plugins and auth providers are not supported",
            ctx.user
        ));
    }
    let cert = data_or_file(&user.client_certificate_data, &user.client_certificate, dir)?;
    let key = data_or_file(&user.client_key_data, &user.client_key, dir)?;
    if let (Some(mut cert), Some(key)) = (cert, key) {
        cert.push(b'\n');
        cert.extend_from_slice(&key);
        s.identity_pem = Some(cert);
    }
    let nonempty = |o: &Option<String>| o.clone().filter(|v| !v.is_empty());
    if let Some(t) = nonempty(&user.token) {
        s.auth = bearer(Credential::Value(t));
    } else if let Some(f) = nonempty(&user.token_file) {
        s.auth = bearer(Credential::File(resolve(dir, &f)));
    } else if let Some(u) = nonempty(&user.username) {
        s.auth = Auth::Basic {
            username: Credential::Value(u),
            password: Credential::Value(user.password.clone().unwrap_or_default()),
        };
    }
    Ok(s)
}

fn bearer(credentials: Credential) -> Auth {
    Auth::Scheme {
        scheme: "Bearer".into(),
        credentials,
    }
}

fn find<'a, T: Default>(
    list: &'a [Named<T>],
    name: &str,
    what: &str,
) -> std::result::Result<&'a T, String> {
    list.iter()
        .find(|n| n.name == name)
        .map(|n| &n.value)
        .ok_or_else(|| format!("{what} {name:?} not found"))
}

fn resolve(dir: &Path, file: &str) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() {
        p.to_owned()
    } else {
        dir.join(p)
    }
}

/// Base64 `*-data` wins over the file name, as in client-go.
fn data_or_file(
    data: &Option<String>,
    file: &Option<String>,
    dir: &Path,
) -> std::result::Result<Option<Vec<u8>>, String> {
    if let Some(d) = data.as_deref().filter(|d| !d.is_empty()) {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(d.trim())
            .map_err(|e| format!("bad base64 data: {e}"))?;
        return Ok(Some(bytes));
    }
    match file.as_deref().filter(|f| !f.is_empty()) {
        Some(f) => {
            let p = resolve(dir, f);
            std::fs::read(&p)
                .map(Some)
                .map_err(|e| format!("reading {}: {e}", p.display()))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const CONFIG: &str = r#"
apiVersion: v1
kind: Config
preferences: {}
clusters:
- name: other
  cluster:
    server: https://other.example
- name: dev
  cluster:
    server: https://k8s.example:6443
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    tokenFile: token
contexts:
- name: dev-admin
  context:
    cluster: dev
    user: admin
    namespace: ignored
current-context: dev-admin
"#;

    #[test]
    fn current_context() {
        let dir = Path::new("/etc/kube");
        let s = parse(CONFIG, dir).unwrap();
        assert_eq!(s.base.unwrap().as_str(), "https://k8s.example:6443/");
        assert!(s.insecure_skip_verify);
        assert_eq!(s.auth, bearer(Credential::File(dir.join("token"))));
    }

    #[test]
    fn errors() {
        let dir = Path::new(".");
        assert!(
            parse("clusters: []\n", dir)
                .unwrap_err()
                .contains("current-context")
        );
        let missing = CONFIG.replace("current-context: dev-admin", "current-context: nope");
        assert!(
            parse(&missing, dir)
                .unwrap_err()
                .contains("\"nope\" not found")
        );
        let exec = CONFIG.replace("    tokenFile: token", "    exec:\n      command: aws");
        assert!(parse(&exec, dir).unwrap_err().contains("exec"));
        let data = CONFIG.replace(
            "    insecure-skip-tls-verify: true",
            "    certificate-authority-data: '!!!'",
        );
        assert!(parse(&data, dir).unwrap_err().contains("base64"));
    }
}
