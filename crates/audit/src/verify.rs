//! Full-log verification: recompute every leaf and root from the stored
//! entries and compare against stored leaf hashes, stored nodes and the
//! signed checkpoints.

use ed25519_dalek::VerifyingKey;

use crate::checkpoint::SignedCheckpoint;
use crate::entry::AuditEntry;
use crate::merkle::{Frontier, Hash, NodeId};

/// An entry as read back from storage, with the leaf hash stored beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    /// The entry's content.
    pub entry: AuditEntry,
    /// The leaf hash that was stored when the entry was appended.
    pub stored_leaf_hash: Hash,
}

/// Outcome of a successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Number of entries verified.
    pub entries: u64,
    /// Number of signed checkpoints whose root was checked.
    pub checkpoints: u64,
    /// Root of the whole log as recomputed.
    pub root: Hash,
}

/// Why verification failed, with the best evidence of where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct VerifyFailure {
    /// The first entry known (or, for a checkpoint mismatch, suspected from
    /// the start of the failing range) to be bad; `None` when the problem is
    /// not in the entries (e.g. a forged checkpoint or a corrupt stored node).
    pub first_bad_seq: Option<u64>,
    /// Human-readable explanation.
    pub reason: String,
}

impl VerifyFailure {
    fn new(first_bad_seq: Option<u64>, reason: String) -> Self {
        Self {
            first_bad_seq,
            reason,
        }
    }
}

/// Streaming verifier: feed entries in stored order with [`Verifier::push`],
/// optionally cross-check stored nodes with [`Verifier::check_node`], then
/// call [`Verifier::finish`].
///
/// Checks, in order:
/// 1. every checkpoint signature (done in [`Verifier::new`]; a bad signature
///    is reported by the first `push` or by `finish`, and such a checkpoint is
///    never used as evidence);
/// 2. per entry: `seq` is exactly the next expected one (gaps = deleted rows,
///    repeats or out-of-order = reordered rows), and the recomputed leaf hash
///    equals the stored one (altered content);
/// 3. whenever the tree reaches a checkpoint's size, the recomputed root
///    equals the checkpoint root (content and leaf hash altered together);
/// 4. at the end, no checkpoint is larger than the log (truncation).
///
/// After a failure the verifier should be dropped.
///
/// Memory: all computed perfect nodes are kept for [`Verifier::check_node`],
/// about `2 * n * 32` bytes for `n` entries.
#[derive(Debug)]
pub struct Verifier {
    /// Valid checkpoints sorted by size; `next_cp` indexes the first unchecked one.
    checkpoints: Vec<SignedCheckpoint>,
    next_cp: usize,
    /// The first bad-signature failure found in `new`.
    signature_failure: Option<VerifyFailure>,
    /// Size of the last checkpoint whose root matched.
    last_good_size: u64,
    checked: u64,
    frontier: Frontier,
    /// `levels[l][i]` = hash of `NodeId { level: l, index: i }`.
    levels: Vec<Vec<Hash>>,
}

impl Verifier {
    /// A verifier against the log's public key and all its stored signed checkpoints
    /// (any order). Signatures are checked here.
    pub fn new(key: VerifyingKey, checkpoints: Vec<SignedCheckpoint>) -> Self {
        let mut signature_failure = None;
        let mut valid = Vec::with_capacity(checkpoints.len());
        for (i, cp) in checkpoints.into_iter().enumerate() {
            if cp.verify(&key) {
                valid.push(cp);
            } else if signature_failure.is_none() {
                signature_failure = Some(VerifyFailure::new(
                    None,
                    format!(
                        "checkpoint #{i} (origin {:?}, size {}, key id {}) has an invalid signature",
                        cp.checkpoint.origin, cp.checkpoint.size, cp.key_id
                    ),
                ));
            }
        }
        valid.sort_by_key(|cp| cp.checkpoint.size);
        Self {
            checkpoints: valid,
            next_cp: 0,
            signature_failure,
            last_good_size: 0,
            checked: 0,
            frontier: Frontier::new(),
            levels: Vec::new(),
        }
    }

    /// Number of entries pushed so far.
    pub fn entries(&self) -> u64 {
        self.frontier.size()
    }

    /// Verify the next stored entry (entries must come in stored order).
    pub fn push(&mut self, e: &StoredEntry) -> Result<(), VerifyFailure> {
        if let Some(f) = &self.signature_failure {
            return Err(f.clone());
        }
        // Checkpoints of the current size (only size 0 can still be pending here).
        self.check_due_checkpoints()?;
        let expected = self.frontier.size();
        let seq = e.entry.seq;
        if seq != expected {
            let what = if seq > expected {
                "entries are missing (deleted rows)"
            } else {
                "a row is repeated or out of order"
            };
            return Err(VerifyFailure::new(
                Some(expected),
                format!("expected entry seq {expected} but found seq {seq}: {what}"),
            ));
        }
        let leaf = e.entry.leaf_hash();
        if leaf != e.stored_leaf_hash {
            return Err(VerifyFailure::new(
                Some(seq),
                format!(
                    "entry seq {seq}: content does not match its stored leaf hash \
                     (recomputed {}, stored {})",
                    hex::encode(leaf),
                    hex::encode(e.stored_leaf_hash)
                ),
            ));
        }
        for (id, hash) in self.frontier.append(leaf) {
            let level = id.level as usize;
            if self.levels.len() <= level {
                self.levels.resize_with(level + 1, Vec::new);
            }
            if let Some(row) = self.levels.get_mut(level) {
                row.push(hash);
            }
        }
        self.check_due_checkpoints()
    }

    /// Compare every checkpoint whose size equals the current tree size.
    fn check_due_checkpoints(&mut self) -> Result<(), VerifyFailure> {
        let size = self.frontier.size();
        while let Some(cp) = self.checkpoints.get(self.next_cp) {
            if cp.checkpoint.size != size {
                break;
            }
            let root = self.frontier.root();
            if root != cp.checkpoint.root {
                let from = self.last_good_size;
                return Err(VerifyFailure::new(
                    Some(from),
                    format!(
                        "checkpoint (origin {:?}, size {size}, time {}) root {} does not match \
                         the recomputed root {}: the first bad entry is in seq range \
                         [{from}, {size})",
                        cp.checkpoint.origin,
                        cp.checkpoint.time.to_rfc3339(),
                        hex::encode(cp.checkpoint.root),
                        hex::encode(root)
                    ),
                ));
            }
            self.last_good_size = size;
            self.checked += 1;
            self.next_cp += 1;
        }
        Ok(())
    }

    /// Cross-check one stored perfect node against the hash recomputed from
    /// the entries. The node must be fully covered by the entries pushed so
    /// far; a node beyond them is reported (after all entries were pushed it
    /// is evidence of truncation, `first_bad_seq` = entries seen).
    pub fn check_node(&self, id: NodeId, stored: &Hash) -> Result<(), VerifyFailure> {
        let seen = self.frontier.size();
        let range = id.range().filter(|&(_, end)| end <= seen);
        let Some((start, end)) = range else {
            return Err(VerifyFailure::new(
                Some(seen),
                format!(
                    "stored node level {} index {} covers leaves beyond the {seen} entries seen",
                    id.level, id.index
                ),
            ));
        };
        let computed = self
            .levels
            .get(id.level as usize)
            .and_then(|row| usize::try_from(id.index).ok().and_then(|i| row.get(i)));
        match computed {
            Some(h) if h == stored => Ok(()),
            Some(h) => Err(VerifyFailure::new(
                None,
                format!(
                    "stored node level {} index {} (leaves [{start}, {end})) is {} but the \
                     entries give {}",
                    id.level,
                    id.index,
                    hex::encode(stored),
                    hex::encode(h)
                ),
            )),
            None => Err(VerifyFailure::new(
                None,
                format!(
                    "node level {} index {} was not computed",
                    id.level, id.index
                ),
            )),
        }
    }

    /// Finish: report a bad checkpoint signature, check checkpoints of the
    /// final size (e.g. size 0 for an empty log), and detect truncation (a
    /// checkpoint larger than the log).
    pub fn finish(mut self) -> Result<VerifyReport, VerifyFailure> {
        if let Some(f) = self.signature_failure.take() {
            return Err(f);
        }
        self.check_due_checkpoints()?;
        let entries = self.frontier.size();
        if let Some(cp) = self.checkpoints.get(self.next_cp) {
            let largest = self
                .checkpoints
                .last()
                .map_or(cp.checkpoint.size, |c| c.checkpoint.size);
            return Err(VerifyFailure::new(
                Some(entries),
                format!(
                    "the log has {entries} entries but a signed checkpoint covers {} \
                     (largest {largest}): entries from seq {entries} were removed (truncation)",
                    cp.checkpoint.size
                ),
            ));
        }
        Ok(VerifyReport {
            entries,
            checkpoints: self.checked,
            root: self.frontier.root(),
        })
    }
}
