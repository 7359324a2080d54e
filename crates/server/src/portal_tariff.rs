//! The public tariff pages of the portal: choose an administration, browse its goods
//! nomenclature, a commodity with the measures applying to an origin, the duty calculator and
//! a search box. Served anonymously on the trader gateway and to logged-in users on the
//! administration gateway (an anonymous visitor there is sent to the login page).
//!
//! Every page answers "as of" a date (`?as_of=YYYY-MM-DD`, today by default) and reuses the
//! JSON API's logic (`routes::tariff::commodity_view` and `duty_calculation`), so a page shows
//! exactly what the API answers. Nothing here changes state: every form is a GET, so no CSRF
//! token and no audit entry are involved. Bad input is an HTML page naming the problem (or,
//! in the calculator, a message next to the offending field), never a 500.

use crate::api::{path_param, ApiPath};
use crate::error::{ApiError, ErrorCode};
use crate::portal::{render, see_other, Layout};
use crate::routes::tariff::{
    commodity_view, duty_calculation, CommodityLine, CommodityQuery, DutyCalculationRequest,
    DutyCalculationView, MeasureView, Money, UnitPrice,
};
use crate::routes::{handler, Access, Table};
use crate::state::{AppState, Caller, MaybeCaller};
use crate::tariff::Built;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use chrono::NaiveDate;
use portorium_kernel::{Circle, TenantCode};
use portorium_store::Page;
use portorium_tariff::measures::{measure_type, AreaKind, MeasureKind};
use portorium_tariff::nomenclature::{GoodsCode, Nomenclature, NomenclatureItem};
use portorium_tariff_search::{Hit, MatchedBy, Query, SearchError};
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::str::FromStr;

/// Most lines listed on one browse page (the biggest CN headings have a few hundred).
const MAX_ROWS: usize = 2000;
/// Most quantity rows the calculator accepts.
const MAX_QUANTITIES: usize = 20;
/// Quantity rows the calculator always offers.
const MIN_QUANTITY_ROWS: usize = 3;

/// The tariff pages of a gateway (`t.circle`).
pub fn pages(t: Table) -> Table {
    use Access::Public;
    let c = t.circle;
    t.page(
        "GET",
        "/tariff",
        Public,
        handler!(GET, move |st: State<AppState>,
                            mc: MaybeCaller,
                            q: RawQuery| choose(
            c, st, mc, q
        )),
    )
    .page(
        "GET",
        "/tariff/{tenant}",
        Public,
        handler!(GET, move |st: State<AppState>,
                            mc: MaybeCaller,
                            p: ApiPath<String>,
                            q: RawQuery| root(
            c, st, mc, p, q
        )),
    )
    .page(
        "GET",
        "/tariff/{tenant}/browse/{code}",
        Public,
        handler!(GET, move |st: State<AppState>,
                            mc: MaybeCaller,
                            p: ApiPath<(String, String)>,
                            q: RawQuery| browse(
            c, st, mc, p, q
        )),
    )
    .page(
        "GET",
        "/tariff/{tenant}/commodities/{code}",
        Public,
        handler!(GET, move |st: State<AppState>,
                            mc: MaybeCaller,
                            p: ApiPath<(String, String)>,
                            q: RawQuery| commodity(
            c, st, mc, p, q
        )),
    )
    .page(
        "GET",
        "/tariff/{tenant}/calculator",
        Public,
        handler!(GET, move |st: State<AppState>,
                            mc: MaybeCaller,
                            h: HeaderMap,
                            p: ApiPath<String>,
                            q: RawQuery| calculator(
            c, st, mc, h, p, q
        )),
    )
    .page(
        "GET",
        "/tariff/{tenant}/search",
        Public,
        handler!(GET, move |st: State<AppState>,
                            mc: MaybeCaller,
                            p: ApiPath<String>,
                            q: RawQuery| search(
            c, st, mc, p, q
        )),
    )
}

// ---------------------------------------------------------------------------------------------
// Request helpers

/// The query string as (name, value) pairs, in order (repeated names kept).
fn params(q: &RawQuery) -> Vec<(String, String)> {
    q.0.as_deref()
        .map(|s| form_urlencoded::parse(s.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// The first value of a parameter, trimmed; `None` when absent or blank.
fn param<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Every value of a repeated parameter, trimmed (blank ones kept, to keep rows aligned).
fn all<'a>(p: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    p.iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .collect()
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// `?as_of=` or today.
fn as_of(state: &AppState, p: &[(String, String)]) -> Result<(NaiveDate, bool), ApiError> {
    match param(p, "as_of") {
        Some(s) => parse_date(s).map(|d| (d, true)).ok_or_else(|| {
            ApiError::field(
                ErrorCode::InvalidQuery,
                "query:as_of",
                format!("`{s}` is not a date; use YYYY-MM-DD, for example 2026-01-31"),
            )
        }),
        None => Ok((state.clock().now().date_naive(), false)),
    }
}

fn layout(circle: Circle, caller: &Option<Caller>) -> Layout {
    match caller {
        Some(c) => Layout::for_caller(circle, "tariff", c),
        None => Layout::anonymous(circle, "tariff"),
    }
}

/// On the administration gateway the pages are for logged-in users.
fn gate(circle: Circle, caller: &Option<Caller>) -> Option<Response> {
    (circle == Circle::Administration && caller.is_none()).then(|| see_other("/login"))
}

fn redirect(to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(v) => {
            let mut resp = StatusCode::SEE_OTHER.into_response();
            resp.headers_mut().insert(header::LOCATION, v);
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(_) => ApiError::new(ErrorCode::InvalidPath, "not a valid address").into_response(),
    }
}

/// A 10-digit code grouped for reading: `0103921100` → `0103 92 11 00`; chapters and headings
/// (`0100000000`, `0103000000`) as `01` and `0103`.
fn display_code(code: &GoodsCode) -> String {
    let s = code.as_str();
    match code.significant().len() {
        2 | 4 => code.significant().to_owned(),
        _ => format!("{} {} {} {}", &s[..4], &s[4..6], &s[6..8], &s[8..10]),
    }
}

/// An amount with thousands separators and two decimals: `1260.5` → `1,260.50`.
fn money(d: Decimal) -> String {
    let s = format!("{:.2}", d.round_dp(2));
    let (sign, s) = match s.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", s.as_str()),
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, "00"));
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{frac}")
}

// ---------------------------------------------------------------------------------------------
// Shared page context

struct TenantOption {
    code: String,
    name: String,
    selected: bool,
}

/// What every page of one administration's tariff shows in its header.
struct TariffCtx {
    tenant: String,
    tenant_name: String,
    currency: String,
    tenants: Vec<TenantOption>,
    /// The date the page is as of, `YYYY-MM-DD`.
    as_of: String,
    /// `?as_of=…` when the date was chosen (links keep it), else empty.
    q: String,
    /// `browse`, `commodity`, `calculator` or `search`: the current tab.
    tab: &'static str,
    /// The search box's text.
    search: String,
}

impl TariffCtx {
    fn href(&self, path: &str) -> String {
        format!("/tariff/{}{path}{}", self.tenant, self.q)
    }

    fn line_href(&self, item: &NomenclatureItem) -> String {
        if item.declarable {
            self.href(&format!("/commodities/{}", item.code.as_str()))
        } else {
            self.href(&format!("/browse/{:#}", item.code))
        }
    }

    fn line(&self, item: &NomenclatureItem, depth: usize) -> LineView {
        LineView {
            code: item.code.as_str().to_owned(),
            label: display_code(&item.code),
            description: item.description.clone(),
            declarable: item.declarable,
            supplementary_unit: item.supplementary_unit.clone(),
            depth: depth.min(12),
            href: self.line_href(item),
        }
    }
}

/// The administration and its built tariff, with the page header.
async fn context(
    state: &AppState,
    tenant: &str,
    p: &[(String, String)],
    tab: &'static str,
) -> Result<(TariffCtx, std::sync::Arc<Built>, NaiveDate), ApiError> {
    let code: TenantCode = path_param("tenant", &tenant.to_ascii_uppercase())?;
    let (date, explicit) = as_of(state, p)?;
    let row = state.store.get_tenant(&code).await?;
    let built = state.tariffs.get(&state.store, &code).await?;
    let (rows, _) = state.store.list_tenants(&Page::first(Page::MAX)).await?;
    let tenants = rows
        .into_iter()
        .map(|t| TenantOption {
            selected: t.code == code,
            code: t.code.to_string(),
            name: t.name,
        })
        .collect();
    let ctx = TariffCtx {
        tenant: code.to_string(),
        tenant_name: row.name,
        currency: row.currency.to_string(),
        tenants,
        as_of: date.format("%Y-%m-%d").to_string(),
        q: if explicit {
            format!("?as_of={}", date.format("%Y-%m-%d"))
        } else {
            String::new()
        },
        tab,
        search: param(p, "q").unwrap_or_default().to_owned(),
    };
    Ok((ctx, built, date))
}

/// The nomenclature as of `date`; the built one itself when every line is valid then.
fn tree_as_of(n: &Nomenclature, date: NaiveDate) -> Cow<'_, Nomenclature> {
    if n.items().iter().all(|i| i.is_valid_on(date)) {
        Cow::Borrowed(n)
    } else {
        Cow::Owned(n.as_of(date))
    }
}

// ---------------------------------------------------------------------------------------------
// Error page

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

fn error_page(
    circle: Circle,
    caller: &Option<Caller>,
    e: ApiError,
    back: Option<String>,
) -> Response {
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
    let (back, back_label) = match back {
        Some(b) => (b, "Back to the tariff"),
        None => ("/tariff".to_owned(), "Choose a tariff"),
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
        back_label,
    };
    render(&page, status, caller.is_some())
}

// ---------------------------------------------------------------------------------------------
// /tariff: choose an administration

struct AdministrationView {
    code: String,
    name: String,
    currency: String,
}

#[derive(Template)]
#[template(path = "tariff/choose.html")]
struct ChoosePage {
    layout: Layout,
    administrations: Vec<AdministrationView>,
}

async fn choose(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    q: RawQuery,
) -> Response {
    if let Some(r) = gate(circle, &caller) {
        return r;
    }
    let p = params(&q);
    // The tariff selector of every page submits here.
    if let Some(t) = param(&p, "tenant") {
        return match path_param::<TenantCode>("tenant", &t.to_ascii_uppercase()) {
            Ok(code) => {
                let keep = param(&p, "as_of")
                    .and_then(parse_date)
                    .map(|d| format!("?as_of={}", d.format("%Y-%m-%d")))
                    .unwrap_or_default();
                redirect(&format!("/tariff/{code}{keep}"))
            }
            Err(mut e) => {
                for f in &mut e.errors {
                    f.pointer = "query:tenant".into();
                }
                e.code = ErrorCode::InvalidQuery;
                error_page(circle, &caller, e, None)
            }
        };
    }
    match state.store.list_tenants(&Page::first(Page::MAX)).await {
        Ok((rows, _)) => {
            let page = ChoosePage {
                layout: layout(circle, &caller),
                administrations: rows
                    .into_iter()
                    .map(|t| AdministrationView {
                        code: t.code.to_string(),
                        name: t.name,
                        currency: t.currency.to_string(),
                    })
                    .collect(),
            };
            render(&page, StatusCode::OK, caller.is_some())
        }
        Err(e) => error_page(circle, &caller, e.into(), None),
    }
}

// ---------------------------------------------------------------------------------------------
// The tree

/// A nomenclature line in a list.
struct LineView {
    code: String,
    /// The code grouped for reading (`0103 92 11 00`).
    label: String,
    description: String,
    declarable: bool,
    supplementary_unit: Option<String>,
    /// Depth below the listed line (for the indentation class).
    depth: usize,
    href: String,
}

struct SectionView {
    numeral: Option<String>,
    title: Option<String>,
    chapters: Vec<LineView>,
}

#[derive(Template)]
#[template(path = "tariff/root.html")]
struct RootPage {
    layout: Layout,
    ctx: TariffCtx,
    sections: Vec<SectionView>,
}

fn sections(ctx: &TariffCtx, n: &Nomenclature) -> Vec<SectionView> {
    let chapters: Vec<&NomenclatureItem> = n.chapters().collect();
    let sectioned = chapters.iter().any(|c| c.section.is_some());
    if n.sections().is_empty() || !sectioned {
        return vec![SectionView {
            numeral: None,
            title: None,
            chapters: chapters.iter().map(|c| ctx.line(c, 0)).collect(),
        }];
    }
    let mut out: Vec<SectionView> = n
        .sections()
        .iter()
        .map(|s| SectionView {
            numeral: Some(s.numeral.clone()),
            title: s.title.clone(),
            chapters: chapters
                .iter()
                .filter(|c| c.section.as_deref() == Some(s.numeral.as_str()))
                .map(|c| ctx.line(c, 0))
                .collect(),
        })
        .filter(|s| !s.chapters.is_empty())
        .collect();
    let rest: Vec<LineView> = chapters
        .iter()
        .filter(|c| {
            c.section
                .as_ref()
                .is_none_or(|s| !n.sections().iter().any(|x| &x.numeral == s))
        })
        .map(|c| ctx.line(c, 0))
        .collect();
    if !rest.is_empty() {
        out.push(SectionView {
            numeral: None,
            title: Some("Other chapters".into()),
            chapters: rest,
        });
    }
    out
}

async fn root(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiPath(tenant): ApiPath<String>,
    q: RawQuery,
) -> Response {
    if let Some(r) = gate(circle, &caller) {
        return r;
    }
    let p = params(&q);
    let (ctx, built, date) = match context(&state, &tenant, &p, "browse").await {
        Ok(c) => c,
        Err(e) => return error_page(circle, &caller, e, None),
    };
    let n = tree_as_of(&built.data.nomenclature, date);
    let page = RootPage {
        layout: layout(circle, &caller),
        sections: sections(&ctx, &n),
        ctx,
    };
    render(&page, StatusCode::OK, caller.is_some())
}

#[derive(Template)]
#[template(path = "tariff/browse.html")]
struct BrowsePage {
    layout: Layout,
    ctx: TariffCtx,
    crumbs: Vec<LineView>,
    item: LineView,
    rows: Vec<LineView>,
    truncated: bool,
    /// The path of this page without the query, for the date form.
    action: String,
}

/// A line code in a browse URL: `01`, `0103`, `010392`, `01039211`, `0103921100` or with a
/// suffix `0103921100-10`.
fn line_code(s: &str) -> Result<GoodsCode, ApiError> {
    let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '.')).collect();
    let parsed = if matches!(digits.len(), 2 | 4 | 6 | 8) {
        GoodsCode::from_prefix(&digits)
    } else {
        digits.parse()
    };
    parsed.map_err(|e| ApiError::field(ErrorCode::InvalidPath, "path:code", e.to_string()))
}

/// The line with this code; without an explicit suffix, the first line with these digits.
fn find_line<'a>(n: &'a Nomenclature, code: &GoodsCode, raw: &str) -> Option<&'a NomenclatureItem> {
    n.get(code).or_else(|| {
        let explicit_suffix = raw.contains('-') || raw.contains('/') || raw.len() == 12;
        if explicit_suffix {
            return None;
        }
        n.lookup_prefix(code.as_str())
            .iter()
            .find(|i| i.code.as_str() == code.as_str())
    })
}

/// The lines under `item` in tree order with their depth (chapters: their headings only).
fn subtree<'a>(
    n: &'a Nomenclature,
    item: &NomenclatureItem,
) -> (Vec<(&'a NomenclatureItem, usize)>, bool) {
    let mut out = Vec::new();
    let deep = item.indent > 0;
    let mut stack: Vec<(&NomenclatureItem, usize)> = n
        .children(&item.code)
        .into_iter()
        .rev()
        .map(|c| (c, 0))
        .collect();
    while let Some((line, depth)) = stack.pop() {
        if out.len() == MAX_ROWS {
            return (out, true);
        }
        out.push((line, depth));
        if deep {
            stack.extend(
                n.children(&line.code)
                    .into_iter()
                    .rev()
                    .map(|c| (c, depth + 1)),
            );
        }
    }
    (out, false)
}

async fn browse(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiPath((tenant, raw)): ApiPath<(String, String)>,
    q: RawQuery,
) -> Response {
    if let Some(r) = gate(circle, &caller) {
        return r;
    }
    let p = params(&q);
    let back = format!("/tariff/{}", tenant.to_ascii_uppercase());
    let (ctx, built, date) = match context(&state, &tenant, &p, "browse").await {
        Ok(c) => c,
        Err(e) => return error_page(circle, &caller, e, None),
    };
    let code = match line_code(&raw) {
        Ok(c) => c,
        Err(e) => return error_page(circle, &caller, e, Some(back)),
    };
    let n = tree_as_of(&built.data.nomenclature, date);
    let Some(item) = find_line(&n, &code, &raw) else {
        let e = ApiError::not_found(format!(
            "There is no line {} in the tariff of {} on {}.",
            code.significant(),
            ctx.tenant,
            ctx.as_of
        ));
        return error_page(circle, &caller, e, Some(back));
    };
    if item.declarable {
        return redirect(&ctx.line_href(item));
    }
    let (rows, truncated) = subtree(&n, item);
    let page = BrowsePage {
        layout: layout(circle, &caller),
        crumbs: n
            .ancestors(&item.code)
            .iter()
            .map(|a| ctx.line(a, 0))
            .collect(),
        item: ctx.line(item, 0),
        rows: rows.iter().map(|(l, d)| ctx.line(l, *d)).collect(),
        truncated,
        action: format!("/tariff/{}/browse/{:#}", ctx.tenant, item.code),
        ctx,
    };
    render(&page, StatusCode::OK, caller.is_some())
}

// ---------------------------------------------------------------------------------------------
// Commodity

struct AreaOption {
    id: String,
    label: String,
    selected: bool,
}

struct AreaGroup {
    label: &'static str,
    options: Vec<AreaOption>,
}

/// The areas of the tariff on `date`, countries and regions first, then groups.
fn area_groups(built: &Built, date: NaiveDate, selected: &str) -> Vec<AreaGroup> {
    let mut countries = Vec::new();
    let mut groups = Vec::new();
    let mut areas: Vec<_> = built
        .data
        .tariff
        .areas
        .iter()
        .filter(|a| a.validity.contains(date))
        .collect();
    areas.sort_by(|a, b| a.id.cmp(&b.id));
    areas.dedup_by(|a, b| a.id == b.id);
    for a in areas {
        let label = match built.data.area_descriptions.get(&a.id) {
            Some(d) => format!("{} — {d}", a.id),
            None => a.id.clone(),
        };
        let opt = AreaOption {
            selected: a.id == selected,
            id: a.id.clone(),
            label,
        };
        match a.kind {
            AreaKind::Group => groups.push(opt),
            AreaKind::Country | AreaKind::Region => countries.push(opt),
        }
    }
    let mut out = Vec::new();
    if !countries.is_empty() {
        out.push(AreaGroup {
            label: "Countries and regions",
            options: countries,
        });
    }
    if !groups.is_empty() {
        out.push(AreaGroup {
            label: "Groups of countries",
            options: groups,
        });
    }
    out
}

/// The meaning of a TARIC condition action code (those the engine supports).
fn action_label(code: &str) -> &'static str {
    match code {
        "01" => "Apply the amount of the action",
        "04" => "Entry into free circulation not allowed",
        "05" => "Export not allowed",
        "06" | "09" => "Import/export not allowed after control",
        "07" => "Measure not applicable",
        "08" | "10" => "Declared subheading not allowed",
        "24" => "Entry into free circulation allowed",
        "25" => "Export allowed",
        "26" => "Import allowed",
        "27" => "Apply the mentioned duty",
        "28" => "Declared subheading allowed",
        "29" => "Import/export allowed after control",
        _ => "",
    }
}

struct ConditionRow {
    code: String,
    sequence: u32,
    certificate: Option<String>,
    threshold: Option<String>,
    action: String,
    action_label: &'static str,
    duty: String,
}

struct MeasureRow {
    m: MeasureView,
    validity: String,
    quota_href: Option<String>,
    conditions: Vec<ConditionRow>,
}

struct MeasureGroup {
    id: &'static str,
    title: &'static str,
    rows: Vec<MeasureRow>,
}

/// The portal's grouping of measure kinds, in display order.
const GROUPS: &[(&str, &str)] = &[
    ("duties", "Third-country duties and suspensions"),
    ("preferences", "Tariff preferences"),
    ("quotas", "Tariff quotas"),
    (
        "trade-defence",
        "Anti-dumping, countervailing and additional duties",
    ),
    ("taxes", "VAT and excise"),
    ("restrictions", "Prohibitions, restrictions and controls"),
];

fn group_of(kind: MeasureKind) -> &'static str {
    match kind {
        MeasureKind::ThirdCountry | MeasureKind::Suspension => "duties",
        MeasureKind::Preference => "preferences",
        MeasureKind::Quota => "quotas",
        MeasureKind::AntiDumping | MeasureKind::AdditionalDuty => "trade-defence",
        MeasureKind::Vat | MeasureKind::Excise => "taxes",
        MeasureKind::Prohibition | MeasureKind::Other => "restrictions",
    }
}

fn measure_groups(ctx: &TariffCtx, measures: Vec<MeasureView>) -> Vec<MeasureGroup> {
    let mut groups: Vec<MeasureGroup> = GROUPS
        .iter()
        .map(|(id, title)| MeasureGroup {
            id,
            title,
            rows: Vec::new(),
        })
        .collect();
    for m in measures {
        let gid = group_of(measure_type(&m.measure_type_id).kind);
        let validity = match m.valid_to {
            Some(to) => format!("{} to {}", m.valid_from, to),
            None => format!("from {}", m.valid_from),
        };
        let quota_href = m
            .order_number
            .as_ref()
            .map(|o| format!("/tariff/{}/quotas/{o}{}", ctx.tenant, ctx.q));
        let conditions = m
            .conditions
            .iter()
            .map(|c| ConditionRow {
                code: c.code.clone(),
                sequence: c.sequence,
                certificate: c.certificate.clone(),
                threshold: c.threshold.clone(),
                action: c.action.clone(),
                action_label: action_label(&c.action),
                duty: c.duty_expression.clone(),
            })
            .collect();
        if let Some(g) = groups.iter_mut().find(|g| g.id == gid) {
            g.rows.push(MeasureRow {
                m,
                validity,
                quota_href,
                conditions,
            });
        }
    }
    for g in &mut groups {
        g.rows.sort_by(|a, b| {
            (
                &a.m.measure_type_id,
                &a.m.geographical_area,
                a.m.measure_sid,
            )
                .cmp(&(
                    &b.m.measure_type_id,
                    &b.m.geographical_area,
                    b.m.measure_sid,
                ))
        });
    }
    groups.retain(|g| !g.rows.is_empty());
    groups
}

#[derive(Template)]
#[template(path = "tariff/commodity.html")]
struct CommodityPage {
    layout: Layout,
    ctx: TariffCtx,
    crumbs: Vec<LineView>,
    code: String,
    label: String,
    description: String,
    supplementary_unit: Option<String>,
    origin: Option<String>,
    origin_label: String,
    areas: Vec<AreaGroup>,
    groups: Vec<MeasureGroup>,
    count: usize,
    action: String,
    calculator_href: String,
}

fn crumb(ctx: &TariffCtx, l: &CommodityLine) -> LineView {
    let code = GoodsCode::with_suffix(&l.code, &l.suffix).ok();
    LineView {
        label: code
            .as_ref()
            .map(display_code)
            .unwrap_or_else(|| l.code.clone()),
        href: match code {
            Some(c) => ctx.href(&format!("/browse/{c:#}")),
            None => ctx.href(""),
        },
        code: l.code.clone(),
        description: l.description.clone(),
        declarable: l.declarable,
        supplementary_unit: l.supplementary_unit.clone(),
        depth: 0,
    }
}

async fn commodity(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiPath((tenant, code)): ApiPath<(String, String)>,
    q: RawQuery,
) -> Response {
    if let Some(r) = gate(circle, &caller) {
        return r;
    }
    let p = params(&q);
    let back = format!("/tariff/{}", tenant.to_ascii_uppercase());
    let (ctx, built, date) = match context(&state, &tenant, &p, "commodity").await {
        Ok(c) => c,
        Err(e) => return error_page(circle, &caller, e, None),
    };
    let origin = param(&p, "origin").map(str::to_owned);
    let query = CommodityQuery {
        origin: origin.clone(),
        as_of: Some(ctx.as_of.clone()),
    };
    let view = match commodity_view(&state, &ctx.tenant, &code, query).await {
        Ok(v) => v.0,
        Err(e) => return error_page(circle, &caller, e, Some(back)),
    };
    if !view.commodity.declarable {
        let to = match GoodsCode::with_suffix(&view.commodity.code, &view.commodity.suffix) {
            Ok(c) => ctx.href(&format!("/browse/{c:#}")),
            Err(_) => ctx.href(""),
        };
        return redirect(&to);
    }
    let selected = view.origin.clone().unwrap_or_default();
    let origin_label = match &view.origin {
        Some(o) => match built.data.area_descriptions.get(o) {
            Some(d) => format!("{d} ({o})"),
            None => o.clone(),
        },
        None => String::new(),
    };
    let mut calc = format!(
        "/tariff/{}/calculator?commodity_code={}&date={}",
        ctx.tenant, view.commodity.code, ctx.as_of
    );
    if let Some(o) = &view.origin {
        calc.push_str("&origin=");
        calc.extend(form_urlencoded::byte_serialize(o.as_bytes()));
    }
    let label = GoodsCode::new(&view.commodity.code)
        .map(|c| display_code(&c))
        .unwrap_or_else(|_| view.commodity.code.clone());
    let count = view.measures.len();
    let page = CommodityPage {
        layout: layout(circle, &caller),
        crumbs: view.ancestors.iter().map(|a| crumb(&ctx, a)).collect(),
        code: view.commodity.code.clone(),
        label,
        description: view.commodity.description.clone(),
        supplementary_unit: view.commodity.supplementary_unit.clone(),
        origin,
        origin_label,
        areas: area_groups(&built, date, &selected),
        groups: measure_groups(&ctx, view.measures),
        count,
        action: format!("/tariff/{}/commodities/{}", ctx.tenant, view.commodity.code),
        calculator_href: calc,
        ctx,
    };
    render(&page, StatusCode::OK, caller.is_some())
}

// ---------------------------------------------------------------------------------------------
// Duty calculator

/// The calculator's fields as submitted (text, shown back in the form).
#[derive(Default)]
struct CalcForm {
    commodity_code: String,
    origin: String,
    date: String,
    value_amount: String,
    value_currency: String,
    quantities: Vec<(String, String)>,
    additional_codes: String,
    documents: String,
    meursing_code: String,
    price_amount: String,
    price_currency: String,
}

impl CalcForm {
    fn from_params(p: &[(String, String)], default_date: &str, currency: &str) -> Self {
        let get = |n: &str| param(p, n).unwrap_or_default().to_owned();
        let units = all(p, "qty_unit");
        let values = all(p, "qty_value");
        let quantities = (0..units.len().max(values.len()))
            .map(|i| {
                (
                    units.get(i).copied().unwrap_or_default().to_owned(),
                    values.get(i).copied().unwrap_or_default().to_owned(),
                )
            })
            .filter(|(u, v)| !u.is_empty() || !v.is_empty())
            .collect();
        let or = |v: String, d: &str| if v.is_empty() { d.to_owned() } else { v };
        Self {
            commodity_code: get("commodity_code"),
            origin: get("origin").to_ascii_uppercase(),
            date: or(get("date"), default_date),
            value_amount: get("value_amount"),
            value_currency: or(get("value_currency"), currency),
            quantities,
            additional_codes: get("additional_codes"),
            documents: get("documents"),
            meursing_code: get("meursing_code"),
            price_amount: get("price_amount"),
            price_currency: or(get("price_currency"), "EUR"),
        }
    }
}

/// Field errors by form field (`commodity_code`, `quantities`, …; `form` for the whole form).
#[derive(Default)]
struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    fn add(&mut self, field: &'static str, msg: impl Into<String>) {
        if !self.0.iter().any(|(f, _)| *f == field) {
            self.0.push((field, msg.into()));
        }
    }
    fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// The form field of a problem pointer of the duty-calculation API.
fn field_of(pointer: &str) -> &'static str {
    const FIELDS: &[&str] = &[
        "commodity_code",
        "origin",
        "date",
        "customs_value",
        "quantities",
        "additional_codes",
        "documents",
        "meursing_code",
        "unit_price",
    ];
    let first = pointer
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("");
    FIELDS
        .iter()
        .find(|f| **f == first)
        .copied()
        .unwrap_or("form")
}

fn decimal(s: &str) -> Option<Decimal> {
    let compact: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_')
        .collect();
    Decimal::from_str(&compact).ok()
}

fn list(s: &str) -> Vec<String> {
    s.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_uppercase)
        .collect()
}

/// The API request of a filled-in form, or the errors of its fields.
fn calc_request(f: &CalcForm, errors: &mut FieldErrors) -> Option<DutyCalculationRequest> {
    if f.commodity_code.is_empty() {
        errors.add("commodity_code", "Enter the commodity code, 10 digits.");
    }
    if f.origin.is_empty() {
        errors.add("origin", "Choose the country or area of origin.");
    }
    let date = parse_date(&f.date);
    if date.is_none() {
        errors.add("date", "Enter a date as YYYY-MM-DD.");
    }
    let value = decimal(&f.value_amount);
    match value {
        None if f.value_amount.is_empty() => {
            errors.add("customs_value", "Enter the customs value.");
        }
        None => errors.add(
            "customs_value",
            "The customs value must be a number, e.g. 1260.89.",
        ),
        Some(_) => {}
    }
    let mut quantities = BTreeMap::new();
    if f.quantities.len() > MAX_QUANTITIES {
        errors.add(
            "quantities",
            format!("At most {MAX_QUANTITIES} quantities."),
        );
    }
    for (unit, v) in &f.quantities {
        let unit = unit.to_ascii_uppercase();
        let unit_ok =
            (3..=4).contains(&unit.len()) && unit.chars().all(|c| c.is_ascii_alphanumeric());
        if !unit_ok {
            errors.add(
                "quantities",
                format!("`{unit}` is not a unit code; use e.g. KGM, DTN, HLT, NAR or TNEI."),
            );
            continue;
        }
        match decimal(v) {
            Some(q) => {
                quantities.insert(unit, q);
            }
            None => errors.add(
                "quantities",
                format!("The quantity in {unit} must be a number."),
            ),
        }
    }
    let price = if f.price_amount.is_empty() {
        None
    } else {
        match decimal(&f.price_amount) {
            Some(a) => Some(UnitPrice {
                amount: a,
                currency: f.price_currency.clone(),
                unit: None,
            }),
            None => {
                errors.add("unit_price", "The unit price must be a number.");
                None
            }
        }
    };
    if !errors.0.is_empty() {
        return None;
    }
    Some(DutyCalculationRequest {
        commodity_code: f.commodity_code.clone(),
        origin: f.origin.clone(),
        date,
        customs_value: Money {
            amount: value.unwrap_or_default(),
            currency: f.value_currency.clone(),
        },
        quantities,
        additional_codes: list(&f.additional_codes),
        documents: list(&f.documents),
        meursing_code: (!f.meursing_code.is_empty()).then(|| f.meursing_code.clone()),
        unit_price: price,
    })
}

struct QtyRow {
    n: usize,
    unit: String,
    value: String,
}

struct DutyLineRow {
    measure_type_id: String,
    description: String,
    duty_expression: String,
    formula: String,
    amount: String,
    currency: String,
}

struct OptionRow {
    n: usize,
    kind: String,
    kind_label: &'static str,
    measure_type_id: String,
    measure_type: String,
    area: String,
    area_label: String,
    order_number: Option<String>,
    quota_href: Option<String>,
    additional_code: Option<String>,
    lines: Vec<DutyLineRow>,
    vat_base: String,
    total: String,
    cheapest: bool,
}

struct ProhibitionRow {
    measure_type_id: String,
    description: String,
    reason: String,
}

struct CalcResult {
    options: Vec<OptionRow>,
    prohibitions: Vec<ProhibitionRow>,
    currency: String,
    exchange_rate: Option<String>,
    date: String,
    cheapest_total: Option<String>,
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "third_country" => "Third-country duty",
        "preference" => "Tariff preference",
        "suspension" => "Suspension",
        "quota" => "Tariff quota",
        _ => "Other",
    }
}

fn calc_result(ctx: &TariffCtx, built: &Built, v: DutyCalculationView<'_>) -> CalcResult {
    let cheapest_total = v
        .cheapest
        .and_then(|i| v.options.get(i))
        .map(|o| money(o.total));
    let options = v
        .options
        .into_iter()
        .enumerate()
        .map(|(i, o)| OptionRow {
            n: i + 1,
            kind_label: kind_label(o.kind),
            measure_type: measure_type(o.measure_type_id).description,
            area_label: built
                .data
                .area_descriptions
                .get(o.geographical_area)
                .cloned()
                .unwrap_or_default(),
            quota_href: o
                .order_number
                .map(|n| format!("/tariff/{}/quotas/{n}?as_of={}", ctx.tenant, v.date)),
            kind: o.kind.to_owned(),
            measure_type_id: o.measure_type_id.to_owned(),
            area: o.geographical_area.to_owned(),
            order_number: o.order_number.map(str::to_owned),
            additional_code: o.additional_code.map(str::to_owned),
            lines: o
                .lines
                .into_iter()
                .map(|l| DutyLineRow {
                    measure_type_id: l.measure_type_id.to_owned(),
                    description: l.description.to_owned(),
                    duty_expression: l.duty_expression.to_owned(),
                    formula: l.formula.to_owned(),
                    amount: money(l.amount),
                    currency: l.currency.to_owned(),
                })
                .collect(),
            vat_base: money(o.vat_base),
            total: money(o.total),
            cheapest: v.cheapest == Some(i),
        })
        .collect();
    CalcResult {
        options,
        prohibitions: v
            .prohibitions
            .into_iter()
            .map(|p| ProhibitionRow {
                measure_type_id: p.measure_type_id.to_owned(),
                description: p.description.to_owned(),
                reason: p.reason.to_owned(),
            })
            .collect(),
        currency: v.currency.to_owned(),
        exchange_rate: v.exchange_rate.map(|r| r.normalize().to_string()),
        date: v.date.format("%Y-%m-%d").to_string(),
        cheapest_total,
    }
}

#[derive(Template)]
#[template(path = "tariff/calculator.html")]
struct CalculatorPage {
    layout: Layout,
    ctx: TariffCtx,
    form: CalcForm,
    quantities: Vec<QtyRow>,
    currencies: Vec<String>,
    areas: Vec<AreaGroup>,
    errors: FieldErrors,
    result: Option<CalcResult>,
    action: String,
    units: &'static [&'static str],
}

impl CalculatorPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }
}

const UNITS: &[&str] = &[
    "KGM", "DTN", "TNE", "GRM", "LTR", "HLT", "ASV", "LPA", "NAR", "MIL", "MTQ", "MTK", "KNS",
];

async fn calculator(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    q: RawQuery,
) -> Response {
    if let Some(r) = gate(circle, &caller) {
        return r;
    }
    let p = params(&q);
    let (ctx, built, date) = match context(&state, &tenant, &p, "calculator").await {
        Ok(c) => c,
        Err(e) => return error_page(circle, &caller, e, None),
    };
    let form = CalcForm::from_params(&p, &ctx.as_of, &ctx.currency);
    let submitted = param(&p, "calculate").is_some();
    let mut errors = FieldErrors::default();
    let mut result = None;
    let mut status = StatusCode::OK;
    if submitted {
        if let Some(req) = calc_request(&form, &mut errors) {
            match duty_calculation(&state, &ctx.tenant, req).await {
                Ok(v) => result = Some(calc_result(&ctx, &built, v.view())),
                Err(e) => {
                    if e.code.status().is_server_error() {
                        return error_page(circle, &caller, e, Some(ctx.href("/calculator")));
                    }
                    status = e.code.status();
                    if e.errors.is_empty() {
                        errors.add("form", e.detail);
                    }
                    for fe in e.errors {
                        errors.add(field_of(&fe.pointer), fe.detail);
                    }
                }
            }
        } else {
            status = StatusCode::BAD_REQUEST;
        }
    }
    // htmx only swaps successful responses in; it asks for the page and selects the form.
    if headers.contains_key("hx-request") {
        status = StatusCode::OK;
    }
    let filled = form.quantities.len();
    let quantities = (0..(filled + 1).max(MIN_QUANTITY_ROWS))
        .map(|i| {
            let (unit, value) = form.quantities.get(i).cloned().unwrap_or_default();
            QtyRow {
                n: i + 1,
                unit,
                value,
            }
        })
        .collect();
    let mut currencies = vec!["EUR".to_owned()];
    if ctx.currency != "EUR" {
        currencies.insert(0, ctx.currency.clone());
    }
    let calc_date = parse_date(&form.date).unwrap_or(date);
    let page = CalculatorPage {
        layout: layout(circle, &caller),
        areas: area_groups(&built, calc_date, &form.origin),
        action: format!("/tariff/{}/calculator", ctx.tenant),
        ctx,
        form,
        quantities,
        currencies,
        errors,
        result,
        units: UNITS,
    };
    render(&page, status, caller.is_some())
}

// ---------------------------------------------------------------------------------------------
// Search

struct SearchHit {
    label: String,
    description: String,
    declarable: bool,
    /// Found by its code rather than its description.
    by_code: bool,
    href: String,
    context: String,
}

#[derive(Template)]
#[template(path = "tariff/search.html")]
struct SearchPage {
    layout: Layout,
    ctx: TariffCtx,
    query: String,
    hits: Vec<SearchHit>,
    truncated: bool,
    action: String,
}

/// Most results listed.
const MAX_HITS: usize = 100;

/// A result with its ancestors' descriptions as context.
fn search_hit(ctx: &TariffCtx, n: &Nomenclature, h: &Hit) -> SearchHit {
    let href = if h.declarable {
        ctx.href(&format!("/commodities/{}", h.code.as_str()))
    } else {
        ctx.href(&format!("/browse/{:#}", h.code))
    };
    SearchHit {
        label: display_code(&h.code),
        description: h.description.clone(),
        declarable: h.declarable,
        by_code: h.matched_by == MatchedBy::Code,
        href,
        context: n
            .ancestors(&h.code)
            .iter()
            .map(|a| a.description.as_str())
            .collect::<Vec<_>>()
            .join(" › "),
    }
}

async fn search(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    ApiPath(tenant): ApiPath<String>,
    q: RawQuery,
) -> Response {
    if let Some(r) = gate(circle, &caller) {
        return r;
    }
    let p = params(&q);
    let (ctx, built, date) = match context(&state, &tenant, &p, "search").await {
        Ok(c) => c,
        Err(e) => return error_page(circle, &caller, e, None),
    };
    let query: String = ctx.search.chars().take(200).collect();
    let (hits, truncated) = if query.is_empty() {
        (Vec::new(), false)
    } else {
        let q = Query {
            text: &query,
            as_of: date,
            limit: MAX_HITS + 1,
        };
        match built.search.search(&q) {
            Ok(found) => {
                let n = &built.data.nomenclature;
                let hits = found
                    .iter()
                    .take(MAX_HITS)
                    .map(|h| search_hit(&ctx, n, h))
                    .collect();
                (hits, found.len() > MAX_HITS)
            }
            Err(SearchError::EmptyQuery) => (Vec::new(), false),
            Err(e) => {
                tracing::error!(error = %e, "tariff search");
                let e = ApiError::new(ErrorCode::Internal, "search failed");
                return error_page(circle, &caller, e, Some(ctx.href("")));
            }
        }
    };
    let page = SearchPage {
        layout: layout(circle, &caller),
        action: format!("/tariff/{}/search", ctx.tenant),
        ctx,
        query,
        hits,
        truncated,
    };
    render(&page, StatusCode::OK, caller.is_some())
}
