//! Readable duty expression text, as printed by the UK tariff.

use super::expressions::{duty_expression, Role};
use super::model::MeasureComponent;
use super::units::{fmt_decimal, qualifier_abbreviation, unit_abbreviation};

/// Components in TARIC application order: ascending duty expression id (stable for
/// equal ids).
pub(crate) fn in_taric_order(components: &[MeasureComponent]) -> Vec<&MeasureComponent> {
    let mut sorted: Vec<&MeasureComponent> = components.iter().collect();
    sorted.sort_by(|a, b| a.duty_expression_id.cmp(&b.duty_expression_id));
    sorted
}

/// `"12.80 %"`, `"176.80 EUR / 100 kg"`, `"1.00 EUR / % vol/hl"`,
/// `"10.00 EUR / 1000 kg / of biodiesel content"`, `"5.00 EUR"`.
fn amount_text(c: &MeasureComponent) -> String {
    let Some(amount) = c.amount else {
        return String::new();
    };
    let mut out = fmt_decimal(amount, 2, false);
    match &c.monetary_unit {
        None => out.push_str(" %"),
        Some(currency) => {
            out.push(' ');
            out.push_str(currency);
            if let Some(unit) = &c.measurement_unit {
                out.push_str(" / ");
                out.push_str(unit_abbreviation(unit));
                if let Some(q) = &c.qualifier {
                    out.push_str(" / ");
                    out.push_str(qualifier_abbreviation(q));
                }
            }
        }
    }
    out
}

fn component_text(c: &MeasureComponent) -> String {
    let Some(expr) = duty_expression(&c.duty_expression_id) else {
        return format!("[{}?]", c.duty_expression_id);
    };
    let prefixed = |body: String| {
        if expr.prefix.is_empty() {
            body
        } else if body.is_empty() {
            expr.prefix.to_owned()
        } else {
            format!("{} {body}", expr.prefix)
        }
    };
    match expr.role {
        Role::SupplementaryUnit => {
            let unit = c
                .measurement_unit
                .as_deref()
                .map(unit_abbreviation)
                .unwrap_or("");
            match &c.qualifier {
                Some(q) => format!("{unit} / {}", qualifier_abbreviation(q)),
                None => unit.to_owned(),
            }
        }
        Role::SubtractCif => format!("{} CIF", prefixed(amount_text(c))),
        Role::ExportRefund => match amount_text(c) {
            amount if amount.is_empty() => expr.description.to_owned(),
            amount => format!("{}: {amount}", expr.description),
        },
        _ => prefixed(amount_text(c)),
    }
}

/// Readable duty expression text of a measure's components, in TARIC order, e.g.
/// `"12.80 % + 176.80 EUR / 100 kg MIN 22.00 EUR / 100 kg MAX 35.00 %"`.
///
/// Amounts keep at least two decimals (`12.8` → `"12.80"`, `0.035` → `"0.035"`); units use
/// the UK tariff abbreviations (`DTN` → `100 kg`, `TNE` → `1000 kg`, `HLT` → `hl`,
/// `ASV` → `% vol/hl`); agricultural components and additional duties show their
/// prefix (`+ AC`, `+ SD`, `+ FD`, `+ 2 % SD`, ...); levies and variable components show
/// theirs (`LEVY`, `+ Levy`, `+ VC`, ...) with their amount when they carry one; export
/// refunds show their description; 37 shows `NIHIL`; 99 shows the supplementary unit.
/// Unknown expression ids show as `[id?]`. Never fails.
pub fn describe(components: &[MeasureComponent]) -> String {
    in_taric_order(components)
        .into_iter()
        .map(component_text)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
