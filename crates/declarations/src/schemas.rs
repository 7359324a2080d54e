//! The NCTS phase 5 schema set: libxml2 validators per message type and the
//! element order of every complex type, learnt from the XSD files at run time.
//!
//! [`SchemaSet::load`] is the only function of the crate that reads files:
//! every `*.xsd` in the directory and in its `include-files/` subdirectory.
//! The type definitions are parsed by the pure [`parse_definitions`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::error::DeclarationError;
use crate::message::MessageType;

/// One `xs:element` inside a sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Particle {
    /// Element name.
    pub name: String,
    /// Its declared type (`None` if declared without one).
    pub type_name: Option<String>,
    /// `minOccurs`.
    pub min: u32,
    /// `maxOccurs`; `None` for `unbounded`.
    pub max: Option<u32>,
}

/// A named complex type: its sequence (groups expanded) and attribute names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComplexType {
    /// Child elements in order.
    pub sequence: Vec<Particle>,
    /// Declared attribute names.
    pub attributes: Vec<String>,
}

impl ComplexType {
    /// The particle of a child element name.
    pub fn particle(&self, name: &str) -> Option<(usize, &Particle)> {
        self.sequence
            .iter()
            .enumerate()
            .find(|(_, p)| p.name == name)
    }
}

/// Type definitions gathered from one or more XSD files.
#[derive(Debug, Clone, Default)]
pub struct Definitions {
    /// Named complex types.
    pub complex_types: HashMap<String, ComplexType>,
    /// Global elements: name → type.
    pub elements: HashMap<String, String>,
    groups: HashMap<String, Vec<Item>>,
    pending: HashMap<String, Vec<Item>>,
}

#[derive(Debug, Clone)]
enum Item {
    Element(Particle),
    Group(String),
}

fn attr(s: &BytesStart<'_>, name: &str) -> Option<String> {
    s.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name.as_bytes())
        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
}

fn strip_prefix(s: &str) -> String {
    match s.rsplit_once(':') {
        Some((_, l)) => l.to_owned(),
        None => s.to_owned(),
    }
}

/// Parses the `xs:complexType`, `xs:group` and global `xs:element`
/// definitions of one XSD file into `defs` (pure: bytes in).
pub fn parse_definitions(
    bytes: &[u8],
    path: &str,
    defs: &mut Definitions,
) -> Result<(), DeclarationError> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().trim_text(true);
    // Stack of open xs: element local names.
    let mut stack: Vec<String> = Vec::new();
    // The definition being collected: (is_group, name, items, attributes).
    let mut current: Option<(bool, String, Vec<Item>, Vec<String>)> = None;
    loop {
        let event = reader.read_event().map_err(|e| DeclarationError::Schema {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let (s, empty) = match &event {
            Event::Start(s) => (s.clone(), false),
            Event::Empty(s) => (s.clone(), true),
            Event::End(_) => {
                if let Some(tag) = stack.pop() {
                    if stack.len() == 1 && (tag == "complexType" || tag == "group") {
                        finish(&mut current, defs);
                    }
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let tag = strip_prefix(&String::from_utf8_lossy(s.name().as_ref()));
        let depth = stack.len();
        match tag.as_str() {
            "complexType" | "group" if depth == 1 => {
                let name = attr(&s, "name").unwrap_or_default();
                current = Some((tag == "group", name, Vec::new(), Vec::new()));
                if empty {
                    finish(&mut current, defs);
                }
            }
            "element" if depth == 1 => {
                if let (Some(n), Some(t)) = (attr(&s, "name"), attr(&s, "type")) {
                    defs.elements.insert(n, strip_prefix(&t));
                }
            }
            "element" => {
                if let (Some(cur), Some(name)) = (current.as_mut(), attr(&s, "name")) {
                    let min = attr(&s, "minOccurs")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(1);
                    let max = match attr(&s, "maxOccurs").as_deref() {
                        Some("unbounded") => None,
                        Some(v) => v.parse().ok(),
                        None => Some(1),
                    };
                    cur.2.push(Item::Element(Particle {
                        name,
                        type_name: attr(&s, "type").map(|t| strip_prefix(&t)),
                        min,
                        max,
                    }));
                }
            }
            "group" => {
                if let (Some(cur), Some(r)) = (current.as_mut(), attr(&s, "ref")) {
                    cur.2.push(Item::Group(strip_prefix(&r)));
                }
            }
            "attribute" => {
                if let (Some(cur), Some(n)) = (current.as_mut(), attr(&s, "name")) {
                    cur.3.push(n);
                }
            }
            _ => {}
        }
        if !empty {
            stack.push(tag);
        }
    }
    Ok(())
}

fn finish(current: &mut Option<(bool, String, Vec<Item>, Vec<String>)>, defs: &mut Definitions) {
    if let Some((is_group, name, items, attrs)) = current.take() {
        if is_group {
            defs.groups.entry(name).or_insert(items);
        } else {
            defs.pending.entry(name.clone()).or_insert(items);
            defs.complex_types.entry(name).or_insert(ComplexType {
                sequence: Vec::new(),
                attributes: attrs,
            });
        }
    }
}

impl Definitions {
    /// Expands group references (call once after all files are parsed).
    pub fn resolve(&mut self) -> Result<(), DeclarationError> {
        let pending = std::mem::take(&mut self.pending);
        for (name, items) in pending {
            let mut seq = Vec::new();
            self.expand(&items, &mut seq, 0)?;
            if let Some(ct) = self.complex_types.get_mut(&name) {
                ct.sequence = seq;
            }
        }
        Ok(())
    }

    fn expand(
        &self,
        items: &[Item],
        out: &mut Vec<Particle>,
        depth: u32,
    ) -> Result<(), DeclarationError> {
        if depth > 16 {
            return Err(DeclarationError::Schema {
                path: String::new(),
                message: "group references nest too deeply".to_owned(),
            });
        }
        for item in items {
            match item {
                Item::Element(p) => out.push(p.clone()),
                Item::Group(g) => {
                    let inner = self.groups.get(g).ok_or_else(|| DeclarationError::Schema {
                        path: String::new(),
                        message: format!("unknown group {g}"),
                    })?;
                    self.expand(inner, out, depth + 1)?;
                }
            }
        }
        Ok(())
    }
}

/// The loaded schema set: validators for the message types found in the
/// directory and the complex-type definitions of all files.
pub struct SchemaSet {
    dir: PathBuf,
    defs: Definitions,
    validators: HashMap<MessageType, portorium_xsd::Schema>,
}

impl std::fmt::Debug for SchemaSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaSet")
            .field("dir", &self.dir)
            .field("types", &self.defs.complex_types.len())
            .field("validators", &self.validators.len())
            .finish()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, DeclarationError> {
    std::fs::read(path).map_err(|e| DeclarationError::SchemaIo {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

fn xsd_files(dir: &Path) -> Result<Vec<PathBuf>, DeclarationError> {
    let rd = std::fs::read_dir(dir).map_err(|e| DeclarationError::SchemaIo {
        path: dir.display().to_string(),
        message: e.to_string(),
    })?;
    let mut files: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "xsd"))
        .collect();
    files.sort();
    Ok(files)
}

impl SchemaSet {
    /// Loads `dir` (e.g. `$PORTORIUM_REFERENCE/ncts-p5/xsd`): the type
    /// definitions of every XSD in it and in `include-files/`, and a
    /// validator for every [`MessageType`] whose `ccNNNc.xsd` exists.
    pub fn load(dir: &Path) -> Result<SchemaSet, DeclarationError> {
        let mut defs = Definitions::default();
        let mut files = xsd_files(dir)?;
        let inc = dir.join("include-files");
        if inc.is_dir() {
            files.extend(xsd_files(&inc)?);
        }
        for f in &files {
            parse_definitions(&read(f)?, &f.display().to_string(), &mut defs)?;
        }
        defs.resolve()?;
        let mut validators = HashMap::new();
        for m in MessageType::ALL {
            let p = dir.join(m.xsd_file());
            if p.is_file() {
                let schema =
                    portorium_xsd::Schema::from_file(&p).map_err(|e| DeclarationError::Schema {
                        path: p.display().to_string(),
                        message: e.to_string(),
                    })?;
                validators.insert(m, schema);
            }
        }
        Ok(SchemaSet {
            dir: dir.to_path_buf(),
            defs,
            validators,
        })
    }

    /// The directory the set was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The parsed definitions.
    pub fn definitions(&self) -> &Definitions {
        &self.defs
    }

    /// A complex type by name.
    pub fn complex_type(&self, name: &str) -> Option<&ComplexType> {
        self.defs.complex_types.get(name)
    }

    /// The complex type of a message's root element.
    pub fn root_type(&self, message: MessageType) -> Option<&ComplexType> {
        let t = self.defs.elements.get(message.root_element())?;
        self.complex_type(t)
    }

    /// The libxml2 validator of a message type.
    pub fn validator(
        &self,
        message: MessageType,
    ) -> Result<&portorium_xsd::Schema, DeclarationError> {
        self.validators
            .get(&message)
            .ok_or_else(|| DeclarationError::NoSchema(message.code().to_owned()))
    }
}
