//! `portorium bench tariff`: duty calculation throughput in-process (one core) on a commodity
//! with many measures, and the duty-calculation HTTP endpoint against `/health` in one run.
//!
//! The commodity is synthetic but shaped like a busy real one (steel, chapter 72): a
//! third-country duty, preferences for many origins and for a GSP-like group, a suspension,
//! tariff quotas, anti-dumping duties by additional code, an additional duty, excise and VAT.
//! It is written as tariff layer records and goes through the same `layer::build`, store
//! import and HTTP handler as imported TARIC data.

use crate::bench::{load_request, response_size, LoadResult};
use anyhow::{Context, Result};
use portorium_store::{NewTariffRecord, RecordChange, TariffLayer};
use portorium_tariff::duty::Quantities;
use portorium_tariff::layer::{build, changes_from_nomenclature, Change, RecordRef};
use portorium_tariff::measures::{calculate, CalcRequest};
use portorium_tariff::nomenclature::{GoodsCode, NomenclatureItem};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The benchmarked commodity.
pub const CODE: &str = "7202999000";

const PARTNERS: [&str; 36] = [
    "AL", "BA", "CA", "CH", "CL", "CO", "CR", "DZ", "EG", "FO", "GE", "IL", "IS", "JO", "JP", "KR",
    "LB", "MA", "MD", "ME", "MK", "MX", "NO", "NZ", "PE", "PS", "RS", "SG", "TN", "UA", "UY", "VN",
    "XK", "ZA", "GB", "AU",
];
const GSP: [&str; 8] = ["IN", "ID", "PK", "BD", "LK", "PH", "BO", "NG"];

fn change(kind: &str, key: String, payload: Value) -> Change {
    let date = |f: &str| {
        payload
            .get(f)
            .and_then(Value::as_str)
            .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    };
    Change {
        kind: kind.to_owned(),
        key,
        valid_from: date("validity.start.date"),
        valid_to: date("validity.end.date"),
        payload,
        delete: false,
    }
}

/// The records of the benchmark tariff: nomenclature, areas, memberships and the measures
/// on [`CODE`] with their components.
pub fn synthetic_changes() -> Result<Vec<Change>> {
    let mut items = Vec::new();
    for (code, indent, desc, declarable) in [
        ("7200000000", 0, "IRON AND STEEL", false),
        ("7202000000", 1, "Ferro-alloys", false),
        ("7202990000", 2, "Other", false),
        (CODE, 3, "Other ferro-alloys", true),
    ] {
        let mut item = NomenclatureItem::new(GoodsCode::new(code)?, indent, desc);
        item.declarable = declarable;
        items.push(item);
    }
    let mut out = changes_from_nomenclature(&items);
    let start = "2020-01-01";
    let mut sid = 0u64;
    let mut area_sid = |id: &str, code: &str, out: &mut Vec<Change>| -> u64 {
        sid += 1;
        out.push(change(
            "geographical.area",
            sid.to_string(),
            json!({"geographical.area.sid": sid.to_string(), "geographical.area.id": id,
                   "geographical.code": code, "validity.start.date": start}),
        ));
        sid
    };
    let erga = area_sid("1011", "1", &mut out);
    let gsp = area_sid("2005", "1", &mut out);
    let mut countries = vec![("CN", area_sid("CN", "0", &mut out))];
    for c in PARTNERS.iter().chain(GSP.iter()) {
        countries.push((c, area_sid(c, "0", &mut out)));
    }
    for (id, member) in &countries {
        let mut groups = vec![erga];
        if GSP.contains(id) {
            groups.push(gsp);
        }
        for g in groups {
            out.push(change(
                "geographical.area.membership",
                format!("{member}/{g}/{start}"),
                json!({"geographical.area.sid": member.to_string(),
                       "geographical.area.group.sid": g.to_string(),
                       "validity.start.date": start}),
            ));
        }
    }
    let area_of = |id: &str| -> u64 {
        match id {
            "1011" => erga,
            "2005" => gsp,
            c => countries
                .iter()
                .find(|(x, _)| *x == c)
                .map(|(_, s)| *s)
                .unwrap_or(erga),
        }
    };
    // (type, area, order number, additional code, components: (expression, amount, currency, unit))
    type Comp = (
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
    );
    type MeasureRow = (
        &'static str,
        String,
        Option<String>,
        Option<String>,
        Vec<Comp>,
    );
    let mut measures: Vec<MeasureRow> = vec![
        (
            "103",
            "1011".into(),
            None,
            None,
            vec![("01", "5.5", None, None)],
        ),
        (
            "112",
            "1011".into(),
            None,
            None,
            vec![("01", "2.0", None, None)],
        ),
        (
            "145",
            "2005".into(),
            None,
            None,
            vec![("01", "1.5", None, None)],
        ),
        (
            "695",
            "1011".into(),
            None,
            None,
            vec![("01", "0.5", None, None)],
        ),
        (
            "306",
            "1011".into(),
            None,
            None,
            vec![
                ("01", "0.2", None, None),
                ("04", "1.10", Some("EUR"), Some("TNE")),
            ],
        ),
        (
            "305",
            "1011".into(),
            None,
            None,
            vec![("01", "21", None, None)],
        ),
    ];
    for (i, c) in PARTNERS.iter().enumerate() {
        measures.push((
            "142",
            (*c).into(),
            None,
            None,
            vec![("01", if i % 3 == 0 { "0" } else { "2.2" }, None, None)],
        ));
    }
    for (i, order) in ["090001", "090002", "090003", "090004", "090005"]
        .iter()
        .enumerate()
    {
        let area = if i == 0 { "1011" } else { PARTNERS[i] };
        measures.push((
            "122",
            area.into(),
            Some((*order).into()),
            None,
            vec![("01", "0", None, None)],
        ));
    }
    for ac in 1..=10 {
        measures.push((
            "552",
            "CN".into(),
            None,
            Some(format!("C{ac:03}")),
            vec![("01", "12.5", None, None)],
        ));
    }
    measures.push((
        "552",
        "CN".into(),
        None,
        Some("C999".into()),
        vec![
            ("01", "25.3", None, None),
            ("04", "30", Some("EUR"), Some("TNE")),
        ],
    ));
    let mut msid = 1_000_000u64;
    for (ty, area, order, additional, comps) in measures {
        msid += 1;
        let mut m = json!({
            "measure.sid": msid.to_string(), "measure.type": ty,
            "geographical.area": area, "geographical.area.sid": area_of(&area).to_string(),
            "goods.nomenclature.item.id": CODE, "validity.start.date": start,
            "measure.generating.regulation.id": "R2000010",
        });
        if let (Some(o), Some(obj)) = (&order, m.as_object_mut()) {
            obj.insert("ordernumber".into(), json!(o));
        }
        if let (Some(a), Some(obj)) = (&additional, m.as_object_mut()) {
            obj.insert("additional.code.type".into(), json!(&a[..1]));
            obj.insert("additional.code".into(), json!(&a[1..]));
        }
        if ty == "305" || ty == "306" {
            if let Some(obj) = m.as_object_mut() {
                obj.insert("national".into(), json!(true));
            }
        }
        out.push(change("measure", msid.to_string(), m));
        for (expr, amount, currency, unit) in comps {
            let mut c = json!({"measure.sid": msid.to_string(), "duty.expression.id": expr, "duty.amount": amount});
            if let (Some(cur), Some(u), Some(obj)) = (currency, unit, c.as_object_mut()) {
                obj.insert("monetary.unit.code".into(), json!(cur));
                obj.insert("measurement.unit.code".into(), json!(u));
            }
            out.push(change("measure.component", format!("{msid}/{expr}"), c));
        }
    }
    Ok(out)
}

/// The request benchmarked: CN origin (third country, quota, anti-dumping by additional
/// code, additional duty, excise, VAT), 5 tonnes at EUR 10,000.
fn request_json() -> Value {
    json!({
        "commodity_code": CODE, "origin": "CN", "date": "2026-06-15",
        "customs_value": {"amount": "10000.00", "currency": "EUR"},
        "quantities": {"TNE": "5", "KGM": "5000"},
        "additional_codes": ["C003"],
    })
}

fn calc_request() -> Result<CalcRequest> {
    let mut quantities = Quantities::new();
    quantities.insert("TNE", Decimal::from(5));
    quantities.insert("KGM", Decimal::from(5000));
    Ok(CalcRequest {
        commodity: GoodsCode::new(CODE)?,
        origin: "CN".into(),
        date: chrono::NaiveDate::from_ymd_opt(2026, 6, 15).context("date")?,
        customs_value: Decimal::from(10_000),
        quantities,
        additional_codes: vec!["C003".into()],
        documents: Vec::new(),
        unit_price: None,
        meursing_code: None,
        exchange_rates: Vec::new(),
    })
}

/// User + system CPU seconds of this process so far, from `/proc/self/stat` (Linux; clock
/// ticks of 1/100 s, the kernel's USER_HZ on every Linux architecture).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; the fields after it are plain.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let mut fields = rest.split(' ');
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// A load run with the CPU seconds this process used during it.
async fn with_cpu(
    run: impl std::future::Future<Output = Result<LoadResult>>,
) -> Result<(LoadResult, Option<f64>)> {
    let before = process_cpu_seconds();
    let r = run.await?;
    let cpu = process_cpu_seconds()
        .zip(before)
        .map(|(after, before)| after - before);
    Ok((r, cpu))
}

pub async fn run(seconds: u64, connections: usize) -> Result<()> {
    let changes = synthetic_changes()?;
    let data = build(changes.iter().map(RecordRef::from))?;
    let code = GoodsCode::new(CODE)?;
    let mut codes = vec![code];
    codes.extend(data.nomenclature.ancestors(&code).iter().map(|i| i.code));
    let on_commodity = codes
        .iter()
        .map(|c| data.tariff.measures_on(c).len())
        .sum::<usize>();
    let req = calc_request()?;
    let first = calculate(&data.tariff, &codes, &req)?;
    println!(
        "Duty calculation, in-process, one thread: {CODE}, {on_commodity} measures on the commodity, origin CN: {} options, {} lines in the cheapest",
        first.options.len(),
        first
            .cheapest
            .and_then(|i| first.options.get(i))
            .map(|o| o.line_count())
            .unwrap_or(0)
    );
    // Warm up, then measure for `seconds` (at least 1) on this thread.
    for _ in 0..1_000 {
        std::hint::black_box(calculate(&data.tariff, &codes, &req)?);
    }
    let deadline = Duration::from_secs(seconds.max(1));
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < deadline {
        for _ in 0..256 {
            std::hint::black_box(calculate(&data.tariff, &codes, &req)?);
        }
        n += 256;
    }
    let el = start.elapsed();
    println!(
        "  {n} calculations in {:.2} s: {:.0} calculations/s ({:.1} µs each)",
        el.as_secs_f64(),
        n as f64 / el.as_secs_f64(),
        el.as_secs_f64() * 1e6 / n as f64
    );

    // HTTP: the same tariff as the common layer of an in-process server with the demo.
    let server = portorium_server::testing::TestServer::sqlite().await;
    let records: Vec<RecordChange> = changes
        .into_iter()
        .map(|c| {
            RecordChange::Upsert(NewTariffRecord {
                kind: c.kind,
                key: c.key,
                valid_from: c.valid_from,
                valid_to: c.valid_to,
                payload: c.payload,
            })
        })
        .collect();
    server
        .state
        .store
        .tariff_import(
            &TariffLayer::Common,
            "bench",
            "synthetic",
            &records,
            &|_| {},
        )
        .await?;
    let trader = server.addrs.trader;
    let ops = server.addrs.operations;
    let body = request_json().to_string();
    let post = format!(
        "POST /api/v1/tariffs/NL/duty-calculations HTTP/1.1\r\nHost: {trader}\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes();
    let health = format!("GET /health HTTP/1.1\r\nHost: {ops}\r\nAccept: application/json\r\n\r\n")
        .into_bytes();
    // The same endpoint on a plain commodity of the demo tariff (one duty, VAT): the cost of
    // the endpoint itself, apart from the 58-measure evaluation.
    let plain_body = json!({
        "commodity_code": "8471300000", "origin": "CN", "date": "2026-06-15",
        "customs_value": {"amount": "1000.00", "currency": "EUR"},
        "quantities": {"NAR": "10"},
    })
    .to_string();
    let plain = format!(
        "POST /api/v1/tariffs/NL/duty-calculations HTTP/1.1\r\nHost: {trader}\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\n\r\n{plain_body}",
        plain_body.len()
    )
    .into_bytes();
    load_request(trader, &plain, 1, 4)
        .await
        .context("warm-up")?;
    load_request(trader, &post, 1, 4).await.context("warm-up")?;
    load_request(ops, &health, 1, 4).await.context("warm-up")?;
    // The three targets take turns in one-second windows, so that what other processes do
    // on the machine during the run weighs on each of them alike (one long window per target
    // measured each at a different time, and their ratio moved with the machine's load).
    let mut totals: [Option<(LoadResult, Option<f64>)>; 3] = [None, None, None];
    for _ in 0..seconds.max(1) {
        for (slot, (addr, request)) in
            totals
                .iter_mut()
                .zip([(ops, &health), (trader, &post), (trader, &plain)])
        {
            let (r, cpu) = with_cpu(load_request(addr, request, 1, connections)).await?;
            *slot = Some(match slot.take() {
                None => (r, cpu),
                Some((mut total, total_cpu)) => {
                    total.merge(r);
                    (total, total_cpu.zip(cpu).map(|(a, b)| a + b))
                }
            });
        }
    }
    let [Some((h, h_cpu)), Some((c, c_cpu)), Some((p, p_cpu))] = totals else {
        anyhow::bail!("no measurement window ran");
    };
    // CPU seconds per request (ticks of 10 ms, summed over the windows).
    let per_request = |r: &LoadResult, cpu: Option<f64>| {
        cpu.filter(|_| r.requests() >= 1)
            .map(|s| s / r.requests() as f64)
    };
    let (h_cpu, c_cpu, p_cpu) = (
        per_request(&h, h_cpu),
        per_request(&c, c_cpu),
        per_request(&p, p_cpu),
    );
    let mut sizes = Vec::new();
    for (addr, r) in [(ops, &health), (trader, &post), (trader, &plain)] {
        let (status, size) = response_size(addr, r).await?;
        anyhow::ensure!(status == 200, "warm-up answered {status}");
        sizes.push(size);
    }
    println!(
        "Response sizes (head and body): /health {} B, 58-measure {} B, plain {} B",
        sizes[0], sizes[1], sizes[2]
    );
    println!("HTTP, {connections} keep-alive connections, {seconds} s per target in one-second windows taken in turn, server and load generator in one process");
    println!(
        "{:<58} {:>10} {:>8} {:>9} {:>9} {:>7}",
        "target", "req/s", "errors", "p50 ms", "p99 ms", "ratio"
    );
    let row = |name: &str, r: &LoadResult| {
        println!(
            "{:<58} {:>10.0} {:>8} {:>9.2} {:>9.2} {:>6.0}%",
            name,
            r.rps(),
            r.errors,
            r.pct(0.5),
            r.pct(0.99),
            100.0 * r.rps() / h.rps()
        )
    };
    row("GET /health (operations, anonymous)", &h);
    row(
        &format!("POST …/duty-calculations, {CODE} ({on_commodity} measures)"),
        &c,
    );
    row(
        "POST …/duty-calculations, 8471300000 (demo, 2 measures)",
        &p,
    );
    // CPU time of this process (server and load generator) per request: unlike req/s, it
    // does not move with what other processes on the machine do between the windows.
    println!("CPU time of this process per request (server and load generator), and /health's as a share of it:");
    for (name, cpu) in [
        ("GET /health", h_cpu),
        ("58-measure calculation", c_cpu),
        ("plain calculation", p_cpu),
    ] {
        match (cpu.map(|s| s * 1e6), h_cpu.map(|s| s * 1e6)) {
            (Some(us), Some(hus)) => {
                println!("  {name:<24} {us:>8.1} µs  {:>5.0}%", 100.0 * hus / us)
            }
            _ => println!("  {name:<24} (no /proc/self/stat)"),
        }
    }
    drop(server);
    Ok(())
}
