//! `portorium bench lodging`: transit departures lodged through the real HTTP endpoint
//! (`POST /customs/transits/movements/departures`, a CC015C with 5 goods items, XSD-validated,
//! one durable transaction per lodging), against the raw single-row insert rate of the same
//! database with the same durability and the same number of connections.
//!
//! The server runs in-process with the demo environment on a fresh database: a temporary
//! SQLite file (WAL, `synchronous=FULL`), or with `--database-url` a fresh PostgreSQL
//! database created on that server and dropped afterwards.

use anyhow::{bail, Context, Result};
use portorium_kernel::Eori;
use portorium_server::testing::TestServer;
use portorium_store::testing::TestDb;
use portorium_store::{MovementKind, Scope, Store, TransitFilter};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The demo trader that lodges (holder, authorised consignor C521, guarantee holder).
const TRADER: &str = "NL000000001";

/// A CC015C of the demo environment with 5 goods items: T1 from Rotterdam Maasvlakte
/// (NL000396) to Hamburg Waltershof (DE004058), authorised consignor, comprehensive guarantee
/// 26NLDEMO000000012 (100,000 EUR) with 1.00 EUR to cover so that every lodging of a run is
/// released (CC029C) rather than refused for want of guarantee. `{MSG}` and `{LRN}` are
/// replaced per request.
const CC015C: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ncts:CC015C PhaseID="NCTS5.1" xmlns:ncts="http://ncts.dgtaxud.ec">
  <messageSender>NL000000001</messageSender>
  <messageRecipient>NTA.NL</messageRecipient>
  <preparationDateAndTime>2026-11-30T08:15:00</preparationDateAndTime>
  <messageIdentification>{MSG}</messageIdentification>
  <messageType>CC015C</messageType>
  <TransitOperation>
    <LRN>{LRN}</LRN>
    <declarationType>T1</declarationType>
    <additionalDeclarationType>A</additionalDeclarationType>
    <security>0</security>
    <reducedDatasetIndicator>0</reducedDatasetIndicator>
    <bindingItinerary>0</bindingItinerary>
  </TransitOperation>
  <Authorisation><sequenceNumber>1</sequenceNumber><type>C521</type><referenceNumber>NLACR2026000001</referenceNumber></Authorisation>
  <CustomsOfficeOfDeparture><referenceNumber>NL000396</referenceNumber></CustomsOfficeOfDeparture>
  <CustomsOfficeOfDestinationDeclared><referenceNumber>DE004058</referenceNumber></CustomsOfficeOfDestinationDeclared>
  <HolderOfTheTransitProcedure>
    <identificationNumber>NL000000001</identificationNumber>
    <name>Holland Imports BV</name>
    <Address><streetAndNumber>Havenweg 1</streetAndNumber><postcode>3199</postcode><city>Rotterdam</city><country>NL</country></Address>
  </HolderOfTheTransitProcedure>
  <Guarantee>
    <sequenceNumber>1</sequenceNumber>
    <guaranteeType>1</guaranteeType>
    <GuaranteeReference><sequenceNumber>1</sequenceNumber><GRN>26NLDEMO000000012</GRN><accessCode>NL01</accessCode><amountToBeCovered>1.00</amountToBeCovered><currency>EUR</currency></GuaranteeReference>
  </Guarantee>
  <Consignment>
    <countryOfDispatch>NL</countryOfDispatch>
    <countryOfDestination>DE</countryOfDestination>
    <containerIndicator>0</containerIndicator>
    <inlandModeOfTransport>3</inlandModeOfTransport>
    <grossMass>6000.000</grossMass>
    <HouseConsignment>
      <sequenceNumber>1</sequenceNumber>
      <grossMass>6000.000</grossMass>
      <ConsignmentItem>
        <goodsItemNumber>1</goodsItemNumber>
        <declarationGoodsItemNumber>1</declarationGoodsItemNumber>
        <Commodity>
          <descriptionOfGoods>Mobile telephones</descriptionOfGoods>
          <CommodityCode><harmonizedSystemSubHeadingCode>851712</harmonizedSystemSubHeadingCode></CommodityCode>
          <GoodsMeasure><grossMass>1250.000</grossMass></GoodsMeasure>
        </Commodity>
        <Packaging><sequenceNumber>1</sequenceNumber><typeOfPackages>PX</typeOfPackages><numberOfPackages>4</numberOfPackages><shippingMarks>PORTORIUM 1</shippingMarks></Packaging>
      </ConsignmentItem>
      <ConsignmentItem>
        <goodsItemNumber>2</goodsItemNumber>
        <declarationGoodsItemNumber>2</declarationGoodsItemNumber>
        <Commodity>
          <descriptionOfGoods>Portable computers</descriptionOfGoods>
          <CommodityCode><harmonizedSystemSubHeadingCode>847130</harmonizedSystemSubHeadingCode></CommodityCode>
          <GoodsMeasure><grossMass>830.500</grossMass></GoodsMeasure>
        </Commodity>
        <Packaging><sequenceNumber>1</sequenceNumber><typeOfPackages>PX</typeOfPackages><numberOfPackages>8</numberOfPackages><shippingMarks>PORTORIUM 2</shippingMarks></Packaging>
      </ConsignmentItem>
      <ConsignmentItem>
        <goodsItemNumber>3</goodsItemNumber>
        <declarationGoodsItemNumber>3</declarationGoodsItemNumber>
        <Commodity>
          <descriptionOfGoods>Leather footwear</descriptionOfGoods>
          <CommodityCode><harmonizedSystemSubHeadingCode>640399</harmonizedSystemSubHeadingCode></CommodityCode>
          <GoodsMeasure><grossMass>412.250</grossMass></GoodsMeasure>
        </Commodity>
        <Packaging><sequenceNumber>1</sequenceNumber><typeOfPackages>PX</typeOfPackages><numberOfPackages>12</numberOfPackages><shippingMarks>PORTORIUM 3</shippingMarks></Packaging>
      </ConsignmentItem>
      <ConsignmentItem>
        <goodsItemNumber>4</goodsItemNumber>
        <declarationGoodsItemNumber>4</declarationGoodsItemNumber>
        <Commodity>
          <descriptionOfGoods>Roasted coffee, not decaffeinated</descriptionOfGoods>
          <CommodityCode><harmonizedSystemSubHeadingCode>090121</harmonizedSystemSubHeadingCode></CommodityCode>
          <GoodsMeasure><grossMass>2000.000</grossMass></GoodsMeasure>
        </Commodity>
        <Packaging><sequenceNumber>1</sequenceNumber><typeOfPackages>PX</typeOfPackages><numberOfPackages>16</numberOfPackages><shippingMarks>PORTORIUM 4</shippingMarks></Packaging>
      </ConsignmentItem>
      <ConsignmentItem>
        <goodsItemNumber>5</goodsItemNumber>
        <declarationGoodsItemNumber>5</declarationGoodsItemNumber>
        <Commodity>
          <descriptionOfGoods>Wooden furniture</descriptionOfGoods>
          <CommodityCode><harmonizedSystemSubHeadingCode>940360</harmonizedSystemSubHeadingCode></CommodityCode>
          <GoodsMeasure><grossMass>1507.250</grossMass></GoodsMeasure>
        </Commodity>
        <Packaging><sequenceNumber>1</sequenceNumber><typeOfPackages>PX</typeOfPackages><numberOfPackages>20</numberOfPackages><shippingMarks>PORTORIUM 5</shippingMarks></Packaging>
      </ConsignmentItem>
    </HouseConsignment>
  </Consignment>
</ncts:CC015C>
"#;

/// The CC015C of lodging number `n`: a distinct message identification and LRN.
pub fn cc015c(n: u64) -> String {
    CC015C
        .replace("{MSG}", &format!("BENCH-MSG-{n:012}"))
        .replace("{LRN}", &format!("BENCH{n:012}"))
}

/// Throughput and latency of one closed-loop measurement.
struct Measured {
    ok: u64,
    errors: u64,
    first_error: Option<String>,
    elapsed: Duration,
    latencies_us: Vec<u32>,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
    fn pct(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        f64::from(self.latencies_us[i]) / 1000.0
    }
    fn merge(parts: Vec<(Vec<u32>, u64, u64, Option<String>)>, elapsed: Duration) -> Measured {
        let mut latencies_us = Vec::new();
        let (mut ok, mut errors, mut first_error) = (0, 0, None);
        for (l, o, e, f) in parts {
            latencies_us.extend(l);
            ok += o;
            errors += e;
            first_error = first_error.or(f);
        }
        latencies_us.sort_unstable();
        Measured {
            ok,
            errors,
            first_error,
            elapsed,
            latencies_us,
        }
    }
}

/// Sends one request on a keep-alive connection and reads the whole response: its status and
/// body.
async fn exchange(
    stream: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
    request: &[u8],
) -> Result<(u16, String)> {
    stream.write_all(request).await?;
    let mut filled = 0usize;
    let (status, total, body_at) = loop {
        if filled == buf.len() {
            bail!("response headers too large");
        }
        let n = stream.read(&mut buf[filled..]).await?;
        if n == 0 {
            bail!("connection closed");
        }
        filled += n;
        if let Some(end) = crate::bench::find(&buf[..filled], b"\r\n\r\n") {
            let (status, len) = crate::bench::response_head(&buf[..end]);
            break (status, end + 4 + len, end + 4);
        }
    };
    if total > buf.len() {
        buf.resize(total, 0);
    }
    while filled < total {
        let n = stream.read(&mut buf[filled..total]).await?;
        if n == 0 {
            bail!("connection closed mid-body");
        }
        filled += n;
    }
    Ok((
        status,
        String::from_utf8_lossy(&buf[body_at..total]).into_owned(),
    ))
}

/// Lodges CC015Cs for `seconds` on `connections` keep-alive connections (closed loop); every
/// request has its own LRN and message identification. A lodging counts when answered 202.
async fn lodge(
    addr: SocketAddr,
    token: &str,
    counter: Arc<AtomicU64>,
    seconds: f64,
    connections: usize,
) -> Result<Measured> {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let counter = counter.clone();
        let head = format!(
            "POST /customs/transits/movements/departures HTTP/1.1\r\nHost: {addr}\r\n\
             Authorization: Bearer {token}\r\nContent-Type: application/xml\r\n\
             Accept: application/vnd.hmrc.2.1+json\r\n"
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(50_000);
            let (mut ok, mut errors, mut first_error) = (0u64, 0u64, None);
            let mut stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let mut buf = vec![0u8; 64 * 1024];
            let mut req = Vec::with_capacity(8 * 1024);
            while Instant::now() < deadline {
                let body = cc015c(counter.fetch_add(1, Ordering::Relaxed));
                req.clear();
                req.extend_from_slice(head.as_bytes());
                req.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
                req.extend_from_slice(body.as_bytes());
                let t0 = Instant::now();
                let (status, answer) = exchange(&mut stream, &mut buf, &req).await?;
                lat.push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
                if status == 202 {
                    ok += 1;
                } else {
                    errors += 1;
                    if first_error.is_none() {
                        first_error = Some(format!("{status}: {answer}"));
                    }
                }
            }
            Ok::<_, anyhow::Error>((lat, ok, errors, first_error))
        }));
    }
    let mut parts = Vec::new();
    for t in tasks {
        parts.push(t.await??);
    }
    Ok(Measured::merge(parts, start.elapsed()))
}

/// Single-row INSERT transactions into a scratch table of the same database, through the
/// store's writer (on SQLite its one writer connection, `synchronous=FULL`), from
/// `connections` concurrent tasks for `seconds`.
async fn raw_inserts(store: &Store, seconds: f64, connections: usize) -> Result<Measured> {
    {
        let mut tx = store.begin().await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS bench_raw_inserts (id TEXT PRIMARY KEY, n BIGINT NOT NULL, \
             at TEXT NOT NULL, body TEXT NOT NULL)",
        )
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
    }
    let counter = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let store = store.clone();
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(50_000);
            let body = "x".repeat(200);
            let mut ok = 0u64;
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let t0 = Instant::now();
                let mut tx = store.begin().await?;
                sqlx::query(
                    "INSERT INTO bench_raw_inserts (id, n, at, body) VALUES ($1, $2, $3, $4)",
                )
                .bind(format!("raw-{n:012}"))
                .bind(i64::try_from(n).unwrap_or(i64::MAX))
                .bind("2026-11-30T08:15:00.000000Z")
                .bind(&body)
                .execute(tx.conn())
                .await?;
                tx.commit().await?;
                lat.push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
                ok += 1;
            }
            Ok::<_, anyhow::Error>((lat, ok, 0u64, None))
        }));
    }
    let mut parts = Vec::new();
    for t in tasks {
        parts.push(t.await??);
    }
    let measured = Measured::merge(parts, start.elapsed());
    let mut tx = store.begin().await?;
    sqlx::query("DROP TABLE bench_raw_inserts")
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    Ok(measured)
}

pub async fn run(database_url: Option<String>, seconds: u64, connections: usize) -> Result<()> {
    let db = match &database_url {
        None => TestDb::sqlite().context("temporary directory")?,
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            // A fresh database on that server (dropped afterwards), made like the tests' own.
            std::env::set_var("TEST_DATABASE_URL", url);
            TestDb::postgres()
                .await?
                .context("creating the benchmark database")?
        }
        Some(other) => {
            bail!("--database-url must be a postgres:// URL (SQLite is the default): {other}")
        }
    };
    let label = db.label;
    let server = TestServer::start_on(db, portorium_trust::Federation::new(Vec::new())).await;
    if server.state.config.transit.schemas().is_none() {
        bail!(
            "the NCTS XSDs were not found: set PORTORIUM_REFERENCE (holding ncts-p5/xsd) or run from the workspace root next to ../shared/reference"
        );
    }
    let token = server.token(&format!("trader:{TRADER}"));
    let trader = server.addrs.trader;
    let counter = Arc::new(AtomicU64::new(1));
    let warm = lodge(trader, &token, counter.clone(), 1.0, connections.min(4)).await?;
    if warm.ok == 0 {
        bail!(
            "warm-up lodgings failed: {}",
            warm.first_error.unwrap_or_default()
        );
    }
    let seconds = seconds.max(1) as f64;
    let lodged = lodge(trader, &token, counter.clone(), seconds, connections).await?;
    let raw = raw_inserts(&server.state.store, seconds, connections).await?;
    let eori: Eori = TRADER.parse()?;
    let scoped = server.state.store.scoped(Scope::Trader(eori));
    let count = |state: &'static str| {
        let scoped = &scoped;
        async move {
            let filter = TransitFilter {
                state: Some(state.to_owned()),
                ..TransitFilter::default()
            };
            scoped
                .transit_movements(MovementKind::Departure, &filter, 1, 1)
                .await
                .map(|(_, total)| total)
        }
    };
    let released = count("released").await?;
    let all = scoped
        .transit_movements(MovementKind::Departure, &TransitFilter::default(), 1, 1)
        .await?
        .1;
    let backend = match label {
        "postgres" => "PostgreSQL",
        _ => "SQLite (WAL, synchronous=FULL, one writer connection)",
    };
    println!(
        "Transit lodging on {backend}, {connections} keep-alive connections, {seconds:.0} s, server and load generator in one process"
    );
    println!(
        "  CC015C with 5 goods items, {} bytes, XSD-validated; answered 202 after the commit of movement, CC015C, CC928C, CC028C, CC029C, history, MRN serial, guarantee reservation and outbox events",
        cc015c(0).len()
    );
    println!(
        "{:<44} {:>10} {:>8} {:>9} {:>9}",
        "target", "per s", "errors", "p50 ms", "p99 ms"
    );
    for (name, m) in [
        ("POST …/departures (declarations)", &lodged),
        ("raw single-row INSERT transactions", &raw),
    ] {
        println!(
            "{:<44} {:>10.0} {:>8} {:>9.2} {:>9.2}",
            name,
            m.rate(),
            m.errors,
            m.pct(0.5),
            m.pct(0.99)
        );
    }
    println!(
        "  declarations / raw inserts: {:.1}%",
        100.0 * lodged.rate() / raw.rate()
    );
    println!(
        "  departures stored: {all} ({released} released) after {} lodged in the warm-up and {} measured",
        warm.ok, lodged.ok
    );
    if let Some(e) = &lodged.first_error {
        println!("  first error: {}", e.chars().take(400).collect::<String>());
    }
    println!(
        "  target ≥ 1,000 declarations/s: {}",
        if lodged.rate() >= 1000.0 {
            "met"
        } else {
            "not met"
        }
    );
    drop(server);
    Ok(())
}
