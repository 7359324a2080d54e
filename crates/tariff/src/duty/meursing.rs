//! [`MeursingFigures`]: a Meursing table held in memory.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::evaluate::MeursingTable;
use super::expressions::MeursingKind;

/// A Meursing table held in memory: for each Meursing additional code (`"7000"`) and
/// kind, an amount in EUR and its unit (`"DTN"`, or `"%"` for a percentage of the customs
/// value). Built by the caller, e.g. from the tariff's Meursing measures
/// ([`crate::measures::meursing_figures`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeursingFigures {
    figures: BTreeMap<(String, MeursingKind), (Decimal, String)>,
}

impl MeursingFigures {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the figure of `code` for `kind` (replacing an earlier one).
    pub fn insert(&mut self, code: &str, kind: MeursingKind, amount: Decimal, unit: &str) {
        self.figures
            .insert((code.to_owned(), kind), (amount, unit.to_owned()));
    }

    /// Whether the table has no figure at all.
    pub fn is_empty(&self) -> bool {
        self.figures.is_empty()
    }

    /// The number of figures.
    pub fn len(&self) -> usize {
        self.figures.len()
    }
}

impl MeursingTable for MeursingFigures {
    fn component(&self, meursing_code: &str, kind: MeursingKind) -> Option<(Decimal, String)> {
        self.figures.get(&(meursing_code.to_owned(), kind)).cloned()
    }
}
