//! `portorium`: the one binary. `serve` runs the three gateways; the other commands administer
//! a data directory (they may run while the server is serving).

/// mimalloc: fewer allocator locks between the server's worker threads than the system
/// allocator (the duty calculation and JSON rendering allocate many small strings).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bench;
mod bench_lodging;
mod bench_search;
mod bench_tariff;
mod config;
mod declarations_cmd;
mod tariff_cmd;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use config::{Common, Config, ServeArgs};
use portorium_audit::{CheckpointSigner, Outcome};
use portorium_kernel::{PrincipalId, SystemClock, UuidV7Gen};
use portorium_server::state::{AppState, Inner, ServerConfig, TokenCache};
use portorium_store::{
    AuditLog, AuditLogConfig, AuditRecord, Backend, NewPrincipal, Store, StoreOptions,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "portorium", version, about = "Portorium: an open customs services cloud", long_about = None)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the trader, administration and operations gateways (creates the data dir, migrates,
    /// loads the demo environment on first start).
    Serve(ServeArgs),
    /// Customs administrations (tenants).
    #[command(subcommand)]
    Tenant(TenantCmd),
    /// Customs offices.
    #[command(subcommand)]
    Office(OfficeCmd),
    /// Other government agencies working with an administration.
    #[command(subcommand)]
    Agency(AgencyCmd),
    /// The EORI registry of traders.
    #[command(subcommand)]
    Trader(TraderCmd),
    /// Officers, agency users, national systems, security officers and operators.
    #[command(subcommand)]
    Principal(PrincipalCmd),
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Take a consistent online snapshot of the data directory into FILE.
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a snapshot made by `backup` into the data directory (server stopped).
    Restore {
        #[arg(long)]
        from: PathBuf,
        /// Replace an existing database.
        #[arg(long)]
        force: bool,
    },
    /// The tariff: import TARIC3 and nomenclature files, import history, rollback.
    #[command(subcommand)]
    Tariff(tariff_cmd::TariffCmd),
    /// Benchmarks (results go in docs/benchmarks.md).
    #[command(subcommand)]
    Bench(bench::BenchCmd),
    /// NCTS reference data: customs office list and code lists.
    #[command(subcommand)]
    Refdata(declarations_cmd::RefdataCmd),
    /// Authorisations held by traders (C521, C505…).
    #[command(subcommand)]
    Authorisation(declarations_cmd::AuthorisationCmd),
    /// Guarantees (GRN) and their balances.
    #[command(subcommand)]
    Guarantee(declarations_cmd::GuaranteeCmd),
}

#[derive(Subcommand)]
enum TenantCmd {
    /// Add a customs administration.
    Add {
        /// ISO 3166-1 alpha-2 code, e.g. BE.
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// National currency (ISO 4217), e.g. EUR.
        #[arg(long)]
        currency: String,
    },
    /// List administrations.
    List,
}

#[derive(Subcommand)]
enum OfficeCmd {
    /// Add a customs office to an administration.
    Add {
        #[arg(long)]
        tenant: String,
        /// Office reference number: country code + 6 characters, e.g. NL000396.
        #[arg(long = "ref")]
        reference: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum AgencyCmd {
    /// Add an agency to an administration.
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum TraderCmd {
    /// Register a trader by EORI (in the administration whose country issued it).
    Add {
        #[arg(long)]
        eori: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum PrincipalCmd {
    /// Add a principal. The password, if any, is read from standard input.
    Add {
        /// KIND:ID, e.g. officer:NL/avisser, agency:NL/NVWA/jjansen, system:NL/ncts-nl,
        /// security:NL/kvisser, security:central/lmartin, operator:ops2.
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        office: Option<String>,
        /// Role (repeatable), e.g. --role officer --role registrar.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Read a portal password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Issue an API token; prints the bearer token alone on stdout.
    Issue {
        /// KIND:ID of the principal (see `principal add`).
        #[arg(long)]
        principal: String,
        /// Lifetime, e.g. 90d, 12h, 30m (default: no expiry).
        #[arg(long)]
        ttl: Option<String>,
        #[arg(long)]
        label: Option<String>,
    },
    /// Revoke a token by id.
    Revoke {
        #[arg(long)]
        id: String,
    },
    /// List tokens (metadata only).
    List,
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Recompute the whole log: entries, Merkle tree, head and every signed checkpoint.
    /// Exits 0 when intact; otherwise non-zero, naming the first bad entry.
    Verify,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}

/// Print a line for the operator; a closed stdout must never stop the server.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

const AUDIT_KEY: &str = "audit-ed25519.pem";

/// The audit signing key in the data dir, generated on first use (mode 0600).
fn audit_signer(data_dir: &Path) -> Result<CheckpointSigner> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let path = data_dir.join(AUDIT_KEY);
    if path.exists() {
        return existing_audit_signer(data_dir);
    }
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
    let signer = CheckpointSigner::from_seed(seed);
    write_secret(
        &path,
        signer.to_pkcs8_pem().context("audit key")?.as_bytes(),
    )?;
    Ok(signer)
}

/// The existing audit signing key; never creates one (verification needs the real key).
fn existing_audit_signer(data_dir: &Path) -> Result<CheckpointSigner> {
    let path = data_dir.join(AUDIT_KEY);
    if !path.exists() {
        bail!(
            "the audit signing key {} is missing: restore it (it is part of every backup) to verify this log",
            path.display()
        );
    }
    {
        let pem = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        CheckpointSigner::from_pkcs8_pem(&pem).context("audit key")
    }
}

fn write_secret(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

async fn open_store(cfg: &Config) -> Result<Store> {
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("creating {}", cfg.data_dir.display()))?;
    Store::open(
        &cfg.database_url,
        StoreOptions::default(),
        Arc::new(SystemClock),
        Arc::new(UuidV7Gen::new(SystemClock)),
    )
    .await
    .with_context(|| format!("opening {}", cfg.database_url))
}

/// A store plus an audit log for CLI commands; `finish` writes the final checkpoint.
struct Admin {
    store: Store,
    audit: AuditLog,
}

impl Admin {
    async fn open(cfg: &Config) -> Result<Self> {
        let store = open_store(cfg).await?;
        let signer = Arc::new(audit_signer(&cfg.data_dir)?);
        let audit = AuditLog::start(store.clone(), signer, AuditLogConfig::default());
        Ok(Self { store, audit })
    }
    async fn record(
        &self,
        action: &str,
        resource: &str,
        tenant: Option<String>,
        ok: bool,
        detail: Option<String>,
    ) -> Result<()> {
        let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        self.audit
            .append(AuditRecord {
                principal: Some(format!("cli:{user}")),
                tenant,
                circle: Some("cli".into()),
                action: action.into(),
                resource: resource.into(),
                outcome: Some(if ok {
                    Outcome::Success
                } else {
                    Outcome::Failure
                }),
                request_id: None,
                payload_hash: None,
                detail,
            })
            .await?;
        Ok(())
    }
    async fn finish(self) {
        self.audit.shutdown().await;
        self.store.close().await;
    }
}

async fn run(cli: Cli) -> Result<std::process::ExitCode> {
    use std::process::ExitCode;
    let serve_args = match &cli.command {
        Command::Serve(a) => Some(a.clone()),
        _ => None,
    };
    let cfg = config::load(&cli.common, serve_args.as_ref())?;
    match cli.command {
        Command::Serve(_) => serve(cfg).await.map(|_| ExitCode::SUCCESS),
        Command::Tenant(TenantCmd::Add {
            code,
            name,
            currency,
        }) => {
            let a = Admin::open(&cfg).await?;
            let r = a
                .store
                .create_tenant(&code.parse()?, &name, &currency.parse()?)
                .await;
            a.record("tenant.add", &code, Some(code.clone()), r.is_ok(), None)
                .await?;
            a.finish().await;
            let t = r?;
            println!(
                "administration {} ({}) added, currency {}",
                t.code, t.name, t.currency
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Tenant(TenantCmd::List) => {
            let store = open_store(&cfg).await?;
            let (rows, _) = store
                .list_tenants(&portorium_store::Page::first(500))
                .await?;
            for t in rows {
                println!("{}\t{}\t{}", t.code, t.currency, t.name);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Office(OfficeCmd::Add {
            tenant,
            reference,
            name,
        }) => {
            let a = Admin::open(&cfg).await?;
            let r = a
                .store
                .create_office(&tenant.parse()?, &reference.parse()?, &name)
                .await;
            a.record("office.add", &reference, Some(tenant), r.is_ok(), None)
                .await?;
            a.finish().await;
            let o = r?;
            println!("office {} ({}) added to {}", o.reference, o.name, o.tenant);
            Ok(ExitCode::SUCCESS)
        }
        Command::Agency(AgencyCmd::Add { tenant, code, name }) => {
            let a = Admin::open(&cfg).await?;
            let r = a
                .store
                .create_agency(&tenant.parse()?, &code.parse()?, &name)
                .await;
            a.record("agency.add", &code, Some(tenant), r.is_ok(), None)
                .await?;
            a.finish().await;
            let g = r?;
            println!("agency {} ({}) added to {}", g.code, g.name, g.tenant);
            Ok(ExitCode::SUCCESS)
        }
        Command::Trader(TraderCmd::Add { eori, name }) => {
            let a = Admin::open(&cfg).await?;
            let eori: portorium_kernel::Eori = eori.parse()?;
            let r = a.store.register_trader(&eori, &name).await;
            a.record(
                "trader.add",
                eori.as_str(),
                Some(eori.country().to_owned()),
                r.is_ok(),
                None,
            )
            .await?;
            a.finish().await;
            let t = r?;
            println!(
                "trader {} ({}) registered by {}",
                t.eori, t.name, t.registered_by
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Principal(PrincipalCmd::Add {
            id,
            name,
            office,
            roles,
            password_stdin,
        }) => {
            let id: PrincipalId = id.parse()?;
            let password_hash = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                let pw = line.trim_end_matches(['\r', '\n']);
                if pw.chars().count() < 12 {
                    bail!("the password must have at least 12 characters");
                }
                Some(
                    portorium_server::auth::hash_password(pw)
                        .map_err(|e| anyhow::anyhow!(e.detail))?,
                )
            } else {
                None
            };
            let a = Admin::open(&cfg).await?;
            let roles = if roles.is_empty() {
                vec![id.kind().as_str().to_owned()]
            } else {
                roles
            };
            let r = match &id {
                // A trader principal is its EORI registry entry.
                PrincipalId::Trader(eori) => match a.store.register_trader(eori, &name).await {
                    Ok(_) => {
                        if let Some(h) = &password_hash {
                            a.store.set_password(&id, h).await?;
                        }
                        a.store.get_principal(&id).await
                    }
                    Err(e) => Err(e),
                },
                _ => {
                    a.store
                        .create_principal(&NewPrincipal {
                            id: id.clone(),
                            display_name: name,
                            office: office.map(|o| o.parse()).transpose()?,
                            roles,
                            password_hash,
                        })
                        .await
                }
            };
            a.record(
                "principal.add",
                &id.to_string(),
                id.tenant().map(|t| t.to_string()),
                r.is_ok(),
                None,
            )
            .await?;
            a.finish().await;
            let p = r?;
            println!("principal {} added", p.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(TokenCmd::Issue {
            principal,
            ttl,
            label,
        }) => {
            let id: PrincipalId = principal.parse()?;
            let ttl = ttl.map(|t| portorium_trust::parse_ttl(&t)).transpose()?;
            let a = Admin::open(&cfg).await?;
            let r = portorium_server::auth::issue_token(&a.store, &id, ttl, label.as_deref()).await;
            let detail = r.as_ref().ok().map(|(_, row)| format!("token {}", row.id));
            a.record(
                "token.issue",
                &id.to_string(),
                id.tenant().map(|t| t.to_string()),
                r.is_ok(),
                detail,
            )
            .await?;
            a.finish().await;
            let (secret, _) = r.map_err(|e| anyhow::anyhow!(e.detail))?;
            println!("{secret}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(TokenCmd::Revoke { id }) => {
            let a = Admin::open(&cfg).await?;
            let r = a.store.revoke_token(&id).await;
            a.record("token.revoke", &id, None, r.is_ok(), None).await?;
            a.finish().await;
            let t = r?;
            println!("token {} of {} revoked", t.id, t.principal);
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(TokenCmd::List) => {
            let store = open_store(&cfg).await?;
            let mut page = portorium_store::Page::first(500);
            loop {
                let (rows, next) = store.list_tokens(&page).await?;
                for t in rows {
                    let state = if t.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    let exp = t
                        .expires_at
                        .map(|e| e.to_rfc3339())
                        .unwrap_or_else(|| "never".into());
                    println!(
                        "{}\t{}\t{}\t{}\texpires {}",
                        t.id, t.principal, t.circle, state, exp
                    );
                }
                match next {
                    Some(n) => page.after = Some(n),
                    None => break,
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(AuditCmd::Verify) => audit_verify(&cfg).await,
        Command::Backup { out } => backup(&cfg, &out).await.map(|_| ExitCode::SUCCESS),
        Command::Restore { from, force } => restore(&cfg, &from, force).await,
        Command::Tariff(t) => tariff_cmd::run(&cfg, t).await.map(|_| ExitCode::SUCCESS),
        Command::Refdata(c) => declarations_cmd::refdata(&cfg, c)
            .await
            .map(|_| ExitCode::SUCCESS),
        Command::Authorisation(c) => declarations_cmd::authorisation(&cfg, c)
            .await
            .map(|_| ExitCode::SUCCESS),
        Command::Guarantee(c) => declarations_cmd::guarantee(&cfg, c)
            .await
            .map(|_| ExitCode::SUCCESS),
        Command::Bench(b) => bench::run(b).await.map(|_| ExitCode::SUCCESS),
    }
}

async fn audit_verify(cfg: &Config) -> Result<std::process::ExitCode> {
    let signer = existing_audit_signer(&cfg.data_dir)?;
    let store = open_store(cfg).await?;
    let origin = AuditLogConfig::default().origin;
    match portorium_store::verify_log(&store, signer.verifying_key(), &origin).await? {
        Ok(r) => {
            println!(
                "audit log intact: {} entries, {} signed checkpoints, root {}",
                r.entries,
                r.checkpoints,
                hex::encode(r.root)
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
        Err(f) => {
            match f.first_bad_seq {
                Some(seq) => eprintln!("audit log TAMPERED: first bad entry {seq}: {}", f.reason),
                None => eprintln!("audit log TAMPERED: {}", f.reason),
            }
            Ok(std::process::ExitCode::from(2))
        }
    }
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PORTORIUM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if format == "json" {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

/// The WCO DMS service's settings: the schema directory (loaded on first use) and the
/// configured lanes.
fn dms_settings(
    dir: Option<PathBuf>,
    default_lane: portorium_server::risk::Lane,
    lanes: std::collections::HashMap<String, portorium_server::risk::Lane>,
) -> portorium_server::dms::DmsSettings {
    if dir.is_none() {
        tracing::warn!(
            "WCO DMS schemas not found (set PORTORIUM_DMS_XSD_DIR or dms_xsd_dir): the /customs/declarations endpoints answer 503 schemas_unavailable"
        );
    }
    portorium_server::dms::DmsSettings::new(dir, default_lane, lanes)
}

async fn serve(cfg: Config) -> Result<()> {
    init_logging(&cfg.log_format);
    let store = open_store(&cfg).await?;
    let signer = Arc::new(audit_signer(&cfg.data_dir)?);
    let federation = config::federation(&cfg).await?;
    let audit = AuditLog::start(store.clone(), signer, AuditLogConfig::default());
    let mut demo = None;
    if !cfg.no_demo
        && store.setting("demo_loaded").await?.is_none()
        && store
            .list_tenants(&portorium_store::Page::first(1))
            .await?
            .0
            .is_empty()
    {
        let creds = portorium_server::demo::load(&store)
            .await
            .map_err(|e| anyhow::anyhow!(e.detail))?;
        let mut env = String::from(
            "# Portorium demo API tokens (created on first start). `source` this file.\n",
        );
        for (p, t) in &creds.tokens {
            let var = p
                .to_string()
                .to_uppercase()
                .replace([':', '/', '-', '.'], "_");
            env.push_str(&format!("export {var}_TOKEN={t}\n"));
        }
        let path = cfg.data_dir.join("demo-tokens.env");
        let _ = std::fs::remove_file(&path);
        write_secret(&path, env.as_bytes())?;
        audit
            .append(AuditRecord {
                principal: Some("system:portorium".into()),
                circle: Some("cli".into()),
                action: "demo.load".into(),
                resource: cfg.data_dir.display().to_string(),
                detail: Some(format!("{} demo API tokens issued", creds.tokens.len())),
                ..AuditRecord::default()
            })
            .await?;
        demo = Some(creds);
    }
    let state = AppState(Arc::new(Inner {
        store: store.clone(),
        audit: audit.clone(),
        pdp: portorium_trust::Pdp::new()?,
        federation,
        metrics: portorium_server::metrics_handle(),
        config: ServerConfig {
            cookie_secure: cfg.cookie_secure,
            token_cache_ttl: std::time::Duration::from_secs(cfg.token_cache_seconds),
            body_limit: cfg.body_limit,
            import_body_limit: cfg.import_body_limit,
            taric3_xsd: cfg.taric3_xsd.clone(),
            transit: portorium_server::transit::TransitSettings::new(
                cfg.ncts_xsd_dir.clone(),
                cfg.transit_default_lane,
                cfg.transit_lanes.clone(),
            ),
            dms: dms_settings(
                cfg.dms_xsd_dir.clone(),
                cfg.declaration_default_lane,
                cfg.declaration_lanes.clone(),
            ),
            allow_private_webhooks: cfg.allow_private_webhooks,
            ..ServerConfig::default()
        },
        tokens: TokenCache::default(),
        decisions: Default::default(),
        logins: Default::default(),
        tariffs: Default::default(),
    }));
    let listeners = portorium_server::Listeners::bind(&portorium_server::Addresses {
        trader: cfg.trader_addr,
        administration: cfg.admin_addr,
        operations: cfg.ops_addr,
    })
    .await
    .context("binding the listeners")?;
    let a = listeners.local()?;
    say!(
        "Portorium is serving ({} database, data in {})",
        match store.backend() {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        },
        cfg.data_dir.display()
    );
    say!(
        "  trader gateway          http://{}   portal /login, API docs /docs",
        a.trader
    );
    say!(
        "  administration gateway  http://{}   portal /login, API docs /docs",
        a.administration
    );
    say!(
        "  operations              http://{}   /health /ready /metrics, API docs /docs",
        a.operations
    );
    if store.setting("demo_loaded").await?.is_some() {
        say!(
            "Demo environment: administrations NL and DE with a demo tariff (portal /tariff); portal password \"{}\" for:",
            portorium_server::demo::DEMO_PASSWORD
        );
        say!("  trader:NL000000001  trader:DE000000002          (trader gateway)");
        say!("  officer:NL/jdevries  officer:DE/mmueller          (tariff managers)");
        say!("  officer:NL/avandijk  officer:DE/kschmidt          (tariff approvers)");
        say!("  agency:NL/NVWA/pbakker");
        say!("  security:NL/kvisser  security:central/lmartin   (administration gateway)");
        say!(
            "  API tokens for every demo principal (and operator:admin): {}",
            cfg.data_dir.join("demo-tokens.env").display()
        );
        if let Some(d) = &demo {
            say!("  ({} tokens created now)", d.tokens.len());
        }
    }
    let shutdown = async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(t) => t,
                    Err(_) => {
                        let _ = ctrl_c.await;
                        return;
                    }
                };
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
    };
    portorium_server::serve(state, listeners, shutdown).await?;
    audit.shutdown().await;
    store.close().await;
    Ok(())
}

/// A backup is a tar archive: the database snapshot plus the audit signing key.
async fn backup(cfg: &Config, out: &Path) -> Result<()> {
    let store = open_store(cfg).await?;
    if out.exists() {
        bail!("{} already exists", out.display());
    }
    let tmp = tempfile::Builder::new()
        .prefix(".portorium-backup")
        .tempdir_in(
            out.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )?;
    let (db_name, db_file) = match store.backend() {
        Backend::Sqlite => {
            let f = tmp.path().join("portorium.db");
            portorium_store::backup_sqlite(&store, &f).await?;
            ("portorium.db", f)
        }
        Backend::Postgres => {
            let f = tmp.path().join("portorium.pgdump");
            let status = std::process::Command::new("pg_dump")
                .args(["--format=custom", "--no-owner", "--file"])
                .arg(&f)
                .arg(&cfg.database_url)
                .status()
                .context("running pg_dump (install the PostgreSQL client)")?;
            if !status.success() {
                bail!("pg_dump failed: {status}");
            }
            ("portorium.pgdump", f)
        }
    };
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut tar = tar::Builder::new(file);
    tar.append_path_with_name(&db_file, db_name)?;
    let key = cfg.data_dir.join(AUDIT_KEY);
    if key.exists() {
        tar.append_path_with_name(&key, AUDIT_KEY)?;
    }
    let f = tar.into_inner()?;
    f.sync_all()?;
    println!(
        "backup written to {} ({} bytes)",
        out.display(),
        std::fs::metadata(out)?.len()
    );
    Ok(())
}

async fn restore(cfg: &Config, from: &Path, force: bool) -> Result<std::process::ExitCode> {
    let file = std::fs::File::open(from).with_context(|| format!("opening {}", from.display()))?;
    std::fs::create_dir_all(&cfg.data_dir)?;
    let tmp = tempfile::tempdir_in(&cfg.data_dir)?;
    tar::Archive::new(file)
        .unpack(tmp.path())
        .context("reading the backup archive")?;
    let key_src = tmp.path().join(AUDIT_KEY);
    let key_dst = cfg.data_dir.join(AUDIT_KEY);
    let sqlite_src = tmp.path().join("portorium.db");
    let sqlite_dst = cfg
        .database_url
        .strip_prefix("sqlite://")
        .map(|p| PathBuf::from(p.split('?').next().unwrap_or(p)));
    // Check everything before changing anything.
    if !force {
        if key_src.exists() && key_dst.exists() {
            bail!("{} exists; use --force to replace it", key_dst.display());
        }
        if let (true, Some(p)) = (sqlite_src.exists(), &sqlite_dst) {
            if p.exists() {
                bail!(
                    "{} exists; use --force to replace it (stop the server first)",
                    p.display()
                );
            }
        }
    }
    if key_src.exists() {
        std::fs::copy(&key_src, &key_dst)?;
    }
    if sqlite_src.exists() {
        let path = sqlite_dst.context(
            "this backup is of a SQLite database; restore it with a sqlite:// database url",
        )?;
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        std::fs::copy(&sqlite_src, &path)?;
    } else if tmp.path().join("portorium.pgdump").exists() {
        let status = std::process::Command::new("pg_restore")
            .args(["--clean", "--if-exists", "--no-owner", "--dbname"])
            .arg(&cfg.database_url)
            .arg(tmp.path().join("portorium.pgdump"))
            .status()
            .context("running pg_restore")?;
        if !status.success() {
            bail!("pg_restore failed: {status}");
        }
    } else {
        bail!("{} is not a Portorium backup", from.display());
    }
    println!(
        "restored {} into {}",
        from.display(),
        cfg.data_dir.display()
    );
    audit_verify(cfg).await
}
