//! The middleware stack every gateway shares: request ids, metrics, authentication with the
//! circle check, CSRF for portal sessions, the audit trail, idempotency keys and ETags.

use crate::error::{ApiError, ErrorCode};
use crate::state::{AppState, AuthMethod, Authn, Caller};
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use portorium_audit::Outcome;
use portorium_kernel::Circle;
use portorium_store::{AuditRecord, IdempotencyOutcome, StoredResponse};
use sha2::{Digest, Sha256};
use std::time::Instant;

/// The portal session cookie of a gateway. Cookies ignore ports, so each circle has its own
/// name: gateways on one host (as in the demo) keep separate sessions.
pub fn session_cookie(circle: Circle) -> &'static str {
    match circle {
        Circle::Trader => "portorium_session_trader",
        Circle::Administration => "portorium_session_administration",
        Circle::Operations => "portorium_session_operations",
    }
}

/// Set by a handler on a response to name the principal a refused or failed request claimed
/// to be (a failed login), so the audit trail records who was attempted.
#[derive(Debug, Clone)]
pub struct AttemptedPrincipal(pub String);
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const REQUEST_ID: &str = "x-request-id";

/// The request id (set by tower-http's request-id layer).
pub fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn route_label(req: &Request) -> String {
    matched_route(req.extensions())
}

/// The route template in request extensions (`unmatched` outside a route).
fn matched_route(extensions: &axum::http::Extensions) -> String {
    extensions
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into())
}

/// Prometheus request counter and latency histogram, by gateway, route, method and status.
pub async fn metrics(State(circle): State<Circle>, req: Request, next: Next) -> Response {
    let route = route_label(&req);
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    let labels = [
        ("gateway", circle.as_str().to_owned()),
        ("route", route),
        ("method", method),
        ("status", status),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels[..3])
        .record(start.elapsed().as_secs_f64());
    resp
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    v.strip_prefix("Bearer ")
        .or_else(|| v.strip_prefix("bearer "))
}

pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

async fn resolve(
    state: &AppState,
    circle: Circle,
    headers: &HeaderMap,
) -> Result<Option<Caller>, ApiError> {
    if let Some(secret) = bearer(headers) {
        if portorium_trust::looks_like_token(secret) {
            let hash = portorium_trust::token_hash(secret);
            let ttl = state.config.token_cache_ttl;
            let verified = match state.tokens.get(&hash, ttl) {
                Some(t) => Some(t),
                None => {
                    let t = state.store.verify_token(&hash).await?;
                    if let Some(t) = &t {
                        state.tokens.put(hash, t.clone());
                    }
                    t
                }
            };
            let Some(t) = verified else {
                return Err(ApiError::new(
                    ErrorCode::InvalidCredential,
                    "the token is unknown, expired or revoked",
                ));
            };
            if t.expires_at.is_some_and(|e| e <= state.clock().now()) {
                return Err(ApiError::new(
                    ErrorCode::InvalidCredential,
                    "the token has expired",
                ));
            }
            return Ok(Some(Caller {
                circle: t.circle,
                principal: t.principal,
                via: AuthMethod::Token,
                csrf: None,
            }));
        }
        if state.federation.is_empty() {
            return Err(ApiError::new(
                ErrorCode::InvalidCredential,
                "not a Portorium token, and no identity provider is configured",
            ));
        }
        let id = state.federation.authenticate(secret, state.clock().now())?;
        let principal = state
            .store
            .get_principal(&id.principal)
            .await
            .map_err(|_| {
                ApiError::new(
                    ErrorCode::InvalidCredential,
                    format!("{} is not registered here", id.principal),
                )
            })?;
        if principal.disabled {
            return Err(ApiError::new(
                ErrorCode::InvalidCredential,
                "the principal is disabled",
            ));
        }
        return Ok(Some(Caller {
            circle: principal.kind.circle(),
            principal,
            via: AuthMethod::FederatedJwt,
            csrf: None,
        }));
    }
    if let Some(sid) = cookie(headers, session_cookie(circle)) {
        let hash = portorium_trust::token_hash(sid);
        if let Some(s) = state.store.get_session(&hash).await? {
            return Ok(Some(Caller {
                principal: s.principal,
                circle: s.circle,
                via: AuthMethod::Session,
                csrf: Some(s.csrf_token),
            }));
        }
        // An expired session is simply anonymous: the portal sends the user to log in.
    }
    Ok(None)
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Authenticate, enforce the circle and (for portal sessions) CSRF. The caller is put into the
/// request extensions for handlers and into the response extensions for the audit layer.
pub async fn authenticate(
    State((state, circle)): State<(AppState, Circle)>,
    req: Request,
    next: Next,
) -> Response {
    let caller = match resolve(&state, circle, req.headers()).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    if let Some(c) = &caller {
        if c.circle != circle || c.principal.kind.circle() != circle {
            let mut resp = ApiError::new(
                ErrorCode::WrongCircle,
                format!(
                    "a credential of the {} circle is not accepted on the {} gateway",
                    c.circle, circle
                ),
            )
            .into_response();
            resp.extensions_mut().insert(Authn(Some(c.clone())));
            return resp;
        }
    }
    let (mut parts, body) = req.into_parts();
    let mut body = body;
    if let Some(c) = &caller {
        if c.via == AuthMethod::Session && !is_safe(&parts.method) {
            let expected = c.csrf.clone().unwrap_or_default();
            let mut ok = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| portorium_trust::csrf_matches(v, &expected));
            let content_type = parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let is_form = content_type.starts_with("application/x-www-form-urlencoded");
            let is_multipart = content_type.starts_with("multipart/form-data");
            if !ok && (is_form || is_multipart) {
                let limit = state
                    .config
                    .body_limit_for(&matched_route(&parts.extensions));
                let bytes = match axum::body::to_bytes(body, limit).await {
                    Ok(b) => b,
                    Err(_) => return too_large(),
                };
                let token = if is_form {
                    form_field(&bytes, "csrf_token")
                } else {
                    multipart_field(&parts.headers, &bytes, "csrf_token").await
                };
                ok = token.is_some_and(|v| portorium_trust::csrf_matches(&v, &expected));
                body = Body::from(bytes);
            }
            if !ok {
                let mut resp =
                    ApiError::new(ErrorCode::CsrfFailed, "the CSRF token is missing or wrong")
                        .into_response();
                resp.extensions_mut().insert(Authn(caller));
                return resp;
            }
        }
    }
    parts.extensions.insert(Authn(caller.clone()));
    let mut resp = next.run(Request::from_parts(parts, body)).await;
    // A handler that authenticated someone itself (a portal login) has set the principal.
    if !matches!(resp.extensions().get::<Authn>(), Some(Authn(Some(_)))) {
        resp.extensions_mut().insert(Authn(caller));
    }
    resp
}

fn too_large() -> Response {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        "the request body exceeds the size limit",
    )
    .into_response()
}

/// A field of an urlencoded form.
/// The text of the first part named `name` of a buffered `multipart/form-data` body (the
/// portal's upload forms carry the session's `csrf_token` as a part, so that they work
/// without JavaScript). `None` when there is no such part or the body is not valid
/// multipart.
pub async fn multipart_field(headers: &HeaderMap, body: &Bytes, name: &str) -> Option<String> {
    use axum::extract::FromRequest;
    let mut req = Request::new(Body::from(body.clone()));
    *req.headers_mut() = headers.clone();
    let mut multipart = axum::extract::Multipart::from_request(req, &())
        .await
        .ok()?;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some(name) {
            return field.text().await.ok();
        }
    }
    None
}

pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded_pairs(body)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn serde_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    let s = String::from_utf8_lossy(body);
    s.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode_component(k), decode_component(v)))
        .collect()
}

fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Append an audit entry for every state-changing request and every refusal (401/403), and
/// wait for it to be durable before answering. The body of a state-changing request is
/// buffered (bounded) for its hash; any other body is passed on unread, bounded by the same
/// limit, for the handler to read once.
pub async fn audit(
    State((state, circle)): State<(AppState, Circle)>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().clone();
    let route = route_label(&req);
    let path = req.uri().path().to_owned();
    let request_id = request_id(req.headers());
    let (parts, body) = req.into_parts();
    let limit = state.config.body_limit_for(&route);
    let changes = crate::routes::changes_state(&method, &route);
    let (body, payload_hash) = if changes {
        let bytes = match axum::body::to_bytes(body, limit).await {
            Ok(b) => b,
            Err(_) => return too_large(),
        };
        let hash = (!bytes.is_empty())
            .then(|| portorium_audit::payload_hash(&redact_secrets(&path, &bytes)));
        (Body::from(bytes), hash)
    } else {
        (Body::new(http_body_util::Limited::new(body, limit)), None)
    };
    let resp = next.run(Request::from_parts(parts, body)).await;
    let status = resp.status();
    let refused = status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN;
    if !changes && !refused {
        return resp;
    }
    let caller = resp.extensions().get::<Authn>().and_then(|a| a.0.clone());
    let outcome = if status.is_success() || status.is_redirection() {
        Outcome::Success
    } else if refused {
        Outcome::Denied
    } else {
        Outcome::Failure
    };
    let attempted = resp
        .extensions()
        .get::<AttemptedPrincipal>()
        .map(|a| a.0.clone());
    let record = AuditRecord {
        principal: caller
            .as_ref()
            .map(|c| c.principal.id.to_string())
            .or(attempted.map(|a| format!("unauthenticated:{a}"))),
        tenant: caller
            .as_ref()
            .and_then(|c| c.principal.id.tenant().map(|t| t.to_string())),
        circle: Some(circle.as_str().to_owned()),
        action: format!("{method} {route}"),
        resource: path,
        outcome: Some(outcome),
        request_id,
        payload_hash,
        detail: Some(status.as_u16().to_string()),
    };
    if let Err(e) = state.audit.append(record).await {
        tracing::error!(error = %e, "audit append failed");
        // A state change that cannot be audited is not acknowledged as a success.
        if changes && status.is_success() {
            return ApiError::new(ErrorCode::Unavailable, "the audit log is unavailable")
                .into_response();
        }
    }
    resp
}

/// Login bodies carry passwords: they are hashed without the password.
fn redact_secrets<'b>(path: &str, bytes: &'b Bytes) -> std::borrow::Cow<'b, [u8]> {
    if path.ends_with("/login") {
        let kept: Vec<String> = serde_urlencoded_pairs(bytes)
            .into_iter()
            .filter(|(k, _)| k != "password")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        std::borrow::Cow::Owned(kept.join("&").into_bytes())
    } else {
        std::borrow::Cow::Borrowed(bytes)
    }
}

/// `Idempotency-Key` on POST: the first response is kept and replayed for a repeat with the
/// same body; a repeat with a different body is refused with 422.
pub async fn idempotency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get("idempotency-key").cloned() else {
        return next.run(req).await;
    };
    let Some(Authn(Some(caller))) = req.extensions().get::<Authn>().cloned() else {
        return next.run(req).await;
    };
    let key = match key.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 255 && k.is_ascii() => k.to_owned(),
        _ => {
            return ApiError::field(
                ErrorCode::InvalidIdempotencyKey,
                "header:Idempotency-Key",
                "1 to 255 visible ASCII characters",
            )
            .into_response()
        }
    };
    let path = req.uri().path().to_owned();
    let limit = state.config.body_limit_for(&route_label(&req));
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => return too_large(),
    };
    let mut h = Sha256::new();
    h.update(path.as_bytes());
    h.update([0]);
    h.update(&bytes);
    let request_hash = hex::encode(h.finalize());
    let principal = caller.principal.id.to_string();
    match state
        .store
        .idempotency_begin(&principal, &key, &request_hash)
        .await
    {
        Err(e) => return ApiError::from(e).into_response(),
        Ok(IdempotencyOutcome::Mismatch) => {
            return ApiError::new(
                ErrorCode::IdempotencyKeyMismatch,
                "this Idempotency-Key was already used with a different request",
            )
            .into_response()
        }
        Ok(IdempotencyOutcome::InProgress) => {
            return ApiError::new(
                ErrorCode::IdempotencyKeyInUse,
                "the first request is still running",
            )
            .into_response()
        }
        Ok(IdempotencyOutcome::Replay(stored)) => {
            let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
            let mut resp = (status, stored.body).into_response();
            let ct = if status.is_success() {
                "application/json"
            } else {
                "application/problem+json"
            };
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            resp.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            return resp;
        }
        Ok(IdempotencyOutcome::Proceed) => {}
    }
    let resp = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = resp.status();
    if status.is_server_error() {
        let _ = state.store.idempotency_abandon(&principal, &key).await;
        return resp;
    }
    let (rparts, rbody) = resp.into_parts();
    let rbytes = axum::body::to_bytes(rbody, 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let stored = StoredResponse {
        status: status.as_u16(),
        body: String::from_utf8_lossy(&rbytes).into_owned(),
    };
    if let Err(e) = state
        .store
        .idempotency_complete(&principal, &key, &stored)
        .await
    {
        tracing::error!(error = %e, "idempotency record failed");
    }
    Response::from_parts(rparts, Body::from(rbytes))
}

/// Strong ETags on successful GETs, and 304 for a matching `If-None-Match`.
pub async fn etag(req: Request, next: Next) -> Response {
    if req.method() != Method::GET {
        return next.run(req).await;
    }
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    let resp = next.run(req).await;
    if resp.status() != StatusCode::OK || resp.headers().contains_key(header::ETAG) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024 * 1024).await else {
        return ApiError::new(ErrorCode::Internal, "response body").into_response();
    };
    let tag = format!("\"{}\"", &hex::encode(Sha256::digest(&bytes))[..32]);
    let Ok(value) = HeaderValue::from_str(&tag) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if let Some(inm) = if_none_match.and_then(|v| v.to_str().ok().map(str::to_owned)) {
        if inm.split(',').any(|t| t.trim() == tag || t.trim() == "*") {
            let mut r = StatusCode::NOT_MODIFIED.into_response();
            r.headers_mut().insert(header::ETAG, value);
            return r;
        }
    }
    parts.headers.insert(header::ETAG, value);
    parts.headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Response::from_parts(parts, Body::from(bytes))
}
