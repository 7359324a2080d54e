//! JSON request bodies: any bytes give a value or a problem with a pointer, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Body {
    code: portorium_kernel::TenantCode,
    name: String,
    currency: portorium_kernel::CurrencyCode,
    principal: Option<portorium_kernel::PrincipalId>,
}

fuzz_target!(|data: &[u8]| {
    let de = &mut serde_json::Deserializer::from_slice(data);
    if let Err(e) = serde_path_to_error::deserialize::<_, Body>(de) {
        let p = portorium_server::api::json_problem(e);
        assert!(!p.errors.is_empty());
    }
});
