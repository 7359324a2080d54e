//! Configuration: flags, then `PORTORIUM_*` environment variables (both handled by clap),
//! then a TOML file (`--config FILE`), then built-in defaults.

use anyhow::{Context, Result};
use clap::Args;
use portorium_trust::ProviderConfig;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Options every command that touches a data directory shares.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Data directory: SQLite database, generated keys. Created if missing.
    #[arg(long, env = "PORTORIUM_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL: `sqlite://PATH` (default: DATA_DIR/portorium.db) or `postgres://…`.
    #[arg(long, env = "PORTORIUM_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// TOML configuration file (see README: configuration reference).
    #[arg(long, env = "PORTORIUM_CONFIG", global = true)]
    pub config: Option<PathBuf>,
}

/// Options of `portorium serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Trader gateway listen address.
    #[arg(long, env = "PORTORIUM_TRADER_ADDR")]
    pub trader_addr: Option<SocketAddr>,
    /// Administration gateway listen address.
    #[arg(long, env = "PORTORIUM_ADMIN_ADDR")]
    pub admin_addr: Option<SocketAddr>,
    /// Operations listen address (keep it internal).
    #[arg(long, env = "PORTORIUM_OPS_ADDR")]
    pub ops_addr: Option<SocketAddr>,
    /// Log format.
    #[arg(long, env = "PORTORIUM_LOG_FORMAT", value_parser = ["json", "text"])]
    pub log_format: Option<String>,
    /// Do not load the demo environment on first start.
    #[arg(long, env = "PORTORIUM_NO_DEMO")]
    pub no_demo: bool,
    /// Mark session cookies Secure (default: true unless every listener is on loopback).
    #[arg(long, env = "PORTORIUM_COOKIE_SECURE")]
    pub cookie_secure: Option<bool>,
}

/// The TOML file. Every key is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub trader_addr: Option<SocketAddr>,
    pub admin_addr: Option<SocketAddr>,
    pub ops_addr: Option<SocketAddr>,
    pub log_format: Option<String>,
    pub no_demo: Option<bool>,
    pub cookie_secure: Option<bool>,
    /// Seconds a verified API token is cached (revocation via the API is immediate).
    pub token_cache_seconds: Option<u64>,
    /// Largest request body in bytes.
    pub body_limit: Option<usize>,
    /// Largest tariff import body (`POST …/imports`) in bytes.
    pub import_body_limit: Option<usize>,
    /// taric3.xsd, to validate TARIC3 envelopes imported through the API.
    pub taric3_xsd: Option<PathBuf>,
    /// The NCTS phase 5 XSD directory (`cc015c.xsd` …) for the transit API.
    pub ncts_xsd_dir: Option<PathBuf>,
    /// The WCO DMS schema directory (`customs/wrapper_submit.xsd` …) for the customs
    /// declarations API.
    pub dms_xsd_dir: Option<PathBuf>,
    /// Accept DMS notification webhooks on loopback, private, link-local and other
    /// non-public addresses (default false).
    pub allow_private_webhooks: Option<bool>,
    /// The lane every accepted transit declaration gets (`green`, `yellow`, `orange`, `red`)
    /// until the risk service assesses them; default `green`.
    pub transit_default_lane: Option<String>,
    /// The lane per administration, e.g. `DE = "yellow"`.
    #[serde(default)]
    pub transit_lanes: std::collections::HashMap<String, String>,
    /// The same for import and export declarations (WCO DMS); default `green`.
    pub declaration_default_lane: Option<String>,
    /// The import/export lane per administration.
    #[serde(default)]
    pub declaration_lanes: std::collections::HashMap<String, String>,
    #[serde(default)]
    pub identity_providers: Vec<ProviderConfig>,
}

/// The merged configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub trader_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub ops_addr: SocketAddr,
    pub log_format: String,
    pub no_demo: bool,
    pub cookie_secure: bool,
    pub token_cache_seconds: u64,
    pub body_limit: usize,
    pub import_body_limit: usize,
    /// From the file, `PORTORIUM_TARIC3_XSD`, or `$PORTORIUM_REFERENCE/tariff/taric3/taric3.xsd`
    /// when that exists.
    pub taric3_xsd: Option<PathBuf>,
    /// `PORTORIUM_NCTS_XSD_DIR`, the file, or `$PORTORIUM_REFERENCE/ncts-p5/xsd` (else
    /// `../shared/reference/ncts-p5/xsd`) when that exists. Without it the transit endpoints
    /// answer 503 `schemas_unavailable`.
    pub ncts_xsd_dir: Option<PathBuf>,
    /// `PORTORIUM_DMS_XSD_DIR`, the file, or `$PORTORIUM_REFERENCE/wco-dms/schemas` (else
    /// `../shared/reference/wco-dms/schemas`) when that exists. Without it the customs
    /// declarations endpoints answer 503 `schemas_unavailable`.
    pub dms_xsd_dir: Option<PathBuf>,
    /// DMS webhooks may point at non-public addresses (TOML only; default false).
    pub allow_private_webhooks: bool,
    pub transit_default_lane: portorium_server::transit::Lane,
    pub transit_lanes: std::collections::HashMap<String, portorium_server::transit::Lane>,
    pub declaration_default_lane: portorium_server::transit::Lane,
    pub declaration_lanes: std::collections::HashMap<String, portorium_server::transit::Lane>,
    pub identity_providers: Vec<ProviderConfig>,
}

pub fn load(common: &Common, serve: Option<&ServeArgs>) -> Result<Config> {
    let file: FileConfig = match &common.config {
        None => FileConfig::default(),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            toml::from_str(&text).with_context(|| format!("in {}", p.display()))?
        }
    };
    let data_dir = common
        .data_dir
        .clone()
        .or(file.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from("./portorium-data"));
    let database_url = common
        .database_url
        .clone()
        .or(file.database_url.clone())
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("portorium.db").display()));
    let addr = |flag: Option<SocketAddr>, file: Option<SocketAddr>, port: u16| {
        flag.or(file)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], port)))
    };
    let s = serve.cloned();
    let trader_addr = addr(
        s.as_ref().and_then(|s| s.trader_addr),
        file.trader_addr,
        8080,
    );
    let admin_addr = addr(s.as_ref().and_then(|s| s.admin_addr), file.admin_addr, 8081);
    let ops_addr = addr(s.as_ref().and_then(|s| s.ops_addr), file.ops_addr, 8082);
    let lane = |s: &str| {
        s.parse::<portorium_server::transit::Lane>()
            .map_err(|e| anyhow::anyhow!("transit lanes: {e}"))
    };
    let transit_default_lane = match &file.transit_default_lane {
        Some(l) => lane(l)?,
        None => portorium_server::transit::Lane::Green,
    };
    let transit_lanes = file
        .transit_lanes
        .iter()
        .map(|(t, l)| Ok((t.to_ascii_uppercase(), lane(l)?)))
        .collect::<Result<_>>()?;
    let declaration_default_lane = match &file.declaration_default_lane {
        Some(l) => lane(l)?,
        None => portorium_server::transit::Lane::Green,
    };
    let declaration_lanes = file
        .declaration_lanes
        .iter()
        .map(|(t, l)| Ok((t.to_ascii_uppercase(), lane(l)?)))
        .collect::<Result<_>>()?;
    let all_loopback = [trader_addr, admin_addr, ops_addr]
        .iter()
        .all(|a| a.ip().is_loopback());
    Ok(Config {
        data_dir,
        database_url,
        trader_addr,
        admin_addr,
        ops_addr,
        log_format: s
            .as_ref()
            .and_then(|s| s.log_format.clone())
            .or(file.log_format.clone())
            .unwrap_or_else(|| "text".into()),
        no_demo: s.as_ref().is_some_and(|s| s.no_demo) || file.no_demo.unwrap_or(false),
        cookie_secure: s
            .as_ref()
            .and_then(|s| s.cookie_secure)
            .or(file.cookie_secure)
            .unwrap_or(!all_loopback),
        token_cache_seconds: file.token_cache_seconds.unwrap_or(5),
        body_limit: file.body_limit.unwrap_or(1024 * 1024),
        import_body_limit: file.import_body_limit.unwrap_or(256 * 1024 * 1024),
        taric3_xsd: file
            .taric3_xsd
            .clone()
            .or_else(|| std::env::var_os("PORTORIUM_TARIC3_XSD").map(PathBuf::from))
            .or_else(default_taric3_xsd),
        ncts_xsd_dir: std::env::var_os("PORTORIUM_NCTS_XSD_DIR")
            .map(PathBuf::from)
            .or(file.ncts_xsd_dir.clone())
            .or_else(portorium_server::transit::default_xsd_dir),
        dms_xsd_dir: std::env::var_os("PORTORIUM_DMS_XSD_DIR")
            .map(PathBuf::from)
            .or(file.dms_xsd_dir.clone())
            .or_else(portorium_server::dms::default_xsd_dir),
        allow_private_webhooks: file.allow_private_webhooks.unwrap_or(false),
        transit_default_lane,
        transit_lanes,
        declaration_default_lane,
        declaration_lanes,
        identity_providers: file.identity_providers,
    })
}

/// Read (or fetch) the JWKS documents of the configured identity providers.
pub async fn federation(cfg: &Config) -> Result<portorium_trust::Federation> {
    let mut providers = Vec::new();
    for p in &cfg.identity_providers {
        let jwks = match (&p.jwks_file, &p.jwks_url) {
            (Some(f), _) => {
                let path = resolve(&cfg.data_dir, f);
                std::fs::read_to_string(&path)
                    .with_context(|| format!("JWKS file {}", path.display()))?
            }
            (None, Some(u)) => fetch_jwks(u)
                .await
                .with_context(|| format!("identity provider {}: fetching {u}", p.issuer))?,
            (None, None) => {
                anyhow::bail!("identity provider {}: set jwks_file or jwks_url", p.issuer)
            }
        };
        providers.push(
            portorium_trust::IdentityProvider::new(p.clone(), &jwks)
                .with_context(|| format!("identity provider {}", p.issuer))?,
        );
    }
    Ok(portorium_trust::Federation::new(providers))
}

fn resolve(base: &Path, f: &str) -> PathBuf {
    let p = PathBuf::from(f);
    if p.is_absolute() || p.exists() {
        p
    } else {
        base.join(p)
    }
}

/// Fetch a JWKS document over HTTPS (HTTP only for loopback addresses, for tests and sidecars).
/// Bounded in time (10 s) and size (1 MiB). Keys are fetched at start; restart to pick up rotated
/// keys.
pub async fn fetch_jwks(url: &str) -> Result<String> {
    use http_body_util::{BodyExt, Empty, Limited};
    let uri: hyper::Uri = url.parse().context("not a URL")?;
    let host = uri.host().unwrap_or_default().to_owned();
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if loopback => {}
        _ => anyhow::bail!("the JWKS URL must be https:// (http:// only on loopback)"),
    }
    // Name the crypto provider: with several rustls providers compiled in (as in the test
    // build), rustls cannot choose one itself.
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .context("TLS setup")?
        .https_or_http()
        .enable_http1()
        .build();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, Empty<hyper::body::Bytes>>(https);
    let resp = tokio::time::timeout(std::time::Duration::from_secs(10), client.get(uri))
        .await
        .context("timed out")??;
    if !resp.status().is_success() {
        anyhow::bail!("HTTP {}", resp.status());
    }
    let body = Limited::new(resp.into_body(), 1024 * 1024)
        .collect()
        .await
        .map_err(|e| anyhow::anyhow!("reading the body: {e}"))?
        .to_bytes();
    String::from_utf8(body.to_vec()).context("the JWKS is not UTF-8")
}

/// `$PORTORIUM_REFERENCE/tariff/taric3/taric3.xsd` (default `../shared/reference`), when present.
pub fn default_taric3_xsd() -> Option<PathBuf> {
    let base = std::env::var_os("PORTORIUM_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/reference"));
    let p = base.join("tariff/taric3/taric3.xsd");
    p.exists().then_some(p)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// The annotated example in docs parses (unknown keys are errors), so it stays true.
    #[test]
    fn example_configuration_parses() {
        let text = include_str!("../docs/configuration.example.toml");
        let file: FileConfig = toml::from_str(text).expect("docs/configuration.example.toml");
        assert_eq!(file.allow_private_webhooks, Some(false));
    }

    /// The DMS keys of the file reach the merged configuration (the environment variable, when
    /// set, takes precedence over `dms_xsd_dir`).
    #[test]
    fn dms_keys_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "dms_xsd_dir = \"/opt/dms\"\nallow_private_webhooks = true\n\
             declaration_default_lane = \"yellow\"\n[declaration_lanes]\nde = \"red\"\n",
        )
        .unwrap();
        let common = Common {
            data_dir: Some(dir.path().to_owned()),
            database_url: None,
            config: Some(path),
        };
        let cfg = load(&common, None).unwrap();
        assert!(cfg.allow_private_webhooks);
        assert_eq!(
            cfg.declaration_default_lane,
            portorium_server::transit::Lane::Yellow
        );
        assert_eq!(
            cfg.declaration_lanes.get("DE"),
            Some(&portorium_server::transit::Lane::Red)
        );
        if std::env::var_os("PORTORIUM_DMS_XSD_DIR").is_none() {
            assert_eq!(cfg.dms_xsd_dir, Some(PathBuf::from("/opt/dms")));
        }
        let defaults = load(
            &Common {
                data_dir: Some(dir.path().to_owned()),
                database_url: None,
                config: None,
            },
            None,
        )
        .unwrap();
        assert!(!defaults.allow_private_webhooks);
    }
}
