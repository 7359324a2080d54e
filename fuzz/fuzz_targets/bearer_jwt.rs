//! Bearer tokens from the network: the JWT path never panics on any input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn federation() -> &'static portorium_trust::Federation {
    static F: OnceLock<portorium_trust::Federation> = OnceLock::new();
    F.get_or_init(|| {
        let jwks = include_str!("../../crates/trust/tests/data/idp-jwks.json");
        let config: portorium_trust::ProviderConfig = serde_json::from_value(serde_json::json!({
            "issuer": "https://idp.test.example", "audience": "portorium",
            "kind": "trader", "id_claim": "eori"
        }))
        .unwrap_or_else(|_| std::process::abort());
        let p = portorium_trust::IdentityProvider::new(config, jwks).unwrap_or_else(|_| std::process::abort());
        portorium_trust::Federation::new(vec![p])
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let _ = portorium_trust::looks_like_token(s);
    let _ = federation().authenticate(s, chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default());
});
