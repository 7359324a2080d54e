//! WCO DMS declarations for the officers of the competent administration, on the
//! administration gateway: the work queue (`GET /api/v1/declarations?state=under_control`),
//! a declaration with its declared data (every message as received), notifications,
//! assessments, quota allocations, control results and history, and decisions, each processed
//! in one transaction by [`crate::dms::decide`] and audited by the audit middleware.
//!
//! An administration sees only its own declarations (the store's tenant scope); another
//! administration's is a 404.

use crate::api::{ApiJson, ApiPath, ApiQuery};
use crate::dms::{self, declaration_resource, DecisionBody};
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::state::{AppState, Caller};
use axum::extract::State;
use axum::Json;
use portorium_store::{DmsDeclarationRow, DmsDetail, DmsFilter, Page};
use portorium_trust::{Action, Resource, ResourceKind};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// Only declarations in this state (`under_control`, `documents_required`, …).
    pub state: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of the work queue.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct QueueView {
    pub items: Vec<DmsDeclarationRow>,
    pub next_cursor: Option<String>,
}

/// The work queue: the administration's declarations, newest first.
#[utoipa::path(get, path = "/api/v1/declarations", tag = "declarations", params(QueueQuery),
    responses((status = 200, body = QueueView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> ApiResult<Json<QueueView>> {
    if let Some(s) = &q.state {
        if !dms::STATES.contains(&s.as_str()) {
            return Err(ApiError::field(
                ErrorCode::InvalidField,
                "query:state",
                format!("must be one of {}", dms::STATES.join(", ")),
            ));
        }
    }
    let tenant = caller.scope().tenant().cloned().ok_or_else(|| {
        ApiError::forbidden("only administrations have a declarations work queue")
    })?;
    state.authorize(
        &caller,
        Action::DeclarationRead,
        &Resource::new(ResourceKind::Declaration, "queue").in_tenant(tenant),
    )?;
    let page = Page {
        limit: q.limit.unwrap_or(50),
        after: q.cursor.clone(),
    };
    let (items, next_cursor) = state
        .store
        .scoped(caller.scope())
        .dms_declarations(&DmsFilter { state: q.state }, &page)
        .await?;
    Ok(Json(QueueView { items, next_cursor }))
}

/// A declaration with everything stored about it.
#[utoipa::path(get, path = "/api/v1/declarations/{id}", tag = "declarations",
    params(("id" = String, Path)),
    responses((status = 200, body = DmsDetail), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<DmsDetail>> {
    let detail = state.store.scoped(caller.scope()).dms_detail(&id).await?;
    state.authorize(
        &caller,
        Action::DeclarationRead,
        &declaration_resource(&detail.declaration)?,
    )?;
    Ok(Json(detail))
}

/// Decide on a declaration: `control`, `documents-required`, `release`, `refuse` (a pending
/// cancellation), `invalidate`, `control-results` or `assess`. Out of sequence → 409 (error 92).
#[utoipa::path(post, path = "/api/v1/declarations/{id}/decisions", tag = "declarations",
    params(("id" = String, Path)), request_body = DecisionBody,
    responses((status = 200, body = DmsDeclarationRow), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn decision(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> ApiResult<Json<DmsDeclarationRow>> {
    Ok(Json(dms::decide(&state, &caller, &id, body).await?))
}

/// The DMS routes of the administration gateway.
pub fn admin_routes(t: super::Table) -> super::Table {
    use super::{handler, Access::Authenticated as Auth};
    use axum::routing::{on, MethodFilter};
    t.api("GET", "/api/v1/declarations", Auth, handler!(GET, queue))
        .api(
            "GET",
            "/api/v1/declarations/{id}",
            Auth,
            handler!(GET, detail),
        )
        .api(
            "POST",
            "/api/v1/declarations/{id}/decisions",
            Auth,
            handler!(POST, decision),
        )
}

/// The OpenAPI document of these routes (merged into the administration gateway's).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(queue, detail, decision),
    components(schemas(QueueView, DecisionBody, DmsDetail, DmsDeclarationRow))
)]
pub struct DeclarationsOfficerApi;
