//! Layer records ⇄ domain: the UK TARIC3 envelopes round-tripped through
//! `changes_from_envelope` and `build`, nomenclature items, and errors.
//!
//! Expected values are read from the converted envelopes in
//! `tariff/taric3-uk/` (UK Online Trade Tariff API v2 snapshots, trade-tariff-duty-calculator
//! fixtures). Note: `uk_7202999000.xml` holds commodity `7202118000` (the fixture with
//! synthetic test measures), not 7202999000.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::NaiveDate;
use portorium_tariff::duty::{describe, Quantities};
use portorium_tariff::layer::{
    build, changes_from_envelope, changes_from_nomenclature, Change, LayerData, LayerError,
    RecordRef,
};
use portorium_tariff::measures::{
    applicable_measures, calculate, supplementary_unit, CalcRequest, OptionKind,
};
use portorium_tariff::nomenclature::{GoodsCode, NomenclatureItem};
use portorium_tariff::taric3::parse_envelope;
use rust_decimal::Decimal;
use serde_json::json;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn uk_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("PORTORIUM_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference"));
    let uk = dir.join("tariff/taric3-uk");
    if uk.is_dir() {
        Some(uk)
    } else {
        eprintln!("SKIPPED: reference data not found at {}", dir.display());
        None
    }
}

fn changes(dir: &Path, file: &str) -> Vec<Change> {
    let bytes = std::fs::read(dir.join(file)).unwrap();
    let env = parse_envelope(&bytes).unwrap();
    changes_from_envelope(&env).unwrap()
}

/// One administration: the areas file, then the commodity envelope.
fn load(dir: &Path, file: &str) -> LayerData {
    let mut all = changes(dir, "geographical_areas_uk.xml");
    all.extend(changes(dir, file));
    assert!(all.iter().all(|c| !c.delete));
    build(all.iter().map(RecordRef::from)).unwrap()
}

fn ancestors(data: &LayerData, code: &str) -> Vec<GoodsCode> {
    let c = GoodsCode::new(code).unwrap();
    let mut out = vec![c];
    out.extend(data.nomenclature.ancestors(&c).iter().map(|i| i.code));
    out
}

/// (type, sid) of the measures applying on 2021-06-15.
fn types(data: &LayerData, code: &str, origin: &str) -> Vec<String> {
    let anc = ancestors(data, code);
    let mut t: Vec<String> = applicable_measures(&data.tariff, &anc, origin, day("2021-06-15"))
        .iter()
        .map(|m| m.measure_type.clone())
        .collect();
    t.dedup();
    t
}

fn third_country(data: &LayerData, code: &str, origin: &str) -> Vec<(u64, String)> {
    let anc = ancestors(data, code);
    applicable_measures(&data.tariff, &anc, origin, day("2021-06-15"))
        .iter()
        .filter(|m| m.measure_type == "103")
        .map(|m| (m.sid, describe(&m.components)))
        .collect()
}

#[test]
fn uk_envelopes_round_trip() {
    let Some(dir) = uk_dir() else { return };

    // 0103921100 (sows): 103 erga omnes 35.1 EUR / 100 kg (SID 2046828, R9922040) and a
    // UK 103 (SID 20087819, C2100010) without components, conditional on N851; 142 for GB
    // at 0 %; 105, 109 (supplementary unit NAR), 410 (group 1008), 482, 750.
    let sows = load(&dir, "uk_0103921100.xml");
    let code = GoodsCode::new("0103921100").unwrap();
    let item = sows.nomenclature.get(&code).unwrap();
    assert!(item.declarable);
    assert_eq!(
        item.description,
        "Sows having farrowed at least once, of a weight of not less than 160 kg"
    );
    let anc: Vec<&str> = sows
        .nomenclature
        .ancestors(&code)
        .iter()
        .map(|i| i.code.as_str())
        .collect();
    assert_eq!(
        anc,
        // Root first; 0103921100-10 is the intermediate line of the same digits.
        [
            "0100000000",
            "0103000000",
            "0103910000",
            "0103920000",
            "0103921100"
        ]
    );
    assert_eq!(
        third_country(&sows, "0103921100", "CN"),
        [
            (2046828, "35.10 EUR / 100 kg".to_owned()),
            (20087819, String::new())
        ]
    );
    // The supplementary unit is carried by the 109 measure (erga omnes, NAR), from 2008.
    let chain = ancestors(&sows, "0103921100");
    for (origin, date, unit) in [
        (None, "2021-06-15", Some("p/st")),
        (Some("CN"), "2021-06-15", Some("p/st")),
        (None, "2007-12-31", None),
    ] {
        assert_eq!(
            supplementary_unit(&sows.tariff, &chain, origin, day(date)).as_deref(),
            unit,
            "{origin:?} on {date}"
        );
    }
    assert_eq!(
        supplementary_unit(
            &sows.tariff,
            &ancestors(&sows, "0103920000"),
            None,
            day("2021-06-15")
        ),
        None,
        "not on the heading"
    );
    let cn = types(&sows, "0103921100", "CN");
    for t in ["103", "105", "109", "482", "750"] {
        assert!(cn.contains(&t.to_owned()), "CN {t} in {cn:?}");
    }
    assert!(!cn.contains(&"142".to_owned()));
    let gb = types(&sows, "0103921100", "GB");
    assert!(gb.contains(&"142".to_owned()) && gb.contains(&"103".to_owned()));
    // 750 excludes CH, IS, LI, NO.
    assert!(!types(&sows, "0103921100", "CH").contains(&"750".to_owned()));

    // 1516209821: 103 10.9 % (SID 20001695); CA: 142 at 0 %, anti-dumping 552/554 with
    // additional codes; 750 ended 2021-12-31; regulation Z0000000 is not in the envelope.
    let fats = load(&dir, "uk_1516209821.xml");
    assert_eq!(
        third_country(&fats, "1516209821", "US"),
        [(20001695, "10.90 %".to_owned())]
    );
    let ca = types(&fats, "1516209821", "CA");
    for t in ["103", "142", "552", "554"] {
        assert!(ca.contains(&t.to_owned()), "CA {t} in {ca:?}");
    }
    assert!(!types(&fats, "1516209821", "CN").contains(&"142".to_owned()));
    assert_eq!(fats.unresolved.get("measure.regulation"), Some(&3));
    let ad = fats
        .tariff
        .measures
        .iter()
        .find(|m| m.sid == 20041350)
        .unwrap();
    assert_eq!(ad.additional_code.as_deref(), Some("B107"));
    assert_eq!(ad.conditions.len(), 2);
    assert_eq!(
        describe(&ad.conditions[1].components),
        "198.33 GBP / 1000 kg / of biodiesel content"
    );

    // 7202118000 (file uk_7202999000.xml): 103 2.7 % (SID 1881982); US: 695 at 25 %;
    // 552 erga omnes with C490 excluding CA and US; 122 quota 054003.
    let fe = load(&dir, "uk_7202999000.xml");
    assert_eq!(
        third_country(&fe, "7202118000", "CN"),
        [(1881982, "2.70 %".to_owned())]
    );
    let us = types(&fe, "7202118000", "US");
    assert!(us.contains(&"695".to_owned()));
    assert!(!us.contains(&"552".to_owned()));
    assert!(types(&fe, "7202118000", "CN").contains(&"552".to_owned()));
    assert!(types(&fe, "7202118000", "GB").contains(&"142".to_owned()));
    let quota = fe
        .tariff
        .measures
        .iter()
        .find(|m| m.sid == 20124406)
        .unwrap();
    assert_eq!(quota.order_number.as_deref(), Some("054003"));
    assert_eq!(fe.tariff.areas.len(), 321);
    assert_eq!(
        fe.area_descriptions.get("CN").map(String::is_empty),
        Some(false)
    );
}

#[test]
fn uk_calculation() {
    let Some(dir) = uk_dir() else { return };
    let sows = load(&dir, "uk_0103921100.xml");
    let anc = ancestors(&sows, "0103921100");
    // 10 sows, 2,000 kg, customs value 1,000.
    let req = |origin: &str| CalcRequest {
        commodity: GoodsCode::new("0103921100").unwrap(),
        origin: origin.to_owned(),
        date: day("2021-06-15"),
        customs_value: d("1000"),
        quantities: Quantities::new()
            .with("KGM", d("2000"))
            .with("NAR", d("10")),
        additional_codes: vec![],
        documents: vec![],
        unit_price: None,
        meursing_code: None,
        exchange_rates: Vec::new(),
    };
    // From CN: 35.10 EUR per 100 kg × 20 (2,000 kg) = 702.00 EUR. The UK 103 without N851
    // and the 105/750 end-use/control measures without documents are prohibitions.
    let cn = calculate(&sows.tariff, &anc, &req("CN")).unwrap();
    assert_eq!(cn.options.len(), 1);
    assert_eq!(cn.options[0].kind, OptionKind::ThirdCountry);
    assert_eq!(cn.options[0].measure_sid, 2046828);
    assert_eq!(cn.options[0].total, d("702.00"));
    assert!(cn.prohibitions.iter().any(|p| p.measure_sid == 20087819));
    // From GB: the 142 preference at 0 % is the cheapest.
    let gb = calculate(&sows.tariff, &anc, &req("GB")).unwrap();
    let best = &gb.options[gb.cheapest.unwrap()];
    assert_eq!(best.kind, OptionKind::Preference);
    assert_eq!(best.measure_sid, 3822121);
    assert_eq!(best.total, d("0.00"));
    assert!(gb.options.iter().any(|o| o.total == d("702.00")));

    // 1516209821 from CN: 10.9 % × 1,000 = 109.00 (documents clear the 350/751/755 controls).
    let fats = load(&dir, "uk_1516209821.xml");
    let anc = ancestors(&fats, "1516209821");
    let mut r = req("CN");
    r.commodity = GoodsCode::new("1516209821").unwrap();
    r.documents = vec!["9120".to_owned(), "Y923".to_owned()];
    let c = calculate(&fats.tariff, &anc, &r).unwrap();
    let best = &c.options[c.cheapest.unwrap()];
    assert_eq!((best.measure_sid, best.total), (20001695, d("109.00")));
}

#[test]
fn uk_exchange_rates() {
    let Some(dir) = uk_dir() else { return };
    let all = changes(&dir, "xi_monetary_exchange_rates.xml");
    let data = build(all.iter().map(RecordRef::from)).unwrap();
    assert_eq!(data.exchange_rates.len(), 67);
    // Periods 85001 (2016-01) 0.7298 and 85066 (2021-06) 0.85765.
    assert_eq!(
        data.exchange_rate("EUR", "GBP", day("2016-01-20")),
        Some(d("0.7298"))
    );
    assert_eq!(
        data.exchange_rate("EUR", "GBP", day("2021-06-15")),
        Some(d("0.85765"))
    );
    assert_eq!(data.exchange_rate("EUR", "GBP", day("2015-12-31")), None);
}

fn item(code: &str, suffix: &str, indent: u32, desc: &str) -> NomenclatureItem {
    NomenclatureItem::new(GoodsCode::with_suffix(code, suffix).unwrap(), indent, desc)
}

#[test]
fn nomenclature_items_round_trip() {
    let mut leaf = item("0702000007", "80", 2, "Cherry tomatoes");
    leaf.declarable = true;
    leaf.valid_from = Some(day("2020-01-01"));
    let items = vec![
        item("0700000000", "80", 0, "Vegetables"),
        item("0702000000", "80", 1, "Tomatoes"),
        leaf,
    ];
    let changes = changes_from_nomenclature(&items);
    assert_eq!(changes[2].kind, "nomenclature.item");
    assert_eq!(changes[2].key, "0702000007-80");
    assert_eq!(changes[2].valid_from, Some(day("2020-01-01")));
    let data = build(changes.iter().map(RecordRef::from)).unwrap();
    assert_eq!(data.nomenclature.items(), items.as_slice());
    let parent = data
        .nomenclature
        .parent(&GoodsCode::new("0702000007").unwrap())
        .unwrap();
    assert_eq!(parent.description, "Tomatoes");

    // A later layer replaces the same key.
    let mut national = changes.clone();
    national[1].payload["description"] = json!("Tomatoes, fresh or chilled");
    let data = build(changes.iter().chain(&national[1..2]).map(RecordRef::from)).unwrap();
    assert_eq!(
        data.nomenclature
            .get(&GoodsCode::new("0702000000").unwrap())
            .unwrap()
            .description,
        "Tomatoes, fresh or chilled"
    );
}

fn rec<'a>(kind: &'a str, key: &'a str, payload: &'a serde_json::Value) -> RecordRef<'a> {
    RecordRef { kind, key, payload }
}

#[test]
fn errors_name_kind_and_key() {
    let area = json!({"geographical.area.sid": "1", "geographical.area.id": "1011",
        "validity.start.date": "1972-01-01", "geographical.code": "1"});
    let gn = json!({"goods.nomenclature.sid": "5", "goods.nomenclature.item.id": "0100000000",
        "producline.suffix": "80", "validity.start.date": "1972-01-01", "statistical.indicator": "0"});
    let indent = json!({"goods.nomenclature.indent.sid": "6", "goods.nomenclature.sid": "5",
        "validity.start.date": "1972-01-01", "number.indents": "00",
        "goods.nomenclature.item.id": "0100000000", "productline.suffix": "80"});
    let measure = json!({"measure.sid": "7", "measure.type": "103", "geographical.area": "1011",
        "goods.nomenclature.item.id": "0100000000", "validity.start.date": "2021-01-01",
        "measure.generating.regulation.role": "1", "measure.generating.regulation.id": "R1",
        "stopped.flag": "0"});
    let base = || {
        vec![
            rec("geographical.area", "1", &area),
            rec("goods.nomenclature", "5", &gn),
            rec("goods.nomenclature.indents", "6", &indent),
            rec("measure", "7", &measure),
        ]
    };
    let ok = build(base()).unwrap();
    assert_eq!(ok.tariff.measures.len(), 1);
    assert_eq!(ok.unresolved.get("measure.regulation"), Some(&1));

    // A component of a missing measure.
    let comp = json!({"measure.sid": "99", "duty.expression.id": "01", "duty.amount": "5"});
    let mut r = base();
    r.push(rec("measure.component", "99/01", &comp));
    assert_eq!(
        build(r).unwrap_err(),
        LayerError::MissingParent {
            kind: "measure.component".into(),
            key: "99/01".into(),
            parent_kind: "measure".into(),
            parent_key: "99".into(),
        }
    );

    // A membership of a missing group.
    let member = json!({"geographical.area.sid": "1", "geographical.area.group.sid": "42",
        "validity.start.date": "1972-01-01"});
    let mut r = base();
    r.push(rec(
        "geographical.area.membership",
        "1/42/1972-01-01",
        &member,
    ));
    let err = build(r).unwrap_err();
    assert!(
        matches!(&err, LayerError::MissingParent { kind, key, parent_kind, parent_key }
            if kind == "geographical.area.membership" && key == "1/42/1972-01-01"
            && parent_kind == "geographical.area" && parent_key == "42"),
        "{err}"
    );

    // A measure on a goods code not in the nomenclature.
    let mut other = measure.clone();
    other["measure.sid"] = json!("8");
    other["goods.nomenclature.item.id"] = json!("0200000000");
    let mut r = base();
    r.push(rec("measure", "8", &other));
    assert!(matches!(build(r).unwrap_err(),
        LayerError::MissingParent { kind, key, .. } if kind == "measure" && key == "8"));

    // Malformed payloads.
    let bad_date = {
        let mut m = measure.clone();
        m["validity.start.date"] = json!("2021-13-01");
        m
    };
    let not_object = json!(["measure"]);
    let missing = {
        let mut m = measure.clone();
        m.as_object_mut().unwrap().remove("measure.type");
        m
    };
    for (payload, what) in [
        (&bad_date, "validity.start.date"),
        (&not_object, "not a JSON object"),
        (&missing, "is missing"),
    ] {
        let mut r = base();
        r[3] = rec("measure", "7", payload);
        let err = build(r).unwrap_err();
        match &err {
            LayerError::Payload { kind, key, reason } => {
                assert_eq!((kind.as_str(), key.as_str()), ("measure", "7"));
                assert!(reason.contains(what), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().starts_with("measure 7: "));
    }
    let bad_item = json!({"code": "nope"});
    let err = build([rec("nomenclature.item", "x-80", &bad_item)]).unwrap_err();
    assert!(matches!(err, LayerError::Payload { kind, key, .. }
        if kind == "nomenclature.item" && key == "x-80"));
}

#[test]
fn envelope_keys_and_deletes() {
    let Some(dir) = uk_dir() else { return };
    let all = changes(&dir, "uk_1516209821.xml");
    let comp = all
        .iter()
        .find(|c| c.kind == "measure.component" && c.key == "20001695/01")
        .unwrap();
    assert_eq!(comp.payload["duty.amount"], json!("10.9"));
    let m = all
        .iter()
        .find(|c| c.kind == "measure" && c.key == "20136660")
        .unwrap();
    assert_eq!(
        (m.valid_from, m.valid_to),
        (Some(day("2021-01-01")), Some(day("2021-12-31")))
    );
    assert!(all
        .iter()
        .any(|c| c.kind == "measure.condition.component" && c.key == "20014426/01"));
    assert!(all
        .iter()
        .any(|c| c.kind == "footnote.association.measure" && c.key.starts_with("20041324/")));
}
