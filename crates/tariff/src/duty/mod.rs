//! TARIC duty expressions and the duty calculation engine. Pure: no IO, no clock.
//!
//! - [`DUTY_EXPRESSIONS`]: the TARIC duty expressions (01 `% or amount` ... 99
//!   `Supplementary unit`) with their prefixes and whether an amount, a monetary unit and
//!   a measurement unit are mandatory, permitted or forbidden; [`validate_component`]
//!   enforces them.
//! - [`describe`]: readable duty text, e.g. `"12.80 % + 176.80 EUR / 100 kg MIN 22.00 EUR /
//!   100 kg MAX 35.00 %"`.
//! - [`evaluate`]: the duty of a measure's components for a customs value and declared
//!   [`Quantities`], with a [`MeursingTable`] for agricultural components
//!   ([`MeursingFigures`] holds one in memory).
//! - [`resolve_conditions`] / [`ConditionSet`]: measure conditions (documents,
//!   thresholds, entry prices) to the components to apply or a prohibition;
//!   [`entry_price_components`] picks the step of an entry-price ladder.
//!
//! # Expressions
//! Every TARIC duty expression has a defined effect ([`Role`]):
//!
//! | ids | effect |
//! |---|---|
//! | 01, 04, 06, 19, 20, 31, 33 | add a %, a specific amount per unit, or a flat amount |
//! | 02, 36 | subtract (36: a % of the CIF value, i.e. the customs value) |
//! | 15 | MIN: raise the duty accumulated so far to at least the amount |
//! | 17, 35 | MAX: cap the duty accumulated so far; 21/23/25/27/29 written right after it are part of the cap (`MAX 18.7 % + AD S/Z`) |
//! | 12, 14, 21, 25, 27, 29 | agricultural component, additional duties on sugar and flour (full or reduced) from the [`MeursingTable`] |
//! | 23 | the additional duty on sugar at a fixed 2 % of the customs value (the rate is in the expression; no amount) |
//! | 03, 05 | pre-1995 levy replacing the rate; evaluated when the component carries the levy amount, refused otherwise |
//! | 07, 09, 11, 13 | + levy, + reduced levy, + (reduced) variable component; evaluated when the component carries the amount, refused otherwise |
//! | 37 | NIHIL: no duty |
//! | 99 | the supplementary unit: no duty |
//! | 40–44 | export refunds (cereals, rice, eggs, sugar, milk products): paid to the exporter, not an import duty; refused with [`DutyError::ExportRefund`] |
//!
//! The reference lists only ids and descriptions. The levy, variable component and export
//! refund amounts were never part of the tariff (periodic Commission regulations fixed
//! them), so the engine computes them only when a component carries the amount and says
//! exactly why otherwise; it never treats a missing amount as zero.
//!
//! # Order
//! A measure's components apply in ascending duty expression id, which is TARIC's order:
//! a MIN (15) or MAX (17) bounds the duty accumulated by the expressions before it (a MAX
//! together with the additional duties on sugar and flour right after it), and later
//! ones (19, 20 ...) add on top. A 03/05 levy replaces what came before it.
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
mod meursing;
mod model;
mod units;

pub use conditions::{
    action_effect, entry_price_components, entry_price_conditions, resolve_conditions,
    threshold_comparison, ActionEffect, ConditionContext, ConditionSet, EntryPriceStep,
    MeasureCondition, Resolution,
};
pub use describe::describe;
pub(crate) use evaluate::evaluate_amount;
pub use evaluate::{evaluate, EvalContext, Evaluation, MeursingTable, Operation, Step};
pub use expressions::{
    duty_expression, validate_component, Applicability, DutyExpression, MeursingKind, Role,
    DUTY_EXPRESSIONS,
};
pub use meursing::MeursingFigures;
pub use model::{DutyError, MeasureComponent};
pub use units::{qualifier_abbreviation, unit_abbreviation, Quantities};
