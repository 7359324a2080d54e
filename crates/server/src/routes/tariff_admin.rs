//! Management of the tariff layers: imports (TARIC3 envelopes, the HS 2022 CSV, the CN 2026
//! JSON files) with their history and rollback, and the monthly EUR exchange rates.
//!
//! An administration's officers (role `tariff_manager`) manage its national layer on the
//! administration gateway; the central operator manages the common layer on the operations
//! gateway. The layer always follows from the caller's store scope, never from the request.

use crate::api::{ApiJson, ApiPath, ApiQuery};
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::state::{AppState, Caller};
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, StatusCode};
use axum::Json;
use chrono::{Datelike, NaiveDate};
use portorium_kernel::TenantCode;
use portorium_store::{
    ExchangeRateRow, NewTariffRecord, RecordChange, Scoped, TariffImportRow, TariffLayer,
};
use portorium_tariff::layer::{prepare_import, Change, ImportError, ImportFile};
use portorium_tariff::measures::CURRENCY;
use portorium_trust::{Action, Resource, ResourceKind};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

fn tariff_resource(tenant: Option<&TenantCode>) -> Resource {
    let r = Resource::new(
        ResourceKind::Tariff,
        tenant.map(TenantCode::as_str).unwrap_or("common"),
    );
    match tenant {
        Some(t) => r.in_tenant(t.clone()),
        None => r,
    }
}

/// The tenant in the path, authorized for `action` on that administration's tariff.
fn authorize_tenant(
    state: &AppState,
    caller: &Caller,
    tenant: &str,
    action: Action,
) -> ApiResult<TenantCode> {
    let tenant: TenantCode = crate::api::path_param("tenant", tenant)?;
    state.authorize(caller, action, &tariff_resource(Some(&tenant)))?;
    Ok(tenant)
}

/// The store view of the caller, which must manage `expected` (a principal of another
/// administration never reaches here: the policy refused it).
fn layer_view<'s>(
    state: &'s AppState,
    caller: &Caller,
    expected: &TariffLayer,
) -> ApiResult<Scoped<'s>> {
    let view = state.store.scoped(caller.scope());
    if &view.tariff_layer()? != expected {
        return Err(ApiError::forbidden(format!(
            "the {expected} tariff layer is not managed by this principal"
        )));
    }
    Ok(view)
}

/// Prepared changes as store changes for `layer`: measures imported into a national layer
/// are marked `"national": true` (the administration's own measures). Used by the API, the
/// CLI and the demo, so that every import path stores the same records.
pub fn to_record_changes(layer: &TariffLayer, changes: Vec<Change>) -> Vec<RecordChange> {
    let national = matches!(layer, TariffLayer::Tenant(_));
    changes
        .into_iter()
        .map(|mut c| {
            if c.delete {
                return RecordChange::Delete {
                    kind: c.kind,
                    key: c.key,
                };
            }
            if national && c.kind == "measure" {
                if let Some(fields) = c.payload.as_object_mut() {
                    fields.insert("national".to_owned(), serde_json::Value::Bool(true));
                }
            }
            RecordChange::Upsert(NewTariffRecord {
                kind: c.kind,
                key: c.key,
                valid_from: c.valid_from,
                valid_to: c.valid_to,
                payload: c.payload,
            })
        })
        .collect()
}

/// `?source=`: a name for a raw (single-file) upload, shown in the import history.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// The file's name, e.g. `TGB21001.xml` (default `upload`).
    pub source: Option<String>,
}

/// Files of an import request: either one raw file (any content type other than
/// `multipart/form-data`) or a multipart form with one or more file parts.
async fn read_files(req: Request, source: Option<String>) -> ApiResult<Vec<(String, Vec<u8>)>> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if is_multipart {
        let mut form = Multipart::from_request(req, &()).await.map_err(|e| {
            ApiError::field(ErrorCode::MalformedBody, "/", format!("multipart: {e}"))
        })?;
        let mut files = Vec::new();
        loop {
            let field = match form.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    return Err(ApiError::field(
                        ErrorCode::MalformedBody,
                        "/",
                        format!("multipart: {e}"),
                    ))
                }
            };
            let name = field
                .file_name()
                .or(field.name())
                .unwrap_or("upload")
                .chars()
                .take(200)
                .collect::<String>();
            let bytes = field.bytes().await.map_err(|e| {
                ApiError::field(ErrorCode::MalformedBody, "/", format!("multipart: {e}"))
            })?;
            files.push((name, bytes.to_vec()));
        }
        Ok(files)
    } else {
        let bytes = Bytes::from_request(req, &())
            .await
            .map_err(|e| ApiError::field(ErrorCode::MalformedBody, "/", e.to_string()))?;
        if bytes.is_empty() {
            return Ok(Vec::new());
        }
        let name = source
            .unwrap_or_else(|| "upload".to_owned())
            .chars()
            .take(200)
            .collect();
        Ok(vec![(name, bytes.to_vec())])
    }
}

fn import_problem(e: &ImportError) -> ApiError {
    let pointer = match e {
        ImportError::Empty => "/",
        _ => "/files",
    };
    ApiError::field(ErrorCode::InvalidImport, pointer, e.to_string())
}

/// Validates, converts and imports the files into the view's layer, in one transaction.
async fn import_into(
    state: &AppState,
    view: &Scoped<'_>,
    files: Vec<(String, Vec<u8>)>,
) -> ApiResult<TariffImportRow> {
    let xsd = state.config.taric3_xsd.clone();
    let layer = view.tariff_layer()?;
    let prepared = tokio::task::spawn_blocking(move || {
        let schema = match &xsd {
            Some(p) => Some(crate::tariff::taric3_schema(p, &layer).map_err(|e| {
                tracing::error!(error = %e, path = %p.display(), "taric3.xsd");
                ApiError::new(ErrorCode::Internal, "internal error; see the server log")
            })?),
            None => None,
        };
        let validate = |bytes: &[u8]| -> Result<(), Vec<String>> {
            match &schema {
                Some(s) => s
                    .validate(bytes)
                    .map_err(|v| v.iter().map(|x| x.to_string()).collect()),
                None => Ok(()),
            }
        };
        let refs: Vec<ImportFile<'_>> = files
            .iter()
            .map(|(name, bytes)| ImportFile { name, bytes })
            .collect();
        let source = files
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        prepare_import(&refs, Some(&validate))
            .map(|p| (source, p))
            .map_err(|e| import_problem(&e))
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "import task");
        ApiError::new(ErrorCode::Internal, "internal error; see the server log")
    })??;
    let (source, prepared) = prepared;
    let format = prepared.format();
    let changes = to_record_changes(&view.tariff_layer()?, prepared.changes);
    view.tariff_import(&source, &format, &changes)
        .await
        .map_err(|e| match e {
            portorium_store::StoreError::Invalid(reason) => {
                ApiError::field(ErrorCode::InvalidImport, "/files", reason)
            }
            other => other.into(),
        })
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/imports", tag = "tariff administration",
    params(("tenant" = String, Path, example = "NL")),
    responses((status = 200, body = Vec<TariffImportRow>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_imports(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
) -> ApiResult<Json<Vec<TariffImportRow>>> {
    let tenant = authorize_tenant(&state, &caller, &tenant, Action::TariffRead)?;
    let view = layer_view(&state, &caller, &TariffLayer::Tenant(tenant))?;
    Ok(Json(view.tariff_imports().await?))
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/imports/{id}", tag = "tariff administration",
    params(("tenant" = String, Path, example = "NL"), ("id" = String, Path)),
    responses((status = 200, body = TariffImportRow), (status = 404, body = Problem)))]
pub async fn get_import(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<TariffImportRow>> {
    let tenant = authorize_tenant(&state, &caller, &tenant, Action::TariffRead)?;
    let view = layer_view(&state, &caller, &TariffLayer::Tenant(tenant))?;
    Ok(Json(view.tariff_import_row(&id).await?))
}

/// Import files into the administration's national layer: a TARIC3 envelope (validated
/// against taric3.xsd when the server has it), the HS 2022 CSV or the five CN 2026 JSON
/// files. Send one file as the raw body (`?source=` names it), or several as
/// `multipart/form-data`. All files are one transaction: a bad file changes nothing and the
/// problem names the file, the record and the reason.
#[utoipa::path(post, path = "/api/v1/tariffs/{tenant}/imports", tag = "tariff administration",
    params(("tenant" = String, Path, example = "NL"), ImportQuery),
    request_body(content = String, description = "A TARIC3 envelope or nomenclature file, or multipart/form-data with several", content_type = "application/xml"),
    responses((status = 201, body = TariffImportRow), (status = 403, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn create_import(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<ImportQuery>,
    req: Request,
) -> ApiResult<(StatusCode, Json<TariffImportRow>)> {
    let tenant = authorize_tenant(&state, &caller, &tenant, Action::TariffManage)?;
    let view = layer_view(&state, &caller, &TariffLayer::Tenant(tenant))?;
    let files = read_files(req, q.source).await?;
    let row = import_into(&state, &view, files).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

#[utoipa::path(post, path = "/api/v1/tariffs/{tenant}/imports/{id}/rollback", tag = "tariff administration",
    params(("tenant" = String, Path, example = "NL"), ("id" = String, Path)),
    responses((status = 200, body = TariffImportRow), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn rollback_import(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<TariffImportRow>> {
    let tenant = authorize_tenant(&state, &caller, &tenant, Action::TariffManage)?;
    let view = layer_view(&state, &caller, &TariffLayer::Tenant(tenant))?;
    Ok(Json(view.tariff_rollback(&id).await?))
}

// ---- the common layer (operations gateway) ----

fn authorize_common(state: &AppState, caller: &Caller, action: Action) -> ApiResult<()> {
    state.authorize(caller, action, &tariff_resource(None))
}

#[utoipa::path(get, path = "/api/v1/tariff/common/imports", tag = "tariff",
    responses((status = 200, body = Vec<TariffImportRow>), (status = 401, body = Problem)))]
pub async fn list_common_imports(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<TariffImportRow>>> {
    authorize_common(&state, &caller, Action::TariffRead)?;
    let view = layer_view(&state, &caller, &TariffLayer::Common)?;
    Ok(Json(view.tariff_imports().await?))
}

/// Import into the common tariff shared by every administration (see the national import).
#[utoipa::path(post, path = "/api/v1/tariff/common/imports", tag = "tariff", params(ImportQuery),
    request_body(content = String, content_type = "application/xml"),
    responses((status = 201, body = TariffImportRow), (status = 422, body = Problem)))]
pub async fn create_common_import(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ImportQuery>,
    req: Request,
) -> ApiResult<(StatusCode, Json<TariffImportRow>)> {
    authorize_common(&state, &caller, Action::TariffManage)?;
    let view = layer_view(&state, &caller, &TariffLayer::Common)?;
    let files = read_files(req, q.source).await?;
    let row = import_into(&state, &view, files).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

#[utoipa::path(post, path = "/api/v1/tariff/common/imports/{id}/rollback", tag = "tariff",
    params(("id" = String, Path)),
    responses((status = 200, body = TariffImportRow), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn rollback_common_import(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<TariffImportRow>> {
    authorize_common(&state, &caller, Action::TariffManage)?;
    let view = layer_view(&state, &caller, &TariffLayer::Common)?;
    Ok(Json(view.tariff_rollback(&id).await?))
}

// ---- exchange rates ----

/// Where a rate comes from.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RateSource {
    /// Set through this API (or the CLI); takes precedence for its month.
    Manual,
    /// A TARIC monetary exchange rate record (440) of an imported envelope.
    Taric,
}

/// One monthly EUR → national currency rate.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RateView {
    /// First day of the period.
    pub month: NaiveDate,
    /// Last day of the period, for TARIC periods that give one.
    pub until: Option<NaiveDate>,
    /// Units of the national currency per EUR.
    #[schema(value_type = String, example = "0.85765")]
    pub rate: Decimal,
    pub source: RateSource,
}

/// The administration's exchange rates, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ExchangeRatesView {
    /// The administration's currency.
    pub currency: String,
    pub base: String,
    /// Absent for an administration whose currency is EUR.
    pub rates: Vec<RateView>,
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/exchange-rates", tag = "tariff administration",
    params(("tenant" = String, Path, example = "NL")),
    responses((status = 200, body = ExchangeRatesView), (status = 403, body = Problem)))]
pub async fn list_exchange_rates(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(tenant): ApiPath<String>,
) -> ApiResult<Json<ExchangeRatesView>> {
    let tenant = authorize_tenant(&state, &caller, &tenant, Action::TariffRead)?;
    let row = state.store.get_tenant(&tenant).await?;
    let mut rates: Vec<RateView> = Vec::new();
    if row.currency.as_str() != CURRENCY {
        for r in state.store.exchange_rates(&row.currency).await? {
            rates.push(RateView {
                month: r.month,
                until: None,
                rate: r.rate,
                source: RateSource::Manual,
            });
        }
        let built = state.tariffs.get(&state.store, &tenant).await?;
        for r in &built.data.exchange_rates {
            if r.base == CURRENCY && r.currency == row.currency.as_str() {
                rates.push(RateView {
                    month: r.month,
                    until: r.until,
                    rate: r.rate,
                    source: RateSource::Taric,
                });
            }
        }
        rates.sort_by_key(|r| std::cmp::Reverse(r.month));
    }
    Ok(Json(ExchangeRatesView {
        currency: row.currency.as_str().to_owned(),
        base: CURRENCY.to_owned(),
        rates,
    }))
}

/// A rate set by hand.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRate {
    /// Units of the national currency per EUR, positive.
    #[schema(value_type = String, example = "0.85765")]
    pub rate: Decimal,
}

/// Set the EUR rate of a month (`YYYY-MM`) for the administration's currency. Rates are
/// per currency: administrations sharing a currency share its monthly rate, as with the
/// EU's published rates. A rate set here takes precedence over TARIC records for its month.
#[utoipa::path(put, path = "/api/v1/tariffs/{tenant}/exchange-rates/{month}", tag = "tariff administration",
    params(("tenant" = String, Path, example = "GB"), ("month" = String, Path, example = "2026-12")),
    request_body = SetRate,
    responses((status = 200, body = ExchangeRateRow), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn set_exchange_rate(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((tenant, month)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<SetRate>,
) -> ApiResult<Json<ExchangeRateRow>> {
    let tenant = authorize_tenant(&state, &caller, &tenant, Action::TariffManage)?;
    let month = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .ok()
        .filter(|_| month.len() == 7)
        .ok_or_else(|| ApiError::field(ErrorCode::InvalidPath, "path:month", "must be YYYY-MM"))?;
    if body.rate <= Decimal::ZERO {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "/rate",
            "must be a positive decimal",
        ));
    }
    let row = state.store.get_tenant(&tenant).await?;
    if row.currency.as_str() == CURRENCY {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "path:tenant",
            format!("{tenant} uses {CURRENCY}: it has no exchange rate"),
        ));
    }
    state
        .store
        .set_exchange_rate(&row.currency, month, body.rate)
        .await?;
    let stored = state
        .store
        .exchange_rates(&row.currency)
        .await?
        .into_iter()
        .find(|r| r.month.year() == month.year() && r.month.month() == month.month())
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, "the rate was not stored"))?;
    Ok(Json(stored))
}

/// Import routes take large bodies: the audit middleware enforces
/// [`crate::state::ServerConfig::import_body_limit`], so axum's own 2 MB default is lifted.
fn import_route(h: axum::routing::MethodRouter<AppState>) -> axum::routing::MethodRouter<AppState> {
    h.layer(axum::extract::DefaultBodyLimit::disable())
}

/// The administration gateway's tariff management routes.
pub fn admin_routes(t: super::Table) -> super::Table {
    use super::{handler, Access::Authenticated as Auth};
    use axum::routing::{on, MethodFilter};
    t.api(
        "GET",
        "/api/v1/tariffs/{tenant}/imports",
        Auth,
        handler!(GET, list_imports),
    )
    .api(
        "POST",
        "/api/v1/tariffs/{tenant}/imports",
        Auth,
        import_route(handler!(POST, create_import)),
    )
    .api(
        "GET",
        "/api/v1/tariffs/{tenant}/imports/{id}",
        Auth,
        handler!(GET, get_import),
    )
    .api(
        "POST",
        "/api/v1/tariffs/{tenant}/imports/{id}/rollback",
        Auth,
        handler!(POST, rollback_import),
    )
    .api(
        "GET",
        "/api/v1/tariffs/{tenant}/exchange-rates",
        Auth,
        handler!(GET, list_exchange_rates),
    )
    .api(
        "PUT",
        "/api/v1/tariffs/{tenant}/exchange-rates/{month}",
        Auth,
        handler!(PUT, set_exchange_rate),
    )
}

/// The operations gateway's routes for the common tariff.
pub fn ops_routes(t: super::Table) -> super::Table {
    use super::{handler, Access::Authenticated as Auth};
    use axum::routing::{on, MethodFilter};
    t.api(
        "GET",
        "/api/v1/tariff/common/imports",
        Auth,
        handler!(GET, list_common_imports),
    )
    .api(
        "POST",
        "/api/v1/tariff/common/imports",
        Auth,
        import_route(handler!(POST, create_common_import)),
    )
    .api(
        "POST",
        "/api/v1/tariff/common/imports/{id}/rollback",
        Auth,
        handler!(POST, rollback_common_import),
    )
}
