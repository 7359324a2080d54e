//! Quota records: order numbers, origins, definitions, blocking and suspension periods,
//! balance events, and [`Quotas`], the collection with its lookups.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::measures::Validity;

/// How a quota is administered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mechanism {
    /// First come, first served: allocated to declarations in order of acceptance.
    Fcfs,
    /// Managed through import licences; no FCFS drawing.
    Licensed,
}

impl Mechanism {
    /// The mechanism an order number denotes: the third digit `4` marks a licensed quota
    /// (EU `094xxx`, UK `054xxx`); every other order number is FCFS.
    pub fn of_order_number(id: &str) -> Mechanism {
        if id.as_bytes().get(2) == Some(&b'4') {
            Mechanism::Licensed
        } else {
            Mechanism::Fcfs
        }
    }

    /// `fcfs` or `licensed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Fcfs => "fcfs",
            Mechanism::Licensed => "licensed",
        }
    }
}

/// The state of a quota on a date (see the module docs for the precedence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaStatus {
    /// Available.
    Open,
    /// Available, but most of the initial volume is used (or flagged critical).
    Critical,
    /// The balance is zero.
    Exhausted,
    /// In a blocking period: no allocation.
    Blocked,
    /// In a suspension period: the quota does not apply.
    Suspended,
    /// No definition in force on the date.
    NotInPeriod,
}

impl QuotaStatus {
    /// The snake_case name (`open`, `not_in_period`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            QuotaStatus::Open => "open",
            QuotaStatus::Critical => "critical",
            QuotaStatus::Exhausted => "exhausted",
            QuotaStatus::Blocked => "blocked",
            QuotaStatus::Suspended => "suspended",
            QuotaStatus::NotInPeriod => "not_in_period",
        }
    }
}

/// An origin of a quota order number: a country or group, minus excluded areas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaOrigin {
    /// `quota.order.number.origin.sid`.
    pub sid: u64,
    /// The area id (`"CN"`, `"1011"`).
    pub area: String,
    /// When the origin applies.
    pub validity: Validity,
    /// Areas excluded from a group origin, sorted.
    pub exclusions: Vec<String>,
}

/// The unit a quota volume is counted in: a measurement unit with an optional qualifier
/// (`TNE`, `KGM` + `I`), or a currency for value quotas (`EUR`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaUnit {
    /// `measurement.unit.code`.
    pub measurement_unit: Option<String>,
    /// `measurement.unit.qualifier.code`.
    pub qualifier: Option<String>,
    /// `monetary.unit.code`.
    pub monetary_unit: Option<String>,
}

impl QuotaUnit {
    /// The unit as one code: measurement unit + qualifier (`"KGMI"`), else the currency,
    /// else empty. Requests name the unit the same way as duty-calculation quantities.
    pub fn code(&self) -> String {
        match (&self.measurement_unit, &self.monetary_unit) {
            (Some(u), _) => format!("{u}{}", self.qualifier.as_deref().unwrap_or("")),
            (None, Some(m)) => m.clone(),
            (None, None) => String::new(),
        }
    }

    /// Whether a request's unit code names this unit (case-insensitive; a unit-less
    /// definition accepts any).
    pub fn accepts(&self, code: &str) -> bool {
        let own = self.code();
        own.is_empty() || own.eq_ignore_ascii_case(code.trim())
    }
}

/// A blocking period of a definition: no allocation from `period.start` to `period.end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockingPeriod {
    /// `quota.blocking.period.sid`.
    pub sid: u64,
    /// The blocked days (both ends inclusive).
    pub period: Validity,
    /// `blocking.period.type` (1 late publication, 2 after a volume increase, … 8).
    pub kind: String,
    /// Free text.
    pub description: Option<String>,
}

/// A suspension period of a definition: the quota does not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspensionPeriod {
    /// `quota.suspension.period.sid`.
    pub sid: u64,
    /// The suspended days (both ends inclusive).
    pub period: Validity,
    /// Free text.
    pub description: Option<String>,
}

/// A balance event from TARIC (`quota.balance.event`): the balance as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceEvent {
    /// `occurrence.timestamp`.
    pub occurred_at: NaiveDateTime,
    /// `old.balance`.
    pub old_balance: Decimal,
    /// `new.balance`.
    pub new_balance: Decimal,
    /// `imported.amount`.
    pub imported_amount: Decimal,
    /// `last.import.date.in.allocation`.
    pub last_import_date: Option<NaiveDate>,
}

/// A TARIC quota event other than a balance event, as published (`quota.*.event`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaEvent {
    /// `occurrence.timestamp`.
    pub occurred_at: NaiveDateTime,
    /// What happened.
    pub kind: QuotaEventKind,
}

/// What a [`QuotaEvent`] records, with the date it takes effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum QuotaEventKind {
    /// `quota.critical.event`: the quota became critical (`Y`) or not (`N`).
    Critical {
        critical: bool,
        change_date: Option<NaiveDate>,
    },
    /// `quota.exhaustion.event`.
    Exhaustion { date: NaiveDate },
    /// `quota.reopening.event`.
    Reopening { date: NaiveDate },
    /// `quota.unblocking.event`.
    Unblocking { date: NaiveDate },
    /// `quota.unsuspension.event`.
    Unsuspension { date: NaiveDate },
    /// `quota.closed.and.transferred.event`: closed (or not), and an amount transferred to
    /// another definition.
    ClosedAndTransferred {
        date: NaiveDate,
        closed: bool,
        transferred_amount: Decimal,
        target_definition_sid: u64,
    },
}

impl QuotaEventKind {
    /// The event's name (`critical`, `exhaustion`, …, `closed_and_transferred`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Critical { .. } => "critical",
            Self::Exhaustion { .. } => "exhaustion",
            Self::Reopening { .. } => "reopening",
            Self::Unblocking { .. } => "unblocking",
            Self::Unsuspension { .. } => "unsuspension",
            Self::ClosedAndTransferred { .. } => "closed_and_transferred",
        }
    }
}

/// A sub-quota of a definition (`quota.association`): drawings on the sub-quota's
/// definition count against the main one, in proportion `coefficient` for `NM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaAssociation {
    /// `sub.quota.definition.sid`.
    pub sub_definition_sid: u64,
    /// `relation.type`: `EQ` (equivalent) or `NM` (normal, with a coefficient).
    pub relation: String,
    /// `coefficient`.
    pub coefficient: Option<Decimal>,
}

/// A quota definition: one period of an order number with its volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaDefinition {
    /// `quota.definition.sid`.
    pub sid: u64,
    /// The order number id.
    pub order_number: String,
    /// The period.
    pub validity: Validity,
    /// The volume available in the period.
    pub volume: Decimal,
    /// The volume at opening.
    pub initial_volume: Decimal,
    /// The unit of the volumes.
    pub unit: QuotaUnit,
    /// Decimal places allowed in quantities.
    pub maximum_precision: u32,
    /// The critical threshold, a percentage of the initial volume used.
    pub critical_threshold: u32,
    /// Flagged critical from the start (`critical.state` `Y`).
    pub critical: bool,
    /// Free text.
    pub description: Option<String>,
    /// Blocking periods, by start.
    pub blocking_periods: Vec<BlockingPeriod>,
    /// Suspension periods, by start.
    pub suspension_periods: Vec<SuspensionPeriod>,
    /// Balance events imported from TARIC, oldest first.
    pub balance_events: Vec<BalanceEvent>,
    /// The other TARIC quota events (critical, exhaustion, reopening, unblocking,
    /// unsuspension, closed and transferred), oldest first, as published: informative, the
    /// drawing works from the balance events and this administration's own drawings.
    #[serde(default)]
    pub events: Vec<QuotaEvent>,
    /// The sub-quotas of this definition (`quota.association`), by sub-definition sid.
    #[serde(default)]
    pub sub_quotas: Vec<QuotaAssociation>,
}

impl QuotaDefinition {
    /// The blocking period covering `date`, if any.
    pub fn blocked_on(&self, date: NaiveDate) -> Option<&BlockingPeriod> {
        self.blocking_periods
            .iter()
            .find(|b| b.period.contains(date))
    }

    /// The suspension period covering `date`, if any.
    pub fn suspended_on(&self, date: NaiveDate) -> Option<&SuspensionPeriod> {
        self.suspension_periods
            .iter()
            .find(|s| s.period.contains(date))
    }

    /// The balance drawing starts from: the latest imported balance event's new balance
    /// (the balance published for the quota), else the volume; never above the volume nor
    /// below zero.
    pub fn opening_balance(&self) -> Decimal {
        let b = self
            .balance_events
            .last()
            .map_or(self.volume, |e| e.new_balance);
        b.clamp(Decimal::ZERO, self.volume.max(Decimal::ZERO))
    }

    /// Whether `balance` is critical: flagged, or at most (100 − threshold)% of the
    /// initial volume left (see the module docs).
    pub fn is_critical(&self, balance: Decimal) -> bool {
        if self.critical {
            return true;
        }
        let left_pct = Decimal::from(100u32.saturating_sub(self.critical_threshold.min(100)));
        let limit = self.initial_volume * left_pct / Decimal::ONE_HUNDRED;
        balance <= limit
    }
}

/// A quota order number with its origins and definitions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaOrderNumber {
    /// `quota.order.number.sid`.
    pub sid: u64,
    /// The six-digit id (`"091104"`).
    pub id: String,
    /// When the order number exists.
    pub validity: Validity,
    /// FCFS or licensed, from the id.
    pub mechanism: Mechanism,
    /// Origins, by area then start.
    pub origins: Vec<QuotaOrigin>,
    /// Definitions, by start.
    pub definitions: Vec<QuotaDefinition>,
}

impl QuotaOrderNumber {
    /// The definition in force on `date`: the one whose validity contains it (the latest
    /// start when several do).
    pub fn definition_as_of(&self, date: NaiveDate) -> Option<&QuotaDefinition> {
        self.definitions
            .iter()
            .filter(|d| d.validity.contains(date))
            .max_by_key(|d| (d.validity.start, d.sid))
    }

    /// The origins applying on `date`.
    pub fn origins_as_of(&self, date: NaiveDate) -> Vec<&QuotaOrigin> {
        self.origins
            .iter()
            .filter(|o| o.validity.contains(date))
            .collect()
    }

    /// A definition by sid.
    pub fn definition(&self, sid: u64) -> Option<&QuotaDefinition> {
        self.definitions.iter().find(|d| d.sid == sid)
    }
}

/// Every quota order number of a tariff, by id then start.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quotas {
    order_numbers: Vec<QuotaOrderNumber>,
}

impl Quotas {
    /// The collection, sorted by id then validity start (then sid).
    pub fn new(mut order_numbers: Vec<QuotaOrderNumber>) -> Self {
        order_numbers.sort_by(|a, b| {
            (a.id.as_str(), a.validity.start, a.sid).cmp(&(b.id.as_str(), b.validity.start, b.sid))
        });
        Self { order_numbers }
    }

    /// Every order number.
    pub fn all(&self) -> &[QuotaOrderNumber] {
        &self.order_numbers
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.order_numbers.is_empty()
    }

    /// The order numbers existing on `date`.
    pub fn as_of(&self, date: NaiveDate) -> impl Iterator<Item = &QuotaOrderNumber> {
        self.order_numbers
            .iter()
            .filter(move |q| q.validity.contains(date))
    }

    /// The order number `id` as of `date`: the record valid on the date, else the latest
    /// one starting on or before it, else the earliest; `None` when the id is unknown.
    pub fn find(&self, id: &str, date: NaiveDate) -> Option<&QuotaOrderNumber> {
        let same = || self.order_numbers.iter().filter(move |q| q.id == id);
        same()
            .rfind(|q| q.validity.contains(date))
            .or_else(|| same().rfind(|q| q.validity.start <= date))
            .or_else(|| same().next())
    }

    /// The order number and definition of a definition sid.
    pub fn definition(&self, sid: u64) -> Option<(&QuotaOrderNumber, &QuotaDefinition)> {
        self.order_numbers
            .iter()
            .find_map(|q| q.definition(sid).map(|d| (q, d)))
    }
}
