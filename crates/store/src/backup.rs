//! Consistent online snapshots.

use crate::db::{Backend, Store};
use crate::error::StoreError;
use crate::Result;
use std::path::Path;

/// Write a transactionally consistent copy of a SQLite database to `out` while it is in use
/// (`VACUUM INTO` reads one snapshot; writers carry on).
pub async fn backup_sqlite(store: &Store, out: &Path) -> Result<()> {
    if store.backend() != Backend::Sqlite {
        return Err(StoreError::Invalid(
            "backup_sqlite needs a SQLite store".into(),
        ));
    }
    if out.exists() {
        return Err(StoreError::Invalid(format!(
            "{} already exists",
            out.display()
        )));
    }
    let target = out
        .to_str()
        .ok_or_else(|| StoreError::Invalid("backup path is not UTF-8".into()))?
        .to_owned();
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(store.read())
        .await?;
    Ok(())
}

/// Check that a restored SQLite file opens and migrates; the caller then verifies the audit log.
pub async fn restore_sqlite(store: &Store) -> Result<()> {
    store.ping().await
}
