//! [`plan`]: what a draft does to the measures, and [`validate`]: the TARIC business rules
//! (and the national layer's own rules) a draft must pass.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::Serialize;

use super::draft::{DraftOp, MeasureSpec};
use crate::duty::{
    action_effect, duty_expression, qualifier_abbreviation, unit_abbreviation, validate_component,
    Applicability, DutyError, MeasureComponent,
};
use crate::measures::{
    me32_overlaps, me66_exclusion_is_member, measure_type, AreaKind, Measure, MeasureKind,
    TariffData, Validity, CURRENCY, ERGA_OMNES,
};
use crate::nomenclature::{GoodsCode, Nomenclature};

/// The common (numeric) measure types an administration may use in its national layer:
/// VAT, excise and import and export prohibitions. Every national type (an alphabetic id
/// such as `"VTS"`, known to [`crate::measures::measure_type`]) is allowed too.
pub const NATIONAL_LAYER_TYPES: &[&str] = &["305", "306", "277", "278"];

/// One violated rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleViolation {
    /// The rule: a TARIC business rule id (`"ME32"`) or a national layer rule (`"NAT1"`…,
    /// see the module docs).
    pub rule: &'static str,
    /// JSON pointer of the offending draft field, e.g. `/components/0/amount`.
    pub pointer: String,
    /// What is wrong, without the rule id.
    pub message: String,
}

impl RuleViolation {
    fn new(rule: &'static str, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            rule,
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for RuleViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.rule, self.message)
    }
}

/// One change to the measures of a national layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeasureChange {
    /// A new measure (a new SID).
    Create(Measure),
    /// A new version of an existing measure with new content (same SID): its child records
    /// (components, conditions, exclusions, footnotes) are replaced.
    Replace(Measure),
    /// A new version of an existing measure with only its end date set.
    SetEnd {
        /// The measure.
        sid: u64,
        /// Its last day.
        end: NaiveDate,
    },
    /// Remove the measure and its child records.
    Remove(u64),
}

impl MeasureChange {
    /// The SID of the measure changed.
    pub fn sid(&self) -> u64 {
        match self {
            Self::Create(m) | Self::Replace(m) => m.sid,
            Self::SetEnd { sid, .. } | Self::Remove(sid) => *sid,
        }
    }
}

/// The measure of `spec`, its lists in the order `layer::build` gives them (components by
/// duty expression, conditions by code and sequence, exclusions and footnotes sorted).
fn measure_from(spec: &MeasureSpec, sid: u64) -> Measure {
    let mut m = Measure {
        sid,
        measure_type: spec.measure_type.clone(),
        goods_code: spec.goods_code,
        geographical_area: spec.geographical_area.clone(),
        excluded_areas: spec.excluded_areas.clone(),
        additional_code: spec.additional_code.clone(),
        order_number: spec.order_number.clone(),
        regulation: Some(spec.regulation.clone()),
        validity: spec.validity,
        components: spec.components.clone(),
        conditions: spec.conditions.clone(),
        footnotes: spec.footnotes.clone(),
        national: true,
    };
    m.components
        .sort_by(|a, b| a.duty_expression_id.cmp(&b.duty_expression_id));
    m.conditions
        .sort_by(|a, b| a.code.cmp(&b.code).then(a.sequence.cmp(&b.sequence)));
    m.excluded_areas.sort();
    m.footnotes.sort();
    m
}

/// The existing national measure `sid`, or a NAT2 violation.
fn national(data: &TariffData, sid: u64) -> Result<&Measure, RuleViolation> {
    data.measures
        .iter()
        .find(|m| m.sid == sid && m.national)
        .ok_or_else(|| {
            RuleViolation::new(
                "NAT2",
                "/measure_sid",
                format!("measure {sid} is not a national measure of this administration"),
            )
        })
}

/// What `op` does to the measures, decided `as_of` (the day of the decision):
///
/// - create: a new measure with SID `next_sid()`;
/// - modify a measure not yet in force on `as_of`: replaced in place (same SID);
/// - modify a measure in force: the old one ends the day before the new version starts, the
///   new version is a new measure (`next_sid()`); its start must be after the old start
///   (NAT4), so that past dates keep the old content;
/// - end: the end date set (ME25: not before the start);
/// - delete: removed, only when not yet in force on `as_of` (NAT3).
///
/// `next_sid` is called once per new measure. Errors are rule violations about the target
/// measure; the content is checked by [`validate`].
pub fn plan(
    op: &DraftOp,
    data: &TariffData,
    as_of: NaiveDate,
    next_sid: &mut dyn FnMut() -> u64,
) -> Result<Vec<MeasureChange>, RuleViolation> {
    match op {
        DraftOp::Create(spec) => Ok(vec![MeasureChange::Create(measure_from(spec, next_sid()))]),
        DraftOp::Modify { sid, spec } => {
            let old = national(data, *sid)?;
            if old.validity.start > as_of {
                return Ok(vec![MeasureChange::Replace(measure_from(spec, *sid))]);
            }
            let new_start = spec.validity.start;
            let Some(old_end) = new_start
                .pred_opt()
                .filter(|_| new_start > old.validity.start)
            else {
                return Err(RuleViolation::new(
                    "NAT4",
                    "/validity/start",
                    format!(
                        "measure {sid} is in force since {}: a new version must start after that day, so that the measure stays as it was before",
                        old.validity.start
                    ),
                ));
            };
            if old.validity.end.is_some_and(|e| e < new_start) {
                return Err(RuleViolation::new(
                    "NAT4",
                    "/validity/start",
                    format!(
                        "measure {sid} ends on {}, before the new version would start",
                        old.validity.end.map(|e| e.to_string()).unwrap_or_default()
                    ),
                ));
            }
            Ok(vec![
                MeasureChange::SetEnd {
                    sid: *sid,
                    end: old_end,
                },
                MeasureChange::Create(measure_from(spec, next_sid())),
            ])
        }
        DraftOp::End { sid, end } => {
            let old = national(data, *sid)?;
            if *end < old.validity.start {
                return Err(RuleViolation::new(
                    "ME25",
                    "/validity/end",
                    format!(
                        "the end date {end} is before the measure's start date {}",
                        old.validity.start
                    ),
                ));
            }
            Ok(vec![MeasureChange::SetEnd {
                sid: *sid,
                end: *end,
            }])
        }
        DraftOp::Delete { sid } => {
            let old = national(data, *sid)?;
            if old.validity.start <= as_of {
                return Err(RuleViolation::new(
                    "NAT3",
                    "/measure_sid",
                    format!(
                        "measure {sid} is in force since {}: only a measure not yet in force can be deleted; end it instead",
                        old.validity.start
                    ),
                ));
            }
            Ok(vec![MeasureChange::Remove(*sid)])
        }
    }
}

/// Validates a draft against the tariff it would change (the administration's integrated
/// tariff: common and national layers) on `as_of`, the day of the decision. Returns every
/// violation (empty: valid). The rules:
///
/// | rule | checks | pointer |
/// |---|---|---|
/// | NAT1 | the type is national (alphabetic) or one of [`NATIONAL_LAYER_TYPES`] | `/measure_type` |
/// | ME2 | the measure type exists | `/measure_type` |
/// | ME4, ME5 | the area exists, and exists for the whole validity | `/geographical_area` |
/// | ME6, ME7, ME8 | the goods code exists, is a product line (suffix 80), and exists for the whole validity | `/goods_code` |
/// | ME25 | start ≤ end | `/validity/end` |
/// | ME32 | no overlap with a measure of the same type, area, additional code and order number on the code or its hierarchy | `/validity/start` |
/// | ME40 | duty types (VAT, excise, duties) have components; prohibitions none | `/components` |
/// | ME41, ME43 | the duty expression exists, and once per measure | `/components/N/duty_expression_id` |
/// | ME45, ME46, ME47 | amount, monetary unit, measurement unit mandatory or not permitted per expression | `/components/N/amount` … |
/// | ME48, ME50 | the monetary unit and the measurement unit (and qualifier) exist | `/components/N/…` |
/// | NAT5 | amounts are in EUR, the currency of the tariff (converted on calculation) | `/components/N/monetary_unit` |
/// | ME59 | the condition's action code exists | `/conditions/N/action` |
/// | ME58 | the same document or threshold only once per condition code | `/conditions/N` |
/// | ME105, ME108, ME109–ME111 | condition components as ME41, ME43, ME45–ME47 | `/conditions/N/components/M/…` |
/// | ME65, ME66, ME68 | exclusions only from a group, of its members (on the start date), each once | `/excluded_areas/N` |
/// | ME67 | an excluded area is a member of the group for the whole (effective) validity | `/excluded_areas/N` |
/// | ME87 | the (effective) validity is within that of the measure's regulation, when the tariff holds it | `/validity` |
/// | ME70 | the same footnote only once | `/footnotes/N` |
/// | NAT2 | a modified, ended or deleted measure is a national measure of this administration | `/measure_sid` |
/// | NAT3 | only a measure not yet in force can be deleted | `/measure_sid` |
/// | NAT4 | a new version of a measure in force starts after the old start | `/validity/start` |
pub fn validate(
    op: &DraftOp,
    data: &TariffData,
    nomenclature: &Nomenclature,
    as_of: NaiveDate,
) -> Vec<RuleViolation> {
    let mut out = Vec::new();
    if let Some(spec) = op.spec() {
        check_spec(spec, data, nomenclature, &mut out);
    }
    // Provisional SIDs, above every real one, for the overlap check.
    let mut provisional = u64::MAX;
    let mut next = || {
        provisional -= 1;
        provisional
    };
    let changes = match plan(op, data, as_of, &mut next) {
        Ok(c) => c,
        Err(v) => {
            out.push(v);
            return out;
        }
    };
    // ME32 over the measures as they would be.
    let touched: BTreeSet<u64> = changes.iter().map(MeasureChange::sid).collect();
    let mut written: Vec<Measure> = Vec::new();
    for c in &changes {
        match c {
            MeasureChange::Create(m) | MeasureChange::Replace(m) => written.push(m.clone()),
            MeasureChange::SetEnd { sid, end } => {
                if let Some(old) = data.measures.iter().find(|m| m.sid == *sid) {
                    let mut m = old.clone();
                    m.validity.end = Some(*end);
                    written.push(m);
                }
            }
            MeasureChange::Remove(_) => {}
        }
    }
    for m in &written {
        let mut candidates: Vec<Measure> = vec![m.clone()];
        candidates.extend(
            data.measures
                .iter()
                .filter(|o| !touched.contains(&o.sid))
                .filter(|o| {
                    o.measure_type == m.measure_type
                        && o.geographical_area == m.geographical_area
                        && o.additional_code == m.additional_code
                        && o.order_number == m.order_number
                })
                .map(|o| {
                    let mut o = o.clone();
                    o.validity = o.effective_validity(&data.regulations);
                    o
                }),
        );
        let clashes: Vec<u64> = me32_overlaps(&candidates)
            .into_iter()
            .filter_map(|(a, b)| {
                if a == m.sid {
                    Some(b)
                } else if b == m.sid {
                    Some(a)
                } else {
                    None
                }
            })
            .collect();
        if !clashes.is_empty() {
            let list: Vec<String> = clashes.iter().map(u64::to_string).collect();
            out.push(RuleViolation::new(
                "ME32",
                "/validity/start",
                format!(
                    "overlaps in time with measure {} of the same type {}, area {}, additional code and order number on {} or a code in its hierarchy",
                    list.join(", "),
                    m.measure_type,
                    m.geographical_area,
                    m.goods_code
                ),
            ));
        }
    }
    out
}

fn is_national_type(id: &str) -> bool {
    id.len() == 3 && id.bytes().all(|b| b.is_ascii_uppercase())
}

fn describe_validity(v: Validity) -> String {
    match v.end {
        Some(e) => format!("{} to {e}", v.start),
        None => format!("from {}", v.start),
    }
}

fn spans(outer: Validity, inner: Validity) -> bool {
    outer.start <= inner.start
        && match (outer.end, inner.end) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(o), Some(i)) => i <= o,
        }
}

/// Whether the periods together cover `inner` without a gap.
fn covers(mut periods: Vec<Validity>, inner: Validity) -> bool {
    periods.sort_by_key(|p| p.start);
    // The first day of `inner` not yet covered.
    let mut from = inner.start;
    for p in periods {
        if p.start > from {
            break;
        }
        match p.end {
            None => return true,
            Some(e) if e >= from => {
                if inner.end.is_some_and(|ie| e >= ie) {
                    return true;
                }
                match e.succ_opt() {
                    Some(next) => from = next,
                    None => return true,
                }
            }
            Some(_) => {}
        }
    }
    false
}

fn check_spec(
    spec: &MeasureSpec,
    data: &TariffData,
    nom: &Nomenclature,
    out: &mut Vec<RuleViolation>,
) {
    let v = spec.validity;
    let info = measure_type(&spec.measure_type);
    // The validity with the regulation's end when the measure has none (implicit end date).
    let regulation = data.regulations.iter().find(|r| r.id == spec.regulation);
    let effective = Validity {
        start: v.start,
        end: v.end.or(regulation.and_then(|r| r.validity.end)),
    };
    // ME87: within the validity of its regulation, when the tariff holds that regulation (a
    // national legal base without a regulation record is not checked).
    if let Some(r) = regulation {
        if !spans(r.validity, effective) {
            out.push(RuleViolation::new(
                "ME87",
                "/validity",
                format!(
                    "the measure's validity ({}) is not within that of its regulation {} ({})",
                    describe_validity(effective),
                    r.id,
                    describe_validity(r.validity)
                ),
            ));
        }
    }
    // Type.
    if is_national_type(&spec.measure_type) {
        if info.series == '?' {
            out.push(RuleViolation::new(
                "ME2",
                "/measure_type",
                format!("national measure type {} does not exist", spec.measure_type),
            ));
        }
    } else if !NATIONAL_LAYER_TYPES.contains(&spec.measure_type.as_str()) {
        out.push(RuleViolation::new(
            "NAT1",
            "/measure_type",
            format!(
                "measure type {} ({}) is not for a national layer: use a national type or one of {}",
                spec.measure_type,
                info.description,
                NATIONAL_LAYER_TYPES.join(", ")
            ),
        ));
    }
    // ME25.
    if let Some(end) = v.end {
        if end < v.start {
            out.push(RuleViolation::new(
                "ME25",
                "/validity/end",
                format!("the end date {end} is before the start date {}", v.start),
            ));
        }
    }
    // Area.
    let area = data.area(&spec.geographical_area);
    match area {
        None => out.push(RuleViolation::new(
            "ME4",
            "/geographical_area",
            format!("geographical area {} does not exist", spec.geographical_area),
        )),
        Some(a) if !spans(a.validity, v) => out.push(RuleViolation::new(
            "ME5",
            "/geographical_area",
            format!(
                "geographical area {} is valid from {}{}, not for the whole validity of the measure",
                a.id,
                a.validity.start,
                a.validity.end.map(|e| format!(" to {e}")).unwrap_or_default()
            ),
        )),
        Some(_) => {}
    }
    // Goods code.
    check_goods_code(spec.goods_code, v, nom, out);
    // Exclusions.
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (i, ex) in spec.excluded_areas.iter().enumerate() {
        let at = format!("/excluded_areas/{i}");
        if !seen.insert(ex.as_str()) {
            out.push(RuleViolation::new(
                "ME68",
                at,
                format!("area {ex} is excluded more than once"),
            ));
            continue;
        }
        if data.area(ex).is_none() {
            out.push(RuleViolation::new(
                "ME4",
                at,
                format!("geographical area {ex} does not exist"),
            ));
            continue;
        }
        if area.is_some_and(|a| a.kind != AreaKind::Group) {
            out.push(RuleViolation::new(
                "ME65",
                at,
                format!(
                    "an exclusion needs a group area; {} is not a group",
                    spec.geographical_area
                ),
            ));
            continue;
        }
        let probe = Measure {
            excluded_areas: vec![ex.clone()],
            ..measure_from(spec, 0)
        };
        if area.is_some() && !me66_exclusion_is_member(&probe, data, v.start) {
            out.push(RuleViolation::new(
                "ME66",
                at,
                format!(
                    "area {ex} is not a member of group {} on {}",
                    spec.geographical_area, v.start
                ),
            ));
            continue;
        }
        // ME67: a member for the whole validity, not only on the first day (erga omnes
        // has every area as a member without membership records).
        if area.is_some() && spec.geographical_area != ERGA_OMNES {
            let periods: Vec<Validity> = data
                .memberships
                .iter()
                .filter(|m| m.group == spec.geographical_area && m.member == *ex)
                .map(|m| m.validity)
                .collect();
            if !covers(periods, effective) {
                out.push(RuleViolation::new(
                    "ME67",
                    at,
                    format!(
                        "area {ex} is not a member of group {} for the whole validity of the measure ({})",
                        spec.geographical_area,
                        describe_validity(effective)
                    ),
                ));
            }
        }
    }
    // ME40.
    let has_components =
        !spec.components.is_empty() || spec.conditions.iter().any(|c| !c.components.is_empty());
    match info.kind {
        MeasureKind::Prohibition if !spec.components.is_empty() => out.push(RuleViolation::new(
            "ME40",
            "/components",
            format!(
                "a {} measure has no duty components",
                info.description.to_lowercase()
            ),
        )),
        MeasureKind::Vat
        | MeasureKind::Excise
        | MeasureKind::ThirdCountry
        | MeasureKind::Preference
        | MeasureKind::Suspension
        | MeasureKind::Quota
        | MeasureKind::AntiDumping
        | MeasureKind::AdditionalDuty
            if !has_components =>
        {
            out.push(RuleViolation::new(
                "ME40",
                "/components",
                format!(
                    "a {} measure needs at least one duty component",
                    info.description.to_lowercase()
                ),
            ))
        }
        _ => {}
    }
    check_components(&spec.components, "/components", false, out);
    // Conditions.
    let mut keys: BTreeSet<String> = BTreeSet::new();
    for (i, c) in spec.conditions.iter().enumerate() {
        let at = format!("/conditions/{i}");
        if action_effect(&c.action).is_err() {
            out.push(RuleViolation::new(
                "ME59",
                format!("{at}/action"),
                format!(
                    "action code {} does not exist or is not supported",
                    c.action
                ),
            ));
        }
        if c.certificate.is_some() || c.threshold.is_some() {
            let key = format!("{}|{:?}|{:?}", c.code, c.certificate, c.threshold);
            if !keys.insert(key) {
                out.push(RuleViolation::new(
                    "ME58",
                    at.clone(),
                    format!(
                        "the same document or threshold is referenced twice under condition {}",
                        c.code
                    ),
                ));
            }
        }
        check_components(&c.components, &format!("{at}/components"), true, out);
    }
    // Footnotes.
    let mut notes: BTreeSet<&str> = BTreeSet::new();
    for (i, f) in spec.footnotes.iter().enumerate() {
        if !notes.insert(f.as_str()) {
            out.push(RuleViolation::new(
                "ME70",
                format!("/footnotes/{i}"),
                format!("footnote {f} is associated more than once"),
            ));
        }
    }
}

fn check_goods_code(
    code: GoodsCode,
    v: Validity,
    nom: &Nomenclature,
    out: &mut Vec<RuleViolation>,
) {
    let same_digits: Vec<_> = nom
        .lookup_prefix(code.as_str())
        .iter()
        .filter(|it| it.code.as_str() == code.as_str())
        .collect();
    if same_digits.is_empty() {
        out.push(RuleViolation::new(
            "ME6",
            "/goods_code",
            format!("goods code {code} does not exist in the nomenclature"),
        ));
        return;
    }
    let lines: Vec<_> = same_digits
        .iter()
        .filter(|it| it.code.suffix() == code.suffix())
        .collect();
    if lines.is_empty() || !code.has_declarable_suffix() {
        out.push(RuleViolation::new(
            "ME7",
            "/goods_code",
            format!("{code:#} is not a product line (suffix 80) of the nomenclature"),
        ));
        return;
    }
    let periods: Vec<Validity> = lines
        .iter()
        .map(|it| Validity {
            start: it.valid_from.unwrap_or(NaiveDate::MIN),
            end: it.valid_to,
        })
        .collect();
    if !covers(periods.clone(), v) {
        let shown: Vec<String> = periods
            .iter()
            .map(|p| {
                format!(
                    "{}{}",
                    if p.start == NaiveDate::MIN {
                        "always".to_owned()
                    } else {
                        format!("from {}", p.start)
                    },
                    p.end.map(|e| format!(" to {e}")).unwrap_or_default()
                )
            })
            .collect();
        out.push(RuleViolation::new(
            "ME8",
            "/goods_code",
            format!(
                "goods code {code} is valid {}, not for the whole validity of the measure",
                shown.join(", ")
            ),
        ));
    }
}

/// The rule ids for measure components (`false`) or condition components (`true`).
struct ComponentRules {
    exists: &'static str,
    once: &'static str,
    amount: &'static str,
    monetary: &'static str,
    measurement: &'static str,
}

const MEASURE_COMPONENT_RULES: ComponentRules = ComponentRules {
    exists: "ME41",
    once: "ME43",
    amount: "ME45",
    monetary: "ME46",
    measurement: "ME47",
};

const CONDITION_COMPONENT_RULES: ComponentRules = ComponentRules {
    exists: "ME105",
    once: "ME108",
    amount: "ME109",
    monetary: "ME110",
    measurement: "ME111",
};

fn applicability_violation(
    rule: &'static str,
    pointer: String,
    what: &str,
    id: &str,
    flag: Applicability,
    present: bool,
    out: &mut Vec<RuleViolation>,
) -> bool {
    let msg = match (flag, present) {
        (Applicability::Mandatory, false) => format!("duty expression {id} requires {what}"),
        (Applicability::NotPermitted, true) => {
            format!("duty expression {id} does not permit {what}")
        }
        _ => return false,
    };
    out.push(RuleViolation::new(rule, pointer, msg));
    true
}

fn check_components(
    components: &[MeasureComponent],
    base: &str,
    in_condition: bool,
    out: &mut Vec<RuleViolation>,
) {
    let rules = if in_condition {
        CONDITION_COMPONENT_RULES
    } else {
        MEASURE_COMPONENT_RULES
    };
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (i, c) in components.iter().enumerate() {
        let at = format!("{base}/{i}");
        let id = c.duty_expression_id.as_str();
        let Some(expr) = duty_expression(id) else {
            out.push(RuleViolation::new(
                rules.exists,
                format!("{at}/duty_expression_id"),
                format!("duty expression {id} does not exist"),
            ));
            continue;
        };
        if !seen.insert(id) {
            out.push(RuleViolation::new(
                rules.once,
                format!("{at}/duty_expression_id"),
                format!("duty expression {id} is used more than once"),
            ));
        }
        let before = out.len();
        applicability_violation(
            rules.amount,
            format!("{at}/amount"),
            "an amount",
            id,
            expr.amount,
            c.amount.is_some(),
            out,
        );
        applicability_violation(
            rules.monetary,
            format!("{at}/monetary_unit"),
            "a monetary unit",
            id,
            expr.monetary_unit,
            c.monetary_unit.is_some(),
            out,
        );
        applicability_violation(
            rules.measurement,
            format!("{at}/measurement_unit"),
            "a measurement unit",
            id,
            expr.measurement_unit,
            c.measurement_unit.is_some(),
            out,
        );
        if let Some(m) = &c.monetary_unit {
            if m.parse::<portorium_kernel::CurrencyCode>().is_err() {
                out.push(RuleViolation::new(
                    "ME48",
                    format!("{at}/monetary_unit"),
                    format!("monetary unit {m} does not exist"),
                ));
            } else if m != CURRENCY {
                out.push(RuleViolation::new(
                    "NAT5",
                    format!("{at}/monetary_unit"),
                    format!("amounts are in {CURRENCY}, the currency of the tariff (converted to the national currency on calculation), not {m}"),
                ));
            }
        }
        if let Some(u) = &c.measurement_unit {
            if unit_abbreviation(u) == u {
                out.push(RuleViolation::new(
                    "ME50",
                    format!("{at}/measurement_unit"),
                    format!("measurement unit {u} does not exist"),
                ));
            }
        }
        if let Some(q) = &c.qualifier {
            if qualifier_abbreviation(q) == q {
                out.push(RuleViolation::new(
                    "ME50",
                    format!("{at}/qualifier"),
                    format!("measurement unit qualifier {q} does not exist"),
                ));
            }
        }
        if out.len() > before {
            continue;
        }
        // The engine's own consistency checks (negative amounts, a unit without an
        // amount, a qualifier without a unit).
        if let Err(e) = validate_component(c) {
            let (rule, field) = match &e {
                DutyError::MonetaryUnitWithoutAmount { .. }
                | DutyError::MonetaryUnitNotPermitted { .. } => (rules.monetary, "monetary_unit"),
                DutyError::MeasurementUnitWithoutMonetaryUnit { .. }
                | DutyError::MeasurementUnitRequired { .. }
                | DutyError::MeasurementUnitNotPermitted { .. } => {
                    (rules.measurement, "measurement_unit")
                }
                DutyError::QualifierWithoutUnit { .. } => ("ME50", "qualifier"),
                _ => (rules.amount, "amount"),
            };
            out.push(RuleViolation::new(
                rule,
                format!("{at}/{field}"),
                e.to_string(),
            ));
        }
    }
}
