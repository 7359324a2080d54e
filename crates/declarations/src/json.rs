//! The HMRC JSON shape of an NCTS message, converted to the XML element
//! tree in XSD element order, so that it goes through the same XSD validation.
//!
//! Shape: one root key, the message code with an optional prefix
//! (`"n1:CC015C"`, `"ncts:CC015C"`, `"CC015C"`); objects are elements,
//! arrays are repeated elements, strings/numbers/booleans are text, keys
//! starting with `@` are attributes. Errors name the offending value with a
//! JSON pointer (RFC 6901).

use serde_json::Value;

use crate::error::DeclarationError;
use crate::message::MessageType;
use crate::schemas::{ComplexType, SchemaSet};
use crate::tree::Element;

fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn json_err(pointer: &str, message: impl Into<String>) -> DeclarationError {
    DeclarationError::Json {
        pointer: if pointer.is_empty() {
            "/".to_owned()
        } else {
            pointer.to_owned()
        },
        message: message.into(),
    }
}

/// The message type named by a JSON body's root key, without converting.
pub fn root_of_json(bytes: &[u8]) -> Result<(String, Value), DeclarationError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| DeclarationError::Json {
        pointer: "/".to_owned(),
        message: format!(
            "not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        ),
    })?;
    let Value::Object(map) = value else {
        return Err(json_err("", "the body must be a JSON object"));
    };
    if map.len() != 1 {
        return Err(json_err(
            "",
            format!(
                "the body must have exactly one root key, found {}",
                map.len()
            ),
        ));
    }
    let Some((key, inner)) = map.into_iter().next() else {
        return Err(json_err("", "no root key"));
    };
    let local = key
        .rsplit_once(':')
        .map_or(key.as_str(), |(_, l)| l)
        .to_owned();
    Ok((local, inner))
}

/// Converts a JSON message into an element tree ordered as the XSD says.
///
/// The root key must name a message type with a loaded schema; every key
/// must be an element (or attribute) of its parent's type.
pub fn json_to_element(schemas: &SchemaSet, bytes: &[u8]) -> Result<Element, DeclarationError> {
    let (root_name, inner) = root_of_json(bytes)?;
    let message = MessageType::from_code(&root_name)
        .ok_or_else(|| json_err("", format!("unknown root element {root_name:?}")))?;
    let ty = schemas
        .root_type(message)
        .ok_or_else(|| json_err("", format!("no schema for root element {root_name:?}")))?;
    let mut root = Element::new(&root_name);
    // The pointer of the root object.
    let key = bytes_root_key(bytes).unwrap_or_else(|| root_name.clone());
    let ptr = format!("/{}", pointer_escape(&key));
    fill(schemas, ty, &inner, &ptr, &mut root)?;
    root.assign_xpaths();
    Ok(root)
}

fn bytes_root_key(bytes: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    v.as_object()?.keys().next().cloned()
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn fill(
    schemas: &SchemaSet,
    ty: &ComplexType,
    value: &Value,
    ptr: &str,
    out: &mut Element,
) -> Result<(), DeclarationError> {
    let Value::Object(map) = value else {
        return Err(json_err(ptr, format!("{} must be an object", out.name)));
    };
    // (sequence position, key order, element)
    let mut children: Vec<(usize, usize, Element)> = Vec::new();
    for (order, (key, v)) in map.iter().enumerate() {
        let kptr = format!("{ptr}/{}", pointer_escape(key));
        if let Some(attr) = key.strip_prefix('@') {
            if !ty.attributes.iter().any(|a| a == attr) {
                return Err(json_err(
                    &kptr,
                    format!("unknown attribute {attr:?} of {}", out.name),
                ));
            }
            let text = scalar_text(v)
                .ok_or_else(|| json_err(&kptr, "an attribute must be a string or number"))?;
            out.attributes.push((attr.to_owned(), text));
            continue;
        }
        let (pos, particle) = ty
            .particle(key)
            .ok_or_else(|| json_err(&kptr, format!("unknown element {key:?} in {}", out.name)))?;
        let child_type = particle
            .type_name
            .as_deref()
            .and_then(|t| schemas.complex_type(t));
        let items: Vec<(String, &Value)> = match v {
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, x)| (format!("{kptr}/{i}"), x))
                .collect(),
            other => vec![(kptr.clone(), other)],
        };
        for (iptr, item) in items {
            let mut el = Element::new(key);
            match child_type {
                Some(ct) => fill(schemas, ct, item, &iptr, &mut el)?,
                None => {
                    el.text = scalar_text(item).ok_or_else(|| {
                        json_err(&iptr, format!("{key} must be a string, number or boolean"))
                    })?;
                }
            }
            children.push((pos, order, el));
        }
    }
    children.sort_by_key(|(pos, order, _)| (*pos, *order));
    out.children.extend(children.into_iter().map(|(_, _, e)| e));
    Ok(())
}
