//! Administration of the declaration service's master data (issue 4, sections 2a, 2b, 5): the
//! NCTS reference data (customs office list and its imports, read only: imports are made
//! with `portorium refdata import`), authorisations held by traders (C521 authorised
//! consignor, C505 comprehensive guarantee…) and guarantees with their balance.
//!
//! On the administration gateway an administration manages its own authorisations and
//! guarantees (the store's `Scoped` view confines every read and write to the caller's
//! administration; the PDP decides who may). On the trader gateway the holder of a guarantee
//! reads its balance with the guarantee's access code, as NCTS asks for it (header
//! `X-Access-Code`): an unknown GRN, someone else's GRN and a wrong access code give the same
//! 404, so GRNs cannot be probed, and repeated failures lock the caller out for a while.

use crate::api::{ApiJson, ApiPath, ApiQuery, PageQuery, Paged};
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::routes::tariff_browse::parse_as_of;
use crate::routes::{handler, Access, Table};
use crate::state::{AppState, Caller};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{on, MethodFilter};
use axum::Json;
use chrono::NaiveDate;
use portorium_kernel::{CurrencyCode, Eori, PrincipalId, TenantCode};
use portorium_store::{
    AuthorisationRow, GuaranteeBalance, GuaranteeReservationRow, GuaranteeRow, NewAuthorisation,
    NewGuarantee, RefOfficeRow, RefdataImportRow, StoreError,
};
use portorium_trust::{Action, Resource, ResourceKind};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// The header a trader sends a guarantee's access code in.
pub const ACCESS_CODE_HEADER: &str = "x-access-code";

/// The routes of the administration gateway.
pub fn admin_routes(t: Table) -> Table {
    use Access::Authenticated as Auth;
    t.api(
        "GET",
        "/api/v1/refdata/offices",
        Auth,
        handler!(GET, list_ref_offices),
    )
    .api(
        "GET",
        "/api/v1/refdata/offices/{reference}",
        Auth,
        handler!(GET, get_ref_office),
    )
    .api(
        "GET",
        "/api/v1/refdata/imports",
        Auth,
        handler!(GET, list_refdata_imports),
    )
    .api(
        "GET",
        "/api/v1/authorisations",
        Auth,
        handler!(GET, list_authorisations),
    )
    .api(
        "POST",
        "/api/v1/authorisations",
        Auth,
        handler!(POST, add_authorisation),
    )
    .api(
        "POST",
        "/api/v1/authorisations/{id}/revoke",
        Auth,
        handler!(POST, revoke_authorisation),
    )
    .api(
        "GET",
        "/api/v1/guarantees",
        Auth,
        handler!(GET, list_guarantees),
    )
    .api(
        "POST",
        "/api/v1/guarantees",
        Auth,
        handler!(POST, add_guarantee),
    )
    .api(
        "GET",
        "/api/v1/guarantees/{grn}/balance",
        Auth,
        handler!(GET, guarantee_balance),
    )
}

/// The routes of the trader gateway.
pub fn trader_routes(t: Table) -> Table {
    t.api(
        "GET",
        "/api/v1/guarantees/{grn}/balance",
        Access::Authenticated,
        handler!(GET, trader_guarantee_balance),
    )
}

/// The administration gateway's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list_ref_offices, get_ref_office, list_refdata_imports,
        list_authorisations, add_authorisation, revoke_authorisation,
        list_guarantees, add_guarantee, guarantee_balance,
    ),
    components(schemas(RefOfficeView, RoleTraffic, RefOfficeRow, RefdataImportRow, RefdataImportsView,
        AuthorisationRow, AuthorisationBody, GuaranteeRow, GuaranteeBody, GuaranteeBalanceView,
        GuaranteeReservationRow, Paged<RefOfficeRow>, Paged<AuthorisationRow>, Paged<GuaranteeRow>))
)]
pub struct AdminApi;

/// The trader gateway's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(trader_guarantee_balance),
    components(schemas(GuaranteeBalanceView, GuaranteeReservationRow))
)]
pub struct TraderApi;

// ---------------------------------------------------------------- views and bodies

/// One (role, traffic type) competence of an office.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoleTraffic {
    #[schema(example = "DEP")]
    pub role: String,
    #[schema(example = "R")]
    pub traffic_type: String,
}

/// A customs office of the reference data with its competences.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RefOfficeView {
    #[serde(flatten)]
    pub office: RefOfficeRow,
    /// Every (role, traffic type) pair, by role.
    pub competences: Vec<RoleTraffic>,
}

/// The latest reference data imports, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RefdataImportsView {
    pub items: Vec<RefdataImportRow>,
}

/// `?country=&role=&as_of=&limit=&cursor=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RefOfficeQuery {
    /// ISO country code of the offices (default: the caller's administration).
    pub country: Option<String>,
    /// Only offices with this role (`DEP`, `DES`, `TRA`, `EXT`, `ENT`, `EXP`…).
    pub role: Option<String>,
    /// Offices valid on this date, `YYYY-MM-DD` (default today).
    pub as_of: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// `?as_of=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AsOfQuery {
    /// The date, `YYYY-MM-DD` (default today).
    pub as_of: Option<String>,
}

/// `?limit=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LimitQuery {
    /// How many imports, 1 to 500 (default 50).
    pub limit: Option<u32>,
}

/// `?holder=&limit=&cursor=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuthorisationQuery {
    /// Only the authorisations of this trader (EORI).
    pub holder: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// An authorisation to register.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorisationBody {
    /// The holder's EORI (a trader of the EORI registry).
    #[schema(value_type = String, example = "NL000000001")]
    pub holder: Eori,
    /// The authorisation type: `C521` authorised consignor, `C505` comprehensive guarantee…
    #[serde(rename = "type")]
    #[schema(example = "C521")]
    pub type_code: String,
    /// The authorisation's reference number (up to 35 characters).
    #[schema(example = "NLACR2026000001")]
    pub reference: String,
    /// First day of validity (default today).
    pub valid_from: Option<NaiveDate>,
    /// Last day of validity (default: open-ended).
    pub valid_until: Option<NaiveDate>,
}

/// A guarantee to register.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuaranteeBody {
    /// Guarantee reference number: 2-digit year, country, 12 letters or digits, check digit.
    #[schema(example = "26NLDEMO000000012")]
    pub grn: String,
    /// Guarantee type (code list CL251): `1` comprehensive guarantee, `2` individual…
    #[serde(rename = "type")]
    #[schema(example = "1")]
    pub guarantee_type: String,
    /// The holder's EORI (a trader of the EORI registry).
    #[schema(value_type = String, example = "NL000000001")]
    pub holder: Eori,
    /// The access code the holder cites with the GRN: 4 letters or digits. Only its argon2id
    /// hash is stored.
    #[schema(example = "NL01")]
    pub access_code: String,
    /// The reference amount.
    #[schema(value_type = String, example = "100000.00")]
    pub amount: Decimal,
    #[schema(value_type = String, example = "EUR")]
    pub currency: CurrencyCode,
    /// First day of validity (default today).
    pub valid_from: Option<NaiveDate>,
    /// Last day of validity (default: open-ended).
    pub valid_until: Option<NaiveDate>,
}

/// A guarantee's balance with its reservations.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GuaranteeBalanceView {
    #[serde(flatten)]
    pub balance: GuaranteeBalance,
    /// Every reservation (current and released), oldest first.
    pub reservations: Vec<GuaranteeReservationRow>,
}

// ---------------------------------------------------------------- checks

fn invalid(pointer: &str, detail: impl Into<String>) -> ApiError {
    ApiError::field(ErrorCode::InvalidField, pointer, detail)
}

fn upper_alnum(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A customs office reference in the COL shape: country code and six letters or digits.
fn check_office_reference(r: &str) -> ApiResult<()> {
    if r.len() == 8 && r.bytes().take(2).all(|b| b.is_ascii_uppercase()) && upper_alnum(r) {
        Ok(())
    } else {
        Err(ApiError::field(
            ErrorCode::InvalidPath,
            "path:reference",
            "must be a customs office reference: country code and 6 letters or digits, e.g. NL000510",
        ))
    }
}

/// The GRN pattern of the NCTS schemas: `[0-9]{2}[A-Z]{2}[A-Z0-9]{12}[0-9]([A-Z][0-9]{6})?`.
pub fn is_grn(g: &str) -> bool {
    let b = g.as_bytes();
    let base = b.len() >= 17
        && b[..2].iter().all(u8::is_ascii_digit)
        && b[2..4].iter().all(u8::is_ascii_uppercase)
        && b[4..16]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && b[16].is_ascii_digit();
    base && match b.len() {
        17 => true,
        24 => b[17].is_ascii_uppercase() && b[18..].iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

const GRN_FORMAT: &str = "must be a guarantee reference number: 2-digit year, country code, \
     12 letters or digits and a check digit, e.g. 26NLDEMO000000012";

fn check_access_code(code: &str) -> bool {
    code.len() == 4 && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn check_period(from: NaiveDate, until: Option<NaiveDate>) -> ApiResult<()> {
    match until {
        Some(u) if u < from => Err(invalid("/valid_until", "must not be before valid_from")),
        _ => Ok(()),
    }
}

/// A store refusal of a registration: the holder not in the EORI registry names `/holder`.
fn registration_error(e: StoreError) -> ApiError {
    match &e {
        StoreError::Invalid(msg) if msg.contains("EORI registry") => invalid("/holder", msg),
        _ => e.into(),
    }
}

fn caller_tenant_resource(caller: &Caller, kind: ResourceKind, id: &str) -> Resource {
    let r = Resource::new(kind, id);
    match caller.principal.id.tenant() {
        Some(t) => r.in_tenant(t.clone()),
        None => r,
    }
}

/// The policy resource of a stored row: its administration and holder.
fn held_resource(kind: ResourceKind, id: &str, tenant: &str, holder: &str) -> Resource {
    let mut r = Resource::new(kind, id);
    if let Ok(t) = tenant.parse::<TenantCode>() {
        r = r.in_tenant(t);
    }
    if let Ok(e) = holder.parse::<Eori>() {
        r = r.owned_by(PrincipalId::Trader(e));
    }
    r
}

fn today(state: &AppState) -> NaiveDate {
    state.clock().now().date_naive()
}

// ---------------------------------------------------------------- reference data

/// The customs offices of a country valid on a date, by reference.
#[utoipa::path(get, path = "/api/v1/refdata/offices", tag = "reference data", params(RefOfficeQuery),
    responses((status = 200, body = Paged<RefOfficeRow>), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_ref_offices(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<RefOfficeQuery>,
) -> ApiResult<Json<Paged<RefOfficeRow>>> {
    state.authorize(
        &caller,
        Action::RefdataRead,
        &Resource::new(ResourceKind::RefData, "offices"),
    )?;
    let country = match (&q.country, caller.principal.id.tenant()) {
        (Some(c), _) => c.clone(),
        (None, Some(t)) => t.to_string(),
        (None, None) => {
            return Err(ApiError::field(
                ErrorCode::InvalidQuery,
                "query:country",
                "required: the country code of the offices, e.g. NL",
            ))
        }
    };
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ApiError::field(
            ErrorCode::InvalidQuery,
            "query:country",
            "must be a two-letter country code, e.g. NL",
        ));
    }
    if let Some(role) = &q.role {
        if role.len() != 3 || !role.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ApiError::field(
                ErrorCode::InvalidQuery,
                "query:role",
                "must be a three-letter office role, e.g. DEP",
            ));
        }
    }
    let as_of = parse_as_of(&state, q.as_of.as_deref())?;
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let rows = state
        .store
        .ref_offices(&country, q.role.as_deref(), as_of, &page)
        .await?;
    Ok(Json(Paged::from(rows)))
}

/// A customs office valid on a date, with its (role, traffic type) competences.
#[utoipa::path(get, path = "/api/v1/refdata/offices/{reference}", tag = "reference data",
    params(("reference" = String, Path, example = "NL000510"), AsOfQuery),
    responses((status = 200, body = RefOfficeView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_ref_office(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(reference): ApiPath<String>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> ApiResult<Json<RefOfficeView>> {
    check_office_reference(&reference)?;
    state.authorize(
        &caller,
        Action::RefdataRead,
        &Resource::new(ResourceKind::RefData, reference.as_str()),
    )?;
    let as_of = parse_as_of(&state, q.as_of.as_deref())?;
    let office = state.store.ref_office(&reference, as_of).await?;
    let competences = state
        .store
        .ref_office_roles(&reference)
        .await?
        .into_iter()
        .map(|(role, traffic_type)| RoleTraffic { role, traffic_type })
        .collect();
    Ok(Json(RefOfficeView {
        office,
        competences,
    }))
}

/// The latest reference data imports (one per list), newest first. Imports are made with
/// `portorium refdata import`.
#[utoipa::path(get, path = "/api/v1/refdata/imports", tag = "reference data", params(LimitQuery),
    responses((status = 200, body = RefdataImportsView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_refdata_imports(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> ApiResult<Json<RefdataImportsView>> {
    state.authorize(
        &caller,
        Action::RefdataRead,
        &Resource::new(ResourceKind::RefData, "imports"),
    )?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field(
            ErrorCode::InvalidQuery,
            "query:limit",
            "must be 1 to 500",
        ));
    }
    Ok(Json(RefdataImportsView {
        items: state.store.refdata_imports(limit).await?,
    }))
}

// ---------------------------------------------------------------- authorisations

/// The authorisations registered by the caller's administration, optionally of one holder.
#[utoipa::path(get, path = "/api/v1/authorisations", tag = "authorisations", params(AuthorisationQuery),
    responses((status = 200, body = Paged<AuthorisationRow>), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_authorisations(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuthorisationQuery>,
) -> ApiResult<Json<Paged<AuthorisationRow>>> {
    state.authorize(
        &caller,
        Action::AuthorisationRead,
        &caller_tenant_resource(&caller, ResourceKind::Authorisation, "*"),
    )?;
    let holder = q
        .holder
        .as_deref()
        .map(|h| {
            h.parse::<Eori>().map_err(|e| {
                ApiError::field(ErrorCode::InvalidQuery, "query:holder", e.to_string())
            })
        })
        .transpose()?;
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let rows = state
        .store
        .scoped(caller.scope())
        .authorisations(holder.as_ref(), &page)
        .await?;
    Ok(Json(Paged::from(rows)))
}

/// Register an authorisation held by a trader in the caller's administration.
#[utoipa::path(post, path = "/api/v1/authorisations", tag = "authorisations", request_body = AuthorisationBody,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = AuthorisationRow), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn add_authorisation(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<AuthorisationBody>,
) -> ApiResult<(StatusCode, Json<AuthorisationRow>)> {
    state.authorize(
        &caller,
        Action::AuthorisationManage,
        &caller_tenant_resource(&caller, ResourceKind::Authorisation, &body.reference),
    )?;
    let t = body.type_code.as_bytes();
    if !(t.len() == 4 && t[0].is_ascii_uppercase() && t[1..].iter().all(u8::is_ascii_digit)) {
        return Err(invalid(
            "/type",
            "must be an authorisation type: a letter and three digits, e.g. C521",
        ));
    }
    let reference = body.reference.trim();
    if reference.is_empty()
        || reference.chars().count() > 35
        || reference.chars().any(char::is_control)
    {
        return Err(invalid("/reference", "must be 1 to 35 characters"));
    }
    let valid_from = body.valid_from.unwrap_or_else(|| today(&state));
    check_period(valid_from, body.valid_until)?;
    let row = state
        .store
        .scoped(caller.scope())
        .authorisation_add(
            &caller.principal.id,
            &NewAuthorisation {
                holder: body.holder,
                type_code: body.type_code,
                reference: reference.to_owned(),
                valid_from,
                valid_until: body.valid_until,
            },
        )
        .await
        .map_err(registration_error)?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// Revoke an authorisation of the caller's administration (it is kept, marked revoked).
#[utoipa::path(post, path = "/api/v1/authorisations/{id}/revoke", tag = "authorisations",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = AuthorisationRow), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn revoke_authorisation(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<AuthorisationRow>> {
    let scoped = state.store.scoped(caller.scope());
    let a = scoped.authorisation(&id).await?;
    state.authorize(
        &caller,
        Action::AuthorisationManage,
        &held_resource(ResourceKind::Authorisation, &a.id, &a.tenant, &a.holder),
    )?;
    Ok(Json(
        scoped
            .authorisation_revoke(&caller.principal.id, &a.id)
            .await?,
    ))
}

// ---------------------------------------------------------------- guarantees

/// The guarantees registered by the caller's administration, by GRN.
#[utoipa::path(get, path = "/api/v1/guarantees", tag = "guarantees", params(PageQuery),
    responses((status = 200, body = Paged<GuaranteeRow>), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_guarantees(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<GuaranteeRow>>> {
    state.authorize(
        &caller,
        Action::GuaranteeRead,
        &caller_tenant_resource(&caller, ResourceKind::Guarantee, "*"),
    )?;
    let rows = state
        .store
        .scoped(caller.scope())
        .guarantees(&q.page()?)
        .await?;
    Ok(Json(Paged::from(rows)))
}

/// Register a guarantee in the caller's administration. The access code is stored only as
/// an argon2id hash.
#[utoipa::path(post, path = "/api/v1/guarantees", tag = "guarantees", request_body = GuaranteeBody,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = GuaranteeRow), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn add_guarantee(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<GuaranteeBody>,
) -> ApiResult<(StatusCode, Json<GuaranteeRow>)> {
    state.authorize(
        &caller,
        Action::GuaranteeManage,
        &caller_tenant_resource(&caller, ResourceKind::Guarantee, &body.grn),
    )?;
    if !is_grn(&body.grn) {
        return Err(invalid("/grn", GRN_FORMAT));
    }
    let ty = body.guarantee_type.as_str();
    if !(ty.len() == 1 && upper_alnum(ty)) {
        return Err(invalid(
            "/type",
            "must be a guarantee type (code list CL251): one letter or digit, e.g. 1",
        ));
    }
    let valid_from = body.valid_from.unwrap_or_else(|| today(&state));
    // With the code list imported, the type must be in it.
    if state
        .store
        .ref_code_valid("GuaranteeType", ty, valid_from)
        .await?
        == Some(false)
    {
        return Err(invalid(
            "/type",
            format!("guarantee type {ty} is not in code list CL251 (GuaranteeType)"),
        ));
    }
    if !check_access_code(&body.access_code) {
        return Err(invalid("/access_code", "must be 4 letters or digits"));
    }
    if body.amount <= Decimal::ZERO || body.amount.normalize().scale() > 2 {
        return Err(invalid(
            "/amount",
            "must be a positive amount with at most 2 decimals",
        ));
    }
    check_period(valid_from, body.valid_until)?;
    let code = body.access_code;
    let hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&code))
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?
        .map_err(|e| invalid("/access_code", e.detail))?;
    let row = state
        .store
        .scoped(caller.scope())
        .guarantee_add(
            &caller.principal.id,
            &NewGuarantee {
                grn: body.grn,
                guarantee_type: body.guarantee_type,
                access_code_hash: hash,
                reference_amount: body.amount,
                currency: body.currency,
                holder: body.holder,
                valid_from,
                valid_until: body.valid_until,
            },
        )
        .await
        .map_err(registration_error)?;
    Ok((StatusCode::CREATED, Json(row)))
}

async fn balance_view(
    state: &AppState,
    caller: &Caller,
    grn: &str,
) -> ApiResult<GuaranteeBalanceView> {
    let scoped = state.store.scoped(caller.scope());
    Ok(GuaranteeBalanceView {
        balance: scoped.guarantee_balance(grn).await?,
        reservations: scoped.guarantee_reservations(grn).await?,
    })
}

/// A guarantee of the caller's administration: reference amount, reserved and available
/// amounts, and its reservations.
#[utoipa::path(get, path = "/api/v1/guarantees/{grn}/balance", tag = "guarantees",
    params(("grn" = String, Path, example = "26NLDEMO000000012")),
    responses((status = 200, body = GuaranteeBalanceView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn guarantee_balance(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(grn): ApiPath<String>,
) -> ApiResult<Json<GuaranteeBalanceView>> {
    if !is_grn(&grn) {
        return Err(ApiError::field(
            ErrorCode::InvalidPath,
            "path:grn",
            GRN_FORMAT,
        ));
    }
    let g = state.store.scoped(caller.scope()).guarantee(&grn).await?;
    state.authorize(
        &caller,
        Action::GuaranteeRead,
        &held_resource(ResourceKind::Guarantee, &g.grn, &g.tenant, &g.holder),
    )?;
    Ok(Json(balance_view(&state, &caller, &grn).await?))
}

/// A hash to verify against when the GRN is unknown, so that an unknown GRN costs the same
/// time as a wrong access code. It is the hash of no access code (the salt is fixed: it
/// protects nothing).
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        portorium_trust::hash_password("decoy-never-an-access-code", [7u8; 16]).unwrap_or_default()
    })
}

/// The balance of one of the caller's own guarantees, with the guarantee's access code in
/// the `X-Access-Code` header (as NCTS asks for a balance). An unknown GRN, another
/// trader's GRN and a wrong access code all give the same 404; after repeated failures
/// the caller is refused with 429 for a while.
#[utoipa::path(get, path = "/api/v1/guarantees/{grn}/balance", tag = "guarantees",
    params(("grn" = String, Path, example = "26NLDEMO000000012"),
        ("X-Access-Code" = String, Header, description = "The guarantee's access code")),
    responses((status = 200, body = GuaranteeBalanceView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem), (status = 429, body = Problem)))]
pub async fn trader_guarantee_balance(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiPath(grn): ApiPath<String>,
) -> ApiResult<Json<GuaranteeBalanceView>> {
    let code = headers
        .get(ACCESS_CODE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_default();
    if !check_access_code(&code) {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "header:X-Access-Code",
            "send the guarantee's access code (4 letters or digits) in X-Access-Code",
        ));
    }
    if !is_grn(&grn) {
        return Err(ApiError::field(
            ErrorCode::InvalidPath,
            "path:grn",
            GRN_FORMAT,
        ));
    }
    let throttle_key = format!("guarantee-balance:{}", caller.principal.id);
    if state.logins.locked(&throttle_key).is_some() {
        return Err(ApiError::new(
            ErrorCode::TooManyRequests,
            "too many failed guarantee balance queries; try again later",
        ));
    }
    let not_found =
        || ApiError::not_found(format!("no guarantee {grn} of yours with this access code"));
    let found = match state.store.scoped(caller.scope()).guarantee(&grn).await {
        Ok(g) => Some(g),
        Err(StoreError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let hash = found
        .as_ref()
        .map(|g| g.access_code_hash.clone())
        .unwrap_or_else(|| decoy_hash().to_owned());
    let matches =
        tokio::task::spawn_blocking(move || portorium_trust::verify_password(&code, &hash))
            .await
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    let g = match found {
        Some(g) if matches => g,
        _ => {
            state.logins.failed(&throttle_key);
            return Err(not_found());
        }
    };
    state.logins.succeeded(&throttle_key);
    state.authorize(
        &caller,
        Action::GuaranteeRead,
        &held_resource(ResourceKind::Guarantee, &g.grn, &g.tenant, &g.holder),
    )?;
    Ok(Json(balance_view(&state, &caller, &grn).await?))
}
