// The code-list tables and the membership check (error 12): against the NCTS message tables
// and HMRC's CC015C sample of the reference data (`PORTORIUM_REFERENCE`; those tests print
// `SKIPPED` without it), and on hand-written messages.

use std::collections::{BTreeMap, BTreeSet};

use portorium_declarations::codelists::{
    check_code_lists, check_values, coded_fields, coded_values, distinct_codes, CodeList, CL008,
    CL017, CL152, CL248,
};
use portorium_declarations::tree::parse_xml;
use portorium_declarations::MessageType;

use super::{reference, sample};

/// Each table names the same code lists, as often, as the "Code Lists" column of the
/// message's table in the specification (IE015_table.md…).
#[test]
fn tables_name_the_code_lists_of_the_message_tables() {
    let Some(ncts) = reference() else { return };
    for (message, table) in [
        (MessageType::CC015C, "IE015"),
        (MessageType::CC013C, "IE013"),
        (MessageType::CC014C, "IE014"),
        (MessageType::CC007C, "IE007"),
        (MessageType::CC044C, "IE044"),
    ] {
        let text =
            std::fs::read_to_string(ncts.join(format!("spec/message-tables/{table}_table.md")))
                .unwrap();
        let mut spec: BTreeMap<String, usize> = BTreeMap::new();
        for cell in text.split("<td>").skip(1) {
            let cell = cell.split("</td>").next().unwrap_or_default().trim();
            if cell.len() == 5
                && cell.starts_with("CL")
                && cell[2..].chars().all(|c| c.is_ascii_digit())
            {
                *spec.entry(cell.to_owned()).or_default() += 1;
            }
        }
        let mut ours: BTreeMap<String, usize> = BTreeMap::new();
        for (_, list) in coded_fields(message) {
            *ours.entry(list.number.to_owned()).or_default() += 1;
        }
        assert_eq!(ours, spec, "{message} against {table}");
        // And each list's name is the catalogue's.
        let catalogue = std::fs::read_to_string(ncts.join("spec/code_lists.csv")).unwrap();
        let names: BTreeSet<(&str, &str)> = catalogue
            .lines()
            .skip(1)
            .filter_map(|l| l.trim().split_once(','))
            .collect();
        for (_, list) in coded_fields(message) {
            assert!(
                names.contains(&(list.number, list.name)),
                "{list:?} not in code_lists.csv"
            );
        }
    }
}

/// HMRC's full CC015C sample: every coded element, with its XPath, list and value.
#[test]
fn finds_the_coded_elements_of_a_real_cc015c() {
    let Some(_) = reference() else { return };
    let root = parse_xml(&sample("cc015c-valid-2.xml")).unwrap();
    let found: Vec<(&str, &str, &str)> = coded_values(MessageType::CC015C, &root)
        .iter()
        .map(|c| (c.xpath, c.list.number, c.value))
        .collect();
    let c = "/CC015C/Consignment";
    let item = "/CC015C/Consignment/HouseConsignment/ConsignmentItem";
    let expected: Vec<(String, &str, &str)> = vec![
        ("/CC015C/messageType".into(), "CL060", "CC015C"),
        (
            "/CC015C/TransitOperation/declarationType".into(),
            "CL231",
            "T1",
        ),
        (
            "/CC015C/TransitOperation/additionalDeclarationType".into(),
            "CL042",
            "A",
        ),
        ("/CC015C/TransitOperation/security".into(), "CL217", "0"),
        (
            "/CC015C/TransitOperation/reducedDatasetIndicator".into(),
            "CL027",
            "0",
        ),
        (
            "/CC015C/TransitOperation/communicationLanguageAtDeparture".into(),
            "CL192",
            "AT",
        ),
        (
            "/CC015C/TransitOperation/bindingItinerary".into(),
            "CL027",
            "0",
        ),
        ("/CC015C/Authorisation/type".into(), "CL235", "C521"),
        (
            "/CC015C/CustomsOfficeOfDeparture/referenceNumber".into(),
            "CL171",
            "XI000081",
        ),
        (
            "/CC015C/CustomsOfficeOfDestinationDeclared/referenceNumber".into(),
            "CL172",
            "GB000120",
        ),
        (
            "/CC015C/CustomsOfficeOfTransitDeclared/referenceNumber".into(),
            "CL173",
            "GB000060",
        ),
        (
            "/CC015C/HolderOfTheTransitProcedure/Address/country".into(),
            "CL248",
            "BG",
        ),
        ("/CC015C/Guarantee/guaranteeType".into(), "CL251", "1"),
        (
            "/CC015C/Guarantee/GuaranteeReference/currency".into(),
            "CL048",
            "GBP",
        ),
        (format!("{c}/countryOfDestination"), "CL008", "GB"),
        (format!("{c}/containerIndicator"), "CL027", "1"),
        (format!("{c}/inlandModeOfTransport"), "CL218", "4"),
        (format!("{c}/modeOfTransportAtTheBorder"), "CL218", "1"),
        (format!("{c}/Consignor/Address/country"), "CL248", "BG"),
        (format!("{c}/Consignee/Address/country"), "CL248", "AE"),
        (format!("{c}/LocationOfGoods/typeOfLocation"), "CL347", "A"),
        (
            format!("{c}/LocationOfGoods/qualifierOfIdentification"),
            "CL326",
            "U",
        ),
        (format!("{c}/LocationOfGoods/UNLocode"), "CL244", "ADENC"),
        (
            format!("{c}/ActiveBorderTransportMeans/customsOfficeAtBorderReferenceNumber"),
            "CL141",
            "XI005220",
        ),
        (
            format!("{c}/ActiveBorderTransportMeans/typeOfIdentification"),
            "CL219",
            "80",
        ),
        (
            format!("{c}/ActiveBorderTransportMeans/nationality"),
            "CL165",
            "XI",
        ),
        (format!("{c}/PlaceOfLoading/UNLocode"), "CL244", "ADENC"),
        (format!("{c}/PlaceOfLoading/country"), "CL008", "BG"),
        (
            format!("{item}/AdditionalSupplyChainActor/role"),
            "CL704",
            "WH",
        ),
        (format!("{item}/Commodity/cusCode"), "CL016", "0010002-7"),
        (
            format!("{item}/Commodity/CommodityCode/harmonizedSystemSubHeadingCode"),
            "CL152",
            "152000",
        ),
        (
            format!("{item}/Commodity/DangerousGoods/UNNumber"),
            "CL101",
            "0004",
        ),
        (format!("{item}/Packaging/typeOfPackages"), "CL017", "1A"),
    ];
    let expected: Vec<(&str, &str, &str)> = expected
        .iter()
        .map(|(x, l, v)| (x.as_str(), *l, *v))
        .collect();
    assert_eq!(found, expected);
}

/// A declaration with repeated elements: two routing countries, two house consignments, the
/// second with two goods items of two packagings each.
const REPEATED: &str = r#"<ncts:CC015C xmlns:ncts="http://ncts.dgtaxud.ec">
<messageType>CC015C</messageType>
<HolderOfTheTransitProcedure><Address><country>QQ</country></Address></HolderOfTheTransitProcedure>
<Consignment><countryOfDispatch>XX</countryOfDispatch><countryOfDestination>DE</countryOfDestination>
<CountryOfRoutingOfConsignment><sequenceNumber>1</sequenceNumber><country>NL</country></CountryOfRoutingOfConsignment>
<CountryOfRoutingOfConsignment><sequenceNumber>2</sequenceNumber><country>ZZ</country></CountryOfRoutingOfConsignment>
<HouseConsignment><ConsignmentItem><Packaging><typeOfPackages>PX</typeOfPackages></Packaging></ConsignmentItem></HouseConsignment>
<HouseConsignment>
<ConsignmentItem><countryOfDispatch>BE</countryOfDispatch><Commodity><CommodityCode><harmonizedSystemSubHeadingCode>851712</harmonizedSystemSubHeadingCode></CommodityCode></Commodity>
<Packaging><typeOfPackages>PX</typeOfPackages></Packaging><Packaging><typeOfPackages>CT</typeOfPackages></Packaging></ConsignmentItem>
<ConsignmentItem><Packaging><typeOfPackages>PX</typeOfPackages></Packaging><Packaging><typeOfPackages></typeOfPackages></Packaging></ConsignmentItem>
</HouseConsignment></Consignment>
</ncts:CC015C>"#;

#[test]
fn repeated_elements_are_each_found_with_their_xpath() {
    let root = parse_xml(REPEATED.as_bytes()).unwrap();
    let values = coded_values(MessageType::CC015C, &root);
    let of = |list: CodeList| -> Vec<(&str, &str)> {
        values
            .iter()
            .filter(|c| c.list == list)
            .map(|c| (c.xpath, c.value))
            .collect()
    };
    assert_eq!(
        of(CL008),
        [
            ("/CC015C/Consignment/countryOfDispatch", "XX"),
            ("/CC015C/Consignment/countryOfDestination", "DE"),
            (
                "/CC015C/Consignment/CountryOfRoutingOfConsignment[1]/country",
                "NL"
            ),
            (
                "/CC015C/Consignment/CountryOfRoutingOfConsignment[2]/country",
                "ZZ"
            ),
            (
                "/CC015C/Consignment/HouseConsignment[2]/ConsignmentItem[1]/countryOfDispatch",
                "BE"
            ),
        ]
    );
    // The empty typeOfPackages is left to the schema.
    assert_eq!(
        of(CL017),
        [
            ("/CC015C/Consignment/HouseConsignment[1]/ConsignmentItem/Packaging/typeOfPackages", "PX"),
            (
                "/CC015C/Consignment/HouseConsignment[2]/ConsignmentItem[1]/Packaging[1]/typeOfPackages",
                "PX"
            ),
            (
                "/CC015C/Consignment/HouseConsignment[2]/ConsignmentItem[1]/Packaging[2]/typeOfPackages",
                "CT"
            ),
            (
                "/CC015C/Consignment/HouseConsignment[2]/ConsignmentItem[2]/Packaging[1]/typeOfPackages",
                "PX"
            ),
        ]
    );
    assert_eq!(of(CL152).len(), 1);
    // One lookup per distinct (list, code): PX appears three times.
    let distinct = distinct_codes(&values);
    assert_eq!(
        distinct
            .iter()
            .filter(|(l, c)| *l == CL017 && *c == "PX")
            .count(),
        1
    );
    assert_eq!(distinct.len(), values.len() - 2);
    // The same paths in an amendment, none in a customs message.
    assert_eq!(coded_values(MessageType::CC013C, &root).len(), values.len());
    assert!(coded_values(MessageType::CC029C, &root).is_empty());
}

/// Reference data known to the lookup: countries (CL008) and package kinds (CL017); nothing
/// for the other lists.
fn lookup(list: CodeList, code: &str) -> Option<bool> {
    match list.number {
        "CL008" => Some(["BE", "DE", "FR", "NL"].contains(&code)),
        "CL017" => Some(["CT", "PX"].contains(&code)),
        _ => None,
    }
}

#[test]
fn check_reports_codes_not_in_their_list_and_skips_unknown_lists() {
    let root = parse_xml(REPEATED.as_bytes()).unwrap();
    let errors = check_code_lists(MessageType::CC015C, &root, lookup);
    let got: Vec<(u16, &str, Option<&str>, Option<&str>)> = errors
        .iter()
        .map(|e| {
            (
                e.code,
                e.error_pointer.as_str(),
                e.rule.as_deref(),
                e.original_value.as_deref(),
            )
        })
        .collect();
    // XX and ZZ are not countries; NL, DE, BE and the packages are fine; the holder's
    // address country QQ (CL248) and the HS code (CL152) have no reference data: unchecked.
    assert_eq!(
        got,
        [
            (
                12,
                "/CC015C/Consignment/countryOfDispatch",
                Some("CL008"),
                Some("XX")
            ),
            (
                12,
                "/CC015C/Consignment/CountryOfRoutingOfConsignment[2]/country",
                Some("CL008"),
                Some("ZZ")
            ),
        ]
    );
    assert_eq!(
        errors[0].reason,
        "XX is not in code list CL008 (CountryCodesFullList)"
    );
    assert_eq!(errors[0].message_code(), 12);
    assert_eq!(errors[0].message_reason(), "CL008");
    // With reference data for CL248 too, the holder's country is reported.
    let errors = check_values(&coded_values(MessageType::CC015C, &root), |l, c| {
        if l == CL248 {
            Some(c == "NL")
        } else {
            lookup(l, c)
        }
    });
    assert_eq!(errors.len(), 3);
    assert_eq!(
        errors[0].error_pointer,
        "/CC015C/HolderOfTheTransitProcedure/Address/country"
    );
    // No reference data at all: nothing is checked.
    assert!(check_code_lists(MessageType::CC015C, &root, |_, _| None).is_empty());
}

/// HMRC's sample: its countries (CL008) pass when they are in the list, and one that is not
/// is reported with its XPath.
#[test]
fn the_sample_is_checked_against_the_countries() {
    let Some(_) = reference() else { return };
    let root = parse_xml(&sample("cc015c-valid-2.xml")).unwrap();
    let errors = check_code_lists(MessageType::CC015C, &root, |l, c| {
        (l == CL008).then(|| ["AE", "BG", "GB", "XI"].contains(&c))
    });
    assert!(errors.is_empty(), "{errors:?}");
    let errors = check_code_lists(MessageType::CC015C, &root, |l, c| {
        (l == CL008).then_some(c == "GB")
    });
    assert_eq!(
        errors
            .iter()
            .map(|e| e.error_pointer.as_str())
            .collect::<Vec<_>>(),
        ["/CC015C/Consignment/PlaceOfLoading/country"]
    );
}
