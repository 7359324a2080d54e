//! NCTS rule R0520: what an amendment (CC013C) may change in the declaration it amends (the
//! CC015C, or the last accepted CC013C).
//!
//! * `amendmentTypeFlag` `1` while the movement is in state "guarantee under amendment" (our
//!   `guarantee_invalid`): only the `Guarantee` data group may differ;
//! * `amendmentTypeFlag` `0` otherwise: everything may change except the holder of the
//!   transit procedure, the representative, the customs office of departure, the
//!   declaration type, the additional declaration type, the security indicator and each
//!   goods item's HS subheading code. (The MRN and the LRN are not compared here: they
//!   identify the movement, and a message naming another one is refused as such, error 90.)
//!
//! Pure: both messages are parsed trees.

use crate::tree::Element;
use crate::validate::{FunctionalError, RULE_VIOLATION};

/// The header fields, which identify the message rather than the declaration.
const HEADER: &[&str] = &[
    "messageSender",
    "messageRecipient",
    "preparationDateAndTime",
    "messageIdentification",
    "messageType",
    "correlationIdentifier",
];

/// `TransitOperation` items that tell which movement and which kind of amendment.
const IDENTIFYING: &[&str] = &["LRN", "MRN", "amendmentTypeFlag"];

/// Data groups a normal amendment may not change.
const FIXED_GROUPS: &[&str] = &[
    "HolderOfTheTransitProcedure",
    "Representative",
    "CustomsOfficeOfDeparture",
];

/// `TransitOperation` items a normal amendment may not change.
const FIXED_ITEMS: &[&str] = &["declarationType", "additionalDeclarationType", "security"];

/// The R0520 violations of `amendment` (a CC013C root) against `previous` (the declaration
/// as it stands), one per data group or item changed that may not be; empty when the rule
/// holds or does not apply (a flag that does not match the movement's state).
pub fn r0520(
    amendment: &Element,
    previous: &Element,
    guarantee_under_amendment: bool,
) -> Vec<FunctionalError> {
    let flag = amendment.text_at("TransitOperation/amendmentTypeFlag");
    let mut out = Vec::new();
    match (flag, guarantee_under_amendment) {
        (Some("1"), true) => guarantee_only(amendment, previous, &mut out),
        (Some("0"), false) => fixed_parts(amendment, previous, &mut out),
        _ => {}
    }
    out
}

/// Only `Guarantee` may differ: every other top-level group, and `TransitOperation` but for
/// its identifying items.
fn guarantee_only(amendment: &Element, previous: &Element, out: &mut Vec<FunctionalError>) {
    let names = group_names(amendment, previous);
    for name in names {
        if name == "Guarantee" || HEADER.contains(&name) {
            continue;
        }
        if name == "TransitOperation" {
            let (a, p) = (amendment.child(name), previous.child(name));
            let items = group_names_of(a, p);
            for item in items {
                if IDENTIFYING.contains(&item) {
                    continue;
                }
                compare(
                    amendment,
                    &format!("{name}/{item}"),
                    a.and_then(|e| e.child(item)),
                    p.and_then(|e| e.child(item)),
                    "while the guarantee is under amendment only the Guarantee may be amended",
                    out,
                );
            }
            continue;
        }
        compare_all(
            amendment,
            name,
            previous,
            "while the guarantee is under amendment only the Guarantee may be amended",
            out,
        );
    }
}

/// The parts a normal amendment keeps as declared.
fn fixed_parts(amendment: &Element, previous: &Element, out: &mut Vec<FunctionalError>) {
    for group in FIXED_GROUPS {
        compare_all(
            amendment,
            group,
            previous,
            "this data group cannot be amended",
            out,
        );
    }
    for item in FIXED_ITEMS {
        let path = format!("TransitOperation/{item}");
        compare(
            amendment,
            &path,
            amendment.at(&path),
            previous.at(&path),
            "this data item cannot be amended",
            out,
        );
    }
    // Each goods item's HS subheading, matched by house consignment and goods item number
    // (items added or removed by the amendment have nothing to compare with).
    let items = |root: &'_ Element| -> Vec<(String, String, Option<Element>)> {
        let mut v = Vec::new();
        if let Some(c) = root.child("Consignment") {
            for house in c.children_named("HouseConsignment") {
                let h = house
                    .text_at("sequenceNumber")
                    .unwrap_or_default()
                    .to_owned();
                for item in house.children_named("ConsignmentItem") {
                    let n = item
                        .text_at("goodsItemNumber")
                        .unwrap_or_default()
                        .to_owned();
                    let code = item
                        .at("Commodity/CommodityCode/harmonizedSystemSubHeadingCode")
                        .cloned();
                    v.push((h.clone(), n, code));
                }
            }
        }
        v
    };
    let before = items(previous);
    for (house, number, code) in items(amendment) {
        let Some((_, _, was)) = before.iter().find(|(h, n, _)| *h == house && *n == number) else {
            continue;
        };
        if !same_opt(code.as_ref(), was.as_ref()) {
            out.push(violation(
                amendment,
                code.as_ref(),
                "Consignment/HouseConsignment/ConsignmentItem/Commodity/CommodityCode/harmonizedSystemSubHeadingCode",
                &format!(
                    "the HS subheading code of goods item {number} cannot be amended (it was {})",
                    was.as_ref().map_or("absent", |w| w.text.as_str())
                ),
            ));
        }
    }
}

/// Compares every occurrence of the top-level group `name` in both messages (groups such
/// as `Guarantee` repeat), reporting the first that differs.
fn compare_all(
    amendment: &Element,
    name: &str,
    previous: &Element,
    reason: &str,
    out: &mut Vec<FunctionalError>,
) {
    let a: Vec<&Element> = amendment.children_named(name).collect();
    let p: Vec<&Element> = previous.children_named(name).collect();
    let first =
        (0..a.len().max(p.len())).find(|&i| !same_opt(a.get(i).copied(), p.get(i).copied()));
    if let Some(i) = first {
        compare(
            amendment,
            name,
            a.get(i).copied(),
            p.get(i).copied(),
            reason,
            out,
        );
    }
}

fn compare(
    amendment: &Element,
    path: &str,
    a: Option<&Element>,
    p: Option<&Element>,
    reason: &str,
    out: &mut Vec<FunctionalError>,
) {
    if !same_opt(a, p) {
        let reason = match (a, p) {
            (None, Some(_)) => format!("{reason} (removed)"),
            (Some(_), None) => format!("{reason} (added)"),
            _ => reason.to_owned(),
        };
        out.push(violation(amendment, a, path, &reason));
    }
}

fn violation(
    amendment: &Element,
    at: Option<&Element>,
    path: &str,
    reason: &str,
) -> FunctionalError {
    FunctionalError {
        code: RULE_VIOLATION,
        error_pointer: at.map_or_else(
            || format!("/{}/{path}", amendment.name),
            |e| e.xpath.clone(),
        ),
        rule: Some("R0520".to_owned()),
        reason: format!("R0520: {reason}"),
        original_value: at.filter(|e| e.children.is_empty()).map(|e| e.text.clone()),
    }
}

/// The distinct names of the children of both elements, in order of first appearance.
fn group_names<'a>(a: &'a Element, b: &'a Element) -> Vec<&'a str> {
    group_names_of(Some(a), Some(b))
}

fn group_names_of<'a>(a: Option<&'a Element>, b: Option<&'a Element>) -> Vec<&'a str> {
    let mut names: Vec<&str> = Vec::new();
    for e in a.into_iter().chain(b) {
        for c in &e.children {
            if !names.contains(&c.name.as_str()) {
                names.push(&c.name);
            }
        }
    }
    names
}

fn same_opt(a: Option<&Element>, b: Option<&Element>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => same(a, b),
        _ => false,
    }
}

/// The same element content: name, text (trimmed) and children in order, whatever the
/// positions in their messages.
fn same(a: &Element, b: &Element) -> bool {
    a.name == b.name
        && a.text.trim() == b.text.trim()
        && a.children.len() == b.children.len()
        && a.children.iter().zip(&b.children).all(|(x, y)| same(x, y))
}
