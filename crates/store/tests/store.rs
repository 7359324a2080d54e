//! Store tests. Each test runs on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use portorium_audit::{CheckpointSigner, Outcome};
use portorium_kernel::*;
use portorium_store::testing::TestDb;
use portorium_store::*;
use std::sync::Arc;

async fn seeded(db: &TestDb) -> Store {
    let store = db.open().await.unwrap();
    for (code, name) in [("NL", "Netherlands"), ("DE", "Germany")] {
        store
            .create_tenant(&code.parse().unwrap(), name, &"EUR".parse().unwrap())
            .await
            .unwrap();
    }
    store
        .create_office(
            &"NL".parse().unwrap(),
            &"NL000396".parse().unwrap(),
            "Rotterdam",
        )
        .await
        .unwrap();
    store
        .create_office(
            &"DE".parse().unwrap(),
            &"DE004058".parse().unwrap(),
            "Hamburg",
        )
        .await
        .unwrap();
    store
        .create_agency(
            &"NL".parse().unwrap(),
            &"NVWA".parse().unwrap(),
            "Food safety",
        )
        .await
        .unwrap();
    store
        .create_agency(&"NL".parse().unwrap(), &"ILT".parse().unwrap(), "Transport")
        .await
        .unwrap();
    store
        .register_trader(&"NL000000001".parse().unwrap(), "Holland Imports BV")
        .await
        .unwrap();
    store
        .register_trader(&"DE000000002".parse().unwrap(), "Hanse Handel GmbH")
        .await
        .unwrap();
    store
}

fn scope(p: &str) -> Scope {
    Scope::of(&p.parse().unwrap())
}

#[tokio::test]
async fn identity_rows_validate_and_conflict() {
    for db in TestDb::all().await.unwrap() {
        let store = seeded(&db).await;
        let nl: TenantCode = "NL".parse().unwrap();
        // Duplicate tenant and office are conflicts, not database errors.
        let e = store
            .create_tenant(&nl, "x", &"EUR".parse().unwrap())
            .await
            .unwrap_err();
        assert!(
            matches!(e, StoreError::Conflict { .. }),
            "{}: {e}",
            db.label
        );
        let e = store
            .create_office(&nl, &"DE000001".parse().unwrap(), "x")
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Invalid(_)), "{}: {e}", db.label);
        // An officer's office must belong to its administration.
        let e = store
            .create_principal(&NewPrincipal {
                id: "officer:NL/x".parse().unwrap(),
                display_name: "X".into(),
                office: Some("DE004058".parse().unwrap()),
                roles: vec![],
                password_hash: None,
            })
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Invalid(_)), "{}: {e}", db.label);
        // An agency user needs an existing agency.
        let e = store
            .create_principal(&NewPrincipal {
                id: "agency:NL/NOPE/x".parse().unwrap(),
                display_name: "X".into(),
                office: None,
                roles: vec![],
                password_hash: None,
            })
            .await
            .unwrap_err();
        assert!(
            matches!(e, StoreError::NotFound { .. }),
            "{}: {e}",
            db.label
        );
        // A trader's EORI must be issued by an administration of the deployment.
        let e = store
            .register_trader(&"FR123".parse().unwrap(), "x")
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Invalid(_)), "{}: {e}", db.label);
        let p = store
            .get_principal(&"trader:NL000000001".parse().unwrap())
            .await
            .unwrap();
        assert_eq!(p.kind, PrincipalKind::Trader);
    }
}

#[tokio::test]
async fn tenant_scoping_is_enforced_in_the_store() {
    for db in TestDb::all().await.unwrap() {
        let store = seeded(&db).await;
        let nl_officer: PrincipalId = "officer:NL/jdevries".parse().unwrap();
        let nl = store.scoped(scope("officer:NL/jdevries"));
        let de = store.scoped(scope("officer:DE/mmueller"));
        let (offices, _) = nl.list_offices(&Page::first(50)).await.unwrap();
        assert_eq!(offices.len(), 1);
        assert_eq!(offices[0].reference.as_str(), "NL000396");
        assert!(nl.get_office(&"DE004058".parse().unwrap()).await.is_err());
        assert!(de.get_office(&"NL000396".parse().unwrap()).await.is_err());
        // Traders: each administration sees its own registry; a trader only itself.
        assert!(nl
            .get_trader(&"DE000000002".parse().unwrap())
            .await
            .is_err());
        let t = store.scoped(scope("trader:NL000000001"));
        assert_eq!(t.list_traders(&Page::first(10)).await.unwrap().0.len(), 1);
        assert!(t.get_trader(&"DE000000002".parse().unwrap()).await.is_err());
        // NL cannot register a German EORI.
        assert!(matches!(
            nl.register_trader(&"DE999".parse().unwrap(), "x").await,
            Err(StoreError::OutOfScope(_))
        ));
        // Messages: the addressee alone (and the sending administration) sees a message.
        let m1 = nl
            .send_message(
                &nl_officer,
                &NewMessage {
                    addressee: "trader:NL000000001".into(),
                    subject: "Documents".into(),
                    body: "Please send the invoice".into(),
                },
            )
            .await
            .unwrap();
        let m2 = nl
            .send_message(
                &nl_officer,
                &NewMessage {
                    addressee: "agency:NL/NVWA".into(),
                    subject: "Check".into(),
                    body: "Sample request".into(),
                },
            )
            .await
            .unwrap();
        // NL cannot address a German trader or an unknown agency.
        assert!(nl
            .send_message(
                &nl_officer,
                &NewMessage {
                    addressee: "trader:DE000000002".into(),
                    subject: "x".into(),
                    body: "x".into(),
                }
            )
            .await
            .is_err());
        let check = |who: &str, expected: &[&str]| {
            let who = who.to_owned();
            let expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
            let store = store.clone();
            async move {
                let s = store.scoped(scope(&who));
                let (msgs, _) = s.list_messages(&Page::first(50)).await.unwrap();
                let mut got: Vec<String> = msgs.iter().map(|m| m.id.clone()).collect();
                got.sort();
                let mut exp = expected.clone();
                exp.sort();
                assert_eq!(got, exp, "{who} sees");
            }
        };
        check("trader:NL000000001", &[&m1.id]).await;
        check("trader:DE000000002", &[]).await;
        check("agency:NL/NVWA/pbakker", &[&m2.id]).await;
        check("agency:NL/ILT/someone", &[]).await;
        check("officer:NL/jdevries", &[&m1.id, &m2.id]).await;
        check("officer:DE/mmueller", &[]).await;
        let de_trader = store.scoped(scope("trader:DE000000002"));
        assert!(de_trader.get_message(&m1.id).await.is_err());
        assert!(de.get_message(&m1.id).await.is_err());
        // The outbox holds both events, committed with the rows.
        let events = store.outbox_pending(10).await.unwrap();
        assert_eq!(events.len(), 2, "{}", db.label);
        assert_eq!(events[0].topic, "message.sent");
        store.outbox_mark_published(&[events[0].id]).await.unwrap();
        assert_eq!(store.outbox_pending(10).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn outbox_rolls_back_with_the_change() {
    for db in TestDb::all().await.unwrap() {
        let store = seeded(&db).await;
        let mut tx = store.begin().await.unwrap();
        sqlx::query("INSERT INTO settings (name, value) VALUES ('x', '1')")
            .execute(tx.conn())
            .await
            .unwrap();
        tx.emit(None, "x.changed", &serde_json::json!({"x": 1}))
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(store.setting("x").await.unwrap(), None);
        assert!(store.outbox_pending(10).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn tokens_expire_and_revoke() {
    for db in TestDb::all().await.unwrap() {
        let clock = Arc::new(FixedClock::new(
            chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        ));
        let store = db
            .open_with(clock.clone(), Arc::new(SeqIdGen::default()))
            .await
            .unwrap();
        store
            .create_tenant(&"NL".parse().unwrap(), "NL", &"EUR".parse().unwrap())
            .await
            .unwrap();
        store
            .register_trader(&"NL000000001".parse().unwrap(), "T")
            .await
            .unwrap();
        let p: PrincipalId = "trader:NL000000001".parse().unwrap();
        let expires = clock.now() + chrono::Duration::hours(1);
        let t = store
            .insert_token(&p, Circle::Trader, "h1", Some("ci"), Some(expires))
            .await
            .unwrap();
        let v = store.verify_token("h1").await.unwrap().unwrap();
        assert_eq!(v.principal.id, p);
        assert_eq!(v.circle, Circle::Trader);
        assert!(store.verify_token("nope").await.unwrap().is_none());
        clock.advance(chrono::Duration::hours(2));
        assert!(store.verify_token("h1").await.unwrap().is_none(), "expired");
        store
            .insert_token(&p, Circle::Trader, "h2", None, None)
            .await
            .unwrap();
        assert!(store.verify_token("h2").await.unwrap().is_some());
        let (all, _) = store.list_tokens(&Page::first(10)).await.unwrap();
        let t2 = all.iter().find(|x| x.id != t.id).unwrap();
        let revoked = store.revoke_token(&t2.id).await.unwrap();
        assert!(revoked.revoked_at.is_some());
        assert!(store.verify_token("h2").await.unwrap().is_none(), "revoked");
    }
}

#[tokio::test]
async fn idempotency_keys() {
    for db in TestDb::all().await.unwrap() {
        let store = db.open().await.unwrap();
        assert_eq!(
            store.idempotency_begin("p", "k", "h").await.unwrap(),
            IdempotencyOutcome::Proceed
        );
        assert_eq!(
            store.idempotency_begin("p", "k", "h").await.unwrap(),
            IdempotencyOutcome::InProgress
        );
        let resp = StoredResponse {
            status: 201,
            body: "{\"a\":1}".into(),
        };
        store.idempotency_complete("p", "k", &resp).await.unwrap();
        assert_eq!(
            store.idempotency_begin("p", "k", "h").await.unwrap(),
            IdempotencyOutcome::Replay(resp)
        );
        assert_eq!(
            store.idempotency_begin("p", "k", "other").await.unwrap(),
            IdempotencyOutcome::Mismatch
        );
        // Keys are per principal.
        assert_eq!(
            store.idempotency_begin("q", "k", "other").await.unwrap(),
            IdempotencyOutcome::Proceed
        );
        store.idempotency_abandon("q", "k").await.unwrap();
        assert_eq!(
            store.idempotency_begin("q", "k", "x").await.unwrap(),
            IdempotencyOutcome::Proceed
        );
    }
}

fn record(i: usize, tenant: &str) -> AuditRecord {
    AuditRecord {
        principal: Some("officer:NL/jdevries".into()),
        tenant: Some(tenant.into()),
        circle: Some("administration".into()),
        action: format!("test.action.{i}"),
        resource: format!("thing/{i}"),
        outcome: Some(Outcome::Success),
        request_id: Some(format!("req-{i}")),
        payload_hash: None,
        detail: None,
    }
}

fn signer() -> Arc<CheckpointSigner> {
    Arc::new(CheckpointSigner::from_seed([7u8; 32]))
}

async fn filled_log(store: &Store, n: usize) -> AuditLog {
    let cfg = AuditLogConfig {
        checkpoint_every: 10,
        ..AuditLogConfig::default()
    };
    let log = AuditLog::start(store.clone(), signer(), cfg);
    let mut seqs = Vec::new();
    // Concurrent waves of appends: each wave is group-committed, and checkpoints follow.
    for wave in (0..n).collect::<Vec<_>>().chunks(12) {
        let mut handles = Vec::new();
        for &i in wave {
            let log = log.clone();
            handles.push(tokio::spawn(async move {
                log.append(record(i, if i % 2 == 0 { "NL" } else { "DE" }))
                    .await
                    .unwrap()
            }));
        }
        for h in handles {
            seqs.push(h.await.unwrap());
        }
    }
    seqs.sort();
    assert_eq!(
        seqs,
        (0..n as u64).collect::<Vec<_>>(),
        "every append gets a distinct seq"
    );
    log.checkpoint().await.unwrap();
    log
}

async fn verify(
    store: &Store,
) -> std::result::Result<portorium_audit::VerifyReport, portorium_audit::VerifyFailure> {
    verify_log(store, signer().verifying_key(), "portorium/audit")
        .await
        .unwrap()
}

#[tokio::test]
async fn audit_log_appends_proves_and_verifies() {
    for db in TestDb::all().await.unwrap() {
        let store = db.open().await.unwrap();
        let log = filled_log(&store, 57).await;
        let cp = log.latest_checkpoint().await.unwrap().unwrap();
        assert_eq!(cp.checkpoint.size, 57);
        assert!(cp.verify(&signer().verifying_key()));
        let report = verify(&store).await.unwrap();
        assert_eq!(report.entries, 57);
        assert_eq!(report.root, cp.checkpoint.root);
        for seq in [0u64, 1, 31, 32, 56] {
            let p = log.inclusion_proof(seq, None).await.unwrap();
            let hashes: Vec<[u8; 32]> = p
                .hashes
                .iter()
                .map(|h| hex::decode(h).unwrap().try_into().unwrap())
                .collect();
            let leaf: [u8; 32] = log.entry(seq).await.unwrap().leaf_hash();
            assert!(
                portorium_audit::verify_inclusion(&leaf, seq, 57, &hashes, &cp.checkpoint.root),
                "{} seq {seq}",
                db.label
            );
        }
        let older = log.checkpoints(&Page::first(100)).await.unwrap().0;
        assert!(older.len() >= 2, "periodic checkpoints were written");
        let old = older.last().unwrap().checkpoint.clone();
        let c = log.consistency_proof(old.size, None).await.unwrap();
        let hashes: Vec<[u8; 32]> = c
            .hashes
            .iter()
            .map(|h| hex::decode(h).unwrap().try_into().unwrap())
            .collect();
        assert!(portorium_audit::verify_consistency(
            old.size,
            57,
            &old.root,
            &cp.checkpoint.root,
            &hashes
        ));
        // Tenant filter on entries.
        let (nl, _) = log.entries(Some("NL"), &Page::first(100)).await.unwrap();
        assert_eq!(nl.len(), 29);
        assert!(log.inclusion_proof(57, None).await.is_err());
    }
}

#[tokio::test]
async fn audit_tampering_is_detected() {
    // (change, delete, reorder, truncate, rewrite-with-recomputed-hash)
    let cases: &[(&str, &str, Option<u64>)] = &[
        ("change", "UPDATE audit_entries SET action = 'forged' WHERE seq = 13", Some(13)),
        ("delete", "DELETE FROM audit_entries WHERE seq = 20", Some(20)),
        (
            "reorder",
            "UPDATE audit_entries SET action = CASE seq WHEN 5 THEN 'test.action.6' WHEN 6 THEN 'test.action.5' END, \
             resource = CASE seq WHEN 5 THEN 'thing/6' WHEN 6 THEN 'thing/5' END, \
             request_id = CASE seq WHEN 5 THEN 'req-6' WHEN 6 THEN 'req-5' END, \
             tenant = CASE seq WHEN 5 THEN 'NL' WHEN 6 THEN 'DE' END WHERE seq IN (5, 6)",
            Some(5),
        ),
        ("truncate", "DELETE FROM audit_entries WHERE seq >= 30", Some(30)),
    ];
    for (name, sql, bad) in cases {
        for db in TestDb::all().await.unwrap() {
            let store = db.open().await.unwrap();
            let log = filled_log(&store, 40).await;
            drop(log);
            assert!(verify(&store).await.is_ok());
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
                .await
                .unwrap();
            sqlx::Executor::execute(&mut conn, *sql).await.unwrap();
            let failure = verify(&store).await.expect_err(name);
            assert_eq!(
                failure.first_bad_seq, *bad,
                "{name} on {}: {}",
                db.label, failure.reason
            );
        }
    }
}

// ---- tariff layers ----

fn upsert(kind: &str, key: &str, payload: serde_json::Value) -> RecordChange {
    RecordChange::Upsert(NewTariffRecord {
        kind: kind.into(),
        key: key.into(),
        valid_from: chrono::NaiveDate::from_ymd_opt(2026, 1, 1),
        valid_to: None,
        payload,
    })
}

fn delete(kind: &str, key: &str) -> RecordChange {
    RecordChange::Delete {
        kind: kind.into(),
        key: key.into(),
    }
}

fn no_progress(_: usize) {}

/// Every stored version of a layer (current and superseded).
async fn version_count(db: &TestDb, layer: &str) -> i64 {
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tariff_records WHERE layer = $1")
        .bind(layer)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    n
}

/// A store whose clock does not move: import history must not depend on timestamps.
async fn tariff_store(db: &TestDb) -> Store {
    let clock = Arc::new(FixedClock::new(
        chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
    ));
    let store = db
        .open_with(clock, Arc::new(SeqIdGen::default()))
        .await
        .unwrap();
    store
        .create_tenant(
            &"NL".parse().unwrap(),
            "Netherlands",
            &"EUR".parse().unwrap(),
        )
        .await
        .unwrap();
    store
}

#[tokio::test]
async fn tariff_layers_import_update_delete_and_history() {
    for db in TestDb::all().await.unwrap() {
        let store = tariff_store(&db).await;
        let common = TariffLayer::Common;
        let nl: TariffLayer = "NL".parse().unwrap();
        assert_eq!("common".parse::<TariffLayer>().unwrap(), common);
        assert_eq!(nl.to_string(), "NL");
        assert!("nope".parse::<TariffLayer>().is_err());

        let first = store
            .tariff_import(
                &common,
                "taric-2026-01.xml",
                "taric3",
                &[
                    upsert("measure", "m1", serde_json::json!({"duty": "4%"})),
                    upsert("measure", "m2", serde_json::json!({"duty": "2%"})),
                    upsert("goods.nomenclature", "0101210000", serde_json::json!({})),
                    upsert(
                        "geographical.area",
                        "1011",
                        serde_json::json!({"d": "ERGA OMNES"}),
                    ),
                ],
                &no_progress,
            )
            .await
            .unwrap();
        assert_eq!(
            (first.inserted, first.updated, first.deleted),
            (4, 0, 0),
            "{}",
            db.label
        );
        assert_eq!(first.status, "committed");
        assert_eq!(first.layer, "common");
        // The national layer is independent, even for the same kind and key.
        let national = store
            .tariff_import(
                &nl,
                "nl.csv",
                "csv",
                &[
                    upsert("measure", "m1", serde_json::json!({"excise": "NL"})),
                    upsert("measure", "nl-1", serde_json::json!({"excise": "x"})),
                ],
                &no_progress,
            )
            .await
            .unwrap();
        assert_eq!(national.inserted, 2);
        assert_eq!(store.tariff_records(&common, None).await.unwrap().len(), 4);
        assert_eq!(store.tariff_records(&nl, None).await.unwrap().len(), 2);
        let measures = store
            .tariff_records(&common, Some("measure"))
            .await
            .unwrap();
        assert_eq!(
            measures.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
            ["m1", "m2"]
        );
        // (kind, key) order across kinds.
        let all = store.tariff_records(&common, None).await.unwrap();
        assert_eq!(
            all.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>(),
            [
                "geographical.area",
                "goods.nomenclature",
                "measure",
                "measure"
            ]
        );
        assert_eq!(all[2].import_id, first.id);
        assert_eq!(
            all[2].valid_from,
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
        );

        // Update m1, delete m2, insert m3; a key inserted and deleted in the same import
        // leaves nothing.
        let second = store
            .tariff_import(
                &common,
                "taric-2026-02.xml",
                "taric3",
                &[
                    upsert("measure", "m1", serde_json::json!({"duty": "5%"})),
                    delete("measure", "m2"),
                    upsert("measure", "m3", serde_json::json!({"duty": "0%"})),
                    upsert("measure", "tmp", serde_json::json!({})),
                    delete("measure", "tmp"),
                ],
                &no_progress,
            )
            .await
            .unwrap();
        assert_eq!(
            (second.inserted, second.updated, second.deleted),
            (1, 1, 1),
            "{}",
            db.label
        );
        let measures = store
            .tariff_records(&common, Some("measure"))
            .await
            .unwrap();
        assert_eq!(
            measures.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
            ["m1", "m3"]
        );
        assert_eq!(measures[0].payload, serde_json::json!({"duty": "5%"}));
        assert_eq!(measures[0].import_id, second.id);
        // History is kept: m1 twice and the deleted m2 (4 + m1' + m3).
        assert_eq!(version_count(&db, "common").await, 6, "{}", db.label);
        // The national layer did not move.
        assert_eq!(
            store.tariff_records(&nl, Some("measure")).await.unwrap()[0].payload,
            serde_json::json!({"excise": "NL"})
        );
        // Newest first (the clock stands still, so this is not ordered by time).
        let history = store.tariff_imports(&common).await.unwrap();
        assert_eq!(
            history.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
            [second.id.as_str(), first.id.as_str()]
        );
        assert_eq!(history[0], second);
        assert_eq!(store.tariff_imports(&nl).await.unwrap(), [national]);
    }
}

#[tokio::test]
async fn tariff_import_is_all_or_nothing() {
    for db in TestDb::all().await.unwrap() {
        let store = tariff_store(&db).await;
        let layer = TariffLayer::Common;
        store
            .tariff_import(
                &layer,
                "a",
                "csv",
                &[upsert("measure", "m1", serde_json::json!({"v": 1}))],
                &no_progress,
            )
            .await
            .unwrap();
        let before = store.tariff_records(&layer, None).await.unwrap();
        let versions = version_count(&db, "common").await;
        let mut changes: Vec<RecordChange> = (0..1500)
            .map(|i| upsert("measure", &format!("n{i}"), serde_json::json!({"i": i})))
            .collect();
        changes.insert(1, upsert("measure", "m1", serde_json::json!({"v": 2})));
        changes.insert(700, delete("goods.nomenclature", "9999999999"));
        let e = store
            .tariff_import(&layer, "b", "csv", &changes, &no_progress)
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Invalid(_)), "{}: {e}", db.label);
        let msg = e.to_string();
        assert!(
            msg.contains("goods.nomenclature") && msg.contains("9999999999"),
            "{msg}"
        );
        assert_eq!(store.tariff_records(&layer, None).await.unwrap(), before);
        assert_eq!(version_count(&db, "common").await, versions);
        assert_eq!(store.tariff_imports(&layer).await.unwrap().len(), 1);
        // Deleting twice in one import is refused the same way.
        let e = store
            .tariff_import(
                &layer,
                "c",
                "csv",
                &[delete("measure", "m1"), delete("measure", "m1")],
                &no_progress,
            )
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Invalid(_)), "{}: {e}", db.label);
        assert_eq!(store.tariff_records(&layer, None).await.unwrap(), before);
        // A national layer needs its administration.
        let e = store
            .tariff_import(
                &"FR".parse().unwrap(),
                "fr.csv",
                "csv",
                &[upsert("measure", "m1", serde_json::json!({}))],
                &no_progress,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, StoreError::NotFound { .. }),
            "{}: {e}",
            db.label
        );
        assert!(store
            .tariff_imports(&"FR".parse().unwrap())
            .await
            .unwrap()
            .is_empty());
    }
}

#[tokio::test]
async fn tariff_rollback_restores_the_previous_state() {
    for db in TestDb::all().await.unwrap() {
        let store = tariff_store(&db).await;
        let layer: TariffLayer = "NL".parse().unwrap();
        let first = store
            .tariff_import(
                &layer,
                "a",
                "csv",
                &[
                    upsert("measure", "m1", serde_json::json!({"v": 1})),
                    upsert("measure", "m2", serde_json::json!({"v": 1})),
                    upsert("measure", "m3", serde_json::json!({"v": 1})),
                ],
                &no_progress,
            )
            .await
            .unwrap();
        let after_first = store.tariff_records(&layer, None).await.unwrap();
        let second = store
            .tariff_import(
                &layer,
                "b",
                "csv",
                &[
                    upsert("measure", "m1", serde_json::json!({"v": 2})),
                    delete("measure", "m2"),
                    upsert("measure", "m4", serde_json::json!({"v": 2})),
                ],
                &no_progress,
            )
            .await
            .unwrap();
        let after_second = store.tariff_records(&layer, None).await.unwrap();
        assert_ne!(after_second, after_first);
        // Only the latest committed import may be rolled back.
        let e = store.tariff_rollback(&first.id).await.unwrap_err();
        assert!(matches!(e, StoreError::Invalid(_)), "{}: {e}", db.label);
        assert_eq!(
            store.tariff_records(&layer, None).await.unwrap(),
            after_second
        );
        assert!(matches!(
            store.tariff_rollback("no-such-import").await,
            Err(StoreError::NotFound { .. })
        ));

        let undone = store.tariff_rollback(&second.id).await.unwrap();
        assert_eq!(undone.status, "rolled_back");
        assert!(undone.rolled_back_at.is_some());
        assert_eq!(
            store.tariff_records(&layer, None).await.unwrap(),
            after_first,
            "{}",
            db.label
        );
        assert_eq!(version_count(&db, "NL").await, 3);
        let history = store.tariff_imports(&layer).await.unwrap();
        assert_eq!(history[0], undone);
        assert_eq!(history[1].status, "committed");
        assert!(store.tariff_rollback(&second.id).await.is_err());

        // A new import after the rollback, then its rollback, then the first one's.
        let third = store
            .tariff_import(
                &layer,
                "c",
                "csv",
                &[upsert("measure", "m1", serde_json::json!({"v": 3}))],
                &no_progress,
            )
            .await
            .unwrap();
        assert_eq!(third.updated, 1);
        store.tariff_rollback(&third.id).await.unwrap();
        assert_eq!(
            store.tariff_records(&layer, None).await.unwrap(),
            after_first
        );
        store.tariff_rollback(&first.id).await.unwrap();
        assert!(store.tariff_records(&layer, None).await.unwrap().is_empty());
        assert_eq!(version_count(&db, "NL").await, 0);
        let statuses: Vec<String> = store
            .tariff_imports(&layer)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.status)
            .collect();
        assert_eq!(statuses, ["rolled_back", "rolled_back", "rolled_back"]);
    }
}

#[tokio::test]
async fn exchange_rates_by_month() {
    for db in TestDb::all().await.unwrap() {
        let store = db.open().await.unwrap();
        let usd: CurrencyCode = "USD".parse().unwrap();
        let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let rate = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
        assert_eq!(
            store.exchange_rate(&usd, d(2026, 3, 15)).await.unwrap(),
            None
        );
        store
            .set_exchange_rate(&usd, d(2026, 3, 1), rate("1.0842"))
            .await
            .unwrap();
        store
            .set_exchange_rate(&usd, d(2026, 4, 1), rate("1.0901"))
            .await
            .unwrap();
        assert_eq!(
            store.exchange_rate(&usd, d(2026, 3, 31)).await.unwrap(),
            Some((d(2026, 3, 1), rate("1.0842"))),
            "{}",
            db.label
        );
        assert_eq!(
            store.exchange_rate(&usd, d(2026, 4, 1)).await.unwrap(),
            Some((d(2026, 4, 1), rate("1.0901")))
        );
        assert_eq!(
            store.exchange_rate(&usd, d(2026, 5, 1)).await.unwrap(),
            None
        );
        assert_eq!(
            store
                .exchange_rate(&"GBP".parse().unwrap(), d(2026, 3, 1))
                .await
                .unwrap(),
            None
        );
        // Update.
        store
            .set_exchange_rate(&usd, d(2026, 3, 1), rate("1.08425"))
            .await
            .unwrap();
        assert_eq!(
            store.exchange_rate(&usd, d(2026, 3, 2)).await.unwrap(),
            Some((d(2026, 3, 1), rate("1.08425")))
        );
        assert!(matches!(
            store
                .set_exchange_rate(&usd, d(2026, 3, 2), rate("1"))
                .await,
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            store
                .set_exchange_rate(&usd, d(2026, 3, 1), rate("0"))
                .await,
            Err(StoreError::Invalid(_))
        ));
    }
}

#[tokio::test]
async fn tariff_import_of_20000_records() {
    for db in TestDb::all().await.unwrap() {
        let store = tariff_store(&db).await;
        let layer = TariffLayer::Common;
        let n = 20_000;
        let changes: Vec<RecordChange> = (0..n)
            .map(|i| {
                upsert(
                    if i % 4 == 0 {
                        "goods.nomenclature"
                    } else {
                        "measure"
                    },
                    &format!("{i:010}"),
                    serde_json::json!({"duty": format!("{}%", i % 17), "geo": "1011", "i": i}),
                )
            })
            .collect();
        let calls = std::sync::Mutex::new(Vec::new());
        let progress = |done: usize| calls.lock().unwrap().push(done);
        let started = std::time::Instant::now();
        let import = store
            .tariff_import(&layer, "big", "test", &changes, &progress)
            .await
            .unwrap();
        let insert_time = started.elapsed();
        assert_eq!(import.inserted, n as i64);
        let calls = calls.into_inner().unwrap();
        assert!(calls.len() >= 19, "{calls:?}");
        assert_eq!(calls.last(), Some(&(n as usize)));
        // Again, as an update of every record.
        let started = std::time::Instant::now();
        let update = store
            .tariff_import(&layer, "big2", "test", &changes, &no_progress)
            .await
            .unwrap();
        let update_time = started.elapsed();
        assert_eq!(update.updated, n as i64);
        let started = std::time::Instant::now();
        let records = store.tariff_records(&layer, None).await.unwrap();
        let read_time = started.elapsed();
        assert_eq!(records.len(), n as usize);
        let started = std::time::Instant::now();
        store.tariff_rollback(&update.id).await.unwrap();
        let rollback_time = started.elapsed();
        eprintln!(
            "{}: import of {n} records {insert_time:?}, update {update_time:?}, read {read_time:?}, rollback {rollback_time:?}",
            db.label
        );
        assert_eq!(version_count(&db, "common").await, n as i64);
    }
}

// ---- quotas ----

fn q(s: &str) -> rust_decimal::Decimal {
    s.parse().unwrap()
}

fn opening(sid: u64, volume: &str) -> QuotaOpening {
    QuotaOpening {
        order_number: "091104".into(),
        definition_sid: sid,
        volume: q(volume),
        opening_balance: q(volume),
    }
}

fn allocation_request(quantity: rust_decimal::Decimal) -> NewAllocationRequest {
    NewAllocationRequest {
        quantity,
        unit: "TNE".into(),
        accepted_at: "2026-06-15T10:00:00Z".parse().unwrap(),
        declaration_reference: Some("26NL0000000000001".into()),
    }
}

/// The FCFS rule the tariff crate implements, restated for the store tests: grant what is
/// asked, or what is left.
fn fcfs(
    requested: rust_decimal::Decimal,
) -> impl FnOnce(rust_decimal::Decimal) -> std::result::Result<rust_decimal::Decimal, &'static str>
{
    move |balance| {
        if balance <= rust_decimal::Decimal::ZERO {
            Err("exhausted")
        } else {
            Ok(requested.min(balance))
        }
    }
}

/// The history is complete and consistent: seq 0..=version, each balance the previous plus
/// its delta, the last one the stored balance.
async fn check_history(store: &Store, tenant: &TenantCode, sid: u64) -> Vec<QuotaHistoryRow> {
    let mut all = Vec::new();
    let mut page = Page::first(7);
    loop {
        let (rows, next) = store
            .quota_balance_history(tenant, sid, &page)
            .await
            .unwrap();
        all.extend(rows);
        match next {
            Some(n) => page.after = Some(n),
            None => break,
        }
    }
    let balance = store.quota_balance(tenant, sid).await.unwrap().unwrap();
    let mut running = rust_decimal::Decimal::ZERO;
    for (i, h) in all.iter().enumerate() {
        assert_eq!(h.seq, i as i64);
        running += h.delta;
        assert_eq!(h.balance_after, running, "seq {}", h.seq);
    }
    assert_eq!(all.len() as i64, balance.version + 1);
    assert_eq!(running, balance.balance);
    assert_eq!(all[0].reason, "opening");
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quota_drawing_is_exact_under_concurrency() {
    const TASKS: usize = 64;
    for db in TestDb::all().await.unwrap() {
        let store = seeded(&db).await;
        let nl: TenantCode = "NL".parse().unwrap();
        let volume = q("100.000");
        let mut handles = Vec::new();
        for i in 0..TASKS {
            let store = store.clone();
            handles.push(tokio::spawn(async move {
                // 0.500 to 4.375 TNE: 64 requests ask for about 156 of 100.
                let quantity = rust_decimal::Decimal::new(500 + (i as i64 * 61) % 3876, 3);
                let by: PrincipalId = "system:NL/ncts-nl".parse().unwrap();
                let scoped = store.scoped(Scope::of(&by));
                let out = scoped
                    .quota_draw(
                        &by,
                        &opening(22, "100.000"),
                        &allocation_request(quantity),
                        fcfs(quantity),
                    )
                    .await
                    .unwrap();
                (quantity, out)
            }));
        }
        let mut requested = rust_decimal::Decimal::ZERO;
        let mut granted = rust_decimal::Decimal::ZERO;
        let (mut served, mut refused, mut partial) = (0, 0, 0);
        for h in handles {
            let (quantity, out) = h.await.unwrap();
            requested += quantity;
            match out {
                Ok(row) => {
                    assert!(row.granted > rust_decimal::Decimal::ZERO && row.granted <= quantity);
                    if row.status == "partially_allocated" {
                        partial += 1;
                    }
                    granted += row.granted;
                    served += 1;
                }
                Err(e) => {
                    assert_eq!(e, "exhausted");
                    refused += 1;
                }
            }
        }
        assert!(
            requested > volume,
            "the test must ask for more than the volume"
        );
        assert_eq!(granted, requested.min(volume), "{}", db.label);
        assert_eq!(served + refused, TASKS);
        assert!(partial <= 1, "{}: {partial} partial allocations", db.label);
        let balance = store.quota_balance(&nl, 22).await.unwrap().unwrap();
        assert_eq!(balance.balance, rust_decimal::Decimal::ZERO);
        assert_eq!(balance.allocated, volume);
        let history = check_history(&store, &nl, 22).await;
        // The opening row and one row per allocation: refusals wrote nothing.
        assert_eq!(history.len(), served + 1, "{}", db.label);
        eprintln!(
            "{}: {TASKS} concurrent requests, {served} served ({partial} partially), {refused} refused",
            db.label
        );
    }
}

#[tokio::test]
async fn quota_returns_surveillance_and_scoping() {
    for db in TestDb::all().await.unwrap() {
        let store = seeded(&db).await;
        let nl: TenantCode = "NL".parse().unwrap();
        let by: PrincipalId = "officer:NL/jdevries".parse().unwrap();
        let scoped = store.scoped(Scope::of(&by));
        let open = opening(40, "10");
        let a = scoped
            .quota_draw(&by, &open, &allocation_request(q("6")), fcfs(q("6")))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((a.granted, a.status.as_str()), (q("6"), "allocated"));
        let b = scoped
            .quota_draw(&by, &open, &allocation_request(q("6")), fcfs(q("6")))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (b.granted, b.status.as_str()),
            (q("4"), "partially_allocated")
        );
        assert_eq!(
            scoped
                .quota_draw(&by, &open, &allocation_request(q("1")), fcfs(q("1")))
                .await
                .unwrap()
                .unwrap_err(),
            "exhausted"
        );
        // A grant beyond the balance is refused by the store whatever the decision says.
        let err = scoped
            .quota_draw(&by, &open, &allocation_request(q("1")), |_| {
                Ok::<_, ()>(q("1"))
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");

        // Returns: decided by the caller, bounded by the store.
        let credit = |qty: rust_decimal::Decimal| {
            move |c: ReturnContext| -> std::result::Result<rust_decimal::Decimal, &'static str> {
                if qty > c.returnable {
                    Err("exceeds allocation")
                } else {
                    Ok((c.balance + qty).min(c.volume) - c.balance)
                }
            }
        };
        let r = scoped
            .quota_return(&by, &open, &a.id, q("2.5"), credit(q("2.5")))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((r.credited, r.balance_after), (q("2.5"), q("2.5")));
        assert_eq!(
            scoped
                .quota_return(&by, &open, &a.id, q("3.6"), credit(q("3.6")))
                .await
                .unwrap()
                .unwrap_err(),
            "exceeds allocation"
        );
        let err = scoped
            .quota_return(&by, &open, &a.id, q("3.6"), |_| Ok::<_, ()>(q("3.6")))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
        let a2 = scoped.quota_allocation(&a.id).await.unwrap();
        assert_eq!((a2.granted, a2.returned), (q("6"), q("2.5")));
        assert_eq!(
            a2.declaration_reference.as_deref(),
            Some("26NL0000000000001")
        );

        // The tariff raises the volume to 12: the balance follows.
        let bigger = opening(40, "12");
        let c = scoped
            .quota_draw(&by, &bigger, &allocation_request(q("1")), fcfs(q("1")))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.balance_after, q("3.5"));
        let history = check_history(&store, &nl, 40).await;
        let reasons: Vec<&str> = history.iter().map(|h| h.reason.as_str()).collect();
        assert_eq!(
            reasons,
            vec![
                "opening",
                "allocation",
                "allocation",
                "return",
                "volume_change",
                "allocation"
            ]
        );
        assert_eq!(history[3].reference.as_deref(), Some(a.id.as_str()));

        // Surveillance.
        let s = scoped
            .quota_record_surveillance(
                &by,
                &NewSurveillance {
                    order_number: "094001".into(),
                    definition_sid: None,
                    quantity: q("12.5"),
                    unit: "TNE".into(),
                    imported_on: "2026-06-15".parse().unwrap(),
                    declaration_reference: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(scoped.quota_surveillance("094001").await.unwrap(), vec![s]);

        // Another administration sees none of it; a trader draws nothing.
        let de = store.scoped(scope("officer:DE/mmueller"));
        assert!(matches!(
            de.quota_allocation(&a.id).await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(de.quota_surveillance("094001").await.unwrap().is_empty());
        assert!(matches!(
            de.quota_return(
                &"officer:DE/mmueller".parse().unwrap(),
                &open,
                &a.id,
                q("1"),
                credit(q("1"))
            )
            .await,
            Err(StoreError::NotFound { .. })
        ));
        let de_tenant: TenantCode = "DE".parse().unwrap();
        assert!(store.quota_balance(&de_tenant, 40).await.unwrap().is_none());
        let trader = store.scoped(scope("trader:NL000000001"));
        assert!(matches!(
            trader
                .quota_draw(
                    &"trader:NL000000001".parse().unwrap(),
                    &open,
                    &allocation_request(q("1")),
                    fcfs(q("1"))
                )
                .await,
            Err(StoreError::OutOfScope(_))
        ));
        // The allocation and return events are in the outbox.
        let topics: Vec<String> = store
            .outbox_pending(100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.topic)
            .filter(|t| t.starts_with("quota."))
            .collect();
        assert_eq!(
            topics,
            vec![
                "quota.allocated",
                "quota.allocated",
                "quota.returned",
                "quota.allocated"
            ]
        );
    }
}

// ---- national measures ----

fn officer(p: &str) -> PrincipalId {
    p.parse().unwrap()
}

fn new_draft(sid: Option<u64>) -> NewMeasureDraft {
    NewMeasureDraft {
        operation: if sid.is_some() { "end" } else { "create" }.into(),
        target_sid: sid,
        payload: serde_json::json!({"operation": "create", "measure_type": "305"}),
    }
}

fn is_out_of_scope<T: std::fmt::Debug>(r: std::result::Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::OutOfScope(_)))
}

fn is_invalid_state<T: std::fmt::Debug>(r: std::result::Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::InvalidState(_)))
}

async fn heads(store: &Store) -> LayerHeads {
    let latest = |r: Option<TariffImportRow>| r.map(|r| (r.id, r.status));
    (
        latest(
            store
                .tariff_latest_import(&TariffLayer::Common)
                .await
                .unwrap(),
        ),
        latest(
            store
                .tariff_latest_import(&TariffLayer::Tenant("NL".parse().unwrap()))
                .await
                .unwrap(),
        ),
    )
}

#[tokio::test]
async fn national_measure_drafts_four_eyes_workflow() {
    for db in TestDb::all().await.unwrap() {
        let store = seeded(&db).await;
        let nl = store.scoped(scope("officer:NL/jdevries"));
        let drafter = officer("officer:NL/jdevries");
        let approver = officer("officer:NL/avandijk");

        let d = nl
            .create_measure_draft(&drafter, &new_draft(None))
            .await
            .unwrap();
        assert_eq!((d.status.as_str(), d.version), ("draft", 1), "{}", db.label);
        assert_eq!(d.drafted_by, "officer:NL/jdevries");
        assert_eq!(d.tenant.as_str(), "NL");

        // Only the drafter amends and submits; only a draft is amended.
        let other = new_draft(Some(7));
        assert!(is_out_of_scope(
            nl.amend_measure_draft(&d.id, &approver, None, &other).await
        ));
        let d = nl
            .amend_measure_draft(&d.id, &drafter, Some(1), &other)
            .await
            .unwrap();
        assert_eq!(
            (d.operation.as_str(), d.target_sid, d.version),
            ("end", Some(7), 2)
        );
        assert!(matches!(
            nl.amend_measure_draft(&d.id, &drafter, Some(1), &other)
                .await,
            Err(StoreError::Conflict { .. })
        ));
        assert!(is_invalid_state(
            nl.approve_measure_draft(&d.id, &approver, None, &heads(&store).await, &[], None)
                .await
        ));
        assert!(is_out_of_scope(
            nl.submit_measure_draft(&d.id, &approver, None).await
        ));
        let d = nl
            .submit_measure_draft(&d.id, &drafter, Some(2))
            .await
            .unwrap();
        assert_eq!((d.status.as_str(), d.version), ("submitted", 3));
        assert!(is_invalid_state(
            nl.amend_measure_draft(&d.id, &drafter, None, &other).await
        ));

        // Four eyes, in the store: the drafter neither approves nor rejects, whatever roles.
        let changes = vec![upsert(
            "measure",
            "1349000000001",
            serde_json::json!({"measure.sid": "1349000000001", "national": true}),
        )];
        let h = heads(&store).await;
        let r = nl
            .approve_measure_draft(&d.id, &drafter, None, &h, &changes, Some(1_349_000_000_001))
            .await;
        assert!(
            matches!(&r, Err(StoreError::OutOfScope(m)) if m.contains("four eyes")),
            "{r:?}"
        );
        assert!(is_out_of_scope(
            nl.reject_measure_draft(&d.id, &drafter, None, "no").await
        ));
        // A stale version.
        assert!(matches!(
            nl.approve_measure_draft(&d.id, &approver, Some(2), &h, &changes, None)
                .await,
            Err(StoreError::Conflict { .. })
        ));
        // Changes that cannot be applied roll everything back.
        let bad = vec![delete("measure", "404")];
        assert!(matches!(
            nl.approve_measure_draft(&d.id, &approver, None, &h, &bad, None)
                .await,
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(nl.measure_draft(&d.id).await.unwrap().status, "submitted");

        // The second officer approves: the measure is in the national layer as an import.
        let (d, import) = nl
            .approve_measure_draft(
                &d.id,
                &approver,
                Some(3),
                &h,
                &changes,
                Some(1_349_000_000_001),
            )
            .await
            .unwrap();
        assert_eq!(d.status, "approved");
        assert_eq!(d.decided_by.as_deref(), Some("officer:NL/avandijk"));
        assert_eq!(d.measure_sid, Some(1_349_000_000_001));
        assert_eq!(d.import_id.as_deref(), Some(import.id.as_str()));
        assert_eq!(import.format, APPROVAL_FORMAT);
        assert_eq!(import.source, format!("measure-draft:{}", d.id));
        assert_eq!((import.layer.as_str(), import.inserted), ("NL", 1));
        let layer = TariffLayer::Tenant("NL".parse().unwrap());
        let records = store.tariff_records(&layer, Some("measure")).await.unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].import_id, import.id);
        assert!(is_invalid_state(
            nl.withdraw_measure_draft(&d.id, &drafter, None, None).await
        ));
        assert!(is_invalid_state(
            nl.reject_measure_draft(&d.id, &approver, None, "late")
                .await
        ));

        // Validated against an older state of the layer: refused, nothing written.
        let d2 = nl
            .create_measure_draft(&drafter, &new_draft(None))
            .await
            .unwrap();
        nl.submit_measure_draft(&d2.id, &drafter, None)
            .await
            .unwrap();
        let r = nl
            .approve_measure_draft(&d2.id, &approver, None, &h, &changes, None)
            .await;
        assert!(
            matches!(
                &r,
                Err(StoreError::Conflict {
                    what: "tariff layer",
                    ..
                })
            ),
            "{r:?}"
        );
        assert_eq!(store.tariff_imports(&layer).await.unwrap().len(), 1);

        // Reject needs a reason; withdraw is the drafter's.
        assert!(matches!(
            nl.reject_measure_draft(&d2.id, &approver, None, " ").await,
            Err(StoreError::Invalid(_))
        ));
        let r2 = nl
            .reject_measure_draft(&d2.id, &approver, None, "rate not yet published")
            .await
            .unwrap();
        assert_eq!(r2.status, "rejected");
        assert_eq!(r2.reason.as_deref(), Some("rate not yet published"));
        let d3 = nl
            .create_measure_draft(&drafter, &new_draft(None))
            .await
            .unwrap();
        assert!(is_out_of_scope(
            nl.withdraw_measure_draft(&d3.id, &approver, None, None)
                .await
        ));
        let w = nl
            .withdraw_measure_draft(&d3.id, &drafter, None, Some("duplicate"))
            .await
            .unwrap();
        assert_eq!(
            (w.status.as_str(), w.decided_by.as_deref()),
            ("withdrawn", Some("officer:NL/jdevries"))
        );

        // Listing, by status and in pages.
        let (all, _) = nl.measure_drafts(None, &Page::first(50)).await.unwrap();
        assert_eq!(all.len(), 3);
        let (rejected, _) = nl
            .measure_drafts(Some(DraftStatus::Rejected), &Page::first(50))
            .await
            .unwrap();
        assert_eq!(
            rejected.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            vec![d2.id.as_str()]
        );
        let (first, next) = nl.measure_drafts(None, &Page::first(2)).await.unwrap();
        assert_eq!(first.len(), 2);
        let (rest, none) = nl
            .measure_drafts(
                None,
                &Page {
                    limit: 2,
                    after: next,
                },
            )
            .await
            .unwrap();
        assert_eq!((rest.len(), none), (1, None));

        // Tenant scoping: another administration does not see NL's drafts, nor acts on them.
        let de = store.scoped(scope("officer:DE/kschmidt"));
        let kschmidt = officer("officer:DE/kschmidt");
        assert!(matches!(
            de.measure_draft(&d.id).await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(de
            .measure_drafts(None, &Page::first(50))
            .await
            .unwrap()
            .0
            .is_empty());
        assert!(matches!(
            de.reject_measure_draft(&d2.id, &kschmidt, None, "x").await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(is_out_of_scope(
            de.create_measure_draft(&drafter, &new_draft(None)).await
        ));
        let trader = store.scoped(scope("trader:NL000000001"));
        assert!(is_out_of_scope(
            trader.measure_drafts(None, &Page::first(5)).await
        ));
        assert!(is_out_of_scope(trader.allocate_national_sids(1).await));

        // Rolling back the approval's import takes the measure out of the layer and marks the
        // draft rolled back in the same transaction; that status is final.
        let before = nl.measure_draft(&d.id).await.unwrap();
        store.tariff_rollback(&import.id).await.unwrap();
        assert!(store
            .tariff_records(&layer, Some("measure"))
            .await
            .unwrap()
            .is_empty());
        let after = nl.measure_draft(&d.id).await.unwrap();
        assert_eq!(after.status, "rolled_back", "{}", db.label);
        assert_eq!(after.status(), Some(DraftStatus::RolledBack));
        assert_eq!(after.version, before.version + 1);
        assert_eq!(after.import_id.as_deref(), Some(import.id.as_str()));
        let (rolled, _) = nl
            .measure_drafts(Some(DraftStatus::RolledBack), &Page::first(50))
            .await
            .unwrap();
        assert_eq!(rolled.len(), 1);
        // The other drafts are untouched.
        assert_eq!(nl.measure_draft(&d2.id).await.unwrap().status, "rejected");
        assert!(is_invalid_state(
            nl.withdraw_measure_draft(&d.id, &drafter, None, None).await
        ));
        assert!(is_invalid_state(
            nl.reject_measure_draft(&d.id, &approver, None, "late")
                .await
        ));
    }
}

#[tokio::test]
async fn national_measure_sids_per_administration() {
    for db in TestDb::all().await.unwrap() {
        let store = seeded(&db).await;
        let nl = store.scoped(scope("officer:NL/avandijk"));
        let de = store.scoped(scope("officer:DE/kschmidt"));
        // NL = 13 × 26 + 11 = 349; DE = 3 × 26 + 4 = 82.
        let nl_base = NATIONAL_SID_BASE + 349 * NATIONAL_SID_BLOCK;
        assert_eq!(
            nl.allocate_national_sids(3).await.unwrap(),
            vec![nl_base + 1, nl_base + 2, nl_base + 3],
            "{}",
            db.label
        );
        let de_base = NATIONAL_SID_BASE + 82 * NATIONAL_SID_BLOCK;
        assert_eq!(
            de.allocate_national_sids(1).await.unwrap(),
            vec![de_base + 1]
        );
        assert!(nl.allocate_national_sids(0).await.unwrap().is_empty());
        // Concurrent allocations never hand out a SID twice.
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .scoped(scope("officer:NL/jdevries"))
                    .allocate_national_sids(5)
                    .await
                    .unwrap()
            }));
        }
        let mut all: Vec<u64> = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 40);
        assert_eq!(all.first(), Some(&(nl_base + 4)));
        assert_eq!(all.last(), Some(&(nl_base + 43)));
        // Every national SID is above TARIC's 8-digit SIDs and exact in a JSON number.
        assert!(national_sid(&"ZW".parse().unwrap(), NATIONAL_SID_BLOCK - 1).unwrap() < 1 << 53);
        assert!(national_sid(&"AD".parse().unwrap(), 1).unwrap() > 99_999_999);
        assert!(national_sid(&"NL".parse().unwrap(), NATIONAL_SID_BLOCK).is_err());
    }
}

#[path = "store/declarations.rs"]
mod declarations;

#[path = "store/dms.rs"]
mod dms;

#[path = "store/transit.rs"]
mod transit;
