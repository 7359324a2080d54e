//! Domain records: validity periods, geographical areas and their memberships,
//! regulations, measures, and [`TariffData`] with its goods-code index.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::duty::{MeasureComponent, MeasureCondition};
use crate::nomenclature::GoodsCode;

/// The erga omnes geographical area: every origin.
pub const ERGA_OMNES: &str = "1011";

/// A validity period; both ends are inclusive (TARIC validity start and end dates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validity {
    /// First day of validity.
    pub start: NaiveDate,
    /// Last day of validity; `None`: open-ended.
    pub end: Option<NaiveDate>,
}

impl Validity {
    /// A period from `start` to `end` (inclusive).
    pub fn new(start: NaiveDate, end: Option<NaiveDate>) -> Self {
        Self { start, end }
    }

    /// An open-ended period from `start`.
    pub fn from(start: NaiveDate) -> Self {
        Self { start, end: None }
    }

    /// Whether `date` is within the period (both ends inclusive).
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && self.end.is_none_or(|e| date <= e)
    }

    /// Whether the two periods share at least one day.
    pub fn overlaps(&self, other: &Validity) -> bool {
        let self_ends_before = self.end.is_some_and(|e| e < other.start);
        let other_ends_before = other.end.is_some_and(|e| e < self.start);
        !self_ends_before && !other_ends_before
    }
}

/// The kind of a geographical area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaKind {
    /// A country (TARIC area code 0), e.g. `"CN"`.
    Country,
    /// A group of countries (code 1), e.g. `"1011"` erga omnes, `"1013"` European Union,
    /// `"2005"` GSP.
    Group,
    /// A region (code 2), e.g. `"XC"` Ceuta.
    Region,
}

/// A geographical area (TARIC `geographical.area`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeographicalArea {
    /// Area id: an ISO country code (`"CN"`) or a 4-digit group id (`"1011"`, `"1013"`).
    pub id: String,
    /// Country, group or region.
    pub kind: AreaKind,
    /// When the area exists.
    pub validity: Validity,
}

/// A member of a geographical area group over a period (memberships change over time:
/// countries join and leave groups such as GSP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// The group's id, e.g. `"2005"`.
    pub group: String,
    /// The member's id, e.g. `"IN"` (a country, a region or another group).
    pub member: String,
    /// When the area is a member.
    pub validity: Validity,
}

/// A (base or modification) regulation.
///
/// A measure without an end date ends when its regulation ends (TARIC implicit end
/// date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Regulation {
    /// Regulation id, e.g. `"R2204870"`.
    pub id: String,
    /// Validity of the regulation.
    pub validity: Validity,
}

/// A measure (TARIC `measure`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measure {
    /// Measure SID.
    pub sid: u64,
    /// Measure type id, e.g. `"103"` (see [`crate::measures::measure_type`]).
    pub measure_type: String,
    /// The goods code; the measure applies to it and all its descendants.
    pub goods_code: GoodsCode,
    /// Geographical area id: a country, a group or `"1011"` (erga omnes).
    pub geographical_area: String,
    /// Excluded areas (countries or groups; excluding a group excludes its members).
    #[serde(default)]
    pub excluded_areas: Vec<String>,
    /// Additional code, type and code together, e.g. `"C999"`, `"B123"`.
    #[serde(default)]
    pub additional_code: Option<String>,
    /// Quota order number, e.g. `"091104"`.
    #[serde(default)]
    pub order_number: Option<String>,
    /// The regulation the measure belongs to.
    #[serde(default)]
    pub regulation: Option<String>,
    /// Validity; an open end inherits the regulation's end (see [`Measure::effective_validity`]).
    pub validity: Validity,
    /// Duty components.
    #[serde(default)]
    pub components: Vec<MeasureComponent>,
    /// Conditions.
    #[serde(default)]
    pub conditions: Vec<MeasureCondition>,
    /// Footnote ids, e.g. `"TN701"`.
    #[serde(default)]
    pub footnotes: Vec<String>,
    /// An administration's own (national) measure, e.g. VAT or excise.
    #[serde(default)]
    pub national: bool,
}

impl Measure {
    /// The measure's validity with the TARIC implicit end date: a measure with no end date
    /// ends when its regulation ends (when the regulation is in `regulations` and has an
    /// end date).
    pub fn effective_validity(&self, regulations: &[Regulation]) -> Validity {
        if self.validity.end.is_some() {
            return self.validity;
        }
        let end = self.regulation.as_ref().and_then(|id| {
            regulations
                .iter()
                .find(|r| &r.id == id)
                .and_then(|r| r.validity.end)
        });
        Validity {
            start: self.validity.start,
            end,
        }
    }
}

/// The records the applicability and calculation functions work on, with an index of
/// measures by goods code.
///
/// Build it with [`TariffData::new`] (or deserialize it: the index is rebuilt). After
/// changing `measures` or `memberships` in place, call [`TariffData::reindex`]; if their
/// number no longer matches the index, lookups fall back to a full scan.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(from = "TariffRecords")]
pub struct TariffData {
    /// Measures.
    pub measures: Vec<Measure>,
    /// Geographical areas.
    pub areas: Vec<GeographicalArea>,
    /// Group memberships.
    pub memberships: Vec<Membership>,
    /// Regulations.
    pub regulations: Vec<Regulation>,
    /// Measure positions by the 10 digits of their goods code, as a number ([`code_key`]):
    /// integer comparisons on the hot path, and prefix ranges for [`Self::measures_under`].
    #[serde(skip)]
    index: BTreeMap<u64, Vec<usize>>,
    /// Number of measures when the index was built.
    #[serde(skip)]
    indexed: usize,
    /// Membership positions by group id.
    #[serde(skip)]
    members: FxHashMap<String, Vec<usize>>,
    /// Per group: its membership positions by member id, and those whose member is itself a
    /// group, so that [`Self::area_covers`] finds an origin without comparing it with every
    /// member (the GSP groups have over a hundred).
    #[serde(skip)]
    groups: FxHashMap<String, GroupIndex>,
    /// Number of memberships when `members` was built.
    #[serde(skip)]
    members_indexed: usize,
    /// Regulation positions by id.
    #[serde(skip)]
    regulations_by_id: FxHashMap<String, usize>,
    /// Number of regulations when `regulations_by_id` was built.
    #[serde(skip)]
    regulations_indexed: usize,
}

/// The serialized form of [`TariffData`] (without its index).
#[derive(Deserialize)]
struct TariffRecords {
    #[serde(default)]
    measures: Vec<Measure>,
    #[serde(default)]
    areas: Vec<GeographicalArea>,
    #[serde(default)]
    memberships: Vec<Membership>,
    #[serde(default)]
    regulations: Vec<Regulation>,
}

impl From<TariffRecords> for TariffData {
    fn from(r: TariffRecords) -> Self {
        Self::new(r.measures, r.areas, r.memberships, r.regulations)
    }
}

impl TariffData {
    /// The records, indexed.
    pub fn new(
        measures: Vec<Measure>,
        areas: Vec<GeographicalArea>,
        memberships: Vec<Membership>,
        regulations: Vec<Regulation>,
    ) -> Self {
        let mut data = Self {
            measures,
            areas,
            memberships,
            regulations,
            index: BTreeMap::new(),
            indexed: 0,
            members: FxHashMap::default(),
            groups: FxHashMap::default(),
            members_indexed: 0,
            regulations_by_id: FxHashMap::default(),
            regulations_indexed: 0,
        };
        data.reindex();
        data
    }

    /// Rebuilds the goods-code and group indexes (after changing `measures` or
    /// `memberships`).
    pub fn reindex(&mut self) {
        let mut index: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
        for (i, m) in self.measures.iter().enumerate() {
            index.entry(m.goods_code.key()).or_default().push(i);
        }
        self.index = index;
        self.indexed = self.measures.len();
        let mut members: FxHashMap<String, Vec<usize>> = FxHashMap::default();
        for (i, m) in self.memberships.iter().enumerate() {
            members.entry(m.group.clone()).or_default().push(i);
        }
        let mut groups: FxHashMap<String, GroupIndex> = FxHashMap::default();
        for (i, m) in self.memberships.iter().enumerate() {
            let g = groups.entry(m.group.clone()).or_default();
            g.by_member.entry(m.member.clone()).or_default().push(i);
            if members.contains_key(&m.member) {
                g.subgroups.push(i);
            }
        }
        self.members = members;
        self.groups = groups;
        self.members_indexed = self.memberships.len();
        let mut regulations = FxHashMap::default();
        for (i, r) in self.regulations.iter().enumerate() {
            regulations.entry(r.id.clone()).or_insert(i);
        }
        self.regulations_by_id = regulations;
        self.regulations_indexed = self.regulations.len();
    }

    /// [`Measure::effective_validity`] through the regulation index (a full scan when the
    /// index is not current).
    pub fn effective_validity(&self, measure: &Measure) -> Validity {
        if measure.validity.end.is_some() || self.regulations_indexed != self.regulations.len() {
            return measure.effective_validity(&self.regulations);
        }
        let end = measure
            .regulation
            .as_ref()
            .and_then(|id| self.regulations_by_id.get(id))
            .and_then(|&i| self.regulations.get(i))
            .and_then(|r| r.validity.end);
        Validity {
            start: measure.validity.start,
            end,
        }
    }

    /// The memberships of `group` (any date): through the index, or a full scan when the
    /// index is not current.
    fn members_of<'s>(&'s self, group: &'s str) -> MembersOf<'s> {
        if self.members_indexed != self.memberships.len() {
            return MembersOf::Scan(self.memberships.iter(), group);
        }
        let ix: &[usize] = self.members.get(group).map(Vec::as_slice).unwrap_or(&[]);
        MembersOf::Indexed(ix.iter(), &self.memberships)
    }

    fn index_is_current(&self) -> bool {
        self.indexed == self.measures.len()
    }

    /// The measures declared on exactly these 10 digits (any product-line suffix).
    pub fn measures_on(&self, code: &GoodsCode) -> Vec<&Measure> {
        if !self.index_is_current() {
            return self
                .measures
                .iter()
                .filter(|m| m.goods_code.as_str() == code.as_str())
                .collect();
        }
        self.index
            .get(&code.key())
            .map(|ix| ix.iter().filter_map(|&i| self.measures.get(i)).collect())
            .unwrap_or_default()
    }

    /// [`TariffData::measures_on`] by the 10 digits, without collecting them.
    pub(crate) fn measures_on_digits<'s, 'd>(
        &'s self,
        digits: &'d str,
    ) -> impl Iterator<Item = &'s Measure> + use<'s, 'd> {
        let (indexed, scan) = if self.index_is_current() {
            let ix: &[usize] = code_key(digits)
                .and_then(|k| self.index.get(&k))
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            (ix, None)
        } else {
            (&[][..], Some(self.measures.iter()))
        };
        indexed.iter().filter_map(|&i| self.measures.get(i)).chain(
            scan.into_iter()
                .flatten()
                .filter(move |m| m.goods_code.as_str() == digits),
        )
    }

    /// The measures whose goods code starts with `prefix` (digits, e.g. `"0702"`): the
    /// measures on a line and on its descendants.
    pub fn measures_under(&self, prefix: &str) -> Vec<&Measure> {
        if !self.index_is_current() {
            return self
                .measures
                .iter()
                .filter(|m| m.goods_code.as_str().starts_with(prefix))
                .collect();
        }
        let Some(range) = prefix_range(prefix) else {
            return Vec::new();
        };
        self.index
            .range(range)
            .flat_map(|(_, ix)| ix.iter().filter_map(|&i| self.measures.get(i)))
            .collect()
    }

    /// A geographical area by id.
    pub fn area(&self, id: &str) -> Option<&GeographicalArea> {
        self.areas.iter().find(|a| a.id == id)
    }

    /// Whether `member` is a direct member of `group` on `date`.
    pub fn is_member(&self, group: &str, member: &str, date: NaiveDate) -> bool {
        self.members_of(group)
            .any(|m| m.member == member && m.validity.contains(date))
    }

    /// Whether the area `area` covers the origin `origin` on `date`: the same id, erga
    /// omnes (`"1011"`), or a group the origin is a member of on that date, directly or
    /// through member groups.
    pub fn area_covers(&self, area: &str, origin: &str, date: NaiveDate) -> bool {
        if area == origin || area == ERGA_OMNES {
            return true;
        }
        if self.members_indexed == self.memberships.len() {
            return self.area_covers_indexed(area, origin, date);
        }
        // Most areas are countries (no members) and most groups hold only countries, so the
        // walk allocates only when it meets a member that is itself a group: this runs for
        // every measure of every calculation.
        let mut seen: Vec<&str> = Vec::new();
        let mut stack: Vec<&str> = Vec::new();
        let mut group = area;
        loop {
            for m in self.members_of(group) {
                if !m.validity.contains(date) {
                    continue;
                }
                if m.member == origin {
                    return true;
                }
                if m.member != area
                    && self.may_have_members(&m.member)
                    && !seen.contains(&m.member.as_str())
                {
                    seen.push(&m.member);
                    stack.push(&m.member);
                }
            }
            match stack.pop() {
                Some(next) => group = next,
                None => return false,
            }
        }
    }

    /// [`Self::area_covers`] through the group index: one lookup of the origin per group
    /// visited, then its member groups (allocating only when there are some).
    fn area_covers_indexed(&self, area: &str, origin: &str, date: NaiveDate) -> bool {
        let valid = |i: &usize| {
            self.memberships
                .get(*i)
                .is_some_and(|m| m.validity.contains(date))
        };
        let mut seen: Vec<&str> = Vec::new();
        let mut stack: Vec<&str> = Vec::new();
        let mut group = area;
        loop {
            if let Some(g) = self.groups.get(group) {
                if g.by_member
                    .get(origin)
                    .is_some_and(|ix| ix.iter().any(valid))
                {
                    return true;
                }
                for m in g.subgroups.iter().filter(|i| valid(i)) {
                    let Some(m) = self.memberships.get(*m) else {
                        continue;
                    };
                    if m.member != area && !seen.contains(&m.member.as_str()) {
                        seen.push(&m.member);
                        stack.push(&m.member);
                    }
                }
            }
            match stack.pop() {
                Some(next) => group = next,
                None => return false,
            }
        }
    }

    /// Whether `area` may be a group with members: through the index, or `true` (walk it)
    /// when the index is not current.
    fn may_have_members(&self, area: &str) -> bool {
        self.members_indexed != self.memberships.len() || self.members.contains_key(area)
    }
}

/// The index key of 10 goods-code digits (see [`GoodsCode::key`]); `None` for anything else.
fn code_key(digits: &str) -> Option<u64> {
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        digits
            .bytes()
            .fold(0u64, |n, d| n * 10 + u64::from(d - b'0')),
    )
}

/// The index keys of every 10-digit code starting with `prefix` (0 to 10 digits).
fn prefix_range(prefix: &str) -> Option<std::ops::RangeInclusive<u64>> {
    if prefix.len() > 10 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let low = format!("{prefix:0<10}");
    let high = format!("{prefix:9<10}");
    Some(code_key(&low)?..=code_key(&high)?)
}

/// One group's memberships, indexed for [`TariffData::area_covers`].
#[derive(Debug, Clone, Default)]
struct GroupIndex {
    /// Membership positions by member id.
    by_member: FxHashMap<String, Vec<usize>>,
    /// Positions of the memberships whose member is itself a group.
    subgroups: Vec<usize>,
}

/// The memberships of one group (see `TariffData::members_of`), without allocating.
enum MembersOf<'s> {
    Indexed(std::slice::Iter<'s, usize>, &'s [Membership]),
    Scan(std::slice::Iter<'s, Membership>, &'s str),
}

impl<'s> Iterator for MembersOf<'s> {
    type Item = &'s Membership;
    fn next(&mut self) -> Option<&'s Membership> {
        match self {
            MembersOf::Indexed(ix, all) => ix.find_map(|&i| all.get(i)),
            MembersOf::Scan(it, group) => it.find(|m| m.group == *group),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn member(group: &str, member: &str, from: &str, to: Option<&str>) -> Membership {
        Membership {
            group: group.into(),
            member: member.into(),
            validity: Validity::new(day(from), to.map(day)),
        }
    }

    /// Index keys keep the digits' order, and a prefix covers exactly the codes that start
    /// with it: the first and last code under it and nothing on either side.
    #[test]
    fn code_keys_and_prefix_ranges() {
        let key = |s: &str| code_key(s);
        assert_eq!(key("0702000007"), Some(702_000_007));
        assert_eq!(key("9999999999"), Some(9_999_999_999));
        assert_eq!(key("070200000"), None);
        assert_eq!(key("07020000a7"), None);
        for (a, b) in [("0101000000", "0102000000"), ("0709999999", "0710000000")] {
            assert!(key(a) < key(b));
        }
        assert_eq!(
            GoodsCode::new("0702000007").ok().map(|c| c.key()),
            key("0702000007")
        );
        let range = prefix_range("0702");
        assert!(range.is_some());
        for (digits, inside) in [
            ("0702000000", true),
            ("0702999999", true),
            ("0701999999", false),
            ("0703000000", false),
        ] {
            assert_eq!(
                key(digits).is_some_and(|k| range.as_ref().is_some_and(|r| r.contains(&k))),
                inside,
                "{digits}"
            );
        }
        assert_eq!(prefix_range(""), Some(0..=9_999_999_999));
        assert_eq!(prefix_range("0702000007"), key("0702000007").map(|k| k..=k));
        assert_eq!(prefix_range("07x"), None);
        assert_eq!(prefix_range("07020000071"), None);
    }

    /// Groups inside groups (with a cycle), memberships over time, and the same answers
    /// without the index (the full-scan fallback).
    #[test]
    fn area_covers_through_member_groups() {
        let memberships = vec![
            member("2000", "2001", "2020-01-01", None),
            member("2001", "2002", "2020-01-01", Some("2023-12-31")),
            member("2002", "VN", "2020-01-01", None),
            member("2002", "2000", "2020-01-01", None),
            member("2001", "IN", "2020-01-01", None),
        ];
        let indexed = TariffData::new(Vec::new(), Vec::new(), memberships.clone(), Vec::new());
        let mut scanned = indexed.clone();
        // A membership added without `reindex`: lookups fall back to a full scan.
        scanned
            .memberships
            .push(member("3999", "ZZ", "2020-01-01", None));
        for data in [&indexed, &scanned] {
            assert!(data.area_covers("2000", "IN", day("2024-06-01")));
            assert!(data.area_covers("2000", "VN", day("2023-06-01")));
            assert!(!data.area_covers("2000", "VN", day("2024-06-01")));
            assert!(data.area_covers("2002", "IN", day("2023-06-01")));
            assert!(!data.area_covers("2002", "CN", day("2023-06-01")));
            assert!(!data.area_covers("VN", "CN", day("2023-06-01")));
            assert!(data.area_covers("VN", "VN", day("2023-06-01")));
            assert!(data.area_covers(ERGA_OMNES, "CN", day("2023-06-01")));
        }
        assert_ne!(scanned.members_indexed, scanned.memberships.len());
    }
}
