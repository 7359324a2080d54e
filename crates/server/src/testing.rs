//! Test support: a real server on ephemeral loopback ports with the demo environment loaded,
#![allow(clippy::expect_used)] // test support: a failure to set up is a failed test
//! on SQLite or (with `TEST_DATABASE_URL`) PostgreSQL.

use crate::demo::DemoCredentials;
use crate::state::{AppState, Inner, ServerConfig, TokenCache};
use crate::{Addresses, Listeners};
use portorium_audit::CheckpointSigner;
use portorium_kernel::{Circle, PrincipalId, SystemClock, UuidV7Gen};
use portorium_store::testing::TestDb;
use portorium_store::{AuditLog, AuditLogConfig, Store, StoreOptions};
use portorium_trust::{Federation, Pdp};
use std::sync::Arc;

/// A running server for tests. Dropping it stops the server.
pub struct TestServer {
    pub addrs: Addresses,
    pub state: AppState,
    pub demo: DemoCredentials,
    pub db_label: &'static str,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _db: TestDb,
}

impl TestServer {
    /// One server per backend under test.
    pub async fn all() -> Vec<TestServer> {
        let mut v = Vec::new();
        for db in TestDb::all().await.expect("test database") {
            v.push(TestServer::start_on(db, Federation::new(Vec::new())).await);
        }
        v
    }

    pub async fn sqlite() -> TestServer {
        TestServer::start_on(
            TestDb::sqlite().expect("tempdir"),
            Federation::new(Vec::new()),
        )
        .await
    }

    pub async fn start_on(db: TestDb, federation: Federation) -> TestServer {
        TestServer::start_with_transit(db, federation, reference_transit()).await
    }

    /// A server with the given transit settings (e.g. without the NCTS schemas).
    pub async fn start_with_transit(
        db: TestDb,
        federation: Federation,
        transit: crate::transit::TransitSettings,
    ) -> TestServer {
        TestServer::start_configured(db, federation, |c| c.transit = transit).await
    }

    /// A server whose test configuration `configure` adjusts (e.g. `allow_private_webhooks`
    /// for a webhook listener on loopback).
    pub async fn start_configured(
        db: TestDb,
        federation: Federation,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> TestServer {
        let store = Store::open(
            &db.url,
            StoreOptions::default(),
            Arc::new(SystemClock),
            Arc::new(UuidV7Gen::new(SystemClock)),
        )
        .await
        .expect("open store");
        let signer = Arc::new(CheckpointSigner::from_seed([42u8; 32]));
        let audit = AuditLog::start(store.clone(), signer, AuditLogConfig::default());
        let demo = crate::demo::load(&store).await.expect("demo");
        let mut config = ServerConfig {
            cookie_secure: false,
            taric3_xsd: reference_taric3_xsd(),
            transit: reference_transit(),
            ..ServerConfig::default()
        };
        configure(&mut config);
        let state = AppState(Arc::new(Inner {
            store,
            audit,
            pdp: Pdp::new().expect("policies"),
            federation,
            metrics: crate::metrics_handle(),
            config,
            tokens: TokenCache::default(),
            decisions: Default::default(),
            logins: Default::default(),
            tariffs: Default::default(),
        }));
        let any: std::net::SocketAddr = ([127, 0, 0, 1], 0).into();
        let listeners = Listeners::bind(&Addresses {
            trader: any,
            administration: any,
            operations: any,
        })
        .await
        .expect("bind");
        let addrs = listeners.local().expect("addrs");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        tokio::spawn(async move {
            let _ = crate::serve(st, listeners, async move {
                let _ = rx.await;
            })
            .await;
        });
        TestServer {
            addrs,
            state,
            demo,
            db_label: db.label,
            stop: Some(tx),
            _db: db,
        }
    }

    /// Base URL of a gateway, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self, circle: Circle) -> String {
        let a = match circle {
            Circle::Trader => self.addrs.trader,
            Circle::Administration => self.addrs.administration,
            Circle::Operations => self.addrs.operations,
        };
        format!("http://{a}")
    }

    /// The demo API token of a principal (`"officer:NL/jdevries"`).
    pub fn token(&self, principal: &str) -> String {
        let id: PrincipalId = principal.parse().expect("principal id");
        self.demo
            .tokens
            .iter()
            .find(|(p, _)| *p == id)
            .map(|(_, t)| t.clone())
            .expect("demo token")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// The transit settings of test servers: the NCTS XSDs of `$PORTORIUM_REFERENCE/ncts-p5/xsd`
/// (default `../shared/reference`, seen from the workspace root or a crate directory), loaded
/// once per test process; without them the transit endpoints answer 503. The configured lanes
/// are green, except yellow for DE, so that tests see both the release at lodging and the
/// officer's control.
pub fn reference_transit() -> crate::transit::TransitSettings {
    static SCHEMAS: std::sync::OnceLock<Option<Arc<portorium_declarations::SchemaSet>>> =
        std::sync::OnceLock::new();
    let dir = reference_ncts_xsd_dir();
    let schemas = SCHEMAS
        .get_or_init(|| {
            dir.as_deref()
                .and_then(|d| portorium_declarations::SchemaSet::load(d).ok())
                .map(Arc::new)
        })
        .clone();
    crate::transit::TransitSettings::new(
        dir,
        crate::transit::Lane::Green,
        [("DE".to_owned(), crate::transit::Lane::Yellow)].into(),
    )
    .with_schemas(schemas)
}

/// HMRC's TT_IM001a import (`wco-dms/examples/TT_IM001a/Step1_TT_IM001a.xml`, passed in as
/// text: the reference data is read by the tests, never copied), made a Dutch import of the
/// demo trader `NL000000001` with the LRN `lrn`: navel oranges (0805102200 from Morocco,
/// 100 kg, 1000 EUR; 16 % third-country duty) under the demo's FCFS preferential quota
/// 091234 (0 % in quota).
pub fn dms_nl_import(tt_im001a: &str, lrn: &str) -> String {
    tt_im001a
        .replace("<ID>GB603202734852</ID>", "<ID>NL000000001</ID>")
        .replace(
            "<CountryCode>GB</CountryCode>",
            "<CountryCode>NL</CountryCode>",
        )
        .replace(
            "<md:ResponsibleCountryCode>GB",
            "<md:ResponsibleCountryCode>NL",
        )
        .replace("<ID>85109000</ID>", "<ID>08051022</ID>")
        .replace(
            "<CountryCode>US</CountryCode>",
            "<CountryCode>MA</CountryCode>",
        )
        .replace(
            "<DutyRegimeCode>100</DutyRegimeCode>",
            "<DutyRegimeCode>320</DutyRegimeCode>",
        )
        .replace("currencyID=\"GBP\"", "currencyID=\"EUR\"")
        .replace(
            "<FunctionalReferenceID>7847767E1WB6</FunctionalReferenceID>",
            &format!("<FunctionalReferenceID>{lrn}</FunctionalReferenceID>"),
        )
        .replacen(
            "<DutyTaxFee>",
            "<DutyTaxFee><QuotaOrderID>091234</QuotaOrderID></DutyTaxFee><DutyTaxFee>",
            1,
        )
}

/// [`dms_nl_import`] made fresh beef (0201300000) under the demo's quota 091104, which is not
/// cleared at lodging: it waits for an officer (`under_control`).
pub fn dms_nl_beef(tt_im001a: &str, lrn: &str) -> String {
    dms_nl_import(tt_im001a, lrn)
        .replace("<ID>08051022</ID>", "<ID>02013000</ID>")
        .replace(
            "<QuotaOrderID>091234</QuotaOrderID>",
            "<QuotaOrderID>091104</QuotaOrderID>",
        )
}

/// `$PORTORIUM_REFERENCE/ncts-p5/xsd` (default `../shared/reference`), when present.
pub fn reference_ncts_xsd_dir() -> Option<std::path::PathBuf> {
    let bases: Vec<std::path::PathBuf> = match std::env::var_os("PORTORIUM_REFERENCE") {
        Some(b) => vec![b.into()],
        None => vec![
            "../shared/reference".into(),
            "../../../shared/reference".into(),
        ],
    };
    bases
        .into_iter()
        .map(|b| b.join("ncts-p5/xsd"))
        .find(|p| crate::transit::is_xsd_dir(p))
}

/// `$PORTORIUM_REFERENCE/tariff/taric3/taric3.xsd` (default `../shared/reference`, seen from
/// the workspace root or a crate directory), when present.
pub fn reference_taric3_xsd() -> Option<std::path::PathBuf> {
    let bases: Vec<std::path::PathBuf> = match std::env::var_os("PORTORIUM_REFERENCE") {
        Some(b) => vec![b.into()],
        None => vec![
            "../shared/reference".into(),
            "../../../shared/reference".into(),
        ],
    };
    bases
        .into_iter()
        .map(|b| b.join("tariff/taric3/taric3.xsd"))
        .find(|p| p.exists())
}
