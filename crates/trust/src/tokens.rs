//! Opaque API bearer tokens.
//!
//! A token is `ptk_` followed by 32 random bytes in unpadded base64url (43 characters). Tokens
//! are high-entropy secrets, so storing a fast SHA-256 hash of them is sufficient: a database
//! leak does not reveal usable tokens, and lookups stay O(1) by hash.

use crate::error::{clip, TrustError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};

/// The prefix every Portorium API token starts with.
pub const TOKEN_PREFIX: &str = "ptk_";

/// Number of random bytes in a token.
const TOKEN_BYTES: usize = 32;
/// Length of the base64url (unpadded) encoding of [`TOKEN_BYTES`].
const TOKEN_BODY_LEN: usize = 43;

/// Longest accepted time-to-live: five years (counting two leap days).
const MAX_TTL_SECONDS: i64 = (5 * 365 + 2) * 24 * 3600;

/// Generate a fresh API token: `ptk_` + base64url-no-pad of 32 bytes from `rng`.
pub fn generate_token<R: RngCore + CryptoRng>(rng: &mut R) -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    rng.fill_bytes(&mut bytes);
    let mut out = String::with_capacity(TOKEN_PREFIX.len() + TOKEN_BODY_LEN);
    out.push_str(TOKEN_PREFIX);
    URL_SAFE_NO_PAD.encode_string(bytes, &mut out);
    out
}

/// The stored form of a token: lower-case hex SHA-256 of its full text (prefix included).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Does `s` have the shape of a Portorium API token (as opposed to, say, a JWT)?
///
/// Only the shape is checked; whether the token exists is the store's business.
pub fn looks_like_token(s: &str) -> bool {
    match s.strip_prefix(TOKEN_PREFIX) {
        Some(body) => {
            body.len() == TOKEN_BODY_LEN
                && body
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }
        None => false,
    }
}

/// Parse a time-to-live such as `90d`, `12h`, `30m`, `3600s`, `1w` or `1y` (365 days).
///
/// The value must be a positive whole number followed by one unit letter; the result must
/// not exceed five years.
pub fn parse_ttl(s: &str) -> Result<chrono::Duration, TrustError> {
    let bad = || TrustError::InvalidTtl(clip(s));
    let t = s.trim();
    let split = t.len().checked_sub(1).ok_or_else(bad)?;
    if !t.is_char_boundary(split) {
        return Err(bad());
    }
    let (num, unit) = t.split_at(split);
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: i64 = num.parse().map_err(|_| bad())?;
    let unit_seconds: i64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "y" => 365 * 86_400,
        _ => return Err(bad()),
    };
    let secs = n.checked_mul(unit_seconds).ok_or_else(bad)?;
    if secs <= 0 || secs > MAX_TTL_SECONDS {
        return Err(bad());
    }
    chrono::Duration::try_seconds(secs).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn token_shape() {
        let mut rng = StdRng::seed_from_u64(7);
        let t = generate_token(&mut rng);
        assert!(t.starts_with("ptk_"));
        assert_eq!(t.len(), 47);
        assert!(looks_like_token(&t));
        let u = generate_token(&mut rng);
        assert_ne!(t, u);
    }

    #[test]
    fn token_hash_is_sha256_hex() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut rng = StdRng::seed_from_u64(1);
        let t = generate_token(&mut rng);
        assert_eq!(token_hash(&t).len(), 64);
        assert_eq!(token_hash(&t), token_hash(&t));
    }

    #[test]
    fn jwt_is_not_a_token() {
        assert!(!looks_like_token(
            "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJ4In0.sig"
        ));
        assert!(!looks_like_token("ptk_short"));
        assert!(!looks_like_token(""));
        assert!(!looks_like_token(&format!("ptk_{}", "a".repeat(42))));
        assert!(!looks_like_token(&format!("ptk_{}", "a".repeat(44))));
        assert!(!looks_like_token(&format!("ptk_{}+", "a".repeat(42))));
        assert!(looks_like_token(&format!("ptk_{}", "a".repeat(43))));
    }

    #[test]
    fn ttl_values() {
        assert_eq!(parse_ttl("90d").unwrap(), chrono::Duration::days(90));
        assert_eq!(parse_ttl("12h").unwrap(), chrono::Duration::hours(12));
        assert_eq!(parse_ttl("30m").unwrap(), chrono::Duration::minutes(30));
        assert_eq!(parse_ttl("3600s").unwrap(), chrono::Duration::seconds(3600));
        assert_eq!(parse_ttl("1w").unwrap(), chrono::Duration::weeks(1));
        assert_eq!(parse_ttl("5y").unwrap(), chrono::Duration::days(1825));
        assert_eq!(parse_ttl("1827d").unwrap(), chrono::Duration::days(1827));
    }

    #[test]
    fn ttl_rejects() {
        for bad in [
            "",
            "d",
            "0d",
            "-1d",
            "+1d",
            "1",
            "1x",
            "1.5h",
            "6y",
            "1828d",
            "262w",
            "99999999999999999999d",
            "9223372036854775807w",
            "1 d",
            "1D",
            "ä",
        ] {
            assert!(
                matches!(parse_ttl(bad), Err(TrustError::InvalidTtl(_))),
                "{bad:?} should be rejected"
            );
        }
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parse_ttl_never_panics(s in "\\PC{0,24}") {
            let _ = parse_ttl(&s);
        }

        #[test]
        fn ttl_in_range_round_trips(n in 1i64..=1827) {
            prop_assert_eq!(parse_ttl(&format!("{n}d")).unwrap(), chrono::Duration::days(n));
            prop_assert_eq!(parse_ttl(&format!("{}s", n * 86_400)).unwrap(), chrono::Duration::days(n));
        }

        #[test]
        fn generated_tokens_look_like_tokens(seed in any::<u64>()) {
            use rand::SeedableRng;
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let t = generate_token(&mut rng);
            prop_assert!(looks_like_token(&t));
            prop_assert_eq!(token_hash(&t).len(), 64);
        }
    }
}
