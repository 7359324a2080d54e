//! Reference data parsers: small documents written here, and the published files from
//! `PORTORIUM_REFERENCE` (skipped with a message when absent).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::NaiveDate;
use portorium_refdata::*;
use std::path::PathBuf;

const SMALL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ns6:RDEntityList xmlns:ns0="a" xmlns:ns1="b" xmlns:ns2="c" xmlns:ns3="d" xmlns:ns5="e" xmlns:ns6="f">
  <ns0:RDEntity name="Role">
    <ns1:RDEntry>
      <ns2:RDEntryStatus><ns3:state>valid</ns3:state><ns3:activeFrom>2024-10-22</ns3:activeFrom></ns2:RDEntryStatus>
      <ns2:dataItem name="Role">DEP</ns2:dataItem>
      <ns2:LsdList><ns5:description lang="fr">Départ</ns5:description><ns5:description lang="en">Departure</ns5:description></ns2:LsdList>
    </ns1:RDEntry>
  </ns0:RDEntity>
  <ns0:RDEntity name="CustomsOffices">
    <ns1:RDEntry>
      <ns2:RDEntryStatus><ns3:state>valid</ns3:state><ns3:activeFrom>2020-03-23</ns3:activeFrom><ns3:activeTo>2030-01-01</ns3:activeTo></ns2:RDEntryStatus>
      <ns2:dataItem name="ReferenceNumber">NL000110</ns2:dataItem>
      <ns2:dataItem name="ReferenceNumberMainOffice">NL000001</ns2:dataItem>
      <ns2:dataItem name="CountryCode">NL</ns2:dataItem>
      <ns2:dataItem name="TraderDedicated">0</ns2:dataItem>
      <ns2:dataGroup name="CustomsOfficeLsd">
        <ns2:dataItem name="LanguageCode">NL</ns2:dataItem>
        <ns2:dataItem name="CustomsOfficeUsualName">Douanekantoor &amp; Co</ns2:dataItem>
      </ns2:dataGroup>
      <ns2:dataGroup name="CustomsOfficeLsd">
        <ns2:dataItem name="LanguageCode">EN</ns2:dataItem>
        <ns2:dataItem name="CustomsOfficeUsualName">Customs office &amp; Co</ns2:dataItem>
        <ns2:dataItem name="City">Rotterdam</ns2:dataItem>
      </ns2:dataGroup>
      <ns2:dataGroup name="CustomsOfficeTimetable">
        <ns2:dataItem name="SeasonCode">1</ns2:dataItem>
        <ns2:dataGroup name="CustomsOfficeTimetableLine">
          <ns2:dataGroup name="CustomsOfficeRoleTrafficCompetence">
            <ns2:dataItem name="Role">DES</ns2:dataItem><ns2:dataItem name="TrafficType">R</ns2:dataItem>
          </ns2:dataGroup>
          <ns2:dataGroup name="CustomsOfficeRoleTrafficCompetence">
            <ns2:dataItem name="Role">DEP</ns2:dataItem><ns2:dataItem name="TrafficType">R</ns2:dataItem>
          </ns2:dataGroup>
        </ns2:dataGroup>
        <ns2:dataGroup name="CustomsOfficeTimetableLine">
          <ns2:dataGroup name="CustomsOfficeRoleTrafficCompetence">
            <ns2:dataItem name="Role">DEP</ns2:dataItem><ns2:dataItem name="TrafficType">R</ns2:dataItem>
          </ns2:dataGroup>
        </ns2:dataGroup>
      </ns2:dataGroup>
    </ns1:RDEntry>
  </ns0:RDEntity>
  <ns0:RDEntity name="CountryRegion">
    <ns1:RDEntry>
      <ns2:RDEntryStatus><ns3:state>valid</ns3:state><ns3:activeFrom>1900-01-01</ns3:activeFrom></ns2:RDEntryStatus>
      <ns2:dataItem name="CountryCode">BE</ns2:dataItem>
      <ns2:dataItem name="CountryRegionCode">BRU</ns2:dataItem>
    </ns1:RDEntry>
  </ns0:RDEntity>
</ns6:RDEntityList>"#;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn col_xml_offices_roles_and_code_lists() {
    let f = parse(SMALL.as_bytes()).unwrap();
    let offices = f.offices.unwrap();
    assert_eq!(offices.len(), 1);
    let o = &offices[0];
    assert_eq!(o.reference, "NL000110");
    assert_eq!(o.name, "Customs office & Co");
    assert_eq!(o.city.as_deref(), Some("Rotterdam"));
    assert_eq!(o.main_office.as_deref(), Some("NL000001"));
    assert_eq!(
        o.roles,
        vec![("DEP".into(), "R".into()), ("DES".into(), "R".into())]
    );
    assert_eq!(
        (o.valid_from, o.valid_to),
        (d("2020-03-23"), Some(d("2030-01-01")))
    );
    assert_eq!(f.code_lists.len(), 1);
    assert_eq!(f.code_lists[0].name, "Role");
    assert_eq!(f.code_lists[0].codes[0].description, "Departure");
    assert_eq!(f.skipped, vec!["CountryRegion".to_string()]);
}

#[test]
fn formats_are_recognised_and_bad_input_refused() {
    let csv = "Code List,Title\nCL008,CountryCodesFullList\nCL009,CountryCodesCommonTransit\n";
    let f = parse(csv.as_bytes()).unwrap();
    assert_eq!(
        f.catalogue.unwrap()[1],
        ("CL009".into(), "CountryCodesCommonTransit".into())
    );
    assert!(matches!(
        parse(b"Code List,Title\nXX1,Foo\n"),
        Err(RefdataError::Csv { line: 2, .. })
    ));
    assert!(matches!(
        parse(b"Code List,Title\nCL008,A\nCL008,B\n"),
        Err(RefdataError::Csv { line: 3, .. })
    ));
    assert!(matches!(parse(b"hello"), Err(RefdataError::UnknownFormat)));
    assert!(matches!(
        parse(b"<a><b></a>"),
        Err(RefdataError::Xml { .. })
    ));
    assert!(matches!(
        parse(b"PK\x03\x04garbage"),
        Err(RefdataError::Zip(_))
    ));
    let bad_date = SMALL.replace("2020-03-23", "someday");
    assert!(matches!(
        parse(bad_date.as_bytes()),
        Err(RefdataError::Entry { .. })
    ));
}

fn reference() -> Option<PathBuf> {
    let dir = std::env::var("PORTORIUM_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference")
        });
    if dir.join("ncts-p5/spec").is_dir() {
        Some(dir.join("ncts-p5/spec"))
    } else {
        eprintln!(
            "SKIPPED: reference data not found at {} (set PORTORIUM_REFERENCE)",
            dir.display()
        );
        None
    }
}

#[test]
fn published_col_zip_parses() {
    let Some(spec) = reference() else { return };
    let bytes = std::fs::read(spec.join("downloads/COL-Generic-20241105.zip")).unwrap();
    let f = parse(&bytes).unwrap();
    let offices = f.offices.unwrap();
    assert!(offices.len() > 3000, "{} offices", offices.len());
    // Unique references, each with a country and a name.
    let mut refs: Vec<&str> = offices.iter().map(|o| o.reference.as_str()).collect();
    refs.dedup();
    assert_eq!(refs.len(), offices.len());
    assert!(offices
        .iter()
        .all(|o| o.reference.len() == 8 && o.country.len() == 2));
    let ad = offices.iter().find(|o| o.reference == "AD000001").unwrap();
    assert_eq!(ad.name, "CUSTOMS OFFICE SANT JULIÀ DE LÒRIA");
    assert!(ad.roles.contains(&("DEP".into(), "R".into())));
    assert!(ad.roles.contains(&("AUT".into(), "N/A".into())));
    assert_eq!(ad.valid_from, d("2020-03-23"));
    let nl_departure = offices
        .iter()
        .filter(|o| o.country == "NL" && o.roles.iter().any(|(r, _)| r == "DEP"))
        .count();
    assert!(nl_departure > 10, "{nl_departure} NL departure offices");
    let names: Vec<&str> = f.code_lists.iter().map(|l| l.name.as_str()).collect();
    for list in [
        "CountryCodesFullList",
        "Role",
        "TrafficType",
        "UnLocode",
        "LanguageCodes",
    ] {
        assert!(names.contains(&list), "{list} missing from {names:?}");
    }
    let roles = f.code_lists.iter().find(|l| l.name == "Role").unwrap();
    assert!(roles.codes.iter().any(|c| c.code == "DEP"));
    let countries = f
        .code_lists
        .iter()
        .find(|l| l.name == "CountryCodesFullList")
        .unwrap();
    let nl = countries.codes.iter().find(|c| c.code == "NL").unwrap();
    assert_eq!(nl.description, "Netherlands");
    let unlocode = f.code_lists.iter().find(|l| l.name == "UnLocode").unwrap();
    assert!(unlocode.codes.iter().any(|c| c.code == "ADALV"));
    assert!(f.skipped.contains(&"CountryHolidays".to_string()));
}

#[test]
fn published_code_list_catalogue_parses() {
    let Some(spec) = reference() else { return };
    let bytes = std::fs::read(spec.join("code_lists.csv")).unwrap();
    let f = parse(&bytes).unwrap();
    let cat = f.catalogue.unwrap();
    assert_eq!(cat.len(), 78);
    assert_eq!(cat[0], ("CL008".into(), "CountryCodesFullList".into()));
    assert!(cat
        .iter()
        .any(|(n, t)| n == "CL251" && t == "GuaranteeType"));
}
