//! The TARIC3 schema for a national layer.
//!
//! `taric3.xsd` allows only numeric measure type ids (`[0-9]{3}|[0-9]{6}`), while national
//! tariffs add their own measure types with alphabetic ids (`VTS`, `EXA`, `NPI`). A national
//! envelope is otherwise TARIC3, so it is validated against the same schema with that one
//! type widened.

/// `taric3.xsd` (its text) for a national layer's envelopes: `MeasureTypeId` also allows
/// three letters or digits (the national measure types), and every relative
/// `schemaLocation` is resolved against `dir_uri` (the `file://` URI of the schema's
/// directory, ending in `/`), so that the text compiles on its own, from memory.
///
/// `None` when the text has no `MeasureTypeId` pattern to widen (not taric3.xsd).
pub fn national_taric3_xsd(xsd: &str, dir_uri: &str) -> Option<String> {
    const TYPE: &str = r#"<xs:simpleType name="MeasureTypeId">"#;
    const PATTERN: &str = r#"<xs:pattern value=""#;
    let xsd = absolute_locations(xsd, dir_uri);
    let start = xsd.find(TYPE)?;
    let end = start + xsd[start..].find("</xs:simpleType>")?;
    let pattern = start + xsd[start..end].find(PATTERN)? + PATTERN.len();
    let close = pattern + xsd[pattern..end].find('"')?;
    Some(format!("{}|[A-Z0-9]{{3}}{}", &xsd[..close], &xsd[close..]))
}

/// Every relative `schemaLocation` value (no scheme, not starting with `/`) prefixed with
/// `dir_uri`.
fn absolute_locations(xsd: &str, dir_uri: &str) -> String {
    const LOCATION: &str = r#"schemaLocation=""#;
    let mut out = String::with_capacity(xsd.len() + 256);
    let mut tail = xsd;
    while let Some(i) = tail.find(LOCATION) {
        let value = i + LOCATION.len();
        out.push_str(&tail[..value]);
        tail = &tail[value..];
        let location = &tail[..tail.find('"').unwrap_or(tail.len())];
        if !location.starts_with('/') && !location.contains(':') {
            out.push_str(dir_uri);
        }
    }
    out.push_str(tail);
    out
}
