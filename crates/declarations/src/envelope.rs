//! The parsed view of an incoming message: the header and the fields the
//! movement lifecycle needs.

use crate::message::MessageType;
use crate::tree::Element;

/// The message header (the XSD group `MESSAGE`) and the root attributes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Header {
    /// The root element's local name.
    pub root: String,
    /// `@PhaseID`, if present.
    pub phase_id: Option<String>,
    /// `messageSender`.
    pub message_sender: String,
    /// `messageRecipient`.
    pub message_recipient: String,
    /// `preparationDateAndTime` as written (UTC, `YYYY-MM-DDThh:mm:ss`).
    pub preparation_date_and_time: String,
    /// `messageIdentification`.
    pub message_identification: String,
    /// `messageType` as written.
    pub message_type: String,
    /// `correlationIdentifier`, if present.
    pub correlation_identifier: Option<String>,
}

impl Header {
    /// Reads the header of a message tree (missing elements are empty strings;
    /// the XSD check reports them).
    pub fn of(root: &Element) -> Header {
        let t = |n: &str| root.text_at(n).unwrap_or_default().to_owned();
        Header {
            root: root.name.clone(),
            phase_id: root.attribute("PhaseID").map(str::to_owned),
            message_sender: t("messageSender"),
            message_recipient: t("messageRecipient"),
            preparation_date_and_time: t("preparationDateAndTime"),
            message_identification: t("messageIdentification"),
            message_type: t("messageType"),
            correlation_identifier: root.text_at("correlationIdentifier").map(str::to_owned),
        }
    }
}

/// A guarantee reference (GRN) of a guarantee.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GuaranteeReference {
    /// `sequenceNumber`.
    pub sequence_number: Option<String>,
    /// `GRN`.
    pub grn: Option<String>,
    /// `accessCode` (the caller hashes it before storing).
    pub access_code: Option<String>,
    /// `amountToBeCovered` as written (decimal text).
    pub amount_to_be_covered: Option<String>,
    /// `currency`.
    pub currency: Option<String>,
}

/// A `Guarantee` data group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Guarantee {
    /// `sequenceNumber`.
    pub sequence_number: Option<String>,
    /// `guaranteeType` (CL251).
    pub guarantee_type: Option<String>,
    /// `otherGuaranteeReference`.
    pub other_guarantee_reference: Option<String>,
    /// The `GuaranteeReference` groups.
    pub references: Vec<GuaranteeReference>,
}

/// The address of a party.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    /// `streetAndNumber`.
    pub street_and_number: String,
    /// `postcode`.
    pub postcode: Option<String>,
    /// `city`.
    pub city: String,
    /// `country`.
    pub country: String,
}

/// The holder of the transit procedure.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Holder {
    /// `identificationNumber` (EORI).
    pub identification_number: Option<String>,
    /// `TIRHolderIdentificationNumber`.
    pub tir_holder_identification_number: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `Address`.
    pub address: Option<Address>,
}

/// The business fields of a message that the lifecycle and the store need.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TransitFields {
    /// `TransitOperation/LRN`.
    pub lrn: Option<String>,
    /// `TransitOperation/MRN` as written (checked by the validator).
    pub mrn: Option<String>,
    /// `TransitOperation/declarationType`.
    pub declaration_type: Option<String>,
    /// `TransitOperation/security`.
    pub security: Option<String>,
    /// `TransitOperation/reducedDatasetIndicator`.
    pub reduced_dataset_indicator: Option<String>,
    /// `CustomsOfficeOfDeparture/referenceNumber`.
    pub office_of_departure: Option<String>,
    /// `CustomsOfficeOfDestinationDeclared/referenceNumber`.
    pub office_of_destination_declared: Option<String>,
    /// `CustomsOfficeOfDestinationActual/referenceNumber`.
    pub office_of_destination_actual: Option<String>,
    /// `HolderOfTheTransitProcedure`, if present.
    pub holder: Option<Holder>,
    /// `TraderAtDestination/identificationNumber`.
    pub trader_at_destination: Option<String>,
    /// The `Guarantee` groups.
    pub guarantees: Vec<Guarantee>,
    /// The `Authorisation` groups as (type, reference number).
    pub authorisations: Vec<(String, String)>,
    /// Number of `HouseConsignment` groups.
    pub house_consignments: usize,
    /// Number of `ConsignmentItem` groups (goods items).
    pub items: usize,
}

fn opt(e: &Element, path: &str) -> Option<String> {
    e.text_at(path).map(str::to_owned)
}

impl TransitFields {
    /// Extracts the fields from a message tree.
    pub fn of(root: &Element) -> TransitFields {
        let holder = root.child("HolderOfTheTransitProcedure").map(|h| Holder {
            identification_number: opt(h, "identificationNumber"),
            tir_holder_identification_number: opt(h, "TIRHolderIdentificationNumber"),
            name: opt(h, "name"),
            address: h.child("Address").map(|a| Address {
                street_and_number: opt(a, "streetAndNumber").unwrap_or_default(),
                postcode: opt(a, "postcode"),
                city: opt(a, "city").unwrap_or_default(),
                country: opt(a, "country").unwrap_or_default(),
            }),
        });
        let guarantees = root
            .children_named("Guarantee")
            .map(|g| Guarantee {
                sequence_number: opt(g, "sequenceNumber"),
                guarantee_type: opt(g, "guaranteeType"),
                other_guarantee_reference: opt(g, "otherGuaranteeReference"),
                references: g
                    .children_named("GuaranteeReference")
                    .map(|r| GuaranteeReference {
                        sequence_number: opt(r, "sequenceNumber"),
                        grn: opt(r, "GRN"),
                        access_code: opt(r, "accessCode"),
                        amount_to_be_covered: opt(r, "amountToBeCovered"),
                        currency: opt(r, "currency"),
                    })
                    .collect(),
            })
            .collect();
        let authorisations = root
            .children_named("Authorisation")
            .map(|a| {
                (
                    opt(a, "type").unwrap_or_default(),
                    opt(a, "referenceNumber").unwrap_or_default(),
                )
            })
            .collect();
        TransitFields {
            lrn: opt(root, "TransitOperation/LRN"),
            mrn: opt(root, "TransitOperation/MRN"),
            declaration_type: opt(root, "TransitOperation/declarationType"),
            security: opt(root, "TransitOperation/security"),
            reduced_dataset_indicator: opt(root, "TransitOperation/reducedDatasetIndicator"),
            office_of_departure: opt(root, "CustomsOfficeOfDeparture/referenceNumber"),
            office_of_destination_declared: opt(
                root,
                "CustomsOfficeOfDestinationDeclared/referenceNumber",
            ),
            office_of_destination_actual: opt(
                root,
                "CustomsOfficeOfDestinationActual/referenceNumber",
            ),
            holder,
            trader_at_destination: opt(root, "TraderAtDestination/identificationNumber"),
            guarantees,
            authorisations,
            house_consignments: root.count("HouseConsignment"),
            items: root.count("ConsignmentItem"),
        }
    }
}

/// A message that passed the well-formedness, root and XSD checks.
#[derive(Debug, Clone)]
pub struct ParsedMessage {
    /// Its type (the root element).
    pub message_type: MessageType,
    /// The element tree (from XML, or converted from JSON).
    pub root: Element,
    /// The header.
    pub header: Header,
    /// The lifecycle fields.
    pub fields: TransitFields,
    /// The XML that was validated: the body as received for XML, the
    /// converted document for JSON. This is what is stored and served back.
    pub xml: Vec<u8>,
}
