//! Federated JWT verification against the shared test identity provider in `tests/data/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use portorium_kernel::PrincipalKind;
use portorium_trust::{Federation, IdentityProvider, ProviderConfig, TrustError};
use serde_json::{json, Value};

const PEM: &str = include_str!("data/idp-ed25519.pem");
const OTHER_PEM: &str = include_str!("data/idp-ed25519-other.pem");
const JWKS: &str = include_str!("data/idp-jwks.json");
const ISSUER: &str = "https://idp.test.example";
const KID: &str = "idp-test-1";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

fn config() -> ProviderConfig {
    ProviderConfig {
        issuer: ISSUER.into(),
        audience: Some("portorium".into()),
        jwks_file: Some("crates/trust/tests/data/idp-jwks.json".into()),
        jwks_url: None,
        kind: PrincipalKind::Trader,
        id_claim: "eori".into(),
        id_prefix: None,
        roles_claim: Some("roles".into()),
    }
}

fn federation() -> Federation {
    Federation::new(vec![IdentityProvider::new(config(), JWKS).unwrap()])
}

fn claims() -> Value {
    let n = now().timestamp();
    json!({
        "iss": ISSUER,
        "aud": "portorium",
        "sub": "user-123",
        "eori": "NL000000001",
        "roles": ["declarant"],
        "iat": n - 10,
        "nbf": n - 10,
        "exp": n + 600,
    })
}

fn sign_with(pem: &str, kid: Option<&str>, claims: &Value) -> String {
    let mut h = Header::new(Algorithm::EdDSA);
    h.kid = kid.map(str::to_owned);
    encode(
        &h,
        claims,
        &EncodingKey::from_ed_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn sign(claims: &Value) -> String {
    sign_with(PEM, Some(KID), claims)
}

fn with(key: &str, v: Value) -> Value {
    let mut c = claims();
    c[key] = v;
    c
}

fn without(key: &str) -> Value {
    let mut c = claims();
    c.as_object_mut().unwrap().remove(key);
    c
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

#[test]
fn valid_token_maps_to_trader() {
    let id = federation().authenticate(&sign(&claims()), now()).unwrap();
    assert_eq!(id.principal.to_string(), "trader:NL000000001");
    assert_eq!(id.roles, vec!["declarant".to_owned()]);
    assert_eq!(id.issuer, ISSUER);
    assert_eq!(id.expires_at.timestamp(), now().timestamp() + 600);
}

#[test]
fn single_key_without_kid_is_accepted() {
    let id = federation()
        .authenticate(&sign_with(PEM, None, &claims()), now())
        .unwrap();
    assert_eq!(id.principal.to_string(), "trader:NL000000001");
}

#[test]
fn leeway_is_sixty_seconds() {
    let n = now().timestamp();
    let f = federation();
    assert!(f
        .authenticate(&sign(&with("exp", json!(n - 59))), now())
        .is_ok());
    assert_eq!(
        f.authenticate(&sign(&with("exp", json!(n - 61))), now()),
        Err(TrustError::Expired)
    );
    assert!(f
        .authenticate(&sign(&with("nbf", json!(n + 59))), now())
        .is_ok());
    assert_eq!(
        f.authenticate(&sign(&with("nbf", json!(n + 61))), now()),
        Err(TrustError::NotYetValid)
    );
}

#[test]
fn each_failure_has_its_own_error() {
    let f = federation();
    let n = now().timestamp();
    let none_token = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "kid": KID})),
        b64(&claims())
    );
    let hs_token = encode(
        &Header {
            kid: Some(KID.into()),
            ..Header::new(Algorithm::HS256)
        },
        &claims(),
        &EncodingKey::from_secret(b"secret"),
    )
    .unwrap();
    let good = sign(&claims());
    let (head_payload, _) = good.rsplit_once('.').unwrap();
    let other_sig = sign_with(OTHER_PEM, Some(KID), &claims());
    let forged = format!("{head_payload}.{}", other_sig.rsplit_once('.').unwrap().1);

    let cases: Vec<(&str, String, TrustError)> = vec![
        (
            "wrong issuer",
            sign(&with("iss", json!("https://evil.example"))),
            TrustError::UnknownIssuer("https://evil.example".into()),
        ),
        (
            "expired",
            sign(&with("exp", json!(n - 3600))),
            TrustError::Expired,
        ),
        (
            "not yet valid",
            sign(&with("nbf", json!(n + 3600))),
            TrustError::NotYetValid,
        ),
        (
            "bad signature (other key)",
            sign_with(OTHER_PEM, Some(KID), &claims()),
            TrustError::BadSignature,
        ),
        ("bad signature (spliced)", forged, TrustError::BadSignature),
        (
            "wrong audience",
            sign(&with("aud", json!("someone-else"))),
            TrustError::WrongAudience,
        ),
        (
            "wrong audience (array)",
            sign(&with("aud", json!(["a", "b"]))),
            TrustError::WrongAudience,
        ),
        (
            "unknown kid",
            sign_with(PEM, Some("rotated-away"), &claims()),
            TrustError::UnknownKey("rotated-away".into()),
        ),
        (
            "alg none",
            none_token,
            TrustError::UnsupportedAlgorithm("none".into()),
        ),
        (
            "alg HS256",
            hs_token,
            TrustError::UnsupportedAlgorithm("HS256".into()),
        ),
        (
            "malformed id claim",
            sign(&with("eori", json!("not-an-eori"))),
            TrustError::ClaimInvalid {
                claim: "eori".into(),
                reason: String::new(),
            },
        ),
        (
            "id claim not a string",
            sign(&with("eori", json!(12345))),
            TrustError::ClaimInvalid {
                claim: "eori".into(),
                reason: String::new(),
            },
        ),
        (
            "missing id claim",
            sign(&without("eori")),
            TrustError::ClaimMissing {
                claim: "eori".into(),
            },
        ),
        (
            "missing exp",
            sign(&without("exp")),
            TrustError::ClaimMissing {
                claim: "exp".into(),
            },
        ),
        (
            "missing aud",
            sign(&without("aud")),
            TrustError::ClaimMissing {
                claim: "aud".into(),
            },
        ),
        (
            "missing iss",
            sign(&without("iss")),
            TrustError::ClaimMissing {
                claim: "iss".into(),
            },
        ),
        (
            "bad roles",
            sign(&with("roles", json!([1, 2]))),
            TrustError::ClaimInvalid {
                claim: "roles".into(),
                reason: String::new(),
            },
        ),
        (
            "garbage",
            "not.a.jwt".into(),
            TrustError::InvalidToken(String::new()),
        ),
        (
            "two parts",
            "abc.def".into(),
            TrustError::InvalidToken(String::new()),
        ),
        (
            "empty",
            String::new(),
            TrustError::InvalidToken(String::new()),
        ),
    ];
    for (name, token, expected) in cases {
        let got = f.authenticate(&token, now());
        let ok = match (&got, &expected) {
            (
                Err(TrustError::ClaimInvalid { claim: a, .. }),
                TrustError::ClaimInvalid { claim: b, .. },
            ) => a == b,
            (Err(TrustError::InvalidToken(_)), TrustError::InvalidToken(_)) => true,
            (Err(g), e) => g == e,
            (Ok(_), _) => false,
        };
        assert!(ok, "{name}: expected {expected:?}, got {got:?}");
    }
}

#[test]
fn the_error_variants_are_distinct() {
    use std::mem::discriminant;
    let variants = [
        TrustError::UnknownIssuer(String::new()),
        TrustError::Expired,
        TrustError::NotYetValid,
        TrustError::BadSignature,
        TrustError::WrongAudience,
        TrustError::UnknownKey(String::new()),
        TrustError::UnsupportedAlgorithm(String::new()),
        TrustError::ClaimInvalid {
            claim: String::new(),
            reason: String::new(),
        },
        TrustError::ClaimMissing {
            claim: String::new(),
        },
        TrustError::InvalidToken(String::new()),
    ];
    for (i, a) in variants.iter().enumerate() {
        for b in &variants[i + 1..] {
            assert_ne!(discriminant(a), discriminant(b));
        }
    }
}

#[test]
fn audience_optional_and_array() {
    let f = federation();
    assert!(f
        .authenticate(&sign(&with("aud", json!(["x", "portorium"]))), now())
        .is_ok());
    let mut cfg = config();
    cfg.audience = None;
    let f = Federation::new(vec![IdentityProvider::new(cfg, JWKS).unwrap()]);
    assert!(f.authenticate(&sign(&without("aud")), now()).is_ok());
}

#[test]
fn officer_provider_with_prefix_and_string_roles() {
    let cfg = ProviderConfig {
        issuer: "https://login.douane.example".into(),
        audience: None,
        jwks_file: None,
        jwks_url: Some("https://login.douane.example/jwks".into()),
        kind: PrincipalKind::Officer,
        id_claim: "sub".into(),
        id_prefix: Some("NL/".into()),
        roles_claim: Some("scope".into()),
    };
    let f = Federation::new(vec![
        IdentityProvider::new(config(), JWKS).unwrap(),
        IdentityProvider::new(cfg, JWKS).unwrap(),
    ]);
    let n = now().timestamp();
    let c = json!({
        "iss": "https://login.douane.example",
        "sub": "jdevries",
        "scope": "officer registrar officer",
        "exp": n + 60,
    });
    let id = f.authenticate(&sign(&c), now()).unwrap();
    assert_eq!(id.principal.to_string(), "officer:NL/jdevries");
    assert_eq!(id.roles, vec!["officer".to_owned(), "registrar".to_owned()]);
    assert_eq!(id.issuer, "https://login.douane.example");
    // A sub that tries to escape the prefix is not a valid officer id.
    let c = json!({"iss": "https://login.douane.example", "sub": "../DE/x", "exp": n + 60});
    assert!(matches!(
        f.authenticate(&sign(&c), now()),
        Err(TrustError::ClaimInvalid { .. })
    ));
    let c = json!({"iss": "https://login.douane.example", "sub": "x/y", "exp": n + 60});
    assert!(matches!(
        f.authenticate(&sign(&c), now()),
        Err(TrustError::ClaimInvalid { .. })
    ));
}

#[test]
fn empty_federation_knows_no_issuer() {
    let f = Federation::new(vec![]);
    assert!(f.is_empty());
    assert!(matches!(
        f.authenticate(&sign(&claims()), now()),
        Err(TrustError::UnknownIssuer(_))
    ));
    assert!(!federation().is_empty());
}

#[test]
fn jwks_handling() {
    // Not JSON / no keys array.
    assert!(matches!(
        IdentityProvider::new(config(), "nope"),
        Err(TrustError::Jwks(_))
    ));
    assert!(matches!(
        IdentityProvider::new(config(), "{}"),
        Err(TrustError::Jwks(_))
    ));
    // Only a symmetric key: unusable.
    let oct = r#"{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"h"}]}"#;
    assert!(matches!(
        IdentityProvider::new(config(), oct),
        Err(TrustError::Jwks(_))
    ));
    // Encryption keys and unknown key types are skipped next to a good key.
    let v: Value = serde_json::from_str(JWKS).unwrap();
    let good = v["keys"][0].clone();
    let mut enc = good.clone();
    enc["use"] = json!("enc");
    enc["kid"] = json!("enc-1");
    let mixed = json!({"keys": [
        {"kty":"oct","k":"c2VjcmV0","kid":"h"},
        {"kty":"weird","kid":"w"},
        enc,
        good.clone(),
    ]});
    let p = IdentityProvider::new(config(), &mixed.to_string()).unwrap();
    assert_eq!(p.key_count(), 1);
    assert_eq!(p.issuer(), ISSUER);
    // An encryption key's kid is unknown for signatures.
    let f = Federation::new(vec![p]);
    assert_eq!(
        f.authenticate(&sign_with(PEM, Some("enc-1"), &claims()), now()),
        Err(TrustError::UnknownKey("enc-1".into()))
    );
    // Duplicate kids are a configuration error.
    let dup = json!({"keys": [good.clone(), good.clone()]});
    assert!(matches!(
        IdentityProvider::new(config(), &dup.to_string()),
        Err(TrustError::Jwks(_))
    ));
    // Two keys: a token without kid cannot pick one.
    let mut second = good.clone();
    second["kid"] = json!("idp-test-2");
    let two = json!({"keys": [good, second]});
    let f = Federation::new(vec![
        IdentityProvider::new(config(), &two.to_string()).unwrap()
    ]);
    assert!(matches!(
        f.authenticate(&sign_with(PEM, None, &claims()), now()),
        Err(TrustError::UnknownKey(_))
    ));
    assert!(f.authenticate(&sign(&claims()), now()).is_ok());
}

#[test]
fn key_alg_restricts_header_alg() {
    // An RS256 header cannot be used with an Ed25519 key.
    let header = b64(&json!({"alg": "RS256", "kid": KID, "typ": "JWT"}));
    let token = format!("{header}.{}.AAAA", b64(&claims()));
    assert!(matches!(
        federation().authenticate(&token, now()),
        Err(TrustError::UnsupportedAlgorithm(_))
    ));
}

#[test]
fn config_parses_from_toml_like_json_and_rejects_unknown_fields() {
    let cfg: ProviderConfig = serde_json::from_value(json!({
        "issuer": ISSUER,
        "audience": "portorium",
        "jwks_file": "x.json",
        "kind": "trader",
        "id_claim": "eori",
    }))
    .unwrap();
    assert_eq!(cfg.kind, PrincipalKind::Trader);
    assert_eq!(cfg.jwks_url, None);
    assert!(serde_json::from_value::<ProviderConfig>(json!({
        "issuer": ISSUER, "kind": "trader", "id_claim": "eori", "extra": 1
    }))
    .is_err());
    let mut bad = config();
    bad.issuer = " ".into();
    assert!(matches!(
        IdentityProvider::new(bad, JWKS),
        Err(TrustError::Config(_))
    ));
}

#[test]
fn rsa_provider_rs256() {
    const RSA_PEM: &str = include_str!("data/idp-rsa.pem");
    const RSA_JWKS: &str = include_str!("data/idp-rsa-jwks.json");
    let f = Federation::new(vec![IdentityProvider::new(config(), RSA_JWKS).unwrap()]);
    let key = EncodingKey::from_rsa_pem(RSA_PEM.as_bytes()).unwrap();
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some("idp-rsa-1".into());
    let token = encode(&h, &claims(), &key).unwrap();
    let id = f.authenticate(&token, now()).unwrap();
    assert_eq!(id.principal.to_string(), "trader:NL000000001");
    // The JWK pins RS256: a PS256 token from the same key is refused.
    h.alg = Algorithm::PS256;
    let token = encode(&h, &claims(), &key).unwrap();
    assert!(matches!(
        f.authenticate(&token, now()),
        Err(TrustError::UnsupportedAlgorithm(_))
    ));
    // An Ed25519-signed token naming the RSA kid is refused too.
    assert!(matches!(
        f.authenticate(&sign_with(PEM, Some("idp-rsa-1"), &claims()), now()),
        Err(TrustError::UnsupportedAlgorithm(_))
    ));
}

proptest::proptest! {
    #[test]
    fn arbitrary_input_never_panics(s in "\\PC{0,200}") {
        let _ = federation().authenticate(&s, now());
    }

    #[test]
    fn arbitrary_dotted_input_is_refused(a in "[A-Za-z0-9_-]{0,40}", b in "[A-Za-z0-9_-]{0,40}", c in "[A-Za-z0-9_-]{0,40}") {
        let token = format!("{a}.{b}.{c}");
        proptest::prop_assert!(federation().authenticate(&token, now()).is_err());
    }
}
