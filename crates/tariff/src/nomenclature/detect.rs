//! Recognising nomenclature files from their content.

use serde_json::{Map, Value};

use super::csv::CsvReader;
use super::hs::{HS2022_HEADER, HS2022_SECTIONS_HEADER};

/// A nomenclature file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NomenclatureFormat {
    /// HS 2022 CSV (`section,hscode,description,parent,level`).
    Hs2022Csv,
    /// HS 2022 sections CSV (`section,name`).
    Hs2022SectionsCsv,
    /// `cnSections_*.json`: `code`, `name`, no `chapter`/`section`.
    CnSectionsJson,
    /// `cnChapters_*.json`: has `section`, no `chapter`.
    CnChaptersJson,
    /// `cnHeadings_*.json`: has `chapter`, no `heading`.
    CnHeadingsJson,
    /// `cnSubheadings_*.json`: has `heading`, no `subheading`.
    CnSubheadingsJson,
    /// `cnCodes_*.json`: has `subheading` or `supplementaryUnit`.
    CnCodesJson,
}

/// Recognises a nomenclature file from its bytes (a prefix of the file is enough: the CSV
/// header line, or a JSON array's first object). `None` when unrecognised, including empty
/// JSON arrays (their shape cannot be told).
pub fn detect(bytes: &[u8]) -> Option<NomenclatureFormat> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let bytes = &bytes[start..];
    if bytes.first() == Some(&b'[') {
        return detect_json(bytes);
    }
    // CSV: the first line only.
    let end = bytes
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(bytes.len());
    let first = std::str::from_utf8(&bytes[..end]).ok()?;
    let header = CsvReader::new(first).next()?.ok()?.fields;
    let header: Vec<&str> = header.iter().map(|h| h.trim()).collect();
    if header == HS2022_HEADER {
        Some(NomenclatureFormat::Hs2022Csv)
    } else if header == HS2022_SECTIONS_HEADER {
        Some(NomenclatureFormat::Hs2022SectionsCsv)
    } else {
        None
    }
}

/// The first object of a JSON array: scans to its matching `}` (string-aware) and parses it.
fn first_object(bytes: &[u8]) -> Option<Map<String, Value>> {
    let open = bytes.iter().position(|&b| b == b'{')?;
    if bytes[1..open].iter().any(|b| !b.is_ascii_whitespace()) {
        return None;
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return serde_json::from_slice(&bytes[open..=i]).ok();
                }
            }
            _ => {}
        }
    }
    None
}

fn detect_json(bytes: &[u8]) -> Option<NomenclatureFormat> {
    let obj = first_object(bytes)?;
    let has = |k: &str| obj.contains_key(k);
    if !has("code") {
        return None;
    }
    Some(if has("subheading") || has("supplementaryUnit") {
        NomenclatureFormat::CnCodesJson
    } else if has("heading") {
        NomenclatureFormat::CnSubheadingsJson
    } else if has("chapter") {
        NomenclatureFormat::CnHeadingsJson
    } else if has("section") {
        NomenclatureFormat::CnChaptersJson
    } else if has("name") {
        NomenclatureFormat::CnSectionsJson
    } else {
        return None;
    })
}
