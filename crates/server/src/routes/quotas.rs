//! Tariff quotas of an administration: the list and one quota as of a date (public on the
//! trader gateway, authenticated on the administration gateway), and on the administration
//! gateway first-come-first-served drawing, returns, surveillance records and the balance
//! history.
//!
//! The definition drawn on is the one in force on the declaration's acceptance date (UTC).
//! The FCFS decision is the tariff crate's pure `quotas::draw`, taken inside the store's
//! drawing transaction under the balance row's lock, so concurrent requests never
//! over-allocate (see `portorium_store::quotas`). A refusal because of the quota's state
//! (licensed, not in period, suspended, blocked, exhausted) is a 409 `quota_unavailable`
//! whose detail says which; a bad body is a 400 naming the field.

use crate::api::{path_param, ApiJson, ApiPath, ApiQuery, PageQuery, Paged};
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::routes::tariff_browse::parse_as_of;
use crate::state::{AppState, Caller};
use crate::tariff::Built;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use portorium_kernel::TenantCode;
use portorium_store::{
    NewAllocationRequest, NewSurveillance, QuotaAllocationRow, QuotaHistoryRow, QuotaOpening,
    QuotaReturnRow, QuotaSurveillanceRow,
};
use portorium_tariff::quotas::{
    credit_return, draw, status, AllocationRequest, QuotaDefinition, QuotaEvent, QuotaEventKind,
    QuotaOrderNumber, QuotaStatus, Refusal, ReturnRefusal,
};
use portorium_trust::{Action, Resource, ResourceKind};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// An origin of a quota.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QuotaOriginView {
    #[schema(example = "1011")]
    pub area: String,
    pub description: Option<String>,
    pub excluded_areas: Vec<String>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

/// A blocking or suspension period.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QuotaPeriodView {
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    /// The blocking period type (1–8); absent for suspensions.
    pub kind: Option<String>,
    pub description: Option<String>,
}

/// A quota definition (one period of the order number).
#[derive(Serialize, utoipa::ToSchema)]
pub struct QuotaDefinitionView {
    pub sid: u64,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    #[schema(value_type = String, example = "1000.000")]
    pub volume: Decimal,
    #[schema(value_type = String)]
    pub initial_volume: Decimal,
    /// The unit as one code: measurement unit and qualifier (`TNE`, `KGMI`) or currency.
    #[schema(example = "TNE")]
    pub unit: String,
    pub maximum_precision: u32,
    /// Critical once this percentage of the initial volume is used.
    pub critical_threshold: u32,
    /// Flagged critical from the start.
    pub critical_state: bool,
    pub description: Option<String>,
    pub blocking_periods: Vec<QuotaPeriodView>,
    pub suspension_periods: Vec<QuotaPeriodView>,
    /// The TARIC quota events other than balance events, oldest first, as published
    /// (informative: drawing works from the balance events and this administration's own
    /// drawings).
    pub events: Vec<QuotaEventView>,
    /// The definition's sub-quotas (TARIC `quota.association`).
    pub sub_quotas: Vec<SubQuotaView>,
}

/// A TARIC quota event.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QuotaEventView {
    /// `critical`, `exhaustion`, `reopening`, `unblocking`, `unsuspension` or
    /// `closed_and_transferred`.
    #[schema(example = "exhaustion")]
    pub event: &'static str,
    pub occurred_at: chrono::NaiveDateTime,
    /// The date it takes effect (a critical event's change date, when given).
    pub date: Option<NaiveDate>,
    /// A critical event: critical (`true`) or no longer (`false`); a closed-and-transferred
    /// event: whether the definition was closed.
    pub state: Option<bool>,
    /// A closed-and-transferred event: the amount moved and the definition it went to.
    #[schema(value_type = Option<String>)]
    pub transferred_amount: Option<Decimal>,
    pub target_definition_sid: Option<u64>,
}

/// A sub-quota of a definition.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SubQuotaView {
    pub sub_definition_sid: u64,
    /// `EQ` (equivalent) or `NM` (normal, with a coefficient).
    pub relation: String,
    #[schema(value_type = Option<String>)]
    pub coefficient: Option<Decimal>,
}

fn event_view(e: &QuotaEvent) -> QuotaEventView {
    let mut v = QuotaEventView {
        event: e.kind.name(),
        occurred_at: e.occurred_at,
        date: None,
        state: None,
        transferred_amount: None,
        target_definition_sid: None,
    };
    match &e.kind {
        QuotaEventKind::Critical {
            critical,
            change_date,
        } => {
            v.state = Some(*critical);
            v.date = *change_date;
        }
        QuotaEventKind::Exhaustion { date }
        | QuotaEventKind::Reopening { date }
        | QuotaEventKind::Unblocking { date }
        | QuotaEventKind::Unsuspension { date } => v.date = Some(*date),
        QuotaEventKind::ClosedAndTransferred {
            date,
            closed,
            transferred_amount,
            target_definition_sid,
        } => {
            v.date = Some(*date);
            v.state = Some(*closed);
            v.transferred_amount = Some(*transferred_amount);
            v.target_definition_sid = Some(*target_definition_sid);
        }
    }
    v
}

/// A quota as of a date.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QuotaView {
    pub tenant: String,
    #[schema(example = "091104")]
    pub order_number: String,
    /// `fcfs` or `licensed` (no FCFS drawing).
    pub mechanism: String,
    pub as_of: NaiveDate,
    /// `open`, `critical`, `exhausted`, `blocked`, `suspended` or `not_in_period`.
    pub status: String,
    pub critical: bool,
    pub exhausted: bool,
    /// The blocking period in force on the date.
    pub blocked: Option<QuotaPeriodView>,
    /// The suspension period in force on the date.
    pub suspended: Option<QuotaPeriodView>,
    /// The origins applying on the date.
    pub origins: Vec<QuotaOriginView>,
    /// The definition in force on the date.
    pub definition: Option<QuotaDefinitionView>,
    /// The balance of that definition at the end of the date (today: now).
    #[schema(value_type = Option<String>)]
    pub balance: Option<Decimal>,
    /// Every definition of the order number, by start.
    pub definitions: Vec<QuotaDefinitionView>,
}

/// A quota in the list.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QuotaSummary {
    pub order_number: String,
    pub mechanism: String,
    pub status: String,
    pub definition_sid: Option<u64>,
    #[schema(value_type = Option<String>)]
    pub volume: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub balance: Option<Decimal>,
    pub unit: Option<String>,
    /// Origin areas on the date.
    pub origins: Vec<String>,
}

/// The quotas of an administration's tariff as of a date.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QuotaListView {
    pub tenant: String,
    pub as_of: NaiveDate,
    pub quotas: Vec<QuotaSummary>,
}

/// `?as_of=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QuotaQuery {
    /// The date, `YYYY-MM-DD` (default today).
    pub as_of: Option<String>,
}

/// `?as_of=&limit=&cursor=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Selects the definition in force on this date, `YYYY-MM-DD` (default today).
    pub as_of: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A request to draw on the quota.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocationRequestBody {
    #[schema(value_type = String, example = "25.5")]
    pub quantity: Decimal,
    /// The definition's unit (`TNE`, `KGMI`, `EUR`…).
    #[schema(example = "TNE")]
    pub unit: String,
    /// When the declaration was accepted (RFC 3339).
    pub acceptance_time: DateTime<Utc>,
    #[schema(example = "26NL0000000000001")]
    pub declaration_reference: Option<String>,
}

/// An allocation with the quota's state after it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AllocationView {
    pub allocation: QuotaAllocationRow,
    /// The quota's status on the acceptance date after the allocation.
    pub quota_status: String,
}

/// A return of an unused quantity.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnBody {
    /// The allocation request's id.
    pub request_id: String,
    #[schema(value_type = String, example = "5")]
    pub quantity: Decimal,
}

/// An imported quantity for statistics.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveillanceBody {
    #[schema(value_type = String, example = "12.5")]
    pub quantity: Decimal,
    #[schema(example = "TNE")]
    pub unit: String,
    /// The day the goods were imported (released).
    pub imported_on: NaiveDate,
    pub declaration_reference: Option<String>,
}

/// The surveillance records of an order number with their total per unit.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SurveillanceView {
    pub order_number: String,
    pub records: Vec<QuotaSurveillanceRow>,
    /// Unit → total imported.
    #[schema(value_type = Object)]
    pub totals: std::collections::BTreeMap<String, String>,
}

// ---- helpers ----

fn order_param(order_number: &str) -> ApiResult<String> {
    if order_number.len() == 6 && order_number.bytes().all(|b| b.is_ascii_digit()) {
        Ok(order_number.to_owned())
    } else {
        Err(ApiError::field(
            ErrorCode::InvalidPath,
            "path:order_number",
            "must be a six-digit quota order number, e.g. 091104",
        ))
    }
}

fn period(
    p: &portorium_tariff::measures::Validity,
    kind: Option<&str>,
    description: &Option<String>,
) -> QuotaPeriodView {
    QuotaPeriodView {
        from: p.start,
        to: p.end,
        kind: kind.map(str::to_owned),
        description: description.clone(),
    }
}

fn definition_view(d: &QuotaDefinition) -> QuotaDefinitionView {
    QuotaDefinitionView {
        sid: d.sid,
        valid_from: d.validity.start,
        valid_to: d.validity.end,
        volume: d.volume,
        initial_volume: d.initial_volume,
        unit: d.unit.code(),
        maximum_precision: d.maximum_precision,
        critical_threshold: d.critical_threshold,
        critical_state: d.critical,
        description: d.description.clone(),
        blocking_periods: d
            .blocking_periods
            .iter()
            .map(|b| period(&b.period, Some(&b.kind), &b.description))
            .collect(),
        suspension_periods: d
            .suspension_periods
            .iter()
            .map(|s| period(&s.period, None, &s.description))
            .collect(),
        events: d.events.iter().map(event_view).collect(),
        sub_quotas: d
            .sub_quotas
            .iter()
            .map(|a| SubQuotaView {
                sub_definition_sid: a.sub_definition_sid,
                relation: a.relation.clone(),
                coefficient: a.coefficient,
            })
            .collect(),
    }
}

/// Stored balances by definition sid: (balance, the volume it was drawn against) now, or
/// (balance at the end of the date, none) for a past date.
pub(crate) type Balances = HashMap<u64, (Decimal, Option<Decimal>)>;

pub(crate) async fn balances_on(
    state: &AppState,
    tenant: &TenantCode,
    date: NaiveDate,
) -> ApiResult<Balances> {
    let today = state.clock().now().date_naive();
    if date >= today {
        Ok(state
            .store
            .quota_balances(tenant)
            .await?
            .into_iter()
            .map(|r| (r.definition_sid, (r.balance, Some(r.volume))))
            .collect())
    } else {
        let end = date
            .succ_opt()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
            .unwrap_or_else(|| state.clock().now() - TimeDelta::days(1));
        Ok(state
            .store
            .quota_balances_before(tenant, end)
            .await?
            .into_iter()
            .map(|(sid, b)| (sid, (b, None)))
            .collect())
    }
}

/// The balance of `d` from the stored balances: a definition never drawn on has its
/// opening balance; a volume changed by the tariff since moves the balance by the
/// difference (as the next drawing will record).
pub(crate) fn balance_of(d: &QuotaDefinition, balances: &Balances) -> Decimal {
    match balances.get(&d.sid) {
        Some((b, Some(v))) if *v != d.volume => (*b + d.volume - *v).max(Decimal::ZERO),
        Some((b, _)) => *b,
        None => d.opening_balance(),
    }
}

/// Everything a quota page or response shows.
pub(crate) fn quota_view(
    built: &Built,
    q: &QuotaOrderNumber,
    date: NaiveDate,
    balances: &Balances,
) -> QuotaView {
    let def = q.definition_as_of(date);
    let balance = def.map(|d| balance_of(d, balances));
    let st = status(def, balance.unwrap_or(Decimal::ZERO), date);
    QuotaView {
        tenant: built.tenant.to_string(),
        order_number: q.id.clone(),
        mechanism: q.mechanism.as_str().to_owned(),
        as_of: date,
        status: st.as_str().to_owned(),
        critical: st == QuotaStatus::Critical
            || matches!((def, balance), (Some(d), Some(b)) if b > Decimal::ZERO && d.is_critical(b)),
        exhausted: balance.is_some_and(|b| b <= Decimal::ZERO),
        blocked: def
            .and_then(|d| d.blocked_on(date))
            .map(|b| period(&b.period, Some(&b.kind), &b.description)),
        suspended: def
            .and_then(|d| d.suspended_on(date))
            .map(|s| period(&s.period, None, &s.description)),
        origins: q
            .origins_as_of(date)
            .into_iter()
            .map(|o| QuotaOriginView {
                area: o.area.clone(),
                description: built.data.area_descriptions.get(&o.area).cloned(),
                excluded_areas: o.exclusions.clone(),
                valid_from: o.validity.start,
                valid_to: o.validity.end,
            })
            .collect(),
        definition: def.map(definition_view),
        balance,
        definitions: q.definitions.iter().map(definition_view).collect(),
    }
}

pub(crate) fn quota_summary(
    q: &QuotaOrderNumber,
    date: NaiveDate,
    balances: &Balances,
) -> QuotaSummary {
    let def = q.definition_as_of(date);
    let balance = def.map(|d| balance_of(d, balances));
    QuotaSummary {
        order_number: q.id.clone(),
        mechanism: q.mechanism.as_str().to_owned(),
        status: status(def, balance.unwrap_or(Decimal::ZERO), date)
            .as_str()
            .to_owned(),
        definition_sid: def.map(|d| d.sid),
        volume: def.map(|d| d.volume),
        balance,
        unit: def.map(|d| d.unit.code()),
        origins: q
            .origins_as_of(date)
            .into_iter()
            .map(|o| o.area.clone())
            .collect(),
    }
}

async fn load(state: &AppState, tenant: &str) -> ApiResult<(TenantCode, Arc<Built>)> {
    let tenant: TenantCode = path_param("tenant", tenant)?;
    let built = state.tariffs.get(&state.store, &tenant).await?;
    Ok((tenant, built))
}

fn find<'b>(
    built: &'b Built,
    order_number: &str,
    date: NaiveDate,
) -> ApiResult<&'b QuotaOrderNumber> {
    built.data.quotas.find(order_number, date).ok_or_else(|| {
        ApiError::not_found(format!(
            "quota {order_number} is not in the tariff of {}",
            built.tenant
        ))
    })
}

pub(crate) fn quota_resource(tenant: &TenantCode, order_number: &str) -> Resource {
    Resource::new(ResourceKind::Quota, order_number).in_tenant(tenant.clone())
}

/// The tenant and order number of the path, with `action` authorized on that quota.
fn authorize_quota(
    state: &AppState,
    caller: &Caller,
    tenant: &str,
    order_number: &str,
    action: Action,
) -> ApiResult<(TenantCode, String)> {
    let order_number = order_param(order_number)?;
    let tenant: TenantCode = path_param("tenant", tenant)?;
    state.authorize(caller, action, &quota_resource(&tenant, &order_number))?;
    Ok((tenant, order_number))
}

fn unavailable(r: &Refusal) -> ApiError {
    match r {
        Refusal::UnitMismatch { .. } => {
            ApiError::field(ErrorCode::InvalidField, "/unit", r.to_string())
        }
        Refusal::NotPositive | Refusal::TooPrecise { .. } => {
            ApiError::field(ErrorCode::InvalidField, "/quantity", r.to_string())
        }
        Refusal::Licensed { .. }
        | Refusal::NotInPeriod { .. }
        | Refusal::Suspended { .. }
        | Refusal::Blocked { .. }
        | Refusal::Exhausted { .. } => ApiError::new(ErrorCode::QuotaUnavailable, r.to_string()),
    }
}

fn check_unit(unit: &str) -> ApiResult<()> {
    let u = unit.trim();
    if (1..=8).contains(&u.len()) && u.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(ApiError::field(
            ErrorCode::InvalidField,
            "/unit",
            "must be a unit code such as TNE, KGMI or EUR",
        ))
    }
}

fn check_reference(r: &Option<String>) -> ApiResult<()> {
    match r {
        Some(r) if r.trim().is_empty() || r.len() > 70 => Err(ApiError::field(
            ErrorCode::InvalidField,
            "/declaration_reference",
            "must be 1 to 70 characters",
        )),
        _ => Ok(()),
    }
}

fn opening(q: &QuotaOrderNumber, d: &QuotaDefinition) -> QuotaOpening {
    QuotaOpening {
        order_number: q.id.clone(),
        definition_sid: d.sid,
        volume: d.volume,
        opening_balance: d.opening_balance(),
    }
}

// ---- reads ----

async fn list(state: &AppState, tenant: &str, q: QuotaQuery) -> ApiResult<Json<QuotaListView>> {
    let date = parse_as_of(state, q.as_of.as_deref())?;
    let (tenant, built) = load(state, tenant).await?;
    let balances = balances_on(state, &tenant, date).await?;
    Ok(Json(QuotaListView {
        tenant: tenant.to_string(),
        as_of: date,
        quotas: built
            .data
            .quotas
            .as_of(date)
            .map(|q| quota_summary(q, date, &balances))
            .collect(),
    }))
}

async fn one(
    state: &AppState,
    tenant: &str,
    order_number: &str,
    q: QuotaQuery,
) -> ApiResult<Json<QuotaView>> {
    let order_number = order_param(order_number)?;
    let date = parse_as_of(state, q.as_of.as_deref())?;
    let (tenant, built) = load(state, tenant).await?;
    let quota = find(&built, &order_number, date)?;
    let balances = balances_on(state, &tenant, date).await?;
    Ok(Json(quota_view(&built, quota, date, &balances)))
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/quotas", tag = "quotas",
    params(("tenant" = String, Path, example = "NL"), QuotaQuery),
    responses((status = 200, body = QuotaListView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn public_list(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<QuotaQuery>,
) -> ApiResult<Json<QuotaListView>> {
    list(&state, &tenant, q).await
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/quotas", tag = "quotas",
    params(("tenant" = String, Path, example = "NL"), QuotaQuery),
    responses((status = 200, body = QuotaListView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn list_route(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<QuotaQuery>,
) -> ApiResult<Json<QuotaListView>> {
    list(&state, &tenant, q).await
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/quotas/{order_number}", tag = "quotas",
    params(("tenant" = String, Path, example = "NL"), ("order_number" = String, Path, example = "091104"), QuotaQuery),
    responses((status = 200, body = QuotaView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn public_get(
    State(state): State<AppState>,
    ApiPath((tenant, order_number)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<QuotaQuery>,
) -> ApiResult<Json<QuotaView>> {
    one(&state, &tenant, &order_number, q).await
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/quotas/{order_number}", tag = "quotas",
    params(("tenant" = String, Path, example = "NL"), ("order_number" = String, Path, example = "091104"), QuotaQuery),
    responses((status = 200, body = QuotaView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get_route(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((tenant, order_number)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<QuotaQuery>,
) -> ApiResult<Json<QuotaView>> {
    one(&state, &tenant, &order_number, q).await
}

/// The balance history of the definition in force on `as_of`, oldest first.
#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/quotas/{order_number}/balance-history", tag = "quotas",
    params(("tenant" = String, Path, example = "NL"), ("order_number" = String, Path, example = "091104"), HistoryQuery),
    responses((status = 200, body = Paged<QuotaHistoryRow>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn balance_history(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, order_number)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<Paged<QuotaHistoryRow>>> {
    let order_number = order_param(&order_number)?;
    let date = parse_as_of(&state, q.as_of.as_deref())?;
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let (tenant, built) = load(&state, &tenant).await?;
    state.authorize(
        &caller,
        Action::TariffRead,
        &quota_resource(&tenant, &order_number),
    )?;
    let quota = find(&built, &order_number, date)?;
    let def = quota.definition_as_of(date).ok_or_else(|| {
        ApiError::field(
            ErrorCode::InvalidQuery,
            "query:as_of",
            format!("quota {order_number} has no definition in force on {date}"),
        )
    })?;
    let rows = state
        .store
        .quota_balance_history(&tenant, def.sid, &page)
        .await?;
    Ok(Json(Paged::from(rows)))
}

// ---- drawing ----

/// Draw on the quota, first come, first served: the definition in force on the acceptance
/// date grants `min(quantity, balance)`.
#[utoipa::path(post, path = "/api/v1/tariffs/{tenant}/quotas/{order_number}/allocation-requests", tag = "quotas",
    params(("tenant" = String, Path, example = "NL"), ("order_number" = String, Path, example = "091104")),
    request_body = AllocationRequestBody,
    responses((status = 201, body = AllocationView), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn request_allocation(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, order_number)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<AllocationRequestBody>,
) -> ApiResult<(StatusCode, Json<AllocationView>)> {
    let view = allocate(&state, &caller, &tenant, &order_number, body).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A first-come-first-served draw on quota `order_number` of `tenant` (the API's and the
/// portal's).
pub(crate) async fn allocate(
    state: &AppState,
    caller: &Caller,
    tenant: &str,
    order_number: &str,
    body: AllocationRequestBody,
) -> ApiResult<AllocationView> {
    let (tenant, order_number) =
        authorize_quota(state, caller, tenant, order_number, Action::QuotaDraw)?;
    check_unit(&body.unit)?;
    check_reference(&body.declaration_reference)?;
    let (_, built) = load(state, tenant.as_str()).await?;
    let date = body.acceptance_time.date_naive();
    let quota = find(&built, &order_number, date)?;
    let def = quota.definition_as_of(date).ok_or_else(|| {
        unavailable(&Refusal::NotInPeriod {
            order_number: order_number.clone(),
            date,
        })
    })?;
    let request = AllocationRequest {
        id: String::new(),
        quantity: body.quantity,
        unit: body.unit.trim().to_owned(),
        accepted_at: body.acceptance_time.naive_utc(),
    };
    // Everything but the balance first, for field errors before any lock is taken.
    draw(quota, def, def.volume.max(Decimal::ONE), &request).map_err(|r| unavailable(&r))?;
    let mut status_after = QuotaStatus::Open;
    let outcome = state
        .store
        .scoped(caller.scope())
        .quota_draw(
            &caller.principal.id,
            &opening(quota, def),
            &NewAllocationRequest {
                quantity: body.quantity,
                unit: request.unit.clone(),
                accepted_at: body.acceptance_time,
                declaration_reference: body.declaration_reference.clone(),
            },
            |balance| {
                draw(quota, def, balance, &request).map(|g| {
                    status_after = g.status_after;
                    g.granted
                })
            },
        )
        .await?;
    let allocation = outcome.map_err(|r| unavailable(&r))?;
    Ok(AllocationView {
        allocation,
        quota_status: status_after.as_str().to_owned(),
    })
}

/// Return an unused quantity of an allocation: it is credited back to the balance (never
/// above the volume).
#[utoipa::path(post, path = "/api/v1/tariffs/{tenant}/quotas/{order_number}/returns", tag = "quotas",
    params(("tenant" = String, Path, example = "NL"), ("order_number" = String, Path, example = "091104")),
    request_body = ReturnBody,
    responses((status = 201, body = QuotaReturnRow), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn return_quantity(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, order_number)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<ReturnBody>,
) -> ApiResult<(StatusCode, Json<QuotaReturnRow>)> {
    let row = give_back(&state, &caller, &tenant, &order_number, body).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// Returns an unused quantity of an allocation of quota `order_number` (the API's and the
/// portal's).
pub(crate) async fn give_back(
    state: &AppState,
    caller: &Caller,
    tenant: &str,
    order_number: &str,
    body: ReturnBody,
) -> ApiResult<QuotaReturnRow> {
    let (tenant, order_number) =
        authorize_quota(state, caller, tenant, order_number, Action::QuotaDraw)?;
    if body.quantity <= Decimal::ZERO {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "/quantity",
            ReturnRefusal::NotPositive.to_string(),
        ));
    }
    let scoped = state.store.scoped(caller.scope());
    let not_found = || {
        ApiError::field(
            ErrorCode::NotFound,
            "/request_id",
            format!(
                "no allocation {} on quota {order_number}",
                body.request_id.chars().take(80).collect::<String>()
            ),
        )
    };
    let allocation = match scoped.quota_allocation(&body.request_id).await {
        Ok(a) if a.order_number == order_number => a,
        Ok(_) | Err(portorium_store::StoreError::NotFound { .. }) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    let (_, built) = load(state, tenant.as_str()).await?;
    let (quota, def) = built
        .data
        .quotas
        .definition(allocation.definition_sid)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::QuotaUnavailable,
                format!(
                    "definition {} of quota {order_number} is no longer in the tariff",
                    allocation.definition_sid
                ),
            )
        })?;
    let quantity = body.quantity;
    let outcome = scoped
        .quota_return(
            &caller.principal.id,
            &opening(quota, def),
            &allocation.id,
            quantity,
            |c| credit_return(c.volume, c.balance, c.returnable, quantity).map(|o| o.credited),
        )
        .await?;
    let row = outcome.map_err(|r| match r {
        ReturnRefusal::NotPositive => {
            ApiError::field(ErrorCode::InvalidField, "/quantity", r.to_string())
        }
        ReturnRefusal::ExceedsAllocation { .. } => {
            ApiError::field(ErrorCode::BusinessRuleViolation, "/quantity", r.to_string())
        }
    })?;
    Ok(row)
}

/// Record an imported quantity under the order number (statistics; licensed and
/// surveillance quotas). The balance is not touched.
#[utoipa::path(post, path = "/api/v1/tariffs/{tenant}/quotas/{order_number}/surveillance", tag = "quotas",
    params(("tenant" = String, Path, example = "NL"), ("order_number" = String, Path, example = "094001")),
    request_body = SurveillanceBody,
    responses((status = 201, body = QuotaSurveillanceRow), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn record_surveillance(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, order_number)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<SurveillanceBody>,
) -> ApiResult<(StatusCode, Json<QuotaSurveillanceRow>)> {
    let (tenant, order_number) =
        authorize_quota(&state, &caller, &tenant, &order_number, Action::QuotaDraw)?;
    check_unit(&body.unit)?;
    check_reference(&body.declaration_reference)?;
    if body.quantity <= Decimal::ZERO {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "/quantity",
            "the quantity must be positive",
        ));
    }
    let (_, built) = load(&state, tenant.as_str()).await?;
    let quota = find(&built, &order_number, body.imported_on)?;
    let def = quota.definition_as_of(body.imported_on);
    if let Some(d) = def {
        if !d.unit.accepts(&body.unit) {
            return Err(ApiError::field(
                ErrorCode::InvalidField,
                "/unit",
                format!(
                    "the quota is counted in {}, not {}",
                    d.unit.code(),
                    body.unit.trim()
                ),
            ));
        }
    }
    let row = state
        .store
        .scoped(caller.scope())
        .quota_record_surveillance(
            &caller.principal.id,
            &NewSurveillance {
                order_number,
                definition_sid: def.map(|d| d.sid),
                quantity: body.quantity,
                unit: body.unit.trim().to_owned(),
                imported_on: body.imported_on,
                declaration_reference: body.declaration_reference,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// The imported quantities recorded under the order number, with totals per unit.
#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/quotas/{order_number}/surveillance", tag = "quotas",
    params(("tenant" = String, Path, example = "NL"), ("order_number" = String, Path, example = "094001")),
    responses((status = 200, body = SurveillanceView), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn surveillance(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, order_number)): ApiPath<(String, String)>,
) -> ApiResult<Json<SurveillanceView>> {
    let (_, order_number) =
        authorize_quota(&state, &caller, &tenant, &order_number, Action::TariffRead)?;
    let records = state
        .store
        .scoped(caller.scope())
        .quota_surveillance(&order_number)
        .await?;
    let mut totals: std::collections::BTreeMap<String, Decimal> = Default::default();
    for r in &records {
        *totals.entry(r.unit.clone()).or_default() += r.quantity;
    }
    Ok(Json(SurveillanceView {
        order_number,
        records,
        totals: totals
            .into_iter()
            .map(|(u, t)| (u, t.to_string()))
            .collect(),
    }))
}

/// The quota routes of the trader gateway (public reads).
pub fn public_routes(t: super::Table) -> super::Table {
    use super::{handler, Access::Public};
    use axum::routing::{on, MethodFilter};
    t.api(
        "GET",
        "/api/v1/tariffs/{tenant}/quotas",
        Public,
        handler!(GET, public_list),
    )
    .api(
        "GET",
        "/api/v1/tariffs/{tenant}/quotas/{order_number}",
        Public,
        handler!(GET, public_get),
    )
}

/// The quota routes of the administration gateway.
pub fn admin_routes(t: super::Table) -> super::Table {
    use super::{handler, Access::Authenticated as Auth};
    use axum::routing::{on, MethodFilter};
    t.api(
        "GET",
        "/api/v1/tariffs/{tenant}/quotas",
        Auth,
        handler!(GET, list_route),
    )
    .api(
        "GET",
        "/api/v1/tariffs/{tenant}/quotas/{order_number}",
        Auth,
        handler!(GET, get_route),
    )
    .api(
        "GET",
        "/api/v1/tariffs/{tenant}/quotas/{order_number}/balance-history",
        Auth,
        handler!(GET, balance_history),
    )
    .api(
        "POST",
        "/api/v1/tariffs/{tenant}/quotas/{order_number}/allocation-requests",
        Auth,
        handler!(POST, request_allocation),
    )
    .api(
        "POST",
        "/api/v1/tariffs/{tenant}/quotas/{order_number}/returns",
        Auth,
        handler!(POST, return_quantity),
    )
    .api(
        "POST",
        "/api/v1/tariffs/{tenant}/quotas/{order_number}/surveillance",
        Auth,
        handler!(POST, record_surveillance),
    )
    .api(
        "GET",
        "/api/v1/tariffs/{tenant}/quotas/{order_number}/surveillance",
        Auth,
        handler!(GET, surveillance),
    )
}
