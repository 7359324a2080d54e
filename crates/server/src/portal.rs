//! Portal pages: server-rendered HTML (askama templates, a touch of htmx) on the trader and
//! administration gateways. The same handlers serve both; each learns its gateway's circle when
//! registered. Logins are per gateway: a principal may only log in on its own circle's portal.
//!
//! Security notes:
//! - the login form is protected by a double-submit CSRF cookie (`portorium_login_csrf`);
//!   after login, the authentication middleware enforces the session's CSRF token on every
//!   unsafe request (the `csrf_token` form field, or the `x-csrf-token` header htmx sends from
//!   the `hx-headers` attribute on `<body>`);
//! - a failed login says nothing about which part was wrong, and a password is checked (against
//!   a dummy hash) even for an unknown principal so timing does not reveal which exist;
//! - every HTML response carries a strict Content-Security-Policy (no inline script or style),
//!   `X-Frame-Options: DENY` and `nosniff`; pages of a logged-in user are `no-store`.

use crate::error::{ApiError, ErrorCode};
use crate::middleware::{cookie, form_field, session_cookie, AttemptedPrincipal};
use crate::routes::{handler, Access, Table};
use crate::state::{AppState, AuthMethod, Authn, Caller, MaybeCaller};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use portorium_kernel::{Circle, PrincipalId, PrincipalKind};
use portorium_store::{Page, PrincipalRow, StoreError};
use portorium_trust::{Action, Resource, ResourceKind};
use std::sync::OnceLock;

/// The pre-login double-submit CSRF cookie.
pub const LOGIN_CSRF_COOKIE: &str = "portorium_login_csrf";
/// How long a login form stays valid.
const LOGIN_CSRF_MAX_AGE: u64 = 30 * 60;
/// Longest password considered (longer ones are refused without hashing).
const MAX_PASSWORD_LEN: usize = 1024;
/// Rows shown per home-page table.
const HOME_ROWS: usize = 20;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
                   object-src 'none'";

const HTMX_JS: &[u8] = include_bytes!("../assets/htmx.min.js");
const PORTAL_CSS: &[u8] = include_bytes!("../assets/portorium.css");

/// Portal pages of the trader gateway.
pub fn trader_pages(t: Table) -> Table {
    pages(t)
}

/// Portal pages of the administration gateway.
pub fn admin_pages(t: Table) -> Table {
    pages(t)
}

fn pages(t: Table) -> Table {
    use Access::{Authenticated as Auth, Public};
    let c = t.circle;
    t.page("GET", "/assets/{name}", Public, handler!(GET, asset))
        .page("GET", "/", Public, handler!(GET, root))
        .page(
            "GET",
            "/login",
            Public,
            handler!(GET, move |st: State<AppState>, mc: MaybeCaller| login_form(
                c, st, mc
            )),
        )
        .page(
            "POST",
            "/login",
            Public,
            handler!(POST, move |st: State<AppState>,
                                 h: HeaderMap,
                                 mc: MaybeCaller,
                                 b: Bytes| {
                login_submit(c, st, h, mc, b)
            }),
        )
        .page(
            "POST",
            "/logout",
            Auth,
            handler!(POST, move |st: State<AppState>,
                                 h: HeaderMap,
                                 mc: MaybeCaller| {
                logout(c, st, h, mc)
            }),
        )
        .page(
            "GET",
            "/home",
            Public,
            handler!(GET, move |st: State<AppState>, mc: MaybeCaller| home(
                c, st, mc
            )),
        )
        .page(
            "GET",
            "/home/messages",
            Auth,
            handler!(GET, move |st: State<AppState>, mc: MaybeCaller| {
                home_messages(c, st, mc)
            }),
        )
}

// ---------------------------------------------------------------------------------------------
// Responses

fn set(resp: &mut Response, name: HeaderName, value: &'static str) {
    resp.headers_mut()
        .insert(name, HeaderValue::from_static(value));
}

/// An HTML response with the portal's security headers.
fn html(status: StatusCode, body: String, private: bool) -> Response {
    let mut resp = (status, body).into_response();
    set(&mut resp, header::CONTENT_TYPE, "text/html; charset=utf-8");
    set(&mut resp, header::CONTENT_SECURITY_POLICY, CSP);
    set(&mut resp, header::X_FRAME_OPTIONS, "DENY");
    set(&mut resp, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(&mut resp, header::REFERRER_POLICY, "no-referrer");
    set(
        &mut resp,
        header::CACHE_CONTROL,
        if private { "no-store" } else { "no-cache" },
    );
    resp
}

pub(crate) fn render(t: &impl Template, status: StatusCode, private: bool) -> Response {
    match t.render() {
        Ok(body) => html(status, body, private),
        Err(e) => {
            tracing::error!(error = %e, "portal template failed");
            ApiError::new(ErrorCode::Internal, "internal error; see the server log").into_response()
        }
    }
}

/// A URL-encoded form (a POST body or a query string), parsed once.
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    pub(crate) fn parse(bytes: &[u8]) -> Form {
        Form(
            form_urlencoded::parse(bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The value of the first field `name`, trimmed; empty when there is none.
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// Whether some field's name starts with `prefix`.
    pub(crate) fn has_prefix(&self, prefix: &str) -> bool {
        self.0.iter().any(|(k, _)| k.starts_with(prefix))
    }
}

/// A 303 to `to` (a path of the portal), not cached.
pub(crate) fn see_other(to: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    set(&mut resp, header::CACHE_CONTROL, "no-store");
    resp
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Secure when configured.
fn cookie_value(
    name: &str,
    value: &str,
    path: &str,
    max_age: u64,
    secure: bool,
) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .ok()
}

fn add_cookie(resp: &mut Response, value: Option<HeaderValue>) {
    if let Some(v) = value {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

// ---------------------------------------------------------------------------------------------
// Assets

async fn asset(Path(name): Path<String>) -> Response {
    let (body, content_type): (&'static [u8], &'static str) = match name.as_str() {
        "htmx.min.js" => (HTMX_JS, "text/javascript; charset=utf-8"),
        "portorium.css" => (PORTAL_CSS, "text/css; charset=utf-8"),
        _ => return ApiError::not_found("no such asset").into_response(),
    };
    let mut resp = (StatusCode::OK, body).into_response();
    set(&mut resp, header::CONTENT_TYPE, content_type);
    set(&mut resp, header::CACHE_CONTROL, "public, max-age=86400");
    set(&mut resp, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    resp
}

// ---------------------------------------------------------------------------------------------
// Views

fn gateway_name(c: Circle) -> &'static str {
    match c {
        Circle::Trader => "Trader",
        Circle::Administration => "Administration",
        Circle::Operations => "Operations",
    }
}

fn kind_label(k: PrincipalKind) -> &'static str {
    match k {
        PrincipalKind::Trader => "Trader",
        PrincipalKind::Officer => "Customs officer",
        PrincipalKind::Agency => "Agency user",
        PrincipalKind::System => "National system",
        PrincipalKind::Security => "Security officer",
        PrincipalKind::Operator => "Platform operator",
    }
}

pub(crate) struct UserView {
    pub(crate) name: String,
    pub(crate) id: String,
    pub(crate) csrf: String,
}

pub(crate) struct Layout {
    pub(crate) gateway: &'static str,
    pub(crate) page: &'static str,
    pub(crate) user: Option<UserView>,
    /// `{"x-csrf-token": "…"}` for htmx requests of a logged-in user.
    pub(crate) hx_headers: Option<String>,
}

impl Layout {
    pub(crate) fn anonymous(circle: Circle, page: &'static str) -> Self {
        Self {
            gateway: gateway_name(circle),
            page,
            user: None,
            hx_headers: None,
        }
    }

    pub(crate) fn for_caller(circle: Circle, page: &'static str, caller: &Caller) -> Self {
        let csrf = caller.csrf.clone().unwrap_or_default();
        let hx_headers =
            (!csrf.is_empty()).then(|| serde_json::json!({ "x-csrf-token": csrf }).to_string());
        Self {
            gateway: gateway_name(circle),
            page,
            user: Some(UserView {
                name: caller.principal.display_name.clone(),
                id: caller.principal.id.to_string(),
                csrf,
            }),
            hx_headers,
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    intro: &'static str,
    example: &'static str,
    csrf: String,
    principal: String,
    error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    layout: Layout,
    heading: &'static str,
    text: &'static str,
}

struct ProfileView {
    name: String,
    id: String,
    kind: &'static str,
    roles: Vec<String>,
    office: Option<String>,
}

struct TraderView {
    name: String,
    eori: String,
    registered_by: String,
    since: String,
}

struct TenantView {
    name: String,
    code: String,
    currency: String,
}

struct OfficeView {
    reference: String,
    name: String,
    tenant: String,
}

struct MessageView {
    created: String,
    subject: String,
    body: String,
    sender: String,
    addressee: String,
}

struct AuditView {
    seq: u64,
    time: String,
    principal: String,
    action: String,
    resource: String,
    outcome: &'static str,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    profile: ProfileView,
    lede: &'static str,
    trader: Option<TraderView>,
    tenant: Option<TenantView>,
    offices: Option<Vec<OfficeView>>,
    messages: Option<Vec<MessageView>>,
    caption: &'static str,
    refreshed_at: String,
    audit: Option<Vec<AuditView>>,
    audit_note: String,
}

#[derive(Template)]
#[template(path = "messages.html")]
struct MessagesFragment {
    messages: Vec<MessageView>,
    caption: &'static str,
    refreshed_at: String,
}

// ---------------------------------------------------------------------------------------------
// Pages

async fn root(MaybeCaller(caller): MaybeCaller) -> Response {
    if caller.is_some() {
        see_other("/home")
    } else {
        see_other("/login")
    }
}

fn login_page(
    state: &AppState,
    circle: Circle,
    status: StatusCode,
    principal: String,
    error: Option<&'static str>,
) -> Response {
    let csrf = portorium_trust::generate_csrf_token(&mut rand::rngs::OsRng);
    let (intro, example) = match circle {
        Circle::Trader => (
            "Traders log in here with their EORI-based principal id.",
            "trader:NL000000001",
        ),
        _ => (
            "Customs officers, agency users and security officers log in here.",
            "officer:NL/jdevries",
        ),
    };
    let page = LoginPage {
        layout: Layout::anonymous(circle, "login"),
        intro,
        example,
        csrf: csrf.clone(),
        principal,
        error,
    };
    let mut resp = render(&page, status, true);
    if resp.status() == status {
        let c = cookie_value(
            LOGIN_CSRF_COOKIE,
            &csrf,
            "/login",
            LOGIN_CSRF_MAX_AGE,
            state.config.cookie_secure,
        );
        add_cookie(&mut resp, c);
    }
    resp
}

async fn login_form(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Response {
    if caller.is_some() {
        return see_other("/home");
    }
    login_page(&state, circle, StatusCode::OK, String::new(), None)
}

const LOGIN_FAILED: &str =
    "The principal id or password is not correct, or this account cannot log in here.";
const LOGIN_LOCKED: &str = "Too many failed logins for this user. Please try again in 15 minutes.";
const LOGIN_EXPIRED: &str = "The login form has expired. Please try again.";

/// A syntactically valid argon2 hash that no password matches in practice, checked when the
/// principal is unknown so that a failed login costs the same either way.
fn dummy_hash() -> Option<&'static str> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| {
            portorium_trust::hash_password("portorium-no-such-principal", [7u8; 16]).ok()
        })
        .as_deref()
}

async fn check_password(password: String, hash: Option<String>) -> bool {
    let Some(hash) = hash.or_else(|| dummy_hash().map(str::to_owned)) else {
        return false;
    };
    tokio::task::spawn_blocking(move || portorium_trust::verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

/// The principal if the credentials are right and it may log in on this gateway.
async fn authenticate_login(
    state: &AppState,
    circle: Circle,
    principal: &str,
    password: String,
) -> Result<Option<PrincipalRow>, ApiError> {
    let id: Option<PrincipalId> = principal.parse().ok();
    let found = match &id {
        Some(id) => state.store.principal_for_login(id).await?,
        None => None,
    };
    let (row, hash) = match found {
        Some((row, hash)) => (Some(row), Some(hash)),
        None => (None, None),
    };
    let real_hash = hash.is_some();
    let password_ok = password.len() <= MAX_PASSWORD_LEN
        && !password.is_empty()
        && check_password(password, hash).await;
    Ok(row.filter(|r| real_hash && password_ok && !r.disabled && r.kind.circle() == circle))
}

async fn login_submit(
    circle: Circle,
    State(state): State<AppState>,
    headers: HeaderMap,
    MaybeCaller(caller): MaybeCaller,
    body: Bytes,
) -> Response {
    let principal = form_field(&body, "principal")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let form_csrf = form_field(&body, "csrf_token").unwrap_or_default();
    let cookie_csrf = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    // A logged-in user re-submitting the form has passed the session CSRF check instead.
    let csrf_ok = portorium_trust::csrf_matches(&form_csrf, cookie_csrf)
        || caller
            .as_ref()
            .is_some_and(|c| c.via == AuthMethod::Session);
    if !csrf_ok {
        return login_page(
            &state,
            circle,
            StatusCode::FORBIDDEN,
            principal,
            Some(LOGIN_EXPIRED),
        );
    }
    let password = form_field(&body, "password").unwrap_or_default();
    let attempted: String = principal.chars().take(80).collect();
    if state.logins.locked(&attempted).is_some() {
        let mut resp = login_page(
            &state,
            circle,
            StatusCode::TOO_MANY_REQUESTS,
            principal,
            Some(LOGIN_LOCKED),
        );
        resp.extensions_mut().insert(AttemptedPrincipal(attempted));
        return resp;
    }
    let row = match authenticate_login(&state, circle, &principal, password).await {
        Ok(Some(row)) => {
            state.logins.succeeded(&attempted);
            row
        }
        Ok(None) => {
            state.logins.failed(&attempted);
            let mut resp = login_page(
                &state,
                circle,
                StatusCode::UNAUTHORIZED,
                principal,
                Some(LOGIN_FAILED),
            );
            resp.extensions_mut().insert(AttemptedPrincipal(attempted));
            return resp;
        }
        Err(e) => return e.into_response(),
    };
    let session_id = portorium_trust::generate_session_id(&mut rand::rngs::OsRng);
    let csrf = portorium_trust::generate_csrf_token(&mut rand::rngs::OsRng);
    let ttl = state.config.session_ttl;
    let expires_at = state.clock().now()
        + chrono::TimeDelta::from_std(ttl).unwrap_or(chrono::TimeDelta::hours(8));
    // Replace, not add to, a session this browser already had.
    if let Some(old) = cookie(&headers, session_cookie(circle)) {
        if let Err(e) = state
            .store
            .delete_session(&portorium_trust::token_hash(old))
            .await
        {
            return ApiError::from(e).into_response();
        }
    }
    if let Err(e) = state
        .store
        .create_session(
            &portorium_trust::token_hash(&session_id),
            &row.id,
            circle,
            &csrf,
            expires_at,
        )
        .await
    {
        return ApiError::from(e).into_response();
    }
    let secure = state.config.cookie_secure;
    let mut resp = see_other("/home");
    // The audit trail records the login under the principal who logged in.
    resp.extensions_mut().insert(Authn(Some(Caller {
        principal: row.clone(),
        circle,
        via: AuthMethod::Session,
        csrf: None,
    })));
    add_cookie(
        &mut resp,
        cookie_value(
            session_cookie(circle),
            &session_id,
            "/",
            ttl.as_secs(),
            secure,
        ),
    );
    add_cookie(
        &mut resp,
        cookie_value(LOGIN_CSRF_COOKIE, "", "/login", 0, secure),
    );
    resp
}

async fn logout(
    circle: Circle,
    State(state): State<AppState>,
    headers: HeaderMap,
    MaybeCaller(caller): MaybeCaller,
) -> Response {
    let secure = state.config.cookie_secure;
    let expire = cookie_value(session_cookie(circle), "", "/", 0, secure);
    let Some(caller) = caller else {
        let page = MessagePage {
            layout: Layout::anonymous(circle, "logout"),
            heading: "You are not logged in",
            text: "Your session has ended or was never started.",
        };
        let mut resp = render(&page, StatusCode::UNAUTHORIZED, true);
        add_cookie(&mut resp, expire);
        return resp;
    };
    if caller.via == AuthMethod::Session {
        if let Some(sid) = cookie(&headers, session_cookie(circle)) {
            if let Err(e) = state
                .store
                .delete_session(&portorium_trust::token_hash(sid))
                .await
            {
                return ApiError::from(e).into_response();
            }
        }
    }
    let mut resp = see_other("/login");
    add_cookie(&mut resp, expire);
    resp
}

// ---------------------------------------------------------------------------------------------
// Home

fn permits(state: &AppState, caller: &Caller, action: Action, resource: &Resource) -> bool {
    state
        .pdp
        .decide(&caller.subject(), action, resource)
        .allowed
}

fn own_tenant_resource(caller: &Caller, kind: ResourceKind) -> Resource {
    let r = Resource::new(kind, "*");
    match caller.principal.id.tenant() {
        Some(t) => r.in_tenant(t.clone()),
        None => r,
    }
}

fn not_found_is_none<T>(r: Result<T, StoreError>) -> Result<Option<T>, ApiError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn fmt_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn messages_caption(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::Trader => "Messages to you",
        PrincipalKind::Agency => "Messages to your agency",
        _ => "Messages sent by your administration",
    }
}

/// The caller's latest messages, newest first, if it may read messages.
async fn latest_messages(
    state: &AppState,
    caller: &Caller,
) -> Result<Option<Vec<MessageView>>, ApiError> {
    let mut res = own_tenant_resource(caller, ResourceKind::Message);
    if let Some(a) = caller.scope().addressee() {
        res = res.addressed_to(a);
    }
    if !permits(state, caller, Action::MessageRead, &res) {
        return Ok(None);
    }
    // The store pages oldest first; walk (boundedly) to the end and keep the tail.
    let scoped = state.store.scoped(caller.scope());
    let mut page = Page {
        limit: Page::MAX,
        after: None,
    };
    let mut tail = std::collections::VecDeque::with_capacity(HOME_ROWS);
    for _ in 0..20 {
        let (rows, next) = scoped.list_messages(&page).await?;
        for m in rows {
            if tail.len() == HOME_ROWS {
                tail.pop_front();
            }
            tail.push_back(m);
        }
        match next {
            Some(n) => page.after = Some(n),
            None => break,
        }
    }
    Ok(Some(
        tail.into_iter()
            .rev()
            .map(|m| MessageView {
                created: fmt_time(&m.created_at),
                subject: m.subject,
                body: m.body,
                sender: m.sender,
                addressee: m.addressee,
            })
            .collect(),
    ))
}

/// The latest audit entries of the caller's scope, newest first, if it may read them: those
/// among the last 2,000 entries of the log.
async fn latest_audit(
    state: &AppState,
    caller: &Caller,
) -> Result<Option<Vec<AuditView>>, ApiError> {
    const WINDOW: u64 = 2000;
    if !permits(
        state,
        caller,
        Action::AuditRead,
        &own_tenant_resource(caller, ResourceKind::AuditLog),
    ) {
        return Ok(None);
    }
    let (size, _) = state.audit.head().await?;
    let mut page = Page {
        limit: Page::MAX,
        after: (size > WINDOW).then(|| (size - WINDOW - 1).to_string()),
    };
    let scoped = state.store.scoped(caller.scope());
    let mut tail = std::collections::VecDeque::with_capacity(HOME_ROWS);
    for _ in 0..(WINDOW / u64::from(Page::MAX) + 2) {
        let (rows, next) = match scoped.audit_entries(&state.audit, &page).await {
            Ok(r) => r,
            Err(StoreError::OutOfScope(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        for e in rows {
            if tail.len() == HOME_ROWS {
                tail.pop_front();
            }
            tail.push_back(e);
        }
        match next {
            Some(n) => page.after = Some(n),
            None => break,
        }
    }
    Ok(Some(
        tail.into_iter()
            .rev()
            .map(|e| AuditView {
                seq: e.seq,
                time: e.time.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                principal: e.principal.unwrap_or_else(|| "—".into()),
                action: e.action,
                resource: e.resource,
                outcome: e.outcome.as_str(),
            })
            .collect(),
    ))
}

async fn home_page(
    circle: Circle,
    state: &AppState,
    caller: &Caller,
) -> Result<HomePage, ApiError> {
    let p = &caller.principal;
    let kind = p.kind;
    let scoped = state.store.scoped(caller.scope());

    let trader = match &p.id {
        PrincipalId::Trader(eori) => match not_found_is_none(scoped.get_trader(eori).await)? {
            Some(t) => {
                let res = Resource::new(ResourceKind::TraderRecord, eori.as_str())
                    .in_tenant(t.registered_by.clone())
                    .owned_by(p.id.clone());
                permits(state, caller, Action::TraderRead, &res).then(|| TraderView {
                    name: t.name,
                    eori: t.eori.to_string(),
                    registered_by: t.registered_by.to_string(),
                    since: t.created_at.format("%Y-%m-%d").to_string(),
                })
            }
            None => None,
        },
        _ => None,
    };

    let tenant_readable = p.id.tenant().is_some()
        && permits(
            state,
            caller,
            Action::TenantRead,
            &own_tenant_resource(caller, ResourceKind::Office),
        );
    let tenant = if tenant_readable {
        not_found_is_none(scoped.own_tenant().await)?.map(|t| TenantView {
            name: t.name,
            code: t.code.to_string(),
            currency: t.currency.to_string(),
        })
    } else {
        None
    };

    let offices = if tenant_readable && kind == PrincipalKind::Officer {
        let (rows, _) = scoped.list_offices(&Page::first(Page::MAX)).await?;
        Some(
            rows.into_iter()
                .map(|o| OfficeView {
                    reference: o.reference.to_string(),
                    name: o.name,
                    tenant: o.tenant.to_string(),
                })
                .collect(),
        )
    } else {
        None
    };

    let messages = match kind {
        PrincipalKind::Trader | PrincipalKind::Officer | PrincipalKind::Agency => {
            latest_messages(state, caller).await?
        }
        _ => None,
    };

    let audit = if kind == PrincipalKind::Security {
        latest_audit(state, caller).await?
    } else {
        None
    };

    let lede = match kind {
        PrincipalKind::Trader => "Your registration and the messages customs have sent you.",
        PrincipalKind::Officer => {
            "Your administration, its customs offices and the messages it has sent."
        }
        PrincipalKind::Agency => "Messages your administration has addressed to your agency.",
        PrincipalKind::Security => "Recent activity recorded in the audit log of your scope.",
        PrincipalKind::System | PrincipalKind::Operator => "This account has no portal functions.",
    };
    let audit_note = match p.id.tenant() {
        Some(t) => format!("Administration {t}, newest first"),
        None => "All administrations, newest first".to_owned(),
    };

    Ok(HomePage {
        layout: Layout::for_caller(circle, "home", caller),
        profile: ProfileView {
            name: p.display_name.clone(),
            id: p.id.to_string(),
            kind: kind_label(kind),
            roles: p.roles.clone(),
            office: p.office.as_ref().map(|o| o.to_string()),
        },
        lede,
        trader,
        tenant,
        offices,
        messages,
        caption: messages_caption(kind),
        refreshed_at: state
            .clock()
            .now()
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
        audit,
        audit_note,
    })
}

async fn home(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Response {
    let Some(caller) = caller else {
        return see_other("/login");
    };
    match home_page(circle, &state, &caller).await {
        Ok(page) => render(&page, StatusCode::OK, true),
        Err(e) => e.into_response(),
    }
}

/// The messages table alone, for the htmx "Refresh" button.
async fn home_messages(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Response {
    let Some(caller) = caller else {
        let page = MessagePage {
            layout: Layout::anonymous(circle, "home"),
            heading: "You are not logged in",
            text: "Your session has ended. Please log in again.",
        };
        let mut resp = render(&page, StatusCode::UNAUTHORIZED, true);
        // htmx follows this instead of swapping the error in.
        set(&mut resp, HeaderName::from_static("hx-redirect"), "/login");
        return resp;
    };
    let messages = match latest_messages(&state, &caller).await {
        Ok(Some(m)) => m,
        Ok(None) => {
            return ApiError::forbidden("this principal may not read messages").into_response()
        }
        Err(e) => return e.into_response(),
    };
    let fragment = MessagesFragment {
        messages,
        caption: messages_caption(caller.principal.kind),
        refreshed_at: state
            .clock()
            .now()
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
    };
    render(&fragment, StatusCode::OK, true)
}
