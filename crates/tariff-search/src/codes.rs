//! Recognising goods codes in a query.

/// Digit counts of a code: chapter, heading, HS subheading, CN code, TARIC code.
const CODE_LENGTHS: [usize; 5] = [2, 4, 6, 8, 10];

/// The digits of `s` when it is made only of digits, spaces and dots (at least one digit).
fn digits_only(s: &str) -> Option<String> {
    let mut digits = String::new();
    for c in s.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '.' | '\t' => {}
            _ => return None,
        }
    }
    (!digits.is_empty()).then_some(digits)
}

/// The code of a whole query that is a code: `"0103 92"` → `"010392"`.
pub(crate) fn whole_query_code(text: &str) -> Option<String> {
    digits_only(text).filter(|d| CODE_LENGTHS.contains(&d.len()))
}

/// A query split into code prefixes and the remaining words.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Mixed {
    /// Codes found in the query, in order (digits only).
    pub codes: Vec<String>,
    /// The query with those codes removed.
    pub text: String,
}

/// Splits a query with words into code prefixes and text: a run of whitespace-separated tokens
/// made of digits and dots whose digits form a 4-, 6-, 8- or 10-digit code that does not reduce
/// to a chapter (`"2500"` is a quantity, not heading 25 00) is taken as a code when `known`
/// says lines exist under it.
pub(crate) fn split_mixed(text: &str, known: impl Fn(&str) -> bool) -> Mixed {
    let mut out = Mixed::default();
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let mut i = 0;
    while i < tokens.len() {
        let mut j = i;
        let mut digits = String::new();
        while j < tokens.len() {
            match digits_only(tokens[j]) {
                Some(d) => digits.push_str(&d),
                None => break,
            }
            j += 1;
        }
        if j > i && is_code(&digits) && known(&digits) {
            out.codes.push(digits);
            i = j;
            continue;
        }
        let end = j.max(i + 1);
        for t in &tokens[i..end] {
            if !out.text.is_empty() {
                out.text.push(' ');
            }
            out.text.push_str(t);
        }
        i = end;
    }
    out
}

fn is_code(digits: &str) -> bool {
    if !CODE_LENGTHS[1..].contains(&digits.len()) {
        return false;
    }
    let significant = digits.trim_end_matches("00");
    // `trim_end_matches("00")` removes pairs from the end; an odd count of trailing zeros
    // leaves one, which is fine: `"8470"` keeps 4 digits.
    significant.len() > 2
}
