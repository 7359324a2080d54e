//! The integrated tariff, on the TARIC data model.
//!
//! - [`nomenclature`]: goods codes, their hierarchy, and loaders for the HS and CN files.
//! - [`duty`]: TARIC duty expressions and the duty calculation engine, a pure function.
//! - [`taric3`]: TARIC3 XML envelopes parsed into typed records.
//! - [`measures`]: measures as of a date, their applicability to a commodity and origin, and
//!   the duty calculation options.
//! - [`layer`]: tariff layers stored as generic records (kind, key, validity, JSON payload),
//!   from TARIC3 envelopes and nomenclature files, and rebuilt into the domain.
//! - [`national`]: an administration's national measures: drafts, TARIC business rules,
//!   and their layer records.
//! - [`quotas`]: tariff quotas (order numbers, origins, definitions) and first-come-first-served
//!   drawing.
//!
//! Pure: no IO, no clock. Callers read files and pass dates in.

pub mod duty;
pub mod layer;
pub mod measures;
pub mod national;
pub mod nomenclature;
pub mod quotas;
pub mod taric3;
