//! Tariff layers: the common tariff and each administration's national layer, loaded by
//! imports that keep every superseded version so that the latest import of a layer can be
//! rolled back exactly; and the monthly exchange rates.
//!
//! Records are opaque here: a kind, a natural key, optional validity dates and a JSON payload.
//! The current version of a record is the one no import has superseded. An import runs in one
//! transaction and per layer imports and rollbacks are serialised on the layer's row in
//! `tariff_layers`, which also hands out the import sequence numbers that order the history.

use crate::db::{col, fmt_ts, parse_opt_ts, parse_ts, Backend, Placeholders, Store};
use crate::error::StoreError;
use crate::Result;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use portorium_kernel::{CurrencyCode, TenantCode};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// Whose tariff: the common tariff shared by all administrations, or one administration's
/// national layer. Stored and displayed as `common` or the administration's code (`NL`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TariffLayer {
    Common,
    Tenant(TenantCode),
}

impl TariffLayer {
    const COMMON: &'static str = "common";

    pub fn as_str(&self) -> &str {
        match self {
            TariffLayer::Common => Self::COMMON,
            TariffLayer::Tenant(t) => t.as_str(),
        }
    }
}

impl fmt::Display for TariffLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TariffLayer {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        if s == Self::COMMON {
            return Ok(TariffLayer::Common);
        }
        s.parse::<TenantCode>()
            .map(TariffLayer::Tenant)
            .map_err(|_| {
                StoreError::Invalid(format!(
                    "tariff layer {:?}: must be \"common\" or an administration's code",
                    s.chars().take(64).collect::<String>()
                ))
            })
    }
}

impl Serialize for TariffLayer {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TariffLayer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A record to store: the store does not interpret kind, key or payload.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTariffRecord {
    pub kind: String,
    pub key: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub payload: serde_json::Value,
}

/// One change of an import.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordChange {
    /// Insert the record, or replace the current version of (kind, key).
    Upsert(NewTariffRecord),
    /// Remove the current version of (kind, key); it must exist.
    Delete { kind: String, key: String },
}

/// An import of a tariff layer and what it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TariffImportRow {
    pub id: String,
    pub layer: String,
    pub source: String,
    pub format: String,
    /// `committed` or `rolled_back`.
    pub status: String,
    pub inserted: i64,
    pub updated: i64,
    pub deleted: i64,
    pub created_at: DateTime<Utc>,
    pub rolled_back_at: Option<DateTime<Utc>>,
}

/// The current version of a record, with the import that wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StoredTariffRecord {
    pub kind: String,
    pub key: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub import_id: String,
}

const STATUS_COMMITTED: &str = "committed";
const STATUS_ROLLED_BACK: &str = "rolled_back";

/// Roughly how many changes are written between two progress calls.
const PROGRESS_EVERY: usize = 1_000;
/// Keys per lookup or supersede statement. These statements are not kept prepared
/// (`persistent(false)`): after five runs PostgreSQL may switch a prepared statement to a generic
/// plan, and for `record_key IN (…900 parameters…)` that plan scans the table (a 20,000-record
/// update took 15 s instead of 1.5 s).
const KEYS_PER_STATEMENT: usize = 900;
/// Rows per multi-row insert (9 parameters each).
const ROWS_PER_INSERT: usize = 500;

fn fmt_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| StoreError::Corrupt(format!("date {s:?}: {e}")))
}

fn parse_opt_date(s: Option<String>) -> Result<Option<NaiveDate>> {
    s.as_deref().map(parse_date).transpose()
}

fn short(s: &str) -> String {
    s.chars().take(80).collect()
}

fn import_row(r: &AnyRow) -> Result<TariffImportRow> {
    Ok(TariffImportRow {
        id: col(r, "id")?,
        layer: col(r, "layer")?,
        source: col(r, "source")?,
        format: col(r, "format")?,
        status: col(r, "status")?,
        inserted: col(r, "inserted")?,
        updated: col(r, "updated")?,
        deleted: col(r, "deleted")?,
        created_at: parse_ts(&col::<String>(r, "created_at")?)?,
        rolled_back_at: parse_opt_ts(col(r, "rolled_back_at")?)?,
    })
}

fn record_row(r: &AnyRow) -> Result<StoredTariffRecord> {
    let payload: String = col(r, "payload")?;
    Ok(StoredTariffRecord {
        kind: col(r, "kind")?,
        key: col(r, "record_key")?,
        valid_from: parse_opt_date(col(r, "valid_from")?)?,
        valid_to: parse_opt_date(col(r, "valid_to")?)?,
        payload: serde_json::from_str(&payload)
            .map_err(|e| StoreError::Corrupt(format!("tariff record payload: {e}")))?,
        import_id: col(r, "created_by")?,
    })
}

fn check_text(field: &str, v: &str, max: usize) -> Result<()> {
    if v.trim().is_empty() || v.len() > max {
        return Err(StoreError::Invalid(format!(
            "{field} must be 1 to {max} characters"
        )));
    }
    Ok(())
}

/// What an import does to one (kind, key), worked out from its changes in order.
struct KeyPlan<'a> {
    kind: &'a str,
    key: &'a str,
    /// Index of the first change of this key; whether it is a delete (then the key must have
    /// a current version in the database).
    first: usize,
    first_is_delete: bool,
    /// The first change that deletes the key after an earlier change of the import deleted it.
    double_delete: Option<usize>,
    /// How many changes touch the key.
    changes: usize,
    /// The version the import leaves current, if any.
    last: Option<&'a NewTariffRecord>,
}

/// The database state of one (kind, key) before the import.
#[derive(Clone, Copy, Default)]
struct KeyState {
    max_version: i64,
    current: bool,
}

fn plan(changes: &[RecordChange]) -> Result<Vec<KeyPlan<'_>>> {
    let mut plans: Vec<KeyPlan<'_>> = Vec::new();
    let mut index: HashMap<(&str, &str), usize> = HashMap::with_capacity(changes.len());
    for (i, change) in changes.iter().enumerate() {
        let (kind, key, upsert) = match change {
            RecordChange::Upsert(r) => (r.kind.as_str(), r.key.as_str(), Some(r)),
            RecordChange::Delete { kind, key } => (kind.as_str(), key.as_str(), None),
        };
        check_text("tariff record kind", kind, 100)?;
        check_text("tariff record key", key, 500)?;
        if let Some(r) = upsert {
            if let (Some(from), Some(to)) = (r.valid_from, r.valid_to) {
                if to < from {
                    return Err(StoreError::Invalid(format!(
                        "change {}: {kind} {:?} is valid to {to}, before it is valid from {from}",
                        i + 1,
                        short(key)
                    )));
                }
            }
        }
        match index.get(&(kind, key)) {
            None => {
                index.insert((kind, key), plans.len());
                plans.push(KeyPlan {
                    kind,
                    key,
                    first: i,
                    first_is_delete: upsert.is_none(),
                    double_delete: None,
                    changes: 1,
                    last: upsert,
                });
            }
            Some(&p) => {
                let p = &mut plans[p];
                p.changes += 1;
                if upsert.is_none() && p.last.is_none() && p.double_delete.is_none() {
                    p.double_delete = Some(i);
                }
                p.last = upsert;
            }
        }
    }
    Ok(plans)
}

/// The database state of the given keys of a layer (keys without any version are absent).
async fn lookup(
    conn: &mut AnyConnection,
    backend: Backend,
    layer: &str,
    plans: &[KeyPlan<'_>],
) -> Result<HashMap<(String, String), KeyState>> {
    let mut by_kind: HashMap<&str, Vec<&str>> = HashMap::new();
    for p in plans {
        by_kind.entry(p.kind).or_default().push(p.key);
    }
    let mut states = HashMap::with_capacity(plans.len());
    for (kind, keys) in by_kind {
        for chunk in keys.chunks(KEYS_PER_STATEMENT) {
            let mut ph = Placeholders::new(backend);
            let mut sql = String::from(
                "SELECT kind, record_key, MAX(version) AS max_version, \
                 SUM(CASE WHEN superseded_by IS NULL THEN 1 ELSE 0 END) AS current_count \
                 FROM tariff_records WHERE layer = ",
            );
            ph.push(&mut sql);
            sql.push_str(" AND kind = ");
            ph.push(&mut sql);
            sql.push_str(" AND record_key IN ");
            ph.push_list(&mut sql, chunk.len());
            sql.push_str(" GROUP BY kind, record_key");
            let mut q = sqlx::query(&sql).persistent(false).bind(layer).bind(kind);
            for key in chunk {
                q = q.bind(*key);
            }
            for r in q.fetch_all(&mut *conn).await? {
                let current: i64 = col(&r, "current_count")?;
                states.insert(
                    (col(&r, "kind")?, col(&r, "record_key")?),
                    KeyState {
                        max_version: col(&r, "max_version")?,
                        current: current > 0,
                    },
                );
            }
        }
    }
    Ok(states)
}

/// Write one group of keys: supersede their current versions, insert the new ones.
async fn write_keys(
    conn: &mut AnyConnection,
    backend: Backend,
    layer: &str,
    import_id: &str,
    plans: &[KeyPlan<'_>],
    states: &HashMap<(String, String), KeyState>,
) -> Result<()> {
    let state = |p: &KeyPlan<'_>| {
        states
            .get(&(p.kind.to_owned(), p.key.to_owned()))
            .copied()
            .unwrap_or_default()
    };
    let mut supersede: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut inserts: Vec<(&NewTariffRecord, i64)> = Vec::new();
    for p in plans {
        let s = state(p);
        if s.current {
            supersede.entry(p.kind).or_default().push(p.key);
        }
        if let Some(r) = p.last {
            inserts.push((r, s.max_version + 1));
        }
    }
    for (kind, keys) in supersede {
        for chunk in keys.chunks(KEYS_PER_STATEMENT) {
            let mut ph = Placeholders::new(backend);
            let mut sql = String::from("UPDATE tariff_records SET superseded_by = ");
            ph.push(&mut sql);
            sql.push_str(" WHERE layer = ");
            ph.push(&mut sql);
            sql.push_str(" AND kind = ");
            ph.push(&mut sql);
            sql.push_str(" AND superseded_by IS NULL AND record_key IN ");
            ph.push_list(&mut sql, chunk.len());
            let mut q = sqlx::query(&sql)
                .persistent(false)
                .bind(import_id)
                .bind(layer)
                .bind(kind);
            for key in chunk {
                q = q.bind(*key);
            }
            q.execute(&mut *conn).await?;
        }
    }
    for chunk in inserts.chunks(ROWS_PER_INSERT) {
        let mut ph = Placeholders::new(backend);
        let mut sql = String::from(
            "INSERT INTO tariff_records (layer, kind, record_key, version, valid_from, valid_to, \
             payload, created_by, superseded_by) VALUES ",
        );
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push(',');
            }
            ph.push_list(&mut sql, 8);
            // superseded_by is NULL: splice it into the row.
            sql.pop();
            sql.push_str(",NULL)");
        }
        let mut q = sqlx::query(&sql);
        for (r, version) in chunk {
            q = q
                .bind(layer)
                .bind(r.kind.as_str())
                .bind(r.key.as_str())
                .bind(*version)
                .bind(r.valid_from.map(fmt_date))
                .bind(r.valid_to.map(fmt_date))
                .bind(r.payload.to_string())
                .bind(import_id);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Take the layer's lock for the rest of the transaction and return its sequence number,
/// advanced by one when `advance` is set.
pub(crate) async fn lock_layer(
    conn: &mut AnyConnection,
    layer: &str,
    advance: bool,
) -> Result<i64> {
    sqlx::query(
        "INSERT INTO tariff_layers (layer, head_seq) VALUES ($1, 0) ON CONFLICT (layer) DO NOTHING",
    )
    .bind(layer)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE tariff_layers SET head_seq = head_seq + $1 WHERE layer = $2")
        .bind(i64::from(advance))
        .bind(layer)
        .execute(&mut *conn)
        .await?;
    let (seq,): (i64,) = sqlx::query_as("SELECT head_seq FROM tariff_layers WHERE layer = $1")
        .bind(layer)
        .fetch_one(&mut *conn)
        .await?;
    Ok(seq)
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

impl Store {
    /// Apply `changes` to a layer in one transaction: all of them or none.
    ///
    /// An upsert of a key with a current version replaces it (the old version is kept,
    /// superseded by this import); a delete of a key without a current version fails with
    /// [`StoreError::Invalid`] naming the kind and key, and nothing is written. Several
    /// changes of one key apply in order. `on_progress` receives the number of changes
    /// written so far, about every 1,000 changes. A national layer needs its administration.
    pub async fn tariff_import(
        &self,
        layer: &TariffLayer,
        source: &str,
        format: &str,
        changes: &[RecordChange],
        on_progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<TariffImportRow> {
        let mut tx = self.write().begin().await?;
        let row = self
            .tariff_import_in(&mut tx, layer, source, format, changes, on_progress)
            .await?;
        tx.commit().await?;
        self.tariff_changed();
        Ok(row)
    }

    /// [`Store::tariff_import`] within the caller's transaction, left open: the import
    /// commits or rolls back with the caller's other writes (an approved national measure
    /// and its draft's status).
    pub(crate) async fn tariff_import_in(
        &self,
        tx: &mut AnyConnection,
        layer: &TariffLayer,
        source: &str,
        format: &str,
        changes: &[RecordChange],
        on_progress: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<TariffImportRow> {
        check_text("import source", source, 500)?;
        check_text("import format", format, 100)?;
        let plans = plan(changes)?;
        let layer_text = layer.as_str();
        let backend = self.backend();
        let now = self.now();
        let id = self.ids().new_id().to_string();
        if let TariffLayer::Tenant(code) = layer {
            let found: Option<(String,)> =
                sqlx::query_as("SELECT code FROM tenants WHERE code = $1")
                    .bind(code.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
            if found.is_none() {
                return Err(StoreError::NotFound {
                    what: "administration",
                    id: code.to_string(),
                });
            }
        }
        let seq = lock_layer(tx, layer_text, true).await?;
        let states = lookup(tx, backend, layer_text, &plans).await?;

        // Refuse the first change (in the order given) that deletes a missing record.
        let mut bad: Option<(usize, &KeyPlan<'_>)> = None;
        let (mut inserted, mut updated, mut deleted) = (0i64, 0i64, 0i64);
        for p in &plans {
            let current = states
                .get(&(p.kind.to_owned(), p.key.to_owned()))
                .is_some_and(|s| s.current);
            let at = if p.first_is_delete && !current {
                Some(p.first)
            } else {
                p.double_delete
            };
            if let Some(at) = at {
                if bad.is_none_or(|(b, _)| at < b) {
                    bad = Some((at, p));
                }
            }
            match (current, p.last.is_some()) {
                (false, true) => inserted += 1,
                (true, true) => updated += 1,
                (true, false) => deleted += 1,
                (false, false) => {}
            }
        }
        if let Some((at, p)) = bad {
            return Err(StoreError::Invalid(format!(
                "change {}: cannot delete {} {:?}: the {} layer has no current record with this key",
                at + 1,
                p.kind,
                short(p.key),
                layer_text
            )));
        }

        sqlx::query(
            "INSERT INTO tariff_imports (id, layer, seq, source, format, status, inserted, updated, \
             deleted, created_at, rolled_back_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)",
        )
        .bind(&id)
        .bind(layer_text)
        .bind(seq)
        .bind(source)
        .bind(format)
        .bind(STATUS_COMMITTED)
        .bind(inserted)
        .bind(updated)
        .bind(deleted)
        .bind(fmt_ts(now))
        .execute(&mut *tx)
        .await?;

        let mut done = 0usize;
        let mut start = 0usize;
        while start < plans.len() {
            // Group keys until they cover about PROGRESS_EVERY changes.
            let mut end = start;
            let mut covered = 0usize;
            while end < plans.len() && covered < PROGRESS_EVERY {
                covered += plans[end].changes;
                end += 1;
            }
            write_keys(tx, backend, layer_text, &id, &plans[start..end], &states).await?;
            done += covered;
            on_progress(done);
            start = end;
        }
        Ok(TariffImportRow {
            id,
            layer: layer_text.to_owned(),
            source: source.to_owned(),
            format: format.to_owned(),
            status: STATUS_COMMITTED.to_owned(),
            inserted,
            updated,
            deleted,
            created_at: now,
            rolled_back_at: None,
        })
    }

    /// The imports of a layer, newest first.
    pub async fn tariff_imports(&self, layer: &TariffLayer) -> Result<Vec<TariffImportRow>> {
        let rows = sqlx::query("SELECT * FROM tariff_imports WHERE layer = $1 ORDER BY seq DESC")
            .bind(layer.as_str())
            .fetch_all(self.read())
            .await?;
        rows.iter().map(import_row).collect()
    }

    /// The layer's latest import (committed or rolled back), if any: one row, for caches that
    /// must notice a new import or a rollback.
    pub async fn tariff_latest_import(
        &self,
        layer: &TariffLayer,
    ) -> Result<Option<TariffImportRow>> {
        let row =
            sqlx::query("SELECT * FROM tariff_imports WHERE layer = $1 ORDER BY seq DESC LIMIT 1")
                .bind(layer.as_str())
                .fetch_optional(self.read())
                .await?;
        row.as_ref().map(import_row).transpose()
    }

    /// Undo an import, in one transaction: the versions it superseded become current again
    /// and the versions it wrote are removed. Only the layer's latest committed import may be
    /// rolled back (after that, the one before it).
    pub async fn tariff_rollback(&self, import_id: &str) -> Result<TariffImportRow> {
        let not_found = || StoreError::NotFound {
            what: "tariff import",
            id: short(import_id),
        };
        let layer: Option<(String,)> =
            sqlx::query_as("SELECT layer FROM tariff_imports WHERE id = $1")
                .bind(import_id)
                .fetch_optional(self.read())
                .await?;
        let (layer,) = layer.ok_or_else(not_found)?;
        let now = self.now();
        let mut tx = self.write().begin().await?;
        lock_layer(&mut tx, &layer, false).await?;
        let row = sqlx::query("SELECT * FROM tariff_imports WHERE id = $1")
            .bind(import_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(not_found)?;
        let mut import = import_row(&row)?;
        if import.status != STATUS_COMMITTED {
            return Err(StoreError::Invalid(format!(
                "tariff import {} is already rolled back",
                import.id
            )));
        }
        let latest: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM tariff_imports WHERE layer = $1 AND status = $2 ORDER BY seq DESC LIMIT 1",
        )
        .bind(&layer)
        .bind(STATUS_COMMITTED)
        .fetch_optional(&mut *tx)
        .await?;
        match latest {
            Some((latest,)) if latest == import.id => {}
            Some((latest,)) => {
                return Err(StoreError::Invalid(format!(
                "tariff import {} is not the latest of the {layer} layer: roll back {latest} first",
                import.id
            )))
            }
            None => return Err(not_found()),
        }
        sqlx::query("DELETE FROM tariff_records WHERE created_by = $1")
            .bind(import_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE tariff_records SET superseded_by = NULL WHERE superseded_by = $1")
            .bind(import_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE tariff_imports SET status = $1, rolled_back_at = $2 WHERE id = $3")
            .bind(STATUS_ROLLED_BACK)
            .bind(fmt_ts(now))
            .bind(import_id)
            .execute(&mut *tx)
            .await?;
        // An approved national measure draft written by this import no longer stands.
        sqlx::query(
            "UPDATE national_measure_drafts SET status = $1, updated_at = $2, \
             version = version + 1 WHERE import_id = $3 AND status = $4",
        )
        .bind(crate::national_measures::DraftStatus::RolledBack.as_str())
        .bind(fmt_ts(now))
        .bind(import_id)
        .bind(crate::national_measures::DraftStatus::Approved.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.tariff_changed();
        import.status = STATUS_ROLLED_BACK.to_owned();
        import.rolled_back_at = Some(now);
        Ok(import)
    }

    /// The current records of a layer, optionally of one kind, in (kind, key) order.
    pub async fn tariff_records(
        &self,
        layer: &TariffLayer,
        kind: Option<&str>,
    ) -> Result<Vec<StoredTariffRecord>> {
        const COLS: &str = "kind, record_key, valid_from, valid_to, payload, created_by";
        let rows = match kind {
            Some(kind) => {
                sqlx::query(&format!(
                    "SELECT {COLS} FROM tariff_records WHERE layer = $1 AND kind = $2 \
                     AND superseded_by IS NULL ORDER BY kind, record_key"
                ))
                .bind(layer.as_str())
                .bind(kind)
                .fetch_all(self.read())
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {COLS} FROM tariff_records WHERE layer = $1 \
                     AND superseded_by IS NULL ORDER BY kind, record_key"
                ))
                .bind(layer.as_str())
                .fetch_all(self.read())
                .await?
            }
        };
        rows.iter().map(record_row).collect()
    }

    /// Set the EUR -> `currency` rate of the month starting on `month` (a first of month).
    pub async fn set_exchange_rate(
        &self,
        currency: &CurrencyCode,
        month: NaiveDate,
        rate: Decimal,
    ) -> Result<()> {
        if month.day() != 1 {
            return Err(StoreError::Invalid(format!(
                "exchange rate month {month} must be the first day of a month"
            )));
        }
        if rate <= Decimal::ZERO {
            return Err(StoreError::Invalid(format!(
                "exchange rate {rate} for {currency} must be positive"
            )));
        }
        sqlx::query(
            "INSERT INTO exchange_rates (currency, month, rate, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (currency, month) DO UPDATE SET rate = excluded.rate, updated_at = excluded.updated_at",
        )
        .bind(currency.as_str())
        .bind(fmt_date(month))
        .bind(rate.to_string())
        .bind(self.now_text())
        .execute(self.write())
        .await?;
        Ok(())
    }

    /// The EUR -> `currency` rate of the month containing `on`, with that month's first day.
    pub async fn exchange_rate(
        &self,
        currency: &CurrencyCode,
        on: NaiveDate,
    ) -> Result<Option<(NaiveDate, Decimal)>> {
        let month = first_of_month(on);
        let row: Option<(String,)> =
            sqlx::query_as("SELECT rate FROM exchange_rates WHERE currency = $1 AND month = $2")
                .bind(currency.as_str())
                .bind(fmt_date(month))
                .fetch_optional(self.read())
                .await?;
        row.map(|(rate,)| {
            Decimal::from_str(&rate)
                .map(|r| (month, r))
                .map_err(|e| StoreError::Corrupt(format!("exchange rate {rate:?}: {e}")))
        })
        .transpose()
    }
}

/// An exchange rate as stored (set by hand or through the administration API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ExchangeRateRow {
    pub currency: String,
    /// The first day of the month the rate applies to.
    pub month: NaiveDate,
    /// Units of `currency` per EUR.
    #[schema(value_type = String, example = "0.85765")]
    pub rate: Decimal,
    pub updated_at: DateTime<Utc>,
}

impl Store {
    /// Every stored EUR -> `currency` rate, newest month first.
    pub async fn exchange_rates(&self, currency: &CurrencyCode) -> Result<Vec<ExchangeRateRow>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT month, rate, updated_at FROM exchange_rates WHERE currency = $1 ORDER BY month DESC",
        )
        .bind(currency.as_str())
        .fetch_all(self.read())
        .await?;
        rows.into_iter()
            .map(|(month, rate, updated_at)| {
                Ok(ExchangeRateRow {
                    currency: currency.as_str().to_owned(),
                    month: NaiveDate::parse_from_str(&month, "%Y-%m-%d").map_err(|e| {
                        StoreError::Corrupt(format!("exchange rate month {month:?}: {e}"))
                    })?,
                    rate: Decimal::from_str(&rate)
                        .map_err(|e| StoreError::Corrupt(format!("exchange rate {rate:?}: {e}")))?,
                    updated_at: parse_ts(&updated_at)?,
                })
            })
            .collect()
    }
}

/// Tariff management within a scope: an administration's principals work on their national
/// layer; central principals (operators) on the common layer. Nobody else manages tariffs.
impl crate::scope::Scoped<'_> {
    /// The layer this scope manages.
    pub fn tariff_layer(&self) -> Result<TariffLayer> {
        match &self.scope {
            crate::scope::Scope::Tenant(t) => Ok(TariffLayer::Tenant(t.clone())),
            crate::scope::Scope::Central => Ok(TariffLayer::Common),
            _ => Err(StoreError::OutOfScope(
                "only an administration or the central operator manages a tariff layer".into(),
            )),
        }
    }

    /// Import into the scope's layer (see [`Store::tariff_import`]).
    pub async fn tariff_import(
        &self,
        source: &str,
        format: &str,
        changes: &[RecordChange],
    ) -> Result<TariffImportRow> {
        let layer = self.tariff_layer()?;
        self.store
            .tariff_import(&layer, source, format, changes, &|_| {})
            .await
    }

    /// The import history of the scope's layer, newest first.
    pub async fn tariff_imports(&self) -> Result<Vec<TariffImportRow>> {
        let layer = self.tariff_layer()?;
        self.store.tariff_imports(&layer).await
    }

    /// One import of the scope's layer; another layer's import is not found.
    pub async fn tariff_import_row(&self, import_id: &str) -> Result<TariffImportRow> {
        let layer = self.tariff_layer()?;
        let row = sqlx::query("SELECT * FROM tariff_imports WHERE id = $1 AND layer = $2")
            .bind(import_id)
            .bind(layer.as_str())
            .fetch_optional(self.store.read())
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "tariff import",
                id: short(import_id),
            })?;
        import_row(&row)
    }

    /// Roll back an import of the scope's layer (see [`Store::tariff_rollback`]). An import
    /// of another layer is not found; one that is not the latest, or already rolled back, is
    /// a conflict.
    pub async fn tariff_rollback(&self, import_id: &str) -> Result<TariffImportRow> {
        let import = self.tariff_import_row(import_id).await?;
        self.store
            .tariff_rollback(&import.id)
            .await
            .map_err(|e| match e {
                StoreError::Invalid(reason) => StoreError::InvalidState(reason),
                other => other,
            })
    }
}
