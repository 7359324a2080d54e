//! [`NomenclatureError`].

use super::code::GoodsCodeError;
use super::csv::CsvError;

/// Where in a source a problem is: a CSV line or a JSON array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordRef {
    /// 1-based physical line of a CSV record.
    Line(usize),
    /// 0-based index in a JSON array.
    Index(usize),
    /// The document as a whole.
    Document,
}

impl std::fmt::Display for RecordRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Line(n) => write!(f, "line {n}"),
            Self::Index(i) => write!(f, "record [{i}]"),
            Self::Document => f.write_str("document"),
        }
    }
}

/// A loading or building error. Every variant names the source; record errors name the
/// record and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NomenclatureError {
    /// CSV syntax error.
    #[error("{source_name}: {error}")]
    Csv {
        /// Which input, e.g. `hs2022_harmonized-system.csv`.
        source_name: &'static str,
        /// The syntax error (with its line).
        error: CsvError,
    },
    /// The header row is missing or not the expected one.
    #[error("{source_name}: line 1: bad header: expected `{expected}`, found `{found}`")]
    Header {
        /// Which input.
        source_name: &'static str,
        /// The expected header.
        expected: String,
        /// The header found.
        found: String,
    },
    /// JSON syntax or shape error.
    #[error("{source_name}: {record}{}: {message}", field.as_ref().map(|f| format!(": field `{f}`")).unwrap_or_default())]
    Json {
        /// Which input, e.g. `cnCodes_2026.json`.
        source_name: &'static str,
        /// The array index, when known.
        record: RecordRef,
        /// The field, when known.
        field: Option<String>,
        /// What is wrong (serde's message, with line and column).
        message: String,
    },
    /// A record whose field has a bad value.
    #[error("{source_name}: {record}: field `{field}`: {message}")]
    Record {
        /// Which input.
        source_name: &'static str,
        /// Which record.
        record: RecordRef,
        /// Which field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Two lines share a goods code and suffix with overlapping validity.
    #[error("duplicate line {code:#}")]
    Duplicate {
        /// The duplicated code (with suffix).
        code: super::GoodsCode,
    },
    /// A goods code error outside any record.
    #[error(transparent)]
    Code(#[from] GoodsCodeError),
}

impl NomenclatureError {
    pub(crate) fn record(
        source_name: &'static str,
        record: RecordRef,
        field: &str,
        message: impl Into<String>,
    ) -> Self {
        Self::Record {
            source_name,
            record,
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The record the error points at, if any.
    pub fn record_ref(&self) -> Option<RecordRef> {
        match self {
            Self::Csv { error, .. } => Some(RecordRef::Line(error.line)),
            Self::Header { .. } => Some(RecordRef::Line(1)),
            Self::Json { record, .. } | Self::Record { record, .. } => Some(*record),
            Self::Duplicate { .. } | Self::Code(_) => None,
        }
    }

    /// The field the error points at, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Json { field, .. } => field.as_deref(),
            Self::Record { field, .. } => Some(field),
            _ => None,
        }
    }
}
