//! [`Taric3Error`].

/// Which record a problem is in: its transaction, `app.message` id, record sequence
/// number (when it could be read) and record element (e.g. `measure`, when known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRef {
    /// The enclosing `env:transaction` id.
    pub transaction_id: String,
    /// The `env:app.message` id.
    pub message_id: String,
    /// The `record.sequence.number`, when it could be read.
    pub record_sequence_number: Option<u64>,
    /// The record's element (local name), e.g. `measure`, when present.
    pub record: Option<String>,
}

impl std::fmt::Display for RecordRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.record_sequence_number {
            Some(n) => write!(f, "record {n}")?,
            None => f.write_str("record")?,
        }
        if let Some(record) = &self.record {
            write!(f, " ({record})")?;
        }
        write!(
            f,
            " in transaction {}, message {}",
            self.transaction_id, self.message_id
        )
    }
}

/// A parsing or sequencing error. Record errors name the transaction, the record
/// (message id, sequence number, element) and the offending element.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Taric3Error {
    /// The input is larger than [`super::MAX_INPUT_BYTES`].
    #[error("input is {size} bytes, more than the {max} bytes accepted")]
    TooLarge {
        /// The input size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes are not well-formed XML (or use a DTD, or nest too deeply).
    #[error("line {line}: XML error: {message}")]
    Xml {
        /// 1-based line where the problem was detected.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The document is XML but not a TARIC3 envelope (root element or namespace).
    #[error("not a TARIC3 envelope: {message}")]
    NotTaric3 {
        /// What was found instead.
        message: String,
    },
    /// A problem in the envelope structure outside any record (a transaction or
    /// `app.message` without id, an unexpected element).
    #[error("{location}: element `{element}`: {reason}")]
    Envelope {
        /// `envelope`, `transaction 12` or `transaction 12, message 5`.
        location: String,
        /// The element concerned (local name).
        element: String,
        /// What is wrong.
        reason: String,
    },
    /// A record field (or record header field) is missing, repeated or has a bad value.
    #[error("{record}: element `{element}`: {reason}")]
    Record {
        /// Which record.
        record: Box<RecordRef>,
        /// The element concerned (local name), e.g. `validity.start.date`.
        element: String,
        /// What is wrong, e.g. "invalid date `2021-13-01`".
        reason: String,
    },
    /// A record sequencing rule is broken (see [`super::check_sequencing`]).
    #[error("{record}: sequencing: {reason}")]
    Sequencing {
        /// Which record.
        record: Box<RecordRef>,
        /// What is wrong.
        reason: String,
    },
}
