//! The declaration pages of the portal (issue 4, section 6).
//!
//! On the trader gateway (a logged-in trader): the trader's transit movements (departures and
//! arrivals) and WCO DMS declarations; lodging a transit declaration by filling a form (which
//! builds a CC015C) or by uploading a CC015C XML file, and lodging a DMS declaration by
//! uploading its `MetaData` XML; a movement page with its messages (each body viewable) and
//! state history; a DMS declaration page with its notifications, assessments and history; and
//! the balance of the trader's own guarantees (with the access code, as the API asks).
//!
//! On the administration gateway (a logged-in officer): the work queue of the officer's
//! administration (movements and declarations awaiting a decision), a movement page with its
//! data, messages, history and lane, a DMS declaration page, and the decisions as POST forms.
//!
//! Every page calls the same functions as the JSON API: `transit::lodge_departure`,
//! `transit::decide`, `dms::lodge`, `dms::decide`, the store's scoped reads, and the trader
//! guarantee balance handler itself. So the validation, the errors, the authorization and the
//! audit are the API's. Schema errors of a lodged form come back as XPaths and are shown next
//! to the form field they belong to; NCTS business-rule rejections (the movement is stored as
//! `rejected` with a CC056C, as the API does) are shown next to the fields too, with a link to
//! the stored movement.
//!
//! CSRF: forms carry the session's `csrf_token` field, urlencoded or as a part of the
//! multipart uploads (the authentication middleware reads both), so every form works
//! without JavaScript. With htmx the uploads are sent by htmx
//! (`hx-encoding="multipart/form-data"`), which also adds the `x-csrf-token` header from the
//! `hx-headers` attribute on `<body>`, and on success they answer with `HX-Redirect`.

use crate::api::ApiPath;
use crate::dms;
use crate::error::{ApiError, ErrorCode};
use crate::portal::{render, see_other, Form, Layout};
use crate::routes::declarations_admin::trader_guarantee_balance;
use crate::routes::{handler, Access, Table};
use crate::state::{AppState, Caller, MaybeCaller};
use crate::transit::{self, DecisionBody, DecisionKind};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use portorium_declarations::{Format, State as MovementState};
use portorium_kernel::{Circle, PrincipalId};
use portorium_store::{
    Direction, DmsDeclarationRow, DmsDetail, DmsFilter, GuaranteeRow, MovementHistoryRow,
    MovementKind, MovementMessageRow, MovementRow, Page, TransitFilter,
};
use portorium_trust::{Action, Resource, ResourceKind};
use rust_decimal::Decimal;
use std::str::FromStr;

/// Goods item rows the lodging form offers.
const ITEM_ROWS: usize = 3;
/// Rows per list on the pages.
const LIST_ROWS: u32 = 100;
/// The movement states an officer must decide on (as the API's `awaiting_decision`).
const AWAITING: [&str; 3] = ["under_control", "guarantee_invalid", "unloading_remarks"];
/// The DMS states an officer must decide on.
const DMS_AWAITING: [&str; 2] = ["under_control", "documents_required"];
/// The largest upload accepted (the body limit of the server applies too).
const MAX_UPLOAD: usize = 4 * 1024 * 1024;

/// The declaration pages of the gateway the table is for.
pub fn pages(t: Table) -> Table {
    match t.circle {
        Circle::Trader => trader_pages(t),
        Circle::Administration => officer_pages(t),
        Circle::Operations => t,
    }
}

fn trader_pages(t: Table) -> Table {
    use Access::Public;
    let c = t.circle;
    t.page(
        "GET",
        "/declarations",
        Public,
        handler!(
            GET,
            move |st: State<AppState>, mc: MaybeCaller| trader_list(c, st, mc)
        ),
    )
    .page(
        "GET",
        "/declarations/transit/new",
        Public,
        handler!(GET, move |st: State<AppState>, mc: MaybeCaller| new_form(
            c, st, mc
        )),
    )
    .page(
        "POST",
        "/declarations/transit",
        Public,
        handler!(POST, move |st: State<AppState>,
                             mc: MaybeCaller,
                             b: Bytes| lodge_form(
            c, st, mc, b
        )),
    )
    .page(
        "POST",
        "/declarations/transit/upload",
        Public,
        handler!(POST, move |st: State<AppState>,
                             mc: MaybeCaller,
                             h: HeaderMap,
                             m: Multipart| {
            lodge_upload(c, st, mc, h, m)
        }),
    )
    .page(
        "POST",
        "/declarations/dms/upload",
        Public,
        handler!(POST, move |st: State<AppState>,
                             mc: MaybeCaller,
                             h: HeaderMap,
                             m: Multipart| dms_upload(
            c, st, mc, h, m
        )),
    )
    .page(
        "GET",
        "/declarations/guarantees",
        Public,
        handler!(GET, move |st: State<AppState>, mc: MaybeCaller| guarantees(
            c, st, mc
        )),
    )
    .page(
        "POST",
        "/declarations/guarantees",
        Public,
        handler!(POST, move |st: State<AppState>,
                             mc: MaybeCaller,
                             b: Bytes| {
            guarantee_balance(c, st, mc, b)
        }),
    )
    .with(shared_pages)
}

fn officer_pages(t: Table) -> Table {
    use Access::Public;
    let c = t.circle;
    t.page(
        "GET",
        "/declarations",
        Public,
        handler!(GET, move |st: State<AppState>, mc: MaybeCaller| work_queue(
            c, st, mc
        )),
    )
    .page(
        "POST",
        "/declarations/transit/{id}/decision",
        Public,
        handler!(POST, move |st: State<AppState>,
                             mc: MaybeCaller,
                             p: Path<String>,
                             b: Bytes| {
            transit_decision(c, st, mc, p, b)
        }),
    )
    .page(
        "POST",
        "/declarations/dms/{id}/decision",
        Public,
        handler!(POST, move |st: State<AppState>,
                             mc: MaybeCaller,
                             p: Path<String>,
                             b: Bytes| dms_decision(
            c, st, mc, p, b
        )),
    )
    .with(shared_pages)
}

/// Pages on both gateways; what they show depends on the caller's scope.
fn shared_pages(t: Table) -> Table {
    use Access::Public;
    let c = t.circle;
    t.page(
        "GET",
        "/declarations/transit/{id}",
        Public,
        handler!(GET, move |st: State<AppState>,
                            mc: MaybeCaller,
                            p: Path<String>,
                            q: RawQuery| movement_page(
            c, st, mc, p, q
        )),
    )
    .page(
        "GET",
        "/declarations/transit/{id}/messages/{message}",
        Public,
        handler!(GET, move |st: State<AppState>,
                            mc: MaybeCaller,
                            p: Path<(String, String)>| {
            message_page(c, st, mc, p)
        }),
    )
    .page(
        "GET",
        "/declarations/dms/{id}",
        Public,
        handler!(GET, move |st: State<AppState>,
                            mc: MaybeCaller,
                            p: Path<String>,
                            q: RawQuery| dms_page(
            c, st, mc, p, q
        )),
    )
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// After an htmx request: a full navigation to `to` (`HX-Redirect`); otherwise a 303.
fn redirect_for(headers: &HeaderMap, to: &str) -> Response {
    if !is_htmx(headers) {
        return see_other(to);
    }
    let mut resp = StatusCode::OK.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert("hx-redirect", v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    layout: Layout,
    heading: String,
    text: String,
}

fn error_page(circle: Circle, caller: &Caller, e: &ApiError) -> Response {
    let mut text = e.detail.clone();
    for f in &e.errors {
        text.push_str(&format!(" {}: {}", f.pointer, f.detail));
    }
    let page = MessagePage {
        layout: Layout::for_caller(circle, "declarations", caller),
        heading: e.code.title().to_owned(),
        text,
    };
    render(&page, e.code.status(), true)
}

/// The caller, or the redirect to the login page (boxed: a response is large).
fn caller_or_login(caller: Option<Caller>) -> Result<Caller, Box<Response>> {
    caller.ok_or_else(|| Box::new(see_other("/login")))
}

macro_rules! logged_in {
    ($caller:expr) => {
        match caller_or_login($caller) {
            Ok(c) => c,
            Err(r) => return *r,
        }
    };
}

fn fmt_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `CC029C` → `IE029` (as the API names message types).
fn ie(code: &str) -> String {
    match code.strip_prefix("CC").and_then(|c| c.strip_suffix('C')) {
        Some(n) => format!("IE{n}"),
        None => code.to_owned(),
    }
}

/// Escapes text for an XML element.
fn xml_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn trader_eori(caller: &Caller) -> Option<String> {
    match &caller.principal.id {
        PrincipalId::Trader(e) => Some(e.as_str().to_owned()),
        _ => None,
    }
}

/// The caller must be a trader (trader pages).
fn require_trader(circle: Circle, caller: &Caller) -> Result<String, Box<Response>> {
    trader_eori(caller).ok_or_else(|| {
        Box::new(error_page(
            circle,
            caller,
            &ApiError::forbidden("only traders lodge declarations"),
        ))
    })
}

/// The officer's administration, with the policy's permission to read its movements (as the
/// API's work queue asks).
fn officer_tenant(state: &AppState, caller: &Caller, id: &str) -> Result<String, ApiError> {
    let tenant = caller
        .scope()
        .tenant()
        .cloned()
        .ok_or_else(|| ApiError::forbidden("only administrations have a work queue"))?;
    state.authorize(
        caller,
        Action::TransitRead,
        &Resource::new(ResourceKind::Movement, id).in_tenant(tenant.clone()),
    )?;
    Ok(tenant.to_string())
}

// ---------------------------------------------------------------------------------------------
// Views

struct MovementLine {
    id: String,
    kind: &'static str,
    lrn: String,
    mrn: String,
    state: String,
    departure: String,
    destination: String,
    holder: String,
    updated: String,
}

fn movement_line(m: &MovementRow) -> MovementLine {
    MovementLine {
        id: m.id.clone(),
        kind: m.kind.as_str(),
        lrn: m.lrn.clone().unwrap_or_default(),
        mrn: m.mrn.clone().unwrap_or_default(),
        state: m.state.clone(),
        departure: m.office_of_departure.clone().unwrap_or_default(),
        destination: m.office_of_destination.clone().unwrap_or_default(),
        holder: m.holder.clone(),
        updated: fmt_time(&m.updated_at),
    }
}

struct DmsLine {
    id: String,
    lrn: String,
    mrn: String,
    direction: String,
    state: String,
    office: String,
    declarant: String,
    lane: String,
    updated: String,
}

fn dms_line(d: &DmsDeclarationRow) -> DmsLine {
    DmsLine {
        id: d.id.clone(),
        lrn: d.lrn.clone(),
        mrn: d.mrn.clone().unwrap_or_default(),
        direction: d.direction.clone(),
        state: d.state.clone(),
        office: d.office.clone().unwrap_or_default(),
        declarant: d.declarant.clone(),
        lane: d.lane.clone().unwrap_or_default(),
        updated: fmt_time(&d.updated_at),
    }
}

struct MessageLine {
    id: String,
    seq: i64,
    type_: String,
    code: String,
    direction: &'static str,
    identification: String,
    at: String,
}

fn message_line(m: &MovementMessageRow) -> MessageLine {
    MessageLine {
        id: m.id.clone(),
        seq: m.seq,
        type_: ie(&m.message_type),
        code: m.message_type.clone(),
        direction: match m.direction {
            Direction::Inbound => "from the trader",
            Direction::Outbound => "from customs",
        },
        identification: m.message_identification.clone(),
        at: fmt_time(&m.at),
    }
}

struct HistoryLine {
    at: String,
    from: String,
    to: String,
    actor: String,
    action: String,
    detail: String,
}

fn history_line(h: &MovementHistoryRow) -> HistoryLine {
    HistoryLine {
        at: fmt_time(&h.at),
        from: h.from_state.clone().unwrap_or_default(),
        to: h.to_state.clone(),
        actor: h.actor.clone(),
        action: h.action.clone(),
        detail: h.detail.as_ref().map(detail_text).unwrap_or_default(),
    }
}

/// A history detail as a line of text (errors with their pointers, the lane, …).
fn detail_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Array(items) => {
            items.iter().map(detail_text).collect::<Vec<_>>().join("; ")
        }
        serde_json::Value::Object(map) => {
            if let (Some(p), Some(r)) = (map.get("pointer"), map.get("reason")) {
                let code = map
                    .get("code")
                    .map(|c| format!("error {c} "))
                    .unwrap_or_default();
                return format!(
                    "{code}{}: {}",
                    p.as_str().unwrap_or_default(),
                    r.as_str().unwrap_or_default()
                );
            }
            map.iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => format!("{k}: {s}"),
                    other => format!("{k}: {other}"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        }
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The lane of the latest assessment in a history (as the officer API reads it).
fn lane_of(history: &[MovementHistoryRow]) -> (Option<String>, Option<String>) {
    let assessed = history.iter().rev().find_map(|h| {
        h.detail
            .as_ref()
            .filter(|d| d.get("lane").is_some())
            .cloned()
    });
    let lane = assessed
        .as_ref()
        .and_then(|d| d.get("lane")?.as_str().map(str::to_owned));
    let assessor = assessed
        .as_ref()
        .and_then(|d| d.get("assessor")?.as_str().map(str::to_owned));
    (lane, assessor)
}

/// The decisions possible on a movement in its state (as the officer API lists them).
fn possible(m: &MovementRow) -> Vec<DecisionKind> {
    let Some(s) = MovementState::from_name(&m.state) else {
        return Vec::new();
    };
    use portorium_declarations::{apply, Event};
    let ok = |e: Event| apply(s, e).is_ok();
    let mut v = Vec::new();
    match m.kind {
        MovementKind::Departure => {
            if ok(Event::Control) {
                v.push(DecisionKind::Control);
            }
            if ok(Event::Release) {
                v.push(DecisionKind::Release);
            }
            if ok(Event::Refuse) {
                v.push(DecisionKind::NoRelease);
            }
            if ok(Event::Invalidate) {
                v.push(DecisionKind::Invalidate);
            }
        }
        MovementKind::Arrival => {
            if s == MovementState::UnloadingRemarks {
                v.push(DecisionKind::ControlResults);
            }
        }
    }
    v
}

fn decision_name(d: DecisionKind) -> &'static str {
    match d {
        DecisionKind::Control => "control",
        DecisionKind::Release => "release",
        DecisionKind::NoRelease => "no-release",
        DecisionKind::Invalidate => "invalidate",
        DecisionKind::ControlResults => "control-results",
    }
}

fn decision_label(d: DecisionKind) -> &'static str {
    match d {
        DecisionKind::Control => "Control the goods (CC060C)",
        DecisionKind::Release => "Release for transit (CC029C)",
        DecisionKind::NoRelease => "No release (CC051C)",
        DecisionKind::Invalidate => "Invalidate (CC009C)",
        DecisionKind::ControlResults => "Record control results and release (CC025C)",
    }
}

struct DecisionButton {
    name: &'static str,
    label: &'static str,
    needs_code: bool,
}

// ---------------------------------------------------------------------------------------------
// Trader: the list

#[derive(Template)]
#[template(path = "declarations/list.html")]
struct TraderListPage {
    layout: Layout,
    departures: Vec<MovementLine>,
    arrivals: Vec<MovementLine>,
    declarations: Vec<DmsLine>,
    dms_error: Option<ApiError>,
}

async fn trader_list(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Response {
    let caller = logged_in!(caller);
    if let Err(r) = require_trader(circle, &caller) {
        return *r;
    }
    trader_list_page(circle, &state, &caller, None, StatusCode::OK).await
}

async fn trader_list_page(
    circle: Circle,
    state: &AppState,
    caller: &Caller,
    dms_error: Option<ApiError>,
    status: StatusCode,
) -> Response {
    let result = async {
        state.authorize(
            caller,
            Action::TransitRead,
            &Resource::new(
                ResourceKind::Movement,
                "/customs/transits/movements/departures",
            )
            .owned_by(caller.principal.id.clone()),
        )?;
        let scoped = state.store.scoped(caller.scope());
        let filter = TransitFilter::default();
        let (departures, _) = scoped
            .transit_movements(MovementKind::Departure, &filter, 1, LIST_ROWS)
            .await?;
        let (arrivals, _) = scoped
            .transit_movements(MovementKind::Arrival, &filter, 1, LIST_ROWS)
            .await?;
        let (declarations, _) = scoped
            .dms_declarations(&DmsFilter::default(), &Page::first(LIST_ROWS))
            .await?;
        Ok::<_, ApiError>((departures, arrivals, declarations))
    }
    .await;
    let (departures, arrivals, declarations) = match result {
        Ok(r) => r,
        Err(e) => return error_page(circle, caller, &e),
    };
    let page = TraderListPage {
        layout: Layout::for_caller(circle, "declarations", caller),
        departures: departures.iter().map(movement_line).collect(),
        arrivals: arrivals.iter().map(movement_line).collect(),
        declarations: declarations.iter().map(dms_line).collect(),
        dms_error,
    };
    render(&page, status, true)
}

// ---------------------------------------------------------------------------------------------
// Trader: lodging a departure

/// A goods item row as typed.
#[derive(Clone)]
struct ItemRow {
    commodity: String,
    description: String,
    gross_mass: String,
    package_type: String,
    packages: String,
}

impl Default for ItemRow {
    fn default() -> Self {
        Self {
            commodity: String::new(),
            description: String::new(),
            gross_mass: String::new(),
            package_type: "PX".into(),
            packages: String::new(),
        }
    }
}

impl ItemRow {
    fn is_empty(&self) -> bool {
        self.commodity.is_empty()
            && self.description.is_empty()
            && self.gross_mass.is_empty()
            && self.packages.is_empty()
    }
}

/// The lodging form as typed (re-shown with the errors).
#[derive(Clone)]
struct LodgeForm {
    lrn: String,
    declaration_type: String,
    departure: String,
    destination: String,
    grn: String,
    access_code: String,
    amount: String,
    currency: String,
    items: Vec<ItemRow>,
}

impl Default for LodgeForm {
    fn default() -> Self {
        Self {
            lrn: String::new(),
            declaration_type: "T1".into(),
            departure: String::new(),
            destination: String::new(),
            grn: String::new(),
            access_code: String::new(),
            amount: String::new(),
            currency: "EUR".into(),
            items: vec![ItemRow::default(); ITEM_ROWS],
        }
    }
}

/// Errors by form field: `lrn`, `departure`, … or `item{row}_{field}`; `other` for the rest.
type FieldErrors = Vec<(String, String)>;

impl LodgeForm {
    fn parse(body: &[u8]) -> Self {
        let p = Form::parse(body);
        let f = |n: &str| p.get(n).to_owned();
        Self {
            lrn: f("lrn"),
            declaration_type: f("declaration_type").to_ascii_uppercase(),
            departure: f("departure").to_ascii_uppercase(),
            destination: f("destination").to_ascii_uppercase(),
            grn: f("grn").to_ascii_uppercase(),
            access_code: f("access_code"),
            amount: f("amount"),
            currency: f("currency").to_ascii_uppercase(),
            items: (0..ITEM_ROWS)
                .map(|i| ItemRow {
                    commodity: f(&format!("i{i}_commodity")),
                    description: f(&format!("i{i}_description")),
                    gross_mass: f(&format!("i{i}_gross_mass")),
                    package_type: f(&format!("i{i}_package_type")).to_ascii_uppercase(),
                    packages: f(&format!("i{i}_packages")),
                })
                .collect(),
        }
    }

    /// The form rows that hold a goods item, in order: item n (from 1) is `rows[n - 1]`.
    fn item_rows(&self) -> Vec<usize> {
        (0..self.items.len())
            .filter(|i| !self.items[*i].is_empty())
            .collect()
    }

    /// The CC015C this form declares. Nothing is checked here: the message goes through the
    /// API's validation, and its errors come back as XPaths. Every element starts a line: the
    /// schema validator reports lines, and the line tells which of the same-named elements
    /// (an item's gross mass or the total) is wrong.
    fn cc015c(&self, holder: &str, holder_name: &str, message_id: &str, now: &str) -> String {
        let x = xml_text;
        let country = |office: &str| office.get(..2).unwrap_or_default().to_owned();
        let rows = self.item_rows();
        let mut total = Decimal::ZERO;
        let mut items = String::new();
        for (n, row) in rows.iter().enumerate() {
            let it = &self.items[*row];
            if let Ok(m) = Decimal::from_str(&it.gross_mass) {
                total += m;
            }
            let n = n + 1;
            items.push_str(&format!(
                "<ConsignmentItem><goodsItemNumber>{n}</goodsItemNumber>\
                 <declarationGoodsItemNumber>{n}</declarationGoodsItemNumber>\
                 <Commodity><descriptionOfGoods>{}</descriptionOfGoods>\
                 <CommodityCode><harmonizedSystemSubHeadingCode>{}</harmonizedSystemSubHeadingCode></CommodityCode>\
                 <GoodsMeasure><grossMass>{}</grossMass></GoodsMeasure></Commodity>\
                 <Packaging><sequenceNumber>1</sequenceNumber><typeOfPackages>{}</typeOfPackages>\
                 <numberOfPackages>{}</numberOfPackages></Packaging></ConsignmentItem>",
                x(&it.description),
                x(&it.commodity),
                x(&it.gross_mass),
                x(&it.package_type),
                x(&it.packages),
            ));
        }
        format!(
            "<ncts:CC015C PhaseID=\"NCTS5.1\" xmlns:ncts=\"http://ncts.dgtaxud.ec\">\
             <messageSender>{holder}</messageSender>\
             <messageRecipient>NTA.{recipient}</messageRecipient>\
             <preparationDateAndTime>{now}</preparationDateAndTime>\
             <messageIdentification>{message_id}</messageIdentification>\
             <messageType>CC015C</messageType>\
             <TransitOperation><LRN>{lrn}</LRN><declarationType>{dtype}</declarationType>\
             <additionalDeclarationType>A</additionalDeclarationType><security>0</security>\
             <reducedDatasetIndicator>0</reducedDatasetIndicator><bindingItinerary>0</bindingItinerary>\
             </TransitOperation>\
             <CustomsOfficeOfDeparture><referenceNumber>{departure}</referenceNumber></CustomsOfficeOfDeparture>\
             <CustomsOfficeOfDestinationDeclared><referenceNumber>{destination}</referenceNumber></CustomsOfficeOfDestinationDeclared>\
             <HolderOfTheTransitProcedure><identificationNumber>{holder}</identificationNumber><name>{name}</name></HolderOfTheTransitProcedure>\
             <Guarantee><sequenceNumber>1</sequenceNumber><guaranteeType>1</guaranteeType>\
             <GuaranteeReference><sequenceNumber>1</sequenceNumber><GRN>{grn}</GRN><accessCode>{access}</accessCode>\
             <amountToBeCovered>{amount}</amountToBeCovered><currency>{currency}</currency></GuaranteeReference></Guarantee>\
             <Consignment><countryOfDispatch>{dispatch}</countryOfDispatch><countryOfDestination>{dest_country}</countryOfDestination>\
             <containerIndicator>0</containerIndicator><inlandModeOfTransport>3</inlandModeOfTransport>\
             <grossMass>{total}</grossMass>\
             <HouseConsignment><sequenceNumber>1</sequenceNumber><grossMass>{total}</grossMass>{items}</HouseConsignment>\
             </Consignment></ncts:CC015C>",
            holder = x(holder),
            recipient = x(&country(&self.departure)),
            lrn = x(&self.lrn),
            dtype = x(&self.declaration_type),
            departure = x(&self.departure),
            destination = x(&self.destination),
            name = x(holder_name),
            grn = x(&self.grn),
            access = x(&self.access_code),
            amount = x(&self.amount),
            currency = x(&self.currency),
            dispatch = x(&country(&self.departure)),
            dest_country = x(&country(&self.destination)),
        )
        .replace("><", ">\n<")
    }

    /// The form field an XPath of the generated CC015C belongs to.
    fn field_of(&self, xpath: &str) -> String {
        let has = |s: &str| xpath.contains(s);
        if let Some(pos) = xpath.find("ConsignmentItem") {
            let rest = &xpath[pos + "ConsignmentItem".len()..];
            let n = rest
                .strip_prefix('[')
                .and_then(|r| r.split(']').next())
                .and_then(|d| d.parse::<usize>().ok())
                .unwrap_or(1);
            let row = self.item_rows().get(n.saturating_sub(1)).copied();
            let Some(row) = row else {
                return "items".into();
            };
            let name = if has("harmonizedSystemSubHeadingCode") || has("CommodityCode") {
                "commodity"
            } else if has("descriptionOfGoods") {
                "description"
            } else if has("grossMass") {
                "gross_mass"
            } else if has("typeOfPackages") {
                "package_type"
            } else if has("numberOfPackages") || has("Packaging") {
                "packages"
            } else {
                return "items".into();
            };
            return format!("item{row}_{name}");
        }
        let name = if has("TransitOperation/LRN") {
            "lrn"
        } else if has("declarationType") && !has("additional") {
            "declaration_type"
        } else if has("CustomsOfficeOfDeparture")
            || has("messageRecipient")
            || has("countryOfDispatch")
        {
            "departure"
        } else if has("CustomsOfficeOfDestination") || has("countryOfDestination") {
            "destination"
        } else if has("accessCode") {
            "access_code"
        } else if has("amountToBeCovered") || has("GuaranteeReference/currency") {
            "amount"
        } else if has("Guarantee") {
            "grn"
        } else if has("Consignment") {
            "items"
        } else {
            "other"
        };
        name.into()
    }
}

struct OfficeOption {
    reference: String,
    label: String,
}

#[derive(Template)]
#[template(path = "declarations/lodge.html")]
struct LodgePage {
    layout: Layout,
    form: LodgeForm,
    errors: FieldErrors,
    /// The movement stored as rejected (business rules), when there is one.
    rejected: Option<String>,
    departures: Vec<OfficeOption>,
    destinations: Vec<OfficeOption>,
    csrf: String,
    upload_errors: Vec<(String, String)>,
    upload_detail: Option<String>,
}

impl LodgePage {
    fn err(&self, name: &str) -> Option<String> {
        let msgs: Vec<&str> = self
            .errors
            .iter()
            .filter(|(f, _)| f == name)
            .map(|(_, m)| m.as_str())
            .collect();
        (!msgs.is_empty()).then(|| msgs.join(" "))
    }

    fn ierr(&self, row: &usize, name: &str) -> Option<String> {
        self.err(&format!("item{row}_{name}"))
    }

    /// Errors not shown next to a field.
    fn other_errors(&self) -> Vec<&str> {
        self.errors
            .iter()
            .filter(|(f, _)| f == "other")
            .map(|(_, m)| m.as_str())
            .collect()
    }
}

/// The offices of the administrations served here with a role, from the office list.
async fn offices(state: &AppState, role: &str) -> Result<Vec<OfficeOption>, ApiError> {
    let today = state.clock().now().date_naive();
    let (tenants, _) = state.store.list_tenants(&Page::first(Page::MAX)).await?;
    let mut out = Vec::new();
    for t in tenants {
        let country = t.code.to_string();
        let (rows, _) = state
            .store
            .ref_offices(&country, Some(role), today, &Page::first(Page::MAX))
            .await?;
        out.extend(rows.into_iter().map(|o| OfficeOption {
            label: format!("{} {} ({})", o.reference, o.name, o.country),
            reference: o.reference,
        }));
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
async fn lodge_page(
    circle: Circle,
    state: &AppState,
    caller: &Caller,
    form: LodgeForm,
    errors: FieldErrors,
    rejected: Option<String>,
    upload: Option<ApiError>,
    status: StatusCode,
) -> Response {
    let lists =
        async { Ok::<_, ApiError>((offices(state, "DEP").await?, offices(state, "DES").await?)) }
            .await;
    let (departures, destinations) = match lists {
        Ok(l) => l,
        Err(e) => return error_page(circle, caller, &e),
    };
    let page = LodgePage {
        layout: Layout::for_caller(circle, "declarations", caller),
        form,
        errors,
        rejected,
        departures,
        destinations,
        csrf: caller.csrf.clone().unwrap_or_default(),
        upload_errors: upload
            .as_ref()
            .map(|e| {
                e.errors
                    .iter()
                    .map(|f| (f.pointer.clone(), f.detail.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        upload_detail: upload.map(|e| e.detail),
    };
    render(&page, status, true)
}

async fn new_form(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Response {
    let caller = logged_in!(caller);
    if let Err(r) = require_trader(circle, &caller) {
        return *r;
    }
    lodge_page(
        circle,
        &state,
        &caller,
        LodgeForm::default(),
        Vec::new(),
        None,
        None,
        StatusCode::OK,
    )
    .await
}

/// The rejection errors of a movement stored as rejected (from its history).
async fn rejection_errors(
    state: &AppState,
    caller: &Caller,
    movement: &str,
) -> Result<Option<Vec<(String, String)>>, ApiError> {
    let scoped = state.store.scoped(caller.scope());
    let m = scoped.movement(movement).await?;
    if m.state != MovementState::Rejected.name() {
        return Ok(None);
    }
    let history = scoped.movement_history(movement).await?;
    let mut out = Vec::new();
    for h in history.iter().filter(|h| h.action == "reject") {
        if let Some(serde_json::Value::Array(items)) = &h.detail {
            for e in items {
                let pointer = e
                    .get("pointer")
                    .and_then(|p| p.as_str())
                    .unwrap_or_default();
                let code = e.get("code").map(|c| c.to_string()).unwrap_or_default();
                let reason = e.get("reason").and_then(|r| r.as_str()).unwrap_or_default();
                out.push((pointer.to_owned(), format!("NCTS error {code}: {reason}")));
            }
        }
    }
    Ok(Some(out))
}

async fn lodge_form(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    body: Bytes,
) -> Response {
    let caller = logged_in!(caller);
    let eori = match require_trader(circle, &caller) {
        Ok(e) => e,
        Err(r) => return *r,
    };
    let form = LodgeForm::parse(&body);
    let name = match eori.parse() {
        Ok(e) => state
            .store
            .scoped(caller.scope())
            .get_trader(&e)
            .await
            .map(|t| t.name)
            .unwrap_or_else(|_| caller.principal.display_name.clone()),
        Err(_) => caller.principal.display_name.clone(),
    };
    let now = state.clock().now();
    let message_id = state.store.ids().new_id().simple().to_string();
    let xml = form.cc015c(
        &eori,
        &name,
        &message_id,
        &now.format("%Y-%m-%dT%H:%M:%S").to_string(),
    );
    match transit::lodge_departure(&state, &caller, xml.as_bytes(), Format::Xml).await {
        Ok(a) => match rejection_errors(&state, &caller, &a.movement_id).await {
            Ok(Some(errors)) => {
                let errors = errors
                    .into_iter()
                    .map(|(p, m)| (form.field_of(&p), format!("{m} ({p})")))
                    .collect();
                lodge_page(
                    circle,
                    &state,
                    &caller,
                    form,
                    errors,
                    Some(a.movement_id),
                    None,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Ok(None) => see_other(&format!("/declarations/transit/{}", a.movement_id)),
            Err(e) => error_page(circle, &caller, &e),
        },
        Err(e) if !e.errors.is_empty() => {
            let errors = e
                .errors
                .iter()
                .map(|f| (form.field_of(&f.pointer), f.detail.clone()))
                .collect();
            lodge_page(
                circle,
                &state,
                &caller,
                form,
                errors,
                None,
                None,
                e.code.status(),
            )
            .await
        }
        Err(e) => error_page(circle, &caller, &e),
    }
}

/// The `file` part of a multipart upload.
async fn uploaded_file(mut multipart: Multipart) -> Result<Vec<u8>, ApiError> {
    let bad = |detail: String| ApiError::field(ErrorCode::InvalidField, "/file", detail);
    while let Some(part) = multipart
        .next_field()
        .await
        .map_err(|e| bad(format!("the upload could not be read: {e}")))?
    {
        if part.name() != Some("file") {
            continue;
        }
        let bytes = part
            .bytes()
            .await
            .map_err(|e| bad(format!("the upload could not be read: {e}")))?;
        if bytes.is_empty() {
            return Err(bad("choose an XML file".into()));
        }
        if bytes.len() > MAX_UPLOAD {
            return Err(bad(format!("at most {MAX_UPLOAD} bytes")));
        }
        return Ok(bytes.to_vec());
    }
    Err(bad("choose an XML file".into()))
}

async fn lodge_upload(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let caller = logged_in!(caller);
    if let Err(r) = require_trader(circle, &caller) {
        return *r;
    }
    let result = match uploaded_file(multipart).await {
        Ok(body) => transit::lodge_departure(&state, &caller, &body, Format::Xml).await,
        Err(e) => Err(e),
    };
    let status = |s: StatusCode| if is_htmx(&headers) { StatusCode::OK } else { s };
    match result {
        Ok(a) => redirect_for(
            &headers,
            &format!("/declarations/transit/{}", a.movement_id),
        ),
        Err(e) if e.code.status().is_client_error() => {
            let code = status(e.code.status());
            lodge_page(
                circle,
                &state,
                &caller,
                LodgeForm::default(),
                Vec::new(),
                None,
                Some(e),
                code,
            )
            .await
        }
        Err(e) => error_page(circle, &caller, &e),
    }
}

async fn dms_upload(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let caller = logged_in!(caller);
    if let Err(r) = require_trader(circle, &caller) {
        return *r;
    }
    let result = match uploaded_file(multipart).await {
        Ok(body) => dms::lodge(&state, &caller, &body).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(l) => redirect_for(&headers, &format!("/declarations/dms/{}", l.declaration_id)),
        Err(e) if e.code.status().is_client_error() => {
            let status = if is_htmx(&headers) {
                StatusCode::OK
            } else {
                e.code.status()
            };
            trader_list_page(circle, &state, &caller, Some(e), status).await
        }
        Err(e) => error_page(circle, &caller, &e),
    }
}

// ---------------------------------------------------------------------------------------------
// A movement (both gateways)

struct Fact {
    label: &'static str,
    value: String,
    id: &'static str,
}

#[derive(Template)]
#[template(path = "declarations/movement.html")]
struct MovementPage {
    layout: Layout,
    movement: MovementLine,
    facts: Vec<Fact>,
    messages: Vec<MessageLine>,
    history: Vec<HistoryLine>,
    lane: Option<String>,
    assessor: Option<String>,
    reservations: Vec<(String, String, String)>,
    officer: bool,
    decisions: Vec<DecisionButton>,
    csrf: String,
    notice: Option<String>,
    error: Option<ApiError>,
}

/// A movement the caller may read: a trader its own, an officer its administration's.
async fn readable_movement(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<MovementRow, ApiError> {
    let m = state.store.scoped(caller.scope()).movement(id).await?;
    if trader_eori(caller).is_some() {
        state.authorize(
            caller,
            Action::TransitRead,
            &Resource::new(ResourceKind::Movement, id)
                .in_tenant(
                    m.tenant
                        .parse()
                        .map_err(|_| ApiError::not_found(id.to_owned()))?,
                )
                .owned_by(caller.principal.id.clone()),
        )?;
    } else {
        officer_tenant(state, caller, id)?;
    }
    Ok(m)
}

async fn show_movement(
    circle: Circle,
    state: &AppState,
    caller: &Caller,
    id: &str,
    notice: Option<String>,
    error: Option<ApiError>,
) -> Response {
    let result = async {
        let m = readable_movement(state, caller, id).await?;
        let scoped = state.store.scoped(caller.scope());
        let (messages, _) = scoped
            .movement_messages(id, &Page::first(Page::MAX))
            .await?;
        let history = scoped.movement_history(id).await?;
        let reservations = scoped.transit_reservations(id).await?;
        Ok::<_, ApiError>((m, messages, history, reservations))
    }
    .await;
    let (m, messages, history, reservations) = match result {
        Ok(r) => r,
        Err(e) => return error_page(circle, caller, &e),
    };
    let officer = trader_eori(caller).is_none();
    let (lane, assessor) = lane_of(&history);
    let decisions = if officer {
        possible(&m)
            .into_iter()
            .map(|d| DecisionButton {
                name: decision_name(d),
                label: decision_label(d),
                needs_code: d == DecisionKind::NoRelease,
            })
            .collect()
    } else {
        Vec::new()
    };
    let facts = vec![
        Fact {
            label: "Administration",
            value: m.tenant.clone(),
            id: "f-administration",
        },
        Fact {
            label: "Holder",
            value: m.holder.clone(),
            id: "f-holder",
        },
        Fact {
            label: "Office of departure",
            value: m.office_of_departure.clone().unwrap_or_default(),
            id: "f-departure",
        },
        Fact {
            label: "Office of destination",
            value: m.office_of_destination.clone().unwrap_or_default(),
            id: "f-destination",
        },
        Fact {
            label: "Lodged",
            value: fmt_time(&m.created_at),
            id: "f-created",
        },
        Fact {
            label: "Last change",
            value: fmt_time(&m.updated_at),
            id: "f-updated",
        },
    ];
    let status = error
        .as_ref()
        .map(|e| e.code.status())
        .unwrap_or(StatusCode::OK);
    let page = MovementPage {
        layout: Layout::for_caller(circle, "declarations", caller),
        movement: movement_line(&m),
        facts,
        messages: messages.iter().map(message_line).collect(),
        history: history.iter().map(history_line).collect(),
        lane,
        assessor,
        reservations: reservations
            .iter()
            .map(|r| (r.grn.clone(), r.amount.to_string(), r.state.clone()))
            .collect(),
        officer,
        decisions,
        csrf: caller.csrf.clone().unwrap_or_default(),
        notice,
        error,
    };
    render(&page, status, true)
}

async fn movement_page(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let caller = logged_in!(caller);
    let q = Form::parse(q.unwrap_or_default().as_bytes());
    let notice = match q.get("done") {
        "" => None,
        d => Some(format!("Decision recorded: {d}.")),
    };
    show_movement(circle, &state, &caller, &id, notice, None).await
}

#[derive(Template)]
#[template(path = "declarations/message.html")]
struct MessageBodyPage {
    layout: Layout,
    movement: String,
    message: MessageLine,
    body: String,
}

async fn message_page(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((id, message)): Path<(String, String)>,
) -> Response {
    let caller = logged_in!(caller);
    let result = async {
        readable_movement(&state, &caller, &id).await?;
        Ok::<_, ApiError>(
            state
                .store
                .scoped(caller.scope())
                .movement_message(&id, &message)
                .await?,
        )
    }
    .await;
    match result {
        Ok(m) => {
            let page = MessageBodyPage {
                layout: Layout::for_caller(circle, "declarations", &caller),
                movement: id,
                message: message_line(&m),
                body: m.body,
            };
            render(&page, StatusCode::OK, true)
        }
        Err(e) => error_page(circle, &caller, &e),
    }
}

// ---------------------------------------------------------------------------------------------
// Officer: the work queue and the decisions

#[derive(Template)]
#[template(path = "declarations/queue.html")]
struct QueuePage {
    layout: Layout,
    administration: String,
    movements: Vec<MovementLine>,
    declarations: Vec<DmsLine>,
}

async fn work_queue(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Response {
    let caller = logged_in!(caller);
    let result = async {
        let tenant = officer_tenant(&state, &caller, "queue")?;
        let scoped = state.store.scoped(caller.scope());
        let mut movements = Vec::new();
        for kind in [MovementKind::Departure, MovementKind::Arrival] {
            for s in AWAITING {
                let (rows, _) = scoped
                    .transit_movements(
                        kind,
                        &TransitFilter {
                            state: Some(s.to_owned()),
                            ..TransitFilter::default()
                        },
                        1,
                        LIST_ROWS,
                    )
                    .await?;
                movements.extend(rows);
            }
        }
        movements.sort_by_key(|a| a.updated_at);
        let mut declarations = Vec::new();
        for s in DMS_AWAITING {
            let (rows, _) = scoped
                .dms_declarations(
                    &DmsFilter {
                        state: Some(s.to_owned()),
                    },
                    &Page::first(LIST_ROWS),
                )
                .await?;
            declarations.extend(rows);
        }
        declarations.sort_by_key(|a| a.updated_at);
        Ok::<_, ApiError>((tenant, movements, declarations))
    }
    .await;
    match result {
        Ok((administration, movements, declarations)) => {
            let page = QueuePage {
                layout: Layout::for_caller(circle, "declarations", &caller),
                administration,
                movements: movements.iter().map(movement_line).collect(),
                declarations: declarations.iter().map(dms_line).collect(),
            };
            render(&page, StatusCode::OK, true)
        }
        Err(e) => error_page(circle, &caller, &e),
    }
}

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

async fn transit_decision(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let caller = logged_in!(caller);
    let p = Form::parse(&body);
    let decision = match p.get("decision") {
        "control" => Some(DecisionKind::Control),
        "release" => Some(DecisionKind::Release),
        "no-release" => Some(DecisionKind::NoRelease),
        "invalidate" => Some(DecisionKind::Invalidate),
        "control-results" => Some(DecisionKind::ControlResults),
        _ => None,
    };
    let Some(decision) = decision else {
        let e = ApiError::field(ErrorCode::InvalidField, "/decision", "choose a decision");
        return show_movement(circle, &state, &caller, &id, None, Some(e)).await;
    };
    let body = DecisionBody {
        decision,
        reason: opt(p.get("reason")),
        code: opt(p.get("code")),
    };
    match transit::decide(&state, &caller, &id, &body).await {
        Ok(m) => see_other(&format!(
            "/declarations/transit/{}?done={}",
            m.id,
            decision_name(decision)
        )),
        Err(e) => show_movement(circle, &state, &caller, &id, None, Some(e)).await,
    }
}

// ---------------------------------------------------------------------------------------------
// A DMS declaration (both gateways)

struct NotificationLine {
    name: String,
    function_code: String,
    issued: String,
    body: String,
}

struct AssessmentLine {
    version: i64,
    total: String,
    currency: String,
    items: String,
}

struct DmsHistoryLine {
    at: String,
    actor: String,
    action: String,
    from: String,
    to: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "declarations/dms.html")]
struct DmsPage {
    layout: Layout,
    declaration: DmsLine,
    version: i64,
    notifications: Vec<NotificationLine>,
    assessments: Vec<AssessmentLine>,
    history: Vec<DmsHistoryLine>,
    messages: Vec<(i64, String, String, String)>,
    officer: bool,
    decisions: Vec<&'static str>,
    csrf: String,
    notice: Option<String>,
    error: Option<ApiError>,
}

async fn show_dms(
    circle: Circle,
    state: &AppState,
    caller: &Caller,
    id: &str,
    notice: Option<String>,
    error: Option<ApiError>,
) -> Response {
    let officer = trader_eori(caller).is_none();
    let result = async {
        if officer {
            officer_tenant(state, caller, id)?;
        }
        Ok::<DmsDetail, ApiError>(state.store.scoped(caller.scope()).dms_detail(id).await?)
    }
    .await;
    let d = match result {
        Ok(d) => d,
        Err(e) => return error_page(circle, caller, &e),
    };
    let status = error
        .as_ref()
        .map(|e| e.code.status())
        .unwrap_or(StatusCode::OK);
    let page = DmsPage {
        layout: Layout::for_caller(circle, "declarations", caller),
        declaration: dms_line(&d.declaration),
        version: d.declaration.version,
        notifications: d
            .notifications
            .iter()
            .map(|n| NotificationLine {
                name: n.name.clone(),
                function_code: n.function_code.clone(),
                issued: fmt_time(&n.issued_at),
                body: n.body.clone(),
            })
            .collect(),
        assessments: d
            .assessments
            .iter()
            .map(|a| AssessmentLine {
                version: a.version,
                total: a.total.to_string(),
                currency: a.currency.clone(),
                items: serde_json::to_string_pretty(&a.items).unwrap_or_default(),
            })
            .collect(),
        history: d
            .history
            .iter()
            .map(|h| DmsHistoryLine {
                at: fmt_time(&h.at),
                actor: h.actor.clone(),
                action: h.action.clone(),
                from: h.from_state.clone().unwrap_or_default(),
                to: h.to_state.clone().unwrap_or_default(),
                detail: h.detail.clone().unwrap_or_default(),
            })
            .collect(),
        // Officers see the declared data (every message as received).
        messages: if officer {
            d.messages
                .iter()
                .map(|m| {
                    (
                        m.seq,
                        m.kind.clone(),
                        fmt_time(&m.received_at),
                        m.body.clone(),
                    )
                })
                .collect()
        } else {
            Vec::new()
        },
        officer,
        decisions: if officer {
            dms::DECISIONS
                .iter()
                .copied()
                .filter(|d| *d != "control-results")
                .collect()
        } else {
            Vec::new()
        },
        csrf: caller.csrf.clone().unwrap_or_default(),
        notice,
        error,
    };
    render(&page, status, true)
}

async fn dms_page(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let caller = logged_in!(caller);
    let q = Form::parse(q.unwrap_or_default().as_bytes());
    let notice = match q.get("done") {
        "" => None,
        d => Some(format!("Decision recorded: {d}.")),
    };
    show_dms(circle, &state, &caller, &id, notice, None).await
}

async fn dms_decision(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let caller = logged_in!(caller);
    let p = Form::parse(&body);
    let decision = p.get("decision");
    let findings = p.get("results");
    let body = dms::DecisionBody {
        decision: decision.to_owned(),
        reason: opt(p.get("reason")),
        results: opt(findings).map(|f| serde_json::json!({ "findings": f })),
    };
    match dms::decide(&state, &caller, &id, body).await {
        Ok(d) => see_other(&format!("/declarations/dms/{}?done={decision}", d.id)),
        Err(e) => show_dms(circle, &state, &caller, &id, None, Some(e)).await,
    }
}

// ---------------------------------------------------------------------------------------------
// Trader: guarantees

struct GuaranteeLine {
    grn: String,
    guarantee_type: String,
    reference_amount: String,
    currency: String,
    administration: String,
    validity: String,
}

fn guarantee_line(g: &GuaranteeRow) -> GuaranteeLine {
    GuaranteeLine {
        grn: g.grn.clone(),
        guarantee_type: g.guarantee_type.clone(),
        reference_amount: g.reference_amount.to_string(),
        currency: g.currency.to_string(),
        administration: g.tenant.clone(),
        validity: match g.valid_until {
            Some(u) => format!("{} – {u}", g.valid_from),
            None => format!("from {}", g.valid_from),
        },
    }
}

struct BalanceView {
    grn: String,
    currency: String,
    reference_amount: String,
    reserved: String,
    available: String,
    reservations: Vec<(String, String, String, String)>,
}

#[derive(Template)]
#[template(path = "declarations/guarantees.html")]
struct GuaranteesPage {
    layout: Layout,
    guarantees: Vec<GuaranteeLine>,
    grn: String,
    balance: Option<BalanceView>,
    error: Option<String>,
    csrf: String,
}

async fn guarantees_page(
    circle: Circle,
    state: &AppState,
    caller: &Caller,
    grn: String,
    balance: Option<BalanceView>,
    error: Option<ApiError>,
) -> Response {
    let rows = match state
        .store
        .scoped(caller.scope())
        .guarantees(&Page::first(Page::MAX))
        .await
    {
        Ok((rows, _)) => rows,
        Err(e) => return error_page(circle, caller, &e.into()),
    };
    let status = error
        .as_ref()
        .map(|e| e.code.status())
        .unwrap_or(StatusCode::OK);
    let page = GuaranteesPage {
        layout: Layout::for_caller(circle, "declarations", caller),
        guarantees: rows.iter().map(guarantee_line).collect(),
        grn,
        balance,
        error: error.map(|e| match e.errors.first() {
            Some(f) => format!("{} {}", e.detail, f.detail),
            None => e.detail,
        }),
        csrf: caller.csrf.clone().unwrap_or_default(),
    };
    render(&page, status, true)
}

async fn guarantees(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
) -> Response {
    let caller = logged_in!(caller);
    if let Err(r) = require_trader(circle, &caller) {
        return *r;
    }
    guarantees_page(circle, &state, &caller, String::new(), None, None).await
}

async fn guarantee_balance(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    body: Bytes,
) -> Response {
    let caller = logged_in!(caller);
    if let Err(r) = require_trader(circle, &caller) {
        return *r;
    }
    let p = Form::parse(&body);
    let grn = p.get("grn").to_ascii_uppercase();
    let code = p.get("access_code");
    // The API's own handler: the same access-code check, uniform 404 and throttling.
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(code) {
        headers.insert("x-access-code", v);
    }
    let result = trader_guarantee_balance(
        State(state.clone()),
        caller.clone(),
        headers,
        ApiPath(grn.clone()),
    )
    .await;
    match result {
        Ok(axum::Json(v)) => {
            let b = &v.balance;
            let balance = BalanceView {
                grn: b.grn.clone(),
                currency: b.currency.to_string(),
                reference_amount: b.reference_amount.to_string(),
                reserved: b.reserved.to_string(),
                available: b.available.to_string(),
                reservations: v
                    .reservations
                    .iter()
                    .map(|r| {
                        (
                            r.movement_id.clone(),
                            r.amount.to_string(),
                            r.state.clone(),
                            fmt_time(&r.reserved_at),
                        )
                    })
                    .collect(),
            };
            guarantees_page(circle, &state, &caller, grn, Some(balance), None).await
        }
        Err(e) => guarantees_page(circle, &state, &caller, grn, None, Some(e)).await,
    }
}
