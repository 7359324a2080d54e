//! Identity and access for Portorium.
//!
//! - [`tokens`]: opaque API bearer tokens (`ptk_…`), stored only as SHA-256 hashes.
//! - [`passwords`]: argon2id password hashes, CSRF tokens and session ids.
//! - [`federation`]: bearer JWTs from external identity providers, verified against JWKS.
//! - [`policy`]: the single policy decision point, written in Cedar.
//!
//! The crate is pure: it performs no file or network IO and never reads the clock.
//! Callers read JWKS files, pass in the current time and supply the random number generator.

#![warn(missing_docs)]

pub mod error;
pub mod federation;
pub mod passwords;
pub mod policy;
pub mod tokens;

pub use error::TrustError;
pub use federation::{FederatedIdentity, Federation, IdentityProvider, ProviderConfig};
pub use passwords::{
    csrf_matches, generate_csrf_token, generate_session_id, hash_password, verify_password,
};
pub use policy::{
    message_address, validate_policies, Action, Decision, Pdp, Resource, ResourceKind, Subject,
};
pub use tokens::{generate_token, looks_like_token, parse_ttl, token_hash, TOKEN_PREFIX};
