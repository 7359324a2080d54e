//! [`changes_from_envelope`] and [`changes_from_nomenclature`].

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::{Change, LayerError, NOMENCLATURE_ITEM};
use crate::nomenclature::NomenclatureItem;
use crate::taric3::{Envelope, RecordBody, UpdateType};

/// A typed field's text, as TARIC writes it; `None` for an absent optional field.
trait FieldText {
    fn text(&self) -> Option<String>;
}

impl FieldText for String {
    fn text(&self) -> Option<String> {
        Some(self.clone())
    }
}

impl FieldText for u64 {
    fn text(&self) -> Option<String> {
        Some(self.to_string())
    }
}

impl FieldText for u32 {
    fn text(&self) -> Option<String> {
        Some(self.to_string())
    }
}

impl FieldText for NaiveDate {
    fn text(&self) -> Option<String> {
        Some(self.format("%Y-%m-%d").to_string())
    }
}

impl FieldText for NaiveDateTime {
    fn text(&self) -> Option<String> {
        Some(self.format("%Y-%m-%dT%H:%M:%S").to_string())
    }
}

impl FieldText for Decimal {
    fn text(&self) -> Option<String> {
        Some(self.to_string())
    }
}

impl<T: FieldText> FieldText for Option<T> {
    fn text(&self) -> Option<String> {
        self.as_ref().and_then(FieldText::text)
    }
}

/// The payload object of a typed record: `record; field = "element", …`.
macro_rules! payload {
    ($r:expr; $( $field:ident = $name:literal ),* $(,)?) => {{
        let mut m = Map::new();
        $(
            if let Some(t) = FieldText::text(&$r.$field) {
                m.insert($name.to_owned(), Value::String(t));
            }
        )*
        Value::Object(m)
    }};
}

/// (kind, key, valid_from, valid_to, payload) of one record body.
type Parts = (String, String, Option<NaiveDate>, Option<NaiveDate>, Value);

fn parts(body: &RecordBody) -> Result<Parts, LayerError> {
    let kind = body.element().to_owned();
    let (key, from, to, payload) = match body {
        RecordBody::GoodsNomenclature(r) => (
            r.goods_nomenclature_sid.to_string(),
            Some(r.validity_start_date),
            r.validity_end_date,
            payload!(r;
                goods_nomenclature_sid = "goods.nomenclature.sid",
                goods_nomenclature_item_id = "goods.nomenclature.item.id",
                productline_suffix = "producline.suffix",
                validity_start_date = "validity.start.date",
                validity_end_date = "validity.end.date",
                statistical_indicator = "statistical.indicator",
            ),
        ),
        RecordBody::GoodsNomenclatureIndent(r) => (
            r.goods_nomenclature_indent_sid.to_string(),
            Some(r.validity_start_date),
            None,
            payload!(r;
                goods_nomenclature_indent_sid = "goods.nomenclature.indent.sid",
                goods_nomenclature_sid = "goods.nomenclature.sid",
                validity_start_date = "validity.start.date",
                number_indents = "number.indents",
                goods_nomenclature_item_id = "goods.nomenclature.item.id",
                productline_suffix = "productline.suffix",
            ),
        ),
        RecordBody::GoodsNomenclatureDescriptionPeriod(r) => (
            r.goods_nomenclature_description_period_sid.to_string(),
            Some(r.validity_start_date),
            None,
            payload!(r;
                goods_nomenclature_description_period_sid = "goods.nomenclature.description.period.sid",
                goods_nomenclature_sid = "goods.nomenclature.sid",
                validity_start_date = "validity.start.date",
                goods_nomenclature_item_id = "goods.nomenclature.item.id",
                productline_suffix = "productline.suffix",
            ),
        ),
        RecordBody::GoodsNomenclatureDescription(r) => (
            format!(
                "{}/{}",
                r.goods_nomenclature_description_period_sid, r.language_id
            ),
            None,
            None,
            payload!(r;
                goods_nomenclature_description_period_sid = "goods.nomenclature.description.period.sid",
                language_id = "language.id",
                goods_nomenclature_sid = "goods.nomenclature.sid",
                goods_nomenclature_item_id = "goods.nomenclature.item.id",
                productline_suffix = "productline.suffix",
                description = "description",
            ),
        ),
        RecordBody::GeographicalArea(r) => (
            r.geographical_area_sid.to_string(),
            Some(r.validity_start_date),
            r.validity_end_date,
            payload!(r;
                geographical_area_sid = "geographical.area.sid",
                geographical_area_id = "geographical.area.id",
                validity_start_date = "validity.start.date",
                validity_end_date = "validity.end.date",
                geographical_code = "geographical.code",
                parent_geographical_area_group_sid = "parent.geographical.area.group.sid",
            ),
        ),
        RecordBody::GeographicalAreaDescriptionPeriod(r) => (
            r.geographical_area_description_period_sid.to_string(),
            Some(r.validity_start_date),
            None,
            payload!(r;
                geographical_area_description_period_sid = "geographical.area.description.period.sid",
                geographical_area_sid = "geographical.area.sid",
                validity_start_date = "validity.start.date",
                geographical_area_id = "geographical.area.id",
            ),
        ),
        RecordBody::GeographicalAreaDescription(r) => (
            format!(
                "{}/{}",
                r.geographical_area_description_period_sid, r.language_id
            ),
            None,
            None,
            payload!(r;
                geographical_area_description_period_sid = "geographical.area.description.period.sid",
                language_id = "language.id",
                geographical_area_sid = "geographical.area.sid",
                geographical_area_id = "geographical.area.id",
                description = "description",
            ),
        ),
        RecordBody::GeographicalMembership(r) => (
            format!(
                "{}/{}/{}",
                r.geographical_area_sid,
                r.geographical_area_group_sid,
                r.validity_start_date.format("%Y-%m-%d")
            ),
            Some(r.validity_start_date),
            r.validity_end_date,
            payload!(r;
                geographical_area_sid = "geographical.area.sid",
                geographical_area_group_sid = "geographical.area.group.sid",
                validity_start_date = "validity.start.date",
                validity_end_date = "validity.end.date",
            ),
        ),
        RecordBody::Measure(r) => (
            r.measure_sid.to_string(),
            Some(r.validity_start_date),
            r.validity_end_date,
            payload!(r;
                measure_sid = "measure.sid",
                measure_type = "measure.type",
                geographical_area = "geographical.area",
                goods_nomenclature_item_id = "goods.nomenclature.item.id",
                additional_code_type = "additional.code.type",
                additional_code = "additional.code",
                ordernumber = "ordernumber",
                reduction_indicator = "reduction.indicator",
                validity_start_date = "validity.start.date",
                measure_generating_regulation_role = "measure.generating.regulation.role",
                measure_generating_regulation_id = "measure.generating.regulation.id",
                validity_end_date = "validity.end.date",
                justification_regulation_role = "justification.regulation.role",
                justification_regulation_id = "justification.regulation.id",
                stopped_flag = "stopped.flag",
                geographical_area_sid = "geographical.area.sid",
                goods_nomenclature_sid = "goods.nomenclature.sid",
                additional_code_sid = "additional.code.sid",
                export_refund_nomenclature_sid = "export.refund.nomenclature.sid",
            ),
        ),
        RecordBody::MeasureComponent(r) => (
            format!("{}/{}", r.measure_sid, r.duty_expression_id),
            None,
            None,
            payload!(r;
                measure_sid = "measure.sid",
                duty_expression_id = "duty.expression.id",
                duty_amount = "duty.amount",
                monetary_unit_code = "monetary.unit.code",
                measurement_unit_code = "measurement.unit.code",
                measurement_unit_qualifier_code = "measurement.unit.qualifier.code",
            ),
        ),
        RecordBody::MeasureCondition(r) => (
            r.measure_condition_sid.to_string(),
            None,
            None,
            payload!(r;
                measure_condition_sid = "measure.condition.sid",
                measure_sid = "measure.sid",
                condition_code = "condition.code",
                component_sequence_number = "component.sequence.number",
                condition_duty_amount = "condition.duty.amount",
                condition_monetary_unit_code = "condition.monetary.unit.code",
                condition_measurement_unit_code = "condition.measurement.unit.code",
                condition_measurement_unit_qualifier_code = "condition.measurement.unit.qualifier.code",
                action_code = "action.code",
                certificate_type_code = "certificate.type.code",
                certificate_code = "certificate.code",
            ),
        ),
        RecordBody::MeasureConditionComponent(r) => (
            format!("{}/{}", r.measure_condition_sid, r.duty_expression_id),
            None,
            None,
            payload!(r;
                measure_condition_sid = "measure.condition.sid",
                duty_expression_id = "duty.expression.id",
                duty_amount = "duty.amount",
                monetary_unit_code = "monetary.unit.code",
                measurement_unit_code = "measurement.unit.code",
                measurement_unit_qualifier_code = "measurement.unit.qualifier.code",
            ),
        ),
        RecordBody::MeasureExcludedGeographicalArea(r) => (
            format!("{}/{}", r.measure_sid, r.geographical_area_sid),
            None,
            None,
            payload!(r;
                measure_sid = "measure.sid",
                excluded_geographical_area = "excluded.geographical.area",
                geographical_area_sid = "geographical.area.sid",
            ),
        ),
        RecordBody::FootnoteAssociationMeasure(r) => (
            format!("{}/{}{}", r.measure_sid, r.footnote_type_id, r.footnote_id),
            None,
            None,
            payload!(r;
                measure_sid = "measure.sid",
                footnote_type_id = "footnote.type.id",
                footnote_id = "footnote.id",
            ),
        ),
        RecordBody::BaseRegulation(r) => (
            format!("{}/{}", r.base_regulation_role, r.base_regulation_id),
            Some(r.validity_start_date),
            r.effective_end_date.or(r.validity_end_date),
            payload!(r;
                base_regulation_role = "base.regulation.role",
                base_regulation_id = "base.regulation.id",
                published_date = "published.date",
                officialjournal_number = "officialjournal.number",
                officialjournal_page = "officialjournal.page",
                validity_start_date = "validity.start.date",
                validity_end_date = "validity.end.date",
                effective_end_date = "effective.end.date",
                community_code = "community.code",
                regulation_group_id = "regulation.group.id",
                antidumping_regulation_role = "antidumping.regulation.role",
                related_antidumping_regulation_id = "related.antidumping.regulation.id",
                complete_abrogation_regulation_role = "complete.abrogation.regulation.role",
                complete_abrogation_regulation_id = "complete.abrogation.regulation.id",
                explicit_abrogation_regulation_role = "explicit.abrogation.regulation.role",
                explicit_abrogation_regulation_id = "explicit.abrogation.regulation.id",
                replacement_indicator = "replacement.indicator",
                stopped_flag = "stopped.flag",
                information_text = "information.text",
                approved_flag = "approved.flag",
            ),
        ),
        RecordBody::QuotaOrderNumber(r) => (
            r.quota_order_number_sid.to_string(),
            Some(r.validity_start_date),
            r.validity_end_date,
            payload!(r;
                quota_order_number_sid = "quota.order.number.sid",
                quota_order_number_id = "quota.order.number.id",
                validity_start_date = "validity.start.date",
                validity_end_date = "validity.end.date",
            ),
        ),
        RecordBody::QuotaOrderNumberOrigin(r) => (
            r.quota_order_number_origin_sid.to_string(),
            Some(r.validity_start_date),
            r.validity_end_date,
            payload!(r;
                quota_order_number_origin_sid = "quota.order.number.origin.sid",
                quota_order_number_sid = "quota.order.number.sid",
                geographical_area_id = "geographical.area.id",
                validity_start_date = "validity.start.date",
                validity_end_date = "validity.end.date",
                geographical_area_sid = "geographical.area.sid",
            ),
        ),
        RecordBody::QuotaDefinition(r) => (
            r.quota_definition_sid.to_string(),
            Some(r.validity_start_date),
            r.validity_end_date,
            payload!(r;
                quota_definition_sid = "quota.definition.sid",
                quota_order_number_id = "quota.order.number.id",
                validity_start_date = "validity.start.date",
                validity_end_date = "validity.end.date",
                quota_order_number_sid = "quota.order.number.sid",
                volume = "volume",
                initial_volume = "initial.volume",
                monetary_unit_code = "monetary.unit.code",
                measurement_unit_code = "measurement.unit.code",
                measurement_unit_qualifier_code = "measurement.unit.qualifier.code",
                maximum_precision = "maximum.precision",
                critical_state = "critical.state",
                critical_threshold = "critical.threshold",
                description = "description",
            ),
        ),
        RecordBody::QuotaBalanceEvent(r) => (
            format!(
                "{}/{}",
                r.quota_definition_sid,
                r.occurrence_timestamp.format("%Y-%m-%dT%H:%M:%S")
            ),
            None,
            None,
            payload!(r;
                quota_definition_sid = "quota.definition.sid",
                occurrence_timestamp = "occurrence.timestamp",
                old_balance = "old.balance",
                new_balance = "new.balance",
                imported_amount = "imported.amount",
                last_import_date_in_allocation = "last.import.date.in.allocation",
            ),
        ),
        RecordBody::MonetaryExchangePeriod(r) => (
            r.monetary_exchange_period_sid.to_string(),
            Some(r.validity_start_date),
            r.validity_end_date,
            payload!(r;
                monetary_exchange_period_sid = "monetary.exchange.period.sid",
                parent_monetary_unit_code = "parent.monetary.unit.code",
                validity_start_date = "validity.start.date",
                validity_end_date = "validity.end.date",
            ),
        ),
        RecordBody::MonetaryExchangeRate(r) => (
            format!(
                "{}/{}",
                r.monetary_exchange_period_sid, r.child_monetary_unit_code
            ),
            None,
            None,
            payload!(r;
                monetary_exchange_period_sid = "monetary.exchange.period.sid",
                child_monetary_unit_code = "child.monetary.unit.code",
                exchange_rate = "exchange.rate",
            ),
        ),
        RecordBody::MeasureType(r) => (
            r.measure_type_id.clone(),
            Some(r.validity_start_date),
            r.validity_end_date,
            payload!(r;
                measure_type_id = "measure.type.id",
                validity_start_date = "validity.start.date",
                validity_end_date = "validity.end.date",
                trade_movement_code = "trade.movement.code",
                priority_code = "priority.code",
                measure_component_applicable_code = "measure.component.applicable.code",
                origin_dest_code = "origin.dest.code",
                order_number_capture_code = "order.number.capture.code",
                measure_explosion_level = "measure.explosion.level",
                measure_type_series_id = "measure.type.series.id",
            ),
        ),
        RecordBody::AdditionalCode(r) => (
            r.additional_code_sid.to_string(),
            Some(r.validity_start_date),
            r.validity_end_date,
            payload!(r;
                additional_code_sid = "additional.code.sid",
                additional_code_type_id = "additional.code.type.id",
                additional_code = "additional.code",
                validity_start_date = "validity.start.date",
                validity_end_date = "validity.end.date",
            ),
        ),
        RecordBody::Certificate(r) => (
            format!("{}{}", r.certificate_type_code, r.certificate_code),
            Some(r.validity_start_date),
            r.validity_end_date,
            payload!(r;
                certificate_type_code = "certificate.type.code",
                certificate_code = "certificate.code",
                validity_start_date = "validity.start.date",
                validity_end_date = "validity.end.date",
            ),
        ),
        RecordBody::Footnote(r) => (
            format!("{}{}", r.footnote_type_id, r.footnote_id),
            Some(r.validity_start_date),
            r.validity_end_date,
            payload!(r;
                footnote_type_id = "footnote.type.id",
                footnote_id = "footnote.id",
                validity_start_date = "validity.start.date",
                validity_end_date = "validity.end.date",
            ),
        ),
        RecordBody::DutyExpression(r) => (
            r.duty_expression_id.clone(),
            Some(r.validity_start_date),
            r.validity_end_date,
            payload!(r;
                duty_expression_id = "duty.expression.id",
                validity_start_date = "validity.start.date",
                validity_end_date = "validity.end.date",
                duty_amount_applicability_code = "duty.amount.applicability.code",
                measurement_unit_applicability_code = "measurement.unit.applicability.code",
                monetary_unit_applicability_code = "monetary.unit.applicability.code",
            ),
        ),
        RecordBody::Other { element, fields } => {
            let key: Vec<&str> = fields
                .iter()
                .filter(|(name, _)| {
                    name.ends_with(".sid") || name.ends_with(".id") || name.ends_with(".code")
                })
                .map(|(_, v)| v.trim())
                .collect();
            if key.is_empty() {
                return Err(LayerError::Payload {
                    kind: element.clone(),
                    key: String::new(),
                    reason: "no `*.sid`, `*.id` or `*.code` field to key the record by".to_owned(),
                });
            }
            // Events are many per definition: the occurrence makes each its own record
            // (as for `quota.balance.event`), instead of the last one replacing the others.
            let mut key = key.join("/");
            if let Some(at) = fields.get("occurrence.timestamp") {
                key = format!("{key}/{}", at.trim());
            }
            let date = |name: &str| {
                fields
                    .get(name)
                    .and_then(|v| NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok())
            };
            let payload = fields
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect::<Map<_, _>>();
            (
                key,
                date("validity.start.date"),
                date("validity.end.date"),
                Value::Object(payload),
            )
        }
    };
    Ok((kind, key, from, to, payload))
}

/// The changes of a TARIC3 envelope, one per record in document order: insert and update
/// are upserts, delete is a deletion. See the module docs for kinds, keys and payloads.
///
/// Errors only for an untyped record with no field to key it by.
pub fn changes_from_envelope(env: &Envelope) -> Result<Vec<Change>, LayerError> {
    let mut out = Vec::new();
    for t in &env.transactions {
        for r in &t.messages {
            let (kind, key, valid_from, valid_to, payload) = parts(&r.body)?;
            out.push(Change {
                kind,
                key,
                valid_from,
                valid_to,
                payload,
                delete: r.update_type == UpdateType::Delete,
            });
        }
    }
    Ok(out)
}

/// The changes of nomenclature lines loaded from the HS/CN files: kind
/// [`NOMENCLATURE_ITEM`], key `code-suffix`, payload the serialized
/// [`NomenclatureItem`].
pub fn changes_from_nomenclature(items: &[NomenclatureItem]) -> Vec<Change> {
    items
        .iter()
        .map(|item| Change {
            kind: NOMENCLATURE_ITEM.to_owned(),
            key: format!("{}-{}", item.code.as_str(), item.code.suffix()),
            valid_from: item.valid_from,
            valid_to: item.valid_to,
            payload: serde_json::to_value(item).unwrap_or(Value::Null),
            delete: false,
        })
        .collect()
}
