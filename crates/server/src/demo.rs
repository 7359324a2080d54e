//! The built-in demo environment: two administrations, offices, an agency, traders, one
//! principal of every kind, each with a portal password and an API token.

use crate::auth::{hash_password, issue_token};
use crate::error::ApiError;
use portorium_kernel::PrincipalId;
use portorium_store::{NewPrincipal, Store};

/// The portal password of every demo user.
pub const DEMO_PASSWORD: &str = "portorium-demo";

/// What the demo created that a person needs to try it.
#[derive(Debug, Clone)]
pub struct DemoCredentials {
    pub password: &'static str,
    /// (principal, API token, gateway circle)
    pub tokens: Vec<(PrincipalId, String)>,
}

fn p(s: &str) -> Result<PrincipalId, ApiError> {
    s.parse().map_err(|e: portorium_kernel::KernelError| {
        ApiError::new(crate::error::ErrorCode::Internal, e.to_string())
    })
}

/// Load the demo environment into an empty store. Idempotent per data dir: the caller checks
/// the `demo_loaded` setting.
pub async fn load(store: &Store) -> Result<DemoCredentials, ApiError> {
    let parse = |s: &str| {
        s.parse().map_err(|e: portorium_kernel::KernelError| {
            ApiError::new(crate::error::ErrorCode::Internal, e.to_string())
        })
    };
    for (code, name) in [
        ("NL", "Netherlands Customs (Douane)"),
        ("DE", "German Customs (Zoll)"),
    ] {
        store
            .create_tenant(
                &parse(code)?,
                name,
                &"EUR".parse().map_err(|e: portorium_kernel::KernelError| {
                    ApiError::new(crate::error::ErrorCode::Internal, e.to_string())
                })?,
            )
            .await?;
    }
    for (tenant, reference, name) in [
        ("NL", "NL000396", "Rotterdam Maasvlakte"),
        ("NL", "NL000510", "Schiphol Cargo"),
        ("NL", "NL000854", "Venlo"),
        ("DE", "DE004058", "Hamburg Waltershof"),
        ("DE", "DE007351", "Frankfurt am Main Flughafen"),
        ("DE", "DE002101", "Duisburg"),
    ] {
        store
            .create_office(
                &parse(tenant)?,
                &reference
                    .parse()
                    .map_err(|e: portorium_kernel::KernelError| {
                        ApiError::new(crate::error::ErrorCode::Internal, e.to_string())
                    })?,
                name,
            )
            .await?;
    }
    store
        .create_agency(
            &parse("NL")?,
            &"NVWA".parse().map_err(|e: portorium_kernel::KernelError| {
                ApiError::new(crate::error::ErrorCode::Internal, e.to_string())
            })?,
            "Netherlands Food and Consumer Product Safety Authority",
        )
        .await?;
    store
        .create_agency(
            &parse("DE")?,
            &"BLE".parse().map_err(|e: portorium_kernel::KernelError| {
                ApiError::new(crate::error::ErrorCode::Internal, e.to_string())
            })?,
            "Federal Office for Agriculture and Food",
        )
        .await?;
    let password_hash = hash_password(DEMO_PASSWORD)?;
    for (eori, name) in [
        ("NL000000001", "Holland Imports BV"),
        ("DE000000002", "Hanse Handel GmbH"),
    ] {
        let eori = eori.parse().map_err(|e: portorium_kernel::KernelError| {
            ApiError::new(crate::error::ErrorCode::Internal, e.to_string())
        })?;
        store.register_trader(&eori, name).await?;
        store
            .set_password(&PrincipalId::Trader(eori), &password_hash)
            .await?;
    }
    let people: [(&str, &str, Option<&str>, &[&str]); 7] = [
        (
            "officer:NL/jdevries",
            "Jan de Vries",
            Some("NL000396"),
            &["officer", "registrar"],
        ),
        (
            "officer:DE/mmueller",
            "Maria Müller",
            Some("DE004058"),
            &["officer", "registrar"],
        ),
        ("agency:NL/NVWA/pbakker", "Pieter Bakker", None, &["agency"]),
        ("system:NL/ncts-nl", "NCTS Netherlands", None, &["system"]),
        (
            "security:NL/kvisser",
            "Karin Visser (NISO)",
            None,
            &["security"],
        ),
        (
            "security:central/lmartin",
            "Luca Martin (LISO)",
            None,
            &["security"],
        ),
        ("operator:admin", "Platform operator", None, &["operator"]),
    ];
    for (id, name, office, roles) in people {
        store
            .create_principal(&NewPrincipal {
                id: p(id)?,
                display_name: name.into(),
                office: office.map(|o| o.parse()).transpose().map_err(
                    |e: portorium_kernel::KernelError| {
                        ApiError::new(crate::error::ErrorCode::Internal, e.to_string())
                    },
                )?,
                roles: roles.iter().map(|r| r.to_string()).collect(),
                // National systems and the operator use API tokens only: neither has a portal.
                password_hash: (!id.starts_with("system:") && !id.starts_with("operator:"))
                    .then(|| password_hash.clone()),
            })
            .await?;
    }
    let mut tokens = Vec::new();
    for id in [
        "trader:NL000000001",
        "trader:DE000000002",
        "officer:NL/jdevries",
        "officer:DE/mmueller",
        "agency:NL/NVWA/pbakker",
        "system:NL/ncts-nl",
        "security:NL/kvisser",
        "security:central/lmartin",
        "operator:admin",
    ] {
        let id = p(id)?;
        let (secret, _) = issue_token(store, &id, None, Some("demo")).await?;
        tokens.push((id, secret));
    }
    store.set_setting("demo_loaded", "1").await?;
    Ok(DemoCredentials {
        password: DEMO_PASSWORD,
        tokens,
    })
}
