//! Readable duty expression text, as printed by the UK tariff.

use super::expressions::{duty_expression, Role};
use super::model::MeasureComponent;
use super::units::{push_decimal, qualifier_abbreviation, unit_abbreviation};

/// Components in TARIC application order: ascending duty expression id (stable for
/// equal ids).
pub(crate) fn in_taric_order(components: &[MeasureComponent]) -> Vec<&MeasureComponent> {
    let mut sorted: Vec<&MeasureComponent> = components.iter().collect();
    sorted.sort_by(|a, b| a.duty_expression_id.cmp(&b.duty_expression_id));
    sorted
}

/// `"12.80 %"`, `"176.80 EUR / 100 kg"`, `"1.00 EUR / % vol/hl"`,
/// `"10.00 EUR / 1000 kg / of biodiesel content"`, `"5.00 EUR"`, appended to `out`;
/// nothing without an amount.
fn push_amount_text(out: &mut String, c: &MeasureComponent) {
    let Some(amount) = c.amount else {
        return;
    };
    push_decimal(out, amount, 2, false);
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
}

/// One component's text, appended to `out` (possibly nothing).
fn push_component_text(out: &mut String, c: &MeasureComponent) {
    let Some(expr) = duty_expression(&c.duty_expression_id) else {
        out.push('[');
        out.push_str(&c.duty_expression_id);
        out.push_str("?]");
        return;
    };
    // The prefix, a space when an amount follows, and the amount.
    let prefixed = |out: &mut String| {
        out.push_str(expr.prefix);
        if !expr.prefix.is_empty() && c.amount.is_some() {
            out.push(' ');
        }
        push_amount_text(out, c);
    };
    match expr.role {
        Role::SupplementaryUnit => {
            if let Some(unit) = c.measurement_unit.as_deref() {
                out.push_str(unit_abbreviation(unit));
            }
            if let Some(q) = &c.qualifier {
                out.push_str(" / ");
                out.push_str(qualifier_abbreviation(q));
            }
        }
        Role::SubtractCif => {
            prefixed(out);
            out.push_str(" CIF");
        }
        Role::ExportRefund => {
            out.push_str(expr.description);
            if c.amount.is_some() {
                out.push_str(": ");
                push_amount_text(out, c);
            }
        }
        _ => prefixed(out),
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
    // One buffer; the components are sorted into a copy only when they are out of order.
    let mut out = String::with_capacity(24 * components.len());
    let mut push = |c: &MeasureComponent| {
        let before = out.len();
        if before > 0 {
            out.push(' ');
        }
        let start = out.len();
        push_component_text(&mut out, c);
        if out.len() == start {
            out.truncate(before);
        }
    };
    let in_order = components.windows(2).all(|w| {
        w.first().map(|a| &a.duty_expression_id) <= w.get(1).map(|b| &b.duty_expression_id)
    });
    if in_order {
        components.iter().for_each(&mut push);
    } else {
        in_taric_order(components).into_iter().for_each(&mut push);
    }
    out
}
