//! Administrations (tenants), offices, agencies, principals, the EORI registry, API tokens and
//! portal sessions.
//!
//! The unscoped methods on [`Store`] are for the operations circle and the CLI only; the
//! administration and trader circles go through [`Scoped`].

use crate::db::{col, fmt_ts, parse_opt_ts, parse_ts, Page, Store};
use crate::error::StoreError;
use crate::scope::{Scope, Scoped};
use crate::Result;
use chrono::{DateTime, Utc};
use portorium_kernel::{
    AgencyCode, Circle, CurrencyCode, Eori, OfficeRef, PrincipalId, PrincipalKind, TenantCode,
};
use serde::Serialize;
use sqlx::any::AnyRow;

/// A customs administration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TenantRow {
    pub code: TenantCode,
    pub name: String,
    pub currency: CurrencyCode,
    pub created_at: DateTime<Utc>,
}

/// A customs office of an administration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OfficeRow {
    pub reference: OfficeRef,
    pub tenant: TenantCode,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// Another government agency working with an administration (e.g. a food safety authority).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AgencyRow {
    pub tenant: TenantCode,
    pub code: AgencyCode,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// A principal: who can authenticate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PrincipalRow {
    pub id: PrincipalId,
    pub kind: PrincipalKind,
    pub display_name: String,
    #[schema(value_type = Option<String>)]
    pub office: Option<OfficeRef>,
    pub roles: Vec<String>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// A trader in the EORI registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TraderRow {
    pub eori: Eori,
    pub name: String,
    pub registered_by: TenantCode,
    pub created_at: DateTime<Utc>,
}

/// An API token's metadata (the secret itself is never stored, only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TokenRow {
    pub id: String,
    pub principal: PrincipalId,
    pub circle: Circle,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The result of checking a presented token: valid, unexpired, not revoked.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub token_id: String,
    pub circle: Circle,
    pub principal: PrincipalRow,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A live portal session.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub principal: PrincipalRow,
    pub circle: Circle,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// What is needed to create a principal.
#[derive(Debug, Clone)]
pub struct NewPrincipal {
    pub id: PrincipalId,
    pub display_name: String,
    pub office: Option<OfficeRef>,
    pub roles: Vec<String>,
    pub password_hash: Option<String>,
}

fn tenant_row(r: &AnyRow) -> Result<TenantRow> {
    Ok(TenantRow {
        code: col::<String>(r, "code")?.parse()?,
        name: col(r, "name")?,
        currency: col::<String>(r, "currency")?.parse()?,
        created_at: parse_ts(&col::<String>(r, "created_at")?)?,
    })
}

fn office_row(r: &AnyRow) -> Result<OfficeRow> {
    Ok(OfficeRow {
        reference: col::<String>(r, "reference")?.parse()?,
        tenant: col::<String>(r, "tenant")?.parse()?,
        name: col(r, "name")?,
        created_at: parse_ts(&col::<String>(r, "created_at")?)?,
    })
}

const PRINCIPAL_COLS: &str =
    "p.id, p.kind, p.display_name, p.office, p.roles, p.disabled, p.created_at";

fn principal_row(r: &AnyRow) -> Result<PrincipalRow> {
    let id: PrincipalId = col::<String>(r, "id")?.parse()?;
    let roles: String = col(r, "roles")?;
    Ok(PrincipalRow {
        kind: id.kind(),
        id,
        display_name: col(r, "display_name")?,
        office: col::<Option<String>>(r, "office")?
            .map(|o| o.parse())
            .transpose()?,
        roles: serde_json::from_str(&roles)
            .map_err(|e| StoreError::Corrupt(format!("principal roles: {e}")))?,
        disabled: col::<i64>(r, "disabled")? != 0,
        created_at: parse_ts(&col::<String>(r, "created_at")?)?,
    })
}

fn trader_row(r: &AnyRow) -> Result<TraderRow> {
    Ok(TraderRow {
        eori: col::<String>(r, "eori")?.parse()?,
        name: col(r, "name")?,
        registered_by: col::<String>(r, "registered_by")?.parse()?,
        created_at: parse_ts(&col::<String>(r, "created_at")?)?,
    })
}

fn token_row(r: &AnyRow) -> Result<TokenRow> {
    Ok(TokenRow {
        id: col(r, "id")?,
        principal: col::<String>(r, "principal")?.parse()?,
        circle: col::<String>(r, "circle")?.parse()?,
        label: col(r, "label")?,
        created_at: parse_ts(&col::<String>(r, "created_at")?)?,
        expires_at: parse_opt_ts(col(r, "expires_at")?)?,
        revoked_at: parse_opt_ts(col(r, "revoked_at")?)?,
    })
}

impl Store {
    // ---- tenants, offices, agencies (operations circle) ----

    pub async fn create_tenant(
        &self,
        code: &TenantCode,
        name: &str,
        currency: &CurrencyCode,
    ) -> Result<TenantRow> {
        non_empty("name", name)?;
        let now = self.now();
        sqlx::query(
            "INSERT INTO tenants (code, name, currency, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(code.as_str())
        .bind(name)
        .bind(currency.as_str())
        .bind(fmt_ts(now))
        .execute(self.write())
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, "tenant", code.as_str()))?;
        Ok(TenantRow {
            code: code.clone(),
            name: name.to_owned(),
            currency: currency.clone(),
            created_at: now,
        })
    }

    pub async fn get_tenant(&self, code: &TenantCode) -> Result<TenantRow> {
        let row = sqlx::query("SELECT * FROM tenants WHERE code = $1")
            .bind(code.as_str())
            .fetch_optional(self.read())
            .await?
            .ok_or_else(|| not_found("tenant", code.as_str()))?;
        tenant_row(&row)
    }

    pub async fn list_tenants(&self, page: &Page) -> Result<(Vec<TenantRow>, Option<String>)> {
        let rows = sqlx::query("SELECT * FROM tenants WHERE code > $1 ORDER BY code LIMIT $2")
            .bind(page.after())
            .bind(page.fetch_limit())
            .fetch_all(self.read())
            .await?;
        let rows = rows.iter().map(tenant_row).collect::<Result<Vec<_>>>()?;
        Ok(page.finish(rows, |t| t.code.to_string()))
    }

    pub async fn create_office(
        &self,
        tenant: &TenantCode,
        reference: &OfficeRef,
        name: &str,
    ) -> Result<OfficeRow> {
        non_empty("name", name)?;
        if reference.country() != tenant.as_str() {
            return Err(StoreError::Invalid(format!(
                "office {reference} does not belong to administration {tenant}: an office reference starts with its country code"
            )));
        }
        self.get_tenant(tenant).await?;
        let now = self.now();
        sqlx::query(
            "INSERT INTO offices (reference, tenant, name, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(reference.as_str())
        .bind(tenant.as_str())
        .bind(name)
        .bind(fmt_ts(now))
        .execute(self.write())
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, "office", reference.as_str()))?;
        Ok(OfficeRow {
            reference: reference.clone(),
            tenant: tenant.clone(),
            name: name.to_owned(),
            created_at: now,
        })
    }

    pub async fn create_agency(
        &self,
        tenant: &TenantCode,
        code: &AgencyCode,
        name: &str,
    ) -> Result<AgencyRow> {
        non_empty("name", name)?;
        self.get_tenant(tenant).await?;
        let now = self.now();
        sqlx::query(
            "INSERT INTO agencies (tenant, code, name, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant.as_str())
        .bind(code.as_str())
        .bind(name)
        .bind(fmt_ts(now))
        .execute(self.write())
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, "agency", code.as_str()))?;
        Ok(AgencyRow {
            tenant: tenant.clone(),
            code: code.clone(),
            name: name.to_owned(),
            created_at: now,
        })
    }

    async fn agency_exists(&self, tenant: &TenantCode, code: &AgencyCode) -> Result<bool> {
        let n: (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM agencies WHERE tenant = $1 AND code = $2")
                .bind(tenant.as_str())
                .bind(code.as_str())
                .fetch_one(self.read())
                .await?;
        Ok(n.0 > 0)
    }

    // ---- principals ----

    /// Create a principal. Its administration, office and agency must exist and belong together.
    pub async fn create_principal(&self, p: &NewPrincipal) -> Result<PrincipalRow> {
        non_empty("display_name", &p.display_name)?;
        if let Some(t) = p.id.tenant() {
            self.get_tenant(t).await?;
        }
        if let PrincipalId::Agency { tenant, agency, .. } = &p.id {
            if !self.agency_exists(tenant, agency).await? {
                return Err(not_found("agency", &format!("{tenant}/{agency}")));
            }
        }
        if let Some(office) = &p.office {
            let office_row = self.get_office_unscoped(office).await?;
            if Some(&office_row.tenant) != p.id.tenant() {
                return Err(StoreError::Invalid(format!(
                    "office {office} is not an office of the principal's administration"
                )));
            }
        }
        let agency = match &p.id {
            PrincipalId::Agency { agency, .. } => Some(agency.to_string()),
            _ => None,
        };
        let roles = serde_json::to_string(&p.roles)
            .map_err(|e| StoreError::Invalid(format!("roles: {e}")))?;
        let now = self.now();
        let id = p.id.to_string();
        sqlx::query(
            "INSERT INTO principals (id, kind, tenant, office, agency, display_name, roles, password_hash, disabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)",
        )
        .bind(&id)
        .bind(p.id.kind().as_str())
        .bind(p.id.tenant().map(|t| t.to_string()))
        .bind(p.office.as_ref().map(|o| o.to_string()))
        .bind(agency)
        .bind(&p.display_name)
        .bind(roles)
        .bind(p.password_hash.clone())
        .bind(fmt_ts(now))
        .execute(self.write())
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, "principal", &id))?;
        Ok(PrincipalRow {
            id: p.id.clone(),
            kind: p.id.kind(),
            display_name: p.display_name.clone(),
            office: p.office.clone(),
            roles: p.roles.clone(),
            disabled: false,
            created_at: now,
        })
    }

    pub async fn get_principal(&self, id: &PrincipalId) -> Result<PrincipalRow> {
        let sql = format!("SELECT {PRINCIPAL_COLS} FROM principals p WHERE p.id = $1");
        let row = sqlx::query(&sql)
            .bind(id.to_string())
            .fetch_optional(self.read())
            .await?
            .ok_or_else(|| not_found("principal", &id.to_string()))?;
        principal_row(&row)
    }

    pub async fn list_principals(
        &self,
        page: &Page,
    ) -> Result<(Vec<PrincipalRow>, Option<String>)> {
        let sql = format!(
            "SELECT {PRINCIPAL_COLS} FROM principals p WHERE p.id > $1 ORDER BY p.id LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(page.after())
            .bind(page.fetch_limit())
            .fetch_all(self.read())
            .await?;
        let rows = rows.iter().map(principal_row).collect::<Result<Vec<_>>>()?;
        Ok(page.finish(rows, |p| p.id.to_string()))
    }

    /// The principal and its password hash, for a portal login.
    pub async fn principal_for_login(
        &self,
        id: &PrincipalId,
    ) -> Result<Option<(PrincipalRow, String)>> {
        let sql = format!(
            "SELECT {PRINCIPAL_COLS}, p.password_hash FROM principals p WHERE p.id = $1 AND p.password_hash IS NOT NULL"
        );
        let row = sqlx::query(&sql)
            .bind(id.to_string())
            .fetch_optional(self.read())
            .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some((
                principal_row(&r)?,
                col::<String>(&r, "password_hash")?,
            ))),
        }
    }

    pub async fn set_password(&self, id: &PrincipalId, password_hash: &str) -> Result<()> {
        let n = sqlx::query("UPDATE principals SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id.to_string())
            .execute(self.write())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(not_found("principal", &id.to_string()));
        }
        Ok(())
    }

    // ---- EORI registry ----

    /// Register a trader (and its principal) in the administration that issued its EORI.
    pub async fn register_trader(&self, eori: &Eori, name: &str) -> Result<TraderRow> {
        non_empty("name", name)?;
        let tenant: TenantCode = eori.country().parse()?;
        self.get_tenant(&tenant).await.map_err(|_| {
            StoreError::Invalid(format!(
                "EORI {eori} is issued by {tenant}, which is not an administration of this deployment"
            ))
        })?;
        let now = fmt_ts(self.now());
        let mut tx = self.write().begin().await?;
        sqlx::query(
            "INSERT INTO traders (eori, name, registered_by, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(eori.as_str())
        .bind(name)
        .bind(tenant.as_str())
        .bind(&now)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, "trader", eori.as_str()))?;
        sqlx::query(
            "INSERT INTO principals (id, kind, tenant, office, agency, display_name, roles, password_hash, disabled, created_at) \
             VALUES ($1, 'trader', NULL, NULL, NULL, $2, '[\"trader\"]', NULL, 0, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(format!("trader:{eori}"))
        .bind(name)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.get_trader_unscoped(eori).await
    }

    async fn get_trader_unscoped(&self, eori: &Eori) -> Result<TraderRow> {
        let row = sqlx::query("SELECT * FROM traders WHERE eori = $1")
            .bind(eori.as_str())
            .fetch_optional(self.read())
            .await?
            .ok_or_else(|| not_found("trader", eori.as_str()))?;
        trader_row(&row)
    }

    async fn get_office_unscoped(&self, reference: &OfficeRef) -> Result<OfficeRow> {
        let row = sqlx::query("SELECT * FROM offices WHERE reference = $1")
            .bind(reference.as_str())
            .fetch_optional(self.read())
            .await?
            .ok_or_else(|| not_found("office", reference.as_str()))?;
        office_row(&row)
    }

    // ---- API tokens ----

    /// Store a newly issued token (only its hash). The caller generated the secret.
    pub async fn insert_token(
        &self,
        principal: &PrincipalId,
        circle: Circle,
        token_hash: &str,
        label: Option<&str>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<TokenRow> {
        let p = self.get_principal(principal).await?;
        if p.disabled {
            return Err(StoreError::Invalid(format!(
                "principal {principal} is disabled"
            )));
        }
        let id = self.ids().new_id().to_string();
        let now = self.now();
        sqlx::query(
            "INSERT INTO tokens (id, token_hash, principal, circle, label, created_at, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
        )
        .bind(&id)
        .bind(token_hash)
        .bind(principal.to_string())
        .bind(circle.as_str())
        .bind(label.map(str::to_owned))
        .bind(fmt_ts(now))
        .bind(expires_at.map(fmt_ts))
        .execute(self.write())
        .await?;
        Ok(TokenRow {
            id,
            principal: principal.clone(),
            circle,
            label: label.map(str::to_owned),
            created_at: now,
            expires_at,
            revoked_at: None,
        })
    }

    /// Look a presented token up by its hash: it must exist, be unrevoked, unexpired, and its
    /// principal enabled. Returns `None` otherwise (callers answer 401 without saying which).
    pub async fn verify_token(&self, token_hash: &str) -> Result<Option<VerifiedToken>> {
        let sql = format!(
            "SELECT t.id AS token_id, t.circle, t.expires_at, t.revoked_at, {PRINCIPAL_COLS} \
             FROM tokens t JOIN principals p ON p.id = t.principal WHERE t.token_hash = $1"
        );
        let Some(r) = sqlx::query(&sql)
            .bind(token_hash)
            .fetch_optional(self.read())
            .await?
        else {
            return Ok(None);
        };
        let revoked: Option<String> = col(&r, "revoked_at")?;
        let expires_at = parse_opt_ts(col(&r, "expires_at")?)?;
        let principal = principal_row(&r)?;
        if revoked.is_some() || principal.disabled || expires_at.is_some_and(|e| e <= self.now()) {
            return Ok(None);
        }
        Ok(Some(VerifiedToken {
            token_id: col(&r, "token_id")?,
            circle: col::<String>(&r, "circle")?.parse()?,
            principal,
            expires_at,
        }))
    }

    pub async fn revoke_token(&self, id: &str) -> Result<TokenRow> {
        let now = fmt_ts(self.now());
        sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(&now)
            .bind(id)
            .execute(self.write())
            .await?;
        self.get_token(id).await
    }

    pub async fn get_token(&self, id: &str) -> Result<TokenRow> {
        let row = sqlx::query("SELECT * FROM tokens WHERE id = $1")
            .bind(id)
            .fetch_optional(self.read())
            .await?
            .ok_or_else(|| not_found("token", id))?;
        token_row(&row)
    }

    pub async fn list_tokens(&self, page: &Page) -> Result<(Vec<TokenRow>, Option<String>)> {
        let rows = sqlx::query("SELECT * FROM tokens WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(page.after())
            .bind(page.fetch_limit())
            .fetch_all(self.read())
            .await?;
        let rows = rows.iter().map(token_row).collect::<Result<Vec<_>>>()?;
        Ok(page.finish(rows, |t| t.id.clone()))
    }

    // ---- portal sessions ----

    pub async fn create_session(
        &self,
        id_hash: &str,
        principal: &PrincipalId,
        circle: Circle,
        csrf_token: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let now = self.now();
        // Housekeeping: drop expired sessions as new ones are made.
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(fmt_ts(now))
            .execute(self.write())
            .await?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, principal, circle, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id_hash)
        .bind(principal.to_string())
        .bind(circle.as_str())
        .bind(csrf_token)
        .bind(fmt_ts(now))
        .bind(fmt_ts(expires_at))
        .execute(self.write())
        .await?;
        Ok(())
    }

    pub async fn get_session(&self, id_hash: &str) -> Result<Option<SessionRow>> {
        let sql = format!(
            "SELECT s.circle, s.csrf_token, s.expires_at, {PRINCIPAL_COLS} \
             FROM sessions s JOIN principals p ON p.id = s.principal WHERE s.id_hash = $1"
        );
        let Some(r) = sqlx::query(&sql)
            .bind(id_hash)
            .fetch_optional(self.read())
            .await?
        else {
            return Ok(None);
        };
        let expires_at = parse_ts(&col::<String>(&r, "expires_at")?)?;
        let principal = principal_row(&r)?;
        if expires_at <= self.now() || principal.disabled {
            return Ok(None);
        }
        Ok(Some(SessionRow {
            principal,
            circle: col::<String>(&r, "circle")?.parse()?,
            csrf_token: col(&r, "csrf_token")?,
            expires_at,
        }))
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(self.write())
            .await?;
        Ok(())
    }
}

impl Scoped<'_> {
    /// The administration the scope belongs to.
    pub async fn own_tenant(&self) -> Result<TenantRow> {
        match self.scope.tenant() {
            Some(t) => self.store.get_tenant(t).await,
            None => Err(StoreError::OutOfScope(
                "this principal belongs to no administration".into(),
            )),
        }
    }

    /// Offices visible in this scope: the administration's own; all for the central scope.
    pub async fn list_offices(&self, page: &Page) -> Result<(Vec<OfficeRow>, Option<String>)> {
        let rows = match &self.scope {
            Scope::Central => {
                sqlx::query("SELECT * FROM offices WHERE reference > $1 ORDER BY reference LIMIT $2")
                    .bind(page.after())
                    .bind(page.fetch_limit())
                    .fetch_all(self.store.read())
                    .await?
            }
            Scope::Tenant(t) | Scope::Agency { tenant: t, .. } => {
                sqlx::query(
                    "SELECT * FROM offices WHERE tenant = $1 AND reference > $2 ORDER BY reference LIMIT $3",
                )
                .bind(t.as_str())
                .bind(page.after())
                .bind(page.fetch_limit())
                .fetch_all(self.store.read())
                .await?
            }
            Scope::Trader(_) => Vec::new(),
        };
        let rows = rows.iter().map(office_row).collect::<Result<Vec<_>>>()?;
        Ok(page.finish(rows, |o| o.reference.to_string()))
    }

    pub async fn get_office(&self, reference: &OfficeRef) -> Result<OfficeRow> {
        let office = self.store.get_office_unscoped(reference).await?;
        match &self.scope {
            Scope::Central => Ok(office),
            Scope::Tenant(t) | Scope::Agency { tenant: t, .. } if *t == office.tenant => Ok(office),
            // Indistinguishable from absent: another administration's office is not revealed.
            _ => Err(not_found("office", reference.as_str())),
        }
    }

    /// Traders registered by this administration; a trader sees only itself.
    pub async fn list_traders(&self, page: &Page) -> Result<(Vec<TraderRow>, Option<String>)> {
        let (sql, value) = match &self.scope {
            Scope::Central => (
                "SELECT * FROM traders WHERE eori > $2 AND $1 = '' ORDER BY eori LIMIT $3",
                String::new(),
            ),
            Scope::Tenant(t) => (
                "SELECT * FROM traders WHERE registered_by = $1 AND eori > $2 ORDER BY eori LIMIT $3",
                t.to_string(),
            ),
            Scope::Trader(e) => (
                "SELECT * FROM traders WHERE eori = $1 AND eori > $2 ORDER BY eori LIMIT $3",
                e.to_string(),
            ),
            Scope::Agency { .. } => return Ok((Vec::new(), None)),
        };
        let rows = sqlx::query(sql)
            .bind(value)
            .bind(page.after())
            .bind(page.fetch_limit())
            .fetch_all(self.store.read())
            .await?;
        let rows = rows.iter().map(trader_row).collect::<Result<Vec<_>>>()?;
        Ok(page.finish(rows, |t| t.eori.to_string()))
    }

    pub async fn get_trader(&self, eori: &Eori) -> Result<TraderRow> {
        let trader = self.store.get_trader_unscoped(eori).await?;
        let visible = match &self.scope {
            Scope::Central => true,
            Scope::Tenant(t) => *t == trader.registered_by,
            Scope::Trader(e) => e == eori,
            Scope::Agency { .. } => false,
        };
        if visible {
            Ok(trader)
        } else {
            Err(not_found("trader", eori.as_str()))
        }
    }

    /// Register a trader: only an administration, and only for EORIs it issues.
    pub async fn register_trader(&self, eori: &Eori, name: &str) -> Result<TraderRow> {
        match &self.scope {
            Scope::Tenant(t) if t.as_str() == eori.country() => {
                self.store.register_trader(eori, name).await
            }
            Scope::Tenant(t) => Err(StoreError::OutOfScope(format!(
                "administration {t} cannot register EORI {eori}: it is issued by {}",
                eori.country()
            ))),
            _ => Err(StoreError::OutOfScope(
                "only an administration registers traders".into(),
            )),
        }
    }
}

pub(crate) fn not_found(what: &'static str, id: &str) -> StoreError {
    StoreError::NotFound {
        what,
        id: id.chars().take(80).collect(),
    }
}

fn non_empty(field: &str, v: &str) -> Result<()> {
    if v.trim().is_empty() || v.len() > 200 {
        return Err(StoreError::Invalid(format!(
            "{field} must be 1 to 200 characters"
        )));
    }
    Ok(())
}
