//! Which measures apply to a commodity, an origin and a date, and the ME32 / ME66
//! business rules.

use chrono::NaiveDate;

use super::model::{Measure, TariffData, ERGA_OMNES};
use crate::nomenclature::GoodsCode;

/// Whether `measure` applies to `origin` on `date` (goods code not checked):
///
/// - valid on the date, with the regulation's end date when the measure has none;
/// - the origin is the measure's area, or a member of that group on the date (erga omnes
///   `"1011"` covers every origin);
/// - the origin is not excluded (excluding a group excludes its members on the date).
pub fn applies_to_origin(
    data: &TariffData,
    measure: &Measure,
    origin: &str,
    date: NaiveDate,
) -> bool {
    // The area first: most measures on a busy commodity are for other origins, and for a
    // country or erga omnes the check is a string comparison.
    data.area_covers(&measure.geographical_area, origin, date)
        && data.effective_validity(measure).contains(date)
        && !measure
            .excluded_areas
            .iter()
            .any(|ex| data.area_covers(ex, origin, date))
}

/// The measures applying to a commodity from `origin` on `date`.
///
/// `nomenclature_ancestors` is the commodity and its ancestors (e.g. the commodity's code
/// followed by `Nomenclature::ancestors`); a measure applies to its goods code and every
/// descendant, so it applies when its goods code is one of these. Codes are compared by
/// their 10 digits (a measure on an intermediate line's digits covers that line).
/// The origin and date rules are those of [`applies_to_origin`]. The result is ordered by
/// measure type id, then SID.
pub fn applicable_measures<'a>(
    data: &'a TariffData,
    nomenclature_ancestors: &[GoodsCode],
    origin: &str,
    date: NaiveDate,
) -> Vec<&'a Measure> {
    let mut digits: Vec<&str> = nomenclature_ancestors
        .iter()
        .map(GoodsCode::as_str)
        .collect();
    digits.sort_unstable();
    digits.dedup();
    let mut out: Vec<&Measure> = Vec::new();
    for d in digits {
        out.extend(
            data.measures_on_digits(d)
                .filter(|m| applies_to_origin(data, m, origin, date)),
        );
    }
    out.sort_by(|a, b| a.measure_type.cmp(&b.measure_type).then(a.sid.cmp(&b.sid)));
    out.dedup_by_key(|m| m.sid);
    out
}

/// Whether one goods code is the other or one of its descendants, judged by the codes'
/// significant digits (`0702000000` covers `0702001000`). A prefix approximation of the
/// nomenclature hierarchy, good enough for rule checks on measures alone.
fn in_hierarchy(a: &GoodsCode, b: &GoodsCode) -> bool {
    let (sa, sb) = (a.significant(), b.significant());
    sa.starts_with(sb) || sb.starts_with(sa)
}

/// TARIC rule ME32: no two measures of the same type, geographical area, additional code
/// and order number may overlap in time on the same goods code or on codes in the same
/// hierarchy (a code and its descendants, see the prefix rule above).
///
/// Validity is each measure's own (the regulation's implicit end date is not applied:
/// an open-ended measure overlaps everything after its start). National measures are
/// checked like the others. Returns each offending pair once, lower SID first, sorted.
pub fn me32_overlaps(measures: &[Measure]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for (i, a) in measures.iter().enumerate() {
        for b in &measures[i + 1..] {
            let same_key = a.measure_type == b.measure_type
                && a.geographical_area == b.geographical_area
                && a.additional_code == b.additional_code
                && a.order_number == b.order_number;
            if same_key
                && a.sid != b.sid
                && in_hierarchy(&a.goods_code, &b.goods_code)
                && a.validity.overlaps(&b.validity)
            {
                out.push((a.sid.min(b.sid), a.sid.max(b.sid)));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// TARIC rule ME66: every excluded area must be a member of the measure's geographical
/// area group on `date` (every area is a member of erga omnes `"1011"`). A measure
/// without exclusions passes; a measure on a country or region with exclusions fails
/// (a country has no members).
pub fn me66_exclusion_is_member(measure: &Measure, data: &TariffData, date: NaiveDate) -> bool {
    measure.excluded_areas.iter().all(|ex| {
        (measure.geographical_area == ERGA_OMNES && ex != ERGA_OMNES)
            || data.is_member(&measure.geographical_area, ex, date)
    })
}

/// TARIC measure type of a supplementary unit (any movement of the goods).
pub const SUPPLEMENTARY_UNIT: &str = "109";
/// TARIC measure type of a supplementary unit on import.
pub const SUPPLEMENTARY_UNIT_IMPORT: &str = "110";

/// The supplementary unit of a commodity on `date`, read from its measures of type 109
/// (supplementary unit) and 110 (supplementary unit on import), as TARIC carries it: the
/// unit (and qualifier) of the measure's component, shown as its abbreviation (`NAR` →
/// `"p/st"`, `LPA` → `"l alc. 100%"`). An import measure (110) wins over a general one (109),
/// and a measure on the commodity's own code over one on an ancestor. With an origin, the
/// measure must apply to it (see [`applies_to_origin`]); without one, it must be erga omnes.
/// `None` when no such measure is valid on the date.
pub fn supplementary_unit(
    data: &TariffData,
    nomenclature_ancestors: &[GoodsCode],
    origin: Option<&str>,
    date: NaiveDate,
) -> Option<String> {
    let depth = |m: &Measure| m.goods_code.significant().len();
    nomenclature_ancestors
        .iter()
        .flat_map(|code| data.measures_on(code))
        .filter(|m| {
            m.measure_type == SUPPLEMENTARY_UNIT || m.measure_type == SUPPLEMENTARY_UNIT_IMPORT
        })
        .filter(|m| match origin {
            Some(o) => applies_to_origin(data, m, o, date),
            None => m.geographical_area == ERGA_OMNES && data.effective_validity(m).contains(date),
        })
        .filter_map(|m| {
            let c = m.components.iter().find(|c| c.measurement_unit.is_some())?;
            let unit = c.measurement_unit.as_deref()?;
            Some((m, unit, c.qualifier.as_deref()))
        })
        .max_by_key(|(m, _, _)| {
            (
                m.measure_type == SUPPLEMENTARY_UNIT_IMPORT,
                depth(m),
                std::cmp::Reverse(m.sid),
            )
        })
        .map(|(_, unit, qualifier)| {
            let unit = crate::duty::unit_abbreviation(unit);
            match qualifier {
                Some(q) => format!("{unit} {}", crate::duty::qualifier_abbreviation(q)),
                None => unit.to_owned(),
            }
        })
}
