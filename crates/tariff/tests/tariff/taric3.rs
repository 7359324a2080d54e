//! TARIC3 parser tests.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use portorium_tariff::taric3::{
    check_sequencing, looks_like_taric3, parse_envelope, Envelope, RecordBody, Taric3Error,
    UpdateType,
};
use portorium_xsd::Schema;
use proptest::prelude::*;
use rust_decimal::Decimal;

/// Runs every case and reports all mismatches at once.
fn check<I: Debug, O: Debug + PartialEq>(cases: &[(I, O)], f: impl Fn(&I) -> O) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(input, want)| {
            let got = f(input);
            (got != *want)
                .then(|| format!("  input {input:?}\n    want {want:?}\n     got {got:?}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn reference_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("PORTORIUM_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference"));
    if dir.join("tariff/taric3").is_dir() {
        Some(dir.join("tariff"))
    } else {
        eprintln!("SKIPPED: reference data not found at {}", dir.display());
        None
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The samples in taric3/ that are valid against taric3.xsd (the portorium-xsd tests).
const VALID_SAMPLES: &[&str] = &[
    "taric3/TGB12345.xml",
    "taric3/goods.xml",
    "taric3/goods_nomenclature_CREATE.xml",
    "taric3/spec_fixtures_taric_samples_create_then_destroy_measure.xml",
    "taric3/spec_fixtures_taric_samples_create_then_update_measure.xml",
    "taric3-uk/geographical_areas_uk.xml",
    "taric3-uk/uk_0103921100.xml",
    "taric3-uk/uk_1516209821.xml",
    "taric3-uk/uk_7202999000.xml",
    "taric3-uk/xi_monetary_exchange_rates.xml",
];

/// Why an import is refused: the XSD, the parser or the sequencing rules.
#[derive(Debug)]
enum ImportError {
    /// XSD violations, each "line N, element E: message".
    Schema(Vec<portorium_xsd::Violation>),
    Parse(Taric3Error),
    Sequencing(Taric3Error),
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Schema(violations) => {
                f.write_str("not valid against taric3.xsd:")?;
                for v in violations {
                    write!(f, "\n  {v}")?;
                }
                Ok(())
            }
            Self::Parse(e) => write!(f, "parse: {e}"),
            Self::Sequencing(e) => write!(f, "sequencing: {e}"),
        }
    }
}

/// What the import command does: validate with the XSD, then parse, then check the
/// record sequencing.
fn import_check(xsd: &Schema, bytes: &[u8]) -> Result<Envelope, ImportError> {
    xsd.validate(bytes).map_err(ImportError::Schema)?;
    let env = parse_envelope(bytes).map_err(ImportError::Parse)?;
    check_sequencing(&env).map_err(ImportError::Sequencing)?;
    Ok(env)
}

fn counts(env: &Envelope) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for record in env.transactions.iter().flat_map(|t| &t.messages) {
        *counts.entry(record.body.element().to_owned()).or_insert(0) += 1;
    }
    counts
}

#[test]
fn valid_samples_import() {
    let Some(dir) = reference_dir() else { return };
    let xsd = Schema::from_file(&dir.join("taric3/taric3.xsd")).expect("taric3.xsd");
    for name in VALID_SAMPLES {
        let bytes = read(&dir.join(name));
        assert!(looks_like_taric3(&bytes), "{name}: not recognised");
        let env = import_check(&xsd, &bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!env.transactions.is_empty(), "{name}");
        // Every record of the valid samples is a typed kind or kept as `Other`.
        let typed = env
            .transactions
            .iter()
            .flat_map(|t| &t.messages)
            .filter(|r| !matches!(r.body, RecordBody::Other { .. }))
            .count();
        eprintln!(
            "{name}: {} records, {typed} typed",
            counts(&env).values().sum::<usize>()
        );
    }
}

/// Counts of records by element. Obtained once with Python's ElementTree: for every
/// `oub:record`, the local name of its 6th child (the body), counted.
#[test]
fn record_counts() {
    let Some(dir) = reference_dir() else { return };
    // (file, transactions, (element, records)).
    type Counts = (&'static str, usize, &'static [(&'static str, usize)]);
    let cases: &[Counts] = &[
        (
            "taric3-uk/uk_0103921100.xml",
            5,
            &[
                ("base.regulation", 8),
                ("certificate", 4),
                ("certificate.description", 4),
                ("certificate.description.period", 4),
                ("certificate.type", 3),
                ("duty.expression", 2),
                ("duty.expression.description", 2),
                ("footnote", 4),
                ("footnote.association.measure", 6),
                ("footnote.description", 4),
                ("footnote.description.period", 4),
                ("footnote.type", 2),
                ("geographical.area", 255),
                ("geographical.area.description", 255),
                ("geographical.area.description.period", 255),
                ("geographical.area.membership", 506),
                ("goods.nomenclature", 6),
                ("goods.nomenclature.description", 6),
                ("goods.nomenclature.description.period", 6),
                ("goods.nomenclature.indents", 6),
                ("measure", 10),
                ("measure.action", 6),
                ("measure.component", 4),
                ("measure.condition", 14),
                ("measure.condition.code", 2),
                ("measure.excluded.geographical.area", 9),
                ("measure.type", 7),
                ("measure.type.description", 7),
                ("measure.type.series", 3),
                ("measurement.unit", 3),
                ("measurement.unit.description", 3),
                ("monetary.unit", 1),
                ("monetary.unit.description", 1),
                ("regulation.group", 1),
                ("regulation.group.description", 1),
            ],
        ),
        (
            "taric3-uk/geographical_areas_uk.xml",
            2,
            &[
                ("geographical.area", 321),
                ("geographical.area.description", 321),
                ("geographical.area.description.period", 321),
                ("geographical.area.membership", 2944),
            ],
        ),
        (
            "taric3-uk/xi_monetary_exchange_rates.xml",
            2,
            &[
                ("monetary.exchange.period", 67),
                ("monetary.exchange.rate", 67),
                ("monetary.unit", 2),
            ],
        ),
    ];
    for (name, transactions, expected) in cases {
        let env = parse_envelope(&read(&dir.join(name))).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(env.transactions.len(), *transactions, "{name}");
        let expected: BTreeMap<String, usize> = expected
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect();
        assert_eq!(counts(&env), expected, "{name}");
    }
}

#[test]
fn typed_fields_of_a_measure() {
    let Some(dir) = reference_dir() else { return };
    let env = parse_envelope(&read(
        &dir.join("taric3/spec_fixtures_taric_samples_create_then_update_measure.xml"),
    ))
    .expect("parses");
    let record = &env.transactions[0].messages[0];
    assert_eq!(
        (record.record_code.as_str(), record.subrecord_code.as_str()),
        ("430", "00")
    );
    let RecordBody::Measure(measure) = &record.body else {
        panic!("not a measure: {record:?}")
    };
    assert!(measure.measure_sid > 0);
    assert_eq!(record.update_type, UpdateType::Insert);
    assert_eq!(
        env.transactions[1].messages[0].update_type,
        UpdateType::Update
    );
}

/// The TaMaTo `*_CREATE.xml` samples (except goods_nomenclature_CREATE.xml) are not
/// valid against taric3.xsd (element order; language id `zz`): the import refuses them
/// at the XSD step and names the line, element and reason.
#[test]
fn invalid_tamato_samples_are_refused() {
    let Some(dir) = reference_dir() else { return };
    let xsd = Schema::from_file(&dir.join("taric3/taric3.xsd")).expect("taric3.xsd");
    const ORDER: &str = "This element is not expected";
    const LANG: &str = "The value 'zz' is not accepted by the pattern '[A-Z][A-Z]'";
    let cases: &[(&str, &str, &str)] = &[
        ("base_regulation_CREATE.xml", "effective.end.date", ORDER),
        (
            "footnote_association_measure_CREATE.xml",
            "language.id",
            LANG,
        ),
        (
            "footnote_association_measure_CREATE.xml",
            "goods.nomenclature.sid",
            ORDER,
        ),
        (
            "geographical_membership_CREATE.xml",
            "geographical.membership",
            ORDER,
        ),
        (
            "goods_nomenclature_indent_CREATE.xml",
            "goods.nomenclature.item.id",
            ORDER,
        ),
        ("measure_CREATE.xml", "effective.end.date", ORDER),
        ("measure_CREATE.xml", "language.id", LANG),
        ("measure_component_CREATE.xml", "language.id", LANG),
        ("measure_condition_CREATE.xml", "language.id", LANG),
        (
            "measure_condition_component_CREATE.xml",
            "language.id",
            LANG,
        ),
        (
            "measure_excluded_geographical_area_CREATE.xml",
            "language.id",
            LANG,
        ),
        ("quota_balance_event_CREATE.xml", "language.id", LANG),
        (
            "quota_balance_event_CREATE.xml",
            "quota.order.number.sid",
            ORDER,
        ),
        ("quota_definition_CREATE.xml", "language.id", LANG),
        (
            "quota_definition_CREATE.xml",
            "quota.order.number.sid",
            ORDER,
        ),
        (
            "quota_order_number_origin_CREATE.xml",
            "geographical.area.sid",
            ORDER,
        ),
    ];
    for (file, element, reason) in cases {
        let bytes = read(&dir.join("taric3").join(file));
        assert!(looks_like_taric3(&bytes), "{file}");
        match import_check(&xsd, &bytes) {
            Err(ImportError::Schema(violations)) => {
                let found = violations.iter().any(|v| {
                    v.line > 0
                        && v.element.as_deref() == Some(*element)
                        && v.message.contains(reason)
                });
                assert!(
                    found,
                    "{file}: expected {element} / {reason}, got {violations:#?}"
                );
                // The report names the line and element.
                let report = violations
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>();
                assert!(report
                    .iter()
                    .any(|r| r.starts_with("line ") && r.contains(element)));
            }
            Err(other) => panic!("{file}: expected an XSD refusal, got {other}"),
            Ok(_) => panic!("{file}: accepted"),
        }
        // Even without the XSD, the parser or the sequencing rules refuse them (their
        // record sequence numbers repeat or go backwards).
        let refused = parse_envelope(&bytes).and_then(|env| check_sequencing(&env));
        assert!(refused.is_err(), "{file}: parser and sequencing accept it");
    }
}

#[test]
fn eur_gbp_monthly_rates() {
    let Some(dir) = reference_dir() else { return };
    let env = parse_envelope(&read(&dir.join("taric3-uk/xi_monetary_exchange_rates.xml")))
        .expect("parses");
    let records: Vec<_> = env.transactions.iter().flat_map(|t| &t.messages).collect();
    let mut periods = BTreeMap::new();
    for record in &records {
        if let RecordBody::MonetaryExchangePeriod(p) = &record.body {
            assert_eq!(p.parent_monetary_unit_code, "EUR");
            periods.insert(p.monetary_exchange_period_sid, p.validity_start_date);
        }
    }
    let mut rates = BTreeMap::new();
    for record in &records {
        if let RecordBody::MonetaryExchangeRate(r) = &record.body {
            assert_eq!(r.child_monetary_unit_code, "GBP");
            rates.insert(periods[&r.monetary_exchange_period_sid], r.exchange_rate);
        }
    }
    assert_eq!(rates.len(), 67);
    // Read off the file: period 85061 starts 2021-01-01, rate 0.90863 GBP per EUR.
    let january_2021 = NaiveDate::from_ymd_opt(2021, 1, 1).unwrap();
    assert_eq!(rates[&january_2021], "0.90863".parse::<Decimal>().unwrap());
    // Monthly: every period starts on the 1st.
    use chrono::Datelike;
    assert!(rates.keys().all(|d| d.day() == 1));
}

// --- Synthetic envelopes ------------------------------------------------------------

const MEASURE: &str = "<oub:measure><oub:measure.sid>20000001</oub:measure.sid>\
<oub:measure.type>103</oub:measure.type><oub:geographical.area>1011</oub:geographical.area>\
<oub:goods.nomenclature.item.id>0101210000</oub:goods.nomenclature.item.id>\
<oub:validity.start.date>2021-01-01</oub:validity.start.date>\
<oub:measure.generating.regulation.role>1</oub:measure.generating.regulation.role>\
<oub:measure.generating.regulation.id>R2100010</oub:measure.generating.regulation.id>\
<oub:stopped.flag>0</oub:stopped.flag></oub:measure>";

const COMPONENT: &str = "<oub:measure.component><oub:measure.sid>20000001</oub:measure.sid>\
<oub:duty.expression.id>01</oub:duty.expression.id><oub:duty.amount>12.5</oub:duty.amount>\
</oub:measure.component>";

/// One `env:app.message`.
fn message(tx: u32, seq: u32, code: &str, update: &str, body: &str) -> String {
    let (code, sub) = code.split_at(3);
    format!(
        "<env:app.message id=\"{seq}\"><oub:transmission \
xmlns:oub=\"urn:publicid:-:DGTAXUD:TARIC:MESSAGE:1.0\"><oub:record>\
<oub:transaction.id>{tx}</oub:transaction.id><oub:record.code>{code}</oub:record.code>\
<oub:subrecord.code>{sub}</oub:subrecord.code>\
<oub:record.sequence.number>{seq}</oub:record.sequence.number>\
<oub:update.type>{update}</oub:update.type>{body}</oub:record></oub:transmission></env:app.message>"
    )
}

/// An envelope of transactions, each a list of messages.
fn envelope(transactions: &[(u32, Vec<String>)]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<env:envelope id=\"000001\" \
xmlns=\"urn:publicid:-:DGTAXUD:TARIC:MESSAGE:1.0\" \
xmlns:env=\"urn:publicid:-:DGTAXUD:GENERAL:ENVELOPE:1.0\">",
    );
    for (id, messages) in transactions {
        xml.push_str(&format!("<env:transaction id=\"{id}\">"));
        for m in messages {
            xml.push_str(m);
        }
        xml.push_str("</env:transaction>");
    }
    xml.push_str("</env:envelope>");
    xml
}

fn measure_envelope() -> String {
    envelope(&[(12, vec![message(12, 3, "43000", "3", MEASURE)])])
}

fn error_text(xml: &str) -> String {
    match parse_envelope(xml.as_bytes()) {
        Ok(env) => format!("ok: {} transactions", env.transactions.len()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn synthetic_measure_parses() {
    let env = parse_envelope(measure_envelope().as_bytes()).expect("parses");
    let record = &env.transactions[0].messages[0];
    assert_eq!(record.transaction_id.as_deref(), Some("12"));
    assert_eq!(record.record_sequence_number, 3);
    let RecordBody::Measure(m) = &record.body else {
        panic!("{record:?}")
    };
    assert_eq!(m.measure_sid, 20000001);
    assert_eq!(
        m.validity_start_date,
        NaiveDate::from_ymd_opt(2021, 1, 1).unwrap()
    );
    assert_eq!(m.validity_end_date, None);
    assert_eq!(m.goods_nomenclature_item_id.as_deref(), Some("0101210000"));
    check_sequencing(&env).expect("sequencing");
}

#[test]
fn malformed_inputs_name_record_and_element() {
    let good = measure_envelope();
    let cases: Vec<(String, String)> = vec![
        (
            good.replace("2021-01-01", "2021-13-01"),
            "record 3 (measure) in transaction 12, message 3: element `validity.start.date`: invalid date `2021-13-01`".into(),
        ),
        (
            good.replace("2021-01-01", "01/01/2021"),
            "record 3 (measure) in transaction 12, message 3: element `validity.start.date`: invalid date `01/01/2021`".into(),
        ),
        (
            good.replace("<oub:update.type>3<", "<oub:update.type>7<"),
            "record 3 (measure) in transaction 12, message 3: element `update.type`: unknown update type `7`".into(),
        ),
        (
            good.replace("<oub:measure.sid>20000001</oub:measure.sid>", ""),
            "record 3 (measure) in transaction 12, message 3: element `measure.sid`: missing".into(),
        ),
        (
            good.replace("20000001", "2x"),
            "record 3 (measure) in transaction 12, message 3: element `measure.sid`: invalid number `2x`".into(),
        ),
        (
            good.replace("<oub:stopped.flag>0</oub:stopped.flag>", "<oub:stopped.flag>0</oub:stopped.flag><oub:colour>red</oub:colour>"),
            "record 3 (measure) in transaction 12, message 3: element `colour`: unexpected element in this record".into(),
        ),
        (
            good.replace("<oub:stopped.flag>0</oub:stopped.flag>", "<oub:stopped.flag>0</oub:stopped.flag><oub:stopped.flag>1</oub:stopped.flag>"),
            "record 3 (measure) in transaction 12, message 3: element `stopped.flag`: repeated element".into(),
        ),
        (
            good.replace("<oub:subrecord.code>00<", "<oub:subrecord.code>05<"),
            "record 3 (measure) in transaction 12, message 3: element `record.code`: record code 430 05 does not match `measure` (430 00)".into(),
        ),
        (
            good.replace("<oub:record.sequence.number>3<", "<oub:record.sequence.number>-3<"),
            "record (measure) in transaction 12, message 3: element `record.sequence.number`: invalid record sequence number `-3`".into(),
        ),
        (
            envelope(&[(12, vec![message(12, 4, "43005", "3", &COMPONENT.replace("12.5", "12,5"))])]),
            "record 4 (measure.component) in transaction 12, message 4: element `duty.amount`: invalid decimal `12,5`".into(),
        ),
        (
            good.replace("<env:transaction id=\"12\">", "<env:transaction>"),
            "envelope: element `transaction`: missing or empty attribute `id`".into(),
        ),
        (
            good.replace("urn:publicid:-:DGTAXUD:GENERAL:ENVELOPE:1.0", "urn:example:other"),
            "not a TARIC3 envelope: root element `envelope` in namespace `urn:example:other`, expected `envelope` in `urn:publicid:-:DGTAXUD:GENERAL:ENVELOPE:1.0`".into(),
        ),
        (
            good.replace("xmlns:oub=\"urn:publicid:-:DGTAXUD:TARIC:MESSAGE:1.0\"", "xmlns:oub=\"urn:example:other\""),
            "transaction 12, message 3: element `transmission`: unexpected element (namespace `urn:example:other`); expected `transmission` in `urn:publicid:-:DGTAXUD:TARIC:MESSAGE:1.0`".into(),
        ),
        // Truncated: between tags, and inside a tag.
        (
            good.replace("</env:transaction></env:envelope>", ""),
            "line 2: XML error: unexpected end of document inside `transaction`".into(),
        ),
        (
            good[..good.len() - 40].to_owned(),
            "line 2: XML error: syntax error: tag not closed: `>` not found before end of input".into(),
        ),
        (
            good.replace("<env:envelope", "<!DOCTYPE x [<!ENTITY a \"b\">]><env:envelope"),
            "line 2: XML error: document type declarations are not accepted".into(),
        ),
        (String::new(), "line 1: XML error: no root element".into()),
    ];
    check(&cases, |xml| error_text(xml));

    // Errors are structured too.
    let err = parse_envelope(good.replace("2021-01-01", "2021-02-30").as_bytes()).unwrap_err();
    let Taric3Error::Record {
        record,
        element,
        reason,
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!(record.transaction_id, "12");
    assert_eq!(record.record_sequence_number, Some(3));
    assert_eq!(record.record.as_deref(), Some("measure"));
    assert_eq!(element, "validity.start.date");
    assert!(reason.contains("2021-02-30"));
}

#[test]
fn depth_and_size_are_bounded() {
    let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
    let err = parse_envelope(deep.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("nested deeper"), "{err}");
    // An unclosed deep prefix must not blow the stack either.
    assert!(parse_envelope("<a>".repeat(100_000).as_bytes()).is_err());
}

#[test]
fn sequencing_rules() {
    let m = |seq| message(12, seq, "43000", "3", MEASURE);
    let c = |seq| message(12, seq, "43005", "3", COMPONENT);
    let cases: Vec<(String, Result<(), String>)> = vec![
        (envelope(&[(12, vec![m(1), c(2)])]), Ok(())),
        // Component inserted before its measure in the same transaction.
        (
            envelope(&[(12, vec![c(1), m(2)])]),
            Err("record 1 (measure.component) in transaction 12, message 1: sequencing: `measure.sid` 20000001 references `measure` inserted later in the same transaction (record 2)".into()),
        ),
        // Different transactions: not checked (the measure may already exist).
        (
            envelope(&[(12, vec![message(12, 1, "43005", "3", COMPONENT)]), (13, vec![message(13, 2, "43000", "3", MEASURE)])]),
            Ok(()),
        ),
        // An update of the component may precede the measure's insert.
        (envelope(&[(12, vec![message(12, 1, "43005", "1", COMPONENT), m(2)])]), Ok(())),
        // Deletes: parent first, as in the documentation.
        (
            envelope(&[(12, vec![message(12, 1, "43005", "2", COMPONENT), message(12, 2, "43000", "2", MEASURE)])]),
            Err("record 1 (measure.component) in transaction 12, message 1: sequencing: `measure.sid` 20000001 references `measure` deleted later in the same transaction (record 2)".into()),
        ),
        // Record sequence numbers must strictly increase through the envelope.
        (
            envelope(&[(12, vec![m(2), c(2)])]),
            Err("record 2 (measure.component) in transaction 12, message 2: sequencing: record sequence number 2 does not follow 2: numbers must strictly increase through the envelope".into()),
        ),
        (
            envelope(&[(12, vec![m(5)]), (13, vec![message(13, 4, "43005", "3", COMPONENT)])]),
            Err("record 4 (measure.component) in transaction 13, message 4: sequencing: record sequence number 4 does not follow 5: numbers must strictly increase through the envelope".into()),
        ),
        // The record's transaction.id must be its transaction's.
        (
            envelope(&[(12, vec![message(99, 1, "43000", "3", MEASURE)])]),
            Err("record 1 (measure) in transaction 12, message 1: sequencing: `transaction.id` 99 differs from the enclosing transaction 12".into()),
        ),
    ];
    check(&cases, |xml| {
        let env = parse_envelope(xml.as_bytes()).map_err(|e| e.to_string())?;
        check_sequencing(&env).map_err(|e| e.to_string())
    });
}

#[test]
fn detection() {
    let good = measure_envelope();
    let cases: Vec<(Vec<u8>, bool)> = vec![
        (good.clone().into_bytes(), true),
        (format!("\u{feff}{good}").into_bytes(), true),
        // The first bytes are enough.
        (good.as_bytes()[..good.len() / 2].to_vec(), true),
        (
            good.replace("GENERAL:ENVELOPE", "GENERAL:OTHER")
                .into_bytes(),
            false,
        ),
        (
            good.replace("TARIC:MESSAGE", "TARIC:OTHER").into_bytes(),
            false,
        ),
        (
            b"<CC015C xmlns=\"urn:publicid:-:DGTAXUD:TARIC:MESSAGE:1.0\"/>".to_vec(),
            false,
        ),
        (b"Goods code,Description\n0101,Horses\n".to_vec(), false),
        (Vec::new(), false),
    ];
    check(&cases, |bytes| looks_like_taric3(bytes));
}

/// Small samples mutated by the proptest (the UK envelopes are too large for 256 runs).
const MUTATED_SAMPLES: &[&str] = &[
    "taric3/TGB12345.xml",
    "taric3/goods.xml",
    "taric3/spec_fixtures_taric_samples_create_then_destroy_measure.xml",
    "taric3/spec_fixtures_taric_samples_create_then_update_measure.xml",
    "taric3/measure_CREATE.xml",
    "taric3/quota_balance_event_CREATE.xml",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = looks_like_taric3(&bytes);
        if let Ok(env) = parse_envelope(&bytes) {
            let _ = check_sequencing(&env);
        }
    }

    #[test]
    fn never_panics_on_mutated_envelopes(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        sample in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut base = envelope(&[(12, vec![
            message(12, 1, "43000", "3", MEASURE),
            message(12, 2, "43005", "3", COMPONENT),
        ])]).into_bytes();
        if let Some(dir) = reference_dir() {
            base = read(&dir.join(MUTATED_SAMPLES[sample.index(MUTATED_SAMPLES.len())]));
        }
        for (at, kind, byte) in edits {
            let i = at.index(base.len());
            match kind {
                0 => base[i] = byte,
                1 => { base.remove(i); }
                _ => base.insert(i, byte),
            }
        }
        if truncate {
            base.truncate(cut.index(base.len() + 1));
        }
        let _ = looks_like_taric3(&base);
        if let Ok(env) = parse_envelope(&base) {
            let _ = check_sequencing(&env);
        }
    }

    /// Arbitrary field texts (dates, numbers, decimals, timestamps) give values or
    /// errors, never panics.
    #[test]
    fn never_panics_on_field_values(
        value in "[-+0-9.eE:TZ /]{0,40}",
        field in 0usize..4,
    ) {
        let value = value.replace('<', "");
        let xml = match field {
            0 => measure_envelope().replace("2021-01-01", &value),
            1 => measure_envelope().replace("20000001", &value),
            2 => envelope(&[(12, vec![message(12, 4, "43005", "3", &COMPONENT.replace("12.5", &value))])]),
            _ => envelope(&[(12, vec![message(12, 4, "37500", "3", &format!(
                "<oub:quota.balance.event><oub:quota.definition.sid>1</oub:quota.definition.sid>\
<oub:occurrence.timestamp>{value}</oub:occurrence.timestamp><oub:old.balance>{value}</oub:old.balance>\
<oub:new.balance>1</oub:new.balance><oub:imported.amount>0</oub:imported.amount></oub:quota.balance.event>"
            ))])]),
        };
        if let Ok(env) = parse_envelope(xml.as_bytes()) {
            let _ = check_sequencing(&env);
        }
    }
}

/// Untyped quota events are keyed by definition and occurrence: two critical events of one
/// definition are two records, not one replacing the other.
#[test]
fn quota_events_are_keyed_by_occurrence() {
    let event = |at: &str, state: &str| {
        format!(
            "<oub:quota.critical.event><oub:quota.definition.sid>22</oub:quota.definition.sid>\
<oub:occurrence.timestamp>{at}</oub:occurrence.timestamp>\
<oub:critical.state>{state}</oub:critical.state></oub:quota.critical.event>"
        )
    };
    let xml = envelope(&[(
        1,
        vec![
            message(1, 1, "37515", "3", &event("2026-05-01T08:00:00", "Y")),
            message(1, 2, "37515", "3", &event("2026-05-20T08:00:00", "N")),
        ],
    )]);
    let env = parse_envelope(xml.as_bytes()).expect("parses");
    let changes = portorium_tariff::layer::changes_from_envelope(&env).unwrap();
    let keys: Vec<(&str, &str)> = changes
        .iter()
        .map(|c| (c.kind.as_str(), c.key.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("quota.critical.event", "22/2026-05-01T08:00:00"),
            ("quota.critical.event", "22/2026-05-20T08:00:00"),
        ]
    );
}
