//! Duty calculation options for a declaration.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::applicability::{applicable_measures, applies_to_origin};
use super::model::{Measure, TariffData, ERGA_OMNES};
use super::types::{
    measure_kind, measure_type_description, measure_type_description_static, MeasureKind,
    MEURSING_TYPES,
};
use crate::duty::{
    describe, evaluate_amount, resolve_conditions, ConditionContext, DutyError, EvalContext,
    MeasureComponent, MeursingFigures, MeursingTable, Quantities, Resolution,
};
use crate::nomenclature::GoodsCode;

/// The currency of every amount in a calculation.
pub const CURRENCY: &str = "EUR";

/// What is declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalcRequest {
    /// The commodity code.
    pub commodity: GoodsCode,
    /// Country (or region) of origin, e.g. `"CN"`.
    pub origin: String,
    /// The date the measures are taken as of (e.g. the acceptance of the declaration).
    pub date: NaiveDate,
    /// Customs value (CIF), already converted to EUR.
    pub customs_value: Decimal,
    /// Declared quantities.
    #[serde(default)]
    pub quantities: Quantities,
    /// Declared additional codes, type and code together (`"C999"`, `"B123"`).
    #[serde(default)]
    pub additional_codes: Vec<String>,
    /// Presented documents (certificate codes, e.g. `"N954"`, `"Y929"`).
    #[serde(default)]
    pub documents: Vec<String>,
    /// Declared unit price (entry prices: EUR per 100 kg net).
    #[serde(default)]
    pub unit_price: Option<Decimal>,
    /// Declared Meursing additional code (e.g. `"7000"`), used with a Meursing table.
    #[serde(default)]
    pub meursing_code: Option<String>,
    /// Rates for components in other currencies than EUR: `(currency, units per EUR)` in
    /// force on the date, e.g. `("GBP", 0.85765)` for an administration whose tariff has
    /// GBP amounts. A component in a currency without a rate is an error.
    #[serde(default)]
    pub exchange_rates: Vec<(String, Decimal)>,
}

/// The kind of a duty option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptionKind {
    /// Third-country duty (103, 105).
    ThirdCountry,
    /// Autonomous suspension (112, 115, 117, 119).
    Suspension,
    /// Tariff preference or customs union duty (106, 141, 142, 145).
    Preference,
    /// Tariff quota (122, 123, 143, 146, 147), with its order number.
    Quota,
}

impl OptionKind {
    /// The serialized name: `"third_country"`, `"suspension"`, `"preference"`, `"quota"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ThirdCountry => "third_country",
            Self::Suspension => "suspension",
            Self::Preference => "preference",
            Self::Quota => "quota",
        }
    }

    fn of(kind: MeasureKind) -> Option<Self> {
        match kind {
            MeasureKind::ThirdCountry => Some(Self::ThirdCountry),
            MeasureKind::Suspension => Some(Self::Suspension),
            MeasureKind::Preference => Some(Self::Preference),
            MeasureKind::Quota => Some(Self::Quota),
            _ => None,
        }
    }
}

/// One line of an option: the duty of one measure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DutyLine {
    /// Measure type id, e.g. `"103"`.
    pub measure_type_id: String,
    /// Measure SID.
    pub measure_sid: u64,
    /// Measure type description, e.g. `"Third country duty"` (borrowed from the built-in
    /// table of measure types when it is there).
    pub description: Cow<'static, str>,
    /// The duty expression applied (see [`crate::duty::describe`]), e.g. `"12.00 %"`.
    pub duty_expression: String,
    /// The calculation, from [`crate::duty::evaluate`], e.g. `"12.00% × 1,000.00 = 120.00"`.
    pub formula: String,
    /// The amount, 2 decimals.
    pub amount: Decimal,
    /// Always `"EUR"`.
    pub currency: Cow<'static, str>,
}

/// One way to declare the goods, with every duty and tax it leads to.
///
/// Its lines ([`DutyOption::lines`]) are the option's own duty, the stacked duties and
/// excise ([`DutyOption::shared`], the same lines for every option of a calculation, held
/// once), then VAT. It serializes with those lines as one `lines` array.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "OptionRecord")]
pub struct DutyOption {
    /// Third country, suspension, preference or quota.
    pub kind: OptionKind,
    /// The option's own measure type.
    pub measure_type_id: String,
    /// The option's own measure.
    pub measure_sid: u64,
    /// The option measure's geographical area.
    pub geographical_area: String,
    /// Quota order number (quotas).
    pub order_number: Option<String>,
    /// The option measure's additional code, if any.
    pub additional_code: Option<String>,
    /// The first line: the option's own duty.
    pub duty: DutyLine,
    /// The stacked duties then excise: the same for every option of a calculation, shared
    /// between them rather than copied into each.
    pub shared: Arc<[DutyLine]>,
    /// The last lines: VAT on this option's VAT base.
    pub vat: Vec<DutyLine>,
    /// The VAT base: customs value + every non-VAT line.
    pub vat_base: Decimal,
    /// Sum of the lines.
    pub total: Decimal,
}

impl DutyOption {
    /// The lines in order: the option's duty, stacked duties, excise, then VAT.
    pub fn lines(&self) -> impl ExactSizeIterator<Item = &DutyLine> + Clone + '_ {
        Lines {
            duty: Some(&self.duty),
            shared: self.shared.iter(),
            vat: self.vat.iter(),
        }
    }

    /// The number of lines.
    pub fn line_count(&self) -> usize {
        1 + self.shared.len() + self.vat.len()
    }
}

/// The iterator of [`DutyOption::lines`] (a chain that knows its length).
#[derive(Clone)]
struct Lines<'a> {
    duty: Option<&'a DutyLine>,
    shared: std::slice::Iter<'a, DutyLine>,
    vat: std::slice::Iter<'a, DutyLine>,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a DutyLine;
    fn next(&mut self) -> Option<&'a DutyLine> {
        self.duty
            .take()
            .or_else(|| self.shared.next())
            .or_else(|| self.vat.next())
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::from(self.duty.is_some()) + self.shared.len() + self.vat.len();
        (n, Some(n))
    }
}

impl ExactSizeIterator for Lines<'_> {}

impl Serialize for DutyOption {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct AllLines<'a>(&'a DutyOption);
        impl Serialize for AllLines<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.lines())
            }
        }
        let mut st = s.serialize_struct("DutyOption", 9)?;
        st.serialize_field("kind", &self.kind)?;
        st.serialize_field("measure_type_id", &self.measure_type_id)?;
        st.serialize_field("measure_sid", &self.measure_sid)?;
        st.serialize_field("geographical_area", &self.geographical_area)?;
        st.serialize_field("order_number", &self.order_number)?;
        st.serialize_field("additional_code", &self.additional_code)?;
        st.serialize_field("lines", &AllLines(self))?;
        st.serialize_field("vat_base", &self.vat_base)?;
        st.serialize_field("total", &self.total)?;
        st.end()
    }
}

/// The serialized form of a [`DutyOption`]: its lines in one array.
#[derive(Deserialize)]
struct OptionRecord {
    kind: OptionKind,
    measure_type_id: String,
    measure_sid: u64,
    geographical_area: String,
    order_number: Option<String>,
    additional_code: Option<String>,
    lines: Vec<DutyLine>,
    vat_base: Decimal,
    total: Decimal,
}

impl TryFrom<OptionRecord> for DutyOption {
    type Error = &'static str;
    /// The first line is the option's duty, the VAT lines at the end are its VAT, the
    /// lines in between are the shared ones.
    fn try_from(r: OptionRecord) -> Result<Self, &'static str> {
        let mut lines = r.lines.into_iter();
        let duty = lines
            .next()
            .ok_or("an option has at least its own duty line")?;
        let mut rest: Vec<DutyLine> = lines.collect();
        let shared_len = rest.len()
            - rest
                .iter()
                .rev()
                .take_while(|l| measure_kind(&l.measure_type_id) == MeasureKind::Vat)
                .count();
        let vat = rest.split_off(shared_len);
        Ok(Self {
            kind: r.kind,
            measure_type_id: r.measure_type_id,
            measure_sid: r.measure_sid,
            geographical_area: r.geographical_area,
            order_number: r.order_number,
            additional_code: r.additional_code,
            duty,
            shared: rest.into(),
            vat,
            vat_base: r.vat_base,
            total: r.total,
        })
    }
}

/// A measure forbidding the declaration as made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prohibition {
    /// Measure type id, e.g. `"277"`.
    pub measure_type_id: String,
    /// Measure SID.
    pub measure_sid: u64,
    /// Measure type description.
    pub description: String,
    /// Why, from the conditions (or `"unconditional prohibition"`).
    pub reason: String,
}

/// The result of [`calculate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calculation {
    /// The options, in the documented order (see the module docs).
    pub options: Vec<DutyOption>,
    /// Index of the option with the lowest total (the first one on ties); `None` without
    /// options.
    pub cheapest: Option<usize>,
    /// Measures whose conditions (or nature) forbid the declaration as made.
    pub prohibitions: Vec<Prohibition>,
}

/// Why a calculation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum CalcError {
    /// The customs value is negative.
    #[error("customs value must not be negative")]
    NegativeCustomsValue,
    /// Anti-dumping/countervailing measures with additional codes apply, and none of the
    /// declared additional codes is one of theirs.
    #[error("measure type {measure_type_id} needs one of the additional codes {codes:?}")]
    AdditionalCodeRequired {
        /// The measure type.
        measure_type_id: String,
        /// The additional codes that would select a measure.
        codes: Vec<String>,
    },
    /// A measure's conditions or components could not be evaluated.
    #[error("measure {measure_sid}: {cause}")]
    Duty {
        /// The measure.
        measure_sid: u64,
        /// The duty engine's error.
        cause: DutyError,
    },
    /// Arithmetic overflow.
    #[error("arithmetic overflow in duty calculation")]
    Overflow,
}

fn duty_err(measure: &Measure) -> impl Fn(DutyError) -> CalcError + '_ {
    move |cause| CalcError::Duty {
        measure_sid: measure.sid,
        cause,
    }
}

/// The duty options for a declaration; see [`calculate_with_meursing`], with the tariff's
/// own Meursing table ([`meursing_figures`]). Without Meursing measures in the tariff, a
/// component needing the table is an error ([`DutyError::MeursingRequired`]), never zero.
pub fn calculate(
    data: &TariffData,
    ancestors: &[GoodsCode],
    req: &CalcRequest,
) -> Result<Calculation, CalcError> {
    // The table is gathered from the whole tariff, so only when a measure that applies here
    // has an agricultural (Meursing) component: most calculations never need it.
    let mut codes: Vec<GoodsCode> = ancestors.to_vec();
    if !codes.iter().any(|c| c.as_str() == req.commodity.as_str()) {
        codes.push(req.commodity);
    }
    let applicable = applicable_measures(data, &codes, &req.origin, req.date);
    let needs_table = applicable.iter().any(|m| {
        m.components.iter().any(is_meursing)
            || m.conditions
                .iter()
                .any(|c| c.components.iter().any(is_meursing))
    });
    if !needs_table {
        return calculate_applicable(req, applicable, None);
    }
    let table = meursing_figures(data, &req.origin, req.date);
    let table: Option<&dyn MeursingTable> = (!table.is_empty()).then_some(&table);
    calculate_applicable(req, applicable, table)
}

/// Whether a component takes a figure from the Meursing table (expressions 12, 14, 21, 25,
/// 27, 29).
fn is_meursing(c: &crate::duty::MeasureComponent) -> bool {
    crate::duty::duty_expression(&c.duty_expression_id)
        .is_some_and(|e| matches!(e.role, crate::duty::Role::Meursing(_)))
}

/// The tariff's own Meursing table for an origin on a date: the figures of the measures of
/// types 672, 673 and 674 ([`MEURSING_TYPES`]) on Meursing additional codes (type 7) in
/// force on `date`. A measure on erga omnes gives the full figure (agricultural
/// component, additional duty on sugar or flour); one on another area that covers
/// `origin` gives the reduced figure. The figure is the measure's first component: a
/// percentage (unit `"%"`) or an amount in EUR per unit. Empty when the tariff has no
/// Meursing measures.
pub fn meursing_figures(data: &TariffData, origin: &str, date: NaiveDate) -> MeursingFigures {
    let mut table = MeursingFigures::new();
    for m in &data.measures {
        let Some((_, full, reduced)) = MEURSING_TYPES.iter().find(|(t, ..)| *t == m.measure_type)
        else {
            continue;
        };
        let Some(code) = m.additional_code.as_deref().filter(|c| c.starts_with('7')) else {
            continue;
        };
        let Some((c, amount)) = m.components.iter().find_map(|c| c.amount.map(|a| (c, a))) else {
            continue;
        };
        let unit = match (&c.monetary_unit, &c.measurement_unit) {
            (None, _) => "%",
            (Some(cur), Some(u)) if cur == CURRENCY => u.as_str(),
            _ => continue,
        };
        let kind = if m.geographical_area == ERGA_OMNES {
            *full
        } else {
            *reduced
        };
        if applies_to_origin(data, m, origin, date) {
            table.insert(code, kind, amount, unit);
        }
    }
    table
}

/// A measure with its resolved components.
struct Resolved<'a> {
    measure: &'a Measure,
    kind: MeasureKind,
    /// The measure's own components, or those of the condition that applies.
    components: std::borrow::Cow<'a, [MeasureComponent]>,
    /// The readable duty of `components`, written once (VAT is evaluated per option).
    duty_expression: String,
}

/// The duty options for a declaration (see the module docs for the rules).
///
/// `ancestors` is the commodity and its ancestors, as for
/// [`super::applicable_measures`]; `req.commodity` is added when missing. `meursing` is the
/// Meursing table for agricultural components (used with `req.meursing_code`).
pub fn calculate_with_meursing(
    data: &TariffData,
    ancestors: &[GoodsCode],
    req: &CalcRequest,
    meursing: Option<&dyn MeursingTable>,
) -> Result<Calculation, CalcError> {
    if req.customs_value.is_sign_negative() && !req.customs_value.is_zero() {
        return Err(CalcError::NegativeCustomsValue);
    }
    let mut codes: Vec<GoodsCode> = ancestors.to_vec();
    if !codes.iter().any(|c| c.as_str() == req.commodity.as_str()) {
        codes.push(req.commodity);
    }
    let applicable = applicable_measures(data, &codes, &req.origin, req.date);
    calculate_applicable(req, applicable, meursing)
}

/// The calculation over the measures that apply (see [`calculate_with_meursing`]).
fn calculate_applicable(
    req: &CalcRequest,
    applicable: Vec<&Measure>,
    meursing: Option<&dyn MeursingTable>,
) -> Result<Calculation, CalcError> {
    check_additional_codes(&applicable, &req.additional_codes)?;

    let cond_ctx = ConditionContext {
        documents: &req.documents,
        unit_price: req.unit_price,
        quantities: &req.quantities,
    };
    let mut prohibitions = Vec::new();
    let mut resolved: Vec<Resolved<'_>> = Vec::new();
    for m in applicable {
        if let Some(code) = &m.additional_code {
            if !req.additional_codes.contains(code) {
                continue;
            }
        }
        let kind = measure_kind(&m.measure_type);
        let prohibit = |reason: String| Prohibition {
            measure_type_id: m.measure_type.clone(),
            measure_sid: m.sid,
            description: measure_type_description(&m.measure_type),
            reason,
        };
        if kind == MeasureKind::Prohibition && m.conditions.is_empty() {
            prohibitions.push(prohibit("unconditional prohibition".to_owned()));
            continue;
        }
        match resolve_conditions(&m.conditions, &cond_ctx).map_err(duty_err(m))? {
            Resolution::NotAllowed { reason } => prohibitions.push(prohibit(reason)),
            Resolution::NotApplicable => {}
            Resolution::Apply(components) => {
                let components = if components.is_empty() {
                    std::borrow::Cow::Borrowed(m.components.as_slice())
                } else {
                    std::borrow::Cow::Owned(components)
                };
                resolved.push(Resolved {
                    measure: m,
                    kind,
                    duty_expression: describe(&components),
                    components,
                });
            }
        }
    }

    let eval = |r: &Resolved<'_>, base: Decimal| -> Result<DutyLine, CalcError> {
        let mut ctx = EvalContext::borrowed(base, &req.quantities)
            .with_currency(CURRENCY)
            .with_rates(&req.exchange_rates);
        if let (Some(table), Some(code)) = (meursing, &req.meursing_code) {
            ctx = ctx.with_meursing(table, code);
        }
        let (amount, formula) =
            evaluate_amount(&r.components, &ctx).map_err(duty_err(r.measure))?;
        Ok(DutyLine {
            measure_type_id: r.measure.measure_type.clone(),
            measure_sid: r.measure.sid,
            description: measure_type_description_static(&r.measure.measure_type),
            duty_expression: r.duty_expression.clone(),
            formula,
            amount,
            currency: Cow::Borrowed(CURRENCY),
        })
    };

    // Lines shared by every option: stacked duties then excise, computed once.
    let mut shared = Vec::new();
    for r in resolved.iter().filter(|r| r.kind.is_stacked()) {
        shared.push(eval(r, req.customs_value)?);
    }
    for r in resolved.iter().filter(|r| r.kind == MeasureKind::Excise) {
        shared.push(eval(r, req.customs_value)?);
    }

    let mut bases: Vec<(OptionKind, &Resolved<'_>)> = resolved
        .iter()
        .filter_map(|r| OptionKind::of(r.kind).map(|k| (k, r)))
        .collect();
    bases.sort_by(|(ka, a), (kb, b)| {
        ka.cmp(kb)
            .then_with(|| a.measure.measure_type.cmp(&b.measure.measure_type))
            .then_with(|| a.measure.order_number.cmp(&b.measure.order_number))
            .then_with(|| a.measure.sid.cmp(&b.measure.sid))
    });

    // The shared lines are held once, by every option. The sums run over the lines in their
    // order, as they always have (decimal sums round past 28 digits).
    let shared: Arc<[DutyLine]> = shared.into();
    let mut options = Vec::with_capacity(bases.len());
    for (kind, r) in bases {
        let duty = eval(r, req.customs_value)?;
        let vat_base = sum(
            req.customs_value,
            std::iter::once(&duty).chain(shared.iter()),
        )?;
        let vat = resolved
            .iter()
            .filter(|r| r.kind == MeasureKind::Vat)
            .map(|v| eval(v, vat_base))
            .collect::<Result<Vec<_>, _>>()?;
        let total = sum(
            Decimal::ZERO,
            std::iter::once(&duty)
                .chain(shared.iter())
                .chain(vat.iter()),
        )?;
        options.push(DutyOption {
            kind,
            measure_type_id: r.measure.measure_type.clone(),
            measure_sid: r.measure.sid,
            geographical_area: r.measure.geographical_area.clone(),
            order_number: r.measure.order_number.clone(),
            additional_code: r.measure.additional_code.clone(),
            duty,
            shared: shared.clone(),
            vat,
            vat_base,
            total,
        });
    }
    let cheapest = options
        .iter()
        .enumerate()
        .min_by(|(ia, a), (ib, b)| a.total.cmp(&b.total).then(ia.cmp(ib)))
        .map(|(i, _)| i);
    Ok(Calculation {
        options,
        cheapest,
        prohibitions,
    })
}

/// `start` plus the lines' amounts, in order.
fn sum<'a>(
    start: Decimal,
    mut lines: impl Iterator<Item = &'a DutyLine>,
) -> Result<Decimal, CalcError> {
    lines
        .try_fold(start, |acc, l| acc.checked_add(l.amount))
        .ok_or(CalcError::Overflow)
}

/// Anti-dumping/countervailing measures carry company additional codes (with a residual
/// code such as `C999` for all other companies): when such measures apply, one of their
/// codes must be declared, per measure type.
fn check_additional_codes(applicable: &[&Measure], declared: &[String]) -> Result<(), CalcError> {
    let mut types: Vec<&str> = Vec::new();
    for m in applicable {
        if measure_kind(&m.measure_type) == MeasureKind::AntiDumping
            && m.additional_code.is_some()
            && !types.contains(&m.measure_type.as_str())
        {
            types.push(&m.measure_type);
        }
    }
    for t in types {
        let mut codes = applicable
            .iter()
            .filter(|m| m.measure_type == t)
            .filter_map(|m| m.additional_code.as_deref());
        if codes.any(|c| declared.iter().any(|d| d == c)) {
            continue;
        }
        // Only the error lists them.
        let mut codes: Vec<String> = applicable
            .iter()
            .filter(|m| m.measure_type == t)
            .filter_map(|m| m.additional_code.clone())
            .collect();
        codes.sort();
        codes.dedup();
        return Err(CalcError::AdditionalCodeRequired {
            measure_type_id: t.to_owned(),
            codes,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::OptionKind;

    #[test]
    fn option_kind_as_str_is_its_serialized_name() {
        for k in [
            OptionKind::ThirdCountry,
            OptionKind::Suspension,
            OptionKind::Preference,
            OptionKind::Quota,
        ] {
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::Value::String(k.as_str().to_owned())
            );
        }
    }
}
