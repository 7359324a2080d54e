//! Request extractors that turn every kind of bad input into a problem with the offending
//! field's path, plus the shared pagination types.

use crate::error::{ApiError, ErrorCode};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts};
use base64::Engine;
use portorium_store::Page;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A JSON body. Unknown fields, missing fields and bad values become 400 problems that name
/// the field by JSON pointer.
pub struct ApiJson<T>(pub T);

fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut p = String::new();
    for seg in path.iter() {
        p.push('/');
        match seg {
            Segment::Seq { index } => p.push_str(&index.to_string()),
            Segment::Map { key } => p.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => p.push_str(variant),
            Segment::Unknown => p.push('?'),
        }
    }
    p
}

fn backticked(msg: &str) -> Option<&str> {
    let start = msg.find('`')? + 1;
    let end = start + msg[start..].find('`')?;
    Some(&msg[start..end])
}

/// Map a serde_json error at `path` to a problem.
pub fn json_problem(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let mut pointer = pointer_of(err.path());
    let inner = err.inner();
    let msg = inner.to_string();
    let clean = match msg.find(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.clone(),
    };
    use serde_json::error::Category;
    let code = match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => ErrorCode::MalformedBody,
        Category::Data if msg.starts_with("unknown field") => {
            // serde_path_to_error's path already ends at the unknown field.
            if let Some(f) = backticked(&msg) {
                if !pointer.ends_with(&format!("/{f}")) {
                    pointer = format!("{pointer}/{f}");
                }
            }
            ErrorCode::UnknownField
        }
        Category::Data if msg.starts_with("missing field") => {
            if let Some(f) = backticked(&msg) {
                pointer = format!("{pointer}/{f}");
            }
            ErrorCode::MissingField
        }
        Category::Data => ErrorCode::InvalidField,
    };
    if pointer.is_empty() {
        pointer = "/".into();
    }
    ApiError::field(code, pointer, clean)
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !(ct.starts_with("application/json") || ct.contains("+json")) {
            return Err(ApiError::field(
                ErrorCode::UnsupportedMediaType,
                "header:Content-Type",
                "send the body as application/json",
            ));
        }
        let bytes = axum::body::to_bytes(req.into_body(), 16 * 1024 * 1024)
            .await
            .map_err(|_| ApiError::new(ErrorCode::PayloadTooLarge, "body too large"))?;
        // The success path deserializes without path tracking (it costs on every request);
        // only a body that fails is parsed again with `serde_path_to_error` for the field's
        // pointer. Neither calls `Deserializer::end`, so both accept the same bodies, and the
        // second run fails the same way as the first.
        if let Ok(value) = T::deserialize(&mut serde_json::Deserializer::from_slice(&bytes)) {
            return Ok(ApiJson(value));
        }
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(de).map_err(json_problem)?;
        Ok(ApiJson(value))
    }
}

/// Query parameters; a bad one is a 400 naming `query:NAME`.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let q = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(q));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let name = e.path().to_string();
                let msg = e.inner().to_string();
                let name = if name == "." {
                    backticked(&msg).unwrap_or("?").to_owned()
                } else {
                    name
                };
                ApiError::field(ErrorCode::InvalidQuery, format!("query:{name}"), msg)
            })
    }
}

fn form_urlencoded_parse(q: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(q.as_bytes())
}

/// Path parameters; a bad one is a 400 naming `path:NAME`.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, s)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e| ApiError::field(ErrorCode::InvalidPath, "path", e.body_text()))
    }
}

/// `?limit=&cursor=` on every list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Items per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn page(&self) -> Result<Page, ApiError> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=Page::MAX).contains(&limit) {
            return Err(ApiError::field(
                ErrorCode::InvalidQuery,
                "query:limit",
                "must be 1 to 500",
            ));
        }
        let after = match &self.cursor {
            None => None,
            Some(c) => Some(
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| {
                        ApiError::field(
                            ErrorCode::InvalidQuery,
                            "query:cursor",
                            "not a cursor from this API",
                        )
                    })?,
            ),
        };
        Ok(Page { limit, after })
    }
}

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> Paged<T> {
    pub fn from((items, next): (Vec<T>, Option<String>)) -> Self {
        Paged {
            items,
            next_cursor: next
                .map(|n| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(n.as_bytes())),
        }
    }
}

/// Parse a path parameter with its kernel type; a bad value is a 400 naming `path:NAME`.
pub fn path_param<T>(name: &str, value: &str) -> Result<T, ApiError>
where
    T: std::str::FromStr<Err = portorium_kernel::KernelError>,
{
    value.parse().map_err(|e: portorium_kernel::KernelError| {
        ApiError::field(
            ErrorCode::InvalidPath,
            format!("path:{name}"),
            e.to_string(),
        )
    })
}
