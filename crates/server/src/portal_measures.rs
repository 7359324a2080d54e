//! The national measure editor of the administration portal: an administration's drafts and
//! the national measures in force, a form to draft a measure (type, code, area, exclusions,
//! validity, components, footnotes, legal base) with the validation errors next to the
//! fields, and a draft page where the drafter submits or withdraws it and a second officer
//! approves or rejects it.
//!
//! Every form posts with the session's CSRF token (checked by the authentication middleware)
//! and is audited like any unsafe request. The pages call the same functions as the JSON API
//! (`routes::national_measures`), so the rules, the four-eyes check and the errors are the
//! same. An anonymous visitor is sent to the login page.

use crate::error::{ApiError, ErrorCode};
use crate::portal::{render, see_other, Form, Layout};
use crate::routes::national_measures::{self as api, NationalMeasureView};
use crate::routes::{handler, Access, Table};
use crate::state::{AppState, Caller, MaybeCaller};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{on, MethodFilter};
use chrono::NaiveDate;
use portorium_kernel::{Circle, TenantCode};
use portorium_store::{DraftStatus, MeasureDraftRow, Page};
use portorium_tariff::duty::{describe, MeasureComponent};
use portorium_tariff::national::{DraftCondition, DraftValidity, NationalMeasureDraft, Operation};
use portorium_trust::Action;
use rust_decimal::Decimal;
use std::str::FromStr;

/// Component rows the form offers at least.
const COMPONENT_ROWS: usize = 3;
/// Condition rows the form offers at least.
const CONDITION_ROWS: usize = 3;
/// Rows of each kind read from a posted form at most (far more than any TARIC measure has).
const MAX_ROWS: usize = 60;
/// Empty rows added by the form's "More rows" button.
const MORE_ROWS: usize = 3;

/// The editor's pages (administration gateway only).
pub fn pages(t: Table) -> Table {
    use Access::Public;
    let c = t.circle;
    t.page(
        "GET",
        "/tariff/{tenant}/measure-drafts",
        Public,
        handler!(GET, move |st: State<AppState>,
                            mc: MaybeCaller,
                            p: Path<String>,
                            q: RawQuery| list(
            c, st, mc, p, q
        )),
    )
    .page(
        "POST",
        "/tariff/{tenant}/measure-drafts",
        Public,
        handler!(POST, move |st: State<AppState>,
                             mc: MaybeCaller,
                             p: Path<String>,
                             b: Bytes| create(
            c, st, mc, p, b
        )),
    )
    .page(
        "GET",
        "/tariff/{tenant}/measure-drafts/new",
        Public,
        handler!(GET, move |st: State<AppState>,
                            mc: MaybeCaller,
                            p: Path<String>| new_form(
            c, st, mc, p
        )),
    )
    .page(
        "GET",
        "/tariff/{tenant}/measure-drafts/{id}",
        Public,
        handler!(GET, move |st: State<AppState>,
                            mc: MaybeCaller,
                            p: Path<(String, String)>,
                            q: RawQuery| show(
            c, st, mc, p, q
        )),
    )
    .page(
        "GET",
        "/tariff/{tenant}/measure-drafts/{id}/edit",
        Public,
        handler!(GET, move |st: State<AppState>,
                            mc: MaybeCaller,
                            p: Path<(String, String)>| {
            edit_form(c, st, mc, p)
        }),
    )
    .page(
        "POST",
        "/tariff/{tenant}/measure-drafts/{id}/edit",
        Public,
        handler!(POST, move |st: State<AppState>,
                             mc: MaybeCaller,
                             p: Path<(String, String)>,
                             b: Bytes| save_edit(
            c, st, mc, p, b
        )),
    )
    .page(
        "POST",
        "/tariff/{tenant}/measure-drafts/{id}/{step}",
        Public,
        handler!(POST, move |st: State<AppState>,
                             mc: MaybeCaller,
                             p: Path<(String, String, String)>,
                             b: Bytes| step(
            c, st, mc, p, b
        )),
    )
}

// ---------------------------------------------------------------------------------------------
// Helpers

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    layout: Layout,
    heading: String,
    text: String,
}

fn error_page(circle: Circle, caller: &Caller, e: &ApiError) -> Response {
    let page = MessagePage {
        layout: Layout::for_caller(circle, "tariff", caller),
        heading: e.code.title().to_owned(),
        text: e.detail.clone(),
    };
    render(&page, e.code.status(), true)
}

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn list_of(s: &str) -> Vec<String> {
    s.split([',', ' '])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| x.to_ascii_uppercase())
        .collect()
}

fn fmt_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

// ---------------------------------------------------------------------------------------------
// The form

/// One component row as typed.
#[derive(Default, Clone)]
struct ComponentRow {
    expression: String,
    amount: String,
    monetary_unit: String,
    measurement_unit: String,
    qualifier: String,
}

impl ComponentRow {
    /// The row showing a stored component.
    fn of(c: &MeasureComponent) -> Self {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            expression: c.duty_expression_id.clone(),
            amount: c
                .amount
                .map(|a| a.normalize().to_string())
                .unwrap_or_default(),
            monetary_unit: s(&c.monetary_unit),
            measurement_unit: s(&c.measurement_unit),
            qualifier: s(&c.qualifier),
        }
    }

    /// The row posted as the fields `{prefix}_expression`, `{prefix}_amount`, …
    fn read(p: &Form, prefix: &str) -> Self {
        let f = |n: &str| p.get(&format!("{prefix}_{n}")).to_owned();
        Self {
            expression: f("expression"),
            amount: f("amount"),
            monetary_unit: f("monetary_unit").to_ascii_uppercase(),
            measurement_unit: f("measurement_unit").to_ascii_uppercase(),
            qualifier: f("qualifier").to_ascii_uppercase(),
        }
    }

    fn is_empty(&self) -> bool {
        [
            &self.expression,
            &self.amount,
            &self.monetary_unit,
            &self.measurement_unit,
            &self.qualifier,
        ]
        .iter()
        .all(|f| f.is_empty())
    }
}

/// One condition row as typed: the condition, its document or threshold, the action and
/// (optionally) the first component it applies. A row with only a component (no code,
/// document, threshold or action) continues the condition above with one more component,
/// as in `12.80 % + 29.80 EUR / 100 kg`.
#[derive(Default, Clone)]
struct ConditionRow {
    code: String,
    certificate: String,
    threshold_amount: String,
    threshold_unit: String,
    action: String,
    /// The component the row applies (empty: none).
    duty: ComponentRow,
}

impl ConditionRow {
    fn has_condition(&self) -> bool {
        [
            &self.code,
            &self.certificate,
            &self.threshold_amount,
            &self.threshold_unit,
            &self.action,
        ]
        .iter()
        .any(|f| !f.is_empty())
    }

    fn has_component(&self) -> bool {
        !self.duty.is_empty()
    }

    fn is_empty(&self) -> bool {
        !self.has_condition() && !self.has_component()
    }

    /// A row showing a stored component (of a condition shown on the row above).
    fn component_of(c: &MeasureComponent) -> Self {
        Self {
            duty: ComponentRow::of(c),
            ..Self::default()
        }
    }
}

/// How many rows with this prefix (`c` components, `k` conditions) a posted form has: rows
/// `0..n` each have at least one field.
fn posted_rows(form: &Form, prefix: char) -> usize {
    (0..MAX_ROWS)
        .take_while(|i| form.has_prefix(&format!("{prefix}{i}_")))
        .count()
}

/// The form as typed (re-shown with the errors).
#[derive(Clone)]
struct DraftForm {
    operation: String,
    measure_sid: String,
    measure_type: String,
    goods_code: String,
    geographical_area: String,
    excluded_areas: String,
    additional_code: String,
    order_number: String,
    start: String,
    end: String,
    components: Vec<ComponentRow>,
    conditions: Vec<ConditionRow>,
    footnotes: String,
    regulation: String,
    legal_base: String,
}

impl Default for DraftForm {
    fn default() -> Self {
        Self {
            operation: "create".into(),
            measure_sid: String::new(),
            measure_type: String::new(),
            goods_code: String::new(),
            geographical_area: "1011".into(),
            excluded_areas: String::new(),
            additional_code: String::new(),
            order_number: String::new(),
            start: String::new(),
            end: String::new(),
            components: vec![ComponentRow::default(); COMPONENT_ROWS],
            conditions: vec![ConditionRow::default(); CONDITION_ROWS],
            footnotes: String::new(),
            regulation: String::new(),
            legal_base: String::new(),
        }
    }
}

type FieldErrors = Vec<(String, String)>;

impl DraftForm {
    /// Adds `spare` empty rows of each kind, and more up to the number the form offers at
    /// least.
    fn pad(&mut self, spare: usize) {
        let components = (self.components.len() + spare).max(COMPONENT_ROWS);
        self.components.resize(components, ComponentRow::default());
        let conditions = (self.conditions.len() + spare).max(CONDITION_ROWS);
        self.conditions.resize(conditions, ConditionRow::default());
    }

    /// For each component row, the index of its component in the draft (`None`: empty).
    fn component_slots(&self) -> Vec<Option<usize>> {
        let mut next = 0;
        self.components
            .iter()
            .map(|c| {
                (!c.is_empty()).then(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect()
    }

    /// For each condition row, the index of its condition in the draft and of the
    /// component it holds in that condition (`None`: empty). A row with only a component
    /// continues the condition above; the first non-empty row always starts one.
    fn condition_slots(&self) -> Vec<Option<(usize, usize)>> {
        let mut current: Option<(usize, usize)> = None;
        let mut next = 0;
        self.conditions
            .iter()
            .map(|k| {
                if k.is_empty() {
                    return None;
                }
                let slot = match current {
                    Some((n, c)) if !k.has_condition() => (n, c + 1),
                    _ => {
                        next += 1;
                        (next - 1, 0)
                    }
                };
                current = Some(slot);
                Some(slot)
            })
            .collect()
    }

    /// The form showing a stored draft: every component and condition (a condition's
    /// further components on the rows below it), and one spare row of each kind.
    fn of(d: &NationalMeasureDraft) -> Self {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        let dec = |v: &Option<Decimal>| v.map(|a| a.normalize().to_string()).unwrap_or_default();
        let mut form = Self {
            operation: d.operation.as_str().to_owned(),
            measure_sid: d.measure_sid.map(|x| x.to_string()).unwrap_or_default(),
            measure_type: s(&d.measure_type),
            goods_code: s(&d.goods_code),
            geographical_area: s(&d.geographical_area),
            excluded_areas: d.excluded_areas.join(", "),
            additional_code: s(&d.additional_code),
            order_number: s(&d.order_number),
            start: d.validity.start.map(|x| x.to_string()).unwrap_or_default(),
            end: d.validity.end.map(|x| x.to_string()).unwrap_or_default(),
            components: d.components.iter().map(ComponentRow::of).collect(),
            conditions: d
                .conditions
                .iter()
                .flat_map(|k| {
                    let mut parts = k.components.iter().map(ConditionRow::component_of);
                    let head = ConditionRow {
                        code: k.code.clone(),
                        certificate: s(&k.certificate),
                        threshold_amount: dec(&k.threshold_amount),
                        threshold_unit: s(&k.threshold_unit),
                        action: k.action.clone(),
                        ..parts.next().unwrap_or_default()
                    };
                    std::iter::once(head).chain(parts)
                })
                .collect(),
            footnotes: d.footnotes.join(", "),
            regulation: s(&d.regulation),
            legal_base: s(&d.legal_base),
        };
        form.pad(1);
        form
    }

    fn parse(p: &Form) -> Self {
        let f = |n: &str| p.get(n).to_owned();
        Self {
            operation: f("operation"),
            measure_sid: f("measure_sid"),
            measure_type: f("measure_type").to_ascii_uppercase(),
            goods_code: f("goods_code"),
            geographical_area: f("geographical_area").to_ascii_uppercase(),
            excluded_areas: f("excluded_areas"),
            additional_code: f("additional_code").to_ascii_uppercase(),
            order_number: f("order_number"),
            start: f("start"),
            end: f("end"),
            components: (0..posted_rows(p, 'c'))
                .map(|i| ComponentRow::read(p, &format!("c{i}")))
                .collect(),
            conditions: (0..posted_rows(p, 'k'))
                .map(|i| ConditionRow {
                    code: f(&format!("k{i}_code")).to_ascii_uppercase(),
                    certificate: f(&format!("k{i}_certificate")).to_ascii_uppercase(),
                    threshold_amount: f(&format!("k{i}_threshold_amount")),
                    threshold_unit: f(&format!("k{i}_threshold_unit")).to_ascii_uppercase(),
                    action: f(&format!("k{i}_action")),
                    duty: ComponentRow::read(p, &format!("k{i}")),
                })
                .collect(),
            footnotes: f("footnotes"),
            regulation: f("regulation").to_ascii_uppercase(),
            legal_base: f("legal_base"),
        }
    }

    /// The draft, or the errors of fields that are not even well-typed.
    fn draft(&self) -> Result<NationalMeasureDraft, FieldErrors> {
        let mut errors = FieldErrors::new();
        let operation = Operation::parse(&self.operation).unwrap_or_else(|| {
            errors.push(("/operation".into(), "choose what the draft does".into()));
            Operation::Create
        });
        let date = |s: &str, pointer: &str, errors: &mut FieldErrors| -> Option<NaiveDate> {
            if s.is_empty() {
                return None;
            }
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| errors.push((pointer.into(), "must be a date, YYYY-MM-DD".into())))
                .ok()
        };
        let start = date(&self.start, "/validity/start", &mut errors);
        let end = date(&self.end, "/validity/end", &mut errors);
        let measure_sid = if self.measure_sid.is_empty() {
            None
        } else {
            self.measure_sid
                .parse::<u64>()
                .map_err(|_| errors.push(("/measure_sid".into(), "must be a measure SID".into())))
                .ok()
        };
        let mut components = Vec::new();
        for (i, c) in self.components.iter().enumerate() {
            if c.is_empty() {
                continue;
            }
            let amount = if c.amount.is_empty() {
                None
            } else {
                Decimal::from_str(&c.amount.replace(',', "."))
                    .map_err(|_| {
                        errors.push((
                            format!("/components/{}/amount", components.len()),
                            format!("row {}: the amount must be a number", i + 1),
                        ))
                    })
                    .ok()
            };
            components.push(MeasureComponent {
                duty_expression_id: c.expression.clone(),
                amount,
                monetary_unit: opt(&c.monetary_unit),
                measurement_unit: opt(&c.measurement_unit),
                qualifier: opt(&c.qualifier),
            });
        }
        let number = |text: &str, pointer: String, what: String, errors: &mut FieldErrors| {
            if text.is_empty() {
                return None;
            }
            Decimal::from_str(&text.replace(',', "."))
                .map_err(|_| errors.push((pointer, what)))
                .ok()
        };
        let mut conditions: Vec<DraftCondition> = Vec::new();
        for (i, (c, slot)) in self
            .conditions
            .iter()
            .zip(self.condition_slots())
            .enumerate()
        {
            let Some((n, k)) = slot else { continue };
            let d = &c.duty;
            let amount = number(
                &d.amount,
                format!("/conditions/{n}/components/{k}/amount"),
                format!("condition row {}: the amount must be a number", i + 1),
                &mut errors,
            );
            let component = c.has_component().then(|| MeasureComponent {
                duty_expression_id: d.expression.clone(),
                amount,
                monetary_unit: opt(&d.monetary_unit),
                measurement_unit: opt(&d.measurement_unit),
                qualifier: opt(&d.qualifier),
            });
            if k > 0 {
                if let Some(last) = conditions.last_mut() {
                    last.components.extend(component);
                }
                continue;
            }
            if !c.has_condition() {
                errors.push((
                    format!("/conditions/{n}/code"),
                    format!(
                        "condition row {}: a row with only a duty continues the condition above it, and there is none",
                        i + 1
                    ),
                ));
                continue;
            }
            let threshold_amount = number(
                &c.threshold_amount,
                format!("/conditions/{n}/threshold_amount"),
                format!("condition row {}: the threshold must be a number", i + 1),
                &mut errors,
            );
            conditions.push(DraftCondition {
                code: c.code.clone(),
                sequence: None,
                certificate: opt(&c.certificate),
                threshold_amount,
                threshold_unit: opt(&c.threshold_unit),
                action: c.action.clone(),
                components: component.into_iter().collect(),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let takes_content = matches!(operation, Operation::Create | Operation::Modify);
        Ok(NationalMeasureDraft {
            operation,
            measure_sid,
            measure_type: opt(&self.measure_type).filter(|_| takes_content),
            goods_code: opt(&self.goods_code).filter(|_| takes_content),
            geographical_area: opt(&self.geographical_area).filter(|_| takes_content),
            excluded_areas: if takes_content {
                list_of(&self.excluded_areas)
            } else {
                Vec::new()
            },
            additional_code: opt(&self.additional_code).filter(|_| takes_content),
            order_number: opt(&self.order_number).filter(|_| takes_content),
            validity: DraftValidity {
                start: start.filter(|_| takes_content),
                end: end.filter(|_| operation != Operation::Delete),
            },
            components: if takes_content {
                components
            } else {
                Vec::new()
            },
            conditions: if takes_content {
                conditions
            } else {
                Vec::new()
            },
            footnotes: if takes_content {
                list_of(&self.footnotes)
            } else {
                Vec::new()
            },
            regulation: opt(&self.regulation).filter(|_| takes_content),
            legal_base: opt(&self.legal_base).filter(|_| takes_content),
        })
    }
}

#[derive(Template)]
#[template(path = "tariff/measure_form.html")]
struct FormPage {
    layout: Layout,
    tenant: String,
    form: DraftForm,
    errors: FieldErrors,
    csrf: String,
    /// The draft being edited (its id and the version read), or `None` for a new draft.
    editing: Option<(String, i64)>,
}

impl FormPage {
    /// The messages for a field: its pointer and everything under it.
    fn err(&self, pointer: &str) -> Option<String> {
        let nested = format!("{pointer}/");
        let msgs: Vec<&str> = self
            .errors
            .iter()
            .filter(|(p, _)| p == pointer || p.starts_with(&nested))
            .map(|(_, m)| m.as_str())
            .collect();
        (!msgs.is_empty()).then(|| msgs.join(" "))
    }

    /// The messages of a component row's field (the row's component in the draft).
    fn cerr(&self, row: &usize, name: &str) -> Option<String> {
        let n = self.form.component_slots().get(*row).copied().flatten()?;
        self.err(&format!("/components/{n}/{name}"))
    }

    /// The messages of a condition row's field: the condition's own fields on the row that
    /// starts it, `components` for the component the row holds.
    fn kerr(&self, row: &usize, name: &str) -> Option<String> {
        let (n, k) = self.form.condition_slots().get(*row).copied().flatten()?;
        match name {
            "components" => self.err(&format!("/conditions/{n}/components/{k}")),
            _ if k == 0 => self.err(&format!("/conditions/{n}/{name}")),
            _ => None,
        }
    }

    /// Errors not shown next to a field of the form.
    fn other_errors(&self) -> Vec<&str> {
        const SHOWN: [&str; 15] = [
            "/operation",
            "/measure_sid",
            "/measure_type",
            "/goods_code",
            "/geographical_area",
            "/excluded_areas",
            "/additional_code",
            "/order_number",
            "/validity/start",
            "/validity/end",
            "/components",
            "/conditions",
            "/footnotes",
            "/regulation",
            "/legal_base",
        ];
        self.errors
            .iter()
            .filter(|(p, _)| {
                !SHOWN
                    .iter()
                    .any(|s| p == s || p.starts_with(&format!("{s}/")))
            })
            .map(|(_, m)| m.as_str())
            .collect()
    }
}

/// The caller, or the redirect to the login page (boxed: a response is large).
fn caller_or_login(caller: Option<Caller>) -> Result<Caller, Box<Response>> {
    caller.ok_or_else(|| Box::new(see_other("/login")))
}

fn tenant_of(
    circle: Circle,
    state: &AppState,
    caller: &Caller,
    tenant: &str,
    action: Action,
) -> Result<TenantCode, Box<Response>> {
    api::authorize(state, caller, tenant, "*", action)
        .map_err(|e| Box::new(error_page(circle, caller, &e)))
}

// ---------------------------------------------------------------------------------------------
// Pages

struct DraftLine {
    id: String,
    operation: String,
    summary: String,
    status: String,
    drafted_by: String,
    drafted_at: String,
}

#[derive(Template)]
#[template(path = "tariff/measure_drafts.html")]
struct ListPage {
    layout: Layout,
    tenant: String,
    status: String,
    statuses: Vec<&'static str>,
    drafts: Vec<DraftLine>,
    measures: Vec<NationalMeasureView>,
    as_of: NaiveDate,
    can_draft: bool,
}

fn summary(row: &MeasureDraftRow) -> String {
    let p = &row.payload;
    let s = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("");
    match row.operation.as_str() {
        "create" | "modify" => {
            let target = row
                .target_sid
                .map(|t| format!(" (measure {t})"))
                .unwrap_or_default();
            format!(
                "{} on {} for {} from {}{target}",
                s("measure_type"),
                s("goods_code"),
                p.get("geographical_area")
                    .and_then(|v| v.as_str())
                    .unwrap_or("1011"),
                p.pointer("/validity/start")
                    .and_then(|v| v.as_str())
                    .unwrap_or("?")
            )
        }
        "end" => format!(
            "measure {} ends on {}",
            row.target_sid.unwrap_or_default(),
            p.pointer("/validity/end")
                .and_then(|v| v.as_str())
                .unwrap_or("?")
        ),
        _ => format!("measure {}", row.target_sid.unwrap_or_default()),
    }
}

async fn list(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(tenant): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let caller = match caller_or_login(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let tenant = match tenant_of(circle, &state, &caller, &tenant, Action::TariffRead) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let q = Form::parse(q.unwrap_or_default().as_bytes());
    let status_text = q.get("status").to_owned();
    let status = DraftStatus::parse(&status_text);
    let as_of = state.clock().now().date_naive();
    let scoped = state.store.scoped(caller.scope());
    let result = async {
        let (rows, _) = scoped
            .measure_drafts(status, &Page::first(Page::MAX))
            .await?;
        let measures = api::national_measures(&state, &tenant, as_of).await?;
        Ok::<_, ApiError>((rows, measures))
    }
    .await;
    let (rows, measures) = match result {
        Ok(r) => r,
        Err(e) => return error_page(circle, &caller, &e),
    };
    let page = ListPage {
        layout: Layout::for_caller(circle, "tariff", &caller),
        tenant: tenant.to_string(),
        status: status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        statuses: DraftStatus::ALL.iter().map(|s| s.as_str()).collect(),
        drafts: rows
            .iter()
            .rev()
            .map(|r| DraftLine {
                id: r.id.clone(),
                operation: r.operation.clone(),
                summary: summary(r),
                status: r.status.clone(),
                drafted_by: r.drafted_by.clone(),
                drafted_at: fmt_time(&r.drafted_at),
            })
            .collect(),
        measures,
        as_of,
        can_draft: api::permits(&state, &caller, &tenant, Action::MeasureDraft),
    };
    render(&page, StatusCode::OK, true)
}

fn form_page(
    circle: Circle,
    caller: &Caller,
    tenant: &TenantCode,
    form: DraftForm,
    errors: FieldErrors,
    status: StatusCode,
) -> Response {
    edit_form_page(circle, caller, tenant, form, errors, status, None)
}

fn edit_form_page(
    circle: Circle,
    caller: &Caller,
    tenant: &TenantCode,
    form: DraftForm,
    errors: FieldErrors,
    status: StatusCode,
    editing: Option<(String, i64)>,
) -> Response {
    let page = FormPage {
        layout: Layout::for_caller(circle, "tariff", caller),
        tenant: tenant.to_string(),
        form,
        errors,
        csrf: caller.csrf.clone().unwrap_or_default(),
        editing,
    };
    render(&page, status, true)
}

/// `GET …/measure-drafts/{id}/edit`: the form filled in with a draft (its drafter, while it
/// is a draft).
async fn edit_form(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((tenant, id)): Path<(String, String)>,
) -> Response {
    let caller = match caller_or_login(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let tenant = match tenant_of(circle, &state, &caller, &tenant, Action::MeasureDraft) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let row = match state.store.scoped(caller.scope()).measure_draft(&id).await {
        Ok(r) => r,
        Err(e) => return error_page(circle, &caller, &e.into()),
    };
    if row.status() != Some(DraftStatus::Draft) || row.drafted_by != caller.principal.id.to_string()
    {
        return error_page(
            circle,
            &caller,
            &ApiError::new(
                ErrorCode::InvalidTransition,
                format!(
                    "only its drafter, {}, edits draft {id}, and only while it is a draft (it is {})",
                    row.drafted_by, row.status
                ),
            ),
        );
    }
    let form = match serde_json::from_value::<NationalMeasureDraft>(row.payload.clone()) {
        Ok(d) => DraftForm::of(&d),
        Err(_) => DraftForm::default(),
    };
    edit_form_page(
        circle,
        &caller,
        &tenant,
        form,
        Vec::new(),
        StatusCode::OK,
        Some((row.id, row.version)),
    )
}

/// `POST …/measure-drafts/{id}/edit`: the form's draft replaces the draft's content (the API's
/// amendment, with the version the form was read at).
async fn save_edit(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((tenant, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let caller = match caller_or_login(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let tenant = match tenant_of(circle, &state, &caller, &tenant, Action::MeasureDraft) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let form = Form::parse(&body);
    let version = form.get("version").parse::<i64>().ok();
    save_form(circle, &state, &caller, &tenant, &form, Some((id, version))).await
}

/// The form posted, as a new draft (`editing` `None`) or as the amendment of draft `id` read
/// at `version`: shape errors and rule violations are shown on the form; saved, the draft's
/// page.
async fn save_form(
    circle: Circle,
    state: &AppState,
    caller: &Caller,
    tenant: &TenantCode,
    posted: &Form,
    editing: Option<(String, Option<i64>)>,
) -> Response {
    let mut form = DraftForm::parse(posted);
    let shown = editing
        .as_ref()
        .map(|(id, v)| (id.clone(), v.unwrap_or_default()));
    if !posted.get("more_rows").is_empty() {
        // "More rows": the same form with empty rows added, nothing saved.
        form.pad(MORE_ROWS);
        return edit_form_page(
            circle,
            caller,
            tenant,
            form,
            Vec::new(),
            StatusCode::OK,
            shown,
        );
    }
    form.pad(0);
    let draft = match form.draft() {
        Ok(d) => d,
        Err(errors) => {
            return edit_form_page(
                circle,
                caller,
                tenant,
                form,
                errors,
                StatusCode::BAD_REQUEST,
                shown,
            )
        }
    };
    let saved = match &editing {
        None => api::create(state, caller, tenant.as_str(), &draft).await,
        Some((id, version)) => {
            api::amend(state, caller, tenant.as_str(), id, *version, &draft).await
        }
    };
    match saved {
        Ok(row) => see_other(&format!(
            "/tariff/{tenant}/measure-drafts/{}{}",
            row.id,
            if editing.is_some() {
                "?done=amended"
            } else {
                ""
            }
        )),
        Err(e) if !e.errors.is_empty() => {
            let errors = e
                .errors
                .iter()
                .map(|f| (f.pointer.clone(), f.detail.clone()))
                .collect();
            edit_form_page(circle, caller, tenant, form, errors, e.code.status(), shown)
        }
        Err(e) => match &editing {
            Some((id, _)) => draft_page(circle, state, caller, tenant, id, None, Some(e)).await,
            None => error_page(circle, caller, &e),
        },
    }
}

async fn new_form(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(tenant): Path<String>,
) -> Response {
    let caller = match caller_or_login(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    match tenant_of(circle, &state, &caller, &tenant, Action::MeasureDraft) {
        Ok(t) => form_page(
            circle,
            &caller,
            &t,
            DraftForm::default(),
            Vec::new(),
            StatusCode::OK,
        ),
        Err(r) => *r,
    }
}

async fn create(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    let caller = match caller_or_login(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let tenant = match tenant_of(circle, &state, &caller, &tenant, Action::MeasureDraft) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    save_form(circle, &state, &caller, &tenant, &Form::parse(&body), None).await
}

struct Row {
    label: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "tariff/measure_draft.html")]
struct DraftPage {
    layout: Layout,
    tenant: String,
    draft: MeasureDraftRow,
    rows: Vec<Row>,
    notice: Option<String>,
    error: Option<ApiError>,
    csrf: String,
    can_submit: bool,
    can_withdraw: bool,
    can_decide: bool,
}

fn detail_rows(row: &MeasureDraftRow) -> Vec<Row> {
    let draft: Option<NationalMeasureDraft> = serde_json::from_value(row.payload.clone()).ok();
    let mut out = vec![Row {
        label: "Operation",
        value: row.operation.clone(),
    }];
    let Some(d) = draft else {
        return out;
    };
    let mut push = |label: &'static str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            out.push(Row { label, value });
        }
    };
    push("Measure", d.measure_sid.map(|s| s.to_string()));
    push("Measure type", d.measure_type.clone());
    push("Goods code", d.goods_code.clone());
    push(
        "Geographical area",
        d.geographical_area
            .clone()
            .or_else(|| d.measure_type.as_ref().map(|_| "1011".to_owned())),
    );
    push("Excluded areas", Some(d.excluded_areas.join(", ")));
    push("Additional code", d.additional_code.clone());
    push("Order number", d.order_number.clone());
    push("Valid from", d.validity.start.map(|s| s.to_string()));
    push("Valid to", d.validity.end.map(|s| s.to_string()));
    push("Duty", Some(describe(&d.components)));
    for c in &d.conditions {
        let mut parts = vec![format!("condition {}", c.code)];
        if let Some(cert) = &c.certificate {
            parts.push(format!("document {cert}"));
        }
        if let Some(a) = c.threshold_amount {
            parts.push(format!(
                "threshold {a}{}",
                c.threshold_unit
                    .as_deref()
                    .map(|u| format!(" {u}"))
                    .unwrap_or_default()
            ));
        }
        parts.push(format!("action {}", c.action));
        if !c.components.is_empty() {
            parts.push(format!("duty {}", describe(&c.components)));
        }
        push("Condition", Some(parts.join(", ")));
    }
    push("Footnotes", Some(d.footnotes.join(", ")));
    push("Regulation", d.regulation.clone());
    push("Legal base", d.legal_base.clone());
    out
}

async fn draft_page(
    circle: Circle,
    state: &AppState,
    caller: &Caller,
    tenant: &TenantCode,
    id: &str,
    notice: Option<String>,
    error: Option<ApiError>,
) -> Response {
    let row = match state.store.scoped(caller.scope()).measure_draft(id).await {
        Ok(r) => r,
        Err(e) => return error_page(circle, caller, &e.into()),
    };
    let drafter = row.drafted_by == caller.principal.id.to_string();
    let status = row.status();
    let page = DraftPage {
        layout: Layout::for_caller(circle, "tariff", caller),
        tenant: tenant.to_string(),
        rows: detail_rows(&row),
        can_submit: drafter && status == Some(DraftStatus::Draft),
        can_withdraw: drafter
            && matches!(status, Some(DraftStatus::Draft | DraftStatus::Submitted)),
        can_decide: !drafter
            && status == Some(DraftStatus::Submitted)
            && api::permits(state, caller, tenant, Action::MeasureApprove),
        draft: row,
        notice,
        csrf: caller.csrf.clone().unwrap_or_default(),
        error: error.clone(),
    };
    let code = error.map(|e| e.code.status()).unwrap_or(StatusCode::OK);
    render(&page, code, true)
}

async fn show(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((tenant, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    let caller = match caller_or_login(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let tenant = match tenant_of(circle, &state, &caller, &tenant, Action::TariffRead) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let q = Form::parse(q.unwrap_or_default().as_bytes());
    let notice = match q.get("done") {
        "submitted" => Some("The draft is submitted for approval by a second officer.".to_owned()),
        "approved" => Some(
            "Approved: the measure is in the national tariff from its validity start.".to_owned(),
        ),
        "rejected" => Some("The draft is rejected.".to_owned()),
        "withdrawn" => Some("The draft is withdrawn.".to_owned()),
        "amended" => Some("The draft is saved; it is checked again on approval.".to_owned()),
        _ => None,
    };
    draft_page(circle, &state, &caller, &tenant, &id, notice, None).await
}

async fn step(
    circle: Circle,
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((tenant, id, step)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let caller = match caller_or_login(caller) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let tenant = match tenant_of(circle, &state, &caller, &tenant, Action::TariffRead) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let p = Form::parse(&body);
    let version = p.get("version").parse::<i64>().ok();
    let reason = opt(p.get("reason"));
    let t = tenant.as_str();
    let result = match step.as_str() {
        "submit" => api::submit(&state, &caller, t, &id, version).await,
        "approve" => api::approve(&state, &caller, t, &id, version).await,
        "reject" => api::reject(&state, &caller, t, &id, version, reason.as_deref()).await,
        "withdraw" => api::withdraw(&state, &caller, t, &id, version, reason.as_deref()).await,
        _ => Err(ApiError::new(
            ErrorCode::RouteNotFound,
            format!("no step {:?}", step.chars().take(20).collect::<String>()),
        )),
    };
    match result {
        Ok(row) => see_other(&format!(
            "/tariff/{tenant}/measure-drafts/{}?done={}",
            row.id, row.status
        )),
        Err(e) => draft_page(circle, &state, &caller, &tenant, &id, None, Some(e)).await,
    }
}
