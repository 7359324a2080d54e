//! NCTS reference data in its published formats, parsed into plain records.
//!
//! - the **COL generic export** (`COL-Generic-YYYYMMDD.zip`, or the XML inside it): a CSRD2
//!   `RDEntityList` whose entities are the customs office list (`CustomsOffices`) and code
//!   lists (`CountryCodesFullList`, `Role`, `TrafficType`, `UnLocode`…). Offices become
//!   [`Office`]s; every entity that is a plain code list (one key item and its descriptions,
//!   or `UnLocode`) becomes a [`CodeList`]; the others (holidays, regions) are named in
//!   [`RefdataFile::skipped`];
//! - the **code-list catalogue** (`code_lists.csv`: `Code List,Title`, e.g. `CL008,
//!   CountryCodesFullList`).
//!
//! [`parse`] recognises the format from the content. Pure: it takes bytes (a zip is read in
//! memory) and does no IO.

use chrono::NaiveDate;
use quick_xml::events::Event;
use quick_xml::Reader;
use std::collections::BTreeMap;
use std::io::Read;

/// Every way reading reference data can fail.
#[derive(Debug, thiserror::Error)]
pub enum RefdataError {
    #[error("unrecognised reference data format: expected a COL zip or XML, or code_lists.csv")]
    UnknownFormat,
    #[error("zip: {0}")]
    Zip(String),
    #[error("XML at byte {position}: {message}")]
    Xml { position: u64, message: String },
    #[error("line {line}: {message}")]
    Csv { line: usize, message: String },
    #[error("{entity} entry {index}: {message}")]
    Entry {
        entity: String,
        index: usize,
        message: String,
    },
}

/// A customs office of the COL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Office {
    /// `NL000110`.
    pub reference: String,
    pub country: String,
    /// The usual name in English when given, else in the first language listed.
    pub name: String,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub unlocode: Option<String>,
    pub main_office: Option<String>,
    pub trader_dedicated: bool,
    /// Distinct (role, traffic type) pairs over the office's timetables, sorted.
    pub roles: Vec<(String, String)>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

/// A code of a code list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub code: String,
    /// In English when given, else the first description.
    pub description: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

/// A code list by name (the COL entity name, which is the catalogue's title).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeList {
    pub name: String,
    pub codes: Vec<Code>,
}

/// What one file holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RefdataFile {
    /// The office list, when the file has one.
    pub offices: Option<Vec<Office>>,
    pub code_lists: Vec<CodeList>,
    /// The code-list catalogue: (number, title), from `code_lists.csv`.
    pub catalogue: Option<Vec<(String, String)>>,
    /// Entities present but not imported (not plain code lists).
    pub skipped: Vec<String>,
}

/// Parses a reference data file, recognising its format from the content.
pub fn parse(bytes: &[u8]) -> Result<RefdataFile, RefdataError> {
    if bytes.starts_with(b"PK\x03\x04") {
        return parse_col_zip(bytes);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| RefdataError::UnknownFormat)?;
    let text = text.trim_start_matches('\u{feff}');
    let start = text.trim_start();
    if start.starts_with('<') {
        return parse_col_xml(text);
    }
    if start
        .lines()
        .next()
        .is_some_and(|l| l.trim().eq_ignore_ascii_case("Code List,Title"))
    {
        return Ok(RefdataFile {
            catalogue: Some(parse_code_list_catalogue(text)?),
            ..RefdataFile::default()
        });
    }
    Err(RefdataError::UnknownFormat)
}

/// The COL generic export zip: every `.xml` member is parsed and the results merged.
pub fn parse_col_zip(bytes: &[u8]) -> Result<RefdataFile, RefdataError> {
    let zerr = |e: zip::result::ZipError| RefdataError::Zip(e.to_string());
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(zerr)?;
    let mut out = RefdataFile::default();
    let mut found = false;
    for i in 0..archive.len() {
        let mut member = archive.by_index(i).map_err(zerr)?;
        if !member.name().to_ascii_lowercase().ends_with(".xml") {
            continue;
        }
        let mut text = String::new();
        member
            .read_to_string(&mut text)
            .map_err(|e| RefdataError::Zip(format!("{}: {e}", member.name())))?;
        let file = parse_col_xml(&text)?;
        found = true;
        if file.offices.is_some() {
            out.offices = file.offices;
        }
        out.code_lists.extend(file.code_lists);
        out.skipped.extend(file.skipped);
    }
    if !found {
        return Err(RefdataError::Zip("no XML member in the archive".into()));
    }
    Ok(out)
}

/// `code_lists.csv`: a header `Code List,Title`, then one `CLnnn,Title` per line.
pub fn parse_code_list_catalogue(text: &str) -> Result<Vec<(String, String)>, RefdataError> {
    let mut out = Vec::new();
    let mut seen = BTreeMap::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (number, title) = line.split_once(',').ok_or_else(|| RefdataError::Csv {
            line: i + 1,
            message: "expected two columns".into(),
        })?;
        let number = number.trim().trim_matches('"').to_owned();
        let title = title.trim().trim_matches('"').to_owned();
        let ok = number.len() == 5
            && number.starts_with("CL")
            && number[2..].bytes().all(|b| b.is_ascii_digit())
            && !title.is_empty();
        if !ok {
            return Err(RefdataError::Csv {
                line: i + 1,
                message: format!("{number:?} is not a code list number with a title"),
            });
        }
        if seen.insert(number.clone(), i + 1).is_some() {
            return Err(RefdataError::Csv {
                line: i + 1,
                message: format!("{number} appears twice"),
            });
        }
        out.push((number, title));
    }
    Ok(out)
}

/// One `RDEntry` as read: its status, top-level items, the items of every data group
/// (innermost group, in document order) and its descriptions by language.
#[derive(Debug, Default)]
struct Entry {
    state: String,
    active_from: String,
    active_to: Option<String>,
    items: Vec<(String, String)>,
    groups: Vec<(String, Vec<(String, String)>)>,
    descriptions: Vec<(String, String)>,
}

impl Entry {
    fn item(&self, name: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
    fn description(&self) -> Option<&str> {
        self.descriptions
            .iter()
            .find(|(l, _)| l.eq_ignore_ascii_case("en"))
            .or_else(|| self.descriptions.first())
            .map(|(_, d)| d.as_str())
    }
}

fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|b| *b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

fn attr(e: &quick_xml::events::BytesStart<'_>, key: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| local(a.key.as_ref()) == key)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s.trim(), "%Y%m%d"))
        .ok()
}

/// The COL generic export XML.
pub fn parse_col_xml(text: &str) -> Result<RefdataFile, RefdataError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let xml_err = |reader: &Reader<&[u8]>, e: &dyn std::fmt::Display| RefdataError::Xml {
        position: reader.buffer_position(),
        message: e.to_string(),
    };
    let mut entities: Vec<(String, Vec<Entry>)> = Vec::new();
    let mut entry: Option<Entry> = None;
    // Open data groups of the current entry: indexes into entry.groups.
    let mut groups: Vec<usize> = Vec::new();
    // What the next text belongs to.
    enum Target {
        None,
        State,
        From,
        To,
        Item(String),
        Description(String),
    }
    let mut target = Target::None;
    let mut root_seen = false;
    loop {
        let ev = reader.read_event().map_err(|e| xml_err(&reader, &e))?;
        match ev {
            Event::Start(e) => {
                let name = local(e.name().as_ref()).to_vec();
                match name.as_slice() {
                    b"RDEntityList" => root_seen = true,
                    b"RDEntity" => {
                        entities.push((attr(&e, b"name").unwrap_or_default(), Vec::new()));
                    }
                    b"RDEntry" => {
                        entry = Some(Entry::default());
                        groups.clear();
                    }
                    b"state" => target = Target::State,
                    b"activeFrom" => target = Target::From,
                    b"activeTo" => target = Target::To,
                    b"dataItem" => target = Target::Item(attr(&e, b"name").unwrap_or_default()),
                    b"description" => {
                        target = Target::Description(attr(&e, b"lang").unwrap_or_default())
                    }
                    b"dataGroup" => {
                        if let Some(en) = entry.as_mut() {
                            en.groups
                                .push((attr(&e, b"name").unwrap_or_default(), Vec::new()));
                            groups.push(en.groups.len() - 1);
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                let value = t.unescape().map_err(|e| xml_err(&reader, &e))?;
                let value = value.trim().to_owned();
                if let Some(en) = entry.as_mut() {
                    match &target {
                        Target::State => en.state = value,
                        Target::From => en.active_from = value,
                        Target::To => en.active_to = Some(value),
                        Target::Item(n) => match groups.last() {
                            Some(&g) => {
                                if let Some(group) = en.groups.get_mut(g) {
                                    group.1.push((n.clone(), value));
                                }
                            }
                            None => en.items.push((n.clone(), value)),
                        },
                        Target::Description(l) => en.descriptions.push((l.clone(), value)),
                        Target::None => {}
                    }
                }
            }
            Event::End(e) => match local(e.name().as_ref()) {
                b"RDEntry" => {
                    if let (Some(en), Some((_, list))) = (entry.take(), entities.last_mut()) {
                        list.push(en);
                    }
                }
                b"dataGroup" => {
                    groups.pop();
                }
                _ => target = Target::None,
            },
            Event::Eof => break,
            _ => {}
        }
    }
    if !root_seen {
        return Err(RefdataError::UnknownFormat);
    }
    let mut out = RefdataFile::default();
    for (name, entries) in entities {
        if name == "CustomsOffices" {
            out.offices = Some(offices(&name, &entries)?);
        } else if let Some(list) = code_list(&name, &entries)? {
            out.code_lists.push(list);
        } else {
            out.skipped.push(name);
        }
    }
    Ok(out)
}

fn validity(
    entity: &str,
    index: usize,
    e: &Entry,
) -> Result<(NaiveDate, Option<NaiveDate>), RefdataError> {
    let bad = |message: String| RefdataError::Entry {
        entity: entity.to_owned(),
        index,
        message,
    };
    let from = date(&e.active_from)
        .ok_or_else(|| bad(format!("activeFrom {:?} is not a date", e.active_from)))?;
    let to = match &e.active_to {
        Some(t) => Some(date(t).ok_or_else(|| bad(format!("activeTo {t:?} is not a date")))?),
        None => None,
    };
    Ok((from, to))
}

/// Keeps, per key, the entry valid from the latest date (an export lists one per key, but a
/// later version must win if one repeats).
fn keep_latest<T>(items: Vec<(String, NaiveDate, T)>) -> Vec<T> {
    let mut by_key: BTreeMap<String, (NaiveDate, T)> = BTreeMap::new();
    for (key, from, item) in items {
        match by_key.get(&key) {
            Some((f, _)) if *f > from => {}
            _ => {
                by_key.insert(key, (from, item));
            }
        }
    }
    by_key.into_values().map(|(_, t)| t).collect()
}

fn offices(entity: &str, entries: &[Entry]) -> Result<Vec<Office>, RefdataError> {
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if !e.state.eq_ignore_ascii_case("valid") {
            continue;
        }
        let bad = |message: &str| RefdataError::Entry {
            entity: entity.to_owned(),
            index: i,
            message: message.to_owned(),
        };
        let reference = e
            .item("ReferenceNumber")
            .ok_or_else(|| bad("no ReferenceNumber"))?
            .to_owned();
        let country = e
            .item("CountryCode")
            .map(str::to_owned)
            .unwrap_or_else(|| reference.chars().take(2).collect());
        let lsd: Vec<&Vec<(String, String)>> = e
            .groups
            .iter()
            .filter(|(n, _)| n == "CustomsOfficeLsd")
            .map(|(_, items)| items)
            .collect();
        let get = |items: &Vec<(String, String)>, name: &str| {
            items
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        let chosen = lsd
            .iter()
            .find(|items| get(items, "LanguageCode").as_deref() == Some("EN"))
            .or_else(|| lsd.first());
        let name = chosen
            .and_then(|items| get(items, "CustomsOfficeUsualName"))
            .unwrap_or_else(|| reference.clone());
        let city = chosen.and_then(|items| get(items, "City"));
        let mut roles: Vec<(String, String)> = e
            .groups
            .iter()
            .filter(|(n, _)| n == "CustomsOfficeRoleTrafficCompetence")
            .filter_map(|(_, items)| {
                Some((
                    get(items, "Role")?,
                    get(items, "TrafficType").unwrap_or_default(),
                ))
            })
            .collect();
        roles.sort();
        roles.dedup();
        let (valid_from, valid_to) = validity(entity, i, e)?;
        out.push((
            reference.clone(),
            valid_from,
            Office {
                reference,
                country,
                name,
                city,
                postal_code: e.item("PostalCode").map(str::to_owned),
                unlocode: e.item("UnLocodeId").map(str::to_owned),
                main_office: e.item("ReferenceNumberMainOffice").map(str::to_owned),
                trader_dedicated: e.item("TraderDedicated") == Some("1"),
                roles,
                valid_from,
                valid_to,
            },
        ));
    }
    Ok(keep_latest(out))
}

/// A plain code list: every entry has descriptions and its key is the first item; or the
/// `UnLocode` list (country + location, with its name). `None` for other entities.
fn code_list(entity: &str, entries: &[Entry]) -> Result<Option<CodeList>, RefdataError> {
    let unlocode = entity == "UnLocode";
    let plain = entries
        .iter()
        .all(|e| !e.descriptions.is_empty() && !e.items.is_empty());
    if entries.is_empty() || !(plain || unlocode) {
        return Ok(None);
    }
    let mut codes = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if !e.state.eq_ignore_ascii_case("valid") {
            continue;
        }
        let (code, description) = if unlocode {
            let (Some(c), Some(l)) = (e.item("CountryCode"), e.item("UnLocodeId")) else {
                return Err(RefdataError::Entry {
                    entity: entity.to_owned(),
                    index: i,
                    message: "no CountryCode or UnLocodeId".into(),
                });
            };
            (
                format!("{c}{l}"),
                e.item("UnLocodeName").unwrap_or_default().to_owned(),
            )
        } else {
            let code = e.items.first().map(|(_, v)| v.clone()).unwrap_or_default();
            (code, e.description().unwrap_or_default().to_owned())
        };
        if code.is_empty() {
            return Err(RefdataError::Entry {
                entity: entity.to_owned(),
                index: i,
                message: "empty code".into(),
            });
        }
        let (valid_from, valid_to) = validity(entity, i, e)?;
        codes.push((
            code.clone(),
            valid_from,
            Code {
                code,
                description,
                valid_from,
                valid_to,
            },
        ));
    }
    Ok(Some(CodeList {
        name: entity.to_owned(),
        codes: keep_latest(codes),
    }))
}
