//! Shared application state and the authenticated caller.

use crate::error::{ApiError, ErrorCode};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use metrics_exporter_prometheus::PrometheusHandle;
use portorium_kernel::{Circle, Clock};
use portorium_store::{AuditLog, PrincipalRow, Scope, Store, VerifiedToken};
use portorium_trust::{Action, Federation, Pdp, Resource, Subject};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Server settings that handlers and middleware need.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Mark session cookies `Secure` (turn off only for plain-HTTP local use).
    pub cookie_secure: bool,
    pub session_ttl: Duration,
    /// How long a verified API token is cached before the database is asked again.
    /// Revocation through the operations API takes effect at once in this process.
    pub token_cache_ttl: Duration,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Largest body of a tariff import (`POST …/imports`), in bytes.
    pub import_body_limit: usize,
    /// taric3.xsd, to validate TARIC3 envelopes imported through the API (without it they
    /// are checked structurally by the parser only).
    pub taric3_xsd: Option<std::path::PathBuf>,
    /// The transit service: NCTS XSD directory (and the loaded schemas), configured lanes.
    pub transit: crate::transit::TransitSettings,
    /// The WCO DMS service: schema directory (schemas loaded on first use) and lanes.
    pub dms: crate::dms::DmsSettings,
    /// Accept DMS notification webhooks on loopback, link-local, private, unspecified or
    /// multicast addresses (default false: only public http(s) destinations; tests turn it
    /// on for their local listener). Checked at registration and before every delivery.
    pub allow_private_webhooks: bool,
}

impl ServerConfig {
    /// The body limit of a route (by its template): the routes in
    /// [`crate::routes::IMPORT_ROUTES`] take larger bodies.
    pub fn body_limit_for(&self, route: &str) -> usize {
        if crate::routes::IMPORT_ROUTES.contains(&route) {
            self.import_body_limit.max(self.body_limit)
        } else {
            self.body_limit
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            cookie_secure: true,
            session_ttl: Duration::from_secs(8 * 3600),
            token_cache_ttl: Duration::from_secs(5),
            body_limit: 1024 * 1024,
            import_body_limit: 256 * 1024 * 1024,
            taric3_xsd: None,
            transit: crate::transit::TransitSettings::default(),
            dms: crate::dms::DmsSettings::default(),
            allow_private_webhooks: false,
        }
    }
}

/// Verified tokens by hash, with the instant they were verified.
#[derive(Default)]
pub struct TokenCache {
    map: RwLock<HashMap<String, (VerifiedToken, Instant)>>,
}

impl TokenCache {
    pub fn get(&self, hash: &str, ttl: Duration) -> Option<VerifiedToken> {
        let map = self.map.read().ok()?;
        let (t, at) = map.get(hash)?;
        (at.elapsed() < ttl).then(|| t.clone())
    }
    pub fn put(&self, hash: String, token: VerifiedToken) {
        if let Ok(mut map) = self.map.write() {
            if map.len() > 100_000 {
                map.clear();
            }
            map.insert(hash, (token, Instant::now()));
        }
    }
    pub fn forget_token(&self, token_id: &str) {
        if let Ok(mut map) = self.map.write() {
            map.retain(|_, (t, _)| t.token_id != token_id);
        }
    }
}

/// Memoised policy decisions. The policy set is compiled into the binary and cannot change
/// while the process runs, and a decision depends only on the subject (id and roles), the
/// action and the resource's attributes, which together form the key.
#[derive(Default)]
pub struct DecisionCache {
    map: RwLock<HashMap<String, bool>>,
}

impl DecisionCache {
    fn key(subject: &Subject, action: Action, r: &Resource) -> String {
        format!(
            "{}|{}|{}|{}|{}|{:?}|{:?}|{:?}",
            subject.id,
            subject.roles.join(","),
            action.as_str(),
            r.kind.as_str(),
            r.id,
            r.tenant.as_ref().map(|t| t.as_str()),
            r.owner.as_ref().map(|o| o.to_string()),
            r.addressee
        )
    }
}

/// Failed portal logins per principal id. After [`LoginThrottle::MAX_FAILURES`] failures within
/// [`LoginThrottle::WINDOW`], logins for that principal are refused for
/// [`LoginThrottle::LOCKOUT`] without checking the password.
#[derive(Default)]
pub struct LoginThrottle {
    map: std::sync::Mutex<HashMap<String, Attempts>>,
}

/// Failures so far, when the window started, and the end of a lockout.
type Attempts = (u32, Instant, Option<Instant>);

impl LoginThrottle {
    pub const MAX_FAILURES: u32 = 5;
    pub const WINDOW: Duration = Duration::from_secs(15 * 60);
    pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);

    /// Time left in a lockout, if the principal is locked out.
    pub fn locked(&self, principal: &str) -> Option<Duration> {
        let map = self.map.lock().ok()?;
        let (_, _, until) = map.get(principal)?;
        until.and_then(|u| u.checked_duration_since(Instant::now()))
    }

    pub fn failed(&self, principal: &str) {
        let Ok(mut map) = self.map.lock() else { return };
        if map.len() > 100_000 {
            map.retain(|_, (_, first, until)| {
                first.elapsed() < Self::WINDOW || until.is_some_and(|u| u > Instant::now())
            });
        }
        let now = Instant::now();
        let e = map.entry(principal.to_owned()).or_insert((0, now, None));
        if e.0 == 0 || now.duration_since(e.1) > Self::WINDOW || e.2.is_some_and(|u| u <= now) {
            *e = (0, now, None);
        }
        e.0 += 1;
        if e.0 >= Self::MAX_FAILURES {
            e.2 = Some(now + Self::LOCKOUT);
        }
    }

    pub fn succeeded(&self, principal: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(principal);
        }
    }
}

pub struct Inner {
    pub store: Store,
    pub audit: AuditLog,
    pub pdp: Pdp,
    pub federation: Federation,
    pub metrics: Option<PrometheusHandle>,
    pub config: ServerConfig,
    pub tokens: TokenCache,
    pub decisions: DecisionCache,
    pub logins: LoginThrottle,
    /// Each administration's built tariff.
    pub tariffs: crate::tariff::TariffCache,
}

/// Everything a handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn clock(&self) -> &Arc<dyn Clock> {
        self.store.clock()
    }

    /// Ask the policy decision point; a refusal is a 403 (and is audited by the middleware).
    pub fn authorize(
        &self,
        caller: &Caller,
        action: Action,
        resource: &Resource,
    ) -> Result<(), ApiError> {
        let subject = caller.subject();
        let key = DecisionCache::key(&subject, action, resource);
        let cached = self
            .decisions
            .map
            .read()
            .ok()
            .and_then(|m| m.get(&key).copied());
        let allowed = match cached {
            Some(a) => a,
            None => {
                let a = self.pdp.decide(&subject, action, resource).allowed;
                if let Ok(mut m) = self.decisions.map.write() {
                    if m.len() > 100_000 {
                        m.clear();
                    }
                    m.insert(key, a);
                }
                a
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "{} may not {} on {} {}",
                caller.principal.id,
                action.as_str(),
                resource.kind.as_str(),
                resource.id
            )))
        }
    }
}

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    Token,
    FederatedJwt,
    Session,
}

/// An authenticated caller, set by the authentication middleware.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: PrincipalRow,
    pub circle: Circle,
    pub via: AuthMethod,
    /// The session's CSRF token (portal sessions only).
    pub csrf: Option<String>,
}

impl Caller {
    pub fn subject(&self) -> Subject {
        Subject::new(
            self.principal.id.clone(),
            self.principal.roles.iter().cloned(),
        )
    }
    pub fn scope(&self) -> Scope {
        Scope::of(&self.principal.id)
    }
}

/// Request extension: `None` for anonymous requests.
#[derive(Debug, Clone)]
pub struct Authn(pub Option<Caller>);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        match parts.extensions.get::<Authn>() {
            Some(Authn(Some(c))) => Ok(c.clone()),
            _ => Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "send `Authorization: Bearer <token>` or log in",
            )),
        }
    }
}

/// The caller if authenticated, else `None` (for routes open to anonymous users).
#[derive(Debug, Clone)]
pub struct MaybeCaller(pub Option<Caller>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(MaybeCaller(
            parts.extensions.get::<Authn>().and_then(|a| a.0.clone()),
        ))
    }
}
