//! Reading TARIC record payloads (field element → text) back, with errors naming the
//! record's kind and key.

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::{LayerError, RecordRef};

/// A record's payload object, with its kind and key for errors.
pub(crate) struct Rec<'a> {
    pub(crate) kind: &'a str,
    pub(crate) key: &'a str,
    obj: &'a Map<String, Value>,
}

impl<'a> Rec<'a> {
    pub(crate) fn new(r: &RecordRef<'a>) -> Result<Self, LayerError> {
        match r.payload {
            Value::Object(obj) => Ok(Self {
                kind: r.kind,
                key: r.key,
                obj,
            }),
            _ => Err(payload_error(r.kind, r.key, "payload is not a JSON object")),
        }
    }

    pub(crate) fn error(&self, reason: impl Into<String>) -> LayerError {
        payload_error(self.kind, self.key, reason)
    }

    pub(crate) fn missing_parent(
        &self,
        parent_kind: &str,
        parent_key: impl ToString,
    ) -> LayerError {
        LayerError::MissingParent {
            kind: self.kind.to_owned(),
            key: self.key.to_owned(),
            parent_kind: parent_kind.to_owned(),
            parent_key: parent_key.to_string(),
        }
    }

    /// A text field, trimmed; `None` when absent, null or blank. Numbers are accepted as
    /// their text.
    pub(crate) fn opt_str(&self, name: &str) -> Result<Option<String>, LayerError> {
        match self.obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(self.error(format!("field `{name}` is not text"))),
        }
    }

    pub(crate) fn str(&self, name: &str) -> Result<String, LayerError> {
        self.opt_str(name)?
            .ok_or_else(|| self.error(format!("field `{name}` is missing")))
    }

    fn parsed<T>(
        &self,
        name: &str,
        what: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, LayerError> {
        match self.opt_str(name)? {
            None => Ok(None),
            Some(s) => parse(&s)
                .map(Some)
                .ok_or_else(|| self.error(format!("field `{name}`: invalid {what} `{s}`"))),
        }
    }

    pub(crate) fn opt_u64(&self, name: &str) -> Result<Option<u64>, LayerError> {
        self.parsed(name, "number", |s| {
            s.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| s.parse().ok())
                .flatten()
        })
    }

    pub(crate) fn u64(&self, name: &str) -> Result<u64, LayerError> {
        self.opt_u64(name)?
            .ok_or_else(|| self.error(format!("field `{name}` is missing")))
    }

    pub(crate) fn u32(&self, name: &str) -> Result<u32, LayerError> {
        let n = self.u64(name)?;
        u32::try_from(n).map_err(|_| self.error(format!("field `{name}`: number {n} too large")))
    }

    pub(crate) fn opt_date(&self, name: &str) -> Result<Option<NaiveDate>, LayerError> {
        self.parsed(name, "date", |s| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
        })
    }

    pub(crate) fn date(&self, name: &str) -> Result<NaiveDate, LayerError> {
        self.opt_date(name)?
            .ok_or_else(|| self.error(format!("field `{name}` is missing")))
    }

    pub(crate) fn opt_decimal(&self, name: &str) -> Result<Option<Decimal>, LayerError> {
        self.parsed(name, "decimal", |s| Decimal::from_str(s).ok())
    }

    pub(crate) fn decimal(&self, name: &str) -> Result<Decimal, LayerError> {
        self.opt_decimal(name)?
            .ok_or_else(|| self.error(format!("field `{name}` is missing")))
    }

    pub(crate) fn opt_bool(&self, name: &str) -> Result<Option<bool>, LayerError> {
        match self.obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.error(format!("field `{name}` is not a boolean"))),
        }
    }
}

pub(crate) fn payload_error(kind: &str, key: &str, reason: impl Into<String>) -> LayerError {
    LayerError::Payload {
        kind: kind.to_owned(),
        key: key.to_owned(),
        reason: reason.into(),
    }
}
