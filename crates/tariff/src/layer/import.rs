//! [`prepare_import`]: files of any supported format (recognised from their content) into
//! one list of [`Change`]s, ready for one all-or-nothing store import.
//!
//! Shared by `portorium tariff import`, the administration API and the demo. Pure: files
//! are given as bytes; schema validation of TARIC3 envelopes is a caller-supplied function
//! (the caller owns the XSD and its loading).

use std::collections::HashMap;

use super::{changes_from_envelope, changes_from_nomenclature, Change};
use crate::nomenclature::{self, NomenclatureFormat};
use crate::taric3;

/// One file to import: a name for messages (a path or an upload name) and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct ImportFile<'a> {
    /// Shown in errors.
    pub name: &'a str,
    /// The file's content.
    pub bytes: &'a [u8],
}

/// What the files hold, converted.
#[derive(Debug, Clone, Default)]
pub struct PreparedImport {
    /// Every change of every file, in file order.
    pub changes: Vec<Change>,
    /// The formats recognised, e.g. `["taric3"]`, `["cn2026"]`.
    pub formats: Vec<&'static str>,
}

impl PreparedImport {
    /// The formats joined with `+` (as stored in the import history).
    pub fn format(&self) -> String {
        self.formats.join("+")
    }
}

/// Why files cannot be imported. Nothing has been written when this is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// No file was given.
    #[error("no file to import")]
    Empty,
    /// The content is none of the supported formats.
    #[error("{file}: format not recognised (expected a TARIC3 envelope, the HS 2022 CSV or a CN 2026 JSON file)")]
    UnknownFormat {
        /// The file.
        file: String,
    },
    /// A TARIC3 envelope is not valid against the schema.
    #[error("{file}: not valid against taric3.xsd ({count} problems); first: {first}")]
    Schema {
        /// The file.
        file: String,
        /// How many violations.
        count: usize,
        /// The first violation (line, element, reason).
        first: String,
    },
    /// A file could not be parsed or breaks a record rule; `reason` names the record.
    #[error("{file}: {reason}")]
    Invalid {
        /// The file.
        file: String,
        /// What is wrong, with the record and element where known.
        reason: String,
    },
    /// A multi-file format is incomplete (e.g. four of the five CN 2026 files).
    #[error("{0}")]
    Incomplete(String),
}

/// Schema validation of a TARIC3 envelope: `Err(violations)` (each readable, the first
/// one reported) when the envelope is invalid.
pub type Taric3Validator<'v> = &'v dyn Fn(&[u8]) -> Result<(), Vec<String>>;

/// Reads every file (format from content), validates TARIC3 envelopes with `validate`
/// when given, checks TARIC record sequencing, and converts everything into changes. The
/// five CN 2026 JSON files must come together; the HS 2022 CSV may come with its sections
/// CSV.
pub fn prepare_import(
    files: &[ImportFile<'_>],
    validate: Option<Taric3Validator<'_>>,
) -> Result<PreparedImport, ImportError> {
    if files.is_empty() {
        return Err(ImportError::Empty);
    }
    let mut out = PreparedImport::default();
    let mut nomenclature_files: HashMap<NomenclatureFormat, (String, String)> = HashMap::new();
    for f in files {
        let invalid = |reason: String| ImportError::Invalid {
            file: f.name.to_owned(),
            reason,
        };
        if taric3::looks_like_taric3(f.bytes) {
            if let Some(validate) = validate {
                if let Err(violations) = validate(f.bytes) {
                    return Err(ImportError::Schema {
                        file: f.name.to_owned(),
                        count: violations.len(),
                        first: violations.first().cloned().unwrap_or_default(),
                    });
                }
            }
            let env = taric3::parse_envelope(f.bytes).map_err(|e| invalid(e.to_string()))?;
            taric3::check_sequencing(&env).map_err(|e| invalid(e.to_string()))?;
            out.changes
                .extend(changes_from_envelope(&env).map_err(|e| invalid(e.to_string()))?);
            out.formats.push("taric3");
        } else if let Some(kind) = nomenclature::detect(f.bytes) {
            let text =
                String::from_utf8(f.bytes.to_vec()).map_err(|_| invalid("not UTF-8".to_owned()))?;
            nomenclature_files.insert(kind, (f.name.to_owned(), text));
        } else {
            return Err(ImportError::UnknownFormat {
                file: f.name.to_owned(),
            });
        }
    }
    use NomenclatureFormat as F;
    let cn = [
        F::CnSectionsJson,
        F::CnChaptersJson,
        F::CnHeadingsJson,
        F::CnSubheadingsJson,
        F::CnCodesJson,
    ];
    if cn.iter().any(|k| nomenclature_files.contains_key(k)) {
        let get = |k: &F| {
            nomenclature_files
                .get(k)
                .map(|(_, t)| t.as_str())
                .ok_or_else(|| {
                    ImportError::Incomplete(format!(
                        "the CN 2026 import needs all five files (sections, chapters, headings, subheadings, codes); {k:?} is missing"
                    ))
                })
        };
        let items = nomenclature::parse_cn2026(
            get(&cn[0])?,
            get(&cn[1])?,
            get(&cn[2])?,
            get(&cn[3])?,
            get(&cn[4])?,
        )
        .map_err(|e| ImportError::Invalid {
            file: "CN 2026".to_owned(),
            reason: e.to_string(),
        })?;
        out.changes.extend(changes_from_nomenclature(&items));
        out.formats.push("cn2026");
    }
    if let Some((name, csv)) = nomenclature_files.get(&F::Hs2022Csv) {
        let sections = nomenclature_files
            .get(&F::Hs2022SectionsCsv)
            .map(|(_, t)| t.as_str());
        let items =
            nomenclature::parse_hs2022(csv, sections).map_err(|e| ImportError::Invalid {
                file: name.clone(),
                reason: e.to_string(),
            })?;
        out.changes.extend(changes_from_nomenclature(&items));
        out.formats.push("hs2022");
    } else if nomenclature_files.contains_key(&F::Hs2022SectionsCsv) {
        return Err(ImportError::Incomplete(
            "the HS sections CSV was given without hs2022_harmonized-system.csv".to_owned(),
        ));
    }
    Ok(out)
}
