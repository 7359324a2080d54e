//! [`check_sequencing`]: the record sequencing rules of `docs/record-sequencing.rst`.

use std::collections::HashMap;

use super::envelope::{Envelope, Record, Transaction, UpdateType};
use super::error::{RecordRef, Taric3Error};
use super::records::RecordBody;

/// A record's key as the parent of other records: (parent element, sid).
type Key = (&'static str, u64);

/// The key under which other records of the same family reference this record.
fn own_key(body: &RecordBody) -> Option<Key> {
    Some(match body {
        RecordBody::GoodsNomenclature(r) => ("goods.nomenclature", r.goods_nomenclature_sid),
        RecordBody::GoodsNomenclatureDescriptionPeriod(r) => (
            "goods.nomenclature.description.period",
            r.goods_nomenclature_description_period_sid,
        ),
        RecordBody::GeographicalArea(r) => ("geographical.area", r.geographical_area_sid),
        RecordBody::GeographicalAreaDescriptionPeriod(r) => (
            "geographical.area.description.period",
            r.geographical_area_description_period_sid,
        ),
        RecordBody::Measure(r) => ("measure", r.measure_sid),
        RecordBody::MeasureCondition(r) => ("measure.condition", r.measure_condition_sid),
        RecordBody::QuotaOrderNumber(r) => ("quota.order.number", r.quota_order_number_sid),
        RecordBody::QuotaDefinition(r) => ("quota.definition", r.quota_definition_sid),
        RecordBody::MonetaryExchangePeriod(r) => {
            ("monetary.exchange.period", r.monetary_exchange_period_sid)
        }
        _ => return None,
    })
}

/// The parent records a record references: (parent key, referencing field).
fn parent_keys(body: &RecordBody) -> Vec<(Key, &'static str)> {
    const GN: &str = "goods.nomenclature";
    const GA: &str = "geographical.area";
    match body {
        RecordBody::GoodsNomenclatureIndent(r) => {
            vec![((GN, r.goods_nomenclature_sid), "goods.nomenclature.sid")]
        }
        RecordBody::GoodsNomenclatureDescriptionPeriod(r) => {
            vec![((GN, r.goods_nomenclature_sid), "goods.nomenclature.sid")]
        }
        RecordBody::GoodsNomenclatureDescription(r) => vec![
            (
                (
                    "goods.nomenclature.description.period",
                    r.goods_nomenclature_description_period_sid,
                ),
                "goods.nomenclature.description.period.sid",
            ),
            ((GN, r.goods_nomenclature_sid), "goods.nomenclature.sid"),
        ],
        RecordBody::GeographicalAreaDescriptionPeriod(r) => {
            vec![((GA, r.geographical_area_sid), "geographical.area.sid")]
        }
        RecordBody::GeographicalAreaDescription(r) => vec![
            (
                (
                    "geographical.area.description.period",
                    r.geographical_area_description_period_sid,
                ),
                "geographical.area.description.period.sid",
            ),
            ((GA, r.geographical_area_sid), "geographical.area.sid"),
        ],
        RecordBody::GeographicalMembership(r) => vec![
            ((GA, r.geographical_area_sid), "geographical.area.sid"),
            (
                (GA, r.geographical_area_group_sid),
                "geographical.area.group.sid",
            ),
        ],
        RecordBody::MeasureComponent(r) => vec![(("measure", r.measure_sid), "measure.sid")],
        RecordBody::MeasureCondition(r) => vec![(("measure", r.measure_sid), "measure.sid")],
        RecordBody::MeasureExcludedGeographicalArea(r) => {
            vec![(("measure", r.measure_sid), "measure.sid")]
        }
        RecordBody::FootnoteAssociationMeasure(r) => {
            vec![(("measure", r.measure_sid), "measure.sid")]
        }
        RecordBody::MeasureConditionComponent(r) => vec![(
            ("measure.condition", r.measure_condition_sid),
            "measure.condition.sid",
        )],
        RecordBody::QuotaOrderNumberOrigin(r) => vec![(
            ("quota.order.number", r.quota_order_number_sid),
            "quota.order.number.sid",
        )],
        RecordBody::QuotaDefinition(r) => vec![(
            ("quota.order.number", r.quota_order_number_sid),
            "quota.order.number.sid",
        )],
        RecordBody::QuotaBalanceEvent(r) => vec![(
            ("quota.definition", r.quota_definition_sid),
            "quota.definition.sid",
        )],
        RecordBody::MonetaryExchangeRate(r) => vec![(
            ("monetary.exchange.period", r.monetary_exchange_period_sid),
            "monetary.exchange.period.sid",
        )],
        _ => Vec::new(),
    }
}

fn record_ref(transaction: &Transaction, record: &Record) -> RecordRef {
    RecordRef {
        transaction_id: transaction.id.clone(),
        message_id: record.message_id.clone(),
        record_sequence_number: Some(record.record_sequence_number),
        record: Some(record.body.element().to_owned()),
    }
}

/// Checks the record sequencing rules of the TARIC3 documentation
/// (`docs/record-sequencing.rst`): "the record sequence number controls the physical
/// sequence of the records"; a transaction groups a logical unit of work whose records
/// are sent in a logical order, parent before children. Enforced:
///
/// 1. record sequence numbers strictly increase over the whole envelope, in document
///    order (so they are also unique and increasing within each transaction);
/// 2. a record's own `transaction.id`, when present, equals its enclosing
///    `env:transaction` id;
/// 3. within a transaction, a record inserted (update type 3) or deleted (2) after its
///    parent: when a child record (goods nomenclature indent, description period and
///    description; geographical area description period, description and membership;
///    measure component, condition, excluded area and footnote association; measure
///    condition component; quota order number origin, quota definition, quota balance
///    event; monetary exchange rate) and the parent record it references by sid are
///    both inserted (or both deleted) in the same transaction, the parent comes first,
///    as in the documentation's insert and delete examples. Updates are not ordered
///    (the documentation validates them at transaction level only).
///
/// References to records inserted in other transactions or envelopes are not
/// checked (that needs the database).
pub fn check_sequencing(env: &Envelope) -> Result<(), Taric3Error> {
    let mut last: Option<u64> = None;
    for transaction in &env.transactions {
        // Parent key and update type → (position, record sequence number).
        let mut parents: HashMap<(Key, UpdateType), usize> = HashMap::new();
        for (i, record) in transaction.messages.iter().enumerate() {
            if record.update_type == UpdateType::Update {
                continue;
            }
            if let Some(key) = own_key(&record.body) {
                parents.entry((key, record.update_type)).or_insert(i);
            }
        }
        for (i, record) in transaction.messages.iter().enumerate() {
            let n = record.record_sequence_number;
            if let Some(previous) = last {
                if n <= previous {
                    return Err(Taric3Error::Sequencing {
                        record: Box::new(record_ref(transaction, record)),
                        reason: format!(
                            "record sequence number {n} does not follow {previous}: numbers must strictly increase through the envelope"
                        ),
                    });
                }
            }
            last = Some(n);
            if let Some(own) = &record.transaction_id {
                if *own != transaction.id {
                    return Err(Taric3Error::Sequencing {
                        record: Box::new(record_ref(transaction, record)),
                        reason: format!(
                            "`transaction.id` {own} differs from the enclosing transaction {}",
                            transaction.id
                        ),
                    });
                }
            }
            if record.update_type == UpdateType::Update {
                continue;
            }
            for ((parent, sid), field) in parent_keys(&record.body) {
                if let Some(&p) = parents.get(&((parent, sid), record.update_type)) {
                    if p > i {
                        let action = match record.update_type {
                            UpdateType::Delete => "deleted",
                            _ => "inserted",
                        };
                        let later = &transaction.messages[p];
                        return Err(Taric3Error::Sequencing {
                            record: Box::new(record_ref(transaction, record)),
                            reason: format!(
                                "`{field}` {sid} references `{parent}` {action} later in the same transaction (record {})",
                                later.record_sequence_number
                            ),
                        });
                    }
                }
            }
        }
    }
    Ok(())
}
