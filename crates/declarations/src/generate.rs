//! The messages customs sends back to the trader, as XML strings that
//! validate against their XSDs.
//!
//! Inputs are typed: an [`Outbound`] header (sender, recipient, message
//! identification and preparation time are passed in; there is no clock),
//! the [`Departure`] data taken from the parsed declaration, and per message
//! the decision data. [`cc029c`] projects the whole CC015C onto the CC029C
//! type using the [`SchemaSet`]'s element order.

use chrono::{NaiveDate, NaiveDateTime};

use crate::envelope::{Holder, ParsedMessage};
use crate::error::DeclarationError;
use crate::message::MessageType;
use crate::mrn::Mrn;
use crate::schemas::{ComplexType, SchemaSet};
use crate::tree::Element;
use crate::validate::FunctionalError;

const DATE_TIME: &str = "%Y-%m-%dT%H:%M:%S";
const DATE: &str = "%Y-%m-%d";
/// The phase written in `@PhaseID` of generated messages.
pub const PHASE_ID: &str = "NCTS5.1";

/// The header of a generated message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    /// `messageSender`, e.g. `NTA.GB`.
    pub sender: String,
    /// `messageRecipient`: the trader's `messageSender`.
    pub recipient: String,
    /// `messageIdentification` (from the caller's `IdGen`).
    pub message_identification: String,
    /// `preparationDateAndTime` (UTC, from the caller's `Clock`).
    pub prepared_at: NaiveDateTime,
    /// `correlationIdentifier`: the trader message answered, if any.
    pub correlation_identifier: Option<String>,
}

impl Outbound {
    /// A reply to a trader message: recipient is its sender, correlated to its id.
    pub fn reply_to(
        message: &ParsedMessage,
        sender: &str,
        message_identification: &str,
        prepared_at: NaiveDateTime,
    ) -> Outbound {
        Outbound {
            sender: sender.to_owned(),
            recipient: message.header.message_sender.clone(),
            message_identification: message_identification.to_owned(),
            prepared_at,
            correlation_identifier: Some(message.header.message_identification.clone()),
        }
    }

    fn root(&self, m: MessageType) -> Element {
        let mut root = Element::new(m.root_element());
        root.attributes
            .push(("PhaseID".to_owned(), PHASE_ID.to_owned()));
        root.with(Element::leaf("messageSender", &self.sender))
            .with(Element::leaf("messageRecipient", &self.recipient))
            .with(Element::leaf(
                "preparationDateAndTime",
                self.prepared_at.format(DATE_TIME).to_string(),
            ))
            .with(Element::leaf(
                "messageIdentification",
                &self.message_identification,
            ))
            .with(Element::leaf("messageType", m.code()))
            .with_opt(
                self.correlation_identifier
                    .as_ref()
                    .map(|c| Element::leaf("correlationIdentifier", c)),
            )
    }
}

/// The departure data every departure-side message repeats.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Departure {
    /// The LRN.
    pub lrn: String,
    /// `CustomsOfficeOfDeparture/referenceNumber`.
    pub office_of_departure: String,
    /// The holder of the transit procedure.
    pub holder: Holder,
}

impl Departure {
    /// Takes the data from a parsed CC015C (or CC013C).
    pub fn of(message: &ParsedMessage) -> Departure {
        Departure {
            lrn: message.fields.lrn.clone().unwrap_or_default(),
            office_of_departure: message
                .fields
                .office_of_departure
                .clone()
                .unwrap_or_default(),
            holder: message.fields.holder.clone().unwrap_or_default(),
        }
    }

    fn office(&self) -> Element {
        Element::new("CustomsOfficeOfDeparture")
            .with(Element::leaf("referenceNumber", &self.office_of_departure))
    }

    fn holder(&self, with_tir: bool) -> Element {
        let h = &self.holder;
        let leaf = |n: &str, v: &Option<String>| v.as_ref().map(|v| Element::leaf(n, v));
        Element::new("HolderOfTheTransitProcedure")
            .with_opt(leaf("identificationNumber", &h.identification_number))
            .with_opt(if with_tir {
                leaf(
                    "TIRHolderIdentificationNumber",
                    &h.tir_holder_identification_number,
                )
            } else {
                None
            })
            .with_opt(h.address.as_ref().and_then(|_| leaf("name", &h.name)))
            .with_opt(h.address.as_ref().filter(|_| h.name.is_some()).map(|a| {
                Element::new("Address")
                    .with(Element::leaf("streetAndNumber", &a.street_and_number))
                    .with_opt(a.postcode.as_ref().map(|p| Element::leaf("postcode", p)))
                    .with(Element::leaf("city", &a.city))
                    .with(Element::leaf("country", &a.country))
            }))
    }
}

/// The arrival data every destination-side message repeats.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Arrival {
    /// The MRN.
    pub mrn: String,
    /// `CustomsOfficeOfDestinationActual/referenceNumber`.
    pub office_of_destination_actual: String,
    /// `TraderAtDestination/identificationNumber`.
    pub trader_at_destination: String,
}

impl Arrival {
    /// Takes the data from a parsed CC007C.
    pub fn of(message: &ParsedMessage) -> Arrival {
        Arrival {
            mrn: message.fields.mrn.clone().unwrap_or_default(),
            office_of_destination_actual: message
                .fields
                .office_of_destination_actual
                .clone()
                .unwrap_or_default(),
            trader_at_destination: message
                .fields
                .trader_at_destination
                .clone()
                .unwrap_or_default(),
        }
    }

    fn office(&self) -> Element {
        Element::new("CustomsOfficeOfDestinationActual").with(Element::leaf(
            "referenceNumber",
            &self.office_of_destination_actual,
        ))
    }

    fn trader(&self) -> Element {
        Element::new("TraderAtDestination").with(Element::leaf(
            "identificationNumber",
            &self.trader_at_destination,
        ))
    }
}

/// A rejection decision (CC056C, CC057C).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectionDecision {
    /// The rejected message type (`businessRejectionType`, CL560/CL570).
    pub rejected: MessageType,
    /// `rejectionDateAndTime`.
    pub rejected_at: NaiveDateTime,
    /// `rejectionCode` (CL226; one or two digits).
    pub code: u8,
    /// `rejectionReason`, optional free text.
    pub reason: Option<String>,
    /// The functional errors.
    pub errors: Vec<FunctionalError>,
}

fn rejection_elements(d: &RejectionDecision) -> Vec<Element> {
    let mut v = vec![
        Element::leaf("businessRejectionType", d.rejected.number()),
        Element::leaf(
            "rejectionDateAndTime",
            d.rejected_at.format(DATE_TIME).to_string(),
        ),
        Element::leaf("rejectionCode", d.code.to_string()),
    ];
    if let Some(r) = &d.reason {
        v.push(Element::leaf("rejectionReason", truncate(r, 512)));
    }
    v
}

fn functional_errors(errors: &[FunctionalError]) -> Vec<Element> {
    errors
        .iter()
        .map(|e| {
            Element::new("FunctionalError")
                .with(Element::leaf(
                    "errorPointer",
                    truncate(&e.error_pointer, 512),
                ))
                .with(Element::leaf("errorCode", e.message_code().to_string()))
                .with(Element::leaf("errorReason", e.message_reason()))
                .with_opt(
                    e.original_value
                        .as_ref()
                        .filter(|v| !v.is_empty())
                        .map(|v| Element::leaf("originalAttributeValue", truncate(v, 512))),
                )
        })
        .collect()
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn done(mut root: Element) -> String {
    root.assign_xpaths();
    root.to_message_xml()
}

/// CC928C positive acknowledgement of a CC015C.
pub fn cc928c(h: &Outbound, d: &Departure) -> String {
    done(
        h.root(MessageType::CC928C)
            .with(Element::new("TransitOperation").with(Element::leaf("LRN", &d.lrn)))
            .with(d.office())
            .with(d.holder(true)),
    )
}

/// CC028C MRN allocated.
pub fn cc028c(h: &Outbound, d: &Departure, mrn: &Mrn, accepted_on: NaiveDate) -> String {
    done(
        h.root(MessageType::CC028C)
            .with(
                Element::new("TransitOperation")
                    .with(Element::leaf("LRN", &d.lrn))
                    .with(Element::leaf("MRN", mrn.as_str()))
                    .with(Element::leaf(
                        "declarationAcceptanceDate",
                        accepted_on.format(DATE).to_string(),
                    )),
            )
            .with(d.office())
            .with(d.holder(true)),
    )
}

/// CC056C rejection from the office of departure. `mrn` is written when the
/// declaration already has one, otherwise the LRN.
pub fn cc056c(h: &Outbound, d: &Departure, mrn: Option<&Mrn>, r: &RejectionDecision) -> String {
    let mut op = Element::new("TransitOperation");
    match mrn {
        Some(m) => op.children.push(Element::leaf("MRN", m.as_str())),
        None => op.children.push(Element::leaf("LRN", &d.lrn)),
    }
    op.children.extend(rejection_elements(r));
    let mut root = h
        .root(MessageType::CC056C)
        .with(op)
        .with(d.office())
        .with(d.holder(true));
    root.children.extend(functional_errors(&r.errors));
    done(root)
}

/// A control decision (CC060C).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlDecision {
    /// `controlNotificationDateAndTime`.
    pub notified_at: NaiveDateTime,
    /// `notificationType` (CL384: 0 intention to control, 1 documents requested …).
    pub notification_type: u8,
    /// `TypeOfControls` as (type code CL094, optional text).
    pub controls: Vec<(String, Option<String>)>,
    /// `RequestedDocument` as (document type CL213, optional description).
    pub requested_documents: Vec<(String, Option<String>)>,
}

/// CC060C control decision notification.
pub fn cc060c(h: &Outbound, d: &Departure, mrn: &Mrn, c: &ControlDecision) -> String {
    let mut root = h
        .root(MessageType::CC060C)
        .with(
            Element::new("TransitOperation")
                .with(Element::leaf("LRN", &d.lrn))
                .with(Element::leaf("MRN", mrn.as_str()))
                .with(Element::leaf(
                    "controlNotificationDateAndTime",
                    c.notified_at.format(DATE_TIME).to_string(),
                ))
                .with(Element::leaf(
                    "notificationType",
                    (c.notification_type % 10).to_string(),
                )),
        )
        .with(d.office())
        .with(d.holder(true));
    for (i, (t, text)) in c.controls.iter().enumerate() {
        root.children.push(
            Element::new("TypeOfControls")
                .with(Element::leaf("sequenceNumber", (i + 1).to_string()))
                .with(Element::leaf("type", t))
                .with_opt(text.as_ref().map(|x| Element::leaf("text", x))),
        );
    }
    for (i, (t, text)) in c.requested_documents.iter().enumerate() {
        root.children.push(
            Element::new("RequestedDocument")
                .with(Element::leaf("sequenceNumber", (i + 1).to_string()))
                .with(Element::leaf("documentType", t))
                .with_opt(text.as_ref().map(|x| Element::leaf("description", x))),
        );
    }
    done(root)
}

/// CC051C no release for transit.
pub fn cc051c(
    h: &Outbound,
    d: &Departure,
    mrn: &Mrn,
    submitted_at: NaiveDateTime,
    motivation_code: &str,
    motivation_text: &str,
) -> String {
    done(
        h.root(MessageType::CC051C)
            .with(
                Element::new("TransitOperation")
                    .with(Element::leaf("MRN", mrn.as_str()))
                    .with(Element::leaf(
                        "declarationSubmissionDateAndTime",
                        submitted_at.format(DATE_TIME).to_string(),
                    ))
                    .with(Element::leaf("noReleaseMotivationCode", motivation_code))
                    .with(Element::leaf(
                        "noReleaseMotivationText",
                        truncate(motivation_text, 512),
                    )),
            )
            .with(d.office())
            .with(d.holder(true)),
    )
}

/// CC004C amendment acceptance.
pub fn cc004c(
    h: &Outbound,
    d: &Departure,
    mrn: &Mrn,
    submitted_at: NaiveDateTime,
    accepted_at: NaiveDateTime,
) -> String {
    done(
        h.root(MessageType::CC004C)
            .with(
                Element::new("TransitOperation")
                    .with(Element::leaf("LRN", &d.lrn))
                    .with(Element::leaf("MRN", mrn.as_str()))
                    .with(Element::leaf(
                        "amendmentSubmissionDateAndTime",
                        submitted_at.format(DATE_TIME).to_string(),
                    ))
                    .with(Element::leaf(
                        "amendmentAcceptanceDateAndTime",
                        accepted_at.format(DATE_TIME).to_string(),
                    )),
            )
            .with(d.office())
            .with(d.holder(true)),
    )
}

/// An invalidation decision (CC009C).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidationDecision {
    /// When the trader asked (CC014C), if the trader asked.
    pub requested_at: Option<NaiveDateTime>,
    /// When customs decided.
    pub decided_at: NaiveDateTime,
    /// Whether the invalidation is granted.
    pub granted: bool,
    /// Whether customs initiated it.
    pub initiated_by_customs: bool,
    /// Justification text.
    pub justification: Option<String>,
}

/// CC009C invalidation decision.
pub fn cc009c(h: &Outbound, d: &Departure, mrn: Option<&Mrn>, i: &InvalidationDecision) -> String {
    let flag = |b: bool| if b { "1" } else { "0" };
    let op = match mrn {
        Some(m) => Element::new("TransitOperation").with(Element::leaf("MRN", m.as_str())),
        None => Element::new("TransitOperation").with(Element::leaf("LRN", &d.lrn)),
    };
    done(
        h.root(MessageType::CC009C)
            .with(op)
            .with(
                Element::new("Invalidation")
                    .with_opt(i.requested_at.map(|t| {
                        Element::leaf("requestDateAndTime", t.format(DATE_TIME).to_string())
                    }))
                    .with(Element::leaf(
                        "decisionDateAndTime",
                        i.decided_at.format(DATE_TIME).to_string(),
                    ))
                    .with(Element::leaf("decision", flag(i.granted)))
                    .with(Element::leaf(
                        "initiatedByCustoms",
                        flag(i.initiated_by_customs),
                    ))
                    .with_opt(
                        i.justification
                            .as_ref()
                            .map(|j| Element::leaf("justification", truncate(j, 512))),
                    ),
            )
            .with(d.office())
            .with(d.holder(true)),
    )
}

/// CC025C goods release notification at destination. `release_indicator`
/// is CL315 (1 released, 2 released with remarks, 3 …).
pub fn cc025c(h: &Outbound, a: &Arrival, released_on: NaiveDate, release_indicator: u8) -> String {
    done(
        h.root(MessageType::CC025C)
            .with(
                Element::new("TransitOperation")
                    .with(Element::leaf("MRN", &a.mrn))
                    .with(Element::leaf(
                        "releaseDate",
                        released_on.format(DATE).to_string(),
                    ))
                    .with(Element::leaf(
                        "releaseIndicator",
                        (release_indicator % 10).to_string(),
                    )),
            )
            .with(a.office())
            .with(a.trader()),
    )
}

/// CC043C unloading permission; `security` (CL217) and the reduced dataset
/// indicator come from the declaration.
pub fn cc043c(h: &Outbound, a: &Arrival, security: &str, reduced_dataset: bool) -> String {
    done(
        h.root(MessageType::CC043C)
            .with(
                Element::new("TransitOperation")
                    .with(Element::leaf("MRN", &a.mrn))
                    .with(Element::leaf("security", security))
                    .with(Element::leaf(
                        "reducedDatasetIndicator",
                        if reduced_dataset { "1" } else { "0" },
                    )),
            )
            .with(a.office())
            .with(a.trader())
            .with(Element::new("CTLControl").with(Element::leaf("continueUnloading", "1"))),
    )
}

/// CC057C rejection from the office of destination.
pub fn cc057c(h: &Outbound, a: &Arrival, r: &RejectionDecision) -> String {
    let mut op = Element::new("TransitOperation").with(Element::leaf("MRN", &a.mrn));
    op.children.extend(rejection_elements(r));
    let mut root = h
        .root(MessageType::CC057C)
        .with(op)
        .with(a.office())
        .with(a.trader());
    root.children.extend(functional_errors(&r.errors));
    done(root)
}

/// One invalid guarantee reference for CC055C.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidGuarantee {
    /// The GRN.
    pub grn: String,
    /// Reasons as (code CL252, optional text).
    pub reasons: Vec<(String, Option<String>)>,
}

/// CC055C guarantee not valid.
pub fn cc055c(
    h: &Outbound,
    d: &Departure,
    mrn: &Mrn,
    accepted_on: NaiveDate,
    guarantees: &[InvalidGuarantee],
) -> Result<String, DeclarationError> {
    if guarantees.is_empty() || guarantees.iter().any(|g| g.reasons.is_empty()) {
        return Err(DeclarationError::Generate {
            message: "CC055C".to_owned(),
            reason: "at least one guarantee reference with at least one reason is required"
                .to_owned(),
        });
    }
    let mut root = h
        .root(MessageType::CC055C)
        .with(
            Element::new("TransitOperation")
                .with(Element::leaf("MRN", mrn.as_str()))
                .with(Element::leaf(
                    "declarationAcceptanceDate",
                    accepted_on.format(DATE).to_string(),
                )),
        )
        .with(d.office())
        .with(d.holder(false));
    for (i, g) in guarantees.iter().enumerate() {
        let mut gr = Element::new("GuaranteeReference")
            .with(Element::leaf("sequenceNumber", (i + 1).to_string()))
            .with(Element::leaf("GRN", &g.grn));
        for (j, (code, text)) in g.reasons.iter().enumerate() {
            gr.children.push(
                Element::new("InvalidGuaranteeReason")
                    .with(Element::leaf("sequenceNumber", (j + 1).to_string()))
                    .with(Element::leaf("code", code))
                    .with_opt(text.as_ref().map(|t| Element::leaf("text", t))),
            );
        }
        root.children.push(gr);
    }
    Ok(done(root))
}

/// The release data of a CC029C.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseDecision {
    /// `declarationAcceptanceDate`.
    pub accepted_on: NaiveDate,
    /// `releaseDate`.
    pub released_on: NaiveDate,
    /// `Consignment/containerIndicator` when the declaration has none.
    pub container_indicator_default: bool,
}

/// CC029C release for transit: the CC015C's content projected onto the
/// CC029C type (elements CC029C does not have are dropped, the order follows
/// the XSD), with the MRN and the decision dates added.
pub fn cc029c(
    schemas: &SchemaSet,
    h: &Outbound,
    declaration: &ParsedMessage,
    mrn: &Mrn,
    r: &ReleaseDecision,
) -> Result<String, DeclarationError> {
    let ty = schemas
        .root_type(MessageType::CC029C)
        .ok_or_else(|| DeclarationError::NoSchema("CC029C".to_owned()))?;
    let mut source = declaration.root.clone();
    // Header and decision fields.
    source.children.retain(|c| {
        !matches!(
            c.name.as_str(),
            "messageSender"
                | "messageRecipient"
                | "preparationDateAndTime"
                | "messageIdentification"
                | "messageType"
                | "correlationIdentifier"
        )
    });
    let header = h.root(MessageType::CC029C);
    source.children.splice(0..0, header.children.clone());
    if let Some(op) = source
        .children
        .iter_mut()
        .find(|c| c.name == "TransitOperation")
    {
        op.children.retain(|c| c.name != "MRN");
        op.children.push(Element::leaf("MRN", mrn.as_str()));
        op.children.push(Element::leaf(
            "declarationAcceptanceDate",
            r.accepted_on.format(DATE).to_string(),
        ));
        op.children.push(Element::leaf(
            "releaseDate",
            r.released_on.format(DATE).to_string(),
        ));
    }
    if let Some(c) = source.children.iter_mut().find(|c| c.name == "Consignment") {
        if c.child("containerIndicator").is_none() {
            c.children.push(Element::leaf(
                "containerIndicator",
                if r.container_indicator_default {
                    "1"
                } else {
                    "0"
                },
            ));
        }
    }
    let mut out = Element::new(MessageType::CC029C.root_element());
    out.attributes = header.attributes.clone();
    project(schemas, ty, &source, &mut out);
    Ok(done(out))
}

fn project(schemas: &SchemaSet, ty: &ComplexType, source: &Element, out: &mut Element) {
    for p in &ty.sequence {
        let child_type = p.type_name.as_deref().and_then(|t| schemas.complex_type(t));
        let max = p
            .max
            .map_or(usize::MAX, |m| usize::try_from(m).unwrap_or(usize::MAX));
        for c in source.children_named(&p.name).take(max) {
            let mut el = Element::new(&p.name);
            match child_type {
                Some(ct) => project(schemas, ct, c, &mut el),
                None => el.text = c.text.clone(),
            }
            out.children.push(el);
        }
    }
}
