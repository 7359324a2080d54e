//! Transit transactions (`TransitTx`): all or nothing, scoping, the arrival's explicit reach
//! into the departure's administration, MRN serials, repeated messages, on every backend.

use super::{scope, seeded};
use portorium_kernel::PrincipalId;
use portorium_store::testing::TestDb;
use portorium_store::*;

fn departure(holder: &str, office: &str, lrn: &str) -> NewTransitMovement {
    NewTransitMovement {
        kind: MovementKind::Departure,
        lrn: Some(lrn.into()),
        mrn: None,
        holder: holder.parse().unwrap(),
        office_of_departure: Some(office.parse().unwrap()),
        office_of_destination: None,
    }
}

fn inbound(id: &str, body: &str) -> TransitMessage {
    TransitMessage {
        message_type: "CC015C".into(),
        direction: Direction::Inbound,
        message_identification: id.into(),
        content_type: "application/xml".into(),
        body: body.into(),
    }
}

fn pid(s: &str) -> PrincipalId {
    s.parse().unwrap()
}

#[tokio::test]
async fn an_uncommitted_transit_transaction_leaves_nothing() {
    for db in TestDb::all().await.unwrap() {
        let store = seeded(&db).await;
        let trader = pid("trader:NL000000001");
        let scoped = store.scoped(scope("trader:NL000000001"));
        let mut tx = scoped.transit_begin(&trader).await.unwrap();
        let mut m = tx
            .create(&departure("NL000000001", "NL000396", "LRN-1"), "submitted")
            .await
            .unwrap();
        let msg = tx.append(&m, &inbound("M1", "<a/>")).await.unwrap();
        tx.submitted(&mut m, &msg.id).await.unwrap();
        assert_eq!(tx.next_mrn_serial(&m, 2026).await.unwrap(), 1);
        tx.transition(&mut m, "accepted", "accept", None, None, None)
            .await
            .unwrap();
        drop(tx); // a crash before the commit
        let (rows, total) = scoped
            .transit_movements(MovementKind::Departure, &TransitFilter::default(), 1, 50)
            .await
            .unwrap();
        assert!(rows.is_empty() && total == 0, "{}", db.label);
        assert!(store.outbox_pending(100).await.unwrap().iter().all(|e| e
            .payload
            .get("movement_id")
            .and_then(|v| v.as_str())
            != Some(m.row().id.as_str())));
        // The serial, the LRN and the message identification are still free.
        let mut tx = scoped.transit_begin(&trader).await.unwrap();
        assert!(tx
            .earlier_message(&"NL000000001".parse().unwrap(), "M1", "<a/>")
            .await
            .unwrap()
            .is_none());
        assert!(!tx
            .lrn_in_use(&"NL000000001".parse().unwrap(), "LRN-1")
            .await
            .unwrap());
        let mut m = tx
            .create(&departure("NL000000001", "NL000396", "LRN-1"), "submitted")
            .await
            .unwrap();
        assert_eq!(tx.next_mrn_serial(&m, 2026).await.unwrap(), 1);
        let msg = tx.append(&m, &inbound("M1", "<a/>")).await.unwrap();
        tx.submitted(&mut m, &msg.id).await.unwrap();
        tx.commit().await.unwrap();
        let history = scoped.movement_history(&m.row().id).await.unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].to_state, "submitted");
        assert_eq!(history[0].from_state, None);
    }
}

#[tokio::test]
async fn transit_scoping_serials_repeats_and_the_arrival_lookup() {
    for db in TestDb::all().await.unwrap() {
        let store = seeded(&db).await;
        let nl_trader = pid("trader:NL000000001");
        let nl = store.scoped(scope("trader:NL000000001"));
        let mut tx = nl.transit_begin(&nl_trader).await.unwrap();
        // A trader lodges only its own movements.
        let e = tx
            .create(&departure("DE000000002", "NL000396", "X"), "submitted")
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::OutOfScope(_)), "{e}");
        let mut m = tx
            .create(&departure("NL000000001", "NL000396", "LRN-A"), "submitted")
            .await
            .unwrap();
        let msg = tx.append(&m, &inbound("A1", "<a/>")).await.unwrap();
        tx.submitted(&mut m, &msg.id).await.unwrap();
        assert_eq!(tx.next_mrn_serial(&m, 2026).await.unwrap(), 1);
        assert_eq!(tx.next_mrn_serial(&m, 2026).await.unwrap(), 2);
        assert_eq!(tx.next_mrn_serial(&m, 2027).await.unwrap(), 1);
        tx.transition(
            &mut m,
            "mrn_allocated",
            "allocate_mrn",
            Some("26NL000000000001J5"),
            None,
            None,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(m.row().tenant, "NL");

        // Repeats: the same content is recognised, another content too.
        let mut tx = nl.transit_begin(&nl_trader).await.unwrap();
        let holder = "NL000000001".parse().unwrap();
        let same = tx.earlier_message(&holder, "A1", "<a/>").await.unwrap();
        assert!(same
            .as_ref()
            .is_some_and(|e| e.same_content && e.movement_id == m.row().id));
        let other = tx.earlier_message(&holder, "A1", "<b/>").await.unwrap();
        assert!(other.is_some_and(|e| !e.same_content));
        assert!(tx.lrn_in_use(&holder, "LRN-A").await.unwrap());
        tx.rollback().await.unwrap();

        // Another trader and another administration cannot lock it; its administration can.
        let de_trader = pid("trader:DE000000002");
        let de = store.scoped(scope("trader:DE000000002"));
        let mut tx = de.transit_begin(&de_trader).await.unwrap();
        assert!(matches!(
            tx.lock(&m.row().id).await.unwrap_err(),
            StoreError::NotFound { .. }
        ));
        // The arrival at destination reaches the departure by its MRN, explicitly.
        let dep = tx
            .lock_departure_for_arrival("26NL000000000001J5")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(dep.row().id, m.row().id);
        assert!(tx
            .lock_departure_for_arrival("26NL000000000002J2")
            .await
            .unwrap()
            .is_none());
        tx.rollback().await.unwrap();
        let de_officer = pid("officer:DE/mmueller");
        let e = store
            .scoped(scope("officer:DE/mmueller"))
            .transit_begin(&de_officer)
            .await
            .unwrap()
            .lock(&m.row().id)
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::NotFound { .. }), "{e}");
        let nl_officer = pid("officer:NL/jdevries");
        let nl_admin = store.scoped(scope("officer:NL/jdevries"));
        let mut tx = nl_admin.transit_begin(&nl_officer).await.unwrap();
        let mut locked = tx.lock(&m.row().id).await.unwrap();
        tx.transition(&mut locked, "under_control", "control", None, None, None)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let history = nl_admin.movement_history(&m.row().id).await.unwrap();
        assert_eq!(history.last().unwrap().actor, "officer:NL/jdevries");
        assert_eq!(
            history.last().unwrap().from_state.as_deref(),
            Some("mrn_allocated")
        );
        // A scope acts only as its own principal.
        assert!(matches!(
            nl.transit_begin(&nl_officer).await.err(),
            Some(StoreError::OutOfScope(_))
        ));
    }
}
