//! The transactional outbox: a state change and the events it emits commit together.

use crate::db::{col, fmt_ts, parse_ts, Store};
use crate::Result;
use chrono::{DateTime, Utc};
use portorium_kernel::TenantCode;
use serde::Serialize;
use sqlx::{Any, Transaction};

/// An event waiting in (or published from) the outbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxEvent {
    pub id: i64,
    pub tenant: Option<String>,
    pub topic: String,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// A write transaction. Rows it writes and events it [`emit`](Tx::emit)s commit or roll back
/// together.
pub struct Tx<'s> {
    pub(crate) store: &'s Store,
    pub(crate) tx: Transaction<'static, Any>,
}

impl Store {
    pub async fn begin(&self) -> Result<Tx<'_>> {
        Ok(Tx {
            store: self,
            tx: self.write().begin().await?,
        })
    }

    /// Events not yet published, oldest first.
    pub async fn outbox_pending(&self, limit: i64) -> Result<Vec<OutboxEvent>> {
        let rows = sqlx::query(
            "SELECT id, tenant, topic, payload, created_at FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.write())
        .await?;
        rows.iter()
            .map(|r| {
                let payload: String = col(r, "payload")?;
                Ok(OutboxEvent {
                    id: col(r, "id")?,
                    tenant: col(r, "tenant")?,
                    topic: col(r, "topic")?,
                    payload: serde_json::from_str(&payload)
                        .map_err(|e| crate::StoreError::Corrupt(format!("outbox payload: {e}")))?,
                    created_at: parse_ts(&col::<String>(r, "created_at")?)?,
                })
            })
            .collect()
    }

    /// Mark events as published (after the transport has accepted them).
    pub async fn outbox_mark_published(&self, ids: &[i64]) -> Result<()> {
        let now = self.now_text();
        let mut tx = self.write().begin().await?;
        for id in ids {
            sqlx::query("UPDATE outbox SET published_at = $1 WHERE id = $2")
                .bind(&now)
                .bind(*id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Tx<'_> {
    /// Record an event to publish once this transaction commits.
    pub async fn emit(
        &mut self,
        tenant: Option<&TenantCode>,
        topic: &str,
        payload: &serde_json::Value,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO outbox (tenant, topic, payload, created_at, published_at) VALUES ($1, $2, $3, $4, NULL)",
        )
        .bind(tenant.map(|t| t.to_string()))
        .bind(topic)
        .bind(payload.to_string())
        .bind(fmt_ts(self.store.now()))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The underlying connection, for statements of the change itself.
    pub fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}
