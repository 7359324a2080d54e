//! Browsing an administration's tariff as of a date: sections with their chapters, a
//! chapter's headings, any line's subtree, and the geographical areas with their members.
//! Public on the trader gateway, authenticated on the administration gateway.

use crate::api::{ApiPath, ApiQuery};
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::routes::tariff::CommodityLine;
use crate::state::{AppState, Caller};
use crate::tariff::Built;
use axum::extract::State;
use axum::Json;
use chrono::NaiveDate;
use portorium_kernel::TenantCode;
use portorium_tariff::measures::AreaKind;
use portorium_tariff::nomenclature::{GoodsCode, Nomenclature, NomenclatureItem};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `?as_of=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AsOfQuery {
    /// The date the tariff is taken as of, `YYYY-MM-DD` (default today).
    pub as_of: Option<String>,
}

pub(crate) fn parse_as_of(state: &AppState, as_of: Option<&str>) -> ApiResult<NaiveDate> {
    match as_of {
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            ApiError::field(
                ErrorCode::InvalidQuery,
                "query:as_of",
                "must be a date, YYYY-MM-DD",
            )
        }),
        None => Ok(state.clock().now().date_naive()),
    }
}

async fn load(
    state: &AppState,
    tenant: &str,
    as_of: Option<&str>,
) -> ApiResult<(Arc<Built>, NaiveDate, Nomenclature)> {
    let tenant: TenantCode = crate::api::path_param("tenant", tenant)?;
    let date = parse_as_of(state, as_of)?;
    let built = state.tariffs.get(&state.store, &tenant).await?;
    let nomenclature = built.data.nomenclature.as_of(date);
    Ok((built, date, nomenclature))
}

/// A chapter in a section list.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ChapterSummary {
    #[schema(example = "01")]
    pub chapter: String,
    pub code: String,
    pub description: String,
}

/// A section of the nomenclature with its chapters.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SectionView {
    /// Roman numeral, e.g. `"I"`; `null` for chapters of no known section.
    pub numeral: Option<String>,
    pub title: Option<String>,
    pub chapters: Vec<ChapterSummary>,
}

/// The sections and chapters of a tariff.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SectionsView {
    pub tenant: String,
    pub as_of: NaiveDate,
    pub sections: Vec<SectionView>,
}

fn sections_of(n: &Nomenclature) -> Vec<SectionView> {
    let mut out: Vec<SectionView> = n
        .sections()
        .iter()
        .map(|s| SectionView {
            numeral: Some(s.numeral.clone()),
            title: s.title.clone(),
            chapters: Vec::new(),
        })
        .collect();
    for ch in n.chapters() {
        let summary = ChapterSummary {
            chapter: ch.code.significant().to_owned(),
            code: ch.code.as_str().to_owned(),
            description: ch.description.clone(),
        };
        let slot = out
            .iter_mut()
            .position(|s| s.numeral.is_some() && s.numeral == ch.section);
        match slot {
            Some(i) => out[i].chapters.push(summary),
            None => match out.iter_mut().find(|s| s.numeral.is_none()) {
                Some(s) => s.chapters.push(summary),
                None => out.push(SectionView {
                    numeral: None,
                    title: None,
                    chapters: vec![summary],
                }),
            },
        }
    }
    out.retain(|s| !s.chapters.is_empty());
    out
}

async fn sections(state: &AppState, tenant: &str, q: AsOfQuery) -> ApiResult<Json<SectionsView>> {
    let (built, as_of, n) = load(state, tenant, q.as_of.as_deref()).await?;
    Ok(Json(SectionsView {
        tenant: built.tenant.as_str().to_owned(),
        as_of,
        sections: sections_of(&n),
    }))
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/sections", tag = "tariff",
    params(("tenant" = String, Path, example = "NL"), AsOfQuery),
    responses((status = 200, body = SectionsView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn public_sections(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> ApiResult<Json<SectionsView>> {
    sections(&state, &tenant, q).await
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/sections", tag = "tariff",
    params(("tenant" = String, Path, example = "NL"), AsOfQuery),
    responses((status = 200, body = SectionsView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn sections_route(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> ApiResult<Json<SectionsView>> {
    sections(&state, &tenant, q).await
}

/// A line with its children (one level down) and whether each child has children.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TreeNode {
    pub line: CommodityLine,
    pub has_children: bool,
}

/// A line of the nomenclature (chapter, heading, subheading) and the lines directly under it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LineView {
    pub tenant: String,
    pub as_of: NaiveDate,
    pub line: CommodityLine,
    /// Root (chapter) first.
    pub ancestors: Vec<CommodityLine>,
    pub children: Vec<TreeNode>,
}

/// `chapter`: 2 digits; `heading`: 4 digits; `line`: a full code (10 digits, optional
/// suffix) or any 2/4/6/8-digit prefix naming a line.
fn resolve<'n>(
    n: &'n Nomenclature,
    code: &str,
    digits: Option<usize>,
) -> ApiResult<&'n NomenclatureItem> {
    let bad = |detail: String| ApiError::field(ErrorCode::InvalidPath, "path:code", detail);
    let clean: String = code.chars().filter(|c| !matches!(c, ' ' | '.')).collect();
    if let Some(d) = digits {
        if clean.len() != d || !clean.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(format!("must be {d} digits")));
        }
    }
    let parsed: Result<GoodsCode, _> = if clean.len() > 10 || clean.contains('-') {
        clean.parse()
    } else {
        GoodsCode::from_prefix(&clean)
    };
    let parsed = parsed.map_err(|e| bad(e.to_string()))?;
    if let Some(item) = n.get(&parsed) {
        return Ok(item);
    }
    // A line with this prefix whose own code is the prefix padded with zeros (any suffix).
    let padded = format!("{clean:0<10}");
    n.lookup_prefix(&clean)
        .iter()
        .find(|i| i.code.as_str() == padded)
        .ok_or_else(|| ApiError::not_found(format!("no line {code} in this tariff on this date")))
}

async fn line(
    state: &AppState,
    tenant: &str,
    code: &str,
    digits: Option<usize>,
    q: AsOfQuery,
) -> ApiResult<Json<LineView>> {
    let (built, as_of, n) = load(state, tenant, q.as_of.as_deref()).await?;
    let item = resolve(&n, code, digits)?;
    let children = n
        .children(&item.code)
        .into_iter()
        .map(|c| TreeNode {
            line: c.into(),
            has_children: !n.children(&c.code).is_empty(),
        })
        .collect();
    Ok(Json(LineView {
        tenant: built.tenant.as_str().to_owned(),
        as_of,
        line: item.into(),
        ancestors: n
            .ancestors(&item.code)
            .into_iter()
            .map(CommodityLine::from)
            .collect(),
        children,
    }))
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/chapters/{code}", tag = "tariff",
    params(("tenant" = String, Path, example = "NL"), ("code" = String, Path, example = "01"), AsOfQuery),
    responses((status = 200, body = LineView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn public_chapter(
    State(state): State<AppState>,
    ApiPath((tenant, code)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> ApiResult<Json<LineView>> {
    line(&state, &tenant, &code, Some(2), q).await
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/chapters/{code}", tag = "tariff",
    params(("tenant" = String, Path, example = "NL"), ("code" = String, Path, example = "01"), AsOfQuery),
    responses((status = 200, body = LineView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn chapter_route(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((tenant, code)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> ApiResult<Json<LineView>> {
    line(&state, &tenant, &code, Some(2), q).await
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/headings/{code}", tag = "tariff",
    params(("tenant" = String, Path, example = "NL"), ("code" = String, Path, example = "0103"), AsOfQuery),
    responses((status = 200, body = LineView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn public_heading(
    State(state): State<AppState>,
    ApiPath((tenant, code)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> ApiResult<Json<LineView>> {
    line(&state, &tenant, &code, Some(4), q).await
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/headings/{code}", tag = "tariff",
    params(("tenant" = String, Path, example = "NL"), ("code" = String, Path, example = "0103"), AsOfQuery),
    responses((status = 200, body = LineView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn heading_route(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((tenant, code)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> ApiResult<Json<LineView>> {
    line(&state, &tenant, &code, Some(4), q).await
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/lines/{code}", tag = "tariff",
    params(("tenant" = String, Path, example = "NL"), ("code" = String, Path, example = "010392"), AsOfQuery),
    responses((status = 200, body = LineView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn public_line(
    State(state): State<AppState>,
    ApiPath((tenant, code)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> ApiResult<Json<LineView>> {
    line(&state, &tenant, &code, None, q).await
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/lines/{code}", tag = "tariff",
    params(("tenant" = String, Path, example = "NL"), ("code" = String, Path, example = "010392"), AsOfQuery),
    responses((status = 200, body = LineView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn line_route(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((tenant, code)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> ApiResult<Json<LineView>> {
    line(&state, &tenant, &code, None, q).await
}

// ---- geographical areas ----

/// A geographical area as of a date.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AreaView {
    #[schema(example = "1011")]
    pub id: String,
    /// `country`, `group` or `region`.
    pub kind: String,
    pub description: Option<String>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    /// For groups: the members on the date.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
    /// The groups this area is a member of on the date.
    pub member_of: Vec<String>,
}

/// The geographical areas of a tariff.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AreasView {
    pub as_of: NaiveDate,
    pub items: Vec<AreaView>,
}

/// `?as_of=&kind=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AreasQuery {
    /// `YYYY-MM-DD`, default today.
    pub as_of: Option<String>,
    /// Only `country`, `group` or `region`.
    pub kind: Option<String>,
}

fn kind_str(k: AreaKind) -> &'static str {
    match k {
        AreaKind::Country => "country",
        AreaKind::Group => "group",
        AreaKind::Region => "region",
    }
}

fn area_view(built: &Built, id: &str, date: NaiveDate) -> Option<AreaView> {
    let t = &built.data.tariff;
    let a = t.area(id)?;
    let mut members: Vec<String> = t
        .memberships
        .iter()
        .filter(|m| m.group == a.id && m.validity.contains(date))
        .map(|m| m.member.clone())
        .collect();
    members.sort();
    members.dedup();
    let mut member_of: Vec<String> = t
        .memberships
        .iter()
        .filter(|m| m.member == a.id && m.validity.contains(date))
        .map(|m| m.group.clone())
        .collect();
    member_of.sort();
    member_of.dedup();
    Some(AreaView {
        id: a.id.clone(),
        kind: kind_str(a.kind).to_owned(),
        description: built.data.area_descriptions.get(&a.id).cloned(),
        valid_from: a.validity.start,
        valid_to: a.validity.end,
        members,
        member_of,
    })
}

async fn areas(state: &AppState, tenant: &str, q: AreasQuery) -> ApiResult<Json<AreasView>> {
    let kind = match q.kind.as_deref() {
        None => None,
        Some(k @ ("country" | "group" | "region")) => Some(k.to_owned()),
        Some(_) => {
            return Err(ApiError::field(
                ErrorCode::InvalidQuery,
                "query:kind",
                "must be country, group or region",
            ))
        }
    };
    let tenant: TenantCode = crate::api::path_param("tenant", tenant)?;
    let date = parse_as_of(state, q.as_of.as_deref())?;
    let built = state.tariffs.get(&state.store, &tenant).await?;
    let mut items: Vec<AreaView> = built
        .data
        .tariff
        .areas
        .iter()
        .filter(|a| a.validity.contains(date))
        .filter(|a| kind.as_deref().is_none_or(|k| kind_str(a.kind) == k))
        .filter_map(|a| area_view(&built, &a.id, date))
        .collect();
    items.sort_by(|a, b| a.id.cmp(&b.id));
    items.dedup_by(|a, b| a.id == b.id);
    Ok(Json(AreasView { as_of: date, items }))
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/geographical-areas", tag = "tariff",
    params(("tenant" = String, Path, example = "NL"), AreasQuery),
    responses((status = 200, body = AreasView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn public_areas(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<AreasQuery>,
) -> ApiResult<Json<AreasView>> {
    areas(&state, &tenant, q).await
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/geographical-areas", tag = "tariff",
    params(("tenant" = String, Path, example = "NL"), AreasQuery),
    responses((status = 200, body = AreasView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn areas_route(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<AreasQuery>,
) -> ApiResult<Json<AreasView>> {
    areas(&state, &tenant, q).await
}

async fn area(state: &AppState, tenant: &str, id: &str, q: AsOfQuery) -> ApiResult<Json<AreaView>> {
    let tenant: TenantCode = crate::api::path_param("tenant", tenant)?;
    let date = parse_as_of(state, q.as_of.as_deref())?;
    let built = state.tariffs.get(&state.store, &tenant).await?;
    let id = id.to_ascii_uppercase();
    area_view(&built, &id, date)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no geographical area {id} in this tariff")))
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/geographical-areas/{id}", tag = "tariff",
    params(("tenant" = String, Path, example = "NL"), ("id" = String, Path, example = "1011"), AsOfQuery),
    responses((status = 200, body = AreaView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn public_area(
    State(state): State<AppState>,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> ApiResult<Json<AreaView>> {
    area(&state, &tenant, &id, q).await
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/geographical-areas/{id}", tag = "tariff",
    params(("tenant" = String, Path, example = "NL"), ("id" = String, Path, example = "1011"), AsOfQuery),
    responses((status = 200, body = AreaView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn area_route(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> ApiResult<Json<AreaView>> {
    area(&state, &tenant, &id, q).await
}

/// The browsing routes of the trader gateway (public).
pub fn public_routes(t: super::Table) -> super::Table {
    use super::{handler, Access::Public};
    use axum::routing::{on, MethodFilter};
    t.api(
        "GET",
        "/api/v1/tariffs/{tenant}/sections",
        Public,
        handler!(GET, public_sections),
    )
    .api(
        "GET",
        "/api/v1/tariffs/{tenant}/chapters/{code}",
        Public,
        handler!(GET, public_chapter),
    )
    .api(
        "GET",
        "/api/v1/tariffs/{tenant}/headings/{code}",
        Public,
        handler!(GET, public_heading),
    )
    .api(
        "GET",
        "/api/v1/tariffs/{tenant}/lines/{code}",
        Public,
        handler!(GET, public_line),
    )
    .api(
        "GET",
        "/api/v1/tariffs/{tenant}/geographical-areas",
        Public,
        handler!(GET, public_areas),
    )
    .api(
        "GET",
        "/api/v1/tariffs/{tenant}/geographical-areas/{id}",
        Public,
        handler!(GET, public_area),
    )
}

/// The browsing routes of the administration gateway (authenticated).
pub fn admin_routes(t: super::Table) -> super::Table {
    use super::{handler, Access::Authenticated as Auth};
    use axum::routing::{on, MethodFilter};
    t.api(
        "GET",
        "/api/v1/tariffs/{tenant}/sections",
        Auth,
        handler!(GET, sections_route),
    )
    .api(
        "GET",
        "/api/v1/tariffs/{tenant}/chapters/{code}",
        Auth,
        handler!(GET, chapter_route),
    )
    .api(
        "GET",
        "/api/v1/tariffs/{tenant}/headings/{code}",
        Auth,
        handler!(GET, heading_route),
    )
    .api(
        "GET",
        "/api/v1/tariffs/{tenant}/lines/{code}",
        Auth,
        handler!(GET, line_route),
    )
    .api(
        "GET",
        "/api/v1/tariffs/{tenant}/geographical-areas",
        Auth,
        handler!(GET, areas_route),
    )
    .api(
        "GET",
        "/api/v1/tariffs/{tenant}/geographical-areas/{id}",
        Auth,
        handler!(GET, area_route),
    )
}
