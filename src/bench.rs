//! `portorium bench`: the measurements behind docs/benchmarks.md, reproducible with one command.

use anyhow::{Context, Result};
use clap::Subcommand;
use portorium_audit::CheckpointSigner;
use portorium_kernel::{Circle, SystemClock, UuidV7Gen};
use portorium_store::{AuditLog, AuditLogConfig, AuditRecord, Store, StoreOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Subcommand)]
pub enum BenchCmd {
    /// Audit append throughput on SQLite, including signed checkpoints, then a full verify.
    Audit {
        /// Entries to append.
        #[arg(long, default_value_t = 200_000)]
        entries: usize,
        /// Concurrent appenders (requests in flight).
        #[arg(long, default_value_t = 256)]
        producers: usize,
    },
    /// HTTP throughput and latency: unauthenticated /health versus an authenticated read
    /// through the full middleware stack, measured side by side in one run.
    Http {
        /// Seconds per target.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 32)]
        connections: usize,
    },
    /// Duty calculation: in-process throughput on one core on a commodity with 50+ measures,
    /// then the duty-calculation HTTP endpoint versus /health in the same run.
    Tariff {
        /// Seconds per measurement.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent keep-alive connections for the HTTP part.
        #[arg(long, default_value_t = 32)]
        connections: usize,
    },
    /// Transit lodging: CC015C departures (5 items) through the HTTP endpoint, declarations/s
    /// and p50/p99, against the raw single-row insert rate of the same database.
    Lodging {
        /// PostgreSQL server to benchmark on (a fresh database is created and dropped);
        /// default: a temporary SQLite file.
        #[arg(long)]
        database_url: Option<String>,
        /// Seconds per measurement.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Concurrent keep-alive connections (and concurrent raw inserters).
        #[arg(long, default_value_t = 32)]
        connections: usize,
    },
    /// Tariff search: index build time over the full CN 2026, then latency of the 3,096 real
    /// queries of the reference set (p50/p99/max) and how many find nothing.
    Search {
        /// The reference data directory (holding `tariff/cn2026` and `tariff/search_queries.csv`).
        #[arg(
            long,
            env = "PORTORIUM_REFERENCE",
            default_value = "../shared/reference"
        )]
        reference: std::path::PathBuf,
        /// Timed rounds over the query set (after one warm-up round).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Hits asked per query.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

pub async fn run(cmd: BenchCmd) -> Result<()> {
    match cmd {
        BenchCmd::Audit { entries, producers } => audit(entries, producers).await,
        BenchCmd::Http {
            seconds,
            connections,
        } => http(seconds, connections).await,
        BenchCmd::Tariff {
            seconds,
            connections,
        } => crate::bench_tariff::run(seconds, connections).await,
        BenchCmd::Lodging {
            database_url,
            seconds,
            connections,
        } => crate::bench_lodging::run(database_url, seconds, connections).await,
        BenchCmd::Search {
            reference,
            rounds,
            limit,
        } => {
            tokio::task::spawn_blocking(move || crate::bench_search::run(&reference, rounds, limit))
                .await
                .context("search benchmark task")?
        }
    }
}

async fn audit(entries: usize, producers: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/bench.db", dir.path().display());
    let store = Store::open(
        &url,
        StoreOptions::default(),
        Arc::new(SystemClock),
        Arc::new(UuidV7Gen::new(SystemClock)),
    )
    .await?;
    let signer = Arc::new(CheckpointSigner::from_seed([1u8; 32]));
    let verifying = signer.verifying_key();
    let cfg = AuditLogConfig::default();
    let origin = cfg.origin.clone();
    let log = AuditLog::start(store.clone(), signer, cfg);
    let per = entries.div_ceil(producers.max(1));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for p in 0..producers.max(1) {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                log.append(AuditRecord {
                    principal: Some("officer:NL/jdevries".into()),
                    tenant: Some("NL".into()),
                    circle: Some("administration".into()),
                    action: "POST /api/v1/messages".into(),
                    resource: format!("/api/v1/messages/{p}-{i}"),
                    outcome: None,
                    request_id: Some(format!("{p:08x}-{i:08x}")),
                    payload_hash: Some(portorium_audit::payload_hash(format!("{p}{i}").as_bytes())),
                    detail: Some("201".into()),
                })
                .await?;
            }
            Ok::<_, portorium_store::StoreError>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    log.checkpoint().await?;
    let elapsed = start.elapsed();
    let total = per * producers.max(1);
    let (checkpoints, _) = log.checkpoints(&portorium_store::Page::first(500)).await?;
    let vstart = Instant::now();
    let report = portorium_store::verify_log(&store, verifying, &origin)
        .await?
        .map_err(|f| anyhow::anyhow!("verify failed: {f}"))?;
    let vtime = vstart.elapsed();
    println!("audit append (SQLite, synchronous=FULL, {producers} concurrent appenders)");
    println!("  entries        {total}");
    println!("  elapsed        {:.3} s", elapsed.as_secs_f64());
    println!(
        "  throughput     {:.0} entries/s",
        total as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  checkpoints    {} signed (latest first page)",
        checkpoints.len()
    );
    println!(
        "  full verify    {} entries in {:.3} s ({:.0} entries/s)",
        report.entries,
        vtime.as_secs_f64(),
        report.entries as f64 / vtime.as_secs_f64()
    );
    Ok(())
}

pub(crate) struct LoadResult {
    requests: u64,
    pub(crate) errors: u64,
    elapsed: Duration,
    latencies_us: Vec<u32>,
}

impl LoadResult {
    pub(crate) fn pct(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        f64::from(self.latencies_us[i]) / 1000.0
    }
    pub(crate) fn requests(&self) -> u64 {
        self.requests
    }
    pub(crate) fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
    /// The result of two windows on the same target as one: requests, errors and time added,
    /// latencies pooled.
    pub(crate) fn merge(&mut self, other: LoadResult) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.elapsed += other.elapsed;
        self.latencies_us.extend(other.latencies_us);
        self.latencies_us.sort_unstable();
    }
}

/// A minimal HTTP/1.1 keep-alive load generator (fixed concurrency, closed loop).
async fn load(
    addr: std::net::SocketAddr,
    path: &str,
    token: Option<&str>,
    seconds: u64,
    connections: usize,
) -> Result<LoadResult> {
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    req.push_str("\r\n");
    load_request(addr, req.as_bytes(), seconds, connections).await
}

/// The load generator for any request, given as the raw bytes of one HTTP/1.1 request.
pub(crate) async fn load_request(
    addr: std::net::SocketAddr,
    request: &[u8],
    seconds: u64,
    connections: usize,
) -> Result<LoadResult> {
    let req = Arc::new(request.to_vec());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let req = req.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(100_000);
            let mut errors = 0u64;
            let mut stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let mut buf = vec![0u8; 64 * 1024];
            while Instant::now() < deadline {
                let t0 = Instant::now();
                stream.write_all(&req).await?;
                let mut filled = 0usize;
                let (status, total) = loop {
                    let n = stream.read(&mut buf[filled..]).await?;
                    if n == 0 {
                        anyhow::bail!("connection closed");
                    }
                    filled += n;
                    if let Some(end) = find(&buf[..filled], b"\r\n\r\n") {
                        let (status, len) = response_head(&buf[..end]);
                        break (status, end + 4 + len);
                    }
                    if filled == buf.len() {
                        anyhow::bail!("response headers too large");
                    }
                };
                while filled < total {
                    if total > buf.len() {
                        buf.resize(total, 0);
                    }
                    let n = stream.read(&mut buf[filled..total]).await?;
                    if n == 0 {
                        anyhow::bail!("connection closed mid-body");
                    }
                    filled += n;
                }
                if status != 200 {
                    errors += 1;
                }
                lat.push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
            }
            Ok::<_, anyhow::Error>((lat, errors))
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await??;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    Ok(LoadResult {
        requests: latencies.len() as u64,
        errors,
        elapsed,
        latencies_us: latencies,
    })
}

/// One request on a new connection: the response's status and total size (head and body),
/// to print next to the load figures (the bytes each request moves through the kernel).
pub(crate) async fn response_size(
    addr: std::net::SocketAddr,
    request: &[u8],
) -> Result<(u16, usize)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(request).await?;
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            anyhow::bail!("connection closed");
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let (status, len) = response_head(&buf[..end]);
            return Ok((status, end + 4 + len));
        }
    }
}

/// The status and `Content-Length` of an HTTP/1.1 response head (without its blank line);
/// 0 for either when absent. Header names are compared without allocating: the load
/// generator's own cost per response is part of every row it measures.
pub(crate) fn response_head(head: &[u8]) -> (u16, usize) {
    let head = std::str::from_utf8(head).unwrap_or("");
    let status: u16 = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    (status, len)
}

/// The position of `needle` in `hay`.
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn http(seconds: u64, connections: usize) -> Result<()> {
    let server = portorium_server::testing::TestServer::sqlite().await;
    let ops = server.addrs.operations;
    let admin = server.addrs.administration;
    let token = server.token("officer:NL/jdevries");
    // Warm up both paths (token cache, statement cache).
    load(ops, "/health", None, 1, 4).await.context("warm-up")?;
    load(admin, "/api/v1/offices", Some(&token), 1, 4)
        .await
        .context("warm-up")?;
    let health = load(ops, "/health", None, seconds, connections).await?;
    let authed = load(admin, "/api/v1/offices", Some(&token), seconds, connections).await?;
    let me = load(admin, "/api/v1/me", Some(&token), seconds, connections).await?;
    let trader_token = server.token("trader:NL000000001");
    let trader_me = load(
        server.addrs.trader,
        "/api/v1/me",
        Some(&trader_token),
        seconds,
        connections,
    )
    .await?;
    println!("HTTP, {connections} keep-alive connections, {seconds} s per target, server and load generator in one process on this machine");
    println!(
        "{:<52} {:>10} {:>8} {:>9} {:>9} {:>7}",
        "target", "req/s", "errors", "p50 ms", "p99 ms", "ratio"
    );
    for (name, r) in [
        ("GET /health (operations, anonymous)", &health),
        (
            "GET /api/v1/offices (admin, bearer token, DB read)",
            &authed,
        ),
        ("GET /api/v1/me (admin, bearer token, DB read)", &me),
        (
            "GET /api/v1/me (trader, bearer token, no DB read)",
            &trader_me,
        ),
    ] {
        println!(
            "{:<52} {:>10.0} {:>8} {:>9.2} {:>9.2} {:>6.0}%",
            name,
            r.rps(),
            r.errors,
            r.pct(0.5),
            r.pct(0.99),
            100.0 * r.rps() / health.rps()
        );
    }
    let _ = Circle::Trader;
    drop(server);
    Ok(())
}
