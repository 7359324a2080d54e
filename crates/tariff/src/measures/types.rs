//! Measure types: a built-in table of the common TARIC measure types and of the national
//! measure types administrations use in their national layers.
//!
//! National tariffs extend TARIC with their own measure types, identified by three
//! letters (TARIC's own are digits): VAT rates (`VTS` standard, `VTR` reduced, `VTZ`
//! zero, `VTE` exempt), excise duties (`EX*`) and national prohibitions and restrictions
//! (`NP*`, `NR*`). The duty calculation treats them by their [`MeasureKind`]: VAT types
//! like TARIC's 305 (on the VAT base, after every duty), excise types like 306.

use serde::{Deserialize, Serialize};

use crate::duty::MeursingKind;

/// What a measure type does, for applicability and duty calculation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureKind {
    /// Third-country (MFN) duty, including under end-use (103, 105).
    ThirdCountry,
    /// Tariff preference or customs union duty (106, 141, 142, 145).
    Preference,
    /// Autonomous suspension (112, 115, 117, 119).
    Suspension,
    /// Tariff quota, preferential or not (122, 123, 143, 146, 147).
    Quota,
    /// Anti-dumping or countervailing duty, provisional or definitive (551 to 554).
    AntiDumping,
    /// Additional duties (695, 696).
    AdditionalDuty,
    /// Value added tax (305; national VTS, VTR, VTZ, VTE).
    Vat,
    /// Excise (306; national EXA, EXB, EXI, EXW, EXS, EXT, EXC, EXF, EXG, EXH).
    Excise,
    /// Import or export prohibition (277, 278).
    Prohibition,
    /// Anything else: controls, restrictions, notices, suspended duties, the figures of the
    /// Meursing table (672, 673, 674, see [`MEURSING_TYPES`]); never a duty line.
    Other,
}

impl MeasureKind {
    /// Whether a measure of this kind is a way to declare (its own duty option).
    pub fn is_option(self) -> bool {
        matches!(
            self,
            Self::ThirdCountry | Self::Preference | Self::Suspension | Self::Quota
        )
    }

    /// Whether a measure of this kind adds a duty on top of every option.
    pub fn is_stacked(self) -> bool {
        matches!(self, Self::AntiDumping | Self::AdditionalDuty)
    }
}

/// The measure types holding the Meursing table's figures, on Meursing additional codes
/// (type 7, e.g. `7000`), with the figure each gives (full, reduced): 672 the agricultural
/// component, 673 the additional duty on sugar, 674 the additional duty on flour. The
/// measure on erga omnes (`1011`) gives the full figure; one on another area (a
/// preferential origin) gives the reduced figure for that origin.
pub const MEURSING_TYPES: &[(&str, MeursingKind, MeursingKind)] = &[
    (
        "672",
        MeursingKind::AgriculturalComponent,
        MeursingKind::ReducedAgriculturalComponent,
    ),
    (
        "673",
        MeursingKind::AdditionalDutyOnSugar,
        MeursingKind::ReducedAdditionalDutyOnSugar,
    ),
    (
        "674",
        MeursingKind::AdditionalDutyOnFlour,
        MeursingKind::ReducedAdditionalDutyOnFlour,
    ),
];

/// A measure type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureTypeInfo {
    /// Measure type id, e.g. `"103"`.
    pub id: String,
    /// Description, e.g. `"Third country duty"`.
    pub description: String,
    /// TARIC measure type series: `A` prohibitions, `B` entry subject to conditions, `C`
    /// applicable duty, `D` anti-dumping/countervailing, `F` additional duties, `P` VAT,
    /// `Q` excise; `?` for an unknown type.
    pub series: char,
    /// What it does.
    pub kind: MeasureKind,
}

/// The built-in table: (id, description, series, kind).
pub const MEASURE_TYPES: &[(&str, &str, char, MeasureKind)] = &[
    ("103", "Third country duty", 'C', MeasureKind::ThirdCountry),
    ("105", "Non preferential duty under end-use", 'C', MeasureKind::ThirdCountry),
    ("106", "Customs Union Duty", 'C', MeasureKind::Preference),
    ("109", "Supplementary unit", 'O', MeasureKind::Other),
    ("110", "Supplementary unit import", 'O', MeasureKind::Other),
    ("112", "Autonomous tariff suspension", 'C', MeasureKind::Suspension),
    ("115", "Autonomous suspension under end-use", 'C', MeasureKind::Suspension),
    (
        "117",
        "Suspension - goods for certain categories of ships, boats and other vessels and for drilling or production platforms",
        'C',
        MeasureKind::Suspension,
    ),
    ("119", "Airworthiness tariff suspension", 'C', MeasureKind::Suspension),
    ("122", "Non preferential tariff quota", 'C', MeasureKind::Quota),
    ("123", "Non preferential tariff quota under end-use", 'C', MeasureKind::Quota),
    ("141", "Preferential suspension", 'C', MeasureKind::Preference),
    ("142", "Tariff preference", 'C', MeasureKind::Preference),
    ("143", "Preferential tariff quota", 'C', MeasureKind::Quota),
    ("145", "Preferential suspension under end-use", 'C', MeasureKind::Preference),
    ("146", "Preferential tariff quota under end-use", 'C', MeasureKind::Quota),
    ("147", "Customs Union Quota", 'C', MeasureKind::Quota),
    ("277", "Import prohibition", 'A', MeasureKind::Prohibition),
    ("278", "Export prohibition", 'A', MeasureKind::Prohibition),
    ("305", "Value added tax", 'P', MeasureKind::Vat),
    ("306", "Excises", 'Q', MeasureKind::Excise),
    ("410", "Veterinary control", 'B', MeasureKind::Other),
    ("551", "Provisional anti-dumping duty", 'D', MeasureKind::AntiDumping),
    ("552", "Definitive anti-dumping duty", 'D', MeasureKind::AntiDumping),
    ("553", "Provisional countervailing duty", 'D', MeasureKind::AntiDumping),
    ("554", "Definitive countervailing duty", 'D', MeasureKind::AntiDumping),
    (
        "555",
        "Anti-dumping/countervailing duty - Pending collection",
        'D',
        MeasureKind::Other,
    ),
    (
        "561",
        "Notice of initiation of an anti-dumping proceeding",
        'D',
        MeasureKind::Other,
    ),
    ("562", "Suspended anti-dumping/countervailing duty", 'D', MeasureKind::Other),
    ("564", "Suspended definitive anti-dumping duty", 'D', MeasureKind::Other),
    ("565", "Suspended definitive countervailing duty", 'D', MeasureKind::Other),
    ("570", "Anti-dumping/countervailing registration", 'D', MeasureKind::Other),
    ("672", "Amount of the agricultural component (Meursing table)", 'O', MeasureKind::Other),
    ("673", "Amount of the additional duty on sugar (Meursing table)", 'O', MeasureKind::Other),
    ("674", "Amount of the additional duty on flour (Meursing table)", 'O', MeasureKind::Other),
    ("695", "Additional duties", 'F', MeasureKind::AdditionalDuty),
    ("696", "Additional duties (safeguard)", 'F', MeasureKind::AdditionalDuty),
    ("750", "Import control of organic products", 'B', MeasureKind::Other),
    // National measure types (alphabetic ids).
    ("VTS", "VAT standard rate", 'P', MeasureKind::Vat),
    ("VTR", "VAT reduced rate", 'P', MeasureKind::Vat),
    ("VTZ", "VAT zero rate", 'P', MeasureKind::Vat),
    ("VTE", "VAT exempt", 'P', MeasureKind::Vat),
    ("EXA", "Excise: spirits (ethyl alcohol)", 'Q', MeasureKind::Excise),
    ("EXI", "Excise: intermediate products", 'Q', MeasureKind::Excise),
    ("EXB", "Excise: beer", 'Q', MeasureKind::Excise),
    ("EXW", "Excise: wine", 'Q', MeasureKind::Excise),
    ("EXS", "Excise: sparkling wine", 'Q', MeasureKind::Excise),
    ("EXT", "Excise: cigarettes", 'Q', MeasureKind::Excise),
    ("EXC", "Excise: cigars and cigarillos", 'Q', MeasureKind::Excise),
    ("EXF", "Excise: fine-cut smoking tobacco", 'Q', MeasureKind::Excise),
    ("EXG", "Excise: petrol (unleaded)", 'Q', MeasureKind::Excise),
    ("EXH", "Excise: gas oil (diesel)", 'Q', MeasureKind::Excise),
    ("EXK", "Excise: coffee", 'Q', MeasureKind::Excise),
    ("NPI", "National import prohibition", 'A', MeasureKind::Prohibition),
    ("NRL", "National import restriction: licence required", 'B', MeasureKind::Other),
];

type Entry = (&'static str, &'static str, char, MeasureKind);

/// [`MEASURE_TYPES`] by id (the first row of an id wins), built on first use.
fn entry(id: &str) -> Option<&'static Entry> {
    static BY_ID: std::sync::OnceLock<rustc_hash::FxHashMap<&'static str, &'static Entry>> =
        std::sync::OnceLock::new();
    BY_ID
        .get_or_init(|| {
            let mut m = rustc_hash::FxHashMap::default();
            m.reserve(MEASURE_TYPES.len());
            for e in MEASURE_TYPES {
                m.entry(e.0).or_insert(e);
            }
            m
        })
        .get(id)
        .copied()
}

/// What a measure type does, without allocating ([`MeasureKind::Other`] when unknown):
/// for hot paths such as the duty calculation.
pub fn measure_kind(id: &str) -> MeasureKind {
    entry(id).map(|e| e.3).unwrap_or(MeasureKind::Other)
}

/// The description of measure type `id` (as [`measure_type`] gives it).
pub fn measure_type_description(id: &str) -> String {
    match entry(id) {
        Some(e) => e.1.to_owned(),
        None => format!("Measure type {id}"),
    }
}

/// [`measure_type_description`], borrowed from the built-in table when the id is in it.
pub(crate) fn measure_type_description_static(id: &str) -> std::borrow::Cow<'static, str> {
    match entry(id) {
        Some(e) => std::borrow::Cow::Borrowed(e.1),
        None => std::borrow::Cow::Owned(format!("Measure type {id}")),
    }
}

/// The measure type `id` from the built-in table; an unknown id gives kind
/// [`MeasureKind::Other`], series `'?'` and the description `"Measure type {id}"`.
pub fn measure_type(id: &str) -> MeasureTypeInfo {
    match entry(id) {
        Some((i, description, series, kind)) => MeasureTypeInfo {
            id: (*i).to_owned(),
            description: (*description).to_owned(),
            series: *series,
            kind: *kind,
        },
        None => MeasureTypeInfo {
            id: id.to_owned(),
            description: format!("Measure type {id}"),
            series: '?',
            kind: MeasureKind::Other,
        },
    }
}
