//! Tariff search: words or a code prefix over an administration's nomenclature as of a date,
//! with links to the commodity in the API and on the portal. Public on the trader gateway,
//! authenticated on the administration gateway.

use crate::api::{path_param, ApiPath, ApiQuery};
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::routes::tariff_browse::parse_as_of;
use crate::state::{AppState, Caller};
use axum::extract::State;
use axum::Json;
use chrono::NaiveDate;
use portorium_kernel::TenantCode;
use portorium_tariff_search::{Hit, MatchedBy, Query, SearchError};
use serde::{Deserialize, Serialize};

/// Hits returned when `limit` is not given.
const DEFAULT_LIMIT: u32 = 20;
/// Most hits one request may ask for.
const MAX_LIMIT: u32 = 100;

/// `?q=&as_of=&limit=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Words (`"mobile phone"`), a code prefix of 2, 4, 6, 8 or 10 digits (`"0103 92"`,
    /// `"8471.30"`), or both (`"8471 portable"`).
    #[param(example = "horses")]
    pub q: String,
    /// The date the tariff is taken as of, `YYYY-MM-DD` (default today).
    pub as_of: Option<String>,
    /// Most results, 1 to 100 (default 20).
    pub limit: Option<u32>,
}

/// Where a result is shown.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchLinks {
    /// The commodity in the API.
    #[schema(example = "/api/v1/tariffs/NL/commodities/0103921100")]
    pub api: String,
    /// The commodity page on the portal.
    #[schema(example = "/tariff/NL/commodities/0103921100")]
    pub page: String,
}

/// A line of the nomenclature found.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchResult {
    #[schema(example = "0103921100")]
    pub code: String,
    #[schema(example = "80")]
    pub suffix: String,
    pub description: String,
    pub indent: u32,
    pub declarable: bool,
    /// Relevance (BM25) for text matches, higher is better; 1 for code matches.
    pub score: f32,
    /// `text` (found by its words) or `code` (found by its code prefix).
    #[schema(example = "text")]
    pub matched_by: String,
    pub links: SearchLinks,
}

/// The results of a search, best first (code matches in code order).
#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    #[schema(example = "NL")]
    pub tenant: String,
    pub q: String,
    pub as_of: NaiveDate,
    pub results: Vec<SearchResult>,
}

fn result(tenant: &TenantCode, hit: Hit) -> SearchResult {
    // Intermediate lines (suffix other than 80) are addressed with their suffix.
    let code = if hit.code.has_declarable_suffix() {
        hit.code.as_str().to_owned()
    } else {
        format!("{:#}", hit.code)
    };
    SearchResult {
        code: hit.code.as_str().to_owned(),
        suffix: hit.suffix,
        description: hit.description,
        indent: hit.indent,
        declarable: hit.declarable,
        score: hit.score,
        matched_by: match hit.matched_by {
            MatchedBy::Text => "text",
            MatchedBy::Code => "code",
        }
        .to_owned(),
        links: SearchLinks {
            api: format!("/api/v1/tariffs/{tenant}/commodities/{code}"),
            page: format!("/tariff/{tenant}/commodities/{code}"),
        },
    }
}

async fn search(state: &AppState, tenant: &str, q: SearchQuery) -> ApiResult<Json<SearchResults>> {
    let tenant: TenantCode = path_param("tenant", tenant)?;
    let as_of = parse_as_of(state, q.as_of.as_deref())?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::field(
            ErrorCode::InvalidQuery,
            "query:limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    if q.q.trim().is_empty() {
        return Err(empty_query());
    }
    let built = state.tariffs.get(&state.store, &tenant).await?;
    let hits = built
        .search
        .search(&Query {
            text: &q.q,
            as_of,
            limit: limit as usize,
        })
        .map_err(|e| match e {
            SearchError::EmptyQuery => empty_query(),
            SearchError::Limit { .. } => ApiError::field(
                ErrorCode::InvalidQuery,
                "query:limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ),
            e => {
                tracing::error!(error = %e, tenant = %tenant, "tariff search");
                ApiError::new(ErrorCode::Internal, "internal error; see the server log")
            }
        })?;
    Ok(Json(SearchResults {
        results: hits.into_iter().map(|h| result(&tenant, h)).collect(),
        tenant: tenant.to_string(),
        q: q.q,
        as_of,
    }))
}

fn empty_query() -> ApiError {
    ApiError::field(
        ErrorCode::InvalidQuery,
        "query:q",
        "must contain words or a code",
    )
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/search", tag = "tariff",
    params(("tenant" = String, Path, example = "NL"), SearchQuery),
    responses((status = 200, body = SearchResults), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn public_search(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<Json<SearchResults>> {
    search(&state, &tenant, q).await
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/search", tag = "tariff",
    params(("tenant" = String, Path, example = "NL"), SearchQuery),
    responses((status = 200, body = SearchResults), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn search_route(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<Json<SearchResults>> {
    search(&state, &tenant, q).await
}

/// The trader gateway's search route (anonymous).
pub fn public_routes(t: super::Table) -> super::Table {
    use super::{handler, Access::Public};
    use axum::routing::{on, MethodFilter};
    t.api(
        "GET",
        "/api/v1/tariffs/{tenant}/search",
        Public,
        handler!(GET, public_search),
    )
}

/// The administration gateway's search route (authenticated).
pub fn admin_routes(t: super::Table) -> super::Table {
    use super::{handler, Access::Authenticated as Auth};
    use axum::routing::{on, MethodFilter};
    t.api(
        "GET",
        "/api/v1/tariffs/{tenant}/search",
        Auth,
        handler!(GET, search_route),
    )
}
