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
