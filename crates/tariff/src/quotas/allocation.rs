//! FCFS drawing: [`status`], [`draw`], [`allocate`] and [`credit_return`].

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::model::{Mechanism, QuotaDefinition, QuotaOrderNumber, QuotaStatus};

/// The state of a quota on `date` with `balance` left, under `definition` (the one in
/// force on the date, if any). See the module docs for the precedence.
pub fn status(
    definition: Option<&QuotaDefinition>,
    balance: Decimal,
    date: NaiveDate,
) -> QuotaStatus {
    let Some(d) = definition.filter(|d| d.validity.contains(date)) else {
        return QuotaStatus::NotInPeriod;
    };
    if d.suspended_on(date).is_some() {
        QuotaStatus::Suspended
    } else if d.blocked_on(date).is_some() {
        QuotaStatus::Blocked
    } else if balance <= Decimal::ZERO {
        QuotaStatus::Exhausted
    } else if d.is_critical(balance) {
        QuotaStatus::Critical
    } else {
        QuotaStatus::Open
    }
}

/// A request to draw on a quota (from a declaration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationRequest {
    /// Unique id; orders requests accepted at the same instant.
    pub id: String,
    /// The quantity requested, in `unit`.
    pub quantity: Decimal,
    /// The unit code (`"TNE"`, `"KGMI"`, `"EUR"`).
    pub unit: String,
    /// When the declaration was accepted.
    pub accepted_at: NaiveDateTime,
}

/// What a request was granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The request.
    pub request_id: String,
    /// The quantity requested.
    pub requested: Decimal,
    /// The quantity allocated: `min(requested, balance)`.
    pub granted: Decimal,
    /// The balance after the allocation.
    pub balance_after: Decimal,
    /// The quota's state after the allocation, on the acceptance date.
    pub status_after: QuotaStatus,
}

impl Grant {
    /// Whether less than requested was allocated.
    pub fn is_partial(&self) -> bool {
        self.granted < self.requested
    }
}

/// Why a request gets nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A licensed quota: drawn against import licences, not FCFS.
    #[error("quota {order_number} is licensed: it is not drawn first come, first served")]
    Licensed {
        /// The order number.
        order_number: String,
    },
    /// No definition in force on the acceptance date.
    #[error("quota {order_number} has no definition in force on {date}")]
    NotInPeriod {
        /// The order number.
        order_number: String,
        /// The acceptance date.
        date: NaiveDate,
    },
    /// The acceptance date is in a suspension period.
    #[error("quota {order_number} is suspended from {from} to {to}")]
    Suspended {
        /// The order number.
        order_number: String,
        /// First day of the suspension.
        from: NaiveDate,
        /// Last day of the suspension.
        to: String,
    },
    /// The acceptance date is in a blocking period.
    #[error("quota {order_number} is blocked from {from} to {to}: no allocation")]
    Blocked {
        /// The order number.
        order_number: String,
        /// First day of the blocking.
        from: NaiveDate,
        /// Last day of the blocking.
        to: String,
    },
    /// Nothing is left.
    #[error("quota {order_number} is exhausted")]
    Exhausted {
        /// The order number.
        order_number: String,
    },
    /// The unit is not the definition's.
    #[error("the quota is counted in {expected}, not {given}")]
    UnitMismatch {
        /// The definition's unit code.
        expected: String,
        /// The request's unit code.
        given: String,
    },
    /// The quantity is zero or negative.
    #[error("the quantity must be positive")]
    NotPositive,
    /// More decimal places than the definition allows.
    #[error("the quantity has more than {max} decimal places")]
    TooPrecise {
        /// The definition's maximum precision.
        max: u32,
    },
}

fn end_text(end: Option<NaiveDate>) -> String {
    end.map_or_else(|| "further notice".to_owned(), |e| e.to_string())
}

/// Checks that do not depend on the balance: mechanism, period, suspension, blocking,
/// unit and quantity.
fn check(
    order: &QuotaOrderNumber,
    definition: &QuotaDefinition,
    request: &AllocationRequest,
) -> Result<NaiveDate, Refusal> {
    let order_number = order.id.clone();
    if order.mechanism == Mechanism::Licensed {
        return Err(Refusal::Licensed { order_number });
    }
    let date = request.accepted_at.date();
    if !definition.validity.contains(date) {
        return Err(Refusal::NotInPeriod { order_number, date });
    }
    if let Some(s) = definition.suspended_on(date) {
        return Err(Refusal::Suspended {
            order_number,
            from: s.period.start,
            to: end_text(s.period.end),
        });
    }
    if let Some(b) = definition.blocked_on(date) {
        return Err(Refusal::Blocked {
            order_number,
            from: b.period.start,
            to: end_text(b.period.end),
        });
    }
    if !definition.unit.accepts(&request.unit) {
        return Err(Refusal::UnitMismatch {
            expected: definition.unit.code(),
            given: request.unit.trim().to_owned(),
        });
    }
    if request.quantity <= Decimal::ZERO {
        return Err(Refusal::NotPositive);
    }
    if request.quantity.normalize().scale() > definition.maximum_precision {
        return Err(Refusal::TooPrecise {
            max: definition.maximum_precision,
        });
    }
    Ok(date)
}

/// Serves one request against `balance` (see the module docs): the quantity granted is
/// `min(requested, balance)`, never negative, and the balance after is what is left.
pub fn draw(
    order: &QuotaOrderNumber,
    definition: &QuotaDefinition,
    balance: Decimal,
    request: &AllocationRequest,
) -> Result<Grant, Refusal> {
    let date = check(order, definition, request)?;
    if balance <= Decimal::ZERO {
        return Err(Refusal::Exhausted {
            order_number: order.id.clone(),
        });
    }
    let granted = request.quantity.min(balance);
    let balance_after = balance - granted;
    Ok(Grant {
        request_id: request.id.clone(),
        requested: request.quantity,
        granted,
        balance_after,
        status_after: status(Some(definition), balance_after, date),
    })
}

/// Each request's id with its outcome, in the order served.
pub type Outcomes = Vec<(String, Result<Grant, Refusal>)>;

/// Serves pending requests in order of acceptance time (ties: request id), each against
/// the balance the earlier ones left. Returns each request's outcome in that order, and
/// the final balance.
pub fn allocate(
    order: &QuotaOrderNumber,
    definition: &QuotaDefinition,
    balance: Decimal,
    requests: &[AllocationRequest],
) -> (Outcomes, Decimal) {
    let mut ordered: Vec<&AllocationRequest> = requests.iter().collect();
    ordered.sort_by(|a, b| (a.accepted_at, &a.id).cmp(&(b.accepted_at, &b.id)));
    let mut balance = balance;
    let mut out = Vec::with_capacity(ordered.len());
    for r in ordered {
        let outcome = draw(order, definition, balance, r);
        if let Ok(g) = &outcome {
            balance = g.balance_after;
        }
        out.push((r.id.clone(), outcome));
    }
    (out, balance)
}

/// What a return credited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnOutcome {
    /// The quantity credited to the balance (less than returned when the balance would
    /// exceed the volume).
    pub credited: Decimal,
    /// The balance after.
    pub balance_after: Decimal,
}

/// Why a return is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnRefusal {
    /// Zero or negative.
    #[error("the returned quantity must be positive")]
    NotPositive,
    /// More than the allocation still holds.
    #[error("only {returnable} of the allocation can still be returned")]
    ExceedsAllocation {
        /// Granted minus what was already returned.
        returnable: Decimal,
    },
}

/// Credits `quantity` of an allocation that still holds `returnable` (granted minus
/// earlier returns) back to `balance`, never above `volume`.
pub fn credit_return(
    volume: Decimal,
    balance: Decimal,
    returnable: Decimal,
    quantity: Decimal,
) -> Result<ReturnOutcome, ReturnRefusal> {
    if quantity <= Decimal::ZERO {
        return Err(ReturnRefusal::NotPositive);
    }
    if quantity > returnable {
        return Err(ReturnRefusal::ExceedsAllocation {
            returnable: returnable.max(Decimal::ZERO),
        });
    }
    let balance_after = (balance + quantity).min(volume.max(balance));
    Ok(ReturnOutcome {
        credited: balance_after - balance,
        balance_after,
    })
}
