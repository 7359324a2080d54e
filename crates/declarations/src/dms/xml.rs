//! A small element tree over quick-xml, enough to read DMS messages by local
//! name and to name every element by its XPath.
//!
//! Namespaces are reduced to local names: the XSD check that runs before the
//! business rules has already placed every element in its namespace.

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::error::DeclarationError;

/// Deepest element nesting accepted (the DMS schema nests about 10 deep).
pub(crate) const MAX_DEPTH: usize = 64;

/// One element: local name, attributes (local names), text content and
/// children in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children with this local name, in order.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of the element, `None` when empty.
    pub fn value(&self) -> Option<&str> {
        let t = self.text.trim();
        (!t.is_empty()).then_some(t)
    }

    /// An attribute by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn line_of(xml: &[u8], pos: u64) -> u32 {
    let end = usize::try_from(pos).unwrap_or(usize::MAX).min(xml.len());
    let newlines = xml[..end].iter().filter(|b| **b == b'\n').count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

fn local(name: &[u8]) -> String {
    let local = match name.iter().rposition(|b| *b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    };
    String::from_utf8_lossy(local).into_owned()
}

fn start(
    xml: &[u8],
    reader: &Reader<&[u8]>,
    e: &quick_xml::events::BytesStart<'_>,
) -> Result<Element, DeclarationError> {
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| DeclarationError::Xml {
            line: line_of(xml, reader.buffer_position()),
            message: err.to_string(),
        })?;
        let key = a.key.as_ref();
        if key.starts_with(b"xmlns") {
            continue;
        }
        let value = a.unescape_value().map_err(|err| DeclarationError::Xml {
            line: line_of(xml, reader.buffer_position()),
            message: err.to_string(),
        })?;
        attrs.push((local(key), value.into_owned()));
    }
    Ok(Element {
        name: local(e.name().as_ref()),
        attrs,
        text: String::new(),
        children: Vec::new(),
    })
}

/// Parses a document into its root element. Refuses DTDs, documents that
/// are not well-formed and nesting deeper than [`MAX_DEPTH`].
pub(crate) fn parse(xml: &[u8]) -> Result<Element, DeclarationError> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let err = |reader: &Reader<&[u8]>, message: String| DeclarationError::Xml {
        line: line_of(xml, reader.buffer_position()),
        message,
    };
    loop {
        let event = reader
            .read_event()
            .map_err(|e| err(&reader, e.to_string()))?;
        match event {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(err(&reader, format!("nesting deeper than {MAX_DEPTH}")));
                }
                stack.push(start(xml, &reader, &e)?);
            }
            Event::Empty(e) => {
                let el = start(xml, &reader, &e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return finish(&mut reader, xml, el),
                }
            }
            Event::End(_) => {
                let Some(el) = stack.pop() else {
                    return Err(err(&reader, "unexpected end tag".to_owned()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return finish(&mut reader, xml, el),
                }
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| err(&reader, e.to_string()))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&text);
                } else if !text.trim().is_empty() {
                    return Err(err(&reader, "text outside the root element".to_owned()));
                }
            }
            Event::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&c.into_inner()));
                }
            }
            Event::DocType(_) => {
                return Err(err(&reader, "a DOCTYPE is not accepted".to_owned()));
            }
            Event::Eof => return Err(err(&reader, "no root element".to_owned())),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
}

fn finish(
    reader: &mut Reader<&[u8]>,
    xml: &[u8],
    root: Element,
) -> Result<Element, DeclarationError> {
    loop {
        let event = reader.read_event().map_err(|e| DeclarationError::Xml {
            line: line_of(xml, reader.buffer_position()),
            message: e.to_string(),
        })?;
        match event {
            Event::Eof => return Ok(root),
            Event::Comment(_) | Event::PI(_) => {}
            Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
            _ => {
                return Err(DeclarationError::Xml {
                    line: line_of(xml, reader.buffer_position()),
                    message: "content after the root element".to_owned(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_with_local_names_attributes_and_entities() {
        let root = parse(
            br#"<?xml version="1.0"?><md:M xmlns:md="urn:x" xmlns="urn:y"><!-- c --><A k="v&amp;w">a &lt; b</A><B/></md:M>"#,
        )
        .unwrap();
        assert_eq!(root.name, "M");
        assert_eq!(root.children.len(), 2);
        let a = root.child("A").unwrap();
        assert_eq!(a.value(), Some("a < b"));
        assert_eq!(a.attr("k"), Some("v&w"));
        assert_eq!(root.child("B").unwrap().value(), None);
    }

    #[test]
    fn refuses_malformed_doctype_and_deep_nesting() {
        let e = parse(b"<A>\n<B></A>").unwrap_err();
        assert!(matches!(e, DeclarationError::Xml { line: 2, .. }), "{e:?}");
        assert!(parse(b"<!DOCTYPE a [<!ENTITY x \"y\">]><a/>").is_err());
        assert!(parse(b"<a/><b/>").is_err());
        let deep = format!(
            "{}{}",
            "<a>".repeat(MAX_DEPTH + 1),
            "</a>".repeat(MAX_DEPTH + 1)
        );
        assert!(parse(deep.as_bytes()).is_err());
    }
}

/// The XPath (local names, a 1-based position on every step below the root)
/// of the first element named `element` that starts on `line`, for turning a
/// schema violation (which libxml2 reports by line and element) into a path.
pub(crate) fn xpath_at(xml: &[u8], line: u32, element: &str) -> Option<String> {
    let mut reader = Reader::from_reader(xml);
    // Per open element: its step and the counts of its children's names.
    let mut stack: Vec<(String, Vec<(String, usize)>)> = Vec::new();
    let mut root_done = false;
    loop {
        let before = reader.buffer_position();
        let event = reader.read_event().ok()?;
        let (name, empty) = match &event {
            Event::Start(e) => (local(e.name().as_ref()), false),
            Event::Empty(e) => (local(e.name().as_ref()), true),
            Event::End(_) => {
                stack.pop();
                continue;
            }
            Event::Eof => return None,
            _ => continue,
        };
        let step = match stack.last_mut() {
            None if !root_done => {
                root_done = true;
                format!("/{name}")
            }
            None => return None,
            Some((path, counts)) => {
                let n = match counts.iter_mut().find(|(k, _)| *k == name) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        counts.push((name.clone(), 1));
                        1
                    }
                };
                format!("{path}/{name}[{n}]")
            }
        };
        // The tag starts after any whitespace preceding it.
        let start = usize::try_from(before).unwrap_or(usize::MAX).min(xml.len());
        let skipped = xml[start..]
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        let tag_line = line_of(xml, (start + skipped) as u64);
        if name == element && tag_line == line {
            return Some(step);
        }
        if !empty {
            stack.push((step, Vec::new()));
        }
    }
}

#[cfg(test)]
mod xpath_tests {
    use super::*;

    #[test]
    fn xpath_of_violation_by_line_and_element() {
        let xml = b"<R>\n  <A/>\n  <A>\n    <B>x</B>\n  </A>\n</R>";
        assert_eq!(xpath_at(xml, 4, "B").as_deref(), Some("/R/A[2]/B[1]"));
        assert_eq!(xpath_at(xml, 2, "A").as_deref(), Some("/R/A[1]"));
        assert_eq!(xpath_at(xml, 1, "R").as_deref(), Some("/R"));
        assert_eq!(xpath_at(xml, 3, "B"), None);
    }
}
