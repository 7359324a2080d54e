//! Ed25519-signed checkpoints (tree heads), modelled on C2SP
//! `tlog-checkpoint` and the signed-note format.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::AuditError;
use crate::merkle::Hash;

/// Serde helper: a [`Hash`] as standard base64 (with padding).
pub mod base64_hash {
    use super::*;
    use serde::{Deserializer, Serializer};

    /// Serialize as base64.
    pub fn serialize<S: Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&B64.encode(h))
    }

    /// Deserialize from base64 of exactly 32 bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let s = String::deserialize(d)?;
        let bytes = B64.decode(s.as_bytes()).map_err(serde::de::Error::custom)?;
        Hash::try_from(bytes.as_slice())
            .map_err(|_| serde::de::Error::custom("expected a base64 32-byte hash"))
    }
}

/// A tree head: the log `origin` had `size` entries with Merkle `root` at `time`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Unique name of the log, e.g. `portorium.example/audit`. Must not contain a newline.
    pub origin: String,
    /// Number of entries covered.
    pub size: u64,
    /// RFC 9162 root hash of the first `size` entries (base64 in JSON).
    #[serde(with = "base64_hash")]
    pub root: Hash,
    /// When the checkpoint was made. [`CheckpointSigner::sign`] truncates it to microseconds.
    pub time: DateTime<Utc>,
}

impl Checkpoint {
    /// The signed text: `"<origin>\n<size>\n<base64 root>\n<time>\n"`, the
    /// time as RFC 3339 UTC with `Z` and six fractional digits.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root),
            self.time.to_rfc3339_opts(SecondsFormat::Micros, true)
        )
    }
}

/// A checkpoint with its Ed25519 signature over [`Checkpoint::body`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCheckpoint {
    /// The signed tree head.
    pub checkpoint: Checkpoint,
    /// [`key_id`] of the signing key: hex of the first 4 bytes of SHA-256(public key).
    pub key_id: String,
    /// Base64 of the 64-byte Ed25519 signature.
    pub signature: String,
}

/// Hex of the first 4 bytes of SHA-256 of the raw 32-byte public key.
pub fn key_id(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    hex::encode(&digest[..4])
}

/// Parse an Ed25519 public key from SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
pub fn verifying_key_from_pem(pem: &str) -> Result<VerifyingKey, AuditError> {
    VerifyingKey::from_public_key_pem(pem).map_err(|e| AuditError::Key(e.to_string()))
}

impl SignedCheckpoint {
    /// The raw signature bytes, if well-formed.
    fn signature_bytes(&self) -> Option<[u8; 64]> {
        let raw = B64.decode(self.signature.as_bytes()).ok()?;
        <[u8; 64]>::try_from(raw.as_slice()).ok()
    }

    /// True when the key id matches `key` and the signature over the body is
    /// valid (strict Ed25519 verification). A checkpoint whose origin
    /// contains a newline is never valid.
    pub fn verify(&self, key: &VerifyingKey) -> bool {
        if self.checkpoint.origin.contains('\n') || self.key_id != key_id(key) {
            return false;
        }
        let Some(sig) = self.signature_bytes() else {
            return false;
        };
        let sig = Signature::from_bytes(&sig);
        key.verify_strict(self.checkpoint.body().as_bytes(), &sig)
            .is_ok()
    }

    /// The signed-note text: the body, a blank line, then
    /// `"— <origin> <base64(key id bytes || signature)>\n"`.
    pub fn to_note(&self) -> String {
        let mut blob = hex::decode(&self.key_id).unwrap_or_default();
        blob.extend(
            self.signature_bytes()
                .map(|s| s.to_vec())
                .unwrap_or_default(),
        );
        format!(
            "{}\n\u{2014} {} {}\n",
            self.checkpoint.body(),
            self.checkpoint.origin,
            B64.encode(blob)
        )
    }
}

/// Holds the log's Ed25519 signing key and signs checkpoints.
pub struct CheckpointSigner {
    key: SigningKey,
}

impl std::fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointSigner")
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

impl CheckpointSigner {
    /// From a 32-byte Ed25519 secret seed (draw it from a CSPRNG, e.g.
    /// `rand::rngs::OsRng.gen::<[u8; 32]>()`).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// Decode a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, AuditError> {
        SigningKey::from_pkcs8_pem(pem)
            .map(|key| Self { key })
            .map_err(|e| AuditError::Key(e.to_string()))
    }

    /// Encode the private key as PKCS#8 PEM (LF line endings).
    pub fn to_pkcs8_pem(&self) -> Result<String, AuditError> {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.to_string())
            .map_err(|e| AuditError::Key(e.to_string()))
    }

    /// The public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn public_key_pem(&self) -> Result<String, AuditError> {
        self.verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| AuditError::Key(e.to_string()))
    }

    /// [`key_id`] of the public key.
    pub fn key_id(&self) -> String {
        key_id(&self.verifying_key())
    }

    /// Sign a checkpoint. Its time is first truncated to microseconds so that
    /// it survives storage at that precision and the body is reproducible.
    pub fn sign(&self, mut cp: Checkpoint) -> SignedCheckpoint {
        let nanos = cp.time.nanosecond();
        if let Some(t) = cp.time.with_nanosecond(nanos - nanos % 1_000) {
            cp.time = t;
        }
        let sig = self.key.sign(cp.body().as_bytes());
        SignedCheckpoint {
            checkpoint: cp,
            key_id: self.key_id(),
            signature: B64.encode(sig.to_bytes()),
        }
    }
}
