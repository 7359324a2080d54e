//! Transit movements for the officers of the competent office, on the administration gateway:
//! the work queue (`GET /api/v1/transit/movements?state=under_control`), a movement with its
//! data, messages, history, lane and guarantee reservations, and decisions (control, release,
//! no release, invalidate, control results), each processed in one transaction by
//! [`crate::transit::decide`] and audited by the audit middleware like every state change.
//!
//! An administration sees the movements it owns: departures from its offices and arrivals at
//! them (the store's tenant scope); another administration's movement is a 404.

use crate::api::{ApiJson, ApiPath, ApiQuery};
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::routes::transit::{message_view, MessageView};
use crate::state::{AppState, Caller};
use crate::transit::{self, DecisionBody, DecisionKind};
use axum::extract::State;
use axum::Json;
use portorium_declarations::State as MovementState;
use portorium_store::{
    GuaranteeReservationRow, MovementHistoryRow, MovementKind, MovementRow, Page, TransitFilter,
};
use portorium_trust::{Action, Resource, ResourceKind};
use serde::{Deserialize, Serialize};

/// `?state=&kind=&page=&count=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// Only movements in this state; `awaiting_decision` for those an officer must decide on
    /// (`under_control`, `guarantee_invalid`, `unloading_remarks`).
    pub state: Option<String>,
    /// `departure` (default) or `arrival`.
    pub kind: Option<String>,
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Items per page, 1 to 500 (default 50).
    pub count: Option<u32>,
}

/// A page of the work queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueueView {
    pub total: i64,
    pub items: Vec<MovementRow>,
}

/// A movement with everything an officer needs to decide.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OfficerMovementView {
    pub movement: MovementRow,
    /// The lane of the risk assessment, when one was made.
    pub lane: Option<String>,
    /// Which assessor gave the lane.
    pub assessor: Option<String>,
    /// The decisions possible in the current state.
    pub possible_decisions: Vec<DecisionKind>,
    pub messages: Vec<MessageView>,
    pub history: Vec<MovementHistoryRow>,
    pub reservations: Vec<GuaranteeReservationRow>,
}

fn kind_param(kind: Option<&str>) -> ApiResult<MovementKind> {
    match kind.unwrap_or("departure") {
        "departure" => Ok(MovementKind::Departure),
        "arrival" => Ok(MovementKind::Arrival),
        _ => Err(ApiError::field(
            ErrorCode::InvalidQuery,
            "query:kind",
            "departure or arrival",
        )),
    }
}

fn admin_resource(caller: &Caller, id: &str) -> ApiResult<Resource> {
    let tenant = caller
        .scope()
        .tenant()
        .cloned()
        .ok_or_else(|| ApiError::forbidden("only administrations have a transit work queue"))?;
    Ok(Resource::new(ResourceKind::Movement, id).in_tenant(tenant))
}

fn possible(m: &MovementRow) -> Vec<DecisionKind> {
    let Some(s) = MovementState::from_name(&m.state) else {
        return Vec::new();
    };
    use portorium_declarations::{apply, Event};
    let ok = |e: Event| apply(s, e).is_ok();
    let mut v = Vec::new();
    match m.kind {
        MovementKind::Departure => {
            if ok(Event::Control) {
                v.push(DecisionKind::Control);
            }
            if ok(Event::Release) {
                v.push(DecisionKind::Release);
            }
            if ok(Event::Refuse) {
                v.push(DecisionKind::NoRelease);
            }
            if ok(Event::Invalidate) {
                v.push(DecisionKind::Invalidate);
            }
        }
        MovementKind::Arrival => {
            if s == MovementState::UnloadingRemarks {
                v.push(DecisionKind::ControlResults);
            }
        }
    }
    v
}

#[utoipa::path(get, path = "/api/v1/transit/movements", tag = "transit",
    params(QueueQuery),
    responses((status = 200, body = QueueView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> ApiResult<Json<QueueView>> {
    let kind = kind_param(q.kind.as_deref())?;
    state.authorize(
        &caller,
        Action::TransitRead,
        &admin_resource(&caller, "queue")?,
    )?;
    let count = q.count.unwrap_or(50);
    if !(1..=500).contains(&count) {
        return Err(ApiError::field(
            ErrorCode::InvalidQuery,
            "query:count",
            "must be 1 to 500",
        ));
    }
    let page = q.page.unwrap_or(1).max(1);
    let scoped = state.store.scoped(caller.scope());
    let states: Vec<Option<String>> = match q.state.as_deref() {
        Some("awaiting_decision") => ["under_control", "guarantee_invalid", "unloading_remarks"]
            .iter()
            .map(|s| Some((*s).to_owned()))
            .collect(),
        Some(s) if MovementState::from_name(s).is_some() => vec![Some(s.to_owned())],
        Some(_) => {
            return Err(ApiError::field(
                ErrorCode::InvalidQuery,
                "query:state",
                "a movement state (e.g. under_control) or awaiting_decision",
            ));
        }
        None => vec![None],
    };
    let mut total = 0;
    let mut items = Vec::new();
    for st in states {
        let (rows, n) = scoped
            .transit_movements(
                kind,
                &TransitFilter {
                    state: st,
                    ..TransitFilter::default()
                },
                page,
                count,
            )
            .await?;
        total += n;
        items.extend(rows);
    }
    Ok(Json(QueueView { total, items }))
}

#[utoipa::path(get, path = "/api/v1/transit/movements/{id}", tag = "transit",
    params(("id" = String, Path)),
    responses((status = 200, body = OfficerMovementView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_movement(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<OfficerMovementView>> {
    let scoped = state.store.scoped(caller.scope());
    let movement = scoped.movement(&id).await?;
    state.authorize(&caller, Action::TransitRead, &admin_resource(&caller, &id)?)?;
    let (messages, _) = scoped
        .movement_messages(&id, &Page::first(Page::MAX))
        .await?;
    let history = scoped.movement_history(&id).await?;
    let reservations = scoped.transit_reservations(&id).await?;
    let assessed = history.iter().rev().find_map(|h| {
        h.detail
            .as_ref()
            .filter(|d| d.get("lane").is_some())
            .cloned()
    });
    let lane = assessed
        .as_ref()
        .and_then(|d| d.get("lane")?.as_str().map(str::to_owned));
    let assessor = assessed
        .as_ref()
        .and_then(|d| d.get("assessor")?.as_str().map(str::to_owned));
    Ok(Json(OfficerMovementView {
        possible_decisions: possible(&movement),
        lane,
        assessor,
        messages: messages
            .iter()
            .map(|m| message_view(movement.kind, m, true))
            .collect(),
        history,
        reservations,
        movement,
    }))
}

#[utoipa::path(post, path = "/api/v1/transit/movements/{id}/decisions", tag = "transit",
    params(("id" = String, Path)),
    request_body = DecisionBody,
    responses((status = 200, body = MovementRow, description = "The movement after the decision; the generated message is in its messages"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "invalid_transition"), (status = 503, body = Problem)))]
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> ApiResult<Json<MovementRow>> {
    Ok(Json(transit::decide(&state, &caller, &id, &body).await?))
}

/// The OpenAPI paths of this module (merged into the administration gateway's document).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(queue, get_movement, decide),
    components(schemas(
        QueueView,
        OfficerMovementView,
        DecisionBody,
        DecisionKind,
        MovementRow,
        MovementHistoryRow,
        GuaranteeReservationRow,
        MessageView,
        portorium_store::MovementKind,
        portorium_store::Direction
    ))
)]
pub struct TransitOfficerApi;

/// The administration gateway's transit routes.
pub fn admin_routes(t: super::Table) -> super::Table {
    use super::{handler, Access::Authenticated as Auth};
    use axum::routing::{on, MethodFilter};
    t.api(
        "GET",
        "/api/v1/transit/movements",
        Auth,
        handler!(GET, queue),
    )
    .api(
        "GET",
        "/api/v1/transit/movements/{id}",
        Auth,
        handler!(GET, get_movement),
    )
    .api(
        "POST",
        "/api/v1/transit/movements/{id}/decisions",
        Auth,
        handler!(POST, decide),
    )
}
