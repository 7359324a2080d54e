//! WCO DMS declarations storage: one transaction per message, immutable declared data,
//! assessments, quota drawings and returns inside the transaction, notifications with their
//! webhook delivery state, and scoping, on every backend under test.

use super::{scope, seeded};
use chrono::Duration;
use portorium_kernel::PrincipalId;
use portorium_store::testing::TestDb;
use portorium_store::*;
use rust_decimal::Decimal;
use std::str::FromStr;

fn pid(s: &str) -> PrincipalId {
    s.parse().unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn new_decl(conversation: &str, lrn: &str) -> NewDmsDeclaration {
    NewDmsDeclaration {
        tenant: "NL".parse().unwrap(),
        conversation_id: conversation.into(),
        declarant: "NL000000001".parse().unwrap(),
        lrn: lrn.into(),
        direction: "import".into(),
        office: Some("NL000396".into()),
        state: "submitted".into(),
    }
}

fn accepted(mrn: &str) -> DmsPosition {
    DmsPosition {
        state: "accepted".into(),
        mrn: Some(mrn.into()),
        version: 1,
        duties_assessed: false,
        cancellation_pending: false,
    }
}

fn opening() -> QuotaOpening {
    QuotaOpening {
        order_number: "091104".into(),
        definition_sid: 777,
        volume: dec("1000"),
        opening_balance: dec("1000"),
    }
}

#[tokio::test]
async fn lodging_writes_everything_in_one_transaction_and_is_scoped() {
    for db in TestDb::all().await.unwrap() {
        let store = seeded(&db).await;
        let trader = pid("trader:NL000000001");
        let scoped = store.scoped(scope("trader:NL000000001"));

        // A rolled-back lodging leaves nothing behind.
        let mut tx = scoped.dms_begin(&trader).await.unwrap();
        let d = tx.create(&new_decl("conv-0", "LRN0")).await.unwrap();
        tx.add_message(&d, "declaration", 1, "<MetaData/>", &serde_json::json!({}))
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert!(matches!(
            scoped.dms_by_conversation("conv-0").await,
            Err(StoreError::NotFound { .. })
        ));

        let mut tx = scoped.dms_begin(&trader).await.unwrap();
        let mut d = tx.create(&new_decl("conv-1", "LRN1")).await.unwrap();
        let seq = tx
            .add_message(
                &d,
                "declaration",
                1,
                "<MetaData>original</MetaData>",
                &serde_json::json!({"lrn": "LRN1"}),
            )
            .await
            .unwrap();
        assert_eq!(seq, 1);
        assert_eq!(tx.next_mrn_serial(&d, 2026).await.unwrap(), 1);
        assert_eq!(tx.next_mrn_serial(&d, 2026).await.unwrap(), 2);
        tx.transition(&mut d, &accepted("26NL000000000001R0"), "accept", None)
            .await
            .unwrap();
        let n = tx
            .notify(&d, "n-1", "01", "DMSACC", "<MetaData>acc</MetaData>")
            .await
            .unwrap();
        assert_eq!(n.delivery, "none", "no webhook: pull only");
        let items = serde_json::json!([{"item": 1, "lines": [{"formula": "10.00 × 5 %"}]}]);
        tx.assess(&d, "EUR", dec("0.50"), &items).await.unwrap();
        tx.commit().await.unwrap();
        // A version is assessed once (a failed statement ends the transaction on PostgreSQL).
        let mut tx = scoped.dms_begin(&trader).await.unwrap();
        let d = tx.lock(&d.row().id).await.unwrap();
        assert!(matches!(
            tx.assess(&d, "EUR", dec("0.50"), &items).await,
            Err(StoreError::Conflict { .. })
        ));
        tx.rollback().await.unwrap();

        // The same LRN of the same declarant conflicts.
        let mut tx = scoped.dms_begin(&trader).await.unwrap();
        assert!(matches!(
            tx.create(&new_decl("conv-2", "LRN1")).await,
            Err(StoreError::Conflict { .. })
        ));
        tx.rollback().await.unwrap();

        // An amendment is a new message and version; the original is kept as received.
        let mut tx = scoped.dms_begin(&trader).await.unwrap();
        let mut d = tx.lock_mrn("26NL000000000001R0").await.unwrap();
        tx.add_message(
            &d,
            "amendment",
            2,
            "<MetaData>amended</MetaData>",
            &serde_json::json!({}),
        )
        .await
        .unwrap();
        let mut pos = accepted("26NL000000000001R0");
        pos.version = 2;
        tx.transition(&mut d, &pos, "amend", Some("COR"))
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let detail = scoped.dms_detail(&d.row().id).await.unwrap();
        assert_eq!(detail.messages.len(), 2);
        assert_eq!(detail.messages[0].body, "<MetaData>original</MetaData>");
        assert_eq!(detail.messages[0].parsed["lrn"], "LRN1");
        assert_eq!(detail.messages[1].version, 2);
        assert_eq!(detail.declaration.version, 2);
        assert_eq!(detail.assessments.len(), 1);
        assert_eq!(detail.assessments[0].total, dec("0.50"));
        assert_eq!(
            detail
                .history
                .iter()
                .map(|h| h.action.as_str())
                .collect::<Vec<_>>(),
            ["lodge", "accept", "amend"]
        );
        assert_eq!(detail.history[1].to_state.as_deref(), Some("accepted"));
        assert_eq!(detail.notifications.len(), 1);

        // The outbox got one event per change.
        let topics: Vec<String> = store
            .outbox_pending(1000)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.topic)
            .filter(|t| t.starts_with("dms."))
            .collect();
        assert_eq!(
            topics,
            [
                "dms.declaration.created",
                "dms.state_changed",
                "dms.notification",
                "dms.state_changed"
            ]
        );

        // Scoping: the NL officer sees it, the DE officer and another trader do not.
        let nl = store.scoped(scope("officer:NL/jdevries"));
        assert_eq!(nl.dms_declaration(&d.row().id).await.unwrap().lrn, "LRN1");
        let (queue, _) = nl
            .dms_declarations(
                &DmsFilter {
                    state: Some("accepted".into()),
                },
                &Page::first(10),
            )
            .await
            .unwrap();
        assert_eq!(queue.len(), 1);
        let (none, _) = nl
            .dms_declarations(
                &DmsFilter {
                    state: Some("under_control".into()),
                },
                &Page::first(10),
            )
            .await
            .unwrap();
        assert!(none.is_empty());
        let de = store.scoped(scope("officer:DE/mmueller"));
        assert!(matches!(
            de.dms_declaration(&d.row().id).await,
            Err(StoreError::NotFound { .. })
        ));
        let other = store.scoped(scope("trader:DE000000002"));
        assert!(matches!(
            other.dms_by_conversation("conv-1").await,
            Err(StoreError::NotFound { .. })
        ));
        let (theirs, _) = other
            .dms_declarations(&DmsFilter::default(), &Page::first(10))
            .await
            .unwrap();
        assert!(theirs.is_empty());
        // A trader cannot lodge for another declarant, nor an officer for another administration.
        let mut tx = other.dms_begin(&pid("trader:DE000000002")).await.unwrap();
        assert!(matches!(
            tx.create(&new_decl("conv-3", "LRN3")).await,
            Err(StoreError::OutOfScope(_))
        ));
        assert!(matches!(
            tx.lock(&d.row().id).await,
            Err(StoreError::NotFound { .. })
        ));
        tx.rollback().await.unwrap();
        let mut tx = de.dms_begin(&pid("officer:DE/mmueller")).await.unwrap();
        assert!(matches!(
            tx.create(&new_decl("conv-4", "LRN4")).await,
            Err(StoreError::OutOfScope(_))
        ));
        tx.rollback().await.unwrap();
        // Agencies see no declarations.
        assert!(store
            .scoped(scope("agency:NL/NVWA/pbakker"))
            .dms_declaration(&d.row().id)
            .await
            .is_err());
    }
}

#[tokio::test]
async fn quota_drawn_with_the_declaration_and_returned_on_cancellation() {
    for db in TestDb::all().await.unwrap() {
        let store = seeded(&db).await;
        let trader = pid("trader:NL000000001");
        let scoped = store.scoped(scope("trader:NL000000001"));
        let request = NewAllocationRequest {
            quantity: dec("300"),
            unit: "KGM".into(),
            accepted_at: store.clock().now(),
            declaration_reference: Some("26NL000000000001R0".into()),
        };

        // A refused drawing rolls back with the declaration: nothing allocated.
        let mut tx = scoped.dms_begin(&trader).await.unwrap();
        let d = tx.create(&new_decl("conv-q0", "LRNQ0")).await.unwrap();
        let refused = tx
            .quota_draw(&d, 1, &opening(), &request, |_| {
                Err::<Decimal, _>("exhausted")
            })
            .await
            .unwrap();
        assert_eq!(refused, Err("exhausted"));
        tx.rollback().await.unwrap();

        let mut tx = scoped.dms_begin(&trader).await.unwrap();
        let d = tx.create(&new_decl("conv-q1", "LRNQ1")).await.unwrap();
        let a = tx
            .quota_draw(&d, 1, &opening(), &request, |balance| {
                Ok::<_, ()>(balance.min(dec("300")))
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a.granted, dec("300"));
        assert_eq!(a.balance_after, dec("700"));
        tx.commit().await.unwrap();
        let nl: portorium_kernel::TenantCode = "NL".parse().unwrap();
        let balance = store.quota_balance(&nl, 777).await.unwrap().unwrap();
        assert_eq!(balance.balance, dec("700"));

        // Cancellation: the allocation is returned in the same transaction.
        let mut tx = scoped.dms_begin(&trader).await.unwrap();
        let d = tx.lock(&d.row().id).await.unwrap();
        let links = tx.quota_allocations(&d).await.unwrap();
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].request_id, a.id);
        let r = tx
            .quota_return(&d, &links[0], &opening(), dec("300"), |c| {
                Ok::<_, ()>(c.returnable)
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.balance_after, dec("1000"));
        assert!(tx.quota_allocations(&d).await.unwrap().is_empty());
        tx.commit().await.unwrap();
        let balance = store.quota_balance(&nl, 777).await.unwrap().unwrap();
        assert_eq!(balance.balance, dec("1000"));
        let detail = scoped.dms_detail(&d.row().id).await.unwrap();
        assert_eq!(detail.quota_allocations.len(), 1);
        assert!(detail.quota_allocations[0].returned);
    }
}

#[tokio::test]
async fn notifications_wait_for_the_webhook_and_record_attempts() {
    for db in TestDb::all().await.unwrap() {
        let store = seeded(&db).await;
        let trader = pid("trader:NL000000001");
        let scoped = store.scoped(scope("trader:NL000000001"));
        // Only traders register webhooks.
        assert!(matches!(
            store
                .scoped(scope("officer:NL/jdevries"))
                .dms_set_webhook("http://127.0.0.1:1/hook", "s3cret")
                .await,
            Err(StoreError::OutOfScope(_))
        ));
        let hook = scoped
            .dms_set_webhook("http://127.0.0.1:1/hook", "s3cret")
            .await
            .unwrap();
        assert_eq!(hook.trader, "NL000000001");

        let mut tx = scoped.dms_begin(&trader).await.unwrap();
        let d = tx.create(&new_decl("conv-w", "LRNW")).await.unwrap();
        let n1 = tx.notify(&d, "n-1", "02", "DMSRCV", "<a/>").await.unwrap();
        let n2 = tx.notify(&d, "n-2", "01", "DMSACC", "<b/>").await.unwrap();
        assert_eq!((n1.seq, n2.seq), (1, 2));
        assert_eq!(n1.delivery, "pending");
        tx.commit().await.unwrap();

        let due = store
            .dms_deliveries_due(store.clock().now() + Duration::seconds(1), 10)
            .await
            .unwrap();
        assert_eq!(due.len(), 2);
        assert_eq!(due[0].notification.id, "n-1");
        assert_eq!(due[0].secret, "s3cret");
        assert_eq!(due[0].url, "http://127.0.0.1:1/hook");

        store.dms_delivery_result("n-1", Ok(())).await.unwrap();
        let later = store.clock().now() + Duration::hours(1);
        store
            .dms_delivery_result("n-2", Err(("connection refused".into(), Some(later))))
            .await
            .unwrap();
        let due = store
            .dms_deliveries_due(store.clock().now() + Duration::seconds(1), 10)
            .await
            .unwrap();
        assert!(due.is_empty(), "n-2 waits for its next attempt: {due:?}");
        store
            .dms_delivery_result("n-2", Err(("still refused".into(), None)))
            .await
            .unwrap();
        let ns = scoped.dms_notifications(&d.row().id).await.unwrap();
        assert_eq!(ns[0].delivery, "delivered");
        assert!(ns[0].delivered_at.is_some());
        assert_eq!(ns[1].delivery, "failed");
        assert_eq!(ns[1].attempts, 2);
        assert_eq!(ns[1].last_error.as_deref(), Some("still refused"));
    }
}
