//! TARIC3 XML envelopes: parsing into typed records.
//!
//! A TARIC3 file is an `env:envelope` (namespace [`ENVELOPE_NAMESPACE`]) of
//! `env:transaction`s, each a logical unit of work made of `env:app.message`s, each
//! holding one `transmission/record` (namespace [`TARIC_NAMESPACE`]): the record
//! header (`transaction.id`, `record.code`, `subrecord.code`,
//! `record.sequence.number`, `update.type`) and one body element (`measure`,
//! `goods.nomenclature`, …) whose children are the fields.
//!
//! - [`parse_envelope`]: bytes → [`Envelope`] with typed [`RecordBody`]s (the record
//!   kinds the tariff uses; [`RecordBody::Other`] keeps every other record's fields).
//! - [`check_sequencing`]: the record sequencing rules of the TARIC3 documentation.
//! - [`looks_like_taric3`]: format sniffing.
//!
//! XSD validation is not done here (see the `portorium-xsd` crate); the parser checks
//! what it reads (structure, dates, numbers, required fields, codes) and never panics.

mod detect;
mod envelope;
mod error;
mod national_schema;
mod records;
mod sequencing;
mod xml;

pub use detect::{looks_like_taric3, SNIFF_BYTES};
pub use envelope::{parse_envelope, Envelope, Record, Transaction, UpdateType};
pub use error::{RecordRef, Taric3Error};
pub use national_schema::national_taric3_xsd;
pub use records::*;
pub use sequencing::check_sequencing;

/// The envelope namespace.
pub const ENVELOPE_NAMESPACE: &str = "urn:publicid:-:DGTAXUD:GENERAL:ENVELOPE:1.0";
/// The TARIC message (record) namespace.
pub const TARIC_NAMESPACE: &str = "urn:publicid:-:DGTAXUD:TARIC:MESSAGE:1.0";
/// The largest input [`parse_envelope`] accepts (256 MiB).
pub const MAX_INPUT_BYTES: usize = 256 * 1024 * 1024;
/// The deepest element nesting accepted (an envelope record is 6 levels deep).
pub const MAX_DEPTH: usize = 32;
