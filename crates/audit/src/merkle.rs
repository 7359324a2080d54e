//! RFC 9162 (Certificate Transparency v2) Merkle tree: hashing, the
//! incremental right edge ([`Frontier`]), proof generation over stored
//! perfect-subtree hashes and proof verification.
//!
//! Only *perfect* subtrees (aligned, power-of-two sized, see [`NodeId`]) are
//! ever stored. Every range that occurs in the RFC 9162 recursion for a tree
//! `D[0:n]` starts at a multiple of a power of two at least as large as the
//! range, so its hash is a fold over at most `log2(n)` perfect nodes; proof
//! generation therefore needs `O(log² n)` node lookups.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::error::AuditError;

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// RFC 9162 leaf hash: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// RFC 9162 interior node hash: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// A perfect (complete, aligned) subtree: level `L`, index `i` covers leaves
/// `[i * 2^L, (i + 1) * 2^L)`. Level 0 nodes are the leaf hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height above the leaves (0 = leaf).
    pub level: u32,
    /// Position among the nodes of that level, counted from the left.
    pub index: u64,
}

impl NodeId {
    /// Construct a node id.
    pub const fn new(level: u32, index: u64) -> Self {
        Self { level, index }
    }

    /// The leaf range `[start, end)` this node covers, or `None` if it does
    /// not fit in `u64`.
    pub fn range(&self) -> Option<(u64, u64)> {
        if self.level >= 64 {
            return None;
        }
        let width = 1u64 << self.level;
        let start = self.index.checked_mul(width)?;
        let end = start.checked_add(width)?;
        Some((start, end))
    }
}

/// Lookup of stored perfect-subtree hashes (the store implements it over its
/// node table).
pub trait NodeSource {
    /// The stored hash of the perfect subtree `id`. Implementations return
    /// [`AuditError::MissingNode`] when it is not stored.
    fn node(&self, id: NodeId) -> Result<Hash, AuditError>;
}

impl<S: NodeSource + ?Sized> NodeSource for &S {
    fn node(&self, id: NodeId) -> Result<Hash, AuditError> {
        (**self).node(id)
    }
}

/// In-memory node table keyed by `(level, index)`; convenient for tests.
impl NodeSource for HashMap<(u32, u64), Hash> {
    fn node(&self, id: NodeId) -> Result<Hash, AuditError> {
        self.get(&(id.level, id.index))
            .copied()
            .ok_or(AuditError::MissingNode(id))
    }
}

/// The largest power of two strictly smaller than `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The right edge of the tree (a "compact range" from 0): the hashes of the
/// perfect subtrees ("peaks") that make up a tree of `size` leaves, ordered
/// left to right (largest first). There is one peak per set bit of `size`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    peaks: Vec<Hash>,
}

impl Frontier {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The peaks, left to right, each with its node id.
    pub fn peaks(&self) -> Vec<(NodeId, Hash)> {
        peak_ids(self.size)
            .into_iter()
            .zip(self.peaks.iter().copied())
            .collect()
    }

    /// Rebuild from stored perfect-subtree hashes: calls `src.node` once for
    /// each of the `O(log n)` peaks of a tree of `size` leaves.
    pub fn from_source<S: NodeSource>(size: u64, src: &S) -> Result<Self, AuditError> {
        let peaks = peak_ids(size)
            .into_iter()
            .map(|id| src.node(id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { size, peaks })
    }

    /// Append one leaf hash. Returns every perfect-subtree node that became
    /// complete: the leaf itself at level 0 first, then each merge upwards,
    /// so the caller can store them.
    pub fn append(&mut self, leaf: Hash) -> Vec<(NodeId, Hash)> {
        let mut out = Vec::with_capacity(1 + self.size.trailing_ones() as usize);
        let mut id = NodeId::new(0, self.size);
        let mut cur = leaf;
        out.push((id, cur));
        let mut bits = self.size;
        while bits & 1 == 1 {
            // The lowest peak is the left sibling of `cur`.
            let Some(left) = self.peaks.pop() else { break };
            cur = node_hash(&left, &cur);
            id = NodeId::new(id.level + 1, id.index >> 1);
            out.push((id, cur));
            bits >>= 1;
        }
        self.peaks.push(cur);
        self.size += 1;
        out
    }

    /// RFC 9162 `MTH` of the whole tree; [`empty_root`] when the size is 0.
    pub fn root(&self) -> Hash {
        fold_peaks(&self.peaks)
    }
}

/// The ids of the perfect subtrees making up `[0, size)`, left to right.
fn peak_ids(size: u64) -> Vec<NodeId> {
    let mut ids = Vec::with_capacity(size.count_ones() as usize);
    let mut start = 0u64;
    for level in (0..64u32).rev() {
        let width = 1u64 << level;
        if size & width != 0 {
            ids.push(NodeId::new(level, start >> level));
            start += width;
        }
    }
    ids
}

/// Combine peaks (left to right) into the RFC 9162 root: right-to-left fold.
fn fold_peaks(peaks: &[Hash]) -> Hash {
    let mut iter = peaks.iter().rev();
    let Some(last) = iter.next() else {
        return empty_root();
    };
    iter.fold(*last, |acc, p| node_hash(p, &acc))
}

/// `MTH(D[start:end])`, computed from stored perfect nodes.
///
/// For ranges that occur in RFC 9162 proofs (start aligned to a power of two
/// at least the length, in particular any `[0, n)`) this takes at most
/// `log2(n)` lookups; other ranges are correct but may need more lookups.
/// An empty range yields [`empty_root`]; `start > end` is an error.
pub fn subtree_root<S: NodeSource>(src: &S, start: u64, end: u64) -> Result<Hash, AuditError> {
    if start > end {
        return Err(AuditError::InvalidRange { start, end });
    }
    if start == end {
        return Ok(empty_root());
    }
    range_hash(src, start, end)
}

/// `MTH(D[start:end])` for a non-empty range.
fn range_hash<S: NodeSource>(src: &S, start: u64, end: u64) -> Result<Hash, AuditError> {
    let len = end - start;
    if len.is_power_of_two() && start & (len - 1) == 0 {
        let level = len.trailing_zeros();
        return src.node(NodeId::new(level, start >> level));
    }
    let k = split_point(len);
    let left = range_hash(src, start, start + k)?;
    let right = range_hash(src, start + k, end)?;
    Ok(node_hash(&left, &right))
}

/// RFC 9162 section 2.1.3.1 `PATH(m, D[n])`: the audit path for leaf `index`
/// in the tree of `tree_size` leaves, leaf-level sibling first.
pub fn inclusion_proof<S: NodeSource>(
    src: &S,
    index: u64,
    tree_size: u64,
) -> Result<Vec<Hash>, AuditError> {
    if index >= tree_size {
        return Err(AuditError::IndexOutOfRange { index, tree_size });
    }
    // Walk down from the root, collecting siblings top-down, then reverse.
    let mut proof = Vec::new();
    let (mut start, mut end) = (0u64, tree_size);
    while end - start > 1 {
        let k = split_point(end - start);
        let mid = start + k;
        if index < mid {
            proof.push(range_hash(src, mid, end)?);
            end = mid;
        } else {
            proof.push(range_hash(src, start, mid)?);
            start = mid;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// RFC 9162 section 2.1.4.1 `PROOF(m, D[n])`: the consistency proof between
/// the tree of `old_size` leaves and the tree of `new_size` leaves.
///
/// Empty when `old_size` is 0 or equal to `new_size`.
pub fn consistency_proof<S: NodeSource>(
    src: &S,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, AuditError> {
    if old_size > new_size {
        return Err(AuditError::InvalidSizes { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[start:end], b), iteratively; collected top-down.
    let mut proof = Vec::new();
    let (mut start, mut end) = (0u64, new_size);
    let mut m = old_size; // relative to `start`
    let mut whole = true; // the RFC's `b`
    loop {
        let len = end - start;
        if m == len {
            if !whole {
                proof.push(range_hash(src, start, end)?);
            }
            break;
        }
        let k = split_point(len);
        if m <= k {
            proof.push(range_hash(src, start + k, end)?);
            end = start + k;
        } else {
            proof.push(range_hash(src, start, start + k)?);
            start += k;
            m -= k;
            whole = false;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// RFC 9162 section 2.1.3.2: verify that `leaf` is the leaf hash at `index`
/// in the tree of `tree_size` leaves whose root is `root`.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    tree_size: u64,
    proof: &[Hash],
    root: &Hash,
) -> bool {
    if index >= tree_size {
        return false;
    }
    let (mut fnn, mut sn) = (index, tree_size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fnn & 1 == 1 || fnn == sn {
            r = node_hash(p, &r);
            if fnn & 1 == 0 {
                while fnn & 1 == 0 && fnn != 0 {
                    fnn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnn >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

/// RFC 9162 section 2.1.4.2: verify that the tree of `old_size` leaves with
/// root `old_root` is a prefix of the tree of `new_size` leaves with root
/// `new_root`.
///
/// Degenerate cases (as in transparency-dev/merkle): equal sizes need an
/// empty proof and equal roots; `old_size == 0` needs an empty proof (the
/// empty tree is a prefix of every tree).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    if old_size == 0 {
        return proof.is_empty();
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);

    let (mut fnn, mut sn) = (old_size - 1, new_size - 1);
    while fnn & 1 == 1 {
        fnn >>= 1;
        sn >>= 1;
    }
    let mut fr = path[0];
    let mut sr = path[0];
    for c in &path[1..] {
        if sn == 0 {
            return false;
        }
        if fnn & 1 == 1 || fnn == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnn & 1 == 0 {
                while fnn & 1 == 0 && fnn != 0 {
                    fnn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnn >>= 1;
        sn >>= 1;
    }
    fr == *old_root && sr == *new_root && sn == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_points() {
        for (n, k) in [
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 4),
            (8, 4),
            (9, 8),
            (1 << 40, 1 << 39),
        ] {
            assert_eq!(split_point(n), k, "n={n}");
        }
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }

    #[test]
    fn peak_ids_of_13() {
        assert_eq!(
            peak_ids(13),
            vec![NodeId::new(3, 0), NodeId::new(2, 2), NodeId::new(0, 12)]
        );
    }

    #[test]
    fn node_range() {
        assert_eq!(NodeId::new(2, 3).range(), Some((12, 16)));
        assert_eq!(NodeId::new(64, 0).range(), None);
        assert_eq!(NodeId::new(1, u64::MAX).range(), None);
    }
}
