//! Validation of an incoming trader message, in order:
//!
//! 1. well-formed XML (or valid JSON, converted to XML in XSD order), and the
//!    root element is one the endpoint accepts, with a matching `messageType`
//!    (HMRC's `rootNodeMismatch`);
//! 2. XSD validation with libxml2 (each violation names the element's XPath and line);
//! 3. interface rules with NCTS error codes: the MRN check digit (rule R0028,
//!    error 93).
//!
//! Decisions that need stored state are the caller's: unknown MRN (error 90,
//! [`FunctionalError::unknown_mrn`]), out of sequence (92,
//! [`FunctionalError::out_of_sequence`], produced by [`crate::transit::apply`])
//! and a duplicate message identification with different content (26,
//! [`FunctionalError::duplicate_message_id`]).

use crate::envelope::{Header, ParsedMessage, TransitFields};
use crate::error::DeclarationError;
use crate::json::json_to_element;
use crate::message::MessageType;
use crate::mrn::{Mrn, MrnError};
use crate::schemas::SchemaSet;
use crate::tree::{parse_xml, Element};

/// NCTS error code 12: codelist violation.
pub const CODELIST_VIOLATION: u16 = 12;
/// NCTS error code 13: condition violation (missing).
pub const CONDITION_MISSING: u16 = 13;
/// NCTS error code 14: rule violation.
pub const RULE_VIOLATION: u16 = 14;
/// NCTS error code 15: condition violation (not allowed).
pub const CONDITION_NOT_ALLOWED: u16 = 15;
/// NCTS error code 26: duplicate message identification.
pub const DUPLICATE_MESSAGE_ID: u16 = 26;
/// NCTS error code 90: unknown MRN.
pub const UNKNOWN_MRN: u16 = 90;
/// NCTS error code 92: message out of sequence.
pub const OUT_OF_SEQUENCE: u16 = 92;
/// NCTS error code 93: invalid MRN.
pub const INVALID_MRN: u16 = 93;

/// One functional error, as carried by CC056C/CC057C `FunctionalError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionalError {
    /// NCTS error code (12, 13, 14, 15, 26, 90, 92, 93 …).
    pub code: u16,
    /// XPath of the offending element, e.g. `/CC007C/TransitOperation/MRN`.
    pub error_pointer: String,
    /// The rule or condition, e.g. `R0028`.
    pub rule: Option<String>,
    /// Human-readable reason.
    pub reason: String,
    /// The offending value.
    pub original_value: Option<String>,
}

impl FunctionalError {
    /// Error 93 for a bad MRN at `pointer`.
    pub fn invalid_mrn(pointer: &str, value: &str, err: &MrnError) -> FunctionalError {
        FunctionalError {
            code: INVALID_MRN,
            error_pointer: pointer.to_owned(),
            rule: Some("R0028".to_owned()),
            reason: format!("Invalid MRN: {err}"),
            original_value: Some(value.to_owned()),
        }
    }

    /// Error 90: the MRN of `message` is not known (decided by the store).
    pub fn unknown_mrn(message: MessageType, mrn: &str) -> FunctionalError {
        FunctionalError {
            code: UNKNOWN_MRN,
            error_pointer: format!("/{}/TransitOperation/MRN", message.code()),
            rule: None,
            reason: "Unknown MRN".to_owned(),
            original_value: Some(mrn.to_owned()),
        }
    }

    /// Error 92: `message` cannot be processed in the movement's current state.
    pub fn out_of_sequence(message: MessageType, state: &str) -> FunctionalError {
        FunctionalError {
            code: OUT_OF_SEQUENCE,
            error_pointer: format!("/{}/messageType", message.code()),
            rule: None,
            reason: format!(
                "Message out of sequence: {} not allowed in state {state}",
                message.code()
            ),
            original_value: Some(message.code().to_owned()),
        }
    }

    /// Error 26: the message identification was already used with different content.
    pub fn duplicate_message_id(message: MessageType, id: &str) -> FunctionalError {
        FunctionalError {
            code: DUPLICATE_MESSAGE_ID,
            error_pointer: format!("/{}/messageIdentification", message.code()),
            rule: None,
            reason: "Duplicate message identification with different content".to_owned(),
            original_value: Some(id.to_owned()),
        }
    }

    /// The `errorCode` written into CC056C/CC057C. The XSD code list
    /// (`AesNctsP5FunctionalErrorCodes`) holds 12, 13, 14, 15, 26, 50, 51, 52;
    /// the others (90, 92, 93) are written as 14 (rule violation) with the
    /// rule or the original code in `errorReason`.
    pub fn message_code(&self) -> u16 {
        match self.code {
            12 | 13 | 14 | 15 | 26 | 50 | 51 | 52 => self.code,
            _ => RULE_VIOLATION,
        }
    }

    /// The `errorReason` written into CC056C/CC057C (at most 7 characters):
    /// the rule id, or `E` + the NCTS code when there is no rule.
    pub fn message_reason(&self) -> String {
        match &self.rule {
            Some(r) => r.chars().take(7).collect(),
            None => format!("E{}", self.code),
        }
    }
}

/// The body format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/xml`.
    Xml,
    /// `application/json` (HMRC shape).
    Json,
}

/// One XSD violation located in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// XPath of the element (or of the root if it could not be located).
    pub xpath: String,
    /// Line in the validated XML (for JSON: in the converted document).
    pub line: u32,
    /// Column, as libxml2 reports it.
    pub column: u32,
    /// libxml2's message.
    pub message: String,
}

/// Why a message was refused.
#[derive(Debug, Clone)]
pub enum Rejection {
    /// Not well-formed XML.
    NotWellFormed {
        /// Line of the error.
        line: u32,
        /// Parser message.
        message: String,
    },
    /// Invalid JSON, or JSON that does not fit the message structure.
    InvalidJson {
        /// JSON pointer of the offending value.
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// The root element (or `messageType`) is not what the endpoint accepts.
    RootMismatch {
        /// The accepted message types.
        expected: Vec<MessageType>,
        /// What was found.
        found: String,
        /// Where (XPath or JSON pointer).
        pointer: String,
    },
    /// XSD violations.
    Schema(Vec<SchemaViolation>),
    /// Interface/business rule errors; the message itself was schema-valid
    /// and is returned so that a CC056C/CC057C can be addressed.
    Business {
        /// The parsed message.
        message: Box<ParsedMessage>,
        /// The errors.
        errors: Vec<FunctionalError>,
    },
}

fn from_decl_error(e: DeclarationError) -> Rejection {
    match e {
        DeclarationError::Xml { line, message } => Rejection::NotWellFormed { line, message },
        DeclarationError::Json { pointer, message } => Rejection::InvalidJson { pointer, message },
        other => Rejection::InvalidJson {
            pointer: "/".to_owned(),
            message: other.to_string(),
        },
    }
}

/// Validates a trader message for an endpoint that accepts `expected` types.
///
/// `Ok` means the message passed all three stages; `Err(Rejection::Business)`
/// carries the parsed message and the functional errors.
pub fn validate(
    schemas: &SchemaSet,
    expected: &[MessageType],
    body: &[u8],
    format: Format,
) -> Result<ParsedMessage, Rejection> {
    // 1. well-formed, root.
    let (root, xml) = match format {
        Format::Xml => {
            let root = parse_xml(body).map_err(from_decl_error)?;
            (root, body.to_vec())
        }
        Format::Json => {
            let (name, _) = crate::json::root_of_json(body).map_err(from_decl_error)?;
            if !expected.iter().any(|m| m.root_element() == name) {
                return Err(Rejection::RootMismatch {
                    expected: expected.to_vec(),
                    found: name,
                    pointer: "/".to_owned(),
                });
            }
            let root = json_to_element(schemas, body).map_err(from_decl_error)?;
            let xml = root.to_message_xml().into_bytes();
            // Re-parse so that lines refer to the converted document.
            let root = parse_xml(&xml).map_err(from_decl_error)?;
            (root, xml)
        }
    };
    let Some(message_type) = expected
        .iter()
        .copied()
        .find(|m| m.root_element() == root.name)
    else {
        return Err(Rejection::RootMismatch {
            expected: expected.to_vec(),
            found: root.name.clone(),
            pointer: format!("/{}", root.name),
        });
    };
    if let Some(mt) = root.child("messageType") {
        if mt.text != message_type.code() {
            return Err(Rejection::RootMismatch {
                expected: vec![message_type],
                found: mt.text.clone(),
                pointer: mt.xpath.clone(),
            });
        }
    }
    // 2. XSD.
    let validator = schemas.validator(message_type).map_err(|e| {
        Rejection::Schema(vec![SchemaViolation {
            xpath: format!("/{}", root.name),
            line: 1,
            column: 0,
            message: e.to_string(),
        }])
    })?;
    if let Err(violations) = validator.validate(&xml) {
        return Err(Rejection::Schema(
            violations
                .into_iter()
                .map(|v| {
                    let xpath = v
                        .element
                        .as_deref()
                        .and_then(|name| {
                            let local = name.rsplit_once(':').map_or(name, |(_, l)| l);
                            root.find(&|e: &Element| e.line == v.line && e.name == local)
                                .or_else(|| root.find(&|e: &Element| e.name == local))
                        })
                        .map_or_else(|| format!("/{}", root.name), |e| e.xpath.clone());
                    SchemaViolation {
                        xpath,
                        line: v.line,
                        column: v.column,
                        message: v.message,
                    }
                })
                .collect(),
        ));
    }
    // 3. interface rules.
    let mut errors = Vec::new();
    collect_mrn_errors(&root, &mut errors);
    interface_rules(message_type, &root, &mut errors);
    let parsed = ParsedMessage {
        message_type,
        header: Header::of(&root),
        fields: TransitFields::of(&root),
        root,
        xml,
    };
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(Rejection::Business {
            message: Box::new(parsed),
            errors,
        })
    }
}

/// Checks every `MRN` element of the message (rule R0028).
fn collect_mrn_errors(e: &Element, out: &mut Vec<FunctionalError>) {
    if e.name == "MRN" && e.children.is_empty() {
        if let Err(err) = Mrn::parse(&e.text) {
            out.push(FunctionalError::invalid_mrn(&e.xpath, &e.text, &err));
        }
    }
    for c in &e.children {
        collect_mrn_errors(c, out);
    }
}

fn rule_error(code: u16, e: &Element, rule: Option<&str>, reason: &str) -> FunctionalError {
    FunctionalError {
        code,
        error_pointer: e.xpath.clone(),
        rule: rule.map(str::to_owned),
        reason: reason.to_owned(),
        original_value: if e.children.is_empty() {
            Some(e.text.clone())
        } else {
            None
        },
    }
}

/// The trader-interface rules that need no stored state:
///
/// * CC015C, CC013C and CC007C are addressed to `NTA.` and a country code (12);
/// * when `messageRecipient` is `NTA.` and a country code, the office the message is lodged at (departure, or destination actual)
///   belongs to that administration: its reference starts with the code (12);
/// * the LRN holds only letters, digits, `.`, `-` and `_` (14);
/// * CC013C names the declaration by exactly one of LRN and MRN
///   (13 when neither, 15 when both).
fn interface_rules(message: MessageType, root: &Element, out: &mut Vec<FunctionalError>) {
    let country = root
        .text_at("messageRecipient")
        .and_then(|r| r.strip_prefix("NTA."))
        .filter(|c| c.len() == 2 && c.chars().all(|x| x.is_ascii_uppercase()));
    // Messages that are lodged at an office (the declaration, its amendment and the arrival
    // notification) are addressed to that office's national transit application.
    if country.is_none()
        && matches!(
            message,
            MessageType::CC015C | MessageType::CC013C | MessageType::CC007C
        )
    {
        if let Some(r) = root.child("messageRecipient") {
            out.push(rule_error(
                CODELIST_VIOLATION,
                r,
                None,
                "the recipient must be the national transit application of the office, NTA. and its country code",
            ));
        }
    }
    if let Some(country) = country {
        for office in [
            "CustomsOfficeOfDeparture",
            "CustomsOfficeOfDestinationActual",
        ] {
            if let Some(r) = root.at(&format!("{office}/referenceNumber")) {
                if !r.text.starts_with(country) {
                    out.push(rule_error(
                        CODELIST_VIOLATION,
                        r,
                        None,
                        &format!("the office is not an office of the administration NTA.{country}"),
                    ));
                }
            }
        }
    }
    if let Some(lrn) = root.at("TransitOperation/LRN") {
        if !lrn
            .text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            out.push(rule_error(
                RULE_VIOLATION,
                lrn,
                None,
                "the LRN may contain only letters, digits, '.', '-' and '_'",
            ));
        }
    }
    if message == MessageType::CC013C {
        if let Some(op) = root.child("TransitOperation") {
            match (op.child("LRN"), op.child("MRN")) {
                (None, None) => out.push(rule_error(
                    CONDITION_MISSING,
                    op,
                    None,
                    "either the LRN or the MRN is required",
                )),
                (Some(_), Some(mrn)) => out.push(rule_error(
                    CONDITION_NOT_ALLOWED,
                    mrn,
                    None,
                    "the LRN and the MRN must not both be given",
                )),
                _ => {}
            }
        }
    }
}
