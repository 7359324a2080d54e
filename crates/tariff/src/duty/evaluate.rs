//! Evaluation of a measure's components against declared values.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::describe::in_taric_order;
use super::expressions::{duty_expression, validate_component, MeursingKind, Role};
use super::model::{DutyError, MeasureComponent};
use super::units::{
    fmt_decimal, fmt_money, push_decimal, push_money, qualifier_abbreviation, unit_abbreviation,
    Quantities,
};

/// The Meursing table (TARIC additional codes of type 7): agricultural components and
/// additional duties on sugar and flour for goods of Annex I of Regulation 2658/87.
pub trait MeursingTable {
    /// The amount and its unit for a Meursing additional code and kind, e.g.
    /// `(25.00, "DTN")` for 25.00 EUR per 100 kg; a unit of `"%"` means a percentage of the
    /// customs value. Amounts are in EUR. `None` if the table has no such figure.
    fn component(&self, meursing_code: &str, kind: MeursingKind) -> Option<(Decimal, String)>;
}

/// What the duty of one measure is calculated on.
pub struct EvalContext<'a> {
    /// The customs value (CIF), in the measure's currency (conversion happens outside).
    pub customs_value: Decimal,
    /// Declared quantities (see [`Quantities`]), owned or borrowed from the declaration.
    pub quantities: std::borrow::Cow<'a, Quantities>,
    /// The Meursing table, needed by expressions 12, 14, 21, 25, 27 and 29.
    pub meursing: Option<&'a dyn MeursingTable>,
    /// The declared Meursing additional code (e.g. `"7000"`).
    pub meursing_code: Option<String>,
    /// When set, every component's monetary unit must be this currency, or one of
    /// `rates`.
    pub currency: Option<String>,
    /// Exchange rates into `currency`: `(other currency, units of it per unit of
    /// `currency`)`, e.g. `("GBP", 0.85765)` for EUR. A specific amount in such a currency is
    /// converted (amount ÷ rate, full precision) before it is applied; the formula shows
    /// both.
    pub rates: &'a [(String, Decimal)],
}

impl<'a> EvalContext<'a> {
    /// A context with a customs value and quantities; no Meursing table, any currency.
    pub fn new(customs_value: Decimal, quantities: Quantities) -> Self {
        Self {
            customs_value,
            quantities: std::borrow::Cow::Owned(quantities),
            meursing: None,
            meursing_code: None,
            currency: None,
            rates: &[],
        }
    }

    /// [`EvalContext::new`] with borrowed quantities (no copy per evaluation).
    pub fn borrowed(customs_value: Decimal, quantities: &'a Quantities) -> Self {
        Self {
            customs_value,
            quantities: std::borrow::Cow::Borrowed(quantities),
            meursing: None,
            meursing_code: None,
            currency: None,
            rates: &[],
        }
    }

    /// Builder: exchange rates for components in other currencies (see [`Self::rates`]).
    pub fn with_rates(mut self, rates: &'a [(String, Decimal)]) -> Self {
        self.rates = rates;
        self
    }

    /// Builder: a Meursing table and the declared Meursing additional code.
    pub fn with_meursing(mut self, table: &'a dyn MeursingTable, code: &str) -> Self {
        self.meursing = Some(table);
        self.meursing_code = Some(code.to_owned());
        self
    }

    /// Builder: require components to be in this currency.
    pub fn with_currency(mut self, currency: &str) -> Self {
        self.currency = Some(currency.to_owned());
        self
    }
}

/// How a step changes the accumulated duty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operation {
    /// Adds its line amount.
    Add,
    /// Subtracts its line amount.
    Subtract,
    /// Raises the duty to its line amount if below.
    Minimum,
    /// Caps the duty at its line amount if above (the step's amount is the whole cap,
    /// including the additional duties on sugar and flour that are part of it).
    Maximum,
    /// Part of the preceding MAX's cap (an additional duty on sugar or flour written after
    /// it, `MAX 18.7 % + AD S/Z`); no effect of its own.
    PartOfMaximum,
    /// Replaces the duty accumulated so far by its line amount (03, 05: "the rate is
    /// replaced by the levy").
    Replace,
    /// No effect on the duty (37, 99).
    None,
}

/// One component's part of an evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The component's duty expression.
    pub duty_expression_id: String,
    /// Its effect.
    pub operation: Operation,
    /// The rate: a percentage or an amount per unit (for Meursing expressions, the figure
    /// from the table).
    pub rate: Option<Decimal>,
    /// The base the rate applies to: the customs value or the quantity in the rate's unit.
    pub base: Option<Decimal>,
    /// The line amount, full precision.
    pub amount: Decimal,
    /// Accumulated duty before this step, full precision.
    pub total_before: Decimal,
    /// Accumulated duty after this step, full precision.
    pub total_after: Decimal,
    /// Whether the step changed the duty (a MIN/MAX that does not bite is not applied).
    pub applied: bool,
    /// Readable explanation, e.g. `"2.70% × 1,260.89 = 34.04"`.
    pub text: String,
}

/// The duty of one measure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The duty, rounded half away from zero to 2 decimals (always with scale 2).
    pub amount: Decimal,
    /// Readable formula, e.g. `"2.70% × 1,260.89 = 34.04"`, or with several steps
    /// `"12.80% × 1,000.00 = 128.00 + 176.80 EUR/100 kg × 20.00 = 3,536.00 → 3,664.00"`.
    pub formula: String,
    /// Each component's step, in TARIC order.
    pub steps: Vec<Step>,
}

struct Line {
    rate: Decimal,
    base: Option<Decimal>,
    amount: Decimal,
    text: String,
}

/// A unit with its qualifier, e.g. `"100 kg"` or `"1000 kg (of biodiesel content)"`.
fn push_unit_label(out: &mut String, unit: &str, qualifier: Option<&str>) {
    out.push_str(unit_abbreviation(unit));
    if let Some(q) = qualifier {
        out.push_str(" (");
        out.push_str(qualifier_abbreviation(q));
        out.push(')');
    }
}

/// The line amount of a % or amount: ad valorem, specific (per converted quantity) or a
/// flat amount.
fn line(c: &MeasureComponent, ctx: &EvalContext<'_>) -> Result<Line, DutyError> {
    let rate = c.amount.ok_or_else(|| DutyError::AmountRequired {
        id: c.duty_expression_id.clone(),
    })?;
    let Some(currency) = &c.monetary_unit else {
        let amount = rate
            .checked_mul(ctx.customs_value)
            .and_then(|x| x.checked_div(Decimal::ONE_HUNDRED))
            .ok_or(DutyError::Overflow)?;
        // One buffer for the whole step: this runs for every ad valorem line.
        let mut text = String::with_capacity(40);
        push_decimal(&mut text, rate, 2, true);
        text.push_str("% × ");
        push_money(&mut text, ctx.customs_value);
        text.push_str(" = ");
        push_money(&mut text, amount);
        return Ok(Line {
            rate,
            base: Some(ctx.customs_value),
            amount,
            text,
        });
    };
    // A component in another currency than the context's is converted at the given rate.
    let (rate, shown) = match &ctx.currency {
        Some(expected) if expected != currency => {
            let fx = ctx
                .rates
                .iter()
                .find(|(cur, _)| cur == currency)
                .map(|(_, r)| *r)
                .filter(|r| !r.is_zero())
                .ok_or_else(|| DutyError::CurrencyMismatch {
                    component: currency.clone(),
                    context: expected.clone(),
                })?;
            let converted = rate.checked_div(fx).ok_or(DutyError::Overflow)?;
            (
                converted,
                format!(
                    "{} {currency} (÷ {} = {} {expected})",
                    fmt_decimal(rate, 2, true),
                    fx,
                    fmt_decimal(converted.round_dp(4), 2, true)
                ),
            )
        }
        _ => {
            let mut shown = String::with_capacity(48);
            push_decimal(&mut shown, rate, 2, true);
            shown.push(' ');
            shown.push_str(currency);
            (rate, shown)
        }
    };
    let Some(unit) = &c.measurement_unit else {
        return Ok(Line {
            rate,
            base: None,
            amount: rate,
            text: shown,
        });
    };
    let qty = ctx.quantities.resolve(unit, c.qualifier.as_deref())?;
    let amount = rate.checked_mul(qty).ok_or(DutyError::Overflow)?;
    let mut text = shown;
    text.push('/');
    push_unit_label(&mut text, unit, c.qualifier.as_deref());
    text.push_str(" × ");
    push_decimal(&mut text, qty, 2, true);
    text.push_str(" = ");
    push_money(&mut text, amount);
    Ok(Line {
        rate,
        base: Some(qty),
        amount,
        text,
    })
}

fn meursing_line(
    c: &MeasureComponent,
    kind: MeursingKind,
    prefix: &str,
    ctx: &EvalContext<'_>,
) -> Result<Line, DutyError> {
    let (Some(table), Some(code)) = (ctx.meursing, ctx.meursing_code.as_deref()) else {
        return Err(DutyError::MeursingRequired {
            expression_id: c.duty_expression_id.clone(),
        });
    };
    let (amount, unit) =
        table
            .component(code, kind)
            .ok_or_else(|| DutyError::MeursingComponentMissing {
                code: code.to_owned(),
                kind: kind.to_string(),
            })?;
    let synthetic = MeasureComponent {
        duty_expression_id: c.duty_expression_id.clone(),
        amount: Some(amount),
        monetary_unit: (unit != "%").then(|| "EUR".to_owned()),
        measurement_unit: (unit != "%" && !unit.is_empty()).then_some(unit),
        qualifier: None,
    };
    let mut l = line(&synthetic, ctx)?;
    l.text = format!("{prefix} [{code}] {}", l.text);
    Ok(l)
}

/// The line of a component that adds to the duty or bounds it (everything but 37 and 99).
fn component_line(
    c: &MeasureComponent,
    role: Role,
    prefix: &str,
    ctx: &EvalContext<'_>,
) -> Result<Option<Line>, DutyError> {
    let id = || c.duty_expression_id.clone();
    Ok(match role {
        Role::Add | Role::Subtract | Role::SubtractCif | Role::Minimum | Role::Maximum => {
            Some(line(c, ctx)?)
        }
        Role::Meursing(kind) => Some(meursing_line(c, kind, prefix, ctx)?),
        Role::SugarDutyTwoPercent => {
            let two = MeasureComponent::ad_valorem(&c.duty_expression_id, Decimal::TWO);
            let mut l = line(&two, ctx)?;
            l.text = format!("{prefix} {}", l.text);
            Some(l)
        }
        Role::Levy { .. } => {
            if c.amount.is_none() {
                return Err(DutyError::UnsupportedExpression {
                    id: id(),
                    reason: "the levy or variable component was fixed outside the tariff and this component carries no amount".to_owned(),
                });
            }
            let mut l = line(c, ctx)?;
            l.text = format!("{prefix} {}", l.text);
            Some(l)
        }
        Role::Nothing | Role::SupplementaryUnit => None,
        Role::ExportRefund => return Err(DutyError::ExportRefund { id: id() }),
    })
}

/// Whether a component written right after a MAX belongs to its cap (`MAX 18.7 % + AD
/// S/Z`, `MAX 24.2 % + AD F/M`).
fn part_of_maximum(role: Role) -> bool {
    matches!(
        role,
        Role::SugarDutyTwoPercent
            | Role::Meursing(
                MeursingKind::AdditionalDutyOnSugar
                    | MeursingKind::ReducedAdditionalDutyOnSugar
                    | MeursingKind::AdditionalDutyOnFlour
                    | MeursingKind::ReducedAdditionalDutyOnFlour
            )
    )
}

fn step(
    c: &MeasureComponent,
    operation: Operation,
    l: Option<&Line>,
    before: Decimal,
    after: Decimal,
    applied: bool,
    text: String,
) -> Step {
    Step {
        duty_expression_id: c.duty_expression_id.clone(),
        operation,
        rate: l.map(|l| l.rate),
        base: l.and_then(|l| l.base),
        amount: l.map_or(Decimal::ZERO, |l| l.amount),
        total_before: before,
        total_after: after,
        applied,
        text,
    }
}

/// The measure's amount from the exact total: rounded once, half away from zero, always
/// with two decimals (`324.80`, `0.00`), and no negative zero.
fn rounded(total: Decimal) -> Decimal {
    let amount = total.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let mut amount = if amount.is_zero() {
        Decimal::ZERO
    } else {
        amount
    };
    amount.rescale(2);
    amount
}

/// The amount and formula of [`evaluate`], without its steps: what a duty calculation
/// keeps of each line. A single component that adds (ad valorem, specific or a flat
/// amount: most measures) is evaluated without building the steps; anything else goes
/// through [`evaluate`]. Same results and errors as `evaluate`.
pub(crate) fn evaluate_amount(
    components: &[MeasureComponent],
    ctx: &EvalContext<'_>,
) -> Result<(Decimal, String), DutyError> {
    if let [c] = components {
        validate_component(c)?;
        if let Some(expr) = duty_expression(&c.duty_expression_id) {
            if expr.role == Role::Add {
                // As in `evaluate`: the line's text is the formula, its amount the total.
                let l = line(c, ctx)?;
                let total = Decimal::ZERO
                    .checked_add(l.amount)
                    .ok_or(DutyError::Overflow)?;
                return Ok((rounded(total), l.text));
            }
        }
    }
    let e = evaluate(components, ctx)?;
    Ok((e.amount, e.formula))
}

/// Evaluates a measure's duty.
///
/// Components are validated ([`validate_component`]) and applied in TARIC order
/// (ascending duty expression id):
/// - `%` is ad valorem on the customs value; an amount with a monetary and a measurement
///   unit is specific, charged on the declared quantity converted to that unit
///   ([`Quantities::resolve`]); an amount with only a monetary unit is a flat amount;
/// - 01, 04, 06, 19, 20, 31, 33 add; 02 and 36 subtract;
/// - 15 (MIN) raises and 17/35 (MAX) cap the duty accumulated so far. The additional
///   duties on sugar and flour written right after a MAX (21, 23, 25, 27, 29) are part of
///   its cap: `8.3 % + EA MAX 18.7 % + AD S/Z` is the lower of `8.3 % + EA` and
///   `18.7 % + AD S/Z`;
/// - 12/14/21/25/27/29 take their figure from the Meursing table (elsewhere than after a
///   MAX they add); 23 is the additional duty on sugar at 2 % of the customs value;
/// - levies and variable components (03, 05, 07, 09, 11, 13) need their amount on the
///   component (it was fixed outside the tariff): 03/05 then replace the duty
///   accumulated before them, 07/09/11/13 add. Without an amount they are refused with
///   [`DutyError::UnsupportedExpression`];
/// - 37 and 99 add nothing; export refunds (40 to 44) are refused with
///   [`DutyError::ExportRefund`].
///
/// The duty is not clamped at zero: only 02 and 36 can make it negative.
/// Rounding: intermediate amounts keep full precision; the measure's amount is rounded
/// once, half away from zero, to 2 decimals.
pub fn evaluate(
    components: &[MeasureComponent],
    ctx: &EvalContext<'_>,
) -> Result<Evaluation, DutyError> {
    for c in components {
        validate_component(c)?;
    }
    let sorted = in_taric_order(components);
    let exprs = sorted
        .iter()
        .map(|c| {
            duty_expression(&c.duty_expression_id).ok_or_else(|| DutyError::UnknownExpression {
                id: c.duty_expression_id.clone(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut total = Decimal::ZERO;
    let mut steps = Vec::new();
    // The steps whose text is part of the formula (indexes into `steps`): the texts are
    // written once, not copied for the formula.
    let mut parts: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let (c, expr) = (sorted[i], exprs[i]);
        i += 1;
        let before = total;
        let mut l = component_line(c, expr.role, expr.prefix, ctx)?;
        let amount = l.as_ref().map_or(Decimal::ZERO, |l| l.amount);
        // The step keeps the line's numbers; its text moves into the step's text.
        let body = l
            .as_mut()
            .map(|l| std::mem::take(&mut l.text))
            .unwrap_or_default();
        match expr.role {
            Role::Maximum => {
                // The cap, with the additional duties on sugar and flour that follow it.
                let mut bound = amount;
                let mut bound_text = format!("{} {body}", expr.prefix);
                let mut members = Vec::new();
                while i < sorted.len() && part_of_maximum(exprs[i].role) {
                    let (pc, pe) = (sorted[i], exprs[i]);
                    i += 1;
                    let pl = component_line(pc, pe.role, pe.prefix, ctx)?;
                    if let Some(pl) = pl {
                        bound = bound.checked_add(pl.amount).ok_or(DutyError::Overflow)?;
                        bound_text = format!("{bound_text} {}", pl.text);
                        members.push((pc, pl));
                    }
                }
                if !members.is_empty() {
                    bound_text = format!("{bound_text} = {}", fmt_money(bound));
                }
                let applied = total > bound;
                if applied {
                    total = bound;
                }
                let outcome = if applied {
                    format!("applied: {} → {}", fmt_money(before), fmt_money(total))
                } else {
                    "not applied".to_owned()
                };
                let text = format!("{bound_text} ({outcome})");
                parts.push(steps.len());
                let mut s = step(
                    c,
                    Operation::Maximum,
                    l.as_ref(),
                    before,
                    total,
                    applied,
                    text,
                );
                s.amount = bound;
                steps.push(s);
                for (pc, pl) in members {
                    let text = pl.text.clone();
                    steps.push(step(
                        pc,
                        Operation::PartOfMaximum,
                        Some(&pl),
                        total,
                        total,
                        applied,
                        text,
                    ));
                }
            }
            Role::Minimum => {
                let applied = total < amount;
                if applied {
                    total = amount;
                }
                let outcome = if applied {
                    format!("applied: {} → {}", fmt_money(before), fmt_money(total))
                } else {
                    "not applied".to_owned()
                };
                let text = format!("{} {body} ({outcome})", expr.prefix);
                parts.push(steps.len());
                steps.push(step(
                    c,
                    Operation::Minimum,
                    l.as_ref(),
                    before,
                    total,
                    applied,
                    text,
                ));
            }
            Role::Subtract | Role::SubtractCif => {
                total = total.checked_sub(amount).ok_or(DutyError::Overflow)?;
                let cif = if expr.role == Role::SubtractCif {
                    " (CIF)"
                } else {
                    ""
                };
                let text = format!("- {body}{cif}");
                parts.push(steps.len());
                steps.push(step(
                    c,
                    Operation::Subtract,
                    l.as_ref(),
                    before,
                    total,
                    true,
                    text,
                ));
            }
            Role::Levy { replaces: true } => {
                total = amount;
                let text = if parts.is_empty() {
                    body
                } else {
                    format!("{body} (replaces {})", fmt_money(before))
                };
                parts.push(steps.len());
                steps.push(step(
                    c,
                    Operation::Replace,
                    l.as_ref(),
                    before,
                    total,
                    true,
                    text,
                ));
            }
            Role::Add
            | Role::Meursing(_)
            | Role::SugarDutyTwoPercent
            | Role::Levy { replaces: false } => {
                total = total.checked_add(amount).ok_or(DutyError::Overflow)?;
                let text = if parts.is_empty() || expr.role != Role::Add {
                    body
                } else {
                    format!("+ {body}")
                };
                parts.push(steps.len());
                steps.push(step(
                    c,
                    Operation::Add,
                    l.as_ref(),
                    before,
                    total,
                    true,
                    text,
                ));
            }
            Role::Nothing | Role::SupplementaryUnit | Role::ExportRefund => {
                let text = if expr.role == Role::Nothing {
                    expr.prefix.to_owned()
                } else {
                    String::new()
                };
                if !text.is_empty() {
                    parts.push(steps.len());
                }
                steps.push(step(c, Operation::None, None, before, total, false, text));
            }
        }
    }
    let amount = rounded(total);
    let text_of = |i: &usize| steps.get(*i).map_or("", |s| s.text.as_str());
    let formula = match parts.as_slice() {
        [] => fmt_money(amount),
        [one] => text_of(one).to_owned(),
        many => {
            let mut f = String::with_capacity(many.len() * 48 + 16);
            for (n, i) in many.iter().enumerate() {
                if n > 0 {
                    f.push(' ');
                }
                f.push_str(text_of(i));
            }
            f.push_str(" → ");
            push_money(&mut f, amount);
            f
        }
    };
    Ok(Evaluation {
        amount,
        formula,
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::{evaluate, evaluate_amount, EvalContext};
    use crate::duty::{MeasureComponent, Quantities};
    use rust_decimal::Decimal;

    /// The shortcut for one adding component gives `evaluate`'s amount, formula and error.
    #[test]
    fn evaluate_amount_is_evaluate_without_steps() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let quantities = Quantities::new()
            .with("KGM", d("1234.5"))
            .with("TNE", d("1.2345"));
        let rates = vec![("GBP".to_owned(), d("0.85765"))];
        let mut flat = MeasureComponent::ad_valorem("01", d("12.5"));
        flat.monetary_unit = Some("EUR".to_owned());
        let cases: Vec<Vec<MeasureComponent>> = vec![
            vec![MeasureComponent::ad_valorem("01", d("12.8"))],
            vec![MeasureComponent::ad_valorem("01", d("0"))],
            vec![MeasureComponent::ad_valorem("01", d("0.005"))],
            vec![MeasureComponent::ad_valorem("04", d("2.25"))],
            vec![MeasureComponent::specific("01", d("176.8"), "EUR", "DTN")],
            vec![MeasureComponent::specific("01", d("3.5"), "GBP", "TNE")],
            vec![MeasureComponent::specific("01", d("3.5"), "USD", "TNE")],
            vec![MeasureComponent::specific("01", d("1"), "EUR", "HLT")],
            vec![MeasureComponent::specific("15", d("1"), "EUR", "DTN")],
            vec![MeasureComponent::ad_valorem("02", d("1"))],
            vec![MeasureComponent::ad_valorem("99", d("1"))],
            vec![MeasureComponent::ad_valorem("XX", d("1"))],
            vec![MeasureComponent::ad_valorem("01", d("-1"))],
            vec![flat],
            vec![
                MeasureComponent::ad_valorem("01", d("8.3")),
                MeasureComponent::specific("04", d("20"), "EUR", "DTN"),
            ],
            vec![],
        ];
        for value in [d("0"), d("1260.89"), d("1234567.891")] {
            let ctx = EvalContext::borrowed(value, &quantities)
                .with_currency("EUR")
                .with_rates(&rates);
            for components in &cases {
                let full = evaluate(components, &ctx).map(|e| (e.amount, e.formula));
                assert_eq!(evaluate_amount(components, &ctx), full, "{components:?}");
            }
        }
    }
}
