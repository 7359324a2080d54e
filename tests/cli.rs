//! The `portorium` binary end to end: serve, administer a data dir while serving, back up
//! online, restore, and verify the audit log (and catch tampering).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    let mut child = bin()
        .args(["serve", "--data-dir"])
        .arg(data)
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
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    // Keep reading so the server never writes into a closed pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.trim_start().starts_with("operations") {
                let url = line
                    .split_whitespace()
                    .find(|w| w.starts_with("http://"))
                    .map(str::to_owned);
                let _ = tx.send(url);
            }
        }
    });
    let ops = rx.recv_timeout(Duration::from_secs(60)).ok().flatten();
    let _ = Instant::now();
    (Server(child), ops.expect("operations url printed"))
}

fn http_get(url: &str) -> u16 {
    // A tiny blocking HTTP/1.0 GET, enough for a health check.
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    write!(s, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").expect("write");
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
