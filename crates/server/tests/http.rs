//! End-to-end HTTP tests against a real server (SQLite, and PostgreSQL when
//! `TEST_DATABASE_URL` is set). The circle-of-trust matrix is generated from the route table.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use portorium_kernel::Circle;
use portorium_server::routes::Access;
use portorium_server::testing::TestServer;
use serde_json::{json, Value};

#[path = "http/declarations_admin.rs"]
mod declarations_admin;
#[path = "http/dms.rs"]
mod dms;
#[path = "http/transit.rs"]
mod transit;

struct Resp {
    status: u16,
    headers: hyper::HeaderMap,
    body: Value,
    text: String,
}

async fn call(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Resp {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut b = hyper::Request::builder().method(method).uri(url);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    if body.is_some()
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        b = b.header("content-type", "application/json");
    }
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let req = b
        .body(Full::new(Bytes::from(body.unwrap_or("").to_owned())))
        .unwrap();
    let resp = client.request(req).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Resp {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

/// A concrete path for a route pattern.
fn concrete(path: &str) -> String {
    path.replace("{code}", "NL")
        .replace("{id}", "x")
        .replace("{seq}", "0")
        .replace("{reference}", "NL000396")
        .replace("{eori}", "NL000000001")
        .replace("{name}", "htmx.min.js")
        .replace("{tenant}", "NL")
        .replace("{month}", "2026-01")
        .split('/')
        .map(|seg| {
            // Any other parameter: a placeholder value.
            if seg.starts_with('{') && seg.ends_with('}') {
                "x"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// One demo credential per circle.
fn credentials(s: &TestServer) -> Vec<(Circle, String)> {
    vec![
        (Circle::Trader, s.token("trader:NL000000001")),
        (Circle::Administration, s.token("officer:NL/jdevries")),
        (Circle::Administration, s.token("agency:NL/NVWA/pbakker")),
        (Circle::Administration, s.token("security:central/lmartin")),
        (Circle::Operations, s.token("operator:admin")),
    ]
}

#[tokio::test]
async fn circle_of_trust_matrix_from_the_route_table() {
    let table = portorium_server::route_table();
    assert!(table.len() > 30, "route table has {} routes", table.len());
    for s in TestServer::all().await {
        let creds = credentials(&s);
        let mut checked = 0;
        for r in &table {
            let url = format!("{}{}", s.url(r.circle), concrete(r.path));
            let body = (r.method == "POST").then_some("{}");
            // 1. A credential of another circle is refused on this route.
            for (circle, token) in creds.iter().filter(|(c, _)| *c != r.circle) {
                let resp = call(r.method, &url, Some(token), body, &[]).await;
                assert!(
                    resp.status == 401 || resp.status == 403,
                    "[{}] {} {} with a {circle} credential gave {}",
                    s.db_label,
                    r.method,
                    r.path,
                    resp.status
                );
                assert_eq!(resp.body["code"], "wrong_circle", "{} {}", r.method, r.path);
                checked += 1;
            }
            // 2. An invalid credential is refused with 401.
            let resp = call(
                r.method,
                &url,
                Some("ptk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                body,
                &[],
            )
            .await;
            assert_eq!(
                resp.status, 401,
                "{} {} with a forged token",
                r.method, r.path
            );
            // 3. Without a credential, protected routes answer 401.
            if r.access == Access::Authenticated {
                let resp = call(r.method, &url, None, body, &[]).await;
                assert_eq!(resp.status, 401, "{} {} anonymously", r.method, r.path);
                if r.api {
                    assert_eq!(resp.headers["content-type"], "application/problem+json");
                }
            }
            // 4. The route exists only on its own circle: other gateways do not serve it.
            for other in Circle::ALL.into_iter().filter(|c| *c != r.circle) {
                let also_there = table
                    .iter()
                    .any(|o| o.circle == other && o.path == r.path && o.method == r.method);
                if also_there {
                    continue;
                }
                let token = creds
                    .iter()
                    .find(|(c, _)| *c == other)
                    .map(|(_, t)| t.as_str());
                let url = format!("{}{}", s.url(other), concrete(r.path));
                let resp = call(r.method, &url, token, body, &[]).await;
                assert!(
                    resp.status == 404 || resp.status == 405,
                    "{} {} reached on the {other} gateway: {}",
                    r.method,
                    r.path,
                    resp.status
                );
            }
        }
        assert!(checked > 100);
    }
}

#[tokio::test]
async fn every_api_route_is_in_the_openapi_document() {
    let s = TestServer::sqlite().await;
    for circle in Circle::ALL {
        let spec = call(
            "GET",
            &format!("{}/openapi.json", s.url(circle)),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(spec.status, 200);
        assert!(spec.body["openapi"].as_str().unwrap().starts_with("3.1"));
        for r in portorium_server::route_table()
            .iter()
            .filter(|r| r.circle == circle && r.api)
        {
            let op = &spec.body["paths"][r.path][r.method.to_lowercase()];
            assert!(
                op.is_object(),
                "{} {} missing from the {circle} OpenAPI document",
                r.method,
                r.path
            );
        }
        let docs = call("GET", &format!("{}/docs/", s.url(circle)), None, None, &[]).await;
        assert_eq!(docs.status, 200, "interactive docs on {circle}");
        assert!(docs.text.contains("swagger"), "swagger ui is served");
    }
}

#[tokio::test]
async fn tenant_isolation_matrix() {
    for s in TestServer::all().await {
        let admin = s.url(Circle::Administration);
        let trader = s.url(Circle::Trader);
        let nl = s.token("officer:NL/jdevries");
        let de = s.token("officer:DE/mmueller");
        let agency = s.token("agency:NL/NVWA/pbakker");
        let t_nl = s.token("trader:NL000000001");
        let t_de = s.token("trader:DE000000002");
        // Officers see their own administration's offices only.
        let r = call(
            "GET",
            &format!("{admin}/api/v1/offices"),
            Some(&nl),
            None,
            &[],
        )
        .await;
        let refs: Vec<&str> = r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["reference"].as_str().unwrap())
            .collect();
        assert!(
            refs.iter().all(|r| r.starts_with("NL")) && !refs.is_empty(),
            "{refs:?}"
        );
        assert_eq!(
            call(
                "GET",
                &format!("{admin}/api/v1/offices/DE004058"),
                Some(&nl),
                None,
                &[]
            )
            .await
            .status,
            404
        );
        assert_eq!(
            call(
                "GET",
                &format!("{admin}/api/v1/offices/DE004058"),
                Some(&de),
                None,
                &[]
            )
            .await
            .status,
            200
        );
        // Officers cannot read or change another administration's traders.
        assert_eq!(
            call(
                "GET",
                &format!("{admin}/api/v1/traders/DE000000002"),
                Some(&nl),
                None,
                &[]
            )
            .await
            .status,
            404
        );
        let r = call(
            "POST",
            &format!("{admin}/api/v1/traders"),
            Some(&nl),
            Some(r#"{"eori":"DE123456","name":"X"}"#),
            &[],
        )
        .await;
        assert_eq!(r.status, 403, "{}", r.text);
        let r = call(
            "POST",
            &format!("{admin}/api/v1/traders"),
            Some(&nl),
            Some(r#"{"eori":"NL123456","name":"Nieuw BV"}"#),
            &[],
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        // A message from NL to its trader and to its agency.
        let m1 = call(
            "POST",
            &format!("{admin}/api/v1/messages"),
            Some(&nl),
            Some(
                r#"{"addressee":"trader:NL000000001","subject":"Invoice","body":"Please send it"}"#,
            ),
            &[],
        )
        .await;
        assert_eq!(m1.status, 201, "{}", m1.text);
        let m2 = call(
            "POST",
            &format!("{admin}/api/v1/messages"),
            Some(&nl),
            Some(r#"{"addressee":"agency:NL/NVWA","subject":"Sample","body":"Take a sample"}"#),
            &[],
        )
        .await;
        assert_eq!(m2.status, 201);
        let id1 = m1.body["id"].as_str().unwrap();
        let id2 = m2.body["id"].as_str().unwrap();
        // DE cannot message NL's trader; an agency cannot send.
        assert_ne!(
            call(
                "POST",
                &format!("{admin}/api/v1/messages"),
                Some(&de),
                Some(r#"{"addressee":"trader:NL000000001","subject":"x","body":"x"}"#),
                &[]
            )
            .await
            .status,
            201
        );
        assert_eq!(
            call(
                "POST",
                &format!("{admin}/api/v1/messages"),
                Some(&agency),
                Some(r#"{"addressee":"trader:NL000000001","subject":"x","body":"x"}"#),
                &[]
            )
            .await
            .status,
            403
        );
        // Each sees only its own.
        let ids = |v: &Value| -> Vec<String> {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            ids(&call(
                "GET",
                &format!("{trader}/api/v1/messages"),
                Some(&t_nl),
                None,
                &[]
            )
            .await
            .body),
            vec![id1.to_owned()]
        );
        assert!(ids(&call(
            "GET",
            &format!("{trader}/api/v1/messages"),
            Some(&t_de),
            None,
            &[]
        )
        .await
        .body)
        .is_empty());
        assert_eq!(
            ids(&call(
                "GET",
                &format!("{admin}/api/v1/messages"),
                Some(&agency),
                None,
                &[]
            )
            .await
            .body),
            vec![id2.to_owned()]
        );
        assert!(ids(&call(
            "GET",
            &format!("{admin}/api/v1/messages"),
            Some(&de),
            None,
            &[]
        )
        .await
        .body)
        .is_empty());
        assert_eq!(
            call(
                "GET",
                &format!("{trader}/api/v1/messages/{id1}"),
                Some(&t_de),
                None,
                &[]
            )
            .await
            .status,
            404
        );
        assert_eq!(
            call(
                "GET",
                &format!("{admin}/api/v1/messages/{id1}"),
                Some(&agency),
                None,
                &[]
            )
            .await
            .status,
            404
        );
        assert_eq!(
            call(
                "GET",
                &format!("{admin}/api/v1/messages/{id1}"),
                Some(&de),
                None,
                &[]
            )
            .await
            .status,
            404
        );
        assert_eq!(
            call(
                "GET",
                &format!("{trader}/api/v1/messages/{id1}"),
                Some(&t_nl),
                None,
                &[]
            )
            .await
            .status,
            200
        );
        // A trader sees only its own registry record.
        assert_eq!(
            call(
                "GET",
                &format!("{trader}/api/v1/traders/NL000000001"),
                Some(&t_nl),
                None,
                &[]
            )
            .await
            .status,
            200
        );
        assert_eq!(
            call(
                "GET",
                &format!("{trader}/api/v1/traders/DE000000002"),
                Some(&t_nl),
                None,
                &[]
            )
            .await
            .status,
            404
        );
        // Security officers: a NISO reads its own administration's audit trail; the LISO all.
        let niso = call(
            "GET",
            &format!("{admin}/api/v1/security/audit-entries"),
            Some(&s.token("security:NL/kvisser")),
            None,
            &[],
        )
        .await;
        assert_eq!(niso.status, 200);
        assert!(niso.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["tenant"] == "NL"));
        assert_eq!(
            call(
                "GET",
                &format!("{admin}/api/v1/security/audit-entries"),
                Some(&nl),
                None,
                &[]
            )
            .await
            .status,
            403
        );
    }
}

#[tokio::test]
async fn bad_input_gets_problem_json_never_500() {
    let s = TestServer::sqlite().await;
    let ops = s.url(Circle::Operations);
    let op = s.token("operator:admin");
    let cases: &[(&str, &str, u16, &str, Option<&str>)] = &[
        (
            r#"{"code":"BE","name":"Belgium","currency":"EUR","colour":"red"}"#,
            "unknown_field",
            400,
            "",
            Some("/colour"),
        ),
        (
            r#"{"code":"BE","name":"Belgium"}"#,
            "missing_field",
            400,
            "",
            Some("/currency"),
        ),
        (
            r#"{"code":"ZZ","name":"Nowhere","currency":"EUR"}"#,
            "invalid_field",
            400,
            "",
            Some("/code"),
        ),
        (
            r#"{"code":"BE","name":"Belgium","currency":"EURO"}"#,
            "invalid_field",
            400,
            "",
            Some("/currency"),
        ),
        (r#"{"code":"BE","name":"#, "malformed_body", 400, "", None),
        (r#"[1,2,3]"#, "invalid_field", 400, "", None),
        (
            r#"{"code":"NL","name":"Again","currency":"EUR"}"#,
            "conflict",
            409,
            "",
            None,
        ),
    ];
    for (body, code, status, _, pointer) in cases {
        let r = call(
            "POST",
            &format!("{ops}/api/v1/tenants"),
            Some(&op),
            Some(body),
            &[],
        )
        .await;
        assert_eq!(r.status, *status, "{body}: {}", r.text);
        assert_eq!(r.body["code"], *code, "{body}: {}", r.text);
        assert_eq!(r.headers["content-type"], "application/problem+json");
        if let Some(p) = pointer {
            assert_eq!(r.body["errors"][0]["pointer"], *p, "{body}: {}", r.text);
        }
    }
    // Wrong media type, oversized body, bad query and path parameters, unknown route.
    let client = call(
        "POST",
        &format!("{ops}/api/v1/tenants"),
        Some(&op),
        None,
        &[("content-type", "text/plain")],
    )
    .await;
    assert_eq!(client.status, 415);
    let big = format!(
        r#"{{"code":"BE","name":"{}","currency":"EUR"}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let r = call(
        "POST",
        &format!("{ops}/api/v1/tenants"),
        Some(&op),
        Some(&big),
        &[],
    )
    .await;
    assert_eq!(r.status, 413);
    assert_eq!(r.body["code"], "payload_too_large");
    // A calculator's body is not buffered by the audit layer, but the same limit applies.
    let big = format!(
        r#"{{"commodity_code":"8471300000","origin":"CN","note":"{}"}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let r = call(
        "POST",
        &format!(
            "{}/api/v1/tariffs/NL/duty-calculations",
            s.url(Circle::Trader)
        ),
        None,
        Some(&big),
        &[],
    )
    .await;
    assert_eq!(r.status, 413);
    assert_eq!(r.body["code"], "payload_too_large");
    let r = call(
        "GET",
        &format!("{ops}/api/v1/tenants?limit=0"),
        Some(&op),
        None,
        &[],
    )
    .await;
    assert_eq!(
        (r.status, r.body["errors"][0]["pointer"].as_str()),
        (400, Some("query:limit"))
    );
    let r = call(
        "GET",
        &format!("{ops}/api/v1/tenants?limit=abc"),
        Some(&op),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 400);
    let r = call(
        "GET",
        &format!("{ops}/api/v1/tenants?cursor=%%%"),
        Some(&op),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 400);
    let r = call(
        "GET",
        &format!("{ops}/api/v1/tenants/nl"),
        Some(&op),
        None,
        &[],
    )
    .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (400, Some("invalid_path"))
    );
    let r = call(
        "GET",
        &format!("{ops}/api/v1/audit/entries/abc"),
        Some(&op),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 400);
    let r = call("GET", &format!("{ops}/nope"), Some(&op), None, &[]).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (404, Some("route_not_found"))
    );
    let r = call(
        "DELETE",
        &format!("{ops}/api/v1/tenants"),
        Some(&op),
        None,
        &[],
    )
    .await;
    assert_eq!(r.status, 405);
    // Garbage into every POST route: never a 5xx.
    let garbage = [
        "",
        "null",
        "{",
        "\"x\"",
        "{\"a\":{\"b\":[1,{}]}}",
        "{\"id\":\"officer:NL/\",\"display_name\":\"\"}",
        "\u{0}\u{1}",
    ];
    for r in portorium_server::route_table()
        .iter()
        .filter(|r| r.method == "POST")
    {
        let token = credentials(&s)
            .into_iter()
            .find(|(c, _)| *c == r.circle)
            .map(|(_, t)| t);
        for g in garbage {
            let resp = call(
                "POST",
                &format!("{}{}", s.url(r.circle), concrete(r.path)),
                token.as_deref(),
                Some(g),
                &[],
            )
            .await;
            assert!(
                resp.status < 500,
                "POST {} with {g:?} gave {}: {}",
                r.path,
                resp.status,
                resp.text
            );
        }
    }
}

#[tokio::test]
async fn idempotency_keys_etags_and_pagination() {
    for s in TestServer::all().await {
        let ops = s.url(Circle::Operations);
        let op = s.token("operator:admin");
        let body = r#"{"code":"BE","name":"Belgium","currency":"EUR"}"#;
        let key = [("idempotency-key", "create-be-1")];
        let a = call(
            "POST",
            &format!("{ops}/api/v1/tenants"),
            Some(&op),
            Some(body),
            &key,
        )
        .await;
        assert_eq!(a.status, 201, "{}", a.text);
        let b = call(
            "POST",
            &format!("{ops}/api/v1/tenants"),
            Some(&op),
            Some(body),
            &key,
        )
        .await;
        assert_eq!(b.status, 201, "replayed, not a conflict: {}", b.text);
        assert_eq!(b.body, a.body);
        assert_eq!(b.headers["idempotent-replayed"], "true");
        let other = r#"{"code":"LU","name":"Luxembourg","currency":"EUR"}"#;
        let c = call(
            "POST",
            &format!("{ops}/api/v1/tenants"),
            Some(&op),
            Some(other),
            &key,
        )
        .await;
        assert_eq!(
            (c.status, c.body["code"].as_str()),
            (422, Some("idempotency_key_mismatch"))
        );
        // ETag and conditional GET.
        let g = call(
            "GET",
            &format!("{ops}/api/v1/tenants/BE"),
            Some(&op),
            None,
            &[],
        )
        .await;
        let etag = g.headers["etag"].to_str().unwrap().to_owned();
        let h = call(
            "GET",
            &format!("{ops}/api/v1/tenants/BE"),
            Some(&op),
            None,
            &[("if-none-match", &etag)],
        )
        .await;
        assert_eq!(h.status, 304);
        // Cursor pagination walks every tenant exactly once.
        let mut seen = Vec::new();
        let mut url = format!("{ops}/api/v1/tenants?limit=1");
        loop {
            let p = call("GET", &url, Some(&op), None, &[]).await;
            assert_eq!(p.status, 200);
            for t in p.body["items"].as_array().unwrap() {
                seen.push(t["code"].as_str().unwrap().to_owned());
            }
            match p.body["next_cursor"].as_str() {
                Some(c) => url = format!("{ops}/api/v1/tenants?limit=1&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen, vec!["BE", "DE", "NL"]);
    }
}

#[tokio::test]
async fn tokens_audit_and_operations() {
    for s in TestServer::all().await {
        let ops = s.url(Circle::Operations);
        let admin = s.url(Circle::Administration);
        let op = s.token("operator:admin");
        // Issue a token through the API; it works on its own circle only, until revoked.
        let r = call(
            "POST",
            &format!("{ops}/api/v1/tokens"),
            Some(&op),
            Some(r#"{"principal":"officer:DE/mmueller","ttl":"1h","label":"test"}"#),
            &[],
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let secret = r.body["token"].as_str().unwrap().to_owned();
        let id = r.body["id"].as_str().unwrap().to_owned();
        assert_eq!(r.body["circle"], "administration");
        assert_eq!(
            call(
                "GET",
                &format!("{admin}/api/v1/me"),
                Some(&secret),
                None,
                &[]
            )
            .await
            .status,
            200
        );
        let rv = call(
            "POST",
            &format!("{ops}/api/v1/tokens/{id}/revoke"),
            Some(&op),
            None,
            &[],
        )
        .await;
        assert_eq!(rv.status, 200, "{}", rv.text);
        assert_eq!(
            call(
                "GET",
                &format!("{admin}/api/v1/me"),
                Some(&secret),
                None,
                &[]
            )
            .await
            .status,
            401
        );
        // A refused access is audited as denied; a token issue as success.
        let trader_token = s.token("trader:NL000000001");
        assert_eq!(
            call(
                "GET",
                &format!("{admin}/api/v1/me"),
                Some(&trader_token),
                None,
                &[]
            )
            .await
            .status,
            403
        );
        let cp = call(
            "POST",
            &format!("{ops}/api/v1/audit/checkpoints"),
            Some(&op),
            None,
            &[],
        )
        .await;
        assert_eq!(cp.status, 201, "{}", cp.text);
        let entries = call(
            "GET",
            &format!("{ops}/api/v1/audit/entries?limit=500"),
            Some(&op),
            None,
            &[],
        )
        .await;
        let items = entries.body["items"].as_array().unwrap();
        assert!(items.iter().any(|e| e["action"] == "POST /api/v1/tokens"
            && e["outcome"] == "success"
            && e["principal"] == "operator:admin"));
        assert!(items.iter().any(|e| e["outcome"] == "denied"
            && e["principal"] == "trader:NL000000001"
            && e["circle"] == "administration"));
        assert!(items.iter().all(|e| e["request_id"].is_string()));
        // Inclusion proof of the last entry verifies against the signed checkpoint.
        let size = cp.body["size"].as_u64().unwrap();
        let proof = call(
            "GET",
            &format!(
                "{ops}/api/v1/audit/proofs/inclusion?seq={}&tree_size={size}",
                size - 1
            ),
            Some(&op),
            None,
            &[],
        )
        .await;
        assert_eq!(proof.status, 200, "{}", proof.text);
        let hashes: Vec<[u8; 32]> = proof.body["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                hex::decode(h.as_str().unwrap())
                    .unwrap()
                    .try_into()
                    .unwrap()
            })
            .collect();
        let leaf: [u8; 32] = hex::decode(proof.body["leaf_hash"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let root: [u8; 32] = hex::decode(proof.body["root"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        assert!(portorium_audit::verify_inclusion(
            &leaf,
            size - 1,
            size,
            &hashes,
            &root
        ));
        let consistency = call(
            "GET",
            &format!("{ops}/api/v1/audit/proofs/consistency?from=1&to={size}"),
            Some(&op),
            None,
            &[],
        )
        .await;
        assert_eq!(consistency.status, 200);
        // Health, readiness and metrics.
        assert_eq!(
            call("GET", &format!("{ops}/health"), None, None, &[])
                .await
                .status,
            200
        );
        assert_eq!(
            call("GET", &format!("{ops}/ready"), None, None, &[])
                .await
                .status,
            200
        );
        let m = call("GET", &format!("{ops}/metrics"), None, None, &[]).await;
        assert!(
            m.text.contains("http_requests_total"),
            "{}",
            &m.text[..m.text.len().min(500)]
        );
        assert!(m.text.contains("http_request_duration_seconds"));
        assert!(m.headers.contains_key("x-request-id"));
    }
}

/// Traders can use a national identity provider's JWT instead of a Portorium token.
#[tokio::test]
async fn federated_jwt_from_an_identity_provider() {
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../trust/tests/data");
    let jwks = std::fs::read_to_string(format!("{data}/idp-jwks.json")).unwrap();
    let pem = std::fs::read(format!("{data}/idp-ed25519.pem")).unwrap();
    let other = std::fs::read(format!("{data}/idp-ed25519-other.pem")).unwrap();
    let config: portorium_trust::ProviderConfig = serde_json::from_value(json!({
        "issuer": "https://idp.test.example", "audience": "portorium", "kind": "trader",
        "id_claim": "eori", "jwks_file": "idp-jwks.json"
    }))
    .unwrap();
    let federation =
        portorium_trust::Federation::new(vec![portorium_trust::IdentityProvider::new(
            config, &jwks,
        )
        .unwrap()]);
    let s = TestServer::start_on(
        portorium_store::testing::TestDb::sqlite().unwrap(),
        federation,
    )
    .await;
    let now = portorium_kernel::Clock::now(&portorium_kernel::SystemClock).timestamp();
    let jwt = |key: &[u8], eori: &str, exp: i64| {
        let mut h = Header::new(Algorithm::EdDSA);
        h.kid = Some("idp-test-1".into());
        let claims = json!({"iss": "https://idp.test.example", "aud": "portorium", "sub": "u1", "eori": eori, "iat": now, "exp": exp});
        encode(&h, &claims, &EncodingKey::from_ed_pem(key).unwrap()).unwrap()
    };
    let trader = s.url(Circle::Trader);
    let admin = s.url(Circle::Administration);
    let good = jwt(&pem, "NL000000001", now + 600);
    let me = call(
        "GET",
        &format!("{trader}/api/v1/me"),
        Some(&good),
        None,
        &[],
    )
    .await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["principal"]["id"], "trader:NL000000001");
    // A trader's JWT is refused on the administration gateway.
    assert_eq!(
        call("GET", &format!("{admin}/api/v1/me"), Some(&good), None, &[])
            .await
            .status,
        403
    );
    // Expired, wrongly signed, or for an unregistered EORI: 401.
    for bad in [
        jwt(&pem, "NL000000001", now - 3600),
        jwt(&other, "NL000000001", now + 600),
        jwt(&pem, "NL999", now + 600),
        "a.b.c".to_owned(),
    ] {
        let r = call("GET", &format!("{trader}/api/v1/me"), Some(&bad), None, &[]).await;
        assert_eq!(r.status, 401, "{}", r.text);
        assert_eq!(r.body["code"], "invalid_credential");
    }
}

/// Error codes are a public contract: this snapshot changes only on purpose.
#[test]
fn error_codes_are_stable() {
    let table: Vec<Value> = portorium_server::error::ERROR_TABLE
        .iter()
        .map(|(code, status, title)| json!({"code": code, "status": status, "title": title}))
        .collect();
    insta::assert_json_snapshot!("error_table", table);
}

/// Portal logins: failed attempts are throttled per principal and audited under the attempted
/// principal; a successful login is audited under the principal.
#[tokio::test]
async fn portal_login_throttling_and_audit() {
    let s = TestServer::sqlite().await;
    let admin = s.url(Circle::Administration);
    let login = |password: &'static str| {
        let admin = admin.clone();
        async move {
            let page = call("GET", &format!("{admin}/login"), None, None, &[]).await;
            let cookie = page.headers["set-cookie"]
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_owned();
            let marker = "name=\"csrf_token\" value=\"";
            let start = page.text.find(marker).unwrap() + marker.len();
            let csrf = &page.text[start..start + page.text[start..].find('"').unwrap()];
            let form =
                format!("csrf_token={csrf}&principal=officer%3ANL%2Fjdevries&password={password}");
            call(
                "POST",
                &format!("{admin}/login"),
                None,
                Some(&form),
                &[
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("cookie", &cookie),
                ],
            )
            .await
        }
    };
    let ok = login("portorium-demo").await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    for _ in 0..portorium_server::state::LoginThrottle::MAX_FAILURES {
        assert_eq!(login("wrong-password").await.status, 401);
    }
    let locked = login("portorium-demo").await;
    assert_eq!(
        locked.status, 429,
        "locked out even with the right password"
    );
    assert!(locked.text.contains("Too many failed logins"));
    let op = s.token("operator:admin");
    s.state.audit.checkpoint().await.unwrap();
    let entries = call(
        "GET",
        &format!(
            "{}/api/v1/audit/entries?limit=500",
            s.url(Circle::Operations)
        ),
        Some(&op),
        None,
        &[],
    )
    .await;
    let logins: Vec<&Value> = entries.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "POST /login")
        .collect();
    assert_eq!(
        logins.len(),
        2 + portorium_server::state::LoginThrottle::MAX_FAILURES as usize
    );
    assert_eq!(logins[0]["principal"], "officer:NL/jdevries");
    assert_eq!(logins[0]["outcome"], "success");
    assert_eq!(
        logins[1]["principal"],
        "unauthenticated:officer:NL/jdevries"
    );
    assert_eq!(logins[1]["outcome"], "denied");
}

/// Every error code has exactly one row in the table.
#[test]
fn every_error_code_is_in_the_table_once() {
    use portorium_server::error::ERROR_TABLE;
    let mut codes: Vec<String> = ERROR_TABLE.iter().map(|(c, _, _)| c.as_str()).collect();
    let n = codes.len();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), n, "a code appears twice");
    for (code, status, _) in ERROR_TABLE {
        assert_eq!(code.status().as_u16(), *status);
    }
    assert_eq!(
        portorium_server::error::ErrorCode::TooManyRequests
            .status()
            .as_u16(),
        429
    );
}

/// Adding an `ErrorCode` variant fails to compile here until it is listed, and the test then
/// fails until the variant has its row in `ERROR_TABLE` (a missing row would answer 500).
#[test]
fn every_error_code_variant_has_a_row() {
    use portorium_server::error::{ErrorCode, ERROR_TABLE};
    fn index(c: ErrorCode) -> usize {
        match c {
            ErrorCode::MalformedBody => 0,
            ErrorCode::UnknownField => 1,
            ErrorCode::MissingField => 2,
            ErrorCode::InvalidField => 3,
            ErrorCode::InvalidQuery => 4,
            ErrorCode::InvalidPath => 5,
            ErrorCode::UnsupportedMediaType => 6,
            ErrorCode::PayloadTooLarge => 7,
            ErrorCode::Unauthenticated => 8,
            ErrorCode::InvalidCredential => 9,
            ErrorCode::WrongCircle => 10,
            ErrorCode::Forbidden => 11,
            ErrorCode::CsrfFailed => 12,
            ErrorCode::NotFound => 13,
            ErrorCode::RouteNotFound => 14,
            ErrorCode::MethodNotAllowed => 15,
            ErrorCode::Conflict => 16,
            ErrorCode::IdempotencyKeyInUse => 17,
            ErrorCode::TooManyRequests => 18,
            ErrorCode::IdempotencyKeyMismatch => 19,
            ErrorCode::InvalidIdempotencyKey => 20,
            ErrorCode::Internal => 21,
            ErrorCode::Unavailable => 22,
            ErrorCode::BusinessRuleViolation => 23,
            ErrorCode::InvalidTransition => 24,
            ErrorCode::QuotaUnavailable => 25,
            ErrorCode::InvalidImport => 26,
            ErrorCode::SchemaValidation => 27,
            ErrorCode::MessageTypeNotAllowed => 28,
            ErrorCode::DuplicateMessageIdentification => 29,
            ErrorCode::SchemasUnavailable => 30,
        }
    }
    let all = [
        ErrorCode::MalformedBody,
        ErrorCode::UnknownField,
        ErrorCode::MissingField,
        ErrorCode::InvalidField,
        ErrorCode::InvalidQuery,
        ErrorCode::InvalidPath,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::PayloadTooLarge,
        ErrorCode::Unauthenticated,
        ErrorCode::InvalidCredential,
        ErrorCode::WrongCircle,
        ErrorCode::Forbidden,
        ErrorCode::CsrfFailed,
        ErrorCode::NotFound,
        ErrorCode::RouteNotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Conflict,
        ErrorCode::IdempotencyKeyInUse,
        ErrorCode::TooManyRequests,
        ErrorCode::IdempotencyKeyMismatch,
        ErrorCode::InvalidIdempotencyKey,
        ErrorCode::Internal,
        ErrorCode::Unavailable,
        ErrorCode::BusinessRuleViolation,
        ErrorCode::InvalidTransition,
        ErrorCode::QuotaUnavailable,
        ErrorCode::InvalidImport,
        ErrorCode::SchemaValidation,
        ErrorCode::MessageTypeNotAllowed,
        ErrorCode::DuplicateMessageIdentification,
        ErrorCode::SchemasUnavailable,
    ];
    for (i, c) in all.iter().enumerate() {
        assert_eq!(index(*c), i);
        assert!(
            ERROR_TABLE.iter().any(|(x, _, _)| x == c),
            "{c:?} has no row in ERROR_TABLE"
        );
    }
    assert_eq!(ERROR_TABLE.len(), all.len());
}

// ---- tariff ----

fn uk_reference() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("PORTORIUM_REFERENCE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference")
        });
    let uk = dir.join("tariff/taric3-uk");
    if uk.is_dir() {
        Some(uk)
    } else {
        eprintln!("SKIPPED: reference data not found at {}", dir.display());
        None
    }
}

/// Import the UK areas, the 0103921100 envelope and the monthly rates into the common layer,
/// and create a GB administration (GBP).
async fn seed_uk_tariff(s: &TestServer, dir: &std::path::Path) {
    use portorium_store::{NewTariffRecord, RecordChange, TariffLayer};
    let mut all = Vec::new();
    for f in [
        "geographical_areas_uk.xml",
        "uk_0103921100.xml",
        "xi_monetary_exchange_rates.xml",
    ] {
        let bytes = std::fs::read(dir.join(f)).unwrap();
        let env = portorium_tariff::taric3::parse_envelope(&bytes).unwrap();
        all.extend(portorium_tariff::layer::changes_from_envelope(&env).unwrap());
    }
    let changes: Vec<RecordChange> = all
        .into_iter()
        .map(|c| {
            if c.delete {
                RecordChange::Delete {
                    kind: c.kind,
                    key: c.key,
                }
            } else {
                RecordChange::Upsert(NewTariffRecord {
                    kind: c.kind,
                    key: c.key,
                    valid_from: c.valid_from,
                    valid_to: c.valid_to,
                    payload: c.payload,
                })
            }
        })
        .collect();
    s.state
        .store
        .tariff_import(&TariffLayer::Common, "test", "taric3", &changes, &|_| {})
        .await
        .unwrap();
    s.state
        .store
        .create_tenant(&"GB".parse().unwrap(), "HMRC", &"GBP".parse().unwrap())
        .await
        .unwrap();
}

fn calc_body(extra: Value) -> String {
    let mut b = json!({
        "commodity_code": "0103921100",
        "origin": "CN",
        "date": "2021-06-15",
        "customs_value": {"amount": "1000", "currency": "EUR"},
        "quantities": {"KGM": "2000", "NAR": "10"},
    });
    if let (Some(o), Some(e)) = (b.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
    b.to_string()
}

#[tokio::test]
async fn tariff_commodity_and_duty_calculation() {
    let Some(dir) = uk_reference() else { return };
    for s in TestServer::all().await {
        seed_uk_tariff(&s, &dir).await;
        let trader = s.url(Circle::Trader);
        let admin = s.url(Circle::Administration);
        let officer = s.token("officer:NL/jdevries");

        // Commodity, anonymously on the trader gateway.
        let url =
            format!("{trader}/api/v1/tariffs/NL/commodities/0103921100?origin=CN&as_of=2021-06-15");
        let r = call("GET", &url, None, None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["commodity"]["code"], "0103921100");
        assert_eq!(r.body["commodity"]["declarable"], true);
        // No unit in the TARIC3 nomenclature records: it comes from the 109 measure (NAR).
        assert_eq!(r.body["commodity"]["supplementary_unit"], "p/st");
        assert_eq!(r.body["ancestors"][0]["code"], "0100000000");
        assert_eq!(r.body["as_of"], "2021-06-15");
        let measures = r.body["measures"].as_array().unwrap();
        let third = measures
            .iter()
            .find(|m| m["measure_sid"] == 2046828)
            .expect("103 erga omnes");
        assert_eq!(third["measure_type_id"], "103");
        assert_eq!(third["duty_expression"], "35.10 EUR / 100 kg");
        assert!(!measures.iter().any(|m| m["measure_type_id"] == "142"));
        // The same on the administration gateway, authenticated only.
        let url_admin = url.replace(&trader, &admin);
        let r2 = call("GET", &url_admin, Some(&officer), None, &[]).await;
        assert_eq!(r2.status, 200, "{}", r2.text);
        assert_eq!(r2.body["measures"], r.body["measures"]);
        assert_eq!(call("GET", &url_admin, None, None, &[]).await.status, 401);

        // Errors.
        let base = format!("{trader}/api/v1/tariffs");
        let r = call(
            "GET",
            &format!("{base}/SE/commodities/0103921100"),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 404, "{}", r.text);
        assert_eq!(r.headers["content-type"], "application/problem+json");
        let r = call(
            "GET",
            &format!("{base}/NL/commodities/01x3"),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 400);
        assert_eq!(r.body["code"], "invalid_path");
        assert_eq!(r.body["errors"][0]["pointer"], "path:code");
        let r = call(
            "GET",
            &format!("{base}/NL/commodities/0103921100?as_of=2021-13-01"),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 400);
        assert_eq!(r.body["code"], "invalid_query");
        assert_eq!(r.body["errors"][0]["pointer"], "query:as_of");
        let r = call(
            "GET",
            &format!("{base}/NL/commodities/0702000000"),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 404, "{}", r.text);

        // Duty calculation: 35.10 EUR / 100 kg × 2,000 kg = 702.00 EUR.
        let r = call(
            "POST",
            &format!("{base}/NL/duty-calculations"),
            None,
            Some(&calc_body(json!({}))),
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["currency"], "EUR");
        let options = r.body["options"].as_array().unwrap();
        assert_eq!(options.len(), 1);
        assert_eq!(options[0]["kind"], "third_country");
        assert_eq!(options[0]["measure_sid"], 2046828);
        assert_eq!(options[0]["total"], "702.00");
        assert_eq!(r.body["cheapest"], 0);
        assert!(r.body["prohibitions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["measure_sid"] == 20087819));
        // Admin gateway with a token.
        let r = call(
            "POST",
            &format!("{admin}/api/v1/tariffs/NL/duty-calculations"),
            Some(&officer),
            Some(&calc_body(json!({}))),
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["options"][0]["total"], "702.00");

        // GB (GBP): 702.00 × 0.85765 = 602.07 GBP; a GBP customs value is converted first.
        let gb = format!("{base}/GB/duty-calculations");
        let r = call("POST", &gb, None, Some(&calc_body(json!({}))), &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["currency"], "GBP");
        assert_eq!(r.body["exchange_rate"], "0.85765");
        assert_eq!(r.body["options"][0]["total"], "602.07");
        assert_eq!(r.body["options"][0]["lines"][0]["currency"], "GBP");
        let r = call(
            "POST",
            &gb,
            None,
            Some(&calc_body(
                json!({"customs_value": {"amount": "857.65", "currency": "GBP"}}),
            )),
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["options"][0]["total"], "602.07");
        // No rate for the month.
        let r = call(
            "POST",
            &gb,
            None,
            Some(&calc_body(json!({"date": "2015-12-31"}))),
            &[],
        )
        .await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.body["errors"][0]["pointer"], "/date");
        assert!(r.text.contains("no EUR→GBP rate for 2015-12"), "{}", r.text);
        // A currency that is neither EUR nor the national one.
        let r = call(
            "POST",
            &gb,
            None,
            Some(&calc_body(
                json!({"customs_value": {"amount": "1", "currency": "USD"}}),
            )),
            &[],
        )
        .await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.body["errors"][0]["pointer"], "/customs_value/currency");

        let nl = format!("{base}/NL/duty-calculations");
        // Unknown field.
        let r = call(
            "POST",
            &nl,
            None,
            Some(&calc_body(json!({"colour": "red"}))),
            &[],
        )
        .await;
        assert_eq!(r.status, 400);
        assert_eq!(r.body["code"], "unknown_field");
        assert_eq!(r.body["errors"][0]["pointer"], "/colour");
        // Missing quantity.
        let r = call(
            "POST",
            &nl,
            None,
            Some(&calc_body(json!({"quantities": {}}))),
            &[],
        )
        .await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.body["code"], "invalid_field");
        assert_eq!(r.body["errors"][0]["pointer"], "/quantities");
        // Unknown administration.
        let r = call(
            "POST",
            &format!("{base}/SE/duty-calculations"),
            None,
            Some(&calc_body(json!({}))),
            &[],
        )
        .await;
        assert_eq!(r.status, 404, "{}", r.text);

        // A new import is picked up: roll the common layer back and the commodity is gone.
        let imports = s
            .state
            .store
            .tariff_imports(&portorium_store::TariffLayer::Common)
            .await
            .unwrap();
        s.state.store.tariff_rollback(&imports[0].id).await.unwrap();
        let r = call("GET", &url, None, None, &[]).await;
        assert_eq!(r.status, 404, "{}", r.text);
    }
}

// ---- tariff browsing and administration (imports, rollback, exchange rates) ----

#[tokio::test]
async fn tariff_browse_sections_lines_and_areas() {
    let Some(dir) = uk_reference() else { return };
    for s in TestServer::all().await {
        seed_uk_tariff(&s, &dir).await;
        let base = format!("{}/api/v1/tariffs/GB", s.url(Circle::Trader));
        let get = |path: &str| {
            let url = format!("{base}{path}");
            async move { call("GET", &url, None, None, &[]).await }
        };
        let r = get("/sections?as_of=2021-06-15").await;
        assert_eq!(r.status, 200, "{}", r.text);
        let chapters: Vec<&str> = r.body["sections"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["chapters"].as_array().unwrap())
            .map(|c| c["chapter"].as_str().unwrap())
            .collect();
        assert!(chapters.contains(&"01"), "{chapters:?}");

        let r = get("/chapters/01?as_of=2021-06-15").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["line"]["code"], "0100000000");
        assert!(r.body["ancestors"].as_array().unwrap().is_empty());
        let heading = r.body["children"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["line"]["code"] == "0103000000")
            .expect("heading 0103");
        assert_eq!(heading["has_children"], true);

        let r = get("/headings/0103?as_of=2021-06-15").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["ancestors"][0]["code"], "0100000000");
        // Down to the declarable line through `lines/{code}`: each step takes the last child
        // at or before the target in TARIC order (code, then suffix), addressed as code-suffix.
        let target = "0103921100-80";
        let mut code = "0103".to_owned();
        for _ in 0..8 {
            let r = get(&format!("/lines/{code}?as_of=2021-06-15")).await;
            assert_eq!(r.status, 200, "{code}: {}", r.text);
            let next = r.body["children"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    format!(
                        "{}-{}",
                        c["line"]["code"].as_str().unwrap(),
                        c["line"]["suffix"].as_str().unwrap()
                    )
                })
                .rfind(|c| c.as_str() <= target);
            match next {
                Some(n) => code = n,
                None => break,
            }
        }
        let code = code.split('-').next().unwrap().to_owned();
        assert_eq!(code, "0103921100");

        // Areas: erga omnes is a group; CN a country, member of groups on the date.
        let r = get("/geographical-areas?as_of=2021-06-15&kind=group").await;
        assert_eq!(r.status, 200, "{}", r.text);
        let items = r.body["items"].as_array().unwrap();
        assert!(items.iter().all(|a| a["kind"] == "group"));
        let erga = items.iter().find(|a| a["id"] == "1011").expect("1011");
        assert!(!erga["members"].as_array().unwrap().is_empty());
        let r = get("/geographical-areas/cn?as_of=2021-06-15").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["kind"], "country");
        assert_eq!(r.body["id"], "CN");

        // The administration gateway serves the same to authenticated principals only.
        let admin = format!(
            "{}/api/v1/tariffs/GB/sections?as_of=2021-06-15",
            s.url(Circle::Administration)
        );
        let officer = s.token("officer:NL/jdevries");
        assert_eq!(
            call("GET", &admin, Some(&officer), None, &[]).await.status,
            200
        );
        assert_eq!(call("GET", &admin, None, None, &[]).await.status, 401);

        // Bad input: clear problems, never a 5xx.
        for (path, status, pointer) in [
            ("/sections?as_of=2021-13-01", 400, "query:as_of"),
            ("/chapters/1?as_of=2021-06-15", 400, "path:code"),
            ("/headings/01x3", 400, "path:code"),
            ("/lines/00", 400, "path:code"),
            ("/geographical-areas?kind=planet", 400, "query:kind"),
            ("/sections?when=now", 400, "query:when"),
        ] {
            let r = get(path).await;
            assert_eq!(r.status, status, "{path}: {}", r.text);
            assert_eq!(
                r.body["errors"][0]["pointer"], pointer,
                "{path}: {}",
                r.text
            );
        }
        for path in ["/chapters/99?as_of=2021-06-15", "/geographical-areas/ZZ"] {
            let r = get(path).await;
            assert_eq!(r.status, 404, "{path}: {}", r.text);
            assert_eq!(r.body["code"], "not_found");
        }
    }
}

async fn create_gb_tariff_manager(s: &TestServer) -> String {
    let id: portorium_kernel::PrincipalId = "officer:GB/tmanager".parse().unwrap();
    s.state
        .store
        .create_principal(&portorium_store::NewPrincipal {
            id: id.clone(),
            display_name: "Tariff manager".into(),
            office: None,
            roles: vec!["officer".into(), "tariff_manager".into()],
            password_hash: None,
        })
        .await
        .unwrap();
    portorium_server::auth::issue_token(&s.state.store, &id, None, None)
        .await
        .unwrap()
        .0
}

#[tokio::test]
async fn tariff_imports_through_the_administration_api() {
    let Some(dir) = uk_reference() else { return };
    for s in TestServer::all().await {
        seed_uk_tariff(&s, &dir).await;
        let admin = s.url(Circle::Administration);
        let gb = create_gb_tariff_manager(&s).await;
        let imports = format!("{admin}/api/v1/tariffs/GB/imports");
        let envelope = std::fs::read_to_string(dir.join("uk_1516209821.xml")).unwrap();
        let xml = [("content-type", "application/xml")];

        // Refused: another administration's manager, a non-manager, a trader credential.
        let nl = s.token("officer:NL/jdevries");
        let r = call("POST", &imports, Some(&nl), Some(&envelope), &xml).await;
        assert_eq!(r.status, 403, "{}", r.text);
        let approver = s.token("officer:NL/avandijk");
        let r = call(
            "POST",
            &format!("{admin}/api/v1/tariffs/NL/imports"),
            Some(&approver),
            Some(&envelope),
            &xml,
        )
        .await;
        assert_eq!(r.status, 403, "{}", r.text);

        // Import a real envelope into the GB national layer.
        let url = format!("{imports}?source=uk_1516209821.xml");
        let r = call("POST", &url, Some(&gb), Some(&envelope), &xml).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["layer"], "GB");
        assert_eq!(r.body["format"], "taric3");
        assert_eq!(r.body["source"], "uk_1516209821.xml");
        assert!(r.body["inserted"].as_i64().unwrap() > 0);
        let id = r.body["id"].as_str().unwrap().to_owned();

        // The commodity now has its measures in the GB tariff, and not in NL's.
        let commodity = |t: &str| {
            format!(
                "{}/api/v1/tariffs/{t}/commodities/1516209821?origin=CN&as_of=2021-06-15",
                s.url(Circle::Trader)
            )
        };
        let r = call("GET", &commodity("GB"), None, None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        // Imported into the national layer: the administration's own measures.
        assert!(r.body["measures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["duty_expression"] == "10.90 %" && m["national"] == true));
        let r = call("GET", &commodity("NL"), None, None, &[]).await;
        assert_eq!(r.status, 404, "{}", r.text);

        // History and one import.
        let r = call("GET", &imports, Some(&gb), None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body[0]["id"], id.as_str());
        let r = call("GET", &format!("{imports}/{id}"), Some(&gb), None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["status"], "committed");
        // Another administration's import is not found, not leaked.
        let r = call(
            "GET",
            &format!("{admin}/api/v1/tariffs/NL/imports/{id}"),
            Some(&nl),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 404, "{}", r.text);

        // Bad files change nothing: unknown format, not well-formed, empty.
        for (body, ct) in [
            ("just some text", "text/plain"),
            (
                "<envelope xmlns=\"urn:publicid:-:DGTAXUD:TARIC:MESSAGE:1.0\"><transaction>",
                "application/xml",
            ),
            ("", "application/xml"),
        ] {
            let r = call(
                "POST",
                &imports,
                Some(&gb),
                Some(body),
                &[("content-type", ct)],
            )
            .await;
            assert_eq!(r.status, 422, "{body:?}: {}", r.text);
            assert_eq!(r.body["code"], "invalid_import");
            assert!(r.body["errors"][0]["pointer"].is_string());
        }
        // A schema violation names the file and the reason (when the server has taric3.xsd).
        if s.state.config.taric3_xsd.is_some() {
            let broken = envelope
                .replacen("<oub:measure.sid>", "<oub:measure.sidd>", 1)
                .replacen("</oub:measure.sid>", "</oub:measure.sidd>", 1);
            let r = call("POST", &url, Some(&gb), Some(&broken), &xml).await;
            assert_eq!(r.status, 422, "{}", r.text);
            assert!(
                r.body["detail"].as_str().unwrap().contains("taric3.xsd"),
                "{}",
                r.text
            );
        }
        let r = call("GET", &imports, Some(&gb), None, &[]).await;
        assert_eq!(r.body.as_array().unwrap().len(), 1, "{}", r.text);

        // Several files at once, as multipart/form-data.
        let rates = std::fs::read_to_string(dir.join("xi_monetary_exchange_rates.xml")).unwrap();
        let boundary = "portorium-test-boundary";
        let mut form = String::new();
        let name = "xi_monetary_exchange_rates.xml";
        form.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/xml\r\n\r\n{rates}\r\n"
        ));
        form.push_str(&format!("--{boundary}--\r\n"));
        let ct = format!("multipart/form-data; boundary={boundary}");
        let r = call(
            "POST",
            &imports,
            Some(&gb),
            Some(&form),
            &[("content-type", &ct)],
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let second = r.body["id"].as_str().unwrap().to_owned();

        // Rollback: only the latest; twice is a conflict.
        let rollback = |id: &str| format!("{imports}/{id}/rollback");
        let r = call("POST", &rollback(&id), Some(&gb), None, &[]).await;
        assert_eq!(r.status, 409, "{}", r.text);
        assert_eq!(r.body["code"], "invalid_transition");
        let r = call("POST", &rollback(&second), Some(&gb), None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["status"], "rolled_back");
        let r = call("POST", &rollback(&id), Some(&gb), None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = call("GET", &commodity("GB"), None, None, &[]).await;
        assert_eq!(r.status, 404, "rolled back: {}", r.text);
        let r = call("POST", &rollback(&id), Some(&gb), None, &[]).await;
        assert_eq!(r.status, 409, "{}", r.text);

        // The common layer is the operator's, on the operations gateway.
        let ops = s.url(Circle::Operations);
        let op = s.token("operator:admin");
        let r = call(
            "GET",
            &format!("{ops}/api/v1/tariff/common/imports"),
            Some(&op),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(!r.body.as_array().unwrap().is_empty());

        // A national envelope with alphabetic national measure types (the demo's NL layer)
        // passes the TARIC3 schema for national layers; the common layer's schema refuses
        // those types.
        let national = include_str!("../demo/tariff/nl.xml");
        let r = call(
            "POST",
            &format!("{admin}/api/v1/tariffs/NL/imports?source=nl.xml"),
            Some(&nl),
            Some(national),
            &xml,
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let r = call(
            "POST",
            &format!("{ops}/api/v1/tariff/common/imports?source=nl.xml"),
            Some(&op),
            Some(national),
            &xml,
        )
        .await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.body["code"], "invalid_import", "{}", r.text);
        assert!(r.text.contains("measure.type"), "{}", r.text);
    }
}

#[tokio::test]
async fn tariff_exchange_rates_by_hand_and_from_taric() {
    let Some(dir) = uk_reference() else { return };
    for s in TestServer::all().await {
        seed_uk_tariff(&s, &dir).await;
        let admin = s.url(Circle::Administration);
        let gb = create_gb_tariff_manager(&s).await;
        let rates = format!("{admin}/api/v1/tariffs/GB/exchange-rates");
        let r = call("GET", &rates, Some(&gb), None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["currency"], "GBP");
        let list = r.body["rates"].as_array().unwrap();
        assert!(
            list.iter()
                .any(|x| x["source"] == "taric" && x["month"] == "2021-06-01"),
            "{}",
            r.text
        );

        // Set by hand: it takes precedence for its month in the calculation.
        let r = call(
            "PUT",
            &format!("{rates}/2021-06"),
            Some(&gb),
            Some(r#"{"rate":"0.9"}"#),
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["rate"], "0.9");
        let calc = call(
            "POST",
            &format!(
                "{}/api/v1/tariffs/GB/duty-calculations",
                s.url(Circle::Trader)
            ),
            None,
            Some(&calc_body(json!({}))),
            &[],
        )
        .await;
        assert_eq!(calc.status, 200, "{}", calc.text);
        assert_eq!(calc.body["exchange_rate"], "0.9");
        let r = call("GET", &rates, Some(&gb), None, &[]).await;
        assert!(r.body["rates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["source"] == "manual"));

        // Bad input.
        for (path, body, pointer) in [
            ("/2021-13", r#"{"rate":"1"}"#, "path:month"),
            ("/2021-6", r#"{"rate":"1"}"#, "path:month"),
            ("/2021-06", r#"{"rate":"0"}"#, "/rate"),
            ("/2021-06", r#"{"rate":"-1"}"#, "/rate"),
            ("/2021-06", r#"{"rate":"1","x":1}"#, "/x"),
        ] {
            let r = call("PUT", &format!("{rates}{path}"), Some(&gb), Some(body), &[]).await;
            assert_eq!(r.status, 400, "{path} {body}: {}", r.text);
            assert_eq!(r.body["errors"][0]["pointer"], pointer, "{}", r.text);
        }
        // An EUR administration has no rate; another administration's rates are refused.
        let nl = s.token("officer:NL/jdevries");
        let r = call(
            "PUT",
            &format!("{admin}/api/v1/tariffs/NL/exchange-rates/2021-06"),
            Some(&nl),
            Some(r#"{"rate":"1.1"}"#),
            &[],
        )
        .await;
        assert_eq!(r.status, 400, "{}", r.text);
        let r = call(
            "PUT",
            &format!("{rates}/2021-06"),
            Some(&nl),
            Some(r#"{"rate":"1.1"}"#),
            &[],
        )
        .await;
        assert_eq!(r.status, 403, "{}", r.text);
    }
}

// ---- tariff portal ----

/// The `href="…"` targets of a page.
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|s| s.replace("&#38;", "&").replace("&amp;", "&"))
        .collect()
}

/// The tariff pages on the demo tariff (NL and DE, 2026).
#[tokio::test]
async fn tariff_portal_pages() {
    for s in TestServer::all().await {
        let trader = s.url(Circle::Trader);
        let d = "as_of=2026-03-15";
        let calc = "/tariff/NL/calculator?calculate=1&date=2026-03-15&value_amount=1000\
                    &value_currency=EUR";
        // (path, texts the page contains, texts it must not contain); all answer 200.
        let cases: Vec<(String, Vec<&str>, Vec<&str>)> = vec![
            (
                "/tariff".into(),
                vec!["Netherlands Customs (Douane)", "href=\"/tariff/DE\""],
                vec![],
            ),
            (
                format!("/tariff/NL?{d}"),
                vec![
                    "href=\"/tariff/NL/browse/0100000000-80?as_of=2026-03-15\"",
                    "Live animals",
                    "value=\"2026-03-15\"",
                    "<option value=\"NL\" selected>",
                ],
                vec![],
            ),
            (
                format!("/tariff/NL/browse/0102?{d}"),
                vec![
                    "href=\"/tariff/NL/commodities/0102291000?as_of=2026-03-15\"",
                    "0102 29 10 00",
                    "Live bovine animals",
                ],
                vec![],
            ),
            (
                // Lines nest by indent; a grouping line links to its own subtree.
                format!("/tariff/NL/browse/2204?{d}"),
                vec![
                    "href=\"/tariff/NL/browse/2204217900-10?as_of=2026-03-15\"",
                    "class=\"line depth-2 declarable\"",
                    "Red wine",
                ],
                vec![],
            ),
            (
                format!("/tariff/NL/commodities/0201300000?origin=US&{d}"),
                vec![
                    "<option value=\"US\" selected>US",
                    "id=\"group-duties\"",
                    "12.80 % + 303.40 EUR / 100 kg",
                    "id=\"group-quotas\"",
                    "href=\"/tariff/NL/quotas/094450?as_of=2026-03-15\"",
                    "id=\"group-taxes\"",
                    "VAT reduced rate",
                    "id=\"group-restrictions\"",
                    "document <code>N853</code>",
                    "Footnotes <code>CD624</code>",
                    "/tariff/NL/calculator?commodity_code=0201300000&#38;date=2026-03-15&#38;origin=US",
                ],
                vec![],
            ),
            (
                // A preference for the FTA group, not for the United States.
                format!("/tariff/NL/commodities/0808108000?origin=US&{d}"),
                vec!["data-measure-type=\"103\""],
                vec!["data-measure-type=\"142\""],
            ),
            (
                format!("/tariff/NL/commodities/0808108000?origin=ZA&{d}"),
                vec!["data-measure-type=\"142\"", "1100</code> Free trade agreement"],
                vec![],
            ),
            (
                format!("{calc}&commodity_code=0808108000&origin=ZA"),
                vec![
                    "id=\"options\"",
                    "data-kind=\"preference\"",
                    "data-kind=\"third_country\"",
                    "The cheapest option costs <strong id=\"cheapest-total\">133.60 EUR",
                    "188.10 EUR",
                    "1,040.00 EUR",
                    "VAT reduced rate",
                ],
                vec!["id=\"calc-errors\"", "id=\"prohibitions\""],
            ),
            (
                // DE: 7 % VAT instead of 9 %.
                format!("{}&commodity_code=0808108000&origin=ZA", calc.replace("/NL/", "/DE/")),
                vec!["id=\"cheapest-total\">112.80 EUR"],
                vec![],
            ),
            (
                format!("{calc}&commodity_code=7208390000&origin=RU"),
                vec!["id=\"prohibitions\"", "Import prohibition"],
                vec!["id=\"calc-errors\""],
            ),
            (
                format!("/tariff/NL/calculator?commodity_code=0808108000&origin=ZA&{d}"),
                vec!["value=\"0808108000\"", "<option value=\"ZA\" selected>"],
                vec!["id=\"options\"", "id=\"calc-errors\""],
            ),
            (
                format!("/tariff/NL/search?q=0808&{d}"),
                vec!["href=\"/tariff/NL/commodities/0808108000?as_of=2026-03-15\""],
                vec![],
            ),
            (
                // Stemming: "bicycle" finds "Bicycles".
                format!("/tariff/NL/search?q=bicycle&{d}"),
                vec![
                    "href=\"/tariff/NL/commodities/8712003000?as_of=2026-03-15\"",
                    "Bicycles with ball bearings",
                ],
                vec!["id=\"no-results\""],
            ),
            (
                format!("/tariff/NL/search?q=xqzv+wrrk&{d}"),
                vec!["id=\"no-results\""],
                vec!["id=\"results\""],
            ),
        ];
        for (path, has, lacks) in &cases {
            let r = call("GET", &format!("{trader}{path}"), None, None, &[]).await;
            assert_eq!(r.status, 200, "[{}] {path}: {}", s.db_label, r.text);
            assert_eq!(
                r.headers["content-type"], "text/html; charset=utf-8",
                "{path}"
            );
            assert!(
                r.headers["content-security-policy"]
                    .to_str()
                    .unwrap()
                    .contains("script-src 'self'"),
                "{path}"
            );
            for h in has {
                assert!(r.text.contains(h), "{path} lacks {h}: {}", r.text);
            }
            for h in lacks {
                assert!(!r.text.contains(h), "{path} contains {h}");
            }
        }

        // Redirects: a declarable line opens its commodity page, a grouping line its subtree,
        // the tariff selector the chosen administration.
        for (path, to) in [
            (
                "/tariff/NL/browse/0808108000",
                "/tariff/NL/commodities/0808108000",
            ),
            (
                "/tariff/NL/commodities/0808000000?as_of=2026-03-15",
                "/tariff/NL/browse/0808000000-80?as_of=2026-03-15",
            ),
            (
                "/tariff?tenant=de&as_of=2026-03-15",
                "/tariff/DE?as_of=2026-03-15",
            ),
        ] {
            let r = call("GET", &format!("{trader}{path}"), None, None, &[]).await;
            assert_eq!(r.status, 303, "{path}");
            assert_eq!(r.headers["location"], to, "{path}");
        }

        // Bad input: an HTML page saying what is wrong, never a 500.
        let errors: &[(&str, u16, &str)] = &[
            ("/tariff/SE", 404, "not found"),
            ("/tariff/N1", 400, "invalid tenant code"),
            (
                "/tariff/NL?as_of=2026-13-01",
                400,
                "`2026-13-01` is not a date",
            ),
            (
                "/tariff/NL/browse/0808?as_of=yesterday",
                400,
                "is not a date",
            ),
            ("/tariff/NL/browse/9999", 404, "There is no line 9999"),
            ("/tariff/NL/browse/01x3", 400, "contains a non-digit"),
            (
                "/tariff/NL/commodities/0101000000",
                404,
                "is not in the tariff of NL",
            ),
            ("/tariff/NL/commodities/01x3", 400, "contains a non-digit"),
            (
                "/tariff/NL/commodities/0808108000?origin=C%3CN",
                400,
                "must be a country code",
            ),
            (
                "/tariff/NL/calculator?as_of=31-12-2026",
                400,
                "is not a date",
            ),
            ("/tariff?tenant=Z9", 400, "invalid tenant code"),
        ];
        for (path, status, text) in errors {
            let r = call("GET", &format!("{trader}{path}"), None, None, &[]).await;
            assert_eq!(r.status, *status, "{path}: {}", r.text);
            assert_eq!(
                r.headers["content-type"], "text/html; charset=utf-8",
                "{path}"
            );
            assert!(r.text.contains("id=\"tariff-error\""), "{path}");
            assert!(r.text.contains(text), "{path}: {}", r.text);
        }

        // The calculator puts each error next to its field, whether the form found it or the
        // API's problem pointed at it (400; 200 for htmx, which swaps only successes in).
        let field_errors: &[(&str, &str, &str)] = &[
            (
                "commodity_code=&origin=ZA",
                "commodity_code",
                "Enter the commodity code",
            ),
            (
                "commodity_code=0101000000&origin=ZA",
                "commodity_code",
                "is not in the tariff of NL",
            ),
            (
                "commodity_code=0808108000&origin=",
                "origin",
                "Choose the country",
            ),
            (
                "commodity_code=0808108000&origin=C%3CN",
                "origin",
                "must be a country code",
            ),
            (
                "commodity_code=0808108000&origin=ZA&date=2026-02-30",
                "date",
                "YYYY-MM-DD",
            ),
            (
                "commodity_code=0808108000&origin=ZA&value_amount=12%2C5x",
                "customs_value",
                "must be a number",
            ),
            (
                "commodity_code=0808108000&origin=ZA&value_currency=USD",
                "customs_value",
                "must be EUR",
            ),
            (
                "commodity_code=0803901000&origin=ZA",
                "quantities",
                "missing declared quantity in TNE",
            ),
            (
                "commodity_code=0803901000&origin=ZA&qty_unit=TNE&qty_value=",
                "quantities",
                "must be a number",
            ),
            (
                "commodity_code=0803901000&origin=ZA&qty_unit=T%21E&qty_value=1",
                "quantities",
                "is not a unit code",
            ),
            (
                "commodity_code=7208390000&origin=CN",
                "additional_codes",
                "additional code",
            ),
            (
                "commodity_code=1806310000&origin=US",
                "meursing_code",
                "Meursing",
            ),
            (
                "commodity_code=0709931000&origin=US&qty_unit=DTN&qty_value=10",
                "unit_price",
                "unit price",
            ),
            (
                "commodity_code=0808108000&origin=ZA&price_amount=abc",
                "unit_price",
                "must be a number",
            ),
        ];
        for (query, field, text) in field_errors {
            // The first value of a repeated parameter counts: `query` goes first.
            let url = format!(
                "{trader}{}",
                calc.replacen("calculate=1", &format!("calculate=1&{query}"), 1)
            );
            let r = call("GET", &url, None, None, &[]).await;
            assert_eq!(r.status, 400, "{query}: {}", r.text);
            let marker = format!("<p class=\"field-error\" id=\"err-{field}\">");
            let at = r
                .text
                .find(&marker)
                .unwrap_or_else(|| panic!("{query}: no {marker} in {}", r.text));
            let message = r.text[at..].split("</p>").next().unwrap();
            assert!(message.contains(text), "{query}: {message}");
            assert!(r.text.contains(&format!("href=\"#f-{field}\"")), "{query}");
            assert!(r.text.contains(&format!("id=\"f-{field}\"")), "{query}");
            assert!(!r.text.contains("id=\"options\""), "{query}");
            let hx = call("GET", &url, None, None, &[("hx-request", "true")]).await;
            assert_eq!(hx.status, 200, "{query}");
            assert!(hx.text.contains(&marker), "{query}");
        }

        // Every link of the NL pages leads somewhere (the quota pages are another module's).
        let mut seen = std::collections::BTreeSet::new();
        let mut todo = vec![
            format!("/tariff/NL?{d}"),
            format!("/tariff/NL/commodities/0201300000?origin=US&{d}"),
        ];
        while let Some(path) = todo.pop() {
            if seen.len() >= 150 || !seen.insert(path.clone()) {
                continue;
            }
            let r = call("GET", &format!("{trader}{path}"), None, None, &[]).await;
            assert!(r.status == 200 || r.status == 303, "{path}: {}", r.status);
            for h in hrefs(&r.text) {
                if h.starts_with("/tariff/NL") && !h.contains("/quotas/") {
                    todo.push(h);
                }
            }
        }
        assert!(seen.len() > 30, "{seen:?}");

        // The administration gateway: the same pages, for logged-in users only.
        let admin = s.url(Circle::Administration);
        let path = format!("/tariff/NL/commodities/0201300000?origin=US&{d}");
        let r = call("GET", &format!("{admin}{path}"), None, None, &[]).await;
        assert_eq!(r.status, 303);
        assert_eq!(r.headers["location"], "/login");
        let officer = s.token("officer:NL/jdevries");
        let r = call("GET", &format!("{admin}{path}"), Some(&officer), None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("12.80 % + 303.40 EUR / 100 kg"));
        assert!(r.text.contains("Jan de Vries"));
        assert_eq!(r.headers["cache-control"], "no-store");
        // A logged-in trader sees its name on the public pages, which are then private.
        let t = s.token("trader:NL000000001");
        let r = call("GET", &format!("{trader}/tariff/NL"), Some(&t), None, &[]).await;
        assert_eq!(r.status, 200);
        assert!(r.text.contains("trader:NL000000001"));
        assert_eq!(r.headers["cache-control"], "no-store");
        let r = call("GET", &format!("{trader}/tariff/NL"), None, None, &[]).await;
        assert_eq!(r.headers["cache-control"], "no-cache");
    }
}

#[tokio::test]
async fn tariff_portal_is_linked_from_the_home_pages() {
    let s = TestServer::sqlite().await;
    for (circle, principal, own) in [
        (Circle::Trader, "trader:NL000000001", "/tariff/NL"),
        (Circle::Administration, "officer:DE/mmueller", "/tariff/DE"),
    ] {
        let t = s.token(principal);
        let r = call(
            "GET",
            &format!("{}/home", s.url(circle)),
            Some(&t),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains(&format!("href=\"{own}\"")), "{}", r.text);
        assert!(r.text.contains("href=\"/tariff\""), "{}", r.text);
    }
}

// ---- national measures ----

/// A tariff manager who is also an approver (to show that the store, not only the policy,
/// refuses approving one's own draft).
async fn officer_with_both_roles(s: &TestServer) -> String {
    let id: portorium_kernel::PrincipalId = "officer:NL/both".parse().unwrap();
    s.state
        .store
        .create_principal(&portorium_store::NewPrincipal {
            id: id.clone(),
            display_name: "Both Roles".into(),
            office: Some("NL000396".parse().unwrap()),
            roles: vec![
                "officer".into(),
                "tariff_manager".into(),
                "tariff_approver".into(),
            ],
            password_hash: None,
        })
        .await
        .unwrap();
    portorium_server::auth::issue_token(&s.state.store, &id, None, Some("test"))
        .await
        .unwrap()
        .0
}

fn vat_draft(code: &str, start: &str, end: &str, rate: &str) -> String {
    json!({
        "operation": "create",
        "measure_type": "305",
        "goods_code": code,
        "validity": {"start": start, "end": end},
        "components": [{"duty_expression_id": "01", "amount": rate}],
        "legal_base": "Wet OB 1968, art. 9",
    })
    .to_string()
}

fn vat_lines(calc: &Value) -> Vec<Value> {
    calc["options"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["measure_type_id"] == "305")
        .cloned()
        .collect()
}

#[tokio::test]
async fn national_measures_four_eyes_and_effect() {
    let Some(dir) = uk_reference() else { return };
    for s in TestServer::all().await {
        seed_uk_tariff(&s, &dir).await;
        let admin = s.url(Circle::Administration);
        let jdevries = s.token("officer:NL/jdevries");
        let avandijk = s.token("officer:NL/avandijk");
        let drafts = format!("{admin}/api/v1/tariffs/NL/measure-drafts");

        // Draft: validated at once, stored as a draft.
        let body = vat_draft("0103921100", "2021-01-01", "2021-12-31", "21");
        let r = call("POST", &drafts, Some(&jdevries), Some(&body), &[]).await;
        assert_eq!(r.status, 201, "{}: {}", s.db_label, r.text);
        assert_eq!(r.body["status"], "draft");
        assert_eq!(r.body["drafted_by"], "officer:NL/jdevries");
        assert_eq!(r.body["payload"]["measure_type"], "305");
        let id = r.body["id"].as_str().unwrap().to_owned();
        let one = format!("{drafts}/{id}");

        // Not yet submitted: nothing to approve.
        let r = call(
            "POST",
            &format!("{one}/approve"),
            Some(&avandijk),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 409, "{}", r.text);
        assert_eq!(r.body["code"], "invalid_transition");
        let r = call("POST", &format!("{one}/submit"), Some(&jdevries), None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["status"], "submitted");

        // The drafter may not approve (here the policy already refuses: no approver role).
        let r = call(
            "POST",
            &format!("{one}/approve"),
            Some(&jdevries),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert_eq!(r.body["code"], "forbidden");
        // Another administration's approver: refused.
        let r = call(
            "POST",
            &format!("{one}/approve"),
            Some(&s.token("officer:DE/kschmidt")),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 403, "{}", r.text);

        // Not in force before approval.
        let calc = |tenant: &str| {
            let url = format!("{admin}/api/v1/tariffs/{tenant}/duty-calculations");
            let jd = jdevries.clone();
            async move {
                let r = call("POST", &url, Some(&jd), Some(&calc_body(json!({}))), &[]).await;
                assert_eq!(r.status, 200, "{}", r.text);
                r.body
            }
        };
        assert!(vat_lines(&calc("NL").await).is_empty());

        // A second officer approves, with the version read.
        let r = call(
            "POST",
            &format!("{one}/approve"),
            Some(&avandijk),
            Some(r#"{"version": 1}"#),
            &[],
        )
        .await;
        assert_eq!(r.status, 409, "stale version: {}", r.text);
        assert_eq!(r.body["code"], "conflict");
        let r = call(
            "POST",
            &format!("{one}/approve"),
            Some(&avandijk),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["status"], "approved");
        assert_eq!(r.body["decided_by"], "officer:NL/avandijk");
        let sid = r.body["measure_sid"].as_u64().unwrap();
        // NL's national range: 10^12 + 349 × 10^9.
        assert!(
            (1_349_000_000_001..1_350_000_000_000).contains(&sid),
            "{sid}"
        );
        let import_id = r.body["import_id"].as_str().unwrap().to_owned();

        // The approval is an import of the NL layer.
        let r = call(
            "GET",
            &format!("{admin}/api/v1/tariffs/NL/imports/{import_id}"),
            Some(&jdevries),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["format"], "national-measure");
        assert_eq!(r.body["source"], format!("measure-draft:{id}"));

        // In effect: the VAT line on (customs value + duty) = (1,000 + 702) × 21 %.
        let nl = calc("NL").await;
        let vat = vat_lines(&nl);
        assert_eq!(vat.len(), 1, "{nl}");
        assert_eq!(vat[0]["measure_sid"].as_u64(), Some(sid));
        assert_eq!(vat[0]["amount"], "357.42");
        assert_eq!(nl["options"][0]["total"], "1059.42");
        // Another administration's tariff does not have it.
        assert!(vat_lines(&calc("GB").await).is_empty());
        // The commodity shows it as a national measure, from its validity start only.
        let commodity = |as_of: &str| {
            format!("{admin}/api/v1/tariffs/NL/commodities/0103921100?origin=CN&as_of={as_of}")
        };
        let r = call("GET", &commodity("2021-06-15"), Some(&jdevries), None, &[]).await;
        let m = r.body["measures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["measure_sid"].as_u64() == Some(sid))
            .cloned()
            .expect("national VAT on the commodity");
        assert_eq!(
            (m["national"].clone(), m["duty_expression"].clone()),
            (json!(true), json!("21.00 %"))
        );
        let r = call("GET", &commodity("2020-12-31"), Some(&jdevries), None, &[]).await;
        assert!(!r.text.contains(&sid.to_string()), "{}", r.text);
        let listed = |as_of: &str| {
            let url = format!("{admin}/api/v1/tariffs/NL/national-measures?as_of={as_of}");
            let t = avandijk.clone();
            async move {
                let r = call("GET", &url, Some(&t), None, &[]).await;
                assert_eq!(r.status, 200, "{}", r.text);
                r.body["measures"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|m| m["measure_sid"].as_u64())
                    .collect::<Vec<_>>()
            }
        };
        assert!(listed("2021-06-15").await.contains(&sid));
        assert!(!listed("2020-12-31").await.contains(&sid));

        // End it: a new draft, approved by the second officer.
        let body =
            json!({"operation": "end", "measure_sid": sid, "validity": {"end": "2021-06-30"}});
        let r = call(
            "POST",
            &drafts,
            Some(&jdevries),
            Some(&body.to_string()),
            &[],
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let end_id = r.body["id"].as_str().unwrap().to_owned();
        call(
            "POST",
            &format!("{drafts}/{end_id}/submit"),
            Some(&jdevries),
            None,
            &[],
        )
        .await;
        let r = call(
            "POST",
            &format!("{drafts}/{end_id}/approve"),
            Some(&avandijk),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(listed("2021-06-30").await.contains(&sid));
        assert!(!listed("2021-07-01").await.contains(&sid));

        // Four eyes in the store: an officer holding both roles still cannot approve their own.
        let both = officer_with_both_roles(&s).await;
        let body = vat_draft("0103921100", "2022-01-01", "2022-12-31", "9");
        let r = call("POST", &drafts, Some(&both), Some(&body), &[]).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let own = format!("{drafts}/{}", r.body["id"].as_str().unwrap());
        call("POST", &format!("{own}/submit"), Some(&both), None, &[]).await;
        let r = call("POST", &format!("{own}/approve"), Some(&both), None, &[]).await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert_eq!(r.body["code"], "forbidden");
        assert!(r.text.contains("four eyes"), "{}", r.text);
        let r = call(
            "POST",
            &format!("{own}/reject"),
            Some(&both),
            Some(r#"{"reason": "x"}"#),
            &[],
        )
        .await;
        assert_eq!(r.status, 403, "{}", r.text);
        // A rejection needs a reason.
        let r = call("POST", &format!("{own}/reject"), Some(&avandijk), None, &[]).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.body["errors"][0]["pointer"], "/reason");
        let r = call(
            "POST",
            &format!("{own}/reject"),
            Some(&avandijk),
            Some(r#"{"reason": "rate not published"}"#),
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["status"], "rejected");
        let r = call(
            "GET",
            &format!("{drafts}?status=rejected"),
            Some(&jdevries),
            None,
            &[],
        )
        .await;
        assert_eq!(r.body["items"].as_array().unwrap().len(), 1, "{}", r.text);
        let r = call(
            "GET",
            &format!("{drafts}?status=nope"),
            Some(&jdevries),
            None,
            &[],
        )
        .await;
        assert_eq!(
            (r.status, r.body["errors"][0]["pointer"].clone()),
            (400, json!("query:status"))
        );

        // Every change is in the audit log.
        let entries = s.state.store.scoped(portorium_store::Scope::Central);
        let (rows, _) = entries
            .audit_entries(&s.state.audit, &portorium_store::Page::first(500))
            .await
            .unwrap();
        let approvals = rows
            .iter()
            .filter(|e| {
                e.action.contains("/approve")
                    && e.principal.as_deref() == Some("officer:NL/avandijk")
            })
            .count();
        assert!(approvals >= 3, "{rows:?}");
    }
}

#[tokio::test]
async fn national_measure_drafts_are_validated() {
    let Some(dir) = uk_reference() else { return };
    for s in TestServer::all().await {
        seed_uk_tariff(&s, &dir).await;
        let admin = s.url(Circle::Administration);
        let jdevries = s.token("officer:NL/jdevries");
        let drafts = format!("{admin}/api/v1/tariffs/NL/measure-drafts");
        let post = |body: String| {
            let (url, t) = (drafts.clone(), jdevries.clone());
            async move { call("POST", &url, Some(&t), Some(&body), &[]).await }
        };

        // Approve one VAT so that an overlapping one breaks ME32.
        let r = post(vat_draft("0103921100", "2021-01-01", "2021-12-31", "21")).await;
        let id = r.body["id"].as_str().unwrap().to_owned();
        call(
            "POST",
            &format!("{drafts}/{id}/submit"),
            Some(&jdevries),
            None,
            &[],
        )
        .await;
        let r = call(
            "POST",
            &format!("{drafts}/{id}/approve"),
            Some(&s.token("officer:NL/avandijk")),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = post(vat_draft("01", "2021-06-01", "2022-05-31", "9")).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.headers["content-type"], "application/problem+json");
        assert_eq!(r.body["code"], "business_rule_violation");
        assert_eq!(r.body["errors"][0]["pointer"], "/validity/start");
        assert!(
            r.body["errors"][0]["detail"]
                .as_str()
                .unwrap()
                .starts_with("ME32: "),
            "{}",
            r.text
        );

        // ME66: an excluded area that is not a member of the group (found in the tariff).
        let tariff = s
            .state
            .tariffs
            .get(&s.state.store, &"NL".parse().unwrap())
            .await
            .unwrap();
        let data = &tariff.data.tariff;
        let on = chrono::NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
        let (group, outsider) = data
            .areas
            .iter()
            .filter(|g| {
                g.kind == portorium_tariff::measures::AreaKind::Group
                    && g.id != "1011"
                    && g.validity.start <= on
                    && g.validity.end.is_none()
            })
            .find_map(|g| {
                let outsider = data.areas.iter().find(|a| {
                    a.kind == portorium_tariff::measures::AreaKind::Country
                        && !data.is_member(&g.id, &a.id, on)
                })?;
                data.memberships
                    .iter()
                    .any(|m| m.group == g.id)
                    .then(|| (g.id.clone(), outsider.id.clone()))
            })
            .expect("a group and a country outside it");
        let body = json!({"operation": "create", "measure_type": "277", "goods_code": "0103921100",
            "geographical_area": group, "excluded_areas": [outsider],
            "validity": {"start": "2021-01-01", "end": "2021-12-31"}});
        let r = post(body.to_string()).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.body["errors"][0]["pointer"], "/excluded_areas/0");
        assert!(
            r.body["errors"][0]["detail"]
                .as_str()
                .unwrap()
                .starts_with("ME66: "),
            "{}",
            r.text
        );

        // Bad components: every violation listed, with its pointer.
        let body = json!({"operation": "create", "measure_type": "305", "goods_code": "0103921100",
            "validity": {"start": "2023-01-01"},
            "components": [{"duty_expression_id": "01"}, {"duty_expression_id": "37", "amount": "1"},
                {"duty_expression_id": "04", "amount": "2", "monetary_unit": "USD", "measurement_unit": "KGM"}]});
        let r = post(body.to_string()).await;
        assert_eq!(r.status, 422, "{}", r.text);
        let pointers: Vec<&str> = r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["pointer"].as_str().unwrap())
            .collect();
        assert_eq!(
            pointers,
            [
                "/components/0/amount",
                "/components/1/amount",
                "/components/2/monetary_unit"
            ]
        );
        // A common type, an unknown code: NAT1 and ME6 together.
        let body = json!({"operation": "create", "measure_type": "103", "goods_code": "0103929999",
            "validity": {"start": "2023-01-01"}, "components": [{"duty_expression_id": "01", "amount": "1"}]});
        let r = post(body.to_string()).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert!(
            r.text.contains("NAT1: ") && r.text.contains("ME6: "),
            "{}",
            r.text
        );

        // Shape: 400 with every missing field; unknown fields named.
        let r = post(r#"{"operation": "create"}"#.to_owned()).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.body["code"], "missing_field");
        assert_eq!(r.body["errors"].as_array().unwrap().len(), 3, "{}", r.text);
        let r = post(r#"{"operation": "create", "rate": 1}"#.to_owned()).await;
        assert_eq!(
            (r.status, r.body["code"].clone()),
            (400, json!("unknown_field"))
        );
        let r = post(r#"{"operation": "delete", "measure_sid": 1}"#.to_owned()).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert!(r.text.contains("NAT2: "), "{}", r.text);

        // Who may draft: not another administration's officer, not an approver without the
        // manager role, not a trader (wrong circle).
        let body = vat_draft("0103921100", "2023-01-01", "2023-12-31", "21");
        for (token, status, code) in [
            (s.token("officer:DE/mmueller"), 403, "forbidden"),
            (s.token("officer:NL/avandijk"), 403, "forbidden"),
            (s.token("agency:NL/NVWA/pbakker"), 403, "forbidden"),
            (s.token("trader:NL000000001"), 403, "wrong_circle"),
        ] {
            let r = call("POST", &drafts, Some(&token), Some(&body), &[]).await;
            assert_eq!(
                (r.status, r.body["code"].clone()),
                (status, json!(code)),
                "{}",
                r.text
            );
        }
        // Reads: the administration's own officers only.
        let r = call(
            "GET",
            &drafts,
            Some(&s.token("officer:DE/mmueller")),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 403, "{}", r.text);
        let r = call(
            "GET",
            &format!("{admin}/api/v1/tariffs/NL/national-measures?as_of=2021-13-01"),
            Some(&jdevries),
            None,
            &[],
        )
        .await;
        assert_eq!(
            (r.status, r.body["errors"][0]["pointer"].clone()),
            (400, json!("query:as_of"))
        );
        let r = call("GET", &format!("{drafts}/nope"), Some(&jdevries), None, &[]).await;
        assert_eq!(r.status, 404, "{}", r.text);
        // The DE officer does not find NL's draft through its own administration either.
        let r = call(
            "GET",
            &format!("{admin}/api/v1/tariffs/DE/measure-drafts/{id}"),
            Some(&s.token("officer:DE/mmueller")),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 404, "{}", r.text);
    }
}

// ---- quotas ----

/// Quotas of NL's national layer, written for these tests: 091990 (FCFS, 100 TNE from
/// 2026, blocked 2026-03-01..03, suspended in April 2026, origin QZ), 091991 (FCFS, 100 TNE,
/// for the concurrent drawing) and 094990 (licensed, 50 KGM).
async fn seed_quotas(s: &TestServer) {
    use portorium_store::{NewTariffRecord, RecordChange, TariffLayer};
    let rec = |kind: &str, key: &str, payload: Value| {
        RecordChange::Upsert(NewTariffRecord {
            kind: kind.into(),
            key: key.into(),
            valid_from: None,
            valid_to: None,
            payload,
        })
    };
    let order = |sid: &str, id: &str| {
        json!({"quota.order.number.sid": sid, "quota.order.number.id": id,
            "validity.start.date": "2026-01-01"})
    };
    let origin = |sid: &str, order_sid: &str| {
        json!({"quota.order.number.origin.sid": sid, "quota.order.number.sid": order_sid,
            "geographical.area.id": "QZ", "validity.start.date": "2026-01-01",
            "geographical.area.sid": "78000001"})
    };
    let definition = |sid: &str, order_sid: &str, id: &str, volume: &str, unit: &str| {
        json!({"quota.definition.sid": sid, "quota.order.number.id": id,
            "validity.start.date": "2026-01-01", "quota.order.number.sid": order_sid,
            "volume": volume, "initial.volume": volume, "measurement.unit.code": unit,
            "maximum.precision": "3", "critical.state": "N", "critical.threshold": "90",
            "description": format!("Test quota {id}")})
    };
    let changes = vec![
        rec(
            "geographical.area",
            "78000001",
            json!({"geographical.area.sid": "78000001", "geographical.area.id": "QZ",
                "validity.start.date": "2000-01-01", "geographical.code": "0"}),
        ),
        rec(
            "quota.order.number",
            "78000010",
            order("78000010", "091990"),
        ),
        rec(
            "quota.order.number",
            "78000011",
            order("78000011", "094990"),
        ),
        rec(
            "quota.order.number",
            "78000012",
            order("78000012", "091991"),
        ),
        rec(
            "quota.order.number.origin",
            "78000013",
            origin("78000013", "78000010"),
        ),
        rec(
            "quota.order.number.origin",
            "78000014",
            origin("78000014", "78000011"),
        ),
        rec(
            "quota.order.number.origin",
            "78000015",
            origin("78000015", "78000012"),
        ),
        rec(
            "quota.definition",
            "78000020",
            definition("78000020", "78000010", "091990", "100", "TNE"),
        ),
        rec(
            "quota.definition",
            "78000021",
            definition("78000021", "78000011", "094990", "50", "KGM"),
        ),
        rec(
            "quota.definition",
            "78000022",
            definition("78000022", "78000012", "091991", "100", "TNE"),
        ),
        rec(
            "quota.blocking.period",
            "78000030/78000020",
            json!({"quota.blocking.period.sid": "78000030", "quota.definition.sid": "78000020",
                "blocking.start.date": "2026-03-01", "blocking.end.date": "2026-03-03",
                "blocking.period.type": "1"}),
        ),
        rec(
            "quota.suspension.period",
            "78000020/78000040",
            json!({"quota.suspension.period.sid": "78000040", "quota.definition.sid": "78000020",
                "suspension.start.date": "2026-04-01", "suspension.end.date": "2026-04-30"}),
        ),
    ];
    s.state
        .store
        .tariff_import(
            &TariffLayer::Tenant("NL".parse().unwrap()),
            "quota test",
            "taric3",
            &changes,
            &|_| {},
        )
        .await
        .unwrap();
}

fn draw_body(quantity: &str, unit: &str, at: &str) -> String {
    json!({"quantity": quantity, "unit": unit, "acceptance_time": at,
        "declaration_reference": "26NL0000000000001"})
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quota_api_drawing_returns_surveillance_and_states() {
    for s in TestServer::all().await {
        seed_quotas(&s).await;
        let admin = s.url(Circle::Administration);
        let trader = s.url(Circle::Trader);
        let nl = s.token("officer:NL/jdevries");
        let q = |order: &str| format!("{admin}/api/v1/tariffs/NL/quotas/{order}");
        let public = |order: &str, as_of: &str| {
            format!("{trader}/api/v1/tariffs/NL/quotas/{order}?as_of={as_of}")
        };

        // Public reads: the list and one quota, as of a date.
        let r = call(
            "GET",
            &format!("{trader}/api/v1/tariffs/NL/quotas?as_of=2026-06-15"),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let mine: Vec<(String, String, String)> = r.body["quotas"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|q| {
                ["091990", "091991", "094990"].contains(&q["order_number"].as_str().unwrap())
            })
            .map(|q| {
                (
                    q["order_number"].as_str().unwrap().to_owned(),
                    q["mechanism"].as_str().unwrap().to_owned(),
                    q["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            mine,
            vec![
                ("091990".into(), "fcfs".into(), "open".into()),
                ("091991".into(), "fcfs".into(), "open".into()),
                ("094990".into(), "licensed".into(), "open".into()),
            ]
        );
        // The demo tariff's quotas (common layer): FCFS 091234, licensed 094450.
        let r = call(
            "GET",
            &format!("{trader}/api/v1/tariffs/NL/quotas?as_of=2026-06-15"),
            None,
            None,
            &[],
        )
        .await;
        let demo: Vec<(&str, &str)> = r.body["quotas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| {
                (
                    q["order_number"].as_str().unwrap(),
                    q["mechanism"].as_str().unwrap(),
                )
            })
            .filter(|(o, _)| ["091234", "094450"].contains(o))
            .collect();
        assert_eq!(
            demo,
            vec![("091234", "fcfs"), ("094450", "licensed")],
            "{}",
            r.text
        );
        let r = call("GET", &public("091234", "2026-06-15"), None, None, &[]).await;
        assert_eq!(
            (
                r.body["status"].as_str(),
                r.body["definition"]["unit"].as_str()
            ),
            (Some("open"), Some("KGM")),
            "{}",
            r.text
        );
        let r = call("GET", &public("091990", "2026-06-15"), None, None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["definition"]["sid"], 78000020);
        assert_eq!(r.body["definition"]["unit"], "TNE");
        assert_eq!(r.body["balance"], "100");
        assert_eq!(r.body["origins"][0]["area"], "QZ");
        // States by date.
        let cases = [
            ("2026-03-02", "blocked"),
            ("2026-04-10", "suspended"),
            ("2025-12-31", "not_in_period"),
        ];
        for (date, want) in cases {
            let r = call("GET", &public("091990", date), None, None, &[]).await;
            assert_eq!(
                (r.status, r.body["status"].as_str()),
                (200, Some(want)),
                "{date}: {}",
                r.text
            );
        }
        let r = call("GET", &public("091990", "2026-03-02"), None, None, &[]).await;
        assert_eq!(r.body["blocked"]["from"], "2026-03-01");
        for (url, code) in [
            (public("9x", "2026-06-15"), "invalid_path"),
            (public("091990", "2026-13-01"), "invalid_query"),
            (public("099999", "2026-06-15"), "not_found"),
        ] {
            let r = call("GET", &url, None, None, &[]).await;
            assert_eq!(r.body["code"], code, "{url}: {}", r.text);
        }

        // FCFS drawing on the administration gateway.
        let draw = |order: &str, body: String, token: String| {
            let url = format!("{}/allocation-requests", q(order));
            async move { call("POST", &url, Some(&token), Some(&body), &[]).await }
        };
        let a = draw(
            "091990",
            draw_body("60", "TNE", "2026-06-15T10:00:00Z"),
            nl.clone(),
        )
        .await;
        assert_eq!(a.status, 201, "{}", a.text);
        assert_eq!(a.body["allocation"]["granted"], "60");
        assert_eq!(a.body["allocation"]["status"], "allocated");
        assert_eq!(a.body["quota_status"], "open");
        let first = a.body["allocation"]["id"].as_str().unwrap().to_owned();
        let b = draw(
            "091990",
            draw_body("50", "tne", "2026-06-15T11:00:00Z"),
            nl.clone(),
        )
        .await;
        assert_eq!(b.status, 201, "{}", b.text);
        assert_eq!(b.body["allocation"]["granted"], "40");
        assert_eq!(b.body["allocation"]["status"], "partially_allocated");
        assert_eq!(b.body["quota_status"], "exhausted");
        // Refusals: the quota's state (409 with the reason), or the body (400 with a pointer).
        let refusals: Vec<(&str, String, u16, &str, &str)> = vec![
            ("091990", draw_body("1", "TNE", "2026-06-16T09:00:00Z"), 409, "quota_unavailable", "exhausted"),
            ("091990", draw_body("1", "TNE", "2026-03-02T09:00:00Z"), 409, "quota_unavailable", "blocked"),
            ("091990", draw_body("1", "TNE", "2026-04-10T09:00:00Z"), 409, "quota_unavailable", "suspended"),
            ("091990", draw_body("1", "TNE", "2025-06-10T09:00:00Z"), 409, "quota_unavailable", "no definition in force"),
            ("094990", draw_body("1", "KGM", "2026-06-15T09:00:00Z"), 409, "quota_unavailable", "licensed"),
            ("091990", draw_body("1", "KGM", "2026-06-15T09:00:00Z"), 400, "invalid_field", "/unit"),
            ("091990", draw_body("0", "TNE", "2026-06-15T09:00:00Z"), 400, "invalid_field", "/quantity"),
            ("091990", draw_body("1.0001", "TNE", "2026-06-15T09:00:00Z"), 400, "invalid_field", "/quantity"),
            ("091990", draw_body("1", "T N E", "2026-06-15T09:00:00Z"), 400, "invalid_field", "/unit"),
            ("091990", json!({"quantity": "1", "unit": "TNE", "acceptance_time": "yesterday"}).to_string(), 400, "invalid_field", "/acceptance_time"),
            ("091990", json!({"quantity": "1", "unit": "TNE", "acceptance_time": "2026-06-15T09:00:00Z", "colour": 1}).to_string(), 400, "unknown_field", "/colour"),
            ("099999", draw_body("1", "TNE", "2026-06-15T09:00:00Z"), 404, "not_found", ""),
        ];
        for (order, body, status, code, needle) in refusals {
            let r = draw(order, body.clone(), nl.clone()).await;
            assert_eq!(
                (r.status, r.body["code"].as_str()),
                (status, Some(code)),
                "{body}: {}",
                r.text
            );
            let pointer = r.body["errors"][0]["pointer"].as_str().unwrap_or_default();
            assert!(
                r.body["detail"].as_str().unwrap().contains(needle) || pointer == needle,
                "{body}: {}",
                r.text
            );
        }
        // Who may draw: NL's quota managers and national systems, nobody else.
        for (token, status) in [
            (s.token("officer:DE/mmueller"), 403),
            (s.token("officer:NL/avandijk"), 403),
            (s.token("agency:NL/NVWA/pbakker"), 403),
            (s.token("trader:NL000000001"), 403),
        ] {
            let r = draw(
                "091990",
                draw_body("1", "TNE", "2026-06-15T09:00:00Z"),
                token,
            )
            .await;
            assert_eq!(r.status, status, "{}", r.text);
        }
        let r = call(
            "POST",
            &format!("{}/allocation-requests", q("091990")),
            None,
            Some(&draw_body("1", "TNE", "2026-06-15T09:00:00Z")),
            &[],
        )
        .await;
        assert_eq!(r.status, 401);

        // Returns credit the balance; never more than the allocation holds.
        let ret = |body: Value| {
            let url = format!("{}/returns", q("091990"));
            let nl = nl.clone();
            async move { call("POST", &url, Some(&nl), Some(&body.to_string()), &[]).await }
        };
        let r = ret(json!({"request_id": first, "quantity": "10"})).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(
            (
                r.body["credited"].as_str(),
                r.body["balance_after"].as_str()
            ),
            (Some("10"), Some("10"))
        );
        let r = ret(json!({"request_id": first, "quantity": "50.001"})).await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (422, Some("business_rule_violation")),
            "{}",
            r.text
        );
        assert_eq!(r.body["errors"][0]["pointer"], "/quantity");
        let r = ret(json!({"request_id": "nope", "quantity": "1"})).await;
        assert_eq!(
            (r.status, r.body["errors"][0]["pointer"].as_str()),
            (404, Some("/request_id")),
            "{}",
            r.text
        );
        let r = ret(json!({"request_id": first, "quantity": "-1"})).await;
        assert_eq!(r.status, 400, "{}", r.text);
        // The national system draws what was returned, and a bit: 5 of 10 left.
        let r = draw(
            "091990",
            draw_body("5", "TNE", "2026-06-17T09:00:00Z"),
            s.token("system:NL/ncts-nl"),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["quota_status"], "critical");

        // The balance history: every change, consistent.
        let r = call(
            "GET",
            &format!("{}/balance-history?as_of=2026-06-15&limit=2", q("091990")),
            Some(&nl),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let mut items: Vec<Value> = r.body["items"].as_array().unwrap().clone();
        let cursor = r.body["next_cursor"].as_str().unwrap().to_owned();
        let r = call(
            "GET",
            &format!(
                "{}/balance-history?as_of=2026-06-15&cursor={cursor}",
                q("091990")
            ),
            Some(&nl),
            None,
            &[],
        )
        .await;
        items.extend(r.body["items"].as_array().unwrap().iter().cloned());
        let reasons: Vec<&str> = items
            .iter()
            .map(|h| h["reason"].as_str().unwrap())
            .collect();
        assert_eq!(
            reasons,
            vec![
                "opening",
                "allocation",
                "allocation",
                "return",
                "allocation"
            ]
        );
        let balances: Vec<&str> = items
            .iter()
            .map(|h| h["balance_after"].as_str().unwrap())
            .collect();
        assert_eq!(balances, vec!["100", "40", "0", "10", "5"]);
        let r = call(
            "GET",
            &format!("{}/balance-history", q("091990")),
            Some(&s.token("officer:DE/mmueller")),
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 403);
        // Now (today) the quota is critical: 5 of 100 left.
        let r = call(
            "GET",
            &format!("{trader}/api/v1/tariffs/NL/quotas/091990"),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(
            (r.body["status"].as_str(), r.body["balance"].as_str()),
            (Some("critical"), Some("5")),
            "{}",
            r.text
        );
        assert_eq!(r.body["critical"], true);
        // The same on the administration gateway, authenticated.
        let r = call(
            "GET",
            &q("091990"),
            Some(&s.token("agency:NL/NVWA/pbakker")),
            None,
            &[],
        )
        .await;
        assert_eq!((r.status, r.body["balance"].as_str()), (200, Some("5")));

        // Surveillance of the licensed quota.
        let url = format!("{}/surveillance", q("094990"));
        let body =
            json!({"quantity": "12.5", "unit": "KGM", "imported_on": "2026-06-15"}).to_string();
        let r = call("POST", &url, Some(&nl), Some(&body), &[]).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.body["definition_sid"], 78000021);
        let body = json!({"quantity": "1", "unit": "TNE", "imported_on": "2026-06-15"}).to_string();
        let r = call("POST", &url, Some(&nl), Some(&body), &[]).await;
        assert_eq!(
            (r.status, r.body["errors"][0]["pointer"].as_str()),
            (400, Some("/unit"))
        );
        let r = call("GET", &url, Some(&nl), None, &[]).await;
        assert_eq!(r.body["totals"], json!({"KGM": "12.5"}), "{}", r.text);

        // Concurrent drawing over HTTP: 24 requests of 7 TNE on 100 TNE.
        let mut handles = Vec::new();
        for i in 0..24 {
            let url = format!("{}/allocation-requests", q("091991"));
            let token = if i % 2 == 0 {
                nl.clone()
            } else {
                s.token("system:NL/ncts-nl")
            };
            let body = draw_body("7", "TNE", &format!("2026-06-15T10:00:{:02}Z", i));
            handles.push(tokio::spawn(async move {
                call("POST", &url, Some(&token), Some(&body), &[]).await
            }));
        }
        let mut granted = rust_decimal::Decimal::ZERO;
        let (mut ok, mut refused) = (0, 0);
        for h in handles {
            let r = h.await.unwrap();
            match r.status {
                201 => {
                    ok += 1;
                    granted += r.body["allocation"]["granted"]
                        .as_str()
                        .unwrap()
                        .parse::<rust_decimal::Decimal>()
                        .unwrap();
                }
                409 => {
                    assert_eq!(r.body["code"], "quota_unavailable");
                    refused += 1;
                }
                other => panic!("unexpected {other}: {}", r.text),
            }
        }
        assert_eq!(granted, rust_decimal::Decimal::from(100), "{}", s.db_label);
        assert_eq!((ok, refused), (15, 9), "{}", s.db_label);

        // The portal: the list and the quota page with its SVG chart (no inline style).
        let r = call(
            "GET",
            &format!("{trader}/tariff/NL/quotas"),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(
            r.text.contains("href=\"/tariff/NL/quotas/091990\""),
            "{}",
            r.text
        );
        let r = call(
            "GET",
            &format!("{trader}/tariff/NL/quotas/091990"),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("style-src 'self'"));
        for needle in [
            "<svg id=\"balance-chart\"",
            "<polyline class=\"balance\" points=\"",
            "class=\"critical\"",
            "data-status=\"critical\"",
            "Test quota 091990",
        ] {
            assert!(r.text.contains(needle), "{needle}: {}", r.text);
        }
        assert!(
            !r.text.contains("style="),
            "inline style is blocked by the CSP"
        );
        // The step line has two points per change after the first, plus the end.
        let points = r
            .text
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(points.split(' ').count(), 2 * 5, "{points}");
        let r = call(
            "GET",
            &format!("{trader}/tariff/NL/quotas/091990?as_of=2026-03-02"),
            None,
            None,
            &[],
        )
        .await;
        assert!(r.text.contains("id=\"quota-blocked\""), "{}", r.text);
        for (path, status) in [
            ("/tariff/NL/quotas/0919", 400),
            ("/tariff/NL/quotas/099999", 404),
            ("/tariff/NL/quotas?as_of=x", 400),
        ] {
            let r = call("GET", &format!("{trader}{path}"), None, None, &[]).await;
            assert_eq!(r.status, status, "{path}: {}", r.text);
            assert!(r.text.contains("<html"), "{path}");
        }
        // The administration gateway's pages are for logged-in users.
        let r = call(
            "GET",
            &format!("{admin}/tariff/NL/quotas/091990"),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 303);
    }
}

/// A portal session on the administration gateway: (cookie header, CSRF token).
async fn portal_session(s: &TestServer, principal: &str) -> (String, String) {
    portal_session_on(s, Circle::Administration, principal).await
}

/// A portal session on the gateway of `circle`: (cookie header, CSRF token).
async fn portal_session_on(s: &TestServer, circle: Circle, principal: &str) -> (String, String) {
    let admin = s.url(circle);
    let page = call("GET", &format!("{admin}/login"), None, None, &[]).await;
    let cookie = |r: &Resp| {
        r.headers["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    };
    let csrf_of = |text: &str| {
        let marker = "name=\"csrf_token\" value=\"";
        let start = text.find(marker).unwrap() + marker.len();
        text[start..start + text[start..].find('"').unwrap()].to_owned()
    };
    let form = format!(
        "csrf_token={}&principal={}&password=portorium-demo",
        csrf_of(&page.text),
        principal.replace(':', "%3A").replace('/', "%2F")
    );
    let login_cookie = cookie(&page);
    let r = call(
        "POST",
        &format!("{admin}/login"),
        None,
        Some(&form),
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("cookie", &login_cookie),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let session = cookie(&r);
    let home = call(
        "GET",
        &format!("{admin}/home"),
        None,
        None,
        &[("cookie", &session)],
    )
    .await;
    (session, csrf_of(&home.text))
}

/// The portal's upload forms work without JavaScript: the CSRF token travels as a part of the
/// multipart body (or, from htmx, as the header). Without it, or with a wrong one, the upload
/// is refused before the handler runs.
#[tokio::test]
async fn multipart_upload_carries_the_csrf_token_as_a_part() {
    let s = TestServer::sqlite().await;
    let (session, csrf) = portal_session_on(&s, Circle::Trader, "trader:NL000000001").await;
    let url = format!("{}/declarations/dms/upload", s.url(Circle::Trader));
    let boundary = "portorium-csrf-boundary";
    let ct = format!("multipart/form-data; boundary={boundary}");
    let body = |token: Option<&str>| {
        let mut form = String::new();
        if let Some(t) = token {
            form.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{t}\r\n"
            ));
        }
        form.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.xml\"\r\nContent-Type: application/xml\r\n\r\n\r\n--{boundary}--\r\n"
        ));
        form
    };
    let headers = [("content-type", ct.as_str()), ("cookie", session.as_str())];
    for (token, refused) in [
        (None, true),
        (Some("not-the-token"), true),
        (Some(csrf.as_str()), false),
    ] {
        let r = call("POST", &url, None, Some(&body(token)), &headers).await;
        if refused {
            assert_eq!(r.status, 403, "{token:?}: {}", r.text);
            assert!(r.text.contains("csrf_failed"), "{}", r.text);
        } else {
            // Past the CSRF check: the handler answers about the (empty) file.
            assert_eq!(r.status, 400, "{}", r.text);
            assert!(r.text.contains("choose an XML file"), "{}", r.text);
        }
    }
    // The header (htmx) still works without the part.
    let r = call(
        "POST",
        &url,
        None,
        Some(&body(None)),
        &[
            ("content-type", ct.as_str()),
            ("cookie", session.as_str()),
            ("x-csrf-token", csrf.as_str()),
        ],
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

/// The quota page's draw and return forms (administration gateway, `quota_manager`): a bad
/// quantity is shown on the page; a draw by acceptance time shows the allocation; a return
/// credits part of it; returning more than was granted is refused; an officer without the
/// role sees no forms and is refused; the trader gateway has no such route.
#[tokio::test]
async fn quota_portal_draw_and_return() {
    for s in TestServer::all().await {
        let admin = s.url(Circle::Administration);
        let page_url = format!("{admin}/tariff/NL/quotas/091234");
        let (jd, jd_csrf) = portal_session(&s, "officer:NL/jdevries").await;
        let get = |cookie: String, url: String| async move {
            call("GET", &url, None, None, &[("cookie", &cookie)]).await
        };
        let post = |cookie: String, action: &str, form: String| {
            let url = format!("{page_url}/{action}");
            async move {
                call(
                    "POST",
                    &url,
                    None,
                    Some(&form),
                    &[
                        ("content-type", "application/x-www-form-urlencoded"),
                        ("cookie", &cookie),
                    ],
                )
                .await
            }
        };
        let r = get(jd.clone(), page_url.clone()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("id=\"draw-form\""), "{}", r.text);

        let r = post(
            jd.clone(),
            "draw",
            format!("csrf_token={jd_csrf}&quantity=lots&unit=KGM&accepted_at=2026-06-15T10%3A00"),
        )
        .await;
        assert_eq!(r.status, 400, "{}: {}", s.db_label, r.text);
        assert!(r.text.contains("id=\"quota-error\""), "{}", r.text);
        assert!(r.text.contains("is not a number"), "{}", r.text);

        let r = post(
            jd.clone(),
            "draw",
            format!("csrf_token={jd_csrf}&quantity=2500&unit=KGM&accepted_at=2026-06-15T10%3A00&declaration_reference=26NLPORTAL0000001"),
        )
        .await;
        assert_eq!(r.status, 303, "{}: {}", s.db_label, r.text);
        let to = r.headers["location"].to_str().unwrap().to_owned();
        assert!(to.starts_with("/tariff/NL/quotas/091234?request="), "{to}");
        let id = to.split("request=").nth(1).unwrap().to_owned();
        let r = get(jd.clone(), format!("{admin}{to}")).await;
        assert!(
            r.text
                .contains("<strong id=\"allocation-granted\">2500</strong>"),
            "{}",
            r.text
        );
        assert!(r.text.contains("26NLPORTAL0000001"), "{}", r.text);

        let r = post(
            jd.clone(),
            "return",
            format!("csrf_token={jd_csrf}&request_id={id}&quantity=1000"),
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.text);
        let r = get(
            jd.clone(),
            format!("{admin}/tariff/NL/quotas/091234?request={id}"),
        )
        .await;
        assert!(r.text.contains("1000 returned"), "{}", r.text);
        let r = post(
            jd.clone(),
            "return",
            format!("csrf_token={jd_csrf}&request_id={id}&quantity=5000"),
        )
        .await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert!(r.text.contains("id=\"quota-error\""), "{}", r.text);

        // The allocation is the API's: it is listed in the balance history.
        let officer = s.token("officer:NL/jdevries");
        let h = call(
            "GET",
            &format!("{admin}/api/v1/tariffs/NL/quotas/091234/balance-history?as_of=2026-06-15"),
            Some(&officer),
            None,
            &[],
        )
        .await;
        assert_eq!(h.status, 200, "{}", h.text);
        assert!(h.text.contains("-2500"), "{}", h.text);

        // Without the quota_manager role: no forms, and refused.
        let (av, av_csrf) = portal_session(&s, "officer:NL/avandijk").await;
        let r = get(av.clone(), page_url.clone()).await;
        assert_eq!(r.status, 200);
        assert!(!r.text.contains("id=\"draw-form\""));
        let r = post(
            av,
            "draw",
            format!("csrf_token={av_csrf}&quantity=1&unit=KGM"),
        )
        .await;
        assert_eq!(r.status, 403, "{}", r.text);

        // Not on the trader gateway.
        let r = call(
            "POST",
            &format!("{}/tariff/NL/quotas/091234/draw", s.url(Circle::Trader)),
            None,
            Some("quantity=1&unit=KGM"),
            &[("content-type", "application/x-www-form-urlencoded")],
        )
        .await;
        assert!([404, 405].contains(&r.status), "{}", r.text);
    }
}

/// The national measure form takes conditions (document or threshold, action, the duty
/// applied): a threshold that is not a number is shown next to the conditions; a valid one is
/// saved with the draft and shown on its page (demo tariff).
#[tokio::test]
async fn national_measure_form_conditions() {
    let s = TestServer::sqlite().await;
    let admin = s.url(Circle::Administration);
    let base = format!("{admin}/tariff/NL/measure-drafts");
    let (jd, jd_csrf) = portal_session(&s, "officer:NL/jdevries").await;
    let r = call(
        "GET",
        &format!("{base}/new"),
        None,
        None,
        &[("cookie", &jd)],
    )
    .await;
    assert!(r.text.contains("name=\"k2_action\""), "{}", r.text);
    let fields = format!(
        "csrf_token={jd_csrf}&operation=create&measure_type=306&goods_code=8471300000\
         &geographical_area=1011&start=2027-01-01&c0_expression=01&c0_amount=5\
         &k0_code=B&k0_certificate=N954&k0_action=01&k0_expression=01&k0_amount=0"
    );
    let post = |body: String| {
        let (url, cookie) = (base.clone(), jd.clone());
        async move {
            call(
                "POST",
                &url,
                None,
                Some(&body),
                &[
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("cookie", &cookie),
                ],
            )
            .await
        }
    };
    let r = post(format!(
        "{fields}&k1_code=E&k1_threshold_amount=lots&k1_threshold_unit=KGM&k1_action=01"
    ))
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("id=\"err-conditions\""), "{}", r.text);
    assert!(
        r.text
            .contains("condition row 2: the threshold must be a number"),
        "{}",
        r.text
    );
    // What was typed is kept.
    assert!(r.text.contains("value=\"N954\""), "{}", r.text);

    let r = post(fields.clone()).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = format!("{admin}{}", r.headers["location"].to_str().unwrap());
    let r = call("GET", &page, None, None, &[("cookie", &jd)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.text
            .contains("condition B, document N954, action 01, duty 0.00 %"),
        "{}",
        r.text
    );
    // The API holds the same draft.
    let officer = s.token("officer:NL/jdevries");
    let id = page.rsplit('/').next().unwrap();
    let d = call(
        "GET",
        &format!("{admin}/api/v1/tariffs/NL/measure-drafts/{id}"),
        Some(&officer),
        None,
        &[],
    )
    .await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(
        d.body["payload"]["conditions"][0]["certificate"], "N954",
        "{}",
        d.text
    );
    assert_eq!(d.body["payload"]["conditions"][0]["action"], "01");

    // The edit page: the form filled in with the draft; saving amends it (the API's amendment).
    let edit = format!("{page}/edit");
    let r = call("GET", &edit, None, None, &[("cookie", &jd)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.text.contains("name=\"c0_amount\" value=\"5\""),
        "{}",
        r.text
    );
    assert!(r.text.contains("value=\"N954\""), "{}", r.text);
    let version = d.body["version"].as_i64().unwrap();
    let edit_post = |body: String| {
        let (url, cookie) = (edit.clone(), jd.clone());
        async move {
            call(
                "POST",
                &url,
                None,
                Some(&body),
                &[
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("cookie", &cookie),
                ],
            )
            .await
        }
    };
    let changed = fields.replace("c0_amount=5", "c0_amount=6");
    // A stale version is a conflict, shown on the draft's page; nothing changes.
    let r = edit_post(format!("{changed}&version={}", version - 1)).await;
    assert_eq!(r.status, 409, "{}", r.text);
    let r = edit_post(format!("{changed}&version={version}")).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = call(
        "GET",
        &format!("{admin}{}", r.headers["location"].to_str().unwrap()),
        None,
        None,
        &[("cookie", &jd)],
    )
    .await;
    assert!(r.text.contains("The draft is saved"), "{}", r.text);
    assert!(r.text.contains("6.00 %"), "{}", r.text);
    // Another officer cannot edit it.
    let (av, _) = portal_session(&s, "officer:NL/avandijk").await;
    let r = call("GET", &edit, None, None, &[("cookie", &av)]).await;
    assert!(r.status >= 400, "{}", r.text);
    assert!(!r.text.contains("id=\"draft-form\""), "{}", r.text);
}

/// The form has as many rows as needed: "More rows" adds empty ones without saving, a
/// condition row with only a duty adds a component to the condition above, and the edit
/// page shows every row of a draft (nothing is dropped when it is saved again).
#[tokio::test]
async fn national_measure_form_rows() {
    let s = TestServer::sqlite().await;
    let admin = s.url(Circle::Administration);
    let base = format!("{admin}/tariff/NL/measure-drafts");
    let (jd, jd_csrf) = portal_session(&s, "officer:NL/jdevries").await;
    let post = |url: String, body: String| {
        let cookie = jd.clone();
        async move {
            call(
                "POST",
                &url,
                None,
                Some(&body),
                &[
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("cookie", &cookie),
                ],
            )
            .await
        }
    };
    // Four components (an entry-price style compound with MIN and MAX clauses) and a
    // condition whose duty has two components (12.80 % + 29.80 EUR / 100 kg).
    let fields = format!(
        "csrf_token={jd_csrf}&operation=create&measure_type=306&goods_code=8471300000\
         &geographical_area=1011&start=2027-01-01\
         &c0_expression=01&c0_amount=5\
         &c1_expression=04&c1_amount=2&c1_monetary_unit=EUR&c1_measurement_unit=DTN\
         &c2_expression=15&c2_amount=1&c2_monetary_unit=EUR&c2_measurement_unit=DTN\
         &c3_expression=17&c3_amount=9&c3_monetary_unit=EUR&c3_measurement_unit=DTN\
         &k0_code=B&k0_certificate=N954&k0_action=01&k0_expression=01&k0_amount=12.8\
         &k1_expression=04&k1_amount=29.8&k1_monetary_unit=EUR&k1_measurement_unit=DTN\
         &k1_qualifier=E"
    );

    // "More rows": the form again with what was typed and three more empty rows; no draft.
    let r = post(base.clone(), format!("{fields}&more_rows=1")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    for name in ["c6_expression", "k4_code"] {
        assert!(
            r.text.contains(&format!("name=\"{name}\"")),
            "{name}: {}",
            r.text
        );
    }
    assert!(!r.text.contains("name=\"c7_expression\""), "{}", r.text);
    assert!(
        r.text.contains("name=\"c3_amount\" value=\"9\""),
        "{}",
        r.text
    );
    let officer = s.token("officer:NL/jdevries");
    let list = call(
        "GET",
        &format!("{admin}/api/v1/tariffs/NL/measure-drafts"),
        Some(&officer),
        None,
        &[],
    )
    .await;
    assert_eq!(list.status, 200, "{}", list.text);
    let drafts_before = list.text.matches("\"drafted_by\"").count();

    // A duty row with no condition above it is refused, on that row.
    let orphan = format!(
        "csrf_token={jd_csrf}&operation=create&measure_type=306&goods_code=8471300000\
         &geographical_area=1011&start=2027-01-01&c0_expression=01&c0_amount=5\
         &k0_expression=01&k0_amount=1"
    );
    let r = post(base.clone(), orphan).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.text
            .contains("condition row 1: a row with only a duty continues"),
        "{}",
        r.text
    );

    // Saved: four components, one condition with two components.
    let r = post(base.clone(), fields.clone()).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = format!("{admin}{}", r.headers["location"].to_str().unwrap());
    let id = page.rsplit('/').next().unwrap().to_owned();
    let api = format!("{admin}/api/v1/tariffs/NL/measure-drafts/{id}");
    let d = call("GET", &api, Some(&officer), None, &[]).await;
    assert_eq!(d.status, 200, "{}", d.text);
    let payload = &d.body["payload"];
    assert_eq!(
        payload["components"].as_array().unwrap().len(),
        4,
        "{}",
        d.text
    );
    assert_eq!(payload["components"][3]["duty_expression_id"], "17");
    let conditions = payload["conditions"].as_array().unwrap();
    assert_eq!(conditions.len(), 1, "{}", d.text);
    let duty = conditions[0]["components"].as_array().unwrap();
    assert_eq!(duty.len(), 2, "{}", d.text);
    assert_eq!(duty[1]["measurement_unit"], "DTN");
    assert_eq!(duty[1]["qualifier"], "E");
    let list = call(
        "GET",
        &format!("{admin}/api/v1/tariffs/NL/measure-drafts"),
        Some(&officer),
        None,
        &[],
    )
    .await;
    assert_eq!(
        list.text.matches("\"drafted_by\"").count(),
        drafts_before + 1
    );

    // The edit page shows every row (and one spare of each kind); saved unchanged, the
    // draft keeps all of it.
    let edit = format!("{page}/edit");
    let r = call("GET", &edit, None, None, &[("cookie", &jd)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.text.contains("name=\"c3_amount\" value=\"9\""),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("name=\"c4_expression\" value=\"\""),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("name=\"k1_amount\" value=\"29.8\""),
        "{}",
        r.text
    );
    assert!(r.text.contains("name=\"k1_code\" value=\"\""), "{}", r.text);
    let version = d.body["version"].as_i64().unwrap();
    let r = post(edit.clone(), format!("{fields}&version={version}")).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let again = call("GET", &api, Some(&officer), None, &[]).await;
    assert_eq!(again.body["payload"], d.body["payload"], "{}", again.text);
}

#[tokio::test]
async fn national_measure_portal_editor() {
    let Some(dir) = uk_reference() else { return };
    let s = TestServer::sqlite().await;
    seed_uk_tariff(&s, &dir).await;
    let admin = s.url(Circle::Administration);
    let base = format!("{admin}/tariff/NL/measure-drafts");
    let form_ct = ("content-type", "application/x-www-form-urlencoded");

    // Anonymous: to the login page.
    let r = call("GET", &base, None, None, &[]).await;
    assert_eq!(r.status, 303);

    let (jd, jd_csrf) = portal_session(&s, "officer:NL/jdevries").await;
    let r = call("GET", &base, None, None, &[("cookie", &jd)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("id=\"new-draft\""), "{}", r.text);
    let r = call(
        "GET",
        &format!("{base}/new"),
        None,
        None,
        &[("cookie", &jd)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("id=\"draft-form\""));

    // Errors next to the fields: the amount is missing, the start is not a date.
    let fields = "operation=create&measure_type=305&goods_code=0103921100&geographical_area=1011\
                  &start=2021-01-01&end=2021-12-31&c0_expression=01&legal_base=Wet+OB+1968";
    let post = |body: String, cookie: String| {
        let url = base.clone();
        async move {
            call(
                "POST",
                &url,
                None,
                Some(&body),
                &[form_ct, ("cookie", &cookie)],
            )
            .await
        }
    };
    let r = post(format!("csrf_token={jd_csrf}&{fields}"), jd.clone()).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("id=\"err-components\""), "{}", r.text);
    assert!(
        r.text
            .contains("ME45: duty expression 01 requires an amount"),
        "{}",
        r.text
    );
    let r = post(
        format!(
            "csrf_token={jd_csrf}&{}",
            fields.replace("2021-01-01", "1st of May")
        ),
        jd.clone(),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("id=\"err-start\""), "{}", r.text);
    // Without the CSRF token: refused.
    let r = post(format!("{fields}&c0_amount=21"), jd.clone()).await;
    assert_eq!(r.status, 403, "{}", r.text);
    // Saved, then submitted.
    let r = post(
        format!("csrf_token={jd_csrf}&{fields}&c0_amount=21"),
        jd.clone(),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = format!("{admin}{}", r.headers["location"].to_str().unwrap());
    let r = call("GET", &page, None, None, &[("cookie", &jd)]).await;
    assert!(
        r.text.contains("id=\"submit\"") && !r.text.contains("id=\"approve\""),
        "{}",
        r.text
    );
    assert!(r.text.contains("21.00 %"), "{}", r.text);
    let step = |name: &str, cookie: &str, csrf: &str, extra: &str| {
        let (url, cookie, body) = (
            format!("{page}/{name}"),
            cookie.to_owned(),
            format!("csrf_token={csrf}{extra}"),
        );
        async move {
            call(
                "POST",
                &url,
                None,
                Some(&body),
                &[form_ct, ("cookie", &cookie)],
            )
            .await
        }
    };
    let r = step("submit", &jd, &jd_csrf, "").await;
    assert_eq!(r.status, 303, "{}", r.text);
    // The drafter cannot approve, even through the form.
    let r = step("approve", &jd, &jd_csrf, "").await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.text.contains("id=\"step-error\""), "{}", r.text);

    // The second officer sees Approve and Reject, and approves.
    let (av, av_csrf) = portal_session(&s, "officer:NL/avandijk").await;
    let r = call("GET", &page, None, None, &[("cookie", &av)]).await;
    assert!(
        r.text.contains("id=\"approve\"") && r.text.contains("id=\"reject\""),
        "{}",
        r.text
    );
    let r = step("approve", &av, &av_csrf, "").await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = call(
        "GET",
        &format!("{admin}{}", r.headers["location"].to_str().unwrap()),
        None,
        None,
        &[("cookie", &av)],
    )
    .await;
    assert!(r.text.contains("id=\"notice\""), "{}", r.text);
    assert!(r.text.contains("id=\"measure-sid\""), "{}", r.text);
    let r = call(
        "GET",
        &format!("{base}?status=approved"),
        None,
        None,
        &[("cookie", &av)],
    )
    .await;
    assert!(r.text.contains("approved"), "{}", r.text);
    // Another administration's officer: refused.
    let (mm, _) = portal_session(&s, "officer:DE/mmueller").await;
    let r = call("GET", &base, None, None, &[("cookie", &mm)]).await;
    assert_eq!(r.status, 403, "{}", r.text);
}

// ---- demo tariff ----

/// One duty calculation against the demo tariff, with the totals computed by hand.
struct DemoCase {
    name: &'static str,
    tenant: &'static str,
    code: &'static str,
    origin: &'static str,
    date: &'static str,
    value: &'static str,
    quantities: Value,
    documents: &'static [&'static str],
    additional_codes: &'static [&'static str],
    meursing: Option<&'static str>,
    unit_price: Option<&'static str>,
    /// (option measure type, total) in the response's order.
    options: &'static [(&'static str, &'static str)],
    /// The measure type of the cheapest option.
    cheapest: &'static str,
    /// Measure types reported as prohibitions.
    prohibitions: &'static [&'static str],
}

#[allow(clippy::too_many_arguments)]
fn demo(
    name: &'static str,
    tenant: &'static str,
    code: &'static str,
    origin: &'static str,
    value: &'static str,
    quantities: Value,
    options: &'static [(&'static str, &'static str)],
    cheapest: &'static str,
) -> DemoCase {
    DemoCase {
        name,
        tenant,
        code,
        origin,
        date: "2026-03-02",
        value,
        quantities,
        documents: &[],
        additional_codes: &[],
        meursing: None,
        unit_price: None,
        options,
        cheapest,
        prohibitions: &[],
    }
}

impl DemoCase {
    fn docs(mut self, d: &'static [&'static str]) -> Self {
        self.documents = d;
        self
    }
    fn codes(mut self, c: &'static [&'static str]) -> Self {
        self.additional_codes = c;
        self
    }
    fn meursing(mut self, m: &'static str) -> Self {
        self.meursing = Some(m);
        self
    }
    fn price(mut self, p: &'static str) -> Self {
        self.unit_price = Some(p);
        self
    }
    fn on(mut self, date: &'static str) -> Self {
        self.date = date;
        self
    }
    fn prohibited(mut self, p: &'static [&'static str]) -> Self {
        self.prohibitions = p;
        self
    }
    fn body(&self) -> String {
        let mut b = json!({
            "commodity_code": self.code,
            "origin": self.origin,
            "date": self.date,
            "customs_value": {"amount": self.value, "currency": "EUR"},
            "quantities": self.quantities,
            "documents": self.documents,
            "additional_codes": self.additional_codes,
        });
        if let Some(m) = self.meursing {
            b["meursing_code"] = json!(m);
        }
        if let Some(p) = self.unit_price {
            b["unit_price"] = json!({"amount": p, "currency": "EUR"});
        }
        b.to_string()
    }
}

fn demo_cases() -> Vec<DemoCase> {
    let n = |s: &str| Value::String(s.to_owned());
    vec![
        // 01 ad valorem: 14 % × 1,000 = 140; VAT 21 % × 1,140 = 239.40.
        demo(
            "ad valorem",
            "NL",
            "8528729100",
            "CN",
            "1000",
            json!({"NAR": n("2")}),
            &[("103", "379.40")],
            "103",
        ),
        // A country preference: 0 %; VAT 210.
        demo(
            "preference by country",
            "NL",
            "8528729100",
            "KR",
            "1000",
            json!({"NAR": n("2")}),
            &[("103", "379.40"), ("142", "210.00")],
            "142",
        ),
        // 01 + 04: 12.8 % × 5,000 + 176.80 × 10 = 2,408; VAT 9 % × 7,408 = 666.72.
        demo(
            "compound % + EUR/100 kg",
            "NL",
            "0201100000",
            "BR",
            "5000",
            json!({"KGM": n("1000")}),
            &[("103", "3074.72")],
            "103",
        )
        .docs(&["N853"]),
        // Without the CHED the veterinary control forbids the import.
        demo(
            "veterinary control without N853",
            "NL",
            "0201100000",
            "BR",
            "5000",
            json!({"KGM": n("1000")}),
            &[("103", "3074.72")],
            "103",
        )
        .prohibited(&["410"]),
        // 01 + 06: 102.40 × 5 + 12.00 × 5 = 572; VAT 9 % × 2,572 = 231.48.
        demo(
            "06 supplementary amount",
            "NL",
            "0207141000",
            "BR",
            "2000",
            json!({"KGM": n("500")}),
            &[("103", "803.48")],
            "103",
        )
        .docs(&["N853"]),
        // 52 EUR / 1000 p/st × 2 = 104; VAT 9 % × 404 = 36.36.
        demo(
            "per 1000 pieces",
            "NL",
            "0105111100",
            "US",
            "300",
            json!({"NAR": n("2000")}),
            &[("103", "140.36")],
            "103",
        )
        .docs(&["N853", "9NL1"]),
        // National restriction (NL licence 9NL1) and veterinary control reported.
        demo(
            "national restriction",
            "NL",
            "0105111100",
            "US",
            "300",
            json!({"NAR": n("2000")}),
            &[("103", "140.36")],
            "103",
        )
        .prohibited(&["410", "NRL"]),
        // 02: 151 - 30 = 121 EUR / 100 kg; VAT 9 %.
        demo(
            "02 minus amount",
            "NL",
            "0406907800",
            "CH",
            "1000",
            json!({"KGM": n("100")}),
            &[("103", "254.59"), ("142", "221.89")],
            "142",
        )
        .docs(&["N853"]),
        // Entry-price ladder (condition V), 12.8 % + the step's EUR/100 kg, 20 × 100 kg.
        demo(
            "entry price above the top step",
            "NL",
            "0709931000",
            "TR",
            "1000",
            json!({"KGM": n("2000")}),
            &[("103", "229.52")],
            "103",
        )
        .price("53.00"),
        demo(
            "entry price at 50.00: 3.20 step",
            "NL",
            "0709931000",
            "TR",
            "1000",
            json!({"KGM": n("2000")}),
            &[("103", "299.28")],
            "103",
        )
        .price("50.00"),
        demo(
            "entry price below every step",
            "NL",
            "0709931000",
            "TR",
            "1000",
            json!({"KGM": n("2000")}),
            &[("103", "879.16")],
            "103",
        )
        .price("40.00"),
        demo(
            "entry price, preference",
            "NL",
            "0709931000",
            "MA",
            "1000",
            json!({"KGM": n("2000")}),
            &[("103", "229.52"), ("142", "90.00")],
            "142",
        )
        .price("53.00"),
        // 12 + 17 + 21: 83 + 25 × 2 = 133 < 187 + 10 × 2: not capped; VAT 9 % × 1,133.
        demo(
            "Meursing, MAX not applied",
            "NL",
            "1806321000",
            "US",
            "1000",
            json!({"KGM": n("200")}),
            &[("103", "234.97")],
            "103",
        )
        .meursing("7000"),
        // 7002: 83 × 0.3 + 45.80 × 2 = 116.50 > 56.10 + 22.10 × 2 = 100.30.
        demo(
            "Meursing, MAX + AD S/Z applied",
            "NL",
            "1806321000",
            "US",
            "300",
            json!({"KGM": n("200")}),
            &[("103", "136.33")],
            "103",
        )
        .meursing("7002"),
        // 14 + 25 (reduced figures for the FTA group): 12.50 × 2 = 25; VAT 9 % × 1,025.
        demo(
            "reduced agricultural component",
            "NL",
            "1806321000",
            "KR",
            "1000",
            json!({"KGM": n("200")}),
            &[("103", "234.97"), ("142", "117.25")],
            "142",
        )
        .meursing("7000"),
        // 27: 9 + 52.30 = 61.30 > 24.20 + 12.40 = 36.60.
        demo(
            "AD F/M in the MAX",
            "NL",
            "1905909000",
            "US",
            "100",
            json!({"KGM": n("100")}),
            &[("103", "48.89")],
            "103",
        )
        .meursing("7100"),
        // 29: 26.15 > 12.10 + 6.20 = 18.30.
        demo(
            "reduced AD F/M",
            "NL",
            "1905909000",
            "MA",
            "100",
            json!({"KGM": n("100")}),
            &[("103", "48.89"), ("142", "28.95")],
            "142",
        )
        .meursing("7100"),
        // 23: 0 + 45.80 > 9.10 + 2 % × 100 = 11.10 (GSP); 103: 9 + 45.80 > 18.20 + 22.10.
        demo(
            "2 % additional duty on sugar",
            "NL",
            "1704907100",
            "IN",
            "100",
            json!({"KGM": n("100")}),
            &[("103", "52.93"), ("142", "21.10")],
            "142",
        )
        .meursing("7002"),
        // 15: 16.9 % × 100 = 16.90 < 2.50 × 20 pairs = 50; VAT 21 % × 150.
        demo(
            "MIN per pair",
            "NL",
            "6402999300",
            "CN",
            "100",
            json!({"NPR": n("20")}),
            &[("103", "81.50")],
            "103",
        ),
        // 01 + 04 + 15 + 35: 336 + 103 = 439, neither bound bites.
        demo(
            "MIN and MAX not applied",
            "NL",
            "2009111100",
            "BR",
            "1000",
            json!({"KGM": n("500")}),
            &[("103", "568.51")],
            "103",
        ),
        // 67.20 + 103 = 170.20 capped at 45 % × 200 = 90; VAT 9 % × 290.
        demo(
            "MAX 35 applied",
            "NL",
            "2009111100",
            "BR",
            "200",
            json!({"KGM": n("500")}),
            &[("103", "116.10")],
            "103",
        ),
        // 114 EUR / 1000 kg × 20; FTA 75 × 20.
        demo(
            "per 1000 kg, preference by group",
            "NL",
            "0803901000",
            "CH",
            "10000",
            json!({"KGM": n("20000")}),
            &[("103", "3385.20"), ("142", "2535.00")],
            "142",
        ),
        // 13.10 EUR/hl × 5 + excise 94.72 × 5; VAT 21 % × 1,539.10.
        demo(
            "wine per hl with excise",
            "NL",
            "2204217900",
            "US",
            "1000",
            json!({"LTR": n("500")}),
            &[("103", "862.31")],
            "103",
        ),
        // 1 EUR/% vol/hl × 40 + 6.40 × 1 (19); excise 18.63 × 40 l alc.; VAT 21 %.
        demo(
            "% vol/hl + hl, excise per l alc. 100 %",
            "NL",
            "2208909100",
            "US",
            "1000",
            json!({"LTR": n("100"), "ASV": n("40")}),
            &[("103", "1167.84")],
            "103",
        ),
        // 0.60 × 40 × 0.7 + 3.20 × 0.7 (20) = 19.04; excise 18.63 × 28 = 521.64.
        demo(
            "rum: 01 + 20",
            "NL",
            "2208401100",
            "US",
            "1000",
            json!({"LTR": n("70"), "ASV": n("40")}),
            &[("103", "864.22")],
            "103",
        ),
        // Additional duties (695) stacked on the option: 25 % × 1,000.
        demo(
            "additional duties on US whisky",
            "NL",
            "2208303000",
            "US",
            "1000",
            json!({"LTR": n("70"), "ASV": n("40")}),
            &[("103", "1143.68")],
            "103",
        ),
        // Anti-dumping + countervailing by company: 18.1 % + 4.6 %; VAT 21 % × 12,270.
        demo(
            "anti-dumping C001",
            "NL",
            "7208390000",
            "CN",
            "10000",
            json!({"KGM": n("20000")}),
            &[("103", "4846.70")],
            "103",
        )
        .codes(&["C001"]),
        // NIHIL (37) and 0 %.
        demo(
            "anti-dumping C002 NIHIL",
            "NL",
            "7208390000",
            "CN",
            "10000",
            json!({"KGM": n("20000")}),
            &[("103", "2100.00")],
            "103",
        )
        .codes(&["C002"]),
        demo(
            "anti-dumping residual C999",
            "NL",
            "7208390000",
            "CN",
            "10000",
            json!({"KGM": n("20000")}),
            &[("103", "7424.00")],
            "103",
        )
        .codes(&["C999"]),
        // Anti-dumping without additional codes: 14 % + 48.5 %.
        demo(
            "anti-dumping without additional code",
            "NL",
            "8712003000",
            "CN",
            "1000",
            json!({"NAR": n("10")}),
            &[("103", "966.25")],
            "103",
        ),
        demo(
            "countervailing on electric cars",
            "NL",
            "8703801000",
            "CN",
            "30000",
            json!({"NAR": n("1")}),
            &[("103", "16101.00")],
            "103",
        )
        .codes(&["C101"]),
        // Sanctions: import prohibition unless Y824.
        demo(
            "import prohibition",
            "NL",
            "7208251000",
            "RU",
            "1000",
            json!({"KGM": n("1000")}),
            &[("103", "210.00")],
            "103",
        )
        .prohibited(&["277"]),
        demo(
            "import prohibition, exemption document",
            "NL",
            "7208251000",
            "RU",
            "1000",
            json!({"KGM": n("1000")}),
            &[("103", "210.00")],
            "103",
        )
        .docs(&["Y824"]),
        // Tariff quota (122): 20 % instead of 12.8 % + 303.40 × 10.
        demo(
            "FCFS quota",
            "NL",
            "0201300000",
            "US",
            "10000",
            json!({"KGM": n("1000")}),
            &[("103", "5602.26"), ("122", "3080.00")],
            "122",
        )
        .docs(&["N853"]),
        demo(
            "preferential quota",
            "NL",
            "0805102200",
            "MA",
            "1000",
            json!({"KGM": n("1000")}),
            &[("103", "264.40"), ("143", "90.00")],
            "143",
        ),
        demo(
            "autonomous suspension",
            "NL",
            "8507600000",
            "CN",
            "1000",
            json!({"NAR": n("100")}),
            &[("103", "242.67"), ("112", "210.00")],
            "112",
        ),
        // Diesel: 3.5 %, excise 516.69 per 1000 l × 2; end-use suspension 0 %.
        demo(
            "end-use suspension with excise",
            "NL",
            "2710194300",
            "US",
            "1000",
            json!({"LTR": n("2000")}),
            &[("103", "1502.74"), ("115", "1460.39")],
            "115",
        ),
        // 36: 2.7 % - 1 % of the CIF value.
        demo(
            "minus % CIF",
            "NL",
            "8415101000",
            "KR",
            "1000",
            json!({"NAR": n("2")}),
            &[("103", "242.67"), ("145", "230.57")],
            "145",
        ),
        // GSP with India excluded; Viet Nam moved from GSP to the FTA group in 2026.
        demo(
            "GSP",
            "NL",
            "6109100000",
            "PK",
            "1000",
            json!({"NAR": n("100")}),
            &[("103", "355.20"), ("142", "326.16")],
            "142",
        ),
        demo(
            "GSP exclusion",
            "NL",
            "6109100000",
            "IN",
            "1000",
            json!({"NAR": n("100")}),
            &[("103", "355.20")],
            "103",
        ),
        demo(
            "FTA member in 2026",
            "NL",
            "6109100000",
            "VN",
            "1000",
            json!({"NAR": n("100")}),
            &[("103", "355.20"), ("142", "210.00")],
            "142",
        ),
        demo(
            "GSP member in 2025",
            "NL",
            "6109100000",
            "VN",
            "1000",
            json!({"NAR": n("100")}),
            &[("103", "355.20"), ("142", "326.16")],
            "142",
        )
        .on("2025-06-02"),
        // NL vs DE: VAT 21 % / 19 %; beer excise; coffee excise only in DE.
        demo(
            "NL VAT",
            "NL",
            "8471300000",
            "CN",
            "1000",
            json!({"NAR": n("1")}),
            &[("103", "210.00")],
            "103",
        ),
        demo(
            "DE VAT",
            "DE",
            "8471300000",
            "CN",
            "1000",
            json!({"NAR": n("1")}),
            &[("103", "190.00")],
            "103",
        ),
        demo(
            "NL beer 2026",
            "NL",
            "2203000100",
            "US",
            "100",
            json!({"LTR": n("100")}),
            &[("103", "77.19")],
            "103",
        ),
        demo(
            "NL beer 2025 (older excise)",
            "NL",
            "2203000100",
            "US",
            "100",
            json!({"LTR": n("100")}),
            &[("103", "74.34")],
            "103",
        )
        .on("2025-06-02"),
        demo(
            "DE beer",
            "DE",
            "2203000100",
            "US",
            "100",
            json!({"LTR": n("100")}),
            &[("103", "30.23")],
            "103",
        ),
        demo(
            "NL coffee",
            "NL",
            "0901210000",
            "BR",
            "1000",
            json!({"KGM": n("100")}),
            &[("103", "171.75")],
            "103",
        ),
        demo(
            "DE coffee excise",
            "DE",
            "0901210000",
            "BR",
            "1000",
            json!({"KGM": n("100")}),
            &[("103", "384.58")],
            "103",
        ),
        // 10 % × 1,000 + VAT 19 % × 1,100; the national prohibition is reported.
        demo(
            "DE national prohibition",
            "DE",
            "2402201000",
            "ID",
            "1000",
            json!({"NAR": n("1000")}),
            &[("103", "309.00")],
            "103",
        )
        .prohibited(&["NPI"]),
        // Historic (1994): levies and variable components, accession compensatory amounts.
        demo(
            "03 / 05 levy replaces the rate",
            "NL",
            "0201100000",
            "IN",
            "5000",
            json!({"KGM": n("1000")}),
            &[("103", "3015.00"), ("142", "1507.50")],
            "142",
        )
        .on("1994-06-01"),
        demo(
            "07 / 09 + levy",
            "NL",
            "1701991000",
            "IN",
            "1000",
            json!({"KGM": n("1000")}),
            &[("103", "537.00"), ("142", "268.50")],
            "142",
        )
        .on("1994-06-01"),
        demo(
            "11 / 13 + variable component",
            "NL",
            "1806321000",
            "IN",
            "1000",
            json!({"KGM": n("200")}),
            &[("103", "174.80"), ("142", "87.40")],
            "142",
        )
        .on("1994-06-01"),
        demo(
            "31 / 33 accession compensatory amounts",
            "NL",
            "2204217900",
            "PT",
            "1000",
            json!({"LTR": n("1000")}),
            &[("142", "65.00")],
            "142",
        )
        .on("1994-06-01"),
    ]
}

#[tokio::test]
async fn demo_tariff_duty_calculations() {
    let s = TestServer::sqlite().await;
    let base = format!("{}/api/v1/tariffs", s.url(Circle::Trader));
    for c in demo_cases() {
        let url = format!("{base}/{}/duty-calculations", c.tenant);
        let r = call("POST", &url, None, Some(&c.body()), &[]).await;
        assert_eq!(r.status, 200, "{}: {}", c.name, r.text);
        let options = r.body["options"].as_array().unwrap();
        let got: Vec<(String, String)> = options
            .iter()
            .map(|o| {
                (
                    o["measure_type_id"].as_str().unwrap().to_owned(),
                    o["total"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let want: Vec<(String, String)> = c
            .options
            .iter()
            .map(|(t, v)| ((*t).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(got, want, "{}: {}", c.name, r.text);
        let cheapest = r.body["cheapest"].as_u64().unwrap() as usize;
        assert_eq!(
            options[cheapest]["measure_type_id"], c.cheapest,
            "{}",
            c.name
        );
        let mut prohibited: Vec<&str> = r.body["prohibitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["measure_type_id"].as_str().unwrap())
            .collect();
        prohibited.sort_unstable();
        assert_eq!(prohibited, c.prohibitions, "{}: {}", c.name, r.text);
        assert_eq!(r.body["currency"], "EUR");
    }
}

#[tokio::test]
async fn demo_tariff_errors_lines_and_commodities() {
    for s in TestServer::all().await {
        let trader = s.url(Circle::Trader);
        let base = format!("{trader}/api/v1/tariffs");
        let calc = |tenant: &str| format!("{base}/{tenant}/duty-calculations");
        let body = |extra: Value| {
            let mut b = json!({
                "commodity_code": "7208390000",
                "origin": "CN",
                "date": "2026-03-02",
                "customs_value": {"amount": "10000", "currency": "EUR"},
                "quantities": {"KGM": "20000"},
            });
            for (k, v) in extra.as_object().unwrap() {
                b[k] = v.clone();
            }
            b.to_string()
        };
        // Anti-dumping by company needs a declared additional code.
        let r = call("POST", &calc("NL"), None, Some(&body(json!({}))), &[]).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.headers["content-type"], "application/problem+json");
        assert_eq!(r.body["errors"][0]["pointer"], "/additional_codes");
        assert!(r.text.contains("C999"), "{}", r.text);
        // The lines of an option: the duty, stacked anti-dumping and countervailing, VAT.
        let r = call(
            "POST",
            &calc("NL"),
            None,
            Some(&body(json!({"additional_codes": ["C001"]}))),
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let lines: Vec<(&str, &str)> = r.body["options"][0]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["measure_type_id"].as_str().unwrap(),
                    l["amount"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                ("103", "0.00"),
                ("552", "1810.00"),
                ("554", "460.00"),
                ("VTS", "2576.70")
            ]
        );
        assert_eq!(r.body["options"][0]["vat_base"], "12270.00");
        assert_eq!(
            r.body["options"][0]["lines"][1]["formula"],
            "18.10% × 10,000.00 = 1,810.00"
        );
        // The entry price needs the unit price; Meursing figures need a known code.
        let r = call(
            "POST",
            &calc("NL"),
            None,
            Some(&body(
                json!({"commodity_code": "0709931000", "origin": "TR"}),
            )),
            &[],
        )
        .await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.body["errors"][0]["pointer"], "/unit_price");
        let r = call(
            "POST",
            &calc("NL"),
            None,
            Some(&body(
                json!({"commodity_code": "1806321000", "origin": "US", "meursing_code": "7999"}),
            )),
            &[],
        )
        .await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.body["errors"][0]["pointer"], "/meursing_code");
        // A Meursing formula names the code and the figure.
        let r = call(
            "POST",
            &calc("NL"),
            None,
            Some(&body(json!({"commodity_code": "1806321000", "origin": "US", "meursing_code": "7000", "customs_value": {"amount": "1000", "currency": "EUR"}, "quantities": {"KGM": "200"}}))),
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let formula = r.body["options"][0]["lines"][0]["formula"]
            .as_str()
            .unwrap();
        assert!(
            formula.contains("+ AC [7000] 25.00 EUR/100 kg × 2.00 = 50.00"),
            "{formula}"
        );
        assert!(
            formula.contains("+ SD [7000]") && formula.contains("(not applied)"),
            "{formula}"
        );
        assert_eq!(
            r.body["options"][0]["lines"][0]["duty_expression"],
            "8.30 % + AC MAX 18.70 % + SD"
        );

        // The commodity endpoint lists the national measures, as of a date.
        let r = call(
            "GET",
            &format!("{base}/NL/commodities/2203000100?origin=US&as_of=2026-03-02"),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let measures = r.body["measures"].as_array().unwrap();
        let find = |ty: &str| measures.iter().find(|m| m["measure_type_id"] == ty);
        let excise = find("EXB").expect("NL beer excise");
        assert_eq!(excise["national"], true);
        assert_eq!(excise["measure_type"], "Excise: beer");
        assert_eq!(excise["duty_expression"], "46.44 EUR / hl");
        assert_eq!(find("VTS").unwrap()["duty_expression"], "21.00 %");
        assert_eq!(find("103").unwrap()["national"], false);
        assert_eq!(find("109").unwrap()["duty_expression"], "l");
        // As of 2025: the older excise.
        let r = call(
            "GET",
            &format!("{base}/NL/commodities/2203000100?origin=US&as_of=2025-06-02"),
            None,
            None,
            &[],
        )
        .await;
        let old = r.body["measures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["measure_type_id"] == "EXB")
            .cloned()
            .unwrap();
        assert_eq!(old["duty_expression"], "44.08 EUR / hl");
        assert_eq!(old["valid_to"], "2025-12-31");
        // DE has its own national layer: coffee excise, 19 % / 7 % VAT; NL has none of it.
        let r = call(
            "GET",
            &format!("{base}/DE/commodities/0901210000?origin=BR&as_of=2026-03-02"),
            None,
            None,
            &[],
        )
        .await;
        let types: Vec<&str> = r.body["measures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["measure_type_id"].as_str().unwrap())
            .collect();
        assert!(
            types.contains(&"EXK") && types.contains(&"VTR"),
            "{types:?}"
        );
        let r = call(
            "GET",
            &format!("{base}/NL/commodities/0901210000?origin=BR&as_of=2026-03-02"),
            None,
            None,
            &[],
        )
        .await;
        assert!(!r.text.contains("\"EXK\""), "{}", r.text);
        // The ladder, quotas, footnotes and anti-dumping codes on the commodity.
        let r = call(
            "GET",
            &format!("{base}/NL/commodities/0709931000?origin=TR&as_of=2026-03-02"),
            None,
            None,
            &[],
        )
        .await;
        let ladder = r.body["measures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["measure_type_id"] == "103")
            .cloned()
            .unwrap();
        assert_eq!(ladder["conditions"].as_array().unwrap().len(), 6);
        assert_eq!(ladder["conditions"][3]["threshold"], "49.4 EUR/DTN");
        assert_eq!(ladder["footnotes"][0], "TN701");
        let r = call(
            "GET",
            &format!("{base}/NL/commodities/7208390000?origin=CN&as_of=2026-03-02"),
            None,
            None,
            &[],
        )
        .await;
        let mut codes: Vec<&str> = r.body["measures"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["measure_type_id"] == "552")
            .map(|m| m["additional_code"].as_str().unwrap())
            .collect();
        codes.sort_unstable();
        assert_eq!(codes, ["C001", "C002", "C999"]);
        // The demo's import history: one import per layer.
        let imports = s
            .state
            .store
            .tariff_imports(&portorium_store::TariffLayer::Common)
            .await
            .unwrap();
        assert_eq!(imports.len(), 1);
        assert_eq!(imports[0].source, "demo/tariff/common.xml");
    }
}

// ---- tariff search ----

/// A small nomenclature (HS 2022 lines) as the national layer of a new administration SE.
async fn seed_search_tariff(s: &TestServer) {
    use portorium_store::{NewTariffRecord, RecordChange, TariffLayer};
    let csv = "section,hscode,description,parent,level\n\
        I,01,Animals; live,TOTAL,2\n\
        I,0101,\"Horses, asses, mules and hinnies; live\",01,4\n\
        I,010121,\"Horses; live, pure-bred breeding animals\",0101,6\n\
        I,010129,\"Horses; live, other than pure-bred breeding animals\",0101,6\n\
        I,0103,Swine; live,01,4\n\
        I,010310,\"Swine; live, pure-bred breeding animals\",0103,6\n\
        XVI,85,Electrical machinery and equipment and parts thereof,TOTAL,2\n\
        XVI,8517,\"Telephone sets, including smartphones and other telephones for cellular networks or for other wireless networks\",85,4\n\
        XVI,851713,Smartphones,8517,6\n\
        XVI,851714,Other telephones for cellular networks or for other wireless networks,8517,6\n\
        XVI,8528,\"Monitors and projectors; reception apparatus for television\",85,4\n\
        XVI,852872,\"Reception apparatus for television; colour\",8528,6\n";
    let items = portorium_tariff::nomenclature::parse_hs2022(csv, None).unwrap();
    let changes: Vec<RecordChange> = portorium_tariff::layer::changes_from_nomenclature(&items)
        .into_iter()
        .map(|c| {
            RecordChange::Upsert(NewTariffRecord {
                kind: c.kind,
                key: c.key,
                valid_from: c.valid_from,
                valid_to: c.valid_to,
                payload: c.payload,
            })
        })
        .collect();
    let se: portorium_kernel::TenantCode = "SE".parse().unwrap();
    s.state
        .store
        .create_tenant(&se, "Tullverket", &"SEK".parse().unwrap())
        .await
        .unwrap();
    s.state
        .store
        .tariff_import(
            &TariffLayer::Tenant(se),
            "test",
            "hs2022",
            &changes,
            &|_| {},
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn tariff_search_by_words_and_codes_with_links() {
    for s in TestServer::all().await {
        seed_search_tariff(&s).await;
        let trader = s.url(Circle::Trader);
        let search = |q: &str| format!("{trader}/api/v1/tariffs/SE/search?{q}");
        let codes = |body: &Value| -> Vec<String> {
            body["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["code"].as_str().unwrap().to_owned())
                .collect()
        };

        // Words, stemmed: anonymous on the trader gateway.
        let r = call("GET", &search("q=horse"), None, None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["tenant"], "SE");
        assert_eq!(r.body["q"], "horse");
        let first = &r.body["results"][0];
        assert_eq!(first["code"], "0101000000", "{}", r.text);
        assert_eq!(first["suffix"], "80");
        assert_eq!(first["matched_by"], "text");
        assert_eq!(first["declarable"], false);
        assert!(first["score"].as_f64().unwrap() > 0.0);
        assert_eq!(
            first["links"],
            json!({
                "api": "/api/v1/tariffs/SE/commodities/0101000000",
                "page": "/tariff/SE/commodities/0101000000",
            })
        );
        // The link leads to the commodity.
        let r = call(
            "GET",
            &format!("{trader}{}", first["links"]["api"].as_str().unwrap()),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["commodity"]["code"], "0101000000");

        // Synonyms, and a code prefix (spaces and dots allowed), line itself first.
        let r = call("GET", &search("q=tv"), None, None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(
            codes(&r.body).iter().all(|c| c.starts_with("8528")),
            "{}",
            r.text
        );
        assert!(!codes(&r.body).is_empty());
        let r = call("GET", &search("q=mobile%20phone&limit=2"), None, None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(codes(&r.body).len(), 2);
        assert!(
            codes(&r.body).contains(&"8517130000".to_owned()),
            "{}",
            r.text
        );
        let r = call("GET", &search("q=0101"), None, None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(codes(&r.body), ["0101000000", "0101210000", "0101290000"]);
        assert!(r.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["matched_by"] == "code"));
        let r = call(
            "GET",
            &search("q=8517.13&as_of=2026-03-01"),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(codes(&r.body), ["8517130000"]);
        assert_eq!(r.body["as_of"], "2026-03-01");
        assert_eq!(r.body["results"][0]["declarable"], true);
        // Hostile text is plain words; unknown words find nothing.
        for q in ["title%3Ahorse%20AND%20(", "%22%5B%5D*~%5E", "zzzz"] {
            let r = call("GET", &search(&format!("q={q}")), None, None, &[]).await;
            assert_eq!(r.status, 200, "{q}: {}", r.text);
        }
        let r = call("GET", &search("q=zzzz"), None, None, &[]).await;
        assert!(codes(&r.body).is_empty());

        // Bad parameters: a problem naming the parameter.
        for (q, pointer) in [
            ("", "query:q"),
            ("q=", "query:q"),
            ("q=%20%20", "query:q"),
            ("q=horse&limit=0", "query:limit"),
            ("q=horse&limit=101", "query:limit"),
            ("q=horse&limit=many", "query:limit"),
            ("q=horse&as_of=2026-13-01", "query:as_of"),
            ("q=horse&colour=red", "query:colour"),
        ] {
            let r = call("GET", &search(q), None, None, &[]).await;
            assert_eq!(r.status, 400, "{q}: {}", r.text);
            assert_eq!(r.headers["content-type"], "application/problem+json");
            assert_eq!(r.body["code"], "invalid_query", "{q}: {}", r.text);
            assert_eq!(r.body["errors"][0]["pointer"], pointer, "{q}: {}", r.text);
        }
        let r = call(
            "GET",
            &format!("{trader}/api/v1/tariffs/FR/search?q=horse"),
            None,
            None,
            &[],
        )
        .await;
        assert_eq!(r.status, 404, "{}", r.text);

        // The administration gateway: authenticated.
        let admin = format!(
            "{}/api/v1/tariffs/SE/search?q=swine",
            s.url(Circle::Administration)
        );
        let r = call("GET", &admin, None, None, &[]).await;
        assert_eq!(r.status, 401, "{}", r.text);
        let officer = s.token("officer:NL/jdevries");
        let r = call("GET", &admin, Some(&officer), None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(codes(&r.body)[0], "0103000000", "{}", r.text);
    }
}

/// Every audit entry's action, through the operations API.
async fn audit_actions(s: &TestServer) -> Vec<String> {
    let ops = s.url(Circle::Operations);
    let op = s.token("operator:admin");
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{ops}/api/v1/audit/entries?limit=500&cursor={c}"),
            None => format!("{ops}/api/v1/audit/entries?limit=500"),
        };
        let r = call("GET", &url, Some(&op), None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        for e in r.body["items"].as_array().unwrap() {
            out.push(e["action"].as_str().unwrap_or_default().to_owned());
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    out
}

/// A duty calculation changes nothing: it is not audited like a state change (only when
/// refused), while an import is.
#[tokio::test]
async fn duty_calculations_are_audited_only_when_refused() {
    let s = TestServer::sqlite().await;
    let action = "POST /api/v1/tariffs/{tenant}/duty-calculations";
    let url = format!(
        "{}/api/v1/tariffs/NL/duty-calculations",
        s.url(Circle::Trader)
    );
    let body = r#"{"commodity_code":"0101210000","origin":"US","customs_value":{"amount":"100","currency":"EUR"}}"#;
    let r = call("POST", &url, None, Some(body), &[]).await;
    assert!(r.status < 500, "{}", r.text);
    let officer = s.token("officer:NL/jdevries");
    let r = call("POST", &url, Some(&officer), Some(body), &[]).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let actions = audit_actions(&s).await;
    assert_eq!(
        actions.iter().filter(|a| a.as_str() == action).count(),
        1,
        "only the refused calculation: {actions:?}"
    );
}

/// The UK envelopes price anti-dumping duties in GBP: for a GBP administration they are
/// converted into EUR at the month's rate, evaluated, and the lines given back in GBP.
#[tokio::test]
async fn gbp_priced_components_in_a_gbp_administration() {
    let Some(dir) = uk_reference() else { return };
    for s in TestServer::all().await {
        seed_uk_tariff(&s, &dir).await;
        let gb = create_gb_tariff_manager(&s).await;
        let envelope = std::fs::read_to_string(dir.join("uk_1516209821.xml")).unwrap();
        let r = call(
            "POST",
            &format!(
                "{}/api/v1/tariffs/GB/imports",
                s.url(Circle::Administration)
            ),
            Some(&gb),
            Some(&envelope),
            &[("content-type", "application/xml")],
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let body = json!({
            "commodity_code": "1516209821", "origin": "CA", "date": "2021-06-15",
            "customs_value": {"amount": "1000", "currency": "GBP"},
            "quantities": {"TNE": "10", "KGM": "10000"},
            "additional_codes": ["B999"],
        })
        .to_string();
        let url = format!(
            "{}/api/v1/tariffs/GB/duty-calculations",
            s.url(Circle::Trader)
        );
        let r = call("POST", &url, None, Some(&body), &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["currency"], "GBP");
        let lines: Vec<&Value> = r.body["options"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|o| o["lines"].as_array().unwrap())
            .collect();
        let line = |sid: u64| {
            lines
                .iter()
                .find(|l| l["measure_sid"] == sid)
                .unwrap_or_else(|| panic!("line of {sid}: {}", r.text))
        };
        // 198.33 GBP/t and 144.10 GBP/t on 10 t.
        assert_eq!(line(20041324)["amount"], "1983.30", "{}", r.text);
        assert_eq!(line(20041337)["amount"], "1441.00", "{}", r.text);
        assert!(line(20041324)["formula"]
            .as_str()
            .unwrap()
            .contains("198.33 GBP"));
    }
}

/// `unit_price {amount, currency, unit}`: the entry-price ladder reads the price per 100 kg;
/// a price per kg or per tonne is converted first, and an unknown unit names the field.
#[tokio::test]
async fn unit_price_with_its_unit() {
    let s = TestServer::sqlite().await;
    let url = format!(
        "{}/api/v1/tariffs/NL/duty-calculations",
        s.url(Circle::Trader)
    );
    let body = |price: Value| {
        json!({
            "commodity_code": "0709931000", "origin": "TR", "date": "2026-03-02",
            "customs_value": {"amount": "1000", "currency": "EUR"},
            "quantities": {"KGM": "2000"}, "unit_price": price,
        })
        .to_string()
    };
    let third = |r: &Resp| -> String {
        r.body["options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["measure_type_id"] == "103")
            .map(|o| {
                o["lines"][0]["amount"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .unwrap_or_default()
    };
    let mut amounts = Vec::new();
    for price in [
        json!({"amount": "50.00", "currency": "EUR"}),
        json!({"amount": "50.00", "currency": "EUR", "unit": "DTN"}),
        json!({"amount": "0.50", "currency": "EUR", "unit": "KGM"}),
        json!({"amount": "500", "currency": "EUR", "unit": "TNE"}),
    ] {
        let r = call("POST", &url, None, Some(&body(price.clone())), &[]).await;
        assert_eq!(r.status, 200, "{price}: {}", r.text);
        amounts.push(third(&r));
    }
    assert!(!amounts[0].is_empty(), "{amounts:?}");
    assert!(amounts.iter().all(|a| a == &amounts[0]), "{amounts:?}");
    let r = call(
        "POST",
        &url,
        None,
        Some(&body(
            json!({"amount": "50", "currency": "EUR", "unit": "LTR"}),
        )),
        &[],
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["errors"][0]["pointer"], "/unit_price/unit");
}
