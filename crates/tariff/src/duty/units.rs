//! Declared quantities, measurement unit conversions and unit abbreviations.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::model::DutyError;

/// Declared quantities keyed by measurement unit code plus optional qualifier, e.g.
/// `"KGM"`, `"TNE"`, `"TNEI"` (tonnes of biodiesel content), `"HLT"`, `"ASV"`.
///
/// - `ASV` holds the alcoholic strength in % vol (e.g. `40` for 40 % vol); a duty per
///   `ASV` is charged per % vol per hectolitre, i.e. on `%vol × hl`.
/// - `LPA` (litres of pure alcohol) is taken as given, or derived from the volume and the
///   strength: `l alc. 100 % = hl × 100 × %vol / 100 = hl × %vol`.
/// - Mass (`GRM`, `KGM`, `DTN` = 100 kg, `TNE` = 1000 kg), volume (`MLT`, `LTR`,
///   `HLT` = 100 l, `KLT` = 1000 l, `MTQ` = 1000 l), pieces (`NAR`, `CEN` = 100,
///   `MIL` = 1000) and length (`MTR`, `HMT`, `KMT`) convert within their family.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quantities(BTreeMap<String, Decimal>);

/// Unit families: (code, size in the family's base unit).
const FAMILIES: &[&[(&str, i64, u32)]] = &[
    // mass, base kg: value = mantissa / 10^scale
    &[
        ("GRM", 1, 3),
        ("KGM", 1, 0),
        ("DTN", 100, 0),
        ("TNE", 1000, 0),
    ],
    // volume, base litre
    &[
        ("MLT", 1, 3),
        ("LTR", 1, 0),
        ("HLT", 100, 0),
        ("KLT", 1000, 0),
        ("MTQ", 1000, 0),
    ],
    // pieces
    &[("NAR", 1, 0), ("CEN", 100, 0), ("MIL", 1000, 0)],
    // length, base metre
    &[("MTR", 1, 0), ("HMT", 100, 0), ("KMT", 1000, 0)],
];

fn family_of(unit: &str) -> Option<&'static [(&'static str, i64, u32)]> {
    FAMILIES
        .iter()
        .copied()
        .find(|f| f.iter().any(|(u, _, _)| *u == unit))
}

fn factor(family: &[(&str, i64, u32)], unit: &str) -> Option<Decimal> {
    family
        .iter()
        .find(|(u, _, _)| *u == unit)
        .map(|(_, m, s)| Decimal::new(*m, *s))
}

fn key(unit: &str, qualifier: Option<&str>) -> String {
    format!("{unit}{}", qualifier.unwrap_or(""))
}

impl Quantities {
    /// No quantities.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builder: adds `value` under `key` (unit code plus optional qualifier, e.g. `"TNEI"`).
    pub fn with(mut self, key: &str, value: Decimal) -> Self {
        self.insert(key, value);
        self
    }

    /// Adds or replaces the quantity under `key`.
    pub fn insert(&mut self, key: &str, value: Decimal) {
        self.0.insert(key.to_owned(), value);
    }

    /// The quantity exactly as declared under `key`.
    pub fn get(&self, key: &str) -> Option<Decimal> {
        self.0.get(key).copied()
    }

    /// Qualified key first, then the unqualified one.
    fn direct(&self, unit: &str, qualifier: Option<&str>) -> Option<Decimal> {
        qualifier
            .and_then(|q| self.get(&key(unit, Some(q))))
            .or_else(|| self.get(unit))
    }

    /// In `unit` within its family, converting from any declared unit of the family:
    /// qualified quantities first (same unit, then other units), then unqualified ones.
    fn in_family(&self, unit: &str, qualifier: Option<&str>) -> Result<Option<Decimal>, DutyError> {
        let Some(family) = family_of(unit) else {
            return Ok(self.direct(unit, qualifier));
        };
        let Some(target) = factor(family, unit) else {
            return Ok(None);
        };
        let mut qualifiers: Vec<Option<&str>> = Vec::new();
        if qualifier.is_some() {
            qualifiers.push(qualifier);
        }
        qualifiers.push(None);
        for q in qualifiers {
            let same = std::iter::once(unit);
            let others = family.iter().map(|(u, _, _)| *u).filter(|u| *u != unit);
            for src in same.chain(others) {
                if let Some(v) = self.get(&key(src, q)) {
                    let f = factor(family, src).ok_or(DutyError::Overflow)?;
                    let converted = v
                        .checked_mul(f)
                        .and_then(|x| x.checked_div(target))
                        .ok_or(DutyError::Overflow)?;
                    return Ok(Some(converted));
                }
            }
        }
        Ok(None)
    }

    /// The quantity to charge a specific duty on, in `unit` (with its `qualifier`), after
    /// conversion. `ASV` gives `%vol × hl`; `LPA` is declared or `hl × %vol`.
    /// A missing quantity is an error naming the unit, never zero.
    pub fn resolve(&self, unit: &str, qualifier: Option<&str>) -> Result<Decimal, DutyError> {
        let missing = |u: &str| DutyError::MissingQuantity {
            unit: key(u, qualifier),
        };
        match unit {
            "ASV" => {
                let strength = self
                    .direct("ASV", qualifier)
                    .ok_or_else(|| missing("ASV"))?;
                let hl = self
                    .in_family("HLT", qualifier)?
                    .ok_or_else(|| missing("HLT"))?;
                strength.checked_mul(hl).ok_or(DutyError::Overflow)
            }
            "LPA" => {
                if let Some(v) = self.direct("LPA", qualifier) {
                    return Ok(v);
                }
                let strength = self.direct("ASV", qualifier);
                let hl = self.in_family("HLT", qualifier)?;
                match (strength, hl) {
                    (Some(s), Some(h)) => s.checked_mul(h).ok_or(DutyError::Overflow),
                    _ => Err(missing("LPA")),
                }
            }
            _ => self
                .in_family(unit, qualifier)?
                .ok_or_else(|| missing(unit)),
        }
    }
}

/// Readable abbreviation of a measurement unit, as in the UK tariff (e.g. `DTN` →
/// `"100 kg"`, `TNE` → `"1000 kg"`, `HLT` → `"hl"`, `ASV` → `"% vol/hl"`). Unknown codes
/// are shown as the code.
pub fn unit_abbreviation(unit: &str) -> &str {
    match unit {
        "ASV" => "% vol/hl",
        "CCT" => "ct/l",
        "CEN" => "100 p/st",
        "CTM" => "c/k",
        "DAP" => "10 000 kg/polar",
        "DTN" => "100 kg",
        "GFI" => "gi F/S",
        "GRM" => "g",
        "HLT" => "hl",
        "HMT" => "100 m",
        "KGM" => "kg",
        "KLT" => "1000 l",
        "KMA" => "kg met.am.",
        "KMT" => "1000 m",
        "KNI" => "kg N",
        "KNS" => "kg H2O2",
        "KPH" => "kg KOH",
        "KPO" => "kg K2O",
        "KPP" => "kg P2O5",
        "KSD" => "kg 90 % sdt",
        "KSH" => "kg NaOH",
        "KUR" => "kg U",
        "LPA" => "l alc. 100%",
        "LTR" => "l",
        "MIL" => "1000 p/st",
        "MLT" => "ml",
        "MTK" => "m2",
        "MTQ" => "m3",
        "MTR" => "m",
        "MWH" => "1000 kWh",
        "NAR" => "p/st",
        "NCL" => "ce/el",
        "NPR" => "pa",
        "TJO" => "TJ",
        "TNE" => "1000 kg",
        other => other,
    }
}

/// Readable text of a measurement unit qualifier (e.g. `I` → `"of biodiesel content"`).
/// Unknown codes are shown as the code.
pub fn qualifier_abbreviation(qualifier: &str) -> &str {
    match qualifier {
        "A" => "tot alc",
        "C" => "1 000",
        "E" => "net drained wt",
        "G" => "gross",
        "I" => "of biodiesel content",
        "M" => "net dry",
        "P" => "lactic matter",
        "R" => "std qual",
        "S" => "raw sugar",
        "T" => "dry lactic matter",
        "X" => "hl",
        "Z" => "% sacchar.",
        other => other,
    }
}

/// Formats a decimal with at least `min_scale` decimals (more if significant) and,
/// when `group` is set, comma thousands separators: `1260.891` → `"1,260.891"`.
pub(crate) fn fmt_decimal(d: Decimal, min_scale: usize, group: bool) -> String {
    let mut out = String::with_capacity(24);
    push_decimal(&mut out, d, min_scale, group);
    out
}

/// A fixed buffer for the digits of one `Decimal` (at most 29 digits, a sign and a point),
/// so that formatting a number for a formula does not allocate.
struct DigitBuf {
    buf: [u8; 64],
    len: usize,
}

impl std::fmt::Write for DigitBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// [`fmt_decimal`], appended to `out`.
///
/// The digits come straight from the mantissa when it fits in a `u64` (every amount and
/// rate of a calculation): trailing fractional zeros stripped as `Decimal::normalize` does,
/// then the same text as `Display` of the normalized value. Larger mantissas go through
/// `Display` ([`push_decimal_display`]).
pub(crate) fn push_decimal(out: &mut String, d: Decimal, min_scale: usize, group: bool) {
    let Ok(mut m) = u64::try_from(d.mantissa().unsigned_abs()) else {
        return push_decimal_display(out, d, min_scale, group);
    };
    let mut scale = d.scale() as usize;
    while scale > 0 && m % 10 == 0 {
        m /= 10;
        scale -= 1;
    }
    let digits = portorium_kernel::PlainDigits::new(m, scale as u32);
    let all = digits.all();
    let (int, frac) = digits.split();
    // Display of a normalized value: a zero has no sign.
    let negative = d.is_sign_negative() && all.iter().any(|&b| b != b'0');
    let mut text = [0u8; 64];
    let mut n = 0;
    let mut put = |b: u8| {
        if let Some(slot) = text.get_mut(n) {
            *slot = b;
            n += 1;
        }
    };
    if negative {
        put(b'-');
    }
    for (i, &b) in int.iter().enumerate() {
        if group && i > 0 && (int.len() - i) % 3 == 0 {
            put(b',');
        }
        put(b);
    }
    if !frac.is_empty() || min_scale > 0 {
        put(b'.');
        for &b in frac {
            put(b);
        }
        for _ in frac.len()..min_scale {
            put(b'0');
        }
    }
    match text.get(..n).map(std::str::from_utf8) {
        Some(Ok(t)) if n < text.len() => out.push_str(t),
        // Not reached (ASCII digits, at most 20 + 6 + 1 + 28 bytes); kept infallible.
        _ => push_decimal_display(out, d, min_scale, group),
    }
}

/// [`push_decimal`] through `Display` of the normalized value.
fn push_decimal_display(out: &mut String, d: Decimal, min_scale: usize, group: bool) {
    use std::fmt::Write as _;
    let mut digits = DigitBuf {
        buf: [0; 64],
        len: 0,
    };
    let text = match write!(digits, "{}", d.normalize()) {
        Ok(()) => std::str::from_utf8(digits.buf.get(..digits.len).unwrap_or_default()).ok(),
        Err(_) => None,
    };
    // A Decimal's text always fits; the fallback keeps this infallible all the same.
    let owned;
    let text = match text {
        Some(t) => t,
        None => {
            owned = d.normalize().to_string();
            owned.as_str()
        }
    };
    let (sign, body) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    out.reserve(sign.len() + int.len() * 4 / 3 + 2 + frac.len().max(min_scale));
    out.push_str(sign);
    if group {
        let n = int.len();
        for (i, ch) in int.char_indices() {
            if i > 0 && (n - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
    } else {
        out.push_str(int);
    }
    if !frac.is_empty() || min_scale > 0 {
        out.push('.');
        out.push_str(frac);
        for _ in frac.len()..min_scale {
            out.push('0');
        }
    }
}

/// Money for display: rounded half away from zero to 2 decimals, grouped.
pub(crate) fn fmt_money(d: Decimal) -> String {
    let mut out = String::with_capacity(16);
    push_money(&mut out, d);
    out
}

/// [`fmt_money`], appended to `out`.
pub(crate) fn push_money(out: &mut String, d: Decimal) {
    let r = d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let r = if r.is_zero() { Decimal::ZERO } else { r };
    push_decimal(out, r, 2, true)
}

#[cfg(test)]
mod tests {
    use super::{push_decimal, push_decimal_display};
    use rust_decimal::Decimal;

    /// The digits from the mantissa give exactly what `Display` of the normalized value
    /// gives, for every scale, sign, grouping and minimum scale.
    #[test]
    fn push_decimal_is_the_display_of_the_normalized_value() {
        let mut mantissas: Vec<i128> = vec![0, 1, 5, 9, 10, 100, 1_000, 1_234, 999_999, 1_000_000];
        let mut x: i128 = 7;
        for _ in 0..60 {
            x = x.wrapping_mul(31).wrapping_add(11);
            mantissas.push(x % 10_000_000_000_000_000_000_000);
        }
        mantissas.extend([
            i128::from(u64::MAX),
            i128::from(u64::MAX) + 1,
            i128::from(u64::MAX) * 10,
            79_228_162_514_264_337_593_543_950_335,
        ]);
        for m in mantissas {
            for m in [m, -m] {
                for scale in [0, 1, 2, 3, 5, 10, 19, 20, 21, 28] {
                    let Ok(d) = Decimal::try_from_i128_with_scale(m, scale) else {
                        continue;
                    };
                    for (min_scale, group) in [(0, false), (2, true), (2, false), (4, true)] {
                        let mut fast = String::new();
                        let mut display = String::new();
                        push_decimal(&mut fast, d, min_scale, group);
                        push_decimal_display(&mut display, d, min_scale, group);
                        assert_eq!(fast, display, "{m} scale {scale} ({min_scale}, {group})");
                    }
                }
            }
        }
        let mut negative_zero = Decimal::new(0, 2);
        negative_zero.set_sign_negative(true);
        let mut s = String::new();
        push_decimal(&mut s, negative_zero, 2, true);
        assert_eq!(s, "0.00");
    }
}
