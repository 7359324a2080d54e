//! National measures: an administration's own measures (VAT, excise, prohibitions, national
//! measure types with alphabetic ids) in its national layer, drafted by one officer and
//! approved by a second.
//!
//! - [`NationalMeasureDraft`]: the drafted change (operation `create`, `modify`, `end` or
//!   `delete`), as sent by the API and the portal form and stored with the draft;
//!   [`NationalMeasureDraft::resolve`] checks its shape into a [`DraftOp`].
//! - [`validate`]: the TARIC business rules that apply (ME2, ME4–ME8, ME25, ME32, ME40,
//!   ME41, ME43, ME45–ME48, ME50, ME58, ME59, ME65, ME66, ME68, ME70, ME105, ME108–ME111,
//!   as numbered by the TARIC measure rules) and the national layer's own (NAT1–NAT5), each
//!   violation with the pointer of the draft field. See [`validate`] for the table.
//! - [`plan`]: what a resolved draft does to the measures ([`MeasureChange`]s), decided on
//!   the day of approval.
//! - [`layer_changes`]: those changes as the layer records `layer::build` reads (made as
//!   TARIC3 records, converted by `layer::changes_from_envelope`), measure records marked
//!   `"national": true`.
//!
//! # Effect in time
//! An approved measure takes effect at its validity start: reads as of an earlier date do
//! not see it. A change never rewrites the past: a `modify` of a measure already in force
//! ends it the day before the new version starts and creates the new version as a measure
//! of its own; only a measure not yet in force can be modified in place or deleted.
//!
//! Pure: no IO, no clock; the decision date is an argument.

mod draft;
mod records;
mod rules;

pub use draft::{
    parse_goods_code, DraftCondition, DraftOp, DraftValidity, MeasureSpec, NationalMeasureDraft,
    Operation, ShapeError, DEFAULT_REGULATION,
};
pub use records::{layer_changes, measure_record_keys, LEGAL_BASE_FIELD, NATIONAL_FIELD};
pub use rules::{plan, validate, MeasureChange, RuleViolation, NATIONAL_LAYER_TYPES};
