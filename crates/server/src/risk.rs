//! The one risk-assessment interface every accepted declaration goes through, whatever the
//! procedure: a transit departure (NCTS, [`crate::transit`]) or a WCO DMS import or export
//! ([`crate::dms`]). Each service describes its declaration as a [`RiskSubject`] (procedure,
//! administration, declarant, offices, and per item the commodity code, origin and value) and
//! asks a [`LaneAssessor`] for an [`Assessment`], whose [`Lane`] decides between release and
//! control.
//!
//! The only implementation today is [`ConfiguredLane`]: the lane configured per administration
//! (default green). It is a configuration, **not** a risk analysis; the risk service (issue 5)
//! will implement the trait.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::str::FromStr;

/// The risk lane of an accepted declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Lane {
    /// Release without control.
    Green,
    /// Documentary control.
    Yellow,
    /// Documentary control, physical control possible.
    Orange,
    /// Physical control.
    Red,
}

impl Lane {
    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Green => "green",
            Lane::Yellow => "yellow",
            Lane::Orange => "orange",
            Lane::Red => "red",
        }
    }
}

impl FromStr for Lane {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "green" => Ok(Lane::Green),
            "yellow" => Ok(Lane::Yellow),
            "orange" => Ok(Lane::Orange),
            "red" => Ok(Lane::Red),
            _ => Err(format!("unknown lane {s:?} (green, yellow, orange, red)")),
        }
    }
}

/// What a lane assessment says, recorded in the declaration's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub lane: Lane,
    /// Which assessor decided (e.g. `configured default lane`).
    pub assessor: &'static str,
}

/// The procedure of the declaration assessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Procedure {
    /// An NCTS transit declaration (CC015C) at departure.
    TransitDeparture,
    /// A WCO DMS import declaration.
    Import,
    /// A WCO DMS export declaration.
    Export,
}

/// One goods item as the assessor sees it. What the declaration does not give is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RiskItem {
    /// The item's number in the declaration.
    pub sequence: u32,
    /// The commodity code as declared (6, 8 or 10 digits).
    pub commodity_code: Option<String>,
    /// The country of origin (ISO 3166-1 alpha-2).
    pub origin: Option<String>,
    /// The declared value (customs value, else the item price) and its currency.
    pub value: Option<Decimal>,
    pub currency: Option<String>,
}

/// What is assessed: one accepted declaration of any procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskSubject {
    pub procedure: Procedure,
    /// The administration the declaration belongs to (ISO 3166-1 alpha-2).
    pub administration: String,
    /// The declarant's (transit: the holder's) EORI.
    pub declarant: String,
    /// The customs offices named (departure, destination, routing, exit … as the procedure has
    /// them), first the competent one.
    pub offices: Vec<String>,
    pub items: Vec<RiskItem>,
}

/// The one risk-assessment interface.
pub trait LaneAssessor: Send + Sync {
    fn assess(&self, subject: &RiskSubject) -> Assessment;
}

/// The lane configured per administration (and a default for the others). This is a
/// configuration, not a risk analysis: it gives every declaration of an administration the
/// same lane until the risk service (issue 5) implements [`LaneAssessor`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredLane {
    pub default: Lane,
    pub per_administration: HashMap<String, Lane>,
}

impl LaneAssessor for ConfiguredLane {
    fn assess(&self, subject: &RiskSubject) -> Assessment {
        Assessment {
            lane: self
                .per_administration
                .get(&subject.administration)
                .copied()
                .unwrap_or(self.default),
            assessor: "configured default lane",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(procedure: Procedure, administration: &str) -> RiskSubject {
        RiskSubject {
            procedure,
            administration: administration.to_owned(),
            declarant: "NL000000001".to_owned(),
            offices: vec![format!("{administration}000001")],
            items: vec![RiskItem {
                sequence: 1,
                commodity_code: Some("0805102200".to_owned()),
                origin: Some("MA".to_owned()),
                value: Some(Decimal::from(1000)),
                currency: Some("EUR".to_owned()),
            }],
        }
    }

    #[test]
    fn configured_lane_per_administration_for_every_procedure() {
        let lanes = ConfiguredLane {
            default: Lane::Green,
            per_administration: [("DE".to_owned(), Lane::Red)].into(),
        };
        for p in [
            Procedure::TransitDeparture,
            Procedure::Import,
            Procedure::Export,
        ] {
            assert_eq!(lanes.assess(&subject(p, "NL")).lane, Lane::Green);
            assert_eq!(lanes.assess(&subject(p, "DE")).lane, Lane::Red);
            assert_eq!(
                lanes.assess(&subject(p, "DE")).assessor,
                "configured default lane"
            );
        }
    }

    #[test]
    fn lanes_parse_and_print() {
        for l in [Lane::Green, Lane::Yellow, Lane::Orange, Lane::Red] {
            assert_eq!(l.as_str().parse::<Lane>(), Ok(l));
        }
        assert_eq!("RED".parse::<Lane>(), Ok(Lane::Red));
        assert!("purple".parse::<Lane>().is_err());
    }
}
