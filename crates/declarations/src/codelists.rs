//! Which elements of the trader messages take their values from an NCTS code list, and the
//! membership check of those values (functional error 12, codelist violation).
//!
//! The tables below are Portorium's own, written from the message tables of the NCTS phase 5
//! specification (the "Code Lists" column of IE007, IE013, IE014, IE015 and IE044): one row per
//! data element that names a code list, as the element's path below the root (local names,
//! without indices). Every step of a path may repeat (house consignments, goods items,
//! packagings, routing countries…): [`coded_values`] visits every occurrence, each with its own
//! XPath.
//!
//! [`check_code_lists`] takes the membership as a lookup `Fn(CodeList, code) -> Option<bool>`
//! (the caller's reference data, as of the day it checks). `Some(false)` is an error 12 naming
//! the element's XPath; `None` means the caller has no reference data for that list (never
//! imported), and the element is **not checked**: a list that is not there cannot reject
//! anything. Lists such as the customs office lists (CL141, CL171…) are in the tables for
//! completeness; whether a value is checked depends only on what the lookup knows.
//!
//! Pure: no IO, no clock.

use crate::message::MessageType;
use crate::tree::Element;
use crate::validate::{FunctionalError, CODELIST_VIOLATION};

/// An NCTS code list: its catalogue number and name (the title in the code-list catalogue,
/// which is also the entity name of the published reference data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodeList {
    /// `CL008`.
    pub number: &'static str,
    /// `CountryCodesFullList`.
    pub name: &'static str,
}

macro_rules! lists {
    ($($id:ident = $name:literal;)*) => {
        $(
            #[doc = concat!("Code list ", stringify!($id), ", `", $name, "`.")]
            pub const $id: CodeList = CodeList { number: stringify!($id), name: $name };
        )*
        /// Every code list named by the tables, by number.
        pub const LISTS: &[CodeList] = &[$($id),*];
    };
}

lists! {
    CL008 = "CountryCodesFullList";
    CL009 = "CountryCodesCommonTransit";
    CL016 = "CUSCode";
    CL017 = "KindOfPackages";
    CL019 = "IncidentCode";
    CL027 = "Flag";
    CL038 = "QualifierOfIdentificationIncident";
    CL042 = "DeclarationTypeAdditional";
    CL048 = "CurrencyCodes";
    CL060 = "MessageTypes";
    CL094 = "RepresentativeStatusCode";
    CL101 = "UnDangerousGoodsCode";
    CL116 = "TransportChargesMethodOfPayment";
    CL141 = "CustomsOffices";
    CL152 = "HScode";
    CL165 = "Nationality";
    CL171 = "CustomsOfficeDeparture";
    CL172 = "CustomsOfficeDestination";
    CL173 = "CustomsOfficeTransit";
    CL175 = "CustomsOfficeTransitExit";
    CL190 = "CountryAddressPostcodeBased";
    CL192 = "LanguageByCustoms";
    CL213 = "SupportingDocumentType";
    CL214 = "PreviousDocumentType";
    CL217 = "DeclarationTypeSecurity";
    CL218 = "TransportModeCode";
    CL219 = "TypeOfIdentificationofMeansOfTransportActive";
    CL228 = "PreviousDocumentExportType";
    CL231 = "DeclarationType";
    CL232 = "DeclarationTypeItemLevel";
    CL235 = "AuthorisationTypeDeparture";
    CL236 = "AuthorisationTypeDestination";
    CL239 = "AdditionalInformation";
    CL244 = "UnLocodeExtended";
    CL248 = "CountryCodesForAddress";
    CL251 = "GuaranteeType";
    CL296 = "SpecificCircumstanceIndicatorCode";
    CL326 = "QualifierOfTheIdentification";
    CL347 = "TypeOfLocation";
    CL349 = "Unit";
    CL380 = "AdditionalReference";
    CL704 = "AdditionalSupplyChainActorRoleCode";
    CL750 = "TypeOfIdentificationOfMeansOfTransport";
    CL754 = "TransportDocumentType";
}

impl CodeList {
    /// The list of a catalogue number (`CL008`), if the tables use it.
    pub fn of_number(number: &str) -> Option<CodeList> {
        LISTS.iter().copied().find(|l| l.number == number)
    }
}

/// One coded data element of a message type: its path below the root and its code list.
pub type CodedField = (&'static str, CodeList);

/// The declaration data of CC015C, also amended by CC013C (same structure).
const DECLARATION: &[CodedField] = &[
    ("messageType", CL060),
    ("TransitOperation/declarationType", CL231),
    ("TransitOperation/additionalDeclarationType", CL042),
    ("TransitOperation/security", CL217),
    ("TransitOperation/reducedDatasetIndicator", CL027),
    ("TransitOperation/specificCircumstanceIndicator", CL296),
    ("TransitOperation/communicationLanguageAtDeparture", CL192),
    ("TransitOperation/bindingItinerary", CL027),
    ("Authorisation/type", CL235),
    ("CustomsOfficeOfDeparture/referenceNumber", CL171),
    ("CustomsOfficeOfDestinationDeclared/referenceNumber", CL172),
    ("CustomsOfficeOfTransitDeclared/referenceNumber", CL173),
    ("CustomsOfficeOfExitForTransitDeclared/referenceNumber", CL175),
    ("HolderOfTheTransitProcedure/Address/country", CL248),
    ("Representative/status", CL094),
    ("Guarantee/guaranteeType", CL251),
    ("Guarantee/GuaranteeReference/currency", CL048),
    ("Consignment/countryOfDispatch", CL008),
    ("Consignment/countryOfDestination", CL008),
    ("Consignment/containerIndicator", CL027),
    ("Consignment/inlandModeOfTransport", CL218),
    ("Consignment/modeOfTransportAtTheBorder", CL218),
    ("Consignment/Consignor/Address/country", CL248),
    ("Consignment/Consignee/Address/country", CL248),
    ("Consignment/AdditionalSupplyChainActor/role", CL704),
    ("Consignment/LocationOfGoods/typeOfLocation", CL347),
    ("Consignment/LocationOfGoods/qualifierOfIdentification", CL326),
    ("Consignment/LocationOfGoods/UNLocode", CL244),
    ("Consignment/LocationOfGoods/CustomsOffice/referenceNumber", CL171),
    ("Consignment/LocationOfGoods/Address/country", CL009),
    ("Consignment/LocationOfGoods/PostcodeAddress/country", CL190),
    ("Consignment/DepartureTransportMeans/typeOfIdentification", CL750),
    ("Consignment/DepartureTransportMeans/nationality", CL165),
    ("Consignment/CountryOfRoutingOfConsignment/country", CL008),
    (
        "Consignment/ActiveBorderTransportMeans/customsOfficeAtBorderReferenceNumber",
        CL141,
    ),
    ("Consignment/ActiveBorderTransportMeans/typeOfIdentification", CL219),
    ("Consignment/ActiveBorderTransportMeans/nationality", CL165),
    ("Consignment/PlaceOfLoading/UNLocode", CL244),
    ("Consignment/PlaceOfLoading/country", CL008),
    ("Consignment/PlaceOfUnloading/UNLocode", CL244),
    ("Consignment/PlaceOfUnloading/country", CL008),
    ("Consignment/PreviousDocument/type", CL214),
    ("Consignment/SupportingDocument/type", CL213),
    ("Consignment/TransportDocument/type", CL754),
    ("Consignment/AdditionalReference/type", CL380),
    ("Consignment/AdditionalInformation/code", CL239),
    ("Consignment/TransportCharges/methodOfPayment", CL116),
    ("Consignment/HouseConsignment/countryOfDispatch", CL008),
    ("Consignment/HouseConsignment/countryOfDestination", CL008),
    ("Consignment/HouseConsignment/Consignor/Address/country", CL248),
    ("Consignment/HouseConsignment/Consignee/Address/country", CL248),
    ("Consignment/HouseConsignment/AdditionalSupplyChainActor/role", CL704),
    (
        "Consignment/HouseConsignment/DepartureTransportMeans/typeOfIdentification",
        CL750,
    ),
    ("Consignment/HouseConsignment/DepartureTransportMeans/nationality", CL165),
    ("Consignment/HouseConsignment/PreviousDocument/type", CL228),
    ("Consignment/HouseConsignment/SupportingDocument/type", CL213),
    ("Consignment/HouseConsignment/TransportDocument/type", CL754),
    ("Consignment/HouseConsignment/AdditionalReference/type", CL380),
    ("Consignment/HouseConsignment/AdditionalInformation/code", CL239),
    ("Consignment/HouseConsignment/TransportCharges/methodOfPayment", CL116),
    ("Consignment/HouseConsignment/ConsignmentItem/declarationType", CL232),
    ("Consignment/HouseConsignment/ConsignmentItem/countryOfDispatch", CL008),
    ("Consignment/HouseConsignment/ConsignmentItem/countryOfDestination", CL008),
    (
        "Consignment/HouseConsignment/ConsignmentItem/Consignee/Address/country",
        CL248,
    ),
    (
        "Consignment/HouseConsignment/ConsignmentItem/AdditionalSupplyChainActor/role",
        CL704,
    ),
    ("Consignment/HouseConsignment/ConsignmentItem/Commodity/cusCode", CL016),
    (
        "Consignment/HouseConsignment/ConsignmentItem/Commodity/CommodityCode/harmonizedSystemSubHeadingCode",
        CL152,
    ),
    (
        "Consignment/HouseConsignment/ConsignmentItem/Commodity/DangerousGoods/UNNumber",
        CL101,
    ),
    (
        "Consignment/HouseConsignment/ConsignmentItem/Packaging/typeOfPackages",
        CL017,
    ),
    ("Consignment/HouseConsignment/ConsignmentItem/PreviousDocument/type", CL214),
    (
        "Consignment/HouseConsignment/ConsignmentItem/PreviousDocument/typeOfPackages",
        CL017,
    ),
    (
        "Consignment/HouseConsignment/ConsignmentItem/PreviousDocument/measurementUnitAndQualifier",
        CL349,
    ),
    ("Consignment/HouseConsignment/ConsignmentItem/SupportingDocument/type", CL213),
    ("Consignment/HouseConsignment/ConsignmentItem/TransportDocument/type", CL754),
    ("Consignment/HouseConsignment/ConsignmentItem/AdditionalReference/type", CL380),
    ("Consignment/HouseConsignment/ConsignmentItem/AdditionalInformation/code", CL239),
    (
        "Consignment/HouseConsignment/ConsignmentItem/TransportCharges/methodOfPayment",
        CL116,
    ),
];

/// CC013C only: the amendment type flag (the rest is [`DECLARATION`]).
const AMENDMENT: &[CodedField] = &[("TransitOperation/amendmentTypeFlag", CL027)];

/// CC014C, invalidation request.
const INVALIDATION_REQUEST: &[CodedField] = &[
    ("messageType", CL060),
    ("Invalidation/decision", CL027),
    ("Invalidation/initiatedByCustoms", CL027),
    ("CustomsOfficeOfDeparture/referenceNumber", CL171),
    ("HolderOfTheTransitProcedure/Address/country", CL248),
];

/// CC007C, arrival notification.
const ARRIVAL_NOTIFICATION: &[CodedField] = &[
    ("messageType", CL060),
    ("TransitOperation/simplifiedProcedure", CL027),
    ("TransitOperation/incidentFlag", CL027),
    ("Authorisation/type", CL236),
    ("CustomsOfficeOfDestinationActual/referenceNumber", CL172),
    (
        "TraderAtDestination/communicationLanguageAtDestination",
        CL192,
    ),
    ("Consignment/LocationOfGoods/typeOfLocation", CL347),
    (
        "Consignment/LocationOfGoods/qualifierOfIdentification",
        CL326,
    ),
    ("Consignment/LocationOfGoods/UNLocode", CL244),
    (
        "Consignment/LocationOfGoods/CustomsOffice/referenceNumber",
        CL172,
    ),
    ("Consignment/LocationOfGoods/Address/country", CL009),
    ("Consignment/LocationOfGoods/PostcodeAddress/country", CL190),
    ("Consignment/Incident/code", CL019),
    ("Consignment/Incident/Endorsement/country", CL009),
    (
        "Consignment/Incident/Location/qualifierOfIdentification",
        CL038,
    ),
    ("Consignment/Incident/Location/UNLocode", CL244),
    ("Consignment/Incident/Location/country", CL009),
    (
        "Consignment/Incident/Transhipment/containerIndicator",
        CL027,
    ),
    (
        "Consignment/Incident/Transhipment/TransportMeans/typeOfIdentification",
        CL750,
    ),
    (
        "Consignment/Incident/Transhipment/TransportMeans/nationality",
        CL165,
    ),
];

/// CC044C, unloading remarks.
const UNLOADING_REMARKS: &[CodedField] = &[
    ("messageType", CL060),
    ("CustomsOfficeOfDestinationActual/referenceNumber", CL172),
    ("UnloadingRemark/conform", CL027),
    ("UnloadingRemark/unloadingCompletion", CL027),
    ("UnloadingRemark/stateOfSeals", CL027),
    ("Consignment/DepartureTransportMeans/typeOfIdentification", CL750),
    ("Consignment/DepartureTransportMeans/nationality", CL165),
    ("Consignment/SupportingDocument/type", CL213),
    ("Consignment/TransportDocument/type", CL754),
    ("Consignment/AdditionalReference/type", CL380),
    (
        "Consignment/HouseConsignment/DepartureTransportMeans/typeOfIdentification",
        CL750,
    ),
    ("Consignment/HouseConsignment/DepartureTransportMeans/nationality", CL165),
    ("Consignment/HouseConsignment/SupportingDocument/type", CL213),
    ("Consignment/HouseConsignment/TransportDocument/type", CL754),
    ("Consignment/HouseConsignment/AdditionalReference/type", CL380),
    ("Consignment/HouseConsignment/ConsignmentItem/Commodity/cusCode", CL016),
    (
        "Consignment/HouseConsignment/ConsignmentItem/Commodity/CommodityCode/harmonizedSystemSubHeadingCode",
        CL152,
    ),
    (
        "Consignment/HouseConsignment/ConsignmentItem/Packaging/typeOfPackages",
        CL017,
    ),
    ("Consignment/HouseConsignment/ConsignmentItem/SupportingDocument/type", CL213),
    ("Consignment/HouseConsignment/ConsignmentItem/TransportDocument/type", CL754),
    ("Consignment/HouseConsignment/ConsignmentItem/AdditionalReference/type", CL380),
];

/// The coded data elements of a trader message type, in the order of its message table
/// (empty for the messages customs sends).
pub fn coded_fields(message: MessageType) -> Vec<CodedField> {
    let parts: &[&[CodedField]] = match message {
        MessageType::CC015C => &[DECLARATION],
        MessageType::CC013C => &[DECLARATION, AMENDMENT],
        MessageType::CC014C => &[INVALIDATION_REQUEST],
        MessageType::CC007C => &[ARRIVAL_NOTIFICATION],
        MessageType::CC044C => &[UNLOADING_REMARKS],
        _ => &[],
    };
    parts.iter().flat_map(|p| p.iter().copied()).collect()
}

/// One coded element present in a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodedValue<'a> {
    /// The element's XPath, e.g. `/CC015C/Consignment/HouseConsignment/ConsignmentItem[2]/Packaging/typeOfPackages`.
    pub xpath: &'a str,
    /// Its code list.
    pub list: CodeList,
    /// Its value (the element's trimmed text; never empty).
    pub value: &'a str,
}

/// Every coded element present in a parsed message (`root` as parsed, with XPaths), with its
/// code list and value: table order, and document order among the occurrences of one
/// element. Elements without text are left out (the schema decides whether they may be
/// empty).
pub fn coded_values(message: MessageType, root: &Element) -> Vec<CodedValue<'_>> {
    let mut out = Vec::new();
    for (path, list) in coded_fields(message) {
        let mut found = Vec::new();
        descend(root, path, &mut found);
        out.extend(found.into_iter().map(|e| CodedValue {
            xpath: e.xpath.as_str(),
            list,
            value: e.text.as_str(),
        }));
    }
    out
}

/// Every element at `path` below `e`, following each repeated step.
fn descend<'a>(e: &'a Element, path: &str, out: &mut Vec<&'a Element>) {
    match path.split_once('/') {
        None => out.extend(
            e.children
                .iter()
                .filter(|c| c.name == path && !c.text.is_empty()),
        ),
        Some((step, rest)) => {
            for c in e.children.iter().filter(|c| c.name == step) {
                descend(c, rest, out);
            }
        }
    }
}

/// The distinct (code list, code) pairs of `values`, sorted: what a caller looks up once
/// for a whole message.
pub fn distinct_codes<'a>(values: &[CodedValue<'a>]) -> Vec<(CodeList, &'a str)> {
    let mut v: Vec<(CodeList, &str)> = values.iter().map(|c| (c.list, c.value)).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Error 12 for each value that `lookup` says is not in its list (`Some(false)`); `None`
/// (no reference data for the list) is not checked. The error names the element's XPath, the
/// list as its rule (`CL008`, also the CC056C/CC057C `errorReason`) and the value.
pub fn check_values<F>(values: &[CodedValue<'_>], lookup: F) -> Vec<FunctionalError>
where
    F: Fn(CodeList, &str) -> Option<bool>,
{
    values
        .iter()
        .filter(|c| lookup(c.list, c.value) == Some(false))
        .map(|c| FunctionalError {
            code: CODELIST_VIOLATION,
            error_pointer: c.xpath.to_owned(),
            rule: Some(c.list.number.to_owned()),
            reason: format!(
                "{} is not in code list {} ({})",
                c.value, c.list.number, c.list.name
            ),
            original_value: Some(c.value.to_owned()),
        })
        .collect()
}

/// [`coded_values`] then [`check_values`]: the code-list errors (12) of a parsed message.
pub fn check_code_lists<F>(message: MessageType, root: &Element, lookup: F) -> Vec<FunctionalError>
where
    F: Fn(CodeList, &str) -> Option<bool>,
{
    check_values(&coded_values(message, root), lookup)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn every_list_is_named_once_and_every_path_is_relative() {
        let mut numbers: Vec<&str> = LISTS.iter().map(|l| l.number).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), LISTS.len());
        for m in MessageType::ALL {
            for (path, list) in coded_fields(m) {
                assert!(!path.starts_with('/') && !path.ends_with('/'), "{path}");
                assert_eq!(CodeList::of_number(list.number), Some(list));
            }
        }
        assert!(coded_fields(MessageType::CC056C).is_empty());
    }
}
