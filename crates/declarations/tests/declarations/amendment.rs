//! Rule R0520 on small declarations: each case edits the amendment and names the pointers
//! of the violations expected (none: allowed).

use portorium_declarations::amendment::r0520;
use portorium_declarations::tree::{parse_xml, Element};

const DECLARATION: &str = r#"<ncts:CC015C xmlns:ncts="http://ncts.dgtaxud.ec"><messageSender>NL000000001</messageSender><messageIdentification>M1</messageIdentification><TransitOperation><LRN>L1</LRN><declarationType>T1</declarationType><security>0</security></TransitOperation><CustomsOfficeOfDeparture><referenceNumber>NL000510</referenceNumber></CustomsOfficeOfDeparture><HolderOfTheTransitProcedure><identificationNumber>NL000000001</identificationNumber></HolderOfTheTransitProcedure><Guarantee><guaranteeType>1</guaranteeType></Guarantee><Consignment><grossMass>10</grossMass><HouseConsignment><sequenceNumber>1</sequenceNumber><ConsignmentItem><goodsItemNumber>1</goodsItemNumber><Commodity><CommodityCode><harmonizedSystemSubHeadingCode>847130</harmonizedSystemSubHeadingCode></CommodityCode></Commodity></ConsignmentItem><ConsignmentItem><goodsItemNumber>2</goodsItemNumber><Commodity><CommodityCode><harmonizedSystemSubHeadingCode>847150</harmonizedSystemSubHeadingCode></CommodityCode></Commodity></ConsignmentItem></HouseConsignment></Consignment></ncts:CC015C>"#;

fn tree(xml: &str) -> Element {
    let mut e = parse_xml(xml.as_bytes()).unwrap();
    e.assign_xpaths();
    e
}

/// The amendment of DECLARATION with `flag`, another message identification and `edits`
/// (text replacements) applied.
fn amendment(flag: &str, edits: &[(&str, &str)]) -> Element {
    let mut xml = DECLARATION
        .replace("CC015C", "CC013C")
        .replace("<messageIdentification>M1<", "<messageIdentification>M2<")
        .replace(
            "<security>0</security>",
            &format!("<security>0</security><amendmentTypeFlag>{flag}</amendmentTypeFlag>"),
        );
    for (from, to) in edits {
        assert!(xml.contains(from), "{from}");
        xml = xml.replacen(from, to, 1);
    }
    tree(&xml)
}

fn check(flag: &str, under_amendment: bool, edits: &[(&str, &str)], expected: &[&str]) {
    let errors = r0520(&amendment(flag, edits), &tree(DECLARATION), under_amendment);
    let pointers: Vec<&str> = errors.iter().map(|e| e.error_pointer.as_str()).collect();
    assert_eq!(
        pointers, expected,
        "flag {flag}, under amendment {under_amendment}, {edits:?}: {errors:#?}"
    );
    for e in &errors {
        assert_eq!((e.code, e.rule.as_deref()), (14, Some("R0520")));
        assert!(e.reason.starts_with("R0520: "), "{}", e.reason);
    }
}

#[test]
fn a_normal_amendment_keeps_the_fixed_parts() {
    // Allowed: the consignment, the guarantee, the message header.
    check("0", false, &[], &[]);
    check("0", false, &[("<grossMass>10<", "<grossMass>12<")], &[]);
    check(
        "0",
        false,
        &[("<guaranteeType>1<", "<guaranteeType>0<")],
        &[],
    );
    // Not allowed.
    check(
        "0",
        false,
        &[("<declarationType>T1<", "<declarationType>T2<")],
        &["/CC013C/TransitOperation/declarationType"],
    );
    check(
        "0",
        false,
        &[("<referenceNumber>NL000510<", "<referenceNumber>NL000396<")],
        &["/CC013C/CustomsOfficeOfDeparture"],
    );
    check(
        "0",
        false,
        &[(
            "<Guarantee>",
            "<Representative><identificationNumber>NL9</identificationNumber><status>2</status></Representative><Guarantee>",
        )],
        &["/CC013C/Representative"],
    );
    check(
        "0",
        false,
        &[("<security>0</security>", "")],
        &["/CC013C/TransitOperation/security"],
    );
    // The second goods item's HS code; a goods item added has nothing to compare with.
    check(
        "0",
        false,
        &[("847150", "847160")],
        &["/CC013C/Consignment/HouseConsignment/ConsignmentItem[2]/Commodity/CommodityCode/harmonizedSystemSubHeadingCode"],
    );
    check(
        "0",
        false,
        &[(
            "</HouseConsignment>",
            "<ConsignmentItem><goodsItemNumber>3</goodsItemNumber><Commodity><CommodityCode><harmonizedSystemSubHeadingCode>010392</harmonizedSystemSubHeadingCode></CommodityCode></Commodity></ConsignmentItem></HouseConsignment>",
        )],
        &[],
    );
}

#[test]
fn a_guarantee_amendment_changes_only_the_guarantee() {
    check(
        "1",
        true,
        &[("<guaranteeType>1<", "<guaranteeType>0<")],
        &[],
    );
    check(
        "1",
        true,
        &[
            ("<guaranteeType>1<", "<guaranteeType>0<"),
            ("<grossMass>10<", "<grossMass>12<"),
        ],
        &["/CC013C/Consignment"],
    );
    check(
        "1",
        true,
        &[("<declarationType>T1<", "<declarationType>T2<")],
        &["/CC013C/TransitOperation/declarationType"],
    );
}

#[test]
fn a_flag_that_does_not_match_the_state_is_not_this_rule() {
    check(
        "1",
        false,
        &[("<declarationType>T1<", "<declarationType>T2<")],
        &[],
    );
    check(
        "0",
        true,
        &[("<declarationType>T1<", "<declarationType>T2<")],
        &[],
    );
}
