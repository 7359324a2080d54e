//! The quota pages of the portal: the quotas of an administration's tariff and one quota as
//! of a date, with its definition, status, balance and a chart of the balance history drawn
//! as inline server-rendered SVG (presentation attributes only: the strict CSP allows no
//! inline style or script). Served anonymously on the trader gateway and to logged-in users
//! on the administration gateway. On the administration gateway an officer allowed to draw
//! (`quota.draw`: role `quota_manager`) also has a form to draw on the quota (first come,
//! first served, by the declaration's acceptance time, now by default) and one to return an unused quantity of an allocation; both
//! call the same functions as the API (`routes::quotas::allocate`, `give_back`), then show
//! the allocation (`?request=ID`).

use crate::api::ApiPath;
use crate::error::{ApiError, ErrorCode};
use crate::portal::{render, see_other, Layout};
use crate::routes::quotas::{
    allocate, balances_on, give_back, quota_summary, quota_view, AllocationRequestBody,
    QuotaPeriodView, QuotaSummary, QuotaView, ReturnBody,
};
use crate::routes::{handler, Access, Table};
use crate::state::{AppState, Caller, MaybeCaller};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use chrono::{DateTime, NaiveDate, Utc};
use portorium_kernel::{Circle, TenantCode};
use portorium_store::{Page, QuotaAllocationRow, QuotaHistoryRow};
use portorium_tariff::quotas::QuotaDefinition;
use portorium_trust::Action;
use rust_decimal::Decimal;

/// Most history points drawn (the latest ones).
const MAX_POINTS: usize = 2000;
/// Rows of the history table under the chart (the latest ones).
const TABLE_ROWS: usize = 20;

/// The quota pages of a gateway.
pub fn pages(t: Table) -> Table {
    use Access::Public;
    let c = t.circle;
    let t = t
        .page(
            "GET",
            "/tariff/{tenant}/quotas",
            Public,
            handler!(GET, move |st: State<AppState>,
                                mc: MaybeCaller,
                                p: ApiPath<String>,
                                q: RawQuery| list(
                c, st, mc, p, q
            )),
        )
        .page(
            "GET",
            "/tariff/{tenant}/quotas/{order_number}",
            Public,
            handler!(GET, move |st: State<AppState>,
                                mc: MaybeCaller,
                                p: ApiPath<(String, String)>,
                                q: RawQuery| detail(
                c, st, mc, p, q
            )),
        );
    if c != Circle::Administration {
        return t;
    }
    t.page(
        "POST",
        "/tariff/{tenant}/quotas/{order_number}/{action}",
        Public,
        handler!(POST, move |st: State<AppState>,
                             mc: MaybeCaller,
                             p: ApiPath<(String, String, String)>,
                             b: Bytes| act(
            c, st, mc, p, b
        )),
    )
}

fn layout(circle: Circle, caller: &Option<Caller>) -> Layout {
    match caller {
        Some(c) => Layout::for_caller(circle, "tariff", c),
        None => Layout::anonymous(circle, "tariff"),
    }
}

/// `?as_of=` (the only parameter), or today.
fn as_of(state: &AppState, q: &RawQuery) -> Result<(NaiveDate, bool), ApiError> {
    let value =
        q.0.as_deref()
            .map(|s| {
                form_urlencoded::parse(s.as_bytes())
                    .into_owned()
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
            .into_iter()
            .find(|(k, _)| k == "as_of")
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty());
    match value {
        Some(s) => NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .map(|d| (d, true))
            .map_err(|_| {
                ApiError::field(
                    ErrorCode::InvalidQuery,
                    "query:as_of",
                    format!(
                        "`{}` is not a date; use YYYY-MM-DD",
                        s.chars().take(40).collect::<String>()
                    ),
                )
            }),
        None => Ok((state.clock().now().date_naive(), false)),
    }
}

fn tenant_of(tenant: &str) -> Result<TenantCode, ApiError> {
    crate::api::path_param("tenant", &tenant.to_ascii_uppercase())
}

#[derive(Template)]
#[template(path = "tariff/error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    heading: String,
    detail: String,
    fields: Vec<(String, String)>,
    back: String,
    back_label: &'static str,
}

fn error_page(circle: Circle, caller: &Option<Caller>, e: ApiError, back: String) -> Response {
    let status = e.code.status();
    let (heading, detail) = if status.is_server_error() {
        (
            "Something went wrong".to_owned(),
            "The page could not be shown. Please try again later.".to_owned(),
        )
    } else if status == StatusCode::NOT_FOUND {
        ("Not found".to_owned(), e.detail.clone())
    } else {
        (e.code.title().to_owned(), e.detail.clone())
    };
    let page = ErrorPage {
        layout: layout(circle, caller),
        status: status.as_u16(),
        heading,
        detail,
        fields: e
            .errors
            .into_iter()
            .filter(|f| !status.is_server_error() && f.detail != e.detail)
            .map(|f| (f.pointer, f.detail))
            .collect(),
        back,
        back_label: "Back to the tariff",
    };
    render(&page, status, caller.is_some())
}

/// A status as shown: label and whether it is a warning.
fn status_label(s: &str) -> &'static str {
    match s {
        "open" => "Open",
        "critical" => "Critical",
        "exhausted" => "Exhausted",
        "blocked" => "Blocked",
        "suspended" => "Suspended",
        _ => "Not in period",
    }
}

fn mechanism_label(m: &str) -> &'static str {
    if m == "licensed" {
        "Licensed (no first-come-first-served drawing)"
    } else {
        "First come, first served"
    }
}

// ---- the list ----

struct Row {
    q: QuotaSummary,
    href: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "tariff/quotas.html")]
struct ListPage {
    layout: Layout,
    tenant: String,
    as_of: String,
    q: String,
    rows: Vec<Row>,
}

async fn list_page(
    state: &AppState,
    circle: Circle,
    caller: &Option<Caller>,
    tenant: &str,
    q: &RawQuery,
) -> Result<ListPage, ApiError> {
    let tenant = tenant_of(tenant)?;
    let (date, explicit) = as_of(state, q)?;
    let built = state.tariffs.get(&state.store, &tenant).await?;
    let balances = balances_on(state, &tenant, date).await?;
    let q = if explicit {
        format!("?as_of={date}")
    } else {
        String::new()
    };
    let rows = built
        .data
        .quotas
        .as_of(date)
        .map(|o| {
            let s = quota_summary(o, date, &balances);
            Row {
                href: format!("/tariff/{tenant}/quotas/{}{q}", s.order_number),
                status: status_label(&s.status),
                q: s,
            }
        })
        .collect();
    Ok(ListPage {
        layout: layout(circle, caller),
        tenant: tenant.to_string(),
        as_of: date.to_string(),
        q,
        rows,
    })
}

async fn list(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiPath(tenant): ApiPath<String>,
    q: RawQuery,
) -> Response {
    if circle == Circle::Administration && caller.is_none() {
        return see_other("/login");
    }
    match list_page(&state, circle, &caller, &tenant, &q).await {
        Ok(page) => render(&page, StatusCode::OK, caller.is_some()),
        Err(e) => error_page(circle, &caller, e, "/tariff".to_owned()),
    }
}

// ---- one quota ----

/// The balance chart: an inline SVG with presentation attributes only.
pub(crate) struct Chart {
    pub width: u32,
    pub height: u32,
    /// The step line of the balance, `x,y x,y …`.
    pub points: String,
    /// Horizontal grid lines: (y, label).
    pub grid: Vec<(String, String)>,
    /// The critical level (y), when inside the chart.
    pub critical_y: Option<String>,
    /// The as-of date (x), when inside the chart.
    pub as_of_x: Option<String>,
    /// First and last time shown.
    pub from: String,
    pub to: String,
    /// A text description for assistive technology.
    pub summary: String,
}

const LEFT: i64 = 64;
const RIGHT: i64 = 16;
const TOP: i64 = 12;
const BOTTOM: i64 = 28;

fn coord(d: Decimal) -> String {
    d.round_dp(1).normalize().to_string()
}

/// Draws `history` (oldest first) against the definition's volume, from its first point
/// to `now`.
pub(crate) fn chart(
    def: &QuotaDefinition,
    history: &[QuotaHistoryRow],
    now: DateTime<Utc>,
    as_of: NaiveDate,
) -> Chart {
    let (width, height) = (640i64, 240i64);
    let plot_w = Decimal::from(width - LEFT - RIGHT);
    let plot_h = Decimal::from(height - TOP - BOTTOM);
    let opening = def.opening_balance();
    // (time, balance) points; without history the opening balance from the start.
    let mut pts: Vec<(DateTime<Utc>, Decimal)> = history
        .iter()
        .map(|h| (h.occurred_at, h.balance_after))
        .collect();
    if pts.is_empty() {
        let start = def
            .validity
            .start
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or(now);
        pts.push((start.min(now), opening));
    }
    let t0 = pts[0].0;
    let t1 = pts
        .last()
        .map(|p| p.0)
        .unwrap_or(t0)
        .max(now)
        .max(t0 + chrono::TimeDelta::hours(1));
    let span = Decimal::from((t1 - t0).num_seconds().max(1));
    let top_value = pts
        .iter()
        .map(|p| p.1)
        .chain([def.volume, opening])
        .max()
        .unwrap_or(Decimal::ONE)
        .max(Decimal::ONE);
    let x = |t: DateTime<Utc>| {
        Decimal::from(LEFT) + plot_w * Decimal::from((t - t0).num_seconds().max(0)) / span
    };
    let y = |v: Decimal| {
        Decimal::from(TOP) + plot_h * (Decimal::ONE - v.max(Decimal::ZERO) / top_value)
    };
    let mut points = Vec::with_capacity(pts.len() * 2 + 1);
    let mut last: Option<Decimal> = None;
    for (t, v) in &pts {
        if let Some(prev) = last {
            points.push(format!("{},{}", coord(x(*t)), coord(y(prev))));
        }
        points.push(format!("{},{}", coord(x(*t)), coord(y(*v))));
        last = Some(*v);
    }
    if let Some(prev) = last {
        points.push(format!("{},{}", coord(x(t1)), coord(y(prev))));
    }
    let grid = [0u32, 25, 50, 75, 100]
        .iter()
        .map(|pct| {
            let v = top_value * Decimal::from(*pct) / Decimal::ONE_HUNDRED;
            (coord(y(v)), v.round_dp(3).normalize().to_string())
        })
        .collect();
    let critical_level = def.initial_volume
        * Decimal::from(100u32.saturating_sub(def.critical_threshold.min(100)))
        / Decimal::ONE_HUNDRED;
    let critical_y = (critical_level > Decimal::ZERO && critical_level <= top_value)
        .then(|| coord(y(critical_level)));
    let as_of_x = as_of
        .and_hms_opt(23, 59, 59)
        .map(|t| t.and_utc())
        .filter(|t| *t >= t0 && *t <= t1)
        .map(|t| coord(x(t)));
    let latest = pts.last().map(|p| p.1).unwrap_or(opening);
    Chart {
        width: width as u32,
        height: height as u32,
        points: points.join(" "),
        grid,
        critical_y,
        as_of_x,
        from: t0.format("%Y-%m-%d").to_string(),
        to: t1.format("%Y-%m-%d").to_string(),
        summary: format!(
            "Balance of quota {} from {} to {}: {} changes, from {} to {} {}.",
            def.order_number,
            t0.format("%Y-%m-%d"),
            t1.format("%Y-%m-%d"),
            history.len().saturating_sub(1),
            pts[0].1.normalize(),
            latest.normalize(),
            def.unit.code()
        ),
    }
}

struct HistoryView {
    time: String,
    delta: String,
    balance: String,
    reason: &'static str,
}

fn reason_label(r: &str) -> &'static str {
    match r {
        "opening" => "Opening balance",
        "allocation" => "Allocation",
        "return" => "Return",
        "volume_change" => "Volume change",
        _ => "Change",
    }
}

#[derive(Template)]
#[template(path = "tariff/quota.html")]
struct DetailPage {
    layout: Layout,
    tenant: String,
    as_of: String,
    q: String,
    view: QuotaView,
    status: &'static str,
    mechanism: &'static str,
    blocked: Option<QuotaPeriodView>,
    suspended: Option<QuotaPeriodView>,
    chart: Option<Chart>,
    history: Vec<HistoryView>,
    total_changes: usize,
    /// The caller may draw and return (administration gateway, `quota.draw`).
    can_draw: bool,
    csrf: String,
    /// The allocation named by `?request=` (after a draw or a return).
    allocation: Option<QuotaAllocationRow>,
    /// A refused draw or return, shown above the forms.
    error: Option<ApiError>,
}

async fn history_of(
    state: &AppState,
    tenant: &TenantCode,
    sid: u64,
) -> Result<Vec<QuotaHistoryRow>, ApiError> {
    let mut page = Page::first(Page::MAX);
    let mut all = std::collections::VecDeque::new();
    loop {
        let (rows, next) = state
            .store
            .quota_balance_history(tenant, sid, &page)
            .await?;
        for r in rows {
            if all.len() == MAX_POINTS {
                all.pop_front();
            }
            all.push_back(r);
        }
        match next {
            Some(n) => page.after = Some(n),
            None => break,
        }
    }
    Ok(all.into())
}

async fn detail_page(
    state: &AppState,
    circle: Circle,
    caller: &Option<Caller>,
    (tenant, order_number): (&str, &str),
    q: &RawQuery,
) -> Result<DetailPage, ApiError> {
    let tenant = tenant_of(tenant)?;
    let (date, explicit) = as_of(state, q)?;
    if !(order_number.len() == 6 && order_number.bytes().all(|b| b.is_ascii_digit())) {
        return Err(ApiError::field(
            ErrorCode::InvalidPath,
            "path:order_number",
            "a quota order number has six digits, e.g. 091104",
        ));
    }
    let built = state.tariffs.get(&state.store, &tenant).await?;
    let quota = built.data.quotas.find(order_number, date).ok_or_else(|| {
        ApiError::not_found(format!(
            "quota {order_number} is not in the tariff of {tenant}"
        ))
    })?;
    let balances = balances_on(state, &tenant, date).await?;
    let view = quota_view(&built, quota, date, &balances);
    let (chart, history, total) = match quota.definition_as_of(date) {
        Some(def) => {
            let rows = history_of(state, &tenant, def.sid).await?;
            let now = state.clock().now();
            let table = rows
                .iter()
                .rev()
                .take(TABLE_ROWS)
                .map(|h| HistoryView {
                    time: h.occurred_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                    delta: if h.delta > Decimal::ZERO && h.reason != "opening" {
                        format!("+{}", h.delta.normalize())
                    } else {
                        h.delta.normalize().to_string()
                    },
                    balance: h.balance_after.normalize().to_string(),
                    reason: reason_label(&h.reason),
                })
                .collect();
            (Some(chart(def, &rows, now, date)), table, rows.len())
        }
        None => (None, Vec::new(), 0),
    };
    let can_draw = circle == Circle::Administration
        && caller.as_ref().is_some_and(|c| {
            state
                .authorize(
                    c,
                    Action::QuotaDraw,
                    &crate::routes::quotas::quota_resource(&tenant, order_number),
                )
                .is_ok()
        });
    let allocation = match (caller, query_param(q, "request")) {
        (Some(c), Some(id)) if can_draw => {
            match state.store.scoped(c.scope()).quota_allocation(&id).await {
                Ok(a) if a.order_number == order_number => Some(a),
                Ok(_) | Err(portorium_store::StoreError::NotFound { .. }) => None,
                Err(e) => return Err(e.into()),
            }
        }
        _ => None,
    };
    Ok(DetailPage {
        can_draw,
        csrf: caller
            .as_ref()
            .and_then(|c| c.csrf.clone())
            .unwrap_or_default(),
        allocation,
        error: None,
        layout: layout(circle, caller),
        tenant: tenant.to_string(),
        as_of: date.to_string(),
        q: if explicit {
            format!("?as_of={date}")
        } else {
            String::new()
        },
        status: status_label(&view.status),
        mechanism: mechanism_label(&view.mechanism),
        blocked: view.blocked.as_ref().map(|p| QuotaPeriodView {
            from: p.from,
            to: p.to,
            kind: p.kind.clone(),
            description: p.description.clone(),
        }),
        suspended: view.suspended.as_ref().map(|p| QuotaPeriodView {
            from: p.from,
            to: p.to,
            kind: None,
            description: p.description.clone(),
        }),
        view,
        chart,
        history,
        total_changes: total,
    })
}

async fn detail(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiPath((tenant, order_number)): ApiPath<(String, String)>,
    q: RawQuery,
) -> Response {
    if circle == Circle::Administration && caller.is_none() {
        return see_other("/login");
    }
    let back = format!(
        "/tariff/{}/quotas",
        tenant.chars().take(4).collect::<String>()
    );
    match detail_page(&state, circle, &caller, (&tenant, &order_number), &q).await {
        Ok(page) => render(&page, StatusCode::OK, caller.is_some()),
        Err(e) => error_page(circle, &caller, e, back),
    }
    .into_response()
}

/// A query parameter (trimmed, non-empty).
fn query_param(q: &RawQuery, name: &str) -> Option<String> {
    let s = q.0.as_deref()?;
    form_urlencoded::parse(s.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A decimal form field, or a field error at `pointer`.
fn decimal_field(body: &[u8], name: &str, pointer: &str) -> Result<Decimal, ApiError> {
    let text = crate::middleware::form_field(body, name).unwrap_or_default();
    text.trim().parse::<Decimal>().map_err(|_| {
        ApiError::field(
            ErrorCode::InvalidField,
            pointer,
            format!(
                "`{}` is not a number",
                text.chars().take(40).collect::<String>()
            ),
        )
    })
}

/// The form's acceptance time (`YYYY-MM-DDTHH:MM[:SS]`, UTC), or now when it is empty.
fn acceptance_time(state: &AppState, text: &str) -> Result<DateTime<Utc>, ApiError> {
    if text.is_empty() {
        return Ok(state.clock().now());
    }
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .map(|n| n.and_utc())
        .map_err(|_| {
            ApiError::field(
                ErrorCode::InvalidField,
                "/acceptance_time",
                "a date and time (UTC) such as 2026-06-15T10:30",
            )
        })
}

/// `POST …/quotas/{order_number}/draw` or `…/return` (administration gateway): the API's
/// draw (accepted now) or return, then the quota page with the allocation; a refusal is
/// shown on the quota page with the fields' errors.
async fn act(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiPath((tenant, order_number, action)): ApiPath<(String, String, String)>,
    body: Bytes,
) -> Response {
    let Some(c) = caller.clone() else {
        return see_other("/login");
    };
    let text = |name: &str| {
        crate::middleware::form_field(&body, name)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let result: Result<String, ApiError> = async {
        let quantity = decimal_field(&body, "quantity", "/quantity");
        match action.as_str() {
            "draw" => {
                let body = AllocationRequestBody {
                    quantity: quantity?,
                    unit: text("unit"),
                    acceptance_time: acceptance_time(&state, &text("accepted_at"))?,
                    declaration_reference: Some(text("declaration_reference"))
                        .filter(|r| !r.is_empty()),
                };
                Ok(allocate(&state, &c, &tenant, &order_number, body)
                    .await?
                    .allocation
                    .id)
            }
            "return" => {
                let body = ReturnBody {
                    request_id: text("request_id"),
                    quantity: quantity?,
                };
                Ok(give_back(&state, &c, &tenant, &order_number, body)
                    .await?
                    .request_id)
            }
            _ => Err(ApiError::new(
                ErrorCode::RouteNotFound,
                "no such action on a quota: draw or return",
            )),
        }
    }
    .await;
    let back = format!(
        "/tariff/{}/quotas",
        tenant.chars().take(4).collect::<String>()
    );
    match result {
        Ok(id) => {
            let to = format!(
                "/tariff/{}/quotas/{}?request={}",
                tenant.chars().take(4).collect::<String>(),
                order_number.chars().take(6).collect::<String>(),
                form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
            );
            see_other(&to)
        }
        Err(e) if e.code.status().is_client_error() && e.code != ErrorCode::RouteNotFound => {
            let status = e.code.status();
            match detail_page(
                &state,
                circle,
                &caller,
                (&tenant, &order_number),
                &RawQuery(None),
            )
            .await
            {
                Ok(mut page) => {
                    page.error = Some(e);
                    render(&page, status, true)
                }
                Err(other) => error_page(circle, &caller, other, back),
            }
        }
        Err(e) => error_page(circle, &caller, e, back),
    }
    .into_response()
}
