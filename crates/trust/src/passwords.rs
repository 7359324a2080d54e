//! Passwords (argon2id), CSRF tokens and session ids for the browser-facing gateways.

use crate::error::TrustError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::{CryptoRng, RngCore};
use subtle::ConstantTimeEq;

/// Longest password accepted for hashing; longer input is refused rather than silently cut.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Hash `password` with argon2id (default parameters) and the given salt bytes, returning a
/// PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
///
/// The caller supplies 16 random salt bytes so that this crate stays deterministic. Empty
/// passwords and passwords longer than [`MAX_PASSWORD_LEN`] bytes are refused.
pub fn hash_password(password: &str, salt_seed: [u8; 16]) -> Result<String, TrustError> {
    if password.is_empty() {
        return Err(TrustError::Password("password is empty".into()));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(TrustError::Password(format!(
            "password is longer than {MAX_PASSWORD_LEN} bytes"
        )));
    }
    let salt =
        SaltString::encode_b64(&salt_seed).map_err(|e| TrustError::Password(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| TrustError::Password(e.to_string()))
}

/// Does `password` match the stored PHC string? A malformed or non-argon2 PHC gives `false`.
///
/// The comparison of hash outputs is constant-time (done by argon2's verifier).
pub fn verify_password(password: &str, phc: &str) -> bool {
    if password.len() > MAX_PASSWORD_LEN {
        return false;
    }
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

fn random_b64<R: RngCore + CryptoRng>(rng: &mut R) -> String {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A fresh CSRF token: 32 random bytes, base64url without padding.
pub fn generate_csrf_token<R: RngCore + CryptoRng>(rng: &mut R) -> String {
    random_b64(rng)
}

/// Compare two CSRF tokens in constant time (only the lengths may leak). Empty never matches.
pub fn csrf_matches(a: &str, b: &str) -> bool {
    !a.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A fresh session id: 32 random bytes, base64url without padding.
pub fn generate_session_id<R: RngCore + CryptoRng>(rng: &mut R) -> String {
    random_b64(rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn hash_and_verify() {
        let phc = hash_password("correct horse battery staple", [7u8; 16]).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
        // Deterministic for a given salt.
        assert_eq!(
            phc,
            hash_password("correct horse battery staple", [7u8; 16]).unwrap()
        );
        assert!(verify_password("correct horse battery staple", &phc));
        assert!(!verify_password("correct horse battery stapl", &phc));
    }

    #[test]
    fn malformed_phc_is_false() {
        assert!(!verify_password("x", ""));
        assert!(!verify_password("x", "not a phc"));
        assert!(!verify_password(
            "x",
            "$argon2id$v=19$m=19456,t=2,p=1$AAAA$"
        ));
        assert!(!verify_password("x", "$bcrypt$whatever"));
    }

    #[test]
    fn password_limits() {
        assert!(matches!(
            hash_password("", [0; 16]),
            Err(TrustError::Password(_))
        ));
        let long = "a".repeat(MAX_PASSWORD_LEN + 1);
        assert!(matches!(
            hash_password(&long, [0; 16]),
            Err(TrustError::Password(_))
        ));
    }

    #[test]
    fn csrf_and_sessions() {
        let mut rng = StdRng::seed_from_u64(3);
        let a = generate_csrf_token(&mut rng);
        let b = generate_csrf_token(&mut rng);
        assert_eq!(a.len(), 43);
        assert!(csrf_matches(&a, &a.clone()));
        assert!(!csrf_matches(&a, &b));
        assert!(!csrf_matches(&a, &a[..42]));
        assert!(!csrf_matches("", ""));
        let s = generate_session_id(&mut rng);
        assert_eq!(s.len(), 43);
        assert!(s
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }
}
