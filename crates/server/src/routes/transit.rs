//! The transit trader interface (NCTS phase 5) on the trader gateway, in the resource shapes
//! of HMRC's CTC Traders API 2.1 (`_links`, `id`, `movementReferenceNumber`,
//! `localReferenceNumber`, `created`, `updated`, `enrollmentEORINumber`, `movementEORINumber`;
//! message entries with `type`, `received`, `status`), so that trader software can switch
//! with little change:
//!
//! * `POST /customs/transits/movements/departures` (CC015C) and `…/departures/{movementId}/messages`
//!   (CC013C, CC014C); `POST /customs/transits/movements/arrivals` (CC007C) and
//!   `…/arrivals/{movementId}/messages` (CC044C). The body is XML (`application/xml`) or the
//!   same structure in JSON (`application/json`, HMRC shape). 202 with the movement and message
//!   ids once everything the message caused is committed (see [`crate::transit`]);
//! * `GET` of the lists (`updatedSince`, `movementReferenceNumber`, `localReferenceNumber`,
//!   `page`, `count`), of one movement, of its messages and of one message (metadata with the
//!   body, or the XML itself when `Accept` asks for XML).
//!
//! A trader sees only its own movements, in every administration (the store's trader scope).

use crate::api::{ApiPath, ApiQuery};
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::state::{AppState, Caller};
use crate::transit::{self, Accepted};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use portorium_declarations::Format;
use portorium_store::{MovementKind, MovementMessageRow, MovementRow, TransitFilter};
use portorium_trust::{Action, Resource, ResourceKind};
use serde::{Deserialize, Serialize};

const DEPARTURES: &str = "/customs/transits/movements/departures";
const ARRIVALS: &str = "/customs/transits/movements/arrivals";

fn base(kind: MovementKind) -> &'static str {
    match kind {
        MovementKind::Departure => DEPARTURES,
        MovementKind::Arrival => ARRIVALS,
    }
}

/// `{"href": …}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Href {
    pub href: String,
}

/// The links of a movement.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MovementLinks {
    #[serde(rename = "self")]
    pub self_: Href,
    pub messages: Href,
}

/// A departure or arrival (CTC Traders API `Departure` / `Arrival`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MovementView {
    #[serde(rename = "_links")]
    pub links: MovementLinks,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub movement_reference_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_reference_number: Option<String>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// The EORI of the trader who lodged it.
    #[serde(rename = "enrollmentEORINumber")]
    pub enrollment_eori_number: String,
    /// The EORI in the movement (holder, or trader at destination).
    #[serde(rename = "movementEORINumber")]
    pub movement_eori_number: String,
    /// The movement's state (`mrn_allocated`, `released`, `rejected` …; Portorium addition).
    pub state: String,
    /// The administration the movement belongs to (Portorium addition).
    pub administration: String,
}

fn movement_view(m: &MovementRow) -> MovementView {
    let b = base(m.kind);
    MovementView {
        links: MovementLinks {
            self_: Href {
                href: format!("{b}/{}", m.id),
            },
            messages: Href {
                href: format!("{b}/{}/messages", m.id),
            },
        },
        id: m.id.clone(),
        movement_reference_number: m.mrn.clone(),
        local_reference_number: m.lrn.clone(),
        created: m.created_at,
        updated: m.updated_at,
        enrollment_eori_number: m.holder.clone(),
        movement_eori_number: m.holder.clone(),
        state: m.state.clone(),
        administration: m.tenant.clone(),
    }
}

/// The links of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListLinks {
    #[serde(rename = "self")]
    pub self_: Href,
}

/// A page of movements.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MovementList {
    #[serde(rename = "_links")]
    pub links: ListLinks,
    pub total_count: i64,
    /// The departures (on `/departures`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub departures: Option<Vec<MovementView>>,
    /// The arrivals (on `/arrivals`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrivals: Option<Vec<MovementView>>,
}

/// The links of a message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageLinks {
    #[serde(rename = "self")]
    pub self_: Href,
    /// `departure` or `arrival`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub departure: Option<Href>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrival: Option<Href>,
}

/// A message of a movement (CTC Traders API `Messages2` / `Messages6`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    #[serde(rename = "_links")]
    pub links: MessageLinks,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub departure_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrival_id: Option<String>,
    /// Received (trader messages) or generated (customs messages).
    pub received: DateTime<Utc>,
    /// `IE015`, `IE928` …
    #[serde(rename = "type")]
    pub type_: String,
    /// `Success`.
    pub status: String,
    /// `inbound` (from the trader) or `outbound` (to the trader).
    pub direction: String,
    /// The message's `messageIdentification`.
    pub message_identification: String,
    /// The XML body (single-message GET only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

fn ie(code: &str) -> String {
    match code.strip_prefix("CC").and_then(|c| c.strip_suffix('C')) {
        Some(n) => format!("IE{n}"),
        None => code.to_owned(),
    }
}

pub fn message_view(kind: MovementKind, m: &MovementMessageRow, body: bool) -> MessageView {
    let b = base(kind);
    let movement = Href {
        href: format!("{b}/{}", m.movement_id),
    };
    let (departure, arrival) = match kind {
        MovementKind::Departure => (Some(movement), None),
        MovementKind::Arrival => (None, Some(movement)),
    };
    MessageView {
        links: MessageLinks {
            self_: Href {
                href: format!("{b}/{}/messages/{}", m.movement_id, m.id),
            },
            departure,
            arrival,
        },
        id: m.id.clone(),
        departure_id: (kind == MovementKind::Departure).then(|| m.movement_id.clone()),
        arrival_id: (kind == MovementKind::Arrival).then(|| m.movement_id.clone()),
        received: m.at,
        type_: ie(&m.message_type),
        status: "Success".into(),
        direction: m.direction.as_str().into(),
        message_identification: m.message_identification.clone(),
        body: body.then(|| m.body.clone()),
    }
}

/// The messages of a movement.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageList {
    #[serde(rename = "_links")]
    pub links: MessageLinks,
    pub total_count: i64,
    pub messages: Vec<MessageView>,
}

/// The answer to a submitted message (CTC Traders API `SmallMessageNewDepartureResponse`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubmissionView {
    #[serde(rename = "_links")]
    pub links: MovementLinks,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub departure_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrival_id: Option<String>,
    pub message_id: String,
    /// The same message was already received: nothing new was stored.
    pub repeated: bool,
}

fn submission(kind: MovementKind, a: Accepted) -> Response {
    let b = base(kind);
    let view = SubmissionView {
        links: MovementLinks {
            self_: Href {
                href: format!("{b}/{}", a.movement_id),
            },
            messages: Href {
                href: format!("{b}/{}/messages", a.movement_id),
            },
        },
        departure_id: (kind == MovementKind::Departure).then(|| a.movement_id.clone()),
        arrival_id: (kind == MovementKind::Arrival).then(|| a.movement_id.clone()),
        message_id: a.message_id,
        repeated: a.repeated,
    };
    (StatusCode::ACCEPTED, Json(view)).into_response()
}

/// The body format from `Content-Type`: XML or JSON, else 415.
fn format_of(headers: &HeaderMap) -> ApiResult<Format> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ct.contains("xml") {
        Ok(Format::Xml)
    } else if ct.contains("json") {
        Ok(Format::Json)
    } else {
        Err(ApiError::field(
            ErrorCode::UnsupportedMediaType,
            "header:content-type",
            "send application/xml or application/json",
        ))
    }
}

/// `?updatedSince=&movementReferenceNumber=&localReferenceNumber=&page=&count=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListQuery {
    /// Only movements updated at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Only the movement with this MRN.
    pub movement_reference_number: Option<String>,
    /// Only departures with this LRN.
    pub local_reference_number: Option<String>,
    /// Only movements with this EORI (a trader sees only its own: another EORI lists nothing).
    #[serde(rename = "movementEORI")]
    pub movement_eori: Option<String>,
    /// Page number, from 1 (default 1).
    pub page: Option<u32>,
    /// Items per page, 1 to 500 (default 25).
    pub count: Option<u32>,
}

async fn list(
    state: &AppState,
    caller: &Caller,
    kind: MovementKind,
    q: ListQuery,
) -> ApiResult<Json<MovementList>> {
    let page = q.page.unwrap_or(1);
    if page == 0 {
        return Err(ApiError::field(
            ErrorCode::InvalidQuery,
            "query:page",
            "must be a positive number",
        ));
    }
    let count = q.count.unwrap_or(25);
    if !(1..=500).contains(&count) {
        return Err(ApiError::field(
            ErrorCode::InvalidQuery,
            "query:count",
            "must be 1 to 500",
        ));
    }
    state.authorize(
        caller,
        Action::TransitRead,
        &Resource::new(ResourceKind::Movement, base(kind)).owned_by(caller.principal.id.clone()),
    )?;
    let other_eori = match (&caller.principal.id, q.movement_eori.as_deref()) {
        (portorium_kernel::PrincipalId::Trader(own), Some(e)) => own.as_str() != e,
        _ => false,
    };
    let (rows, total) = if other_eori {
        (Vec::new(), 0)
    } else {
        state
            .store
            .scoped(caller.scope())
            .transit_movements(
                kind,
                &TransitFilter {
                    updated_since: q.updated_since,
                    mrn: q.movement_reference_number,
                    lrn: q.local_reference_number,
                    state: None,
                },
                page,
                count,
            )
            .await?
    };
    let items: Vec<MovementView> = rows.iter().map(movement_view).collect();
    let (departures, arrivals) = match kind {
        MovementKind::Departure => (Some(items), None),
        MovementKind::Arrival => (None, Some(items)),
    };
    Ok(Json(MovementList {
        links: ListLinks {
            self_: Href {
                href: base(kind).to_owned(),
            },
        },
        total_count: total,
        departures,
        arrivals,
    }))
}

/// Reads a movement of the caller (404 for another's or the other kind).
async fn own_movement(
    state: &AppState,
    caller: &Caller,
    kind: MovementKind,
    id: &str,
) -> ApiResult<MovementRow> {
    let m = state.store.scoped(caller.scope()).movement(id).await?;
    if m.kind != kind {
        return Err(ApiError::not_found(format!("{} {id}", kind.as_str())));
    }
    state.authorize(
        caller,
        Action::TransitRead,
        &Resource::new(ResourceKind::Movement, id)
            .in_tenant(
                m.tenant
                    .parse()
                    .map_err(|_| ApiError::not_found(id.to_owned()))?,
            )
            .owned_by(caller.principal.id.clone()),
    )?;
    Ok(m)
}

async fn messages(
    state: &AppState,
    caller: &Caller,
    kind: MovementKind,
    id: &str,
) -> ApiResult<Json<MessageList>> {
    own_movement(state, caller, kind, id).await?;
    let (rows, _) = state
        .store
        .scoped(caller.scope())
        .movement_messages(
            id,
            &portorium_store::Page::first(portorium_store::Page::MAX),
        )
        .await?;
    let b = base(kind);
    let movement = Href {
        href: format!("{b}/{id}"),
    };
    let (departure, arrival) = match kind {
        MovementKind::Departure => (Some(movement), None),
        MovementKind::Arrival => (None, Some(movement)),
    };
    Ok(Json(MessageList {
        links: MessageLinks {
            self_: Href {
                href: format!("{b}/{id}/messages"),
            },
            departure,
            arrival,
        },
        total_count: i64::try_from(rows.len()).unwrap_or(i64::MAX),
        messages: rows.iter().map(|m| message_view(kind, m, false)).collect(),
    }))
}

async fn message(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    kind: MovementKind,
    id: &str,
    message_id: &str,
) -> ApiResult<Response> {
    own_movement(state, caller, kind, id).await?;
    let m = state
        .store
        .scoped(caller.scope())
        .movement_message(id, message_id)
        .await?;
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if accept.contains("xml") && !accept.contains("json") {
        return Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/xml")],
            m.body,
        )
            .into_response());
    }
    Ok(Json(message_view(kind, &m, true)).into_response())
}

// ---------------------------------------------------------------- departures

#[utoipa::path(post, path = "/customs/transits/movements/departures", tag = "transit",
    request_body(content = String, description = "CC015C declaration data, XML (`application/xml`) or the HMRC JSON shape (`application/json`)", content_type = "application/xml"),
    responses((status = 202, body = SubmissionView, description = "Stored with everything it caused; read the messages (CC928C, CC028C, CC029C or CC056C/CC055C/CC060C)"),
        (status = 400, body = Problem, description = "schema_validation (each violation's XPath) or message_type_not_allowed"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem, description = "duplicate_message_identification (NCTS error 26)"),
        (status = 415, body = Problem), (status = 503, body = Problem, description = "schemas_unavailable")))]
pub async fn post_departure(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let format = format_of(&headers)?;
    let a = transit::lodge_departure(&state, &caller, &body, format).await?;
    Ok(submission(MovementKind::Departure, a))
}

#[utoipa::path(get, path = "/customs/transits/movements/departures", tag = "transit",
    params(ListQuery),
    responses((status = 200, body = MovementList), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn list_departures(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<MovementList>> {
    list(&state, &caller, MovementKind::Departure, q).await
}

#[utoipa::path(get, path = "/customs/transits/movements/departures/{movementId}", tag = "transit",
    params(("movementId" = String, Path)),
    responses((status = 200, body = MovementView), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get_departure(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<MovementView>> {
    let m = own_movement(&state, &caller, MovementKind::Departure, &id).await?;
    Ok(Json(movement_view(&m)))
}

#[utoipa::path(get, path = "/customs/transits/movements/departures/{movementId}/messages", tag = "transit",
    params(("movementId" = String, Path)),
    responses((status = 200, body = MessageList), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn departure_messages(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<MessageList>> {
    messages(&state, &caller, MovementKind::Departure, &id).await
}

#[utoipa::path(post, path = "/customs/transits/movements/departures/{movementId}/messages", tag = "transit",
    params(("movementId" = String, Path)),
    request_body(content = String, description = "CC013C amendment or CC014C invalidation request, XML or JSON", content_type = "application/xml"),
    responses((status = 202, body = SubmissionView), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 415, body = Problem), (status = 503, body = Problem)))]
pub async fn post_departure_message(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let format = format_of(&headers)?;
    let a = transit::departure_message(&state, &caller, &id, &body, format).await?;
    Ok(submission(MovementKind::Departure, a))
}

#[utoipa::path(get, path = "/customs/transits/movements/departures/{movementId}/messages/{messageId}", tag = "transit",
    params(("movementId" = String, Path), ("messageId" = String, Path)),
    responses((status = 200, body = MessageView, description = "JSON with the body; the XML itself with `Accept: application/xml`"),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn departure_message(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiPath((id, message_id)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    message(
        &state,
        &caller,
        &headers,
        MovementKind::Departure,
        &id,
        &message_id,
    )
    .await
}

// ---------------------------------------------------------------- arrivals

#[utoipa::path(post, path = "/customs/transits/movements/arrivals", tag = "transit",
    request_body(content = String, description = "CC007C arrival notification, XML or JSON", content_type = "application/xml"),
    responses((status = 202, body = SubmissionView, description = "Stored; read the messages (CC043C or CC057C)"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 415, body = Problem), (status = 503, body = Problem)))]
pub async fn post_arrival(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let format = format_of(&headers)?;
    let a = transit::notify_arrival(&state, &caller, &body, format).await?;
    Ok(submission(MovementKind::Arrival, a))
}

#[utoipa::path(get, path = "/customs/transits/movements/arrivals", tag = "transit",
    params(ListQuery),
    responses((status = 200, body = MovementList), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn list_arrivals(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<MovementList>> {
    list(&state, &caller, MovementKind::Arrival, q).await
}

#[utoipa::path(get, path = "/customs/transits/movements/arrivals/{movementId}", tag = "transit",
    params(("movementId" = String, Path)),
    responses((status = 200, body = MovementView), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get_arrival(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<MovementView>> {
    let m = own_movement(&state, &caller, MovementKind::Arrival, &id).await?;
    Ok(Json(movement_view(&m)))
}

#[utoipa::path(get, path = "/customs/transits/movements/arrivals/{movementId}/messages", tag = "transit",
    params(("movementId" = String, Path)),
    responses((status = 200, body = MessageList), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn arrival_messages(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<MessageList>> {
    messages(&state, &caller, MovementKind::Arrival, &id).await
}

#[utoipa::path(post, path = "/customs/transits/movements/arrivals/{movementId}/messages", tag = "transit",
    params(("movementId" = String, Path)),
    request_body(content = String, description = "CC044C unloading remarks, XML or JSON", content_type = "application/xml"),
    responses((status = 202, body = SubmissionView), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 415, body = Problem), (status = 503, body = Problem)))]
pub async fn post_arrival_message(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let format = format_of(&headers)?;
    let a = transit::arrival_message(&state, &caller, &id, &body, format).await?;
    Ok(submission(MovementKind::Arrival, a))
}

#[utoipa::path(get, path = "/customs/transits/movements/arrivals/{movementId}/messages/{messageId}", tag = "transit",
    params(("movementId" = String, Path), ("messageId" = String, Path)),
    responses((status = 200, body = MessageView), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn arrival_message(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiPath((id, message_id)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    message(
        &state,
        &caller,
        &headers,
        MovementKind::Arrival,
        &id,
        &message_id,
    )
    .await
}

/// The OpenAPI paths of this module (merged into the trader gateway's document).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        post_departure,
        list_departures,
        get_departure,
        departure_messages,
        post_departure_message,
        departure_message,
        post_arrival,
        list_arrivals,
        get_arrival,
        arrival_messages,
        post_arrival_message,
        arrival_message
    ),
    components(schemas(
        Href,
        MovementLinks,
        MovementView,
        ListLinks,
        MovementList,
        MessageLinks,
        MessageView,
        MessageList,
        SubmissionView
    ))
)]
pub struct TransitApi;

/// The trader gateway's transit routes.
pub fn trader_routes(t: super::Table) -> super::Table {
    use super::{handler, Access::Authenticated as Auth};
    use axum::routing::{on, MethodFilter};
    t.api("POST", DEPARTURES, Auth, handler!(POST, post_departure))
        .api("GET", DEPARTURES, Auth, handler!(GET, list_departures))
        .api(
            "GET",
            "/customs/transits/movements/departures/{movementId}",
            Auth,
            handler!(GET, get_departure),
        )
        .api(
            "GET",
            "/customs/transits/movements/departures/{movementId}/messages",
            Auth,
            handler!(GET, departure_messages),
        )
        .api(
            "POST",
            "/customs/transits/movements/departures/{movementId}/messages",
            Auth,
            handler!(POST, post_departure_message),
        )
        .api(
            "GET",
            "/customs/transits/movements/departures/{movementId}/messages/{messageId}",
            Auth,
            handler!(GET, departure_message),
        )
        .api("POST", ARRIVALS, Auth, handler!(POST, post_arrival))
        .api("GET", ARRIVALS, Auth, handler!(GET, list_arrivals))
        .api(
            "GET",
            "/customs/transits/movements/arrivals/{movementId}",
            Auth,
            handler!(GET, get_arrival),
        )
        .api(
            "GET",
            "/customs/transits/movements/arrivals/{movementId}/messages",
            Auth,
            handler!(GET, arrival_messages),
        )
        .api(
            "POST",
            "/customs/transits/movements/arrivals/{movementId}/messages",
            Auth,
            handler!(POST, post_arrival_message),
        )
        .api(
            "GET",
            "/customs/transits/movements/arrivals/{movementId}/messages/{messageId}",
            Auth,
            handler!(GET, arrival_message),
        )
}
