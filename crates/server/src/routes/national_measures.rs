//! National measures on the administration gateway: an administration's own measures as of a
//! date, and the drafts that change them (drafted by one officer, approved by a second).
//!
//! Drafts are validated when created or amended and again when approved, against the
//! administration's tariff as it is then (the TARIC business rules of
//! `portorium_tariff::national::validate`); a violation is a 422 `business_rule_violation`
//! listing every rule with the pointer of its field. The four-eyes rule is enforced by the
//! store; the policy decides who may draft (`measure.draft`, role `tariff_manager`) and who
//! may approve or reject (`measure.approve`, role `tariff_approver`). The functions here are
//! shared with the portal's measure editor (`portal_measures.rs`).

use crate::api::{json_problem, ApiJson, ApiPath, ApiQuery, PageQuery, Paged};
use crate::error::{ApiError, ApiResult, ErrorCode, FieldError, Problem};
use crate::routes::{handler, Access, Table};
use crate::state::{AppState, Caller};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{on, MethodFilter};
use axum::Json;
use chrono::NaiveDate;
use portorium_kernel::TenantCode;
use portorium_store::{
    DraftStatus, MeasureDraftRow, NewMeasureDraft, NewTariffRecord, RecordChange, StoreError,
    TariffLayer,
};
use portorium_tariff::duty::describe;
use portorium_tariff::layer::RecordRef;
use portorium_tariff::measures::measure_type;
use portorium_tariff::national::{
    layer_changes, plan, validate, DraftOp, MeasureChange, NationalMeasureDraft, RuleViolation,
};
use portorium_trust::{Action, Resource, ResourceKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How often an approval is retried when the tariff changed while it was being validated.
const APPROVAL_ATTEMPTS: usize = 3;

/// The routes, on the administration gateway.
pub fn admin_routes(t: Table) -> Table {
    use Access::Authenticated as Auth;
    t.api(
        "GET",
        "/api/v1/tariffs/{tenant}/national-measures",
        Auth,
        handler!(GET, list_national_measures),
    )
    .api(
        "GET",
        "/api/v1/tariffs/{tenant}/measure-drafts",
        Auth,
        handler!(GET, list_drafts),
    )
    .api(
        "POST",
        "/api/v1/tariffs/{tenant}/measure-drafts",
        Auth,
        handler!(POST, create_draft),
    )
    .api(
        "GET",
        "/api/v1/tariffs/{tenant}/measure-drafts/{id}",
        Auth,
        handler!(GET, get_draft),
    )
    .api(
        "PUT",
        "/api/v1/tariffs/{tenant}/measure-drafts/{id}",
        Auth,
        handler!(PUT, amend_draft),
    )
    .api(
        "POST",
        "/api/v1/tariffs/{tenant}/measure-drafts/{id}/submit",
        Auth,
        handler!(POST, submit_draft),
    )
    .api(
        "POST",
        "/api/v1/tariffs/{tenant}/measure-drafts/{id}/approve",
        Auth,
        handler!(POST, approve_draft),
    )
    .api(
        "POST",
        "/api/v1/tariffs/{tenant}/measure-drafts/{id}/reject",
        Auth,
        handler!(POST, reject_draft),
    )
    .api(
        "POST",
        "/api/v1/tariffs/{tenant}/measure-drafts/{id}/withdraw",
        Auth,
        handler!(POST, withdraw_draft),
    )
}

// ---------------------------------------------------------------------------------------------
// Shared with the portal

/// The administration in the path, authorized for `action` on its national measures.
pub(crate) fn authorize(
    state: &AppState,
    caller: &Caller,
    tenant: &str,
    id: &str,
    action: Action,
) -> ApiResult<TenantCode> {
    let tenant: TenantCode = crate::api::path_param("tenant", tenant)?;
    let resource = Resource::new(ResourceKind::NationalMeasure, id).in_tenant(tenant.clone());
    state.authorize(caller, action, &resource)?;
    Ok(tenant)
}

/// Whether the caller may do `action` on the administration's national measures (for
/// showing buttons; the handlers decide again).
pub(crate) fn permits(
    state: &AppState,
    caller: &Caller,
    tenant: &TenantCode,
    action: Action,
) -> bool {
    let resource = Resource::new(ResourceKind::NationalMeasure, "*").in_tenant(tenant.clone());
    state.authorize(caller, action, &resource).is_ok()
}

fn shape_problem(errors: Vec<portorium_tariff::national::ShapeError>) -> ApiError {
    let code = if errors.iter().all(|e| e.missing) {
        ErrorCode::MissingField
    } else {
        ErrorCode::InvalidField
    };
    let detail = errors
        .iter()
        .map(|e| format!("{}: {}", e.pointer, e.message))
        .collect::<Vec<_>>()
        .join("; ");
    ApiError {
        code,
        detail,
        errors: errors
            .into_iter()
            .map(|e| FieldError {
                pointer: e.pointer,
                detail: e.message,
            })
            .collect(),
    }
}

/// A 422 listing every violated rule (`"ME32: …"`) with its pointer.
pub(crate) fn rules_problem(violations: &[RuleViolation]) -> ApiError {
    let rules: Vec<&str> = violations.iter().map(|v| v.rule).collect();
    ApiError {
        code: ErrorCode::BusinessRuleViolation,
        detail: format!(
            "the draft violates {} rule(s): {}",
            violations.len(),
            rules.join(", ")
        ),
        errors: violations
            .iter()
            .map(|v| FieldError {
                pointer: v.pointer.clone(),
                detail: v.to_string(),
            })
            .collect(),
    }
}

fn internal(msg: String) -> ApiError {
    tracing::error!(error = %msg, "national measures");
    ApiError::new(ErrorCode::Internal, "internal error; see the server log")
}

fn today(state: &AppState) -> NaiveDate {
    state.clock().now().date_naive()
}

/// Checks a draft against the administration's tariff as it is now.
async fn check_draft(
    state: &AppState,
    tenant: &TenantCode,
    draft: &NationalMeasureDraft,
) -> ApiResult<DraftOp> {
    let op = draft.resolve().map_err(shape_problem)?;
    let built = state.tariffs.get(&state.store, tenant).await?;
    let violations = validate(
        &op,
        &built.data.tariff,
        &built.data.nomenclature,
        today(state),
    );
    if violations.is_empty() {
        Ok(op)
    } else {
        Err(rules_problem(&violations))
    }
}

fn new_draft(draft: &NationalMeasureDraft) -> ApiResult<NewMeasureDraft> {
    Ok(NewMeasureDraft {
        operation: draft.operation.as_str().to_owned(),
        target_sid: draft.measure_sid,
        payload: serde_json::to_value(draft).map_err(|e| internal(e.to_string()))?,
    })
}

/// Validate and store a new draft (status `draft`).
pub(crate) async fn create(
    state: &AppState,
    caller: &Caller,
    tenant: &str,
    draft: &NationalMeasureDraft,
) -> ApiResult<MeasureDraftRow> {
    let tenant = authorize(state, caller, tenant, "new", Action::MeasureDraft)?;
    check_draft(state, &tenant, draft).await?;
    Ok(state
        .store
        .scoped(caller.scope())
        .create_measure_draft(&caller.principal.id, &new_draft(draft)?)
        .await?)
}

/// Validate and store a draft's new content (its drafter, while it is `draft`).
pub(crate) async fn amend(
    state: &AppState,
    caller: &Caller,
    tenant: &str,
    id: &str,
    version: Option<i64>,
    draft: &NationalMeasureDraft,
) -> ApiResult<MeasureDraftRow> {
    let tenant = authorize(state, caller, tenant, id, Action::MeasureDraft)?;
    check_draft(state, &tenant, draft).await?;
    Ok(state
        .store
        .scoped(caller.scope())
        .amend_measure_draft(id, &caller.principal.id, version, &new_draft(draft)?)
        .await?)
}

/// A stored draft's content.
pub(crate) fn stored_draft(row: &MeasureDraftRow) -> ApiResult<NationalMeasureDraft> {
    serde_json::from_value(row.payload.clone())
        .map_err(|e| internal(format!("draft {}: stored payload: {e}", row.id)))
}

/// Area id → `geographical.area.sid`, from the records of both layers.
async fn area_sids(state: &AppState, tenant: &TenantCode) -> ApiResult<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    for layer in [TariffLayer::Common, TariffLayer::Tenant(tenant.clone())] {
        for r in state
            .store
            .tariff_records(&layer, Some("geographical.area"))
            .await?
        {
            let id = r
                .payload
                .get("geographical.area.id")
                .and_then(|v| v.as_str());
            let sid = r
                .payload
                .get("geographical.area.sid")
                .and_then(|v| v.as_str())
                .and_then(|s| s.trim().parse::<u64>().ok());
            if let (Some(id), Some(sid)) = (id, sid) {
                out.insert(id.trim().to_owned(), sid);
            }
        }
    }
    Ok(out)
}

/// How many SIDs the changes need: one per new measure and one per condition written.
fn sids_needed(changes: &[MeasureChange]) -> usize {
    changes
        .iter()
        .map(|c| match c {
            MeasureChange::Create(m) => 1 + m.conditions.len(),
            MeasureChange::Replace(m) => m.conditions.len(),
            MeasureChange::SetEnd { .. } | MeasureChange::Remove(_) => 0,
        })
        .sum()
}

/// Approve a submitted draft: validate it against the tariff as it is now and write it into
/// the national layer with the draft's approval, in one transaction (retried when the
/// tariff changed meanwhile).
pub(crate) async fn approve(
    state: &AppState,
    caller: &Caller,
    tenant: &str,
    id: &str,
    version: Option<i64>,
) -> ApiResult<MeasureDraftRow> {
    let tenant = authorize(state, caller, tenant, id, Action::MeasureApprove)?;
    let scoped = state.store.scoped(caller.scope());
    let row = scoped.measure_draft(id).await?;
    if row.drafted_by == caller.principal.id.to_string() {
        return Err(ApiError::forbidden(format!(
            "four eyes: {} drafted {id} and may not approve it; a second officer decides",
            row.drafted_by
        )));
    }
    if row.status() != Some(DraftStatus::Submitted) {
        return Err(ApiError::new(
            ErrorCode::InvalidTransition,
            format!(
                "draft {id} is {}: only a submitted draft can be approved",
                row.status
            ),
        ));
    }
    let draft = stored_draft(&row)?;
    let op = draft.resolve().map_err(shape_problem)?;
    let national = TariffLayer::Tenant(tenant.clone());
    for _ in 0..APPROVAL_ATTEMPTS {
        let built = state.tariffs.get(&state.store, &tenant).await?;
        let today = today(state);
        let data = &built.data.tariff;
        let violations = validate(&op, data, &built.data.nomenclature, today);
        if !violations.is_empty() {
            return Err(rules_problem(&violations));
        }
        let mut count = 0u64;
        let dry = plan(&op, data, today, &mut || {
            count += 1;
            count
        })
        .map_err(|v| rules_problem(&[v]))?;
        let sids = scoped.allocate_national_sids(sids_needed(&dry)).await?;
        let mut sids = sids.into_iter();
        let mut exhausted = false;
        let mut next = || {
            sids.next().unwrap_or_else(|| {
                exhausted = true;
                0
            })
        };
        let changes = plan(&op, data, today, &mut next).map_err(|v| rules_problem(&[v]))?;
        let current = state.store.tariff_records(&national, None).await?;
        let refs: Vec<RecordRef<'_>> = current
            .iter()
            .map(|r| RecordRef {
                kind: &r.kind,
                key: &r.key,
                payload: &r.payload,
            })
            .collect();
        let layer = layer_changes(
            &changes,
            &refs,
            &area_sids(state, &tenant).await?,
            draft.legal_base.as_deref(),
            &mut next,
        )
        .map_err(|e| internal(format!("draft {id}: {e}")))?;
        if exhausted {
            return Err(internal(format!("draft {id}: too few SIDs allocated")));
        }
        let records: Vec<RecordChange> = layer
            .into_iter()
            .map(|c| {
                if c.delete {
                    RecordChange::Delete {
                        kind: c.kind,
                        key: c.key,
                    }
                } else {
                    RecordChange::Upsert(NewTariffRecord {
                        kind: c.kind,
                        key: c.key,
                        valid_from: c.valid_from,
                        valid_to: c.valid_to,
                        payload: c.payload,
                    })
                }
            })
            .collect();
        let measure_sid = changes
            .iter()
            .find_map(|c| match c {
                MeasureChange::Create(m) => Some(m.sid),
                _ => None,
            })
            .or(op.target());
        match scoped
            .approve_measure_draft(
                id,
                &caller.principal.id,
                version,
                &built.version,
                &records,
                measure_sid,
            )
            .await
        {
            Ok((row, _import)) => return Ok(row),
            Err(StoreError::Conflict {
                what: "tariff layer",
                ..
            }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(
        ErrorCode::Conflict,
        format!("the tariff of {tenant} kept changing while draft {id} was approved; try again"),
    ))
}

/// Reject a submitted draft (a second officer), with a reason.
pub(crate) async fn reject(
    state: &AppState,
    caller: &Caller,
    tenant: &str,
    id: &str,
    version: Option<i64>,
    reason: Option<&str>,
) -> ApiResult<MeasureDraftRow> {
    authorize(state, caller, tenant, id, Action::MeasureApprove)?;
    let reason = reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            ApiError::field(
                ErrorCode::MissingField,
                "/reason",
                "a rejection needs a reason",
            )
        })?;
    Ok(state
        .store
        .scoped(caller.scope())
        .reject_measure_draft(id, &caller.principal.id, version, reason)
        .await?)
}

/// Submit a draft for approval (its drafter); it is validated again first.
pub(crate) async fn submit(
    state: &AppState,
    caller: &Caller,
    tenant: &str,
    id: &str,
    version: Option<i64>,
) -> ApiResult<MeasureDraftRow> {
    let tenant = authorize(state, caller, tenant, id, Action::MeasureDraft)?;
    let scoped = state.store.scoped(caller.scope());
    let row = scoped.measure_draft(id).await?;
    if row.status() == Some(DraftStatus::Draft) {
        check_draft(state, &tenant, &stored_draft(&row)?).await?;
    }
    Ok(scoped
        .submit_measure_draft(id, &caller.principal.id, version)
        .await?)
}

/// Withdraw a draft that is not decided (its drafter).
pub(crate) async fn withdraw(
    state: &AppState,
    caller: &Caller,
    tenant: &str,
    id: &str,
    version: Option<i64>,
    reason: Option<&str>,
) -> ApiResult<MeasureDraftRow> {
    authorize(state, caller, tenant, id, Action::MeasureDraft)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    Ok(state
        .store
        .scoped(caller.scope())
        .withdraw_measure_draft(id, &caller.principal.id, version, reason)
        .await?)
}

// ---------------------------------------------------------------------------------------------
// Views

/// A condition of a national measure.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NationalConditionView {
    pub code: String,
    pub sequence: u32,
    pub certificate: Option<String>,
    /// Threshold amount and unit, e.g. `"100 KGM"`.
    pub threshold: Option<String>,
    pub action: String,
    pub duty_expression: String,
}

/// A national measure as it stands.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NationalMeasureView {
    pub measure_sid: u64,
    #[schema(example = "305")]
    pub measure_type_id: String,
    #[schema(example = "Value added tax")]
    pub measure_type: String,
    pub goods_code: String,
    pub geographical_area: String,
    pub excluded_areas: Vec<String>,
    pub additional_code: Option<String>,
    pub order_number: Option<String>,
    /// The duty, readable, e.g. `"21.00 %"`.
    pub duty_expression: String,
    pub regulation: Option<String>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub conditions: Vec<NationalConditionView>,
    pub footnotes: Vec<String>,
}

/// The national measures in force on a date.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NationalMeasuresView {
    pub tenant: String,
    pub as_of: NaiveDate,
    pub measures: Vec<NationalMeasureView>,
}

/// `?as_of=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AsOfQuery {
    /// `YYYY-MM-DD` (default today).
    pub as_of: Option<String>,
}

/// The national measures of `tenant` in force on `as_of`, by type, goods code, then SID.
pub(crate) async fn national_measures(
    state: &AppState,
    tenant: &TenantCode,
    as_of: NaiveDate,
) -> ApiResult<Vec<NationalMeasureView>> {
    let built = state.tariffs.get(&state.store, tenant).await?;
    let data = &built.data.tariff;
    let mut measures: Vec<_> = data
        .measures
        .iter()
        .filter(|m| m.national && m.effective_validity(&data.regulations).contains(as_of))
        .collect();
    measures.sort_by(|a, b| {
        (&a.measure_type, a.goods_code.as_str(), a.sid).cmp(&(
            &b.measure_type,
            b.goods_code.as_str(),
            b.sid,
        ))
    });
    Ok(measures
        .into_iter()
        .map(|m| NationalMeasureView {
            measure_sid: m.sid,
            measure_type_id: m.measure_type.clone(),
            measure_type: measure_type(&m.measure_type).description,
            goods_code: m.goods_code.as_str().to_owned(),
            geographical_area: m.geographical_area.clone(),
            excluded_areas: m.excluded_areas.clone(),
            additional_code: m.additional_code.clone(),
            order_number: m.order_number.clone(),
            duty_expression: describe(&m.components),
            regulation: m.regulation.clone(),
            valid_from: m.validity.start,
            valid_to: m.validity.end,
            conditions: m
                .conditions
                .iter()
                .map(|c| NationalConditionView {
                    code: c.code.clone(),
                    sequence: c.sequence,
                    certificate: c.certificate.clone(),
                    threshold: c.threshold.as_ref().map(|(a, u)| match u {
                        Some(u) => format!("{a} {u}"),
                        None => a.to_string(),
                    }),
                    action: c.action.clone(),
                    duty_expression: describe(&c.components),
                })
                .collect(),
            footnotes: m.footnotes.clone(),
        })
        .collect())
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/national-measures", tag = "national measures",
    params(("tenant" = String, Path, example = "NL"), AsOfQuery),
    responses((status = 200, body = NationalMeasuresView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_national_measures(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> ApiResult<Json<NationalMeasuresView>> {
    let tenant = authorize(&state, &caller, &tenant, "*", Action::TariffRead)?;
    let as_of = match &q.as_of {
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            ApiError::field(
                ErrorCode::InvalidQuery,
                "query:as_of",
                "must be a date, YYYY-MM-DD",
            )
        })?,
        None => today(&state),
    };
    let measures = national_measures(&state, &tenant, as_of).await?;
    Ok(Json(NationalMeasuresView {
        tenant: tenant.to_string(),
        as_of,
        measures,
    }))
}

/// `?status=&limit=&cursor=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DraftListQuery {
    /// `draft`, `submitted`, `approved`, `rejected`, `withdrawn` or `rolled_back`.
    pub status: Option<String>,
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/measure-drafts", tag = "national measures",
    params(("tenant" = String, Path, example = "NL"), DraftListQuery),
    responses((status = 200, body = Paged<MeasureDraftRow>), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_drafts(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<DraftListQuery>,
) -> ApiResult<Json<Paged<MeasureDraftRow>>> {
    authorize(&state, &caller, &tenant, "*", Action::TariffRead)?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            DraftStatus::parse(s).ok_or_else(|| {
                ApiError::field(
                    ErrorCode::InvalidQuery,
                    "query:status",
                    "must be draft, submitted, approved, rejected, withdrawn or rolled_back",
                )
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
        .measure_drafts(status, &page)
        .await?;
    Ok(Json(Paged::from(rows)))
}

/// A national measure draft (see `NationalMeasureDraft` in the tariff crate): which fields
/// apply depends on `operation`. Documentation only; the body is read into the domain type.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(example = json!({"operation": "create", "measure_type": "305", "goods_code": "2208",
    "geographical_area": "1011", "validity": {"start": "2026-01-01"},
    "components": [{"duty_expression_id": "01", "amount": "21"}],
    "legal_base": "Wet OB 1968, art. 9"}))]
pub struct MeasureDraftBody {
    /// `create`, `modify` (a new version), `end` (set the end date) or `delete` (not yet
    /// in force).
    pub operation: String,
    /// The national measure a `modify`, `end` or `delete` applies to.
    pub measure_sid: Option<u64>,
    /// `305`, `306`, `277`, `278` or a national (alphabetic) type such as `VTS`.
    pub measure_type: Option<String>,
    /// 10 digits, or a 2-, 4-, 6- or 8-digit chapter, heading or subheading.
    pub goods_code: Option<String>,
    /// Default `1011` (erga omnes).
    pub geographical_area: Option<String>,
    pub excluded_areas: Option<Vec<String>>,
    pub additional_code: Option<String>,
    pub order_number: Option<String>,
    pub validity: Option<ValidityBody>,
    pub components: Option<Vec<ComponentBody>>,
    pub conditions: Option<Vec<ConditionBody>>,
    pub footnotes: Option<Vec<String>>,
    /// The national legal act's id (default `NATIONAL`).
    pub regulation: Option<String>,
    pub legal_base: Option<String>,
}

/// Validity of a draft.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ValidityBody {
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
}

/// A duty component.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ComponentBody {
    #[schema(example = "01")]
    pub duty_expression_id: String,
    #[schema(value_type = Option<String>, example = "21")]
    pub amount: Option<String>,
    pub monetary_unit: Option<String>,
    pub measurement_unit: Option<String>,
    pub qualifier: Option<String>,
}

/// A condition.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ConditionBody {
    pub code: String,
    pub sequence: Option<u32>,
    pub certificate: Option<String>,
    #[schema(value_type = Option<String>)]
    pub threshold_amount: Option<String>,
    pub threshold_unit: Option<String>,
    pub action: String,
    pub components: Option<Vec<ComponentBody>>,
}

#[utoipa::path(post, path = "/api/v1/tariffs/{tenant}/measure-drafts", tag = "national measures",
    params(("tenant" = String, Path, example = "NL")), request_body = MeasureDraftBody,
    responses((status = 201, body = MeasureDraftRow), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_draft(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(draft): ApiJson<NationalMeasureDraft>,
) -> ApiResult<(StatusCode, Json<MeasureDraftRow>)> {
    let row = create(&state, &caller, &tenant, &draft).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/measure-drafts/{id}", tag = "national measures",
    params(("tenant" = String, Path, example = "NL"), ("id" = String, Path)),
    responses((status = 200, body = MeasureDraftRow), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_draft(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<MeasureDraftRow>> {
    authorize(&state, &caller, &tenant, &id, Action::TariffRead)?;
    Ok(Json(
        state
            .store
            .scoped(caller.scope())
            .measure_draft(&id)
            .await?,
    ))
}

/// `?version=` of an amendment.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VersionQuery {
    /// The version read; a draft changed since is a 409.
    pub version: Option<i64>,
}

#[utoipa::path(put, path = "/api/v1/tariffs/{tenant}/measure-drafts/{id}", tag = "national measures",
    params(("tenant" = String, Path, example = "NL"), ("id" = String, Path), VersionQuery), request_body = MeasureDraftBody,
    responses((status = 200, body = MeasureDraftRow), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn amend_draft(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<VersionQuery>,
    ApiJson(draft): ApiJson<NationalMeasureDraft>,
) -> ApiResult<Json<MeasureDraftRow>> {
    Ok(Json(
        amend(&state, &caller, &tenant, &id, q.version, &draft).await?,
    ))
}

/// The optional body of a workflow step.
#[derive(Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    /// The version read; a draft changed since is a 409.
    pub version: Option<i64>,
    /// Why (required to reject).
    pub reason: Option<String>,
}

/// An empty body, or JSON.
fn step_body(headers: &HeaderMap, body: &Bytes) -> ApiResult<StepBody> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(StepBody::default());
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !(ct.starts_with("application/json") || ct.contains("+json")) {
        return Err(ApiError::field(
            ErrorCode::UnsupportedMediaType,
            "header:Content-Type",
            "send the body as application/json",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(json_problem)
}

#[utoipa::path(post, path = "/api/v1/tariffs/{tenant}/measure-drafts/{id}/submit", tag = "national measures",
    params(("tenant" = String, Path, example = "NL"), ("id" = String, Path)), request_body(content = Option<StepBody>),
    responses((status = 200, body = MeasureDraftRow), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn submit_draft(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<MeasureDraftRow>> {
    let b = step_body(&headers, &body)?;
    Ok(Json(
        submit(&state, &caller, &tenant, &id, b.version).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/tariffs/{tenant}/measure-drafts/{id}/approve", tag = "national measures",
    params(("tenant" = String, Path, example = "NL"), ("id" = String, Path)), request_body(content = Option<StepBody>),
    responses((status = 200, body = MeasureDraftRow), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn approve_draft(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<MeasureDraftRow>> {
    let b = step_body(&headers, &body)?;
    Ok(Json(
        approve(&state, &caller, &tenant, &id, b.version).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/tariffs/{tenant}/measure-drafts/{id}/reject", tag = "national measures",
    params(("tenant" = String, Path, example = "NL"), ("id" = String, Path)), request_body = StepBody,
    responses((status = 200, body = MeasureDraftRow), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn reject_draft(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<MeasureDraftRow>> {
    let b = step_body(&headers, &body)?;
    Ok(Json(
        reject(
            &state,
            &caller,
            &tenant,
            &id,
            b.version,
            b.reason.as_deref(),
        )
        .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/tariffs/{tenant}/measure-drafts/{id}/withdraw", tag = "national measures",
    params(("tenant" = String, Path, example = "NL"), ("id" = String, Path)), request_body(content = Option<StepBody>),
    responses((status = 200, body = MeasureDraftRow), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn withdraw_draft(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<MeasureDraftRow>> {
    let b = step_body(&headers, &body)?;
    Ok(Json(
        withdraw(
            &state,
            &caller,
            &tenant,
            &id,
            b.version,
            b.reason.as_deref(),
        )
        .await?,
    ))
}
