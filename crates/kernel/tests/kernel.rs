//! Kernel value validation: data-driven checks plus property tests for the parsers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use portorium_kernel::*;
use proptest::prelude::*;

fn check<T: std::str::FromStr + std::fmt::Display>(cases: &[(&str, bool)]) {
    for (input, ok) in cases {
        match input.parse::<T>() {
            Ok(v) => {
                assert!(ok, "{input:?} should be rejected");
                assert_eq!(v.to_string(), *input, "round trip of {input:?}");
            }
            Err(_) => assert!(!ok, "{input:?} should be accepted"),
        }
    }
}

#[test]
fn tenant_codes() {
    check::<TenantCode>(&[
        ("NL", true),
        ("DE", true),
        ("XI", true),
        ("nl", false),
        ("ZZ", false),
        ("NLD", false),
        ("", false),
    ]);
}

#[test]
fn office_refs() {
    check::<OfficeRef>(&[
        ("NL000396", true),
        ("DE004058", true),
        ("GB000060", true),
        ("NL00039", false),
        ("NL0003961", false),
        ("ZZ000396", false),
        ("NL00039a", false),
        ("nl000396", false),
    ]);
}

#[test]
fn eori_numbers() {
    check::<Eori>(&[
        ("NL000000001", true),
        ("DE000000002", true),
        ("GB123456789000", true),
        ("NL1", true),
        ("NL123456789012345", true),
        ("NL1234567890123456", false),
        ("NL", false),
        ("ZZ123", false),
        ("NL12-34", false),
        ("NLé1", false),
    ]);
}

#[test]
fn currencies() {
    check::<CurrencyCode>(&[
        ("EUR", true),
        ("GBP", true),
        ("eur", false),
        ("EU", false),
        ("XYZ", false),
    ]);
}

#[test]
fn principal_ids() {
    check::<PrincipalId>(&[
        ("trader:NL000000001", true),
        ("officer:NL/jdevries", true),
        ("agency:NL/NVWA/pbakker", true),
        ("system:DE/atlas", true),
        ("security:NL/kvisser", true),
        ("security:central/lmartin", true),
        ("operator:admin", true),
        ("trader:nl000000001", false),
        ("officer:NL", false),
        ("officer:NL/JDeVries", false),
        ("officer:ZZ/x", false),
        ("agency:NL/pbakker", false),
        ("wizard:NL/x", false),
        ("operator:a/b", false),
        ("NL000000001", false),
    ]);
    let p: PrincipalId = "agency:NL/NVWA/pbakker".parse().unwrap();
    assert_eq!(p.kind(), PrincipalKind::Agency);
    assert_eq!(p.tenant().map(|t| t.as_str()), Some("NL"));
    assert_eq!(p.circle(), Circle::Administration);
    let liso: PrincipalId = "security:central/lmartin".parse().unwrap();
    assert_eq!(liso.tenant(), None);
    let op: PrincipalId = "operator:admin".parse().unwrap();
    assert_eq!(op.circle(), Circle::Operations);
}

#[test]
fn id_generators_are_deterministic_or_ordered() {
    let seq = SeqIdGen::default();
    assert_ne!(seq.new_id(), seq.new_id());
    let clock = FixedClock::new(chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap());
    let v7 = UuidV7Gen::new(clock);
    let a = v7.new_id();
    assert_eq!(a.get_version_num(), 7);
}

proptest! {
    #[test]
    fn parsers_never_panic(s in "\\PC{0,40}") {
        let _ = s.parse::<PrincipalId>();
        let _ = s.parse::<Eori>();
        let _ = s.parse::<OfficeRef>();
        let _ = s.parse::<TenantCode>();
    }

    #[test]
    fn valid_eoris_round_trip(c in prop::sample::select(vec!["NL", "DE", "FR", "BE"]), rest in "[A-Z0-9]{1,15}") {
        let s = format!("{c}{rest}");
        let e: Eori = s.parse().unwrap();
        prop_assert_eq!(e.as_str(), s.as_str());
        let p: PrincipalId = format!("trader:{s}").parse().unwrap();
        prop_assert_eq!(p.to_string(), format!("trader:{s}"));
    }

    #[test]
    fn officer_ids_round_trip(n in "[a-z0-9][a-z0-9._-]{0,20}") {
        let s = format!("officer:DE/{n}");
        let p: PrincipalId = s.parse().unwrap();
        prop_assert_eq!(p.to_string(), s);
    }
}

/// The plain digits of a decimal: the integer part, a point and the fraction are the
/// `Display` of the same (non-negative) `Decimal`, whatever the mantissa and scale.
fn plain(m: u64, scale: u32) -> String {
    let d = PlainDigits::new(m, scale);
    let (int, frac) = d.split();
    let mut s = String::from_utf8(int.to_vec()).unwrap();
    if !frac.is_empty() {
        s.push('.');
        s.push_str(std::str::from_utf8(frac).unwrap());
    }
    s
}

#[test]
fn plain_digits_golden() {
    for (m, scale, text) in [
        (0, 0, "0"),
        (5, 2, "0.05"),
        (126089, 2, "1260.89"),
        (100, 2, "1.00"),
        (7, 0, "7"),
        (u64::MAX, 0, "18446744073709551615"),
        (u64::MAX, 28, "0.0000000018446744073709551615"),
    ] {
        assert_eq!(plain(m, scale), text, "{m} scale {scale}");
    }
}

proptest! {
    #[test]
    fn plain_digits_are_the_decimal_display(m in any::<u64>(), scale in 0u32..=28) {
        let d = rust_decimal::Decimal::from_i128_with_scale(i128::from(m), scale);
        prop_assert_eq!(plain(m, scale), d.to_string());
    }
}
