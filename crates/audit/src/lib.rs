//! Portorium's tamper-evident audit log.
//!
//! * [`merkle`]: an RFC 9162 (Certificate Transparency v2) Merkle tree over
//!   the entries, built incrementally with a [`Frontier`]; inclusion and
//!   consistency proofs are generated from stored perfect-subtree hashes
//!   (a [`NodeSource`]) and verified with the RFC 9162 algorithms.
//! * [`entry`]: the [`AuditEntry`] record and its canonical encoding.
//! * [`checkpoint`]: Ed25519-signed tree heads in a C2SP
//!   `tlog-checkpoint`/signed-note style format.
//! * [`verify`]: a streaming [`Verifier`] for the whole stored log.
//!
//! The crate is pure: no IO, no clock (times are passed in).

#![warn(missing_docs)]

pub mod checkpoint;
pub mod entry;
pub mod error;
pub mod merkle;
pub mod verify;

pub use checkpoint::{
    key_id, verifying_key_from_pem, Checkpoint, CheckpointSigner, SignedCheckpoint,
};
pub use entry::{payload_hash, AuditEntry, Outcome, CANONICAL_TAG};
pub use error::AuditError;
pub use merkle::{
    consistency_proof, empty_root, inclusion_proof, leaf_hash, node_hash, subtree_root,
    verify_consistency, verify_inclusion, Frontier, Hash, NodeId, NodeSource,
};
pub use verify::{StoredEntry, Verifier, VerifyFailure, VerifyReport};

/// Re-export of the Ed25519 public key type used by checkpoints.
pub use ed25519_dalek::VerifyingKey;
