//! [`layer_changes`]: measure changes as the layer records [`crate::layer::build`] reads,
//! made as TARIC3 records and converted by [`crate::layer::changes_from_envelope`], so that a
//! national measure is stored exactly like an imported one.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::rules::MeasureChange;
use crate::duty::MeasureComponent;
use crate::layer::{changes_from_envelope, Change, LayerError, RecordRef};
use crate::measures::Measure;
use crate::taric3::{self, Envelope, Record, RecordBody, Transaction, UpdateType};

/// The payload field marking a national layer's own measure (read by `build`).
pub const NATIONAL_FIELD: &str = "national";
/// The payload field holding a national measure's legal base text.
pub const LEGAL_BASE_FIELD: &str = "national.legal.base";

/// The measure and child record kinds, children first (the order deletions are listed in).
const CHILD_KINDS: [&str; 4] = [
    "measure.component",
    "measure.excluded.geographical.area",
    "footnote.association.measure",
    "measure.condition",
];

fn error(kind: &str, key: impl ToString, reason: impl Into<String>) -> LayerError {
    LayerError::Payload {
        kind: kind.to_owned(),
        key: key.to_string(),
        reason: reason.into(),
    }
}

fn field<'a>(r: &'a RecordRef<'_>, name: &str) -> Option<&'a str> {
    r.payload.get(name).and_then(Value::as_str).map(str::trim)
}

/// The (kind, key) of every current record of measure `sid` in `records`: the measure, its
/// components, exclusions, footnote associations, conditions and their components.
pub fn measure_record_keys(records: &[RecordRef<'_>], sid: u64) -> Vec<(String, String)> {
    let sid_text = sid.to_string();
    let mut out = Vec::new();
    let mut conditions: BTreeSet<&str> = BTreeSet::new();
    for r in records {
        if CHILD_KINDS.contains(&r.kind) && field(r, "measure.sid") == Some(sid_text.as_str()) {
            out.push((r.kind.to_owned(), r.key.to_owned()));
            if r.kind == "measure.condition" {
                if let Some(c) = field(r, "measure.condition.sid") {
                    conditions.insert(c);
                }
            }
        }
    }
    for r in records {
        if r.kind == "measure.condition.component"
            && field(r, "measure.condition.sid").is_some_and(|c| conditions.contains(c))
        {
            out.push((r.kind.to_owned(), r.key.to_owned()));
        }
    }
    if records
        .iter()
        .any(|r| r.kind == "measure" && r.key == sid_text)
    {
        out.push(("measure".to_owned(), sid_text));
    }
    out
}

fn deletion(kind: String, key: String) -> Change {
    Change {
        kind,
        key,
        valid_from: None,
        valid_to: None,
        payload: Value::Null,
        delete: true,
    }
}

fn split_code(code: &str, tail: usize) -> (String, String) {
    let at = code.len().saturating_sub(tail);
    (
        code.get(..at).unwrap_or_default().to_owned(),
        code.get(at..).unwrap_or_default().to_owned(),
    )
}

fn component_record(measure_sid: u64, c: &MeasureComponent) -> RecordBody {
    RecordBody::MeasureComponent(taric3::MeasureComponent {
        measure_sid,
        duty_expression_id: c.duty_expression_id.clone(),
        duty_amount: c.amount,
        monetary_unit_code: c.monetary_unit.clone(),
        measurement_unit_code: c.measurement_unit.clone(),
        measurement_unit_qualifier_code: c.qualifier.clone(),
    })
}

fn condition_component_record(condition_sid: u64, c: &MeasureComponent) -> RecordBody {
    RecordBody::MeasureConditionComponent(taric3::MeasureConditionComponent {
        measure_condition_sid: condition_sid,
        duty_expression_id: c.duty_expression_id.clone(),
        duty_amount: c.amount,
        monetary_unit_code: c.monetary_unit.clone(),
        measurement_unit_code: c.measurement_unit.clone(),
        measurement_unit_qualifier_code: c.qualifier.clone(),
    })
}

/// A threshold unit (`"EUR"`, `"EUR/DTN"`, `"KGM"`, `"DTNR"`) as (monetary unit,
/// measurement unit, qualifier).
fn threshold_units(unit: Option<&str>) -> (Option<String>, Option<String>, Option<String>) {
    let Some(u) = unit else {
        return (None, None, None);
    };
    if let Some((m, unit)) = u.split_once('/') {
        return (Some(m.to_owned()), Some(unit.to_owned()), None);
    }
    if u.len() == 3 && u.parse::<portorium_kernel::CurrencyCode>().is_ok() {
        return (Some(u.to_owned()), None, None);
    }
    let (unit, qualifier) = split_code(u, u.len().saturating_sub(3));
    (
        None,
        Some(unit),
        (!qualifier.is_empty()).then_some(qualifier),
    )
}

/// The TARIC3 records of a measure with all its children. Condition SIDs come from
/// `next_sid`; excluded areas need their SID in `area_sids`.
fn measure_records(
    m: &Measure,
    area_sids: &BTreeMap<String, u64>,
    next_sid: &mut dyn FnMut() -> u64,
) -> Result<Vec<RecordBody>, LayerError> {
    let (ac_type, ac_code) = match &m.additional_code {
        Some(ac) => {
            let (t, c) = split_code(ac, 3);
            (Some(t), Some(c))
        }
        None => (None, None),
    };
    let regulation = m
        .regulation
        .clone()
        .unwrap_or_else(|| super::DEFAULT_REGULATION.to_owned());
    let mut out = vec![RecordBody::Measure(taric3::Measure {
        measure_sid: m.sid,
        measure_type: m.measure_type.clone(),
        geographical_area: m.geographical_area.clone(),
        goods_nomenclature_item_id: Some(m.goods_code.as_str().to_owned()),
        additional_code_type: ac_type,
        additional_code: ac_code,
        ordernumber: m.order_number.clone(),
        reduction_indicator: None,
        validity_start_date: m.validity.start,
        measure_generating_regulation_role: "1".to_owned(),
        measure_generating_regulation_id: regulation.clone(),
        validity_end_date: m.validity.end,
        // ME34: an end date comes with a justification regulation.
        justification_regulation_role: m.validity.end.map(|_| "1".to_owned()),
        justification_regulation_id: m.validity.end.map(|_| regulation),
        stopped_flag: "0".to_owned(),
        geographical_area_sid: area_sids.get(&m.geographical_area).copied(),
        goods_nomenclature_sid: None,
        additional_code_sid: None,
        export_refund_nomenclature_sid: None,
    })];
    for c in &m.components {
        out.push(component_record(m.sid, c));
    }
    for ex in &m.excluded_areas {
        let area_sid = area_sids.get(ex).copied().ok_or_else(|| {
            error(
                "measure.excluded.geographical.area",
                format!("{}/{ex}", m.sid),
                format!("geographical area {ex} has no SID in the tariff"),
            )
        })?;
        out.push(RecordBody::MeasureExcludedGeographicalArea(
            taric3::MeasureExcludedGeographicalArea {
                measure_sid: m.sid,
                excluded_geographical_area: ex.clone(),
                geographical_area_sid: area_sid,
            },
        ));
    }
    for f in &m.footnotes {
        let (t, id) = split_code(f, 3);
        out.push(RecordBody::FootnoteAssociationMeasure(
            taric3::FootnoteAssociationMeasure {
                measure_sid: m.sid,
                footnote_type_id: t,
                footnote_id: id,
            },
        ));
    }
    for cond in &m.conditions {
        let cond_sid = next_sid();
        let (cert_type, cert_code) = match &cond.certificate {
            Some(c) => {
                let (t, code) = split_code(c, 3);
                (Some(t), Some(code))
            }
            None => (None, None),
        };
        let (amount, unit) = match &cond.threshold {
            Some((a, u)) => (Some(*a), u.as_deref()),
            None => (None, None),
        };
        let (monetary, measurement, qualifier) = threshold_units(unit);
        out.push(RecordBody::MeasureCondition(taric3::MeasureCondition {
            measure_condition_sid: cond_sid,
            measure_sid: m.sid,
            condition_code: cond.code.clone(),
            component_sequence_number: cond.sequence,
            condition_duty_amount: amount,
            condition_monetary_unit_code: monetary,
            condition_measurement_unit_code: measurement,
            condition_measurement_unit_qualifier_code: qualifier,
            action_code: Some(cond.action.clone()),
            certificate_type_code: cert_type,
            certificate_code: cert_code,
        }));
        for c in &cond.components {
            out.push(condition_component_record(cond_sid, c));
        }
    }
    Ok(out)
}

fn envelope_changes(bodies: Vec<RecordBody>) -> Result<Vec<Change>, LayerError> {
    let messages = bodies
        .into_iter()
        .zip(1u64..)
        .map(|(body, n)| {
            let (code, sub) = taric3::record_codes(body.element()).unwrap_or(("", ""));
            Record {
                message_id: n.to_string(),
                transaction_id: None,
                record_code: code.to_owned(),
                subrecord_code: sub.to_owned(),
                record_sequence_number: n,
                update_type: UpdateType::Insert,
                body,
            }
        })
        .collect();
    changes_from_envelope(&Envelope {
        id: "national".to_owned(),
        transactions: vec![Transaction {
            id: "1".to_owned(),
            messages,
        }],
    })
}

/// Marks the measure records of `changes` as national, with the legal base.
fn mark_national(changes: &mut [Change], legal_base: Option<&str>) {
    for c in changes.iter_mut().filter(|c| c.kind == "measure") {
        if let Value::Object(obj) = &mut c.payload {
            obj.insert(NATIONAL_FIELD.to_owned(), Value::Bool(true));
            if let Some(l) = legal_base {
                obj.insert(LEGAL_BASE_FIELD.to_owned(), Value::String(l.to_owned()));
            }
        }
    }
}

/// The layer changes of `changes`, against the national layer's `current` records:
///
/// - `Create`: the measure and its children as new records;
/// - `Replace`: the measure's current child records deleted, the new version written;
/// - `SetEnd`: a new version of the measure record with `validity.end.date` (and the
///   justification regulation) set;
/// - `Remove`: the measure and its children deleted.
///
/// Measure records carry `"national": true` and, when given, the legal base text
/// ([`LEGAL_BASE_FIELD`]). Condition SIDs come from `next_sid`; excluded areas need their
/// SID in `area_sids` (area id → `geographical.area.sid`).
pub fn layer_changes(
    changes: &[MeasureChange],
    current: &[RecordRef<'_>],
    area_sids: &BTreeMap<String, u64>,
    legal_base: Option<&str>,
    next_sid: &mut dyn FnMut() -> u64,
) -> Result<Vec<Change>, LayerError> {
    let mut out = Vec::new();
    for change in changes {
        match change {
            MeasureChange::Create(m) => {
                let mut c = envelope_changes(measure_records(m, area_sids, next_sid)?)?;
                mark_national(&mut c, legal_base);
                out.extend(c);
            }
            MeasureChange::Replace(m) => {
                for (kind, key) in measure_record_keys(current, m.sid) {
                    if kind != "measure" {
                        out.push(deletion(kind, key));
                    }
                }
                let mut c = envelope_changes(measure_records(m, area_sids, next_sid)?)?;
                mark_national(&mut c, legal_base);
                out.extend(c);
            }
            MeasureChange::SetEnd { sid, end } => {
                let key = sid.to_string();
                let record = current
                    .iter()
                    .find(|r| r.kind == "measure" && r.key == key)
                    .ok_or_else(|| error("measure", *sid, "not in the national layer"))?;
                let mut payload = record.payload.clone();
                let Value::Object(obj) = &mut payload else {
                    return Err(error("measure", *sid, "payload is not a JSON object"));
                };
                let date = end.format("%Y-%m-%d").to_string();
                obj.insert("validity.end.date".to_owned(), Value::String(date));
                let regulation = obj
                    .get("measure.generating.regulation.id")
                    .cloned()
                    .unwrap_or(Value::String(super::DEFAULT_REGULATION.to_owned()));
                let role = obj
                    .get("measure.generating.regulation.role")
                    .cloned()
                    .unwrap_or(Value::String("1".to_owned()));
                obj.insert("justification.regulation.id".to_owned(), regulation);
                obj.insert("justification.regulation.role".to_owned(), role);
                let valid_from = obj
                    .get("validity.start.date")
                    .and_then(Value::as_str)
                    .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
                out.push(Change {
                    kind: "measure".to_owned(),
                    key,
                    valid_from,
                    valid_to: Some(*end),
                    payload,
                    delete: false,
                });
            }
            MeasureChange::Remove(sid) => {
                for (kind, key) in measure_record_keys(current, *sid) {
                    out.push(deletion(kind, key));
                }
            }
        }
    }
    Ok(out)
}
