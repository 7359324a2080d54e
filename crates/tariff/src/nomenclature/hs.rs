//! The HS 2022 CSV loader (`section,hscode,description,parent,level`).

use chrono::NaiveDate;

use super::code::GoodsCode;
use super::csv::{CsvReader, CsvRecord};
use super::error::{NomenclatureError, RecordRef};
use super::tree::{finish_loaded, NomenclatureItem, Section};

const HS_SOURCE: &str = "hs2022_harmonized-system.csv";
const SECTIONS_SOURCE: &str = "hs2022_sections.csv";

/// The HS nomenclature header.
pub const HS2022_HEADER: [&str; 5] = ["section", "hscode", "description", "parent", "level"];
/// The HS sections header.
pub const HS2022_SECTIONS_HEADER: [&str; 2] = ["section", "name"];

fn records<'a>(
    source_name: &'static str,
    csv: &'a str,
    header: &[&str],
) -> Result<impl Iterator<Item = Result<CsvRecord, NomenclatureError>> + 'a, NomenclatureError> {
    let mut reader = CsvReader::new(csv)
        .map(move |r| r.map_err(|error| NomenclatureError::Csv { source_name, error }));
    let found = match reader.next() {
        Some(r) => r?.fields,
        None => Vec::new(),
    };
    if found.len() != header.len() || found.iter().zip(header).any(|(f, h)| f.trim() != *h) {
        return Err(NomenclatureError::Header {
            source_name,
            expected: header.join(","),
            found: found.join(","),
        });
    }
    let width = header.len();
    Ok(reader.filter_map(move |r| match r {
        Ok(rec) if rec.is_blank() => None,
        Ok(rec) if rec.fields.len() != width => Some(Err(NomenclatureError::record(
            source_name,
            RecordRef::Line(rec.line),
            "*",
            format!("{} fields, expected {width}", rec.fields.len()),
        ))),
        other => Some(other),
    }))
}

fn is_roman(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| matches!(b, b'I' | b'V' | b'X' | b'L' | b'C'))
}

/// Parses `hs2022_sections.csv` (`section,name`).
pub fn parse_hs2022_sections(csv: &str) -> Result<Vec<Section>, NomenclatureError> {
    let mut out = Vec::new();
    for rec in records(SECTIONS_SOURCE, csv, &HS2022_SECTIONS_HEADER)? {
        let rec = rec?;
        let numeral = rec.fields[0].trim();
        if !is_roman(numeral) {
            return Err(NomenclatureError::record(
                SECTIONS_SOURCE,
                RecordRef::Line(rec.line),
                "section",
                format!("`{numeral}` is not a roman numeral"),
            ));
        }
        out.push(Section {
            numeral: numeral.to_owned(),
            title: Some(rec.fields[1].clone()),
        });
    }
    Ok(out)
}

/// Parses the HS 2022 CSV into nomenclature lines: chapters (level 2) at indent 0, headings
/// (4) at 1, subheadings (6) at 2, codes padded to 10 digits. The `TOTAL` row is skipped;
/// section `TOTAL` (chapter 99) becomes no section.
/// When `sections_csv` is given, every line's section must be one of its sections.
/// Lines are valid from 2022-01-01, open-ended.
pub fn parse_hs2022(
    csv: &str,
    sections_csv: Option<&str>,
) -> Result<Vec<NomenclatureItem>, NomenclatureError> {
    let known_sections = sections_csv.map(parse_hs2022_sections).transpose()?;
    let valid_from = NaiveDate::from_ymd_opt(2022, 1, 1);
    let mut items = Vec::with_capacity(csv.len() / 64);
    for rec in records(HS_SOURCE, csv, &HS2022_HEADER)? {
        let rec = rec?;
        let at = RecordRef::Line(rec.line);
        let err = |field: &str, msg: String| NomenclatureError::record(HS_SOURCE, at, field, msg);
        let [section, hscode, description, parent, level] = &rec.fields[..] else {
            continue; // width checked by `records`
        };
        if hscode == "TOTAL" {
            continue;
        }
        let level: u32 = level
            .trim()
            .parse()
            .map_err(|_| err("level", format!("`{level}` is not a number")))?;
        let indent = match level {
            2 => 0,
            4 => 1,
            6 => 2,
            _ => return Err(err("level", format!("level {level} is not 2, 4 or 6"))),
        };
        if hscode.len() != level as usize {
            return Err(err(
                "hscode",
                format!("`{hscode}` does not have {level} digits"),
            ));
        }
        let code = GoodsCode::from_prefix(hscode).map_err(|e| err("hscode", e.to_string()))?;
        let expected_parent = if level == 2 {
            "TOTAL"
        } else {
            &hscode[..level as usize - 2]
        };
        if parent != expected_parent {
            return Err(err(
                "parent",
                format!("`{parent}`, expected `{expected_parent}`"),
            ));
        }
        // Chapter 99 ("not specified according to kind") has section `TOTAL`: no section.
        let section = (section != "TOTAL").then_some(section.as_str());
        if section.is_some_and(|s| !is_roman(s)) {
            return Err(err(
                "section",
                format!("`{}` is not a roman numeral", section.unwrap_or_default()),
            ));
        }
        if let (Some(known), Some(section)) = (&known_sections, section) {
            if !known.iter().any(|s| s.numeral == section) {
                return Err(err(
                    "section",
                    format!("section `{section}` is not in {SECTIONS_SOURCE}"),
                ));
            }
        }
        let mut item = NomenclatureItem::new(code, indent, description.clone());
        item.section = section.map(str::to_owned);
        item.valid_from = valid_from;
        items.push(item);
    }
    finish_loaded(&mut items)?;
    Ok(items)
}
