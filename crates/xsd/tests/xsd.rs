//! Integration tests for portorium-xsd.
//!
//! Reference data (official TARIC3 and NCTS P5 schemas and samples) is read
//! from `PORTORIUM_REFERENCE` (default `../../../shared/reference` relative to
//! this crate); tests needing it print `SKIPPED: …` and return when absent.
//! Self-contained tests write small schemas into `CARGO_TARGET_TMPDIR`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use portorium_xsd::{Schema, Violation, XsdError, MAX_DOCUMENT_BYTES};

fn reference() -> Option<PathBuf> {
    let dir = std::env::var_os("PORTORIUM_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/reference"
            ))
        });
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: reference data not found at {}", dir.display());
        None
    }
}

/// Writes `content` to a fresh file under the cargo test tmp dir.
fn tmp_file(name: &str, content: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("portorium-xsd");
    std::fs::create_dir_all(&dir).expect("create tmp dir");
    let path = dir.join(format!("{}-{name}", std::process::id()));
    std::fs::write(&path, content).expect("write tmp file");
    path
}

const SIMPLE_XSD: &str = r#"<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="root">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="code" type="CodeType"/>
        <xs:element name="note" minOccurs="0">
          <xs:simpleType>
            <xs:restriction base="xs:string"><xs:maxLength value="0"/></xs:restriction>
          </xs:simpleType>
        </xs:element>
      </xs:sequence>
      <xs:attribute name="version" type="xs:integer"/>
    </xs:complexType>
  </xs:element>
  <xs:simpleType name="CodeType">
    <xs:restriction base="xs:string"><xs:pattern value="[A-Z]{2}"/></xs:restriction>
  </xs:simpleType>
</xs:schema>
"#;

fn simple_schema() -> Schema {
    Schema::from_file(&tmp_file("simple.xsd", SIMPLE_XSD)).expect("simple schema loads")
}

/// Expected violation: (element, message substring); `None` = valid.
type Expected = Option<(&'static str, &'static str)>;

fn has(violations: &[Violation], element: &str, needle: &str) -> bool {
    violations
        .iter()
        .any(|v| v.element.as_deref() == Some(element) && v.message.contains(needle))
}

#[test]
fn schema_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Schema>();
}

#[test]
fn simple_valid_and_invalid() {
    let schema = simple_schema();
    assert_eq!(schema.validate(b"<root><code>GB</code></root>"), Ok(()));

    let errs = schema
        .validate(b"<root version=\"x\">\n<code>gb</code>\n<bogus/>\n</root>")
        .expect_err("invalid");
    // All errors are reported, not just the first.
    assert_eq!(errs.len(), 3, "{errs:#?}");
    assert!(has(&errs, "root", "version"), "{errs:#?}");
    assert!(has(&errs, "code", "pattern"), "{errs:#?}");
    assert!(has(&errs, "bogus", "not expected"), "{errs:#?}");
    let code = errs
        .iter()
        .find(|v| v.element.as_deref() == Some("code"))
        .expect("code violation");
    assert_eq!(code.line, 2);
    let bogus = errs
        .iter()
        .find(|v| v.element.as_deref() == Some("bogus"))
        .expect("bogus violation");
    assert_eq!(bogus.line, 3);
}

#[test]
fn not_well_formed_is_a_violation_with_line() {
    let schema = simple_schema();
    let errs = schema
        .validate(b"<root>\n<code>GB</code>\n<oops>\n</root>")
        .expect_err("not well-formed");
    assert!(!errs.is_empty());
    assert!(errs.iter().all(|v| v.line > 0), "{errs:#?}");
    assert!(errs.iter().any(|v| v.line == 4), "{errs:#?}");
    assert!(errs.iter().any(|v| v.column > 0), "{errs:#?}");

    let errs = schema.validate(b"").expect_err("empty");
    assert!(!errs.is_empty());
    let errs = schema.validate(b"\xff\xfe garbage").expect_err("garbage");
    assert!(!errs.is_empty());
}

#[test]
fn xxe_does_not_read_files() {
    let secret = tmp_file("secret.txt", "TOPSECRET-MARKER");
    let secret_url = format!("file://{}", secret.display());
    let schema = simple_schema();
    let docs = [
        // External general entity.
        format!(
            "<!DOCTYPE root [<!ENTITY e SYSTEM \"{secret_url}\">]>\
             <root><code>GB</code><note>&e;</note></root>"
        ),
        "<!DOCTYPE root [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\
         <root><code>GB</code><note>&e;</note></root>"
            .to_string(),
        // External parameter entity and external DTD subset.
        format!(
            "<!DOCTYPE root [<!ENTITY % p SYSTEM \"{secret_url}\"> %p;]>\
             <root><code>GB</code></root>"
        ),
        format!("<!DOCTYPE root SYSTEM \"{secret_url}\"><root><code>GB</code></root>"),
        // Entity value used in an attribute.
        format!(
            "<!DOCTYPE root [<!ENTITY e SYSTEM \"{secret_url}\">]>\
             <root version=\"&e;\"><code>GB</code></root>"
        ),
    ];
    for doc in &docs {
        let result = schema.validate(doc.as_bytes());
        if let Err(errs) = &result {
            for v in errs {
                assert!(!v.message.contains("TOPSECRET"), "{doc}: {v}");
                assert!(!v.message.contains("root:x:0"), "{doc}: {v}");
            }
        }
    }
    // The entity is never substituted (no XML_PARSE_NOENT): the reference
    // stays in the tree, and libxml2's schema validator rejects documents
    // containing entity references — the file was not read.
    let errs = schema.validate(docs[0].as_bytes()).expect_err("entity ref");
    assert!(has(&errs, "note", "entity reference"), "{errs:#?}");
    // An external DTD subset is not loaded, so the document stays valid.
    assert_eq!(schema.validate(docs[3].as_bytes()), Ok(()));
    // Predefined entities and character references are fine.
    assert_eq!(
        schema.validate(b"<root version=\"&#49;\"><code>&#71;B</code><note></note></root>"),
        Ok(())
    );
}

#[test]
fn oversized_input_is_refused() {
    let schema = simple_schema();
    let big = vec![b' '; MAX_DOCUMENT_BYTES + 1];
    let errs = schema.validate(&big).expect_err("too large");
    assert!(errs[0].message.contains("exceeds"), "{errs:?}");
}

#[test]
fn invalid_and_missing_schemas() {
    let bad = tmp_file(
        "bad.xsd",
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
             <xs:element name="a" type="NoSuchType"/></xs:schema>"#,
    );
    match Schema::from_file(&bad) {
        Err(XsdError::Invalid { messages, .. }) => {
            assert!(
                messages.iter().any(|m| m.contains("NoSuchType")),
                "{messages:?}"
            )
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    let broken = tmp_file("broken.xsd", "<xs:schema");
    assert!(matches!(
        Schema::from_file(&broken),
        Err(XsdError::Invalid { .. })
    ));
    assert!(matches!(
        Schema::from_file(Path::new("/nonexistent/schema.xsd")),
        Err(XsdError::Io { .. })
    ));
}

#[test]
fn network_imports_are_not_fetched() {
    let xsd = tmp_file(
        "net.xsd",
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
             <xs:include schemaLocation="http://127.0.0.1:9/remote.xsd"/>
             <xs:element name="a" type="RemoteType"/></xs:schema>"#,
    );
    assert!(matches!(
        Schema::from_file(&xsd),
        Err(XsdError::Invalid { .. })
    ));
}

#[test]
fn concurrent_validation_on_one_schema() {
    let schema = simple_schema();
    std::thread::scope(|s| {
        for t in 0..4u32 {
            let schema = &schema;
            s.spawn(move || {
                for i in 0..50u32 {
                    let value = format!("t{t}i{i}");
                    let bad = format!("<root>\n\n<code>{value}</code></root>");
                    let errs = schema.validate(bad.as_bytes()).expect_err("invalid");
                    // Errors are per call: exactly this document's error.
                    assert_eq!(errs.len(), 1, "{errs:?}");
                    assert_eq!(errs[0].line, 3);
                    assert_eq!(errs[0].element.as_deref(), Some("code"));
                    assert!(errs[0].message.contains(&value), "{errs:?}");
                    assert_eq!(schema.validate(b"<root><code>GB</code></root>"), Ok(()));
                    let nwf = schema.validate(b"<root><code>").expect_err("nwf");
                    assert!(!nwf.is_empty());
                }
            });
        }
    });
}

#[test]
fn concurrent_validation_taric3() {
    let Some(reference) = reference() else {
        return;
    };
    let dir = reference.join("tariff/taric3");
    let schema = Schema::from_file(&dir.join("taric3.xsd")).expect("taric3.xsd loads");
    let valid = std::fs::read(dir.join("TGB12345.xml")).expect("read");
    let invalid = std::fs::read(dir.join("base_regulation_CREATE.xml")).expect("read");
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..50 {
                    assert_eq!(schema.validate(&valid), Ok(()));
                    let errs = schema.validate(&invalid).expect_err("invalid");
                    assert_eq!(errs.len(), 1, "{errs:?}");
                    assert_eq!(errs[0].element.as_deref(), Some("effective.end.date"));
                }
            });
        }
    });
}

/// TARIC3 envelopes: (file, None) = valid; (file, Some((element, message
/// substring, reason))) = invalid, with at least that violation.
#[test]
fn taric3_samples() {
    let Some(reference) = reference() else {
        return;
    };
    let dir = reference.join("tariff/taric3");
    let schema = Schema::from_file(&dir.join("taric3.xsd")).expect("taric3.xsd loads");

    const ORDER: &str = "This element is not expected";
    const LANG: &str = "The value 'zz' is not accepted by the pattern '[A-Z][A-Z]'";
    let cases: &[(&str, Expected)] = &[
        ("TGB12345.xml", None),
        ("goods.xml", None),
        ("goods_nomenclature_CREATE.xml", None),
        (
            "spec_fixtures_taric_samples_create_then_destroy_measure.xml",
            None,
        ),
        (
            "spec_fixtures_taric_samples_create_then_update_measure.xml",
            None,
        ),
        // effective.end.date placed before validity.start.date (element order).
        (
            "base_regulation_CREATE.xml",
            Some(("effective.end.date", ORDER)),
        ),
        // element order + lower-case language id 'zz'.
        (
            "footnote_association_measure_CREATE.xml",
            Some(("language.id", LANG)),
        ),
        (
            "footnote_association_measure_CREATE.xml",
            Some(("goods.nomenclature.sid", ORDER)),
        ),
        // geographical.membership is not a record type of its own.
        (
            "geographical_membership_CREATE.xml",
            Some(("geographical.membership", ORDER)),
        ),
        // goods.nomenclature.item.id before validity.start.date.
        (
            "goods_nomenclature_indent_CREATE.xml",
            Some(("goods.nomenclature.item.id", ORDER)),
        ),
        ("measure_CREATE.xml", Some(("effective.end.date", ORDER))),
        ("measure_CREATE.xml", Some(("language.id", LANG))),
        ("measure_component_CREATE.xml", Some(("language.id", LANG))),
        ("measure_condition_CREATE.xml", Some(("language.id", LANG))),
        (
            "measure_condition_component_CREATE.xml",
            Some(("language.id", LANG)),
        ),
        (
            "measure_excluded_geographical_area_CREATE.xml",
            Some(("language.id", LANG)),
        ),
        (
            "quota_balance_event_CREATE.xml",
            Some(("language.id", LANG)),
        ),
        (
            "quota_balance_event_CREATE.xml",
            Some(("quota.order.number.sid", ORDER)),
        ),
        ("quota_definition_CREATE.xml", Some(("language.id", LANG))),
        (
            "quota_definition_CREATE.xml",
            Some(("quota.order.number.sid", ORDER)),
        ),
        (
            "quota_order_number_origin_CREATE.xml",
            Some(("geographical.area.sid", ORDER)),
        ),
    ];
    let mut checked = 0;
    for (file, expected) in cases {
        let path = dir.join(file);
        let Ok(xml) = std::fs::read(&path) else {
            eprintln!("SKIPPED: {} missing", path.display());
            continue;
        };
        let result = schema.validate(&xml);
        match expected {
            None => assert_eq!(result, Ok(()), "{file} should be valid"),
            Some((element, needle)) => {
                let errs = result.expect_err(file);
                assert!(
                    has(&errs, element, needle),
                    "{file}: expected {element} / {needle}, got {errs:#?}"
                );
                assert!(errs.iter().all(|v| v.line > 0), "{file}: {errs:#?}");
            }
        }
        checked += 1;
    }
    eprintln!("taric3: {checked} sample checks");
}

/// NCTS P5 (XSD v51.8.6) samples from hmrc/transit-movements-validator.
#[test]
fn ncts_p5_samples() {
    let Some(reference) = reference() else {
        return;
    };
    let xsd_dir = reference.join("ncts-p5/xsd");
    let samples = reference.join("ncts-p5/samples");
    // (message, sample, expected violation (element, message substring)).
    let cases: &[(&str, &str, Expected)] = &[
        ("cc007c", "cc007c-valid.xml", None),
        ("cc007c", "cc007c-valid-xi.xml", None),
        ("cc013c", "cc013c-valid.xml", None),
        ("cc013c", "cc013c-valid-mrn.xml", None),
        ("cc014c", "cc014c-valid.xml", None),
        ("cc015c", "cc015c-valid.xml", None),
        ("cc015c", "cc015c-valid-2.xml", None),
        ("cc025c", "cc025c-valid.xml", None),
        ("cc043c", "cc043c-valid.xml", None),
        ("cc044c", "cc044c-valid.xml", None),
        ("cc170c", "cc170c-valid.xml", None),
        // Invalid only by business rules (office/reference/LRN checks done
        // by the HMRC validator outside the XSD): schema-valid.
        ("cc007c", "cc007c-invalid-recipient.xml", None),
        ("cc007c", "cc007c-invalid-ref-office.xml", None),
        ("cc015c", "cc015c-invalid-lrn.xml", None),
        ("cc015c", "cc015c-invalid-reference-departure.xml", None),
        ("cc013c", "cc013c-invalid-both-mrn-and-lrn.xml", None),
        // Schema-invalid samples.
        (
            "cc007c",
            "cc007c-invalid.xml",
            Some(("messageRecipient", "This element is not expected")),
        ),
        (
            "cc007c",
            "cc007c-invalid-message-sender.xml",
            Some(("messageSender", "pattern")),
        ),
        (
            "cc007c",
            "cc007c-tooManyNodes.xml",
            Some(("messageType", "This element is not expected")),
        ),
        (
            "cc013c",
            "cc013c-invalid.xml",
            Some(("messageRecipient", "Expected is ( messageSender )")),
        ),
        (
            "cc014c",
            "cc014c-invalid-message-sender.xml",
            Some(("messageSender", "not accepted by the pattern '.{1,35}'")),
        ),
        (
            "cc015c",
            "cc015c-invalid.xml",
            Some(("messageRecipient", "This element is not expected")),
        ),
        (
            "cc015c",
            "cc015c-invalid-message-sender.xml",
            Some(("messageSender", "pattern")),
        ),
        (
            "cc044c",
            "cc044c-invalid.xml",
            Some(("messageRecipient", "This element is not expected")),
        ),
        (
            "cc170c",
            "cc170c-invalid-message-sender.xml",
            Some(("messageSender", "pattern")),
        ),
        // Labelled "valid" upstream but fails its own XSD (country code
        // 'st' is lower case); the XSD is the authority.
        (
            "cc029c",
            "cc029c-valid.xml",
            Some((
                "countryOfDispatch",
                "The value 'st' is not accepted by the pattern '[A-Z]{2}'",
            )),
        ),
    ];
    let mut schemas = std::collections::HashMap::new();
    let mut checked = 0;
    for (message, file, expected) in cases {
        let path = samples.join(file);
        let Ok(xml) = std::fs::read(&path) else {
            eprintln!("SKIPPED: {} missing", path.display());
            continue;
        };
        let schema = schemas.entry(*message).or_insert_with(|| {
            Schema::from_file(&xsd_dir.join(format!("{message}.xsd")))
                .unwrap_or_else(|e| panic!("{message}.xsd: {e}"))
        });
        let result = schema.validate(&xml);
        match expected {
            None => assert_eq!(result, Ok(()), "{file} should be schema-valid"),
            Some((element, needle)) => {
                let errs = result.expect_err(file);
                assert!(
                    has(&errs, element, needle),
                    "{file}: expected {element} / {needle}, got {errs:#?}"
                );
                assert!(errs.iter().all(|v| v.line > 0), "{file}: {errs:#?}");
            }
        }
        checked += 1;
    }
    eprintln!("ncts-p5: {checked} sample checks");
    // A sample of one message type is rejected by another message's XSD.
    if let (Some(cc015), Ok(xml)) = (
        schemas.get("cc015c"),
        std::fs::read(samples.join("cc007c-valid.xml")),
    ) {
        let errs = cc015.validate(&xml).expect_err("wrong root");
        assert!(
            has(&errs, "CC007C", "No matching global declaration"),
            "{errs:#?}"
        );
    }
}

/// A schema compiled from memory: the same validation as from a file, its include read from
/// an absolute file location, errors under the given name, and never the network.
#[test]
fn schema_from_memory() {
    let from_memory = Schema::from_memory(SIMPLE_XSD.as_bytes(), Path::new("(simple)")).unwrap();
    assert_eq!(from_memory.path(), Path::new("(simple)"));
    assert!(from_memory
        .validate(b"<root><code>NL</code></root>")
        .is_ok());
    let v = from_memory
        .validate(b"<root><code>nl</code></root>")
        .unwrap_err();
    assert!(has(&v, "code", "pattern"), "{v:?}");

    let included = tmp_file("included.xsd", SIMPLE_XSD);
    let uri = format!("file://{}", included.canonicalize().unwrap().display());
    let wrapper = format!(
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:include schemaLocation="{uri}"/></xs:schema>"#
    );
    let wrapped = Schema::from_memory(wrapper.as_bytes(), Path::new("(wrapper)")).unwrap();
    assert!(wrapped.validate(b"<root><code>DE</code></root>").is_ok());
    assert!(wrapped.validate(b"<root><code>D</code></root>").is_err());

    match Schema::from_memory(b"<xs:schema", Path::new("(broken)")) {
        Err(XsdError::Invalid { path, .. }) => assert_eq!(path, Path::new("(broken)")),
        other => panic!("expected Invalid, got {other:?}"),
    }
    let remote = br#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
        <xs:include schemaLocation="http://127.0.0.1:9/remote.xsd"/>
        <xs:element name="a" type="RemoteType"/></xs:schema>"#;
    assert!(matches!(
        Schema::from_memory(remote, Path::new("(remote)")),
        Err(XsdError::Invalid { .. })
    ));
}
