//! WCO DMS import and export declarations at the storage level: one transaction per trader
//! message or officer decision, holding everything it writes.
//!
//! The server opens a [`DmsTx`] with [`Scoped::dms_begin`], creates or locks the declaration
//! it acts on ([`DmsTx::create`], [`DmsTx::lock`], [`DmsTx::lock_mrn`]), stores the trader's
//! message ([`DmsTx::add_message`]: the XML as received and its parsed JSON, never updated),
//! moves the lifecycle ([`DmsTx::transition`]: the row, one history row and one
//! `dms.state_changed` outbox event), stores the assessment of a version apart from the
//! declared data ([`DmsTx::assess`]), draws on quotas in the same transaction
//! ([`DmsTx::quota_draw`]), records control results and notifications, and commits once.
//! Nothing is visible before the commit and nothing survives a rollback, so a trader that got
//! a 2xx finds everything it was told about.
//!
//! # Scoping
//! A declaration belongs to the administration of its routing office's country (the caller
//! names it when creating) and is held by its declarant. A trader creates and reads only
//! declarations it is the declarant of; an administration's principals read and decide only
//! their administration's. Every read and lock filters on the scope.
//!
//! # Webhook delivery
//! A notification written while the declarant has a webhook is `pending`; the server's
//! delivery task reads what is due with [`Store::dms_deliveries_due`] and records each attempt
//! with [`Store::dms_delivery_result`]. Without a webhook a notification is `none` (pull only).

use crate::db::{col, fmt_ts, parse_opt_ts, parse_ts, Page, Store};
use crate::error::StoreError;
use crate::identity::not_found;
use crate::outbox::Tx;
use crate::quotas::{self, NewAllocationRequest, QuotaAllocationRow, QuotaOpening};
use crate::quotas::{QuotaReturnRow, ReturnContext};
use crate::scope::{Scope, Scoped};
use crate::Result;
use chrono::{DateTime, Utc};
use portorium_kernel::{Eori, PrincipalId, TenantCode};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::any::AnyRow;
use std::str::FromStr;

const DECLARATION_COLUMNS: &str = "id, tenant, conversation_id, declarant, lrn, mrn, direction, \
     office, state, version, duties_assessed, cancellation_pending, lane, row_version, \
     created_at, updated_at";
const NOTIFICATION_COLUMNS: &str = "id, declaration_id, conversation_id, seq, function_code, \
     name, body, issued_at, delivery, attempts, next_attempt_at, delivered_at, last_error";

/// A stored DMS declaration (its current position; the declared data is in its messages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DmsDeclarationRow {
    pub id: String,
    /// The administration it belongs to.
    pub tenant: String,
    /// The conversation id of the Customs Declarations API (`X-Conversation-ID`).
    pub conversation_id: String,
    /// The declarant's EORI.
    pub declarant: String,
    pub lrn: String,
    pub mrn: Option<String>,
    /// `import` or `export`.
    pub direction: String,
    /// The routing office, when the declaration names one.
    pub office: Option<String>,
    /// The lifecycle state (`submitted`, `accepted`, `duties_assessed`, `under_control`, …).
    pub state: String,
    /// 1 for the original, +1 per accepted amendment.
    pub version: i64,
    pub duties_assessed: bool,
    pub cancellation_pending: bool,
    /// The risk lane given on acceptance (`green`, `orange`, `red`).
    pub lane: Option<String>,
    /// Moves with every change of the row.
    pub row_version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A message received from the trader, as received.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DmsMessageRow {
    pub seq: i64,
    /// `declaration`, `amendment` or `cancellation`.
    pub kind: String,
    /// The declaration version the message established.
    pub version: i64,
    /// The XML as received.
    pub body: String,
    /// The parsed declaration.
    #[schema(value_type = Object)]
    pub parsed: serde_json::Value,
    pub received_by: String,
    pub received_at: DateTime<Utc>,
}

/// The duties assessed on one version.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DmsAssessmentRow {
    pub version: i64,
    pub currency: String,
    #[schema(value_type = String)]
    pub total: Decimal,
    /// Per item: the duty lines with their formulas.
    #[schema(value_type = Object)]
    pub items: serde_json::Value,
    pub assessed_at: DateTime<Utc>,
}

/// A control result recorded by an officer.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DmsControlResultRow {
    pub seq: i64,
    #[schema(value_type = Object)]
    pub result: serde_json::Value,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// A notification to the trader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DmsNotificationRow {
    pub id: String,
    pub declaration_id: String,
    pub conversation_id: String,
    pub seq: i64,
    /// DMS function code (`01` accepted, `02` received, …).
    pub function_code: String,
    /// CDS name (`DMSACC`, `DMSRCV`, …).
    pub name: String,
    /// The notification XML.
    pub body: String,
    pub issued_at: DateTime<Utc>,
    /// Webhook delivery: `none`, `pending`, `delivered` or `failed`.
    pub delivery: String,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// One entry of a declaration's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DmsHistoryRow {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub detail: Option<String>,
}

/// A quota allocation drawn for a declaration's item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DmsQuotaLink {
    pub request_id: String,
    pub item: i64,
    pub version: i64,
    pub order_number: String,
    pub definition_sid: u64,
    pub returned: bool,
    /// What the allocation still holds (granted less returned).
    #[schema(value_type = String)]
    pub holds: Decimal,
}

/// Everything stored about a declaration.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DmsDetail {
    pub declaration: DmsDeclarationRow,
    pub messages: Vec<DmsMessageRow>,
    pub assessments: Vec<DmsAssessmentRow>,
    pub quota_allocations: Vec<DmsQuotaLink>,
    pub control_results: Vec<DmsControlResultRow>,
    pub notifications: Vec<DmsNotificationRow>,
    pub history: Vec<DmsHistoryRow>,
}

/// A notification due for webhook delivery, with where to send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmsDelivery {
    pub notification: DmsNotificationRow,
    pub declarant: String,
    pub url: String,
    pub secret: String,
}

/// A trader's webhook (the secret is not returned by reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DmsWebhookRow {
    pub trader: String,
    pub url: String,
    pub updated_at: DateTime<Utc>,
}

/// A declaration to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDmsDeclaration {
    /// The administration of the routing office's country.
    pub tenant: TenantCode,
    pub conversation_id: String,
    pub declarant: Eori,
    pub lrn: String,
    /// `import` or `export`.
    pub direction: String,
    pub office: Option<String>,
    /// The first state (`submitted`).
    pub state: String,
}

/// The lifecycle position a transition moves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmsPosition {
    pub state: String,
    pub mrn: Option<String>,
    pub version: i64,
    pub duties_assessed: bool,
    pub cancellation_pending: bool,
}

/// A declaration locked by a [`DmsTx`]: the only way to write to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmsLocked {
    row: DmsDeclarationRow,
}

impl DmsLocked {
    /// The declaration as it is in this transaction.
    pub fn row(&self) -> &DmsDeclarationRow {
        &self.row
    }
}

/// Work-queue filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DmsFilter {
    pub state: Option<String>,
}

fn flag(r: &AnyRow, name: &str) -> Result<bool> {
    Ok(col::<i64>(r, name)? != 0)
}

fn json_col(r: &AnyRow, name: &str) -> Result<serde_json::Value> {
    let s: String = col(r, name)?;
    serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{name}: {e}")))
}

fn declaration_row(r: &AnyRow) -> Result<DmsDeclarationRow> {
    Ok(DmsDeclarationRow {
        id: col(r, "id")?,
        tenant: col(r, "tenant")?,
        conversation_id: col(r, "conversation_id")?,
        declarant: col(r, "declarant")?,
        lrn: col(r, "lrn")?,
        mrn: col(r, "mrn")?,
        direction: col(r, "direction")?,
        office: col(r, "office")?,
        state: col(r, "state")?,
        version: col(r, "version")?,
        duties_assessed: flag(r, "duties_assessed")?,
        cancellation_pending: flag(r, "cancellation_pending")?,
        lane: col(r, "lane")?,
        row_version: col(r, "row_version")?,
        created_at: parse_ts(&col::<String>(r, "created_at")?)?,
        updated_at: parse_ts(&col::<String>(r, "updated_at")?)?,
    })
}

fn notification_row(r: &AnyRow) -> Result<DmsNotificationRow> {
    Ok(DmsNotificationRow {
        id: col(r, "id")?,
        declaration_id: col(r, "declaration_id")?,
        conversation_id: col(r, "conversation_id")?,
        seq: col(r, "seq")?,
        function_code: col(r, "function_code")?,
        name: col(r, "name")?,
        body: col(r, "body")?,
        issued_at: parse_ts(&col::<String>(r, "issued_at")?)?,
        delivery: col(r, "delivery")?,
        attempts: col(r, "attempts")?,
        next_attempt_at: parse_opt_ts(col(r, "next_attempt_at")?)?,
        delivered_at: parse_opt_ts(col(r, "delivered_at")?)?,
        last_error: col(r, "last_error")?,
    })
}

/// The SQL condition (and its bound value) restricting declarations to a scope; `None` for
/// scopes that see no declarations.
fn scope_filter(scope: &Scope) -> Option<(&'static str, String)> {
    match scope {
        Scope::Trader(e) => Some(("declarant", e.to_string())),
        Scope::Tenant(t) => Some(("tenant", t.to_string())),
        Scope::Agency { .. } | Scope::Central => None,
    }
}

fn out_of_scope() -> StoreError {
    StoreError::OutOfScope("only declarants and their administrations see DMS declarations".into())
}

fn check_len(what: &str, v: &str, max: usize) -> Result<()> {
    if v.is_empty() || v.chars().count() > max {
        return Err(StoreError::Invalid(format!(
            "{what} must be 1 to {max} characters"
        )));
    }
    Ok(())
}

/// A transaction of the DMS service (see the module documentation).
pub struct DmsTx<'s> {
    tx: Tx<'s>,
    store: &'s Store,
    scope: Scope,
    by: PrincipalId,
    now_text: String,
    now: DateTime<Utc>,
}

impl Scoped<'_> {
    /// Opens a DMS transaction acting as `by` (the authenticated principal of this scope).
    pub async fn dms_begin(&self, by: &PrincipalId) -> Result<DmsTx<'_>> {
        if scope_filter(&self.scope).is_none() {
            return Err(out_of_scope());
        }
        if Scope::of(by) != self.scope {
            return Err(StoreError::OutOfScope(
                "the actor is not the principal of this scope".into(),
            ));
        }
        let store = self.store;
        let now_text = store.now_text();
        let now = parse_ts(&now_text)?;
        Ok(DmsTx {
            tx: store.begin().await?,
            store,
            scope: self.scope.clone(),
            by: by.clone(),
            now_text,
            now,
        })
    }

    async fn dms_one(&self, column: &str, value: &str) -> Result<DmsDeclarationRow> {
        let (scol, sval) = scope_filter(&self.scope).ok_or_else(out_of_scope)?;
        let sql = format!(
            "SELECT {DECLARATION_COLUMNS} FROM dms_declarations WHERE {column} = $1 AND {scol} = $2"
        );
        let row = sqlx::query(&sql)
            .bind(value)
            .bind(sval)
            .fetch_optional(self.store.read())
            .await?
            .ok_or_else(|| not_found("declaration", value))?;
        declaration_row(&row)
    }

    /// A declaration by id, in scope.
    pub async fn dms_declaration(&self, id: &str) -> Result<DmsDeclarationRow> {
        self.dms_one("id", id).await
    }

    /// A declaration by its conversation id, in scope.
    pub async fn dms_by_conversation(&self, conversation_id: &str) -> Result<DmsDeclarationRow> {
        self.dms_one("conversation_id", conversation_id).await
    }

    /// Declarations in scope, newest first by id (ids are time-ordered), optionally in one
    /// state (the officers' work queue).
    pub async fn dms_declarations(
        &self,
        filter: &DmsFilter,
        page: &Page,
    ) -> Result<(Vec<DmsDeclarationRow>, Option<String>)> {
        let (scol, sval) = scope_filter(&self.scope).ok_or_else(out_of_scope)?;
        let mut sql = format!(
            "SELECT {DECLARATION_COLUMNS} FROM dms_declarations WHERE {scol} = $1 \
             AND ($2 = '' OR id < $2)"
        );
        if filter.state.is_some() {
            sql.push_str(" AND state = $4");
        }
        sql.push_str(" ORDER BY id DESC LIMIT $3");
        let mut q = sqlx::query(&sql)
            .bind(sval)
            .bind(page.after().to_owned())
            .bind(page.fetch_limit());
        if let Some(s) = &filter.state {
            q = q.bind(s.clone());
        }
        let rows = q.fetch_all(self.store.read()).await?;
        let rows = rows
            .iter()
            .map(declaration_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(page.finish(rows, |r| r.id.clone()))
    }

    /// The declarations in scope with the LRN `lrn` (any state, rejected ones included),
    /// newest first, each with the body of its original declaration message as received: what
    /// a repeated lodging is compared with.
    pub async fn dms_by_lrn(&self, lrn: &str) -> Result<Vec<(DmsDeclarationRow, String)>> {
        let (scol, sval) = scope_filter(&self.scope).ok_or_else(out_of_scope)?;
        let columns = DECLARATION_COLUMNS
            .split(", ")
            .map(|c| format!("d.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns}, m.body AS original_body FROM dms_declarations d \
             JOIN dms_messages m ON m.declaration_id = d.id AND m.seq = 1 \
             WHERE d.lrn = $1 AND d.{scol} = $2 ORDER BY d.id DESC LIMIT 100"
        );
        let rows = sqlx::query(&sql)
            .bind(lrn)
            .bind(sval)
            .fetch_all(self.store.read())
            .await?;
        rows.iter()
            .map(|r| Ok((declaration_row(r)?, col(r, "original_body")?)))
            .collect()
    }

    /// The notifications of a declaration in scope, in order.
    pub async fn dms_notifications(&self, id: &str) -> Result<Vec<DmsNotificationRow>> {
        let d = self.dms_declaration(id).await?;
        let sql = format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM dms_notifications WHERE declaration_id = $1 \
             ORDER BY seq"
        );
        let rows = sqlx::query(&sql)
            .bind(&d.id)
            .fetch_all(self.store.read())
            .await?;
        rows.iter().map(notification_row).collect()
    }

    /// Everything stored about a declaration in scope.
    pub async fn dms_detail(&self, id: &str) -> Result<DmsDetail> {
        let declaration = self.dms_declaration(id).await?;
        let pool = self.store.read();
        let messages = sqlx::query(
            "SELECT seq, kind, version, body, parsed, received_by, received_at FROM dms_messages \
             WHERE declaration_id = $1 ORDER BY seq",
        )
        .bind(&declaration.id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            Ok(DmsMessageRow {
                seq: col(r, "seq")?,
                kind: col(r, "kind")?,
                version: col(r, "version")?,
                body: col(r, "body")?,
                parsed: json_col(r, "parsed")?,
                received_by: col(r, "received_by")?,
                received_at: parse_ts(&col::<String>(r, "received_at")?)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let assessments = sqlx::query(
            "SELECT version, currency, total, items, assessed_at FROM dms_assessments \
             WHERE declaration_id = $1 ORDER BY version",
        )
        .bind(&declaration.id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(assessment_row)
        .collect::<Result<Vec<_>>>()?;
        let quota_allocations = quota_links(pool, &declaration.id).await?;
        let control_results = sqlx::query(
            "SELECT seq, result, recorded_by, recorded_at FROM dms_control_results \
             WHERE declaration_id = $1 ORDER BY seq",
        )
        .bind(&declaration.id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            Ok(DmsControlResultRow {
                seq: col(r, "seq")?,
                result: json_col(r, "result")?,
                recorded_by: col(r, "recorded_by")?,
                recorded_at: parse_ts(&col::<String>(r, "recorded_at")?)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let notifications = self.dms_notifications(&declaration.id).await?;
        let history = sqlx::query(
            "SELECT seq, at, actor, action, from_state, to_state, detail FROM dms_history \
             WHERE declaration_id = $1 ORDER BY seq",
        )
        .bind(&declaration.id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            Ok(DmsHistoryRow {
                seq: col(r, "seq")?,
                at: parse_ts(&col::<String>(r, "at")?)?,
                actor: col(r, "actor")?,
                action: col(r, "action")?,
                from_state: col(r, "from_state")?,
                to_state: col(r, "to_state")?,
                detail: col(r, "detail")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        Ok(DmsDetail {
            declaration,
            messages,
            assessments,
            quota_allocations,
            control_results,
            notifications,
            history,
        })
    }

    /// Registers (or replaces) the calling trader's notification webhook.
    pub async fn dms_set_webhook(&self, url: &str, secret: &str) -> Result<DmsWebhookRow> {
        let Scope::Trader(trader) = &self.scope else {
            return Err(StoreError::OutOfScope(
                "only a trader registers its webhook".into(),
            ));
        };
        check_len("url", url, 2000)?;
        check_len("secret", secret, 200)?;
        let now = self.store.now_text();
        sqlx::query(
            "INSERT INTO dms_webhooks (trader, url, secret, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (trader) DO UPDATE SET url = $2, secret = $3, updated_at = $4",
        )
        .bind(trader.as_str())
        .bind(url)
        .bind(secret)
        .bind(&now)
        .execute(self.store.write())
        .await?;
        Ok(DmsWebhookRow {
            trader: trader.to_string(),
            url: url.to_owned(),
            updated_at: parse_ts(&now)?,
        })
    }
}

fn dec_col(r: &AnyRow, name: &str) -> Result<Decimal> {
    let s: String = col(r, name)?;
    Decimal::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{name} {s:?}: {e}")))
}

fn assessment_row(r: &AnyRow) -> Result<DmsAssessmentRow> {
    let total: String = col(r, "total")?;
    Ok(DmsAssessmentRow {
        version: col(r, "version")?,
        currency: col(r, "currency")?,
        total: Decimal::from_str(&total)
            .map_err(|e| StoreError::Corrupt(format!("total {total:?}: {e}")))?,
        items: json_col(r, "items")?,
        assessed_at: parse_ts(&col::<String>(r, "assessed_at")?)?,
    })
}

async fn quota_links<'e, E>(exec: E, declaration_id: &str) -> Result<Vec<DmsQuotaLink>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT l.request_id AS request_id, l.item AS item, l.version AS version, \
         l.order_number AS order_number, l.definition_sid AS definition_sid, \
         l.returned AS returned, a.granted AS granted, a.returned AS returned_quantity \
         FROM dms_quota_allocations l JOIN quota_allocations a ON a.request_id = l.request_id \
         WHERE l.declaration_id = $1 ORDER BY l.item, l.request_id",
    )
    .bind(declaration_id)
    .fetch_all(exec)
    .await?
    .iter()
    .map(|r| {
        let sid: i64 = col(r, "definition_sid")?;
        Ok(DmsQuotaLink {
            request_id: col(r, "request_id")?,
            item: col(r, "item")?,
            version: col(r, "version")?,
            order_number: col(r, "order_number")?,
            definition_sid: u64::try_from(sid)
                .map_err(|_| StoreError::Corrupt(format!("definition_sid {sid}")))?,
            returned: flag(r, "returned")?,
            holds: dec_col(r, "granted")? - dec_col(r, "returned_quantity")?,
        })
    })
    .collect()
}

impl DmsTx<'_> {
    /// The time of this transaction (every row it writes carries it).
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// A new id from the store's generator.
    pub fn new_id(&self) -> String {
        self.store.ids().new_id().to_string()
    }

    /// The acting principal.
    pub fn by(&self) -> &PrincipalId {
        &self.by
    }

    /// Creates a declaration: the row and its first history row. A trader creates only its
    /// own declarations, an administration only its own. A repeated LRN of the declarant is
    /// a `Conflict`.
    pub async fn create(&mut self, d: &NewDmsDeclaration) -> Result<DmsLocked> {
        match &self.scope {
            Scope::Trader(e) if *e != d.declarant => {
                return Err(StoreError::OutOfScope(format!(
                    "{e} may not lodge a declaration of declarant {}",
                    d.declarant
                )))
            }
            Scope::Tenant(t) if *t != d.tenant => {
                return Err(StoreError::OutOfScope(format!(
                    "{t} may not lodge a declaration of {}",
                    d.tenant
                )))
            }
            _ => {}
        }
        check_len("lrn", &d.lrn, 22)?;
        check_len("conversation id", &d.conversation_id, 64)?;
        let known: Option<(String,)> = sqlx::query_as("SELECT code FROM tenants WHERE code = $1")
            .bind(d.tenant.as_str())
            .fetch_optional(self.tx.conn())
            .await?;
        if known.is_none() {
            return Err(not_found("administration", d.tenant.as_str()));
        }
        let id = self.new_id();
        sqlx::query(
            "INSERT INTO dms_declarations (id, tenant, conversation_id, declarant, lrn, mrn, \
             direction, office, state, version, duties_assessed, cancellation_pending, lane, \
             row_version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, $8, 1, 0, 0, NULL, 1, $9, $9)",
        )
        .bind(&id)
        .bind(d.tenant.as_str())
        .bind(&d.conversation_id)
        .bind(d.declarant.as_str())
        .bind(&d.lrn)
        .bind(&d.direction)
        .bind(d.office.as_deref())
        .bind(&d.state)
        .bind(&self.now_text)
        .execute(self.tx.conn())
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, "declaration with LRN", &d.lrn))?;
        let locked = DmsLocked {
            row: DmsDeclarationRow {
                id,
                tenant: d.tenant.to_string(),
                conversation_id: d.conversation_id.clone(),
                declarant: d.declarant.to_string(),
                lrn: d.lrn.clone(),
                mrn: None,
                direction: d.direction.clone(),
                office: d.office.clone(),
                state: d.state.clone(),
                version: 1,
                duties_assessed: false,
                cancellation_pending: false,
                lane: None,
                row_version: 1,
                created_at: self.now,
                updated_at: self.now,
            },
        };
        self.history(&locked, "lodge", None, Some(&d.state), None)
            .await?;
        self.tx
            .emit(
                Some(&d.tenant),
                "dms.declaration.created",
                &serde_json::json!({
                    "declaration_id": locked.row.id,
                    "conversation_id": d.conversation_id,
                    "direction": d.direction,
                }),
            )
            .await?;
        Ok(locked)
    }

    async fn lock_by(&mut self, column: &str, value: &str) -> Result<DmsLocked> {
        let (scol, sval) = scope_filter(&self.scope).ok_or_else(out_of_scope)?;
        // Update first: the row lock on PostgreSQL (the write lock on SQLite) serialises
        // every change of the declaration; then read it under the lock.
        let sql = format!(
            "UPDATE dms_declarations SET row_version = row_version WHERE {column} = $1 \
             AND {scol} = $2"
        );
        let updated = sqlx::query(&sql)
            .bind(value)
            .bind(&sval)
            .execute(self.tx.conn())
            .await?;
        if updated.rows_affected() == 0 {
            return Err(not_found("declaration", value));
        }
        let sql = format!(
            "SELECT {DECLARATION_COLUMNS} FROM dms_declarations WHERE {column} = $1 AND {scol} = $2"
        );
        let row = sqlx::query(&sql)
            .bind(value)
            .bind(&sval)
            .fetch_optional(self.tx.conn())
            .await?
            .ok_or_else(|| not_found("declaration", value))?;
        Ok(DmsLocked {
            row: declaration_row(&row)?,
        })
    }

    /// Locks a declaration in scope by id.
    pub async fn lock(&mut self, id: &str) -> Result<DmsLocked> {
        self.lock_by("id", id).await
    }

    /// Locks a declaration in scope by its MRN (amendments and cancellations name it).
    pub async fn lock_mrn(&mut self, mrn: &str) -> Result<DmsLocked> {
        self.lock_by("mrn", mrn).await
    }

    /// The next MRN serial of the declaration's administration for a year (1, 2, …; never
    /// repeated).
    pub async fn next_mrn_serial(&mut self, d: &DmsLocked, year: i32) -> Result<i64> {
        let (serial,): (i64,) = sqlx::query_as(
            "INSERT INTO dms_mrn_counters (tenant, year, last_serial) VALUES ($1, $2, 1) \
             ON CONFLICT (tenant, year) DO UPDATE \
             SET last_serial = dms_mrn_counters.last_serial + 1 RETURNING last_serial",
        )
        .bind(&d.row.tenant)
        .bind(i64::from(year))
        .fetch_one(self.tx.conn())
        .await?;
        Ok(serial)
    }

    /// Stores a message of the trader as received (never updated afterwards).
    pub async fn add_message(
        &mut self,
        d: &DmsLocked,
        kind: &str,
        version: i64,
        body: &str,
        parsed: &serde_json::Value,
    ) -> Result<i64> {
        let (seq,): (i64,) = sqlx::query_as(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM dms_messages WHERE declaration_id = $1",
        )
        .bind(&d.row.id)
        .fetch_one(self.tx.conn())
        .await?;
        sqlx::query(
            "INSERT INTO dms_messages (declaration_id, seq, kind, version, body, parsed, \
             received_by, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&d.row.id)
        .bind(seq)
        .bind(kind)
        .bind(version)
        .bind(body)
        .bind(parsed.to_string())
        .bind(self.by.to_string())
        .bind(&self.now_text)
        .execute(self.tx.conn())
        .await?;
        Ok(seq)
    }

    async fn history(
        &mut self,
        d: &DmsLocked,
        action: &str,
        from: Option<&str>,
        to: Option<&str>,
        detail: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO dms_history (declaration_id, seq, at, actor, action, from_state, \
             to_state, detail) SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5, $6, $7 \
             FROM dms_history WHERE declaration_id = $1",
        )
        .bind(&d.row.id)
        .bind(&self.now_text)
        .bind(self.by.to_string())
        .bind(action)
        .bind(from)
        .bind(to)
        .bind(detail)
        .execute(self.tx.conn())
        .await?;
        Ok(())
    }

    /// Records an action that does not move the state (a history row).
    pub async fn note(&mut self, d: &DmsLocked, action: &str, detail: Option<&str>) -> Result<()> {
        self.history(d, action, None, None, detail).await
    }

    /// Moves the declaration to `to`: the row, a history row (`action`, `detail`) and a
    /// `dms.state_changed` event.
    pub async fn transition(
        &mut self,
        d: &mut DmsLocked,
        to: &DmsPosition,
        action: &str,
        detail: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE dms_declarations SET state = $2, mrn = $3, version = $4, \
             duties_assessed = $5, cancellation_pending = $6, row_version = row_version + 1, \
             updated_at = $7 WHERE id = $1",
        )
        .bind(&d.row.id)
        .bind(&to.state)
        .bind(to.mrn.as_deref())
        .bind(to.version)
        .bind(i64::from(to.duties_assessed))
        .bind(i64::from(to.cancellation_pending))
        .bind(&self.now_text)
        .execute(self.tx.conn())
        .await
        .map_err(|e| {
            StoreError::conflict_on_unique(
                e,
                "declaration with MRN",
                to.mrn.as_deref().unwrap_or(""),
            )
        })?;
        let from = d.row.state.clone();
        self.history(d, action, Some(&from), Some(&to.state), detail)
            .await?;
        let tenant: TenantCode = d.row.tenant.parse()?;
        self.tx
            .emit(
                Some(&tenant),
                "dms.state_changed",
                &serde_json::json!({
                    "declaration_id": d.row.id,
                    "conversation_id": d.row.conversation_id,
                    "from": from,
                    "to": to.state,
                    "action": action,
                }),
            )
            .await?;
        d.row.state = to.state.clone();
        d.row.mrn = to.mrn.clone();
        d.row.version = to.version;
        d.row.duties_assessed = to.duties_assessed;
        d.row.cancellation_pending = to.cancellation_pending;
        d.row.row_version += 1;
        d.row.updated_at = self.now;
        Ok(())
    }

    /// Records the risk lane given to the declaration.
    pub async fn set_lane(&mut self, d: &mut DmsLocked, lane: &str) -> Result<()> {
        check_len("lane", lane, 16)?;
        sqlx::query("UPDATE dms_declarations SET lane = $2 WHERE id = $1")
            .bind(&d.row.id)
            .bind(lane)
            .execute(self.tx.conn())
            .await?;
        self.history(d, "risk lane", None, None, Some(lane)).await?;
        d.row.lane = Some(lane.to_owned());
        Ok(())
    }

    /// Stores the assessment of the declaration's current version (apart from the declared
    /// data). A version is assessed once.
    pub async fn assess(
        &mut self,
        d: &DmsLocked,
        currency: &str,
        total: Decimal,
        items: &serde_json::Value,
    ) -> Result<DmsAssessmentRow> {
        sqlx::query(
            "INSERT INTO dms_assessments (declaration_id, version, currency, total, items, \
             assessed_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&d.row.id)
        .bind(d.row.version)
        .bind(currency)
        .bind(total.to_string())
        .bind(items.to_string())
        .bind(&self.now_text)
        .execute(self.tx.conn())
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, "assessment of declaration", &d.row.id))?;
        Ok(DmsAssessmentRow {
            version: d.row.version,
            currency: currency.to_owned(),
            total,
            items: items.clone(),
            assessed_at: self.now,
        })
    }

    /// Draws on a quota for an item of the declaration, in this transaction, for the
    /// declaration's administration (see [`Scoped::quota_draw`]; the drawing is linked to
    /// the declaration so that a cancellation returns it).
    pub async fn quota_draw<E>(
        &mut self,
        d: &DmsLocked,
        item: i64,
        opening: &QuotaOpening,
        request: &NewAllocationRequest,
        decide: impl FnOnce(Decimal) -> std::result::Result<Decimal, E>,
    ) -> Result<std::result::Result<QuotaAllocationRow, E>> {
        let tenant: TenantCode = d.row.tenant.parse()?;
        let by = self.by.clone();
        let outcome = quotas::draw_in(&mut self.tx, &tenant, &by, opening, request, decide).await?;
        if let Ok(a) = &outcome {
            let sid = i64::try_from(opening.definition_sid)
                .map_err(|_| StoreError::Invalid("definition sid is too large".into()))?;
            sqlx::query(
                "INSERT INTO dms_quota_allocations (declaration_id, request_id, item, version, \
                 order_number, definition_sid, returned) VALUES ($1, $2, $3, $4, $5, $6, 0)",
            )
            .bind(&d.row.id)
            .bind(&a.id)
            .bind(item)
            .bind(d.row.version)
            .bind(&opening.order_number)
            .bind(sid)
            .execute(self.tx.conn())
            .await?;
        }
        Ok(outcome)
    }

    /// The quota allocations of the declaration not returned yet.
    pub async fn quota_allocations(&mut self, d: &DmsLocked) -> Result<Vec<DmsQuotaLink>> {
        let links = quota_links(self.tx.conn(), &d.row.id).await?;
        Ok(links.into_iter().filter(|l| !l.returned).collect())
    }

    /// Returns what an allocation of the declaration still holds, in this transaction.
    pub async fn quota_return<E>(
        &mut self,
        d: &DmsLocked,
        link: &DmsQuotaLink,
        opening: &QuotaOpening,
        quantity: Decimal,
        decide: impl FnOnce(ReturnContext) -> std::result::Result<Decimal, E>,
    ) -> Result<std::result::Result<QuotaReturnRow, E>> {
        let tenant: TenantCode = d.row.tenant.parse()?;
        let by = self.by.clone();
        let outcome = quotas::return_in(
            &mut self.tx,
            &tenant,
            &by,
            opening,
            &link.request_id,
            quantity,
            decide,
        )
        .await?;
        if outcome.is_ok() {
            sqlx::query(
                "UPDATE dms_quota_allocations SET returned = 1 \
                 WHERE declaration_id = $1 AND request_id = $2",
            )
            .bind(&d.row.id)
            .bind(&link.request_id)
            .execute(self.tx.conn())
            .await?;
        }
        Ok(outcome)
    }

    /// Records a control result (apart from the declared and assessed data).
    pub async fn control_result(
        &mut self,
        d: &DmsLocked,
        result: &serde_json::Value,
    ) -> Result<DmsControlResultRow> {
        let (seq,): (i64,) = sqlx::query_as(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM dms_control_results WHERE declaration_id = $1",
        )
        .bind(&d.row.id)
        .fetch_one(self.tx.conn())
        .await?;
        sqlx::query(
            "INSERT INTO dms_control_results (declaration_id, seq, result, recorded_by, \
             recorded_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&d.row.id)
        .bind(seq)
        .bind(result.to_string())
        .bind(self.by.to_string())
        .bind(&self.now_text)
        .execute(self.tx.conn())
        .await?;
        self.history(d, "control results", None, None, Some(&result.to_string()))
            .await?;
        Ok(DmsControlResultRow {
            seq,
            result: result.clone(),
            recorded_by: self.by.to_string(),
            recorded_at: self.now,
        })
    }

    /// Stores a notification to the declarant: `pending` for its webhook when it has one,
    /// `none` otherwise. `id` is the notification id written in `body`.
    pub async fn notify(
        &mut self,
        d: &DmsLocked,
        id: &str,
        function_code: &str,
        name: &str,
        body: &str,
    ) -> Result<DmsNotificationRow> {
        let hook: Option<(String,)> =
            sqlx::query_as("SELECT trader FROM dms_webhooks WHERE trader = $1")
                .bind(&d.row.declarant)
                .fetch_optional(self.tx.conn())
                .await?;
        let (delivery, next) = if hook.is_some() {
            ("pending", Some(self.now_text.clone()))
        } else {
            ("none", None)
        };
        let (seq,): (i64,) = sqlx::query_as(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM dms_notifications WHERE declaration_id = $1",
        )
        .bind(&d.row.id)
        .fetch_one(self.tx.conn())
        .await?;
        sqlx::query(
            "INSERT INTO dms_notifications (id, declaration_id, conversation_id, seq, \
             function_code, name, body, issued_at, delivery, attempts, next_attempt_at, \
             delivered_at, last_error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, \
             NULL, NULL)",
        )
        .bind(id)
        .bind(&d.row.id)
        .bind(&d.row.conversation_id)
        .bind(seq)
        .bind(function_code)
        .bind(name)
        .bind(body)
        .bind(&self.now_text)
        .bind(delivery)
        .bind(next.as_deref())
        .execute(self.tx.conn())
        .await?;
        let tenant: TenantCode = d.row.tenant.parse()?;
        self.tx
            .emit(
                Some(&tenant),
                "dms.notification",
                &serde_json::json!({
                    "declaration_id": d.row.id,
                    "conversation_id": d.row.conversation_id,
                    "notification_id": id,
                    "function_code": function_code,
                    "name": name,
                }),
            )
            .await?;
        Ok(DmsNotificationRow {
            id: id.to_owned(),
            declaration_id: d.row.id.clone(),
            conversation_id: d.row.conversation_id.clone(),
            seq,
            function_code: function_code.to_owned(),
            name: name.to_owned(),
            body: body.to_owned(),
            issued_at: self.now,
            delivery: delivery.to_owned(),
            attempts: 0,
            next_attempt_at: next.as_deref().map(parse_ts).transpose()?,
            delivered_at: None,
            last_error: None,
        })
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await
    }
}

impl Store {
    /// Notifications due for webhook delivery (`pending` and due by `now`), oldest first,
    /// with the declarant's webhook.
    pub async fn dms_deliveries_due(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<DmsDelivery>> {
        let sql = format!(
            "SELECT {cols}, d.declarant AS declarant, w.url AS url, w.secret AS secret \
             FROM dms_notifications n JOIN dms_declarations d ON d.id = n.declaration_id \
             JOIN dms_webhooks w ON w.trader = d.declarant \
             WHERE n.delivery = 'pending' AND n.next_attempt_at <= $1 \
             ORDER BY n.issued_at, n.declaration_id, n.seq LIMIT $2",
            cols = NOTIFICATION_COLUMNS
                .split(", ")
                .map(|c| format!("n.{c} AS {c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows = sqlx::query(&sql)
            .bind(fmt_ts(now))
            .bind(limit)
            .fetch_all(self.write())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DmsDelivery {
                    notification: notification_row(r)?,
                    declarant: col(r, "declarant")?,
                    url: col(r, "url")?,
                    secret: col(r, "secret")?,
                })
            })
            .collect()
    }

    /// Records a delivery attempt: delivered, or failed with the next attempt (`None`: no
    /// more attempts, the notification is `failed`; it stays readable by pull).
    pub async fn dms_delivery_result(
        &self,
        id: &str,
        outcome: std::result::Result<(), (String, Option<DateTime<Utc>>)>,
    ) -> Result<()> {
        let now = self.now_text();
        let q = match &outcome {
            Ok(()) => sqlx::query(
                "UPDATE dms_notifications SET delivery = 'delivered', attempts = attempts + 1, \
                 delivered_at = $2, next_attempt_at = NULL, last_error = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(now),
            Err((error, next)) => sqlx::query(
                "UPDATE dms_notifications SET delivery = $2, attempts = attempts + 1, \
                 next_attempt_at = $3, last_error = $4 WHERE id = $1",
            )
            .bind(id)
            .bind(if next.is_some() { "pending" } else { "failed" })
            .bind(next.map(fmt_ts))
            .bind(error.chars().take(500).collect::<String>()),
        };
        q.execute(self.write()).await?;
        Ok(())
    }
}
