//! Handlers served on both the administration and the trader gateway (policy and store scope
//! decide what each caller sees).

use crate::api::{path_param, ApiJson, ApiPath, ApiQuery, PageQuery, Paged};
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::state::{AppState, Caller};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use portorium_audit::AuditEntry;
use portorium_kernel::{Eori, OfficeRef};
use portorium_store::{MessageRow, NewMessage, OfficeRow, PrincipalRow, TenantRow, TraderRow};
use portorium_trust::{Action, Resource, ResourceKind};
use serde::{Deserialize, Serialize};

/// Who am I.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub principal: PrincipalRow,
    pub circle: portorium_kernel::Circle,
    /// The caller's administration, when it belongs to one.
    pub tenant: Option<TenantRow>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "identity", responses((status = 200, body = Me), (status = 401, body = Problem)))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Me>> {
    let res = Resource::new(ResourceKind::Profile, caller.principal.id.to_string())
        .owned_by(caller.principal.id.clone());
    state.authorize(&caller, Action::ProfileRead, &res)?;
    let tenant = match caller.principal.id.tenant() {
        Some(t) => Some(state.store.get_tenant(t).await?),
        None => None,
    };
    Ok(Json(Me {
        principal: caller.principal.clone(),
        circle: caller.circle,
        tenant,
    }))
}

fn own_tenant_resource(caller: &Caller, kind: ResourceKind, id: &str) -> Resource {
    let r = Resource::new(kind, id);
    match caller.principal.id.tenant() {
        Some(t) => r.in_tenant(t.clone()),
        None => r,
    }
}

#[utoipa::path(get, path = "/api/v1/offices", tag = "offices", params(PageQuery),
    responses((status = 200, body = Paged<OfficeRow>)))]
pub async fn list_offices(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<OfficeRow>>> {
    state.authorize(
        &caller,
        Action::TenantRead,
        &own_tenant_resource(&caller, ResourceKind::Office, "*"),
    )?;
    let view = state.store.scoped(caller.scope());
    Ok(Json(Paged::from(view.list_offices(&q.page()?).await?)))
}

#[utoipa::path(get, path = "/api/v1/offices/{reference}", tag = "offices",
    params(("reference" = String, Path)), responses((status = 200, body = OfficeRow), (status = 404, body = Problem)))]
pub async fn get_office(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(reference): ApiPath<String>,
) -> ApiResult<Json<OfficeRow>> {
    let reference: OfficeRef = path_param("reference", &reference)?;
    let office = state
        .store
        .scoped(caller.scope())
        .get_office(&reference)
        .await?;
    let res =
        Resource::new(ResourceKind::Office, reference.as_str()).in_tenant(office.tenant.clone());
    state.authorize(&caller, Action::TenantRead, &res)?;
    Ok(Json(office))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterTrader {
    #[schema(value_type = String, example = "NL000000003")]
    pub eori: Eori,
    pub name: String,
}

#[utoipa::path(post, path = "/api/v1/traders", tag = "traders", request_body = RegisterTrader,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = TraderRow), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn register_trader(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<RegisterTrader>,
) -> ApiResult<(StatusCode, Json<TraderRow>)> {
    let tenant = body
        .eori
        .country()
        .parse()
        .map_err(|e: portorium_kernel::KernelError| {
            ApiError::field(ErrorCode::InvalidField, "/eori", e.to_string())
        })?;
    let res = Resource::new(ResourceKind::TraderRecord, body.eori.as_str()).in_tenant(tenant);
    state.authorize(&caller, Action::TraderRegister, &res)?;
    let t = state
        .store
        .scoped(caller.scope())
        .register_trader(&body.eori, &body.name)
        .await?;
    Ok((StatusCode::CREATED, Json(t)))
}

#[utoipa::path(get, path = "/api/v1/traders", tag = "traders", params(PageQuery),
    responses((status = 200, body = Paged<TraderRow>)))]
pub async fn list_traders(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<TraderRow>>> {
    state.authorize(
        &caller,
        Action::TraderRead,
        &own_tenant_resource(&caller, ResourceKind::TraderRecord, "*"),
    )?;
    Ok(Json(Paged::from(
        state
            .store
            .scoped(caller.scope())
            .list_traders(&q.page()?)
            .await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/traders/{eori}", tag = "traders",
    params(("eori" = String, Path)), responses((status = 200, body = TraderRow), (status = 404, body = Problem)))]
pub async fn get_trader(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(eori): ApiPath<String>,
) -> ApiResult<Json<TraderRow>> {
    let eori: Eori = path_param("eori", &eori)?;
    let t = state.store.scoped(caller.scope()).get_trader(&eori).await?;
    let res = Resource::new(ResourceKind::TraderRecord, eori.as_str())
        .in_tenant(t.registered_by.clone())
        .owned_by(portorium_kernel::PrincipalId::Trader(eori.clone()));
    state.authorize(&caller, Action::TraderRead, &res)?;
    Ok(Json(t))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// `trader:EORI` or `agency:TENANT/AGENCY`.
    #[schema(example = "trader:NL000000001")]
    pub addressee: String,
    pub subject: String,
    pub body: String,
}

#[utoipa::path(post, path = "/api/v1/messages", tag = "messages", request_body = SendMessage,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = MessageRow), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn send_message(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<SendMessage>,
) -> ApiResult<(StatusCode, Json<MessageRow>)> {
    let res = own_tenant_resource(&caller, ResourceKind::Message, "new")
        .addressed_to(body.addressee.clone());
    state.authorize(&caller, Action::MessageSend, &res)?;
    let m = state
        .store
        .scoped(caller.scope())
        .send_message(
            &caller.principal.id,
            &NewMessage {
                addressee: body.addressee,
                subject: body.subject,
                body: body.body,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(m)))
}

#[utoipa::path(get, path = "/api/v1/messages", tag = "messages", params(PageQuery),
    responses((status = 200, body = Paged<MessageRow>)))]
pub async fn list_messages(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<MessageRow>>> {
    let mut res = own_tenant_resource(&caller, ResourceKind::Message, "*");
    if let Some(a) = caller.scope().addressee() {
        res = res.addressed_to(a);
    }
    state.authorize(&caller, Action::MessageRead, &res)?;
    Ok(Json(Paged::from(
        state
            .store
            .scoped(caller.scope())
            .list_messages(&q.page()?)
            .await?,
    )))
}

#[utoipa::path(get, path = "/api/v1/messages/{id}", tag = "messages",
    params(("id" = String, Path)), responses((status = 200, body = MessageRow), (status = 404, body = Problem)))]
pub async fn get_message(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<MessageRow>> {
    let m = state.store.scoped(caller.scope()).get_message(&id).await?;
    let res = Resource::new(ResourceKind::Message, &m.id)
        .in_tenant(m.tenant.clone())
        .addressed_to(m.addressee.clone());
    state.authorize(&caller, Action::MessageRead, &res)?;
    Ok(Json(m))
}

#[utoipa::path(get, path = "/api/v1/security/audit-entries", tag = "security", params(PageQuery),
    responses((status = 200, body = Paged<AuditEntry>), (status = 403, body = Problem)))]
pub async fn security_audit_entries(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<AuditEntry>>> {
    state.authorize(
        &caller,
        Action::AuditRead,
        &own_tenant_resource(&caller, ResourceKind::AuditLog, "*"),
    )?;
    let view = state.store.scoped(caller.scope());
    Ok(Json(Paged::from(
        view.audit_entries(&state.audit, &q.page()?).await?,
    )))
}

/// An administration as shown to the public.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PublicAdministration {
    pub code: String,
    pub name: String,
    pub currency: String,
}

#[utoipa::path(get, path = "/api/v1/public/administrations", tag = "public", params(PageQuery),
    responses((status = 200, body = Paged<PublicAdministration>)))]
pub async fn public_administrations(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<PublicAdministration>>> {
    let (rows, next) = state.store.list_tenants(&q.page()?).await?;
    let items = rows
        .into_iter()
        .map(|t| PublicAdministration {
            code: t.code.to_string(),
            name: t.name,
            currency: t.currency.to_string(),
        })
        .collect();
    Ok(Json(Paged::from((items, next))))
}
