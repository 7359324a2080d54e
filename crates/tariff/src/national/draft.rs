//! [`NationalMeasureDraft`]: a change to an administration's national measures as drafted by
//! an officer, and its resolution into a typed [`DraftOp`].

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::duty::{MeasureComponent, MeasureCondition};
use crate::measures::{Validity, ERGA_OMNES};
use crate::nomenclature::GoodsCode;

/// The regulation id of a national measure drafted without one.
pub const DEFAULT_REGULATION: &str = "NATIONAL";

/// Most components, conditions, footnotes or exclusions a draft may carry.
const MAX_ITEMS: usize = 50;

/// What a draft does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// A new national measure.
    Create,
    /// A new version of an existing national measure: its content is replaced. A measure
    /// already in force is end-dated the day before the new version starts, and the new
    /// version becomes a measure of its own (so that past dates keep the old content).
    Modify,
    /// Set the end date of a national measure.
    End,
    /// Remove a national measure that is not yet in force.
    Delete,
}

impl Operation {
    /// `create`, `modify`, `end` or `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Modify => "modify",
            Self::End => "end",
            Self::Delete => "delete",
        }
    }

    /// The operation named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "create" => Some(Self::Create),
            "modify" => Some(Self::Modify),
            "end" => Some(Self::End),
            "delete" => Some(Self::Delete),
            _ => None,
        }
    }
}

/// A validity period as drafted: both ends optional (an `end` draft gives only `end`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftValidity {
    /// First day of validity.
    #[serde(default)]
    pub start: Option<NaiveDate>,
    /// Last day of validity (inclusive); absent: open-ended.
    #[serde(default)]
    pub end: Option<NaiveDate>,
}

/// A measure condition as drafted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftCondition {
    /// Condition code, e.g. `"B"`, `"Y"`.
    pub code: String,
    /// Order within the condition code (default: position among the draft's conditions of
    /// that code, from 1).
    #[serde(default)]
    pub sequence: Option<u32>,
    /// Required document, type and code together, e.g. `"N954"`.
    #[serde(default)]
    pub certificate: Option<String>,
    /// Threshold amount.
    #[serde(default)]
    pub threshold_amount: Option<Decimal>,
    /// Threshold unit: a currency (`"EUR"`), a measurement unit with an optional qualifier
    /// letter (`"KGM"`, `"DTNR"`) or a price per unit (`"EUR/DTN"`).
    #[serde(default)]
    pub threshold_unit: Option<String>,
    /// TARIC action code, e.g. `"01"` (apply the amount), `"08"` (not allowed).
    pub action: String,
    /// Components applied when the condition is met (empty: the measure's own).
    #[serde(default)]
    pub components: Vec<MeasureComponent>,
}

/// A drafted change to an administration's national measures. Which fields apply depends on
/// the operation:
///
/// | operation | `measure_sid` | measure fields (`measure_type` … `legal_base`) | `validity` |
/// |---|---|---|---|
/// | `create` | absent | `measure_type`, `goods_code` required | `start` required |
/// | `modify` | required | as for `create`: the new content | `start`: when the new version starts |
/// | `end` | required | absent | only `end`, required |
/// | `delete` | required | absent | absent |
///
/// `geographical_area` defaults to erga omnes (`"1011"`), `regulation` to
/// [`DEFAULT_REGULATION`]. [`NationalMeasureDraft::resolve`] checks the shape;
/// [`super::validate`] the business rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NationalMeasureDraft {
    /// What the draft does.
    pub operation: Operation,
    /// The national measure a `modify`, `end` or `delete` applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure_sid: Option<u64>,
    /// Measure type: a national type (alphabetic, e.g. `"VTS"`) or one of
    /// [`super::NATIONAL_LAYER_TYPES`] (`"305"` VAT, `"306"` excise, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure_type: Option<String>,
    /// Goods code: 10 digits (optionally with the suffix, `"0702000000-80"`) or a 2-, 4-, 6-
    /// or 8-digit chapter, heading or subheading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_code: Option<String>,
    /// Geographical area (default `"1011"`, erga omnes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geographical_area: Option<String>,
    /// Areas excluded from a group area.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded_areas: Vec<String>,
    /// Additional code, type and code together (`"X123"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_code: Option<String>,
    /// Quota order number (6 digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    /// Validity.
    #[serde(default)]
    pub validity: DraftValidity,
    /// Duty components.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<MeasureComponent>,
    /// Conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<DraftCondition>,
    /// Footnotes, type and id together (`"TN701"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub footnotes: Vec<String>,
    /// The national legal act's id (up to 8 letters and digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regulation: Option<String>,
    /// The legal base as text, e.g. `"Wet OB 1968, art. 9, tabel I"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_base: Option<String>,
}

/// The content of a national measure to create or to write as a new version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureSpec {
    /// Measure type id.
    pub measure_type: String,
    /// Goods code (suffix 80 unless given).
    pub goods_code: GoodsCode,
    /// Geographical area.
    pub geographical_area: String,
    /// Excluded areas.
    pub excluded_areas: Vec<String>,
    /// Additional code.
    pub additional_code: Option<String>,
    /// Quota order number.
    pub order_number: Option<String>,
    /// Validity.
    pub validity: Validity,
    /// Duty components.
    pub components: Vec<MeasureComponent>,
    /// Conditions.
    pub conditions: Vec<MeasureCondition>,
    /// Footnote ids.
    pub footnotes: Vec<String>,
    /// Regulation id.
    pub regulation: String,
    /// Legal base text.
    pub legal_base: Option<String>,
}

/// A draft, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DraftOp {
    /// A new measure.
    Create(MeasureSpec),
    /// A new version of measure `sid`.
    Modify {
        /// The measure.
        sid: u64,
        /// Its new content.
        spec: MeasureSpec,
    },
    /// End measure `sid` on `end` (inclusive).
    End {
        /// The measure.
        sid: u64,
        /// Its last day.
        end: NaiveDate,
    },
    /// Remove measure `sid`.
    Delete {
        /// The measure.
        sid: u64,
    },
}

impl DraftOp {
    /// The existing measure the operation applies to (`None` for a creation).
    pub fn target(&self) -> Option<u64> {
        match self {
            Self::Create(_) => None,
            Self::Modify { sid, .. } | Self::End { sid, .. } | Self::Delete { sid } => Some(*sid),
        }
    }

    /// The new content, for a creation or a modification.
    pub fn spec(&self) -> Option<&MeasureSpec> {
        match self {
            Self::Create(spec) | Self::Modify { spec, .. } => Some(spec),
            Self::End { .. } | Self::Delete { .. } => None,
        }
    }
}

/// What is wrong with the shape of a draft (before any business rule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShapeError {
    /// JSON pointer of the field, e.g. `/validity/start`.
    pub pointer: String,
    /// Whether the field is missing (rather than invalid or not allowed here).
    pub missing: bool,
    /// What is wrong.
    pub message: String,
}

struct Shape(Vec<ShapeError>);

impl Shape {
    fn missing(&mut self, pointer: &str, what: &str) {
        self.0.push(ShapeError {
            pointer: pointer.to_owned(),
            missing: true,
            message: format!("{what} is required for this operation"),
        });
    }

    fn invalid(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.0.push(ShapeError {
            pointer: pointer.into(),
            missing: false,
            message: message.into(),
        });
    }

    /// `value` matches `ok`, else an error at `pointer`.
    fn text(&mut self, pointer: impl Into<String>, value: &str, ok: bool, expected: &str) {
        if !ok {
            let shown: String = value.chars().take(40).collect();
            self.invalid(pointer, format!("`{shown}` is not {expected}"));
        }
    }
}

fn upper_alnum(s: &str, lens: std::ops::RangeInclusive<usize>) -> bool {
    lens.contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn upper_alpha(s: &str, lens: std::ops::RangeInclusive<usize>) -> bool {
    lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// A goods code as drafted: a 2-, 4-, 6- or 8-digit prefix, or 10 digits with an optional
/// suffix.
pub fn parse_goods_code(s: &str) -> Result<GoodsCode, String> {
    let digits = s.trim();
    if matches!(digits.len(), 2 | 4 | 6 | 8) && digits.bytes().all(|b| b.is_ascii_digit()) {
        return GoodsCode::from_prefix(digits).map_err(|e| e.to_string());
    }
    digits.parse::<GoodsCode>().map_err(|e| e.to_string())
}

fn check_component(shape: &mut Shape, at: &str, c: &MeasureComponent) {
    let id = &c.duty_expression_id;
    shape.text(
        format!("{at}/duty_expression_id"),
        id,
        id.len() == 2 && id.bytes().all(|b| b.is_ascii_digit()),
        "a two-digit duty expression id",
    );
    if let Some(m) = &c.monetary_unit {
        shape.text(
            format!("{at}/monetary_unit"),
            m,
            upper_alpha(m, 3..=3),
            "a currency code",
        );
    }
    if let Some(u) = &c.measurement_unit {
        shape.text(
            format!("{at}/measurement_unit"),
            u,
            upper_alpha(u, 3..=3),
            "a measurement unit code",
        );
    }
    if let Some(q) = &c.qualifier {
        shape.text(
            format!("{at}/qualifier"),
            q,
            upper_alpha(q, 1..=1),
            "a measurement unit qualifier letter",
        );
    }
}

fn count(shape: &mut Shape, pointer: &str, n: usize) {
    if n > MAX_ITEMS {
        shape.invalid(pointer, format!("at most {MAX_ITEMS} entries"));
    }
}

/// A threshold unit as the layer stores it: `"EUR"`, `"EUR/DTN"`, `"KGM"`, `"DTNR"`.
fn threshold_unit_ok(u: &str) -> bool {
    match u.split_once('/') {
        Some((m, unit)) => upper_alpha(m, 3..=3) && upper_alpha(unit, 3..=3),
        None => upper_alpha(u, 3..=4),
    }
}

impl NationalMeasureDraft {
    /// Checks the shape (which fields the operation takes, their syntax) and resolves the
    /// draft. Every problem is reported, each with its pointer.
    pub fn resolve(&self) -> Result<DraftOp, Vec<ShapeError>> {
        let mut shape = Shape(Vec::new());
        let needs_spec = matches!(self.operation, Operation::Create | Operation::Modify);
        match (self.operation, self.measure_sid) {
            (Operation::Create, Some(_)) => shape.invalid(
                "/measure_sid",
                "a new measure gets its SID on approval; leave measure_sid out",
            ),
            (Operation::Modify | Operation::End | Operation::Delete, None) => {
                shape.missing("/measure_sid", "the SID of the national measure")
            }
            _ => {}
        }
        if !needs_spec {
            let given: [(&str, bool); 12] = [
                ("/measure_type", self.measure_type.is_some()),
                ("/goods_code", self.goods_code.is_some()),
                ("/geographical_area", self.geographical_area.is_some()),
                ("/excluded_areas", !self.excluded_areas.is_empty()),
                ("/additional_code", self.additional_code.is_some()),
                ("/order_number", self.order_number.is_some()),
                ("/validity/start", self.validity.start.is_some()),
                ("/components", !self.components.is_empty()),
                ("/conditions", !self.conditions.is_empty()),
                ("/footnotes", !self.footnotes.is_empty()),
                ("/regulation", self.regulation.is_some()),
                ("/legal_base", self.legal_base.is_some()),
            ];
            for (pointer, present) in given {
                if present {
                    shape.invalid(
                        pointer,
                        format!(
                            "not taken by a `{}` draft; draft a `modify` to change a measure",
                            self.operation.as_str()
                        ),
                    );
                }
            }
            match self.operation {
                Operation::End if self.validity.end.is_none() => {
                    shape.missing("/validity/end", "the end date")
                }
                Operation::Delete if self.validity.end.is_some() => shape.invalid(
                    "/validity/end",
                    "not taken by a `delete` draft; draft an `end` to end a measure",
                ),
                _ => {}
            }
        }
        let spec = if needs_spec {
            self.spec(&mut shape)
        } else {
            None
        };
        if !shape.0.is_empty() {
            return Err(shape.0);
        }
        let sid = self.measure_sid.unwrap_or_default();
        match (self.operation, spec, self.validity.end) {
            (Operation::Create, Some(spec), _) => Ok(DraftOp::Create(spec)),
            (Operation::Modify, Some(spec), _) => Ok(DraftOp::Modify { sid, spec }),
            (Operation::End, _, Some(end)) => Ok(DraftOp::End { sid, end }),
            (Operation::Delete, _, _) => Ok(DraftOp::Delete { sid }),
            _ => Err(vec![ShapeError {
                pointer: "/".to_owned(),
                missing: false,
                message: "incomplete draft".to_owned(),
            }]),
        }
    }

    fn spec(&self, shape: &mut Shape) -> Option<MeasureSpec> {
        let measure_type = match &self.measure_type {
            None => {
                shape.missing("/measure_type", "the measure type");
                None
            }
            Some(t) => {
                shape.text(
                    "/measure_type",
                    t,
                    upper_alnum(t, 3..=3),
                    "a measure type id (3 letters or digits, e.g. `305`, `VTS`)",
                );
                Some(t.clone())
            }
        };
        let goods_code = match &self.goods_code {
            None => {
                shape.missing("/goods_code", "the goods code");
                None
            }
            Some(g) => match parse_goods_code(g) {
                Ok(code) => Some(code),
                Err(e) => {
                    shape.invalid("/goods_code", e);
                    None
                }
            },
        };
        let area = self
            .geographical_area
            .clone()
            .unwrap_or_else(|| ERGA_OMNES.to_owned());
        shape.text(
            "/geographical_area",
            &area,
            upper_alnum(&area, 2..=4),
            "a geographical area id (`CN`, `1011`)",
        );
        count(shape, "/excluded_areas", self.excluded_areas.len());
        for (i, a) in self.excluded_areas.iter().enumerate() {
            shape.text(
                format!("/excluded_areas/{i}"),
                a,
                upper_alnum(a, 2..=4),
                "a geographical area id",
            );
        }
        if let Some(ac) = &self.additional_code {
            shape.text(
                "/additional_code",
                ac,
                upper_alnum(ac, 4..=4),
                "an additional code (type and code, e.g. `X123`)",
            );
        }
        if let Some(on) = &self.order_number {
            shape.text(
                "/order_number",
                on,
                on.len() == 6 && on.bytes().all(|b| b.is_ascii_digit()),
                "a 6-digit order number",
            );
        }
        let start = self.validity.start;
        if start.is_none() {
            shape.missing("/validity/start", "the start date");
        }
        count(shape, "/components", self.components.len());
        for (i, c) in self.components.iter().enumerate() {
            check_component(shape, &format!("/components/{i}"), c);
        }
        count(shape, "/conditions", self.conditions.len());
        let mut conditions = Vec::new();
        for (i, c) in self.conditions.iter().enumerate() {
            let at = format!("/conditions/{i}");
            shape.text(
                format!("{at}/code"),
                &c.code,
                upper_alpha(&c.code, 1..=2),
                "a condition code (e.g. `B`, `Y`)",
            );
            shape.text(
                format!("{at}/action"),
                &c.action,
                c.action.len() == 2 && c.action.bytes().all(|b| b.is_ascii_digit()),
                "a two-digit action code",
            );
            if let Some(cert) = &c.certificate {
                shape.text(
                    format!("{at}/certificate"),
                    cert,
                    upper_alnum(cert, 4..=4),
                    "a document code (type and code, e.g. `N954`)",
                );
            }
            if let Some(u) = &c.threshold_unit {
                shape.text(
                    format!("{at}/threshold_unit"),
                    u,
                    threshold_unit_ok(u),
                    "a currency, a unit (with an optional qualifier) or CURRENCY/UNIT",
                );
                if c.threshold_amount.is_none() {
                    shape.missing(&format!("{at}/threshold_amount"), "a threshold amount");
                }
            }
            for (j, comp) in c.components.iter().enumerate() {
                check_component(shape, &format!("{at}/components/{j}"), comp);
            }
            let sequence = c.sequence.unwrap_or_else(|| {
                let before = self.conditions[..i]
                    .iter()
                    .filter(|o| o.code == c.code)
                    .count();
                u32::try_from(before + 1).unwrap_or(u32::MAX)
            });
            conditions.push(MeasureCondition {
                code: c.code.clone(),
                sequence,
                certificate: c.certificate.clone(),
                threshold: c.threshold_amount.map(|a| (a, c.threshold_unit.clone())),
                action: c.action.clone(),
                components: c.components.clone(),
            });
        }
        count(shape, "/footnotes", self.footnotes.len());
        for (i, f) in self.footnotes.iter().enumerate() {
            shape.text(
                format!("/footnotes/{i}"),
                f,
                upper_alnum(f, 5..=8) && f[f.len() - 3..].bytes().all(|b| b.is_ascii_digit()),
                "a footnote (type and 3-digit id, e.g. `TN701`)",
            );
        }
        let regulation = self
            .regulation
            .clone()
            .unwrap_or_else(|| DEFAULT_REGULATION.to_owned());
        shape.text(
            "/regulation",
            &regulation,
            upper_alnum(&regulation, 1..=8),
            "a regulation id (up to 8 letters and digits)",
        );
        if let Some(l) = &self.legal_base {
            if l.chars().count() > 500 {
                shape.invalid("/legal_base", "at most 500 characters");
            }
        }
        Some(MeasureSpec {
            measure_type: measure_type?,
            goods_code: goods_code?,
            geographical_area: area,
            excluded_areas: self.excluded_areas.clone(),
            additional_code: self.additional_code.clone(),
            order_number: self.order_number.clone(),
            validity: Validity::new(start?, self.validity.end),
            components: self.components.clone(),
            conditions,
            footnotes: self.footnotes.clone(),
            regulation,
            legal_base: self.legal_base.clone().filter(|l| !l.trim().is_empty()),
        })
    }
}
