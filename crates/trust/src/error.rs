//! The one error type of the trust crate.

use thiserror::Error;

/// Every way authentication, credential handling or policy evaluation can fail.
///
/// Variants are deliberately distinct so callers (and logs) can tell *why* a credential was
/// refused; the HTTP layer should still answer a uniform 401 to the client.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TrustError {
    /// The token is not structurally valid (not three base64url parts, bad JSON, …).
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// The token's `exp` is in the past (beyond the allowed leeway).
    #[error("token expired")]
    Expired,
    /// The token's `nbf` is in the future (beyond the allowed leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// No configured identity provider has this issuer.
    #[error("unknown issuer {0:?}")]
    UnknownIssuer(String),
    /// The token's `aud` does not contain the configured audience.
    #[error("wrong audience")]
    WrongAudience,
    /// No key in the provider's JWKS matches the token header's `kid`.
    #[error("unknown signing key {0:?}")]
    UnknownKey(String),
    /// The signature does not verify with the selected key.
    #[error("bad signature")]
    BadSignature,
    /// The header's `alg` is not accepted (e.g. `none`, an HMAC algorithm, or one the key does not allow).
    #[error("unsupported algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// A required claim is absent.
    #[error("claim {claim:?} missing")]
    ClaimMissing {
        /// Name of the claim.
        claim: String,
    },
    /// A claim is present but unusable.
    #[error("claim {claim:?} invalid: {reason}")]
    ClaimInvalid {
        /// Name of the claim.
        claim: String,
        /// Why it was refused.
        reason: String,
    },
    /// A JWKS document or key is unusable.
    #[error("JWKS: {0}")]
    Jwks(String),
    /// Identity provider configuration is inconsistent.
    #[error("identity provider configuration: {0}")]
    Config(String),
    /// The policy set or schema failed to load, or evaluation failed.
    #[error("policy: {0}")]
    Policy(String),
    /// Password hashing failed.
    #[error("password hashing: {0}")]
    Password(String),
    /// A time-to-live value such as `90d` could not be parsed or is out of range.
    #[error(
        "invalid TTL {0:?}: use a positive number followed by s, m, h, d or w (at most 5 years)"
    )]
    InvalidTtl(String),
}

impl TrustError {
    pub(crate) fn claim_missing(claim: &str) -> Self {
        TrustError::ClaimMissing {
            claim: claim.to_owned(),
        }
    }

    pub(crate) fn claim_invalid(claim: &str, reason: impl Into<String>) -> Self {
        TrustError::ClaimInvalid {
            claim: claim.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Keep untrusted input bounded when echoing it in an error.
pub(crate) fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}
