//! The one policy decision point (PDP), written in Cedar.
//!
//! Policies live in `policies/portorium.cedar` and are validated against
//! `policies/portorium.cedarschema` (see [`validate_policies`]). Both are embedded in the
//! binary. Every request is evaluated with exactly two entities (the principal and the
//! resource), so a decision costs tens of microseconds.
//!
//! Default deny; tenant isolation is a `forbid` that no `permit` can override.

use crate::error::TrustError;
use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicyId,
    PolicySet, Request, RestrictedExpression, Schema, ValidationMode, Validator,
};
use portorium_kernel::{PrincipalId, SecurityScope, TenantCode};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

/// The Cedar policies, as embedded.
pub const POLICIES: &str = include_str!("../policies/portorium.cedar");
/// The Cedar schema the policies are validated against, as embedded.
pub const SCHEMA: &str = include_str!("../policies/portorium.cedarschema");

const NAMESPACE: &str = "Portorium";

/// Who is asking: a principal and its roles (officers have roles such as `officer`,
/// `registrar`, `supervisor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The authenticated principal.
    pub id: PrincipalId,
    /// Roles granted to the principal.
    pub roles: Vec<String>,
}

impl Subject {
    /// A subject with the given roles.
    pub fn new(id: PrincipalId, roles: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Subject {
            id,
            roles: roles.into_iter().map(Into::into).collect(),
        }
    }
}

/// Everything a principal can ask to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Create tenants and offices (operators).
    TenantManage,
    /// Read a tenant and its offices: operators any; administration principals their own.
    TenantRead,
    /// Create principals (operators).
    PrincipalManage,
    /// Issue, revoke and list API tokens (operators).
    TokenManage,
    /// Read audit checkpoints, proofs and entries: operators and the LISO any; a NISO its own
    /// administration's.
    AuditRead,
    /// Register a trader in the EORI registry: officers with role `registrar`, own tenant.
    TraderRegister,
    /// Read trader registry records: officers and systems of the registering tenant; a
    /// trader its own record.
    TraderRead,
    /// Send a message to a trader or an agency of the same administration: officers.
    MessageSend,
    /// Read a message: its addressee, or officers of the sending administration.
    MessageRead,
    /// Read one's own principal profile: any principal.
    ProfileRead,
    /// Read an administration's tariff management data (import history, exchange rates,
    /// national measure drafts, quota allocations): administration principals, own tenant.
    TariffRead,
    /// Import into and roll back an administration's tariff layer, set exchange rates:
    /// officers with role `tariff_manager`, own tenant; operators for the common layer.
    TariffManage,
    /// Draft, change or withdraw a national measure: officers with role `tariff_manager`.
    MeasureDraft,
    /// Approve or reject a drafted national measure: officers with role `tariff_approver`
    /// (never the drafter: the store enforces the four-eyes rule).
    MeasureApprove,
    /// Request quota allocations, return unused quantities and record surveillance
    /// quantities: national systems and officers with role `quota_manager`, own tenant.
    QuotaDraw,
    /// Lodge transit messages (CC015C, CC013C, CC014C, CC007C, CC044C): a trader, for its own
    /// movements.
    TransitLodge,
    /// Read transit movements: the trader its own; officers, systems and national security
    /// officers their administration's.
    TransitRead,
    /// Decide on a transit movement (control, release, no release, invalidate, control
    /// results): officers of the administration.
    TransitDecide,
    /// Read the NCTS reference data (customs office list, imports): administration
    /// principals and operators.
    RefdataRead,
    /// Read an administration's authorisations: officers, systems and national security
    /// officers, own tenant.
    AuthorisationRead,
    /// Register and revoke authorisations: officers with role `authorisation_manager`, own
    /// tenant.
    AuthorisationManage,
    /// Read guarantees and their balance: officers, systems and national security officers of
    /// the administration; the holder its own.
    GuaranteeRead,
    /// Register guarantees: officers with role `guarantee_manager`, own tenant.
    GuaranteeManage,
    /// Lodge WCO DMS messages (declaration, amendment, cancellation request) and register the
    /// notification webhook: a trader, as the declarant (own EORI).
    DeclarationLodge,
    /// Read WCO DMS declarations: the declarant its own; officers, systems and national
    /// security officers their administration's.
    DeclarationRead,
    /// Decide on a WCO DMS declaration (control, documents, release, invalidate, control
    /// results, assessment): officers of the administration.
    DeclarationDecide,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 26] = [
        Action::TenantManage,
        Action::TenantRead,
        Action::PrincipalManage,
        Action::TokenManage,
        Action::AuditRead,
        Action::TraderRegister,
        Action::TraderRead,
        Action::MessageSend,
        Action::MessageRead,
        Action::ProfileRead,
        Action::TariffRead,
        Action::TariffManage,
        Action::MeasureDraft,
        Action::MeasureApprove,
        Action::QuotaDraw,
        Action::TransitLodge,
        Action::TransitRead,
        Action::TransitDecide,
        Action::RefdataRead,
        Action::AuthorisationRead,
        Action::AuthorisationManage,
        Action::GuaranteeRead,
        Action::GuaranteeManage,
        Action::DeclarationLodge,
        Action::DeclarationRead,
        Action::DeclarationDecide,
    ];

    /// The action's name, which is also its Cedar action id (e.g. `tenant.manage`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::TenantManage => "tenant.manage",
            Action::TenantRead => "tenant.read",
            Action::PrincipalManage => "principal.manage",
            Action::TokenManage => "token.manage",
            Action::AuditRead => "audit.read",
            Action::TraderRegister => "trader.register",
            Action::TraderRead => "trader.read",
            Action::MessageSend => "message.send",
            Action::MessageRead => "message.read",
            Action::ProfileRead => "profile.read",
            Action::TariffRead => "tariff.read",
            Action::TariffManage => "tariff.manage",
            Action::MeasureDraft => "measure.draft",
            Action::MeasureApprove => "measure.approve",
            Action::QuotaDraw => "quota.draw",
            Action::TransitLodge => "transit.lodge",
            Action::TransitRead => "transit.read",
            Action::TransitDecide => "transit.decide",
            Action::RefdataRead => "refdata.read",
            Action::AuthorisationRead => "authorisation.read",
            Action::AuthorisationManage => "authorisation.manage",
            Action::GuaranteeRead => "guarantee.read",
            Action::GuaranteeManage => "guarantee.manage",
            Action::DeclarationLodge => "declaration.lodge",
            Action::DeclarationRead => "declaration.read",
            Action::DeclarationDecide => "declaration.decide",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = TrustError;
    fn from_str(s: &str) -> Result<Self, TrustError> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                TrustError::Policy(format!("unknown action {:?}", crate::error::clip(s)))
            })
    }
}

/// The kinds of resource policies talk about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// A customs administration.
    Tenant,
    /// A customs office of an administration.
    Office,
    /// A principal record (for creation and administration).
    Principal,
    /// An API token.
    Token,
    /// An audit log (checkpoints, proofs, entries).
    AuditLog,
    /// An EORI registry record.
    TraderRecord,
    /// A message to a trader or agency.
    Message,
    /// A principal's own profile.
    Profile,
    /// An administration's tariff (tenant: the administration; none: the common layer).
    Tariff,
    /// A national measure (draft or approved) of an administration.
    NationalMeasure,
    /// A tariff quota order number as drawn by an administration.
    Quota,
    /// A transit movement (departure or arrival) of an administration, held by a trader.
    Movement,
    /// NCTS reference data (common to every administration).
    RefData,
    /// An authorisation (C521, C505…) registered by an administration, held by a trader.
    Authorisation,
    /// A guarantee (GRN) registered by an administration, held by a trader.
    Guarantee,
    /// A WCO DMS import or export declaration of an administration, held by its declarant.
    Declaration,
}

impl ResourceKind {
    /// Every resource kind.
    pub const ALL: [ResourceKind; 16] = [
        ResourceKind::Tenant,
        ResourceKind::Office,
        ResourceKind::Principal,
        ResourceKind::Token,
        ResourceKind::AuditLog,
        ResourceKind::TraderRecord,
        ResourceKind::Message,
        ResourceKind::Profile,
        ResourceKind::Tariff,
        ResourceKind::NationalMeasure,
        ResourceKind::Quota,
        ResourceKind::Movement,
        ResourceKind::RefData,
        ResourceKind::Authorisation,
        ResourceKind::Guarantee,
        ResourceKind::Declaration,
    ];

    /// The Cedar entity type name (without namespace), e.g. `TraderRecord`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Tenant => "Tenant",
            ResourceKind::Office => "Office",
            ResourceKind::Principal => "Principal",
            ResourceKind::Token => "Token",
            ResourceKind::AuditLog => "AuditLog",
            ResourceKind::TraderRecord => "TraderRecord",
            ResourceKind::Message => "Message",
            ResourceKind::Profile => "Profile",
            ResourceKind::Tariff => "Tariff",
            ResourceKind::NationalMeasure => "NationalMeasure",
            ResourceKind::Quota => "Quota",
            ResourceKind::Movement => "Movement",
            ResourceKind::RefData => "RefData",
            ResourceKind::Authorisation => "Authorisation",
            ResourceKind::Guarantee => "Guarantee",
            ResourceKind::Declaration => "Declaration",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is being acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The kind of resource.
    pub kind: ResourceKind,
    /// Its id (for the decision log; policies do not look at it).
    pub id: String,
    /// The owning administration, if any.
    pub tenant: Option<TenantCode>,
    /// The principal it belongs to, if any (e.g. the trader of a registry record or profile).
    pub owner: Option<PrincipalId>,
    /// For messages: the addressee, `trader:EORI` or `agency:TENANT/AGENCY`.
    pub addressee: Option<String>,
}

impl Resource {
    /// A resource with no tenant, owner or addressee.
    pub fn new(kind: ResourceKind, id: impl Into<String>) -> Self {
        Resource {
            kind,
            id: id.into(),
            tenant: None,
            owner: None,
            addressee: None,
        }
    }

    /// Set the owning administration.
    pub fn in_tenant(mut self, tenant: TenantCode) -> Self {
        self.tenant = Some(tenant);
        self
    }

    /// Set the owning principal.
    pub fn owned_by(mut self, owner: PrincipalId) -> Self {
        self.owner = Some(owner);
        self
    }

    /// Set the message addressee (`trader:EORI` or `agency:TENANT/AGENCY`).
    pub fn addressed_to(mut self, addressee: impl Into<String>) -> Self {
        self.addressee = Some(addressee.into());
        self
    }
}

/// The address a principal receives messages as, if any.
pub fn message_address(p: &PrincipalId) -> Option<String> {
    match p {
        PrincipalId::Trader(eori) => Some(format!("trader:{eori}")),
        PrincipalId::Agency { tenant, agency, .. } => Some(format!("agency:{tenant}/{agency}")),
        _ => None,
    }
}

/// Split a message addressee into (kind, tenant) when it is well-formed; `None` otherwise.
fn parse_addressee(addressee: &str) -> Option<(&'static str, String)> {
    if let Some(eori) = addressee.strip_prefix("trader:") {
        let e: portorium_kernel::Eori = eori.parse().ok()?;
        return (e.as_str() == eori).then(|| ("trader", String::new()));
    }
    let rest = addressee.strip_prefix("agency:")?;
    let (tenant, agency) = rest.split_once('/')?;
    let t: TenantCode = tenant.parse().ok()?;
    let _: portorium_kernel::AgencyCode = agency.parse().ok()?;
    Some(("agency", t.as_str().to_owned()))
}

/// The outcome of a policy decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request is allowed.
    pub allowed: bool,
    /// The policy id(s) that decided, `no policy permits`, or an evaluation error.
    pub reason: String,
}

impl Decision {
    fn deny(reason: impl Into<String>) -> Self {
        Decision {
            allowed: false,
            reason: reason.into(),
        }
    }
}

/// The policy decision point: the parsed policy set plus pre-built names.
#[derive(Debug, Clone)]
pub struct Pdp {
    policies: PolicySet,
    authorizer: Authorizer,
    /// Entity type per principal kind, indexed like [`principal_type_index`].
    principal_types: Vec<EntityTypeName>,
    /// Entity type per resource kind, indexed by [`ResourceKind::index`].
    resource_types: Vec<EntityTypeName>,
    /// Action uid per action, indexed by [`Action::index`].
    actions: Vec<EntityUid>,
}

const PRINCIPAL_TYPES: [&str; 6] = [
    "Trader",
    "Officer",
    "AgencyUser",
    "System",
    "SecurityOfficer",
    "Operator",
];

fn principal_type_index(p: &PrincipalId) -> usize {
    match p {
        PrincipalId::Trader(_) => 0,
        PrincipalId::Officer { .. } => 1,
        PrincipalId::Agency { .. } => 2,
        PrincipalId::System { .. } => 3,
        PrincipalId::Security { .. } => 4,
        PrincipalId::Operator { .. } => 5,
    }
}

fn type_name(name: &str) -> Result<EntityTypeName, TrustError> {
    EntityTypeName::from_str(&format!("{NAMESPACE}::{name}"))
        .map_err(|e| TrustError::Policy(format!("entity type {name}: {e}")))
}

/// Parse the embedded policies, naming each policy by its `@id` annotation.
fn load_policies() -> Result<PolicySet, TrustError> {
    let parsed = PolicySet::from_str(POLICIES).map_err(|e| TrustError::Policy(e.to_string()))?;
    let mut named = PolicySet::new();
    for p in parsed.policies() {
        let id = p
            .annotation("id")
            .ok_or_else(|| TrustError::Policy(format!("policy {} has no @id", p.id())))?;
        named
            .add(p.new_id(PolicyId::new(id)))
            .map_err(|e| TrustError::Policy(e.to_string()))?;
    }
    Ok(named)
}

/// Check that the embedded policies validate (strict mode) against the embedded schema.
pub fn validate_policies() -> Result<(), TrustError> {
    let (schema, _warnings) =
        Schema::from_cedarschema_str(SCHEMA).map_err(|e| TrustError::Policy(e.to_string()))?;
    let policies = load_policies()?;
    let result = Validator::new(schema).validate(&policies, ValidationMode::Strict);
    if result.validation_passed() {
        Ok(())
    } else {
        let errors: Vec<String> = result.validation_errors().map(|e| e.to_string()).collect();
        Err(TrustError::Policy(errors.join("; ")))
    }
}

fn s(v: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(v.to_owned())
}

impl Pdp {
    /// Parse the embedded policies once.
    pub fn new() -> Result<Self, TrustError> {
        let policies = load_policies()?;
        let principal_types = PRINCIPAL_TYPES
            .iter()
            .map(|n| type_name(n))
            .collect::<Result<Vec<_>, _>>()?;
        let resource_types = ResourceKind::ALL
            .iter()
            .map(|k| type_name(k.as_str()))
            .collect::<Result<Vec<_>, _>>()?;
        let action_type = type_name("Action")?;
        let actions = Action::ALL
            .iter()
            .map(|a| {
                EntityUid::from_type_name_and_id(action_type.clone(), EntityId::new(a.as_str()))
            })
            .collect();
        Ok(Pdp {
            policies,
            authorizer: Authorizer::new(),
            principal_types,
            resource_types,
            actions,
        })
    }

    /// The ids of all loaded policies.
    pub fn policy_ids(&self) -> Vec<String> {
        self.policies
            .policies()
            .map(|p| p.id().to_string())
            .collect()
    }

    fn principal_entity(&self, subject: &Subject) -> Result<Entity, TrustError> {
        let p = &subject.id;
        let ty = self
            .principal_types
            .get(principal_type_index(p))
            .cloned()
            .ok_or_else(|| TrustError::Policy("principal type table".into()))?;
        let uid = EntityUid::from_type_name_and_id(ty, EntityId::new(p.to_string()));
        let tenant = p.tenant().map(TenantCode::as_str).unwrap_or("");
        let central = matches!(
            p,
            PrincipalId::Security {
                scope: SecurityScope::Central,
                ..
            }
        );
        let agency = match p {
            PrincipalId::Agency { agency, .. } => agency.as_str(),
            _ => "",
        };
        let address = message_address(p).unwrap_or_default();
        let attrs = HashMap::from([
            ("id".to_owned(), s(&p.to_string())),
            ("tenant".to_owned(), s(tenant)),
            (
                "central".to_owned(),
                RestrictedExpression::new_bool(central),
            ),
            (
                "roles".to_owned(),
                RestrictedExpression::new_set(subject.roles.iter().map(|r| s(r))),
            ),
            ("agency".to_owned(), s(agency)),
            ("address".to_owned(), s(&address)),
        ]);
        Entity::new(uid, attrs, HashSet::new()).map_err(|e| TrustError::Policy(e.to_string()))
    }

    fn resource_entity(&self, r: &Resource) -> Result<Entity, TrustError> {
        let ty = self
            .resource_types
            .get(r.kind.index())
            .cloned()
            .ok_or_else(|| TrustError::Policy("resource type table".into()))?;
        let uid = EntityUid::from_type_name_and_id(ty, EntityId::new(&r.id));
        let addressee = r.addressee.as_deref().unwrap_or("");
        let (addressee_kind, addressee_tenant) =
            parse_addressee(addressee).unwrap_or(("", String::new()));
        let attrs = HashMap::from([
            (
                "tenant".to_owned(),
                s(r.tenant.as_ref().map(TenantCode::as_str).unwrap_or("")),
            ),
            (
                "owner".to_owned(),
                s(&r.owner
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()),
            ),
            ("addressee".to_owned(), s(addressee)),
            ("addressee_kind".to_owned(), s(addressee_kind)),
            ("addressee_tenant".to_owned(), s(&addressee_tenant)),
        ]);
        Entity::new(uid, attrs, HashSet::new()).map_err(|e| TrustError::Policy(e.to_string()))
    }

    fn evaluate(
        &self,
        subject: &Subject,
        action: Action,
        resource: &Resource,
    ) -> Result<Decision, TrustError> {
        let principal = self.principal_entity(subject)?;
        let res = self.resource_entity(resource)?;
        let action_uid = self
            .actions
            .get(action.index())
            .cloned()
            .ok_or_else(|| TrustError::Policy("action table".into()))?;
        let request = Request::new(
            principal.uid(),
            action_uid,
            res.uid(),
            Context::empty(),
            None,
        )
        .map_err(|e| TrustError::Policy(e.to_string()))?;
        let entities = Entities::from_entities([principal, res], None)
            .map_err(|e| TrustError::Policy(e.to_string()))?;
        let response = self
            .authorizer
            .is_authorized(&request, &self.policies, &entities);
        let mut ids: Vec<String> = response
            .diagnostics()
            .reason()
            .map(ToString::to_string)
            .collect();
        ids.sort();
        let errors: Vec<String> = response
            .diagnostics()
            .errors()
            .map(ToString::to_string)
            .collect();
        let allowed = response.decision() == cedar_policy::Decision::Allow;
        let mut reason = if allowed {
            format!("permitted by {}", ids.join(", "))
        } else if ids.is_empty() {
            "no policy permits".to_owned()
        } else {
            format!("forbidden by {}", ids.join(", "))
        };
        if !errors.is_empty() {
            reason.push_str("; evaluation errors: ");
            reason.push_str(&errors.join("; "));
        }
        Ok(Decision { allowed, reason })
    }

    /// Decide whether `subject` may perform `action` on `resource`. Any internal failure
    /// denies (with the failure as the reason).
    pub fn decide(&self, subject: &Subject, action: Action, resource: &Resource) -> Decision {
        match self.evaluate(subject, action, resource) {
            Ok(d) => d,
            Err(e) => Decision::deny(format!("denied: {e}")),
        }
    }
}
