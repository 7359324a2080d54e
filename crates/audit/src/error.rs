//! The crate's error type.

use crate::merkle::NodeId;

/// Everything that can go wrong in this crate outside of verification
/// (which reports a [`crate::VerifyFailure`] instead).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A perfect-subtree hash that should be stored is missing from the [`crate::NodeSource`].
    #[error("missing stored Merkle node at level {} index {}", .0.level, .0.index)]
    MissingNode(NodeId),
    /// A leaf range `[start, end)` that is empty where it must not be, reversed, or beyond the tree.
    #[error("invalid leaf range [{start}, {end})")]
    InvalidRange {
        /// First leaf of the range.
        start: u64,
        /// One past the last leaf of the range.
        end: u64,
    },
    /// An inclusion proof was asked for a leaf that is not in the tree.
    #[error("leaf index {index} is outside a tree of size {tree_size}")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The tree size.
        tree_size: u64,
    },
    /// A consistency proof was asked from a larger tree to a smaller one.
    #[error("cannot prove consistency from size {old_size} to smaller size {new_size}")]
    InvalidSizes {
        /// The older (expected smaller) tree size.
        old_size: u64,
        /// The newer (expected larger) tree size.
        new_size: u64,
    },
    /// A key could not be decoded or encoded.
    #[error("key error: {0}")]
    Key(String),
    /// The node source (e.g. the database behind it) failed.
    #[error("node source error: {0}")]
    Source(String),
}
