//! The transit declaration service (NCTS phase 5, issue 4): the glue between the pure
//! `portorium_declarations` crate (validation, generated messages, the movement state machine)
//! and the store's transit transactions (`portorium_store::TransitTx`).
//!
//! Every trader message and every officer decision is processed in **one store transaction**
//! that holds everything it writes: the inbound message, the messages generated in answer,
//! each state change with its history row and outbox event, the MRN serial and the guarantee
//! reservation. The HTTP layer answers 202 only after the commit, so after a crash every
//! submission that got a 2xx is present and complete, and none is half-written.
//!
//! Order of the checks for a trader message:
//! 1. the schema (XSD for XML; JSON is converted to XML in XSD order first): a failure is a
//!    400 `schema_validation` listing each violation's XPath; a message type the endpoint does
//!    not take is a 400 `message_type_not_allowed`;
//! 2. the sender's message identification: the same message again is answered like the
//!    first time and stores nothing; another message under the same identification is a 409
//!    `duplicate_message_identification` (NCTS error 26, nothing stored);
//! 3. business rules (reference data: the offices' roles and every coded element's code list,
//!    12; LRN, authorisations, MRN check digit 93, unknown MRN 90, out of sequence 92): NCTS
//!    semantics, the message is stored with the rejection (CC056C at departure, CC057C at
//!    destination) and the request still gets its 202;
//! 4. the guarantee: unknown, wrong access code, not valid or insufficient → CC055C and the
//!    state `guarantee_invalid` (an amendment can fix it).
//!
//! The risk lane comes from the one risk interface of every procedure, [`crate::risk`]: the
//! departure is described as a [`crate::risk::RiskSubject`] for the configured
//! [`LaneAssessor`].

use crate::error::{ApiError, ErrorCode};
use crate::state::{AppState, Caller};
use chrono::{Datelike, NaiveDateTime};
use portorium_declarations::amendment::r0520;
use portorium_declarations::codelists;
use portorium_declarations::generate::{
    self, Arrival, ControlDecision, Departure, InvalidGuarantee, InvalidationDecision, Outbound,
    RejectionDecision, ReleaseDecision,
};
use portorium_declarations::validate::{CODELIST_VIOLATION, RULE_VIOLATION};
use portorium_declarations::{
    apply, validate, Event, Format, FunctionalError, MessageType, Mrn, ParsedMessage,
    ProcedureCategory, Rejection, SchemaSet, State,
};
use portorium_kernel::{Eori, OfficeRef, PrincipalId, TenantCode};
use portorium_store::{
    Direction, Locked, MovementKind, MovementRow, NewTransitMovement, StoreError, TransitMessage,
    TransitTx,
};
use portorium_trust::{Action, Resource, ResourceKind};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};

/// The content type of every stored NCTS message (JSON bodies are stored as the XML they
/// were converted to).
pub const XML: &str = "application/xml";

// ---------------------------------------------------------------- lanes

pub use crate::risk::{Assessment, ConfiguredLane, Lane, LaneAssessor};
use crate::risk::{Procedure, RiskItem, RiskSubject};

/// A departure as the risk interface sees it: the holder, the offices, per goods item the
/// commodity code (HS subheading + CN code) and the country of origin when given.
fn risk_subject(movement: &MovementRow, declaration: &ParsedMessage) -> RiskSubject {
    let items = declaration
        .root
        .at("Consignment")
        .into_iter()
        .flat_map(|c| c.children_named("HouseConsignment"))
        .flat_map(|h| h.children_named("ConsignmentItem"))
        .enumerate()
        .map(|(i, item)| {
            let code = item.at("Commodity/CommodityCode").map(|c| {
                format!(
                    "{}{}",
                    c.text_at("harmonizedSystemSubHeadingCode").unwrap_or(""),
                    c.text_at("combinedNomenclatureCode").unwrap_or("")
                )
            });
            RiskItem {
                sequence: item
                    .text_at("goodsItemNumber")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(u32::try_from(i + 1).unwrap_or(u32::MAX)),
                commodity_code: code.filter(|c| !c.is_empty()),
                origin: item.text_at("countryOfOrigin").map(str::to_owned),
                ..RiskItem::default()
            }
        })
        .collect();
    RiskSubject {
        procedure: Procedure::TransitDeparture,
        administration: movement.tenant.clone(),
        declarant: movement.holder.clone(),
        offices: movement
            .office_of_departure
            .iter()
            .chain(movement.office_of_destination.iter())
            .cloned()
            .collect(),
        items,
    }
}

// ---------------------------------------------------------------- settings

/// The transit service's settings and shared state (part of [`crate::state::ServerConfig`]).
#[derive(Clone)]
pub struct TransitSettings {
    /// The directory of the NCTS phase 5 XSDs (`cc015c.xsd` …). Without it the transit
    /// endpoints answer 503 `schemas_unavailable`.
    pub xsd_dir: Option<PathBuf>,
    /// The lane assessor.
    pub lanes: Arc<dyn LaneAssessor>,
    schemas: Arc<OnceLock<Option<Arc<SchemaSet>>>>,
    /// Access codes already verified against their argon2id hash: sha256(grn, code, hash).
    verified: Arc<Mutex<HashMap<Vec<u8>, bool>>>,
}

impl std::fmt::Debug for TransitSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransitSettings")
            .field("xsd_dir", &self.xsd_dir)
            .finish_non_exhaustive()
    }
}

impl Default for TransitSettings {
    fn default() -> Self {
        TransitSettings::new(None, Lane::Green, HashMap::new())
    }
}

impl TransitSettings {
    /// Settings with the XSD directory and the configured lanes (default, per administration).
    pub fn new(xsd_dir: Option<PathBuf>, default: Lane, lanes: HashMap<String, Lane>) -> Self {
        TransitSettings {
            xsd_dir,
            lanes: Arc::new(ConfiguredLane {
                default,
                per_administration: lanes,
            }),
            schemas: Arc::new(OnceLock::new()),
            verified: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Settings with an already loaded schema set (tests share one).
    pub fn with_schemas(mut self, schemas: Option<Arc<SchemaSet>>) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(schemas);
        self.schemas = Arc::new(cell);
        self
    }

    /// The loaded schemas (loaded on first use; a failure is logged once as a warning).
    pub fn schemas(&self) -> Option<Arc<SchemaSet>> {
        self.schemas
            .get_or_init(|| {
                let Some(dir) = &self.xsd_dir else {
                    tracing::warn!(
                        "no NCTS XSD directory (set PORTORIUM_NCTS_XSD_DIR or PORTORIUM_REFERENCE): \
                         the transit endpoints answer 503 schemas_unavailable"
                    );
                    return None;
                };
                match SchemaSet::load(dir) {
                    Ok(s) => Some(Arc::new(s)),
                    Err(e) => {
                        tracing::warn!(dir = %dir.display(), error = %e,
                            "cannot load the NCTS XSDs: the transit endpoints answer 503 schemas_unavailable");
                        None
                    }
                }
            })
            .clone()
    }

    fn access_code_ok(&self, grn: &str, code: &str, hash: &str) -> bool {
        let key = Sha256::new()
            .chain_update(grn.as_bytes())
            .chain_update([0u8])
            .chain_update(code.as_bytes())
            .chain_update([0u8])
            .chain_update(hash.as_bytes())
            .finalize()
            .to_vec();
        if let Some(ok) = self.verified.lock().ok().and_then(|m| m.get(&key).copied()) {
            return ok;
        }
        let ok = portorium_trust::verify_password(code, hash);
        if let Ok(mut m) = self.verified.lock() {
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(key, ok);
        }
        ok
    }
}

/// The NCTS XSD directory: `PORTORIUM_NCTS_XSD_DIR`, else `$PORTORIUM_REFERENCE/ncts-p5/xsd`,
/// else `../shared/reference/ncts-p5/xsd`, whichever exists first.
pub fn default_xsd_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("PORTORIUM_NCTS_XSD_DIR") {
        return Some(PathBuf::from(d));
    }
    let mut bases: Vec<PathBuf> = Vec::new();
    if let Some(b) = std::env::var_os("PORTORIUM_REFERENCE") {
        bases.push(b.into());
    }
    bases.push("../shared/reference".into());
    bases
        .into_iter()
        .map(|b| b.join("ncts-p5/xsd"))
        .find(|p| p.join("cc015c.xsd").exists())
}

/// Whether `dir` holds the NCTS XSDs.
pub fn is_xsd_dir(dir: &Path) -> bool {
    dir.join("cc015c.xsd").exists()
}

// ---------------------------------------------------------------- results

/// The answer to an accepted trader message (202).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accepted {
    pub movement_id: String,
    pub message_id: String,
    /// The same message was received before: nothing new was stored.
    pub repeated: bool,
}

/// An officer's decision on a movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DecisionKind {
    /// Control the goods (CC060C).
    Control,
    /// Release for transit (CC029C, guarantee reserved).
    Release,
    /// Refuse release (CC051C).
    NoRelease,
    /// Invalidate the declaration (CC009C).
    Invalidate,
    /// Record the control results at destination and release the goods (CC025C), writing
    /// the departure off.
    ControlResults,
}

/// The body of `POST /api/v1/transit/movements/{id}/decisions`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    pub decision: DecisionKind,
    /// Free text, written into the message where it has a place (and the history).
    pub reason: Option<String>,
    /// `no-release`: the no-release motivation code (CL211, 2 characters), required.
    pub code: Option<String>,
}

// ---------------------------------------------------------------- helpers

fn unavailable() -> ApiError {
    ApiError::new(
        ErrorCode::SchemasUnavailable,
        "the NCTS schemas are not loaded on this server: set PORTORIUM_NCTS_XSD_DIR (see README)",
    )
}

fn schemas(state: &AppState) -> Result<Arc<SchemaSet>, ApiError> {
    state.config.transit.schemas().ok_or_else(unavailable)
}

fn trader(caller: &Caller) -> Result<Eori, ApiError> {
    match &caller.principal.id {
        PrincipalId::Trader(e) => Ok(e.clone()),
        _ => Err(ApiError::forbidden("only traders send transit messages")),
    }
}

/// The problem for a message refused before business rules.
pub fn rejection_problem(r: Rejection) -> ApiError {
    let mut e = match r {
        Rejection::NotWellFormed { line, message } => ApiError::field(
            ErrorCode::SchemaValidation,
            format!("line:{line}"),
            format!("not well-formed: {message}"),
        ),
        Rejection::InvalidJson { pointer, message } => {
            ApiError::field(ErrorCode::SchemaValidation, pointer, message)
        }
        Rejection::RootMismatch {
            expected,
            found,
            pointer,
        } => ApiError::field(
            ErrorCode::MessageTypeNotAllowed,
            pointer,
            format!(
                "{found} is not accepted here; expected {}",
                expected
                    .iter()
                    .map(|m| m.code())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        ),
        Rejection::Schema(violations) => {
            let mut e = ApiError::new(
                ErrorCode::SchemaValidation,
                format!("{} schema violation(s)", violations.len()),
            );
            for v in violations {
                e.errors.push(crate::error::FieldError {
                    pointer: v.xpath,
                    detail: format!("line {}: {}", v.line, v.message),
                });
            }
            return e;
        }
        Rejection::Business { errors, .. } => {
            let mut e = ApiError::new(ErrorCode::BusinessRuleViolation, "business rule violation");
            for f in errors {
                e.errors.push(crate::error::FieldError {
                    pointer: f.error_pointer,
                    detail: format!("NCTS error {}: {}", f.code, f.reason),
                });
            }
            return e;
        }
    };
    if e.detail.is_empty() {
        e.detail = "invalid message".into();
    }
    e
}

/// Validates a body; business errors found by the validator come back with the message.
fn parse(
    schemas: &SchemaSet,
    expected: &[MessageType],
    body: &[u8],
    format: Format,
) -> Result<(ParsedMessage, Vec<FunctionalError>), ApiError> {
    match validate(schemas, expected, body, format) {
        Ok(p) => Ok((p, Vec::new())),
        Err(Rejection::Business { message, errors }) => Ok((*message, errors)),
        Err(r) => Err(rejection_problem(r)),
    }
}

fn xml_of(p: &ParsedMessage) -> Result<String, ApiError> {
    String::from_utf8(p.xml.clone())
        .map_err(|_| ApiError::field(ErrorCode::SchemaValidation, "/", "the message is not UTF-8"))
}

fn internal(what: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %what, "transit processing");
    ApiError::new(ErrorCode::Internal, "internal error; see the server log")
}

fn now_naive(tx: &TransitTx<'_>) -> NaiveDateTime {
    tx.now().naive_utc()
}

fn msg_id(tx: &TransitTx<'_>) -> String {
    tx.new_id().replace('-', "")
}

fn office_param(pointer: &str, v: Option<&str>) -> Result<OfficeRef, ApiError> {
    let v = v.unwrap_or_default();
    OfficeRef::from_str(v)
        .map_err(|e| ApiError::field(ErrorCode::InvalidField, pointer, e.to_string()))
}

/// The administration of an office, which must be a Portorium administration.
async fn administration_of(
    state: &AppState,
    pointer: &str,
    office: &OfficeRef,
) -> Result<TenantCode, ApiError> {
    let tenant: TenantCode =
        office
            .country()
            .parse()
            .map_err(|e: portorium_kernel::KernelError| {
                ApiError::field(ErrorCode::InvalidField, pointer, e.to_string())
            })?;
    match state.store.get_tenant(&tenant).await {
        Ok(_) => Ok(tenant),
        Err(StoreError::NotFound { .. }) => Err(ApiError::field(
            ErrorCode::InvalidField,
            pointer,
            format!("office {office} is not an office of an administration served here"),
        )),
        Err(e) => Err(e.into()),
    }
}

fn rule(
    code: u16,
    pointer: &str,
    rule: Option<&str>,
    reason: &str,
    value: Option<&str>,
) -> FunctionalError {
    FunctionalError {
        code,
        error_pointer: pointer.to_owned(),
        rule: rule.map(str::to_owned),
        reason: reason.to_owned(),
        original_value: value.map(str::to_owned),
    }
}

/// Reference-data check of an office: known on `today` and with `role` (error 12).
async fn office_rule(
    state: &AppState,
    root: &portorium_declarations::Element,
    path: &str,
    role: &str,
    today: chrono::NaiveDate,
    out: &mut Vec<FunctionalError>,
) -> Result<(), ApiError> {
    let Some(el) = root.at(path) else {
        return Ok(());
    };
    office_role(state, el, role, today, out).await
}

/// The declared offices of a CC015C or CC013C: destination (DES), transit (TRA) and exit for
/// transit (TXT), each in the customs office list with its role (error 12).
async fn declared_offices_rule(
    state: &AppState,
    root: &portorium_declarations::Element,
    today: chrono::NaiveDate,
    out: &mut Vec<FunctionalError>,
) -> Result<(), ApiError> {
    office_rule(
        state,
        root,
        "CustomsOfficeOfDestinationDeclared/referenceNumber",
        "DES",
        today,
        out,
    )
    .await?;
    offices_rule(
        state,
        root,
        "CustomsOfficeOfTransitDeclared",
        "TRA",
        today,
        out,
    )
    .await?;
    offices_rule(
        state,
        root,
        "CustomsOfficeOfExitForTransitDeclared",
        "TXT",
        today,
        out,
    )
    .await
}

/// Reference-data check of every office of a repeated group (`group/referenceNumber`), e.g.
/// the offices of transit (role TRA) and of exit for transit (TXT).
async fn offices_rule(
    state: &AppState,
    root: &portorium_declarations::Element,
    group: &str,
    role: &str,
    today: chrono::NaiveDate,
    out: &mut Vec<FunctionalError>,
) -> Result<(), ApiError> {
    for g in root.children_named(group) {
        if let Some(el) = g.child("referenceNumber") {
            office_role(state, el, role, today, out).await?;
        }
    }
    Ok(())
}

/// One office element: known on `today` and with `role` (error 12).
async fn office_role(
    state: &AppState,
    el: &portorium_declarations::Element,
    role: &str,
    today: chrono::NaiveDate,
    out: &mut Vec<FunctionalError>,
) -> Result<(), ApiError> {
    match state.store.ref_office(&el.text, today).await {
        Ok(o) if o.has_role(role) => {}
        Ok(_) => out.push(rule(
            CODELIST_VIOLATION,
            &el.xpath,
            None,
            &format!("the office has no role {role} in the customs office list"),
            Some(&el.text),
        )),
        Err(StoreError::NotFound { .. }) => out.push(rule(
            CODELIST_VIOLATION,
            &el.xpath,
            None,
            "unknown customs office (customs office list)",
            Some(&el.text),
        )),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Reference-data check of every coded element of a trader message (error 12, "not in code
/// list CLnnn"), with the message tables of `portorium_declarations::codelists`. The
/// distinct (list, code) pairs of the message are looked up in one query, as of `today`; a
/// list that was never imported (or whose number the imported catalogue does not name) is not
/// checked.
async fn code_list_rules(
    state: &AppState,
    p: &ParsedMessage,
    today: chrono::NaiveDate,
    out: &mut Vec<FunctionalError>,
) -> Result<(), ApiError> {
    let values = codelists::coded_values(p.message_type, &p.root);
    let pairs = codelists::distinct_codes(&values);
    if pairs.is_empty() {
        return Ok(());
    }
    let keys: Vec<(&str, &str)> = pairs.iter().map(|(l, c)| (l.number, *c)).collect();
    let answers = state.store.ref_codes_valid(&keys, today).await?;
    let known: HashMap<(&str, &str), Option<bool>> = keys.into_iter().zip(answers).collect();
    out.extend(codelists::check_values(&values, |list, code| {
        known.get(&(list.number, code)).copied().flatten()
    }));
    Ok(())
}

/// A guarantee reference that passed the checks, with the amount to reserve at release.
#[derive(Debug, Clone)]
struct Cover {
    grn: String,
    amount: Decimal,
}

/// The guarantee checks of a declaration (before the transaction: the access code check is
/// an argon2id verification). Returns the covers to reserve and the invalid references.
async fn guarantee_checks(
    state: &AppState,
    caller: &Caller,
    office: &OfficeRef,
    holder: &Eori,
    p: &ParsedMessage,
    today: chrono::NaiveDate,
) -> Result<(Vec<Cover>, Vec<InvalidGuarantee>), ApiError> {
    let scoped = state.store.scoped(caller.scope());
    let mut covers = Vec::new();
    let mut invalid = Vec::new();
    for g in &p.fields.guarantees {
        for r in &g.references {
            let Some(grn) = &r.grn else { continue };
            let mut reasons: Vec<(String, Option<String>)> = Vec::new();
            match scoped.transit_guarantee(office, grn).await? {
                None => reasons.push((
                    "G01".into(),
                    Some("guarantee reference number not known".into()),
                )),
                Some(found) => {
                    let code = r.access_code.as_deref().unwrap_or_default();
                    if code.is_empty()
                        || !state
                            .config
                            .transit
                            .access_code_ok(grn, code, &found.access_code_hash)
                    {
                        reasons.push(("G02".into(), Some("access code not valid".into())));
                    } else if found.holder != holder.as_str() {
                        reasons.push(("G02".into(), Some("guarantee of another holder".into())));
                    } else if !found.valid_on(today) {
                        reasons.push(("G02".into(), Some("guarantee not valid".into())));
                    } else if r.currency.as_deref().is_some_and(|c| c != found.currency) {
                        reasons.push((
                            "G02".into(),
                            Some("currency differs from the guarantee's".into()),
                        ));
                    } else {
                        let amount = r
                            .amount_to_be_covered
                            .as_deref()
                            .and_then(|a| Decimal::from_str(a).ok())
                            .unwrap_or(Decimal::ZERO);
                        if amount > Decimal::ZERO {
                            covers.push(Cover {
                                grn: grn.clone(),
                                amount,
                            });
                        }
                    }
                }
            }
            if !reasons.is_empty() {
                invalid.push(InvalidGuarantee {
                    grn: grn.clone(),
                    reasons,
                });
            }
        }
    }
    Ok((covers, invalid))
}

/// Authorisations cited by the declaration: known in the office's administration, held by the
/// holder, valid today; otherwise a rule violation naming what failed.
async fn authorisation_rules(
    state: &AppState,
    caller: &Caller,
    office: &OfficeRef,
    holder: &Eori,
    p: &ParsedMessage,
    today: chrono::NaiveDate,
    out: &mut Vec<FunctionalError>,
) -> Result<(), ApiError> {
    let scoped = state.store.scoped(caller.scope());
    for a in p.root.children_named("Authorisation") {
        let (Some(ty), Some(reference)) = (a.child("type"), a.child("referenceNumber")) else {
            continue;
        };
        let reason = match scoped
            .transit_authorisation(office, &ty.text, &reference.text)
            .await?
        {
            None => Some("unknown authorisation"),
            Some(found) if found.holder != holder.as_str() => {
                Some("the authorisation is held by another trader")
            }
            Some(found) if found.revoked => Some("the authorisation is revoked"),
            Some(found) if !found.valid_on(today) => {
                Some("the authorisation is not valid on the declaration date")
            }
            Some(_) => None,
        };
        if let Some(reason) = reason {
            out.push(rule(
                RULE_VIOLATION,
                &reference.xpath,
                None,
                &format!("authorisation {} {}: {reason}", ty.text, reference.text),
                Some(&reference.text),
            ));
        }
    }
    Ok(())
}

fn departure_data(p: &ParsedMessage, m: &MovementRow) -> Departure {
    let mut d = Departure::of(p);
    if let Some(lrn) = &m.lrn {
        d.lrn = lrn.clone();
    }
    if let Some(o) = &m.office_of_departure {
        d.office_of_departure = o.clone();
    }
    d
}

fn outbound(
    tx: &TransitTx<'_>,
    m: &MovementRow,
    recipient: &str,
    correlation: Option<&str>,
) -> Outbound {
    Outbound {
        sender: format!("NTA.{}", m.tenant),
        recipient: recipient.to_owned(),
        message_identification: msg_id(tx),
        prepared_at: now_naive(tx),
        correlation_identifier: correlation.map(str::to_owned),
    }
}

async fn append_out(
    tx: &mut TransitTx<'_>,
    m: &Locked,
    ty: MessageType,
    h: &Outbound,
    body: String,
) -> Result<String, ApiError> {
    let row = tx
        .append(
            m,
            &TransitMessage {
                message_type: ty.code().to_owned(),
                direction: Direction::Outbound,
                message_identification: h.message_identification.clone(),
                content_type: XML.to_owned(),
                body,
            },
        )
        .await?;
    Ok(row.id)
}

async fn append_in(
    tx: &mut TransitTx<'_>,
    m: &Locked,
    p: &ParsedMessage,
) -> Result<String, ApiError> {
    let row = tx
        .append(
            m,
            &TransitMessage {
                message_type: p.message_type.code().to_owned(),
                direction: Direction::Inbound,
                message_identification: p.header.message_identification.clone(),
                content_type: XML.to_owned(),
                body: xml_of(p)?,
            },
        )
        .await?;
    Ok(row.id)
}

fn state_of(m: &Locked) -> Result<State, ApiError> {
    State::from_name(&m.row().state)
        .ok_or_else(|| internal(format!("unknown state {}", m.row().state)))
}

fn next(state: State, event: Event) -> Result<State, FunctionalError> {
    apply(state, event)
}

/// A transition the service itself makes (a failure is a bug).
fn step(state: State, event: Event) -> Result<State, ApiError> {
    apply(state, event).map_err(|e| internal(e.reason))
}

fn tenant_of(m: &MovementRow) -> Result<TenantCode, ApiError> {
    m.tenant.parse().map_err(internal)
}

fn mrn_of(m: &Locked) -> Result<Mrn, ApiError> {
    let text = m
        .row()
        .mrn
        .as_deref()
        .ok_or_else(|| internal(format!("movement {} has no MRN", m.row().id)))?;
    Mrn::parse(text).map_err(internal)
}

fn errors_detail(errors: &[FunctionalError]) -> serde_json::Value {
    serde_json::json!(errors
        .iter()
        .map(|e| serde_json::json!({
            "code": e.code, "pointer": e.error_pointer, "rule": e.rule, "reason": e.reason,
        }))
        .collect::<Vec<_>>())
}

/// A duplicate check inside the transaction: `Some(answer)` for a repeat of the same message,
/// a 409 for the same identification with another content.
async fn repeat(
    tx: &mut TransitTx<'_>,
    sender: &Eori,
    p: &ParsedMessage,
) -> Result<Option<Accepted>, ApiError> {
    let body = xml_of(p)?;
    match tx
        .earlier_message(sender, &p.header.message_identification, &body)
        .await?
    {
        None => Ok(None),
        Some(e) if e.same_content => Ok(Some(Accepted {
            movement_id: e.movement_id,
            message_id: e.message_id,
            repeated: true,
        })),
        Some(_) => {
            let f = FunctionalError::duplicate_message_id(
                p.message_type,
                &p.header.message_identification,
            );
            Err(ApiError::field(
                ErrorCode::DuplicateMessageIdentification,
                f.error_pointer,
                format!(
                    "NCTS error 26: message identification {} was already used with a different content",
                    p.header.message_identification
                ),
            ))
        }
    }
}

// ---------------------------------------------------------------- departures

/// `POST /customs/transits/movements/departures`: a CC015C.
pub async fn lodge_departure(
    state: &AppState,
    caller: &Caller,
    body: &[u8],
    format: Format,
) -> Result<Accepted, ApiError> {
    let eori = trader(caller)?;
    let schemas = schemas(state)?;
    let (p, mut errors) = parse(&schemas, &[MessageType::CC015C], body, format)?;
    let office_ptr = "/CC015C/CustomsOfficeOfDeparture/referenceNumber";
    let office = office_param(office_ptr, p.fields.office_of_departure.as_deref())?;
    let tenant = administration_of(state, office_ptr, &office).await?;
    let holder = p
        .fields
        .holder
        .as_ref()
        .and_then(|h| h.identification_number.clone())
        .unwrap_or_default();
    if holder != eori.as_str() {
        return Err(ApiError::field(
            ErrorCode::Forbidden,
            "/CC015C/HolderOfTheTransitProcedure/identificationNumber",
            format!("the holder must be the lodging trader {eori}"),
        ));
    }
    state.authorize(
        caller,
        Action::TransitLodge,
        &Resource::new(
            ResourceKind::Movement,
            p.fields.lrn.clone().unwrap_or_default(),
        )
        .in_tenant(tenant.clone())
        .owned_by(caller.principal.id.clone()),
    )?;
    let today = state.clock().now().date_naive();
    office_rule(
        state,
        &p.root,
        "CustomsOfficeOfDeparture/referenceNumber",
        "DEP",
        today,
        &mut errors,
    )
    .await?;
    declared_offices_rule(state, &p.root, today, &mut errors).await?;
    code_list_rules(state, &p, today, &mut errors).await?;
    authorisation_rules(state, caller, &office, &eori, &p, today, &mut errors).await?;
    let (covers, invalid) = guarantee_checks(state, caller, &office, &eori, &p, today).await?;

    let scoped = state.store.scoped(caller.scope());
    let mut tx = scoped.transit_begin(&caller.principal.id).await?;
    if let Some(a) = repeat(&mut tx, &eori, &p).await? {
        tx.rollback().await?;
        return Ok(a);
    }
    if let Some(lrn) = p.root.at("TransitOperation/LRN") {
        if tx.lrn_in_use(&eori, &lrn.text).await? {
            errors.push(rule(
                26,
                &lrn.xpath,
                None,
                "the LRN is already used by another declaration of this holder",
                Some(&lrn.text),
            ));
        }
    }
    let new = NewTransitMovement {
        kind: MovementKind::Departure,
        lrn: p.fields.lrn.clone(),
        mrn: None,
        holder: eori.clone(),
        office_of_departure: Some(office.clone()),
        office_of_destination: p
            .fields
            .office_of_destination_declared
            .as_deref()
            .and_then(|o| OfficeRef::from_str(o).ok()),
    };
    let initial = if errors.is_empty() {
        State::Submitted
    } else {
        State::Rejected
    };
    let mut m = tx.create(&new, initial.name()).await?;
    let inbound = append_in(&mut tx, &m, &p).await?;
    tx.submitted(&mut m, &inbound).await?;
    let d = departure_data(&p, m.row());
    let recipient = p.header.message_sender.clone();
    let corr = Some(p.header.message_identification.as_str());
    if !errors.is_empty() {
        let h = outbound(&tx, m.row(), &recipient, corr);
        let decision = rejection(&tx, MessageType::CC015C, &errors);
        let xml = generate::cc056c(&h, &d, None, &decision);
        return reject_lodging(tx, m, MessageType::CC056C, &h, xml, &errors, inbound).await;
    }
    // Accepted: CC928C, MRN allocated (CC028C).
    let s = step(State::Submitted, Event::Accept)?;
    let h = outbound(&tx, m.row(), &recipient, corr);
    let id = append_out(
        &mut tx,
        &m,
        MessageType::CC928C,
        &h,
        generate::cc928c(&h, &d),
    )
    .await?;
    tx.transition(&mut m, s.name(), "accept", None, Some(&id), None)
        .await?;
    let s = step(s, Event::AllocateMrn)?;
    let year = tx.now().year();
    let serial = tx.next_mrn_serial(&m, year).await?;
    let mrn = Mrn::allocate(
        u16::try_from(year.rem_euclid(100)).unwrap_or(0),
        tenant.as_str(),
        &format!("{serial:012}"),
        // Rule R0410: the letter follows the security indicator.
        ProcedureCategory::of_transit(p.root.text_at("TransitOperation/security")),
    )
    .map_err(internal)?;
    let h = outbound(&tx, m.row(), &recipient, corr);
    let xml = generate::cc028c(&h, &d, &mrn, tx.now().date_naive());
    let id = append_out(&mut tx, &m, MessageType::CC028C, &h, xml).await?;
    tx.transition(
        &mut m,
        s.name(),
        "allocate_mrn",
        Some(mrn.as_str()),
        Some(&id),
        None,
    )
    .await?;
    after_mrn(
        state, &schemas, &mut tx, &mut m, &p, &recipient, corr, &covers, &invalid,
    )
    .await?;
    tx.commit().await?;
    Ok(Accepted {
        movement_id: m.row().id.clone(),
        message_id: inbound,
        repeated: false,
    })
}

/// After the MRN (or an amendment that fixed the guarantee): the guarantee, then the lane;
/// green releases at once, other lanes put the movement under control for an officer.
#[allow(clippy::too_many_arguments)]
async fn after_mrn(
    state: &AppState,
    schemas: &SchemaSet,
    tx: &mut TransitTx<'_>,
    m: &mut Locked,
    declaration: &ParsedMessage,
    recipient: &str,
    corr: Option<&str>,
    covers: &[Cover],
    invalid: &[InvalidGuarantee],
) -> Result<(), ApiError> {
    if !invalid.is_empty() {
        return guarantee_invalid(tx, m, declaration, recipient, corr, invalid).await;
    }
    let assessment = state
        .config
        .transit
        .lanes
        .assess(&risk_subject(m.row(), declaration));
    let detail = serde_json::json!({ "lane": assessment.lane, "assessor": assessment.assessor });
    if assessment.lane == Lane::Green {
        release(schemas, tx, m, declaration, recipient, corr, covers, detail).await
    } else {
        control(tx, m, declaration, recipient, corr, assessment.lane, detail).await
    }
}

async fn guarantee_invalid(
    tx: &mut TransitTx<'_>,
    m: &mut Locked,
    declaration: &ParsedMessage,
    recipient: &str,
    corr: Option<&str>,
    invalid: &[InvalidGuarantee],
) -> Result<(), ApiError> {
    let s = next(state_of(m)?, Event::GuaranteeInvalid).map_err(|e| invalid_transition(&e))?;
    let mrn = mrn_of(m)?;
    let d = departure_data(declaration, m.row());
    let h = outbound(tx, m.row(), recipient, corr);
    let accepted_on = m.row().created_at.date_naive();
    let xml = generate::cc055c(&h, &d, &mrn, accepted_on, invalid).map_err(internal)?;
    let id = append_out(tx, m, MessageType::CC055C, &h, xml).await?;
    let detail = serde_json::json!(invalid
        .iter()
        .map(|g| serde_json::json!({ "grn": g.grn, "reasons": g.reasons }))
        .collect::<Vec<_>>());
    tx.transition(
        m,
        s.name(),
        "guarantee_invalid",
        None,
        Some(&id),
        Some(&detail),
    )
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn release(
    schemas: &SchemaSet,
    tx: &mut TransitTx<'_>,
    m: &mut Locked,
    declaration: &ParsedMessage,
    recipient: &str,
    corr: Option<&str>,
    covers: &[Cover],
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    let s = next(state_of(m)?, Event::Release).map_err(|e| invalid_transition(&e))?;
    let mut short = Vec::new();
    for c in covers {
        match tx.reserve(m, &c.grn, c.amount).await {
            Ok(Ok(_)) => {}
            Ok(Err(shortfall)) => short.push(InvalidGuarantee {
                grn: c.grn.clone(),
                reasons: vec![(
                    "G02".into(),
                    Some(format!(
                        "insufficient: {} to cover, {} available",
                        shortfall.requested, shortfall.available
                    )),
                )],
            }),
            Err(StoreError::InvalidState(msg)) | Err(StoreError::NotFound { what: _, id: msg }) => {
                short.push(InvalidGuarantee {
                    grn: c.grn.clone(),
                    reasons: vec![("G02".into(), Some(msg))],
                })
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !short.is_empty() {
        // Undo the reservations of this release: the movement holds none.
        tx.release_reservations(m).await?;
        return guarantee_invalid(tx, m, declaration, recipient, corr, &short).await;
    }
    let mrn = mrn_of(m)?;
    let h = outbound(tx, m.row(), recipient, corr);
    let xml = generate::cc029c(
        schemas,
        &h,
        declaration,
        &mrn,
        &ReleaseDecision {
            accepted_on: m.row().created_at.date_naive(),
            released_on: tx.now().date_naive(),
            container_indicator_default: false,
        },
    )
    .map_err(internal)?;
    let id = append_out(tx, m, MessageType::CC029C, &h, xml).await?;
    tx.transition(m, s.name(), "release", None, Some(&id), Some(&detail))
        .await?;
    Ok(())
}

async fn control(
    tx: &mut TransitTx<'_>,
    m: &mut Locked,
    declaration: &ParsedMessage,
    recipient: &str,
    corr: Option<&str>,
    lane: Lane,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    let s = next(state_of(m)?, Event::Control).map_err(|e| invalid_transition(&e))?;
    let mrn = mrn_of(m)?;
    let d = departure_data(declaration, m.row());
    let h = outbound(tx, m.row(), recipient, corr);
    let (kind, text) = match lane {
        Lane::Red => ("A", "physical control"),
        _ => ("B", "documentary control"),
    };
    let xml = generate::cc060c(
        &h,
        &d,
        &mrn,
        &ControlDecision {
            notified_at: now_naive(tx),
            notification_type: 0,
            controls: vec![(kind.to_owned(), Some(text.to_owned()))],
            requested_documents: Vec::new(),
        },
    );
    let id = append_out(tx, m, MessageType::CC060C, &h, xml).await?;
    tx.transition(m, s.name(), "control", None, Some(&id), Some(&detail))
        .await?;
    Ok(())
}

fn invalid_transition(e: &FunctionalError) -> ApiError {
    ApiError::field(ErrorCode::InvalidTransition, "/decision", e.reason.clone())
}

/// The rejection (code 12) of a `rejected` message for its functional errors, dated now.
fn rejection(
    tx: &TransitTx<'_>,
    rejected: MessageType,
    errors: &[FunctionalError],
) -> RejectionDecision {
    RejectionDecision {
        rejected,
        rejected_at: now_naive(tx),
        code: 12,
        reason: Some(
            errors
                .iter()
                .map(|e| e.reason.clone())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        errors: errors.to_vec(),
    }
}

/// Ends a lodging (CC015C or CC007C) rejected at once: the rejection message `ty` with body
/// `xml`, the movement's transition to `rejected` with the errors, and the commit.
async fn reject_lodging(
    mut tx: TransitTx<'_>,
    mut m: Locked,
    ty: MessageType,
    h: &Outbound,
    xml: String,
    errors: &[FunctionalError],
    inbound: String,
) -> Result<Accepted, ApiError> {
    let id = append_out(&mut tx, &m, ty, h, xml).await?;
    tx.transition(
        &mut m,
        State::Rejected.name(),
        "reject",
        None,
        Some(&id),
        Some(&errors_detail(errors)),
    )
    .await?;
    tx.commit().await?;
    Ok(Accepted {
        movement_id: m.row().id.clone(),
        message_id: inbound,
        repeated: false,
    })
}

/// Rejects a follow-up message (state unchanged): the message and a CC056C (departure) or
/// CC057C (arrival) with the errors.
async fn reject_follow_up(
    tx: &mut TransitTx<'_>,
    m: &mut Locked,
    p: &ParsedMessage,
    errors: &[FunctionalError],
    inbound: &str,
) -> Result<(), ApiError> {
    let recipient = p.header.message_sender.clone();
    let corr = Some(p.header.message_identification.as_str());
    let h = outbound(tx, m.row(), &recipient, corr);
    let decision = rejection(tx, p.message_type, errors);
    let (ty, xml) = match m.row().kind {
        MovementKind::Departure => {
            let mrn = m.row().mrn.as_deref().and_then(|t| Mrn::parse(t).ok());
            let d = departure_data(p, m.row());
            (
                MessageType::CC056C,
                generate::cc056c(&h, &d, mrn.as_ref(), &decision),
            )
        }
        MovementKind::Arrival => {
            let mut a = Arrival::of(p);
            if let Some(mrn) = &m.row().mrn {
                a.mrn = mrn.clone();
            }
            (MessageType::CC057C, generate::cc057c(&h, &a, &decision))
        }
    };
    let id = append_out(tx, m, ty, &h, xml).await?;
    let state = m.row().state.clone();
    tx.transition(
        m,
        &state,
        "reject_message",
        None,
        Some(&id),
        Some(&serde_json::json!({ "rejected_message": inbound, "errors": errors_detail(errors) })),
    )
    .await?;
    Ok(())
}

/// The declaration in force for a departure: its latest CC015C or CC013C, parsed again.
async fn declaration_of(
    schemas: &SchemaSet,
    tx: &mut TransitTx<'_>,
    m: &Locked,
) -> Result<ParsedMessage, ApiError> {
    let messages = tx.messages(m).await?;
    // The CC015C, replaced by each amendment that was accepted: an inbound CC013C counts
    // once the answer to it (the next outbound message) is a CC004C, not a CC056C.
    let mut current = None;
    let mut pending = None;
    for x in &messages {
        match (x.direction, x.message_type.as_str()) {
            (Direction::Inbound, "CC015C") => current = Some(x),
            (Direction::Inbound, "CC013C") => pending = Some(x),
            (Direction::Outbound, "CC004C") => {
                if let Some(a) = pending.take() {
                    current = Some(a);
                }
            }
            (Direction::Outbound, _) => pending = None,
            _ => {}
        }
    }
    let last =
        current.ok_or_else(|| internal(format!("movement {} has no declaration", m.row().id)))?;
    match validate(
        schemas,
        &[MessageType::CC015C, MessageType::CC013C],
        last.body.as_bytes(),
        Format::Xml,
    ) {
        Ok(p) => Ok(p),
        Err(Rejection::Business { message, .. }) => Ok(*message),
        Err(e) => Err(internal(format!("stored declaration invalid: {e:?}"))),
    }
}

/// `POST /customs/transits/movements/departures/{id}/messages`: CC013C or CC014C.
pub async fn departure_message(
    state: &AppState,
    caller: &Caller,
    movement_id: &str,
    body: &[u8],
    format: Format,
) -> Result<Accepted, ApiError> {
    let eori = trader(caller)?;
    let schemas = schemas(state)?;
    let (p, mut errors) = parse(
        &schemas,
        &[MessageType::CC013C, MessageType::CC014C],
        body,
        format,
    )?;
    // Guarantee checks of an amendment, before the transaction (see `guarantee_checks`).
    let scoped = state.store.scoped(caller.scope());
    let current = scoped.movement(movement_id).await?;
    if current.kind != MovementKind::Departure {
        return Err(ApiError::not_found(format!("departure {movement_id}")));
    }
    state.authorize(
        caller,
        Action::TransitLodge,
        &Resource::new(ResourceKind::Movement, movement_id)
            .in_tenant(tenant_of(&current)?)
            .owned_by(caller.principal.id.clone()),
    )?;
    let today = state.clock().now().date_naive();
    code_list_rules(state, &p, today, &mut errors).await?;
    let checks = match (p.message_type, &current.office_of_departure) {
        (MessageType::CC013C, Some(o)) => {
            let office = office_param("/CC013C/CustomsOfficeOfDeparture/referenceNumber", Some(o))?;
            declared_offices_rule(state, &p.root, today, &mut errors).await?;
            authorisation_rules(state, caller, &office, &eori, &p, today, &mut errors).await?;
            Some(guarantee_checks(state, caller, &office, &eori, &p, today).await?)
        }
        _ => None,
    };
    let mut tx = scoped.transit_begin(&caller.principal.id).await?;
    if let Some(a) = repeat(&mut tx, &eori, &p).await? {
        tx.rollback().await?;
        return Ok(a);
    }
    let mut m = tx.lock(movement_id).await?;
    // The message must name this movement: by MRN (90 when it is another) or by LRN.
    if let Some(mrn) = p.root.at("TransitOperation/MRN") {
        if Mrn::parse(&mrn.text).is_ok() && m.row().mrn.as_deref() != Some(mrn.text.as_str()) {
            errors.push(FunctionalError::unknown_mrn(p.message_type, &mrn.text));
        }
    }
    if let Some(lrn) = p.root.at("TransitOperation/LRN") {
        if m.row().lrn.as_deref() != Some(lrn.text.as_str()) {
            errors.push(rule(
                RULE_VIOLATION,
                &lrn.xpath,
                None,
                "the LRN is not the LRN of this movement",
                Some(&lrn.text),
            ));
        }
    }
    let inbound = append_in(&mut tx, &m, &p).await?;
    let state_now = state_of(&m)?;
    if p.message_type == MessageType::CC013C {
        // R0520: against the declaration as it stands (the CC015C or the last accepted
        // CC013C; the one being processed has no answer yet, so it is not among them).
        let current = declaration_of(&schemas, &mut tx, &m).await?;
        errors.extend(r0520(
            &p.root,
            &current.root,
            state_now == State::GuaranteeInvalid,
        ));
    }
    let event = if p.message_type == MessageType::CC013C {
        Event::Amend
    } else {
        Event::RequestInvalidation
    };
    if errors.is_empty() {
        if let Err(e) = next(state_now, event) {
            errors.push(e);
        }
    }
    if !errors.is_empty() {
        reject_follow_up(&mut tx, &mut m, &p, &errors, &inbound).await?;
        tx.commit().await?;
        return Ok(Accepted {
            movement_id: m.row().id.clone(),
            message_id: inbound,
            repeated: false,
        });
    }
    let recipient = p.header.message_sender.clone();
    let corr = Some(p.header.message_identification.as_str());
    let mrn = mrn_of(&m)?;
    if p.message_type == MessageType::CC013C {
        let d = departure_data(&p, m.row());
        let h = outbound(&tx, m.row(), &recipient, corr);
        let submitted_at =
            NaiveDateTime::parse_from_str(&p.header.preparation_date_and_time, "%Y-%m-%dT%H:%M:%S")
                .unwrap_or_else(|_| now_naive(&tx));
        let xml = generate::cc004c(&h, &d, &mrn, submitted_at, now_naive(&tx));
        let id = append_out(&mut tx, &m, MessageType::CC004C, &h, xml).await?;
        let s = step(state_now, Event::AcceptAmendment)?;
        tx.transition(&mut m, s.name(), "accept_amendment", None, Some(&id), None)
            .await?;
        if state_now == State::GuaranteeInvalid {
            let (covers, invalid) = checks.unwrap_or_default();
            after_mrn(
                state, &schemas, &mut tx, &mut m, &p, &recipient, corr, &covers, &invalid,
            )
            .await?;
        }
    } else {
        let declaration = declaration_of(&schemas, &mut tx, &m).await?;
        invalidate(
            &mut tx,
            &mut m,
            &declaration,
            &recipient,
            corr,
            Some(&p),
            None,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Accepted {
        movement_id: m.row().id.clone(),
        message_id: inbound,
        repeated: false,
    })
}

async fn invalidate(
    tx: &mut TransitTx<'_>,
    m: &mut Locked,
    declaration: &ParsedMessage,
    recipient: &str,
    corr: Option<&str>,
    request: Option<&ParsedMessage>,
    reason: Option<&str>,
) -> Result<(), ApiError> {
    let s = next(state_of(m)?, Event::Invalidate).map_err(|e| invalid_transition(&e))?;
    let mrn = m.row().mrn.as_deref().and_then(|t| Mrn::parse(t).ok());
    let d = departure_data(declaration, m.row());
    let h = outbound(tx, m.row(), recipient, corr);
    let requested_at = request.and_then(|r| {
        NaiveDateTime::parse_from_str(&r.header.preparation_date_and_time, "%Y-%m-%dT%H:%M:%S").ok()
    });
    let justification = request
        .and_then(|r| {
            r.root
                .text_at("Invalidation/justification")
                .map(str::to_owned)
        })
        .or(reason.map(str::to_owned));
    let xml = generate::cc009c(
        &h,
        &d,
        mrn.as_ref(),
        &InvalidationDecision {
            requested_at,
            decided_at: now_naive(tx),
            granted: true,
            initiated_by_customs: request.is_none(),
            justification,
        },
    );
    let id = append_out(tx, m, MessageType::CC009C, &h, xml).await?;
    let released = tx.release_reservations(m).await?;
    tx.transition(
        m,
        s.name(),
        "invalidate",
        None,
        Some(&id),
        Some(&serde_json::json!({ "reservations_released": released.len(), "reason": reason })),
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- arrivals

/// `POST /customs/transits/movements/arrivals`: a CC007C. The arrival belongs to the
/// administration of the office of destination; it continues the departure of the same MRN
/// (found with `TransitTx::lock_departure_for_arrival`, whatever its administration).
pub async fn notify_arrival(
    state: &AppState,
    caller: &Caller,
    body: &[u8],
    format: Format,
) -> Result<Accepted, ApiError> {
    let eori = trader(caller)?;
    let schemas = schemas(state)?;
    let (p, mut errors) = parse(&schemas, &[MessageType::CC007C], body, format)?;
    let office_ptr = "/CC007C/CustomsOfficeOfDestinationActual/referenceNumber";
    let office = office_param(office_ptr, p.fields.office_of_destination_actual.as_deref())?;
    let tenant = administration_of(state, office_ptr, &office).await?;
    if p.fields.trader_at_destination.as_deref() != Some(eori.as_str()) {
        return Err(ApiError::field(
            ErrorCode::Forbidden,
            "/CC007C/TraderAtDestination/identificationNumber",
            format!("the trader at destination must be the notifying trader {eori}"),
        ));
    }
    state.authorize(
        caller,
        Action::TransitLodge,
        &Resource::new(
            ResourceKind::Movement,
            p.fields.mrn.clone().unwrap_or_default(),
        )
        .in_tenant(tenant)
        .owned_by(caller.principal.id.clone()),
    )?;
    let today = state.clock().now().date_naive();
    office_rule(
        state,
        &p.root,
        "CustomsOfficeOfDestinationActual/referenceNumber",
        "DES",
        today,
        &mut errors,
    )
    .await?;
    code_list_rules(state, &p, today, &mut errors).await?;
    let scoped = state.store.scoped(caller.scope());
    let mut tx = scoped.transit_begin(&caller.principal.id).await?;
    if let Some(a) = repeat(&mut tx, &eori, &p).await? {
        tx.rollback().await?;
        return Ok(a);
    }
    let mrn_text = p.fields.mrn.clone().unwrap_or_default();
    let mrn_ok = errors.iter().all(|e| e.code != 93) && Mrn::parse(&mrn_text).is_ok();
    let mut departure = None;
    if mrn_ok {
        match tx.lock_departure_for_arrival(&mrn_text).await? {
            None => errors.push(FunctionalError::unknown_mrn(MessageType::CC007C, &mrn_text)),
            Some(d) => {
                if errors.is_empty() {
                    if let Err(e) = next(state_of(&d)?, Event::NotifyArrival) {
                        errors.push(e);
                    }
                }
                departure = Some(d);
            }
        }
    }
    let new = NewTransitMovement {
        kind: MovementKind::Arrival,
        lrn: None,
        mrn: Some(mrn_text.chars().take(18).collect()),
        holder: eori.clone(),
        office_of_departure: departure
            .as_ref()
            .and_then(|d| d.row().office_of_departure.as_deref())
            .and_then(|o| OfficeRef::from_str(o).ok()),
        office_of_destination: Some(office),
    };
    let initial = if errors.is_empty() {
        State::Submitted
    } else {
        State::Rejected
    };
    let mut a = tx.create(&new, initial.name()).await?;
    let inbound = append_in(&mut tx, &a, &p).await?;
    tx.submitted(&mut a, &inbound).await?;
    let recipient = p.header.message_sender.clone();
    let corr = Some(p.header.message_identification.as_str());
    let arrival = Arrival::of(&p);
    let (Some(mut dep), true) = (departure, errors.is_empty()) else {
        let h = outbound(&tx, a.row(), &recipient, corr);
        let decision = rejection(&tx, MessageType::CC007C, &errors);
        let xml = generate::cc057c(&h, &arrival, &decision);
        return reject_lodging(tx, a, MessageType::CC057C, &h, xml, &errors, inbound).await;
    };
    let link = serde_json::json!({ "arrival": a.row().id, "departure": dep.row().id });
    let s = step(state_of(&dep)?, Event::NotifyArrival)?;
    tx.transition(
        &mut dep,
        s.name(),
        "arrival_notified",
        None,
        None,
        Some(&link),
    )
    .await?;
    tx.transition(
        &mut a,
        s.name(),
        "arrival_notified",
        None,
        Some(&inbound),
        Some(&link),
    )
    .await?;
    // Unloading permission (CC043C) at once; security and reduced dataset from the departure.
    let dep_decl = declaration_of(&schemas, &mut tx, &dep).await?;
    let security = dep_decl
        .fields
        .security
        .clone()
        .unwrap_or_else(|| "0".into());
    let reduced = dep_decl.fields.reduced_dataset_indicator.as_deref() == Some("1");
    let h = outbound(&tx, a.row(), &recipient, corr);
    let mut arrival = arrival;
    arrival.mrn = mrn_text.clone();
    let xml = generate::cc043c(&h, &arrival, &security, reduced);
    let id = append_out(&mut tx, &a, MessageType::CC043C, &h, xml).await?;
    let s = step(s, Event::PermitUnloading)?;
    tx.transition(&mut a, s.name(), "permit_unloading", None, Some(&id), None)
        .await?;
    tx.transition(
        &mut dep,
        s.name(),
        "permit_unloading",
        None,
        None,
        Some(&link),
    )
    .await?;
    tx.commit().await?;
    Ok(Accepted {
        movement_id: a.row().id.clone(),
        message_id: inbound,
        repeated: false,
    })
}

/// `POST /customs/transits/movements/arrivals/{id}/messages`: CC044C unloading remarks.
/// Conform remarks release the goods at once (CC025C) and write the departure off, which
/// releases its guarantee reservation; remarks with discrepancies wait for the destination
/// officer's `control-results` decision.
pub async fn arrival_message(
    state: &AppState,
    caller: &Caller,
    movement_id: &str,
    body: &[u8],
    format: Format,
) -> Result<Accepted, ApiError> {
    let eori = trader(caller)?;
    let schemas = schemas(state)?;
    let (p, mut errors) = parse(&schemas, &[MessageType::CC044C], body, format)?;
    let scoped = state.store.scoped(caller.scope());
    let current = scoped.movement(movement_id).await?;
    if current.kind != MovementKind::Arrival {
        return Err(ApiError::not_found(format!("arrival {movement_id}")));
    }
    state.authorize(
        caller,
        Action::TransitLodge,
        &Resource::new(ResourceKind::Movement, movement_id)
            .in_tenant(tenant_of(&current)?)
            .owned_by(caller.principal.id.clone()),
    )?;
    let today = state.clock().now().date_naive();
    code_list_rules(state, &p, today, &mut errors).await?;
    let mut tx = scoped.transit_begin(&caller.principal.id).await?;
    if let Some(a) = repeat(&mut tx, &eori, &p).await? {
        tx.rollback().await?;
        return Ok(a);
    }
    let mut a = tx.lock(movement_id).await?;
    let mrn_text = p.fields.mrn.clone().unwrap_or_default();
    if errors.iter().all(|e| e.code != 93) && a.row().mrn.as_deref() != Some(mrn_text.as_str()) {
        errors.push(FunctionalError::unknown_mrn(MessageType::CC044C, &mrn_text));
    }
    let inbound = append_in(&mut tx, &a, &p).await?;
    let mut dep = None;
    if errors.is_empty() {
        match tx.lock_departure_for_arrival(&mrn_text).await? {
            None => errors.push(FunctionalError::unknown_mrn(MessageType::CC044C, &mrn_text)),
            Some(d) => {
                if let Err(e) = next(state_of(&a)?, Event::UnloadingRemarks) {
                    errors.push(e);
                }
                dep = Some(d);
            }
        }
    }
    let (Some(mut dep), true) = (dep, errors.is_empty()) else {
        reject_follow_up(&mut tx, &mut a, &p, &errors, &inbound).await?;
        tx.commit().await?;
        return Ok(Accepted {
            movement_id: a.row().id.clone(),
            message_id: inbound,
            repeated: false,
        });
    };
    let s = step(state_of(&a)?, Event::UnloadingRemarks)?;
    let conform = p.root.text_at("UnloadingRemark/conform") == Some("1");
    let link =
        serde_json::json!({ "arrival": a.row().id, "departure": dep.row().id, "conform": conform });
    tx.transition(
        &mut a,
        s.name(),
        "unloading_remarks",
        None,
        Some(&inbound),
        Some(&link),
    )
    .await?;
    tx.transition(
        &mut dep,
        s.name(),
        "unloading_remarks",
        None,
        None,
        Some(&link),
    )
    .await?;
    if conform {
        let recipient = p.header.message_sender.clone();
        let corr = Some(p.header.message_identification.as_str());
        goods_release(&mut tx, &mut a, &mut dep, &recipient, corr, 1, None).await?;
    }
    tx.commit().await?;
    Ok(Accepted {
        movement_id: a.row().id.clone(),
        message_id: inbound,
        repeated: false,
    })
}

/// CC025C to the trader at destination, the goods released at destination on both
/// movements, and the departure written off (its guarantee reservation released).
async fn goods_release(
    tx: &mut TransitTx<'_>,
    a: &mut Locked,
    dep: &mut Locked,
    recipient: &str,
    corr: Option<&str>,
    indicator: u8,
    reason: Option<&str>,
) -> Result<(), ApiError> {
    let s = next(state_of(a)?, Event::ReleaseAtDestination).map_err(|e| invalid_transition(&e))?;
    let messages = tx.messages(a).await?;
    let cc007 = messages
        .iter()
        .find(|x| x.message_type == "CC007C")
        .ok_or_else(|| internal("arrival without CC007C"))?;
    let root = portorium_declarations::tree::parse_xml(cc007.body.as_bytes()).map_err(internal)?;
    let arrival = Arrival {
        mrn: a.row().mrn.clone().unwrap_or_default(),
        office_of_destination_actual: a.row().office_of_destination.clone().unwrap_or_default(),
        trader_at_destination: root
            .text_at("TraderAtDestination/identificationNumber")
            .unwrap_or_default()
            .to_owned(),
    };
    let recipient = if recipient.is_empty() {
        root.text_at("messageSender").unwrap_or_default().to_owned()
    } else {
        recipient.to_owned()
    };
    let h = outbound(tx, a.row(), &recipient, corr);
    let xml = generate::cc025c(&h, &arrival, tx.now().date_naive(), indicator);
    let id = append_out(tx, a, MessageType::CC025C, &h, xml).await?;
    let detail =
        serde_json::json!({ "arrival": a.row().id, "departure": dep.row().id, "reason": reason });
    tx.transition(
        a,
        s.name(),
        "release_at_destination",
        None,
        Some(&id),
        Some(&detail),
    )
    .await?;
    tx.transition(
        dep,
        s.name(),
        "release_at_destination",
        None,
        None,
        Some(&detail),
    )
    .await?;
    let w = step(s, Event::WriteOff)?;
    let released = tx.release_reservations(dep).await?;
    tx.transition(
        dep,
        w.name(),
        "write_off",
        None,
        None,
        Some(&serde_json::json!({ "reservations_released": released.len() })),
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- officer decisions

/// An officer's decision on a movement of the officer's administration (the store's scope).
pub async fn decide(
    state: &AppState,
    caller: &Caller,
    movement_id: &str,
    body: &DecisionBody,
) -> Result<MovementRow, ApiError> {
    let schemas = schemas(state)?;
    let scoped = state.store.scoped(caller.scope());
    let current = scoped.movement(movement_id).await?;
    state.authorize(
        caller,
        Action::TransitDecide,
        &Resource::new(ResourceKind::Movement, movement_id).in_tenant(tenant_of(&current)?),
    )?;
    let reason = body.reason.as_deref();
    if let Some(r) = reason {
        if r.len() > 512 {
            return Err(ApiError::field(
                ErrorCode::InvalidField,
                "/reason",
                "at most 512 characters",
            ));
        }
    }
    let mut tx = scoped.transit_begin(&caller.principal.id).await?;
    let mut m = tx.lock(movement_id).await?;
    let kind = m.row().kind;
    match (kind, body.decision) {
        (MovementKind::Arrival, DecisionKind::ControlResults) => {
            let mrn = m.row().mrn.clone().unwrap_or_default();
            let mut dep = tx
                .lock_departure_for_arrival(&mrn)
                .await?
                .ok_or_else(|| internal(format!("arrival {movement_id} without departure")))?;
            goods_release(&mut tx, &mut m, &mut dep, "", None, 1, reason).await?;
        }
        (MovementKind::Arrival, _) | (MovementKind::Departure, DecisionKind::ControlResults) => {
            return Err(ApiError::field(
                ErrorCode::InvalidTransition,
                "/decision",
                format!(
                    "{:?} is not a decision on a {}",
                    body.decision,
                    kind.as_str()
                ),
            ));
        }
        (MovementKind::Departure, d) => {
            let declaration = declaration_of(&schemas, &mut tx, &m).await?;
            let recipient = declaration.header.message_sender.clone();
            match d {
                DecisionKind::Control => {
                    let detail = serde_json::json!({ "by": "officer", "reason": reason });
                    control(
                        &mut tx,
                        &mut m,
                        &declaration,
                        &recipient,
                        None,
                        Lane::Red,
                        detail,
                    )
                    .await?;
                }
                DecisionKind::Release => {
                    let covers: Vec<Cover> = declaration
                        .fields
                        .guarantees
                        .iter()
                        .flat_map(|g| g.references.iter())
                        .filter_map(|r| {
                            let amount =
                                Decimal::from_str(r.amount_to_be_covered.as_deref()?).ok()?;
                            (amount > Decimal::ZERO).then(|| Cover {
                                grn: r.grn.clone().unwrap_or_default(),
                                amount,
                            })
                        })
                        .filter(|c| !c.grn.is_empty())
                        .collect();
                    let detail = serde_json::json!({ "by": "officer", "reason": reason });
                    release(
                        &schemas,
                        &mut tx,
                        &mut m,
                        &declaration,
                        &recipient,
                        None,
                        &covers,
                        detail,
                    )
                    .await?;
                }
                DecisionKind::NoRelease => {
                    let code = body
                        .code
                        .as_deref()
                        .filter(|c| c.len() == 2 && c.chars().all(|x| x.is_ascii_alphanumeric()))
                        .ok_or_else(|| {
                            ApiError::field(
                                ErrorCode::InvalidField,
                                "/code",
                                "no-release needs the motivation code (CL211, 2 characters)",
                            )
                        })?;
                    let s =
                        next(state_of(&m)?, Event::Refuse).map_err(|e| invalid_transition(&e))?;
                    let mrn = mrn_of(&m)?;
                    let d = departure_data(&declaration, m.row());
                    let h = outbound(&tx, m.row(), &recipient, None);
                    let submitted = m.row().created_at.naive_utc();
                    let xml = generate::cc051c(
                        &h,
                        &d,
                        &mrn,
                        submitted,
                        code,
                        reason.unwrap_or("no release for transit"),
                    );
                    let id = append_out(&mut tx, &m, MessageType::CC051C, &h, xml).await?;
                    tx.transition(
                        &mut m,
                        s.name(),
                        "no_release",
                        None,
                        Some(&id),
                        Some(&serde_json::json!({ "code": code, "reason": reason })),
                    )
                    .await?;
                }
                DecisionKind::Invalidate => {
                    invalidate(
                        &mut tx,
                        &mut m,
                        &declaration,
                        &recipient,
                        None,
                        None,
                        reason,
                    )
                    .await?;
                }
                DecisionKind::ControlResults => {}
            }
        }
    }
    let row = m.row().clone();
    tx.commit().await?;
    Ok(row)
}
