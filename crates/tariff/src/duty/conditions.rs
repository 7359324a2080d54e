//! Measure conditions (TARIC `measure.condition`) and the entry-price ladder.

use std::cmp::Ordering;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::model::{DutyError, MeasureComponent};
use super::units::Quantities;

/// One measure condition.
///
/// A condition is fulfilled when:
/// - `certificate` is set: that document is among the presented documents;
/// - else `threshold` is set: the declared value meets it (see [`threshold_comparison`]);
///   a threshold with no unit, a currency (`"EUR"`, `"GBP"`, ...) or a price per unit
///   (`"EUR/DTN"`) compares the declared unit price; any other unit is a measurement unit
///   (`"KGM"`) and compares the declared quantity in that unit (converted, see
///   [`Quantities::resolve`]);
/// - else (no certificate, no threshold): always (the "no document" / otherwise fallback).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureCondition {
    /// Condition code, e.g. `"V"` (entry price), `"B"`, `"C"`, `"Y"` (documents), `"E"`,
    /// `"I"` (maximum quantity or price, or document), `"R"` (minimum ratio).
    pub code: String,
    /// Order within the condition code, from 1.
    pub sequence: u32,
    /// Required document, e.g. `"N954"`, `"Y929"`.
    pub certificate: Option<String>,
    /// Threshold amount with its unit or currency.
    pub threshold: Option<(Decimal, Option<String>)>,
    /// TARIC action code (see [`action_effect`]).
    pub action: String,
    /// Components applied when this condition gives an "apply" action; empty means the
    /// measure's own components.
    pub components: Vec<MeasureComponent>,
}

/// What is declared for the conditions of a measure.
#[derive(Debug, Clone, Copy)]
pub struct ConditionContext<'a> {
    /// Presented document codes, e.g. `["N954"]`.
    pub documents: &'a [String],
    /// Declared unit price (for entry prices: EUR per 100 kg net).
    pub unit_price: Option<Decimal>,
    /// Declared quantities.
    pub quantities: &'a Quantities,
}

/// The outcome of a measure's conditions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Resolution {
    /// Apply these components (empty: the measure's own components).
    Apply(Vec<MeasureComponent>),
    /// Import/export is prohibited.
    NotAllowed {
        /// Why: the condition and action that led here.
        reason: String,
    },
    /// The measure does not apply to this declaration.
    NotApplicable,
}

/// The effect of a TARIC action code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActionEffect {
    /// Positive: apply the condition's components (or the measure's own).
    Apply,
    /// Negative: prohibition.
    NotAllowed,
    /// Negative: the measure does not apply.
    NotApplicable,
}

/// The action codes supported:
///
/// | code | meaning | effect |
/// |------|---------|--------|
/// | 01 | apply the amount of the action (see components) | Apply |
/// | 24 | entry into free circulation allowed | Apply |
/// | 25 | export allowed | Apply |
/// | 26 | import allowed | Apply |
/// | 27 | apply the mentioned duty | Apply |
/// | 28 | declared subheading allowed | Apply |
/// | 29 | import/export allowed after control | Apply |
/// | 04 | entry into free circulation not allowed | NotAllowed |
/// | 05 | export not allowed | NotAllowed |
/// | 06 | import/export not allowed after control | NotAllowed |
/// | 08 | declared subheading not allowed | NotAllowed |
/// | 09 | import/export not allowed after control | NotAllowed |
/// | 10 | declared subheading not allowed | NotAllowed |
/// | 07 | measure not applicable | NotApplicable |
///
/// Others (e.g. 02/03 "apply the difference between the amount of the action and the
/// price", which need the price mechanism) give [`DutyError::UnsupportedAction`].
pub fn action_effect(action: &str) -> Result<ActionEffect, DutyError> {
    match action {
        "01" | "24" | "25" | "26" | "27" | "28" | "29" => Ok(ActionEffect::Apply),
        "04" | "05" | "06" | "08" | "09" | "10" => Ok(ActionEffect::NotAllowed),
        "07" => Ok(ActionEffect::NotApplicable),
        other => Err(DutyError::UnsupportedAction {
            action: other.to_owned(),
        }),
    }
}

/// How a threshold condition code compares the declared value with the threshold:
/// `E` and `I` (maximum quantity or price) are fulfilled when declared ≤ threshold, `L`
/// (CIF price higher than the minimum) when declared > threshold, every other code (`V`
/// entry price, `F`/`M` minimum price, `R` minimum ratio, ...) when declared ≥ threshold.
pub fn threshold_comparison(code: &str) -> &'static [Ordering] {
    match code {
        "E" | "I" => &[Ordering::Less, Ordering::Equal],
        "L" => &[Ordering::Greater],
        _ => &[Ordering::Greater, Ordering::Equal],
    }
}

/// Currencies a threshold may be expressed in (compared with the declared unit price).
const CURRENCIES: &[&str] = &[
    "EUR", "GBP", "USD", "CHF", "JPY", "CNY", "SEK", "DKK", "NOK", "PLN", "CZK", "HUF", "RON",
    "BGN",
];

/// A threshold unit names a measurement unit unless it is a currency or a price per unit
/// (`"EUR/DTN"`).
fn is_measurement_unit(unit: &str) -> bool {
    !unit.contains('/') && !CURRENCIES.contains(&unit)
}

fn fulfilled(c: &MeasureCondition, ctx: &ConditionContext<'_>) -> Result<bool, DutyError> {
    if let Some(cert) = &c.certificate {
        return Ok(ctx.documents.iter().any(|d| d == cert));
    }
    let Some((threshold, unit)) = &c.threshold else {
        return Ok(true);
    };
    let declared = match unit.as_deref() {
        Some(u) if is_measurement_unit(u) => ctx.quantities.resolve(u, None)?,
        _ => ctx.unit_price.ok_or_else(|| DutyError::MissingUnitPrice {
            code: c.code.clone(),
        })?,
    };
    Ok(threshold_comparison(&c.code).contains(&declared.cmp(threshold)))
}

/// Resolves a measure's conditions (TARIC rules).
///
/// Conditions are grouped by code. Within one code they are tried in `sequence` order
/// and the first fulfilled one gives its action; if none is fulfilled the declaration is
/// not allowed. Across codes: any prohibition wins, then any "not applicable"; otherwise
/// the components of all the codes' apply actions are concatenated. No conditions at all
/// give `Apply(vec![])` (the measure's own components).
pub fn resolve_conditions(
    conds: &[MeasureCondition],
    ctx: &ConditionContext<'_>,
) -> Result<Resolution, DutyError> {
    let mut codes: Vec<&str> = Vec::new();
    for c in conds {
        if !codes.contains(&c.code.as_str()) {
            codes.push(&c.code);
        }
    }
    let mut components = Vec::new();
    let mut not_applicable = false;
    for code in codes {
        let mut group: Vec<&MeasureCondition> = conds.iter().filter(|c| c.code == code).collect();
        group.sort_by_key(|c| c.sequence);
        let mut chosen = None;
        for c in group {
            if fulfilled(c, ctx)? {
                chosen = Some(c);
                break;
            }
        }
        let Some(c) = chosen else {
            return Ok(Resolution::NotAllowed {
                reason: format!("no condition of code {code} is fulfilled"),
            });
        };
        match action_effect(&c.action)? {
            ActionEffect::Apply => components.extend(c.components.iter().cloned()),
            ActionEffect::NotAllowed => {
                let why = match &c.certificate {
                    Some(cert) => format!("document {cert} presented"),
                    None if c.threshold.is_some() => "threshold met".to_owned(),
                    None => "required document not presented".to_owned(),
                };
                return Ok(Resolution::NotAllowed {
                    reason: format!(
                        "condition {code} sequence {}: action {} ({why})",
                        c.sequence, c.action
                    ),
                });
            }
            ActionEffect::NotApplicable => not_applicable = true,
        }
    }
    if not_applicable {
        return Ok(Resolution::NotApplicable);
    }
    Ok(Resolution::Apply(components))
}

/// A set of measure conditions, resolved together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionSet {
    /// The conditions.
    pub conditions: Vec<MeasureCondition>,
}

impl ConditionSet {
    /// See [`resolve_conditions`].
    pub fn resolve(&self, ctx: &ConditionContext<'_>) -> Result<Resolution, DutyError> {
        resolve_conditions(&self.conditions, ctx)
    }
}

/// One step of an entry-price ladder (condition `V`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryPriceStep {
    /// Entry price threshold, EUR per 100 kg net.
    pub threshold: Decimal,
    /// Components applied when this step is chosen.
    pub components: Vec<MeasureComponent>,
}

/// The components of the entry-price step for a declared unit price (EUR per 100 kg):
/// the step with the highest threshold ≤ the price (TARIC tries the steps in descending
/// thresholds and takes the first one met). Below every threshold, the lowest step (the
/// highest duty) applies. An empty ladder gives no components.
pub fn entry_price_components(
    ladder: &[EntryPriceStep],
    unit_price_per_unit: Decimal,
) -> &[MeasureComponent] {
    let met = ladder
        .iter()
        .filter(|s| s.threshold <= unit_price_per_unit)
        .max_by(|a, b| a.threshold.cmp(&b.threshold));
    let lowest = || ladder.iter().min_by(|a, b| a.threshold.cmp(&b.threshold));
    met.or_else(lowest).map_or(&[], |s| s.components.as_slice())
}

/// The ladder as `V` conditions (sequence 1 = highest threshold, action 01, threshold in
/// `EUR/DTN`), for [`resolve_conditions`]. The last step has its threshold dropped so
/// that it is the fallback, as [`entry_price_components`] does.
pub fn entry_price_conditions(ladder: &[EntryPriceStep]) -> ConditionSet {
    let mut steps: Vec<&EntryPriceStep> = ladder.iter().collect();
    steps.sort_by_key(|s| std::cmp::Reverse(s.threshold));
    let n = steps.len();
    let conditions = steps
        .into_iter()
        .enumerate()
        .map(|(i, s)| MeasureCondition {
            code: "V".to_owned(),
            sequence: u32::try_from(i + 1).unwrap_or(u32::MAX),
            certificate: None,
            threshold: (i + 1 < n).then(|| (s.threshold, Some("EUR/DTN".to_owned()))),
            action: "01".to_owned(),
            components: s.components.clone(),
        })
        .collect();
    ConditionSet { conditions }
}
