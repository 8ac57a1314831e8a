//! Configuration in layers: defaults, then a TOML file, then `CUNJI_*` environment variables,
//! then command-line flags. `cunji-sync-server print-config` prints the defaults.
//!
//! The environment layer is derived from the struct: every field `name` has the variable
//! `CUNJI_NAME` ([`env_var`]), found by walking the fields serde sees, so there is no hand list
//! of variables to forget a field in.

use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// A SQLite file path (or `sqlite://PATH`), or a `postgres://` URL.
    pub database: String,
    /// The server's key file, which attests the changes that reach the log without a
    /// device's signature (`store::key`); made on first start. Default: beside a SQLite
    /// database (`PATH.key`), `cunji-server.key` in the working directory for PostgreSQL.
    /// Keep it with this configuration and back it up apart from the database.
    pub server_key: Option<String>,
    /// Hours a sign-in token stays valid.
    pub token_ttl_hours: i64,
    /// Largest request body, compressed.
    pub max_body_bytes: usize,
    /// Largest request body once decompressed.
    pub max_decoded_bytes: usize,
    /// Most changes in one push.
    pub max_batch_items: usize,
    /// Most bytes of changes in one pull response.
    pub max_pull_bytes: usize,
    /// Requests a device may make per minute (sustained); bursts up to the same number.
    pub requests_per_minute: u32,
    /// PEM certificate chain and private key: with both, the server speaks HTTPS itself;
    /// without them, plain HTTP for a deployment behind a TLS-terminating reverse proxy
    /// (README).
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
    /// Hours a browser (dashboard) session stays valid.
    pub web_session_hours: i64,
    /// The built dashboard (`sync-server/dashboard/dist` of a checkout when unset).
    pub dashboard_dir: Option<String>,
    /// Largest JSON body (sign-ins, settings); the sync endpoints take `max_body_bytes`.
    pub max_json_bytes: usize,
    /// Connections open at once; more are closed as they arrive (keep below the process's
    /// file-descriptor limit).
    pub max_connections: usize,
    /// Connections open at once from one address (phones behind one carrier NAT share one).
    pub max_connections_per_address: usize,
    /// Seconds a TLS handshake may take.
    pub tls_handshake_timeout_secs: u64,
    /// Seconds a request line and its headers may take to arrive, counted from when the
    /// server waits for them (also how long a kept-alive connection may sit idle).
    pub header_timeout_secs: u64,
    /// Seconds a request body may go without a byte arriving.
    pub body_timeout_secs: u64,
    /// Seconds a response write may make no progress (a client that stopped reading).
    pub write_timeout_secs: u64,
    /// Where to serve `GET /metrics` without a token (e.g. `127.0.0.1:9480`, for a
    /// Prometheus on the same host or network); on the API's address it takes an
    /// administrator's token.
    pub metrics_listen: Option<String>,
    /// Behind a reverse proxy: the header that names the client's address (its last address
    /// is taken, the one the proxy added), e.g. `x-forwarded-for`. Sign-in back-off counts per
    /// address; without this, behind a proxy, every client has the proxy's.
    pub client_ip_header: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8480".into(),
            database: "cunji-server.sqlite3".into(),
            server_key: None,
            token_ttl_hours: 24 * 30,
            max_body_bytes: 8 * 1024 * 1024,
            max_decoded_bytes: 32 * 1024 * 1024,
            max_batch_items: 5_000,
            max_pull_bytes: 4 * 1024 * 1024,
            requests_per_minute: 600,
            tls_cert: None,
            tls_key: None,
            web_session_hours: 8,
            dashboard_dir: None,
            max_json_bytes: 64 * 1024,
            max_connections: 1024,
            max_connections_per_address: 256,
            tls_handshake_timeout_secs: 10,
            header_timeout_secs: 20,
            body_timeout_secs: 30,
            write_timeout_secs: 60,
            metrics_listen: None,
            client_ip_header: None,
        }
    }
}

/// The database URL may hold a password: never print it.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let database = match self.database.split_once('@') {
            Some((_, host)) if self.database.contains("://") => {
                format!("postgres://<redacted>@{host}")
            }
            _ => self.database.clone(),
        };
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database", &database)
            .field("token_ttl_hours", &self.token_ttl_hours)
            .field("server_key", &self.server_key)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_decoded_bytes", &self.max_decoded_bytes)
            .field("max_batch_items", &self.max_batch_items)
            .field("max_pull_bytes", &self.max_pull_bytes)
            .field("requests_per_minute", &self.requests_per_minute)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .field("web_session_hours", &self.web_session_hours)
            .field("dashboard_dir", &self.dashboard_dir)
            .field("max_json_bytes", &self.max_json_bytes)
            .field("max_connections", &self.max_connections)
            .field(
                "max_connections_per_address",
                &self.max_connections_per_address,
            )
            .field(
                "tls_handshake_timeout_secs",
                &self.tls_handshake_timeout_secs,
            )
            .field("header_timeout_secs", &self.header_timeout_secs)
            .field("body_timeout_secs", &self.body_timeout_secs)
            .field("write_timeout_secs", &self.write_timeout_secs)
            .field("metrics_listen", &self.metrics_listen)
            .field("client_ip_header", &self.client_ip_header)
            .finish()
    }
}

/// The environment variable of the config field `field`: `CUNJI_` and the name in upper case.
pub fn env_var(field: &str) -> String {
    format!("CUNJI_{}", field.to_uppercase())
}

impl Config {
    /// Defaults, overlaid by `file` (if given) and by `CUNJI_*` variables.
    pub fn load(file: Option<&std::path::Path>) -> anyhow::Result<Config> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
            }
            None => Config::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        Ok(config)
    }

    /// The environment layer, derived from the struct's own fields: each field `name` is
    /// overridden by `CUNJI_NAME` (upper case), so a new field gets its variable without a
    /// hand-kept list. A numeric field takes a number, every other field the text as is.
    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        let serde_json::Value::Object(mut fields) = serde_json::to_value(&*self)? else {
            anyhow::bail!("the config does not serialize as a table");
        };
        let mut changed = false;
        for (name, value) in fields.iter_mut() {
            let var = env_var(name);
            let Some(v) = get(&var) else { continue };
            *value = if value.is_number() {
                let n: serde_json::Number = v
                    .parse()
                    .map_err(|_| anyhow::anyhow!("{var}={v} is not a number"))?;
                serde_json::Value::Number(n)
            } else {
                serde_json::Value::String(v)
            };
            changed = true;
        }
        if changed {
            *self = serde_json::from_value(serde_json::Value::Object(fields))
                .map_err(|e| anyhow::anyhow!("CUNJI_* variables: {e}"))?;
        }
        Ok(())
    }

    /// The TLS setup when a certificate and key are configured (`None`: plain HTTP). One
    /// without the other, or files that do not parse, is an error naming the file.
    pub fn tls(&self) -> anyhow::Result<Option<std::sync::Arc<rustls::ServerConfig>>> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let (cert, key) = match (&self.tls_cert, &self.tls_key) {
            (None, None) => return Ok(None),
            (Some(c), Some(k)) => (c, k),
            _ => anyhow::bail!("tls_cert and tls_key go together: set both or neither"),
        };
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| anyhow::anyhow!("tls_cert {cert}: {e}"))?;
        if chain.is_empty() {
            anyhow::bail!("tls_cert {cert}: no certificate in the file");
        }
        let key =
            PrivateKeyDer::from_pem_file(key).map_err(|e| anyhow::anyhow!("tls_key {key}: {e}"))?;
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| anyhow::anyhow!("TLS: {e}"))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| anyhow::anyhow!("tls_cert/tls_key {cert}: {e}"))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Some(std::sync::Arc::new(config)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file_and_secrets_are_redacted() {
        let mut c: Config = toml::from_str("listen = '0.0.0.0:1'\nmax_batch_items = 7").unwrap();
        assert_eq!((c.listen.as_str(), c.max_batch_items), ("0.0.0.0:1", 7));
        c.apply_env(|k| {
            (k == "CUNJI_DATABASE").then(|| "postgres://u:secret@db:5432/x".to_string())
        })
        .unwrap();
        assert!(!format!("{c:?}").contains("secret"));
        assert!(
            c.apply_env(|k| (k == "CUNJI_MAX_BATCH_ITEMS").then(|| "many".into()))
                .is_err()
        );
        assert!(toml::from_str::<Config>("listn = 'typo'").is_err());
    }

    /// Walks every field of the config (as serde sees it, so a new field is covered without
    /// touching this test), sets its `CUNJI_` variable to a value unlike the default and
    /// checks the loaded config holds it.
    #[test]
    fn every_field_has_a_cunji_variable() {
        let serde_json::Value::Object(defaults) = serde_json::to_value(Config::default()).unwrap()
        else {
            panic!("the config is a table")
        };
        assert!(defaults.len() >= 12, "{defaults:?}");
        for (name, default) in &defaults {
            let (text, expected) = match default {
                serde_json::Value::Number(n) => {
                    let v = n.as_u64().unwrap() + 1;
                    (v.to_string(), serde_json::json!(v))
                }
                _ => (
                    format!("from-env-{name}"),
                    serde_json::json!(format!("from-env-{name}")),
                ),
            };
            let var = env_var(name);
            let mut c = Config::default();
            c.apply_env(|k| (k == var).then(|| text.clone())).unwrap();
            let after = serde_json::to_value(&c).unwrap();
            assert_eq!(after[name.as_str()], expected, "{var} is not honoured");
            for (other, value) in &defaults {
                if other != name {
                    assert_eq!(&after[other.as_str()], value, "{var} changed {other}");
                }
            }
        }
        assert!(
            Config::default()
                .apply_env(|k| (k == "CUNJI_MAX_PULL_BYTES").then(|| "-1".into()))
                .is_err()
        );
    }
}
