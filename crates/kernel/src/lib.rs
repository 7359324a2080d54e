//! Portorium's shared vocabulary.
//!
//! Identifiers (tenants, customs offices, EORI numbers, principals), trust circles, money,
//! and the two sources of non-determinism that domain code must never reach for itself:
//! the [`Clock`] and the [`IdGen`]. Everything here is pure and validated on construction,
//! so a value of one of these types is always well-formed.

mod clock;
mod codes;
mod error;
mod ids;
mod money;
mod principal;

pub use clock::{Clock, FixedClock, IdGen, SeqIdGen, SystemClock, UuidV7Gen};
pub use codes::{is_iso3166_alpha2, is_iso4217};
pub use error::KernelError;
pub use ids::{AgencyCode, CurrencyCode, Eori, OfficeRef, TenantCode};
pub use money::{Money, PlainDigits};
pub use principal::{Circle, PrincipalId, PrincipalKind, SecurityScope};

/// Result alias for kernel validation.
pub type Result<T, E = KernelError> = std::result::Result<T, E>;
