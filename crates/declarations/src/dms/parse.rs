//! Parsing a WCO DMS `MetaData` message (declaration, amendment or
//! cancellation request) into a typed [`DmsDeclaration`].
//!
//! Every field keeps the XPath of the element it came from (local names,
//! 1-based positions on repeatable elements, e.g.
//! `/MetaData/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/Commodity/Classification[1]/ID`),
//! so that business-rule errors and DMS rejection pointers can name it.
//!
//! The parser is lenient about which optional elements are present (it runs
//! after the XSD check, and also on amendments that carry only some data);
//! the business rules in [`super::validate`] decide what is required.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::DeclarationError;
use crate::tree::{self, Element};

/// A value together with the XPath of the element (or attribute) it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Located<T> {
    pub value: T,
    pub xpath: String,
}

/// An amount with its currency (`currencyID` attribute), when given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmsAmount {
    pub amount: Decimal,
    pub currency: Option<String>,
    pub xpath: String,
}

/// What a DMS `Declaration` message asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DmsMessageKind {
    /// Function code 9: an original declaration.
    Declaration,
    /// Function code 13 with type code `COR`: an amendment of a lodged
    /// declaration (named by its MRN in `ID`).
    Amendment,
    /// Function code 13 with type code `INV` (the CANCEL schema): a request to
    /// cancel (invalidate) a lodged declaration.
    Cancellation,
}

impl DmsMessageKind {
    /// The DMS function code of the message kind.
    pub fn function_code(self) -> &'static str {
        match self {
            DmsMessageKind::Declaration => "9",
            DmsMessageKind::Amendment | DmsMessageKind::Cancellation => "13",
        }
    }
}

/// Which office field a declaration is routed by (see [`DmsDeclaration::routing_office`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OfficeRole {
    /// DE 5/26 `PresentationOffice/ID`.
    Presentation,
    /// DE 5/27 `SupervisingOffice/ID`.
    Supervising,
    /// DE 5/12 `ExitOffice/ID`.
    Exit,
}

/// The office a declaration belongs to, and the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoutingOffice {
    pub role: OfficeRole,
    pub id: Located<String>,
}

/// DE 5/23 location of goods (`GoodsShipment/Consignment/GoodsLocation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GoodsLocation {
    /// `Name`: the location code, e.g. `WLALONBTW`.
    pub name: Option<Located<String>>,
    /// `TypeCode`: A designated, B authorised, C approved, D other.
    pub type_code: Option<String>,
    /// `Address/CountryCode`.
    pub country: Option<Located<String>>,
}

/// An `AdditionalDocument` (DE 2/3): the document code is the category
/// code followed by the type code (`N` + `935` = `N935`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmsDocument {
    pub code: String,
    pub category: Option<String>,
    pub type_code: Option<String>,
    pub id: Option<String>,
    /// `LPCOExemptionCode`: the document status code (e.g. `AC`, `XX`).
    pub status: Option<String>,
    pub xpath: String,
}

/// One `Commodity/Classification` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classification {
    pub id: String,
    /// `TSP` (8-digit CN code), `TRC` (2-digit TARIC suffix), `TRA` (national
    /// additional code), `GN` (combined nomenclature on exports), `CV` (CUS code), ...
    pub type_code: Option<String>,
    pub xpath: String,
}

/// One `GovernmentAgencyGoodsItem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmsGoodsItem {
    pub xpath: String,
    /// DE 1/6 `SequenceNumeric`.
    pub sequence: Option<Located<u32>>,
    /// The commodity code: the `TSP` code followed by the `TRC` code (10
    /// digits), the `TSP` code alone, or the `GN` code of an export.
    pub commodity_code: Option<Located<String>>,
    pub classifications: Vec<Classification>,
    /// `TRA` classifications (DE 6/16 national additional codes).
    pub additional_codes: Vec<Located<String>>,
    /// DE 6/8 `Commodity/Description`.
    pub description: Option<Located<String>>,
    /// DE 5/15 `Origin/CountryCode` with `TypeCode` 1 (or no type code).
    pub origin_country: Option<Located<String>>,
    /// DE 5/16 `Origin/CountryCode` with `TypeCode` 2 (preferential origin).
    pub preferential_origin_country: Option<Located<String>>,
    /// DE 4/17 `Commodity/DutyTaxFee/DutyRegimeCode` (e.g. 100, 300).
    pub preference: Option<Located<String>>,
    /// DE 1/10 `GovernmentProcedure`: current code followed by previous code (e.g. `4000`).
    pub procedure: Option<Located<String>>,
    /// DE 1/11 additional procedure codes (3 characters, e.g. `000`).
    pub additional_procedures: Vec<Located<String>>,
    /// DE 4/14 item price `Commodity/InvoiceLine/ItemChargeAmount`.
    pub item_price: Option<DmsAmount>,
    /// `CustomsValueAmount`.
    pub customs_value: Option<DmsAmount>,
    /// DE 8/6 `StatisticalValueAmount`.
    pub statistical_value: Option<DmsAmount>,
    /// DE 6/1 `Commodity/GoodsMeasure/NetNetWeightMeasure` (kg).
    pub net_mass: Option<Located<Decimal>>,
    /// DE 6/5 `Commodity/GoodsMeasure/GrossMassMeasure` (kg).
    pub gross_mass: Option<Located<Decimal>>,
    /// DE 6/2 `Commodity/GoodsMeasure/TariffQuantity`.
    pub supplementary_quantity: Option<Located<Decimal>>,
    /// DE 2/3 `AdditionalDocument`s of the item.
    pub documents: Vec<DmsDocument>,
    /// DE 8/1 `Commodity/DutyTaxFee/QuotaOrderID` (CDS carries the quota
    /// order number on the duty line that claims it).
    pub quota_order_number: Option<Located<String>>,
    /// DE 4/3 `Commodity/DutyTaxFee/TypeCode`s (A00 customs duty, B00 VAT, ...).
    pub tax_types: Vec<Located<String>>,
}

/// Free-text reason and change reason codes of an amendment or cancellation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmsChange {
    /// `Amendment/ChangeReasonCode`s.
    pub reason_codes: Vec<Located<String>>,
    /// `AdditionalInformation/StatementDescription`s.
    pub statements: Vec<Located<String>>,
}

/// A parsed WCO DMS declaration, amendment or cancellation request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmsDeclaration {
    pub kind: DmsMessageKind,
    /// `Declaration/FunctionCode`.
    pub function_code: Located<String>,
    /// `Declaration/FunctionalReferenceID`: DE 2/5 LRN (for an amendment or a
    /// cancellation, the trader's reference of that request).
    pub lrn: Option<Located<String>>,
    /// `Declaration/ID`: the MRN of the declaration that an amendment or a
    /// cancellation is about.
    pub mrn: Option<Located<String>>,
    /// `Declaration/TypeCode` as given (`IMA`, `EXD`, `COR`, `INV`, ...).
    pub type_code: Option<Located<String>>,
    /// DE 1/1: the first two characters of the type code (`IM`, `EX`, `CO`).
    pub declaration_type: Option<String>,
    /// DE 1/2: the third character of the type code (`A`, `D`, `Y`, `Z`, ...).
    pub additional_type: Option<String>,
    /// `MetaData/ResponsibleCountryCode`.
    pub responsible_country: Option<String>,
    /// DE 3/18 `Declarant/ID` (EORI).
    pub declarant: Option<Located<String>>,
    /// DE 3/2 `Exporter/ID` (EORI), when given.
    pub exporter: Option<Located<String>>,
    /// DE 3/16 `GoodsShipment/Importer/ID` (EORI), when given.
    pub importer: Option<Located<String>>,
    pub presentation_office: Option<Located<String>>,
    pub supervising_office: Option<Located<String>>,
    pub exit_office: Option<Located<String>>,
    pub goods_location: Option<GoodsLocation>,
    /// DE 4/10 invoice currency: `InvoiceAmount/@currencyID`, else the
    /// currency of the first item price.
    pub currency: Option<Located<String>>,
    /// DE 4/11 `InvoiceAmount`.
    pub invoice_amount: Option<DmsAmount>,
    /// DE 1/9 `GoodsItemQuantity`.
    pub goods_item_quantity: Option<Located<u32>>,
    /// DE 2/3 header-level `AdditionalDocument`s.
    pub documents: Vec<DmsDocument>,
    pub items: Vec<DmsGoodsItem>,
    /// For amendments and cancellations.
    pub change: Option<DmsChange>,
}

impl DmsDeclaration {
    /// The office the declaration is routed by.
    ///
    /// CDS derives the competent office from the location of goods (DE 5/23)
    /// for imports and from the office of exit (DE 5/12) for exports; the
    /// office of presentation (DE 5/26, goods presented inland) and the
    /// supervising office (DE 5/27, special procedures) take precedence when
    /// given. Portorium routes by an explicit customs office, in this order:
    /// presentation, supervising, exit. A declaration that names none of them
    /// is routed by [`DmsDeclaration::routing_country`] alone.
    pub fn routing_office(&self) -> Option<RoutingOffice> {
        let pick = |role, o: &Option<Located<String>>| {
            o.as_ref().map(|id| RoutingOffice {
                role,
                id: id.clone(),
            })
        };
        pick(OfficeRole::Presentation, &self.presentation_office)
            .or_else(|| pick(OfficeRole::Supervising, &self.supervising_office))
            .or_else(|| pick(OfficeRole::Exit, &self.exit_office))
    }

    /// The country (administration) the declaration belongs to: that of the
    /// routing office, else the country of the location of goods, else the
    /// message's `ResponsibleCountryCode`.
    pub fn routing_country(&self) -> Option<String> {
        if let Some(office) = self.routing_office() {
            if let Some(cc) = office.id.value.get(..2) {
                return Some(cc.to_owned());
            }
        }
        self.goods_location
            .as_ref()
            .and_then(|g| g.country.as_ref())
            .map(|c| c.value.clone())
            .or_else(|| self.responsible_country.clone())
    }

    /// Whether this is an import declaration (type `IM`).
    pub fn is_import(&self) -> bool {
        self.declaration_type.as_deref() == Some("IM")
    }
}

/// Builds child XPaths, adding a 1-based position to repeatable elements.
struct Path<'a>(&'a str);

impl Path<'_> {
    fn at(&self, name: &str) -> String {
        format!("{}/{name}", self.0)
    }
    fn nth(&self, name: &str, i: usize) -> String {
        format!("{}/{name}[{}]", self.0, i + 1)
    }
}

fn text(el: &Element, path: &str, name: &str) -> Option<Located<String>> {
    el.child(name).and_then(|c| {
        c.value().map(|v| Located {
            value: v.to_owned(),
            xpath: Path(path).at(name),
        })
    })
}

fn number<T: FromStr>(
    located: Option<Located<String>>,
) -> Result<Option<Located<T>>, DeclarationError> {
    located
        .map(|l| match l.value.parse::<T>() {
            Ok(value) => Ok(Located {
                value,
                xpath: l.xpath,
            }),
            Err(_) => Err(DeclarationError::Xml {
                line: 0,
                message: format!("{}: {:?} is not a valid number", l.xpath, l.value),
            }),
        })
        .transpose()
}

fn amount(el: &Element, path: &str, name: &str) -> Result<Option<DmsAmount>, DeclarationError> {
    let Some(c) = el.child(name) else {
        return Ok(None);
    };
    let xpath = Path(path).at(name);
    let Some(v) = c.value() else {
        return Ok(None);
    };
    let amount = Decimal::from_str(v).map_err(|_| DeclarationError::Xml {
        line: 0,
        message: format!("{xpath}: {v:?} is not a valid amount"),
    })?;
    Ok(Some(DmsAmount {
        amount,
        currency: c.attribute("currencyID").map(str::to_owned),
        xpath,
    }))
}

fn party_id(el: &Element, path: &str, name: &str) -> Option<Located<String>> {
    let party = el.child(name)?;
    text(party, &Path(path).at(name), "ID")
}

fn office(el: &Element, path: &str, name: &str) -> Option<Located<String>> {
    party_id(el, path, name)
}

fn documents(el: &Element, path: &str) -> Vec<DmsDocument> {
    el.children_named("AdditionalDocument")
        .enumerate()
        .map(|(i, d)| {
            let category = d
                .child("CategoryCode")
                .and_then(Element::value)
                .map(str::to_owned);
            let type_code = d
                .child("TypeCode")
                .and_then(Element::value)
                .map(str::to_owned);
            DmsDocument {
                code: format!(
                    "{}{}",
                    category.as_deref().unwrap_or(""),
                    type_code.as_deref().unwrap_or("")
                ),
                category,
                type_code,
                id: d.child("ID").and_then(Element::value).map(str::to_owned),
                status: d
                    .child("LPCOExemptionCode")
                    .and_then(Element::value)
                    .map(str::to_owned),
                xpath: Path(path).nth("AdditionalDocument", i),
            }
        })
        .collect()
}

fn item(el: &Element, xpath: String) -> Result<DmsGoodsItem, DeclarationError> {
    let p = xpath.as_str();
    let mut out = DmsGoodsItem {
        sequence: number(text(el, p, "SequenceNumeric"))?,
        commodity_code: None,
        classifications: Vec::new(),
        additional_codes: Vec::new(),
        description: None,
        origin_country: None,
        preferential_origin_country: None,
        preference: None,
        procedure: None,
        additional_procedures: Vec::new(),
        item_price: None,
        customs_value: amount(el, p, "CustomsValueAmount")?,
        statistical_value: amount(el, p, "StatisticalValueAmount")?,
        net_mass: None,
        gross_mass: None,
        supplementary_quantity: None,
        documents: documents(el, p),
        quota_order_number: None,
        tax_types: Vec::new(),
        xpath: xpath.clone(),
    };
    if let Some(commodity) = el.child("Commodity") {
        let cp = Path(p).at("Commodity");
        out.description = text(commodity, &cp, "Description");
        for (i, c) in commodity.children_named("Classification").enumerate() {
            let path = Path(&cp).nth("Classification", i);
            if let Some(id) = c.child("ID").and_then(Element::value) {
                out.classifications.push(Classification {
                    id: id.to_owned(),
                    type_code: c
                        .child("IdentificationTypeCode")
                        .and_then(Element::value)
                        .map(str::to_owned),
                    xpath: format!("{path}/ID"),
                });
            }
        }
        let find = |t: &str| {
            out.classifications
                .iter()
                .find(|c| c.type_code.as_deref() == Some(t))
        };
        out.commodity_code = match (find("TSP"), find("TRC"), find("GN")) {
            (Some(tsp), Some(trc), _) => Some(Located {
                value: format!("{}{}", tsp.id, trc.id),
                xpath: tsp.xpath.clone(),
            }),
            (Some(tsp), None, _) => Some(Located {
                value: tsp.id.clone(),
                xpath: tsp.xpath.clone(),
            }),
            (None, _, Some(gn)) => Some(Located {
                value: gn.id.clone(),
                xpath: gn.xpath.clone(),
            }),
            (None, _, None) => None,
        };
        out.additional_codes = out
            .classifications
            .iter()
            .filter(|c| c.type_code.as_deref() == Some("TRA"))
            .map(|c| Located {
                value: c.id.clone(),
                xpath: c.xpath.clone(),
            })
            .collect();
        for (i, fee) in commodity.children_named("DutyTaxFee").enumerate() {
            let fp = Path(&cp).nth("DutyTaxFee", i);
            if out.preference.is_none() {
                out.preference = text(fee, &fp, "DutyRegimeCode");
            }
            if out.quota_order_number.is_none() {
                out.quota_order_number = text(fee, &fp, "QuotaOrderID");
            }
            if let Some(t) = text(fee, &fp, "TypeCode") {
                out.tax_types.push(t);
            }
        }
        if let Some(m) = commodity.child("GoodsMeasure") {
            let mp = Path(&cp).at("GoodsMeasure");
            out.net_mass = number(text(m, &mp, "NetNetWeightMeasure"))?;
            out.gross_mass = number(text(m, &mp, "GrossMassMeasure"))?;
            out.supplementary_quantity = number(text(m, &mp, "TariffQuantity"))?;
        }
        if let Some(line) = commodity.child("InvoiceLine") {
            out.item_price = amount(line, &Path(&cp).at("InvoiceLine"), "ItemChargeAmount")?;
        }
    }
    for (i, origin) in el.children_named("Origin").enumerate() {
        let op = Path(p).nth("Origin", i);
        let country = text(origin, &op, "CountryCode");
        match origin.child("TypeCode").and_then(Element::value) {
            Some("2") => out.preferential_origin_country = country,
            _ => {
                if out.origin_country.is_none() {
                    out.origin_country = country;
                }
            }
        }
    }
    for (i, proc_) in el.children_named("GovernmentProcedure").enumerate() {
        let pp = Path(p).nth("GovernmentProcedure", i);
        let Some(current) = text(proc_, &pp, "CurrentCode") else {
            continue;
        };
        if current.value.len() == 2 && out.procedure.is_none() {
            let previous = proc_
                .child("PreviousCode")
                .and_then(Element::value)
                .unwrap_or("");
            out.procedure = Some(Located {
                value: format!("{}{previous}", current.value),
                xpath: current.xpath,
            });
        } else {
            out.additional_procedures.push(current);
        }
    }
    Ok(out)
}

fn kind(function_code: &str, type_code: Option<&str>) -> Result<DmsMessageKind, DeclarationError> {
    match (function_code, type_code) {
        ("9", _) => Ok(DmsMessageKind::Declaration),
        ("13", Some("INV")) => Ok(DmsMessageKind::Cancellation),
        ("13", _) => Ok(DmsMessageKind::Amendment),
        (other, _) => Err(DeclarationError::Xml {
            line: 0,
            message: format!(
                "/MetaData/Declaration/FunctionCode: {other:?} is not a DMS declaration function code (9 original, 13 amendment or cancellation)"
            ),
        }),
    }
}

/// Parses a DMS `MetaData` message holding a `Declaration`.
///
/// Errors: the XML is not well-formed, the root is not `MetaData` with a
/// `Declaration`, the function code is missing or not 9 or 13, or a numeric
/// field does not hold a number (all as [`DeclarationError::Xml`], naming
/// the XPath).
pub fn parse_declaration(xml_bytes: &[u8]) -> Result<DmsDeclaration, DeclarationError> {
    let root = tree::parse_xml(xml_bytes)?;
    let structural = |message: &str| DeclarationError::Xml {
        line: 0,
        message: message.to_owned(),
    };
    if root.name != "MetaData" {
        return Err(structural("the root element must be MetaData"));
    }
    let Some(d) = root.child("Declaration") else {
        return Err(structural("/MetaData/Declaration is missing"));
    };
    let p = "/MetaData/Declaration";
    let Some(function_code) = text(d, p, "FunctionCode") else {
        return Err(structural("/MetaData/Declaration/FunctionCode is missing"));
    };
    let type_code = text(d, p, "TypeCode");
    let kind = kind(
        &function_code.value,
        type_code.as_ref().map(|t| t.value.as_str()),
    )?;
    let (declaration_type, additional_type) = match (&type_code, kind) {
        (Some(t), DmsMessageKind::Declaration) => (
            t.value.get(..2).map(str::to_owned),
            t.value.get(2..3).map(str::to_owned),
        ),
        _ => (None, None),
    };
    let shipment = d.child("GoodsShipment");
    let sp = Path(p).at("GoodsShipment");
    let mut items = Vec::new();
    if let Some(s) = shipment {
        for (i, it) in s.children_named("GovernmentAgencyGoodsItem").enumerate() {
            items.push(item(it, Path(&sp).nth("GovernmentAgencyGoodsItem", i))?);
        }
    }
    let goods_location = shipment
        .and_then(|s| s.child("Consignment"))
        .and_then(|c| c.child("GoodsLocation"))
        .map(|g| {
            let gp = format!("{sp}/Consignment/GoodsLocation");
            GoodsLocation {
                name: text(g, &gp, "Name"),
                type_code: g
                    .child("TypeCode")
                    .and_then(Element::value)
                    .map(str::to_owned),
                country: g
                    .child("Address")
                    .and_then(|a| text(a, &format!("{gp}/Address"), "CountryCode")),
            }
        });
    let invoice_amount = amount(d, p, "InvoiceAmount")?;
    let currency = invoice_amount
        .as_ref()
        .and_then(|a| {
            a.currency.as_ref().map(|c| Located {
                value: c.clone(),
                xpath: format!("{}/@currencyID", a.xpath),
            })
        })
        .or_else(|| {
            items
                .iter()
                .filter_map(|i| i.item_price.as_ref())
                .find_map(|a| {
                    a.currency.as_ref().map(|c| Located {
                        value: c.clone(),
                        xpath: format!("{}/@currencyID", a.xpath),
                    })
                })
        });
    let change = match kind {
        DmsMessageKind::Declaration => None,
        DmsMessageKind::Amendment | DmsMessageKind::Cancellation => Some(DmsChange {
            reason_codes: d
                .children_named("Amendment")
                .enumerate()
                .filter_map(|(i, a)| text(a, &Path(p).nth("Amendment", i), "ChangeReasonCode"))
                .collect(),
            statements: d
                .children_named("AdditionalInformation")
                .enumerate()
                .filter_map(|(i, a)| {
                    text(
                        a,
                        &Path(p).nth("AdditionalInformation", i),
                        "StatementDescription",
                    )
                })
                .collect(),
        }),
    };
    Ok(DmsDeclaration {
        kind,
        lrn: text(d, p, "FunctionalReferenceID"),
        mrn: text(d, p, "ID"),
        declaration_type,
        additional_type,
        type_code,
        function_code,
        responsible_country: root
            .child("ResponsibleCountryCode")
            .and_then(Element::value)
            .map(str::to_owned),
        declarant: party_id(d, p, "Declarant"),
        exporter: party_id(d, p, "Exporter"),
        importer: shipment.and_then(|s| party_id(s, &sp, "Importer")),
        presentation_office: office(d, p, "PresentationOffice"),
        supervising_office: office(d, p, "SupervisingOffice"),
        exit_office: office(d, p, "ExitOffice"),
        goods_location,
        currency,
        invoice_amount,
        goods_item_quantity: number(text(d, p, "GoodsItemQuantity"))?,
        documents: documents(d, p),
        items,
        change,
    })
}
