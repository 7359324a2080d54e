//! `Idempotency-Key` records: a repeated creating request returns the first result.

use crate::db::{col, Store};
use crate::Result;

/// A response kept for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
}

/// What to do with a request carrying an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyOutcome {
    /// First use of the key: the key is now reserved; run the request and [`Store::idempotency_complete`].
    Proceed,
    /// The same request was made before: return this.
    Replay(StoredResponse),
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

impl Store {
    /// Reserve `key` for `principal`, or tell what happened to it before.
    pub async fn idempotency_begin(
        &self,
        principal: &str,
        key: &str,
        request_hash: &str,
    ) -> Result<IdempotencyOutcome> {
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (principal, idem_key, request_hash, status, response, created_at) \
             VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT (principal, idem_key) DO NOTHING",
        )
        .bind(principal)
        .bind(key)
        .bind(request_hash)
        .bind(self.now_text())
        .execute(self.write())
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(IdempotencyOutcome::Proceed);
        }
        let row = sqlx::query(
            "SELECT request_hash, status, response FROM idempotency_keys WHERE principal = $1 AND idem_key = $2",
        )
        .bind(principal)
        .bind(key)
        .fetch_one(self.write())
        .await?;
        let hash: String = col(&row, "request_hash")?;
        let status: i64 = col(&row, "status")?;
        if hash != request_hash {
            return Ok(IdempotencyOutcome::Mismatch);
        }
        if status == 0 {
            return Ok(IdempotencyOutcome::InProgress);
        }
        Ok(IdempotencyOutcome::Replay(StoredResponse {
            status: u16::try_from(status).unwrap_or(500),
            body: col(&row, "response")?,
        }))
    }

    /// Keep the response of a request that reserved `key`.
    pub async fn idempotency_complete(
        &self,
        principal: &str,
        key: &str,
        response: &StoredResponse,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE idempotency_keys SET status = $1, response = $2 WHERE principal = $3 AND idem_key = $4",
        )
        .bind(i64::from(response.status))
        .bind(&response.body)
        .bind(principal)
        .bind(key)
        .execute(self.write())
        .await?;
        Ok(())
    }

    /// Release a reservation whose request failed for a reason worth retrying.
    pub async fn idempotency_abandon(&self, principal: &str, key: &str) -> Result<()> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE principal = $1 AND idem_key = $2 AND status = 0",
        )
        .bind(principal)
        .bind(key)
        .execute(self.write())
        .await?;
        Ok(())
    }
}
