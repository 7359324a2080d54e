//! Credential operations used by the API, the portal and the CLI.

use crate::error::{ApiError, ErrorCode};
use chrono::{DateTime, Utc};
use portorium_kernel::PrincipalId;
use portorium_store::{Store, TokenRow};
use rand::RngCore;

/// argon2id hash with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    portorium_trust::hash_password(password, salt)
        .map_err(|e| ApiError::field(ErrorCode::InvalidField, "/password", e.to_string()))
}

/// Issue an API token for `principal`, valid on its own circle. Returns the secret (shown once)
/// and the stored metadata.
pub async fn issue_token(
    store: &Store,
    principal: &PrincipalId,
    ttl: Option<chrono::Duration>,
    label: Option<&str>,
) -> Result<(String, TokenRow), ApiError> {
    let secret = portorium_trust::generate_token(&mut rand::rngs::OsRng);
    let expires_at: Option<DateTime<Utc>> = ttl.map(|d| store.clock().now() + d);
    let row = store
        .insert_token(
            principal,
            principal.circle(),
            &portorium_trust::token_hash(&secret),
            label,
            expires_at,
        )
        .await?;
    Ok((secret, row))
}
