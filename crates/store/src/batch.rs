//! Group commit of write transactions: several short transactions (each transit message or
//! decision) share one database transaction and so one durable commit (one fsync on SQLite
//! with `synchronous=FULL`, one WAL flush on PostgreSQL), each inside its own `SAVEPOINT`.
//!
//! [`Store::begin_grouped`] waits for the store's one open batch (a mutex, taken in FIFO
//! order), opening a database transaction if there is none, and starts a savepoint. The
//! caller writes through the returned [`Grouped`] (like a [`Tx`]) with the batch to
//! itself. Then:
//! * [`Grouped::commit`] releases the savepoint, leaves the batch to the next caller and
//!   returns only once **the batch** is committed: it queues a committer (a spawned task, so
//!   a cancelled caller never strands a batch) behind everything that is waiting for the
//!   batch at that moment. Callers that started in the meantime join the batch; the first of
//!   their committers to get the batch commits it for all, and each learns the outcome.
//!   Nobody is answered before the commit, and a failed commit fails every member.
//! * [`Grouped::rollback`] rolls back to the savepoint: the other members are untouched.
//! * A `Grouped` dropped without either (a cancelled request) drops the database
//!   transaction, which rolls the whole batch back; its members that were waiting are told
//!   the batch failed, and the next caller starts a new batch.
//!
//! The writes of one member are visible to the members after it (they share the
//! connection), which is what a serial execution would show; if the batch fails, all fail.
//!
//! Batching is for SQLite, whose one writer connection serialises every write transaction
//! anyway; on PostgreSQL a member is a plain transaction (see [`Store::begin_grouped`]).

use crate::db::Store;
use crate::error::StoreError;
use crate::outbox::Tx;
use crate::Result;
use sqlx::{Any, Transaction};
use std::sync::Arc;
use tokio::sync::{oneshot, Mutex, OwnedMutexGuard};

type Outcome = std::result::Result<(), String>;

/// The open batch: its database transaction (taken out while a member writes) and the
/// members waiting for its commit.
struct Batch {
    id: u64,
    tx: Option<Transaction<'static, Any>>,
    waiters: Vec<oneshot::Sender<Outcome>>,
}

#[derive(Default)]
pub(crate) struct BatchState {
    next_id: u64,
    open: Option<Batch>,
}

/// The group-commit state of a store (one per `Store`, shared by its clones).
#[derive(Default)]
pub(crate) struct GroupCommit {
    state: Arc<Mutex<BatchState>>,
}

/// One member of a batch (see the module documentation).
pub struct Grouped<'s> {
    /// The member's transaction and the batch it holds; `None` once committed or rolled back.
    inner: Option<(Tx<'s>, OwnedMutexGuard<BatchState>)>,
    /// On PostgreSQL: a transaction of its own (see [`Store::begin_grouped`]).
    solo: Option<Tx<'s>>,
    batch: u64,
}

impl Store {
    /// Begins a member of the current batch (see the module documentation).
    ///
    /// On PostgreSQL the member is a transaction of its own: the server already flushes the
    /// WAL of concurrent commits together, and separate connections let the members' statement
    /// round trips overlap, which one shared connection would serialise (measured in
    /// docs/benchmarks.md: batching there lowered the lodging rate).
    pub async fn begin_grouped(&self) -> Result<Grouped<'_>> {
        if self.backend() == crate::db::Backend::Postgres {
            return Ok(Grouped {
                inner: None,
                solo: Some(self.begin().await?),
                batch: 0,
            });
        }
        let mut guard = self.inner.group.state.clone().lock_owned().await;
        let state = &mut *guard;
        let reusable = match state.open.as_mut() {
            Some(b) => match b.tx.take() {
                Some(tx) => Some((b.id, tx)),
                None => {
                    // A member's cleanup failed: the batch was rolled back.
                    for w in b.waiters.drain(..) {
                        let _ = w.send(Err("the batch was rolled back".into()));
                    }
                    state.open = None;
                    None
                }
            },
            None => None,
        };
        let (batch, tx) = match reusable {
            Some(found) => found,
            None => {
                state.next_id += 1;
                let tx = self.write().begin().await?;
                state.open = Some(Batch {
                    id: state.next_id,
                    tx: None,
                    waiters: Vec::new(),
                });
                (state.next_id, tx)
            }
        };
        let mut tx = Tx { store: self, tx };
        sqlx::query("SAVEPOINT member").execute(tx.conn()).await?;
        Ok(Grouped {
            inner: Some((tx, guard)),
            solo: None,
            batch,
        })
    }
}

fn finished() -> StoreError {
    StoreError::Corrupt("group commit: the member is already finished".into())
}

impl<'s> Grouped<'s> {
    /// The underlying connection, for the member's statements.
    pub fn conn(&mut self) -> Result<&mut sqlx::AnyConnection> {
        match (self.inner.as_mut(), self.solo.as_mut()) {
            (Some((tx, _)), _) | (None, Some(tx)) => Ok(tx.conn()),
            (None, None) => Err(finished()),
        }
    }

    /// Records an event to publish once the batch commits (see [`Tx::emit`]).
    pub async fn emit(
        &mut self,
        tenant: Option<&portorium_kernel::TenantCode>,
        topic: &str,
        payload: &serde_json::Value,
    ) -> Result<()> {
        match (self.inner.as_mut(), self.solo.as_mut()) {
            (Some((tx, _)), _) | (None, Some(tx)) => tx.emit(tenant, topic, payload).await,
            (None, None) => Err(finished()),
        }
    }

    /// Releases the savepoint and waits until the batch is committed.
    pub async fn commit(mut self) -> Result<()> {
        if let Some(tx) = self.solo.take() {
            return tx.commit().await;
        }
        let (mut tx, mut guard) = self.inner.take().ok_or_else(finished)?;
        if let Err(e) = sqlx::query("RELEASE SAVEPOINT member")
            .execute(tx.conn())
            .await
        {
            end_member(tx.tx, guard, self.batch).await;
            return Err(e.into());
        }
        let (send, receive) = oneshot::channel();
        match guard.open.as_mut() {
            Some(b) if b.id == self.batch => {
                b.tx = Some(tx.tx);
                b.waiters.push(send);
            }
            _ => return Err(StoreError::Corrupt("group commit: batch lost".into())),
        }
        let state = OwnedMutexGuard::mutex(&guard).clone();
        drop(guard);
        // A task of its own: the batch is committed even if this caller goes away.
        tokio::spawn(commit_batch(state, self.batch));
        match receive.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Corrupt(format!("group commit failed: {e}"))),
            Err(_) => Err(StoreError::Corrupt("group commit: no outcome".into())),
        }
    }

    /// Undoes this member's writes (to its savepoint); the rest of the batch goes on.
    pub async fn rollback(mut self) -> Result<()> {
        if let Some(tx) = self.solo.take() {
            return tx.rollback().await;
        }
        let (tx, guard) = self.inner.take().ok_or_else(finished)?;
        end_member(tx.tx, guard, self.batch).await;
        Ok(())
    }
}

impl Drop for Grouped<'_> {
    /// Dropped while writing (an error returned early, a cancelled request): the member's
    /// writes are rolled back to its savepoint by a task that holds the batch meanwhile.
    fn drop(&mut self) {
        if let Some((tx, guard)) = self.inner.take() {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(end_member(tx.tx, guard, self.batch));
            }
            // Without a runtime the transaction is dropped: the batch rolls back, and the
            // next member or committer tells its waiters.
        }
    }
}

/// Rolls a member back to its savepoint and gives the batch back; if nobody waits for the
/// batch, ends it so that it does not hold the connection. If the rollback fails, the whole
/// batch is rolled back (its waiters learn it from the next member or committer).
async fn end_member(
    mut tx: Transaction<'static, Any>,
    mut guard: OwnedMutexGuard<BatchState>,
    batch: u64,
) {
    let undone = async {
        sqlx::query("ROLLBACK TO SAVEPOINT member")
            .execute(&mut *tx)
            .await?;
        sqlx::query("RELEASE SAVEPOINT member")
            .execute(&mut *tx)
            .await?;
        Ok::<_, sqlx::Error>(())
    }
    .await;
    let state = &mut *guard;
    match state.open.as_mut() {
        Some(b) if b.id == batch => {
            if undone.is_err() {
                drop(tx);
            } else if b.waiters.is_empty() {
                state.open = None;
                let _ = tx.rollback().await;
            } else {
                b.tx = Some(tx);
            }
        }
        _ => drop(tx),
    }
}

/// Commits batch `id` if it is still open when this committer's turn comes, and tells its
/// members; otherwise another committer already did.
async fn commit_batch(state: Arc<Mutex<BatchState>>, id: u64) {
    let mut guard = state.lock().await;
    let Some(b) = guard.open.take_if(|b| b.id == id) else {
        return;
    };
    drop(guard);
    let outcome = match b.tx {
        Some(tx) => tx.commit().await.map_err(|e| e.to_string()),
        None => Err("the batch was rolled back".into()),
    };
    for w in b.waiters {
        let _ = w.send(outcome.clone());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use crate::testing::TestDb;

    /// Concurrent members: the committed ones are all there; a member that failed (a unique
    /// violation, which on PostgreSQL aborts the whole transaction but for the savepoint) and
    /// rolled back, or that was dropped mid-way, leaves nothing and fails nobody else.
    #[tokio::test]
    async fn members_commit_together_and_fail_alone() {
        for db in TestDb::all().await.unwrap() {
            let store = db.open().await.unwrap();
            let mut tx = store.begin().await.unwrap();
            sqlx::query("CREATE TABLE batch_t (k TEXT PRIMARY KEY)")
                .execute(tx.conn())
                .await
                .unwrap();
            sqlx::query("INSERT INTO batch_t (k) VALUES ('taken')")
                .execute(tx.conn())
                .await
                .unwrap();
            tx.commit().await.unwrap();
            let mut tasks = Vec::new();
            for i in 0..40u32 {
                let store = store.clone();
                tasks.push(tokio::spawn(async move {
                    let mut m = store.begin_grouped().await.unwrap();
                    sqlx::query("INSERT INTO batch_t (k) VALUES ($1)")
                        .bind(format!("k{i}"))
                        .execute(m.conn().unwrap())
                        .await
                        .unwrap();
                    tokio::task::yield_now().await;
                    if i.is_multiple_of(5) {
                        let dup = sqlx::query("INSERT INTO batch_t (k) VALUES ('taken')")
                            .execute(m.conn().unwrap())
                            .await;
                        assert!(dup.is_err());
                        m.rollback().await.unwrap();
                        false
                    } else if i.is_multiple_of(7) {
                        drop(m);
                        false
                    } else {
                        m.commit().await.unwrap();
                        true
                    }
                }));
            }
            let mut want = vec!["taken".to_owned()];
            for (i, t) in tasks.into_iter().enumerate() {
                if t.await.unwrap() {
                    want.push(format!("k{i}"));
                }
            }
            // Let the cleanup of the dropped members run, then read through a new member.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            let mut m = store.begin_grouped().await.unwrap();
            let mut got: Vec<String> = sqlx::query_as::<_, (String,)>("SELECT k FROM batch_t")
                .fetch_all(m.conn().unwrap())
                .await
                .unwrap()
                .into_iter()
                .map(|(k,)| k)
                .collect();
            m.rollback().await.unwrap();
            got.sort();
            want.sort();
            assert_eq!(got, want, "{}", db.label);
        }
    }
}
