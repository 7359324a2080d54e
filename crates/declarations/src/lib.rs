//! NCTS phase 5 transit declarations: the pure core of the declaration
//! service for transit (issue 4).
//!
//! * [`mrn`]: [`Mrn`] parse/allocate with the ISO 6346 check digit (rule R0028);
//! * [`message`]: [`MessageType`], its root element, XSD file, direction and movement;
//! * [`tree`]: the owned XML [`Element`] tree with lines and XPaths;
//! * [`schemas`]: [`SchemaSet::load`], the only file IO of the crate (the XSD
//!   directory): libxml2 validators and the XSD element order;
//! * [`json`]: HMRC JSON → XML in XSD order;
//! * [`envelope`]: [`Header`], [`TransitFields`], [`ParsedMessage`];
//! * [`validate`]: [`validate()`] (root, XSD, interface rules) → [`Rejection`]
//!   or [`ParsedMessage`]; [`FunctionalError`] with the NCTS error codes;
//! * [`generate`]: the messages customs sends back (CC928C, CC028C, CC056C,
//!   CC060C, CC029C, CC051C, CC004C, CC009C, CC025C, CC043C, CC057C, CC055C);
//! * [`transit`]: the movement lifecycle [`State`] machine, [`apply`];
//! * [`codelists`]: which elements of the trader messages take an NCTS code list
//!   ([`codelists::coded_values`]) and their membership check against the caller's
//!   reference data ([`codelists::check_code_lists`], error 12);
//! * [`amendment`]: rule R0520, what a CC013C may change in the declaration it amends
//!   ([`amendment::r0520`]).
//!
//! No clock, no network: times are passed in by the caller.

pub mod amendment;
pub mod codelists;
pub mod dms;
pub mod envelope;
pub mod error;
pub mod generate;
pub mod json;
pub mod message;
pub mod mrn;
pub mod schemas;
pub mod transit;
pub mod tree;
pub mod validate;

pub use codelists::CodeList;
pub use envelope::{Header, ParsedMessage, TransitFields};
pub use error::DeclarationError;
pub use message::{Direction, MessageType, Movement};
pub use mrn::{Mrn, MrnError, ProcedureCategory};
pub use schemas::SchemaSet;
pub use transit::{apply, Event, State};
pub use tree::Element;
pub use validate::{validate, Format, FunctionalError, Rejection, SchemaViolation};
