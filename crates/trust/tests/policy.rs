//! The policy decision point, exercised as a data-driven matrix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use portorium_kernel::{PrincipalId, TenantCode};
use portorium_trust::policy::{validate_policies, Action, Pdp, Resource, ResourceKind, Subject};
use std::time::Instant;

fn pid(s: &str) -> PrincipalId {
    s.parse().unwrap()
}

fn t(s: &str) -> TenantCode {
    s.parse().unwrap()
}

fn subj(id: &str, roles: &[&str]) -> Subject {
    Subject::new(pid(id), roles.iter().copied())
}

fn res(kind: ResourceKind, tenant: Option<&str>) -> Resource {
    let mut r = Resource::new(kind, "r1");
    if let Some(tn) = tenant {
        r = r.in_tenant(t(tn));
    }
    r
}

fn msg(tenant: &str, addressee: &str) -> Resource {
    Resource::new(ResourceKind::Message, "m1")
        .in_tenant(t(tenant))
        .addressed_to(addressee)
}

fn record(tenant: &str, eori: &str) -> Resource {
    Resource::new(ResourceKind::TraderRecord, eori)
        .in_tenant(t(tenant))
        .owned_by(pid(&format!("trader:{eori}")))
}

fn declaration(tenant: &str, declarant: &str) -> Resource {
    Resource::new(ResourceKind::Declaration, "d1")
        .in_tenant(t(tenant))
        .owned_by(pid(declarant))
}

fn profile(owner: &str) -> Resource {
    Resource::new(ResourceKind::Profile, owner).owned_by(pid(owner))
}

/// Check every row; report all mismatches at once.
fn check(rows: &[(Subject, Action, Resource, bool)]) {
    let pdp = Pdp::new().unwrap();
    let mut failures = Vec::new();
    for (i, (s, a, r, expected)) in rows.iter().enumerate() {
        let d = pdp.decide(s, *a, r);
        if d.allowed != *expected {
            failures.push(format!(
                "row {i}: {} {a} {:?}(tenant {:?}, owner {:?}, addressee {:?}) expected {expected}, got {} ({})",
                s.id, r.kind, r.tenant, r.owner, r.addressee, d.allowed, d.reason
            ));
        }
        assert!(
            !d.reason.contains("evaluation errors"),
            "row {i}: {}",
            d.reason
        );
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// A representative NL resource for an action.
fn nl_resource_for(a: Action) -> Resource {
    match a {
        Action::TenantManage | Action::TenantRead => res(ResourceKind::Tenant, Some("NL")),
        Action::PrincipalManage => res(ResourceKind::Principal, Some("NL")),
        Action::TokenManage => res(ResourceKind::Token, Some("NL")),
        Action::AuditRead => res(ResourceKind::AuditLog, Some("NL")),
        Action::TraderRegister | Action::TraderRead => record("NL", "NL000000001"),
        Action::MessageSend | Action::MessageRead => msg("NL", "trader:NL000000001"),
        Action::ProfileRead => res(ResourceKind::Profile, Some("NL")),
        Action::TariffRead | Action::TariffManage => res(ResourceKind::Tariff, Some("NL")),
        Action::MeasureDraft | Action::MeasureApprove => {
            res(ResourceKind::NationalMeasure, Some("NL"))
        }
        Action::QuotaDraw => res(ResourceKind::Quota, Some("NL")),
        Action::RefdataRead => res(ResourceKind::RefData, None),
        Action::AuthorisationRead | Action::AuthorisationManage => {
            res(ResourceKind::Authorisation, Some("NL"))
        }
        Action::GuaranteeRead | Action::GuaranteeManage => res(ResourceKind::Guarantee, Some("NL")),
        Action::TransitLodge | Action::TransitRead | Action::TransitDecide => {
            res(ResourceKind::Movement, Some("NL")).owned_by(pid("trader:NL000000001"))
        }
        Action::DeclarationLodge | Action::DeclarationRead | Action::DeclarationDecide => {
            declaration("NL", "trader:NL000000001")
        }
    }
}

fn de_resource_for(a: Action) -> Resource {
    match a {
        Action::TraderRegister | Action::TraderRead => record("DE", "DE000000001"),
        Action::MessageSend | Action::MessageRead => msg("DE", "trader:DE000000001"),
        Action::ProfileRead => profile("officer:NL/jdevries").in_tenant(t("DE")),
        other => {
            let mut r = nl_resource_for(other);
            r.tenant = Some(t("DE"));
            r
        }
    }
}

#[test]
fn policies_validate_against_schema() {
    validate_policies().unwrap();
}

#[test]
fn every_policy_has_an_id() {
    let pdp = Pdp::new().unwrap();
    let ids = pdp.policy_ids();
    assert!(ids.contains(&"tenant-isolation".to_owned()), "{ids:?}");
    assert!(ids.iter().all(|i| !i.starts_with("policy")), "{ids:?}");
}

#[test]
fn action_names_round_trip() {
    for a in Action::ALL {
        assert_eq!(a.as_str().parse::<Action>().unwrap(), a);
    }
    assert!("nope".parse::<Action>().is_err());
}

#[test]
fn cross_tenant_officer_denied_for_every_action() {
    let all_roles = [
        "officer",
        "registrar",
        "supervisor",
        "tariff_manager",
        "tariff_approver",
        "quota_manager",
    ];
    let mut rows = Vec::new();
    for a in Action::ALL {
        for who in [
            "officer:NL/jdevries",
            "system:NL/ncts-nl",
            "agency:NL/NVWA/pbakker",
            "security:NL/niso",
        ] {
            rows.push((subj(who, &all_roles), a, de_resource_for(a), false));
        }
    }
    check(&rows);
}

#[test]
fn trader_own_versus_other() {
    let me = || subj("trader:NL000000001", &[]);
    check(&[
        (me(), Action::TraderRead, record("NL", "NL000000001"), true),
        (me(), Action::TraderRead, record("DE", "NL000000001"), true),
        (me(), Action::TraderRead, record("NL", "NL000000002"), false),
        (
            me(),
            Action::MessageRead,
            msg("NL", "trader:NL000000001"),
            true,
        ),
        // A trader receives messages from any administration.
        (
            me(),
            Action::MessageRead,
            msg("DE", "trader:NL000000001"),
            true,
        ),
        (
            me(),
            Action::MessageRead,
            msg("NL", "trader:NL000000002"),
            false,
        ),
        (
            me(),
            Action::MessageRead,
            msg("NL", "agency:NL/NVWA"),
            false,
        ),
        (
            me(),
            Action::MessageRead,
            Resource::new(ResourceKind::Message, "m"),
            false,
        ),
        (
            me(),
            Action::ProfileRead,
            profile("trader:NL000000001"),
            true,
        ),
        (
            me(),
            Action::ProfileRead,
            profile("trader:NL000000002"),
            false,
        ),
        (
            me(),
            Action::MessageSend,
            msg("NL", "trader:NL000000001"),
            false,
        ),
        (
            me(),
            Action::TraderRegister,
            record("NL", "NL000000001"),
            false,
        ),
        (
            me(),
            Action::TenantRead,
            res(ResourceKind::Tenant, Some("NL")),
            false,
        ),
        (
            me(),
            Action::AuditRead,
            res(ResourceKind::AuditLog, Some("NL")),
            false,
        ),
        (
            me(),
            Action::TokenManage,
            res(ResourceKind::Token, None),
            false,
        ),
        // Owner match is on the record kind: a message owned by the trader is not enough.
        (
            me(),
            Action::MessageRead,
            Resource::new(ResourceKind::Message, "m").owned_by(pid("trader:NL000000001")),
            false,
        ),
    ]);
}

#[test]
fn agency_own_versus_other_agency_versus_other_tenant() {
    let nvwa = || subj("agency:NL/NVWA/pbakker", &[]);
    check(&[
        (
            nvwa(),
            Action::MessageRead,
            msg("NL", "agency:NL/NVWA"),
            true,
        ),
        (
            nvwa(),
            Action::MessageRead,
            msg("NL", "agency:NL/ILT"),
            false,
        ),
        (
            nvwa(),
            Action::MessageRead,
            msg("DE", "agency:NL/NVWA"),
            false,
        ),
        (
            nvwa(),
            Action::MessageRead,
            msg("DE", "agency:DE/NVWA"),
            false,
        ),
        (
            nvwa(),
            Action::MessageRead,
            msg("NL", "trader:NL000000001"),
            false,
        ),
        (
            nvwa(),
            Action::MessageSend,
            msg("NL", "agency:NL/NVWA"),
            false,
        ),
        (
            nvwa(),
            Action::TenantRead,
            res(ResourceKind::Tenant, Some("NL")),
            true,
        ),
        (
            nvwa(),
            Action::TenantRead,
            res(ResourceKind::Office, Some("NL")),
            true,
        ),
        (
            nvwa(),
            Action::TenantRead,
            res(ResourceKind::Tenant, Some("DE")),
            false,
        ),
        (
            nvwa(),
            Action::TraderRead,
            record("NL", "NL000000001"),
            false,
        ),
        (
            nvwa(),
            Action::ProfileRead,
            profile("agency:NL/NVWA/pbakker"),
            true,
        ),
        (
            nvwa(),
            Action::ProfileRead,
            profile("agency:NL/NVWA/other"),
            false,
        ),
        (
            nvwa(),
            Action::AuditRead,
            res(ResourceKind::AuditLog, Some("NL")),
            false,
        ),
    ]);
}

#[test]
fn niso_versus_liso_audit_read() {
    let niso = || subj("security:NL/niso", &[]);
    let liso = || subj("security:central/lmartin", &[]);
    let audit = |tn: Option<&str>| res(ResourceKind::AuditLog, tn);
    check(&[
        (niso(), Action::AuditRead, audit(Some("NL")), true),
        (niso(), Action::AuditRead, audit(Some("DE")), false),
        (niso(), Action::AuditRead, audit(None), false),
        (liso(), Action::AuditRead, audit(Some("NL")), true),
        (liso(), Action::AuditRead, audit(Some("DE")), true),
        (liso(), Action::AuditRead, audit(None), true),
        (
            niso(),
            Action::TenantRead,
            res(ResourceKind::Tenant, Some("NL")),
            true,
        ),
        (
            liso(),
            Action::TenantManage,
            res(ResourceKind::Tenant, Some("NL")),
            false,
        ),
        (
            liso(),
            Action::TokenManage,
            res(ResourceKind::Token, None),
            false,
        ),
        (
            niso(),
            Action::TraderRead,
            record("NL", "NL000000001"),
            false,
        ),
        (
            niso(),
            Action::MessageRead,
            msg("NL", "trader:NL000000001"),
            false,
        ),
        // The audit permit is for audit logs only.
        (
            liso(),
            Action::AuditRead,
            res(ResourceKind::Token, None),
            false,
        ),
    ]);
}

#[test]
fn operator_manages_officer_cannot_issue_tokens() {
    let op = || subj("operator:admin", &[]);
    let officer = || {
        subj(
            "officer:NL/jdevries",
            &["officer", "registrar", "supervisor"],
        )
    };
    check(&[
        (
            op(),
            Action::TenantManage,
            res(ResourceKind::Tenant, None),
            true,
        ),
        (
            op(),
            Action::TenantManage,
            res(ResourceKind::Office, Some("NL")),
            true,
        ),
        (
            op(),
            Action::TenantRead,
            res(ResourceKind::Tenant, Some("DE")),
            true,
        ),
        (
            op(),
            Action::PrincipalManage,
            res(ResourceKind::Principal, Some("NL")),
            true,
        ),
        (
            op(),
            Action::TokenManage,
            res(ResourceKind::Token, None),
            true,
        ),
        (
            op(),
            Action::TokenManage,
            res(ResourceKind::Token, Some("NL")),
            true,
        ),
        (
            op(),
            Action::AuditRead,
            res(ResourceKind::AuditLog, Some("DE")),
            true,
        ),
        (op(), Action::ProfileRead, profile("operator:admin"), true),
        // Operators run the platform; they do not act as customs.
        (
            op(),
            Action::TraderRegister,
            record("NL", "NL000000001"),
            false,
        ),
        (op(), Action::TraderRead, record("NL", "NL000000001"), false),
        (
            op(),
            Action::MessageSend,
            msg("NL", "trader:NL000000001"),
            false,
        ),
        (
            op(),
            Action::MessageRead,
            msg("NL", "trader:NL000000001"),
            false,
        ),
        (
            officer(),
            Action::TokenManage,
            res(ResourceKind::Token, Some("NL")),
            false,
        ),
        (
            officer(),
            Action::TokenManage,
            res(ResourceKind::Token, None),
            false,
        ),
        (
            officer(),
            Action::TenantManage,
            res(ResourceKind::Tenant, Some("NL")),
            false,
        ),
        (
            officer(),
            Action::PrincipalManage,
            res(ResourceKind::Principal, Some("NL")),
            false,
        ),
        (
            officer(),
            Action::AuditRead,
            res(ResourceKind::AuditLog, Some("NL")),
            false,
        ),
        (
            officer(),
            Action::TenantRead,
            res(ResourceKind::Tenant, Some("NL")),
            true,
        ),
        (
            officer(),
            Action::ProfileRead,
            profile("officer:NL/jdevries"),
            true,
        ),
        (
            officer(),
            Action::ProfileRead,
            profile("officer:NL/other"),
            false,
        ),
    ]);
}

#[test]
fn registrar_role_needed_for_trader_register() {
    check(&[
        (
            subj("officer:NL/reg", &["registrar"]),
            Action::TraderRegister,
            record("NL", "NL000000009"),
            true,
        ),
        (
            subj("officer:NL/reg", &["officer", "registrar"]),
            Action::TraderRegister,
            record("NL", "NL000000009"),
            true,
        ),
        (
            subj("officer:NL/plain", &["officer"]),
            Action::TraderRegister,
            record("NL", "NL000000009"),
            false,
        ),
        (
            subj("officer:NL/none", &[]),
            Action::TraderRegister,
            record("NL", "NL000000009"),
            false,
        ),
        (
            subj("officer:NL/reg", &["registrar"]),
            Action::TraderRegister,
            record("DE", "DE000000009"),
            false,
        ),
        (
            subj("officer:NL/reg", &["registrar"]),
            Action::TraderRegister,
            res(ResourceKind::TraderRecord, None),
            false,
        ),
        (
            subj("system:NL/ncts-nl", &["registrar"]),
            Action::TraderRegister,
            record("NL", "NL000000009"),
            false,
        ),
        (
            subj("agency:NL/NVWA/x", &["registrar"]),
            Action::TraderRegister,
            record("NL", "NL000000009"),
            false,
        ),
        // Role names are exact.
        (
            subj("officer:NL/reg", &["Registrar"]),
            Action::TraderRegister,
            record("NL", "NL000000009"),
            false,
        ),
    ]);
}

#[test]
fn officer_and_system_registry_and_messages() {
    let off = || subj("officer:NL/jdevries", &["officer"]);
    let sys = || subj("system:NL/ncts-nl", &[]);
    check(&[
        (off(), Action::TraderRead, record("NL", "DE000000001"), true),
        (sys(), Action::TraderRead, record("NL", "NL000000001"), true),
        (
            sys(),
            Action::TraderRead,
            record("DE", "NL000000001"),
            false,
        ),
        (
            off(),
            Action::TraderRead,
            res(ResourceKind::TraderRecord, None),
            false,
        ),
        (
            off(),
            Action::MessageSend,
            msg("NL", "trader:DE000000001"),
            true,
        ),
        (
            off(),
            Action::MessageSend,
            msg("NL", "agency:NL/NVWA"),
            true,
        ),
        (
            off(),
            Action::MessageSend,
            msg("NL", "agency:DE/BLE"),
            false,
        ),
        (off(), Action::MessageSend, msg("NL", "garbage"), false),
        (off(), Action::MessageSend, msg("NL", "trader:nl1"), false),
        (
            off(),
            Action::MessageSend,
            res(ResourceKind::Message, Some("NL")),
            false,
        ),
        (
            off(),
            Action::MessageSend,
            res(ResourceKind::Message, None).addressed_to("trader:NL000000001"),
            false,
        ),
        (
            off(),
            Action::MessageRead,
            msg("NL", "agency:NL/NVWA"),
            true,
        ),
        (
            off(),
            Action::MessageRead,
            msg("DE", "trader:NL000000001"),
            false,
        ),
        (
            sys(),
            Action::MessageSend,
            msg("NL", "trader:NL000000001"),
            false,
        ),
        (
            sys(),
            Action::MessageRead,
            msg("NL", "trader:NL000000001"),
            false,
        ),
        // Wrong resource kind for the action: denied.
        (
            off(),
            Action::TraderRead,
            res(ResourceKind::Tenant, Some("NL")),
            false,
        ),
        (
            off(),
            Action::MessageRead,
            record("NL", "NL000000001"),
            false,
        ),
    ]);
}

#[test]
fn decision_reasons_name_policies() {
    let pdp = Pdp::new().unwrap();
    let d = pdp.decide(
        &subj("operator:admin", &[]),
        Action::TokenManage,
        &res(ResourceKind::Token, None),
    );
    assert!(d.allowed);
    assert_eq!(d.reason, "permitted by operator-administration");
    let d = pdp.decide(
        &subj("officer:NL/x", &[]),
        Action::TokenManage,
        &res(ResourceKind::Token, None),
    );
    assert!(!d.allowed);
    assert_eq!(d.reason, "no policy permits");
    let d = pdp.decide(
        &subj("officer:NL/x", &["registrar"]),
        Action::TraderRead,
        &record("DE", "DE000000001"),
    );
    assert!(!d.allowed);
    assert_eq!(d.reason, "forbidden by tenant-isolation");
    // Even where a permit matches the kind (NISO audit read), isolation wins and is reported.
    let d = pdp.decide(
        &subj("security:NL/niso", &[]),
        Action::AuditRead,
        &res(ResourceKind::AuditLog, Some("DE")),
    );
    assert!(!d.allowed);
    assert_eq!(d.reason, "forbidden by tenant-isolation");
}

#[test]
fn decisions_are_fast() {
    let pdp = Pdp::new().unwrap();
    let s = subj("officer:NL/jdevries", &["officer", "registrar"]);
    let r = record("NL", "NL000000001");
    let n = 2000;
    let start = Instant::now();
    for _ in 0..n {
        assert!(pdp.decide(&s, Action::TraderRegister, &r).allowed);
    }
    let per = start.elapsed() / n;
    // Generous bound for unoptimised debug builds on a slow CI machine.
    assert!(per.as_micros() < 2_000, "{per:?} per decision");
    eprintln!("decision: {per:?}");
}

#[test]
fn tariff_management_by_role() {
    let tariff = || res(ResourceKind::Tariff, Some("NL"));
    let measure = || res(ResourceKind::NationalMeasure, Some("NL"));
    let quota = || res(ResourceKind::Quota, Some("NL"));
    let manager = || subj("officer:NL/jdevries", &["officer", "tariff_manager"]);
    let approver = || subj("officer:NL/avandijk", &["officer", "tariff_approver"]);
    let plain = || subj("officer:NL/clerk", &["officer"]);
    let system = || subj("system:NL/ncts-nl", &["system"]);
    let agency = || subj("agency:NL/NVWA/pbakker", &["agency"]);
    let trader = || subj("trader:NL000000001", &[]);
    let operator = || subj("operator:admin", &["operator"]);
    check(&[
        (manager(), Action::TariffManage, tariff(), true),
        (manager(), Action::MeasureDraft, measure(), true),
        (manager(), Action::MeasureApprove, measure(), false),
        (approver(), Action::MeasureApprove, measure(), true),
        (approver(), Action::MeasureDraft, measure(), false),
        (approver(), Action::TariffManage, tariff(), false),
        (plain(), Action::TariffRead, tariff(), true),
        (plain(), Action::TariffRead, measure(), true),
        (plain(), Action::TariffManage, tariff(), false),
        (plain(), Action::QuotaDraw, quota(), false),
        (
            subj("officer:NL/q", &["officer", "quota_manager"]),
            Action::QuotaDraw,
            quota(),
            true,
        ),
        (system(), Action::QuotaDraw, quota(), true),
        (system(), Action::TariffManage, tariff(), false),
        (agency(), Action::TariffRead, tariff(), false),
        (trader(), Action::TariffRead, tariff(), false),
        (trader(), Action::QuotaDraw, quota(), false),
        // The common layer: operators only.
        (
            operator(),
            Action::TariffManage,
            res(ResourceKind::Tariff, None),
            true,
        ),
        (operator(), Action::TariffManage, tariff(), false),
        (
            manager(),
            Action::TariffManage,
            res(ResourceKind::Tariff, None),
            false,
        ),
    ]);
}

#[test]
fn declarations_like_transit() {
    let nl = || declaration("NL", "trader:NL000000001");
    let de = || declaration("DE", "trader:NL000000001");
    let declarant = || subj("trader:NL000000001", &[]);
    let other_trader = || subj("trader:NL000000002", &[]);
    let officer = || subj("officer:NL/jdevries", &["officer"]);
    let de_officer = || subj("officer:DE/mmueller", &["officer"]);
    let system = || subj("system:NL/ncts-nl", &["system"]);
    let niso = || subj("security:NL/niso", &["security"]);
    let agency = || subj("agency:NL/NVWA/pbakker", &["agency"]);
    let operator = || subj("operator:admin", &["operator"]);
    check(&[
        // The declarant lodges and reads its own, in whatever administration.
        (declarant(), Action::DeclarationLodge, nl(), true),
        (declarant(), Action::DeclarationLodge, de(), true),
        (declarant(), Action::DeclarationRead, nl(), true),
        (declarant(), Action::DeclarationDecide, nl(), false),
        (other_trader(), Action::DeclarationLodge, nl(), false),
        (other_trader(), Action::DeclarationRead, nl(), false),
        // The owning administration reads; its officers decide.
        (officer(), Action::DeclarationRead, nl(), true),
        (officer(), Action::DeclarationDecide, nl(), true),
        (officer(), Action::DeclarationLodge, nl(), false),
        (
            subj("officer:NL/clerk", &["registrar"]),
            Action::DeclarationDecide,
            nl(),
            false,
        ),
        (system(), Action::DeclarationRead, nl(), true),
        (system(), Action::DeclarationDecide, nl(), false),
        (niso(), Action::DeclarationRead, nl(), true),
        (niso(), Action::DeclarationDecide, nl(), false),
        (agency(), Action::DeclarationRead, nl(), false),
        (operator(), Action::DeclarationRead, nl(), false),
        // Another administration's declaration: neither read nor decided.
        (de_officer(), Action::DeclarationRead, nl(), false),
        (de_officer(), Action::DeclarationDecide, nl(), false),
        (officer(), Action::DeclarationRead, de(), false),
        (system(), Action::DeclarationRead, de(), false),
    ]);
}
