//! The WCO DMS trader interface on the trader gateway, following HMRC's Customs Declarations
//! API 3.0: `POST /customs/declarations` (a `MetaData` declaration), `…/amend` (function code
//! 13, type `COR`) and `…/cancellation-requests` (`INV`), each `application/xml`, answered 202
//! with `X-Conversation-ID` once everything the message caused is committed (see
//! [`crate::dms`]); the notifications of a conversation by pull, the declaration with its
//! assessment (formulas included), and the trader's notification webhook.
//!
//! A trader sees only the declarations it is the declarant of (the store's trader scope).

use crate::api::ApiPath;
use crate::dms::{self, declaration_resource, Lodged};
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::state::{AppState, Caller};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use portorium_store::{
    DmsAssessmentRow, DmsDeclarationRow, DmsHistoryRow, DmsNotificationRow, DmsWebhookRow,
};
use portorium_trust::{Action, Resource, ResourceKind};
use serde::{Deserialize, Serialize};

fn require_xml(headers: &HeaderMap) -> ApiResult<()> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "application/xml" || mime == "text/xml" {
        Ok(())
    } else {
        Err(ApiError::field(
            ErrorCode::InvalidField,
            "header:content-type",
            "must be application/xml",
        ))
    }
}

fn accepted(l: Lodged) -> Response {
    let conv = HeaderValue::from_str(&l.conversation_id).ok();
    let mut resp = (StatusCode::ACCEPTED, Json(l)).into_response();
    if let Some(v) = conv {
        resp.headers_mut().insert("x-conversation-id", v);
    }
    resp
}

/// Lodge a declaration (WCO DMS `MetaData`, function code 9). XSD and business rules first:
/// every error in a 400 naming its XPath and rule code.
#[utoipa::path(post, path = "/customs/declarations", tag = "customs declarations",
    request_body(content = String, content_type = "application/xml"),
    responses((status = 202, body = Lodged, headers(("X-Conversation-ID" = String))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 503, body = Problem)))]
pub async fn post_declaration(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require_xml(&headers)?;
    Ok(accepted(dms::lodge(&state, &caller, &body).await?))
}

/// Amend a lodged declaration (function code 13, type `COR`, naming the MRN): a new version,
/// re-assessed; out of sequence → 409 (error 92).
#[utoipa::path(post, path = "/customs/declarations/amend", tag = "customs declarations",
    request_body(content = String, content_type = "application/xml"),
    responses((status = 202, body = Lodged, headers(("X-Conversation-ID" = String))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 503, body = Problem)))]
pub async fn post_amendment(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require_xml(&headers)?;
    Ok(accepted(dms::amend(&state, &caller, &body).await?))
}

/// Ask to cancel a lodged declaration (`INV`, naming the MRN): invalidated at once before
/// control (quota allocations returned), pending an officer's decision under control.
#[utoipa::path(post, path = "/customs/declarations/cancellation-requests", tag = "customs declarations",
    request_body(content = String, content_type = "application/xml"),
    responses((status = 202, body = Lodged, headers(("X-Conversation-ID" = String))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 503, body = Problem)))]
pub async fn post_cancellation(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require_xml(&headers)?;
    Ok(accepted(dms::cancel(&state, &caller, &body).await?))
}

/// A notification as the trader reads it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationView {
    pub notification_id: String,
    pub conversation_id: String,
    /// DMS function code.
    pub function_code: String,
    /// CDS name (`DMSACC` …).
    pub name: String,
    pub issued: chrono::DateTime<chrono::Utc>,
    /// The notification XML (WCO `MetaData` with a `Response`).
    pub body: String,
}

fn notification_view(n: DmsNotificationRow) -> NotificationView {
    NotificationView {
        notification_id: n.id,
        conversation_id: n.conversation_id,
        function_code: n.function_code,
        name: n.name,
        issued: n.issued_at,
        body: n.body,
    }
}

/// The notifications of a conversation, in order (the trader's own only).
#[utoipa::path(get, path = "/customs/declarations/{conversationId}/notifications", tag = "customs declarations",
    params(("conversationId" = String, Path)),
    responses((status = 200, body = Vec<NotificationView>), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn notifications(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(conversation_id): ApiPath<String>,
) -> ApiResult<Json<Vec<NotificationView>>> {
    let scoped = state.store.scoped(caller.scope());
    let d = scoped.dms_by_conversation(&conversation_id).await?;
    state.authorize(&caller, Action::DeclarationRead, &declaration_resource(&d)?)?;
    let ns = scoped.dms_notifications(&d.id).await?;
    Ok(Json(ns.into_iter().map(notification_view).collect()))
}

/// A declaration as its declarant sees it: position, assessments with formulas, history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TraderDeclarationView {
    pub declaration: DmsDeclarationRow,
    pub assessments: Vec<DmsAssessmentRow>,
    pub history: Vec<DmsHistoryRow>,
}

/// The declaration of a conversation (the trader's own only).
#[utoipa::path(get, path = "/customs/declarations/{conversationId}", tag = "customs declarations",
    params(("conversationId" = String, Path)),
    responses((status = 200, body = TraderDeclarationView), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn declaration(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(conversation_id): ApiPath<String>,
) -> ApiResult<Json<TraderDeclarationView>> {
    let scoped = state.store.scoped(caller.scope());
    let d = scoped.dms_by_conversation(&conversation_id).await?;
    state.authorize(&caller, Action::DeclarationRead, &declaration_resource(&d)?)?;
    let detail = scoped.dms_detail(&d.id).await?;
    Ok(Json(TraderDeclarationView {
        declaration: detail.declaration,
        assessments: detail.assessments,
        history: detail.history,
    }))
}

/// A webhook for the trader's notifications.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    /// `http://` or `https://` URL the notifications are POSTed to.
    pub url: String,
    /// Key of the `X-Portorium-Signature` HMAC-SHA256 (at least 16 characters).
    pub secret: String,
}

/// Register (or replace) the calling trader's notification webhook.
#[utoipa::path(put, path = "/api/v1/declarations/webhook", tag = "customs declarations",
    request_body = WebhookBody,
    responses((status = 200, body = DmsWebhookRow), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn put_webhook(
    State(state): State<AppState>,
    caller: Caller,
    crate::api::ApiJson(body): crate::api::ApiJson<WebhookBody>,
) -> ApiResult<Json<DmsWebhookRow>> {
    state.authorize(
        &caller,
        Action::DeclarationLodge,
        &Resource::new(ResourceKind::Declaration, "webhook").owned_by(caller.principal.id.clone()),
    )?;
    let url = body.url.trim();
    // Only public http(s) destinations (checked again before every delivery).
    dms::check_webhook_url(url, state.config.allow_private_webhooks)
        .await
        .map_err(|why| ApiError::field(ErrorCode::InvalidField, "/url", why))?;
    if body.secret.chars().count() < 16 {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "/secret",
            "must be at least 16 characters",
        ));
    }
    Ok(Json(
        state
            .store
            .scoped(caller.scope())
            .dms_set_webhook(url, &body.secret)
            .await?,
    ))
}

/// The DMS routes of the trader gateway.
pub fn trader_routes(t: super::Table) -> super::Table {
    use super::{handler, Access::Authenticated as Auth};
    use axum::routing::{on, MethodFilter};
    t.api(
        "POST",
        "/customs/declarations",
        Auth,
        handler!(POST, post_declaration),
    )
    .api(
        "POST",
        "/customs/declarations/amend",
        Auth,
        handler!(POST, post_amendment),
    )
    .api(
        "POST",
        "/customs/declarations/cancellation-requests",
        Auth,
        handler!(POST, post_cancellation),
    )
    .api(
        "GET",
        "/customs/declarations/{conversationId}",
        Auth,
        handler!(GET, declaration),
    )
    .api(
        "GET",
        "/customs/declarations/{conversationId}/notifications",
        Auth,
        handler!(GET, notifications),
    )
    .api(
        "PUT",
        "/api/v1/declarations/webhook",
        Auth,
        handler!(PUT, put_webhook),
    )
}

/// The OpenAPI document of these routes (merged into the trader gateway's).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        post_declaration,
        post_amendment,
        post_cancellation,
        declaration,
        notifications,
        put_webhook
    ),
    components(schemas(
        Lodged,
        NotificationView,
        TraderDeclarationView,
        WebhookBody,
        DmsWebhookRow
    ))
)]
pub struct CustomsDeclarationsApi;
