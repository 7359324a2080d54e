//! Operations gateway: health, readiness, metrics, administrations and credentials, audit.

use crate::api::{path_param, ApiJson, ApiPath, ApiQuery, PageQuery, Paged};
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::state::{AppState, Caller};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use portorium_audit::{AuditEntry, SignedCheckpoint};
use portorium_kernel::{AgencyCode, CurrencyCode, OfficeRef, PrincipalId, TenantCode};
use portorium_store::{
    AgencyRow, NewPrincipal, OfficeRow, PrincipalRow, ProofBundle, Scope, TenantRow, TokenRow,
};
use portorium_trust::{Action, Resource, ResourceKind};
use serde::{Deserialize, Serialize};

fn ops(
    state: &AppState,
    caller: &Caller,
    action: Action,
    kind: ResourceKind,
    id: &str,
) -> ApiResult<()> {
    state.authorize(caller, action, &Resource::new(kind, id))
}

/// Liveness.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
}

#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = Problem)))]
pub async fn ready(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    state
        .store
        .ping()
        .await
        .map_err(|_| ApiError::new(ErrorCode::Unavailable, "database unreachable"))?;
    Ok(Json(Health { status: "ready" }))
}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let body = state
        .metrics
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    /// ISO 3166-1 alpha-2 code.
    #[schema(value_type = String, example = "BE")]
    pub code: TenantCode,
    pub name: String,
    #[schema(value_type = String, example = "EUR")]
    pub currency: CurrencyCode,
}

#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = NewTenant,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    responses((status = 201, body = TenantRow), (status = 400, body = Problem), (status = 409, body = Problem)))]
pub async fn create_tenant(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewTenant>,
) -> ApiResult<(StatusCode, Json<TenantRow>)> {
    ops(
        &state,
        &caller,
        Action::TenantManage,
        ResourceKind::Tenant,
        body.code.as_str(),
    )?;
    let t = state
        .store
        .create_tenant(&body.code, &body.name, &body.currency)
        .await?;
    Ok((StatusCode::CREATED, Json(t)))
}

#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants", params(PageQuery),
    responses((status = 200, body = Paged<TenantRow>)))]
pub async fn list_tenants(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<TenantRow>>> {
    ops(
        &state,
        &caller,
        Action::TenantManage,
        ResourceKind::Tenant,
        "*",
    )?;
    Ok(Json(Paged::from(
        state.store.list_tenants(&q.page()?).await?,
    )))
}

fn tenant_path(code: &str) -> ApiResult<TenantCode> {
    path_param("code", code)
}

#[utoipa::path(get, path = "/api/v1/tenants/{code}", tag = "tenants",
    params(("code" = String, Path, description = "ISO 3166-1 alpha-2")),
    responses((status = 200, body = TenantRow), (status = 404, body = Problem)))]
pub async fn get_tenant(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<TenantRow>> {
    let code = tenant_path(&code)?;
    ops(
        &state,
        &caller,
        Action::TenantManage,
        ResourceKind::Tenant,
        code.as_str(),
    )?;
    Ok(Json(state.store.get_tenant(&code).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOffice {
    /// Office reference number: country code + 6 characters.
    #[schema(value_type = String, example = "BE101000")]
    pub reference: OfficeRef,
    pub name: String,
}

#[utoipa::path(post, path = "/api/v1/tenants/{code}/offices", tag = "tenants", request_body = NewOffice,
    params(("code" = String, Path)),
    responses((status = 201, body = OfficeRow), (status = 400, body = Problem), (status = 409, body = Problem)))]
pub async fn create_office(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<NewOffice>,
) -> ApiResult<(StatusCode, Json<OfficeRow>)> {
    let code = tenant_path(&code)?;
    ops(
        &state,
        &caller,
        Action::TenantManage,
        ResourceKind::Office,
        body.reference.as_str(),
    )?;
    let o = state
        .store
        .create_office(&code, &body.reference, &body.name)
        .await?;
    Ok((StatusCode::CREATED, Json(o)))
}

#[utoipa::path(get, path = "/api/v1/tenants/{code}/offices", tag = "tenants",
    params(("code" = String, Path), PageQuery), responses((status = 200, body = Paged<OfficeRow>)))]
pub async fn list_tenant_offices(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<OfficeRow>>> {
    let code = tenant_path(&code)?;
    ops(
        &state,
        &caller,
        Action::TenantManage,
        ResourceKind::Office,
        "*",
    )?;
    state.store.get_tenant(&code).await?;
    let view = state.store.scoped(Scope::Tenant(code));
    Ok(Json(Paged::from(view.list_offices(&q.page()?).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgency {
    #[schema(value_type = String, example = "NVWA")]
    pub code: AgencyCode,
    pub name: String,
}

#[utoipa::path(post, path = "/api/v1/tenants/{code}/agencies", tag = "tenants", request_body = NewAgency,
    params(("code" = String, Path)),
    responses((status = 201, body = AgencyRow), (status = 400, body = Problem), (status = 409, body = Problem)))]
pub async fn create_agency(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<NewAgency>,
) -> ApiResult<(StatusCode, Json<AgencyRow>)> {
    let code = tenant_path(&code)?;
    ops(
        &state,
        &caller,
        Action::TenantManage,
        ResourceKind::Tenant,
        code.as_str(),
    )?;
    let a = state
        .store
        .create_agency(&code, &body.code, &body.name)
        .await?;
    Ok((StatusCode::CREATED, Json(a)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPrincipalBody {
    /// `KIND:ID`, e.g. `officer:NL/jdevries` or `trader:NL000000003`.
    #[schema(value_type = String, example = "officer:NL/avisser")]
    pub id: PrincipalId,
    pub display_name: String,
    #[schema(value_type = Option<String>)]
    pub office: Option<OfficeRef>,
    #[serde(default)]
    pub roles: Vec<String>,
    /// Portal password (at least 12 characters); stored as an argon2id hash.
    pub password: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/principals", tag = "principals", request_body = NewPrincipalBody,
    responses((status = 201, body = PrincipalRow), (status = 400, body = Problem), (status = 409, body = Problem)))]
pub async fn create_principal(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewPrincipalBody>,
) -> ApiResult<(StatusCode, Json<PrincipalRow>)> {
    ops(
        &state,
        &caller,
        Action::PrincipalManage,
        ResourceKind::Principal,
        &body.id.to_string(),
    )?;
    let password_hash = match &body.password {
        None => None,
        Some(p) if p.chars().count() < 12 => {
            return Err(ApiError::field(
                ErrorCode::InvalidField,
                "/password",
                "at least 12 characters",
            ))
        }
        Some(p) => Some(crate::auth::hash_password(p)?),
    };
    let row = if let PrincipalId::Trader(eori) = &body.id {
        state
            .store
            .register_trader(eori, &body.display_name)
            .await?;
        if let Some(h) = &password_hash {
            state.store.set_password(&body.id, h).await?;
        }
        state.store.get_principal(&body.id).await?
    } else {
        let roles = if body.roles.is_empty() {
            vec![body.id.kind().as_str().to_owned()]
        } else {
            body.roles.clone()
        };
        state
            .store
            .create_principal(&NewPrincipal {
                id: body.id.clone(),
                display_name: body.display_name.clone(),
                office: body.office.clone(),
                roles,
                password_hash,
            })
            .await?
    };
    Ok((StatusCode::CREATED, Json(row)))
}

#[utoipa::path(get, path = "/api/v1/principals", tag = "principals", params(PageQuery),
    responses((status = 200, body = Paged<PrincipalRow>)))]
pub async fn list_principals(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<PrincipalRow>>> {
    ops(
        &state,
        &caller,
        Action::PrincipalManage,
        ResourceKind::Principal,
        "*",
    )?;
    Ok(Json(Paged::from(
        state.store.list_principals(&q.page()?).await?,
    )))
}

fn principal_path(id: &str) -> ApiResult<PrincipalId> {
    path_param("id", id)
}

#[utoipa::path(get, path = "/api/v1/principals/{id}", tag = "principals",
    params(("id" = String, Path, description = "KIND:ID, URL-encoded")),
    responses((status = 200, body = PrincipalRow), (status = 404, body = Problem)))]
pub async fn get_principal(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<PrincipalRow>> {
    let id = principal_path(&id)?;
    ops(
        &state,
        &caller,
        Action::PrincipalManage,
        ResourceKind::Principal,
        &id.to_string(),
    )?;
    Ok(Json(state.store.get_principal(&id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueToken {
    #[schema(value_type = String, example = "trader:NL000000001")]
    pub principal: PrincipalId,
    /// Lifetime such as `90d`, `12h`; none means no expiry.
    pub ttl: Option<String>,
    pub label: Option<String>,
}

/// A newly issued token: the secret is shown once and never again.
#[derive(Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    pub token: String,
    #[serde(flatten)]
    pub meta: TokenRow,
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "credentials", request_body = IssueToken,
    responses((status = 201, body = IssuedToken), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn issue_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<IssueToken>,
) -> ApiResult<(StatusCode, Json<IssuedToken>)> {
    ops(
        &state,
        &caller,
        Action::TokenManage,
        ResourceKind::Token,
        &body.principal.to_string(),
    )?;
    let ttl = match &body.ttl {
        None => None,
        Some(t) => Some(
            portorium_trust::parse_ttl(t)
                .map_err(|e| ApiError::field(ErrorCode::InvalidField, "/ttl", e.to_string()))?,
        ),
    };
    let (token, meta) =
        crate::auth::issue_token(&state.store, &body.principal, ttl, body.label.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(IssuedToken { token, meta })))
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "credentials", params(PageQuery),
    responses((status = 200, body = Paged<TokenRow>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<TokenRow>>> {
    ops(
        &state,
        &caller,
        Action::TokenManage,
        ResourceKind::Token,
        "*",
    )?;
    Ok(Json(Paged::from(
        state.store.list_tokens(&q.page()?).await?,
    )))
}

#[utoipa::path(post, path = "/api/v1/tokens/{id}/revoke", tag = "credentials",
    params(("id" = String, Path)), responses((status = 200, body = TokenRow), (status = 404, body = Problem)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<TokenRow>> {
    ops(
        &state,
        &caller,
        Action::TokenManage,
        ResourceKind::Token,
        &id,
    )?;
    let row = state.store.revoke_token(&id).await?;
    state.tokens.forget_token(&id);
    Ok(Json(row))
}

/// The audit log's identity: verify checkpoints with this key.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditKey {
    pub origin: String,
    pub key_id: String,
    pub public_key_pem: String,
}

#[utoipa::path(get, path = "/api/v1/audit/public-key", tag = "audit", responses((status = 200, body = AuditKey)))]
pub async fn audit_key(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<AuditKey>> {
    ops(
        &state,
        &caller,
        Action::AuditRead,
        ResourceKind::AuditLog,
        "*",
    )?;
    let signer = state.audit.signer();
    Ok(Json(AuditKey {
        origin: state.audit.origin().to_owned(),
        key_id: signer.key_id(),
        public_key_pem: signer
            .public_key_pem()
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?,
    }))
}

/// A signed checkpoint, also as a signed note.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CheckpointView {
    pub origin: String,
    pub size: u64,
    /// Base64 root hash.
    pub root: String,
    pub time: chrono::DateTime<chrono::Utc>,
    pub key_id: String,
    /// Base64 Ed25519 signature over the note body.
    pub signature: String,
    pub note: String,
}

impl From<SignedCheckpoint> for CheckpointView {
    fn from(c: SignedCheckpoint) -> Self {
        use base64::Engine;
        CheckpointView {
            note: c.to_note(),
            origin: c.checkpoint.origin.clone(),
            size: c.checkpoint.size,
            root: base64::engine::general_purpose::STANDARD.encode(c.checkpoint.root),
            time: c.checkpoint.time,
            key_id: c.key_id,
            signature: c.signature,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/audit/checkpoints/latest", tag = "audit",
    responses((status = 200, body = CheckpointView), (status = 404, body = Problem)))]
pub async fn latest_checkpoint(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<CheckpointView>> {
    ops(
        &state,
        &caller,
        Action::AuditRead,
        ResourceKind::AuditLog,
        "*",
    )?;
    let cp = state
        .audit
        .latest_checkpoint()
        .await?
        .ok_or_else(|| ApiError::not_found("no checkpoint yet"))?;
    Ok(Json(cp.into()))
}

#[utoipa::path(post, path = "/api/v1/audit/checkpoints", tag = "audit",
    responses((status = 201, body = CheckpointView), (status = 404, body = Problem)))]
pub async fn sign_checkpoint(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<(StatusCode, Json<CheckpointView>)> {
    ops(
        &state,
        &caller,
        Action::AuditRead,
        ResourceKind::AuditLog,
        "*",
    )?;
    let cp = state
        .audit
        .checkpoint()
        .await?
        .ok_or_else(|| ApiError::not_found("the log is empty"))?;
    Ok((StatusCode::CREATED, Json(cp.into())))
}

#[utoipa::path(get, path = "/api/v1/audit/checkpoints", tag = "audit", params(PageQuery),
    responses((status = 200, body = Paged<CheckpointView>)))]
pub async fn list_checkpoints(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<CheckpointView>>> {
    ops(
        &state,
        &caller,
        Action::AuditRead,
        ResourceKind::AuditLog,
        "*",
    )?;
    let (items, next) = state.audit.checkpoints(&q.page()?).await?;
    Ok(Json(Paged::from((
        items.into_iter().map(Into::into).collect(),
        next,
    ))))
}

#[utoipa::path(get, path = "/api/v1/audit/entries", tag = "audit", params(PageQuery),
    responses((status = 200, body = Paged<AuditEntry>)))]
pub async fn list_entries(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<AuditEntry>>> {
    ops(
        &state,
        &caller,
        Action::AuditRead,
        ResourceKind::AuditLog,
        "*",
    )?;
    Ok(Json(Paged::from(
        state.audit.entries(None, &q.page()?).await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/audit/entries/{seq}", tag = "audit",
    params(("seq" = u64, Path)), responses((status = 200, body = AuditEntry), (status = 404, body = Problem)))]
pub async fn get_entry(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(seq): ApiPath<u64>,
) -> ApiResult<Json<AuditEntry>> {
    ops(
        &state,
        &caller,
        Action::AuditRead,
        ResourceKind::AuditLog,
        &seq.to_string(),
    )?;
    Ok(Json(state.audit.entry(seq).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    /// The entry's sequence number (leaf index).
    pub seq: u64,
    /// Tree size to prove against (default: the current size).
    pub tree_size: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/audit/proofs/inclusion", tag = "audit", params(InclusionQuery),
    responses((status = 200, body = ProofBundle), (status = 400, body = Problem)))]
pub async fn inclusion_proof(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<InclusionQuery>,
) -> ApiResult<Json<ProofBundle>> {
    ops(
        &state,
        &caller,
        Action::AuditRead,
        ResourceKind::AuditLog,
        "*",
    )?;
    Ok(Json(state.audit.inclusion_proof(q.seq, q.tree_size).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    /// The older tree size.
    pub from: u64,
    /// The newer tree size (default: the current size).
    pub to: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/audit/proofs/consistency", tag = "audit", params(ConsistencyQuery),
    responses((status = 200, body = ProofBundle), (status = 400, body = Problem)))]
pub async fn consistency_proof(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ConsistencyQuery>,
) -> ApiResult<Json<ProofBundle>> {
    ops(
        &state,
        &caller,
        Action::AuditRead,
        ResourceKind::AuditLog,
        "*",
    )?;
    Ok(Json(state.audit.consistency_proof(q.from, q.to).await?))
}
