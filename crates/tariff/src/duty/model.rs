//! Core model: measure components and the engine's error type.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One component of a measure (TARIC `measure.component`): a duty expression with its
/// amount and units.
///
/// - `duty_expression_id`: the TARIC duty expression, `"01"`..`"99"` (see
///   [`crate::duty::DUTY_EXPRESSIONS`]).
/// - `amount`: the duty amount; a percentage when `monetary_unit` is `None`, a money amount
///   otherwise.
/// - `monetary_unit`: e.g. `"EUR"`; `None` for an ad valorem (%) amount.
/// - `measurement_unit`: e.g. `"DTN"`, `"KGM"`, `"TNE"`, `"HLT"`, `"LTR"`, `"ASV"`, `"LPA"`,
///   `"NAR"`; the unit a specific amount is charged per.
/// - `qualifier`: the measurement unit qualifier, e.g. `"I"` (of biodiesel content), `"R"`
///   (standard quality), `"A"` (total alcohol).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureComponent {
    /// TARIC duty expression id, two digits.
    pub duty_expression_id: String,
    /// Duty amount (percentage or money amount).
    pub amount: Option<Decimal>,
    /// Currency of a specific amount; `None` for a percentage.
    pub monetary_unit: Option<String>,
    /// Measurement unit a specific amount is charged per.
    pub measurement_unit: Option<String>,
    /// Measurement unit qualifier.
    pub qualifier: Option<String>,
}

impl MeasureComponent {
    /// A component with only an expression id (e.g. `"12"`, `"37"`).
    pub fn bare(duty_expression_id: &str) -> Self {
        Self {
            duty_expression_id: duty_expression_id.to_owned(),
            amount: None,
            monetary_unit: None,
            measurement_unit: None,
            qualifier: None,
        }
    }

    /// An ad valorem component: `amount` percent of the customs value.
    pub fn ad_valorem(duty_expression_id: &str, percent: Decimal) -> Self {
        Self {
            amount: Some(percent),
            ..Self::bare(duty_expression_id)
        }
    }

    /// A specific component: `amount` `currency` per `unit`.
    pub fn specific(duty_expression_id: &str, amount: Decimal, currency: &str, unit: &str) -> Self {
        Self {
            amount: Some(amount),
            monetary_unit: Some(currency.to_owned()),
            measurement_unit: Some(unit.to_owned()),
            ..Self::bare(duty_expression_id)
        }
    }

    /// This component with a measurement unit qualifier.
    pub fn with_qualifier(mut self, qualifier: &str) -> Self {
        self.qualifier = Some(qualifier.to_owned());
        self
    }
}

/// Errors of the duty engine. Every failure is explicit: a missing input is never
/// silently treated as zero.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum DutyError {
    /// The duty expression id is not in the TARIC table.
    #[error("unknown duty expression {id}")]
    UnknownExpression {
        /// The id given.
        id: String,
    },
    /// The duty expression requires an amount.
    #[error("duty expression {id} requires an amount")]
    AmountRequired {
        /// Expression id.
        id: String,
    },
    /// The duty expression forbids an amount.
    #[error("duty expression {id} does not permit an amount")]
    AmountNotPermitted {
        /// Expression id.
        id: String,
    },
    /// The amount is negative (TARIC amounts are never negative; subtraction is expressed
    /// by the duty expression).
    #[error("duty expression {id}: amount must not be negative")]
    NegativeAmount {
        /// Expression id.
        id: String,
    },
    /// The duty expression forbids a monetary unit.
    #[error("duty expression {id} does not permit a monetary unit")]
    MonetaryUnitNotPermitted {
        /// Expression id.
        id: String,
    },
    /// The duty expression requires a measurement unit.
    #[error("duty expression {id} requires a measurement unit")]
    MeasurementUnitRequired {
        /// Expression id.
        id: String,
    },
    /// The duty expression forbids a measurement unit.
    #[error("duty expression {id} does not permit a measurement unit")]
    MeasurementUnitNotPermitted {
        /// Expression id.
        id: String,
    },
    /// A monetary unit was given without an amount.
    #[error("duty expression {id}: a monetary unit needs an amount")]
    MonetaryUnitWithoutAmount {
        /// Expression id.
        id: String,
    },
    /// A percentage was given with a measurement unit (a specific amount needs a
    /// monetary unit).
    #[error(
        "duty expression {id}: a measurement unit needs a monetary unit (a percentage has none)"
    )]
    MeasurementUnitWithoutMonetaryUnit {
        /// Expression id.
        id: String,
    },
    /// A qualifier was given without a measurement unit.
    #[error("duty expression {id}: a qualifier needs a measurement unit")]
    QualifierWithoutUnit {
        /// Expression id.
        id: String,
    },
    /// No declared quantity in (or convertible to) the unit.
    #[error("missing declared quantity in {unit}")]
    MissingQuantity {
        /// Unit code with its qualifier, e.g. `"TNEI"`, `"HLT"`.
        unit: String,
    },
    /// The agricultural component / additional duty needs a Meursing table and code.
    #[error(
        "duty expression {expression_id} needs a Meursing table and a Meursing additional code"
    )]
    MeursingRequired {
        /// Expression id (12, 14, 21, 25, 27 or 29).
        expression_id: String,
    },
    /// The Meursing table has no entry for the code and kind.
    #[error("Meursing table has no {kind} for additional code {code}")]
    MeursingComponentMissing {
        /// The Meursing additional code.
        code: String,
        /// The kind asked for.
        kind: String,
    },
    /// The component's currency differs from the evaluation currency (conversion happens
    /// outside the engine).
    #[error("component currency {component} differs from the evaluation currency {context}")]
    CurrencyMismatch {
        /// The component's monetary unit.
        component: String,
        /// The context's currency.
        context: String,
    },
    /// The duty expression is valid TARIC but cannot be evaluated by this engine.
    #[error("duty expression {id} cannot be evaluated: {reason}")]
    UnsupportedExpression {
        /// Expression id.
        id: String,
        /// Why.
        reason: String,
    },
    /// Export refunds (expressions 40 to 44) are amounts paid to the exporter of
    /// agricultural goods, not duties charged on import: they have no place in a duty
    /// calculation.
    #[error(
        "duty expression {id} is an export refund (paid to the exporter on export), not a duty charged on import"
    )]
    ExportRefund {
        /// Expression id (40 to 44).
        id: String,
    },
    /// A measure condition's action code is not supported.
    #[error("unsupported measure action code {action}")]
    UnsupportedAction {
        /// The action code.
        action: String,
    },
    /// A threshold condition compares the declared unit price, which was not given.
    #[error("condition {code} needs the declared unit price")]
    MissingUnitPrice {
        /// Condition code.
        code: String,
    },
    /// Arithmetic overflow (absurd amounts or quantities).
    #[error("arithmetic overflow in duty calculation")]
    Overflow,
}
