//! The crate's one error type.

use crate::mrn::MrnError;

/// Everything that can go wrong in this crate outside of a message's own
/// validation result (which is a [`crate::validate::Rejection`]).
#[derive(Debug, thiserror::Error)]
pub enum DeclarationError {
    /// The XML is not well-formed (or uses a DTD, which is refused).
    #[error("XML not well-formed at line {line}: {message}")]
    Xml { line: u32, message: String },
    /// The JSON body is not valid JSON or does not fit the message schema.
    #[error("JSON invalid at {pointer}: {message}")]
    Json { pointer: String, message: String },
    /// A schema file could not be read.
    #[error("cannot read schema file {path}: {message}")]
    SchemaIo { path: String, message: String },
    /// A schema file could not be understood (its type definitions) or loaded by libxml2.
    #[error("schema {path}: {message}")]
    Schema { path: String, message: String },
    /// No schema is loaded for a message type.
    #[error("no schema loaded for {0}")]
    NoSchema(String),
    /// An MRN is malformed or has a bad check digit.
    #[error(transparent)]
    Mrn(#[from] MrnError),
    /// A message could not be generated from the data given.
    #[error("cannot generate {message}: {reason}")]
    Generate { message: String, reason: String },
}
