//! A small, bounded element tree built with quick-xml: enough for TARIC3 envelopes.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use super::error::Taric3Error;
use super::MAX_DEPTH;

/// An element: namespace URI (empty when unbound), local name, attributes (unprefixed
/// names only), child elements and its own text (concatenated, unescaped).
#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    pub(crate) ns: String,
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) children: Vec<Node>,
    pub(crate) text: String,
}

impl Node {
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn line_of(xml: &[u8], pos: u64) -> usize {
    let end = usize::try_from(pos).unwrap_or(usize::MAX).min(xml.len());
    xml[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

fn syntax(xml: &[u8], pos: u64, message: impl Into<String>) -> Taric3Error {
    Taric3Error::Xml {
        line: line_of(xml, pos),
        message: message.into(),
    }
}

fn namespace(ns: ResolveResult<'_>) -> Result<String, String> {
    match ns {
        ResolveResult::Bound(n) => Ok(String::from_utf8_lossy(n.as_ref()).into_owned()),
        ResolveResult::Unbound => Ok(String::new()),
        ResolveResult::Unknown(p) => Err(format!(
            "unknown namespace prefix `{}`",
            String::from_utf8_lossy(&p)
        )),
    }
}

fn element(
    reader: &NsReader<&[u8]>,
    xml: &[u8],
    ns: Result<String, String>,
    start: &BytesStart<'_>,
) -> Result<Node, Taric3Error> {
    let ns = ns.map_err(|m| syntax(xml, reader.buffer_position(), m))?;
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| syntax(xml, reader.buffer_position(), e.to_string()))?;
        if attr.key.prefix().is_some() || attr.key.as_namespace_binding().is_some() {
            continue;
        }
        let value = attr
            .unescape_value()
            .map_err(|e| syntax(xml, reader.buffer_position(), e.to_string()))?;
        attrs.push((
            String::from_utf8_lossy(attr.key.local_name().as_ref()).into_owned(),
            value.into_owned(),
        ));
    }
    Ok(Node {
        ns,
        name,
        attrs,
        children: Vec::new(),
        text: String::new(),
    })
}

/// Parses a whole document into its root element. Rejects DTDs, more than
/// [`MAX_DEPTH`] nested elements, unclosed elements and content after the root.
pub(crate) fn parse(xml: &[u8]) -> Result<Node, Taric3Error> {
    let mut reader = NsReader::from_reader(xml);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    loop {
        let read = reader
            .read_resolved_event()
            .map(|(ns, event)| (namespace(ns), event));
        let (ns, event) = read.map_err(|e| syntax(xml, reader.error_position(), e.to_string()))?;
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                let empty = matches!(event, Event::Empty(_));
                if root.is_some() {
                    return Err(syntax(
                        xml,
                        reader.buffer_position(),
                        "content after the root element",
                    ));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(syntax(
                        xml,
                        reader.buffer_position(),
                        format!("elements nested deeper than {MAX_DEPTH}"),
                    ));
                }
                let node = element(&reader, xml, ns, start)?;
                if empty {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(node),
                        None => root = Some(node),
                    }
                } else {
                    stack.push(node);
                }
            }
            Event::End(_) => {
                let Some(node) = stack.pop() else {
                    return Err(syntax(xml, reader.buffer_position(), "unexpected end tag"));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(text) => {
                let text = text
                    .unescape()
                    .map_err(|e| syntax(xml, reader.buffer_position(), e.to_string()))?;
                match stack.last_mut() {
                    Some(node) => node.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => {
                        return Err(syntax(
                            xml,
                            reader.buffer_position(),
                            "text outside the root element",
                        ))
                    }
                }
            }
            Event::CData(data) => {
                let data = data
                    .decode()
                    .map_err(|e| syntax(xml, reader.buffer_position(), e.to_string()))?;
                match stack.last_mut() {
                    Some(node) => node.text.push_str(&data),
                    None => {
                        return Err(syntax(
                            xml,
                            reader.buffer_position(),
                            "CDATA outside the root element",
                        ))
                    }
                }
            }
            Event::DocType(_) => {
                return Err(syntax(
                    xml,
                    reader.buffer_position(),
                    "document type declarations are not accepted",
                ))
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(syntax(
                        xml,
                        reader.buffer_position(),
                        format!("unexpected end of document inside `{}`", open.name),
                    ));
                }
                return root
                    .ok_or_else(|| syntax(xml, reader.buffer_position(), "no root element"));
            }
        }
    }
}
