//! The integrated tariff, on the TARIC data model.
//!
//! - [`nomenclature`]: goods codes, their hierarchy, and loaders for the HS and CN files.
//! - [`duty`]: TARIC duty expressions and the duty calculation engine, a pure function.
//!
//! Pure: no IO, no clock. Callers read files and pass dates in.

pub mod duty;
pub mod nomenclature;
