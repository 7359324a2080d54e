//! Declarations at the storage level: authorisations, guarantees with their reservations,
//! and transit movements with their messages and history.
//!
//! The store knows nothing of NCTS messages: a message is an opaque body with typed columns
//! (type, direction, the sender's message identification, content hash), and a state is text.
//!
//! # Visibility
//! An administration (`Scope::Tenant`) sees and manages its own authorisations, guarantees
//! and the movements whose office of departure (an arrival: destination) is one of its
//! offices; a trader sees only rows it holds; the central scope reads everything; agencies
//! see none of it.
//!
//! # Movements
//! Movements are written only by the transit service's transactions (`crate::transit`,
//! [`Scoped::transit_begin`]); this module holds their row types, the one mapping of their
//! rows (`MOVEMENT_COLUMNS`, `movement_row`, `message_row`) and the scoped reads.
//!
//! # Guarantees are never over-reserved
//! [`Scoped::guarantee_reserve`] first *updates* the guarantee row (its version), which takes
//! the row lock on PostgreSQL (the write lock on SQLite, whose store has one writer), and only
//! then reads the reserved total the row keeps (`reserved_total`, which every reservation and
//! release updates under the same lock; a row from before migration 0010 has none, and its
//! current reservations are summed once), so concurrent reservations queue behind each other
//! and each sees what the previous ones committed.

use crate::db::{col, parse_opt_ts, parse_ts, Page};
use crate::error::StoreError;
use crate::identity::not_found;
use crate::refdata::{parse_day, parse_opt_day};
use crate::scope::{Scope, Scoped};
use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};
use portorium_kernel::{CurrencyCode, Eori, PrincipalId, TenantCode};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use std::str::FromStr;

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub(crate) fn dec(r: &AnyRow, name: &str) -> Result<Decimal> {
    let s: String = col(r, name)?;
    Decimal::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{name} {s:?}: {e}")))
}

pub(crate) fn check_text(field: &str, v: &str, max: usize) -> Result<()> {
    if v.trim().is_empty() || v.len() > max {
        return Err(StoreError::Invalid(format!(
            "{field} must be 1 to {max} characters"
        )));
    }
    Ok(())
}

fn check_code(field: &str, v: &str, max: usize) -> Result<()> {
    check_text(field, v, max)?;
    if !v
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Err(StoreError::Invalid(format!(
            "{field} must be upper-case letters and digits"
        )));
    }
    Ok(())
}

fn check_period(from: NaiveDate, until: Option<NaiveDate>) -> Result<()> {
    match until {
        Some(u) if u < from => Err(StoreError::Invalid(
            "valid_until must not be before valid_from".into(),
        )),
        _ => Ok(()),
    }
}

/// The administration a scope manages as, or `OutOfScope`.
fn admin<'a>(scope: &'a Scope, what: &str) -> Result<&'a TenantCode> {
    match scope {
        Scope::Tenant(t) => Ok(t),
        _ => Err(StoreError::OutOfScope(format!(
            "only an administration {what}"
        ))),
    }
}

/// `(column = value)` filter of a scope over a table with `tenant` and `holder` columns:
/// (sql fragment with `$n`, bound value). Central gets `$n = ''` (always true for '').
pub(crate) fn visibility(scope: &Scope, n: usize) -> Result<(String, String)> {
    match scope {
        Scope::Central => Ok((format!("${n} = ''"), String::new())),
        Scope::Tenant(t) => Ok((format!("tenant = ${n}"), t.to_string())),
        Scope::Trader(e) => Ok((format!("holder = ${n}"), e.to_string())),
        Scope::Agency { .. } => Err(StoreError::OutOfScope(
            "agencies have no access to declarations".into(),
        )),
    }
}

fn visible(scope: &Scope, tenant: &str, holder: &str) -> bool {
    match scope {
        Scope::Central => true,
        Scope::Tenant(t) => t.as_str() == tenant,
        Scope::Trader(e) => e.as_str() == holder,
        Scope::Agency { .. } => false,
    }
}

async fn trader_exists(scoped: &Scoped<'_>, holder: &Eori) -> Result<()> {
    let found: Option<(String,)> = sqlx::query_as("SELECT eori FROM traders WHERE eori = $1")
        .bind(holder.as_str())
        .fetch_optional(scoped.store.read())
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::Invalid(format!(
            "holder {holder} is not in the EORI registry"
        ))),
    }
}

// ---------------------------------------------------------------- authorisations

/// An authorisation to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuthorisation {
    pub holder: Eori,
    /// `C521` (authorised consignor), `C505` (comprehensive guarantee)…
    pub type_code: String,
    pub reference: String,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}

/// An authorisation held by a trader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuthorisationRow {
    pub id: String,
    pub tenant: String,
    #[schema(example = "NL000000001")]
    pub holder: String,
    #[schema(example = "C521")]
    pub type_code: String,
    pub reference: String,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub revoked_by: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl AuthorisationRow {
    /// Valid on `on`: inside its period and not revoked.
    pub fn valid_on(&self, on: NaiveDate) -> bool {
        self.revoked_at.is_none()
            && self.valid_from <= on
            && self.valid_until.is_none_or(|u| on <= u)
    }
}

const AUTH_COLUMNS: &str = "id, tenant, holder, type_code, reference, valid_from, valid_until, \
     created_by, created_at, revoked_by, revoked_at";

fn authorisation_row(r: &AnyRow) -> Result<AuthorisationRow> {
    Ok(AuthorisationRow {
        id: col(r, "id")?,
        tenant: col(r, "tenant")?,
        holder: col(r, "holder")?,
        type_code: col(r, "type_code")?,
        reference: col(r, "reference")?,
        valid_from: parse_day("valid_from", &col::<String>(r, "valid_from")?)?,
        valid_until: parse_opt_day("valid_until", col(r, "valid_until")?)?,
        created_by: col(r, "created_by")?,
        created_at: parse_ts(&col::<String>(r, "created_at")?)?,
        revoked_by: col(r, "revoked_by")?,
        revoked_at: parse_opt_ts(col(r, "revoked_at")?)?,
    })
}

impl Scoped<'_> {
    /// Registers an authorisation for a trader of the EORI registry.
    pub async fn authorisation_add(
        &self,
        by: &PrincipalId,
        a: &NewAuthorisation,
    ) -> Result<AuthorisationRow> {
        let tenant = admin(&self.scope, "registers authorisations")?.clone();
        check_code("type_code", &a.type_code, 4)?;
        check_text("reference", &a.reference, 35)?;
        check_period(a.valid_from, a.valid_until)?;
        trader_exists(self, &a.holder).await?;
        let store = self.store;
        let now_text = store.now_text();
        let id = store.ids().new_id().to_string();
        let mut tx = store.begin().await?;
        sqlx::query(
            "INSERT INTO authorisations (id, tenant, holder, type_code, reference, valid_from, \
             valid_until, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(tenant.as_str())
        .bind(a.holder.as_str())
        .bind(&a.type_code)
        .bind(a.reference.trim())
        .bind(day(a.valid_from))
        .bind(a.valid_until.map(day))
        .bind(by.to_string())
        .bind(&now_text)
        .execute(tx.conn())
        .await
        .map_err(|e| {
            StoreError::conflict_on_unique(
                e,
                "authorisation",
                &format!("{} {}", a.type_code, a.reference.trim()),
            )
        })?;
        tx.emit(
            Some(&tenant),
            "authorisation.added",
            &serde_json::json!({ "id": id, "holder": a.holder, "type": a.type_code }),
        )
        .await?;
        tx.commit().await?;
        Ok(AuthorisationRow {
            id,
            tenant: tenant.to_string(),
            holder: a.holder.to_string(),
            type_code: a.type_code.clone(),
            reference: a.reference.trim().to_owned(),
            valid_from: a.valid_from,
            valid_until: a.valid_until,
            created_by: by.to_string(),
            created_at: parse_ts(&now_text)?,
            revoked_by: None,
            revoked_at: None,
        })
    }

    /// An authorisation by id, if visible in this scope.
    pub async fn authorisation(&self, id: &str) -> Result<AuthorisationRow> {
        let row = sqlx::query(&format!(
            "SELECT {AUTH_COLUMNS} FROM authorisations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.store.read())
        .await?
        .ok_or_else(|| not_found("authorisation", id))?;
        let a = authorisation_row(&row)?;
        if visible(&self.scope, &a.tenant, &a.holder) {
            Ok(a)
        } else {
            Err(not_found("authorisation", id))
        }
    }

    /// An authorisation by type and reference in this administration (what a declaration
    /// cites), revoked or not; the caller checks holder and validity (`valid_on`).
    pub async fn authorisation_by_reference(
        &self,
        type_code: &str,
        reference: &str,
    ) -> Result<AuthorisationRow> {
        let tenant = admin(&self.scope, "looks up authorisations by reference")?;
        let row = sqlx::query(&format!(
            "SELECT {AUTH_COLUMNS} FROM authorisations \
             WHERE tenant = $1 AND type_code = $2 AND reference = $3"
        ))
        .bind(tenant.as_str())
        .bind(type_code)
        .bind(reference)
        .fetch_optional(self.store.read())
        .await?
        .ok_or_else(|| not_found("authorisation", &format!("{type_code} {reference}")))?;
        authorisation_row(&row)
    }

    /// Authorisations visible in this scope, optionally of one holder, by id.
    pub async fn authorisations(
        &self,
        holder: Option<&Eori>,
        page: &Page,
    ) -> Result<(Vec<AuthorisationRow>, Option<String>)> {
        let (filter, value) = visibility(&self.scope, 1)?;
        let rows = sqlx::query(&format!(
            "SELECT {AUTH_COLUMNS} FROM authorisations WHERE {filter} \
             AND ($2 = '' OR holder = $2) AND id > $3 ORDER BY id LIMIT $4"
        ))
        .bind(value)
        .bind(holder.map(|h| h.to_string()).unwrap_or_default())
        .bind(page.after())
        .bind(page.fetch_limit())
        .fetch_all(self.store.read())
        .await?;
        let rows = rows
            .iter()
            .map(authorisation_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(page.finish(rows, |a| a.id.clone()))
    }

    /// Revokes an authorisation of this administration (kept for history).
    pub async fn authorisation_revoke(
        &self,
        by: &PrincipalId,
        id: &str,
    ) -> Result<AuthorisationRow> {
        let tenant = admin(&self.scope, "revokes authorisations")?.clone();
        let now_text = self.store.now_text();
        let mut tx = self.store.begin().await?;
        let done = sqlx::query(
            "UPDATE authorisations SET revoked_by = $3, revoked_at = $4 \
             WHERE id = $1 AND tenant = $2 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(tenant.as_str())
        .bind(by.to_string())
        .bind(&now_text)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if done == 0 {
            tx.rollback().await?;
            let a = self.authorisation(id).await?;
            return Err(StoreError::InvalidState(format!(
                "authorisation {} was already revoked",
                a.id
            )));
        }
        tx.emit(
            Some(&tenant),
            "authorisation.revoked",
            &serde_json::json!({ "id": id }),
        )
        .await?;
        tx.commit().await?;
        self.authorisation(id).await
    }
}

// ---------------------------------------------------------------- guarantees

/// A guarantee to register. The access code arrives hashed (argon2id PHC string from
/// `portorium_trust::hash_password`); the store never sees the code itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGuarantee {
    /// Guarantee reference number (`24NL00000000000001`).
    pub grn: String,
    /// Guarantee type (`1` comprehensive guarantee, `2` individual…, code list CL251).
    pub guarantee_type: String,
    pub access_code_hash: String,
    pub reference_amount: Decimal,
    pub currency: CurrencyCode,
    pub holder: Eori,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}

/// A guarantee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GuaranteeRow {
    pub grn: String,
    pub tenant: String,
    pub guarantee_type: String,
    /// Never serialised.
    #[serde(skip)]
    #[schema(ignore)]
    pub access_code_hash: String,
    #[schema(value_type = String, example = "50000.00")]
    pub reference_amount: Decimal,
    #[schema(value_type = String, example = "EUR")]
    pub currency: CurrencyCode,
    pub holder: String,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl GuaranteeRow {
    pub fn valid_on(&self, on: NaiveDate) -> bool {
        self.valid_from <= on && self.valid_until.is_none_or(|u| on <= u)
    }
}

/// What a guarantee covers now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GuaranteeBalance {
    pub grn: String,
    #[schema(value_type = String, example = "EUR")]
    pub currency: CurrencyCode,
    #[schema(value_type = String)]
    pub reference_amount: Decimal,
    /// Sum of the current reservations.
    #[schema(value_type = String)]
    pub reserved: Decimal,
    /// Reference amount minus reserved.
    #[schema(value_type = String)]
    pub available: Decimal,
}

/// A reservation of a guarantee for a movement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GuaranteeReservationRow {
    pub id: String,
    pub grn: String,
    pub movement_id: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// `reserved` or `released`.
    pub state: String,
    pub reserved_at: DateTime<Utc>,
    pub released_at: Option<DateTime<Utc>>,
}

/// Why a reservation was refused (nothing was written).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GuaranteeShortfall {
    pub grn: String,
    #[schema(value_type = String)]
    pub requested: Decimal,
    #[schema(value_type = String)]
    pub available: Decimal,
}

const GUARANTEE_COLUMNS: &str = "grn, tenant, guarantee_type, access_code_hash, \
     reference_amount, currency, holder, valid_from, valid_until, created_by, created_at";

fn guarantee_row(r: &AnyRow) -> Result<GuaranteeRow> {
    Ok(GuaranteeRow {
        grn: col(r, "grn")?,
        tenant: col(r, "tenant")?,
        guarantee_type: col(r, "guarantee_type")?,
        access_code_hash: col(r, "access_code_hash")?,
        reference_amount: dec(r, "reference_amount")?,
        currency: col::<String>(r, "currency")?.parse()?,
        holder: col(r, "holder")?,
        valid_from: parse_day("valid_from", &col::<String>(r, "valid_from")?)?,
        valid_until: parse_opt_day("valid_until", col(r, "valid_until")?)?,
        created_by: col(r, "created_by")?,
        created_at: parse_ts(&col::<String>(r, "created_at")?)?,
    })
}

pub(crate) const RESERVATION_COLUMNS: &str =
    "id, grn, movement_id, amount, state, reserved_at, released_at";

pub(crate) fn reservation_row(r: &AnyRow) -> Result<GuaranteeReservationRow> {
    Ok(GuaranteeReservationRow {
        id: col(r, "id")?,
        grn: col(r, "grn")?,
        movement_id: col(r, "movement_id")?,
        amount: dec(r, "amount")?,
        state: col(r, "state")?,
        reserved_at: parse_ts(&col::<String>(r, "reserved_at")?)?,
        released_at: parse_opt_ts(col(r, "released_at")?)?,
    })
}

/// The sum of a guarantee's current reservations.
async fn reserved_sum(conn: &mut AnyConnection, grn: &str) -> Result<Decimal> {
    let rows = sqlx::query(
        "SELECT amount FROM guarantee_reservations WHERE grn = $1 AND state = 'reserved'",
    )
    .bind(grn)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .try_fold(Decimal::ZERO, |acc, r| Ok(acc + dec(r, "amount")?))
}

/// A guarantee's reserved total, read under its lock (`kept`: its `reserved_total` column):
/// the running total kept on the row, or, on a row from before migration 0010, the sum of its
/// current reservations.
pub(crate) async fn reserved_total(
    conn: &mut AnyConnection,
    grn: &str,
    kept: Option<String>,
) -> Result<Decimal> {
    match kept {
        Some(t) => Decimal::from_str(&t)
            .map_err(|e| StoreError::Corrupt(format!("reserved_total {t:?}: {e}"))),
        None => reserved_sum(conn, grn).await,
    }
}

/// Keeps a guarantee's new reserved total on its row (under the lock the caller holds).
pub(crate) async fn keep_reserved_total(
    conn: &mut AnyConnection,
    grn: &str,
    total: Decimal,
) -> Result<()> {
    sqlx::query("UPDATE guarantees SET reserved_total = $2 WHERE grn = $1")
        .bind(grn)
        .bind(total.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Releases a movement's current reservations on guarantee `grn`: takes the guarantee's lock
/// (as a reservation does), marks them released and keeps the lowered running total.
pub(crate) async fn release_on(
    conn: &mut AnyConnection,
    grn: &str,
    movement_id: &str,
    now_text: &str,
) -> Result<Vec<GuaranteeReservationRow>> {
    let kept: Option<(Option<String>,)> = sqlx::query_as(
        "UPDATE guarantees SET version = version + 1, updated_at = $2 WHERE grn = $1 \
         RETURNING reserved_total",
    )
    .bind(grn)
    .bind(now_text)
    .fetch_optional(&mut *conn)
    .await?;
    let mut total = reserved_total(&mut *conn, grn, kept.and_then(|k| k.0)).await?;
    let rows = sqlx::query(&format!(
        "UPDATE guarantee_reservations SET state = 'released', released_at = $3 \
         WHERE grn = $1 AND movement_id = $2 AND state = 'reserved' \
         RETURNING {RESERVATION_COLUMNS}"
    ))
    .bind(grn)
    .bind(movement_id)
    .bind(now_text)
    .fetch_all(&mut *conn)
    .await?;
    let mut released = Vec::with_capacity(rows.len());
    for r in &rows {
        let row = reservation_row(r)?;
        total -= row.amount;
        released.push(row);
    }
    keep_reserved_total(conn, grn, total).await?;
    Ok(released)
}

impl Scoped<'_> {
    /// Registers a guarantee of this administration.
    pub async fn guarantee_add(&self, by: &PrincipalId, g: &NewGuarantee) -> Result<GuaranteeRow> {
        let tenant = admin(&self.scope, "registers guarantees")?.clone();
        check_code("grn", &g.grn, 24)?;
        check_code("guarantee_type", &g.guarantee_type, 1)?;
        if !g.access_code_hash.starts_with('$') {
            return Err(StoreError::Invalid(
                "the access code must be stored hashed".into(),
            ));
        }
        if g.reference_amount <= Decimal::ZERO {
            return Err(StoreError::Invalid(
                "reference_amount must be positive".into(),
            ));
        }
        check_period(g.valid_from, g.valid_until)?;
        trader_exists(self, &g.holder).await?;
        let store = self.store;
        let now_text = store.now_text();
        let mut tx = store.begin().await?;
        sqlx::query(
            "INSERT INTO guarantees (grn, tenant, guarantee_type, access_code_hash, \
             reference_amount, currency, holder, valid_from, valid_until, version, created_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $11)",
        )
        .bind(&g.grn)
        .bind(tenant.as_str())
        .bind(&g.guarantee_type)
        .bind(&g.access_code_hash)
        .bind(g.reference_amount.to_string())
        .bind(g.currency.as_str())
        .bind(g.holder.as_str())
        .bind(day(g.valid_from))
        .bind(g.valid_until.map(day))
        .bind(by.to_string())
        .bind(&now_text)
        .execute(tx.conn())
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, "guarantee", &g.grn))?;
        tx.emit(
            Some(&tenant),
            "guarantee.added",
            &serde_json::json!({ "grn": g.grn, "holder": g.holder }),
        )
        .await?;
        tx.commit().await?;
        Ok(GuaranteeRow {
            grn: g.grn.clone(),
            tenant: tenant.to_string(),
            guarantee_type: g.guarantee_type.clone(),
            access_code_hash: g.access_code_hash.clone(),
            reference_amount: g.reference_amount,
            currency: g.currency.clone(),
            holder: g.holder.to_string(),
            valid_from: g.valid_from,
            valid_until: g.valid_until,
            created_by: by.to_string(),
            created_at: parse_ts(&now_text)?,
        })
    }

    /// A guarantee visible in this scope.
    pub async fn guarantee(&self, grn: &str) -> Result<GuaranteeRow> {
        let row = sqlx::query(&format!(
            "SELECT {GUARANTEE_COLUMNS} FROM guarantees WHERE grn = $1"
        ))
        .bind(grn)
        .fetch_optional(self.store.read())
        .await?
        .ok_or_else(|| not_found("guarantee", grn))?;
        let g = guarantee_row(&row)?;
        if visible(&self.scope, &g.tenant, &g.holder) {
            Ok(g)
        } else {
            Err(not_found("guarantee", grn))
        }
    }

    /// Guarantees visible in this scope, by GRN.
    pub async fn guarantees(&self, page: &Page) -> Result<(Vec<GuaranteeRow>, Option<String>)> {
        let (filter, value) = visibility(&self.scope, 1)?;
        let rows = sqlx::query(&format!(
            "SELECT {GUARANTEE_COLUMNS} FROM guarantees WHERE {filter} AND grn > $2 \
             ORDER BY grn LIMIT $3"
        ))
        .bind(value)
        .bind(page.after())
        .bind(page.fetch_limit())
        .fetch_all(self.store.read())
        .await?;
        let rows = rows.iter().map(guarantee_row).collect::<Result<Vec<_>>>()?;
        Ok(page.finish(rows, |g| g.grn.clone()))
    }

    /// The balance of a guarantee visible in this scope.
    pub async fn guarantee_balance(&self, grn: &str) -> Result<GuaranteeBalance> {
        let g = self.guarantee(grn).await?;
        let mut conn = self.store.read().acquire().await?;
        let kept: Option<(Option<String>,)> =
            sqlx::query_as("SELECT reserved_total FROM guarantees WHERE grn = $1")
                .bind(grn)
                .fetch_optional(&mut *conn)
                .await?;
        let reserved = reserved_total(&mut conn, grn, kept.and_then(|k| k.0)).await?;
        Ok(GuaranteeBalance {
            grn: g.grn,
            currency: g.currency,
            reference_amount: g.reference_amount,
            reserved,
            available: g.reference_amount - reserved,
        })
    }

    /// Reserves `amount` of guarantee `grn` for a movement, never beyond the reference amount
    /// (see the module docs). The inner `Err` is a refusal for lack of cover, with nothing
    /// written. A guarantee not valid today is `InvalidState`; a second reservation for the
    /// same movement is a `Conflict`.
    pub async fn guarantee_reserve(
        &self,
        grn: &str,
        movement_id: &str,
        amount: Decimal,
    ) -> Result<std::result::Result<GuaranteeReservationRow, GuaranteeShortfall>> {
        let tenant = admin(&self.scope, "reserves guarantees")?.clone();
        if amount <= Decimal::ZERO {
            return Err(StoreError::Invalid("amount must be positive".into()));
        }
        check_text("movement_id", movement_id, 64)?;
        let store = self.store;
        let now_text = store.now_text();
        let now = parse_ts(&now_text)?;
        let mut tx = store.begin().await?;
        // The lock: an update before any read.
        let row = sqlx::query(&format!(
            "UPDATE guarantees SET version = version + 1, updated_at = $3 \
             WHERE grn = $1 AND tenant = $2 RETURNING {GUARANTEE_COLUMNS}, reserved_total"
        ))
        .bind(grn)
        .bind(tenant.as_str())
        .bind(&now_text)
        .fetch_optional(tx.conn())
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Err(not_found("guarantee", grn));
        };
        let g = guarantee_row(&row)?;
        if !g.valid_on(now.date_naive()) {
            tx.rollback().await?;
            return Err(StoreError::InvalidState(format!(
                "guarantee {grn} is not valid on {}",
                now.date_naive()
            )));
        }
        let kept: Option<String> = col(&row, "reserved_total")?;
        let reserved = reserved_total(tx.conn(), grn, kept).await?;
        let available = g.reference_amount - reserved;
        if amount > available {
            tx.rollback().await?;
            return Ok(Err(GuaranteeShortfall {
                grn: grn.to_owned(),
                requested: amount,
                available,
            }));
        }
        let id = store.ids().new_id().to_string();
        sqlx::query(
            "INSERT INTO guarantee_reservations (id, grn, tenant, movement_id, amount, state, \
             reserved_at) VALUES ($1, $2, $3, $4, $5, 'reserved', $6)",
        )
        .bind(&id)
        .bind(grn)
        .bind(tenant.as_str())
        .bind(movement_id)
        .bind(amount.to_string())
        .bind(&now_text)
        .execute(tx.conn())
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, "guarantee reservation", movement_id))?;
        keep_reserved_total(tx.conn(), grn, reserved + amount).await?;
        tx.emit(
            Some(&tenant),
            "guarantee.reserved",
            &serde_json::json!({
                "grn": grn,
                "movement_id": movement_id,
                "amount": amount.to_string(),
                "available": (available - amount).to_string(),
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(GuaranteeReservationRow {
            id,
            grn: grn.to_owned(),
            movement_id: movement_id.to_owned(),
            amount,
            state: "reserved".into(),
            reserved_at: now,
            released_at: None,
        }))
    }

    /// Releases every current reservation of a movement (on write-off or invalidation).
    /// Returns the released reservations (none if there were none: releasing is idempotent).
    pub async fn guarantee_release(
        &self,
        movement_id: &str,
    ) -> Result<Vec<GuaranteeReservationRow>> {
        let tenant = admin(&self.scope, "releases guarantees")?.clone();
        let store = self.store;
        let now_text = store.now_text();
        let mut tx = store.begin().await?;
        let grns: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT grn FROM guarantee_reservations \
             WHERE movement_id = $1 AND tenant = $2 AND state = 'reserved' ORDER BY grn",
        )
        .bind(movement_id)
        .bind(tenant.as_str())
        .fetch_all(tx.conn())
        .await?;
        let mut released = Vec::new();
        for (grn,) in grns {
            // The same lock as reservations, in GRN order.
            released.extend(release_on(tx.conn(), &grn, movement_id, &now_text).await?);
        }
        if !released.is_empty() {
            tx.emit(
                Some(&tenant),
                "guarantee.released",
                &serde_json::json!({ "movement_id": movement_id, "count": released.len() }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(released)
    }

    /// The reservations of a guarantee visible in this scope, oldest first.
    pub async fn guarantee_reservations(&self, grn: &str) -> Result<Vec<GuaranteeReservationRow>> {
        self.guarantee(grn).await?;
        let rows = sqlx::query(&format!(
            "SELECT {RESERVATION_COLUMNS} FROM guarantee_reservations \
             WHERE grn = $1 ORDER BY reserved_at, id"
        ))
        .bind(grn)
        .fetch_all(self.store.read())
        .await?;
        rows.iter().map(reservation_row).collect()
    }
}

// ---------------------------------------------------------------- movements

/// Departure or arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    Departure,
    Arrival,
}

impl MovementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::Departure => "departure",
            MovementKind::Arrival => "arrival",
        }
    }
}

impl FromStr for MovementKind {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "departure" => Ok(MovementKind::Departure),
            "arrival" => Ok(MovementKind::Arrival),
            _ => Err(StoreError::Corrupt(format!("movement kind {s:?}"))),
        }
    }
}

/// Inbound (from the trader) or outbound (generated by customs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

impl FromStr for Direction {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "inbound" => Ok(Direction::Inbound),
            "outbound" => Ok(Direction::Outbound),
            _ => Err(StoreError::Corrupt(format!("message direction {s:?}"))),
        }
    }
}

/// A transit movement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MovementRow {
    pub id: String,
    pub tenant: String,
    pub kind: MovementKind,
    pub lrn: Option<String>,
    pub mrn: Option<String>,
    pub holder: String,
    pub office_of_departure: Option<String>,
    pub office_of_destination: Option<String>,
    pub state: String,
    /// Optimistic version: every append increments it.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MovementMessageRow {
    pub id: String,
    pub movement_id: String,
    /// Position within the movement, from 1.
    pub seq: i64,
    pub message_type: String,
    pub direction: Direction,
    pub message_identification: String,
    pub content_type: String,
    /// SHA-256 of the body, hex.
    pub content_hash: String,
    #[serde(skip)]
    #[schema(ignore)]
    pub body: String,
    /// Received (inbound) or generated (outbound).
    pub at: DateTime<Utc>,
}

/// A history entry.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MovementHistoryRow {
    pub seq: i64,
    pub from_state: Option<String>,
    pub to_state: String,
    /// The principal (`KIND:ID`).
    pub actor: String,
    pub action: String,
    pub message_id: Option<String>,
    pub at: DateTime<Utc>,
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

pub(crate) const MOVEMENT_COLUMNS: &str =
    "id, tenant, kind, lrn, mrn, holder, office_of_departure, \
     office_of_destination, state, version, created_at, updated_at";
pub(crate) const MESSAGE_COLUMNS: &str = "id, movement_id, seq, message_type, direction, \
     message_identification, content_type, content_hash, body, at";

pub(crate) fn movement_row(r: &AnyRow) -> Result<MovementRow> {
    Ok(MovementRow {
        id: col(r, "id")?,
        tenant: col(r, "tenant")?,
        kind: col::<String>(r, "kind")?.parse()?,
        lrn: col(r, "lrn")?,
        mrn: col(r, "mrn")?,
        holder: col(r, "holder")?,
        office_of_departure: col(r, "office_of_departure")?,
        office_of_destination: col(r, "office_of_destination")?,
        state: col(r, "state")?,
        version: col(r, "version")?,
        created_at: parse_ts(&col::<String>(r, "created_at")?)?,
        updated_at: parse_ts(&col::<String>(r, "updated_at")?)?,
    })
}

pub(crate) fn message_row(r: &AnyRow) -> Result<MovementMessageRow> {
    let hash: Vec<u8> = col(r, "content_hash")?;
    Ok(MovementMessageRow {
        id: col(r, "id")?,
        movement_id: col(r, "movement_id")?,
        seq: col(r, "seq")?,
        message_type: col(r, "message_type")?,
        direction: col::<String>(r, "direction")?.parse()?,
        message_identification: col(r, "message_identification")?,
        content_type: col(r, "content_type")?,
        content_hash: hex::encode(hash),
        body: col(r, "body")?,
        at: parse_ts(&col::<String>(r, "at")?)?,
    })
}

fn history_row(r: &AnyRow) -> Result<MovementHistoryRow> {
    let detail: Option<String> = col(r, "detail")?;
    Ok(MovementHistoryRow {
        seq: col(r, "seq")?,
        from_state: col(r, "from_state")?,
        to_state: col(r, "to_state")?,
        actor: col(r, "actor")?,
        action: col(r, "action")?,
        message_id: col(r, "message_id")?,
        at: parse_ts(&col::<String>(r, "at")?)?,
        detail: detail
            .map(|d| serde_json::from_str(&d))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("history detail: {e}")))?,
    })
}

impl Scoped<'_> {
    /// A movement visible in this scope.
    pub async fn movement(&self, id: &str) -> Result<MovementRow> {
        let (filter, value) = visibility(&self.scope, 2)?;
        let row = sqlx::query(&format!(
            "SELECT {MOVEMENT_COLUMNS} FROM movements WHERE id = $1 AND {filter}"
        ))
        .bind(id)
        .bind(value)
        .fetch_optional(self.store.read())
        .await?
        .ok_or_else(|| not_found("movement", id))?;
        movement_row(&row)
    }

    /// The messages of a movement visible in this scope, in order (bodies included).
    pub async fn movement_messages(
        &self,
        movement_id: &str,
        page: &Page,
    ) -> Result<(Vec<MovementMessageRow>, Option<String>)> {
        self.movement(movement_id).await?;
        let after: i64 = match page.after.as_deref() {
            None | Some("") => 0,
            Some(a) => a
                .parse()
                .map_err(|_| StoreError::Invalid(format!("invalid cursor {a:?}")))?,
        };
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM movement_messages WHERE movement_id = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3"
        ))
        .bind(movement_id)
        .bind(after)
        .bind(page.fetch_limit())
        .fetch_all(self.store.read())
        .await?;
        let rows = rows.iter().map(message_row).collect::<Result<Vec<_>>>()?;
        Ok(page.finish(rows, |m| m.seq.to_string()))
    }

    /// One message of a movement visible in this scope.
    pub async fn movement_message(
        &self,
        movement_id: &str,
        message_id: &str,
    ) -> Result<MovementMessageRow> {
        self.movement(movement_id).await?;
        let row = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM movement_messages WHERE movement_id = $1 AND id = $2"
        ))
        .bind(movement_id)
        .bind(message_id)
        .fetch_optional(self.store.read())
        .await?
        .ok_or_else(|| not_found("message", message_id))?;
        message_row(&row)
    }

    /// The full history of a movement visible in this scope, oldest first.
    pub async fn movement_history(&self, movement_id: &str) -> Result<Vec<MovementHistoryRow>> {
        self.movement(movement_id).await?;
        let rows = sqlx::query(
            "SELECT seq, from_state, to_state, actor, action, message_id, at, detail \
             FROM movement_history WHERE movement_id = $1 ORDER BY seq",
        )
        .bind(movement_id)
        .fetch_all(self.store.read())
        .await?;
        rows.iter().map(history_row).collect()
    }
}
