//! Storage of the tamper-evident audit log.
//!
//! Appends go through one task per process that commits them in batches (group commit): each
//! batch is one transaction that assigns sequence numbers, stores the entries, the completed
//! Merkle nodes and the new head, and, when one is due, a signed checkpoint. Another process
//! appending to the same database (the CLI while the server runs) is safe: each batch first
//! takes the write lock on the head row and rebuilds its frontier if the head moved.

use crate::db::{col, fmt_ts, parse_ts, Page, Placeholders, Store};
use crate::error::StoreError;
use crate::scope::{Scope, Scoped};
use crate::Result;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use portorium_audit::{
    AuditEntry, AuditError, Checkpoint, CheckpointSigner, Frontier, Hash, NodeId, NodeSource,
    Outcome, SignedCheckpoint, StoredEntry, Verifier, VerifyFailure, VerifyReport,
};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// What a caller records; the log adds the sequence number and time.
#[derive(Debug, Clone, Default)]
pub struct AuditRecord {
    pub principal: Option<String>,
    pub tenant: Option<String>,
    pub circle: Option<String>,
    pub action: String,
    pub resource: String,
    pub outcome: Option<Outcome>,
    pub request_id: Option<String>,
    pub payload_hash: Option<String>,
    pub detail: Option<String>,
}

/// How often the appender checkpoints and how large its batches are.
#[derive(Debug, Clone)]
pub struct AuditLogConfig {
    /// The checkpoint origin line (names the log).
    pub origin: String,
    /// A checkpoint is signed at the first batch after this much time…
    pub checkpoint_interval: Duration,
    /// …or after this many entries, whichever comes first.
    pub checkpoint_every: u64,
    /// Largest batch committed in one transaction.
    pub batch_max: usize,
}

impl Default for AuditLogConfig {
    fn default() -> Self {
        Self {
            origin: "portorium/audit".into(),
            checkpoint_interval: Duration::from_secs(1),
            checkpoint_every: 10_000,
            batch_max: 2_000,
        }
    }
}

/// A proof with the tree it refers to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProofBundle {
    pub tree_size: u64,
    /// For an inclusion proof: the leaf index; for a consistency proof: the old size.
    pub from: u64,
    /// Hex-encoded audit path hashes, in RFC 9162 order.
    pub hashes: Vec<String>,
    /// Hex root of the tree at `tree_size`.
    pub root: String,
    /// Hex leaf hash (inclusion proofs).
    pub leaf_hash: Option<String>,
}

enum Cmd {
    Append(AuditRecord, oneshot::Sender<Result<u64>>),
    Checkpoint(oneshot::Sender<Result<Option<SignedCheckpoint>>>),
    Shutdown(oneshot::Sender<()>),
}

/// Handle to the audit log. Cheap to clone.
#[derive(Clone)]
pub struct AuditLog {
    store: Store,
    origin: String,
    signer: Arc<CheckpointSigner>,
    tx: mpsc::Sender<Cmd>,
}

struct Appender {
    store: Store,
    signer: Arc<CheckpointSigner>,
    config: AuditLogConfig,
    frontier: Option<Frontier>,
    last_cp: Option<(u64, DateTime<Utc>)>,
}

fn hash_from(v: Vec<u8>) -> Result<Hash> {
    Hash::try_from(v.as_slice()).map_err(|_| StoreError::Corrupt("hash is not 32 bytes".into()))
}

fn outcome_str(o: &Outcome) -> &'static str {
    match o {
        Outcome::Success => "success",
        Outcome::Failure => "failure",
        Outcome::Denied => "denied",
    }
}

fn parse_outcome(s: &str) -> Result<Outcome> {
    match s {
        "success" => Ok(Outcome::Success),
        "failure" => Ok(Outcome::Failure),
        "denied" => Ok(Outcome::Denied),
        _ => Err(StoreError::Corrupt(format!("audit outcome {s:?}"))),
    }
}

fn entry_row(r: &AnyRow) -> Result<(AuditEntry, Hash)> {
    let seq: i64 = col(r, "seq")?;
    let entry = AuditEntry {
        seq: u64::try_from(seq).map_err(|_| StoreError::Corrupt("negative seq".into()))?,
        time: parse_ts(&col::<String>(r, "at")?)?,
        principal: col(r, "principal")?,
        tenant: col(r, "tenant")?,
        circle: col(r, "circle")?,
        action: col(r, "action")?,
        resource: col(r, "resource")?,
        outcome: parse_outcome(&col::<String>(r, "outcome")?)?,
        request_id: col(r, "request_id")?,
        payload_hash: col(r, "payload_hash")?,
        detail: col(r, "detail")?,
    };
    Ok((entry, hash_from(col(r, "leaf_hash")?)?))
}

fn checkpoint_row(r: &AnyRow, origin: &str) -> Result<SignedCheckpoint> {
    let size: i64 = col(r, "size")?;
    Ok(SignedCheckpoint {
        checkpoint: Checkpoint {
            origin: origin.to_owned(),
            size: u64::try_from(size).map_err(|_| StoreError::Corrupt("negative size".into()))?,
            root: hash_from(col(r, "root")?)?,
            time: parse_ts(&col::<String>(r, "at")?)?,
        },
        key_id: col(r, "key_id")?,
        signature: col(r, "signature")?,
    })
}

/// Node hashes fetched from the database for one proof.
struct FetchedNodes(HashMap<(u32, u64), Hash>);

impl NodeSource for FetchedNodes {
    fn node(&self, id: NodeId) -> std::result::Result<Hash, AuditError> {
        self.0
            .get(&(id.level, id.index))
            .copied()
            .ok_or(AuditError::MissingNode(id))
    }
}

/// Records which nodes an algorithm asks for (the proof algorithms never branch on hash
/// values, so a dry run with zero hashes names exactly the nodes the real run needs).
struct Recorder(std::cell::RefCell<Vec<NodeId>>);

impl NodeSource for Recorder {
    fn node(&self, id: NodeId) -> std::result::Result<Hash, AuditError> {
        self.0.borrow_mut().push(id);
        Ok([0u8; 32])
    }
}

async fn fetch_nodes(conn: &mut AnyConnection, ids: &[NodeId]) -> Result<FetchedNodes> {
    let mut map = HashMap::new();
    for chunk in ids.chunks(200) {
        let mut sql = String::from("SELECT level, idx, hash FROM audit_nodes WHERE ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(" OR ");
            }
            sql.push_str(&format!(
                "(level = ${} AND idx = ${})",
                2 * i + 1,
                2 * i + 2
            ));
        }
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(i64::from(id.level)).bind(to_i64(id.index)?);
        }
        for r in q.fetch_all(&mut *conn).await? {
            let level: i64 = col(&r, "level")?;
            let idx: i64 = col(&r, "idx")?;
            map.insert(
                (
                    u32::try_from(level).map_err(|_| StoreError::Corrupt("node level".into()))?,
                    u64::try_from(idx).map_err(|_| StoreError::Corrupt("node index".into()))?,
                ),
                hash_from(col(&r, "hash")?)?,
            );
        }
    }
    Ok(FetchedNodes(map))
}

async fn nodes_for<T>(
    conn: &mut AnyConnection,
    run: impl Fn(&dyn NodeSourceDyn) -> std::result::Result<T, AuditError>,
) -> Result<T> {
    let rec = Recorder(std::cell::RefCell::new(Vec::new()));
    run(&rec)?;
    let ids = rec.0.into_inner();
    let fetched = fetch_nodes(conn, &ids).await?;
    Ok(run(&fetched)?)
}

/// Object-safe view of [`NodeSource`] so one closure serves both passes.
trait NodeSourceDyn {
    fn get(&self, id: NodeId) -> std::result::Result<Hash, AuditError>;
}
impl<T: NodeSource> NodeSourceDyn for T {
    fn get(&self, id: NodeId) -> std::result::Result<Hash, AuditError> {
        self.node(id)
    }
}
struct DynSource<'a>(&'a dyn NodeSourceDyn);
impl NodeSource for DynSource<'_> {
    fn node(&self, id: NodeId) -> std::result::Result<Hash, AuditError> {
        self.0.get(id)
    }
}

fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::Invalid("value out of range".into()))
}

async fn head(conn: &mut AnyConnection) -> Result<(u64, Hash)> {
    let row = sqlx::query("SELECT size, root FROM audit_head WHERE id = 1")
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        None => Ok((0, portorium_audit::empty_root())),
        Some(r) => {
            let size: i64 = col(&r, "size")?;
            Ok((
                u64::try_from(size).map_err(|_| StoreError::Corrupt("head size".into()))?,
                hash_from(col(&r, "root")?)?,
            ))
        }
    }
}

impl Appender {
    async fn load_last_checkpoint(&mut self) -> Result<()> {
        let row = sqlx::query("SELECT size, at FROM audit_checkpoints ORDER BY size DESC LIMIT 1")
            .fetch_optional(self.store.read())
            .await?;
        self.last_cp = match row {
            None => None,
            Some(r) => {
                let size: i64 = col(&r, "size")?;
                Some((
                    u64::try_from(size).unwrap_or(0),
                    parse_ts(&col::<String>(&r, "at")?)?,
                ))
            }
        };
        Ok(())
    }

    fn checkpoint_due(&self, size: u64, now: DateTime<Utc>, force: bool) -> bool {
        match self.last_cp {
            None => size > 0,
            Some((cp_size, cp_time)) => {
                size > cp_size
                    && (force
                        || size - cp_size >= self.config.checkpoint_every
                        || (now - cp_time).to_std().unwrap_or_default()
                            >= self.config.checkpoint_interval)
            }
        }
    }

    /// Commit one batch (possibly empty: then only a due checkpoint is written).
    async fn commit(
        &mut self,
        records: &[AuditRecord],
        force_checkpoint: bool,
    ) -> Result<(u64, Option<SignedCheckpoint>)> {
        let store = self.store.clone();
        let now = store.now();
        let now_text = fmt_ts(now);
        let mut tx = store.write().begin().await?;
        // Take the write lock first (row lock on PostgreSQL, the database write lock on SQLite).
        let locked = sqlx::query("UPDATE audit_head SET updated_at = $1 WHERE id = 1")
            .bind(&now_text)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if locked == 0 {
            sqlx::query(
                "INSERT INTO audit_head (id, size, root, updated_at) VALUES (1, 0, $1, $2)",
            )
            .bind(portorium_audit::empty_root().to_vec())
            .bind(&now_text)
            .execute(&mut *tx)
            .await?;
        }
        let (size, _) = head(&mut tx).await?;
        let mut frontier = match self.frontier.take() {
            Some(f) if f.size() == size => f,
            _ => {
                let rec = Recorder(std::cell::RefCell::new(Vec::new()));
                Frontier::from_source(size, &rec)?;
                let fetched = fetch_nodes(&mut tx, &rec.0.into_inner()).await?;
                Frontier::from_source(size, &fetched)?
            }
        };
        let first = size;
        let mut entry_rows: Vec<(AuditEntry, Hash)> = Vec::with_capacity(records.len());
        let mut nodes: Vec<(NodeId, Hash)> = Vec::with_capacity(records.len() * 2);
        for (i, r) in records.iter().enumerate() {
            let entry = AuditEntry {
                seq: first + i as u64,
                time: now,
                principal: r.principal.clone(),
                tenant: r.tenant.clone(),
                circle: r.circle.clone(),
                action: r.action.clone(),
                resource: r.resource.clone(),
                outcome: r.outcome.unwrap_or(Outcome::Success),
                request_id: r.request_id.clone(),
                payload_hash: r.payload_hash.clone(),
                detail: r.detail.clone(),
            };
            let leaf = entry.leaf_hash();
            nodes.extend(frontier.append(leaf));
            entry_rows.push((entry, leaf));
        }
        const ENTRY_COLS: usize = 12;
        for chunk in entry_rows.chunks(400) {
            let mut sql = String::from(
                "INSERT INTO audit_entries (seq, at, principal, tenant, circle, action, resource, outcome, request_id, payload_hash, detail, leaf_hash) VALUES ",
            );
            Placeholders::new(store.backend()).push_rows(&mut sql, chunk.len(), ENTRY_COLS);
            let mut q = sqlx::query(&sql);
            for (e, leaf) in chunk {
                q = q
                    .bind(to_i64(e.seq)?)
                    .bind(now_text.clone())
                    .bind(e.principal.clone())
                    .bind(e.tenant.clone())
                    .bind(e.circle.clone())
                    .bind(e.action.clone())
                    .bind(e.resource.clone())
                    .bind(outcome_str(&e.outcome))
                    .bind(e.request_id.clone())
                    .bind(e.payload_hash.clone())
                    .bind(e.detail.clone())
                    .bind(leaf.to_vec());
            }
            q.execute(&mut *tx).await?;
        }
        for chunk in nodes.chunks(1000) {
            let mut sql = String::from("INSERT INTO audit_nodes (level, idx, hash) VALUES ");
            Placeholders::new(store.backend()).push_rows(&mut sql, chunk.len(), 3);
            let mut q = sqlx::query(&sql);
            for (id, h) in chunk {
                q = q
                    .bind(i64::from(id.level))
                    .bind(to_i64(id.index)?)
                    .bind(h.to_vec());
            }
            q.execute(&mut *tx).await?;
        }
        let new_size = frontier.size();
        let root = frontier.root();
        sqlx::query("UPDATE audit_head SET size = $1, root = $2 WHERE id = 1")
            .bind(to_i64(new_size)?)
            .bind(root.to_vec())
            .execute(&mut *tx)
            .await?;
        let mut signed = None;
        if self.checkpoint_due(new_size, now, force_checkpoint) {
            let cp = self.signer.sign(Checkpoint {
                origin: self.config.origin.clone(),
                size: new_size,
                root,
                time: now,
            });
            sqlx::query(
                "INSERT INTO audit_checkpoints (size, at, root, key_id, signature) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (size) DO NOTHING",
            )
            .bind(to_i64(new_size)?)
            .bind(&now_text)
            .bind(root.to_vec())
            .bind(&cp.key_id)
            .bind(&cp.signature)
            .execute(&mut *tx)
            .await?;
            signed = Some(cp);
        }
        tx.commit().await?;
        if signed.is_some() {
            self.last_cp = Some((new_size, now));
        }
        self.frontier = Some(frontier);
        Ok((first, signed))
    }

    async fn run(mut self, mut rx: mpsc::Receiver<Cmd>) {
        if let Err(e) = self.load_last_checkpoint().await {
            tracing::error!(error = %e, "audit: cannot read the last checkpoint");
        }
        let mut tick = tokio::time::interval(self.config.checkpoint_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let first = tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(Cmd::Shutdown(ack)) => {
                        self.final_checkpoint().await;
                        let _ = ack.send(());
                        return;
                    }
                    Some(c) => c,
                    None => break,
                },
                _ = tick.tick() => {
                    if let Err(e) = self.commit(&[], false).await {
                        self.frontier = None;
                        tracing::error!(error = %e, "audit: periodic checkpoint failed");
                    }
                    continue;
                }
            };
            let mut records = Vec::new();
            let mut waiters = Vec::new();
            let mut checkpoint_waiters = Vec::new();
            let mut shutdown = None;
            let mut cmd = Some(first);
            while let Some(c) = cmd.take() {
                match c {
                    Cmd::Append(r, w) => {
                        records.push(r);
                        waiters.push(w);
                    }
                    Cmd::Checkpoint(w) => checkpoint_waiters.push(w),
                    Cmd::Shutdown(ack) => {
                        shutdown = Some(ack);
                        break;
                    }
                }
                if records.len() < self.config.batch_max {
                    cmd = rx.try_recv().ok();
                }
            }
            let force = !checkpoint_waiters.is_empty();
            match self.commit(&records, force).await {
                Ok((first_seq, cp)) => {
                    for (i, w) in waiters.into_iter().enumerate() {
                        let _ = w.send(Ok(first_seq + i as u64));
                    }
                    for w in checkpoint_waiters {
                        let latest = match &cp {
                            Some(cp) => Ok(Some(cp.clone())),
                            None => latest_checkpoint(&self.store, &self.config.origin).await,
                        };
                        let _ = w.send(latest);
                    }
                }
                Err(e) => {
                    self.frontier = None;
                    tracing::error!(error = %e, "audit: batch commit failed");
                    let msg = e.to_string();
                    for w in waiters {
                        let _ = w.send(Err(StoreError::Corrupt(format!(
                            "audit append failed: {msg}"
                        ))));
                    }
                    for w in checkpoint_waiters {
                        let _ = w.send(Err(StoreError::Corrupt(format!(
                            "checkpoint failed: {msg}"
                        ))));
                    }
                }
            }
            if let Some(ack) = shutdown {
                self.final_checkpoint().await;
                let _ = ack.send(());
                return;
            }
        }
        // Channel closed: cover what was appended with a final checkpoint.
        self.final_checkpoint().await;
    }

    async fn final_checkpoint(&mut self) {
        if let Err(e) = self.commit(&[], true).await {
            tracing::warn!(error = %e, "audit: final checkpoint failed");
        }
    }
}

async fn latest_checkpoint(store: &Store, origin: &str) -> Result<Option<SignedCheckpoint>> {
    let row = sqlx::query("SELECT * FROM audit_checkpoints ORDER BY size DESC LIMIT 1")
        .fetch_optional(store.read())
        .await?;
    row.as_ref().map(|r| checkpoint_row(r, origin)).transpose()
}

impl AuditLog {
    /// Start the appender task for this process. Must be called inside a Tokio runtime.
    pub fn start(store: Store, signer: Arc<CheckpointSigner>, config: AuditLogConfig) -> Self {
        let (tx, rx) = mpsc::channel(65_536);
        let origin = config.origin.clone();
        let appender = Appender {
            store: store.clone(),
            signer: signer.clone(),
            config,
            frontier: None,
            last_cp: None,
        };
        tokio::spawn(appender.run(rx));
        AuditLog {
            store,
            origin,
            signer,
            tx,
        }
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn signer(&self) -> &CheckpointSigner {
        &self.signer
    }

    /// Append and wait until the entry is durably committed. Returns its sequence number.
    pub async fn append(&self, record: AuditRecord) -> Result<u64> {
        let (w, r) = oneshot::channel();
        self.tx
            .send(Cmd::Append(record, w))
            .await
            .map_err(|_| StoreError::AppenderStopped)?;
        r.await.map_err(|_| StoreError::AppenderStopped)?
    }

    /// Sign a checkpoint now if entries were appended since the last one; return the latest.
    pub async fn checkpoint(&self) -> Result<Option<SignedCheckpoint>> {
        let (w, r) = oneshot::channel();
        self.tx
            .send(Cmd::Checkpoint(w))
            .await
            .map_err(|_| StoreError::AppenderStopped)?;
        r.await.map_err(|_| StoreError::AppenderStopped)?
    }

    /// Commit what is queued, write a final checkpoint and stop the appender (appends after
    /// this fail with [`StoreError::AppenderStopped`]).
    pub async fn shutdown(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Cmd::Shutdown(ack)).await.is_ok() {
            let _ = done.await;
        }
    }

    pub async fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>> {
        latest_checkpoint(&self.store, &self.origin).await
    }

    /// Checkpoints, newest first, keyed by size.
    pub async fn checkpoints(
        &self,
        page: &Page,
    ) -> Result<(Vec<SignedCheckpoint>, Option<String>)> {
        let before: i64 = page
            .after
            .as_deref()
            .and_then(|s| s.parse().ok())
            .unwrap_or(i64::MAX);
        let rows = sqlx::query(
            "SELECT * FROM audit_checkpoints WHERE size < $1 ORDER BY size DESC LIMIT $2",
        )
        .bind(before)
        .bind(page.fetch_limit())
        .fetch_all(self.store.read())
        .await?;
        let rows = rows
            .iter()
            .map(|r| checkpoint_row(r, &self.origin))
            .collect::<Result<Vec<_>>>()?;
        Ok(page.finish(rows, |c| c.checkpoint.size.to_string()))
    }

    /// The current tree size and root.
    pub async fn head(&self) -> Result<(u64, Hash)> {
        let mut conn = self.store.read().acquire().await?;
        head(&mut conn).await
    }

    pub async fn entry(&self, seq: u64) -> Result<AuditEntry> {
        let row = sqlx::query("SELECT * FROM audit_entries WHERE seq = $1")
            .bind(to_i64(seq)?)
            .fetch_optional(self.store.read())
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "audit entry",
                id: seq.to_string(),
            })?;
        Ok(entry_row(&row)?.0)
    }

    /// Entries in sequence order, optionally one administration's.
    pub async fn entries(
        &self,
        tenant: Option<&str>,
        page: &Page,
    ) -> Result<(Vec<AuditEntry>, Option<String>)> {
        let after: i64 = page
            .after
            .as_deref()
            .and_then(|s| s.parse().ok())
            .unwrap_or(-1);
        let rows = match tenant {
            Some(t) => sqlx::query(
                "SELECT * FROM audit_entries WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            )
            .bind(t.to_owned())
            .bind(after)
            .bind(page.fetch_limit())
            .fetch_all(self.store.read())
            .await?,
            None => {
                sqlx::query("SELECT * FROM audit_entries WHERE seq > $1 ORDER BY seq LIMIT $2")
                    .bind(after)
                    .bind(page.fetch_limit())
                    .fetch_all(self.store.read())
                    .await?
            }
        };
        let rows = rows
            .iter()
            .map(|r| entry_row(r).map(|(e, _)| e))
            .collect::<Result<Vec<_>>>()?;
        Ok(page.finish(rows, |e| e.seq.to_string()))
    }

    async fn resolve_size(&self, conn: &mut AnyConnection, tree_size: Option<u64>) -> Result<u64> {
        let (size, _) = head(conn).await?;
        match tree_size {
            None => Ok(size),
            Some(s) if s <= size => Ok(s),
            Some(s) => Err(StoreError::Invalid(format!(
                "tree_size {s} is larger than the log ({size} entries)"
            ))),
        }
    }

    /// Inclusion proof of entry `seq` in the tree of `tree_size` (the current size by default).
    pub async fn inclusion_proof(&self, seq: u64, tree_size: Option<u64>) -> Result<ProofBundle> {
        let mut conn = self.store.read().acquire().await?;
        let size = self.resolve_size(&mut conn, tree_size).await?;
        if seq >= size {
            return Err(StoreError::Invalid(format!(
                "entry {seq} is not in a tree of {size} entries"
            )));
        }
        let (hashes, root, leaf) = nodes_for(&mut conn, |src| {
            let s = DynSource(src);
            let proof = portorium_audit::inclusion_proof(&s, seq, size)?;
            let root = portorium_audit::subtree_root(&s, 0, size)?;
            let leaf = s.node(NodeId {
                level: 0,
                index: seq,
            })?;
            Ok((proof, root, leaf))
        })
        .await?;
        Ok(ProofBundle {
            tree_size: size,
            from: seq,
            hashes: hashes.iter().map(hex::encode).collect(),
            root: hex::encode(root),
            leaf_hash: Some(hex::encode(leaf)),
        })
    }

    /// Consistency proof between the trees of `old_size` and `new_size`.
    pub async fn consistency_proof(
        &self,
        old_size: u64,
        new_size: Option<u64>,
    ) -> Result<ProofBundle> {
        let mut conn = self.store.read().acquire().await?;
        let size = self.resolve_size(&mut conn, new_size).await?;
        if old_size > size {
            return Err(StoreError::Invalid(format!(
                "old size {old_size} is larger than the new size {size}"
            )));
        }
        let (hashes, root) = nodes_for(&mut conn, |src| {
            let s = DynSource(src);
            let proof = portorium_audit::consistency_proof(&s, old_size, size)?;
            let root = if size == 0 {
                portorium_audit::empty_root()
            } else {
                portorium_audit::subtree_root(&s, 0, size)?
            };
            Ok((proof, root))
        })
        .await?;
        Ok(ProofBundle {
            tree_size: size,
            from: old_size,
            hashes: hashes.iter().map(hex::encode).collect(),
            root: hex::encode(root),
            leaf_hash: None,
        })
    }
}

/// Recompute the whole log from the stored entries and check it against the stored leaf
/// hashes, the Merkle nodes, the head and every signed checkpoint.
pub async fn verify_log(
    store: &Store,
    key: ed25519_dalek::VerifyingKey,
    origin: &str,
) -> Result<std::result::Result<VerifyReport, VerifyFailure>> {
    let cps = sqlx::query("SELECT * FROM audit_checkpoints ORDER BY size")
        .fetch_all(store.read())
        .await?
        .iter()
        .map(|r| checkpoint_row(r, origin))
        .collect::<Result<Vec<_>>>()?;
    let mut verifier = Verifier::new(key, cps);
    {
        let mut rows = sqlx::query("SELECT * FROM audit_entries ORDER BY seq").fetch(store.read());
        while let Some(r) = rows.try_next().await? {
            let (entry, stored_leaf_hash) = entry_row(&r)?;
            if let Err(f) = verifier.push(&StoredEntry {
                entry,
                stored_leaf_hash,
            }) {
                return Ok(Err(f));
            }
        }
    }
    {
        let mut rows = sqlx::query("SELECT level, idx, hash FROM audit_nodes").fetch(store.read());
        while let Some(r) = rows.try_next().await? {
            let level: i64 = col(&r, "level")?;
            let idx: i64 = col(&r, "idx")?;
            let id = NodeId {
                level: u32::try_from(level).unwrap_or(u32::MAX),
                index: u64::try_from(idx).unwrap_or(u64::MAX),
            };
            if let Err(f) = verifier.check_node(id, &hash_from(col(&r, "hash")?)?) {
                return Ok(Err(f));
            }
        }
    }
    let mut conn = store.read().acquire().await?;
    let (head_size, head_root) = head(&mut conn).await?;
    let report = match verifier.finish() {
        Ok(r) => r,
        Err(f) => return Ok(Err(f)),
    };
    if report.entries != head_size || report.root != head_root {
        return Ok(Err(VerifyFailure {
            first_bad_seq: Some(report.entries.min(head_size)),
            reason: format!(
                "the log head says {head_size} entries with root {}, but the entries give {} with root {}",
                hex::encode(head_root),
                report.entries,
                hex::encode(report.root)
            ),
        }));
    }
    Ok(Ok(report))
}

impl Scoped<'_> {
    /// Audit entries of this scope's administration (all for the central scope).
    pub async fn audit_entries(
        &self,
        log: &AuditLog,
        page: &Page,
    ) -> Result<(Vec<AuditEntry>, Option<String>)> {
        match &self.scope {
            Scope::Central => log.entries(None, page).await,
            Scope::Tenant(t) => log.entries(Some(t.as_str()), page).await,
            _ => Err(StoreError::OutOfScope("audit entries".into())),
        }
    }
}
