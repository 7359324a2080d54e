//! The built-in demo environment: two administrations, offices, agencies, traders, one
//! principal of every kind, each with an API token, and portal passwords for people; and
//! the demo tariff (common, NL and DE layers, see [`crate::demo_tariff`]).

use crate::auth::{hash_password, issue_token};
use crate::error::{ApiError, ErrorCode};
use portorium_kernel::{KernelError, PrincipalId};
use portorium_store::{NewPrincipal, Store};

/// The portal password of every demo user.
pub const DEMO_PASSWORD: &str = "portorium-demo";

/// What the demo created that a person needs to try it.
#[derive(Debug, Clone)]
pub struct DemoCredentials {
    pub password: &'static str,
    /// Each demo principal with its API token.
    pub tokens: Vec<(PrincipalId, String)>,
}

/// Parse a value of the built-in demo data (a failure is a bug in this file).
fn v<T: std::str::FromStr<Err = KernelError>>(s: &str) -> Result<T, ApiError> {
    s.parse()
        .map_err(|e: KernelError| ApiError::new(ErrorCode::Internal, e.to_string()))
}

const TENANTS: [(&str, &str); 2] = [
    ("NL", "Netherlands Customs (Douane)"),
    ("DE", "German Customs (Zoll)"),
];

const OFFICES: [(&str, &str, &str); 6] = [
    ("NL", "NL000396", "Rotterdam Maasvlakte"),
    ("NL", "NL000510", "Schiphol Cargo"),
    ("NL", "NL000854", "Venlo"),
    ("DE", "DE004058", "Hamburg Waltershof"),
    ("DE", "DE007351", "Frankfurt am Main Flughafen"),
    ("DE", "DE002101", "Duisburg"),
];

const AGENCIES: [(&str, &str, &str); 2] = [
    (
        "NL",
        "NVWA",
        "Netherlands Food and Consumer Product Safety Authority",
    ),
    ("DE", "BLE", "Federal Office for Agriculture and Food"),
];

const TRADERS: [(&str, &str); 2] = [
    ("NL000000001", "Holland Imports BV"),
    ("DE000000002", "Hanse Handel GmbH"),
];

/// A demo person: principal, display name, office, roles, has a portal password.
type Person = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static [&'static str],
    bool,
);

const PEOPLE: [Person; 9] = [
    (
        "officer:NL/jdevries",
        "Jan de Vries",
        Some("NL000396"),
        &["officer", "registrar", "tariff_manager", "quota_manager"],
        true,
    ),
    (
        "officer:DE/mmueller",
        "Maria Müller",
        Some("DE004058"),
        &["officer", "registrar", "tariff_manager", "quota_manager"],
        true,
    ),
    // Second officers: they approve the national measures the first ones draft (four eyes).
    (
        "officer:NL/avandijk",
        "Anna van Dijk",
        Some("NL000396"),
        &["officer", "tariff_approver"],
        true,
    ),
    (
        "officer:DE/kschmidt",
        "Klaus Schmidt",
        Some("DE004058"),
        &["officer", "tariff_approver"],
        true,
    ),
    (
        "agency:NL/NVWA/pbakker",
        "Pieter Bakker",
        None,
        &["agency"],
        true,
    ),
    // National systems and the operator use API tokens only: neither has a portal.
    (
        "system:NL/ncts-nl",
        "NCTS Netherlands",
        None,
        &["system"],
        false,
    ),
    (
        "security:NL/kvisser",
        "Karin Visser (NISO)",
        None,
        &["security"],
        true,
    ),
    (
        "security:central/lmartin",
        "Luca Martin (LISO)",
        None,
        &["security"],
        true,
    ),
    (
        "operator:admin",
        "Platform operator",
        None,
        &["operator"],
        false,
    ),
];

/// Load the demo environment into an empty store; the caller checks the `demo_loaded` setting.
pub async fn load(store: &Store) -> Result<DemoCredentials, ApiError> {
    for (code, name) in TENANTS {
        store.create_tenant(&v(code)?, name, &v("EUR")?).await?;
    }
    for (tenant, reference, name) in OFFICES {
        store
            .create_office(&v(tenant)?, &v(reference)?, name)
            .await?;
    }
    for (tenant, code, name) in AGENCIES {
        store.create_agency(&v(tenant)?, &v(code)?, name).await?;
    }
    let password_hash = hash_password(DEMO_PASSWORD)?;
    let mut principals = Vec::new();
    for (eori, name) in TRADERS {
        let eori = v(eori)?;
        store.register_trader(&eori, name).await?;
        let id = PrincipalId::Trader(eori);
        store.set_password(&id, &password_hash).await?;
        principals.push(id);
    }
    for (id, name, office, roles, portal) in PEOPLE {
        let id: PrincipalId = v(id)?;
        store
            .create_principal(&NewPrincipal {
                id: id.clone(),
                display_name: name.into(),
                office: office.map(v).transpose()?,
                roles: roles.iter().map(|r| r.to_string()).collect(),
                password_hash: portal.then(|| password_hash.clone()),
            })
            .await?;
        principals.push(id);
    }
    crate::demo_tariff::load(store).await?;
    let mut tokens = Vec::new();
    for id in principals {
        let (secret, _) = issue_token(store, &id, None, Some("demo")).await?;
        tokens.push((id, secret));
    }
    store.set_setting("demo_loaded", "1").await?;
    Ok(DemoCredentials {
        password: DEMO_PASSWORD,
        tokens,
    })
}
