//! Messages from an administration to a trader or an agency: the first thing addressed to
//! someone, and the basis of later notifications.

use crate::db::{col, fmt_ts, parse_ts, Page};
use crate::error::StoreError;
use crate::identity::not_found;
use crate::scope::{Scope, Scoped};
use crate::Result;
use chrono::{DateTime, Utc};
use portorium_kernel::{AgencyCode, Eori, PrincipalId, TenantCode};
use serde::Serialize;
use sqlx::any::AnyRow;

/// A message as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MessageRow {
    pub id: String,
    pub tenant: TenantCode,
    pub sender: String,
    /// `trader:EORI` or `agency:TENANT/AGENCY`.
    pub addressee: String,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// A message to send.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub addressee: String,
    pub subject: String,
    pub body: String,
}

fn message_row(r: &AnyRow) -> Result<MessageRow> {
    Ok(MessageRow {
        id: col(r, "id")?,
        tenant: col::<String>(r, "tenant")?.parse()?,
        sender: col(r, "sender")?,
        addressee: col(r, "addressee")?,
        subject: col(r, "subject")?,
        body: col(r, "body")?,
        created_at: parse_ts(&col::<String>(r, "created_at")?)?,
    })
}

impl Scoped<'_> {
    /// Send a message from this administration. The addressee must be a trader registered by
    /// it or one of its agencies. The `message.sent` event commits with the row.
    pub async fn send_message(&self, sender: &PrincipalId, m: &NewMessage) -> Result<MessageRow> {
        let Scope::Tenant(tenant) = &self.scope else {
            return Err(StoreError::OutOfScope(
                "only an administration sends messages".into(),
            ));
        };
        if m.subject.trim().is_empty() || m.subject.len() > 200 {
            return Err(StoreError::Invalid(
                "subject must be 1 to 200 characters".into(),
            ));
        }
        if m.body.len() > 20_000 {
            return Err(StoreError::Invalid(
                "body must be at most 20000 characters".into(),
            ));
        }
        let store = self.store;
        let addressee = match m.addressee.split_once(':') {
            Some(("trader", eori)) => {
                let eori: Eori = eori.parse()?;
                // Must be visible to this administration.
                self.get_trader(&eori).await?;
                format!("trader:{eori}")
            }
            Some(("agency", rest)) => {
                let (t, a) = rest.split_once('/').ok_or_else(|| {
                    StoreError::Invalid("an agency addressee is agency:TENANT/AGENCY".into())
                })?;
                let t: TenantCode = t.parse()?;
                let a: AgencyCode = a.parse()?;
                let exists: (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM agencies WHERE tenant = $1 AND code = $2")
                        .bind(t.as_str())
                        .bind(a.as_str())
                        .fetch_one(store.read())
                        .await?;
                if &t != tenant || exists.0 == 0 {
                    return Err(not_found("agency", rest));
                }
                format!("agency:{t}/{a}")
            }
            _ => {
                return Err(StoreError::Invalid(
                    "addressee must be trader:EORI or agency:TENANT/AGENCY".into(),
                ))
            }
        };
        let id = store.ids().new_id().to_string();
        let now = store.now();
        let mut tx = store.begin().await?;
        sqlx::query(
            "INSERT INTO messages (id, tenant, sender, addressee, subject, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(tenant.as_str())
        .bind(sender.to_string())
        .bind(&addressee)
        .bind(&m.subject)
        .bind(&m.body)
        .bind(fmt_ts(now))
        .execute(tx.conn())
        .await?;
        tx.emit(
            Some(tenant),
            "message.sent",
            &serde_json::json!({ "id": id, "addressee": addressee }),
        )
        .await?;
        tx.commit().await?;
        Ok(MessageRow {
            id,
            tenant: tenant.clone(),
            sender: sender.to_string(),
            addressee,
            subject: m.subject.clone(),
            body: m.body.clone(),
            created_at: now,
        })
    }

    /// Messages visible in this scope: an administration sees what it sent; a trader or agency
    /// what is addressed to it; the central scope all.
    pub async fn list_messages(&self, page: &Page) -> Result<(Vec<MessageRow>, Option<String>)> {
        let (sql, value) = match &self.scope {
            Scope::Central => (
                "SELECT * FROM messages WHERE $1 = '' AND id > $2 ORDER BY id LIMIT $3",
                String::new(),
            ),
            Scope::Tenant(t) => (
                "SELECT * FROM messages WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3",
                t.to_string(),
            ),
            Scope::Trader(_) | Scope::Agency { .. } => (
                "SELECT * FROM messages WHERE addressee = $1 AND id > $2 ORDER BY id LIMIT $3",
                self.scope.addressee().unwrap_or_default(),
            ),
        };
        let rows = sqlx::query(sql)
            .bind(value)
            .bind(page.after())
            .bind(page.fetch_limit())
            .fetch_all(self.store.read())
            .await?;
        let rows = rows.iter().map(message_row).collect::<Result<Vec<_>>>()?;
        Ok(page.finish(rows, |m| m.id.clone()))
    }

    pub async fn get_message(&self, id: &str) -> Result<MessageRow> {
        let row = sqlx::query("SELECT * FROM messages WHERE id = $1")
            .bind(id)
            .fetch_optional(self.store.read())
            .await?
            .ok_or_else(|| not_found("message", id))?;
        let m = message_row(&row)?;
        let visible = match &self.scope {
            Scope::Central => true,
            Scope::Tenant(t) => *t == m.tenant,
            Scope::Trader(_) | Scope::Agency { .. } => {
                self.scope.addressee().as_deref() == Some(m.addressee.as_str())
            }
        };
        if visible {
            Ok(m)
        } else {
            Err(not_found("message", id))
        }
    }
}
