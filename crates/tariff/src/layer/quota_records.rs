//! Quota records into [`Quotas`]: `quota.order.number` + `quota.order.number.origin` (+
//! `quota.order.number.origin.exclusions`) + `quota.definition` (+ `quota.blocking.period`,
//! `quota.suspension.period`, `quota.balance.event`, the other `quota.*.event`s and
//! `quota.association` for sub-quotas).

use std::collections::BTreeMap;

use chrono::NaiveDateTime;

use super::build::Records;
use super::payload::Rec;
use super::LayerError;
use crate::measures::Validity;
use crate::quotas::{
    BalanceEvent, BlockingPeriod, Mechanism, QuotaAssociation, QuotaDefinition, QuotaEvent,
    QuotaEventKind, QuotaOrderNumber, QuotaOrigin, QuotaUnit, Quotas, SuspensionPeriod,
};

fn timestamp(r: &Rec<'_>, name: &str) -> Result<NaiveDateTime, LayerError> {
    let s = r.str(name)?;
    NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(&s).map(|t| t.naive_utc()))
        .map_err(|_| r.error(format!("field `{name}`: invalid timestamp `{s}`")))
}

/// A TARIC Y/N code (`critical.state`, `quota.closed`; `0` is read as N).
fn yes_no(r: &Rec<'_>, name: &str) -> Result<bool, LayerError> {
    match r.str(name)?.as_str() {
        "Y" => Ok(true),
        "N" | "0" => Ok(false),
        other => Err(r.error(format!("field `{name}`: `{other}` is not Y or N"))),
    }
}

/// The definition a record of it names (a missing one is the record's missing parent).
fn definition_of<'d>(
    definitions: &'d mut BTreeMap<u64, (u64, QuotaDefinition)>,
    r: &Rec<'_>,
    sid: u64,
) -> Result<&'d mut QuotaDefinition, LayerError> {
    definitions
        .get_mut(&sid)
        .map(|(_, d)| d)
        .ok_or_else(|| r.missing_parent("quota.definition", sid))
}

/// The quotas of the records; `area_ids` maps geographical area sids to ids.
pub(super) fn build_quotas(
    recs: &Records<'_>,
    area_ids: &BTreeMap<u64, String>,
) -> Result<Quotas, LayerError> {
    let mut orders: BTreeMap<u64, QuotaOrderNumber> = BTreeMap::new();
    for r in recs.of("quota.order.number") {
        let r = r?;
        let id = r.str("quota.order.number.id")?;
        orders.insert(
            r.u64("quota.order.number.sid")?,
            QuotaOrderNumber {
                sid: r.u64("quota.order.number.sid")?,
                mechanism: Mechanism::of_order_number(&id),
                id,
                validity: Validity::new(
                    r.date("validity.start.date")?,
                    r.opt_date("validity.end.date")?,
                ),
                origins: Vec::new(),
                definitions: Vec::new(),
            },
        );
    }

    // Origins by sid (with their order number sid), exclusions joined first.
    let mut origins: BTreeMap<u64, (u64, QuotaOrigin)> = BTreeMap::new();
    for r in recs.of("quota.order.number.origin") {
        let r = r?;
        let order_sid = r.u64("quota.order.number.sid")?;
        if !orders.contains_key(&order_sid) {
            return Err(r.missing_parent("quota.order.number", order_sid));
        }
        let area_sid = r.u64("geographical.area.sid")?;
        let area = area_ids
            .get(&area_sid)
            .cloned()
            .ok_or_else(|| r.missing_parent("geographical.area", area_sid))?;
        let sid = r.u64("quota.order.number.origin.sid")?;
        origins.insert(
            sid,
            (
                order_sid,
                QuotaOrigin {
                    sid,
                    area,
                    validity: Validity::new(
                        r.date("validity.start.date")?,
                        r.opt_date("validity.end.date")?,
                    ),
                    exclusions: Vec::new(),
                },
            ),
        );
    }
    for r in recs.of("quota.order.number.origin.exclusions") {
        let r = r?;
        let origin_sid = r.u64("quota.order.number.origin.sid")?;
        let area_sid = r.u64("excluded.geographical.area.sid")?;
        let area = area_ids
            .get(&area_sid)
            .cloned()
            .ok_or_else(|| r.missing_parent("geographical.area", area_sid))?;
        let (_, origin) = origins
            .get_mut(&origin_sid)
            .ok_or_else(|| r.missing_parent("quota.order.number.origin", origin_sid))?;
        if !origin.exclusions.contains(&area) {
            origin.exclusions.push(area);
        }
    }

    // Definitions by sid (with their order number sid), periods and events joined first.
    let mut definitions: BTreeMap<u64, (u64, QuotaDefinition)> = BTreeMap::new();
    for r in recs.of("quota.definition") {
        let r = r?;
        let order_sid = r.u64("quota.order.number.sid")?;
        let order = orders
            .get(&order_sid)
            .ok_or_else(|| r.missing_parent("quota.order.number", order_sid))?;
        let sid = r.u64("quota.definition.sid")?;
        let precision = r.u32("maximum.precision")?;
        let critical = yes_no(&r, "critical.state")?;
        let threshold = r.u32("critical.threshold")?;
        if threshold > 100 {
            return Err(r.error(format!(
                "field `critical.threshold`: {threshold} is not a percentage"
            )));
        }
        definitions.insert(
            sid,
            (
                order_sid,
                QuotaDefinition {
                    sid,
                    order_number: order.id.clone(),
                    validity: Validity::new(
                        r.date("validity.start.date")?,
                        r.opt_date("validity.end.date")?,
                    ),
                    volume: r.decimal("volume")?,
                    initial_volume: r.decimal("initial.volume")?,
                    unit: QuotaUnit {
                        measurement_unit: r.opt_str("measurement.unit.code")?,
                        qualifier: r.opt_str("measurement.unit.qualifier.code")?,
                        monetary_unit: r.opt_str("monetary.unit.code")?,
                    },
                    maximum_precision: precision,
                    critical_threshold: threshold,
                    critical,
                    description: r.opt_str("description")?,
                    blocking_periods: Vec::new(),
                    suspension_periods: Vec::new(),
                    balance_events: Vec::new(),
                    events: Vec::new(),
                    sub_quotas: Vec::new(),
                },
            ),
        );
    }
    for r in recs.of("quota.blocking.period") {
        let r = r?;
        let def_sid = r.u64("quota.definition.sid")?;
        let period = BlockingPeriod {
            sid: r.u64("quota.blocking.period.sid")?,
            period: Validity::new(
                r.date("blocking.start.date")?,
                r.opt_date("blocking.end.date")?,
            ),
            kind: r.opt_str("blocking.period.type")?.unwrap_or_default(),
            description: r.opt_str("description")?,
        };
        definition_of(&mut definitions, &r, def_sid)?
            .blocking_periods
            .push(period);
    }
    for r in recs.of("quota.suspension.period") {
        let r = r?;
        let def_sid = r.u64("quota.definition.sid")?;
        let period = SuspensionPeriod {
            sid: r.u64("quota.suspension.period.sid")?,
            period: Validity::new(
                r.date("suspension.start.date")?,
                r.opt_date("suspension.end.date")?,
            ),
            description: r.opt_str("description")?,
        };
        definition_of(&mut definitions, &r, def_sid)?
            .suspension_periods
            .push(period);
    }
    for r in recs.of("quota.balance.event") {
        let r = r?;
        let def_sid = r.u64("quota.definition.sid")?;
        let event = BalanceEvent {
            occurred_at: timestamp(&r, "occurrence.timestamp")?,
            old_balance: r.decimal("old.balance")?,
            new_balance: r.decimal("new.balance")?,
            imported_amount: r.decimal("imported.amount")?,
            last_import_date: r.opt_date("last.import.date.in.allocation")?,
        };
        definition_of(&mut definitions, &r, def_sid)?
            .balance_events
            .push(event);
    }
    for kind in [
        "quota.critical.event",
        "quota.exhaustion.event",
        "quota.reopening.event",
        "quota.unblocking.event",
        "quota.unsuspension.event",
        "quota.closed.and.transferred.event",
    ] {
        for r in recs.of(kind) {
            let r = r?;
            let def_sid = r.u64("quota.definition.sid")?;
            let event = QuotaEvent {
                occurred_at: timestamp(&r, "occurrence.timestamp")?,
                kind: match kind {
                    "quota.critical.event" => QuotaEventKind::Critical {
                        critical: yes_no(&r, "critical.state")?,
                        change_date: r.opt_date("critical.state.change.date")?,
                    },
                    "quota.exhaustion.event" => QuotaEventKind::Exhaustion {
                        date: r.date("exhaustion.date")?,
                    },
                    "quota.reopening.event" => QuotaEventKind::Reopening {
                        date: r.date("reopening.date")?,
                    },
                    "quota.unblocking.event" => QuotaEventKind::Unblocking {
                        date: r.date("unblocking.date")?,
                    },
                    "quota.unsuspension.event" => QuotaEventKind::Unsuspension {
                        date: r.date("unsuspension.date")?,
                    },
                    _ => QuotaEventKind::ClosedAndTransferred {
                        date: r.date("transfer.date")?,
                        closed: yes_no(&r, "quota.closed")?,
                        transferred_amount: r.decimal("transferred.amount")?,
                        target_definition_sid: r.u64("target.quota.definition.sid")?,
                    },
                },
            };
            definition_of(&mut definitions, &r, def_sid)?
                .events
                .push(event);
        }
    }
    for r in recs.of("quota.association") {
        let r = r?;
        let main = r.u64("main.quota.definition.sid")?;
        let association = QuotaAssociation {
            sub_definition_sid: r.u64("sub.quota.definition.sid")?,
            relation: r.str("relation.type")?,
            coefficient: r.opt_decimal("coefficient")?,
        };
        definition_of(&mut definitions, &r, main)?
            .sub_quotas
            .push(association);
    }

    for (order_sid, origin) in origins.into_values() {
        if let Some(o) = orders.get_mut(&order_sid) {
            o.origins.push(origin);
        }
    }
    for (order_sid, mut def) in definitions.into_values() {
        def.blocking_periods
            .sort_by_key(|b| (b.period.start, b.sid));
        def.suspension_periods
            .sort_by_key(|s| (s.period.start, s.sid));
        def.balance_events.sort_by_key(|e| e.occurred_at);
        def.events.sort_by_key(|e| e.occurred_at);
        def.sub_quotas.sort_by_key(|a| a.sub_definition_sid);
        if let Some(o) = orders.get_mut(&order_sid) {
            o.definitions.push(def);
        }
    }
    for o in orders.values_mut() {
        for origin in &mut o.origins {
            origin.exclusions.sort();
        }
        o.origins
            .sort_by(|a, b| (&a.area, a.validity.start).cmp(&(&b.area, b.validity.start)));
        o.definitions.sort_by_key(|d| (d.validity.start, d.sid));
    }
    Ok(Quotas::new(orders.into_values().collect()))
}
