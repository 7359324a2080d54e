//! Measures as of a date: applicability to a commodity and origin, and duty calculation
//! options.
//!
//! - Records: [`Validity`], [`GeographicalArea`], [`Membership`], [`Regulation`],
//!   [`Measure`] and [`TariffData`] (the records, indexed by goods code).
//! - [`measure_type`] / [`MeasureTypeInfo`]: a built-in table of common TARIC measure
//!   types (series and [`MeasureKind`]); unknown ids are [`MeasureKind::Other`].
//! - [`applicable_measures`]: the measures applying to a commodity, an origin and a date;
//!   [`me32_overlaps`] and [`me66_exclusion_is_member`]: business rule checks.
//! - [`calculate`]: one [`DutyOption`] per way to declare, with its lines and total.
//!
//! # Applicability
//! A measure applies when it is valid on the date (a measure without an end date ends with
//! its regulation: the TARIC implicit end date), its goods code is the commodity or one of
//! its ancestors, the origin is its area or a member of that group on the date (erga omnes
//! `"1011"` covers every origin; memberships have their own validity), and the origin is
//! not excluded (excluding a group excludes its members on the date). Group membership
//! is followed through nested groups. The areas' own validity is not checked (that is a
//! data-quality rule for a validator).
//!
//! # Calculation
//! Measures carrying an additional code apply only when that code is declared; when
//! anti-dumping/countervailing measures with additional codes apply, one of their codes
//! must be declared ([`CalcError::AdditionalCodeRequired`]). Each measure's conditions are
//! resolved with [`crate::duty::resolve_conditions`] (presented documents, declared unit
//! price for entry-price ladders, quantities):
//! - *not allowed* (or a prohibition measure, 277/278, without conditions): reported in
//!   [`Calculation::prohibitions`], never silently dropped; the measure gives no line
//!   and no option. Options are still computed for information;
//! - *not applicable*: the measure is left out;
//! - *apply*: the condition's components, or the measure's own.
//!
//! Every third-country, suspension, preference and quota measure (see [`OptionKind`])
//! gives one option. An option's lines are, in this order: its own duty; the stacked
//! duties (anti-dumping/countervailing 551–554, additional duties 695/696), by measure
//! type then SID; the excise (type 306, series Q, typically national); then VAT (305).
//!
//! **VAT base** (EU VAT Directive, art. 85–86): the customs value plus every duty, levy
//! and excise line of the option (all non-VAT lines), VAT itself excluded. Incidental
//! expenses up to the first place of destination belong in the customs value given.
//!
//! **Option order**: third country, suspension, preference, quota; within a kind by
//! measure type id, order number, then SID. [`Calculation::cheapest`] is the option with
//! the lowest total; on ties the first in that order (so the third-country duty wins a
//! tie). Quota balances are not checked here.
//!
//! # Rounding and money
//! Each line is the duty module's evaluation: full precision internally, rounded once to
//! 2 decimals, half away from zero (see [`crate::duty`]). The VAT base and the totals are
//! exact sums of rounded lines. Amounts are `rust_decimal::Decimal` in EUR: components must
//! be in EUR and the customs value already converted; conversion to the administration's
//! national currency happens outside this module, on the results.
//!
//! Pure: no IO, no clock; the date is an argument.

mod applicability;
mod calculate;
mod model;
mod types;

pub use applicability::{
    applicable_measures, applies_to_origin, me32_overlaps, me66_exclusion_is_member,
    supplementary_unit, SUPPLEMENTARY_UNIT, SUPPLEMENTARY_UNIT_IMPORT,
};
pub use calculate::{
    calculate, calculate_with_meursing, meursing_figures, CalcError, CalcRequest, Calculation,
    DutyLine, DutyOption, OptionKind, Prohibition, CURRENCY,
};
pub use model::{
    AreaKind, GeographicalArea, Measure, Membership, Regulation, TariffData, Validity, ERGA_OMNES,
};
pub use types::{measure_type, MeasureKind, MeasureTypeInfo, MEASURE_TYPES, MEURSING_TYPES};
