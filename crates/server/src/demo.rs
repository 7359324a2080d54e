//! The built-in demo environment: two administrations, offices, agencies, traders, one
//! principal of every kind, each with an API token, and portal passwords for people; and
//! the demo tariff (common, NL and DE layers, see [`crate::demo_tariff`]); and the demo
//! declaration data: a customs office list of our own, the demo traders' authorisations and
//! guarantees (see [`load_declarations`]).

use crate::auth::{hash_password, issue_token};
use crate::error::{ApiError, ErrorCode};
use chrono::NaiveDate;
use portorium_kernel::{KernelError, PrincipalId, TenantCode};
use portorium_store::{
    NewAuthorisation, NewGuarantee, NewPrincipal, NewRefOffice, RefdataBatch, Scope, Store,
};
use rust_decimal::Decimal;
use std::str::FromStr;

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
        &[
            "officer",
            "registrar",
            "tariff_manager",
            "quota_manager",
            "authorisation_manager",
            "guarantee_manager",
        ],
        true,
    ),
    (
        "officer:DE/mmueller",
        "Maria Müller",
        Some("DE004058"),
        &[
            "officer",
            "registrar",
            "tariff_manager",
            "quota_manager",
            "authorisation_manager",
            "guarantee_manager",
        ],
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
    load_declarations(store).await?;
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

// ---------------------------------------------------------------- declarations

/// The demo customs office list, written for the demo (not taken from the published COL):
/// reference (country code + 6 characters), country, usual name, city, postal code,
/// UN/LOCODE, and (role, traffic type) competences. Roles: DEP departure, DES destination,
/// TRA transit, EXT exit, ENT entry, EXP export, RCA as in the COL; traffic types: R road,
/// AIR air, N/A not applicable. Every office of the demo administrations is in it.
type DemoOffice = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static [(&'static str, &'static str)],
);

pub const DEMO_REF_OFFICES: [DemoOffice; 12] = [
    (
        "NL000396",
        "NL",
        "Rotterdam Maasvlakte",
        "Rotterdam",
        "3199 LA",
        Some("NLRTM"),
        &[
            ("DEP", "R"),
            ("DES", "R"),
            ("TRA", "R"),
            ("EXT", "N/A"),
            ("ENT", "N/A"),
            ("EXP", "N/A"),
            ("RCA", "N/A"),
        ],
    ),
    (
        "NL000510",
        "NL",
        "Schiphol Cargo",
        "Schiphol",
        "1118 LS",
        Some("NLAMS"),
        &[
            ("DEP", "AIR"),
            ("DES", "AIR"),
            ("EXT", "AIR"),
            ("ENT", "AIR"),
            ("EXP", "AIR"),
        ],
    ),
    (
        "NL000854",
        "NL",
        "Venlo",
        "Venlo",
        "5928 RC",
        None,
        &[("DEP", "R"), ("DES", "R"), ("TRA", "R"), ("EXP", "R")],
    ),
    (
        "DE004058",
        "DE",
        "Hamburg Waltershof",
        "Hamburg",
        "21129",
        Some("DEHAM"),
        &[
            ("DEP", "R"),
            ("DES", "R"),
            ("TRA", "R"),
            ("EXT", "N/A"),
            ("ENT", "N/A"),
            ("EXP", "N/A"),
            ("RCA", "N/A"),
        ],
    ),
    (
        "DE007351",
        "DE",
        "Frankfurt am Main Flughafen",
        "Frankfurt am Main",
        "60549",
        Some("DEFRA"),
        &[
            ("DEP", "AIR"),
            ("DES", "AIR"),
            ("EXT", "AIR"),
            ("ENT", "AIR"),
            ("EXP", "AIR"),
        ],
    ),
    (
        "DE002101",
        "DE",
        "Duisburg",
        "Duisburg",
        "47119",
        Some("DEDUI"),
        &[("DEP", "R"), ("DES", "R"), ("TRA", "R"), ("EXP", "R")],
    ),
    (
        "DE003302",
        "DE",
        "Aachen Nord",
        "Aachen",
        "52078",
        None,
        &[("DEP", "R"), ("DES", "R"), ("TRA", "R")],
    ),
    (
        "BE101000",
        "BE",
        "Antwerpen Haven",
        "Antwerpen",
        "2030",
        Some("BEANR"),
        &[
            ("DEP", "R"),
            ("DES", "R"),
            ("TRA", "R"),
            ("EXT", "N/A"),
            ("ENT", "N/A"),
        ],
    ),
    (
        "BE212000",
        "BE",
        "Brussels Airport",
        "Zaventem",
        "1930",
        Some("BEBRU"),
        &[
            ("DEP", "AIR"),
            ("DES", "AIR"),
            ("EXT", "AIR"),
            ("ENT", "AIR"),
        ],
    ),
    (
        "FR000690",
        "FR",
        "Le Havre Port",
        "Le Havre",
        "76600",
        Some("FRLEH"),
        &[("DEP", "R"), ("DES", "R"), ("EXT", "N/A"), ("ENT", "N/A")],
    ),
    (
        "FR002910",
        "FR",
        "Roissy Charles de Gaulle Fret",
        "Roissy-en-France",
        "95700",
        Some("FRCDG"),
        &[
            ("DEP", "AIR"),
            ("DES", "AIR"),
            ("EXT", "AIR"),
            ("ENT", "AIR"),
        ],
    ),
    (
        "FR006700",
        "FR",
        "Strasbourg Entrepôt",
        "Strasbourg",
        "67100",
        None,
        &[("DEP", "R"), ("DES", "R"), ("TRA", "R")],
    ),
];

/// First day of validity of the demo offices, authorisations and guarantees.
const DEMO_VALID_FROM: &str = "2026-01-01";

/// The demo traders' authorisations: (administration, holder, type, reference).
pub const DEMO_AUTHORISATIONS: [(&str, &str, &str, &str); 4] = [
    ("NL", "NL000000001", "C521", "NLACR2026000001"),
    ("NL", "NL000000001", "C505", "NLCGU2026000001"),
    ("DE", "DE000000002", "C521", "DEACR2026000001"),
    ("DE", "DE000000002", "C505", "DECGU2026000001"),
];

/// The demo guarantees, all of type 1 (comprehensive guarantee) in EUR: (administration,
/// GRN, holder, access code, reference amount). The GRNs have the NCTS shape (year,
/// country, 12 characters, ISO 6346 check digit like the MRN's); the access codes are
/// published in the README so that a demo trader can lodge with them.
pub const DEMO_GUARANTEES: [(&str, &str, &str, &str, &str); 3] = [
    (
        "NL",
        "26NLDEMO000000012",
        "NL000000001",
        "NL01",
        "100000.00",
    ),
    ("NL", "26NLDEMO000000021", "NL000000001", "NL02", "2500.00"),
    ("DE", "26DEDEMO000000014", "DE000000002", "DE01", "75000.00"),
];

fn demo_date(s: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("demo date {s}: {e}")))
}

/// The demo declaration data: the office list (imported through [`Store::refdata_import`],
/// like `portorium refdata import`), then the authorisations and guarantees, registered by
/// each administration's `system:XX/demo` principal like the CLI's `system:XX/cli`. Called
/// once, from [`load`] (guarded by the `demo_loaded` setting).
pub async fn load_declarations(store: &Store) -> Result<(), ApiError> {
    let valid_from = demo_date(DEMO_VALID_FROM)?;
    let offices = DEMO_REF_OFFICES
        .iter()
        .map(
            |(reference, country, name, city, postal, unlocode, roles)| NewRefOffice {
                reference: (*reference).to_owned(),
                country: (*country).to_owned(),
                name: (*name).to_owned(),
                city: Some((*city).to_owned()),
                postal_code: Some((*postal).to_owned()),
                unlocode: unlocode.map(str::to_owned),
                main_office: None,
                trader_dedicated: false,
                roles: roles
                    .iter()
                    .map(|(r, t)| ((*r).to_owned(), (*t).to_owned()))
                    .collect(),
                valid_from,
                valid_to: None,
            },
        )
        .collect();
    store
        .refdata_import(
            "demo",
            "portorium demo office list",
            &[RefdataBatch::Offices(offices)],
        )
        .await?;
    for (tenant, holder, type_code, reference) in DEMO_AUTHORISATIONS {
        let tenant: TenantCode = v(tenant)?;
        let by: PrincipalId = v(&format!("system:{tenant}/demo"))?;
        store
            .scoped(Scope::Tenant(tenant))
            .authorisation_add(
                &by,
                &NewAuthorisation {
                    holder: v(holder)?,
                    type_code: type_code.to_owned(),
                    reference: reference.to_owned(),
                    valid_from,
                    valid_until: None,
                },
            )
            .await?;
    }
    for (tenant, grn, holder, access_code, amount) in DEMO_GUARANTEES {
        let tenant: TenantCode = v(tenant)?;
        let by: PrincipalId = v(&format!("system:{tenant}/demo"))?;
        let reference_amount = Decimal::from_str(amount)
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("demo amount: {e}")))?;
        store
            .scoped(Scope::Tenant(tenant))
            .guarantee_add(
                &by,
                &NewGuarantee {
                    grn: grn.to_owned(),
                    guarantee_type: "1".into(),
                    access_code_hash: hash_password(access_code)?,
                    reference_amount,
                    currency: v("EUR")?,
                    holder: v(holder)?,
                    valid_from,
                    valid_until: None,
                },
            )
            .await?;
    }
    Ok(())
}
