use crate::ids::CurrencyCode;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An amount of money: a decimal (never a float) and its ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Money {
    /// Decimal amount, serialised as a string (e.g. `"1260.89"`).
    #[schema(value_type = String, example = "1260.89")]
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub currency: CurrencyCode,
}

impl Money {
    pub fn new(amount: Decimal, currency: CurrencyCode) -> Self {
        Self { amount, currency }
    }
}

/// The plain digits of a decimal `mantissa × 10^-scale` (no sign), for writing numbers
/// without allocating: right-aligned in a fixed buffer, with leading zeros up to one integer
/// digit before the fraction (`5`, scale 2 → `0` and `05`). Used where a `Decimal`'s
/// mantissa fits in a `u64` (every amount of a duty calculation).
pub struct PlainDigits {
    buf: [u8; 40],
    start: usize,
    scale: usize,
}

impl PlainDigits {
    /// The digits of `mantissa` with `scale` of them after the point. A `Decimal` scale is
    /// at most 28 and a `u64` has at most 20 digits, so they always fit.
    pub fn new(mut mantissa: u64, scale: u32) -> PlainDigits {
        let scale = (scale as usize).min(38);
        let mut buf = [b'0'; 40];
        let mut start = buf.len();
        loop {
            start -= 1;
            if let Some(b) = buf.get_mut(start) {
                *b = b'0' + (mantissa % 10) as u8;
            }
            mantissa /= 10;
            if mantissa == 0 {
                break;
            }
        }
        let start = start.min(buf.len().saturating_sub(scale + 1));
        PlainDigits { buf, start, scale }
    }

    /// Every digit, integer part first.
    pub fn all(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }

    /// The integer digits (at least one) and the fraction digits (`scale` of them).
    pub fn split(&self) -> (&[u8], &[u8]) {
        let all = self.all();
        all.split_at(all.len().saturating_sub(self.scale))
    }
}
