//! Typed record bodies ([`RecordBody`]), one struct per record kind the tariff uses,
//! with fields named after (and in the order of) the taric3.xsd elements.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;

/// A field problem: the element and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub(crate) element: String,
    pub(crate) reason: String,
}

/// The fields of one record body: (element local name, text), in document order.
#[derive(Debug)]
pub(crate) struct Fields {
    fields: Vec<(String, String)>,
}

/// A value read from a record field's text; `None` when the element is absent (or
/// blank: TARIC sends open end dates as spaces).
pub(crate) trait FieldValue: Sized {
    fn read(raw: Option<&str>) -> Result<Self, String>;
}

fn required<T>(
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, String> {
    match raw.map(str::trim) {
        None | Some("") => Err("missing".to_owned()),
        Some(s) => parse(s),
    }
}

fn optional<T>(
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, String> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => parse(s).map(Some),
    }
}

fn text(s: &str) -> Result<String, String> {
    Ok(s.to_owned())
}

fn unsigned<T: FromStr>(s: &str) -> Result<T, String> {
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid number `{s}`"));
    }
    s.parse().map_err(|_| format!("invalid number `{s}`"))
}

fn date(s: &str) -> Result<NaiveDate, String> {
    // taric3.xsd: `\d{4}-\d{2}-\d{2}`.
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return Err(format!("invalid date `{s}`"));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("invalid date `{s}`"))
}

fn timestamp(s: &str) -> Result<NaiveDateTime, String> {
    // taric3.xsd: `\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}`; a UTC designator or offset
    // (seen in TaMaTo samples) is accepted and normalised to UTC.
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(t);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.naive_utc())
        .map_err(|_| format!("invalid timestamp `{s}`"))
}

fn decimal(s: &str) -> Result<Decimal, String> {
    let ok = !s.is_empty()
        && s.bytes()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || c == b'.' || (i == 0 && (c == b'-' || c == b'+')));
    if !ok {
        return Err(format!("invalid decimal `{s}`"));
    }
    Decimal::from_str(s).map_err(|_| format!("invalid decimal `{s}`"))
}

macro_rules! field_value {
    ($ty:ty, $parse:expr) => {
        impl FieldValue for $ty {
            fn read(raw: Option<&str>) -> Result<Self, String> {
                required(raw, $parse)
            }
        }
        impl FieldValue for Option<$ty> {
            fn read(raw: Option<&str>) -> Result<Self, String> {
                optional(raw, $parse)
            }
        }
    };
}

field_value!(String, text);
field_value!(u64, unsigned::<u64>);
field_value!(u32, unsigned::<u32>);
field_value!(NaiveDate, date);
field_value!(NaiveDateTime, timestamp);
field_value!(Decimal, decimal);

impl Fields {
    /// Builds the field list; a repeated element is an error.
    pub(crate) fn new(fields: Vec<(String, String)>) -> Result<Self, FieldError> {
        for (i, (name, _)) in fields.iter().enumerate() {
            if fields[..i].iter().any(|(n, _)| n == name) {
                return Err(FieldError {
                    element: name.clone(),
                    reason: "repeated element".to_owned(),
                });
            }
        }
        Ok(Self { fields })
    }

    fn take<T: FieldValue>(&mut self, name: &str) -> Result<T, FieldError> {
        let raw = self
            .fields
            .iter()
            .position(|(n, _)| n == name)
            .map(|i| self.fields.remove(i).1);
        T::read(raw.as_deref()).map_err(|reason| FieldError {
            element: name.to_owned(),
            reason,
        })
    }

    fn finish(self) -> Result<(), FieldError> {
        match self.fields.into_iter().next() {
            None => Ok(()),
            Some((name, _)) => Err(FieldError {
                element: name,
                reason: "unexpected element in this record".to_owned(),
            }),
        }
    }

    fn into_map(self) -> BTreeMap<String, String> {
        self.fields.into_iter().collect()
    }
}

macro_rules! records {
    ($(
        $(#[$meta:meta])*
        $variant:ident = $element:literal, $code:literal / $sub:literal {
            $( $field:ident : $ty:ty = $name:literal ),* $(,)?
        }
    )*) => {
        $(
            $(#[$meta])*
            #[doc = concat!("\n\nRecord `", $element, "` (", $code, " ", $sub, ").")]
            #[derive(Debug, Clone, PartialEq, Eq)]
            pub struct $variant {
                $(
                    #[doc = concat!("`", $name, "`")]
                    pub $field: $ty,
                )*
            }

            impl $variant {
                /// The record's element name in taric3.xsd.
                pub const ELEMENT: &'static str = $element;
                /// The record code.
                pub const RECORD_CODE: &'static str = $code;
                /// The subrecord code.
                pub const SUBRECORD_CODE: &'static str = $sub;

                fn from_fields(fields: &mut Fields) -> Result<Self, FieldError> {
                    Ok(Self { $( $field: fields.take::<$ty>($name)?, )* })
                }
            }
        )*

        /// The body of a record: typed for the record kinds the tariff uses,
        /// [`RecordBody::Other`] (element and raw field texts) for the rest.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum RecordBody {
            $(
                #[doc = concat!("`", $element, "` (", $code, " ", $sub, ").")]
                $variant($variant),
            )*
            /// Any other record: its element and its fields (element → text).
            Other {
                /// The record element's local name, e.g. `measure.type.description`.
                element: String,
                /// The fields: element local name → text (as sent, untrimmed).
                fields: BTreeMap<String, String>,
            },
        }

        /// The typed record kinds: (element, record code, subrecord code).
        pub const TYPED_RECORDS: &[(&str, &str, &str)] = &[ $( ($element, $code, $sub), )* ];

        impl RecordBody {
            /// The record element's local name, e.g. `measure`.
            pub fn element(&self) -> &str {
                match self {
                    $( Self::$variant(_) => $element, )*
                    Self::Other { element, .. } => element,
                }
            }

            /// Parses a body from its element and fields.
            pub(crate) fn parse(element: &str, mut fields: Fields) -> Result<Self, FieldError> {
                let body = match element {
                    $( $element => Self::$variant($variant::from_fields(&mut fields)?), )*
                    _ => {
                        return Ok(Self::Other {
                            element: element.to_owned(),
                            fields: fields.into_map(),
                        })
                    }
                };
                fields.finish()?;
                Ok(body)
            }
        }
    };
}

/// The (record code, subrecord code) taric3 uses for a typed record element.
pub fn record_codes(element: &str) -> Option<(&'static str, &'static str)> {
    TYPED_RECORDS
        .iter()
        .find(|(e, _, _)| *e == element)
        .map(|(_, c, s)| (*c, *s))
}

records! {
    /// A goods nomenclature code (line).
    GoodsNomenclature = "goods.nomenclature", "400" / "00" {
        goods_nomenclature_sid: u64 = "goods.nomenclature.sid",
        goods_nomenclature_item_id: String = "goods.nomenclature.item.id",
        productline_suffix: String = "producline.suffix",
        validity_start_date: NaiveDate = "validity.start.date",
        validity_end_date: Option<NaiveDate> = "validity.end.date",
        statistical_indicator: String = "statistical.indicator",
    }
    /// The indent (depth) of a goods nomenclature line from a date.
    GoodsNomenclatureIndent = "goods.nomenclature.indents", "400" / "05" {
        goods_nomenclature_indent_sid: u64 = "goods.nomenclature.indent.sid",
        goods_nomenclature_sid: u64 = "goods.nomenclature.sid",
        validity_start_date: NaiveDate = "validity.start.date",
        number_indents: u32 = "number.indents",
        goods_nomenclature_item_id: String = "goods.nomenclature.item.id",
        productline_suffix: String = "productline.suffix",
    }
    /// A description period of a goods nomenclature line.
    GoodsNomenclatureDescriptionPeriod = "goods.nomenclature.description.period", "400" / "10" {
        goods_nomenclature_description_period_sid: u64 = "goods.nomenclature.description.period.sid",
        goods_nomenclature_sid: u64 = "goods.nomenclature.sid",
        validity_start_date: NaiveDate = "validity.start.date",
        goods_nomenclature_item_id: String = "goods.nomenclature.item.id",
        productline_suffix: String = "productline.suffix",
    }
    /// A goods nomenclature description in one language.
    GoodsNomenclatureDescription = "goods.nomenclature.description", "400" / "15" {
        goods_nomenclature_description_period_sid: u64 = "goods.nomenclature.description.period.sid",
        language_id: String = "language.id",
        goods_nomenclature_sid: u64 = "goods.nomenclature.sid",
        goods_nomenclature_item_id: String = "goods.nomenclature.item.id",
        productline_suffix: String = "productline.suffix",
        description: Option<String> = "description",
    }
    /// A geographical area: country, region or group.
    GeographicalArea = "geographical.area", "250" / "00" {
        geographical_area_sid: u64 = "geographical.area.sid",
        geographical_area_id: String = "geographical.area.id",
        validity_start_date: NaiveDate = "validity.start.date",
        validity_end_date: Option<NaiveDate> = "validity.end.date",
        geographical_code: String = "geographical.code",
        parent_geographical_area_group_sid: Option<u64> = "parent.geographical.area.group.sid",
    }
    /// A description period of a geographical area.
    GeographicalAreaDescriptionPeriod = "geographical.area.description.period", "250" / "05" {
        geographical_area_description_period_sid: u64 = "geographical.area.description.period.sid",
        geographical_area_sid: u64 = "geographical.area.sid",
        validity_start_date: NaiveDate = "validity.start.date",
        geographical_area_id: String = "geographical.area.id",
    }
    /// A geographical area description in one language.
    GeographicalAreaDescription = "geographical.area.description", "250" / "10" {
        geographical_area_description_period_sid: u64 = "geographical.area.description.period.sid",
        language_id: String = "language.id",
        geographical_area_sid: u64 = "geographical.area.sid",
        geographical_area_id: String = "geographical.area.id",
        description: Option<String> = "description",
    }
    /// Membership of an area in an area group.
    GeographicalMembership = "geographical.area.membership", "250" / "15" {
        geographical_area_sid: u64 = "geographical.area.sid",
        geographical_area_group_sid: u64 = "geographical.area.group.sid",
        validity_start_date: NaiveDate = "validity.start.date",
        validity_end_date: Option<NaiveDate> = "validity.end.date",
    }
    /// A measure.
    Measure = "measure", "430" / "00" {
        measure_sid: u64 = "measure.sid",
        measure_type: String = "measure.type",
        geographical_area: String = "geographical.area",
        goods_nomenclature_item_id: Option<String> = "goods.nomenclature.item.id",
        additional_code_type: Option<String> = "additional.code.type",
        additional_code: Option<String> = "additional.code",
        ordernumber: Option<String> = "ordernumber",
        reduction_indicator: Option<String> = "reduction.indicator",
        validity_start_date: NaiveDate = "validity.start.date",
        measure_generating_regulation_role: String = "measure.generating.regulation.role",
        measure_generating_regulation_id: String = "measure.generating.regulation.id",
        validity_end_date: Option<NaiveDate> = "validity.end.date",
        justification_regulation_role: Option<String> = "justification.regulation.role",
        justification_regulation_id: Option<String> = "justification.regulation.id",
        stopped_flag: String = "stopped.flag",
        geographical_area_sid: Option<u64> = "geographical.area.sid",
        goods_nomenclature_sid: Option<u64> = "goods.nomenclature.sid",
        additional_code_sid: Option<u64> = "additional.code.sid",
        export_refund_nomenclature_sid: Option<u64> = "export.refund.nomenclature.sid",
    }
    /// A duty expression component of a measure.
    MeasureComponent = "measure.component", "430" / "05" {
        measure_sid: u64 = "measure.sid",
        duty_expression_id: String = "duty.expression.id",
        duty_amount: Option<Decimal> = "duty.amount",
        monetary_unit_code: Option<String> = "monetary.unit.code",
        measurement_unit_code: Option<String> = "measurement.unit.code",
        measurement_unit_qualifier_code: Option<String> = "measurement.unit.qualifier.code",
    }
    /// A condition of a measure.
    MeasureCondition = "measure.condition", "430" / "10" {
        measure_condition_sid: u64 = "measure.condition.sid",
        measure_sid: u64 = "measure.sid",
        condition_code: String = "condition.code",
        component_sequence_number: u32 = "component.sequence.number",
        condition_duty_amount: Option<Decimal> = "condition.duty.amount",
        condition_monetary_unit_code: Option<String> = "condition.monetary.unit.code",
        condition_measurement_unit_code: Option<String> = "condition.measurement.unit.code",
        condition_measurement_unit_qualifier_code: Option<String> = "condition.measurement.unit.qualifier.code",
        action_code: Option<String> = "action.code",
        certificate_type_code: Option<String> = "certificate.type.code",
        certificate_code: Option<String> = "certificate.code",
    }
    /// A duty expression component of a measure condition.
    MeasureConditionComponent = "measure.condition.component", "430" / "11" {
        measure_condition_sid: u64 = "measure.condition.sid",
        duty_expression_id: String = "duty.expression.id",
        duty_amount: Option<Decimal> = "duty.amount",
        monetary_unit_code: Option<String> = "monetary.unit.code",
        measurement_unit_code: Option<String> = "measurement.unit.code",
        measurement_unit_qualifier_code: Option<String> = "measurement.unit.qualifier.code",
    }
    /// An area excluded from a measure's (group) area.
    MeasureExcludedGeographicalArea = "measure.excluded.geographical.area", "430" / "15" {
        measure_sid: u64 = "measure.sid",
        excluded_geographical_area: String = "excluded.geographical.area",
        geographical_area_sid: u64 = "geographical.area.sid",
    }
    /// A footnote attached to a measure.
    FootnoteAssociationMeasure = "footnote.association.measure", "430" / "20" {
        measure_sid: u64 = "measure.sid",
        footnote_type_id: String = "footnote.type.id",
        footnote_id: String = "footnote.id",
    }
    /// A base regulation.
    BaseRegulation = "base.regulation", "285" / "00" {
        base_regulation_role: String = "base.regulation.role",
        base_regulation_id: String = "base.regulation.id",
        published_date: Option<NaiveDate> = "published.date",
        officialjournal_number: Option<String> = "officialjournal.number",
        officialjournal_page: Option<u32> = "officialjournal.page",
        validity_start_date: NaiveDate = "validity.start.date",
        validity_end_date: Option<NaiveDate> = "validity.end.date",
        effective_end_date: Option<NaiveDate> = "effective.end.date",
        community_code: String = "community.code",
        regulation_group_id: String = "regulation.group.id",
        antidumping_regulation_role: Option<String> = "antidumping.regulation.role",
        related_antidumping_regulation_id: Option<String> = "related.antidumping.regulation.id",
        complete_abrogation_regulation_role: Option<String> = "complete.abrogation.regulation.role",
        complete_abrogation_regulation_id: Option<String> = "complete.abrogation.regulation.id",
        explicit_abrogation_regulation_role: Option<String> = "explicit.abrogation.regulation.role",
        explicit_abrogation_regulation_id: Option<String> = "explicit.abrogation.regulation.id",
        replacement_indicator: String = "replacement.indicator",
        stopped_flag: String = "stopped.flag",
        information_text: Option<String> = "information.text",
        approved_flag: String = "approved.flag",
    }
    /// A quota order number.
    QuotaOrderNumber = "quota.order.number", "360" / "00" {
        quota_order_number_sid: u64 = "quota.order.number.sid",
        quota_order_number_id: String = "quota.order.number.id",
        validity_start_date: NaiveDate = "validity.start.date",
        validity_end_date: Option<NaiveDate> = "validity.end.date",
    }
    /// An origin (area) of a quota order number.
    QuotaOrderNumberOrigin = "quota.order.number.origin", "360" / "10" {
        quota_order_number_origin_sid: u64 = "quota.order.number.origin.sid",
        quota_order_number_sid: u64 = "quota.order.number.sid",
        geographical_area_id: String = "geographical.area.id",
        validity_start_date: NaiveDate = "validity.start.date",
        validity_end_date: Option<NaiveDate> = "validity.end.date",
        geographical_area_sid: u64 = "geographical.area.sid",
    }
    /// A quota definition (volume over a period).
    QuotaDefinition = "quota.definition", "370" / "00" {
        quota_definition_sid: u64 = "quota.definition.sid",
        quota_order_number_id: String = "quota.order.number.id",
        validity_start_date: NaiveDate = "validity.start.date",
        validity_end_date: Option<NaiveDate> = "validity.end.date",
        quota_order_number_sid: u64 = "quota.order.number.sid",
        volume: Decimal = "volume",
        initial_volume: Decimal = "initial.volume",
        monetary_unit_code: Option<String> = "monetary.unit.code",
        measurement_unit_code: Option<String> = "measurement.unit.code",
        measurement_unit_qualifier_code: Option<String> = "measurement.unit.qualifier.code",
        maximum_precision: String = "maximum.precision",
        critical_state: String = "critical.state",
        critical_threshold: u32 = "critical.threshold",
        description: Option<String> = "description",
    }
    /// A quota balance event.
    QuotaBalanceEvent = "quota.balance.event", "375" / "00" {
        quota_definition_sid: u64 = "quota.definition.sid",
        occurrence_timestamp: NaiveDateTime = "occurrence.timestamp",
        old_balance: Decimal = "old.balance",
        new_balance: Decimal = "new.balance",
        imported_amount: Decimal = "imported.amount",
        last_import_date_in_allocation: Option<NaiveDate> = "last.import.date.in.allocation",
    }
    /// A monetary exchange period (the parent currency and validity).
    MonetaryExchangePeriod = "monetary.exchange.period", "440" / "00" {
        monetary_exchange_period_sid: u64 = "monetary.exchange.period.sid",
        parent_monetary_unit_code: String = "parent.monetary.unit.code",
        validity_start_date: NaiveDate = "validity.start.date",
        validity_end_date: Option<NaiveDate> = "validity.end.date",
    }
    /// An exchange rate of a monetary exchange period: 1 parent unit = `exchange_rate`
    /// child units.
    MonetaryExchangeRate = "monetary.exchange.rate", "440" / "05" {
        monetary_exchange_period_sid: u64 = "monetary.exchange.period.sid",
        child_monetary_unit_code: String = "child.monetary.unit.code",
        exchange_rate: Decimal = "exchange.rate",
    }
    /// A measure type.
    MeasureType = "measure.type", "235" / "00" {
        measure_type_id: String = "measure.type.id",
        validity_start_date: NaiveDate = "validity.start.date",
        validity_end_date: Option<NaiveDate> = "validity.end.date",
        trade_movement_code: String = "trade.movement.code",
        priority_code: String = "priority.code",
        measure_component_applicable_code: String = "measure.component.applicable.code",
        origin_dest_code: String = "origin.dest.code",
        order_number_capture_code: String = "order.number.capture.code",
        measure_explosion_level: u32 = "measure.explosion.level",
        measure_type_series_id: String = "measure.type.series.id",
    }
    /// An additional code.
    AdditionalCode = "additional.code", "245" / "00" {
        additional_code_sid: u64 = "additional.code.sid",
        additional_code_type_id: String = "additional.code.type.id",
        additional_code: String = "additional.code",
        validity_start_date: NaiveDate = "validity.start.date",
        validity_end_date: Option<NaiveDate> = "validity.end.date",
    }
    /// A certificate (document code).
    Certificate = "certificate", "205" / "00" {
        certificate_type_code: String = "certificate.type.code",
        certificate_code: String = "certificate.code",
        validity_start_date: NaiveDate = "validity.start.date",
        validity_end_date: Option<NaiveDate> = "validity.end.date",
    }
    /// A footnote.
    Footnote = "footnote", "200" / "00" {
        footnote_type_id: String = "footnote.type.id",
        footnote_id: String = "footnote.id",
        validity_start_date: NaiveDate = "validity.start.date",
        validity_end_date: Option<NaiveDate> = "validity.end.date",
    }
    /// A duty expression.
    DutyExpression = "duty.expression", "230" / "00" {
        duty_expression_id: String = "duty.expression.id",
        validity_start_date: NaiveDate = "validity.start.date",
        validity_end_date: Option<NaiveDate> = "validity.end.date",
        duty_amount_applicability_code: u32 = "duty.amount.applicability.code",
        measurement_unit_applicability_code: String = "measurement.unit.applicability.code",
        monetary_unit_applicability_code: String = "monetary.unit.applicability.code",
    }
}
