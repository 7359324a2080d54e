//! WCO DMS import/export over HTTP: lodging with duties, quotas and the lane, amendment,
//! cancellation, notifications by pull and by webhook (HMAC-signed), tenant isolation, and
//! every HMRC sample declaration the pure tests accept lodging over HTTP. The samples are read
//! from `$PORTORIUM_REFERENCE/wco-dms` at run time (never copied): each test prints `SKIPPED`
//! and returns without them.

use super::call;
use portorium_declarations::dms::{parse_declaration, validate_message, DmsMessageKind};
use portorium_kernel::{Circle, PrincipalId};
use portorium_server::testing::TestServer;
use serde_json::{json, Value};
use std::path::PathBuf;

fn dms_reference() -> Option<PathBuf> {
    let base: PathBuf = std::env::var_os("PORTORIUM_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/reference").into()
        });
    let dir = base.join("wco-dms");
    if dir.join("schemas").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: WCO DMS reference data not found at {}",
            dir.display()
        );
        None
    }
}

/// HMRC's TT_IM001a import, made a Dutch import of the demo trader (see
/// [`portorium_server::testing::dms_nl_import`]).
fn nl_import(dms: &std::path::Path, lrn: &str) -> String {
    let x = std::fs::read_to_string(dms.join("examples/TT_IM001a/Step1_TT_IM001a.xml")).unwrap();
    let x = portorium_server::testing::dms_nl_import(&x, lrn);
    assert!(x.contains("QuotaOrderID>091234"));
    x
}

/// A minimal amendment (COR) or cancellation (INV) naming `mrn`, in the shapes of HMRC's API
/// documentation.
fn follow_up(kind: &str, mrn: &str, lrn: &str) -> String {
    let (type_code, extra) = match kind {
        "COR" => ("COR", ""),
        _ => ("INV", ""),
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<md:MetaData xmlns:md="urn:wco:datamodel:WCO:DocumentMetaData-DMS:2" xmlns="urn:wco:datamodel:WCO:DEC-DMS:2">
<md:WCODataModelVersionCode>3.6</md:WCODataModelVersionCode>
<md:WCOTypeName>DEC</md:WCOTypeName>
<md:ResponsibleCountryCode>NL</md:ResponsibleCountryCode>
<md:ResponsibleAgencyName>Douane</md:ResponsibleAgencyName>
<md:AgencyAssignedCustomizationVersionCode>v2.1</md:AgencyAssignedCustomizationVersionCode>
<Declaration>
<FunctionCode>13</FunctionCode>
<FunctionalReferenceID>{lrn}</FunctionalReferenceID>
<ID>{mrn}</ID>
<TypeCode>{type_code}</TypeCode>{extra}
<Submitter><ID>NL000000001</ID></Submitter>
<AdditionalInformation><StatementDescription>wrong quantity</StatementDescription><StatementTypeCode>AES</StatementTypeCode></AdditionalInformation>
<Amendment><ChangeReasonCode>32</ChangeReasonCode></Amendment>
</Declaration>
</md:MetaData>"#
    )
}

async fn post_xml(s: &TestServer, path: &str, token: &str, body: &str) -> super::Resp {
    call(
        "POST",
        &format!("{}{path}", s.url(Circle::Trader)),
        Some(token),
        Some(body),
        &[("content-type", "application/xml")],
    )
    .await
}

async fn get(s: &TestServer, circle: Circle, path: &str, token: &str) -> super::Resp {
    call(
        "GET",
        &format!("{}{path}", s.url(circle)),
        Some(token),
        None,
        &[],
    )
    .await
}

fn codes(notifications: &Value) -> Vec<String> {
    notifications
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["functionCode"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn import_declaration_then_duties_then_cleared() {
    let Some(dms) = dms_reference() else { return };
    for s in TestServer::all().await {
        let trader = s.token("trader:NL000000001");
        let officer = s.token("officer:NL/jdevries");
        let r = post_xml(
            &s,
            "/customs/declarations",
            &trader,
            &nl_import(&dms, "NLORANGE1"),
        )
        .await;
        assert_eq!(r.status, 202, "{}: {}", s.db_label, r.text);
        let conv = r.headers["x-conversation-id"].to_str().unwrap().to_owned();
        assert_eq!(r.body["conversationId"], conv.as_str());
        let mrn = r.body["mrn"].as_str().unwrap().to_owned();
        assert!(
            portorium_declarations::mrn::Mrn::parse(&mrn).is_ok(),
            "{mrn}"
        );
        assert_eq!(&mrn[2..4], "NL");
        assert_eq!(mrn.as_bytes()[16], b'R', "import procedure letter: {mrn}");
        if r.body["state"] != "cleared" {
            let d = get(
                &s,
                Circle::Administration,
                &format!(
                    "/api/v1/declarations/{}",
                    r.body["declarationId"].as_str().unwrap()
                ),
                &officer,
            )
            .await;
            panic!("{}: not cleared: {}", s.db_label, d.body["history"]);
        }
        assert_eq!(r.body["lane"], "green");

        // Notifications by pull: received, accepted, duties assessed, released, cleared.
        let n = get(
            &s,
            Circle::Trader,
            &format!("/customs/declarations/{conv}/notifications"),
            &trader,
        )
        .await;
        assert_eq!(n.status, 200, "{}", n.text);
        assert_eq!(codes(&n.body), ["02", "01", "13", "08", "09"]);
        let tax = n.body[2]["body"].as_str().unwrap();
        assert!(tax.contains("DutyTaxFee"), "{tax}");
        assert!(tax.contains("<TypeCode>A00</TypeCode>"), "{tax}");
        assert!(tax.contains("<TypeCode>B00</TypeCode>"), "{tax}");
        assert!(tax.contains(&mrn));

        // The trader sees the assessment with its formulas.
        let d = get(
            &s,
            Circle::Trader,
            &format!("/customs/declarations/{conv}"),
            &trader,
        )
        .await;
        assert_eq!(d.status, 200, "{}", d.text);
        let item = &d.body["assessments"][0]["items"][0];
        assert_eq!(item["option"], "quota", "{}", d.text);
        assert_eq!(item["order_number"], "091234");
        assert!(item["quota_allocation"].is_string());
        assert!(!item["lines"][0]["formula"].as_str().unwrap().is_empty());
        // 0 % in quota (16 % = 160.00 outside it), and 9 % VAT.
        assert_eq!(item["lines"][0]["measure_type_id"], "143", "{}", d.text);
        assert_eq!(item["lines"][0]["amount"], "0.00");
        assert_eq!(item["lines"][1]["tax_type"], "B00");
        assert_eq!(d.body["assessments"][0]["total"], "90.00", "{}", d.text);

        // The officer of NL sees the declared data, the assessment, the quota drawing, history.
        let id = d.body["declaration"]["id"].as_str().unwrap();
        let o = get(
            &s,
            Circle::Administration,
            &format!("/api/v1/declarations/{id}"),
            &officer,
        )
        .await;
        assert_eq!(o.status, 200, "{}", o.text);
        assert!(o.body["messages"][0]["body"]
            .as_str()
            .unwrap()
            .contains("NLORANGE1"));
        assert_eq!(o.body["messages"][0]["parsed"]["lrn"]["value"], "NLORANGE1");
        assert_eq!(o.body["quota_allocations"][0]["order_number"], "091234");
        let actions: Vec<&str> = o.body["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            [
                "lodge",
                "accept",
                "assess duties",
                "risk lane",
                "lane assessed",
                "release",
                "clear"
            ]
        );
        // The quota balance moved by the 100 kg drawn.
        let nl: portorium_kernel::TenantCode = "NL".parse().unwrap();
        let balances = s.state.store.quota_balances(&nl).await.unwrap();
        assert!(
            balances
                .iter()
                .any(|b| b.order_number == "091234"
                    && b.allocated == rust_decimal::Decimal::from(100))
        );

        // The same declaration again (same LRN, same content) is the same 202; the LRN with
        // other content is a conflict naming the LRN's element; a cleared declaration cannot
        // be amended (92).
        let again = post_xml(
            &s,
            "/customs/declarations",
            &trader,
            &nl_import(&dms, "NLORANGE1"),
        )
        .await;
        assert_eq!(again.status, 202, "{}", again.text);
        assert_eq!(again.headers["x-conversation-id"].to_str().unwrap(), conv);
        assert_eq!(again.body["mrn"], mrn.as_str());
        assert_eq!(again.body["state"], "cleared");
        let other = post_xml(
            &s,
            "/customs/declarations",
            &trader,
            &nl_import(&dms, "NLORANGE1").replace(
                "<CountryCode>MA</CountryCode>",
                "<CountryCode>EG</CountryCode>",
            ),
        )
        .await;
        assert_eq!(other.status, 409, "{}", other.text);
        assert_eq!(other.body["code"], "conflict", "{}", other.text);
        assert!(
            other
                .text
                .contains("/MetaData/Declaration/FunctionalReferenceID"),
            "{}",
            other.text
        );
        // Nothing more was stored by either: still one declaration with the LRN.
        let n = get(
            &s,
            Circle::Trader,
            &format!("/customs/declarations/{conv}/notifications"),
            &trader,
        )
        .await;
        assert_eq!(codes(&n.body), ["02", "01", "13", "08", "09"]);
        let late = post_xml(
            &s,
            "/customs/declarations/amend",
            &trader,
            &follow_up("COR", &mrn, "NLORANGE1"),
        )
        .await;
        assert_eq!(late.status, 409, "{}", late.text);
        assert!(late.text.contains("92"), "{}", late.text);
    }
}

/// Beef (0201300000) without its veterinary certificate: the duties cannot be assessed (the
/// measure's condition prohibits it), so the declaration goes under control for an officer.
fn nl_beef(dms: &std::path::Path, lrn: &str) -> String {
    let x = std::fs::read_to_string(dms.join("examples/TT_IM001a/Step1_TT_IM001a.xml")).unwrap();
    portorium_server::testing::dms_nl_beef(&x, lrn)
}

#[tokio::test]
async fn control_amendment_decisions_and_cancellation() {
    let Some(dms) = dms_reference() else { return };
    for s in TestServer::all().await {
        let trader = s.token("trader:NL000000001");
        let officer = s.token("officer:NL/jdevries");
        let r = post_xml(
            &s,
            "/customs/declarations",
            &trader,
            &nl_beef(&dms, "NLBEEF2"),
        )
        .await;
        assert_eq!(r.status, 202, "{}", r.text);
        assert_eq!(r.body["state"], "under_control", "{}", r.text);
        let mrn = r.body["mrn"].as_str().unwrap().to_owned();
        let id = r.body["declarationId"].as_str().unwrap().to_owned();
        let conv = r.body["conversationId"].as_str().unwrap().to_owned();
        let decide = |body: Value| {
            let url = format!(
                "{}/api/v1/declarations/{id}/decisions",
                s.url(Circle::Administration)
            );
            let officer = officer.clone();
            async move { call("POST", &url, Some(&officer), Some(&body.to_string()), &[]).await }
        };
        // The work queue shows it; an import without assessed duties cannot be released (92).
        let q = get(
            &s,
            Circle::Administration,
            "/api/v1/declarations?state=under_control",
            &officer,
        )
        .await;
        assert_eq!(q.body["items"][0]["id"], id.as_str(), "{}", q.text);
        let rel = decide(json!({"decision": "release"})).await;
        assert_eq!(rel.status, 409, "{}", rel.text);
        assert!(rel.text.contains("error 92"), "{}", rel.text);
        assert_eq!(decide(json!({"decision": "fly"})).await.status, 400);
        // Control results are stored apart from the declared data.
        let cr = decide(json!({"decision": "control-results", "results": {"seal": "intact", "found": "beef, 100 kg"}})).await;
        assert_eq!(cr.status, 200, "{}", cr.text);
        // An amendment or a cancellation naming an MRN with a wrong check digit: 400 at the
        // MRN's element (error 93), nothing changed.
        let bad = format!(
            "{}{}",
            &mrn[..17],
            if mrn.ends_with('0') { '1' } else { '0' }
        );
        for (path, kind) in [
            ("/customs/declarations/amend", "COR"),
            ("/customs/declarations/cancellation-requests", "INV"),
        ] {
            let r = post_xml(&s, path, &trader, &follow_up(kind, &bad, "NLBEEF2")).await;
            assert_eq!(r.status, 400, "{path}: {}", r.text);
            assert_eq!(r.body["code"], "invalid_field", "{}", r.text);
            let pointer = r.body["errors"][0]["pointer"].as_str().unwrap();
            assert!(pointer.ends_with("/ID"), "{pointer}");
            assert!(r.text.contains("error 93"), "{}", r.text);
        }
        // An amendment is a new version beside the original.
        let am = post_xml(
            &s,
            "/customs/declarations/amend",
            &trader,
            &follow_up("COR", &mrn, "NLBEEF2"),
        )
        .await;
        assert_eq!(am.status, 202, "{}", am.text);
        // Documents required, then the trader asks to cancel: pending an officer's decision.
        let doc = decide(
            json!({"decision": "documents-required", "reason": "veterinary certificate N853"}),
        )
        .await;
        assert_eq!(doc.status, 200, "{}", doc.text);
        assert_eq!(doc.body["state"], "documents_required");
        let c = post_xml(
            &s,
            "/customs/declarations/cancellation-requests",
            &trader,
            &follow_up("INV", &mrn, "NLBEEF2"),
        )
        .await;
        assert_eq!(c.status, 202, "{}", c.text);
        assert_eq!(c.body["state"], "documents_required");
        // A second cancellation request while one is pending is out of sequence.
        let c2 = post_xml(
            &s,
            "/customs/declarations/cancellation-requests",
            &trader,
            &follow_up("INV", &mrn, "NLBEEF2"),
        )
        .await;
        assert_eq!(c2.status, 409, "{}", c2.text);
        let inv = decide(
            json!({"decision": "invalidate", "reason": "cancelled at the trader's request"}),
        )
        .await;
        assert_eq!(inv.status, 200, "{}", inv.text);
        assert_eq!(inv.body["state"], "invalidated");
        let n = get(
            &s,
            Circle::Trader,
            &format!("/customs/declarations/{conv}/notifications"),
            &trader,
        )
        .await;
        assert_eq!(
            codes(&n.body),
            ["02", "01", "05", "11", "06", "02", "10"],
            "{}",
            n.text
        );
        let o = get(
            &s,
            Circle::Administration,
            &format!("/api/v1/declarations/{id}"),
            &officer,
        )
        .await;
        let kinds: Vec<&str> = o.body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["declaration", "amendment", "cancellation"]);
        assert_eq!(o.body["messages"][1]["version"], 2);
        assert_eq!(o.body["declaration"]["version"], 2);
        assert_eq!(o.body["control_results"][0]["result"]["seal"], "intact");
        assert!(
            o.body["history"].to_string().contains("veterinary"),
            "{}",
            o.body["history"]
        );
        // Nothing follows an invalidation.
        assert_eq!(decide(json!({"decision": "control"})).await.status, 409);
    }
}

#[tokio::test]
async fn tenant_isolation_and_declarant_check() {
    let Some(dms) = dms_reference() else { return };
    for s in TestServer::all().await {
        let trader = s.token("trader:NL000000001");
        let other = s.token("trader:DE000000002");
        let de_officer = s.token("officer:DE/mmueller");
        // Lodging a declaration of another declarant is refused.
        let r = post_xml(
            &s,
            "/customs/declarations",
            &other,
            &nl_import(&dms, "NLORANGE3"),
        )
        .await;
        assert_eq!(r.status, 403, "{}", r.text);
        let r = post_xml(
            &s,
            "/customs/declarations",
            &trader,
            &nl_import(&dms, "NLORANGE3"),
        )
        .await;
        assert_eq!(r.status, 202, "{}", r.text);
        let conv = r.body["conversationId"].as_str().unwrap();
        let id = r.body["declarationId"].as_str().unwrap();
        // Another trader and another administration see nothing of it.
        let n = get(
            &s,
            Circle::Trader,
            &format!("/customs/declarations/{conv}/notifications"),
            &other,
        )
        .await;
        assert_eq!(n.status, 404, "{}", n.text);
        let d = get(
            &s,
            Circle::Administration,
            &format!("/api/v1/declarations/{id}"),
            &de_officer,
        )
        .await;
        assert_eq!(d.status, 404, "{}", d.text);
        let q = get(
            &s,
            Circle::Administration,
            "/api/v1/declarations",
            &de_officer,
        )
        .await;
        assert_eq!(q.status, 200, "{}", q.text);
        assert!(q.body["items"].as_array().unwrap().is_empty());
        let q = get(
            &s,
            Circle::Administration,
            "/api/v1/declarations?state=cleared",
            &s.token("officer:NL/jdevries"),
        )
        .await;
        assert_eq!(q.body["items"].as_array().unwrap().len(), 1, "{}", q.text);
        // Schema errors name the element and the rule.
        let bad = nl_import(&dms, "NLORANGE4").replace(
            "<FunctionCode>9</FunctionCode>",
            "<FunctionCode>X</FunctionCode>",
        );
        let r = post_xml(&s, "/customs/declarations", &trader, &bad).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.body["code"], "schema_validation", "{}", r.text);
        assert!(r.text.contains("PDMS0001"), "{}", r.text);
    }
}

#[tokio::test]
async fn webhook_push_is_hmac_signed() {
    use axum::routing::post;
    let Some(dms) = dms_reference() else { return };
    // The listener is on loopback: this server allows private webhook addresses.
    let s = TestServer::start_configured(
        portorium_store::testing::TestDb::sqlite().unwrap(),
        portorium_trust::Federation::new(Vec::new()),
        |c| c.allow_private_webhooks = true,
    )
    .await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, String, String)>();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: axum::http::HeaderMap, body: String| {
            let tx = tx.clone();
            async move {
                let sig = headers["x-portorium-signature"]
                    .to_str()
                    .unwrap()
                    .to_owned();
                let conv = headers["x-conversation-id"].to_str().unwrap().to_owned();
                let _ = tx.send((sig, conv, body));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let trader = s.token("trader:NL000000001");
    let secret = "a-long-shared-secret-0123";
    let r = call(
        "PUT",
        &format!("{}/api/v1/declarations/webhook", s.url(Circle::Trader)),
        Some(&trader),
        Some(&json!({"url": format!("http://{addr}/hook"), "secret": secret}).to_string()),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = post_xml(
        &s,
        "/customs/declarations",
        &trader,
        &nl_import(&dms, "NLORANGE5"),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let conv = r.body["conversationId"].as_str().unwrap().to_owned();
    let mut got = Vec::new();
    while got.len() < 5 {
        let item = tokio::time::timeout(std::time::Duration::from_secs(20), rx.recv())
            .await
            .expect("webhook delivery")
            .unwrap();
        got.push(item);
    }
    for (sig, c, body) in &got {
        assert_eq!(c, &conv);
        assert_eq!(
            sig,
            &portorium_server::dms::signature(secret, body.as_bytes())
        );
        assert_ne!(
            sig,
            &portorium_server::dms::signature("another-secret-xxxxx", body.as_bytes())
        );
    }
    // Delivered notifications are marked so.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let scoped = s.state.store.scoped(portorium_store::Scope::of(
        &"trader:NL000000001".parse::<PrincipalId>().unwrap(),
    ));
    let d = scoped.dms_by_conversation(&conv).await.unwrap();
    let ns = scoped.dms_notifications(&d.id).await.unwrap();
    assert!(ns.iter().all(|n| n.delivery == "delivered"), "{ns:?}");
}

/// The LRN element's text replaced (the samples share LRNs across scenarios).
fn with_lrn(xml: &str, lrn: &str) -> String {
    let Some(i) = xml.find("FunctionalReferenceID>") else {
        return xml.to_owned();
    };
    let start = i + "FunctionalReferenceID>".len();
    let end = start + xml[start..].find('<').unwrap();
    format!("{}{lrn}{}", &xml[..start], &xml[end..])
}

#[tokio::test]
async fn every_accepted_hmrc_sample_declaration_lodges() {
    let Some(dms) = dms_reference() else { return };
    let schemas = portorium_declarations::dms::DmsSchemas::load(&dms.join("schemas")).unwrap();
    let mut samples = Vec::new();
    let mut stack = vec![dms.join("examples")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if dir != dms.join("examples")
                    || p.file_name().unwrap().to_string_lossy().starts_with("TT_")
                {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("xml")) {
                let bytes = std::fs::read(&p).unwrap();
                if let Ok(d) = validate_message(&schemas, DmsMessageKind::Declaration, &bytes) {
                    samples.push((p, bytes, d));
                }
            }
        }
    }
    samples.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        samples.len() > 100,
        "{} original declarations",
        samples.len()
    );
    for s in TestServer::all().await {
        // The samples are British: GB is made an administration here (the demo has NL and DE),
        // and every declarant a trader with a token.
        let mut tokens = std::collections::HashMap::new();
        for (_, _, d) in &samples {
            let country = d.routing_country().unwrap();
            // A country that is no ISO code (HMRC's `ZU` test location) routes nowhere.
            let Ok(code) = country.parse::<portorium_kernel::TenantCode>() else {
                continue;
            };
            if s.state.store.get_tenant(&code).await.is_err() {
                s.state
                    .store
                    .create_tenant(
                        &code,
                        &format!("{country} customs"),
                        &"GBP".parse().unwrap(),
                    )
                    .await
                    .unwrap();
            }
            let eori = d.declarant.as_ref().unwrap().value.clone();
            if !tokens.contains_key(&eori) {
                let e: portorium_kernel::Eori = eori.parse().unwrap();
                // The EORI's issuing country must be an administration too (XI EORIs).
                let issuer: portorium_kernel::TenantCode = e.country().parse().unwrap();
                if s.state.store.get_tenant(&issuer).await.is_err() {
                    s.state
                        .store
                        .create_tenant(&issuer, "sample EORI issuer", &"GBP".parse().unwrap())
                        .await
                        .unwrap();
                }
                // Registered once per EORI (a repeat is a conflict).
                let _ = s.state.store.register_trader(&e, "sample declarant").await;
                let (t, _) = portorium_server::auth::issue_token(
                    &s.state.store,
                    &PrincipalId::Trader(e),
                    None,
                    Some("dms samples"),
                )
                .await
                .unwrap();
                tokens.insert(eori.clone(), t);
            }
        }
        let mut states = std::collections::BTreeMap::<String, usize>::new();
        let mut unroutable = Vec::new();
        for (i, (path, bytes, d)) in samples.iter().enumerate() {
            let xml = with_lrn(&String::from_utf8_lossy(bytes), &format!("SAMPLE{i:05}"));
            assert!(parse_declaration(xml.as_bytes()).is_ok());
            let token = &tokens[&d.declarant.as_ref().unwrap().value];
            let r = post_xml(&s, "/customs/declarations", token, &xml).await;
            let routable = d
                .routing_country()
                .is_some_and(|c| c.parse::<portorium_kernel::TenantCode>().is_ok());
            if !routable {
                assert_eq!(r.status, 400, "{}: {}", path.display(), r.text);
                unroutable.push(path.display().to_string());
                continue;
            }
            assert_eq!(
                r.status,
                202,
                "{} {}: {}",
                s.db_label,
                path.display(),
                r.text
            );
            assert!(r.body["mrn"].is_string());
            *states
                .entry(r.body["state"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        eprintln!(
            "{}: {} HMRC sample declarations lodged, by state: {states:?}; not routable to an administration (400): {unroutable:?}",
            s.db_label,
            samples.len() - unroutable.len()
        );
        assert!(unroutable.len() <= 5, "{unroutable:?}");
    }
}

/// An NL import whose commodity code breaks a business rule (DE 6/14: 6, 8 or 10 digits)
/// while the message still passes the XSD.
fn nl_import_bad_commodity(dms: &std::path::Path, lrn: &str) -> String {
    nl_import(dms, lrn).replace("<ID>08051022</ID>", "<ID>0805102</ID>")
}

#[tokio::test]
async fn business_rule_failure_is_stored_rejected_and_frees_the_lrn() {
    let Some(dms) = dms_reference() else { return };
    for s in TestServer::all().await {
        let trader = s.token("trader:NL000000001");
        let officer = s.token("officer:NL/jdevries");
        let bad = nl_import_bad_commodity(&dms, "NLREJ1");
        let r = post_xml(&s, "/customs/declarations", &trader, &bad).await;
        assert_eq!(r.status, 202, "{}: {}", s.db_label, r.text);
        assert_eq!(r.body["state"], "rejected", "{}", r.text);
        assert!(r.body["mrn"].is_null(), "{}", r.text);
        let conv = r.headers["x-conversation-id"].to_str().unwrap().to_owned();
        assert_eq!(r.body["conversationId"], conv.as_str());
        let id = r.body["declarationId"].as_str().unwrap().to_owned();

        // By pull: received, then rejected with the error's code and WCO pointer.
        let n = get(
            &s,
            Circle::Trader,
            &format!("/customs/declarations/{conv}/notifications"),
            &trader,
        )
        .await;
        assert_eq!(n.status, 200, "{}", n.text);
        assert_eq!(codes(&n.body), ["02", "03"], "{}", n.text);
        assert_eq!(n.body[1]["name"], "DMSREJ");
        let rej = n.body[1]["body"].as_str().unwrap();
        let parsed = portorium_declarations::dms::parse_notification(rej.as_bytes()).unwrap();
        assert!(
            parsed
                .errors
                .iter()
                .any(|(code, pointers)| code == "PDMS0016"
                    && pointers.iter().any(|p| p.contains("42A"))),
            "{rej}"
        );

        // The declared data is stored as received; the officer sees the rejection.
        let o = get(
            &s,
            Circle::Administration,
            &format!("/api/v1/declarations/{id}"),
            &officer,
        )
        .await;
        assert_eq!(o.status, 200, "{}", o.text);
        assert_eq!(o.body["declaration"]["state"], "rejected");
        assert_eq!(o.body["messages"][0]["body"].as_str().unwrap(), bad);
        let actions: Vec<&str> = o.body["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["lodge", "reject"], "{}", o.text);

        // The same rejected declaration again is the same answer.
        let again = post_xml(&s, "/customs/declarations", &trader, &bad).await;
        assert_eq!(again.status, 202, "{}", again.text);
        assert_eq!(again.body["conversationId"], conv.as_str());
        assert_eq!(again.body["state"], "rejected");

        // The LRN is free: the corrected declaration is accepted under it.
        let good = post_xml(
            &s,
            "/customs/declarations",
            &trader,
            &nl_import(&dms, "NLREJ1"),
        )
        .await;
        assert_eq!(good.status, 202, "{}", good.text);
        assert_ne!(good.body["conversationId"], conv.as_str());
        assert_eq!(good.body["state"], "cleared", "{}", good.text);

        // A schema failure still stores nothing: 400 problem+json.
        let schema_bad = nl_import(&dms, "NLREJ2").replace(
            "<FunctionCode>9</FunctionCode>",
            "<FunctionCode>X</FunctionCode>",
        );
        let r = post_xml(&s, "/customs/declarations", &trader, &schema_bad).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.body["code"], "schema_validation");
        let q = get(
            &s,
            Circle::Administration,
            "/api/v1/declarations?state=rejected",
            &officer,
        )
        .await;
        assert_eq!(q.body["items"].as_array().unwrap().len(), 1, "{}", q.text);
    }
}

#[tokio::test]
async fn rejection_is_pushed_to_the_webhook() {
    use axum::routing::post;
    let Some(dms) = dms_reference() else { return };
    let s = TestServer::start_configured(
        portorium_store::testing::TestDb::sqlite().unwrap(),
        portorium_trust::Federation::new(Vec::new()),
        |c| c.allow_private_webhooks = true,
    )
    .await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: String| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(body);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let trader = s.token("trader:NL000000001");
    let r = call(
        "PUT",
        &format!("{}/api/v1/declarations/webhook", s.url(Circle::Trader)),
        Some(&trader),
        Some(
            &json!({"url": format!("http://{addr}/hook"), "secret": "a-long-shared-secret-0123"})
                .to_string(),
        ),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = post_xml(
        &s,
        "/customs/declarations",
        &trader,
        &nl_import_bad_commodity(&dms, "NLREJ3"),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let mut names = Vec::new();
    while names.len() < 2 {
        let body = tokio::time::timeout(std::time::Duration::from_secs(20), rx.recv())
            .await
            .expect("webhook delivery")
            .unwrap();
        let n = portorium_declarations::dms::parse_notification(body.as_bytes()).unwrap();
        names.push((n.function_code.clone(), n.errors.len()));
    }
    assert_eq!(names[0].0, "02");
    assert_eq!(names[1].0, "03");
    assert!(names[1].1 >= 1, "{names:?}");
}

#[tokio::test]
async fn webhook_urls_must_be_public_http() {
    let s = TestServer::sqlite().await;
    let trader = s.token("trader:NL000000001");
    for url in [
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://10.1.2.3/hook",
        "http://172.16.0.1/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://[::1]/hook",
        "http://[fd00::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "https:///nohost",
    ] {
        let r = call(
            "PUT",
            &format!("{}/api/v1/declarations/webhook", s.url(Circle::Trader)),
            Some(&trader),
            Some(&json!({"url": url, "secret": "a-long-shared-secret-0123"}).to_string()),
            &[],
        )
        .await;
        assert_eq!(r.status, 400, "{url}: {}", r.text);
        assert_eq!(r.body["errors"][0]["pointer"], "/url", "{url}: {}", r.text);
        assert!(
            r.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/problem+json"),
            "{url}"
        );
    }
    // Public addresses pass the check (no network needed for IP literals).
    for url in [
        "http://93.184.215.14/hook",
        "https://[2606:4700::1111]:8443/h",
    ] {
        assert!(
            portorium_server::dms::check_webhook_url(url, false)
                .await
                .is_ok(),
            "{url}"
        );
    }
    assert!(
        portorium_server::dms::check_webhook_url("http://127.0.0.1:9/", true)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn webhook_delivery_rechecks_the_address() {
    use axum::routing::post;
    let Some(dms) = dms_reference() else { return };
    // Private addresses refused (the default); the webhook is stored behind the check's back,
    // as if its name had resolved to a public address at registration.
    let s = TestServer::sqlite().await;
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move || {
            let h = h.clone();
            async move {
                h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let scoped = s.state.store.scoped(portorium_store::Scope::of(
        &"trader:NL000000001".parse::<PrincipalId>().unwrap(),
    ));
    scoped
        .dms_set_webhook(&format!("http://{addr}/hook"), "a-long-shared-secret-0123")
        .await
        .unwrap();
    let trader = s.token("trader:NL000000001");
    let r = post_xml(
        &s,
        "/customs/declarations",
        &trader,
        &nl_import(&dms, "NLHOOK9"),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let conv = r.body["conversationId"].as_str().unwrap().to_owned();
    let d = scoped.dms_by_conversation(&conv).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let ns = scoped.dms_notifications(&d.id).await.unwrap();
        if ns.iter().all(|n| n.attempts > 0) {
            assert!(
                ns.iter().all(|n| n.delivery != "delivered"
                    && n.last_error.as_deref().unwrap_or("").contains("127.0.0.1")),
                "{ns:?}"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{ns:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn declaration_actions_are_authorized() {
    let Some(dms) = dms_reference() else { return };
    for s in TestServer::all().await {
        let trader = s.token("trader:NL000000001");
        let r = post_xml(
            &s,
            "/customs/declarations",
            &trader,
            &nl_beef(&dms, "NLAUTH1"),
        )
        .await;
        assert_eq!(r.status, 202, "{}", r.text);
        let id = r.body["declarationId"].as_str().unwrap().to_owned();
        let detail = format!("/api/v1/declarations/{id}");
        let decide = format!(
            "{}/api/v1/declarations/{id}/decisions",
            s.url(Circle::Administration)
        );
        // A trader's credential is refused on the administration gateway (circle).
        for (method, url) in [
            ("GET", format!("{}{detail}", s.url(Circle::Administration))),
            (
                "GET",
                format!("{}/api/v1/declarations", s.url(Circle::Administration)),
            ),
            ("POST", decide.clone()),
        ] {
            let r = call(
                method,
                &url,
                Some(&trader),
                Some(r#"{"decision":"release"}"#),
                &[],
            )
            .await;
            assert_eq!(r.status, 403, "{method} {url}: {}", r.text);
            assert_eq!(r.body["code"], "wrong_circle");
        }
        // Another administration's officer: 404 for the declaration and its decisions.
        let de = s.token("officer:DE/mmueller");
        assert_eq!(
            get(&s, Circle::Administration, &detail, &de).await.status,
            404
        );
        let r = call(
            "POST",
            &decide,
            Some(&de),
            Some(r#"{"decision":"release"}"#),
            &[],
        )
        .await;
        assert_eq!(r.status, 404, "{}", r.text);
        // The national system and the national security officer read (as for transit), but
        // do not decide.
        for p in ["system:NL/ncts-nl", "security:NL/kvisser"] {
            let t = s.token(p);
            let r = get(&s, Circle::Administration, &detail, &t).await;
            assert_eq!(r.status, 200, "{p}: {}", r.text);
            let q = get(&s, Circle::Administration, "/api/v1/declarations", &t).await;
            assert_eq!(q.status, 200, "{p}: {}", q.text);
            let r = call(
                "POST",
                &decide,
                Some(&t),
                Some(r#"{"decision":"release"}"#),
                &[],
            )
            .await;
            assert_eq!(r.status, 403, "{p}: {}", r.text);
            assert_eq!(r.body["code"], "forbidden", "{p}: {}", r.text);
        }
        // The officer of the administration decides.
        let r = call(
            "POST",
            &decide,
            Some(&s.token("officer:NL/jdevries")),
            Some(r#"{"decision":"documents-required","reason":"veterinary certificate"}"#),
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
}
