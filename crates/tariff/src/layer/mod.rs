//! Tariff layers: TARIC3 and nomenclature records stored generically as [`Change`]s
//! (kind, key, validity, JSON payload), and [`build`]: the current records of one or more
//! layers back into the domain ([`LayerData`]).
//!
//! # Changes
//! [`changes_from_envelope`] turns every record of a TARIC3 envelope into one [`Change`]:
//! update types *insert* and *update* are upserts, *delete* is a deletion
//! ([`Change::delete`]). `kind` is the record element (`"measure"`,
//! `"measure.component"`, …) and the payload is a JSON object of the record's fields,
//! element name → text exactly as TARIC writes it (dates `YYYY-MM-DD`, numbers and
//! decimals as strings; absent optional fields are left out). `valid_from` / `valid_to`
//! are the record's `validity.start.date` / `validity.end.date` when it has them.
//! [`changes_from_nomenclature`] turns lines loaded from the HS/CN files into kind
//! [`NOMENCLATURE_ITEM`] with the serialized [`NomenclatureItem`] as payload.
//!
//! Keys (the record's natural key; composite parts joined by `/`):
//!
//! | kind | key |
//! |---|---|
//! | `goods.nomenclature` | `goods.nomenclature.sid` |
//! | `goods.nomenclature.indents` | `goods.nomenclature.indent.sid` |
//! | `goods.nomenclature.description.period` | its period sid |
//! | `goods.nomenclature.description` | `period_sid/language` |
//! | `geographical.area` | `geographical.area.sid` |
//! | `geographical.area.description.period` | its period sid |
//! | `geographical.area.description` | `period_sid/language` |
//! | `geographical.area.membership` | `area_sid/group_sid/validity_start` |
//! | `measure` | `measure.sid` |
//! | `measure.component` | `measure_sid/duty_expression_id` |
//! | `measure.condition` | `measure.condition.sid` |
//! | `measure.condition.component` | `condition_sid/duty_expression_id` |
//! | `measure.excluded.geographical.area` | `measure_sid/area_sid` |
//! | `footnote.association.measure` | `measure_sid/footnote_type footnote_id` (e.g. `123/CD651`) |
//! | `base.regulation` | `role/regulation_id` |
//! | `monetary.exchange.period` | period sid |
//! | `monetary.exchange.rate` | `period_sid/child_currency` |
//! | `measure.type`, `duty.expression` | their id |
//! | `additional.code`, `quota.order.number`, `quota.order.number.origin`, `quota.definition` | their sid |
//! | `quota.balance.event` | `definition_sid/occurrence_timestamp` |
//! | `certificate`, `footnote` | type and code together (`N851`, `CD651`) |
//! | `nomenclature.item` | `code-suffix` (`0702000000-80`) |
//! | any other record | the values of its fields named `*.sid`, `*.id` or `*.code`, in field-name order, joined by `/`, then its `occurrence.timestamp` if it has one (the other quota events: `definition_sid/occurrence_timestamp`) |
//!
//! # Build
//! [`build`] takes the *current* records (deletions already applied by the store) of one or
//! more layers, common first, then a tenant's national layer: the same (kind, key) in a
//! later record replaces the earlier. It joins:
//! - goods nomenclature lines + their latest indent + their latest English description
//!   (TARIC indents are mapped to the nomenclature's: chapters 0, headings 1, other lines
//!   TARIC indent + 1), and `nomenclature.item` lines; a TARIC line replaces a
//!   `nomenclature.item` with the same code and suffix. `declarable` is suffix 80 without
//!   children;
//! - geographical areas (`geographical.code` 0 country, 1 group, 2 region) + memberships,
//!   area descriptions (English, latest period) into [`LayerData::area_descriptions`];
//! - base regulations: validity end = `effective.end.date`, else `validity.end.date`
//!   (the implicit end date of open measures);
//! - measures + components + conditions (+ condition components) + excluded areas +
//!   footnote associations + additional codes into [`crate::measures::Measure`]. A
//!   measure payload may carry `"national": true` (a national layer's own measure);
//! - monetary exchange periods + rates into [`ExchangeRate`]s;
//! - quota order numbers + origins (+ origin exclusions) + definitions (+ blocking and
//!   suspension periods, balance events, the other quota events and sub-quota associations)
//!   into [`LayerData::quotas`] ([`crate::quotas::Quotas`]). The untyped TARIC3 records
//!   (`quota.blocking.period`, `quota.suspension.period`,
//!   `quota.order.number.origin.exclusions`, the critical, exhaustion, reopening, unblocking,
//!   unsuspension and closed-and-transferred events, `quota.association`) are read from
//!   their raw fields.
//!
//! A record whose parent is missing is a [`LayerError::MissingParent`] naming the kind
//! and key. Two legitimate TARIC gaps are tolerated and counted in
//! [`LayerData::unresolved`] instead:
//! - `measure.regulation`: the measure's generating regulation is not among the
//!   `base.regulation` records (modification regulations are not carried, and the UK
//!   converted envelopes omit some, e.g. `Z0000000`): the measure is kept with its
//!   regulation id, without an implicit end date;
//! - `measure.goods_code`: a measure without a goods code (it cannot apply to a
//!   commodity) is skipped.
//!
//! Pure: no IO, no clock.

mod build;
mod changes;
mod import;
mod payload;
mod quota_records;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::measures::TariffData;
use crate::nomenclature::Nomenclature;

pub use build::build;
pub use changes::{changes_from_envelope, changes_from_nomenclature};
pub use import::{prepare_import, ImportError, ImportFile, PreparedImport, Taric3Validator};

/// The kind of nomenclature lines loaded from the HS/CN files.
pub const NOMENCLATURE_ITEM: &str = "nomenclature.item";

/// One stored change of a layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The record kind: the TARIC3 record element (`"measure"`, `"measure.component"`, …)
    /// or [`NOMENCLATURE_ITEM`].
    pub kind: String,
    /// The record's natural key (see the module docs).
    pub key: String,
    /// First day of validity, when the record has one.
    pub valid_from: Option<NaiveDate>,
    /// Last day of validity, when the record has one.
    pub valid_to: Option<NaiveDate>,
    /// The record's fields.
    pub payload: serde_json::Value,
    /// Whether the record is deleted (TARIC update type 2).
    pub delete: bool,
}

/// A current record of a layer, as given to [`build`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecordRef<'a> {
    /// The record kind.
    pub kind: &'a str,
    /// The record key.
    pub key: &'a str,
    /// The record's fields.
    pub payload: &'a serde_json::Value,
}

impl<'a> From<&'a Change> for RecordRef<'a> {
    fn from(c: &'a Change) -> Self {
        Self {
            kind: &c.kind,
            key: &c.key,
            payload: &c.payload,
        }
    }
}

/// A monthly exchange rate: 1 `base` = `rate` `currency` from `month`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeRate {
    /// The parent currency (`"EUR"`).
    pub base: String,
    /// The child currency, e.g. `"GBP"`.
    pub currency: String,
    /// The first day of the period (the first day of the month for monthly rates).
    pub month: NaiveDate,
    /// The last day of the period, when given.
    pub until: Option<NaiveDate>,
    /// Units of `currency` per unit of `base`.
    pub rate: Decimal,
}

/// The domain rebuilt from layer records.
#[derive(Debug, Clone, Default)]
pub struct LayerData {
    /// Measures, areas, memberships and regulations.
    pub tariff: TariffData,
    /// The goods nomenclature.
    pub nomenclature: Nomenclature,
    /// Exchange rates, by base, currency, then month.
    pub exchange_rates: Vec<ExchangeRate>,
    /// Area descriptions (English): area id → description.
    pub area_descriptions: BTreeMap<String, String>,
    /// Quota order numbers with their origins and definitions.
    pub quotas: crate::quotas::Quotas,
    /// Tolerated gaps, by reason (see the module docs): reason → count.
    pub unresolved: BTreeMap<String, usize>,
}

impl LayerData {
    /// The rate from `base` to `currency` in force on `date`: the period with the latest
    /// start on or before `date` (and not ended before it).
    pub fn exchange_rate(&self, base: &str, currency: &str, date: NaiveDate) -> Option<Decimal> {
        self.exchange_rates
            .iter()
            .filter(|r| r.base == base && r.currency == currency && r.month <= date)
            .filter(|r| r.until.is_none_or(|u| date <= u))
            .max_by_key(|r| r.month)
            .map(|r| r.rate)
    }
}

/// Why changes could not be made or a layer could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayerError {
    /// A record's payload is malformed (not an object, a field missing or invalid).
    #[error("{kind} {key}: {reason}")]
    Payload {
        /// The record kind.
        kind: String,
        /// The record key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A record references a parent record that is not there.
    #[error("{kind} {key}: missing {parent_kind} {parent_key}")]
    MissingParent {
        /// The record kind.
        kind: String,
        /// The record key.
        key: String,
        /// The parent's kind.
        parent_kind: String,
        /// The parent's key.
        parent_key: String,
    },
    /// The nomenclature lines do not form a nomenclature (e.g. two lines with the same
    /// code and suffix overlapping in time).
    #[error("nomenclature: {reason}")]
    Nomenclature {
        /// What is wrong.
        reason: String,
    },
}
