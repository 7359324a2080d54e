//! Validation of DMS messages: the XSD check first, then the business rules.
//!
//! Every error names the element by XPath and carries a rule code. The
//! codes are Portorium's own (`PDMSnnnn`, at most 8 characters so that they
//! fit a DMS `Error/ValidationCode`), listed in [`DmsRule`]; a rejection
//! notification carries them with WCO `Pointer`s derived from the XPath
//! ([`DmsError::pointers`]), the way CDS points at its errors (`42A` the
//! declaration, `17C` + tag `R144` an authorisation holder's ID, ...).

use portorium_kernel::{CurrencyCode, Eori};
use serde::Serialize;

use super::parse::{parse_declaration, DmsDeclaration, DmsMessageKind};
use super::schemas::{DmsSchemaKind, DmsSchemas};
use super::xml;
use crate::error::DeclarationError;

/// The rules a DMS message is checked against, each with a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DmsRule {
    /// The message does not validate against its XSD (or is not well-formed).
    Schema,
    /// The message is not the kind the endpoint takes (e.g. an amendment
    /// posted as a declaration).
    MessageKind,
    /// A required element is missing.
    Required,
    /// DE 2/5 LRN: 1 to 22 characters without spaces.
    LrnFormat,
    /// An EORI (declarant, exporter, importer) is malformed.
    EoriFormat,
    /// DE 1/1 + 1/2 declaration type: IM, EX or CO followed by a known additional type.
    DeclarationType,
    /// DE 1/9 goods item quantity: 1 to 999 and equal to the number of items.
    ItemCount,
    /// DE 1/6 item sequence numbers run 1, 2, 3, ... in order.
    ItemSequence,
    /// DE 6/14-6/15 commodity code: 6, 8 or 10 digits (HS subheading, CN
    /// code, CN code with TARIC suffix); required on an import item that
    /// declares duties (DE 4/3), since the duties are assessed on it.
    CommodityCode,
    /// A currency is not an active ISO 4217 code.
    Currency,
    /// DE 5/15-5/16 a country code is not two upper-case letters.
    CountryCode,
    /// DE 1/10 procedure code: 4 digits.
    ProcedureCode,
    /// DE 8/1 quota order number: 6 digits.
    QuotaOrderNumber,
    /// DE 6/16 additional code: 4 alphanumerics.
    AdditionalCode,
    /// A mass or quantity is not positive.
    Quantity,
    /// The MRN an amendment or cancellation names is malformed.
    MrnFormat,
}

impl DmsRule {
    /// The stable error code.
    pub fn code(self) -> &'static str {
        match self {
            DmsRule::Schema => "PDMS0001",
            DmsRule::MessageKind => "PDMS0002",
            DmsRule::Required => "PDMS0010",
            DmsRule::LrnFormat => "PDMS0011",
            DmsRule::EoriFormat => "PDMS0012",
            DmsRule::DeclarationType => "PDMS0013",
            DmsRule::ItemCount => "PDMS0014",
            DmsRule::ItemSequence => "PDMS0015",
            DmsRule::CommodityCode => "PDMS0016",
            DmsRule::Currency => "PDMS0017",
            DmsRule::CountryCode => "PDMS0018",
            DmsRule::ProcedureCode => "PDMS0019",
            DmsRule::QuotaOrderNumber => "PDMS0020",
            DmsRule::AdditionalCode => "PDMS0021",
            DmsRule::Quantity => "PDMS0022",
            DmsRule::MrnFormat => "PDMS0023",
        }
    }
}

/// One pointer of a DMS error: a WCO class (document section code) with the
/// position of its instance, and on the last one the WCO ID of the data element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmsPointer {
    pub sequence: Option<u32>,
    pub section: String,
    pub tag: Option<String>,
}

/// One validation error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmsError {
    pub rule: DmsRule,
    /// `rule.code()`.
    pub code: String,
    /// The offending element (local names, e.g.
    /// `/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Commodity/Classification[1]/ID`).
    pub xpath: String,
    pub message: String,
}

impl DmsError {
    fn new(rule: DmsRule, xpath: impl Into<String>, message: impl Into<String>) -> DmsError {
        DmsError {
            rule,
            code: rule.code().to_owned(),
            xpath: xpath.into(),
            message: message.into(),
        }
    }

    /// WCO pointers for the XPath (see [`pointers_for`]).
    pub fn pointers(&self) -> Vec<DmsPointer> {
        pointers_for(&self.xpath)
    }
}

/// WCO IDs of the classes (document section codes) and data elements of
/// the declaration, from `WCO_DEC_2_DMS.xsd` (`WCOID` annotations), keyed by
/// the element path below `MetaData`.
const WCO_IDS: &[(&str, &str)] = &[
    ("Declaration", "42A"),
    ("Declaration/FunctionCode", "017"),
    ("Declaration/FunctionalReferenceID", "D026"),
    ("Declaration/ID", "D014"),
    ("Declaration/TypeCode", "D013"),
    ("Declaration/GoodsItemQuantity", "228"),
    ("Declaration/InvoiceAmount", "109"),
    ("Declaration/AdditionalDocument", "02A"),
    ("Declaration/Amendment", "06A"),
    ("Declaration/AdditionalInformation", "03A"),
    ("Declaration/AuthorisationHolder", "17C"),
    ("Declaration/AuthorisationHolder/ID", "R144"),
    ("Declaration/Declarant", "57B"),
    ("Declaration/Declarant/ID", "R123"),
    ("Declaration/Exporter", "57A"),
    ("Declaration/Exporter/ID", "R032"),
    ("Declaration/ExitOffice", "56A"),
    ("Declaration/ExitOffice/ID", "G005"),
    ("Declaration/PresentationOffice", "15C"),
    ("Declaration/PresentationOffice/ID", "G015"),
    ("Declaration/SupervisingOffice", "97B"),
    ("Declaration/SupervisingOffice/ID", "G012"),
    ("Declaration/GoodsShipment", "67A"),
    ("Declaration/GoodsShipment/Importer", "74A"),
    ("Declaration/GoodsShipment/Importer/ID", "R038"),
    ("Declaration/GoodsShipment/Consignment", "28A"),
    ("Declaration/GoodsShipment/Consignment/GoodsLocation", "64A"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem", "68A"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem/SequenceNumeric", "006"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem/CustomsValueAmount", "108"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem/StatisticalValueAmount", "114"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem/AdditionalDocument", "02A"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity", "23A"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/Description", "137"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/Classification", "21A"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/Classification/ID", "145"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/DutyTaxFee", "50A"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/DutyTaxFee/QuotaOrderID", "401"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/GoodsMeasure", "65A"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/GoodsMeasure/NetNetWeightMeasure", "128"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/GoodsMeasure/GrossMassMeasure", "126"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/GoodsMeasure/TariffQuantity", "130"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/InvoiceLine", "79A"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Commodity/InvoiceLine/ItemChargeAmount", "112"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem/GovernmentProcedure", "70A"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem/GovernmentProcedure/CurrentCode", "166"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Origin", "92A"),
    ("Declaration/GoodsShipment/GovernmentAgencyGoodsItem/Origin/CountryCode", "063"),
];

/// Turns an XPath into WCO pointers: one per class step (with the step's
/// position as `SequenceNumeric` when it has one), and the WCO ID of a final
/// data element as the last pointer's `TagID`. Steps that are not in the
/// table are skipped; an attribute step (`@currencyID`) points at its element.
pub fn pointers_for(xpath: &str) -> Vec<DmsPointer> {
    let mut out: Vec<DmsPointer> = Vec::new();
    let mut key = String::new();
    let steps: Vec<&str> = xpath
        .split('/')
        .filter(|s| !s.is_empty() && !s.starts_with('@'))
        .skip(1) // MetaData
        .collect();
    for step in steps {
        let (name, seq) = match step.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<u32>().ok()),
            None => (step, None),
        };
        if !key.is_empty() {
            key.push('/');
        }
        key.push_str(name);
        let Some((_, id)) = WCO_IDS.iter().find(|(k, _)| *k == key) else {
            continue;
        };
        // Classes have IDs ending in a letter (42A, 67A); data elements do not
        // all, but class IDs are 2 digits + letter.
        let is_class = id.len() == 3 && id.as_bytes()[2].is_ascii_uppercase();
        if is_class {
            out.push(DmsPointer {
                sequence: seq,
                section: (*id).to_owned(),
                tag: None,
            });
        } else if let Some(last) = out.last_mut() {
            last.tag = Some((*id).to_owned());
        }
    }
    out
}

fn is_country(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

fn is_mrn_format(s: &str) -> bool {
    s.len() == 18
        && s.bytes().take(2).all(|b| b.is_ascii_digit())
        && s[2..4].bytes().all(|b| b.is_ascii_uppercase())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

const ADDITIONAL_TYPES: &[&str] = &[
    "A", "B", "C", "D", "E", "F", "H", "I", "J", "K", "Q", "X", "Y", "Z",
];

/// Additional types of supplementary declarations (reduced data set: no
/// goods description required).
const SUPPLEMENTARY_TYPES: &[&str] = &["Q", "X", "Y", "Z"];

fn check_eori(errors: &mut Vec<DmsError>, what: &str, v: &Option<super::parse::Located<String>>) {
    if let Some(id) = v {
        if id.value.parse::<Eori>().is_err() {
            errors.push(DmsError::new(
                DmsRule::EoriFormat,
                &id.xpath,
                format!("{what} {:?} is not an EORI (country code and up to 15 upper-case alphanumerics)", id.value),
            ));
        }
    }
}

fn check_currency(errors: &mut Vec<DmsError>, amount: &Option<super::parse::DmsAmount>) {
    if let Some(a) = amount {
        if let Some(c) = &a.currency {
            if c.parse::<CurrencyCode>().is_err() {
                errors.push(DmsError::new(
                    DmsRule::Currency,
                    format!("{}/@currencyID", a.xpath),
                    format!("{c:?} is not an active ISO 4217 currency code"),
                ));
            }
        }
    }
}

/// The business rules (run after the XSD check).
///
/// For an original declaration: LRN, declarant EORI, declaration type, item
/// count and sequence, per item the procedure code (required), the goods
/// description (required but on supplementary declarations), the commodity
/// code (required on import items declaring duties), and the formats of the optional fields
/// (EORIs, currencies, countries, quota order numbers, additional codes,
/// masses). For an amendment or cancellation: the MRN it names and the
/// trader's reference.
pub fn check_rules(d: &DmsDeclaration) -> Vec<DmsError> {
    let mut errors = Vec::new();
    let decl = "/MetaData/Declaration";
    match &d.lrn {
        None => errors.push(DmsError::new(
            DmsRule::Required,
            format!("{decl}/FunctionalReferenceID"),
            "the LRN (DE 2/5 FunctionalReferenceID) is required",
        )),
        Some(lrn) => {
            // DE 2/5 is an..22; the reference of an amendment or cancellation
            // request is the XSD's an..35.
            let max = if d.kind == DmsMessageKind::Declaration {
                22
            } else {
                35
            };
            let ok = (1..=max).contains(&lrn.value.chars().count())
                && !lrn.value.chars().any(char::is_whitespace);
            if !ok {
                errors.push(DmsError::new(
                    DmsRule::LrnFormat,
                    &lrn.xpath,
                    format!(
                        "the reference {:?} must be 1 to {max} characters without spaces",
                        lrn.value
                    ),
                ));
            }
        }
    }
    if d.kind != DmsMessageKind::Declaration {
        match &d.mrn {
            None => errors.push(DmsError::new(
                DmsRule::Required,
                format!("{decl}/ID"),
                "an amendment or cancellation must name the declaration's MRN in ID",
            )),
            Some(mrn) if !is_mrn_format(&mrn.value) => errors.push(DmsError::new(
                DmsRule::MrnFormat,
                &mrn.xpath,
                format!(
                    "{:?} is not an MRN (2 digits, country code, 14 alphanumerics)",
                    mrn.value
                ),
            )),
            Some(_) => {}
        }
        check_eori(&mut errors, "the declarant", &d.declarant);
        return errors;
    }
    match &d.declarant {
        None => errors.push(DmsError::new(
            DmsRule::Required,
            format!("{decl}/Declarant/ID"),
            "the declarant's EORI (DE 3/18) is required",
        )),
        declarant => check_eori(&mut errors, "the declarant", declarant),
    }
    check_eori(&mut errors, "the exporter", &d.exporter);
    check_eori(&mut errors, "the importer", &d.importer);
    match &d.type_code {
        None => errors.push(DmsError::new(
            DmsRule::Required,
            format!("{decl}/TypeCode"),
            "the declaration type (DE 1/1 and 1/2 TypeCode) is required",
        )),
        Some(t) => {
            let ty = d.declaration_type.as_deref().unwrap_or("");
            let add = d.additional_type.as_deref().unwrap_or("");
            if !["IM", "EX", "CO"].contains(&ty)
                || !ADDITIONAL_TYPES.contains(&add)
                || t.value.len() != 3
            {
                errors.push(DmsError::new(
                    DmsRule::DeclarationType,
                    &t.xpath,
                    format!(
                        "{:?} is not a declaration type (IM, EX or CO followed by one of {})",
                        t.value,
                        ADDITIONAL_TYPES.join(", ")
                    ),
                ));
            }
        }
    }
    let n = d.items.len();
    if n == 0 || n > 999 {
        errors.push(DmsError::new(
            DmsRule::ItemCount,
            format!("{decl}/GoodsShipment"),
            format!("a declaration has 1 to 999 goods items, this one has {n}"),
        ));
    }
    match &d.goods_item_quantity {
        None => errors.push(DmsError::new(
            DmsRule::Required,
            format!("{decl}/GoodsItemQuantity"),
            "the number of goods items (DE 1/9) is required",
        )),
        Some(q) if usize::try_from(q.value).ok() != Some(n) => errors.push(DmsError::new(
            DmsRule::ItemCount,
            &q.xpath,
            format!(
                "GoodsItemQuantity is {} but the declaration has {n} goods items",
                q.value
            ),
        )),
        Some(_) => {}
    }
    check_currency(&mut errors, &d.invoice_amount);
    for (i, item) in d.items.iter().enumerate() {
        let expected = u32::try_from(i + 1).unwrap_or(u32::MAX);
        match &item.sequence {
            None => errors.push(DmsError::new(
                DmsRule::Required,
                format!("{}/SequenceNumeric", item.xpath),
                "the goods item number (DE 1/6) is required",
            )),
            Some(s) if s.value != expected => errors.push(DmsError::new(
                DmsRule::ItemSequence,
                &s.xpath,
                format!(
                    "goods item number {} where {expected} was expected",
                    s.value
                ),
            )),
            Some(_) => {}
        }
        match &item.commodity_code {
            None if d.is_import() && !item.tax_types.is_empty() => errors.push(DmsError::new(
                DmsRule::Required,
                format!("{}/Commodity/Classification", item.xpath),
                "the commodity code (DE 6/14 TSP classification) is required on an item that declares duties",
            )),
            None => {}
            Some(c) => {
                let digits = c.value.bytes().all(|b| b.is_ascii_digit());
                if !digits || ![6, 8, 10].contains(&c.value.len()) {
                    errors.push(DmsError::new(
                        DmsRule::CommodityCode,
                        &c.xpath,
                        format!("commodity code {:?} must be 6, 8 or 10 digits", c.value),
                    ));
                }
            }
        }
        let supplementary = d
            .additional_type
            .as_deref()
            .is_some_and(|t| SUPPLEMENTARY_TYPES.contains(&t));
        if item.description.is_none() && !supplementary {
            errors.push(DmsError::new(
                DmsRule::Required,
                format!("{}/Commodity/Description", item.xpath),
                "the description of goods (DE 6/8) is required",
            ));
        }
        match &item.procedure {
            None => errors.push(DmsError::new(
                DmsRule::Required,
                format!("{}/GovernmentProcedure", item.xpath),
                "the procedure code (DE 1/10) is required",
            )),
            Some(p) if !(p.value.len() == 4 && p.value.bytes().all(|b| b.is_ascii_digit())) => {
                errors.push(DmsError::new(
                    DmsRule::ProcedureCode,
                    &p.xpath,
                    format!(
                        "procedure code {:?} must be 4 digits (requested and previous procedure)",
                        p.value
                    ),
                ))
            }
            Some(_) => {}
        }
        for c in [&item.origin_country, &item.preferential_origin_country]
            .into_iter()
            .flatten()
        {
            if !is_country(&c.value) {
                errors.push(DmsError::new(
                    DmsRule::CountryCode,
                    &c.xpath,
                    format!("{:?} is not a two-letter country code", c.value),
                ));
            }
        }
        if let Some(q) = &item.quota_order_number {
            if !(q.value.len() == 6 && q.value.bytes().all(|b| b.is_ascii_digit())) {
                errors.push(DmsError::new(
                    DmsRule::QuotaOrderNumber,
                    &q.xpath,
                    format!("quota order number {:?} must be 6 digits", q.value),
                ));
            }
        }
        for a in &item.additional_codes {
            if !(a.value.len() == 4 && a.value.bytes().all(|b| b.is_ascii_alphanumeric())) {
                errors.push(DmsError::new(
                    DmsRule::AdditionalCode,
                    &a.xpath,
                    format!("additional code {:?} must be 4 alphanumerics", a.value),
                ));
            }
        }
        for m in [
            &item.net_mass,
            &item.gross_mass,
            &item.supplementary_quantity,
        ]
        .into_iter()
        .flatten()
        {
            if m.value.is_sign_negative() || m.value.is_zero() {
                errors.push(DmsError::new(
                    DmsRule::Quantity,
                    &m.xpath,
                    format!("{} must be positive", m.value),
                ));
            }
        }
        for a in [
            &item.item_price,
            &item.customs_value,
            &item.statistical_value,
        ] {
            check_currency(&mut errors, a);
        }
    }
    errors
}

fn schema_errors(xml_bytes: &[u8], violations: Vec<portorium_xsd::Violation>) -> Vec<DmsError> {
    violations
        .into_iter()
        .map(|v| {
            let xpath = v
                .element
                .as_deref()
                .and_then(|e| xml::xpath_at(xml_bytes, v.line, e))
                .unwrap_or_else(|| format!("/ (line {})", v.line));
            DmsError::new(
                DmsRule::Schema,
                xpath,
                format!("line {}: {}", v.line, v.message),
            )
        })
        .collect()
}

/// The complete check of a message posted to one of the DMS endpoints:
/// the XSD of `kind` (declaration or cancellation), then parsing, then the
/// business rules. A message whose kind does not match the endpoint (an
/// amendment on the cancellation endpoint, ...) is refused with
/// [`DmsRule::MessageKind`]. `expected` is the message kind the endpoint takes.
pub fn validate_message(
    schemas: &DmsSchemas,
    expected: DmsMessageKind,
    xml_bytes: &[u8],
) -> Result<DmsDeclaration, Vec<DmsError>> {
    let schema = match expected {
        DmsMessageKind::Cancellation => DmsSchemaKind::Cancellation,
        DmsMessageKind::Declaration | DmsMessageKind::Amendment => DmsSchemaKind::Declaration,
    };
    schemas
        .validate(schema, xml_bytes)
        .map_err(|v| schema_errors(xml_bytes, v))?;
    let declaration = parse_declaration(xml_bytes).map_err(|e| {
        let message = match e {
            DeclarationError::Xml { message, .. } => message,
            other => other.to_string(),
        };
        vec![DmsError::new(
            DmsRule::Schema,
            "/MetaData/Declaration",
            message,
        )]
    })?;
    if declaration.kind != expected {
        return Err(vec![DmsError::new(
            DmsRule::MessageKind,
            declaration.function_code.xpath.clone(),
            format!(
                "this endpoint takes a {:?} message, the message is a {:?} (function code {}{})",
                expected,
                declaration.kind,
                declaration.function_code.value,
                declaration
                    .type_code
                    .as_ref()
                    .map(|t| format!(", type code {}", t.value))
                    .unwrap_or_default()
            ),
        )]);
    }
    let errors = check_rules(&declaration);
    if errors.is_empty() {
        Ok(declaration)
    } else {
        Err(errors)
    }
}
