//! The TARIC duty expression table and component validation.

use serde::Serialize;

use super::model::{DutyError, MeasureComponent};

/// Whether a field is mandatory, permitted or not permitted for a duty expression
/// (TARIC `duty_amount_applicability_code` and friends).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Applicability {
    /// Must be present.
    Mandatory,
    /// May be present.
    Permitted,
    /// Must be absent.
    NotPermitted,
}

/// Which Meursing-table figure an agricultural expression asks for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
pub enum MeursingKind {
    /// Agricultural component (EA), expression 12.
    AgriculturalComponent,
    /// Reduced agricultural component, expression 14.
    ReducedAgriculturalComponent,
    /// Additional duty on sugar (ADSZ), expression 21.
    AdditionalDutyOnSugar,
    /// Reduced additional duty on sugar, expression 25.
    ReducedAdditionalDutyOnSugar,
    /// Additional duty on flour (ADFM), expression 27.
    AdditionalDutyOnFlour,
    /// Reduced additional duty on flour, expression 29.
    ReducedAdditionalDutyOnFlour,
}

impl std::fmt::Display for MeursingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::AgriculturalComponent => "agricultural component",
            Self::ReducedAgriculturalComponent => "reduced agricultural component",
            Self::AdditionalDutyOnSugar => "additional duty on sugar",
            Self::ReducedAdditionalDutyOnSugar => "reduced additional duty on sugar",
            Self::AdditionalDutyOnFlour => "additional duty on flour",
            Self::ReducedAdditionalDutyOnFlour => "reduced additional duty on flour",
        })
    }
}

/// What a duty expression does in an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Role {
    /// Adds its % or amount to the duty (01, 04, 06, 19, 20, 31, 33).
    Add,
    /// Subtracts its % or amount (02).
    Subtract,
    /// Subtracts a percentage of the CIF value, i.e. the customs value (36).
    SubtractCif,
    /// Raises the accumulated duty to at least its amount (15).
    Minimum,
    /// Caps the accumulated duty at its amount (17, 35); additional duties on sugar or
    /// flour written right after it (`MAX 18.7 % + AD S/Z`) are part of the cap.
    Maximum,
    /// Adds a figure from the Meursing table (12, 14, 21, 25, 27, 29); 21, 25, 27 and 29
    /// written after a MAX are part of that MAX instead.
    Meursing(MeursingKind),
    /// The additional duty on sugar at a fixed 2 % of the customs value (23): the rate is
    /// in the expression itself, so the component carries no amount. Like 21, it is part
    /// of a MAX written before it.
    SugarDutyTwoPercent,
    /// A pre-1995 agricultural levy or variable component (03, 05, 07, 09, 11, 13). Its
    /// amount was fixed outside the tariff (by periodic Commission regulations), so it can
    /// only be evaluated when the component carries that amount: 03 and 05 then replace
    /// the duty accumulated before them ("the rate is replaced by the levy"), 07, 09, 11
    /// and 13 add it.
    Levy {
        /// 03 and 05: the levy replaces the rate instead of adding to it.
        replaces: bool,
    },
    /// No duty (37, "NIHIL").
    Nothing,
    /// Declares the supplementary unit; no duty (99).
    SupplementaryUnit,
    /// An export refund (40 to 44): an amount the Union paid to the exporter of
    /// agricultural goods, not a duty charged on import; refused by the duty calculation
    /// with [`DutyError::ExportRefund`].
    ExportRefund,
}

/// One TARIC duty expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DutyExpression {
    /// Two-digit id.
    pub id: &'static str,
    /// TARIC description.
    pub description: &'static str,
    /// Prefix (sign) used in readable duty text, e.g. `"+"`, `"MIN"`, `"+ AC"`; empty for 01.
    pub prefix: &'static str,
    /// Whether an amount applies.
    pub amount: Applicability,
    /// Whether a monetary unit applies.
    pub monetary_unit: Applicability,
    /// Whether a measurement unit applies.
    pub measurement_unit: Applicability,
    /// The expression's effect in an evaluation.
    pub role: Role,
}

use Applicability::{Mandatory as M, NotPermitted as N, Permitted as P};

const fn e(
    id: &'static str,
    description: &'static str,
    prefix: &'static str,
    amounts: (Applicability, Applicability, Applicability),
    role: Role,
) -> DutyExpression {
    DutyExpression {
        id,
        description,
        prefix,
        amount: amounts.0,
        monetary_unit: amounts.1,
        measurement_unit: amounts.2,
        role,
    }
}

const AMOUNT: (Applicability, Applicability, Applicability) = (M, P, P);
const NONE: (Applicability, Applicability, Applicability) = (N, N, N);
/// Levies and variable components: the amount may be carried (it was fixed outside the
/// tariff), with its units.
const OPTIONAL: (Applicability, Applicability, Applicability) = (P, P, P);

/// All TARIC duty expressions (ids 01 to 99), in id order, which is also the order in
/// which the components of a measure are applied.
pub const DUTY_EXPRESSIONS: &[DutyExpression] = &[
    e("01", "% or amount", "", AMOUNT, Role::Add),
    e("02", "minus % or amount", "-", AMOUNT, Role::Subtract),
    e(
        "03",
        "The rate is replaced by the levy",
        "LEVY",
        OPTIONAL,
        Role::Levy { replaces: true },
    ),
    e("04", "+ % or amount", "+", AMOUNT, Role::Add),
    e(
        "05",
        "The rate is replaced by the reduced levy",
        "LEVY (reduced)",
        OPTIONAL,
        Role::Levy { replaces: true },
    ),
    e("06", "+ Suplementary amount", "+", AMOUNT, Role::Add),
    e(
        "07",
        "+ Levy",
        "+ Levy",
        OPTIONAL,
        Role::Levy { replaces: false },
    ),
    e(
        "09",
        "+ Reduced levy",
        "+ Reduced levy",
        OPTIONAL,
        Role::Levy { replaces: false },
    ),
    e(
        "11",
        "+ Variable component",
        "+ VC",
        OPTIONAL,
        Role::Levy { replaces: false },
    ),
    e(
        "12",
        "+ agricultural component",
        "+ AC",
        NONE,
        Role::Meursing(MeursingKind::AgriculturalComponent),
    ),
    e(
        "13",
        "+ Reduced variable component",
        "+ VC (reduced)",
        OPTIONAL,
        Role::Levy { replaces: false },
    ),
    e(
        "14",
        "+ reduced agricultural component",
        "+ AC (reduced)",
        NONE,
        Role::Meursing(MeursingKind::ReducedAgriculturalComponent),
    ),
    e("15", "Minimum", "MIN", AMOUNT, Role::Minimum),
    e("17", "Maximum", "MAX", AMOUNT, Role::Maximum),
    e("19", "+ % or amount", "+", AMOUNT, Role::Add),
    e("20", "+ % or amount", "+", AMOUNT, Role::Add),
    e(
        "21",
        "+ additional duty on sugar",
        "+ SD",
        NONE,
        Role::Meursing(MeursingKind::AdditionalDutyOnSugar),
    ),
    e(
        "23",
        "+ 2 % Additional duty on sugar",
        "+ 2 % SD",
        NONE,
        Role::SugarDutyTwoPercent,
    ),
    e(
        "25",
        "+ reduced additional duty on sugar",
        "+ SD (reduced)",
        NONE,
        Role::Meursing(MeursingKind::ReducedAdditionalDutyOnSugar),
    ),
    e(
        "27",
        "+ additional duty on flour",
        "+ FD",
        NONE,
        Role::Meursing(MeursingKind::AdditionalDutyOnFlour),
    ),
    e(
        "29",
        "+ reduced additional duty on flour",
        "+ FD (reduced)",
        NONE,
        Role::Meursing(MeursingKind::ReducedAdditionalDutyOnFlour),
    ),
    e(
        "31",
        "Accession compensatory amount",
        "ACA",
        AMOUNT,
        Role::Add,
    ),
    e(
        "33",
        "+ Accession compensatory amount",
        "+ ACA",
        AMOUNT,
        Role::Add,
    ),
    e("35", "Maximum", "MAX", AMOUNT, Role::Maximum),
    e("36", "minus % CIF", "-", (M, N, N), Role::SubtractCif),
    e("37", "(nothing)", "NIHIL", NONE, Role::Nothing),
    e(
        "40",
        "Export refunds for cereals",
        "",
        OPTIONAL,
        Role::ExportRefund,
    ),
    e(
        "41",
        "Export refunds for rice",
        "",
        OPTIONAL,
        Role::ExportRefund,
    ),
    e(
        "42",
        "Export refunds for eggs",
        "",
        OPTIONAL,
        Role::ExportRefund,
    ),
    e(
        "43",
        "Export refunds for sugar",
        "",
        OPTIONAL,
        Role::ExportRefund,
    ),
    e(
        "44",
        "Export refunds for milk products",
        "",
        OPTIONAL,
        Role::ExportRefund,
    ),
    e(
        "99",
        "Supplementary unit",
        "",
        (N, N, M),
        Role::SupplementaryUnit,
    ),
];

/// Looks up a duty expression by id.
pub fn duty_expression(id: &str) -> Option<&'static DutyExpression> {
    DUTY_EXPRESSIONS.iter().find(|x| x.id == id)
}

/// Checks a component against its duty expression (TARIC rule: the amount, the monetary
/// unit and the measurement unit are mandatory or forbidden per duty expression), plus:
/// amounts are never negative, a monetary unit needs an amount, a measurement unit on an
/// amount needs a monetary unit (a percentage is not "per kg"), a qualifier needs a
/// measurement unit.
pub fn validate_component(c: &MeasureComponent) -> Result<(), DutyError> {
    let id = || c.duty_expression_id.clone();
    let expr = duty_expression(&c.duty_expression_id)
        .ok_or_else(|| DutyError::UnknownExpression { id: id() })?;
    match (expr.amount, c.amount) {
        (Applicability::Mandatory, None) => return Err(DutyError::AmountRequired { id: id() }),
        (Applicability::NotPermitted, Some(_)) => {
            return Err(DutyError::AmountNotPermitted { id: id() })
        }
        (_, Some(a)) if a.is_sign_negative() && !a.is_zero() => {
            return Err(DutyError::NegativeAmount { id: id() })
        }
        _ => {}
    }
    match (expr.monetary_unit, &c.monetary_unit) {
        (Applicability::NotPermitted, Some(_)) => {
            return Err(DutyError::MonetaryUnitNotPermitted { id: id() })
        }
        (_, Some(_)) if c.amount.is_none() => {
            return Err(DutyError::MonetaryUnitWithoutAmount { id: id() })
        }
        _ => {}
    }
    match (expr.measurement_unit, &c.measurement_unit) {
        (Applicability::Mandatory, None) => {
            return Err(DutyError::MeasurementUnitRequired { id: id() })
        }
        (Applicability::NotPermitted, Some(_)) => {
            return Err(DutyError::MeasurementUnitNotPermitted { id: id() })
        }
        (_, Some(_)) if c.amount.is_some() && c.monetary_unit.is_none() => {
            return Err(DutyError::MeasurementUnitWithoutMonetaryUnit { id: id() })
        }
        _ => {}
    }
    if c.qualifier.is_some() && c.measurement_unit.is_none() {
        return Err(DutyError::QualifierWithoutUnit { id: id() });
    }
    Ok(())
}
