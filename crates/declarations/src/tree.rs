//! A small owned XML element tree with line numbers and XPaths, parsed with
//! quick-xml, and its serialisation.

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::error::DeclarationError;

/// The NCTS namespace.
pub const NCTS_NS: &str = "http://ncts.dgtaxud.ec";

/// Deepest element nesting accepted (the NCTS and DMS schemas nest about 10 deep); deeper
/// input is refused before it can exhaust the stack of the recursive walks over the tree.
pub const MAX_DEPTH: usize = 64;

/// One element: local name, attributes, text content and children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Local name (without prefix).
    pub name: String,
    /// Attributes other than namespace declarations, as (local name, value).
    pub attributes: Vec<(String, String)>,
    /// Concatenated text directly inside the element (trimmed).
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
    /// 1-based line of the start tag.
    pub line: u32,
    /// XPath from the root, e.g. `/CC015C/Consignment/HouseConsignment[2]/grossMass`;
    /// an index is written only where a name repeats among its siblings.
    pub xpath: String,
}

impl Element {
    /// A new element without children (line 0, XPath set by [`Element::assign_xpaths`]).
    pub fn new(name: &str) -> Element {
        Element {
            name: name.to_owned(),
            attributes: Vec::new(),
            text: String::new(),
            children: Vec::new(),
            line: 0,
            xpath: String::new(),
        }
    }

    /// A new element with text content.
    pub fn leaf(name: &str, text: impl Into<String>) -> Element {
        let mut e = Element::new(name);
        e.text = text.into();
        e
    }

    /// Appends a child (builder style).
    pub fn with(mut self, child: Element) -> Element {
        self.children.push(child);
        self
    }

    /// Appends a child if there is one (builder style).
    pub fn with_opt(mut self, child: Option<Element>) -> Element {
        if let Some(c) = child {
            self.children.push(c);
        }
        self
    }

    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children with this local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The element at a relative slash-separated path (first match at each step).
    pub fn at(&self, path: &str) -> Option<&Element> {
        let mut cur = self;
        for step in path.split('/').filter(|s| !s.is_empty()) {
            cur = cur.child(step)?;
        }
        Some(cur)
    }

    /// The text at a relative path, if the element exists.
    pub fn text_at(&self, path: &str) -> Option<&str> {
        self.at(path).map(|e| e.text.as_str())
    }

    /// The text, `None` when empty.
    pub fn value(&self) -> Option<&str> {
        (!self.text.is_empty()).then_some(self.text.as_str())
    }

    /// An attribute's value.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Depth-first search (document order) for an element.
    pub fn find(&self, pred: &dyn Fn(&Element) -> bool) -> Option<&Element> {
        if pred(self) {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(pred))
    }

    /// Counts the descendants (and self) with a local name.
    pub fn count(&self, name: &str) -> usize {
        usize::from(self.name == name) + self.children.iter().map(|c| c.count(name)).sum::<usize>()
    }

    /// Sets `xpath` on this element (as the root) and every descendant.
    pub fn assign_xpaths(&mut self) {
        let path = format!("/{}", self.name);
        self.assign_xpaths_from(path);
    }

    fn assign_xpaths_from(&mut self, path: String) {
        self.xpath = path;
        let names: Vec<String> = self.children.iter().map(|c| c.name.clone()).collect();
        let mut seen: Vec<(String, usize)> = Vec::new();
        for child in &mut self.children {
            let total = names.iter().filter(|n| **n == child.name).count();
            let idx = match seen.iter_mut().find(|(n, _)| *n == child.name) {
                Some((_, i)) => {
                    *i += 1;
                    *i
                }
                None => {
                    seen.push((child.name.clone(), 1));
                    1
                }
            };
            let p = if total > 1 {
                format!("{}/{}[{}]", self.xpath, child.name, idx)
            } else {
                format!("{}/{}", self.xpath, child.name)
            };
            child.assign_xpaths_from(p);
        }
    }

    /// Serialises as an NCTS message: the root gets the `ncts` prefix and
    /// namespace declaration, children are unqualified (the XSDs use
    /// `elementFormDefault="unqualified"`).
    pub fn to_message_xml(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&format!("<ncts:{} xmlns:ncts=\"{NCTS_NS}\"", self.name));
        for (k, v) in &self.attributes {
            out.push_str(&format!(" {k}=\"{}\"", escape(v)));
        }
        out.push('>');
        for c in &self.children {
            c.write(&mut out, 1);
        }
        out.push_str(&format!("\n</ncts:{}>\n", self.name));
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
        out.push('<');
        out.push_str(&self.name);
        for (k, v) in &self.attributes {
            out.push_str(&format!(" {k}=\"{}\"", escape(v)));
        }
        if self.children.is_empty() && self.text.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        if self.children.is_empty() {
            out.push_str(&escape(&self.text));
        } else {
            for c in &self.children {
                c.write(out, depth + 1);
            }
            out.push('\n');
            out.push_str(&"  ".repeat(depth));
        }
        out.push_str(&format!("</{}>", self.name));
    }
}

/// Escapes text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

fn line_of(bytes: &[u8], pos: usize) -> u32 {
    let end = pos.min(bytes.len());
    let n = bytes[..end].iter().filter(|b| **b == b'\n').count();
    u32::try_from(n + 1).unwrap_or(u32::MAX)
}

fn local(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    match s.rsplit_once(':') {
        Some((_, l)) => l.to_owned(),
        None => s.into_owned(),
    }
}

/// Parses XML bytes into an [`Element`] tree with lines and XPaths.
///
/// DTDs are refused, nesting deeper than [`MAX_DEPTH`] too; exactly one root element is
/// required.
pub fn parse_xml(bytes: &[u8]) -> Result<Element, DeclarationError> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().trim_text(false);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let pos = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let err = |message: String| DeclarationError::Xml {
            line: line_of(bytes, pos),
            message,
        };
        let event = reader.read_event().map_err(|e| err(e.to_string()))?;
        match event {
            Event::Start(ref s) | Event::Empty(ref s) => {
                if root.is_some() && stack.is_empty() {
                    return Err(err("content after the root element".to_owned()));
                }
                if matches!(event, Event::Start(_)) && stack.len() >= MAX_DEPTH {
                    return Err(err(format!("nesting deeper than {MAX_DEPTH}")));
                }
                let mut el = Element::new(&local(s.name().as_ref()));
                // The tag starts after any whitespace the reader skipped.
                let tag_pos = bytes[pos.min(bytes.len())..]
                    .iter()
                    .position(|b| *b == b'<')
                    .map_or(pos, |o| pos + o);
                el.line = line_of(bytes, tag_pos);
                for a in s.attributes() {
                    let a = a.map_err(|e| err(e.to_string()))?;
                    let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                    if key == "xmlns" || key.starts_with("xmlns:") {
                        continue;
                    }
                    let value = a
                        .unescape_value()
                        .map_err(|e| err(e.to_string()))?
                        .into_owned();
                    el.attributes.push((local(key.as_bytes()), value));
                }
                if matches!(event, Event::Empty(_)) {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(el),
                        None => root = Some(el),
                    }
                } else {
                    stack.push(el);
                }
            }
            Event::End(_) => {
                let mut el = stack
                    .pop()
                    .ok_or_else(|| err("unexpected end tag".to_owned()))?;
                el.text = el.text.trim().to_owned();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| err(e.to_string()))?;
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&text),
                    None => {
                        if !text.trim().is_empty() {
                            return Err(err("text outside the root element".to_owned()));
                        }
                    }
                }
            }
            Event::CData(t) => match stack.last_mut() {
                Some(el) => el.text.push_str(&String::from_utf8_lossy(&t)),
                None => return Err(err("CDATA outside the root element".to_owned())),
            },
            Event::DocType(_) => return Err(err("DTDs are not allowed".to_owned())),
            Event::Eof => {
                if !stack.is_empty() {
                    return Err(err("unexpected end of document".to_owned()));
                }
                break;
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    let mut root = root.ok_or(DeclarationError::Xml {
        line: 1,
        message: "no root element".to_owned(),
    })?;
    root.assign_xpaths();
    Ok(root)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn tree_with_local_names_attributes_and_entities() {
        let root = parse_xml(
            br#"<?xml version="1.0"?><md:M xmlns:md="urn:x" xmlns="urn:y"><!-- c --><A k="v&amp;w">a &lt; b</A><B/></md:M>"#,
        )
        .unwrap();
        assert_eq!(root.name, "M");
        assert_eq!(root.children.len(), 2);
        let a = root.child("A").unwrap();
        assert_eq!(a.value(), Some("a < b"));
        assert_eq!(a.attribute("k"), Some("v&w"));
        assert_eq!(root.child("B").unwrap().value(), None);
    }

    #[test]
    fn refuses_malformed_doctype_and_deep_nesting() {
        let e = parse_xml(b"<A>\n<B></A>").unwrap_err();
        assert!(matches!(e, DeclarationError::Xml { line: 2, .. }), "{e:?}");
        assert!(parse_xml(b"<!DOCTYPE a [<!ENTITY x \"y\">]><a/>").is_err());
        assert!(parse_xml(b"<a/><b/>").is_err());
        let deep = format!(
            "{}{}",
            "<a>".repeat(MAX_DEPTH + 1),
            "</a>".repeat(MAX_DEPTH + 1)
        );
        assert!(parse_xml(deep.as_bytes()).is_err());
    }
}
