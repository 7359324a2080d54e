//! The route table. Each gateway's routes are registered here once, with their method, path
//! and access; the same table builds the router, is checked against the OpenAPI document, and
//! drives the circle-of-trust test matrix.

pub mod customs_declarations;
pub mod declarations_admin;
pub mod declarations_officer;
pub mod national_measures;
pub mod ops;
pub mod quotas;
pub mod shared;
pub mod tariff;
pub mod tariff_admin;
pub mod tariff_browse;
pub mod tariff_search;
pub mod transit;
pub mod transit_officer;

use crate::state::AppState;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use portorium_kernel::Circle;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone reaching the gateway (still refused when a credential of another circle is sent).
    Public,
    /// An authenticated principal of the gateway's circle.
    Authenticated,
}

/// One row of the route table.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub circle: Circle,
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    /// API routes are in the OpenAPI document; portal pages, assets and the docs are not.
    pub api: bool,
}

/// A gateway's router under construction, with its table.
pub struct Table {
    pub circle: Circle,
    pub routes: Vec<RouteSpec>,
    pub router: Router<AppState>,
}

impl Table {
    pub fn new(circle: Circle) -> Self {
        Self {
            circle,
            routes: Vec::new(),
            router: Router::new(),
        }
    }

    fn add(
        mut self,
        method: &'static str,
        path: &'static str,
        access: Access,
        api: bool,
        h: MethodRouter<AppState>,
    ) -> Self {
        self.routes.push(RouteSpec {
            circle: self.circle,
            method,
            path,
            access,
            api,
        });
        self.router = self.router.route(path, h);
        self
    }

    pub fn api(
        self,
        method: &'static str,
        path: &'static str,
        access: Access,
        h: MethodRouter<AppState>,
    ) -> Self {
        self.add(method, path, access, true, h)
    }

    pub fn page(
        self,
        method: &'static str,
        path: &'static str,
        access: Access,
        h: MethodRouter<AppState>,
    ) -> Self {
        self.add(method, path, access, false, h)
    }

    /// Register a group of routes defined elsewhere (e.g. a portal module's pages).
    pub fn with(self, routes: impl FnOnce(Self) -> Self) -> Self {
        routes(self)
    }
}

macro_rules! handler {
    (GET, $h:expr) => {
        on(MethodFilter::GET, $h)
    };
    (POST, $h:expr) => {
        on(MethodFilter::POST, $h)
    };
    (PUT, $h:expr) => {
        on(MethodFilter::PUT, $h)
    };
    (DELETE, $h:expr) => {
        on(MethodFilter::DELETE, $h)
    };
}
#[allow(unused_imports)]
pub(crate) use handler;

use Access::{Authenticated as Auth, Public};

/// POST routes that compute an answer from the body and change nothing (calculators). The
/// audit layer treats them like reads: audited only when refused (401/403).
pub const QUERY_POSTS: &[&str] = &["/api/v1/tariffs/{tenant}/duty-calculations"];

/// Routes that take a tariff file as their body: their limit is
/// [`crate::state::ServerConfig::import_body_limit`] instead of `body_limit`.
pub const IMPORT_ROUTES: &[&str] = &[
    "/api/v1/tariffs/{tenant}/imports",
    "/api/v1/tariff/common/imports",
];

/// Whether a request to this route template changes state.
pub fn changes_state(method: &http::Method, route: &str) -> bool {
    !(matches!(
        *method,
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
    ) || (*method == http::Method::POST && QUERY_POSTS.contains(&route)))
}

pub fn operations() -> Table {
    use ops::*;
    Table::new(Circle::Operations)
        .with(tariff_admin::ops_routes)
        .api("GET", "/health", Public, handler!(GET, health))
        .api("GET", "/ready", Public, handler!(GET, ready))
        .api("GET", "/metrics", Public, handler!(GET, metrics))
        .api(
            "POST",
            "/api/v1/tenants",
            Auth,
            handler!(POST, create_tenant),
        )
        .api("GET", "/api/v1/tenants", Auth, handler!(GET, list_tenants))
        .api(
            "GET",
            "/api/v1/tenants/{code}",
            Auth,
            handler!(GET, get_tenant),
        )
        .api(
            "POST",
            "/api/v1/tenants/{code}/offices",
            Auth,
            handler!(POST, create_office),
        )
        .api(
            "GET",
            "/api/v1/tenants/{code}/offices",
            Auth,
            handler!(GET, list_tenant_offices),
        )
        .api(
            "POST",
            "/api/v1/tenants/{code}/agencies",
            Auth,
            handler!(POST, create_agency),
        )
        .api(
            "POST",
            "/api/v1/principals",
            Auth,
            handler!(POST, create_principal),
        )
        .api(
            "GET",
            "/api/v1/principals",
            Auth,
            handler!(GET, list_principals),
        )
        .api(
            "GET",
            "/api/v1/principals/{id}",
            Auth,
            handler!(GET, get_principal),
        )
        .api("POST", "/api/v1/tokens", Auth, handler!(POST, issue_token))
        .api("GET", "/api/v1/tokens", Auth, handler!(GET, list_tokens))
        .api(
            "POST",
            "/api/v1/tokens/{id}/revoke",
            Auth,
            handler!(POST, revoke_token),
        )
        .api(
            "GET",
            "/api/v1/audit/public-key",
            Auth,
            handler!(GET, audit_key),
        )
        .api(
            "GET",
            "/api/v1/audit/checkpoints/latest",
            Auth,
            handler!(GET, latest_checkpoint),
        )
        .api(
            "GET",
            "/api/v1/audit/checkpoints",
            Auth,
            handler!(GET, list_checkpoints),
        )
        .api(
            "POST",
            "/api/v1/audit/checkpoints",
            Auth,
            handler!(POST, sign_checkpoint),
        )
        .api(
            "GET",
            "/api/v1/audit/entries",
            Auth,
            handler!(GET, list_entries),
        )
        .api(
            "GET",
            "/api/v1/audit/entries/{seq}",
            Auth,
            handler!(GET, get_entry),
        )
        .api(
            "GET",
            "/api/v1/audit/proofs/inclusion",
            Auth,
            handler!(GET, inclusion_proof),
        )
        .api(
            "GET",
            "/api/v1/audit/proofs/consistency",
            Auth,
            handler!(GET, consistency_proof),
        )
}

pub fn administration() -> Table {
    use shared::*;
    Table::new(Circle::Administration)
        .with(tariff_browse::admin_routes)
        .with(tariff_search::admin_routes)
        .with(tariff_admin::admin_routes)
        .with(national_measures::admin_routes)
        .with(crate::portal_measures::pages)
        .with(crate::portal_tariff::pages)
        .with(quotas::admin_routes)
        .with(crate::portal_quotas::pages)
        .with(crate::portal_declarations::pages)
        .with(transit_officer::admin_routes)
        .with(declarations_officer::admin_routes)
        .with(declarations_admin::admin_routes)
        .api("GET", "/api/v1/me", Auth, handler!(GET, me))
        .api("GET", "/api/v1/offices", Auth, handler!(GET, list_offices))
        .api(
            "GET",
            "/api/v1/offices/{reference}",
            Auth,
            handler!(GET, get_office),
        )
        .api(
            "POST",
            "/api/v1/traders",
            Auth,
            handler!(POST, register_trader),
        )
        .api("GET", "/api/v1/traders", Auth, handler!(GET, list_traders))
        .api(
            "GET",
            "/api/v1/traders/{eori}",
            Auth,
            handler!(GET, get_trader),
        )
        .api(
            "POST",
            "/api/v1/messages",
            Auth,
            handler!(POST, send_message),
        )
        .api(
            "GET",
            "/api/v1/messages",
            Auth,
            handler!(GET, list_messages),
        )
        .api(
            "GET",
            "/api/v1/messages/{id}",
            Auth,
            handler!(GET, get_message),
        )
        .api(
            "GET",
            "/api/v1/security/audit-entries",
            Auth,
            handler!(GET, security_audit_entries),
        )
        .api(
            "GET",
            "/api/v1/tariffs/{tenant}/commodities/{code}",
            Auth,
            handler!(GET, tariff::commodity),
        )
        .api(
            "POST",
            "/api/v1/tariffs/{tenant}/duty-calculations",
            Auth,
            handler!(POST, tariff::duty_calculation_route),
        )
}

pub fn trader() -> Table {
    use shared::*;
    Table::new(Circle::Trader)
        .with(tariff_browse::public_routes)
        .with(tariff_search::public_routes)
        .with(crate::portal_tariff::pages)
        .with(quotas::public_routes)
        .with(crate::portal_quotas::pages)
        .with(crate::portal_declarations::pages)
        .with(transit::trader_routes)
        .with(customs_declarations::trader_routes)
        .with(declarations_admin::trader_routes)
        .api(
            "GET",
            "/api/v1/public/administrations",
            Public,
            handler!(GET, public_administrations),
        )
        .api(
            "GET",
            "/api/v1/tariffs/{tenant}/commodities/{code}",
            Public,
            handler!(GET, tariff::public_commodity),
        )
        .api(
            "POST",
            "/api/v1/tariffs/{tenant}/duty-calculations",
            Public,
            handler!(POST, tariff::public_duty_calculation),
        )
        .api("GET", "/api/v1/me", Auth, handler!(GET, me))
        .api(
            "GET",
            "/api/v1/traders/{eori}",
            Auth,
            handler!(GET, get_trader),
        )
        .api(
            "GET",
            "/api/v1/messages",
            Auth,
            handler!(GET, list_messages),
        )
        .api(
            "GET",
            "/api/v1/messages/{id}",
            Auth,
            handler!(GET, get_message),
        )
}
