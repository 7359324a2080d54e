use crate::error::KernelError;
use crate::ids::{AgencyCode, Eori, TenantCode};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A circle of trust. Each has its own listener; a route exists on exactly one circle and a
/// credential is valid on exactly one circle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Circle {
    /// Public tariff consultation and traders (untrusted).
    Trader,
    /// Customs officers, national systems, other agencies, security officers.
    Administration,
    /// Health, metrics, tenant and credential administration, audit checkpoints (internal).
    Operations,
}

impl Circle {
    pub const ALL: [Circle; 3] = [Circle::Trader, Circle::Administration, Circle::Operations];

    pub fn as_str(self) -> &'static str {
        match self {
            Circle::Trader => "trader",
            Circle::Administration => "administration",
            Circle::Operations => "operations",
        }
    }
}

impl fmt::Display for Circle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Circle {
    type Err = KernelError;
    fn from_str(s: &str) -> Result<Self, KernelError> {
        match s {
            "trader" => Ok(Circle::Trader),
            "administration" => Ok(Circle::Administration),
            "operations" => Ok(Circle::Operations),
            _ => Err(KernelError::invalid(
                "circle",
                s,
                "must be trader, administration or operations",
            )),
        }
    }
}

/// The kinds of principal, as written before the colon in a principal id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    Trader,
    Officer,
    Agency,
    System,
    Security,
    Operator,
}

impl PrincipalKind {
    pub const ALL: [PrincipalKind; 6] = [
        PrincipalKind::Trader,
        PrincipalKind::Officer,
        PrincipalKind::Agency,
        PrincipalKind::System,
        PrincipalKind::Security,
        PrincipalKind::Operator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Trader => "trader",
            PrincipalKind::Officer => "officer",
            PrincipalKind::Agency => "agency",
            PrincipalKind::System => "system",
            PrincipalKind::Security => "security",
            PrincipalKind::Operator => "operator",
        }
    }

    /// The circle whose gateway this kind of principal uses.
    pub fn circle(self) -> Circle {
        match self {
            PrincipalKind::Trader => Circle::Trader,
            PrincipalKind::Officer
            | PrincipalKind::Agency
            | PrincipalKind::System
            | PrincipalKind::Security => Circle::Administration,
            PrincipalKind::Operator => Circle::Operations,
        }
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PrincipalKind {
    type Err = KernelError;
    fn from_str(s: &str) -> Result<Self, KernelError> {
        PrincipalKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                KernelError::invalid(
                    "principal kind",
                    s,
                    "must be one of trader, officer, agency, system, security, operator",
                )
            })
    }
}

/// Where a security officer works: a national NISO in one administration, or the central LISO.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SecurityScope {
    National(TenantCode),
    Central,
}

/// A principal's identity, written `KIND:ID`:
///
/// | kind | form | example |
/// |---|---|---|
/// | trader | `trader:EORI` | `trader:NL000000001` |
/// | officer | `officer:TENANT/name` | `officer:NL/jdevries` |
/// | agency user | `agency:TENANT/AGENCY/name` | `agency:NL/NVWA/pbakker` |
/// | national system | `system:TENANT/name` | `system:NL/ncts-nl` |
/// | security officer | `security:TENANT/name` (NISO) or `security:central/name` (LISO) | `security:central/lmartin` |
/// | central operator | `operator:name` | `operator:admin` |
///
/// Names are 1 to 64 characters of `a-z 0-9 . _ -`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PrincipalId {
    Trader(Eori),
    Officer {
        tenant: TenantCode,
        name: String,
    },
    Agency {
        tenant: TenantCode,
        agency: AgencyCode,
        name: String,
    },
    System {
        tenant: TenantCode,
        name: String,
    },
    Security {
        scope: SecurityScope,
        name: String,
    },
    Operator {
        name: String,
    },
}

fn valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-')
        })
}

fn name(s: &str, full: &str) -> Result<String, KernelError> {
    if valid_name(s) {
        Ok(s.to_owned())
    } else {
        Err(KernelError::invalid(
            "principal id",
            full,
            "names are 1 to 64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
        ))
    }
}

impl PrincipalId {
    pub fn kind(&self) -> PrincipalKind {
        match self {
            PrincipalId::Trader(_) => PrincipalKind::Trader,
            PrincipalId::Officer { .. } => PrincipalKind::Officer,
            PrincipalId::Agency { .. } => PrincipalKind::Agency,
            PrincipalId::System { .. } => PrincipalKind::System,
            PrincipalId::Security { .. } => PrincipalKind::Security,
            PrincipalId::Operator { .. } => PrincipalKind::Operator,
        }
    }

    /// The administration this principal belongs to, if any. Traders, the central LISO and
    /// operators belong to none.
    pub fn tenant(&self) -> Option<&TenantCode> {
        match self {
            PrincipalId::Officer { tenant, .. }
            | PrincipalId::Agency { tenant, .. }
            | PrincipalId::System { tenant, .. } => Some(tenant),
            PrincipalId::Security {
                scope: SecurityScope::National(tenant),
                ..
            } => Some(tenant),
            _ => None,
        }
    }

    pub fn circle(&self) -> Circle {
        self.kind().circle()
    }

    /// The part after `KIND:`.
    pub fn local_id(&self) -> String {
        match self {
            PrincipalId::Trader(e) => e.to_string(),
            PrincipalId::Officer { tenant, name } | PrincipalId::System { tenant, name } => {
                format!("{tenant}/{name}")
            }
            PrincipalId::Agency {
                tenant,
                agency,
                name,
            } => format!("{tenant}/{agency}/{name}"),
            PrincipalId::Security {
                scope: SecurityScope::National(t),
                name,
            } => format!("{t}/{name}"),
            PrincipalId::Security {
                scope: SecurityScope::Central,
                name,
            } => format!("central/{name}"),
            PrincipalId::Operator { name } => name.clone(),
        }
    }

    /// Parse the part after `KIND:` for a given kind.
    pub fn from_parts(kind: PrincipalKind, id: &str) -> Result<Self, KernelError> {
        let full = format!("{kind}:{id}");
        let bad = |reason| KernelError::invalid("principal id", &full, reason);
        let parts: Vec<&str> = id.split('/').collect();
        let tenant = |s: &str| s.parse::<TenantCode>();
        Ok(match (kind, parts.as_slice()) {
            (PrincipalKind::Trader, [e]) => PrincipalId::Trader(e.parse()?),
            (PrincipalKind::Officer, [t, n]) => PrincipalId::Officer {
                tenant: tenant(t)?,
                name: name(n, &full)?,
            },
            (PrincipalKind::Agency, [t, a, n]) => PrincipalId::Agency {
                tenant: tenant(t)?,
                agency: a.parse()?,
                name: name(n, &full)?,
            },
            (PrincipalKind::System, [t, n]) => PrincipalId::System {
                tenant: tenant(t)?,
                name: name(n, &full)?,
            },
            (PrincipalKind::Security, ["central", n]) => PrincipalId::Security {
                scope: SecurityScope::Central,
                name: name(n, &full)?,
            },
            (PrincipalKind::Security, [t, n]) => PrincipalId::Security {
                scope: SecurityScope::National(tenant(t)?),
                name: name(n, &full)?,
            },
            (PrincipalKind::Operator, [n]) => PrincipalId::Operator {
                name: name(n, &full)?,
            },
            (PrincipalKind::Trader, _) => return Err(bad("a trader id is its EORI")),
            (PrincipalKind::Officer, _) => return Err(bad("an officer id is TENANT/name")),
            (PrincipalKind::Agency, _) => {
                return Err(bad("an agency user id is TENANT/AGENCY/name"))
            }
            (PrincipalKind::System, _) => return Err(bad("a system id is TENANT/name")),
            (PrincipalKind::Security, _) => {
                return Err(bad("a security officer id is TENANT/name or central/name"))
            }
            (PrincipalKind::Operator, _) => return Err(bad("an operator id is a single name")),
        })
    }
}

impl fmt::Display for PrincipalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.local_id())
    }
}

impl FromStr for PrincipalId {
    type Err = KernelError;
    fn from_str(s: &str) -> Result<Self, KernelError> {
        let (kind, id) = s.split_once(':').ok_or_else(|| {
            KernelError::invalid(
                "principal id",
                s,
                "must be written KIND:ID, e.g. trader:NL000000001",
            )
        })?;
        PrincipalId::from_parts(kind.parse()?, id)
    }
}

impl Serialize for PrincipalId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PrincipalId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for PrincipalId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("Principal id, KIND:ID (e.g. officer:NL/jdevries)"))
            .examples([serde_json::json!("officer:NL/jdevries")])
            .into()
    }
}
impl utoipa::ToSchema for PrincipalId {}
