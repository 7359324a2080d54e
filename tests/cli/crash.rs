//! Crash safety of transit lodging (issue 4): `portorium serve` runs as a child process while
//! several clients stream CC015C departures at it; the server is killed with SIGKILL in the
//! middle of the stream and restarted on the same data (SQLite file, or a PostgreSQL database
//! when `TEST_DATABASE_URL` is set). Then:
//! * every lodging that was answered 202 is there, complete: its messages in order, the
//!   state they imply, one history row per state change naming its message, the MRN, the
//!   guarantee reservation when released, its outbox event;
//! * no movement in the database is half-written: each has its CC015C first and exactly the
//!   messages, history and reservation of its state, whether or not its client got an answer;
//! * a lodging whose answer was lost in the crash, sent again, is answered 202 (as a repeat if
//!   it had been committed) and is complete too.

use super::Server;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const GRN: &str = "26NLDEMO000000012";
const CLIENTS: usize = 6;

fn ncts_xsd_dir() -> Option<PathBuf> {
    let base = std::env::var("PORTORIUM_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference"));
    let dir = base.join("ncts-p5/xsd");
    if dir.join("cc015c.xsd").exists() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: NCTS XSDs not found at {} (set PORTORIUM_REFERENCE)",
            dir.display()
        );
        None
    }
}

/// Lodging `n`: the demo declaration (5 goods items) with its own message identification and
/// LRN, covering 1.00 EUR of the demo guarantee; every seventh one gives a wrong access code
/// (CC055C, `guarantee_invalid`).
fn cc015c(n: u64) -> String {
    let body = include_str!("../../crates/server/tests/fixtures/cc015c-demo.xml")
        .replace("DEMO-MSG-0001", &format!("CRASH-MSG-{n:08}"))
        .replace("DEMO-LRN-0001", &format!("CRASH{n:08}"))
        .replace(
            "<amountToBeCovered>12500.00</amountToBeCovered>",
            "<amountToBeCovered>1.00</amountToBeCovered>",
        );
    if n.is_multiple_of(7) {
        body.replace(
            "<accessCode>NL01</accessCode>",
            "<accessCode>XX99</accessCode>",
        )
    } else {
        body
    }
}

/// `serve` on ephemeral ports with the NCTS XSDs; returns the child and the trader gateway's
/// `host:port`.
fn start(data: &Path, database_url: Option<&str>, xsd: &Path) -> (Server, String) {
    let mut cmd = super::bin();
    cmd.args(["serve", "--data-dir"]).arg(data);
    if let Some(url) = database_url {
        cmd.args(["--database-url", url]);
    }
    let mut child = cmd
        .args([
            "--trader-addr",
            "127.0.0.1:0",
            "--admin-addr",
            "127.0.0.1:0",
            "--ops-addr",
            "127.0.0.1:0",
        ])
        .env("PORTORIUM_LOG", "warn")
        .env("PORTORIUM_NCTS_XSD_DIR", xsd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let errors = Arc::new(Mutex::new(String::new()));
    let sink = errors.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(mut e) = sink.lock() {
                e.push_str(&line);
                e.push('\n');
            }
        }
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if !sent && line.trim_start().starts_with("trader gateway") {
                if let Some(u) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                    let _ = tx.send(u.trim_start_matches("http://").to_owned());
                    sent = true;
                }
            }
        }
    });
    let Ok(addr) = rx.recv_timeout(Duration::from_secs(120)) else {
        std::thread::sleep(Duration::from_millis(200));
        panic!(
            "serve did not start: {}",
            errors.lock().map(|e| e.clone()).unwrap_or_default()
        );
    };
    (Server(child), addr)
}

/// One HTTP/1.1 exchange on a fresh connection (`Connection: close`): status and JSON body.
fn exchange(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&str>,
) -> std::io::Result<(u16, Value)> {
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Accept: application/vnd.hmrc.2.1+json\r\nConnection: close\r\n"
    );
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/xml\r\nContent-Length: {}\r\n\r\n{b}",
            b.len()
        ));
    } else {
        req.push_str("\r\n");
    }
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let Some((head, rest)) = text.split_once("\r\n\r\n") else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "no complete response",
        ));
    };
    let status = head.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let payload = if chunked {
        let mut out = String::new();
        let mut rest = rest;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 || after.len() < n {
                break;
            }
            out.push_str(&after[..n]);
            rest = after[n..].trim_start_matches("\r\n");
        }
        out
    } else {
        rest.to_owned()
    };
    Ok((
        status,
        serde_json::from_str(&payload).unwrap_or(Value::Null),
    ))
}

fn token(data: &Path) -> String {
    let env = std::fs::read_to_string(data.join("demo-tokens.env")).expect("demo tokens");
    env.lines()
        .find_map(|l| l.strip_prefix("export TRADER_NL000000001_TOKEN="))
        .expect("trader token")
        .to_owned()
}

/// What became of each lodging a client sent.
#[derive(Default)]
struct Outcomes {
    /// Answered 202: lodging number → departure id.
    acked: BTreeMap<u64, String>,
    /// Sent, but the connection failed before an answer (in flight at the kill).
    lost: Vec<u64>,
}

/// The messages (in order, with direction) a lodging leaves for each state it can end in.
fn expected_messages(state: &str) -> Option<&'static [&'static str]> {
    Some(match state {
        "released" => &["CC015C", "CC928C", "CC028C", "CC029C"],
        "guarantee_invalid" => &["CC015C", "CC928C", "CC028C", "CC055C"],
        "rejected" => &["CC015C", "CC056C"],
        _ => return None,
    })
}

/// Checks every movement of the database; returns the states by movement id.
async fn check_database(url: &str) -> HashMap<String, String> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("open the database");
    let movements: Vec<(String, String, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT id, state, mrn, lrn FROM movements WHERE kind = 'departure'")
            .fetch_all(&pool)
            .await
            .expect("movements");
    let mut messages: HashMap<String, Vec<(i64, String, String, String)>> = HashMap::new();
    for (movement, seq, ty, direction, id) in sqlx::query_as::<_, (String, i64, String, String, String)>(
        "SELECT movement_id, seq, message_type, direction, id FROM movement_messages ORDER BY movement_id, seq",
    )
    .fetch_all(&pool)
    .await
    .expect("messages")
    {
        messages
            .entry(movement)
            .or_default()
            .push((seq, ty, direction, id));
    }
    let mut history: HashMap<String, Vec<(i64, String, Option<String>)>> = HashMap::new();
    for (movement, seq, to, message) in sqlx::query_as::<_, (String, i64, String, Option<String>)>(
        "SELECT movement_id, seq, to_state, message_id FROM movement_history ORDER BY movement_id, seq",
    )
    .fetch_all(&pool)
    .await
    .expect("history")
    {
        history.entry(movement).or_default().push((seq, to, message));
    }
    let mut reservations: HashMap<String, Vec<(String, String, String)>> = HashMap::new();
    for (movement, grn, amount, state) in sqlx::query_as::<_, (String, String, String, String)>(
        "SELECT movement_id, grn, amount, state FROM guarantee_reservations",
    )
    .fetch_all(&pool)
    .await
    .expect("reservations")
    {
        reservations
            .entry(movement)
            .or_default()
            .push((grn, amount, state));
    }
    let inbound: HashSet<String> =
        sqlx::query_as::<_, (String,)>("SELECT movement_id FROM transit_inbound_messages")
            .fetch_all(&pool)
            .await
            .expect("inbound")
            .into_iter()
            .map(|(m,)| m)
            .collect();
    let created: HashSet<String> = sqlx::query_as::<_, (String,)>(
        "SELECT payload FROM outbox WHERE topic = 'movement.created'",
    )
    .fetch_all(&pool)
    .await
    .expect("outbox")
    .into_iter()
    .filter_map(|(p,)| {
        serde_json::from_str::<Value>(&p).ok()?["movement_id"]
            .as_str()
            .map(str::to_owned)
    })
    .collect();

    let mut states = HashMap::new();
    let mut mrns = HashSet::new();
    for (id, state, mrn, lrn) in &movements {
        let msgs = messages.get(id).map(Vec::as_slice).unwrap_or_default();
        let types: Vec<&str> = msgs.iter().map(|(_, t, _, _)| t.as_str()).collect();
        let expected = expected_messages(state)
            .unwrap_or_else(|| panic!("movement {id} ({lrn:?}) in an unexpected state {state}"));
        assert_eq!(
            types, expected,
            "movement {id} ({lrn:?}, {state}): messages"
        );
        for (i, (seq, _, direction, _)) in msgs.iter().enumerate() {
            assert_eq!(*seq, i as i64 + 1, "movement {id}: message sequence");
            let want = if i == 0 { "inbound" } else { "outbound" };
            assert_eq!(direction, want, "movement {id}: direction of message {seq}");
        }
        assert!(
            inbound.contains(id),
            "movement {id}: CC015C not recorded by its sender"
        );
        assert!(
            created.contains(id),
            "movement {id}: no movement.created event"
        );
        // One history row for the submission (naming the CC015C), then one per generated
        // message, naming it, in order, ending in the movement's state.
        let h = history.get(id).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(
            h.len(),
            msgs.len(),
            "movement {id} ({state}): history {h:?}"
        );
        for (i, ((seq, to, message), (_, _, _, msg_id))) in h.iter().zip(msgs).enumerate() {
            assert_eq!(*seq, i as i64 + 1, "movement {id}: history sequence");
            assert_eq!(
                message.as_deref(),
                Some(msg_id.as_str()),
                "movement {id}: history row {seq}"
            );
            if i == 0 {
                assert_eq!(to, "submitted", "movement {id}");
            }
        }
        assert_eq!(
            h.last().map(|(_, to, _)| to.as_str()),
            Some(state.as_str()),
            "movement {id}: state differs from its last history row"
        );
        let r = reservations.get(id).map(Vec::as_slice).unwrap_or_default();
        if state == "released" {
            assert_eq!(
                r,
                [(GRN.to_owned(), "1.00".to_owned(), "reserved".to_owned())],
                "movement {id}: reservation"
            );
        } else {
            assert!(
                r.iter().all(|(_, _, s)| s != "reserved"),
                "movement {id} ({state}) holds a reservation: {r:?}"
            );
        }
        if state != "rejected" {
            let mrn = mrn
                .clone()
                .unwrap_or_else(|| panic!("movement {id}: no MRN"));
            assert!(mrns.insert(mrn.clone()), "MRN {mrn} given twice");
        }
        states.insert(id.clone(), state.clone());
    }
    // Nothing hangs off a movement that is not there.
    let known: HashSet<&String> = movements.iter().map(|(id, ..)| id).collect();
    for orphan in messages
        .keys()
        .chain(history.keys())
        .chain(reservations.keys())
    {
        assert!(
            known.contains(orphan),
            "rows of a missing movement {orphan}"
        );
    }
    pool.close().await;
    states
}

fn crash_and_restart(database_url: Option<&str>, xsd: &Path) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let (mut server, addr) = start(&data, database_url, xsd);
    let token = token(&data);
    let path = "/customs/transits/movements/departures";

    let next = Arc::new(AtomicU64::new(1));
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (next, stop, outcomes) = (next.clone(), stop.clone(), outcomes.clone());
        let (addr, token) = (addr.clone(), token.clone());
        clients.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let n = next.fetch_add(1, Ordering::Relaxed);
                match exchange(&addr, "POST", path, &token, Some(&cc015c(n))) {
                    Ok((202, body)) => {
                        let id = body["departureId"]
                            .as_str()
                            .expect("departureId")
                            .to_owned();
                        outcomes.lock().expect("outcomes").acked.insert(n, id);
                    }
                    Ok((status, body)) => panic!("lodging {n}: {status} {body}"),
                    Err(_) => {
                        // The server is gone: this one was in flight (or never arrived).
                        outcomes.lock().expect("outcomes").lost.push(n);
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            }
        }));
    }
    // Let the stream run until a good number were answered, then kill in the middle of it.
    let started = Instant::now();
    while outcomes.lock().expect("outcomes").acked.len() < 60
        && started.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(25));
    }
    server.0.kill().expect("SIGKILL");
    server.0.wait().expect("reap");
    let killed_after = outcomes.lock().expect("outcomes").acked.len();
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("client");
    }
    let Outcomes { acked, lost } = std::mem::take(&mut *outcomes.lock().expect("outcomes"));
    assert!(
        killed_after >= 20,
        "too few lodgings answered before the kill ({killed_after})"
    );
    eprintln!(
        "{}: {} lodgings answered 202 before SIGKILL, {} without an answer",
        if database_url.is_some() {
            "postgres"
        } else {
            "sqlite"
        },
        acked.len(),
        lost.len()
    );

    // Restart on the same data and look at everything.
    let (server, addr) = start(&data, database_url, xsd);
    let url = database_url
        .map(str::to_owned)
        .unwrap_or_else(|| format!("sqlite://{}", data.join("portorium.db").display()));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let states = rt.block_on(check_database(&url));
    for (n, id) in &acked {
        let state = states
            .get(id)
            .unwrap_or_else(|| panic!("lodging {n} was answered 202 ({id}) but is not stored"));
        let want = if n.is_multiple_of(7) {
            "guarantee_invalid"
        } else {
            "released"
        };
        assert_eq!(state, want, "lodging {n} ({id})");
        let (status, body) =
            exchange(&addr, "GET", &format!("{path}/{id}"), &token, None).expect("get");
        assert_eq!(status, 200, "lodging {n}: {body}");
        let (status, body) =
            exchange(&addr, "GET", &format!("{path}/{id}/messages"), &token, None).expect("get");
        assert_eq!(status, 200, "lodging {n}: {body}");
        let types: Vec<&str> = body["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .filter_map(|m| m["type"].as_str())
            .collect();
        let expected: Vec<String> = expected_messages(want)
            .unwrap_or_default()
            .iter()
            .map(|t| format!("IE{}", &t[2..5]))
            .collect();
        assert_eq!(types, expected, "lodging {n} ({id}) over HTTP");
    }
    // Movements whose answer was lost: committed (then complete, checked above) or absent.
    // Sent again, each is answered 202: as the repeat of what was committed, or lodged now.
    let mut recovered = HashSet::new();
    for n in &lost {
        let (status, body) =
            exchange(&addr, "POST", path, &token, Some(&cc015c(*n))).expect("post again");
        assert_eq!(status, 202, "lodging {n} sent again: {body}");
        let id = body["departureId"]
            .as_str()
            .expect("departureId")
            .to_owned();
        // Committed before the kill: answered as a repeat of what is stored.
        assert_eq!(
            body["repeated"],
            Value::Bool(states.contains_key(&id)),
            "lodging {n} sent again: {body}"
        );
        if states.contains_key(&id) {
            recovered.insert(id);
        }
    }
    eprintln!(
        "{} movements after the restart; {} of the unanswered lodgings had been committed",
        states.len(),
        recovered.len()
    );
    // Every stored movement was answered, or in flight and recognised when sent again.
    let answered: HashSet<&String> = acked.values().collect();
    for id in states.keys() {
        assert!(
            answered.contains(id) || recovered.contains(id),
            "movement {id} was neither answered nor in flight"
        );
    }
    // The lodgings sent again are complete too, and each is stored once.
    let after = rt.block_on(check_database(&url));
    assert_eq!(after.len(), acked.len() + lost.len());
    drop(server);
}

#[test]
fn crash_during_lodging_loses_nothing_answered_and_leaves_nothing_half_written() {
    let Some(xsd) = ncts_xsd_dir() else { return };
    crash_and_restart(None, &xsd);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    if let Some(db) = rt
        .block_on(portorium_store::testing::TestDb::postgres())
        .expect("postgres test database")
    {
        crash_and_restart(Some(&db.url), &xsd);
        drop(db);
    }
}
