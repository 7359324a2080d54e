//! Tariff quotas drawn by an administration: allocation requests with their allocations,
//! returns of unused quantities, surveillance records, and each definition's balance with
//! its full history.
//!
//! # Exact FCFS drawing
//! A drawing is one transaction. It first makes sure the (administration, definition)
//! balance row exists (`INSERT … ON CONFLICT DO NOTHING`, writing the opening balance as
//! history seq 0 when it creates it), then *updates* that row before reading it
//! (`UPDATE … RETURNING`). The update takes the row lock on PostgreSQL, so concurrent
//! drawings on the same definition queue behind each other and each reads the balance the
//! previous one committed; on SQLite the first write takes the database write lock (and the
//! store has a single writer connection). Under the lock the caller's pure decision (the
//! tariff crate's FCFS rule) sees the current balance and says how much to grant; the
//! store refuses a grant that is negative or larger than the balance, so the balance can
//! never go below zero whatever the decision. The request, its allocation, the new balance,
//! a history row and a `quota.allocated` outbox event commit together. Returns work the
//! same way under the same lock.
//!
//! Requests are served in the order they *arrive* (commit order). A request arriving with an
//! acceptance time earlier than requests already served is served from what is left: served
//! allocations are final and are never re-allocated.
//!
//! # Visibility
//! Balances and their history are public information (administrations publish quota
//! balances), read per administration with [`Store::quota_balance`] and
//! [`Store::quota_balance_history`]. Requests, allocations, returns and surveillance
//! records name declarations and principals: they are read and written only through
//! [`Scoped`], by the administration's own principals.

use crate::db::{col, fmt_ts, parse_ts, Page, Store};
use crate::error::StoreError;
use crate::identity::not_found;
use crate::outbox::Tx;
use crate::scope::{Scope, Scoped};
use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};
use portorium_kernel::{PrincipalId, TenantCode};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use std::str::FromStr;

/// The balance a definition opens with, from the tariff (see
/// `portorium_tariff::quotas::QuotaDefinition::opening_balance`).
#[derive(Debug, Clone, PartialEq)]
pub struct QuotaOpening {
    /// The order number (`"091104"`).
    pub order_number: String,
    /// The definition drawn on.
    pub definition_sid: u64,
    /// The definition's volume: the balance never exceeds it. When the tariff's volume
    /// changes, the balance follows by the difference (history reason `volume_change`).
    pub volume: Decimal,
    /// The balance when no drawing has happened yet.
    pub opening_balance: Decimal,
}

/// A request to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAllocationRequest {
    pub quantity: Decimal,
    pub unit: String,
    /// When the declaration was accepted.
    pub accepted_at: DateTime<Utc>,
    pub declaration_reference: Option<String>,
}

/// A request with its allocation.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QuotaAllocationRow {
    /// The request id.
    pub id: String,
    pub tenant: String,
    pub order_number: String,
    pub definition_sid: u64,
    /// The quantity requested.
    #[schema(value_type = String, example = "250.000")]
    pub quantity: Decimal,
    #[schema(example = "TNE")]
    pub unit: String,
    pub accepted_at: DateTime<Utc>,
    pub requested_by: String,
    pub declaration_reference: Option<String>,
    /// The quantity allocated.
    #[schema(value_type = String)]
    pub granted: Decimal,
    /// What was returned of it so far.
    #[schema(value_type = String)]
    pub returned: Decimal,
    /// `allocated` (all requested) or `partially_allocated` (what was left).
    pub status: String,
    /// The balance right after the allocation.
    #[schema(value_type = String)]
    pub balance_after: Decimal,
    pub created_at: DateTime<Utc>,
}

/// A definition's balance.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QuotaBalanceRow {
    pub tenant: String,
    pub order_number: String,
    pub definition_sid: u64,
    #[schema(value_type = String)]
    pub volume: Decimal,
    #[schema(value_type = String)]
    pub balance: Decimal,
    /// Total allocated.
    #[schema(value_type = String)]
    pub allocated: Decimal,
    /// Total returned.
    #[schema(value_type = String)]
    pub returned: Decimal,
    /// Number of changes (the seq of the latest history row).
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

/// One change of a balance.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QuotaHistoryRow {
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    #[schema(value_type = String, example = "-250.000")]
    pub delta: Decimal,
    #[schema(value_type = String)]
    pub balance_after: Decimal,
    /// `opening`, `allocation`, `return` or `volume_change`.
    pub reason: String,
    /// The allocation request the change belongs to.
    pub reference: Option<String>,
}

/// The state a return is decided on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReturnContext {
    pub volume: Decimal,
    pub balance: Decimal,
    /// What the allocation still holds: granted minus earlier returns.
    pub returnable: Decimal,
}

/// A return of an unused quantity.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QuotaReturnRow {
    pub id: String,
    pub request_id: String,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    /// What was credited to the balance (less than `quantity` when the balance would
    /// exceed the volume).
    #[schema(value_type = String)]
    pub credited: Decimal,
    #[schema(value_type = String)]
    pub balance_after: Decimal,
    pub returned_by: String,
    pub created_at: DateTime<Utc>,
}

/// An imported quantity to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSurveillance {
    pub order_number: String,
    pub definition_sid: Option<u64>,
    pub quantity: Decimal,
    pub unit: String,
    pub imported_on: NaiveDate,
    pub declaration_reference: Option<String>,
}

/// A recorded imported quantity.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QuotaSurveillanceRow {
    pub id: String,
    pub tenant: String,
    pub order_number: String,
    pub definition_sid: Option<u64>,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    pub unit: String,
    pub imported_on: NaiveDate,
    pub declaration_reference: Option<String>,
    pub recorded_by: String,
    pub created_at: DateTime<Utc>,
}

fn dec(r: &AnyRow, name: &str) -> Result<Decimal> {
    let s: String = col(r, name)?;
    Decimal::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{name} {s:?}: {e}")))
}

fn sid_param(sid: u64) -> Result<i64> {
    i64::try_from(sid).map_err(|_| StoreError::Invalid(format!("sid {sid} is too large")))
}

fn sid_col(r: &AnyRow, name: &str) -> Result<u64> {
    let v: i64 = col(r, name)?;
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{name} {v}")))
}

fn check_text(field: &str, v: &str, max: usize) -> Result<()> {
    if v.trim().is_empty() || v.len() > max {
        return Err(StoreError::Invalid(format!(
            "{field} must be 1 to {max} characters"
        )));
    }
    Ok(())
}

fn check_reference(r: &Option<String>) -> Result<()> {
    match r {
        Some(r) => check_text("declaration_reference", r, 70),
        None => Ok(()),
    }
}

fn balance_row(r: &AnyRow) -> Result<QuotaBalanceRow> {
    Ok(QuotaBalanceRow {
        tenant: col(r, "tenant")?,
        order_number: col(r, "order_number")?,
        definition_sid: sid_col(r, "definition_sid")?,
        volume: dec(r, "volume")?,
        balance: dec(r, "balance")?,
        allocated: dec(r, "allocated")?,
        returned: dec(r, "returned")?,
        version: col(r, "version")?,
        updated_at: parse_ts(&col::<String>(r, "updated_at")?)?,
    })
}

fn history_row(r: &AnyRow) -> Result<QuotaHistoryRow> {
    Ok(QuotaHistoryRow {
        seq: col(r, "seq")?,
        occurred_at: parse_ts(&col::<String>(r, "occurred_at")?)?,
        delta: dec(r, "delta")?,
        balance_after: dec(r, "balance_after")?,
        reason: col(r, "reason")?,
        reference: col(r, "reference")?,
    })
}

fn allocation_row(r: &AnyRow) -> Result<QuotaAllocationRow> {
    Ok(QuotaAllocationRow {
        id: col(r, "id")?,
        tenant: col(r, "tenant")?,
        order_number: col(r, "order_number")?,
        definition_sid: sid_col(r, "definition_sid")?,
        quantity: dec(r, "quantity")?,
        unit: col(r, "unit")?,
        accepted_at: parse_ts(&col::<String>(r, "accepted_at")?)?,
        requested_by: col(r, "requested_by")?,
        declaration_reference: col(r, "declaration_reference")?,
        granted: dec(r, "granted")?,
        returned: dec(r, "returned")?,
        status: col(r, "status")?,
        balance_after: dec(r, "balance_after")?,
        created_at: parse_ts(&col::<String>(r, "created_at")?)?,
    })
}

fn surveillance_row(r: &AnyRow) -> Result<QuotaSurveillanceRow> {
    let sid: Option<i64> = col(r, "definition_sid")?;
    let day: String = col(r, "imported_on")?;
    Ok(QuotaSurveillanceRow {
        id: col(r, "id")?,
        tenant: col(r, "tenant")?,
        order_number: col(r, "order_number")?,
        definition_sid: sid
            .map(|v| u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("sid {v}"))))
            .transpose()?,
        quantity: dec(r, "quantity")?,
        unit: col(r, "unit")?,
        imported_on: NaiveDate::parse_from_str(&day, "%Y-%m-%d")
            .map_err(|e| StoreError::Corrupt(format!("imported_on {day:?}: {e}")))?,
        declaration_reference: col(r, "declaration_reference")?,
        recorded_by: col(r, "recorded_by")?,
        created_at: parse_ts(&col::<String>(r, "created_at")?)?,
    })
}

const ALLOCATION_COLUMNS: &str = "r.id, r.tenant, r.order_number, r.definition_sid, r.quantity, \
     r.unit, r.accepted_at, r.requested_by, r.declaration_reference, r.created_at, a.granted, \
     a.returned, a.status, a.balance_after";

async fn history(
    conn: &mut AnyConnection,
    tenant: &str,
    opening: &QuotaOpening,
    seq: i64,
    now: &str,
    (delta, balance_after, reason, reference): (Decimal, Decimal, &str, Option<&str>),
) -> Result<()> {
    sqlx::query(
        "INSERT INTO quota_balance_history (tenant, definition_sid, seq, order_number, \
         occurred_at, delta, balance_after, reason, reference) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(tenant)
    .bind(sid_param(opening.definition_sid)?)
    .bind(seq)
    .bind(&opening.order_number)
    .bind(now)
    .bind(delta.to_string())
    .bind(balance_after.to_string())
    .bind(reason)
    .bind(reference)
    .execute(conn)
    .await?;
    Ok(())
}

/// Creates the balance row if needed, takes its lock, and applies a volume change. Returns
/// the locked row (its version already counts the change about to be made).
async fn lock_balance(
    conn: &mut AnyConnection,
    tenant: &str,
    opening: &QuotaOpening,
    now: &str,
) -> Result<QuotaBalanceRow> {
    if opening.volume < Decimal::ZERO || opening.opening_balance < Decimal::ZERO {
        return Err(StoreError::Invalid(
            "a quota volume cannot be negative".into(),
        ));
    }
    let sid = sid_param(opening.definition_sid)?;
    let opening_balance = opening.opening_balance.min(opening.volume);
    let created = sqlx::query(
        "INSERT INTO quota_balances (tenant, definition_sid, order_number, volume, balance, \
         allocated, returned, version, updated_at) VALUES ($1, $2, $3, $4, $5, '0', '0', 0, $6) \
         ON CONFLICT (tenant, definition_sid) DO NOTHING",
    )
    .bind(tenant)
    .bind(sid)
    .bind(&opening.order_number)
    .bind(opening.volume.to_string())
    .bind(opening_balance.to_string())
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if created == 1 {
        history(
            conn,
            tenant,
            opening,
            0,
            now,
            (opening_balance, opening_balance, "opening", None),
        )
        .await?;
    }
    // The lock: an update before the read (row lock on PostgreSQL; SQLite already holds
    // the write lock since the insert above).
    let row = sqlx::query(
        "UPDATE quota_balances SET version = version + 1, updated_at = $3 \
         WHERE tenant = $1 AND definition_sid = $2 \
         RETURNING tenant, definition_sid, order_number, volume, balance, allocated, returned, \
         version, updated_at",
    )
    .bind(tenant)
    .bind(sid)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let mut row = balance_row(&row)?;
    if row.volume != opening.volume {
        // The tariff changed the definition's volume: the balance follows by the difference
        // (never below zero), recorded as its own history row.
        let balance = (row.balance + opening.volume - row.volume).max(Decimal::ZERO);
        let delta = balance - row.balance;
        history(
            conn,
            tenant,
            opening,
            row.version,
            now,
            (delta, balance, "volume_change", None),
        )
        .await?;
        row.version += 1;
        row.volume = opening.volume;
        row.balance = balance;
        sqlx::query(
            "UPDATE quota_balances SET version = $3, volume = $4, balance = $5 \
             WHERE tenant = $1 AND definition_sid = $2",
        )
        .bind(tenant)
        .bind(sid)
        .bind(row.version)
        .bind(row.volume.to_string())
        .bind(row.balance.to_string())
        .execute(&mut *conn)
        .await?;
    }
    Ok(row)
}

impl Store {
    /// The balance of a definition in an administration; `None` before the first drawing.
    pub async fn quota_balance(
        &self,
        tenant: &TenantCode,
        definition_sid: u64,
    ) -> Result<Option<QuotaBalanceRow>> {
        let row = sqlx::query(
            "SELECT tenant, definition_sid, order_number, volume, balance, allocated, returned, \
             version, updated_at FROM quota_balances WHERE tenant = $1 AND definition_sid = $2",
        )
        .bind(tenant.as_str())
        .bind(sid_param(definition_sid)?)
        .fetch_optional(self.read())
        .await?;
        row.as_ref().map(balance_row).transpose()
    }

    /// Every balance of an administration (definitions drawn on at least once).
    pub async fn quota_balances(&self, tenant: &TenantCode) -> Result<Vec<QuotaBalanceRow>> {
        let rows = sqlx::query(
            "SELECT tenant, definition_sid, order_number, volume, balance, allocated, returned, \
             version, updated_at FROM quota_balances WHERE tenant = $1 ORDER BY definition_sid",
        )
        .bind(tenant.as_str())
        .fetch_all(self.read())
        .await?;
        rows.iter().map(balance_row).collect()
    }

    /// Each definition's balance as it was just before `before` (from the history):
    /// (definition sid, balance). Definitions with no change before then are absent.
    pub async fn quota_balances_before(
        &self,
        tenant: &TenantCode,
        before: DateTime<Utc>,
    ) -> Result<Vec<(u64, Decimal)>> {
        let rows = sqlx::query(
            "SELECT h.definition_sid, h.balance_after FROM quota_balance_history h \
             WHERE h.tenant = $1 AND h.seq = (SELECT MAX(l.seq) FROM quota_balance_history l \
             WHERE l.tenant = h.tenant AND l.definition_sid = h.definition_sid \
             AND l.occurred_at < $2) ORDER BY h.definition_sid",
        )
        .bind(tenant.as_str())
        .bind(fmt_ts(before))
        .fetch_all(self.read())
        .await?;
        rows.iter()
            .map(|r| Ok((sid_col(r, "definition_sid")?, dec(r, "balance_after")?)))
            .collect()
    }

    /// The history of a definition's balance, oldest first, paged by seq.
    pub async fn quota_balance_history(
        &self,
        tenant: &TenantCode,
        definition_sid: u64,
        page: &Page,
    ) -> Result<(Vec<QuotaHistoryRow>, Option<String>)> {
        let after: i64 = match page.after.as_deref() {
            None | Some("") => -1,
            Some(a) => a
                .parse()
                .map_err(|_| StoreError::Invalid(format!("invalid cursor {a:?}")))?,
        };
        let rows = sqlx::query(
            "SELECT seq, occurred_at, delta, balance_after, reason, reference \
             FROM quota_balance_history WHERE tenant = $1 AND definition_sid = $2 AND seq > $3 \
             ORDER BY seq LIMIT $4",
        )
        .bind(tenant.as_str())
        .bind(sid_param(definition_sid)?)
        .bind(after)
        .bind(page.fetch_limit())
        .fetch_all(self.read())
        .await?;
        let rows = rows.iter().map(history_row).collect::<Result<Vec<_>>>()?;
        Ok(page.finish(rows, |r| r.seq.to_string()))
    }
}

impl Scoped<'_> {
    fn quota_tenant(&self, what: &str) -> Result<&TenantCode> {
        match &self.scope {
            Scope::Tenant(t) => Ok(t),
            _ => Err(StoreError::OutOfScope(format!(
                "only an administration {what}"
            ))),
        }
    }

    /// Draws on a quota definition (see the module docs). `decide` gets the current
    /// balance under the lock and returns the quantity to grant, or its refusal (returned
    /// as the inner `Err`, with nothing written).
    pub async fn quota_draw<E>(
        &self,
        by: &PrincipalId,
        opening: &QuotaOpening,
        request: &NewAllocationRequest,
        decide: impl FnOnce(Decimal) -> std::result::Result<Decimal, E>,
    ) -> Result<std::result::Result<QuotaAllocationRow, E>> {
        let tenant = self.quota_tenant("draws on its quotas")?.clone();
        check_text("unit", &request.unit, 8)?;
        check_reference(&request.declaration_reference)?;
        if request.quantity <= Decimal::ZERO {
            return Err(StoreError::Invalid("quantity must be positive".into()));
        }
        let mut tx = self.store.begin().await?;
        match draw_in(&mut tx, &tenant, by, opening, request, decide).await? {
            Ok(row) => {
                tx.commit().await?;
                Ok(Ok(row))
            }
            Err(e) => {
                tx.rollback().await?;
                Ok(Err(e))
            }
        }
    }

    /// An allocation request of this administration, with its allocation.
    pub async fn quota_allocation(&self, id: &str) -> Result<QuotaAllocationRow> {
        let tenant = self.quota_tenant("reads its quota allocations")?;
        let sql = format!(
            "SELECT {ALLOCATION_COLUMNS} FROM quota_allocation_requests r \
             JOIN quota_allocations a ON a.request_id = r.id WHERE r.id = $1 AND r.tenant = $2"
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(tenant.as_str())
            .fetch_optional(self.store.read())
            .await?
            .ok_or_else(|| not_found("quota allocation", id))?;
        allocation_row(&row)
    }

    /// Returns an unused quantity of allocation `request_id`. `decide` gets the balance, the
    /// volume and what the allocation still holds under the lock and returns the quantity
    /// to credit, or its refusal (the inner `Err`, with nothing written).
    pub async fn quota_return<E>(
        &self,
        by: &PrincipalId,
        opening: &QuotaOpening,
        request_id: &str,
        quantity: Decimal,
        decide: impl FnOnce(ReturnContext) -> std::result::Result<Decimal, E>,
    ) -> Result<std::result::Result<QuotaReturnRow, E>> {
        let tenant = self.quota_tenant("returns quota allocations")?.clone();
        let mut tx = self.store.begin().await?;
        match return_in(&mut tx, &tenant, by, opening, request_id, quantity, decide).await? {
            Ok(row) => {
                tx.commit().await?;
                Ok(Ok(row))
            }
            Err(e) => {
                tx.rollback().await?;
                Ok(Err(e))
            }
        }
    }

    /// Records an imported quantity under an order number (statistics; the balance is not
    /// touched).
    pub async fn quota_record_surveillance(
        &self,
        by: &PrincipalId,
        s: &NewSurveillance,
    ) -> Result<QuotaSurveillanceRow> {
        let tenant = self.quota_tenant("records quota surveillance")?.clone();
        check_text("unit", &s.unit, 8)?;
        check_text("order_number", &s.order_number, 6)?;
        check_reference(&s.declaration_reference)?;
        if s.quantity <= Decimal::ZERO {
            return Err(StoreError::Invalid("quantity must be positive".into()));
        }
        let store = self.store;
        let now = parse_ts(&store.now_text())?;
        let id = store.ids().new_id().to_string();
        sqlx::query(
            "INSERT INTO quota_surveillance (id, tenant, order_number, definition_sid, quantity, \
             unit, imported_on, declaration_reference, recorded_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&id)
        .bind(tenant.as_str())
        .bind(&s.order_number)
        .bind(s.definition_sid.map(sid_param).transpose()?)
        .bind(s.quantity.to_string())
        .bind(s.unit.trim())
        .bind(s.imported_on.format("%Y-%m-%d").to_string())
        .bind(s.declaration_reference.as_deref())
        .bind(by.to_string())
        .bind(fmt_ts(now))
        .execute(store.write())
        .await?;
        Ok(QuotaSurveillanceRow {
            id,
            tenant: tenant.to_string(),
            order_number: s.order_number.clone(),
            definition_sid: s.definition_sid,
            quantity: s.quantity,
            unit: s.unit.trim().to_owned(),
            imported_on: s.imported_on,
            declaration_reference: s.declaration_reference.clone(),
            recorded_by: by.to_string(),
            created_at: now,
        })
    }

    /// The surveillance records of an order number, by import date then id.
    pub async fn quota_surveillance(
        &self,
        order_number: &str,
    ) -> Result<Vec<QuotaSurveillanceRow>> {
        let tenant = self.quota_tenant("reads its quota surveillance")?;
        let rows = sqlx::query(
            "SELECT id, tenant, order_number, definition_sid, quantity, unit, imported_on, \
             declaration_reference, recorded_by, created_at FROM quota_surveillance \
             WHERE tenant = $1 AND order_number = $2 ORDER BY imported_on, id",
        )
        .bind(tenant.as_str())
        .bind(order_number)
        .fetch_all(self.store.read())
        .await?;
        rows.iter().map(surveillance_row).collect()
    }
}

/// A drawing inside the caller's transaction (see [`Scoped::quota_draw`]): the balance row
/// is locked first, `decide` sees the balance under the lock. On the inner `Err` nothing but
/// the balance row's creation is written; the caller rolls back or goes on.
pub(crate) async fn draw_in<E>(
    tx: &mut Tx<'_>,
    tenant: &TenantCode,
    by: &PrincipalId,
    opening: &QuotaOpening,
    request: &NewAllocationRequest,
    decide: impl FnOnce(Decimal) -> std::result::Result<Decimal, E>,
) -> Result<std::result::Result<QuotaAllocationRow, E>> {
    check_text("unit", &request.unit, 8)?;
    check_reference(&request.declaration_reference)?;
    if request.quantity <= Decimal::ZERO {
        return Err(StoreError::Invalid("quantity must be positive".into()));
    }
    let store = tx.store;
    let now_text = store.now_text();
    // As stored (microseconds).
    let now = parse_ts(&now_text)?;
    let row = lock_balance(tx.conn(), tenant.as_str(), opening, &now_text).await?;
    let granted = match decide(row.balance) {
        Ok(g) => g,
        Err(e) => return Ok(Err(e)),
    };
    if granted <= Decimal::ZERO || granted > row.balance || granted > request.quantity {
        return Err(StoreError::Invalid(format!(
            "cannot grant {granted} of {} with {} left",
            request.quantity, row.balance
        )));
    }
    let balance = row.balance - granted;
    let id = store.ids().new_id().to_string();
    let status = if granted == request.quantity {
        "allocated"
    } else {
        "partially_allocated"
    };
    let sid = sid_param(opening.definition_sid)?;
    sqlx::query(
        "INSERT INTO quota_allocation_requests (id, tenant, order_number, definition_sid, \
             quantity, unit, accepted_at, requested_by, declaration_reference, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(tenant.as_str())
    .bind(&opening.order_number)
    .bind(sid)
    .bind(request.quantity.to_string())
    .bind(request.unit.trim())
    .bind(fmt_ts(request.accepted_at))
    .bind(by.to_string())
    .bind(request.declaration_reference.as_deref())
    .bind(&now_text)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO quota_allocations (request_id, tenant, definition_sid, granted, \
             returned, status, balance_after, created_at) VALUES ($1, $2, $3, $4, '0', $5, $6, $7)",
    )
    .bind(&id)
    .bind(tenant.as_str())
    .bind(sid)
    .bind(granted.to_string())
    .bind(status)
    .bind(balance.to_string())
    .bind(&now_text)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE quota_balances SET balance = $3, allocated = $4 \
             WHERE tenant = $1 AND definition_sid = $2",
    )
    .bind(tenant.as_str())
    .bind(sid)
    .bind(balance.to_string())
    .bind((row.allocated + granted).to_string())
    .execute(tx.conn())
    .await?;
    history(
        tx.conn(),
        tenant.as_str(),
        opening,
        row.version,
        &now_text,
        (-granted, balance, "allocation", Some(&id)),
    )
    .await?;
    tx.emit(
        Some(tenant),
        "quota.allocated",
        &serde_json::json!({
            "request_id": id,
            "order_number": opening.order_number,
            "definition_sid": opening.definition_sid,
            "granted": granted.to_string(),
            "balance": balance.to_string(),
        }),
    )
    .await?;
    Ok(Ok(QuotaAllocationRow {
        id,
        tenant: tenant.to_string(),
        order_number: opening.order_number.clone(),
        definition_sid: opening.definition_sid,
        quantity: request.quantity,
        unit: request.unit.trim().to_owned(),
        accepted_at: parse_ts(&fmt_ts(request.accepted_at))?,
        requested_by: by.to_string(),
        declaration_reference: request.declaration_reference.clone(),
        granted,
        returned: Decimal::ZERO,
        status: status.to_owned(),
        balance_after: balance,
        created_at: now,
    }))
}

/// A return inside the caller's transaction (see [`Scoped::quota_return`]).
pub(crate) async fn return_in<E>(
    tx: &mut Tx<'_>,
    tenant: &TenantCode,
    by: &PrincipalId,
    opening: &QuotaOpening,
    request_id: &str,
    quantity: Decimal,
    decide: impl FnOnce(ReturnContext) -> std::result::Result<Decimal, E>,
) -> Result<std::result::Result<QuotaReturnRow, E>> {
    let store = tx.store;
    let now_text = store.now_text();
    // As stored (microseconds).
    let now = parse_ts(&now_text)?;
    let row = lock_balance(tx.conn(), tenant.as_str(), opening, &now_text).await?;
    // Read the allocation under the lock: concurrent returns of it are serialised too.
    let sql = format!(
        "SELECT {ALLOCATION_COLUMNS} FROM quota_allocation_requests r \
             JOIN quota_allocations a ON a.request_id = r.id WHERE r.id = $1 AND r.tenant = $2"
    );
    let Some(alloc) = sqlx::query(&sql)
        .bind(request_id)
        .bind(tenant.as_str())
        .fetch_optional(tx.conn())
        .await?
    else {
        return Err(not_found("quota allocation", request_id));
    };
    let alloc = allocation_row(&alloc)?;
    if alloc.definition_sid != opening.definition_sid {
        return Err(StoreError::Invalid(format!(
            "allocation {request_id} is on definition {}, not {}",
            alloc.definition_sid, opening.definition_sid
        )));
    }
    let returnable = alloc.granted - alloc.returned;
    let credited = match decide(ReturnContext {
        volume: row.volume,
        balance: row.balance,
        returnable,
    }) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let balance = row.balance + credited;
    if quantity <= Decimal::ZERO
        || quantity > returnable
        || credited < Decimal::ZERO
        || credited > quantity
        || balance > row.volume
    {
        return Err(StoreError::Invalid(format!(
            "cannot return {quantity} (crediting {credited}) of an allocation holding {returnable}"
        )));
    }
    let id = store.ids().new_id().to_string();
    let sid = sid_param(opening.definition_sid)?;
    sqlx::query(
        "INSERT INTO quota_returns (id, tenant, request_id, quantity, credited, balance_after, \
             returned_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(tenant.as_str())
    .bind(request_id)
    .bind(quantity.to_string())
    .bind(credited.to_string())
    .bind(balance.to_string())
    .bind(by.to_string())
    .bind(&now_text)
    .execute(tx.conn())
    .await?;
    sqlx::query("UPDATE quota_allocations SET returned = $2 WHERE request_id = $1")
        .bind(request_id)
        .bind((alloc.returned + quantity).to_string())
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "UPDATE quota_balances SET balance = $3, returned = $4 \
             WHERE tenant = $1 AND definition_sid = $2",
    )
    .bind(tenant.as_str())
    .bind(sid)
    .bind(balance.to_string())
    .bind((row.returned + credited).to_string())
    .execute(tx.conn())
    .await?;
    history(
        tx.conn(),
        tenant.as_str(),
        opening,
        row.version,
        &now_text,
        (credited, balance, "return", Some(request_id)),
    )
    .await?;
    tx.emit(
        Some(tenant),
        "quota.returned",
        &serde_json::json!({
            "request_id": request_id,
            "order_number": opening.order_number,
            "definition_sid": opening.definition_sid,
            "credited": credited.to_string(),
            "balance": balance.to_string(),
        }),
    )
    .await?;
    Ok(Ok(QuotaReturnRow {
        id,
        request_id: request_id.to_owned(),
        quantity,
        credited,
        balance_after: balance,
        returned_by: by.to_string(),
        created_at: now,
    }))
}
