//! Declarations storage: reference data, authorisations, guarantees and movements, on every
//! backend under test.

use super::{scope, seeded};
use chrono::NaiveDate;
use portorium_kernel::PrincipalId;
use portorium_store::testing::TestDb;
use portorium_store::*;
use rust_decimal::Decimal;
use std::str::FromStr;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn pid(s: &str) -> PrincipalId {
    s.parse().unwrap()
}

fn office(reference: &str, roles: &[&str], from: &str, to: Option<&str>) -> NewRefOffice {
    NewRefOffice {
        reference: reference.into(),
        country: reference[..2].into(),
        name: format!("Office {reference}"),
        city: Some("City".into()),
        postal_code: None,
        unlocode: None,
        main_office: None,
        trader_dedicated: false,
        roles: roles
            .iter()
            .map(|r| (r.to_string(), "R".to_string()))
            .collect(),
        valid_from: d(from),
        valid_to: to.map(d),
    }
}

fn code(c: &str) -> NewRefCode {
    NewRefCode {
        code: c.into(),
        description: format!("code {c}"),
        valid_from: d("2020-01-01"),
        valid_to: None,
    }
}

#[tokio::test]
async fn refdata_imports_replace_lists_in_one_transaction() {
    for db in TestDb::all().await.unwrap() {
        let store = seeded(&db).await;
        let first = store
            .refdata_import(
                "cli:test",
                "first.xml",
                &[
                    RefdataBatch::Offices(vec![
                        office("NL000110", &["DEP", "DES", "TRA"], "2020-01-01", None),
                        office("DE004058", &["DEP"], "2020-01-01", Some("2024-12-31")),
                    ]),
                    RefdataBatch::Codes {
                        list: "CountryCodesFullList".into(),
                        codes: vec![code("NL"), code("DE")],
                    },
                    RefdataBatch::Catalogue(vec![("CL008".into(), "CountryCodesFullList".into())]),
                ],
            )
            .await
            .unwrap();
        assert_eq!(first.len(), 3, "{}", db.label);
        assert_eq!(first[0].list_name, OFFICE_LIST);
        assert_eq!(first[0].entries, 2);

        let nl = store.ref_office("NL000110", d("2025-01-01")).await.unwrap();
        assert_eq!(nl.roles, vec!["DEP", "DES", "TRA"]);
        assert!(nl.has_role("DES") && !nl.has_role("EXT"));
        assert_eq!(
            store.ref_office_roles("NL000110").await.unwrap().len(),
            3,
            "{}",
            db.label
        );
        // Validity: the DE office ended in 2024.
        assert!(store.ref_office("DE004058", d("2024-06-01")).await.is_ok());
        assert!(matches!(
            store.ref_office("DE004058", d("2025-01-01")).await,
            Err(StoreError::NotFound { .. })
        ));
        // Code lists by name or catalogue number; an unknown list is None.
        assert_eq!(
            store
                .ref_code_valid("CL008", "NL", d("2025-01-01"))
                .await
                .unwrap(),
            Some(true)
        );
        assert_eq!(
            store
                .ref_code_valid("CountryCodesFullList", "XX", d("2025-01-01"))
                .await
                .unwrap(),
            Some(false)
        );
        assert_eq!(
            store
                .ref_code_valid("Role", "DEP", d("2025-01-01"))
                .await
                .unwrap(),
            None
        );
        let (page, _) = store
            .ref_offices("NL", Some("DES"), d("2025-01-01"), &Page::first(10))
            .await
            .unwrap();
        assert_eq!(page.len(), 1);

        // A failing import changes nothing (duplicate office in the batch).
        let err = store
            .refdata_import(
                "cli:test",
                "bad.xml",
                &[
                    RefdataBatch::Codes {
                        list: "CountryCodesFullList".into(),
                        codes: vec![code("FR")],
                    },
                    RefdataBatch::Offices(vec![
                        office("FR000001", &["DEP"], "2020-01-01", None),
                        office("FR000001", &["DEP"], "2020-01-01", None),
                    ]),
                ],
            )
            .await;
        assert!(matches!(err, Err(StoreError::Invalid(_))), "{}", db.label);
        assert!(store.ref_office("NL000110", d("2025-01-01")).await.is_ok());
        assert_eq!(
            store
                .ref_code_valid("CL008", "NL", d("2025-01-01"))
                .await
                .unwrap(),
            Some(true)
        );

        // Replace semantics: a new office list replaces the old one entirely.
        store
            .refdata_import(
                "cli:test",
                "second.xml",
                &[RefdataBatch::Offices(vec![office(
                    "BE000001",
                    &["DES"],
                    "2020-01-01",
                    None,
                )])],
            )
            .await
            .unwrap();
        assert!(store.ref_office("NL000110", d("2025-01-01")).await.is_err());
        assert!(store.ref_office("BE000001", d("2025-01-01")).await.is_ok());
        let imports = store.refdata_imports(10).await.unwrap();
        assert_eq!(imports.len(), 4, "{}", db.label);
        assert_eq!(imports[0].source, "second.xml");
    }
}

/// The batch lookup answers like `ref_code_valid` for every pair, in order: by catalogue
/// number or list name, validity dates, unknown lists `None`; more pairs than one query holds
/// are answered too.
#[tokio::test]
async fn refdata_code_lookups_in_one_batch() {
    for db in TestDb::all().await.unwrap() {
        let store = seeded(&db).await;
        // Nothing imported: every list unknown; no pairs, no answers.
        assert_eq!(
            store
                .ref_codes_valid(&[("CL008", "NL")], d("2025-01-01"))
                .await
                .unwrap(),
            [None]
        );
        assert!(store
            .ref_codes_valid(&[], d("2025-01-01"))
            .await
            .unwrap()
            .is_empty());
        let mut ended = code("YU");
        ended.valid_from = d("1992-04-27");
        ended.valid_to = Some(d("2003-02-04"));
        store
            .refdata_import(
                "cli:test",
                "codes.xml",
                &[
                    RefdataBatch::Codes {
                        list: "CountryCodesFullList".into(),
                        codes: vec![code("NL"), code("DE"), ended],
                    },
                    RefdataBatch::Codes {
                        list: "KindOfPackages".into(),
                        codes: vec![code("PX"), code("CT")],
                    },
                    RefdataBatch::Catalogue(vec![
                        ("CL008".into(), "CountryCodesFullList".into()),
                        ("CL017".into(), "KindOfPackages".into()),
                        ("CL248".into(), "CountryCodesForAddress".into()),
                    ]),
                ],
            )
            .await
            .unwrap();
        let pairs = [
            ("CL008", "NL"),
            ("CL008", "XX"),
            ("CL008", "YU"),
            ("CountryCodesFullList", "DE"),
            ("CL017", "PX"),
            ("CL017", "NL"),
            ("CL248", "NL"),
            ("CL999", "NL"),
            ("CL008", "NL"),
        ];
        let got = store
            .ref_codes_valid(&pairs, d("2025-01-01"))
            .await
            .unwrap();
        assert_eq!(
            got,
            [
                Some(true),
                Some(false),
                Some(false),
                Some(true),
                Some(true),
                Some(false),
                None,
                None,
                Some(true)
            ],
            "{}",
            db.label
        );
        // The same answers one by one.
        for ((list, c), answer) in pairs.iter().zip(&got) {
            assert_eq!(
                store
                    .ref_code_valid(list, c, d("2025-01-01"))
                    .await
                    .unwrap(),
                *answer,
                "{list} {c}"
            );
        }
        // Validity: YU was a country before 2003.
        assert_eq!(
            store
                .ref_codes_valid(&[("CL008", "YU")], d("2001-01-01"))
                .await
                .unwrap(),
            [Some(true)]
        );
        // More pairs than one query takes.
        let many: Vec<String> = (0..CODE_PAIRS_PER_QUERY + 3)
            .map(|i| format!("C{i}"))
            .collect();
        let mut pairs: Vec<(&str, &str)> = many.iter().map(|c| ("CL008", c.as_str())).collect();
        pairs.push(("CL008", "NL"));
        let got = store
            .ref_codes_valid(&pairs, d("2025-01-01"))
            .await
            .unwrap();
        assert_eq!(got.len(), pairs.len());
        assert!(got[..got.len() - 1].iter().all(|a| *a == Some(false)));
        assert_eq!(got.last(), Some(&Some(true)), "{}", db.label);
    }
}

#[tokio::test]
async fn authorisations_are_scoped_unique_and_revocable() {
    for db in TestDb::all().await.unwrap() {
        let store = seeded(&db).await;
        let nl = store.scoped(scope("officer:NL/jdevries"));
        let de = store.scoped(scope("officer:DE/mmueller"));
        let officer = pid("officer:NL/jdevries");
        let new = NewAuthorisation {
            holder: "NL000000001".parse().unwrap(),
            type_code: "C521".into(),
            reference: "NLACR000123".into(),
            valid_from: d("2024-01-01"),
            valid_until: Some(d("2030-12-31")),
        };
        let a = nl.authorisation_add(&officer, &new).await.unwrap();
        assert!(a.valid_on(d("2025-06-01")));
        assert!(!a.valid_on(d("2031-01-01")));
        assert!(matches!(
            nl.authorisation_add(&officer, &new).await,
            Err(StoreError::Conflict { .. })
        ));
        // Unknown holder, bad type, traders cannot register.
        let mut bad = new.clone();
        bad.holder = "NL999999999".parse().unwrap();
        assert!(matches!(
            nl.authorisation_add(&officer, &bad).await,
            Err(StoreError::Invalid(_))
        ));
        let mut bad = new.clone();
        bad.type_code = "c5".into();
        assert!(matches!(
            nl.authorisation_add(&officer, &bad).await,
            Err(StoreError::Invalid(_))
        ));
        let trader = store.scoped(scope("trader:NL000000001"));
        assert!(matches!(
            trader.authorisation_add(&officer, &new).await,
            Err(StoreError::OutOfScope(_))
        ));
        // Visibility: the holder and NL see it, DE and another trader do not.
        assert_eq!(trader.authorisation(&a.id).await.unwrap().id, a.id);
        assert!(de.authorisation(&a.id).await.is_err());
        assert!(store
            .scoped(scope("trader:DE000000002"))
            .authorisation(&a.id)
            .await
            .is_err());
        assert_eq!(
            de.authorisations(None, &Page::first(10))
                .await
                .unwrap()
                .0
                .len(),
            0
        );
        assert_eq!(
            nl.authorisations(None, &Page::first(10))
                .await
                .unwrap()
                .0
                .len(),
            1
        );
        let found = nl
            .authorisation_by_reference("C521", "NLACR000123")
            .await
            .unwrap();
        assert_eq!(found.id, a.id);
        assert!(de
            .authorisation_by_reference("C521", "NLACR000123")
            .await
            .is_err());
        // Revocation: once; DE cannot revoke NL's.
        assert!(de
            .authorisation_revoke(&pid("officer:DE/mmueller"), &a.id)
            .await
            .is_err());
        let r = nl.authorisation_revoke(&officer, &a.id).await.unwrap();
        assert!(r.revoked_at.is_some() && !r.valid_on(d("2025-06-01")));
        assert!(matches!(
            nl.authorisation_revoke(&officer, &a.id).await,
            Err(StoreError::InvalidState(_))
        ));
    }
}

async fn guarantee(store: &Store, grn: &str, amount: &str) -> GuaranteeRow {
    store
        .scoped(scope("officer:NL/jdevries"))
        .guarantee_add(
            &pid("officer:NL/jdevries"),
            &NewGuarantee {
                grn: grn.into(),
                guarantee_type: "1".into(),
                access_code_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                reference_amount: dec(amount),
                currency: "EUR".parse().unwrap(),
                holder: "NL000000001".parse().unwrap(),
                valid_from: d("2020-01-01"),
                valid_until: None,
            },
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn guarantees_reserve_and_release() {
    for db in TestDb::all().await.unwrap() {
        let store = seeded(&db).await;
        let g = guarantee(&store, "24NL00000000000001", "1000.00").await;
        assert_eq!(g.reference_amount, dec("1000.00"));
        let nl = store.scoped(scope("officer:NL/jdevries"));
        let m1 = nl
            .guarantee_reserve(&g.grn, "m1", dec("600"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m1.state, "reserved");
        // Not enough left: refused with what is available, nothing written.
        let short = nl
            .guarantee_reserve(&g.grn, "m2", dec("400.01"))
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(short.available, dec("400.00"));
        assert!(matches!(
            nl.guarantee_reserve(&g.grn, "m1", dec("1")).await,
            Err(StoreError::Conflict { .. })
        ));
        nl.guarantee_reserve(&g.grn, "m2", dec("400"))
            .await
            .unwrap()
            .unwrap();
        let b = nl.guarantee_balance(&g.grn).await.unwrap();
        assert_eq!((b.reserved, b.available), (dec("1000"), dec("0")));
        let released = nl.guarantee_release("m1").await.unwrap();
        assert_eq!(released.len(), 1);
        assert_eq!(released[0].state, "released");
        assert!(nl.guarantee_release("m1").await.unwrap().is_empty());
        let b = nl.guarantee_balance(&g.grn).await.unwrap();
        assert_eq!(b.available, dec("600.00"));
        // A guarantee row from before migration 0010 keeps no running total: the next
        // reservation sums the open reservations once, then the total is kept again.
        sqlx::any::install_default_drivers();
        let raw = sqlx::AnyPool::connect(&db.url).await.unwrap();
        sqlx::query("UPDATE guarantees SET reserved_total = NULL WHERE grn = $1")
            .bind(&g.grn)
            .execute(&raw)
            .await
            .unwrap();
        raw.close().await;
        let short = nl
            .guarantee_reserve(&g.grn, "m9", dec("600.01"))
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(short.available, dec("600.00"), "{}", db.label);
        nl.guarantee_reserve(&g.grn, "m9", dec("100"))
            .await
            .unwrap()
            .unwrap();
        let b = nl.guarantee_balance(&g.grn).await.unwrap();
        assert_eq!((b.reserved, b.available), (dec("500"), dec("500.00")));
        nl.guarantee_release("m9").await.unwrap();
        let b = nl.guarantee_balance(&g.grn).await.unwrap();
        assert_eq!(b.available, dec("600.00"));
        // Visibility: the holder reads its balance; DE and traders cannot reserve.
        let holder = store.scoped(scope("trader:NL000000001"));
        assert_eq!(holder.guarantee_balance(&g.grn).await.unwrap(), b);
        assert!(store
            .scoped(scope("trader:DE000000002"))
            .guarantee(&g.grn)
            .await
            .is_err());
        assert!(matches!(
            store
                .scoped(scope("officer:DE/mmueller"))
                .guarantee_reserve(&g.grn, "m3", dec("1"))
                .await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            holder.guarantee_reserve(&g.grn, "m3", dec("1")).await,
            Err(StoreError::OutOfScope(_))
        ));
        assert_eq!(nl.guarantee_reservations(&g.grn).await.unwrap().len(), 3);
        assert_eq!(nl.guarantees(&Page::first(10)).await.unwrap().0.len(), 1);
        // The access code is never serialised.
        let json = serde_json::to_string(&nl.guarantee(&g.grn).await.unwrap()).unwrap();
        assert!(!json.contains("argon2"), "{json}");
    }
}

#[tokio::test]
async fn concurrent_reservations_never_exceed_the_reference_amount() {
    for db in TestDb::all().await.unwrap() {
        let store = seeded(&db).await;
        let g = guarantee(&store, "24NL00000000000002", "1000").await;
        // 40 tasks each asking 70: exactly 14 fit (980), 26 are refused.
        let mut tasks = Vec::new();
        for i in 0..40 {
            let store = store.clone();
            let grn = g.grn.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .scoped(scope("officer:NL/jdevries"))
                    .guarantee_reserve(&grn, &format!("movement-{i}"), dec("70"))
                    .await
                    .unwrap()
            }));
        }
        let mut granted = Decimal::ZERO;
        let mut count = 0;
        for t in tasks {
            if let Ok(r) = t.await.unwrap() {
                granted += r.amount;
                count += 1;
            }
        }
        assert!(granted <= dec("1000"), "{}: {granted}", db.label);
        assert_eq!(count, 14, "{}", db.label);
        let b = store
            .scoped(scope("officer:NL/jdevries"))
            .guarantee_balance(&g.grn)
            .await
            .unwrap();
        assert_eq!(b.reserved, dec("980"), "{}", db.label);
        assert_eq!(b.available, dec("20"));
    }
}

fn message(message_type: &str, direction: Direction, id: &str, body: &str) -> TransitMessage {
    TransitMessage {
        message_type: message_type.into(),
        direction,
        message_identification: id.into(),
        content_type: "application/xml".into(),
        body: body.into(),
    }
}

#[tokio::test]
async fn movement_reads_are_scoped_paged_and_complete() {
    for db in TestDb::all().await.unwrap() {
        let store = seeded(&db).await;
        // The trader lodges a departure (written through a transit transaction, the one
        // writer of movements).
        let trader_id = pid("trader:NL000000001");
        let trader = store.scoped(scope("trader:NL000000001"));
        let mut tx = trader.transit_begin(&trader_id).await.unwrap();
        let mut m = tx
            .create(
                &NewTransitMovement {
                    kind: MovementKind::Departure,
                    lrn: Some("LRN-1".into()),
                    mrn: None,
                    holder: "NL000000001".parse().unwrap(),
                    office_of_departure: Some("NL000396".parse().unwrap()),
                    office_of_destination: Some("DE004058".parse().unwrap()),
                },
                "submitted",
            )
            .await
            .unwrap();
        let first = tx
            .append(
                &m,
                &message("CC015C", Direction::Inbound, "MSG1", "<CC015C/>"),
            )
            .await
            .unwrap();
        tx.submitted(&mut m, &first.id).await.unwrap();
        tx.commit().await.unwrap();
        let id = m.row().id.clone();
        assert_eq!((m.row().tenant.as_str(), first.seq), ("NL", 1));

        // The administration answers: CC928C, then CC028C with the MRN; an officer decides.
        let nl_sys = pid("system:NL/ncts");
        let nl = store.scoped(scope("system:NL/ncts"));
        let mut tx = nl.transit_begin(&nl_sys).await.unwrap();
        let mut m = tx.lock(&id).await.unwrap();
        let ack = tx
            .append(
                &m,
                &message("CC928C", Direction::Outbound, "OUT1", "<CC928C/>"),
            )
            .await
            .unwrap();
        let lane = serde_json::json!({"lane": "green"});
        tx.transition(
            &mut m,
            "accepted",
            "accept",
            None,
            Some(&ack.id),
            Some(&lane),
        )
        .await
        .unwrap();
        let mrn_msg = tx
            .append(
                &m,
                &message("CC028C", Direction::Outbound, "OUT2", "<CC028C/>"),
            )
            .await
            .unwrap();
        tx.transition(
            &mut m,
            "mrn_allocated",
            "allocate_mrn",
            Some("24NL000000000001A6"),
            Some(&mrn_msg.id),
            None,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let officer_id = pid("officer:NL/jdevries");
        let officer = store.scoped(scope("officer:NL/jdevries"));
        let mut tx = officer.transit_begin(&officer_id).await.unwrap();
        let mut m = tx.lock(&id).await.unwrap();
        tx.transition(&mut m, "under_control", "control", None, None, None)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let read = nl.movement(&id).await.unwrap();
        assert_eq!(
            (read.state.as_str(), read.mrn.as_deref()),
            ("under_control", Some("24NL000000000001A6"))
        );

        // Reads: the holder and NL see everything; DE and other traders nothing.
        let (msgs, _) = trader
            .movement_messages(&id, &Page::first(10))
            .await
            .unwrap();
        assert_eq!(
            msgs.iter()
                .map(|m| m.message_type.as_str())
                .collect::<Vec<_>>(),
            ["CC015C", "CC928C", "CC028C"]
        );
        let (page1, next) = trader
            .movement_messages(&id, &Page::first(2))
            .await
            .unwrap();
        assert_eq!(page1.len(), 2);
        let (page2, _) = trader
            .movement_messages(
                &id,
                &Page {
                    limit: 2,
                    after: next,
                },
            )
            .await
            .unwrap();
        assert_eq!(page2.len(), 1);
        assert_eq!(
            trader
                .movement_message(&id, &msgs[0].id)
                .await
                .unwrap()
                .body,
            "<CC015C/>"
        );
        let history = nl.movement_history(&id).await.unwrap();
        assert_eq!(
            history
                .iter()
                .map(|h| (h.to_state.as_str(), h.actor.as_str()))
                .collect::<Vec<_>>(),
            [
                ("submitted", "trader:NL000000001"),
                ("accepted", "system:NL/ncts"),
                ("mrn_allocated", "system:NL/ncts"),
                ("under_control", "officer:NL/jdevries"),
            ]
        );
        assert_eq!(history[1].detail, Some(lane));
        let de = store.scoped(scope("officer:DE/mmueller"));
        assert!(de.movement(&id).await.is_err());
        assert!(de.movement_history(&id).await.is_err());
        assert!(de.movement_message(&id, &msgs[0].id).await.is_err());
        assert!(store
            .scoped(scope("trader:DE000000002"))
            .movement(&id)
            .await
            .is_err());
        // Every change emitted its event in the same transaction.
        let topics: Vec<String> = store
            .outbox_pending(100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.topic)
            .filter(|t| t.starts_with("movement."))
            .collect();
        assert_eq!(topics.len(), 4, "{}: {topics:?}", db.label);
    }
}
