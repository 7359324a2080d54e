//! TARIC duty expressions and the duty calculation engine. Pure: no IO, no clock.
//!
//! - [`DUTY_EXPRESSIONS`]: the TARIC duty expressions (01 `% or amount` ... 99
//!   `Supplementary unit`) with their prefixes and whether an amount, a monetary unit and
//!   a measurement unit are mandatory, permitted or forbidden; [`validate_component`]
//!   enforces them.
//! - [`describe`]: readable duty text, e.g. `"12.80 % + 176.80 EUR / 100 kg MIN 22.00 EUR /
//!   100 kg MAX 35.00 %"`.
//! - [`evaluate`]: the duty of a measure's components for a customs value and declared
//!   [`Quantities`], with a [`MeursingTable`] for agricultural components.
//! - [`resolve_conditions`] / [`ConditionSet`]: measure conditions (documents,
//!   thresholds, entry prices) to the components to apply or a prohibition;
//!   [`entry_price_components`] picks the step of an entry-price ladder.
//!
//! # Order
//! A measure's components apply in ascending duty expression id, which is TARIC's order:
//! a MIN (15) or MAX (17) bounds the duty accumulated by the expressions before it, and
//! later ones (19, 20, 21 ...) add on top.
//!
//! # Rounding
//! All intermediate amounts (percent × value, amount × converted quantity, sums, MIN and
//! MAX comparisons) are kept in full `Decimal` precision. The measure's duty is rounded
//! once, at the end of its evaluation, to 2 decimals, half away from zero
//! (`RoundingStrategy::MidpointAwayFromZero`: 0.005 → 0.01). Amounts shown in formulas are
//! rounded the same way for display only.
//!
//! # Money
//! Amounts are `rust_decimal::Decimal`, never floats. The customs value is in the
//! measure's currency; currency conversion happens outside the engine.

mod conditions;
mod describe;
mod evaluate;
mod expressions;
mod model;
mod units;

pub use conditions::{
    action_effect, entry_price_components, entry_price_conditions, resolve_conditions,
    threshold_comparison, ActionEffect, ConditionContext, ConditionSet, EntryPriceStep,
    MeasureCondition, Resolution,
};
pub use describe::describe;
pub use evaluate::{evaluate, EvalContext, Evaluation, MeursingTable, Operation, Step};
pub use expressions::{
    duty_expression, validate_component, Applicability, DutyExpression, MeursingKind, Role,
    DUTY_EXPRESSIONS,
};
pub use model::{DutyError, MeasureComponent};
pub use units::{qualifier_abbreviation, unit_abbreviation, Quantities};
