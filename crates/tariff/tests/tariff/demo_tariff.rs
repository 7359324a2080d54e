//! The demo tariff (`crates/server/demo/tariff/`, embedded by the server): the envelopes
//! parse, pass record sequencing, are valid against taric3.xsd (the national ones except
//! for their alphabetic national measure types), build into a tariff of about 100
//! declarable codes, and use every duty expression the engine evaluates.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use portorium_tariff::layer::{build, changes_from_envelope, Change, LayerData, RecordRef};
use portorium_tariff::taric3::{check_sequencing, national_taric3_xsd, parse_envelope};
use portorium_xsd::Schema;

const COMMON: &[u8] = include_bytes!("../../../server/demo/tariff/common.xml");
const NL: &[u8] = include_bytes!("../../../server/demo/tariff/nl.xml");
const DE: &[u8] = include_bytes!("../../../server/demo/tariff/de.xml");

fn changes(bytes: &[u8]) -> Vec<Change> {
    let env = parse_envelope(bytes).unwrap();
    check_sequencing(&env).unwrap();
    changes_from_envelope(&env).unwrap()
}

fn layer(national: &[u8]) -> LayerData {
    let mut all = changes(COMMON);
    all.extend(changes(national));
    build(all.iter().map(RecordRef::from)).unwrap()
}

fn xsd_path() -> PathBuf {
    let dir = std::env::var_os("PORTORIUM_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference"));
    dir.join("tariff/taric3/taric3.xsd")
}

/// taric3.xsd for national layers ([`national_taric3_xsd`]), compiled from memory.
fn national_xsd() -> Schema {
    let path = xsd_path();
    let text = std::fs::read_to_string(&path).unwrap();
    let dir = portorium_xsd::file_uri(&path.parent().unwrap().canonicalize().unwrap()).unwrap();
    let national = national_taric3_xsd(&text, &format!("{dir}/")).unwrap();
    assert!(national.contains(r#"<xs:pattern value="[0-9]{3}|[0-9]{6}|[A-Z0-9]{3}"/>"#));
    assert!(national.contains(&format!(r#"schemaLocation="{dir}/envelope.xsd""#)));
    Schema::from_memory(national.as_bytes(), Path::new("(national taric3.xsd)")).unwrap()
}

fn xsd() -> Option<Schema> {
    let path = xsd_path();
    if path.is_file() {
        Some(Schema::from_file(&path).unwrap())
    } else {
        eprintln!(
            "SKIPPED: taric3.xsd not found at {} (XSD part of the demo tariff test)",
            path.display()
        );
        None
    }
}

#[test]
fn demo_envelopes_are_valid_taric3() {
    let Some(xsd) = xsd() else { return };
    if let Err(v) = xsd.validate(COMMON) {
        panic!("common.xml: {} violations, first: {}", v.len(), v[0]);
    }
    for (name, bytes) in [("nl.xml", NL), ("de.xml", DE)] {
        // The only deviation: national measure types are alphabetic (`VTS`), which the
        // schema's MeasureTypeId (`[0-9]{3}|[0-9]{6}`) does not allow.
        let violations = xsd.validate(bytes).unwrap_err();
        assert!(!violations.is_empty());
        for v in &violations {
            let text = v.to_string();
            assert!(
                text.contains("measure.type") && text.contains("[0-9]{3}|[0-9]{6}"),
                "{name}: unexpected violation {text}"
            );
        }
    }
    // The schema for national layers takes them, and still refuses what TARIC3 refuses.
    let national = national_xsd();
    for (name, bytes) in [("common.xml", COMMON), ("nl.xml", NL), ("de.xml", DE)] {
        if let Err(v) = national.validate(bytes) {
            panic!("{name}: {} violations, first: {}", v.len(), v[0]);
        }
    }
    let nl = std::str::from_utf8(NL).unwrap();
    for (from, to) in [
        ("<oub:measure.type>VTS<", "<oub:measure.type>VTSX<"),
        ("<oub:measure.type>VTS<", "<oub:measure.type>vts<"),
    ] {
        assert!(nl.contains(from), "{from}");
        let bad = nl.replacen(from, to, 1);
        assert!(national.validate(bad.as_bytes()).is_err(), "{to}");
    }
    assert_eq!(national_taric3_xsd("<xs:schema/>", "file:///x/"), None);
}

#[test]
fn demo_tariff_builds_with_every_expression() {
    let nl = layer(NL);
    let de = layer(DE);
    assert!(nl.unresolved.is_empty(), "{:?}", nl.unresolved);
    let declarable = nl.nomenclature.declarable().count();
    assert!(
        (95..=120).contains(&declarable),
        "{declarable} declarable codes"
    );
    let chapters: BTreeSet<&str> = nl
        .nomenclature
        .declarable()
        .map(|i| &i.code.as_str()[..2])
        .collect();
    assert!(chapters.len() >= 18, "{chapters:?}");

    let mut used: BTreeSet<String> = BTreeSet::new();
    for m in &nl.tariff.measures {
        used.extend(m.components.iter().map(|c| c.duty_expression_id.clone()));
        for c in &m.conditions {
            used.extend(c.components.iter().map(|c| c.duty_expression_id.clone()));
        }
    }
    // Every expression with a computable meaning (40-44, export refunds, are not import
    // duties).
    let every = [
        "01", "02", "03", "04", "05", "06", "07", "09", "11", "12", "13", "14", "15", "17", "19",
        "20", "21", "23", "25", "27", "29", "31", "33", "35", "36", "37", "99",
    ];
    for id in every {
        assert!(
            used.contains(id),
            "duty expression {id} is not used by the demo tariff"
        );
    }

    // National layers: their own measures, national measure types.
    let national = |data: &LayerData, ty: &str| {
        data.tariff
            .measures
            .iter()
            .filter(|m| m.measure_type == ty)
            .count()
    };
    assert!(national(&nl, "VTS") > 0 && national(&nl, "VTR") > 0);
    assert!(national(&de, "EXK") == 2 && national(&nl, "EXK") == 0);
    assert!(national(&de, "NPI") == 1 && national(&nl, "NRL") == 1);
    // Quotas, additional codes, exchange rates.
    assert!(nl
        .tariff
        .measures
        .iter()
        .any(|m| m.order_number.as_deref() == Some("094450")));
    assert!(nl
        .tariff
        .measures
        .iter()
        .any(|m| m.additional_code.as_deref() == Some("C999")));
    assert_eq!(nl.exchange_rates.len(), 12);
}
