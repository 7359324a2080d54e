//! Evaluation of a measure's components against declared values.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::describe::in_taric_order;
use super::expressions::{duty_expression, validate_component, MeursingKind, Role};
use super::model::{DutyError, MeasureComponent};
use super::units::{fmt_decimal, fmt_money, qualifier_abbreviation, unit_abbreviation, Quantities};

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
    /// Declared quantities (see [`Quantities`]).
    pub quantities: Quantities,
    /// The Meursing table, needed by expressions 12, 14, 21, 25, 27 and 29.
    pub meursing: Option<&'a dyn MeursingTable>,
    /// The declared Meursing additional code (e.g. `"7000"`).
    pub meursing_code: Option<String>,
    /// When set, every component's monetary unit must be this currency.
    pub currency: Option<String>,
}

impl<'a> EvalContext<'a> {
    /// A context with a customs value and quantities; no Meursing table, any currency.
    pub fn new(customs_value: Decimal, quantities: Quantities) -> Self {
        Self {
            customs_value,
            quantities,
            meursing: None,
            meursing_code: None,
            currency: None,
        }
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
    /// Caps the duty at its line amount if above.
    Maximum,
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

fn unit_label(unit: &str, qualifier: Option<&str>) -> String {
    match qualifier {
        Some(q) => format!(
            "{} ({})",
            unit_abbreviation(unit),
            qualifier_abbreviation(q)
        ),
        None => unit_abbreviation(unit).to_owned(),
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
        let text = format!(
            "{}% × {} = {}",
            fmt_decimal(rate, 2, true),
            fmt_money(ctx.customs_value),
            fmt_money(amount)
        );
        return Ok(Line {
            rate,
            base: Some(ctx.customs_value),
            amount,
            text,
        });
    };
    if let Some(expected) = &ctx.currency {
        if expected != currency {
            return Err(DutyError::CurrencyMismatch {
                component: currency.clone(),
                context: expected.clone(),
            });
        }
    }
    let Some(unit) = &c.measurement_unit else {
        return Ok(Line {
            rate,
            base: None,
            amount: rate,
            text: format!("{} {currency}", fmt_decimal(rate, 2, true)),
        });
    };
    let qty = ctx.quantities.resolve(unit, c.qualifier.as_deref())?;
    let amount = rate.checked_mul(qty).ok_or(DutyError::Overflow)?;
    let text = format!(
        "{} {currency}/{} × {} = {}",
        fmt_decimal(rate, 2, true),
        unit_label(unit, c.qualifier.as_deref()),
        fmt_decimal(qty, 2, true),
        fmt_money(amount)
    );
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

/// Evaluates a measure's duty.
///
/// Components are validated ([`validate_component`]) and applied in TARIC order
/// (ascending duty expression id): `%` is ad valorem on the customs value; an amount with
/// a monetary and a measurement unit is specific, charged on the declared quantity
/// converted to that unit ([`Quantities::resolve`]); 02 and 36 subtract; 15 (MIN) raises
/// and 17/35 (MAX) cap the duty accumulated so far; 12/14/21/25/27/29 take their figure
/// from the Meursing table; 37 and 99 add nothing. Levies, variable components and export
/// refunds are refused with [`DutyError::UnsupportedExpression`].
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
    let mut total = Decimal::ZERO;
    let mut steps = Vec::new();
    let mut parts: Vec<String> = Vec::new();
    for c in in_taric_order(components) {
        let expr =
            duty_expression(&c.duty_expression_id).ok_or_else(|| DutyError::UnknownExpression {
                id: c.duty_expression_id.clone(),
            })?;
        let before = total;
        let (operation, l) = match expr.role {
            Role::Add => (Operation::Add, Some(line(c, ctx)?)),
            Role::Subtract | Role::SubtractCif => (Operation::Subtract, Some(line(c, ctx)?)),
            Role::Minimum => (Operation::Minimum, Some(line(c, ctx)?)),
            Role::Maximum => (Operation::Maximum, Some(line(c, ctx)?)),
            Role::Meursing(kind) => (
                Operation::Add,
                Some(meursing_line(c, kind, expr.prefix, ctx)?),
            ),
            Role::Nothing | Role::SupplementaryUnit => (Operation::None, None),
            Role::Unsupported => {
                return Err(DutyError::UnsupportedExpression {
                    id: c.duty_expression_id.clone(),
                    reason: format!("\"{}\" needs data outside the tariff", expr.description),
                })
            }
        };
        let (rate, base, amount, body) = match l {
            Some(l) => (Some(l.rate), l.base, l.amount, l.text),
            None => (None, None, Decimal::ZERO, String::new()),
        };
        let applied;
        let text;
        match operation {
            Operation::Add => {
                total = total.checked_add(amount).ok_or(DutyError::Overflow)?;
                applied = true;
                text = if parts.is_empty() || expr.role != Role::Add {
                    body
                } else {
                    format!("+ {body}")
                };
            }
            Operation::Subtract => {
                total = total.checked_sub(amount).ok_or(DutyError::Overflow)?;
                applied = true;
                let cif = if expr.role == Role::SubtractCif {
                    " (CIF)"
                } else {
                    ""
                };
                text = format!("- {body}{cif}");
            }
            Operation::Minimum | Operation::Maximum => {
                let is_min = operation == Operation::Minimum;
                applied = if is_min {
                    total < amount
                } else {
                    total > amount
                };
                if applied {
                    total = amount;
                }
                let outcome = if applied {
                    format!("applied: {} → {}", fmt_money(before), fmt_money(total))
                } else {
                    "not applied".to_owned()
                };
                text = format!("{} {body} ({outcome})", expr.prefix);
            }
            Operation::None => {
                applied = false;
                text = if expr.role == Role::Nothing {
                    expr.prefix.to_owned()
                } else {
                    String::new()
                };
            }
        }
        if !text.is_empty() {
            parts.push(text.clone());
        }
        steps.push(Step {
            duty_expression_id: c.duty_expression_id.clone(),
            operation,
            rate,
            base,
            amount,
            total_before: before,
            total_after: total,
            applied,
            text,
        });
    }
    let amount = total.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    // Always two decimals (`324.80`, `0.00`), and no negative zero.
    let mut amount = if amount.is_zero() {
        Decimal::ZERO
    } else {
        amount
    };
    amount.rescale(2);
    let formula = match parts.len() {
        0 => fmt_money(amount),
        1 => parts.concat(),
        _ => format!("{} → {}", parts.join(" "), fmt_money(amount)),
    };
    Ok(Evaluation {
        amount,
        formula,
        steps,
    })
}
