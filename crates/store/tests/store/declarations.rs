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
        assert_eq!(nl.guarantee_reservations(&g.grn).await.unwrap().len(), 2);
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

fn departure(lrn: &str, msg_id: &str, body: &str) -> NewMovement {
    NewMovement {
        kind: MovementKind::Departure,
        lrn: Some(lrn.into()),
        mrn: None,
        holder: "NL000000001".parse().unwrap(),
        office_of_departure: Some("NL000396".parse().unwrap()),
        office_of_destination: Some("DE004058".parse().unwrap()),
        state: "submitted".into(),
        action: "submit".into(),
        message: NewMovementMessage {
            message_type: "CC015C".into(),
            direction: Direction::Inbound,
            message_identification: msg_id.into(),
            content_type: "application/xml".into(),
            body: body.into(),
        },
    }
}

#[tokio::test]
async fn movements_store_messages_history_and_duplicates() {
    for db in TestDb::all().await.unwrap() {
        let store = seeded(&db).await;
        let trader_id = pid("trader:NL000000001");
        let trader = store.scoped(scope("trader:NL000000001"));
        let MessageOutcome::Stored(m, first) = trader
            .movement_create(&trader_id, &departure("LRN-1", "MSG1", "<CC015C/>"))
            .await
            .unwrap()
        else {
            panic!("not stored");
        };
        assert_eq!((m.tenant.as_str(), m.version, first.seq), ("NL", 1, 1));
        // The same lodging again is idempotent; another body with the LRN is a conflict.
        let again = trader
            .movement_create(&trader_id, &departure("LRN-1", "MSG1", "<CC015C/>"))
            .await
            .unwrap();
        assert!(matches!(again, MessageOutcome::Duplicate(ref mm, _) if mm.id == m.id));
        assert!(matches!(
            trader
                .movement_create(
                    &trader_id,
                    &departure("LRN-1", "MSG1", "<CC015C>x</CC015C>")
                )
                .await,
            Err(StoreError::Conflict { what: "LRN", .. })
        ));
        // A trader cannot lodge for another holder.
        assert!(matches!(
            store
                .scoped(scope("trader:DE000000002"))
                .movement_create(
                    &pid("trader:DE000000002"),
                    &departure("LRN-2", "MSG1", "<CC015C/>")
                )
                .await,
            Err(StoreError::OutOfScope(_))
        ));

        // The administration answers: CC928C, then CC028C with the MRN.
        let nl_sys = pid("system:NL/ncts");
        let nl = store.scoped(scope("system:NL/ncts"));
        let ack = NewMovementMessage {
            message_type: "CC928C".into(),
            direction: Direction::Outbound,
            message_identification: "OUT1".into(),
            content_type: "application/xml".into(),
            body: "<CC928C/>".into(),
        };
        let accept = Transition {
            to_state: "accepted".into(),
            action: "accept".into(),
            mrn: None,
            detail: Some(serde_json::json!({"lane": "green"})),
        };
        let MessageOutcome::Stored(m2, msg2) = nl
            .movement_append(&nl_sys, &m.id, 1, Some(&ack), Some(&accept))
            .await
            .unwrap()
        else {
            panic!("not stored");
        };
        assert_eq!(
            (m2.state.as_str(), m2.version, msg2.seq),
            ("accepted", 2, 2)
        );
        // Repeating it: same content is a duplicate (even with the old version), other
        // content a conflicting duplicate; nothing written either time.
        assert!(matches!(
            nl.movement_append(&nl_sys, &m.id, 1, Some(&ack), Some(&accept))
                .await
                .unwrap(),
            MessageOutcome::Duplicate(_, ref e) if e.id == msg2.id
        ));
        let mut other = ack.clone();
        other.body = "<CC928C>other</CC928C>".into();
        assert!(matches!(
            nl.movement_append(&nl_sys, &m.id, 2, Some(&other), None)
                .await
                .unwrap(),
            MessageOutcome::ConflictingDuplicate(ref e) if e.id == msg2.id
        ));
        // A stale version is refused.
        let mrn_msg = NewMovementMessage {
            message_type: "CC028C".into(),
            message_identification: "OUT2".into(),
            body: "<CC028C/>".into(),
            ..ack.clone()
        };
        let allocate = Transition {
            to_state: "mrn_allocated".into(),
            action: "allocate_mrn".into(),
            mrn: Some("24NL000000000001A6".into()),
            detail: None,
        };
        assert!(matches!(
            nl.movement_append(&nl_sys, &m.id, 1, Some(&mrn_msg), Some(&allocate))
                .await,
            Err(StoreError::Conflict {
                what: "movement version",
                ..
            })
        ));
        let MessageOutcome::Stored(m3, _) = nl
            .movement_append(&nl_sys, &m.id, 2, Some(&mrn_msg), Some(&allocate))
            .await
            .unwrap()
        else {
            panic!("not stored");
        };
        assert_eq!(m3.mrn.as_deref(), Some("24NL000000000001A6"));
        assert_eq!(
            nl.movement_by_mrn("24NL000000000001A6").await.unwrap().id,
            m.id
        );
        // A decision without a message.
        let MessageOutcome::Stored(m4, _) = nl
            .movement_append(
                &pid("officer:NL/jdevries"),
                &m.id,
                3,
                None,
                Some(&Transition {
                    to_state: "under_control".into(),
                    action: "control".into(),
                    mrn: None,
                    detail: None,
                }),
            )
            .await
            .unwrap()
        else {
            panic!("not stored");
        };
        assert_eq!(m4.version, 4);

        // Reads: the holder and NL see everything; DE and other traders nothing.
        let (msgs, _) = trader
            .movement_messages(&m.id, &Page::first(10))
            .await
            .unwrap();
        assert_eq!(
            msgs.iter()
                .map(|m| m.message_type.as_str())
                .collect::<Vec<_>>(),
            ["CC015C", "CC928C", "CC028C"]
        );
        let (page1, next) = trader
            .movement_messages(&m.id, &Page::first(2))
            .await
            .unwrap();
        assert_eq!(page1.len(), 2);
        let (page2, _) = trader
            .movement_messages(
                &m.id,
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
                .movement_message(&m.id, &msgs[0].id)
                .await
                .unwrap()
                .body,
            "<CC015C/>"
        );
        let history = nl.movement_history(&m.id).await.unwrap();
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
        assert_eq!(
            history[1].detail,
            Some(serde_json::json!({"lane": "green"}))
        );
        let de = store.scoped(scope("officer:DE/mmueller"));
        assert!(de.movement(&m.id).await.is_err());
        assert!(de.movement_history(&m.id).await.is_err());
        assert!(de
            .movement_append(&pid("officer:DE/mmueller"), &m.id, 4, Some(&other), None)
            .await
            .is_err());
        assert_eq!(
            de.movements(MovementKind::Departure, None, &Page::first(10))
                .await
                .unwrap()
                .0
                .len(),
            0
        );
        assert!(store
            .scoped(scope("trader:DE000000002"))
            .movement(&m.id)
            .await
            .is_err());
        let (queue, _) = nl
            .movements(
                MovementKind::Departure,
                Some("under_control"),
                &Page::first(10),
            )
            .await
            .unwrap();
        assert_eq!(queue.len(), 1);
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
