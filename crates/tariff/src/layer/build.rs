//! [`build`]: the domain from the current records of one or more layers.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::payload::{payload_error, Rec};
use super::{ExchangeRate, LayerData, LayerError, RecordRef, NOMENCLATURE_ITEM};
use crate::duty::{MeasureComponent, MeasureCondition};
use crate::measures::{
    AreaKind, GeographicalArea, Measure, Membership, Regulation, TariffData, Validity,
};
use crate::nomenclature::{GoodsCode, Nomenclature, NomenclatureItem};

/// The current records by kind, then key (a later record with the same kind and key
/// replaces the earlier).
pub(super) struct Records<'a> {
    by_kind: BTreeMap<&'a str, BTreeMap<&'a str, RecordRef<'a>>>,
}

impl<'a> Records<'a> {
    pub(super) fn of(&self, kind: &str) -> impl Iterator<Item = Result<Rec<'a>, LayerError>> + '_ {
        self.by_kind
            .get(kind)
            .into_iter()
            .flat_map(|m| m.values())
            .map(Rec::new)
    }
}

fn bump(unresolved: &mut BTreeMap<String, usize>, reason: &str) {
    *unresolved.entry(reason.to_owned()).or_default() += 1;
}

/// Rebuilds the domain from the current records of one or more layers (common first, then
/// a tenant's national layer on top: the same kind and key in a later record replaces the
/// earlier). See the module docs for the joins and the errors.
pub fn build<'a>(
    records: impl IntoIterator<Item = RecordRef<'a>>,
) -> Result<LayerData, LayerError> {
    let mut by_kind: BTreeMap<&'a str, BTreeMap<&'a str, RecordRef<'a>>> = BTreeMap::new();
    for r in records {
        by_kind.entry(r.kind).or_default().insert(r.key, r);
    }
    let recs = Records { by_kind };
    let mut unresolved = BTreeMap::new();

    let (nomenclature, gn_codes) = build_nomenclature(&recs)?;
    let (areas, area_ids, memberships, area_descriptions) = build_areas(&recs)?;

    let mut regulations = Vec::new();
    for r in recs.of("base.regulation") {
        let r = r?;
        let end = match r.opt_date("effective.end.date")? {
            Some(e) => Some(e),
            None => r.opt_date("validity.end.date")?,
        };
        regulations.push(Regulation {
            id: r.str("base.regulation.id")?,
            validity: Validity::new(r.date("validity.start.date")?, end),
        });
    }
    let regulation_ids: BTreeSet<&str> = regulations.iter().map(|r| r.id.as_str()).collect();

    let mut additional_codes: BTreeMap<u64, String> = BTreeMap::new();
    for r in recs.of("additional.code") {
        let r = r?;
        additional_codes.insert(
            r.u64("additional.code.sid")?,
            format!(
                "{}{}",
                r.str("additional.code.type.id")?,
                r.str("additional.code")?
            ),
        );
    }

    // Measures.
    let mut measures: BTreeMap<u64, Measure> = BTreeMap::new();
    let mut skipped: BTreeSet<u64> = BTreeSet::new();
    for r in recs.of("measure") {
        let r = r?;
        let sid = r.u64("measure.sid")?;
        let Some(item_id) = r.opt_str("goods.nomenclature.item.id")? else {
            bump(&mut unresolved, "measure.goods_code");
            skipped.insert(sid);
            continue;
        };
        let suffix = match r.opt_u64("goods.nomenclature.sid")? {
            Some(gn_sid) => gn_codes
                .get(&gn_sid)
                .map(|c| c.suffix().to_owned())
                .unwrap_or_else(|| crate::nomenclature::DECLARABLE_SUFFIX.to_owned()),
            None => crate::nomenclature::DECLARABLE_SUFFIX.to_owned(),
        };
        let goods_code = GoodsCode::with_suffix(&item_id, &suffix)
            .map_err(|e| r.error(format!("field `goods.nomenclature.item.id`: {e}")))?;
        if nomenclature.lookup_prefix(&item_id).is_empty() {
            return Err(r.missing_parent("goods.nomenclature", &item_id));
        }
        let area = r.str("geographical.area")?;
        match r.opt_u64("geographical.area.sid")? {
            Some(area_sid) if !area_ids.contains_key(&area_sid) => {
                return Err(r.missing_parent("geographical.area", area_sid));
            }
            None if !areas.iter().any(|a| a.id == area) => {
                return Err(r.missing_parent("geographical.area", &area));
            }
            _ => {}
        }
        let additional_code = match r.opt_u64("additional.code.sid")? {
            Some(ac_sid) => Some(
                additional_codes
                    .get(&ac_sid)
                    .cloned()
                    .ok_or_else(|| r.missing_parent("additional.code", ac_sid))?,
            ),
            None => match (
                r.opt_str("additional.code.type")?,
                r.opt_str("additional.code")?,
            ) {
                (Some(t), Some(c)) => Some(format!("{t}{c}")),
                _ => None,
            },
        };
        let regulation = r.str("measure.generating.regulation.id")?;
        if !regulation_ids.contains(regulation.as_str()) {
            bump(&mut unresolved, "measure.regulation");
        }
        measures.insert(
            sid,
            Measure {
                sid,
                measure_type: r.str("measure.type")?,
                goods_code,
                geographical_area: area,
                excluded_areas: Vec::new(),
                additional_code,
                order_number: r.opt_str("ordernumber")?,
                regulation: Some(regulation),
                validity: Validity::new(
                    r.date("validity.start.date")?,
                    r.opt_date("validity.end.date")?,
                ),
                components: Vec::new(),
                conditions: Vec::new(),
                footnotes: Vec::new(),
                national: r.opt_bool("national")?.unwrap_or(false),
            },
        );
    }

    /// The measure a child record belongs to; `None` for a skipped measure's child.
    fn parent<'m>(
        r: &Rec<'_>,
        measures: &'m mut BTreeMap<u64, Measure>,
        skipped: &BTreeSet<u64>,
    ) -> Result<Option<&'m mut Measure>, LayerError> {
        let sid = r.u64("measure.sid")?;
        if skipped.contains(&sid) {
            return Ok(None);
        }
        measures
            .get_mut(&sid)
            .map(Some)
            .ok_or_else(|| r.missing_parent("measure", sid))
    }

    for r in recs.of("measure.component") {
        let r = r?;
        let c = component(&r)?;
        if let Some(m) = parent(&r, &mut measures, &skipped)? {
            m.components.push(c);
        }
    }

    // Conditions: (measure sid, condition) by condition sid, components joined first.
    let mut conditions: BTreeMap<u64, (u64, MeasureCondition)> = BTreeMap::new();
    for r in recs.of("measure.condition") {
        let r = r?;
        let cert = match (
            r.opt_str("certificate.type.code")?,
            r.opt_str("certificate.code")?,
        ) {
            (Some(t), Some(c)) => Some(format!("{t}{c}")),
            _ => None,
        };
        let unit = match (
            r.opt_str("condition.monetary.unit.code")?,
            r.opt_str("condition.measurement.unit.code")?,
            r.opt_str("condition.measurement.unit.qualifier.code")?,
        ) {
            (Some(m), Some(u), _) => Some(format!("{m}/{u}")),
            (Some(m), None, _) => Some(m),
            (None, Some(u), q) => Some(format!("{u}{}", q.unwrap_or_default())),
            (None, None, _) => None,
        };
        let threshold = r.opt_decimal("condition.duty.amount")?.map(|a| (a, unit));
        conditions.insert(
            r.u64("measure.condition.sid")?,
            (
                r.u64("measure.sid")?,
                MeasureCondition {
                    code: r.str("condition.code")?,
                    sequence: r.u32("component.sequence.number")?,
                    certificate: cert,
                    threshold,
                    action: r.str("action.code")?,
                    components: Vec::new(),
                },
            ),
        );
    }
    for r in recs.of("measure.condition.component") {
        let r = r?;
        let sid = r.u64("measure.condition.sid")?;
        let c = component(&r)?;
        conditions
            .get_mut(&sid)
            .ok_or_else(|| r.missing_parent("measure.condition", sid))?
            .1
            .components
            .push(c);
    }
    for (cond_sid, (measure_sid, cond)) in conditions {
        if skipped.contains(&measure_sid) {
            continue;
        }
        let key = cond_sid.to_string();
        measures
            .get_mut(&measure_sid)
            .ok_or_else(|| LayerError::MissingParent {
                kind: "measure.condition".to_owned(),
                key,
                parent_kind: "measure".to_owned(),
                parent_key: measure_sid.to_string(),
            })?
            .conditions
            .push(cond);
    }

    for r in recs.of("measure.excluded.geographical.area") {
        let r = r?;
        let area_sid = r.u64("geographical.area.sid")?;
        let id = area_ids
            .get(&area_sid)
            .cloned()
            .ok_or_else(|| r.missing_parent("geographical.area", area_sid))?;
        if let Some(m) = parent(&r, &mut measures, &skipped)? {
            if !m.excluded_areas.contains(&id) {
                m.excluded_areas.push(id);
            }
        }
    }
    for r in recs.of("footnote.association.measure") {
        let r = r?;
        let id = format!("{}{}", r.str("footnote.type.id")?, r.str("footnote.id")?);
        if let Some(m) = parent(&r, &mut measures, &skipped)? {
            m.footnotes.push(id);
        }
    }
    let mut measures: Vec<Measure> = measures.into_values().collect();
    for m in &mut measures {
        m.components
            .sort_by(|a, b| a.duty_expression_id.cmp(&b.duty_expression_id));
        m.conditions
            .sort_by(|a, b| a.code.cmp(&b.code).then(a.sequence.cmp(&b.sequence)));
        m.excluded_areas.sort();
        m.footnotes.sort();
    }

    // Exchange rates.
    let mut periods: BTreeMap<u64, (String, NaiveDate, Option<NaiveDate>)> = BTreeMap::new();
    for r in recs.of("monetary.exchange.period") {
        let r = r?;
        periods.insert(
            r.u64("monetary.exchange.period.sid")?,
            (
                r.str("parent.monetary.unit.code")?,
                r.date("validity.start.date")?,
                r.opt_date("validity.end.date")?,
            ),
        );
    }
    let mut exchange_rates = Vec::new();
    for r in recs.of("monetary.exchange.rate") {
        let r = r?;
        let sid = r.u64("monetary.exchange.period.sid")?;
        let (base, month, until) = periods
            .get(&sid)
            .cloned()
            .ok_or_else(|| r.missing_parent("monetary.exchange.period", sid))?;
        exchange_rates.push(ExchangeRate {
            base,
            currency: r.str("child.monetary.unit.code")?,
            month,
            until,
            rate: r.decimal("exchange.rate")?,
        });
    }
    exchange_rates.sort_by(|a, b| {
        (a.base.as_str(), a.currency.as_str(), a.month).cmp(&(
            b.base.as_str(),
            b.currency.as_str(),
            b.month,
        ))
    });

    let quotas = super::quota_records::build_quotas(&recs, &area_ids)?;

    Ok(LayerData {
        tariff: TariffData::new(measures, areas, memberships, regulations),
        quotas,
        nomenclature,
        exchange_rates,
        area_descriptions,
        unresolved,
    })
}

fn component(r: &Rec<'_>) -> Result<MeasureComponent, LayerError> {
    Ok(MeasureComponent {
        duty_expression_id: r.str("duty.expression.id")?,
        amount: r.opt_decimal("duty.amount")?,
        monetary_unit: r.opt_str("monetary.unit.code")?,
        measurement_unit: r.opt_str("measurement.unit.code")?,
        qualifier: r.opt_str("measurement.unit.qualifier.code")?,
    })
}

/// TARIC indents to the nomenclature's: chapters 0, headings 1, other lines TARIC + 1.
fn indent_of(code: &GoodsCode, taric_indent: u32) -> u32 {
    let digits = code.as_str();
    if digits[2..].bytes().all(|b| b == b'0') {
        0
    } else if taric_indent == 0 {
        1
    } else {
        taric_indent.saturating_add(1)
    }
}

type GoodsCodes = BTreeMap<u64, GoodsCode>;

fn build_nomenclature(recs: &Records<'_>) -> Result<(Nomenclature, GoodsCodes), LayerError> {
    struct Line {
        code: GoodsCode,
        from: NaiveDate,
        to: Option<NaiveDate>,
        key: String,
        indent: Option<(NaiveDate, u32)>,
        description: Option<(bool, NaiveDate, String)>,
    }
    let mut lines: BTreeMap<u64, Line> = BTreeMap::new();
    for r in recs.of("goods.nomenclature") {
        let r = r?;
        let item_id = r.str("goods.nomenclature.item.id")?;
        // taric3.xsd spells it `producline.suffix` in this record.
        let suffix = match r.opt_str("producline.suffix")? {
            Some(s) => s,
            None => r.str("productline.suffix")?,
        };
        let code = GoodsCode::with_suffix(&item_id, &suffix)
            .map_err(|e| r.error(format!("goods code: {e}")))?;
        lines.insert(
            r.u64("goods.nomenclature.sid")?,
            Line {
                code,
                from: r.date("validity.start.date")?,
                to: r.opt_date("validity.end.date")?,
                key: r.key.to_owned(),
                indent: None,
                description: None,
            },
        );
    }
    for r in recs.of("goods.nomenclature.indents") {
        let r = r?;
        let sid = r.u64("goods.nomenclature.sid")?;
        let start = r.date("validity.start.date")?;
        let n = r.u32("number.indents")?;
        let line = lines
            .get_mut(&sid)
            .ok_or_else(|| r.missing_parent("goods.nomenclature", sid))?;
        if line.indent.is_none_or(|(s, _)| s <= start) {
            line.indent = Some((start, n));
        }
    }
    let mut periods: BTreeMap<u64, (u64, NaiveDate)> = BTreeMap::new();
    for r in recs.of("goods.nomenclature.description.period") {
        let r = r?;
        let gn = r.u64("goods.nomenclature.sid")?;
        if !lines.contains_key(&gn) {
            return Err(r.missing_parent("goods.nomenclature", gn));
        }
        periods.insert(
            r.u64("goods.nomenclature.description.period.sid")?,
            (gn, r.date("validity.start.date")?),
        );
    }
    for r in recs.of("goods.nomenclature.description") {
        let r = r?;
        let period = r.u64("goods.nomenclature.description.period.sid")?;
        let (gn, start) = *periods
            .get(&period)
            .ok_or_else(|| r.missing_parent("goods.nomenclature.description.period", period))?;
        let english = r.str("language.id")? == "EN";
        let text = r.opt_str("description")?.unwrap_or_default();
        if let Some(line) = lines.get_mut(&gn) {
            let better = line
                .description
                .as_ref()
                .is_none_or(|(e, s, _)| (english, start) >= (*e, *s));
            if better {
                line.description = Some((english, start, text));
            }
        }
    }

    let mut items = Vec::new();
    let mut taric: BTreeSet<GoodsCode> = BTreeSet::new();
    let mut codes = GoodsCodes::new();
    for (sid, line) in lines {
        let Some((_, n)) = line.indent else {
            return Err(payload_error(
                "goods.nomenclature",
                &line.key,
                "no goods.nomenclature.indents record",
            ));
        };
        let mut item = NomenclatureItem::new(
            line.code,
            indent_of(&line.code, n),
            line.description.map(|(_, _, d)| d).unwrap_or_default(),
        );
        item.valid_from = Some(line.from);
        item.valid_to = line.to;
        taric.insert(line.code);
        codes.insert(sid, line.code);
        items.push(item);
    }
    for r in recs.of(NOMENCLATURE_ITEM) {
        let r = r?;
        let item: NomenclatureItem = recs
            .by_kind
            .get(NOMENCLATURE_ITEM)
            .and_then(|m| m.get(r.key))
            .map(|rr| serde_json::from_value(rr.payload.clone()))
            .transpose()
            .map_err(|e| r.error(e.to_string()))?
            .ok_or_else(|| r.error("record vanished"))?;
        if !taric.contains(&item.code) {
            items.push(item);
        }
    }
    let nom_err = |e: crate::nomenclature::NomenclatureError| LayerError::Nomenclature {
        reason: e.to_string(),
    };
    let nom = Nomenclature::new(items).map_err(nom_err)?;
    let items: Vec<NomenclatureItem> = nom
        .items()
        .iter()
        .map(|it| {
            let mut it = it.clone();
            if taric.contains(&it.code) {
                it.declarable =
                    it.code.has_declarable_suffix() && nom.children(&it.code).is_empty();
            }
            it
        })
        .collect();
    Ok((Nomenclature::new(items).map_err(nom_err)?, codes))
}

type Areas = (
    Vec<GeographicalArea>,
    BTreeMap<u64, String>,
    Vec<Membership>,
    BTreeMap<String, String>,
);

fn build_areas(recs: &Records<'_>) -> Result<Areas, LayerError> {
    let mut areas = Vec::new();
    let mut ids: BTreeMap<u64, String> = BTreeMap::new();
    for r in recs.of("geographical.area") {
        let r = r?;
        let id = r.str("geographical.area.id")?;
        let kind = match r.str("geographical.code")?.as_str() {
            "0" => AreaKind::Country,
            "1" => AreaKind::Group,
            "2" => AreaKind::Region,
            other => return Err(r.error(format!("unknown geographical.code `{other}`"))),
        };
        ids.insert(r.u64("geographical.area.sid")?, id.clone());
        areas.push(GeographicalArea {
            id,
            kind,
            validity: Validity::new(
                r.date("validity.start.date")?,
                r.opt_date("validity.end.date")?,
            ),
        });
    }
    let mut memberships = Vec::new();
    for r in recs.of("geographical.area.membership") {
        let r = r?;
        let area = |field: &str| -> Result<String, LayerError> {
            let sid = r.u64(field)?;
            ids.get(&sid)
                .cloned()
                .ok_or_else(|| r.missing_parent("geographical.area", sid))
        };
        memberships.push(Membership {
            group: area("geographical.area.group.sid")?,
            member: area("geographical.area.sid")?,
            validity: Validity::new(
                r.date("validity.start.date")?,
                r.opt_date("validity.end.date")?,
            ),
        });
    }
    let mut periods: BTreeMap<u64, (String, NaiveDate)> = BTreeMap::new();
    for r in recs.of("geographical.area.description.period") {
        let r = r?;
        let sid = r.u64("geographical.area.sid")?;
        let id = ids
            .get(&sid)
            .cloned()
            .ok_or_else(|| r.missing_parent("geographical.area", sid))?;
        periods.insert(
            r.u64("geographical.area.description.period.sid")?,
            (id, r.date("validity.start.date")?),
        );
    }
    let mut best: BTreeMap<String, (bool, NaiveDate, String)> = BTreeMap::new();
    for r in recs.of("geographical.area.description") {
        let r = r?;
        let period = r.u64("geographical.area.description.period.sid")?;
        let (id, start) = periods
            .get(&period)
            .cloned()
            .ok_or_else(|| r.missing_parent("geographical.area.description.period", period))?;
        let english = r.str("language.id")? == "EN";
        let text = r.opt_str("description")?.unwrap_or_default();
        let better = best
            .get(&id)
            .is_none_or(|(e, s, _)| (english, start) >= (*e, *s));
        if better {
            best.insert(id, (english, start, text));
        }
    }
    let descriptions = best.into_iter().map(|(k, (_, _, d))| (k, d)).collect();
    Ok((areas, ids, memberships, descriptions))
}
