//! The one place where errors become HTTP: a table of stable error codes, each with its status
//! and title, rendered as RFC 9457 `application/problem+json`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use portorium_store::StoreError;
use portorium_trust::TrustError;
use serde::Serialize;

/// Stable error codes. Clients may match on `code`; the wording of `detail` may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    MalformedBody,
    UnknownField,
    MissingField,
    InvalidField,
    InvalidQuery,
    InvalidPath,
    UnsupportedMediaType,
    PayloadTooLarge,
    Unauthenticated,
    InvalidCredential,
    WrongCircle,
    Forbidden,
    CsrfFailed,
    NotFound,
    RouteNotFound,
    MethodNotAllowed,
    Conflict,
    IdempotencyKeyInUse,
    TooManyRequests,
    IdempotencyKeyMismatch,
    InvalidIdempotencyKey,
    Internal,
    Unavailable,
    BusinessRuleViolation,
    InvalidTransition,
    QuotaUnavailable,
    InvalidImport,
    SchemaValidation,
    MessageTypeNotAllowed,
    DuplicateMessageIdentification,
    SchemasUnavailable,
}

/// The table: code, HTTP status, title.
pub const ERROR_TABLE: &[(ErrorCode, u16, &str)] = &[
    (
        ErrorCode::MalformedBody,
        400,
        "The request body is not valid JSON of the expected shape",
    ),
    (
        ErrorCode::UnknownField,
        400,
        "The request body has a field this operation does not accept",
    ),
    (ErrorCode::MissingField, 400, "A required field is missing"),
    (ErrorCode::InvalidField, 400, "A field has an invalid value"),
    (ErrorCode::InvalidQuery, 400, "A query parameter is invalid"),
    (ErrorCode::InvalidPath, 400, "A path parameter is invalid"),
    (
        ErrorCode::UnsupportedMediaType,
        415,
        "Unsupported media type",
    ),
    (
        ErrorCode::PayloadTooLarge,
        413,
        "The request body is too large",
    ),
    (
        ErrorCode::Unauthenticated,
        401,
        "Authentication is required",
    ),
    (
        ErrorCode::InvalidCredential,
        401,
        "The credential is invalid, expired or revoked",
    ),
    (
        ErrorCode::WrongCircle,
        403,
        "The credential belongs to another circle of trust",
    ),
    (ErrorCode::Forbidden, 403, "Not permitted"),
    (ErrorCode::CsrfFailed, 403, "Missing or invalid CSRF token"),
    (ErrorCode::NotFound, 404, "Not found"),
    (
        ErrorCode::RouteNotFound,
        404,
        "No such route on this gateway",
    ),
    (ErrorCode::MethodNotAllowed, 405, "Method not allowed"),
    (ErrorCode::Conflict, 409, "Conflict with the current state"),
    (
        ErrorCode::TooManyRequests,
        429,
        "Too many attempts; try again later",
    ),
    (
        ErrorCode::IdempotencyKeyInUse,
        409,
        "A request with this Idempotency-Key is still in progress",
    ),
    (
        ErrorCode::IdempotencyKeyMismatch,
        422,
        "This Idempotency-Key was used with a different request",
    ),
    (
        ErrorCode::InvalidIdempotencyKey,
        400,
        "The Idempotency-Key header is invalid",
    ),
    (ErrorCode::Internal, 500, "Internal error"),
    (ErrorCode::Unavailable, 503, "Service unavailable"),
    (
        ErrorCode::BusinessRuleViolation,
        422,
        "The change violates a business rule",
    ),
    (
        ErrorCode::InvalidTransition,
        409,
        "The operation is not allowed in the current state",
    ),
    (
        ErrorCode::QuotaUnavailable,
        409,
        "The quota cannot be drawn now",
    ),
    (
        ErrorCode::InvalidImport,
        422,
        "The imported data is invalid; nothing was changed",
    ),
    (
        ErrorCode::SchemaValidation,
        400,
        "The message does not validate against its schema",
    ),
    (
        ErrorCode::MessageTypeNotAllowed,
        400,
        "This message type is not accepted by this endpoint",
    ),
    (
        ErrorCode::DuplicateMessageIdentification,
        409,
        "The message identification was already used with a different content (NCTS error 26)",
    ),
    (
        ErrorCode::SchemasUnavailable,
        503,
        "The message schemas are not available on this server",
    ),
];

impl ErrorCode {
    fn entry(self) -> (u16, &'static str) {
        ERROR_TABLE
            .iter()
            .find(|(c, _, _)| *c == self)
            .map(|(_, s, t)| (*s, *t))
            .unwrap_or((500, "Internal error"))
    }
    pub fn status(self) -> StatusCode {
        StatusCode::from_u16(self.entry().0).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
    pub fn title(self) -> &'static str {
        self.entry().1
    }
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// One offending field.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON pointer (RFC 6901) to the field in the body, or `query:NAME` / `path:NAME`.
    pub pointer: String,
    pub detail: String,
}

/// An RFC 9457 problem.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: ErrorCode,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// The error type of every handler.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: String,
    pub errors: Vec<FieldError>,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }
    pub fn field(code: ErrorCode, pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        Self {
            code,
            detail: detail.clone(),
            errors: vec![FieldError {
                pointer: pointer.into(),
                detail,
            }],
        }
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, what)
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, detail)
    }
    pub fn problem(&self) -> Problem {
        Problem {
            type_: format!("urn:portorium:problem:{}", self.code.as_str()),
            title: self.code.title().to_owned(),
            status: self.code.status().as_u16(),
            detail: self.detail.clone(),
            code: self.code,
            errors: self.errors.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut resp = (status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::NotFound { .. } => ApiError::new(ErrorCode::NotFound, e.to_string()),
            StoreError::Conflict { .. } => ApiError::new(ErrorCode::Conflict, e.to_string()),
            StoreError::OutOfScope(_) => ApiError::new(ErrorCode::Forbidden, e.to_string()),
            StoreError::InvalidState(_) => {
                ApiError::new(ErrorCode::InvalidTransition, e.to_string())
            }
            StoreError::Invalid(_) | StoreError::Kernel(_) => {
                ApiError::new(ErrorCode::InvalidField, e.to_string())
            }
            _ => {
                tracing::error!(error = %e, "store error");
                ApiError::new(ErrorCode::Internal, "internal error; see the server log")
            }
        }
    }
}

impl From<TrustError> for ApiError {
    fn from(e: TrustError) -> Self {
        ApiError::new(ErrorCode::InvalidCredential, e.to_string())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
