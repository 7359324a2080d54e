//! The declaration service's administration API end to end (reference data, authorisations,
//! guarantees and their balance), on every backend under test: the demo data is there, an
//! administration manages only its own rows, a trader reads only its own guarantee's balance
//! and only with its access code, and bad input gets a problem naming the field.

use super::call;
use portorium_kernel::Circle;
use portorium_server::testing::TestServer;
use portorium_store::Scope;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;

const NL_GRN: &str = "26NLDEMO000000012";
const NL_SMALL_GRN: &str = "26NLDEMO000000021";
const DE_GRN: &str = "26DEDEMO000000014";

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(
        v.as_str()
            .unwrap_or_else(|| panic!("not a decimal string: {v}")),
    )
    .unwrap()
}

fn strings(body: &Value, field: &str) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {body}"))
        .iter()
        .map(|i| i[field].as_str().unwrap().to_owned())
        .collect()
}

/// A 400 problem+json naming `pointer`, with `code`.
fn assert_field(r: &super::Resp, code: &str, pointer: &str) {
    assert_eq!(r.status, 400, "{pointer}: {}", r.text);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(r.body["code"], code, "{}", r.text);
    assert_eq!(r.body["errors"][0]["pointer"], pointer, "{}", r.text);
}

#[tokio::test]
async fn declarations_admin_reference_data_offices_and_imports() {
    for s in TestServer::all().await {
        let admin = s.url(Circle::Administration);
        let nl = s.token("officer:NL/jdevries");
        let liso = s.token("security:central/lmartin");
        let agency = s.token("agency:NL/NVWA/pbakker");
        let admin = admin.as_str();
        let get = |path: String, token: String| async move {
            call("GET", &format!("{admin}{path}"), Some(&token), None, &[]).await
        };

        // The caller's country by default: the three NL demo offices.
        let r = get("/api/v1/refdata/offices".into(), nl.clone()).await;
        assert_eq!(r.status, 200, "[{}] {}", s.db_label, r.text);
        assert_eq!(
            strings(&r.body, "reference"),
            ["NL000396", "NL000510", "NL000854"]
        );
        // By country and role.
        let r = get(
            "/api/v1/refdata/offices?country=FR&role=DES".into(),
            nl.clone(),
        )
        .await;
        assert_eq!(
            strings(&r.body, "reference"),
            ["FR000690", "FR002910", "FR006700"]
        );
        let r = get(
            "/api/v1/refdata/offices?country=BE&role=TRA".into(),
            nl.clone(),
        )
        .await;
        assert_eq!(strings(&r.body, "reference"), ["BE101000"]);
        // Before the demo list's validity: nothing.
        let r = get(
            "/api/v1/refdata/offices?country=DE&as_of=2025-06-30".into(),
            nl.clone(),
        )
        .await;
        assert_eq!(r.status, 200);
        assert!(r.body["items"].as_array().unwrap().is_empty(), "{}", r.text);
        // Paged.
        let r = get(
            "/api/v1/refdata/offices?country=DE&limit=3".into(),
            nl.clone(),
        )
        .await;
        assert_eq!(
            strings(&r.body, "reference"),
            ["DE002101", "DE003302", "DE004058"]
        );
        let cursor = r.body["next_cursor"].as_str().unwrap().to_owned();
        let r = get(
            format!("/api/v1/refdata/offices?country=DE&limit=3&cursor={cursor}"),
            nl.clone(),
        )
        .await;
        assert_eq!(strings(&r.body, "reference"), ["DE007351"]);
        assert!(r.body.get("next_cursor").is_none(), "{}", r.text);

        // One office with its competences.
        let r = get("/api/v1/refdata/offices/NL000510".into(), nl.clone()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["name"], "Schiphol Cargo");
        assert_eq!(r.body["city"], "Schiphol");
        assert_eq!(r.body["unlocode"], "NLAMS");
        assert_eq!(r.body["roles"], json!(["DEP", "DES", "ENT", "EXP", "EXT"]));
        assert!(r.body["competences"]
            .as_array()
            .unwrap()
            .contains(&json!({"role": "DEP", "traffic_type": "AIR"})));
        let r = get("/api/v1/refdata/offices/NL999999".into(), nl.clone()).await;
        assert_eq!(r.status, 404, "{}", r.text);
        assert_eq!(r.body["code"], "not_found");

        // The demo import is listed.
        let r = get("/api/v1/refdata/imports".into(), nl.clone()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let first = &r.body["items"][0];
        assert_eq!(first["list_name"], "CustomsOffices");
        assert_eq!(first["entries"], 12);
        assert_eq!(first["imported_by"], "demo");

        // Reference data is common: an agency user and the central security officer read it;
        // a principal without an administration names the country.
        assert_eq!(
            get("/api/v1/refdata/offices/DE004058".into(), agency.clone())
                .await
                .status,
            200
        );
        let r = get("/api/v1/refdata/offices".into(), liso.clone()).await;
        assert_field(&r, "invalid_query", "query:country");
        let r = get("/api/v1/refdata/offices?country=NL".into(), liso.clone()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["items"].as_array().unwrap().len(), 3);

        // Bad input names the parameter.
        for (path, code, pointer) in [
            (
                "/api/v1/refdata/offices?country=nl",
                "invalid_query",
                "query:country",
            ),
            (
                "/api/v1/refdata/offices?role=DEPARTURE",
                "invalid_query",
                "query:role",
            ),
            (
                "/api/v1/refdata/offices?as_of=tomorrow",
                "invalid_query",
                "query:as_of",
            ),
            (
                "/api/v1/refdata/offices?limit=0",
                "invalid_query",
                "query:limit",
            ),
            (
                "/api/v1/refdata/offices?colour=red",
                "invalid_query",
                "query:colour",
            ),
            (
                "/api/v1/refdata/offices/rotterdam",
                "invalid_path",
                "path:reference",
            ),
            (
                "/api/v1/refdata/imports?limit=501",
                "invalid_query",
                "query:limit",
            ),
        ] {
            let r = get(path.into(), nl.clone()).await;
            assert_field(&r, code, pointer);
        }
    }
}

#[tokio::test]
async fn declarations_admin_authorisations_per_administration() {
    for s in TestServer::all().await {
        let admin = s.url(Circle::Administration);
        let url = format!("{admin}/api/v1/authorisations");
        let nl = s.token("officer:NL/jdevries");
        let de = s.token("officer:DE/mmueller");
        let nl_second = s.token("officer:NL/avandijk");
        let agency = s.token("agency:NL/NVWA/pbakker");

        // The demo authorisations, each administration its own.
        let r = call("GET", &url, Some(&nl), None, &[]).await;
        assert_eq!(r.status, 200, "[{}] {}", s.db_label, r.text);
        let mut refs = strings(&r.body, "reference");
        refs.sort();
        assert_eq!(refs, ["NLACR2026000001", "NLCGU2026000001"]);
        assert!(r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["holder"] == "NL000000001" && a["tenant"] == "NL"));
        let r = call("GET", &url, Some(&de), None, &[]).await;
        let mut refs = strings(&r.body, "reference");
        refs.sort();
        assert_eq!(refs, ["DEACR2026000001", "DECGU2026000001"]);
        let r = call(
            "GET",
            &format!("{url}?holder=DE000000002"),
            Some(&nl),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 200);
        assert!(r.body["items"].as_array().unwrap().is_empty(), "{}", r.text);

        // The NL officer registers one.
        let body = json!({
            "holder": "NL000000001",
            "type": "C521",
            "reference": "NLACR2026000099",
            "valid_from": "2026-02-01",
            "valid_until": "2027-12-31"
        })
        .to_string();
        let r = call("POST", &url, Some(&nl), Some(&body), &[]).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["type_code"], "C521");
        assert_eq!(r.body["tenant"], "NL");
        assert_eq!(r.body["valid_until"], "2027-12-31");
        assert_eq!(r.body["created_by"], "officer:NL/jdevries");
        let id = r.body["id"].as_str().unwrap().to_owned();
        // The same type and reference again is a conflict.
        let r = call("POST", &url, Some(&nl), Some(&body), &[]).await;
        assert_eq!(r.status, 409, "{}", r.text);
        assert_eq!(r.body["code"], "conflict");
        // Only officers with the role register; agencies do not even read.
        let r = call("POST", &url, Some(&nl_second), Some(&body), &[]).await;
        assert_eq!(r.status, 403, "{}", r.text);
        let r = call("GET", &url, Some(&agency), None, &[]).await;
        assert_eq!(r.status, 403, "{}", r.text);
        let r = call(
            "GET",
            &format!("{url}?holder=NL000000001"),
            Some(&nl),
            None,
            &[],
        )
        .await;
        assert_eq!(r.body["items"].as_array().unwrap().len(), 3, "{}", r.text);

        // Another administration can neither see nor revoke it.
        let revoke = format!("{url}/{id}/revoke");
        let r = call("POST", &revoke, Some(&de), Some("{}"), &[]).await;
        assert_eq!(r.status, 404, "{}", r.text);
        let r = call("GET", &url, Some(&de), None, &[]).await;
        assert!(!strings(&r.body, "id").contains(&id));
        // Revoked once; twice is an invalid transition.
        let r = call("POST", &revoke, Some(&nl), Some("{}"), &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["revoked_by"], "officer:NL/jdevries");
        assert!(r.body["revoked_at"].is_string());
        let r = call("POST", &revoke, Some(&nl), Some("{}"), &[]).await;
        assert_eq!(r.status, 409, "{}", r.text);
        assert_eq!(r.body["code"], "invalid_transition");

        // Bad input names the field.
        let good = json!({"holder": "NL000000001", "type": "C505", "reference": "NLCGU2026000777"});
        let with = |k: &str, v: Value| {
            let mut b = good.clone();
            b[k] = v;
            b.to_string()
        };
        for (body, code, pointer) in [
            (with("type", json!("ACR")), "invalid_field", "/type"),
            (
                with("reference", json!("  ")),
                "invalid_field",
                "/reference",
            ),
            (
                with("reference", json!("R".repeat(36))),
                "invalid_field",
                "/reference",
            ),
            (
                with("holder", json!("not an eori")),
                "invalid_field",
                "/holder",
            ),
            // Well-formed, but not in the EORI registry.
            (
                with("holder", json!("NL999999999")),
                "invalid_field",
                "/holder",
            ),
            (
                with("valid_from", json!("2026-13-01")),
                "invalid_field",
                "/valid_from",
            ),
            (
                json!({"holder": "NL000000001", "type": "C505", "reference": "X1",
                       "valid_from": "2026-05-01", "valid_until": "2026-04-30"})
                .to_string(),
                "invalid_field",
                "/valid_until",
            ),
            (with("colour", json!("red")), "unknown_field", "/colour"),
            (
                json!({"holder": "NL000000001", "type": "C505"}).to_string(),
                "missing_field",
                "/reference",
            ),
        ] {
            let r = call("POST", &url, Some(&nl), Some(&body), &[]).await;
            assert_field(&r, code, pointer);
        }
        let r = call("GET", &format!("{url}?holder=12345"), Some(&nl), None, &[]).await;
        assert_field(&r, "invalid_query", "query:holder");
    }
}

#[tokio::test]
async fn declarations_admin_guarantees_and_balances() {
    for s in TestServer::all().await {
        let admin = s.url(Circle::Administration);
        let trader = s.url(Circle::Trader);
        let url = format!("{admin}/api/v1/guarantees");
        let nl = s.token("officer:NL/jdevries");
        let de = s.token("officer:DE/mmueller");
        let nl_second = s.token("officer:NL/avandijk");
        let t_nl = s.token("trader:NL000000001");
        let t_de = s.token("trader:DE000000002");

        // The demo guarantees; the access code's hash is never shown.
        let r = call("GET", &url, Some(&nl), None, &[]).await;
        assert_eq!(r.status, 200, "[{}] {}", s.db_label, r.text);
        assert_eq!(strings(&r.body, "grn"), [NL_GRN, NL_SMALL_GRN]);
        assert!(!r.text.contains("argon2") && !r.text.contains("access_code"));
        let r = call("GET", &url, Some(&de), None, &[]).await;
        assert_eq!(strings(&r.body, "grn"), [DE_GRN]);

        // The NL officer registers a guarantee and reads its balance.
        let grn = "26NLTEST000000010";
        let body = json!({
            "grn": grn, "type": "1", "holder": "NL000000001", "access_code": "T3ST",
            "amount": "5000.00", "currency": "EUR"
        })
        .to_string();
        let r = call("POST", &url, Some(&nl), Some(&body), &[]).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["grn"], grn);
        assert_eq!(r.body["guarantee_type"], "1");
        assert_eq!(dec(&r.body["reference_amount"]), Decimal::new(5000, 0));
        assert!(!r.text.contains("T3ST") && !r.text.contains("argon2"));
        let r = call("POST", &url, Some(&nl), Some(&body), &[]).await;
        assert_eq!(r.status, 409, "{}", r.text);
        let r = call("POST", &url, Some(&nl_second), Some(&body), &[]).await;
        assert_eq!(r.status, 403, "{}", r.text);

        let balance = format!("{url}/{grn}/balance");
        let r = call("GET", &balance, Some(&nl), None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(dec(&r.body["reference_amount"]), Decimal::new(5000, 0));
        assert_eq!(dec(&r.body["reserved"]), Decimal::ZERO);
        assert_eq!(dec(&r.body["available"]), Decimal::new(5000, 0));
        assert_eq!(r.body["currency"], "EUR");
        assert_eq!(r.body["reservations"], json!([]));
        // A reservation (as a release for transit makes) shows in the balance.
        let reserved = s
            .state
            .store
            .scoped(Scope::Tenant("NL".parse().unwrap()))
            .guarantee_reserve(grn, "movement-demo-1", Decimal::new(120050, 2))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(reserved.amount, Decimal::new(120050, 2));
        let r = call("GET", &balance, Some(&nl), None, &[]).await;
        assert_eq!(dec(&r.body["reserved"]), Decimal::new(120050, 2));
        assert_eq!(dec(&r.body["available"]), Decimal::new(379950, 2));
        assert_eq!(r.body["reservations"][0]["movement_id"], "movement-demo-1");
        assert_eq!(r.body["reservations"][0]["state"], "reserved");

        // A DE officer sees neither the guarantee nor its balance.
        let r = call("GET", &balance, Some(&de), None, &[]).await;
        assert_eq!(r.status, 404, "{}", r.text);
        let r = call("GET", &url, Some(&de), None, &[]).await;
        assert!(!strings(&r.body, "grn").contains(&grn.to_owned()));
        let r = call(
            "GET",
            &format!("{url}/{DE_GRN}/balance"),
            Some(&de),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(dec(&r.body["reference_amount"]), Decimal::new(75000, 0));

        // The trader reads its own guarantee's balance with the access code.
        let own = format!("{trader}/api/v1/guarantees/{grn}/balance");
        let r = call("GET", &own, Some(&t_nl), None, &[("X-Access-Code", "T3ST")]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(dec(&r.body["available"]), Decimal::new(379950, 2));
        let r = call(
            "GET",
            &format!("{trader}/api/v1/guarantees/{NL_GRN}/balance"),
            Some(&t_nl),
            None,
            &[("X-Access-Code", "NL01")],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(dec(&r.body["reference_amount"]), Decimal::new(100000, 0));
        // A wrong code, another trader's GRN (even with its right code) and an unknown GRN
        // give the same answer.
        for (g, code) in [
            (grn, "NL01"),
            (DE_GRN, "DE01"),
            ("26NLNONE000000019", "T3ST"),
        ] {
            let r = call(
                "GET",
                &format!("{trader}/api/v1/guarantees/{g}/balance"),
                Some(&t_nl),
                None,
                &[("X-Access-Code", code)],
            )
            .await;
            assert_eq!(r.status, 404, "{g}: {}", r.text);
            assert_eq!(r.body["code"], "not_found");
            assert_eq!(
                r.body["detail"],
                format!("no guarantee {g} of yours with this access code")
            );
        }
        // Without the code, or with a malformed GRN: a problem naming what is wrong.
        let r = call("GET", &own, Some(&t_nl), None, &[]).await;
        assert_field(&r, "invalid_field", "header:X-Access-Code");
        let r = call(
            "GET",
            &format!("{trader}/api/v1/guarantees/NL01/balance"),
            Some(&t_nl),
            None,
            &[("X-Access-Code", "NL01")],
        )
        .await;
        assert_field(&r, "invalid_path", "path:grn");
        // The DE trader reads its own; after five failures it is locked out for a while,
        // even with the right code.
        let de_own = format!("{trader}/api/v1/guarantees/{DE_GRN}/balance");
        let r = call(
            "GET",
            &de_own,
            Some(&t_de),
            None,
            &[("X-Access-Code", "DE01")],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        for _ in 0..5 {
            let r = call(
                "GET",
                &de_own,
                Some(&t_de),
                None,
                &[("X-Access-Code", "XXXX")],
            )
            .await;
            assert_eq!(r.status, 404, "{}", r.text);
        }
        let r = call(
            "GET",
            &de_own,
            Some(&t_de),
            None,
            &[("X-Access-Code", "DE01")],
        )
        .await;
        assert_eq!(r.status, 429, "{}", r.text);
        assert_eq!(r.body["code"], "too_many_requests");

        // Bad input names the field.
        let good = json!({
            "grn": "26NLTEST000000029", "type": "1", "holder": "NL000000001",
            "access_code": "AB12", "amount": "10.00", "currency": "EUR"
        });
        let with = |k: &str, v: Value| {
            let mut b = good.clone();
            b[k] = v;
            b.to_string()
        };
        for (body, code, pointer) in [
            (with("grn", json!("GRN-1")), "invalid_field", "/grn"),
            (
                with("grn", json!("26nltest000000029")),
                "invalid_field",
                "/grn",
            ),
            (with("type", json!("11")), "invalid_field", "/type"),
            (
                with("access_code", json!("secret")),
                "invalid_field",
                "/access_code",
            ),
            (with("amount", json!("-5")), "invalid_field", "/amount"),
            (with("amount", json!("1.234")), "invalid_field", "/amount"),
            (with("amount", json!("lots")), "invalid_field", "/amount"),
            (
                with("currency", json!("EURO")),
                "invalid_field",
                "/currency",
            ),
            (
                with("holder", json!("NL999999999")),
                "invalid_field",
                "/holder",
            ),
            (
                with("valid_until", json!("2020-01-01")),
                "invalid_field",
                "/valid_until",
            ),
            (with("pin", json!("1")), "unknown_field", "/pin"),
        ] {
            let r = call("POST", &url, Some(&nl), Some(&body), &[]).await;
            assert_field(&r, code, pointer);
        }
        let r = call("GET", &format!("{url}/bad/balance"), Some(&nl), None, &[]).await;
        assert_field(&r, "invalid_path", "path:grn");
    }
}
