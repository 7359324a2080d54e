//! The DMS notifications customs sends back: a WCO `MetaData` document
//! holding one `Response` (`WCO_RES_2_DMS.xsd`), in the namespaces CDS uses.
//!
//! Function codes, as in HMRC's `Example_DMS_notifications`:
//!
//! | code | CDS name | [`NotificationKind`] |
//! |------|----------|----------------------|
//! | 01 | DMSACC | [`Accepted`](NotificationKind::Accepted) (legally accepted, MRN allocated) |
//! | 02 | DMSRCV | [`Received`](NotificationKind::Received) |
//! | 03 | DMSREJ | [`Rejected`](NotificationKind::Rejected) (with `Error`s and `Pointer`s) |
//! | 05 | DMSCTL | [`UnderControl`](NotificationKind::UnderControl) (goods to be examined) |
//! | 06 | DMSDOC | [`DocumentsRequired`](NotificationKind::DocumentsRequired) |
//! | 08 | DMSROG | [`Released`](NotificationKind::Released) (goods may be released) |
//! | 09 | DMSCLE | [`Cleared`](NotificationKind::Cleared) |
//! | 10 | DMSINV | [`Invalidated`](NotificationKind::Invalidated) |
//! | 11 | DMSREQ | [`AmendmentAccepted`](NotificationKind::AmendmentAccepted) |
//! | 13 | DMSTAX | [`DutiesAssessed`](NotificationKind::DutiesAssessed) (duties per item, as `DutyTaxFee`) |

use chrono::{DateTime, Utc};
use quick_xml::escape::escape;
use rust_decimal::Decimal;
use serde::Serialize;

use super::validate::DmsError;
use crate::error::DeclarationError;

/// The kind of a notification, and so its function code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NotificationKind {
    Accepted,
    Received,
    Rejected,
    UnderControl,
    DocumentsRequired,
    Released,
    Cleared,
    Invalidated,
    AmendmentAccepted,
    DutiesAssessed,
}

impl NotificationKind {
    /// The `Response/FunctionCode`.
    pub fn function_code(self) -> &'static str {
        match self {
            NotificationKind::Accepted => "01",
            NotificationKind::Received => "02",
            NotificationKind::Rejected => "03",
            NotificationKind::UnderControl => "05",
            NotificationKind::DocumentsRequired => "06",
            NotificationKind::Released => "08",
            NotificationKind::Cleared => "09",
            NotificationKind::Invalidated => "10",
            NotificationKind::AmendmentAccepted => "11",
            NotificationKind::DutiesAssessed => "13",
        }
    }

    /// CDS's name for it (`DMSACC`, ...).
    pub fn cds_name(self) -> &'static str {
        match self {
            NotificationKind::Accepted => "DMSACC",
            NotificationKind::Received => "DMSRCV",
            NotificationKind::Rejected => "DMSREJ",
            NotificationKind::UnderControl => "DMSCTL",
            NotificationKind::DocumentsRequired => "DMSDOC",
            NotificationKind::Released => "DMSROG",
            NotificationKind::Cleared => "DMSCLE",
            NotificationKind::Invalidated => "DMSINV",
            NotificationKind::AmendmentAccepted => "DMSREQ",
            NotificationKind::DutiesAssessed => "DMSTAX",
        }
    }

    /// The kind for a function code (as read from a notification).
    pub fn from_function_code(code: &str) -> Option<NotificationKind> {
        let n = code.trim().parse::<u8>().ok()?;
        ALL_KINDS
            .iter()
            .copied()
            .find(|k| k.function_code().parse::<u8>().ok() == Some(n))
    }
}

/// Every notification kind.
pub const ALL_KINDS: [NotificationKind; 10] = [
    NotificationKind::Accepted,
    NotificationKind::Received,
    NotificationKind::Rejected,
    NotificationKind::UnderControl,
    NotificationKind::DocumentsRequired,
    NotificationKind::Released,
    NotificationKind::Cleared,
    NotificationKind::Invalidated,
    NotificationKind::AmendmentAccepted,
    NotificationKind::DutiesAssessed,
];

/// A free-text statement (`AdditionalInformation`): the documents
/// required, the reason of an invalidation, ...
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    /// `StatementCode` (at most 17 characters).
    pub code: Option<String>,
    /// `StatementDescription` (at most 512 characters).
    pub description: Option<String>,
    /// `LimitDateTime`: e.g. the date by which documents must be supplied.
    pub limit: Option<DateTime<Utc>>,
    /// `StatementTypeCode` (3 characters, e.g. `AFB`).
    pub type_code: Option<String>,
}

/// One duty or tax assessed on an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssessedDuty {
    /// DE 4/3 tax type, e.g. `A00` customs duty, `B00` VAT.
    pub tax_type: String,
    /// DE 4/17 preference / duty regime, e.g. `100`.
    pub duty_regime: Option<String>,
    /// DE 4/4 ad valorem tax base (in `currency`).
    pub ad_valorem_base: Option<Decimal>,
    /// DE 4/4 specific tax base and its unit (e.g. `KGM`).
    pub specific_base: Option<(Decimal, String)>,
    /// DE 4/5 rate (percent for ad valorem).
    pub rate: Option<Decimal>,
    /// DE 4/6 amount assessed (in `currency`).
    pub amount: Decimal,
    /// Amount deducted (relief), 0 when none.
    pub deduct: Decimal,
    /// Amount payable.
    pub payable: Decimal,
    pub currency: String,
}

/// The duties of one goods item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemDuties {
    /// The goods item number (DE 1/6).
    pub sequence: u32,
    pub duties: Vec<AssessedDuty>,
}

/// Everything a notification says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmsNotification {
    pub kind: NotificationKind,
    /// `Response/FunctionalReferenceID`: the notification's own id (at most
    /// 35 characters; from the caller's `IdGen`).
    pub notification_id: String,
    /// `IssueDateTime` (and the acceptance, rejection or cancellation time).
    pub issued_at: DateTime<Utc>,
    /// The administration, `MetaData/ResponsibleCountryCode`.
    pub responsible_country: String,
    /// The trader's LRN (`Declaration/FunctionalReferenceID`).
    pub lrn: String,
    /// The MRN (`Declaration/ID`), when allocated.
    pub mrn: Option<String>,
    /// The declaration version (`Declaration/VersionID`), 1 for the original.
    pub version: u32,
    /// For [`NotificationKind::Rejected`]: the errors.
    pub errors: Vec<DmsError>,
    pub statements: Vec<Statement>,
    /// For [`NotificationKind::DutiesAssessed`]: duties per item.
    pub duties: Vec<ItemDuties>,
}

fn dt(t: &DateTime<Utc>) -> String {
    format!(
        r#"<ds:DateTimeString formatCode="304">{}</ds:DateTimeString>"#,
        t.format("%Y%m%d%H%M%SZ")
    )
}

fn too_long(what: &str, value: &str, max: usize) -> Result<(), DeclarationError> {
    if value.chars().count() > max || value.is_empty() {
        return Err(DeclarationError::Generate {
            message: "DMS notification".to_owned(),
            reason: format!("{what} must be 1 to {max} characters, got {value:?}"),
        });
    }
    Ok(())
}

fn amount(
    out: &mut String,
    name: &str,
    value: Decimal,
    currency: &str,
) -> Result<(), DeclarationError> {
    if value.scale() > 3 {
        return Err(DeclarationError::Generate {
            message: "DMS notification".to_owned(),
            reason: format!("{name} {value} has more than 3 decimals"),
        });
    }
    out.push_str(&format!(
        r#"<{name} currencyID="{}">{value}</{name}>"#,
        escape(currency)
    ));
    Ok(())
}

/// Renders a notification as a `MetaData` document (UTF-8 XML).
///
/// Errors ([`DeclarationError::Generate`]) when a value does not fit the
/// notification schema (an over-long reference, an error code longer than 8
/// characters, an amount with more than 3 decimals, ...).
pub fn notification_xml(n: &DmsNotification) -> Result<String, DeclarationError> {
    too_long("the notification id", &n.notification_id, 35)?;
    too_long("the LRN", &n.lrn, 35)?;
    if let Some(mrn) = &n.mrn {
        too_long("the MRN", mrn, 70)?;
    }
    if !(n.responsible_country.len() == 2
        && n.responsible_country
            .bytes()
            .all(|b| b.is_ascii_uppercase()))
    {
        return Err(DeclarationError::Generate {
            message: "DMS notification".to_owned(),
            reason: format!("{:?} is not a country code", n.responsible_country),
        });
    }
    let mut o = String::with_capacity(1024);
    o.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    o.push('\n');
    o.push_str(r#"<md:MetaData xmlns:md="urn:wco:datamodel:WCO:DocumentMetaData-DMS:2" xmlns="urn:wco:datamodel:WCO:RES-DMS:2" xmlns:ds="urn:wco:datamodel:WCO:Response_DS:DMS:2">"#);
    o.push_str("<md:WCODataModelVersionCode>3.6</md:WCODataModelVersionCode>");
    o.push_str("<md:WCOTypeName>RES</md:WCOTypeName>");
    o.push_str(&format!(
        "<md:ResponsibleCountryCode>{}</md:ResponsibleCountryCode>",
        n.responsible_country
    ));
    o.push_str("<Response>");
    o.push_str(&format!(
        "<FunctionCode>{}</FunctionCode>",
        n.kind.function_code()
    ));
    o.push_str(&format!(
        "<FunctionalReferenceID>{}</FunctionalReferenceID>",
        escape(&n.notification_id)
    ));
    o.push_str(&format!(
        "<IssueDateTime>{}</IssueDateTime>",
        dt(&n.issued_at)
    ));
    for s in &n.statements {
        o.push_str("<AdditionalInformation>");
        if let Some(c) = &s.code {
            too_long("a statement code", c, 17)?;
            o.push_str(&format!("<StatementCode>{}</StatementCode>", escape(c)));
        }
        if let Some(d) = &s.description {
            too_long("a statement description", d, 512)?;
            o.push_str(&format!(
                "<StatementDescription>{}</StatementDescription>",
                escape(d)
            ));
        }
        if let Some(l) = &s.limit {
            o.push_str(&format!("<LimitDateTime>{}</LimitDateTime>", dt(l)));
        }
        if let Some(t) = &s.type_code {
            too_long("a statement type code", t, 3)?;
            o.push_str(&format!(
                "<StatementTypeCode>{}</StatementTypeCode>",
                escape(t)
            ));
        }
        o.push_str("</AdditionalInformation>");
    }
    for e in &n.errors {
        o.push_str("<Error>");
        let description: String = e.message.chars().take(512).collect();
        if !description.is_empty() {
            o.push_str(&format!(
                "<Description>{}</Description>",
                escape(&description)
            ));
        }
        too_long("an error code", &e.code, 8)?;
        o.push_str(&format!(
            "<ValidationCode>{}</ValidationCode>",
            escape(&e.code)
        ));
        for p in e.pointers() {
            o.push_str("<Pointer>");
            if let Some(seq) = p.sequence {
                o.push_str(&format!("<SequenceNumeric>{seq}</SequenceNumeric>"));
            }
            o.push_str(&format!(
                "<DocumentSectionCode>{}</DocumentSectionCode>",
                escape(&p.section)
            ));
            if let Some(tag) = &p.tag {
                o.push_str(&format!("<TagID>{}</TagID>", escape(tag)));
            }
            o.push_str("</Pointer>");
        }
        o.push_str("</Error>");
    }
    o.push_str("<Declaration>");
    if n.kind == NotificationKind::Accepted {
        o.push_str(&format!(
            "<AcceptanceDateTime>{}</AcceptanceDateTime>",
            dt(&n.issued_at)
        ));
    }
    if n.kind == NotificationKind::Invalidated {
        o.push_str(&format!(
            "<CancellationDateTime>{}</CancellationDateTime>",
            dt(&n.issued_at)
        ));
    }
    o.push_str(&format!(
        "<FunctionalReferenceID>{}</FunctionalReferenceID>",
        escape(&n.lrn)
    ));
    if let Some(mrn) = &n.mrn {
        o.push_str(&format!("<ID>{}</ID>", escape(mrn)));
    }
    if n.kind == NotificationKind::Rejected {
        o.push_str(&format!(
            "<RejectionDateTime>{}</RejectionDateTime>",
            dt(&n.issued_at)
        ));
    }
    o.push_str(&format!("<VersionID>{}</VersionID>", n.version));
    if !n.duties.is_empty() {
        o.push_str("<GoodsShipment>");
        for item in &n.duties {
            o.push_str("<GovernmentAgencyGoodsItem>");
            o.push_str(&format!(
                "<SequenceNumeric>{}</SequenceNumeric>",
                item.sequence
            ));
            o.push_str("<Commodity>");
            for d in &item.duties {
                o.push_str("<DutyTaxFee>");
                if let Some(base) = d.ad_valorem_base {
                    amount(&mut o, "AdValoremTaxBaseAmount", base, &d.currency)?;
                }
                amount(&mut o, "DeductAmount", d.deduct, &d.currency)?;
                if let Some(r) = &d.duty_regime {
                    too_long("a duty regime code", r, 3)?;
                    o.push_str(&format!("<DutyRegimeCode>{}</DutyRegimeCode>", escape(r)));
                }
                if let Some((q, unit)) = &d.specific_base {
                    o.push_str(&format!(
                        r#"<SpecificTaxBaseQuantity unitCode="{}">{q}</SpecificTaxBaseQuantity>"#,
                        escape(unit)
                    ));
                }
                if let Some(rate) = d.rate {
                    o.push_str(&format!("<TaxRateNumeric>{rate}</TaxRateNumeric>"));
                }
                too_long("a tax type", &d.tax_type, 3)?;
                o.push_str(&format!("<TypeCode>{}</TypeCode>", escape(&d.tax_type)));
                o.push_str("<Payment>");
                amount(&mut o, "TaxAssessedAmount", d.amount, &d.currency)?;
                amount(&mut o, "PaymentAmount", d.payable, &d.currency)?;
                o.push_str("</Payment>");
                o.push_str("</DutyTaxFee>");
            }
            o.push_str("</Commodity>");
            o.push_str("</GovernmentAgencyGoodsItem>");
        }
        o.push_str("</GoodsShipment>");
    }
    o.push_str("</Declaration>");
    o.push_str("</Response>");
    o.push_str("</md:MetaData>\n");
    Ok(o)
}

/// The essentials of a notification read back (HMRC's examples and our own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParsedNotification {
    /// `Response/FunctionCode` as written.
    pub function_code: String,
    pub kind: Option<NotificationKind>,
    pub notification_id: Option<String>,
    pub issued_at: Option<String>,
    pub lrn: Option<String>,
    pub mrn: Option<String>,
    /// `(ValidationCode, pointers as "42A", "17C#1/R144", ...)` per error.
    pub errors: Vec<(String, Vec<String>)>,
    /// `(item sequence, tax type, amount assessed)` per `DutyTaxFee`.
    pub duties: Vec<(String, String, String)>,
}

/// Reads a notification (`MetaData` with one `Response`, namespaced or not).
pub fn parse_notification(xml_bytes: &[u8]) -> Result<ParsedNotification, DeclarationError> {
    use crate::tree::Element;
    let root = crate::tree::parse_xml(xml_bytes)?;
    let bad = |m: &str| DeclarationError::Xml {
        line: 0,
        message: m.to_owned(),
    };
    if root.name != "MetaData" {
        return Err(bad("the root element must be MetaData"));
    }
    let r = root
        .child("Response")
        .ok_or_else(|| bad("/MetaData/Response is missing"))?;
    let v = |e: Option<&Element>| e.and_then(Element::value).map(str::to_owned);
    let function_code = v(r.child("FunctionCode"))
        .ok_or_else(|| bad("/MetaData/Response/FunctionCode is missing"))?;
    let d = r.child("Declaration");
    let errors = r
        .children_named("Error")
        .map(|e| {
            let pointers = e
                .children_named("Pointer")
                .map(|p| {
                    let mut s = v(p.child("DocumentSectionCode")).unwrap_or_default();
                    if let Some(seq) = v(p.child("SequenceNumeric")) {
                        s.push_str(&format!("#{seq}"));
                    }
                    if let Some(tag) = v(p.child("TagID")) {
                        s.push_str(&format!("/{tag}"));
                    }
                    s
                })
                .collect();
            (v(e.child("ValidationCode")).unwrap_or_default(), pointers)
        })
        .collect();
    let mut duties = Vec::new();
    if let Some(items) = d.and_then(|d| d.child("GoodsShipment")) {
        for item in items.children_named("GovernmentAgencyGoodsItem") {
            let seq = v(item.child("SequenceNumeric")).unwrap_or_default();
            for fee in item
                .child("Commodity")
                .into_iter()
                .flat_map(|c| c.children_named("DutyTaxFee"))
            {
                duties.push((
                    seq.clone(),
                    v(fee.child("TypeCode")).unwrap_or_default(),
                    v(fee
                        .child("Payment")
                        .and_then(|p| p.child("TaxAssessedAmount")))
                    .unwrap_or_default(),
                ));
            }
        }
    }
    Ok(ParsedNotification {
        kind: NotificationKind::from_function_code(&function_code),
        function_code,
        notification_id: v(r.child("FunctionalReferenceID")),
        issued_at: v(r
            .child("IssueDateTime")
            .and_then(|i| i.child("DateTimeString"))),
        lrn: v(d.and_then(|d| d.child("FunctionalReferenceID"))),
        mrn: v(d.and_then(|d| d.child("ID"))),
        errors,
        duties,
    })
}
