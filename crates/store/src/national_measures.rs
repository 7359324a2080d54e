//! National measures: drafts of changes to an administration's national tariff layer and
//! their workflow, with the four-eyes rule, and the SIDs of national measures.
//!
//! A draft is `draft` when created, `submitted` for approval by its drafter, then `approved`
//! or `rejected` by a second officer; its drafter may `withdraw` it while it is `draft` or
//! `submitted`. An approved draft whose import is rolled back becomes `rolled_back` in the
//! rollback's transaction (its measure is no longer in the layer); that status is final. Only a `draft` can be amended. Every change bumps the row's `version`; a
//! caller that passes the version it read gets [`StoreError::Conflict`] if the row changed
//! since. A transition not allowed from the current status is [`StoreError::InvalidState`].
//!
//! **Four eyes:** the officer who approves or rejects a draft is never its drafter
//! ([`StoreError::OutOfScope`] otherwise), whatever roles the policy grants; only the
//! drafter amends, submits or withdraws it.
//!
//! Approval writes the measure into the administration's national layer as an import
//! (source `measure-draft:<id>`, format [`APPROVAL_FORMAT`]) and marks the draft approved
//! in one transaction, so the layer history, the as-of reads and rollback work as for any
//! import. The store does not interpret the records: the caller validates the draft and
//! builds them (`portorium_tariff::national`).
//!
//! # Measure SIDs
//! National measure (and measure condition) SIDs are allocated per administration from its
//! own range: `1_000_000_000_000 + index × 1_000_000_000 + n`, where `index` is the
//! administration's two-letter code as a base-26 number (`AA` = 0, `NL` = 349, `ZZ` = 675)
//! and `n` counts from 1. TARIC SIDs are at most 8 digits (taric3.xsd), so a national SID
//! never clashes with a common-layer SID, nor with another administration's, and every SID
//! stays below 2^53 (exact in JSON numbers).

use crate::db::{col, fmt_ts, parse_opt_ts, parse_ts, Page};
use crate::error::StoreError;
use crate::identity::not_found;
use crate::scope::{Scope, Scoped};
use crate::tariff::{lock_layer, RecordChange, TariffImportRow, TariffLayer};
use crate::Result;
use chrono::{DateTime, Utc};
use portorium_kernel::{PrincipalId, TenantCode};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

/// The first national SID.
pub const NATIONAL_SID_BASE: u64 = 1_000_000_000_000;
/// SIDs per administration.
pub const NATIONAL_SID_BLOCK: u64 = 1_000_000_000;
/// The import format of an approval in the layer history.
pub const APPROVAL_FORMAT: &str = "national-measure";

/// The status of a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DraftStatus {
    Draft,
    Submitted,
    Approved,
    Rejected,
    Withdrawn,
    /// Approved, then its import was rolled back (see [`crate::Store::tariff_rollback`]).
    RolledBack,
}

impl DraftStatus {
    pub const ALL: [DraftStatus; 6] = [
        DraftStatus::Draft,
        DraftStatus::Submitted,
        DraftStatus::Approved,
        DraftStatus::Rejected,
        DraftStatus::Withdrawn,
        DraftStatus::RolledBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DraftStatus::Draft => "draft",
            DraftStatus::Submitted => "submitted",
            DraftStatus::Approved => "approved",
            DraftStatus::Rejected => "rejected",
            DraftStatus::Withdrawn => "withdrawn",
            DraftStatus::RolledBack => "rolled_back",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// A draft as stored.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MeasureDraftRow {
    pub id: String,
    pub tenant: TenantCode,
    /// `create`, `modify`, `end` or `delete`.
    pub operation: String,
    /// The national measure a `modify`, `end` or `delete` applies to.
    pub target_sid: Option<u64>,
    /// The drafted change, as submitted.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// `draft`, `submitted`, `approved`, `rejected` or `withdrawn`.
    pub status: String,
    pub drafted_by: String,
    pub drafted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Who approved, rejected or withdrew it.
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Why it was rejected or withdrawn.
    pub reason: Option<String>,
    /// The tariff import that wrote the approved measure.
    pub import_id: Option<String>,
    /// The measure written on approval.
    pub measure_sid: Option<u64>,
    /// Counts the row's changes; pass it back to act on the version read.
    pub version: i64,
}

impl MeasureDraftRow {
    pub fn status(&self) -> Option<DraftStatus> {
        DraftStatus::parse(&self.status)
    }
}

/// A draft to store (already validated by the caller).
#[derive(Debug, Clone)]
pub struct NewMeasureDraft {
    pub operation: String,
    pub target_sid: Option<u64>,
    pub payload: serde_json::Value,
}

/// The latest import (id, status) of the common and of the national layer, as seen when a
/// draft was validated.
pub type LayerHeads = (Option<(String, String)>, Option<(String, String)>);

fn opt_sid(r: &AnyRow, name: &str) -> Result<Option<u64>> {
    let v: Option<i64> = col(r, name)?;
    v.map(|n| u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{name} {n}"))))
        .transpose()
}

fn sid_param(sid: Option<u64>) -> Result<Option<i64>> {
    sid.map(|s| i64::try_from(s).map_err(|_| StoreError::Invalid(format!("SID {s} too large"))))
        .transpose()
}

fn draft_row(r: &AnyRow) -> Result<MeasureDraftRow> {
    let payload: String = col(r, "payload")?;
    Ok(MeasureDraftRow {
        id: col(r, "id")?,
        tenant: col::<String>(r, "tenant")?.parse()?,
        operation: col(r, "operation")?,
        target_sid: opt_sid(r, "target_sid")?,
        payload: serde_json::from_str(&payload)
            .map_err(|e| StoreError::Corrupt(format!("draft payload: {e}")))?,
        status: col(r, "status")?,
        drafted_by: col(r, "drafted_by")?,
        drafted_at: parse_ts(&col::<String>(r, "drafted_at")?)?,
        updated_at: parse_ts(&col::<String>(r, "updated_at")?)?,
        decided_by: col(r, "decided_by")?,
        decided_at: parse_opt_ts(col(r, "decided_at")?)?,
        reason: col(r, "reason")?,
        import_id: col(r, "import_id")?,
        measure_sid: opt_sid(r, "measure_sid")?,
        version: col(r, "version")?,
    })
}

/// The index of an administration's SID range: its code as a base-26 number.
fn tenant_index(tenant: &TenantCode) -> Result<u64> {
    let b = tenant.as_str().as_bytes();
    match b {
        [x, y] if x.is_ascii_uppercase() && y.is_ascii_uppercase() => {
            Ok(u64::from(x - b'A') * 26 + u64::from(y - b'A'))
        }
        _ => Err(StoreError::Invalid(format!(
            "administration code {tenant} is not two letters"
        ))),
    }
}

/// The national SID `n` (from 1) of an administration.
pub fn national_sid(tenant: &TenantCode, n: u64) -> Result<u64> {
    if n == 0 || n >= NATIONAL_SID_BLOCK {
        return Err(StoreError::Invalid(format!(
            "national SID sequence {n} of {tenant} is out of range"
        )));
    }
    Ok(NATIONAL_SID_BASE + tenant_index(tenant)? * NATIONAL_SID_BLOCK + n)
}

/// Who may make a transition.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Actor {
    /// Only the drafter.
    Drafter,
    /// Anyone but the drafter (four eyes).
    Other,
}

/// One workflow step.
struct Step<'a> {
    from: &'a [DraftStatus],
    to: DraftStatus,
    actor: Actor,
    verb: &'a str,
    reason: Option<&'a str>,
}

async fn latest_import(conn: &mut AnyConnection, layer: &str) -> Result<Option<(String, String)>> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT id, status FROM tariff_imports WHERE layer = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(layer)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row)
}

impl Scoped<'_> {
    /// The administration this scope acts for; only an administration's own principals
    /// work on its national measures.
    fn measure_tenant(&self) -> Result<&TenantCode> {
        match &self.scope {
            Scope::Tenant(t) => Ok(t),
            _ => Err(StoreError::OutOfScope(
                "only an administration's officers work on its national measures".into(),
            )),
        }
    }

    /// Store a new draft (status `draft`) drafted by `by`, a principal of this administration.
    pub async fn create_measure_draft(
        &self,
        by: &PrincipalId,
        d: &NewMeasureDraft,
    ) -> Result<MeasureDraftRow> {
        let tenant = self.measure_tenant()?;
        if by.tenant() != Some(tenant) {
            return Err(StoreError::OutOfScope(format!(
                "{by} does not work for administration {tenant}"
            )));
        }
        let id = self.store.ids().new_id().to_string();
        let now = self.store.now_text();
        sqlx::query(
            "INSERT INTO national_measure_drafts (id, tenant, operation, target_sid, payload, status, \
             drafted_by, drafted_at, updated_at, decided_by, decided_at, reason, import_id, measure_sid, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, NULL, NULL, NULL, 1)",
        )
        .bind(&id)
        .bind(tenant.as_str())
        .bind(&d.operation)
        .bind(sid_param(d.target_sid)?)
        .bind(d.payload.to_string())
        .bind(DraftStatus::Draft.as_str())
        .bind(by.to_string())
        .bind(&now)
        .bind(&now)
        .execute(self.store.write())
        .await?;
        self.measure_draft(&id).await
    }

    /// A draft of this administration; another administration's is not found.
    pub async fn measure_draft(&self, id: &str) -> Result<MeasureDraftRow> {
        let tenant = self.measure_tenant()?;
        let row =
            sqlx::query("SELECT * FROM national_measure_drafts WHERE id = $1 AND tenant = $2")
                .bind(id)
                .bind(tenant.as_str())
                .fetch_optional(self.store.read())
                .await?
                .ok_or_else(|| not_found("measure draft", id))?;
        draft_row(&row)
    }

    /// This administration's drafts, optionally of one status, oldest first.
    pub async fn measure_drafts(
        &self,
        status: Option<DraftStatus>,
        page: &Page,
    ) -> Result<(Vec<MeasureDraftRow>, Option<String>)> {
        let tenant = self.measure_tenant()?;
        let rows = match status {
            Some(s) => {
                sqlx::query(
                    "SELECT * FROM national_measure_drafts WHERE tenant = $1 AND status = $2 \
                     AND id > $3 ORDER BY id LIMIT $4",
                )
                .bind(tenant.as_str())
                .bind(s.as_str())
                .bind(page.after())
                .bind(page.fetch_limit())
                .fetch_all(self.store.read())
                .await?
            }
            None => {
                sqlx::query(
                    "SELECT * FROM national_measure_drafts WHERE tenant = $1 AND id > $2 \
                     ORDER BY id LIMIT $3",
                )
                .bind(tenant.as_str())
                .bind(page.after())
                .bind(page.fetch_limit())
                .fetch_all(self.store.read())
                .await?
            }
        };
        let rows = rows.iter().map(draft_row).collect::<Result<Vec<_>>>()?;
        Ok(page.finish(rows, |r| r.id.clone()))
    }

    /// Checks a step on the row read in `conn`: the row's administration, the expected
    /// version, the status and who acts.
    async fn check_step(
        &self,
        conn: &mut AnyConnection,
        id: &str,
        by: &PrincipalId,
        expected_version: Option<i64>,
        step: &Step<'_>,
    ) -> Result<MeasureDraftRow> {
        let tenant = self.measure_tenant()?;
        let row =
            sqlx::query("SELECT * FROM national_measure_drafts WHERE id = $1 AND tenant = $2")
                .bind(id)
                .bind(tenant.as_str())
                .fetch_optional(&mut *conn)
                .await?
                .ok_or_else(|| not_found("measure draft", id))?;
        let row = draft_row(&row)?;
        if expected_version.is_some_and(|v| v != row.version) {
            return Err(StoreError::Conflict {
                what: "measure draft version",
                id: format!("{id} (now version {})", row.version),
            });
        }
        let drafter = row.drafted_by == by.to_string();
        match step.actor {
            Actor::Drafter if !drafter => {
                return Err(StoreError::OutOfScope(format!(
                    "only the drafter, {}, may {} draft {id}",
                    row.drafted_by, step.verb
                )))
            }
            Actor::Other if drafter => {
                return Err(StoreError::OutOfScope(format!(
                    "four eyes: {by} drafted {id} and may not {} it; a second officer decides",
                    step.verb
                )))
            }
            _ => {}
        }
        if !row.status().is_some_and(|s| step.from.contains(&s)) {
            let allowed: Vec<&str> = step.from.iter().map(|s| s.as_str()).collect();
            return Err(StoreError::InvalidState(format!(
                "draft {id} is {}: only a draft that is {} can be {}",
                row.status,
                allowed.join(" or "),
                match step.to {
                    DraftStatus::Draft => "amended",
                    DraftStatus::Submitted => "submitted",
                    DraftStatus::Approved => "approved",
                    DraftStatus::Rejected => "rejected",
                    DraftStatus::Withdrawn => "withdrawn",
                    DraftStatus::RolledBack => "rolled back",
                }
            )));
        }
        Ok(row)
    }

    /// Apply a step that changes only the draft row.
    async fn step(
        &self,
        id: &str,
        by: &PrincipalId,
        expected_version: Option<i64>,
        step: Step<'_>,
        amended: Option<&NewMeasureDraft>,
    ) -> Result<MeasureDraftRow> {
        if let Some(r) = step.reason {
            if r.chars().count() > 2000 {
                return Err(StoreError::Invalid(
                    "reason must be at most 2,000 characters".into(),
                ));
            }
        }
        let now = self.store.now_text();
        let mut tx = self.store.write().begin().await?;
        let row = self
            .check_step(&mut tx, id, by, expected_version, &step)
            .await?;
        let decided = matches!(
            step.to,
            DraftStatus::Approved | DraftStatus::Rejected | DraftStatus::Withdrawn
        );
        let (operation, target, payload) = match amended {
            Some(d) => (
                d.operation.clone(),
                sid_param(d.target_sid)?,
                d.payload.to_string(),
            ),
            None => (
                row.operation.clone(),
                sid_param(row.target_sid)?,
                row.payload.to_string(),
            ),
        };
        let done = sqlx::query(
            "UPDATE national_measure_drafts SET status = $1, operation = $2, target_sid = $3, \
             payload = $4, updated_at = $5, decided_by = $6, decided_at = $7, reason = $8, \
             version = version + 1 WHERE id = $9 AND version = $10",
        )
        .bind(step.to.as_str())
        .bind(operation)
        .bind(target)
        .bind(payload)
        .bind(&now)
        .bind(decided.then(|| by.to_string()))
        .bind(decided.then(|| now.clone()))
        .bind(step.reason)
        .bind(id)
        .bind(row.version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict {
                what: "measure draft version",
                id: id.to_owned(),
            });
        }
        tx.commit().await?;
        self.measure_draft(id).await
    }

    /// Replace a draft's content (its drafter, while it is `draft`).
    pub async fn amend_measure_draft(
        &self,
        id: &str,
        by: &PrincipalId,
        expected_version: Option<i64>,
        d: &NewMeasureDraft,
    ) -> Result<MeasureDraftRow> {
        let step = Step {
            from: &[DraftStatus::Draft],
            to: DraftStatus::Draft,
            actor: Actor::Drafter,
            verb: "amend",
            reason: None,
        };
        self.step(id, by, expected_version, step, Some(d)).await
    }

    /// Submit a draft for approval (its drafter).
    pub async fn submit_measure_draft(
        &self,
        id: &str,
        by: &PrincipalId,
        expected_version: Option<i64>,
    ) -> Result<MeasureDraftRow> {
        let step = Step {
            from: &[DraftStatus::Draft],
            to: DraftStatus::Submitted,
            actor: Actor::Drafter,
            verb: "submit",
            reason: None,
        };
        self.step(id, by, expected_version, step, None).await
    }

    /// Withdraw a draft that is not decided (its drafter).
    pub async fn withdraw_measure_draft(
        &self,
        id: &str,
        by: &PrincipalId,
        expected_version: Option<i64>,
        reason: Option<&str>,
    ) -> Result<MeasureDraftRow> {
        let step = Step {
            from: &[DraftStatus::Draft, DraftStatus::Submitted],
            to: DraftStatus::Withdrawn,
            actor: Actor::Drafter,
            verb: "withdraw",
            reason,
        };
        self.step(id, by, expected_version, step, None).await
    }

    /// Reject a submitted draft (a second officer, not its drafter), with a reason.
    pub async fn reject_measure_draft(
        &self,
        id: &str,
        by: &PrincipalId,
        expected_version: Option<i64>,
        reason: &str,
    ) -> Result<MeasureDraftRow> {
        if reason.trim().is_empty() {
            return Err(StoreError::Invalid("a rejection needs a reason".into()));
        }
        let step = Step {
            from: &[DraftStatus::Submitted],
            to: DraftStatus::Rejected,
            actor: Actor::Other,
            verb: "reject",
            reason: Some(reason),
        };
        self.step(id, by, expected_version, step, None).await
    }

    /// Hand out `n` new national SIDs of this administration (see the module docs). SIDs of
    /// an approval that then fails are not reused: gaps are harmless.
    pub async fn allocate_national_sids(&self, n: usize) -> Result<Vec<u64>> {
        let tenant = self.measure_tenant()?;
        if n == 0 {
            return Ok(Vec::new());
        }
        let count = i64::try_from(n).map_err(|_| StoreError::Invalid("too many SIDs".into()))?;
        let mut tx = self.store.write().begin().await?;
        sqlx::query(
            "INSERT INTO national_measure_sids (tenant, last_seq) VALUES ($1, 0) \
             ON CONFLICT (tenant) DO NOTHING",
        )
        .bind(tenant.as_str())
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE national_measure_sids SET last_seq = last_seq + $1 WHERE tenant = $2")
            .bind(count)
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await?;
        let (last,): (i64,) =
            sqlx::query_as("SELECT last_seq FROM national_measure_sids WHERE tenant = $1")
                .bind(tenant.as_str())
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        let last = u64::try_from(last)
            .map_err(|_| StoreError::Corrupt(format!("national SID sequence {last}")))?;
        let first = last + 1 - n as u64;
        (first..=last)
            .map(|seq| national_sid(tenant, seq))
            .collect()
    }

    /// Approve a submitted draft (a second officer, not its drafter): in one transaction,
    /// write `changes` into the administration's national layer as an import and mark the
    /// draft approved with that import and `measure_sid`.
    ///
    /// `heads` are the layers' latest imports the caller validated the draft against; if
    /// either layer changed since, nothing is written and the result is
    /// [`StoreError::Conflict`] (`what` = `"tariff layer"`): validate again and retry.
    pub async fn approve_measure_draft(
        &self,
        id: &str,
        by: &PrincipalId,
        expected_version: Option<i64>,
        heads: &LayerHeads,
        changes: &[RecordChange],
        measure_sid: Option<u64>,
    ) -> Result<(MeasureDraftRow, TariffImportRow)> {
        let tenant = self.measure_tenant()?.clone();
        let layer = TariffLayer::Tenant(tenant.clone());
        let step = Step {
            from: &[DraftStatus::Submitted],
            to: DraftStatus::Approved,
            actor: Actor::Other,
            verb: "approve",
            reason: None,
        };
        let mut tx = self.store.write().begin().await?;
        let row = self
            .check_step(&mut tx, id, by, expected_version, &step)
            .await?;
        // Serialise with imports and rollbacks of the national layer, then check nothing
        // changed since the draft was validated.
        lock_layer(&mut tx, layer.as_str(), false).await?;
        let now_heads = (
            latest_import(&mut tx, TariffLayer::Common.as_str()).await?,
            latest_import(&mut tx, layer.as_str()).await?,
        );
        if &now_heads != heads {
            return Err(StoreError::Conflict {
                what: "tariff layer",
                id: format!("{tenant} changed while draft {id} was being approved"),
            });
        }
        let import = self
            .store
            .tariff_import_in(
                &mut tx,
                &layer,
                &format!("measure-draft:{id}"),
                APPROVAL_FORMAT,
                changes,
                &|_| {},
            )
            .await?;
        let now = self.store.now();
        let done = sqlx::query(
            "UPDATE national_measure_drafts SET status = $1, updated_at = $2, decided_by = $3, \
             decided_at = $4, import_id = $5, measure_sid = $6, version = version + 1 \
             WHERE id = $7 AND version = $8",
        )
        .bind(DraftStatus::Approved.as_str())
        .bind(fmt_ts(now))
        .bind(by.to_string())
        .bind(fmt_ts(now))
        .bind(&import.id)
        .bind(sid_param(measure_sid)?)
        .bind(id)
        .bind(row.version)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict {
                what: "measure draft version",
                id: id.to_owned(),
            });
        }
        tx.commit().await?;
        self.store.tariff_changed();
        Ok((self.measure_draft(id).await?, import))
    }
}
