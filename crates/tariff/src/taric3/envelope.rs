//! [`parse_envelope`]: a TARIC3 envelope into transactions of typed records.

use super::error::{RecordRef, Taric3Error};
use super::records::{record_codes, FieldError, Fields, RecordBody};
use super::xml::{self, Node};
use super::{ENVELOPE_NAMESPACE, MAX_INPUT_BYTES, TARIC_NAMESPACE};

/// A parsed envelope (`env:envelope`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The envelope's `id` attribute.
    pub id: String,
    /// The transactions, in document order.
    pub transactions: Vec<Transaction>,
}

/// One transaction (`env:transaction`): a logical unit of work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// The transaction's `id` attribute.
    pub id: String,
    /// Its records (one per `env:app.message`), in document order.
    pub messages: Vec<Record>,
}

/// The update type of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UpdateType {
    /// `1`: the record replaces the existing one with the same key.
    Update,
    /// `2`: the record is deleted.
    Delete,
    /// `3`: the record is new.
    Insert,
}

impl UpdateType {
    /// The update type for its code (`1`, `2` or `3`).
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "1" => Some(Self::Update),
            "2" => Some(Self::Delete),
            "3" => Some(Self::Insert),
            _ => None,
        }
    }

    /// The code: `1`, `2` or `3`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Update => "1",
            Self::Delete => "2",
            Self::Insert => "3",
        }
    }
}

/// One record (the `record` of an `env:app.message`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The `env:app.message` id.
    pub message_id: String,
    /// The record's own `transaction.id` (trimmed), when present.
    pub transaction_id: Option<String>,
    /// `record.code`, e.g. `430`.
    pub record_code: String,
    /// `subrecord.code`, e.g. `00`.
    pub subrecord_code: String,
    /// `record.sequence.number`.
    pub record_sequence_number: u64,
    /// `update.type`.
    pub update_type: UpdateType,
    /// The record body.
    pub body: RecordBody,
}

const HEADER_FIELDS: [&str; 5] = [
    "transaction.id",
    "record.code",
    "subrecord.code",
    "record.sequence.number",
    "update.type",
];

fn envelope_error(location: String, element: &str, reason: impl Into<String>) -> Taric3Error {
    Taric3Error::Envelope {
        location,
        element: element.to_owned(),
        reason: reason.into(),
    }
}

fn required_id(node: &Node, location: &str) -> Result<String, Taric3Error> {
    match node.attr("id").map(str::trim) {
        Some(id) if !id.is_empty() => Ok(id.to_owned()),
        _ => Err(envelope_error(
            location.to_owned(),
            &node.name,
            "missing or empty attribute `id`",
        )),
    }
}

/// Parses a TARIC3 envelope (root `envelope` in namespace
/// `urn:publicid:-:DGTAXUD:GENERAL:ENVELOPE:1.0`, records in
/// `urn:publicid:-:DGTAXUD:TARIC:MESSAGE:1.0`).
///
/// Structure is checked (envelope → transaction → app.message → transmission → record
/// → header fields and one body element), fields of typed records are parsed and
/// checked (dates, numbers, decimals, required fields, no unknown or repeated
/// elements), and a typed record's `record.code`/`subrecord.code` must match its
/// element. Element order is not checked (that is the XSD's job); record sequencing
/// is checked separately by [`super::check_sequencing`]. Inputs above
/// [`MAX_INPUT_BYTES`] or nested deeper than [`super::MAX_DEPTH`] are refused.
pub fn parse_envelope(xml: &[u8]) -> Result<Envelope, Taric3Error> {
    if xml.len() > MAX_INPUT_BYTES {
        return Err(Taric3Error::TooLarge {
            size: xml.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    let root = xml::parse(xml)?;
    if root.name != "envelope" || root.ns != ENVELOPE_NAMESPACE {
        return Err(Taric3Error::NotTaric3 {
            message: format!(
                "root element `{}` in namespace `{}`, expected `envelope` in `{ENVELOPE_NAMESPACE}`",
                root.name, root.ns
            ),
        });
    }
    let id = required_id(&root, "envelope")?;
    let mut transactions = Vec::new();
    for child in &root.children {
        if child.ns == ENVELOPE_NAMESPACE && child.name == "header" {
            continue;
        }
        if child.ns == ENVELOPE_NAMESPACE && child.name == "transaction" {
            transactions.push(parse_transaction(child)?);
            continue;
        }
        return Err(envelope_error(
            "envelope".to_owned(),
            &child.name,
            unexpected(child),
        ));
    }
    Ok(Envelope { id, transactions })
}

fn unexpected(node: &Node) -> String {
    format!("unexpected element (namespace `{}`)", node.ns)
}

fn parse_transaction(node: &Node) -> Result<Transaction, Taric3Error> {
    let id = required_id(node, "envelope")?;
    let location = format!("transaction {id}");
    let mut messages = Vec::new();
    for child in &node.children {
        if child.ns != ENVELOPE_NAMESPACE {
            return Err(envelope_error(location, &child.name, unexpected(child)));
        }
        match child.name.as_str() {
            "header" | "status" => {}
            "app.message" => messages.push(parse_message(&id, child)?),
            _ => return Err(envelope_error(location, &child.name, unexpected(child))),
        }
    }
    Ok(Transaction { id, messages })
}

fn single_child<'a>(node: &'a Node, name: &str, location: &str) -> Result<&'a Node, Taric3Error> {
    match node.children.as_slice() {
        [only] if only.ns == TARIC_NAMESPACE && only.name == name => Ok(only),
        [] => Err(envelope_error(
            location.to_owned(),
            &node.name,
            format!("missing `{name}`"),
        )),
        [only] => Err(envelope_error(
            location.to_owned(),
            &only.name,
            format!(
                "{}; expected `{name}` in `{TARIC_NAMESPACE}`",
                unexpected(only)
            ),
        )),
        [_, second, ..] => Err(envelope_error(
            location.to_owned(),
            &second.name,
            format!("more than one element in `{}`", node.name),
        )),
    }
}

fn parse_message(transaction_id: &str, node: &Node) -> Result<Record, Taric3Error> {
    let message_id = required_id(node, &format!("transaction {transaction_id}"))?;
    let location = format!("transaction {transaction_id}, message {message_id}");
    let transmission = single_child(node, "transmission", &location)?;
    let record = single_child(transmission, "record", &location)?;
    parse_record(transaction_id, message_id, record)
}

fn leaf_text<'a>(node: &'a Node, at: &RecordRef) -> Result<&'a str, Taric3Error> {
    if let Some(child) = node.children.first() {
        return Err(Taric3Error::Record {
            record: Box::new(at.clone()),
            element: node.name.clone(),
            reason: format!("unexpected child element `{}`", child.name),
        });
    }
    Ok(&node.text)
}

fn parse_record(
    transaction_id: &str,
    message_id: String,
    node: &Node,
) -> Result<Record, Taric3Error> {
    let mut at = RecordRef {
        transaction_id: transaction_id.to_owned(),
        message_id,
        record_sequence_number: None,
        record: None,
    };
    let err = |at: &RecordRef, element: &str, reason: String| Taric3Error::Record {
        record: Box::new(at.clone()),
        element: element.to_owned(),
        reason,
    };
    // The header fields and the body element.
    let mut header: [Option<&str>; 5] = [None; 5];
    let mut body: Option<&Node> = None;
    for child in &node.children {
        if child.ns != TARIC_NAMESPACE {
            return Err(err(&at, &child.name, unexpected(child)));
        }
        if let Some(i) = HEADER_FIELDS.iter().position(|f| *f == child.name) {
            if header[i].is_some() {
                return Err(err(&at, &child.name, "repeated element".to_owned()));
            }
            header[i] = Some(leaf_text(child, &at)?);
        } else if let Some(first) = body {
            at.record = Some(first.name.clone());
            return Err(err(
                &at,
                &child.name,
                format!("more than one record body (`{}` already seen)", first.name),
            ));
        } else {
            body = Some(child);
        }
    }
    at.record = body.map(|b| b.name.clone());
    let [transaction, code, subcode, sequence, update] = header.map(|h| h.map(str::trim));

    let sequence = match sequence {
        None | Some("") => return Err(err(&at, HEADER_FIELDS[3], "missing".to_owned())),
        Some(s) => match s.parse::<u64>() {
            Ok(n) if s.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => {
                return Err(err(
                    &at,
                    HEADER_FIELDS[3],
                    format!("invalid record sequence number `{s}`"),
                ))
            }
        },
    };
    at.record_sequence_number = Some(sequence);
    let code_field = |value: Option<&str>, name: &str, digits: usize| match value {
        None | Some("") => Err(err(&at, name, "missing".to_owned())),
        Some(s) if s.len() == digits && s.bytes().all(|b| b.is_ascii_digit()) => Ok(s.to_owned()),
        Some(s) => Err(err(&at, name, format!("invalid code `{s}`"))),
    };
    let record_code = code_field(code, HEADER_FIELDS[1], 3)?;
    let subrecord_code = code_field(subcode, HEADER_FIELDS[2], 2)?;
    let update_type = match update {
        None | Some("") => return Err(err(&at, HEADER_FIELDS[4], "missing".to_owned())),
        Some(s) => UpdateType::from_code(s)
            .ok_or_else(|| err(&at, HEADER_FIELDS[4], format!("unknown update type `{s}`")))?,
    };
    let transaction_id = match transaction {
        None | Some("") => None,
        Some(s) => Some(s.to_owned()),
    };
    let Some(body) = body else {
        return Err(err(&at, &node.name, "missing record body".to_owned()));
    };
    if let Some((code, sub)) = record_codes(&body.name) {
        if code != record_code || sub != subrecord_code {
            return Err(err(
                &at,
                HEADER_FIELDS[1],
                format!(
                    "record code {record_code} {subrecord_code} does not match `{}` ({code} {sub})",
                    body.name
                ),
            ));
        }
    }
    let mut fields = Vec::with_capacity(body.children.len());
    for child in &body.children {
        if child.ns != TARIC_NAMESPACE {
            return Err(err(&at, &child.name, unexpected(child)));
        }
        fields.push((child.name.clone(), leaf_text(child, &at)?.to_owned()));
    }
    let body = Fields::new(fields)
        .and_then(|fields| RecordBody::parse(&body.name, fields))
        .map_err(|FieldError { element, reason }| Taric3Error::Record {
            record: Box::new(at.clone()),
            element,
            reason,
        })?;
    Ok(Record {
        message_id: at.message_id,
        transaction_id,
        record_code,
        subrecord_code,
        record_sequence_number: sequence,
        update_type,
        body,
    })
}
