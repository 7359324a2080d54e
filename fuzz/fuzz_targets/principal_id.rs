//! Identifier parsers: never panic, and whatever parses prints back to the same text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portorium_kernel::{Eori, OfficeRef, PrincipalId, TenantCode};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(p) = s.parse::<PrincipalId>() {
        assert_eq!(p.to_string(), s);
    }
    if let Ok(e) = s.parse::<Eori>() {
        assert_eq!(e.as_str(), s);
    }
    let _ = s.parse::<OfficeRef>();
    let _ = s.parse::<TenantCode>();
});
