//! The CN 2026 JSON loader (`cn{Sections,Chapters,Headings,Subheadings,Codes}_2026.json`).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::code::GoodsCode;
use super::error::{NomenclatureError, RecordRef};
use super::tree::{finish_loaded, NomenclatureItem, Section};

const SECTIONS: &str = "cnSections_2026.json";
const CHAPTERS: &str = "cnChapters_2026.json";
const HEADINGS: &str = "cnHeadings_2026.json";
const SUBHEADINGS: &str = "cnSubheadings_2026.json";
const CODES: &str = "cnCodes_2026.json";

#[derive(Deserialize)]
struct RawSection {
    code: String,
    name: String,
}

#[derive(Deserialize)]
struct RawChapter {
    code: String,
    name: String,
    section: String,
    #[serde(default)]
    version: Option<i32>,
}

#[derive(Deserialize)]
struct RawHeading {
    code: String,
    name: String,
    chapter: String,
    section: String,
    #[serde(default)]
    version: Option<i32>,
}

#[derive(Deserialize)]
struct RawSubheading {
    code: String,
    name: String,
    #[serde(default)]
    heading: Option<String>,
    chapter: String,
    section: String,
    #[serde(default)]
    version: Option<i32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCode {
    code: String,
    name: String,
    #[serde(default)]
    subheading: Option<String>,
    #[serde(default)]
    heading: Option<String>,
    chapter: String,
    section: String,
    #[serde(default)]
    supplementary_unit: Option<String>,
    #[serde(default)]
    version: Option<i32>,
}

fn parse_array<T: DeserializeOwned>(
    source_name: &'static str,
    json: &str,
) -> Result<Vec<T>, NomenclatureError> {
    let json = json.strip_prefix('\u{feff}').unwrap_or(json);
    let mut de = serde_json::Deserializer::from_str(json);
    let items: Vec<T> = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let mut record = RecordRef::Document;
        let mut field = None;
        for seg in e.path().iter() {
            match seg {
                serde_path_to_error::Segment::Seq { index } if record == RecordRef::Document => {
                    record = RecordRef::Index(*index);
                }
                serde_path_to_error::Segment::Map { key } if field.is_none() => {
                    field = Some(key.clone());
                }
                _ => {}
            }
        }
        let message = e.inner().to_string();
        if field.is_none() {
            // "missing field `code`" names the field only in the message.
            field = message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next())
                .map(str::to_owned);
        }
        NomenclatureError::Json {
            source_name,
            record,
            field,
            message,
        }
    })?;
    de.end().map_err(|e| NomenclatureError::Json {
        source_name,
        record: RecordRef::Document,
        field: None,
        message: e.to_string(),
    })?;
    Ok(items)
}

struct Ctx {
    source_name: &'static str,
    index: usize,
}

impl Ctx {
    fn err(&self, field: &str, message: impl Into<String>) -> NomenclatureError {
        NomenclatureError::record(
            self.source_name,
            RecordRef::Index(self.index),
            field,
            message,
        )
    }

    fn digits(&self, field: &str, value: &str, len: usize) -> Result<(), NomenclatureError> {
        if value.len() != len || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.err(field, format!("`{value}` is not {len} digits")));
        }
        Ok(())
    }

    fn code(&self, value: &str, len: usize) -> Result<GoodsCode, NomenclatureError> {
        self.digits("code", value, len)?;
        GoodsCode::from_prefix(value).map_err(|e| self.err("code", e.to_string()))
    }

    /// `code` must start with the referenced `value`, which must be known.
    fn reference(
        &self,
        field: &str,
        value: &str,
        code: &str,
        known: bool,
    ) -> Result<(), NomenclatureError> {
        if !code.starts_with(value) {
            return Err(self.err(field, format!("`{value}` is not a prefix of code `{code}`")));
        }
        if !known {
            return Err(self.err(field, format!("unknown {field} `{value}`")));
        }
        Ok(())
    }

    fn section(&self, value: &str, sections: &HashSet<String>) -> Result<(), NomenclatureError> {
        if !sections.contains(value) {
            return Err(self.err("section", format!("unknown section `{value}`")));
        }
        Ok(())
    }

    fn unique(&self, seen: &mut HashSet<String>, code: &str) -> Result<(), NomenclatureError> {
        if !seen.insert(code.to_owned()) {
            return Err(self.err("code", format!("duplicate code `{code}`")));
        }
        Ok(())
    }
}

fn item(
    code: GoodsCode,
    indent: u32,
    name: String,
    section: String,
    version: Option<i32>,
) -> NomenclatureItem {
    let mut item = NomenclatureItem::new(code, indent, name);
    item.section = Some(section);
    if let Some(year) = version {
        item.valid_from = NaiveDate::from_ymd_opt(year, 1, 1);
        item.valid_to = NaiveDate::from_ymd_opt(year, 12, 31);
    }
    item
}

/// Parses `cnSections_2026.json` into sections with titles.
pub fn parse_cn2026_sections(json: &str) -> Result<Vec<Section>, NomenclatureError> {
    let raw: Vec<RawSection> = parse_array(SECTIONS, json)?;
    let mut seen = HashSet::new();
    raw.into_iter()
        .enumerate()
        .map(|(index, s)| {
            let ctx = Ctx {
                source_name: SECTIONS,
                index,
            };
            if s.code.is_empty() || !s.code.bytes().all(|b| b"IVXLC".contains(&b)) {
                return Err(ctx.err("code", format!("`{}` is not a roman numeral", s.code)));
            }
            ctx.unique(&mut seen, &s.code)?;
            Ok(Section {
                numeral: s.code,
                title: Some(s.name),
            })
        })
        .collect()
}

/// Parses the five CN 2026 files into nomenclature lines.
///
/// Chapters are at indent 0, headings at 1, 6-digit subheadings at 2 (1 when the heading line
/// does not exist, e.g. `0702 00`, which then is the heading line), CN8 codes (padded with
/// `00` to 10 digits, with their supplementary unit) one deeper than their subheading or
/// heading (or at 1 directly under a chapter, e.g. `0409 00 00`). Lines sharing a 10-digit
/// code get suffixes `10`, `20`, … and the deepest `80`. A record's `version` (year) makes it
/// valid for that calendar year.
pub fn parse_cn2026(
    sections: &str,
    chapters: &str,
    headings: &str,
    subheadings: &str,
    codes: &str,
) -> Result<Vec<NomenclatureItem>, NomenclatureError> {
    let section_set: HashSet<String> = parse_cn2026_sections(sections)?
        .into_iter()
        .map(|s| s.numeral)
        .collect();
    let raw_chapters: Vec<RawChapter> = parse_array(CHAPTERS, chapters)?;
    let raw_headings: Vec<RawHeading> = parse_array(HEADINGS, headings)?;
    let raw_subheadings: Vec<RawSubheading> = parse_array(SUBHEADINGS, subheadings)?;
    let raw_codes: Vec<RawCode> = parse_array(CODES, codes)?;

    let mut items = Vec::with_capacity(
        raw_chapters.len() + raw_headings.len() + raw_subheadings.len() + raw_codes.len(),
    );

    let mut chapter_set = HashSet::new();
    for (index, c) in raw_chapters.into_iter().enumerate() {
        let ctx = Ctx {
            source_name: CHAPTERS,
            index,
        };
        let code = ctx.code(&c.code, 2)?;
        ctx.section(&c.section, &section_set)?;
        ctx.unique(&mut chapter_set, &c.code)?;
        items.push(item(code, 0, c.name, c.section, c.version));
    }

    let mut heading_set = HashSet::new();
    for (index, h) in raw_headings.into_iter().enumerate() {
        let ctx = Ctx {
            source_name: HEADINGS,
            index,
        };
        let code = ctx.code(&h.code, 4)?;
        ctx.reference(
            "chapter",
            &h.chapter,
            &h.code,
            chapter_set.contains(&h.chapter),
        )?;
        ctx.section(&h.section, &section_set)?;
        ctx.unique(&mut heading_set, &h.code)?;
        items.push(item(code, 1, h.name, h.section, h.version));
    }

    let mut subheading_indent: HashMap<String, u32> = HashMap::new();
    for (index, s) in raw_subheadings.into_iter().enumerate() {
        let ctx = Ctx {
            source_name: SUBHEADINGS,
            index,
        };
        let code = ctx.code(&s.code, 6)?;
        ctx.reference(
            "chapter",
            &s.chapter,
            &s.code,
            chapter_set.contains(&s.chapter),
        )?;
        ctx.section(&s.section, &section_set)?;
        let heading = match &s.heading {
            Some(h) => {
                ctx.reference("heading", h, &s.code, heading_set.contains(h))?;
                true
            }
            None => heading_set.contains(&s.code[..4]),
        };
        let indent = if heading { 2 } else { 1 };
        if subheading_indent.insert(s.code.clone(), indent).is_some() {
            return Err(ctx.err("code", format!("duplicate code `{}`", s.code)));
        }
        items.push(item(code, indent, s.name, s.section, s.version));
    }

    let mut code_set = HashSet::with_capacity(raw_codes.len());
    for (index, c) in raw_codes.into_iter().enumerate() {
        let ctx = Ctx {
            source_name: CODES,
            index,
        };
        let code = ctx.code(&c.code, 8)?;
        ctx.reference(
            "chapter",
            &c.chapter,
            &c.code,
            chapter_set.contains(&c.chapter),
        )?;
        ctx.section(&c.section, &section_set)?;
        if let Some(h) = &c.heading {
            ctx.reference("heading", h, &c.code, heading_set.contains(h))?;
        }
        let sub_indent = match &c.subheading {
            Some(s) => {
                let indent = subheading_indent.get(s).copied();
                ctx.reference("subheading", s, &c.code, indent.is_some())?;
                indent
            }
            None => subheading_indent.get(&c.code[..6]).copied(),
        };
        let indent = match sub_indent {
            Some(i) => i + 1,
            None if c.heading.is_some() || heading_set.contains(&c.code[..4]) => 2,
            None => 1,
        };
        ctx.unique(&mut code_set, &c.code)?;
        let mut it = item(code, indent, c.name, c.section, c.version);
        it.supplementary_unit = c.supplementary_unit.filter(|u| !u.is_empty());
        items.push(it);
    }

    finish_loaded(&mut items)?;
    Ok(items)
}
