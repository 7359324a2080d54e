//! `portorium bench search`: tariff search over the full CN 2026 with the 3,096 real queries.

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use portorium_tariff::nomenclature::csv::parse_csv;
use portorium_tariff::nomenclature::{parse_cn2026, Nomenclature};
use portorium_tariff_search::{Query, SearchError, SearchIndex};
use std::path::Path;
use std::time::{Duration, Instant};

/// Builds the index over CN 2026 from `reference` (the directory holding `tariff/`), then runs
/// every query of `tariff/search_queries.csv` `rounds` times, one at a time on one thread.
pub fn run(reference: &Path, rounds: usize, limit: usize) -> Result<()> {
    let dir = reference.join("tariff");
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .with_context(|| format!("reading {}", dir.join(name).display()))
    };
    let files = ["Sections", "Chapters", "Headings", "Subheadings", "Codes"]
        .iter()
        .map(|n| read(&format!("cn2026/cn{n}_2026.json")))
        .collect::<Result<Vec<_>>>()?;
    let [sections, chapters, headings, subheadings, codes] = files.as_slice() else {
        bail!("expected five CN 2026 files");
    };
    let items = parse_cn2026(sections, chapters, headings, subheadings, codes)?;
    let nomenclature = Nomenclature::new(items)?;

    let t0 = Instant::now();
    let index = SearchIndex::build(&nomenclature)?;
    let build = t0.elapsed();

    let rows = parse_csv(&read("search_queries.csv")?)?;
    let queries: Vec<String> = rows
        .iter()
        .skip(1)
        .filter_map(|r| r.fields.first().cloned())
        .collect();
    let as_of = NaiveDate::from_ymd_opt(2026, 1, 1).context("date")?;
    println!(
        "search: CN 2026, {} lines indexed in {:.2} s; {} queries × {rounds} rounds (+1 warm-up), limit {limit}, one thread",
        index.len(),
        build.as_secs_f64(),
        queries.len()
    );

    let mut latencies: Vec<Duration> = Vec::with_capacity(queries.len() * rounds);
    let (mut empty, mut blank, mut total_hits) = (0usize, 0usize, 0usize);
    let started = Instant::now();
    for round in 0..=rounds {
        for q in &queries {
            let t = Instant::now();
            let result = index.search(&Query {
                text: q,
                as_of,
                limit,
            });
            let elapsed = t.elapsed();
            let counted = round > 0;
            match result {
                Ok(hits) => {
                    if counted {
                        latencies.push(elapsed);
                        if round == 1 {
                            total_hits += hits.len();
                            empty += usize::from(hits.is_empty());
                        }
                    }
                }
                Err(SearchError::EmptyQuery) => blank += usize::from(round == 1),
                Err(e) => bail!("query {q:?} failed: {e}"),
            }
        }
    }
    let wall = started.elapsed();
    latencies.sort();
    let pct = |p: f64| -> f64 {
        let i = ((latencies.len().saturating_sub(1)) as f64 * p).round() as usize;
        latencies.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let mean =
        latencies.iter().sum::<Duration>().as_secs_f64() * 1000.0 / latencies.len().max(1) as f64;
    println!(
        "  latency ms: p50 {:.3}  p90 {:.3}  p99 {:.3}  max {:.3}  mean {:.3}  ({} timed searches, {:.0} searches/s incl. warm-up)",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0),
        mean,
        latencies.len(),
        ((rounds + 1) * queries.len()) as f64 / wall.as_secs_f64()
    );
    println!(
        "  results: {empty} of {} queries without result, {blank} blank (refused: empty query), {:.1} hits per query on average",
        queries.len(),
        total_hits as f64 / (queries.len() - blank).max(1) as f64
    );
    Ok(())
}
