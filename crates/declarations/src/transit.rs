//! The transit movement lifecycle as a pure state machine.
//!
//! ```text
//! Submitted ─accept→ Accepted ─allocate MRN→ MrnAllocated ─┬─release→ Released ─CC007C→ ArrivalNotified
//!    │ reject           │ (CC013C amend, CC014C invalidate   ├─control→ UnderControl ─release/refuse→ …
//!    ▼                  │  allowed until release)          ├─guarantee invalid→ GuaranteeInvalid
//! Rejected              ▼                                  └─refuse→ NotReleased
//!                    Invalidated
//! ArrivalNotified ─permit unloading→ UnloadingPermitted ─CC044C→ UnloadingRemarks
//!   ─release at destination→ GoodsReleasedAtDestination ─record control results / write off→ WrittenOff
//! ```
//!
//! [`apply`] returns the next state or a [`FunctionalError`] with code 92
//! (message out of sequence).

use std::fmt;

use crate::message::MessageType;
use crate::validate::FunctionalError;

/// The state of a transit movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// CC015C received, not yet checked by the office.
    Submitted,
    /// Declaration accepted; MRN to be allocated.
    Accepted,
    /// MRN allocated (CC028C sent).
    MrnAllocated,
    /// The guarantee was found invalid (CC055C sent); an amendment may fix it.
    GuaranteeInvalid,
    /// Under control (CC060C sent).
    UnderControl,
    /// Released for transit (CC029C sent).
    Released,
    /// Not released (CC051C sent). Final.
    NotReleased,
    /// Rejected (CC056C sent). Final.
    Rejected,
    /// Invalidated (CC009C sent). Final.
    Invalidated,
    /// Arrival notified at destination (CC007C received).
    ArrivalNotified,
    /// Unloading permitted (CC043C sent).
    UnloadingPermitted,
    /// Unloading remarks received (CC044C).
    UnloadingRemarks,
    /// Goods released at destination (CC025C sent).
    GoodsReleasedAtDestination,
    /// Control results recorded at departure after the destination's results.
    ControlResultsRecorded,
    /// Written off. Final.
    WrittenOff,
}

impl State {
    /// The state's name (stable, used in storage and in error reasons).
    pub fn name(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Accepted => "accepted",
            Self::MrnAllocated => "mrn_allocated",
            Self::GuaranteeInvalid => "guarantee_invalid",
            Self::UnderControl => "under_control",
            Self::Released => "released",
            Self::NotReleased => "not_released",
            Self::Rejected => "rejected",
            Self::Invalidated => "invalidated",
            Self::ArrivalNotified => "arrival_notified",
            Self::UnloadingPermitted => "unloading_permitted",
            Self::UnloadingRemarks => "unloading_remarks",
            Self::GoodsReleasedAtDestination => "goods_released_at_destination",
            Self::ControlResultsRecorded => "control_results_recorded",
            Self::WrittenOff => "written_off",
        }
    }

    /// Every state.
    pub const ALL: [State; 15] = [
        Self::Submitted,
        Self::Accepted,
        Self::MrnAllocated,
        Self::GuaranteeInvalid,
        Self::UnderControl,
        Self::Released,
        Self::NotReleased,
        Self::Rejected,
        Self::Invalidated,
        Self::ArrivalNotified,
        Self::UnloadingPermitted,
        Self::UnloadingRemarks,
        Self::GoodsReleasedAtDestination,
        Self::ControlResultsRecorded,
        Self::WrittenOff,
    ];

    /// The state of a name written by [`State::name`].
    pub fn from_name(name: &str) -> Option<State> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether the declaration is still before release (amendment and
    /// invalidation requests are allowed).
    pub fn before_release(self) -> bool {
        matches!(
            self,
            Self::Submitted
                | Self::Accepted
                | Self::MrnAllocated
                | Self::GuaranteeInvalid
                | Self::UnderControl
        )
    }

    /// Whether no further transition is possible.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::NotReleased | Self::Rejected | Self::Invalidated | Self::WrittenOff
        )
    }

    /// Whether a guarantee reservation is held in this state (from release
    /// until write-off).
    pub fn holds_guarantee(self) -> bool {
        matches!(
            self,
            Self::Released
                | Self::ArrivalNotified
                | Self::UnloadingPermitted
                | Self::UnloadingRemarks
                | Self::GoodsReleasedAtDestination
                | Self::ControlResultsRecorded
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Something that happens to a movement: a trader message or a decision of
/// the office (officer or system).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// CC013C declaration amendment (trader).
    Amend,
    /// CC014C invalidation request (trader).
    RequestInvalidation,
    /// CC007C arrival notification (trader at destination).
    NotifyArrival,
    /// CC044C unloading remarks (trader at destination).
    UnloadingRemarks,
    /// CC170C presentation notification (trader, before release).
    PresentationNotification,
    /// The office accepts the declaration.
    Accept,
    /// The office rejects the declaration (CC056C).
    Reject,
    /// An MRN is allocated (CC028C).
    AllocateMrn,
    /// The guarantee check failed (CC055C).
    GuaranteeInvalid,
    /// An amendment made the guarantee valid again (CC004C).
    AcceptAmendment,
    /// The office decides to control (CC060C).
    Control,
    /// The office releases for transit (CC029C).
    Release,
    /// The office refuses release (CC051C).
    Refuse,
    /// The office invalidates the declaration (CC009C).
    Invalidate,
    /// The destination permits unloading (CC043C).
    PermitUnloading,
    /// The destination releases the goods (CC025C).
    ReleaseAtDestination,
    /// Control results are recorded at departure.
    RecordControlResults,
    /// The movement is written off.
    WriteOff,
}

impl Event {
    /// The trader message type of a trader event.
    pub fn message_type(self) -> Option<MessageType> {
        match self {
            Self::Amend => Some(MessageType::CC013C),
            Self::RequestInvalidation => Some(MessageType::CC014C),
            Self::NotifyArrival => Some(MessageType::CC007C),
            Self::UnloadingRemarks => Some(MessageType::CC044C),
            Self::PresentationNotification => Some(MessageType::CC170C),
            _ => None,
        }
    }

    /// The event of a trader follow-up message type.
    pub fn of_message(m: MessageType) -> Option<Event> {
        match m {
            MessageType::CC013C => Some(Self::Amend),
            MessageType::CC014C => Some(Self::RequestInvalidation),
            MessageType::CC007C => Some(Self::NotifyArrival),
            MessageType::CC044C => Some(Self::UnloadingRemarks),
            MessageType::CC170C => Some(Self::PresentationNotification),
            _ => None,
        }
    }
}

/// Applies an event to a state.
///
/// Trader messages that come at the wrong time give error 92 (out of
/// sequence) pointing at the message's `messageType`; an office decision at
/// the wrong time gives the same code with the pointer `/decision`.
/// Amendments and invalidation requests leave the state unchanged (the
/// office then decides with [`Event::AcceptAmendment`] or [`Event::Invalidate`]).
pub fn apply(state: State, event: Event) -> Result<State, FunctionalError> {
    use Event as E;
    use State as S;
    let next = match (state, event) {
        (S::Submitted, E::Accept) => Some(S::Accepted),
        (S::Submitted | S::Accepted, E::Reject) => Some(S::Rejected),
        (S::Accepted, E::AllocateMrn) => Some(S::MrnAllocated),
        (s, E::Amend | E::RequestInvalidation) if s.before_release() => Some(s),
        (S::MrnAllocated | S::UnderControl, E::PresentationNotification) => Some(state),
        (S::MrnAllocated | S::UnderControl, E::GuaranteeInvalid) => Some(S::GuaranteeInvalid),
        (S::GuaranteeInvalid | S::MrnAllocated | S::UnderControl, E::AcceptAmendment) => {
            Some(if state == S::GuaranteeInvalid {
                S::MrnAllocated
            } else {
                state
            })
        }
        (S::MrnAllocated, E::Control) => Some(S::UnderControl),
        (S::MrnAllocated | S::UnderControl, E::Release) => Some(S::Released),
        (S::MrnAllocated | S::UnderControl | S::GuaranteeInvalid, E::Refuse) => {
            Some(S::NotReleased)
        }
        (s, E::Invalidate) if s.before_release() && s != S::Submitted => Some(S::Invalidated),
        (S::Released, E::NotifyArrival) => Some(S::ArrivalNotified),
        (S::ArrivalNotified, E::PermitUnloading) => Some(S::UnloadingPermitted),
        (S::UnloadingPermitted, E::UnloadingRemarks) => Some(S::UnloadingRemarks),
        (S::ArrivalNotified | S::UnloadingRemarks, E::ReleaseAtDestination) => {
            Some(S::GoodsReleasedAtDestination)
        }
        (S::GoodsReleasedAtDestination, E::RecordControlResults) => Some(S::ControlResultsRecorded),
        (S::GoodsReleasedAtDestination | S::ControlResultsRecorded, E::WriteOff) => {
            Some(S::WrittenOff)
        }
        _ => None,
    };
    next.ok_or_else(|| match event.message_type() {
        Some(m) => FunctionalError::out_of_sequence(m, state.name()),
        None => FunctionalError {
            code: crate::validate::OUT_OF_SEQUENCE,
            error_pointer: "/decision".to_owned(),
            rule: None,
            reason: format!("decision {event:?} not allowed in state {state}"),
            original_value: Some(format!("{event:?}")),
        },
    })
}
