//! Audit entries and their canonical, hashable encoding.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::merkle::{self, Hash};

/// Domain-separation tag at the start of [`AuditEntry::canonical_bytes`].
pub const CANONICAL_TAG: &[u8] = b"portorium.audit.entry.v1";

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The action was carried out.
    Success,
    /// The action was attempted and failed.
    Failure,
    /// The action was refused (authentication or authorization).
    Denied,
}

impl Outcome {
    /// The stable snake_case name (same as the serde form).
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }
}

/// One record of the audit log; leaf `seq` of the Merkle tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// 0-based leaf index in the log.
    pub seq: u64,
    /// When the action happened (hashed at microsecond precision).
    pub time: DateTime<Utc>,
    /// Who acted, e.g. `officer:NL/jdevries`.
    pub principal: Option<String>,
    /// Tenant the action concerns, e.g. `NL`.
    pub tenant: Option<String>,
    /// Circle the request came through: `trader`, `administration`, `operations` or `cli`.
    pub circle: Option<String>,
    /// What was done, e.g. `token.issue` or `POST /api/v1/offices`.
    pub action: String,
    /// What it was done to.
    pub resource: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Correlation id of the request.
    pub request_id: Option<String>,
    /// Hex SHA-256 of the request payload (see [`payload_hash`]).
    pub payload_hash: Option<String>,
    /// Short free text, e.g. the reason of a refusal.
    pub detail: Option<String>,
}

/// Append a length-prefixed byte string: u64 big-endian length, then bytes.
fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u64).to_be_bytes());
    out.extend_from_slice(b);
}

/// Append an optional string: `0x00` for `None`, `0x01` + length-prefixed for `Some`.
fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0x00),
        Some(s) => {
            out.push(0x01);
            put_bytes(out, s.as_bytes());
        }
    }
}

impl AuditEntry {
    /// The canonical time string: RFC 3339, UTC with `Z`, exactly six
    /// fractional digits (microseconds; finer precision is truncated).
    pub fn canonical_time(&self) -> String {
        self.time.to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    /// Deterministic, unambiguous bytes that are hashed into the Merkle leaf.
    ///
    /// Format (version 1):
    ///
    /// ```text
    /// str(x)  = u64-BE byte length of x || UTF-8 bytes of x
    /// opt(x)  = 0x00                     (None)
    ///         | 0x01 || str(x)           (Some)
    ///
    /// bytes   = str("portorium.audit.entry.v1")
    ///        || u64-BE seq
    ///        || str(time as RFC 3339, UTC 'Z', 6 fractional digits)
    ///        || opt(principal) || opt(tenant) || opt(circle)
    ///        || str(action) || str(resource)
    ///        || str(outcome: "success" | "failure" | "denied")
    ///        || opt(request_id) || opt(payload_hash) || opt(detail)
    /// ```
    ///
    /// Every variable-length field is length-prefixed and the field order is
    /// fixed, so two different entries (at microsecond time precision) never
    /// share an encoding.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        put_bytes(&mut out, CANONICAL_TAG);
        out.extend_from_slice(&self.seq.to_be_bytes());
        put_bytes(&mut out, self.canonical_time().as_bytes());
        put_opt(&mut out, self.principal.as_deref());
        put_opt(&mut out, self.tenant.as_deref());
        put_opt(&mut out, self.circle.as_deref());
        put_bytes(&mut out, self.action.as_bytes());
        put_bytes(&mut out, self.resource.as_bytes());
        put_bytes(&mut out, self.outcome.as_str().as_bytes());
        put_opt(&mut out, self.request_id.as_deref());
        put_opt(&mut out, self.payload_hash.as_deref());
        put_opt(&mut out, self.detail.as_deref());
        out
    }

    /// The Merkle leaf hash of this entry: [`merkle::leaf_hash`] of
    /// [`Self::canonical_bytes`].
    pub fn leaf_hash(&self) -> Hash {
        merkle::leaf_hash(&self.canonical_bytes())
    }
}

/// Lower-case hex SHA-256 of a request payload, for [`AuditEntry::payload_hash`].
pub fn payload_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
