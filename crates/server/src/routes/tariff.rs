//! The integrated tariff of an administration: commodity consultation and duty calculation.
//! Served anonymously on the trader gateway and to authenticated principals on the
//! administration gateway.

use crate::api::{path_param, ApiJson, ApiPath, ApiQuery};
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::state::{AppState, Caller};
use crate::tariff::Built;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{Datelike, NaiveDate};
use portorium_kernel::TenantCode;
use portorium_tariff::duty::{describe, DutyError, Quantities};
use portorium_tariff::measures::{
    applicable_measures, calculate, measure_type, supplementary_unit, CalcError, CalcRequest,
    Calculation, Measure, CURRENCY,
};
use portorium_tariff::nomenclature::{GoodsCode, NomenclatureItem};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A line of the goods nomenclature.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CommodityLine {
    #[schema(example = "0103921100")]
    pub code: String,
    #[schema(example = "80")]
    pub suffix: String,
    pub indent: u32,
    pub description: String,
    pub declarable: bool,
    /// The supplementary unit to declare, e.g. `"p/st"`: from the nomenclature (CN file), or
    /// else, on the commodity endpoint, from its supplementary-unit measure (TARIC types 109
    /// and 110) valid on the date.
    #[schema(example = "p/st")]
    pub supplementary_unit: Option<String>,
}

impl From<&NomenclatureItem> for CommodityLine {
    fn from(i: &NomenclatureItem) -> Self {
        Self {
            code: i.code.as_str().to_owned(),
            suffix: i.suffix.clone(),
            indent: i.indent,
            description: i.description.clone(),
            declarable: i.declarable,
            supplementary_unit: i.supplementary_unit.clone(),
        }
    }
}

/// A condition of a measure.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ConditionView {
    pub code: String,
    pub sequence: u32,
    pub certificate: Option<String>,
    /// Threshold amount and unit or currency, e.g. `"1000 KGM"`.
    pub threshold: Option<String>,
    pub action: String,
    /// The duty applied when the condition is met (empty: the measure's own duty).
    pub duty_expression: String,
}

/// A measure applying to the commodity.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MeasureView {
    pub measure_sid: u64,
    #[schema(example = "103")]
    pub measure_type_id: String,
    #[schema(example = "Third country duty")]
    pub measure_type: String,
    /// The goods code the measure is attached to (the commodity or an ancestor).
    pub goods_code: String,
    #[schema(example = "1011")]
    pub geographical_area: String,
    pub geographical_area_description: Option<String>,
    pub excluded_areas: Vec<String>,
    /// The duty, readable, e.g. `"35.10 EUR / 100 kg"`; empty when the measure has none.
    pub duty_expression: String,
    pub order_number: Option<String>,
    pub additional_code: Option<String>,
    pub regulation: Option<String>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    /// A measure of the administration's national layer.
    pub national: bool,
    pub conditions: Vec<ConditionView>,
    pub footnotes: Vec<String>,
}

/// A commodity with its ancestors and the measures applying to it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CommodityView {
    pub commodity: CommodityLine,
    /// Root (chapter) first.
    pub ancestors: Vec<CommodityLine>,
    pub measures: Vec<MeasureView>,
    /// The origin the measures were selected for; absent: every measure in force.
    pub origin: Option<String>,
    pub as_of: NaiveDate,
}

/// `?origin=&as_of=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CommodityQuery {
    /// Country or area of origin (`CN`, `1011`); without it every measure in force is listed.
    pub origin: Option<String>,
    /// The date the measures are taken as of, `YYYY-MM-DD` (default today).
    pub as_of: Option<String>,
}

fn tenant_param(tenant: &str) -> Result<TenantCode, ApiError> {
    path_param("tenant", tenant)
}

fn check_origin(origin: &str, pointer: &str) -> Result<String, ApiError> {
    let ok = (2..=4).contains(&origin.len()) && origin.chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(origin.to_ascii_uppercase())
    } else {
        Err(ApiError::field(
            if pointer.starts_with("query:") {
                ErrorCode::InvalidQuery
            } else {
                ErrorCode::InvalidField
            },
            pointer,
            "must be a country code (`CN`) or a geographical area id (`1011`)",
        ))
    }
}

fn with_ancestors(built: &Built, code: &GoodsCode) -> Vec<GoodsCode> {
    let mut out = vec![*code];
    out.extend(
        built
            .data
            .nomenclature
            .ancestors(code)
            .iter()
            .map(|i| i.code),
    );
    out
}

fn measure_view(built: &Built, m: &Measure) -> MeasureView {
    MeasureView {
        measure_sid: m.sid,
        measure_type_id: m.measure_type.clone(),
        measure_type: measure_type(&m.measure_type).description,
        goods_code: m.goods_code.as_str().to_owned(),
        geographical_area: m.geographical_area.clone(),
        geographical_area_description: built
            .data
            .area_descriptions
            .get(&m.geographical_area)
            .cloned(),
        excluded_areas: m.excluded_areas.clone(),
        duty_expression: describe(&m.components),
        order_number: m.order_number.clone(),
        additional_code: m.additional_code.clone(),
        regulation: m.regulation.clone(),
        valid_from: m.validity.start,
        valid_to: m.validity.end,
        national: m.national,
        conditions: m
            .conditions
            .iter()
            .map(|c| ConditionView {
                code: c.code.clone(),
                sequence: c.sequence,
                certificate: c.certificate.clone(),
                threshold: c.threshold.as_ref().map(|(a, u)| match u {
                    Some(u) => format!("{a} {u}"),
                    None => a.to_string(),
                }),
                action: c.action.clone(),
                duty_expression: describe(&c.components),
            })
            .collect(),
        footnotes: m.footnotes.clone(),
    }
}

pub(crate) async fn commodity_view(
    state: &AppState,
    tenant: &str,
    code: &str,
    q: CommodityQuery,
) -> ApiResult<Json<CommodityView>> {
    let tenant = tenant_param(tenant)?;
    let goods: GoodsCode =
        code.parse()
            .map_err(|e: portorium_tariff::nomenclature::GoodsCodeError| {
                ApiError::field(ErrorCode::InvalidPath, "path:code", e.to_string())
            })?;
    let as_of = match &q.as_of {
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            ApiError::field(
                ErrorCode::InvalidQuery,
                "query:as_of",
                "must be a date, YYYY-MM-DD",
            )
        })?,
        None => state.clock().now().date_naive(),
    };
    let origin = q
        .origin
        .as_deref()
        .map(|o| check_origin(o, "query:origin"))
        .transpose()?;
    let built = state.tariffs.get(&state.store, &tenant).await?;
    let item = built.data.nomenclature.get(&goods).ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            format!("commodity {goods:#} is not in the tariff of {tenant}"),
        )
    })?;
    let codes = with_ancestors(&built, &goods);
    let tariff = &built.data.tariff;
    let measures: Vec<&Measure> = match &origin {
        Some(o) => applicable_measures(tariff, &codes, o, as_of),
        None => {
            let digits: Vec<&str> = codes.iter().map(GoodsCode::as_str).collect();
            let mut v: Vec<&Measure> = tariff
                .measures
                .iter()
                .filter(|m| digits.contains(&m.goods_code.as_str()))
                .filter(|m| m.effective_validity(&tariff.regulations).contains(as_of))
                .collect();
            v.sort_by(|a, b| (&a.measure_type, a.sid).cmp(&(&b.measure_type, b.sid)));
            v
        }
    };
    let mut commodity = CommodityLine::from(item);
    if commodity.supplementary_unit.is_none() {
        // TARIC carries it as a measure (109, 110) rather than on the nomenclature line.
        commodity.supplementary_unit = supplementary_unit(tariff, &codes, origin.as_deref(), as_of);
    }
    Ok(Json(CommodityView {
        commodity,
        ancestors: built
            .data
            .nomenclature
            .ancestors(&goods)
            .into_iter()
            .map(CommodityLine::from)
            .collect(),
        measures: measures.iter().map(|m| measure_view(&built, m)).collect(),
        origin,
        as_of,
    }))
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/commodities/{code}", tag = "tariff",
    params(("tenant" = String, Path, example = "NL"), ("code" = String, Path, example = "0103921100"), CommodityQuery),
    responses((status = 200, body = CommodityView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn public_commodity(
    State(state): State<AppState>,
    ApiPath((tenant, code)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<CommodityQuery>,
) -> ApiResult<Json<CommodityView>> {
    commodity_view(&state, &tenant, &code, q).await
}

#[utoipa::path(get, path = "/api/v1/tariffs/{tenant}/commodities/{code}", tag = "tariff",
    params(("tenant" = String, Path, example = "NL"), ("code" = String, Path, example = "0103921100"), CommodityQuery),
    responses((status = 200, body = CommodityView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn commodity(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath((tenant, code)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<CommodityQuery>,
) -> ApiResult<Json<CommodityView>> {
    commodity_view(&state, &tenant, &code, q).await
}

/// An amount of money.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Money {
    #[schema(value_type = String, example = "1260.89")]
    pub amount: Decimal,
    #[schema(example = "EUR")]
    pub currency: String,
}

/// What is declared.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DutyCalculationRequest {
    #[schema(example = "0103921100")]
    pub commodity_code: String,
    #[schema(example = "CN")]
    pub origin: String,
    /// The date of the declaration (default today).
    pub date: Option<NaiveDate>,
    /// In EUR or the administration's currency.
    pub customs_value: Money,
    /// Declared quantities by unit code (`KGM`, `DTN`, `NAR`, `TNEI`…), decimals as strings.
    #[serde(default)]
    #[schema(value_type = Object, example = json!({"KGM": "2000"}))]
    pub quantities: BTreeMap<String, Decimal>,
    /// Declared additional codes, type and code together (`"C999"`).
    #[serde(default)]
    pub additional_codes: Vec<String>,
    /// Presented documents (certificate codes, `"N851"`).
    #[serde(default)]
    pub documents: Vec<String>,
    pub meursing_code: Option<String>,
    /// Unit price for entry prices: per 100 kg net (`unit` `DTN`, the default), per kg
    /// (`KGM`) or per tonne (`TNE`).
    pub unit_price: Option<UnitPrice>,
}

/// A price per unit of quantity.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitPrice {
    #[schema(value_type = String, example = "52.00")]
    pub amount: Decimal,
    #[schema(example = "EUR")]
    pub currency: String,
    /// `DTN` (100 kg, default), `KGM` or `TNE`.
    #[schema(example = "DTN")]
    pub unit: Option<String>,
}

impl UnitPrice {
    /// The price per 100 kg (the unit of TARIC entry-price thresholds).
    fn per_100_kg(&self) -> Result<Money, ApiError> {
        let unit = self.unit.as_deref().unwrap_or("DTN").to_ascii_uppercase();
        let factor = match unit.as_str() {
            "DTN" => Decimal::ONE,
            "KGM" => Decimal::ONE_HUNDRED,
            "TNE" => Decimal::new(1, 1),
            _ => {
                return Err(ApiError::field(
                    ErrorCode::InvalidField,
                    "/unit_price/unit",
                    "must be DTN (100 kg), KGM or TNE",
                ))
            }
        };
        let amount = self.amount.checked_mul(factor).ok_or_else(|| {
            ApiError::field(
                ErrorCode::InvalidField,
                "/unit_price/amount",
                "out of range",
            )
        })?;
        Ok(Money {
            amount,
            currency: self.currency.clone(),
        })
    }
}

/// The duty of one measure.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DutyLineView<'a> {
    pub measure_type_id: &'a str,
    pub measure_sid: u64,
    pub description: &'a str,
    pub duty_expression: &'a str,
    /// How the amount was computed (in EUR, the currency of the tariff).
    pub formula: &'a str,
    #[schema(value_type = String, example = "702.00")]
    pub amount: Decimal,
    pub currency: &'a str,
}

/// One way to declare the goods.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DutyOptionView<'a> {
    /// `third_country`, `suspension`, `preference` or `quota`.
    pub kind: &'static str,
    pub measure_sid: u64,
    pub measure_type_id: &'a str,
    pub geographical_area: &'a str,
    pub order_number: Option<&'a str>,
    pub additional_code: Option<&'a str>,
    pub lines: Vec<DutyLineView<'a>>,
    #[schema(value_type = String)]
    pub vat_base: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
}

/// A measure forbidding the declaration as made.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProhibitionView<'a> {
    pub measure_type_id: &'a str,
    pub measure_sid: u64,
    pub description: &'a str,
    pub reason: &'a str,
}

/// The duty options, in the administration's currency.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DutyCalculationView<'a> {
    pub options: Vec<DutyOptionView<'a>>,
    /// Index of the cheapest option.
    pub cheapest: Option<usize>,
    pub prohibitions: Vec<ProhibitionView<'a>>,
    /// The administration's currency.
    pub currency: &'a str,
    /// EUR → currency rate used (absent for EUR).
    #[schema(value_type = Option<String>)]
    pub exchange_rate: Option<Decimal>,
    pub date: NaiveDate,
}

impl DutyCalculationView<'_> {
    /// The view as JSON: the bytes `serde_json` writes for its `Serialize` (the fields in
    /// declaration order, nulls written, decimals as strings; tested against it), written
    /// without serde's per-field calls and with the field names as constants. This is the
    /// duty calculator's answer on every request.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        use json::{decimal, opt_str, string};
        out.extend_from_slice(b"{\"options\":[");
        for (i, o) in self.options.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"kind\":");
            string(out, o.kind);
            out.extend_from_slice(b",\"measure_sid\":");
            json::uint(out, o.measure_sid);
            out.extend_from_slice(b",\"measure_type_id\":");
            string(out, o.measure_type_id);
            out.extend_from_slice(b",\"geographical_area\":");
            string(out, o.geographical_area);
            out.extend_from_slice(b",\"order_number\":");
            opt_str(out, o.order_number);
            out.extend_from_slice(b",\"additional_code\":");
            opt_str(out, o.additional_code);
            out.extend_from_slice(b",\"lines\":[");
            for (j, l) in o.lines.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"measure_type_id\":");
                string(out, l.measure_type_id);
                out.extend_from_slice(b",\"measure_sid\":");
                json::uint(out, l.measure_sid);
                out.extend_from_slice(b",\"description\":");
                string(out, l.description);
                out.extend_from_slice(b",\"duty_expression\":");
                string(out, l.duty_expression);
                out.extend_from_slice(b",\"formula\":");
                string(out, l.formula);
                out.extend_from_slice(b",\"amount\":");
                decimal(out, l.amount);
                out.extend_from_slice(b",\"currency\":");
                string(out, l.currency);
                out.push(b'}');
            }
            out.extend_from_slice(b"],\"vat_base\":");
            decimal(out, o.vat_base);
            out.extend_from_slice(b",\"total\":");
            decimal(out, o.total);
            out.push(b'}');
        }
        out.extend_from_slice(b"],\"cheapest\":");
        match self.cheapest {
            Some(i) => json::uint(out, i as u64),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"prohibitions\":[");
        for (i, p) in self.prohibitions.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"measure_type_id\":");
            string(out, p.measure_type_id);
            out.extend_from_slice(b",\"measure_sid\":");
            json::uint(out, p.measure_sid);
            out.extend_from_slice(b",\"description\":");
            string(out, p.description);
            out.extend_from_slice(b",\"reason\":");
            string(out, p.reason);
            out.push(b'}');
        }
        out.extend_from_slice(b"],\"currency\":");
        string(out, self.currency);
        out.extend_from_slice(b",\"exchange_rate\":");
        match self.exchange_rate {
            Some(r) => decimal(out, r),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"date\":\"");
        json::display(out, &self.date);
        out.extend_from_slice(b"\"}");
    }
}

/// JSON values written the way `serde_json` writes them.
mod json {
    use rust_decimal::Decimal;

    /// A string with `serde_json`'s escapes: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other
    /// control characters as `\u00xx`; everything else as is. Runs of eight bytes that
    /// need no escape are checked at once.
    pub fn string(out: &mut Vec<u8>, s: &str) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        let bytes = s.as_bytes();
        let mut start = 0;
        let mut i = 0;
        while i < bytes.len() {
            if let Some(chunk) = bytes.get(i..i + 8) {
                let mut word = [0u8; 8];
                word.copy_from_slice(chunk);
                if !needs_escape(u64::from_le_bytes(word)) {
                    i += 8;
                    continue;
                }
            }
            let b = bytes.get(i).copied().unwrap_or(b' ');
            let escape: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                0x08 => b"\\b",
                0x0c => b"\\f",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0..=0x1f => b"",
                _ => {
                    i += 1;
                    continue;
                }
            };
            out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
            if escape.is_empty() {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            } else {
                out.extend_from_slice(escape);
            }
            i += 1;
            start = i;
        }
        out.extend_from_slice(bytes.get(start..).unwrap_or_default());
        out.push(b'"');
    }

    /// Whether one of the eight bytes is a control character, `"` or `\` (bytes of
    /// multi-byte characters are 0x80 and above: never).
    fn needs_escape(w: u64) -> bool {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH != 0;
        let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH != 0;
        below_space
            || has_zero(w ^ (ONES * u64::from(b'"')))
            || has_zero(w ^ (ONES * u64::from(b'\\')))
    }

    pub fn opt_str(out: &mut Vec<u8>, s: Option<&str>) {
        match s {
            Some(s) => string(out, s),
            None => out.extend_from_slice(b"null"),
        }
    }

    pub fn uint(out: &mut Vec<u8>, n: u64) {
        out.extend_from_slice(portorium_kernel::PlainDigits::new(n, 0).all());
    }

    /// A decimal as `rust_decimal` serializes it: a string of its `Display` (all of its
    /// scale, `-` on a negative value). The digits come from the mantissa when it fits in a
    /// `u64`.
    pub fn decimal(out: &mut Vec<u8>, d: Decimal) {
        let Ok(m) = u64::try_from(d.mantissa().unsigned_abs()) else {
            out.push(b'"');
            display(out, &d);
            out.push(b'"');
            return;
        };
        let digits = portorium_kernel::PlainDigits::new(m, d.scale());
        let (int, frac) = digits.split();
        out.push(b'"');
        if d.is_sign_negative() {
            out.push(b'-');
        }
        out.extend_from_slice(int);
        if !frac.is_empty() {
            out.push(b'.');
            out.extend_from_slice(frac);
        }
        out.push(b'"');
    }

    /// A value's `Display`, unescaped (dates and decimals have no character to escape).
    pub fn display(out: &mut Vec<u8>, v: &dyn std::fmt::Display) {
        use std::io::Write as _;
        // Writing into a Vec does not fail.
        let _ = write!(out, "{v}");
    }
}

/// A duty calculation of an administration's tariff: the engine's options (in EUR), with
/// the administration's currency and rate. [`DutyCalculated::view`] is the answer, in that
/// currency; it borrows the lines (the options share their stacked and excise lines).
pub struct DutyCalculated {
    calc: Calculation,
    currency: String,
    rate: Option<Decimal>,
    date: NaiveDate,
}

impl DutyCalculated {
    /// The calculation in the administration's currency.
    pub fn view(&self) -> DutyCalculationView<'_> {
        let rate = self.rate;
        let convert = |amount: Decimal| -> Decimal {
            match rate {
                Some(r) => amount
                    .checked_mul(r)
                    .map(|a| a.round_dp(2))
                    .unwrap_or(amount),
                None => amount,
            }
        };
        let currency = self.currency.as_str();
        let options = self
            .calc
            .options
            .iter()
            .map(|o| {
                let lines: Vec<DutyLineView<'_>> = o
                    .lines()
                    .map(|l| DutyLineView {
                        measure_type_id: &l.measure_type_id,
                        measure_sid: l.measure_sid,
                        description: &l.description,
                        duty_expression: &l.duty_expression,
                        formula: &l.formula,
                        amount: convert(l.amount),
                        currency,
                    })
                    .collect();
                let total = match rate {
                    Some(_) => lines.iter().map(|l| l.amount).sum(),
                    None => o.total,
                };
                DutyOptionView {
                    kind: o.kind.as_str(),
                    measure_sid: o.measure_sid,
                    measure_type_id: &o.measure_type_id,
                    geographical_area: &o.geographical_area,
                    order_number: o.order_number.as_deref(),
                    additional_code: o.additional_code.as_deref(),
                    lines,
                    vat_base: convert(o.vat_base),
                    total,
                }
            })
            .collect();
        DutyCalculationView {
            options,
            cheapest: self.calc.cheapest,
            prohibitions: self
                .calc
                .prohibitions
                .iter()
                .map(|p| ProhibitionView {
                    measure_type_id: &p.measure_type_id,
                    measure_sid: p.measure_sid,
                    description: &p.description,
                    reason: &p.reason,
                })
                .collect(),
            currency,
            exchange_rate: rate,
            date: self.date,
        }
    }
}

fn calc_problem(e: &CalcError) -> ApiError {
    let pointer = match e {
        CalcError::NegativeCustomsValue => "/customs_value/amount",
        CalcError::AdditionalCodeRequired { .. } => "/additional_codes",
        CalcError::Duty { cause, .. } => match cause {
            DutyError::MissingQuantity { .. } => "/quantities",
            DutyError::MissingUnitPrice { .. } => "/unit_price",
            DutyError::MeursingRequired { .. } | DutyError::MeursingComponentMissing { .. } => {
                "/meursing_code"
            }
            _ => "/",
        },
        _ => "/",
    };
    ApiError::field(ErrorCode::InvalidField, pointer, e.to_string())
}

pub(crate) async fn duty_calculation(
    state: &AppState,
    tenant: &str,
    body: DutyCalculationRequest,
) -> ApiResult<DutyCalculated> {
    let tenant = tenant_param(tenant)?;
    let goods: GoodsCode = body.commodity_code.parse().map_err(
        |e: portorium_tariff::nomenclature::GoodsCodeError| {
            ApiError::field(ErrorCode::InvalidField, "/commodity_code", e.to_string())
        },
    )?;
    let origin = check_origin(&body.origin, "/origin")?;
    let date = body
        .date
        .unwrap_or_else(|| state.clock().now().date_naive());
    let built = state.tariffs.get(&state.store, &tenant).await?;
    if built.data.nomenclature.get(&goods).is_none() {
        return Err(ApiError::field(
            ErrorCode::InvalidField,
            "/commodity_code",
            format!("commodity {goods:#} is not in the tariff of {tenant}"),
        ));
    }
    let national = built.currency.as_str().to_owned();
    // EUR → national currency.
    let rate = if national == CURRENCY {
        None
    } else {
        let stored = state
            .store
            .exchange_rate(&built.currency, date)
            .await?
            .map(|(_, r)| r);
        let rate = stored
            .or_else(|| built.data.exchange_rate(CURRENCY, &national, date))
            .ok_or_else(|| {
                ApiError::field(
                    ErrorCode::InvalidField,
                    "/date",
                    format!(
                        "no {CURRENCY}→{national} rate for {}-{:02}",
                        date.year(),
                        date.month()
                    ),
                )
            })?;
        Some(rate)
    };
    let to_eur = |m: &Money, pointer: &str| -> Result<Decimal, ApiError> {
        let cur = m.currency.to_ascii_uppercase();
        if cur == CURRENCY {
            Ok(m.amount)
        } else if cur == national {
            match rate {
                Some(r) => m.amount.checked_div(r).ok_or_else(|| {
                    ApiError::field(ErrorCode::InvalidField, pointer, "amount out of range")
                }),
                None => Ok(m.amount),
            }
        } else {
            Err(ApiError::field(
                ErrorCode::InvalidField,
                format!("{pointer}/currency"),
                format!("must be {CURRENCY} or {national}"),
            ))
        }
    };
    let customs_value = to_eur(&body.customs_value, "/customs_value")?;
    let unit_price = body
        .unit_price
        .as_ref()
        .map(|p| p.per_100_kg().and_then(|m| to_eur(&m, "/unit_price")))
        .transpose()?;
    let mut quantities = Quantities::new();
    for (unit, q) in &body.quantities {
        quantities.insert(unit, *q);
    }
    let req = CalcRequest {
        commodity: goods,
        origin,
        date,
        customs_value,
        quantities,
        additional_codes: body.additional_codes,
        documents: body.documents,
        unit_price,
        meursing_code: body.meursing_code,
        // Components priced in the national currency (e.g. GBP amounts in a UK-derived
        // tariff) are converted into EUR at the month's rate before they are applied.
        exchange_rates: rate
            .map(|r| vec![(national.clone(), r)])
            .unwrap_or_default(),
    };
    let codes = with_ancestors(&built, &goods);
    let calc = calculate(&built.data.tariff, &codes, &req).map_err(|e| calc_problem(&e))?;
    Ok(DutyCalculated {
        calc,
        currency: national,
        rate,
        date,
    })
}

/// The calculation as an `application/json` response, written straight into one buffer
/// sized for its lines by [`DutyCalculationView::write_json`] (the bytes `Json` answers).
fn calculation_response(view: &DutyCalculationView<'_>) -> ApiResult<Response> {
    let lines: usize = view.options.iter().map(|o| o.lines.len()).sum();
    let hint = 256 + 256 * view.options.len() + 320 * lines + 192 * view.prohibitions.len();
    let mut buf = Vec::with_capacity(hint);
    view.write_json(&mut buf);
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        buf,
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/v1/tariffs/{tenant}/duty-calculations", tag = "tariff",
    params(("tenant" = String, Path, example = "NL")), request_body = DutyCalculationRequest,
    responses((status = 200, body = DutyCalculationView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn public_duty_calculation(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<DutyCalculationRequest>,
) -> ApiResult<Response> {
    calculation_response(&duty_calculation(&state, &tenant, body).await?.view())
}

#[utoipa::path(post, path = "/api/v1/tariffs/{tenant}/duty-calculations", tag = "tariff",
    params(("tenant" = String, Path, example = "NL")), request_body = DutyCalculationRequest,
    responses((status = 200, body = DutyCalculationView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn duty_calculation_route(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(body): ApiJson<DutyCalculationRequest>,
) -> ApiResult<Response> {
    calculation_response(&duty_calculation(&state, &tenant, body).await?.view())
}

#[cfg(test)]
mod tests {
    use super::{DutyCalculationView, DutyLineView, DutyOptionView, ProhibitionView};
    use chrono::NaiveDate;
    use rust_decimal::Decimal;

    fn decimals() -> Vec<Decimal> {
        let mut negative_zero = Decimal::new(0, 2);
        negative_zero.set_sign_negative(true);
        let mut out = vec![
            Decimal::ZERO,
            Decimal::new(0, 2),
            negative_zero,
            Decimal::new(70200, 2),
            Decimal::new(-5, 3),
            Decimal::new(1_234_567_891, 4),
            Decimal::new(i64::MAX, 0),
            Decimal::new(i64::MIN, 28),
            Decimal::MAX,
            Decimal::MIN,
            Decimal::from_i128_with_scale(i128::from(u64::MAX) + 7, 5),
        ];
        let mut x: i64 = 3;
        for scale in 0..=28 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            out.push(Decimal::new(x, scale));
        }
        out
    }

    fn texts() -> Vec<String> {
        let mut all_ascii: String = (0u8..128).map(char::from).collect();
        all_ascii.push_str("12.00% × 1,000.00 = 120.00 → 8.3 % + EA MAX 18.7 % é😀");
        vec![
            String::new(),
            "EUR".into(),
            "a \"quoted\" \\ path\\".into(),
            "\u{7f}\u{1f}\u{0}x\n\r\t\u{8}\u{c}end".into(),
            all_ascii.clone(),
            all_ascii.chars().rev().collect(),
            "12345678\"12345678\\".into(),
        ]
    }

    /// `write_json` writes exactly what `serde_json` writes for the view.
    #[test]
    fn write_json_is_serde_json() {
        let texts = texts();
        let decimals = decimals();
        let t = |i: usize| texts[i % texts.len()].as_str();
        let d = |i: usize| decimals[i % decimals.len()];
        for case in 0..40usize {
            let options = (0..case % 4)
                .map(|o| DutyOptionView {
                    kind: ["third_country", "suspension", "preference", "quota"][o],
                    measure_sid: (case * 7919 + o) as u64 * 1_000_003,
                    measure_type_id: t(case + o),
                    geographical_area: t(case + 2 * o + 1),
                    order_number: (o % 2 == 1).then(|| t(case + 3)),
                    additional_code: (case % 3 == 0).then(|| t(case + o + 4)),
                    lines: (0..(case + o) % 5)
                        .map(|l| DutyLineView {
                            measure_type_id: t(case + l),
                            measure_sid: (l as u64) << (case % 60),
                            description: t(case + l + 1),
                            duty_expression: t(case + 2 * l),
                            formula: t(case * 3 + l),
                            amount: d(case + l),
                            currency: t(case + 5),
                        })
                        .collect(),
                    vat_base: d(case * 2 + o),
                    total: d(case * 3 + o + 1),
                })
                .collect();
            let prohibitions = (0..case % 3)
                .map(|p| ProhibitionView {
                    measure_type_id: t(p),
                    measure_sid: p as u64,
                    description: t(case + p),
                    reason: t(case + p + 2),
                })
                .collect();
            let view = DutyCalculationView {
                options,
                cheapest: (case % 5 != 0).then_some(case % 4),
                prohibitions,
                currency: t(case),
                exchange_rate: (case % 2 == 1).then(|| d(case + 9)),
                date: NaiveDate::from_ymd_opt(1994 + case as i32 * 9, 1 + (case % 12) as u32, 1)
                    .unwrap(),
            };
            let mut written = Vec::new();
            view.write_json(&mut written);
            assert_eq!(
                String::from_utf8(written).unwrap(),
                serde_json::to_string(&view).unwrap(),
                "case {case}"
            );
        }
    }
}
