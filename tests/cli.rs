//! The `portorium` binary end to end: serve, administer a data dir while serving, back up
//! online, restore, and verify the audit log (and catch tampering).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[path = "cli/crash.rs"]
mod crash;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_portorium"))
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).output().expect("run portorium");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `serve` on ephemeral ports; returns the child and the operations base URL.
fn serve(data: &Path) -> (Server, String) {
    let (s, urls) = serve_with(data, &[]);
    (s, urls[2].clone())
}

/// Start `serve` with extra arguments; returns the child and the trader, administration and
/// operations base URLs.
fn serve_with(data: &Path, extra: &[&str]) -> (Server, Vec<String>) {
    let mut child = bin()
        .args(["serve", "--data-dir"])
        .arg(data)
        .args(extra)
        .args([
            "--trader-addr",
            "127.0.0.1:0",
            "--admin-addr",
            "127.0.0.1:0",
            "--ops-addr",
            "127.0.0.1:0",
        ])
        .env("PORTORIUM_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let errors = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
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
    // Keep reading so the server never writes into a closed pipe.
    std::thread::spawn(move || {
        let mut urls = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let t = line.trim_start();
            if t.starts_with("trader gateway")
                || t.starts_with("administration gateway")
                || t.starts_with("operations")
            {
                if let Some(u) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                    urls.push(u.to_owned());
                }
                if urls.len() == 3 {
                    let _ = tx.send(std::mem::take(&mut urls));
                }
            }
        }
    });
    let Ok(urls) = rx.recv_timeout(Duration::from_secs(60)) else {
        std::thread::sleep(Duration::from_millis(200));
        panic!(
            "serve did not start: {}",
            errors.lock().map(|e| e.clone()).unwrap_or_default()
        );
    };
    (Server(child), urls)
}

fn http_get(url: &str) -> u16 {
    http_get_auth(url, None)
}

/// A tiny blocking HTTP/1.0 GET.
fn http_get_auth(url: &str, bearer: Option<&str>) -> u16 {
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    let auth = bearer
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {host}\r\n{auth}\r\n").expect("write");
    let mut buf = String::new();
    s.read_to_string(&mut buf).expect("read");
    buf.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0)
}

#[test]
fn help_documents_every_command() {
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    for cmd in [
        "serve",
        "tenant",
        "office",
        "agency",
        "trader",
        "principal",
        "token",
        "audit",
        "backup",
        "restore",
        "bench",
    ] {
        assert!(out.contains(cmd), "--help lacks {cmd}");
    }
    let (code, out, _) = run(&["serve", "--help"]);
    assert_eq!(code, 0);
    for flag in [
        "--data-dir",
        "--database-url",
        "--trader-addr",
        "--admin-addr",
        "--ops-addr",
        "--log-format",
        "--config",
        "--no-demo",
    ] {
        assert!(out.contains(flag), "serve --help lacks {flag}");
    }
}

#[test]
fn serve_backup_restore_verify_and_tamper() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let d = data.to_str().expect("utf8");
    let (server, ops) = serve(&data);
    assert_eq!(http_get(&format!("{ops}/health")), 200);

    // Administration commands work against the data dir while the server serves.
    let (code, out, err) = run(&[
        "tenant",
        "add",
        "--data-dir",
        d,
        "--code",
        "BE",
        "--name",
        "Belgian Customs",
        "--currency",
        "EUR",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = run(&[
        "office",
        "add",
        "--data-dir",
        d,
        "--tenant",
        "BE",
        "--ref",
        "BE101000",
        "--name",
        "Antwerpen",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&[
        "office",
        "add",
        "--data-dir",
        d,
        "--tenant",
        "BE",
        "--ref",
        "NL999999",
        "--name",
        "Wrong",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("does not belong"), "{err}");
    let (code, _, err) = run(&[
        "trader",
        "add",
        "--data-dir",
        d,
        "--eori",
        "BE0123456789",
        "--name",
        "Antwerp Trading NV",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, token, err) = run(&[
        "token",
        "issue",
        "--data-dir",
        d,
        "--principal",
        "trader:BE0123456789",
        "--ttl",
        "30d",
    ]);
    assert_eq!(code, 0, "{err}");
    let token = token.trim();
    assert!(
        token.starts_with("ptk_") && !token.contains(char::is_whitespace),
        "token alone on stdout: {token:?}"
    );
    let (code, _, err) = run(&[
        "token",
        "issue",
        "--data-dir",
        d,
        "--principal",
        "trader:XX1",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("EORI") || err.contains("principal"), "{err}");

    // Online backup while serving.
    let backup = tmp.path().join("snapshot.tar");
    let (code, out, err) = run(&[
        "backup",
        "--data-dir",
        d,
        "--out",
        backup.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(&["audit", "verify", "--data-dir", d]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("intact"));
    drop(server);

    // Restore into a fresh data dir: everything is there and the audit log verifies.
    let restored = tmp.path().join("restored");
    let r = restored.to_str().expect("utf8");
    let (code, out, err) = run(&[
        "restore",
        "--data-dir",
        r,
        "--from",
        backup.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("intact"), "{out}");
    let (code, out, _) = run(&["tenant", "list", "--data-dir", r]);
    assert_eq!(code, 0);
    assert!(
        out.contains("BE") && out.contains("NL") && out.contains("DE"),
        "{out}"
    );
    let (code, _, _) = run(&[
        "restore",
        "--data-dir",
        r,
        "--from",
        backup.to_str().expect("utf8"),
    ]);
    assert_ne!(code, 0, "restore refuses to overwrite without --force");

    // Tamper with a stored audit entry: verify fails and names it.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}/portorium.db", r);
        let mut c = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
            .await
            .expect("connect");
        sqlx::query("UPDATE audit_entries SET principal = 'operator:mallory' WHERE seq = 3")
            .execute(&mut c)
            .await
            .expect("tamper");
    });
    let (code, _, err) = run(&["audit", "verify", "--data-dir", r]);
    assert_ne!(code, 0);
    assert!(err.contains("first bad entry 3"), "{err}");
}

/// A TOML config with an identity provider whose JWKS is fetched from a URL; a trader's JWT
/// signed by that provider is accepted on the trader gateway.
#[test]
fn config_file_and_identity_provider_jwks_url() {
    use std::io::{Read, Write};
    let data_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/crates/trust/tests/data");
    let jwks = std::fs::read_to_string(format!("{data_dir}/idp-jwks.json")).expect("jwks");
    // A one-shot JWKS server on loopback (plain HTTP is accepted only on loopback).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let jwks_url = format!("http://{}/jwks.json", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            // Read the whole request head before answering: closing with unread bytes would
            // make the kernel reset the connection.
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{jwks}",
                jwks.len()
            );
        }
    });
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = tmp.path().join("portorium.toml");
    let toml = format!(
        "log_format = \"json\"\n\n[[identity_providers]]\nissuer = \"https://idp.test.example\"\naudience = \"portorium\"\njwks_url = \"{jwks_url}\"\nkind = \"trader\"\nid_claim = \"eori\"\n"
    );
    std::fs::write(&config, toml).expect("config");
    let data = tmp.path().join("data");
    let (server, urls) = serve_with(&data, &["--config", config.to_str().expect("utf8")]);
    let now = std::time::SystemTime::UNIX_EPOCH
        .elapsed()
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    h.kid = Some("idp-test-1".into());
    let claims = serde_json::json!({"iss": "https://idp.test.example", "aud": "portorium", "sub": "u", "eori": "NL000000001", "iat": now, "exp": now + 600});
    let key = std::fs::read(format!("{data_dir}/idp-ed25519.pem")).expect("pem");
    let jwt = jsonwebtoken::encode(
        &h,
        &claims,
        &jsonwebtoken::EncodingKey::from_ed_pem(&key).expect("key"),
    )
    .expect("jwt");
    assert_eq!(
        http_get_auth(&format!("{}/api/v1/me", urls[0]), Some(&jwt)),
        200
    );
    assert_eq!(
        http_get_auth(&format!("{}/api/v1/me", urls[0]), Some("not.a.jwt")),
        401
    );
    drop(server);
    // A config file with an unknown key is refused with a clear message.
    std::fs::write(&config, "colour = \"red\"\n").expect("config");
    let (code, _, err) = run(&[
        "serve",
        "--config",
        config.to_str().expect("utf8"),
        "--data-dir",
        data.to_str().expect("utf8"),
    ]);
    assert_ne!(code, 0);
    assert!(
        err.contains("unknown field") && err.contains("colour"),
        "{err}"
    );
}

/// Backup and restore on PostgreSQL (pg_dump / pg_restore), when `TEST_DATABASE_URL` is set.
#[test]
fn postgres_backup_and_restore() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (Some(src), Some(dst)) = rt.block_on(async {
        (
            portorium_store::testing::TestDb::postgres()
                .await
                .expect("pg"),
            portorium_store::testing::TestDb::postgres()
                .await
                .expect("pg"),
        )
    }) else {
        eprintln!("SKIPPED: TEST_DATABASE_URL is not set, PostgreSQL backup not tested");
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let (d1, d2) = (tmp.path().join("one"), tmp.path().join("two"));
    let (d1, d2) = (d1.to_str().expect("utf8"), d2.to_str().expect("utf8"));
    let (code, _, err) = run(&[
        "tenant",
        "add",
        "--data-dir",
        d1,
        "--database-url",
        &src.url,
        "--code",
        "FR",
        "--name",
        "Douane",
        "--currency",
        "EUR",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&[
        "token",
        "issue",
        "--data-dir",
        d1,
        "--database-url",
        &src.url,
        "--principal",
        "operator:root",
    ]);
    assert_ne!(code, 0, "unknown principal: {err}");
    let out = tmp.path().join("pg.tar");
    let (code, _, err) = run(&[
        "backup",
        "--data-dir",
        d1,
        "--database-url",
        &src.url,
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, stdout, err) = run(&[
        "restore",
        "--data-dir",
        d2,
        "--database-url",
        &dst.url,
        "--from",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(stdout.contains("intact"), "{stdout}");
    let (code, stdout, _) = run(&[
        "tenant",
        "list",
        "--data-dir",
        d2,
        "--database-url",
        &dst.url,
    ]);
    assert_eq!(code, 0);
    assert!(stdout.contains("FR"), "{stdout}");
}

fn reference() -> Option<std::path::PathBuf> {
    let p = std::env::var("PORTORIUM_REFERENCE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference"));
    if p.join("tariff").exists() {
        Some(p)
    } else {
        eprintln!("SKIPPED: reference data not found at {}", p.display());
        None
    }
}

/// `tariff import`: real CN 2026 into the common layer, real UK TARIC3 envelopes into a GBP
/// administration's layer; a schema-invalid file changes nothing; history and rollback.
#[test]
fn tariff_import_history_and_rollback() {
    let Some(r) = reference() else { return };
    let t = r.join("tariff");
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path().join("data");
    let d = d.to_str().expect("utf8");
    let s = |p: &Path| p.to_str().expect("utf8").to_owned();
    let xsd = s(&t.join("taric3/taric3.xsd"));
    let cn: Vec<String> = ["Sections", "Chapters", "Headings", "Subheadings", "Codes"]
        .iter()
        .map(|k| s(&t.join(format!("cn2026/cn{k}_2026.json"))))
        .collect();
    let mut args = vec!["tariff", "import", "--data-dir", d, "--common"];
    args.extend(cn.iter().map(String::as_str));
    let started = std::time::Instant::now();
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{out}{err}");
    eprintln!("CN 2026 import (debug build): {:?}", started.elapsed());
    assert!(out.contains("common layer"), "{out}");
    // Only four of the five CN files: refused, naming what is missing.
    let (code, _, err) = run(&[
        "tariff",
        "import",
        "--data-dir",
        d,
        "--common",
        &cn[0],
        &cn[1],
        &cn[2],
        &cn[4],
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("five files"), "{err}");

    let (code, _, err) = run(&[
        "tenant",
        "add",
        "--data-dir",
        d,
        "--code",
        "GB",
        "--name",
        "HMRC",
        "--currency",
        "GBP",
    ]);
    assert_eq!(code, 0, "{err}");
    let uk: Vec<String> = std::fs::read_dir(t.join("taric3-uk"))
        .expect("taric3-uk")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .map(|p| s(&p))
        .collect();
    assert!(!uk.is_empty());
    let mut args = vec![
        "tariff",
        "import",
        "--data-dir",
        d,
        "--tenant",
        "GB",
        "--taric3-xsd",
        &xsd,
    ];
    args.extend(uk.iter().map(String::as_str));
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{out}{err}");

    // A TaMaTo sample that is not valid against taric3.xsd is refused; nothing changes.
    let bad = s(&t.join("taric3/measure_CREATE.xml"));
    let (code, _, err) = run(&[
        "tariff",
        "import",
        "--data-dir",
        d,
        "--tenant",
        "GB",
        "--taric3-xsd",
        &xsd,
        &bad,
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("not valid against taric3.xsd"), "{err}");
    let (code, history, _) = run(&["tariff", "imports", "--data-dir", d, "--tenant", "GB"]);
    assert_eq!(code, 0);
    assert_eq!(history.lines().count(), 1, "{history}");
    let id = history
        .split_whitespace()
        .next()
        .expect("import id")
        .to_owned();

    // Roll back the GB import; the common layer's import is untouched.
    let (code, out, err) = run(&["tariff", "rollback", "--data-dir", d, "--id", &id]);
    assert_eq!(code, 0, "{out}{err}");
    let (_, history, _) = run(&["tariff", "imports", "--data-dir", d, "--tenant", "GB"]);
    assert!(history.contains("rolled_back"), "{history}");
    let (_, common, _) = run(&["tariff", "imports", "--data-dir", d, "--common"]);
    assert!(common.contains("committed"), "{common}");
    let (code, out, _) = run(&["audit", "verify", "--data-dir", d]);
    assert_eq!(code, 0, "{out}");
}
