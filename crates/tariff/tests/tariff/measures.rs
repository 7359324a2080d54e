//! Measure applicability and calculation tests, on a small hand-written tariff fixture.
//!
//! Fixture (dates: "today" is 2025-03-01):
//! - areas: `1011` erga omnes, countries CN, IN, VN, BD, MA, CH, KP, DE, FR; `1013` EU
//!   {DE, FR}; `2005` GSP {IN, BD, VN until 2023-12-31};
//! - regulations: `R-BASE` open, `R-EXP` ending 2024-06-30 (implicit end date);
//! - tomatoes `0702`: 103 at 14 % until 2024, then 12 %; 142 GSP 3.5 % excluding IN;
//!   on `0702000007` a 142 for MA (0 %, no own end, regulation R-EXP) and a 143 quota for
//!   MA (order 091104, 0 %);
//! - `0709`: 103 8 %; 696 safeguard 25 % erga omnes excluding the GSP group;
//! - cucumbers `0707`: 103 with an entry-price ladder (condition V);
//! - cheese `0406`: 103 8 %; 142 for CH 0 % when certificate N954 is presented;
//! - `0805`: 103 0 % and 142 for CN 0 % (a tie);
//! - bicycles `8712`: 103 14 %; 552 anti-dumping for CN, C999 48.5 % and B123 19.2 %;
//!   VAT 20 % on chapter 87;
//! - spirits `2208`: 103 0 %; excise 2.50 EUR per litre (national); VAT 20 % on chapter 22;
//! - `9305`: 103 3.2 %; 277 import prohibition for KP;
//! - `0106`: 103 0 %; 277 import prohibition unless certificate C400 is presented.

use std::str::FromStr;

use chrono::NaiveDate;
use portorium_tariff::duty::{
    entry_price_conditions, DutyError, EntryPriceStep, MeasureComponent, MeasureCondition,
    Quantities,
};
use portorium_tariff::measures::{
    applicable_measures, calculate, me32_overlaps, me66_exclusion_is_member, measure_type,
    AreaKind, CalcError, CalcRequest, Calculation, GeographicalArea, Measure, MeasureKind,
    Membership, OptionKind, Regulation, TariffData, Validity,
};
use portorium_tariff::nomenclature::GoodsCode;
use proptest::prelude::*;
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn code(s: &str) -> GoodsCode {
    GoodsCode::from_prefix(s).unwrap()
}

/// The commodity and its ancestors, from prefixes.
fn anc(prefixes: &[&str]) -> Vec<GoodsCode> {
    prefixes.iter().map(|p| code(p)).collect()
}

fn open(start: &str) -> Validity {
    Validity::from(day(start))
}

fn until(start: &str, end: &str) -> Validity {
    Validity::new(day(start), Some(day(end)))
}

fn av(pct: &str) -> MeasureComponent {
    MeasureComponent::ad_valorem("01", d(pct))
}

fn measure(
    sid: u64,
    ty: &str,
    goods: &str,
    area: &str,
    components: Vec<MeasureComponent>,
) -> Measure {
    Measure {
        sid,
        measure_type: ty.to_owned(),
        goods_code: code(goods),
        geographical_area: area.to_owned(),
        excluded_areas: vec![],
        additional_code: None,
        order_number: None,
        regulation: Some("R-BASE".to_owned()),
        validity: open("2020-01-01"),
        components,
        conditions: vec![],
        footnotes: vec![],
        national: false,
    }
}

fn cond(code: &str, seq: u32, cert: Option<&str>, action: &str) -> MeasureCondition {
    MeasureCondition {
        code: code.to_owned(),
        sequence: seq,
        certificate: cert.map(str::to_owned),
        threshold: None,
        action: action.to_owned(),
        components: vec![],
    }
}

const TOM: &[&str] = &["07", "0702", "0702000007"];
const TODAY: &str = "2025-03-01";

fn fixture() -> TariffData {
    let country = |id: &str| GeographicalArea {
        id: id.to_owned(),
        kind: AreaKind::Country,
        validity: open("1990-01-01"),
    };
    let group = |id: &str| GeographicalArea {
        id: id.to_owned(),
        kind: AreaKind::Group,
        validity: open("1990-01-01"),
    };
    let mut areas = vec![group("1011"), group("1013"), group("2005")];
    areas.extend(
        ["CN", "IN", "VN", "BD", "MA", "CH", "KP", "DE", "FR"]
            .into_iter()
            .map(country),
    );
    let member = |g: &str, m: &str, v: Validity| Membership {
        group: g.to_owned(),
        member: m.to_owned(),
        validity: v,
    };
    let memberships = vec![
        member("1013", "DE", open("1990-01-01")),
        member("1013", "FR", open("1990-01-01")),
        member("2005", "IN", open("2014-01-01")),
        member("2005", "BD", open("2014-01-01")),
        member("2005", "VN", until("2014-01-01", "2023-12-31")),
    ];
    let regulations = vec![
        Regulation {
            id: "R-BASE".to_owned(),
            validity: open("2000-01-01"),
        },
        Regulation {
            id: "R-EXP".to_owned(),
            validity: until("2020-01-01", "2024-06-30"),
        },
    ];

    let mut m = Vec::new();
    // Tomatoes.
    let mut tc_old = measure(1, "103", "0702", "1011", vec![av("14")]);
    tc_old.validity = until("2020-01-01", "2024-12-31");
    m.push(tc_old);
    let mut tc_new = measure(2, "103", "0702", "1011", vec![av("12")]);
    tc_new.validity = open("2025-01-01");
    m.push(tc_new);
    let mut gsp = measure(3, "142", "0702", "2005", vec![av("3.5")]);
    gsp.excluded_areas = vec!["IN".to_owned()];
    m.push(gsp);
    let mut ma = measure(4, "142", "0702000007", "MA", vec![av("0")]);
    ma.regulation = Some("R-EXP".to_owned());
    m.push(ma);
    let mut quota = measure(5, "143", "0702000007", "MA", vec![av("0")]);
    quota.order_number = Some("091104".to_owned());
    m.push(quota);
    // 0709: safeguard excluding the GSP group.
    m.push(measure(7, "103", "0709", "1011", vec![av("8")]));
    let mut safeguard = measure(8, "696", "0709", "1011", vec![av("25")]);
    safeguard.excluded_areas = vec!["2005".to_owned()];
    m.push(safeguard);
    // Cucumbers: entry-price ladder.
    let ladder = vec![
        EntryPriceStep {
            threshold: d("100"),
            components: vec![av("12")],
        },
        EntryPriceStep {
            threshold: d("98"),
            components: vec![
                av("12"),
                MeasureComponent::specific("04", d("2"), "EUR", "DTN"),
            ],
        },
        EntryPriceStep {
            threshold: d("0"),
            components: vec![
                av("12"),
                MeasureComponent::specific("04", d("20"), "EUR", "DTN"),
            ],
        },
    ];
    let mut cucumbers = measure(30, "103", "0707", "1011", vec![av("12")]);
    cucumbers.conditions = entry_price_conditions(&ladder).conditions;
    m.push(cucumbers);
    // Cheese: preference on a document.
    m.push(measure(40, "103", "0406", "1011", vec![av("8")]));
    let mut cheese_ch = measure(41, "142", "0406", "CH", vec![av("0")]);
    cheese_ch.conditions = vec![cond("Y", 1, Some("N954"), "01"), cond("Y", 2, None, "07")];
    m.push(cheese_ch);
    // Citrus: a tie.
    m.push(measure(45, "103", "0805", "1011", vec![av("0")]));
    m.push(measure(46, "142", "0805", "CN", vec![av("0")]));
    // Bicycles: anti-dumping by additional code, VAT.
    m.push(measure(10, "103", "8712", "1011", vec![av("14")]));
    let mut ad = measure(11, "552", "8712", "CN", vec![av("48.5")]);
    ad.additional_code = Some("C999".to_owned());
    m.push(ad);
    let mut ad_company = measure(12, "552", "8712", "CN", vec![av("19.2")]);
    ad_company.additional_code = Some("B123".to_owned());
    m.push(ad_company);
    let mut vat87 = measure(14, "305", "87", "1011", vec![av("20")]);
    vat87.national = true;
    m.push(vat87);
    // Spirits: excise per litre, VAT.
    m.push(measure(20, "103", "2208", "1011", vec![av("0")]));
    let mut excise = measure(
        21,
        "306",
        "2208",
        "1011",
        vec![MeasureComponent::specific("01", d("2.50"), "EUR", "LTR")],
    );
    excise.national = true;
    m.push(excise);
    let mut vat22 = measure(22, "305", "22", "1011", vec![av("20")]);
    vat22.national = true;
    m.push(vat22);
    // Prohibitions.
    m.push(measure(50, "103", "9305", "1011", vec![av("3.2")]));
    m.push(measure(51, "277", "9305", "KP", vec![]));
    m.push(measure(52, "103", "0106", "1011", vec![av("0")]));
    let mut animals = measure(53, "277", "0106", "1011", vec![]);
    animals.conditions = vec![cond("B", 1, Some("C400"), "26"), cond("B", 2, None, "04")];
    m.push(animals);

    TariffData::new(m, areas, memberships, regulations)
}

// ---------------------------------------------------------------------------------------
// Applicability

/// (commodity and ancestors, origin, date, expected SIDs in result order)
fn check(data: &TariffData, ancestors: &[&str], origin: &str, date: &str, expected: &[u64]) {
    let got: Vec<u64> = applicable_measures(data, &anc(ancestors), origin, day(date))
        .iter()
        .map(|m| m.sid)
        .collect();
    assert_eq!(got, expected, "{ancestors:?} from {origin} on {date}");
}

#[test]
fn applicability_by_origin_group_exclusion_date_and_hierarchy() {
    let data = fixture();
    let cases: &[(&[&str], &str, &str, &[u64])] = &[
        // Erga omnes only.
        (TOM, "CN", TODAY, &[2]),
        // GSP member gets the preference.
        (TOM, "BD", TODAY, &[2, 3]),
        // Excluded country.
        (TOM, "IN", TODAY, &[2]),
        // VN was a GSP member in 2023, not any more.
        (TOM, "VN", "2023-06-01", &[1, 3]),
        (TOM, "VN", TODAY, &[2]),
        // MA: preference (implicit end 2024-06-30, inclusive) and quota.
        (TOM, "MA", "2024-01-01", &[1, 4, 5]),
        (TOM, "MA", "2024-06-30", &[1, 4, 5]),
        (TOM, "MA", "2024-07-01", &[1, 5]),
        (TOM, "MA", TODAY, &[2, 5]),
        // The heading alone does not get the measures of its descendant.
        (&["07", "0702"], "MA", "2024-01-01", &[1]),
        // Another descendant of the heading gets the heading's measures only.
        (&["07", "0702", "0702000099"], "MA", TODAY, &[2]),
        // Exclusion of a group excludes its members; others are still covered.
        (&["07", "0709"], "CN", TODAY, &[7, 8]),
        (&["07", "0709"], "BD", TODAY, &[7]),
        (&["07", "0709"], "IN", TODAY, &[7]),
        // Chapter-level VAT with a heading-level duty.
        (&["87", "8712", "8712003010"], "IN", TODAY, &[10, 14]),
        (
            &["87", "8712", "8712003010"],
            "CN",
            TODAY,
            &[10, 14, 11, 12],
        ),
        // Before any measure.
        (TOM, "CN", "2019-12-31", &[]),
        // Unrelated code.
        (&["01", "0101"], "CN", TODAY, &[]),
    ];
    for (a, origin, date, expected) in cases {
        check(&data, a, origin, date, expected);
    }
}

#[test]
fn as_of_a_past_date_returns_the_measure_valid_then() {
    let data = fixture();
    check(&data, TOM, "CN", "2024-12-31", &[1]);
    check(&data, TOM, "CN", "2025-01-01", &[2]);
    let then = applicable_measures(&data, &anc(TOM), "CN", day("2022-05-01"));
    assert_eq!(then[0].components, vec![av("14")]);
}

#[test]
fn membership_changes_over_time() {
    let data = fixture();
    assert!(data.area_covers("2005", "VN", day("2023-12-31")));
    assert!(!data.area_covers("2005", "VN", day("2024-01-01")));
    assert!(data.area_covers("1011", "VN", day("2024-01-01")));
    check(&data, TOM, "VN", "2023-12-31", &[1, 3]);
    check(&data, TOM, "VN", "2024-01-01", &[1]);
}

#[test]
fn implicit_end_date_from_the_regulation() {
    let data = fixture();
    let ma = data.measures.iter().find(|m| m.sid == 4).unwrap();
    assert_eq!(ma.validity.end, None);
    assert_eq!(
        ma.effective_validity(&data.regulations).end,
        Some(day("2024-06-30"))
    );
}

#[test]
fn index_by_goods_code_prefix() {
    let data = fixture();
    let mut under: Vec<u64> = data.measures_under("0702").iter().map(|m| m.sid).collect();
    under.sort_unstable();
    assert_eq!(under, vec![1, 2, 3, 4, 5]);
    let on: Vec<u64> = data
        .measures_on(&code("0702000007"))
        .iter()
        .map(|m| m.sid)
        .collect();
    assert_eq!(on, vec![4, 5]);
    // Deserializing rebuilds the index.
    let json = serde_json::to_string(&data).unwrap();
    let back: TariffData = serde_json::from_str(&json).unwrap();
    assert_eq!(back.measures_on(&code("0702000007")).len(), 2);
}

#[test]
fn measure_type_table() {
    let t = measure_type("103");
    assert_eq!((t.series, t.kind), ('C', MeasureKind::ThirdCountry));
    assert_eq!(measure_type("552").kind, MeasureKind::AntiDumping);
    assert_eq!(measure_type("305").kind, MeasureKind::Vat);
    assert_eq!(measure_type("306").series, 'Q');
    assert_eq!(measure_type("277").kind, MeasureKind::Prohibition);
    assert_eq!(measure_type("143").kind, MeasureKind::Quota);
    assert_eq!(measure_type("999").kind, MeasureKind::Other);
}

// ---------------------------------------------------------------------------------------
// ME32 and ME66

#[test]
fn me32_overlapping_measures() {
    let base = |sid: u64, goods: &str, v: Validity| {
        let mut m = measure(sid, "103", goods, "1011", vec![av("5")]);
        m.validity = v;
        m
    };
    let mut other_area = base(4, "0702", open("2020-01-01"));
    other_area.geographical_area = "CN".to_owned();
    let mut other_code = base(5, "0702", open("2020-01-01"));
    other_code.additional_code = Some("C999".to_owned());
    let mut other_type = base(6, "0702", open("2020-01-01"));
    other_type.measure_type = "142".to_owned();
    let mut other_order = base(7, "0702", open("2020-01-01"));
    other_order.order_number = Some("091104".to_owned());
    let measures = vec![
        base(1, "0702", until("2020-01-01", "2024-12-31")),
        // Same code, overlapping.
        base(2, "0702", until("2024-06-01", "2025-12-31")),
        // Descendant, overlapping the first.
        base(3, "0702000007", until("2023-01-01", "2023-12-31")),
        other_area,
        other_code,
        other_type,
        other_order,
        // Sequential: after 2 ends, no overlap with 1 or 2.
        base(8, "0702", open("2026-01-01")),
        // Unrelated code.
        base(9, "0709", open("2020-01-01")),
    ];
    assert_eq!(me32_overlaps(&measures), vec![(1, 2), (1, 3)]);
    assert_eq!(me32_overlaps(&measures[..1]), vec![]);
    // The fixture is ME32-clean.
    assert_eq!(me32_overlaps(&fixture().measures), vec![]);
}

#[test]
fn me66_excluded_area_must_be_a_member() {
    let data = fixture();
    let with = |area: &str, excluded: &[&str]| {
        let mut m = measure(99, "142", "0702", area, vec![av("0")]);
        m.excluded_areas = excluded.iter().map(|s| s.to_string()).collect();
        m
    };
    let today = day(TODAY);
    assert!(me66_exclusion_is_member(
        &with("1011", &["CN"]),
        &data,
        today
    ));
    assert!(me66_exclusion_is_member(
        &with("1011", &["2005"]),
        &data,
        today
    ));
    assert!(me66_exclusion_is_member(
        &with("2005", &["IN"]),
        &data,
        today
    ));
    assert!(me66_exclusion_is_member(&with("2005", &[]), &data, today));
    assert!(!me66_exclusion_is_member(
        &with("2005", &["CN"]),
        &data,
        today
    ));
    // VN left the group.
    assert!(!me66_exclusion_is_member(
        &with("2005", &["VN"]),
        &data,
        today
    ));
    assert!(me66_exclusion_is_member(
        &with("2005", &["VN"]),
        &data,
        day("2023-01-01")
    ));
    // A country has no members.
    assert!(!me66_exclusion_is_member(
        &with("CN", &["IN"]),
        &data,
        today
    ));
}

// ---------------------------------------------------------------------------------------
// Calculation

fn req(commodity: &str, origin: &str, value: &str) -> CalcRequest {
    CalcRequest {
        commodity: GoodsCode::new(commodity).unwrap(),
        origin: origin.to_owned(),
        date: day(TODAY),
        customs_value: d(value),
        quantities: Quantities::new(),
        additional_codes: vec![],
        documents: vec![],
        unit_price: None,
        meursing_code: None,
        exchange_rates: Vec::new(),
    }
}

fn calc(ancestors: &[&str], r: &CalcRequest) -> Calculation {
    calculate(&fixture(), &anc(ancestors), r).unwrap()
}

/// (kind, measure SID, total) of each option.
fn summary(c: &Calculation) -> Vec<(OptionKind, u64, Decimal)> {
    c.options
        .iter()
        .map(|o| (o.kind, o.measure_sid, o.total))
        .collect()
}

const BIKE: &[&str] = &["87", "8712", "8712003010"];

#[test]
fn third_country_only() {
    let c = calc(TOM, &req("0702000007", "CN", "1000"));
    assert_eq!(
        summary(&c),
        vec![(OptionKind::ThirdCountry, 2, d("120.00"))]
    );
    assert_eq!(c.cheapest, Some(0));
    let line = &c.options[0].duty;
    assert_eq!(line.description, "Third country duty");
    assert_eq!(line.formula, "12.00% × 1,000.00 = 120.00");
    assert_eq!(line.currency, "EUR");
    assert!(c.prohibitions.is_empty());
}

#[test]
fn preference_cheaper_than_third_country() {
    let c = calc(TOM, &req("0702000007", "BD", "1000"));
    assert_eq!(
        summary(&c),
        vec![
            (OptionKind::ThirdCountry, 2, d("120.00")),
            (OptionKind::Preference, 3, d("35.00")),
        ]
    );
    assert_eq!(c.cheapest, Some(1));
    // Excluded from the preference.
    let c = calc(TOM, &req("0702000007", "IN", "1000"));
    assert_eq!(c.options.len(), 1);
}

#[test]
fn quota_option_with_order_number() {
    let c = calc(TOM, &req("0702000007", "MA", "1000"));
    assert_eq!(
        summary(&c),
        vec![
            (OptionKind::ThirdCountry, 2, d("120.00")),
            (OptionKind::Quota, 5, d("0.00")),
        ]
    );
    assert_eq!(c.options[1].order_number.as_deref(), Some("091104"));
    assert_eq!(c.options[0].order_number, None);
    assert_eq!(c.cheapest, Some(1));
}

#[test]
fn anti_dumping_stacked_only_with_the_matching_additional_code() {
    let mut r = req("8712003010", "CN", "1000");
    r.additional_codes = vec!["C999".to_owned()];
    let c = calc(BIKE, &r);
    let o = &c.options[0];
    let lines: Vec<(&str, u64, Decimal)> = o
        .lines()
        .map(|l| (l.measure_type_id.as_str(), l.measure_sid, l.amount))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("103", 10, d("140.00")),
            ("552", 11, d("485.00")),
            ("305", 14, d("325.00")),
        ]
    );
    assert_eq!(o.total, d("950.00"));

    r.additional_codes = vec!["B123".to_owned()];
    let c = calc(BIKE, &r);
    let o = &c.options[0];
    let stacked = &o.shared[0];
    assert_eq!(stacked.measure_sid, 12);
    assert_eq!(stacked.amount, d("192.00"));
    assert_eq!(o.total, d("598.40"));

    // No additional code for an origin with anti-dumping: an explicit error.
    r.additional_codes = vec![];
    let err = calculate(&fixture(), &anc(BIKE), &r).unwrap_err();
    assert_eq!(
        err,
        CalcError::AdditionalCodeRequired {
            measure_type_id: "552".to_owned(),
            codes: vec!["B123".to_owned(), "C999".to_owned()],
        }
    );

    // Another origin: no anti-dumping, no code needed.
    let c = calc(BIKE, &req("8712003010", "IN", "1000"));
    let types: Vec<&str> = c.options[0]
        .lines()
        .map(|l| l.measure_type_id.as_str())
        .collect();
    assert_eq!(types, vec!["103", "305"]);
}

#[test]
fn vat_on_customs_value_plus_duties() {
    let c = calc(BIKE, &req("8712003010", "IN", "1000"));
    let o = &c.options[0];
    assert_eq!(o.vat_base, d("1140.00"));
    let vat = o.lines().last().unwrap();
    assert_eq!(vat.measure_type_id, "305");
    assert_eq!(vat.description, "Value added tax");
    assert_eq!(vat.amount, d("228.00"));
    assert_eq!(vat.formula, "20.00% × 1,140.00 = 228.00");
    assert_eq!(o.total, d("368.00"));
}

#[test]
fn excise_per_unit_and_vat_on_it() {
    let mut r = req("2208301100", "CN", "1000");
    r.quantities = Quantities::new().with("LTR", d("100"));
    let c = calc(&["22", "2208", "2208301100"], &r);
    let o = &c.options[0];
    let lines: Vec<(&str, Decimal)> = o
        .lines()
        .map(|l| (l.measure_type_id.as_str(), l.amount))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("103", d("0.00")),
            ("306", d("250.00")),
            ("305", d("250.00"))
        ]
    );
    assert_eq!(o.shared[0].description, "Excises");
    assert_eq!(o.vat_base, d("1250.00"));
    assert_eq!(o.total, d("500.00"));

    // The excise needs the quantity.
    let err = calculate(
        &fixture(),
        &anc(&["22", "2208", "2208301100"]),
        &req("2208301100", "CN", "1000"),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        CalcError::Duty {
            measure_sid: 21,
            cause: DutyError::MissingQuantity { .. }
        }
    ));
}

#[test]
fn prohibition_reported() {
    let c = calc(&["93", "9305"], &req("9305000000", "KP", "1000"));
    assert_eq!(c.prohibitions.len(), 1);
    assert_eq!(c.prohibitions[0].measure_sid, 51);
    assert_eq!(c.prohibitions[0].description, "Import prohibition");
    // Options are still shown.
    assert_eq!(
        summary(&c),
        vec![(OptionKind::ThirdCountry, 50, d("32.00"))]
    );
    // Not for another origin.
    assert!(calc(&["93", "9305"], &req("9305000000", "CN", "1000"))
        .prohibitions
        .is_empty());

    // Conditional prohibition: lifted by the certificate.
    let mut r = req("0106000000", "CN", "1000");
    let c = calc(&["01", "0106"], &r);
    assert_eq!(c.prohibitions.len(), 1);
    assert_eq!(c.prohibitions[0].measure_sid, 53);
    assert!(
        c.prohibitions[0].reason.contains("04"),
        "{}",
        c.prohibitions[0].reason
    );
    r.documents = vec!["C400".to_owned()];
    assert!(calc(&["01", "0106"], &r).prohibitions.is_empty());
}

#[test]
fn entry_price_ladder_via_condition_v() {
    let cases = [
        ("105", "120.00"),
        ("100", "120.00"),
        ("99", "140.00"),
        ("50", "320.00"),
    ];
    for (price, total) in cases {
        let mut r = req("0707000000", "MA", "1000");
        r.quantities = Quantities::new().with("KGM", d("1000"));
        r.unit_price = Some(d(price));
        let c = calc(&["07", "0707"], &r);
        assert_eq!(c.options[0].total, d(total), "unit price {price}");
    }
    // Without the unit price: an explicit error.
    let err = calculate(
        &fixture(),
        &anc(&["07", "0707"]),
        &req("0707000000", "MA", "1000"),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        CalcError::Duty {
            measure_sid: 30,
            cause: DutyError::MissingUnitPrice { .. }
        }
    ));
}

#[test]
fn document_condition() {
    let mut r = req("0406000000", "CH", "1000");
    let c = calc(&["04", "0406"], &r);
    assert_eq!(
        summary(&c),
        vec![(OptionKind::ThirdCountry, 40, d("80.00"))]
    );
    r.documents = vec!["N954".to_owned()];
    let c = calc(&["04", "0406"], &r);
    assert_eq!(
        summary(&c),
        vec![
            (OptionKind::ThirdCountry, 40, d("80.00")),
            (OptionKind::Preference, 41, d("0.00")),
        ]
    );
    assert_eq!(c.cheapest, Some(1));
    // Not applicable (action 07) is not a prohibition.
    assert!(c.prohibitions.is_empty());
}

#[test]
fn cheapest_selection_and_ties() {
    // Tie: the third-country duty comes first and wins.
    let c = calc(&["08", "0805"], &req("0805000000", "CN", "1000"));
    assert_eq!(
        summary(&c),
        vec![
            (OptionKind::ThirdCountry, 45, d("0.00")),
            (OptionKind::Preference, 46, d("0.00")),
        ]
    );
    assert_eq!(c.cheapest, Some(0));
    // No options at all.
    let c = calc(&["01", "0101"], &req("0101000000", "CN", "1000"));
    assert!(c.options.is_empty());
    assert_eq!(c.cheapest, None);
}

#[test]
fn golden_full_calculation() {
    let mut r = req("8712003010", "CN", "1234.56");
    r.additional_codes = vec!["C999".to_owned()];
    let c = calc(BIKE, &r);
    insta::assert_json_snapshot!("measures_full_calculation", c);
}

// ---------------------------------------------------------------------------------------
// Properties

fn any_request() -> impl Strategy<Value = (usize, CalcRequest)> {
    let commodities: Vec<(&'static [&'static str], &'static str)> = vec![
        (TOM, "0702000007"),
        (&["07", "0709"], "0709000000"),
        (&["07", "0707"], "0707000000"),
        (&["04", "0406"], "0406000000"),
        (BIKE, "8712003010"),
        (&["22", "2208", "2208301100"], "2208301100"),
        (&["93", "9305"], "9305000000"),
        (&["08", "0805"], "0805000000"),
    ];
    let n = commodities.len();
    (
        0..n,
        prop::sample::select(vec!["CN", "IN", "VN", "BD", "MA", "CH", "KP", "DE"]),
        0i64..100_000_000,
        prop::sample::select(vec!["C999", "B123"]),
        any::<bool>(),
        0i64..20_000,
        1i64..100_000,
        0i64..3000,
    )
        .prop_map(move |(i, origin, cents, addl, cert, price, kg, days)| {
            let (_, commodity) = commodities[i];
            let mut r = req(commodity, origin, "0");
            r.customs_value = Decimal::new(cents, 2);
            r.additional_codes = vec![addl.to_owned()];
            if cert {
                r.documents = vec!["N954".to_owned(), "C400".to_owned()];
            }
            r.unit_price = Some(Decimal::new(price, 2));
            r.quantities = Quantities::new()
                .with("KGM", Decimal::new(kg, 1))
                .with("LTR", Decimal::new(kg, 2));
            r.date = day("2018-01-01") + chrono::Days::new(u64::try_from(days).unwrap());
            (i, r)
        })
}

fn ancestors_of(i: usize) -> Vec<GoodsCode> {
    let all: [&[&str]; 8] = [
        TOM,
        &["07", "0709"],
        &["07", "0707"],
        &["04", "0406"],
        BIKE,
        &["22", "2208", "2208301100"],
        &["93", "9305"],
        &["08", "0805"],
    ];
    anc(all[i])
}

proptest! {
    #[test]
    fn total_is_the_sum_of_lines_and_cheapest_is_minimal((i, r) in any_request()) {
        let data = fixture();
        let c = calculate(&data, &ancestors_of(i), &r).unwrap();
        for o in &c.options {
            let sum: Decimal = o.lines().map(|l| l.amount).sum();
            prop_assert_eq!(o.total, sum);
            prop_assert!(o.lines().all(|l| l.amount.scale() == 2));
            prop_assert_eq!(o.lines().len(), o.line_count());
        }
        // The shared lines serialize into each option's `lines` and read back into place.
        let back: Calculation = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
        prop_assert_eq!(&back, &c);
        match c.cheapest {
            Some(k) => {
                let best = c.options[k].total;
                prop_assert!(c.options.iter().all(|o| best <= o.total));
                prop_assert!(c.options[..k].iter().all(|o| best < o.total));
            }
            None => prop_assert!(c.options.is_empty()),
        }
    }
}
