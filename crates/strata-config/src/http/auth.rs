//! Authentication blocks of an HTTP client: `basic_auth`, `authorization`, `oauth2`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::http::tls::TlsConfig;
use crate::http::{ProxyConfig, ProxyHeader};
use crate::values::{ProxyUrl, Secret};
use crate::yaml::null_default;

/// `basic_auth`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BasicAuth {
    pub username: Option<String>,
    pub username_file: Option<String>,
    pub username_ref: Option<String>,
    pub password: Option<Secret>,
    pub password_file: Option<String>,
    pub password_ref: Option<String>,
}

/// `authorization` (also what legacy `bearer_token`/`bearer_token_file` become).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Authorization {
    /// The scheme; `Bearer` when not given.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub credentials: Option<Secret>,
    pub credentials_file: Option<String>,
    pub credentials_ref: Option<String>,
}

impl Authorization {
    /// The scheme after defaulting (`Bearer`).
    pub fn scheme(&self) -> &str {
        self.kind.as_deref().unwrap_or("Bearer")
    }
}

/// `oauth2` (client credentials or JWT bearer grant).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OAuth2 {
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub client_secret_file: Option<String>,
    pub client_secret_ref: Option<String>,
    pub client_certificate_key_id: Option<String>,
    pub client_certificate_key: Option<Secret>,
    pub client_certificate_key_file: Option<String>,
    pub client_certificate_key_ref: Option<String>,
    pub grant_type: Option<String>,
    pub signature_algorithm: Option<String>,
    pub iss: Option<String>,
    pub audience: Option<String>,
    /// JWT claims; values are kept as strings.
    #[serde(deserialize_with = "null_default")]
    pub claims: BTreeMap<String, String>,
    #[serde(deserialize_with = "null_default")]
    pub scopes: Vec<String>,
    pub token_url: String,
    #[serde(deserialize_with = "null_default")]
    pub endpoint_params: BTreeMap<String, String>,
    #[serde(deserialize_with = "null_default")]
    pub tls_config: TlsConfig,
    pub proxy_url: Option<ProxyUrl>,
    pub no_proxy: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub proxy_from_environment: bool,
    #[serde(deserialize_with = "null_default")]
    pub proxy_connect_header: ProxyHeader,
}

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

impl OAuth2 {
    /// The proxy settings of the token requests.
    pub fn proxy(&self) -> ProxyConfig {
        ProxyConfig {
            proxy_url: self.proxy_url.clone(),
            no_proxy: self.no_proxy.clone(),
            proxy_from_environment: self.proxy_from_environment,
            proxy_connect_header: self.proxy_connect_header.clone(),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.client_id.is_empty() {
            return Err("oauth2 client_id must be configured".into());
        }
        if self.token_url.is_empty() {
            return Err("oauth2 token_url must be configured".into());
        }
        let s = |o: &Option<String>| o.as_deref().is_some_and(|v| !v.is_empty());
        let sec = |o: &Option<Secret>| o.as_ref().is_some_and(|v| !v.is_empty());
        let n = |f: &[bool]| f.iter().filter(|b| **b).count();
        if self.grant_type.as_deref() == Some(JWT_BEARER) {
            if n(&[
                sec(&self.client_certificate_key),
                s(&self.client_certificate_key_file),
                s(&self.client_certificate_key_ref),
            ]) > 1
            {
                return Err(format!(
                    "at most one of oauth2 client_certificate_key, client_certificate_key_file & client_certificate_key_ref must be configured using grant-type={JWT_BEARER}"
                ));
            }
            if let Some(alg) = self.signature_algorithm.as_deref()
                && !alg.is_empty()
                && !["RS256", "RS384", "RS512"].contains(&alg)
            {
                return Err("valid signature algorithms are RS256, RS384 and RS512".into());
            }
        } else if n(&[
            sec(&self.client_secret),
            s(&self.client_secret_file),
            s(&self.client_secret_ref),
        ]) > 1
        {
            return Err("at most one of oauth2 client_secret, client_secret_file & client_secret_ref must be configured using grant-type=client_credentials".into());
        }
        self.tls_config.validate()?;
        self.proxy().validate()
    }
}
