//! National measures: draft shape, TARIC business rules, what a draft does to the measures,
//! and the layer records it writes (read back by `layer::build`).
//!
//! Fixture ("today", the decision date, is 2025-03-01):
//! - nomenclature: chapter 22, heading 2208, intermediate line 2208300000-10, under it
//!   2208301100 (from 2020) and 2208309900 (2020 to 2025-12-31);
//! - areas: groups 1011 and 1013 {DE, FR}, countries CN, DE, FR, US, region XK (ended
//!   2020-12-31);
//! - measures: common 103 on 2208301100 (SID 500); national VAT 305 21 % on heading 2208
//!   from 2024-01-01 (SID 1000000000001); national excise 306 on 2208309900 from 2026-01-01
//!   (SID 1000000000002, not yet in force).

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::NaiveDate;
use portorium_tariff::duty::MeasureComponent;
use portorium_tariff::layer::{build, changes_from_nomenclature, Change, RecordRef};
use portorium_tariff::measures::{
    AreaKind, GeographicalArea, Measure, Membership, Regulation, TariffData, Validity,
};
use portorium_tariff::national::{
    layer_changes, plan, validate, DraftOp, MeasureChange, NationalMeasureDraft,
};
use portorium_tariff::nomenclature::{GoodsCode, Nomenclature, NomenclatureItem};
use rust_decimal::Decimal;
use serde_json::{json, Value};

const VAT_SID: u64 = 1_000_000_000_001;
const FUTURE_SID: u64 = 1_000_000_000_002;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn today() -> NaiveDate {
    day("2025-03-01")
}

fn item(code: &str, suffix: &str, indent: u32, from: &str, to: Option<&str>) -> NomenclatureItem {
    let mut it = NomenclatureItem::new(
        GoodsCode::with_suffix(code, suffix).unwrap(),
        indent,
        format!("line {code}"),
    );
    it.valid_from = Some(day(from));
    it.valid_to = to.map(day);
    it.declarable = suffix == "80" && indent == 3;
    it
}

fn items() -> Vec<NomenclatureItem> {
    vec![
        item("2200000000", "80", 0, "1990-01-01", None),
        item("2208000000", "80", 1, "1990-01-01", None),
        item("2208300000", "10", 2, "2020-01-01", None),
        item("2208301100", "80", 3, "2020-01-01", None),
        item("2208309900", "80", 3, "2020-01-01", Some("2025-12-31")),
    ]
}

fn nomenclature() -> Nomenclature {
    Nomenclature::new(items()).unwrap()
}

/// (id, sid, geographical.code, start, end)
const AREAS: [(&str, u64, &str, &str, Option<&str>); 8] = [
    ("1011", 1, "1", "1958-01-01", None),
    ("1013", 2, "1", "1958-01-01", None),
    ("CN", 3, "0", "1958-01-01", None),
    ("DE", 4, "0", "1958-01-01", None),
    ("FR", 5, "0", "1958-01-01", None),
    ("US", 6, "0", "1958-01-01", None),
    ("XK", 7, "2", "1999-01-01", Some("2020-12-31")),
    ("CH", 8, "0", "1958-01-01", None),
];

fn pct(p: &str) -> MeasureComponent {
    MeasureComponent::ad_valorem("01", Decimal::from_str(p).unwrap())
}

fn existing(sid: u64, ty: &str, goods: &str, v: Validity, national: bool) -> Measure {
    Measure {
        sid,
        measure_type: ty.to_owned(),
        goods_code: GoodsCode::from_prefix(goods).unwrap(),
        geographical_area: "1011".to_owned(),
        excluded_areas: vec![],
        additional_code: None,
        order_number: None,
        regulation: Some("NATIONAL".to_owned()),
        validity: v,
        components: vec![pct("21")],
        conditions: vec![],
        footnotes: vec![],
        national,
    }
}

fn tariff() -> TariffData {
    let areas = AREAS
        .iter()
        .map(|(id, _, code, from, to)| GeographicalArea {
            id: (*id).to_owned(),
            kind: match *code {
                "0" => AreaKind::Country,
                "1" => AreaKind::Group,
                _ => AreaKind::Region,
            },
            validity: Validity::new(day(from), to.map(day)),
        })
        .collect();
    let mut memberships: Vec<Membership> = ["DE", "FR"]
        .iter()
        .map(|m| Membership {
            group: "1013".to_owned(),
            member: (*m).to_owned(),
            validity: Validity::from(day("1958-01-01")),
        })
        .collect();
    // CH leaves group 1013 at the end of June 2025.
    memberships.push(Membership {
        group: "1013".to_owned(),
        member: "CH".to_owned(),
        validity: Validity::new(day("1958-01-01"), Some(day("2025-06-30"))),
    });
    let mut third = existing(
        500,
        "103",
        "2208301100",
        Validity::from(day("2020-01-01")),
        false,
    );
    third.regulation = Some("R2000000".to_owned());
    let mut excise = existing(
        FUTURE_SID,
        "306",
        "2208309900",
        Validity::new(day("2026-01-01"), Some(day("2026-12-31"))),
        true,
    );
    excise.components = vec![MeasureComponent::specific(
        "01",
        Decimal::from(15),
        "EUR",
        "HLT",
    )];
    TariffData::new(
        vec![
            third,
            existing(
                VAT_SID,
                "305",
                "2208",
                Validity::from(day("2024-01-01")),
                true,
            ),
            excise,
        ],
        areas,
        memberships,
        // A national regulation of 2025 only.
        vec![Regulation {
            id: "N2025001".to_owned(),
            validity: Validity::new(day("2025-01-01"), Some(day("2025-12-31"))),
        }],
    )
}

fn draft(v: Value) -> NationalMeasureDraft {
    serde_json::from_value(v).unwrap()
}

/// A valid `create` draft, changed by `patch` (fields set, or removed when null).
fn create(patch: Value) -> Value {
    let mut base = json!({
        "operation": "create",
        "measure_type": "306",
        "goods_code": "2208301100",
        "validity": {"start": "2025-04-01"},
        "components": [{"duty_expression_id": "01", "amount": "15.50", "monetary_unit": "EUR", "measurement_unit": "HLT"}],
        "legal_base": "Wet op de accijns, art. 26",
    });
    let obj = base.as_object_mut().unwrap();
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            obj.remove(k);
        } else {
            obj.insert(k.clone(), v.clone());
        }
    }
    base
}

/// The rules violated by a draft (rule@pointer), or the shape errors (`shape@pointer`).
fn outcome(v: Value) -> Vec<String> {
    match draft(v).resolve() {
        Err(errors) => errors
            .iter()
            .map(|e| {
                format!(
                    "shape{}@{}",
                    if e.missing { "-missing" } else { "" },
                    e.pointer
                )
            })
            .collect(),
        Ok(op) => validate(&op, &tariff(), &nomenclature(), today())
            .iter()
            .map(|v| format!("{}@{}", v.rule, v.pointer))
            .collect(),
    }
}

fn check(cases: &[(&str, Value, &[&str])]) {
    let mut failures = Vec::new();
    for (name, v, expected) in cases {
        let got = outcome(v.clone());
        if got != *expected {
            failures.push(format!("{name}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn valid_drafts_pass() {
    check(&[
        ("excise per hl on a commodity", create(json!({})), &[]),
        (
            "VAT before the heading's VAT starts",
            create(json!({"measure_type": "305", "goods_code": "2208309900",
                "validity": {"start": "2020-01-01", "end": "2023-12-31"},
                "components": [{"duty_expression_id": "01", "amount": "19"}]})),
            &[],
        ),
        (
            "VAT for another area does not overlap",
            create(json!({"measure_type": "305", "geographical_area": "CN",
                "components": [{"duty_expression_id": "01", "amount": "9"}]})),
            &[],
        ),
        (
            "a national VAT type (alphabetic)",
            create(json!({"measure_type": "VTS", "geographical_area": "CN",
                "components": [{"duty_expression_id": "01", "amount": "21"}]})),
            &[],
        ),
        (
            "prohibition with an exclusion and a document condition",
            create(json!({"measure_type": "277", "geographical_area": "1013",
                "excluded_areas": ["DE"], "components": null,
                "conditions": [
                    {"code": "Y", "certificate": "C400", "action": "26"},
                    {"code": "Y", "action": "08"}
                ],
                "footnotes": ["NL001", "TN701"]})),
            &[],
        ),
        (
            "excise with a threshold condition",
            create(
                json!({"conditions": [{"code": "E", "threshold_amount": "100", "threshold_unit": "LTR",
                "action": "01", "components": [{"duty_expression_id": "01", "amount": "0"}]}]}),
            ),
            &[],
        ),
        (
            "a chapter-level code",
            create(json!({"goods_code": "22", "measure_type": "305",
                "validity": {"start": "2020-01-01", "end": "2023-12-31"},
                "components": [{"duty_expression_id": "01", "amount": "21"}]})),
            &[],
        ),
        (
            "modify the VAT in force from a later date",
            json!({"operation": "modify", "measure_sid": VAT_SID, "measure_type": "305",
                "goods_code": "2208", "validity": {"start": "2025-07-01"},
                "components": [{"duty_expression_id": "01", "amount": "9"}]}),
            &[],
        ),
        (
            "modify a measure not yet in force, in place",
            json!({"operation": "modify", "measure_sid": FUTURE_SID, "measure_type": "306",
                "goods_code": "2208309900", "validity": {"start": "2025-06-01", "end": "2025-12-31"},
                "components": [{"duty_expression_id": "01", "amount": "16", "monetary_unit": "EUR", "measurement_unit": "HLT"}]}),
            &[],
        ),
        (
            "end the VAT",
            json!({"operation": "end", "measure_sid": VAT_SID, "validity": {"end": "2026-12-31"}}),
            &[],
        ),
        (
            "delete a measure not yet in force",
            json!({"operation": "delete", "measure_sid": FUTURE_SID}),
            &[],
        ),
    ]);
}

#[test]
fn business_rules_are_enforced() {
    check(&[
        (
            "a common type in a national layer",
            create(json!({"measure_type": "103"})),
            &["NAT1@/measure_type", "ME32@/validity/start"],
        ),
        (
            "an unknown national type",
            create(json!({"measure_type": "QQZ"})),
            &["ME2@/measure_type"],
        ),
        (
            "an unknown area",
            create(json!({"geographical_area": "QQ"})),
            &["ME4@/geographical_area"],
        ),
        (
            "an area that no longer exists",
            create(json!({"geographical_area": "XK"})),
            &["ME5@/geographical_area"],
        ),
        (
            "an unknown goods code",
            create(json!({"goods_code": "2299000000"})),
            &["ME6@/goods_code"],
        ),
        (
            "an intermediate line",
            create(json!({"goods_code": "2208300000-10", "geographical_area": "CN"})),
            &["ME7@/goods_code"],
        ),
        (
            "open-ended on a code that ends",
            create(json!({"goods_code": "2208309900", "geographical_area": "CN"})),
            &["ME8@/goods_code"],
        ),
        (
            "before the code exists",
            create(json!({"validity": {"start": "2019-01-01", "end": "2019-12-31"}})),
            &["ME8@/goods_code"],
        ),
        (
            "end before start",
            create(json!({"validity": {"start": "2025-04-01", "end": "2025-03-31"}})),
            &["ME25@/validity/end"],
        ),
        (
            "VAT overlapping the heading's VAT (hierarchy)",
            create(json!({"measure_type": "305",
                "components": [{"duty_expression_id": "01", "amount": "9"}]})),
            &["ME32@/validity/start"],
        ),
        (
            "VAT without components",
            create(json!({"measure_type": "305", "goods_code": "2208309900",
                "validity": {"start": "2020-01-01", "end": "2020-12-31"}, "components": null})),
            &["ME40@/components"],
        ),
        (
            "a prohibition with a duty",
            create(json!({"measure_type": "277"})),
            &["ME40@/components"],
        ),
        (
            "component amount missing, expression unknown, used twice",
            create(json!({"components": [
                {"duty_expression_id": "01"},
                {"duty_expression_id": "98", "amount": "1"},
                {"duty_expression_id": "01", "amount": "1"}
            ]})),
            &[
                "ME45@/components/0/amount",
                "ME41@/components/1/duty_expression_id",
                "ME43@/components/2/duty_expression_id",
            ],
        ),
        (
            "nothing (37) with an amount and a currency",
            create(
                json!({"components": [{"duty_expression_id": "37", "amount": "1", "monetary_unit": "EUR"}]}),
            ),
            &[
                "ME45@/components/0/amount",
                "ME46@/components/0/monetary_unit",
            ],
        ),
        (
            "supplementary unit (99) without its unit",
            create(json!({"components": [
                {"duty_expression_id": "01", "amount": "2"},
                {"duty_expression_id": "99"}
            ]})),
            &["ME47@/components/1/measurement_unit"],
        ),
        (
            "unknown currency, foreign currency, unknown unit and qualifier",
            create(json!({"components": [
                {"duty_expression_id": "01", "amount": "2", "monetary_unit": "XYZ", "measurement_unit": "HLT"},
                {"duty_expression_id": "04", "amount": "2", "monetary_unit": "USD", "measurement_unit": "HLT"},
                {"duty_expression_id": "06", "amount": "2", "monetary_unit": "EUR", "measurement_unit": "QQQ", "qualifier": "Q"}
            ]})),
            &[
                "ME48@/components/0/monetary_unit",
                "NAT5@/components/1/monetary_unit",
                "ME50@/components/2/measurement_unit",
                "ME50@/components/2/qualifier",
            ],
        ),
        (
            "a negative amount (the engine's own check)",
            create(json!({"components": [{"duty_expression_id": "01", "amount": "-1"}]})),
            &["ME45@/components/0/amount"],
        ),
        (
            "exclusions: not a member, twice",
            create(
                json!({"measure_type": "277", "components": null, "geographical_area": "1013",
                "excluded_areas": ["US", "DE", "DE"]}),
            ),
            &["ME66@/excluded_areas/0", "ME68@/excluded_areas/2"],
        ),
        (
            "an excluded member that leaves the group during the validity",
            create(
                json!({"measure_type": "277", "components": null, "geographical_area": "1013",
                "excluded_areas": ["CH"]}),
            ),
            &["ME67@/excluded_areas/0"],
        ),
        (
            "an excluded member for the whole validity",
            create(
                json!({"measure_type": "277", "components": null, "geographical_area": "1013",
                "excluded_areas": ["CH"], "validity": {"start": "2025-04-01", "end": "2025-06-30"}}),
            ),
            &[],
        ),
        (
            "within its regulation, open-ended (the regulation's end applies)",
            create(json!({"regulation": "N2025001"})),
            &[],
        ),
        (
            "beyond its regulation's end",
            create(json!({"regulation": "N2025001",
                "validity": {"start": "2025-04-01", "end": "2026-03-31"}})),
            &["ME87@/validity"],
        ),
        (
            "before its regulation's start",
            create(json!({"regulation": "N2025001",
                "validity": {"start": "2024-12-01", "end": "2025-03-31"}, "goods_code": "2208309900"})),
            &["ME87@/validity"],
        ),
        (
            "an exclusion from a country",
            create(
                json!({"measure_type": "277", "components": null, "geographical_area": "CN",
                "excluded_areas": ["US"]}),
            ),
            &["ME65@/excluded_areas/0"],
        ),
        (
            "an unknown excluded area",
            create(json!({"measure_type": "277", "components": null, "excluded_areas": ["QQ"]})),
            &["ME4@/excluded_areas/0"],
        ),
        (
            "conditions: unknown action, duplicate document, bad component",
            create(json!({"conditions": [
                {"code": "B", "certificate": "N954", "action": "99"},
                {"code": "B", "certificate": "N954", "action": "01",
                 "components": [{"duty_expression_id": "01"}]}
            ]})),
            &[
                "ME59@/conditions/0/action",
                "ME58@/conditions/1",
                "ME109@/conditions/1/components/0/amount",
            ],
        ),
        (
            "a footnote twice",
            create(json!({"footnotes": ["TN701", "TN701"]})),
            &["ME70@/footnotes/1"],
        ),
        (
            "every violation is listed",
            create(
                json!({"measure_type": "103", "geographical_area": "QQ", "goods_code": "2299000000",
                "validity": {"start": "2025-04-01", "end": "2025-01-01"},
                "components": [{"duty_expression_id": "01"}]}),
            ),
            &[
                "NAT1@/measure_type",
                "ME25@/validity/end",
                "ME4@/geographical_area",
                "ME6@/goods_code",
                "ME45@/components/0/amount",
            ],
        ),
        (
            "modify a common measure",
            json!({"operation": "modify", "measure_sid": 500, "measure_type": "305",
                "goods_code": "2208301100", "validity": {"start": "2025-07-01"},
                "components": [{"duty_expression_id": "01", "amount": "9"}]}),
            &["NAT2@/measure_sid"],
        ),
        (
            "end an unknown measure",
            json!({"operation": "end", "measure_sid": 42, "validity": {"end": "2026-12-31"}}),
            &["NAT2@/measure_sid"],
        ),
        (
            "delete a measure in force",
            json!({"operation": "delete", "measure_sid": VAT_SID}),
            &["NAT3@/measure_sid"],
        ),
        (
            "a new version of a measure in force from its own start",
            json!({"operation": "modify", "measure_sid": VAT_SID, "measure_type": "305",
                "goods_code": "2208", "validity": {"start": "2024-01-01"},
                "components": [{"duty_expression_id": "01", "amount": "9"}]}),
            &["NAT4@/validity/start"],
        ),
        (
            "end a measure before it starts",
            json!({"operation": "end", "measure_sid": FUTURE_SID, "validity": {"end": "2025-12-31"}}),
            &["ME25@/validity/end"],
        ),
        (
            "a modification that would overlap another measure",
            json!({"operation": "modify", "measure_sid": FUTURE_SID, "measure_type": "305",
                "goods_code": "2208309900", "validity": {"start": "2025-06-01", "end": "2025-12-31"},
                "components": [{"duty_expression_id": "01", "amount": "9"}]}),
            &["ME32@/validity/start"],
        ),
    ]);
}

#[test]
fn draft_shape_is_checked_before_rules() {
    check(&[
        (
            "create with a SID",
            create(json!({"measure_sid": 7})),
            &["shape@/measure_sid"],
        ),
        (
            "create without type, code and start",
            json!({"operation": "create"}),
            &[
                "shape-missing@/measure_type",
                "shape-missing@/goods_code",
                "shape-missing@/validity/start",
            ],
        ),
        (
            "end without SID and date",
            json!({"operation": "end"}),
            &["shape-missing@/measure_sid", "shape-missing@/validity/end"],
        ),
        (
            "delete carrying content",
            json!({"operation": "delete", "measure_sid": 1, "components": [{"duty_expression_id": "01", "amount": "1"}]}),
            &["shape@/components"],
        ),
        (
            "malformed fields",
            create(
                json!({"goods_code": "22x8", "measure_type": "3055", "geographical_area": "c",
                "footnotes": ["TN70A"], "order_number": "12",
                "components": [{"duty_expression_id": "1", "amount": "1", "monetary_unit": "eur"}]}),
            ),
            &[
                "shape@/measure_type",
                "shape@/goods_code",
                "shape@/geographical_area",
                "shape@/order_number",
                "shape@/components/0/duty_expression_id",
                "shape@/components/0/monetary_unit",
                "shape@/footnotes/0",
            ],
        ),
    ]);
    // Unknown fields are refused when the draft is read.
    let err = serde_json::from_value::<NationalMeasureDraft>(
        json!({"operation": "create", "colour": "red"}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown field `colour`"), "{err}");
}

#[test]
fn plan_never_rewrites_the_past() {
    let data = tariff();
    let mut next = 9_000u64;
    let mut sids = || {
        next += 1;
        next
    };
    // In force: end the old one the day before, create the new version.
    let op = draft(
        json!({"operation": "modify", "measure_sid": VAT_SID, "measure_type": "305",
        "goods_code": "2208", "validity": {"start": "2025-07-01"},
        "components": [{"duty_expression_id": "01", "amount": "9"}]}),
    )
    .resolve()
    .unwrap();
    let changes = plan(&op, &data, today(), &mut sids).unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(
        changes[0],
        MeasureChange::SetEnd {
            sid: VAT_SID,
            end: day("2025-06-30")
        }
    );
    let MeasureChange::Create(m) = &changes[1] else {
        panic!("{changes:?}")
    };
    assert_eq!((m.sid, m.national), (9_001, true));
    assert_eq!(m.components, vec![pct("9")]);
    // Not yet in force: replaced in place.
    let op = DraftOp::Modify {
        sid: FUTURE_SID,
        spec: op.spec().unwrap().clone(),
    };
    let changes = plan(&op, &data, today(), &mut sids).unwrap();
    assert!(matches!(&changes[..], [MeasureChange::Replace(m)] if m.sid == FUTURE_SID));
    // On the day a measure starts it is in force: no deletion.
    let op = DraftOp::Delete { sid: FUTURE_SID };
    assert!(plan(&op, &data, day("2026-01-01"), &mut sids).is_err());
    assert!(plan(&op, &data, day("2025-12-31"), &mut sids).is_ok());
}

// ---- layer records ----

fn common_layer() -> Vec<Change> {
    let mut out = changes_from_nomenclature(&items());
    for (id, sid, code, from, to) in AREAS {
        let mut p = json!({"geographical.area.sid": sid.to_string(), "geographical.area.id": id,
            "validity.start.date": from, "geographical.code": code});
        if let Some(to) = to {
            p["validity.end.date"] = json!(to);
        }
        out.push(change("geographical.area", &sid.to_string(), p));
    }
    for member in [4u64, 5] {
        out.push(change(
            "geographical.area.membership",
            &format!("{member}/2/1958-01-01"),
            json!({"geographical.area.sid": member.to_string(), "geographical.area.group.sid": "2",
                "validity.start.date": "1958-01-01"}),
        ));
    }
    out
}

fn change(kind: &str, key: &str, payload: Value) -> Change {
    Change {
        kind: kind.to_owned(),
        key: key.to_owned(),
        valid_from: None,
        valid_to: None,
        payload,
        delete: false,
    }
}

/// A layer as the store keeps it: current records by (kind, key), changes applied in order.
#[derive(Default)]
struct Layer(BTreeMap<(String, String), Value>);

impl Layer {
    fn apply(&mut self, changes: &[Change]) {
        for c in changes {
            let k = (c.kind.clone(), c.key.clone());
            if c.delete {
                assert!(self.0.remove(&k).is_some(), "delete of a missing {k:?}");
            } else {
                self.0.insert(k, c.payload.clone());
            }
        }
    }

    fn refs(&self) -> Vec<RecordRef<'_>> {
        self.0
            .iter()
            .map(|((kind, key), payload)| RecordRef { kind, key, payload })
            .collect()
    }
}

fn area_sids() -> BTreeMap<String, u64> {
    AREAS
        .iter()
        .map(|(id, sid, ..)| ((*id).to_owned(), *sid))
        .collect()
}

fn built(common: &[Change], national: &Layer) -> Vec<Measure> {
    let mut refs: Vec<RecordRef<'_>> = common.iter().map(RecordRef::from).collect();
    refs.extend(national.refs());
    build(refs).unwrap().tariff.measures
}

#[test]
fn layer_records_round_trip_through_build() {
    let common = common_layer();
    let mut national = Layer::default();
    let mut next = 1_000_000_000_100u64;
    let mut sids = || {
        next += 1;
        next
    };
    let data = TariffData::default();
    let op = draft(create(
        json!({"measure_type": "277", "components": null, "geographical_area": "1013",
        "excluded_areas": ["DE"], "additional_code": "X123",
        "conditions": [
            {"code": "Y", "certificate": "C400", "action": "26"},
            {"code": "E", "threshold_amount": "100", "threshold_unit": "DTNR", "action": "01",
             "components": [{"duty_expression_id": "01", "amount": "3"}]},
            {"code": "Y", "action": "08"}
        ],
        "footnotes": ["TN701"]}),
    ))
    .resolve()
    .unwrap();
    let planned = plan(&op, &data, today(), &mut sids).unwrap();
    let changes = layer_changes(
        &planned,
        &national.refs(),
        &area_sids(),
        Some("Opiumwet art. 2"),
        &mut sids,
    )
    .unwrap();
    national.apply(&changes);
    let measures = built(&common, &national);
    let MeasureChange::Create(expected) = &planned[0] else {
        panic!()
    };
    assert_eq!(measures, vec![expected.clone()]);
    let record = &national.0[&("measure".to_owned(), expected.sid.to_string())];
    assert_eq!(record["national"], json!(true));
    assert_eq!(record["national.legal.base"], json!("Opiumwet art. 2"));
    assert_eq!(
        record["measure.generating.regulation.id"],
        json!("NATIONAL")
    );

    // Modify it from a later date: the old one ends, a new one starts.
    let data = TariffData::new(measures, vec![], vec![], vec![]);
    let op = draft(json!({"operation": "modify", "measure_sid": expected.sid, "measure_type": "277",
        "goods_code": "2208301100", "geographical_area": "1011", "validity": {"start": "2025-05-01"}}))
    .resolve()
    .unwrap();
    let planned = plan(&op, &data, day("2025-04-15"), &mut sids).unwrap();
    let changes = layer_changes(&planned, &national.refs(), &area_sids(), None, &mut sids).unwrap();
    national.apply(&changes);
    let measures = built(&common, &national);
    assert_eq!(measures.len(), 2);
    assert_eq!(measures[0].sid, expected.sid);
    assert_eq!(measures[0].validity.end, Some(day("2025-04-30")));
    assert_eq!(measures[0].conditions, expected.conditions);
    assert_eq!(measures[1].validity, Validity::from(day("2025-05-01")));
    assert!(measures[1].conditions.is_empty() && measures[1].excluded_areas.is_empty());

    // Replace the new one before it starts, then delete it: its children go with it.
    let data = TariffData::new(measures.clone(), vec![], vec![], vec![]);
    let op = draft(
        json!({"operation": "modify", "measure_sid": measures[1].sid, "measure_type": "277",
        "goods_code": "2208301100", "validity": {"start": "2025-06-01"},
        "conditions": [{"code": "Y", "certificate": "C400", "action": "26",
            "components": [{"duty_expression_id": "01", "amount": "1"}]}]}),
    )
    .resolve()
    .unwrap();
    let planned = plan(&op, &data, day("2025-04-15"), &mut sids).unwrap();
    assert!(matches!(planned[..], [MeasureChange::Replace(_)]));
    national
        .apply(&layer_changes(&planned, &national.refs(), &area_sids(), None, &mut sids).unwrap());
    let after = built(&common, &national);
    assert_eq!(after[1].conditions.len(), 1);
    assert_eq!(after[1].conditions[0].components, vec![pct("1")]);
    let records_before = national.0.len();
    let op = DraftOp::Delete { sid: after[1].sid };
    let data = TariffData::new(after.clone(), vec![], vec![], vec![]);
    let planned = plan(&op, &data, day("2025-04-15"), &mut sids).unwrap();
    national
        .apply(&layer_changes(&planned, &national.refs(), &area_sids(), None, &mut sids).unwrap());
    // Measure, condition and condition component gone.
    assert_eq!(national.0.len(), records_before - 3);
    assert_eq!(built(&common, &national), vec![after[0].clone()]);
}

#[test]
fn excluded_area_needs_its_sid() {
    let op = draft(create(
        json!({"measure_type": "277", "components": null, "geographical_area": "1013",
        "excluded_areas": ["FR"]}),
    ))
    .resolve()
    .unwrap();
    let mut n = 0u64;
    let mut sids = || {
        n += 1;
        n
    };
    let planned = plan(&op, &TariffData::default(), today(), &mut sids).unwrap();
    let mut sids_without_fr = area_sids();
    sids_without_fr.remove("FR");
    let err = layer_changes(&planned, &[], &sids_without_fr, None, &mut sids).unwrap_err();
    assert!(err.to_string().contains("FR has no SID"), "{err}");
}
