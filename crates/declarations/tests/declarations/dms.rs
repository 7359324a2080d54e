// Conformance of the WCO DMS core against HMRC's Customs Declarations API
// reference material (`wco-dms/` under `PORTORIUM_REFERENCE`, default
// `../../../shared/reference` relative to this crate). Every test prints
// `SKIPPED: ...` and returns when the reference data is absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::{TimeZone, Utc};
use portorium_declarations::dms::{
    check_rules, notification_xml, parse_declaration, parse_notification, pointers_for,
    validate_message, AssessedDuty, DmsMessageKind, DmsNotification, DmsRule, DmsSchemaKind,
    DmsSchemas, ItemDuties, NotificationKind, Statement,
};
use rust_decimal::Decimal;

fn reference() -> Option<PathBuf> {
    let dir = std::env::var_os("PORTORIUM_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/reference"
            ))
        });
    let dms = dir.join("wco-dms");
    if dms.is_dir() {
        Some(dms)
    } else {
        eprintln!(
            "SKIPPED: WCO DMS reference data not found at {}",
            dms.display()
        );
        None
    }
}

fn schemas() -> Option<&'static DmsSchemas> {
    static SCHEMAS: OnceLock<Option<DmsSchemas>> = OnceLock::new();
    SCHEMAS
        .get_or_init(|| reference().map(|r| DmsSchemas::load(&r.join("schemas")).unwrap()))
        .as_ref()
}

/// What an XML file in a `TT_*` example directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    /// `md:MetaData` holding a DMS `Declaration` (function code 9 or 13).
    Declaration,
    /// A CDS notification (`MetaData` with `Response`), often without namespaces.
    Notification,
    /// Another HMRC message (inventory linking, declaration information
    /// service, the MDG submit wrapper, ...): not a DMS message.
    Other,
    /// Not well-formed XML (HMRC's annotated samples with a broken comment).
    Malformed,
}

fn classify(bytes: &[u8]) -> (Class, String) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return (Class::Malformed, "not UTF-8".into());
    };
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0usize;
    let mut root = String::new();
    let mut child = None;
    loop {
        match reader.read_event() {
            Err(e) => return (Class::Malformed, e.to_string()),
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if depth == 0 {
                    root = name;
                } else if depth == 1 && (name == "Declaration" || name == "Response") {
                    child.get_or_insert(name);
                }
                depth += 1;
            }
            Ok(quick_xml::events::Event::Empty(_)) => {}
            Ok(quick_xml::events::Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(_) => {}
        }
    }
    match (root.as_str(), child.as_deref()) {
        ("MetaData", Some("Declaration")) => (Class::Declaration, root),
        ("MetaData", Some("Response")) => (Class::Notification, root),
        _ => (Class::Other, root),
    }
}

/// Every `.xml` file under the `TT_*` example directories, sorted, with its
/// path relative to `examples/`.
fn tt_files(dms: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("xml")) {
                out.push(p);
            }
        }
    }
    let examples = dms.join("examples");
    let mut paths = Vec::new();
    for e in std::fs::read_dir(&examples).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() && p.file_name().unwrap().to_string_lossy().starts_with("TT_") {
            walk(&p, &mut paths);
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&examples)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (rel, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// Declarations among the samples that are not valid XML, with the reason.
const KNOWN_INVALID: &[(&str, &str)] = &[
    (
        "TT_EX022a/TT_EX022a_Declaration1_(Step1).xml",
        "an annotation comment contains `--`, which XML forbids (libxml2: Double hyphen within comment)",
    ),
    (
        "TT_IM084a/TT_IM084a.xml",
        "an annotation comment contains `--`, which XML forbids (libxml2: Double hyphen within comment)",
    ),
];

/// Files that are not well-formed at all.
const MALFORMED: &[(&str, &str)] = &[(
    "TT_EX002a/TT_EX002a.xml",
    "a commented-out block leaves `</Consignment>` unmatched",
)];

#[test]
fn tt_samples_are_classified_validate_and_parse() {
    let Some(dms) = reference() else { return };
    let schemas = schemas().unwrap();
    let mut counts: BTreeMap<Class, usize> = BTreeMap::new();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for (rel, bytes) in tt_files(&dms) {
        let (class, root) = classify(&bytes);
        *counts.entry(class).or_default() += 1;
        match class {
            Class::Declaration => {
                let known = KNOWN_INVALID.iter().find(|(f, _)| *f == rel);
                // The endpoint is chosen by the message kind (function code + type code).
                let kind = parse_declaration(&bytes)
                    .map(|d| d.kind)
                    .unwrap_or(DmsMessageKind::Declaration);
                match (validate_message(schemas, kind, &bytes), known) {
                    (Ok(d), None) => {
                        *kinds
                            .entry(format!(
                                "{:?} {}",
                                d.kind,
                                d.type_code
                                    .as_ref()
                                    .map(|t| t.value.clone())
                                    .unwrap_or_default()
                            ))
                            .or_default() += 1;
                        assert!(d.lrn.is_some(), "{rel}");
                        if d.kind == DmsMessageKind::Declaration {
                            assert!(!d.items.is_empty(), "{rel}");
                            assert!(d.routing_country().is_some(), "{rel}: no routing country");
                        } else {
                            assert!(d.mrn.is_some(), "{rel}");
                        }
                    }
                    (Err(errors), Some(_)) => {
                        assert!(
                            errors.iter().all(|e| e.rule == DmsRule::Schema),
                            "{rel}: {errors:?}"
                        );
                    }
                    (Ok(_), Some((_, reason))) => failures.push(format!(
                        "{rel} validates but is listed as invalid ({reason})"
                    )),
                    (Err(errors), None) => failures.push(format!("{rel}: {errors:#?}")),
                }
            }
            Class::Notification => {
                let n = parse_notification(&bytes)
                    .unwrap_or_else(|e| panic!("{rel}: notification does not parse: {e}"));
                assert!(!n.function_code.is_empty(), "{rel}");
            }
            Class::Malformed => {
                assert!(
                    MALFORMED.iter().any(|(f, _)| *f == rel),
                    "{rel} is not well-formed"
                );
                assert!(parse_declaration(&bytes).is_err(), "{rel}");
                let errors =
                    validate_message(schemas, DmsMessageKind::Declaration, &bytes).unwrap_err();
                assert_eq!(errors[0].rule, DmsRule::Schema, "{rel}");
            }
            Class::Other => {
                // Inventory linking, declaration information service and the
                // MDG submit wrapper are other HMRC services' messages.
                assert_ne!(root, "MetaData", "{rel}");
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} sample(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("TT sample files by class: {counts:?}; valid DMS messages by kind: {kinds:?}");
    assert_eq!(counts.get(&Class::Declaration), Some(&202));
    assert_eq!(counts.get(&Class::Notification), Some(&298));
    assert_eq!(counts.get(&Class::Malformed), Some(&1));
    assert!(
        kinds.keys().any(|k| k.starts_with("Amendment COR")),
        "{kinds:?}"
    );
}

#[test]
fn hmrc_example_notifications_parse() {
    let Some(dms) = reference() else { return };
    let dir = dms.join("examples").join("Example_DMS_notifications");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert_eq!(names.len(), 15);
    for p in names {
        let file = p.file_name().unwrap().to_string_lossy().into_owned();
        let n = parse_notification(&std::fs::read(&p).unwrap())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        // The file name is "NN_DMSXXX.xml"; 17_DMSGER carries function code 18.
        if let Some(kind) = n.kind {
            assert_eq!(&file[3..9], kind.cds_name(), "{file}");
            assert_eq!(&file[..2], kind.function_code(), "{file}");
        }
        if file.starts_with("03_") {
            assert_eq!(
                n.errors,
                vec![(
                    "CDS12005".to_owned(),
                    vec!["42A".to_owned(), "17C/R144".to_owned()]
                )]
            );
            assert_eq!(n.mrn.as_deref(), Some("20GB1NA4Y2YSRFGVR6"));
        }
        if file.starts_with("13_") {
            assert_eq!(n.duties.len(), 2, "{file}");
            assert_eq!(n.duties[0], ("1".into(), "A00".into(), "270.00".into()));
        }
    }
}

fn sample(dms: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(dms.join("examples").join(rel)).unwrap()
}

fn notification(kind: NotificationKind) -> DmsNotification {
    DmsNotification {
        kind,
        notification_id: "a6e4e95b91be4fe4a95800c235c7c010".into(),
        issued_at: Utc.with_ymd_and_hms(2025, 3, 14, 9, 30, 5).unwrap(),
        responsible_country: "GB".into(),
        lrn: "7847767E1WB6".into(),
        mrn: Some("25GB34F7Y1O2CX8PT4".into()),
        version: 1,
        errors: Vec::new(),
        statements: Vec::new(),
        duties: Vec::new(),
    }
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn duties() -> Vec<ItemDuties> {
    vec![ItemDuties {
        sequence: 1,
        duties: vec![
            AssessedDuty {
                tax_type: "A00".into(),
                duty_regime: Some("100".into()),
                ad_valorem_base: Some(dec("1000.00")),
                specific_base: None,
                rate: Some(dec("2.70")),
                amount: dec("27.00"),
                deduct: dec("0.00"),
                payable: dec("27.00"),
                currency: "GBP".into(),
            },
            AssessedDuty {
                tax_type: "B00".into(),
                duty_regime: None,
                ad_valorem_base: Some(dec("1027.00")),
                specific_base: Some((dec("100"), "KGM".into())),
                rate: Some(dec("20.00")),
                amount: dec("205.40"),
                deduct: dec("0.00"),
                payable: dec("205.40"),
                currency: "GBP".into(),
            },
        ],
    }]
}

#[test]
fn every_generated_notification_validates() {
    let Some(dms) = reference() else { return };
    let schemas = schemas().unwrap();
    // A real rejection: TT_IM001a with a malformed declarant EORI and a wrong item count.
    let bad = String::from_utf8(sample(&dms, "TT_IM001a/Step1_TT_IM001a.xml"))
        .unwrap()
        .replace("<ID>GB603202734852</ID>", "<ID>gb-60320</ID>")
        .replace(
            "<GoodsItemQuantity>1</GoodsItemQuantity>",
            "<GoodsItemQuantity>2</GoodsItemQuantity>",
        );
    let errors =
        validate_message(schemas, DmsMessageKind::Declaration, bad.as_bytes()).unwrap_err();
    for kind in portorium_declarations::dms::notify::ALL_KINDS {
        let mut n = notification(kind);
        match kind {
            NotificationKind::Rejected => {
                n.mrn = None;
                n.errors = errors.clone();
            }
            NotificationKind::Received => n.mrn = None,
            NotificationKind::DutiesAssessed => n.duties = duties(),
            NotificationKind::DocumentsRequired => {
                n.statements = vec![Statement {
                    code: Some("ACA".into()),
                    description: Some("Please supply the invoice (N935) & <certificate>".into()),
                    limit: Some(Utc.with_ymd_and_hms(2025, 3, 24, 0, 0, 0).unwrap()),
                    type_code: Some("ACA".into()),
                }]
            }
            NotificationKind::Invalidated => {
                n.statements = vec![Statement {
                    code: None,
                    description: Some("Declaration is no longer required".into()),
                    limit: None,
                    type_code: Some("AFB".into()),
                }]
            }
            _ => {}
        }
        let xml = notification_xml(&n).unwrap();
        if let Err(v) = schemas.validate(DmsSchemaKind::Notification, xml.as_bytes()) {
            panic!("{kind:?} does not validate: {v:?}\n{xml}");
        }
        let back = parse_notification(xml.as_bytes()).unwrap();
        assert_eq!(back.kind, Some(kind));
        assert_eq!(back.lrn.as_deref(), Some("7847767E1WB6"));
        assert_eq!(back.issued_at.as_deref(), Some("20250314093005Z"));
        if kind == NotificationKind::Rejected {
            assert_eq!(back.errors.len(), errors.len());
            assert!(
                back.errors.iter().any(|(code, p)| code == "PDMS0012"
                    && p == &vec!["42A".to_owned(), "57B/R123".to_owned()]),
                "{:?}",
                back.errors
            );
        }
        if kind == NotificationKind::DutiesAssessed {
            assert_eq!(back.duties[1], ("1".into(), "B00".into(), "205.40".into()));
        }
    }
}

#[test]
fn notification_values_that_do_not_fit_the_schema_are_refused() {
    let mut n = notification(NotificationKind::Accepted);
    n.lrn = "X".repeat(36);
    assert!(notification_xml(&n).is_err());
    let mut n = notification(NotificationKind::DutiesAssessed);
    n.duties = duties();
    n.duties[0].duties[0].amount = dec("1.2345");
    assert!(notification_xml(&n).is_err());
    let mut n = notification(NotificationKind::Accepted);
    n.responsible_country = "gb".into();
    assert!(notification_xml(&n).is_err());
}

#[test]
fn business_rules_name_the_element() {
    let Some(dms) = reference() else { return };
    let schemas = schemas().unwrap();
    let original = String::from_utf8(sample(&dms, "TT_IM001a/Step1_TT_IM001a.xml")).unwrap();
    let cases: &[(&str, &str, DmsRule, &str)] = &[
        ("<ID>GB603202734852</ID>", "<ID>XX</ID>", DmsRule::EoriFormat, "/MetaData/Declaration/Declarant/ID"),
        ("<GoodsItemQuantity>1</GoodsItemQuantity>", "<GoodsItemQuantity>3</GoodsItemQuantity>", DmsRule::ItemCount, "/MetaData/Declaration/GoodsItemQuantity"),
        ("<ID>85109000</ID>", "<ID>8510900</ID>", DmsRule::CommodityCode, "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Commodity/Classification[1]/ID"),
        ("<FunctionalReferenceID>7847767E1WB6</FunctionalReferenceID>", "<FunctionalReferenceID>LRN WITH SPACES</FunctionalReferenceID>", DmsRule::LrnFormat, "/MetaData/Declaration/FunctionalReferenceID"),
        ("<ItemChargeAmount currencyID=\"GBP\">", "<ItemChargeAmount currencyID=\"GBX\">", DmsRule::Currency, "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Commodity/InvoiceLine/ItemChargeAmount/@currencyID"),
        ("<CurrentCode>40</CurrentCode>\n\t\t\t\t\t<PreviousCode>00</PreviousCode>", "<CurrentCode>40</CurrentCode>\n\t\t\t\t\t<PreviousCode>0X</PreviousCode>", DmsRule::ProcedureCode, "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/GovernmentProcedure[1]/CurrentCode"),
        ("<TypeCode>IMA</TypeCode>", "<TypeCode>IMW</TypeCode>", DmsRule::DeclarationType, "/MetaData/Declaration/TypeCode"),
        ("item.-->\n\t\t\t\t<SequenceNumeric>1</SequenceNumeric>", "item.-->\n\t\t\t\t<SequenceNumeric>2</SequenceNumeric>", DmsRule::ItemSequence, "/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/SequenceNumeric"),
    ];
    for (from, to, rule, xpath) in cases {
        assert!(original.contains(from), "sample lacks {from:?}");
        let changed = original.replacen(from, to, 1);
        let errors = validate_message(schemas, DmsMessageKind::Declaration, changed.as_bytes())
            .expect_err(to);
        assert!(
            errors
                .iter()
                .any(|e| e.rule == *rule && e.xpath == *xpath && e.code == rule.code()),
            "{to}: {errors:#?}"
        );
    }
    // A schema violation names the element by XPath too.
    let changed = original.replacen(
        "<GoodsItemQuantity>1</GoodsItemQuantity>",
        "<GoodsItemQuantity>one</GoodsItemQuantity>",
        1,
    );
    let errors =
        validate_message(schemas, DmsMessageKind::Declaration, changed.as_bytes()).unwrap_err();
    assert_eq!(errors[0].rule, DmsRule::Schema);
    assert_eq!(
        errors[0].xpath,
        "/MetaData/Declaration[1]/GoodsItemQuantity[1]"
    );
    assert_eq!(pointers_for(&errors[0].xpath).len(), 1);
}

const CANCELLATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<md:MetaData xmlns="urn:wco:datamodel:WCO:DEC-DMS:2" xmlns:md="urn:wco:datamodel:WCO:DocumentMetaData-DMS:2">
  <md:WCODataModelVersionCode>3.6</md:WCODataModelVersionCode>
  <md:WCOTypeName>DEC</md:WCOTypeName>
  <md:ResponsibleCountryCode>GB</md:ResponsibleCountryCode>
  <md:ResponsibleAgencyName>HMRC</md:ResponsibleAgencyName>
  <md:AgencyAssignedCustomizationVersionCode>v2.1</md:AgencyAssignedCustomizationVersionCode>
  <Declaration>
    <FunctionCode>13</FunctionCode>
    <FunctionalReferenceID>TT_IM10b_v4.9_0909_01</FunctionalReferenceID>
    <ID>20GBDPQ8A31WX1XXR5</ID>
    <TypeCode>INV</TypeCode>
    <AdditionalInformation>
      <StatementDescription>Declaration is no longer required</StatementDescription>
      <StatementTypeCode>AES</StatementTypeCode>
      <Pointer><SequenceNumeric>1</SequenceNumeric><DocumentSectionCode>42A</DocumentSectionCode></Pointer>
      <Pointer><SequenceNumeric>1</SequenceNumeric><DocumentSectionCode>06A</DocumentSectionCode></Pointer>
    </AdditionalInformation>
    <Amendment><ChangeReasonCode>1</ChangeReasonCode></Amendment>
  </Declaration>
</md:MetaData>"#;

#[test]
fn cancellation_request_of_the_api_documentation() {
    let Some(dms) = reference() else { return };
    let schemas = schemas().unwrap();
    let d = validate_message(
        schemas,
        DmsMessageKind::Cancellation,
        CANCELLATION.as_bytes(),
    )
    .unwrap();
    assert_eq!(d.kind, DmsMessageKind::Cancellation);
    assert_eq!(d.mrn.as_ref().unwrap().value, "20GBDPQ8A31WX1XXR5");
    let change = d.change.unwrap();
    assert_eq!(change.reason_codes[0].value, "1");
    assert_eq!(
        change.statements[0].value,
        "Declaration is no longer required"
    );
    // A cancellation is not a declaration: the declaration endpoint refuses it
    // (its type code INV is outside the declaration schema's rules, or the kind differs).
    let e = validate_message(
        schemas,
        DmsMessageKind::Declaration,
        CANCELLATION.as_bytes(),
    )
    .unwrap_err();
    assert!(
        matches!(e[0].rule, DmsRule::MessageKind | DmsRule::Schema),
        "{e:?}"
    );
    // An amendment posted as a cancellation fails the cancellation schema.
    let amendment = sample(&dms, "TT_IM061b/TT_IM061b_Amendment.xml");
    let e = validate_message(schemas, DmsMessageKind::Cancellation, &amendment).unwrap_err();
    assert_eq!(e[0].rule, DmsRule::Schema);
    let d = validate_message(schemas, DmsMessageKind::Amendment, &amendment).unwrap();
    assert_eq!(d.mrn.unwrap().value, "22GB6LSBPILA876A08");
    // An MRN of the wrong shape is a business-rule error naming ID.
    let bad = CANCELLATION.replace("20GBDPQ8A31WX1XXR5", "NOT-AN-MRN");
    let e = validate_message(schemas, DmsMessageKind::Cancellation, bad.as_bytes()).unwrap_err();
    assert_eq!(
        (e[0].rule, e[0].xpath.as_str()),
        (DmsRule::MrnFormat, "/MetaData/Declaration/ID")
    );
}

#[test]
fn snapshot_parsed_import_declaration() {
    let Some(dms) = reference() else { return };
    let d = parse_declaration(&sample(&dms, "TT_IM001a/Step1_TT_IM001a.xml")).unwrap();
    assert!(check_rules(&d).is_empty());
    assert_eq!(
        d.items[0].commodity_code.as_ref().unwrap().value,
        "8510900000"
    );
    assert_eq!(d.routing_country().as_deref(), Some("GB"));
    insta::assert_json_snapshot!("dms_parsed_TT_IM001a", d);
}

#[test]
fn quota_order_number_is_read_from_its_duty_line() {
    let Some(dms) = reference() else { return };
    let with_quota = tt_files(&dms)
        .into_iter()
        .find(|(_, b)| String::from_utf8_lossy(b).contains("<QuotaOrderID>054077</QuotaOrderID>"))
        .unwrap();
    let d = parse_declaration(&with_quota.1).unwrap();
    let item = d
        .items
        .iter()
        .find(|i| i.quota_order_number.is_some())
        .unwrap();
    let q = item.quota_order_number.as_ref().unwrap();
    assert_eq!(q.value, "054077");
    assert!(
        q.xpath.contains("/Commodity/DutyTaxFee[") && q.xpath.ends_with("]/QuotaOrderID"),
        "{}",
        q.xpath
    );
}

#[test]
fn snapshot_generated_duties_notification() {
    let mut n = notification(NotificationKind::DutiesAssessed);
    n.duties = duties();
    insta::assert_snapshot!("dms_notification_DMSTAX", notification_xml(&n).unwrap());
}
