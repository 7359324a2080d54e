//! Naming a schema violation by its XPath. DMS messages are read with the crate's element
//! tree ([`crate::tree`]); libxml2 reports a violation by line and element name, and
//! [`xpath_at`] finds that element's path in the document.

use quick_xml::events::Event;
use quick_xml::Reader;

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
