//! The portal in a real browser: headless Chromium driven through chromedriver (WebDriver).
//!
//! Needs `/usr/bin/chromedriver` and `/usr/bin/chromium` (Debian/Ubuntu packages `chromium` and
//! `chromium-driver`; override with `CHROMEDRIVER` and `CHROME_BIN`). Without chromedriver every
//! test prints `SKIPPED: chromedriver not installed` and passes.
//!
//! Each test gets its own chromedriver, browser profile and server: cookies are per host, not
//! per port, so one browser logged in on two loopback gateways would mix their sessions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fantoccini::{Client, ClientBuilder, Locator};
use portorium_kernel::Circle;
use portorium_server::testing::TestServer;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a page may take to show an element. Generous: a debug build lodging a
/// declaration (XSD validation, generated messages) on a loaded 2-core CI machine is slow.
const WAIT: Duration = Duration::from_secs(20);
const PASSWORD: &str = "portorium-demo";
const LOGIN_FAILED: &str = "The principal id or password is not correct";

/// One browser at a time: several headless Chromiums at once make slow CI machines flaky.
static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn chromedriver_path() -> PathBuf {
    std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"))
}

fn chrome_path() -> String {
    std::env::var("CHROME_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// chromedriver (and the browser it starts, in the same process group), killed on drop, also
/// when the test fails.
struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A browser session, or `None` (after saying so) when chromedriver is not installed.
async fn browser() -> Option<(Driver, Client)> {
    let driver_bin = chromedriver_path();
    if !driver_bin.exists() {
        // Written to the real stderr, not the captured one, so it shows in every test run.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: chromedriver not installed ({} is missing)",
            driver_bin.display()
        );
        return None;
    }
    let port = free_port();
    let child = Command::new(&driver_bin)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start chromedriver");
    let driver = Driver {
        child,
        port,
        _profile: tempfile::tempdir().expect("profile dir"),
    };
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let start = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            start.elapsed() < WAIT,
            "chromedriver did not start listening on {addr}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let profile = driver._profile.path().display().to_string();
    let mut caps = serde_json::Map::new();
    let options = serde_json::json!({
            "binary": chrome_path(),
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,900",
                format!("--user-data-dir={profile}"),
            ]
    });
    caps.insert("goog:chromeOptions".into(), options);
    let connect = async {
        ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .expect("WebDriver session")
    };
    let client = tokio::time::timeout(Duration::from_secs(30), connect)
        .await
        .expect("the browser started within 30 s");
    Some((driver, client))
}

/// What the browser shows (address, ready state, visible text), for a failure message: a
/// missing element then says which page was there instead (an error page, a form with errors,
/// a page still loading).
async fn shown(c: &Client) -> String {
    let url = c
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_else(|e| format!("(no address: {e})"));
    let page = c
        .execute(
            "return document.readyState + '\\n' + (document.body ? document.body.innerText : '');",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let page: String = page.chars().take(3000).collect();
    format!("at {url}, showing:\n{page}")
}

async fn text_of(c: &Client, css: &str) -> String {
    match c.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
        Ok(e) => e.text().await.expect("element text"),
        Err(e) => panic!(
            "no `{css}` on the page within {WAIT:?}: {e}; {}",
            shown(c).await
        ),
    }
}

/// Waits until the element's text is `want`: after a click that reloads a page holding the
/// same element (a status badge), the old page's element may be found first and go stale.
async fn wait_text(c: &Client, css: &str, want: &str) {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < WAIT {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            if let Ok(t) = e.text().await {
                if t == want {
                    return;
                }
                last = t;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "`{css}` did not become {want:?} within {WAIT:?} (last {last:?}); {}",
        shown(c).await
    );
}

async fn path(c: &Client) -> String {
    c.current_url()
        .await
        .expect("current url")
        .path()
        .to_owned()
}

/// Fill in and submit the login form of the gateway at `base`.
async fn log_in(c: &Client, base: &str, principal: &str, password: &str) {
    c.goto(&format!("{base}/login"))
        .await
        .expect("open the login page");
    let field = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Id("principal"))
        .await
        .expect("principal field");
    field.clear().await.expect("clear");
    field.send_keys(principal).await.expect("type principal");
    c.find(Locator::Id("password"))
        .await
        .expect("password field")
        .send_keys(password)
        .await
        .expect("type password");
    c.find(Locator::Id("login"))
        .await
        .expect("login button")
        .click()
        .await
        .expect("submit");
    // Wait for the answer (logged in, or the form again with its error): a navigation
    // started before it arrives would cancel the login in the browser (its session cookie
    // never stored), which under load left a later step on the login page (seen in CI).
    if let Err(e) = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#logout, #login-error"))
        .await
    {
        panic!(
            "no answer to the login of {principal} within {WAIT:?}: {e}; {}",
            shown(c).await
        );
    }
}

fn screenshot_path() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target")));
    target.join("portal-home.png")
}

#[tokio::test]
async fn trader_logs_in_and_sees_own_home() {
    let _one = BROWSER.lock().await;
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let server = TestServer::sqlite().await;
    let base = server.url(Circle::Trader);

    // `/` sends an anonymous visitor to the login page.
    c.goto(&format!("{base}/")).await.unwrap();
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("login"))
        .await
        .unwrap();
    assert_eq!(path(&c).await, "/login");

    log_in(&c, &base, "trader:NL000000001", PASSWORD).await;
    let trader = text_of(&c, "#trader").await;
    assert!(trader.contains("Holland Imports BV"), "{trader}");
    assert!(trader.contains("NL000000001"), "{trader}");
    assert_eq!(path(&c).await, "/home");
    assert_eq!(
        text_of(&c, "[data-testid=user-id]").await,
        "trader:NL000000001"
    );
    assert_eq!(text_of(&c, "[data-testid=kind]").await, "Trader");
    let source = c.source().await.unwrap();
    assert!(
        !source.contains("Hanse Handel GmbH"),
        "another trader is shown"
    );
    assert!(
        !source.contains("Rotterdam Maasvlakte"),
        "a trader sees no offices"
    );

    // htmx: "Refresh" replaces the messages panel with the fragment from /home/messages.
    c.execute(
        "document.getElementById('messages').innerHTML = '<p id=\"stale\">stale</p>';",
        vec![],
    )
    .await
    .unwrap();
    c.find(Locator::Id("refresh-messages"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#messages [aria-live]"))
        .await
        .expect("the refreshed messages fragment");
    assert!(c.find_all(Locator::Id("stale")).await.unwrap().is_empty());

    c.close().await.unwrap();
}

#[tokio::test]
async fn officer_sees_own_administrations_offices_only() {
    let _one = BROWSER.lock().await;
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let server = TestServer::sqlite().await;
    let base = server.url(Circle::Administration);

    log_in(&c, &base, "officer:NL/jdevries", PASSWORD).await;
    let offices = text_of(&c, "#offices").await;
    assert!(offices.contains("Rotterdam Maasvlakte"), "{offices}");
    assert!(offices.contains("Schiphol Cargo"), "{offices}");
    assert!(!offices.contains("Hamburg Waltershof"), "{offices}");
    assert!(
        !c.source().await.unwrap().contains("Frankfurt am Main"),
        "a DE office leaked"
    );
    assert_eq!(text_of(&c, "[data-testid=user-name]").await, "Jan de Vries");
    assert_eq!(text_of(&c, "[data-testid=kind]").await, "Customs officer");
    assert!(text_of(&c, "#tenant").await.contains("Netherlands Customs"));

    let png = c.screenshot().await.unwrap();
    let out = screenshot_path();
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(&out, png).unwrap();

    c.close().await.unwrap();
}

#[tokio::test]
async fn wrong_password_shows_generic_error() {
    let _one = BROWSER.lock().await;
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let server = TestServer::sqlite().await;
    let base = server.url(Circle::Trader);

    log_in(&c, &base, "trader:NL000000001", "not-the-password").await;
    let error = text_of(&c, "#login-error").await;
    assert!(error.starts_with(LOGIN_FAILED), "{error}");
    assert_eq!(path(&c).await, "/login");
    // The principal is kept; the password is not.
    let principal = c.find(Locator::Id("principal")).await.unwrap();
    assert_eq!(
        principal.prop("value").await.unwrap().as_deref(),
        Some("trader:NL000000001")
    );
    let password = c.find(Locator::Id("password")).await.unwrap();
    assert_eq!(password.prop("value").await.unwrap().as_deref(), Some(""));

    // An unknown principal gets exactly the same answer.
    log_in(&c, &base, "trader:NL999999999", PASSWORD).await;
    assert_eq!(text_of(&c, "#login-error").await, error);

    // Still not logged in.
    c.goto(&format!("{base}/home")).await.unwrap();
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("login"))
        .await
        .unwrap();
    assert_eq!(path(&c).await, "/login");

    c.close().await.unwrap();
}

#[tokio::test]
async fn officer_cannot_log_in_on_the_trader_gateway() {
    let _one = BROWSER.lock().await;
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let server = TestServer::sqlite().await;
    let base = server.url(Circle::Trader);

    log_in(&c, &base, "officer:NL/jdevries", PASSWORD).await;
    let error = text_of(&c, "#login-error").await;
    assert!(error.starts_with(LOGIN_FAILED), "{error}");
    assert_eq!(path(&c).await, "/login");
    assert!(c.find_all(Locator::Id("logout")).await.unwrap().is_empty());

    // And a trader cannot log in on the administration gateway.
    log_in(
        &c,
        &server.url(Circle::Administration),
        "trader:NL000000001",
        PASSWORD,
    )
    .await;
    assert!(text_of(&c, "#login-error").await.starts_with(LOGIN_FAILED));

    c.close().await.unwrap();
}

#[tokio::test]
async fn logout_returns_to_the_login_page() {
    let _one = BROWSER.lock().await;
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let server = TestServer::sqlite().await;
    let base = server.url(Circle::Administration);

    log_in(&c, &base, "security:NL/kvisser", PASSWORD).await;
    // A security officer's home shows the audit trail of its administration.
    text_of(&c, "#audit-h").await;
    assert_eq!(text_of(&c, "[data-testid=kind]").await, "Security officer");

    c.find(Locator::Id("logout"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("login"))
        .await
        .unwrap();
    assert_eq!(path(&c).await, "/login");

    // The session is gone: /home sends the browser back to the login page.
    c.goto(&format!("{base}/home")).await.unwrap();
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("login"))
        .await
        .unwrap();
    assert_eq!(path(&c).await, "/login");

    c.close().await.unwrap();
}

// ---- tariff portal ----

async fn fill(c: &Client, id: &str, text: &str) {
    let field = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("no #{id}: {e}"));
    field.clear().await.unwrap();
    if !text.is_empty() {
        field.send_keys(text).await.unwrap();
    }
}

async fn calculate(c: &Client) {
    c.find(Locator::Id("calculate"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The duty calculator on the demo tariff: apples from South Africa into the Netherlands.
#[tokio::test]
async fn duty_calculator_shows_options_and_field_errors() {
    let _one = BROWSER.lock().await;
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let server = TestServer::sqlite().await;
    let base = server.url(Circle::Trader);

    // From the tariff choice to the calculator of NL.
    c.goto(&format!("{base}/tariff")).await.unwrap();
    c.find(Locator::Css(
        "#administrations a[href='/tariff/NL/calculator']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    fill(&c, "f-commodity_code", "0808108000").await;
    c.find(Locator::Id("f-origin"))
        .await
        .unwrap()
        .select_by_value("ZA")
        .await
        .unwrap();
    fill(&c, "f-date", "2026-03-15").await;
    fill(&c, "f-value_amount", "1000").await;
    fill(&c, "q-unit-1", "KGM").await;
    fill(&c, "q-value-1", "2000").await;
    // htmx replaces the calculator in place: the page is not reloaded.
    c.execute("window.portoriumMarker = 42;", vec![])
        .await
        .unwrap();
    calculate(&c).await;

    // Third-country duty 9 % and the FTA preference 4 %, each with 9 % VAT on top.
    let options = text_of(&c, "#options").await;
    assert!(options.contains("Third-country duty"), "{options}");
    assert!(options.contains("Tariff preference"), "{options}");
    assert!(options.contains("188.10 EUR"), "{options}");
    let cheapest = text_of(&c, "#options tr.cheapest").await;
    assert!(cheapest.contains("Tariff preference"), "{cheapest}");
    assert!(cheapest.contains("133.60 EUR"), "{cheapest}");
    assert_eq!(
        text_of(&c, "#options tr.cheapest [data-testid=cheapest]").await,
        "Cheapest"
    );
    assert_eq!(
        c.find_all(Locator::Css("#options [data-testid=cheapest]"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(text_of(&c, "#cheapest-total").await, "133.60 EUR");
    let lines = text_of(&c, "section.option.cheapest table.lines").await;
    assert!(lines.contains("4.00 %"), "{lines}");
    assert!(lines.contains("40.00 EUR"), "{lines}");
    assert!(lines.contains("1,040.00 EUR"), "{lines}");
    assert!(c
        .find_all(Locator::Id("prohibitions"))
        .await
        .unwrap()
        .is_empty());
    let marker = c
        .execute("return window.portoriumMarker;", vec![])
        .await
        .unwrap();
    assert_eq!(marker, serde_json::json!(42), "the page was reloaded");
    // The address bar holds the calculation, so it can be bookmarked and shared.
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/tariff/NL/calculator");
    assert!(url
        .query()
        .unwrap_or("")
        .contains("commodity_code=0808108000"));

    let png = c.screenshot().await.unwrap();
    let out = screenshot_path().with_file_name("portal-calculator.png");
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(&out, png).unwrap();

    // Bananas pay per tonne: without a quantity the message is next to the quantities.
    fill(&c, "f-commodity_code", "0803901000").await;
    fill(&c, "q-unit-1", "").await;
    fill(&c, "q-value-1", "").await;
    calculate(&c).await;
    let error = text_of(&c, "#f-quantities #err-quantities").await;
    assert!(
        error.contains("missing declared quantity in TNE"),
        "{error}"
    );
    assert!(text_of(&c, "#calc-errors")
        .await
        .contains("missing declared quantity"));
    assert!(c.find_all(Locator::Id("options")).await.unwrap().is_empty());
    let invalid = c
        .find(Locator::Id("q-value-1"))
        .await
        .unwrap()
        .attr("aria-invalid")
        .await
        .unwrap();
    assert_eq!(invalid.as_deref(), Some("true"));

    // A customs value that is not a number is flagged on its own field, and the other
    // fields keep what was typed.
    fill(&c, "f-value_amount", "12,5x").await;
    fill(&c, "q-unit-1", "TNE").await;
    fill(&c, "q-value-1", "2").await;
    calculate(&c).await;
    let error = text_of(&c, "#f-customs_value #err-customs_value").await;
    assert!(error.contains("must be a number"), "{error}");
    let code = c.find(Locator::Id("f-commodity_code")).await.unwrap();
    assert_eq!(
        code.prop("value").await.unwrap().as_deref(),
        Some("0803901000")
    );
    assert!(c
        .find_all(Locator::Id("err-quantities"))
        .await
        .unwrap()
        .is_empty());

    // Corrected, it calculates: 114 EUR per tonne × 2 tonnes for the third-country duty.
    fill(&c, "f-value_amount", "1000").await;
    calculate(&c).await;
    let options = text_of(&c, "#options").await;
    assert!(options.contains("Third-country duty"), "{options}");
    assert!(text_of(&c, "#option-1 table.lines")
        .await
        .contains("228.00 EUR"));

    c.close().await.unwrap();
}

// ---- declarations portal ----

async fn click(c: &Client, css: &str) {
    let element = match c.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
        Ok(e) => e,
        Err(e) => panic!(
            "no `{css}` on the page within {WAIT:?}: {e}; {}",
            shown(c).await
        ),
    };
    element
        .click()
        .await
        .unwrap_or_else(|e| panic!("click `{css}`: {e}"));
}

async fn select(c: &Client, id: &str, value: &str) {
    c.find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("no #{id}: {e}"))
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("select {value} in #{id}: {e}"));
}

async fn log_out(c: &Client) {
    click(c, "#logout").await;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Id("login"))
        .await
        .expect("back on the login page");
}

/// Lodging and release (issue 4): a demo trader lodges a CC015C through the portal form
/// (first with an error shown next to its field), sees the movement with its MRN waiting for
/// the officer (the test servers' configured lane for DE is yellow); an officer of DE finds it
/// in the work queue and releases it; the trader then sees the CC029C release.
#[tokio::test]
async fn lodging_and_release() {
    let _one = BROWSER.lock().await;
    if portorium_server::testing::reference_ncts_xsd_dir().is_none() {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: lodging_and_release needs the NCTS XSDs ($PORTORIUM_REFERENCE/ncts-p5/xsd)"
        );
        return;
    }
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let server = TestServer::sqlite().await;
    let trader = server.url(Circle::Trader);
    let admin = server.url(Circle::Administration);

    // The trader opens "Declarations" and the lodging form.
    log_in(&c, &trader, "trader:DE000000002", PASSWORD).await;
    click(&c, "#nav-declarations").await;
    text_of(&c, "#no-departures").await;
    click(&c, "#new-departure").await;
    fill(&c, "f-lrn", "BROWSER-LRN-0001").await;
    select(&c, "f-departure", "DE004058").await;
    select(&c, "f-destination", "NL000396").await;
    fill(&c, "f-grn", "26DEDEMO000000014").await;
    fill(&c, "f-access_code", "DE01").await;
    fill(&c, "f-amount", "8000.00").await;
    fill(&c, "i0_commodity", "851712").await;
    fill(&c, "i0_description", "Mobile telephones").await;
    fill(&c, "i0_gross_mass", "1250,5kg").await;
    fill(&c, "i0_packages", "4").await;
    fill(&c, "i1_commodity", "847130").await;
    fill(&c, "i1_description", "Portable computers").await;
    fill(&c, "i1_gross_mass", "830.500").await;
    fill(&c, "i1_packages", "8").await;
    click(&c, "#lodge").await;

    // The schema error of the gross mass is shown next to that item's field; what was typed
    // is kept.
    let error = text_of(&c, "#err-i0_gross_mass").await;
    assert!(
        error.contains("grossMass") || error.contains("1250,5kg"),
        "{error}"
    );
    text_of(&c, "#form-errors").await;
    let invalid = c
        .find(Locator::Id("i0_gross_mass"))
        .await
        .unwrap()
        .attr("aria-invalid")
        .await
        .unwrap();
    assert_eq!(invalid.as_deref(), Some("true"));
    let lrn = c.find(Locator::Id("f-lrn")).await.unwrap();
    assert_eq!(
        lrn.prop("value").await.unwrap().as_deref(),
        Some("BROWSER-LRN-0001")
    );
    // Corrected, it is lodged: the movement page shows the MRN and the state.
    fill(&c, "i0_gross_mass", "1250.500").await;
    click(&c, "#lodge").await;
    let state = text_of(&c, "#movement-state").await;
    let movement_path = path(&c).await;
    assert!(
        movement_path.starts_with("/declarations/transit/"),
        "{movement_path}"
    );
    assert_eq!(state, "under_control");
    let mrn = text_of(&c, "#mrn").await;
    assert_eq!(&mrn[2..4], "DE", "{mrn}");
    assert_eq!(mrn.len(), 18, "{mrn}");
    assert_eq!(text_of(&c, "#lrn").await, "BROWSER-LRN-0001");
    let messages = text_of(&c, "#messages").await;
    for t in ["IE015", "IE928", "IE028"] {
        assert!(messages.contains(t), "{t} missing: {messages}");
    }
    assert!(!messages.contains("IE029"), "{messages}");
    assert!(text_of(&c, "#lane").await.contains("yellow"));
    // The list shows it with its MRN and state.
    click(&c, "#nav-declarations").await;
    let departures = text_of(&c, "#departures").await;
    assert!(departures.contains(&mrn), "{departures}");
    assert!(departures.contains("under_control"), "{departures}");
    log_out(&c).await;

    // An officer of DE finds it in the work queue and releases it.
    log_in(&c, &admin, "officer:DE/mmueller", PASSWORD).await;
    click(&c, "#nav-declarations").await;
    let queue = text_of(&c, "#queue-movements").await;
    assert!(queue.contains(&mrn), "{queue}");
    click(&c, &format!("#queue-movements a[href='{movement_path}']")).await;
    assert_eq!(text_of(&c, "#mrn").await, mrn);
    assert!(text_of(&c, "#lane").await.contains("yellow"));
    click(&c, "#decide-release").await;
    let notice = text_of(&c, "#notice").await;
    assert!(notice.contains("release"), "{notice}");
    assert_eq!(text_of(&c, "#movement-state").await, "released");
    assert!(text_of(&c, "#history")
        .await
        .contains("officer:DE/mmueller"));
    // It has left the queue.
    click(&c, "#nav-declarations").await;
    text_of(&c, "#no-movements").await;
    log_out(&c).await;

    // The trader sees the release (CC029C) and can read it.
    log_in(&c, &trader, "trader:DE000000002", PASSWORD).await;
    c.goto(&format!("{trader}{movement_path}")).await.unwrap();
    assert_eq!(text_of(&c, "#movement-state").await, "released");
    let messages = text_of(&c, "#messages").await;
    assert!(messages.contains("IE029"), "{messages}");
    click(&c, "#messages tr[data-type='IE029'] a").await;
    let body = text_of(&c, "#message-body").await;
    assert!(body.contains("CC029C"), "{body}");
    assert!(body.contains(&mrn), "{body}");

    let png = c.screenshot().await.unwrap();
    let out = screenshot_path().with_file_name("portal-declaration.png");
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(&out, png).unwrap();

    c.close().await.unwrap();
}

/// Upload of a CC015C file (multipart, sent by htmx with the CSRF header): a broken file
/// lists its schema errors by XPath; the demo fixture lodges (green lane for NL: released at
/// once) and its reservation shows in the guarantee balance.
#[tokio::test]
async fn upload_lists_xpaths_then_lodges_and_reserves() {
    let _one = BROWSER.lock().await;
    if portorium_server::testing::reference_ncts_xsd_dir().is_none() {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: upload test needs the NCTS XSDs ($PORTORIUM_REFERENCE/ncts-p5/xsd)"
        );
        return;
    }
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let server = TestServer::sqlite().await;
    let trader = server.url(Circle::Trader);
    let dir = tempfile::tempdir().unwrap();
    let fixture = include_str!("fixtures/cc015c-demo.xml");
    let broken = dir.path().join("broken.xml");
    std::fs::write(
        &broken,
        fixture.replace(
            "<grossMass>830.500</grossMass>",
            "<grossMass>eight hundred</grossMass>",
        ),
    )
    .unwrap();
    let good = dir.path().join("cc015c.xml");
    std::fs::write(&good, fixture).unwrap();

    log_in(&c, &trader, "trader:NL000000001", PASSWORD).await;
    c.goto(&format!("{trader}/declarations/transit/new"))
        .await
        .unwrap();
    c.find(Locator::Id("f-file"))
        .await
        .unwrap()
        .send_keys(&broken.display().to_string())
        .await
        .unwrap();
    click(&c, "#upload-lodge").await;
    let xpaths = text_of(&c, "#upload-xpaths").await;
    assert!(
        xpaths.contains("/CC015C/Consignment/HouseConsignment/ConsignmentItem[2]/Commodity/GoodsMeasure/grossMass"),
        "{xpaths}"
    );
    assert_eq!(path(&c).await, "/declarations/transit/new");

    c.find(Locator::Id("f-file"))
        .await
        .unwrap()
        .send_keys(&good.display().to_string())
        .await
        .unwrap();
    click(&c, "#upload-lodge").await;
    assert_eq!(text_of(&c, "#movement-state").await, "released");
    assert_eq!(text_of(&c, "#lrn").await, "DEMO-LRN-0001");
    let messages = text_of(&c, "#messages").await;
    assert!(messages.contains("IE029"), "{messages}");

    // The reservation of the release, in the guarantee's balance (with the access code).
    c.goto(&format!("{trader}/declarations/guarantees"))
        .await
        .unwrap();
    select(&c, "f-grn", "26NLDEMO000000012").await;
    fill(&c, "f-access_code", "NL99").await;
    click(&c, "#query-balance").await;
    assert!(text_of(&c, "#balance-error").await.contains("no guarantee"));
    select(&c, "f-grn", "26NLDEMO000000012").await;
    fill(&c, "f-access_code", "NL01").await;
    click(&c, "#query-balance").await;
    assert_eq!(text_of(&c, "#reserved").await, "12500.00 EUR");
    assert!(text_of(&c, "#reservations").await.contains("reserved"));

    c.close().await.unwrap();
}

/// The WCO DMS portal pages (issue 4): a trader uploads an import declaration whose schema
/// error is listed with its XPath, then the corrected file, which waits for an officer; an
/// officer of NL finds it in the work queue and requires documents; the trader sees the new
/// state and the notifications.
#[tokio::test]
async fn dms_upload_then_officer_requires_documents() {
    let _one = BROWSER.lock().await;
    let Some(schemas) = portorium_server::dms::default_xsd_dir() else {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: the DMS portal test needs the WCO DMS schemas ($PORTORIUM_REFERENCE/wco-dms)"
        );
        return;
    };
    let sample = schemas
        .parent()
        .unwrap()
        .join("examples/TT_IM001a/Step1_TT_IM001a.xml");
    let sample = std::fs::read_to_string(&sample).unwrap();
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let server = TestServer::sqlite().await;
    let trader = server.url(Circle::Trader);
    let admin = server.url(Circle::Administration);
    let dir = tempfile::tempdir().unwrap();
    let good = portorium_server::testing::dms_nl_beef(&sample, "BROWSERBEEF1");
    let broken = dir.path().join("broken.xml");
    std::fs::write(
        &broken,
        good.replace(
            "<FunctionalReferenceID>BROWSERBEEF1</FunctionalReferenceID>",
            "<FunctionalReferenceID>BROWSERBEEF1</FunctionalReferenceID><Colour>red</Colour>",
        ),
    )
    .unwrap();
    let good_file = dir.path().join("import.xml");
    std::fs::write(&good_file, &good).unwrap();

    log_in(&c, &trader, "trader:NL000000001", PASSWORD).await;
    click(&c, "#nav-declarations").await;
    text_of(&c, "#no-declarations").await;
    c.find(Locator::Id("dms-file"))
        .await
        .unwrap()
        .send_keys(&broken.display().to_string())
        .await
        .unwrap();
    click(&c, "#dms-lodge").await;
    let errors = text_of(&c, "#dms-errors").await;
    assert!(errors.contains("Colour"), "{errors}");
    assert!(errors.contains("/MetaData/"), "{errors}");
    assert_eq!(path(&c).await, "/declarations");

    c.find(Locator::Id("dms-file"))
        .await
        .unwrap()
        .send_keys(&good_file.display().to_string())
        .await
        .unwrap();
    click(&c, "#dms-lodge").await;
    assert_eq!(text_of(&c, "#declaration-state").await, "under_control");
    assert_eq!(text_of(&c, "#lrn").await, "BROWSERBEEF1");
    let mrn = text_of(&c, "#mrn").await;
    assert_eq!(&mrn[2..4], "NL", "{mrn}");
    let declaration_path = path(&c).await;
    assert!(
        declaration_path.starts_with("/declarations/dms/"),
        "{declaration_path}"
    );
    // The trader cannot decide.
    assert!(c.find(Locator::Id("dms-decide")).await.is_err());
    click(&c, "#nav-declarations").await;
    let list = text_of(&c, "#declarations").await;
    assert!(list.contains("BROWSERBEEF1"), "{list}");
    assert!(list.contains("under_control"), "{list}");
    log_out(&c).await;

    // An officer of NL finds it in the work queue and requires documents.
    log_in(&c, &admin, "officer:NL/jdevries", PASSWORD).await;
    click(&c, "#nav-declarations").await;
    let queue = text_of(&c, "#queue-declarations").await;
    assert!(queue.contains(&mrn), "{queue}");
    click(
        &c,
        &format!("#queue-declarations a[href='{declaration_path}']"),
    )
    .await;
    assert_eq!(text_of(&c, "#mrn").await, mrn);
    select(&c, "dms-decision", "documents-required").await;
    fill(&c, "dms-reason", "veterinary certificate N853").await;
    click(&c, "#dms-decide").await;
    text_of(&c, "#notice").await;
    assert_eq!(
        text_of(&c, "#declaration-state").await,
        "documents_required"
    );
    log_out(&c).await;

    // The trader sees the new state and the notification that asks for the documents.
    log_in(&c, &trader, "trader:NL000000001", PASSWORD).await;
    c.goto(&format!("{trader}{declaration_path}"))
        .await
        .unwrap();
    assert_eq!(
        text_of(&c, "#declaration-state").await,
        "documents_required"
    );
    let page = c.source().await.unwrap();
    assert!(page.contains("veterinary certificate N853"), "{page}");
    c.close().await.unwrap();
}

async fn fill_name(c: &Client, name: &str, text: &str) {
    let field = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(&format!("input[name='{name}']")))
        .await
        .unwrap_or_else(|e| panic!("no input {name}: {e}"));
    field.clear().await.unwrap();
    if !text.is_empty() {
        field.send_keys(text).await.unwrap();
    }
}

/// The national measure editor (issue 3): an officer drafts an excise measure with a
/// condition, sees a bad amount marked next to its field, saves and submits it; a second
/// officer approves it (four eyes) and the measure is in the national tariff.
#[tokio::test]
async fn national_measure_drafted_then_approved_by_a_second_officer() {
    let _one = BROWSER.lock().await;
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let server = TestServer::sqlite().await;
    let admin = server.url(Circle::Administration);

    log_in(&c, &admin, "officer:NL/jdevries", PASSWORD).await;
    c.goto(&format!("{admin}/tariff/NL/measure-drafts"))
        .await
        .unwrap();
    click(&c, "#new-draft").await;
    fill(&c, "f-measure_type", "306").await;
    fill(&c, "f-goods_code", "8471300000").await;
    fill(&c, "f-start", "2027-01-01").await;
    fill(&c, "f-legal_base", "Wet op de accijns, art. 1").await;
    // "More rows" keeps what was typed and adds three rows of each kind.
    click(&c, "#more-rows").await;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("input[name='k5_code']"))
        .await
        .unwrap_or_else(|e| panic!("no sixth condition row: {e}"));
    let kept = c
        .find(Locator::Id("f-goods_code"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("8471300000"));
    fill_name(&c, "c0_expression", "01").await;
    fill_name(&c, "c0_amount", "five").await;
    fill_name(&c, "k0_code", "B").await;
    fill_name(&c, "k0_certificate", "N954").await;
    fill_name(&c, "k0_action", "01").await;
    fill_name(&c, "k0_expression", "01").await;
    fill_name(&c, "k0_amount", "0").await;
    click(&c, "#save-draft").await;
    text_of(&c, "#form-errors").await;
    assert!(text_of(&c, "#err-components").await.contains("amount"));
    let invalid = c
        .find(Locator::Css("input[name='c0_amount']"))
        .await
        .unwrap()
        .attr("aria-invalid")
        .await
        .unwrap();
    assert_eq!(invalid.as_deref(), Some("true"));
    // Corrected and saved: the draft page with its condition.
    fill_name(&c, "c0_amount", "5").await;
    click(&c, "#save-draft").await;
    assert_eq!(text_of(&c, "#draft-status").await, "draft");
    let details = text_of(&c, "#draft-details").await;
    assert!(details.contains("condition B, document N954"), "{details}");
    let draft_path = path(&c).await;
    // Edited before submitting: the form comes back filled in.
    click(&c, "#edit-draft").await;
    let amount = c
        .find(Locator::Css("input[name='c0_amount']"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(amount.as_deref(), Some("5"));
    fill_name(&c, "c0_amount", "6").await;
    click(&c, "#save-draft").await;
    text_of(&c, "#notice").await;
    assert!(text_of(&c, "#draft-details").await.contains("6.00 %"));
    click(&c, "#submit").await;
    wait_text(&c, "#draft-status", "submitted").await;
    // The drafter has no approve button.
    assert!(c.find(Locator::Id("approve")).await.is_err());
    log_out(&c).await;

    log_in(&c, &admin, "officer:NL/avandijk", PASSWORD).await;
    c.goto(&format!("{admin}{draft_path}")).await.unwrap();
    click(&c, "#approve").await;
    wait_text(&c, "#draft-status", "approved").await;
    let sid = text_of(&c, "#measure-sid").await;
    assert!(sid.starts_with("1349"), "a national SID of NL: {sid}");
    c.close().await.unwrap();
}
