//! [`looks_like_taric3`]: format sniffing for the import command.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use super::{ENVELOPE_NAMESPACE, TARIC_NAMESPACE};

/// How many leading bytes are looked at.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// Whether `bytes` (the start of a file is enough) look like a TARIC3 envelope: the
/// root element is `envelope` in `urn:publicid:-:DGTAXUD:GENERAL:ENVELOPE:1.0` and the
/// TARIC message namespace `urn:publicid:-:DGTAXUD:TARIC:MESSAGE:1.0` occurs in the
/// first [`SNIFF_BYTES`] bytes. Never fails; a cheap check, not a validation.
pub fn looks_like_taric3(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let needle = TARIC_NAMESPACE.as_bytes();
    if !head.windows(needle.len()).any(|w| w == needle) {
        return false;
    }
    let mut reader = NsReader::from_reader(head);
    loop {
        match reader.read_resolved_event() {
            Ok((ns, Event::Start(e) | Event::Empty(e))) => {
                return e.local_name().as_ref() == b"envelope"
                    && matches!(ns, ResolveResult::Bound(n) if n.as_ref() == ENVELOPE_NAMESPACE.as_bytes());
            }
            Ok((_, Event::Eof)) | Err(_) => return false,
            Ok((_, Event::Text(t))) if !t.iter().all(u8::is_ascii_whitespace) => return false,
            Ok(_) => {}
        }
    }
}
