//! Duty engine tests: golden cases through data-driven `check()` helpers, `describe()`
//! snapshots, measure conditions, and property tests.

use std::str::FromStr;

use portorium_tariff::duty::{
    describe, duty_expression, entry_price_components, entry_price_conditions, evaluate,
    resolve_conditions, validate_component, ConditionContext, DutyError, EntryPriceStep,
    EvalContext, MeasureComponent, MeasureCondition, MeursingKind, MeursingTable, Operation,
    Quantities, Resolution, DUTY_EXPRESSIONS,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Ad valorem component.
fn av(id: &str, pct: &str) -> MeasureComponent {
    MeasureComponent::ad_valorem(id, d(pct))
}

/// Specific component in EUR.
fn sp(id: &str, amount: &str, unit: &str) -> MeasureComponent {
    MeasureComponent::specific(id, d(amount), "EUR", unit)
}

fn bare(id: &str) -> MeasureComponent {
    MeasureComponent::bare(id)
}

fn qty(pairs: &[(&str, &str)]) -> Quantities {
    pairs
        .iter()
        .fold(Quantities::new(), |q, (k, v)| q.with(k, d(v)))
}

/// A small Meursing table: code 7000 has every figure, code 7001 only the agricultural
/// component (as a percentage).
struct TestMeursing;

impl MeursingTable for TestMeursing {
    fn component(&self, code: &str, kind: MeursingKind) -> Option<(Decimal, String)> {
        use MeursingKind::*;
        match (code, kind) {
            ("7000", AgriculturalComponent) => Some((d("25.00"), "DTN".into())),
            ("7000", ReducedAgriculturalComponent) => Some((d("12.50"), "DTN".into())),
            ("7000", AdditionalDutyOnSugar) => Some((d("10.00"), "DTN".into())),
            ("7000", ReducedAdditionalDutyOnSugar) => Some((d("5.00"), "DTN".into())),
            ("7000", AdditionalDutyOnFlour) => Some((d("5.00"), "DTN".into())),
            ("7000", ReducedAdditionalDutyOnFlour) => Some((d("2.50"), "DTN".into())),
            ("7001", AgriculturalComponent) => Some((d("3"), "%".into())),
            _ => None,
        }
    }
}

enum Expect {
    /// Rounded amount and, if given, the exact formula.
    Amount(&'static str, Option<&'static str>),
    Error(DutyError),
}

struct Case {
    name: &'static str,
    components: Vec<MeasureComponent>,
    value: &'static str,
    quantities: &'static [(&'static str, &'static str)],
    /// Meursing additional code; `Some` also installs the test table.
    meursing: Option<&'static str>,
    expect: Expect,
}

fn case(
    name: &'static str,
    components: Vec<MeasureComponent>,
    value: &'static str,
    quantities: &'static [(&'static str, &'static str)],
    expect: Expect,
) -> Case {
    Case {
        name,
        components,
        value,
        quantities,
        meursing: None,
        expect,
    }
}

fn amount(a: &'static str) -> Expect {
    Expect::Amount(a, None)
}

fn formula(a: &'static str, f: &'static str) -> Expect {
    Expect::Amount(a, Some(f))
}

fn missing(unit: &str) -> Expect {
    Expect::Error(DutyError::MissingQuantity { unit: unit.into() })
}

fn check(cases: Vec<Case>) {
    let table = TestMeursing;
    for c in cases {
        let mut ctx = EvalContext::new(d(c.value), qty(c.quantities));
        if let Some(code) = c.meursing {
            ctx = ctx.with_meursing(&table, code);
        }
        let got = evaluate(&c.components, &ctx);
        match (&c.expect, got) {
            (Expect::Amount(a, f), Ok(ev)) => {
                assert_eq!(ev.amount, d(a), "{}: amount ({})", c.name, ev.formula);
                assert_eq!(ev.amount.scale(), 2, "{}: scale", c.name);
                if let Some(f) = f {
                    assert_eq!(ev.formula, *f, "{}: formula", c.name);
                }
            }
            (Expect::Error(e), Err(got)) => assert_eq!(&got, e, "{}", c.name),
            (Expect::Amount(a, _), Err(e)) => panic!("{}: expected {a}, got error {e}", c.name),
            (Expect::Error(e), Ok(ev)) => {
                panic!("{}: expected error {e}, got {}", c.name, ev.formula)
            }
        }
    }
}

#[test]
fn ad_valorem_and_specific_golden_cases() {
    check(vec![
        case(
            "ad valorem",
            vec![av("01", "2.7")],
            "1260.89",
            &[],
            formula("34.04", "2.70% × 1,260.89 = 34.04"),
        ),
        case(
            "ad valorem zero",
            vec![av("01", "0")],
            "1000",
            &[],
            amount("0"),
        ),
        case(
            "DTN from DTN",
            vec![sp("01", "176.80", "DTN")],
            "0",
            &[("DTN", "20")],
            formula("3536.00", "176.80 EUR/100 kg × 20.00 = 3,536.00"),
        ),
        case(
            "DTN from KGM",
            vec![sp("01", "176.80", "DTN")],
            "0",
            &[("KGM", "2000")],
            amount("3536.00"),
        ),
        case(
            "DTN from TNE",
            vec![sp("01", "10", "DTN")],
            "0",
            &[("TNE", "1.5")],
            amount("150.00"),
        ),
        case(
            "KGM from DTN",
            vec![sp("01", "0.5", "KGM")],
            "0",
            &[("DTN", "3")],
            formula("150.00", "0.50 EUR/kg × 300.00 = 150.00"),
        ),
        case(
            "KGM from GRM",
            vec![sp("01", "2", "KGM")],
            "0",
            &[("GRM", "1500")],
            amount("3.00"),
        ),
        case(
            "TNE from KGM",
            vec![sp("01", "100", "TNE")],
            "0",
            &[("KGM", "2500")],
            formula("250.00", "100.00 EUR/1000 kg × 2.50 = 250.00"),
        ),
        case(
            "HLT from LTR",
            vec![sp("01", "10", "HLT")],
            "0",
            &[("LTR", "250")],
            formula("25.00", "10.00 EUR/hl × 2.50 = 25.00"),
        ),
        case(
            "LTR from HLT",
            vec![sp("01", "0.2", "LTR")],
            "0",
            &[("HLT", "3")],
            amount("60.00"),
        ),
        case(
            "ASV: amount × %vol × hl",
            vec![sp("01", "1", "ASV")],
            "0",
            &[("ASV", "40"), ("LTR", "500")],
            formula("200.00", "1.00 EUR/% vol/hl × 200.00 = 200.00"),
        ),
        case(
            "ASV + HLT compound (spirits)",
            vec![sp("01", "1", "ASV"), sp("04", "5", "HLT")],
            "0",
            &[("ASV", "45"), ("HLT", "2")],
            amount("100.00"),
        ),
        case(
            "LPA derived from HLT and ASV",
            vec![sp("01", "10", "LPA")],
            "0",
            &[("HLT", "2"), ("ASV", "40")],
            formula("800.00", "10.00 EUR/l alc. 100% × 80.00 = 800.00"),
        ),
        case(
            "LPA declared",
            vec![sp("01", "10", "LPA")],
            "0",
            &[("LPA", "50"), ("HLT", "2"), ("ASV", "40")],
            amount("500.00"),
        ),
        case(
            "NAR",
            vec![sp("01", "3", "NAR")],
            "0",
            &[("NAR", "10")],
            formula("30.00", "3.00 EUR/p/st × 10.00 = 30.00"),
        ),
        case(
            "NAR from CEN",
            vec![sp("01", "3", "NAR")],
            "0",
            &[("CEN", "2")],
            amount("600.00"),
        ),
        case(
            "flat amount without unit",
            vec![MeasureComponent {
                monetary_unit: Some("EUR".into()),
                ..av("01", "5")
            }],
            "0",
            &[],
            formula("5.00", "5.00 EUR"),
        ),
        case(
            "rounding half away from zero",
            vec![av("01", "2.5")],
            "0.2",
            &[],
            amount("0.01"),
        ),
        case(
            "rounding once at the end (0.004 + 0.004)",
            vec![av("01", "0.4"), av("04", "0.4")],
            "1",
            &[],
            amount("0.01"),
        ),
        case(
            "rounding down",
            vec![av("01", "1.5")],
            "0.33",
            &[],
            amount("0.00"),
        ),
    ]);
}

#[test]
fn compound_min_max_golden_cases() {
    check(vec![
        case(
            "compound +",
            vec![av("01", "12.8"), sp("04", "176.80", "DTN")],
            "1000",
            &[("KGM", "2000")],
            formula(
                "3664.00",
                "12.80% × 1,000.00 = 128.00 + 176.80 EUR/100 kg × 20.00 = 3,536.00 → 3,664.00",
            ),
        ),
        case(
            "compound − (02)",
            vec![av("01", "10"), sp("02", "5", "DTN")],
            "1000",
            &[("DTN", "4")],
            formula("80.00", "10.00% × 1,000.00 = 100.00 - 5.00 EUR/100 kg × 4.00 = 20.00 → 80.00"),
        ),
        case(
            "02 can make the duty negative",
            vec![av("01", "1"), sp("02", "5", "DTN")],
            "100",
            &[("DTN", "1")],
            amount("-4.00"),
        ),
        case(
            "36 minus % CIF",
            vec![av("01", "10"), av("36", "2")],
            "1000",
            &[],
            amount("80.00"),
        ),
        case(
            "MIN applied",
            vec![av("01", "5"), sp("15", "22", "DTN")],
            "1000",
            &[("DTN", "5")],
            formula(
                "110.00",
                "5.00% × 1,000.00 = 50.00 MIN 22.00 EUR/100 kg × 5.00 = 110.00 (applied: 50.00 → 110.00) → 110.00",
            ),
        ),
        case(
            "MIN not applied",
            vec![av("01", "5"), sp("15", "22", "DTN")],
            "10000",
            &[("DTN", "5")],
            amount("500.00"),
        ),
        case(
            "MIN at the floor exactly",
            vec![av("01", "11"), sp("15", "22", "DTN")],
            "1000",
            &[("DTN", "5")],
            amount("110.00"),
        ),
        case(
            "MAX applied",
            vec![av("01", "10"), sp("04", "30", "DTN"), av("17", "35")],
            "1000",
            &[("DTN", "10")],
            formula(
                "350.00",
                "10.00% × 1,000.00 = 100.00 + 30.00 EUR/100 kg × 10.00 = 300.00 MAX 35.00% × 1,000.00 = 350.00 (applied: 400.00 → 350.00) → 350.00",
            ),
        ),
        case(
            "MAX not applied",
            vec![av("01", "10"), sp("04", "30", "DTN"), av("17", "35")],
            "1000",
            &[("DTN", "5")],
            amount("250.00"),
        ),
        case(
            "MAX 35",
            vec![av("01", "20"), sp("35", "50", "DTN")],
            "1000",
            &[("DTN", "2")],
            amount("100.00"),
        ),
        case(
            "MIN + MAX, neither bites",
            vec![
                av("01", "12.8"),
                sp("04", "176.80", "DTN"),
                sp("15", "22", "DTN"),
                av("17", "35"),
            ],
            "20000",
            &[("DTN", "10")],
            amount("4328.00"),
        ),
        case(
            "MIN + MAX, MAX bites",
            vec![
                av("01", "12.8"),
                sp("04", "176.80", "DTN"),
                sp("15", "22", "DTN"),
                av("17", "35"),
            ],
            "1000",
            &[("DTN", "10")],
            amount("350.00"),
        ),
        case(
            "MIN + MAX, MIN bites",
            vec![av("01", "1"), sp("15", "2", "DTN"), av("17", "35")],
            "1000",
            &[("DTN", "10")],
            amount("20.00"),
        ),
        case(
            "TARIC order: components sorted by expression id",
            vec![av("17", "35"), sp("15", "2", "DTN"), av("01", "1")],
            "1000",
            &[("DTN", "10")],
            amount("20.00"),
        ),
        case(
            "19/20 add after MAX",
            vec![av("01", "50"), av("17", "10"), av("19", "1"), sp("20", "1", "DTN")],
            "1000",
            &[("DTN", "10")],
            amount("120.00"),
        ),
        case(
            "37 nothing",
            vec![bare("37")],
            "1000",
            &[],
            formula("0.00", "NIHIL"),
        ),
        case(
            "99 supplementary unit adds no duty",
            vec![av("01", "2"), MeasureComponent { measurement_unit: Some("NAR".into()), ..bare("99") }],
            "1000",
            &[],
            formula("20.00", "2.00% × 1,000.00 = 20.00"),
        ),
        case("no components", vec![], "1000", &[], formula("0.00", "0.00")),
    ]);
}

#[test]
fn qualified_quantities_and_missing_quantities() {
    check(vec![
        case(
            "TNEI uses the qualified quantity",
            vec![sp("01", "26.20", "TNE").with_qualifier("I")],
            "0",
            &[("TNEI", "2"), ("TNE", "5")],
            formula(
                "52.40",
                "26.20 EUR/1000 kg (of biodiesel content) × 2.00 = 52.40",
            ),
        ),
        case(
            "TNEI falls back to TNE",
            vec![sp("01", "26.20", "TNE").with_qualifier("I")],
            "0",
            &[("TNE", "5")],
            amount("131.00"),
        ),
        case(
            "TNEI converted from KGMI before unqualified TNE",
            vec![sp("01", "26.20", "TNE").with_qualifier("I")],
            "0",
            &[("KGMI", "3000"), ("TNE", "5")],
            amount("78.60"),
        ),
        case(
            "TNEI falls back to unqualified KGM",
            vec![sp("01", "26.20", "TNE").with_qualifier("I")],
            "0",
            &[("KGM", "1000")],
            amount("26.20"),
        ),
        case(
            "DTN missing",
            vec![sp("01", "176.80", "DTN")],
            "1000",
            &[],
            missing("DTN"),
        ),
        case(
            "DTN not convertible from litres",
            vec![sp("01", "176.80", "DTN")],
            "1000",
            &[("LTR", "100")],
            missing("DTN"),
        ),
        case(
            "TNEI missing names the qualifier",
            vec![sp("01", "26.20", "TNE").with_qualifier("I")],
            "0",
            &[("HLT", "1")],
            missing("TNEI"),
        ),
        case(
            "ASV without volume",
            vec![sp("01", "1", "ASV")],
            "0",
            &[("ASV", "40")],
            missing("HLT"),
        ),
        case(
            "ASV without strength",
            vec![sp("01", "1", "ASV")],
            "0",
            &[("HLT", "4")],
            missing("ASV"),
        ),
        case(
            "LPA without strength",
            vec![sp("01", "1", "LPA")],
            "0",
            &[("HLT", "4")],
            missing("LPA"),
        ),
        case(
            "unknown unit not declared",
            vec![sp("01", "1", "MTK")],
            "0",
            &[("KGM", "4")],
            missing("MTK"),
        ),
        case(
            "unknown unit declared",
            vec![sp("01", "1.5", "MTK")],
            "0",
            &[("MTK", "4")],
            amount("6.00"),
        ),
    ]);
}

#[test]
fn meursing_golden_cases() {
    let with = |name, components, value, quantities, code, expect| Case {
        name,
        components,
        value,
        quantities,
        meursing: Some(code),
        expect,
    };
    check(vec![
        with(
            "12.8 % + AC",
            vec![av("01", "12.8"), bare("12")],
            "1000",
            &[("DTN", "2")],
            "7000",
            formula(
                "178.00",
                "12.80% × 1,000.00 = 128.00 + AC [7000] 25.00 EUR/100 kg × 2.00 = 50.00 → 178.00",
            ),
        ),
        // `12.8 % + EA MAX 18.7 % + AD S/Z + AD F/M`: the additional duties are part of
        // the maximum, i.e. min(12.8 % + EA, 18.7 % + SD + FD).
        with(
            "AC MAX SD FD, MAX not applied: SD and FD only count in the cap",
            vec![
                av("01", "12.8"),
                bare("12"),
                av("17", "18.7"),
                bare("21"),
                bare("27"),
            ],
            "1000",
            &[("DTN", "2")],
            "7000",
            formula(
                "178.00",
                "12.80% × 1,000.00 = 128.00 + AC [7000] 25.00 EUR/100 kg × 2.00 = 50.00 MAX 18.70% × 1,000.00 = 187.00 + SD [7000] 10.00 EUR/100 kg × 2.00 = 20.00 + FD [7000] 5.00 EUR/100 kg × 2.00 = 10.00 = 217.00 (not applied) → 178.00",
            ),
        ),
        with(
            "AC MAX SD FD, MAX applied: 18.7 % + SD + FD",
            vec![
                av("01", "12.8"),
                bare("12"),
                av("17", "18.7"),
                bare("21"),
                bare("27"),
            ],
            // 12.8 % × 300 + 50 = 88.40 > 18.7 % × 300 + 20 + 10 = 86.10.
            "300",
            &[("DTN", "2")],
            "7000",
            amount("86.10"),
        ),
        with(
            "MAX 35 comes after 29 in TARIC order: FD (reduced) is capped with the rest",
            vec![av("01", "9"), bare("14"), sp("35", "20", "DTN"), bare("29")],
            // 9 % × 1000 + 12.50 × 4 + 2.50 × 4 = 150 > 20 × 4 = 80.
            "1000",
            &[("DTN", "4")],
            "7000",
            amount("80.00"),
        ),
        with(
            "MAX + reduced SD (25), not applied",
            vec![av("01", "5"), bare("14"), av("17", "30"), bare("25")],
            // 50 + 25 = 75 < 300 + 10.
            "1000",
            &[("DTN", "2")],
            "7000",
            amount("75.00"),
        ),
        with(
            "SD without a MAX adds",
            vec![av("01", "5"), bare("21")],
            "1000",
            &[("DTN", "2")],
            "7000",
            amount("70.00"),
        ),
        with(
            "19 after MAX + SD adds on top of the capped duty",
            vec![av("01", "50"), av("17", "10"), bare("21"), av("19", "1")],
            // min(500, 100 + 20) + 10.
            "1000",
            &[("DTN", "2")],
            "7000",
            amount("130.00"),
        ),
        with(
            "reduced components",
            vec![av("01", "0"), bare("14"), bare("25"), bare("29")],
            "500",
            &[("KGM", "200")],
            "7000",
            amount("40.00"),
        ),
        with(
            "AC as a percentage",
            vec![av("01", "5"), bare("12")],
            "1000",
            &[],
            "7001",
            amount("80.00"),
        ),
        with(
            "code without the figure",
            vec![av("01", "5"), bare("21")],
            "1000",
            &[("DTN", "1")],
            "7001",
            Expect::Error(DutyError::MeursingComponentMissing {
                code: "7001".into(),
                kind: "additional duty on sugar".into(),
            }),
        ),
        with(
            "AC needs the quantity",
            vec![bare("12")],
            "1000",
            &[],
            "7000",
            missing("DTN"),
        ),
        case(
            "no Meursing table",
            vec![av("01", "12.8"), bare("12")],
            "1000",
            &[("DTN", "2")],
            Expect::Error(DutyError::MeursingRequired {
                expression_id: "12".into(),
            }),
        ),
    ]);
}

#[test]
fn unsupported_and_invalid_components_are_errors() {
    check(vec![
        case(
            "unknown expression",
            vec![av("98", "1")],
            "1",
            &[],
            Expect::Error(DutyError::UnknownExpression { id: "98".into() }),
        ),
        case(
            "levy without its amount",
            vec![bare("07")],
            "1",
            &[],
            Expect::Error(DutyError::UnsupportedExpression {
                id: "07".into(),
                reason: "the levy or variable component was fixed outside the tariff and this component carries no amount".into(),
            }),
        ),
        case(
            "invalid component is rejected before evaluation",
            vec![av("01", "5"), av("12", "1")],
            "1",
            &[],
            Expect::Error(DutyError::AmountNotPermitted { id: "12".into() }),
        ),
    ]);
    let ctx = EvalContext::new(d("100"), qty(&[("DTN", "1")])).with_currency("GBP");
    assert_eq!(
        evaluate(&[sp("01", "1", "DTN")], &ctx),
        Err(DutyError::CurrencyMismatch {
            component: "EUR".into(),
            context: "GBP".into()
        })
    );
    let ctx = EvalContext::new(d("100"), qty(&[("DTN", "1")])).with_currency("EUR");
    assert_eq!(
        evaluate(&[sp("01", "1", "DTN")], &ctx).unwrap().amount,
        d("1.00")
    );
}

#[test]
fn levy_variable_component_and_sugar_golden_cases() {
    let levy_missing = |id: &str| {
        Expect::Error(DutyError::UnsupportedExpression {
            id: id.into(),
            reason: "the levy or variable component was fixed outside the tariff and this component carries no amount".into(),
        })
    };
    let mut cases = vec![
        case(
            "03 replaces the rate by the levy",
            vec![av("01", "12"), sp("03", "40", "DTN")],
            "1000",
            &[("DTN", "3")],
            formula(
                "120.00",
                "12.00% × 1,000.00 = 120.00 LEVY 40.00 EUR/100 kg × 3.00 = 120.00 (replaces 120.00) → 120.00",
            ),
        ),
        case(
            "03 alone",
            vec![sp("03", "40", "DTN")],
            "1000",
            &[("DTN", "2.5")],
            formula("100.00", "LEVY 40.00 EUR/100 kg × 2.50 = 100.00"),
        ),
        case(
            "05 replaces the rate by the reduced levy",
            vec![av("01", "12"), sp("05", "15", "DTN"), sp("19", "1", "DTN")],
            // 120 replaced by 15 × 2 = 30, then + 1 × 2.
            "1000",
            &[("DTN", "2")],
            amount("32.00"),
        ),
        case(
            "07 adds the levy",
            vec![av("01", "10"), sp("07", "7.5", "TNE")],
            "1000",
            &[("KGM", "2000")],
            formula(
                "115.00",
                "10.00% × 1,000.00 = 100.00 + Levy 7.50 EUR/1000 kg × 2.00 = 15.00 → 115.00",
            ),
        ),
        case(
            "09 adds the reduced levy",
            vec![av("01", "10"), sp("09", "2.5", "TNE")],
            "1000",
            &[("TNE", "2")],
            amount("105.00"),
        ),
        case(
            "11 adds the variable component",
            vec![av("01", "8"), sp("11", "12.34", "DTN")],
            "500",
            &[("DTN", "1")],
            amount("52.34"),
        ),
        case(
            "13 adds the reduced variable component as a percentage",
            vec![av("01", "8"), av("13", "1.5")],
            "500",
            &[],
            amount("47.50"),
        ),
        case(
            "13 then MAX: the cap bounds the levy too",
            vec![av("01", "8"), av("13", "10"), av("17", "12")],
            "500",
            &[],
            amount("60.00"),
        ),
        case("03 without amount", vec![bare("03")], "1", &[], levy_missing("03")),
        case("05 without amount", vec![bare("05")], "1", &[], levy_missing("05")),
        case("09 without amount", vec![av("01", "1"), bare("09")], "1", &[], levy_missing("09")),
        case("11 without amount", vec![bare("11")], "1", &[], levy_missing("11")),
        case("13 without amount", vec![bare("13")], "1", &[], levy_missing("13")),
        case(
            "23 adds 2 % of the customs value",
            vec![av("01", "9"), bare("23")],
            "1000",
            &[],
            formula(
                "110.00",
                "9.00% × 1,000.00 = 90.00 + 2 % SD 2.00% × 1,000.00 = 20.00 → 110.00",
            ),
        ),
        case(
            "23 is part of a MAX, applied",
            vec![av("01", "20"), av("17", "10"), bare("23")],
            "1000",
            &[],
            formula(
                "120.00",
                "20.00% × 1,000.00 = 200.00 MAX 10.00% × 1,000.00 = 100.00 + 2 % SD 2.00% × 1,000.00 = 20.00 = 120.00 (applied: 200.00 → 120.00) → 120.00",
            ),
        ),
        case(
            "23 is part of a MAX, not applied",
            vec![av("01", "5"), av("17", "10"), bare("23")],
            "1000",
            &[],
            amount("50.00"),
        ),
    ];
    for id in ["40", "41", "42", "43", "44"] {
        cases.push(case(
            "export refunds are not import duties",
            vec![MeasureComponent::specific(id, d("5"), "EUR", "DTN")],
            "1000",
            &[("DTN", "1")],
            Expect::Error(DutyError::ExportRefund { id: id.into() }),
        ));
        cases.push(case(
            "export refund without amount",
            vec![av("01", "1"), bare(id)],
            "1000",
            &[],
            Expect::Error(DutyError::ExportRefund { id: id.into() }),
        ));
    }
    check(cases);
}

#[test]
fn max_with_additional_duties_records_its_parts() {
    let table = TestMeursing;
    let ctx = EvalContext::new(d("300"), qty(&[("DTN", "2")])).with_meursing(&table, "7000");
    let ev = evaluate(
        &[
            av("01", "12.8"),
            bare("12"),
            av("17", "18.7"),
            bare("21"),
            bare("27"),
        ],
        &ctx,
    )
    .unwrap();
    let ops: Vec<Operation> = ev.steps.iter().map(|s| s.operation).collect();
    assert_eq!(
        ops,
        [
            Operation::Add,
            Operation::Add,
            Operation::Maximum,
            Operation::PartOfMaximum,
            Operation::PartOfMaximum
        ]
    );
    // The MAX step carries the whole cap: 56.10 + 20 + 10.
    assert_eq!(ev.steps[2].amount, d("86.100"));
    assert!(ev.steps[2].applied);
    assert_eq!(ev.steps[3].amount, d("20.00"));
    assert_eq!(ev.steps[4].total_after, d("86.100"));
    // Levies replace.
    let ev = evaluate(
        &[av("01", "12"), sp("03", "40", "DTN")],
        &EvalContext::new(d("1000"), qty(&[("DTN", "1")])),
    )
    .unwrap();
    assert_eq!(ev.steps[1].operation, Operation::Replace);
    assert_eq!(ev.steps[1].total_before, d("120"));
    assert_eq!(ev.amount, d("40.00"));
}

#[test]
fn evaluation_steps_keep_full_precision() {
    let ctx = EvalContext::new(d("1260.89"), qty(&[("DTN", "20")]));
    let ev = evaluate(&[av("01", "2.7"), sp("15", "1", "DTN")], &ctx).unwrap();
    assert_eq!(ev.steps.len(), 2);
    assert_eq!(ev.steps[0].amount, d("34.04403"));
    assert_eq!(ev.steps[0].operation, Operation::Add);
    assert_eq!(ev.steps[0].base, Some(d("1260.89")));
    assert_eq!(ev.steps[1].operation, Operation::Minimum);
    assert!(!ev.steps[1].applied);
    assert_eq!(ev.steps[1].total_after, d("34.04403"));
    assert_eq!(ev.amount, d("34.04"));
    // Serialisable.
    let json = serde_json::to_value(&ev).unwrap();
    assert_eq!(json["amount"], "34.04");
}

const CSV_IDS: &[&str] = &[
    "01", "02", "03", "04", "05", "06", "07", "09", "11", "12", "13", "14", "15", "17", "19", "20",
    "21", "23", "25", "27", "29", "31", "33", "35", "36", "37", "40", "41", "42", "43", "44", "99",
];

#[test]
fn expression_table_covers_the_taric_ids() {
    assert_eq!(DUTY_EXPRESSIONS.len(), CSV_IDS.len());
    for id in CSV_IDS {
        assert!(duty_expression(id).is_some(), "{id}");
    }
    let ids: Vec<&str> = DUTY_EXPRESSIONS.iter().map(|e| e.id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "table in TARIC order");
    assert_eq!(duty_expression("12").unwrap().prefix, "+ AC");
    assert_eq!(duty_expression("15").unwrap().description, "Minimum");
    assert_eq!(duty_expression("37").unwrap().prefix, "NIHIL");
    assert!(duty_expression("08").is_none());
}

#[test]
fn validate_component_cases() {
    let unit = |id: &str, u: &str| MeasureComponent {
        measurement_unit: Some(u.into()),
        ..bare(id)
    };
    let ok = [
        av("01", "12.8"),
        sp("01", "176.80", "DTN"),
        av("02", "1"),
        sp("04", "1", "HLT"),
        bare("12"),
        bare("14"),
        bare("21"),
        bare("27"),
        sp("15", "22", "DTN"),
        av("17", "35"),
        sp("17", "35", "TNE").with_qualifier("I"),
        av("36", "2"),
        bare("37"),
        unit("99", "NAR"),
        unit("99", "KGM").with_qualifier("E"),
        av("01", "0"),
        bare("40"),
        av("40", "1"),
    ];
    for c in &ok {
        assert_eq!(validate_component(c), Ok(()), "{c:?}");
    }
    let id = |s: &str| s.to_owned();
    let bad = [
        (bare("01"), DutyError::AmountRequired { id: id("01") }),
        (bare("15"), DutyError::AmountRequired { id: id("15") }),
        (
            av("12", "1"),
            DutyError::AmountNotPermitted { id: id("12") },
        ),
        (
            av("37", "0"),
            DutyError::AmountNotPermitted { id: id("37") },
        ),
        (
            unit("37", "KGM"),
            DutyError::MeasurementUnitNotPermitted { id: id("37") },
        ),
        (
            bare("99"),
            DutyError::MeasurementUnitRequired { id: id("99") },
        ),
        (
            MeasureComponent {
                amount: Some(d("1")),
                ..unit("99", "NAR")
            },
            DutyError::AmountNotPermitted { id: id("99") },
        ),
        (
            MeasureComponent {
                monetary_unit: Some("EUR".into()),
                ..av("36", "2")
            },
            DutyError::MonetaryUnitNotPermitted { id: id("36") },
        ),
        (
            MeasureComponent {
                measurement_unit: Some("DTN".into()),
                ..av("01", "2")
            },
            DutyError::MeasurementUnitWithoutMonetaryUnit { id: id("01") },
        ),
        (
            MeasureComponent {
                monetary_unit: Some("EUR".into()),
                ..bare("40")
            },
            DutyError::MonetaryUnitWithoutAmount { id: id("40") },
        ),
        (
            av("01", "5").with_qualifier("I"),
            DutyError::QualifierWithoutUnit { id: id("01") },
        ),
        (av("01", "-5"), DutyError::NegativeAmount { id: id("01") }),
        (av("02", "-5"), DutyError::NegativeAmount { id: id("02") }),
        (av("08", "5"), DutyError::UnknownExpression { id: id("08") }),
        (av("", "5"), DutyError::UnknownExpression { id: id("") }),
    ];
    for (c, e) in bad {
        assert_eq!(validate_component(&c), Err(e), "{c:?}");
    }
}

#[test]
fn describe_matches_the_uk_style() {
    assert_eq!(
        describe(&[
            av("01", "12.8"),
            sp("04", "176.8", "DTN"),
            sp("15", "22", "DTN"),
            av("17", "35"),
        ]),
        "12.80 % + 176.80 EUR / 100 kg MIN 22.00 EUR / 100 kg MAX 35.00 %"
    );
}

#[test]
fn describe_snapshots() {
    let cases: Vec<(&str, Vec<MeasureComponent>)> = vec![
        ("ad valorem", vec![av("01", "2.7")]),
        ("free", vec![av("01", "0")]),
        ("many decimals", vec![av("01", "0.035")]),
        ("DTN", vec![sp("01", "176.8", "DTN")]),
        ("TNE", vec![sp("01", "100", "TNE")]),
        (
            "TNE qualified",
            vec![sp("01", "26.2", "TNE").with_qualifier("I")],
        ),
        ("HLT", vec![sp("01", "10", "HLT")]),
        (
            "ASV + HLT",
            vec![sp("01", "1", "ASV"), sp("04", "6.4", "HLT")],
        ),
        ("LPA", vec![sp("01", "1.75", "LPA")]),
        ("NAR", vec![sp("01", "3", "NAR")]),
        ("compound minus", vec![av("01", "10"), sp("02", "5", "DTN")]),
        (
            "MIN MAX",
            vec![
                av("01", "12.8"),
                sp("04", "176.8", "DTN"),
                sp("15", "22", "DTN"),
                av("17", "35"),
            ],
        ),
        (
            "Meursing",
            vec![
                av("01", "9"),
                bare("12"),
                av("17", "18.7"),
                bare("21"),
                bare("27"),
            ],
        ),
        (
            "reduced Meursing",
            vec![av("01", "0"), bare("14"), bare("25"), bare("29")],
        ),
        ("MAX 35", vec![av("01", "20"), sp("35", "50", "DTN")]),
        ("minus CIF", vec![av("01", "10"), av("36", "2")]),
        ("nihil", vec![bare("37")]),
        (
            "supplementary unit",
            vec![MeasureComponent {
                measurement_unit: Some("NAR".into()),
                ..bare("99")
            }],
        ),
        ("unordered input", vec![av("17", "35"), av("01", "12")]),
        ("levy", vec![av("01", "5"), bare("07")]),
        (
            "levy replacing the rate",
            vec![av("01", "5"), sp("03", "40", "DTN")],
        ),
        ("reduced levy", vec![sp("05", "15", "DTN")]),
        (
            "+ reduced levy",
            vec![av("01", "5"), sp("09", "2.5", "TNE")],
        ),
        (
            "variable components",
            vec![av("01", "8"), sp("11", "12.34", "DTN"), av("13", "1.5")],
        ),
        (
            "2 % SD in a MAX",
            vec![av("01", "9"), bare("12"), av("17", "18.7"), bare("23")],
        ),
        ("export refund", vec![bare("40")]),
        ("export refund with amount", vec![sp("43", "30.5", "DTN")]),
        ("unknown id", vec![av("98", "5")]),
    ];
    let text: String = cases
        .iter()
        .map(|(name, c)| format!("{name}: {}\n", describe(c)))
        .collect();
    insta::assert_snapshot!("describe", text);
}

#[test]
fn formula_snapshots() {
    let table = TestMeursing;
    let q = qty(&[
        ("KGM", "2000"),
        ("ASV", "40"),
        ("LTR", "700"),
        ("TNEI", "1.2"),
    ]);
    let cases: Vec<(&str, Vec<MeasureComponent>)> = vec![
        ("ad valorem", vec![av("01", "2.7")]),
        (
            "MIN MAX",
            vec![
                av("01", "12.8"),
                sp("04", "176.8", "DTN"),
                sp("15", "22", "DTN"),
                av("17", "35"),
            ],
        ),
        (
            "spirits",
            vec![sp("01", "1", "ASV"), sp("04", "6.4", "HLT")],
        ),
        (
            "biodiesel",
            vec![sp("01", "26.2", "TNE").with_qualifier("I")],
        ),
        (
            "Meursing",
            vec![
                av("01", "9"),
                bare("12"),
                av("17", "18.7"),
                bare("21"),
                bare("27"),
            ],
        ),
        (
            "minus",
            vec![av("01", "10"), sp("02", "5", "DTN"), av("36", "1")],
        ),
        ("levy", vec![av("01", "10"), sp("03", "40", "TNE")]),
        (
            "+ levy",
            vec![av("01", "10"), sp("07", "4", "TNE"), sp("11", "1", "DTN")],
        ),
        (
            "2 % SD in a MAX",
            vec![av("01", "20"), bare("12"), av("17", "5"), bare("23")],
        ),
    ];
    let ctx = EvalContext::new(d("4321.55"), q).with_meursing(&table, "7000");
    let text: String = cases
        .iter()
        .map(|(name, c)| {
            let ev = evaluate(c, &ctx).unwrap();
            format!("{name}: {} | {}\n", ev.amount, ev.formula)
        })
        .collect();
    insta::assert_snapshot!("formulas", text);
}

// ---------------------------------------------------------------- conditions

fn cond(
    code: &str,
    sequence: u32,
    certificate: Option<&str>,
    threshold: Option<(&str, Option<&str>)>,
    action: &str,
    components: Vec<MeasureComponent>,
) -> MeasureCondition {
    MeasureCondition {
        code: code.into(),
        sequence,
        certificate: certificate.map(Into::into),
        threshold: threshold.map(|(t, u)| (d(t), u.map(Into::into))),
        action: action.into(),
        components,
    }
}

fn resolve(
    conds: &[MeasureCondition],
    docs: &[&str],
    price: Option<&str>,
    q: Quantities,
) -> Resolution {
    let documents: Vec<String> = docs.iter().map(|s| s.to_string()).collect();
    let ctx = ConditionContext {
        documents: &documents,
        unit_price: price.map(d),
        quantities: &q,
    };
    resolve_conditions(conds, &ctx).unwrap()
}

fn ladder() -> Vec<EntryPriceStep> {
    // Real-world shape (e.g. fresh tomatoes): lower entry price → higher duty.
    let step = |t: &str, amount: &str| EntryPriceStep {
        threshold: d(t),
        components: vec![av("01", "8.8"), sp("04", amount, "DTN")],
    };
    // Deliberately unsorted.
    vec![
        step("84.6", "29.8"),
        step("86.3", "2.1"),
        step("0", "29.8"),
        step("88.1", "0"),
        step("87.2", "1.1"),
    ]
}

#[test]
fn entry_price_ladder_boundaries() {
    let l = ladder();
    let specific =
        |price: &str| -> Decimal { entry_price_components(&l, d(price))[1].amount.unwrap() };
    let cases = [
        ("200", "0"),
        ("88.1", "0"),
        ("88.09", "1.1"),
        ("87.2", "1.1"),
        ("87.19", "2.1"),
        ("86.3", "2.1"),
        ("86.29", "29.8"),
        ("84.6", "29.8"),
        ("84.59", "29.8"),
        ("0", "29.8"),
    ];
    for (price, expected) in cases {
        assert_eq!(specific(price), d(expected), "price {price}");
    }
    assert!(entry_price_components(&[], d("100")).is_empty());
    // Below every threshold: the lowest step.
    let no_zero = vec![EntryPriceStep {
        threshold: d("50"),
        components: vec![av("01", "1")],
    }];
    assert_eq!(entry_price_components(&no_zero, d("10")), &[av("01", "1")]);

    // The same ladder as V conditions.
    let set = entry_price_conditions(&l);
    assert_eq!(set.conditions.len(), 5);
    assert_eq!(
        set.conditions[0].threshold,
        Some((d("88.1"), Some("EUR/DTN".into())))
    );
    assert_eq!(set.conditions[4].threshold, None);
    for (price, _) in cases {
        let q = Quantities::new();
        let documents: Vec<String> = vec![];
        let ctx = ConditionContext {
            documents: &documents,
            unit_price: Some(d(price)),
            quantities: &q,
        };
        assert_eq!(
            set.resolve(&ctx).unwrap(),
            Resolution::Apply(entry_price_components(&l, d(price)).to_vec()),
            "price {price}"
        );
    }
}

#[test]
fn document_conditions() {
    // C: certificate N954 → 0 %; otherwise 10 %.
    let conds = vec![
        cond("C", 2, None, None, "01", vec![av("01", "10")]),
        cond("C", 1, Some("N954"), None, "01", vec![av("01", "0")]),
    ];
    assert_eq!(
        resolve(&conds, &["N954"], None, Quantities::new()),
        Resolution::Apply(vec![av("01", "0")])
    );
    assert_eq!(
        resolve(&conds, &["Y929"], None, Quantities::new()),
        Resolution::Apply(vec![av("01", "10")])
    );

    // B: licence C400 → allowed (29); otherwise prohibited (09).
    let licence = vec![
        cond("B", 1, Some("C400"), None, "29", vec![]),
        cond("B", 2, None, None, "09", vec![]),
    ];
    assert_eq!(
        resolve(&licence, &["C400"], None, Quantities::new()),
        Resolution::Apply(vec![])
    );
    let Resolution::NotAllowed { reason } = resolve(&licence, &[], None, Quantities::new()) else {
        panic!("expected a prohibition");
    };
    assert!(reason.contains("09") && reason.contains('B'), "{reason}");

    // Y: exemption document → measure not applicable (07); otherwise apply (27).
    let exemption = vec![
        cond("Y", 1, Some("Y929"), None, "07", vec![]),
        cond("Y", 2, None, None, "27", vec![]),
    ];
    assert_eq!(
        resolve(&exemption, &["Y929"], None, Quantities::new()),
        Resolution::NotApplicable
    );
    assert_eq!(
        resolve(&exemption, &[], None, Quantities::new()),
        Resolution::Apply(vec![])
    );

    // Outright prohibition (04).
    let ban = vec![cond("Y", 1, None, None, "04", vec![])];
    assert!(matches!(
        resolve(&ban, &[], None, Quantities::new()),
        Resolution::NotAllowed { .. }
    ));

    // No condition of a code fulfilled → not allowed.
    let only_doc = vec![cond("B", 1, Some("C400"), None, "29", vec![])];
    assert_eq!(
        resolve(&only_doc, &[], None, Quantities::new()),
        Resolution::NotAllowed {
            reason: "no condition of code B is fulfilled".into()
        }
    );

    // Several codes: the prohibition wins; applies concatenate.
    let mut both = conds.clone();
    both.extend(licence.clone());
    assert!(matches!(
        resolve(&both, &["N954"], None, Quantities::new()),
        Resolution::NotAllowed { .. }
    ));
    assert_eq!(
        resolve(&both, &["N954", "C400"], None, Quantities::new()),
        Resolution::Apply(vec![av("01", "0")])
    );
    assert_eq!(
        resolve(&[], &[], None, Quantities::new()),
        Resolution::Apply(vec![])
    );
}

#[test]
fn threshold_conditions() {
    // E: up to 1000 kg, or with licence L100, allowed; otherwise not.
    let conds = vec![
        cond("E", 1, None, Some(("1000", Some("KGM"))), "24", vec![]),
        cond("E", 2, Some("L100"), None, "24", vec![]),
        cond("E", 3, None, None, "04", vec![]),
    ];
    let kg = |v: &str| qty(&[("KGM", v)]);
    assert_eq!(
        resolve(&conds, &[], None, kg("900")),
        Resolution::Apply(vec![])
    );
    assert_eq!(
        resolve(&conds, &[], None, kg("1000")),
        Resolution::Apply(vec![])
    );
    assert!(matches!(
        resolve(&conds, &[], None, kg("1000.01")),
        Resolution::NotAllowed { .. }
    ));
    assert_eq!(
        resolve(&conds, &["L100"], None, kg("5000")),
        Resolution::Apply(vec![])
    );
    // Quantity converted: 9 DTN = 900 kg.
    assert_eq!(
        resolve(&conds, &[], None, qty(&[("DTN", "9")])),
        Resolution::Apply(vec![])
    );

    // R: ratio at least 160 kg → subheading allowed (28), else not (10).
    let ratio = vec![
        cond("R", 1, None, Some(("160", Some("KGM"))), "28", vec![]),
        cond("R", 2, None, Some(("0", Some("KGM"))), "10", vec![]),
    ];
    assert_eq!(
        resolve(&ratio, &[], None, kg("160")),
        Resolution::Apply(vec![])
    );
    assert!(matches!(
        resolve(&ratio, &[], None, kg("159.9")),
        Resolution::NotAllowed { .. }
    ));

    // M: declared price at least the minimum price (in EUR) → apply; otherwise not allowed.
    let min_price = vec![
        cond("M", 1, None, Some(("250", Some("EUR"))), "27", vec![]),
        cond("M", 2, None, None, "04", vec![]),
    ];
    let none = Quantities::new();
    assert_eq!(
        resolve(&min_price, &[], Some("250"), none.clone()),
        Resolution::Apply(vec![])
    );
    assert!(matches!(
        resolve(&min_price, &[], Some("249.99"), none),
        Resolution::NotAllowed { .. }
    ));

    // Errors: missing price, missing quantity, unsupported action.
    let q = Quantities::new();
    let documents: Vec<String> = vec![];
    let ctx = ConditionContext {
        documents: &documents,
        unit_price: None,
        quantities: &q,
    };
    let v = vec![cond(
        "V",
        1,
        None,
        Some(("100", Some("EUR/DTN"))),
        "01",
        vec![],
    )];
    assert_eq!(
        resolve_conditions(&v, &ctx),
        Err(DutyError::MissingUnitPrice { code: "V".into() })
    );
    assert_eq!(
        resolve_conditions(&conds, &ctx),
        Err(DutyError::MissingQuantity { unit: "KGM".into() })
    );
    let diff = vec![cond("V", 1, None, None, "02", vec![])];
    assert_eq!(
        resolve_conditions(&diff, &ctx),
        Err(DutyError::UnsupportedAction {
            action: "02".into()
        })
    );
}

// ---------------------------------------------------------------- properties

fn dec(max: i64, scale: u32) -> impl Strategy<Value = Decimal> {
    (0..=max).prop_map(move |m| Decimal::new(m, scale))
}

const IDS: &[&str] = &[
    "01", "02", "03", "04", "07", "12", "14", "15", "17", "19", "20", "21", "23", "25", "27", "29",
    "35", "36", "37", "40", "99", "98", "", "1",
];
const UNITS: &[&str] = &[
    "DTN", "KGM", "TNE", "HLT", "LTR", "ASV", "LPA", "NAR", "GRM", "MTK", "XYZ", "",
];

fn any_decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (any::<i64>(), 0u32..=28).prop_map(|(m, s)| Decimal::new(m, s)),
        Just(Decimal::MAX),
        Just(Decimal::MIN),
        Just(Decimal::ZERO),
    ]
}

fn any_component() -> impl Strategy<Value = MeasureComponent> {
    (
        prop::sample::select(IDS),
        prop::option::of(any_decimal()),
        prop::option::of(prop::sample::select(&["EUR", "GBP"][..])),
        prop::option::of(prop::sample::select(UNITS)),
        prop::option::of(prop::sample::select(&["I", "R", "A", ""][..])),
    )
        .prop_map(|(id, amount, m, u, q)| MeasureComponent {
            duty_expression_id: id.into(),
            amount,
            monetary_unit: m.map(Into::into),
            measurement_unit: u.map(Into::into),
            qualifier: q.map(Into::into),
        })
}

/// Well-formed components with non-negative amounts, no subtraction (02, 36).
fn additive_component() -> impl Strategy<Value = MeasureComponent> {
    prop_oneof![
        (
            prop::sample::select(&["01", "04", "15", "17", "19", "20", "35"][..]),
            dec(100_000, 2)
        )
            .prop_map(|(id, a)| MeasureComponent::ad_valorem(id, a)),
        (
            prop::sample::select(&["01", "04", "15", "17", "19", "20", "35"][..]),
            dec(100_000, 2),
            prop::sample::select(&["DTN", "KGM", "TNE", "HLT", "LTR", "ASV", "LPA", "NAR"][..]),
        )
            .prop_map(|(id, a, u)| MeasureComponent::specific(id, a, "EUR", u)),
        prop::sample::select(&["12", "14", "21", "25", "27", "29", "37"][..])
            .prop_map(MeasureComponent::bare),
    ]
}

fn full_quantities() -> impl Strategy<Value = Quantities> {
    (dec(10_000_000, 3), dec(100_000, 2), dec(1000, 1)).prop_map(|(kg, l, asv)| {
        Quantities::new()
            .with("KGM", kg)
            .with("LTR", l)
            .with("ASV", asv)
            .with("NAR", kg)
    })
}

proptest! {
    #[test]
    fn ad_valorem_is_linear_in_value(pct in dec(100_000, 2), value in dec(1_000_000_000, 2), k in 1i64..1000) {
        let c = [MeasureComponent::ad_valorem("01", pct)];
        let one = evaluate(&c, &EvalContext::new(value, Quantities::new())).unwrap();
        let kk = Decimal::from(k);
        let many = evaluate(&c, &EvalContext::new(value * kk, Quantities::new())).unwrap();
        prop_assert_eq!(many.steps[0].amount, one.steps[0].amount * kk);
        prop_assert_eq!(one.steps[0].amount, pct * value / Decimal::ONE_HUNDRED);
    }

    #[test]
    fn amounts_are_never_negative_without_subtraction(
        components in prop::collection::vec(additive_component(), 0..6),
        value in dec(1_000_000_000, 2),
        q in full_quantities(),
    ) {
        let table = TestMeursing;
        let ctx = EvalContext::new(value, q).with_meursing(&table, "7000");
        let ev = evaluate(&components, &ctx).unwrap();
        prop_assert!(ev.amount >= Decimal::ZERO);
        for s in &ev.steps {
            prop_assert!(s.total_after >= Decimal::ZERO);
        }
    }

    #[test]
    fn min_never_below_floor_max_never_above_cap(
        components in prop::collection::vec(additive_component(), 0..4),
        floor in dec(1_000_000, 2),
        cap in dec(100_000, 2),
        value in dec(1_000_000_000, 2),
        q in full_quantities(),
    ) {
        let table = TestMeursing;
        let ctx = EvalContext::new(value, q).with_meursing(&table, "7000");
        // Keep only components before MIN (ids < 15) so the MIN is the last bound.
        let mut with_min: Vec<MeasureComponent> = components
            .iter()
            .filter(|c| c.duty_expression_id.as_str() < "15")
            .cloned()
            .collect();
        with_min.push(MeasureComponent::specific("15", floor, "EUR", "DTN"));
        let ev = evaluate(&with_min, &ctx).unwrap();
        let floor_amount = ev.steps.last().unwrap().amount;
        prop_assert!(ev.steps.last().unwrap().total_after >= floor_amount);
        prop_assert!(ev.amount >= floor_amount.round_dp(2) - Decimal::new(1, 2));

        let mut with_max: Vec<MeasureComponent> = components
            .iter()
            .filter(|c| c.duty_expression_id.as_str() < "17")
            .cloned()
            .collect();
        with_max.push(MeasureComponent::ad_valorem("17", cap));
        let ev = evaluate(&with_max, &ctx).unwrap();
        let cap_amount = cap * value / Decimal::ONE_HUNDRED;
        prop_assert!(ev.steps.last().unwrap().total_after <= cap_amount);
        prop_assert!(ev.amount <= cap_amount.round_dp(2) + Decimal::new(1, 2));
    }

    #[test]
    fn evaluation_never_panics(
        components in prop::collection::vec(any_component(), 0..6),
        value in any_decimal(),
        keys in prop::collection::vec((prop::sample::select(&["DTN", "KGM", "TNE", "HLT", "LTR", "ASV", "LPA", "NAR", "TNEI", "GRM", "MLT"][..]), any_decimal()), 0..5),
        code in prop::option::of(prop::sample::select(&["7000", "7001", "9999"][..])),
    ) {
        let q = keys.iter().fold(Quantities::new(), |q, (k, v)| q.with(k, *v));
        let table = TestMeursing;
        let mut ctx = EvalContext::new(value, q);
        if let Some(code) = code {
            ctx = ctx.with_meursing(&table, code);
        }
        let _ = evaluate(&components, &ctx);
        let _ = describe(&components);
        for c in &components {
            let _ = validate_component(c);
        }
    }
}

// ------------------------------------------- the tariff's Meursing table, national types

mod tariff_meursing {
    use super::{av, bare, d, sp};
    use chrono::NaiveDate;
    use portorium_tariff::duty::MeursingTable;
    use portorium_tariff::duty::{DutyError, MeasureComponent, MeursingFigures, MeursingKind};
    use portorium_tariff::measures::{
        calculate, measure_type, meursing_figures, AreaKind, CalcError, CalcRequest,
        GeographicalArea, Measure, MeasureKind, Membership, TariffData, Validity,
    };
    use portorium_tariff::nomenclature::GoodsCode;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn m(
        sid: u64,
        ty: &str,
        goods: &str,
        area: &str,
        ac: Option<&str>,
        c: Vec<MeasureComponent>,
    ) -> Measure {
        Measure {
            sid,
            measure_type: ty.into(),
            goods_code: GoodsCode::from_prefix(goods).unwrap(),
            geographical_area: area.into(),
            excluded_areas: vec![],
            additional_code: ac.map(Into::into),
            order_number: None,
            regulation: None,
            validity: Validity::from(day("2026-01-01")),
            components: c,
            conditions: vec![],
            footnotes: vec![],
            national: false,
        }
    }

    fn data(with_meursing: bool) -> TariffData {
        let area = |id: &str, kind| GeographicalArea {
            id: id.into(),
            kind,
            validity: Validity::from(day("2000-01-01")),
        };
        let mut measures = vec![
            m(
                1,
                "103",
                "1806",
                "1011",
                None,
                vec![av("01", "8.3"), bare("12"), av("17", "18.7"), bare("21")],
            ),
            m(2, "VTS", "18", "1011", None, vec![av("01", "21")]),
            m(3, "EXK", "1806", "1011", None, vec![sp("01", "2.5", "KGM")]),
        ];
        if with_meursing {
            measures.extend([
                m(
                    10,
                    "672",
                    "18",
                    "1011",
                    Some("7000"),
                    vec![sp("01", "25", "DTN")],
                ),
                m(
                    11,
                    "673",
                    "18",
                    "1011",
                    Some("7000"),
                    vec![sp("01", "10", "DTN")],
                ),
                m(
                    12,
                    "672",
                    "18",
                    "2020",
                    Some("7000"),
                    vec![sp("01", "12.5", "DTN")],
                ),
                m(13, "672", "18", "1011", Some("7001"), vec![av("01", "3")]),
                // Not a Meursing code: ignored.
                m(14, "672", "18", "1011", Some("B123"), vec![av("01", "99")]),
            ]);
        }
        TariffData::new(
            measures,
            vec![
                area("1011", AreaKind::Group),
                area("2020", AreaKind::Group),
                area("CN", AreaKind::Country),
                area("MA", AreaKind::Country),
            ],
            vec![Membership {
                group: "2020".into(),
                member: "MA".into(),
                validity: Validity::from(day("2000-01-01")),
            }],
            vec![],
        )
    }

    fn req(origin: &str, code: Option<&str>) -> CalcRequest {
        CalcRequest {
            commodity: GoodsCode::new("1806321000").unwrap(),
            origin: origin.into(),
            date: day("2026-03-01"),
            customs_value: d("1000"),
            quantities: super::qty(&[("KGM", "200")]),
            additional_codes: vec![],
            documents: vec![],
            unit_price: None,
            meursing_code: code.map(Into::into),
            exchange_rates: Vec::new(),
        }
    }

    fn ancestors() -> Vec<GoodsCode> {
        ["18", "1806", "1806321000"]
            .iter()
            .map(|p| GoodsCode::from_prefix(p).unwrap())
            .collect()
    }

    #[test]
    fn figures_come_from_the_tariff() {
        let t = meursing_figures(&data(true), "CN", day("2026-03-01"));
        assert_eq!(t.len(), 3);
        assert_eq!(
            t.component("7000", MeursingKind::AgriculturalComponent),
            Some((d("25"), "DTN".to_owned()))
        );
        assert_eq!(
            t.component("7000", MeursingKind::ReducedAgriculturalComponent),
            None
        );
        assert_eq!(
            t.component("7001", MeursingKind::AgriculturalComponent),
            Some((d("3"), "%".to_owned()))
        );
        // The reduced figure for a member of the preferential group.
        let t = meursing_figures(&data(true), "MA", day("2026-03-01"));
        assert_eq!(
            t.component("7000", MeursingKind::ReducedAgriculturalComponent),
            Some((d("12.5"), "DTN".to_owned()))
        );
        // Not yet in force.
        assert!(meursing_figures(&data(true), "CN", day("2025-12-31")).is_empty());
        let mut own = MeursingFigures::new();
        own.insert("7002", MeursingKind::AdditionalDutyOnFlour, d("1"), "%");
        assert_eq!(
            own.component("7002", MeursingKind::AdditionalDutyOnFlour),
            Some((d("1"), "%".into()))
        );
    }

    #[test]
    fn calculation_uses_the_tariff_table_and_national_types() {
        let calc = calculate(&data(true), &ancestors(), &req("CN", Some("7000"))).unwrap();
        let o = &calc.options[0];
        let lines: Vec<_> = o.lines().collect();
        // 8.3 % × 1000 + 25 × 2 = 133 < 18.7 % × 1000 + 10 × 2 = 207: 133.00.
        assert_eq!(lines[0].amount, d("133.00"), "{}", lines[0].formula);
        // Excise EXK 2.50 EUR/kg × 200 = 500; VAT VTS 21 % of 1000 + 133 + 500.
        assert_eq!(lines[1].measure_type_id, "EXK");
        assert_eq!(lines[1].amount, d("500.00"));
        assert_eq!(lines[2].measure_type_id, "VTS");
        assert_eq!(lines[2].amount, d("342.93"));
        assert_eq!(o.total, d("975.93"));
        // Without a declared Meursing code, or without a table: a clear error.
        let err = calculate(&data(true), &ancestors(), &req("CN", None)).unwrap_err();
        assert!(matches!(
            err,
            CalcError::Duty {
                cause: DutyError::MeursingRequired { .. },
                ..
            }
        ));
        let err = calculate(&data(false), &ancestors(), &req("CN", Some("7000"))).unwrap_err();
        assert!(matches!(
            err,
            CalcError::Duty {
                cause: DutyError::MeursingRequired { .. },
                ..
            }
        ));
        let err = calculate(&data(true), &ancestors(), &req("CN", Some("7999"))).unwrap_err();
        assert!(matches!(
            err,
            CalcError::Duty {
                cause: DutyError::MeursingComponentMissing { .. },
                ..
            }
        ));
    }

    #[test]
    fn national_measure_types() {
        for (id, kind, series) in [
            ("VTS", MeasureKind::Vat, 'P'),
            ("VTR", MeasureKind::Vat, 'P'),
            ("VTZ", MeasureKind::Vat, 'P'),
            ("VTE", MeasureKind::Vat, 'P'),
            ("EXA", MeasureKind::Excise, 'Q'),
            ("EXB", MeasureKind::Excise, 'Q'),
            ("EXW", MeasureKind::Excise, 'Q'),
            ("EXT", MeasureKind::Excise, 'Q'),
            ("EXG", MeasureKind::Excise, 'Q'),
            ("NPI", MeasureKind::Prohibition, 'A'),
            ("NRL", MeasureKind::Other, 'B'),
            ("672", MeasureKind::Other, 'O'),
        ] {
            let t = measure_type(id);
            assert_eq!((t.kind, t.series), (kind, series), "{id}");
        }
    }
}

/// A specific amount in another currency than the context's is converted at the given rate
/// (amount ÷ rate at full precision, the line rounded once); without a rate it is an error.
#[test]
fn components_in_another_currency_are_converted_at_the_rate() {
    let gbp = |amount: &str, unit: &str| MeasureComponent {
        monetary_unit: Some("GBP".into()),
        ..sp("01", amount, unit)
    };
    let rates = vec![("GBP".to_owned(), d("0.85765"))];
    let q = qty(&[("TNE", "10")]);
    let ctx = EvalContext::borrowed(d("1000"), &q)
        .with_currency("EUR")
        .with_rates(&rates);
    // 198.33 GBP/t = 231.2482... EUR/t; × 10 t = 2,312.48 EUR.
    let e = evaluate(&[gbp("198.33", "TNE")], &ctx).unwrap();
    assert_eq!(e.amount, d("2312.48"));
    assert!(
        e.formula.contains("198.33 GBP (÷ 0.85765 = 231.2482 EUR)"),
        "{}",
        e.formula
    );
    // Compound with an EUR ad valorem part: 5 % of 1,000 + 144.10 GBP/t × 10 t.
    let e = evaluate(
        &[
            av("01", "5"),
            MeasureComponent {
                duty_expression_id: "04".into(),
                ..gbp("144.10", "TNE")
            },
        ],
        &ctx,
    )
    .unwrap();
    assert_eq!(e.amount, d("1730.17"));
    // A currency without a rate is refused, never treated as EUR.
    let ctx = EvalContext::borrowed(d("1000"), &q).with_currency("EUR");
    assert_eq!(
        evaluate(&[gbp("198.33", "TNE")], &ctx),
        Err(DutyError::CurrencyMismatch {
            component: "GBP".into(),
            context: "EUR".into()
        })
    );
}
