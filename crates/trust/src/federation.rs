//! Bearer JWTs from external identity providers.
//!
//! This is how traders sign in with national credentials (as with the EU UUM&DS): the
//! provider issues a signed JWT, we verify it against the provider's JWKS and map one claim to
//! a local [`PrincipalId`]. Fetching the JWKS (file or URL) is the caller's job; this module
//! only parses and verifies.
//!
//! Verification is strict: the provider is selected by the (unverified) `iss`, the key by the
//! header `kid` (or the provider's only key when there is no `kid`), the algorithm must be an
//! asymmetric one the key allows (never `none`, never HMAC), and `exp`/`nbf` are checked
//! against the `now` the caller passes in, with [`LEEWAY_SECONDS`] of clock skew.

use crate::error::{clip, TrustError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use portorium_kernel::{PrincipalId, PrincipalKind};
use serde_json::{Map, Value};

/// Allowed clock skew for `exp` and `nbf`, in seconds.
pub const LEEWAY_SECONDS: i64 = 60;

/// Longest JWT accepted, in bytes.
pub const MAX_JWT_LEN: usize = 16 * 1024;

/// Most roles taken from a token's roles claim.
const MAX_ROLES: usize = 64;

/// How one external identity provider is trusted (read from the server configuration).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Must equal the token's `iss`.
    pub issuer: String,
    /// When set, the token's `aud` (string or array) must contain it.
    pub audience: Option<String>,
    /// Path of the provider's JWKS document (read by the caller).
    pub jwks_file: Option<String>,
    /// URL of the provider's JWKS document (fetched by the caller).
    pub jwks_url: Option<String>,
    /// The kind of principal this provider vouches for (normally `trader`).
    pub kind: PrincipalKind,
    /// The claim holding the local id, e.g. `eori` for traders, or `sub`.
    pub id_claim: String,
    /// Optional prefix prepended to the claim value (e.g. `NL/` for officers).
    #[serde(default)]
    pub id_prefix: Option<String>,
    /// Optional claim holding roles: an array of strings or a space-separated string.
    #[serde(default)]
    pub roles_claim: Option<String>,
}

/// One usable verification key from a JWKS.
#[derive(Clone)]
struct ProviderKey {
    kid: Option<String>,
    algorithms: Vec<Algorithm>,
    key: DecodingKey,
}

/// A configured identity provider with its parsed verification keys.
#[derive(Clone)]
pub struct IdentityProvider {
    config: ProviderConfig,
    keys: Vec<ProviderKey>,
}

impl std::fmt::Debug for IdentityProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityProvider")
            .field("config", &self.config)
            .field(
                "kids",
                &self
                    .keys
                    .iter()
                    .map(|k| k.kid.as_deref())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The asymmetric algorithms a JWK may be used with, or `None` when the key is not usable
/// for verifying signatures here (symmetric keys, unsupported curves).
fn key_algorithms(jwk: &Jwk) -> Option<Vec<Algorithm>> {
    let family: Vec<Algorithm> = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => vec![
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        AlgorithmParameters::EllipticCurve(p) => match p.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => return None,
        },
        AlgorithmParameters::OctetKeyPair(p) => match p.curve {
            EllipticCurve::Ed25519 => vec![Algorithm::EdDSA],
            _ => return None,
        },
        // Symmetric keys are never accepted from a JWKS.
        AlgorithmParameters::OctetKey(_) => return None,
    };
    match jwk.common.key_algorithm {
        None => Some(family),
        Some(ka) => {
            let alg = match ka {
                KeyAlgorithm::ES256 => Algorithm::ES256,
                KeyAlgorithm::ES384 => Algorithm::ES384,
                KeyAlgorithm::RS256 => Algorithm::RS256,
                KeyAlgorithm::RS384 => Algorithm::RS384,
                KeyAlgorithm::RS512 => Algorithm::RS512,
                KeyAlgorithm::PS256 => Algorithm::PS256,
                KeyAlgorithm::PS384 => Algorithm::PS384,
                KeyAlgorithm::PS512 => Algorithm::PS512,
                KeyAlgorithm::EdDSA => Algorithm::EdDSA,
                _ => return None,
            };
            family.contains(&alg).then(|| vec![alg])
        }
    }
}

fn is_signing_key(jwk: &Jwk) -> bool {
    let use_ok = !matches!(
        jwk.common.public_key_use,
        Some(PublicKeyUse::Encryption) | Some(PublicKeyUse::Other(_))
    );
    let ops_ok = match &jwk.common.key_operations {
        None => true,
        Some(ops) => ops.iter().any(|o| matches!(o, KeyOperations::Verify)),
    };
    use_ok && ops_ok
}

impl IdentityProvider {
    /// Parse the provider's JWKS document and check the configuration.
    ///
    /// Keys that cannot verify signatures here (encryption keys, symmetric `oct` keys,
    /// unsupported curves or algorithms) are skipped; it is an error if none remain, if a
    /// supported key's material is invalid, or if two usable keys share a `kid`.
    pub fn new(config: ProviderConfig, jwks_json: &str) -> Result<Self, TrustError> {
        if config.issuer.trim().is_empty() {
            return Err(TrustError::Config("issuer is empty".into()));
        }
        if config.id_claim.trim().is_empty() {
            return Err(TrustError::Config("id_claim is empty".into()));
        }
        if matches!(&config.audience, Some(a) if a.is_empty()) {
            return Err(TrustError::Config("audience is empty".into()));
        }
        let doc: Value =
            serde_json::from_str(jwks_json).map_err(|e| TrustError::Jwks(e.to_string()))?;
        let raw_keys = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| TrustError::Jwks("document has no \"keys\" array".into()))?;
        let mut keys: Vec<ProviderKey> = Vec::new();
        for raw in raw_keys {
            // Key types jsonwebtoken cannot represent are skipped, not fatal: real JWKS
            // documents often carry keys for other purposes.
            let Ok(jwk) = serde_json::from_value::<Jwk>(raw.clone()) else {
                continue;
            };
            if !is_signing_key(&jwk) {
                continue;
            }
            let Some(algorithms) = key_algorithms(&jwk) else {
                continue;
            };
            let key = DecodingKey::from_jwk(&jwk).map_err(|e| {
                TrustError::Jwks(format!(
                    "key {:?}: {e}",
                    jwk.common.key_id.as_deref().unwrap_or("(no kid)")
                ))
            })?;
            let kid = jwk.common.key_id.clone();
            if kid.is_some() && keys.iter().any(|k| k.kid == kid) {
                return Err(TrustError::Jwks(format!("duplicate kid {kid:?}")));
            }
            keys.push(ProviderKey {
                kid,
                algorithms,
                key,
            });
        }
        if keys.is_empty() {
            return Err(TrustError::Jwks(format!(
                "no usable signature verification key for issuer {:?}",
                config.issuer
            )));
        }
        Ok(IdentityProvider { config, keys })
    }

    /// The issuer this provider is selected by.
    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// The provider's configuration.
    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    /// Number of usable verification keys.
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    fn select_key(&self, kid: Option<&str>) -> Result<&ProviderKey, TrustError> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid))
                .ok_or_else(|| TrustError::UnknownKey(clip(kid))),
            None => match self.keys.as_slice() {
                [only] => Ok(only),
                _ => Err(TrustError::UnknownKey(
                    "(token has no kid and the provider has several keys)".into(),
                )),
            },
        }
    }
}

/// The identity established by a verified federated JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedIdentity {
    /// The local principal the token maps to.
    pub principal: PrincipalId,
    /// Roles from the provider's roles claim (empty when none configured or present).
    pub roles: Vec<String>,
    /// The issuer that vouched for the principal.
    pub issuer: String,
    /// When the token expires (its `exp`); a session must not outlive it.
    pub expires_at: DateTime<Utc>,
}

/// All trusted identity providers.
#[derive(Debug, Clone, Default)]
pub struct Federation {
    providers: Vec<IdentityProvider>,
}

/// The parts of the JOSE header we look at, read before any verification.
struct RawHeader {
    alg: String,
    kid: Option<String>,
}

fn b64_json(part: &str, what: &str) -> Result<Map<String, Value>, TrustError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TrustError::InvalidToken(format!("{what} is not base64url")))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(TrustError::InvalidToken(format!(
            "{what} is not a JSON object"
        ))),
    }
}

fn parse_header(part: &str) -> Result<RawHeader, TrustError> {
    let h = b64_json(part, "header")?;
    if h.contains_key("crit") {
        return Err(TrustError::InvalidToken(
            "critical header extensions are not supported".into(),
        ));
    }
    let alg = match h.get("alg") {
        Some(Value::String(a)) => a.clone(),
        _ => return Err(TrustError::InvalidToken("header has no alg".into())),
    };
    let kid = match h.get("kid") {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => {
            return Err(TrustError::InvalidToken(
                "header kid is not a string".into(),
            ))
        }
    };
    Ok(RawHeader { alg, kid })
}

/// Parse the header `alg`, accepting only asymmetric algorithms.
fn accepted_algorithm(alg: &str) -> Result<Algorithm, TrustError> {
    let a = match alg {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        other => return Err(TrustError::UnsupportedAlgorithm(clip(other))),
    };
    Ok(a)
}

/// A NumericDate claim (seconds since the epoch; fractions are truncated).
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, TrustError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                Ok(Some(i))
            } else {
                match n.as_f64() {
                    Some(f) if f.is_finite() && f.abs() < 1e15 => Ok(Some(f.trunc() as i64)),
                    _ => Err(TrustError::claim_invalid(name, "not a valid NumericDate")),
                }
            }
        }
        Some(_) => Err(TrustError::claim_invalid(name, "not a number")),
    }
}

fn valid_role(r: &str) -> bool {
    !r.is_empty() && r.len() <= 64 && r.chars().all(|c| c.is_ascii_graphic())
}

fn roles_from(claims: &Map<String, Value>, claim: &str) -> Result<Vec<String>, TrustError> {
    let roles: Vec<String> = match claims.get(claim) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| TrustError::claim_invalid(claim, "roles must be strings"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(TrustError::claim_invalid(
                claim,
                "must be an array of strings or a space-separated string",
            ))
        }
    };
    if roles.len() > MAX_ROLES {
        return Err(TrustError::claim_invalid(claim, "too many roles"));
    }
    if let Some(bad) = roles.iter().find(|r| !valid_role(r)) {
        return Err(TrustError::claim_invalid(
            claim,
            format!("invalid role {:?}", clip(bad)),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(roles.len());
    for r in roles {
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(out)
}

fn audience_matches(aud: &Value, expected: &str) -> Result<bool, TrustError> {
    match aud {
        Value::String(s) => Ok(s == expected),
        Value::Array(items) => Ok(items.iter().any(|v| v.as_str() == Some(expected))),
        _ => Err(TrustError::claim_invalid(
            "aud",
            "must be a string or an array of strings",
        )),
    }
}

fn map_jwt_error(e: jsonwebtoken::errors::Error) -> TrustError {
    match e.kind() {
        ErrorKind::InvalidSignature | ErrorKind::Crypto(_) | ErrorKind::Base64(_) => {
            TrustError::BadSignature
        }
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::MissingAlgorithm => TrustError::UnsupportedAlgorithm(e.to_string()),
        ErrorKind::InvalidEcdsaKey | ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidKeyFormat => {
            TrustError::Jwks(e.to_string())
        }
        _ => TrustError::InvalidToken(e.to_string()),
    }
}

impl Federation {
    /// Trust these providers. When two share an issuer, the first one wins.
    pub fn new(providers: Vec<IdentityProvider>) -> Self {
        Federation { providers }
    }

    /// Is no provider configured (federated login disabled)?
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// The issuers of all configured providers.
    pub fn issuers(&self) -> impl Iterator<Item = &str> {
        self.providers.iter().map(IdentityProvider::issuer)
    }

    /// The provider for an issuer, if configured.
    pub fn provider(&self, issuer: &str) -> Option<&IdentityProvider> {
        self.providers.iter().find(|p| p.config.issuer == issuer)
    }

    /// Verify a bearer JWT and map it to a local principal.
    ///
    /// Steps, each failing with its own [`TrustError`] variant:
    /// 1. structure (three base64url JSON parts) — [`TrustError::InvalidToken`];
    /// 2. header `alg` must be RS*/PS*/ES256/ES384/EdDSA — [`TrustError::UnsupportedAlgorithm`];
    /// 3. provider by the unverified `iss` — [`TrustError::UnknownIssuer`];
    /// 4. key by header `kid` (or the only key) — [`TrustError::UnknownKey`];
    ///    the key must allow `alg` — [`TrustError::UnsupportedAlgorithm`];
    /// 5. signature — [`TrustError::BadSignature`];
    /// 6. `exp` (required) and `nbf` against `now` ± [`LEEWAY_SECONDS`] —
    ///    [`TrustError::Expired`] / [`TrustError::NotYetValid`];
    /// 7. `aud` when configured — [`TrustError::WrongAudience`];
    /// 8. the id claim (with `id_prefix`) parsed as a principal of the configured kind —
    ///    [`TrustError::ClaimMissing`] / [`TrustError::ClaimInvalid`].
    pub fn authenticate(
        &self,
        jwt: &str,
        now: DateTime<Utc>,
    ) -> Result<FederatedIdentity, TrustError> {
        let jwt = jwt.trim();
        if jwt.len() > MAX_JWT_LEN {
            return Err(TrustError::InvalidToken("token too long".into()));
        }
        let parts: Vec<&str> = jwt.split('.').collect();
        let [header_b64, payload_b64, _sig] = parts.as_slice() else {
            return Err(TrustError::InvalidToken(
                "a JWT has three dot-separated parts".into(),
            ));
        };
        let header = parse_header(header_b64)?;
        let alg = accepted_algorithm(&header.alg)?;

        // Select the provider by the issuer the token claims; the signature check below
        // proves the claim.
        let unverified = b64_json(payload_b64, "payload")?;
        let iss = match unverified.get("iss") {
            None | Some(Value::Null) => return Err(TrustError::claim_missing("iss")),
            Some(Value::String(s)) => s.as_str(),
            Some(_) => return Err(TrustError::claim_invalid("iss", "not a string")),
        };
        let provider = self
            .provider(iss)
            .ok_or_else(|| TrustError::UnknownIssuer(clip(iss)))?;
        let key = provider.select_key(header.kid.as_deref())?;
        if !key.algorithms.contains(&alg) {
            return Err(TrustError::UnsupportedAlgorithm(format!(
                "{} is not allowed for this key",
                header.alg
            )));
        }

        let mut validation = Validation::new(alg);
        // Claims are checked below against the caller's `now`; jsonwebtoken must never read
        // the system clock or apply its own defaults.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        validation.iss = None;
        validation.sub = None;
        let data = jsonwebtoken::decode::<Map<String, Value>>(jwt, &key.key, &validation)
            .map_err(map_jwt_error)?;
        let claims = data.claims;
        let config = &provider.config;

        if claims.get("iss").and_then(Value::as_str) != Some(config.issuer.as_str()) {
            // Cannot differ from the unverified payload, but never rely on that silently.
            return Err(TrustError::UnknownIssuer(clip(iss)));
        }

        let now_s = now.timestamp();
        let exp = numeric_date(&claims, "exp")?.ok_or_else(|| TrustError::claim_missing("exp"))?;
        if now_s > exp.saturating_add(LEEWAY_SECONDS) {
            return Err(TrustError::Expired);
        }
        if let Some(nbf) = numeric_date(&claims, "nbf")? {
            if now_s.saturating_add(LEEWAY_SECONDS) < nbf {
                return Err(TrustError::NotYetValid);
            }
        }
        let expires_at = DateTime::<Utc>::from_timestamp(exp, 0)
            .ok_or_else(|| TrustError::claim_invalid("exp", "out of range"))?;

        if let Some(expected) = &config.audience {
            let aud = claims
                .get("aud")
                .ok_or_else(|| TrustError::claim_missing("aud"))?;
            if !audience_matches(aud, expected)? {
                return Err(TrustError::WrongAudience);
            }
        }

        let claim = config.id_claim.as_str();
        let raw_id = match claims.get(claim) {
            None | Some(Value::Null) => return Err(TrustError::claim_missing(claim)),
            Some(Value::String(s)) => s.as_str(),
            Some(_) => return Err(TrustError::claim_invalid(claim, "not a string")),
        };
        let local = match &config.id_prefix {
            Some(p) => format!("{p}{raw_id}"),
            None => raw_id.to_owned(),
        };
        let principal = PrincipalId::from_parts(config.kind, &local)
            .map_err(|e| TrustError::claim_invalid(claim, e.to_string()))?;

        let roles = match &config.roles_claim {
            Some(rc) => roles_from(&claims, rc)?,
            None => Vec::new(),
        };

        Ok(FederatedIdentity {
            principal,
            roles,
            issuer: config.issuer.clone(),
            expires_at,
        })
    }
}
