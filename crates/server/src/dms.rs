//! The WCO DMS import/export declaration service: what the trader routes
//! (`routes/customs_declarations.rs`) and the officer routes (`routes/declarations_officer.rs`)
//! do with a message or a decision, in ONE store transaction ([`portorium_store::DmsTx`])
//! committed before the 2xx.
//!
//! Lodging (`POST /customs/declarations`): the XSD then the business rules
//! (`portorium_declarations::dms::validate_message`): a schema error → 400
//! `schema_validation` listing each XPath and rule code, nothing stored; business-rule errors
//! → the declaration stored as received and rejected (DMSRCV 02, DMSREJ 03 with each error's
//! code and WCO pointer), 202, its LRN left free for the corrected declaration. The same
//! declaration again (same declarant, LRN and content) answers the same 202; a used LRN with
//! other content is a 409 naming the LRN's element. The declarant must be the calling
//! trader; the declaration
//! belongs to the administration of its routing office's country. In one transaction: the
//! declaration and its message as received (with the parsed JSON), DMSRCV (02), the MRN from
//! the administration's per-year counter and DMSACC (01); for an import the duties of every
//! item from the tariff as of the acceptance date ([`assess`]: the duty calculator of the
//! tariff API with the item's commodity code, origin, customs value, net mass and
//! supplementary units, additional codes and documents; a quota order number draws on the
//! quota first come first served inside the transaction, and the item is assessed at the quota
//! rate only when the whole quantity is granted; a preference claim picks the preferential
//! rate), stored apart from the declared data and notified as DMSTAX (13); then the lane from
//! the one risk interface ([`crate::risk::LaneAssessor`], the same as transit's): green clears
//! an import (DMSROG 08 then DMSCLE 09) or releases an export (08), any other lane puts the declaration under control (DMSCTL 05) for an officer. An
//! import whose duties cannot be assessed (commodity not in the tariff, a quantity missing …)
//! goes under control with the reason, for an officer to decide.
//!
//! Amendments (`…/amend`) and cancellations (`…/cancellation-requests`) name the MRN; the
//! lifecycle (`DmsLifecycle::apply`) refuses what is out of sequence with error 92
//! (409 `out_of_sequence`). An amendment is a new version (its message stored beside the
//! original, never over it) and re-assesses an import; a cancellation before release
//! invalidates (DMSINV 10) and returns the declaration's quota allocations.
//!
//! Notifications are stored with the declaration and pushed to the declarant's webhook, when
//! it registered one, by [`delivery_task`] (HMAC-SHA256 of the body in `X-Portorium-Signature`,
//! retries with back-off), never in the lodging request.

use crate::error::{ApiError, ApiResult, ErrorCode, FieldError};
use crate::risk::{
    Assessment, ConfiguredLane, Lane, LaneAssessor, Procedure, RiskItem, RiskSubject,
};
use crate::routes::tariff::{duty_calculation, DutyCalculationRequest, Money};
use crate::state::{AppState, Caller};
use chrono::Datelike;
use portorium_declarations::dms::{
    notification_xml, parse_declaration, validate_message, Actor, AssessedDuty, Direction,
    DmsDeclaration, DmsError, DmsEvent, DmsLifecycle, DmsMessageKind, DmsNotification, DmsRule,
    DmsSchemas, DmsState, ItemDuties, Located, NotificationKind, Statement,
};
use portorium_declarations::mrn::{Mrn, ProcedureCategory};
use portorium_kernel::{Eori, PrincipalId, TenantCode};
use portorium_store::{
    DmsDeclarationRow, DmsLocked, DmsPosition, DmsTx, NewAllocationRequest, NewDmsDeclaration,
    QuotaOpening, Scope, StoreError,
};
use portorium_trust::{Action, Resource, ResourceKind};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

// ---------------------------------------------------------------- settings and lanes

/// A declaration as the one risk interface ([`crate::risk`]) sees it: import or export, the
/// administration, the declarant, the routing office, per item the commodity code, origin and
/// customs value (else the item price).
fn risk_subject(row: &DmsDeclarationRow, decl: &DmsDeclaration) -> RiskSubject {
    let currency = decl.currency.as_ref().map(|c| c.value.clone());
    RiskSubject {
        procedure: if row.direction == "import" {
            Procedure::Import
        } else {
            Procedure::Export
        },
        administration: row.tenant.clone(),
        declarant: row.declarant.clone(),
        offices: row.office.iter().cloned().collect(),
        items: decl
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let value = item.customs_value.as_ref().or(item.item_price.as_ref());
                RiskItem {
                    sequence: item
                        .sequence
                        .as_ref()
                        .map(|s| s.value)
                        .unwrap_or(u32::try_from(i + 1).unwrap_or(u32::MAX)),
                    commodity_code: item.commodity_code.as_ref().map(|c| c.value.clone()),
                    origin: item.origin_country.as_ref().map(|o| o.value.clone()),
                    value: value.map(|v| v.amount),
                    currency: value
                        .and_then(|v| v.currency.clone())
                        .or_else(|| currency.clone()),
                }
            })
            .collect(),
    }
}

/// The DMS service's settings (part of [`crate::state::ServerConfig`]).
#[derive(Clone)]
pub struct DmsSettings {
    /// The schema directory (`customs/`, `wco/` …).
    pub xsd_dir: Option<PathBuf>,
    schemas: Arc<OnceLock<Option<Arc<DmsSchemas>>>>,
    /// The lane assessor (the one risk interface, shared with transit).
    pub lanes: Arc<dyn LaneAssessor>,
}

impl std::fmt::Debug for DmsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DmsSettings")
            .field("xsd_dir", &self.xsd_dir)
            .finish_non_exhaustive()
    }
}

impl Default for DmsSettings {
    /// `PORTORIUM_DMS_XSD_DIR`, else `$PORTORIUM_REFERENCE/wco-dms/schemas`, else
    /// `../shared/reference/wco-dms/schemas`, when present; every administration in the
    /// green lane.
    fn default() -> Self {
        DmsSettings::new(default_xsd_dir(), Lane::Green, HashMap::new())
    }
}

impl DmsSettings {
    pub fn new(xsd_dir: Option<PathBuf>, default: Lane, lanes: HashMap<String, Lane>) -> Self {
        DmsSettings {
            xsd_dir,
            schemas: Arc::new(OnceLock::new()),
            lanes: Arc::new(ConfiguredLane {
                default,
                per_administration: lanes,
            }),
        }
    }

    /// The loaded schemas (loaded once, on first use).
    pub fn schemas(&self) -> Option<Arc<DmsSchemas>> {
        self.schemas
            .get_or_init(|| {
                let dir = self.xsd_dir.as_deref()?;
                match DmsSchemas::load(dir) {
                    Ok(s) => Some(Arc::new(s)),
                    Err(e) => {
                        tracing::warn!(dir = %dir.display(), error = %e, "WCO DMS schemas do not load");
                        None
                    }
                }
            })
            .clone()
    }
}

/// Whether `dir` looks like the DMS schema directory.
pub fn is_xsd_dir(dir: &Path) -> bool {
    dir.join("customs").join("wrapper_submit.xsd").is_file()
}

/// The schema directory from the environment or the reference data, when present.
pub fn default_xsd_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("PORTORIUM_DMS_XSD_DIR") {
        return Some(PathBuf::from(d));
    }
    let bases: Vec<PathBuf> = match std::env::var_os("PORTORIUM_REFERENCE") {
        Some(b) => vec![b.into()],
        None => vec![
            "../shared/reference".into(),
            "../../../shared/reference".into(),
        ],
    };
    bases
        .into_iter()
        .map(|b| b.join("wco-dms").join("schemas"))
        .find(|p| is_xsd_dir(p))
}

fn schemas(state: &AppState) -> ApiResult<Arc<DmsSchemas>> {
    state.config.dms.schemas().ok_or_else(|| {
        ApiError::new(
            ErrorCode::SchemasUnavailable,
            "the WCO DMS schemas are not configured on this server (PORTORIUM_DMS_XSD_DIR)",
        )
    })
}

// ---------------------------------------------------------------- states

fn state_name(s: DmsState) -> &'static str {
    match s {
        DmsState::Submitted => "submitted",
        DmsState::Accepted => "accepted",
        DmsState::DutiesAssessed => "duties_assessed",
        DmsState::UnderControl => "under_control",
        DmsState::DocumentsRequired => "documents_required",
        DmsState::Released => "released",
        DmsState::Cleared => "cleared",
        DmsState::Rejected => "rejected",
        DmsState::Invalidated => "invalidated",
    }
}

fn parse_state(s: &str) -> ApiResult<DmsState> {
    Ok(match s {
        "submitted" => DmsState::Submitted,
        "accepted" => DmsState::Accepted,
        "duties_assessed" => DmsState::DutiesAssessed,
        "under_control" => DmsState::UnderControl,
        "documents_required" => DmsState::DocumentsRequired,
        "released" => DmsState::Released,
        "cleared" => DmsState::Cleared,
        "rejected" => DmsState::Rejected,
        "invalidated" => DmsState::Invalidated,
        other => {
            return Err(ApiError::new(
                ErrorCode::Internal,
                format!("stored DMS state {other:?} is unknown"),
            ))
        }
    })
}

/// Every state name, for the work-queue filter.
pub const STATES: [&str; 9] = [
    "submitted",
    "accepted",
    "duties_assessed",
    "under_control",
    "documents_required",
    "released",
    "cleared",
    "rejected",
    "invalidated",
];

fn lifecycle_of(row: &DmsDeclarationRow) -> ApiResult<DmsLifecycle> {
    let mut lc = DmsLifecycle::submitted(if row.direction == "import" {
        Direction::Import
    } else {
        Direction::Export
    });
    lc.state = parse_state(&row.state)?;
    lc.mrn = row.mrn.clone();
    lc.version = u32::try_from(row.version).unwrap_or(u32::MAX);
    lc.duties_assessed = row.duties_assessed;
    lc.cancellation_pending = row.cancellation_pending;
    Ok(lc)
}

fn position(lc: &DmsLifecycle) -> DmsPosition {
    DmsPosition {
        state: state_name(lc.state).to_owned(),
        mrn: lc.mrn.clone(),
        version: i64::from(lc.version),
        duties_assessed: lc.duties_assessed,
        cancellation_pending: lc.cancellation_pending,
    }
}

// ---------------------------------------------------------------- errors

/// Every validation error as a 400 problem naming the element (XPath) and the rule code.
fn validation_problem(errors: Vec<portorium_declarations::dms::DmsError>) -> ApiError {
    let schema = errors
        .iter()
        .any(|e| e.rule == portorium_declarations::dms::DmsRule::Schema);
    let mut e = ApiError::new(
        ErrorCode::SchemaValidation,
        format!(
            "{} error(s){}: {}",
            errors.len(),
            if schema {
                " (schema)"
            } else {
                " (business rules)"
            },
            errors
                .iter()
                .map(|e| format!("{} at {}", e.code, e.xpath))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    );
    e.errors = errors
        .into_iter()
        .map(|d| FieldError {
            pointer: d.xpath.clone(),
            detail: format!("{}: {}", d.code, d.message),
        })
        .collect();
    e
}

fn out_of_sequence(e: &portorium_declarations::dms::LifecycleError) -> ApiError {
    ApiError::new(ErrorCode::InvalidTransition, e.to_string())
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::Internal, e.to_string())
}

// ---------------------------------------------------------------- notifications

/// What a notification needs besides its kind.
#[derive(Default)]
struct Extra {
    statements: Vec<Statement>,
    duties: Vec<ItemDuties>,
    /// For a rejection (DMSREJ): the business-rule errors, each with its WCO pointer and code.
    errors: Vec<DmsError>,
}

async fn notify(
    tx: &mut DmsTx<'_>,
    d: &DmsLocked,
    kind: NotificationKind,
    extra: Extra,
) -> ApiResult<()> {
    let row = d.row();
    // At most 35 characters in `Response/FunctionalReferenceID`: the id without hyphens.
    let id = tx.new_id().replace('-', "");
    let n = DmsNotification {
        kind,
        notification_id: id.clone(),
        issued_at: tx.now(),
        responsible_country: row.tenant.clone(),
        lrn: row.lrn.clone(),
        mrn: row.mrn.clone(),
        version: u32::try_from(row.version).unwrap_or(u32::MAX),
        errors: extra.errors,
        statements: extra.statements,
        duties: extra.duties,
    };
    let xml = notification_xml(&n).map_err(internal)?;
    tx.notify(d, &id, kind.function_code(), kind.cds_name(), &xml)
        .await?;
    Ok(())
}

fn statement(text: impl Into<String>) -> Statement {
    let mut t: String = text.into();
    if t.chars().count() > 500 {
        t = t.chars().take(497).collect::<String>() + "...";
    }
    Statement {
        code: None,
        description: Some(t),
        limit: None,
        type_code: None,
    }
}

/// Applies `event` by `actor`, moves the stored declaration and sends the notification the
/// lifecycle names (with `extra`).
async fn step(
    tx: &mut DmsTx<'_>,
    d: &mut DmsLocked,
    actor: Actor,
    event: DmsEvent,
    action: &str,
    detail: Option<&str>,
    extra: Extra,
) -> ApiResult<DmsLifecycle> {
    let lc = lifecycle_of(d.row())?;
    let t = lc.apply(actor, &event).map_err(|e| out_of_sequence(&e))?;
    tx.transition(d, &position(&t.lifecycle), action, detail)
        .await?;
    if let Some(kind) = t.notification {
        notify(tx, d, kind, extra).await?;
    }
    Ok(t.lifecycle)
}

// ---------------------------------------------------------------- duty assessment

/// One item's assessment, as stored and shown to the trader.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssessedItem {
    pub sequence: u32,
    pub commodity_code: String,
    pub origin: String,
    /// `third_country`, `suspension`, `preference` or `quota`.
    pub option: String,
    pub order_number: Option<String>,
    /// The quota allocation request when the quota granted the quantity.
    pub quota_allocation: Option<String>,
    pub lines: Vec<AssessedLine>,
    #[schema(value_type = String)]
    pub total: Decimal,
}

/// A duty line with its formula.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssessedLine {
    pub measure_type_id: String,
    pub measure_sid: u64,
    pub description: String,
    pub duty_expression: String,
    pub formula: String,
    /// DMS tax type (`A00` customs duty, `A30` anti-dumping / countervailing, `B00` VAT).
    pub tax_type: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub currency: String,
}

fn tax_type(measure_type: &str) -> &'static str {
    if measure_type.starts_with("VT") || measure_type == "305" {
        "B00"
    } else if measure_type.starts_with("55") {
        "A30"
    } else {
        "A00"
    }
}

/// A preference code (DE 4/17) claiming a preferential rate: 2xx (GSP) and 3xx (agreements).
fn claims_preference(code: Option<&str>) -> bool {
    matches!(code.and_then(|c| c.chars().next()), Some('2' | '3'))
}

/// Assesses every item of an import: `Ok` with the items, or the reasons they cannot be
/// assessed. Quota drawings (FCFS) happen in `tx`.
async fn assess(
    state: &AppState,
    tx: &mut DmsTx<'_>,
    d: &DmsLocked,
    decl: &DmsDeclaration,
    draw_quotas: bool,
) -> ApiResult<Result<(String, Vec<AssessedItem>), Vec<String>>> {
    let tenant = d.row().tenant.clone();
    let date = tx.now().date_naive();
    let currency = decl.currency.as_ref().map(|c| c.value.clone()).or_else(|| {
        decl.invoice_amount
            .as_ref()
            .and_then(|a| a.currency.clone())
    });
    let mut items = Vec::new();
    let mut problems = Vec::new();
    let mut national = String::new();
    for (i, item) in decl.items.iter().enumerate() {
        let seq = item
            .sequence
            .as_ref()
            .map(|s| s.value)
            .unwrap_or(u32::try_from(i + 1).unwrap_or(u32::MAX));
        let Some(code) = item.commodity_code.as_ref().map(|c| c.value.clone()) else {
            problems.push(format!("item {seq}: no commodity code"));
            continue;
        };
        let code = format!("{code:0<10}");
        let Some(origin) = item
            .preferential_origin_country
            .as_ref()
            .filter(|_| claims_preference(item.preference.as_ref().map(|p| p.value.as_str())))
            .or(item.origin_country.as_ref())
            .map(|o| o.value.clone())
        else {
            problems.push(format!("item {seq}: no country of origin"));
            continue;
        };
        let Some(value) = item.customs_value.as_ref().or(item.item_price.as_ref()) else {
            problems.push(format!("item {seq}: no customs value"));
            continue;
        };
        let Some(value_currency) = value.currency.clone().or_else(|| currency.clone()) else {
            problems.push(format!("item {seq}: no currency of the customs value"));
            continue;
        };
        let mut quantities = BTreeMap::new();
        if let Some(m) = &item.net_mass {
            quantities.insert("KGM".to_owned(), m.value);
        }
        if let Some(q) = &item.supplementary_quantity {
            quantities.insert("NAR".to_owned(), q.value);
        }
        let request = DutyCalculationRequest {
            commodity_code: code.clone(),
            origin: origin.clone(),
            date: Some(date),
            customs_value: Money {
                amount: value.amount,
                currency: value_currency,
            },
            quantities: quantities.clone(),
            additional_codes: item
                .additional_codes
                .iter()
                .map(|c| c.value.clone())
                .collect(),
            documents: item
                .documents
                .iter()
                .chain(decl.documents.iter())
                .map(|d| d.code.clone())
                .collect(),
            meursing_code: None,
            unit_price: None,
        };
        let calculated = match duty_calculation(state, &tenant, request).await {
            Ok(c) => c,
            Err(e) => {
                problems.push(format!("item {seq}: {}", e.detail));
                continue;
            }
        };
        let calc = calculated.view();
        national = calc.currency.to_owned();
        // The quota first: the whole quantity granted, or the item is assessed without it.
        let mut allocation = None;
        let order_number = item.quota_order_number.as_ref().map(|q| q.value.clone());
        if let (Some(order), true) = (&order_number, draw_quotas) {
            if calc
                .options
                .iter()
                .any(|o| o.kind == "quota" && o.order_number == Some(order.as_str()))
            {
                allocation = draw_quota(state, tx, d, seq, order, &quantities, date).await?;
            }
        }
        let pick = |kinds: &[&str]| {
            calc.options
                .iter()
                .filter(|o| kinds.contains(&o.kind))
                .filter(|o| o.kind != "quota" || o.order_number == order_number.as_deref())
                .min_by_key(|o| o.total)
        };
        let option = if allocation.is_some() {
            pick(&["quota"])
        } else if claims_preference(item.preference.as_ref().map(|p| p.value.as_str())) {
            pick(&["preference"]).or_else(|| pick(&["third_country", "suspension"]))
        } else {
            pick(&["third_country", "suspension"])
        };
        let Some(option) = option else {
            problems.push(format!(
                "item {seq}: no duty measure for {code} from {origin}"
            ));
            continue;
        };
        if let Some(p) = calc.prohibitions.first() {
            problems.push(format!("item {seq}: prohibited: {}", p.reason));
            continue;
        }
        items.push(AssessedItem {
            sequence: seq,
            commodity_code: code,
            origin,
            option: option.kind.to_owned(),
            order_number: option.order_number.map(str::to_owned),
            quota_allocation: allocation,
            lines: option
                .lines
                .iter()
                .map(|l| AssessedLine {
                    measure_type_id: l.measure_type_id.to_owned(),
                    measure_sid: l.measure_sid,
                    description: l.description.to_owned(),
                    duty_expression: l.duty_expression.to_owned(),
                    formula: l.formula.to_owned(),
                    tax_type: tax_type(l.measure_type_id).to_owned(),
                    amount: l.amount.round_dp(2),
                    currency: l.currency.to_owned(),
                })
                .collect(),
            total: option.total.round_dp(2),
        });
    }
    Ok(if problems.is_empty() {
        Ok((national, items))
    } else {
        Err(problems)
    })
}

/// Draws the item's quantity on the quota (FCFS, under the balance lock, in `tx`); the
/// allocation request id when the whole quantity is granted.
async fn draw_quota(
    state: &AppState,
    tx: &mut DmsTx<'_>,
    d: &DmsLocked,
    item: u32,
    order: &str,
    quantities: &BTreeMap<String, Decimal>,
    date: chrono::NaiveDate,
) -> ApiResult<Option<String>> {
    use portorium_tariff::quotas::{draw, AllocationRequest};
    let tenant: TenantCode = d.row().tenant.parse().map_err(internal)?;
    let built = state.tariffs.get(&state.store, &tenant).await?;
    let Some(quota) = built.data.quotas.find(order, date) else {
        return Ok(None);
    };
    let Some(def) = quota.definition_as_of(date) else {
        return Ok(None);
    };
    let unit = def.unit.code();
    let base = unit.get(..3).unwrap_or("");
    let Some(quantity) = quantities
        .get(base)
        .or_else(|| quantities.get("KGM").filter(|_| unit.is_empty()))
        .copied()
    else {
        return Ok(None);
    };
    let request = AllocationRequest {
        id: String::new(),
        quantity,
        unit: unit.clone(),
        accepted_at: tx.now().naive_utc(),
    };
    let opening = QuotaOpening {
        order_number: quota.id.clone(),
        definition_sid: def.sid,
        volume: def.volume,
        opening_balance: def.opening_balance(),
    };
    let new = NewAllocationRequest {
        quantity,
        unit: if unit.is_empty() { "KGM".into() } else { unit },
        accepted_at: tx.now(),
        declaration_reference: d.row().mrn.clone(),
    };
    let outcome = tx
        .quota_draw(d, i64::from(item), &opening, &new, |balance| {
            match draw(quota, def, balance, &request) {
                Ok(g) if g.granted == quantity => Ok(g.granted),
                Ok(g) => Err(format!(
                    "only {} of {quantity} left on quota {order}",
                    g.granted
                )),
                Err(r) => Err(r.to_string()),
            }
        })
        .await?;
    match outcome {
        Ok(a) => Ok(Some(a.id)),
        Err(reason) => {
            tx.note(d, "quota refused", Some(&format!("item {item}: {reason}")))
                .await?;
            Ok(None)
        }
    }
}

fn item_duties(items: &[AssessedItem], base: &DmsDeclaration) -> Vec<ItemDuties> {
    items
        .iter()
        .map(|it| {
            let value = base
                .items
                .iter()
                .find(|g| g.sequence.as_ref().map(|s| s.value) == Some(it.sequence))
                .and_then(|g| g.customs_value.as_ref().map(|v| v.amount));
            ItemDuties {
                sequence: it.sequence,
                duties: it
                    .lines
                    .iter()
                    .map(|l| AssessedDuty {
                        tax_type: l.tax_type.clone(),
                        duty_regime: Some(match it.option.as_str() {
                            "preference" => "300".to_owned(),
                            "quota" => "120".to_owned(),
                            _ => "100".to_owned(),
                        }),
                        ad_valorem_base: value,
                        specific_base: None,
                        rate: None,
                        amount: l.amount,
                        deduct: Decimal::ZERO,
                        payable: l.amount,
                        currency: l.currency.clone(),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Assesses an import and records the outcome: the assessment and DMSTAX, or under control
/// with the reasons. `Ok(true)` when assessed.
async fn assess_and_record(
    state: &AppState,
    tx: &mut DmsTx<'_>,
    d: &mut DmsLocked,
    decl: &DmsDeclaration,
    actor: Actor,
    draw_quotas: bool,
) -> ApiResult<bool> {
    match assess(state, tx, d, decl, draw_quotas).await? {
        Ok((currency, items)) => {
            let total: Decimal = items.iter().map(|i| i.total).sum();
            let json = serde_json::to_value(&items).map_err(internal)?;
            let duties = item_duties(&items, decl);
            step(
                tx,
                d,
                actor,
                DmsEvent::AssessDuties,
                "assess duties",
                Some(&format!("{total} {currency}")),
                Extra {
                    duties,
                    ..Extra::default()
                },
            )
            .await?;
            tx.assess(d, &currency, total, &json).await?;
            Ok(true)
        }
        Err(problems) => {
            let why = format!("duties not assessed: {}", problems.join("; "));
            tx.note(d, "assessment failed", Some(&why)).await?;
            let lc = lifecycle_of(d.row())?;
            if lc.state != DmsState::UnderControl {
                step(
                    tx,
                    d,
                    Actor::System,
                    DmsEvent::Control,
                    "control",
                    Some(&why),
                    Extra {
                        statements: vec![statement(why.clone())],
                        ..Extra::default()
                    },
                )
                .await?;
            }
            Ok(false)
        }
    }
}

// ---------------------------------------------------------------- trader messages

/// What the trader endpoints answer (202).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Lodged {
    pub conversation_id: String,
    pub declaration_id: String,
    pub lrn: String,
    pub mrn: Option<String>,
    pub state: String,
    pub lane: Option<String>,
}

fn lodged(d: &DmsLocked) -> Lodged {
    lodged_row(d.row())
}

fn lodged_row(r: &DmsDeclarationRow) -> Lodged {
    Lodged {
        conversation_id: r.conversation_id.clone(),
        declaration_id: r.id.clone(),
        lrn: r.lrn.clone(),
        mrn: r.mrn.clone(),
        state: r.state.clone(),
        lane: r.lane.clone(),
    }
}

fn trader_of(caller: &Caller) -> ApiResult<Eori> {
    match &caller.principal.id {
        PrincipalId::Trader(e) => Ok(e.clone()),
        _ => Err(ApiError::forbidden("only traders lodge declarations")),
    }
}

fn parsed_json(d: &DmsDeclaration) -> ApiResult<serde_json::Value> {
    serde_json::to_value(d).map_err(internal)
}

/// The LRN's element (DE 2/5), for problems about a declaration without one.
const LRN_XPATH: &str = "/MetaData/Declaration/FunctionalReferenceID";

/// The declaration resource the policy decides on: owned by its administration, held by its
/// declarant.
pub fn declaration_resource(row: &DmsDeclarationRow) -> ApiResult<Resource> {
    let tenant: TenantCode = row.tenant.parse().map_err(internal)?;
    let declarant: Eori = row.declarant.parse().map_err(internal)?;
    Ok(Resource::new(ResourceKind::Declaration, row.id.clone())
        .in_tenant(tenant)
        .owned_by(PrincipalId::Trader(declarant)))
}

/// A lodging that repeats one already stored: the same declarant (the scope), LRN and
/// content (SHA-256 of the body as received) answers the stored declaration's 202, whatever
/// became of it; the LRN held by a declaration (not rejected) with other content is a 409
/// naming the LRN's element. `None`: the LRN is free.
async fn repeated(
    state: &AppState,
    caller: &Caller,
    lrn: &str,
    xpath: &str,
    body: &str,
) -> ApiResult<Option<Lodged>> {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(body.as_bytes());
    let found = state.store.scoped(caller.scope()).dms_by_lrn(lrn).await?;
    if let Some((row, _)) = found
        .iter()
        .find(|(_, original)| Sha256::digest(original.as_bytes()) == hash)
    {
        return Ok(Some(lodged_row(row)));
    }
    if let Some((row, _)) = found.iter().find(|(r, _)| r.state != "rejected") {
        return Err(lrn_conflict(lrn, xpath, Some(row)));
    }
    Ok(None)
}

fn lrn_conflict(lrn: &str, xpath: &str, holder: Option<&DmsDeclarationRow>) -> ApiError {
    ApiError::field(
        ErrorCode::Conflict,
        xpath,
        match holder {
            Some(row) => format!(
                "the LRN {lrn} is already used by declaration {} (conversation {}) with other content",
                row.id, row.conversation_id
            ),
            None => format!("the LRN {lrn} is already used with other content"),
        },
    )
}

/// `POST /customs/declarations`.
///
/// Schema failures (and a message of another kind) are a 400 with nothing stored. A
/// declaration that passes the XSD but breaks business rules is stored as received and
/// rejected: DMSRCV (02) then DMSREJ (03) with every error (WCO pointer and code), 202. A
/// rejected declaration does not hold its LRN.
pub async fn lodge(state: &AppState, caller: &Caller, body: &[u8]) -> ApiResult<Lodged> {
    let trader = trader_of(caller)?;
    let schemas = schemas(state)?;
    let bytes = body.to_vec();
    let validated = tokio::task::spawn_blocking(move || {
        validate_message(&schemas, DmsMessageKind::Declaration, &bytes)
    })
    .await
    .map_err(internal)?;
    let (decl, rule_errors) = match validated {
        Ok(d) => (d, Vec::new()),
        Err(errors)
            if errors
                .iter()
                .any(|e| matches!(e.rule, DmsRule::Schema | DmsRule::MessageKind)) =>
        {
            return Err(validation_problem(errors))
        }
        Err(errors) => match parse_declaration(body) {
            Ok(d) => (d, errors),
            Err(_) => return Err(validation_problem(errors)),
        },
    };
    // What cannot be attributed, routed or referenced cannot be stored: the rule errors in a
    // 400 then.
    let unstorable = |e: ApiError, rule_errors: &[DmsError]| {
        if rule_errors.is_empty() {
            e
        } else {
            validation_problem(rule_errors.to_vec())
        }
    };
    let declarant = decl.declarant.as_ref().map(|d| d.value.clone());
    let declarant_xpath = decl
        .declarant
        .as_ref()
        .map(|d| d.xpath.clone())
        .unwrap_or_else(|| "/MetaData/Declaration/Declarant/ID".into());
    match declarant.as_deref() {
        Some(d) if d == trader.as_str() => {}
        Some(d) => {
            return Err(ApiError::field(
                ErrorCode::Forbidden,
                declarant_xpath,
                format!("the declarant {d} is not the authenticated trader {trader}"),
            ))
        }
        None => {
            return Err(unstorable(
                ApiError::field(
                    ErrorCode::Forbidden,
                    declarant_xpath,
                    format!(
                        "the declaration names no declarant (the authenticated trader is {trader})"
                    ),
                ),
                &rule_errors,
            ))
        }
    }
    let office = decl.routing_office();
    let Some(tenant) = decl
        .routing_country()
        .and_then(|c| c.parse::<TenantCode>().ok())
    else {
        return Err(unstorable(
            ApiError::field(
                ErrorCode::InvalidField,
                "/MetaData/Declaration/GoodsShipment/Consignment/GoodsLocation",
                "the declaration names no office or country that routes it to an administration",
            ),
            &rule_errors,
        ));
    };
    if state.store.get_tenant(&tenant).await.is_err() {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            office
                .as_ref()
                .map(|o| o.id.xpath.clone())
                .unwrap_or_else(|| "/MetaData/Declaration".into()),
            format!("{tenant} is not an administration of Portorium"),
        ));
    }
    let (lrn, lrn_xpath) = decl
        .lrn
        .as_ref()
        .map(|l| (l.value.clone(), l.xpath.clone()))
        .unwrap_or_else(|| (String::new(), LRN_XPATH.to_owned()));
    if lrn.is_empty() || lrn.chars().count() > 22 {
        return Err(unstorable(
            ApiError::field(
                ErrorCode::SchemaValidation,
                lrn_xpath,
                "the LRN must be 1 to 22 characters",
            ),
            &rule_errors,
        ));
    }
    state.authorize(
        caller,
        Action::DeclarationLodge,
        &Resource::new(ResourceKind::Declaration, lrn.clone())
            .in_tenant(tenant.clone())
            .owned_by(caller.principal.id.clone()),
    )?;
    let body_text = String::from_utf8_lossy(body).into_owned();
    if let Some(again) = repeated(state, caller, &lrn, &lrn_xpath, &body_text).await? {
        return Ok(again);
    }
    let direction = if decl.is_import() { "import" } else { "export" };
    let scoped = state.store.scoped(caller.scope());
    let mut tx = scoped.dms_begin(&caller.principal.id).await?;
    let conversation_id = tx.new_id();
    let created = tx
        .create(&NewDmsDeclaration {
            tenant: tenant.clone(),
            conversation_id,
            declarant: trader,
            lrn: lrn.clone(),
            direction: direction.to_owned(),
            office: office.map(|o| o.id.value),
            state: state_name(DmsState::Submitted).to_owned(),
        })
        .await;
    let mut d = match created {
        Ok(d) => d,
        // A concurrent lodging of the same LRN won: the same content is its repeat.
        Err(StoreError::Conflict { .. }) => {
            let _ = tx.rollback().await;
            return match repeated(state, caller, &lrn, &lrn_xpath, &body_text).await? {
                Some(again) => Ok(again),
                None => Err(lrn_conflict(&lrn, &lrn_xpath, None)),
            };
        }
        Err(e) => return Err(e.into()),
    };
    tx.add_message(&d, "declaration", 1, &body_text, &parsed_json(&decl)?)
        .await?;
    notify(&mut tx, &d, NotificationKind::Received, Extra::default()).await?;
    if !rule_errors.is_empty() {
        let mut detail = rule_errors
            .iter()
            .map(|e| format!("{} at {}", e.code, e.xpath))
            .collect::<Vec<_>>()
            .join("; ");
        if detail.chars().count() > 2000 {
            detail = detail.chars().take(1997).collect::<String>() + "...";
        }
        step(
            &mut tx,
            &mut d,
            Actor::System,
            DmsEvent::Reject,
            "reject",
            Some(&detail),
            Extra {
                errors: rule_errors,
                ..Extra::default()
            },
        )
        .await?;
        let out = lodged(&d);
        tx.commit().await?;
        return Ok(out);
    }
    // Acceptance: the MRN from the administration's counter of the year.
    let year = tx.now().year();
    let serial = tx.next_mrn_serial(&d, year).await?;
    let procedure = if decl.is_import() {
        ProcedureCategory::ImportOnly
    } else {
        ProcedureCategory::ExportOnly
    };
    let mrn = Mrn::allocate(
        u16::try_from(year.rem_euclid(100)).unwrap_or(0),
        tenant.as_str(),
        &format!("{serial:012}"),
        procedure,
    )
    .map_err(internal)?;
    step(
        &mut tx,
        &mut d,
        Actor::System,
        DmsEvent::Accept {
            mrn: mrn.as_str().to_owned(),
        },
        "accept",
        None,
        Extra::default(),
    )
    .await?;
    let mut assessed = true;
    if decl.is_import() {
        assessed = assess_and_record(state, &mut tx, &mut d, &decl, Actor::System, true).await?;
    }
    if assessed {
        let Assessment { lane, assessor } =
            state.config.dms.lanes.assess(&risk_subject(d.row(), &decl));
        tx.set_lane(&mut d, lane.as_str()).await?;
        tx.note(&d, "lane assessed", Some(assessor)).await?;
        if lane == Lane::Green {
            release(&mut tx, &mut d, Actor::System).await?;
        } else {
            step(
                &mut tx,
                &mut d,
                Actor::System,
                DmsEvent::Control,
                "control",
                Some(lane.as_str()),
                Extra::default(),
            )
            .await?;
        }
    }
    let out = lodged(&d);
    tx.commit().await?;
    Ok(out)
}

/// Release; an import is then cleared (its duties are assessed).
async fn release(tx: &mut DmsTx<'_>, d: &mut DmsLocked, actor: Actor) -> ApiResult<()> {
    let lc = step(
        tx,
        d,
        actor,
        DmsEvent::Release,
        "release",
        None,
        Extra::default(),
    )
    .await?;
    if lc.direction == Direction::Import {
        step(
            tx,
            d,
            actor,
            DmsEvent::Clear,
            "clear",
            None,
            Extra::default(),
        )
        .await?;
    }
    Ok(())
}

/// `POST /customs/declarations/amend`.
pub async fn amend(state: &AppState, caller: &Caller, body: &[u8]) -> ApiResult<Lodged> {
    trader_of(caller)?;
    let schemas = schemas(state)?;
    let bytes = body.to_vec();
    let amendment = tokio::task::spawn_blocking(move || {
        validate_message(&schemas, DmsMessageKind::Amendment, &bytes)
    })
    .await
    .map_err(internal)?
    .map_err(validation_problem)?;
    let mrn = named_mrn(amendment.mrn.as_ref())?;
    let scoped = state.store.scoped(caller.scope());
    let mut tx = scoped.dms_begin(&caller.principal.id).await?;
    let mut d = tx.lock_mrn(&mrn).await?;
    state.authorize(
        caller,
        Action::DeclarationLodge,
        &declaration_resource(d.row())?,
    )?;
    // The declaration as last lodged or amended (committed: read from the read pool).
    let base = latest_declaration(state, caller.scope(), &d.row().id).await?;
    let lc = lifecycle_of(d.row())?;
    let next = lc
        .apply(Actor::Trader, &DmsEvent::Amend)
        .map_err(|e| out_of_sequence(&e))?;
    tx.add_message(
        &d,
        "amendment",
        i64::from(next.lifecycle.version),
        &String::from_utf8_lossy(body),
        &parsed_json(&amendment)?,
    )
    .await?;
    let reason = amendment
        .change
        .as_ref()
        .and_then(|c| c.statements.first().map(|s| s.value.clone()));
    step(
        &mut tx,
        &mut d,
        Actor::Trader,
        DmsEvent::Amend,
        "amend",
        reason.as_deref(),
        Extra::default(),
    )
    .await?;
    // The amended data: the amendment's items when it carries them, else the declaration's.
    let mut amended = base;
    if !amendment.items.is_empty() {
        amended.items = amendment.items.clone();
    }
    if d.row().direction == "import" {
        let lc = lifecycle_of(d.row())?;
        if lc.apply(Actor::System, &DmsEvent::AssessDuties).is_ok() {
            assess_and_record(state, &mut tx, &mut d, &amended, Actor::System, false).await?;
        }
    }
    let out = lodged(&d);
    tx.commit().await?;
    Ok(out)
}

/// The MRN an amendment or cancellation names (`Declaration/ID`), checked before it is
/// looked up: a malformed MRN or a wrong check digit (error 93, rule R0028) is a 400 at the
/// element, not a declaration that cannot be found. None named: empty (not found).
fn named_mrn(mrn: Option<&Located<String>>) -> ApiResult<String> {
    let Some(m) = mrn else {
        return Ok(String::new());
    };
    Mrn::parse(m.value.trim())
        .map(|parsed| parsed.as_str().to_owned())
        .map_err(|e| {
            ApiError::field(
                ErrorCode::InvalidField,
                m.xpath.clone(),
                format!("error 93: invalid MRN {:?}: {e}", m.value),
            )
        })
}

/// `POST /customs/declarations/cancellation-requests`.
pub async fn cancel(state: &AppState, caller: &Caller, body: &[u8]) -> ApiResult<Lodged> {
    trader_of(caller)?;
    let schemas = schemas(state)?;
    let bytes = body.to_vec();
    let request = tokio::task::spawn_blocking(move || {
        validate_message(&schemas, DmsMessageKind::Cancellation, &bytes)
    })
    .await
    .map_err(internal)?
    .map_err(validation_problem)?;
    let mrn = named_mrn(request.mrn.as_ref())?;
    let scoped = state.store.scoped(caller.scope());
    let mut tx = scoped.dms_begin(&caller.principal.id).await?;
    let mut d = tx.lock_mrn(&mrn).await?;
    state.authorize(
        caller,
        Action::DeclarationLodge,
        &declaration_resource(d.row())?,
    )?;
    let lc = lifecycle_of(d.row())?;
    lc.apply(Actor::Trader, &DmsEvent::Cancel)
        .map_err(|e| out_of_sequence(&e))?;
    tx.add_message(
        &d,
        "cancellation",
        d.row().version,
        &String::from_utf8_lossy(body),
        &parsed_json(&request)?,
    )
    .await?;
    let lc = step(
        &mut tx,
        &mut d,
        Actor::Trader,
        DmsEvent::Cancel,
        "cancel",
        None,
        Extra::default(),
    )
    .await?;
    if lc.state == DmsState::Invalidated {
        return_quotas(state, &mut tx, &d).await?;
    }
    let out = lodged(&d);
    tx.commit().await?;
    Ok(out)
}

/// Returns every quota allocation the declaration still holds (in `tx`).
async fn return_quotas(state: &AppState, tx: &mut DmsTx<'_>, d: &DmsLocked) -> ApiResult<()> {
    use portorium_tariff::quotas::credit_return;
    let links = tx.quota_allocations(d).await?;
    if links.is_empty() {
        return Ok(());
    }
    let tenant: TenantCode = d.row().tenant.parse().map_err(internal)?;
    let built = state.tariffs.get(&state.store, &tenant).await?;
    let detail_date = tx.now().date_naive();
    for link in links {
        let def = built
            .data
            .quotas
            .find(&link.order_number, detail_date)
            .and_then(|q| q.definitions.iter().find(|d| d.sid == link.definition_sid));
        let Some(def) = def else {
            tx.note(
                d,
                "quota not returned",
                Some(&format!(
                    "quota {} is no longer in the tariff",
                    link.order_number
                )),
            )
            .await?;
            continue;
        };
        let opening = QuotaOpening {
            order_number: link.order_number.clone(),
            definition_sid: def.sid,
            volume: def.volume,
            opening_balance: def.opening_balance(),
        };
        let holds = link.holds;
        if holds <= Decimal::ZERO {
            continue;
        }
        let outcome = tx
            .quota_return(d, &link, &opening, holds, |c| {
                credit_return(c.volume, c.balance, c.returnable, holds).map(|o| o.credited)
            })
            .await?;
        let detail = match outcome {
            Ok(r) => format!(
                "{} returned to quota {} (balance {})",
                r.credited, link.order_number, r.balance_after
            ),
            Err(e) => format!("quota {} not returned: {e}", link.order_number),
        };
        tx.note(d, "quota return", Some(&detail)).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- officer decisions

/// An officer's decision on a declaration.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// `control`, `documents-required`, `release`, `refuse` (a pending cancellation),
    /// `invalidate`, `control-results` or `assess` (assess the duties again).
    #[schema(example = "release")]
    pub decision: String,
    /// The reason or the documents required (a statement in the notification).
    pub reason: Option<String>,
    /// For `control-results`: what the control found.
    #[schema(value_type = Option<Object>)]
    pub results: Option<serde_json::Value>,
}

/// The decisions an officer may take.
pub const DECISIONS: [&str; 7] = [
    "control",
    "documents-required",
    "release",
    "refuse",
    "invalidate",
    "control-results",
    "assess",
];

/// `POST /api/v1/declarations/{id}/decisions`.
pub async fn decide(
    state: &AppState,
    caller: &Caller,
    id: &str,
    body: DecisionBody,
) -> ApiResult<DmsDeclarationRow> {
    if !DECISIONS.contains(&body.decision.as_str()) {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "/decision",
            format!("must be one of {}", DECISIONS.join(", ")),
        ));
    }
    let scoped = state.store.scoped(caller.scope());
    let current = scoped.dms_declaration(id).await?;
    state.authorize(
        caller,
        Action::DeclarationDecide,
        &declaration_resource(&current)?,
    )?;
    let base = if body.decision == "assess" {
        Some(latest_declaration(state, caller.scope(), &current.id).await?)
    } else {
        None
    };
    let mut tx = scoped.dms_begin(&caller.principal.id).await?;
    let mut d = tx.lock(id).await?;
    let reason = body.reason.clone();
    let extra = || Extra {
        statements: reason.iter().map(|r| statement(r.clone())).collect(),
        ..Extra::default()
    };
    match body.decision.as_str() {
        "control" => {
            step(
                &mut tx,
                &mut d,
                Actor::Officer,
                DmsEvent::Control,
                "control",
                reason.as_deref(),
                extra(),
            )
            .await?;
        }
        "documents-required" => {
            step(
                &mut tx,
                &mut d,
                Actor::Officer,
                DmsEvent::RequireDocuments,
                "require documents",
                reason.as_deref(),
                extra(),
            )
            .await?;
        }
        "release" => release(&mut tx, &mut d, Actor::Officer).await?,
        "refuse" => {
            step(
                &mut tx,
                &mut d,
                Actor::Officer,
                DmsEvent::RefuseCancellation,
                "refuse cancellation",
                reason.as_deref(),
                extra(),
            )
            .await?;
        }
        "invalidate" => {
            step(
                &mut tx,
                &mut d,
                Actor::Officer,
                DmsEvent::Invalidate,
                "invalidate",
                reason.as_deref(),
                extra(),
            )
            .await?;
            return_quotas(state, &mut tx, &d).await?;
        }
        "control-results" => {
            let results = body.results.clone().ok_or_else(|| {
                ApiError::field(
                    ErrorCode::InvalidField,
                    "/results",
                    "required for control-results",
                )
            })?;
            let lc = lifecycle_of(d.row())?;
            if lc.state.is_final() || lc.state == DmsState::Submitted {
                return Err(ApiError::new(
                    ErrorCode::InvalidTransition,
                    format!(
                        "error 92: no control results on a declaration in state {}",
                        d.row().state
                    ),
                ));
            }
            tx.control_result(&d, &results).await?;
        }
        _ => {
            let Some(base) = base else {
                return Err(internal("assessment without a declaration"));
            };
            lifecycle_of(d.row())?
                .apply(Actor::Officer, &DmsEvent::AssessDuties)
                .map_err(|e| out_of_sequence(&e))?;
            assess_and_record(state, &mut tx, &mut d, &base, Actor::Officer, false).await?;
        }
    }
    let row = d.row().clone();
    tx.commit().await?;
    Ok(row)
}

/// The declaration as last lodged or amended.
async fn latest_declaration(state: &AppState, scope: Scope, id: &str) -> ApiResult<DmsDeclaration> {
    let detail = state.store.scoped(scope).dms_detail(id).await?;
    let mut base: Option<DmsDeclaration> = None;
    for m in detail.messages.iter().filter(|m| m.kind != "cancellation") {
        let parsed =
            portorium_declarations::dms::parse_declaration(m.body.as_bytes()).map_err(internal)?;
        match &mut base {
            None => base = Some(parsed),
            Some(b) if !parsed.items.is_empty() => b.items = parsed.items,
            Some(_) => {}
        }
    }
    base.ok_or_else(|| internal("declaration without its message"))
}

// ---------------------------------------------------------------- webhook delivery

/// `sha256=` + hex HMAC-SHA256 of `body` with `secret`: the `X-Portorium-Signature` header.
pub fn signature(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    type HmacSha256 = Hmac<sha2::Sha256>;
    // HMAC takes keys of any length.
    let mut mac = match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether a webhook may not be sent to `ip`: loopback, link-local, private (RFC 1918, unique
/// local fc00::/7, shared 100.64/10), unspecified, broadcast or multicast, also behind an
/// IPv4-mapped IPv6 address.
pub fn is_private_address(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_link_local()
                || v4.is_private()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private_address(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// Checks a webhook URL: `http://` or `https://` with a host whose every address (resolved
/// now: DNS may change, so deliveries check again) is public, unless `allow_private`. The
/// addresses checked, or why the URL is refused.
pub async fn check_webhook_url(
    url: &str,
    allow_private: bool,
) -> Result<Vec<std::net::SocketAddr>, String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|_| "must be an http:// or https:// URL".to_owned())?;
    let default_port = match uri.scheme_str() {
        Some("http") => 80,
        Some("https") => 443,
        _ => return Err("must be an http:// or https:// URL".to_owned()),
    };
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| "must name a host".to_owned())?;
    let port = uri.port_u16().unwrap_or(default_port);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<std::net::SocketAddr> = match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![(ip, port).into()],
        Err(_) => tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| format!("the host {bare} does not resolve: {e}"))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(format!("the host {bare} does not resolve"));
    }
    if !allow_private {
        if let Some(a) = addrs.iter().find(|a| is_private_address(a.ip())) {
            return Err(format!(
                "the host {bare} resolves to {}, a loopback, link-local, private, unspecified or multicast address",
                a.ip()
            ));
        }
    }
    Ok(addrs)
}

/// The request of one delivery: the URL checked again, and for `http` sent to the address just
/// checked (with the URL's `Host`), so a DNS change between the check and the connection
/// cannot redirect it.
async fn delivery_request(
    state: &AppState,
    url: &str,
    n: &portorium_store::DmsNotificationRow,
    secret: &str,
) -> Result<http::Request<http_body_util::Full<axum::body::Bytes>>, String> {
    let addrs = check_webhook_url(url, state.config.allow_private_webhooks).await?;
    let uri: http::Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| e.to_string())?;
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_default();
    let target = match (uri.scheme_str(), addrs.first()) {
        (Some("http"), Some(addr)) => format!(
            "http://{addr}{}",
            uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
        ),
        _ => url.to_owned(),
    };
    http::Request::post(target)
        .header(http::header::HOST, authority)
        .header(http::header::CONTENT_TYPE, "application/xml")
        .header("X-Conversation-ID", &n.conversation_id)
        .header("X-Portorium-Notification-ID", &n.id)
        .header(
            "X-Portorium-Signature",
            signature(secret, n.body.as_bytes()),
        )
        .body(http_body_util::Full::new(axum::body::Bytes::from(
            n.body.clone(),
        )))
        .map_err(|e| e.to_string())
}

/// Delivery attempts before a notification is marked `failed` (it stays readable by pull).
pub const MAX_ATTEMPTS: i64 = 6;

/// Pushes pending notifications to the declarants' webhooks until `stop`: each POSTed as
/// `application/xml` with `X-Conversation-ID` and `X-Portorium-Signature`; a 2xx marks it
/// delivered, anything else is retried after 1, 2, 4, 8 … seconds.
pub async fn delivery_task(state: AppState, mut stop: tokio::sync::broadcast::Receiver<()>) {
    use http_body_util::Full;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let client: Client<_, Full<axum::body::Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    loop {
        let now = state.clock().now();
        match state.store.dms_deliveries_due(now, 50).await {
            Ok(due) => {
                for item in due {
                    let n = &item.notification;
                    let req = delivery_request(&state, &item.url, n, &item.secret).await;
                    let outcome = match req {
                        Err(e) => Err(e),
                        Ok(req) => {
                            match tokio::time::timeout(
                                std::time::Duration::from_secs(5),
                                client.request(req),
                            )
                            .await
                            {
                                Ok(Ok(resp)) if resp.status().is_success() => Ok(()),
                                Ok(Ok(resp)) => Err(format!("webhook answered {}", resp.status())),
                                Ok(Err(e)) => Err(e.to_string()),
                                Err(_) => Err("webhook timed out".to_owned()),
                            }
                        }
                    };
                    let result = outcome.map_err(|e| {
                        let next = (n.attempts + 1 < MAX_ATTEMPTS).then(|| {
                            now + chrono::TimeDelta::seconds(1 << n.attempts.clamp(0, 10))
                        });
                        (e, next)
                    });
                    if let Err(e) = state.store.dms_delivery_result(&n.id, result).await {
                        tracing::warn!(error = %e, "recording a webhook delivery failed");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading due DMS notifications failed"),
        }
        tokio::select! {
            _ = stop.recv() => return,
            _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
        }
    }
}
