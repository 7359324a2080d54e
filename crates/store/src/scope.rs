use crate::db::Store;
use portorium_kernel::{AgencyCode, Eori, PrincipalId, SecurityScope, TenantCode};

/// What a principal may see. Built only from an authenticated principal ([`Scope::of`]), never
/// from request parameters, and applied by every query in [`Scoped`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Officers, national systems and national security officers: their administration's rows.
    Tenant(TenantCode),
    /// An agency user: what is addressed to its agency within its administration.
    Agency {
        tenant: TenantCode,
        agency: AgencyCode,
    },
    /// A trader: its own rows.
    Trader(Eori),
    /// The central operator and the central security officer (LISO): all administrations.
    Central,
}

impl Scope {
    /// The scope an authenticated principal works in.
    pub fn of(principal: &PrincipalId) -> Scope {
        match principal {
            PrincipalId::Trader(e) => Scope::Trader(e.clone()),
            PrincipalId::Officer { tenant, .. } | PrincipalId::System { tenant, .. } => {
                Scope::Tenant(tenant.clone())
            }
            PrincipalId::Agency { tenant, agency, .. } => Scope::Agency {
                tenant: tenant.clone(),
                agency: agency.clone(),
            },
            PrincipalId::Security {
                scope: SecurityScope::National(t),
                ..
            } => Scope::Tenant(t.clone()),
            PrincipalId::Security {
                scope: SecurityScope::Central,
                ..
            }
            | PrincipalId::Operator { .. } => Scope::Central,
        }
    }

    /// The administration the scope is confined to, if any.
    pub fn tenant(&self) -> Option<&TenantCode> {
        match self {
            Scope::Tenant(t) | Scope::Agency { tenant: t, .. } => Some(t),
            Scope::Trader(_) | Scope::Central => None,
        }
    }

    /// The message addressee string this scope reads as its own (`trader:EORI`, `agency:XX/CODE`).
    pub fn addressee(&self) -> Option<String> {
        match self {
            Scope::Trader(e) => Some(format!("trader:{e}")),
            Scope::Agency { tenant, agency } => Some(format!("agency:{tenant}/{agency}")),
            _ => None,
        }
    }
}

/// A [`Store`] restricted to one [`Scope`]. Methods live next to the tables they read
/// (identity, messages, audit) and all filter on `self.scope`.
pub struct Scoped<'s> {
    pub(crate) store: &'s Store,
    pub(crate) scope: Scope,
}

impl Scoped<'_> {
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
}
