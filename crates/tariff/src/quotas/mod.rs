//! Tariff quotas: order numbers, their origins and definitions per period, and
//! first-come-first-served (FCFS) drawing as pure functions.
//!
//! # Model
//! - [`QuotaOrderNumber`]: the six-digit id a declaration quotes (`"091104"`), its TARIC
//!   sid and validity, its [`QuotaOrigin`]s (areas, each with excluded areas) and its
//!   [`QuotaDefinition`]s.
//! - [`Mechanism`]: how the quota is administered, from the order number (the numbering
//!   convention of the EU and the UK): the third digit `4` marks a *licensed* quota
//!   (EU `094xxx`, UK `054xxx`), drawn against import licences issued beforehand and
//!   never by FCFS; every other order number (`09xxxx`, `05xxxx`, …) is *first come, first
//!   served*.
//! - [`QuotaDefinition`]: one period (validity) of an order number with its `volume` (the
//!   quantity available in the period, including increases and transfers), its
//!   `initial_volume` (at opening), the [`QuotaUnit`], the maximum precision (decimal
//!   places of quantities), the critical threshold (a percentage) and the critical flag,
//!   plus its [`BlockingPeriod`]s, [`SuspensionPeriod`]s and imported [`BalanceEvent`]s.
//!   [`QuotaOrderNumber::definition_as_of`] is the definition in force on a date.
//!
//! # States ([`QuotaStatus`])
//! In order of precedence, on a date and for a balance:
//! 1. `not_in_period`: no definition of the order number is in force on the date;
//! 2. `suspended`: the date is in a suspension period (the quota does not apply);
//! 3. `blocked`: the date is in a blocking period (no allocation while blocked);
//! 4. `exhausted`: the balance is zero;
//! 5. `critical`: the definition is flagged critical (`critical.state` `Y`), or the
//!    balance has fallen to (100 − threshold)% of the initial volume or below. This is the
//!    EU rule (UCC IA art. 51): a quota becomes critical once `threshold`% (typically 90%)
//!    of its initial volume is used up. It is *not* "balance below threshold%", which
//!    would make a 90%-threshold quota critical after 10% was used;
//! 6. `open`.
//!
//! # FCFS drawing
//! [`draw`] serves one allocation request against a balance: it refuses licensed quotas,
//! dates outside the definition, suspended and blocked dates, an exhausted balance, a unit
//! other than the definition's and quantities that are not positive or have more decimals
//! than the maximum precision ([`Refusal`]); otherwise it grants `min(requested,
//! balance)`: a request larger than the balance takes what is left (a partial
//! allocation), and the balance never goes below zero. The request's *acceptance date*
//! (the acceptance of the customs declaration) selects the definition and is checked
//! against the suspension and blocking periods.
//!
//! [`allocate`] serves a batch of pending requests *in order of acceptance time* (ties:
//! request id), each with [`draw`] against the balance the previous ones left. This is the
//! semantics the project implements: strictly by acceptance time. The EU's own rule
//! (UCC IA art. 51(2)) differs for requests accepted on the *same day*: when they exceed
//! the balance together, it allocates them pro rata. Portorium serves them by
//! acceptance time instead, so an earlier declaration is never cut by a later one.
//!
//! # Returns
//! [`credit_return`]: an unused quantity of an allocation is credited back to the
//! balance. A return is positive, never more than what the allocation still holds
//! (granted minus earlier returns), and never lifts the balance above the definition's
//! volume (the excess is not credited).
//!
//! Pure: no IO, no clock; dates and times are arguments.

mod allocation;
mod model;

pub use allocation::{
    allocate, credit_return, draw, status, AllocationRequest, Grant, Outcomes, Refusal,
    ReturnOutcome, ReturnRefusal,
};
pub use model::{
    BalanceEvent, BlockingPeriod, Mechanism, QuotaAssociation, QuotaDefinition, QuotaEvent,
    QuotaEventKind, QuotaOrderNumber, QuotaOrigin, QuotaStatus, QuotaUnit, Quotas,
    SuspensionPeriod,
};
