//! Configuration, read once at start from environment variables.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `TWOFOLD_DATABASE_URL` | `sqlite://twofold.db` | `sqlite://PATH` or `postgres://...` |
//! | `TWOFOLD_BIND` | `127.0.0.1:8080` | listen address |
//! | `TWOFOLD_PUBLIC_URL` | `http://localhost:8080` | base of absolute URLs; JWT audience |
//! | `TWOFOLD_RP_ID` | host of the public URL | WebAuthn relying-party id |
//! | `TWOFOLD_WEBAUTHN_ORIGINS` | the public URL | extra allowed WebAuthn origins, comma-separated |
//! | `TWOFOLD_ISSUER` | `twofold` | JWT `iss` and the otpauth issuer |
//! | `TWOFOLD_DATA_DIR` | `.` | where generated keys persist |
//! | `TWOFOLD_MASTER_KEY` | generated into the data dir | AES-256-GCM key for TOTP secrets (base64 of 32 bytes) |
//! | `TWOFOLD_MASTER_KEYS_PREVIOUS` | empty | retired master keys (base64, comma-separated), used only to open values sealed before a rotation |
//! | `TWOFOLD_SIGNING_KEY_MAX_AGE` | unset (no automatic rotation) | rotate the token-signing key when it is this old: `90d`, `12h`, `30m` or seconds (1 hour to 10 years) |
//! | `TWOFOLD_OPERATOR_KEY` | unset (operator API off) | bearer key of `/v1/operator/...`, at least 32 characters |
//! | `TWOFOLD_ADDRESS_FAILURE_LIMIT` | `100` | wrong passwords and codes per client address per 15 minutes |
//! | `TWOFOLD_ADDRESS_FLOW_LIMIT` | `100` | open login flows per client address |
//! | `TWOFOLD_TRUSTED_PROXIES` | empty | CIDRs of reverse proxies whose forwarding header is believed |
//! | `TWOFOLD_FORWARDED_HEADER` | `x-forwarded-for` | the one header those proxies set: `x-forwarded-for` or `forwarded` |
//! | `TWOFOLD_CORS_ORIGINS` | empty | browser origins allowed to call the API |
//! | `TWOFOLD_ARGON2_MEMORY_KIB` | `19456` | argon2id memory cost |
//! | `TWOFOLD_ARGON2_ITERATIONS` | `2` | argon2id time cost |
//! | `TWOFOLD_ARGON2_PARALLELISM` | `1` | argon2id lanes |
//! | `TWOFOLD_LOG_FORMAT` | `json` | `json` or `text` |
//! | `TWOFOLD_LOG` | `info` | tracing filter directives |
//! | `TWOFOLD_SHUTDOWN_TIMEOUT_SECS` | `15` | on SIGTERM/SIGINT, how long requests in flight may take to finish (1–3600) |
//! | `TWOFOLD_AUTOGROUP_NICE` | `5` | nice value of the process's autogroup when it leads its session (0–19; 0 leaves it alone) |
//!
//! Invalid values stop the process at start with a message naming the
//! variable; nothing is silently replaced by a default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use url::Url;

use parse::{duration, invalid, number, split_list};

mod parse;

/// `TWOFOLD_PUBLIC_URL` when unset.
pub const DEFAULT_PUBLIC_URL: &str = "http://localhost:8080";

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for PasswordParams {
    /// OWASP's argon2id recommendation (m=19 MiB, t=2, p=1).
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    pub public_url: Url,
    pub issuer: String,
    /// WebAuthn relying-party id (a registrable domain, e.g. `example.com`);
    /// `None` when none was set and the public URL's host is an IP address,
    /// which WebAuthn does not allow (WebAuthn is then unavailable).
    pub rp_id: Option<String>,
    /// Origins allowed in WebAuthn ceremonies besides the public URL.
    pub webauthn_origins: Vec<Url>,
    pub data_dir: PathBuf,
    /// Base64 AES-256 key; `None` means the generated key file.
    pub master_key: Option<crate::crypto::Secret>,
    /// Master keys that only open values sealed before a rotation.
    pub master_keys_previous: Vec<crate::crypto::Secret>,
    /// Rotate the signing key when it is this old; `None`: only by hand.
    pub signing_key_max_age: Option<Duration>,
    pub address_failure_limit: i32,
    /// Open login flows one client address (IPv6: its /64) may hold.
    pub address_flow_limit: i64,
    /// Bearer key of the operator API; `None` turns the API off.
    pub operator_key: Option<crate::crypto::Secret>,
    pub trusted_proxies: Vec<IpNet>,
    /// The one forwarding header read from trusted proxies.
    pub forwarded_header: crate::net::ForwardedHeader,
    pub cors_origins: Vec<String>,
    pub password: PasswordParams,
    pub log_format: LogFormat,
    pub log_filter: String,
    /// On SIGTERM/SIGINT, how long requests in flight may take to finish
    /// before their connections are closed. Below an orchestrator's own
    /// grace period (Kubernetes: 30 s), so the drain ends before a SIGKILL.
    pub shutdown_timeout: Duration,
    /// The process's autogroup nice value when it leads its session (see
    /// [`crate::ops::autogroup`]); 0 leaves it alone.
    pub autogroup_nice: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests can pass a map.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let database_url =
            get("TWOFOLD_DATABASE_URL").unwrap_or_else(|| "sqlite://twofold.db".to_owned());
        crate::db::Backend::from_url(&database_url)
            .map_err(|e| invalid("TWOFOLD_DATABASE_URL", e.to_string()))?;

        let bind = get("TWOFOLD_BIND")
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
            .parse()
            .map_err(|_| invalid("TWOFOLD_BIND", "expected HOST:PORT, e.g. 127.0.0.1:8080"))?;

        let public_url_raw =
            get("TWOFOLD_PUBLIC_URL").unwrap_or_else(|| DEFAULT_PUBLIC_URL.to_owned());
        let public_url = Url::parse(&public_url_raw)
            .map_err(|e| invalid("TWOFOLD_PUBLIC_URL", e.to_string()))?;
        if !matches!(public_url.scheme(), "http" | "https") || public_url.host().is_none() {
            return Err(invalid(
                "TWOFOLD_PUBLIC_URL",
                "expected an absolute http(s) URL such as https://auth.example.com",
            ));
        }

        let issuer = get("TWOFOLD_ISSUER").unwrap_or_else(|| "twofold".to_owned());
        if issuer.contains(':') {
            // The issuer is also the label prefix of otpauth URIs, where ':'
            // separates issuer from account name.
            return Err(invalid("TWOFOLD_ISSUER", "must not contain ':'"));
        }

        let rp_id = match get("TWOFOLD_RP_ID") {
            Some(id) => Some(id.to_lowercase()),
            None => match public_url.host() {
                Some(url::Host::Domain(host)) => Some(host.to_lowercase()),
                _ => None,
            },
        };
        let webauthn_origins = split_list(get("TWOFOLD_WEBAUTHN_ORIGINS"))
            .map(|origin| {
                Url::parse(&origin)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                    .ok_or_else(|| {
                        format!("{origin}: expected an origin like https://app.example.com")
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("TWOFOLD_WEBAUTHN_ORIGINS", e))?;

        let data_dir = PathBuf::from(get("TWOFOLD_DATA_DIR").unwrap_or_else(|| ".".to_owned()));

        let master_key = get("TWOFOLD_MASTER_KEY").map(crate::crypto::Secret::new);
        if let Some(key) = &master_key {
            crate::crypto::secretbox::SecretBox::from_base64(key.expose())
                .map_err(|e| invalid("TWOFOLD_MASTER_KEY", e.to_string()))?;
        }
        let master_keys_previous = split_list(get("TWOFOLD_MASTER_KEYS_PREVIOUS"))
            .enumerate()
            .map(|(i, key)| {
                crate::crypto::secretbox::SecretBox::from_base64(&key)
                    .map(|_| crate::crypto::Secret::new(key))
                    .map_err(|e| {
                        invalid(
                            "TWOFOLD_MASTER_KEYS_PREVIOUS",
                            format!("key {}: {e}", i + 1),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let signing_key_max_age = get("TWOFOLD_SIGNING_KEY_MAX_AGE")
            .map(|raw| {
                duration(&raw, 3600..=10 * 365 * 86_400)
                    .map_err(|e| invalid("TWOFOLD_SIGNING_KEY_MAX_AGE", e))
            })
            .transpose()?;
        let operator_key = get("TWOFOLD_OPERATOR_KEY").map(crate::crypto::Secret::new);
        if operator_key
            .as_ref()
            .is_some_and(|k| k.expose().chars().count() < 32)
        {
            return Err(invalid(
                "TWOFOLD_OPERATOR_KEY",
                "must be at least 32 characters (e.g. openssl rand -base64 32)",
            ));
        }
        let address_failure_limit = i32::try_from(number(
            &get,
            "TWOFOLD_ADDRESS_FAILURE_LIMIT",
            100,
            1..=1_000_000,
        )?)
        .unwrap_or(100);
        let address_flow_limit = i64::from(number(
            &get,
            "TWOFOLD_ADDRESS_FLOW_LIMIT",
            100,
            1..=1_000_000,
        )?);

        let trusted_proxies = split_list(get("TWOFOLD_TRUSTED_PROXIES"))
            .map(|entry| crate::net::parse_cidr_or_ip(&entry))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("TWOFOLD_TRUSTED_PROXIES", e))?;
        let forwarded_header = get("TWOFOLD_FORWARDED_HEADER")
            .map_or(Ok(crate::net::ForwardedHeader::XForwardedFor), |v| {
                crate::net::ForwardedHeader::parse(&v)
            })
            .map_err(|e| invalid("TWOFOLD_FORWARDED_HEADER", e))?;

        let cors_origins = split_list(get("TWOFOLD_CORS_ORIGINS"))
            .map(|origin| {
                let parsed = Url::parse(&origin).map_err(|e| format!("{origin}: {e}"))?;
                let canonical = parsed.origin().ascii_serialization();
                if canonical == "null" || canonical != origin.trim_end_matches('/') {
                    return Err(format!(
                        "{origin}: expected an origin like https://app.example.com (scheme, host, optional port; no path)"
                    ));
                }
                Ok(canonical)
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("TWOFOLD_CORS_ORIGINS", e))?;

        let defaults = PasswordParams::default();
        let password = PasswordParams {
            memory_kib: number(
                &get,
                "TWOFOLD_ARGON2_MEMORY_KIB",
                defaults.memory_kib,
                8..=4_194_304,
            )?,
            iterations: number(
                &get,
                "TWOFOLD_ARGON2_ITERATIONS",
                defaults.iterations,
                1..=64,
            )?,
            parallelism: number(
                &get,
                "TWOFOLD_ARGON2_PARALLELISM",
                defaults.parallelism,
                1..=64,
            )?,
        };
        if password.memory_kib < 8 * password.parallelism {
            return Err(invalid(
                "TWOFOLD_ARGON2_MEMORY_KIB",
                "must be at least 8 × TWOFOLD_ARGON2_PARALLELISM",
            ));
        }

        let log_format = match get("TWOFOLD_LOG_FORMAT").as_deref() {
            None | Some("json") => LogFormat::Json,
            Some("text") => LogFormat::Text,
            Some(other) => {
                return Err(invalid(
                    "TWOFOLD_LOG_FORMAT",
                    format!("{other}: expected json or text"),
                ))
            }
        };
        let log_filter = get("TWOFOLD_LOG").unwrap_or_else(|| "info".to_owned());
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&log_filter) {
            return Err(invalid("TWOFOLD_LOG", format!("{log_filter}: {e}")));
        }

        let shutdown_timeout = Duration::from_secs(u64::from(number(
            &get,
            "TWOFOLD_SHUTDOWN_TIMEOUT_SECS",
            15,
            1..=3600,
        )?));
        let autogroup_nice = number(&get, "TWOFOLD_AUTOGROUP_NICE", 5, 0..=19)?;

        Ok(Self {
            database_url,
            bind,
            public_url,
            issuer,
            rp_id,
            webauthn_origins,
            data_dir,
            master_key,
            master_keys_previous,
            signing_key_max_age,
            address_failure_limit,
            address_flow_limit,
            operator_key,
            trusted_proxies,
            forwarded_header,
            cors_origins,
            password,
            log_format,
            log_filter,
            shutdown_timeout,
            autogroup_nice,
        })
    }

    /// The JWT audience: the API these tokens are for.
    pub fn audience(&self) -> String {
        self.public_url.as_str().trim_end_matches('/').to_owned()
    }
}

#[cfg(test)]
mod tests;
